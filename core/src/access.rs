//! Authorization and auditing rules shared by every keystore: the native
//! `strongroom::Keystore` and the in-memory [`crate::memstore::MemKeystore`]
//! call these, so a principal gets the same answer from both.
//!
//! - Operations on a key evaluate the key's policy (the default key policy
//!   when none was set, [`default_policy`]) with the condition keys of
//!   [`key_request`] plus the operation's own (the `*_conditions` functions),
//!   and the key's grants for the operations a grant can allow
//!   ([`decide`]). An explicit `Deny` wins; otherwise an `Allow` from the
//!   policy or a grant permits the request; otherwise
//!   `AccessDeniedException`.
//! - `ReEncrypt` is authorized as `ReEncryptFrom` on the source key and
//!   `ReEncryptTo` on the destination key.
//! - `CreateKey`, `ListKeys`, `ListAliases`, `GenerateRandom` and
//!   `ListRetirableGrants` have no key resource; AWS KMS authorizes them
//!   with IAM alone. Strongroom has no IAM: they are allowed for every
//!   principal and audited like every other operation.
//! - Every operation, allowed, denied or failed, is recorded by one
//!   [`AuditEvent`] built by [`Call::event`].
//! - A dry run (KMS's `DryRun` parameter) is accepted by the operations of
//!   [`DRY_RUN_OPERATIONS`] only: they run every check, change nothing and
//!   fail with [`dry_run_succeeded`] instead of returning a result; any
//!   other operation refuses it without running ([`dry_run_refused`]).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Deref;

use serde_json::Value;

use crate::api::{
    CreateGrantRequest, ListGrantsRequest, RetireGrantRequest, ScheduleKeyDeletionResponse,
};
use crate::audit::{AuditEvent, RequestParameters};
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind, Result};
use crate::grant::{
    account_root_arn, check_grant_token_length, grant_id_from_token, new_grant_id,
    validate_grant_id, Grant, GrantFilter, GrantOperation,
};
use crate::key::{EncryptionAlgorithm, KeyRecord};
use crate::policy::{self, default_key_policy, Decision, Policy, PolicyRequest};

/// The operations that take `DryRun` in AWS KMS, and so may run as a dry
/// run (`strongroom::Keystore::dry_run`, [`MemKeystore::set_dry_run`](crate::memstore::MemKeystore::set_dry_run)).
pub const DRY_RUN_OPERATIONS: &[&str] = &[
    "CreateGrant",
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "RetireGrant",
    "RevokeGrant",
    "Sign",
    "Verify",
    "VerifyMac",
];

/// KMS's answer to a dry run that would have succeeded:
/// `DryRunOperationException`.
pub fn dry_run_succeeded() -> Error {
    Error::new(
        ErrorKind::DryRunOperationException,
        "The request would have succeeded, but the DryRun option is set.",
    )
}

/// Checks the principal a call acts for (`--principal`, `as_principal`,
/// `sr_keystore_as_principal()`, `asPrincipal`, a server credential's
/// principal) with the rules of a grantee principal
/// ([`crate::grant::check_principal`]): an IAM user, role or account root
/// ARN, an assumed role or a federated user; every operation runs it
/// first, so a malformed principal does nothing (the call is audited with
/// the error).
///
/// # Errors
/// `ValidationException` naming the forms accepted.
pub fn check_caller(principal: &str) -> Result<()> {
    crate::grant::check_principal("the caller principal", principal)
}

/// The `ValidationException` of a dry run of `op`, an operation without a
/// `DryRun` parameter (not in [`DRY_RUN_OPERATIONS`]); `remedy` ends the
/// message "call it …" (e.g. `on a handle without dry_run()`).
pub fn dry_run_refused(op: &str, remedy: &str) -> Error {
    Error::validation(format!("{op} has no DryRun parameter; call it {remedy}"))
}

/// One operation in progress: what its audit event will say.
#[derive(Clone, Debug, Default)]
pub struct Call {
    /// `requestParameters` (non-secret fields only).
    pub params: RequestParameters,
    /// Key ARNs the operation touched, in the order they were authorized.
    pub resources: Vec<String>,
    /// `responseElements` when the operation succeeds (non-secret only).
    pub response: Value,
}

impl Call {
    /// A call with these request parameters, no resources yet.
    pub fn new(params: RequestParameters) -> Self {
        Call {
            params,
            resources: Vec::new(),
            response: Value::Null,
        }
    }

    /// Records `key_arn` as a resource of the call (once).
    pub fn touch(&mut self, key_arn: &str) {
        if !self.resources.iter().any(|r| r == key_arn) {
            self.resources.push(key_arn.to_owned());
        }
    }

    /// The audit event of operation `op` called by `principal` at
    /// `unix_millis` in `account`, which failed with `error` or succeeded
    /// (`None`); `random` gives its request and event IDs ([`AuditEvent::new`]).
    pub fn event(
        self,
        op: &str,
        principal: &str,
        unix_millis: u64,
        random: [u8; 32],
        account: &str,
        error: Option<&Error>,
    ) -> AuditEvent {
        let mut event = AuditEvent::new(op, principal, unix_millis, random)
            .with_owned_request_parameters(self.params)
            .with_recipient_account(account);
        for r in &self.resources {
            event = event.with_key(r);
        }
        match error {
            None => event.with_response_elements(self.response),
            Some(e) => event.with_error(e),
        }
    }
}

/// The administrator principal of a keystore configured with `configured`
/// (empty in keystores made before principals existed): that, else the
/// account root `arn:aws:iam::<account>:root`.
pub fn admin_principal(configured: &str, account: &str) -> String {
    if configured.is_empty() {
        account_root_arn(account)
    } else {
        configured.to_owned()
    }
}

/// The parsed default key policy for administrator `admin`.
///
/// # Errors
/// `ValidationException` when `admin` is not a valid principal.
pub fn default_policy(admin: &str) -> Result<Policy> {
    Policy::parse(&default_key_policy(admin)).map_err(|e| {
        Error::validation(format!(
            "the administrator principal \"{admin}\" is not a valid principal: {}",
            e.message()
        ))
    })
}

/// The default key policy of a new keystore whose administrator is
/// `admin` (create, `with_admin_principal`): `admin` must be a principal a
/// call can act as ([`check_caller`]'s rules: an IAM user, role or account
/// root ARN, an assumed role or a federated user; no bare account ID, no
/// wildcard), or no call could ever use the policy it is named in.
///
/// # Errors
/// `ValidationException` naming the forms accepted, before anything is
/// written.
pub fn new_admin_policy(admin: &str) -> Result<Policy> {
    crate::grant::check_principal("the administrator principal", admin)?;
    default_policy(admin)
}

/// The policy request for `action` on `rec` by `principal` with the
/// condition keys every key operation has: `kms:KeySpec`, `kms:KeyUsage`,
/// `kms:KeyOrigin`, `aws:ResourceTag/<key>`, and `kms:RequestAlias` when the
/// key was named by the alias `request_alias`. Add `kms:ResourceAliases`
/// when the policy tests it ([`Policy::uses_condition_key`]), then the
/// operation's own keys.
pub fn key_request<'a>(
    principal: &'a str,
    action: &'a str,
    rec: &'a KeyRecord,
    request_alias: Option<String>,
) -> PolicyRequest<'a> {
    let mut req = PolicyRequest::new(principal, action, &rec.arn)
        .with("kms:KeySpec", rec.key_spec.as_str())
        .with("kms:KeyUsage", rec.key_usage.as_str())
        .with("kms:KeyOrigin", rec.origin.as_str());
    for (k, v) in &rec.tags {
        req.set(&format!("aws:ResourceTag/{k}"), v.as_str());
    }
    if let Some(name) = request_alias {
        req.set("kms:RequestAlias", name);
    }
    req
}

/// Sets the global condition keys of the request itself: `aws:CurrentTime`
/// (ISO 8601 UTC, second precision) and `aws:EpochTime` (Unix seconds) from
/// `now` (Unix seconds), and `aws:SourceIp` when `source_ip` is known.
/// An IPv4 peer seen as an IPv4-mapped IPv6 address (a dual-stack socket)
/// is given as the IPv4 address.
pub fn request_globals(
    req: &mut PolicyRequest<'_>,
    now: u64,
    source_ip: Option<core::net::IpAddr>,
) {
    req.set(
        "aws:CurrentTime",
        crate::time::format_rfc3339_millis(now.saturating_mul(1000)),
    );
    #[allow(clippy::cast_precision_loss)] // exact below 2^53 s (285 million years)
    req.set("aws:EpochTime", policy::ConditionValue::Number(now as f64));
    if let Some(ip) = source_ip {
        req.set("aws:SourceIp", format!("{}", ip.to_canonical()));
    }
}

/// The key's own policy, parsed; `None` when it has none (then the
/// default policy applies).
///
/// # Errors
/// `KMSInternalException` when the stored policy does not parse.
pub fn stored_policy(rec: &KeyRecord) -> Result<Option<Policy>> {
    rec.policy
        .as_deref()
        .map(|text| {
            Policy::parse(text).map_err(|e| {
                Error::internal(format!(
                    "the stored policy of key {} does not parse: {}",
                    rec.key_id,
                    e.message()
                ))
            })
        })
        .transpose()
}

/// Decides `req` under the key policy and, when the policy neither allows
/// nor denies it and the action is a grant operation, the key's grants
/// (`grants` is called only then; `grant_context` is checked against their
/// constraints). Returns `None` when the policy allowed the request,
/// `Some(grants)` when only these grants did.
///
/// # Errors
/// `AccessDeniedException` ([`policy::authorize`]); those of `grants`.
pub fn decide<G: Deref<Target = [Grant]>>(
    policy: &Policy,
    req: &PolicyRequest<'_>,
    grant_context: &EncryptionContext,
    grants: impl FnOnce() -> Result<G>,
) -> Result<Option<Vec<Grant>>> {
    decide_wanting(policy, req, grant_context, GrantsWanted::All, grants)
}

/// Which of the grants that allow a request [`decide_wanting`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrantsWanted {
    /// Every one ([`decide`]).
    All,
    /// The first one only, in the order `grants` gives them: for a caller
    /// that needs only the decision, which is the same (a request is allowed
    /// by grants when at least one grant allows it); the other grants are
    /// not checked.
    Any,
}

/// [`decide`], returning the allowing grants `wanted` asks for.
///
/// # Errors
/// Those of [`decide`].
pub(crate) fn decide_wanting<G: Deref<Target = [Grant]>>(
    policy: &Policy,
    req: &PolicyRequest<'_>,
    grant_context: &EncryptionContext,
    wanted: GrantsWanted,
    grants: impl FnOnce() -> Result<G>,
) -> Result<Option<Vec<Grant>>> {
    let allowing: Vec<Grant> = match policy::evaluate(policy, req) {
        Decision::Allow => return Ok(None),
        Decision::ExplicitDeny => Vec::new(),
        Decision::ImplicitDeny => match GrantOperation::parse(req.action) {
            Ok(op) => {
                let mut check = GrantFilter::new(req.principal, op, grant_context);
                let grants = grants()?;
                let allowing = grants.iter().filter(|g| check.allows(g)).cloned();
                match wanted {
                    GrantsWanted::All => allowing.collect(),
                    GrantsWanted::Any => allowing.take(1).collect(),
                }
            }
            Err(_) => Vec::new(),
        },
    };
    policy::authorize(policy, req, !allowing.is_empty())?;
    Ok(Some(allowing))
}

// ---- operation condition keys ------------------------------------------------

/// `kms:EncryptionAlgorithm` and the encryption context keys (Encrypt,
/// Decrypt, GenerateDataKey*, one side of ReEncrypt).
pub fn crypto_conditions<'a>(
    r: PolicyRequest<'a>,
    algorithm: Option<EncryptionAlgorithm>,
    context: &EncryptionContext,
) -> PolicyRequest<'a> {
    r.with(
        "kms:EncryptionAlgorithm",
        algorithm
            .unwrap_or(EncryptionAlgorithm::SymmetricDefault)
            .as_str(),
    )
    .with_encryption_context(context)
}

/// Decrypt with an RSA key: `kms:EncryptionAlgorithm` when given (it is
/// required there, and checked by the operation) and the encryption
/// context keys.
pub fn rsa_decrypt_conditions<'a>(
    r: PolicyRequest<'a>,
    algorithm: Option<EncryptionAlgorithm>,
    context: &EncryptionContext,
) -> PolicyRequest<'a> {
    set_opt(r, "kms:EncryptionAlgorithm", algorithm.map(|a| a.as_str()))
        .with_encryption_context(context)
}

/// One side of ReEncrypt: [`crypto_conditions`] and `kms:ReEncryptOnSameKey`.
pub fn re_encrypt_conditions<'a>(
    r: PolicyRequest<'a>,
    algorithm: Option<EncryptionAlgorithm>,
    context: &EncryptionContext,
    same_key: bool,
) -> PolicyRequest<'a> {
    crypto_conditions(r, algorithm, context).with("kms:ReEncryptOnSameKey", same_key)
}

/// Sign and Verify: `kms:SigningAlgorithm` (when given) and `kms:MessageType`.
pub fn signing_conditions<'a>(
    mut r: PolicyRequest<'a>,
    signing_algorithm: Option<&str>,
    message_type: &str,
) -> PolicyRequest<'a> {
    if let Some(a) = signing_algorithm {
        r.set("kms:SigningAlgorithm", a);
    }
    r.with("kms:MessageType", message_type)
}

/// GenerateMac and VerifyMac: `kms:MacAlgorithm` when given.
pub fn mac_conditions<'a>(
    mut r: PolicyRequest<'a>,
    mac_algorithm: Option<&str>,
) -> PolicyRequest<'a> {
    if let Some(a) = mac_algorithm {
        r.set("kms:MacAlgorithm", a);
    }
    r
}

/// DeriveSharedSecret: `kms:KeyAgreementAlgorithm` when given.
pub fn key_agreement_conditions<'a>(
    r: PolicyRequest<'a>,
    key_agreement_algorithm: Option<&str>,
) -> PolicyRequest<'a> {
    set_opt(r, "kms:KeyAgreementAlgorithm", key_agreement_algorithm)
}

/// GenerateDataKeyPair*: `kms:DataKeyPairSpec` (when given) and
/// [`crypto_conditions`] with `SYMMETRIC_DEFAULT`.
pub fn data_key_pair_conditions<'a>(
    mut r: PolicyRequest<'a>,
    key_pair_spec: Option<&str>,
    context: &EncryptionContext,
) -> PolicyRequest<'a> {
    if let Some(s) = key_pair_spec {
        r.set("kms:DataKeyPairSpec", s);
    }
    crypto_conditions(r, None, context)
}

/// TagResource: `aws:RequestTag/<key>` for each tag and `aws:TagKeys`.
pub fn tag_conditions<'a>(mut r: PolicyRequest<'a>, tags: &[crate::api::Tag]) -> PolicyRequest<'a> {
    for t in tags {
        r.set(
            &format!("aws:RequestTag/{}", t.tag_key),
            t.tag_value.as_str(),
        );
    }
    r.with(
        "aws:TagKeys",
        tags.iter().map(|t| t.tag_key.clone()).collect::<Vec<_>>(),
    )
}

/// GetParametersForImport: `kms:WrappingAlgorithm` and `kms:WrappingKeySpec` when given.
pub fn import_parameters_conditions<'a>(
    r: PolicyRequest<'a>,
    req: &crate::api::GetParametersForImportRequest,
) -> PolicyRequest<'a> {
    let r = set_opt(
        r,
        "kms:WrappingAlgorithm",
        req.wrapping_algorithm.map(|a| a.as_str()),
    );
    set_opt(
        r,
        "kms:WrappingKeySpec",
        req.wrapping_key_spec.map(|s| s.as_str()),
    )
}

/// ImportKeyMaterial: `kms:ExpirationModel` and `kms:ValidTo` (Unix seconds) when given.
pub fn import_conditions<'a>(
    r: PolicyRequest<'a>,
    req: &crate::api::ImportKeyMaterialRequest,
) -> PolicyRequest<'a> {
    let r = set_opt(
        r,
        "kms:ExpirationModel",
        req.expiration_model.map(|m| m.as_str()),
    );
    #[allow(clippy::cast_possible_wrap)]
    set_opt(
        r,
        "kms:ValidTo",
        req.valid_to.map(|v| v.min(i64::MAX as u64) as i64),
    )
}

/// ScheduleKeyDeletion's condition key: `kms:ScheduleKeyDeletionPendingWindowInDays`
/// when the request gives a window (days).
pub fn schedule_deletion_conditions(
    r: PolicyRequest<'_>,
    pending_window_in_days: Option<u32>,
) -> PolicyRequest<'_> {
    set_opt(
        r,
        "kms:ScheduleKeyDeletionPendingWindowInDays",
        pending_window_in_days,
    )
}

/// ScheduleKeyDeletion's audit `responseElements` (no secret).
pub fn schedule_deletion_response(out: &ScheduleKeyDeletionResponse) -> Value {
    serde_json::json!({
        "keyId": out.key_id,
        "deletionDate": out.deletion_date,
        "keyState": out.key_state,
        "pendingWindowInDays": out.pending_window_in_days,
    })
}

/// Sets `key` to `value` when there is one.
pub fn set_opt<'a, V: Into<policy::ConditionValue>>(
    mut r: PolicyRequest<'a>,
    key: &str,
    value: Option<V>,
) -> PolicyRequest<'a> {
    if let Some(v) = value {
        r.set(key, v);
    }
    r
}

// ---- key policies -------------------------------------------------------------

/// Checks a `PolicyName` argument: absent or `default`.
///
/// # Errors
/// `ValidationException` for a name outside KMS's constraints (1 to 128
/// characters of `[\w]`: ASCII letters, digits and `_`),
/// `NotFoundException` for any other name.
pub fn check_policy_name(name: Option<&str>) -> Result<()> {
    match name {
        None | Some(policy::DEFAULT_POLICY_NAME) => Ok(()),
        Some(other)
            if other.is_empty()
                || other.len() > 128
                || !other
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Err(Error::validation(
                "PolicyName must be 1 to 128 characters of [a-zA-Z0-9_]",
            ))
        }
        Some(other) => Err(Error::not_found(format!(
            "No such policy exists: {other} (the only key policy name is \"default\")"
        ))),
    }
}

/// The lockout safety check of CreateKey and PutKeyPolicy for the parsed
/// new `policy`: unless `bypass`, `principal` must still be allowed
/// `kms:PutKeyPolicy` on `key_arn` under it, at the request's time `now`
/// (Unix seconds) and from its `source_ip` ([`policy::lockout_check`]).
///
/// # Errors
/// `MalformedPolicyDocumentException`.
pub fn check_new_policy(
    policy: &Policy,
    bypass: bool,
    principal: &str,
    key_arn: &str,
    now: u64,
    source_ip: Option<core::net::IpAddr>,
) -> Result<()> {
    if bypass {
        return Ok(());
    }
    policy::lockout_check(policy, principal, key_arn, now, source_ip)
}

// ---- grants -------------------------------------------------------------------

/// Checks the grant tokens of a request: at most 10, each 1 to 8192
/// characters, each authentic under `token_key`
/// ([`crate::seal::RootKey::grant_token_key`]).
///
/// # Errors
/// `ValidationException` for more than 10 or a token of the wrong length
/// ([`check_grant_token_length`]), then `InvalidGrantTokenException`.
pub fn check_grant_tokens(token_key: &[u8], tokens: &[String]) -> Result<()> {
    if tokens.len() > crate::ops::MAX_GRANT_TOKENS {
        return Err(Error::validation("at most 10 grant tokens may be given"));
    }
    for t in tokens {
        check_grant_token_length(t)?;
    }
    for t in tokens {
        grant_id_from_token(token_key, t)?;
    }
    Ok(())
}

/// The constraint type (`kms:GrantConstraintType`) and encryption context
/// of a CreateGrant request's constraints (empty context without one).
pub fn grant_constraint(req: &CreateGrantRequest) -> (Option<&'static str>, EncryptionContext) {
    match &req.constraints {
        Some(c) => match (&c.encryption_context_equals, &c.encryption_context_subset) {
            (Some(e), _) => (Some("EncryptionContextEquals"), e.clone()),
            (None, Some(s)) => (Some("EncryptionContextSubset"), s.clone()),
            (None, None) => (None, EncryptionContext::default()),
        },
        None => (None, EncryptionContext::default()),
    }
}

/// CreateGrant's condition keys: `kms:GrantOperations`,
/// `kms:GranteePrincipal`, `kms:GrantIsForAWSResource`,
/// `kms:RetiringPrincipal`, `kms:GrantConstraintType` and the constraint's
/// encryption context keys.
pub fn create_grant_conditions<'a>(
    r: PolicyRequest<'a>,
    req: &CreateGrantRequest,
) -> PolicyRequest<'a> {
    let (constraint_type, ctx) = grant_constraint(req);
    let operations: Vec<String> = req
        .operations
        .iter()
        .map(|o| o.as_str().to_owned())
        .collect();
    let r = r
        .with("kms:GrantOperations", operations)
        .with("kms:GranteePrincipal", req.grantee_principal.as_str())
        .with("kms:GrantIsForAWSResource", false)
        .with_encryption_context(&ctx);
    let r = set_opt(
        r,
        "kms:RetiringPrincipal",
        req.retiring_principal.as_deref(),
    );
    set_opt(r, "kms:GrantConstraintType", constraint_type)
}

/// When CreateGrant was allowed only by `parents` (grants with
/// `CreateGrant`), the new grant may only pass on operations one of them has
/// (KMS: the same or fewer permissions).
///
/// # Errors
/// `AccessDeniedException`.
pub fn check_grant_narrower(
    parents: &[Grant],
    req: &CreateGrantRequest,
    principal: &str,
    key_arn: &str,
) -> Result<()> {
    // The parent's constraint already matched the child's context pairs
    // (`decide`); an `EncryptionContextEquals` parent must also have an
    // `EncryptionContextEquals` child, or the child's `Subset` would allow
    // contexts with more pairs than the parent does.
    let child_equals = req
        .constraints
        .as_ref()
        .is_some_and(|c| c.encryption_context_equals.is_some());
    let narrower = parents.iter().any(|p| {
        let parent_equals = p
            .constraints
            .as_ref()
            .is_some_and(|c| c.encryption_context_equals.is_some());
        req.operations.iter().all(|o| p.has_operation(*o)) && (child_equals || !parent_equals)
    });
    if narrower {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::AccessDeniedException,
        format!(
            "User: {principal} is not authorized to perform: kms:CreateGrant on resource: {key_arn} because the grant that allows CreateGrant does not include every requested operation, or has an EncryptionContextEquals constraint that the requested grant does not keep"
        ),
    ))
}

/// The grant a CreateGrant request makes on the key `key_arn` of `account`
/// at `now` (Unix seconds), its ID from `random`.
///
/// # Errors
/// `ValidationException` ([`Grant::validate`]).
pub fn new_grant(
    req: &CreateGrantRequest,
    key_arn: &str,
    account: &str,
    now: u64,
    random: &[u8; 32],
) -> Result<Grant> {
    let grant = Grant {
        key_id: key_arn.to_owned(),
        grant_id: new_grant_id(random),
        name: req.name.clone(),
        creation_date: now,
        grantee_principal: req.grantee_principal.clone(),
        retiring_principal: req.retiring_principal.clone(),
        issuing_account: account_root_arn(account),
        operations: req.operations.clone(),
        constraints: req.constraints.clone(),
    };
    grant.validate()?;
    Ok(grant)
}

/// The grant ID a RetireGrant request names: from its token (which must
/// agree with a given `GrantId`), else its `GrantId` with a `KeyId`.
///
/// # Errors
/// `InvalidGrantTokenException`, `InvalidGrantIdException`,
/// `ValidationException`.
pub fn retire_grant_id(token_key: &[u8], req: &RetireGrantRequest) -> Result<String> {
    let grant_id = match (&req.grant_token, &req.grant_id) {
        (Some(t), _) => {
            check_grant_token_length(t)?;
            let from_token = grant_id_from_token(token_key, t)?;
            if req.grant_id.as_ref().is_some_and(|g| *g != from_token) {
                return Err(Error::validation(
                    "GrantId does not match the grant named by GrantToken",
                ));
            }
            from_token
        }
        (None, Some(g)) if req.key_id.is_some() => g.clone(),
        _ => {
            return Err(Error::validation(
                "RetireGrant needs GrantToken, or KeyId and GrantId",
            ))
        }
    };
    validate_grant_id(&grant_id)?;
    Ok(grant_id)
}

/// The grants of a ListGrants request: `all` (one key's grants) filtered by
/// its optional `GrantId` and `GranteePrincipal`.
pub fn select_grants(all: Vec<Grant>, req: &ListGrantsRequest) -> Vec<Grant> {
    all.into_iter()
        .filter(|g| req.grant_id.as_ref().is_none_or(|id| *id == g.grant_id))
        .filter(|g| {
            req.grantee_principal
                .as_ref()
                .is_none_or(|p| *p == g.grantee_principal)
        })
        .collect()
}

/// The error for a grant that does not exist.
pub fn grant_not_found(grant_id: &str) -> Error {
    Error::not_found(format!("Grant {grant_id} does not exist"))
}

/// The most grants one key may have (the KMS quota).
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

/// The error when a key already has [`MAX_GRANTS_PER_KEY`] grants.
pub fn too_many_grants(key_arn: &str) -> Error {
    Error::new(
        ErrorKind::LimitExceededException,
        format!("key {key_arn} already has {MAX_GRANTS_PER_KEY} grants"),
    )
}

// ---- audit request parameters ----------------------------------------------------

/// The `requestParameters` of each operation, the same in every keystore.
impl RequestParameters {
    /// A key named as the caller gave it.
    pub fn key(key_id: &str) -> Self {
        let mut p = Self::NONE;
        p.key_id = Some(key_id.to_owned());
        p
    }

    /// A List operation's `Limit` and `Marker`, optionally for a key.
    pub fn list(key_id: Option<&str>, limit: Option<u32>, marker: Option<&str>) -> Self {
        let mut p = Self::NONE;
        p.key_id = key_id.map(ToOwned::to_owned);
        p.limit = limit;
        p.marker = marker.map(ToOwned::to_owned);
        p
    }

    /// Encrypt.
    pub fn encrypt(req: &crate::api::EncryptRequest) -> Self {
        let mut p = Self::NONE;
        p.encryption_context = Some(req.encryption_context.clone());
        p.encryption_algorithm = Some(algorithm_name(req.encryption_algorithm));
        p.key_id = Some(req.key_id.clone());
        p
    }

    /// Decrypt.
    pub fn decrypt(req: &crate::api::DecryptRequest) -> Self {
        let mut p = Self::NONE;
        p.key_id = req.key_id.clone();
        p.encryption_context = Some(req.encryption_context.clone());
        p.encryption_algorithm = Some(algorithm_name(req.encryption_algorithm));
        p
    }

    /// ReEncrypt.
    pub fn re_encrypt(req: &crate::api::ReEncryptRequest) -> Self {
        let mut p = Self::NONE;
        p.source_key_id = req.source_key_id.clone();
        p.destination_key_id = Some(req.destination_key_id.clone());
        p.source_encryption_context = Some(req.source_encryption_context.clone());
        p.destination_encryption_context = Some(req.destination_encryption_context.clone());
        p.source_encryption_algorithm = Some(algorithm_name(req.source_encryption_algorithm));
        p.destination_encryption_algorithm =
            Some(algorithm_name(req.destination_encryption_algorithm));
        p
    }

    /// GenerateDataKey and GenerateDataKeyWithoutPlaintext.
    pub fn data_key(req: &crate::api::GenerateDataKeyRequest) -> Self {
        let mut p = Self::NONE;
        p.encryption_context = Some(req.encryption_context.clone());
        p.key_spec = req.key_spec.map(|s| s.as_str().to_owned());
        p.number_of_bytes = req.number_of_bytes;
        p.key_id = Some(req.key_id.clone());
        p
    }

    /// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext.
    pub fn data_key_pair(req: &crate::api::GenerateDataKeyPairRequest) -> Self {
        let mut p = Self::NONE;
        p.key_pair_spec = req.key_pair_spec.map(|s| s.as_str().to_owned());
        p.encryption_context = Some(req.encryption_context.clone());
        p.key_id = Some(req.key_id.clone());
        p
    }

    /// Sign and Verify (`message_type` defaults to `RAW`).
    pub fn signature(key_id: &str, signing_algorithm: Option<&str>, message_type: &str) -> Self {
        let mut p = Self::NONE;
        p.signing_algorithm = signing_algorithm.map(ToOwned::to_owned);
        p.message_type = Some(message_type.to_owned());
        p.key_id = Some(key_id.to_owned());
        p
    }

    /// GenerateMac and VerifyMac.
    pub fn mac(key_id: &str, mac_algorithm: Option<&str>) -> Self {
        let mut p = Self::NONE;
        p.mac_algorithm = mac_algorithm.map(ToOwned::to_owned);
        p.key_id = Some(key_id.to_owned());
        p
    }

    /// DeriveSharedSecret (the peer's public key and the secret are not logged).
    pub fn key_agreement(key_id: &str, key_agreement_algorithm: Option<&str>) -> Self {
        let mut p = Self::NONE;
        p.key_agreement_algorithm = key_agreement_algorithm.map(ToOwned::to_owned);
        p.key_id = Some(key_id.to_owned());
        p
    }

    /// CreateKey (the policy document is not logged, the bypass flag is).
    pub fn create_key(req: &crate::api::CreateKeyRequest) -> Self {
        let mut p = Self::NONE;
        p.description = req.description.clone();
        p.key_spec = req
            .key_spec
            .or(req.customer_master_key_spec)
            .map(|s| s.as_str().to_owned());
        p.key_usage = req.key_usage.map(|u| u.as_str().to_owned());
        p.origin = req.origin.map(|o| o.as_str().to_owned());
        p.bypass_policy_lockout_safety_check = Some(req.bypass_policy_lockout_safety_check);
        p.tag_keys =
            (!req.tags.is_empty()).then(|| req.tags.iter().map(|t| t.tag_key.clone()).collect());
        p
    }

    /// PutKeyPolicy.
    pub fn put_key_policy(req: &crate::api::PutKeyPolicyRequest) -> Self {
        let mut p = Self::NONE;
        p.policy_name = Some(
            req.policy_name
                .clone()
                .unwrap_or_else(|| policy::DEFAULT_POLICY_NAME.into()),
        );
        p.policy = Some(req.policy.clone());
        p.bypass_policy_lockout_safety_check = Some(req.bypass_policy_lockout_safety_check);
        p.key_id = Some(req.key_id.clone());
        p
    }

    /// GetKeyPolicy.
    pub fn get_key_policy(key_id: &str, policy_name: Option<&str>) -> Self {
        let mut p = Self::NONE;
        p.policy_name = Some(policy_name.unwrap_or(policy::DEFAULT_POLICY_NAME).into());
        p.key_id = Some(key_id.to_owned());
        p
    }

    /// CreateGrant.
    pub fn create_grant(req: &CreateGrantRequest) -> Self {
        let mut p = Self::NONE;
        p.grantee_principal = Some(req.grantee_principal.clone());
        p.retiring_principal = req.retiring_principal.clone();
        p.operations = Some(
            req.operations
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect(),
        );
        p.constraints = req.constraints.clone();
        p.name = req.name.clone();
        p.key_id = Some(req.key_id.clone());
        p
    }

    /// ListGrants.
    pub fn list_grants(req: &ListGrantsRequest) -> Self {
        let mut p = Self::NONE;
        p.grant_id = req.grant_id.clone();
        p.grantee_principal = req.grantee_principal.clone();
        p.key_id = Some(req.key_id.clone());
        p.limit = req.limit;
        p.marker = req.marker.clone();
        p
    }

    /// ListRetirableGrants.
    pub fn list_retirable_grants(
        retiring_principal: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Self {
        let mut p = Self::NONE;
        p.retiring_principal = Some(retiring_principal.to_owned());
        p.limit = limit;
        p.marker = marker.map(ToOwned::to_owned);
        p
    }

    /// RetireGrant (the token is not logged; the grant ID is added once known).
    pub fn retire_grant(req: &RetireGrantRequest) -> Self {
        let mut p = Self::NONE;
        p.key_id = req.key_id.clone();
        p.grant_id = req.grant_id.clone();
        p
    }

    /// RevokeGrant.
    pub fn revoke_grant(key_id: &str, grant_id: &str) -> Self {
        let mut p = Self::NONE;
        p.grant_id = Some(grant_id.to_owned());
        p.key_id = Some(key_id.to_owned());
        p
    }

    /// CreateAlias and UpdateAlias.
    pub fn alias(alias_name: &str, target_key_id: Option<&str>) -> Self {
        let mut p = Self::NONE;
        p.alias_name = Some(alias_name.to_owned());
        p.target_key_id = target_key_id.map(ToOwned::to_owned);
        p
    }

    /// TagResource and UntagResource.
    pub fn tags(key_id: &str, tag_keys: Vec<String>) -> Self {
        let mut p = Self::NONE;
        p.tag_keys = Some(tag_keys);
        p.key_id = Some(key_id.to_owned());
        p
    }
}

fn algorithm_name(a: Option<EncryptionAlgorithm>) -> String {
    a.unwrap_or(EncryptionAlgorithm::SymmetricDefault)
        .as_str()
        .to_owned()
}
