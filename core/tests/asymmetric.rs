//! Round trips of the asymmetric primitive seam, and cross-checks against the
//! OpenSSL command line (an independent implementation) in both directions.

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use rand_core::UnwrapErr;
use strongroom_core::crypto::digest::{sha256, sha384, DigestAlgorithm};
use strongroom_core::crypto::ecdsa::*;
use strongroom_core::crypto::rsa::*;
use strongroom_core::ErrorKind;

type Rng = UnwrapErr<getrandom::SysRng>;
fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

/// One RSA-2048 key for the whole binary: generation is slow in debug builds.
fn rsa2048() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| {
        rsa_generate(RsaKeySize::Rsa2048, &mut rng())
            .unwrap()
            .to_vec()
    })
}

fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl on PATH");
    out
}

/// Generates a key with `openssl genpkey` and returns it as PKCS#8 DER, also
/// written to `k.der` (genpkey alone writes the traditional format in DER).
fn openssl_pkcs8(dir: &Path, genpkey_opts: &[&str]) -> Vec<u8> {
    let mut args = vec!["genpkey", "-out", "k.pem"];
    args.extend_from_slice(genpkey_opts);
    assert!(openssl(dir, &args).status.success());
    let out = openssl(
        dir,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "k.pem", "-outform", "DER", "-out", "k.der",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    std::fs::read(dir.join("k.der")).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

#[test]
fn rsa_key_shapes_and_sizes() {
    let key = rsa2048();
    assert_eq!(rsa_private_key_size(key).unwrap(), RsaKeySize::Rsa2048);
    let spki = rsa_public_key_der(key).unwrap();
    assert_eq!(rsa_public_key_size(&spki).unwrap(), RsaKeySize::Rsa2048);
    assert_eq!(
        rsa_private_key_size(&spki).unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    assert_eq!(
        rsa_public_key_der(b"not a key").unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    // KMS plaintext limits for every size and hash.
    let limits = [
        (RsaKeySize::Rsa2048, 214, 190),
        (RsaKeySize::Rsa3072, 342, 318),
        (RsaKeySize::Rsa4096, 470, 446),
    ];
    for (size, sha1, sha256) in limits {
        assert_eq!(rsa_oaep_max_plaintext_len(size, OaepHash::Sha1), sha1);
        assert_eq!(rsa_oaep_max_plaintext_len(size, OaepHash::Sha256), sha256);
    }
}

#[test]
fn rsa_signatures_round_trip_and_reject_tampering() {
    let key = rsa2048();
    let spki = rsa_public_key_der(key).unwrap();
    for hash in [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ] {
        let digest = hash.digest(b"message");
        let other = hash.digest(b"other message");
        let pss = rsa_pss_sign_digest(hash, key, &digest, &mut rng()).unwrap();
        let pss2 = rsa_pss_sign_digest(hash, key, &digest, &mut rng()).unwrap();
        assert_ne!(pss, pss2, "PSS salts are random");
        assert_eq!(pss.len(), 256);
        assert!(rsa_pss_verify_digest(hash, &spki, &digest, &pss));
        assert!(!rsa_pss_verify_digest(hash, &spki, &other, &pss));
        assert!(!rsa_pkcs1v15_verify_digest(hash, &spki, &digest, &pss));

        let v15 = rsa_pkcs1v15_sign_digest(hash, key, &digest, &mut rng()).unwrap();
        let v15b = rsa_pkcs1v15_sign_digest(hash, key, &digest, &mut rng()).unwrap();
        assert_eq!(v15, v15b, "PKCS#1 v1.5 is deterministic");
        assert!(rsa_pkcs1v15_verify_digest(hash, &spki, &digest, &v15));
        assert!(!rsa_pkcs1v15_verify_digest(hash, &spki, &other, &v15));
        assert!(!rsa_pss_verify_digest(hash, &spki, &digest, &v15));

        let mut bad = pss.clone();
        bad[100] ^= 1;
        assert!(!rsa_pss_verify_digest(hash, &spki, &digest, &bad));
        assert!(!rsa_pss_verify_digest(hash, &spki, &digest, &pss[1..]));
        assert!(!rsa_pss_verify_digest(hash, b"junk", &digest, &pss));
        // A digest of the wrong length is refused, never re-hashed.
        assert!(!rsa_pss_verify_digest(hash, &spki, b"message", &pss));
        assert_eq!(
            rsa_pss_sign_digest(hash, key, b"message", &mut rng())
                .unwrap_err()
                .kind(),
            ErrorKind::ValidationException
        );
        assert_eq!(
            rsa_pkcs1v15_sign_digest(hash, key, &digest[1..], &mut rng())
                .unwrap_err()
                .kind(),
            ErrorKind::ValidationException
        );
    }
}

#[test]
fn rsa_oaep_round_trip_limits_and_failures() {
    let key = rsa2048();
    let spki = rsa_public_key_der(key).unwrap();
    for hash in [OaepHash::Sha1, OaepHash::Sha256] {
        let max = rsa_oaep_max_plaintext_len(RsaKeySize::Rsa2048, hash);
        let pt = vec![0xa5u8; max];
        let ct = rsa_oaep_encrypt(hash, &spki, &pt, &mut rng()).unwrap();
        assert_eq!(ct.len(), 256);
        assert_eq!(*rsa_oaep_decrypt(hash, key, &ct, &mut rng()).unwrap(), pt);
        assert_eq!(
            rsa_oaep_encrypt(hash, &spki, &vec![0u8; max + 1], &mut rng())
                .unwrap_err()
                .kind(),
            ErrorKind::ValidationException
        );
        assert_eq!(
            rsa_oaep_encrypt(hash, &spki, &[], &mut rng())
                .unwrap_err()
                .kind(),
            ErrorKind::ValidationException
        );
        let mut bad = ct.clone();
        bad[10] ^= 1;
        let wrong_hash = match hash {
            OaepHash::Sha1 => OaepHash::Sha256,
            OaepHash::Sha256 => OaepHash::Sha1,
        };
        for r in [
            rsa_oaep_decrypt(hash, key, &bad, &mut rng()),
            rsa_oaep_decrypt(hash, key, &ct[1..], &mut rng()),
            rsa_oaep_decrypt(hash, key, &[], &mut rng()),
            rsa_oaep_decrypt(wrong_hash, key, &ct, &mut rng()),
        ] {
            assert_eq!(r.unwrap_err(), strongroom_core::Error::invalid_ciphertext());
        }
    }
}

#[test]
fn rsa_3072_generation() {
    let key = rsa_generate(RsaKeySize::Rsa3072, &mut rng()).unwrap();
    let spki = rsa_public_key_der(&key).unwrap();
    assert_eq!(rsa_public_key_size(&spki).unwrap(), RsaKeySize::Rsa3072);
    let pt = vec![1u8; 318];
    let ct = rsa_oaep_encrypt(OaepHash::Sha256, &spki, &pt, &mut rng()).unwrap();
    assert_eq!(ct.len(), 384);
    assert_eq!(
        *rsa_oaep_decrypt(OaepHash::Sha256, &key, &ct, &mut rng()).unwrap(),
        pt
    );
}

#[test]
fn rsa_4096_generation() {
    let key = rsa_generate(RsaKeySize::Rsa4096, &mut rng()).unwrap();
    assert_eq!(rsa_private_key_size(&key).unwrap(), RsaKeySize::Rsa4096);
}

#[test]
fn rsa_rejects_other_modulus_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let k = openssl_pkcs8(
        dir.path(),
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    );
    assert_eq!(
        rsa_private_key_size(&k).unwrap_err().kind(),
        ErrorKind::ValidationException
    );
}

/// GenerateDataKeyPair hands out these documents: OpenSSL must read them,
/// find the key consistent, and derive the same public key.
#[test]
fn openssl_accepts_strongroom_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec256 = ecdsa_generate(EcCurve::P256, &mut rng()).unwrap();
    let ec384 = ecdsa_generate(EcCurve::P384, &mut rng()).unwrap();
    let docs = [
        (rsa2048().to_vec(), rsa_public_key_der(rsa2048()).unwrap()),
        (
            ec256.to_vec(),
            ecdsa_public_key_der(EcCurve::P256, &ec256).unwrap(),
        ),
        (
            ec384.to_vec(),
            ecdsa_public_key_der(EcCurve::P384, &ec384).unwrap(),
        ),
    ];
    for (pkcs8, spki) in docs {
        write(d, "k.der", &pkcs8);
        let check = openssl(
            d,
            &["pkey", "-inform", "DER", "-in", "k.der", "-check", "-noout"],
        );
        assert!(check.status.success(), "{check:?}");
        let out = openssl(
            d,
            &[
                "pkey", "-inform", "DER", "-in", "k.der", "-pubout", "-outform", "DER",
            ],
        );
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, spki);
    }
}

#[test]
fn openssl_verifies_strongroom_rsa_signatures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = rsa2048();
    write(d, "pub.der", &rsa_public_key_der(key).unwrap());
    write(d, "msg", b"signed by Strongroom");
    let digest = sha256(b"signed by Strongroom");

    let pss = rsa_pss_sign_digest(DigestAlgorithm::Sha256, key, &digest, &mut rng()).unwrap();
    write(d, "pss.sig", &pss);
    let out = openssl(
        d,
        &[
            "dgst",
            "-sha256",
            "-keyform",
            "DER",
            "-verify",
            "pub.der",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "-signature",
            "pss.sig",
            "msg",
        ],
    );
    assert!(out.status.success(), "{out:?}");

    let v15 = rsa_pkcs1v15_sign_digest(DigestAlgorithm::Sha256, key, &digest, &mut rng()).unwrap();
    write(d, "v15.sig", &v15);
    let out = openssl(
        d,
        &[
            "dgst",
            "-sha256",
            "-keyform",
            "DER",
            "-verify",
            "pub.der",
            "-signature",
            "v15.sig",
            "msg",
        ],
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn strongroom_verifies_and_decrypts_with_openssl_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for bits in ["2048", "3072", "4096"] {
        let pkcs8 = openssl_pkcs8(
            d,
            &[
                "-algorithm",
                "RSA",
                "-pkeyopt",
                &format!("rsa_keygen_bits:{bits}"),
            ],
        );
        let spki = rsa_public_key_der(&pkcs8).unwrap();
        write(d, "pub.der", &spki);
        write(d, "msg", b"signed by OpenSSL");

        // OpenSSL signs (PSS, salt = hash length; and PKCS#1 v1.5), Strongroom verifies.
        let digest = sha384(b"signed by OpenSSL");
        for (name, opts) in [
            (
                "pss",
                &[
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:48",
                ][..],
            ),
            ("v15", &[][..]),
        ] {
            let mut args = vec!["dgst", "-sha384", "-keyform", "DER", "-sign", "k.der"];
            args.extend_from_slice(opts);
            args.extend_from_slice(&["-out", "sig", "msg"]);
            assert!(openssl(d, &args).status.success());
            let sig = std::fs::read(d.join("sig")).unwrap();
            let ok = match name {
                "pss" => rsa_pss_verify_digest(DigestAlgorithm::Sha384, &spki, &digest, &sig),
                _ => rsa_pkcs1v15_verify_digest(DigestAlgorithm::Sha384, &spki, &digest, &sig),
            };
            assert!(ok, "{bits} {name}");
        }

        // OpenSSL encrypts with OAEP, Strongroom decrypts.
        for (md, hash) in [("sha1", OaepHash::Sha1), ("sha256", OaepHash::Sha256)] {
            write(d, "pt", b"a data key from OpenSSL");
            let out = openssl(
                d,
                &[
                    "pkeyutl",
                    "-encrypt",
                    "-pubin",
                    "-keyform",
                    "DER",
                    "-inkey",
                    "pub.der",
                    "-pkeyopt",
                    "rsa_padding_mode:oaep",
                    "-pkeyopt",
                    &format!("rsa_oaep_md:{md}"),
                    "-pkeyopt",
                    &format!("rsa_mgf1_md:{md}"),
                    "-in",
                    "pt",
                    "-out",
                    "ct",
                ],
            );
            assert!(out.status.success(), "{out:?}");
            let ct = std::fs::read(d.join("ct")).unwrap();
            let pt = rsa_oaep_decrypt(hash, &pkcs8, &ct, &mut rng()).unwrap();
            assert_eq!(&pt[..], b"a data key from OpenSSL");
        }

        // Strongroom encrypts, OpenSSL decrypts.
        let ct = rsa_oaep_encrypt(OaepHash::Sha256, &spki, b"to OpenSSL", &mut rng()).unwrap();
        write(d, "ct", &ct);
        let out = openssl(
            d,
            &[
                "pkeyutl",
                "-decrypt",
                "-keyform",
                "DER",
                "-inkey",
                "k.der",
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                "rsa_oaep_md:sha256",
                "-in",
                "ct",
            ],
        );
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, b"to OpenSSL");
    }
}

#[test]
fn ecdsa_round_trip_and_tampering() {
    for (i, curve) in available_curves().enumerate() {
        let key = ecdsa_generate(curve, &mut rng()).unwrap();
        let spki = ecdsa_public_key_der(curve, &key).unwrap();
        let digest = curve.digest().digest(b"m");
        assert_eq!(digest.len(), curve.digest_len());
        let sig = ecdsa_sign_digest(curve, &key, &digest, &mut rng()).unwrap();
        let sig2 = ecdsa_sign_digest(curve, &key, &digest, &mut rng()).unwrap();
        assert_ne!(sig, sig2, "hedged nonces differ");
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        assert!(ecdsa_verify_digest(curve, &spki, &digest, &sig));
        assert!(ecdsa_verify_digest(curve, &spki, &digest, &sig2));
        let mut bad = sig.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(!ecdsa_verify_digest(curve, &spki, &digest, &bad));
        assert!(!ecdsa_verify_digest(curve, &spki, &digest, &sig[..n - 1]));
        assert!(!ecdsa_verify_digest(curve, &spki, &digest[1..], &sig));
        assert!(!ecdsa_verify_digest(curve, b"junk", &digest, &sig));
        // Every other curve refuses this key; the same digest length (P-256
        // and secp256k1) does not make a key of one curve pass for the other.
        for other in available_curves().filter(|&c| c != curve) {
            let d = other.digest().digest(b"m");
            assert!(!ecdsa_verify_digest(other, &spki, &d, &sig));
            assert_eq!(
                ecdsa_public_key_der(other, &key).unwrap_err().kind(),
                ErrorKind::ValidationException
            );
        }
        let others: Vec<EcCurve> = available_curves().collect();
        let other = others[(i + 1) % others.len()];
        assert_eq!(
            ecdsa_public_key_der(other, &key).unwrap_err().kind(),
            ErrorKind::ValidationException
        );
        assert_eq!(
            ecdsa_sign_digest(curve, &key, b"raw message", &mut rng())
                .unwrap_err()
                .kind(),
            ErrorKind::ValidationException
        );
    }
}

/// The curves of this build (all four with the default features).
fn available_curves() -> impl Iterator<Item = EcCurve> {
    EcCurve::ALL.into_iter().filter(|c| c.is_available())
}

/// secp256k1 signatures with a high `s` (as OpenSSL, AWS-LC and KMS may
/// make) verify, although the `k256` crate alone would refuse them.
#[test]
#[cfg(feature = "curve-secp256k1")]
fn secp256k1_high_s_signatures_verify() {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let curve = EcCurve::Secp256k1;
    let key = ecdsa_generate(curve, &mut rng()).unwrap();
    let spki = ecdsa_public_key_der(curve, &key).unwrap();
    let digest = sha256(b"high s");
    let der = ecdsa_sign_digest(curve, &key, &digest, &mut rng()).unwrap();
    let sig = k256::ecdsa::Signature::from_der(&der).unwrap();
    let low = sig.normalize_s();
    let (r, s) = low.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    assert_ne!(high, low);
    for s in [low, high] {
        assert!(ecdsa_verify_digest(
            curve,
            &spki,
            &digest,
            s.to_der().as_bytes()
        ));
    }
    let vk = {
        use k256::pkcs8::DecodePublicKey;
        k256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap()
    };
    assert!(vk.verify_prehash(&digest, &low).is_ok());
    assert!(
        vk.verify_prehash(&digest, &high).is_err(),
        "k256 alone refuses high s"
    );
    let mut tampered = high.to_der().as_bytes().to_vec();
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    assert!(!ecdsa_verify_digest(curve, &spki, &digest, &tampered));
}

#[test]
fn ec_curve_is_recognised_from_key_documents() {
    for curve in available_curves() {
        let key = ecdsa_generate(curve, &mut rng()).unwrap();
        let spki = ecdsa_public_key_der(curve, &key).unwrap();
        assert_eq!(ecdsa_private_key_curve(&key).unwrap(), curve);
        assert_eq!(ecdsa_public_key_curve(&spki).unwrap(), curve);
        assert!(ecdsa_private_key_curve(&spki).is_err());
        assert!(ecdsa_public_key_curve(&key).is_err());
    }
    assert!(ecdsa_private_key_curve(rsa2048()).is_err());
    let rsa_spki = rsa_public_key_der(rsa2048()).unwrap();
    assert!(ecdsa_public_key_curve(&rsa_spki).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// No input panics the seam (security invariant 5): arbitrary bytes as
    /// keys, digests, signatures, ciphertexts and points.
    #[test]
    fn arbitrary_bytes_never_panic(
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        cut in 0usize..600,
    ) {
        let key = rsa2048();
        let spki = rsa_public_key_der(key).unwrap();
        let cut_key = &key[..cut.min(key.len())];
        let _ = rsa_private_key_size(&junk);
        let _ = rsa_private_key_size(cut_key);
        let _ = rsa_public_key_size(&junk);
        let _ = rsa_public_key_der(&junk);
        for hash in [DigestAlgorithm::Sha256, DigestAlgorithm::Sha384, DigestAlgorithm::Sha512] {
            let d = hash.digest(&junk);
            proptest::prop_assert!(!rsa_pss_verify_digest(hash, &spki, &d, &junk));
            proptest::prop_assert!(!rsa_pkcs1v15_verify_digest(hash, &spki, &d, &junk));
            let _ = rsa_pss_verify_digest(hash, &junk, &d, &junk);
            let _ = rsa_pss_sign_digest(hash, &junk, &d, &mut rng());
            let _ = rsa_pkcs1v15_sign_digest(hash, cut_key, &d, &mut rng());
        }
        for hash in [OaepHash::Sha1, OaepHash::Sha256] {
            proptest::prop_assert!(rsa_oaep_decrypt(hash, key, &junk, &mut rng()).is_err());
            let _ = rsa_oaep_encrypt(hash, &junk, &junk, &mut rng());
            let _ = rsa_oaep_encrypt(hash, &spki, &junk, &mut rng());
        }
        let mut ct = junk.clone();
        ct.resize(256, 0x5a);
        proptest::prop_assert!(rsa_oaep_decrypt(OaepHash::Sha256, key, &ct, &mut rng()).is_err());
        for curve in available_curves() {
            let d = vec![7u8; curve.digest_len()];
            let _ = ecdsa_public_key_der(curve, &junk);
            let _ = ecdsa_sign_digest(curve, &junk, &d, &mut rng());
            let _ = ecdsa_verify_digest(curve, &junk, &d, &junk);
        }
        let _ = ecdsa_private_key_curve(&junk);
        let _ = ecdsa_public_key_curve(&junk);
        let _ = p384_public_key_der_from_compressed(&junk);
        let _ = p384_verify_digest_with_compressed_key(&junk, &[0u8; 48], &junk);
        let _ = p384_compressed_public_key(&junk);
        let mut point = junk.clone();
        point.resize(49, 0);
        point[0] = 2 + (cut % 2) as u8;
        let _ = p384_public_key_der_from_compressed(&point);
        for kek in [&junk[..junk.len().min(16)], &[1u8; 16][..], &[1u8; 24][..], &[1u8; 32][..]] {
            let _ = strongroom_core::crypto::keywrap::aes_key_wrap(kek, &junk);
            let _ = strongroom_core::crypto::keywrap::aes_key_wrap_with_padding(kek, &junk);
            proptest::prop_assert!(strongroom_core::crypto::keywrap::aes_key_unwrap(kek, &junk).is_err());
            proptest::prop_assert!(
                strongroom_core::crypto::keywrap::aes_key_unwrap_with_padding(kek, &junk).is_err()
            );
        }
    }
}

#[test]
fn p384_compressed_point_round_trip() {
    let key = ecdsa_generate(EcCurve::P384, &mut rng()).unwrap();
    let point = p384_compressed_public_key(&key).unwrap();
    assert_eq!(point.len(), 49);
    assert!(point[0] == 2 || point[0] == 3);
    assert_eq!(
        p384_public_key_der_from_compressed(&point).unwrap(),
        ecdsa_public_key_der(EcCurve::P384, &key).unwrap()
    );
    let digest = sha384(b"ESDK message");
    let sig = ecdsa_sign_digest(EcCurve::P384, &key, &digest, &mut rng()).unwrap();
    assert!(p384_verify_digest_with_compressed_key(
        &point, &digest, &sig
    ));
    assert!(!p384_verify_digest_with_compressed_key(
        &point,
        &sha384(b"x"),
        &sig
    ));
    let mut flipped = point;
    flipped[0] ^= 1; // the other y: a different public key
    assert!(!p384_verify_digest_with_compressed_key(
        &flipped, &digest, &sig
    ));
    assert!(!p384_verify_digest_with_compressed_key(
        &point[..48],
        &digest,
        &sig
    ));
    let mut uncompressed_prefix = point;
    uncompressed_prefix[0] = 4;
    assert!(p384_public_key_der_from_compressed(&uncompressed_prefix).is_err());
    assert!(p384_public_key_der_from_compressed(&[0u8; 49]).is_err());
}

#[test]
fn p384_compressed_point_matches_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pkcs8 = openssl_pkcs8(
        d,
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    let out = openssl(
        d,
        &[
            "ec",
            "-inform",
            "DER",
            "-in",
            "k.der",
            "-pubout",
            "-conv_form",
            "compressed",
            "-outform",
            "DER",
            "-out",
            "c.der",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let spki = std::fs::read(d.join("c.der")).unwrap();
    // A compressed-point SPKI ends with the 49-byte point.
    let point = p384_compressed_public_key(&pkcs8).unwrap();
    assert_eq!(&spki[spki.len() - 49..], &point[..]);
    // OpenSSL signs; Strongroom verifies with only the compressed point.
    write(d, "msg", b"ESDK footer");
    let sign = openssl(
        d,
        &[
            "dgst", "-sha384", "-keyform", "DER", "-sign", "k.der", "-out", "sig", "msg",
        ],
    );
    assert!(sign.status.success());
    let sig = std::fs::read(d.join("sig")).unwrap();
    assert!(p384_verify_digest_with_compressed_key(
        &point,
        &sha384(b"ESDK footer"),
        &sig
    ));
}

#[test]
fn ecdsa_cross_checks_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (curve, name, oid_name, md) in [
        (EcCurve::P256, "P-256", "prime256v1", "-sha256"),
        (EcCurve::P384, "P-384", "secp384r1", "-sha384"),
        (EcCurve::P521, "P-521", "secp521r1", "-sha512"),
        (EcCurve::Secp256k1, "secp256k1", "secp256k1", "-sha256"),
    ]
    .into_iter()
    .filter(|(c, ..)| c.is_available())
    {
        let msg = b"ECDSA interop";
        let digest = curve.digest().digest(msg);
        write(d, "msg", msg);

        // Strongroom signs, OpenSSL verifies with the SPKI.
        let key = ecdsa_generate(curve, &mut rng()).unwrap();
        write(d, "pub.der", &ecdsa_public_key_der(curve, &key).unwrap());
        // The SPKI names the curve by its OID (RFC 5480 namedCurve).
        let text = openssl(
            d,
            &[
                "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-noout", "-text",
            ],
        );
        assert!(text.status.success(), "{text:?}");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains(&format!("ASN1 OID: {oid_name}")), "{text}");
        write(
            d,
            "sig",
            &ecdsa_sign_digest(curve, &key, &digest, &mut rng()).unwrap(),
        );
        let out = openssl(
            d,
            &[
                "dgst",
                md,
                "-keyform",
                "DER",
                "-verify",
                "pub.der",
                "-signature",
                "sig",
                "msg",
            ],
        );
        assert!(out.status.success(), "{out:?}");

        // OpenSSL generates and signs, Strongroom takes its PKCS#8 and verifies.
        let pkcs8 = openssl_pkcs8(
            d,
            &[
                "-algorithm",
                "EC",
                "-pkeyopt",
                &format!("ec_paramgen_curve:{name}"),
            ],
        );
        let spki = ecdsa_public_key_der(curve, &pkcs8).unwrap();
        assert!(openssl(
            d,
            &["dgst", md, "-keyform", "DER", "-sign", "k.der", "-out", "sig", "msg"]
        )
        .status
        .success());
        let sig = std::fs::read(d.join("sig")).unwrap();
        assert!(ecdsa_verify_digest(curve, &spki, &digest, &sig));
    }
}
