//! A handle used in a child made by `fork()` (user trial item 8): its
//! SQLite connections and cached audit state are its parent's, so every
//! call in the child fails with a clear `ValidationException` ("open your
//! own handle") before it touches the keystore, while a handle the child
//! opens itself works, and the parent's handle and audit log are intact.
//! One test in this binary: `fork()` in a process running other test
//! threads is avoided.
#![cfg(unix)]
#![allow(clippy::unwrap_used, unsafe_code)]

mod fixture;

use fixture::*;
use strongroom::{ErrorKind, Keystore};

/// Runs `child` in a forked child process; returns its exit status (0:
/// `child` returned true).
fn in_child(child: impl FnOnce() -> bool) -> i32 {
    // SAFETY: the child runs `child` and leaves with `_exit`, so it never
    // returns into the test harness; the parent only waits for it.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(false);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    status
}

#[test]
fn a_forked_child_must_open_its_own_handle() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.tag_resource(
        &key,
        &[strongroom::api::Tag {
            tag_key: "parent".into(),
            tag_value: "1".into(),
        }],
    )
    .unwrap();
    let path = f.path.clone();
    let status = in_child(|| {
        let refused = |r: strongroom::Result<()>| {
            r.is_err_and(|e| {
                e.kind() == ErrorKind::ValidationException && e.message().contains("fork()")
            })
        };
        let tag = strongroom::api::Tag {
            tag_key: "child".into(),
            tag_value: "1".into(),
        };
        let inherited = refused(f.ks.describe_key(&key).map(|_| ()))
            && refused(f.ks.tag_resource(&key, std::slice::from_ref(&tag)))
            && refused(f.ks.verify_audit_log().map(|_| ()))
            && refused(f.ks.audit_events(&Default::default()).map(|_| ()))
            && refused(f.ks.flush_audit_log())
            && refused(f.ks.verify_digest())
            && refused(f.ks.anchor_status().map(|_| ()))
            && refused(f.ks.export_sealed().map(|_| ()))
            && refused(f.ks.purge_deleted_keys().map(|_| ()))
            && refused(f.ks.generate_random(16).map(|_| ()));
        // A handle of its own works.
        let own = Keystore::open(&path, root_source(&ROOT)).unwrap();
        let works = own.tag_resource(&key, &[tag]).is_ok()
            && own.verify_audit_log().is_ok_and(|v| v.fault.is_none());
        drop(own);
        inherited && works
    });
    assert_eq!(status, 0, "child failed (status {status})");
    // The parent's handle goes on; the child's refused calls wrote nothing,
    // its own handle's TagResource was recorded, and the log is intact.
    f.ks.describe_key(&key).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    let tagged =
        f.ks.audit_events(&strongroom::AuditFilter {
            event_name: Some("TagResource".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(tagged.len(), 2, "{tagged:?}");
    assert!(tagged.iter().all(|r| r.get("errorCode").is_none()));
    let tags = f.ks.list_resource_tags(&key, None, None).unwrap();
    assert_eq!(tags.tags.len(), 2);
}
