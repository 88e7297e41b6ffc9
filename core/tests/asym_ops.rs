//! The asymmetric, HMAC and import operations of `strongroom_core::asym`
//! never panic: arbitrary import tokens, wrapped material, signatures, MACs,
//! ciphertexts and messages give typed errors (or, for a valid request, a
//! result), and none of the errors carries the bytes it was given.

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::sync::OnceLock;

use proptest::prelude::*;
use strongroom_core::api::*;
use strongroom_core::asym;
use strongroom_core::key::*;
use strongroom_core::ops;
use strongroom_core::{ErrorKind, Secret};

#[path = "support/ops_env.rs"]
mod ops_env;
use ops_env::{env, rng};

fn key(spec: KeySpec, usage: KeyUsage, origin: Origin) -> KeyRecord {
    ops_env::create_key(spec, usage, Some(origin)).unwrap()
}

/// One key of each kind for the whole binary (RSA generation is slow).
struct Keys {
    rsa_sign: KeyRecord,
    rsa_enc: KeyRecord,
    p256: KeyRecord,
    hmac: KeyRecord,
    external: KeyRecord,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| Keys {
        rsa_sign: key(KeySpec::Rsa2048, KeyUsage::SignVerify, Origin::AwsKms),
        rsa_enc: key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, Origin::AwsKms),
        p256: key(KeySpec::EccNistP256, KeyUsage::SignVerify, Origin::AwsKms),
        hmac: key(
            KeySpec::Hmac256,
            KeyUsage::GenerateVerifyMac,
            Origin::AwsKms,
        ),
        external: key(
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            Origin::External,
        ),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_inputs_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        msg in proptest::collection::vec(any::<u8>(), 0..80),
        alg in 0usize..9,
        digest in any::<bool>(),
    ) {
        let k = keys();
        let env = env();
        let sa = SigningAlgorithm::ALL[alg];
        let mt = Some(if digest { MessageType::Digest } else { MessageType::Raw });
        for rec in [&k.rsa_sign, &k.p256, &k.hmac] {
            let v = asym::verify(&env, rec, &VerifyRequest {
                key_id: k.external.key_id.clone(),
                message: Secret::from_slice(&msg),
                message_type: mt,
                signature: bytes.clone(),
                signing_algorithm: Some(sa),
                grant_tokens: vec![],
            });
            prop_assert!(v.is_err());
        }
        let m = asym::verify_mac(&env, &k.hmac, &VerifyMacRequest {
            key_id: k.hmac.key_id.clone(),
            message: Secret::from_slice(&msg),
            mac_algorithm: Some(MacAlgorithm::HmacSha256),
            mac: bytes.clone(),
            grant_tokens: vec![],
        });
        prop_assert!(m.is_err());
        let d = asym::decrypt(&env, &mut rng(), &k.rsa_enc, &DecryptRequest {
            ciphertext_blob: bytes.clone(),
            key_id: Some(k.rsa_enc.key_id.clone()),
            encryption_algorithm: Some(EncryptionAlgorithm::RsaesOaepSha256),
            ..Default::default()
        });
        prop_assert_eq!(d.unwrap_err().kind(), ErrorKind::InvalidCiphertextException);
        // Arbitrary token, and a real token with arbitrary wrapped material.
        let mut rec = k.external.clone();
        let e = asym::import_key_material(&env, &mut rng(), &mut rec, &ImportKeyMaterialRequest {
            key_id: k.external.key_id.clone(),
            import_token: bytes.clone(),
            encrypted_key_material: msg.clone(),
            ..Default::default()
        }).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::InvalidImportTokenException);
        prop_assert_eq!(&rec, &k.external);
    }
}

#[test]
fn real_token_with_arbitrary_material_is_a_typed_error() {
    let k = keys();
    let env = env();
    for alg in WrappingAlgorithm::ALL {
        let p = asym::get_parameters_for_import(
            &env,
            &mut rng(),
            &k.external,
            &GetParametersForImportRequest {
                key_id: k.external.key_id.clone(),
                wrapping_algorithm: Some(*alg),
                wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
            },
        )
        .unwrap();
        for len in [0usize, 1, 255, 256, 257, 300, 4096] {
            let mut rec = k.external.clone();
            let e = asym::import_key_material(
                &env,
                &mut rng(),
                &mut rec,
                &ImportKeyMaterialRequest {
                    key_id: k.external.key_id.clone(),
                    import_token: p.import_token.clone(),
                    encrypted_key_material: vec![0xa5; len],
                    ..Default::default()
                },
            )
            .unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::InvalidCiphertextException,
                "{alg} {len}"
            );
            assert_eq!(rec, k.external);
        }
    }
}

/// `ECC_NIST_P521` and `ECC_SECG_P256K1` follow the build: with the curve
/// (AWS-LC, or the default cargo features `curve-p521` / `curve-secp256k1`)
/// keys are created and sign; without it CreateKey (both origins) and
/// GenerateDataKeyPair are `UnsupportedOperationException`, never a panic
/// nor a key without usable material.
#[test]
fn curve_availability_follows_the_build() {
    use strongroom_core::crypto::EcCurve;
    let env = env();
    let sym = key(
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
        Origin::AwsKms,
    );
    for (spec, pair, curve, alg) in [
        (
            KeySpec::EccNistP521,
            DataKeyPairSpec::EccNistP521,
            EcCurve::P521,
            SigningAlgorithm::EcdsaSha512,
        ),
        (
            KeySpec::EccSecgP256k1,
            DataKeyPairSpec::EccSecgP256k1,
            EcCurve::Secp256k1,
            SigningAlgorithm::EcdsaSha256,
        ),
    ] {
        let create = |origin| {
            ops::create_key(
                &env,
                &mut rng(),
                &CreateKeyRequest {
                    key_spec: Some(spec),
                    key_usage: Some(KeyUsage::SignVerify),
                    origin: Some(origin),
                    ..Default::default()
                },
            )
        };
        let pair_req = GenerateDataKeyPairRequest {
            key_id: sym.key_id.clone(),
            key_pair_spec: Some(pair),
            ..Default::default()
        };
        let pair = asym::generate_data_key_pair(&env, &mut rng(), &sym, &pair_req);
        if curve.is_available() {
            let rec = create(Origin::AwsKms).unwrap();
            assert_eq!(
                create(Origin::External).unwrap().state,
                KeyState::PendingImport
            );
            let s = asym::sign(
                &env,
                &mut rng(),
                &rec,
                &SignRequest {
                    key_id: rec.key_id.clone(),
                    message: Secret::from_slice(b"m"),
                    signing_algorithm: Some(alg),
                    ..Default::default()
                },
            )
            .unwrap();
            let v = asym::verify(
                &env,
                &rec,
                &VerifyRequest {
                    key_id: rec.key_id.clone(),
                    message: Secret::from_slice(b"m"),
                    signature: s.signature,
                    signing_algorithm: Some(alg),
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(v.signature_valid);
            assert_eq!(pair.unwrap().key_pair_spec, pair_req.key_pair_spec.unwrap());
        } else {
            for origin in [Origin::AwsKms, Origin::External] {
                assert_eq!(
                    create(origin).unwrap_err().kind(),
                    ErrorKind::UnsupportedOperationException
                );
            }
            assert_eq!(
                pair.unwrap_err().kind(),
                ErrorKind::UnsupportedOperationException
            );
        }
    }
}
