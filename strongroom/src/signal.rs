//! The change signal: a 64-byte file beside the keystore
//! (`<keystore file>-signal`, [`signal_path`](crate::store::signal_path)), mapped into memory by every
//! handle, holding two counters that every write transaction of this
//! library moves. It lets a call check for commits by other handles and
//! processes with two atomic loads instead of an SQLite read transaction
//! (`PRAGMA data_version`, ~2 µs with its two `fcntl` locks).
//!
//! # Protocol
//!
//! A writer, once it holds SQLite's write lock, takes a shared `flock` on the
//! file and increments `begun`; after its commit (or rollback) it
//! increments `ended` and unlocks. So `begun == ended` means no writer of
//! this library is between those two points (a *write window*), and every
//! commit lies inside a window.
//!
//! A reader loads `ended`, then `begun`. If they are equal (the signal is
//! *quiescent* at `begun`), every commit of a window numbered up to `begun`
//! is complete and visible to a read that starts afterwards, and any later
//! commit first moves `begun`. So the value `begun` of a quiescent signal
//! names the state of the database as the storage's change counter needs
//! ([`SqliteStorage`](crate::store::SqliteStorage) folds it into its own
//! counter). When the counters differ, a window is open, or a writer died in
//! one (a crash, `kill -9`): the reader uses `PRAGMA data_version` for that
//! call, and tries to repair the file ([`ChangeSignal::recover`]): if it can
//! take an exclusive `flock` through a new open file description, no writer
//! is in a window, and it sets `ended` to `begun`.
//!
//! The file never holds key material or anything secret: a magic string, a
//! format version and the two counters (see `docs/FORMAT.md`). A missing file
//! is created (atomically, complete) when a keystore is opened; a file that
//! cannot be created, opened or mapped, or is not a signal file, leaves the
//! handle on `PRAGMA data_version` for every call, as before the signal.
//!
//! `unsafe`: the counters are `AtomicU64`s in memory shared with other
//! processes; the one `unsafe` block turns the mapping's address into those
//! references (see [`ChangeSignal::counter`]). A mapping of a file that
//! another program truncates raises `SIGBUS` on access; only this library
//! writes the file, and it never truncates it (tampering with the keystore's
//! files is outside what a keystore can defend against).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::store::restore_owner_access;

/// Size of the signal file in bytes.
pub(crate) const SIGNAL_LEN: usize = 64;
/// The first eight bytes of a signal file.
const MAGIC: &[u8; 8] = b"SRSIGNAL";
/// Format version (bytes 8..12, little-endian).
const VERSION: u32 = 1;
/// Offset of `begun`.
const BEGUN: usize = 16;
/// Offset of `ended`.
const ENDED: usize = 24;

/// The bytes of a new signal file.
fn initial_bytes() -> [u8; SIGNAL_LEN] {
    let mut b = [0u8; SIGNAL_LEN];
    b[..8].copy_from_slice(MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b
}

/// Whether `f` is a complete signal file of this version.
fn is_signal_file(f: &mut File) -> bool {
    use std::io::Read;
    let mut head = [0u8; 12];
    f.metadata().is_ok_and(|m| m.len() >= SIGNAL_LEN as u64)
        && f.read_exact(&mut head).is_ok()
        && head[..8] == *MAGIC
        && head[8..12] == VERSION.to_le_bytes()
}

/// (device, inode) of an open file.
fn file_id(f: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    f.metadata().ok().map(|m| (m.dev(), m.ino()))
}

/// The mapped signal file of one handle (see the module documentation).
pub(crate) struct ChangeSignal {
    map: MmapRaw,
    /// The file, for the writers' shared `flock`.
    file: File,
    path: PathBuf,
    /// (device, inode) of `file`.
    id: (u64, u64),
}

impl std::fmt::Debug for ChangeSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeSignal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ChangeSignal {
    /// Maps the signal file at `path`, creating it if it is missing (with
    /// the permissions of the keystore file `like`, and always its owner's
    /// read and write: [`signal_mode`]). A file its owner may not write
    /// (brought down to a read-only keystore's mode by an earlier version)
    /// is given back its owner's read and write permission when the
    /// keystore file has them ([`restore_owner_access`]). `None` if it
    /// cannot be created, opened or mapped, or is not a signal file.
    pub(crate) fn open(path: &Path, like: &Path) -> Option<Self> {
        // A symbolic link at `path` is not followed (`O_NOFOLLOW`): the
        // file it names is never mapped or has its mode changed
        // ([`matches_keystore`]); nor does a FIFO block (`O_NONBLOCK`).
        let open = || {
            use std::os::unix::fs::OpenOptionsExt;
            OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(
                    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
                )
                .open(path)
        };
        let mut file = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create(path, like).ok()?;
                open().ok()?
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::PermissionDenied
                    && std::fs::metadata(like).is_ok_and(|ks| restore_owner_access(path, &ks)) =>
            {
                open().ok()?
            }
            Err(_) => return None,
        };
        if !is_signal_file(&mut file) || !matches_keystore(&file, like) {
            return None;
        }
        let map = MmapOptions::new().len(SIGNAL_LEN).map_raw(&file).ok()?;
        let id = file_id(&file)?;
        Some(ChangeSignal {
            map,
            file,
            path: path.to_path_buf(),
            id,
        })
    }

    /// Removes the file at `path` if it is there and is not a complete
    /// signal file (before a keystore is created at its keystore path).
    pub(crate) fn remove_if_invalid(path: &Path) {
        if let Ok(mut f) = File::open(path) {
            if !is_signal_file(&mut f) {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// The counter at byte `offset` of the mapping.
    #[allow(unsafe_code)]
    fn counter(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset == BEGUN || offset == ENDED);
        let ptr = self.map.as_ptr().wrapping_add(offset).cast::<AtomicU64>();
        // SAFETY: `map` maps `SIGNAL_LEN` bytes of the file (checked to be
        // that long) for reading and writing, page-aligned, for as long as
        // `self` lives, which bounds the returned reference. `offset` is 16
        // or 24, so `ptr` is 8-aligned and the 8 bytes lie inside the
        // mapping. Rust code only ever accesses these bytes through
        // `AtomicU64` (no `&[u8]` or `&mut` to the mapping exists), and other
        // processes access them with atomic instructions too, or not at all;
        // an `AtomicU64` may be shared and modified concurrently by design.
        unsafe { &*ptr }
    }

    /// `begun` if no write window is open (see the module documentation).
    pub(crate) fn quiescent(&self) -> Option<u64> {
        let ended = self.counter(ENDED).load(Ordering::Acquire);
        let begun = self.counter(BEGUN).load(Ordering::Acquire);
        (begun == ended).then_some(begun)
    }

    /// Opens a write window: call once the database's write lock is held,
    /// before anything is written; the window closes when the guard drops
    /// (after the commit or rollback).
    pub(crate) fn begin(&self) -> WriteWindow<'_> {
        let locked = loop {
            match rustix::fs::flock(&self.file, rustix::fs::FlockOperation::LockShared) {
                Ok(()) => break true,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => break false,
            }
        };
        self.counter(BEGUN).fetch_add(1, Ordering::SeqCst);
        WriteWindow {
            signal: self,
            locked,
        }
    }

    /// Closes a window left open by a writer that died in it: if an
    /// exclusive `flock` can be taken at once (through a new open file
    /// description of the same file, so that it conflicts with this
    /// process's writers too), no writer is in a window, and `ended` is set
    /// to `begun`. Returns whether the signal is now quiescent.
    pub(crate) fn recover(&self) -> bool {
        let Ok(f) = File::open(&self.path) else {
            return false;
        };
        if file_id(&f) != Some(self.id)
            || rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err()
        {
            return false;
        }
        let begun = self.counter(BEGUN).load(Ordering::SeqCst);
        self.counter(ENDED).store(begun, Ordering::SeqCst);
        // Dropping `f` releases the lock.
        true
    }

    /// Whether the signal path still names the mapped file (it was not
    /// deleted or replaced since it was opened).
    pub(crate) fn still_at_path(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
    }
}

/// An open write window (see [`ChangeSignal::begin`]).
pub(crate) struct WriteWindow<'a> {
    signal: &'a ChangeSignal,
    /// The shared `flock` was taken.
    locked: bool,
}

impl Drop for WriteWindow<'_> {
    fn drop(&mut self) {
        if self.locked {
            self.signal.counter(ENDED).fetch_add(1, Ordering::SeqCst);
            let _ = rustix::fs::flock(&self.signal.file, rustix::fs::FlockOperation::Unlock);
        } else {
            // Without the lock, `recover` may have closed this window while
            // the commit was still running; moving `begun` again (and not
            // `ended`) makes every reader look at the database once more.
            self.signal.counter(BEGUN).fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The mode a signal file beside a keystore file of mode `keystore` has:
/// the keystore's, with its owner's read and write permission always (a
/// read-only keystore file, `chmod a-w`, must not leave its signal file
/// read only once the keystore is writable again: the counters hold
/// nothing secret, and only the owner gains).
fn signal_mode(keystore: u32) -> u32 {
    (keystore | 0o600) & 0o7777
}

/// Whether the signal file `f` belongs with the keystore file `like`: the
/// same owner (a signal file another user placed beside the keystore, who
/// could then truncate it under our mapping or freeze its counters, is not
/// used), its group and other permissions brought to the keystore's when
/// they differ (e.g. after `chmod g+rw` on the keystore, so that the
/// group's processes can move the counters too, or `chmod go-rw`; this
/// fails harmlessly for a non-owner), its owner's never taken away
/// ([`signal_mode`]).
fn matches_keystore(f: &File, like: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (Ok(sig), Ok(ks)) = (f.metadata(), std::fs::metadata(like)) else {
        return false;
    };
    if !sig.is_file() || sig.uid() != ks.uid() {
        return false;
    }
    let mode = signal_mode(ks.mode());
    if sig.mode() & 0o7777 != mode {
        let _ = f.set_permissions(std::fs::Permissions::from_mode(mode));
    }
    true
}

/// Creates a complete signal file at `path` with the permissions of `like`
/// and its owner's read and write ([`signal_mode`]; written and synced
/// under a temporary name, then linked into place
/// without replacing a file another process created meanwhile).
fn create(path: &Path, like: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let perms = {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        std::fs::Permissions::from_mode(signal_mode(std::fs::metadata(like)?.mode()))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".strongroom-signal")
        .permissions(perms.clone())
        .tempfile_in(dir)?;
    // Exactly that mode, whatever the umask took away at creation.
    tmp.as_file().set_permissions(perms)?;
    tmp.write_all(&initial_bytes())?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.error),
    }
}
