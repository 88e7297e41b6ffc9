//! Once a change has committed, its caller is told it succeeded (a KMS
//! client takes an error for "nothing changed" and retries): an outcome
//! record that cannot be written after the commit is kept by the handle,
//! written before its next call (which fails while it cannot be), and
//! never leaves the change unaudited.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use fixture::*;
use strongroom::core::key::KeyState;
use strongroom::{Anchor, AnchorStore, AuditFilter, CreateOptions, ErrorKind, Keystore};

/// An anchor in memory whose loads fail while `fail_load` is set. A store
/// (a commit's) takes `arm`, `n`: the load after `n` more loads then sets
/// `fail_load`. After a management change's commit, the outcome append
/// loads the anchor to check the state before writing its record (`n` =
/// 0: the record is not written), then in the checkpoint store after the
/// record is written and synced (`n` = 1: the checkpoint is not stored).
#[derive(Default)]
struct Flaky {
    record: Mutex<Option<Vec<u8>>>,
    arm: Mutex<Option<u32>>,
    countdown: Mutex<Option<u32>>,
    fail_load: AtomicBool,
}

impl Flaky {
    /// Whether the fault armed was injected.
    fn injected(&self) -> bool {
        self.fail_load.load(Ordering::SeqCst)
            && self.countdown.lock().unwrap().is_none()
            && self.arm.lock().unwrap().is_none()
    }
}

impl AnchorStore for Flaky {
    fn load(&self) -> strongroom::Result<Option<Vec<u8>>> {
        let mut c = self.countdown.lock().unwrap();
        match *c {
            Some(0) => {
                *c = None;
                self.fail_load.store(true, Ordering::SeqCst);
            }
            Some(n) => *c = Some(n - 1),
            None => {}
        }
        if self.fail_load.load(Ordering::SeqCst) {
            return Err(strongroom::Error::internal("the anchor's storage is down"));
        }
        Ok(self.record.lock().unwrap().clone())
    }

    fn store(&self, record: &[u8]) -> strongroom::Result<()> {
        *self.record.lock().unwrap() = Some(record.to_vec());
        if let Some(n) = self.arm.lock().unwrap().take() {
            *self.countdown.lock().unwrap() = Some(n);
        }
        Ok(())
    }
}

/// A keystore in a new directory anchored in `store`, with one key.
fn anchored(store: &Arc<Flaky>) -> (tempfile::TempDir, Keystore, String) {
    let dir = tempfile::tempdir().unwrap();
    let anchor: Arc<dyn AnchorStore> = store.clone();
    let ks = Keystore::create(
        dir.path().join("ks.db"),
        root_source(&ROOT),
        CreateOptions {
            anchor: Some(Anchor::new(anchor)),
            ..CreateOptions::default()
        },
    )
    .unwrap();
    let key = new_key(&ks).key_id;
    (dir, ks, key)
}

/// The log verifies, with no outcome unknown and exactly one record of
/// `op`, a success.
#[track_caller]
fn audited_once(ks: &Keystore, op: &str) {
    let v = ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
    let events = ks.audit_events(&AuditFilter::default()).unwrap();
    let of_op: Vec<_> = events.iter().filter(|e| e["eventName"] == op).collect();
    assert_eq!(of_op.len(), 1, "{events:?}");
    assert!(of_op[0].get("errorCode").is_none(), "{:?}", of_op[0]);
}

#[test]
fn an_outcome_record_that_cannot_be_written_after_the_commit_is_kept() {
    let store = Arc::new(Flaky::default());
    let (_dir, ks, key) = anchored(&store);
    *store.arm.lock().unwrap() = Some(0);
    // The change commits; its outcome record cannot be written then.
    let r = ks.schedule_key_deletion(&key, Some(7)).unwrap();
    assert_eq!(r.key_state, KeyState::PendingDeletion);
    assert!(store.injected());
    // The handle writes the kept record before anything else: a read
    // fails while it cannot (its result withheld), a change too, changing
    // nothing.
    expect_err(ks.describe_key(&key), ErrorKind::KMSInternalException);
    expect_err(
        ks.cancel_key_deletion(&key),
        ErrorKind::KMSInternalException,
    );
    store.fail_load.store(false, Ordering::SeqCst);
    let d = ks.describe_key(&key).unwrap().key_metadata;
    assert_eq!(d.key_state, KeyState::PendingDeletion, "nothing changed");
    audited_once(&ks, "ScheduleKeyDeletion");
}

/// The outcome record is written and synced, but the checkpoint over it
/// cannot be stored: the change succeeds, the record stays past the
/// checkpoint (not written twice), and the next flush covers it.
#[test]
fn a_checkpoint_that_cannot_be_stored_after_the_commit_is_deferred() {
    let store = Arc::new(Flaky::default());
    let (_dir, ks, key) = anchored(&store);
    *store.arm.lock().unwrap() = Some(1);
    let r = ks.schedule_key_deletion(&key, Some(7)).unwrap();
    assert_eq!(r.key_state, KeyState::PendingDeletion);
    assert!(store.injected());
    store.fail_load.store(false, Ordering::SeqCst);
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.records, v.checkpoint_records, "flushed");
    audited_once(&ks, "ScheduleKeyDeletion");
    // Writes go on.
    ks.cancel_key_deletion(&key).unwrap();
    audited_once(&ks, "CancelKeyDeletion");
}

/// An anchoring change is a management write like any other: its intent
/// record is synced and covered by the state it commits. Its outcome
/// record lost after the commit (not written while the handle lives, then
/// the handle gone, as in a crash) leaves the change reported as
/// succeeded and its intent `OutcomeUnknown` in the verified log — never
/// a committed change without an audit trace.
#[test]
fn an_anchoring_change_whose_outcome_record_is_lost_stays_outcome_unknown() {
    let store = Arc::new(Flaky::default());
    let (dir, ks, _key) = anchored(&store);
    *store.arm.lock().unwrap() = Some(0);
    ks.remove_anchor().unwrap();
    assert!(store.injected());
    drop(ks);
    // No longer anchored: it opens without one.
    let path = dir.path().join("ks.db");
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None, "{v:?}");
    assert_eq!(v.outcome_unknown.len(), 1, "{v:?}");
    let log = std::fs::read_to_string(dir.path().join("ks.db.audit.jsonl")).unwrap();
    let intent = log
        .lines()
        .find(|l| l.contains(&format!("\"eventID\":\"{}\"", v.outcome_unknown[0])))
        .unwrap();
    assert!(intent.contains("\"RemoveKeystoreAnchor\""), "{intent}");
}

/// A successful anchoring change writes its intent record, then its
/// outcome (the intent resolved), as every change does.
#[test]
fn an_anchoring_change_writes_its_intent_record() {
    let store = Arc::new(Flaky::default());
    let (dir, ks, _key) = anchored(&store);
    ks.remove_anchor().unwrap();
    audited_once(&ks, "RemoveKeystoreAnchor");
    let log = std::fs::read_to_string(dir.path().join("ks.db.audit.jsonl")).unwrap();
    let named: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"RemoveKeystoreAnchor\""))
        .collect();
    assert_eq!(named.len(), 2, "intent and outcome: {named:?}");
    assert!(named[0].contains("strongroomIntent"), "{}", named[0]);
}

/// A kept outcome record is written once more when the last handle is
/// dropped (a normal process end): with the fault gone by then, the
/// verified log holds the outcome, not an `OutcomeUnknown` intent.
#[test]
fn a_kept_outcome_record_is_written_when_the_last_handle_is_dropped() {
    let store = Arc::new(Flaky::default());
    let (dir, ks, key) = anchored(&store);
    *store.arm.lock().unwrap() = Some(0);
    ks.schedule_key_deletion(&key, Some(7)).unwrap();
    assert!(store.injected());
    let other = ks.as_principal("arn:aws:iam::000000000000:user/other");
    store.fail_load.store(false, Ordering::SeqCst);
    drop(ks);
    drop(other);
    let anchor: Arc<dyn AnchorStore> = store.clone();
    let ks = Keystore::open_with(
        dir.path().join("ks.db"),
        root_source(&ROOT),
        strongroom::OpenOptions::default().anchor(Anchor::new(anchor)),
    )
    .unwrap();
    audited_once(&ks, "ScheduleKeyDeletion");
}
