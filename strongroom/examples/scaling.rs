//! Two threads on one handle against one: wall-clock rates of Encrypt and
//! Decrypt of 4 KiB, GenerateDataKey (AES_256) and Sign (ECDSA P-256) with
//! 1 and 2 threads sharing one handle (audit log on, write-through), on a
//! fresh 10-key keystore in the directory given (tmpfs or disk), and the raw
//! `blob::seal` of 4 KiB with 1 and 2 threads and no shared state (what the
//! machine gives two threads right now).
//!
//! Each line also gives the process's CPU time per call (every thread of
//! the process, the audit log's background flushes included) with 1 and 2
//! threads.
//!
//! `cargo run --release -p strongroom --example scaling DIR [seconds]`
//! (default 1 s per cell). The keystore (in a directory of its own under
//! `DIR`) is deleted at the end.
// One `clock_gettime` call (the process's CPU clock).
#![allow(unsafe_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use strongroom::api::{
    CreateKeyRequest, DecryptRequest, EncryptRequest, GenerateDataKeyRequest, SignRequest,
};
use strongroom::core::key::{DataKeySpec, KeySpec, KeyUsage, SigningAlgorithm};
use strongroom::{EncryptionContext, Keystore, RootKeySource, Secret};

/// CPU time of the whole process so far, in seconds.
fn process_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0;
    if ok {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        f64::NAN
    }
}

/// Wall-clock operations per second of `op` on `threads` threads for
/// `secs`, and the process's CPU time per operation in microseconds.
fn rate(threads: usize, secs: f64, op: &(dyn Fn() + Sync)) -> (f64, f64) {
    let stop = Duration::from_secs_f64(secs);
    let cpu = process_cpu();
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < stop {
                        for _ in 0..16 {
                            op();
                        }
                        n += 16;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    let wall = start.elapsed().as_secs_f64();
    let cpu = process_cpu() - cpu;
    (total as f64 / wall, cpu * 1e6 / total as f64)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir =
        PathBuf::from(args.next().expect("DIR")).join(format!("scaling-{}", std::process::id()));
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("ks.db");
    let root = || RootKeySource::Bytes(Secret::from_slice(&[0x42; 32]));
    let ctx = EncryptionContext::from_pairs([("purpose", "bench")]).expect("context");
    let pt = vec![0x5au8; 4096];
    let backing = Secret::new(vec![7u8; 32]);
    let id16 = [3u8; 16];
    let seal = || {
        let mut rng = strongroom::os_rng();
        std::hint::black_box(
            strongroom::core::blob::seal(&mut rng, &id16, 1, &backing, &pt, &ctx).expect("seal"),
        );
    };
    let (raw1, _) = rate(1, secs, &seal);
    let (raw2, _) = rate(2, secs, &seal);
    println!(
        "raw blob::seal 4 KiB: 1 thread {raw1:.0}/s, 2 threads {raw2:.0}/s: {:.2}x",
        raw2 / raw1
    );
    let ks = Keystore::create(&path, root(), Default::default()).expect("create");
    let mut key = String::new();
    for _ in 0..10 {
        key = ks
            .create_key(&CreateKeyRequest::default())
            .expect("key")
            .key_metadata
            .key_id;
    }
    let sign_key = ks
        .create_key(&CreateKeyRequest {
            key_spec: Some(KeySpec::EccNistP256),
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        })
        .expect("signing key")
        .key_metadata
        .key_id;
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
        key_id: sign_key,
        message: Secret::from_slice(b"hello"),
        message_type: None,
        signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
        grant_tokens: Vec::new(),
    };
    type Op<'a> = (&'a str, &'a (dyn Fn() + Sync));
    let ops: [Op<'_>; 4] = [
        ("Encrypt 4 KiB", &|| {
            std::hint::black_box(ks.encrypt(&enc).expect("encrypt"));
        }),
        ("Decrypt 4 KiB", &|| {
            std::hint::black_box(ks.decrypt(&dec).expect("decrypt"));
        }),
        ("GenerateDataKey", &|| {
            std::hint::black_box(ks.generate_data_key(&gdk).expect("gdk"));
        }),
        ("Sign P-256", &|| {
            std::hint::black_box(ks.sign(&sign).expect("sign"));
        }),
    ];
    for (name, op) in ops {
        let (one, cpu1) = rate(1, secs, op);
        let (two, cpu2) = rate(2, secs, op);
        println!(
            "{name}: 1 thread {one:.0}/s, 2 threads {two:.0}/s: {:.2}x; CPU per call {cpu1:.2} / {cpu2:.2} us",
            two / one
        );
    }
    drop(ks);
    let _ = std::fs::remove_dir_all(&dir);
}
