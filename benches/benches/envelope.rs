//! Envelope throughput in memory: `Keystore::encrypt_stream` /
//! `decrypt_stream` (Strongroom keyring, both v2 suites) against raw
//! AES-256-GCM of the same data on the same backend, for 1 MiB, 64 MiB and
//! 1 GiB, so that the library's own overhead is known apart from file I/O.
//! Run with `cargo bench -p strongroom-benches --bench envelope`; results in
//! `benches/RESULTS.md`.
//!
//! IDs in group `envelope_<size>MiB`:
//! - `raw_aes256gcm_seal` / `raw_aes256gcm_open`: one AES-256-GCM call over
//!   the whole buffer, in place (the open is timed alone; restoring the
//!   ciphertext between iterations is not);
//! - `raw_frames_seal/<frame>`: the AES-GCM work the message format asks for,
//!   one call per frame with its own IV and body AAD under one expanded key,
//!   in place, no copies;
//! - `encrypt_stream/<suite>/<frame>` and `decrypt_stream/<suite>/<frame>`:
//!   the streaming API from a `Cursor` into a `Vec` (one `GenerateDataKey` or
//!   `Decrypt` per message against an SQLite keystore; signed-suite
//!   decryption stages the plaintext in a temporary file until the signature
//!   verifies, as `decrypt_stream` does);
//! - `encrypt_slice/<suite>/<frame>` and `decrypt_slice/<suite>/<frame>`:
//!   core's one-call `envelope::encrypt` / `decrypt` from a slice into a
//!   fresh `Vec` (raw AES keyring, no keystore, no `Read`/`Write` copies;
//!   the page faults of allocating the output are part of what it costs);
//! - `encrypt_into/<suite>/<frame>` and `decrypt_into/<suite>/<frame>`:
//!   core's one-call `envelope::encrypt_into` / `decrypt_into` appending to
//!   a `Vec` cleared (outside the measurement) and reused, so the output's
//!   pages are already mapped: the format's cost with no allocation;
//! - `raw_aes256gcm_seal_fresh`: the primitive's bytes-in/bytes-out
//!   equivalent of `encrypt_slice`: copy the buffer into a fresh `Vec` and
//!   seal it there in one call (page faults included).
//!
//! Environment:
//! - `STRONGROOM_BENCH_CPU=1`: time is the CPU time of the whole process
//!   (user + system, every thread) instead of wall time; IDs get `@cpu`;
//! - `STRONGROOM_BENCH_ENVELOPE_MIB`: sizes in MiB, comma-separated
//!   (default `1,64,1024`; 1 GiB needs about 4 GiB of memory, and signed-suite
//!   `decrypt_stream` stages 1 GiB in `$TMPDIR`);
//! - `STRONGROOM_BENCH_FRAMES`: frame lengths, comma-separated (default
//!   `4096,65536`; 4096 is the ESDKs' default).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Cursor;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use strongroom::api::CreateKeyRequest;
use strongroom::core::crypto::aead::GcmKey;
use strongroom::core::envelope::{
    decrypt, decrypt_into, encrypt, encrypt_into, AlgorithmSuite, DecryptOptions, EncryptOptions,
    RawAesKeyring,
};
use strongroom::{CreateOptions, EncryptionContext, Keystore, RootKeySource, Secret};

fn cpu_mode() -> bool {
    std::env::var("STRONGROOM_BENCH_CPU").is_ok_and(|v| v == "1")
}

fn list(var: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(var) {
        Ok(v) => v
            .split(',')
            .map(|s| s.trim().parse().expect("a comma-separated list of numbers"))
            .collect(),
        Err(_) => default.to_vec(),
    }
}

/// Process CPU time (user + system, all threads).
fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Times `op` on `state` `iters` times: wall time, or process CPU time in
/// [`cpu_mode`]. `prepare` runs before each `op`, outside the measurement.
fn timed<S>(
    iters: u64,
    state: &mut S,
    mut prepare: impl FnMut(&mut S),
    mut op: impl FnMut(&mut S),
) -> Duration {
    let cpu = cpu_mode();
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        prepare(state);
        let (c0, w0) = (process_cpu(), Instant::now());
        op(state);
        total += if cpu {
            process_cpu().saturating_sub(c0)
        } else {
            w0.elapsed()
        };
    }
    total
}

/// The AES-GCM calls of a framed message body: one per frame, IV and AAD as
/// the message format builds them (AAD = 16-byte message ID ‖ content
/// string ‖ sequence number ‖ length), under one expanded key.
fn seal_frames(key: &GcmKey, buf: &mut [u8], frame: usize) {
    let mut aad = [0u8; 32 + 28 + 12];
    aad[32..60].copy_from_slice(b"AWSKMSEncryptionClient Frame");
    for (i, chunk) in buf.chunks_mut(frame).enumerate() {
        let seq = (i as u32 + 1).to_be_bytes();
        let mut iv = [0u8; 12];
        iv[8..].copy_from_slice(&seq);
        aad[60..64].copy_from_slice(&seq);
        aad[64..].copy_from_slice(&(chunk.len() as u64).to_be_bytes());
        black_box(key.seal_in_place(&iv, &aad, chunk).unwrap());
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::create(
        dir.path().join("ks.db"),
        RootKeySource::Bytes(Secret::from_slice(&[7u8; 32])),
        CreateOptions::default(),
    )
    .unwrap();
    let key = ks
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .arn;
    let ctx = EncryptionContext::from_pairs([("bench", "envelope")]).unwrap();
    let gcm = GcmKey::new(&[1u8; 32]).unwrap();
    let raw_keyring = RawAesKeyring::new("bench", "raw", &[3u8; 32]).unwrap();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let sfx = if cpu_mode() { "@cpu" } else { "" };
    let frames = list("STRONGROOM_BENCH_FRAMES", &[4096, 65536]);
    for mib in list("STRONGROOM_BENCH_ENVELOPE_MIB", &[1, 64, 1024]) {
        let len = mib << 20;
        let data: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
        let mut g = c.benchmark_group(format!("envelope_{mib}MiB"));
        g.throughput(Throughput::Bytes(len as u64));
        if mib >= 64 {
            g.sample_size(10).sampling_mode(SamplingMode::Flat);
        }
        if mib >= 1024 {
            g.warm_up_time(Duration::from_millis(100));
        }
        {
            let mut buf = data.clone();
            g.bench_function(format!("raw_aes256gcm_seal{sfx}"), |b| {
                b.iter_custom(|iters| {
                    timed(
                        iters,
                        &mut buf,
                        |_| {},
                        |buf| {
                            black_box(gcm.seal_in_place(&[0u8; 12], b"", buf).unwrap());
                        },
                    )
                })
            });
            g.bench_function(format!("raw_aes256gcm_open{sfx}"), |b| {
                b.iter_custom(|iters| {
                    let mut state = (std::mem::take(&mut buf), [0u8; 16]);
                    let d = timed(
                        iters,
                        &mut state,
                        |(buf, tag)| {
                            buf.copy_from_slice(&data);
                            *tag = gcm.seal_in_place(&[0u8; 12], b"", buf).unwrap();
                        },
                        |(buf, tag)| gcm.open_in_place(&[0u8; 12], b"", buf, tag).unwrap(),
                    );
                    assert!(state.0 == data);
                    buf = state.0;
                    d
                })
            });
            g.bench_function(format!("raw_aes256gcm_seal_fresh{sfx}"), |b| {
                b.iter_custom(|iters| {
                    // The previous output is freed outside the measurement.
                    timed(
                        iters,
                        &mut Vec::new(),
                        |v| *v = Vec::new(),
                        |v| {
                            let mut out = Vec::with_capacity(len + 16);
                            out.extend_from_slice(&data);
                            let tag = gcm.seal_in_place(&[0u8; 12], b"", &mut out).unwrap();
                            out.extend_from_slice(&tag);
                            *v = out;
                        },
                    )
                })
            });
            for &frame in &frames {
                g.bench_function(
                    BenchmarkId::new(format!("raw_frames_seal{sfx}"), frame),
                    |b| {
                        b.iter_custom(|iters| {
                            timed(iters, &mut buf, |_| {}, |buf| seal_frames(&gcm, buf, frame))
                        })
                    },
                );
            }
        }
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ] {
            for &frame in &frames {
                let opts = EncryptOptions {
                    suite,
                    frame_length: frame as u32,
                    ..EncryptOptions::default()
                };
                let id = format!("0x{:04X}/{frame}", suite.id());
                let mut msg = Vec::with_capacity(len + len / 50 + 4096);
                g.bench_function(BenchmarkId::new(format!("encrypt_stream{sfx}"), &id), |b| {
                    b.iter_custom(|iters| {
                        timed(iters, &mut msg, Vec::clear, |msg| {
                            ks.encrypt_stream(&mut Cursor::new(&data), msg, &[&key], &ctx, &opts)
                                .unwrap();
                        })
                    })
                });
                let mut out = Vec::with_capacity(len);
                g.bench_function(BenchmarkId::new(format!("decrypt_stream{sfx}"), &id), |b| {
                    b.iter_custom(|iters| {
                        timed(iters, &mut out, Vec::clear, |out| {
                            ks.decrypt_stream(
                                &mut Cursor::new(&msg),
                                out,
                                &DecryptOptions::default(),
                            )
                            .unwrap();
                        })
                    })
                });
                assert!(out.is_empty() || out == data);
                // Made here too, so that `decrypt_slice` runs alone under a filter.
                let mut msg = encrypt(&raw_keyring, &ctx, &data, &opts, &mut rng).unwrap();
                g.bench_function(BenchmarkId::new(format!("encrypt_slice{sfx}"), &id), |b| {
                    b.iter_custom(|iters| {
                        // The previous message is freed outside the measurement.
                        timed(
                            iters,
                            &mut msg,
                            |m| *m = Vec::new(),
                            |msg| {
                                *msg = encrypt(&raw_keyring, &ctx, &data, &opts, &mut rng).unwrap();
                            },
                        )
                    })
                });
                g.bench_function(BenchmarkId::new(format!("decrypt_slice{sfx}"), &id), |b| {
                    b.iter_custom(|iters| {
                        timed(
                            iters,
                            &mut out,
                            |o| *o = Vec::new(),
                            |out| {
                                *out = decrypt(
                                    &raw_keyring,
                                    &msg,
                                    DecryptOptions::default(),
                                    &mut rng,
                                )
                                .unwrap()
                                .0;
                            },
                        )
                    })
                });
                assert!(out.is_empty() || out == data);
                // Into reused buffers: made once here, so that either cell
                // runs alone under a criterion filter.
                let mut msg = Vec::new();
                encrypt_into(&raw_keyring, &ctx, &data, &opts, &mut rng, &mut msg).unwrap();
                g.bench_function(BenchmarkId::new(format!("encrypt_into{sfx}"), &id), |b| {
                    b.iter_custom(|iters| {
                        timed(iters, &mut msg, Vec::clear, |msg| {
                            encrypt_into(&raw_keyring, &ctx, &data, &opts, &mut rng, msg).unwrap();
                        })
                    })
                });
                let mut out = Vec::new();
                g.bench_function(BenchmarkId::new(format!("decrypt_into{sfx}"), &id), |b| {
                    b.iter_custom(|iters| {
                        timed(iters, &mut out, Vec::clear, |out| {
                            decrypt_into(
                                &raw_keyring,
                                &msg,
                                DecryptOptions::default(),
                                &mut rng,
                                out,
                            )
                            .unwrap();
                        })
                    })
                });
                assert!(out.is_empty() || out == data);
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
