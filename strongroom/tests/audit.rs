//! The audit log: one CloudTrail-shaped event per operation (allowed or
//! denied, successful or failed), no secret bytes in it, a chain and a
//! sealed checkpoint that detect edits, deletions, reordering and
//! truncation, and a linear chain under concurrent writers.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use fixture::*;
use serde_json::Value;
use strongroom::api::*;
use strongroom::core::grant::GrantOperation;
use strongroom::core::key::KeyRecord;
use strongroom::core::seal::RootKey;
use strongroom::{AuditFilter, ErrorKind, Keystore, Secret};

fn events(ks: &Keystore) -> Vec<Value> {
    ks.audit_events(&AuditFilter::default()).unwrap()
}

fn lines(ks: &Keystore) -> Vec<String> {
    std::fs::read_to_string(ks.audit_log_path())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(ks: &Keystore, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(ks.audit_log_path(), text).unwrap();
}

#[test]
fn every_operation_leaves_exactly_one_event() {
    let f = fixture();
    let ks = &f.ks;
    let mut expected: Vec<(&str, bool)> = Vec::new();
    let check = |expected: &Vec<(&str, bool)>| {
        let ev = events(ks);
        assert_eq!(ev.len(), expected.len(), "one event per operation");
        let (name, failed) = expected.last().unwrap();
        let last = ev.last().unwrap();
        assert_eq!(last["eventName"], *name);
        assert_eq!(last.get("errorCode").is_some(), *failed, "{last}");
    };
    macro_rules! op {
        ($name:expr, $e:expr) => {{
            let r = $e;
            expected.push(($name, r.is_err()));
            check(&expected);
            r
        }};
    }
    let key = op!("CreateKey", ks.create_key(&CreateKeyRequest::default()))
        .unwrap()
        .key_metadata;
    let k = key.key_id.as_str();
    let key2 = op!("CreateKey", ks.create_key(&CreateKeyRequest::default()))
        .unwrap()
        .key_metadata;
    op!("DescribeKey", ks.describe_key(k)).unwrap();
    op!("DescribeKey", ks.describe_key("alias/none")).unwrap_err();
    op!("ListKeys", ks.list_keys(None, None)).unwrap();
    op!("UpdateKeyDescription", ks.update_key_description(k, "d")).unwrap();
    op!("DisableKey", ks.disable_key(k)).unwrap();
    op!("Encrypt", try_encrypt(ks, k, b"x")).unwrap_err();
    op!("EnableKey", ks.enable_key(k)).unwrap();
    op!("EnableKeyRotation", ks.enable_key_rotation(k, Some(90))).unwrap();
    op!("GetKeyRotationStatus", ks.get_key_rotation_status(k)).unwrap();
    op!("DisableKeyRotation", ks.disable_key_rotation(k)).unwrap();
    op!("RotateKeyOnDemand", ks.rotate_key_on_demand(k)).unwrap();
    op!("ListKeyRotations", ks.list_key_rotations(k, None, None)).unwrap();
    op!("CreateAlias", ks.create_alias("alias/a", k)).unwrap();
    op!("CreateAlias", ks.create_alias("alias/a", k)).unwrap_err();
    op!("UpdateAlias", ks.update_alias("alias/a", &key2.key_id)).unwrap();
    op!("ListAliases", ks.list_aliases(None, None, None)).unwrap();
    op!("DeleteAlias", ks.delete_alias("alias/a")).unwrap();
    let tag = Tag {
        tag_key: "t".into(),
        tag_value: "v".into(),
    };
    op!("TagResource", ks.tag_resource(k, &[tag])).unwrap();
    op!("ListResourceTags", ks.list_resource_tags(k, None, None)).unwrap();
    op!("UntagResource", ks.untag_resource(k, &["t".into()])).unwrap();
    let blob = op!("Encrypt", try_encrypt(ks, k, b"hello"))
        .unwrap()
        .ciphertext_blob;
    op!("Decrypt", try_decrypt(ks, &blob, &ctx(&[]), None)).unwrap();
    op!("Decrypt", try_decrypt(ks, &blob[1..], &ctx(&[]), None)).unwrap_err();
    op!(
        "ReEncrypt",
        ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: blob.clone(),
            destination_key_id: key2.key_id.clone(),
            ..Default::default()
        })
    )
    .unwrap();
    op!("GenerateDataKey", gdk(ks, k)).unwrap();
    op!(
        "GenerateDataKeyWithoutPlaintext",
        ks.generate_data_key_without_plaintext(&GenerateDataKeyRequest {
            key_id: k.into(),
            number_of_bytes: Some(16),
            ..Default::default()
        })
    )
    .unwrap();
    op!("GenerateRandom", ks.generate_random(16)).unwrap();
    op!("GenerateRandom", ks.generate_random(0)).unwrap_err();
    op!("GetKeyPolicy", ks.get_key_policy(k, None)).unwrap();
    op!("ListKeyPolicies", ks.list_key_policies(k, None, None)).unwrap();
    let policy = ks.get_key_policy(k, None).unwrap().policy;
    expected.push(("GetKeyPolicy", false));
    op!(
        "PutKeyPolicy",
        ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: k.into(),
            policy,
            ..Default::default()
        })
    )
    .unwrap();
    let g = op!(
        "CreateGrant",
        ks.create_grant(&CreateGrantRequest {
            key_id: k.into(),
            grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
            retiring_principal: Some("arn:aws:iam::000000000000:user/ops".into()),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        })
    )
    .unwrap();
    op!(
        "ListGrants",
        ks.list_grants(&ListGrantsRequest {
            key_id: k.into(),
            ..Default::default()
        })
    )
    .unwrap();
    op!(
        "ListRetirableGrants",
        ks.list_retirable_grants("arn:aws:iam::000000000000:user/ops", None, None)
    )
    .unwrap();
    op!(
        "RetireGrant",
        ks.retire_grant(&RetireGrantRequest {
            grant_token: Some(g.grant_token),
            ..Default::default()
        })
    )
    .unwrap();
    op!("RevokeGrant", ks.revoke_grant(k, &g.grant_id)).unwrap_err();
    op!("ScheduleKeyDeletion", ks.schedule_key_deletion(k, Some(7))).unwrap();
    op!("CancelKeyDeletion", ks.cancel_key_deletion(k)).unwrap();
    // Denied calls too.
    op!(
        "Encrypt",
        try_encrypt(
            &ks.as_principal("arn:aws:iam::999999999999:user/x"),
            k,
            b"x"
        )
    )
    .unwrap_err();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    // Plus the intent record of every call that changed rows, each
    // followed by its outcome (`docs/FORMAT.md`, "Intent records").
    let intents = lines(ks)
        .iter()
        .filter(|l| l.contains("\"strongroomIntent\":{"))
        .count() as u64;
    assert!(intents > 0);
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
    assert_eq!(v.records, expected.len() as u64 + intents);
    assert_eq!(v.checkpoint_records, expected.len() as u64 + intents);
}

#[test]
fn events_have_the_cloudtrail_shape() {
    let f = fixture();
    let key = new_key(&f.ks);
    encrypt(&f.ks, &key.key_id, b"hi", &ctx(&[("dept", "it")]));
    let app = f.ks.as_principal("arn:aws:iam::000000000000:user/app");
    app.describe_key("alias/missing").unwrap_err();
    let ev = events(&f.ks);
    let create = &ev[0];
    assert_eq!(create["eventVersion"], "1.08");
    assert_eq!(create["eventSource"], "kms.amazonaws.com");
    assert_eq!(create["eventName"], "CreateKey");
    assert_eq!(create["eventTime"], "2024-01-01T00:00:00Z");
    assert_eq!(create["readOnly"], false);
    assert_eq!(create["userIdentity"]["type"], "Root");
    assert_eq!(
        create["userIdentity"]["arn"],
        "arn:aws:iam::000000000000:root"
    );
    assert_eq!(
        create["responseElements"]["keyMetadata"]["KeyId"],
        key.key_id.as_str()
    );
    assert_eq!(create["resources"][0]["ARN"], key.arn.as_str());
    assert_eq!(create["resources"][0]["type"], "AWS::KMS::Key");
    assert_eq!(create["recipientAccountId"], "000000000000");
    assert!(create["requestID"].as_str().unwrap().len() == 36);
    assert!(create["eventID"].as_str().unwrap().len() == 36);
    let enc = &ev[1];
    assert_eq!(enc["eventName"], "Encrypt");
    assert_eq!(enc["readOnly"], true);
    assert_eq!(enc["requestParameters"]["keyId"], key.key_id.as_str());
    assert_eq!(enc["requestParameters"]["encryptionContext"]["dept"], "it");
    assert_eq!(
        enc["requestParameters"]["encryptionAlgorithm"],
        "SYMMETRIC_DEFAULT"
    );
    assert_eq!(enc["responseElements"], Value::Null);
    let denied = &ev[2];
    assert_eq!(denied["errorCode"], "NotFoundException");
    assert_eq!(denied["userIdentity"]["type"], "IAMUser");
    assert_eq!(
        denied["userIdentity"]["arn"],
        "arn:aws:iam::000000000000:user/app"
    );
}

#[test]
fn audit_events_filters() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    encrypt(&f.ks, &a.key_id, b"x", &ctx(&[]));
    let app = f.ks.as_principal("arn:aws:iam::000000000000:user/app");
    f.clock.advance(2 * DAY);
    encrypt(&app, &b.key_id, b"x", &ctx(&[]));
    let q = |filter: AuditFilter| f.ks.audit_events(&filter).unwrap().len();
    assert_eq!(q(AuditFilter::default()), 4);
    let by_key = |k: &str| AuditFilter {
        key_id: Some(k.into()),
        ..Default::default()
    };
    assert_eq!(q(by_key(&a.key_id)), 2);
    assert_eq!(q(by_key(&b.arn)), 2);
    assert_eq!(
        q(AuditFilter {
            event_name: Some("Encrypt".into()),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        q(AuditFilter {
            principal: Some("arn:aws:iam::000000000000:user/app".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        q(AuditFilter {
            start_time: Some("2024-01-02".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        q(AuditFilter {
            end_time: Some("2024-01-01".into()),
            ..Default::default()
        }),
        3
    );
    assert_eq!(
        q(AuditFilter {
            start_time: Some("2024-01-01T00:00:00Z".into()),
            end_time: Some("2024-01-01T00:00:00Z".into()),
            ..Default::default()
        }),
        3
    );
}

fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_vec(),
        b64.into_bytes(),
        b64url.into_bytes(),
        hex.into_bytes(),
    ]
}

fn all_material(path: &Path, root: &[u8; 32]) -> Vec<Secret> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut st = conn.prepare("SELECT body FROM keys").unwrap();
    let bodies: Vec<Vec<u8>> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let rk = RootKey::from_bytes(root).unwrap();
    let mut out = Vec::new();
    for body in bodies {
        let rec: KeyRecord = serde_json::from_slice(&body).unwrap();
        for b in &rec.backing_keys {
            out.push(
                rk.unseal_material(&rec.key_id, b.version, &b.sealed)
                    .unwrap(),
            );
        }
    }
    out
}

#[test]
fn the_log_never_contains_secret_bytes() {
    let f = fixture();
    let ks = &f.ks;
    let key = new_key(ks);
    let key2 = new_key(ks);
    ks.rotate_key_on_demand(&key.key_id).unwrap();
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for i in 0..8u8 {
        let pt: Vec<u8> = ks
            .generate_random(32)
            .unwrap()
            .plaintext
            .expose_secret()
            .to_vec();
        let blob = encrypt(ks, &key.key_id, &pt, &ctx(&[("i", &i.to_string())]));
        let back = decrypt(ks, &blob, &ctx(&[("i", &i.to_string())]));
        assert_eq!(back, pt);
        let re = ks
            .re_encrypt(&ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                source_encryption_context: ctx(&[("i", &i.to_string())]),
                destination_key_id: key2.key_id.clone(),
                ..Default::default()
            })
            .unwrap();
        secrets.push(pt);
        // Ciphertext blobs are not logged either.
        secrets.push(blob);
        secrets.push(re.ciphertext_blob);
        let dk = gdk(ks, &key.key_id).unwrap();
        secrets.push(dk.plaintext.expose_secret().to_vec());
        secrets.push(dk.ciphertext_blob);
        // A failed decrypt with a wrong context logs no plaintext either.
        try_decrypt(
            ks,
            &secrets[secrets.len() - 4],
            &ctx(&[("i", "wrong")]),
            None,
        )
        .unwrap_err();
        if i == 3 {
            // Half of the records go to an archive, which is scanned too.
            ks.rotate_audit_log().unwrap();
        }
    }
    let g = ks
        .create_grant(&CreateGrantRequest {
            key_id: key.key_id.clone(),
            grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        })
        .unwrap();
    secrets.push(g.grant_token.into_bytes());
    // Shared secrets of DeriveSharedSecret are not logged.
    let agreement = agreement_key(ks, strongroom::core::key::KeySpec::EccNistP256);
    for _ in 0..3 {
        secrets.push(derived_secret(ks, &agreement.key_id));
    }
    for m in all_material(&f.path, &ROOT) {
        secrets.push(m.expose_secret().to_vec());
    }
    secrets.push(ROOT.to_vec());
    let archive = strongroom::audit_archive_path(ks.audit_log_path(), 1, 0);
    let prefix = archive
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .split_once('-')
        .unwrap()
        .0
        .to_owned();
    let archives: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&prefix)
        })
        .collect();
    assert_eq!(archives.len(), 1, "one archive: {archives:?}");
    let mut windows = HashSet::new();
    for file in archives
        .iter()
        .map(PathBuf::as_path)
        .chain([ks.audit_log_path()])
    {
        let log = std::fs::read(file).unwrap();
        assert!(log.len() > 1000, "{}", file.display());
        for w in log.windows(16) {
            windows.insert(w.to_vec());
        }
    }
    for s in &secrets {
        for e in encodings(s) {
            let found = e.windows(16).any(|w| windows.contains(w));
            assert!(!found, "secret bytes found in the audit log or its archive");
        }
    }
}

/// A log of a few records, verified intact, for the tamper tests.
fn logged() -> Fixture {
    let f = fixture();
    let key = new_key(&f.ks);
    for i in 0..5 {
        encrypt(&f.ks, &key.key_id, b"x", &ctx(&[("n", &i.to_string())]));
    }
    f.ks.describe_key(&key.key_id).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    // CreateKey's intent and record, 5 Encrypts, DescribeKey.
    assert_eq!(v.records, 8);
    f
}

#[track_caller]
fn assert_detected(ks: &Keystore, what: &str, index: u64) {
    let v = ks.verify_audit_log().unwrap();
    let fault = v.fault.unwrap_or_else(|| panic!("{what}: not detected"));
    assert_eq!(fault.index, index, "{what}: {fault}");
}

#[test]
fn tampering_with_any_single_record_is_detected() {
    let f = logged();
    let orig = lines(&f.ks);
    for i in 0..orig.len() {
        for (what, edit) in [
            ("eventName", ("\"eventName\":\"", "\"eventName\":\"X")),
            ("principal", (":root\"", ":user/someone\"")),
            (
                "chain value",
                ("\"strongroomChain\":\"", "\"strongroomChain\":\"0"),
            ),
        ] {
            let mut l = orig.clone();
            if !l[i].contains(edit.0) {
                continue;
            }
            l[i] = l[i].replacen(edit.0, edit.1, 1);
            if what == "chain value" {
                // Keep it 64 hex digits.
                let pos = l[i].find("\"strongroomChain\":\"").unwrap() + 19;
                l[i].replace_range(pos + 64..pos + 65, "");
            }
            write_lines(&f.ks, &l);
            assert_detected(&f.ks, &format!("{what} of record {i}"), i as u64);
        }
        // Re-serialized without canonical form (whitespace).
        let mut l = orig.clone();
        l[i] = l[i].replacen(",", ", ", 1);
        write_lines(&f.ks, &l);
        assert_detected(&f.ks, &format!("whitespace in record {i}"), i as u64);
    }
    write_lines(&f.ks, &orig);
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}

#[test]
fn dropping_swapping_inserting_and_truncating_are_detected() {
    let f = logged();
    let orig = lines(&f.ks);
    let n = orig.len();
    for i in 0..n {
        let mut l = orig.clone();
        l.remove(i);
        write_lines(&f.ks, &l);
        assert_detected(&f.ks, &format!("dropping record {i}"), i as u64);
    }
    for i in 0..n - 1 {
        let mut l = orig.clone();
        l.swap(i, i + 1);
        write_lines(&f.ks, &l);
        assert_detected(
            &f.ks,
            &format!("swapping records {i} and {}", i + 1),
            i as u64,
        );
    }
    let mut l = orig.clone();
    l.insert(3, orig[1].clone());
    write_lines(&f.ks, &l);
    assert_detected(&f.ks, "inserting a copy", 3);
    for cut in 1..=3 {
        write_lines(&f.ks, &orig[..n - cut]);
        assert_detected(
            &f.ks,
            &format!("truncating {cut} records"),
            (n - cut) as u64,
        );
    }
    std::fs::write(f.ks.audit_log_path(), b"").unwrap();
    assert_detected(&f.ks, "emptying the log", 0);
    std::fs::remove_file(f.ks.audit_log_path()).unwrap();
    assert_detected(&f.ks, "deleting the log", 0);
    write_lines(&f.ks, &orig);
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}

/// The checkpoint lives in the integrity state (`meta/state`, bytes 9..57
/// of its body: count, last chain value, log length), under its MAC.
#[test]
fn the_checkpoint_is_authenticated() {
    let f = logged();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let (body, tag): (Vec<u8>, Vec<u8>) = conn
        .query_row("SELECT body, tag FROM meta WHERE id = 'state'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    // Rolling the count back to hide truncation fails authentication.
    let mut forged = body.clone();
    forged[9 + 7] = 2;
    conn.execute("UPDATE meta SET body = ?1 WHERE id = 'state'", [&forged])
        .unwrap();
    expect_err(f.ks.verify_audit_log(), ErrorKind::KMSInternalException);
    // An edit by another program does not move the change signal: a handle
    // re-reads the checkpoint when a write of this library moves it, or at
    // its next check of `data_version` (at most `SIGNAL_RECHECK` later).
    #[cfg(unix)]
    std::thread::sleep(strongroom::SIGNAL_RECHECK * 2);
    expect_err(f.ks.generate_random(8), ErrorKind::KMSInternalException);
    // Deleting it too.
    conn.execute("DELETE FROM meta WHERE id = 'state'", [])
        .unwrap();
    expect_err(f.ks.verify_audit_log(), ErrorKind::KMSInternalException);
    conn.execute(
        "INSERT INTO meta (id, body, tag) VALUES ('state', ?1, ?2)",
        rusqlite::params![body, tag],
    )
    .unwrap();
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}

#[test]
fn an_unwritable_log_fails_the_operation() {
    let f = logged();
    let key = f.ks.list_keys(None, None).unwrap().keys[0].key_id.clone();
    let path = f.ks.audit_log_path().to_path_buf();
    let saved = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let e = expect_err(
        try_encrypt(&f.ks, &key, b"x"),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("audit log"), "{e}");
    // A management operation fails before it changes anything.
    expect_err(f.ks.disable_key(&key), ErrorKind::KMSInternalException);
    expect_err(
        f.ks.create_key(&CreateKeyRequest::default()),
        ErrorKind::KMSInternalException,
    );
    std::fs::remove_dir(&path).unwrap();
    std::fs::write(&path, saved).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    assert!(f.ks.describe_key(&key).unwrap().key_metadata.enabled);
    assert_eq!(f.ks.list_keys(None, None).unwrap().keys.len(), 1);
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}

#[test]
fn an_uncommitted_tail_is_cut_before_the_next_append() {
    let f = logged();
    let mut text = std::fs::read_to_string(f.ks.audit_log_path()).unwrap();
    // A record half-written by a process that crashed before committing.
    text.push_str("{\"eventName\":\"Encr");
    std::fs::write(f.ks.audit_log_path(), &text).unwrap();
    f.ks.generate_random(8).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    assert_eq!(v.records, 9);
}

#[test]
fn concurrent_writers_keep_the_chain_linear() {
    let f = fixture();
    let key = new_key(&f.ks);
    let second = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ks = if t % 2 == 0 {
                f.ks.clone()
            } else {
                second.clone()
            };
            let k = key.key_id.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    try_encrypt(&ks, &k, b"x").unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    // CreateKey's intent and record, 100 Encrypts.
    assert_eq!(v.records, 102);
    assert_eq!(v.checkpoint_records, 102);
}

#[test]
fn asymmetric_and_mac_operations_are_authorized_and_audited_without_secrets() {
    use strongroom::core::key::{
        DataKeyPairSpec, KeySpec, KeyUsage, MacAlgorithm, SigningAlgorithm,
    };
    let f = fixture();
    let ks = &f.ks;
    let sym = new_key(ks);
    let ec = ks
        .create_key(&CreateKeyRequest {
            key_spec: Some(KeySpec::EccNistP256),
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    let hmac = ks
        .create_key(&CreateKeyRequest {
            key_spec: Some(KeySpec::Hmac256),
            key_usage: Some(KeyUsage::GenerateVerifyMac),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    let before = events(ks).len();
    let message: Vec<u8> = ks
        .generate_random(64)
        .unwrap()
        .plaintext
        .expose_secret()
        .to_vec();
    let sig = ks
        .sign(&SignRequest {
            key_id: ec.key_id.clone(),
            message: Secret::from_slice(&message),
            signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
            ..Default::default()
        })
        .unwrap()
        .signature;
    ks.verify(&VerifyRequest {
        key_id: ec.key_id.clone(),
        message: Secret::from_slice(&message),
        signature: sig.clone(),
        signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
        ..Default::default()
    })
    .unwrap();
    ks.get_public_key(&ec.key_id).unwrap();
    let mac = ks
        .generate_mac(&GenerateMacRequest {
            key_id: hmac.key_id.clone(),
            message: Secret::from_slice(&message),
            mac_algorithm: Some(MacAlgorithm::HmacSha256),
            ..Default::default()
        })
        .unwrap()
        .mac;
    ks.verify_mac(&VerifyMacRequest {
        key_id: hmac.key_id.clone(),
        message: Secret::from_slice(&message),
        mac: mac.clone(),
        mac_algorithm: Some(MacAlgorithm::HmacSha256),
        ..Default::default()
    })
    .unwrap();
    let pair = ks
        .generate_data_key_pair(&GenerateDataKeyPairRequest {
            key_id: sym.key_id.clone(),
            key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
            ..Default::default()
        })
        .unwrap();
    ks.generate_data_key_pair_without_plaintext(&GenerateDataKeyPairRequest {
        key_id: sym.key_id.clone(),
        key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
        ..Default::default()
    })
    .unwrap();
    // Denied for a principal of another account.
    let outsider = ks.as_principal("arn:aws:iam::999999999999:user/x");
    expect_err(
        outsider.sign(&SignRequest {
            key_id: ec.key_id.clone(),
            message: Secret::from_slice(&message),
            signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
            ..Default::default()
        }),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        outsider.get_public_key(&ec.key_id),
        ErrorKind::AccessDeniedException,
    );
    let ev = events(ks);
    // (The first event after `before` is the GenerateRandom that made the message.)
    let names: Vec<&str> = ev[before + 1..]
        .iter()
        .map(|e| e["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Sign",
            "Verify",
            "GetPublicKey",
            "GenerateMac",
            "VerifyMac",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
            "Sign",
            "GetPublicKey"
        ]
    );
    assert_eq!(
        ev[before + 1]["requestParameters"]["signingAlgorithm"],
        "ECDSA_SHA_256"
    );
    assert_eq!(ev[ev.len() - 2]["errorCode"], "AccessDeniedException");
    // No message, signature, MAC or private key in the log.
    let log = std::fs::read(ks.audit_log_path()).unwrap();
    let mut windows = HashSet::new();
    for w in log.windows(16) {
        windows.insert(w.to_vec());
    }
    let mut secrets = vec![
        message,
        sig,
        mac,
        pair.private_key_plaintext.expose_secret().to_vec(),
    ];
    secrets.extend(
        all_material(&f.path, &ROOT)
            .iter()
            .map(|m| m.expose_secret().to_vec()),
    );
    for s in &secrets {
        for e in encodings(s) {
            assert!(
                !e.windows(16).any(|w| windows.contains(w)),
                "secret bytes in the log"
            );
        }
    }
    assert_eq!(ks.verify_audit_log().unwrap().fault, None);
}

#[test]
fn a_failed_create_leaves_the_existing_keystore_and_its_log_alone() {
    let f = logged();
    let log_before = std::fs::read(f.ks.audit_log_path()).unwrap();
    assert!(!log_before.is_empty());
    // Creating over an existing keystore fails and must not touch its log.
    expect_err(
        Keystore::create(
            &f.path,
            root_source(&ROOT),
            strongroom::CreateOptions::default(),
        ),
        ErrorKind::AlreadyExistsException,
    );
    assert_eq!(std::fs::read(f.ks.audit_log_path()).unwrap(), log_before);
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
    // An administrator the default key policy cannot name is refused before
    // any file is made, so the same path can be created right after.
    let path = f.dir.path().join("admin.db");
    let bad = strongroom::CreateOptions {
        admin_principal: Some("not an arn".into()),
        ..strongroom::CreateOptions::default()
    };
    expect_err(
        Keystore::create(&path, root_source(&ROOT), bad),
        ErrorKind::ValidationException,
    );
    assert!(!path.exists());
    Keystore::create(
        &path,
        root_source(&ROOT),
        strongroom::CreateOptions::default(),
    )
    .unwrap();
}

/// The open log is kept between appends, yet a log deleted, replaced by
/// another file renamed over it, or renamed away is seen by the next
/// append: the log at the path no longer holds what the checkpoint covers,
/// so the operation fails (fail closed) and nothing is written, until the
/// original log is put back.
#[test]
fn a_moved_or_deleted_log_fails_operations_until_restored() {
    let f = logged();
    let key = f.ks.list_keys(None, None).unwrap().keys[0].key_id.clone();
    let path = f.ks.audit_log_path().to_path_buf();
    let saved = path.with_extension("saved");
    let refused = |what: &str| {
        let e = expect_err(
            try_encrypt(&f.ks, &key, b"x"),
            ErrorKind::KMSInternalException,
        );
        assert!(e.message().contains("no longer holds"), "{what}: {e}");
        let e = expect_err(
            f.ks.update_key_description(&key, "d"),
            ErrorKind::KMSInternalException,
        );
        assert!(e.message().contains("no longer holds"), "{what}: {e}");
    };
    // Renamed over by an empty file.
    std::fs::copy(&path, &saved).unwrap();
    let other = path.with_extension("other");
    std::fs::write(&other, b"").unwrap();
    std::fs::rename(&other, &path).unwrap();
    refused("replaced");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"",
        "nothing appended to the impostor"
    );
    // Deleted.
    std::fs::remove_file(&path).unwrap();
    refused("deleted");
    // Renamed away (the open handle still points at it).
    std::fs::rename(&saved, &path).unwrap();
    let moved = path.with_extension("moved");
    std::fs::rename(&path, &moved).unwrap();
    let e = expect_err(
        f.ks.update_key_description(&key, "d"),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("no longer holds"), "{e}");
    // Put back: operations run again, and the chain is whole.
    std::fs::rename(&moved, &path).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    f.ks.update_key_description(&key, "d").unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    assert_eq!(
        v.records, 12,
        "8, ListKeys, Encrypt, UpdateKeyDescription's intent and record"
    );
}

/// Cutting records the checkpoint covers, calling, then putting the old
/// file back must not hide the call: the call fails instead.
#[test]
fn a_log_cut_below_its_checkpoint_fails_calls_so_nothing_can_be_hidden() {
    let f = logged();
    let key = f.ks.list_keys(None, None).unwrap().keys[0].key_id.clone();
    f.ks.flush_audit_log().unwrap();
    let path = f.ks.audit_log_path().to_path_buf();
    let full = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    for keep in [0, 1, lines.len() - 1] {
        let cut: String = lines[..keep].iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, &cut).unwrap();
        expect_err(
            try_encrypt(&f.ks, &key, b"x"),
            ErrorKind::KMSInternalException,
        );
        expect_err(f.ks.generate_random(8), ErrorKind::KMSInternalException);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), cut, "kept {keep}");
    }
    std::fs::write(&path, &full).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (lines.len() as u64 + 1, None));
}

#[test]
fn malformed_time_filters_are_refused() {
    let f = logged();
    for bad in ["yesterday", "2024-13-45", "2024-01-01 10:00"] {
        for filter in [
            AuditFilter {
                start_time: Some(bad.into()),
                ..Default::default()
            },
            AuditFilter {
                end_time: Some(bad.into()),
                ..Default::default()
            },
        ] {
            let e = f.ks.audit_events(&filter).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}");
        }
    }
    let ok = AuditFilter {
        start_time: Some("2020-01".into()),
        ..Default::default()
    };
    assert!(!f.ks.audit_events(&ok).unwrap().is_empty());
}

/// A start time after the end time is a range no event can fall in
/// (CloudTrail's LookupEvents: InvalidTimeRangeException): a
/// ValidationException naming both, not an empty list. A start inside the
/// end's prefix (`2024-01-01T10` to `2024-01-01`: the rest of that day) is
/// not after it.
#[test]
fn a_start_time_after_the_end_time_is_refused() {
    let f = logged();
    let range = |start: &str, end: &str| AuditFilter {
        start_time: Some(start.into()),
        end_time: Some(end.into()),
        ..Default::default()
    };
    for (start, end) in [
        ("2024-01-02", "2024-01-01"),
        ("2024-01-01T00:00:01Z", "2024-01-01T00:00:00Z"),
        ("2025", "2024-12-31T23:59:59Z"),
        ("2024-01-01T10", "2024-01-01T09:59"),
    ] {
        let e = f.ks.audit_events(&range(start, end)).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::ValidationException,
            "{start} {end}: {e}"
        );
        assert!(
            e.message().contains(start) && e.message().contains(end),
            "{e}"
        );
    }
    let all = f.ks.audit_events(&AuditFilter::default()).unwrap().len();
    assert!(all > 0);
    // The fixture's clock is at 2024-01-01T00:00:00Z.
    for (start, end) in [
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01T00", "2024-01-01"),
        ("2024-01-01T00:00:00Z", "2024"),
        ("2020", "2030"),
    ] {
        assert_eq!(
            f.ks.audit_events(&range(start, end)).unwrap().len(),
            all,
            "{start} {end}"
        );
    }
}

/// Every file in `dir`: its name and contents, for a check that nothing
/// was written.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// The files of `dir` are those of `before`, byte for byte.
#[track_caller]
fn assert_unchanged(dir: &Path, before: &[(String, Vec<u8>)]) {
    let after = files_in(dir);
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(before), "files appeared or went");
    for ((name, a), (_, b)) in after.iter().zip(before) {
        assert!(a == b, "{name} was written");
    }
}

/// `verify_audit_log_read_only` verifies the chain, the checkpoint and the
/// integrity state as `verify_audit_log` does, and writes nothing: no byte
/// of the keystore, its log or its signal file changes, no file appears.
#[test]
fn read_only_verification_writes_nothing() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypt(&f.ks, &key, b"x", &ctx(&[]));
    let records = f.ks.verify_audit_log().unwrap().records;
    drop(f.ks);
    let before = files_in(f.dir.path());
    let verify = || {
        Keystore::verify_audit_log_read_only(
            &f.path,
            root_source(&ROOT),
            strongroom::OpenOptions::default(),
        )
    };
    let v = verify().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert_eq!((v.records, v.checkpoint_records), (records, records));
    assert!(v.outcome_unknown.is_empty());
    assert_unchanged(f.dir.path(), &before);
    // An edited record is found as by `verify_audit_log`.
    let log = strongroom::audit_log_path(&f.path);
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("\"Encrypt\"", "\"Decrypt\"", 1)).unwrap();
    let v = verify().unwrap();
    assert_eq!(v.fault.map(|f| f.index), Some(records - 1));
    // A wrong root key opens nothing.
    let err = Keystore::verify_audit_log_read_only(
        &f.path,
        root_source(&[1; 32]),
        strongroom::OpenOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDeniedException);
}

/// A keystore whose files are read only (0444) in a read-only directory
/// (0555), as on a read-only file system: opening it for use fails (it
/// must write), `verify_audit_log_read_only` verifies it.
#[test]
fn a_keystore_the_process_cannot_write_verifies_read_only() {
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        eprintln!("skipped: root ignores file modes (run as another user to test this)");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypt(&f.ks, &key, b"x", &ctx(&[]));
    let records = f.ks.verify_audit_log().unwrap().records;
    drop(f.ks);
    let dir = f.dir.path();
    let mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    for (name, _) in files_in(dir) {
        mode(&dir.join(name), 0o444);
    }
    mode(dir, 0o555);
    let before = files_in(dir);
    let opened = Keystore::open(&f.path, root_source(&ROOT));
    let verified = Keystore::verify_audit_log_read_only(
        &f.path,
        root_source(&ROOT),
        strongroom::OpenOptions::default(),
    );
    mode(dir, 0o755);
    assert!(
        opened.is_err(),
        "opening for use wrote to a read-only keystore"
    );
    let v = verified.unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert_eq!(v.records, records);
    assert_unchanged(dir, &before);
}

/// A keystore named through a symbolic link while a writer holds it open
/// with its latest commits (and sealed checkpoint) still in the WAL:
/// `verify_audit_log_read_only` reads that WAL (SQLite names it after the
/// linked file, not the link), so a log cut back below the live checkpoint
/// is not intact — an immutable read of the main file alone would check it
/// against the older checkpoint there and call it intact.
#[test]
fn read_only_verification_through_a_link_reads_the_live_wal() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypt(&f.ks, &key, b"x", &ctx(&[]));
    let records = f.ks.verify_audit_log().unwrap().records;
    // The writer (f.ks) stays open: its commits are in the WAL.
    let mut wal = f.path.clone().into_os_string();
    wal.push("-wal");
    assert!(Path::new(&wal).exists(), "no WAL beside the keystore");
    let link = f.dir.path().join("link.db");
    std::os::unix::fs::symlink(&f.path, &link).unwrap();
    let verify = || {
        Keystore::verify_audit_log_read_only(
            &link,
            root_source(&ROOT),
            strongroom::OpenOptions::default(),
        )
        .unwrap()
    };
    let v = verify();
    assert!(v.fault.is_none(), "{v:?}");
    assert_eq!((v.records, v.checkpoint_records), (records, records));
    // The last record cut off the log.
    let mut kept = lines(&f.ks);
    kept.pop();
    write_lines(&f.ks, &kept);
    let v = verify();
    assert!(v.fault.is_some(), "a cut log verified: {v:?}");
    assert_eq!(v.checkpoint_records, records);
}

/// review17 L4: a log whose last checkpointed line lost its newline stops
/// every operation (the file no longer holds what its checkpoint covers);
/// the verification reports that as a fault at the last checkpointed record
/// (before, it reported none, so the operator could not find the cause).
#[test]
fn a_log_shorter_than_its_checkpoint_is_a_verification_fault() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for _ in 0..3 {
        try_encrypt(&f.ks, &key, b"x").unwrap();
    }
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let mut bytes = std::fs::read(&log).unwrap();
    assert_eq!(bytes.pop(), Some(b'\n'));
    std::fs::write(&log, &bytes).unwrap();
    assert!(try_encrypt(&f.ks, &key, b"x").is_err());
    let v = f.ks.verify_audit_log().unwrap();
    let fault = v.fault.expect("a fault");
    assert_eq!(fault.index, v.checkpoint_records - 1, "{fault:?}");
    assert!(
        fault
            .reason
            .to_string()
            .contains("shorter than its sealed checkpoint"),
        "{fault:?}"
    );
}

/// Review 18b, 1: a created or imported keystore has its empty audit log
/// (mode 0600, as the keystore file), which its genesis checkpoint (0
/// records, 0 bytes) covers: it verifies, opens and is written as any
/// other. Before, the first open of a new keystore found no log and took
/// the missing-log path.
#[test]
fn a_created_or_imported_keystore_has_its_empty_audit_log() {
    let f = fixture();
    let export = f.ks.export_sealed().unwrap();
    let imported = f.dir.path().join("imported.db");
    let i = Keystore::import_sealed(&imported, &export, root_source(&ROOT)).unwrap();
    for ks in [&f.ks, &i] {
        let log = ks.audit_log_path();
        let m = std::fs::symlink_metadata(log).unwrap();
        assert!(m.is_file() && m.len() == 0, "{}: {m:?}", log.display());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(m.permissions().mode() & 0o777, 0o600);
        }
        let v = ks.verify_audit_log().unwrap();
        assert_eq!((v.fault, v.records), (None, 0));
    }
    let path = f.path.clone();
    drop(f.ks);
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    new_key(&ks);
    let v = ks.verify_audit_log().unwrap();
    assert_eq!((v.fault, v.records), (None, 2));
}

/// Review 18b, 1 (the reviewer's repro): concurrent first opens of a new
/// keystore, and of one whose empty log was deleted (which takes the
/// missing-log path), all succeed. Before, 45 of 150 opens of a keystore
/// without its log failed: a read without locks that a writer's WAL
/// appeared during was not read again ("a writer opened the keystore while
/// it was read without locks"), and a log another opener made and wrote
/// after it was looked for was called missing.
#[test]
fn concurrent_opens_of_a_fresh_keystore_all_succeed() {
    let mut failures = Vec::new();
    for round in 0..25 {
        let fresh = fixture();
        let log = fresh.ks.audit_log_path().to_path_buf();
        drop(fresh.ks);
        if round % 5 != 0 {
            let _ = std::fs::remove_file(&log);
        }
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let p = fresh.path.clone();
                std::thread::spawn(move || {
                    Keystore::open(&p, root_source(&ROOT)).map(|ks| new_key(&ks).key_id)
                })
            })
            .collect();
        for t in threads {
            if let Err(e) = t.join().unwrap() {
                failures.push(format!("round {round}: {e}"));
            }
        }
        let ks = Keystore::open(&fresh.path, root_source(&ROOT)).unwrap();
        let v = ks.verify_audit_log().unwrap();
        assert_eq!((v.fault, v.records), (None, 12), "round {round}");
    }
    assert!(
        failures.is_empty(),
        "{} of 150 opens failed: {failures:#?}",
        failures.len()
    );
}

/// Review 18, L6: a keystore whose audit log is missing at the path its
/// side files are named after, while its checkpoint covers records there,
/// is refused on open with an error naming that path, before any file is
/// made: opened through a hard link (whose own name the side files take)
/// or with its log deleted. Before, the open made a `-signal` file and an
/// empty log beside that path and failed on the first operation ("no
/// longer holds the records its sealed checkpoint covers"). A keystore
/// whose checkpoint covers an empty log still opens without one.
#[test]
fn a_missing_audit_log_is_refused_before_anything_is_made() {
    let fresh = fixture();
    let fresh_log = fresh.ks.audit_log_path().to_path_buf();
    drop(fresh.ks);
    let _ = std::fs::remove_file(&fresh_log);
    let reopened = Keystore::open(&fresh.path, root_source(&ROOT));
    assert!(reopened.is_ok(), "{:?}", reopened.err());
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    drop(f.ks);
    let dir = f.dir.path();
    let hard = dir.join("hard.db");
    std::fs::hard_link(&f.path, &hard).unwrap();
    let refused = |path: &Path, log: &Path| {
        let before = files_in(dir);
        let e = Keystore::open(path, root_source(&ROOT)).map(|_| ());
        let e = expect_err(e, ErrorKind::KMSInternalException);
        let text = format!(
            "the audit log {} is missing for a keystore that has written records",
            log.display()
        );
        assert!(e.message().contains(&text), "{e}");
        assert_eq!(files_in(dir), before, "files were made or changed");
    };
    refused(&hard, &dir.join("hard.db.audit.jsonl"));
    // Deleted beside the keystore's own name.
    let saved = dir.join("saved.jsonl");
    std::fs::rename(&log, &saved).unwrap();
    refused(&f.path, &log);
    std::fs::rename(&saved, &log).unwrap();
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    try_encrypt(&ks, &key, b"x").unwrap();
    assert_eq!(ks.verify_audit_log().unwrap().fault, None);
}

/// An encryption context key named as serde_json's raw-value token
/// (`$serde_json::private::RawValue`; with serde_json's `raw_value` feature
/// its `Value` reads `{"$serde_json::private::RawValue": "1"}` as `1`) is
/// an ordinary key in the audit log: the records of a denied Encrypt and of
/// an allowed one with that key are listed by `audit_events` with the
/// context as written, and the log verifies, before and after a rotation.
#[test]
fn raw_value_token_context_keys_are_listed_as_written() {
    const TOKEN: &str = "$serde_json::private::RawValue";
    let f = fixture();
    let key = new_key(&f.ks);
    let mallory = f.ks.as_principal("arn:aws:iam::111122223333:user/mallory");
    let values = ["x", "1", "{\"k\":\"v\"}"];
    for v in values {
        let e = mallory
            .encrypt(&EncryptRequest {
                key_id: key.key_id.clone(),
                plaintext: Secret::from_slice(b"x"),
                encryption_context: ctx(&[(TOKEN, v)]),
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AccessDeniedException);
    }
    encrypt(&f.ks, &key.key_id, b"x", &ctx(&[(TOKEN, "2"), ("k", "v")]));
    let check = |ks: &Keystore| {
        let events = ks
            .audit_events(&AuditFilter {
                event_name: Some("Encrypt".into()),
                ..Default::default()
            })
            .unwrap();
        let contexts: Vec<&Value> = events
            .iter()
            .map(|e| &e["requestParameters"]["encryptionContext"])
            .collect();
        let want: Vec<Value> = values
            .iter()
            .map(|v| serde_json::json!({ TOKEN: v }))
            .chain([serde_json::json!({ TOKEN: "2", "k": "v" })])
            .collect();
        assert_eq!(contexts, want.iter().collect::<Vec<_>>(), "{events:#?}");
        let denied: Vec<_> = events
            .iter()
            .filter(|e| e["errorCode"] == "AccessDeniedException")
            .collect();
        assert_eq!(denied.len(), 3, "{events:#?}");
        let v = ks.verify_audit_log().unwrap();
        assert!(v.fault.is_none(), "{v:?}");
    };
    check(&f.ks);
    // Rotation reads the records it archives (and verification the
    // archive's): neither stumbles on them.
    f.ks.rotate_audit_log().unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
}
