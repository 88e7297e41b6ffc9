//! Criterion benchmarks of Strongroom; see `benches/RESULTS.md` for results
//! and `benches/benches/*.rs` for the benchmarks themselves.
//!
//! Shared set-up for `benches/ops.rs` and `strongroom-rates`: keystores of a
//! given size, created once and kept under `target/` between runs.

use std::path::{Path, PathBuf};

use strongroom::api::CreateKeyRequest;
use strongroom::core::key::{KeySpec, KeyUsage};
use strongroom::{audit_log_path, AuditWriteMode, Keystore, OpenOptions, RootKeySource, Secret};

/// The fixed root key of bench keystores (never for real use).
pub fn root() -> RootKeySource {
    RootKeySource::Bytes(Secret::new(vec![0x5a; 32]))
}

/// The non-symmetric keys every bench keystore holds besides its symmetric
/// ones, as (name, key spec, key usage); each has the alias
/// `alias/bench-<name>`.
pub const EXTRA_KEYS: &[(&str, KeySpec, KeyUsage)] = &[
    ("rsa2048", KeySpec::Rsa2048, KeyUsage::SignVerify),
    ("rsa3072", KeySpec::Rsa3072, KeyUsage::SignVerify),
    ("rsa4096", KeySpec::Rsa4096, KeyUsage::SignVerify),
    ("rsa2048-oaep", KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
    ("p256", KeySpec::EccNistP256, KeyUsage::SignVerify),
    ("p384", KeySpec::EccNistP384, KeyUsage::SignVerify),
    ("p521", KeySpec::EccNistP521, KeyUsage::SignVerify),
    ("k256", KeySpec::EccSecgP256k1, KeyUsage::SignVerify),
    ("hmac256", KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
];

/// A bench keystore and the key IDs in it.
#[derive(Debug)]
pub struct Fixture {
    /// Symmetric keys (including `symmetric`) plus [`EXTRA_KEYS`].
    pub size: usize,
    /// The open keystore (audit logging on, as by default).
    pub ks: Keystore,
    /// The ID of a `SYMMETRIC_DEFAULT` `ENCRYPT_DECRYPT` key.
    pub symmetric: String,
    /// The key ID of each entry of [`EXTRA_KEYS`], in the same order.
    pub extra: Vec<String>,
    /// The shared "in use" lock on the keystore, held while the fixture
    /// lives: no process makes it afresh meanwhile ([`fixture`]).
    in_use: FixtureLock,
}

impl Fixture {
    /// The key ID of the [`EXTRA_KEYS`] entry `name`.
    ///
    /// # Panics
    /// If `name` is not in [`EXTRA_KEYS`].
    pub fn key(&self, name: &str) -> &str {
        let i = EXTRA_KEYS
            .iter()
            .position(|(n, _, _)| *n == name)
            .expect("a bench key name");
        &self.extra[i]
    }
}

fn files_of(db: &Path) -> Vec<(PathBuf, String)> {
    let name = db.file_name().expect("file name").to_string_lossy();
    let mut v: Vec<(PathBuf, String)> = ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|ext| {
            (
                PathBuf::from(format!("{}{ext}", db.display())),
                format!("{name}{ext}"),
            )
        })
        .collect();
    let audit = audit_log_path(db);
    let audit_name = audit
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    v.push((audit, audit_name));
    v
}

fn add_extra_keys(ks: &Keystore) {
    for (name, spec, usage) in EXTRA_KEYS {
        let alias = format!("alias/bench-{name}");
        if ks.describe_key(&alias).is_ok() {
            continue;
        }
        let id = ks
            .create_key(&CreateKeyRequest {
                key_spec: Some(*spec),
                key_usage: Some(*usage),
                ..Default::default()
            })
            .expect("create key")
            .key_metadata
            .key_id;
        ks.create_alias(&alias, &id).expect("create alias");
    }
}

/// Makes a keystore of `n` symmetric keys plus [`EXTRA_KEYS`] at `path`.
/// It is built in `/dev/shm` when there is one (each `CreateKey` fsyncs the
/// keystore and its audit log, which a tmpfs makes free: 100,000 keys take
/// about a minute instead of half an hour), then copied to `path`.
fn build(path: &Path, n: usize) {
    let shm = Path::new("/dev/shm");
    let scratch = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        path.parent().expect("parent").to_path_buf()
    };
    // Unique to this build: several threads of a process may build at once
    // (in different directories).
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = scratch.join(format!(
        "strongroom-bench-{}-{seq}-{n}.db",
        std::process::id()
    ));
    for (f, _) in files_of(&tmp) {
        let _ = std::fs::remove_file(f);
    }
    {
        let ks = Keystore::create(&tmp, root(), Default::default()).expect("create");
        for i in 0..n {
            ks.create_key(&CreateKeyRequest::default())
                .expect("create key");
            if i % 10_000 == 9_999 {
                eprintln!("bench keystore: {} of {n} keys", i + 1);
            }
        }
        add_extra_keys(&ks);
    }
    let dir = path.parent().expect("parent");
    for ((from, _), (to, name)) in files_of(&tmp).into_iter().zip(files_of(path)) {
        if from.exists() {
            // Copy under a temporary name, then rename: a run interrupted
            // half-way leaves no keystore that looks complete.
            let partial = dir.join(format!("{name}.partial"));
            std::fs::copy(&from, &partial).expect("copy bench keystore");
            std::fs::rename(&partial, &to).expect("rename");
            let _ = std::fs::remove_file(&from);
        }
    }
    // The scratch keystore's change-signal file is not copied: the copy
    // gets its own on open.
    remove_keystore(&tmp);
}

/// CPU time of the calling thread in nanoseconds (Linux
/// `/proc/thread-self/schedstat`, first field), `None` elsewhere. `openssl
/// speed` divides by CPU time too (unless `-elapsed`), and on a loaded
/// machine CPU time is far steadier than wall time.
pub fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether `STRONGROOM_BENCH_SHM=1` asks for the bench keystores on the
/// tmpfs `/dev/shm` (where fsync costs nothing, which separates the CPU
/// cost of an operation from the durable writes of its audit event).
pub fn on_shm() -> bool {
    std::env::var("STRONGROOM_BENCH_SHM").is_ok_and(|v| v == "1")
}

/// Whether `STRONGROOM_BENCH_AUDIT=write-behind` asks for the bench
/// keystores opened in [`AuditWriteMode::WriteBehind`] (default bounds)
/// instead of the default write-through mode.
pub fn write_behind() -> bool {
    std::env::var("STRONGROOM_BENCH_AUDIT").is_ok_and(|v| v == "write-behind")
}

/// The directory of the bench keystores: `STRONGROOM_BENCH_DIR` when set,
/// else `target/`, or `/dev/shm/strongroom-bench` when [`on_shm`].
pub fn bench_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("STRONGROOM_BENCH_DIR") {
        PathBuf::from(d)
    } else if on_shm() {
        PathBuf::from("/dev/shm/strongroom-bench")
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
    }
}

/// How much bench runs may grow a bench keystore's audit log before the
/// keystore is made afresh ([`fixture`]): `STRONGROOM_BENCH_AUDIT_MAX_MIB`
/// MiB when set (a whole number, at least 1), else 256 MiB. The bound of
/// a keystore of `n` keys is this plus [`FRESH_AUDIT_BYTES_PER_KEY`] per
/// key, the log of a freshly made one.
///
/// Every run of a bench appends to the reused keystore's audit log (each
/// operation is audited) and the log is never cut, so without a bound it
/// grows by each run's events for ever (one helper's runs grew one to
/// 9 GB in `/dev/shm`, which is RAM).
///
/// # Panics
/// If `STRONGROOM_BENCH_AUDIT_MAX_MIB` is set but is not a whole number of
/// at least 1.
pub fn audit_log_growth() -> u64 {
    let mib = match std::env::var("STRONGROOM_BENCH_AUDIT_MAX_MIB") {
        Ok(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .expect("STRONGROOM_BENCH_AUDIT_MAX_MIB: a whole number of MiB, at least 1"),
        Err(_) => 256,
    };
    mib << 20
}

/// More than the audit-log bytes per key of a freshly made bench keystore:
/// each `CreateKey` writes two lines (its intent and its outcome) of about
/// 1,060 bytes, so 100,000 keys make about 210 MB.
pub const FRESH_AUDIT_BYTES_PER_KEY: u64 = 4096;

/// A keystore holding `n` symmetric keys and [`EXTRA_KEYS`]. The file is
/// `bench-keystore-v4-<n>.db` in [`bench_dir`] (v4: keystore format 4, with
/// the row counts; the files of older formats, v2 and v3, are left to older
/// builds), made on first use and reused afterwards, until its audit log
/// passes its bound ([`audit_log_growth`]): then it is made afresh (with
/// new key IDs), so that runs do not grow the log without bound — unless
/// another live [`Fixture`] of it, in this process or another sharing the
/// directory, is using it (then it is reused as it is). Making, remaking
/// and opening are serialized across processes by `flock(2)` on lock files
/// beside the keystore (`<keystore>.setup-lock`, `<keystore>.use-lock`,
/// left in place); a keystore made afresh goes with every file beside it.
pub fn fixture(n: usize) -> Fixture {
    fixture_in(&bench_dir(), n)
}

/// As [`fixture`], in `dir`, in the audit mode [`write_behind`] asks for.
pub fn fixture_in(dir: &Path, n: usize) -> Fixture {
    let mode = if write_behind() {
        AuditWriteMode::write_behind()
    } else {
        AuditWriteMode::WriteThrough
    };
    fixture_in_mode(dir, n, mode)
}

/// As [`fixture`], in `dir`, the handle writing audit events in `mode`.
pub fn fixture_in_mode(dir: &Path, n: usize, mode: AuditWriteMode) -> Fixture {
    let fresh = u64::try_from(n).map_or(u64::MAX, |n| n.saturating_mul(FRESH_AUDIT_BYTES_PER_KEY));
    fixture_bounded(dir, n, mode, audit_log_growth().saturating_add(fresh))
}

/// An advisory lock (`flock(2)`) on a lock file beside a bench keystore,
/// released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
struct FixtureLock(std::fs::File);

/// How [`FixtureLock::take`] locks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockKind {
    /// Exclusive, waiting for it.
    Exclusive,
    /// Shared, waiting for it.
    Shared,
    /// Exclusive if no other holds the lock now, else none.
    TryExclusive,
}

impl FixtureLock {
    /// Locks the file `path` (made if missing, never removed: a lock file
    /// removed and made again would let two processes hold "the" lock).
    ///
    /// # Panics
    /// If the file cannot be made or locked.
    fn take(path: &Path, kind: LockKind) -> Option<Self> {
        use rustix::fs::{flock, FlockOperation};
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .unwrap_or_else(|e| panic!("bench lock file {}: {e}", path.display()));
        let op = match kind {
            LockKind::Exclusive => FlockOperation::LockExclusive,
            LockKind::Shared => FlockOperation::LockShared,
            LockKind::TryExclusive => FlockOperation::NonBlockingLockExclusive,
        };
        loop {
            match flock(&file, op) {
                Ok(()) => return Some(FixtureLock(file)),
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::WOULDBLOCK) if kind == LockKind::TryExclusive => {
                    return None
                }
                Err(e) => panic!("flock {}: {e}", path.display()),
            }
        }
    }

    /// This exclusive lock made shared (the conversion is not atomic, so
    /// only under the set-up lock, which every taker holds first).
    fn share(self) -> Self {
        rustix::fs::flock(&self.0, rustix::fs::FlockOperation::LockShared).expect("flock shared");
        self
    }
}

/// The lock files of the bench keystore at `path`: the set-up lock (held
/// exclusively while a process checks, makes or opens it) and the "in use"
/// lock (held shared by every live [`Fixture`] of it, exclusively by a
/// process making it afresh).
fn lock_paths(path: &Path) -> (PathBuf, PathBuf) {
    let with = |suffix: &str| {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    (with(".setup-lock"), with(".use-lock"))
}

/// As [`fixture_in_mode`], made afresh when its audit log is larger than
/// `max_audit` bytes and no [`Fixture`] of it (in any process sharing the
/// directory) is alive; one in use is reused as it is, however large.
///
/// Safe across processes: the check, the removal, the build and the open
/// run under an exclusive lock on a lock file beside the keystore (the
/// set-up lock), so that two processes never make it at once, and every
/// live fixture holds a shared lock on a second one (the "in use" lock),
/// which a process must take exclusively to delete the keystore: none
/// deletes the keystore another is using.
fn fixture_bounded(dir: &Path, n: usize, mode: AuditWriteMode, max_audit: u64) -> Fixture {
    std::fs::create_dir_all(dir).expect("bench keystore dir");
    let path = fixture_path(dir, n);
    let (setup_path, use_path) = lock_paths(&path);
    let setup = FixtureLock::take(&setup_path, LockKind::Exclusive);
    let audit = std::fs::metadata(audit_log_path(&path)).map_or(0, |m| m.len());
    let in_use = if audit > max_audit {
        match FixtureLock::take(&use_path, LockKind::TryExclusive) {
            Some(alone) => {
                eprintln!(
                    "bench keystore: {} has an audit log of {audit} bytes, more than \
                     {max_audit} (STRONGROOM_BENCH_AUDIT_MAX_MIB past a fresh one's): making \
                     it afresh",
                    path.display()
                );
                remove_keystore(&path);
                alone.share()
            }
            None => {
                eprintln!(
                    "bench keystore: {} has an audit log of {audit} bytes, more than \
                     {max_audit}, but another bench process is using it: reusing it",
                    path.display()
                );
                FixtureLock::take(&use_path, LockKind::Shared).expect("shared lock")
            }
        }
    } else {
        FixtureLock::take(&use_path, LockKind::Shared).expect("shared lock")
    };
    let open = || Keystore::open_with(&path, root(), OpenOptions::default().audit_write_mode(mode));
    let ks = match open() {
        Ok(ks) => ks,
        Err(_) => {
            remove_keystore(&path);
            eprintln!("bench keystore: making {} ({n} keys)", path.display());
            build(&path, n);
            open().expect("open")
        }
    };
    drop(setup);
    add_extra_keys(&ks);
    let extra = EXTRA_KEYS
        .iter()
        .map(|(name, _, _)| {
            ks.describe_key(&format!("alias/bench-{name}"))
                .expect("bench key")
                .key_metadata
                .key_id
        })
        .collect();
    let first = ks.list_keys(Some(1), None).expect("list").keys;
    let mut symmetric = first.first().expect("a key").key_id.clone();
    if ks
        .describe_key(&symmetric)
        .is_ok_and(|d| d.key_metadata.key_spec != KeySpec::SymmetricDefault)
    {
        symmetric = ks
            .create_key(&CreateKeyRequest::default())
            .expect("create key")
            .key_metadata
            .key_id;
    }
    Fixture {
        size: n,
        ks,
        symmetric,
        extra,
        in_use,
    }
}

/// The file of the bench keystore of `n` keys in `dir` (see [`fixture`]).
pub fn fixture_path(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("bench-keystore-v4-{n}.db"))
}

/// A copy of the bench keystore of `n` keys ([`fixture`], made first if
/// needed) at `<bench_dir>/bench-scratch-<pid>-<n>.db`, open, for
/// benchmarks that add keys (so that the fixture keeps its size); remove it
/// with [`remove_keystore`].
pub fn scratch_copy(n: usize) -> (Keystore, PathBuf) {
    let dir = bench_dir();
    // Its handle closed (so that its files are whole), its "in use" lock
    // held while it is copied: no process makes it afresh meanwhile.
    let Fixture { ks, in_use, .. } = fixture_in(&dir, n);
    drop(ks);
    let to = dir.join(format!("bench-scratch-{}-{n}.db", std::process::id()));
    for ((from, _), (dest, _)) in files_of(&fixture_path(&dir, n))
        .into_iter()
        .zip(files_of(&to))
    {
        let _ = std::fs::remove_file(&dest);
        if from.exists() {
            std::fs::copy(&from, &dest).expect("copy bench keystore");
        }
    }
    drop(in_use);
    (Keystore::open(&to, root()).expect("open copy"), to)
}

/// Deletes the keystore at `path` with every file the library makes beside
/// it ([`strongroom::keystore_files`]: its SQLite `-wal`, `-shm` and
/// `-journal` files, its change-signal file and its audit log).
pub fn remove_keystore(path: &Path) {
    for (f, _) in strongroom::keystore_files(path) {
        let _ = std::fs::remove_file(f);
    }
}

/// A keystore holding `n` symmetric keys (see [`fixture`]), and the ID of
/// one of them.
pub fn keystore_with(n: usize) -> (Keystore, String) {
    let f = fixture(n);
    (f.ks, f.symmetric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode() -> AuditWriteMode {
        AuditWriteMode::WriteThrough
    }

    /// The size of the audit log of the 1-key fixture in `dir`.
    fn log_len(dir: &Path) -> u64 {
        std::fs::metadata(audit_log_path(&fixture_path(dir, 1)))
            .unwrap()
            .len()
    }

    /// A fixture is reused while its audit log is within the bound, and
    /// made afresh (new keys, a new log) once the log is past it, so that
    /// bench runs cannot grow it without bound.
    #[test]
    fn a_fixture_whose_audit_log_passed_the_bound_is_made_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let len = || log_len(dir.path());
        // The key behind `alias/bench-p256` tells the keystore apart (the
        // `symmetric` key may be made anew on each open when it sorts after
        // an extra key).
        let first = fixture_bounded(dir.path(), 1, mode(), u64::MAX)
            .key("p256")
            .to_owned();
        let bound = len();
        // At the bound: reused (opening it appends events past the bound).
        let again = fixture_bounded(dir.path(), 1, mode(), bound);
        assert_eq!(again.key("p256"), first);
        drop(again);
        let grown = len();
        assert!(grown > bound);
        // Past it: made afresh.
        let fresh = fixture_bounded(dir.path(), 1, mode(), bound);
        assert_ne!(fresh.key("p256"), first);
        assert!(fresh.ks.describe_key(&first).is_err());
        drop(fresh);
        assert!(len() < grown, "{} {grown}", len());
    }

    /// A fixture in use (by another process, or another fixture of this
    /// one: `flock` locks are per open file) is not made afresh under it,
    /// however far its audit log passed the bound: the one in use keeps
    /// working, and the keystore is made afresh once none is in use. The
    /// same holds across processes, the locks being on files.
    #[test]
    fn a_fixture_in_use_is_not_made_afresh_under_it() {
        let dir = tempfile::tempdir().unwrap();
        let len = || log_len(dir.path());
        let in_use = fixture_bounded(dir.path(), 1, mode(), u64::MAX);
        let first = in_use.key("p256").to_owned();
        let bound = len() - 1;
        let second = fixture_bounded(dir.path(), 1, mode(), bound);
        assert_eq!(second.key("p256"), first, "made afresh while in use");
        drop(second);
        // The first handle still works on the same files.
        in_use.ks.describe_key(&first).unwrap();
        in_use.ks.verify_audit_log().unwrap();
        drop(in_use);
        let fresh = fixture_bounded(dir.path(), 1, mode(), bound);
        assert_ne!(fresh.key("p256"), first);
    }

    /// The set-up lock is exclusive and the "in use" lock shared among
    /// fixtures and exclusive to a remake, between open files (so between
    /// processes).
    #[test]
    fn fixture_locks_exclude_each_other_as_documented() {
        let dir = tempfile::tempdir().unwrap();
        let (setup, in_use) = lock_paths(&dir.path().join("k.db"));
        let a = FixtureLock::take(&in_use, LockKind::Shared).unwrap();
        let b = FixtureLock::take(&in_use, LockKind::Shared).unwrap();
        assert!(FixtureLock::take(&in_use, LockKind::TryExclusive).is_none());
        drop(a);
        assert!(FixtureLock::take(&in_use, LockKind::TryExclusive).is_none());
        drop(b);
        let alone = FixtureLock::take(&in_use, LockKind::TryExclusive).unwrap();
        let shared = alone.share();
        let other = FixtureLock::take(&in_use, LockKind::Shared).unwrap();
        drop((shared, other));
        let s = FixtureLock::take(&setup, LockKind::Exclusive).unwrap();
        assert!(FixtureLock::take(&setup, LockKind::TryExclusive).is_none());
        drop(s);
        assert!(FixtureLock::take(&setup, LockKind::TryExclusive).is_some());
    }

    /// Removing a bench keystore removes every file beside it, the SQLite
    /// `-journal` (a remake or a crash mid-write leaves one) and `-wal` /
    /// `-shm` included, so that a remade keystore never meets a stale one.
    #[test]
    fn removing_a_keystore_removes_its_sidecars() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        drop(Keystore::create(&path, root(), Default::default()).unwrap());
        for suffix in ["-wal", "-shm", "-journal", "-signal"] {
            let mut s = path.as_os_str().to_owned();
            s.push(suffix);
            std::fs::write(PathBuf::from(s), b"stale").unwrap();
        }
        remove_keystore(&path);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
