//! Throughput of the facade's hot path, audit log on, next to the raw
//! cryptographic work of the same operation: Encrypt and Decrypt of 4 KiB,
//! GenerateDataKey (AES_256), Sign (ECDSA P-256), with 1 and N threads on
//! one shared handle, and Encrypt through two handles opened separately on
//! the same keystore in turn, in keystores of 10 and 100,000 keys; and the
//! raw `blob::seal` of 4 KiB with 1 and N threads and no shared state (what
//! the machine gives N threads right now).
//!
//! `cargo run --release -p strongroom --example hotpath -- [--dir DIR]
//! [--threads N] [seconds] [big]` (defaults: 2 s per cell, 100000 keys, 2
//! threads; `big` 10 measures the 10-key keystore twice). The keystores are
//! built once on `/dev/shm` (fsync is free there) and kept in
//! `target/hotpath-bench/`; each run measures in a copy in `DIR` (default
//! that directory; a tmpfs or a disk), which it deletes at its end or on a
//! panic (a run appends gigabytes of audit records). Prints wall-clock ops/s
//! and the ratio to the raw primitive; read the ratios, not the absolute
//! figures, on a shared machine. Two threads on one handle against one, on tmpfs and on
//! disk: `hotpath -- --dir /dev/shm 1 10` and `hotpath -- --dir DISK_DIR 1
//! 10`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use strongroom::api::{
    CreateKeyRequest, DecryptRequest, EncryptRequest, GenerateDataKeyRequest, SignRequest,
};
use strongroom::core::key::{DataKeySpec, KeySpec, KeyUsage, SigningAlgorithm};
use strongroom::{EncryptionContext, Keystore, RootKeySource, Secret};

/// One measured operation: its name, the raw primitive's rate, and the call.
type Op<'a> = (&'a str, Option<f64>, &'a (dyn Fn() + Sync));

fn root() -> RootKeySource {
    RootKeySource::Bytes(Secret::from_slice(&[0x42; 32]))
}

fn files(p: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", ".audit.jsonl"]
        .iter()
        .map(|s| {
            let mut n = p.as_os_str().to_owned();
            n.push(s);
            PathBuf::from(n)
        })
        .collect()
}

/// A copy at `path` of the keystore of `n` symmetric keys plus one P-256
/// signing key (alias `alias/sign`) kept at `built/hotpath-<n>.built.db`,
/// built on first use.
fn keystore(built: &Path, path: &Path, n: usize) -> Keystore {
    // The built keystore is kept and copied for each run (whose copy
    // [`main`] deletes at its end): a run appends gigabytes of audit
    // records, which must not pile up across runs.
    let built = built.join(format!("hotpath-{n}.built.db"));
    if !built.exists() {
        build(&built, n);
    }
    for (from, to) in files(&built).into_iter().zip(files(path)) {
        let _ = std::fs::remove_file(&to);
        if from.exists() {
            std::fs::copy(&from, &to).expect("copy");
        }
    }
    Keystore::open(path, root()).expect("open")
}

/// Builds the keystore of [`keystore`] at `path`, on `/dev/shm` first.
fn build(path: &Path, n: usize) {
    let tmp = PathBuf::from(format!("/dev/shm/hotpath-{}-{n}.db", std::process::id()));
    {
        let ks = Keystore::create(&tmp, root(), Default::default()).expect("create");
        for i in 0..n {
            ks.create_key(&CreateKeyRequest::default()).expect("key");
            if i % 20_000 == 19_999 {
                eprintln!("  {} of {n} keys", i + 1);
            }
        }
        let sign = ks
            .create_key(&CreateKeyRequest {
                key_spec: Some(KeySpec::EccNistP256),
                key_usage: Some(KeyUsage::SignVerify),
                ..Default::default()
            })
            .expect("signing key");
        ks.create_alias("alias/sign", &sign.key_metadata.key_id)
            .expect("alias");
    }
    for (from, to) in files(&tmp).into_iter().zip(files(path)) {
        if from.exists() {
            std::fs::copy(&from, &to).expect("copy");
            let _ = std::fs::remove_file(&from);
        }
    }
    // Its change-signal file is not copied (a copy gets its own on open).
    let mut signal = tmp.into_os_string();
    signal.push("-signal");
    let _ = std::fs::remove_file(PathBuf::from(signal));
}

/// A run's own directory of measured copies, removed with everything in it
/// when dropped: at the end of the run, and while a panic unwinds (a failed
/// call, an interrupted copy), so that no run leaves its copies (gigabytes
/// of audit records) behind.
#[derive(Debug)]
struct RunDir(PathBuf);

impl RunDir {
    /// Makes `path` (and its parents) and guards it.
    fn create(path: PathBuf) -> Self {
        std::fs::create_dir_all(&path).expect("dir");
        RunDir(path)
    }
}

impl std::ops::Deref for RunDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// CPU time of the calling thread, nanoseconds (Linux schedstat).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `op` in rounds of 16 until `stop` has passed since `start`;
/// returns how many times it ran.
fn spin(start: Instant, stop: Duration, op: &(dyn Fn() + Sync)) -> u64 {
    let mut n = 0u64;
    while start.elapsed() < stop {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    n
}

/// Operations per CPU-second of `op` on one thread for `secs` (steadier
/// than wall time on a loaded machine).
fn cpu_rate(secs: f64, op: &(dyn Fn() + Sync)) -> f64 {
    let cpu0 = thread_cpu_ns();
    let n = spin(Instant::now(), Duration::from_secs_f64(secs), op);
    n as f64 * 1e9 / (thread_cpu_ns() - cpu0).max(1) as f64
}

/// Wall-clock operations per second of `op` on `threads` threads for `secs`.
fn rate(threads: usize, secs: f64, op: &(dyn Fn() + Sync)) -> f64 {
    let stop = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| spin(start, stop, op)))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// The command line: `[--dir DIR] [--threads N] [seconds] [big]`.
struct Args {
    secs: f64,
    big: usize,
    threads: usize,
    dir: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        secs: 2.0,
        big: 100_000,
        threads: 2,
        dir: None,
    };
    let mut positional = 0;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dir" => a.dir = Some(PathBuf::from(it.next().expect("--dir DIR"))),
            "--threads" => {
                a.threads = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n >= 1)
                    .expect("--threads N (at least 1)");
            }
            _ => {
                match positional {
                    0 => a.secs = arg.parse().expect("seconds per cell"),
                    1 => a.big = arg.parse().expect("keys of the big keystore"),
                    _ => panic!("usage: hotpath [--dir DIR] [--threads N] [seconds] [big]"),
                }
                positional += 1;
            }
        }
    }
    a
}

fn main() {
    let Args {
        secs,
        big,
        threads,
        dir,
    } = args();
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/hotpath-bench");
    std::fs::create_dir_all(&built).expect("dir");
    // The measured copies, in a directory of this run's own, removed when
    // the run ends or panics.
    let dir = RunDir::create(
        dir.unwrap_or_else(|| built.clone())
            .join(format!("hotpath-run-{}", std::process::id())),
    );
    let ctx = EncryptionContext::from_pairs([("purpose", "bench")]).expect("context");
    let pt = vec![0x5au8; 4096];

    // Raw work: HKDF of the per-blob key + AES-256-GCM (blob::seal / open).
    let backing = Secret::new(vec![7u8; 32]);
    let id16 = [3u8; 16];
    let mut rng = strongroom::os_rng();
    let raw_blob =
        strongroom::core::blob::seal(&mut rng, &id16, 1, &backing, &pt, &ctx).expect("seal");
    let raw_enc = cpu_rate(secs, &|| {
        let mut rng = strongroom::os_rng();
        std::hint::black_box(
            strongroom::core::blob::seal(&mut rng, &id16, 1, &backing, &pt, &ctx).expect("seal"),
        );
    });
    let raw_dec = cpu_rate(secs, &|| {
        std::hint::black_box(
            strongroom::core::blob::open(&raw_blob, &backing, &ctx).expect("open"),
        );
    });
    // What N threads get on this machine right now, with no shared state.
    let seal = || {
        let mut rng = strongroom::os_rng();
        std::hint::black_box(
            strongroom::core::blob::seal(&mut rng, &id16, 1, &backing, &pt, &ctx).expect("seal"),
        );
    };
    let raw_one = rate(1, secs, &seal);
    let raw_many = rate(threads, secs, &seal);
    println!("backend: {}", strongroom::core::crypto::BACKEND);
    println!(
        "raw blob::seal 4 KiB wall: 1 thread {raw_one:.0}/s, {threads} threads {raw_many:.0}/s ({:.2}x)",
        raw_many / raw_one
    );
    println!("raw blob::seal 4 KiB: {raw_enc:.0}/CPU-s; raw blob::open 4 KiB: {raw_dec:.0}/CPU-s");
    println!("keystores measured in {}", dir.display());

    println!("| keys | operation | 1 thread ops/CPU-s | vs raw | 1 thread ops/s (wall) | {threads} threads ops/s (wall) | {threads} vs 1 |");
    println!("|---|---|---|---|---|---|---|");
    for n in [10usize, big] {
        eprintln!("keystore of {n} keys");
        let path = dir.join(format!("hotpath-{n}.db"));
        let ks = keystore(&built, &path, n);
        // A symmetric key (the signing key may sort first).
        let key = ks
            .list_keys(Some(2), None)
            .expect("list")
            .keys
            .into_iter()
            .map(|k| k.key_id)
            .find(|k| {
                ks.describe_key(k).expect("describe").key_metadata.key_usage
                    == KeyUsage::EncryptDecrypt
            })
            .expect("symmetric key");
        let enc = EncryptRequest {
            key_id: key.clone(),
            plaintext: Secret::new(pt.clone()),
            encryption_context: ctx.clone(),
            ..Default::default()
        };
        let dec = DecryptRequest {
            ciphertext_blob: ks.encrypt(&enc).expect("encrypt").ciphertext_blob,
            encryption_context: ctx.clone(),
            ..Default::default()
        };
        let gdk = GenerateDataKeyRequest {
            key_id: key.clone(),
            key_spec: Some(DataKeySpec::Aes256),
            ..Default::default()
        };
        let sign = SignRequest {
            key_id: "alias/sign".into(),
            message: Secret::from_slice(b"hello"),
            message_type: None,
            signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
            grant_tokens: Vec::new(),
        };
        let ops: [Op<'_>; 4] = [
            ("Encrypt 4 KiB", Some(raw_enc), &|| {
                std::hint::black_box(ks.encrypt(&enc).expect("encrypt"));
            }),
            ("Decrypt 4 KiB", Some(raw_dec), &|| {
                std::hint::black_box(ks.decrypt(&dec).expect("decrypt"));
            }),
            ("GenerateDataKey", None, &|| {
                std::hint::black_box(ks.generate_data_key(&gdk).expect("gdk"));
            }),
            ("Sign P-256", None, &|| {
                std::hint::black_box(ks.sign(&sign).expect("sign"));
            }),
        ];
        for (name, raw, op) in ops {
            let cpu = cpu_rate(secs, op);
            let one = rate(1, secs, op);
            let many = rate(threads, secs, op);
            let vs = raw.map_or("-".into(), |r| format!("{:.1}x slower", r / cpu));
            println!(
                "| {n} | {name} | {cpu:.0} | {vs} | {one:.0} | {many:.0} | {:.2}x |",
                many / one
            );
        }
        // Two handles opened separately on the same keystore, used in turn
        // by one thread (each sees the other's audit lines).
        let other = Keystore::open(&path, root()).expect("second handle");
        let turn = std::sync::atomic::AtomicBool::new(false);
        let two_handles = cpu_rate(secs, &|| {
            let h = if turn.fetch_xor(true, std::sync::atomic::Ordering::Relaxed) {
                &other
            } else {
                &ks
            };
            std::hint::black_box(h.encrypt(&enc).expect("encrypt"));
        });
        println!(
            "| {n} | Encrypt 4 KiB, 2 handles in turn | {two_handles:.0} | {:.2}x of 1 handle (CPU) | - | - | - |",
            two_handles / cpu_rate(secs, &|| {
                std::hint::black_box(ks.encrypt(&enc).expect("encrypt"));
            })
        );
        drop(other);
        ks.flush_audit_log().expect("flush");
        drop(ks);
        for f in files(&path) {
            let _ = std::fs::remove_file(f);
        }
    }
    // The change-signal files of the copies, and the directory.
    drop(dir);
}

#[cfg(test)]
mod tests {
    use super::RunDir;

    /// The run directory and what is in it are removed when the run panics
    /// (while it unwinds), as at its end.
    #[test]
    fn the_run_directory_is_removed_when_the_run_panics() {
        let parent = tempfile::tempdir().unwrap();
        let path = parent.path().join("hotpath-run-test");
        let inner = path.clone();
        let result = std::panic::catch_unwind(move || {
            let dir = RunDir::create(inner);
            std::fs::write(dir.join("hotpath-10.db"), b"copy").unwrap();
            assert!(dir.join("hotpath-10.db").exists());
            panic!("a measured call failed");
        });
        assert!(result.is_err());
        assert!(!path.exists(), "{} left behind", path.display());
        let dir = RunDir::create(path.clone());
        std::fs::write(dir.join("x"), b"x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }
}
