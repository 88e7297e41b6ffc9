//! The in-memory keystore and the sealed keystore export.
#![allow(clippy::unwrap_used)]

use rand_core::UnwrapErr;
use strongroom_core::api::*;
use strongroom_core::export::SealedExport;
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::{EncryptionContext, ErrorKind, Secret};

type Rng = UnwrapErr<getrandom::SysRng>;

fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

fn root(b: u8) -> RootKey {
    RootKey::from_bytes(&[b; 32]).unwrap()
}

const NOW: u64 = 1_800_000_000;

fn store() -> MemKeystore {
    MemKeystore::new(root(7), "local-1", "000000000000", NOW, &mut rng()).unwrap()
}

fn new_key(ks: &mut MemKeystore) -> String {
    ks.create_key(&mut rng(), NOW, &CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
}

fn encrypt(ks: &mut MemKeystore, key: &str, pt: &[u8], ctx: &EncryptionContext) -> Vec<u8> {
    ks.encrypt(
        &mut rng(),
        NOW,
        &EncryptRequest {
            key_id: key.into(),
            plaintext: Secret::from_slice(pt),
            encryption_context: ctx.clone(),
            ..Default::default()
        },
    )
    .unwrap()
    .ciphertext_blob
}

fn decrypt(
    ks: &mut MemKeystore,
    blob: &[u8],
    ctx: &EncryptionContext,
) -> strongroom_core::Result<Vec<u8>> {
    ks.decrypt(
        &mut rng(),
        NOW,
        &DecryptRequest {
            ciphertext_blob: blob.to_vec(),
            encryption_context: ctx.clone(),
            ..Default::default()
        },
    )
    .map(|r| r.plaintext.expose_secret().to_vec())
}

/// Bytes that are not a ciphertext blob.
fn not_a_blob() -> Vec<u8> {
    vec![0xEE; 64]
}

#[test]
fn operations_round_trip() {
    let mut ks = store();
    let r = &mut rng();
    let k = new_key(&mut ks);
    let ctx = EncryptionContext::from_pairs([("purpose", "test")]).unwrap();
    let blob = encrypt(&mut ks, &k, b"hello", &ctx);
    assert_eq!(decrypt(&mut ks, &blob, &ctx).unwrap(), b"hello");
    assert_eq!(
        decrypt(&mut ks, &blob, &EncryptionContext::new())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCiphertextException
    );

    ks.create_alias(r, NOW, "alias/app", &k).unwrap();
    let d = ks.describe_key(r, NOW, "alias/app").unwrap();
    assert_eq!(d.key_metadata.key_id, k);
    assert_eq!(
        ks.create_alias(r, NOW, "alias/app", &k).unwrap_err().kind(),
        ErrorKind::AlreadyExistsException
    );
    ks.disable_key(r, NOW, &k).unwrap();
    assert_eq!(
        decrypt(&mut ks, &blob, &ctx).unwrap_err().kind(),
        ErrorKind::DisabledException
    );
    ks.enable_key(r, NOW, &k).unwrap();
    ks.rotate_key_on_demand(r, NOW, &k).unwrap();
    assert_eq!(decrypt(&mut ks, &blob, &ctx).unwrap(), b"hello");
    let rot = ks.list_key_rotations(r, NOW, &k, None, None).unwrap();
    assert_eq!(rot.rotations.len(), 1);

    let k2 = new_key(&mut ks);
    let re = ks
        .re_encrypt(
            r,
            NOW,
            &ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                source_encryption_context: ctx.clone(),
                destination_key_id: k2.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        decrypt(&mut ks, &re.ciphertext_blob, &EncryptionContext::new()).unwrap(),
        b"hello"
    );

    // The destination key is loaded before the blob's key, as natively: a
    // missing destination is reported even for a blob that does not parse.
    let missing_dst = ks
        .re_encrypt(
            r,
            NOW,
            &ReEncryptRequest {
                ciphertext_blob: not_a_blob(),
                destination_key_id: "alias/missing".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(missing_dst.kind(), ErrorKind::NotFoundException);

    let page = ks.list_keys(&mut rng(), NOW, Some(1), None).unwrap();
    assert!(page.truncated);
    let page2 = ks
        .list_keys(&mut rng(), NOW, Some(1), page.next_marker.as_deref())
        .unwrap();
    assert!(!page2.truncated);
    assert_ne!(page.keys[0].key_id, page2.keys[0].key_id);

    ks.schedule_key_deletion(r, NOW, &k, Some(7)).unwrap();
    // After the window the key is purged with its alias.
    let later = NOW + 8 * 86_400;
    assert_eq!(
        ks.describe_key(r, later, &k).unwrap_err().kind(),
        ErrorKind::NotFoundException
    );
    assert!(ks
        .list_aliases(r, later, None, None, None)
        .unwrap()
        .aliases
        .is_empty());
}

#[test]
fn export_import_round_trip() {
    let mut ks = store();
    let k = new_key(&mut ks);
    ks.create_alias(&mut rng(), NOW, "alias/x", &k).unwrap();
    let blob = encrypt(&mut ks, &k, b"secret", &EncryptionContext::new());
    let bytes = ks.export_sealed().unwrap();
    let mut back = MemKeystore::import_sealed(&bytes, root(7)).unwrap();
    assert_eq!(back.keystore_id(), ks.keystore_id());
    assert_eq!(
        decrypt(&mut back, &blob, &EncryptionContext::new()).unwrap(),
        b"secret"
    );
    assert_eq!(back.export_sealed().unwrap(), bytes);
    assert!(!bytes.windows(6).any(|w| w == b"secret"));
}

#[test]
fn export_rejects_every_altered_byte_and_wrong_root() {
    let mut ks = store();
    let k = new_key(&mut ks);
    ks.create_alias(&mut rng(), NOW, "alias/x", &k).unwrap();
    let bytes = ks.export_sealed().unwrap();
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x01;
        assert!(
            MemKeystore::import_sealed(&t, root(7)).is_err(),
            "byte {i} flipped was accepted"
        );
    }
    for n in 0..bytes.len() {
        assert!(MemKeystore::import_sealed(&bytes[..n], root(7)).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(MemKeystore::import_sealed(&longer, root(7)).is_err());
    assert_eq!(
        MemKeystore::import_sealed(&bytes, root(8))
            .unwrap_err()
            .kind(),
        ErrorKind::AccessDeniedException
    );
    assert_eq!(
        MemKeystore::import_sealed(b"not an export at all, nope, nope", root(7))
            .unwrap_err()
            .kind(),
        ErrorKind::ValidationException
    );
}

#[test]
fn export_layout_starts_with_magic_and_version() {
    let ks = store();
    let bytes = ks.export_sealed().unwrap();
    assert_eq!(&bytes[..5], b"SRKX\x03");
    let parsed = SealedExport::decode(&bytes, &root(7)).unwrap();
    assert!(parsed.keys.is_empty() && parsed.grants.is_empty());
    assert_eq!(parsed.keystore_id, ks.keystore_id());
}

fn create(ks: &mut MemKeystore, req: CreateKeyRequest) -> (String, String) {
    let md = ks.create_key(&mut rng(), NOW, &req).unwrap().key_metadata;
    (md.key_id, md.arn)
}

#[test]
fn rsa_encrypt_decrypt_and_re_encrypt_both_ways() {
    use strongroom_core::key::{EncryptionAlgorithm as A, KeySpec, KeyUsage};
    let mut ks = store();
    let r = &mut rng();
    let (rsa, rsa_arn) = create(
        &mut ks,
        CreateKeyRequest {
            key_spec: Some(KeySpec::Rsa2048),
            key_usage: Some(KeyUsage::EncryptDecrypt),
            ..Default::default()
        },
    );
    let sym = new_key(&mut ks);
    let enc = |ks: &mut MemKeystore, alg| {
        ks.encrypt(
            &mut rng(),
            NOW,
            &EncryptRequest {
                key_id: rsa.clone(),
                plaintext: Secret::from_slice(b"oaep"),
                encryption_algorithm: alg,
                ..Default::default()
            },
        )
    };
    let dec = |ks: &mut MemKeystore, blob: &[u8], alg| {
        ks.decrypt(
            &mut rng(),
            NOW,
            &DecryptRequest {
                ciphertext_blob: blob.to_vec(),
                key_id: Some(rsa.clone()),
                encryption_algorithm: alg,
                ..Default::default()
            },
        )
    };
    for alg in [A::RsaesOaepSha1, A::RsaesOaepSha256] {
        let blob = enc(&mut ks, Some(alg)).unwrap().ciphertext_blob;
        assert_eq!(blob.len(), 256);
        let out = dec(&mut ks, &blob, Some(alg)).unwrap();
        assert_eq!(out.plaintext.expose_secret(), b"oaep");
        assert_eq!(out.key_id, rsa_arn);
        assert_eq!(out.encryption_algorithm, alg);
    }
    let blob = enc(&mut ks, Some(A::RsaesOaepSha256))
        .unwrap()
        .ciphertext_blob;
    // The other OAEP hash, no algorithm, a tampered ciphertext.
    assert_eq!(
        dec(&mut ks, &blob, Some(A::RsaesOaepSha1))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCiphertextException
    );
    assert_eq!(
        dec(&mut ks, &blob, None).unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    assert_eq!(
        enc(&mut ks, None).unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    let mut bad = blob.clone();
    bad[10] ^= 1;
    assert_eq!(
        dec(&mut ks, &bad, Some(A::RsaesOaepSha256))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCiphertextException
    );

    // RSA -> symmetric, then symmetric -> RSA.
    let to_sym = ks
        .re_encrypt(
            r,
            NOW,
            &ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                source_key_id: Some(rsa.clone()),
                source_encryption_algorithm: Some(A::RsaesOaepSha256),
                destination_key_id: sym.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(to_sym.source_key_id, rsa_arn);
    assert_eq!(to_sym.source_encryption_algorithm, A::RsaesOaepSha256);
    assert_eq!(to_sym.destination_encryption_algorithm, A::SymmetricDefault);
    assert_eq!(
        decrypt(&mut ks, &to_sym.ciphertext_blob, &EncryptionContext::new()).unwrap(),
        b"oaep"
    );
    let to_rsa = ks
        .re_encrypt(
            r,
            NOW,
            &ReEncryptRequest {
                ciphertext_blob: to_sym.ciphertext_blob,
                destination_key_id: rsa.clone(),
                destination_encryption_algorithm: Some(A::RsaesOaepSha1),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(to_rsa.key_id, rsa_arn);
    assert_eq!(
        dec(&mut ks, &to_rsa.ciphertext_blob, Some(A::RsaesOaepSha1))
            .unwrap()
            .plaintext
            .expose_secret(),
        b"oaep"
    );
    // A symmetric blob with an RSA source algorithm is refused.
    let sym_blob = encrypt(&mut ks, &sym, b"x", &EncryptionContext::new());
    assert_eq!(
        ks.re_encrypt(
            r,
            NOW,
            &ReEncryptRequest {
                ciphertext_blob: sym_blob,
                source_encryption_algorithm: Some(A::RsaesOaepSha1),
                destination_key_id: sym,
                ..Default::default()
            },
        )
        .unwrap_err()
        .kind(),
        ErrorKind::InvalidKeyUsageException
    );
}

#[test]
fn data_key_pairs() {
    use strongroom_core::key::DataKeyPairSpec;
    let mut ks = store();
    let r = &mut rng();
    let k = new_key(&mut ks);
    let ctx = EncryptionContext::from_pairs([("pair", "1")]).unwrap();
    let req = GenerateDataKeyPairRequest {
        key_id: k.clone(),
        key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
        encryption_context: ctx.clone(),
        ..Default::default()
    };
    let p = ks.generate_data_key_pair(r, NOW, &req).unwrap();
    assert_eq!(
        decrypt(&mut ks, &p.private_key_ciphertext_blob, &ctx).unwrap(),
        p.private_key_plaintext.expose_secret()
    );
    assert_eq!(
        strongroom_core::asym::public_key_der(
            DataKeyPairSpec::EccNistP256.key_spec(),
            p.private_key_plaintext.expose_secret()
        )
        .unwrap(),
        p.public_key
    );
    let w = ks
        .generate_data_key_pair_without_plaintext(r, NOW, &req)
        .unwrap();
    assert_eq!(w.key_pair_spec, DataKeyPairSpec::EccNistP256);
    assert!(!decrypt(&mut ks, &w.private_key_ciphertext_blob, &ctx)
        .unwrap()
        .is_empty());
    let no_spec = GenerateDataKeyPairRequest {
        key_pair_spec: None,
        ..req.clone()
    };
    assert_eq!(
        ks.generate_data_key_pair(r, NOW, &no_spec)
            .unwrap_err()
            .kind(),
        ErrorKind::ValidationException
    );
    let missing = GenerateDataKeyPairRequest {
        key_id: "alias/none".into(),
        ..req
    };
    assert_eq!(
        ks.generate_data_key_pair_without_plaintext(r, NOW, &missing)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFoundException
    );
}

#[test]
fn import_key_material_lifecycle() {
    use strongroom_core::crypto::{rsa, OaepHash};
    use strongroom_core::key::WrappingKeySpec;
    use strongroom_core::key::{ExpirationModel, KeyState, Origin, WrappingAlgorithm};
    let mut ks = store();
    let r = &mut rng();
    let (ext, _) = create(
        &mut ks,
        CreateKeyRequest {
            origin: Some(Origin::External),
            ..Default::default()
        },
    );
    let state = |ks: &mut MemKeystore, now| {
        ks.describe_key(&mut rng(), now, &ext)
            .unwrap()
            .key_metadata
            .key_state
    };
    assert_eq!(state(&mut ks, NOW), KeyState::PendingImport);
    let params = ks
        .get_parameters_for_import(
            r,
            NOW,
            &GetParametersForImportRequest {
                key_id: ext.clone(),
                wrapping_algorithm: Some(WrappingAlgorithm::RsaesOaepSha256),
                wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
            },
        )
        .unwrap();
    assert_eq!(params.parameters_valid_to, NOW + 86_400);
    let material = [0x42u8; 32];
    let wrapped =
        rsa::rsa_oaep_encrypt(OaepHash::Sha256, &params.public_key, &material, r).unwrap();
    let import = |ks: &mut MemKeystore, now, valid_to| {
        ks.import_key_material(
            &mut rng(),
            now,
            &ImportKeyMaterialRequest {
                key_id: ext.clone(),
                import_token: params.import_token.clone(),
                encrypted_key_material: wrapped.clone(),
                valid_to,
                expiration_model: valid_to.map(|_| ExpirationModel::KeyMaterialExpires),
                import_type: None,
            },
        )
    };
    // An expired token, then a good import that expires in a day.
    assert_eq!(
        import(&mut ks, NOW + 86_400, None).unwrap_err().kind(),
        ErrorKind::ExpiredImportTokenException
    );
    import(&mut ks, NOW, Some(NOW + 86_400)).unwrap();
    assert_eq!(state(&mut ks, NOW), KeyState::Enabled);
    let blob = encrypt(&mut ks, &ext, b"byok", &EncryptionContext::new());
    assert_eq!(
        decrypt(&mut ks, &blob, &EncryptionContext::new()).unwrap(),
        b"byok"
    );

    ks.delete_imported_key_material(r, NOW, &ext).unwrap();
    assert_eq!(state(&mut ks, NOW), KeyState::PendingImport);
    assert_eq!(
        decrypt(&mut ks, &blob, &EncryptionContext::new())
            .unwrap_err()
            .kind(),
        ErrorKind::KMSInvalidStateException
    );
    // Re-importing the same material brings the old ciphertexts back.
    import(&mut ks, NOW, Some(NOW + 86_400)).unwrap();
    assert_eq!(
        decrypt(&mut ks, &blob, &EncryptionContext::new()).unwrap(),
        b"byok"
    );
    // After ValidTo the material is gone, recorded once as AWS KMS's
    // `DeleteExpiredKeyMaterial` service event, before the access's own.
    assert_eq!(state(&mut ks, NOW + 86_400), KeyState::PendingImport);
    assert_eq!(state(&mut ks, NOW + 86_400), KeyState::PendingImport);
    let expired = service_events(&ks, "DeleteExpiredKeyMaterial");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_service_event(&expired[0], &ext);
    assert_eq!(
        expired[0]["serviceEventDetails"],
        serde_json::json!({ "keyId": ext })
    );
    assert_eq!(expired[0]["eventTime"], "2027-01-16T08:00:00Z");
    let names: Vec<String> = ks.audit_lines()[ks.audit_lines().len() - 3..]
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["eventName"].to_string())
        .collect();
    assert_eq!(
        names,
        [
            "\"DeleteExpiredKeyMaterial\"",
            "\"DescribeKey\"",
            "\"DescribeKey\""
        ]
    );
    ks.verify_audit_log().unwrap();

    // Only EXTERNAL keys import.
    let aws = new_key(&mut ks);
    assert_eq!(
        ks.delete_imported_key_material(r, NOW, &aws)
            .unwrap_err()
            .kind(),
        ErrorKind::UnsupportedOperationException
    );
    assert_eq!(
        ks.get_parameters_for_import(
            r,
            NOW,
            &GetParametersForImportRequest {
                key_id: aws,
                wrapping_algorithm: Some(WrappingAlgorithm::RsaesOaepSha256),
                wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
            },
        )
        .unwrap_err()
        .kind(),
        ErrorKind::UnsupportedOperationException
    );
}

#[test]
fn list_aliases_takes_limit_1_to_100_default_50() {
    let mut ks = store();
    let k = new_key(&mut ks);
    for i in 0..51 {
        ks.create_alias(&mut rng(), NOW, &format!("alias/a{i:02}"), &k)
            .unwrap();
    }
    let page = |ks: &mut MemKeystore, limit| ks.list_aliases(&mut rng(), NOW, None, limit, None);
    assert_eq!(page(&mut ks, None).unwrap().aliases.len(), 50);
    assert_eq!(page(&mut ks, Some(100)).unwrap().aliases.len(), 51);
    for limit in [0, 101, 1000] {
        assert_eq!(
            page(&mut ks, Some(limit)).unwrap_err().kind(),
            ErrorKind::ValidationException
        );
    }
}

/// DeriveSharedSecret in memory: the peer's own ECDH gives the same secret;
/// a principal the key policy does not name is denied.
#[test]
fn derive_shared_secret_in_memory() {
    use strongroom_core::crypto::{ecdh, ecdsa, EcCurve};
    use strongroom_core::key::{KeyAgreementAlgorithm, KeySpec, KeyUsage};
    let mut ks = store();
    let key = ks
        .create_key(
            &mut rng(),
            NOW,
            &CreateKeyRequest {
                key_spec: Some(KeySpec::EccNistP256),
                key_usage: Some(KeyUsage::KeyAgreement),
                ..Default::default()
            },
        )
        .unwrap()
        .key_metadata;
    assert_eq!(key.key_agreement_algorithms, vec!["ECDH".to_string()]);
    let ours = ks.get_public_key(&mut rng(), NOW, &key.key_id).unwrap();
    let peer = ecdsa::ecdsa_generate(EcCurve::P256, &mut rng()).unwrap();
    let req = DeriveSharedSecretRequest {
        key_id: key.key_id.clone(),
        key_agreement_algorithm: Some(KeyAgreementAlgorithm::Ecdh),
        public_key: ecdsa::ecdsa_public_key_der(EcCurve::P256, &peer).unwrap(),
        ..Default::default()
    };
    let r = ks.derive_shared_secret(&mut rng(), NOW, &req).unwrap();
    let theirs = ecdh::ecdh_derive(EcCurve::P256, &peer, &ours.public_key).unwrap();
    assert_eq!(r.shared_secret.expose_secret(), &theirs[..]);
    ks.act_as(Some("arn:aws:iam::999999999999:user/mallory"));
    let e = ks.derive_shared_secret(&mut rng(), NOW, &req).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException);
}

/// KMS's length constraint on CiphertextBlob (1 to 6144 bytes) is a
/// ValidationException, checked before any key is looked up; a blob of a
/// valid length that is not ours stays InvalidCiphertextException.
#[test]
fn ciphertext_blob_length_is_validated() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let ctx = EncryptionContext::default();
    for bad in [Vec::new(), vec![1u8; 6145]] {
        let e = decrypt(&mut ks, &bad, &ctx).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::ValidationException,
            "{} bytes",
            bad.len()
        );
        let e = ks
            .re_encrypt(
                &mut rng(),
                NOW,
                &ReEncryptRequest {
                    ciphertext_blob: bad.clone(),
                    destination_key_id: key.clone(),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::ValidationException,
            "{} bytes",
            bad.len()
        );
    }
    let e = decrypt(&mut ks, &not_a_blob(), &ctx).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
}

/// A purged key's grants go with it (as in KMS and the native keystore):
/// ListRetirableGrants no longer lists them and an export no longer carries
/// them; the other key's grant stays.
#[test]
fn a_purged_key_takes_its_grants() {
    use strongroom_core::grant::GrantOperation;
    const RETIRER: &str = "arn:aws:iam::000000000000:user/retirer";
    let mut ks = store();
    let gone = new_key(&mut ks);
    let kept = new_key(&mut ks);
    for k in [&gone, &kept] {
        ks.create_grant(
            &mut rng(),
            NOW,
            &CreateGrantRequest {
                key_id: k.clone(),
                grantee_principal: "arn:aws:iam::000000000000:user/alice".into(),
                retiring_principal: Some(RETIRER.into()),
                operations: vec![GrantOperation::Encrypt],
                ..Default::default()
            },
        )
        .unwrap();
    }
    ks.schedule_key_deletion(&mut rng(), NOW, &gone, Some(7))
        .unwrap();
    let later = NOW + 8 * 86_400;
    assert_eq!(
        ks.describe_key(&mut rng(), later, &gone)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFoundException
    );
    let listed = ks
        .list_retirable_grants(&mut rng(), later, RETIRER, None, None)
        .unwrap();
    assert_eq!(listed.grants.len(), 1);
    assert!(listed.grants[0].key_id.ends_with(&kept));
    let parsed = SealedExport::parse_unauthenticated(&ks.export_sealed().unwrap()).unwrap();
    assert_eq!(parsed.grants.len(), 1);
    assert!(parsed.grants[0].id.starts_with(&kept));
}

#[test]
fn tag_lengths_are_validation_errors_as_in_kms() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let tag = |k: &str, v: &str| Tag {
        tag_key: k.into(),
        tag_value: v.into(),
    };
    // The Tag shape's length constraints (TagKey 1-128, TagValue 0-256)
    // are ValidationException, even for a key that does not exist.
    for (target, tags) in [
        (key.as_str(), vec![tag("", "v")]),
        (key.as_str(), vec![tag(&"k".repeat(129), "v")]),
        (key.as_str(), vec![tag("k", &"v".repeat(257))]),
        ("alias/none", vec![tag("", "v")]),
    ] {
        let e = ks.tag_resource(&mut rng(), NOW, target, &tags).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{}", e.message());
    }
    for keys in [vec![String::new()], vec!["k".repeat(129)]] {
        let e = ks.untag_resource(&mut rng(), NOW, &key, &keys).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{}", e.message());
    }
    let e = ks
        .tag_resource(&mut rng(), NOW, &key, &[tag("", "v")])
        .unwrap_err();
    assert!(
        e.message().contains("'tags.1.member.tagKey'")
            && e.message().contains("length greater than or equal to 1"),
        "{}",
        e.message()
    );
    // A valid shape that KMS refuses is a TagException.
    let e = ks
        .tag_resource(&mut rng(), NOW, &key, &[tag("aws:x", "v")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TagException);
    // The bounds themselves are accepted.
    ks.tag_resource(
        &mut rng(),
        NOW,
        &key,
        &[tag(&"k".repeat(128), &"v".repeat(256)), tag("e", "")],
    )
    .unwrap();
    ks.untag_resource(&mut rng(), NOW, &key, &["k".repeat(128)])
        .unwrap();
}

/// The audit records named `name`, parsed.
fn service_events(ks: &MemKeystore, name: &str) -> Vec<serde_json::Value> {
    ks.audit_lines()
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["eventName"] == name)
        .collect()
}

/// `r` is a service event (CloudTrail `AwsServiceEvent`, invoked by "AWS
/// Internal", no caller) of the key `key_id`.
fn assert_service_event(r: &serde_json::Value, key_id: &str) {
    assert_eq!(r["eventType"], "AwsServiceEvent");
    assert_eq!(r["userIdentity"]["invokedBy"], "AWS Internal");
    assert_eq!(r["userIdentity"]["accountId"], "000000000000");
    assert!(r["userIdentity"].get("arn").is_none());
    assert!(r.get("requestID").is_none());
    assert_eq!(r["readOnly"], false);
    let arn = r["resources"][0]["ARN"].as_str().unwrap();
    assert!(arn.ends_with(&format!(":key/{key_id}")), "{arn}");
}

/// An automatic rotation when the rotation period elapsed is recorded
/// once, as AWS KMS's `RotateKey` service event (`rotationType`
/// `AUTOMATIC`); an on-demand rotation is not a service event.
#[test]
fn an_automatic_rotation_records_a_rotate_key_service_event() {
    let mut ks = store();
    let (k, other) = (new_key(&mut ks), new_key(&mut ks));
    ks.enable_key_rotation(&mut rng(), NOW, &k, Some(90))
        .unwrap();
    ks.rotate_key_on_demand(&mut rng(), NOW, &other).unwrap();
    assert!(service_events(&ks, "RotateKey").is_empty());
    let due = NOW + 90 * 86_400;
    for _ in 0..2 {
        ks.describe_key(&mut rng(), due, &k).unwrap();
    }
    let rotated = service_events(&ks, "RotateKey");
    assert_eq!(rotated.len(), 1, "{rotated:?}");
    assert_service_event(&rotated[0], &k);
    assert_eq!(rotated[0]["responseElements"], serde_json::Value::Null);
    assert_eq!(
        rotated[0]["serviceEventDetails"],
        serde_json::json!({ "keyId": k, "rotationType": "AUTOMATIC" })
    );
    let list = ks
        .list_key_rotations(&mut rng(), due, &k, None, None)
        .unwrap();
    assert_eq!(list.rotations.len(), 1);
    ks.verify_audit_log().unwrap();
}

/// A tag key given twice in one request is a TagException (as AWS KMS
/// answers), for TagResource and CreateKey alike, and nothing is applied;
/// keys differing in case are distinct.
#[test]
fn duplicate_tag_keys_in_one_request_are_refused() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let tag = |k: &str, v: &str| Tag {
        tag_key: k.into(),
        tag_value: v.into(),
    };
    let twice = vec![tag("team", "a"), tag("x", ""), tag("team", "b")];
    let e = ks.tag_resource(&mut rng(), NOW, &key, &twice).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TagException, "{}", e.message());
    assert!(e.message().contains("duplicate tag keys") && e.message().contains("\"team\""));
    assert!(ks
        .list_resource_tags(&mut rng(), NOW, &key, None, None)
        .unwrap()
        .tags
        .is_empty());
    let e = ks
        .create_key(
            &mut rng(),
            NOW,
            &CreateKeyRequest {
                tags: twice,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TagException, "{}", e.message());
    // Same value twice is still a repeated key.
    let same = [tag("k", "v"), tag("k", "v")];
    let e = ks.tag_resource(&mut rng(), NOW, &key, &same).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TagException);
    // Tag keys are case-sensitive: Team and team are two tags.
    ks.tag_resource(&mut rng(), NOW, &key, &[tag("Team", "a"), tag("team", "b")])
        .unwrap();
}

/// A key purged at the end of its waiting period, when used or by
/// `purge_deleted_keys`: one `DeleteKey` service event per key (CloudTrail
/// `AwsServiceEvent`, invoked by "AWS Internal"), chained into the log.
#[test]
fn a_purge_records_a_delete_key_service_event() {
    let mut ks = store();
    let (lazy, swept, kept) = (new_key(&mut ks), new_key(&mut ks), new_key(&mut ks));
    for k in [&lazy, &swept] {
        ks.schedule_key_deletion(&mut rng(), NOW, k, Some(7))
            .unwrap();
    }
    let later = NOW + 7 * 86_400 + 1;
    let e = ks.describe_key(&mut rng(), later, &lazy).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFoundException);
    assert_eq!(ks.purge_deleted_keys(&mut rng(), later).unwrap(), 1);
    let deleted: Vec<serde_json::Value> = ks
        .audit_lines()
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["eventName"] == "DeleteKey")
        .collect();
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    for (r, k) in deleted.iter().zip([&lazy, &swept]) {
        assert_eq!(r["eventType"], "AwsServiceEvent");
        assert_eq!(r["userIdentity"]["invokedBy"], "AWS Internal");
        assert_eq!(r["userIdentity"]["accountId"], "000000000000");
        assert!(r["userIdentity"].get("arn").is_none());
        let arn = r["resources"][0]["ARN"].as_str().unwrap();
        assert!(arn.ends_with(&format!(":key/{k}")), "{arn}");
        assert_eq!(r["responseElements"]["keyId"], arn);
    }
    assert!(!deleted.iter().any(|r| r.to_string().contains(&kept)));
    ks.verify_audit_log().unwrap();
}

/// UpdateAlias follows KMS: the new key must be the same key *type*
/// (symmetric, asymmetric or HMAC) with the same key usage; the key spec
/// may differ.
#[test]
fn update_alias_compares_key_type_and_usage_not_key_spec() {
    use strongroom_core::key::{KeySpec, KeyUsage};
    let mut ks = store();
    let key = |ks: &mut MemKeystore, spec, usage| {
        create(
            ks,
            CreateKeyRequest {
                key_spec: Some(spec),
                key_usage: Some(usage),
                ..Default::default()
            },
        )
        .0
    };
    let p256_sign = key(&mut ks, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let p384_sign = key(&mut ks, KeySpec::EccNistP384, KeyUsage::SignVerify);
    let p256_agree = key(&mut ks, KeySpec::EccNistP256, KeyUsage::KeyAgreement);
    let hmac256 = key(&mut ks, KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let hmac512 = key(&mut ks, KeySpec::Hmac512, KeyUsage::GenerateVerifyMac);
    let sym = new_key(&mut ks);
    let r = &mut rng();
    let target = |ks: &mut MemKeystore, alias: &str| {
        ks.describe_key(&mut rng(), NOW, alias)
            .unwrap()
            .key_metadata
            .key_id
    };

    // Another spec of the same type and usage: accepted.
    ks.create_alias(r, NOW, "alias/sign", &p256_sign).unwrap();
    ks.update_alias(r, NOW, "alias/sign", &p384_sign).unwrap();
    assert_eq!(target(&mut ks, "alias/sign"), p384_sign);
    ks.create_alias(r, NOW, "alias/mac", &hmac256).unwrap();
    ks.update_alias(r, NOW, "alias/mac", &hmac512).unwrap();
    assert_eq!(target(&mut ks, "alias/mac"), hmac512);

    // Same spec, other usage; or another type: ValidationException, the
    // alias unchanged.
    let refused = |ks: &mut MemKeystore, alias: &str, to: &str| {
        let e = ks.update_alias(&mut rng(), NOW, alias, to).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::ValidationException,
            "{alias} -> {to}: {e}"
        );
    };
    refused(&mut ks, "alias/sign", &p256_agree);
    refused(&mut ks, "alias/mac", &sym);
    assert_eq!(target(&mut ks, "alias/sign"), p384_sign);
    assert_eq!(target(&mut ks, "alias/mac"), hmac512);
    ks.create_alias(r, NOW, "alias/sym", &sym).unwrap();
    refused(&mut ks, "alias/sym", &hmac256);
    refused(&mut ks, "alias/sym", &p256_sign);
    assert_eq!(target(&mut ks, "alias/sym"), sym);
}

/// A key or alias ARN names a key here only in this keystore's partition
/// (`aws`, compared exactly), region and account: any other partition is
/// `NotFoundException`, with the message a wrong region or account gets
/// (review 18, M4: the partition was never compared). The facade's
/// counterpart is `operations::an_arn_of_another_partition_names_no_key`.
#[test]
fn an_arn_of_another_partition_names_no_key() {
    let mut ks = store();
    let k = new_key(&mut ks);
    ks.create_alias(&mut rng(), NOW, "alias/app", &k).unwrap();
    for resource in [format!("key/{k}"), "alias/app".to_owned()] {
        let good = format!("arn:aws:kms:local-1:000000000000:{resource}");
        assert_eq!(
            ks.describe_key(&mut rng(), NOW, &good)
                .unwrap()
                .key_metadata
                .key_id,
            k
        );
        for partition in ["not-a-partition", "aws-cn", "aws-us-gov", "xyz", "", "AWS"] {
            let arn = format!("arn:{partition}:kms:local-1:000000000000:{resource}");
            let msg = format!("{arn} is not found in this keystore");
            let e = ks.describe_key(&mut rng(), NOW, &arn).unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::NotFoundException, &*msg)
            );
            let e = ks
                .encrypt(
                    &mut rng(),
                    NOW,
                    &EncryptRequest {
                        key_id: arn.clone(),
                        plaintext: Secret::from_slice(b"x"),
                        ..Default::default()
                    },
                )
                .unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::NotFoundException, &*msg)
            );
            if resource.starts_with("key/") {
                let e = ks.disable_key(&mut rng(), NOW, &arn).unwrap_err();
                assert_eq!(
                    (e.kind(), e.message()),
                    (ErrorKind::NotFoundException, &*msg)
                );
                let e = ks
                    .create_alias(&mut rng(), NOW, "alias/b", &arn)
                    .unwrap_err();
                assert_eq!(
                    (e.kind(), e.message()),
                    (ErrorKind::NotFoundException, &*msg)
                );
            }
        }
    }
    // Nothing was changed by the refused calls.
    let md = ks.describe_key(&mut rng(), NOW, &k).unwrap().key_metadata;
    assert!(md.enabled);
}
