//! KMS key policies: the IAM policy grammar as AWS KMS uses it for key
//! policies, parsed from JSON and evaluated for one request at a time.
//!
//! - [`Policy::parse`] validates a document (at most [`MAX_POLICY_BYTES`]);
//!   every problem is a `MalformedPolicyDocumentException` whose message says
//!   which statement and element is wrong.
//! - [`evaluate`] answers a [`PolicyRequest`] with a [`Decision`]: an
//!   applicable `Deny` statement wins, then an applicable `Allow`, otherwise
//!   the request is implicitly denied.
//! - [`authorize`] turns a decision (plus whether a grant allows the request)
//!   into `Ok(())` or KMS's `AccessDeniedException`.
//! - [`default_key_policy`] and [`lockout_check`] implement the default key
//!   policy and the policy lockout safety check of `CreateKey`/`PutKeyPolicy`.
//!
//! Principals: `"*"` (also `{"AWS": "*"}`) matches everyone; a 12-digit account
//! ID or the account root `arn:aws:iam::<account>:root` matches every
//! principal of that account (Strongroom has no IAM to delegate to, so the
//! account *is* the delegation): a principal ARN of the forms
//! [`crate::grant::is_grant_principal`] accepts (IAM user, role, root,
//! assumed role, federated user) in that account and in the pattern's
//! partition (`aws` for a bare account ID); any other ARN matches exactly, with `*`/`?`
//! wildcards. `{"Service": ...}` principals match a request principal equal
//! to the service name.
//!
//! ```
//! use strongroom_core::policy::{evaluate, Decision, Policy, PolicyRequest};
//! use strongroom_core::EncryptionContext;
//!
//! let policy = Policy::parse(r#"{
//!   "Version": "2012-10-17",
//!   "Statement": {
//!     "Effect": "Allow",
//!     "Principal": {"AWS": "arn:aws:iam::111122223333:user/app"},
//!     "Action": ["kms:Encrypt", "kms:Decrypt"],
//!     "Resource": "*",
//!     "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "a"}}
//!   }
//! }"#)?;
//! let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
//! let context = EncryptionContext::from_pairs([("tenant", "a")])?;
//! let request = PolicyRequest::new("arn:aws:iam::111122223333:user/app", "Encrypt", key)
//!     .with("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
//!     .with_encryption_context(&context);
//! assert_eq!(evaluate(&policy, &request), Decision::Allow);
//! # Ok::<(), strongroom_core::Error>(())
//! ```
//!
//! # Condition keys a caller populates
//!
//! [`PolicyRequest`] derives `kms:CallerAccount`, `aws:PrincipalAccount` and
//! `aws:PrincipalArn` from the principal. The action is the operation name;
//! the resource is the key ARN. The caller sets the rest, per operation, as
//! AWS KMS does (a key that does not apply is simply left out):
//!
//! | operation (action) | condition keys |
//! |---|---|
//! | every operation on an existing key | `kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin`, `kms:ResourceAliases` (the key's aliases), `aws:ResourceTag/<k>` (its tags), `kms:ViaService` (only when a service calls on the principal's behalf), `aws:CurrentTime` and `aws:EpochTime` (the request time, [`crate::access::request_globals`]), `aws:SourceIp` (only when the request came over the network) |
//! | an operation that accepts an alias (the cryptographic operations, `DescribeKey`, `GetPublicKey`; every other one refuses it) called with one | `kms:RequestAlias` |
//! | `Encrypt`, `Decrypt`, `GenerateDataKey`, `GenerateDataKeyWithoutPlaintext` | [`PolicyRequest::with_encryption_context`] (`kms:EncryptionContext:<k>`, `kms:EncryptionContextKeys`), `kms:EncryptionAlgorithm` |
//! | `ReEncrypt` | evaluated twice: action `ReEncryptFrom` on the source key with the source context and algorithm, action `ReEncryptTo` on the destination key with the destination ones; both with `kms:ReEncryptOnSameKey` |
//! | `GenerateDataKeyPair`, `GenerateDataKeyPairWithoutPlaintext` | encryption context, `kms:DataKeyPairSpec`, `kms:EncryptionAlgorithm` |
//! | `Sign`, `Verify` | `kms:SigningAlgorithm`, `kms:MessageType` |
//! | `GenerateMac`, `VerifyMac` | `kms:MacAlgorithm` |
//! | `DeriveSharedSecret` | `kms:KeyAgreementAlgorithm` |
//! | `CreateGrant` | `kms:GrantOperations` (list), `kms:GranteePrincipal`, `kms:RetiringPrincipal`, `kms:GrantIsForAWSResource` (false), `kms:GrantConstraintType`, and the constraint's context as the encryption context |
//! | `CreateKey` | `kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin`, `kms:BypassPolicyLockoutSafetyCheck`, `aws:RequestTag/<k>`, `aws:TagKeys` |
//! | `PutKeyPolicy` | `kms:BypassPolicyLockoutSafetyCheck` |
//! | `EnableKeyRotation` | `kms:RotationPeriodInDays` |
//! | `ScheduleKeyDeletion` | `kms:ScheduleKeyDeletionPendingWindowInDays` |
//! | `GetParametersForImport` | `kms:WrappingAlgorithm`, `kms:WrappingKeySpec` |
//! | `ImportKeyMaterial` | `kms:ExpirationModel`, `kms:ValidTo` (Unix seconds) |
//! | `TagResource`, `UntagResource` | `aws:RequestTag/<k>` (tag), `aws:TagKeys` |

mod condition;
mod date;
mod ip;
mod literal;
mod lockout;
mod number;
mod request;
mod wildcard;

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use condition::Clause;
pub(crate) use condition::{ContextKeyMatch, ContextKeys};

pub use lockout::{default_key_policy, lockout_check, LOCKOUT_MESSAGE};
pub use request::{ConditionValue, ConditionValues, PolicyRequest};

/// The largest key policy KMS accepts: 32 KiB of UTF-8.
pub const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The only policy name KMS (and Strongroom) uses, as `ListKeyPolicies` returns it.
pub const DEFAULT_POLICY_NAME: &str = "default";

pub(crate) fn malformed(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::MalformedPolicyDocumentException, message)
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The statement grants the actions.
    Allow,
    /// The statement forbids the actions; wins over every `Allow` and grant.
    Deny,
}

/// A principal pattern of a `Principal`/`NotPrincipal` element.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PrincipalPattern {
    Any,
    /// Every principal of the account in the partition (`arn:<partition>:iam::<account>:root`,
    /// or a bare account ID in partition `aws`).
    Account {
        partition: String,
        account: String,
    },
    Arn(String),
    Service(String),
}

impl PrincipalPattern {
    fn matches(&self, principal: &str) -> bool {
        match self {
            PrincipalPattern::Any => true,
            // A principal of the account: an IAM user, role, assumed role,
            // federated user or the root, as an ARN in the pattern's
            // partition (not an S3 bucket, an IAM group or policy).
            PrincipalPattern::Account { partition, account } => {
                crate::grant::is_grant_principal(principal)
                    && principal.split(':').nth(1) == Some(partition.as_str())
                    && request::account_of(principal) == Some(account.as_str())
            }
            PrincipalPattern::Arn(p) => wildcard::glob(p, principal),
            PrincipalPattern::Service(s) => s == principal,
        }
    }
}

/// True when `pattern` (an `AWS` principal as written in a key policy: `"*"`,
/// an account ID, an account root ARN, or an ARN with wildcards) covers
/// `principal`. Grants do not use this: they name one principal
/// ([`crate::grant::is_grant_principal`]).
pub fn principal_matches(pattern: &str, principal: &str) -> bool {
    aws_principal(pattern).is_some_and(|p| p.matches(principal))
}

/// Classifies an `AWS` principal value; `None` when it is not a valid one.
fn aws_principal(v: &str) -> Option<PrincipalPattern> {
    if v == "*" {
        return Some(PrincipalPattern::Any);
    }
    if request::is_account_id(v) {
        return Some(PrincipalPattern::Account {
            partition: "aws".to_owned(),
            account: v.to_owned(),
        });
    }
    let fields = crate::key::arn_fields(v)?;
    if fields[0] != "arn" || fields[5].is_empty() {
        return None;
    }
    if fields[2] == "iam" && fields[5] == "root" && request::is_account_id(fields[4]) {
        return Some(PrincipalPattern::Account {
            partition: fields[1].to_owned(),
            account: fields[4].to_owned(),
        });
    }
    Some(PrincipalPattern::Arn(v.to_owned()))
}

/// One statement of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    principals: Vec<PrincipalPattern>,
    not_principal: bool,
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    conditions: Vec<Clause>,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The `Effect`.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Whether this statement applies to `request` (principal, action,
    /// resource and every condition match). A condition on an encryption
    /// context key that is ambiguous in the request (two context keys that
    /// differ only in ASCII case, or a Unicode case look-alike of the key)
    /// does not match in an `Allow` statement and matches in a `Deny`
    /// statement.
    pub fn applies(&self, request: &PolicyRequest<'_>) -> bool {
        let principal = self.principals.iter().any(|p| p.matches(request.principal));
        if principal == self.not_principal {
            return false;
        }
        let action = self
            .actions
            .iter()
            .any(|a| action_matches(a, request.action));
        if action == self.not_action {
            return false;
        }
        let resource = self
            .resources
            .iter()
            .any(|r| wildcard::glob(r, request.resource));
        if resource == self.not_resource {
            return false;
        }
        let in_deny = self.effect == Effect::Deny;
        self.conditions.iter().all(|c| c.holds(request, in_deny))
    }
}

fn action_matches(pattern: &str, operation: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.split_once(':') {
        Some((service, name)) => {
            service.eq_ignore_ascii_case("kms") && wildcard::glob_ignore_case(name, operation)
        }
        None => false,
    }
}

/// A parsed, validated key policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    version: Option<String>,
    id: Option<String>,
    statements: Vec<Statement>,
    /// Whether a condition tests an `aws:ResourceTag/` key, found once when
    /// the document is parsed ([`Policy::tests_resource_tags`]).
    resource_tags: bool,
}

impl Policy {
    /// Parses and validates a key policy document.
    ///
    /// Accepted: top-level `Version` (`2012-10-17` or `2008-10-17`, optional),
    /// `Id`, `Statement` (an object or a non-empty list); statement elements
    /// `Sid`, `Effect`, exactly one of `Principal`/`NotPrincipal`, exactly one
    /// of `Action`/`NotAction`, exactly one of `Resource`/`NotResource`, and
    /// `Condition`.
    ///
    /// # Errors
    /// `ValidationException` for an empty document (KMS's `Policy` is at
    /// least 1 character); `MalformedPolicyDocumentException` when the
    /// document is larger than [`MAX_POLICY_BYTES`], is not JSON, repeats a
    /// key within one JSON object (at any depth), misses or misspells an
    /// element, has
    /// an element of the wrong JSON type, an unknown condition operator or
    /// key, or a condition value of the wrong type. The message names the
    /// statement and element.
    pub fn parse(document: &str) -> Result<Self> {
        if document.is_empty() {
            return Err(Error::validation(
                "Policy must be at least 1 character long",
            ));
        }
        if document.len() > MAX_POLICY_BYTES {
            return Err(malformed(format!(
                "the policy document is {} bytes; the limit is {MAX_POLICY_BYTES} bytes (32 KiB)",
                document.len()
            )));
        }
        let literals = literal::Literals::new(document);
        // A condition value beyond f64's range is read as its string form
        // (`literal`'s module documentation).
        // An error of the quoted text is placed in `document`.
        let mut quoted = None;
        let value = crate::json_tree(document, true).or_else(|e| {
            quoted = literals.quote_out_of_range();
            match &quoted {
                Some(q) => crate::json_tree(&q.text, true),
                None => Err(e),
            }
        });
        let value = value.map_err(|e| {
            let mut text = format!("{e}");
            if let Some(q) = quoted.as_ref().filter(|_| e.line() > 0) {
                let at = format!(" at line {} column {}", e.line(), e.column());
                if let Some(message) = text.strip_suffix(&at) {
                    text = format!(
                        "{message} at line {} column {}",
                        e.line(),
                        q.column(e.line(), e.column())
                    );
                }
            }
            if e.is_data() {
                malformed(format!("the policy document is not accepted: {text}"))
            } else {
                malformed(format!("the policy document is not valid JSON: {text}"))
            }
        })?;
        let top = value
            .as_object()
            .ok_or_else(|| malformed("the policy document must be a JSON object"))?;
        for key in top.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(malformed(format!("unknown policy element \"{key}\"")));
            }
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(Value::String(v)) => {
                return Err(malformed(format!(
                    "Version \"{v}\" is not supported; use \"2012-10-17\""
                )))
            }
            Some(_) => return Err(malformed("Version must be a string")),
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(v)) => Some(v.clone()),
            Some(_) => return Err(malformed("Id must be a string")),
        };
        let raw_statements: Vec<&Value> = match top.get("Statement") {
            None => return Err(malformed("the policy document has no Statement")),
            Some(Value::Array(list)) if list.is_empty() => {
                return Err(malformed("Statement must not be an empty list"))
            }
            Some(Value::Array(list)) => list.iter().collect(),
            Some(v @ Value::Object(_)) => alloc::vec![v],
            Some(_) => {
                return Err(malformed(
                    "Statement must be a JSON object or a list of JSON objects",
                ))
            }
        };
        let statements = raw_statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, i, &literals))
            .collect::<Result<Vec<_>>>()?;
        let resource_tags = statements
            .iter()
            .flat_map(|s| &s.conditions)
            .any(|c| c.key().starts_with(condition::RESOURCE_TAG_PREFIX));
        Ok(Policy {
            version,
            id,
            statements,
            resource_tags,
        })
    }

    /// The `Version`, if given.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id`, if given.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Whether some statement has a `Condition`. When none has, [`evaluate`]
    /// depends only on the request's principal, action and resource, so a
    /// caller may evaluate a request without condition values first.
    pub fn has_conditions(&self) -> bool {
        self.statements.iter().any(|s| !s.conditions.is_empty())
    }

    /// Whether some statement's `Condition` tests the condition key `name`
    /// (compared as condition keys are, without regard to case). Decided on
    /// the parsed document, so a key spelled with JSON escapes counts too;
    /// lets a caller skip gathering a value that costs a lookup (such as
    /// `kms:ResourceAliases`) when no statement asks for it.
    pub fn uses_condition_key(&self, name: &str) -> bool {
        let Some((key, _)) = condition::canonical_key(name) else {
            return false;
        };
        self.statements
            .iter()
            .flat_map(|s| &s.conditions)
            .any(|c| c.key() == key)
    }

    /// Whether some statement's `Condition` tests an `aws:ResourceTag/<key>`
    /// condition key (the prefix compared without regard to case, as
    /// condition keys are), so that a decision depends on the key's tags.
    /// Found when the document is parsed: reading it costs nothing.
    pub fn tests_resource_tags(&self) -> bool {
        self.resource_tags
    }
}

/// The crate's one reader of JSON trees (policies, stored records, audit
/// lines; [`crate::json_tree`]): a `serde_json::Value` read as
/// `serde_json::from_str::<Value>` reads it, except that with `unique` an
/// object that repeats a key, at any depth, is an error, and that an
/// object whose first member is named `"$serde_json::private::RawValue"` is
/// read as written (serde_json's `Value`, with the `raw_value` feature,
/// replaces it by the JSON in that member's string).
/// `serde_json::Value` keeps the last of repeated keys, which would let a
/// policy read differently to a reviewer (or another parser) than to
/// Strongroom: `"Effect": "Deny", …, "Effect": "Allow"` is an Allow.
/// One visitor for both readings, so that serde_json's parser is compiled
/// once for trees (not once for `Value` and once for this).
#[derive(Clone, Copy)]
pub(crate) struct JsonTree {
    /// Whether a repeated key is an error (else the last one is kept).
    pub(crate) unique: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonTree {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> core::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonTree {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> core::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> core::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> core::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> core::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> core::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> core::result::Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> core::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> core::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> core::result::Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.unique && object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{key}\" appears more than once in one object"
                )));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn parse_statement(v: &Value, index: usize, literals: &literal::Literals<'_>) -> Result<Statement> {
    let at = match v.get("Sid").and_then(Value::as_str) {
        Some(sid) => format!("Statement[{index}] (Sid \"{sid}\")"),
        None => format!("Statement[{index}]"),
    };
    let obj = v
        .as_object()
        .ok_or_else(|| malformed(format!("{at} must be a JSON object")))?;
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(malformed(format!(
                "{at}: unknown statement element \"{key}\""
            )));
        }
    }
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed(format!("{at}: Sid must be a string"))),
    };
    let effect = match obj.get("Effect") {
        None => return Err(malformed(format!("{at}: missing Effect"))),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(_) => {
            return Err(malformed(format!(
                "{at}: Effect must be \"Allow\" or \"Deny\""
            )))
        }
    };
    let (principal_value, not_principal) = one_of(obj, "Principal", "NotPrincipal", &at)?;
    let principals = parse_principal(principal_value, &at)?;
    let (action_value, not_action) = one_of(obj, "Action", "NotAction", &at)?;
    let actions = string_list(
        action_value,
        &at,
        if not_action { "NotAction" } else { "Action" },
    )?;
    for a in &actions {
        let valid = a == "*"
            || a.split_once(':').is_some_and(|(svc, name)| {
                !svc.is_empty()
                    && !name.is_empty()
                    && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            return Err(malformed(format!(
                "{at}: action \"{a}\" is not \"*\" or of the form \"kms:Operation\""
            )));
        }
    }
    let (resource_value, not_resource) = one_of(obj, "Resource", "NotResource", &at)?;
    let resources = string_list(
        resource_value,
        &at,
        if not_resource {
            "NotResource"
        } else {
            "Resource"
        },
    )?;
    for r in &resources {
        if r != "*" && !r.starts_with("arn:") {
            return Err(malformed(format!(
                "{at}: resource \"{r}\" is not \"*\" or an ARN"
            )));
        }
    }
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => condition::parse_condition(c, &at, |op, key, item| {
            literals.number(index, op, key, item)
        })?,
    };
    Ok(Statement {
        sid,
        effect,
        principals,
        not_principal,
        actions,
        not_action,
        resources,
        not_resource,
        conditions,
    })
}

/// Exactly one of `positive`/`negative` must be present; returns it and
/// whether it was the negative one.
fn one_of<'v>(
    obj: &'v Map<String, Value>,
    positive: &str,
    negative: &str,
    at: &str,
) -> Result<(&'v Value, bool)> {
    match (obj.get(positive), obj.get(negative)) {
        (Some(v), None) => Ok((v, false)),
        (None, Some(v)) => Ok((v, true)),
        (Some(_), Some(_)) => Err(malformed(format!(
            "{at}: use either {positive} or {negative}, not both"
        ))),
        (None, None) => Err(malformed(format!("{at}: missing {positive}"))),
    }
}

fn string_list(v: &Value, at: &str, element: &str) -> Result<Vec<String>> {
    let bad = || {
        malformed(format!(
            "{at}: {element} must be a non-empty string or a non-empty list of strings"
        ))
    };
    let list = match v {
        Value::String(s) => alloc::vec![s.clone()],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(ToOwned::to_owned).ok_or_else(bad))
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(bad()),
    };
    if list.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(list)
}

fn parse_principal(v: &Value, at: &str) -> Result<Vec<PrincipalPattern>> {
    match v {
        Value::String(s) if s == "*" => Ok(alloc::vec![PrincipalPattern::Any]),
        Value::Object(map) if !map.is_empty() => {
            let mut out = Vec::new();
            for (kind, values) in map {
                let values = string_list(values, at, &format!("Principal \"{kind}\""))?;
                for value in values {
                    let pattern = match kind.as_str() {
                        "AWS" => aws_principal(&value).ok_or_else(|| {
                            malformed(format!(
                                "{at}: principal \"{value}\" is not \"*\", a 12-digit account ID or an ARN"
                            ))
                        })?,
                        "Service" => PrincipalPattern::Service(value),
                        _ => {
                            return Err(malformed(format!(
                                "{at}: unsupported principal type \"{kind}\" (use \"AWS\" or \"Service\")"
                            )))
                        }
                    };
                    out.push(pattern);
                }
            }
            Ok(out)
        }
        _ => Err(malformed(format!(
            "{at}: Principal must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::111122223333:user/name\"}}"
        ))),
    }
}

/// The outcome of evaluating a policy for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A `Deny` statement applies; nothing (no `Allow`, no grant) can override it.
    ExplicitDeny,
    /// An `Allow` statement applies and no `Deny` does.
    Allow,
    /// No statement applies; a grant may still allow the request.
    ImplicitDeny,
}

/// Evaluates `policy` for `request`: `ExplicitDeny` if any applicable
/// statement denies, else `Allow` if any allows, else `ImplicitDeny`.
pub fn evaluate(policy: &Policy, request: &PolicyRequest<'_>) -> Decision {
    let mut allowed = false;
    for s in &policy.statements {
        if s.applies(request) {
            match s.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Combines the key policy's decision with grants: an explicit deny always
/// refuses; otherwise an `Allow` from the policy or from a grant
/// (`grant_allows`, see [`crate::grant::grant_allows`]) permits the request.
///
/// # Errors
/// `AccessDeniedException` with KMS's message shape
/// ("User: … is not authorized to perform: kms:… on resource: … because …").
pub fn authorize(policy: &Policy, request: &PolicyRequest<'_>, grant_allows: bool) -> Result<()> {
    let why = match evaluate(policy, request) {
        Decision::Allow => return Ok(()),
        Decision::ImplicitDeny if grant_allows => return Ok(()),
        Decision::ExplicitDeny => "with an explicit deny in a resource-based policy",
        Decision::ImplicitDeny => "because no resource-based policy allows the action",
    };
    Err(Error::new(
        ErrorKind::AccessDeniedException,
        format!(
            "User: {} is not authorized to perform: kms:{} on resource: {} {why}",
            request.principal, request.action, request.resource
        ),
    ))
}
