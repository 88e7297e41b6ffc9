//! Each Strongroom operation next to the raw primitive work it rests on, on
//! the same backend in the same run, so that the overhead is a ratio:
//!
//! - `raw`: the cryptographic work the operation must do: for Encrypt,
//!   HKDF-SHA256 of a per-call key plus AES-256-GCM (`blob::seal`; with
//!   an 8-pair context for `Encrypt/4096B/grants`, the call made by a
//!   principal that only the key's 16 grants allow); for
//!   Decrypt `blob::open`; for ReEncrypt both; for GenerateDataKey 32 random
//!   bytes plus `blob::seal`; for GenerateRandom the OS RNG; for CreateKey
//!   32 random bytes sealed with AES-256-GCM; for Sign the hash of a `RAW`
//!   message (none for `DIGEST`) plus the seam's signature with a key of
//!   the same size or curve; for Verify the seam's verification with the
//!   key's public key; for RSA OAEP Decrypt the seam's decryption; for
//!   GenerateMac/VerifyMac one HMAC; for GenerateDataKeyPair a P-256 key
//!   generation, its public key and `blob::seal` of the private key.
//! - `sr/<n>keys/<t>thr`: the `Keystore` call (audit logging on) with `n`
//!   keys in the keystore and `t` threads sharing one handle (time per
//!   operation is wall time / operations, so 2 threads at full scaling
//!   halve it).
//!
//! Environment:
//! - `STRONGROOM_BENCH_KEYS`: the big keystore's size (default 100000). It
//!   is built once (in `/dev/shm` when there is one, about a minute) and
//!   kept under `target/` (`benches/src/lib.rs`).
//! - `STRONGROOM_BENCH_SHM=1`: the keystores on the tmpfs `/dev/shm`, rows
//!   `sr-shm/...`: audit logging on, but its fsyncs cost nothing, which
//!   leaves the CPU cost of each operation.
//! - `STRONGROOM_BENCH_CPU=1`: time is the CPU time of the threads doing
//!   the work instead of wall time (IDs `raw@cpu`, `sr@cpu/...`; 1 thread
//!   only). Steadier on a loaded machine; it leaves out time spent waiting
//!   (fsync), so pair it with `STRONGROOM_BENCH_SHM=1`.
//! - `STRONGROOM_BENCH_QUICK=1`: only the 10-key keystore with 1 thread
//!   next to `raw` (no big keystore is built).
//! - `STRONGROOM_BENCH_ONLY=management`: only the management writes
//!   (CreateKey, CreateGrant and UpdateKeyDescription on the sized
//!   keystores) and the open of each keystore.
//! - `STRONGROOM_BENCH_DIR`: where the bench keystores live (default
//!   `target/`, or `/dev/shm/strongroom-bench` with `STRONGROOM_BENCH_SHM=1`).
//! - `STRONGROOM_BENCH_AUDIT_MAX_MIB`: a bench keystore whose audit log
//!   grew by more than this many MiB (default 256) past a fresh one's (4 KiB
//!   per key) is made afresh before a run; every run appends its
//!   operations' events to the reused keystore's log, which would otherwise
//!   grow without bound. Never while another bench process sharing the
//!   directory uses it (lock files beside each keystore, `flock(2)`): one
//!   in use is reused as it is.
//!
//! Run: `cargo bench -p strongroom-benches --bench ops` (criterion options
//! after `--`, e.g. `-- --warm-up-time 1 --measurement-time 2 Sign/`), then
//! `benches/ops-table` for the ratios.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use strongroom::api::{
    CreateGrantRequest, CreateKeyRequest, DecryptRequest, EncryptRequest,
    GenerateDataKeyPairRequest, GenerateDataKeyRequest, GenerateMacRequest, ReEncryptRequest,
    SignRequest, VerifyMacRequest, VerifyRequest,
};
use strongroom::core::grant::{GrantConstraints, GrantOperation};
use strongroom::core::key::{
    DataKeyPairSpec, EncryptionAlgorithm, MacAlgorithm, MessageType, SigningAlgorithm,
};
use strongroom::{EncryptionContext, Keystore, Secret};
use strongroom_benches::{fixture, Fixture};
use strongroom_core::crypto::{self, ecdsa, mac, rsa, DigestAlgorithm, EcCurve, RsaKeySize};

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn ctx() -> EncryptionContext {
    EncryptionContext::from_pairs([("purpose", "bench")]).unwrap()
}

/// Whether `STRONGROOM_BENCH_CPU=1` asks for CPU time instead of wall time.
fn cpu_mode() -> bool {
    std::env::var("STRONGROOM_BENCH_CPU").is_ok_and(|v| v == "1")
}

/// The suffix of benchmark IDs measured in CPU time.
fn mode_suffix() -> &'static str {
    if cpu_mode() {
        "@cpu"
    } else {
        ""
    }
}

/// Runs `op` `iters` times spread over `threads` threads: wall time, or in
/// [`cpu_mode`] the CPU time the threads spent (summed).
fn timed(threads: usize, iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let cpu = cpu_mode();
    let run = |n: u64| {
        let c0 = strongroom_benches::thread_cpu_ns().unwrap_or(0);
        for _ in 0..n {
            op();
        }
        strongroom_benches::thread_cpu_ns()
            .unwrap_or(0)
            .saturating_sub(c0)
    };
    let start = Instant::now();
    let cpu_ns: u64 = if threads == 1 {
        run(iters)
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let n = iters / threads as u64 + u64::from(t < iters % threads as u64);
                    s.spawn(move || run(n))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        })
    };
    if cpu {
        Duration::from_nanos(cpu_ns)
    } else {
        start.elapsed()
    }
}

/// Runs `op` once: its result and the wall time it took, or in
/// [`cpu_mode`] the CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`,
/// exact for one call, unlike the tick-updated `schedstat` of [`timed`]).
fn timed_once<T>(op: impl FnOnce() -> T) -> (T, Duration) {
    let cpu = || {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        Duration::new(
            t.tv_sec.unsigned_abs(),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        )
    };
    if cpu_mode() {
        let t0 = cpu();
        let out = op();
        (out, cpu().saturating_sub(t0))
    } else {
        let t0 = Instant::now();
        let out = op();
        (out, t0.elapsed())
    }
}

/// Benchmarks the raw primitive work `f` as `raw` (single thread).
fn raw<T>(g: &mut BenchmarkGroup<'_, WallTime>, f: impl Fn() -> T + Sync) {
    g.bench_function(format!("raw{}", mode_suffix()), |b| {
        b.iter_custom(|iters| {
            timed(1, iters, &|| {
                black_box(f());
            })
        })
    });
}

/// The keystores and thread counts to run each operation with.
struct Matrix {
    /// `sr`, `sr-shm` for keystores on `/dev/shm`, plus `-wb` in
    /// write-behind audit mode, plus `@cpu` in CPU time.
    prefix: &'static str,
    stores: Vec<Fixture>,
    threads: Vec<usize>,
}

impl Matrix {
    fn new() -> Self {
        let quick = std::env::var("STRONGROOM_BENCH_QUICK").is_ok_and(|v| v == "1");
        let big: usize = std::env::var("STRONGROOM_BENCH_KEYS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        let sizes = if quick { vec![10] } else { vec![10, big] };
        let threads = if quick || cpu_mode() {
            vec![1]
        } else {
            vec![1, 2]
        };
        Matrix {
            prefix: match (
                strongroom_benches::on_shm(),
                cpu_mode(),
                strongroom_benches::write_behind(),
            ) {
                (false, false, false) => "sr",
                (true, false, false) => "sr-shm",
                (false, true, false) => "sr@cpu",
                (true, true, false) => "sr-shm@cpu",
                (false, false, true) => "sr-wb",
                (true, false, true) => "sr-shm-wb",
                (false, true, true) => "sr-wb@cpu",
                (true, true, true) => "sr-shm-wb@cpu",
            },
            stores: sizes.into_iter().map(fixture).collect(),
            threads,
        }
    }

    /// Benchmarks the operation `mk(store)` makes for every keystore and
    /// thread count, as `sr/<n>keys/<t>thr`.
    fn run<'a>(
        &'a self,
        g: &mut BenchmarkGroup<'_, WallTime>,
        mk: impl Fn(&'a Fixture) -> Box<dyn Fn() + Sync + 'a>,
    ) {
        for f in &self.stores {
            let op = mk(f);
            for &threads in &self.threads {
                g.bench_function(
                    BenchmarkId::new(
                        format!("{}/{}keys", self.prefix, f.size),
                        format!("{threads}thr"),
                    ),
                    |b| b.iter_custom(|iters| timed(threads, iters, &*op)),
                );
            }
        }
    }
}

/// A symmetric ciphertext of `pt` under the store's symmetric key.
fn ciphertext_of(f: &Fixture, pt: &[u8]) -> Vec<u8> {
    f.ks.encrypt(&EncryptRequest {
        key_id: f.symmetric.clone(),
        plaintext: Secret::new(pt.to_vec()),
        encryption_context: ctx(),
        ..Default::default()
    })
    .unwrap()
    .ciphertext_blob
}

fn symmetric(c: &mut Criterion, m: &Matrix) {
    let backing = Secret::new(vec![7u8; 32]);
    let key16 = [3u8; 16];
    for size in [32usize, 4096] {
        let pt = vec![0x42u8; size];
        let blob =
            strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, &pt, &ctx()).unwrap();
        let mut g = c.benchmark_group(format!("Encrypt/{size}B"));
        raw(&mut g, || {
            strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, black_box(&pt), &ctx())
                .unwrap()
        });
        m.run(&mut g, |f| {
            let req = EncryptRequest {
                key_id: f.symmetric.clone(),
                plaintext: Secret::new(pt.clone()),
                encryption_context: ctx(),
                ..Default::default()
            };
            Box::new(move || {
                black_box(f.ks.encrypt(&req).unwrap());
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("Decrypt/{size}B"));
        raw(&mut g, || {
            strongroom_core::blob::open(black_box(&blob), &backing, &ctx()).unwrap()
        });
        m.run(&mut g, |f| {
            let ct = ciphertext_of(f, &pt);
            let req = DecryptRequest {
                ciphertext_blob: ct,
                encryption_context: ctx(),
                ..Default::default()
            };
            Box::new(move || {
                black_box(f.ks.decrypt(&req).unwrap());
            })
        });
        g.finish();
    }

    granted_encrypt(c, m);

    let mut g = c.benchmark_group("ReEncrypt/32B");
    let pt = vec![0x42u8; 32];
    let blob = strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, &pt, &ctx()).unwrap();
    raw(&mut g, || {
        let p = strongroom_core::blob::open(black_box(&blob), &backing, &ctx()).unwrap();
        strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, p.expose_secret(), &ctx())
            .unwrap()
    });
    m.run(&mut g, |f| {
        let ct = ciphertext_of(f, &pt);
        let req = ReEncryptRequest {
            ciphertext_blob: ct,
            source_encryption_context: ctx(),
            destination_key_id: f.symmetric.clone(),
            destination_encryption_context: ctx(),
            ..Default::default()
        };
        Box::new(move || {
            black_box(f.ks.re_encrypt(&req).unwrap());
        })
    });
    g.finish();

    let mut g = c.benchmark_group("GenerateDataKey/32B");
    raw(&mut g, || {
        let mut dk = [0u8; 32];
        rand_core::Rng::fill_bytes(&mut rng(), &mut dk);
        strongroom_core::blob::seal(&mut rng(), &key16, 1, &backing, &dk, &ctx()).unwrap()
    });
    m.run(&mut g, |f| {
        let req = GenerateDataKeyRequest {
            key_id: f.symmetric.clone(),
            number_of_bytes: Some(32),
            encryption_context: ctx(),
            ..Default::default()
        };
        Box::new(move || {
            black_box(f.ks.generate_data_key(&req).unwrap());
        })
    });
    g.finish();

    let mut g = c.benchmark_group("GenerateRandom/32B");
    raw(&mut g, || {
        let mut r = [0u8; 32];
        rand_core::Rng::fill_bytes(&mut rng(), &mut r);
        r
    });
    m.run(&mut g, |f| {
        Box::new(move || {
            black_box(f.ks.generate_random(32).unwrap());
        })
    });
    g.finish();
}

/// A signing key of the bench keystore's kind, made with the seam for the
/// `raw` rows (the keystore's own private keys never leave it).
/// The principal the grant benches act for: of another account, so that
/// the default key policy (which allows the keystore's account) leaves the
/// decision to the key's grants.
const GRANTEE: &str = "arn:aws:iam::444455556666:user/bench-grantee";

/// Grants of `alias/bench-granted` to [`GRANTEE`].
const GRANTS: usize = 16;

/// Pairs of the encryption context of the granted Encrypt.
const CONTEXT_PAIRS: usize = 8;

/// The encryption context of the granted Encrypt: `k0`..`k7` = `v0`..`v7`.
fn granted_ctx() -> EncryptionContext {
    EncryptionContext::from_pairs((0..CONTEXT_PAIRS).map(|i| (format!("k{i}"), format!("v{i}"))))
        .unwrap()
}

/// The ARN of the symmetric key `alias/bench-granted` of `f`, made on first
/// use with [`GRANTS`] grants to [`GRANTEE`] (Encrypt and Decrypt), grant
/// `i` constrained to the context pair `k<i mod 8>` = `v<i mod 8>`
/// (`EncryptionContextSubset`). The grants are named, so a keystore that
/// has them gets no more.
fn granted_key(f: &Fixture) -> String {
    let alias = "alias/bench-granted";
    let arn = match f.ks.describe_key(alias) {
        Ok(d) => d.key_metadata.arn,
        Err(_) => {
            let d = f.ks.create_key(&CreateKeyRequest::default()).unwrap();
            f.ks.create_alias(alias, &d.key_metadata.key_id).unwrap();
            d.key_metadata.arn
        }
    };
    for i in 0..GRANTS {
        let j = i % CONTEXT_PAIRS;
        f.ks.create_grant(&CreateGrantRequest {
            key_id: arn.clone(),
            grantee_principal: GRANTEE.to_owned(),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            constraints: Some(GrantConstraints {
                encryption_context_subset: Some(
                    EncryptionContext::from_pairs([(format!("k{j}"), format!("v{j}"))]).unwrap(),
                ),
                encryption_context_equals: None,
            }),
            name: Some(format!("bench-{i}")),
            ..Default::default()
        })
        .unwrap();
    }
    arn
}

/// Encrypt 4 KiB by [`GRANTEE`], whom only the [`GRANTS`] grants of the key
/// allow, with a context of [`CONTEXT_PAIRS`] pairs: the cost of the grant
/// check (the key's grants read, each checked against the context).
fn granted_encrypt(c: &mut Criterion, m: &Matrix) {
    let backing = Secret::new(vec![7u8; 32]);
    let pt = vec![0x42u8; 4096];
    let mut g = c.benchmark_group("Encrypt/4096B/grants");
    raw(&mut g, || {
        strongroom_core::blob::seal(&mut rng(), &[3u8; 16], 1, &backing, &pt, &granted_ctx())
            .unwrap()
    });
    m.run(&mut g, |f| {
        let req = EncryptRequest {
            key_id: granted_key(f),
            plaintext: Secret::new(pt.clone()),
            encryption_context: granted_ctx(),
            ..Default::default()
        };
        let ks = f.ks.as_principal(GRANTEE);
        Box::new(move || {
            black_box(ks.encrypt(&req).unwrap());
        })
    });
    g.finish();
}

fn seam_key(name: &str) -> Secret {
    let k = match name {
        "rsa2048" | "rsa2048-oaep" => rsa::rsa_generate(RsaKeySize::Rsa2048, &mut rng()),
        "rsa3072" => rsa::rsa_generate(RsaKeySize::Rsa3072, &mut rng()),
        "rsa4096" => rsa::rsa_generate(RsaKeySize::Rsa4096, &mut rng()),
        _ => ecdsa::ecdsa_generate(seam_curve(name).expect("a signing key name"), &mut rng()),
    };
    Secret::new(k.unwrap().to_vec())
}

/// The curve of the bench key `name`, `None` for RSA keys.
fn seam_curve(name: &str) -> Option<EcCurve> {
    match name {
        "p256" => Some(EcCurve::P256),
        "p384" => Some(EcCurve::P384),
        "p521" => Some(EcCurve::P521),
        "k256" => Some(EcCurve::Secp256k1),
        _ => None,
    }
}

/// The seam's signature over `digest` with `alg` on the bench key `name`
/// (the `raw` of Sign).
fn seam_sign(name: &str, alg: SigningAlgorithm, pkcs8: &[u8], digest: &[u8]) -> Vec<u8> {
    if let Some(curve) = seam_curve(name) {
        return ecdsa::ecdsa_sign_digest(curve, pkcs8, digest, &mut rng()).unwrap();
    }
    let h = DigestAlgorithm::Sha256;
    match alg {
        SigningAlgorithm::RsassaPssSha256 => {
            rsa::rsa_pss_sign_digest(h, pkcs8, digest, &mut rng()).unwrap()
        }
        SigningAlgorithm::RsassaPkcs1V15Sha256 => {
            rsa::rsa_pkcs1v15_sign_digest(h, pkcs8, digest, &mut rng()).unwrap()
        }
        _ => unreachable!("not benched"),
    }
}

/// The seam's verification (the `raw` of Verify) on the bench key `name`.
fn seam_verify(name: &str, alg: SigningAlgorithm, spki: &[u8], digest: &[u8], sig: &[u8]) -> bool {
    if let Some(curve) = seam_curve(name) {
        return ecdsa::ecdsa_verify_digest(curve, spki, digest, sig);
    }
    let h = DigestAlgorithm::Sha256;
    match alg {
        SigningAlgorithm::RsassaPssSha256 => rsa::rsa_pss_verify_digest(h, spki, digest, sig),
        SigningAlgorithm::RsassaPkcs1V15Sha256 => {
            rsa::rsa_pkcs1v15_verify_digest(h, spki, digest, sig)
        }
        _ => unreachable!("not benched"),
    }
}

fn asymmetric(c: &mut Criterion, m: &Matrix) {
    use SigningAlgorithm as S;
    let cases: [(&str, &str, S, DigestAlgorithm); 10] = [
        (
            "rsa2048",
            "RSA2048-PSS",
            S::RsassaPssSha256,
            DigestAlgorithm::Sha256,
        ),
        (
            "rsa2048",
            "RSA2048-PKCS1",
            S::RsassaPkcs1V15Sha256,
            DigestAlgorithm::Sha256,
        ),
        (
            "rsa3072",
            "RSA3072-PSS",
            S::RsassaPssSha256,
            DigestAlgorithm::Sha256,
        ),
        (
            "rsa3072",
            "RSA3072-PKCS1",
            S::RsassaPkcs1V15Sha256,
            DigestAlgorithm::Sha256,
        ),
        (
            "rsa4096",
            "RSA4096-PSS",
            S::RsassaPssSha256,
            DigestAlgorithm::Sha256,
        ),
        (
            "rsa4096",
            "RSA4096-PKCS1",
            S::RsassaPkcs1V15Sha256,
            DigestAlgorithm::Sha256,
        ),
        ("p256", "P256", S::EcdsaSha256, DigestAlgorithm::Sha256),
        ("p384", "P384", S::EcdsaSha384, DigestAlgorithm::Sha384),
        ("p521", "P521", S::EcdsaSha512, DigestAlgorithm::Sha512),
        ("k256", "SECP256K1", S::EcdsaSha256, DigestAlgorithm::Sha256),
    ];
    let message = vec![0x6du8; 256];
    for (key, label, alg, hash) in cases {
        let pkcs8 = seam_key(key);
        for mt in [MessageType::Raw, MessageType::Digest] {
            let raw_hashes = mt == MessageType::Raw;
            let msg = if raw_hashes {
                message.clone()
            } else {
                hash.digest(&message)
            };
            let mut g = c.benchmark_group(format!("Sign/{label}/{mt}"));
            raw(&mut g, || {
                let d = if raw_hashes {
                    hash.digest(black_box(&msg))
                } else {
                    msg.clone()
                };
                seam_sign(key, alg, pkcs8.expose_secret(), &d)
            });
            m.run(&mut g, |f| {
                let req = SignRequest {
                    key_id: f.key(key).to_owned(),
                    message: Secret::new(msg.clone()),
                    message_type: Some(mt),
                    signing_algorithm: Some(alg),
                    grant_tokens: Vec::new(),
                };
                Box::new(move || {
                    black_box(f.ks.sign(&req).unwrap());
                })
            });
            g.finish();

            let mut g = c.benchmark_group(format!("Verify/{label}/{mt}"));
            let f0 = &m.stores[0];
            let spki = f0.ks.get_public_key(f0.key(key)).unwrap().public_key;
            let sign_req = |f: &Fixture| SignRequest {
                key_id: f.key(key).to_owned(),
                message: Secret::new(msg.clone()),
                message_type: Some(mt),
                signing_algorithm: Some(alg),
                grant_tokens: Vec::new(),
            };
            let sig0 = f0.ks.sign(&sign_req(f0)).unwrap().signature;
            raw(&mut g, || {
                let d = if raw_hashes {
                    hash.digest(black_box(&msg))
                } else {
                    msg.clone()
                };
                assert!(seam_verify(key, alg, &spki, &d, &sig0));
            });
            m.run(&mut g, |f| {
                let req = VerifyRequest {
                    key_id: f.key(key).to_owned(),
                    message: Secret::new(msg.clone()),
                    message_type: Some(mt),
                    signature: f.ks.sign(&sign_req(f)).unwrap().signature,
                    signing_algorithm: Some(alg),
                    grant_tokens: Vec::new(),
                };
                Box::new(move || {
                    black_box(f.ks.verify(&req).unwrap());
                })
            });
            g.finish();
        }
    }

    // RSA OAEP Decrypt (RSAES_OAEP_SHA_256, 32-byte plaintext).
    let mut g = c.benchmark_group("Decrypt/RSA2048-OAEP-SHA256");
    let pkcs8 = seam_key("rsa2048-oaep");
    let spki = rsa::rsa_public_key_der(pkcs8.expose_secret()).unwrap();
    let ct = rsa::rsa_oaep_encrypt(rsa::OaepHash::Sha256, &spki, &[1u8; 32], &mut rng()).unwrap();
    raw(&mut g, || {
        rsa::rsa_oaep_decrypt(
            rsa::OaepHash::Sha256,
            pkcs8.expose_secret(),
            black_box(&ct),
            &mut rng(),
        )
        .unwrap()
    });
    m.run(&mut g, |f| {
        let key_id = f.key("rsa2048-oaep").to_owned();
        let ct =
            f.ks.encrypt(&EncryptRequest {
                key_id: key_id.clone(),
                plaintext: Secret::new(vec![1u8; 32]),
                encryption_algorithm: Some(EncryptionAlgorithm::RsaesOaepSha256),
                ..Default::default()
            })
            .unwrap()
            .ciphertext_blob;
        let req = DecryptRequest {
            ciphertext_blob: ct,
            key_id: Some(key_id),
            encryption_algorithm: Some(EncryptionAlgorithm::RsaesOaepSha256),
            ..Default::default()
        };
        Box::new(move || {
            black_box(f.ks.decrypt(&req).unwrap());
        })
    });
    g.finish();

    // GenerateMac / VerifyMac (HMAC_SHA_256, 256-byte message).
    let hkey = [9u8; 32];
    for verify in [false, true] {
        let name = if verify { "VerifyMac" } else { "GenerateMac" };
        let mut g = c.benchmark_group(format!("{name}/HMAC256"));
        let tag = mac::hmac(DigestAlgorithm::Sha256, &hkey, &[&message]).unwrap();
        raw(&mut g, || {
            if verify {
                assert!(mac::hmac_verify(
                    DigestAlgorithm::Sha256,
                    &hkey,
                    &[black_box(&message)],
                    &tag
                ));
            } else {
                black_box(
                    mac::hmac(DigestAlgorithm::Sha256, &hkey, &[black_box(&message)]).unwrap(),
                );
            }
        });
        m.run(&mut g, |f| {
            let key_id = f.key("hmac256").to_owned();
            let gen = GenerateMacRequest {
                key_id: key_id.clone(),
                message: Secret::new(message.clone()),
                mac_algorithm: Some(MacAlgorithm::HmacSha256),
                grant_tokens: Vec::new(),
            };
            let ver = VerifyMacRequest {
                key_id,
                message: Secret::new(message.clone()),
                mac_algorithm: Some(MacAlgorithm::HmacSha256),
                mac: f.ks.generate_mac(&gen).unwrap().mac,
                grant_tokens: Vec::new(),
            };
            Box::new(move || {
                if verify {
                    black_box(f.ks.verify_mac(&ver).unwrap());
                } else {
                    black_box(f.ks.generate_mac(&gen).unwrap());
                }
            })
        });
        g.finish();
    }

    // GenerateDataKeyPair (ECC_NIST_P256).
    let backing = Secret::new(vec![7u8; 32]);
    let mut g = c.benchmark_group("GenerateDataKeyPair/ECC_NIST_P256");
    raw(&mut g, || {
        let private = ecdsa::ecdsa_generate(EcCurve::P256, &mut rng()).unwrap();
        let public = ecdsa::ecdsa_public_key_der(EcCurve::P256, &private).unwrap();
        let blob =
            strongroom_core::blob::seal(&mut rng(), &[3u8; 16], 1, &backing, &private, &ctx())
                .unwrap();
        black_box((public, blob))
    });
    m.run(&mut g, |f| {
        let req = GenerateDataKeyPairRequest {
            key_id: f.symmetric.clone(),
            key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
            encryption_context: ctx(),
            grant_tokens: Vec::new(),
        };
        Box::new(move || {
            black_box(f.ks.generate_data_key_pair(&req).unwrap());
        })
    });
    g.finish();
}

fn create_key(c: &mut Criterion) {
    let backing = Secret::new(vec![7u8; 32]);
    let mut g = c.benchmark_group("CreateKey");
    raw(&mut g, || {
        let mut k = [0u8; 32];
        rand_core::Rng::fill_bytes(&mut rng(), &mut k);
        crypto::aes256_gcm_seal(&backing.expose_secret()[..32], &[1u8; 12], &[3u8; 16], &k).unwrap()
    });
    // CreateKey writes: measured on a scratch keystore (on the same disk as
    // `target/`) so the sized ones keep their size.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    let scratch = dir.join(format!("bench-scratch-{}.db", std::process::id()));
    let ks = Keystore::create(&scratch, strongroom_benches::root(), Default::default()).unwrap();
    g.bench_function(format!("sr{}/scratch/1thr", mode_suffix()), |b| {
        b.iter_custom(|iters| {
            timed(1, iters, &|| {
                black_box(ks.create_key(&CreateKeyRequest::default()).unwrap());
            })
        })
    });
    g.finish();
    drop(ks);
    strongroom_benches::remove_keystore(&scratch);
}

/// Management writes against the keystore's size (issue 9: within 1.2×
/// with 10 and 100,000 keys): CreateKey on a copy of each sized keystore
/// (so that the fixture keeps its size; the 10-key copy grows by the keys
/// the run adds, a few thousand), UpdateKeyDescription on the sized
/// keystore itself, and opening it (which checks the whole integrity state).
fn management(c: &mut Criterion, m: &Matrix) {
    let mut g = c.benchmark_group("CreateKey/sized");
    for f in &m.stores {
        let (ks, path) = strongroom_benches::scratch_copy(f.size);
        g.bench_function(
            BenchmarkId::new(format!("{}/{}keys", m.prefix, f.size), "1thr"),
            |b| {
                b.iter_custom(|iters| {
                    timed(1, iters, &|| {
                        black_box(ks.create_key(&CreateKeyRequest::default()).unwrap());
                    })
                })
            },
        );
        drop(ks);
        strongroom_benches::remove_keystore(&path);
    }
    g.finish();

    // CreateGrant on the sized keystore: each grant (Encrypt and Decrypt
    // for one principal, no constraints) is revoked again after it is
    // timed, so the key keeps no more than one grant.
    let mut g = c.benchmark_group("CreateGrant");
    for f in &m.stores {
        let req = CreateGrantRequest {
            key_id: f.symmetric.clone(),
            grantee_principal: GRANTEE.to_owned(),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            ..Default::default()
        };
        g.bench_function(
            BenchmarkId::new(format!("{}/{}keys", m.prefix, f.size), "1thr"),
            |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let (id, took) = timed_once(|| f.ks.create_grant(&req).unwrap().grant_id);
                        spent += took;
                        f.ks.revoke_grant(&f.symmetric, &id).unwrap();
                    }
                    spent
                })
            },
        );
    }
    g.finish();

    let mut g = c.benchmark_group("UpdateKeyDescription");
    for f in &m.stores {
        let flip = std::sync::atomic::AtomicBool::new(false);
        g.bench_function(
            BenchmarkId::new(format!("{}/{}keys", m.prefix, f.size), "1thr"),
            |b| {
                b.iter_custom(|iters| {
                    timed(1, iters, &|| {
                        let d = if flip.fetch_xor(true, std::sync::atomic::Ordering::Relaxed) {
                            "bench a"
                        } else {
                            "bench b"
                        };
                        f.ks.update_key_description(&f.symmetric, d).unwrap();
                    })
                })
            },
        );
    }
    g.finish();

    let mut g = c.benchmark_group("Open");
    for f in &m.stores {
        let path = strongroom_benches::fixture_path(&strongroom_benches::bench_dir(), f.size);
        g.bench_function(
            BenchmarkId::new(format!("{}/{}keys", m.prefix, f.size), "1thr"),
            |b| {
                b.iter_custom(|iters| {
                    timed(1, iters, &|| {
                        black_box(Keystore::open(&path, strongroom_benches::root()).unwrap());
                    })
                })
            },
        );
    }
    g.finish();
}

fn bench_all(c: &mut Criterion) {
    eprintln!("backend: {}", crypto::BACKEND);
    let m = Matrix::new();
    if std::env::var("STRONGROOM_BENCH_ONLY").is_ok_and(|v| v == "management") {
        management(c, &m);
        return;
    }
    symmetric(c, &m);
    asymmetric(c, &m);
    create_key(c);
    management(c, &m);
}

/// Short by default so that the whole suite runs in minutes on a small
/// machine; criterion's `--warm-up-time` / `--measurement-time` override.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(10)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_all
}
criterion_main!(benches);
