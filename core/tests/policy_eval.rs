//! Table-driven key policy evaluation: one row per (policy, request, expected decision).

#![allow(clippy::unwrap_used)] // tests may unwrap (STYLE.md); helpers outside #[test] too

use serde_json::{json, Value};
use strongroom_core::policy::{
    authorize, default_key_policy, evaluate, lockout_check, ConditionValue, Decision, Policy,
    PolicyRequest, LOCKOUT_MESSAGE, MAX_POLICY_BYTES,
};
use strongroom_core::{EncryptionContext, ErrorKind};

use Decision::{Allow, ExplicitDeny, ImplicitDeny};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:role/bob";
const EVE: &str = "arn:aws:iam::444455556666:user/eve";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const OTHER_KEY: &str =
    "arn:aws:kms:us-east-1:444455556666:key/0000abcd-12ab-34cd-56ef-1234567890ab";

fn s(v: &str) -> ConditionValue {
    ConditionValue::from(v)
}
fn list(v: &[&str]) -> ConditionValue {
    ConditionValue::from(v)
}

/// A policy with one Allow statement for everyone on everything, with `condition`.
fn with_condition(condition: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*",
        "Action": "kms:*", "Resource": "*", "Condition": condition}})
    .to_string()
}

/// A policy with one Allow statement whose condition is `{op: {key: value}}`,
/// `value` being JSON text as written (a number literal).
fn raw_condition(op: &str, key: &str, value: &str) -> String {
    format!(
        r#"{{"Statement": {{"Effect": "Allow", "Principal": "*", "Action": "kms:*",
        "Resource": "*", "Condition": {{"{op}": {{"{key}": {value}}}}}}}}}"#
    )
}

/// A policy with one statement built from the given elements.
fn statement(effect: &str, principal: Value, action: Value, resource: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": effect, "Principal": principal,
        "Action": action, "Resource": resource}]})
    .to_string()
}

struct Row {
    name: &'static str,
    policy: String,
    principal: &'static str,
    action: &'static str,
    resource: &'static str,
    values: Vec<(&'static str, ConditionValue)>,
    expect: Decision,
}

fn row(
    name: &'static str,
    policy: String,
    values: Vec<(&'static str, ConditionValue)>,
    expect: Decision,
) -> Row {
    Row {
        name,
        policy,
        principal: ALICE,
        action: "Encrypt",
        resource: KEY,
        values,
        expect,
    }
}

/// Condition rows: (name, operator, key, policy values, request values, expected).
fn cond(
    name: &'static str,
    op: &str,
    key: &str,
    policy_values: Value,
    values: Vec<(&'static str, ConditionValue)>,
    expect: Decision,
) -> Row {
    row(
        name,
        with_condition(json!({op: {key: policy_values}})),
        values,
        expect,
    )
}

fn operator_rows() -> Vec<Row> {
    let alg = "kms:EncryptionAlgorithm";
    let days = "kms:RotationPeriodInDays";
    let n = |v: i64| vec![(days, ConditionValue::from(v))];
    let a = |v: &str| vec![(alg, s(v))];
    vec![
        cond(
            "StringEquals match",
            "StringEquals",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "StringEquals mismatch",
            "StringEquals",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            a("RSAES_OAEP_SHA_1"),
            ImplicitDeny,
        ),
        cond(
            "StringEquals is case-sensitive",
            "StringEquals",
            alg,
            json!("symmetric_default"),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "StringEquals absent",
            "StringEquals",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "StringEquals values ORed",
            "StringEquals",
            alg,
            json!(["RSAES_OAEP_SHA_1", "SYMMETRIC_DEFAULT"]),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "StringNotEquals differs",
            "StringNotEquals",
            alg,
            json!("RSAES_OAEP_SHA_1"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "StringNotEquals equal",
            "StringNotEquals",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "StringNotEquals list, one equal",
            "StringNotEquals",
            alg,
            json!(["A", "SYMMETRIC_DEFAULT"]),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "StringNotEquals absent key is true",
            "StringNotEquals",
            alg,
            json!("X"),
            vec![],
            Allow,
        ),
        cond(
            "StringEqualsIgnoreCase",
            "StringEqualsIgnoreCase",
            alg,
            json!("symmetric_default"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "StringEqualsIgnoreCase mismatch",
            "StringEqualsIgnoreCase",
            alg,
            json!("rsaes_oaep_sha_1"),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "StringNotEqualsIgnoreCase same",
            "StringNotEqualsIgnoreCase",
            alg,
            json!("symmetric_default"),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "StringNotEqualsIgnoreCase differs",
            "StringNotEqualsIgnoreCase",
            alg,
            json!("rsaes_oaep_sha_1"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "StringLike star",
            "StringLike",
            alg,
            json!("RSAES_*"),
            a("RSAES_OAEP_SHA_256"),
            Allow,
        ),
        cond(
            "StringLike question mark",
            "StringLike",
            alg,
            json!("RSAES_OAEP_SHA_?"),
            a("RSAES_OAEP_SHA_1"),
            Allow,
        ),
        cond(
            "StringLike question mark is one char",
            "StringLike",
            alg,
            json!("RSAES_OAEP_SHA_?"),
            a("RSAES_OAEP_SHA_256"),
            ImplicitDeny,
        ),
        cond(
            "StringLike mismatch",
            "StringLike",
            alg,
            json!("RSAES_*"),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "StringNotLike differs",
            "StringNotLike",
            alg,
            json!("RSAES_*"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "StringNotLike matches",
            "StringNotLike",
            alg,
            json!("SYM*"),
            a("SYMMETRIC_DEFAULT"),
            ImplicitDeny,
        ),
        cond(
            "Bool true",
            "Bool",
            "kms:GrantIsForAWSResource",
            json!("true"),
            vec![("kms:GrantIsForAWSResource", true.into())],
            Allow,
        ),
        cond(
            "Bool JSON true",
            "Bool",
            "kms:GrantIsForAWSResource",
            json!(true),
            vec![("kms:GrantIsForAWSResource", true.into())],
            Allow,
        ),
        cond(
            "Bool false vs true",
            "Bool",
            "kms:GrantIsForAWSResource",
            json!("false"),
            vec![("kms:GrantIsForAWSResource", true.into())],
            ImplicitDeny,
        ),
        cond(
            "Bool absent",
            "Bool",
            "kms:GrantIsForAWSResource",
            json!("false"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "Null true, key absent",
            "Null",
            "kms:EncryptionContextKeys",
            json!("true"),
            vec![],
            Allow,
        ),
        cond(
            "Null true, key present",
            "Null",
            "kms:EncryptionContextKeys",
            json!("true"),
            vec![("kms:EncryptionContextKeys", list(&["a"]))],
            ImplicitDeny,
        ),
        cond(
            "Null false, key present",
            "Null",
            "kms:EncryptionContextKeys",
            json!(false),
            vec![("kms:EncryptionContextKeys", list(&["a"]))],
            Allow,
        ),
        cond(
            "Null false, key absent",
            "Null",
            "kms:EncryptionContextKeys",
            json!("false"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "Null true, empty list counts as absent",
            "Null",
            "kms:EncryptionContextKeys",
            json!("true"),
            vec![("kms:EncryptionContextKeys", list(&[]))],
            Allow,
        ),
        cond(
            "NumericEquals",
            "NumericEquals",
            days,
            json!("365"),
            n(365),
            Allow,
        ),
        cond(
            "NumericEquals JSON number",
            "NumericEquals",
            days,
            json!(365),
            n(365),
            Allow,
        ),
        cond(
            "NumericEquals mismatch",
            "NumericEquals",
            days,
            json!("90"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "NumericNotEquals",
            "NumericNotEquals",
            days,
            json!("90"),
            n(365),
            Allow,
        ),
        cond(
            "NumericNotEquals equal",
            "NumericNotEquals",
            days,
            json!("365"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "NumericLessThan",
            "NumericLessThan",
            days,
            json!("366"),
            n(365),
            Allow,
        ),
        cond(
            "NumericLessThan boundary",
            "NumericLessThan",
            days,
            json!("365"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "NumericLessThanEquals boundary",
            "NumericLessThanEquals",
            days,
            json!("365"),
            n(365),
            Allow,
        ),
        cond(
            "NumericLessThanEquals above",
            "NumericLessThanEquals",
            days,
            json!("364"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "NumericGreaterThan",
            "NumericGreaterThan",
            days,
            json!("364"),
            n(365),
            Allow,
        ),
        cond(
            "NumericGreaterThan boundary",
            "NumericGreaterThan",
            days,
            json!("365"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "NumericGreaterThanEquals boundary",
            "NumericGreaterThanEquals",
            days,
            json!("365"),
            n(365),
            Allow,
        ),
        // Numbers compare as exact decimals: f64 would round these equal.
        cond(
            "NumericGreaterThan exact decimal",
            "NumericGreaterThan",
            days,
            json!("365"),
            vec![(days, ConditionValue::from("365.0000000000000000001"))],
            Allow,
        ),
        cond(
            "NumericEquals exact decimal",
            "NumericEquals",
            days,
            json!("9007199254740993"),
            vec![(days, ConditionValue::from("9007199254740992"))],
            ImplicitDeny,
        ),
        cond(
            "NumericGreaterThan below f64's range",
            "NumericGreaterThan",
            days,
            json!("0"),
            vec![(days, ConditionValue::from("1e-400"))],
            Allow,
        ),
        cond(
            "NumericLessThan above f64's range",
            "NumericLessThan",
            days,
            json!("1e400"),
            vec![(days, ConditionValue::from("1e399"))],
            Allow,
        ),
        // A JSON number in the policy is read from its text, not from the
        // f64 serde_json keeps (1.2345678901234568e22, 0.1, 0).
        row(
            "NumericLessThan JSON number beyond u64",
            raw_condition("NumericLessThan", days, "12345678901234567890123"),
            vec![(days, s("12345678901234567890124"))],
            ImplicitDeny,
        ),
        row(
            "NumericLessThan JSON number beyond u64, below",
            raw_condition("NumericLessThan", days, "12345678901234567890123"),
            vec![(days, s("12345678901234567890122"))],
            Allow,
        ),
        row(
            "NumericEquals JSON number with more digits than f64",
            raw_condition("NumericEquals", days, "0.1000000000000000000001"),
            vec![(days, s("0.1"))],
            ImplicitDeny,
        ),
        row(
            "NumericLessThan JSON number below f64's range",
            raw_condition("NumericLessThan", days, "1e-400"),
            vec![(days, s("0"))],
            Allow,
        ),
        // A JSON number beyond f64's range (which serde_json refuses to
        // read) is its string form, compared exactly.
        row(
            "NumericLessThan JSON number above f64's range",
            raw_condition("NumericLessThan", days, "1e400"),
            vec![(days, s("1e399"))],
            Allow,
        ),
        row(
            "NumericLessThan JSON number above f64's range, above",
            raw_condition("NumericLessThan", days, "1e400"),
            vec![(days, s("1.0000000000000000000001e400"))],
            ImplicitDeny,
        ),
        row(
            "NumericGreaterThan JSON number below minus f64's range",
            raw_condition("NumericGreaterThan", days, "-1e400"),
            vec![(days, ConditionValue::from(-f64::MAX))],
            Allow,
        ),
        row(
            "NumericLessThan JSON number below minus f64's range",
            raw_condition("NumericLessThan", days, "-1e400"),
            vec![(days, s("-1e399"))],
            ImplicitDeny,
        ),
        row(
            "NumericEquals JSON number of 500 digits",
            raw_condition("NumericEquals", days, &format!("1{}", "0".repeat(499))),
            vec![(days, s("1e499"))],
            Allow,
        ),
        row(
            "NumericEquals JSON number of 500 digits, one less",
            raw_condition("NumericEquals", days, &format!("1{}", "0".repeat(499))),
            vec![(days, s(&"9".repeat(499)))],
            ImplicitDeny,
        ),
        row(
            "NumericGreaterThan JSON number of 500 nines",
            raw_condition("NumericGreaterThan", days, &"9".repeat(500)),
            vec![(days, s("1e500"))],
            Allow,
        ),
        row(
            "NumericEquals JSON numbers beyond f64's range in a list",
            raw_condition("NumericEquals", days, "[1.5, 1e400, -2E+309, 3]"),
            vec![(days, s("-2e309"))],
            Allow,
        ),
        row(
            "StringEquals JSON number above f64's range is its text",
            raw_condition("StringEquals", "kms:EncryptionAlgorithm", "1e400"),
            vec![("kms:EncryptionAlgorithm", s("1e400"))],
            Allow,
        ),
        row(
            "NumericEquals JSON numbers in a list, keys escaped, second statement",
            format!(
                r#"{{"Statement": [{{"Effect": "Deny", "Principal": "*", "Action": "kms:Sign",
                "Resource": "*", "Condition": {{"NumericEquals": {{"{days}": 1.5}}}}}},
                {{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
                "Condition": {{"Numeric\u0045quals": {{"kms:\u0052otationPeriodInDays":
                [1.5, 2.0000000000000000000001e0, 3e-1000000000000000000001]}}}}}}]}}"#
            ),
            vec![(days, s("2"))],
            ImplicitDeny,
        ),
        row(
            "NumericEquals JSON numbers in a list, the exact one",
            format!(
                r#"{{"Statement": {{"Effect": "Allow", "Principal": "*", "Action": "kms:*",
                "Resource": "*", "Condition": {{"NumericEquals": {{"{days}":
                [1.5, 2.0000000000000000000001e0]}}}}}}}}"#
            ),
            vec![(days, s("2.0000000000000000000001"))],
            Allow,
        ),
        row(
            "NumericEquals JSON number 1.0",
            raw_condition("NumericEquals", days, "1.0"),
            vec![(days, s("1"))],
            Allow,
        ),
        cond(
            "NumericEquals request f64 by its exact value",
            "NumericEquals",
            days,
            json!("0.1000000000000000055511151231257827021181583404541015625"),
            vec![(days, ConditionValue::from(0.1f64))],
            Allow,
        ),
        cond(
            "NumericGreaterThanEquals below",
            "NumericGreaterThanEquals",
            days,
            json!("366"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "Numeric absent",
            "NumericLessThan",
            days,
            json!("366"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "Numeric decimal",
            "NumericLessThan",
            days,
            json!("365.5"),
            n(365),
            Allow,
        ),
        cond(
            "ArnLike wildcard",
            "ArnLike",
            "aws:PrincipalArn",
            json!("arn:aws:iam::111122223333:user/*"),
            vec![],
            Allow,
        ),
        cond(
            "ArnLike other account",
            "ArnLike",
            "aws:PrincipalArn",
            json!("arn:aws:iam::444455556666:*"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "ArnLike wildcard per field",
            "ArnLike",
            "aws:PrincipalArn",
            json!("arn:aws:iam::*:user/alice"),
            vec![],
            Allow,
        ),
        cond(
            "ArnLike not an ARN",
            "ArnLike",
            "kms:GranteePrincipal",
            json!("arn:aws:iam::*:*"),
            vec![("kms:GranteePrincipal", s("alice"))],
            ImplicitDeny,
        ),
        cond(
            "ArnEquals exact",
            "ArnEquals",
            "aws:PrincipalArn",
            json!(ALICE),
            vec![],
            Allow,
        ),
        cond(
            "ArnEquals other",
            "ArnEquals",
            "aws:PrincipalArn",
            json!(BOB),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "ArnNotEquals other",
            "ArnNotEquals",
            "aws:PrincipalArn",
            json!(BOB),
            vec![],
            Allow,
        ),
        cond(
            "ArnNotEquals same",
            "ArnNotEquals",
            "aws:PrincipalArn",
            json!(ALICE),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "ArnNotLike",
            "ArnNotLike",
            "aws:PrincipalArn",
            json!("arn:aws:iam::*:role/*"),
            vec![],
            Allow,
        ),
        cond(
            "ArnNotLike matches",
            "ArnNotLike",
            "aws:PrincipalArn",
            json!("arn:aws:iam::*:user/*"),
            vec![],
            ImplicitDeny,
        ),
        // Set qualifiers.
        cond(
            "ForAnyValue one of several",
            "ForAnyValue:StringEquals",
            "kms:EncryptionContextKeys",
            json!(["Department"]),
            vec![(
                "kms:EncryptionContextKeys",
                list(&["Department", "Project"]),
            )],
            Allow,
        ),
        cond(
            "ForAnyValue none",
            "ForAnyValue:StringEquals",
            "kms:EncryptionContextKeys",
            json!(["Department"]),
            vec![("kms:EncryptionContextKeys", list(&["Project"]))],
            ImplicitDeny,
        ),
        cond(
            "ForAnyValue absent is false",
            "ForAnyValue:StringEquals",
            "kms:EncryptionContextKeys",
            json!("Department"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "ForAnyValue:StringLike",
            "ForAnyValue:StringLike",
            "kms:ResourceAliases",
            json!("alias/prod-*"),
            vec![(
                "kms:ResourceAliases",
                list(&["alias/test", "alias/prod-db"]),
            )],
            Allow,
        ),
        cond(
            "ForAnyValue:StringNotEquals some outside",
            "ForAnyValue:StringNotEquals",
            "kms:GrantOperations",
            json!(["Decrypt"]),
            vec![("kms:GrantOperations", list(&["Decrypt", "Encrypt"]))],
            Allow,
        ),
        cond(
            "ForAnyValue:StringNotEquals all inside",
            "ForAnyValue:StringNotEquals",
            "kms:GrantOperations",
            json!(["Decrypt"]),
            vec![("kms:GrantOperations", list(&["Decrypt"]))],
            ImplicitDeny,
        ),
        cond(
            "ForAllValues subset",
            "ForAllValues:StringEquals",
            "kms:GrantOperations",
            json!(["Encrypt", "Decrypt"]),
            vec![("kms:GrantOperations", list(&["Decrypt"]))],
            Allow,
        ),
        cond(
            "ForAllValues one outside",
            "ForAllValues:StringEquals",
            "kms:GrantOperations",
            json!(["Encrypt", "Decrypt"]),
            vec![("kms:GrantOperations", list(&["Decrypt", "Sign"]))],
            ImplicitDeny,
        ),
        cond(
            "ForAllValues absent is true",
            "ForAllValues:StringEquals",
            "kms:GrantOperations",
            json!(["Encrypt"]),
            vec![],
            Allow,
        ),
        cond(
            "ForAllValues:StringNotLike",
            "ForAllValues:StringNotLike",
            "kms:EncryptionContextKeys",
            json!("secret*"),
            vec![("kms:EncryptionContextKeys", list(&["a", "b"]))],
            Allow,
        ),
        cond(
            "ForAllValues:StringNotLike one bad",
            "ForAllValues:StringNotLike",
            "kms:EncryptionContextKeys",
            json!("secret*"),
            vec![("kms:EncryptionContextKeys", list(&["a", "secretX"]))],
            ImplicitDeny,
        ),
        cond(
            "ForAllValues:StringEqualsIgnoreCase",
            "ForAllValues:StringEqualsIgnoreCase",
            "kms:EncryptionContextKeys",
            json!(["DEPT"]),
            vec![("kms:EncryptionContextKeys", list(&["dept"]))],
            Allow,
        ),
        cond(
            "multi-valued key, no qualifier, any matches",
            "StringEquals",
            "kms:ResourceAliases",
            json!("alias/a"),
            vec![("kms:ResourceAliases", list(&["alias/b", "alias/a"]))],
            Allow,
        ),
        // IfExists.
        cond(
            "StringEqualsIfExists absent",
            "StringEqualsIfExists",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            vec![],
            Allow,
        ),
        cond(
            "StringEqualsIfExists present mismatch",
            "StringEqualsIfExists",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            a("RSAES_OAEP_SHA_1"),
            ImplicitDeny,
        ),
        cond(
            "StringEqualsIfExists present match",
            "StringEqualsIfExists",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "NumericLessThanEqualsIfExists absent",
            "NumericLessThanEqualsIfExists",
            days,
            json!("100"),
            vec![],
            Allow,
        ),
        cond(
            "NumericLessThanEqualsIfExists present",
            "NumericLessThanEqualsIfExists",
            days,
            json!("100"),
            n(365),
            ImplicitDeny,
        ),
        cond(
            "BoolIfExists absent",
            "BoolIfExists",
            "kms:GrantIsForAWSResource",
            json!("true"),
            vec![],
            Allow,
        ),
        cond(
            "ForAnyValue:StringLikeIfExists absent",
            "ForAnyValue:StringLikeIfExists",
            "kms:ResourceAliases",
            json!("alias/x*"),
            vec![],
            Allow,
        ),
        cond(
            "operator names are case-insensitive",
            "stringequals",
            alg,
            json!("SYMMETRIC_DEFAULT"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        cond(
            "condition key names are case-insensitive",
            "StringEquals",
            "KMS:encryptionalgorithm",
            json!("SYMMETRIC_DEFAULT"),
            a("SYMMETRIC_DEFAULT"),
            Allow,
        ),
        // Several keys are ANDed.
        row(
            "two keys ANDed, both hold",
            with_condition(
                json!({"StringEquals": {alg: "SYMMETRIC_DEFAULT", "kms:KeySpec": "SYMMETRIC_DEFAULT"}}),
            ),
            vec![
                (alg, s("SYMMETRIC_DEFAULT")),
                ("kms:KeySpec", s("SYMMETRIC_DEFAULT")),
            ],
            Allow,
        ),
        row(
            "two keys ANDed, one fails",
            with_condition(
                json!({"StringEquals": {alg: "SYMMETRIC_DEFAULT", "kms:KeySpec": "RSA_2048"}}),
            ),
            vec![
                (alg, s("SYMMETRIC_DEFAULT")),
                ("kms:KeySpec", s("SYMMETRIC_DEFAULT")),
            ],
            ImplicitDeny,
        ),
        row(
            "two operators ANDed",
            with_condition(
                json!({"StringEquals": {alg: "SYMMETRIC_DEFAULT"}, "NumericLessThan": {days: 100}}),
            ),
            vec![(alg, s("SYMMETRIC_DEFAULT")), (days, 365i64.into())],
            ImplicitDeny,
        ),
    ]
}

/// Every condition key: (key, policy operator, policy value, matching request value, non-matching request value).
fn condition_key_rows() -> Vec<Row> {
    let keys: Vec<(&'static str, &str, Value, ConditionValue, ConditionValue)> = vec![
        (
            "kms:EncryptionContext:Department",
            "StringEquals",
            json!("IT"),
            s("IT"),
            s("HR"),
        ),
        (
            "kms:EncryptionContextKeys",
            "ForAnyValue:StringEquals",
            json!("Department"),
            list(&["Department"]),
            list(&["Other"]),
        ),
        (
            "kms:EncryptionAlgorithm",
            "StringEquals",
            json!("SYMMETRIC_DEFAULT"),
            s("SYMMETRIC_DEFAULT"),
            s("RSAES_OAEP_SHA_256"),
        ),
        (
            "kms:SigningAlgorithm",
            "StringLike",
            json!("ECDSA_*"),
            s("ECDSA_SHA_256"),
            s("RSASSA_PSS_SHA_256"),
        ),
        (
            "kms:MacAlgorithm",
            "StringEquals",
            json!("HMAC_SHA_256"),
            s("HMAC_SHA_256"),
            s("HMAC_SHA_512"),
        ),
        (
            "kms:MessageType",
            "StringEquals",
            json!("RAW"),
            s("RAW"),
            s("DIGEST"),
        ),
        (
            "kms:KeySpec",
            "StringEquals",
            json!("RSA_2048"),
            s("RSA_2048"),
            s("RSA_4096"),
        ),
        (
            "kms:KeyUsage",
            "StringEquals",
            json!("SIGN_VERIFY"),
            s("SIGN_VERIFY"),
            s("ENCRYPT_DECRYPT"),
        ),
        (
            "kms:KeyOrigin",
            "StringEquals",
            json!("EXTERNAL"),
            s("EXTERNAL"),
            s("AWS_KMS"),
        ),
        (
            "kms:CallerAccount",
            "StringEquals",
            json!("111122223333"),
            s("111122223333"),
            s("444455556666"),
        ),
        (
            "kms:GrantOperations",
            "ForAllValues:StringEquals",
            json!(["Decrypt", "Encrypt"]),
            list(&["Decrypt"]),
            list(&["Sign"]),
        ),
        (
            "kms:GranteePrincipal",
            "StringEquals",
            json!(BOB),
            s(BOB),
            s(EVE),
        ),
        (
            "kms:RetiringPrincipal",
            "StringLike",
            json!("arn:aws:iam::111122223333:*"),
            s(BOB),
            s(EVE),
        ),
        (
            "kms:GrantIsForAWSResource",
            "Bool",
            json!("true"),
            true.into(),
            false.into(),
        ),
        (
            "kms:RequestAlias",
            "StringEquals",
            json!("alias/app"),
            s("alias/app"),
            s("alias/other"),
        ),
        (
            "kms:ResourceAliases",
            "ForAnyValue:StringEquals",
            json!("alias/app"),
            list(&["alias/app", "alias/b"]),
            list(&["alias/b"]),
        ),
        (
            "kms:ViaService",
            "StringEquals",
            json!("s3.us-east-1.amazonaws.com"),
            s("s3.us-east-1.amazonaws.com"),
            s("ec2.us-east-1.amazonaws.com"),
        ),
        (
            "aws:PrincipalArn",
            "ArnLike",
            json!("arn:aws:iam::111122223333:user/*"),
            s(ALICE),
            s(BOB),
        ),
        (
            "kms:BypassPolicyLockoutSafetyCheck",
            "Bool",
            json!("false"),
            false.into(),
            true.into(),
        ),
        (
            "kms:RotationPeriodInDays",
            "NumericLessThanEquals",
            json!("365"),
            180i64.into(),
            730i64.into(),
        ),
        (
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            "NumericGreaterThanEquals",
            json!("30"),
            30i64.into(),
            7i64.into(),
        ),
        (
            "kms:DataKeyPairSpec",
            "StringEquals",
            json!("ECC_NIST_P256"),
            s("ECC_NIST_P256"),
            s("RSA_2048"),
        ),
        (
            "kms:WrappingAlgorithm",
            "StringEquals",
            json!("RSA_AES_KEY_WRAP_SHA_256"),
            s("RSA_AES_KEY_WRAP_SHA_256"),
            s("RSAES_OAEP_SHA_1"),
        ),
        (
            "kms:ExpirationModel",
            "StringEquals",
            json!("KEY_MATERIAL_DOES_NOT_EXPIRE"),
            s("KEY_MATERIAL_DOES_NOT_EXPIRE"),
            s("KEY_MATERIAL_EXPIRES"),
        ),
        (
            "kms:ValidTo",
            "NumericLessThanEquals",
            json!("1568937600"),
            1_568_937_000i64.into(),
            1_600_000_000i64.into(),
        ),
        (
            "kms:ReEncryptOnSameKey",
            "Bool",
            json!("false"),
            false.into(),
            true.into(),
        ),
        (
            "kms:KeyAgreementAlgorithm",
            "StringEquals",
            json!("ECDH"),
            s("ECDH"),
            s("OTHER"),
        ),
        (
            "kms:GrantConstraintType",
            "StringEquals",
            json!("EncryptionContextEquals"),
            s("EncryptionContextEquals"),
            s("EncryptionContextSubset"),
        ),
        (
            "aws:PrincipalAccount",
            "StringEquals",
            json!("111122223333"),
            s("111122223333"),
            s("444455556666"),
        ),
        (
            "aws:ResourceTag/team",
            "StringEquals",
            json!("blue"),
            s("blue"),
            s("red"),
        ),
        (
            "aws:RequestTag/team",
            "StringEquals",
            json!("blue"),
            s("blue"),
            s("red"),
        ),
        (
            "aws:TagKeys",
            "ForAllValues:StringEquals",
            json!(["team"]),
            list(&["team"]),
            list(&["cost"]),
        ),
    ];
    let mut rows = Vec::new();
    for (key, op, pv, good, bad) in keys {
        let policy = with_condition(json!({op: {key: pv}}));
        rows.push(row(key, policy.clone(), vec![(key, good)], Allow));
        rows.push(row(key, policy, vec![(key, bad)], ImplicitDeny));
    }
    rows
}

fn element_rows() -> Vec<Row> {
    let star = json!("*");
    let p_alice = json!({"AWS": ALICE});
    let mut rows = vec![
        // Actions.
        row("kms:* allows Encrypt", statement("Allow", p_alice.clone(), json!("kms:*"), star.clone()), vec![], Allow),
        row("* allows Encrypt", statement("Allow", p_alice.clone(), json!("*"), star.clone()), vec![], Allow),
        row("action is case-insensitive", statement("Allow", p_alice.clone(), json!("KMS:ENCRYPT"), star.clone()), vec![], Allow),
        row("kms:Generate* does not cover Encrypt", statement("Allow", p_alice.clone(), json!("kms:Generate*"), star.clone()), vec![], ImplicitDeny),
        row("kms:?ncrypt", statement("Allow", p_alice.clone(), json!("kms:?ncrypt"), star.clone()), vec![], Allow),
        row("action list", statement("Allow", p_alice.clone(), json!(["kms:Decrypt", "kms:Encrypt"]), star.clone()), vec![], Allow),
        row("other service's action", statement("Allow", p_alice.clone(), json!("s3:*"), star.clone()), vec![], ImplicitDeny),
        row("kms:Decrypt does not cover Encrypt", statement("Allow", p_alice.clone(), json!("kms:Decrypt"), star.clone()), vec![], ImplicitDeny),
        row("NotAction excludes other", json!({"Statement": {"Effect": "Allow", "Principal": p_alice, "NotAction": "kms:Decrypt", "Resource": "*"}}).to_string(), vec![], Allow),
        row("NotAction excludes this", json!({"Statement": {"Effect": "Allow", "Principal": p_alice, "NotAction": ["kms:Enc*"], "Resource": "*"}}).to_string(), vec![], ImplicitDeny),
        // Resources.
        row("exact key ARN", statement("Allow", p_alice.clone(), json!("kms:*"), json!(KEY)), vec![], Allow),
        row("other key ARN", statement("Allow", p_alice.clone(), json!("kms:*"), json!(OTHER_KEY)), vec![], ImplicitDeny),
        row("resource wildcard", statement("Allow", p_alice.clone(), json!("kms:*"), json!("arn:aws:kms:*:111122223333:key/*")), vec![], Allow),
        row("resource wildcard other account", statement("Allow", p_alice.clone(), json!("kms:*"), json!("arn:aws:kms:*:444455556666:key/*")), vec![], ImplicitDeny),
        row("NotResource excludes other", json!({"Statement": {"Effect": "Allow", "Principal": p_alice, "Action": "kms:*", "NotResource": OTHER_KEY}}).to_string(), vec![], Allow),
        row("NotResource excludes this", json!({"Statement": {"Effect": "Allow", "Principal": p_alice, "Action": "kms:*", "NotResource": [KEY]}}).to_string(), vec![], ImplicitDeny),
        // Principals.
        row("principal *", statement("Allow", star.clone(), json!("kms:*"), star.clone()), vec![], Allow),
        row("principal AWS *", statement("Allow", json!({"AWS": "*"}), json!("kms:*"), star.clone()), vec![], Allow),
        row("principal exact", statement("Allow", p_alice.clone(), json!("kms:*"), star.clone()), vec![], Allow),
        row("principal other", statement("Allow", json!({"AWS": BOB}), json!("kms:*"), star.clone()), vec![], ImplicitDeny),
        row("principal account ID", statement("Allow", json!({"AWS": "111122223333"}), json!("kms:*"), star.clone()), vec![], Allow),
        row("principal account root", statement("Allow", json!({"AWS": "arn:aws:iam::111122223333:root"}), json!("kms:*"), star.clone()), vec![], Allow),
        row("principal other account root", statement("Allow", json!({"AWS": "arn:aws:iam::444455556666:root"}), json!("kms:*"), star.clone()), vec![], ImplicitDeny),
        row("principal wildcard ARN", statement("Allow", json!({"AWS": "arn:aws:iam::111122223333:user/a*"}), json!("kms:*"), star.clone()), vec![], Allow),
        row("principal wildcard ARN miss", statement("Allow", json!({"AWS": "arn:aws:iam::111122223333:user/b*"}), json!("kms:*"), star.clone()), vec![], ImplicitDeny),
        row("principal list", statement("Allow", json!({"AWS": [BOB, ALICE]}), json!("kms:*"), star.clone()), vec![], Allow),
        row("service principal does not match a user", statement("Allow", json!({"Service": "s3.amazonaws.com"}), json!("kms:*"), star.clone()), vec![], ImplicitDeny),
        row("NotPrincipal other", json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": BOB}, "Action": "kms:*", "Resource": "*"}}).to_string(), vec![], Allow),
        row("NotPrincipal self", json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": ALICE}, "Action": "kms:*", "Resource": "*"}}).to_string(), vec![], ImplicitDeny),
        // Deny over Allow.
        row("Deny wins over Allow", json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "kms:Encrypt", "Resource": "*"}]}).to_string(), vec![], ExplicitDeny),
        row("Deny first still wins", json!({"Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}).to_string(), vec![], ExplicitDeny),
        row("Deny for another action does not apply", json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]}).to_string(), vec![], Allow),
        row("Deny whose condition fails does not apply", json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
             "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]}).to_string(), vec![], Allow),
        row("Deny with NotPrincipal admin", json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": BOB}, "Action": "kms:*", "Resource": "*"}]}).to_string(), vec![], ExplicitDeny),
        row("only Deny statements", statement("Deny", json!({"AWS": BOB}), json!("kms:*"), star.clone()), vec![], ImplicitDeny),
        row("default key policy, admin", default_key_policy(ALICE), vec![], Allow),
        row("default key policy, other", default_key_policy(BOB), vec![], ImplicitDeny),
    ];
    rows.push(Row {
        name: "kms:Generate* covers GenerateDataKey",
        policy: statement(
            "Allow",
            json!({"AWS": ALICE}),
            json!("kms:Generate*"),
            star.clone(),
        ),
        principal: ALICE,
        action: "GenerateDataKey",
        resource: KEY,
        values: vec![],
        expect: Allow,
    });
    rows.push(Row {
        name: "account root principal does not cover another account",
        policy: statement(
            "Allow",
            json!({"AWS": "111122223333"}),
            json!("kms:*"),
            star.clone(),
        ),
        principal: EVE,
        action: "Encrypt",
        resource: KEY,
        values: vec![],
        expect: ImplicitDeny,
    });
    rows.push(Row {
        name: "role principal via account",
        policy: statement(
            "Allow",
            json!({"AWS": "arn:aws:iam::111122223333:root"}),
            json!("kms:Decrypt"),
            star,
        ),
        principal: BOB,
        action: "Decrypt",
        resource: KEY,
        values: vec![],
        expect: Allow,
    });
    rows
}

fn run(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for r in rows {
        let policy = match Policy::parse(&r.policy) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{}: parse failed: {e}", r.name));
                continue;
            }
        };
        let mut req = PolicyRequest::new(r.principal, r.action, r.resource);
        for (k, v) in r.values {
            req = req.with(k, v);
        }
        let got = evaluate(&policy, &req);
        if got != r.expect {
            failures.push(format!("{}: expected {:?}, got {got:?}", r.name, r.expect));
        }
        // Without conditions, the decision ignores condition values (the
        // facade's fast path evaluates such a policy without them).
        let bare = evaluate(
            &policy,
            &PolicyRequest::new(r.principal, r.action, r.resource),
        );
        if !policy.has_conditions() && bare != got {
            failures.push(format!("{}: {got:?} with values, {bare:?} without", r.name));
        }
        if r.policy.contains("\"Condition\"") != policy.has_conditions() {
            failures.push(format!("{}: has_conditions is wrong", r.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn operators_qualifiers_and_if_exists() {
    run(operator_rows());
}

#[test]
fn every_condition_key() {
    run(condition_key_rows());
}

#[test]
fn actions_resources_principals_and_deny() {
    run(element_rows());
}

#[test]
fn encryption_context_helper_populates_keys() {
    let policy = Policy::parse(&with_condition(json!({
        "StringEquals": {"kms:EncryptionContext:Department": "IT"},
        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["Department", "Project"]}
    })))
    .unwrap();
    let ctx = EncryptionContext::from_pairs([("Department", "IT"), ("Project", "x")]).unwrap();
    let req = PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx);
    assert_eq!(evaluate(&policy, &req), Allow);
    let ctx = EncryptionContext::from_pairs([("Department", "IT"), ("Other", "x")]).unwrap();
    let req = PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx);
    assert_eq!(evaluate(&policy, &req), ImplicitDeny);
    // kms:EncryptionContextKeys compares the context keys as values, with
    // the operator's case sensitivity: "department" is not "Department".
    let ctx = EncryptionContext::from_pairs([("department", "IT")]).unwrap();
    let req = PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx);
    assert_eq!(evaluate(&policy, &req), ImplicitDeny);
}

/// The KMS Developer Guide ("kms:EncryptionContext:context-key", case
/// sensitivity): the condition key, prefix and context key, is not case
/// sensitive; the value's case sensitivity is the operator's. A key-exact
/// policy adds kms:EncryptionContextKeys.
#[test]
fn encryption_context_condition_key_ignores_the_case_of_the_context_key() {
    let decide = |condition: Value, pairs: &[(&str, &str)]| {
        let policy = Policy::parse(&with_condition(condition)).unwrap();
        let ctx = EncryptionContext::from_pairs(pairs.iter().copied()).unwrap();
        evaluate(
            &policy,
            &PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx),
        )
    };
    let by_value = json!({"StringEquals": {"kms:EncryptionContext:Appname": "ExampleApp"}});
    for key in ["Appname", "AppName", "appname", "APPNAME"] {
        assert_eq!(
            decide(by_value.clone(), &[(key, "ExampleApp")]),
            Allow,
            "{key}"
        );
    }
    assert_eq!(
        decide(by_value.clone(), &[("AppName", "exampleapp")]),
        ImplicitDeny
    );
    assert_eq!(decide(by_value, &[("Other", "ExampleApp")]), ImplicitDeny);
    // Only ASCII letters fold: a non-ASCII key in another case is not the
    // policy's key (and, as a Unicode look-alike, does not satisfy an Allow).
    let accented = json!({"StringEquals": {"kms:EncryptionContext:ÉTAGE": "2"}});
    assert_eq!(decide(accented.clone(), &[("ÉTAGE", "2")]), Allow);
    assert_eq!(decide(accented.clone(), &[("Étage", "2")]), Allow);
    assert_eq!(decide(accented, &[("étage", "2")]), ImplicitDeny);
    // Key and value both exact: add kms:EncryptionContextKeys.
    let exact = json!({
        "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"},
        "StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}
    });
    assert_eq!(decide(exact.clone(), &[("AppName", "ExampleApp")]), Allow);
    assert_eq!(decide(exact, &[("appname", "ExampleApp")]), ImplicitDeny);
}

/// A Deny on one spelling of a context key applies to every spelling, also
/// when the context holds two keys that differ only by case.
#[test]
fn encryption_context_deny_applies_to_any_case_of_the_key() {
    let policy = Policy::parse(
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:classification": "secret"}}}
        ]})
        .to_string(),
    )
    .unwrap();
    let decide = |pairs: &[(&str, &str)]| {
        let ctx = EncryptionContext::from_pairs(pairs.iter().copied()).unwrap();
        evaluate(
            &policy,
            &PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx),
        )
    };
    assert_eq!(decide(&[("classification", "secret")]), ExplicitDeny);
    assert_eq!(decide(&[("Classification", "secret")]), ExplicitDeny);
    assert_eq!(
        decide(&[("Classification", "public"), ("classification", "secret")]),
        ExplicitDeny
    );
    assert_eq!(
        decide(&[("CLASSIFICATION", "secret"), ("classification", "public")]),
        ExplicitDeny
    );
    assert_eq!(decide(&[("Classification", "public")]), Allow);
}

/// Decides the policy made of `statements` for a Decrypt with the context `pairs`.
fn decide_context(statements: Value, pairs: &[(&str, &str)]) -> Decision {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let policy = Policy::parse(&text).unwrap();
    let ctx = EncryptionContext::from_pairs(pairs.iter().copied()).unwrap();
    evaluate(
        &policy,
        &PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx),
    )
}

/// Review 5b #4: a context with two keys that differ only in case
/// (`{"Dept": "forged", "dept": "a"}`) makes `kms:EncryptionContext:dept`
/// ambiguous. An Allow statement's condition on it is not met, whatever
/// the operator: the key applications read as `Dept` holds `forged`.
#[test]
fn an_allow_condition_on_a_context_key_given_twice_in_different_case_is_not_met() {
    let allow = |condition: Value| {
        json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
            "Condition": condition})
    };
    let forged = [("Dept", "forged"), ("dept", "a")];
    for condition in [
        json!({"StringEquals": {"kms:EncryptionContext:Dept": "a"}}),
        json!({"StringEquals": {"kms:EncryptionContext:dept": ["a", "forged"]}}),
        json!({"StringLike": {"kms:EncryptionContext:DEPT": "*"}}),
        json!({"StringEqualsIfExists": {"kms:EncryptionContext:dept": "a"}}),
        json!({"ForAnyValue:StringEquals": {"kms:EncryptionContext:dept": "a"}}),
        json!({"ForAllValues:StringEquals": {"kms:EncryptionContext:dept": ["a", "forged"]}}),
        json!({"StringNotEquals": {"kms:EncryptionContext:dept": "b"}}),
        json!({"Null": {"kms:EncryptionContext:dept": "false"}}),
    ] {
        assert_eq!(
            decide_context(allow(condition.clone()), &forged),
            ImplicitDeny,
            "{condition}"
        );
    }
    let by_value = allow(json!({"StringEquals": {"kms:EncryptionContext:Dept": "a"}}));
    assert_eq!(decide_context(by_value.clone(), &[("Dept", "a")]), Allow);
    assert_eq!(decide_context(by_value.clone(), &[("DEPT", "a")]), Allow);
    assert_eq!(
        decide_context(by_value.clone(), &[("Dept", "forged")]),
        ImplicitDeny
    );
    // Keys that collide but that no condition names change nothing.
    assert_eq!(
        decide_context(by_value, &[("Dept", "a"), ("Tag", "1"), ("tag", "2")]),
        Allow
    );
    // The documented exact-case pattern (kms:EncryptionContextKeys with a
    // case-sensitive operator) is not bypassed by a second spelling either.
    let exact = allow(json!({
        "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"},
        "StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}
    }));
    assert_eq!(
        decide_context(exact.clone(), &[("AppName", "ExampleApp")]),
        Allow
    );
    assert_eq!(
        decide_context(exact, &[("AppName", "Other"), ("appname", "ExampleApp")]),
        ImplicitDeny
    );
    // kms:EncryptionContextKeys itself lists the keys as written, each once:
    // it is not ambiguous.
    let keys = allow(
        json!({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["Dept", "dept"]}}),
    );
    assert_eq!(decide_context(keys, &forged), Allow);
}

/// Review 5b #4: in a Deny statement a condition on an ambiguous context key
/// is met, so the usual "deny unless" (`StringNotEquals`) applies, and so
/// does a positive Deny on either value.
#[test]
fn a_deny_condition_on_a_context_key_given_twice_in_different_case_is_met() {
    let with_deny = |condition: Value| {
        json!([
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": condition}
        ])
    };
    let deny_unless = with_deny(json!({"StringNotEquals": {"kms:EncryptionContext:Dept": "a"}}));
    assert_eq!(decide_context(deny_unless.clone(), &[("Dept", "a")]), Allow);
    assert_eq!(decide_context(deny_unless.clone(), &[("dept", "a")]), Allow);
    assert_eq!(
        decide_context(deny_unless.clone(), &[("Dept", "forged")]),
        ExplicitDeny
    );
    for pairs in [
        [("Dept", "forged"), ("dept", "a")],
        [("Dept", "a"), ("dept", "forged")],
        [("Dept", "a"), ("DEPT", "a")],
    ] {
        assert_eq!(
            decide_context(deny_unless.clone(), &pairs),
            ExplicitDeny,
            "{pairs:?}"
        );
    }
    // The other operators of a Deny are met too; a Deny that names another
    // key does not fire because of a collision it does not name.
    let positive = with_deny(json!({"StringEquals": {"kms:EncryptionContext:dept": "secret"}}));
    assert_eq!(
        decide_context(positive.clone(), &[("Dept", "public"), ("dept", "public")]),
        ExplicitDeny
    );
    assert_eq!(decide_context(positive, &[("Dept", "public")]), Allow);
    let other = with_deny(json!({"StringNotEquals": {"kms:EncryptionContext:tenant": "t"}}));
    assert_eq!(
        decide_context(other, &[("tenant", "t"), ("Dept", "x"), ("dept", "y")]),
        Allow
    );
}

/// Review 5b #5: context keys fold ASCII letters only. U+212A KELVIN SIGN
/// lowercases to `k` under Unicode, but the context key `\u{212A}ey` is
/// not `key`: it satisfies no Allow condition on `key` (it is treated as an
/// ambiguous look-alike, so not even a negated one), and a Deny on `key`
/// still applies to it.
#[test]
fn context_keys_fold_ascii_letters_only() {
    let kelvin = "\u{212A}ey";
    let allow = |condition: Value| {
        json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
            "Condition": condition})
    };
    let equals = allow(json!({"StringEquals": {"kms:EncryptionContext:key": "v"}}));
    assert_eq!(decide_context(equals.clone(), &[("KEY", "v")]), Allow);
    assert_eq!(
        decide_context(equals.clone(), &[(kelvin, "v")]),
        ImplicitDeny
    );
    assert_eq!(
        decide_context(equals, &[("key", "v"), (kelvin, "forged")]),
        ImplicitDeny
    );
    let not_equals = allow(json!({"StringNotEquals": {"kms:EncryptionContext:key": "x"}}));
    assert_eq!(decide_context(not_equals.clone(), &[("other", "x")]), Allow);
    assert_eq!(decide_context(not_equals, &[(kelvin, "x")]), ImplicitDeny);
    // A policy that spells its key with the Kelvin sign is not met by `key`.
    let kelvin_policy =
        allow(json!({"StringEquals": {format!("kms:EncryptionContext:{kelvin}"): "v"}}));
    assert_eq!(
        decide_context(kelvin_policy.clone(), &[(kelvin, "v")]),
        Allow
    );
    assert_eq!(decide_context(kelvin_policy, &[("key", "v")]), ImplicitDeny);
    let deny = json!([
        {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:key": "v"}}}
    ]);
    assert_eq!(decide_context(deny.clone(), &[(kelvin, "v")]), ExplicitDeny);
    assert_eq!(decide_context(deny, &[(kelvin, "w")]), ExplicitDeny);
    // The condition values of the request are keyed by the ASCII-folded name.
    let ctx = EncryptionContext::from_pairs([(kelvin, "v"), ("ÄB", "w")]).unwrap();
    let req = PolicyRequest::new(ALICE, "Decrypt", KEY).with_encryption_context(&ctx);
    assert_eq!(req.get("kms:EncryptionContext:key"), None);
    assert_eq!(
        req.get(&format!("kms:EncryptionContext:{kelvin}")),
        Some(s("v"))
    );
    assert_eq!(req.get("kms:EncryptionContext:äb"), None);
    assert_eq!(req.get("kms:EncryptionContext:Äb"), Some(s("w")));
}

/// Look-alikes that equal an ASCII key only through uppercase (U+017F LONG
/// S uppercases to `S`, U+0131 DOTLESS I to `I`; Java's `equalsIgnoreCase`
/// and Go's `strings.EqualFold` call them equal) and non-ASCII case variants
/// (final sigma, capital sharp s) are ambiguous like the Kelvin sign: they
/// meet no Allow condition on the key and do not lift a deny-unless.
#[test]
fn context_keys_equal_only_through_uppercase_are_ambiguous() {
    let allow = |condition: Value| {
        json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
            "Condition": condition})
    };
    let deny_unless = |name: &str, value: &str| {
        json!([
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringNotEquals": {format!("kms:EncryptionContext:{name}"): value}}}
        ])
    };
    for (name, look_alike) in [
        ("service", "\u{17F}ervice"),
        ("tenant_id", "tenant_\u{131}d"),
        ("\u{3C3}", "\u{3C2}"),
        ("\u{DF}", "\u{1E9E}"),
    ] {
        let equals =
            allow(json!({"StringEquals": {format!("kms:EncryptionContext:{name}"): "ok"}}));
        assert_eq!(
            decide_context(equals.clone(), &[(name, "ok")]),
            Allow,
            "{name}"
        );
        assert_eq!(
            decide_context(equals, &[(name, "ok"), (look_alike, "forged")]),
            ImplicitDeny,
            "{name} / {look_alike}"
        );
        assert_eq!(
            decide_context(
                deny_unless(name, "ok"),
                &[(name, "ok"), (look_alike, "forged")]
            ),
            ExplicitDeny,
            "{name} / {look_alike}"
        );
        assert_eq!(
            decide_context(deny_unless(name, "ok"), &[(name, "ok")]),
            Allow
        );
    }
}

/// Whether a policy tests a condition key is decided on the parsed document:
/// a key written with JSON escapes or in another case counts.
#[test]
fn uses_condition_key_reads_the_parsed_policy() {
    let escaped = r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt",
        "Resource": "*", "Condition": {"ForAnyValue:StringLike":
        {"kms:ResourceAliases": "alias/prot*"}}}}"#;
    let policy = Policy::parse(escaped).unwrap();
    assert!(policy.uses_condition_key("kms:ResourceAliases"));
    assert!(policy.uses_condition_key("KMS:RESOURCEALIASES"));
    assert!(!policy.uses_condition_key("kms:RequestAlias"));
    assert!(!policy.uses_condition_key("kms:NoSuchKey"));
    let mentions_only = json!({"Statement": {"Sid": "kms:ResourceAliases", "Effect": "Allow",
        "Principal": "*", "Action": "kms:*", "Resource": "*"}})
    .to_string();
    let policy = Policy::parse(&mentions_only).unwrap();
    assert!(!policy.uses_condition_key("kms:ResourceAliases"));
    let policy = Policy::parse(&with_condition(
        json!({"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}),
    ))
    .unwrap();
    assert!(policy.uses_condition_key("kms:encryptioncontext:DEPT"));
}

/// A key repeated within one JSON object, at any depth, is refused: a
/// parser keeping the last one would read `Deny … Allow` as an Allow.
#[test]
fn repeated_json_keys_are_refused() {
    let docs = [
        r#"{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}}"#,
        r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*", "Effect": "Allow"}}"#,
        r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*", "AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}"#,
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "1"}, "StringEquals": {"kms:CallerAccount": "2"}}}}"#,
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "1", "kms:CallerAccount": "2"}}}}"#,
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "1", "kms:CallerAccount": "2"}}}}"#,
    ];
    for doc in docs {
        let e = Policy::parse(doc).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::MalformedPolicyDocumentException,
            "{doc}"
        );
        assert!(e.message().contains("more than once"), "{e}");
    }
    // The same documents without the repetition parse.
    Policy::parse(
        r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}}"#,
    )
    .unwrap();
}

/// (name, document, substring the error message must contain)
fn malformed_rows() -> Vec<(&'static str, String, &'static str)> {
    let ok_stmt = json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"});
    let with = |k: &str, v: Value| {
        let mut s = ok_stmt.clone();
        s[k] = v;
        json!({"Statement": [s]}).to_string()
    };
    let without = |k: &str| {
        let mut s = ok_stmt.clone();
        s.as_object_mut().unwrap().remove(k);
        json!({"Statement": [s]}).to_string()
    };
    vec![
        ("not JSON", "{\"Statement\": [".into(), "not valid JSON"),
        ("garbage", "hello".into(), "not valid JSON"),
        ("top level array", "[]".into(), "must be a JSON object"),
        (
            "no Statement",
            json!({"Version": "2012-10-17"}).to_string(),
            "no Statement",
        ),
        (
            "empty Statement",
            json!({"Statement": []}).to_string(),
            "empty list",
        ),
        (
            "Statement string",
            json!({"Statement": "x"}).to_string(),
            "Statement must be",
        ),
        (
            "Statement element not object",
            json!({"Statement": [1]}).to_string(),
            "Statement[0] must be a JSON object",
        ),
        (
            "unknown top-level element",
            json!({"Statement": [ok_stmt], "Foo": 1}).to_string(),
            "unknown policy element \"Foo\"",
        ),
        (
            "bad Version",
            json!({"Version": "2020-01-01", "Statement": [ok_stmt]}).to_string(),
            "Version \"2020-01-01\"",
        ),
        (
            "Version number",
            json!({"Version": 2012, "Statement": [ok_stmt]}).to_string(),
            "Version must be a string",
        ),
        (
            "Id number",
            json!({"Id": 1, "Statement": [ok_stmt]}).to_string(),
            "Id must be a string",
        ),
        (
            "unknown statement element",
            with("Effects", json!("Allow")),
            "unknown statement element \"Effects\"",
        ),
        ("missing Effect", without("Effect"), "missing Effect"),
        (
            "lowercase Effect",
            with("Effect", json!("allow")),
            "Effect must be",
        ),
        ("Effect number", with("Effect", json!(1)), "Effect must be"),
        ("Sid number", with("Sid", json!(1)), "Sid must be a string"),
        (
            "missing Principal",
            without("Principal"),
            "missing Principal",
        ),
        (
            "Principal and NotPrincipal",
            with("NotPrincipal", json!("*")),
            "not both",
        ),
        (
            "Principal bare name",
            with("Principal", json!("alice")),
            "Principal must be",
        ),
        (
            "Principal not ARN",
            with("Principal", json!({"AWS": "alice"})),
            "principal \"alice\" is not",
        ),
        (
            "Principal unsupported type",
            with("Principal", json!({"CanonicalUser": "abc"})),
            "unsupported principal type",
        ),
        (
            "Principal empty list",
            with("Principal", json!({"AWS": []})),
            "must be a non-empty",
        ),
        ("missing Action", without("Action"), "missing Action"),
        (
            "Action and NotAction",
            with("NotAction", json!("kms:Decrypt")),
            "not both",
        ),
        ("Action number", with("Action", json!(5)), "Action must be"),
        (
            "Action list with number",
            with("Action", json!(["kms:Encrypt", 5])),
            "Action must be",
        ),
        (
            "Action without service",
            with("Action", json!("Encrypt")),
            "action \"Encrypt\" is not",
        ),
        ("missing Resource", without("Resource"), "missing Resource"),
        (
            "Resource not ARN",
            with("Resource", json!("key/1")),
            "resource \"key/1\" is not",
        ),
        (
            "Condition not object",
            with("Condition", json!("x")),
            "Condition must be a JSON object",
        ),
        (
            "operator block not object",
            with("Condition", json!({"StringEquals": "x"})),
            "must map to a JSON object",
        ),
        (
            "unknown operator",
            with("Condition", json!({"StringEqualz": {"kms:KeySpec": "x"}})),
            "unknown condition operator \"StringEqualz\"",
        ),
        (
            "malformed date",
            with("Condition", json!({"DateLessThan": {"kms:ValidTo": "x"}})),
            "needs a date",
        ),
        (
            "impossible date",
            with(
                "Condition",
                json!({"DateLessThan": {"aws:CurrentTime": "2023-02-29T00:00:00Z"}}),
            ),
            "needs a date",
        ),
        (
            "date without a zone",
            with(
                "Condition",
                json!({"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00"}}),
            ),
            "needs a date",
        ),
        (
            "date operator on a string key",
            with(
                "Condition",
                json!({"DateEquals": {"kms:KeySpec": "2030-01-01"}}),
            ),
            "cannot be used with \"kms:KeySpec\"",
        ),
        (
            "numeric operator on aws:CurrentTime",
            with(
                "Condition",
                json!({"NumericLessThan": {"aws:CurrentTime": "1"}}),
            ),
            "cannot be used with \"aws:CurrentTime\"",
        ),
        (
            "bad CIDR prefix",
            with(
                "Condition",
                json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}),
            ),
            "needs an IPv4 or IPv6 address or CIDR range",
        ),
        (
            "bad IPv6 prefix",
            with(
                "Condition",
                json!({"NotIpAddress": {"aws:SourceIp": "2001:db8::/129"}}),
            ),
            "needs an IPv4 or IPv6 address or CIDR range",
        ),
        (
            "host name for IpAddress",
            with(
                "Condition",
                json!({"IpAddress": {"aws:SourceIp": "example.com"}}),
            ),
            "needs an IPv4 or IPv6 address or CIDR range",
        ),
        (
            "IpAddress on a string key",
            with(
                "Condition",
                json!({"IpAddress": {"kms:CallerAccount": "10.0.0.0/8"}}),
            ),
            "cannot be used with \"kms:CallerAccount\"",
        ),
        (
            "BinaryEquals with non-base64",
            with(
                "Condition",
                json!({"BinaryEquals": {"kms:KeySpec": "not base64!"}}),
            ),
            "needs base64 for BinaryEquals",
        ),
        (
            "BinaryEquals on a numeric key",
            with(
                "Condition",
                json!({"BinaryEquals": {"kms:RotationPeriodInDays": "MQ=="}}),
            ),
            "cannot be used with",
        ),
        (
            "bad qualifier",
            with(
                "Condition",
                json!({"ForSomeValues:StringEquals": {"kms:KeySpec": "x"}}),
            ),
            "unknown condition operator",
        ),
        (
            "Null with IfExists",
            with(
                "Condition",
                json!({"NullIfExists": {"kms:KeySpec": "true"}}),
            ),
            "Null operator",
        ),
        (
            "unknown key",
            with("Condition", json!({"StringEquals": {"kms:Bogus": "x"}})),
            "unknown condition key \"kms:Bogus\"",
        ),
        (
            "unknown global key",
            with("Condition", json!({"StringEquals": {"aws:SourceVpc": "x"}})),
            "unknown condition key",
        ),
        (
            "empty context key",
            with(
                "Condition",
                json!({"StringEquals": {"kms:EncryptionContext:": "x"}}),
            ),
            "unknown condition key",
        ),
        (
            "numeric operator on string key",
            with("Condition", json!({"NumericLessThan": {"kms:KeySpec": 1}})),
            "cannot be used",
        ),
        (
            "Bool on string key",
            with("Condition", json!({"Bool": {"kms:KeySpec": "true"}})),
            "cannot be used",
        ),
        (
            "number not a number",
            with(
                "Condition",
                json!({"NumericLessThan": {"kms:RotationPeriodInDays": "abc"}}),
            ),
            "needs a number",
        ),
        // A JSON number beyond f64's range is read as its string form only
        // as a condition value: elsewhere it is refused as before.
        (
            "Sid a number beyond f64's range",
            r#"{"Statement": {"Sid": 1e400, "Effect": "Allow", "Principal": "*",
            "Action": "kms:*", "Resource": "*"}}"#
                .into(),
            "number out of range",
        ),
        (
            "a number beyond f64's range in an object as a condition value",
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*",
            "Resource": "*", "Condition": {"NumericLessThan":
            {"kms:RotationPeriodInDays": {"a": 1e400}}}}}"#
                .into(),
            "number out of range",
        ),
        (
            "Bool with a number beyond f64's range, as with its string form",
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*",
            "Resource": "*", "Condition": {"Bool":
            {"kms:BypassPolicyLockoutSafetyCheck": -1e400}}}}"#
                .into(),
            "needs \"true\" or \"false\", not \"-1e400\"",
        ),
        (
            "a number beyond f64's range with a repeated key",
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*",
            "Resource": "*", "Condition": {"NumericLessThan":
            {"kms:RotationPeriodInDays": 1e400}}, "Effect": "Allow"}}"#
                .into(),
            "appears more than once",
        ),
        (
            "exponent without digits is not a number",
            with(
                "Condition",
                json!({"NumericLessThan": {"kms:RotationPeriodInDays": "1e+"}}),
            ),
            "needs a number",
        ),
        (
            "NaN is not a number",
            with(
                "Condition",
                json!({"NumericLessThan": {"kms:RotationPeriodInDays": "NaN"}}),
            ),
            "needs a number",
        ),
        (
            "bool not a bool",
            with(
                "Condition",
                json!({"Bool": {"kms:GrantIsForAWSResource": "yes"}}),
            ),
            "needs \"true\" or \"false\"",
        ),
        (
            "value object",
            with(
                "Condition",
                json!({"StringEquals": {"kms:KeySpec": {"a": 1}}}),
            ),
            "must be a string, number, boolean",
        ),
        (
            "value null",
            with("Condition", json!({"StringEquals": {"kms:KeySpec": null}})),
            "must be a string, number, boolean",
        ),
        (
            "empty value list",
            with("Condition", json!({"StringEquals": {"kms:KeySpec": []}})),
            "empty value list",
        ),
        (
            "operator with no keys",
            with("Condition", json!({"StringEquals": {}})),
            "lists no condition keys",
        ),
        (
            "over 32 KiB",
            {
                let mut d = json!({"Statement": [ok_stmt]}).to_string();
                d.push_str(&" ".repeat(MAX_POLICY_BYTES + 1 - d.len()));
                d
            },
            "32 KiB",
        ),
    ]
}

#[test]
fn malformed_documents_say_what_is_wrong() {
    let mut failures = Vec::new();
    for (name, doc, want) in malformed_rows() {
        match Policy::parse(&doc) {
            Ok(_) => failures.push(format!("{name}: parsed")),
            Err(e) if e.kind() != ErrorKind::MalformedPolicyDocumentException => {
                failures.push(format!("{name}: wrong kind {e}"))
            }
            Err(e) if !e.message().contains(want) => {
                failures.push(format!("{name}: message {:?} lacks {want:?}", e.message()))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn error_names_the_statement() {
    let doc = json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
        {"Sid": "Second", "Effect": "Allow", "Principal": "*", "Action": "kms:*"}]});
    let err = Policy::parse(&doc.to_string()).unwrap_err();
    assert!(
        err.message().contains("Statement[1] (Sid \"Second\")"),
        "{err}"
    );
}

#[test]
fn exactly_32_kib_is_accepted() {
    let mut d = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}})
        .to_string();
    d.push_str(&" ".repeat(MAX_POLICY_BYTES - d.len()));
    assert_eq!(d.len(), MAX_POLICY_BYTES);
    Policy::parse(&d).unwrap();
}

/// A 32 KiB policy (the KMS limit) of numeric condition values only:
/// hundreds of condition keys (ASCII case forms of
/// `kms:RotationPeriodInDays`) with a list of 8 numbers each. Each number
/// that is not an integer is looked up among the document's condition
/// values by its (statement, operator, key); that lookup was a linear scan
/// per number (quadratic in the document). Each list ends with a number
/// of more digits than an `f64` holds, read exactly only when its lookup
/// finds it: the decision is `Allow` only if every key's lookup did.
#[test]
fn a_32_kib_policy_of_numeric_values_is_parsed() {
    let name = "kms:RotationPeriodInDays";
    let variant = |i: usize| -> String {
        let mut bit = 0;
        name.chars()
            .map(|c| {
                if !c.is_ascii_alphabetic() {
                    return c;
                }
                bit += 1;
                if (i >> (bit - 1)) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    };
    let head = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"NumericLessThan":{"#;
    let tail = "}}}}";
    let mut doc = String::from(head);
    let mut keys = 0;
    loop {
        let member = format!(
            r#"{}"{}":[0.5,0.25,1.5,0.75,1.25,0.125,1.75,2.0000000000000000000001]"#,
            if keys == 0 { "" } else { "," },
            variant(keys)
        );
        if doc.len() + member.len() + tail.len() > MAX_POLICY_BYTES {
            break;
        }
        doc.push_str(&member);
        keys += 1;
    }
    doc.push_str(tail);
    doc.push_str(&" ".repeat(MAX_POLICY_BYTES - doc.len()));
    assert_eq!(doc.len(), MAX_POLICY_BYTES);
    assert!(keys > 300, "{keys}");
    let started = std::time::Instant::now();
    let policy = Policy::parse(&doc).unwrap();
    eprintln!(
        "parsed a 32 KiB policy of {keys} keys, {} numbers, in {:?}",
        8 * keys,
        started.elapsed()
    );
    let req = |days: &str| {
        PolicyRequest::new(ALICE, "Encrypt", KEY).with("kms:RotationPeriodInDays", s(days))
    };
    assert_eq!(evaluate(&policy, &req("2.00000000000000000000005")), Allow);
    assert_eq!(
        evaluate(&policy, &req("2.0000000000000000000001")),
        ImplicitDeny
    );
}

/// An error after condition values beyond `f64`'s range (`1e400`: the
/// document is read again with such values quoted) is reported at its line
/// and column in the caller's document, as for the same document with
/// in-range numbers of the same lengths: it was reported 2 columns further
/// per value quoted before it on its line.
#[test]
fn errors_after_a_number_beyond_f64_are_placed_in_the_document() {
    let statement = |value: &str| {
        format!(
            r#"{{"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": {{"NumericLessThan": {{"kms:RotationPeriodInDays": {value}}}}}}}"#
        )
    };
    for (name, bad, want) in [
        (
            "lone surrogate",
            r#"{"Sid": "\ud800"}"#,
            "not valid JSON: unexpected end of hex escape",
        ),
        (
            "repeated key",
            r#"{"Sid": "a", "Sid": "b"}"#,
            "not accepted",
        ),
    ] {
        for sep in [" ", "\n  "] {
            let doc = |a: &str, b: &str| {
                format!(
                    r#"{{"Statement": [{},{sep}{},{sep}{bad}]}}"#,
                    statement(a),
                    statement(b)
                )
            };
            let quoted = Policy::parse(&doc("1e400", "[-1e400, 2E+309]")).unwrap_err();
            let plain = Policy::parse(&doc("10000", "[-10000, 200000]")).unwrap_err();
            assert_eq!(quoted.kind(), ErrorKind::MalformedPolicyDocumentException);
            assert!(quoted.message().contains(want), "{name}: {quoted}");
            assert!(quoted.message().contains(" at line "), "{name}: {quoted}");
            assert_eq!(quoted.message(), plain.message(), "{name} ({sep:?})");
        }
    }
}

/// The request time the lockout tests check at (2026-01-01T00:00:00Z).
const LOCKOUT_NOW: u64 = 1_767_225_600;

/// The lockout check sees the request's own global condition keys, as the
/// real calls do: a `Deny` on `aws:CurrentTime`, or on `aws:SourceIp` for
/// the caller's address, locks the caller out and is refused; an `Allow`
/// limited to the caller's address range or to a time span holding now is
/// accepted (review of 2026-11-30: the check ran without them, so a policy
/// denying every call after 2000 was accepted and no call could manage the
/// key again).
#[test]
fn lockout_safety_sees_the_request_time_and_source_address() {
    let admin = ALICE;
    let allow_admin =
        json!({"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*"});
    let doc = |stmts: Value| {
        Policy::parse(&json!({"Version": "2012-10-17", "Statement": stmts}).to_string()).unwrap()
    };
    let ip = |s: &str| Some(s.parse::<std::net::IpAddr>().unwrap());
    let deny_after_2000 = doc(json!([allow_admin, {
        "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}}
    }]));
    let e = lockout_check(&deny_after_2000, admin, KEY, LOCKOUT_NOW, None).unwrap_err();
    assert_eq!(e.message(), LOCKOUT_MESSAGE);
    let deny_after_2100 = doc(json!([allow_admin, {
        "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:EpochTime": "4102444800"}}
    }]));
    lockout_check(&deny_after_2100, admin, KEY, LOCKOUT_NOW, None).unwrap();
    let deny_outside_range = doc(json!([allow_admin, {
        "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    }]));
    lockout_check(&deny_outside_range, admin, KEY, LOCKOUT_NOW, ip("10.1.2.3")).unwrap();
    let e = lockout_check(
        &deny_outside_range,
        admin,
        KEY,
        LOCKOUT_NOW,
        ip("192.0.2.7"),
    )
    .unwrap_err();
    assert_eq!(e.message(), LOCKOUT_MESSAGE);
    // In process (no address) NotIpAddress holds, as in every such call.
    lockout_check(&deny_outside_range, admin, KEY, LOCKOUT_NOW, None).unwrap_err();
    let allow_from_range = doc(json!([{
        "Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    }]));
    lockout_check(&allow_from_range, admin, KEY, LOCKOUT_NOW, ip("10.1.2.3")).unwrap();
    lockout_check(&allow_from_range, admin, KEY, LOCKOUT_NOW, None).unwrap_err();
}

#[test]
fn lockout_safety() {
    let admin = ALICE;
    // The default policy keeps the admin in control.
    let p = Policy::parse(&default_key_policy(admin)).unwrap();
    lockout_check(&p, admin, KEY, LOCKOUT_NOW, None).unwrap();
    // Another principal installing the default policy for the admin locks itself out.
    let err = lockout_check(&p, BOB, KEY, LOCKOUT_NOW, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedPolicyDocumentException);
    assert_eq!(err.message(), LOCKOUT_MESSAGE);

    let cases: Vec<(&str, Value, bool)> = vec![
        (
            "only Encrypt",
            json!([{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:Encrypt", "Resource": "*"}]),
            false,
        ),
        (
            "PutKeyPolicy explicitly",
            json!([{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:PutKeyPolicy", "Resource": "*"}]),
            true,
        ),
        (
            "account root",
            json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]),
            true,
        ),
        (
            "Deny PutKeyPolicy to all",
            json!([
            {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*"}]),
            false,
        ),
        (
            "only via a service",
            json!([{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]),
            false,
        ),
        (
            "only with bypass",
            json!([{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*",
            "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}}]),
            false,
        ),
        (
            "other key only",
            json!([{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": OTHER_KEY}]),
            false,
        ),
    ];
    for (name, stmts, ok) in cases {
        let p = Policy::parse(&json!({"Version": "2012-10-17", "Statement": stmts}).to_string())
            .unwrap();
        let got = lockout_check(&p, admin, KEY, LOCKOUT_NOW, None);
        assert_eq!(got.is_ok(), ok, "{name}: {got:?}");
        if let Err(e) = got {
            assert_eq!(e.message(), LOCKOUT_MESSAGE);
        }
    }
}

#[test]
fn authorize_combines_policy_and_grants() {
    let p = Policy::parse(
        &json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": EVE}, "Action": "kms:*", "Resource": "*"}]})
        .to_string(),
    )
    .unwrap();
    authorize(&p, &PolicyRequest::new(ALICE, "Encrypt", KEY), false).unwrap();
    let e = authorize(&p, &PolicyRequest::new(BOB, "Encrypt", KEY), false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException);
    assert!(
        e.message().contains(BOB) && e.message().contains("kms:Encrypt"),
        "{e}"
    );
    // A grant allows what the policy leaves undecided …
    authorize(&p, &PolicyRequest::new(BOB, "Encrypt", KEY), true).unwrap();
    // … but never overrides an explicit deny.
    let e = authorize(&p, &PolicyRequest::new(EVE, "Encrypt", KEY), true).unwrap_err();
    assert!(e.message().contains("explicit deny"), "{e}");
}

#[test]
fn default_policy_shape() {
    let v: Value = serde_json::from_str(&default_key_policy(ALICE)).unwrap();
    assert_eq!(v["Statement"][0]["Sid"], "Enable IAM User Permissions");
    assert_eq!(v["Statement"][0]["Principal"]["AWS"], ALICE);
    assert_eq!(v["Statement"][0]["Action"], "kms:*");
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("*".to_string()),
            Just("Allow".to_string()),
            Just("Deny".to_string()),
            Just("kms:*".to_string()),
            Just("arn:aws:iam::111122223333:root".to_string()),
            Just("kms:EncryptionContext:a".to_string()),
            Just("true".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop_oneof![
            Just("Version".to_string()),
            Just("Statement".to_string()),
            Just("Effect".to_string()),
            Just("Principal".to_string()),
            Just("NotPrincipal".to_string()),
            Just("AWS".to_string()),
            Just("Action".to_string()),
            Just("NotAction".to_string()),
            Just("Resource".to_string()),
            Just("NotResource".to_string()),
            Just("Condition".to_string()),
            Just("StringEquals".to_string()),
            Just("ForAllValues:StringLikeIfExists".to_string()),
            Just("Null".to_string()),
            Just("NumericLessThan".to_string()),
            Just("kms:EncryptionContextKeys".to_string()),
            Just("kms:RotationPeriodInDays".to_string()),
            ".{0,8}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn parser_never_panics_on_garbage(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Policy::parse(&text);
    }

    #[test]
    fn parser_and_evaluator_never_panic_on_json(doc in arb_json(), action in "[A-Za-z*?]{0,12}") {
        if let Ok(p) = Policy::parse(&doc.to_string()) {
            let req = PolicyRequest::new(ALICE, &action, KEY)
                .with("kms:EncryptionContextKeys", list(&["a"]))
                .with("kms:RotationPeriodInDays", 3i64);
            let _ = evaluate(&p, &req);
            let _ = lockout_check(&p, ALICE, KEY, LOCKOUT_NOW, None);
        }
    }
}

/// The date, binary and IP address operators of the IAM policy reference,
/// with `IfExists`, the set qualifiers and `Null`.
fn date_binary_ip_rows() -> Vec<Row> {
    let now = "aws:CurrentTime";
    let epoch = "aws:EpochTime";
    let ip = "aws:SourceIp";
    // 2023-11-14T22:13:20Z
    let at = |iso: &str| {
        vec![
            (now, s(iso)),
            (epoch, ConditionValue::from(1_700_000_000i64)),
        ]
    };
    let from = |addr: &str| vec![(ip, s(addr))];
    let t = "2023-11-14T22:13:20Z";
    vec![
        cond(
            "DateEquals same instant, other zone",
            "DateEquals",
            now,
            json!("2023-11-14T23:13:20+01:00"),
            at(t),
            Allow,
        ),
        cond(
            "DateEquals epoch seconds against ISO",
            "DateEquals",
            now,
            json!(1_700_000_000),
            at(t),
            Allow,
        ),
        cond(
            "DateEquals a second off",
            "DateEquals",
            now,
            json!("2023-11-14T22:13:21Z"),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "DateNotEquals a second off",
            "DateNotEquals",
            now,
            json!("2023-11-14T22:13:21Z"),
            at(t),
            Allow,
        ),
        cond(
            "DateNotEquals same",
            "DateNotEquals",
            now,
            json!(t),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "DateLessThan later bound",
            "DateLessThan",
            now,
            json!("2030-01-01T00:00:00Z"),
            at(t),
            Allow,
        ),
        cond(
            "DateLessThan equal",
            "DateLessThan",
            now,
            json!(t),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "DateLessThanEquals equal",
            "DateLessThanEquals",
            now,
            json!(t),
            at(t),
            Allow,
        ),
        cond(
            "DateLessThanEquals fraction later",
            "DateLessThanEquals",
            now,
            json!("2023-11-14T22:13:19.999Z"),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "DateGreaterThan earlier date",
            "DateGreaterThan",
            now,
            json!("2023-11-14"),
            at(t),
            Allow,
        ),
        cond(
            "DateGreaterThan equal",
            "DateGreaterThan",
            now,
            json!(t),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "DateGreaterThanEquals equal",
            "DateGreaterThanEquals",
            now,
            json!("1700000000"),
            at(t),
            Allow,
        ),
        cond(
            "DateGreaterThanEquals later",
            "DateGreaterThanEquals",
            now,
            json!("2023-11-15"),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "aws:EpochTime with DateLessThan",
            "DateLessThan",
            epoch,
            json!("2023-11-14T22:13:21Z"),
            at(t),
            Allow,
        ),
        cond(
            "aws:EpochTime with NumericGreaterThan",
            "NumericGreaterThan",
            epoch,
            json!(1_699_999_999),
            at(t),
            Allow,
        ),
        cond(
            "kms:ValidTo with DateLessThanEquals",
            "DateLessThanEquals",
            "kms:ValidTo",
            json!("2024-01-01T00:00:00Z"),
            vec![("kms:ValidTo", ConditionValue::from(1_704_067_200i64))],
            Allow,
        ),
        cond(
            "date values are ORed",
            "DateEquals",
            now,
            json!(["2020-01-01", t]),
            at(t),
            Allow,
        ),
        cond(
            "request value not a date matches nothing",
            "DateLessThan",
            now,
            json!("2030-01-01"),
            vec![(now, s("yesterday"))],
            ImplicitDeny,
        ),
        cond(
            "absent date key fails DateLessThan",
            "DateLessThan",
            now,
            json!("2030-01-01"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "absent date key satisfies DateNotEquals",
            "DateNotEquals",
            now,
            json!("2030-01-01"),
            vec![],
            Allow,
        ),
        cond(
            "absent date key satisfies DateLessThanIfExists",
            "DateLessThanIfExists",
            now,
            json!("2020-01-01"),
            vec![],
            Allow,
        ),
        cond(
            "present date key decides DateLessThanIfExists",
            "DateLessThanIfExists",
            now,
            json!("2020-01-01"),
            at(t),
            ImplicitDeny,
        ),
        cond(
            "ForAnyValue:DateEquals",
            "ForAnyValue:DateEquals",
            now,
            json!(t),
            vec![(now, list(&["2020-01-01", t]))],
            Allow,
        ),
        cond(
            "ForAllValues:DateLessThan one later",
            "ForAllValues:DateLessThan",
            now,
            json!("2025-01-01"),
            vec![(now, list(&["2020-01-01", t, "2026-01-01"]))],
            ImplicitDeny,
        ),
        cond(
            "ForAllValues:DateLessThan all earlier",
            "ForAllValues:DateLessThan",
            now,
            json!("2025-01-01"),
            vec![(now, list(&["2020-01-01", t]))],
            Allow,
        ),
        cond(
            "Null on aws:CurrentTime present",
            "Null",
            now,
            json!("false"),
            at(t),
            Allow,
        ),
        cond(
            "Null on aws:SourceIp absent",
            "Null",
            ip,
            json!("true"),
            vec![],
            Allow,
        ),
        cond(
            "BinaryEquals decoded bytes",
            "BinaryEquals",
            "kms:KeySpec",
            json!("U1lNTUVUUklDX0RFRkFVTFQ="),
            vec![("kms:KeySpec", s("SYMMETRIC_DEFAULT"))],
            Allow,
        ),
        cond(
            "BinaryEquals other bytes",
            "BinaryEquals",
            "kms:KeySpec",
            json!("UlNBXzIwNDg="),
            vec![("kms:KeySpec", s("SYMMETRIC_DEFAULT"))],
            ImplicitDeny,
        ),
        cond(
            "BinaryEquals compares bytes, not base64 text",
            "BinaryEquals",
            "kms:KeySpec",
            json!("U1lNTUVUUklDX0RFRkFVTFQ="),
            vec![("kms:KeySpec", s("U1lNTUVUUklDX0RFRkFVTFQ="))],
            ImplicitDeny,
        ),
        cond(
            "BinaryEqualsIfExists absent",
            "BinaryEqualsIfExists",
            "kms:KeySpec",
            json!("UlNBXzIwNDg="),
            vec![],
            Allow,
        ),
        cond(
            "IpAddress in range",
            "IpAddress",
            ip,
            json!("203.0.113.0/24"),
            from("203.0.113.77"),
            Allow,
        ),
        cond(
            "IpAddress out of range",
            "IpAddress",
            ip,
            json!("203.0.113.0/24"),
            from("203.0.114.1"),
            ImplicitDeny,
        ),
        cond(
            "IpAddress /32 exact",
            "IpAddress",
            ip,
            json!("203.0.113.9/32"),
            from("203.0.113.9"),
            Allow,
        ),
        cond(
            "IpAddress bare address is /32",
            "IpAddress",
            ip,
            json!("203.0.113.9"),
            from("203.0.113.10"),
            ImplicitDeny,
        ),
        cond(
            "IpAddress /0 holds every IPv4 address",
            "IpAddress",
            ip,
            json!("0.0.0.0/0"),
            from("198.51.100.1"),
            Allow,
        ),
        cond(
            "IpAddress IPv4 /0 does not hold IPv6",
            "IpAddress",
            ip,
            json!("0.0.0.0/0"),
            from("2001:db8::1"),
            ImplicitDeny,
        ),
        cond(
            "IpAddress IPv6 range",
            "IpAddress",
            ip,
            json!("2001:db8::/32"),
            from("2001:db8:1::5"),
            Allow,
        ),
        cond(
            "IpAddress IPv6 /128",
            "IpAddress",
            ip,
            json!("2001:db8::5/128"),
            from("2001:db8::6"),
            ImplicitDeny,
        ),
        cond(
            "IpAddress IPv4-mapped peer",
            "IpAddress",
            ip,
            json!("10.0.0.0/8"),
            from("::ffff:10.9.8.7"),
            Allow,
        ),
        cond(
            "IpAddress list is ORed",
            "IpAddress",
            ip,
            json!(["10.0.0.0/8", "2001:db8::/32"]),
            from("2001:db8::9"),
            Allow,
        ),
        cond(
            "IpAddress request value not an address",
            "IpAddress",
            ip,
            json!("0.0.0.0/0"),
            from("localhost"),
            ImplicitDeny,
        ),
        cond(
            "IpAddress absent key",
            "IpAddress",
            ip,
            json!("0.0.0.0/0"),
            vec![],
            ImplicitDeny,
        ),
        cond(
            "IpAddressIfExists absent key",
            "IpAddressIfExists",
            ip,
            json!("10.0.0.0/8"),
            vec![],
            Allow,
        ),
        cond(
            "NotIpAddress outside",
            "NotIpAddress",
            ip,
            json!("10.0.0.0/8"),
            from("192.0.2.1"),
            Allow,
        ),
        cond(
            "NotIpAddress inside",
            "NotIpAddress",
            ip,
            json!("10.0.0.0/8"),
            from("10.0.0.1"),
            ImplicitDeny,
        ),
        cond(
            "NotIpAddress absent key holds",
            "NotIpAddress",
            ip,
            json!("10.0.0.0/8"),
            vec![],
            Allow,
        ),
        cond(
            "NotIpAddressIfExists absent key holds",
            "NotIpAddressIfExists",
            ip,
            json!("10.0.0.0/8"),
            vec![],
            Allow,
        ),
        cond(
            "ForAnyValue:IpAddress",
            "ForAnyValue:IpAddress",
            ip,
            json!("10.0.0.0/8"),
            vec![(ip, list(&["192.0.2.1", "10.1.1.1"]))],
            Allow,
        ),
        cond(
            "ForAllValues:NotIpAddress one inside",
            "ForAllValues:NotIpAddress",
            ip,
            json!("10.0.0.0/8"),
            vec![(ip, list(&["192.0.2.1", "10.1.1.1"]))],
            ImplicitDeny,
        ),
        // A network restriction written as a Deny: outside 10/8 is refused.
        row(
            "Deny NotIpAddress refuses an outside caller",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
            .to_string(),
            from("192.0.2.1"),
            ExplicitDeny,
        ),
        row(
            "Deny NotIpAddress lets an inside caller through",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
            .to_string(),
            from("10.2.3.4"),
            Allow,
        ),
    ]
}

#[test]
fn date_binary_and_ip_address_operators() {
    run(date_binary_ip_rows());
}
