//! Every audit record line is bounded far below the rotation's 16 MiB line
//! limit, whatever a caller sends (review17 H1): an oversized request
//! value is recorded in its reduced form (`docs/FORMAT.md`, "Bounded
//! records"), so a log that verifies can always be rotated.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod fixture;

use std::collections::BTreeMap;
use std::path::Path;

use fixture::*;
use serde_json::Value;
use strongroom::api::*;
use strongroom::core::audit::{OMITTED_FIELD, OMITTED_PREFIX_MAX, REQUEST_PARAMETERS_MAX};
use strongroom::{EncryptionContext, ErrorKind, Keystore, Secret};

/// The longest record line (bytes) any request makes: `requestParameters`
/// at most 256 KiB, the four bounded texts (at most 8 KiB each, 6 bytes a
/// character escaped) and the fixed fields.
const RECORD_BOUND: usize = REQUEST_PARAMETERS_MAX + 4 * 6 * 8 * 1024 + 4096;

/// An encryption context of `pairs` pairs whose values are `value_len`
/// bytes of U+0001 (each written `\u0001` in the JSON record: 6 bytes).
fn control_context(pairs: usize, value_len: usize) -> EncryptionContext {
    let v = "\u{1}".repeat(value_len);
    EncryptionContext::from_pairs((0..pairs).map(|i| (format!("k{i:04}"), v.clone()))).unwrap()
}

fn longest_line(log: &Path) -> usize {
    std::fs::read(log)
        .unwrap()
        .split(|&b| b == b'\n')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(strongroom::core::crypto::digest::sha256(bytes))
}

/// The records of the log (current file) named `name`, parsed.
fn records(log: &Path, name: &str) -> Vec<Value> {
    let pat = format!("\"eventName\":\"{name}\"");
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&pat))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Checks that `value` is the reduced form of a value whose text (a
/// string's UTF-8 bytes, else its canonical JSON) is `text`.
fn assert_omitted(value: &Value, text: &str) {
    let form = &value[OMITTED_FIELD];
    assert_eq!(form["bytes"], text.len() as u64, "{value}");
    assert_eq!(form["sha256"], sha256_hex(text.as_bytes()), "{value}");
    let prefix = form["prefix"].as_str().unwrap();
    assert!(prefix.len() <= OMITTED_PREFIX_MAX && text.starts_with(prefix));
    assert!(prefix.len() + 3 >= OMITTED_PREFIX_MAX.min(text.len()));
    assert_eq!(value.as_object().unwrap().len(), 1, "{value}");
}

/// The canonical JSON of an encryption context (keys in byte order,
/// escaped as serde_json escapes).
fn context_json(c: &EncryptionContext) -> String {
    let m: BTreeMap<&str, &str> = c.iter().collect();
    serde_json::to_string(&m).unwrap()
}

/// review17 H1, fixed: a denied Encrypt with an encryption context of
/// 50 pairs × 60,000 control characters (an 18 MB record before) writes a
/// record of about 1 KiB whose `encryptionContext` is the reduced form
/// (length and SHA-256 of the context's canonical JSON), and the log
/// rotates.
#[test]
fn a_denied_encrypt_with_a_large_context_is_bounded_and_rotates() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let mallory = f.ks.as_principal("arn:aws:iam::999999999999:user/mallory");
    let c = control_context(50, 60_000);
    let e = mallory
        .encrypt(&EncryptRequest {
            key_id: key.clone(),
            plaintext: Secret::from_slice(b"x"),
            encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException, "{e}");
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let longest = longest_line(&log);
    eprintln!("longest record line: {longest} bytes");
    assert!(longest < 4096, "the record is {longest} bytes");
    let rec = records(&log, "Encrypt").pop().unwrap();
    assert_eq!(rec["errorCode"], "AccessDeniedException");
    let params = &rec["requestParameters"];
    assert_eq!(params["keyId"], key.as_str(), "the key is kept: {params}");
    assert_omitted(&params["encryptionContext"], &context_json(&c));
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None, "{v:?}");
    let r = f.ks.rotate_audit_log().unwrap();
    assert!(r.last_record >= 2, "{r:?}");
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}

fn encrypts_n(ks: &Keystore, key: &str, n: usize) {
    for _ in 0..n {
        try_encrypt(ks, key, b"x").unwrap();
    }
}

/// review17 H1, fixed: after a request with a huge encryption context, the
/// automatic rotation rotates the log once it passes its size (it failed
/// at every try before).
#[test]
fn automatic_rotation_rotates_after_a_large_request() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let mallory = f.ks.as_principal("arn:aws:iam::999999999999:user/mallory");
    let _ = mallory.encrypt(&EncryptRequest {
        key_id: key.clone(),
        plaintext: Secret::from_slice(b"x"),
        encryption_context: control_context(50, 60_000),
        ..Default::default()
    });
    drop(mallory);
    let path = f.path.clone();
    let log = f.ks.audit_log_path().to_path_buf();
    drop(f.ks);
    let size = 64 * 1024;
    for _ in 0..3 {
        let ks = Keystore::open_with(
            &path,
            root_source(&ROOT),
            strongroom::OpenOptions::default().audit_rotate_bytes(size),
        )
        .unwrap();
        // Grow the log by more than the size (each Encrypt record ~ 900 bytes).
        encrypts_n(&ks, &key, 100);
        drop(ks); // waits for an automatic rotation in progress
    }
    let first = std::fs::read(&log).unwrap();
    let first_line = first.split(|&b| b == b'\n').next().unwrap();
    let failures = String::from_utf8_lossy(&first)
        .lines()
        .filter(|l| l.contains("\"eventName\":\"RotateAuditLog\"") && l.contains("errorCode"))
        .count();
    assert!(
        String::from_utf8_lossy(first_line).contains("RotateAuditLog"),
        "the log ({} bytes, automatic rotation at {size}) was never rotated; {failures} failure records",
        first.len()
    );
    assert_eq!(failures, 0, "no automatic rotation failed");
}

/// review17 H1 (the measurement, now asserted): requests with a huge
/// policy, description, alias name, tag list or principal each grow the
/// log by a bounded record (a few KiB), and the oversized values are
/// recorded in their reduced form with their length and SHA-256.
#[test]
fn records_of_oversized_requests_are_bounded() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let log = f.ks.audit_log_path().to_path_buf();
    let len = || std::fs::metadata(&log).unwrap().len();
    let grew = |what: &str, input: usize, before: u64| {
        f.ks.flush_audit_log().unwrap();
        let grew = len() - before;
        eprintln!("{what}: input {input} bytes -> record growth {grew} bytes");
        assert!(grew < 16 * 1024, "{what}: the log grew by {grew} bytes");
    };
    for (name, ch) in [
        ("ascii a", "a"),
        ("U+0001", "\u{1}"),
        ("U+20AC", "€"),
        ("U+1F600", "😀"),
    ] {
        let v = ch.repeat(200_000 / ch.len());
        let b = len();
        let c = ctx(&[("k", &v)]);
        let _ = f.ks.encrypt(&EncryptRequest {
            key_id: key.clone(),
            plaintext: Secret::from_slice(b"x"),
            encryption_context: c.clone(),
            ..Default::default()
        });
        grew(&format!("Encrypt context {name}"), v.len(), b);
        let rec = records(&log, "Encrypt").pop().unwrap();
        assert_omitted(
            &rec["requestParameters"]["encryptionContext"],
            &context_json(&c),
        );
    }
    let policy = "\u{1}".repeat(1 << 20);
    let b = len();
    let e = f.ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.clone(),
        policy: policy.clone(),
        ..Default::default()
    });
    assert!(e.is_err());
    grew("PutKeyPolicy (refused) policy U+0001", policy.len(), b);
    let rec = records(&log, "PutKeyPolicy").pop().unwrap();
    assert_omitted(&rec["requestParameters"]["policy"], &policy);
    assert_eq!(rec["requestParameters"]["keyId"], key.as_str());

    let b = len();
    let e = f.ks.create_key(&CreateKeyRequest {
        policy: Some(policy.clone()),
        ..Default::default()
    });
    assert!(e.is_err());
    grew("CreateKey (refused) policy U+0001", policy.len(), b);

    let b = len();
    let desc = "\u{1}".repeat(1 << 20);
    let e = f.ks.create_key(&CreateKeyRequest {
        description: Some(desc.clone()),
        ..Default::default()
    });
    assert!(e.is_err());
    grew("CreateKey (refused) description U+0001", desc.len(), b);
    let rec = records(&log, "CreateKey").pop().unwrap();
    assert_omitted(&rec["requestParameters"]["description"], &desc);

    let b = len();
    let alias = format!("alias/{}", "\u{1}".repeat(1 << 20));
    let e = f.ks.create_alias(&alias, &key);
    assert!(e.is_err());
    grew("CreateAlias (refused) name U+0001", alias.len(), b);
    let rec = records(&log, "CreateAlias").pop().unwrap();
    assert_omitted(&rec["requestParameters"]["aliasName"], &alias);

    let b = len();
    let tags: Vec<Tag> = (0..1000)
        .map(|i| Tag {
            tag_key: format!("k{i}"),
            tag_value: "\u{1}".repeat(1000),
        })
        .collect();
    let _ = f.ks.tag_resource(&key, &tags);
    grew("TagResource tags U+0001", 1_000_000, b);

    // A principal ARN of 1 MiB (refused): the identity is cut.
    let b = len();
    let huge = format!("arn:aws:iam::999999999999:user/{}", "\u{1}".repeat(1 << 20));
    let e = try_encrypt(&f.ks.as_principal(&huge), &key, b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    grew("Encrypt (refused) principal U+0001", huge.len(), b);
    let rec = records(&log, "Encrypt").pop().unwrap();
    let arn = rec["userIdentity"]["arn"].as_str().unwrap();
    assert!(
        arn.ends_with(&format!(
            "\u{2026}({OMITTED_FIELD}: {} bytes, sha256 {})",
            huge.len(),
            sha256_hex(huge.as_bytes())
        )),
        "{arn}"
    );
    let message = rec["errorMessage"].as_str().unwrap();
    assert!(message.len() < 1024, "{message}");
    assert!(longest_line(&log) < RECORD_BOUND);
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
    f.ks.rotate_audit_log().unwrap();
}

/// Values within AWS KMS's limits are recorded as given: a description of
/// 8192 characters (each escaped to 6 bytes), an encryption context of
/// 60,000 bytes.
#[test]
fn values_within_kms_limits_are_recorded_as_given() {
    let f = fixture();
    let log = f.ks.audit_log_path().to_path_buf();
    let desc = "\u{1}".repeat(8192);
    let key =
        f.ks.create_key(&CreateKeyRequest {
            description: Some(desc.clone()),
            ..Default::default()
        })
        .unwrap()
        .key_metadata
        .key_id;
    f.ks.flush_audit_log().unwrap();
    let rec = records(&log, "CreateKey").pop().unwrap();
    assert_eq!(rec["requestParameters"]["description"], desc.as_str());
    let c = ctx(&[("k", &"v".repeat(60_000))]);
    encrypt(&f.ks, &key, b"x", &c);
    f.ks.flush_audit_log().unwrap();
    let rec = records(&log, "Encrypt").pop().unwrap();
    let m: BTreeMap<String, String> =
        serde_json::from_value(rec["requestParameters"]["encryptionContext"].clone()).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m["k"].len(), 60_000);
}

/// A log holding a line longer than the rotation's 16 MiB limit (as an
/// older version could append) is refused rotation with a message that
/// says the line is over the limit, not that the log does not verify.
#[test]
fn a_line_over_the_limit_is_refused_as_over_the_limit() {
    use strongroom::core::audit::{chain_canonical, verify_chain};
    use strongroom::core::seal::RootKey;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts_n(&f.ks, &key, 2);
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let text = std::fs::read_to_string(&log).unwrap();
    let rk = RootKey::from_bytes(&ROOT).unwrap();
    let cp = verify_chain(text.lines(), rk.audit_key(), None).unwrap();
    let canonical = format!(
        "{{\"eventName\":\"Encrypt\",\"requestParameters\":{{\"x\":\"{}\"}}}}",
        "a".repeat(17 << 20)
    );
    let (line, _) = chain_canonical(rk.audit_key(), &cp, &canonical).unwrap();
    let mut f2 = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f2, format!("{line}\n").as_bytes()).unwrap();
    drop(f2);
    f.ks.flush_audit_log().unwrap();
    let e = f.ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    let m = e.to_string();
    assert!(m.contains("over the 16 MiB limit"), "{m}");
    assert!(!m.contains("does not verify"), "{m}");
}
