//! Key policies, grants and the audit log: PutKeyPolicy, GetKeyPolicy,
//! ListKeyPolicies, CreateGrant, ListGrants, ListRetirableGrants,
//! RetireGrant, RevokeGrant, and verifying and reading the audit log.
//! (The principal a handle acts for and its grant tokens are in
//! `keystore.rs`.)

use std::ffi::c_char;

use sr::api::{CreateGrantRequest, ListGrantsRequest, PutKeyPolicyRequest, RetireGrantRequest};
use sr::core::grant::{GrantConstraints, GrantOperation};
use sr::AuditFilter;

use crate::bytes::sr_bytes;
use crate::keystore::{
    anchor_options, handle, keystore, path_from, root_source, sr_keystore, SR_ANCHOR_INIT,
    SR_ANCHOR_REINIT,
};
use crate::ptr::{
    bytes_array, c_bytes, c_str, context, opt_c_bytes, opt_c_str, out, str_array, Out, StrOut,
};
use crate::result::{guard, sr_result, Failure};
use crate::{optional, write_json};

/// Size of a buffer that holds any grant ID this library issues: 64
/// hexadecimal characters and the NUL.
pub const SR_GRANT_ID_LEN: usize = 65;

/// Size of a buffer that holds any grant token this library issues: 130
/// base64url characters and the NUL.
pub const SR_GRANT_TOKEN_LEN: usize = 131;

/// PutKeyPolicy: replaces the key policy of `key_id` with the JSON document
/// `policy` (the IAM policy grammar of KMS key policies, at most 32 KiB).
///
/// Parameters:
/// - `key_id`: key ID or key ARN (an alias name or alias ARN is
///   `SR_NOT_FOUND`, as in KMS).
/// - `policy_name`: NULL or `"default"` (the only key policy name).
/// - `bypass_policy_lockout_safety_check`: 0 to refuse a policy that would
///   no longer allow the calling principal `kms:PutKeyPolicy` (the lockout
///   safety check, as KMS), 1 to skip that check. Other values are
///   `SR_VALIDATION`.
///
/// Errors: `SR_MALFORMED_POLICY_DOCUMENT` (invalid document, over 32 KiB, or
/// the lockout safety check; the message says what is wrong),
/// `SR_NOT_FOUND` (key, or a policy name other than `"default"`),
/// `SR_ACCESS_DENIED`, `SR_KMS_INVALID_STATE`, `SR_NULL_PARAMETER`,
/// `SR_INVALID_UTF8`, `SR_VALIDATION`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented.
#[no_mangle]
pub unsafe extern "C" fn sr_put_key_policy(
    ks: *const sr_keystore,
    key_id: *const c_char,
    policy_name: *const c_char,
    policy: *const c_char,
    bypass_policy_lockout_safety_check: u32,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, policy_name, policy) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(policy_name, "policy_name")?,
                c_str(policy, "policy")?,
            )
        };
        let bypass = match bypass_policy_lockout_safety_check {
            0 => false,
            1 => true,
            other => {
                return Err(Failure::validation(format!(
                    "bypass_policy_lockout_safety_check must be 0 or 1, not {other}"
                )))
            }
        };
        Ok(ks.put_key_policy(&PutKeyPolicyRequest {
            key_id: key_id.to_string(),
            policy_name: policy_name.map(str::to_string),
            policy: policy.to_string(),
            bypass_policy_lockout_safety_check: bypass,
        })?)
    })
}

/// GetKeyPolicy: `*out_policy` receives the key policy document of `key_id`
/// (JSON text; the default key policy when none was set), as `sr_bytes` to
/// free with `sr_bytes_free()`.
///
/// `policy_name`: NULL or `"default"`.
///
/// Errors: `SR_NOT_FOUND` (key or policy name), `SR_ACCESS_DENIED`,
/// `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented;
/// `out_policy` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_get_key_policy(
    ks: *const sr_keystore,
    key_id: *const c_char,
    policy_name: *const c_char,
    out_policy: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, policy_name) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(policy_name, "policy_name")?,
            )
        };
        let out = out!(out_policy);
        let resp = ks.get_key_policy(key_id, policy_name)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(resp.policy.as_bytes())) };
        Ok(())
    })
}

/// ListKeyPolicies: `*out_json` receives `{"PolicyNames": ["default"],
/// "Truncated": false}` (as KMS; `NextMarker` when truncated).
///
/// `limit`: 1–1000, or 0 for the default. `marker`: NULL, or the
/// `NextMarker` of the previous page.
///
/// Errors: `SR_NOT_FOUND`, `SR_ACCESS_DENIED`, `SR_VALIDATION`,
/// `SR_INVALID_MARKER`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented;
/// `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_list_key_policies(
    ks: *const sr_keystore,
    key_id: *const c_char,
    limit: u32,
    marker: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, marker) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(marker, "marker")?,
            )
        };
        let out = out!(out_json);
        let resp = ks.list_key_policies(key_id, optional(limit), marker)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { write_json(out, &resp) }
    })
}

/// A grant constraint from two context arrays; no pairs means no constraint.
///
/// # Safety
/// Both arrays valid for `n` strings.
unsafe fn constraint(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
    keys_name: &str,
    values_name: &str,
) -> Result<Option<sr::EncryptionContext>, Failure> {
    if n == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded caller promises.
    unsafe { context(keys, values, n, keys_name, values_name) }.map(Some)
}

/// CreateGrant: allows `grantee_principal` the `operations` on `key_id`,
/// optionally only for requests whose encryption context equals, or
/// contains, the given pairs. The grant applies as soon as this returns;
/// the grant ID and a grant token are copied into the caller's buffers.
///
/// Parameters:
/// - `key_id`: key ID or key ARN (an alias name or alias ARN is
///   `SR_NOT_FOUND`, as in KMS).
/// - `grantee_principal`: the principal ARN the grant allows (1–256 characters).
/// - `operations`, `operations_len`: 1 or more KMS grant operation names,
///   spelled as KMS does: `"Decrypt"`, `"Encrypt"`, `"GenerateDataKey"`,
///   `"GenerateDataKeyWithoutPlaintext"`, `"ReEncryptFrom"`, `"ReEncryptTo"`,
///   `"Sign"`, `"Verify"`, `"GetPublicKey"`, `"CreateGrant"`,
///   `"RetireGrant"`, `"DescribeKey"`, `"GenerateDataKeyPair"`,
///   `"GenerateDataKeyPairWithoutPlaintext"`, `"GenerateMac"`,
///   `"VerifyMac"`, `"DeriveSharedSecret"`.
/// - `retiring_principal`: NULL, or a principal that may retire the grant.
/// - `name`: NULL, or a name (1–256 of `[a-zA-Z0-9:/_-]`) that makes the
///   call idempotent: the same name and parameters return the existing
///   grant's ID (and a new token) instead of creating another.
/// - `equals_*` arrays: the `EncryptionContextEquals` constraint, as parallel
///   key/value arrays; 0 pairs for none. `subset_*` arrays: the
///   `EncryptionContextSubset` constraint, likewise. (A constraint with no
///   pairs cannot be expressed; it would not differ from none for a
///   `Subset`.)
/// - `grant_id_buf`/`grant_id_len`: at least `SR_GRANT_ID_LEN` bytes;
///   `token_buf`/`token_len`: at least `SR_GRANT_TOKEN_LEN` bytes. Both are
///   checked *before* the grant is created: a short buffer creates nothing
///   and returns `SR_BUFFER_TOO_SMALL` with the needed size in its
///   `*out_..._len`. `out_grant_id_len` and `out_token_len` receive the
///   sizes used, including the NUL.
///
/// The handle's grant tokens (`sr_keystore_with_grant_tokens()`) are sent
/// as `GrantTokens`.
///
/// Errors: `SR_VALIDATION` (unknown, repeated or no operation; principal or
/// name malformed; a constraint with an operation that takes no encryption
/// context, such as `"Sign"`), `SR_NOT_FOUND`, `SR_ACCESS_DENIED`,
/// `SR_KMS_INVALID_STATE` (key pending deletion), `SR_INVALID_GRANT_TOKEN`,
/// `SR_LIMIT_EXCEEDED` (50,000 grants per key), `SR_BUFFER_TOO_SMALL`,
/// `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented; arrays
/// valid for their lengths; buffers valid for their lengths; `out_*_len`
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_create_grant(
    ks: *const sr_keystore,
    key_id: *const c_char,
    grantee_principal: *const c_char,
    operations: *const *const c_char,
    operations_len: usize,
    retiring_principal: *const c_char,
    name: *const c_char,
    equals_keys: *const *const c_char,
    equals_values: *const *const c_char,
    equals_len: usize,
    subset_keys: *const *const c_char,
    subset_values: *const *const c_char,
    subset_len: usize,
    grant_id_buf: *mut c_char,
    grant_id_len: usize,
    out_grant_id_len: *mut usize,
    token_buf: *mut c_char,
    token_len: usize,
    out_token_len: *mut usize,
) -> sr_result {
    guard(|| {
        // Each operation at most once: a longer list is refused before the
        // array is read (a wrong count is an error, not a read past it).
        if operations_len > GrantOperation::ALL.len() {
            return Err(Failure::validation(format!(
                "operations: {operations_len} given, but there are {} grant operations and each may appear once",
                GrantOperation::ALL.len()
            )));
        }
        // SAFETY: caller promises, as documented above.
        let (h, key_id, grantee, ops, retiring, name, equals, subset) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                c_str(grantee_principal, "grantee_principal")?,
                str_array(operations, operations_len, "operations")?,
                opt_c_str(retiring_principal, "retiring_principal")?,
                opt_c_str(name, "name")?,
                constraint(
                    equals_keys,
                    equals_values,
                    equals_len,
                    "equals_keys",
                    "equals_values",
                )?,
                constraint(
                    subset_keys,
                    subset_values,
                    subset_len,
                    "subset_keys",
                    "subset_values",
                )?,
            )
        };
        let id_out = StrOut::new(
            "grant_id_buf",
            grant_id_buf,
            grant_id_len,
            out!(out_grant_id_len),
        )?;
        let token_out = StrOut::new("token_buf", token_buf, token_len, out!(out_token_len))?;
        // SAFETY: caller promises for the out_len pointers.
        unsafe {
            id_out.reserve(SR_GRANT_ID_LEN)?;
            token_out.reserve(SR_GRANT_TOKEN_LEN)?;
        }
        let operations = ops
            .into_iter()
            .map(GrantOperation::parse)
            .collect::<sr::Result<Vec<_>>>()?;
        let constraints = (equals.is_some() || subset.is_some()).then_some(GrantConstraints {
            encryption_context_equals: equals,
            encryption_context_subset: subset,
        });
        let resp = h.inner.create_grant(&CreateGrantRequest {
            key_id: key_id.to_string(),
            grantee_principal: grantee.to_string(),
            retiring_principal: retiring.map(str::to_string),
            operations,
            constraints,
            grant_tokens: h.tokens(),
            name: name.map(str::to_string),
        })?;
        // SAFETY: caller promises for the buffers; both were reserved above,
        // and a unit test keeps the issued lengths within the constants.
        unsafe {
            id_out.write(&resp.grant_id)?;
            token_out.write(&resp.grant_token)
        }
    })
}

/// ListGrants: `*out_json` receives `{"Grants": [...], "Truncated": bool,
/// "NextMarker": "..."}` in the AWS shape (each grant: `KeyId` (ARN),
/// `GrantId`, `Name`, `CreationDate` (Unix seconds), `GranteePrincipal`,
/// `RetiringPrincipal`, `IssuingAccount`, `Operations`, `Constraints`).
///
/// Parameters: `key_id` (required); `limit` 1–100 or 0 for the default (50);
/// `marker` NULL or the previous page's `NextMarker`; `grant_id` NULL or
/// only that grant; `grantee_principal` NULL or only that grantee's grants.
///
/// Errors: `SR_NOT_FOUND`, `SR_ACCESS_DENIED`, `SR_VALIDATION`,
/// `SR_INVALID_MARKER`, `SR_INVALID_GRANT_ID`, `SR_NULL_PARAMETER`,
/// `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented;
/// `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_list_grants(
    ks: *const sr_keystore,
    key_id: *const c_char,
    limit: u32,
    marker: *const c_char,
    grant_id: *const c_char,
    grantee_principal: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, marker, grant_id, grantee) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(marker, "marker")?,
                opt_c_str(grant_id, "grant_id")?,
                opt_c_str(grantee_principal, "grantee_principal")?,
            )
        };
        let out = out!(out_json);
        let resp = ks.list_grants(&ListGrantsRequest {
            key_id: key_id.to_string(),
            limit: optional(limit),
            marker: marker.map(str::to_string),
            grant_id: grant_id.map(str::to_string),
            grantee_principal: grantee.map(str::to_string),
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { write_json(out, &resp) }
    })
}

/// ListRetirableGrants: the grants, across keys, whose retiring principal is
/// `retiring_principal`; `*out_json` as for `sr_list_grants()`. Allowed for
/// every principal (IAM-only in AWS KMS) and audited.
///
/// Errors: `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_NULL_PARAMETER`,
/// `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// As `sr_list_grants()`.
#[no_mangle]
pub unsafe extern "C" fn sr_list_retirable_grants(
    ks: *const sr_keystore,
    retiring_principal: *const c_char,
    limit: u32,
    marker: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, principal, marker) = unsafe {
            (
                keystore(ks)?,
                c_str(retiring_principal, "retiring_principal")?,
                opt_c_str(marker, "marker")?,
            )
        };
        let out = out!(out_json);
        let resp = ks.list_retirable_grants(principal, optional(limit), marker)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { write_json(out, &resp) }
    })
}

/// RetireGrant: deletes a grant named by its token (`grant_token`), or by
/// `key_id` and `grant_id` (give either the token, or both of the others;
/// NULL for the ones not given). Allowed for the grant's retiring
/// principal, its grantee when the grant includes `"RetireGrant"`, the
/// account's root principal, or a principal the key policy allows
/// `kms:RetireGrant`.
///
/// Errors: `SR_INVALID_GRANT_TOKEN`, `SR_INVALID_GRANT_ID`, `SR_VALIDATION`
/// (neither a token nor key and grant ID), `SR_NOT_FOUND`,
/// `SR_ACCESS_DENIED`, `SR_INVALID_UTF8`, `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_retire_grant(
    ks: *const sr_keystore,
    grant_token: *const c_char,
    key_id: *const c_char,
    grant_id: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, token, key_id, grant_id) = unsafe {
            (
                keystore(ks)?,
                opt_c_str(grant_token, "grant_token")?,
                opt_c_str(key_id, "key_id")?,
                opt_c_str(grant_id, "grant_id")?,
            )
        };
        Ok(ks.retire_grant(&RetireGrantRequest {
            grant_token: token.map(str::to_string),
            key_id: key_id.map(str::to_string),
            grant_id: grant_id.map(str::to_string),
        })?)
    })
}

/// RevokeGrant: deletes grant `grant_id` of `key_id`; authorized by the key
/// policy (`kms:RevokeGrant`).
///
/// Errors: `SR_INVALID_GRANT_ID`, `SR_NOT_FOUND` (key or grant),
/// `SR_ACCESS_DENIED`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_revoke_grant(
    ks: *const sr_keystore,
    key_id: *const c_char,
    grant_id: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, grant_id) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                c_str(grant_id, "grant_id")?,
            )
        };
        Ok(ks.revoke_grant(key_id, grant_id)?)
    })
}

/// What `sr_verify_audit_log()` found.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct sr_audit_verification {
    /// Records that verified: every record when `intact` is 1; otherwise the
    /// 0-based index of the first bad record (for a log cut short, the
    /// number of records found), or, when the log verified and only an
    /// archive did not (`sr_verify_audit_log_archives()`), every record of
    /// the log. Counted over every record the log ever held: after
    /// `sr_rotate_audit_log()`, the archived records too.
    pub records: u64,
    /// Records the sealed checkpoint in the keystore covers.
    pub checkpoint_records: u64,
    /// 1 when the whole log (and the archives given to
    /// `sr_verify_audit_log_archives()`) verified, 0 when it did not.
    pub intact: u32,
    /// How many intent records among those that verified have no outcome
    /// record after them: a change of keys, aliases or grants is preceded in
    /// the log by the intent record of its call (its own `eventID`, and
    /// `"strongroomIntent": {"eventID": <the outcome's>}`, counted in
    /// `records`), and a crash between the change and the call's own record
    /// leaves the intent alone (not a fault). `sr_audit_events()` lists
    /// these intents (and no other).
    pub outcome_unknown: u64,
}

/// Verifies the keystore's audit log (`<keystore>.audit.jsonl`): every
/// record against the HMAC chain (under a key derived from the root key) and
/// the log against the sealed checkpoint in the keystore, so that an edited,
/// deleted, inserted or reordered record, or a log cut short, is found.
/// Reading the log is not itself audited.
///
/// Results:
/// - `SR_OK`: the log is intact; `*out` is written with `intact` 1.
/// - `SR_AUDIT_LOG_NOT_INTACT`: the log was read and does not verify;
///   `*out` is written too (an exception to "outputs only on success"),
///   with `intact` 0 and `records` the index of the first bad record;
///   `sr_last_error_message()` gives that index and the reason.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL` (the checkpoint fails
/// authentication, or the log cannot be read; `*out` untouched).
///
/// # Safety
/// `ks` a live handle; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_verify_audit_log(
    ks: *const sr_keystore,
    out: *mut sr_audit_verification,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        let out = out!(out);
        let v = ks.verify_audit_log()?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { report(out, v) }
    })
}

/// Verifies the audit log as `sr_verify_audit_log()` does, then the
/// archive files `archives[0]` .. `archives[archives_len - 1]` (paths,
/// oldest first, as `sr_rotate_audit_log()` made them; any contiguous run
/// of them, up to the current log): each archive's chain verifies from its
/// own first record, and the file after it (the next archive, or the
/// current log for the last one) starts with a `RotateAuditLog` record
/// that names it with its record range, length, SHA-256 and last chain
/// value. With `archives_len` 0 (`archives` may then be NULL), as
/// `sr_verify_audit_log()`. Not audited.
///
/// Results: as `sr_verify_audit_log()`:
/// - `SR_OK`: the log and the archives are intact; `*out` is written with
///   `intact` 1.
/// - `SR_AUDIT_LOG_NOT_INTACT`: `*out` is written too, with `intact` 0;
///   `sr_last_error_message()` names the first bad record of the log, or,
///   when the log verified, the problem with the archives ("the audit
///   archives are not intact: " and the file, the record number when there
///   is one, and why): a modified, truncated, extended, missing,
///   unreadable or misordered archive.
///
/// Errors: `SR_NULL_PARAMETER` (`ks`, `out`, `archives` with a non-zero
/// `archives_len`, or one of its elements), `SR_VALIDATION`
/// (`archives_len` too large for an array), `SR_KMS_INTERNAL` (as
/// `sr_verify_audit_log()`; `*out` untouched).
///
/// # Safety
/// `ks` a live handle; `archives` NULL or valid for `archives_len` reads,
/// each a NUL-terminated string; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_verify_audit_log_archives(
    ks: *const sr_keystore,
    archives: *const *const c_char,
    archives_len: usize,
    out: *mut sr_audit_verification,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, archives) = unsafe {
            (
                keystore(ks)?,
                bytes_array(archives, archives_len, "archives")?,
            )
        };
        let out = out!(out);
        let paths = archives
            .iter()
            .enumerate()
            .map(|(i, p)| path_from(p, &format!("archives[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let v = ks.verify_audit_log_archives(&paths)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { report(out, v) }
    })
}

/// Writes a verification to `out` and makes its result: `SR_OK` for an
/// intact log (and archives), else `SR_AUDIT_LOG_NOT_INTACT` naming the
/// first bad record, or the archive problem.
///
/// # Safety
/// `out` valid for a write.
unsafe fn report(out: Out<sr_audit_verification>, v: sr::AuditVerification) -> Result<(), Failure> {
    let result = sr_audit_verification {
        records: v.records,
        checkpoint_records: v.checkpoint_records,
        intact: u32::from(v.fault.is_none() && v.archive_fault.is_none()),
        outcome_unknown: u64::try_from(v.outcome_unknown.len()).unwrap_or(u64::MAX),
    };
    // SAFETY: caller promise.
    unsafe { out.write(result) };
    match (v.fault, v.archive_fault) {
        (None, None) => Ok(()),
        (Some(fault), _) => Err(Failure::new(
            sr_result::SR_AUDIT_LOG_NOT_INTACT,
            format!("the audit log is not intact: {fault}"),
        )),
        (None, Some(fault)) => Err(Failure::new(
            sr_result::SR_AUDIT_LOG_NOT_INTACT,
            format!("the audit archives are not intact: {fault}"),
        )),
    }
}

/// Verifies the audit log of the keystore file at `path` as
/// `sr_verify_audit_log()` does, without a handle and writing nothing: for
/// a keystore and log this process cannot or must not write (a read-only
/// file system or files, a copy kept as evidence), and for a keystore
/// that other handles or processes have open. As the CLI's
/// `strongroom audit verify`.
///
/// Writing nothing means: the keystore is opened read only, symbolic
/// links resolved: through its WAL, with SQLite's locks, while a `-wal` or
/// `-shm` file exists beside it (a writer's latest commits, and the
/// checkpoint sealed with them, are read there), otherwise as an immutable
/// file, creating no file; nothing is flushed first, so records past the
/// sealed checkpoint (the unsealed tail of a process that crashed) are
/// checked by the chain alone, where `sr_verify_audit_log()` would seal
/// them first; the keystore integrity state is verified, and checked
/// against the anchor without moving or creating it; no audit event is
/// appended and no anchoring begun. The keystore, its WAL, its audit log
/// and its anchor are never written; but while a `-wal` file exists (a
/// writer has the keystore open, or crashed), SQLite may create or update
/// the shared-memory index `-shm` beside it, as it does for any reader.
///
/// Parameters:
/// - `path`, `root_kind`, `root`, `root_len`: as for `sr_keystore_open()`.
/// - `anchor_path`: the keystore's anchor file (NUL-terminated path,
///   bytes), or NULL for none; as for `sr_keystore_open_with_anchor()`.
/// - `flags`: 0, or `SR_WITHOUT_ANCHOR` (with `anchor_path` NULL: verify
///   an anchored keystore without checking its anchor). `SR_ANCHOR_INIT`
///   and `SR_ANCHOR_REINIT` would create an anchor: `SR_VALIDATION`.
/// - `out`: receives the result, as for `sr_verify_audit_log()`.
///
/// Results: as `sr_verify_audit_log()`: `SR_OK` with `intact` 1, or
/// `SR_AUDIT_LOG_NOT_INTACT` with `*out` written (`intact` 0, `records` the
/// index of the first bad record) and the same index and reason in
/// `sr_last_error_message()`.
///
/// Errors (`*out` untouched): `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
/// `SR_VALIDATION` (malformed root key; unknown `root_kind` or flags;
/// `root_len` above its maximum;
/// `SR_ANCHOR_INIT`, `SR_ANCHOR_REINIT`; `SR_WITHOUT_ANCHOR` with an
/// `anchor_path`; an anchor that is one of the keystore's files or not a
/// regular file), `SR_NOT_FOUND` (no keystore, or no root key file),
/// `SR_ACCESS_DENIED` (the root key does not open this keystore),
/// `SR_KMS_INVALID_STATE` (the keystore is anchored and neither
/// `anchor_path` nor `SR_WITHOUT_ANCHOR` was given, or `anchor_path` is not
/// its anchor), `SR_KMS_INTERNAL` (the keystore or the checkpoint fails
/// authentication; the keystore is behind its anchor; the anchor is
/// missing or fails authentication; a keystore of an older format
/// version, which is never migrated here; the log, or a `-wal` file
/// beside the keystore, cannot be read).
///
/// # Safety
/// `path` NUL-terminated; `root` valid for `root_len` bytes; `anchor_path`
/// NULL or NUL-terminated; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_verify_audit_log_read_only(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    anchor_path: *const c_char,
    flags: u32,
    out: *mut sr_audit_verification,
) -> sr_result {
    guard(|| {
        let out = out!(out);
        // SAFETY: caller promises, as documented above.
        let (path, root, anchor) = unsafe {
            (
                c_bytes(path, "path")?,
                root_source(root_kind, root, root_len)?,
                opt_c_bytes(anchor_path, "anchor_path")?,
            )
        };
        if flags & (SR_ANCHOR_INIT | SR_ANCHOR_REINIT) != 0 {
            return Err(Failure::validation(
                "SR_ANCHOR_INIT and SR_ANCHOR_REINIT create an anchor, which a read-only \
                 verification never does: use 0 or SR_WITHOUT_ANCHOR",
            ));
        }
        let options = anchor_options(anchor, flags)?;
        let v = sr::Keystore::verify_audit_log_read_only(path_from(path, "path")?, root, options)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { report(out, v) }
    })
}

/// The audit records that match the filters, oldest first: `*out_json`
/// receives a JSON array of CloudTrail-shaped event objects (`eventTime`,
/// `eventName`, `userIdentity`, `requestParameters`, `responseElements`,
/// `resources`, `errorCode`, ...), one per operation: the intent record of
/// a change (member `strongroomIntent`, see `sr_audit_verification`) only
/// while its outcome record is missing. No record holds plaintext, key material,
/// data keys or ciphertext. This reads the log without verifying it (see
/// `sr_verify_audit_log()`), and is not itself audited.
///
/// Filters (each NULL for "any"): `key_id` (key ID or ARN the event names),
/// `event_name` (the KMS operation, e.g. `"Encrypt"`), `principal` (the
/// caller ARN, exact), `start_time` and `end_time` (RFC 3339 UTC such as
/// `"2024-01-01T00:00:00Z"`, or a date prefix such as `"2024-01-01"`;
/// both ends included).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (a time
/// that is not such text, or `start_time` after `end_time`, a range no
/// event can fall in: CloudTrail's LookupEvents calls it
/// `InvalidTimeRangeException`, which KMS and Strongroom do not have; the
/// log is not read), `SR_KMS_INTERNAL` (the log cannot be read).
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_audit_events(
    ks: *const sr_keystore,
    key_id: *const c_char,
    event_name: *const c_char,
    principal: *const c_char,
    start_time: *const c_char,
    end_time: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        let s = |p: Option<&str>| p.map(str::to_string);
        // SAFETY: caller promises, as documented above.
        let (ks, filter) = unsafe {
            (
                keystore(ks)?,
                AuditFilter {
                    key_id: s(opt_c_str(key_id, "key_id")?),
                    event_name: s(opt_c_str(event_name, "event_name")?),
                    principal: s(opt_c_str(principal, "principal")?),
                    start_time: s(opt_c_str(start_time, "start_time")?),
                    end_time: s(opt_c_str(end_time, "end_time")?),
                },
            )
        };
        let out = out!(out_json);
        let resp = ks.audit_events(&filter)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { write_json(out, &resp) }
    })
}

/// Moves the keystore's audit log's records to an archive file beside it
/// and starts a new log whose first record, `RotateAuditLog`, is chained
/// from the last archived record and names the archive with its record
/// range, length and SHA-256, as CloudTrail ends one log file and starts
/// the next (docs/FORMAT.md, "Audit log rotation and archives"). The
/// archive is `<keystore>.audit.<first>-<last>.jsonl` (record numbers in 20
/// digits, so names sort by age; mode 0400); it may then be moved or
/// deleted: the keystore never reads it again. Other handles and processes
/// continue in the new log at their next call. `sr_verify_audit_log()`
/// then verifies the new file from the record it starts at (`records`
/// counts every record the log ever held).
///
/// `*out_json` receives a JSON object: `Archive` (the archive's path),
/// `FirstRecord` and `LastRecord` (its first and last record numbers,
/// 1-based over every record the log ever held), `Bytes` (its length) and
/// `Sha256` (its SHA-256, 64 lowercase hex digits).
///
/// A rotation of the same records already copying them (its `.partial`
/// file locked) is waited for 5 s at most; other calls are not held up
/// while the records are copied.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_KMS_INVALID_STATE` (the log holds no
/// record, a `.partial` file of the same records stayed locked for 5 s:
/// another rotation copying, or a process such as a `fork()`ed child
/// holding its lock, or the rotation gave up after 64 attempts because
/// the log kept changing under it: rotate again), `SR_VALIDATION` (a dry-run handle, or a keystore file
/// name over 193 bytes or not UTF-8), `SR_KMS_INTERNAL` (the log's records
/// do not verify, a file that is not a copy of them already has the
/// archive's name — move it away, nothing is deleted —, the directory or a
/// `.partial` file cannot be read or locked, or the log cannot be locked,
/// read, written or synced, or no longer holds what its sealed checkpoint
/// covers; nothing is archived or deleted then).
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_rotate_audit_log(
    ks: *const sr_keystore,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        let out = out!(out_json);
        let r = ks.rotate_audit_log()?;
        let doc = serde_json::json!({
            "Archive": r.archive.to_string_lossy(),
            "FirstRecord": r.first_record,
            "LastRecord": r.last_record,
            "Bytes": r.bytes,
            "Sha256": r.sha256,
        });
        // SAFETY: checked non-NULL; caller promise.
        unsafe { write_json(out, &doc) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_grant_ids_and_tokens_fit_the_buffer_constants() {
        let id = sr::core::grant::new_grant_id(&[0xab; 32]);
        assert_eq!(id.len() + 1, SR_GRANT_ID_LEN);
        let token = sr::core::grant::grant_token(&[7; 32], &id).expect("token");
        assert_eq!(token.len() + 1, SR_GRANT_TOKEN_LEN);
    }
}
