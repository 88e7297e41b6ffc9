//! Edges of audit log rotation: a flush racing rotations by another
//! handle.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use fixture::*;
use strongroom::Keystore;

/// The archives beside the log at `log`, oldest first (names sort by age).
fn archives_beside(log: &Path) -> Vec<PathBuf> {
    let stem = log
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .strip_suffix("jsonl")
        .unwrap()
        .to_owned();
    let mut v: Vec<PathBuf> = std::fs::read_dir(log.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with(&stem) && n.ends_with(".jsonl") && p != log
        })
        .collect();
    v.sort();
    v
}

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
