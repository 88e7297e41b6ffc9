//! The `Condition` element: operators, condition keys and their evaluation.
//!
//! Semantics follow the IAM policy reference ("Condition operators",
//! "Single-valued vs. multivalued context keys"):
//! - keys inside one operator block, and operator blocks, are ANDed; the
//!   values listed for one key are ORed;
//! - negated operators (`StringNotEquals`, `NumericNotEquals`, `ArnNotLike`, …)
//!   match a request value when it matches *none* of the policy values;
//! - without a qualifier a positive operator matches when any request value
//!   matches, a negated one when every request value does (for single-valued
//!   keys these coincide); `ForAnyValue:` needs one request value to match,
//!   `ForAllValues:` needs all of them to (and is true when the key is absent);
//! - an absent key fails positive operators and satisfies negated ones,
//!   unless the operator ends in `IfExists`, which is then true;
//! - `Null` with `true` requires the key to be absent, with `false` present.
//!
//! The numeric operators compare exact decimals ([`number`](super::number)):
//! no floating point, so two decimals are equal only when they are the same
//! number, and a request number given as an `f64` counts as its exact value.
//!
//! The date operators (`DateEquals`, `DateNotEquals`, `DateLessThan`,
//! `DateLessThanEquals`, `DateGreaterThan`, `DateGreaterThanEquals`) compare
//! instants given as ISO 8601 date-times or epoch seconds ([`date`](super::date));
//! `BinaryEquals` compares the base64-decoded policy value with the bytes of
//! the request value; `IpAddress`/`NotIpAddress` test an address against
//! IPv4/IPv6 CIDR ranges ([`ip`](super::ip)). A request value that is not a
//! date (an address) matches no policy value of a date (IP) operator.
//!
//! Condition key names are matched without regard to ASCII case, including
//! the part after `kms:EncryptionContext:`: the AWS KMS Developer Guide
//! ("kms:EncryptionContext:context-key", case sensitivity) says a policy does
//! not check the case of either element of that condition key; a policy
//! that needs the exact case of a context key adds a `kms:EncryptionContextKeys`
//! condition with a case-sensitive operator. Only tag keys
//! (`aws:ResourceTag/`, `aws:RequestTag/`) keep the case they are written in.
//!
//! A context key answers to `kms:EncryptionContext:<key>` only when the two
//! are equal but for ASCII case. When the context has two keys that do
//! (`Dept` and `dept`), or a key that is equal to `<key>` only under Unicode
//! case folding (`\u{212A}ey`, KELVIN SIGN, for `key`), the condition key is
//! ambiguous ([`ContextKeys::find`]): a condition on it does not hold in an
//! `Allow` statement and holds in a `Deny` statement, whatever the operator
//! (see [`Statement::applies`](super::Statement::applies)).

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use core::cmp::Ordering;

use serde_json::Value;

use super::date::{parse_instant, Instant};
use super::ip::{self, Cidr};
use super::malformed;
use super::number::Decimal;
use super::request::PolicyRequest;
use super::wildcard::{eq_ignore_case, glob};
use crate::context::EncryptionContext;
use crate::error::Result;

/// The value type of a condition key, which decides which operators apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyType {
    Str,
    Numeric,
    Bool,
    /// An instant as an ISO 8601 date-time (`aws:CurrentTime`).
    Date,
    /// An instant in epoch seconds, a number and a date at once
    /// (`aws:EpochTime`, `kms:ValidTo`): numeric and date operators apply.
    Epoch,
    /// An IP address (`aws:SourceIp`).
    Ip,
}

/// (canonical name, type) of every accepted condition key.
const KEYS: &[(&str, KeyType)] = &[
    ("kms:EncryptionContextKeys", KeyType::Str),
    ("kms:EncryptionAlgorithm", KeyType::Str),
    ("kms:SigningAlgorithm", KeyType::Str),
    ("kms:MacAlgorithm", KeyType::Str),
    ("kms:MessageType", KeyType::Str),
    ("kms:KeySpec", KeyType::Str),
    ("kms:KeyUsage", KeyType::Str),
    ("kms:KeyOrigin", KeyType::Str),
    ("kms:KeyAgreementAlgorithm", KeyType::Str),
    ("kms:CallerAccount", KeyType::Str),
    ("kms:GrantOperations", KeyType::Str),
    ("kms:GranteePrincipal", KeyType::Str),
    ("kms:RetiringPrincipal", KeyType::Str),
    ("kms:GrantIsForAWSResource", KeyType::Bool),
    ("kms:GrantConstraintType", KeyType::Str),
    ("kms:RequestAlias", KeyType::Str),
    ("kms:ResourceAliases", KeyType::Str),
    ("kms:ViaService", KeyType::Str),
    ("kms:BypassPolicyLockoutSafetyCheck", KeyType::Bool),
    ("kms:RotationPeriodInDays", KeyType::Numeric),
    (
        "kms:ScheduleKeyDeletionPendingWindowInDays",
        KeyType::Numeric,
    ),
    ("kms:DataKeyPairSpec", KeyType::Str),
    ("kms:WrappingAlgorithm", KeyType::Str),
    ("kms:WrappingKeySpec", KeyType::Str),
    ("kms:ExpirationModel", KeyType::Str),
    ("kms:ValidTo", KeyType::Epoch),
    ("kms:ReEncryptOnSameKey", KeyType::Bool),
    ("aws:PrincipalArn", KeyType::Str),
    ("aws:PrincipalAccount", KeyType::Str),
    ("aws:TagKeys", KeyType::Str),
    ("aws:CurrentTime", KeyType::Date),
    ("aws:EpochTime", KeyType::Epoch),
    ("aws:SourceIp", KeyType::Ip),
];

/// Keys with a caller-chosen suffix: (canonical prefix, type).
const PREFIXED_KEYS: &[(&str, KeyType)] = &[
    (ENCRYPTION_CONTEXT_PREFIX, KeyType::Str),
    (RESOURCE_TAG_PREFIX, KeyType::Str),
    ("aws:RequestTag/", KeyType::Str),
];

/// The prefix of the condition keys naming one of the key's tags.
pub(crate) const RESOURCE_TAG_PREFIX: &str = "aws:ResourceTag/";

/// The prefix of the condition keys naming one encryption context key.
pub(crate) const ENCRYPTION_CONTEXT_PREFIX: &str = "kms:EncryptionContext:";

/// The canonical spelling and type of condition key `name`, or `None` if
/// Strongroom does not know the key. The context key of
/// `kms:EncryptionContext:<key>` is lowercased (ASCII letters only), so that
/// the policy and the request meet whatever ASCII case either uses.
pub(crate) fn canonical_key(name: &str) -> Option<(String, KeyType)> {
    for (k, t) in KEYS {
        if k.eq_ignore_ascii_case(name) {
            return Some(((*k).to_owned(), *t));
        }
    }
    for (prefix, t) in PREFIXED_KEYS {
        if let Some(head) = name.get(..prefix.len()) {
            let suffix = &name[prefix.len()..];
            if head.eq_ignore_ascii_case(prefix) && !suffix.is_empty() {
                if *prefix == ENCRYPTION_CONTEXT_PREFIX {
                    return Some((format!("{prefix}{}", suffix.to_ascii_lowercase()), *t));
                }
                return Some((format!("{prefix}{suffix}"), *t));
            }
        }
    }
    None
}

/// What looking one context key name up in an encryption context finds,
/// with KMS's case rule for `kms:EncryptionContext:<key>` and grant
/// constraints (the key without regard to case, the value exactly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContextKeyMatch<'a> {
    /// No key of the context is the name in any case.
    Absent,
    /// Exactly one key is the name but for ASCII case; its value.
    One(&'a str),
    /// Two or more keys are the name but for ASCII case, or a key is the
    /// name only under Unicode case mappings (`\u{212A}ey` for `key`,
    /// `\u{17F}ecret` for `secret`): which
    /// pair the name means is not clear, so no value is given.
    Ambiguous,
}

/// The pairs of an encryption context indexed for case-insensitive lookups
/// of a key name ([`find`](Self::find)), in O(log n) per lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ContextKeys(BTreeMap<String, Vec<(String, String)>>);

impl ContextKeys {
    /// The pairs of `context`.
    pub(crate) fn new(context: &EncryptionContext) -> Self {
        let mut keys = ContextKeys::default();
        keys.extend(context);
        keys
    }

    /// Adds the pairs of `context`.
    pub(crate) fn extend(&mut self, context: &EncryptionContext) {
        for (k, v) in context.iter() {
            self.0
                .entry(unicode_fold(k))
                .or_default()
                .push((k.to_owned(), v.to_owned()));
        }
    }

    /// Looks `name` up ([`ContextKeyMatch`]). Only ASCII letters fold; a key
    /// that equals `name` under Unicode lowercasing but not under ASCII
    /// folding makes the lookup ambiguous rather than absent, so that neither
    /// a Unicode look-alike of a key nor a policy that relied on Unicode
    /// folding is satisfied (or escaped) by it. Every key equal to `name`
    /// but for ASCII case lowercases to the same string as `name`, so one
    /// bucket holds all candidates.
    pub(crate) fn find(&self, name: &str) -> ContextKeyMatch<'_> {
        match self.0.get(&unicode_fold(name)).map(Vec::as_slice) {
            None | Some([]) => ContextKeyMatch::Absent,
            Some([(key, value)]) if key.eq_ignore_ascii_case(name) => ContextKeyMatch::One(value),
            Some(_) => ContextKeyMatch::Ambiguous,
        }
    }
}

/// `s` with every character lowercased, uppercased and lowercased again
/// (Unicode case mappings): the bucket of [`ContextKeys`]. The round trip
/// through uppercase puts in one bucket the characters that equal an ASCII
/// letter only in uppercase (U+017F LATIN SMALL LETTER LONG S uppercases to
/// `S`, U+0131 LATIN SMALL LETTER DOTLESS I to `I`), as case-insensitive
/// comparisons in other languages treat them (Java's `equalsIgnoreCase`,
/// Go's `strings.EqualFold`), besides those that lowercase to one (U+212A
/// KELVIN SIGN to `k`). Strings equal but for ASCII case always share a
/// bucket; a coarser bucket only makes more lookups ambiguous (fail closed).
fn unicode_fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .flat_map(char::to_uppercase)
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    Bool,
    Null,
    ArnLike,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    BinaryEquals,
    IpAddress,
}

impl Base {
    fn is_numeric(self) -> bool {
        matches!(
            self,
            Base::NumericEquals
                | Base::NumericLessThan
                | Base::NumericLessThanEquals
                | Base::NumericGreaterThan
                | Base::NumericGreaterThanEquals
        )
    }

    fn is_date(self) -> bool {
        matches!(
            self,
            Base::DateEquals
                | Base::DateLessThan
                | Base::DateLessThanEquals
                | Base::DateGreaterThan
                | Base::DateGreaterThanEquals
        )
    }

    /// Whether `ordering` (request value against policy value) satisfies
    /// this numeric or date comparison.
    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Base::NumericEquals | Base::DateEquals => ordering == Ordering::Equal,
            Base::NumericLessThan | Base::DateLessThan => ordering == Ordering::Less,
            Base::NumericLessThanEquals | Base::DateLessThanEquals => ordering != Ordering::Greater,
            Base::NumericGreaterThan | Base::DateGreaterThan => ordering == Ordering::Greater,
            Base::NumericGreaterThanEquals | Base::DateGreaterThanEquals => {
                ordering != Ordering::Less
            }
            _ => false,
        }
    }
}

/// (operator name, base comparison, negated)
const OPERATORS: &[(&str, Base, bool)] = &[
    ("StringEquals", Base::StringEquals, false),
    ("StringNotEquals", Base::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Base::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Base::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Base::StringLike, false),
    ("StringNotLike", Base::StringLike, true),
    ("NumericEquals", Base::NumericEquals, false),
    ("NumericNotEquals", Base::NumericEquals, true),
    ("NumericLessThan", Base::NumericLessThan, false),
    ("NumericLessThanEquals", Base::NumericLessThanEquals, false),
    ("NumericGreaterThan", Base::NumericGreaterThan, false),
    (
        "NumericGreaterThanEquals",
        Base::NumericGreaterThanEquals,
        false,
    ),
    ("Bool", Base::Bool, false),
    ("Null", Base::Null, false),
    // IAM documents ArnEquals and ArnLike as the same comparison.
    ("ArnEquals", Base::ArnLike, false),
    ("ArnLike", Base::ArnLike, false),
    ("ArnNotEquals", Base::ArnLike, true),
    ("ArnNotLike", Base::ArnLike, true),
    ("DateEquals", Base::DateEquals, false),
    ("DateNotEquals", Base::DateEquals, true),
    ("DateLessThan", Base::DateLessThan, false),
    ("DateLessThanEquals", Base::DateLessThanEquals, false),
    ("DateGreaterThan", Base::DateGreaterThan, false),
    ("DateGreaterThanEquals", Base::DateGreaterThanEquals, false),
    ("BinaryEquals", Base::BinaryEquals, false),
    ("IpAddress", Base::IpAddress, false),
    ("NotIpAddress", Base::IpAddress, true),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Qualifier {
    ForAnyValue,
    ForAllValues,
}

/// A parsed operator name such as `ForAllValues:StringLikeIfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operator {
    base: Base,
    negated: bool,
    if_exists: bool,
    qualifier: Option<Qualifier>,
}

fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ignore_case<'s>(s: &'s str, suffix: &str) -> Option<&'s str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

impl Operator {
    fn parse(name: &str, at: &str) -> Result<Self> {
        let unknown = || malformed(format!("{at}: unknown condition operator \"{name}\""));
        let (qualifier, rest) = if let Some(r) = strip_prefix_ignore_case(name, "ForAnyValue:") {
            (Some(Qualifier::ForAnyValue), r)
        } else if let Some(r) = strip_prefix_ignore_case(name, "ForAllValues:") {
            (Some(Qualifier::ForAllValues), r)
        } else {
            (None, name)
        };
        let lookup = |s: &str| {
            OPERATORS
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(s))
                .map(|(_, b, neg)| (*b, *neg))
        };
        let (base, negated, if_exists) = match lookup(rest) {
            Some((b, n)) => (b, n, false),
            None => {
                let stem = strip_suffix_ignore_case(rest, "IfExists").ok_or_else(unknown)?;
                let (b, n) = lookup(stem).ok_or_else(unknown)?;
                (b, n, true)
            }
        };
        if base == Base::Null && (if_exists || qualifier.is_some()) {
            return Err(malformed(format!(
                "{at}: the Null operator takes no IfExists suffix or set qualifier (\"{name}\")"
            )));
        }
        Ok(Operator {
            base,
            negated,
            if_exists,
            qualifier,
        })
    }
}

/// A value listed in the policy for one key, parsed for its operator.
#[derive(Clone, Debug, PartialEq)]
enum PolicyValue {
    Str(String),
    Num(Decimal),
    Bool(bool),
    Date(Instant),
    Binary(Vec<u8>),
    Cidr(Cidr),
}

/// One (operator, key, values) test of a statement's `Condition`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Clause {
    op: Operator,
    key: String,
    values: Vec<PolicyValue>,
}

impl Clause {
    /// The condition key, in its canonical spelling ([`canonical_key`]).
    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

/// Parses a `Condition` element (`{operator: {key: value-or-list}}`).
/// `literal(operator, key, item)` is the text in the document of the
/// `item`th value (0 when not in a list) of `key` under `operator`, as both
/// are written: a numeric operator reads a JSON number that the `Value`
/// holds as an `f64` from it ([`literal`](super::literal)).
pub(crate) fn parse_condition<'a>(
    v: &Value,
    at: &str,
    literal: impl Fn(&str, &str, usize) -> Option<&'a str>,
) -> Result<Vec<Clause>> {
    let ops = v
        .as_object()
        .ok_or_else(|| malformed(format!("{at}: Condition must be a JSON object")))?;
    let mut clauses = Vec::new();
    for (op_name, block) in ops {
        let op = Operator::parse(op_name, at)?;
        let keys = block.as_object().ok_or_else(|| {
            malformed(format!("{at}: Condition operator \"{op_name}\" must map to a JSON object of condition keys"))
        })?;
        if keys.is_empty() {
            return Err(malformed(format!(
                "{at}: Condition operator \"{op_name}\" lists no condition keys"
            )));
        }
        for (key_name, raw) in keys {
            let (key, ty) = canonical_key(key_name)
                .ok_or_else(|| malformed(format!("{at}: unknown condition key \"{key_name}\"")))?;
            check_type(op.base, ty, op_name, &key, at)?;
            let raw_values: Vec<&Value> = match raw {
                Value::Array(list) if list.is_empty() => {
                    return Err(malformed(format!(
                        "{at}: condition key \"{key_name}\" has an empty value list"
                    )))
                }
                Value::Array(list) => list.iter().collect(),
                other => alloc::vec![other],
            };
            let values = raw_values
                .into_iter()
                .enumerate()
                .map(|(i, rv)| parse_value(op.base, rv, &key, at, || literal(op_name, key_name, i)))
                .collect::<Result<Vec<_>>>()?;
            clauses.push(Clause { op, key, values });
        }
    }
    Ok(clauses)
}

fn check_type(base: Base, ty: KeyType, op_name: &str, key: &str, at: &str) -> Result<()> {
    let fits = if base.is_numeric() {
        matches!(ty, KeyType::Numeric | KeyType::Epoch)
    } else if base.is_date() {
        matches!(ty, KeyType::Date | KeyType::Epoch)
    } else {
        match base {
            Base::Bool => ty == KeyType::Bool,
            Base::IpAddress => ty == KeyType::Ip,
            Base::BinaryEquals => ty == KeyType::Str,
            _ => true,
        }
    };
    if !fits {
        let want = match ty {
            KeyType::Str => "a string",
            KeyType::Numeric => "a numeric",
            KeyType::Bool => "a boolean",
            KeyType::Date => "a date",
            KeyType::Epoch => "an epoch-time (numeric or date)",
            KeyType::Ip => "an IP address",
        };
        return Err(malformed(format!(
            "{at}: condition operator \"{op_name}\" cannot be used with \"{key}\", which is {want} condition key"
        )));
    }
    Ok(())
}

/// `literal` gives the value's text in the document.
fn parse_value<'a>(
    base: Base,
    v: &Value,
    key: &str,
    at: &str,
    literal: impl FnOnce() -> Option<&'a str>,
) -> Result<PolicyValue> {
    let text = match v {
        Value::String(s) => s.clone(),
        // An integer of u64/i64 range is exact; any other number is an f64
        // in `v`, so a numeric operator reads the text written instead.
        Value::Number(n) if base.is_numeric() && n.is_f64() => match literal() {
            Some(text) => text.to_owned(),
            None => format!("{n}"),
        },
        Value::Number(n) => format!("{n}"),
        Value::Bool(b) => format!("{b}"),
        _ => {
            return Err(malformed(format!(
                "{at}: the value of condition key \"{key}\" must be a string, number, boolean or a list of them"
            )))
        }
    };
    match base {
        Base::Bool | Base::Null => match parse_bool(&text) {
            Some(b) => Ok(PolicyValue::Bool(b)),
            None => Err(malformed(format!(
                "{at}: condition key \"{key}\" needs \"true\" or \"false\", not \"{text}\""
            ))),
        },
        b if b.is_numeric() => match Decimal::parse(&text) {
            Some(n) => Ok(PolicyValue::Num(n)),
            None => Err(malformed(format!(
                "{at}: condition key \"{key}\" needs a number, not \"{text}\""
            ))),
        },
        b if b.is_date() => match parse_instant(&text) {
            Some(t) => Ok(PolicyValue::Date(t)),
            None => Err(malformed(format!(
                "{at}: condition key \"{key}\" needs a date (ISO 8601 such as \"2030-01-01T00:00:00Z\", or epoch seconds), not \"{text}\""
            ))),
        },
        Base::BinaryEquals => match crate::b64::decode(&text) {
            Ok(bytes) => Ok(PolicyValue::Binary(bytes)),
            Err(_) => Err(malformed(format!(
                "{at}: condition key \"{key}\" needs base64 for BinaryEquals, not \"{text}\""
            ))),
        },
        Base::IpAddress => match Cidr::parse(&text) {
            Some(c) => Ok(PolicyValue::Cidr(c)),
            None => Err(malformed(format!(
                "{at}: condition key \"{key}\" needs an IPv4 or IPv6 address or CIDR range (\"203.0.113.0/24\", \"2001:db8::/32\"), not \"{text}\""
            ))),
        },
        _ => Ok(PolicyValue::Str(text)),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn arn_like(pattern: &str, value: &str) -> bool {
    match (
        crate::key::arn_fields(pattern),
        crate::key::arn_fields(value),
    ) {
        (Some(p), Some(v)) => p.iter().zip(v.iter()).all(|(p, v)| glob(p, v)),
        _ => false,
    }
}

impl Clause {
    /// Whether this clause holds for `request`, in a statement whose
    /// `Effect` is `Deny` when `in_deny`. A clause on a context key that is
    /// ambiguous in the request ([`ContextKeyMatch::Ambiguous`]) holds
    /// exactly in a `Deny` statement: the request gets the less permissive
    /// reading whichever operator the clause uses.
    pub(crate) fn holds(&self, request: &PolicyRequest<'_>, in_deny: bool) -> bool {
        if request.context_key_is_ambiguous(&self.key) {
            return in_deny;
        }
        let value = request.get(&self.key).filter(|v| !v.is_empty());
        if self.op.base == Base::Null {
            let absent = value.is_none();
            return self
                .values
                .iter()
                .any(|pv| matches!(pv, PolicyValue::Bool(b) if *b == absent));
        }
        let Some(value) = value else {
            if self.op.if_exists {
                return true;
            }
            return match self.op.qualifier {
                Some(Qualifier::ForAllValues) => true,
                Some(Qualifier::ForAnyValue) => false,
                None => self.op.negated,
            };
        };
        let per_value = |rv: &RequestScalar| {
            let positive = self.values.iter().any(|pv| self.compare(rv, pv));
            positive != self.op.negated
        };
        let scalars = RequestScalar::list(&value);
        match self.op.qualifier {
            Some(Qualifier::ForAllValues) => scalars.iter().all(per_value),
            Some(Qualifier::ForAnyValue) => scalars.iter().any(per_value),
            None if self.op.negated => scalars.iter().all(per_value),
            None => scalars.iter().any(per_value),
        }
    }

    fn compare(&self, rv: &RequestScalar, pv: &PolicyValue) -> bool {
        match (self.op.base, pv) {
            (Base::StringEquals, PolicyValue::Str(p)) => rv.text == *p,
            (Base::StringEqualsIgnoreCase, PolicyValue::Str(p)) => eq_ignore_case(&rv.text, p),
            (Base::StringLike, PolicyValue::Str(p)) => glob(p, &rv.text),
            (Base::ArnLike, PolicyValue::Str(p)) => arn_like(p, &rv.text),
            (Base::Bool, PolicyValue::Bool(p)) => rv.boolean == Some(*p),
            (base, PolicyValue::Num(p)) => {
                rv.number.as_ref().is_some_and(|n| base.accepts(n.cmp(p)))
            }
            (base, PolicyValue::Date(p)) => {
                parse_instant(&rv.text).is_some_and(|t| base.accepts(t.cmp(p)))
            }
            (Base::BinaryEquals, PolicyValue::Binary(p)) => rv.text.as_bytes() == p.as_slice(),
            (Base::IpAddress, PolicyValue::Cidr(p)) => {
                ip::parse_address(&rv.text).is_some_and(|a| p.contains(a))
            }
            _ => false,
        }
    }
}

/// One request value seen as string, number and boolean at once.
struct RequestScalar {
    text: String,
    number: Option<Decimal>,
    boolean: Option<bool>,
}

impl RequestScalar {
    fn list(v: &super::request::ConditionValue) -> Vec<RequestScalar> {
        use super::request::ConditionValue as V;
        match v {
            V::Number(n) => alloc::vec![RequestScalar {
                text: v.as_strings().concat(),
                number: Decimal::from_f64(*n),
                boolean: None,
            }],
            V::Bool(b) => alloc::vec![RequestScalar {
                text: v.as_strings().concat(),
                number: None,
                boolean: Some(*b),
            }],
            V::Strings(list) => list
                .iter()
                .map(|s| RequestScalar {
                    text: s.clone(),
                    number: Decimal::parse(s),
                    boolean: parse_bool(s),
                })
                .collect(),
        }
    }
}
