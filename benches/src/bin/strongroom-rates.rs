//! Operations per second of Strongroom calls, of the primitive seam and of
//! aws-lc-rs used directly, one `name rate unit` line each, for
//! `benches/compare` (single thread, a short fixed time per row; criterion's
//! `benches/ops.rs` is the careful measure).
//!
//! `strongroom-rates [SUBSTRING]` runs only the rows whose name contains
//! `SUBSTRING` (e.g. under `perf record`); `STRONGROOM_RATES_MS` sets the
//! time per row in milliseconds (default 700).
//!
//! Each row is printed twice: `name` divides by wall time, `name@cpu` by
//! the thread's CPU time (as `openssl speed` does by default).
//!
//! Rows `sr_*` use a 10-key keystore under `target/` (every call appends and
//! fsyncs an audit event); rows `sr_shm_*` the same keystore on the tmpfs
//! `/dev/shm`, where the fsyncs cost nothing (CPU cost only). Rows
//! `sr_wb_*` and `sr_shm_wb_*` are the same keystores opened in
//! `AuditWriteMode::WriteBehind` (default bounds).

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use strongroom::api::{DecryptRequest, EncryptRequest, GenerateDataKeyRequest, SignRequest};
use strongroom::core::key::{MessageType, SigningAlgorithm};
use strongroom::{AuditWriteMode, EncryptionContext, Secret};
use strongroom_benches::{thread_cpu_ns, Fixture};
use strongroom_core::crypto::{self, digest::DigestAlgorithm, ecdsa, rsa};

struct Rates {
    filter: Option<String>,
    budget: Duration,
}

impl Rates {
    fn rate(&self, name: &str, unit_per_op: f64, unit: &str, mut op: impl FnMut()) {
        if self.filter.as_ref().is_some_and(|f| !name.contains(f)) {
            return;
        }
        op();
        let cpu0 = thread_cpu_ns();
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < self.budget {
            for _ in 0..16 {
                op();
            }
            n += 16;
        }
        let per_s = n as f64 / start.elapsed().as_secs_f64();
        println!("{name} {:.1} {unit}", per_s * unit_per_op);
        if let (Some(a), Some(b)) = (cpu0, thread_cpu_ns()) {
            if b > a {
                let per_cpu_s = n as f64 * 1e9 / (b - a) as f64;
                println!("{name}@cpu {:.1} {unit}", per_cpu_s * unit_per_op);
            }
        }
    }
}

/// Encrypt, Decrypt, GenerateDataKey and Sign through the Rust API, rows
/// `<prefix>_...`.
fn api_rows(r: &Rates, prefix: &str, f: &Fixture) {
    let ks = &f.ks;
    let ctx = EncryptionContext::default();
    let enc = EncryptRequest {
        key_id: f.symmetric.clone(),
        plaintext: Secret::new(vec![1u8; 32]),
        encryption_context: ctx.clone(),
        ..Default::default()
    };
    r.rate(&format!("{prefix}_encrypt_32"), 1.0, "op/s", || {
        black_box(ks.encrypt(&enc).unwrap());
    });
    let enc4k = EncryptRequest {
        plaintext: Secret::new(vec![1u8; 4096]),
        ..enc.clone()
    };
    r.rate(&format!("{prefix}_encrypt_4k"), 1.0, "op/s", || {
        black_box(ks.encrypt(&enc4k).unwrap());
    });
    let dec = DecryptRequest {
        ciphertext_blob: ks.encrypt(&enc).unwrap().ciphertext_blob,
        encryption_context: ctx.clone(),
        ..Default::default()
    };
    r.rate(&format!("{prefix}_decrypt_32"), 1.0, "op/s", || {
        black_box(ks.decrypt(&dec).unwrap());
    });
    let gdk = GenerateDataKeyRequest {
        key_id: f.symmetric.clone(),
        number_of_bytes: Some(32),
        encryption_context: ctx,
        ..Default::default()
    };
    r.rate(&format!("{prefix}_generate_data_key"), 1.0, "op/s", || {
        black_box(ks.generate_data_key(&gdk).unwrap());
    });
    for (row, key, alg) in [
        ("sign_p256", "p256", SigningAlgorithm::EcdsaSha256),
        (
            "sign_rsa2048_pss",
            "rsa2048",
            SigningAlgorithm::RsassaPssSha256,
        ),
        (
            "sign_rsa2048_pkcs1",
            "rsa2048",
            SigningAlgorithm::RsassaPkcs1V15Sha256,
        ),
    ] {
        let req = SignRequest {
            key_id: f.key(key).to_owned(),
            message: Secret::new(b"m".to_vec()),
            message_type: Some(MessageType::Raw),
            signing_algorithm: Some(alg),
            grant_tokens: Vec::new(),
        };
        r.rate(&format!("{prefix}_{row}"), 1.0, "op/s", || {
            black_box(ks.sign(&req).unwrap());
        });
    }
}

/// The same primitives as the seam rows, through aws-lc-rs with one parsed
/// key and no seam (the limit the seam can reach).
#[cfg(feature = "backend-aws-lc")]
fn awslc_rows(r: &Rates, rsa_pkcs8: &[u8], ec_pkcs8: &[u8]) {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    use aws_lc_rs::digest::{digest, SHA256};
    use aws_lc_rs::rsa::KeyPair;
    use aws_lc_rs::signature::{
        EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
    };
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let mut buf = vec![0u8; 16 * 1024];
    r.rate("awslc_aes256gcm_16k", 16.0 * 1024.0 / 1e6, "MB/s", || {
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::empty(),
                &mut buf,
            )
            .unwrap();
        black_box(tag.as_ref()[0]);
    });
    let d = digest(&SHA256, b"m");
    let rsa_key = KeyPair::from_pkcs8(rsa_pkcs8).unwrap();
    let mut sig = vec![0u8; rsa_key.public_modulus_len()];
    r.rate("awslc_rsa2048_pss_sign", 1.0, "op/s", || {
        rsa_key.sign_digest(&RSA_PSS_SHA256, &d, &mut sig).unwrap();
    });
    r.rate("awslc_rsa2048_pkcs1_sign", 1.0, "op/s", || {
        rsa_key
            .sign_digest(&RSA_PKCS1_SHA256, &d, &mut sig)
            .unwrap();
    });
    let ec_key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, ec_pkcs8).unwrap();
    r.rate("awslc_ecdsa_p256_sign", 1.0, "op/s", || {
        black_box(ec_key.sign_digest(&d).unwrap());
    });
}

#[cfg(not(feature = "backend-aws-lc"))]
fn awslc_rows(_: &Rates, _: &[u8], _: &[u8]) {}

fn main() {
    let r = Rates {
        filter: std::env::args().nth(1),
        budget: Duration::from_millis(
            std::env::var("STRONGROOM_RATES_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(700),
        ),
    };
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    eprintln!("backend: {}", crypto::BACKEND);
    let disk = strongroom_benches::fixture_in(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        10,
    );
    api_rows(&r, "sr", &disk);
    drop(disk);
    let wb = AuditWriteMode::write_behind();
    let disk = strongroom_benches::fixture_in_mode(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        10,
        wb,
    );
    api_rows(&r, "sr_wb", &disk);
    drop(disk);
    if std::path::Path::new("/dev/shm").is_dir() {
        let dir = std::path::Path::new("/dev/shm/strongroom-bench");
        let shm = strongroom_benches::fixture_in_mode(dir, 10, AuditWriteMode::WriteThrough);
        api_rows(&r, "sr_shm", &shm);
        drop(shm);
        let shm = strongroom_benches::fixture_in_mode(dir, 10, wb);
        api_rows(&r, "sr_shm_wb", &shm);
    }

    // Primitive seam (the limit Strongroom's operations rest on).
    let key = [7u8; 32];
    let mut buf = vec![0u8; 16 * 1024];
    r.rate("seam_aes256gcm_16k", 16.0 * 1024.0 / 1e6, "MB/s", || {
        black_box(crypto::aead::aes_gcm_seal_in_place(&key, &[0; 12], &[], &mut buf).unwrap());
    });
    let rsa_key = rsa::rsa_generate(rsa::RsaKeySize::Rsa2048, &mut rng).unwrap();
    let d256 = DigestAlgorithm::Sha256.digest(b"m");
    r.rate("seam_rsa2048_pss_sign", 1.0, "op/s", || {
        black_box(
            rsa::rsa_pss_sign_digest(DigestAlgorithm::Sha256, &rsa_key, &d256, &mut rng).unwrap(),
        );
    });
    r.rate("seam_rsa2048_pkcs1_sign", 1.0, "op/s", || {
        black_box(
            rsa::rsa_pkcs1v15_sign_digest(DigestAlgorithm::Sha256, &rsa_key, &d256, &mut rng)
                .unwrap(),
        );
    });
    let spki = rsa::rsa_public_key_der(&rsa_key).unwrap();
    let sig = rsa::rsa_pss_sign_digest(DigestAlgorithm::Sha256, &rsa_key, &d256, &mut rng).unwrap();
    r.rate("seam_rsa2048_pss_verify", 1.0, "op/s", || {
        assert!(rsa::rsa_pss_verify_digest(
            DigestAlgorithm::Sha256,
            &spki,
            &d256,
            &sig
        ));
    });
    let ec_key = ecdsa::ecdsa_generate(ecdsa::EcCurve::P256, &mut rng).unwrap();
    r.rate("seam_ecdsa_p256_sign", 1.0, "op/s", || {
        black_box(
            ecdsa::ecdsa_sign_digest(ecdsa::EcCurve::P256, &ec_key, &d256, &mut rng).unwrap(),
        );
    });
    let ec_spki = ecdsa::ecdsa_public_key_der(ecdsa::EcCurve::P256, &ec_key).unwrap();
    let ec_sig = ecdsa::ecdsa_sign_digest(ecdsa::EcCurve::P256, &ec_key, &d256, &mut rng).unwrap();
    r.rate("seam_ecdsa_p256_verify", 1.0, "op/s", || {
        assert!(ecdsa::ecdsa_verify_digest(
            ecdsa::EcCurve::P256,
            &ec_spki,
            &d256,
            &ec_sig
        ));
    });
    awslc_rows(&r, &rsa_key, &ec_key);
}
