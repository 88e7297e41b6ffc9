//! Batched audit appends: events of read-only operations are written
//! without `fsync` and checkpointed in batches; management events are
//! durable before their operation returns. These tests check the bound on
//! records past the sealed checkpoint, what a killed process leaves behind,
//! the flush on drop, and one chain under concurrent processes (see
//! `docs/FORMAT.md`, "Audit log", and `docs/THREAT-MODEL.md`).
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use fixture::*;
use strongroom::{Keystore, AUDIT_BATCH_EVENTS};

/// Records the sealed checkpoint covers, read straight from the file (the
/// integrity state `meta/state` holds the checkpoint from byte 9).
fn checkpoint_count(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM meta WHERE id = 'state'", [], |r| r.get(0))
        .unwrap();
    u64::from_be_bytes(body[9..17].try_into().unwrap())
}

/// The sealed checkpoint's log length in bytes (bytes 49..57 of the state).
fn checkpoint_len(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM meta WHERE id = 'state'", [], |r| r.get(0))
        .unwrap();
    u64::from_be_bytes(body[49..57].try_into().unwrap())
}

/// Runs [`child_process_entry`] in a new process of this test binary:
/// `ops` Encrypt calls on the keystore at `db`, then `exit` (`abort`: no
/// destructor runs, as under `kill -9`; `drop`: the handle is dropped).
fn spawn_child(db: &Path, key_id: &str, ops: u32, exit: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_entry", "--ignored", "--quiet"])
        .env("STRONGROOM_AUDIT_CHILD_DB", db)
        .env("STRONGROOM_AUDIT_CHILD_KEY", key_id)
        .env("STRONGROOM_AUDIT_CHILD_OPS", ops.to_string())
        .env("STRONGROOM_AUDIT_CHILD_EXIT", exit)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// The child side of [`spawn_child`] (ignored when run directly).
#[test]
#[ignore = "entry point of the child processes the other tests spawn"]
fn child_process_entry() {
    // A child process's entry point: under `--include-ignored`, where no
    // parent set its variables, there is nothing to do.
    let Ok(db) = std::env::var("STRONGROOM_AUDIT_CHILD_DB") else {
        return;
    };
    let key = std::env::var("STRONGROOM_AUDIT_CHILD_KEY").unwrap();
    let ops: u32 = std::env::var("STRONGROOM_AUDIT_CHILD_OPS")
        .unwrap()
        .parse()
        .unwrap();
    let ks = Keystore::open(&db, root_source(&ROOT)).unwrap();
    for _ in 0..ops {
        try_encrypt(&ks, &key, b"x").unwrap();
    }
    if std::env::var("STRONGROOM_AUDIT_CHILD_EXIT").unwrap() == "abort" {
        std::process::abort();
    }
    drop(ks);
}

#[test]
fn records_past_the_checkpoint_stay_under_the_bound() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    assert_eq!(
        checkpoint_count(&f.path),
        2,
        "CreateKey (its intent and its record) is durable"
    );
    for i in 1..=600 {
        try_encrypt(&f.ks, &key, b"x").unwrap();
        if i % 25 == 0 {
            let past = line_count(&f.path) - checkpoint_count(&f.path);
            assert!(
                past < AUDIT_BATCH_EVENTS,
                "{past} records past the checkpoint"
            );
        }
    }
    // A management event is durable and checkpointed with everything before it.
    f.ks.disable_key(&key).unwrap();
    assert_eq!(checkpoint_count(&f.path), 604);
    assert_eq!(line_count(&f.path), 604);
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.checkpoint_records, v.fault), (604, 604, None));
}

#[test]
fn a_killed_process_leaves_a_verifiable_log() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    // 700 appends and no destructor: the bound holds without any flush at exit.
    let status = spawn_child(&f.path, &key, 700, "abort").wait().unwrap();
    assert!(!status.success(), "the child aborts");
    let lines = line_count(&f.path);
    assert_eq!(lines, 702, "no written record is lost by a process crash");
    let cp = checkpoint_count(&f.path);
    assert!(
        lines - cp < AUDIT_BATCH_EVENTS,
        "{} records past the checkpoint",
        lines - cp
    );
    // The tail past the checkpoint chains validly; verifying checkpoints it.
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.checkpoint_records, v.fault), (702, 702, None));
    assert_eq!(checkpoint_count(&f.path), 702);

    // A line torn by a crash mid-write is reported, then cut by the next append.
    let log = f.ks.audit_log_path().to_path_buf();
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"eventName\":\"Encr");
    std::fs::write(&log, &text).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.records, 702);
    assert_eq!(v.checkpoint_records, 702);
    assert_eq!(v.fault.unwrap().index, 702);
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (703, None));
}

#[test]
fn an_edited_record_past_the_checkpoint_is_reported() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for _ in 0..5 {
        try_encrypt(&f.ks, &key, b"x").unwrap();
    }
    let log = f.ks.audit_log_path().to_path_buf();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let edited = lines[3].replacen("\"eventName\":\"", "\"eventName\":\"X", 1);
    lines[3] = &edited;
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault.unwrap().index, 3);
    // Either the background flush had checkpointed all seven records
    // (CreateKey's intent and record, five Encrypts) before the edit (the
    // chain still catches it) or the flush stops before it.
    assert!(
        [3, 7].contains(&v.checkpoint_records),
        "{}",
        v.checkpoint_records
    );
}

#[test]
fn dropping_the_last_handle_flushes() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let second = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let clone = second.clone();
    for _ in 0..50 {
        try_encrypt(&second, &key, b"x").unwrap();
    }
    drop(second);
    for _ in 0..50 {
        try_encrypt(&clone, &key, b"x").unwrap();
    }
    drop(clone);
    assert_eq!(line_count(&f.path), 102);
    assert_eq!(checkpoint_count(&f.path), 102);
}

#[test]
fn an_idle_handle_checkpoints_its_batch_in_the_background() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    // Liveness, not speed: the background flush runs while the handle stays open.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while checkpoint_count(&f.path) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the batch was never checkpointed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(line_count(&f.path), 3);
}

#[test]
fn concurrent_processes_keep_one_chain() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let children: Vec<Child> = (0..3)
        .map(|_| spawn_child(&f.path, &key, 200, "drop"))
        .collect();
    for _ in 0..200 {
        try_encrypt(&f.ks, &key, b"x").unwrap();
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.checkpoint_records, v.fault), (802, 802, None));
}

/// Group commit: threads of one handle, a second handle on the same file and
/// other processes append at once, management (durable) events among
/// read-only ones; every event is in one valid chain exactly once.
#[test]
fn concurrent_threads_handles_and_processes_keep_one_chain() {
    use strongroom::api::Tag;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let second = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let children: Vec<Child> = (0..2)
        .map(|_| spawn_child(&f.path, &key, 150, "drop"))
        .collect();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let ks = if t % 3 == 0 {
                second.clone()
            } else {
                f.ks.clone()
            };
            let k = key.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    if i % 10 == 9 {
                        let tag = Tag {
                            tag_key: format!("t{t}"),
                            tag_value: i.to_string(),
                        };
                        ks.tag_resource(&k, &[tag]).unwrap();
                    } else {
                        try_encrypt(&ks, &k, b"x").unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    drop(second);
    let v = f.ks.verify_audit_log().unwrap();
    // 601 operations, and the intents of CreateKey and the 30 TagResource.
    assert_eq!((v.records, v.checkpoint_records, v.fault), (632, 632, None));
    assert!(v.outcome_unknown.is_empty());
    let events = f.ks.audit_events(&Default::default()).unwrap();
    let named = |n: &str| events.iter().filter(|e| e["eventName"] == n).count();
    assert_eq!(
        (named("CreateKey"), named("Encrypt"), named("TagResource")),
        (1, 300 + 270, 30)
    );
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 601, "event IDs are unique");
}

/// Callers of one handle whose records wait behind a durable batch (they
/// sleep instead of spinning) are all woken: every call returns, and every
/// record is in the chain once.
#[test]
fn callers_waiting_behind_durable_batches_all_return() {
    use strongroom::api::Tag;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ks = f.ks.clone();
            let k = key.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    if t % 2 == 0 {
                        let tag = Tag {
                            tag_key: format!("t{t}"),
                            tag_value: i.to_string(),
                        };
                        ks.tag_resource(&k, &[tag]).unwrap();
                    } else {
                        try_encrypt(&ks, &k, b"x").unwrap();
                    }
                }
            })
        })
        .collect();
    // A lost wake-up leaves a caller asleep for good: fail (with the
    // threads still blocked) instead of hanging the test run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for t in threads {
        while !t.is_finished() {
            assert!(
                std::time::Instant::now() < deadline,
                "a caller waiting behind a batch was never woken"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        t.join().unwrap();
    }
    let v = f.ks.verify_audit_log().unwrap();
    // CreateKey and its intent, 50 TagResource and their intents, 50 Encrypt.
    assert_eq!((v.records, v.fault), (152, None));
    assert!(v.outcome_unknown.is_empty());
}

/// A batch that cannot be written fails every caller whose record was in
/// it, and none of them waits forever; the log then takes appends again.
#[test]
fn a_failed_group_write_fails_every_waiting_caller() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let path = f.ks.audit_log_path().to_path_buf();
    let saved = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let ks = f.ks.clone();
            let k = key.clone();
            std::thread::spawn(move || {
                (0..20)
                    .map(|_| try_encrypt(&ks, &k, b"x").map(|_| ()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for t in threads {
        for r in t.join().unwrap() {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), strongroom::ErrorKind::KMSInternalException);
            assert!(e.message().contains("audit log"), "{e}");
        }
    }
    std::fs::remove_dir(&path).unwrap();
    std::fs::write(&path, saved).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (3, None));
}

/// A keystore deleted and created again at the same path, with the same
/// root key, in the same process, written through two handles (its log may
/// get the old log's inode number, under which the process remembers the
/// old chain's end): each new log verifies from its first record. The
/// check that keeps a remembered end from another file out is unit-tested
/// in `audit_log` (`ends_with_chain_value`).
#[test]
fn a_keystore_recreated_in_place_starts_its_own_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.db");
    for round in 0..3u64 {
        // The earlier keystore's log too: create refuses a path whose log
        // is still there.
        for suffix in ["", "-wal", "-shm", ".audit.jsonl"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let ks = Keystore::create(&path, root_source(&ROOT), Default::default()).unwrap();
        let key = new_key(&ks).key_id;
        // Another handle in the process writes too, so its shared state is used.
        let other = Keystore::open(&path, root_source(&ROOT)).unwrap();
        for i in 0..(3 + round) {
            let h = if i % 2 == 0 { &ks } else { &other };
            try_encrypt(h, &key, b"x").unwrap();
        }
        let v = ks.verify_audit_log().unwrap();
        assert_eq!((v.records, v.fault), (5 + round, None), "round {round}");
    }
}

/// Between two appends of a handle, another process and another handle of
/// this process append (and the other process dies without a flush): the
/// handle's next append finds the log longer than its own last line left
/// it, chains after the last of their records, and overwrites none of
/// them.
#[test]
fn appends_by_others_between_two_of_ours_are_chained_after() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let ours = line_count(&f.path);
    assert!(!spawn_child(&f.path, &key, 2, "abort")
        .wait()
        .unwrap()
        .success());
    let second = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    try_encrypt(&second, &key, b"x").unwrap();
    assert_eq!(line_count(&f.path), ours + 3);
    try_encrypt(&f.ks, &key, b"x").unwrap();
    drop(second);
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (ours + 4, None));
    let events = f.ks.audit_events(&Default::default()).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["eventName"] == "Encrypt")
            .count(),
        5
    );
}

/// Between two appends of a handle, another process appends two records
/// and the log is cut inside the second (past the sealed checkpoint: what
/// a crash mid-write leaves): the handle's next append reads the file's
/// length, chains after the other process's whole record and cuts the
/// torn bytes, leaving no gap and no garbage. Had the other process
/// checkpointed its records (a sync when its second append came 100 ms
/// after its first), the cut is below the checkpoint and the append fails
/// closed instead.
#[test]
fn a_cut_between_two_of_our_appends_is_seen() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    // Durable, so this handle's own end is the checkpoint's.
    f.ks.update_key_description(&key, "d").unwrap();
    let ours = line_count(&f.path);
    assert_eq!(checkpoint_count(&f.path), ours);
    assert!(!spawn_child(&f.path, &key, 2, "abort")
        .wait()
        .unwrap()
        .success());
    let log = f.ks.audit_log_path().to_path_buf();
    let full = std::fs::read(&log).unwrap();
    let cut = full.len() as u64 - 40;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(cut)
        .unwrap();
    if checkpoint_len(&f.path) > cut {
        expect_err(
            try_encrypt(&f.ks, &key, b"x"),
            strongroom::ErrorKind::KMSInternalException,
        );
        return;
    }
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains('\0'), "no hole where the cut record was");
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (ours + 2, None));
}

/// Waits, with a hang detector and no timing assumption, until `done`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// An Encrypt of `key` on a clone of `ks`, in a thread of its own.
fn encrypt_in_thread(ks: &Keystore, key: &str) -> std::thread::JoinHandle<strongroom::Result<()>> {
    let ks = ks.clone();
    let key = key.to_string();
    std::thread::spawn(move || try_encrypt(&ks, &key, b"x").map(|_| ()))
}

/// Records queued while a batch is being written are written by the same
/// lock hold of the log: the first writer, held between its `pwrite` and
/// its unlock, finds two records queued behind it and keeps the lock for
/// them; they are written as one more batch without taking the lock again.
/// The first batch's caller returns as soon as its own batch is written
/// (while the second batch is still held in its write), the others once
/// theirs is; the chain verifies.
#[test]
fn records_queued_behind_a_writer_are_written_under_its_lock() {
    use strongroom::test_hooks::{audit_lock_holds, audit_queued, hold_audit_writer};
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let first_hold = hold_audit_writer(&f.ks);
    let first = encrypt_in_thread(&f.ks, &key);
    first_hold.wait_until_held();
    let holds = audit_lock_holds(&f.ks);
    let behind = [
        encrypt_in_thread(&f.ks, &key),
        encrypt_in_thread(&f.ks, &key),
    ];
    wait_for("two records queued behind the writer", || {
        audit_queued(&f.ks) == 2
    });
    // Holds the writer of the next batch in its turn.
    let second_hold = hold_audit_writer(&f.ks);
    first_hold.release();
    second_hold.wait_until_held();
    wait_for("the first caller returns", || first.is_finished());
    first.join().unwrap().unwrap();
    assert!(
        behind.iter().all(|t| !t.is_finished()),
        "the callers behind return only once their batch is written"
    );
    second_hold.release();
    for t in behind {
        t.join().unwrap().unwrap();
    }
    assert_eq!(
        audit_lock_holds(&f.ks),
        holds,
        "the records queued behind were written under the first writer's lock"
    );
    assert_eq!(audit_queued(&f.ks), 0);
    let v = f.ks.verify_audit_log().unwrap();
    // CreateKey and its intent, three Encrypt.
    assert_eq!((v.records, v.checkpoint_records, v.fault), (5, 5, None));
    // The lock is free again: another handle appends.
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    try_encrypt(&other, &key, b"x").unwrap();
    assert_eq!(other.verify_audit_log().unwrap().records, 6);
}

/// A batch written under a lock hold kept by the previous batch's writer
/// that fails (its `pwrite`) fails its own callers only: the first batch's
/// caller succeeds, its record stays, the failed record is not in the log,
/// the lock is released, and the next call takes it again and succeeds.
#[test]
fn a_failed_continued_batch_fails_only_its_own_callers() {
    use strongroom::test_hooks::{
        audit_lock_holds, audit_queued, fail_next_continued_audit_batch, hold_audit_writer,
    };
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let hold = hold_audit_writer(&f.ks);
    let first = encrypt_in_thread(&f.ks, &key);
    hold.wait_until_held();
    let holds = audit_lock_holds(&f.ks);
    let behind = encrypt_in_thread(&f.ks, &key);
    wait_for("a record queued behind the writer", || {
        audit_queued(&f.ks) == 1
    });
    fail_next_continued_audit_batch(&f.ks);
    hold.release();
    first.join().unwrap().unwrap();
    let e = behind.join().unwrap().unwrap_err();
    assert_eq!(e.kind(), strongroom::ErrorKind::KMSInternalException);
    assert!(
        e.message().contains("audit log could not be written"),
        "{e}"
    );
    assert_eq!(
        audit_lock_holds(&f.ks),
        holds,
        "it failed under the same hold"
    );
    assert_eq!(line_count(&f.path), 3, "CreateKey, its intent, one Encrypt");
    try_encrypt(&f.ks, &key, b"x").unwrap();
    assert_eq!(audit_lock_holds(&f.ks), holds + 1);
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (4, None));
}

/// A batch that continues a kept lock hold does not read the keystore's
/// change counter first (it writes after the end just written): a failure
/// to read it (a new SQLite connection that cannot be opened) left the
/// log's lock held, and the hold marked kept, by a batch that had failed
/// before taking the hold over, so that every later call of the handle,
/// and every other process, waited for ever (review finding). Now the
/// continued batch is written, and the lock is released after it.
#[test]
fn a_continued_batch_whose_epoch_read_fails_still_releases_the_lock() {
    use strongroom::test_hooks::{audit_queued, fail_next_audit_epoch_read, hold_audit_writer};
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let hold = hold_audit_writer(&f.ks);
    let first = encrypt_in_thread(&f.ks, &key);
    hold.wait_until_held();
    let behind = encrypt_in_thread(&f.ks, &key);
    wait_for("a record queued behind the writer", || {
        audit_queued(&f.ks) == 1
    });
    fail_next_audit_epoch_read(&f.ks);
    hold.release();
    for t in [first, behind] {
        wait_for("the held and the continued batch", || t.is_finished());
        t.join().unwrap().unwrap();
    }
    // The lock is free again: another handle (its own lock holder) and
    // this one append, each in a thread watched by a hang detector.
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    for ks in [&other, &f.ks] {
        let t = encrypt_in_thread(ks, &key);
        wait_for("the next call after the continued batch", || {
            t.is_finished()
        });
        t.join().unwrap().unwrap();
    }
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.records, v.fault), (6, None));
}
