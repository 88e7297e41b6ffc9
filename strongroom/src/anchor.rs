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

use crate::integrity::{State, ANCHOR_ID_LEN, CHECKPOINT_LEN};
use crate::store::sidecar;

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
/// (`ValidationException`), as the rename would replace the link, not
/// the file it names; a path that is not a regular file (a directory, a
/// device such as `/dev/null`, a FIFO) is refused by
/// [`load`](AnchorStore::load) with `ValidationException`.
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
        Ok(m) if m.file_type().is_symlink() => Err(Error::validation(format!(
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
            return Err(Error::validation(format!(
                "the anchor {} is not a regular file (a directory, device or pipe): give the \
                 path of a file",
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
    reinitialize: bool,
}

impl Anchor {
    /// The anchor kept by `store`. Opening a keystore whose anchor is
    /// missing (`load` returns `None`) is refused; see
    /// [`initialize_if_missing`](Self::initialize_if_missing).
    pub fn new(store: Arc<dyn AnchorStore>) -> Self {
        Anchor {
            store,
            initialize: false,
            reinitialize: false,
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
    /// must not silently start over. An open with an anchor (initialised
    /// or not) anchors the keystore (`docs/FORMAT.md`, "Anchored
    /// keystores"). It does not re-anchor a keystore that is anchored
    /// already: an anchor holding no record is then refused
    /// (`KMSInvalidStateException`, nothing created) unless
    /// [`reinitialize`](Self::reinitialize) is set. [`crate::Keystore::create`] always
    /// creates the anchor.
    #[must_use]
    pub fn initialize_if_missing(mut self, yes: bool) -> Self {
        self.initialize = yes;
        self
    }

    /// With `yes`, re-anchors an anchored keystore with this anchor when it
    /// holds no record (`docs/FORMAT.md`, "Anchored keystores"): the
    /// record is created from the keystore's state as it is when opened
    /// (trust on first use, as
    /// [`initialize_if_missing`](Self::initialize_if_missing), which it
    /// implies), and the keystore is given a new anchor ID, audited as
    /// `ReinitializeKeystoreAnchor`: every earlier anchor of the keystore
    /// is refused from then on. For recovery when the anchor is lost, with
    /// the keystore known to be current. Without it, an anchored keystore
    /// opened with an anchor that holds no record is refused
    /// (`KMSInvalidStateException`): a fresh anchor must not silently
    /// replace the keystore's, which would accept a rollback. An anchor
    /// that holds a record is checked as always.
    #[must_use]
    pub fn reinitialize(mut self, yes: bool) -> Self {
        self.reinitialize = yes;
        if yes {
            self.initialize = true;
        }
        self
    }

    /// Refuses [`initialize_if_missing`](Self::initialize_if_missing) and
    /// [`reinitialize`](Self::reinitialize) for `what`, which reads only
    /// and so can neither create nor re-anchor an anchor: taken there, a
    /// missing anchor would pass unchecked.
    ///
    /// # Errors
    /// `ValidationException` naming the option when either is set.
    pub(crate) fn refuse_initialization(&self, what: &str) -> Result<()> {
        let option = if self.reinitialize {
            "Anchor::reinitialize (CLI --anchor-reinit, Python anchor_reinit)"
        } else if self.initialize {
            "Anchor::initialize_if_missing (CLI --anchor-init, Python anchor_init)"
        } else {
            return Ok(());
        };
        Err(Error::validation(format!(
            "{option} is not accepted by {what}, which reads only and creates or re-anchors \
             no anchor: leave it out (a missing anchor is then refused), or open the keystore \
             with it for use first"
        )))
    }
}

impl Anchor {
    /// The anchor's file, when it is kept in one ([`FileAnchor`]).
    pub(crate) fn file_path(&self) -> Option<&Path> {
        self.store.file_path()
    }

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
        for (f, what) in &own {
            if crate::own_files::same_file(anchor, f) {
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

impl Anchor {
    /// Stores the first record of a keystore just created (`state`, its
    /// initial integrity state, counter 0), its error being the create's.
    ///
    /// # Errors
    /// `KMSInternalException` when the record cannot be encoded or stored.
    pub(crate) fn store_first(
        &self,
        root: &RootKey,
        keystore_id: &str,
        state: &State,
    ) -> Result<()> {
        self.store
            .store(&encode(root, keystore_id, &Seen::of(state)?)?)
            .map_err(|e| {
                Error::internal(format!(
                    "the keystore anchor's first record could not be stored (nothing was \
                     created; the anchor's location must be writable): {}",
                    e.message()
                ))
            })
    }
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchor")
            .field("initialize", &self.initialize)
            .field("reinitialize", &self.reinitialize)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Anchor {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store, &other.store)
            && self.initialize == other.initialize
            && self.reinitialize == other.reinitialize
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
    /// The state's anchor ID (`None`: not anchored, or a record of a build
    /// before anchor IDs).
    pub anchor: Option<[u8; ANCHOR_ID_LEN]>,
}

impl Seen {
    pub(crate) fn of(state: &State) -> Result<Self> {
        Ok(Seen {
            counter: state.counter,
            digest: state.digest()?,
            checkpoint: state.checkpoint,
            anchor: state.anchor,
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
    /// The anchor ID of the state held (hex), absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anchor_id: Option<String>,
    mac: String,
}

/// The refusal of a keystore whose state is behind its anchor's (a
/// rollback; the anchor itself authenticated).
fn behind_anchor(seen: &Seen, anchored: &Seen) -> Error {
    let how = if seen.counter < anchored.counter {
        format!(
            "its integrity state (write counter {}) is older than the anchored one (counter {})",
            seen.counter, anchored.counter
        )
    } else {
        format!(
            "its integrity state differs from the anchored one at the same write counter ({})",
            seen.counter
        )
    };
    Error::internal(format!(
        "the keystore file is behind its anchor: {how}. The file was put back to an earlier \
         state (possibly with writes since, by a process without the anchor); restore the \
         latest keystore file and its audit log"
    ))
}

fn anchor_failed(why: &str) -> Error {
    Error::internal(format!(
        "the keystore anchor does not authenticate as this keystore's ({why}): it was altered \
         or replaced, or belongs to another keystore; restore this keystore's anchor"
    ))
}

/// The MAC of a record: `HMAC(anchor key, "strongroom/v1/anchor" ‖ u8
/// version ‖ u32 len(keystore ID) ‖ keystore ID ‖ u64 counter ‖ state
/// digest (32) ‖ checkpoint (48) [‖ anchor ID (16), when the state has
/// one])`.
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
        seen.anchor.as_ref().map_or(&[][..], |a| &a[..]),
    ])
}

/// A new anchor ID (random), chosen when anchoring begins.
pub(crate) fn new_anchor_id() -> [u8; ANCHOR_ID_LEN] {
    let mut id = [0u8; ANCHOR_ID_LEN];
    rand_core::Rng::fill_bytes(&mut crate::os_rng(), &mut id);
    id
}

/// The refusal of an anchored keystore by a handle opened with neither its
/// anchor nor the opt-out.
fn not_with_anchor() -> Error {
    Error::new(
        strongroom_core::ErrorKind::KMSInvalidStateException,
        "this keystore is anchored (its integrity state says so) and is read and written only \
         with its anchor: give it (CLI --anchor PATH or STRONGROOM_ANCHOR, Python anchor=, Rust \
         OpenOptions::anchor) and reopen; a handle opened before the keystore was anchored must \
         be reopened; opening it without the anchor (CLI --no-anchor, Python anchor=False, Rust \
         OpenOptions::without_anchor) is audited and lets a keystore file put back to an \
         earlier state pass undetected",
    )
}

/// The refusal of an anchor that is not the anchored keystore's current one.
fn other_anchor(why: &str) -> Error {
    Error::new(
        strongroom_core::ErrorKind::KMSInvalidStateException,
        format!(
            "this keystore is anchored and the anchor given is not its anchor ({why}): give the \
             keystore's anchor; if it is lost and the keystore file is known to be current, \
             re-anchor it deliberately with an anchor holding no record (audited \
             ReinitializeKeystoreAnchor: CLI --anchor-reinit, Python anchor_reinit=True, Rust \
             Anchor::reinitialize)"
        ),
    )
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
        anchor_id: seen.anchor.map(hex::encode),
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
    let anchor = match &rec.anchor_id {
        None => None,
        Some(a) => {
            Some(unhex::<ANCHOR_ID_LEN>(a).ok_or_else(|| anchor_failed("a malformed record"))?)
        }
    };
    let seen = Seen {
        counter: rec.counter,
        digest,
        checkpoint,
        anchor,
    };
    if !crate::subtle_eq(&record_mac(root, keystore_id, &seen)?, &mac) {
        return Err(anchor_failed("its MAC does not verify"));
    }
    Ok(seen)
}

/// The state the anchor record `bytes` holds, after checking it (form,
/// MAC, keystore ID) and `seen` against it: refused when the record carries
/// another anchor ID than `seen`'s, or `seen` is behind it.
fn check_record(root: &RootKey, keystore_id: &str, seen: &Seen, bytes: &[u8]) -> Result<Seen> {
    let anchored = decode(root, keystore_id, bytes)?;
    if let (Some(id), Some(held)) = (seen.anchor, anchored.anchor) {
        if !crate::subtle_eq(&id, &held) {
            return Err(other_anchor(
                "it holds a record of another anchor ID: the keystore was re-anchored since, \
                 or the anchor was re-anchored from another copy of the keystore",
            ));
        }
    }
    if seen.refused_by(&anchored) {
        return Err(behind_anchor(seen, &anchored));
    }
    Ok(anchored)
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
    /// Whether an anchored keystore is re-anchored with an anchor holding
    /// no record ([`Anchor::reinitialize`]), until the open has checked it.
    reinitialize: AtomicBool,
    /// Whether the open's check took [`Anchor::reinitialize`] (the anchor
    /// held no record of the anchored keystore): the open then gives the
    /// keystore a new anchor ID.
    reinitialized: AtomicBool,
    /// Whether the handle was opened without the anchor of an anchored
    /// keystore on purpose ([`crate::OpenOptions::without_anchor`]).
    without_anchor: bool,
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
        without_anchor: bool,
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
        let reinitialize = anchor.as_ref().is_some_and(|a| a.reinitialize);
        StateGuard {
            root,
            keystore_id: keystore_id.to_owned(),
            handle: AtomicU64::new(0),
            process,
            anchor: anchor.map(|a| a.store),
            initialize: AtomicBool::new(initialize),
            reinitialize: AtomicBool::new(reinitialize),
            reinitialized: AtomicBool::new(false),
            without_anchor,
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
        self.reinitialize.store(false, Ordering::Release);
    }

    /// Whether the open's check took [`Anchor::reinitialize`] (an anchor
    /// holding no record accepted until the re-anchoring change ends).
    pub(crate) fn reinitialized(&self) -> bool {
        self.reinitialized.load(Ordering::Acquire)
    }

    /// Ends the re-anchoring the open took (after its change, committed or
    /// not): an anchor holding no record is refused again.
    pub(crate) fn end_reinitialization(&self) {
        self.reinitialized.store(false, Ordering::Release);
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
        // An anchored keystore (its state says so, authenticated and
        // counter-chained) is read and written only with its anchor or the
        // opt-out, by every handle and on every check: a handle opened
        // before the keystore was anchored is refused here.
        if seen.anchor.is_some() && self.anchor.is_none() && !self.without_anchor {
            return Err(not_with_anchor());
        }
        // The anchor first: its refusal names it.
        let behind = match marks.anchor {
            None => false,
            Some(Some(bytes)) => {
                check_record(&self.root, &self.keystore_id, &seen, &bytes)?.counter < seen.counter
            }
            Some(None) if seen.anchor.is_some() && self.reinitialize.load(Ordering::Acquire) => {
                // Nothing is stored here: the new anchor gets its first
                // record only from the committed ID change
                // (`ReinitializeKeystoreAnchor`), never one of the old ID.
                self.reinitialized.store(true, Ordering::Release);
                false
            }
            // The re-anchoring the open took, until its change commits.
            Some(None) if seen.anchor.is_some() && self.reinitialized.load(Ordering::Acquire) => {
                false
            }
            Some(None) if seen.anchor.is_some() && self.initialize.load(Ordering::Acquire) => {
                return Err(other_anchor(
                    "it holds no record: it is a new anchor, or the keystore's anchor was \
                     deleted, perhaps together with a rollback of the keystore file; an \
                     anchored keystore is not re-anchored by initialising a missing anchor",
                ));
            }
            Some(None) if self.initialize.load(Ordering::Acquire) => true,
            Some(None) if seen.anchor.is_some() => return Err(anchor_missing()),
            Some(None) => {
                return Err(Error::internal(
                    "the keystore anchor is missing (it holds no record): restore it, or, with \
                     the keystore known to be current, open once with the anchor to be created \
                     from the keystore as it is (CLI --anchor-init, Python anchor_init=True, \
                     Rust Anchor::initialize_if_missing; trust on first use)",
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

    /// After a committed change that gave the keystore a new anchor ID
    /// (`AnchorKeystore`, `ReinitializeKeystoreAnchor`), under the log's
    /// lock: as [`committed`](Self::committed), but a failed store is the
    /// change's error (the anchor would hold no record, or one of the old
    /// ID, and every later open would be refused without saying why).
    ///
    /// # Errors
    /// `KMSInternalException` when the state cannot be encoded or the
    /// anchor cannot be stored.
    pub(crate) fn committed_new_id(&self, state: &State) -> Result<()> {
        let seen = Seen::of(state)?;
        self.record(&seen);
        // The re-anchoring has committed: the anchor is the keystore's now.
        self.end_reinitialization();
        self.put(&seen).map_err(|e| {
            Error::internal(format!(
                "the keystore's new anchor ID was committed, but the anchor could not be \
                 stored: re-anchor the keystore with a writable anchor (CLI --anchor-reinit, \
                 Python anchor_reinit=True, Rust Anchor::reinitialize): {}",
                e.message()
            ))
        })
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

    /// Stores `seen` in the anchor, if there is one — not while a
    /// re-anchoring the open took has not committed (the anchor is not the
    /// keystore's yet: a record of the old anchor ID would make it accepted
    /// beside the lost one).
    fn put(&self, seen: &Seen) -> Result<()> {
        let Some(a) = &self.anchor else {
            return Ok(());
        };
        if self.reinitialized.load(Ordering::Acquire) {
            return Ok(());
        }
        a.store(&encode(&self.root, &self.keystore_id, seen)?)
    }
}

/// The files a keystore at `keystore` owns, each with what it is: the
/// keystore, its SQLite `-wal`, `-shm` and `-journal` files, its
/// change-signal file ([`crate::signal_path`]), its audit log
/// ([`crate::audit_log_path`]) and the next log file a rotation writes
/// before renaming it over the log (`<log>.rotating`,
/// [`Keystore::rotate_audit_log`](crate::Keystore::rotate_audit_log)), listed beside the path as given and, when
/// it resolves to another file (a symbolic link), beside that file too
/// (SQLite and the library name them after the resolved file). When the
/// audit log is itself a symbolic link, the rotation writes the next log
/// beside the file the link names (`<that file>.rotating`, the link kept),
/// so that path is listed too. For callers that must not write over them
/// (an anchor, an output file) and for removing a keystore's files (a
/// create that failed; the link itself is removed, not the file it names).
pub fn keystore_files(keystore: &Path) -> Vec<(PathBuf, &'static str)> {
    const NEXT_LOG: &str = "the keystore's next audit log while a rotation writes it";
    let mut bases = vec![keystore.to_path_buf()];
    if let Ok(real) = std::fs::canonicalize(keystore) {
        if real != keystore {
            bases.push(real);
        }
    }
    let mut files = Vec::new();
    for base in &bases {
        files.extend([
            (base.clone(), "the keystore"),
            (sidecar(base, "-wal"), "the keystore's write-ahead log"),
            (sidecar(base, "-shm"), "the keystore's shared-memory file"),
            (sidecar(base, "-journal"), "the keystore's journal"),
            (
                crate::signal_path(base),
                "the keystore's change-signal file",
            ),
            (crate::audit_log_path(base), "the keystore's audit log"),
            (
                crate::audit_log::rotating_path(&crate::audit_log_path(base)),
                NEXT_LOG,
            ),
        ]);
        // A log that is a symbolic link is rotated beside the file it names.
        if let Some(Ok(target)) = crate::audit_log::link_target(&crate::audit_log_path(base)) {
            files.push((crate::audit_log::rotating_path(&target), NEXT_LOG));
        }
    }
    files
}

/// Refuses to open an anchored keystore ([`crate::Config::anchored`])
/// without its anchor unless the caller opted out
/// ([`crate::OpenOptions::without_anchor`]); run once the configuration is
/// authenticated, before anything else is read or written.
///
/// # Errors
/// `KMSInvalidStateException` naming the ways to give the anchor.
pub(crate) fn check_anchored(config: &crate::Config, options: &crate::OpenOptions) -> Result<()> {
    if config.anchored && options.anchor.is_none() && !options.without_anchor {
        return Err(Error::new(
            strongroom_core::ErrorKind::KMSInvalidStateException,
            "this keystore is anchored and opens only with its anchor: give it (CLI --anchor \
             PATH or STRONGROOM_ANCHOR, Python anchor=, Rust OpenOptions::anchor); opening it \
             without the anchor (CLI --no-anchor, Python anchor=False, Rust \
             OpenOptions::without_anchor) is audited and lets a keystore file put back to an \
             earlier state pass undetected",
        ));
    }
    Ok(())
}

/// Whether a keystore is anchored and where its anchor stands
/// ([`crate::Keystore::anchor_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnchorStatus {
    /// Whether the keystore records that it is anchored (as stored now, in
    /// its authenticated configuration or integrity state).
    pub anchored: bool,
    /// Whether this handle was opened with an anchor (checks and moves it).
    pub anchor_given: bool,
    /// The keystore's integrity-state counter (moved by every write).
    pub keystore_counter: u64,
    /// The counter the anchor holds (authenticated); `None` when the
    /// handle has no anchor or the anchor holds no record.
    pub anchor_counter: Option<u64>,
}

/// The refusal of an anchored keystore's anchor that holds no record.
fn anchor_missing() -> Error {
    Error::internal(
        "the keystore anchor is missing (it holds no record): restore it, or, with the \
         keystore known to be current, re-anchor the keystore with it (audited \
         ReinitializeKeystoreAnchor: CLI --anchor-reinit, Python anchor_reinit=True, Rust \
         Anchor::reinitialize)",
    )
}

impl AnchorStatus {
    /// Whether the anchor holds an earlier state than the keystore (a store
    /// failed or was cut short by a crash, or a process without the anchor
    /// wrote; the next anchored write or open moves it forward).
    pub fn anchor_behind(&self) -> bool {
        self.anchor_counter
            .is_some_and(|a| a < self.keystore_counter)
    }
}

impl StateGuard {
    /// Whether the handle has an anchor.
    pub(crate) fn has_anchor(&self) -> bool {
        self.anchor.is_some()
    }

    /// The anchor's record as stored; `None` without an anchor or record.
    ///
    /// # Errors
    /// `KMSInternalException` when the anchor cannot be read.
    fn load_record(&self) -> Result<Option<Vec<u8>>> {
        match &self.anchor {
            Some(a) => a.load(),
            None => Ok(None),
        }
    }

    /// The counter the anchor holds, authenticated; `None` without an
    /// anchor or record.
    ///
    /// # Errors
    /// `KMSInternalException` when the anchor cannot be read or fails
    /// authentication.
    fn anchor_counter(&self) -> Result<Option<u64>> {
        let Some(a) = &self.anchor else {
            return Ok(None);
        };
        a.load()?
            .map(|bytes| decode(&self.root, &self.keystore_id, &bytes).map(|s| s.counter))
            .transpose()
    }
}

impl crate::Keystore {
    /// Whether the configuration records that the keystore is anchored,
    /// and its integrity state (both authenticated; with `verify`, the
    /// whole state checked as on open), in one read snapshot.
    fn read_anchoring(&self, verify: bool) -> Result<(bool, State)> {
        let root = &self.inner.root;
        let id = &self.inner.config.keystore_id;
        let mut read = None;
        self.inner.storage.read(&mut |tx| {
            let row = tx
                .get(crate::store::Table::Meta, crate::META_CONFIG)?
                .ok_or_else(|| crate::auth_failed("the keystore configuration"))?;
            let (config, _) = crate::migrate::read_config(root, id, &row)?;
            let state = if verify {
                crate::integrity::verify_all(tx, root)?
            } else {
                crate::integrity::read_state(tx, root)?
            };
            read = Some((config.anchored, state));
            Ok(())
        })?;
        read.ok_or_else(|| Error::internal("transaction produced no result"))
    }

    /// After an open has checked the keystore: re-anchors it when the open
    /// took [`Anchor::reinitialize`] (a new anchor ID, audited as
    /// `ReinitializeKeystoreAnchor`), anchors it when it was opened with
    /// an anchor and was not (audited as `AnchorKeystore`), or audits an
    /// anchored keystore opened without its anchor
    /// (`OpenKeystoreWithoutAnchor`, the caller opted out).
    ///
    /// # Errors
    /// `KMSInternalException` when the configuration says the keystore is
    /// not anchored and its integrity state says it is (the configuration
    /// row was put back to an earlier version), or on storage failure.
    pub(crate) fn record_anchoring(&self) -> Result<()> {
        let params = strongroom_core::audit::RequestParameters::default;
        let (config_anchored, state) = self.read_anchoring(false)?;
        let state_anchor = state.anchor;
        if !config_anchored && state_anchor.is_some() {
            return Err(crate::auth_failed(
                "the keystore configuration (it says the keystore is not anchored, its \
                 integrity state says it is: the configuration row was put back to an earlier \
                 version)",
            ));
        }
        if self.inner.guard.reinitialized() {
            let r = self.call("ReinitializeKeystoreAnchor", params(), |_| {
                self.set_anchored(Some(new_anchor_id()))
            });
            self.inner.guard.end_reinitialization();
            return r;
        }
        match (self.inner.guard.has_anchor(), state_anchor.is_some()) {
            (true, false) => self.call("AnchorKeystore", params(), |_| {
                self.set_anchored(Some(new_anchor_id()))
            }),
            (false, anchored) if anchored || config_anchored => {
                self.call("OpenKeystoreWithoutAnchor", params(), |_| Ok(()))
            }
            _ => Ok(()),
        }
    }

    /// Sets the keystore's anchor ID in its integrity state (`None`: not
    /// anchored) and whether it is anchored in its configuration
    /// (`meta/config`, under its record MAC), in one transaction under the
    /// audit log's lock as every change; the anchor is moved to the new
    /// state.
    fn set_anchored(&self, anchor: Option<[u8; ANCHOR_ID_LEN]>) -> Result<()> {
        let root = &self.inner.root;
        let id = &self.inner.config.keystore_id;
        // As every change (`write`): queued records first, then the intent
        // record of the call, synced and covered by the checkpoint of the
        // state this transaction commits (`docs/FORMAT.md`, "Intent
        // records"), so a commit whose outcome record is lost is still
        // `OutcomeUnknown` in the verified log.
        self.inner.audit.drain()?;
        self.inner.audit.with_change(|log| {
            let mut written = None;
            self.inner.storage.write(&mut |tx| {
                let row = tx
                    .get(crate::store::Table::Meta, crate::META_CONFIG)?
                    .ok_or_else(|| crate::auth_failed("the keystore configuration"))?;
                let (mut config, old) = crate::migrate::read_config(root, id, &row)?;
                if old {
                    return Err(crate::migrate::needs_migration(config.format_version));
                }
                let state = crate::integrity::put_anchor(tx, root, anchor, &mut |s| {
                    self.inner.guard.check(s, None, true)?;
                    log.check(self, &s.checkpoint)?;
                    let millis = self.inner.clock.now().saturating_mul(1000);
                    let intent = crate::audit_log::intent_record(
                        self.principal(),
                        self.account(),
                        millis,
                        std::iter::empty(),
                    )
                    .ok_or_else(|| {
                        Error::internal("an anchoring change outside its audited call")
                    })?;
                    s.checkpoint = log.append_intent(&intent, &s.checkpoint)?;
                    Ok(())
                })?;
                if config.anchored != anchor.is_some() {
                    config.anchored = anchor.is_some();
                    let row = crate::migrate::config_row(root, &config)?;
                    tx.put(crate::store::Table::Meta, &row)?;
                }
                written = Some(state);
                Ok(())
            })?;
            match (written, anchor) {
                (None, _) => Ok(()),
                (Some(s), Some(_)) => self.inner.guard.committed_new_id(&s),
                (Some(s), None) => self.inner.guard.committed(&s),
            }
        })
    }

    /// Removes the keystore's anchoring: afterwards it opens without an
    /// anchor, and a keystore file put back to an earlier state is no
    /// longer detected beyond the process. Needs the handle to be opened
    /// with the anchor ([`crate::OpenOptions::anchor`]), which is checked
    /// again first, so a rolled-back file cannot be un-anchored. Audited as
    /// `RemoveKeystoreAnchor`. The anchor's record is left where it is (the
    /// handle still moves it); an open with an anchor anchors the keystore
    /// again.
    ///
    /// # Errors
    /// `ValidationException` on a handle opened without an anchor or a
    /// dry-run handle; those of [`verify_digest`](Self::verify_digest);
    /// `KMSInternalException` on storage failure.
    pub fn remove_anchor(&self) -> Result<()> {
        let params = strongroom_core::audit::RequestParameters::default();
        self.call("RemoveKeystoreAnchor", params, |_| {
            if !self.inner.guard.has_anchor() {
                return Err(Error::validation(
                    "removing the keystore's anchoring needs the keystore opened with its \
                     anchor (CLI --anchor PATH, Python anchor=, Rust OpenOptions::anchor)",
                ));
            }
            self.verify_digest()?;
            self.set_anchored(None)
        })
    }

    /// [`crate::Keystore::inspect_anchor`]: the status, after checking the
    /// whole integrity state and the anchor's record against it, read only.
    pub(crate) fn inspect_anchor_status(&self) -> Result<AnchorStatus> {
        let root = &self.inner.root;
        let id = &self.inner.config.keystore_id;
        // The anchor first: it is stored only after its state commits.
        let record = self.inner.guard.load_record()?;
        let (config_anchored, state) = self.read_anchoring(true)?;
        let seen = Seen::of(&state)?;
        let anchor_counter = match record {
            Some(bytes) => Some(check_record(root, id, &seen, &bytes)?.counter),
            // Not "no anchor yet": the keystore is anchored.
            None if seen.anchor.is_some() && self.inner.guard.has_anchor() => {
                return Err(anchor_missing())
            }
            None => None,
        };
        Ok(AnchorStatus {
            anchored: config_anchored || state.anchor.is_some(),
            anchor_given: self.inner.guard.has_anchor(),
            keystore_counter: state.counter,
            anchor_counter,
        })
    }

    /// Whether the keystore is anchored, and the counters of its integrity
    /// state and of the handle's anchor (`docs/FORMAT.md`, "Keystore
    /// anchor"). Reads the configuration and state row (authenticated) and
    /// the anchor; not audited, changes nothing.
    ///
    /// # Errors
    /// `KMSInternalException` when the configuration, the state row or the
    /// anchor fails authentication or cannot be read; `ValidationException`
    /// in a process made by `fork()` from the one that opened the handle.
    pub fn anchor_status(&self) -> Result<AnchorStatus> {
        self.inner.audit.check_process()?;
        let (config_anchored, state) = self.read_anchoring(false)?;
        let anchored = config_anchored || state.anchor.is_some();
        let keystore_counter = state.counter;
        Ok(AnchorStatus {
            anchored,
            anchor_given: self.inner.guard.has_anchor(),
            keystore_counter,
            anchor_counter: self.inner.guard.anchor_counter()?,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The anchor record's parser ([`decode`]): exhaustive tamper and
    //! fuzzing (`docs/TESTING.md`).
    #![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

    use super::*;
    use proptest::prelude::*;
    use strongroom_core::ErrorKind;

    const ID: &str = "5f0c6f43-0c43-4a4f-9f3c-1d2e3f405162";

    fn root() -> RootKey {
        RootKey::from_bytes(&[7; 32]).unwrap()
    }

    fn seen() -> Seen {
        let mut checkpoint = [0u8; CHECKPOINT_LEN];
        for (i, b) in checkpoint.iter_mut().enumerate() {
            *b = i as u8;
        }
        Seen {
            counter: 0x0102_0304_0506,
            digest: [0xab; 32],
            checkpoint,
            anchor: Some([0x5a; ANCHOR_ID_LEN]),
        }
    }

    /// Every byte of a real record XORed with each of several masks: the
    /// record is refused with KMSInternalException, or — when the edit is
    /// one JSON ignores (whitespace for whitespace) — reads as the same
    /// state. Every truncation is refused.
    #[test]
    fn every_byte_flip_and_truncation_of_a_record_is_refused() {
        let root = root();
        let valid = encode(&root, ID, &seen()).unwrap();
        assert!(decode(&root, ID, &valid).unwrap() == seen());
        let mut accepted = 0;
        for i in 0..valid.len() {
            for mask in [0x01u8, 0x02, 0x04, 0x07, 0x20, 0x80] {
                let mut m = valid.clone();
                m[i] ^= mask;
                match decode(&root, ID, &m) {
                    Ok(s) => {
                        assert!(s == seen(), "byte {i} ^ {mask:#04x} read as another state");
                        accepted += 1;
                    }
                    Err(e) => assert_eq!(e.kind(), ErrorKind::KMSInternalException),
                }
            }
        }
        // Only the trailing newline may become other JSON whitespace
        // (`\n` ^ 0x07 = `\r`).
        assert_eq!(accepted, 1);
        for n in 0..valid.len() - 1 {
            let e = decode(&root, ID, &valid[..n]).err().unwrap();
            assert_eq!(e.kind(), ErrorKind::KMSInternalException, "cut to {n}");
        }
        let other = RootKey::from_bytes(&[8; 32]).unwrap();
        assert!(decode(&other, ID, &valid).is_err());
        assert!(decode(&root, "5f0c6f43-0c43-4a4f-9f3c-1d2e3f405163", &valid).is_err());
    }

    fn json_edit() -> impl Strategy<Value = (usize, String)> {
        (
            any::<usize>(),
            prop_oneof![
                Just(String::new()),
                Just("0".to_owned()),
                Just("-1".to_owned()),
                Just("18446744073709551616".to_owned()),
                Just("1e3".to_owned()),
                Just("\"".to_owned()),
                Just("null".to_owned()),
                Just("{}".to_owned()),
                Just(",\"Extra\":1".to_owned()),
                Just("\\u0000".to_owned()),
                "[ -~]{1,4}",
            ],
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes never panic the parser.
        #[test]
        fn arbitrary_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let e = decode(&root(), ID, &bytes).err().unwrap();
            prop_assert_eq!(e.kind(), ErrorKind::KMSInternalException);
        }

        /// JSON-aware mutations of a real record (a range replaced by a
        /// number, a quote, an object, an extra member, an escape...) are
        /// refused, or read as the same state.
        #[test]
        fn json_mutations_are_refused_or_the_same(
            edits in proptest::collection::vec(json_edit(), 1..3),
            cut in 0usize..8,
        ) {
            let root = root();
            let mut m = String::from_utf8(encode(&root, ID, &seen()).unwrap()).unwrap();
            for (at, with) in &edits {
                let at = at % m.len();
                let end = (at + cut).min(m.len());
                m.replace_range(at..end, with);
            }
            match decode(&root, ID, m.as_bytes()) {
                Ok(s) => prop_assert!(s == seen()),
                Err(e) => prop_assert_eq!(e.kind(), ErrorKind::KMSInternalException),
            }
        }
    }
}
