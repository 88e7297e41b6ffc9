//! Envelope throughput: `Keystore::encrypt_stream` / `decrypt_stream` (Strongroom
//! keyring, both v2 suites, 4096-byte frames) against one-shot raw AES-256-GCM
//! of the same data, for 1 MiB and 64 MiB. Run with
//! `cargo bench -p strongroom-benches --bench envelope`; results in `benches/RESULTS.md`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use strongroom::api::CreateKeyRequest;
use strongroom::core::crypto::aead::{aes_gcm_open_in_place, aes_gcm_seal_in_place};
use strongroom::core::envelope::{AlgorithmSuite, DecryptOptions, EncryptOptions};
use strongroom::{CreateOptions, EncryptionContext, Keystore, RootKeySource, Secret};

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
    for mib in [1usize, 64] {
        let len = mib << 20;
        let data: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
        let mut g = c.benchmark_group(format!("envelope_{mib}MiB"));
        g.throughput(Throughput::Bytes(len as u64));
        if mib >= 64 {
            g.sample_size(10);
        }
        g.bench_function("raw_aes256gcm_seal", |b| {
            let mut buf = data.clone();
            b.iter(|| {
                black_box(aes_gcm_seal_in_place(&[1u8; 32], &[0u8; 12], b"", &mut buf).unwrap())
            })
        });
        let mut sealed = data.clone();
        let tag = aes_gcm_seal_in_place(&[1u8; 32], &[0u8; 12], b"", &mut sealed).unwrap();
        g.bench_function("raw_aes256gcm_open", |b| {
            b.iter(|| {
                let mut buf = sealed.clone();
                aes_gcm_open_in_place(&[1u8; 32], &[0u8; 12], b"", &mut buf, &tag).unwrap();
                black_box(buf)
            })
        });
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ] {
            let opts = EncryptOptions {
                suite,
                ..EncryptOptions::default()
            };
            let name = format!("0x{:04X}", suite.id());
            let mut msg = Vec::with_capacity(len + len / 50);
            g.bench_with_input(BenchmarkId::new("encrypt_stream", &name), &data, |b, d| {
                b.iter(|| {
                    msg.clear();
                    ks.encrypt_stream(&mut Cursor::new(d), &mut msg, &[&key], &ctx, &opts)
                        .unwrap()
                })
            });
            let mut out = Vec::with_capacity(len);
            g.bench_with_input(BenchmarkId::new("decrypt_stream", &name), &msg, |b, m| {
                b.iter(|| {
                    out.clear();
                    ks.decrypt_stream(&mut Cursor::new(m), &mut out, &DecryptOptions::default())
                        .unwrap()
                })
            });
            assert_eq!(out, data);
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
