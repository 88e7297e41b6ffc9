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
    // The bytes `serde_json::to_string_pretty` gives for the document (keys
    // sorted, two-space indent; checked by the test below), written from a
    // template: the pretty printer and a JSON value tree would be compiled
    // for this one document.
    let mut principal = String::new();
    crate::audit::write_string(admin_principal, &mut principal);
    alloc::format!(
        r#"{{
  "Id": "key-default-1",
  "Statement": [
    {{
      "Action": "kms:*",
      "Effect": "Allow",
      "Principal": {{
        "AWS": {principal}
      }},
      "Resource": "*",
      "Sid": "Enable IAM User Permissions"
    }}
  ],
  "Version": "2012-10-17"
}}"#
    )
}

/// The policy lockout safety check of `CreateKey` and `PutKeyPolicy`: refuses
/// `policy` unless `caller_principal` would still be allowed
/// `kms:PutKeyPolicy` on `key_arn` under it (with the request's own global
/// condition keys — `aws:CurrentTime` and `aws:EpochTime` from `now`, Unix
/// seconds, and `aws:SourceIp` when `source_ip` is known, as every call
/// sees them ([`crate::access::request_globals`]) — no other
/// request-specific condition values beyond those derived from the
/// principal, and `kms:BypassPolicyLockoutSafetyCheck` false). Without the
/// time and address, a `Deny` conditioned on them would not apply here
/// and then apply to every real call: a key nobody could manage again.
///
/// Call it only when the request's `BypassPolicyLockoutSafetyCheck` is false.
///
/// # Errors
/// `MalformedPolicyDocumentException` with [`LOCKOUT_MESSAGE`].
pub fn lockout_check(
    policy: &Policy,
    caller_principal: &str,
    key_arn: &str,
    now: u64,
    source_ip: Option<core::net::IpAddr>,
) -> Result<()> {
    let mut request = PolicyRequest::new(caller_principal, "PutKeyPolicy", key_arn)
        .with("kms:BypassPolicyLockoutSafetyCheck", false);
    crate::access::request_globals(&mut request, now, source_ip);
    match evaluate(policy, &request) {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny | Decision::ImplicitDeny => Err(malformed(LOCKOUT_MESSAGE)),
    }
}

#[cfg(test)]
mod tests {
    use super::default_key_policy;

    /// The template gives exactly what `serde_json` pretty-prints for the
    /// document, also for principals that need escaping.
    #[test]
    fn default_policy_is_serde_jsons_pretty_printing() {
        for admin in [
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/a\"b\\c\u{1}\n\u{7f}é",
        ] {
            let doc = serde_json::json!({
                "Version": "2012-10-17",
                "Id": "key-default-1",
                "Statement": [{
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": admin},
                    "Action": "kms:*",
                    "Resource": "*"
                }]
            });
            assert_eq!(
                default_key_policy(admin),
                serde_json::to_string_pretty(&doc).unwrap()
            );
        }
    }
}
