//! KMS grants: the grant record, its validation, grant tokens, and the rules
//! for when a grant allows an operation and who may retire it.
//!
//! A grant allows its grantee principal the listed operations on one key.
//! It never overrides an explicit `Deny` in the key policy (see
//! [`crate::policy::authorize`]). `RevokeGrant` is authorized by the key policy
//! alone (action `kms:RevokeGrant`); `RetireGrant` follows [`may_retire`].
//!
//! Grant tokens let a freshly created grant be used before it is stored or
//! replicated: a token is `base64url-nopad(0x01 || grant ID || tag)` where
//! `tag = HMAC-SHA256(token_key, "strongroom grant token v1" || 0x00 || grant ID)`.
//! The caller supplies `token_key` (derived from the root key) and resolves
//! the grant ID to the grant it stored.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::context::EncryptionContext;
use crate::crypto::mac::{hmac_sha256, hmac_sha256_verify, HMAC_SHA256_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::key::{KeySpec, KeyUsage};
use crate::policy::{ContextKeyMatch, ContextKeys};

macro_rules! grant_operations {
    ($($name:ident => $ctx:expr),* $(,)?) => {
        /// An operation a grant can allow (KMS `GrantOperation`), spelled as KMS spells it.
        ///
        /// Serialized as its name (a JSON string), read from one with
        /// [`GrantOperation::parse`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum GrantOperation {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                $name,
            )*
        }

        impl GrantOperation {
            /// Every grant operation, in KMS's documentation order.
            pub const ALL: &'static [GrantOperation] = &[$(GrantOperation::$name,)*];

            /// The KMS name, e.g. `"GenerateDataKey"`.
            pub const fn as_str(self) -> &'static str {
                match self { $(GrantOperation::$name => stringify!($name),)* }
            }

            /// Whether the operation takes an encryption context, so that the
            /// grant constraints apply to it.
            pub const fn supports_encryption_context(self) -> bool {
                match self { $(GrantOperation::$name => $ctx,)* }
            }
        }
    };
}

grant_operations! {
    Decrypt => true,
    Encrypt => true,
    GenerateDataKey => true,
    GenerateDataKeyWithoutPlaintext => true,
    ReEncryptFrom => true,
    ReEncryptTo => true,
    Sign => false,
    Verify => false,
    GetPublicKey => false,
    CreateGrant => true,
    RetireGrant => true,
    DescribeKey => true,
    GenerateDataKeyPair => true,
    GenerateDataKeyPairWithoutPlaintext => true,
    GenerateMac => false,
    VerifyMac => false,
    DeriveSharedSecret => false,
}

/// The KMS name as a string, as serde's derive wrote it for unit variants
/// (without compiling a second table of the names).
impl Serialize for GrantOperation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A string naming the operation ([`GrantOperation::parse`]).
impl<'de> Deserialize<'de> for GrantOperation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let name: String = Deserialize::deserialize(d)?;
        Self::parse(&name).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

impl GrantOperation {
    /// Parses a KMS grant operation name (case-sensitive, as KMS validates it).
    ///
    /// # Errors
    /// `ValidationException` naming the value and the allowed set.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|op| op.as_str() == name)
            .ok_or_else(|| {
                let allowed: Vec<&str> = Self::ALL.iter().map(|o| o.as_str()).collect();
                Error::validation(format!(
                    "1 validation error detected: Value '{name}' at 'operations' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ))
            })
    }

    /// Whether a key of `spec` and `usage` supports the operation, so that a
    /// grant on it may allow it (CreateGrant API reference: a grant on a
    /// symmetric key cannot allow `Sign`, `Verify` or `GetPublicKey`; on an
    /// asymmetric key, no data key or data key pair generation; an
    /// `ENCRYPT_DECRYPT` key no `Sign`/`Verify`, a `SIGN_VERIFY` key no
    /// `Encrypt`/`Decrypt`). `DescribeKey`, `CreateGrant` and `RetireGrant`
    /// apply to every key.
    pub fn supported_by(self, spec: KeySpec, usage: KeyUsage) -> bool {
        use GrantOperation as Op;
        match self {
            Op::DescribeKey | Op::CreateGrant | Op::RetireGrant => true,
            Op::Encrypt | Op::Decrypt | Op::ReEncryptFrom | Op::ReEncryptTo => {
                usage == KeyUsage::EncryptDecrypt
            }
            Op::GenerateDataKey
            | Op::GenerateDataKeyWithoutPlaintext
            | Op::GenerateDataKeyPair
            | Op::GenerateDataKeyPairWithoutPlaintext => spec.is_symmetric(),
            Op::GetPublicKey => !spec.is_symmetric() && usage != KeyUsage::GenerateVerifyMac,
            Op::Sign | Op::Verify => usage == KeyUsage::SignVerify,
            Op::GenerateMac | Op::VerifyMac => usage == KeyUsage::GenerateVerifyMac,
            Op::DeriveSharedSecret => usage == KeyUsage::KeyAgreement,
        }
    }

    /// Whether the constraints of a grant are checked for this operation. KMS
    /// applies them to cryptographic operations that take an encryption
    /// context and, for `CreateGrant`, to the constraints of the new grant;
    /// not to `DescribeKey` and `RetireGrant`.
    const fn constrained(self) -> bool {
        self.supports_encryption_context()
            && !matches!(
                self,
                GrantOperation::DescribeKey | GrantOperation::RetireGrant
            )
    }
}

/// Grant constraints: the encryption context a request must carry for the
/// grant to apply. As in KMS (API reference, `GrantConstraints`), the key of
/// each pair is compared case-insensitively (ASCII letters) and its value
/// case-sensitively; decryption itself still needs the exact context of
/// encryption. See [`allow`](Self::allow) for contexts whose keys differ
/// only in case.
///
/// Deserializing refuses members other than these two (a misspelled
/// `EncryptionContextEqual` would otherwise make an unconstrained grant, and
/// a stored grant whose constraint this version does not know must not be
/// enforced as if it had none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantConstraints {
    /// The request's encryption context must equal this one exactly.
    #[serde(
        rename = "EncryptionContextEquals",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub encryption_context_equals: Option<EncryptionContext>,
    /// The request's encryption context must contain every pair of this one.
    #[serde(
        rename = "EncryptionContextSubset",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub encryption_context_subset: Option<EncryptionContext>,
}

impl GrantConstraints {
    /// Whether `context` satisfies every constraint given: at least the
    /// pairs of `EncryptionContextSubset`, and exactly the pairs of
    /// `EncryptionContextEquals`. Keys are compared without regard to ASCII
    /// case, values exactly.
    ///
    /// A constraint pair is met only by a request that has exactly one key
    /// equal to the pair's key but for ASCII case, with the pair's value, and
    /// no key equal to it only under Unicode case mappings (`\u{212A}ey`,
    /// KELVIN SIGN, for `key`; `\u{17F}ecret`, LONG S, for `secret`). So `EncryptionContextSubset {"Dept": "a"}`
    /// is not met by `{"Dept": "payroll", "dept": "a"}`: KMS advises against
    /// pairs that differ only by case and does not say which one a
    /// constraint sees, and Strongroom refuses rather than guess. For
    /// `EncryptionContextEquals` the same holds in both directions: every
    /// pair of the request must meet the constraint's pairs that way too.
    pub fn allow(&self, context: &EncryptionContext) -> bool {
        self.allow_indexed(context, &ContextKeys::new(context))
    }

    /// [`allow`](Self::allow) with `request`, the index of `context`
    /// (`ContextKeys::new(context)`), built by the caller: once per call for
    /// all the grants of a key ([`GrantFilter`]) instead of once per grant.
    fn allow_indexed(&self, context: &EncryptionContext, request: &ContextKeys) -> bool {
        let equals = self.encryption_context_equals.as_ref().is_none_or(|c| {
            pairs_within(c, request) && pairs_within(context, &ContextKeys::new(c))
        });
        let subset = self
            .encryption_context_subset
            .as_ref()
            .is_none_or(|c| pairs_within(c, request));
        equals && subset
    }

    fn is_empty(&self) -> bool {
        self.encryption_context_equals.is_none() && self.encryption_context_subset.is_none()
    }

    /// Checks the limits of the CreateGrant API reference (`Constraints`):
    /// each constraint holds at most [`MAX_CONSTRAINT_PAIRS`] encryption
    /// context pairs, and each of its values is at most
    /// [`MAX_CONSTRAINT_VALUE_CHARS`] characters (Unicode scalar values).
    ///
    /// # Errors
    /// `ValidationException` naming the constraint over a limit.
    pub fn check_limits(&self) -> Result<()> {
        for (name, c) in [
            ("EncryptionContextEquals", &self.encryption_context_equals),
            ("EncryptionContextSubset", &self.encryption_context_subset),
        ] {
            let Some(c) = c else { continue };
            let pairs = c.iter().count();
            if pairs > MAX_CONSTRAINT_PAIRS {
                return Err(Error::validation(format!(
                    "grant constraint {name} has {pairs} encryption context pairs; \
                     at most {MAX_CONSTRAINT_PAIRS} are allowed"
                )));
            }
            if let Some((key, value)) = c
                .iter()
                .find(|(_, v)| v.chars().count() > MAX_CONSTRAINT_VALUE_CHARS)
            {
                return Err(Error::validation(format!(
                    "the value of \"{key}\" in grant constraint {name} is {} characters; \
                     at most {MAX_CONSTRAINT_VALUE_CHARS} are allowed",
                    value.chars().count()
                )));
            }
        }
        Ok(())
    }
}

/// The most encryption context pairs one grant constraint
/// (`EncryptionContextEquals` or `EncryptionContextSubset`) may hold
/// (CreateGrant API reference).
pub const MAX_CONSTRAINT_PAIRS: usize = 8;

/// The longest encryption context value, in characters, a grant constraint
/// may hold (CreateGrant API reference).
pub const MAX_CONSTRAINT_VALUE_CHARS: usize = 384;

/// Whether every pair of `wanted` has exactly one counterpart in `context`
/// ([`ContextKeys::find`]: the key in any ASCII case, unambiguous) with the
/// same value.
fn pairs_within(wanted: &EncryptionContext, context: &ContextKeys) -> bool {
    wanted
        .iter()
        .all(|(key, value)| context.find(key) == ContextKeyMatch::One(value))
}

/// A grant, in the shape of KMS's `GrantListEntry` (PascalCase field names),
/// for storage and for `ListGrants`/`ListRetirableGrants` output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Grant {
    /// The key ARN the grant applies to.
    pub key_id: String,
    /// The grant ID (64 lowercase hex characters, see [`new_grant_id`]).
    pub grant_id: String,
    /// The optional friendly name used for `CreateGrant` idempotency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Creation time in Unix seconds (KMS's JSON protocol timestamp).
    pub creation_date: u64,
    /// The principal the grant allows the operations to.
    pub grantee_principal: String,
    /// The principal that may retire the grant, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    /// The account that issued the grant (the key's account), as KMS
    /// returns it: that account's root principal ARN,
    /// `arn:aws:iam::<account>:root` (see [`account_root_arn`]). A stored
    /// value that is a bare 12-digit account ID (rows written before this
    /// form) is read as that ARN.
    #[serde(deserialize_with = "issuing_account_arn")]
    pub issuing_account: String,
    /// The operations the grant allows.
    pub operations: Vec<GrantOperation>,
    /// Encryption context constraints, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
}

/// The longest grant name KMS accepts.
pub const MAX_GRANT_NAME_LEN: usize = 256;

impl Grant {
    /// Validates a grant as `CreateGrant` does.
    ///
    /// # Errors
    /// `ValidationException` when the operations list is empty or repeats an
    /// operation, a principal is empty, longer than 256 characters or not a
    /// principal ARN of the forms the CreateGrant API reference lists
    /// ([`is_grant_principal`]), the name
    /// is empty, too long or uses characters outside `[a-zA-Z0-9:/_-]`, or
    /// constraints are given for a grant that includes an operation without
    /// an encryption context (`Sign`, `Verify`, `GetPublicKey`, `GenerateMac`,
    /// `VerifyMac`, `DeriveSharedSecret`), or a constraint is over the
    /// limits of [`GrantConstraints::check_limits`] (more than 8 pairs, a
    /// value over 384 characters).
    pub fn validate(&self) -> Result<()> {
        if self.operations.is_empty() {
            return Err(Error::validation(
                "a grant must allow at least one operation",
            ));
        }
        for (i, op) in self.operations.iter().enumerate() {
            if self.operations[..i].contains(op) {
                return Err(Error::validation(format!(
                    "grant operation {} is listed more than once",
                    op.as_str()
                )));
            }
        }
        for (field, p) in [
            ("GranteePrincipal", Some(&self.grantee_principal)),
            ("RetiringPrincipal", self.retiring_principal.as_ref()),
        ] {
            if let Some(p) = p {
                check_principal(field, p)?;
            }
        }
        if let Some(name) = &self.name {
            let ok_chars = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
            if name.is_empty() || name.len() > MAX_GRANT_NAME_LEN || !ok_chars {
                return Err(Error::validation(
                    "grant Name must be 1 to 256 characters of [a-zA-Z0-9:/_-]",
                ));
            }
        }
        if let Some(c) = &self.constraints {
            c.check_limits()?;
            if !c.is_empty() {
                if let Some(op) = self
                    .operations
                    .iter()
                    .find(|o| !o.supports_encryption_context())
                {
                    return Err(Error::validation(format!(
                        "grant constraints cannot be used with the {} operation, which does not take an encryption context",
                        op.as_str()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Checks the grant against the key it is for, as `CreateGrant` does:
    /// every operation must be one the key supports
    /// ([`GrantOperation::supported_by`]), and encryption context
    /// constraints are only for symmetric encryption keys (asymmetric and
    /// HMAC keys take no encryption context).
    ///
    /// # Errors
    /// `ValidationException` naming the operation or the constraint.
    pub fn check_key(&self, spec: KeySpec, usage: KeyUsage) -> Result<()> {
        if let Some(op) = self
            .operations
            .iter()
            .find(|op| !op.supported_by(spec, usage))
        {
            return Err(Error::validation(format!(
                "the grant operation {} is not valid for a {} key with KeyUsage {}",
                op.as_str(),
                spec.as_str(),
                usage.as_str()
            )));
        }
        if !spec.is_symmetric() && self.constraints.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(Error::validation(format!(
                "encryption context grant constraints cannot be used with a {} key, which takes no encryption context",
                spec.as_str()
            )));
        }
        Ok(())
    }

    /// Whether `other` was created with the same parameters (everything but
    /// grant ID and creation date): `CreateGrant` with an existing `Name` and
    /// the same parameters returns the existing grant instead of a new one.
    pub fn same_parameters(&self, other: &Grant) -> bool {
        let mut a = self.operations.clone();
        let mut b = other.operations.clone();
        a.sort();
        b.sort();
        self.key_id == other.key_id
            && self.name == other.name
            && self.grantee_principal == other.grantee_principal
            && self.retiring_principal == other.retiring_principal
            && a == b
            && self.constraints.clone().filter(|c| !c.is_empty())
                == other.constraints.clone().filter(|c| !c.is_empty())
    }

    /// Whether the grant lists `op`.
    pub fn has_operation(&self, op: GrantOperation) -> bool {
        self.operations.contains(&op)
    }
}

/// Checks the principal `p` given as `field` (a grant's `GranteePrincipal`
/// or `RetiringPrincipal`, or the principal a call acts for): 1 to 256
/// characters, and a principal ARN of the forms [`is_grant_principal`]
/// accepts.
///
/// # Errors
/// `ValidationException` naming `field` and the forms accepted.
pub fn check_principal(field: &str, p: &str) -> Result<()> {
    if p.is_empty() || p.chars().count() > 256 {
        return Err(Error::validation(format!(
            "{field} must be 1 to 256 characters"
        )));
    }
    if !is_grant_principal(p) {
        return Err(Error::validation(format!(
            "{field} \"{p}\" is not a principal ARN: use the ARN of an account \
             (arn:aws:iam::111122223333:root), an IAM user or role \
             (arn:aws:iam::111122223333:user/name, …:role/name), an assumed role \
             (arn:aws:sts::111122223333:assumed-role/role/session) or a federated user \
             (arn:aws:sts::111122223333:federated-user/name); wildcards are not accepted"
        )));
    }
    Ok(())
}

/// Whether `p` is a principal `CreateGrant` accepts as `GranteePrincipal`
/// or `RetiringPrincipal`: the ARN of an AWS principal, as the CreateGrant
/// API reference lists them: an account
/// (`arn:<partition>:iam::<account>:root`), an IAM user or role
/// (`…:iam::<account>:user/<path/name>`, `…:role/<path/name>`), an assumed
/// role (`…:sts::<account>:assumed-role/<role>/<session>`) or a federated
/// user (`…:sts::<account>:federated-user/<name>`). Not `"*"`, not a bare
/// account ID, not a service principal, and no `*` or `?` anywhere: a grant
/// names one principal, which [`grant_allows`] compares exactly.
pub fn is_grant_principal(p: &str) -> bool {
    let Some([arn, partition, service, region, account, resource]) = crate::key::arn_fields(p)
    else {
        return false;
    };
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    if arn != "arn" || !partition_ok || !region.is_empty() || !is_account_id(account) {
        return false;
    }
    // IAM names and paths: letters, digits and `+=,.@_-`, separated by `/`.
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
            })
    };
    match service {
        "iam" => {
            resource == "root"
                || resource
                    .strip_prefix("user/")
                    .or_else(|| resource.strip_prefix("role/"))
                    .is_some_and(name_ok)
        }
        "sts" => {
            resource
                .strip_prefix("federated-user/")
                .is_some_and(name_ok)
                || resource
                    .strip_prefix("assumed-role/")
                    .is_some_and(|rest| name_ok(rest) && rest.contains('/'))
        }
        _ => false,
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `(partition, account)` of an account root ARN (`arn:<partition>:iam::<account>:root`).
fn account_root(p: &str) -> Option<(&str, &str)> {
    match crate::key::arn_fields(p)? {
        ["arn", partition, "iam", "", account, "root"] if is_account_id(account) => {
            Some((partition, account))
        }
        _ => None,
    }
}

/// Whether the principal a grant names (`named`: its grantee or retiring
/// principal) covers the caller `principal`: the same string, or, when
/// `named` is an account root ARN, any principal ARN of that partition and
/// account (the account delegates to its principals; Strongroom has no IAM
/// policies to do that with, so, as with the account principal of a key
/// policy, the account's principals are covered). No pattern matching.
fn grant_principal_covers(named: &str, principal: &str) -> bool {
    if named == principal {
        return true;
    }
    let Some((partition, account)) = account_root(named) else {
        return false;
    };
    matches!(crate::key::arn_fields(principal), Some(["arn", p, _, _, a, rest]) if p == partition && a == account && !rest.is_empty())
}

/// Whether `grant` allows `principal` to perform `operation` (a KMS grant
/// operation name, e.g. `"Decrypt"`; for `ReEncrypt` ask for `ReEncryptFrom`
/// on the source key and `ReEncryptTo` on the destination key) with
/// `encryption_context`.
///
/// The principal must be the grantee, compared exactly (an account root
/// grantee covers every principal of that account). Constraints are checked
/// for operations that take an encryption context; for `CreateGrant` pass the
/// encryption context of the new grant's constraint (empty if it has none),
/// so a constrained grant only creates grants at least as narrow.
/// An unknown operation name is never allowed.
pub fn grant_allows(
    grant: &Grant,
    principal: &str,
    operation: &str,
    encryption_context: &EncryptionContext,
) -> bool {
    GrantOperation::parse(operation)
        .is_ok_and(|op| GrantFilter::new(principal, op, encryption_context).allows(grant))
}

/// [`grant_allows`] for one call checked against many grants: the
/// operation is parsed once and the encryption context is indexed for the
/// constraints ([`GrantConstraints::allow`]) once, on the first constrained
/// grant, instead of once per grant (O(G·N) for G grants and a context of N
/// pairs). Each grant gets the answer [`grant_allows`] gives it.
#[derive(Debug)]
pub(crate) struct GrantFilter<'a> {
    principal: &'a str,
    op: GrantOperation,
    context: &'a EncryptionContext,
    index: Option<ContextKeys>,
}

impl<'a> GrantFilter<'a> {
    /// The check of `principal` performing `op` with `context` (see
    /// [`grant_allows`] for what each means).
    pub(crate) fn new(
        principal: &'a str,
        op: GrantOperation,
        context: &'a EncryptionContext,
    ) -> Self {
        GrantFilter {
            principal,
            op,
            context,
            index: None,
        }
    }

    /// Whether `grant` allows the call ([`grant_allows`]).
    pub(crate) fn allows(&mut self, grant: &Grant) -> bool {
        if !grant_principal_covers(&grant.grantee_principal, self.principal)
            || !grant.has_operation(self.op)
        {
            return false;
        }
        match &grant.constraints {
            Some(c) if self.op.constrained() => {
                let context = self.context;
                let index = self.index.get_or_insert_with(|| ContextKeys::new(context));
                c.allow_indexed(context, index)
            }
            _ => true,
        }
    }
}

/// The root principal ARN of `account` (a 12-digit account ID),
/// `arn:aws:iam::<account>:root`: the `IssuingAccount` of the grants of that
/// account's keys.
pub fn account_root_arn(account: &str) -> String {
    format!("arn:{}:iam::{account}:root", crate::key::PARTITION)
}

/// Reads `IssuingAccount`, turning a bare account ID into its root ARN.
fn issuing_account_arn<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> core::result::Result<String, D::Error> {
    String::deserialize(d).map(issuing_account_from)
}

/// A stored `IssuingAccount`: a bare account ID (rows written before the
/// ARN form) as that account's root ARN, anything else as it is.
pub(crate) fn issuing_account_from(v: String) -> String {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        account_root_arn(&v)
    } else {
        v
    }
}

/// Whether `principal` may retire `grant` (KMS rules): the retiring
/// principal; the grantee principal when the grant includes `RetireGrant`;
/// or the account root of the issuing account (the account in which the
/// grant was created). Principals are compared exactly; a retiring or
/// grantee principal that is an account root covers that account's
/// principals, as in [`grant_allows`].
pub fn may_retire(grant: &Grant, principal: &str) -> bool {
    is_retiring_principal(grant, principal)
        || (grant.has_operation(GrantOperation::RetireGrant)
            && grant_principal_covers(&grant.grantee_principal, principal))
        || principal == grant.issuing_account
}

/// Whether `principal` is the grant's retiring principal, compared exactly
/// (an account root retiring principal covers that account's principals);
/// the filter of `ListRetirableGrants`.
pub fn is_retiring_principal(grant: &Grant, principal: &str) -> bool {
    grant
        .retiring_principal
        .as_deref()
        .is_some_and(|r| grant_principal_covers(r, principal))
}

/// The row ID of a grant in a keystore's grant table and in the sealed
/// export: `<key ID>/<grant ID>`.
pub fn grant_row_id(key_id: &str, grant_id: &str) -> String {
    format!("{key_id}/{grant_id}")
}

/// A new grant ID: 64 lowercase hex characters from 32 random bytes the caller draws.
pub fn new_grant_id(random: &[u8; 32]) -> String {
    hex(random)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Checks a grant ID given to `RetireGrant`/`RevokeGrant` (1 to 128 characters).
///
/// # Errors
/// `InvalidGrantIdException`.
pub fn validate_grant_id(grant_id: &str) -> Result<()> {
    if grant_id.is_empty() || grant_id.len() > 128 {
        return Err(Error::new(
            ErrorKind::InvalidGrantIdException,
            "grant ID must be 1 to 128 characters",
        ));
    }
    Ok(())
}

/// The longest grant token KMS accepts.
pub const MAX_GRANT_TOKEN_LEN: usize = 8192;

/// KMS's length constraint on a grant token (`GrantTokenType`): 1 to
/// [`MAX_GRANT_TOKEN_LEN`] characters.
///
/// # Errors
/// `ValidationException` otherwise.
pub fn check_grant_token_length(token: &str) -> Result<()> {
    let len = token.chars().count();
    if len == 0 || len > MAX_GRANT_TOKEN_LEN {
        return Err(Error::validation(format!(
            "a grant token must be 1 to {MAX_GRANT_TOKEN_LEN} characters long; it is {len}"
        )));
    }
    Ok(())
}

const TOKEN_VERSION: u8 = 1;
const TOKEN_LABEL: &[u8] = b"strongroom grant token v1\0";

/// The grant token for `grant_id` (format in the module docs).
///
/// # Errors
/// `KMSInternalException` only if HMAC fails, which it does not.
pub fn grant_token(token_key: &[u8], grant_id: &str) -> Result<String> {
    let tag = hmac_sha256(token_key, &[TOKEN_LABEL, grant_id.as_bytes()])?;
    let mut raw = Vec::with_capacity(1 + grant_id.len() + tag.len());
    raw.push(TOKEN_VERSION);
    raw.extend_from_slice(grant_id.as_bytes());
    raw.extend_from_slice(&tag);
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// Authenticates a grant token and returns the grant ID it names.
///
/// # Errors
/// `InvalidGrantTokenException` (one detail-free message) when the token is
/// too long, not base64url, of another version, or its tag does not verify
/// under `token_key`.
pub fn grant_id_from_token(token_key: &[u8], token: &str) -> Result<String> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidGrantTokenException,
            "the grant token is not valid",
        )
    };
    if token.len() > MAX_GRANT_TOKEN_LEN {
        return Err(invalid());
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    if raw.len() < 2 + HMAC_SHA256_LEN || raw[0] != TOKEN_VERSION {
        return Err(invalid());
    }
    let (id, tag) = raw[1..].split_at(raw.len() - 1 - HMAC_SHA256_LEN);
    if !hmac_sha256_verify(token_key, &[TOKEN_LABEL, id], tag) {
        return Err(invalid());
    }
    core::str::from_utf8(id)
        .map(ToOwned::to_owned)
        .map_err(|_| invalid())
}
