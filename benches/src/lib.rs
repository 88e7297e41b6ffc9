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
    let mut v: Vec<(PathBuf, String)> = ["", "-wal", "-shm"]
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
    let tmp = scratch.join(format!("strongroom-bench-{}-{n}.db", std::process::id()));
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
/// new key IDs), so that runs do not grow the log without bound.
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

/// As [`fixture_in_mode`], made afresh when its audit log is larger than
/// `max_audit` bytes.
fn fixture_bounded(dir: &Path, n: usize, mode: AuditWriteMode, max_audit: u64) -> Fixture {
    std::fs::create_dir_all(dir).expect("bench keystore dir");
    let path = fixture_path(dir, n);
    let audit = std::fs::metadata(audit_log_path(&path)).map_or(0, |m| m.len());
    if audit > max_audit {
        eprintln!(
            "bench keystore: {} has an audit log of {audit} bytes, more than {max_audit} \
             (STRONGROOM_BENCH_AUDIT_MAX_MIB past a fresh one's): making it afresh",
            path.display()
        );
        remove_keystore(&path);
    }
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
    drop(fixture_in(&dir, n));
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
    (Keystore::open(&to, root()).expect("open copy"), to)
}

/// Deletes the keystore at `path` with its SQLite side files and audit log.
pub fn remove_keystore(path: &Path) {
    for (f, _) in files_of(path) {
        let _ = std::fs::remove_file(f);
    }
    let mut signal = path.as_os_str().to_owned();
    signal.push("-signal");
    let _ = std::fs::remove_file(PathBuf::from(signal));
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

    /// A fixture is reused while its audit log is within the bound, and
    /// made afresh (new keys, a new log) once the log is past it, so that
    /// bench runs cannot grow it without bound.
    #[test]
    fn a_fixture_whose_audit_log_passed_the_bound_is_made_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let mode = || AuditWriteMode::WriteThrough;
        let log = audit_log_path(&fixture_path(dir.path(), 1));
        let len = || std::fs::metadata(&log).unwrap().len();
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
}
