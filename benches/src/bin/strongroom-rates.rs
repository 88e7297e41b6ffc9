//! Operations per second of Strongroom calls and of the primitive seam, one
//! `name rate unit` line each, for `benches/compare` (single thread, a short
//! fixed time per row; criterion's `benches/ops.rs` is the careful measure).

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use strongroom::api::{DecryptRequest, EncryptRequest, GenerateDataKeyRequest};
use strongroom::{EncryptionContext, Secret};
use strongroom_core::crypto::{self, digest::DigestAlgorithm, ecdsa, rsa};

fn rate(name: &str, unit_per_op: f64, unit: &str, mut op: impl FnMut()) {
    op();
    let budget = Duration::from_millis(700);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    let per_s = n as f64 / start.elapsed().as_secs_f64();
    println!("{name} {:.1} {unit}", per_s * unit_per_op);
}

fn main() {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    eprintln!("backend: {}", crypto::BACKEND);
    let (ks, id) = strongroom_benches::keystore_with(10);
    let ctx = EncryptionContext::default();
    let enc = EncryptRequest {
        key_id: id.clone(),
        plaintext: Secret::new(vec![1u8; 32]),
        encryption_context: ctx.clone(),
        ..Default::default()
    };
    rate("sr_encrypt_32", 1.0, "op/s", || {
        black_box(ks.encrypt(&enc).unwrap());
    });
    let blob = ks.encrypt(&enc).unwrap().ciphertext_blob;
    let dec = DecryptRequest {
        ciphertext_blob: blob,
        encryption_context: ctx.clone(),
        ..Default::default()
    };
    rate("sr_decrypt_32", 1.0, "op/s", || {
        black_box(ks.decrypt(&dec).unwrap());
    });
    let gdk = GenerateDataKeyRequest {
        key_id: id,
        number_of_bytes: Some(32),
        encryption_context: ctx,
        ..Default::default()
    };
    rate("sr_generate_data_key", 1.0, "op/s", || {
        black_box(ks.generate_data_key(&gdk).unwrap());
    });

    // Primitive seam (the limit Strongroom's operations rest on).
    let key = [7u8; 32];
    let mut buf = vec![0u8; 16 * 1024];
    rate("seam_aes256gcm_16k", 16.0 * 1024.0 / 1e6, "MB/s", || {
        black_box(crypto::aead::aes_gcm_seal_in_place(&key, &[0; 12], &[], &mut buf).unwrap());
    });
    let rsa_key = rsa::rsa_generate(rsa::RsaKeySize::Rsa2048, &mut rng).unwrap();
    let d256 = DigestAlgorithm::Sha256.digest(b"m");
    rate("seam_rsa2048_pss_sign", 1.0, "op/s", || {
        black_box(
            rsa::rsa_pss_sign_digest(DigestAlgorithm::Sha256, &rsa_key, &d256, &mut rng).unwrap(),
        );
    });
    rate("seam_rsa2048_pkcs1_sign", 1.0, "op/s", || {
        black_box(
            rsa::rsa_pkcs1v15_sign_digest(DigestAlgorithm::Sha256, &rsa_key, &d256, &mut rng)
                .unwrap(),
        );
    });
    let spki = rsa::rsa_public_key_der(&rsa_key).unwrap();
    let sig = rsa::rsa_pss_sign_digest(DigestAlgorithm::Sha256, &rsa_key, &d256, &mut rng).unwrap();
    rate("seam_rsa2048_pss_verify", 1.0, "op/s", || {
        assert!(rsa::rsa_pss_verify_digest(
            DigestAlgorithm::Sha256,
            &spki,
            &d256,
            &sig
        ));
    });
    let ec_key = ecdsa::ecdsa_generate(ecdsa::EcCurve::P256, &mut rng).unwrap();
    rate("seam_ecdsa_p256_sign", 1.0, "op/s", || {
        black_box(
            ecdsa::ecdsa_sign_digest(ecdsa::EcCurve::P256, &ec_key, &d256, &mut rng).unwrap(),
        );
    });
    let ec_spki = ecdsa::ecdsa_public_key_der(ecdsa::EcCurve::P256, &ec_key).unwrap();
    let ec_sig = ecdsa::ecdsa_sign_digest(ecdsa::EcCurve::P256, &ec_key, &d256, &mut rng).unwrap();
    rate("seam_ecdsa_p256_verify", 1.0, "op/s", || {
        assert!(ecdsa::ecdsa_verify_digest(
            ecdsa::EcCurve::P256,
            &ec_spki,
            &d256,
            &ec_sig
        ));
    });
}
