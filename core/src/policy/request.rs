//! The request context a policy is evaluated against.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::condition::{canonical_key, ContextKeyMatch, ContextKeys, ENCRYPTION_CONTEXT_PREFIX};
use crate::context::EncryptionContext;
use crate::sorted_map::SortedMap;

/// The value of one condition key in a request.
///
/// A key that is absent from the request (or present with an empty
/// [`Strings`](Self::Strings) list) is "null" for the `Null` operator and
/// does not exist for `…IfExists` and the set qualifiers.
#[derive(Clone, Debug, PartialEq)]
pub enum ConditionValue {
    /// One string (single-valued keys) or several (multi-valued keys such as
    /// `kms:EncryptionContextKeys`, `kms:GrantOperations`, `kms:ResourceAliases`).
    Strings(Vec<String>),
    /// A number (`kms:RotationPeriodInDays`, `kms:ValidTo` in Unix seconds, …).
    /// The `Numeric…` operators compare its exact binary value with the
    /// policy's decimal: `0.1_f64` is slightly above the policy value `0.1`,
    /// so pass whole numbers, or a decimal string (`Strings`) for a fraction.
    Number(f64),
    /// A boolean (`kms:GrantIsForAWSResource`, `kms:BypassPolicyLockoutSafetyCheck`, …).
    Bool(bool),
}

impl ConditionValue {
    /// The values as strings, as the string and ARN operators see them;
    /// empty when the key counts as absent.
    pub(crate) fn as_strings(&self) -> Vec<String> {
        match self {
            ConditionValue::Strings(v) => v.clone(),
            ConditionValue::Number(n) => vec![format_number(*n)],
            ConditionValue::Bool(b) => vec![b.to_string()],
        }
    }

    /// True when the key counts as absent (an empty string list).
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, ConditionValue::Strings(v) if v.is_empty())
    }
}

fn format_number(n: f64) -> String {
    // Whole numbers print without a fractional part, as a policy author writes them.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let whole = n as i64;
    #[allow(clippy::cast_precision_loss)]
    if (-9.0e15..9.0e15).contains(&n) && whole as f64 == n {
        format!("{whole}")
    } else {
        format!("{n}")
    }
}

impl From<&str> for ConditionValue {
    fn from(s: &str) -> Self {
        ConditionValue::Strings(vec![s.to_owned()])
    }
}
impl From<String> for ConditionValue {
    fn from(s: String) -> Self {
        ConditionValue::Strings(vec![s])
    }
}
impl From<Vec<String>> for ConditionValue {
    fn from(v: Vec<String>) -> Self {
        ConditionValue::Strings(v)
    }
}
impl From<&[&str]> for ConditionValue {
    fn from(v: &[&str]) -> Self {
        ConditionValue::Strings(v.iter().map(|s| (*s).to_owned()).collect())
    }
}
impl From<bool> for ConditionValue {
    fn from(b: bool) -> Self {
        ConditionValue::Bool(b)
    }
}
impl From<u32> for ConditionValue {
    fn from(n: u32) -> Self {
        ConditionValue::Number(f64::from(n))
    }
}
impl From<i64> for ConditionValue {
    #[allow(clippy::cast_precision_loss)]
    fn from(n: i64) -> Self {
        ConditionValue::Number(n as f64)
    }
}
impl From<f64> for ConditionValue {
    fn from(n: f64) -> Self {
        ConditionValue::Number(n)
    }
}

/// Condition values of a request, keyed by the canonical spelling of the
/// condition key (e.g. `kms:EncryptionAlgorithm`, `kms:EncryptionContext:department`;
/// the ASCII letters of the context key part are lowercased).
pub type ConditionValues = SortedMap<ConditionValue>;

/// One authorization question: may `principal` perform `action` on `resource`
/// given these condition values?
///
/// `kms:CallerAccount`, `aws:PrincipalArn` and `aws:PrincipalAccount` are
/// derived from `principal` when the caller does not set them.
#[derive(Clone, Debug)]
pub struct PolicyRequest<'a> {
    /// The caller's principal ARN, e.g. `arn:aws:iam::111122223333:user/app`.
    pub principal: &'a str,
    /// The KMS operation name without the `kms:` prefix, e.g. `"Encrypt"`.
    pub action: &'a str,
    /// The key ARN the operation acts on.
    pub resource: &'a str,
    /// Condition key values; build with [`with`](Self::with) so keys are canonical.
    pub conditions: ConditionValues,
    /// The pairs of the encryption contexts given to
    /// [`with_encryption_context`](Self::with_encryption_context), as
    /// written: what decides whether a `kms:EncryptionContext:<key>`
    /// condition key is ambiguous.
    context_keys: ContextKeys,
}

impl<'a> PolicyRequest<'a> {
    /// A request with no condition values yet.
    pub fn new(principal: &'a str, action: &'a str, resource: &'a str) -> Self {
        PolicyRequest {
            principal,
            action,
            resource,
            conditions: ConditionValues::new(),
            context_keys: ContextKeys::default(),
        }
    }

    /// Sets condition key `key` (any case for the fixed part of the name) to `value`.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<ConditionValue>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets condition key `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: impl Into<ConditionValue>) {
        self.conditions
            .insert(canonical_key_or_self(key), value.into());
    }

    /// Sets `kms:EncryptionContext:<k>` for every pair of `context` and
    /// `kms:EncryptionContextKeys` to its keys (absent when the context is empty).
    ///
    /// The `<k>` of `kms:EncryptionContext:<k>` is matched without regard to
    /// ASCII case (as in AWS KMS). When `context` has keys that differ only
    /// in ASCII case (`Dept` and `dept`), or a key that matches `<k>` only
    /// under Unicode case mappings (lowercased, uppercased and lowercased
    /// again: `\u{212A}ey` for `key`, `\u{17F}ecret` for `secret`),
    /// `kms:EncryptionContext:<k>` is ambiguous:
    /// a condition on it does not hold in an `Allow` statement and holds in a
    /// `Deny` statement, whatever its operator and values. AWS KMS advises
    /// against such contexts and does not say which value such a condition
    /// sees; Strongroom takes the reading that allows less. Conditions on
    /// other keys, and the context itself, are unaffected.
    /// `kms:EncryptionContextKeys` keeps the keys as written (every key is
    /// one value, so it is never ambiguous).
    #[must_use]
    pub fn with_encryption_context(mut self, context: &EncryptionContext) -> Self {
        let mut keys = Vec::new();
        for (k, v) in context.iter() {
            let key = canonical_key_or_self(&format!("{ENCRYPTION_CONTEXT_PREFIX}{k}"));
            match self.conditions.get_mut(&key) {
                Some(ConditionValue::Strings(values)) => values.push(v.to_owned()),
                _ => {
                    self.conditions.insert(key, v.into());
                }
            }
            keys.push(k.to_owned());
        }
        self.context_keys.extend(context);
        self.set("kms:EncryptionContextKeys", keys);
        self
    }

    /// Whether the canonical condition key `key` is a
    /// `kms:EncryptionContext:<k>` whose `<k>` is ambiguous among the
    /// context keys given to
    /// [`with_encryption_context`](Self::with_encryption_context).
    pub(crate) fn context_key_is_ambiguous(&self, key: &str) -> bool {
        key.strip_prefix(ENCRYPTION_CONTEXT_PREFIX)
            .is_some_and(|name| self.context_keys.find(name) == ContextKeyMatch::Ambiguous)
    }

    /// The value of `key` (canonical spelling), including the values derived
    /// from the principal.
    pub fn get(&self, key: &str) -> Option<ConditionValue> {
        if let Some(v) = self.conditions.get(key) {
            return Some(v.clone());
        }
        match key {
            "aws:PrincipalArn" => Some(self.principal.into()),
            "kms:CallerAccount" | "aws:PrincipalAccount" => {
                account_of(self.principal).map(ConditionValue::from)
            }
            _ => None,
        }
    }
}

fn canonical_key_or_self(key: &str) -> String {
    canonical_key(key).map_or_else(|| key.to_owned(), |(k, _)| k)
}

/// The account field of an ARN (`arn:partition:service:region:account:resource`),
/// or the string itself when it is a bare 12-digit account ID.
pub(crate) fn account_of(principal: &str) -> Option<&str> {
    if is_account_id(principal) {
        return Some(principal);
    }
    let mut parts = principal.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    parts.next()?;
    (!account.is_empty()).then_some(account)
}

/// True for a 12-digit AWS account ID.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}
