//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom. Raw bytes in, raw
//! bytes out.

use std::ffi::c_char;

use sr::api::{DecryptRequest, EncryptRequest, GenerateDataKeyRequest, ReEncryptRequest};
use sr::core::blob::MAX_BLOB_LEN;
use sr::core::ops::MAX_PLAINTEXT;
use sr::Secret;

use crate::bytes::sr_bytes;
use crate::keystore::{handle, keystore, sr_keystore};
use crate::optional;
use crate::ptr::{bytes_at_most, c_str, context, distinct, opt_c_str, out};
use crate::result::{guard, sr_result};

/// Encrypt: encrypts `plaintext_len` (1–4096) bytes under a symmetric KMS
/// key, binding the encryption context, and returns the ciphertext blob in
/// `*out_blob` (free with `sr_bytes_free()`).
///
/// Parameters:
/// - `key_id`: key ID, key ARN, alias name or alias ARN.
/// - `plaintext`: may be NULL only when `plaintext_len` is 0 (which fails
///   with `SR_VALIDATION`, as KMS does). A `plaintext_len` over 4096 is
///   `SR_VALIDATION` before `plaintext` is read.
/// - `ctx_keys`, `ctx_values`, `ctx_len`: the encryption context as parallel
///   arrays of NUL-terminated UTF-8 strings (`ctx_keys[i]` = `ctx_values[i]`);
///   both may be NULL when `ctx_len` is 0. The same pairs, in any order, are
///   needed to decrypt.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
/// `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
/// `SR_INVALID_KEY_USAGE`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; `plaintext` valid for
/// `plaintext_len` bytes; context arrays valid for `ctx_len` strings;
/// `out_blob` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_encrypt(
    ks: *const sr_keystore,
    key_id: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    out_blob: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, pt, ctx) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                bytes_at_most(plaintext, plaintext_len, "plaintext", MAX_PLAINTEXT)?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            )
        };
        let out = out!(out_blob);
        let resp = ks.inner.encrypt(&EncryptRequest {
            grant_tokens: ks.tokens(),
            key_id: key_id.to_string(),
            plaintext: Secret::from_slice(pt),
            encryption_context: ctx,
            ..Default::default()
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&resp.ciphertext_blob)) };
        Ok(())
    })
}

/// Decrypt: decrypts a ciphertext blob made by `sr_encrypt()`,
/// `sr_re_encrypt()` or `sr_generate_data_key()` (or by the CLI, Python or
/// Rust) and returns the plaintext in `*out_plaintext` (secret: free with
/// `sr_bytes_free()`, which zeroizes it).
///
/// Parameters:
/// - `blob`, `blob_len`: the ciphertext blob, 1 to 6144 bytes (`blob` may be
///   NULL when `blob_len` is 0; a longer `blob_len` is `SR_VALIDATION`
///   before `blob` is read).
/// - context arrays: exactly the pairs given to encrypt (order does not matter).
/// - `key_id`: NULL to use the key named in the blob; otherwise it must name
///   that key (key ID, ARN or alias) or the call fails with `SR_INCORRECT_KEY`.
///
/// Errors: `SR_INVALID_CIPHERTEXT` (every authentication failure: wrong
/// context, flipped bit, truncation, unknown key; detail-free by design, and
/// no plaintext is released), `SR_INCORRECT_KEY`, `SR_DISABLED`,
/// `SR_KMS_INVALID_STATE`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
/// `SR_VALIDATION`, `SR_NOT_FOUND` (for `key_id`), `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `blob` valid for `blob_len` bytes; context arrays
/// valid for `ctx_len` strings; `key_id` NULL or NUL-terminated;
/// `out_plaintext` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_decrypt(
    ks: *const sr_keystore,
    blob: *const u8,
    blob_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    key_id: *const c_char,
    out_plaintext: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, blob, ctx, key_id) = unsafe {
            (
                handle(ks)?,
                bytes_at_most(blob, blob_len, "blob", MAX_BLOB_LEN)?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
                opt_c_str(key_id, "key_id")?,
            )
        };
        let out = out!(out_plaintext);
        let resp = ks.inner.decrypt(&DecryptRequest {
            grant_tokens: ks.tokens(),
            ciphertext_blob: blob.to_vec(),
            encryption_context: ctx,
            key_id: key_id.map(str::to_string),
            ..Default::default()
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(resp.plaintext.expose_secret())) };
        Ok(())
    })
}

/// ReEncrypt: decrypts `blob` under its key and the source context, and
/// encrypts the plaintext under `destination_key_id` and the destination
/// context, without releasing the plaintext. `*out_blob` receives the new
/// blob (free with `sr_bytes_free()`).
///
/// `source_key_id`: NULL, or the key that must have made `blob`. Context
/// arrays as in `sr_encrypt()`; each pair of arrays may be NULL when its
/// length is 0.
///
/// Errors: those of `sr_decrypt()` for the source and of `sr_encrypt()` for
/// the destination.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// As `sr_decrypt()` and `sr_encrypt()`.
#[no_mangle]
pub unsafe extern "C" fn sr_re_encrypt(
    ks: *const sr_keystore,
    blob: *const u8,
    blob_len: usize,
    source_ctx_keys: *const *const c_char,
    source_ctx_values: *const *const c_char,
    source_ctx_len: usize,
    source_key_id: *const c_char,
    destination_key_id: *const c_char,
    destination_ctx_keys: *const *const c_char,
    destination_ctx_values: *const *const c_char,
    destination_ctx_len: usize,
    out_blob: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, blob, src_ctx, src_key, dst_key, dst_ctx) = unsafe {
            (
                handle(ks)?,
                bytes_at_most(blob, blob_len, "blob", MAX_BLOB_LEN)?,
                context(
                    source_ctx_keys,
                    source_ctx_values,
                    source_ctx_len,
                    "source_ctx_keys",
                    "source_ctx_values",
                )?,
                opt_c_str(source_key_id, "source_key_id")?,
                c_str(destination_key_id, "destination_key_id")?,
                context(
                    destination_ctx_keys,
                    destination_ctx_values,
                    destination_ctx_len,
                    "destination_ctx_keys",
                    "destination_ctx_values",
                )?,
            )
        };
        let out = out!(out_blob);
        let resp = ks.inner.re_encrypt(&ReEncryptRequest {
            grant_tokens: ks.tokens(),
            ciphertext_blob: blob.to_vec(),
            source_encryption_context: src_ctx,
            source_key_id: src_key.map(str::to_string),
            destination_key_id: dst_key.to_string(),
            destination_encryption_context: dst_ctx,
            ..Default::default()
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&resp.ciphertext_blob)) };
        Ok(())
    })
}

/// The GenerateDataKey request from C arguments.
///
/// # Safety
/// As `sr_generate_data_key()`.
unsafe fn data_key_request(
    key_id: *const c_char,
    key_spec: *const c_char,
    number_of_bytes: u32,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
) -> Result<GenerateDataKeyRequest, crate::result::Failure> {
    // SAFETY: forwarded caller promises.
    let (key_id, key_spec, ctx) = unsafe {
        (
            c_str(key_id, "key_id")?,
            opt_c_str(key_spec, "key_spec")?,
            context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
        )
    };
    Ok(GenerateDataKeyRequest {
        key_id: key_id.to_string(),
        key_spec: key_spec.map(str::parse).transpose()?,
        number_of_bytes: optional(number_of_bytes),
        encryption_context: ctx,
        ..Default::default()
    })
}

/// GenerateDataKey: a fresh data key, returned in plaintext in
/// `*out_plaintext` (secret: free with `sr_bytes_free()`, which zeroizes it)
/// and encrypted under `key_id` in `*out_blob` (decrypt it later with
/// `sr_decrypt()` and the same context).
///
/// Give exactly one of `key_spec` (`"AES_256"` or `"AES_128"`; NULL for
/// none) and `number_of_bytes` (1–1024; 0 for none). Context arrays as in
/// `sr_encrypt()`. Both outputs are written on success, neither on failure.
///
/// Errors: `SR_VALIDATION` (neither or both of key_spec/number_of_bytes;
/// `out_plaintext` and `out_blob` the same `sr_bytes`, refused before the
/// call runs), and those of `sr_encrypt()`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented;
/// context arrays valid for `ctx_len` strings; both outputs valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_generate_data_key(
    ks: *const sr_keystore,
    key_id: *const c_char,
    key_spec: *const c_char,
    number_of_bytes: u32,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    out_plaintext: *mut sr_bytes,
    out_blob: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, req) = unsafe {
            (
                handle(ks)?,
                data_key_request(
                    key_id,
                    key_spec,
                    number_of_bytes,
                    ctx_keys,
                    ctx_values,
                    ctx_len,
                )?,
            )
        };
        let (out_pt, out_blob) = (out!(out_plaintext), out!(out_blob));
        distinct(&[("out_plaintext", &out_pt), ("out_blob", &out_blob)])?;
        let resp = ks.inner.generate_data_key(&GenerateDataKeyRequest {
            grant_tokens: ks.tokens(),
            ..req
        })?;
        // SAFETY: checked non-NULL; caller promises.
        unsafe {
            out_pt.write(sr_bytes::copy_of(resp.plaintext.expose_secret()));
            out_blob.write(sr_bytes::copy_of(&resp.ciphertext_blob));
        }
        Ok(())
    })
}

/// GenerateDataKeyWithoutPlaintext: as `sr_generate_data_key()` but only the
/// encrypted data key is returned, in `*out_blob`.
///
/// Errors: as `sr_generate_data_key()`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// As `sr_generate_data_key()`.
#[no_mangle]
pub unsafe extern "C" fn sr_generate_data_key_without_plaintext(
    ks: *const sr_keystore,
    key_id: *const c_char,
    key_spec: *const c_char,
    number_of_bytes: u32,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    out_blob: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, req) = unsafe {
            (
                handle(ks)?,
                data_key_request(
                    key_id,
                    key_spec,
                    number_of_bytes,
                    ctx_keys,
                    ctx_values,
                    ctx_len,
                )?,
            )
        };
        let out = out!(out_blob);
        let resp = ks
            .inner
            .generate_data_key_without_plaintext(&GenerateDataKeyRequest {
                grant_tokens: ks.tokens(),
                ..req
            })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&resp.ciphertext_blob)) };
        Ok(())
    })
}

/// GenerateRandom: `number_of_bytes` (1–1024) bytes from the operating
/// system's CSPRNG in `*out_random` (free with `sr_bytes_free()`).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_VALIDATION`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `out_random` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_generate_random(
    ks: *const sr_keystore,
    number_of_bytes: u32,
    out_random: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        let out = out!(out_random);
        let resp = ks.generate_random(number_of_bytes)?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(resp.plaintext.expose_secret())) };
        Ok(())
    })
}
