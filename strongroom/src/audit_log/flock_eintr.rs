//! `FileLock::acquire` keeps waiting when a signal interrupts its `flock`.
//!
//! Deterministic, with no timing: the waiting thread is seen blocked in
//! `flock` (`/proc/self/task/<tid>/syscall`), a signal whose handler was
//! installed without `SA_RESTART` is sent to it (so the kernel answers the
//! interrupted `flock` with `EINTR` instead of restarting it), and the test
//! waits until the handler has run and the thread is blocked in `flock`
//! again; a lock acquired or an error returned before the holder lets go
//! fails the test. Where `/proc/self/task/<tid>/syscall` cannot be read or
//! never shows the waiter in `flock` (no such file, a kernel or sandbox that
//! reports otherwise), the test says so and skips instead of failing. The
//! previous `SIGUSR2` action is restored at the end, whatever happens.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::FileLock;

static HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// What `/proc/self/task/<tid>/syscall` says of thread `tid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syscall {
    /// Blocked in `flock`.
    Flock,
    /// Blocked in another system call.
    Other,
    /// Running (no system call to show).
    Running,
    /// The file cannot be read or parsed.
    Unknown,
}

fn syscall_of(tid: i64) -> Syscall {
    let Ok(text) = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")) else {
        return Syscall::Unknown;
    };
    match text.split_whitespace().next() {
        Some("running") => Syscall::Running,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if n == libc::SYS_flock => Syscall::Flock,
            Ok(_) => Syscall::Other,
            Err(_) => Syscall::Unknown,
        },
        None => Syscall::Unknown,
    }
}

fn blocked_in_flock(tid: i64) -> bool {
    syscall_of(tid) == Syscall::Flock
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

/// Waits until thread `tid` shows up blocked in `flock`; `Err` with the
/// reason when this kernel cannot show it: the file cannot be read, or the
/// thread, which does nothing but `flock`, is seen blocked in another
/// system call 1000 times in a row.
fn wait_until_in_flock(tid: i64) -> Result<(), String> {
    let mut other = 0;
    for _ in 0..60_000 {
        match syscall_of(tid) {
            Syscall::Flock => return Ok(()),
            Syscall::Unknown => {
                return Err(format!("/proc/self/task/{tid}/syscall cannot be read"))
            }
            Syscall::Other => {
                other += 1;
                if other >= 1000 {
                    return Err(format!(
                        "/proc/self/task/{tid}/syscall does not show the waiter in flock"
                    ));
                }
            }
            Syscall::Running => other = 0,
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Err("the waiter never blocked in flock within a minute".into())
}

/// Restores the `SIGUSR2` action that was in place before the test.
struct RestoreSigusr2(libc::sigaction);

impl Drop for RestoreSigusr2 {
    fn drop(&mut self) {
        // SAFETY: puts back the action sigaction returned; the old-action
        // pointer may be null.
        unsafe {
            libc::sigaction(libc::SIGUSR2, &self.0, std::ptr::null_mut());
        }
    }
}

#[test]
fn an_interrupted_lock_wait_waits_again() {
    // SAFETY: gettid has no preconditions.
    let me = i64::from(unsafe { libc::gettid() });
    if syscall_of(me) == Syscall::Unknown {
        println!("skipped: /proc/self/task/{me}/syscall cannot be read on this system");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let holder = std::fs::File::create(&path).unwrap();
    let waiter = std::fs::File::open(&path).unwrap();
    rustix::fs::flock(&holder, rustix::fs::FlockOperation::LockExclusive).unwrap();

    // SAFETY: installs a handler that only touches an atomic, for a signal
    // nothing else in this test binary sends; `sa_flags` 0 leaves out
    // SA_RESTART on purpose. The previous action is kept to be restored.
    let _restore = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        let mut previous: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR2, &action, &mut previous), 0);
        RestoreSigusr2(previous)
    };

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
    if let Err(why) = wait_until_in_flock(tid) {
        println!("skipped: {why}");
        rustix::fs::flock(&holder, rustix::fs::FlockOperation::Unlock).unwrap();
        assert_eq!(done_rx.recv().unwrap(), Ok(()));
        thread.join().unwrap();
        return;
    }
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
