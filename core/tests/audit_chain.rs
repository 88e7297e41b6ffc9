//! Audit records and the chain: every single-record tampering is detected.

#![allow(clippy::unwrap_used)] // tests may unwrap (STYLE.md); helpers outside #[test] too

use serde_json::{json, Value};
use strongroom_core::audit::{
    chain_line, is_read_only, verify_chain, AuditEvent, ChainFault, Checkpoint, RequestParameters,
    CHAIN_FIELD,
};
use strongroom_core::{EncryptionContext, Error, ErrorKind};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn event(i: u8) -> AuditEvent {
    let ctx: EncryptionContext = [("Department", "IT")].into_iter().collect();
    let params = RequestParameters {
        key_id: Some(KEY.into()),
        encryption_context: Some(ctx),
        encryption_algorithm: Some("SYMMETRIC_DEFAULT".into()),
        ..RequestParameters::default()
    };
    let mut e = AuditEvent::new(
        if i % 3 == 0 { "Decrypt" } else { "Encrypt" },
        ALICE,
        1_700_000_000_000 + u64::from(i) * 1000,
        {
            let mut r = [i; 32];
            r[31] ^= 0xff;
            r
        },
    )
    .with_key(KEY)
    .with_request_parameters(&params)
    .with_response_elements(json!({"keyId": KEY, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}));
    if i % 4 == 1 {
        e = e.with_error(&Error::new(
            ErrorKind::AccessDeniedException,
            "not allowed ünïcode \"q\"\n",
        ));
    }
    e
}

fn log(n: u8, key: &[u8]) -> (Vec<String>, Checkpoint) {
    let mut cp = Checkpoint::genesis();
    let mut lines = Vec::new();
    for i in 0..n {
        let (line, next) = chain_line(key, &cp, &event(i).to_record()).unwrap();
        lines.push(line);
        cp = next;
    }
    (lines, cp)
}

fn verify(
    lines: &[String],
    key: &[u8],
    cp: Option<&Checkpoint>,
) -> Result<Checkpoint, strongroom_core::audit::ChainError> {
    verify_chain(lines.iter().map(String::as_str), key, cp)
}

#[test]
fn record_shape() {
    let rec = event(1).to_record();
    assert_eq!(rec["eventVersion"], "1.08");
    assert_eq!(rec["eventTime"], "2023-11-14T22:13:21Z");
    assert_eq!(rec["eventSource"], "kms.amazonaws.com");
    assert_eq!(rec["eventName"], "Encrypt");
    assert_eq!(rec["eventType"], "AwsApiCall");
    assert_eq!(
        rec["userIdentity"],
        json!({"type": "IAMUser", "arn": ALICE, "accountId": "111122223333"})
    );
    assert_eq!(
        rec["resources"],
        json!([{"ARN": KEY, "accountId": "111122223333", "type": "AWS::KMS::Key"}])
    );
    assert_eq!(rec["recipientAccountId"], "111122223333");
    assert_eq!(rec["readOnly"], true);
    assert_eq!(rec["errorCode"], "AccessDeniedException");
    assert_eq!(rec["requestParameters"]["keyId"], KEY);
    assert_eq!(
        rec["requestParameters"]["encryptionContext"]["Department"],
        "IT"
    );
    let id = rec["eventID"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "version-4 UUID");
    assert_ne!(rec["requestID"], rec["eventID"]);
    assert!(event(2).to_record().get("errorCode").is_none());
    assert!(
        !is_read_only("CreateKey") && !is_read_only("PutKeyPolicy") && is_read_only("ListGrants")
    );
}

#[test]
fn intact_log_verifies_and_reports_checkpoint() {
    let key = [0x42u8; 32];
    let (lines, cp) = log(8, key.as_ref());
    for l in &lines {
        assert!(!l.contains('\n'));
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v[CHAIN_FIELD].as_str().unwrap().len(), 64);
    }
    assert_eq!(verify(&lines, key.as_ref(), Some(&cp)).unwrap(), cp);
    assert_eq!(cp.count, 8);
    // A checkpoint taken earlier also verifies a log that has grown since.
    let (_, early) = log(5, key.as_ref());
    assert_eq!(verify(&lines, key.as_ref(), Some(&early)).unwrap(), cp);
    assert_eq!(
        verify(&[], key.as_ref(), None).unwrap(),
        Checkpoint::genesis()
    );
    assert_eq!(Checkpoint::from_bytes(&cp.to_bytes()).unwrap(), cp);
    // The wrong key fails at the first record.
    let e = verify(&lines, b"other", None).unwrap_err();
    assert_eq!((e.index, e.reason), (0, ChainFault::ChainMismatch));
}

#[test]
fn every_single_byte_edit_is_detected() {
    let key = [5u8; 32];
    let (lines, cp) = log(4, &key);
    for (r, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        for pos in 0..bytes.len() {
            for replacement in [b'x', b'0', b' ', b'"'] {
                if bytes[pos] == replacement {
                    continue;
                }
                let mut edited = bytes.to_vec();
                edited[pos] = replacement;
                let Ok(edited) = String::from_utf8(edited) else {
                    continue;
                };
                let mut tampered = lines.clone();
                tampered[r] = edited;
                let err = verify(&tampered, &key, Some(&cp))
                    .expect_err(&format!("edit of record {r} at byte {pos} undetected"));
                assert_eq!(err.index, r as u64, "record {r} byte {pos}: {err}");
            }
        }
    }
}

#[test]
fn deleting_any_record_is_detected() {
    let key = [5u8; 32];
    let (lines, cp) = log(6, &key);
    for r in 0..lines.len() {
        let mut t = lines.clone();
        t.remove(r);
        let err = verify(&t, &key, Some(&cp)).unwrap_err();
        if r == lines.len() - 1 {
            assert_eq!(
                err.reason,
                ChainFault::Truncated {
                    expected: 6,
                    found: 5
                }
            );
        } else {
            assert_eq!(
                (err.index, err.reason),
                (r as u64, ChainFault::ChainMismatch)
            );
        }
    }
}

#[test]
fn swapping_two_records_is_detected() {
    let key = [5u8; 32];
    let (lines, cp) = log(6, &key);
    for a in 0..lines.len() {
        for b in a + 1..lines.len() {
            let mut t = lines.clone();
            t.swap(a, b);
            let err = verify(&t, &key, Some(&cp)).unwrap_err();
            assert_eq!(err.index, a as u64);
        }
    }
}

#[test]
fn inserting_a_record_is_detected() {
    let key = [5u8; 32];
    let (lines, cp) = log(5, &key);
    // A validly chained record from another position, a copy, or a forgery.
    let (other_log, _) = log(7, &key);
    let forged = {
        let mut v: Value = serde_json::from_str(&lines[1]).unwrap();
        v["eventName"] = json!("Decrypt");
        v.to_string()
    };
    for at in 0..=lines.len() {
        for extra in [lines[2].clone(), other_log[6].clone(), forged.clone()] {
            let mut t = lines.clone();
            t.insert(at, extra);
            let res = verify(&t, &key, Some(&cp));
            if at == lines.len() && t[at] == other_log[6] {
                // Appending is only possible with the key; a record chained onto a
                // different predecessor still fails.
                assert!(res.is_err());
            } else {
                let err = res.unwrap_err();
                // A duplicate of the record already at `at` is only caught at the next one.
                let expected = if lines.get(at) == Some(&t[at]) {
                    at + 1
                } else {
                    at
                };
                assert_eq!(err.index, expected as u64, "{err}");
            }
        }
    }
}

#[test]
fn truncating_the_tail_is_detected_against_the_checkpoint() {
    let key = [5u8; 32];
    let (lines, cp) = log(6, &key);
    for keep in 0..lines.len() {
        let err = verify(&lines[..keep], &key, Some(&cp)).unwrap_err();
        assert_eq!(
            err.reason,
            ChainFault::Truncated {
                expected: 6,
                found: keep as u64
            }
        );
        assert_eq!(err.index, keep as u64);
        // Without a checkpoint, a truncated prefix is a valid log: that is what the checkpoint is for.
        assert!(verify(&lines[..keep], &key, None).is_ok());
    }
}

#[test]
fn replaced_log_is_detected_by_checkpoint() {
    let key = [5u8; 32];
    let (lines, cp) = log(3, &key);
    // A different, internally valid log of the same length (e.g. rewritten by someone with the key
    // but an old checkpoint) fails the checkpoint.
    let mut other = Checkpoint::genesis();
    let mut replaced = Vec::new();
    for i in 10..13 {
        let (l, n) = chain_line(&key, &other, &event(i).to_record()).unwrap();
        replaced.push(l);
        other = n;
    }
    let err = verify(&replaced, &key, Some(&cp)).unwrap_err();
    assert_eq!((err.index, err.reason), (2, ChainFault::CheckpointMismatch));
    let _ = lines;
}

#[test]
fn malformed_lines_and_records() {
    let key = [5u8; 32];
    let (lines, _) = log(2, &key);
    for bad in [
        "",
        "not json",
        "[]",
        "{}",
        "{\"a\":1}",
        "{\"a\":1,\"strongroomChain\":5}",
        "{\"a\":1,\"strongroomChain\":\"zz\"}",
    ] {
        let t = vec![lines[0].clone(), bad.to_string()];
        let err = verify(&t, &key, None).unwrap_err();
        assert_eq!(err.index, 1, "{bad}");
        assert!(
            matches!(err.reason, ChainFault::Malformed(_)),
            "{bad}: {err}"
        );
    }
    // Re-serialized with whitespace: same JSON value, but not the bytes that were chained.
    let spaced = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&lines[1]).unwrap())
        .unwrap()
        .replace('\n', "");
    let err = verify(&[lines[0].clone(), spaced], &key, None).unwrap_err();
    assert_eq!(err.reason, ChainFault::NotCanonical);
    // The record passed to chain_line must be a non-empty object without the chain field.
    let g = Checkpoint::genesis();
    assert!(chain_line(&key, &g, &json!([])).is_err());
    assert!(chain_line(&key, &g, &json!({})).is_err());
    assert!(chain_line(&key, &g, &json!({"a": 1, CHAIN_FIELD: "x"})).is_err());
}

proptest::proptest! {
    #[test]
    fn verifier_never_panics(lines in proptest::collection::vec(".{0,80}", 0..4)) {
        let _ = verify_chain(lines.iter().map(String::as_str), b"k", Some(&Checkpoint::genesis()));
    }
}

/// Every field of `RequestParameters` set (a struct literal without
/// `..Default::default()`, so a new field must be added here), with strings
/// that need escaping.
fn every_parameter(s: &str) -> RequestParameters {
    let ctx: EncryptionContext = [("b\u{1}", s), ("a\"", "\\"), ("ü", "\u{7f}")]
        .into_iter()
        .collect();
    RequestParameters {
        key_id: Some(format!("{s}key")),
        source_key_id: Some(s.into()),
        destination_key_id: Some(s.into()),
        encryption_context: Some(ctx.clone()),
        source_encryption_context: Some(ctx.clone()),
        destination_encryption_context: Some(EncryptionContext::default()),
        encryption_algorithm: Some(s.into()),
        source_encryption_algorithm: Some(s.into()),
        destination_encryption_algorithm: Some(s.into()),
        signing_algorithm: Some(s.into()),
        mac_algorithm: Some(s.into()),
        key_agreement_algorithm: Some(s.into()),
        message_type: Some(s.into()),
        key_spec: Some(s.into()),
        key_usage: Some(s.into()),
        origin: Some(s.into()),
        key_pair_spec: Some(s.into()),
        number_of_bytes: Some(u32::MAX),
        description: Some(s.into()),
        alias_name: Some(s.into()),
        target_key_id: Some(s.into()),
        policy_name: Some(s.into()),
        policy: Some(format!("{{\"Version\":\"{s}\"}}")),
        bypass_policy_lockout_safety_check: Some(false),
        pending_window_in_days: Some(7),
        rotation_period_in_days: Some(0),
        grant_id: Some(s.into()),
        grantee_principal: Some(s.into()),
        retiring_principal: Some(s.into()),
        operations: Some(vec!["Decrypt".into(), s.into()]),
        constraints: Some(strongroom_core::grant::GrantConstraints {
            encryption_context_equals: Some(ctx.clone()),
            encryption_context_subset: Some(ctx),
        }),
        name: Some(s.into()),
        wrapping_algorithm: Some(s.into()),
        expiration_model: Some(s.into()),
        valid_to: Some(u64::MAX),
        tag_keys: Some(vec![]),
        limit: Some(1),
        marker: Some(s.into()),
    }
}

/// The direct writer gives the bytes of the `Value` path, byte for byte.
fn assert_same_bytes(e: &AuditEvent) {
    let direct = e.to_canonical_record();
    let via_value = strongroom_core::audit::canonical_record(&e.to_record()).unwrap();
    assert_eq!(direct, via_value);
}

#[test]
fn the_direct_canonical_writer_matches_the_value_path() {
    for i in 0..12 {
        assert_same_bytes(&event(i));
    }
    for s in [
        "",
        "plain",
        "quote\" back\\ slash/",
        "ctl\u{0}\u{8}\t\n\u{b}\u{c}\r\u{1f}",
        "ünï©ode \u{10ffff}",
    ] {
        let base = AuditEvent::new("CreateGrant", s, 0, [7; 32]);
        assert_same_bytes(&base.clone().with_request_parameters(&every_parameter(s)));
        assert_same_bytes(
            &base
                .clone()
                .with_request_parameters(&RequestParameters::default()),
        );
        assert_same_bytes(
            &base
                .clone()
                .with_key(s)
                .with_key(KEY)
                .with_key("arn:aws:kms:r::key/no-account")
                .with_request_parameters_value(
                    json!({"z": [1, -2, 1.5, null, true], "a": {"y": s, "b": s}}),
                )
                .with_response_elements(
                    json!({"keyMetadata": {"KeyId": s, "Enabled": false, "CreationDate": 1.7e9}}),
                )
                .with_error(&Error::new(ErrorKind::NotFoundException, s))
                .with_read_only(false),
        );
        assert_same_bytes(
            &AuditEvent::new(s, ALICE, u64::MAX, [0xff; 32]).with_recipient_account(s),
        );
        assert_same_bytes(&AuditEvent::new(
            "GenerateRandom",
            "arn:aws:iam::123456789012:root",
            1,
            [1; 32],
        ));
        // The service events, with their `serviceEventDetails`.
        assert_same_bytes(&AuditEvent::key_deleted(s, KEY, 2, [2; 32]));
        assert_same_bytes(&AuditEvent::key_rotated(s, KEY, s, 3, [3; 32]));
        assert_same_bytes(&AuditEvent::key_material_expired(s, KEY, s, 4, [4; 32]));
    }
}

proptest::proptest! {
    #[test]
    fn direct_strings_and_times_match_the_value_path(s in "\\PC*|[\\x00-\\x7f]*", millis in 0u64..=253_402_300_799_999) {
        let e = AuditEvent::new(&s, &s, millis, [3; 32])
            .with_key(&s)
            .with_request_parameters(&every_parameter(&s))
            .with_error(&Error::new(ErrorKind::ValidationException, s.clone()));
        assert_same_bytes(&e);
    }
}
