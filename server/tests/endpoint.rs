//! The endpoint over loopback HTTP from Rust: SigV4-signed requests through
//! `serve`, error shapes, limits, and graceful shutdown. (The boto3, AWS CLI
//! and AWS Encryption SDK suites are in tests/server/.)

#![allow(clippy::unwrap_used)] // test helpers unwrap, as tests do

use std::time::{SystemTime, UNIX_EPOCH};

use strongroom::{CreateOptions, Keystore, RootKeySource, Secret};
use strongroom_server::sigv4::{sign, RequestParts};
use strongroom_server::{ops, serve, Auth, Credentials, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const AK: &str = "AKIDTEST";
const SK: &str = "test-secret";

fn keystore(dir: &tempfile::TempDir) -> Keystore {
    Keystore::create(
        dir.path().join("ks.db"),
        RootKeySource::Bytes(Secret::new(vec![7; 32])),
        CreateOptions::default(),
    )
    .expect("keystore")
}

/// One request on a fresh connection; returns (status, JSON body).
async fn call(
    addr: std::net::SocketAddr,
    target: Option<&str>,
    body: &[u8],
    signed: bool,
) -> (u16, serde_json::Value) {
    call_signing(addr, target, body, signed, true, b"").await
}

/// [`call`], with `sign_target` false for a client that sends
/// `X-Amz-Target` but signs only `host`, `content-type` and `x-amz-date`,
/// and `extra` header lines (raw bytes, each ending in CRLF) sent unsigned.
async fn call_signing(
    addr: std::net::SocketAddr,
    target: Option<&str>,
    body: &[u8],
    signed: bool,
    sign_target: bool,
    extra: &[u8],
) -> (u16, serde_json::Value) {
    let host = addr.to_string();
    let mut headers = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = target {
        headers.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    if signed {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut h = vec![
            ("host", host.as_str()),
            ("content-type", "application/x-amz-json-1.1"),
        ];
        if let Some(t) = target.filter(|_| sign_target) {
            h.push(("x-amz-target", t));
        }
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: h,
            body,
        };
        let (date, auth) = sign(AK, SK, "us-east-1", &parts, now);
        headers.push_str(&format!("X-Amz-Date: {date}\r\nAuthorization: {auth}\r\n"));
    }
    // One write: a server that times out a body which stops arriving (as
    // `an_operation_past_the_request_timeout_answers_its_outcome` sets one
    // of 1 s) never sees the headers without the body, however late this
    // task runs again on a loaded machine.
    let mut request = headers.into_bytes();
    request.extend_from_slice(extra);
    request.extend_from_slice(b"\r\n");
    request.extend_from_slice(body);
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&request).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
    )
}

/// A server on loopback, as `config` says, over a new keystore in `dir`: its
/// address, the sender that stops it, and its task.
type Started = (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), strongroom::Error>>,
);

async fn start(dir: &tempfile::TempDir, config: ServerConfig) -> Started {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(keystore(dir), config, listener, async {
        let _ = rx.await;
    }));
    (addr, tx, server)
}

/// A SigV4 server ([`start`]) for the test access key (the account root).
async fn start_signed(dir: &tempfile::TempDir) -> Started {
    let mut creds = Credentials::new();
    creds.insert(AK, SK, "arn:aws:iam::000000000000:root");
    start(dir, ServerConfig::new(Auth::SigV4(creds))).await
}

/// An insecure (no authentication) server ([`start`]) answering 408 once a
/// body has not arrived within `timeout`.
async fn start_insecure(dir: &tempfile::TempDir, timeout: std::time::Duration) -> Started {
    let mut config = ServerConfig::new(Auth::InsecureNoAuth);
    config.request_timeout = timeout;
    start(dir, config).await
}

/// A signature that leaves `X-Amz-Target` out of SignedHeaders is refused
/// (IncompleteSignatureException), though it is valid over what it signs:
/// otherwise a captured request could be replayed as another operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_amz_target_must_be_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_signed(&dir).await;
    let (st, v) = call_signing(
        addr,
        Some("TrentService.CreateKey"),
        b"{}",
        true,
        false,
        b"",
    )
    .await;
    assert_eq!(
        (st, v["__type"].as_str()),
        (400, Some("IncompleteSignatureException")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("x-amz-target")),
        "{v}"
    );
    // The same request with the target signed is served; no key was made before.
    let (st, v) = call(addr, Some("TrentService.ListKeys"), b"{}", true).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["Keys"].as_array().map(Vec::len), Some(0), "{v}");
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// A header value with a byte over 0x7E is refused where it counts for
/// authentication (an `X-Amz-*` header, `Authorization`, a signed header),
/// never dropped: an unsigned session token of such bytes used to pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_header_values_are_refused_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_signed(&dir).await;
    let list = Some("TrentService.ListKeys");
    for extra in [
        &b"X-Amz-Security-Token: tok\x80en\r\n"[..],
        b"X-Amz-Security-Token: \xff\r\n",
        b"X-Amz-Meta: caf\xe9\r\n",
    ] {
        let (st, v) = call_signing(addr, list, b"{}", true, true, extra).await;
        assert_eq!(
            (st, v["__type"].as_str()),
            (400, Some("IncompleteSignatureException")),
            "{}: {v}",
            String::from_utf8_lossy(extra)
        );
    }
    // A header that plays no part in authentication is not read.
    let (st, v) = call_signing(addr, list, b"{}", true, true, b"X-Note: caf\xe9\r\n").await;
    assert_eq!(st, 200, "{v}");
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_operations_errors_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_signed(&dir).await;

    let (st, v) = call(addr, Some("TrentService.CreateKey"), b"{}", true).await;
    assert_eq!(st, 200, "{v}");
    let key = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    assert!(v["KeyMetadata"]["CreationDate"].is_u64());

    let enc =
        format!(r#"{{"KeyId":"{key}","Plaintext":"aGVsbG8=","EncryptionContext":{{"a":"b"}}}}"#);
    let (st, v) = call(addr, Some("TrentService.Encrypt"), enc.as_bytes(), true).await;
    assert_eq!(st, 200, "{v}");
    let blob = v["CiphertextBlob"].as_str().unwrap().to_string();
    let dec = format!(r#"{{"CiphertextBlob":"{blob}","EncryptionContext":{{"a":"b"}}}}"#);
    let (st, v) = call(addr, Some("TrentService.Decrypt"), dec.as_bytes(), true).await;
    assert_eq!((st, v["Plaintext"].as_str()), (200, Some("aGVsbG8=")));
    let wrong = format!(r#"{{"CiphertextBlob":"{blob}"}}"#);
    let (st, v) = call(addr, Some("TrentService.Decrypt"), wrong.as_bytes(), true).await;
    assert_eq!(
        (st, v["__type"].as_str()),
        (400, Some("InvalidCiphertextException"))
    );

    for (target, body, signed, status, code) in [
        (
            Some("TrentService.ListKeys"),
            &b"{}"[..],
            false,
            400,
            "MissingAuthenticationTokenException",
        ),
        (
            Some("TrentService.Nope"),
            b"{}",
            true,
            400,
            "UnknownOperationException",
        ),
        (None, b"{}", true, 400, "UnknownOperationException"),
        (
            Some("TrentService.ListKeys"),
            b"{\"Limit\":",
            true,
            400,
            "SerializationException",
        ),
        (
            Some("TrentService.ListKeys"),
            b"{\"Limit\":\"x\"}",
            true,
            400,
            "SerializationException",
        ),
        (
            Some("TrentService.CreateKey"),
            b"[]",
            true,
            400,
            "SerializationException",
        ),
        (
            Some("TrentService.DescribeKey"),
            b"{}",
            true,
            400,
            "ValidationException",
        ),
        (
            Some("TrentService.DescribeKey"),
            b"{\"KeyId\":\"alias/none\"}",
            true,
            400,
            "NotFoundException",
        ),
    ] {
        let (st, v) = call(addr, target, body, signed).await;
        assert_eq!(
            (st, v["__type"].as_str()),
            (status, Some(code)),
            "{target:?} {v}"
        );
        assert!(v["message"].is_string());
    }
    let big = vec![b' '; strongroom_server::DEFAULT_MAX_BODY_BYTES + 1];
    let (st, v) = call(addr, Some("TrentService.ListKeys"), &big, true).await;
    assert_eq!(
        (st, v["__type"].as_str()),
        (413, Some("ValidationException"))
    );

    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed after shutdown"
    );
}

#[test]
fn every_listed_operation_is_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir);
    for op in ops::OPERATIONS {
        // An empty body reaches the operation: never UnknownOperationException.
        if let Err(e) = ops::dispatch(&ks, op, b"{}") {
            assert_ne!(e.code, "UnknownOperationException", "{op}");
        }
    }
    let e = ops::dispatch(&ks, "Frobnicate", b"{}").unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
}

/// A body that is not a JSON object (an array, a string, a number,
/// `null`) is a SerializationException for every operation, before it
/// reaches the keystore: `[]` is not read as a request with every member
/// left out, so CreateKey makes no key.
#[test]
fn a_body_that_is_not_a_json_object_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir);
    let keys_before = ks.list_keys(None, None).unwrap().keys.len();
    for body in [
        &b"[]"[..],
        b" [ ] ",
        b"[{}]",
        b"\"x\"",
        b"1",
        b"null",
        b"true",
    ] {
        for op in ops::OPERATIONS {
            let e = ops::dispatch(&ks, op, body).unwrap_err();
            assert_eq!(
                e.code,
                "SerializationException",
                "{op} {}",
                String::from_utf8_lossy(body)
            );
        }
    }
    assert_eq!(ks.list_keys(None, None).unwrap().keys.len(), keys_before);
    // An object, and an empty body (taken as `{}`), still reach CreateKey.
    for body in [&b"{}"[..], b" { } ", b""] {
        ops::dispatch(&ks, "CreateKey", body).unwrap();
    }
    assert_eq!(
        ks.list_keys(None, None).unwrap().keys.len(),
        keys_before + 3
    );
}

/// DeriveSharedSecret over the JSON protocol: base64 `PublicKey` in,
/// base64 `SharedSecret` out (equal to the peer's own ECDH), and the KMS
/// errors for a wrong curve and for `Recipient`.
#[test]
fn derive_shared_secret_over_json() {
    use strongroom::core::b64;
    use strongroom::core::crypto::{ecdh, ecdsa, EcCurve};
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir);
    let json = |op: &str, body: serde_json::Value| {
        ops::dispatch(&ks, op, body.to_string().as_bytes())
            .map(|out| serde_json::from_slice::<serde_json::Value>(&out).unwrap())
    };
    let created = json(
        "CreateKey",
        serde_json::json!({"KeySpec": "ECC_NIST_P384", "KeyUsage": "KEY_AGREEMENT"}),
    )
    .unwrap();
    let meta = &created["KeyMetadata"];
    assert_eq!(meta["KeyAgreementAlgorithms"], serde_json::json!(["ECDH"]));
    assert!(meta.get("SigningAlgorithms").is_none());
    let key = meta["KeyId"].as_str().unwrap();
    let ours = json("GetPublicKey", serde_json::json!({"KeyId": key})).unwrap();
    assert_eq!(ours["KeyAgreementAlgorithms"], serde_json::json!(["ECDH"]));
    let ours = b64::decode(ours["PublicKey"].as_str().unwrap()).unwrap();

    let peer = ecdsa::ecdsa_generate(EcCurve::P384, &mut strongroom::os_rng()).unwrap();
    let peer_spki = ecdsa::ecdsa_public_key_der(EcCurve::P384, &peer).unwrap();
    let r = json(
        "DeriveSharedSecret",
        serde_json::json!({"KeyId": key, "KeyAgreementAlgorithm": "ECDH",
                           "PublicKey": b64::encode(&peer_spki)}),
    )
    .unwrap();
    assert_eq!(r["KeyAgreementAlgorithm"], "ECDH");
    assert_eq!(r["KeyOrigin"], "AWS_KMS");
    assert_eq!(r["KeyId"], meta["Arn"]);
    let z = b64::decode(r["SharedSecret"].as_str().unwrap()).unwrap();
    assert_eq!(z, *ecdh::ecdh_derive(EcCurve::P384, &peer, &ours).unwrap());

    let p256 = ecdsa::ecdsa_generate(EcCurve::P256, &mut strongroom::os_rng()).unwrap();
    let p256 = ecdsa::ecdsa_public_key_der(EcCurve::P256, &p256).unwrap();
    let e = json(
        "DeriveSharedSecret",
        serde_json::json!({"KeyId": key, "KeyAgreementAlgorithm": "ECDH",
                           "PublicKey": b64::encode(&p256)}),
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidationException");
    let e = json(
        "DeriveSharedSecret",
        serde_json::json!({"KeyId": key, "KeyAgreementAlgorithm": "ECDH",
                           "PublicKey": b64::encode(&peer_spki),
                           "Recipient": {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
                                         "AttestationDocument": "AAEC"}}),
    )
    .unwrap_err();
    assert_eq!(e.code, "UnsupportedOperationException");
}
#[test]
fn dry_run_member_selects_a_dry_run_handle() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir);
    let body = ops::dispatch(&ks, "CreateKey", b"{}").unwrap();
    let created: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let key = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let grant = format!(
        r#"{{"KeyId":"{key}","GranteePrincipal":"arn:aws:iam::000000000000:user/b","Operations":["Encrypt"],"DryRun":true}}"#
    );
    let e = ops::dispatch(&ks, "CreateGrant", grant.as_bytes()).unwrap_err();
    assert_eq!(e.code, "DryRunOperationException");
    // A DryRun that is not a boolean is refused, never taken as false
    // (`null` is absent: a_null_member_counts_as_absent).
    for bad in [r#""true""#, "1", "{}"] {
        let body = grant.replace(r#""DryRun":true"#, &format!(r#""DryRun":{bad}"#));
        let e = ops::dispatch(&ks, "CreateGrant", body.as_bytes()).unwrap_err();
        assert_ne!(e.code, "DryRunOperationException", "{bad}");
    }
    let listed = ops::dispatch(
        &ks,
        "ListGrants",
        format!(r#"{{"KeyId":"{key}"}}"#).as_bytes(),
    )
    .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed).unwrap();
    assert_eq!(listed["Grants"].as_array().unwrap().len(), 0);
    let enc = format!(r#"{{"KeyId":"{key}","Plaintext":"eA==","DryRun":true}}"#);
    let e = ops::dispatch(&ks, "Encrypt", enc.as_bytes()).unwrap_err();
    assert_eq!(e.code, "DryRunOperationException");
    // DryRun false, or absent, runs the operation.
    let enc = format!(r#"{{"KeyId":"{key}","Plaintext":"eA==","DryRun":false}}"#);
    ops::dispatch(&ks, "Encrypt", enc.as_bytes()).unwrap();
    // An operation without DryRun in KMS is refused, and creates nothing.
    let e = ops::dispatch(&ks, "CreateKey", br#"{"DryRun":true}"#).unwrap_err();
    assert_eq!(e.code, "ValidationException");
    let keys = ops::dispatch(&ks, "ListKeys", b"{}").unwrap();
    let keys: serde_json::Value = serde_json::from_slice(&keys).unwrap();
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 1);
}

fn code(r: Result<ops::ResponseBody, strongroom_server::WireError>) -> Result<(), &'static str> {
    r.map(drop).map_err(|e| e.code)
}

/// A new keystore in `dir` and the ID of a symmetric key in it.
fn keystore_with_key(dir: &tempfile::TempDir) -> (Keystore, String) {
    let ks = keystore(dir);
    let key = ks
        .create_key(&Default::default())
        .unwrap()
        .key_metadata
        .key_id;
    (ks, key)
}

/// Each (operation, body) of `cases` answers `want`.
fn assert_each<B: AsRef<str>>(ks: &Keystore, cases: &[(&str, B)], want: Result<(), &str>) {
    for (op, body) in cases {
        let body = body.as_ref();
        assert_eq!(
            code(ops::dispatch(ks, op, body.as_bytes())),
            want,
            "{op} {body}"
        );
    }
}

/// A member named twice, at the top or deeper, is SerializationException,
/// whichever value comes last (a parser keeping one would read a request
/// the client may not have meant, e.g. DryRunModifiers dropped by a null).
#[test]
fn a_member_named_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, key) = keystore_with_key(&dir);
    let bodies = [
        ("DescribeKey", format!(r#"{{"KeyId":"{key}","Bogus":1,"Bogus":null}}"#)),
        ("DescribeKey", format!(r#"{{"KeyId":"{key}","Bogus":null,"Bogus":1}}"#)),
        ("DescribeKey", format!(r#"{{"KeyId":"{key}","KeyId":"{key}"}}"#)),
        (
            "Decrypt",
            r#"{"CiphertextBlob":"AA==","DryRunModifiers":["IGNORE_CIPHERTEXT"],"DryRunModifiers":null,"DryRun":true}"#.into(),
        ),
        ("ListKeys", r#"{"DryRun":false,"DryRun":true}"#.into()),
        ("ListKeys", r#"{"Li\u006dit":1,"Limit":2}"#.into()),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{key}","Plaintext":"AA==","EncryptionContext":{{"a":"1","a":"2"}}}}"#),
        ),
    ];
    assert_each(&ks, &bodies, Err("SerializationException"));
}

/// A JSON null member counts as absent: optional members are left out,
/// required ones are missing (ValidationException), never a type error.
#[test]
fn a_null_member_counts_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, key) = keystore_with_key(&dir);
    let absent = [
        (
            "DescribeKey",
            format!(r#"{{"KeyId":"{key}","GrantTokens":null}}"#),
        ),
        (
            "DescribeKey",
            format!(r#"{{"KeyId":"{key}","DryRun":null}}"#),
        ),
        (
            "DescribeKey",
            format!(r#"{{"KeyId":"{key}","KeyMaterialId":null}}"#),
        ),
        ("ListKeys", r#"{"Limit":null,"ResourceOwners":null}"#.into()),
        (
            "ListKeyRotations",
            format!(r#"{{"KeyId":"{key}","IncludeKeyMaterial":null}}"#),
        ),
        (
            "Encrypt",
            format!(
                r#"{{"KeyId":"{key}","Plaintext":"AA==","EncryptionContext":null,"GrantTokens":null}}"#
            ),
        ),
    ];
    assert_each(&ks, &absent, Ok(()));
    let missing = [
        ("DescribeKey", r#"{"KeyId":null}"#),
        ("Encrypt", r#"{"KeyId":null,"Plaintext":"AA=="}"#),
    ];
    assert_each(&ks, &missing, Err("ValidationException"));
}

/// Members of features an operation does not take are refused by name
/// (UnsupportedOperationException), whatever their value; typed values
/// are read only where the operation takes the member.
#[test]
fn members_an_operation_does_not_take_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, key) = keystore_with_key(&dir);
    let cases = [
        (
            "CreateKey",
            r#"{"IncludeKeyMaterial":"BOGUS"}"#.to_string(),
            "IncludeKeyMaterial",
        ),
        (
            "CreateKey",
            r#"{"IncludeKeyMaterial":5}"#.into(),
            "IncludeKeyMaterial",
        ),
        ("CreateKey", r#"{"ImportType":5}"#.into(), "ImportType"),
        (
            "CreateKey",
            r#"{"ImportType":"NEW_KEY_MATERIAL"}"#.into(),
            "ImportType",
        ),
        (
            "Encrypt",
            format!(r#"{{"KeyId":"{key}","Plaintext":"AA==","IncludeKeyMaterial":5}}"#),
            "IncludeKeyMaterial",
        ),
    ];
    for (op, body, member) in &cases {
        let e = ops::dispatch(&ks, op, body.as_bytes()).unwrap_err();
        assert_eq!(
            e.code, "UnsupportedOperationException",
            "{op} {body}: {e:?}"
        );
        assert!(e.message.contains(member), "{op} {body}: {e:?}");
    }
    // Where the operation takes it, the value is checked.
    let rotations = |v: &str| {
        let body = format!(r#"{{"KeyId":"{key}","IncludeKeyMaterial":{v}}}"#);
        code(ops::dispatch(&ks, "ListKeyRotations", body.as_bytes()))
    };
    assert_eq!(rotations("5"), Err("SerializationException"));
    let body = format!(r#"{{"KeyId":"{key}","IncludeKeyMaterial":5}}"#);
    let e = ops::dispatch(&ks, "ListKeyRotations", body.as_bytes()).unwrap_err();
    assert!(!e.message.contains("not valid JSON"), "{e:?}");
    assert_eq!(rotations(r#""BOGUS""#), Err("ValidationException"));
    assert_eq!(
        rotations(r#""ALL_KEY_MATERIAL""#),
        Err("UnsupportedOperationException")
    );
    assert_eq!(rotations(r#""ROTATIONS_ONLY""#), Ok(()));
}

/// A member is refused by name wherever it is: in a struct within the
/// request too (a tag's `TagValu`, a grant constraint's misspelt name),
/// with where it is and the members accepted there, and nothing is made.
/// Before, the server checked the top level only: `CreateKey` and
/// `TagResource` dropped a tag's unknown member and went ahead, and
/// `CreateGrant` refused an unknown constraint with serde's message
/// (`SerializationException`), where the C binding, reading the same
/// request, named them all.
#[test]
fn members_a_struct_within_the_request_does_not_have_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, key) = keystore_with_key(&dir);
    let tags = r#"[{"TagKey":"a","TagValue":"b"},{"TagKey":"c","TagValue":"d","TagValu":"e"}]"#;
    let cases = [
        (
            "CreateKey",
            format!(r#"{{"Tags":{tags}}}"#),
            "TagValu in Tags[1]",
            "TagKey, TagValue",
        ),
        (
            "TagResource",
            format!(r#"{{"KeyId":"{key}","Tags":{tags}}}"#),
            "TagValu in Tags[1]",
            "TagKey, TagValue",
        ),
        (
            "CreateGrant",
            format!(
                r#"{{"KeyId":"{key}","GranteePrincipal":"arn:aws:iam::000000000000:user/b",
                "Operations":["Decrypt"],"Constraints":{{"EncryptionContextEqual":{{"a":"b"}}}}}}"#
            ),
            "EncryptionContextEqual in Constraints",
            "EncryptionContextEquals, EncryptionContextSubset",
        ),
        // At the top, the members read before the request's are accepted.
        (
            "DescribeKey",
            format!(r#"{{"KeyId":"{key}","GrantToken":["t"]}}"#),
            "GrantToken is not supported",
            "KeyId, GrantTokens, DryRun",
        ),
    ];
    for (op, body, named, accepted) in &cases {
        let e = ops::dispatch(&ks, op, body.as_bytes()).unwrap_err();
        assert_eq!(e.code, "UnsupportedOperationException", "{op}: {e:?}");
        assert!(e.message.contains(named), "{op}: {e:?}");
        assert!(
            e.message.contains(&format!("accepted: {accepted}")),
            "{op}: {e:?}"
        );
    }
    assert_eq!(ks.list_keys(None, None).unwrap().keys.len(), 1);
    assert!(ks
        .list_resource_tags(&key, None, None)
        .unwrap()
        .tags
        .is_empty());
}

/// ImportKeyMaterial's ImportType reaches the keystore: NEW_KEY_MATERIAL
/// (KMS's default for a first import) is not refused up front; an unknown
/// value is ValidationException.
#[test]
fn import_type_reaches_the_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir);
    let key = ks
        .create_key(&strongroom::api::CreateKeyRequest {
            origin: Some(strongroom::core::key::Origin::External),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id;
    let import = |t: &str| {
        let body = format!(
            r#"{{"KeyId":"{key}","ImportToken":"AA==","EncryptedKeyMaterial":"AA==","ImportType":{t}}}"#
        );
        code(ops::dispatch(&ks, "ImportKeyMaterial", body.as_bytes()))
    };
    // The token is checked after the type: not refused as unsupported.
    assert_eq!(
        import(r#""NEW_KEY_MATERIAL""#),
        Err("InvalidImportTokenException")
    );
    assert_eq!(
        import(r#""EXISTING_KEY_MATERIAL""#),
        Err("IncorrectKeyMaterialException")
    );
    assert_eq!(import(r#""BOGUS""#), Err("ValidationException"));
}

/// An operation that outlasts the request timeout (it waits for the
/// keystore's write lock, held by another connection) is answered with its
/// own outcome, not a retryable "timed out" failure while it may still
/// commit (user trial: the deletion answered HTTP 500 committed anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_past_the_request_timeout_answers_its_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let ks = keystore(&dir);
    let key = ks
        .create_key(&strongroom::api::CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::new(Auth::InsecureNoAuth);
    config.request_timeout = std::time::Duration::from_secs(1);
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(ks.clone(), config, listener, async {
        let _ = rx.await;
    }));
    // Another connection holds the write lock for three times the timeout.
    let db = dir.path().join("ks.db");
    let (held, is_held) = std::sync::mpsc::channel();
    let locker = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(db).unwrap();
        c.execute_batch("BEGIN IMMEDIATE").unwrap();
        held.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_secs(3));
        c.execute_batch("ROLLBACK").unwrap();
    });
    is_held.recv().unwrap();
    let body = format!(r#"{{"KeyId":"{key}","PendingWindowInDays":7}}"#);
    let (status, json) = call(
        addr,
        Some("TrentService.ScheduleKeyDeletion"),
        body.as_bytes(),
        false,
    )
    .await;
    locker.join().unwrap();
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["KeyState"], "PendingDeletion", "{json}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A raw request with `Transfer-Encoding: chunked` (no `Content-Length`),
/// the body sent in `chunks`; returns the status and JSON body.
async fn call_chunked(
    addr: std::net::SocketAddr,
    target: &str,
    chunks: Vec<Vec<u8>>,
) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: {target}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let (mut rd, mut wr) = s.split();
    let send = async {
        wr.write_all(head.as_bytes()).await?;
        for c in &chunks {
            wr.write_all(format!("{:x}\r\n", c.len()).as_bytes())
                .await?;
            wr.write_all(c).await?;
            wr.write_all(b"\r\n").await?;
            wr.flush().await?;
        }
        wr.write_all(b"0\r\n\r\n").await
    };
    let mut out = Vec::new();
    let (_sent, read) = tokio::join!(send, rd.read_to_end(&mut out));
    read.unwrap();
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
    )
}

/// The request body is collected from any number of chunks into one
/// (zeroizing) buffer, with the size limit applied as it grows when no
/// `Content-Length` announces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_is_collected_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_insecure(&dir, std::time::Duration::from_secs(30)).await;
    let body = br#"{"Description": "made from three chunks"}"#;
    let chunks = vec![
        body[..5].to_vec(),
        body[5..20].to_vec(),
        body[20..].to_vec(),
    ];
    let (st, v) = call_chunked(addr, "TrentService.CreateKey", chunks).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["KeyMetadata"]["Description"], "made from three chunks");

    let limit = strongroom_server::DEFAULT_MAX_BODY_BYTES;
    let chunks = vec![vec![b' '; limit / 2], vec![b' '; limit / 2], vec![b' '; 16]];
    let (st, v) = call_chunked(addr, "TrentService.ListKeys", chunks).await;
    assert_eq!(
        (st, v["__type"].as_str()),
        (413, Some("ValidationException")),
        "{v}"
    );

    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// The server passes its TCP peer's address to key policies as
/// `aws:SourceIp`: an `IpAddress` condition on the loopback range holds for
/// a loopback client, one on another range does not, and a `Deny` with
/// `NotIpAddress` refuses a client outside its range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies_see_the_peer_address_as_aws_source_ip() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_signed(&dir).await;
    let key = {
        let (st, v) = call(addr, Some("TrentService.CreateKey"), b"{}", true).await;
        assert_eq!(st, 200, "{v}");
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
    };
    let put = |condition: serde_json::Value| {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                 "Action": ["kms:PutKeyPolicy"], "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                 "Action": "kms:DescribeKey", "Resource": "*", "Condition": condition}
            ]
        })
        .to_string();
        serde_json::json!({"KeyId": key, "PolicyName": "default", "Policy": policy}).to_string()
    };
    let describe = format!(r#"{{"KeyId":"{key}"}}"#);
    for (condition, expect) in [
        (
            serde_json::json!({"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
            200,
        ),
        (
            serde_json::json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            400,
        ),
        (
            serde_json::json!({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            200,
        ),
        (
            serde_json::json!({"NotIpAddress": {"aws:SourceIp": "127.0.0.1/32"}}),
            400,
        ),
    ] {
        let body = put(condition.clone());
        let (st, v) = call(
            addr,
            Some("TrentService.PutKeyPolicy"),
            body.as_bytes(),
            true,
        )
        .await;
        assert_eq!(st, 200, "{condition}: {v}");
        let (st, v) = call(
            addr,
            Some("TrentService.DescribeKey"),
            describe.as_bytes(),
            true,
        )
        .await;
        assert_eq!(st, expect, "{condition}: {v}");
        if expect == 400 {
            assert_eq!(v["__type"].as_str(), Some("AccessDeniedException"), "{v}");
        }
    }
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// One raw HTTP/1.1 request line and `headers` (each ending in CRLF) on a
/// fresh connection; returns the status, the response header block
/// (lowercased) and the body.
async fn raw(addr: std::net::SocketAddr, line: &str, headers: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!("{line}\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// A method a served path does not take (`GET /`, `PUT /health`) is HTTP
/// 405 with `Allow` and a JSON error body in AWS's shape and content type,
/// as an unknown path is 404 with one: no empty bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_methods_and_paths_get_json_error_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_signed(&dir).await;
    for (line, status, allow, message) in [
        (
            "GET / HTTP/1.1",
            405,
            Some("allow: post"),
            "GET / is not served: only POST / (KMS operations)",
        ),
        (
            "DELETE / HTTP/1.1",
            405,
            Some("allow: post"),
            "DELETE / is not served: only POST / (KMS operations)",
        ),
        (
            "PUT /health HTTP/1.1",
            405,
            Some("allow: get, head"),
            "PUT /health is not served: only GET /health",
        ),
        (
            "GET /nope HTTP/1.1",
            404,
            None,
            "only POST / (KMS operations) and GET /health are served",
        ),
    ] {
        let (st, head, body) = raw(addr, line, "Content-Length: 0\r\n").await;
        assert_eq!(st, status, "{line}: {head}");
        assert!(
            head.contains("content-type: application/x-amz-json-1.1"),
            "{line}: {head}"
        );
        if let Some(allow) = allow {
            assert!(head.contains(allow), "{line}: {head}");
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["__type"], "UnknownOperationException", "{line}: {v}");
        assert_eq!(v["message"], message, "{line}: {v}");
    }
    // The served routes still answer.
    let (st, _, body) = raw(addr, "GET /health HTTP/1.1", "").await;
    assert_eq!((st, body.as_str()), (200, r#"{"status":"ok"}"#));
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// The files `serve` reads (credentials, TLS certificate chain and key) are
/// read to at most 1 MiB (they were read whole: `--tls-cert /dev/zero`
/// aborted on a failed allocation, `--credentials /dev/zero` read until
/// memory ran out), and a missing file or a directory is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_files_serve_reads_are_capped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.json");
    std::fs::write(&long, vec![b' '; strongroom_server::MAX_SERVER_FILE + 1]).unwrap();
    let missing = dir.path().join("missing.json");
    let latin1 = dir.path().join("latin1.json");
    std::fs::write(&latin1, b"{\"credentials\": [\xe9]}").unwrap();
    for (path, says) in [
        (&long, "it is longer than 1048576 bytes"),
        (&missing, "No such file"),
        (&dir.path().to_path_buf(), "Is a directory"),
        (&latin1, "it is not UTF-8"),
    ] {
        let e = Credentials::load(path).unwrap_err();
        // A typed error, as the TLS files' below (it was a bare message).
        assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException, "{e}");
        assert!(
            e.message().contains(&path.display().to_string()) && e.message().contains(says),
            "{e}"
        );
    }
    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, r#"{"credentials": [{"access_key_id": "A"}]}"#).unwrap();
    let e = Credentials::load(&malformed).unwrap_err();
    assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException, "{e}");
    assert!(e.message().starts_with("credentials file: "), "{e}");
    let pem = dir.path().join("cert.pem");
    std::fs::write(&pem, "").unwrap();
    for (cert, key, says) in [
        (&long, &pem, "it is longer than 1048576 bytes"),
        (&missing, &pem, "No such file"),
        (&pem, &pem, "no certificate in"),
    ] {
        let mut config = ServerConfig::new(Auth::InsecureNoAuth);
        config.tls = Some(strongroom_server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // A keystore of its own each time: its file and audit log stay.
        let ks_dir = tempfile::tempdir().unwrap();
        let e = serve(keystore(&ks_dir), config, listener, async {})
            .await
            .unwrap_err();
        // A typed error, as `run`'s and the CLI's (it was a bare message).
        assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException, "{e}");
        assert!(
            e.message().contains(&cert.display().to_string()) && e.message().contains(says),
            "{e}"
        );
    }
}

/// `X-Amz-Target` or `Content-Type` given twice was served with the first
/// value. Now either is refused, as a second `X-Amz-Security-Token` is,
/// with the exception the header's other faults get:
/// UnknownOperationException for the target, SerializationException for
/// the content type; nothing runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_target_or_content_type_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_insecure(&dir, std::time::Duration::from_secs(30)).await;
    let json = "Content-Type: application/x-amz-json-1.1\r\n";
    let create = "X-Amz-Target: TrentService.CreateKey\r\n";
    let list = "X-Amz-Target: TrentService.ListKeys\r\n";
    let text = "Content-Type: text/plain\r\n";
    for (headers, code, message) in [
        (
            format!("{list}{create}{json}"),
            "UnknownOperationException",
            "more than one X-Amz-Target header",
        ),
        (
            format!("{create}{create}{json}"),
            "UnknownOperationException",
            "more than one X-Amz-Target header",
        ),
        (
            format!("{create}{json}{text}"),
            "SerializationException",
            "more than one Content-Type header",
        ),
        (
            format!("{create}{text}{json}"),
            "SerializationException",
            "more than one Content-Type header",
        ),
        (
            format!("{create}{json}{json}"),
            "SerializationException",
            "more than one Content-Type header",
        ),
    ] {
        let (status, _, body) = raw(
            addr,
            "POST / HTTP/1.1",
            &format!("{headers}Content-Length: 2\r\n\r\n{{}}"),
        )
        .await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some(code)),
            "{headers}"
        );
        assert!(
            v["message"].as_str().unwrap().contains(message),
            "{headers}: {v}"
        );
    }
    let (status, _, body) = raw(
        addr,
        "POST / HTTP/1.1",
        &format!("{list}{json}Content-Length: 2\r\n\r\n{{}}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["Keys"].as_array().map(Vec::len),
        Some(0),
        "no key made: {v}"
    );
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// The body is reserved as it arrives (at most 64 KiB up front, a unit
/// test of `read_body` checks the reservation); what the client sees is
/// unchanged: a declared length over the limit is 413 (once what the
/// client still sends is drained, at most 5 s), a declared
/// body that does not arrive is 408 after the request timeout, and a body
/// of exactly the limit is read whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_body_is_limited_and_timed_out_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, tx, server) = start_insecure(&dir, std::time::Duration::from_secs(30)).await;
    let other = tempfile::tempdir().unwrap();
    let (quick, quick_tx, quick_server) =
        start_insecure(&other, std::time::Duration::from_secs(1)).await;
    let limit = strongroom_server::DEFAULT_MAX_BODY_BYTES;
    let head =
        "Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: TrentService.ListKeys\r\n";
    let (status, _, body) = raw(
        addr,
        "POST / HTTP/1.1",
        &format!("{head}Content-Length: {}\r\n", limit + 1),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("ValidationException"), "{body}");
    let (status, _, body) = raw(
        quick,
        "POST / HTTP/1.1",
        &format!("{head}Content-Length: {limit}\r\n\r\n{{"),
    )
    .await;
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("RequestTimeoutException"), "{body}");
    let spaces = " ".repeat(limit - 2);
    let (status, _, body) = raw(
        addr,
        "POST / HTTP/1.1",
        &format!("{head}Content-Length: {limit}\r\n\r\n{{{spaces}}}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tx.send(()).unwrap();
    server.await.unwrap().unwrap();
    quick_tx.send(()).unwrap();
    quick_server.await.unwrap().unwrap();
}

/// A number of the JSON type a member takes but outside its type's range
/// (`Limit` -1 or 2^32, `PendingWindowInDays` 2^40, a negative `ValidTo`)
/// was SerializationException; AWS answers ValidationException ("1
/// validation error detected: Value '-1' at 'limit' failed to satisfy
/// constraint: ..."). A value of another JSON type (`1.5`, `"x"`) stays
/// SerializationException.
#[test]
fn out_of_range_numbers_are_validation_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (ks, key) = keystore_with_key(&dir);
    let deletion = |days: &str| format!(r#"{{"KeyId":"{key}","PendingWindowInDays":{days}}}"#);
    for (op, body, value, member) in [
        ("ListKeys", r#"{"Limit":-1}"#.to_string(), "-1", "Limit"),
        (
            "ListKeys",
            r#"{"Limit": 4294967296}"#.into(),
            "4294967296",
            "Limit",
        ),
        ("ListAliases", r#"{"Limit":-5}"#.into(), "-5", "Limit"),
        (
            "ScheduleKeyDeletion",
            deletion("1099511627776"),
            "1099511627776",
            "PendingWindowInDays",
        ),
        (
            "ImportKeyMaterial",
            format!(
                r#"{{"KeyId":"{key}","ImportToken":"AA==","EncryptedKeyMaterial":"AA==","ValidTo":-5}}"#
            ),
            "-5",
            "ValidTo",
        ),
        (
            "ImportKeyMaterial",
            format!(
                r#"{{"KeyId":"{key}","ImportToken":"AA==","EncryptedKeyMaterial":"AA==","ValidTo":-1.5}}"#
            ),
            "-1.5",
            "ValidTo",
        ),
    ] {
        let e = ops::dispatch(&ks, op, body.as_bytes()).unwrap_err();
        assert_eq!(e.code, "ValidationException", "{op} {body}: {e:?}");
        assert!(
            e.message.starts_with(&format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must be "
            )),
            "{op} {body}: {e:?}"
        );
    }
    let e = ops::dispatch(&ks, "ListKeys", br#"{"Limit":-1}"#).unwrap_err();
    assert!(
        e.message.ends_with("an integer from 0 to 4294967295"),
        "{e:?}"
    );
    for (op, body) in [
        ("ListKeys", r#"{"Limit":1.5}"#.to_string()),
        ("ListKeys", r#"{"Limit":"x"}"#.into()),
        ("ListKeys", r#"{"Limit":true}"#.into()),
        ("ScheduleKeyDeletion", deletion("7.5")),
    ] {
        assert_eq!(
            code(ops::dispatch(&ks, op, body.as_bytes())),
            Err("SerializationException"),
            "{op} {body}"
        );
    }
    // In the type's range, the operation's own range still applies.
    assert_eq!(
        code(ops::dispatch(&ks, "ListKeys", br#"{"Limit":0}"#)),
        Err("ValidationException")
    );
    assert_eq!(
        code(ops::dispatch(
            &ks,
            "ScheduleKeyDeletion",
            deletion("7").as_bytes()
        )),
        Ok(())
    );
}
