//! Key management: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription,
//! Enable/DisableKey, Schedule/CancelKeyDeletion, rotation, aliases, tags.

use std::ffi::c_char;

use sr::api::{from_json_strict, CreateKeyRequest, Tag};

use crate::bytes::sr_bytes;
use crate::keystore::{handle, keystore, sr_keystore};
use crate::ptr::{c_str, opt_c_str, out, pairs, str_array, StrOut};
use crate::result::{guard, sr_result, Failure};
use crate::{json, optional};

/// Size of a buffer that holds any key ID written by `sr_create_key()`: a
/// 36-character UUID and its NUL.
pub const SR_KEY_ID_LEN: usize = 37;

/// CreateKey: creates a KMS key and copies its key ID (a UUID) into `key_id_buf`.
///
/// Parameters:
/// - `description`: NULL for none.
/// - `key_spec`: e.g. `"SYMMETRIC_DEFAULT"`; NULL for the default
///   (`SYMMETRIC_DEFAULT`). Other specs are accepted as the Rust library accepts them.
/// - `key_usage`: e.g. `"ENCRYPT_DECRYPT"`; NULL for the spec's default.
/// - `key_id_buf`/`key_id_len`: at least `SR_KEY_ID_LEN` bytes. This is
///   checked *before* the key is created: a short buffer creates nothing and
///   returns `SR_BUFFER_TOO_SMALL` with `*out_len = SR_KEY_ID_LEN`.
/// - `out_len`: receives the size used including the NUL (37).
///
/// For tags, a policy or an origin use `sr_create_key_json()`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_BUFFER_TOO_SMALL`,
/// `SR_VALIDATION` (unknown spec or usage, description too long),
/// `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated; `key_id_buf` valid for
/// `key_id_len` bytes; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_create_key(
    ks: *const sr_keystore,
    description: *const c_char,
    key_spec: *const c_char,
    key_usage: *const c_char,
    key_id_buf: *mut c_char,
    key_id_len: usize,
    out_len: *mut usize,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, description, key_spec, key_usage) = unsafe {
            (
                keystore(ks)?,
                opt_c_str(description, "description")?,
                opt_c_str(key_spec, "key_spec")?,
                opt_c_str(key_usage, "key_usage")?,
            )
        };
        let o = StrOut::new("key_id_buf", key_id_buf, key_id_len, out!(out_len))?;
        // SAFETY: caller promise for out_len.
        unsafe { o.reserve(SR_KEY_ID_LEN) }?;
        let req = CreateKeyRequest {
            description: description.map(str::to_string),
            key_spec: key_spec.map(str::parse).transpose()?,
            key_usage: key_usage.map(str::parse).transpose()?,
            ..Default::default()
        };
        let meta = ks.create_key(&req)?.key_metadata;
        // SAFETY: caller promise for the buffer.
        unsafe { o.write(&meta.key_id) }
    })
}

/// CreateKey with the full AWS request: `request_json` is a `CreateKey`
/// request document in the AWS KMS JSON shape (`{"Description": ...,
/// "KeySpec": ..., "KeyUsage": ..., "Origin": ..., "Policy": ..., "Tags":
/// [{"TagKey": ..., "TagValue": ...}]}`; `"{}"` for the defaults).
/// `*out_json` receives the response, `{"KeyMetadata": {...}}` (dates in
/// Unix seconds), as `sr_bytes` to free with `sr_bytes_free()`.
///
/// A member the request does not have, at the top or in a tag
/// (`"Keyusage"`, `"Tag"`, `"TagValu"`), is refused by name, never
/// ignored (as the AWS SDKs' "Unknown parameter in input"); so are members
/// of KMS features Strongroom does not have (`CustomKeyStoreId`,
/// `XksKeyId`). `CustomerMasterKeySpec` (the old name of `KeySpec`),
/// `BypassPolicyLockoutSafetyCheck` and `MultiRegion` are members.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`
/// (not a JSON object, malformed JSON or member, an unknown member: the
/// message names it and the accepted ones), `SR_TAG`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `request_json` NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_create_key_json(
    ks: *const sr_keystore,
    request_json: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, text) = unsafe { (keystore(ks)?, c_str(request_json, "request_json")?) };
        let out = out!(out_json);
        // serde would also read a struct from a JSON array of its members
        // in order (`[]` = every default): the request is an object.
        if !text.trim_start().starts_with('{') {
            return Err(Failure::validation(
                "CreateKey request: the request must be a JSON object",
            ));
        }
        // One parse: a member the request or one of its tags does not
        // have (`"Keyusage"`, `"TagValu"`) is refused, not dropped (the key
        // would be made without the usage or tags asked for).
        let req: CreateKeyRequest = from_json_strict(text.as_bytes(), &[])
            .map_err(|e| Failure::validation(format!("CreateKey request: {e}")))?;
        let resp = json(&ks.create_key(&req)?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

/// DescribeKey: `*out_json` receives `{"KeyMetadata": {...}}` in the AWS
/// shape (`KeyId`, `Arn`, `KeyState`, `Enabled`, `KeySpec`, `CreationDate`
/// in Unix seconds, ...), as `sr_bytes` (free with `sr_bytes_free()`).
///
/// `key_id` is a key ID, key ARN, alias name (`alias/...`) or alias ARN.
/// The handle's grant tokens (`sr_keystore_with_grant_tokens()`) are sent
/// and checked as Encrypt's are (KMS's `GrantTokens` of DescribeKey).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_INVALID_ARN`, `SR_INVALID_GRANT_TOKEN`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_describe_key(
    ks: *const sr_keystore,
    key_id: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (h, key_id) = unsafe { (handle(ks)?, c_str(key_id, "key_id")?) };
        let out = out!(out_json);
        let resp = json(
            &h.inner
                .describe_key_with_grant_tokens(key_id, &h.tokens())?,
        )?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

/// ListKeys: `*out_json` receives `{"Keys": [{"KeyId", "KeyArn"}, ...],
/// "Truncated": bool, "NextMarker": "..."}` (NextMarker only when truncated).
///
/// `limit`: 1–1000, or 0 for the default (100). `marker`: NULL, or the
/// `NextMarker` of the previous page.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
/// `SR_INVALID_MARKER`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `marker` NULL or NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_list_keys(
    ks: *const sr_keystore,
    limit: u32,
    marker: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, marker) = unsafe { (keystore(ks)?, opt_c_str(marker, "marker")?) };
        let out = out!(out_json);
        let resp = json(&ks.list_keys(optional(limit), marker)?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

/// Runs a `(ks, key_id) -> ()` operation.
///
/// # Safety
/// `ks` NULL or a live handle; `key_id` NULL or NUL-terminated.
unsafe fn key_op(
    ks: *const sr_keystore,
    key_id: *const c_char,
    op: impl FnOnce(&sr::Keystore, &str) -> sr::Result<()>,
) -> sr_result {
    guard(|| {
        // SAFETY: forwarded caller promises.
        let (ks, key_id) = unsafe { (keystore(ks)?, c_str(key_id, "key_id")?) };
        Ok(op(ks, key_id)?)
    })
}

/// UpdateKeyDescription: sets the description (`""` clears it).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_VALIDATION` (over 8192 characters), `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_update_key_description(
    ks: *const sr_keystore,
    key_id: *const c_char,
    description: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, description) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                c_str(description, "description")?,
            )
        };
        Ok(ks.update_key_description(key_id, description)?)
    })
}

/// EnableKey. Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_KMS_INVALID_STATE` (pending deletion), `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_enable_key(ks: *const sr_keystore, key_id: *const c_char) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { key_op(ks, key_id, |ks, k| ks.enable_key(k)) }
}

/// DisableKey: cryptographic operations with the key then fail with
/// `SR_DISABLED`. Errors as `sr_enable_key()`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_disable_key(
    ks: *const sr_keystore,
    key_id: *const c_char,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { key_op(ks, key_id, |ks, k| ks.disable_key(k)) }
}

/// ScheduleKeyDeletion: `pending_window_in_days` 7–30, or 0 for the default
/// (30). `*out_json` receives `{"KeyId", "DeletionDate" (Unix seconds),
/// "KeyState": "PendingDeletion", "PendingWindowInDays"}`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
/// `SR_NOT_FOUND`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_schedule_key_deletion(
    ks: *const sr_keystore,
    key_id: *const c_char,
    pending_window_in_days: u32,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id) = unsafe { (keystore(ks)?, c_str(key_id, "key_id")?) };
        let out = out!(out_json);
        let resp = json(&ks.schedule_key_deletion(key_id, optional(pending_window_in_days))?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

/// CancelKeyDeletion: the key returns to the `Disabled` state.
/// Errors as `sr_enable_key()`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_cancel_key_deletion(
    ks: *const sr_keystore,
    key_id: *const c_char,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { key_op(ks, key_id, |ks, k| ks.cancel_key_deletion(k).map(|_| ())) }
}

/// EnableKeyRotation: `rotation_period_in_days` 90–2560, or 0 for the default (365).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
/// `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
/// `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_enable_key_rotation(
    ks: *const sr_keystore,
    key_id: *const c_char,
    rotation_period_in_days: u32,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        key_op(ks, key_id, |ks, k| {
            ks.enable_key_rotation(k, optional(rotation_period_in_days))
        })
    }
}

/// DisableKeyRotation. Errors as `sr_enable_key_rotation()`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_disable_key_rotation(
    ks: *const sr_keystore,
    key_id: *const c_char,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { key_op(ks, key_id, |ks, k| ks.disable_key_rotation(k)) }
}

/// GetKeyRotationStatus: `*out_json` receives `{"KeyId",
/// "KeyRotationEnabled": bool, "RotationPeriodInDays", "NextRotationDate",
/// "OnDemandRotationStartDate"}` (the last three only when set).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_get_key_rotation_status(
    ks: *const sr_keystore,
    key_id: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id) = unsafe { (keystore(ks)?, c_str(key_id, "key_id")?) };
        let out = out!(out_json);
        let resp = json(&ks.get_key_rotation_status(key_id)?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

/// RotateKeyOnDemand: new key material now; blobs made before keep decrypting.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_DISABLED`, `SR_KMS_INVALID_STATE`, `SR_UNSUPPORTED_OPERATION`,
/// `SR_LIMIT_EXCEEDED` (more than 10 on-demand rotations), `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_rotate_key_on_demand(
    ks: *const sr_keystore,
    key_id: *const c_char,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { key_op(ks, key_id, |ks, k| ks.rotate_key_on_demand(k).map(|_| ())) }
}

/// ListKeyRotations: `*out_json` receives `{"Rotations": [{"KeyId",
/// "RotationDate", "RotationType": "AUTOMATIC"|"ON_DEMAND"}, ...],
/// "Truncated", "NextMarker"}`. `limit` 1–1000 or 0 (100); `marker` NULL or
/// the previous `NextMarker`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_list_key_rotations(
    ks: *const sr_keystore,
    key_id: *const c_char,
    limit: u32,
    marker: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, marker) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(marker, "marker")?,
            )
        };
        let out = out!(out_json);
        let resp = json(&ks.list_key_rotations(key_id, optional(limit), marker)?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

// ---- aliases ---------------------------------------------------------------

/// CreateAlias: `alias_name` (`"alias/..."`) for `target_key_id` (a key ID or
/// key ARN, not an alias).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_INVALID_ALIAS_NAME`,
/// `SR_VALIDATION`, `SR_ALREADY_EXISTS`, `SR_NOT_FOUND`,
/// `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_create_alias(
    ks: *const sr_keystore,
    alias_name: *const c_char,
    target_key_id: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, a, t) = unsafe {
            (
                keystore(ks)?,
                c_str(alias_name, "alias_name")?,
                c_str(target_key_id, "target_key_id")?,
            )
        };
        Ok(ks.create_alias(a, t)?)
    })
}

/// UpdateAlias: points an existing alias at another key of the same key
/// type (both symmetric, both asymmetric or both HMAC) and key usage, as in
/// AWS KMS; the key spec may differ. Errors as `sr_create_alias()`, with
/// `SR_NOT_FOUND` for an absent alias and `SR_VALIDATION` for a key of
/// another type or usage.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_update_alias(
    ks: *const sr_keystore,
    alias_name: *const c_char,
    target_key_id: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, a, t) = unsafe {
            (
                keystore(ks)?,
                c_str(alias_name, "alias_name")?,
                c_str(target_key_id, "target_key_id")?,
            )
        };
        Ok(ks.update_alias(a, t)?)
    })
}

/// DeleteAlias. Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
/// `SR_INVALID_ALIAS_NAME`, `SR_NOT_FOUND`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `alias_name` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_delete_alias(
    ks: *const sr_keystore,
    alias_name: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, a) = unsafe { (keystore(ks)?, c_str(alias_name, "alias_name")?) };
        Ok(ks.delete_alias(a)?)
    })
}

/// ListAliases: `*out_json` receives `{"Aliases": [{"AliasName",
/// "AliasArn", "TargetKeyId", "CreationDate", "LastUpdatedDate"}, ...],
/// "Truncated", "NextMarker"}`. `key_id`: NULL for all aliases, or only those
/// of that key. `limit` 1–100 or 0 (50); `marker` NULL or the previous `NextMarker`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_list_aliases(
    ks: *const sr_keystore,
    key_id: *const c_char,
    limit: u32,
    marker: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, marker) = unsafe {
            (
                keystore(ks)?,
                opt_c_str(key_id, "key_id")?,
                opt_c_str(marker, "marker")?,
            )
        };
        let out = out!(out_json);
        let resp = json(&ks.list_aliases(key_id, optional(limit), marker)?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

// ---- tags ------------------------------------------------------------------

/// TagResource: adds or replaces `n` tags given as parallel arrays
/// `tag_keys[i]` = `tag_values[i]` (both may be NULL when `n` is 0).
///
/// Errors: `SR_NULL_PARAMETER` (an array or element), `SR_INVALID_UTF8`,
/// `SR_VALIDATION` (a key not 1 to 128 characters or a value over 256, the
/// KMS `Tag` shape's constraints), `SR_TAG` (an `aws:` key, over 50 tags),
/// `SR_NOT_FOUND`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; when `n > 0` both arrays
/// valid for `n` elements, each a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn sr_tag_resource(
    ks: *const sr_keystore,
    key_id: *const c_char,
    tag_keys: *const *const c_char,
    tag_values: *const *const c_char,
    n: usize,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, p) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                pairs(tag_keys, tag_values, n, "tag_keys", "tag_values")?,
            )
        };
        let tags: Vec<Tag> = p
            .into_iter()
            .map(|(k, v)| Tag {
                tag_key: k.to_string(),
                tag_value: v.to_string(),
            })
            .collect();
        Ok(ks.tag_resource(key_id, &tags)?)
    })
}

/// UntagResource: removes the `n` tags named in `tag_keys` (absent ones are
/// ignored; `tag_keys` may be NULL when `n` is 0).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (a key
/// not 1 to 128 characters), `SR_NOT_FOUND`, `SR_KMS_INVALID_STATE`,
/// `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; `tag_keys` valid for `n`
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn sr_untag_resource(
    ks: *const sr_keystore,
    key_id: *const c_char,
    tag_keys: *const *const c_char,
    n: usize,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, keys) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                str_array(tag_keys, n, "tag_keys")?,
            )
        };
        let keys: Vec<String> = keys.into_iter().map(str::to_string).collect();
        Ok(ks.untag_resource(key_id, &keys)?)
    })
}

/// ListResourceTags: `*out_json` receives `{"Tags": [{"TagKey",
/// "TagValue"}, ...], "Truncated", "NextMarker"}`. `limit` 1–50 or 0 (50);
/// `marker` NULL or the previous `NextMarker`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_VALIDATION`, `SR_INVALID_MARKER`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_list_resource_tags(
    ks: *const sr_keystore,
    key_id: *const c_char,
    limit: u32,
    marker: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, marker) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(marker, "marker")?,
            )
        };
        let out = out!(out_json);
        let resp = json(&ks.list_resource_tags(key_id, optional(limit), marker)?)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}
