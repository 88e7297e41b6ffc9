//! Rollback detection beyond the file (`docs/FORMAT.md`, "Keystore
//! anchor"): the highest integrity state a handle, the process and,
//! opt-in, an external anchor have seen.
//!
//! The integrity state (`crate::integrity`) makes any mix of old and
//! current rows detectable, but not the whole file (and the audit log cut
//! to match) put back to an earlier state: every row of that state is
//! authentic. What tells is a record of a later state kept elsewhere. Three
//! are checked against every authenticated state a handle reads (on open,
//! in `verify_digest`, at the start of every write and of every audit
//! checkpoint store):
//!
//! - the handle's highest counter (shared by the handles made from it and
//!   its audit sink): a lower one is refused;
//! - the process's highest `(counter, state digest)` for this keystore ID
//!   and file (shared by every handle of the process, kept while one is
//!   open): a lower counter is
//!   refused, and so is the same counter with another state (a write made
//!   on a rolled-back file by another process moves its counter up, but not
//!   back onto the state the process saw);
//! - the [`AnchorStore`], when configured: the same comparison against the
//!   record the last write (of any process using it) stored, so a handle
//!   opened after the rollback is refused too. After every committed write
//!   and checkpoint store the new state is stored into it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use serde::{Deserialize, Serialize};
use strongroom_core::seal::RootKey;
use strongroom_core::{Error, Result};

use crate::integrity::{State, CHECKPOINT_LEN};

/// Version of the anchor record (`docs/FORMAT.md`, "Keystore anchor").
const ANCHOR_VERSION: u8 = 1;
/// The domain label of the anchor record's MAC.
const ANCHOR_LABEL: &[u8] = b"strongroom/v1/anchor";
/// The longest anchor record [`FileAnchor`] reads, in bytes (a record is
/// about 400).
const MAX_RECORD_LEN: u64 = 4096;

/// Where the keystore's anchor record is kept: storage an attacker who can
/// put the keystore file back cannot put back with it (another mount, a
/// write-once or append-only location, a remote service).
///
/// The record is opaque bytes to the store (JSON, `docs/FORMAT.md`,
/// "Keystore anchor"), authenticated by a MAC under a key derived from the
/// root key; it holds no key material. Strongroom calls
/// [`store`](Self::store) after every committed write, holding the audit
/// log's lock (so stores of one keystore never run concurrently; Unix),
/// and [`load`](Self::load) at every state check (outside a write, before
/// the keystore is read). Records are under 4096 bytes ([`FileAnchor`]
/// refuses a longer file).
///
/// Both run holding the handle's audit log mutex (not re-entrant), the
/// log's file lock and, for some stores, inside the keystore's SQLite
/// write transaction: an implementation must never call back into
/// Strongroom (any handle of the keystore), which would deadlock or fail.
pub trait AnchorStore: Send + Sync {
    /// The stored record, or `None` if none was ever stored.
    ///
    /// # Errors
    /// `KMSInternalException` when the storage cannot be read (the check,
    /// and with it the operation, then fails).
    fn load(&self) -> Result<Option<Vec<u8>>>;

    /// Replaces the stored record with `record`, durably: a later
    /// [`load`](Self::load), by this or another process, returns it or a
    /// later one, never a mix.
    ///
    /// # Errors
    /// `KMSInternalException` when the storage cannot be written.
    fn store(&self, record: &[u8]) -> Result<()>;

    /// The file this store keeps the record in, if it is a local file
    /// ([`FileAnchor`]): a keystore is then refused an anchor that is one
    /// of its own files. `None` (the default) for any other storage.
    fn file_path(&self) -> Option<&Path> {
        None
    }
}

/// An [`AnchorStore`] in a file, replaced atomically: the record is written
/// to a temporary file in the same directory, `fsync`ed, renamed over the
/// path, and the directory `fsync`ed (Unix), so a crash leaves the old
/// record or the new one. Created mode 0600 on Unix. The path must name
/// the file itself: a symbolic link there is refused by
/// [`load`](AnchorStore::load) and [`store`](AnchorStore::store)
/// (`KMSInternalException`), as the rename would replace the link, not
/// the file it names.
#[derive(Clone, Debug)]
pub struct FileAnchor {
    path: PathBuf,
}

impl FileAnchor {
    /// The anchor file at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileAnchor { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::internal(format!("{what} the anchor file {}: {e}", path.display()))
}

/// Refuses a symbolic link at the anchor's path: [`FileAnchor::store`]
/// replaces the path itself, so it would replace the link with a regular
/// file beside it and stop updating the file the link names.
fn refuse_link(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::internal(format!(
            "the anchor file {} is a symbolic link: give the path of the file itself (the \
             anchor is replaced by a rename, which would replace the link)",
            path.display()
        ))),
        _ => Ok(()),
    }
}

impl AnchorStore for FileAnchor {
    fn file_path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn load(&self) -> Result<Option<Vec<u8>>> {
        use std::io::Read;
        refuse_link(&self.path)?;
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        // Opening a FIFO for reading would block until a writer comes; a
        // link put in place since the check above is not followed.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(
            &mut options,
            (rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW).bits() as i32,
        );
        let file = match options.open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                refuse_link(&self.path)?;
                return Err(io_err("reading", &self.path, &e));
            }
        };
        // A regular file (not a FIFO or device, which could block the read
        // or never end), read up to the cap.
        let meta = file
            .metadata()
            .map_err(|e| io_err("reading", &self.path, &e))?;
        if !meta.is_file() {
            return Err(Error::internal(format!(
                "the anchor file {} is not a regular file",
                self.path.display()
            )));
        }
        let mut out = Vec::new();
        file.take(MAX_RECORD_LEN + 1)
            .read_to_end(&mut out)
            .map_err(|e| io_err("reading", &self.path, &e))?;
        if out.len() as u64 > MAX_RECORD_LEN {
            return Err(anchor_failed("a record longer than 4096 bytes"));
        }
        Ok(Some(out))
    }

    fn store(&self, record: &[u8]) -> Result<()> {
        use std::io::Write;
        refuse_link(&self.path)?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        // `tempfile` creates the file 0600 on Unix.
        let mut tmp =
            tempfile::NamedTempFile::new_in(dir).map_err(|e| io_err("creating", &self.path, &e))?;
        tmp.write_all(record)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io_err("writing", &self.path, &e))?;
        tmp.persist(&self.path)
            .map_err(|e| io_err("replacing", &self.path, &e.error))?;
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_err("syncing the directory of", &self.path, &e))?;
        Ok(())
    }
}

/// An [`AnchorStore`] as a setting of [`crate::OpenOptions`] and
/// [`crate::CreateOptions`]: compared by identity (two settings are equal
/// when they name the same store object).
#[derive(Clone)]
pub struct Anchor {
    store: Arc<dyn AnchorStore>,
    initialize: bool,
}

impl Anchor {
    /// The anchor kept by `store`. Opening a keystore whose anchor is
    /// missing (`load` returns `None`) is refused; see
    /// [`initialize_if_missing`](Self::initialize_if_missing).
    pub fn new(store: Arc<dyn AnchorStore>) -> Self {
        Anchor {
            store,
            initialize: false,
        }
    }

    /// The anchor in the file at `path` ([`FileAnchor`]).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::new(Arc::new(FileAnchor::new(path)))
    }

    /// With `yes`, a missing anchor is created from the keystore's state as
    /// it is when opened (trust on first use: a file rolled back before
    /// that open is taken as current); by the open only: an anchor deleted
    /// while the handle runs is refused by its next check. Without it (the default) opening a
    /// keystore whose anchor is missing is refused with
    /// `KMSInternalException`: an anchor deleted together with a rollback
    /// must not silently start over. [`crate::Keystore::create`] always
    /// creates the anchor.
    #[must_use]
    pub fn initialize_if_missing(mut self, yes: bool) -> Self {
        self.initialize = yes;
        self
    }
}

impl Anchor {
    /// Refuses a file anchor that is one of the keystore's own files (the
    /// keystore, its SQLite sidecars, its change-signal file or its audit
    /// log): storing the record there would destroy that file. Paths are
    /// compared with their directories resolved, and by device and inode
    /// when both exist (hard links).
    ///
    /// # Errors
    /// `ValidationException` naming the file.
    pub(crate) fn refuse_keystore_file(&self, keystore: &Path) -> Result<()> {
        let Some(anchor) = self.store.file_path() else {
            return Ok(());
        };
        let own = keystore_files(keystore);
        let a = resolved(anchor);
        for (f, what) in &own {
            if a.is_some() && a == resolved(f) || same_file(anchor, f) {
                return Err(Error::validation(format!(
                    "the anchor {} is {what}: storing the anchor would destroy it; choose another path",
                    anchor.display()
                )));
            }
        }
        Ok(())
    }

    /// Refuses an anchor that already holds a record, before a keystore is
    /// created with it: another keystore's (or an earlier one's at the
    /// same path) would be replaced.
    ///
    /// # Errors
    /// `AlreadyExistsException` when it holds one; `KMSInternalException`
    /// when it cannot be read.
    pub(crate) fn refuse_existing(&self) -> Result<()> {
        if self.store.load()?.is_some() {
            return Err(Error::new(
                strongroom_core::ErrorKind::AlreadyExistsException,
                "the keystore anchor already holds a record (of another keystore, or an \
                 earlier one at this path): remove it first to replace it",
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchor")
            .field("initialize", &self.initialize)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Anchor {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store, &other.store) && self.initialize == other.initialize
    }
}

impl Eq for Anchor {}

/// An authenticated state as the checks compare it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub counter: u64,
    /// SHA-256 of the state row's body ([`State::digest`]).
    pub digest: [u8; 32],
    pub checkpoint: [u8; CHECKPOINT_LEN],
}

impl Seen {
    pub(crate) fn of(state: &State) -> Result<Self> {
        Ok(Seen {
            counter: state.counter,
            digest: state.digest()?,
            checkpoint: state.checkpoint,
        })
    }

    /// Whether `self` is behind `other` or on another branch at its counter.
    fn refused_by(&self, other: &Seen) -> bool {
        self.counter < other.counter
            || (self.counter == other.counter && !crate::subtle_eq(&self.digest, &other.digest))
    }
}

/// The anchor record as stored (JSON; hex fields lower-case).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Record {
    version: u8,
    keystore_id: String,
    counter: u64,
    state_digest: String,
    audit_records: u64,
    audit_chain: String,
    audit_log_length: u64,
    mac: String,
}

fn anchor_failed(why: &str) -> Error {
    crate::auth_failed(&format!(
        "the keystore anchor ({why}; the keystore file was put back to an earlier state, or \
         the anchor replaced)"
    ))
}

/// The MAC of a record: `HMAC(anchor key, "strongroom/v1/anchor" ‖ u8
/// version ‖ u32 len(keystore ID) ‖ keystore ID ‖ u64 counter ‖ state
/// digest (32) ‖ checkpoint (48))`.
fn record_mac(root: &RootKey, keystore_id: &str, seen: &Seen) -> Result<[u8; 32]> {
    let id_len = u32::try_from(keystore_id.len())
        .map_err(|_| Error::internal("keystore ID too long"))?
        .to_be_bytes();
    root.mac_anchor(&[
        ANCHOR_LABEL,
        &[ANCHOR_VERSION],
        &id_len,
        keystore_id.as_bytes(),
        &seen.counter.to_be_bytes(),
        &seen.digest,
        &seen.checkpoint,
    ])
}

fn u64_at(b: &[u8; CHECKPOINT_LEN], at: usize) -> u64 {
    let mut n = [0u8; 8];
    n.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(n)
}

/// The record of `seen` in keystore `keystore_id`, MAC'd.
fn encode(root: &RootKey, keystore_id: &str, seen: &Seen) -> Result<Vec<u8>> {
    let rec = Record {
        version: ANCHOR_VERSION,
        keystore_id: keystore_id.to_owned(),
        counter: seen.counter,
        state_digest: hex::encode(seen.digest),
        audit_records: u64_at(&seen.checkpoint, 0),
        audit_chain: hex::encode(&seen.checkpoint[8..40]),
        audit_log_length: u64_at(&seen.checkpoint, 40),
        mac: hex::encode(record_mac(root, keystore_id, seen)?),
    };
    let mut out = crate::to_json(&rec)?;
    out.push(b'\n');
    Ok(out)
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    (s.len() == 2 * N && !s.bytes().any(|b| b.is_ascii_uppercase()))
        .then(|| hex::decode_to_slice(s, &mut out).ok())
        .flatten()
        .map(|()| out)
}

/// The state a stored record holds, after checking its form, MAC and
/// keystore ID.
fn decode(root: &RootKey, keystore_id: &str, bytes: &[u8]) -> Result<Seen> {
    let rec: Record =
        serde_json::from_slice(bytes).map_err(|_| anchor_failed("a malformed record"))?;
    if rec.version != ANCHOR_VERSION {
        return Err(anchor_failed("an unknown record version"));
    }
    if rec.keystore_id != keystore_id {
        return Err(anchor_failed("the anchor of another keystore"));
    }
    let (Some(digest), Some(chain), Some(mac)) = (
        unhex::<32>(&rec.state_digest),
        unhex::<32>(&rec.audit_chain),
        unhex::<32>(&rec.mac),
    ) else {
        return Err(anchor_failed("a malformed record"));
    };
    let mut checkpoint = [0u8; CHECKPOINT_LEN];
    checkpoint[..8].copy_from_slice(&rec.audit_records.to_be_bytes());
    checkpoint[8..40].copy_from_slice(&chain);
    checkpoint[40..].copy_from_slice(&rec.audit_log_length.to_be_bytes());
    let seen = Seen {
        counter: rec.counter,
        digest,
        checkpoint,
    };
    if !crate::subtle_eq(&record_mac(root, keystore_id, &seen)?, &mac) {
        return Err(anchor_failed("its MAC does not verify"));
    }
    Ok(seen)
}

/// The process-wide highest state of each keystore file: by keystore ID
/// and the file's audit-log path (the canonical keystore path's, unique per
/// file: two copies of one keystore are separate histories). Kept while a
/// handle of the file is open in the process (the guards hold it): a
/// process that closes every handle starts over, as a new process does,
/// and a crash simulated in a test by closing every handle and putting an
/// older file back is a new start too.
type Registry = Mutex<HashMap<(String, PathBuf), Weak<Mutex<Option<Seen>>>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The highest states seen, checked against every authenticated state a
/// handle reads (module documentation). Shared by a handle, the handles
/// made from it and its audit sink.
pub(crate) struct StateGuard {
    root: RootKey,
    keystore_id: String,
    /// The handle's highest counter.
    handle: AtomicU64,
    /// The process's highest state of this keystore file.
    process: Arc<Mutex<Option<Seen>>>,
    anchor: Option<Arc<dyn AnchorStore>>,
    /// Whether a missing anchor is created ([`Anchor::initialize_if_missing`]):
    /// only until the handle's open (or create) has checked the keystore
    /// ([`StateGuard::end_initialization`]); a later missing anchor is
    /// refused.
    initialize: AtomicBool,
}

/// What [`StateGuard::marks`] read before a read snapshot.
pub(crate) struct Marks {
    handle: u64,
    process: Option<Seen>,
    /// The anchor record as loaded (`None` outside: no anchor configured).
    anchor: Option<Option<Vec<u8>>>,
}

impl StateGuard {
    /// The guard of keystore `keystore_id` whose audit log is `audit_path`.
    pub(crate) fn new(
        root: RootKey,
        keystore_id: &str,
        audit_path: &Path,
        anchor: Option<Anchor>,
    ) -> Self {
        let mut reg = lock(registry());
        let key = (keystore_id.to_owned(), audit_path.to_path_buf());
        let process = match reg.get(&key).and_then(Weak::upgrade) {
            Some(p) => p,
            None => {
                reg.retain(|_, p| p.strong_count() > 0);
                let p = Arc::new(Mutex::new(None));
                reg.insert(key, Arc::downgrade(&p));
                p
            }
        };
        drop(reg);
        let initialize = anchor.as_ref().is_some_and(|a| a.initialize);
        StateGuard {
            root,
            keystore_id: keystore_id.to_owned(),
            handle: AtomicU64::new(0),
            process,
            anchor: anchor.map(|a| a.store),
            initialize: AtomicBool::new(initialize),
        }
    }

    /// The handle's highest counter.
    pub(crate) fn handle_counter(&self) -> u64 {
        self.handle.load(Ordering::Acquire)
    }

    /// Ends [`Anchor::initialize_if_missing`] for this handle (after its
    /// open or create checked, or created, the anchor).
    pub(crate) fn end_initialization(&self) {
        self.initialize.store(false, Ordering::Release);
    }

    /// The highest states seen and the anchor record now, taken before a
    /// read snapshot: a write committed by another thread or process while
    /// the snapshot is read raises them without making the snapshot a
    /// rollback. The anchor is read first, as it is only ever stored after
    /// the commit of the state it holds, so it is never ahead of a
    /// snapshot taken later.
    ///
    /// # Errors
    /// `KMSInternalException` when the anchor cannot be read.
    pub(crate) fn marks(&self) -> Result<Marks> {
        let anchor = match &self.anchor {
            Some(a) => Some(a.load()?),
            None => None,
        };
        Ok(Marks {
            handle: self.handle_counter(),
            process: *lock(&self.process),
            anchor,
        })
    }

    /// Whether the anchor record now differs from the one `marks` loaded
    /// (another handle or process stored one meanwhile); `false` without
    /// an anchor.
    ///
    /// # Errors
    /// `KMSInternalException` when the anchor cannot be read.
    pub(crate) fn anchor_moved(&self, marks: &Marks) -> Result<bool> {
        match (&self.anchor, &marks.anchor) {
            (Some(a), Some(before)) => Ok(a.load()? != *before),
            _ => Ok(false),
        }
    }

    /// Checks `state`, the authenticated state as read, against the
    /// highest seen and the anchor (`marks`, read before a snapshot
    /// outside the log's lock; `None` inside the log's lock, where they are
    /// read now), and records it as seen. Returns whether the anchor is
    /// behind it (or missing, while it may be initialised) and is to be
    /// moved forward. With `fail_closed` (a keystore write, under the log's
    /// lock), an anchor found behind is moved to `state` (the state before
    /// the change) here, and the write refused if that store fails,
    /// whichever handle or process left it behind; `false` is returned.
    ///
    /// # Errors
    /// `KMSInternalException` for a state older than one seen, another
    /// state at the counter of one seen, or an anchor that is missing (not
    /// to be initialised), fails authentication, or (after a failed store)
    /// still cannot be stored.
    pub(crate) fn check(
        &self,
        state: &State,
        marks: Option<Marks>,
        fail_closed: bool,
    ) -> Result<bool> {
        let seen = Seen::of(state)?;
        let marks = match marks {
            Some(m) => m,
            None => self.marks()?,
        };
        // The anchor first: its refusal names it.
        let behind = match marks.anchor {
            None => false,
            Some(Some(bytes)) => {
                let anchored = decode(&self.root, &self.keystore_id, &bytes)?;
                if seen.refused_by(&anchored) {
                    return Err(anchor_failed(
                        "the keystore's integrity state is older than the anchored one",
                    ));
                }
                anchored.counter < seen.counter
            }
            Some(None) if self.initialize.load(Ordering::Acquire) => true,
            Some(None) => {
                return Err(Error::internal(
                    "the keystore anchor is missing: restore it, or open once with the \
                     anchor to be initialised from the keystore as it is (trust on first use)",
                ))
            }
        };
        if seen.counter < marks.handle || marks.process.is_some_and(|p| seen.refused_by(&p)) {
            return Err(crate::integrity::rolled_back());
        }
        self.record(&seen);
        if behind && fail_closed {
            // Fail closed: nothing changes while the anchor stays behind.
            // Under the log's lock every commit stores its state before the
            // lock is released, so an anchor behind here is one whose store
            // failed (in any handle or process) or was cut short by a crash.
            self.put(&seen).map_err(|e| {
                Error::internal(format!(
                    "the keystore anchor is behind the keystore (an earlier store failed) \
                     and cannot be stored; nothing was changed: {}",
                    e.message()
                ))
            })?;
            return Ok(false);
        }
        Ok(behind)
    }

    /// Records `seen` (authenticated) as seen by the handle and the process.
    fn record(&self, seen: &Seen) {
        self.handle.fetch_max(seen.counter, Ordering::AcqRel);
        let mut p = lock(&self.process);
        if p.is_none_or(|p| p.counter < seen.counter) {
            *p = Some(*seen);
        }
    }

    /// After a committed write of `state` (or a check under the log's lock
    /// that found the anchor behind), under the log's lock: records it as
    /// seen and stores it in the anchor.
    ///
    /// A failed store is not the write's error: the write is committed,
    /// and its caller is told so (a KMS client takes an error for "nothing
    /// changed" and retries). It is a deferred fault instead: the anchor is
    /// left behind, and the next write (by any handle or process using the
    /// anchor) stores it first and is refused, changing nothing, while that
    /// fails; opening with the anchor, and `verify_digest`, move it forward
    /// or fail.
    ///
    /// # Errors
    /// `KMSInternalException` when the state cannot be encoded.
    pub(crate) fn committed(&self, state: &State) -> Result<()> {
        let seen = Seen::of(state)?;
        self.record(&seen);
        // A failure leaves the anchor behind, which the next write acts on.
        let _left_behind = self.put(&seen);
        Ok(())
    }

    /// After a committed audit checkpoint store of `state`, under the
    /// log's lock: records it as seen and stores it in the anchor. A failed
    /// store is not the operation's error (the operation's own outcome is
    /// what its caller needs, and reads go on while the anchor's storage
    /// is down): it leaves the anchor behind, so the next keystore write
    /// (of any handle or process) stores it first and is refused while that
    /// fails.
    ///
    /// # Errors
    /// `KMSInternalException` when the state cannot be encoded.
    pub(crate) fn checkpointed(&self, state: &State) -> Result<()> {
        let seen = Seen::of(state)?;
        self.record(&seen);
        // A failure leaves the anchor behind, which the next write acts on.
        let _left_behind = self.put(&seen);
        Ok(())
    }

    /// Moves the anchor forward to `state`, found behind it by
    /// [`check`](Self::check) under the log's lock, on open or
    /// verification (nothing was written).
    ///
    /// # Errors
    /// `KMSInternalException` when the anchor cannot be stored.
    pub(crate) fn advance(&self, state: &State) -> Result<()> {
        let seen = Seen::of(state)?;
        self.put(&seen).map_err(|e| {
            Error::internal(format!(
                "the keystore anchor is behind the keystore and could not be moved forward \
                 (the anchor's location must be writable): {}",
                e.message()
            ))
        })
    }

    /// Stores `seen` in the anchor, if there is one.
    fn put(&self, seen: &Seen) -> Result<()> {
        let Some(a) = &self.anchor else {
            return Ok(());
        };
        a.store(&encode(&self.root, &self.keystore_id, seen)?)
    }
}

/// The files a keystore at `keystore` owns, each with what it is: the
/// keystore, its SQLite `-wal`, `-shm` and `-journal` files, its
/// change-signal file ([`crate::signal_path`]) and its audit log
/// ([`crate::audit_log_path`]), listed beside the path as given and, when
/// it resolves to another file (a symbolic link), beside that file too
/// (SQLite and the library name them after the resolved file). For
/// callers that must not write over them (an anchor, an output file).
pub fn keystore_files(keystore: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut bases = vec![keystore.to_path_buf()];
    if let Ok(real) = std::fs::canonicalize(keystore) {
        if real != keystore {
            bases.push(real);
        }
    }
    let mut files = Vec::new();
    for base in &bases {
        let sidecar = |suffix: &str| {
            let mut s = base.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        files.extend([
            (base.clone(), "the keystore"),
            (sidecar("-wal"), "the keystore's write-ahead log"),
            (sidecar("-shm"), "the keystore's shared-memory file"),
            (sidecar("-journal"), "the keystore's journal"),
            (
                crate::signal_path(base),
                "the keystore's change-signal file",
            ),
            (crate::audit_log_path(base), "the keystore's audit log"),
        ]);
    }
    files
}

/// `p` with its directory resolved (symbolic links, `..`), the file name
/// as given; `None` when the directory does not exist.
fn resolved(p: &Path) -> Option<PathBuf> {
    let name = p.file_name()?;
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

/// Whether `a` and `b` both exist and are the same file (Unix: device and
/// inode, so hard links and symbolic links count).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}
