//! Edges of audit log rotation: a flush racing rotations by another
//! handle, a failed automatic rotation audited, a keystore name too long
//! for its archives' names or not UTF-8, a forged rotation claim at the
//! end of the record numbers.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use fixture::*;
use strongroom::Keystore;

/// A flush of the audit log (`Keystore::flush_audit_log`) racing rotations
/// by another handle: the flush that opened the log just before another
/// handle renamed a new file over it finds the file it locked unlinked
/// (link count 0) and flushes the file the path names now, as an append
/// does, rather than reporting the log replaced (review R7).
/// Rotations the first handle runs; the second flushes at least as often.
const ROTATIONS: usize = 300;

/// See [`ROTATIONS`].
#[test]
fn flushes_racing_rotations_by_another_handle_never_fail() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let done = AtomicBool::new(false);
    let (rotations, flushes) = std::thread::scope(|s| {
        let flusher = s.spawn(|| {
            let mut flushes = 0usize;
            while !done.load(Ordering::Acquire) || flushes < ROTATIONS {
                try_encrypt(&other, &key, b"x")
                    .unwrap_or_else(|e| panic!("encrypt after {flushes} flushes: {e}"));
                other
                    .flush_audit_log()
                    .unwrap_or_else(|e| panic!("flush {flushes}: {e}"));
                flushes += 1;
            }
            flushes
        });
        let rotator = s.spawn(|| {
            let result = (0..ROTATIONS).try_for_each(|i| {
                // A record of its own, so that every rotation has one to
                // archive.
                try_encrypt(&f.ks, &key, b"x").map_err(|e| format!("encrypt {i}: {e}"))?;
                f.ks.rotate_audit_log()
                    .map(|_| ())
                    .map_err(|e| format!("rotation {i}: {e}"))
            });
            done.store(true, Ordering::Release);
            result.map(|()| ROTATIONS)
        });
        (rotator.join().unwrap().unwrap(), flusher.join().unwrap())
    });
    let archives = archives_beside(f.ks.audit_log_path());
    assert_eq!(archives.len(), rotations);
    for ks in [&f.ks, &other] {
        let v = ks.verify_audit_log_archives(&archives).unwrap();
        assert_eq!(v.fault, None, "{v:?}");
        assert_eq!(v.archive_fault, None, "{v:?}");
        assert_eq!(v.records, v.checkpoint_records, "{v:?}");
        // CreateKey and its intent, one Encrypt per flush and per
        // rotation, one record per rotation: none lost.
        assert_eq!(v.records, 2 + (flushes + 2 * rotations) as u64, "{v:?}");
    }
}

/// An automatic rotation that fails (here: a directory stands where the
/// new log file is written, `<log>.rotating`) is audited in the current
/// file as a `RotateAuditLog` service event with its `errorCode` and
/// `errorMessage`, as a failed `rotate_audit_log` is (review R6); the log
/// still verifies, and the next rotation, once the obstacle is gone,
/// archives it.
#[test]
fn a_failed_automatic_rotation_is_audited() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let ks = auto_rotating(&f.path);
    let log = ks.audit_log_path().to_path_buf();
    let mut rotating = log.clone().into_os_string();
    rotating.push(".rotating");
    std::fs::create_dir(&rotating).unwrap();
    fill_to_rotation_size(&ks, &key, &log);
    // The last handle of this open waits for the automatic rotation.
    drop(ks);
    let failures: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["eventName"] == "RotateAuditLog")
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let r = &failures[0];
    assert_eq!(r["eventType"], "AwsServiceEvent", "{r}");
    assert_eq!(r["errorCode"], "KMSInternalException", "{r}");
    assert!(
        r["errorMessage"].as_str().unwrap().contains(".rotating"),
        "{r}"
    );
    let v = f.ks.verify_audit_log().unwrap();
    assert!(
        v.fault.is_none() && v.records == v.checkpoint_records,
        "{v:?}"
    );
    std::fs::remove_dir(&rotating).unwrap();
    f.ks.rotate_audit_log().unwrap();
    let archives = archives_beside(&log);
    assert_eq!(archives.len(), 1, "{archives:?}");
    let v = f.ks.verify_audit_log_archives(&archives).unwrap();
    assert!(v.fault.is_none() && v.archive_fault.is_none(), "{v:?}");
}

/// A keystore file name longer than 193 bytes is refused at creation
/// (`ValidationException` naming the limit, nothing written): its log's
/// archives, `<name>.audit.<20 digits>-<20 digits>.jsonl.partial` while
/// written, would pass the 255-byte limit of a file name, so its log could
/// never be rotated (review R5). A name of 193 bytes rotates. An existing
/// keystore renamed past the limit is refused at rotation with a
/// `ValidationException` before anything is written, not the operating
/// system's "file name too long".
#[test]
fn a_keystore_name_too_long_for_its_archives_is_refused() {
    use strongroom::{CreateOptions, ErrorKind};
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("k".repeat(194));
    let e = Keystore::create(&long, root_source(&ROOT), CreateOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    assert!(
        e.message()
            .contains("is 194 bytes long; at most 193 bytes are allowed"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let e = Keystore::import_sealed(&long, b"not an export", root_source(&ROOT)).unwrap_err();
    assert!(e.message().contains("at most 193 bytes"), "{e}");

    let ok = dir.path().join("k".repeat(193));
    let ks = Keystore::create(&ok, root_source(&ROOT), CreateOptions::default()).unwrap();
    let key = new_key(&ks).key_id;
    let r = ks.rotate_audit_log().unwrap();
    assert_eq!(r.archive.file_name().unwrap().len(), 247);
    try_encrypt(&ks, &key, b"x").unwrap();
    drop(ks);

    // Renamed past the limit, with its log.
    let renamed = dir.path().join("r".repeat(200));
    std::fs::rename(&ok, &renamed).unwrap();
    let log_of = |p: &Path| {
        let mut n = p.as_os_str().to_owned();
        n.push(".audit.jsonl");
        PathBuf::from(n)
    };
    std::fs::rename(log_of(&ok), log_of(&renamed)).unwrap();
    let ks = Keystore::open(&renamed, root_source(&ROOT)).unwrap();
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    let e = ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    assert!(
        e.message().contains("cannot be rotated")
            && e.message()
                .contains("rename the keystore file to at most 193 bytes"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), before);
    // Refused and audited as any failed rotation; the log still verifies.
    let v = ks.verify_audit_log().unwrap();
    assert!(
        v.fault.is_none() && v.records == v.checkpoint_records,
        "{v:?}"
    );
}

/// review17 L1, L2: archives are named, and their names written into the
/// rotation record, as UTF-8 text, so a keystore file name that is not
/// UTF-8 is refused at create and import (before, a 73-byte one was
/// created and could never rotate; two differing only in invalid bytes
/// shared their archives' names), and at the rotation of one renamed so.
#[test]
fn a_keystore_name_that_is_not_utf8_is_refused() {
    use std::os::unix::ffi::OsStrExt;
    use strongroom::{CreateOptions, ErrorKind};
    let dir = tempfile::tempdir().unwrap();
    for name in [&b"ks\xfe.db"[..], &b"ks\xff.db"[..], &[0xffu8; 70][..]] {
        let path = dir.path().join(std::ffi::OsStr::from_bytes(name));
        let e = Keystore::create(&path, root_source(&ROOT), CreateOptions::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
        assert!(e.message().contains("is not UTF-8"), "{e}");
        let e = Keystore::import_sealed(&path, b"not an export", root_source(&ROOT)).unwrap_err();
        assert!(e.message().contains("is not UTF-8"), "{e}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // An existing keystore renamed so (with its log): refused at rotation,
    // before anything is written.
    let ok = dir.path().join("ks.db");
    let ks = Keystore::create(&ok, root_source(&ROOT), CreateOptions::default()).unwrap();
    new_key(&ks);
    drop(ks);
    let bad = dir.path().join(std::ffi::OsStr::from_bytes(b"ks\xff.db"));
    let log_of = |p: &Path| {
        let mut n = p.as_os_str().to_owned();
        n.push(".audit.jsonl");
        PathBuf::from(n)
    };
    std::fs::rename(&ok, &bad).unwrap();
    std::fs::rename(log_of(&ok), log_of(&bad)).unwrap();
    let ks = Keystore::open(&bad, root_source(&ROOT)).unwrap();
    let before = std::fs::read_dir(dir.path()).unwrap().count();
    let e = ks.rotate_audit_log().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    assert!(e.message().contains("is not UTF-8"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), before);
}

/// A line claiming a rotation after `last` records (not authenticated:
/// its chain values are zeros).
fn forged_rotation_line(last: u64) -> String {
    format!(
        "{{\"eventName\":\"RotateAuditLog\",\"responseElements\":{{\"archiveBytes\":1,\
         \"archiveFileName\":\"x.jsonl\",\"archiveSha256\":\"00\",\"chainValue\":\"{}\",\
         \"firstRecordNumber\":1,\"lastRecordNumber\":{last}}},\"strongroomChain\":\"{}\"}}\n",
        "0".repeat(64),
        "0".repeat(64)
    )
}

/// review17 M1: a first line claiming a rotation after u64::MAX (or
/// u64::MAX - 1) records is no rotation claim: verifying such an archive
/// or current log reports a fault (before: an arithmetic overflow panicked
/// a debug build, and a release build reported record 0).
#[test]
fn a_rotation_claim_at_the_end_of_the_record_numbers_is_a_fault_not_a_panic() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    f.ks.flush_audit_log().unwrap();
    let bad = f.dir.path().join("forged.jsonl");
    for last in [u64::MAX, u64::MAX - 1] {
        std::fs::write(&bad, forged_rotation_line(last)).unwrap();
        let v =
            f.ks.verify_audit_log_archives(std::slice::from_ref(&bad))
                .unwrap();
        assert!(v.archive_fault.is_some(), "{last}: {v:?}");
    }
    let log = f.ks.audit_log_path().to_path_buf();
    std::fs::write(&log, forged_rotation_line(u64::MAX)).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_some(), "{v:?}");
    assert_eq!(v.first_record, 1, "{v:?}");
}

/// review17 L3: an intent of unknown outcome (a crash between a change's
/// intent record and its outcome) that a rotation archived is still
/// reported by the verification given its archive (before, only while it
/// was in the current file).
#[test]
fn an_archived_intent_of_unknown_outcome_is_still_reported() {
    let f = fixture();
    new_key(&f.ks);
    let path = f.path.clone();
    drop(f.ks);
    let snapshot = std::fs::read(&path).unwrap();
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    new_key(&ks);
    let log = ks.audit_log_path().to_path_buf();
    drop(ks);
    // Cut the log after the last CreateKey intent, and put back the
    // keystore as it was before it: the crash between intent and outcome.
    let text = std::fs::read_to_string(&log).unwrap();
    let (mut end, mut intent_end) = (0u64, 0u64);
    for line in text.split_inclusive('\n') {
        end += line.len() as u64;
        if line.contains("strongroomIntent") && line.contains("\"eventName\":\"CreateKey\"") {
            intent_end = end;
        }
    }
    assert!(intent_end > 0);
    std::fs::write(&path, &snapshot).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(intent_end)
        .unwrap();
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!((&v.fault, v.outcome_unknown.len()), (&None, 1), "{v:?}");
    let open = v.outcome_unknown.clone();
    let r = ks.rotate_audit_log().unwrap();
    let v = ks.verify_audit_log_archives(&[r.archive]).unwrap();
    assert_eq!((&v.fault, &v.archive_fault), (&None, &None), "{v:?}");
    assert_eq!(v.outcome_unknown, open, "{v:?}");
    // The current file alone no longer holds it.
    assert!(ks.verify_audit_log().unwrap().outcome_unknown.is_empty());
}

/// A log reached through a symbolic link (the operator keeps the log on
/// another disk) is rotated beside the file the link names: the archive is
/// written there, the new file replaces that file, and the link is kept
/// (before, the rotation renamed its new file over the link, so the log
/// moved into the keystore's directory and the link was gone).
#[test]
fn a_symlinked_log_is_rotated_beside_the_file_it_names() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    f.ks.flush_audit_log().unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    drop(f.ks);
    let elsewhere = tempfile::tempdir().unwrap();
    let real = elsewhere.path().join(log.file_name().unwrap());
    std::fs::rename(&log, &real).unwrap();
    std::os::unix::fs::symlink(&real, &log).unwrap();

    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    try_encrypt(&ks, &key, b"x").unwrap();
    let r = ks.rotate_audit_log().unwrap();
    assert_eq!(
        r.archive.parent().unwrap(),
        std::fs::canonicalize(elsewhere.path()).unwrap(),
        "{r:?}"
    );
    assert!(std::fs::symlink_metadata(&log)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::canonicalize(&log).unwrap(),
        std::fs::canonicalize(&real).unwrap()
    );
    try_encrypt(&ks, &key, b"x").unwrap();
    let v = ks.verify_audit_log_archives(&[r.archive]).unwrap();
    assert_eq!((&v.fault, &v.archive_fault), (&None, &None), "{v:?}");
    assert!(v.records > r.last_record, "{v:?}");
    // Nothing left beside the link but the link.
    let beside: Vec<_> = std::fs::read_dir(f.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".audit."))
        .collect();
    assert_eq!(
        beside,
        vec![log.file_name().unwrap().to_string_lossy().into_owned()]
    );
}

/// review17b: a log replaced by one forged rotation line does not set the
/// numbers the verification reports (the claim is not trusted once its
/// line fails): above the checkpoint or just below it, the fault is at
/// record 0, no record verified, the file starting at record 1 (before,
/// "1,000,000 records verified", or "all but the last verified").
#[test]
fn a_forged_rotation_claim_does_not_set_the_reported_numbers() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for _ in 0..3 {
        try_encrypt(&f.ks, &key, b"x").unwrap();
    }
    f.ks.flush_audit_log().unwrap();
    let cp = f.ks.verify_audit_log().unwrap().checkpoint_records;
    assert!(cp > 2);
    let log = f.ks.audit_log_path().to_path_buf();
    for claim in [1_000_000, cp - 1, cp] {
        std::fs::write(&log, forged_rotation_line(claim)).unwrap();
        let v = f.ks.verify_audit_log().unwrap();
        let fault = v.fault.clone().expect("a fault");
        assert_eq!(
            (v.records, fault.index, v.first_record),
            (0, 0, 1),
            "claim {claim}: {v:?}"
        );
    }
}

/// A rotation whose log changes under it on every try (here: a copy of
/// the log, the same records, renamed over it during each unlocked copy,
/// as a rotation by another handle or process renames its new file) gives
/// up after its 64 attempts with `KMSInvalidStateException` saying so, a
/// failure the caller can retry: not the false tamper report that the log
/// no longer holds the records its checkpoint covers (review 18, low 1).
/// Nothing is archived or left behind, the log verifies, and the next
/// rotation runs.
#[test]
fn a_rotation_out_of_restarts_says_so_not_that_the_log_was_replaced() {
    use std::cell::Cell;
    use std::rc::Rc;
    use strongroom::ErrorKind;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let tries = Rc::new(Cell::new(0u32));
    let (counted, replaced) = (tries.clone(), log.clone());
    strongroom::test_hooks::set_rotation_copied(Some(Box::new(move || {
        counted.set(counted.get() + 1);
        let copy = PathBuf::from(format!("{}.copy", replaced.display()));
        std::fs::copy(&replaced, &copy).unwrap();
        std::fs::rename(&copy, &replaced).unwrap();
    })));
    let e = f.ks.rotate_audit_log().unwrap_err();
    strongroom::test_hooks::set_rotation_copied(None);
    assert_eq!(e.kind(), ErrorKind::KMSInvalidStateException, "{e}");
    assert!(
        e.message().contains("gave up after 64 attempts")
            && e.message().contains("kept changing")
            && !e.message().contains("no longer holds"),
        "{e}"
    );
    assert_eq!(tries.get(), 64);
    assert!(archives_beside(&log).is_empty());
    assert_eq!(
        files_ending(f.dir.path(), &[".partial", ".rotating"]),
        Vec::<String>::new()
    );
    let v = f.ks.verify_audit_log().unwrap();
    assert!(
        v.fault.is_none() && v.records == v.checkpoint_records,
        "{v:?}"
    );
    let r = f.ks.rotate_audit_log().unwrap();
    let v = f.ks.verify_audit_log_archives(&[r.archive]).unwrap();
    assert_eq!((&v.fault, &v.archive_fault), (&None, &None), "{v:?}");
}
