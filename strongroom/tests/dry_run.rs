//! KMS `DryRun`: a dry-run handle runs every check of an operation and then
//! reports `DryRunOperationException` instead of the result (or the error
//! the real call would have returned), changes nothing, and is audited.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use strongroom::api::*;
use strongroom::core::grant::GrantOperation;
use strongroom::core::key::{KeySpec, KeyUsage};
use strongroom::{AuditFilter, ErrorKind, Secret, DRY_RUN_OPERATIONS};

const APP: &str = "arn:aws:iam::000000000000:user/app";
const OUTSIDER: &str = "arn:aws:iam::111122223333:user/outsider";

fn grants_of(f: &Fixture, key_id: &str) -> Vec<String> {
    f.ks.list_grants(&ListGrantsRequest {
        key_id: key_id.into(),
        ..Default::default()
    })
    .unwrap()
    .grants
    .into_iter()
    .map(|g| g.grant_id)
    .collect()
}

fn encrypt_req(key_id: &str) -> EncryptRequest {
    EncryptRequest {
        key_id: key_id.into(),
        plaintext: Secret::from_slice(b"dry"),
        ..Default::default()
    }
}

#[test]
fn crypto_operations_report_success_without_a_result() {
    let f = fixture();
    let key = new_key(&f.ks);
    let dry = f.ks.dry_run();
    assert!(dry.is_dry_run() && !f.ks.is_dry_run());
    expect_err(
        dry.encrypt(&encrypt_req(&key.key_id)),
        ErrorKind::DryRunOperationException,
    );
    let blob = encrypt(&f.ks, &key.key_id, b"dry", &ctx(&[("a", "b")]));
    expect_err(
        dry.decrypt(&DecryptRequest {
            ciphertext_blob: blob.clone(),
            encryption_context: ctx(&[("a", "b")]),
            ..Default::default()
        }),
        ErrorKind::DryRunOperationException,
    );
    expect_err(
        dry.generate_data_key(&GenerateDataKeyRequest {
            key_id: key.key_id.clone(),
            number_of_bytes: Some(32),
            ..Default::default()
        }),
        ErrorKind::DryRunOperationException,
    );
    // The error the real call would return comes back instead.
    expect_err(
        dry.decrypt(&DecryptRequest {
            ciphertext_blob: blob,
            encryption_context: ctx(&[("a", "wrong")]),
            ..Default::default()
        }),
        ErrorKind::InvalidCiphertextException,
    );
    expect_err(
        dry.encrypt(&encrypt_req("alias/missing")),
        ErrorKind::NotFoundException,
    );
    f.ks.disable_key(&key.key_id).unwrap();
    expect_err(
        dry.encrypt(&encrypt_req(&key.key_id)),
        ErrorKind::DisabledException,
    );
    f.ks.enable_key(&key.key_id).unwrap();
    // Permissions are what a dry run is for.
    expect_err(
        dry.as_principal(OUTSIDER)
            .encrypt(&encrypt_req(&key.key_id)),
        ErrorKind::AccessDeniedException,
    );
    let outsider_dry = f.ks.as_principal(OUTSIDER).dry_run();
    assert!(outsider_dry.is_dry_run());
    assert_eq!(outsider_dry.principal(), OUTSIDER);
    expect_err(
        outsider_dry.encrypt(&encrypt_req(&key.key_id)),
        ErrorKind::AccessDeniedException,
    );
}

#[test]
fn signing_and_mac_keys_dry_run_too() {
    let f = fixture();
    let create = |spec: KeySpec, usage: KeyUsage| new_key_of(&f.ks, spec, usage);
    let sig = create(KeySpec::EccNistP256, KeyUsage::SignVerify);
    let mac = create(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let dry = f.ks.dry_run();
    let sign = SignRequest {
        key_id: sig.key_id.clone(),
        message: Secret::from_slice(b"m"),
        signing_algorithm: Some("ECDSA_SHA_256".parse().unwrap()),
        ..Default::default()
    };
    expect_err(dry.sign(&sign), ErrorKind::DryRunOperationException);
    let gm = GenerateMacRequest {
        key_id: mac.key_id.clone(),
        message: Secret::from_slice(b"m"),
        mac_algorithm: Some("HMAC_SHA_256".parse().unwrap()),
        ..Default::default()
    };
    expect_err(dry.generate_mac(&gm), ErrorKind::DryRunOperationException);
    // A wrong algorithm is reported as the real call would.
    let bad = GenerateMacRequest {
        mac_algorithm: Some("HMAC_SHA_512".parse().unwrap()),
        ..gm
    };
    expect_err(dry.generate_mac(&bad), ErrorKind::InvalidKeyUsageException);
}

#[test]
fn grant_operations_change_nothing() {
    let f = fixture();
    let key = new_key(&f.ks);
    let dry = f.ks.dry_run();
    let req = CreateGrantRequest {
        key_id: key.key_id.clone(),
        grantee_principal: APP.into(),
        operations: vec![GrantOperation::Encrypt],
        ..Default::default()
    };
    expect_err(dry.create_grant(&req), ErrorKind::DryRunOperationException);
    assert!(grants_of(&f, &key.key_id).is_empty());
    // Invalid parameters are still reported.
    let no_ops = CreateGrantRequest {
        operations: vec![],
        ..req.clone()
    };
    expect_err(dry.create_grant(&no_ops), ErrorKind::ValidationException);

    let g = f.ks.create_grant(&req).unwrap();
    expect_err(
        dry.revoke_grant(&key.key_id, &g.grant_id),
        ErrorKind::DryRunOperationException,
    );
    expect_err(
        dry.retire_grant(&RetireGrantRequest {
            grant_token: Some(g.grant_token.clone()),
            ..Default::default()
        }),
        ErrorKind::DryRunOperationException,
    );
    assert_eq!(grants_of(&f, &key.key_id), vec![g.grant_id.clone()]);
    // The grant still works; a dry-run revoke of a missing grant is NotFound.
    f.ks.as_principal(APP)
        .encrypt(&EncryptRequest {
            grant_tokens: vec![g.grant_token.clone()],
            ..encrypt_req(&key.key_id)
        })
        .unwrap();
    f.ks.revoke_grant(&key.key_id, &g.grant_id).unwrap();
    expect_err(
        dry.revoke_grant(&key.key_id, &g.grant_id),
        ErrorKind::NotFoundException,
    );
    // The digest still matches after the rolled-back writes.
    f.ks.verify_digest().unwrap();
}

#[test]
fn operations_without_dry_run_refuse_without_running() {
    let f = fixture();
    let key = new_key(&f.ks);
    let dry = f.ks.dry_run();
    let before = f.ks.list_keys(None, None).unwrap().keys.len();
    expect_err(
        dry.create_key(&CreateKeyRequest::default()),
        ErrorKind::ValidationException,
    );
    expect_err(dry.disable_key(&key.key_id), ErrorKind::ValidationException);
    expect_err(
        dry.describe_key(&key.key_id),
        ErrorKind::ValidationException,
    );
    assert_eq!(f.ks.list_keys(None, None).unwrap().keys.len(), before);
    assert_eq!(
        f.ks.describe_key(&key.key_id)
            .unwrap()
            .key_metadata
            .key_state
            .as_str(),
        "Enabled"
    );
    assert!(DRY_RUN_OPERATIONS.contains(&"CreateGrant"));
    assert!(!DRY_RUN_OPERATIONS.contains(&"CreateKey"));
}

#[test]
fn dry_runs_are_audited_with_their_error_code() {
    let f = fixture();
    let key = new_key(&f.ks);
    let dry = f.ks.dry_run();
    let _ = dry.encrypt(&encrypt_req(&key.key_id));
    let _ = dry
        .as_principal(OUTSIDER)
        .encrypt(&encrypt_req(&key.key_id));
    let events = f.ks.audit_events(&AuditFilter::default()).unwrap();
    let codes: Vec<Option<String>> = events
        .iter()
        .filter(|e| e["eventName"] == "Encrypt")
        .map(|e| e["errorCode"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        codes,
        vec![
            Some("DryRunOperationException".to_owned()),
            Some("AccessDeniedException".to_owned())
        ]
    );
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}
