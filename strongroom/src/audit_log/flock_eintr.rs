//! `FileLock::acquire` keeps waiting when a signal interrupts its `flock`.
//!
//! Deterministic, with no timing: the waiting thread is seen blocked in
//! `flock` (`/proc/self/task/<tid>/syscall`), a signal whose handler was
//! installed without `SA_RESTART` is sent to it (so the kernel answers the
//! interrupted `flock` with `EINTR` instead of restarting it), and the test
//! waits until the handler has run and the thread is blocked in `flock`
//! again; a lock acquired or an error returned before the holder lets go
//! fails the test.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::FileLock;

static HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// Whether thread `tid` of this process is blocked in `flock`.
fn blocked_in_flock(tid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<i64>().ok())
        == Some(libc::SYS_flock)
}

/// Polls `pred` (every millisecond, for at most a minute: a bound so that a
/// broken build fails instead of hanging, not a measure of speed).
fn wait_for(what: &str, mut pred: impl FnMut() -> bool) {
    for _ in 0..60_000 {
        if pred() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("never saw: {what}");
}

#[test]
fn an_interrupted_lock_wait_waits_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let holder = std::fs::File::create(&path).unwrap();
    let waiter = std::fs::File::open(&path).unwrap();
    rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).unwrap();

    // SAFETY: installs a handler that only touches an atomic, for a signal
    // nothing else in this test binary sends; `sa_flags` 0 leaves out
    // SA_RESTART on purpose.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut()),
            0
        );
    }

    let (tid_tx, tid_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let thread = std::thread::spawn({
        let path = path.clone();
        move || {
            // SAFETY: gettid has no preconditions.
            tid_tx.send(i64::from(unsafe { libc::gettid() })).unwrap();
            let locked = FileLock::acquire(&waiter, &path).map(drop);
            done_tx.send(locked.map_err(|e| e.to_string())).unwrap();
        }
    });
    let tid = tid_rx.recv().unwrap();
    wait_for("the waiter blocked in flock", || blocked_in_flock(tid));
    let before = HANDLED.load(Ordering::SeqCst);
    // SAFETY: the thread is alive (it has not sent its result) and joined
    // only below.
    assert_eq!(
        unsafe { libc::pthread_kill(thread.as_pthread_t(), libc::SIGUSR2) },
        0
    );
    wait_for("the signal handled", || {
        HANDLED.load(Ordering::SeqCst) > before
    });
    wait_for("the waiter back in flock", || {
        if let Ok(early) = done_rx.try_recv() {
            panic!("acquire returned {early:?} while the lock was held");
        }
        blocked_in_flock(tid)
    });

    rustix::fs::flock(&holder, rustix::fs::FlockOperation::Unlock).unwrap();
    assert_eq!(done_rx.recv().unwrap(), Ok(()));
    thread.join().unwrap();
}
