//! Grants through the keystore: each constraint, grant tokens that work at
//! once, Name idempotency, listing, retiring and revoking, explicit Deny
//! over grants, and the grants table under the keystore integrity state.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use serde_json::json;
use strongroom::api::*;
use strongroom::core::grant::{GrantConstraints, GrantOperation};
use strongroom::{CreateOptions, ErrorKind, Keystore, RootKeySource, Secret};

const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";
const APP: &str = "arn:aws:iam::000000000000:user/app";
const OTHER: &str = "arn:aws:iam::000000000000:user/other";
const RETIRER: &str = "arn:aws:iam::000000000000:role/retirer";

fn admin_fixture() -> (tempfile::TempDir, std::path::PathBuf, Keystore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.db");
    let ks = Keystore::create(
        &path,
        root_source(&ROOT),
        CreateOptions {
            admin_principal: Some(ADMIN.into()),
            ..CreateOptions::default()
        },
    )
    .unwrap();
    (dir, path, ks)
}

fn grant(
    ks: &Keystore,
    key_id: &str,
    grantee: &str,
    ops: &[GrantOperation],
    constraints: Option<GrantConstraints>,
) -> CreateGrantResponse {
    ks.create_grant(&CreateGrantRequest {
        key_id: key_id.into(),
        grantee_principal: grantee.into(),
        retiring_principal: Some(RETIRER.into()),
        operations: ops.to_vec(),
        constraints,
        ..Default::default()
    })
    .unwrap()
}

/// Sets the key policy with `statements` (a statement or a list of them).
fn put_policy(ks: &Keystore, key_id: &str, statements: serde_json::Value) {
    ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key_id.into(),
        policy: json!({"Statement": statements}).to_string(),
        ..Default::default()
    })
    .unwrap();
}

fn enc_with(
    ks: &Keystore,
    key_id: &str,
    c: &[(&str, &str)],
    tokens: &[String],
) -> strongroom::Result<EncryptResponse> {
    ks.encrypt(&EncryptRequest {
        key_id: key_id.into(),
        plaintext: Secret::from_slice(b"grant me"),
        encryption_context: ctx(c),
        grant_tokens: tokens.to_vec(),
        ..Default::default()
    })
}

fn dec_with(
    ks: &Keystore,
    blob: &[u8],
    c: &[(&str, &str)],
    tokens: &[String],
) -> strongroom::Result<DecryptResponse> {
    ks.decrypt(&DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: ctx(c),
        grant_tokens: tokens.to_vec(),
        ..Default::default()
    })
}

#[test]
fn unconstrained_grant_works_at_once_via_its_token() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let app = ks.as_principal(APP);
    expect_err(
        enc_with(&app, &key.key_id, &[], &[]),
        ErrorKind::AccessDeniedException,
    );
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::Encrypt, GrantOperation::Decrypt],
        None,
    );
    assert_eq!(g.grant_id.len(), 64);
    let tokens = vec![g.grant_token.clone()];
    let blob = enc_with(&app, &key.key_id, &[("a", "b")], &tokens)
        .unwrap()
        .ciphertext_blob;
    let pt = dec_with(&app, &blob, &[("a", "b")], &tokens).unwrap();
    assert_eq!(pt.plaintext.expose_secret(), b"grant me");
    // Operations not in the grant stay denied; other principals get nothing.
    expect_err(
        app.generate_data_key(&GenerateDataKeyRequest {
            key_id: key.key_id.clone(),
            number_of_bytes: Some(16),
            grant_tokens: tokens.clone(),
            ..Default::default()
        }),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        enc_with(&ks.as_principal(OTHER), &key.key_id, &[], &tokens),
        ErrorKind::AccessDeniedException,
    );
    // Grants are stored, so they also work without the token.
    enc_with(&app, &key.key_id, &[], &[]).unwrap();
}

#[test]
fn encryption_context_equals_constraint() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let app = ks.as_principal(APP);
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::Encrypt, GrantOperation::Decrypt],
        Some(GrantConstraints {
            encryption_context_equals: Some(ctx(&[("tenant", "a")])),
            encryption_context_subset: None,
        }),
    );
    let t = vec![g.grant_token];
    let blob = enc_with(&app, &key.key_id, &[("tenant", "a")], &t)
        .unwrap()
        .ciphertext_blob;
    dec_with(&app, &blob, &[("tenant", "a")], &t).unwrap();
    for c in [
        &[][..],
        &[("tenant", "b")][..],
        &[("tenant", "a"), ("x", "y")][..],
    ] {
        expect_err(
            enc_with(&app, &key.key_id, c, &t),
            ErrorKind::AccessDeniedException,
        );
    }
}

#[test]
fn encryption_context_subset_constraint() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let app = ks.as_principal(APP);
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[
            GrantOperation::GenerateDataKey,
            GrantOperation::GenerateDataKeyWithoutPlaintext,
            GrantOperation::Decrypt,
        ],
        Some(GrantConstraints {
            encryption_context_equals: None,
            encryption_context_subset: Some(ctx(&[("tenant", "a")])),
        }),
    );
    let t = vec![g.grant_token];
    let gdk = |c: &[(&str, &str)]| {
        app.generate_data_key(&GenerateDataKeyRequest {
            key_id: key.key_id.clone(),
            number_of_bytes: Some(32),
            encryption_context: ctx(c),
            grant_tokens: t.clone(),
            ..Default::default()
        })
    };
    let r = gdk(&[("tenant", "a"), ("extra", "1")]).unwrap();
    dec_with(
        &app,
        &r.ciphertext_blob,
        &[("tenant", "a"), ("extra", "1")],
        &t,
    )
    .unwrap();
    gdk(&[("tenant", "a")]).unwrap();
    expect_err(gdk(&[("tenant", "b")]), ErrorKind::AccessDeniedException);
    expect_err(gdk(&[("extra", "1")]), ErrorKind::AccessDeniedException);
    app.generate_data_key_without_plaintext(&GenerateDataKeyRequest {
        key_id: key.key_id.clone(),
        number_of_bytes: Some(32),
        encryption_context: ctx(&[("tenant", "a")]),
        ..Default::default()
    })
    .unwrap();
}

/// Review 5b #4: an `EncryptionContextSubset {"Dept": "a"}` grant
/// does not let its grantee encrypt under `{"Dept": "payroll", "dept": "a"}`
/// (the message would carry `Dept=payroll`); one spelling in any ASCII
/// case works, with other keys that collide.
#[test]
fn a_subset_grant_refuses_a_context_key_given_twice_in_different_case() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let app = ks.as_principal(APP);
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::Encrypt, GrantOperation::GenerateDataKey],
        Some(GrantConstraints {
            encryption_context_equals: None,
            encryption_context_subset: Some(ctx(&[("Dept", "a")])),
        }),
    );
    let t = vec![g.grant_token];
    for pairs in [
        &[("Dept", "payroll"), ("dept", "a")][..],
        &[("Dept", "a"), ("DEPT", "a")],
    ] {
        expect_err(
            enc_with(&app, &key.key_id, pairs, &t),
            ErrorKind::AccessDeniedException,
        );
    }
    let blob = enc_with(
        &app,
        &key.key_id,
        &[("dept", "a"), ("x", "1"), ("X", "2")],
        &t,
    )
    .unwrap()
    .ciphertext_blob;
    // The context itself stays exact: the blob decrypts only with its own.
    let owner = dec_with(&ks, &blob, &[("dept", "a"), ("x", "1"), ("X", "2")], &[]).unwrap();
    assert_eq!(owner.plaintext.expose_secret(), b"grant me");
    expect_err(
        dec_with(&ks, &blob, &[("Dept", "a"), ("x", "1"), ("X", "2")], &[]),
        ErrorKind::InvalidCiphertextException,
    );
}

#[test]
fn re_encrypt_grants_and_describe_key_grant() {
    let (_d, _p, ks) = admin_fixture();
    let a = new_key(&ks);
    let b = new_key(&ks);
    let app = ks.as_principal(APP);
    let blob = encrypt(&ks, &a.key_id, b"data", &ctx(&[]));
    let t1 = grant(&ks, &a.key_id, APP, &[GrantOperation::ReEncryptFrom], None).grant_token;
    let req = ReEncryptRequest {
        ciphertext_blob: blob,
        destination_key_id: b.key_id.clone(),
        grant_tokens: vec![t1.clone()],
        ..Default::default()
    };
    expect_err(app.re_encrypt(&req), ErrorKind::AccessDeniedException);
    let t2 = grant(&ks, &b.key_id, APP, &[GrantOperation::ReEncryptTo], None).grant_token;
    let req = ReEncryptRequest {
        grant_tokens: vec![t1, t2],
        ..req
    };
    let r = app.re_encrypt(&req).unwrap();
    assert_eq!(r.key_id, b.arn);
    expect_err(
        app.describe_key(&a.key_id),
        ErrorKind::AccessDeniedException,
    );
    grant(&ks, &a.key_id, APP, &[GrantOperation::DescribeKey], None);
    app.describe_key(&a.key_id).unwrap();
}

#[test]
fn grant_tokens_are_checked() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let g = grant(&ks, &key.key_id, APP, &[GrantOperation::Encrypt], None);
    let mut forged = g.grant_token.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    expect_err(
        enc_with(&ks, &key.key_id, &[], &[forged]),
        ErrorKind::InvalidGrantTokenException,
    );
    expect_err(
        enc_with(&ks, &key.key_id, &[], &["not a token".into()]),
        ErrorKind::InvalidGrantTokenException,
    );
    let eleven = vec![g.grant_token.clone(); 11];
    expect_err(
        enc_with(&ks, &key.key_id, &[], &eleven),
        ErrorKind::ValidationException,
    );
    let ten = vec![g.grant_token; 10];
    enc_with(&ks, &key.key_id, &[], &ten).unwrap();
    // A token of another keystore (another root key) is not valid here.
    let other = fixture_with_root(&[7; 32]);
    let ok = new_key(&other.ks);
    let foreign = other
        .ks
        .create_grant(&CreateGrantRequest {
            key_id: ok.key_id.clone(),
            grantee_principal: APP.into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        })
        .unwrap()
        .grant_token;
    expect_err(
        enc_with(&ks, &key.key_id, &[], &[foreign]),
        ErrorKind::InvalidGrantTokenException,
    );
}

#[test]
fn create_grant_validation_and_name_idempotency() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let req = CreateGrantRequest {
        key_id: key.key_id.clone(),
        grantee_principal: APP.into(),
        operations: vec![GrantOperation::Encrypt],
        name: Some("app-encrypt".into()),
        ..Default::default()
    };
    let a = ks.create_grant(&req).unwrap();
    let b = ks.create_grant(&req).unwrap();
    assert_eq!(
        a.grant_id, b.grant_id,
        "same Name and parameters: same grant"
    );
    let c = ks
        .create_grant(&CreateGrantRequest {
            operations: vec![GrantOperation::Decrypt],
            ..req.clone()
        })
        .unwrap();
    assert_ne!(a.grant_id, c.grant_id);
    let d = ks
        .create_grant(&CreateGrantRequest {
            name: None,
            ..req.clone()
        })
        .unwrap();
    assert_ne!(
        a.grant_id, d.grant_id,
        "without a Name every call creates a grant"
    );
    let list = ks
        .list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(list.grants.len(), 3);
    // Validation.
    for bad in [
        CreateGrantRequest {
            operations: vec![],
            ..req.clone()
        },
        CreateGrantRequest {
            operations: vec![GrantOperation::Sign],
            constraints: Some(GrantConstraints {
                encryption_context_equals: Some(ctx(&[("a", "b")])),
                encryption_context_subset: None,
            }),
            ..req.clone()
        },
        CreateGrantRequest {
            name: Some("bad name!".into()),
            ..req.clone()
        },
        CreateGrantRequest {
            grantee_principal: String::new(),
            ..req.clone()
        },
    ] {
        expect_err(ks.create_grant(&bad), ErrorKind::ValidationException);
    }
    // Only principals the policy (or a CreateGrant grant) allows may create grants.
    expect_err(
        ks.as_principal(APP).create_grant(&req),
        ErrorKind::AccessDeniedException,
    );
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::CreateGrant, GrantOperation::Encrypt],
        None,
    );
    // A grant-derived grant may not widen the parent's operations.
    expect_err(
        ks.as_principal(APP).create_grant(&CreateGrantRequest {
            grantee_principal: OTHER.into(),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            name: None,
            ..req.clone()
        }),
        ErrorKind::AccessDeniedException,
    );
    ks.as_principal(APP)
        .create_grant(&CreateGrantRequest {
            grantee_principal: OTHER.into(),
            grant_tokens: vec![g.grant_token],
            name: None,
            ..req
        })
        .unwrap();
    enc_with(&ks.as_principal(OTHER), &key.key_id, &[], &[]).unwrap();
}

#[test]
fn list_retire_and_revoke() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let key2 = new_key(&ks);
    let app = ks.as_principal(APP);
    let g1 = grant(&ks, &key.key_id, APP, &[GrantOperation::Encrypt], None);
    let g2 = grant(&ks, &key.key_id, OTHER, &[GrantOperation::Encrypt], None);
    let g3 = grant(&ks, &key2.key_id, APP, &[GrantOperation::Encrypt], None);
    let lr = |p: &str| {
        ks.list_retirable_grants(p, None, None)
            .unwrap()
            .grants
            .into_iter()
            .map(|g| g.grant_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(lr(RETIRER).len(), 3);
    assert!(lr(APP).is_empty());
    let listed = ks
        .list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            grantee_principal: Some(APP.into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.grants.len(), 1);
    assert_eq!(listed.grants[0].grant_id, g1.grant_id);
    assert_eq!(listed.grants[0].key_id, key.arn);
    assert_eq!(
        listed.grants[0].retiring_principal.as_deref(),
        Some(RETIRER)
    );
    // As KMS: the issuing account's root principal ARN, not the bare ID.
    assert_eq!(
        listed.grants[0].issuing_account,
        format!("arn:aws:iam::{}:root", key.aws_account_id)
    );
    let page = ks
        .list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert!(page.truncated);
    let page2 = ks
        .list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            limit: Some(1),
            marker: page.next_marker.clone(),
            ..Default::default()
        })
        .unwrap();
    assert!(!page2.truncated);
    assert_ne!(page.grants[0].grant_id, page2.grants[0].grant_id);
    expect_err(
        app.list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            ..Default::default()
        }),
        ErrorKind::AccessDeniedException,
    );

    // The grantee may not retire a grant without RetireGrant; the retiring principal may.
    expect_err(
        app.retire_grant(&RetireGrantRequest {
            grant_token: Some(g1.grant_token.clone()),
            ..Default::default()
        }),
        ErrorKind::AccessDeniedException,
    );
    enc_with(&app, &key.key_id, &[], &[]).unwrap();
    ks.as_principal(RETIRER)
        .retire_grant(&RetireGrantRequest {
            grant_token: Some(g1.grant_token.clone()),
            ..Default::default()
        })
        .unwrap();
    expect_err(
        enc_with(&app, &key.key_id, &[], &[]),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        ks.as_principal(RETIRER).retire_grant(&RetireGrantRequest {
            grant_token: Some(g1.grant_token),
            ..Default::default()
        }),
        ErrorKind::NotFoundException,
    );
    // By key ID and grant ID.
    ks.as_principal(RETIRER)
        .retire_grant(&RetireGrantRequest {
            key_id: Some(key2.key_id.clone()),
            grant_id: Some(g3.grant_id.clone()),
            ..Default::default()
        })
        .unwrap();
    expect_err(
        ks.retire_grant(&RetireGrantRequest::default()),
        ErrorKind::ValidationException,
    );
    // RevokeGrant by the key's administrator; not by the grantee.
    expect_err(
        ks.as_principal(OTHER)
            .revoke_grant(&key.key_id, &g2.grant_id),
        ErrorKind::AccessDeniedException,
    );
    enc_with(&ks.as_principal(OTHER), &key.key_id, &[], &[]).unwrap();
    ks.revoke_grant(&key.key_id, &g2.grant_id).unwrap();
    expect_err(
        enc_with(&ks.as_principal(OTHER), &key.key_id, &[], &[]),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        ks.revoke_grant(&key.key_id, &g2.grant_id),
        ErrorKind::NotFoundException,
    );
    expect_err(
        ks.revoke_grant(&key.key_id, ""),
        ErrorKind::InvalidGrantIdException,
    );
    assert!(lr(RETIRER).is_empty());
}

#[test]
fn grantee_with_retire_grant_may_retire() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::Encrypt, GrantOperation::RetireGrant],
        None,
    );
    ks.as_principal(APP)
        .retire_grant(&RetireGrantRequest {
            key_id: Some(key.key_id.clone()),
            grant_id: Some(g.grant_id),
            ..Default::default()
        })
        .unwrap();
}

#[test]
fn explicit_deny_overrides_a_grant() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let g = grant(&ks, &key.key_id, APP, &[GrantOperation::Encrypt], None);
    put_policy(
        &ks,
        &key.key_id,
        json!([
            {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"AWS": APP}, "Action": "kms:*", "Resource": "*"}
        ]),
    );
    let e = expect_err(
        enc_with(&ks.as_principal(APP), &key.key_id, &[], &[g.grant_token]),
        ErrorKind::AccessDeniedException,
    );
    assert!(e.message().contains("explicit deny"));
}

#[test]
fn grant_rows_are_authenticated_and_under_the_integrity_state() {
    let (_d, path, ks) = admin_fixture();
    let key = new_key(&ks);
    let g = grant(&ks, &key.key_id, APP, &[GrantOperation::Encrypt], None);
    drop(ks);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let id = format!("{}/{}", key.key_id, g.grant_id);
    let (body, tag, bucket): (Vec<u8>, Vec<u8>, i64) = conn
        .query_row(
            "SELECT body, tag, bucket FROM grants WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    // Widen the grant on disk: detected when used.
    let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["GranteePrincipal"] = "*".into();
    conn.execute(
        "UPDATE grants SET body = ?1 WHERE id = ?2",
        rusqlite::params![serde_json::to_vec(&v).unwrap(), id],
    )
    .unwrap();
    let root = || RootKeySource::Bytes(Secret::from_slice(&ROOT));
    let ks = Keystore::open(&path, root()).unwrap();
    let e = expect_err(
        enc_with(&ks.as_principal(OTHER), &key.key_id, &[], &[]),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("authentication"), "{e}");
    drop(ks);
    // Deleting the grant row (a revoked grant's row put back would be the
    // same) changes the integrity state.
    conn.execute(
        "UPDATE grants SET body = ?1 WHERE id = ?2",
        rusqlite::params![body, id],
    )
    .unwrap();
    Keystore::open(&path, root()).unwrap();
    conn.execute("DELETE FROM grants WHERE id = ?1", [&id])
        .unwrap();
    let e = expect_err(
        Keystore::open(&path, root()),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("integrity state"), "{e}");
    conn.execute(
        "INSERT INTO grants (id, body, tag, bucket) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![id, body, tag, bucket],
    )
    .unwrap();
    Keystore::open(&path, root()).unwrap();
}

#[test]
fn envelope_keyring_sends_and_checks_grant_tokens() {
    use strongroom::core::envelope::{DecryptOptions, EncryptOptions};
    use strongroom::envelope::{self as env, KmsKeyring};

    let (dir, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let app = ks.as_principal(APP);
    let inp = dir.path().join("plain.txt");
    let msg = dir.path().join("plain.msg");
    let out = dir.path().join("plain.out");
    std::fs::write(&inp, b"enveloped under a grant").unwrap();
    let c = ctx(&[("purpose", "grant")]);
    let eo = EncryptOptions::default();
    let dopt = DecryptOptions::default();

    // No key-policy access: the keyring is refused.
    let bare = KmsKeyring::new(&app, &[&key.key_id]).unwrap();
    expect_err(
        env::encrypt_file(&bare, &inp, &msg, &c, &eo),
        ErrorKind::AccessDeniedException,
    );
    let g = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::GenerateDataKey, GrantOperation::Decrypt],
        None,
    );
    let tokens = vec![g.grant_token.clone()];
    let strict = KmsKeyring::new(&app, &[&key.key_id])
        .unwrap()
        .with_grant_tokens(tokens.clone())
        .unwrap();
    assert_eq!(strict.grant_tokens(), tokens.as_slice());
    env::encrypt_file(&strict, &inp, &msg, &c, &eo).unwrap();
    // The strict keyring matches its key ID to the EDK's ARN without
    // DescribeKey, which the grant does not allow.
    env::decrypt_file(&strict, &msg, &out, &dopt).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"enveloped under a grant");
    std::fs::remove_file(&out).unwrap();
    let discovery = KmsKeyring::discovery(&app)
        .with_grant_tokens(tokens.clone())
        .unwrap();
    env::decrypt_file(&discovery, &msg, &out, &dopt).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"enveloped under a grant");

    // Token validation, as on every KMS call.
    expect_err(
        KmsKeyring::discovery(&app).with_grant_tokens(vec![g.grant_token.clone(); 11]),
        ErrorKind::ValidationException,
    );
    expect_err(
        KmsKeyring::new(&app, &[&key.key_id])
            .unwrap()
            .with_grant_tokens(vec!["not-a-grant-token".into()]),
        ErrorKind::InvalidGrantTokenException,
    );
    KmsKeyring::discovery(&app)
        .with_grant_tokens(vec![g.grant_token.clone(); 10])
        .unwrap();
}

/// A grant allowed only by an `EncryptionContextEquals` parent keeps that
/// constraint type: a `Subset` child with the same pairs would allow
/// contexts with more pairs than the parent (KMS: same or fewer permissions).
#[test]
fn a_derived_grant_keeps_an_equals_constraint() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    let pairs = ctx(&[("tenant", "a")]);
    let parent = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::CreateGrant, GrantOperation::Encrypt],
        Some(GrantConstraints {
            encryption_context_equals: Some(pairs.clone()),
            ..Default::default()
        }),
    );
    let child = |constraints: GrantConstraints| CreateGrantRequest {
        key_id: key.key_id.clone(),
        grantee_principal: OTHER.into(),
        operations: vec![GrantOperation::Encrypt],
        constraints: Some(constraints),
        grant_tokens: vec![parent.grant_token.clone()],
        ..Default::default()
    };
    let app = ks.as_principal(APP);
    expect_err(
        app.create_grant(&child(GrantConstraints {
            encryption_context_subset: Some(pairs.clone()),
            ..Default::default()
        })),
        ErrorKind::AccessDeniedException,
    );
    let g = app
        .create_grant(&child(GrantConstraints {
            encryption_context_equals: Some(pairs),
            ..Default::default()
        }))
        .unwrap();
    let other = ks.as_principal(OTHER);
    enc_with(
        &other,
        &key.key_id,
        &[("tenant", "a")],
        std::slice::from_ref(&g.grant_token),
    )
    .unwrap();
    expect_err(
        enc_with(
            &other,
            &key.key_id,
            &[("tenant", "a"), ("x", "y")],
            &[g.grant_token],
        ),
        ErrorKind::AccessDeniedException,
    );
}

/// CreateGrant names one principal ARN: `*`, `?`/`*` wildcards, bare account
/// IDs and service principals are refused, so that a grant cannot reach
/// principals the `kms:GranteePrincipal` condition did not see.
#[test]
fn grant_principals_must_be_principal_arns() {
    let (_d, _p, ks) = admin_fixture();
    let key = new_key(&ks);
    for bad in [
        "*",
        "arn:aws:iam::222233334444:user/adm?n",
        "arn:aws:iam::000000000000:user/*",
        "000000000000",
        "kms.amazonaws.com",
    ] {
        for (grantee, retiring) in [(bad, None), (APP, Some(bad))] {
            let e = expect_err(
                ks.create_grant(&CreateGrantRequest {
                    key_id: key.key_id.clone(),
                    grantee_principal: grantee.into(),
                    retiring_principal: retiring.map(Into::into),
                    operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
                    ..Default::default()
                }),
                ErrorKind::ValidationException,
            );
            assert!(e.message().contains("not a principal ARN"), "{e}");
        }
    }
    let listed = ks
        .list_grants(&ListGrantsRequest {
            key_id: key.key_id.clone(),
            ..Default::default()
        })
        .unwrap();
    assert!(listed.grants.is_empty());
    // Another account's principal gets nothing from the refused grants.
    let e = expect_err(
        enc_with(
            &ks.as_principal("arn:aws:iam::999988887777:user/anyone"),
            &key.key_id,
            &[],
            &[],
        ),
        ErrorKind::AccessDeniedException,
    );
    assert!(e.message().contains("999988887777"), "{e}");
}

/// How many grants of `key_id` name `grantee`.
fn grants_to(ks: &Keystore, key_id: &str, grantee: &str) -> usize {
    ks.list_grants(&ListGrantsRequest {
        key_id: key_id.into(),
        ..Default::default()
    })
    .unwrap()
    .grants
    .into_iter()
    .filter(|g| g.grantee_principal == grantee)
    .count()
}

/// A clock that runs an action at its `at`-th reading after being armed.
/// During CreateGrant the keystore reads the clock when it loads the key
/// (1st) and when it dates the new grant (2nd), which is after the call was
/// authorized and before the grant is written.
struct InjectingClock {
    readings: std::sync::atomic::AtomicUsize,
    at: std::sync::atomic::AtomicUsize,
    action: std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl InjectingClock {
    fn new() -> Self {
        InjectingClock {
            readings: 0.into(),
            at: 0.into(),
            action: std::sync::Mutex::new(None),
        }
    }

    fn arm(&self, at: usize, action: impl FnOnce() + Send + 'static) {
        use std::sync::atomic::Ordering::SeqCst;
        *self.action.lock().unwrap() = Some(Box::new(action));
        self.readings.store(0, SeqCst);
        self.at.store(at, SeqCst);
    }
}

impl strongroom::Clock for InjectingClock {
    fn now(&self) -> u64 {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.readings.fetch_add(1, SeqCst) + 1;
        if n == self.at.load(SeqCst) {
            let action = self.action.lock().unwrap().take();
            if let Some(action) = action {
                action();
            }
        }
        T0
    }
}

/// CreateGrant is authorized, then written in its own transaction: a
/// PutKeyPolicy, DisableKey or RevokeGrant (of the grant that allowed the
/// call) committed in between, by another handle, stops that write, and
/// the call is authorized again on the key as it is then (user trial item
/// 4): denied when the new policy or the revoked grant no longer allows it,
/// made when it still does (a disabled key takes grants, as in KMS).
#[test]
fn a_change_between_authorization_and_write_stops_create_grant() {
    let (_d, path, ks) = admin_fixture();
    let clock = std::sync::Arc::new(InjectingClock::new());
    let ks = ks.with_clock(clock.clone());
    let other_handle = {
        let path = path.clone();
        move || Keystore::open(&path, root_source(&ROOT)).unwrap()
    };
    let app_may_create_grants = |key_id: &str| {
        put_policy(
            &ks,
            key_id,
            json!([
                {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
                {"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:CreateGrant", "Resource": "*"}
            ]),
        );
    };
    let request = |key_id: &str, tokens: Vec<String>| CreateGrantRequest {
        key_id: key_id.into(),
        grantee_principal: OTHER.into(),
        operations: vec![GrantOperation::Encrypt],
        grant_tokens: tokens,
        ..Default::default()
    };
    let grants_of = |key_id: &str| grants_to(&ks, key_id, OTHER);
    let app = ks.as_principal(APP);

    // The policy that allowed the call is replaced in between.
    let key = new_key(&ks);
    app_may_create_grants(&key.key_id);
    let (open, id) = (other_handle.clone(), key.key_id.clone());
    clock.arm(2, move || {
        put_policy(
            &open(),
            &id,
            json!({"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"}),
        );
    });
    expect_err(
        app.create_grant(&request(&key.key_id, vec![])),
        ErrorKind::AccessDeniedException,
    );
    assert_eq!(grants_of(&key.key_id), 0);
    expect_err(
        app.create_grant(&request(&key.key_id, vec![])),
        ErrorKind::AccessDeniedException,
    );

    // The key is disabled in between.
    let key = new_key(&ks);
    app_may_create_grants(&key.key_id);
    let (open, id) = (other_handle.clone(), key.key_id.clone());
    clock.arm(2, move || open().disable_key(&id).unwrap());
    app.create_grant(&request(&key.key_id, vec![])).unwrap();
    assert_eq!(grants_of(&key.key_id), 1);
    assert_eq!(
        ks.describe_key(&key.key_id).unwrap().key_metadata.key_state,
        strongroom::core::key::KeyState::Disabled
    );

    // The grant that allowed the call is revoked in between.
    let key = new_key(&ks);
    let parent = grant(
        &ks,
        &key.key_id,
        APP,
        &[GrantOperation::CreateGrant, GrantOperation::Encrypt],
        None,
    );
    let (open, id, parent_id) = (other_handle, key.key_id.clone(), parent.grant_id.clone());
    clock.arm(2, move || open().revoke_grant(&id, &parent_id).unwrap());
    expect_err(
        app.create_grant(&request(&key.key_id, vec![parent.grant_token.clone()])),
        ErrorKind::AccessDeniedException,
    );
    assert_eq!(grants_of(&key.key_id), 0);

    // Nothing changed in between: the grant is made.
    let key = new_key(&ks);
    app_may_create_grants(&key.key_id);
    clock.arm(2, || {});
    app.create_grant(&request(&key.key_id, vec![])).unwrap();
    assert_eq!(grants_of(&key.key_id), 1);
}

/// Review 5b #6: when the key policy decides CreateGrant on an alias
/// condition key (`kms:ResourceAliases`), a CreateAlias,
/// UpdateAlias or DeleteAlias committed by another handle between the
/// authorization and the write stops the write, as a policy change does,
/// and the call authorized again on the aliases as they are then is denied.
#[test]
fn an_alias_change_between_authorization_and_write_stops_create_grant() {
    let (_d, path, ks) = admin_fixture();
    let clock = std::sync::Arc::new(InjectingClock::new());
    let ks = ks.with_clock(clock.clone());
    let other_handle = move || Keystore::open(&path, root_source(&ROOT)).unwrap();
    let app = ks.as_principal(APP);
    let admin =
        json!({"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"});
    let app_creates_grants = |condition: serde_json::Value| {
        json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:CreateGrant",
            "Resource": "*", "Condition": condition})
    };
    let request = |key_id: &str| CreateGrantRequest {
        key_id: key_id.into(),
        grantee_principal: OTHER.into(),
        operations: vec![GrantOperation::Encrypt],
        ..Default::default()
    };
    let changed = |r: strongroom::Result<CreateGrantResponse>| {
        expect_err(r, ErrorKind::AccessDeniedException);
    };

    // Allowed by kms:ResourceAliases; the alias is deleted in between.
    let key = new_key(&ks);
    ks.create_alias("alias/grantable", &key.key_id).unwrap();
    let by_alias = app_creates_grants(
        json!({"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/grantable"}}),
    );
    put_policy(&ks, &key.key_id, json!([admin, by_alias]));
    let open = other_handle.clone();
    clock.arm(2, move || open().delete_alias("alias/grantable").unwrap());
    changed(app.create_grant(&request(&key.key_id)));
    assert_eq!(grants_to(&ks, &key.key_id, OTHER), 0);
    expect_err(
        app.create_grant(&request(&key.key_id)),
        ErrorKind::AccessDeniedException,
    );
    // Nothing changed in between: the grant is made.
    ks.create_alias("alias/grantable", &key.key_id).unwrap();
    clock.arm(2, || {});
    app.create_grant(&request(&key.key_id)).unwrap();
    assert_eq!(grants_to(&ks, &key.key_id, OTHER), 1);

    // A Deny on kms:ResourceAliases; a matching alias is created in between.
    let key = new_key(&ks);
    let frozen = json!({"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant",
        "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/frozen*"}}});
    let unconditional = json!({"Effect": "Allow", "Principal": {"AWS": APP},
        "Action": "kms:CreateGrant", "Resource": "*"});
    put_policy(&ks, &key.key_id, json!([admin, unconditional, frozen]));
    let (open, id) = (other_handle, key.key_id.clone());
    clock.arm(2, move || open().create_alias("alias/frozen", &id).unwrap());
    changed(app.create_grant(&request(&key.key_id)));
    assert_eq!(grants_to(&ks, &key.key_id, OTHER), 0);
    let e = expect_err(
        app.create_grant(&request(&key.key_id)),
        ErrorKind::AccessDeniedException,
    );
    assert!(e.message().contains("explicit deny"), "{e}");

    // kms:RequestAlias cannot allow CreateGrant: as in KMS, CreateGrant
    // takes a key ID or key ARN only, so no request names the key by an
    // alias and a policy allowing it only by alias never allows it.
    let key = new_key(&ks);
    ks.create_alias("alias/by-name", &key.key_id).unwrap();
    let by_name =
        app_creates_grants(json!({"StringEquals": {"kms:RequestAlias": "alias/by-name"}}));
    put_policy(&ks, &key.key_id, json!([admin, by_name]));
    let e = expect_err(
        app.create_grant(&request("alias/by-name")),
        ErrorKind::NotFoundException,
    );
    assert!(e.message().contains("Invalid keyId alias/by-name ("), "{e}");
    expect_err(
        app.create_grant(&request(&key.key_id)),
        ErrorKind::AccessDeniedException,
    );
    assert_eq!(grants_to(&ks, &key.key_id, OTHER), 0);
}
