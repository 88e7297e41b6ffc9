//! The default key policy and the policy lockout safety check.

use alloc::string::String;

use super::{evaluate, malformed, Decision, Policy, PolicyRequest};
use crate::error::Result;

/// KMS's message when the lockout safety check refuses a policy.
pub const LOCKOUT_MESSAGE: &str =
    "The new key policy will not allow you to update the key policy in the future.";

/// The key policy `CreateKey` attaches when none is given: like KMS's default
/// key policy (Sid "Enable IAM User Permissions", `kms:*` on `*`), with the
/// keystore's administrator principal in place of the account, because
/// Strongroom has no IAM to delegate to.
///
/// Pretty-printed JSON, as `GetKeyPolicy` returns it. It always parses.
pub fn default_key_policy(admin_principal: &str) -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": admin_principal},
            "Action": "kms:*",
            "Resource": "*"
        }]
    });
    // Serializing a `Value` only fails for non-string map keys, which `json!` cannot build.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The policy lockout safety check of `CreateKey` and `PutKeyPolicy`: refuses
/// `policy` unless `caller_principal` would still be allowed
/// `kms:PutKeyPolicy` on `key_arn` under it (with no request-specific
/// condition values beyond those derived from the principal, and
/// `kms:BypassPolicyLockoutSafetyCheck` false).
///
/// Call it only when the request's `BypassPolicyLockoutSafetyCheck` is false.
///
/// # Errors
/// `MalformedPolicyDocumentException` with [`LOCKOUT_MESSAGE`].
pub fn lockout_check(policy: &Policy, caller_principal: &str, key_arn: &str) -> Result<()> {
    let request = PolicyRequest::new(caller_principal, "PutKeyPolicy", key_arn)
        .with("kms:BypassPolicyLockoutSafetyCheck", false);
    match evaluate(policy, &request) {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny | Decision::ImplicitDeny => Err(malformed(LOCKOUT_MESSAGE)),
    }
}
