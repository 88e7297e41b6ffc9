//! The policy, grant and audit commands of `strongroom` end to end:
//! `--principal`, put/get/list-key-policies, create/list/retire/revoke grants
//! with `--grant-tokens`, `audit show` and `audit verify` (exit codes and
//! the first bad record).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;

use common::*;

const APP: &str = "arn:aws:iam::000000000000:user/app";
const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";

fn init(dir: &Path) -> PathBuf {
    let ks = dir.join("ks.db");
    let v = ok(&ks, &["init", "--admin-principal", ADMIN]);
    assert_eq!(v["AdminPrincipal"], ADMIN);
    ks
}

fn create_key(ks: &Path) -> String {
    ok(ks, &["create-key"])["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string()
}

fn audit_records(ks: &Path, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["audit", "show"];
    args.extend_from_slice(filters);
    ok(ks, &args).as_array().unwrap().clone()
}

#[test]
fn principals_policies_and_grants() {
    let dir = tempfile::tempdir().unwrap();
    let ks = init(dir.path());
    let key = create_key(&ks);
    // The app is denied by the default policy (the admin is one user here).
    fails(
        &ks,
        &[
            "--principal",
            APP,
            "encrypt",
            "--key-id",
            &key,
            "--plaintext",
            "aGk=",
        ],
        "AccessDeniedException",
    );
    // A key policy from a file allows the app to encrypt.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Encrypt", "Resource": "*"}
        ]
    });
    let file = dir.path().join("p.json");
    std::fs::write(&file, policy.to_string()).unwrap();
    let file_arg = format!("file://{}", file.display());
    ok(
        &ks,
        &["put-key-policy", "--key-id", &key, "--policy", &file_arg],
    );
    let got = ok(&ks, &["get-key-policy", "--key-id", &key]);
    assert_eq!(got["PolicyName"], "default");
    assert_eq!(
        serde_json::from_str::<Value>(got["Policy"].as_str().unwrap()).unwrap(),
        policy
    );
    assert_eq!(
        ok(&ks, &["list-key-policies", "--key-id", &key])["PolicyNames"],
        serde_json::json!(["default"])
    );
    let blob = ok(
        &ks,
        &[
            "--principal",
            APP,
            "encrypt",
            "--key-id",
            &key,
            "--plaintext",
            "aGk=",
            "--encryption-context",
            "tenant=a",
        ],
    )["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    // Lockout safety check, and its bypass flag is accepted.
    let lockout = serde_json::json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:*", "Resource": "*"}});
    fails(
        &ks,
        &[
            "put-key-policy",
            "--key-id",
            &key,
            "--policy",
            &lockout.to_string(),
        ],
        "MalformedPolicyDocumentException",
    );
    // A grant with an EncryptionContextEquals constraint, used at once by token.
    fails(
        &ks,
        &[
            "--principal",
            APP,
            "decrypt",
            "--ciphertext-blob",
            &blob,
            "--encryption-context",
            "tenant=a",
        ],
        "AccessDeniedException",
    );
    let g = ok(
        &ks,
        &[
            "create-grant",
            "--key-id",
            &key,
            "--grantee-principal",
            APP,
            "--operations",
            "Decrypt",
            "Encrypt",
            "--retiring-principal",
            ADMIN,
            "--constraints",
            "EncryptionContextEquals={tenant=a}",
            "--name",
            "app-decrypt",
        ],
    );
    let token = g["GrantToken"].as_str().unwrap().to_string();
    let grant_id = g["GrantId"].as_str().unwrap().to_string();
    let pt = ok(
        &ks,
        &[
            "--principal",
            APP,
            "decrypt",
            "--ciphertext-blob",
            &blob,
            "--encryption-context",
            "tenant=a",
            "--grant-tokens",
            &token,
        ],
    );
    assert_eq!(pt["Plaintext"], "aGk=");
    fails(
        &ks,
        &[
            "--principal",
            APP,
            "decrypt",
            "--ciphertext-blob",
            &blob,
            "--encryption-context",
            "tenant=b",
            "--grant-tokens",
            &token,
        ],
        "AccessDeniedException",
    );
    fails(
        &ks,
        &[
            "--principal",
            APP,
            "decrypt",
            "--ciphertext-blob",
            &blob,
            "--grant-tokens",
            "bogus",
        ],
        "InvalidGrantTokenException",
    );
    let grants = ok(&ks, &["list-grants", "--key-id", &key]);
    assert_eq!(grants["Grants"][0]["GrantId"], grant_id.as_str());
    assert_eq!(
        grants["Grants"][0]["IssuingAccount"],
        "arn:aws:iam::000000000000:root"
    );
    assert_eq!(
        grants["Grants"][0]["Constraints"]["EncryptionContextEquals"]["tenant"],
        "a"
    );
    let retirable = ok(
        &ks,
        &["list-retirable-grants", "--retiring-principal", ADMIN],
    );
    assert_eq!(retirable["Grants"].as_array().unwrap().len(), 1);
    ok(&ks, &["retire-grant", "--grant-token", &token]);
    fails(
        &ks,
        &[
            "--principal",
            APP,
            "decrypt",
            "--ciphertext-blob",
            &blob,
            "--encryption-context",
            "tenant=a",
        ],
        "AccessDeniedException",
    );
    let g2 = ok(
        &ks,
        &[
            "create-grant",
            "--key-id",
            &key,
            "--grantee-principal",
            APP,
            "--operations",
            "DescribeKey,Decrypt",
        ],
    );
    ok(&ks, &["--principal", APP, "describe-key", "--key-id", &key]);
    ok(
        &ks,
        &[
            "revoke-grant",
            "--key-id",
            &key,
            "--grant-id",
            g2["GrantId"].as_str().unwrap(),
        ],
    );
    fails(
        &ks,
        &["--principal", APP, "describe-key", "--key-id", &key],
        "AccessDeniedException",
    );

    // The audit trail: one record per command above that opened the keystore.
    let all = audit_records(&ks, &[]);
    assert_eq!(all.len(), 20, "{all:#?}");
    let as_app = audit_records(&ks, &["--principal", APP]);
    assert!(as_app.iter().all(|r| r["userIdentity"]["arn"] == APP));
    assert_eq!(as_app.len(), 9);
    let grants = audit_records(&ks, &["--event-name", "CreateGrant"]);
    assert_eq!(grants.len(), 2);
    assert_eq!(audit_records(&ks, &["--key-id", &key]).len(), 18); // not the bad-token Decrypt nor ListRetirableGrants
    assert_eq!(audit_records(&ks, &["--start-time", "2999-01-01"]).len(), 0);
    let table = run(
        &ks,
        &[
            "--output",
            "text",
            "audit",
            "show",
            "--event-name",
            "Encrypt",
        ],
    );
    assert!(table.status.success());
    let text = String::from_utf8(table.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().next().unwrap().starts_with("TIME"));
    assert!(text.contains("AccessDeniedException"));
    let v = ok(&ks, &["audit", "verify"]);
    assert_eq!(v["Intact"], true);
    // 20 operations, and the intent record of each that changed rows
    // (`docs/FORMAT.md`, "Intent records"), every one with its outcome.
    let log = std::fs::read_to_string(format!("{}.audit.jsonl", ks.display())).unwrap();
    let intents = log.matches("\"strongroomIntent\":{").count();
    assert!(intents > 0);
    assert_eq!(v["Records"], 20 + intents);
    assert_eq!(v["OutcomeUnknown"], serde_json::json!([]));
}

#[test]
fn audit_verify_reports_the_first_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    ok(&ks, &["init"]);
    let key = create_key(&ks);
    for _ in 0..4 {
        ok(&ks, &["encrypt", "--key-id", &key, "--plaintext", "aGk="]);
    }
    let log = PathBuf::from(format!("{}.audit.jsonl", ks.display()));
    let orig = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = orig.lines().collect();
    // CreateKey's intent and outcome, four Encrypts.
    assert_eq!(lines.len(), 6);
    assert!(lines[0].contains("\"strongroomIntent\":{"));
    let v = ok(&ks, &["audit", "verify"]);
    assert_eq!(v["Records"], 6);

    let check = |text: String, index: u64, reason: &str| {
        std::fs::write(&log, text).unwrap();
        let out = fails(&ks, &["audit", "verify"], "KMSInternalException");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["Intact"], false);
        assert_eq!(v["FirstBadRecord"], index, "{v}");
        assert!(v["Reason"].as_str().unwrap().contains(reason), "{v}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("audit record {index}")), "{err}");
    };
    let join = |l: &[&str]| l.iter().map(|s| format!("{s}\n")).collect::<String>();
    // Edited.
    let mut edited = lines.clone();
    let e = edited[2].replace("\"Encrypt\"", "\"Decrypt\"");
    edited[2] = &e;
    check(join(&edited), 2, "chain value does not verify");
    // Dropped.
    let mut dropped = lines.clone();
    dropped.remove(1);
    check(join(&dropped), 1, "chain value");
    // Swapped.
    let mut swapped = lines.clone();
    swapped.swap(3, 4);
    check(join(&swapped), 3, "chain value");
    // Truncated.
    check(join(&lines[..3]), 3, "truncated");
    // Restored: intact again.
    std::fs::write(&log, orig).unwrap();
    assert_eq!(ok(&ks, &["audit", "verify"])["Intact"], true);
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn envelope_commands_send_grant_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let ks = init(dir.path());
    let key = create_key(&ks);
    let inp = dir.path().join("plain.txt");
    let msg = dir.path().join("plain.msg");
    let out = dir.path().join("plain.out");
    std::fs::write(&inp, b"under a grant").unwrap();
    let (inp_s, msg_s, out_s) = (
        inp.to_str().unwrap(),
        msg.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let enc = |tokens: &[&str]| {
        let mut a = vec![
            "--principal",
            APP,
            "-o",
            msg_s,
            "encrypt-file",
            "-i",
            inp_s,
            "--key-id",
            &key,
        ];
        if !tokens.is_empty() {
            a.push("--grant-tokens");
            a.extend_from_slice(tokens);
        }
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    fails(&ks, &strs(&enc(&[])), "AccessDeniedException");
    let g = ok(
        &ks,
        &[
            "create-grant",
            "--key-id",
            &key,
            "--grantee-principal",
            APP,
            "--operations",
            "GenerateDataKey",
            "Decrypt",
        ],
    );
    let token = g["GrantToken"].as_str().unwrap().to_string();
    ok(&ks, &strs(&enc(&[&token])));
    for key_arg in [&["--key-id", key.as_str()][..], &[]] {
        let mut a = vec!["--principal", APP, "-o", out_s, "decrypt-file", "-i", msg_s];
        a.extend_from_slice(key_arg);
        a.extend_from_slice(&["--grant-tokens", &token]);
        ok(&ks, &a);
        assert_eq!(std::fs::read(&out).unwrap(), b"under a grant");
        std::fs::remove_file(&out).unwrap();
    }
    let eleven = vec![token.as_str(); 11];
    fails(&ks, &strs(&enc(&eleven)), "ValidationException");
    fails(&ks, &strs(&enc(&["bogus"])), "InvalidGrantTokenException");
    fails(
        &ks,
        &[
            "--principal",
            APP,
            "-o",
            out_s,
            "decrypt-file",
            "-i",
            msg_s,
            "--grant-tokens",
            "bogus",
        ],
        "InvalidGrantTokenException",
    );
    assert!(!out.exists());
}

#[test]
fn dry_run_checks_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ks = init(dir.path());
    let key = create_key(&ks);
    fails(
        &ks,
        &[
            "--dry-run",
            "encrypt",
            "--key-id",
            &key,
            "--plaintext",
            "aGk=",
        ],
        "DryRunOperationException",
    );
    // The answer for a principal the key policy does not allow.
    fails(
        &ks,
        &[
            "--dry-run",
            "--principal",
            APP,
            "encrypt",
            "--key-id",
            &key,
            "--plaintext",
            "aGk=",
        ],
        "AccessDeniedException",
    );
    fails(
        &ks,
        &[
            "--dry-run",
            "create-grant",
            "--key-id",
            &key,
            "--grantee-principal",
            APP,
            "--operations",
            "Encrypt",
        ],
        "DryRunOperationException",
    );
    let grants = ok(&ks, &["list-grants", "--key-id", &key]);
    assert_eq!(grants["Grants"].as_array().unwrap().len(), 0);
    // Commands without DryRun in KMS refuse it and do nothing.
    fails(
        &ks,
        &["--dry-run", "disable-key", "--key-id", &key],
        "ValidationException",
    );
    let backup = dir.path().join("backup.srk");
    fails(
        &ks,
        &[
            "--dry-run",
            "export-keystore",
            "--outfile",
            backup.to_str().unwrap(),
        ],
        "ValidationException",
    );
    assert!(!backup.exists());
    let other = dir.path().join("other.db");
    fails(&other, &["--dry-run", "init"], "ValidationException");
    assert!(!other.exists());
    let d = ok(&ks, &["describe-key", "--key-id", &key]);
    assert_eq!(d["KeyMetadata"]["KeyState"], "Enabled");
    let events = audit_records(&ks, &["--event-name", "Encrypt"]);
    let codes: Vec<&str> = events
        .iter()
        .map(|e| e["errorCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["DryRunOperationException", "AccessDeniedException"]);
}

/// `audit verify` writes nothing, so it verifies a keystore whose files
/// are read only (0444) in a read-only directory (0555), as on a read-only
/// file system, where commands that write fail.
#[test]
fn audit_verify_works_on_a_keystore_the_process_cannot_write() {
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        eprintln!("skipped: root ignores file modes (run as another user to test this)");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ks = init(dir.path());
    let key = create_key(&ks);
    ok(&ks, &["encrypt", "--key-id", &key, "--plaintext", "aGk="]);
    let mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    for e in std::fs::read_dir(dir.path()).unwrap() {
        mode(&e.unwrap().path(), 0o444);
    }
    mode(dir.path(), 0o555);
    let verified = cmd(&ks).args(["audit", "verify"]).output().unwrap();
    let written = cmd(&ks).args(["create-key"]).output().unwrap();
    mode(dir.path(), 0o755);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let v: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(v["Intact"], true);
    assert_eq!(v["Records"], 3, "CreateKey (intent and outcome), Encrypt");
    assert!(!written.status.success());
}

/// `audit rotate` archives the log; `audit verify` passes on the rotated
/// log alone and, with `--archive`, checks the archives: a modified or
/// missing one fails (exit 1) naming the file.
#[test]
fn audit_rotate_then_verify_with_archives() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    ok(&ks, &["init"]);
    let key = create_key(&ks);
    ok(&ks, &["encrypt", "--key-id", &key, "--plaintext", "aGk="]);
    let r = ok(&ks, &["audit", "rotate"]);
    // CreateKey's intent and outcome, one Encrypt.
    assert_eq!(
        (r["FirstRecord"].as_u64(), r["LastRecord"].as_u64()),
        (Some(1), Some(3)),
        "{r}"
    );
    let first = PathBuf::from(r["Archive"].as_str().unwrap());
    assert_eq!(
        first.file_name().unwrap(),
        "ks.db.audit.00000000000000000001-00000000000000000003.jsonl"
    );
    let bytes = std::fs::read(&first).unwrap();
    assert_eq!(r["Bytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(r["Sha256"].as_str().unwrap().len(), 64);
    ok(&ks, &["encrypt", "--key-id", &key, "--plaintext", "aGk="]);
    let second = PathBuf::from(ok(&ks, &["audit", "rotate"])["Archive"].as_str().unwrap());

    let v = ok(&ks, &["audit", "verify"]);
    assert_eq!(
        (v["Intact"].as_bool(), v["FirstRecord"].as_u64()),
        (Some(true), Some(6)),
        "{v}"
    );
    let v = ok(
        &ks,
        &["audit", "verify", "--archive", s(&first), s(&second)],
    );
    assert_eq!(v["Intact"], true, "{v}");
    assert_eq!(v["Archives"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["Archives"][1]["LastRecord"], 5, "{v}");
    // `audit show` lists the current file.
    let shown = ok(&ks, &["audit", "show"]);
    assert_eq!(shown[0]["eventName"], "RotateAuditLog", "{shown}");

    // The second archive missing from the list.
    let out = fails(
        &ks,
        &["audit", "verify", "--archive", s(&first)],
        "KMSInternalException",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Intact"], false);
    assert!(
        v["ArchiveFault"]["Reason"]
            .as_str()
            .unwrap()
            .contains("missing or out of order"),
        "{v}"
    );
    // A modified archive.
    let mut bad = bytes.clone();
    bad[40] ^= 1;
    std::fs::remove_file(&first).unwrap();
    std::fs::write(&first, &bad).unwrap();
    let out = fails(
        &ks,
        &["audit", "verify", "--archive", s(&first), s(&second)],
        "KMSInternalException",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ArchiveFault"]["File"], s(&first), "{v}");
    assert_eq!(v["ArchiveFault"]["Record"], 1, "{v}");
    // Archives deleted: the keystore runs on.
    std::fs::remove_file(&first).unwrap();
    std::fs::remove_file(&second).unwrap();
    ok(&ks, &["encrypt", "--key-id", &key, "--plaintext", "aGk="]);
    assert_eq!(ok(&ks, &["audit", "verify"])["Intact"], true);
}

/// `--audit-rotate-bytes` out of range is refused before anything runs.
#[test]
fn audit_rotate_bytes_out_of_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    ok(&ks, &["init"]);
    for bad in ["0", "65535", "1073741825"] {
        let out = fails(
            &ks,
            &["--audit-rotate-bytes", bad, "list-keys"],
            "ValidationException",
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("the size at which the audit log is rotated must be 65536"),
            "{err}"
        );
    }
    ok(&ks, &["--audit-rotate-bytes", "65536", "list-keys"]);
}

/// `init` of a keystore whose file name is longer than 193 bytes is
/// refused before anything is written (no keystore, no key file, no log):
/// its audit log's archives could never be named (review R5).
#[test]
fn init_refuses_a_keystore_name_too_long_for_its_archives() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join(format!("{}.db", "k".repeat(191)));
    let out = fails(&ks, &["init"], "ValidationException");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is 194 bytes long; at most 193 bytes are allowed"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let ks = dir.path().join(format!("{}.db", "k".repeat(190)));
    ok(&ks, &["init"]);
    create_key(&ks);
    ok(&ks, &["audit", "rotate"]);
}
