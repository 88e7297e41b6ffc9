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

/// An anchor in memory whose loads fail while `fail_load` is set; a store
/// sets it when `arm` is set (so the first load after a commit's anchor
/// store fails: the one that checks the state before the outcome record
/// is written).
#[derive(Default)]
struct Flaky {
    record: Mutex<Option<Vec<u8>>>,
    arm: AtomicBool,
    fail_load: AtomicBool,
}

impl AnchorStore for Flaky {
    fn load(&self) -> strongroom::Result<Option<Vec<u8>>> {
        if self.fail_load.load(Ordering::SeqCst) {
            return Err(strongroom::Error::internal("the anchor's storage is down"));
        }
        Ok(self.record.lock().unwrap().clone())
    }

    fn store(&self, record: &[u8]) -> strongroom::Result<()> {
        *self.record.lock().unwrap() = Some(record.to_vec());
        if self.arm.swap(false, Ordering::SeqCst) {
            self.fail_load.store(true, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[test]
fn an_outcome_record_that_cannot_be_written_after_the_commit_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Flaky::default());
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
    store.arm.store(true, Ordering::SeqCst);
    // The change commits; its outcome record cannot be written then.
    let r = ks.schedule_key_deletion(&key, Some(7)).unwrap();
    assert_eq!(r.key_state, KeyState::PendingDeletion);
    assert!(
        store.fail_load.load(Ordering::SeqCst),
        "the fault was injected"
    );
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
    let v = ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
    let events = ks.audit_events(&AuditFilter::default()).unwrap();
    let deletions: Vec<_> = events
        .iter()
        .filter(|e| e["eventName"] == "ScheduleKeyDeletion")
        .collect();
    assert_eq!(deletions.len(), 1, "{events:?}");
    assert!(
        deletions[0].get("errorCode").is_none(),
        "{:?}",
        deletions[0]
    );
}
