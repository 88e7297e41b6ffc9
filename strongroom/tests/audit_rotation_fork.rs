//! A child made by `fork()` while an audit-log rotation copies keeps that
//! rotation's `.partial` file `flock`ed (the lock belongs to the open file
//! description it shares): another rotation of the same records waiting
//! on that file must not wait for the child.
//!
//! One test in this binary: `fork()` in a process running other test
//! threads is avoided.
#![cfg(unix)]
#![allow(clippy::unwrap_used, unsafe_code)]

mod fixture;

use std::time::{Duration, Instant};

use fixture::*;
use strongroom::Keystore;

/// A rotation that found the first's `.partial` file locked ends soon after
/// the first (which removed its file), not when the child that inherited
/// the lock exits (review of the unlocked copy, finding 2; before, it
/// waited for the child).
#[test]
fn a_forked_child_holding_a_partial_lock_does_not_hold_up_rotations() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for _ in 0..5 {
        try_encrypt(&f.ks, &key, b"x").unwrap();
    }
    f.ks.flush_audit_log().unwrap();
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let second = std::rc::Rc::new(std::cell::RefCell::new(None));
    let child = std::rc::Rc::new(std::cell::Cell::new(0));
    {
        let (second, child) = (second.clone(), child.clone());
        strongroom::test_hooks::set_rotation_copied(Some(Box::new(move || {
            // SAFETY: the child only sleeps and leaves with `_exit` (both
            // async-signal-safe), never returning into the harness.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                unsafe {
                    libc::sleep(30);
                    libc::_exit(0);
                }
            }
            child.set(pid);
            let other = other.clone();
            *second.borrow_mut() = Some(std::thread::spawn(move || {
                let r = other.rotate_audit_log();
                (Instant::now(), r)
            }));
            // Time for the other rotation to find this one's file locked.
            std::thread::sleep(Duration::from_millis(300));
        })));
    }
    let r = f.ks.rotate_audit_log();
    let first_done = Instant::now();
    strongroom::test_hooks::set_rotation_copied(None);
    let (second_done, r2) = second.borrow_mut().take().unwrap().join().unwrap();
    let pid = child.get();
    // SAFETY: ends and reaps the child this test made.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
    }
    let r = r.unwrap();
    let r2 = r2.unwrap();
    assert_eq!((r.first_record, r.last_record), (1, 7), "{r:?}");
    assert_eq!((r2.first_record, r2.last_record), (8, 8), "{r2:?}");
    let lag = second_done.saturating_duration_since(first_done);
    assert!(lag < Duration::from_secs(3), "{lag:?}");
    let archives = archives_beside(f.ks.audit_log_path());
    let v = f.ks.verify_audit_log_archives(&archives).unwrap();
    assert!(v.fault.is_none() && v.archive_fault.is_none(), "{v:?}");
    assert_eq!(v.records, 9);
}
