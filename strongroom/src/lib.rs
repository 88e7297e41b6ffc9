#![doc = include_str!("../README.md")]
#![deny(unsafe_code)] // allowed for one block in `signal` (shared-memory counters)

mod access;
mod anchor;
mod asymmetric;
mod audit_log;
mod cache;
pub mod clock;
pub mod envelope;
mod export;
pub mod files;
mod grants;
mod integrity;
mod keyservice;
mod migrate;
pub mod own_files;
pub mod root;
#[cfg(unix)]
mod signal;
pub mod store;

/// Fault injection for this crate's tests (cargo feature `test-hooks`,
/// off by default: only the crate's own tests enable it); not part of the
/// API.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod test_hooks {
    use std::cell::Cell;

    thread_local! {
        static FAIL_NEXT_COMMIT: Cell<bool> = const { Cell::new(false) };
    }

    /// The next write transaction of the calling thread that reaches its
    /// commit fails there instead (after its intent record is appended).
    pub fn fail_next_commit() {
        FAIL_NEXT_COMMIT.with(|c| c.set(true));
    }

    /// Whether a commit failure was requested (and clears the request).
    pub(crate) fn take_commit_failure() -> bool {
        FAIL_NEXT_COMMIT.with(Cell::take)
    }

    thread_local! {
        static FAIL_NEXT_SERVICE_EVENT: Cell<bool> = const { Cell::new(false) };
    }

    /// The next service event the calling thread appends after a commit
    /// (a purge's `DeleteKey`, an automatic rotation's `RotateKey`, an
    /// expiry's `DeleteExpiredKeyMaterial`) fails to be written, as on a
    /// full disk.
    pub fn fail_next_service_event() {
        FAIL_NEXT_SERVICE_EVENT.with(|c| c.set(true));
    }

    /// Whether a service event failure was requested (and clears it).
    pub(crate) fn take_service_event_failure() -> bool {
        FAIL_NEXT_SERVICE_EVENT.with(Cell::take)
    }

    thread_local! {
        static FAIL_NEXT_AUDIT_WRITE: Cell<bool> = const { Cell::new(false) };
    }

    /// The next batch of audit records the calling thread writes, for any
    /// handle (one an open or an import has not returned yet, too), fails
    /// as if its `pwrite` failed.
    pub fn fail_next_audit_write() {
        FAIL_NEXT_AUDIT_WRITE.with(|c| c.set(true));
    }

    /// Whether an audit write failure was requested (and clears it).
    pub(crate) fn take_audit_write_failure() -> bool {
        FAIL_NEXT_AUDIT_WRITE.with(Cell::take)
    }

    /// What runs before a write of the calling thread begins.
    type BeforeWrite = Box<dyn FnMut()>;

    thread_local! {
        static BEFORE_WRITE: std::cell::RefCell<Option<BeforeWrite>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Runs `f` before every write transaction the calling thread begins
    /// (between a call's authorization, made in a read, and its write),
    /// except those `f` itself begins; `None` removes it. Lets a test
    /// commit a change in that window every time, deterministically.
    pub fn set_before_write(f: Option<BeforeWrite>) {
        BEFORE_WRITE.with(|h| *h.borrow_mut() = f);
    }

    /// Runs the calling thread's [`set_before_write`] hook, if any.
    pub(crate) fn before_write() {
        run_hook(&BEFORE_WRITE);
    }

    /// Runs the hook in `hook`, if any, taken out while it runs (so that
    /// what it calls does not run it again), put back unless it set another.
    fn run_hook(hook: &'static std::thread::LocalKey<std::cell::RefCell<Option<BeforeWrite>>>) {
        let Some(mut f) = hook.with(|h| h.borrow_mut().take()) else {
            return;
        };
        f();
        hook.with(|h| {
            let mut h = h.borrow_mut();
            if h.is_none() {
                *h = Some(f);
            }
        });
    }

    static CRASH_ROTATION_AFTER: std::sync::atomic::AtomicU32 =
        std::sync::atomic::AtomicU32::new(0);

    /// The next audit-log rotation of this process aborts the process
    /// (`std::process::abort`, as under `kill -9`) after its step `step`
    /// (1: the old log synced and checkpointed; 2: the archive written
    /// under its `.partial` name; 3: the archive named; 4: the new log
    /// written as `<log>.rotating`; 5: the new log renamed into place;
    /// 6: its checkpoint stored; 7: the records up to the end found in
    /// step 1 copied to the `.partial` file, holding no lock, before the
    /// lock is taken again to copy what was appended meanwhile). 0 disarms.
    pub fn crash_rotation_after(step: u32) {
        CRASH_ROTATION_AFTER.store(step, std::sync::atomic::Ordering::SeqCst);
    }

    /// Called by the rotation after each step.
    pub(crate) fn rotation_step(step: u32) {
        if CRASH_ROTATION_AFTER.load(std::sync::atomic::Ordering::Relaxed) == step {
            std::process::abort();
        }
    }

    thread_local! {
        static FAIL_PARTIAL_SCAN: Cell<bool> = const { Cell::new(false) };
        static FAIL_PARTIAL_OPEN: Cell<bool> = const { Cell::new(false) };
    }

    /// The next audit-log rotation of the calling thread fails to read the
    /// log's directory when it looks for `.partial` files of its segment
    /// (as with `EMFILE`).
    pub fn fail_next_partial_scan() {
        FAIL_PARTIAL_SCAN.with(|c| c.set(true));
    }

    /// Whether [`fail_next_partial_scan`] was requested (and clears it).
    pub(crate) fn take_partial_scan_failure() -> bool {
        FAIL_PARTIAL_SCAN.with(Cell::take)
    }

    /// The next `.partial` file of its segment that an audit-log rotation
    /// of the calling thread finds fails to open (as with `EMFILE`).
    pub fn fail_next_partial_open() {
        FAIL_PARTIAL_OPEN.with(|c| c.set(true));
    }

    /// Whether [`fail_next_partial_open`] was requested (and clears it).
    pub(crate) fn take_partial_open_failure() -> bool {
        FAIL_PARTIAL_OPEN.with(Cell::take)
    }

    thread_local! {
        static ROTATION_COPIED: std::cell::RefCell<Option<BeforeWrite>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Runs `f` in every audit-log rotation of the calling thread once it
    /// has copied the log's records up to the end it found, holding no
    /// lock (before it takes the log's lock again to copy what was
    /// appended meanwhile); `None` removes it. Lets a test append from
    /// other handles during the copy, deterministically.
    pub fn set_rotation_copied(f: Option<BeforeWrite>) {
        ROTATION_COPIED.with(|h| *h.borrow_mut() = f);
    }

    /// Runs the calling thread's [`set_rotation_copied`] hook, if any.
    pub(crate) fn rotation_copied() {
        run_hook(&ROTATION_COPIED);
    }

    /// Where a parked audit writer waits ([`hold_audit_writer`]).
    #[derive(Debug, Default)]
    pub(crate) struct WriterPark {
        /// (a writer is parked, it was released)
        state: std::sync::Mutex<(bool, bool)>,
        changed: std::sync::Condvar,
    }

    impl WriterPark {
        fn state(&self) -> std::sync::MutexGuard<'_, (bool, bool)> {
            self.state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }

        /// Called by the writer: waits until the hold is released.
        pub(crate) fn park(&self) {
            let mut s = self.state();
            s.0 = true;
            self.changed.notify_all();
            while !s.1 {
                s = self
                    .changed
                    .wait(s)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }

        fn release(&self) {
            self.state().1 = true;
            self.changed.notify_all();
        }
    }

    /// A batch writer of the audit log parked after its `pwrite`, still
    /// holding the log's lock ([`hold_audit_writer`]); released when
    /// dropped.
    #[derive(Debug)]
    pub struct AuditWriterHold(std::sync::Arc<WriterPark>);

    impl AuditWriterHold {
        /// Waits until a writer is parked. Panics after 300 s (a hang
        /// detector, not a timing assumption).
        pub fn wait_until_held(&self) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
            let mut s = self.0.state();
            while !s.0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no audit writer reached the hold"
                );
                s = self
                    .0
                    .changed
                    .wait_timeout(s, std::time::Duration::from_millis(100))
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        }

        /// Lets the parked writer go on.
        pub fn release(self) {}
    }

    impl Drop for AuditWriterHold {
        fn drop(&mut self) {
            self.0.release();
        }
    }

    /// The next batch writer of `ks`'s audit log (shared by its clones)
    /// parks once its batch is in the file, before it marks the batch
    /// written and before it releases or keeps the log's lock, until the
    /// returned hold is released or dropped.
    pub fn hold_audit_writer(ks: &super::Keystore) -> AuditWriterHold {
        let park = std::sync::Arc::new(WriterPark::default());
        ks.inner.audit.arm_park(park.clone());
        AuditWriterHold(park)
    }

    /// Records queued on `ks`'s audit log (shared by its clones) that no
    /// writer has taken yet.
    pub fn audit_queued(ks: &super::Keystore) -> usize {
        ks.inner.audit.queued()
    }

    /// How many times the batch writers of `ks`'s audit log (shared by its
    /// clones) took the log's lock.
    pub fn audit_lock_holds(ks: &super::Keystore) -> u64 {
        ks.inner.audit.lock_holds()
    }

    /// The next batch of `ks`'s audit log written under a lock hold kept
    /// by the previous batch's writer fails as if its `pwrite` failed.
    pub fn fail_next_continued_audit_batch(ks: &super::Keystore) {
        ks.inner.audit.fail_next_continued();
    }

    /// The next batch writer of `ks`'s audit log (shared by its clones)
    /// fails to read the keystore's change counter, as when a new SQLite
    /// connection cannot be opened.
    pub fn fail_next_audit_epoch_read(ks: &super::Keystore) {
        ks.inner.audit.fail_next_epoch_read();
    }
}

/// Without the `test-hooks` feature: what the library asks of the hooks,
/// answered with constants (nothing is ever armed), so that every call
/// compiles to nothing and no hook is in the build.
#[cfg(not(feature = "test-hooks"))]
mod test_hooks {
    #![cfg_attr(not(unix), allow(dead_code))]

    /// Nothing injected: commits are never failed.
    #[inline(always)]
    pub(crate) fn take_commit_failure() -> bool {
        false
    }

    /// Nothing injected: service events are never failed.
    #[inline(always)]
    pub(crate) fn take_service_event_failure() -> bool {
        false
    }

    /// Nothing injected: audit writes are never failed.
    #[inline(always)]
    pub(crate) fn take_audit_write_failure() -> bool {
        false
    }

    /// Nothing runs before a write.
    #[inline(always)]
    pub(crate) fn before_write() {}

    /// A rotation is never aborted.
    #[inline(always)]
    pub(crate) fn rotation_step(_step: u32) {}

    /// Nothing injected: `.partial` scans are never failed.
    #[inline(always)]
    pub(crate) fn take_partial_scan_failure() -> bool {
        false
    }

    /// Nothing injected: `.partial` opens are never failed.
    #[inline(always)]
    pub(crate) fn take_partial_open_failure() -> bool {
        false
    }

    /// Nothing runs after a rotation's unlocked copy.
    #[inline(always)]
    pub(crate) fn rotation_copied() {}
}

use std::path::Path;
use std::sync::Arc;

use rand_core::UnwrapErr;
use serde::Serialize;
use strongroom_core::api::*;
use strongroom_core::key::{AliasRecord, KeyIdentifier, KeyRecord};
use strongroom_core::ops::{self, Env};
use strongroom_core::seal::RootKey;
use strongroom_core::service::{self, WriteCheck};

pub use access::DRY_RUN_OPERATIONS;
pub use anchor::{keystore_files, Anchor, AnchorStatus, AnchorStore, FileAnchor};
pub use audit_log::{
    audit_archive_path, audit_log_path, check_time_filter, check_time_range, ArchiveFault,
    ArchiveSegment, AuditFilter, AuditLogRotation, AuditVerification, AuditWriteMode,
    AUDIT_BATCH_EVENTS, AUDIT_BATCH_MILLIS, AUDIT_ROTATE_MAX_BYTES, AUDIT_ROTATE_MIN_BYTES,
    AUDIT_WRITE_BEHIND_MAX_EVENTS, AUDIT_WRITE_BEHIND_MAX_MILLIS,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use root::RootKeySource;
pub use store::{signal_path, SqliteStorage, Storage, SIGNAL_RECHECK};
pub use strongroom_core::{self as core, api, EncryptionContext, Error, ErrorKind, Result, Secret};

use store::{Row, Table, Tx};

/// Format version of the keystore's tables and records: 2 since the
/// integrity state (`docs/FORMAT.md`, "Keystore integrity state") replaced
/// the XOR digest of version 1, 3 since the record MACs are bound to the
/// keystore in their own domain, 4 since the integrity state counts the
/// rows and keeps a key's grants in one bucket. A keystore of version 1, 2
/// or 3 is migrated only when asked ([`OpenOptions::migrate_old_format`]).
pub const KEYSTORE_FORMAT_VERSION: u32 = strongroom_core::export::KEYSTORE_FORMAT_VERSION;

/// The operating-system CSPRNG (`getrandom`), as the `rand_core` RNG core expects.
pub type OsRng = UnwrapErr<getrandom::SysRng>;

/// The OS CSPRNG as a `rand_core` RNG.
pub fn os_rng() -> OsRng {
    UnwrapErr(getrandom::SysRng)
}

/// How [`Keystore::open_checked`] opens a keystore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opening {
    /// For use: the integrity state and anchor checked, anchoring recorded.
    Use,
    /// The handle returned before anything is checked or recorded.
    Inspect,
    /// As `Inspect`, on a read-only connection: nothing can be written.
    ReadOnly,
}

/// Time-driven maintenance of one key (its key ID) that a write committed,
/// recorded as AWS KMS's service event (`docs/FORMAT.md`, "Service events").
enum ServiceEvent {
    /// Purged at the end of its waiting period: `DeleteKey`.
    Deleted(String),
    /// Rotated automatically when its rotation period elapsed: `RotateKey`.
    Rotated(String),
    /// Its imported key material deleted at its `ValidTo`:
    /// `DeleteExpiredKeyMaterial`.
    MaterialExpired(String),
}

/// The body of a [`Keystore::write_maintaining`] transaction.
type MaintainingWrite<'a> = dyn FnMut(&mut dyn Tx, &mut Vec<ServiceEvent>) -> Result<()> + 'a;

impl ServiceEvent {
    /// The audit event of this maintenance in `ks`'s account, at `millis`.
    fn event(&self, ks: &Keystore, millis: u64) -> strongroom_core::audit::AuditEvent {
        use strongroom_core::audit::AuditEvent;
        let random = access::audit_id_bytes(std::process::id());
        let (Self::Deleted(id) | Self::Rotated(id) | Self::MaterialExpired(id)) = self;
        let arn = strongroom_core::key::key_arn(ks.region(), ks.account(), id);
        match self {
            Self::Deleted(_) => AuditEvent::key_deleted(ks.account(), &arn, millis, random),
            Self::Rotated(_) => AuditEvent::key_rotated(ks.account(), &arn, id, millis, random),
            Self::MaterialExpired(_) => {
                AuditEvent::key_material_expired(ks.account(), &arn, id, millis, random)
            }
        }
    }
}

/// Settings for a new keystore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateOptions {
    /// Region in ARNs (default `local-1`).
    pub region: String,
    /// 12-digit account ID in ARNs (default `000000000000`).
    pub account: String,
    /// The administrator principal, which the default key policy allows
    /// `kms:*` and which acts when no other principal is chosen (default
    /// `arn:aws:iam::<account>:root`, covering every principal of the
    /// account, as KMS's default key policy does). It must be a principal
    /// a call can act as (an IAM user, role or account root ARN, an assumed
    /// role or a federated user; no bare account ID, no wildcard):
    /// [`Keystore::create`] refuses another with `ValidationException`.
    pub admin_principal: Option<String>,
    /// How the returned handle writes audit events (default
    /// [`AuditWriteMode::WriteThrough`]); not stored in the keystore.
    pub audit_write_mode: AuditWriteMode,
    /// An external anchor of the keystore's integrity state (default none;
    /// `docs/FORMAT.md`, "Keystore anchor"): created with the keystore,
    /// moved forward by every write of the returned handle, and checked by
    /// its writes and verifications. The keystore is anchored (recorded in
    /// its configuration): it opens only with the same anchor
    /// ([`OpenOptions::anchor`]) or [`OpenOptions::without_anchor`].
    pub anchor: Option<Anchor>,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            region: "local-1".into(),
            account: "000000000000".into(),
            admin_principal: None,
            audit_write_mode: AuditWriteMode::WriteThrough,
            anchor: None,
        }
    }
}

/// Settings of a handle opened with [`Keystore::open_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenOptions {
    /// How the handle writes audit events (default
    /// [`AuditWriteMode::WriteThrough`]).
    pub audit_write_mode: AuditWriteMode,
    /// Migrate a keystore of an older format version (1, 2 or 3) to
    /// [`KEYSTORE_FORMAT_VERSION`] (default `false`: opening one fails).
    /// The migration checks the old file as its own version did and then
    /// trusts it as it stands, so run it once, on a file known to be
    /// unmodified (see `docs/FORMAT.md`, "Migration from older format
    /// versions"). A current keystore opens as it would without it.
    pub migrate_old_format: bool,
    /// An external anchor of the keystore's integrity state (default none;
    /// `docs/FORMAT.md`, "Keystore anchor"). With one, opening (and every
    /// verification and write of the handle) refuses a keystore whose
    /// state is behind the anchor's, or at the anchor's counter with
    /// another state (`KMSInternalException`): the file put back to an
    /// earlier state. Every write of the handle moves the anchor forward
    /// (after a failed store, the next write of any handle or process
    /// stores it first and is refused while that fails); an anchor behind
    /// the keystore (a crash
    /// between a commit and the anchor's store, or writes by a process
    /// without the anchor) is moved forward on open, under the audit log's
    /// lock. A missing anchor is refused unless
    /// [`Anchor::initialize_if_missing`] is set (for the open only). An
    /// open with an anchor records in the keystore that it is anchored
    /// (audited as `AnchorKeystore` when it was not; its integrity state
    /// gets an anchor ID), after which every open and every handle's write
    /// must give that anchor (another one, or a fresh one, is refused with
    /// `KMSInvalidStateException` unless [`Anchor::reinitialize`]) or
    /// [`without_anchor`](Self::without_anchor).
    pub anchor: Option<Anchor>,
    /// Open an anchored keystore without its anchor (default `false`:
    /// refused with `KMSInvalidStateException`). The handle neither checks
    /// nor moves the anchor, so its writes on a keystore file put back to
    /// an earlier state carry the counter past the anchored one and an
    /// anchored open then accepts the rollback ("laundering" it): for
    /// recovery when the anchor is lost, with the keystore known to be
    /// current. Audited: the open appends an `OpenKeystoreWithoutAnchor`
    /// event. No effect on a keystore that is not anchored; refused
    /// (`ValidationException`) together with [`anchor`](Self::anchor).
    pub without_anchor: bool,
    /// The principal (ARN) the returned handle acts for, as
    /// [`Keystore::as_principal`] (default: the keystore's administrator),
    /// already for the events the open itself records (`AnchorKeystore`,
    /// `ReinitializeKeystoreAnchor`, `OpenKeystoreWithoutAnchor`): they are
    /// authorized and audited as this principal, and one that is not a
    /// principal ARN fails them (`ValidationException`, audited).
    pub principal: Option<String>,
    /// Rotate the audit log automatically once it is this many bytes long
    /// or longer ([`AUDIT_ROTATE_MIN_BYTES`] to [`AUDIT_ROTATE_MAX_BYTES`];
    /// default `None`: only [`Keystore::rotate_audit_log`] rotates). A
    /// batch written by this handle that leaves the log at or past the size
    /// starts a background thread that rotates it as `rotate_audit_log`
    /// does, its `RotateAuditLog` record a service event (`eventType`
    /// `AwsServiceEvent`, invoked by `AWS Internal`, time from the system
    /// clock). A rotation that fails (e.g. a read-only directory) is
    /// audited as a `RotateAuditLog` service event with its `errorCode`
    /// and `errorMessage`, and retried once the log has grown by the size
    /// again. Dropping the last
    /// handle waits for a rotation in progress. Refused
    /// (`ValidationException`) out of range.
    pub audit_rotate_bytes: Option<u64>,
}

impl OpenOptions {
    /// These options with automatic rotation of the audit log at `bytes`
    /// ([`audit_rotate_bytes`](Self::audit_rotate_bytes)).
    #[must_use]
    pub fn audit_rotate_bytes(mut self, bytes: u64) -> Self {
        self.audit_rotate_bytes = Some(bytes);
        self
    }

    /// These options with `mode` as the audit write mode.
    #[must_use]
    pub fn audit_write_mode(mut self, mode: AuditWriteMode) -> Self {
        self.audit_write_mode = mode;
        self
    }

    /// These options with `anchor` as the external anchor.
    #[must_use]
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = Some(anchor);
        self
    }

    /// These options with [`without_anchor`](Self::without_anchor) set:
    /// an anchored keystore is opened without its anchor, audited.
    #[must_use]
    pub fn without_anchor(mut self) -> Self {
        self.without_anchor = true;
        self
    }

    /// These options with [`principal`](Self::principal) set: the handle
    /// (and the anchoring events its open records) acts for `principal`,
    /// an IAM or STS principal ARN ([`strongroom_core::access::check_caller`];
    /// the open refuses any other with `ValidationException` before it
    /// writes anything).
    #[must_use]
    pub fn principal(mut self, principal: &str) -> Self {
        self.principal = Some(principal.to_owned());
        self
    }

    /// These options with [`migrate_old_format`](Self::migrate_old_format) set to `yes`.
    #[must_use]
    pub fn migrate_old_format(mut self, yes: bool) -> Self {
        self.migrate_old_format = yes;
        self
    }
}

// Keystore-wide settings, stored authenticated in the `meta` table: the type
// the sealed export and the in-memory keystore share.
use strongroom_core::export::KeystoreConfig as Config;

struct Inner {
    storage: Arc<dyn Storage>,
    root: RootKey,
    config: Config,
    clock: Arc<dyn Clock>,
    default_policy: Arc<strongroom_core::policy::Policy>,
    /// Parsed, authenticated key records (see the `cache` module).
    cache: cache::RecordCache,
    /// The audit-log writer, shared with handles made by [`Keystore::with_clock`].
    audit: Arc<audit_log::AuditOwner>,
    /// The highest integrity states this handle (and those made by
    /// [`Keystore::with_clock`]) and the process have seen authenticated,
    /// and the anchor: a write refuses an older state, put back while the
    /// handle runs (`anchor`); shared with the audit sink.
    guard: Arc<anchor::StateGuard>,
    /// The keystore's files, listed as open (for the file outputs to refuse)
    /// while a handle lives.
    own_files: Arc<own_files::Registration>,
}

impl Inner {
    #[allow(clippy::too_many_arguments)]
    fn new(
        storage: Arc<dyn Storage>,
        root: RootKey,
        config: Config,
        clock: Arc<dyn Clock>,
        audit_path: std::path::PathBuf,
        default_policy: strongroom_core::policy::Policy,
        // The handle's settings (the audit write mode and the anchor).
        options: OpenOptions,
        own_files: own_files::Registration,
    ) -> Self {
        let OpenOptions {
            audit_write_mode,
            anchor,
            migrate_old_format: _,
            without_anchor,
            principal: _,
            audit_rotate_bytes,
        } = options;
        let guard = Arc::new(anchor::StateGuard::new(
            root.clone(),
            &config.keystore_id,
            &audit_path,
            anchor,
            without_anchor,
        ));
        let audit = audit_log::AuditOwner::new(audit_log::AuditSink::new(
            storage.clone(),
            root.clone(),
            audit_path,
            audit_write_mode,
            guard.clone(),
            audit_rotate_bytes.map(|b| (b, config.account.clone())),
        ));
        Inner {
            storage,
            root,
            config,
            clock,
            default_policy: Arc::new(default_policy),
            cache: cache::RecordCache::default(),
            audit,
            guard,
            own_files: Arc::new(own_files),
        }
    }
}

use strongroom_core::access::{self as core_access, default_policy as parse_default_policy};

/// A keystore: KMS keys sealed under a root key in an SQLite file.
///
/// `Keystore` is `Send + Sync` and cheap to clone (clones share one write
/// connection, a small pool of read connections, the record cache and the
/// audit-log writer); several processes may open the same file at once.
/// Threads sharing a handle run cryptographic calls in parallel: key
/// records come from the record cache (checked on every call against the
/// change-signal file every writer moves, or SQLite's `data_version`, and
/// the keystore integrity state, so changes by other handles and processes are seen
/// at once; see [`signal_path`]), no lock is held during the
/// cryptographic work, and only the audit append is serialized: concurrent
/// callers' lines are written together, by one of them, under one file lock
/// and one write (group commit), each caller returning once its own line
/// is in the file.
///
/// Every operation runs for a principal ([`as_principal`](Self::as_principal),
/// by default the administrator), is authorized by the key policy and
/// grants, and appends one event (its outcome record) to the audit log
/// ([`audit_log_path`](Self::audit_log_path)), preceded by an intent record
/// for each write transaction that changes rows (`docs/FORMAT.md`,
/// "Intent records").
#[derive(Clone)]
pub struct Keystore {
    inner: Arc<Inner>,
    principal: Option<Arc<str>>,
    /// Set on handles from [`dry_run`](Self::dry_run).
    dry_run: bool,
    /// Set on handles from [`with_source_ip`](Self::with_source_ip).
    source_ip: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore")
            .field("keystore_id", &self.inner.config.keystore_id)
            .field("region", &self.inner.config.region)
            .field("account", &self.inner.config.account)
            .field("principal", &self.principal())
            .finish_non_exhaustive()
    }
}

const META_CONFIG: &str = "config";
const META_CHECK: &str = "check";
const META_KDF: &str = "kdf";

/// Empties the record cache when dropped (after a write transaction,
/// whether it committed or not).
struct InvalidateOnDrop<'a>(&'a cache::RecordCache);

impl Drop for InvalidateOnDrop<'_> {
    fn drop(&mut self) {
        self.0.invalidate();
    }
}

pub(crate) fn auth_failed(what: &str) -> Error {
    Error::internal(format!(
        "{what} failed authentication: the keystore file was modified outside Strongroom"
    ))
}

/// The root key `source` gives for a keystore with the KDF parameters
/// `kdf` (a passphrase keystore) or none.
///
/// Whether a passphrase is needed is decided by the keystore alone (it
/// records its KDF parameters): a passphrase keystore given any other
/// source is refused before that source is read, so the error is the same
/// whatever a key file or variable holds, or whether it exists at all.
///
/// # Errors
/// `ValidationException` for a passphrase keystore and a source that is
/// not a passphrase ([`PASSPHRASE_PROTECTED`]), and for a passphrase and a
/// keystore made without one; those of reading `source` otherwise.
fn resolve_root(source: &RootKeySource, kdf: Option<&root::Argon2Params>) -> Result<Secret> {
    match (source, kdf) {
        (RootKeySource::Passphrase(p), Some(params)) => params.derive(p.expose_secret()),
        (RootKeySource::Passphrase(_), None) => Err(Error::validation(NOT_PASSPHRASE_PROTECTED)),
        (_, Some(_)) => Err(Error::validation(format!(
            "{PASSPHRASE_PROTECTED}: open it with its passphrase instead of a root key"
        ))),
        (RootKeySource::Bytes(b), None) => root::parse_key_bytes(b.expose_secret()),
        (RootKeySource::File(p), None) => root::read_key_file(p),
        (RootKeySource::EnvVar(v), None) => match std::env::var(v) {
            Ok(val) => root::parse_key_bytes(zeroize::Zeroizing::new(val).as_bytes()),
            Err(_) => Err(Error::validation(format!(
                "environment variable {v} is not set or not UTF-8"
            ))),
        },
    }
}

/// How the error of a passphrase keystore (or sealed export) opened with
/// anything but a passphrase begins ([`resolve_root`]). Front ends that add
/// their own hint decide with [`Keystore::is_passphrase_protected`], not
/// from this text.
const PASSPHRASE_PROTECTED: &str = "this keystore is protected by a passphrase";

/// The error of a passphrase given for a keystore (or sealed export)
/// without KDF parameters ([`resolve_root`]): it names the row a
/// passphrase keystore records them in, whose absence is all that is known
/// (a keystore made with a root key, or that row deleted).
const NOT_PASSPHRASE_PROTECTED: &str = "a passphrase was given, but this keystore holds no \
    passphrase (Argon2id KDF) parameters: its meta/kdf row is missing, so it was created with a \
    root key (open it with that key), or that row was deleted from the file";

/// The error of a root key `source` that does not open a keystore (or
/// sealed export) whose check value it failed: a passphrase source is told
/// the passphrase is wrong (it is what the user typed), any other that the
/// root key is. `what` names the keystore or export.
pub(crate) fn wrong_root(source: &RootKeySource, what: &str) -> Error {
    let message = match source {
        RootKeySource::Passphrase(_) => format!("the passphrase is wrong: it does not open {what}"),
        _ => format!("the root key does not open {what}"),
    };
    Error::new(ErrorKind::AccessDeniedException, message)
}

/// Lists the files of the keystore at `path` (opened with `root` and
/// `anchor`) as open: no file output of the library replaces them while a
/// handle lives ([`own_files`]).
fn own_files_of(
    path: &Path,
    root: &RootKeySource,
    anchor: Option<&Anchor>,
) -> own_files::Registration {
    let root_file = match root {
        RootKeySource::File(p) => Some(p.as_path()),
        _ => None,
    };
    own_files::Registration::new(own_files::files_of(
        path,
        root_file,
        anchor.and_then(Anchor::file_path),
    ))
}

/// Removes, best effort, the files of a keystore that a create or import
/// just linked into place and then failed to finish. Of audit logs, only
/// `log`, the one it made ([`audit_log::create_empty_log`]; none was there
/// before, see [`audit_log::refuse_existing_log`]), and only while it is
/// untouched ([`audit_log::NewLog::remove_if_untouched`]): a log another
/// process opened and appended to meanwhile is history, never deleted. The
/// keystore file goes last: a crash meanwhile leaves the new keystore
/// (which opens), never its log alone (which would block the retry).
pub(crate) fn remove_new_keystore(path: &Path, log: Option<&audit_log::NewLog>) {
    let logs = [path.to_path_buf(), store::canonical(path)].map(|p| audit_log_path(&p));
    let mut log = log;
    for (file, _) in anchor::keystore_files(path).into_iter().rev() {
        if logs.contains(&file) {
            if let Some(new) = log.take() {
                new.remove_if_untouched();
            }
        } else {
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Keystore {
    /// Creates a new keystore file at `path` protected by `root`, and its
    /// empty audit log ([`audit_log_path`], mode 0600). The file
    /// appears at `path` only complete ([`SqliteStorage::create_with`]): a
    /// crash leaves no keystore there, and the retry works.
    ///
    /// # Errors
    /// `AlreadyExistsException` if `path` exists, an audit log is at its
    /// place ([`audit_log_path`]; an earlier keystore's history, never
    /// deleted: move it away first), a non-empty SQLite `-wal` or
    /// `-journal` file of an earlier keystore is (changes a killed process
    /// never wrote into its file, which SQLite would apply to the new one),
    /// or the anchor
    /// ([`CreateOptions::anchor`]) already holds a record;
    /// `ValidationException` for a malformed root key or options (an
    /// administrator principal no call can act as, among them), or a file
    /// name (as given or with symbolic links resolved) longer than 193
    /// bytes (its audit log's archives, named after it, would pass the
    /// 255-byte limit of a file name) or not UTF-8 (the archives' names
    /// are written into the log as JSON text), before anything is written, or for a
    /// directory of `path` that is missing, not a directory, not writable
    /// or read-only;
    /// `KMSInternalException` on I/O failure, or when the audit log or the
    /// anchor's first record cannot be made (the file just created is then
    /// removed, and nothing is left to block the retry).
    pub fn create(
        path: impl AsRef<Path>,
        root: RootKeySource,
        options: CreateOptions,
    ) -> Result<Self> {
        if options.account.len() != 12 || !options.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation("account must be 12 digits"));
        }
        if options.region.is_empty()
            || !options
                .region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::validation("region must be letters, digits and '-'"));
        }
        options.audit_write_mode.validate()?;
        // A log that could never be rotated: refused before any work.
        audit_log::refuse_long_name(path.as_ref())?;
        let admin_principal = options
            .admin_principal
            .unwrap_or_else(|| core_access::admin_principal("", &options.account));
        // A principal calls can act as: checked before anything is written.
        let default_policy = core_access::new_admin_policy(&admin_principal)?;
        let mut rng = os_rng();
        let kdf = match &root {
            RootKeySource::Passphrase(_) => {
                let mut salt = [0u8; 16];
                rand_core::Rng::fill_bytes(&mut rng, &mut salt);
                Some(root::Argon2Params::generate(salt))
            }
            _ => None,
        };
        let root_key = RootKey::from_bytes(resolve_root(&root, kdf.as_ref())?.expose_secret())?;
        // An anchor in use is not replaced (checked before the file exists).
        if let Some(a) = &options.anchor {
            a.refuse_keystore_file(path.as_ref())?;
            a.refuse_existing()?;
        }
        // An earlier keystore's log is its history: never deleted or adopted.
        audit_log::refuse_existing_log(path.as_ref())?;
        let mut id = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut rng, &mut id);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let config = Config {
            format_version: KEYSTORE_FORMAT_VERSION,
            keystore_id: uuid_from(id),
            region: options.region,
            account: options.account,
            created: clock.now(),
            admin_principal,
            audit_log: true,
            anchored: options.anchor.is_some(),
        };
        let audit_path = audit_log_path(&store::canonical(path.as_ref()));
        let body = to_json(&config)?;
        let check = root_key.check_value(config.keystore_id.as_bytes())?;
        let config_tag = migrate::tag(&root_key, &config.keystore_id, b"meta", META_CONFIG, &body)?;
        let mut initial = integrity::State::empty(audit_log::genesis_checkpoint());
        if options.anchor.is_some() {
            initial.anchor = Some(anchor::new_anchor_id());
        }
        // The file is created only once the root key is known to be good,
        // and whole: built under a temporary name and linked into place, so
        // that neither a failed create nor a crash leaves a half-made file
        // to block the retry.
        let storage = SqliteStorage::create_with(path.as_ref(), &mut |tx| {
            if let Some(k) = &kdf {
                tx.put(
                    Table::Meta,
                    &Row {
                        id: META_KDF.into(),
                        body: to_json(k)?,
                        tag: Vec::new(),
                    },
                )?;
            }
            tx.put(
                Table::Meta,
                &Row {
                    id: META_CHECK.into(),
                    body: config.keystore_id.clone().into_bytes(),
                    tag: check.to_vec(),
                },
            )?;
            tx.put(
                Table::Meta,
                &Row {
                    id: META_CONFIG.into(),
                    body: body.clone(),
                    tag: config_tag.clone(),
                },
            )?;
            tx.put(Table::Meta, &initial.row(&root_key)?)
        })?;
        // Its empty audit log, so that first opens of the new keystore
        // (concurrent ones among them) find it, then the anchor's first
        // record, before anything uses the keystore: if either cannot be
        // made, the create fails and the file just linked into place (with
        // its log, if made) is removed, so that no anchored keystore exists
        // whose anchor was never written, and the retry works. A crash
        // between the link and this store leaves an anchored keystore
        // without its anchor's record: opening it re-anchored
        // (`Anchor::reinitialize`) recovers it.
        let (log, finished) = match audit_log::create_empty_log(path.as_ref()) {
            Ok(log) => {
                let stored = match &options.anchor {
                    Some(a) => a.store_first(&root_key, &config.keystore_id, &initial),
                    None => Ok(()),
                };
                (Some(log), stored)
            }
            Err(e) => (None, Err(e)),
        };
        if let Err(e) = finished {
            drop(storage);
            remove_new_keystore(path.as_ref(), log.as_ref());
            return Err(e);
        }
        drop(log);
        let own = own_files_of(path.as_ref(), &root, options.anchor.as_ref());
        let ks = Keystore {
            inner: Arc::new(Inner::new(
                Arc::new(storage),
                root_key,
                config,
                clock,
                audit_path,
                default_policy,
                OpenOptions {
                    audit_write_mode: options.audit_write_mode,
                    anchor: options.anchor,
                    migrate_old_format: false,
                    without_anchor: false,
                    principal: None,
                    audit_rotate_bytes: None,
                },
                own,
            )),
            principal: None,
            dry_run: false,
            source_ip: None,
        };
        // The anchor starts at the new keystore's state (replacing one an
        // earlier keystore left at its place).
        ks.inner.guard.committed(&initial)?;
        ks.inner.guard.end_initialization();
        Ok(ks)
    }

    /// Opens an existing keystore.
    ///
    /// # Errors
    /// `NotFoundException` if there is no keystore at `path`;
    /// `ValidationException` naming `path` if it is a directory;
    /// `AccessDeniedException` if `root` is not this keystore's root key
    /// (nothing is modified); `ValidationException` if the keystore is
    /// protected by a passphrase and `root` is not a
    /// [`RootKeySource::Passphrase`] (decided before `root` is read; see
    /// [`is_passphrase_protected`](Self::is_passphrase_protected)), or the
    /// other way round; `KMSInvalidStateException` if the keystore is
    /// anchored (`docs/FORMAT.md`, "Anchored keystores"; nothing is read or
    /// written past its configuration: open it with
    /// [`open_with`](Self::open_with) and [`OpenOptions::anchor`]);
    /// `KMSInternalException` if the keystore's
    /// settings or integrity state fail authentication, the file is not a
    /// keystore, it is of an older format version (migrated only with
    /// [`OpenOptions::migrate_old_format`]), or its audit log is missing
    /// while its sealed checkpoint covers records in it ("the audit log
    /// `<path>` is missing for a keystore that has written records": e.g.
    /// opened through a hard link, whose name the side files take; refused
    /// before any file is made, `docs/FORMAT.md`, "Audit log file").
    pub fn open(path: impl AsRef<Path>, root: RootKeySource) -> Result<Self> {
        Self::open_with(path, root, OpenOptions::default())
    }

    /// [`open`](Self::open) with `options` (e.g. the audit write mode).
    ///
    /// # Errors
    /// As [`open`](Self::open) (`KMSInvalidStateException` for an anchored
    /// keystore only without an anchor and without
    /// [`OpenOptions::without_anchor`]); `ValidationException` for options
    /// out of range ([`AuditWriteMode::validate`]), a
    /// [`principal`](OpenOptions::principal) that is not a principal ARN of
    /// 1 to 256 characters (checked before anything is written), an anchor
    /// together with `without_anchor`, or a [`FileAnchor`] that is one of
    /// the keystore's own files, not a regular file or a symbolic link;
    /// `KMSInvalidStateException` too for an anchor that is not the
    /// anchored keystore's (it holds no record and
    /// [`Anchor::reinitialize`] is not set, or a record of another anchor
    /// ID), or a handle of an anchored keystore with neither its anchor nor
    /// `without_anchor` (`docs/FORMAT.md`, "Anchored keystores");
    /// `KMSInternalException` for a keystore behind its anchor, an anchor
    /// missing (not to be initialised) or failing authentication, or a
    /// configuration saying the keystore is not anchored beside an
    /// anchored integrity state (the configuration row put back).
    pub fn open_with(
        path: impl AsRef<Path>,
        root: RootKeySource,
        options: OpenOptions,
    ) -> Result<Self> {
        Self::open_checked(path, root, options, Opening::Use)
    }

    /// [`open_with`](Self::open_with); except [`Opening::Use`], the handle
    /// is returned before its integrity state, anchor and anchoring are
    /// checked or recorded (for [`inspect_anchor`](Self::inspect_anchor)
    /// and [`verify_audit_log_read_only`](Self::verify_audit_log_read_only),
    /// which check them read only).
    fn open_checked(
        path: impl AsRef<Path>,
        root: RootKeySource,
        options: OpenOptions,
        opening: Opening,
    ) -> Result<Self> {
        options.audit_write_mode.validate()?;
        audit_log::check_rotate_bytes(options.audit_rotate_bytes)?;
        // Before anything is written (an anchor initialised, an event).
        if let Some(p) = &options.principal {
            core_access::check_caller(p)?;
        }
        if let Some(a) = &options.anchor {
            if options.without_anchor {
                return Err(Error::validation(
                    "an anchor and without_anchor were both given: choose one",
                ));
            }
            a.refuse_keystore_file(path.as_ref())?;
        }
        let audit_path = audit_log_path(&store::canonical(path.as_ref()));
        // Opened for use without its audit log, the keystore is first read
        // read only: one whose checkpoint covers records in the log is
        // refused before any file (signal, log) is made beside the path.
        let log_missing =
            opening == Opening::Use && audit_log::log_is_missing(path.as_ref(), &audit_path);
        // Read only: a connection that cannot write (no migration then).
        let mut writable = match opening {
            Opening::ReadOnly => None,
            _ if log_missing => None,
            _ => Some(Arc::new(SqliteStorage::open(path.as_ref(), false)?)),
        };
        let mut storage: Arc<dyn Storage> = match &writable {
            Some(s) => s.clone(),
            None => Arc::new(store::ReadOnlySqlite::open(path.as_ref())?),
        };
        let (mut kdf, mut check, mut config) = (None, None, None);
        store::read_again_if_writer_appeared(|| {
            storage.read(&mut |tx| {
                kdf = tx.get(Table::Meta, META_KDF)?;
                check = tx.get(Table::Meta, META_CHECK)?;
                config = tx.get(Table::Meta, META_CONFIG)?;
                Ok(())
            })
        })?;
        let kdf = kdf
            .map(|r| {
                root::Argon2Params::parse_stored(
                    &r.body,
                    "the keystore's KDF parameters (meta/kdf)",
                )
            })
            .transpose()?;
        let (Some(check), Some(config)) = (check, config) else {
            return Err(Error::internal(format!(
                "{} is not a Strongroom keystore",
                path.as_ref().display()
            )));
        };
        let root_key = RootKey::from_bytes(resolve_root(&root, kdf.as_ref())?.expose_secret())?;
        let expected = root_key.check_value(&check.body)?;
        if !subtle_eq(&expected, &check.tag) {
            return Err(wrong_root(&root, "this keystore"));
        }
        let keystore_id = String::from_utf8(check.body.clone())
            .map_err(|_| auth_failed("the keystore configuration"))?;
        let (mut config, old) = migrate::read_config(&root_key, &keystore_id, &config)?;
        config.admin_principal =
            core_access::admin_principal(&config.admin_principal, &config.account);
        // The configuration row verified under the root key: a principal
        // in it that does not parse is stored data gone wrong, not a
        // caller's input (as a key row with a valid MAC over a malformed
        // body).
        let default_policy = parse_default_policy(&config.admin_principal).map_err(|e| {
            Error::internal(format!(
                "the keystore configuration is malformed: {}",
                e.message()
            ))
        })?;
        // Before anything else is read or written.
        anchor::check_anchored(&config, &options)?;
        if old && !options.migrate_old_format {
            return Err(migrate::needs_migration(config.format_version));
        }
        if log_missing {
            if !old {
                let mut checkpoint = None;
                store::read_again_if_writer_appeared(|| {
                    storage.read(&mut |tx| {
                        checkpoint = Some(integrity::read_checkpoint(tx, &root_key)?);
                        Ok(())
                    })
                })?;
                if let Some(cp) = checkpoint {
                    // A log another opener made since it was looked for
                    // (and wrote the records the checkpoint covers) is no
                    // longer missing: opened as any other.
                    audit_log::refuse_missing_log(&audit_path, &cp).or_else(|e| {
                        if audit_log::log_is_missing(path.as_ref(), &audit_path) {
                            Err(e)
                        } else {
                            Ok(())
                        }
                    })?;
                }
            }
            let s = Arc::new(SqliteStorage::open(path.as_ref(), false)?);
            storage = s.clone();
            writable = Some(s);
        }
        if opening != Opening::ReadOnly {
            audit_log::adopt_log_named_by_link(path.as_ref(), &audit_path);
        }
        if old {
            let Some(sqlite) = &writable else {
                return Err(migrate::needs_migration(config.format_version));
            };
            migrate::migrate(sqlite, &root_key, &keystore_id)?;
            config.format_version = KEYSTORE_FORMAT_VERSION;
        }
        let principal = options.principal.as_deref().map(Arc::from);
        let own = own_files_of(path.as_ref(), &root, options.anchor.as_ref());
        let ks = Keystore {
            inner: Arc::new(Inner::new(
                storage,
                root_key,
                config,
                Arc::new(SystemClock),
                audit_path,
                default_policy,
                options,
                own,
            )),
            principal,
            dry_run: false,
            source_ip: None,
        };
        if opening != Opening::Use {
            // Nothing is initialised without an open for use: a missing
            // anchor is refused by every check.
            ks.inner.guard.end_initialization();
            return Ok(ks);
        }
        ks.verify_digest()?;
        // A missing anchor is initialised by this check only.
        ks.inner.guard.end_initialization();
        ks.record_anchoring()?;
        Ok(ks)
    }

    /// Whether the keystore at `path` is protected by a passphrase (it was
    /// created, or imported from an export, with
    /// [`RootKeySource::Passphrase`] and records its Argon2id parameters):
    /// such a keystore opens only with its passphrase, and any other root
    /// key source is refused with `ValidationException` before it is read.
    /// Read only, without any root key: nothing is written and nothing
    /// secret is read (the parameters are not secret).
    ///
    /// # Errors
    /// `NotFoundException` if there is no file at `path`;
    /// `KMSInternalException` if it cannot be read or is not a keystore.
    pub fn is_passphrase_protected(path: impl AsRef<Path>) -> Result<bool> {
        let storage = store::ReadOnlySqlite::open(path.as_ref())?;
        let (mut kdf, mut check) = (None, None);
        storage.read(&mut |tx| {
            kdf = tx.get(Table::Meta, META_KDF)?;
            check = tx.get(Table::Meta, META_CHECK)?;
            Ok(())
        })?;
        if check.is_none() {
            return Err(Error::internal(format!(
                "{} is not a Strongroom keystore",
                path.as_ref().display()
            )));
        }
        Ok(kdf.is_some())
    }

    /// Whether the keystore at `path` is anchored and where its anchor
    /// stands, read only ([`anchor_status`](Self::anchor_status) without
    /// opening a handle for use): the configuration, the whole integrity
    /// state (checked as on open) and the anchor of `options` are read and
    /// authenticated; nothing is written — no anchoring begins, no audit
    /// event is appended, an anchor behind is not moved, a missing one not
    /// created. `options` as for [`open_with`](Self::open_with)
    /// (`initialize_if_missing` and `reinitialize` have no effect here: an
    /// anchor holding no record is reported as `anchor_counter: None` for a
    /// keystore not anchored yet, and refused for an anchored one).
    ///
    /// # Errors
    /// Those of [`open_with`](Self::open_with) up to the configuration
    /// (`KMSInvalidStateException` for an anchored keystore without an
    /// anchor or the opt-out); `KMSInternalException` when the state fails
    /// authentication, the keystore is behind the anchor, or the anchor
    /// fails authentication or, the keystore being anchored, is missing; `KMSInvalidStateException` when the anchor
    /// holds a record of another anchor ID.
    pub fn inspect_anchor(
        path: impl AsRef<Path>,
        root: RootKeySource,
        options: OpenOptions,
    ) -> Result<AnchorStatus> {
        let ks = Self::open_checked(path, root, options, Opening::Inspect)?;
        ks.inspect_anchor_status()
    }

    /// Checks the keystore integrity state (`docs/FORMAT.md`, "Keystore
    /// integrity state"): that the key, alias and grant rows and the audit
    /// checkpoint are exactly those Strongroom last wrote (no row added,
    /// deleted, or rolled back to an older authentic version, alone or
    /// together with other old rows; no older checkpoint). Recomputes it
    /// from every row's tag (no bodies are read). Run by [`open`](Self::open).
    /// Also refuses a state older (a lower counter) than the newest this
    /// handle has seen, older than or at the counter of but other than the
    /// newest any handle of the process has seen on this file, or behind
    /// the anchor ([`OpenOptions::anchor`]; `docs/FORMAT.md`, "Keystore
    /// anchor"), and moves an anchor that is behind forward.
    ///
    /// # Errors
    /// `KMSInternalException` when it does not match, or the anchor is
    /// missing (and not to be initialised), fails authentication or cannot
    /// be read or written; `ValidationException` in a process made by
    /// `fork()` from the one that opened the handle (it opens its own).
    pub fn verify_digest(&self) -> Result<()> {
        self.inner.audit.check_process()?;
        if self.verify_state()? {
            self.advance_anchor()?;
        }
        Ok(())
    }

    /// [`verify_digest`](Self::verify_digest) without moving the anchor:
    /// returns whether it is to be moved forward
    /// ([`advance_anchor`](Self::advance_anchor)).
    pub(crate) fn verify_state(&self) -> Result<bool> {
        // The highest states seen before the snapshot is taken: a write
        // committed by another thread while the tree is recomputed raises
        // them without making the snapshot a rollback.
        // The anchor too is read before: it is stored only after the state
        // it holds commits, so it cannot be ahead of a later snapshot.
        let marks = self.inner.guard.marks()?;
        let mut state = None;
        self.inner.storage.read(&mut |tx| {
            state = Some(integrity::verify_all(tx, &self.inner.root)?);
            Ok(())
        })?;
        let state = state.ok_or_else(|| Error::internal("transaction produced no result"))?;
        let moved_before = self.inner.guard.anchor_moved(&marks)?;
        let behind = self.inner.guard.check(&state, Some(marks), false)?;
        // An anchor stored between the marks and now (by a write of another
        // handle or process) may hold a state the snapshot is behind: a
        // legitimate race, or the file put back after that write. The
        // check is then repeated under the log's lock, where no write
        // commits meanwhile.
        Ok(behind || moved_before)
    }

    /// Moves an anchor found behind forward, under the audit log's lock (as
    /// writes store it): the state and the anchor are read again under
    /// it, so a state is never stored over a later one another handle or
    /// process stored meanwhile.
    fn advance_anchor(&self) -> Result<()> {
        self.inner.audit.with_change(|_log| {
            let mut state = None;
            self.inner.storage.read(&mut |tx| {
                state = Some(integrity::read_state(tx, &self.inner.root)?);
                Ok(())
            })?;
            let state = state.ok_or_else(|| Error::internal("transaction produced no result"))?;
            if self.inner.guard.check(&state, None, false)? {
                self.inner.guard.advance(&state)?;
            }
            Ok(())
        })
    }

    /// Runs `f` in a write transaction and keeps the integrity state
    /// current (checking the buckets it touches first, see
    /// [`integrity::IntegrityTx`]). Refuses to change anything when the
    /// audit log cannot be written.
    ///
    /// A transaction that changes rows first appends the intent record of
    /// the call it runs in to the log, `fdatasync`s it, and commits the
    /// checkpoint that covers it in its own state row (`docs/FORMAT.md`,
    /// "Intent records"), holding the log's lock from before the
    /// transaction begins until it ends (released on return, on unwinding
    /// and, by the kernel, on a crash).
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.write_maintaining(&mut |tx, _| f(tx))
    }

    /// [`write`](Self::write), where `f` also notes the time-driven
    /// maintenance it applied (an automatic rotation, the deletion of
    /// expired imported key material) in its second argument: recorded as
    /// AWS KMS's service events once the change commits, as a purge's
    /// `DeleteKey` is.
    fn write_maintaining(&self, f: &mut MaintainingWrite<'_>) -> Result<()> {
        test_hooks::before_write();
        // Write-behind: the records this handle queued go ahead of the
        // intent (call order), and a batch that failed is retried first (the
        // change is refused while it stays unwritten).
        self.inner.audit.drain()?;
        let _invalidate = InvalidateOnDrop(&self.inner.cache);
        self.inner.audit.with_change(|log| {
            let mut written = None;
            let mut service: Vec<ServiceEvent> = Vec::new();
            self.inner.storage.write(&mut |tx| {
                service.clear();
                let state = integrity::read_state(tx, &self.inner.root)?;
                // An anchor found behind is stored here (fail closed), even
                // if the write changes nothing.
                self.inner.guard.check(&state, None, true)?;
                log.check(self, &state.checkpoint)?;
                let mut itx = integrity::IntegrityTx::new(tx, &self.inner.root, state);
                f(&mut itx, &mut service)?;
                if !itx.changes() {
                    service.clear();
                } else {
                    let millis = self.inner.clock.now().saturating_mul(1000);
                    let keys = itx
                        .written_keys()
                        .map(|k| strongroom_core::key::key_arn(self.region(), self.account(), k));
                    let intent =
                        audit_log::intent_record(self.principal(), self.account(), millis, keys)
                            .ok_or_else(|| {
                                Error::internal("a keystore change outside an audited operation")
                            })?;
                    let cp = log.append_intent(&intent, &itx.checkpoint())?;
                    itx.set_checkpoint(cp);
                    service.extend(
                        itx.deleted_keys()
                            .map(|k| ServiceEvent::Deleted(k.to_owned())),
                    );
                }
                if test_hooks::take_commit_failure() {
                    return Err(Error::internal("injected commit failure (test hook)"));
                }
                written = itx.finish()?;
                Ok(())
            })?;
            // A key purged at the end of its waiting period, rotated
            // automatically, or whose imported material expired: AWS KMS's
            // service event (`DeleteKey`, `RotateKey`,
            // `DeleteExpiredKeyMaterial`), one per key, appended only once
            // the change has committed (one that does not commit leaves
            // none), still under the log's lock. A failed append does not
            // fail the committed change: the event is kept and retried as
            // an outcome record is (`AuditSink::retain_outcome`).
            let millis = self.inner.clock.now().saturating_mul(1000);
            for done in service {
                let event = done.event(self, millis).to_canonical_record();
                let appended = if test_hooks::take_service_event_failure() {
                    Err(Error::internal("injected audit write failure (test hook)"))
                } else {
                    log.append_committed(&event)
                };
                if let Err(e) = appended {
                    self.inner.audit.retain_outcome(event, &e);
                }
            }
            // Committed: recorded as seen and stored in the anchor, still
            // under the log's lock (so anchor stores follow commit order).
            written
                .as_ref()
                .map_or(Ok(()), |state| self.inner.guard.committed(state))
        })
    }

    /// The same keystore reading time from `clock` (tests, simulations).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.clock = clock;
            return self;
        }
        let arc = &self.inner;
        let inner = Inner {
            storage: arc.storage.clone(),
            root: arc.root.clone(),
            config: arc.config.clone(),
            clock,
            default_policy: arc.default_policy.clone(),
            cache: cache::RecordCache::default(),
            audit: arc.audit.clone(),
            guard: arc.guard.clone(),
            own_files: arc.own_files.clone(),
        };
        Keystore {
            inner: Arc::new(inner),
            principal: self.principal,
            dry_run: self.dry_run,
            source_ip: self.source_ip,
        }
    }

    /// Region used in ARNs.
    pub fn region(&self) -> &str {
        &self.inner.config.region
    }

    /// Account ID used in ARNs.
    pub fn account(&self) -> &str {
        &self.inner.config.account
    }

    fn env(&self) -> Env<'_> {
        Env {
            region: &self.inner.config.region,
            account: &self.inner.config.account,
            root: &self.inner.root,
            now: self.inner.clock.now(),
        }
    }

    // ---- record persistence -------------------------------------------------

    /// The record MAC of row `id` of `kind` with `body` in this keystore.
    pub(crate) fn mac_row(&self, kind: &[u8], id: &str, body: &[u8]) -> Result<Vec<u8>> {
        migrate::tag(
            &self.inner.root,
            &self.inner.config.keystore_id,
            kind,
            id,
            body,
        )
    }

    /// Whether `row`'s tag is its record MAC of `kind` in this keystore.
    pub(crate) fn verify_row(&self, kind: &[u8], row: &Row) -> bool {
        migrate::verify(
            &self.inner.root,
            &self.inner.config.keystore_id,
            kind,
            &row.id,
            &row.body,
            &row.tag,
        )
    }

    fn key_row(&self, rec: &KeyRecord) -> Result<Row> {
        let body = to_json(rec)?;
        Ok(Row {
            id: rec.key_id.clone(),
            tag: self.mac_row(b"key", &rec.key_id, &body)?,
            body,
        })
    }

    fn parse_key_row(&self, row: &Row) -> Result<KeyRecord> {
        if !self.verify_row(b"key", row) {
            return Err(auth_failed(&format!("the record of key {}", row.id)));
        }
        let rec: KeyRecord = from_json(&row.body, "key record")?;
        if rec.key_id != row.id {
            return Err(auth_failed(&format!("the record of key {}", row.id)));
        }
        Ok(rec)
    }

    fn alias_row(&self, a: &AliasRecord) -> Result<Row> {
        let body = to_json(a)?;
        Ok(Row {
            id: a.alias_name.clone(),
            tag: self.mac_row(b"alias", &a.alias_name, &body)?,
            body,
        })
    }

    fn parse_alias_row(&self, row: &Row) -> Result<AliasRecord> {
        if !self.verify_row(b"alias", row) {
            return Err(auth_failed(&format!("alias {}", row.id)));
        }
        let a: AliasRecord = from_json(&row.body, "alias record")?;
        if a.alias_name != row.id {
            return Err(auth_failed(&format!("alias {}", row.id)));
        }
        Ok(a)
    }

    /// Resolves an identifier to a key ID inside a transaction.
    fn resolve_in(&self, tx: &mut dyn Tx, ident: &KeyIdentifier, original: &str) -> Result<String> {
        match ident {
            KeyIdentifier::KeyId(id) => Ok(id.clone()),
            KeyIdentifier::Alias(name) => match tx.get(Table::Aliases, name)? {
                Some(row) => Ok(self.parse_alias_row(&row)?.target_key_id),
                None => Err(Error::not_found(format!(
                    "Alias {} is not found (requested as {original}).",
                    self.alias_arn(name)
                ))),
            },
        }
    }

    fn alias_arn(&self, name: &str) -> String {
        strongroom_core::key::alias_arn(self.region(), self.account(), name)
    }

    fn parse_ident(&self, key_id: &str) -> Result<KeyIdentifier> {
        KeyIdentifier::parse(key_id, self.region(), self.account())
    }

    /// Loads a key record inside `tx`, purging it if its deletion date passed.
    fn load_in(
        &self,
        tx: &mut dyn Tx,
        key_id: &str,
        ident: &KeyIdentifier,
    ) -> Result<Option<KeyRecord>> {
        let id = self.resolve_in(tx, ident, key_id)?;
        match tx.get(Table::Keys, &id)? {
            Some(row) => Ok(Some(self.parse_key_row(&row)?)),
            None => Ok(None),
        }
    }

    fn not_found(&self, key_id: &str) -> Error {
        Error::not_found(format!("Key '{key_id}' does not exist"))
    }

    /// The cache generation to insert under, after checking the change
    /// counter (and, when it moved, the integrity state); `None` when the
    /// storage has no change detector.
    fn fresh_cache(&self) -> Result<Option<u64>> {
        let Some(epoch) = self.inner.storage.change_counter()? else {
            return Ok(None);
        };
        // The call's audit append reuses this reading (one query per call).
        self.inner.audit.observed_epoch(epoch);
        if let Some(g) = self.inner.cache.generation_at(epoch) {
            return Ok(Some(g));
        }
        let mut rows = [0u8; 32];
        self.inner.storage.read(&mut |tx| {
            rows = integrity::rows_fingerprint(tx)?;
            Ok(())
        })?;
        Ok(Some(self.inner.cache.validate(epoch, rows)))
    }

    /// A key record from the cache, or read, authenticated and cached.
    fn load_cached(&self, key_id: &str, ident: &KeyIdentifier) -> Result<Arc<cache::CachedKey>> {
        let generation = self.fresh_cache()?;
        let cache = &self.inner.cache;
        if generation.is_some() {
            let id = match ident {
                KeyIdentifier::KeyId(id) => Some(id.clone()),
                KeyIdentifier::Alias(name) => cache.alias(name),
            };
            if let Some(hit) = id.and_then(|id| cache.key(&id)) {
                return Ok(hit);
            }
        }
        let mut found = None;
        self.inner.storage.read(&mut |tx| {
            found = self.load_in(tx, key_id, ident)?;
            Ok(())
        })?;
        let entry = Arc::new(cache::CachedKey::new(
            found.ok_or_else(|| self.not_found(key_id))?,
        ));
        if let Some(g) = generation {
            let alias = match ident {
                KeyIdentifier::Alias(name) => Some(name.as_str()),
                KeyIdentifier::KeyId(_) => None,
            };
            cache.insert(g, alias, &entry);
        }
        Ok(entry)
    }

    /// Loads a key for use: read-only unless a purge or automatic rotation
    /// is due. Served from the record cache when it is fresh.
    fn load_shared(&self, key_id: &str) -> Result<Arc<cache::CachedKey>> {
        let ident = self.parse_ident(key_id)?;
        let entry = self.load_cached(key_id, &ident)?;
        let rec = &entry.rec;
        let now = self.inner.clock.now();
        let rotation_due =
            rec.rotation.enabled && rec.rotation.next_rotation.is_some_and(|d| d <= now);
        if ops::is_due_for_purge(rec, now)
            || rotation_due
            || strongroom_core::asym::imported_material_expired(rec, now)
        {
            let rec = self.modify(key_id, &|_, _| Ok(()), |_, r| Ok(r.clone()))?;
            return Ok(Arc::new(cache::CachedKey::new(rec)));
        }
        Ok(entry)
    }

    /// Runs `check` on a key record as stored, then `f` on it, in a write
    /// transaction, and stores the result. Purges keys whose deletion date
    /// passed first, then applies due rotations unless `check` failed
    /// (then nothing is written).
    fn modify<T>(
        &self,
        key_id: &str,
        check: &WriteCheck<'_>,
        mut f: impl FnMut(&Env<'_>, &mut KeyRecord) -> Result<T>,
    ) -> Result<T>
    where
        T: Clone,
    {
        let ident = self.parse_ident(key_id)?;
        let env = self.env();
        let mut out = None;
        self.write_maintaining(&mut |tx, service| {
            let mut rec = self
                .load_in(tx, key_id, &ident)?
                .ok_or_else(|| self.not_found(key_id))?;
            if ops::is_due_for_purge(&rec, env.now) {
                self.purge_in(tx, &rec.key_id)?;
                // Commit the purge, then report the key as gone.
                out = Some(Err(self.not_found(key_id)));
                return Ok(());
            }
            // A failed check writes nothing (due maintenance is done by the
            // next write).
            check(&rec, &access::TxReads::new(self, &mut *tx))?;
            let before = rec.clone();
            // Recorded as service events once the write commits.
            let due = |rec: &mut KeyRecord, service: &mut Vec<ServiceEvent>| -> Result<()> {
                service.clear();
                if strongroom_core::asym::expire_imported_material(rec, env.now) {
                    service.push(ServiceEvent::MaterialExpired(rec.key_id.clone()));
                }
                if ops::rotate_if_due(&env, &mut os_rng(), rec)? {
                    service.push(ServiceEvent::Rotated(rec.key_id.clone()));
                }
                Ok(())
            };
            due(&mut rec, service)?;
            let result = f(&env, &mut rec);
            if result.is_err() {
                rec = before.clone();
                due(&mut rec, service)?;
            }
            if rec != before {
                rec.generation += 1;
                tx.put(Table::Keys, &self.key_row(&rec)?)?;
            }
            out = Some(result.map(|t| (t, rec.clone())));
            Ok(())
        })?;
        match out {
            Some(Ok((t, _))) => Ok(t),
            Some(Err(e)) => Err(e),
            None => Err(Error::internal("transaction produced no result")),
        }
    }

    /// Deletes the key `key_id` with its aliases and grants (KMS deletes a
    /// key's grants with the key).
    fn purge_in(&self, tx: &mut dyn Tx, key_id: &str) -> Result<()> {
        tx.delete(Table::Keys, key_id)?;
        let (after, before) = grant_range(key_id);
        loop {
            let rows = tx.list_range(Table::Grants, &after, &before, 1000)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                tx.delete(Table::Grants, &r.id)?;
            }
        }
        let mut after: Option<String> = None;
        loop {
            let rows = tx.list(Table::Aliases, after.as_deref(), 1000)?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for row in &rows {
                if self.parse_alias_row(row)?.target_key_id == key_id {
                    tx.delete(Table::Aliases, &row.id)?;
                }
            }
        }
        Ok(())
    }

    /// Deletes every key whose deletion window has passed, with its aliases
    /// and grants.
    /// Returns how many were deleted. (Keys are also purged lazily when used.)
    /// Audited as the Strongroom operation `PurgeDeletedKeys` (with an
    /// intent record when it deletes anything, `docs/FORMAT.md`, "Intent
    /// records"); it has no `DryRun`, so a [`dry_run`](Self::dry_run)
    /// handle refuses it.
    ///
    /// # Errors
    /// `KMSInternalException` on storage or authentication failure;
    /// `ValidationException` on a dry-run handle.
    pub fn purge_deleted_keys(&self) -> Result<usize> {
        // Audited as `PurgeDeletedKeys` (a Strongroom operation): its row
        // change has an intent record, and the outcome follows it.
        self.call(
            "PurgeDeletedKeys",
            strongroom_core::audit::RequestParameters::default(),
            |_| self.purge_due_keys(),
        )
    }

    fn purge_due_keys(&self) -> Result<usize> {
        let now = self.inner.clock.now();
        let mut count = 0;
        self.write(&mut |tx| {
            count = 0;
            let mut after: Option<String> = None;
            let mut due = Vec::new();
            loop {
                let rows = tx.list(Table::Keys, after.as_deref(), 1000)?;
                let Some(last) = rows.last() else { break };
                after = Some(last.id.clone());
                for row in &rows {
                    let rec = self.parse_key_row(row)?;
                    if ops::is_due_for_purge(&rec, now) {
                        due.push(rec.key_id);
                    }
                }
            }
            for id in &due {
                self.purge_in(tx, id)?;
            }
            count = due.len();
            Ok(())
        })?;
        Ok(count)
    }

    // ---- key management ------------------------------------------------------

    /// CreateKey. Returns the new key's metadata.
    ///
    /// # Errors
    /// See [`strongroom_core::ops::create_key`]; `KMSInternalException` on storage failure.
    ///
    /// CreateKey has no key resource to authorize against (AWS KMS uses IAM
    /// alone); every principal may call it. A `Policy` is validated and, unless
    /// `BypassPolicyLockoutSafetyCheck` is set, must let the caller call
    /// `PutKeyPolicy` later (`MalformedPolicyDocumentException` otherwise).
    pub fn create_key(&self, req: &CreateKeyRequest) -> Result<DescribeKeyResponse> {
        service::create_key(&mut access::Service(self), req)
    }

    /// DescribeKey by key ID, key ARN, alias name or alias ARN.
    ///
    /// # Errors
    /// `NotFoundException`, `InvalidArnException`, `KMSInternalException`.
    pub fn describe_key(&self, key_id: &str) -> Result<DescribeKeyResponse> {
        service::describe_key(&mut access::Service(self), key_id, &[])
    }

    /// DescribeKey with the request's `GrantTokens`, checked as Encrypt's
    /// are: at most 10, each 1 to 8192 characters, each a token this
    /// keystore issued (grants take effect at once here, so a valid token
    /// adds no permission).
    ///
    /// # Errors
    /// Those of [`describe_key`](Self::describe_key);
    /// `ValidationException` for the number or length of the tokens,
    /// `InvalidGrantTokenException` for a token this keystore did not issue.
    pub fn describe_key_with_grant_tokens(
        &self,
        key_id: &str,
        grant_tokens: &[String],
    ) -> Result<DescribeKeyResponse> {
        service::describe_key(&mut access::Service(self), key_id, grant_tokens)
    }

    /// ListKeys: `limit` 1–1000 (default 100), `marker` from a previous page
    /// ([`service::list_keys`]). Allowed for every principal (IAM-only in AWS
    /// KMS; it reveals key IDs, not metadata) and audited.
    ///
    /// # Errors
    /// `ValidationException` for the limit, `InvalidMarkerException`.
    pub fn list_keys(&self, limit: Option<u32>, marker: Option<&str>) -> Result<ListKeysResponse> {
        service::list_keys(&mut access::Service(self), limit, marker)
    }

    /// UpdateKeyDescription.
    ///
    /// # Errors
    /// See [`strongroom_core::ops::update_key_description`]; `NotFoundException`.
    pub fn update_key_description(&self, key_id: &str, description: &str) -> Result<()> {
        strongroom_core::service::update_key_description(
            &mut access::Service(self),
            key_id,
            description,
        )
    }

    /// EnableKey.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn enable_key(&self, key_id: &str) -> Result<()> {
        service::enable_key(&mut access::Service(self), key_id)
    }

    /// DisableKey.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn disable_key(&self, key_id: &str) -> Result<()> {
        service::disable_key(&mut access::Service(self), key_id)
    }

    /// ScheduleKeyDeletion: `pending_window_in_days` 7–30 (default 30).
    ///
    /// # Errors
    /// `ValidationException`, `NotFoundException`, `KMSInvalidStateException`.
    pub fn schedule_key_deletion(
        &self,
        key_id: &str,
        pending_window_in_days: Option<u32>,
    ) -> Result<ScheduleKeyDeletionResponse> {
        strongroom_core::service::schedule_key_deletion(
            &mut access::Service(self),
            key_id,
            pending_window_in_days,
        )
    }

    /// CancelKeyDeletion: the key becomes `Disabled`.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn cancel_key_deletion(&self, key_id: &str) -> Result<KeyIdResponse> {
        service::cancel_key_deletion(&mut access::Service(self), key_id)
    }

    /// EnableKeyRotation: `rotation_period_in_days` 90–2560 (default 365).
    ///
    /// # Errors
    /// See [`strongroom_core::ops::enable_key_rotation`].
    pub fn enable_key_rotation(
        &self,
        key_id: &str,
        rotation_period_in_days: Option<u32>,
    ) -> Result<()> {
        strongroom_core::service::enable_key_rotation(
            &mut access::Service(self),
            key_id,
            rotation_period_in_days,
        )
    }

    /// DisableKeyRotation.
    ///
    /// # Errors
    /// See [`strongroom_core::ops::disable_key_rotation`].
    pub fn disable_key_rotation(&self, key_id: &str) -> Result<()> {
        service::disable_key_rotation(&mut access::Service(self), key_id)
    }

    /// GetKeyRotationStatus.
    ///
    /// # Errors
    /// `NotFoundException`, `UnsupportedOperationException`.
    pub fn get_key_rotation_status(&self, key_id: &str) -> Result<GetKeyRotationStatusResponse> {
        service::get_key_rotation_status(&mut access::Service(self), key_id)
    }

    /// RotateKeyOnDemand (at most 10 per key).
    ///
    /// # Errors
    /// See [`strongroom_core::ops::rotate_key_on_demand`].
    pub fn rotate_key_on_demand(&self, key_id: &str) -> Result<KeyIdResponse> {
        service::rotate_key_on_demand(&mut access::Service(self), key_id)
    }

    /// ListKeyRotations: `limit` 1–1000 (default 100).
    ///
    /// # Errors
    /// `NotFoundException`, `UnsupportedOperationException`, `InvalidMarkerException`.
    pub fn list_key_rotations(
        &self,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListKeyRotationsResponse> {
        strongroom_core::service::list_key_rotations(
            &mut access::Service(self),
            key_id,
            limit,
            marker,
        )
    }

    // ---- aliases -----------------------------------------------------------

    /// CreateAlias: `alias_name` (`alias/...`) for `target_key_id` (a key ID or key ARN, not an alias).
    ///
    /// # Errors
    /// `InvalidAliasNameException`, `ValidationException`,
    /// `AlreadyExistsException`, `NotFoundException`, `KMSInvalidStateException`.
    pub fn create_alias(&self, alias_name: &str, target_key_id: &str) -> Result<()> {
        service::put_alias(&mut access::Service(self), alias_name, target_key_id, true)
    }

    /// UpdateAlias: points an existing alias at another key of the same key
    /// type (both symmetric, both asymmetric or both HMAC) and key usage, as
    /// in KMS; the key spec may differ (`RSA_2048` to `ECC_NIST_P256`).
    ///
    /// # Errors
    /// As [`create_alias`](Self::create_alias), with `NotFoundException` for an
    /// absent alias and `ValidationException` for a new key of another key
    /// type or key usage.
    pub fn update_alias(&self, alias_name: &str, target_key_id: &str) -> Result<()> {
        service::put_alias(&mut access::Service(self), alias_name, target_key_id, false)
    }

    /// The alias record `alias_name`, if it exists.
    fn read_alias(&self, alias_name: &str) -> Result<Option<AliasRecord>> {
        let mut out = None;
        self.inner.storage.read(&mut |tx| {
            out = tx
                .get(Table::Aliases, alias_name)?
                .map(|r| self.parse_alias_row(&r))
                .transpose()?;
            Ok(())
        })?;
        Ok(out)
    }

    /// DeleteAlias.
    ///
    /// # Errors
    /// `InvalidAliasNameException`, `NotFoundException`.
    pub fn delete_alias(&self, alias_name: &str) -> Result<()> {
        service::delete_alias(&mut access::Service(self), alias_name)
    }

    /// ListAliases, optionally only those of `key_id`; `limit` 1–100 (default 50)
    /// ([`service::list_aliases`]). Allowed for every principal (IAM-only in
    /// AWS KMS) and audited.
    ///
    /// # Errors
    /// `NotFoundException` for `key_id`, `ValidationException`, `InvalidMarkerException`.
    pub fn list_aliases(
        &self,
        key_id: Option<&str>,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListAliasesResponse> {
        service::list_aliases(&mut access::Service(self), key_id, limit, marker)
    }

    // ---- tags ----------------------------------------------------------------

    /// TagResource.
    ///
    /// `key_id` is a key ID or key ARN, as in KMS: an alias name or alias
    /// ARN is `NotFoundException` (`Invalid keyId`), for this and the other
    /// tag operations.
    ///
    /// # Errors
    /// `ValidationException` (a `TagKey` not 1 to 128 characters, a
    /// `TagValue` over 256), `TagException` (an `aws:` key, more than 50
    /// tags), `NotFoundException` (no such key, or an alias given),
    /// `KMSInvalidStateException`.
    pub fn tag_resource(&self, key_id: &str, tags: &[Tag]) -> Result<()> {
        service::tag_resource(&mut access::Service(self), key_id, tags)
    }

    /// UntagResource. `key_id` is a key ID or key ARN (an alias is
    /// `NotFoundException`, as in KMS).
    ///
    /// # Errors
    /// `ValidationException` (a tag key not 1 to 128 characters),
    /// `NotFoundException` (no such key, or an alias given),
    /// `KMSInvalidStateException`.
    pub fn untag_resource(&self, key_id: &str, tag_keys: &[String]) -> Result<()> {
        service::untag_resource(&mut access::Service(self), key_id, tag_keys)
    }

    /// ListResourceTags: `limit` 1–50 (default 50). `key_id` is a key ID or
    /// key ARN (an alias is `NotFoundException`, as in KMS).
    ///
    /// # Errors
    /// `NotFoundException` (no such key, or an alias given),
    /// `InvalidMarkerException`.
    pub fn list_resource_tags(
        &self,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListResourceTagsResponse> {
        strongroom_core::service::list_resource_tags(
            &mut access::Service(self),
            key_id,
            limit,
            marker,
        )
    }

    // ---- cryptographic operations -------------------------------------------

    /// Encrypt up to 4096 bytes under a symmetric key, binding the encryption context.
    ///
    /// # Errors
    /// `AccessDeniedException`, `NotFoundException`, `DisabledException`,
    /// `KMSInvalidStateException`, `InvalidKeyUsageException`,
    /// `ValidationException`, `InvalidGrantTokenException`.
    pub fn encrypt(&self, req: &EncryptRequest) -> Result<EncryptResponse> {
        service::encrypt(&mut access::Service(self), req)
    }

    /// Decrypt a symmetric ciphertext blob. The key comes from the blob; a
    /// `KeyId` in the request must name that key. When `KeyId` names an RSA
    /// key, the ciphertext is RSAES-OAEP output and `EncryptionAlgorithm`
    /// is required, as in KMS.
    ///
    /// # Errors
    /// `InvalidCiphertextException` (every authentication failure, detail-free),
    /// `IncorrectKeyException`, `DisabledException`, `KMSInvalidStateException`,
    /// `AccessDeniedException`, `InvalidGrantTokenException`.
    pub fn decrypt(&self, req: &DecryptRequest) -> Result<DecryptResponse> {
        service::decrypt(&mut access::Service(self), req)
    }

    /// ReEncrypt: decrypts under the source key and context and encrypts
    /// under the destination key and context, returning no plaintext. Either
    /// side may be an RSA `ENCRYPT_DECRYPT` key (RSAES-OAEP): an RSA source
    /// is named by `SourceKeyId` with `SourceEncryptionAlgorithm`, an RSA
    /// destination takes `DestinationEncryptionAlgorithm`. Authorized as
    /// `ReEncryptFrom` on the source key and `ReEncryptTo` on the
    /// destination key.
    ///
    /// # Errors
    /// Those of [`decrypt`](Self::decrypt) for the source and
    /// [`encrypt`](Self::encrypt) for the destination.
    pub fn re_encrypt(&self, req: &ReEncryptRequest) -> Result<ReEncryptResponse> {
        service::re_encrypt(&mut access::Service(self), req)
    }

    /// GenerateDataKey: a data key in plaintext and encrypted under the key.
    ///
    /// # Errors
    /// `ValidationException` (KeySpec / NumberOfBytes), plus those of [`encrypt`](Self::encrypt).
    pub fn generate_data_key(
        &self,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        strongroom_core::service::generate_data_key(
            &mut access::Service(self),
            "GenerateDataKey",
            req,
        )
    }

    /// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
    ///
    /// # Errors
    /// As [`generate_data_key`](Self::generate_data_key).
    pub fn generate_data_key_without_plaintext(
        &self,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse> {
        let op = "GenerateDataKeyWithoutPlaintext";
        let r = service::generate_data_key(&mut access::Service(self), op, req)?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob: r.ciphertext_blob,
            key_id: r.key_id,
        })
    }

    /// GenerateRandom: 1–1024 bytes from the OS CSPRNG. Allowed for every
    /// principal (IAM-only in AWS KMS) and audited.
    ///
    /// # Errors
    /// `ValidationException` outside 1–1024.
    pub fn generate_random(&self, number_of_bytes: u32) -> Result<GenerateRandomResponse> {
        service::generate_random(&mut access::Service(self), number_of_bytes)
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle_ct::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

mod subtle_ct {
    pub use strongroom_core::crypto::ConstantTimeEq;
}

fn uuid_from(bytes: [u8; 16]) -> String {
    let mut b = bytes;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The grant rows of `key_id` are those with `after < id < before`: IDs
/// `<key ID>/<grant ID>`, and `0` follows `/` (key IDs have no `/`).
pub(crate) fn grant_range(key_id: &str) -> (String, String) {
    (format!("{key_id}/"), format!("{key_id}0"))
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::internal(format!("serialization failed: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(b: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(b)
        .map_err(|e| Error::internal(format!("stored {what} is malformed: {e}")))
}

/// The repository README's Rust example, compiled and run as a doc test.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
