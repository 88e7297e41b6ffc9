//! Each Strongroom operation next to the raw primitive work it rests on, on
//! the same backend in the same run, so that the overhead is a ratio:
//!
//! - `raw`: the cryptographic work the operation must do: for Encrypt,
//!   HKDF-SHA256 of a per-call key plus AES-256-GCM (`blob::seal`); for
//!   Decrypt `blob::open`; for ReEncrypt both; for GenerateDataKey 32 random
//!   bytes plus `blob::seal`; for GenerateRandom the OS RNG; for CreateKey
//!   32 random bytes sealed with AES-256-GCM.
//! - `sr/<n>keys/<t>thr`: the `Keystore` call with `n` keys in the
//!   keystore and `t` threads sharing one handle (time per operation is
//!   wall time / operations, so 2 threads at full scaling halve it).
//!
//! `STRONGROOM_BENCH_KEYS` sets the big keystore's size (default 100000).
//! Run: `cargo bench -p strongroom-benches` (a few minutes the first time,
//! when the big keystore is made; it is kept under `target/`).

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use strongroom::api::{
    CreateKeyRequest, DecryptRequest, EncryptRequest, GenerateDataKeyRequest, ReEncryptRequest,
};
use strongroom::{EncryptionContext, Keystore, Secret};
use strongroom_benches::keystore_with;
use strongroom_core::crypto;

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn ctx() -> EncryptionContext {
    EncryptionContext::from_pairs([("purpose", "bench")]).unwrap()
}

/// Runs `op` `iters` times spread over `threads` threads; wall time.
fn timed(threads: usize, iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let start = Instant::now();
    if threads == 1 {
        for _ in 0..iters {
            op();
        }
    } else {
        std::thread::scope(|s| {
            for t in 0..threads as u64 {
                let n = iters / threads as u64 + u64::from(t < iters % threads as u64);
                s.spawn(move || {
                    for _ in 0..n {
                        op();
                    }
                });
            }
        });
    }
    start.elapsed()
}

fn bench_all(c: &mut Criterion) {
    let big: usize = std::env::var("STRONGROOM_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let stores: Vec<(usize, Keystore, String)> = [10, big]
        .into_iter()
        .map(|n| {
            let (ks, id) = keystore_with(n);
            (n, ks, id)
        })
        .collect();
    let backing = Secret::new(vec![7u8; 32]);
    let key16 = [3u8; 16];
    eprintln!("backend: {}", crypto::BACKEND);

    for size in [32usize, 4096] {
        let pt = vec![0x42u8; size];
        let blob =
            strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, &pt, &ctx()).unwrap();
        let mut g = c.benchmark_group(format!("Encrypt/{size}B"));
        g.bench_function("raw", |b| {
            b.iter(|| {
                strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, black_box(&pt), &ctx())
                    .unwrap()
            })
        });
        for (n, ks, id) in &stores {
            let req = EncryptRequest {
                key_id: id.clone(),
                plaintext: Secret::new(pt.clone()),
                encryption_context: ctx(),
                ..Default::default()
            };
            for threads in [1usize, 2] {
                g.bench_function(
                    BenchmarkId::new(format!("sr/{n}keys"), format!("{threads}thr")),
                    |b| {
                        b.iter_custom(|iters| {
                            timed(threads, iters, &|| {
                                black_box(ks.encrypt(&req).unwrap());
                            })
                        })
                    },
                );
            }
        }
        g.finish();

        let mut g = c.benchmark_group(format!("Decrypt/{size}B"));
        g.bench_function("raw", |b| {
            b.iter(|| strongroom_core::blob::open(black_box(&blob), &backing, &ctx()).unwrap())
        });
        for (n, ks, id) in &stores {
            let req = EncryptRequest {
                key_id: id.clone(),
                plaintext: Secret::new(pt.clone()),
                encryption_context: ctx(),
                ..Default::default()
            };
            let ct = ks.encrypt(&req).unwrap().ciphertext_blob;
            let dreq = DecryptRequest {
                ciphertext_blob: ct,
                encryption_context: ctx(),
                ..Default::default()
            };
            for threads in [1usize, 2] {
                g.bench_function(
                    BenchmarkId::new(format!("sr/{n}keys"), format!("{threads}thr")),
                    |b| {
                        b.iter_custom(|iters| {
                            timed(threads, iters, &|| {
                                black_box(ks.decrypt(&dreq).unwrap());
                            })
                        })
                    },
                );
            }
        }
        g.finish();
    }

    let mut g = c.benchmark_group("ReEncrypt/32B");
    let pt = vec![0x42u8; 32];
    let blob = strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, &pt, &ctx()).unwrap();
    g.bench_function("raw", |b| {
        b.iter(|| {
            let p = strongroom_core::blob::open(black_box(&blob), &backing, &ctx()).unwrap();
            strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, p.expose_secret(), &ctx())
                .unwrap()
        })
    });
    for (n, ks, id) in &stores {
        let ct = ks
            .encrypt(&EncryptRequest {
                key_id: id.clone(),
                plaintext: Secret::new(pt.clone()),
                encryption_context: ctx(),
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob;
        let req = ReEncryptRequest {
            ciphertext_blob: ct,
            source_encryption_context: ctx(),
            destination_key_id: id.clone(),
            destination_encryption_context: ctx(),
            ..Default::default()
        };
        g.bench_function(BenchmarkId::new(format!("sr/{n}keys"), "1thr"), |b| {
            b.iter(|| ks.re_encrypt(black_box(&req)).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("GenerateDataKey/32B");
    g.bench_function("raw", |b| {
        b.iter(|| {
            let mut dk = [0u8; 32];
            rand_core::Rng::fill_bytes(&mut rng(), &mut dk);
            strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, &dk, &ctx()).unwrap()
        })
    });
    for (n, ks, id) in &stores {
        let req = GenerateDataKeyRequest {
            key_id: id.clone(),
            number_of_bytes: Some(32),
            encryption_context: ctx(),
            ..Default::default()
        };
        for threads in [1usize, 2] {
            g.bench_function(
                BenchmarkId::new(format!("sr/{n}keys"), format!("{threads}thr")),
                |b| {
                    b.iter_custom(|iters| {
                        timed(threads, iters, &|| {
                            black_box(ks.generate_data_key(&req).unwrap());
                        })
                    })
                },
            );
        }
    }
    g.finish();

    let mut g = c.benchmark_group("GenerateRandom/32B");
    g.bench_function("raw", |b| {
        b.iter(|| {
            let mut r = [0u8; 32];
            rand_core::Rng::fill_bytes(&mut rng(), &mut r);
            r
        })
    });
    let (_, ks, _) = &stores[0];
    g.bench_function("sr/10keys/1thr", |b| {
        b.iter(|| ks.generate_random(32).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("CreateKey");
    g.bench_function("raw", |b| {
        b.iter(|| {
            let mut k = [0u8; 32];
            rand_core::Rng::fill_bytes(&mut rng(), &mut k);
            crypto::aes256_gcm_seal(&backing.expose_secret()[..32], &[1u8; 12], &key16, &k).unwrap()
        })
    });
    // CreateKey writes: measured on a scratch keystore so the sized ones
    // keep their size.
    let scratch = std::env::temp_dir().join(format!("strongroom-bench-{}.db", std::process::id()));
    let ks = Keystore::create(&scratch, strongroom_benches::root(), Default::default()).unwrap();
    g.bench_function("sr/scratch/1thr", |b| {
        b.iter(|| ks.create_key(&CreateKeyRequest::default()).unwrap())
    });
    g.finish();
    drop(ks);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", scratch.display()));
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_all
}
criterion_main!(benches);
