//! DeriveSharedSecret through the keystore: the secret equals the peer's
//! own ECDH, KEY_AGREEMENT keys do nothing else, key states, the key policy
//! (`kms:DeriveSharedSecret`, `kms:KeyAgreementAlgorithm`), grants and
//! grant tokens, and one audit event per call.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use serde_json::{json, Value};
use strongroom::api::*;
use strongroom::core::crypto::{ecdh, EcCurve};
use strongroom::core::grant::GrantOperation;
use strongroom::core::key::{KeySpec, KeyUsage, MacAlgorithm, Origin, SigningAlgorithm};
use strongroom::{AuditFilter, ErrorKind, Secret};

const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";
const APP: &str = "arn:aws:iam::000000000000:user/app";

#[test]
fn the_secret_is_the_peers_ecdh_on_both_curves() {
    let f = fixture();
    for (spec, curve, len) in [
        (KeySpec::EccNistP256, EcCurve::P256, 32),
        (KeySpec::EccNistP384, EcCurve::P384, 48),
    ] {
        let key = agreement_key(&f.ks, spec);
        assert_eq!(key.key_usage, KeyUsage::KeyAgreement);
        assert_eq!(key.key_agreement_algorithms, vec!["ECDH".to_string()]);
        assert!(key.signing_algorithms.is_empty());
        let described = f.ks.describe_key(&key.key_id).unwrap().key_metadata;
        assert_eq!(described.key_agreement_algorithms, vec!["ECDH".to_string()]);
        let pk = f.ks.get_public_key(&key.key_id).unwrap();
        assert_eq!(pk.key_agreement_algorithms, vec!["ECDH".to_string()]);

        f.ks.create_alias(&format!("alias/agree-{spec}"), &key.key_id)
            .unwrap();
        let (peer, peer_spki) = peer_key(curve);
        let r = try_derive(&f.ks, &format!("alias/agree-{spec}"), &peer_spki, &[]).unwrap();
        assert_eq!(r.key_id, key.arn);
        assert_eq!(r.key_origin, Origin::AwsKms);
        assert_eq!(r.shared_secret.len(), len);
        let theirs = ecdh::ecdh_derive(curve, &peer, &pk.public_key).unwrap();
        assert_eq!(r.shared_secret.expose_secret(), &theirs[..]);

        // The peer key must be on the key's curve.
        let other = if curve == EcCurve::P256 {
            EcCurve::P384
        } else {
            EcCurve::P256
        };
        let e = expect_err(
            try_derive(&f.ks, &key.key_id, &peer_key(other).1, &[]),
            ErrorKind::ValidationException,
        );
        assert!(e.message().contains("curve"), "{e}");
        expect_err(
            try_derive(&f.ks, &key.key_id, b"\x30\x03\x02\x01\x00", &[]),
            ErrorKind::ValidationException,
        );
    }
}

#[test]
fn key_usage_is_enforced_both_ways() {
    let f = fixture();
    let key = agreement_key(&f.ks, KeySpec::EccNistP256);
    expect_err(
        f.ks.sign(&SignRequest {
            key_id: key.key_id.clone(),
            message: Secret::from_slice(b"m"),
            signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
            ..Default::default()
        }),
        ErrorKind::InvalidKeyUsageException,
    );
    expect_err(
        f.ks.verify(&VerifyRequest {
            key_id: key.key_id.clone(),
            message: Secret::from_slice(b"m"),
            signature: vec![0x30, 0x00],
            signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
            ..Default::default()
        }),
        ErrorKind::InvalidKeyUsageException,
    );
    expect_err(
        try_encrypt(&f.ks, &key.key_id, b"x"),
        ErrorKind::InvalidKeyUsageException,
    );
    expect_err(
        f.ks.generate_mac(&GenerateMacRequest {
            key_id: key.key_id.clone(),
            message: Secret::from_slice(b"m"),
            mac_algorithm: Some(MacAlgorithm::HmacSha256),
            ..Default::default()
        }),
        ErrorKind::InvalidKeyUsageException,
    );
    expect_err(gdk(&f.ks, &key.key_id), ErrorKind::InvalidKeyUsageException);

    let (_, peer) = peer_key(EcCurve::P256);
    let signer =
        f.ks.create_key(&CreateKeyRequest {
            key_spec: Some(KeySpec::EccNistP256),
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert!(signer.key_agreement_algorithms.is_empty());
    expect_err(
        try_derive(&f.ks, &signer.key_id, &peer, &[]),
        ErrorKind::InvalidKeyUsageException,
    );
    let symmetric = new_key(&f.ks);
    expect_err(
        try_derive(&f.ks, &symmetric.key_id, &peer, &[]),
        ErrorKind::InvalidKeyUsageException,
    );
    for spec in [
        KeySpec::SymmetricDefault,
        KeySpec::Rsa2048,
        KeySpec::Hmac256,
    ] {
        expect_err(
            f.ks.create_key(&CreateKeyRequest {
                key_spec: Some(spec),
                key_usage: Some(KeyUsage::KeyAgreement),
                ..Default::default()
            }),
            ErrorKind::ValidationException,
        );
    }
}

#[test]
fn disabled_and_pending_deletion_keys_refuse() {
    let f = fixture();
    let key = agreement_key(&f.ks, KeySpec::EccNistP256);
    let (_, peer) = peer_key(EcCurve::P256);
    f.ks.disable_key(&key.key_id).unwrap();
    expect_err(
        try_derive(&f.ks, &key.key_id, &peer, &[]),
        ErrorKind::DisabledException,
    );
    f.ks.enable_key(&key.key_id).unwrap();
    try_derive(&f.ks, &key.key_id, &peer, &[]).unwrap();
    f.ks.schedule_key_deletion(&key.key_id, Some(7)).unwrap();
    expect_err(
        try_derive(&f.ks, &key.key_id, &peer, &[]),
        ErrorKind::KMSInvalidStateException,
    );
}

fn policy_allowing_app(condition: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:DeriveSharedSecret",
         "Resource": "*", "Condition": condition}
    ]})
    .to_string()
}

#[test]
fn key_policy_and_condition_key() {
    let (_dir, ks) = admin_keystore(ADMIN);
    let key = agreement_key(&ks, KeySpec::EccNistP256);
    let app = ks.as_principal(APP);
    let (_, peer) = peer_key(EcCurve::P256);
    expect_err(
        try_derive(&app, &key.key_id, &peer, &[]),
        ErrorKind::AccessDeniedException,
    );
    for (value, allowed) in [("ECDH", true), ("SOMETHING_ELSE", false)] {
        ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key.key_id.clone(),
            policy: policy_allowing_app(
                json!({"StringEquals": {"kms:KeyAgreementAlgorithm": value}}),
            ),
            ..Default::default()
        })
        .unwrap();
        let r = try_derive(&app, &key.key_id, &peer, &[]);
        if allowed {
            r.unwrap();
        } else {
            expect_err(r, ErrorKind::AccessDeniedException);
        }
    }
}

#[test]
fn grants_and_grant_tokens() {
    let (_dir, ks) = admin_keystore(ADMIN);
    let key = agreement_key(&ks, KeySpec::EccNistP384);
    let app = ks.as_principal(APP);
    let (_, peer) = peer_key(EcCurve::P384);
    expect_err(
        try_derive(&app, &key.key_id, &peer, &[]),
        ErrorKind::AccessDeniedException,
    );
    // A grant for another operation does not allow it.
    ks.create_grant(&CreateGrantRequest {
        key_id: key.key_id.clone(),
        grantee_principal: APP.into(),
        operations: vec![GrantOperation::GetPublicKey],
        ..Default::default()
    })
    .unwrap();
    expect_err(
        try_derive(&app, &key.key_id, &peer, &[]),
        ErrorKind::AccessDeniedException,
    );
    let g = ks
        .create_grant(&CreateGrantRequest {
            key_id: key.key_id.clone(),
            grantee_principal: APP.into(),
            operations: vec![GrantOperation::DeriveSharedSecret],
            ..Default::default()
        })
        .unwrap();
    try_derive(
        &app,
        &key.key_id,
        &peer,
        std::slice::from_ref(&g.grant_token),
    )
    .unwrap();
    try_derive(&app, &key.key_id, &peer, &[]).unwrap();
    expect_err(
        try_derive(&app, &key.key_id, &peer, &["not-a-token".into()]),
        ErrorKind::InvalidGrantTokenException,
    );
    ks.revoke_grant(&key.key_id, &g.grant_id).unwrap();
    expect_err(
        try_derive(&app, &key.key_id, &peer, &[]),
        ErrorKind::AccessDeniedException,
    );
}

#[test]
fn one_audit_event_per_call_without_the_secret() {
    let (_dir, ks) = admin_keystore(ADMIN);
    let key = agreement_key(&ks, KeySpec::EccNistP256);
    let (_, peer) = peer_key(EcCurve::P256);
    let before = ks.audit_events(&AuditFilter::default()).unwrap().len();
    let z = try_derive(&ks, &key.key_id, &peer, &[]).unwrap();
    expect_err(
        try_derive(&ks.as_principal(APP), &key.key_id, &peer, &[]),
        ErrorKind::AccessDeniedException,
    );
    let events = ks.audit_events(&AuditFilter::default()).unwrap();
    assert_eq!(events.len(), before + 2);
    let (ok, denied) = (&events[before], &events[before + 1]);
    for e in [ok, denied] {
        assert_eq!(e["eventName"], "DeriveSharedSecret");
        assert_eq!(e["readOnly"], true);
        assert_eq!(e["requestParameters"]["keyAgreementAlgorithm"], "ECDH");
        assert_eq!(e["requestParameters"]["keyId"], key.key_id.as_str());
        assert_eq!(e["resources"][0]["ARN"], key.arn.as_str());
    }
    assert!(ok.get("errorCode").is_none(), "{ok}");
    assert_eq!(denied["errorCode"], "AccessDeniedException");
    let text = serde_json::to_string(&events).unwrap();
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        z.shared_secret.expose_secret(),
    );
    assert!(!text.contains(&b64));
}
