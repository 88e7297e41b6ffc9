//! ECDH (DeriveSharedSecret) through Strongroom's primitive seam and the
//! pure operation of `strongroom_core::asym`:
//!
//! - both parties of an exchange derive the same secret, of the field size;
//! - with the `backend-aws-lc` feature, the RustCrypto and AWS-LC backends
//!   derive byte-equal secrets from each other's keys, and refuse the same
//!   malformed peer keys;
//! - peer keys that are not DER SPKI, not EC, on another curve, or not a
//!   valid point are `ValidationException`s, never panics (property test);
//! - the operation's KMS rules: `KEY_AGREEMENT` only with the NIST curves,
//!   `KeyAgreementAlgorithms` in the metadata, usage and state errors.

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::sync::OnceLock;

use proptest::prelude::*;
use strongroom_core::api::*;
use strongroom_core::asym;
use strongroom_core::crypto::{ecdh, ecdsa, rsa, rustcrypto, EcCurve, RsaKeySize};
use strongroom_core::key::*;
use strongroom_core::ops;
use strongroom_core::ErrorKind;

#[path = "support/ops_env.rs"]
mod ops_env;
use ops_env::{env, rng};

const CURVES: [EcCurve; 2] = [EcCurve::P256, EcCurve::P384];

/// A fresh key pair on `curve`: (PKCS#8, SPKI).
fn pair(curve: EcCurve) -> (Vec<u8>, Vec<u8>) {
    let pkcs8 = rustcrypto::ecdsa::ecdsa_generate(curve, &mut rng()).unwrap();
    let spki = ecdsa::ecdsa_public_key_der(curve, &pkcs8).unwrap();
    (pkcs8.to_vec(), spki)
}

fn other(curve: EcCurve) -> EcCurve {
    match curve {
        EcCurve::P256 => EcCurve::P384,
        _ => EcCurve::P256,
    }
}

/// The SPKI of `spki` with its point in compressed form (SEC 1 §2.3.3):
/// the same DER prefix of a named-curve EC key, re-encoded.
fn compressed(curve: EcCurve, spki: &[u8]) -> Vec<u8> {
    let field = ecdh::shared_secret_len(curve).unwrap();
    let point = &spki[spki.len() - (1 + 2 * field)..];
    let y_odd = point[2 * field] & 1;
    let mut c = vec![0x02 | y_odd];
    c.extend_from_slice(&point[1..=field]);
    // AlgorithmIdentifier of the uncompressed SPKI, then a BIT STRING.
    let alg_len = spki[3] as usize;
    let alg = &spki[2..4 + alg_len];
    let mut bits = vec![0x03, (c.len() + 1) as u8, 0x00];
    bits.extend_from_slice(&c);
    let mut out = vec![0x30, (alg.len() + bits.len()) as u8];
    out.extend_from_slice(alg);
    out.extend_from_slice(&bits);
    out
}

fn validation_message(r: strongroom_core::Result<impl std::fmt::Debug>) -> String {
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e:?}");
    e.message().to_string()
}

#[test]
fn both_parties_derive_the_same_field_size_secret() {
    for curve in CURVES {
        let (a, a_pub) = pair(curve);
        let (b, b_pub) = pair(curve);
        let ab = ecdh::ecdh_derive(curve, &a, &b_pub).unwrap();
        let ba = ecdh::ecdh_derive(curve, &b, &a_pub).unwrap();
        assert_eq!(*ab, *ba);
        assert_eq!(ab.len(), ecdh::shared_secret_len(curve).unwrap());
        let (_, c_pub) = pair(curve);
        assert_ne!(*ab, *ecdh::ecdh_derive(curve, &a, &c_pub).unwrap());
        // A compressed peer point names the same point.
        let ab_c = ecdh::ecdh_derive(curve, &a, &compressed(curve, &b_pub)).unwrap();
        assert_eq!(*ab, *ab_c);
    }
}

#[test]
fn malformed_peer_keys_are_validation_errors() {
    for curve in CURVES {
        let (a, a_pub) = pair(curve);
        let (_, foreign) = pair(other(curve));
        let m = validation_message(ecdh::ecdh_derive(curve, &a, &foreign));
        assert!(m.contains("curve"), "{m}");
        let m = validation_message(ecdh::ecdh_derive(curve, &a, b"garbage"));
        assert!(m.contains("SubjectPublicKeyInfo"), "{m}");
        // Trailing bytes after the DER.
        let mut long = a_pub.clone();
        long.push(0);
        validation_message(ecdh::ecdh_derive(curve, &a, &long));
        // A point that is not on the curve: flip a bit of y.
        let mut off = a_pub.clone();
        *off.last_mut().unwrap() ^= 1;
        let m = validation_message(ecdh::ecdh_derive(curve, &a, &off));
        assert!(m.contains("valid point"), "{m}");
        // A bare SEC 1 point is not an SPKI.
        let field = ecdh::shared_secret_len(curve).unwrap();
        let bare = &a_pub[a_pub.len() - (1 + 2 * field)..];
        validation_message(ecdh::ecdh_derive(curve, &a, bare));
    }
    let rsa_key = rsa::rsa_generate(RsaKeySize::Rsa2048, &mut rng()).unwrap();
    let rsa_pub = rsa::rsa_public_key_der(&rsa_key).unwrap();
    let (a, _) = pair(EcCurve::P256);
    let m = validation_message(ecdh::ecdh_derive(EcCurve::P256, &a, &rsa_pub));
    assert!(m.contains("RSA"), "{m}");
}

#[cfg(feature = "backend-aws-lc")]
#[test]
fn rustcrypto_and_aws_lc_derive_the_same_secret() {
    use strongroom_core::crypto::awslc;
    for curve in CURVES {
        let a = rustcrypto::ecdsa::ecdsa_generate(curve, &mut rng()).unwrap();
        let a_pub = rustcrypto::ecdsa::ecdsa_public_key_der(curve, &a).unwrap();
        let b = awslc::ecdsa::ecdsa_generate(curve, &mut rng()).unwrap();
        let b_pub = awslc::ecdsa::ecdsa_public_key_der(curve, &b).unwrap();
        let rc = rustcrypto::ecdh::ecdh_derive(curve, &a, &b_pub).unwrap();
        let lc = awslc::ecdh::ecdh_derive(curve, &b, &a_pub).unwrap();
        assert_eq!(*rc, *lc);
        assert_eq!(*rc, *awslc::ecdh::ecdh_derive(curve, &a, &b_pub).unwrap());
        assert_eq!(
            *lc,
            *rustcrypto::ecdh::ecdh_derive(curve, &b, &a_pub).unwrap()
        );
        let b_c = compressed(curve, &b_pub);
        assert_eq!(*rc, *awslc::ecdh::ecdh_derive(curve, &a, &b_c).unwrap());
        // Both refuse the same off-curve point.
        let mut off = b_pub.clone();
        *off.last_mut().unwrap() ^= 1;
        let e1 = rustcrypto::ecdh::ecdh_derive(curve, &a, &off).unwrap_err();
        let e2 = awslc::ecdh::ecdh_derive(curve, &a, &off).unwrap_err();
        assert_eq!(e1.kind(), ErrorKind::ValidationException);
        assert_eq!(e1.message(), e2.message());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes, and a valid SPKI with one byte changed, never
    /// panic and never give a secret unless they are a valid P-256 key.
    #[test]
    fn arbitrary_peer_keys_never_panic(
        junk in proptest::collection::vec(any::<u8>(), 0..200),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        static KEY: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
        let (a, a_pub) = KEY.get_or_init(|| pair(EcCurve::P256));
        if let Err(e) = ecdh::ecdh_derive(EcCurve::P256, a, &junk) {
            prop_assert_eq!(e.kind(), ErrorKind::ValidationException);
        }
        let mut edited = a_pub.clone();
        let i = at.index(edited.len());
        edited[i] = byte;
        match ecdh::ecdh_derive(EcCurve::P256, a, &edited) {
            Ok(z) => prop_assert_eq!(z.len(), 32),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
    }
}

fn key(spec: KeySpec, usage: KeyUsage) -> strongroom_core::Result<KeyRecord> {
    ops_env::create_key(spec, usage, None)
}

fn derive_req(rec: &KeyRecord, public_key: Vec<u8>) -> DeriveSharedSecretRequest {
    DeriveSharedSecretRequest {
        key_id: rec.key_id.clone(),
        key_agreement_algorithm: Some(KeyAgreementAlgorithm::Ecdh),
        public_key,
        ..Default::default()
    }
}

#[test]
fn key_agreement_only_with_the_nist_curves() {
    for &spec in KeySpec::ALL {
        let r = ops::check_spec_usage(spec, KeyUsage::KeyAgreement);
        assert_eq!(
            r.is_ok(),
            asym::key_agreement_curve(spec).is_some(),
            "{spec}"
        );
    }
    assert!(ops::check_spec_usage(KeySpec::EccNistP256, KeyUsage::KeyAgreement).is_ok());
    assert!(ops::check_spec_usage(KeySpec::EccNistP384, KeyUsage::KeyAgreement).is_ok());
    for spec in [
        KeySpec::SymmetricDefault,
        KeySpec::Rsa2048,
        KeySpec::Hmac256,
    ] {
        let e = ops::check_spec_usage(spec, KeyUsage::KeyAgreement).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
    }
}

#[test]
fn derive_shared_secret_operation() {
    for (spec, curve) in [
        (KeySpec::EccNistP256, EcCurve::P256),
        (KeySpec::EccNistP384, EcCurve::P384),
    ] {
        let rec = key(spec, KeyUsage::KeyAgreement).unwrap();
        let meta = ops::describe(&rec);
        assert_eq!(meta.key_agreement_algorithms, vec!["ECDH".to_string()]);
        assert!(meta.signing_algorithms.is_empty() && meta.encryption_algorithms.is_empty());
        let pk = asym::get_public_key(&env(), &rec).unwrap();
        assert_eq!(pk.key_usage, KeyUsage::KeyAgreement);
        assert_eq!(pk.key_agreement_algorithms, vec!["ECDH".to_string()]);

        let (peer, peer_pub) = pair(curve);
        let r = asym::derive_shared_secret(&env(), &rec, &derive_req(&rec, peer_pub)).unwrap();
        assert_eq!(r.key_id, rec.arn);
        assert_eq!(r.key_agreement_algorithm, KeyAgreementAlgorithm::Ecdh);
        assert_eq!(r.key_origin, Origin::AwsKms);
        let z = ecdh::ecdh_derive(curve, &peer, &pk.public_key).unwrap();
        assert_eq!(r.shared_secret.expose_secret(), &z[..]);
        // The secret never shows in Debug.
        assert!(!format!("{r:?}").contains(&format!("{:?}", &z[..4])));

        // Errors, in KMS's order.
        let mut no_alg = derive_req(&rec, pk.public_key.clone());
        no_alg.key_agreement_algorithm = None;
        let e = asym::derive_shared_secret(&env(), &rec, &no_alg).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        let e = asym::derive_shared_secret(&env(), &rec, &derive_req(&rec, vec![])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        let mut with_recipient = derive_req(&rec, pk.public_key.clone());
        with_recipient.recipient = Some(RecipientInfo {
            key_encryption_algorithm: Some("RSAES_OAEP_SHA_256".into()),
            attestation_document: vec![1, 2, 3],
        });
        let e = asym::derive_shared_secret(&env(), &rec, &with_recipient).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedOperationException);
        let (_, foreign) = pair(other(curve));
        let e = asym::derive_shared_secret(&env(), &rec, &derive_req(&rec, foreign)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);

        let mut disabled = rec.clone();
        disabled.state = KeyState::Disabled;
        let e =
            asym::derive_shared_secret(&env(), &disabled, &derive_req(&rec, pk.public_key.clone()))
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DisabledException);
        let mut pending = rec.clone();
        pending.state = KeyState::PendingDeletion;
        let e =
            asym::derive_shared_secret(&env(), &pending, &derive_req(&rec, pk.public_key.clone()))
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInvalidStateException);

        // A KEY_AGREEMENT key signs nothing.
        let e = asym::sign(
            &env(),
            &mut rng(),
            &rec,
            &SignRequest {
                key_id: rec.key_id.clone(),
                message: strongroom_core::Secret::from_slice(b"m"),
                signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidKeyUsageException);
    }
    // A SIGN_VERIFY key derives nothing.
    let signer = key(KeySpec::EccNistP256, KeyUsage::SignVerify).unwrap();
    assert!(ops::describe(&signer).key_agreement_algorithms.is_empty());
    let (_, peer_pub) = pair(EcCurve::P256);
    let e =
        asym::derive_shared_secret(&env(), &signer, &derive_req(&signer, peer_pub)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidKeyUsageException);
}
