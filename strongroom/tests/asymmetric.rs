//! Asymmetric and HMAC keys, data key pairs and imported key material
//! through the `Keystore`: every operation, every limit at its edge, the
//! import state machine, and that private keys never reach the keystore
//! file, errors or `Debug` output.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use strongroom::api::*;
use strongroom::core::crypto::digest::DigestAlgorithm;
use strongroom::core::crypto::{ecdsa, rsa, EcCurve, HmacHash, RsaKeySize};
use strongroom::core::key::*;
use strongroom::{ErrorKind, Keystore, Secret};

fn create(ks: &Keystore, spec: KeySpec, usage: KeyUsage) -> String {
    new_key_of(ks, spec, usage).key_id
}

fn create_external(ks: &Keystore, spec: KeySpec, usage: KeyUsage) -> String {
    let m = ks
        .create_key(&CreateKeyRequest {
            key_spec: Some(spec),
            key_usage: Some(usage),
            origin: Some(Origin::External),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert_eq!(m.key_state, KeyState::PendingImport);
    m.key_id
}

fn sign_req(key: &str, alg: SigningAlgorithm, msg: &[u8], mt: Option<MessageType>) -> SignRequest {
    SignRequest {
        key_id: key.into(),
        message: Secret::from_slice(msg),
        message_type: mt,
        signing_algorithm: Some(alg),
        grant_tokens: vec![],
    }
}

fn verify_req(
    key: &str,
    alg: SigningAlgorithm,
    msg: &[u8],
    mt: Option<MessageType>,
    sig: &[u8],
) -> VerifyRequest {
    VerifyRequest {
        key_id: key.into(),
        message: Secret::from_slice(msg),
        message_type: mt,
        signature: sig.to_vec(),
        signing_algorithm: Some(alg),
        grant_tokens: vec![],
    }
}

fn hash_of(alg: SigningAlgorithm) -> DigestAlgorithm {
    let s = alg.as_str();
    if s.ends_with("256") {
        DigestAlgorithm::Sha256
    } else if s.ends_with("384") {
        DigestAlgorithm::Sha384
    } else {
        DigestAlgorithm::Sha512
    }
}

fn kind<T: std::fmt::Debug>(r: strongroom::Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

/// Signs and verifies with `alg` on `key`: RAW and DIGEST agree, nothing
/// is hashed twice, every edge of the message length, a flipped bit fails.
fn exercise_signing(ks: &Keystore, key: &str, alg: SigningAlgorithm) {
    let h = hash_of(alg);
    let msg = vec![0x42u8; 4096];
    let raw = ks.sign(&sign_req(key, alg, &msg, None)).unwrap();
    assert_eq!(raw.signing_algorithm, alg);
    // The RAW signature verifies as the DIGEST of the same message.
    let digest = h.digest(&msg);
    ks.verify(&verify_req(
        key,
        alg,
        &digest,
        Some(MessageType::Digest),
        &raw.signature,
    ))
    .unwrap();
    // A DIGEST signature verifies against the RAW message: not hashed twice.
    let dsig = ks
        .sign(&sign_req(key, alg, &digest, Some(MessageType::Digest)))
        .unwrap();
    let v = ks
        .verify(&verify_req(key, alg, &msg, None, &dsig.signature))
        .unwrap();
    assert!(v.signature_valid);
    // ... and signing the digest as RAW is a different (hashed) message.
    let wrong = ks
        .sign(&sign_req(key, alg, &digest, Some(MessageType::Raw)))
        .unwrap();
    assert_eq!(
        kind(ks.verify(&verify_req(key, alg, &msg, None, &wrong.signature))),
        ErrorKind::KMSInvalidSignatureException
    );
    // Edges: RAW 4097 and 0 bytes; DIGEST one byte short or long.
    for m in [vec![0u8; 4097], vec![]] {
        assert_eq!(
            kind(ks.sign(&sign_req(key, alg, &m, None))),
            ErrorKind::ValidationException
        );
    }
    for len in [h.output_len() - 1, h.output_len() + 1] {
        assert_eq!(
            kind(ks.sign(&sign_req(
                key,
                alg,
                &vec![1u8; len],
                Some(MessageType::Digest)
            ))),
            ErrorKind::ValidationException
        );
    }
    let mut bad = raw.signature.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        kind(ks.verify(&verify_req(key, alg, &msg, None, &bad))),
        ErrorKind::KMSInvalidSignatureException
    );
    assert_eq!(
        kind(ks.verify(&verify_req(key, alg, b"other", None, &raw.signature))),
        ErrorKind::KMSInvalidSignatureException
    );
}

#[test]
fn sign_and_verify_every_algorithm_on_rsa_and_ecc() {
    let f = fixture();
    let rsa_key = create(&f.ks, KeySpec::Rsa2048, KeyUsage::SignVerify);
    let p256 = create(&f.ks, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let p384 = create(&f.ks, KeySpec::EccNistP384, KeyUsage::SignVerify);
    let p521 = create(&f.ks, KeySpec::EccNistP521, KeyUsage::SignVerify);
    let k256 = create(&f.ks, KeySpec::EccSecgP256k1, KeyUsage::SignVerify);
    use SigningAlgorithm::*;
    for alg in [
        RsassaPssSha256,
        RsassaPssSha384,
        RsassaPssSha512,
        RsassaPkcs1V15Sha256,
        RsassaPkcs1V15Sha384,
        RsassaPkcs1V15Sha512,
    ] {
        exercise_signing(&f.ks, &rsa_key, alg);
        for ec in [&p256, &p384, &p521, &k256] {
            assert_eq!(
                kind(f.ks.sign(&sign_req(ec, alg, b"m", None))),
                ErrorKind::InvalidKeyUsageException
            );
        }
    }
    exercise_signing(&f.ks, &p256, EcdsaSha256);
    exercise_signing(&f.ks, &p384, EcdsaSha384);
    exercise_signing(&f.ks, &p521, EcdsaSha512);
    exercise_signing(&f.ks, &k256, EcdsaSha256);
    for (key, alg) in [
        (&p256, EcdsaSha384),
        (&p384, EcdsaSha256),
        (&p256, EcdsaSha512),
        (&p384, EcdsaSha512),
        (&p521, EcdsaSha256),
        (&p521, EcdsaSha384),
        (&k256, EcdsaSha384),
        (&k256, EcdsaSha512),
        (&rsa_key, EcdsaSha256),
        (&rsa_key, EcdsaSha512),
    ] {
        assert_eq!(
            kind(f.ks.sign(&sign_req(key, alg, b"m", None))),
            ErrorKind::InvalidKeyUsageException
        );
    }
    // PKCS#1 v1.5 is deterministic, PSS and hedged ECDSA are not.
    let a =
        f.ks.sign(&sign_req(&rsa_key, RsassaPkcs1V15Sha256, b"x", None))
            .unwrap();
    let b =
        f.ks.sign(&sign_req(&rsa_key, RsassaPkcs1V15Sha256, b"x", None))
            .unwrap();
    assert_eq!(a.signature, b.signature);
    assert_eq!(a.signature.len(), 256);
    // GetPublicKey verifies signatures outside Strongroom.
    for (key, spec, curve, alg) in [
        (&p256, KeySpec::EccNistP256, EcCurve::P256, EcdsaSha256),
        (&p384, KeySpec::EccNistP384, EcCurve::P384, EcdsaSha384),
        (&p521, KeySpec::EccNistP521, EcCurve::P521, EcdsaSha512),
        (
            &k256,
            KeySpec::EccSecgP256k1,
            EcCurve::Secp256k1,
            EcdsaSha256,
        ),
    ] {
        let pk = f.ks.get_public_key(key).unwrap();
        assert_eq!(pk.key_spec, spec);
        assert_eq!(pk.signing_algorithms, vec![alg.as_str().to_string()]);
        let md = f.ks.describe_key(key).unwrap().key_metadata;
        assert_eq!(md.signing_algorithms, pk.signing_algorithms);
        assert_eq!(
            ecdsa::ecdsa_public_key_curve(&pk.public_key).unwrap(),
            curve
        );
        let s = f.ks.sign(&sign_req(key, alg, b"hi", None)).unwrap();
        assert!(ecdsa::ecdsa_verify_digest(
            curve,
            &pk.public_key,
            &curve.digest().digest(b"hi"),
            &s.signature
        ));
    }
    // Disabled keys refuse; the wrong usage is InvalidKeyUsageException.
    f.ks.disable_key(&p256).unwrap();
    assert_eq!(
        kind(f.ks.sign(&sign_req(&p256, EcdsaSha256, b"hi", None))),
        ErrorKind::DisabledException
    );
    assert_eq!(
        kind(f.ks.get_public_key(&p256)),
        ErrorKind::DisabledException
    );
    let sym = new_key(&f.ks).key_id;
    assert_eq!(
        kind(f.ks.sign(&sign_req(&sym, EcdsaSha256, b"hi", None))),
        ErrorKind::InvalidKeyUsageException
    );
    assert_eq!(
        kind(f.ks.get_public_key(&sym)),
        ErrorKind::UnsupportedOperationException
    );
}

fn enc(
    ks: &Keystore,
    key: &str,
    alg: Option<EncryptionAlgorithm>,
    pt: &[u8],
) -> strongroom::Result<EncryptResponse> {
    ks.encrypt(&EncryptRequest {
        key_id: key.into(),
        plaintext: Secret::from_slice(pt),
        encryption_algorithm: alg,
        ..Default::default()
    })
}

fn dec(
    ks: &Keystore,
    key: Option<&str>,
    alg: Option<EncryptionAlgorithm>,
    ct: &[u8],
) -> strongroom::Result<DecryptResponse> {
    ks.decrypt(&DecryptRequest {
        key_id: key.map(str::to_string),
        ciphertext_blob: ct.to_vec(),
        encryption_algorithm: alg,
        ..Default::default()
    })
}

/// RSAES-OAEP through Encrypt/Decrypt: the KMS plaintext limits at their
/// edges for each RSA size, and the KMS rules on algorithm and context.
#[test]
fn oaep_encrypt_decrypt_limits_for_every_size() {
    use EncryptionAlgorithm::*;
    let f = fixture();
    for (spec, sha1_max, sha256_max) in [
        (KeySpec::Rsa2048, 214, 190),
        (KeySpec::Rsa3072, 342, 318),
        (KeySpec::Rsa4096, 470, 446),
    ] {
        let key = create(&f.ks, spec, KeyUsage::EncryptDecrypt);
        for (alg, max) in [(RsaesOaepSha1, sha1_max), (RsaesOaepSha256, sha256_max)] {
            let pt = vec![0x7eu8; max];
            let r = enc(&f.ks, &key, Some(alg), &pt).unwrap();
            assert_eq!(r.encryption_algorithm, alg);
            assert_eq!(r.ciphertext_blob.len() * 8, spec_bits(spec));
            let d = dec(&f.ks, Some(&key), Some(alg), &r.ciphertext_blob).unwrap();
            assert_eq!(d.plaintext.expose_secret(), &pt[..]);
            assert_eq!(
                kind(enc(&f.ks, &key, Some(alg), &vec![0u8; max + 1])),
                ErrorKind::ValidationException,
                "{spec} {alg} {}",
                max + 1
            );
            assert_eq!(
                kind(enc(&f.ks, &key, Some(alg), &[])),
                ErrorKind::ValidationException
            );
            // The other OAEP hash does not decrypt it, detail-free.
            let other = if alg == RsaesOaepSha1 {
                RsaesOaepSha256
            } else {
                RsaesOaepSha1
            };
            assert_eq!(
                kind(dec(&f.ks, Some(&key), Some(other), &r.ciphertext_blob)),
                ErrorKind::InvalidCiphertextException
            );
            // Without KeyId it is not a Strongroom blob.
            assert_eq!(
                kind(dec(&f.ks, None, Some(alg), &r.ciphertext_blob)),
                ErrorKind::InvalidCiphertextException
            );
        }
        if spec == KeySpec::Rsa2048 {
            assert_eq!(
                kind(enc(&f.ks, &key, None, b"x")),
                ErrorKind::ValidationException
            );
            assert_eq!(
                kind(enc(&f.ks, &key, Some(SymmetricDefault), b"x")),
                ErrorKind::InvalidKeyUsageException
            );
            let with_ctx = f.ks.encrypt(&EncryptRequest {
                key_id: key.clone(),
                plaintext: Secret::from_slice(b"x"),
                encryption_algorithm: Some(RsaesOaepSha256),
                encryption_context: ctx(&[("a", "b")]),
                ..Default::default()
            });
            assert_eq!(kind(with_ctx), ErrorKind::ValidationException);
            let ct = enc(&f.ks, &key, Some(RsaesOaepSha256), b"x")
                .unwrap()
                .ciphertext_blob;
            let dec_ctx = f.ks.decrypt(&DecryptRequest {
                key_id: Some(key.clone()),
                ciphertext_blob: ct.clone(),
                encryption_algorithm: Some(RsaesOaepSha256),
                encryption_context: ctx(&[("a", "b")]),
                ..Default::default()
            });
            assert_eq!(kind(dec_ctx), ErrorKind::ValidationException);
            assert_eq!(
                kind(dec(&f.ks, Some(&key), None, &ct)),
                ErrorKind::ValidationException
            );
            let mut bad = ct.clone();
            bad[10] ^= 1;
            assert_eq!(
                kind(dec(&f.ks, Some(&key), Some(RsaesOaepSha256), &bad)),
                ErrorKind::InvalidCiphertextException
            );
            // A signing key does not encrypt, an encryption key does not sign.
            let sk = create(&f.ks, KeySpec::Rsa2048, KeyUsage::SignVerify);
            assert_eq!(
                kind(enc(&f.ks, &sk, Some(RsaesOaepSha256), b"x")),
                ErrorKind::InvalidKeyUsageException
            );
            assert_eq!(
                kind(f.ks.sign(&sign_req(
                    &key,
                    SigningAlgorithm::RsassaPssSha256,
                    b"m",
                    None
                ))),
                ErrorKind::InvalidKeyUsageException
            );
            let pk = f.ks.get_public_key(&key).unwrap();
            assert_eq!(pk.encryption_algorithms.len(), 2);
            assert!(pk.signing_algorithms.is_empty());
        }
    }
}

fn spec_bits(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Rsa2048 => 2048,
        KeySpec::Rsa3072 => 3072,
        _ => 4096,
    }
}

/// CreateKey accepts exactly the spec/usage pairs KMS accepts, and
/// asymmetric and HMAC keys do not rotate.
#[test]
fn create_key_spec_usage_pairs_and_no_rotation() {
    let f = fixture();
    let cheap = |s: KeySpec| !matches!(s, KeySpec::Rsa3072 | KeySpec::Rsa4096);
    for &spec in KeySpec::ALL {
        for &usage in KeyUsage::ALL {
            let ok = match spec {
                KeySpec::SymmetricDefault => usage == KeyUsage::EncryptDecrypt,
                KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                    matches!(usage, KeyUsage::EncryptDecrypt | KeyUsage::SignVerify)
                }
                KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => {
                    matches!(usage, KeyUsage::SignVerify | KeyUsage::KeyAgreement)
                }
                KeySpec::EccSecgP256k1 => usage == KeyUsage::SignVerify,
                KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                    usage == KeyUsage::GenerateVerifyMac
                }
                other => panic!("{other} is not covered by this test"),
            };
            // Valid pairs of slow specs are created as EXTERNAL (no keygen).
            let origin = if ok && !cheap(spec) {
                Some(Origin::External)
            } else {
                None
            };
            let r = f.ks.create_key(&CreateKeyRequest {
                key_spec: Some(spec),
                key_usage: Some(usage),
                origin,
                ..Default::default()
            });
            match r {
                Ok(m) => {
                    assert!(ok, "{spec}/{usage} accepted");
                    let m = m.key_metadata;
                    if spec != KeySpec::SymmetricDefault {
                        assert_eq!(
                            kind(f.ks.enable_key_rotation(&m.key_id, None)),
                            ErrorKind::UnsupportedOperationException
                        );
                        assert_eq!(
                            kind(f.ks.rotate_key_on_demand(&m.key_id)),
                            ErrorKind::UnsupportedOperationException
                        );
                    }
                }
                Err(e) => {
                    assert!(!ok, "{spec}/{usage} refused: {e}");
                    assert!(matches!(
                        e.kind(),
                        ErrorKind::ValidationException | ErrorKind::InvalidKeyUsageException
                    ));
                }
            }
        }
    }
}

#[test]
fn generate_and_verify_mac_every_spec() {
    let f = fixture();
    let specs = [
        (KeySpec::Hmac224, MacAlgorithm::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlgorithm::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512, 64),
    ];
    for (spec, alg, len) in specs {
        let key = create(&f.ks, spec, KeyUsage::GenerateVerifyMac);
        let gm = |m: &[u8], a: MacAlgorithm| {
            f.ks.generate_mac(&GenerateMacRequest {
                key_id: key.clone(),
                message: Secret::from_slice(m),
                mac_algorithm: Some(a),
                grant_tokens: vec![],
            })
        };
        let vm = |m: &[u8], tag: &[u8]| {
            f.ks.verify_mac(&VerifyMacRequest {
                key_id: key.clone(),
                message: Secret::from_slice(m),
                mac_algorithm: Some(alg),
                mac: tag.to_vec(),
                grant_tokens: vec![],
            })
        };
        let msg = vec![9u8; 4096];
        let t = gm(&msg, alg).unwrap();
        assert_eq!(t.mac.len(), len);
        assert!(vm(&msg, &t.mac).unwrap().mac_valid);
        assert_eq!(kind(gm(&[0u8; 4097], alg)), ErrorKind::ValidationException);
        assert_eq!(kind(gm(&[], alg)), ErrorKind::ValidationException);
        let mut bad = t.mac.clone();
        bad[0] ^= 0x80;
        assert_eq!(kind(vm(&msg, &bad)), ErrorKind::KMSInvalidMacException);
        assert_eq!(
            kind(vm(&msg, &t.mac[..len - 1])),
            ErrorKind::KMSInvalidMacException
        );
        assert_eq!(
            kind(vm(b"other", &t.mac)),
            ErrorKind::KMSInvalidMacException
        );
        for (_, other, _) in specs.iter().filter(|(s, _, _)| *s != spec) {
            assert_eq!(kind(gm(b"m", *other)), ErrorKind::InvalidKeyUsageException);
        }
    }
    let sym = new_key(&f.ks).key_id;
    assert_eq!(
        kind(f.ks.generate_mac(&GenerateMacRequest {
            key_id: sym,
            message: Secret::from_slice(b"m"),
            mac_algorithm: Some(MacAlgorithm::HmacSha256),
            grant_tokens: vec![],
        })),
        ErrorKind::InvalidKeyUsageException
    );
}

#[test]
fn data_key_pairs_decrypt_to_the_private_key_of_the_public_key() {
    let f = fixture();
    let sym = new_key(&f.ks).key_id;
    let c = ctx(&[("purpose", "test")]);
    for spec in [
        DataKeyPairSpec::EccNistP256,
        DataKeyPairSpec::EccNistP384,
        DataKeyPairSpec::EccNistP521,
        DataKeyPairSpec::EccSecgP256k1,
        DataKeyPairSpec::Rsa2048,
    ] {
        let r =
            f.ks.generate_data_key_pair(&GenerateDataKeyPairRequest {
                key_id: sym.clone(),
                key_pair_spec: Some(spec),
                encryption_context: c.clone(),
                grant_tokens: vec![],
            })
            .unwrap();
        assert_eq!(r.key_pair_spec, spec);
        let dbg = format!("{r:?}");
        assert!(!dbg.contains(&format!("{:?}", r.private_key_plaintext.expose_secret())));
        let d =
            f.ks.decrypt(&DecryptRequest {
                ciphertext_blob: r.private_key_ciphertext_blob.clone(),
                encryption_context: c.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(d.plaintext, r.private_key_plaintext);
        let pk = strongroom::core::asym::public_key_der(
            spec.key_spec(),
            r.private_key_plaintext.expose_secret(),
        )
        .unwrap();
        assert_eq!(pk, r.public_key);
        // Wrong context: detail-free failure.
        assert_eq!(
            kind(f.ks.decrypt(&DecryptRequest {
                ciphertext_blob: r.private_key_ciphertext_blob.clone(),
                ..Default::default()
            })),
            ErrorKind::InvalidCiphertextException
        );
    }
    for (spec, curve) in [
        (DataKeyPairSpec::EccNistP256, EcCurve::P256),
        (DataKeyPairSpec::EccNistP384, EcCurve::P384),
        (DataKeyPairSpec::EccNistP521, EcCurve::P521),
        (DataKeyPairSpec::EccSecgP256k1, EcCurve::Secp256k1),
    ] {
        let w =
            f.ks.generate_data_key_pair_without_plaintext(&GenerateDataKeyPairRequest {
                key_id: sym.clone(),
                key_pair_spec: Some(spec),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(w.key_pair_spec, spec);
        assert_eq!(ecdsa::ecdsa_public_key_curve(&w.public_key).unwrap(), curve);
        let d =
            f.ks.decrypt(&DecryptRequest {
                ciphertext_blob: w.private_key_ciphertext_blob,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            ecdsa::ecdsa_public_key_der(curve, d.plaintext.expose_secret()).unwrap(),
            w.public_key
        );
    }
    let rsa_sign = create(&f.ks, KeySpec::EccNistP256, KeyUsage::SignVerify);
    assert_eq!(
        kind(f.ks.generate_data_key_pair(&GenerateDataKeyPairRequest {
            key_id: rsa_sign,
            key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
            ..Default::default()
        })),
        ErrorKind::InvalidKeyUsageException
    );
    assert_eq!(
        kind(f.ks.generate_data_key_pair(&GenerateDataKeyPairRequest {
            key_id: sym,
            key_pair_spec: None,
            ..Default::default()
        })),
        ErrorKind::ValidationException
    );
}

// ---- import --------------------------------------------------------------------

fn params(ks: &Keystore, key: &str, alg: WrappingAlgorithm) -> GetParametersForImportResponse {
    ks.get_parameters_for_import(&GetParametersForImportRequest {
        key_id: key.into(),
        wrapping_algorithm: Some(alg),
        wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
    })
    .unwrap()
}

fn import(
    ks: &Keystore,
    key: &str,
    alg: WrappingAlgorithm,
    material: &[u8],
    valid_to: Option<u64>,
) -> strongroom::Result<()> {
    let p = params(ks, key, alg);
    ks.import_key_material(&ImportKeyMaterialRequest {
        key_id: key.into(),
        import_token: p.import_token,
        encrypted_key_material: wrap(alg, &p.public_key, material),
        valid_to,
        expiration_model: None,
        import_type: None,
    })
}

/// `ImportType`: `NEW_KEY_MATERIAL` is the first import's (KMS's default
/// when no material was ever imported), refused once material was imported
/// (one key material per key); `EXISTING_KEY_MATERIAL` needs material
/// imported before. A refused request changes nothing.
#[test]
fn import_type_new_only_first_existing_only_after() {
    let f = fixture();
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    let key = create_external(&f.ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let with = |t: ImportType| {
        let p = params(&f.ks, &key, alg);
        f.ks.import_key_material(&ImportKeyMaterialRequest {
            key_id: key.clone(),
            import_token: p.import_token,
            encrypted_key_material: wrap(alg, &p.public_key, &[9u8; 32]),
            import_type: Some(t),
            ..Default::default()
        })
    };
    let state = || f.ks.describe_key(&key).unwrap().key_metadata.key_state;
    assert_eq!(
        kind(with(ImportType::ExistingKeyMaterial)),
        ErrorKind::IncorrectKeyMaterialException
    );
    assert_eq!(state(), KeyState::PendingImport);
    with(ImportType::NewKeyMaterial).unwrap();
    assert_eq!(state(), KeyState::Enabled);
    assert_eq!(
        kind(with(ImportType::NewKeyMaterial)),
        ErrorKind::UnsupportedOperationException
    );
    with(ImportType::ExistingKeyMaterial).unwrap();
    f.ks.delete_imported_key_material(&key).unwrap();
    // Deleted material is still the key's: a new import is a rotation.
    assert_eq!(
        kind(with(ImportType::NewKeyMaterial)),
        ErrorKind::UnsupportedOperationException
    );
    assert_eq!(state(), KeyState::PendingImport);
    with(ImportType::ExistingKeyMaterial).unwrap();
    assert_eq!(state(), KeyState::Enabled);
}

/// `HMAC_224`, `ECC_NIST_P521` and `ECC_SECG_P256K1` material imports:
/// the KMS length range of HMAC_224 (28–64 bytes) at its edges, and a
/// PKCS#8 key only on its own curve.
#[test]
fn hmac_224_p521_and_secp256k1_imports() {
    let f = fixture();
    let mut rng = strongroom::os_rng();
    let oaep = WrappingAlgorithm::RsaesOaepSha256;
    let hk = create_external(&f.ks, KeySpec::Hmac224, KeyUsage::GenerateVerifyMac);
    for len in [27usize, 65] {
        assert_eq!(
            kind(import(&f.ks, &hk, oaep, &vec![7u8; len], None)),
            ErrorKind::ValidationException,
            "{len} bytes"
        );
    }
    for len in [28usize, 64] {
        let k = create_external(&f.ks, KeySpec::Hmac224, KeyUsage::GenerateVerifyMac);
        let material = vec![len as u8; len];
        import(&f.ks, &k, oaep, &material, None).unwrap();
        let mac =
            f.ks.generate_mac(&GenerateMacRequest {
                key_id: k.clone(),
                message: Secret::from_slice(b"m"),
                mac_algorithm: Some(MacAlgorithm::HmacSha224),
                grant_tokens: vec![],
            })
            .unwrap();
        assert_eq!(mac.mac.len(), 28);
        assert_eq!(
            mac.mac,
            strongroom::core::crypto::mac::hmac(HmacHash::Sha224, &material, &[b"m"]).unwrap()
        );
    }

    let p521 = ecdsa::ecdsa_generate(EcCurve::P521, &mut rng)
        .unwrap()
        .to_vec();
    let k1 = ecdsa::ecdsa_generate(EcCurve::Secp256k1, &mut rng)
        .unwrap()
        .to_vec();
    let p256 = ecdsa::ecdsa_generate(EcCurve::P256, &mut rng)
        .unwrap()
        .to_vec();
    for (spec, curve, material, wrong) in [
        (KeySpec::EccNistP521, EcCurve::P521, &p521, &k1),
        (KeySpec::EccSecgP256k1, EcCurve::Secp256k1, &k1, &p256),
    ] {
        let key = create_external(&f.ks, spec, KeyUsage::SignVerify);
        // A key of another curve (secp256k1 vs P-256: same size) is refused.
        assert_eq!(
            kind(import(
                &f.ks,
                &key,
                WrappingAlgorithm::RsaAesKeyWrapSha256,
                wrong,
                None
            )),
            ErrorKind::ValidationException
        );
        import(
            &f.ks,
            &key,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
            material,
            None,
        )
        .unwrap();
        assert_eq!(
            f.ks.get_public_key(&key).unwrap().public_key,
            ecdsa::ecdsa_public_key_der(curve, material).unwrap()
        );
        let alg = if curve == EcCurve::P521 {
            SigningAlgorithm::EcdsaSha512
        } else {
            SigningAlgorithm::EcdsaSha256
        };
        let digest = curve.digest().digest(b"imported");
        let sig = ecdsa::ecdsa_sign_digest(curve, material, &digest, &mut rng).unwrap();
        assert!(
            f.ks.verify(&verify_req(&key, alg, b"imported", None, &sig))
                .unwrap()
                .signature_valid
        );
    }
}

#[test]
fn symmetric_import_with_each_wrapping_algorithm_and_the_state_machine() {
    let f = fixture();
    let material = [0xa5u8; 32];
    for &alg in WrappingAlgorithm::ALL {
        let key = create_external(&f.ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        let p = params(&f.ks, &key, alg);
        assert_eq!(p.parameters_valid_to, T0 + DAY);
        assert_eq!(
            rsa::rsa_public_key_size(&p.public_key).unwrap(),
            RsaKeySize::Rsa2048
        );
        assert_eq!(
            kind(enc(&f.ks, &key, None, b"x")),
            ErrorKind::KMSInvalidStateException
        );
        f.ks.import_key_material(&ImportKeyMaterialRequest {
            key_id: key.clone(),
            import_token: p.import_token.clone(),
            encrypted_key_material: wrap(alg, &p.public_key, &material),
            ..Default::default()
        })
        .unwrap();
        let m = f.ks.describe_key(&key).unwrap().key_metadata;
        assert_eq!(m.key_state, KeyState::Enabled);
        assert_eq!(
            m.expiration_model.as_deref(),
            Some("KEY_MATERIAL_DOES_NOT_EXPIRE")
        );
        let blob = enc(&f.ks, &key, None, b"secret").unwrap().ciphertext_blob;
        assert_eq!(
            dec(&f.ks, None, None, &blob)
                .unwrap()
                .plaintext
                .expose_secret(),
            b"secret"
        );
        // The blob really is under the caller's bytes (docs/FORMAT.md recipe).
        assert_eq!(
            independent_blob_open(&material, &blob, &Default::default()),
            b"secret"
        );
        f.ks.delete_imported_key_material(&key).unwrap();
        assert_eq!(
            f.ks.describe_key(&key).unwrap().key_metadata.key_state,
            KeyState::PendingImport
        );
        assert_eq!(
            kind(dec(&f.ks, None, None, &blob)),
            ErrorKind::KMSInvalidStateException
        );
        // Different material is refused; the same material brings the blob back.
        assert_eq!(
            kind(import(&f.ks, &key, alg, &[0x5au8; 32], None)),
            ErrorKind::IncorrectKeyMaterialException
        );
        import(&f.ks, &key, alg, &material, None).unwrap();
        assert_eq!(
            dec(&f.ks, None, None, &blob)
                .unwrap()
                .plaintext
                .expose_secret(),
            b"secret"
        );
        // Re-import with the same token into an enabled key is fine (same material).
        f.ks.import_key_material(&ImportKeyMaterialRequest {
            key_id: key.clone(),
            import_token: p.import_token,
            encrypted_key_material: wrap(alg, &p.public_key, &material),
            ..Default::default()
        })
        .unwrap();
    }
}

/// The FORMAT.md recipe, in Rust, with the test's known backing key.
fn independent_blob_open(key: &[u8], blob: &[u8], c: &strongroom::EncryptionContext) -> Vec<u8> {
    use strongroom::core::crypto;
    let mut k = [0u8; 32];
    let mut info = b"strongroom/v1/blob".to_vec();
    info.extend_from_slice(&blob[1..21]);
    crypto::hkdf_sha256(&blob[21..37], key, &info, &mut k).unwrap();
    let mut aad = blob[..49].to_vec();
    aad.extend(c.encode().unwrap());
    let nonce: [u8; 12] = blob[37..49].try_into().unwrap();
    crypto::aes256_gcm_open(&k, &nonce, &aad, &blob[49..]).unwrap()
}

#[test]
fn import_token_errors_and_material_validation() {
    let f = fixture();
    let key = create_external(&f.ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let other = create_external(&f.ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let alg = WrappingAlgorithm::RsaesOaepSha256;
    let p = params(&f.ks, &key, alg);
    let req = |token: &[u8], wrapped: Vec<u8>| ImportKeyMaterialRequest {
        key_id: key.clone(),
        import_token: token.to_vec(),
        encrypted_key_material: wrapped,
        ..Default::default()
    };
    // A token of another key, an altered token.
    let po = params(&f.ks, &other, alg);
    assert_eq!(
        kind(f.ks.import_key_material(&req(&po.import_token, wrap(alg, &po.public_key, &[1; 32])))),
        ErrorKind::InvalidImportTokenException
    );
    let mut t = p.import_token.clone();
    t[3] ^= 1;
    assert_eq!(
        kind(f.ks.import_key_material(&req(&t, wrap(alg, &p.public_key, &[1; 32])))),
        ErrorKind::InvalidImportTokenException
    );
    // An empty token breaks KMS's length constraint (1 to 6144 bytes).
    assert_eq!(
        kind(f.ks.import_key_material(&req(&[], wrap(alg, &p.public_key, &[1; 32])))),
        ErrorKind::ValidationException
    );
    // Material wrapped to another public key does not unwrap.
    assert_eq!(
        kind(f.ks.import_key_material(&req(&p.import_token, wrap(alg, &po.public_key, &[1; 32])))),
        ErrorKind::InvalidCiphertextException
    );
    // Wrong length for SYMMETRIC_DEFAULT.
    for len in [31, 33] {
        assert_eq!(
            kind(f.ks.import_key_material(&req(
                &p.import_token,
                wrap(alg, &p.public_key, &vec![1; len])
            ))),
            ErrorKind::ValidationException
        );
    }
    // Expiration parameters.
    let bad_exp = [
        (Some(ExpirationModel::KeyMaterialExpires), None),
        (
            Some(ExpirationModel::KeyMaterialDoesNotExpire),
            Some(T0 + DAY),
        ),
        (None, Some(T0)),
        (None, Some(T0 + 365 * DAY + 1)),
    ];
    for (model, valid_to) in bad_exp {
        let mut r = req(&p.import_token, wrap(alg, &p.public_key, &[1; 32]));
        r.expiration_model = model;
        r.valid_to = valid_to;
        assert_eq!(
            kind(f.ks.import_key_material(&r)),
            ErrorKind::ValidationException
        );
    }
    // 24 hours later the token has expired.
    f.clock.advance(DAY);
    assert_eq!(
        kind(f.ks.import_key_material(&req(&p.import_token, wrap(alg, &p.public_key, &[1; 32])))),
        ErrorKind::ExpiredImportTokenException
    );
    // Keys not EXTERNAL.
    let kms = new_key(&f.ks).key_id;
    assert_eq!(
        kind(
            f.ks.get_parameters_for_import(&GetParametersForImportRequest {
                key_id: kms.clone(),
                wrapping_algorithm: Some(alg),
                wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
            })
        ),
        ErrorKind::UnsupportedOperationException
    );
    assert_eq!(
        kind(f.ks.delete_imported_key_material(&kms)),
        ErrorKind::UnsupportedOperationException
    );
    assert_eq!(
        kind(
            f.ks.get_parameters_for_import(&GetParametersForImportRequest {
                key_id: key.clone(),
                wrapping_algorithm: None,
                wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
            })
        ),
        ErrorKind::ValidationException
    );
}

#[test]
fn imported_material_expires_and_the_key_returns_to_pending_import() {
    let f = fixture();
    let key = create_external(&f.ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let material = [0x11u8; 32];
    import(
        &f.ks,
        &key,
        WrappingAlgorithm::RsaesOaepSha1,
        &material,
        Some(T0 + 10),
    )
    .unwrap();
    let m = f.ks.describe_key(&key).unwrap().key_metadata;
    assert_eq!(m.valid_to, Some(T0 + 10));
    assert_eq!(m.expiration_model.as_deref(), Some("KEY_MATERIAL_EXPIRES"));
    let blob = enc(&f.ks, &key, None, b"x").unwrap().ciphertext_blob;
    f.clock.advance(9);
    dec(&f.ks, None, None, &blob).unwrap();
    f.clock.advance(1);
    // Recorded as AWS KMS's `DeleteExpiredKeyMaterial` service event, once
    // the expiry commits; one that cannot be written is kept and written
    // by the next call, once.
    strongroom::test_hooks::fail_next_service_event();
    let m = f.ks.describe_key(&key).unwrap().key_metadata;
    assert_eq!(m.key_state, KeyState::PendingImport);
    assert_eq!(m.valid_to, Some(T0 + 10));
    let events = key_events(&f.ks, &key, "DeleteExpiredKeyMaterial");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_service_event(&events[0], &key, "2024-01-01T00:00:10");
    assert!(events[0]["responseElements"].is_null());
    assert_eq!(
        events[0]["serviceEventDetails"],
        serde_json::json!({ "keyId": key })
    );
    assert_eq!(
        kind(dec(&f.ks, None, None, &blob)),
        ErrorKind::KMSInvalidStateException
    );
    // Expiry was persisted, not only computed: a reopened keystore agrees.
    let reopened = strongroom::Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    assert_eq!(
        reopened.describe_key(&key).unwrap().key_metadata.key_state,
        KeyState::PendingImport
    );
    assert_eq!(key_events(&f.ks, &key, "DeleteExpiredKeyMaterial").len(), 1);
    import(
        &f.ks,
        &key,
        WrappingAlgorithm::RsaesOaepSha1,
        &material,
        None,
    )
    .unwrap();
    assert_eq!(
        dec(&f.ks, None, None, &blob)
            .unwrap()
            .plaintext
            .expose_secret(),
        b"x"
    );
}

/// HMAC, ECC and RSA material imports where it fits, and none of the
/// private keys ever reaches the keystore file, an error, or Debug output.
#[test]
fn asymmetric_and_hmac_import_and_no_private_key_at_rest() {
    let f = fixture();
    let mut rng = strongroom::os_rng();
    let mut secrets: Vec<Vec<u8>> = Vec::new();

    let hmac_key = [0x3cu8; 48];
    let hk = create_external(&f.ks, KeySpec::Hmac384, KeyUsage::GenerateVerifyMac);
    assert_eq!(
        kind(import(
            &f.ks,
            &hk,
            WrappingAlgorithm::RsaesOaepSha256,
            &[1u8; 47],
            None
        )),
        ErrorKind::ValidationException
    );
    import(
        &f.ks,
        &hk,
        WrappingAlgorithm::RsaesOaepSha256,
        &hmac_key,
        None,
    )
    .unwrap();
    let mac =
        f.ks.generate_mac(&GenerateMacRequest {
            key_id: hk.clone(),
            message: Secret::from_slice(b"m"),
            mac_algorithm: Some(MacAlgorithm::HmacSha384),
            grant_tokens: vec![],
        })
        .unwrap();
    assert_eq!(
        mac.mac,
        strongroom::core::crypto::mac::hmac(DigestAlgorithm::Sha384, &hmac_key, &[b"m"]).unwrap()
    );
    secrets.push(hmac_key.to_vec());

    // P-256 PKCS#8 fits in OAEP-SHA-256 of a 2048-bit wrapping key.
    let ec = ecdsa::ecdsa_generate(EcCurve::P256, &mut rng)
        .unwrap()
        .to_vec();
    let ek = create_external(&f.ks, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let p384 = ecdsa::ecdsa_generate(EcCurve::P384, &mut rng)
        .unwrap()
        .to_vec();
    assert_eq!(
        kind(import(
            &f.ks,
            &ek,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
            &p384,
            None
        )),
        ErrorKind::ValidationException
    );
    import(&f.ks, &ek, WrappingAlgorithm::RsaesOaepSha256, &ec, None).unwrap();
    let digest = DigestAlgorithm::Sha256.digest(b"hello");
    let sig = ecdsa::ecdsa_sign_digest(EcCurve::P256, &ec, &digest, &mut rng).unwrap();
    f.ks.verify(&verify_req(
        &ek,
        SigningAlgorithm::EcdsaSha256,
        b"hello",
        None,
        &sig,
    ))
    .unwrap();
    assert_eq!(
        f.ks.get_public_key(&ek).unwrap().public_key,
        ecdsa::ecdsa_public_key_der(EcCurve::P256, &ec).unwrap()
    );
    secrets.push(ec);

    // RSA PKCS#8 needs RSA_AES_KEY_WRAP.
    let rk_mat = rsa::rsa_generate(RsaKeySize::Rsa2048, &mut rng)
        .unwrap()
        .to_vec();
    let rk = create_external(&f.ks, KeySpec::Rsa2048, KeyUsage::SignVerify);
    import(
        &f.ks,
        &rk,
        WrappingAlgorithm::RsaAesKeyWrapSha1,
        &rk_mat,
        None,
    )
    .unwrap();
    let d = DigestAlgorithm::Sha384.digest(b"hello");
    let sig = rsa::rsa_pss_sign_digest(DigestAlgorithm::Sha384, &rk_mat, &d, &mut rng).unwrap();
    f.ks.verify(&verify_req(
        &rk,
        SigningAlgorithm::RsassaPssSha384,
        b"hello",
        None,
        &sig,
    ))
    .unwrap();
    secrets.push(rk_mat);

    // Generated keys, too.
    let gen = create(&f.ks, KeySpec::EccNistP384, KeyUsage::SignVerify);
    let err =
        f.ks.sign(&sign_req(&gen, SigningAlgorithm::EcdsaSha256, b"x", None))
            .unwrap_err();
    let texts = [
        format!("{err:?} {err}"),
        format!("{:?}", f.ks),
        format!("{:?}", f.ks.describe_key(&rk).unwrap()),
    ];

    drop(f.ks);
    let mut file = std::fs::read(&f.path).unwrap();
    for ext in ["db-wal", "db-shm"] {
        if let Ok(b) = std::fs::read(f.path.with_extension(ext)) {
            file.extend(b);
        }
    }
    for s in &secrets {
        for w in s.windows(16).step_by(8) {
            assert!(
                !file.windows(16).any(|x| x == w),
                "private key bytes found in the keystore file"
            );
            for t in &texts {
                assert!(!t.contains(&format!("{w:?}")));
            }
        }
    }
}

#[test]
fn re_encrypt_between_rsa_and_symmetric_keys() {
    use EncryptionAlgorithm::*;
    let f = fixture();
    let rsa_key = create(&f.ks, KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let sym = new_key(&f.ks).key_id;
    let c = ctx(&[("k", "v")]);
    let blob =
        f.ks.encrypt(&EncryptRequest {
            key_id: sym.clone(),
            plaintext: Secret::from_slice(b"move me"),
            encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob;
    let to_rsa =
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: blob,
            source_encryption_context: c.clone(),
            destination_key_id: rsa_key.clone(),
            destination_encryption_algorithm: Some(RsaesOaepSha1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(to_rsa.destination_encryption_algorithm, RsaesOaepSha1);
    assert_eq!(to_rsa.source_encryption_algorithm, SymmetricDefault);
    let back =
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: to_rsa.ciphertext_blob.clone(),
            source_key_id: Some(rsa_key.clone()),
            source_encryption_algorithm: Some(RsaesOaepSha1),
            destination_key_id: sym.clone(),
            destination_encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap();
    let d =
        f.ks.decrypt(&DecryptRequest {
            ciphertext_blob: back.ciphertext_blob,
            encryption_context: c.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(d.plaintext.expose_secret(), b"move me");
    // A context for the RSA destination is refused, as in KMS.
    let bad = f.ks.re_encrypt(&ReEncryptRequest {
        ciphertext_blob: to_rsa.ciphertext_blob,
        source_key_id: Some(rsa_key.clone()),
        source_encryption_algorithm: Some(RsaesOaepSha1),
        destination_key_id: rsa_key,
        destination_encryption_algorithm: Some(RsaesOaepSha256),
        destination_encryption_context: c,
        ..Default::default()
    });
    assert_eq!(kind(bad), ErrorKind::ValidationException);
}
