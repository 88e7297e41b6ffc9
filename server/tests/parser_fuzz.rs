//! Fuzzing of the endpoint's parsers of untrusted input (`docs/TESTING.md`
//! has the inventory): request bodies through `ops::dispatch` (JSON-aware
//! mutations of valid requests and arbitrary bytes), the SigV4
//! `Authorization` and `X-Amz-Date` headers through `Credentials::verify`
//! (arbitrary values, and every character of a validly signed request's
//! headers and every byte of its body altered), and the credentials file.
//! Raise the proptest case counts with e.g. `PROPTEST_CASES=20000`.
#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{json, Value};
use strongroom::{CreateOptions, Keystore, RootKeySource, Secret};
use strongroom_server::sigv4::{format_amz_date, sign, RequestParts};
use strongroom_server::{ops, Credentials, WireError};

#[path = "../../core/tests/support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

// ---- request bodies ----------------------------------------------------------

struct Fx {
    _dir: tempfile::TempDir,
    ks: Keystore,
    /// `(operation, valid request body)`.
    requests: Vec<(&'static str, Value)>,
}

fn call(ks: &Keystore, op: &str, body: &Value) -> Value {
    let out = ops::dispatch(ks, op, body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("{op}: {e:?}"));
    serde_json::from_slice(&out).unwrap()
}

fn fx() -> &'static Fx {
    static F: OnceLock<Fx> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::create(
            dir.path().join("ks.db"),
            RootKeySource::Bytes(Secret::new(vec![7; 32])),
            CreateOptions::default(),
        )
        .unwrap();
        let sym = call(&ks, "CreateKey", &json!({}))["KeyMetadata"]["KeyId"].clone();
        let ec = call(
            &ks,
            "CreateKey",
            &json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
        )["KeyMetadata"]["KeyId"]
            .clone();
        let mac = call(
            &ks,
            "CreateKey",
            &json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}),
        )["KeyMetadata"]["KeyId"]
            .clone();
        let policy_key = call(&ks, "CreateKey", &json!({}))["KeyMetadata"]["KeyId"].clone();
        let policy = call(
            &ks,
            "GetKeyPolicy",
            &json!({"KeyId": policy_key, "PolicyName": "default"}),
        )["Policy"]
            .clone();
        call(
            &ks,
            "CreateAlias",
            &json!({"AliasName": "alias/fuzz", "TargetKeyId": sym}),
        );
        let ctx = json!({"tenant": "acme"});
        let blob = call(
            &ks,
            "Encrypt",
            &json!({"KeyId": sym, "Plaintext": "aGVsbG8=", "EncryptionContext": ctx}),
        )["CiphertextBlob"]
            .clone();
        let msg = "bWVzc2FnZQ==";
        let sig = call(
            &ks,
            "Sign",
            &json!({"KeyId": ec, "Message": msg, "SigningAlgorithm": "ECDSA_SHA_256"}),
        )["Signature"]
            .clone();
        let tag = call(
            &ks,
            "GenerateMac",
            &json!({"KeyId": mac, "Message": msg, "MacAlgorithm": "HMAC_SHA_256"}),
        )["Mac"]
            .clone();
        let requests = vec![
            (
                "Decrypt",
                json!({"CiphertextBlob": blob, "EncryptionContext": ctx}),
            ),
            (
                "ReEncrypt",
                json!({"CiphertextBlob": blob, "SourceEncryptionContext": ctx,
                       "DestinationKeyId": "alias/fuzz"}),
            ),
            (
                "Encrypt",
                json!({"KeyId": "alias/fuzz", "Plaintext": "aGVsbG8=", "EncryptionContext": ctx}),
            ),
            (
                "GenerateDataKey",
                json!({"KeyId": sym, "KeySpec": "AES_256", "EncryptionContext": ctx}),
            ),
            (
                "Verify",
                json!({"KeyId": ec, "Message": msg, "Signature": sig,
                       "SigningAlgorithm": "ECDSA_SHA_256", "MessageType": "RAW"}),
            ),
            (
                "VerifyMac",
                json!({"KeyId": mac, "Message": msg, "Mac": tag, "MacAlgorithm": "HMAC_SHA_256"}),
            ),
            ("DescribeKey", json!({"KeyId": sym, "GrantTokens": []})),
            ("ListKeys", json!({"Limit": 2})),
            ("ListAliases", json!({"KeyId": sym, "Limit": 5})),
            ("ListGrants", json!({"KeyId": sym, "Limit": 5})),
            ("GetPublicKey", json!({"KeyId": ec})),
            ("ListResourceTags", json!({"KeyId": sym})),
            ("GenerateRandom", json!({"NumberOfBytes": 16})),
            (
                "CreateGrant",
                json!({"KeyId": sym, "GranteePrincipal": "arn:aws:iam::000000000000:role/fuzz",
                       "Operations": ["Decrypt", "Encrypt"], "Name": "fuzz",
                       "Constraints": {"EncryptionContextSubset": {"tenant": "acme"}}}),
            ),
            (
                "PutKeyPolicy",
                json!({"KeyId": policy_key, "PolicyName": "default", "Policy": policy}),
            ),
        ];
        for (op, body) in &requests {
            call(&ks, op, body);
        }
        Fx {
            _dir: dir,
            ks,
            requests,
        }
    })
}

/// A JSON value of any type, the kinds a mutated member takes.
fn any_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(18_446_744_073_709_551_616_f64)),
        "\\PC{0,20}".prop_map(Value::from),
        "[A-Za-z0-9+/=]{0,24}".prop_map(Value::from),
        Just(json!("alias/fuzz")),
        Just(json!("arn:aws:kms:local-1:000000000000:alias/fuzz")),
        Just(json!([])),
        Just(json!(["a", 1])),
        Just(json!({})),
        Just(json!({"k": "v"})),
    ]
}

#[derive(Clone, Debug)]
enum BodyEdit {
    /// Replace the value of the member at this index.
    Replace(usize, Value),
    /// Remove the member at this index.
    Remove(usize),
    /// Add a member (maybe one the operation does not take).
    Add(String, Value),
    /// Keep the member's type, alter its content: a string that is base64
    /// has a decoded byte XORed (and is re-encoded), another string a
    /// character; a number is XORed.
    Alter(usize, usize, u8),
}

fn body_edit() -> impl Strategy<Value = BodyEdit> {
    prop_oneof![
        4 => (any::<usize>(), any::<usize>(), 1u8..=255).prop_map(|(i, at, x)| BodyEdit::Alter(i, at, x)),
        3 => (any::<usize>(), any_json()).prop_map(|(i, v)| BodyEdit::Replace(i, v)),
        1 => any::<usize>().prop_map(BodyEdit::Remove),
        1 => (
            prop_oneof![
                Just("DryRun".to_owned()),
                Just("GrantTokens".to_owned()),
                Just("KeyId".to_owned()),
                "[A-Z][A-Za-z]{0,12}",
            ],
            any_json()
        )
            .prop_map(|(k, v)| BodyEdit::Add(k, v)),
    ]
}

/// `v` with the same JSON type and other content ([`BodyEdit::Alter`]).
fn alter(v: &Value, at: usize, x: u8) -> Value {
    use strongroom::core::b64;
    match v {
        Value::String(s) => match b64::decode(s) {
            Ok(mut b) if !b.is_empty() && s.len() >= 8 => {
                let i = at % b.len();
                b[i] ^= x;
                Value::from(b64::encode(&b))
            }
            _ if !s.is_empty() => {
                let mut c: Vec<char> = s.chars().collect();
                let i = at % c.len();
                c[i] = char::from(0x20 + (u8::try_from(c[i]).unwrap_or(0) ^ x) % 0x5f);
                Value::from(c.into_iter().collect::<String>())
            }
            _ => Value::from("x"),
        },
        Value::Number(n) => Value::from(n.as_i64().unwrap_or(0) ^ i64::from(x)),
        Value::Object(o) => {
            let mut o = o.clone();
            if let Some(k) = o.keys().nth(at % o.len().max(1)).cloned() {
                let v = alter(&o[&k], at / 7, x);
                o.insert(k, v);
            }
            Value::Object(o)
        }
        other => other.clone(),
    }
}

/// The error of a request: a KMS exception with a 4xx status. A 500
/// (KMSInternalException) for a malformed request would be a defect.
fn check_error(op: &str, body: &[u8], e: &WireError) -> Result<(), TestCaseError> {
    prop_assert!(
        (400..500).contains(&e.status) && e.code.ends_with("Exception"),
        "{} on {}: {:?}",
        op,
        String::from_utf8_lossy(body),
        e
    );
    Ok(())
}

proptest! {
    #![proptest_config(cases(192))]

    /// Valid requests with members replaced by values of any JSON type,
    /// removed, or added: a response or a 4xx KMS exception, never a panic
    /// nor a KMSInternalException.
    #[test]
    fn mutated_requests_are_answered_or_refused_with_a_client_error(
        which in any::<usize>(),
        edits in proptest::collection::vec(body_edit(), 1..4),
    ) {
        let f = fx();
        let (op, valid) = &f.requests[which % f.requests.len()];
        let mut body = valid.as_object().unwrap().clone();
        for e in &edits {
            match e {
                BodyEdit::Replace(i, v) if !body.is_empty() => {
                    let k = body.keys().nth(i % body.len()).unwrap().clone();
                    body.insert(k, v.clone());
                }
                BodyEdit::Remove(i) if !body.is_empty() => {
                    let k = body.keys().nth(i % body.len()).unwrap().clone();
                    body.remove(&k);
                }
                BodyEdit::Add(k, v) => {
                    body.insert(k.clone(), v.clone());
                }
                BodyEdit::Alter(i, at, x) if !body.is_empty() => {
                    let k = body.keys().nth(i % body.len()).unwrap().clone();
                    let v = alter(&body[&k], *at, *x);
                    body.insert(k, v);
                }
                _ => {}
            }
        }
        let bytes = Value::Object(body).to_string().into_bytes();
        if let Err(e) = ops::dispatch(&f.ks, op, &bytes) {
            check_error(op, &bytes, &e)?;
        }
    }

    /// Byte-level mutations of a valid body, and arbitrary bytes: a
    /// response or a 4xx KMS exception.
    #[test]
    fn mutated_and_arbitrary_body_bytes_are_refused_with_a_client_error(
        which in any::<usize>(),
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..3),
        cut in any::<usize>(),
        junk in proptest::collection::vec(any::<u8>(), 0..80),
        arbitrary in any::<bool>(),
    ) {
        let f = fx();
        let (op, valid) = &f.requests[which % f.requests.len()];
        let mut bytes = if arbitrary { junk } else { valid.to_string().into_bytes() };
        for (at, x) in &flips {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] ^= x;
            }
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Err(e) = ops::dispatch(&f.ks, op, &bytes) {
            check_error(op, &bytes, &e)?;
        }
    }
}

// ---- SigV4 ---------------------------------------------------------------------

const AK: &str = "AKIDFUZZ";
const SK: &str = "fuzz-secret";
const NOW: u64 = 1_750_000_000;
const BODY: &[u8] = br#"{"KeyId":"alias/fuzz"}"#;
const TARGET: &str = "TrentService.DescribeKey";

fn credentials() -> Credentials {
    let mut c = Credentials::new();
    c.insert(AK, SK, "arn:aws:iam::000000000000:user/fuzz");
    c
}

/// A `POST /` request with `headers` and `body`.
fn post<'a>(headers: Vec<(&'a str, &'a str)>, body: &'a [u8]) -> RequestParts<'a> {
    RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body,
    }
}

/// The `X-Amz-Date` and `Authorization` of a validly signed request.
fn signed() -> (String, String) {
    let headers = vec![("host", "localhost"), ("x-amz-target", TARGET)];
    sign(AK, SK, "local-1", &post(headers, BODY), NOW)
}

fn verify(date: &str, auth: &str, body: &[u8]) -> Result<String, WireError> {
    let headers = vec![
        ("host", "localhost"),
        ("x-amz-target", TARGET),
        ("x-amz-date", date),
        ("authorization", auth),
    ];
    credentials().verify(&post(headers, body), NOW)
}

/// The scheme and the `Credential`, `SignedHeaders` and `Signature` values
/// of an `Authorization` header, each trimmed, in header order.
fn auth_fields(auth: &str) -> (Option<String>, Vec<(String, String)>) {
    let (scheme, rest) = match auth.trim_start().split_once(' ') {
        Some((s, r)) => (Some(s.to_string()), r),
        None => (None, auth),
    };
    let fields = rest
        .split(',')
        .filter_map(|part| part.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (scheme, fields)
}

/// The exceptions `Credentials::verify` documents.
fn check_auth_error(e: &WireError) -> Result<(), TestCaseError> {
    prop_assert!(
        e.status == 400
            && matches!(
                e.code,
                "IncompleteSignatureException"
                    | "InvalidSignatureException"
                    | "UnrecognizedClientException"
                    | "MissingAuthenticationTokenException"
            ),
        "{:?}",
        e
    );
    Ok(())
}

/// An `X-Amz-Date`-shaped value with every field anywhere in its range
/// and beyond (year 0000, month 00 and 13, day 00 and 32, hour 24...).
fn amz_date_like() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(0u32), Just(1), Just(1969), Just(1970), 0u32..10_000],
        0u32..14,
        0u32..33,
        0u32..25,
        0u32..61,
        0u32..62,
    )
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z"))
}

#[test]
fn the_signed_fixture_verifies() {
    let (date, auth) = signed();
    assert_eq!(
        verify(&date, &auth, BODY).unwrap(),
        "arn:aws:iam::000000000000:user/fuzz"
    );
}

/// Dates in the first two months of year 0000 (whose day count would be
/// computed from year -1) are expired, not a panic.
#[test]
fn year_zero_is_an_expired_date_not_a_panic() {
    let (_, auth) = signed();
    for date in ["00000101T000000Z", "00000229T235959Z", "00010101T000000Z"] {
        let e = verify(date, &auth, BODY).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException", "{date}: {e:?}");
    }
}

/// Every byte of the signed body and every character of the signature
/// altered: InvalidSignatureException. Every character of the
/// `Authorization` and `X-Amz-Date` headers replaced: a documented
/// exception, or — only when the header still says the same (e.g. a space
/// that is trimmed) — the same principal.
#[test]
fn every_altered_byte_of_a_signed_request_is_refused() {
    let (date, auth) = signed();
    for i in 0..BODY.len() {
        let mut b = BODY.to_vec();
        b[i] ^= 1 << (i % 8);
        let e = verify(&date, &auth, &b).unwrap_err();
        assert_eq!(e.code, "InvalidSignatureException", "body byte {i}");
    }
    let sig_at = auth.find("Signature=").unwrap() + "Signature=".len();
    let mut accepted = Vec::new();
    for i in 0..auth.len() {
        for c in ['0', 'a', 'A', ' ', ',', '/', ';', '='] {
            if auth[i..].starts_with(c) {
                continue;
            }
            let mut a = auth.clone();
            a.replace_range(i..i + 1, c.encode_utf8(&mut [0; 4]));
            match verify(&date, &a, BODY) {
                Ok(p) => {
                    assert!(i < sig_at, "signature character {i} -> {c:?} accepted");
                    accepted.push((i, c, p));
                }
                Err(e) => check_auth_error(&e).unwrap(),
            }
        }
    }
    // Only the spaces after the commas are free (parts are trimmed, and an
    // empty part between two commas is skipped).
    for (i, c, p) in &accepted {
        assert_eq!(p, "arn:aws:iam::000000000000:user/fuzz");
        let was = auth.as_bytes()[*i];
        assert!(
            was == b' ' && auth.as_bytes()[*i - 1] == b',' && matches!(c, ',' | ' '),
            "Authorization character {i} ({:?}) -> {c:?} accepted",
            was as char
        );
    }
    assert!(!accepted.is_empty());
    for i in 0..date.len() {
        let mut d = date.clone().into_bytes();
        d[i] = if d[i] == b'1' { b'2' } else { b'1' };
        let e = verify(std::str::from_utf8(&d).unwrap(), &auth, BODY).unwrap_err();
        check_auth_error(&e).unwrap();
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// Arbitrary and date-shaped `X-Amz-Date` values and arbitrary
    /// `Authorization` values (bare, or a real one with a range replaced):
    /// one of the documented exceptions, never a panic; a date other than
    /// the signed one never verifies.
    #[test]
    fn arbitrary_auth_headers_are_refused(
        date in prop_oneof![amz_date_like(), "\\PC{0,20}"],
        junk in "\\PC{0,80}",
        at in any::<usize>(),
        len in 0usize..12,
        bare in any::<bool>(),
    ) {
        let (real_date, real_auth) = signed();
        let auth = if bare {
            junk.clone()
        } else {
            let chars: Vec<char> = real_auth.chars().collect();
            let at = at % chars.len();
            let end = (at + len).min(chars.len());
            let mut s: String = chars[..at].iter().collect();
            s.push_str(&junk);
            s.extend(&chars[end..]);
            s
        };
        match verify(&date, &auth, BODY) {
            Ok(_) => prop_assert_eq!(&date, &real_date),
            Err(e) => check_auth_error(&e)?,
        }
        // A splice that verifies left what the signature covers as it was:
        // the same principal, credential scope, signed headers and
        // signature (it replaced characters by themselves, or only moved
        // the free spaces between the comma-separated parts).
        match verify(&real_date, &auth, BODY) {
            Ok(principal) => {
                prop_assert_eq!(principal.as_str(), "arn:aws:iam::000000000000:user/fuzz");
                prop_assert_eq!(auth_fields(&auth), auth_fields(&real_auth), "{:?} verified", auth);
            }
            Err(e) => check_auth_error(&e)?,
        }
    }

    /// Dates round-trip through the formatter: what the signer writes, the
    /// verifier reads back as the same second (checked through the skew
    /// window: signed at `t`, verified at `t`).
    #[test]
    fn formatted_dates_verify_at_their_time(t in 0u64..253_402_300_800) {
        let d = format_amz_date(t);
        prop_assert_eq!(d.len(), 16);
        let (date, auth) = sign(AK, SK, "local-1", &post(vec![("host", "localhost")], b""), t);
        prop_assert_eq!(&date, &d);
        let headers = vec![("host", "localhost"), ("x-amz-date", &date), ("authorization", &auth)];
        let ok = credentials().verify(&post(headers, b""), t);
        prop_assert!(ok.is_ok(), "{:?}", ok);
    }

    /// The credentials file: arbitrary text and JSON-shaped text is a
    /// credentials set or an error message, never a panic.
    #[test]
    fn credentials_files_never_panic(
        text in "\\PC{0,120}",
        entries in proptest::collection::vec(
            (any_json(), any_json(), any_json(), proptest::option::of(any_json())),
            0..3,
        ),
    ) {
        let _ = Credentials::from_json(&text);
        let doc = json!({"credentials": entries.iter().map(|(a, s, p, t)| {
            let mut e = json!({"access_key_id": a, "secret_access_key": s, "principal": p});
            if let Some(t) = t {
                e["session_token"] = t.clone();
            }
            e
        }).collect::<Vec<_>>()});
        let _ = Credentials::from_json(&doc.to_string());
    }
}
