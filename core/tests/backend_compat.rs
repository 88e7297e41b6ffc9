//! Byte compatibility of the two primitive backends.
//!
//! With the `backend-aws-lc` feature (e.g. `cargo test --workspace`, where
//! the `strongroom` facade turns it on), both `crypto::rustcrypto` and
//! `crypto::awslc` are nameable in one build: every blob, signature, wrapped
//! key and key document made by one is opened, verified or parsed by the
//! other, and the deterministic outputs (AES-GCM, HKDF, HMAC, SHA-2,
//! PKCS#1 v1.5 signatures, public-key DER) are byte-equal.
//!
//! Without the feature, only `golden_*` run: they pin the exact bytes of a
//! ciphertext blob and an envelope message made with a fixed RNG, so both
//! builds must produce the same bytes (the RustCrypto build made the
//! constants).

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use strongroom_core::crypto::digest::sha256;

/// A deterministic RNG for reproducible outputs (never for real use).
struct Counter(u64);

impl rand_core::TryRng for Counter {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in d.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Counter {}

fn bytes(rng: &mut Counter, n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand_core::TryRng::try_fill_bytes(rng, &mut v).unwrap();
    v
}

#[test]
fn golden_ciphertext_blob() {
    use strongroom_core::secret::Secret;
    let mut rng = Counter(1);
    let backing = Secret::new(bytes(&mut rng, 32));
    let ctx = strongroom_core::EncryptionContext::from_pairs([("purpose", "golden")]).unwrap();
    let blob =
        strongroom_core::blob::seal(&mut rng, &[7u8; 16], 3, &backing, b"golden plaintext", &ctx)
            .unwrap();
    assert_eq!(
        hex::encode(sha256(&blob)),
        GOLDEN_BLOB_SHA256,
        "{}",
        hex::encode(&blob)
    );
    let opened = strongroom_core::blob::open(&blob, &backing, &ctx).unwrap();
    assert_eq!(opened.expose_secret(), b"golden plaintext");
}

#[test]
fn golden_envelope_message() {
    use strongroom_core::envelope::{
        decrypt, encrypt, AlgorithmSuite, DecryptOptions, EncryptOptions, RawAesKeyring,
    };
    let mut rng = Counter(2);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let ctx = strongroom_core::EncryptionContext::from_pairs([("purpose", "golden")]).unwrap();
    for (suite, len, want) in [
        (
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            32,
            GOLDEN_ENVELOPE_0478_SHA256,
        ),
        (
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            16,
            GOLDEN_ENVELOPE_0478_AES128_SHA256,
        ),
    ] {
        let keyring = RawAesKeyring::new("golden", "key", &bytes(&mut rng, len)).unwrap();
        let options = EncryptOptions {
            suite,
            frame_length: 4096,
            ..EncryptOptions::default()
        };
        let message = encrypt(&keyring, &ctx, &data, &options, &mut rng).unwrap();
        assert_eq!(hex::encode(sha256(&message)), want);
        let (plain, _) = decrypt(&keyring, &message, DecryptOptions::default(), &mut rng).unwrap();
        assert_eq!(plain, data);
    }
}

const GOLDEN_BLOB_SHA256: &str = "430efe1eb5b94cdac6a32a401641a736da6dba9fb801a9211d214480d2b7e921";
const GOLDEN_ENVELOPE_0478_SHA256: &str =
    "d4e615e916d71227691ce7e2d8a15bbc352e59c489f066e9a834b7100d6bc03c";
const GOLDEN_ENVELOPE_0478_AES128_SHA256: &str =
    "857802a21949fb41d80b1428f203e1d949433824d806ee3e4a93f56045e073d0";

#[cfg(feature = "backend-aws-lc")]
mod cross {
    use super::{bytes, Counter};
    use strongroom_core::crypto::awslc as lc;
    use strongroom_core::crypto::digest::DigestAlgorithm;
    use strongroom_core::crypto::ecdsa::EcCurve;
    use strongroom_core::crypto::mac::HmacHash;
    use strongroom_core::crypto::rsa::{OaepHash, RsaKeySize};
    use strongroom_core::crypto::rsa_wrap::RsaWrapPadding;
    use strongroom_core::crypto::rustcrypto as rc;

    const HASHES: [DigestAlgorithm; 3] = [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ];

    #[test]
    fn aes_gcm_blobs_open_across_backends_and_are_byte_equal() {
        let mut rng = Counter(10);
        for len in [0usize, 1, 15, 16, 17, 32, 100, 4096, 65_537] {
            let key = bytes(&mut rng, 32);
            let nonce: [u8; 12] = bytes(&mut rng, 12).try_into().unwrap();
            let aad = bytes(&mut rng, len % 41);
            let pt = bytes(&mut rng, len);
            let a = rc::aead::aes256_gcm_seal(&key, &nonce, &aad, &pt).unwrap();
            let b = lc::aead::aes256_gcm_seal(&key, &nonce, &aad, &pt).unwrap();
            assert_eq!(a, b);
            assert_eq!(
                lc::aead::aes256_gcm_open(&key, &nonce, &aad, &a).unwrap(),
                pt
            );
            assert_eq!(
                rc::aead::aes256_gcm_open(&key, &nonce, &aad, &b).unwrap(),
                pt
            );
            let mut bad = b.clone();
            bad[0] ^= 1;
            assert!(lc::aead::aes256_gcm_open(&key, &nonce, &aad, &bad).is_err());
            assert!(lc::aead::aes256_gcm_open(&key, &nonce, &aad, &b[..b.len().min(15)]).is_err());
            for klen in [16, 24, 32] {
                let k = &key[..klen];
                let mut x = pt.clone();
                let mut y = pt.clone();
                let ta = rc::aead::aes_gcm_seal_in_place(k, &nonce, &aad, &mut x).unwrap();
                let tb = lc::aead::aes_gcm_seal_in_place(k, &nonce, &aad, &mut y).unwrap();
                assert_eq!((&x, ta), (&y, tb));
                lc::aead::aes_gcm_open_in_place(k, &nonce, &aad, &mut x, &ta).unwrap();
                rc::aead::aes_gcm_open_in_place(k, &nonce, &aad, &mut y, &tb).unwrap();
                assert_eq!((&x, &y), (&pt, &pt));
                let mut bad_tag = ta;
                bad_tag[15] ^= 0x80;
                let mut z = pt.clone();
                lc::aead::aes_gcm_seal_in_place(k, &nonce, &aad, &mut z).unwrap();
                assert!(
                    lc::aead::aes_gcm_open_in_place(k, &nonce, &aad, &mut z, &bad_tag).is_err()
                );
                assert!(
                    z.iter().all(|b| *b == 0),
                    "no unauthenticated plaintext left"
                );
            }
        }
        assert!(lc::aead::aes_gcm_seal_in_place(&[0; 20], &[0; 12], &[], &mut []).is_err());
    }

    #[test]
    fn hkdf_hmac_sha2_are_byte_equal() {
        let mut rng = Counter(11);
        for n in [0usize, 1, 31, 32, 33, 64, 200] {
            let (salt, ikm, info) = (
                bytes(&mut rng, n),
                bytes(&mut rng, n + 1),
                bytes(&mut rng, n / 2),
            );
            for out_len in [1usize, 32, 48, 64, 100] {
                let mut a = vec![0u8; out_len];
                let mut b = vec![0u8; out_len];
                rc::kdf::hkdf_sha256(&salt, &ikm, &info, &mut a).unwrap();
                lc::kdf::hkdf_sha256(&salt, &ikm, &info, &mut b).unwrap();
                assert_eq!(a, b);
                rc::kdf::hkdf_sha384(None, &ikm, &info, &mut a).unwrap();
                lc::kdf::hkdf_sha384(None, &ikm, &info, &mut b).unwrap();
                assert_eq!(a, b);
                rc::kdf::hkdf_sha384(Some(&salt), &ikm, &info, &mut a).unwrap();
                lc::kdf::hkdf_sha384(Some(&salt), &ikm, &info, &mut b).unwrap();
                assert_eq!(a, b);
                rc::kdf::hkdf_sha512(&salt, &ikm, &info, &mut a).unwrap();
                lc::kdf::hkdf_sha512(&salt, &ikm, &info, &mut b).unwrap();
                assert_eq!(a, b);
                rc::kdf::hkdf_sha256_opt_salt(None, &ikm, &info, &mut a).unwrap();
                lc::kdf::hkdf_sha256_opt_salt(None, &ikm, &info, &mut b).unwrap();
                assert_eq!(a, b);
            }
            let mut too_long = vec![0u8; 255 * 32 + 1];
            assert!(lc::kdf::hkdf_sha256(&salt, &ikm, &info, &mut too_long).is_err());
            assert!(rc::kdf::hkdf_sha256(&salt, &ikm, &info, &mut too_long).is_err());
            let parts: [&[u8]; 2] = [&ikm, &info];
            assert_eq!(
                rc::mac::hmac_sha256(&salt, &parts).unwrap(),
                lc::mac::hmac_sha256(&salt, &parts).unwrap()
            );
            // A precomputed key gives the same tag, and stays usable.
            let (rk, lk) = (
                rc::mac::HmacSha256Key::new(&salt),
                lc::mac::HmacSha256Key::new(&salt),
            );
            for _ in 0..2 {
                assert_eq!(rk.tag(&parts), rc::mac::hmac_sha256(&salt, &parts).unwrap());
                assert_eq!(lk.tag(&parts), rk.tag(&parts));
            }
            for h in [
                HmacHash::Sha224,
                HmacHash::Sha256,
                HmacHash::Sha384,
                HmacHash::Sha512,
            ] {
                let t = rc::mac::hmac(h, &salt, &parts).unwrap();
                assert_eq!(t.len(), h.tag_len());
                assert_eq!(t, lc::mac::hmac(h, &salt, &parts).unwrap());
                assert!(lc::mac::hmac_verify(h, &salt, &parts, &t));
                assert!(!lc::mac::hmac_verify(h, &salt, &parts, &t[1..]));
            }
            assert_eq!(rc::digest::sha256(&ikm), lc::digest::sha256(&ikm));
            assert_eq!(rc::digest::sha384(&ikm), lc::digest::sha384(&ikm));
            assert_eq!(rc::digest::sha512(&ikm), lc::digest::sha512(&ikm));
            let mut sa = rc::sha384::Sha384Stream::new();
            let mut sb = lc::sha384::Sha384Stream::new();
            for piece in ikm.chunks(7) {
                sa.update(piece);
                sb.update(piece);
            }
            assert_eq!(sa.finalize(), sb.finalize());
        }
    }

    /// Signs with `signer`'s backend, verifies with both; PKCS#1 v1.5 is
    /// deterministic, so both backends must give the same bytes.
    fn rsa_sign_verify_both_ways(pkcs8: &[u8]) {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let spki_rc = rc::rsa::rsa_public_key_der(pkcs8).unwrap();
        let spki_lc = lc::rsa::rsa_public_key_der(pkcs8).unwrap();
        assert_eq!(spki_rc, spki_lc);
        assert_eq!(
            rc::rsa::rsa_private_key_size(pkcs8).unwrap(),
            lc::rsa::rsa_private_key_size(pkcs8).unwrap()
        );
        assert_eq!(
            rc::rsa::rsa_public_key_size(&spki_rc).unwrap(),
            lc::rsa::rsa_public_key_size(&spki_rc).unwrap()
        );
        for h in HASHES {
            let d = h.digest(b"backend compat");
            let a = rc::rsa::rsa_pss_sign_digest(h, pkcs8, &d, &mut rng).unwrap();
            let b = lc::rsa::rsa_pss_sign_digest(h, pkcs8, &d, &mut rng).unwrap();
            assert!(lc::rsa::rsa_pss_verify_digest(h, &spki_rc, &d, &a));
            assert!(rc::rsa::rsa_pss_verify_digest(h, &spki_rc, &d, &b));
            assert!(!lc::rsa::rsa_pss_verify_digest(h, &spki_rc, &d, &b[1..]));
            let a = rc::rsa::rsa_pkcs1v15_sign_digest(h, pkcs8, &d, &mut rng).unwrap();
            let b = lc::rsa::rsa_pkcs1v15_sign_digest(h, pkcs8, &d, &mut rng).unwrap();
            assert_eq!(a, b);
            assert!(lc::rsa::rsa_pkcs1v15_verify_digest(h, &spki_rc, &d, &a));
            assert!(rc::rsa::rsa_pkcs1v15_verify_digest(h, &spki_rc, &d, &b));
            assert!(lc::rsa::rsa_pkcs1v15_sign_digest(h, pkcs8, &d[1..], &mut rng).is_err());
        }
        for h in [OaepHash::Sha1, OaepHash::Sha256] {
            let pt = b"a 32-byte data key, more or less";
            let a = rc::rsa::rsa_oaep_encrypt(h, &spki_rc, pt, &mut rng).unwrap();
            let b = lc::rsa::rsa_oaep_encrypt(h, &spki_rc, pt, &mut rng).unwrap();
            assert_eq!(
                &*lc::rsa::rsa_oaep_decrypt(h, pkcs8, &a, &mut rng).unwrap(),
                pt
            );
            assert_eq!(
                &*rc::rsa::rsa_oaep_decrypt(h, pkcs8, &b, &mut rng).unwrap(),
                pt
            );
            let mut bad = b.clone();
            bad[5] ^= 1;
            assert_eq!(
                lc::rsa::rsa_oaep_decrypt(h, pkcs8, &bad, &mut rng).unwrap_err(),
                strongroom_core::Error::invalid_ciphertext()
            );
        }
        for p in [
            RsaWrapPadding::OaepSha1,
            RsaWrapPadding::OaepSha256,
            RsaWrapPadding::OaepSha384,
            RsaWrapPadding::OaepSha512,
        ] {
            let pt = [9u8; 32];
            let a = rc::rsa_wrap::rsa_wrap(p, &spki_rc, &pt, &mut rng).unwrap();
            let b = lc::rsa_wrap::rsa_wrap(p, &spki_rc, &pt, &mut rng).unwrap();
            assert_eq!(
                &*lc::rsa_wrap::rsa_unwrap(p, pkcs8, &a, &mut rng).unwrap(),
                &pt
            );
            assert_eq!(
                &*rc::rsa_wrap::rsa_unwrap(p, pkcs8, &b, &mut rng).unwrap(),
                &pt
            );
        }
        assert_eq!(
            rc::rsa_wrap::rsa_wrap_public_key(pkcs8).unwrap(),
            lc::rsa_wrap::rsa_wrap_public_key(pkcs8).unwrap()
        );
        // PKCS#1 v1.5 encryption is not offered by the seam: make one with
        // the `rsa` crate and decrypt it in AWS-LC.
        {
            use rsa::pkcs8::DecodePublicKey;
            let key = rsa::PublicKey::from_public_key_der(&spki_rc).unwrap();
            let ct = key
                .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, b"legacy data key")
                .unwrap();
            let pt =
                lc::rsa_wrap::rsa_unwrap(RsaWrapPadding::Pkcs1v15, pkcs8, &ct, &mut rng).unwrap();
            assert_eq!(&*pt, b"legacy data key");
        }
    }

    #[test]
    fn rsa_keys_signatures_and_ciphertexts_cross_backends() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let from_rc = rc::rsa::rsa_generate(RsaKeySize::Rsa2048, &mut rng).unwrap();
        rsa_sign_verify_both_ways(&from_rc);
        for size in [RsaKeySize::Rsa2048, RsaKeySize::Rsa3072] {
            let from_lc = lc::rsa::rsa_generate(size, &mut rng).unwrap();
            assert_eq!(rc::rsa::rsa_private_key_size(&from_lc).unwrap(), size);
            rsa_sign_verify_both_ways(&from_lc);
        }
    }

    #[test]
    fn ecdsa_keys_and_signatures_cross_backends() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        for curve in EcCurve::ALL {
            for pkcs8 in [
                rc::ecdsa::ecdsa_generate(curve, &mut rng).unwrap(),
                lc::ecdsa::ecdsa_generate(curve, &mut rng).unwrap(),
            ] {
                assert_eq!(rc::ecdsa::ecdsa_private_key_curve(&pkcs8).unwrap(), curve);
                assert_eq!(lc::ecdsa::ecdsa_private_key_curve(&pkcs8).unwrap(), curve);
                let spki = rc::ecdsa::ecdsa_public_key_der(curve, &pkcs8).unwrap();
                assert_eq!(
                    spki,
                    lc::ecdsa::ecdsa_public_key_der(curve, &pkcs8).unwrap()
                );
                assert_eq!(lc::ecdsa::ecdsa_public_key_curve(&spki).unwrap(), curve);
                assert_eq!(rc::ecdsa::ecdsa_public_key_curve(&spki).unwrap(), curve);
                let d = curve.digest().digest(b"backend compat");
                let a = rc::ecdsa::ecdsa_sign_digest(curve, &pkcs8, &d, &mut rng).unwrap();
                let b = lc::ecdsa::ecdsa_sign_digest(curve, &pkcs8, &d, &mut rng).unwrap();
                assert!(lc::ecdsa::ecdsa_verify_digest(curve, &spki, &d, &a));
                assert!(rc::ecdsa::ecdsa_verify_digest(curve, &spki, &d, &b));
                assert!(!lc::ecdsa::ecdsa_verify_digest(curve, &spki, &d[1..], &b));
                let mut bad = b.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(!rc::ecdsa::ecdsa_verify_digest(curve, &spki, &d, &bad));
                assert!(!lc::ecdsa::ecdsa_verify_digest(curve, &spki, &d, &bad));
                if curve == EcCurve::P384 {
                    let c = rc::ecdsa::p384_compressed_public_key(&pkcs8).unwrap();
                    assert_eq!(c, lc::ecdsa::p384_compressed_public_key(&pkcs8).unwrap());
                    assert!(lc::ecdsa::p384_verify_digest_with_compressed_key(
                        &c, &d, &a
                    ));
                    assert!(rc::ecdsa::p384_verify_digest_with_compressed_key(
                        &c, &d, &b
                    ));
                    assert!(!lc::ecdsa::p384_verify_digest_with_compressed_key(
                        &c, &d, &bad
                    ));
                    assert_eq!(
                        lc::ecdsa::p384_public_key_der_from_compressed(&c).unwrap(),
                        spki
                    );
                }
            }
        }
        // A bare SEC 1 point is not an SPKI in either backend.
        let pkcs8 = lc::ecdsa::ecdsa_generate(EcCurve::P256, &mut rng).unwrap();
        let spki = lc::ecdsa::ecdsa_public_key_der(EcCurve::P256, &pkcs8).unwrap();
        let point = &spki[spki.len() - 65..];
        assert!(rc::ecdsa::ecdsa_public_key_curve(point).is_err());
        assert!(lc::ecdsa::ecdsa_public_key_curve(point).is_err());
    }
}
