//! Which key identifiers each operation takes, as in AWS KMS (README, "Key
//! identifiers"): the cryptographic operations, DescribeKey and
//! GetPublicKey take a key ID, key ARN, alias name or alias ARN; every other
//! operation that names a key takes a key ID or key ARN, and an alias there
//! is `NotFoundException` ("Invalid keyId") before anything is looked up.

#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use strongroom::api::*;
use strongroom::core::grant::GrantOperation;
use strongroom::core::key::{
    DataKeyPairSpec, KeySpec, KeyState, KeyUsage, MacAlgorithm, Origin, SigningAlgorithm,
    WrappingAlgorithm, WrappingKeySpec,
};
use strongroom::{ErrorKind, Keystore, Secret};

const REGION: &str = "local-1";
const ACCOUNT: &str = "000000000000";
const BOB: &str = "arn:aws:iam::000000000000:user/bob";

fn alias_arn(name: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:{name}")
}

fn key(ks: &Keystore, spec: KeySpec, usage: KeyUsage, origin: Origin) -> KeyMetadata {
    ks.create_key(&CreateKeyRequest {
        key_spec: Some(spec),
        key_usage: Some(usage),
        origin: Some(origin),
        ..Default::default()
    })
    .unwrap()
    .key_metadata
}

/// An operation that takes a key ID or key ARN only, called on the key
/// `id` names; `Ok` when it succeeded.
type KeyOp = Box<dyn Fn(&Keystore, &str) -> strongroom::Result<()>>;

/// Operations by their KMS name.
type KeyOps = Vec<(&'static str, KeyOp)>;

/// Every key-ID-only operation of the facade, in an order that can run
/// twice on one enabled `AWS_KMS` symmetric key (`ops`) and one `EXTERNAL`
/// symmetric key (`import_ops`) and leaves both as they were.
fn key_id_only_operations() -> (KeyOps, KeyOps) {
    let grant = |ks: &Keystore, id: &str| {
        ks.create_grant(&CreateGrantRequest {
            key_id: id.into(),
            grantee_principal: BOB.into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        })
    };
    let ops: KeyOps = vec![
        (
            "UpdateKeyDescription",
            Box::new(|ks, id| ks.update_key_description(id, "by identifier")),
        ),
        ("DisableKey", Box::new(|ks, id| ks.disable_key(id))),
        ("EnableKey", Box::new(|ks, id| ks.enable_key(id))),
        (
            "EnableKeyRotation",
            Box::new(|ks, id| ks.enable_key_rotation(id, Some(90))),
        ),
        (
            "GetKeyRotationStatus",
            Box::new(|ks, id| {
                let st = ks.get_key_rotation_status(id)?;
                assert!(st.key_rotation_enabled);
                Ok(())
            }),
        ),
        (
            "DisableKeyRotation",
            Box::new(|ks, id| ks.disable_key_rotation(id)),
        ),
        (
            "RotateKeyOnDemand",
            Box::new(|ks, id| ks.rotate_key_on_demand(id).map(|_| ())),
        ),
        (
            "ListKeyRotations",
            Box::new(|ks, id| {
                assert!(!ks.list_key_rotations(id, None, None)?.rotations.is_empty());
                Ok(())
            }),
        ),
        (
            "GetKeyPolicy",
            Box::new(|ks, id| ks.get_key_policy(id, None).map(|_| ())),
        ),
        (
            "PutKeyPolicy",
            Box::new(|ks, id| {
                // The key policy as it is (read by key ID: the alias forms
                // must fail in PutKeyPolicy itself).
                let key_id = ks.describe_key(id)?.key_metadata.key_id;
                let policy = ks.get_key_policy(&key_id, None)?.policy;
                ks.put_key_policy(&PutKeyPolicyRequest {
                    key_id: id.into(),
                    policy,
                    ..Default::default()
                })
            }),
        ),
        (
            "ListKeyPolicies",
            Box::new(|ks, id| ks.list_key_policies(id, None, None).map(|_| ())),
        ),
        (
            "CreateGrant",
            Box::new(move |ks, id| grant(ks, id).map(|_| ())),
        ),
        (
            "ListGrants",
            Box::new(|ks, id| {
                ks.list_grants(&ListGrantsRequest {
                    key_id: id.into(),
                    ..Default::default()
                })
                .map(|_| ())
            }),
        ),
        (
            "RevokeGrant",
            Box::new(move |ks, id| {
                // The grant is made by key ID, so that only RevokeGrant sees the form.
                let key_id = ks.describe_key(id)?.key_metadata.key_id;
                let g = grant(ks, &key_id)?;
                let revoked = ks.revoke_grant(id, &g.grant_id);
                if revoked.is_err() {
                    ks.revoke_grant(&key_id, &g.grant_id)?;
                }
                revoked
            }),
        ),
        (
            "RetireGrant",
            Box::new(move |ks, id| {
                let key_id = ks.describe_key(id)?.key_metadata.key_id;
                let g = grant(ks, &key_id)?;
                let retired = ks.retire_grant(&RetireGrantRequest {
                    key_id: Some(id.into()),
                    grant_id: Some(g.grant_id.clone()),
                    ..Default::default()
                });
                if retired.is_err() {
                    ks.revoke_grant(&key_id, &g.grant_id)?;
                }
                retired
            }),
        ),
        (
            "TagResource",
            Box::new(|ks, id| {
                ks.tag_resource(
                    id,
                    &[Tag {
                        tag_key: "form".into(),
                        tag_value: "v".into(),
                    }],
                )
            }),
        ),
        (
            "ListResourceTags",
            Box::new(|ks, id| ks.list_resource_tags(id, None, None).map(|_| ())),
        ),
        (
            "UntagResource",
            Box::new(|ks, id| ks.untag_resource(id, &["form".into()])),
        ),
        (
            "ListAliases",
            Box::new(|ks, id| {
                let aliases = ks.list_aliases(Some(id), None, None)?.aliases;
                assert_eq!(aliases.len(), 1);
                Ok(())
            }),
        ),
        (
            "ScheduleKeyDeletion",
            Box::new(|ks, id| ks.schedule_key_deletion(id, Some(7)).map(|_| ())),
        ),
        (
            "CancelKeyDeletion",
            Box::new(|ks, id| {
                ks.cancel_key_deletion(id)?;
                // CancelKeyDeletion leaves the key Disabled (by key ID: the
                // alias forms must fail in CancelKeyDeletion itself).
                let key_id = ks.describe_key(id)?.key_metadata.key_id;
                ks.enable_key(&key_id)
            }),
        ),
    ];
    let import_ops: KeyOps = vec![
        (
            "GetParametersForImport",
            Box::new(|ks, id| params(ks, id).map(|_| ())),
        ),
        (
            "ImportKeyMaterial",
            Box::new(|ks, id| {
                let key_id = ks.describe_key(id)?.key_metadata.key_id;
                let p = params(ks, &key_id)?;
                ks.import_key_material(&ImportKeyMaterialRequest {
                    key_id: id.into(),
                    import_token: p.import_token,
                    encrypted_key_material: wrap(
                        WrappingAlgorithm::RsaesOaepSha256,
                        &p.public_key,
                        &[7u8; 32],
                    ),
                    ..Default::default()
                })
            }),
        ),
        (
            "DeleteImportedKeyMaterial",
            Box::new(|ks, id| ks.delete_imported_key_material(id)),
        ),
    ];
    (ops, import_ops)
}

fn params(ks: &Keystore, id: &str) -> strongroom::Result<GetParametersForImportResponse> {
    ks.get_parameters_for_import(&GetParametersForImportRequest {
        key_id: id.into(),
        wrapping_algorithm: Some(WrappingAlgorithm::RsaesOaepSha256),
        wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
    })
}

/// Every operation KMS documents as taking a key ID or key ARN refuses an
/// alias name and an alias ARN with `NotFoundException` and KMS's
/// "Invalid keyId" message, changing nothing, and accepts the key ID and
/// the key ARN.
#[test]
fn key_id_only_operations_refuse_aliases_and_take_key_ids_and_arns() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/app", &k.key_id).unwrap();
    let ext = key(
        &f.ks,
        KeySpec::SymmetricDefault,
        KeyUsage::EncryptDecrypt,
        Origin::External,
    );
    f.ks.create_alias("alias/ext", &ext.key_id).unwrap();
    let (ops, import_ops) = key_id_only_operations();
    assert_eq!(ops.len() + import_ops.len(), 24);

    for (key, alias, ops) in [(&k, "alias/app", &ops), (&ext, "alias/ext", &import_ops)] {
        for form in [alias.to_string(), alias_arn(alias)] {
            for (op, call) in ops.iter() {
                let e = expect_err(call(&f.ks, &form), ErrorKind::NotFoundException);
                assert_eq!(
                    e.message(),
                    format!("Invalid keyId {form} ({op} takes a key ID or key ARN, not an alias)"),
                    "{op}"
                );
            }
        }
        // Nothing changed.
        let m = f.ks.describe_key(&key.key_id).unwrap().key_metadata;
        assert_eq!(m.description, key.description);
        assert_eq!(m.key_state, key.key_state);
        assert!(f
            .ks
            .list_resource_tags(&key.key_id, None, None)
            .unwrap()
            .tags
            .is_empty());
        let grants = f.ks.list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            ..Default::default()
        });
        assert!(grants.unwrap().grants.is_empty());
        if key.key_id == k.key_id {
            assert!(
                !f.ks
                    .get_key_rotation_status(&k.key_id)
                    .unwrap()
                    .key_rotation_enabled
            );
            assert!(f
                .ks
                .list_key_rotations(&k.key_id, None, None)
                .unwrap()
                .rotations
                .is_empty());
        }

        for form in [key.key_id.clone(), key.arn.clone()] {
            for (op, call) in ops.iter() {
                call(&f.ks, &form).unwrap_or_else(|e| panic!("{op} by {form}: {e}"));
            }
        }
    }
    let m = f.ks.describe_key(&k.key_id).unwrap().key_metadata;
    assert_eq!(m.key_state, KeyState::Enabled);
    assert_eq!(m.description, "by identifier");
    assert_eq!(
        f.ks.list_key_rotations(&k.key_id, None, None)
            .unwrap()
            .rotations
            .len(),
        2
    );
    // Both forms imported and then deleted the material.
    let m = f.ks.describe_key(&ext.key_id).unwrap().key_metadata;
    assert_eq!(m.key_state, KeyState::PendingImport);
}

/// ScheduleKeyDeletion and EnableKeyRotation check their ranges
/// (PendingWindowInDays 7–30, RotationPeriodInDays 90–2560) before the key
/// identifier, as KMS validates a request's shape first; by key ID,
/// ScheduleKeyDeletion returns the key ARN and the rotation period is the
/// one given.
#[test]
fn ranges_are_checked_before_the_key_identifier() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/app", &k.key_id).unwrap();
    for form in ["alias/app".to_string(), alias_arn("alias/app")] {
        let e = expect_err(
            f.ks.schedule_key_deletion(&form, Some(3)),
            ErrorKind::ValidationException,
        );
        assert_eq!(e.message(), "PendingWindowInDays must be between 7 and 30");
        let e = expect_err(
            f.ks.enable_key_rotation(&form, Some(3)),
            ErrorKind::ValidationException,
        );
        assert_eq!(
            e.message(),
            "RotationPeriodInDays must be between 90 and 2560"
        );
        expect_err(
            f.ks.schedule_key_deletion(&form, Some(7)),
            ErrorKind::NotFoundException,
        );
        expect_err(
            f.ks.enable_key_rotation(&form, Some(90)),
            ErrorKind::NotFoundException,
        );
    }

    f.ks.enable_key_rotation(&k.key_id, Some(123)).unwrap();
    let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
    assert!(st.key_rotation_enabled);
    assert_eq!(st.rotation_period_in_days, Some(123));
    let s = f.ks.schedule_key_deletion(&k.key_id, Some(7)).unwrap();
    assert_eq!(s.key_id, k.arn);
    assert_eq!(s.pending_window_in_days, 7);
    assert_eq!(s.key_state, KeyState::PendingDeletion);
}

/// CreateAlias and UpdateAlias take a key ID or key ARN as `TargetKeyId`;
/// an alias there is `ValidationException` (their own rule, unchanged).
#[test]
fn alias_targets_are_key_ids_or_arns() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/app", &k.key_id).unwrap();
    f.ks.create_alias("alias/by-arn", &k.arn).unwrap();
    for target in ["alias/app".to_string(), alias_arn("alias/app")] {
        expect_err(
            f.ks.create_alias("alias/by-alias", &target),
            ErrorKind::ValidationException,
        );
        expect_err(
            f.ks.update_alias("alias/by-arn", &target),
            ErrorKind::ValidationException,
        );
    }
    f.ks.update_alias("alias/by-arn", &k.key_id).unwrap();
}

/// The operations that take an alias (asymmetric, HMAC and key agreement
/// ones; the symmetric ones are in `operations.rs`) reach the key by all
/// four forms.
#[test]
fn alias_accepting_asymmetric_operations_take_all_four_forms() {
    let f = fixture();
    let sign = key(
        &f.ks,
        KeySpec::EccNistP256,
        KeyUsage::SignVerify,
        Origin::AwsKms,
    );
    let mac = key(
        &f.ks,
        KeySpec::Hmac256,
        KeyUsage::GenerateVerifyMac,
        Origin::AwsKms,
    );
    let agree = agreement_key(&f.ks, KeySpec::EccNistP256);
    let sym = new_key(&f.ks);
    for (name, m) in [
        ("alias/sign", &sign),
        ("alias/mac", &mac),
        ("alias/agree", &agree),
        ("alias/sym", &sym),
    ] {
        f.ks.create_alias(name, &m.key_id).unwrap();
    }
    let forms = |m: &KeyMetadata, name: &str| {
        [
            m.key_id.clone(),
            m.arn.clone(),
            name.to_string(),
            alias_arn(name),
        ]
    };
    for form in forms(&sign, "alias/sign") {
        assert_eq!(
            f.ks.describe_key(&form).unwrap().key_metadata.key_id,
            sign.key_id
        );
        let public = f.ks.get_public_key(&form).unwrap();
        assert_eq!(public.key_id, sign.arn);
        let s =
            f.ks.sign(&SignRequest {
                key_id: form.clone(),
                message: Secret::from_slice(b"m"),
                signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(s.key_id, sign.arn);
        let v =
            f.ks.verify(&VerifyRequest {
                key_id: form.clone(),
                message: Secret::from_slice(b"m"),
                signature: s.signature,
                signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
                ..Default::default()
            })
            .unwrap();
        assert!(v.signature_valid);
    }
    for form in forms(&mac, "alias/mac") {
        let g =
            f.ks.generate_mac(&GenerateMacRequest {
                key_id: form.clone(),
                message: Secret::from_slice(b"m"),
                mac_algorithm: Some(MacAlgorithm::HmacSha256),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(g.key_id, mac.arn);
        let v =
            f.ks.verify_mac(&VerifyMacRequest {
                key_id: form.clone(),
                message: Secret::from_slice(b"m"),
                mac_algorithm: Some(MacAlgorithm::HmacSha256),
                mac: g.mac,
                ..Default::default()
            })
            .unwrap();
        assert!(v.mac_valid);
    }
    let (_, peer) = peer_key(strongroom::core::crypto::EcCurve::P256);
    for form in forms(&agree, "alias/agree") {
        assert_eq!(
            try_derive(&f.ks, &form, &peer, &[]).unwrap().key_id,
            agree.arn
        );
        assert_eq!(f.ks.get_public_key(&form).unwrap().key_id, agree.arn);
    }
    for form in forms(&sym, "alias/sym") {
        let req = GenerateDataKeyPairRequest {
            key_id: form.clone(),
            key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
            ..Default::default()
        };
        assert_eq!(f.ks.generate_data_key_pair(&req).unwrap().key_id, sym.arn);
        let without = f.ks.generate_data_key_pair_without_plaintext(&req).unwrap();
        assert_eq!(without.key_id, sym.arn);
    }
}

/// `kms:RequestAlias` is set only where KMS sets it (the operations that
/// take an alias): a policy allowing an action only for requests naming
/// `alias/app` allows Encrypt and DescribeKey by that alias, and never
/// DeleteAlias (which names the alias, not the key) nor a key-ID-only
/// operation.
#[test]
fn request_alias_is_set_only_for_the_operations_that_take_an_alias() {
    const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";
    const APP: &str = "arn:aws:iam::000000000000:user/app";
    let (_dir, ks) = admin_keystore(ADMIN);
    let k = new_key(&ks);
    ks.create_alias("alias/app", &k.key_id).unwrap();
    let policy = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": APP}, "Resource": "*",
         "Action": ["kms:Encrypt", "kms:DescribeKey", "kms:DeleteAlias", "kms:DisableKey"],
         "Condition": {"StringEquals": {"kms:RequestAlias": "alias/app"}}},
    ]});
    ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: k.key_id.clone(),
        policy: policy.to_string(),
        ..Default::default()
    })
    .unwrap();
    let app = ks.as_principal(APP);
    try_encrypt(&app, "alias/app", b"x").unwrap();
    app.describe_key("alias/app").unwrap();
    expect_err(
        try_encrypt(&app, &k.key_id, b"x"),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        app.delete_alias("alias/app"),
        ErrorKind::AccessDeniedException,
    );
    expect_err(app.disable_key("alias/app"), ErrorKind::NotFoundException);
    expect_err(app.disable_key(&k.key_id), ErrorKind::AccessDeniedException);
    assert_eq!(
        ks.list_aliases(Some(&k.key_id), None, None)
            .unwrap()
            .aliases
            .len(),
        1
    );
}
