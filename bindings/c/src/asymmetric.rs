//! Asymmetric and HMAC keys: Sign, Verify, GetPublicKey, GenerateMac,
//! VerifyMac, GenerateDataKeyPair(WithoutPlaintext), and importing key
//! material (GetParametersForImport, ImportKeyMaterial,
//! DeleteImportedKeyMaterial). Raw bytes in and out; algorithm and spec
//! names are the AWS KMS spellings.

use std::ffi::c_char;

use serde::de::DeserializeOwned;
use sr::api::{
    DeriveSharedSecretRequest, GenerateDataKeyPairRequest, GenerateMacRequest,
    GetParametersForImportRequest, ImportKeyMaterialRequest, SignRequest, VerifyMacRequest,
    VerifyRequest,
};
use sr::core::asym::{MAX_MESSAGE, MAX_PUBLIC_KEY};
use sr::Secret;

use crate::bytes::sr_bytes;
use crate::json;
use crate::keystore::{handle, keystore, sr_keystore};
use crate::ptr::{bytes_at_most, c_str, context, distinct, opt_c_str, out, MAX_KMS_BLOB};
use crate::result::{guard, sr_result, Failure};

/// An AWS KMS enum value (`"RSASSA_PSS_SHA_256"`, `"HMAC_SHA_256"`, ...) from its spelling.
fn kms_enum<T: DeserializeOwned>(s: Option<&str>, what: &str) -> Result<Option<T>, Failure> {
    s.map(|s| {
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|e| Failure::validation(format!("{what}: {e}")))
    })
    .transpose()
}

/// Sign: signs `message` (or, with `message_type` `"DIGEST"`, a digest)
/// with an asymmetric `SIGN_VERIFY` key; `*out_signature` receives the
/// signature (RSA: modulus length; ECDSA: DER `ECDSA-Sig-Value`).
///
/// `message`: 1 to 4096 bytes (a longer `message_len` is `SR_VALIDATION`
/// before `message` is read); for `"DIGEST"`, the digest's length.
/// `message_type`: NULL or `"RAW"`, or `"DIGEST"`. `signing_algorithm`: e.g.
/// `"ECDSA_SHA_256"`, `"RSASSA_PSS_SHA_256"` (required by KMS; NULL lets the
/// library report `SR_VALIDATION`).
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
/// `ks` a live handle; strings NULL or NUL-terminated as documented;
/// `message` valid for `message_len` bytes; `out_signature` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_sign(
    ks: *const sr_keystore,
    key_id: *const c_char,
    message: *const u8,
    message_len: usize,
    message_type: *const c_char,
    signing_algorithm: *const c_char,
    out_signature: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, msg, mt, alg) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                bytes_at_most(message, message_len, "message", MAX_MESSAGE)?,
                opt_c_str(message_type, "message_type")?,
                opt_c_str(signing_algorithm, "signing_algorithm")?,
            )
        };
        let out = out!(out_signature);
        let resp = ks.inner.sign(&SignRequest {
            grant_tokens: ks.tokens(),
            key_id: key_id.to_string(),
            message: Secret::from_slice(msg),
            message_type: kms_enum(mt, "MessageType")?,
            signing_algorithm: kms_enum(alg, "SigningAlgorithm")?,
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&resp.signature)) };
        Ok(())
    })
}

/// Verify: `SR_OK` when `signature` is valid for `message` under the key's
/// public key; `SR_KMS_INVALID_SIGNATURE` when it is not. Parameters as
/// `sr_sign()`; `signature` 1 to 6144 bytes (KMS; an empty or longer one
/// is `SR_VALIDATION`, a longer one before it is read).
///
/// Errors: as `sr_sign()`, and `SR_KMS_INVALID_SIGNATURE`.
///
/// # Safety
/// As `sr_sign()`; `signature` valid for `signature_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_verify(
    ks: *const sr_keystore,
    key_id: *const c_char,
    message: *const u8,
    message_len: usize,
    message_type: *const c_char,
    signature: *const u8,
    signature_len: usize,
    signing_algorithm: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, msg, mt, sig, alg) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                bytes_at_most(message, message_len, "message", MAX_MESSAGE)?,
                opt_c_str(message_type, "message_type")?,
                bytes_at_most(signature, signature_len, "signature", MAX_KMS_BLOB)?,
                opt_c_str(signing_algorithm, "signing_algorithm")?,
            )
        };
        ks.inner.verify(&VerifyRequest {
            grant_tokens: ks.tokens(),
            key_id: key_id.to_string(),
            message: Secret::from_slice(msg),
            message_type: kms_enum(mt, "MessageType")?,
            signature: sig.to_vec(),
            signing_algorithm: kms_enum(alg, "SigningAlgorithm")?,
        })?;
        Ok(())
    })
}

/// GetPublicKey: `*out_public_key` receives the DER SubjectPublicKeyInfo
/// (RFC 5280) of an asymmetric key. `key_id` is a key ID, key ARN, alias
/// name or alias ARN. The handle's grant tokens
/// (`sr_keystore_with_grant_tokens()`) are sent and checked as Encrypt's are.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_DISABLED`, `SR_KMS_INVALID_STATE`, `SR_UNSUPPORTED_OPERATION`
/// (symmetric or HMAC key), `SR_INVALID_GRANT_TOKEN`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; `out_public_key` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_get_public_key(
    ks: *const sr_keystore,
    key_id: *const c_char,
    out_public_key: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (h, key_id) = unsafe { (handle(ks)?, c_str(key_id, "key_id")?) };
        let out = out!(out_public_key);
        let resp = h
            .inner
            .get_public_key_with_grant_tokens(key_id, &h.tokens())?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&resp.public_key)) };
        Ok(())
    })
}

/// DeriveSharedSecret: `*out_shared_secret` receives the raw ECDH shared
/// secret (the x-coordinate of the shared point: 32 bytes on P-256, 48 on
/// P-384, 66 on P-521) of the NIST ECC `KEY_AGREEMENT` key `key_id` and the peer's
/// `public_key`, a DER SubjectPublicKeyInfo (RFC 5280) on the same curve
/// (1 to 8192 bytes; an empty one is `SR_VALIDATION`, and a longer
/// `public_key_len` too, before it is read).
/// The secret is zeroized by `sr_bytes_free()`.
///
/// `key_agreement_algorithm`: `"ECDH"` (required by KMS; NULL lets the
/// library report `SR_VALIDATION`). The handle's grant tokens are sent.
/// KMS's `Recipient` (Nitro Enclaves attestation) is not offered.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (no
/// algorithm; `public_key` not DER SPKI, not an EC key, on another curve,
/// or not a valid point), `SR_NOT_FOUND`, `SR_DISABLED`,
/// `SR_KMS_INVALID_STATE`, `SR_INVALID_KEY_USAGE` (not a `KEY_AGREEMENT`
/// key), `SR_ACCESS_DENIED`, `SR_INVALID_GRANT_TOKEN`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated as documented;
/// `public_key` valid for `public_key_len` bytes; `out_shared_secret`
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_derive_shared_secret(
    ks: *const sr_keystore,
    key_id: *const c_char,
    key_agreement_algorithm: *const c_char,
    public_key: *const u8,
    public_key_len: usize,
    out_shared_secret: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, alg, public_key) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(key_agreement_algorithm, "key_agreement_algorithm")?,
                bytes_at_most(public_key, public_key_len, "public_key", MAX_PUBLIC_KEY)?,
            )
        };
        let out = out!(out_shared_secret);
        let resp = ks.inner.derive_shared_secret(&DeriveSharedSecretRequest {
            grant_tokens: ks.tokens(),
            key_id: key_id.to_string(),
            key_agreement_algorithm: kms_enum(alg, "KeyAgreementAlgorithm")?,
            public_key: public_key.to_vec(),
            recipient: None,
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(resp.shared_secret.expose_secret())) };
        Ok(())
    })
}

/// GenerateMac: `*out_mac` receives the HMAC of `message` (1–4096 bytes; a
/// longer `message_len` is `SR_VALIDATION` before `message` is read) under
/// an HMAC key. `mac_algorithm`: e.g. `"HMAC_SHA_256"`.
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
/// `ks` a live handle; strings NUL-terminated; `message` valid for
/// `message_len` bytes; `out_mac` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_generate_mac(
    ks: *const sr_keystore,
    key_id: *const c_char,
    message: *const u8,
    message_len: usize,
    mac_algorithm: *const c_char,
    out_mac: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, msg, alg) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                bytes_at_most(message, message_len, "message", MAX_MESSAGE)?,
                opt_c_str(mac_algorithm, "mac_algorithm")?,
            )
        };
        let out = out!(out_mac);
        let resp = ks.inner.generate_mac(&GenerateMacRequest {
            grant_tokens: ks.tokens(),
            key_id: key_id.to_string(),
            message: Secret::from_slice(msg),
            mac_algorithm: kms_enum(alg, "MacAlgorithm")?,
        })?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&resp.mac)) };
        Ok(())
    })
}

/// VerifyMac: `SR_OK` when `mac` is the HMAC of `message`;
/// `SR_KMS_INVALID_MAC` when it is not. Parameters as `sr_generate_mac()`;
/// `mac` 1 to 6144 bytes (KMS; an empty or longer one is `SR_VALIDATION`, a
/// longer one before it is read).
///
/// Errors: as `sr_generate_mac()`, and `SR_KMS_INVALID_MAC`.
///
/// # Safety
/// As `sr_generate_mac()`; `mac` valid for `mac_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn sr_verify_mac(
    ks: *const sr_keystore,
    key_id: *const c_char,
    message: *const u8,
    message_len: usize,
    mac_algorithm: *const c_char,
    mac: *const u8,
    mac_len: usize,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, msg, alg, mac) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                bytes_at_most(message, message_len, "message", MAX_MESSAGE)?,
                opt_c_str(mac_algorithm, "mac_algorithm")?,
                bytes_at_most(mac, mac_len, "mac", MAX_KMS_BLOB)?,
            )
        };
        ks.inner.verify_mac(&VerifyMacRequest {
            grant_tokens: ks.tokens(),
            key_id: key_id.to_string(),
            message: Secret::from_slice(msg),
            mac_algorithm: kms_enum(alg, "MacAlgorithm")?,
            mac: mac.to_vec(),
        })?;
        Ok(())
    })
}

/// GenerateDataKeyPair: a fresh key pair of `key_pair_spec` (e.g.
/// `"ECC_NIST_P256"`, `"RSA_2048"`): `*out_public_key` (DER
/// SubjectPublicKeyInfo), `*out_private_key` (PKCS#8 DER; secret, zeroized
/// by `sr_bytes_free()`) and `*out_private_key_blob` (the private key
/// encrypted under the symmetric key `key_id` with the context; decrypt with
/// `sr_decrypt()`). All three are written on success, none on failure.
///
/// Errors: `SR_VALIDATION` (spec; two outputs the same `sr_bytes`, refused
/// before the call runs), and those of `sr_encrypt()`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated; context arrays valid for
/// `ctx_len` strings; outputs valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_generate_data_key_pair(
    ks: *const sr_keystore,
    key_id: *const c_char,
    key_pair_spec: *const c_char,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    out_public_key: *mut sr_bytes,
    out_private_key: *mut sr_bytes,
    out_private_key_blob: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, spec, ctx) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(key_pair_spec, "key_pair_spec")?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            )
        };
        let (o_pub, o_priv, o_blob) = (
            out!(out_public_key),
            out!(out_private_key),
            out!(out_private_key_blob),
        );
        distinct(&[
            ("out_public_key", &o_pub),
            ("out_private_key", &o_priv),
            ("out_private_key_blob", &o_blob),
        ])?;
        let resp = ks
            .inner
            .generate_data_key_pair(&GenerateDataKeyPairRequest {
                grant_tokens: ks.tokens(),
                key_id: key_id.to_string(),
                key_pair_spec: kms_enum(spec, "KeyPairSpec")?,
                encryption_context: ctx,
            })?;
        // SAFETY: checked non-NULL; caller promises.
        unsafe {
            o_pub.write(sr_bytes::copy_of(&resp.public_key));
            o_priv.write(sr_bytes::copy_of(
                resp.private_key_plaintext.expose_secret(),
            ));
            o_blob.write(sr_bytes::copy_of(&resp.private_key_ciphertext_blob));
        }
        Ok(())
    })
}

/// GenerateDataKeyPairWithoutPlaintext: as `sr_generate_data_key_pair()`
/// without the plaintext private key.
///
/// Errors: as `sr_generate_data_key_pair()`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// As `sr_generate_data_key_pair()`.
#[no_mangle]
pub unsafe extern "C" fn sr_generate_data_key_pair_without_plaintext(
    ks: *const sr_keystore,
    key_id: *const c_char,
    key_pair_spec: *const c_char,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    out_public_key: *mut sr_bytes,
    out_private_key_blob: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (ks, key_id, spec, ctx) = unsafe {
            (
                handle(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(key_pair_spec, "key_pair_spec")?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            )
        };
        let (o_pub, o_blob) = (out!(out_public_key), out!(out_private_key_blob));
        distinct(&[
            ("out_public_key", &o_pub),
            ("out_private_key_blob", &o_blob),
        ])?;
        let resp =
            ks.inner
                .generate_data_key_pair_without_plaintext(&GenerateDataKeyPairRequest {
                    grant_tokens: ks.tokens(),
                    key_id: key_id.to_string(),
                    key_pair_spec: kms_enum(spec, "KeyPairSpec")?,
                    encryption_context: ctx,
                })?;
        // SAFETY: checked non-NULL; caller promises.
        unsafe {
            o_pub.write(sr_bytes::copy_of(&resp.public_key));
            o_blob.write(sr_bytes::copy_of(&resp.private_key_ciphertext_blob));
        }
        Ok(())
    })
}

/// GetParametersForImport for a key created with origin `EXTERNAL`
/// (`sr_create_key_json()` with `{"Origin":"EXTERNAL"}`): `*out_json`
/// receives `{"KeyId", "ImportToken" (base64), "PublicKey" (base64 DER
/// SubjectPublicKeyInfo), "ParametersValidTo"}`. `wrapping_algorithm` (e.g.
/// `"RSAES_OAEP_SHA_256"`) and `wrapping_key_spec` (e.g. `"RSA_2048"`) as in KMS.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
/// `SR_NOT_FOUND`, `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NULL or NUL-terminated; `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_get_parameters_for_import(
    ks: *const sr_keystore,
    key_id: *const c_char,
    wrapping_algorithm: *const c_char,
    wrapping_key_spec: *const c_char,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, alg, spec) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                opt_c_str(wrapping_algorithm, "wrapping_algorithm")?,
                opt_c_str(wrapping_key_spec, "wrapping_key_spec")?,
            )
        };
        let out = out!(out_json);
        let resp = json(
            &ks.get_parameters_for_import(&GetParametersForImportRequest {
                key_id: key_id.to_string(),
                wrapping_algorithm: kms_enum(alg, "WrappingAlgorithm")?,
                wrapping_key_spec: kms_enum(spec, "WrappingKeySpec")?,
            })?,
        )?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(resp) };
        Ok(())
    })
}

/// ImportKeyMaterial: imports `encrypted_key_material` (wrapped under the
/// public key from `sr_get_parameters_for_import()`) with its
/// `import_token` (each 1 to 6144 bytes, as KMS; an empty or longer one is
/// `SR_VALIDATION`, a longer one before it is read). `valid_to`: Unix seconds when the material expires,
/// or 0 for `KEY_MATERIAL_DOES_NOT_EXPIRE`.
///
/// KMS's `ImportType` is omitted (either kind of import, as the key
/// requires); `sr_import_key_material_with_type()` sends one.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION`,
/// `SR_NOT_FOUND`, `SR_INVALID_IMPORT_TOKEN`, `SR_EXPIRED_IMPORT_TOKEN`,
/// `SR_INCORRECT_KEY_MATERIAL`, `SR_INVALID_CIPHERTEXT`,
/// `SR_UNSUPPORTED_OPERATION`, `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated; byte arrays valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn sr_import_key_material(
    ks: *const sr_keystore,
    key_id: *const c_char,
    import_token: *const u8,
    import_token_len: usize,
    encrypted_key_material: *const u8,
    encrypted_key_material_len: usize,
    valid_to: u64,
) -> sr_result {
    // SAFETY: the caller's promises, passed on; no import type.
    unsafe {
        sr_import_key_material_with_type(
            ks,
            key_id,
            import_token,
            import_token_len,
            encrypted_key_material,
            encrypted_key_material_len,
            valid_to,
            std::ptr::null(),
        )
    }
}

/// ImportKeyMaterial with KMS's `ImportType`: as
/// `sr_import_key_material()`, and `import_type` is NULL (omitted),
/// `"NEW_KEY_MATERIAL"` (only on the key's first import) or
/// `"EXISTING_KEY_MATERIAL"` (only once material was imported: the same
/// material again). Added after ABI 0.1.0; `sr_import_key_material()` keeps
/// its signature.
///
/// Errors: those of `sr_import_key_material()`; an unknown `import_type` is
/// `SR_VALIDATION`, `"EXISTING_KEY_MATERIAL"` on a key that never had
/// material `SR_INCORRECT_KEY_MATERIAL`, `"NEW_KEY_MATERIAL"` after the
/// first import `SR_UNSUPPORTED_OPERATION`.
///
/// # Safety
/// As `sr_import_key_material()`; `import_type` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_import_key_material_with_type(
    ks: *const sr_keystore,
    key_id: *const c_char,
    import_token: *const u8,
    import_token_len: usize,
    encrypted_key_material: *const u8,
    encrypted_key_material_len: usize,
    valid_to: u64,
    import_type: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id, token, material) = unsafe {
            (
                keystore(ks)?,
                c_str(key_id, "key_id")?,
                bytes_at_most(import_token, import_token_len, "import_token", MAX_KMS_BLOB)?,
                bytes_at_most(
                    encrypted_key_material,
                    encrypted_key_material_len,
                    "encrypted_key_material",
                    MAX_KMS_BLOB,
                )?,
            )
        };
        // SAFETY: caller promises.
        let import_type = unsafe { opt_c_str(import_type, "import_type")? };
        let expires = valid_to != 0;
        Ok(ks.import_key_material(&ImportKeyMaterialRequest {
            key_id: key_id.to_string(),
            import_token: token.to_vec(),
            encrypted_key_material: material.to_vec(),
            valid_to: expires.then_some(valid_to),
            expiration_model: kms_enum(
                Some(if expires {
                    "KEY_MATERIAL_EXPIRES"
                } else {
                    "KEY_MATERIAL_DOES_NOT_EXPIRE"
                }),
                "ExpirationModel",
            )?,
            import_type: kms_enum(import_type, "ImportType")?,
        })?)
    })
}

/// DeleteImportedKeyMaterial: the key becomes `PendingImport`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND`,
/// `SR_UNSUPPORTED_OPERATION` (key not of origin `EXTERNAL`),
/// `SR_KMS_INVALID_STATE`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `key_id` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_delete_imported_key_material(
    ks: *const sr_keystore,
    key_id: *const c_char,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises.
        let (ks, key_id) = unsafe { (keystore(ks)?, c_str(key_id, "key_id")?) };
        Ok(ks.delete_imported_key_material(key_id)?)
    })
}
