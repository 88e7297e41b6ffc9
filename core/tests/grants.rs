//! Grants: each constraint, principal matching, retiring rules, tokens and serde shape.

#![allow(clippy::unwrap_used)] // tests may unwrap (STYLE.md); helpers outside #[test] too

use strongroom_core::grant::{
    account_root_arn, grant_allows, grant_id_from_token, grant_token, is_grant_principal,
    is_retiring_principal, may_retire, new_grant_id, Grant, GrantConstraints, GrantOperation,
};
use strongroom_core::{EncryptionContext, ErrorKind};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:role/bob";
const EVE: &str = "arn:aws:iam::444455556666:user/eve";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs.iter().copied().collect()
}

fn grant(ops: &[GrantOperation], constraints: Option<GrantConstraints>) -> Grant {
    Grant {
        key_id: KEY.into(),
        grant_id: new_grant_id(&[7; 32]),
        name: Some("app-grant".into()),
        creation_date: 1_700_000_000,
        grantee_principal: ALICE.into(),
        retiring_principal: Some(BOB.into()),
        issuing_account: "arn:aws:iam::111122223333:root".into(),
        operations: ops.to_vec(),
        constraints,
    }
}

#[test]
fn grant_without_constraints() {
    let g = grant(&[GrantOperation::Encrypt, GrantOperation::Decrypt], None);
    g.validate().unwrap();
    let any = ctx(&[("a", "1")]);
    assert!(grant_allows(&g, ALICE, "Encrypt", &any));
    assert!(grant_allows(
        &g,
        ALICE,
        "Decrypt",
        &EncryptionContext::new()
    ));
    assert!(
        !grant_allows(&g, ALICE, "GenerateDataKey", &any),
        "operation not granted"
    );
    assert!(!grant_allows(&g, BOB, "Encrypt", &any), "not the grantee");
    assert!(
        !grant_allows(&g, ALICE, "encrypt", &any),
        "operation names are case-sensitive"
    );
    assert!(
        !grant_allows(&g, ALICE, "ReEncrypt", &any),
        "not a grant operation"
    );
}

#[test]
fn encryption_context_equals() {
    let c = GrantConstraints {
        encryption_context_equals: Some(ctx(&[("Department", "IT")])),
        encryption_context_subset: None,
    };
    let g = grant(
        &[GrantOperation::Decrypt, GrantOperation::DescribeKey],
        Some(c),
    );
    g.validate().unwrap();
    assert!(grant_allows(
        &g,
        ALICE,
        "Decrypt",
        &ctx(&[("Department", "IT")])
    ));
    assert!(!grant_allows(
        &g,
        ALICE,
        "Decrypt",
        &ctx(&[("Department", "IT"), ("x", "y")])
    ));
    assert!(
        !grant_allows(&g, ALICE, "Decrypt", &ctx(&[("Department", "it")])),
        "values case-sensitive"
    );
    // KMS API reference, GrantConstraints: "in a grant constraint, the key
    // in each key-value pair is not case sensitive, but the value is".
    for key in ["department", "DEPARTMENT", "dEpArTmEnT"] {
        assert!(
            grant_allows(&g, ALICE, "Decrypt", &ctx(&[(key, "IT")])),
            "keys case-insensitive: {key}"
        );
    }
    assert!(
        !grant_allows(&g, ALICE, "Decrypt", &ctx(&[("department", "it")])),
        "values case-sensitive with a key in another case"
    );
    assert!(
        !grant_allows(
            &g,
            ALICE,
            "Decrypt",
            &ctx(&[("department", "IT"), ("Department", "IT")])
        ),
        "two keys that differ only by case are two pairs"
    );
    assert!(!grant_allows(
        &g,
        ALICE,
        "Decrypt",
        &EncryptionContext::new()
    ));
    // DescribeKey takes no encryption context: constraints do not apply.
    assert!(grant_allows(
        &g,
        ALICE,
        "DescribeKey",
        &EncryptionContext::new()
    ));
}

#[test]
fn encryption_context_subset() {
    let c = GrantConstraints {
        encryption_context_equals: None,
        encryption_context_subset: Some(ctx(&[("Department", "IT")])),
    };
    let g = grant(
        &[
            GrantOperation::GenerateDataKey,
            GrantOperation::ReEncryptFrom,
        ],
        Some(c),
    );
    g.validate().unwrap();
    assert!(grant_allows(
        &g,
        ALICE,
        "GenerateDataKey",
        &ctx(&[("Department", "IT")])
    ));
    assert!(grant_allows(
        &g,
        ALICE,
        "ReEncryptFrom",
        &ctx(&[("Department", "IT"), ("Project", "x")])
    ));
    assert!(!grant_allows(
        &g,
        ALICE,
        "GenerateDataKey",
        &ctx(&[("Project", "x")])
    ));
    assert!(!grant_allows(
        &g,
        ALICE,
        "GenerateDataKey",
        &ctx(&[("Department", "HR")])
    ));
    // Keys in any case, values exactly (as KMS compares grant constraints).
    assert!(grant_allows(
        &g,
        ALICE,
        "GenerateDataKey",
        &ctx(&[("DEPARTMENT", "IT"), ("project", "x")])
    ));
    assert!(!grant_allows(
        &g,
        ALICE,
        "GenerateDataKey",
        &ctx(&[("department", "It")])
    ));
    assert!(!grant_allows(
        &g,
        ALICE,
        "GenerateDataKey",
        &EncryptionContext::new()
    ));
}

/// A key equal to a constraint's key only through uppercase (U+017F LONG S
/// for `s`, U+0131 DOTLESS I for `i`) makes the request not meet it, as the
/// Kelvin sign does.
#[test]
fn constraints_refuse_look_alikes_equal_only_through_uppercase() {
    let g = grant(
        &[GrantOperation::Encrypt],
        Some(GrantConstraints {
            encryption_context_equals: None,
            encryption_context_subset: Some(ctx(&[("service", "ok"), ("tenant_id", "a")])),
        }),
    );
    let ok = [("service", "ok"), ("tenant_id", "a")];
    assert!(grant_allows(&g, ALICE, "Encrypt", &ctx(&ok)));
    for extra in [("\u{17F}ervice", "forged"), ("tenant_\u{131}d", "b")] {
        let mut pairs = ok.to_vec();
        pairs.push(extra);
        assert!(
            !grant_allows(&g, ALICE, "Encrypt", &ctx(&pairs)),
            "{extra:?}"
        );
    }
}

/// Review 5b #4 and #5: a constraint pair is met only by exactly one key of
/// the request that is the pair's key but for ASCII case. A second spelling
/// of the key (`{"Dept": "payroll", "dept": "a"}`) or a Unicode case
/// look-alike (`\u{212A}ey`, KELVIN SIGN, for `key`) makes the request not
/// meet the constraint; keys the constraint does not name may collide.
#[test]
fn constraints_refuse_a_context_key_given_twice_in_different_case() {
    let kelvin = "\u{212A}ey";
    let allows = |c: GrantConstraints, pairs: &[(&str, &str)]| {
        let g = grant(&[GrantOperation::Encrypt], Some(c));
        grant_allows(&g, ALICE, "Encrypt", &ctx(pairs))
    };
    let subset = |pairs: &[(&str, &str)]| GrantConstraints {
        encryption_context_equals: None,
        encryption_context_subset: Some(ctx(pairs)),
    };
    let equals = |pairs: &[(&str, &str)]| GrantConstraints {
        encryption_context_equals: Some(ctx(pairs)),
        encryption_context_subset: None,
    };
    let dept_a = subset(&[("Dept", "a")]);
    assert!(allows(dept_a.clone(), &[("dept", "a"), ("x", "1")]));
    assert!(allows(
        dept_a.clone(),
        &[("DEPT", "a"), ("X", "1"), ("x", "2")]
    ));
    for pairs in [
        &[("Dept", "payroll"), ("dept", "a")][..],
        &[("Dept", "a"), ("dept", "payroll")],
        &[("Dept", "a"), ("DEPT", "a")],
    ] {
        assert!(!allows(dept_a.clone(), pairs), "{pairs:?}");
        assert!(!allows(equals(&[("Dept", "a")]), pairs), "{pairs:?}");
    }
    // A constraint that itself spells one key twice is met by no context
    // with both pairs, and never makes room for an extra pair.
    let twice = equals(&[("Dept", "a"), ("dept", "b")]);
    assert!(!allows(twice.clone(), &[("Dept", "a"), ("dept", "b")]));
    assert!(!allows(twice, &[("dept", "a"), ("Dept", "b")]));
    let same_twice = equals(&[("Dept", "a"), ("dept", "a")]);
    assert!(!allows(same_twice.clone(), &[("DEPT", "a"), ("x", "y")]));
    assert!(!allows(same_twice, &[("DEPT", "a")]));
    // Only ASCII letters fold.
    let key_v = subset(&[("key", "v")]);
    assert!(allows(key_v.clone(), &[("KEY", "v")]));
    assert!(!allows(key_v.clone(), &[(kelvin, "v")]));
    assert!(!allows(key_v, &[("key", "v"), (kelvin, "forged")]));
    assert!(!allows(subset(&[(kelvin, "v")]), &[("key", "v")]));
    assert!(allows(subset(&[(kelvin, "v")]), &[(kelvin, "v")]));
    assert!(!allows(equals(&[("key", "v")]), &[(kelvin, "v")]));
    assert!(!allows(subset(&[("ÉTAGE", "2")]), &[("étage", "2")]));
    assert!(allows(subset(&[("ÉTAGE", "2")]), &[("Étage", "2")]));
}

#[test]
fn validation_rules() {
    let mut g = grant(&[], None);
    assert_eq!(
        g.validate().unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    g.operations = vec![GrantOperation::Encrypt, GrantOperation::Encrypt];
    assert!(g.validate().is_err(), "duplicate operation");
    g.operations = vec![GrantOperation::Sign];
    g.constraints = Some(GrantConstraints {
        encryption_context_subset: Some(ctx(&[("a", "b")])),
        encryption_context_equals: None,
    });
    let e = g.validate().unwrap_err();
    assert!(e.message().contains("Sign"), "{e}");
    g.constraints = None;
    g.validate().unwrap();
    g.name = Some("bad name!".into());
    assert!(g.validate().is_err());
    g.name = Some("x".repeat(257));
    assert!(g.validate().is_err());
    g.name = None;
    g.grantee_principal = String::new();
    assert!(g.validate().is_err());
}

#[test]
fn operation_names_are_validated() {
    for op in GrantOperation::ALL {
        assert_eq!(GrantOperation::parse(op.as_str()).unwrap(), *op);
    }
    assert_eq!(GrantOperation::ALL.len(), 17);
    let e = GrantOperation::parse("ReEncrypt").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(
        e.message().contains("'ReEncrypt'") && e.message().contains("ReEncryptFrom"),
        "{e}"
    );
    assert!(GrantOperation::parse("decrypt").is_err());
}

#[test]
fn account_grantee_covers_its_principals() {
    let mut g = grant(&[GrantOperation::Encrypt], None);
    g.grantee_principal = ROOT.into();
    assert!(grant_allows(
        &g,
        ALICE,
        "Encrypt",
        &EncryptionContext::new()
    ));
    assert!(!grant_allows(&g, EVE, "Encrypt", &EncryptionContext::new()));
}

/// Grant principals are compared exactly, never as patterns: a grant row
/// holding `*`, a wildcard or a bare account ID (which CreateGrant now
/// refuses) covers no one but that literal string.
#[test]
fn grant_principals_are_not_patterns() {
    let none = EncryptionContext::new();
    for pattern in [
        "*",
        "arn:aws:iam::111122223333:user/al?ce",
        "arn:aws:iam::111122223333:user/*",
        "111122223333",
    ] {
        let mut g = grant(&[GrantOperation::Encrypt], None);
        g.grantee_principal = pattern.into();
        g.retiring_principal = Some(pattern.into());
        assert!(!grant_allows(&g, ALICE, "Encrypt", &none), "{pattern}");
        assert!(!may_retire(&g, ALICE), "{pattern}");
        assert!(!is_retiring_principal(&g, ALICE), "{pattern}");
        assert_eq!(
            g.validate().unwrap_err().kind(),
            ErrorKind::ValidationException,
            "{pattern}"
        );
    }
    // An account root covers its account's principals, of the same partition only.
    let mut g = grant(&[GrantOperation::Encrypt], None);
    g.retiring_principal = Some(ROOT.into());
    assert!(is_retiring_principal(&g, BOB));
    assert!(!is_retiring_principal(&g, EVE));
    assert!(!is_retiring_principal(
        &g,
        "arn:aws-cn:iam::111122223333:user/alice"
    ));
}

#[test]
fn grant_principal_forms() {
    for good in [
        ALICE,
        BOB,
        ROOT,
        "arn:aws:iam::111122223333:user/division/team/alice",
        "arn:aws:sts::111122223333:assumed-role/app/i-0abc",
        "arn:aws:sts::111122223333:federated-user/carol",
        "arn:aws-cn:iam::111122223333:role/x+=,.@_-y",
    ] {
        assert!(is_grant_principal(good), "{good}");
    }
    for bad in [
        "",
        "*",
        "111122223333",
        "kms.amazonaws.com",
        "arn:aws:iam::111122223333:user/*",
        "arn:aws:iam::111122223333:user/a?",
        "arn:aws:iam::111122223333:user/",
        "arn:aws:iam::111122223333:user//a",
        "arn:aws:iam::111122223333:group/devs",
        "arn:aws:iam:us-east-1:111122223333:user/a",
        "arn:aws:iam::1111222233334:user/a",
        "arn:aws:sts::111122223333:assumed-role/app",
        "arn:aws:s3:::bucket",
        "arn:AWS:iam::111122223333:root",
        "arn::iam::111122223333:root",
    ] {
        assert!(!is_grant_principal(bad), "{bad}");
    }
}

#[test]
fn who_may_retire() {
    let g = grant(&[GrantOperation::Encrypt], None);
    assert!(may_retire(&g, BOB), "retiring principal");
    assert!(!may_retire(&g, ALICE), "grantee without RetireGrant");
    assert!(may_retire(&g, ROOT), "issuing account root");
    assert!(!may_retire(&g, EVE));
    let g2 = grant(
        &[GrantOperation::Encrypt, GrantOperation::RetireGrant],
        None,
    );
    assert!(may_retire(&g2, ALICE), "grantee with RetireGrant");
    assert!(is_retiring_principal(&g, BOB));
    assert!(!is_retiring_principal(&g, ALICE));
}

#[test]
fn name_idempotency() {
    let a = grant(&[GrantOperation::Encrypt, GrantOperation::Decrypt], None);
    let mut b = grant(&[GrantOperation::Decrypt, GrantOperation::Encrypt], None);
    b.grant_id = new_grant_id(&[9; 32]);
    b.creation_date += 10;
    assert!(a.same_parameters(&b));
    b.retiring_principal = None;
    assert!(!a.same_parameters(&b));
}

#[test]
fn tokens_authenticate_the_grant_id() {
    let key = [1u8; 32];
    let id = new_grant_id(&[3; 32]);
    assert_eq!(id.len(), 64);
    let token = grant_token(&key, &id).unwrap();
    assert_eq!(grant_id_from_token(&key, &token).unwrap(), id);
    assert_eq!(
        grant_id_from_token(&[2u8; 32], &token).unwrap_err().kind(),
        ErrorKind::InvalidGrantTokenException
    );
    // Flip each character in turn: every change is rejected or names the same id.
    for i in 0..token.len() {
        let mut t: Vec<char> = token.chars().collect();
        t[i] = if t[i] == 'A' { 'B' } else { 'A' };
        let t: String = t.into_iter().collect();
        if t != token {
            assert!(grant_id_from_token(&key, &t).map_or(true, |got| got == id));
        }
    }
    for bad in ["", "!!!", "AA", &"A".repeat(9000)] {
        assert!(grant_id_from_token(&key, bad).is_err());
    }
}

#[test]
fn serde_uses_aws_field_names() {
    let c = GrantConstraints {
        encryption_context_equals: None,
        encryption_context_subset: Some(ctx(&[("a", "b")])),
    };
    let g = grant(&[GrantOperation::Decrypt], Some(c));
    let v = serde_json::to_value(&g).unwrap();
    for field in [
        "KeyId",
        "GrantId",
        "Name",
        "CreationDate",
        "GranteePrincipal",
        "RetiringPrincipal",
        "IssuingAccount",
        "Operations",
        "Constraints",
    ] {
        assert!(v.get(field).is_some(), "missing {field}: {v}");
    }
    assert_eq!(v["Operations"][0], "Decrypt");
    assert_eq!(v["Constraints"]["EncryptionContextSubset"]["a"], "b");
    assert!(v["Constraints"].get("EncryptionContextEquals").is_none());
    assert_eq!(v["IssuingAccount"], "arn:aws:iam::111122223333:root");
    let back: Grant = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(back, g);
    // A row that stored the bare account ID reads as the account root ARN.
    let mut old = v;
    old["IssuingAccount"] = "111122223333".into();
    let back: Grant = serde_json::from_value(old).unwrap();
    assert_eq!(back.issuing_account, account_root_arn("111122223333"));
    assert!(may_retire(&back, "arn:aws:iam::111122223333:root"));
}

#[test]
fn grant_operations_must_suit_the_key() {
    use strongroom_core::key::{KeySpec, KeyUsage};
    use GrantOperation as Op;
    let check = |ops: &[GrantOperation], spec, usage| grant(ops, None).check_key(spec, usage);
    let symmetric = (KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let rsa_encrypt = (KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let ecc_sign = (KeySpec::EccNistP256, KeyUsage::SignVerify);
    let ecc_agree = (KeySpec::EccNistP384, KeyUsage::KeyAgreement);
    let hmac = (KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let every = [symmetric, rsa_encrypt, ecc_sign, ecc_agree, hmac];
    let allowed: [(GrantOperation, &[(KeySpec, KeyUsage)]); 17] = [
        (Op::DescribeKey, &every),
        (Op::CreateGrant, &every),
        (Op::RetireGrant, &every),
        (Op::Encrypt, &[symmetric, rsa_encrypt]),
        (Op::Decrypt, &[symmetric, rsa_encrypt]),
        (Op::ReEncryptFrom, &[symmetric, rsa_encrypt]),
        (Op::ReEncryptTo, &[symmetric, rsa_encrypt]),
        (Op::GenerateDataKey, &[symmetric]),
        (Op::GenerateDataKeyWithoutPlaintext, &[symmetric]),
        (Op::GenerateDataKeyPair, &[symmetric]),
        (Op::GenerateDataKeyPairWithoutPlaintext, &[symmetric]),
        (Op::GetPublicKey, &[rsa_encrypt, ecc_sign, ecc_agree]),
        (Op::Sign, &[ecc_sign]),
        (Op::Verify, &[ecc_sign]),
        (Op::GenerateMac, &[hmac]),
        (Op::VerifyMac, &[hmac]),
        (Op::DeriveSharedSecret, &[ecc_agree]),
    ];
    assert_eq!(Op::ALL.len(), allowed.len());
    assert!(Op::ALL
        .iter()
        .all(|op| allowed.iter().any(|(o, _)| o == op)));
    for (op, keys) in allowed {
        for (spec, usage) in every {
            let r = check(&[Op::DescribeKey, op], spec, usage);
            if keys.contains(&(spec, usage)) {
                r.unwrap();
            } else {
                let e = r.unwrap_err();
                assert_eq!(
                    e.kind(),
                    ErrorKind::ValidationException,
                    "{op:?} on {spec:?}"
                );
                assert!(e.message().contains(op.as_str()), "{}", e.message());
            }
        }
    }
    // Encryption context constraints: symmetric encryption keys only.
    let subset = GrantConstraints {
        encryption_context_subset: Some(ctx(&[("tenant", "a")])),
        ..GrantConstraints::default()
    };
    grant(&[Op::Decrypt], Some(subset.clone()))
        .check_key(symmetric.0, symmetric.1)
        .unwrap();
    let e = grant(&[Op::Decrypt], Some(subset))
        .check_key(rsa_encrypt.0, rsa_encrypt.1)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    grant(&[Op::Decrypt], Some(GrantConstraints::default()))
        .check_key(rsa_encrypt.0, rsa_encrypt.1)
        .unwrap();
}

/// A misspelled or unknown constraint member is refused, not dropped: a
/// CreateGrant body with `EncryptionContextEqual` (no `s`) would otherwise
/// make a grant with no constraint at all.
#[test]
fn unknown_constraint_members_are_refused() {
    let body = r#"{"KeyId": "k", "GranteePrincipal": "arn:aws:iam::111122223333:user/bob",
        "Operations": ["Decrypt"], "Constraints": {"EncryptionContextEqual": {"Dept": "a"}}}"#;
    let err = serde_json::from_str::<strongroom_core::api::CreateGrantRequest>(body).unwrap_err();
    assert!(err.to_string().contains("EncryptionContextEqual"), "{err}");
    let ok = r#"{"EncryptionContextSubset": {"Dept": "a"}}"#;
    let c: GrantConstraints = serde_json::from_str(ok).unwrap();
    assert_eq!(c.encryption_context_subset, Some(ctx(&[("Dept", "a")])));
}

/// A grant operation is stored as its KMS name (a JSON string) and read
/// back from it; any other string or a non-string is an error.
#[test]
fn grant_operations_serialize_as_their_names() {
    for op in GrantOperation::ALL {
        let text = serde_json::to_string(op).unwrap();
        assert_eq!(text, format!("\"{}\"", op.as_str()));
        assert_eq!(
            serde_json::to_value(op).unwrap(),
            serde_json::json!(op.as_str())
        );
        assert_eq!(serde_json::from_str::<GrantOperation>(&text).unwrap(), *op);
    }
    for bad in [
        "\"encrypt\"",
        "\"Encrypt \"",
        "\"\"",
        "3",
        "null",
        "[\"Encrypt\"]",
    ] {
        assert!(
            serde_json::from_str::<GrantOperation>(bad).is_err(),
            "{bad}"
        );
    }
}

/// `access::decide` checks many grants against one request with one index of
/// its context: it keeps exactly the grants `grant_allows` accepts one by
/// one, for contexts with ambiguous and Unicode look-alike keys, for both
/// constraint kinds and for a grant of another principal in between.
#[test]
fn decide_keeps_exactly_the_grants_grant_allows_accepts() {
    use strongroom_core::access::decide;
    use strongroom_core::policy::{Policy, PolicyRequest};
    let policy = Policy::parse(
        &serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": EVE}, "Action": "kms:*", "Resource": "*"}
        ]})
        .to_string(),
    )
    .unwrap();
    let subset = |pairs: &[(&str, &str)]| GrantConstraints {
        encryption_context_equals: None,
        encryption_context_subset: Some(ctx(pairs)),
    };
    let equals = |pairs: &[(&str, &str)]| GrantConstraints {
        encryption_context_equals: Some(ctx(pairs)),
        encryption_context_subset: None,
    };
    let constraints = [
        subset(&[("dept", "it")]),
        subset(&[("Dept", "it"), ("team", "a")]),
        equals(&[("dept", "it"), ("team", "a")]),
        equals(&[("DEPT", "it")]),
        subset(&[("key", "k")]),
        subset(&[("secret", "s")]),
    ];
    let mut grants = Vec::new();
    for (i, c) in constraints.iter().enumerate() {
        let mut g = grant(&[GrantOperation::Encrypt], Some(c.clone()));
        g.grant_id = new_grant_id(&[u8::try_from(i).unwrap(); 32]);
        grants.push(g);
        let mut other = grant(&[GrantOperation::Encrypt], Some(c.clone()));
        other.grantee_principal = BOB.into();
        other.grant_id = new_grant_id(&[u8::try_from(i + 100).unwrap(); 32]);
        grants.push(other);
    }
    let contexts = [
        ctx(&[]),
        ctx(&[("dept", "it")]),
        ctx(&[("DEPT", "it"), ("team", "a")]),
        ctx(&[("dept", "it"), ("Dept", "it")]),
        ctx(&[("\u{212A}ey", "k")]),
        ctx(&[("key", "k"), ("\u{17F}ecret", "s")]),
        ctx(&[("dept", "it"), ("team", "a"), ("x", "y")]),
    ];
    for c in &contexts {
        let req = PolicyRequest::new(ALICE, "Encrypt", KEY);
        let kept = decide(&policy, &req, c, || Ok(grants.clone()));
        let expected: Vec<Grant> = grants
            .iter()
            .filter(|g| grant_allows(g, ALICE, "Encrypt", c))
            .cloned()
            .collect();
        if expected.is_empty() {
            assert_eq!(
                kept.unwrap_err().kind(),
                ErrorKind::AccessDeniedException,
                "{c:?}"
            );
        } else {
            assert_eq!(kept.unwrap(), Some(expected), "{c:?}");
        }
    }
}
