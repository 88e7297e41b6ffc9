//! Rotation of the audit log into archives (`Keystore::rotate_audit_log`,
//! `docs/FORMAT.md` "Audit log rotation and archives"): the archive and the
//! new file's `RotateAuditLog` record, verification of the current file
//! alone and of archives, tampering with archives, other handles and
//! processes continuing in the new file, a replaced log still stopping the
//! keystore, and a crash between any two steps of a rotation.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fixture::*;
use proptest::prelude::*;
use serde_json::Value;
use strongroom::{AuditLogRotation, ErrorKind, Keystore};

/// Records the sealed checkpoint covers (bytes 9..17 of the state row).
fn checkpoint_count(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM meta WHERE id = 'state'", [], |r| r.get(0))
        .unwrap();
    u64::from_be_bytes(body[9..17].try_into().unwrap())
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    strongroom::core::crypto::digest::DigestAlgorithm::Sha256
        .digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn encrypts(ks: &Keystore, key: &str, n: usize) {
    for _ in 0..n {
        try_encrypt(ks, key, b"x").unwrap();
    }
}

/// The temporary files of rotations (`.partial`, `.rotating`) in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    files_ending(dir, &[".partial", ".rotating"])
}

#[track_caller]
fn assert_intact(ks: &Keystore, archives: &[PathBuf]) -> strongroom::AuditVerification {
    let v = ks.verify_audit_log_archives(archives).unwrap();
    assert_eq!(v.fault, None, "{v:?}");
    assert_eq!(v.archive_fault, None, "{v:?}");
    assert_eq!(v.records, v.checkpoint_records, "{v:?}");
    assert_eq!(v.archives.len(), archives.len());
    v
}

#[test]
fn a_rotation_archives_the_log_and_starts_a_chained_file() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 10);
    let log = f.ks.audit_log_path().to_path_buf();
    let before = std::fs::read(&log).unwrap();
    let r: AuditLogRotation = f.ks.rotate_audit_log().unwrap();
    // CreateKey's intent and record, ten Encrypts.
    assert_eq!((r.first_record, r.last_record), (1, 12));
    assert_eq!(
        r.archive,
        f.dir
            .path()
            .join("ks.db.audit.00000000000000000001-00000000000000000012.jsonl")
    );
    let archived = std::fs::read(&r.archive).unwrap();
    assert_eq!(archived, before, "the archive is the log as it was");
    assert_eq!(r.bytes, archived.len() as u64);
    assert_eq!(r.sha256, sha256_hex(&archived));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&r.archive).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o400, "archives are read only");

    // The new file: one line, the rotation record, chained after record 12.
    let current = lines_of(&log);
    assert_eq!(current.len(), 1);
    let rec: Value = serde_json::from_str(&current[0]).unwrap();
    assert_eq!(rec["eventName"], "RotateAuditLog");
    assert_eq!(rec["eventSource"], "kms.amazonaws.com");
    assert_eq!(rec["readOnly"], false);
    let re = &rec["responseElements"];
    assert_eq!(
        re["archiveFileName"],
        "ks.db.audit.00000000000000000001-00000000000000000012.jsonl"
    );
    assert_eq!(
        (
            re["firstRecordNumber"].as_u64(),
            re["lastRecordNumber"].as_u64()
        ),
        (Some(1), Some(12))
    );
    assert_eq!(re["archiveBytes"].as_u64(), Some(r.bytes));
    assert_eq!(re["archiveSha256"], r.sha256.as_str());
    let last_chain = serde_json::from_str::<Value>(
        std::str::from_utf8(&archived)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap()["strongroomChain"]
        .clone();
    assert_eq!(re["chainValue"], last_chain);
    assert_eq!(checkpoint_count(&f.path), 13);

    // The current file verifies alone, from the base its first line states.
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(
        (v.first_record, v.records, v.checkpoint_records, v.fault),
        (13, 13, 13, None)
    );
    encrypts(&f.ks, &key, 3);
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.first_record, v.records, v.fault), (13, 16, None));
    // Read only too.
    let ro = Keystore::verify_audit_log_read_only(
        &f.path,
        root_source(&ROOT),
        strongroom::OpenOptions::default(),
    )
    .unwrap();
    assert_eq!((ro.first_record, ro.records, ro.fault), (13, 16, None));
    // audit_events lists the current file.
    let names: Vec<String> =
        f.ks.audit_events(&strongroom::AuditFilter::default())
            .unwrap()
            .iter()
            .map(|e| e["eventName"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(names, ["RotateAuditLog", "Encrypt", "Encrypt", "Encrypt"]);

    // A second rotation; both archives and the current file verify.
    let r2 = f.ks.rotate_audit_log().unwrap();
    assert_eq!((r2.first_record, r2.last_record), (13, 16));
    let archives = archives_beside(&log);
    assert_eq!(archives, [r.archive.clone(), r2.archive.clone()]);
    let v = assert_intact(&f.ks, &archives);
    assert_eq!(v.archives[0].first_record, 1);
    assert_eq!(v.archives[1].last_record, 16);
    assert_eq!(v.first_record, 17);
    // Any contiguous run up to the current file verifies.
    assert_intact(&f.ks, &archives[1..]);
    let ro = Keystore::verify_audit_log_read_only_with_archives(
        &f.path,
        root_source(&ROOT),
        strongroom::OpenOptions::default(),
        &archives,
    )
    .unwrap();
    assert_eq!((ro.fault, ro.archive_fault), (None, None));

    // Archives moved away or deleted do not stop the keystore.
    for a in &archives {
        std::fs::remove_file(a).unwrap();
    }
    encrypts(&f.ks, &key, 2);
    let reopened = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    encrypts(&reopened, &key, 2);
    let v = reopened.verify_audit_log().unwrap();
    assert_eq!((v.first_record, v.records, v.fault), (17, 21, None));
}

#[test]
fn an_empty_log_is_not_rotated_and_a_dry_run_handle_refuses() {
    let f = fixture();
    let e = f.ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInvalidStateException, "{e}");
    let e = f.ks.dry_run().rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    // Both refusals are audited, in the current file.
    let failed: Vec<String> =
        f.ks.audit_events(&strongroom::AuditFilter {
            event_name: Some("RotateAuditLog".into()),
            ..Default::default()
        })
        .unwrap()
        .iter()
        .map(|e| e["errorCode"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed, ["KMSInvalidStateException", "ValidationException"]);
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.first_record, v.records, v.fault), (1, 2, None));
    // A log that starts with a refused rotation's record is not a rotated log.
    let r = f.ks.rotate_audit_log().unwrap();
    assert_eq!((r.first_record, r.last_record), (1, 2));
    assert_intact(&f.ks, &[r.archive]);
}

/// Three small archives (records 1–2, 3–5, 6–8) and the current file.
fn rotated_three_times() -> (Fixture, Vec<PathBuf>) {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let mut archives = vec![f.ks.rotate_audit_log().unwrap().archive];
    encrypts(&f.ks, &key, 2);
    archives.push(f.ks.rotate_audit_log().unwrap().archive);
    encrypts(&f.ks, &key, 2);
    archives.push(f.ks.rotate_audit_log().unwrap().archive);
    encrypts(&f.ks, &key, 1);
    assert_intact(&f.ks, &archives);
    (f, archives)
}

fn writable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[track_caller]
fn archive_fault(ks: &Keystore, archives: &[PathBuf]) -> strongroom::ArchiveFault {
    let v = ks.verify_audit_log_archives(archives).unwrap();
    assert_eq!(v.fault, None, "the current file is intact");
    v.archive_fault.expect("the archives' fault is reported")
}

#[test]
fn every_flipped_byte_of_an_archive_is_detected() {
    let (f, archives) = rotated_three_times();
    let first = &archives[0];
    writable(first);
    let good = std::fs::read(first).unwrap();
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        std::fs::write(first, &bad).unwrap();
        let fault = archive_fault(&f.ks, &archives);
        assert_eq!(&fault.file, first, "byte {i}: {fault}");
        let record = fault.record.unwrap();
        assert!((1..=3).contains(&record), "byte {i}: {fault}");
    }
    std::fs::write(first, &good).unwrap();
    assert_intact(&f.ks, &archives);
}

#[test]
fn truncated_extended_reordered_and_missing_archives_are_detected() {
    let (f, archives) = rotated_three_times();
    let middle = &archives[1];
    writable(middle);
    let good = std::fs::read(middle).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);

    // The last record cut off: the chain of what is left verifies, the
    // next file's rotation record says more.
    std::fs::write(middle, format!("{}\n{}\n", lines[0], lines[1])).unwrap();
    let fault = archive_fault(&f.ks, &archives);
    assert_eq!((&fault.file, fault.record), (middle, Some(5)), "{fault}");
    assert!(fault.reason.contains("truncated"), "{fault}");
    // Cut mid-line: the torn record.
    std::fs::write(middle, &good[..good.len() - 10]).unwrap();
    let fault = archive_fault(&f.ks, &archives);
    assert_eq!((&fault.file, fault.record), (middle, Some(5)), "{fault}");
    // Extended by a line of another archive: a chain fault at record 6.
    let other = std::fs::read_to_string(&archives[2]).unwrap();
    std::fs::write(middle, format!("{text}{}\n", other.lines().nth(1).unwrap())).unwrap();
    let fault = archive_fault(&f.ks, &archives);
    assert_eq!((&fault.file, fault.record), (middle, Some(6)), "{fault}");
    // Bytes appended after the last line (not a record).
    std::fs::write(middle, format!("{text}\n")).unwrap();
    let fault = archive_fault(&f.ks, &archives);
    assert_eq!(&fault.file, middle, "{fault}");
    std::fs::write(middle, &good).unwrap();
    assert_intact(&f.ks, &archives);

    // A missing middle archive: the third names the second.
    let fault = archive_fault(&f.ks, &[archives[0].clone(), archives[2].clone()]);
    assert_eq!(fault.file, archives[2], "{fault}");
    assert!(fault.reason.contains("missing or out of order"), "{fault}");
    // Reordered.
    let fault = archive_fault(
        &f.ks,
        &[
            archives[1].clone(),
            archives[0].clone(),
            archives[2].clone(),
        ],
    );
    assert_eq!(fault.file, archives[0], "{fault}");
    assert!(fault.reason.contains("missing or out of order"), "{fault}");
    // The last archive not given: the current file names the third.
    let fault = archive_fault(&f.ks, &archives[..2]);
    assert_eq!(fault.file, f.ks.audit_log_path(), "{fault}");
    // An archive that is gone.
    let fault = archive_fault(&f.ks, &[f.dir.path().join("nope.jsonl")]);
    assert!(fault.reason.contains("cannot be read"), "{fault}");
}

#[test]
fn other_handles_continue_in_the_new_file() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let clone = f.ks.clone();
    encrypts(&other, &key, 5);
    encrypts(&clone, &key, 5);
    let r = f.ks.rotate_audit_log().unwrap();
    assert_eq!(r.last_record, 12);
    // Both hold the old file open: they notice it was rotated.
    encrypts(&other, &key, 3);
    encrypts(&clone, &key, 3);
    other.create_alias("alias/after-rotation", &key).unwrap();
    other.flush_audit_log().unwrap();
    // Rotation record, six Encrypts, CreateAlias's intent and record.
    assert_eq!(lines_of(f.ks.audit_log_path()).len(), 9);
    assert_eq!(
        lines_of(&r.archive).len(),
        12,
        "nothing landed in the archive"
    );
    assert_eq!(checkpoint_count(&f.path), 21);
    assert_intact(&other, std::slice::from_ref(&r.archive));
    // The other handle rotates; the first continues.
    other.rotate_audit_log().unwrap();
    encrypts(&f.ks, &key, 1);
    assert_intact(&f.ks, &archives_beside(f.ks.audit_log_path()));
}

#[test]
fn a_log_replaced_by_anyone_else_still_stops_every_operation() {
    let (f, archives) = rotated_three_times();
    let key = new_key(&f.ks).key_id;
    let log = f.ks.audit_log_path().to_path_buf();
    let good = std::fs::read(&log).unwrap();
    let stopped = |what: &str| {
        let e = try_encrypt(&f.ks, &key, b"x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{what}");
        assert!(
            e.message().contains("no longer holds the records"),
            "{what}: {e}"
        );
        let fresh = Keystore::open(&f.path, root_source(&ROOT))
            .and_then(|ks| try_encrypt(&ks, &key, b"x").map(|_| ()));
        assert!(fresh.is_err(), "{what}: a new handle runs");
    };
    // An archive put back in the log's place.
    let last = std::fs::read(&archives[2]).unwrap();
    std::fs::remove_file(&log).unwrap();
    std::fs::write(&log, &last).unwrap();
    stopped("an archive put back");
    // The current file's rotation record alone (the records after it cut).
    let first_line = good.split(|&b| b == b'\n').next().unwrap();
    let mut alone = first_line.to_vec();
    alone.push(b'\n');
    std::fs::remove_file(&log).unwrap();
    std::fs::write(&log, &alone).unwrap();
    stopped("the records after the rotation record cut");
    // A file starting with a rotation record that claims to continue
    // exactly from the sealed checkpoint but was not written with the
    // chain key (its chain value does not verify).
    let text = String::from_utf8(good.clone()).unwrap();
    let count = checkpoint_count(&f.path);
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let mut rec: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    rec["responseElements"]["lastRecordNumber"] = count.into();
    rec["responseElements"]["chainValue"] = last["strongroomChain"].clone();
    let forged = strongroom::core::audit::record_line(&rec);
    assert!(forged.contains(&format!("\"lastRecordNumber\":{count}")));
    std::fs::remove_file(&log).unwrap();
    std::fs::write(&log, format!("{forged}\n")).unwrap();
    stopped("a forged rotation record");
    // Deleted.
    std::fs::remove_file(&log).unwrap();
    stopped("deleted");
    // Restored: everything runs again.
    std::fs::write(&log, &good).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    assert_intact(&f.ks, &archives);
}

/// Runs [`child_process_entry`] in a new process of this test binary:
/// `what` is `encrypt:<n>` (n Encrypts, then the handle dropped),
/// `crash:<step>` (a rotation that aborts after step `step`) or `rss:`
/// (a rotation's memory measured, [`measure_rotation_memory`]).
fn spawn_child(db: &Path, key_id: &str, what: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_entry", "--ignored", "--quiet"])
        .env("STRONGROOM_ROTATION_CHILD_DB", db)
        .env("STRONGROOM_ROTATION_CHILD_KEY", key_id)
        .env("STRONGROOM_ROTATION_CHILD_DO", what)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The child side of [`spawn_child`] (ignored when run directly).
#[test]
#[ignore = "entry point of the child processes the other tests spawn"]
fn child_process_entry() {
    let Ok(db) = std::env::var("STRONGROOM_ROTATION_CHILD_DB") else {
        return;
    };
    let key = std::env::var("STRONGROOM_ROTATION_CHILD_KEY").unwrap();
    let what = std::env::var("STRONGROOM_ROTATION_CHILD_DO").unwrap();
    let ks = Keystore::open(&db, root_source(&ROOT)).unwrap();
    match what.split_once(':').unwrap() {
        ("encrypt", n) => encrypts(&ks, &key, n.parse().unwrap()),
        ("rss", _) => measure_rotation_memory(&ks, Path::new(&db)),
        ("crash", step) => {
            strongroom::test_hooks::crash_rotation_after(step.parse().unwrap());
            let _ = ks.rotate_audit_log();
            unreachable!("the rotation aborts the process");
        }
        _ => panic!("{what}"),
    }
}

#[test]
fn a_crash_between_any_two_steps_of_a_rotation_loses_nothing() {
    // 7: the records copied without the lock, before it is taken again.
    for step in [1, 7, 2, 3, 4, 5, 6u32] {
        let f = fixture();
        let key = new_key(&f.ks).key_id;
        encrypts(&f.ks, &key, 4);
        f.ks.flush_audit_log().unwrap();
        let status = spawn_child(&f.path, &key, &format!("crash:{step}"))
            .wait()
            .unwrap();
        assert!(!status.success(), "step {step}: the child aborts");
        // The child's own open is not audited; 6 records before.
        let committed = matches!(step, 5 | 6);
        let log = f.ks.audit_log_path().to_path_buf();
        let first = serde_json::from_str::<Value>(&lines_of(&log)[0]).unwrap();
        assert_eq!(
            first["eventName"] == "RotateAuditLog",
            committed,
            "step {step}: {first}"
        );
        if step == 5 {
            assert_eq!(
                checkpoint_count(&f.path),
                6,
                "step {step}: not checkpointed yet"
            );
        }
        // The handle that held the old file open, and a new one, continue.
        encrypts(&f.ks, &key, 1);
        let fresh = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
        encrypts(&fresh, &key, 1);
        let v = fresh.verify_audit_log().unwrap();
        let expected = 6 + u64::from(committed) + 2;
        assert_eq!(
            (v.records, v.checkpoint_records, v.fault.clone()),
            (expected, expected, None),
            "step {step}: {v:?}"
        );
        assert_eq!(v.first_record, if committed { 7 } else { 1 }, "step {step}");
        // The next rotation works, and leaves no stale archive of this segment.
        let r = fresh.rotate_audit_log().unwrap();
        let archives = archives_beside(&log);
        if committed {
            assert_eq!(archives.len(), 2, "step {step}: {archives:?}");
            assert_eq!(archives[1], r.archive);
        } else {
            assert_eq!(archives, std::slice::from_ref(&r.archive), "step {step}");
            assert_eq!(r.first_record, 1);
        }
        assert_intact(&fresh, &archives);
        let leftovers = temporaries(f.dir.path());
        assert!(leftovers.is_empty(), "step {step}: {leftovers:?}");
    }
}

/// A rotation of a log that is a symbolic link writes the next log beside
/// the file the link names (`<that file>.rotating`); `keystore_files` (the
/// files no output may replace, and that a failed create removes) lists
/// that path too: a rotation killed after writing it leaves it there.
#[test]
fn keystore_files_list_the_next_log_beside_a_linked_logs_file() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 2);
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    drop(f.ks);
    let elsewhere = tempfile::tempdir().unwrap();
    let real = elsewhere.path().join("elsewhere.jsonl");
    std::fs::rename(&log, &real).unwrap();
    std::os::unix::fs::symlink(&real, &log).unwrap();
    let status = spawn_child(&f.path, &key, "crash:4").wait().unwrap();
    assert!(!status.success(), "the child aborts");
    let next = elsewhere.path().join("elsewhere.jsonl.rotating");
    assert!(next.exists(), "the rotation wrote {}", next.display());
    let next = std::fs::canonicalize(&next).unwrap();
    let files = strongroom::keystore_files(&f.path);
    assert!(
        files
            .iter()
            .any(|(p, what)| *p == next && what.contains("next audit log")),
        "{} not in {files:?}",
        next.display()
    );
    // So no output may be written there (the CLI's and bindings' check).
    let refused =
        strongroom::own_files::refuse_keystore_file(&next, "the output", &files).unwrap_err();
    assert!(refused.message().contains("next audit log"), "{refused}");
    // The keystore opens, and the next rotation replaces it.
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let r = ks.rotate_audit_log().unwrap();
    assert_intact(&ks, &[r.archive]);
    assert!(!next.exists());
}

/// The rotation copies the records up to the end it found without holding
/// the log's lock: another handle and the rotating handle itself append
/// (and flush) during the copy, without waiting for it; what they appended
/// is copied under the lock after, into the same archive, and everything
/// verifies. (Before, the lock was held for the whole copy: these appends
/// would wait for the rotation, here from inside it, for ever.)
#[test]
fn other_handles_append_while_the_rotation_copies() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 5);
    f.ks.flush_audit_log().unwrap();
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let rounds = std::rc::Rc::new(std::cell::Cell::new(0));
    {
        let (other, same, key, rounds) = (other.clone(), f.ks.clone(), key.clone(), rounds.clone());
        strongroom::test_hooks::set_rotation_copied(Some(Box::new(move || {
            encrypts(&other, &key, 3);
            other.flush_audit_log().unwrap();
            encrypts(&same, &key, 2);
            same.flush_audit_log().unwrap();
            rounds.set(rounds.get() + 1);
        })));
    }
    let r = f.ks.rotate_audit_log();
    strongroom::test_hooks::set_rotation_copied(None);
    let r = r.unwrap();
    assert_eq!(rounds.get(), 1);
    // CreateKey's 2 records, 5 Encrypts, then 5 more during the copy.
    assert_eq!((r.first_record, r.last_record), (1, 12), "{r:?}");
    let log = f.ks.audit_log_path().to_path_buf();
    assert_eq!(lines_of(&r.archive).len(), 12);
    assert_eq!(
        lines_of(&log).len(),
        1,
        "the new log holds the rotation record"
    );
    encrypts(&other, &key, 1);
    encrypts(&f.ks, &key, 1);
    f.ks.flush_audit_log().unwrap();
    other.flush_audit_log().unwrap();
    let v = assert_intact(&f.ks, std::slice::from_ref(&r.archive));
    assert_eq!(v.records, 15);
    let leftovers = temporaries(f.dir.path());
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A rotation started by another handle while one copies the same records
/// (its `.partial` file locked) waits for it without taking its file
/// away, then rotates what is left: the first one's rotation record.
#[test]
fn a_second_rotation_waits_for_the_copy_of_the_first() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 5);
    f.ks.flush_audit_log().unwrap();
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let second = std::rc::Rc::new(std::cell::RefCell::new(None));
    {
        let second = second.clone();
        strongroom::test_hooks::set_rotation_copied(Some(Box::new(move || {
            let other = other.clone();
            *second.borrow_mut() = Some(std::thread::spawn(move || other.rotate_audit_log()));
            // Time for the other rotation to find this one's file (either
            // way the outcome below is the same).
            std::thread::sleep(std::time::Duration::from_millis(200));
        })));
    }
    let r = f.ks.rotate_audit_log();
    strongroom::test_hooks::set_rotation_copied(None);
    let r = r.unwrap();
    let r2 = second.borrow_mut().take().unwrap().join().unwrap().unwrap();
    assert_eq!((r.first_record, r.last_record), (1, 7), "{r:?}");
    assert_eq!((r2.first_record, r2.last_record), (8, 8), "{r2:?}");
    let log = f.ks.audit_log_path().to_path_buf();
    let archives = archives_beside(&log);
    assert_eq!(archives, vec![r.archive, r2.archive]);
    let v = assert_intact(&f.ks, &archives);
    assert_eq!(v.records, 9);
}

/// Rotations started together from several handles (each copying without
/// the lock) while others append: one copy of every record, in one chain,
/// and no temporary file left. A rotation that finds another copying the
/// same records waits for it, then rotates what is left.
#[test]
fn concurrent_rotations_and_appends_keep_one_chain() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let big = "v".repeat(3000);
    let c = ctx(&[("k", big.as_str())]);
    for _ in 0..300 {
        encrypt(&f.ks, &key, b"x", &c);
    }
    f.ks.flush_audit_log().unwrap();
    let handles: Vec<Keystore> = (0..4)
        .map(|_| Keystore::open(&f.path, root_source(&ROOT)).unwrap())
        .collect();
    let rotated = std::thread::scope(|s| {
        let appenders: Vec<_> = handles[..2]
            .iter()
            .map(|h| {
                let key = key.clone();
                s.spawn(move || {
                    encrypts(h, &key, 100);
                    h.flush_audit_log().unwrap();
                })
            })
            .collect();
        let rotators: Vec<_> = handles[2..]
            .iter()
            .chain([&f.ks])
            .map(|h| {
                s.spawn(move || {
                    for _ in 0..2 {
                        h.rotate_audit_log().unwrap();
                    }
                    2u64
                })
            })
            .collect();
        for a in appenders {
            a.join().unwrap();
        }
        rotators.into_iter().map(|r| r.join().unwrap()).sum::<u64>()
    });
    assert_eq!(rotated, 6);
    let log = f.ks.audit_log_path().to_path_buf();
    let archives = archives_beside(&log);
    assert_eq!(archives.len() as u64, rotated, "{archives:?}");
    let v = assert_intact(&f.ks, &archives);
    // CreateKey's 2, 300 + 200 Encrypts, one record per rotation.
    let expected = 2 + 300 + 200 + rotated;
    assert_eq!(v.records, expected);
    let mut all = 0;
    for a in archives.iter().chain([&log]) {
        all += lines_of(a).len() as u64;
    }
    assert_eq!(all, expected, "every record is in exactly one file");
    let leftovers = temporaries(f.dir.path());
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn processes_appending_while_another_rotates_keep_one_chain() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let children: Vec<Child> = (0..2)
        .map(|_| spawn_child(&f.path, &key, "encrypt:300"))
        .collect();
    let mut rotations = 0u64;
    for _ in 0..6 {
        f.ks.rotate_audit_log().unwrap();
        rotations += 1;
        encrypts(&f.ks, &key, 5);
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let log = f.ks.audit_log_path().to_path_buf();
    let archives = archives_beside(&log);
    assert_eq!(archives.len() as u64, rotations);
    let v = assert_intact(&f.ks, &archives);
    // CreateKey's two records, 600 Encrypts of the children, 30 of this
    // process, one record per rotation: none lost.
    let expected = 2 + 600 + 30 + rotations;
    assert_eq!(v.records, expected);
    let mut all = 0;
    for a in archives.iter().chain([&log]) {
        all += lines_of(a).len() as u64;
    }
    assert_eq!(all, expected, "every record is in exactly one file");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    /// Records before and after any sequence of rotations all verify, and
    /// each is in exactly one file.
    #[test]
    fn records_around_rotations_all_verify(runs in proptest::collection::vec(0usize..6, 1..6)) {
        let f = fixture();
        let key = new_key(&f.ks).key_id;
        let mut expected = 2u64;
        for n in &runs {
            encrypts(&f.ks, &key, *n);
            expected += *n as u64;
            let r = f.ks.rotate_audit_log().unwrap();
            prop_assert_eq!(r.last_record, expected);
            expected += 1;
        }
        let archives = archives_beside(f.ks.audit_log_path());
        prop_assert_eq!(archives.len(), runs.len());
        let v = assert_intact(&f.ks, &archives);
        prop_assert_eq!(v.records, expected);
        prop_assert_eq!(v.first_record, expected);
    }
}

/// A rotation removes what a crashed rotation of the same records left —
/// `.partial` files of its segment, and archives of its segment that are
/// byte for byte a prefix of the current log (copies of records it still
/// holds) — and nothing else, whatever the keystore's file name (here with
/// a `-`): a file of the segment that is not such a copy (an archive of
/// another history), longer than the log, or a symbolic link is kept. A
/// copy of the whole log at the archive's own name (a crashed attempt that
/// named it) is reused.
#[test]
fn a_rotation_removes_only_leftovers_of_its_own_segment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my-keys.db");
    let ks = Keystore::create(
        &path,
        root_source(&ROOT),
        strongroom::CreateOptions::default(),
    )
    .unwrap();
    let key = new_key(&ks).key_id;
    let log = ks.audit_log_path().to_path_buf();
    // A crashed rotation's archive of records 1 to 2.
    let two = std::fs::read(&log).unwrap();
    encrypts(&ks, &key, 1);
    ks.flush_audit_log().unwrap();
    let three = std::fs::read(&log).unwrap();
    let d = dir.path();
    let name = |first: u64, last: u64, ext: &str| {
        format!("my-keys.db.audit.{first:020}-{last:020}.jsonl{ext}")
    };
    let stale: Vec<(String, Vec<u8>)> = vec![
        (name(1, 2, ""), two.clone()),
        (name(1, 3, ".partial"), b"x\n".to_vec()),
        (name(1, 9, ".partial"), b"x".to_vec()),
    ];
    let mut longer = three.clone();
    longer.extend_from_slice(&two);
    let kept: Vec<(String, Vec<u8>)> = vec![
        ("my-notes.jsonl".into(), b"x\n".to_vec()),
        (name(4, 9, ""), two.clone()),
        (
            "other.db.audit.00000000000000000001-00000000000000000003.jsonl".into(),
            b"x\n".to_vec(),
        ),
        (name(1, 4, ""), b"x\n".to_vec()),
        (name(1, 5, ""), longer),
        (name(1, 7, ""), Vec::new()),
    ];
    for (n, bytes) in stale.iter().chain(&kept) {
        std::fs::write(d.join(n), bytes).unwrap();
    }
    let link = d.join(name(1, 6, ""));
    std::os::unix::fs::symlink(&log, &link).unwrap();
    // The archive's own name, taken by a copy of the whole log.
    std::fs::write(d.join(name(1, 3, "")), &three).unwrap();
    let r = ks.rotate_audit_log().unwrap();
    assert_eq!(r.archive, d.join(name(1, 3, "")));
    assert_eq!(std::fs::read(&r.archive).unwrap(), three);
    for (n, _) in &stale {
        assert!(!d.join(n).exists(), "{n} removed");
    }
    for (n, bytes) in &kept {
        assert_eq!(&std::fs::read(d.join(n)).unwrap(), bytes, "{n} kept");
    }
    assert!(std::fs::symlink_metadata(&link).is_ok(), "the link is kept");
    assert!(log.exists());
    assert_intact(&ks, &[r.archive]);
}

/// The names of the `.partial` files in `dir`.
fn partials_in(dir: &Path) -> Vec<String> {
    files_ending(dir, &[".partial"])
}

/// A file at the name a rotation would give its archive that is not a
/// copy of the log's records (an archive of another history, e.g. left
/// from before the keystore was restored from a backup) is never replaced:
/// the rotation is refused (`KMSInternalException` naming the file),
/// deletes nothing, leaves no temporary file and the log's records where
/// they were; once the file is moved away a rotation runs (review R4;
/// before, the archive was renamed over it).
#[test]
fn a_rotation_never_replaces_a_file_at_its_archive_name() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 3);
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let before = std::fs::read(&log).unwrap();
    let taken = f
        .dir
        .path()
        .join("ks.db.audit.00000000000000000001-00000000000000000005.jsonl");
    let other = b"an archive of another history\n";
    std::fs::write(&taken, other).unwrap();
    let e = f.ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(
        e.message().contains(&taken.display().to_string())
            && e.message().contains("move that file away"),
        "{e}"
    );
    assert_eq!(std::fs::read(&taken).unwrap(), other);
    let now = std::fs::read(&log).unwrap();
    assert!(now.starts_with(&before), "the log's records are in place");
    assert!(!lines_of(&log)[0].contains("RotateAuditLog"));
    assert!(partials_in(f.dir.path()).is_empty());
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.first_record, v.fault), (1, None));
    // Moved away: the rotation runs (records 1 to 6: the refusal is audited).
    let moved = f.dir.path().join("moved-away.jsonl");
    std::fs::rename(&taken, &moved).unwrap();
    let r = f.ks.rotate_audit_log().unwrap();
    assert_eq!((r.first_record, r.last_record), (1, 6));
    assert_eq!(std::fs::read(&moved).unwrap(), other);
    assert!(partials_in(f.dir.path()).is_empty());
    assert_intact(&f.ks, &[r.archive]);
}

/// A real archive of another history at another name of the same segment
/// (same first record, another last record, bytes that are not a prefix
/// of the current log: here another keystore's, as after a restore from a
/// backup) survives a rotation (review R4; before, every archive of the
/// segment was deleted).
#[test]
fn a_rotation_keeps_archives_of_another_history() {
    let g = fixture();
    let their_key = new_key(&g.ks).key_id;
    encrypts(&g.ks, &their_key, 1);
    let theirs = g.ks.rotate_audit_log().unwrap();
    assert_eq!((theirs.first_record, theirs.last_record), (1, 3));
    let theirs_bytes = std::fs::read(&theirs.archive).unwrap();

    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 5);
    f.ks.flush_audit_log().unwrap();
    let ours = std::fs::read(f.ks.audit_log_path()).unwrap();
    assert!(!ours.starts_with(&theirs_bytes), "not a prefix");
    let planted = f.dir.path().join(theirs.archive.file_name().unwrap());
    std::fs::write(&planted, &theirs_bytes).unwrap();
    let r = f.ks.rotate_audit_log().unwrap();
    assert_eq!((r.first_record, r.last_record), (1, 7));
    assert_ne!(r.archive, planted);
    assert_eq!(std::fs::read(&planted).unwrap(), theirs_bytes, "kept");
    assert_eq!(std::fs::read(&r.archive).unwrap(), ours);
    assert_intact(&f.ks, &[r.archive]);
}

/// An archive path that is not a regular file — a FIFO (whose open for
/// reading would wait for a writer), `/dev/zero` (whose read never ends),
/// a directory — is reported as such without blocking or reading it
/// (review R1).
#[test]
fn an_archive_that_is_not_a_regular_file_is_refused_without_reading_it() {
    let (f, archives) = rotated_three_times();
    let fifo = f.dir.path().join("fifo.jsonl");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for p in [fifo, PathBuf::from("/dev/zero"), f.dir.path().to_path_buf()] {
        let fault = archive_fault(&f.ks, std::slice::from_ref(&p));
        assert_eq!((&fault.file, fault.record), (&p, None), "{fault}");
        assert!(fault.reason.contains("is not a regular file"), "{fault}");
        let run = [archives[0].clone(), p.clone(), archives[2].clone()];
        let fault = archive_fault(&f.ks, &run);
        assert_eq!(fault.file, p, "{fault}");
        assert!(fault.reason.contains("is not a regular file"), "{fault}");
    }
    assert_intact(&f.ks, &archives);
}

/// The peak resident set size of this process (`VmHWM`, bytes), first
/// reset to the current resident size (`clear_refs` 5) when the kernel
/// allows it.
fn peak_rss_after_reset() -> (u64, bool) {
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    (vm_hwm(), reset)
}

fn vm_hwm() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap()
        .to_owned();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// The child side of
/// [`rotating_and_verifying_a_large_log_does_not_hold_it_in_memory`]:
/// verifies the current log, rotates, then verifies the archive, writing
/// the peak RSS growth of each to `<db>.rss`.
fn measure_rotation_memory(ks: &Keystore, db: &Path) {
    let (before, _) = peak_rss_after_reset();
    let v = ks.verify_audit_log().unwrap();
    let current = vm_hwm().saturating_sub(before);
    assert_eq!(v.fault, None);
    let (before, _) = peak_rss_after_reset();
    let filter = strongroom::AuditFilter {
        event_name: Some("Sign".into()),
        ..Default::default()
    };
    assert!(ks.audit_events(&filter).unwrap().is_empty());
    let events = vm_hwm().saturating_sub(before);
    let (before, reset) = peak_rss_after_reset();
    let r = ks.rotate_audit_log().unwrap();
    let rotate = vm_hwm().saturating_sub(before);
    let (before, _) = peak_rss_after_reset();
    let v = ks
        .verify_audit_log_archives(std::slice::from_ref(&r.archive))
        .unwrap();
    let verify = vm_hwm().saturating_sub(before);
    assert_eq!((v.fault, v.archive_fault), (None, None));
    std::fs::write(
        db.with_extension("rss"),
        format!("{rotate} {verify} {reset} {before} {current} {events}"),
    )
    .unwrap();
}

/// A rotation of a log of 12 MiB and more streams it (review M1): the
/// peak resident memory of the process that rotates grows by well under
/// the log's size (it read the log into one buffer, and each archive
/// checked into another), and so does that of verifying the archive, of
/// verifying the current log, and of listing its events that match a
/// filter (both read it whole before). A
/// memory bound measured in a child process (`VmHWM`), not a timing.
#[test]
fn rotating_and_verifying_a_large_log_does_not_hold_it_in_memory() {
    const LOG: u64 = 12 << 20;
    const BOUND: u64 = 4 << 20;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let big = "v".repeat(4000);
    let c = ctx(&[("k", big.as_str())]);
    let log = f.ks.audit_log_path().to_path_buf();
    while std::fs::metadata(&log).unwrap().len() < LOG {
        for _ in 0..100 {
            encrypt(&f.ks, &key, b"x", &c);
        }
    }
    f.ks.flush_audit_log().unwrap();
    let len = std::fs::metadata(&log).unwrap().len();
    let out = spawn_child(&f.path, &key, "rss:")
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let figures = std::fs::read_to_string(f.path.with_extension("rss")).unwrap();
    let n: Vec<&str> = figures.split_whitespace().collect();
    let (rotate, verify): (u64, u64) = (n[0].parse().unwrap(), n[1].parse().unwrap());
    let current: u64 = n[4].parse().unwrap();
    let events: u64 = n[5].parse().unwrap();
    eprintln!(
        "log {len} bytes; peak RSS growth: audit_events matching none {events} bytes, \
         verification of the current log {current} bytes, \
         rotation {rotate} bytes, archive verification {verify} bytes (VmHWM reset: {}; RSS \
         before verification {} bytes)",
        n[2], n[3]
    );
    assert!(
        events < BOUND,
        "audit_events matching no record grew the peak RSS by {events} bytes"
    );
    assert!(
        current < BOUND,
        "the verification of the current log grew the peak RSS by {current} bytes"
    );
    assert!(
        rotate < BOUND,
        "the rotation grew the peak RSS by {rotate} bytes"
    );
    assert!(
        verify < BOUND,
        "the verification grew the peak RSS by {verify} bytes"
    );
    let archives = archives_beside(&log);
    assert_eq!(archives.len(), 1);
    assert_eq!(std::fs::metadata(&archives[0]).unwrap().len(), len);
    assert_intact(&f.ks, &archives);
}

/// `OpenOptions::audit_rotate_bytes`: a batch that leaves the log at or
/// past the size starts a background rotation, recorded as a service
/// event; out-of-range sizes are refused.
#[test]
fn the_log_rotates_itself_past_the_size_given() {
    use strongroom::{OpenOptions, AUDIT_ROTATE_MAX_BYTES, AUDIT_ROTATE_MIN_BYTES};
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for bad in [0, AUDIT_ROTATE_MIN_BYTES - 1, AUDIT_ROTATE_MAX_BYTES + 1] {
        let e = Keystore::open_with(
            &f.path,
            root_source(&ROOT),
            OpenOptions::default().audit_rotate_bytes(bad),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}: {e}");
        assert!(
            e.message().contains(
                "the size at which the audit log is rotated must be 65536 to 1073741824 bytes"
            ),
            "{e}"
        );
    }
    let ks = auto_rotating(&f.path);
    let log = ks.audit_log_path().to_path_buf();
    let rotated = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_owned))
            .is_some_and(|l| l.contains("\"eventName\":\"RotateAuditLog\""))
    };
    // One call at a time until the log passes the size (or was already
    // rotated by the thread the crossing call started): one rotation.
    let mut calls = 0u64;
    while !rotated(&log) && std::fs::metadata(&log).unwrap().len() < AUDIT_ROTATE_MIN_BYTES {
        encrypts(&ks, &key, 1);
        calls += 1;
    }
    // Liveness, not speed: the background rotation runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !rotated(&log) {
        assert!(
            std::time::Instant::now() < deadline,
            "the log was never rotated"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let first: Value = serde_json::from_str(&lines_of(&log)[0]).unwrap();
    assert_eq!(first["eventType"], "AwsServiceEvent", "{first}");
    assert_eq!(
        first["userIdentity"]["invokedBy"], "AWS Internal",
        "{first}"
    );
    encrypts(&ks, &key, 1);
    let archives = archives_beside(&log);
    assert_eq!(archives.len(), 1, "{archives:?}");
    let v = assert_intact(&ks, &archives);
    // CreateKey's two records, the Encrypts, the rotation record.
    assert_eq!(v.records, 2 + calls + 1 + 1);
    assert!(std::fs::metadata(&archives[0]).unwrap().len() >= AUDIT_ROTATE_MIN_BYTES);
}

/// The last handle dropped right after the call that crossed the size
/// waits for the automatic rotation: a process that then exits (a CLI
/// command) does not cut it short.
#[test]
fn dropping_the_last_handle_waits_for_the_automatic_rotation() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let ks = auto_rotating(&f.path);
    let log = ks.audit_log_path().to_path_buf();
    fill_to_rotation_size(&ks, &key, &log);
    drop(ks);
    let first: Value = serde_json::from_str(&lines_of(&log)[0]).unwrap();
    assert_eq!(first["eventName"], "RotateAuditLog", "{first}");
    assert_intact(&f.ks, &archives_beside(&log));
}

/// A log whose checkpointed records no longer verify (one byte of record 2
/// flipped, or record 2 blanked with spaces or with newlines) is not
/// rotated: the rotation fails with `KMSInternalException`, archives
/// nothing, and `verify_audit_log` still reports the fault (a rotation
/// that sealed over it would make the new file verify clean; review15 H1).
#[test]
fn a_log_that_does_not_verify_is_not_rotated() {
    for how in ["flip", "spaces", "newlines"] {
        let f = fixture();
        let key = new_key(&f.ks).key_id;
        for _ in 0..5 {
            try_encrypt(&f.ks, &key, b"x").unwrap();
        }
        f.ks.flush_audit_log().unwrap();
        let log = f.ks.audit_log_path().to_path_buf();
        let mut bytes = std::fs::read(&log).unwrap();
        let nl1 = bytes.iter().position(|&b| b == b'\n').unwrap();
        let nl2 = nl1 + 1 + bytes[nl1 + 1..].iter().position(|&b| b == b'\n').unwrap();
        match how {
            "flip" => bytes[nl1 + 21] ^= 1,
            "spaces" => bytes[nl1 + 1..nl2].fill(b' '),
            _ => bytes[nl1 + 1..nl2].fill(b'\n'),
        }
        std::fs::write(&log, &bytes).unwrap();
        assert!(f.ks.verify_audit_log().unwrap().fault.is_some(), "{how}");
        let e = f.ks.rotate_audit_log().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{how}: {e}");
        assert!(e.to_string().contains("does not verify"), "{how}: {e}");
        let dir = log.parent().unwrap();
        let archives: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|d| d.ok())
            .filter(|d| {
                let n = d.file_name().to_string_lossy().into_owned();
                n.contains(".audit.0") && !n.ends_with(".audit.jsonl")
            })
            .collect();
        assert!(archives.is_empty(), "{how}: an archive was written");
        assert!(!lines_of(&log)[0].contains("RotateAuditLog"), "{how}");
        assert!(f.ks.verify_audit_log().unwrap().fault.is_some(), "{how}");
    }
}

/// `<log's archive of records 1 to 99>.partial`: a name of the first
/// segment's `.partial` files (any last record).
fn planted_partial(log: &Path) -> PathBuf {
    let mut p = strongroom::audit_archive_path(log, 1, 99).into_os_string();
    p.push(".partial");
    PathBuf::from(p)
}

/// Opens `path` (another open file description than any rotation's) and
/// takes its exclusive `flock`, held until the file is dropped.
#[allow(unsafe_code)]
fn flocked(path: &Path) -> std::fs::File {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::File::open(path).unwrap();
    // SAFETY: `flock` on a descriptor this function owns.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(r, 0, "flock");
    f
}

/// Holds `f` (and its lock) until told to drop it, or for `limit` at most
/// (so that a rotation that waits without end fails the test, not hangs it).
fn hold_until_told(f: std::fs::File, limit: std::time::Duration) -> std::sync::mpsc::Sender<()> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _ = rx.recv_timeout(limit);
        drop(f);
    });
    tx
}

/// A `.partial` file of the segment that cannot be opened (`EMFILE`...),
/// or a directory that cannot be read, fails the rotation with nothing
/// removed, where before either counted as stale: the file was deleted (it
/// may be another rotation's, still copying) or not seen (then a file at
/// the same name was removed to make this rotation's) — review of the
/// unlocked copy, finding 1. The log is left as it is; once the error is
/// gone, the rotation removes the stale file and runs.
#[test]
fn a_partial_that_cannot_be_checked_fails_the_rotation() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 3);
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let planted = planted_partial(&log);
    std::fs::write(&planted, b"a crashed rotation's copy").unwrap();
    strongroom::test_hooks::fail_next_partial_open();
    let e = f.ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains(&planted.display().to_string()), "{e}");
    assert!(planted.exists(), "not removed");
    strongroom::test_hooks::fail_next_partial_scan();
    let e = f.ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("reading the directory"), "{e}");
    assert!(planted.exists(), "not removed");
    assert!(!lines_of(&log)[0].contains("RotateAuditLog"));
    assert!(archives_beside(&log).is_empty());
    // Both refusals audited: records 1 to 7.
    let r = f.ks.rotate_audit_log().unwrap();
    assert_eq!((r.first_record, r.last_record), (1, 7), "{r:?}");
    assert!(!planted.exists(), "the stale file is removed");
    assert!(partials_in(f.dir.path()).is_empty());
    assert_intact(&f.ks, &[r.archive]);
}

/// A file put at a rotation's `.partial` name while it copies (as another
/// rotation that deleted it and made its own there would) is never named
/// as the archive: the rotation fails (`KMSInternalException` "… is no
/// longer the file this rotation copied …") and leaves that file alone,
/// the log not rotated; before, the other file (here half the log) was
/// linked as the archive and the rotation committed over the records it
/// lacked (review of the unlocked copy, finding 1).
#[test]
fn a_partial_replaced_during_the_copy_is_not_named() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 20);
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let before = std::fs::read(&log).unwrap();
    let dir = f.dir.path().to_path_buf();
    let replaced = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    {
        let (log, replaced) = (log.clone(), replaced.clone());
        strongroom::test_hooks::set_rotation_copied(Some(Box::new(move || {
            for n in partials_in(&dir) {
                let p = dir.join(n);
                std::fs::remove_file(&p).unwrap();
                let bytes = std::fs::read(&log).unwrap();
                std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
                replaced.borrow_mut().push(p);
            }
        })));
    }
    let r = f.ks.rotate_audit_log();
    strongroom::test_hooks::set_rotation_copied(None);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("is no longer the file"), "{e}");
    let replaced = replaced.borrow().clone();
    assert_eq!(replaced.len(), 1);
    assert!(replaced[0].exists(), "the other file is left alone");
    assert!(archives_beside(&log).is_empty(), "nothing named");
    assert!(std::fs::read(&log).unwrap().starts_with(&before));
    assert!(!lines_of(&log)[0].contains("RotateAuditLog"));
    // Unlocked, that file is stale: the next rotation removes it and runs.
    let r = f.ks.rotate_audit_log().unwrap();
    assert_eq!(r.first_record, 1);
    assert!(partials_in(f.dir.path()).is_empty());
    assert_intact(&f.ks, &[r.archive]);
}

/// A `.partial` file of the segment held locked by something that is not
/// a rotation (planted; or inherited by a child made by `fork()`) delays a
/// rotation 5 s at most: it then fails (`KMSInvalidStateException` naming
/// the file), audited, nothing removed; before, it waited as long as the
/// lock was held (review of the unlocked copy, finding 2). Unlocked, the
/// file is stale and the next rotation removes it.
#[test]
fn a_locked_partial_delays_a_rotation_at_most_5_s() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    encrypts(&f.ks, &key, 3);
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let planted = planted_partial(&log);
    std::fs::write(&planted, b"junk").unwrap();
    let release = hold_until_told(flocked(&planted), std::time::Duration::from_secs(20));
    let t = std::time::Instant::now();
    let e = f.ks.rotate_audit_log().unwrap_err();
    let took = t.elapsed();
    assert_eq!(e.kind(), ErrorKind::KMSInvalidStateException, "{e}");
    assert!(
        e.message().contains(&planted.display().to_string()) && e.message().contains("5000 ms"),
        "{e}"
    );
    assert!(
        took >= std::time::Duration::from_secs(5) && took < std::time::Duration::from_secs(15),
        "{took:?}"
    );
    assert!(planted.exists());
    let failed = lines_of(&log).pop().unwrap();
    assert!(
        failed.contains("RotateAuditLog") && failed.contains("KMSInvalidStateException"),
        "{failed}"
    );
    release.send(()).unwrap();
    // The holder drops the file at once; wait for that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let r = loop {
        match f.ks.rotate_audit_log() {
            Ok(r) => break r,
            Err(e) if std::time::Instant::now() < deadline => {
                assert_eq!(e.kind(), ErrorKind::KMSInvalidStateException, "{e}");
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(!planted.exists());
    assert_intact(&f.ks, &[r.archive]);
}

/// With automatic rotation, a locked `.partial` file of the segment makes
/// the automatic rotation fail at once (it does not wait), audited as a
/// failed automatic rotation, and dropping the handle's last clone is not
/// held up; before, the rotation waited, and the drop with it, for as long
/// as the lock was held (review of the unlocked copy, finding 2).
#[test]
fn a_locked_partial_does_not_hold_up_dropping_an_auto_rotating_handle() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let ks = auto_rotating(&f.path);
    let log = ks.audit_log_path().to_path_buf();
    let planted = planted_partial(&log);
    std::fs::write(&planted, b"junk").unwrap();
    let _release = hold_until_told(flocked(&planted), std::time::Duration::from_secs(20));
    fill_to_rotation_size(&ks, &key, &log);
    ks.flush_audit_log().unwrap();
    let failure = |log: &Path| {
        lines_of(log)
            .into_iter()
            .find(|l| l.contains("\"eventName\":\"RotateAuditLog\"") && l.contains("\"errorCode\""))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while failure(&log).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no failed automatic rotation audited within 10 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let r: Value = serde_json::from_str(&failure(&log).unwrap()).unwrap();
    assert_eq!(r["eventType"], "AwsServiceEvent", "{r}");
    assert_eq!(r["errorCode"], "KMSInvalidStateException", "{r}");
    assert!(
        r["errorMessage"]
            .as_str()
            .unwrap()
            .contains(&planted.display().to_string()),
        "{r}"
    );
    let t = std::time::Instant::now();
    drop(ks);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        t.elapsed()
    );
    assert!(planted.exists());
    let v = f.ks.verify_audit_log().unwrap();
    assert!(
        v.fault.is_none() && v.records == v.checkpoint_records,
        "{v:?}"
    );
}
