//! Key policies enforced by the keystore: principals, the default policy,
//! PutKeyPolicy/GetKeyPolicy/ListKeyPolicies, the lockout safety check, the
//! condition keys each operation supplies, and explicit Deny over Allow.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use serde_json::{json, Value};
use strongroom::api::*;
use strongroom::core::policy::LOCKOUT_MESSAGE;
use strongroom::{AuditFilter, CreateOptions, ErrorKind, Keystore, Secret};

const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";
const APP: &str = "arn:aws:iam::000000000000:user/app";
const OTHER: &str = "arn:aws:iam::000000000000:user/other";
const OUTSIDER: &str = "arn:aws:iam::999999999999:user/mallory";

/// A keystore whose administrator is one user (not the whole account).
fn admin_fixture() -> (tempfile::TempDir, Keystore) {
    admin_keystore(ADMIN)
}

fn events(ks: &Keystore) -> Vec<Value> {
    ks.audit_events(&AuditFilter::default()).unwrap()
}

fn put_policy(ks: &Keystore, key_id: &str, policy: &Value) -> strongroom::Result<()> {
    ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key_id.into(),
        policy: policy.to_string(),
        ..Default::default()
    })
}

fn allow_admin() -> Value {
    json!({"Sid": "admin", "Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"})
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn enc(ks: &Keystore, key_id: &str, c: &[(&str, &str)]) -> strongroom::Result<EncryptResponse> {
    ks.encrypt(&EncryptRequest {
        key_id: key_id.into(),
        plaintext: Secret::from_slice(b"hello"),
        encryption_context: ctx(c),
        ..Default::default()
    })
}

#[test]
fn default_principal_is_the_admin_and_as_principal_is_cheap() {
    let f = fixture();
    assert_eq!(f.ks.principal(), "arn:aws:iam::000000000000:root");
    assert_eq!(f.ks.admin_principal(), "arn:aws:iam::000000000000:root");
    let app = f.ks.as_principal(APP);
    assert_eq!(app.principal(), APP);
    assert_eq!(app.admin_principal(), "arn:aws:iam::000000000000:root");
    // The account root in the default policy covers every principal of the account ...
    let key = new_key(&f.ks);
    enc(&app, &key.key_id, &[]).unwrap();
    // ... but not another account.
    let e = expect_err(
        enc(&f.ks.as_principal(OUTSIDER), &key.key_id, &[]),
        ErrorKind::AccessDeniedException,
    );
    assert!(e.message().contains(OUTSIDER), "{e}");
    assert!(e.message().contains("kms:Encrypt"), "{e}");
    // The clock survives as_principal and with_clock keeps the principal.
    let again = app.clone().with_clock(f.clock.clone());
    assert_eq!(again.principal(), APP);
}

#[test]
fn invalid_admin_principal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let r = Keystore::create(
        dir.path().join("ks.db"),
        root_source(&ROOT),
        CreateOptions {
            admin_principal: Some("not an arn".into()),
            ..CreateOptions::default()
        },
    );
    expect_err(r, ErrorKind::ValidationException);
}

#[test]
fn denied_principal_gets_access_denied_and_one_audit_event() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    let before = events(&ks).len();
    let app = ks.as_principal(APP);
    let e = expect_err(
        enc(&app, &key.key_id, &[]),
        ErrorKind::AccessDeniedException,
    );
    assert_eq!(
        e.message(),
        format!(
            "User: {APP} is not authorized to perform: kms:Encrypt on resource: {} because no resource-based policy allows the action",
            key.arn
        )
    );
    let ev = events(&ks);
    assert_eq!(ev.len(), before + 1);
    let last = ev.last().unwrap();
    assert_eq!(last["eventName"], "Encrypt");
    assert_eq!(last["errorCode"], "AccessDeniedException");
    assert_eq!(last["userIdentity"]["arn"], APP);
    assert_eq!(last["resources"][0]["ARN"], key.arn.as_str());
    // Management operations are denied the same way.
    for r in [
        app.disable_key(&key.key_id),
        app.enable_key(&key.key_id),
        app.update_key_description(&key.key_id, "x"),
        app.enable_key_rotation(&key.key_id, None),
        app.tag_resource(
            &key.key_id,
            &[Tag {
                tag_key: "a".into(),
                tag_value: "b".into(),
            }],
        ),
    ] {
        expect_err(r, ErrorKind::AccessDeniedException);
    }
    expect_err(
        app.describe_key(&key.key_id),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        app.schedule_key_deletion(&key.key_id, None),
        ErrorKind::AccessDeniedException,
    );
    expect_err(
        app.get_key_policy(&key.key_id, None),
        ErrorKind::AccessDeniedException,
    );
    assert_eq!(events(&ks).len(), before + 9);
    // Nothing changed.
    let meta = ks.describe_key(&key.key_id).unwrap().key_metadata;
    assert!(meta.enabled);
    assert_eq!(meta.description, "");
}

#[test]
fn iam_only_operations_are_allowed_for_every_principal() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    let app = ks.as_principal(OUTSIDER);
    assert_eq!(app.list_keys(None, None).unwrap().keys.len(), 1);
    app.list_aliases(None, None, None).unwrap();
    app.generate_random(16).unwrap();
    // The outsider can create a key, but with the default policy only the admin may use it.
    let k2 = app.create_key(&CreateKeyRequest::default()).unwrap();
    expect_err(
        enc(&app, &k2.key_metadata.key_id, &[]),
        ErrorKind::AccessDeniedException,
    );
    enc(&ks, &key.key_id, &[]).unwrap();
}

#[test]
fn get_put_list_key_policies() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    let got = ks.get_key_policy(&key.key_id, None).unwrap();
    assert_eq!(got.policy_name, "default");
    let v: Value = serde_json::from_str(&got.policy).unwrap();
    assert_eq!(v["Statement"][0]["Principal"]["AWS"], ADMIN);
    assert_eq!(
        ks.list_key_policies(&key.key_id, None, None)
            .unwrap()
            .policy_names,
        vec!["default"]
    );
    expect_err(
        ks.get_key_policy(&key.key_id, Some("other")),
        ErrorKind::NotFoundException,
    );
    let p = doc(vec![
        allow_admin(),
        json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Encrypt", "Resource": "*"}),
    ]);
    put_policy(&ks, &key.key_id, &p).unwrap();
    let got = ks.get_key_policy(&key.key_id, Some("default")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&got.policy).unwrap(),
        p,
        "GetKeyPolicy returns the document as put"
    );
    enc(&ks.as_principal(APP), &key.key_id, &[]).unwrap();
    expect_err(
        ks.as_principal(APP).describe_key(&key.key_id),
        ErrorKind::AccessDeniedException,
    );
    // Malformed documents.
    for bad in [
        "not json".to_string(),
        json!({"Statement": []}).to_string(),
        json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Bogus": 1}}).to_string(),
        json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
            "Condition": {"StringEqualsButNot": {"kms:KeySpec": "x"}}}}).to_string(),
        format!("{{\"Statement\": [{}]}}", vec![allow_admin().to_string(); 400].join(",")),
    ] {
        let r = ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key.key_id.clone(),
            policy: bad,
            ..Default::default()
        });
        expect_err(r, ErrorKind::MalformedPolicyDocumentException);
    }
    let r = ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.key_id.clone(),
        policy_name: Some("custom".into()),
        policy: p.to_string(),
        ..Default::default()
    });
    expect_err(r, ErrorKind::NotFoundException);
}

#[test]
fn lockout_safety_check() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    let locks_out = doc(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:*", "Resource": "*"}),
    ]);
    let e = expect_err(
        put_policy(&ks, &key.key_id, &locks_out),
        ErrorKind::MalformedPolicyDocumentException,
    );
    assert_eq!(e.message(), LOCKOUT_MESSAGE);
    // A deny of PutKeyPolicy for the caller also locks out.
    let denies = doc(vec![
        allow_admin(),
        json!({"Effect": "Deny", "Principal": {"AWS": ADMIN}, "Action": "kms:PutKeyPolicy", "Resource": "*"}),
    ]);
    expect_err(
        put_policy(&ks, &key.key_id, &denies),
        ErrorKind::MalformedPolicyDocumentException,
    );
    // CreateKey with a lockout policy is refused too ...
    let r = ks.create_key(&CreateKeyRequest {
        policy: Some(locks_out.to_string()),
        ..Default::default()
    });
    expect_err(r, ErrorKind::MalformedPolicyDocumentException);
    // ... unless the check is bypassed.
    let k2 = ks
        .create_key(&CreateKeyRequest {
            policy: Some(locks_out.to_string()),
            bypass_policy_lockout_safety_check: true,
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    expect_err(
        ks.describe_key(&k2.key_id),
        ErrorKind::AccessDeniedException,
    );
    ks.as_principal(APP).describe_key(&k2.key_id).unwrap();
    // Bypass on PutKeyPolicy: the admin loses control of the key.
    ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.key_id.clone(),
        policy: locks_out.to_string(),
        bypass_policy_lockout_safety_check: true,
        ..Default::default()
    })
    .unwrap();
    expect_err(
        put_policy(&ks, &key.key_id, &doc(vec![allow_admin()])),
        ErrorKind::AccessDeniedException,
    );
    // The new principal may put it back.
    put_policy(
        &ks.as_principal(APP),
        &key.key_id,
        &doc(vec![
            allow_admin(),
            json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:*", "Resource": "*"}),
        ]),
    )
    .unwrap();
    ks.describe_key(&key.key_id).unwrap();
    // kms:BypassPolicyLockoutSafetyCheck can be denied.
    let no_bypass = doc(vec![
        allow_admin(),
        json!({"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*",
               "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}}),
    ]);
    put_policy(&ks, &key.key_id, &no_bypass).unwrap();
    let r = ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.key_id.clone(),
        policy: locks_out.to_string(),
        bypass_policy_lockout_safety_check: true,
        ..Default::default()
    });
    expect_err(r, ErrorKind::AccessDeniedException);
}

#[test]
fn explicit_deny_wins_over_allow() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    put_policy(
        &ks,
        &key.key_id,
        &doc(vec![
            allow_admin(),
            json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}),
            json!({"Effect": "Deny", "Principal": {"AWS": OTHER}, "Action": "kms:Encrypt", "Resource": "*"}),
        ]),
    )
    .unwrap();
    enc(&ks.as_principal(APP), &key.key_id, &[]).unwrap();
    let e = expect_err(
        enc(&ks.as_principal(OTHER), &key.key_id, &[]),
        ErrorKind::AccessDeniedException,
    );
    assert!(e.message().contains("explicit deny"), "{e}");
    ks.as_principal(OTHER).describe_key(&key.key_id).unwrap();
}

/// One row per (policy statement for APP, request, expected outcome): the
/// condition keys the keystore supplies for each operation.
#[test]
fn condition_keys_supplied_per_operation() {
    let (_d, ks) = admin_fixture();
    let key = ks
        .create_key(&CreateKeyRequest {
            tags: vec![Tag {
                tag_key: "team".into(),
                tag_value: "blue".into(),
            }],
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    let other_key = new_key(&ks);
    ks.create_alias("alias/app", &key.key_id).unwrap();
    let app = ks.as_principal(APP);
    let blob = encrypt(&ks, &key.key_id, b"secret", &ctx(&[("tenant", "a")]));
    let other_blob = encrypt(&ks, &other_key.key_id, b"secret", &ctx(&[]));

    type Op = Box<dyn Fn(&Keystore) -> strongroom::Result<()>>;
    let k = key.key_id.clone();
    let encrypt_a: Op = {
        let k = k.clone();
        Box::new(move |ks| enc(ks, &k, &[("tenant", "a")]).map(|_| ()))
    };
    let encrypt_b: Op = {
        let k = k.clone();
        Box::new(move |ks| enc(ks, &k, &[("tenant", "b")]).map(|_| ()))
    };
    let encrypt_none: Op = {
        let k = k.clone();
        Box::new(move |ks| enc(ks, &k, &[]).map(|_| ()))
    };
    let encrypt_via_alias: Op = Box::new(|ks| enc(ks, "alias/app", &[]).map(|_| ()));
    let decrypt_a: Op = {
        let blob = blob.clone();
        Box::new(move |ks| try_decrypt(ks, &blob, &ctx(&[("tenant", "a")]), None).map(|_| ()))
    };
    let gdk_a: Op = {
        let k = k.clone();
        Box::new(move |ks| {
            ks.generate_data_key(&GenerateDataKeyRequest {
                key_id: k.clone(),
                number_of_bytes: Some(32),
                encryption_context: ctx(&[("tenant", "a")]),
                ..Default::default()
            })
            .map(|_| ())
        })
    };
    let re_encrypt_to_other: Op = {
        let blob = blob.clone();
        let dst = other_key.key_id.clone();
        Box::new(move |ks| {
            ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                source_encryption_context: ctx(&[("tenant", "a")]),
                destination_key_id: dst.clone(),
                ..Default::default()
            })
            .map(|_| ())
        })
    };
    let re_encrypt_from_other: Op = {
        let blob = other_blob.clone();
        let dst = k.clone();
        Box::new(move |ks| {
            ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                destination_key_id: dst.clone(),
                ..Default::default()
            })
            .map(|_| ())
        })
    };
    let schedule_7: Op = {
        let k = k.clone();
        Box::new(move |ks| ks.schedule_key_deletion(&k, Some(7)).map(|_| ()))
    };
    let schedule_30: Op = {
        let k = k.clone();
        Box::new(move |ks| ks.schedule_key_deletion(&k, Some(30)).map(|_| ()))
    };
    let rotation_90: Op = {
        let k = k.clone();
        Box::new(move |ks| ks.enable_key_rotation(&k, Some(90)))
    };
    let rotation_400: Op = {
        let k = k.clone();
        Box::new(move |ks| ks.enable_key_rotation(&k, Some(400)))
    };
    let tag_env_dev: Op = {
        let k = k.clone();
        Box::new(move |ks| {
            ks.tag_resource(
                &k,
                &[Tag {
                    tag_key: "env".into(),
                    tag_value: "dev".into(),
                }],
            )
        })
    };
    let tag_env_prod: Op = {
        let k = k.clone();
        Box::new(move |ks| {
            ks.tag_resource(
                &k,
                &[Tag {
                    tag_key: "env".into(),
                    tag_value: "prod".into(),
                }],
            )
        })
    };
    let describe: Op = {
        let k = k.clone();
        Box::new(move |ks| ks.describe_key(&k).map(|_| ()))
    };

    let allow = |action: &str, condition: Value| json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": action, "Resource": "*", "Condition": condition});
    let rows: Vec<(&str, Value, &Op, bool)> = vec![
        (
            "EncryptionContext match",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:EncryptionContext:tenant": "a"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "EncryptionContext mismatch",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:EncryptionContext:tenant": "a"}}),
            ),
            &encrypt_b,
            false,
        ),
        (
            "EncryptionContextKeys ForAllValues",
            allow(
                "kms:Encrypt",
                json!({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "EncryptionContextKeys ForAnyValue absent",
            allow(
                "kms:Encrypt",
                json!({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}),
            ),
            &encrypt_none,
            false,
        ),
        (
            "Null EncryptionContextKeys false requires a context",
            allow(
                "kms:Encrypt",
                json!({"Null": {"kms:EncryptionContextKeys": "false"}}),
            ),
            &encrypt_none,
            false,
        ),
        (
            "EncryptionAlgorithm",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "KeySpec",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:KeySpec": "SYMMETRIC_DEFAULT"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "KeySpec mismatch",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:KeySpec": "RSA_2048"}}),
            ),
            &encrypt_a,
            false,
        ),
        (
            "KeyUsage",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:KeyUsage": "ENCRYPT_DECRYPT"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "KeyOrigin",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:KeyOrigin": "AWS_KMS"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "KeyOrigin mismatch",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:KeyOrigin": "EXTERNAL"}}),
            ),
            &encrypt_a,
            false,
        ),
        (
            "CallerAccount",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:CallerAccount": "000000000000"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "ResourceTag",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"aws:ResourceTag/team": "blue"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "ResourceTag mismatch",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"aws:ResourceTag/team": "red"}}),
            ),
            &encrypt_a,
            false,
        ),
        (
            "RequestAlias by alias",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:RequestAlias": "alias/app"}}),
            ),
            &encrypt_via_alias,
            true,
        ),
        (
            "RequestAlias by key ID",
            allow(
                "kms:Encrypt",
                json!({"StringEquals": {"kms:RequestAlias": "alias/app"}}),
            ),
            &encrypt_a,
            false,
        ),
        (
            "ResourceAliases",
            allow(
                "kms:Encrypt",
                json!({"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/app"}}),
            ),
            &encrypt_a,
            true,
        ),
        (
            "ResourceAliases mismatch",
            allow(
                "kms:Encrypt",
                json!({"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/nope*"}}),
            ),
            &encrypt_a,
            false,
        ),
        (
            "Decrypt with context",
            allow(
                "kms:Decrypt",
                json!({"StringEquals": {"kms:EncryptionContext:tenant": "a"}}),
            ),
            &decrypt_a,
            true,
        ),
        (
            "Decrypt not allowed by Encrypt",
            allow("kms:Encrypt", json!({})),
            &decrypt_a,
            false,
        ),
        (
            "GenerateDataKey wildcard",
            allow(
                "kms:Generate*",
                json!({"StringEquals": {"kms:EncryptionContext:tenant": "a"}}),
            ),
            &gdk_a,
            true,
        ),
        (
            "ReEncryptFrom alone is not enough",
            allow("kms:ReEncryptFrom", json!({})),
            &re_encrypt_to_other,
            false,
        ),
        (
            "ReEncryptFrom on source",
            allow(
                "kms:ReEncrypt*",
                json!({"Bool": {"kms:ReEncryptOnSameKey": "false"}}),
            ),
            &re_encrypt_to_other,
            false,
        ),
        (
            "ReEncryptTo on destination",
            allow("kms:ReEncrypt*", json!({})),
            &re_encrypt_from_other,
            false,
        ),
        (
            "ScheduleKeyDeletion window",
            allow(
                "kms:ScheduleKeyDeletion",
                json!({"NumericGreaterThanEquals": {"kms:ScheduleKeyDeletionPendingWindowInDays": 30}}),
            ),
            &schedule_7,
            false,
        ),
        (
            "RotationPeriodInDays",
            allow(
                "kms:EnableKeyRotation",
                json!({"NumericLessThanEquals": {"kms:RotationPeriodInDays": 365}}),
            ),
            &rotation_90,
            true,
        ),
        (
            "RotationPeriodInDays too long",
            allow(
                "kms:EnableKeyRotation",
                json!({"NumericLessThanEquals": {"kms:RotationPeriodInDays": 365}}),
            ),
            &rotation_400,
            false,
        ),
        (
            "RequestTag",
            allow(
                "kms:TagResource",
                json!({"StringEquals": {"aws:RequestTag/env": "dev"}}),
            ),
            &tag_env_dev,
            true,
        ),
        (
            "RequestTag mismatch",
            allow(
                "kms:TagResource",
                json!({"StringEquals": {"aws:RequestTag/env": "dev"}}),
            ),
            &tag_env_prod,
            false,
        ),
        (
            "NotAction",
            json!({"Effect": "Allow", "Principal": {"AWS": APP}, "NotAction": "kms:Encrypt", "Resource": "*"}),
            &describe,
            true,
        ),
        (
            "NotAction excludes",
            json!({"Effect": "Allow", "Principal": {"AWS": APP}, "NotAction": ["kms:Encrypt", "kms:Describe*"], "Resource": "*"}),
            &describe,
            false,
        ),
        (
            "StringLike principal",
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/a*"}, "Action": "kms:Encrypt", "Resource": "*"}),
            &encrypt_a,
            true,
        ),
        (
            "Resource mismatch",
            json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Encrypt", "Resource": "arn:aws:kms:local-1:000000000000:key/other"}),
            &encrypt_a,
            false,
        ),
    ];
    for (name, statement, op, expected) in rows {
        put_policy(&ks, &key.key_id, &doc(vec![allow_admin(), statement])).unwrap();
        let r = op(&app);
        match (expected, r) {
            (true, Ok(())) => {}
            (false, Err(e)) if e.kind() == ErrorKind::AccessDeniedException => {}
            (_, r) => panic!("{name}: expected allowed={expected}, got {r:?}"),
        }
    }
    // ReEncrypt needs From on the source and To on the destination.
    put_policy(
        &ks,
        &key.key_id,
        &doc(vec![allow_admin(), json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:ReEncryptFrom", "Resource": "*"})]),
    )
    .unwrap();
    put_policy(
        &ks,
        &other_key.key_id,
        &doc(vec![allow_admin(), json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:ReEncryptTo", "Resource": "*"})]),
    )
    .unwrap();
    re_encrypt_to_other(&app).unwrap();
    expect_err(
        re_encrypt_from_other(&app),
        ErrorKind::AccessDeniedException,
    );
    // The schedule row above that is allowed, last because it changes the key state.
    put_policy(
        &ks,
        &key.key_id,
        &doc(vec![allow_admin(), allow("kms:ScheduleKeyDeletion", json!({"NumericGreaterThanEquals": {"kms:ScheduleKeyDeletionPendingWindowInDays": 30}}))]),
    )
    .unwrap();
    schedule_30(&app).unwrap();
}

#[test]
fn alias_operations_need_permission_on_the_keys() {
    let (_d, ks) = admin_fixture();
    let a = new_key(&ks);
    let b = new_key(&ks);
    let app = ks.as_principal(APP);
    expect_err(
        app.create_alias("alias/x", &a.key_id),
        ErrorKind::AccessDeniedException,
    );
    ks.create_alias("alias/x", &a.key_id).unwrap();
    let alias_admin = json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": ["kms:UpdateAlias", "kms:DeleteAlias"], "Resource": "*"});
    put_policy(
        &ks,
        &b.key_id,
        &doc(vec![allow_admin(), alias_admin.clone()]),
    )
    .unwrap();
    // UpdateAlias needs permission on the current and the new key.
    expect_err(
        app.update_alias("alias/x", &b.key_id),
        ErrorKind::AccessDeniedException,
    );
    put_policy(&ks, &a.key_id, &doc(vec![allow_admin(), alias_admin])).unwrap();
    app.update_alias("alias/x", &b.key_id).unwrap();
    app.delete_alias("alias/x").unwrap();
}

/// A Deny on `kms:ResourceAliases` applies however the JSON text spells the
/// key (here with a `\u0065` escape): the keystore looks the aliases up
/// because the parsed policy tests the key.
#[test]
fn resource_aliases_deny_with_an_escaped_key() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    ks.create_alias("alias/prot123", &key.key_id).unwrap();
    for key_name in ["kms:ResourceAliases", "kms:ResourceAlias\\u0065s"] {
        let text = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
                {{"Effect": "Allow", "Principal": {{"AWS": "{ADMIN}"}}, "Action": "kms:*", "Resource": "*"}},
                {{"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
                  "Condition": {{"ForAnyValue:StringLike": {{"{key_name}": "alias/prot*"}}}}}}
            ]}}"#
        );
        ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key.key_id.clone(),
            policy: text,
            ..Default::default()
        })
        .unwrap();
        let e = expect_err(enc(&ks, &key.key_id, &[]), ErrorKind::AccessDeniedException);
        assert!(e.message().contains("explicit deny"), "{key_name}: {e}");
    }
}

/// The context key of `kms:EncryptionContext:<key>` is matched without
/// regard to case (KMS Developer Guide): a Deny written for
/// `classification` also stops a blob encrypted with `Classification`.
#[test]
fn encryption_context_deny_ignores_the_case_of_the_context_key() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    let upper = encrypt(
        &ks,
        &key.key_id,
        b"x",
        &ctx(&[("Classification", "secret")]),
    );
    let lower = encrypt(
        &ks,
        &key.key_id,
        b"x",
        &ctx(&[("classification", "secret")]),
    );
    let public = encrypt(
        &ks,
        &key.key_id,
        b"x",
        &ctx(&[("Classification", "public")]),
    );
    put_policy(
        &ks,
        &key.key_id,
        &doc(vec![
            allow_admin(),
            json!({"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:classification": "secret"}}}),
        ]),
    )
    .unwrap();
    for (blob, pairs) in [
        (&upper, [("Classification", "secret")]),
        (&lower, [("classification", "secret")]),
    ] {
        expect_err(
            try_decrypt(&ks, blob, &ctx(&pairs), None),
            ErrorKind::AccessDeniedException,
        );
    }
    assert_eq!(
        decrypt(&ks, &public, &ctx(&[("Classification", "public")])),
        b"x"
    );
}

/// Review 5b #4 and #5 through the keystore. A context that spells the key
/// a condition names twice in different case (`{"Dept": "payroll", "dept":
/// "a"}`) meets no Allow condition on it and meets every Deny condition on
/// it, so both the Allow shape and the "deny unless" shape refuse it; a
/// Unicode case look-alike of the key (`\u{212A}ey`, KELVIN SIGN, for `key`)
/// is not the key.
#[test]
fn a_context_key_given_twice_in_different_case_is_refused_by_conditions_on_it() {
    let (_d, ks) = admin_fixture();
    let app = ks.as_principal(APP);
    let forged = [("Dept", "payroll"), ("dept", "a")];
    let no_allow = |r: strongroom::Result<EncryptResponse>| {
        let e = expect_err(r, ErrorKind::AccessDeniedException);
        assert!(
            e.message().contains("no resource-based policy allows"),
            "{e}"
        );
    };

    // Allow … StringEquals kms:EncryptionContext:Dept = a
    let key = new_key(&ks);
    let allow_dept_a = json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Encrypt",
        "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "a"}}});
    put_policy(&ks, &key.key_id, &doc(vec![allow_admin(), allow_dept_a])).unwrap();
    no_allow(enc(&app, &key.key_id, &forged));
    no_allow(enc(&app, &key.key_id, &[("Dept", "a"), ("DEPT", "a")]));
    enc(&app, &key.key_id, &[("dept", "a")]).unwrap();
    enc(
        &app,
        &key.key_id,
        &[("Dept", "a"), ("Tag", "1"), ("tag", "2")],
    )
    .unwrap();

    // Deny … StringNotEquals kms:EncryptionContext:Dept = a ("deny unless")
    let key = new_key(&ks);
    let allow_app = json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Encrypt",
        "Resource": "*"});
    let deny_unless = json!({"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt",
        "Resource": "*", "Condition": {"StringNotEquals": {"kms:EncryptionContext:Dept": "a"}}});
    put_policy(
        &ks,
        &key.key_id,
        &doc(vec![allow_admin(), allow_app, deny_unless]),
    )
    .unwrap();
    for pairs in [
        &forged[..],
        &[("Dept", "a"), ("dept", "payroll")],
        &[("Dept", "b")],
    ] {
        let e = expect_err(
            enc(&app, &key.key_id, pairs),
            ErrorKind::AccessDeniedException,
        );
        assert!(e.message().contains("explicit deny"), "{pairs:?}: {e}");
    }
    enc(&app, &key.key_id, &[("DEPT", "a"), ("x", "1")]).unwrap();

    // The Kelvin sign: Allow on `key` is not met by "\u{212A}ey".
    let key = new_key(&ks);
    let allow_key_v = json!({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Encrypt",
        "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:key": "v"}}});
    put_policy(&ks, &key.key_id, &doc(vec![allow_admin(), allow_key_v])).unwrap();
    no_allow(enc(&app, &key.key_id, &[("\u{212A}ey", "v")]));
    no_allow(enc(&app, &key.key_id, &[("key", "v"), ("\u{212A}ey", "w")]));
    enc(&app, &key.key_id, &[("KEY", "v")]).unwrap();
}

/// A key policy that repeats a JSON key is refused, whatever the depth.
#[test]
fn policies_with_repeated_keys_are_refused() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks);
    let text = format!(
        r#"{{"Statement": [
            {{"Effect": "Allow", "Principal": {{"AWS": "{ADMIN}"}}, "Action": "kms:*", "Resource": "*"}},
            {{"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*", "Effect": "Allow"}}
        ]}}"#
    );
    let e = expect_err(
        ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key.key_id.clone(),
            policy: text,
            ..Default::default()
        }),
        ErrorKind::MalformedPolicyDocumentException,
    );
    assert!(e.message().contains("\"Effect\""), "{e}");
    let e = expect_err(
        ks.create_key(&CreateKeyRequest {
            policy: Some(format!(
                r#"{{"Statement": {{"Effect": "Allow", "Principal": {{"AWS": "{ADMIN}", "AWS": "*"}}, "Action": "kms:*", "Resource": "*"}}}}"#
            )),
            ..Default::default()
        }),
        ErrorKind::MalformedPolicyDocumentException,
    );
    assert!(e.message().contains("more than once"), "{e}");
}

/// User trial item 10: a caller principal is checked as a grantee
/// principal is, before anything runs (`ValidationException`, audited),
/// and the account root of a key policy covers only IAM principals of its
/// account in partition `aws`.
#[test]
fn caller_principals_are_validated_and_account_root_needs_an_iam_principal() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for bad in [
        "nope",
        "",
        "arn:aws:s3::000000000000:bucket",
        "arn:aws:iam::000000000000:group/admins",
        "arn:aws:iam::000000000000:policy/p",
        "arn:aws:iam::000000000000:",
        "arn:evil:iam::000000000000:user/x",
    ] {
        let e = f.ks.as_principal(bad).describe_key(&key).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad:?}: {e}");
        let e =
            f.ks.as_principal(bad)
                .create_key(&CreateKeyRequest::default());
        assert_eq!(e.unwrap_err().kind(), ErrorKind::ValidationException);
    }
    // The default key policy names arn:aws:iam::000000000000:root: a user of
    // another partition with the same account ID is not covered.
    let e =
        f.ks.as_principal("arn:aws-cn:iam::000000000000:user/x")
            .describe_key(&key)
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException, "{e}");
    for good in [
        "arn:aws:iam::000000000000:user/x",
        "arn:aws:sts::000000000000:assumed-role/r/s",
    ] {
        f.ks.as_principal(good).describe_key(&key).unwrap();
    }
    let denied =
        f.ks.audit_events(&AuditFilter {
            principal: Some("nope".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(denied
        .iter()
        .all(|r| r["errorCode"] == "ValidationException"));
    assert_eq!(denied.len(), 2);
}

/// A key policy whose numeric conditions hold JSON numbers beyond f64's
/// range (which serde_json refuses to read) is accepted, kept as written
/// and compared exactly; the in-memory keystore's twin is in
/// core/tests/memstore_access.rs.
#[test]
fn numbers_beyond_f64_range_in_a_key_policy() {
    let (_d, ks) = admin_fixture();
    let key = new_key(&ks).key_id;
    let app = ks.as_principal(APP);
    let big = format!("1{}", "0".repeat(499));
    let put = |allow: &str| {
        let policy = format!(
            r#"{{"Version": "2012-10-17", "Statement": [
            {{"Effect": "Allow", "Principal": {{"AWS": "{ADMIN}"}}, "Action": "kms:*", "Resource": "*"}},
            {{"Effect": "Allow", "Principal": {{"AWS": "{APP}"}},
              "Action": "kms:EnableKeyRotation", "Resource": "*", "Condition": {allow}}},
            {{"Effect": "Deny", "Principal": "*", "Action": "kms:EnableKeyRotation",
              "Resource": "*", "Condition": {{"NumericEquals":
              {{"kms:RotationPeriodInDays": [1e-400, {big}, -1e400]}}}}}}]}}"#
        );
        ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key.clone(),
            policy: policy.clone(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ks.get_key_policy(&key, None).unwrap().policy, policy);
    };
    put(r#"{"NumericLessThan": {"kms:RotationPeriodInDays": 1e400},
        "NumericGreaterThan": {"kms:RotationPeriodInDays": -1e400}}"#);
    app.enable_key_rotation(&key, Some(90)).unwrap();
    put(r#"{"NumericGreaterThan": {"kms:RotationPeriodInDays": 1e400}}"#);
    expect_err(
        app.enable_key_rotation(&key, Some(90)),
        ErrorKind::AccessDeniedException,
    );
    put(r#"{"NumericLessThan": {"kms:RotationPeriodInDays": "1e400"}}"#);
    app.enable_key_rotation(&key, Some(90)).unwrap();
}
