//! Authorization, grants and the audit log of the in-memory keystore: the
//! same rules as the native keystore (`core::access`).
#![allow(clippy::unwrap_used)]

use rand_core::UnwrapErr;
use strongroom_core::api::*;
use strongroom_core::audit::ChainFault;
use strongroom_core::grant::{GrantConstraints, GrantOperation};
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::{EncryptionContext, ErrorKind, Secret};

fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

const NOW: u64 = 1_800_000_000;
const ACCOUNT: &str = "111122223333";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::444455556666:user/bob";
const CAROL: &str = "arn:aws:iam::444455556666:user/carol";

fn root() -> RootKey {
    RootKey::from_bytes(&[9; 32]).unwrap()
}

fn store() -> MemKeystore {
    MemKeystore::new(root(), "eu-west-1", ACCOUNT, NOW, &mut rng()).unwrap()
}

fn new_key(ks: &mut MemKeystore) -> String {
    ks.create_key(&mut rng(), NOW, &CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .arn
}

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    EncryptionContext::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .unwrap()
}

fn encrypt_as(
    ks: &mut MemKeystore,
    who: Option<&str>,
    key: &str,
    context: &EncryptionContext,
    tokens: &[String],
) -> strongroom_core::Result<Vec<u8>> {
    ks.act_as(who);
    let out = ks.encrypt(
        &mut rng(),
        NOW,
        &EncryptRequest {
            key_id: key.into(),
            plaintext: Secret::from_slice(b"secret"),
            encryption_context: context.clone(),
            grant_tokens: tokens.to_vec(),
            ..Default::default()
        },
    );
    ks.act_as(None);
    out.map(|r| r.ciphertext_blob)
}

fn code<T: std::fmt::Debug>(r: strongroom_core::Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

fn policy_allowing(principal: &str, actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": principal},
             "Action": actions, "Resource": "*"}
        ]
    })
    .to_string()
}

fn put_policy(ks: &mut MemKeystore, key: &str, policy: &str) -> strongroom_core::Result<()> {
    ks.put_key_policy(
        &mut rng(),
        NOW,
        &PutKeyPolicyRequest {
            key_id: key.into(),
            policy: policy.into(),
            ..Default::default()
        },
    )
}

fn grant(ks: &mut MemKeystore, req: CreateGrantRequest) -> CreateGrantResponse {
    ks.create_grant(&mut rng(), NOW, &req).unwrap()
}

#[test]
fn default_policy_admits_the_account_and_denies_others() {
    let mut ks = store();
    assert_eq!(ks.admin_principal(), "arn:aws:iam::111122223333:root");
    let key = new_key(&mut ks);
    let none = EncryptionContext::new();
    encrypt_as(&mut ks, Some(ALICE), &key, &none, &[]).unwrap();
    let err = encrypt_as(&mut ks, Some(BOB), &key, &none, &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDeniedException);
    assert!(err.message().contains(BOB) && err.message().contains("kms:Encrypt"));
    // Operations without a key resource are allowed for every principal.
    ks.act_as(Some(BOB));
    ks.list_keys(&mut rng(), NOW, None, None).unwrap();
    ks.generate_random(&mut rng(), NOW, 16).unwrap();
    assert_eq!(
        code(ks.describe_key(&mut rng(), NOW, &key)),
        ErrorKind::AccessDeniedException
    );
}

#[test]
fn key_policies_put_get_list_lockout_and_explicit_deny() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let got = ks.get_key_policy(&mut rng(), NOW, &key, None).unwrap();
    assert_eq!(got.policy_name, "default");
    assert!(got.policy.contains("arn:aws:iam::111122223333:root"));
    assert_eq!(
        ks.list_key_policies(&mut rng(), NOW, &key, None, None)
            .unwrap()
            .policy_names,
        ["default"]
    );
    assert_eq!(
        code(ks.get_key_policy(&mut rng(), NOW, &key, Some("other"))),
        ErrorKind::NotFoundException
    );

    let policy = policy_allowing(BOB, &["kms:Encrypt"]);
    put_policy(&mut ks, &key, &policy).unwrap();
    assert_eq!(
        ks.get_key_policy(&mut rng(), NOW, &key, Some("default"))
            .unwrap()
            .policy,
        policy
    );
    let none = EncryptionContext::new();
    encrypt_as(&mut ks, Some(BOB), &key, &none, &[]).unwrap();
    assert_eq!(
        code(encrypt_as(&mut ks, Some(CAROL), &key, &none, &[])),
        ErrorKind::AccessDeniedException
    );

    // Malformed documents and the lockout safety check.
    assert_eq!(
        code(put_policy(&mut ks, &key, "{not json")),
        ErrorKind::MalformedPolicyDocumentException
    );
    let lockout = serde_json::json!({"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": BOB}, "Action": "kms:Encrypt", "Resource": "*"}]})
    .to_string();
    let err = put_policy(&mut ks, &key, &lockout).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedPolicyDocumentException);
    ks.act_as(Some(BOB));
    assert_eq!(
        code(put_policy(&mut ks, &key, &policy)),
        ErrorKind::AccessDeniedException
    );
    ks.act_as(None);

    // An explicit Deny wins over the Allow for the account and over grants.
    let deny = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "x"}}}
    ]})
    .to_string();
    put_policy(&mut ks, &key, &deny).unwrap();
    let g = grant(
        &mut ks,
        CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: ALICE.into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        },
    );
    let x = ctx(&[("dept", "x")]);
    assert_eq!(
        code(encrypt_as(&mut ks, Some(ALICE), &key, &x, &[g.grant_token])),
        ErrorKind::AccessDeniedException
    );
    encrypt_as(&mut ks, Some(ALICE), &key, &ctx(&[("dept", "y")]), &[]).unwrap();
}

#[test]
fn grants_allow_the_grantee_until_retired_or_revoked() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let sales = ctx(&[("dept", "sales")]);
    let g = grant(
        &mut ks,
        CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: BOB.into(),
            retiring_principal: Some(CAROL.into()),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            constraints: Some(GrantConstraints {
                encryption_context_subset: Some(sales.clone()),
                ..Default::default()
            }),
            name: Some("bob-sales".into()),
            ..Default::default()
        },
    );
    assert_eq!(g.grant_id.len(), 64);
    // The token is usable at once; the constraint is enforced.
    let blob = encrypt_as(
        &mut ks,
        Some(BOB),
        &key,
        &sales,
        std::slice::from_ref(&g.grant_token),
    )
    .unwrap();
    assert_eq!(
        code(encrypt_as(
            &mut ks,
            Some(BOB),
            &key,
            &ctx(&[("dept", "hr")]),
            &[]
        )),
        ErrorKind::AccessDeniedException
    );
    ks.act_as(Some(BOB));
    let pt = ks
        .decrypt(
            &mut rng(),
            NOW,
            &DecryptRequest {
                ciphertext_blob: blob.clone(),
                encryption_context: sales.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(pt.plaintext.expose_secret(), b"secret");
    // Not a grant operation of this grant, and bob may not list grants.
    assert_eq!(
        code(ks.describe_key(&mut rng(), NOW, &key)),
        ErrorKind::AccessDeniedException
    );
    ks.act_as(None);

    // Same name and parameters: the same grant.
    let again = grant(
        &mut ks,
        CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: BOB.into(),
            retiring_principal: Some(CAROL.into()),
            operations: vec![GrantOperation::Decrypt, GrantOperation::Encrypt],
            constraints: Some(GrantConstraints {
                encryption_context_subset: Some(sales.clone()),
                ..Default::default()
            }),
            name: Some("bob-sales".into()),
            ..Default::default()
        },
    );
    assert_eq!(again.grant_id, g.grant_id);
    let listed = ks
        .list_grants(
            &mut rng(),
            NOW,
            &ListGrantsRequest {
                key_id: key.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(listed.grants.len(), 1);
    assert_eq!(listed.grants[0].key_id, key);
    assert_eq!(
        listed.grants[0].issuing_account,
        "arn:aws:iam::111122223333:root"
    );
    assert_eq!(
        code(ks.list_grants(
            &mut rng(),
            NOW,
            &ListGrantsRequest {
                key_id: key.clone(),
                limit: Some(101),
                ..Default::default()
            }
        )),
        ErrorKind::ValidationException
    );
    ks.act_as(Some(CAROL));
    let retirable = ks
        .list_retirable_grants(&mut rng(), NOW, CAROL, None, None)
        .unwrap();
    assert_eq!(retirable.grants[0].grant_id, g.grant_id);

    // The retiring principal retires it by token; bob is denied again.
    ks.retire_grant(
        &mut rng(),
        NOW,
        &RetireGrantRequest {
            grant_token: Some(g.grant_token.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    ks.act_as(None);
    assert_eq!(
        code(encrypt_as(&mut ks, Some(BOB), &key, &sales, &[])),
        ErrorKind::AccessDeniedException
    );
    assert_eq!(
        code(ks.revoke_grant(&mut rng(), NOW, &key, &g.grant_id)),
        ErrorKind::NotFoundException
    );

    // RevokeGrant needs the key policy; the admin has it.
    let g2 = grant(
        &mut ks,
        CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: BOB.into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        },
    );
    encrypt_as(&mut ks, Some(BOB), &key, &sales, &[]).unwrap();
    ks.act_as(Some(BOB));
    assert_eq!(
        code(ks.revoke_grant(&mut rng(), NOW, &key, &g2.grant_id)),
        ErrorKind::AccessDeniedException
    );
    ks.act_as(None);
    ks.revoke_grant(&mut rng(), NOW, &key, &g2.grant_id)
        .unwrap();
    assert_eq!(
        code(encrypt_as(&mut ks, Some(BOB), &key, &sales, &[])),
        ErrorKind::AccessDeniedException
    );
    // A forged token is refused.
    assert_eq!(
        code(encrypt_as(&mut ks, None, &key, &sales, &["AQ".into()])),
        ErrorKind::InvalidGrantTokenException
    );
}

#[test]
fn re_encrypt_needs_from_on_the_source_and_to_on_the_destination() {
    let mut ks = store();
    let src = new_key(&mut ks);
    let dst = new_key(&mut ks);
    let none = EncryptionContext::new();
    let blob = encrypt_as(&mut ks, None, &src, &none, &[]).unwrap();
    put_policy(&mut ks, &src, &policy_allowing(BOB, &["kms:ReEncryptFrom"])).unwrap();
    let req = ReEncryptRequest {
        ciphertext_blob: blob,
        destination_key_id: dst.clone(),
        ..Default::default()
    };
    ks.act_as(Some(BOB));
    let err = ks.re_encrypt(&mut rng(), NOW, &req).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AccessDeniedException);
    assert!(err.message().contains("kms:ReEncryptTo"));
    ks.act_as(None);
    put_policy(&mut ks, &dst, &policy_allowing(BOB, &["kms:ReEncrypt*"])).unwrap();
    ks.act_as(Some(BOB));
    let out = ks.re_encrypt(&mut rng(), NOW, &req).unwrap();
    assert_eq!(out.key_id, dst);
    assert_eq!(out.source_key_id, src);
}

#[test]
fn every_call_is_audited_in_a_verifiable_chain() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let none = EncryptionContext::new();
    encrypt_as(&mut ks, Some(BOB), &key, &none, &[]).unwrap_err();
    ks.describe_key(&mut rng(), NOW, "alias/missing")
        .unwrap_err();
    let lines = ks.audit_lines().to_vec();
    assert_eq!(lines.len(), 3);
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["eventName"], "CreateKey");
    assert_eq!(events[0]["resources"][0]["ARN"], key);
    assert_eq!(events[1]["eventName"], "Encrypt");
    assert_eq!(events[1]["userIdentity"]["arn"], BOB);
    assert_eq!(events[1]["errorCode"], "AccessDeniedException");
    assert!(!lines[1].contains("secret"));
    assert_eq!(events[2]["errorCode"], "NotFoundException");
    assert_eq!(ks.verify_audit_log().unwrap().count, 3);

    // Lines kept elsewhere: an edit, a deletion, or a record re-serialized
    // from its parsed form.
    let lines_ref = || lines.iter().map(String::as_str);
    assert_eq!(ks.verify_audit_lines(lines_ref()).unwrap().count, 3);
    let mut edited = lines.clone();
    edited[1] = edited[1].replace(BOB, CAROL);
    let err = ks
        .verify_audit_lines(edited.iter().map(String::as_str))
        .unwrap_err();
    assert_eq!((err.index, err.reason), (1, ChainFault::ChainMismatch));
    let dropped = [lines[0].as_str(), lines[2].as_str()];
    assert_eq!(ks.verify_audit_lines(dropped).unwrap_err().index, 1);
    let rebuilt: Vec<String> = events
        .iter()
        .map(strongroom_core::audit::record_line)
        .collect();
    assert_eq!(rebuilt, lines);
    // Another root key's keystore does not verify this log.
    let other = MemKeystore::new(
        RootKey::from_bytes(&[8; 32]).unwrap(),
        "eu-west-1",
        ACCOUNT,
        NOW,
        &mut rng(),
    )
    .unwrap();
    assert_eq!(other.verify_audit_lines(lines_ref()).unwrap_err().index, 0);
}

#[test]
fn export_keeps_policies_grants_and_admin_and_starts_a_new_audit_log() {
    let mut ks = store().with_admin_principal(ALICE).unwrap();
    let key = new_key(&mut ks);
    let policy = serde_json::json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:*", "Resource": "*"}
    ]})
    .to_string();
    put_policy(&mut ks, &key, &policy).unwrap();
    let g = grant(
        &mut ks,
        CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: BOB.into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        },
    );
    let bytes = ks.export_sealed().unwrap();
    let mut back = MemKeystore::import_sealed(&bytes, root()).unwrap();
    assert_eq!(back.admin_principal(), ALICE);
    assert!(back.audit_lines().is_empty());
    assert_eq!(
        back.get_key_policy(&mut rng(), NOW, &key, None)
            .unwrap()
            .policy,
        policy
    );
    let none = EncryptionContext::new();
    encrypt_as(&mut back, Some(BOB), &key, &none, &[g.grant_token]).unwrap();
    assert_eq!(
        code(encrypt_as(&mut back, Some(CAROL), &key, &none, &[])),
        ErrorKind::AccessDeniedException
    );
    // The account root is not the administrator of this keystore.
    assert_eq!(
        code(encrypt_as(
            &mut back,
            Some("arn:aws:iam::111122223333:root"),
            &key,
            &none,
            &[]
        )),
        ErrorKind::AccessDeniedException
    );
    assert_eq!(back.export_sealed().unwrap().len(), bytes.len());
}

fn grant_count(ks: &mut MemKeystore, key: &str) -> usize {
    ks.list_grants(
        &mut rng(),
        NOW,
        &ListGrantsRequest {
            key_id: key.into(),
            ..Default::default()
        },
    )
    .unwrap()
    .grants
    .len()
}

/// As the native `Keystore::dry_run`: the operations with `DryRun` in KMS
/// run every check and fail with DryRunOperationException instead of
/// their result (grant writes are not made); the others are refused with
/// ValidationException; every call is audited.
#[test]
fn dry_runs_check_everything_and_change_nothing() {
    let mut ks = store();
    let key = new_key(&mut ks);
    ks.set_dry_run(true);
    assert!(ks.is_dry_run());
    let none = ctx(&[]);
    assert_eq!(
        code(encrypt_as(&mut ks, None, &key, &none, &[])),
        ErrorKind::DryRunOperationException
    );
    // The real call's error wins over the dry run's.
    assert_eq!(
        code(encrypt_as(&mut ks, None, "alias/none", &none, &[])),
        ErrorKind::NotFoundException
    );
    assert_eq!(
        code(encrypt_as(&mut ks, Some(BOB), &key, &none, &[])),
        ErrorKind::AccessDeniedException
    );
    ks.act_as(None);
    // No DryRun parameter in KMS: refused without running.
    assert_eq!(
        code(ks.create_key(&mut rng(), NOW, &CreateKeyRequest::default())),
        ErrorKind::ValidationException
    );
    assert_eq!(
        code(ks.describe_key(&mut rng(), NOW, &key)),
        ErrorKind::ValidationException
    );
    // Grant writes: checked, then not made.
    let req = CreateGrantRequest {
        key_id: key.clone(),
        grantee_principal: BOB.into(),
        retiring_principal: Some(CAROL.into()),
        operations: vec![GrantOperation::Encrypt],
        ..Default::default()
    };
    assert_eq!(
        code(ks.create_grant(&mut rng(), NOW, &req)),
        ErrorKind::DryRunOperationException
    );
    ks.set_dry_run(false);
    assert_eq!(grant_count(&mut ks, &key), 0);
    let g = grant(&mut ks, req);
    ks.set_dry_run(true);
    assert_eq!(
        code(ks.revoke_grant(&mut rng(), NOW, &key, &g.grant_id)),
        ErrorKind::DryRunOperationException
    );
    assert_eq!(
        code(ks.revoke_grant(&mut rng(), NOW, &key, &"0".repeat(64))),
        ErrorKind::NotFoundException
    );
    ks.act_as(Some(CAROL));
    let retire = RetireGrantRequest {
        grant_token: Some(g.grant_token.clone()),
        ..Default::default()
    };
    assert_eq!(
        code(ks.retire_grant(&mut rng(), NOW, &retire)),
        ErrorKind::DryRunOperationException
    );
    ks.act_as(None);
    ks.set_dry_run(false);
    assert_eq!(grant_count(&mut ks, &key), 1);
    encrypt_as(&mut ks, Some(BOB), &key, &none, &[]).unwrap();
    assert_eq!(
        ks.list_keys(&mut rng(), NOW, None, None)
            .unwrap()
            .keys
            .len(),
        1
    );
    // Audited: the dry-run Encrypt that would have succeeded, the refused CreateKey.
    let lines = ks.audit_lines().join("\n");
    assert!(lines.contains(r#""errorCode":"DryRunOperationException""#));
    assert!(lines.contains(r#""errorCode":"ValidationException""#));
    assert!(ks.verify_audit_log().is_ok());
}

/// A Deny on `kms:ResourceAliases` applies however the condition key is
/// spelled in the JSON text: the aliases are looked up because the parsed
/// policy tests the key, not because its text contains the name.
#[test]
fn resource_aliases_deny_applies_to_an_escaped_key() {
    for key_name in [
        "kms:ResourceAliases",
        "kms:ResourceAlias\\u0065s",
        "KMS:resourcealiases",
    ] {
        let mut ks = store();
        let key = new_key(&mut ks);
        ks.create_alias(&mut rng(), NOW, "alias/prot123", &key)
            .unwrap();
        let policy = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
                {{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}},
                  "Action": "kms:*", "Resource": "*"}},
                {{"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
                  "Condition": {{"ForAnyValue:StringLike": {{"{key_name}": "alias/prot*"}}}}}}
            ]}}"#
        );
        put_policy(&mut ks, &key, &policy).unwrap();
        assert_eq!(
            code(encrypt_as(&mut ks, Some(ALICE), &key, &ctx(&[]), &[])),
            ErrorKind::AccessDeniedException,
            "{key_name}"
        );
    }
}

/// Review 5b #4 through the in-memory keystore: a context that spells a key
/// twice in different case (`{"Dept": "payroll", "dept": "a"}`) is refused
/// by an Allow condition on that key, by a "deny unless" on it and by a grant
/// constraint naming it; with one spelling it works, and keys that collide
/// but that nothing names do not matter.
#[test]
fn a_context_key_given_twice_in_different_case_is_refused_where_it_is_named() {
    let forged = ctx(&[("Dept", "payroll"), ("dept", "a")]);
    let statements = |extra: serde_json::Value| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
             "Action": "kms:*", "Resource": "*"},
            extra
        ]})
        .to_string()
    };
    let mut ks = store();

    // An Allow with StringEquals on the key.
    let key = new_key(&mut ks);
    let allow = statements(
        serde_json::json!({"Effect": "Allow", "Principal": {"AWS": BOB},
        "Action": "kms:Encrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "a"}}}),
    );
    put_policy(&mut ks, &key, &allow).unwrap();
    let e = encrypt_as(&mut ks, Some(BOB), &key, &forged, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException);
    assert!(
        e.message().contains("no resource-based policy allows"),
        "{e}"
    );
    encrypt_as(&mut ks, Some(BOB), &key, &ctx(&[("dept", "a")]), &[]).unwrap();
    let unnamed = ctx(&[("Dept", "a"), ("Tag", "1"), ("tag", "2")]);
    encrypt_as(&mut ks, Some(BOB), &key, &unnamed, &[]).unwrap();

    // A Deny with StringNotEquals ("deny unless") on the key.
    let key = new_key(&mut ks);
    let deny = statements(serde_json::json!({"Effect": "Deny", "Principal": "*",
        "Action": "kms:Encrypt", "Resource": "*",
        "Condition": {"StringNotEquals": {"kms:EncryptionContext:Dept": "a"}}}));
    put_policy(&mut ks, &key, &deny).unwrap();
    let e = encrypt_as(&mut ks, Some(ALICE), &key, &forged, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException);
    assert!(e.message().contains("explicit deny"), "{e}");
    encrypt_as(&mut ks, Some(ALICE), &key, &ctx(&[("DEPT", "a")]), &[]).unwrap();

    // A grant with EncryptionContextSubset naming the key, used directly
    // and to pass on a grant whose constraint spells the key twice.
    let key = new_key(&mut ks);
    let subset = |pairs: &[(&str, &str)]| GrantConstraints {
        encryption_context_subset: Some(ctx(pairs)),
        encryption_context_equals: None,
    };
    let g = grant(
        &mut ks,
        CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: BOB.into(),
            operations: vec![GrantOperation::Encrypt, GrantOperation::CreateGrant],
            constraints: Some(subset(&[("Dept", "a")])),
            ..Default::default()
        },
    );
    let tokens = [g.grant_token];
    assert_eq!(
        code(encrypt_as(&mut ks, Some(BOB), &key, &forged, &tokens)),
        ErrorKind::AccessDeniedException
    );
    encrypt_as(
        &mut ks,
        Some(BOB),
        &key,
        &ctx(&[("dept", "a"), ("x", "1")]),
        &tokens,
    )
    .unwrap();
    ks.act_as(Some(BOB));
    let child = |constraint: GrantConstraints| CreateGrantRequest {
        key_id: key.clone(),
        grantee_principal: CAROL.into(),
        operations: vec![GrantOperation::Encrypt],
        constraints: Some(constraint),
        grant_tokens: tokens.to_vec(),
        ..Default::default()
    };
    let passed_on = ks.create_grant(
        &mut rng(),
        NOW,
        &child(subset(&[("Dept", "payroll"), ("dept", "a")])),
    );
    assert_eq!(code(passed_on), ErrorKind::AccessDeniedException);
    ks.create_grant(
        &mut rng(),
        NOW,
        &child(subset(&[("DEPT", "a"), ("y", "2")])),
    )
    .unwrap();
    ks.act_as(None);
}

/// CreateGrant takes one principal ARN for the grantee and the retiring
/// principal: `*`, wildcards, bare account IDs and service principals are
/// refused, so a grant never stands for a pattern.
#[test]
fn grant_principals_must_be_principal_arns() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let req = |key: &str, grantee: &str, retiring: Option<&str>| CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: grantee.into(),
        retiring_principal: retiring.map(Into::into),
        operations: vec![GrantOperation::Encrypt],
        ..Default::default()
    };
    for bad in [
        "*",
        "arn:aws:iam::444455556666:user/adm?n",
        "arn:aws:iam::444455556666:user/*",
        "arn:aws:iam::*:root",
        "444455556666",
        "dynamodb.amazonaws.com",
        "arn:aws:iam::444455556666:group/admins",
        "arn:aws:kms:eu-west-1:444455556666:key/abc",
        "arn:aws:iam::44445555666:user/bob",
    ] {
        let e = ks
            .create_grant(&mut rng(), NOW, &req(&key, bad, None))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}");
        assert!(e.message().contains("GranteePrincipal"), "{e}");
        let e = ks
            .create_grant(&mut rng(), NOW, &req(&key, BOB, Some(bad)))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}");
        assert!(e.message().contains("RetiringPrincipal"), "{e}");
    }
    assert_eq!(grant_count(&mut ks, &key), 0);
    for good in [
        BOB,
        "arn:aws:iam::444455556666:root",
        "arn:aws:iam::444455556666:role/path/app-role",
        "arn:aws:sts::444455556666:assumed-role/app-role/session-1",
        "arn:aws:sts::444455556666:federated-user/bob",
        "arn:aws-us-gov:iam::444455556666:user/bob",
    ] {
        ks.create_grant(&mut rng(), NOW, &req(&key, good, Some(good)))
            .unwrap();
    }
    // A grantee is one principal: BOB's grant does not cover CAROL.
    let mut ks = store();
    let key = new_key(&mut ks);
    grant(&mut ks, req(&key, BOB, None));
    assert!(encrypt_as(&mut ks, Some(BOB), &key, &ctx(&[]), &[]).is_ok());
    assert_eq!(
        code(encrypt_as(&mut ks, Some(CAROL), &key, &ctx(&[]), &[])),
        ErrorKind::AccessDeniedException
    );
}

/// User trial item 10: the account root in a key policy
/// (`arn:aws:iam::<account>:root`) covers the IAM principals of that
/// account in partition `aws` (users, roles, assumed roles, federated
/// users, the root), not any ARN that merely carries the account ID; and a
/// caller principal is checked as a grantee principal is
/// (`ValidationException`, audited).
#[test]
fn account_root_covers_only_iam_principals_and_callers_are_validated() {
    use strongroom_core::policy::principal_matches;
    let root = "arn:aws:iam::000000000000:root";
    for p in [
        "arn:aws:iam::000000000000:root",
        "arn:aws:iam::000000000000:user/x",
        "arn:aws:iam::000000000000:role/path/r",
        "arn:aws:sts::000000000000:assumed-role/r/session",
        "arn:aws:sts::000000000000:federated-user/f",
    ] {
        assert!(principal_matches(root, p), "{p}");
        assert!(principal_matches("000000000000", p), "{p}");
    }
    for p in [
        "arn:aws-cn:iam::000000000000:user/x",
        "arn:evil:iam::000000000000:user/x",
        "arn:aws:s3::000000000000:bucket",
        "arn:aws:iam::000000000000:group/admins",
        "arn:aws:iam::000000000000:policy/p",
        "arn:aws:iam::000000000000:",
        "arn:aws:iam::111122223333:user/x",
        "000000000000",
    ] {
        assert!(!principal_matches(root, p), "{p}");
    }
    assert!(principal_matches(
        "arn:aws-cn:iam::000000000000:root",
        "arn:aws-cn:iam::000000000000:user/x"
    ));

    let mut ks = store();
    let key = new_key(&mut ks);
    for bad in [
        "nope",
        "",
        "arn:aws:s3::111122223333:bucket",
        "arn:aws:iam::111122223333:user/*",
    ] {
        ks.act_as(Some(bad));
        let e = ks.describe_key(&mut rng(), NOW, &key).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}: {e}");
        let last = ks.audit_lines().last().unwrap();
        assert!(
            last.contains("\"errorCode\":\"ValidationException\""),
            "{last}"
        );
    }
    ks.act_as(Some(ALICE));
    ks.describe_key(&mut rng(), NOW, &key).unwrap();
}

/// An administrator no call can act as (a bare account ID, a wildcard, a
/// group) is refused when the keystore is made, as a caller principal is.
#[test]
fn an_admin_principal_no_call_can_act_as_is_refused() {
    for admin in [
        "111122223333",
        "arn:aws:iam::111122223333:role/*",
        "arn:aws:iam::111122223333:group/ops",
        "",
    ] {
        let e = store().with_admin_principal(admin).map(|_| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{admin}: {e}");
    }
    store().with_admin_principal(ALICE).unwrap();
}

/// `aws:CurrentTime` and `aws:EpochTime` come from the call's time;
/// `aws:SourceIp` is absent in process, so an `IpAddress` condition does
/// not hold and a `NotIpAddress` one does.
#[test]
fn request_time_and_source_ip_condition_keys() {
    let mut ks = store();
    let key = new_key(&mut ks);
    // NOW is 2027-01-15T08:00:00Z.
    let policy = |condition: serde_json::Value| {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                 "Action": "kms:*", "Resource": "*", "Condition": condition},
                {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                 "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy"], "Resource": "*"}
            ]
        })
        .to_string()
    };
    let none = EncryptionContext::new();
    let encrypt_at = |ks: &mut MemKeystore, now: u64| {
        ks.act_as(Some(ALICE));
        let r = ks.encrypt(
            &mut rng(),
            now,
            &EncryptRequest {
                key_id: key.clone(),
                plaintext: Secret::from_slice(b"secret"),
                ..Default::default()
            },
        );
        ks.act_as(None);
        r.map(|_| ()).map_err(|e| e.kind())
    };
    put_policy(
        &mut ks,
        &key,
        &policy(serde_json::json!({"DateLessThan": {"aws:CurrentTime": "2027-01-15T08:00:01Z"}})),
    )
    .unwrap();
    encrypt_at(&mut ks, NOW).unwrap();
    assert_eq!(
        encrypt_at(&mut ks, NOW + 1),
        Err(ErrorKind::AccessDeniedException)
    );
    put_policy(
        &mut ks,
        &key,
        &policy(serde_json::json!({"NumericGreaterThanEquals": {"aws:EpochTime": NOW}})),
    )
    .unwrap();
    encrypt_at(&mut ks, NOW).unwrap();
    assert_eq!(
        encrypt_at(&mut ks, NOW - 1),
        Err(ErrorKind::AccessDeniedException)
    );
    put_policy(
        &mut ks,
        &key,
        &policy(serde_json::json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})),
    )
    .unwrap();
    assert_eq!(
        encrypt_as(&mut ks, Some(ALICE), &key, &none, &[])
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(ErrorKind::AccessDeniedException)
    );
    put_policy(
        &mut ks,
        &key,
        &policy(serde_json::json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
    )
    .unwrap();
    encrypt_as(&mut ks, Some(ALICE), &key, &none, &[]).unwrap();
}

/// A key policy whose numeric conditions hold JSON numbers beyond f64's
/// range (which serde_json refuses to read) is accepted, kept as written
/// and compared exactly, as the same numbers written as strings are; the
/// native keystore's twin is in strongroom/tests/policy.rs.
#[test]
fn numbers_beyond_f64_range_in_a_key_policy() {
    let mut ks = store();
    let key = new_key(&mut ks);
    let rotate = |ks: &mut MemKeystore, days: u32| {
        ks.act_as(Some(BOB));
        let out = ks.enable_key_rotation(&mut rng(), NOW, &key, Some(days));
        ks.act_as(None);
        out
    };
    let big = format!("1{}", "0".repeat(499));
    let policy = |allow: &str| {
        format!(
            r#"{{"Version": "2012-10-17", "Statement": [
            {{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}},
              "Action": "kms:*", "Resource": "*"}},
            {{"Effect": "Allow", "Principal": {{"AWS": "{BOB}"}},
              "Action": "kms:EnableKeyRotation", "Resource": "*", "Condition": {allow}}},
            {{"Effect": "Deny", "Principal": "*", "Action": "kms:EnableKeyRotation",
              "Resource": "*", "Condition": {{"NumericEquals":
              {{"kms:RotationPeriodInDays": [1e-400, {big}, -1e400]}}}}}}]}}"#
        )
    };
    let within = policy(
        r#"{"NumericLessThan": {"kms:RotationPeriodInDays": 1e400},
            "NumericGreaterThan": {"kms:RotationPeriodInDays": -1e400}}"#,
    );
    put_policy(&mut ks, &key, &within).unwrap();
    assert_eq!(
        ks.get_key_policy(&mut rng(), NOW, &key, None)
            .unwrap()
            .policy,
        within
    );
    rotate(&mut ks, 90).unwrap();
    let beyond = policy(r#"{"NumericGreaterThan": {"kms:RotationPeriodInDays": 1e400}}"#);
    put_policy(&mut ks, &key, &beyond).unwrap();
    assert_eq!(code(rotate(&mut ks, 90)), ErrorKind::AccessDeniedException);
    // The same numbers as strings: the same decisions.
    let strings = within
        .replace("-1e400", "\"-1e400\"")
        .replace(" 1e400", " \"1e400\"");
    put_policy(&mut ks, &key, &strings).unwrap();
    rotate(&mut ks, 90).unwrap();
}
