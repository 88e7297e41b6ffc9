//! One-call envelope encryption (bytes in, bytes out) over the facade's
//! `strongroom::envelope::encrypt_message*` / `decrypt_message*`: the same
//! keyrings, options and message as the streaming functions of
//! `envelope.rs`, with the whole message or plaintext in memory. The output
//! is an `sr_bytes` or a caller buffer with a size query.

use std::ffi::c_char;

use sr::core::envelope::{plaintext_len, DecryptOptions, Keyring};
use sr::envelope::{self as env, SliceMessage};
use sr::EncryptionContext;
use zeroize::Zeroizing;

use crate::bytes::sr_bytes;
use crate::envelope::{
    decrypt_options_from, encrypt_options, kms_keyring, raw_aes, sr_envelope_decrypt_options,
};
use crate::keystore::sr_keystore;
use crate::ptr::{bytes, context, non_null, out, Out};
use crate::result::{guard, sr_result, Failure};

/// A caller buffer for bytes (`buf`, `len`) and its `out_len`; `buf` may be
/// NULL only with `len` 0 (a size query).
struct BufOut {
    buf: *mut u8,
    len: usize,
    out_len: Out<usize>,
}

impl BufOut {
    /// Checks the pointers (`out_len` first: a NULL one fails before any
    /// work) and that `len` can be a slice's length (at most `isize::MAX`).
    fn new(buf: *mut u8, len: usize, out_len: *mut usize) -> Result<Self, Failure> {
        let out_len = Out::new(non_null!(out_len));
        if buf.is_null() && len != 0 {
            return Err(Failure::null("buf"));
        }
        if len > isize::MAX as usize {
            return Err(Failure::validation("`len` is too large"));
        }
        Ok(BufOut { buf, len, out_len })
    }

    /// `SR_VALIDATION` if `buf` shares a byte with `input` (the call's
    /// plaintext or message, named `name`): checked before any key is used,
    /// since writing the output would overwrite the input being read.
    fn check_disjoint(&self, input: &[u8], name: &str) -> Result<(), Failure> {
        let (b, i) = (self.buf as usize, input.as_ptr() as usize);
        if self.len != 0 && !input.is_empty() && b < i + input.len() && i < b + self.len {
            return Err(Failure::validation(format!(
                "buffer `buf` overlaps `{name}`: use a separate buffer"
            )));
        }
        Ok(())
    }

    /// Reports `needed` bytes in `*out_len` and fails with
    /// `SR_BUFFER_TOO_SMALL`.
    ///
    /// # Safety
    /// `out_len` valid for a write.
    unsafe fn too_small(self, needed: usize) -> Failure {
        // SAFETY: caller promise.
        unsafe { self.out_len.write(needed) };
        Failure::too_small("buf", needed)
    }

    /// The buffer as a slice.
    ///
    /// # Safety
    /// `buf` valid for `len` bytes of writes, not overlapping any input of
    /// the call (checked with `check_disjoint`), for `'a`.
    unsafe fn slice<'a>(&self) -> &'a mut [u8] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: non-NULL and at most isize::MAX bytes (checked in `new`
        // since len > 0), and the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.buf, self.len) }
    }
}

/// Where a one-call function writes its output.
enum Output {
    /// A new `sr_bytes`.
    Bytes(Out<sr_bytes>),
    /// A caller buffer.
    Buf(BufOut),
}

impl Output {
    /// `SR_VALIDATION` if a caller buffer overlaps `input` (see
    /// [`BufOut::check_disjoint`]).
    fn check_disjoint(&self, input: &[u8], name: &str) -> Result<(), Failure> {
        match self {
            Output::Bytes(_) => Ok(()),
            Output::Buf(out) => out.check_disjoint(input, name),
        }
    }
}

/// Encrypts `plaintext` to `out`: to a new `sr_bytes` built in one exact
/// allocation (no copy), or into a caller buffer in place, with the size
/// checked once the keyring has run.
///
/// # Safety
/// The pointers of `out` valid as their functions document.
unsafe fn encrypt_to(
    keyring: &dyn Keyring,
    ctx: &EncryptionContext,
    (frame_length, suite_id): (u32, u16),
    plaintext: &[u8],
    out: Output,
) -> Result<(), Failure> {
    out.check_disjoint(plaintext, "plaintext")?;
    let options = encrypt_options(frame_length, suite_id)?;
    let out = match out {
        Output::Bytes(out) => {
            let mut message = Vec::new();
            env::encrypt_message_into(keyring, plaintext, ctx, &options, &mut message)?;
            let message = sr_bytes::try_from_public(message)?;
            // SAFETY: checked non-NULL; the caller promises it is writable.
            unsafe { out.write(message) };
            return Ok(());
        }
        Output::Buf(out) => out,
    };
    // SAFETY: forwarded caller promise; disjoint from `plaintext` (checked).
    let buf = unsafe { out.slice() };
    match env::encrypt_message_into_slice(keyring, plaintext, ctx, &options, buf)? {
        // SAFETY: forwarded caller promise.
        SliceMessage::Written(summary) => unsafe {
            out.out_len.write(summary.message_len as usize)
        },
        // SAFETY: forwarded caller promise.
        SliceMessage::TooSmall { needed } => return Err(unsafe { out.too_small(needed) }),
    }
    Ok(())
}

/// Decrypts `message` to `out`, released only once the whole message has
/// authenticated.
///
/// - A new `sr_bytes`: one allocation of the exact plaintext and its
///   trailing NUL (the length read from the message's framing), decrypted
///   in place and handed over without a copy; wiped and freed on failure.
/// - A caller buffer that can hold the plaintext: decrypted in place in
///   it; on failure the bytes written are overwritten with zeros.
/// - A caller buffer too small (or a size query): decrypted into the
///   library's memory (wiped), so that a message that fails is reported as
///   such, then `SR_BUFFER_TOO_SMALL` with the exact length.
///
/// The options' frame length limit (`max_content_buffer`, 256 MiB, which
/// bounds what a stream buffers) is lifted: the whole message is in memory
/// already, the decryption never holds more than it, and every frame length
/// (up to 2^32 − 1, as other writers may use) must decrypt.
///
/// # Safety
/// The pointers of `out` valid as their functions document.
unsafe fn decrypt_to(
    keyring: &dyn Keyring,
    (options, unsigned_only): &(DecryptOptions, bool),
    message: &[u8],
    out: Output,
) -> Result<(), Failure> {
    out.check_disjoint(message, "message")?;
    let mut options = options.clone();
    options.max_content_buffer = u64::MAX;
    let into_vec = |plaintext: &mut Vec<u8>| -> Result<(), Failure> {
        if *unsigned_only {
            env::decrypt_message_into_unsigned_only(keyring, message, &options, plaintext)?;
        } else {
            env::decrypt_message_into(keyring, message, &options, plaintext)?;
        }
        Ok(())
    };
    match out {
        Output::Bytes(out) => {
            // A message whose framing does not parse fails in the
            // decryption; until then it gets room for the NUL only.
            let mut plaintext = Zeroizing::new(Vec::new());
            crate::bytes::reserve_exact(&mut plaintext, plaintext_len(message).unwrap_or(0))?;
            into_vec(&mut plaintext)?;
            let bytes = sr_bytes::try_from_secret(plaintext)?;
            // SAFETY: checked non-NULL; the caller promises it is writable.
            unsafe { out.write(bytes) };
        }
        Output::Buf(out) => {
            // SAFETY: forwarded caller promise; disjoint from `message`
            // (checked).
            let buf = unsafe { out.slice() };
            let outcome = if *unsigned_only {
                env::decrypt_message_into_slice_unsigned_only(keyring, message, &options, buf)?
            } else {
                env::decrypt_message_into_slice(keyring, message, &options, buf)?
            };
            match outcome {
                // SAFETY: forwarded caller promise.
                SliceMessage::Written(summary) => unsafe {
                    out.out_len.write(summary.plaintext_len as usize)
                },
                SliceMessage::TooSmall { .. } => {
                    let mut plaintext = Zeroizing::new(Vec::new());
                    into_vec(&mut plaintext)?;
                    // SAFETY: forwarded caller promise.
                    return Err(unsafe { out.too_small(plaintext.len()) });
                }
            }
        }
    }
    Ok(())
}

/// The context and plaintext arguments of the encryption functions.
///
/// # Safety
/// Context arrays valid for `ctx_len` strings; `plaintext` for
/// `plaintext_len` bytes.
unsafe fn encrypt_inputs<'a>(
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
) -> Result<(EncryptionContext, &'a [u8]), Failure> {
    // SAFETY: forwarded caller promises.
    unsafe {
        Ok((
            context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            bytes(plaintext, plaintext_len, "plaintext")?,
        ))
    }
}

/// The options and message arguments of the decryption functions.
///
/// # Safety
/// `options` NULL or valid for a read, its arrays valid for
/// `required_ctx_len` strings; `message` valid for `message_len` bytes.
unsafe fn decrypt_inputs<'a>(
    options: *const sr_envelope_decrypt_options,
    message: *const u8,
    message_len: usize,
) -> Result<((DecryptOptions, bool), &'a [u8]), Failure> {
    // SAFETY: forwarded caller promises.
    unsafe {
        Ok((
            decrypt_options_from(options)?,
            bytes(message, message_len, "message")?,
        ))
    }
}

/// Envelope-encrypts `plaintext` in one call into one AWS Encryption SDK
/// message (format version 2, committing suite), written to `*out_message`
/// (free with `sr_bytes_free()`): a message of the same layout and length
/// as the one `sr_envelope_encrypt()` makes from the same plaintext and
/// arguments (exactly the same length for `0x0478`; for `0x0578` the DER
/// signature's length varies by a few bytes), which `sr_envelope_decrypt()`,
/// the CLI's `decrypt-file`, `sr_envelope_decrypt_message()` and the AWS
/// Encryption SDKs decrypt. The data key is generated and wrapped by the
/// KMS keys `key_ids` as in `sr_envelope_encrypt()` (for the handle's
/// principal, audited, sending the handle's grant tokens).
///
/// Length of the message, for `p` plaintext bytes and frame length `f`:
/// - the header: 92 bytes, plus the encoded encryption context (0 bytes
///   when it is empty, else 2 + for each pair 4 + its key's and value's
///   lengths in UTF-8 bytes; for `0x0578` it also holds the pair
///   `aws-crypto-public-key` = 68 base64 characters, 93 bytes), plus for
///   each encrypted data key 6 bytes and the lengths of its provider ID,
///   provider info and ciphertext (a KMS key: `aws-kms`, its key ARN, and
///   its `sr_encrypt()` ciphertext blob of the 32-byte data key; a raw AES
///   key: the namespace, the name plus 20, and 48);
/// - `r = max(p − 1, 0) / f` regular frames (integer division) of `f` + 32
///   bytes each, and one final frame of `p − r·f` + 40 bytes;
/// - for `0x0578`, a footer of at most 106 bytes (2 + a DER ECDSA P-384
///   signature of at most 104 bytes, usually 102 to 104).
///
/// Memory: the plaintext and the message; the message is built in its own
/// allocation of exactly its length plus the trailing NUL (no other copy).
/// For data that does not fit in memory twice use `sr_envelope_encrypt()`.
///
/// Parameters:
/// - `key_ids`, context arrays, `frame_length` (0 for 4096), `suite_id`
///   (0 for `0x0578`, or `0x0478`): as for `sr_envelope_encrypt()`.
/// - `plaintext`, `plaintext_len`: the data, any length (NULL with 0 for
///   none).
///
/// Errors: as `sr_envelope_encrypt()` (without `SR_IO`): `SR_NULL_PARAMETER`,
/// `SR_INVALID_UTF8`, `SR_VALIDATION` (no key, frame length, suite, a
/// context key starting with `aws-crypto-`, more than 2^32 − 2 frames),
/// `SR_NOT_FOUND`, `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
/// `SR_INVALID_KEY_USAGE`, `SR_ACCESS_DENIED`, `SR_INVALID_GRANT_TOKEN`,
/// `SR_LIMIT_EXCEEDED` (the message does not fit in memory: the
/// allocation failed, the call does not abort), `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated; arrays and `plaintext`
/// valid for their lengths; `out_message` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt_message(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    frame_length: u32,
    suite_id: u16,
    plaintext: *const u8,
    plaintext_len: usize,
    out_message: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        let out = out!(out_message);
        // SAFETY: caller promises, as documented above.
        let (keyring, (ctx, plaintext)) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, true)?,
                encrypt_inputs(ctx_keys, ctx_values, ctx_len, plaintext, plaintext_len)?,
            )
        };
        // SAFETY: `out` was checked non-NULL; the caller promises it is writable.
        unsafe {
            encrypt_to(
                &keyring,
                &ctx,
                (frame_length, suite_id),
                plaintext,
                Output::Bytes(out),
            )
        }
    })
}

/// As `sr_envelope_encrypt_message()`, writing the message into the
/// caller's buffer `buf` of `len` bytes, where each frame is encrypted in
/// place (no allocation of the message's size).
///
/// Size: the keys are called first (the data key is generated and wrapped,
/// and audited); then, if `len` is smaller than the message may be, nothing
/// is written to `buf`, `*out_len` receives the length needed and the call
/// returns `SR_BUFFER_TOO_SMALL`. That length is the formula at
/// `sr_envelope_encrypt_message()` with the longest footer (106 bytes):
/// exact for the unsigned suite `0x0478`; for the signed suite `0x0578` an
/// upper bound, usually at most 3 bytes above the message's length (the
/// DER signature is 102 to 104 bytes, now and then fewer), and a buffer of
/// that length always suffices for the same plaintext, keys, context,
/// frame length and suite. A size query (`buf` NULL, `len` 0) therefore
/// costs the keys' calls (for KMS keys a `GenerateDataKey` and an `Encrypt`
/// per further key, audited, the data key then thrown away); it can be
/// skipped by computing that formula. On `SR_OK`, `*out_len` receives the
/// message's length: the message is `buf[0 .. *out_len]`.
///
/// On any failure, `buf` holds no part of the message: it is untouched,
/// except after a failure during the encryption itself (`SR_KMS_INTERNAL`),
/// when the first bytes of `buf` that the message could use (the length a
/// size query reports) are overwritten with zeros. `buf` must not overlap
/// `plaintext`: that is refused (`SR_VALIDATION` naming `buf`) before any
/// key is used.
///
/// Errors: as `sr_envelope_encrypt_message()`, `SR_BUFFER_TOO_SMALL`;
/// `SR_VALIDATION` also for `buf` overlapping `plaintext` or `len` above
/// `PTRDIFF_MAX` (both before any key is used); `SR_LIMIT_EXCEEDED` only
/// when the message's length does not fit in `size_t` (32-bit platforms),
/// never for memory, since the message is written into `buf`.
///
/// # Safety
/// As `sr_envelope_encrypt_message()`; `buf` valid for `len` bytes of
/// writes; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt_message_into(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    frame_length: u32,
    suite_id: u16,
    plaintext: *const u8,
    plaintext_len: usize,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    guard(|| {
        let out = BufOut::new(buf, len, out_len)?;
        // SAFETY: caller promises, as documented above.
        let (keyring, (ctx, plaintext)) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, true)?,
                encrypt_inputs(ctx_keys, ctx_values, ctx_len, plaintext, plaintext_len)?,
            )
        };
        // SAFETY: caller promises for buf and out_len.
        unsafe {
            encrypt_to(
                &keyring,
                &ctx,
                (frame_length, suite_id),
                plaintext,
                Output::Buf(out),
            )
        }
    })
}

/// Decrypts one whole AWS Encryption SDK message in memory in one call
/// (made by `sr_envelope_encrypt_message()`, `sr_envelope_encrypt()`, the
/// CLI's `encrypt-file`, or an AWS Encryption SDK with a KMS keyring naming
/// keys of this keystore) and writes the plaintext to `*out_plaintext`
/// (free with `sr_bytes_free()`, which zeroizes it). The data key is
/// unwrapped as in `sr_envelope_decrypt()` (for the handle's principal,
/// audited, sending the handle's grant tokens).
///
/// Nothing is released before the whole message has authenticated, for
/// every suite: `*out_plaintext` is written only once every frame and, for
/// signed suites, the ECDSA signature have verified (and the message has
/// no trailing bytes). On failure the plaintext decrypted so far is
/// zeroized and its memory freed.
///
/// Every frame length is read (Strongroom writes up to 256 MiB, other
/// writers up to 2^32 − 1): the max frame buffer of the streaming
/// decryption functions (256 MiB by default; see
/// `sr_envelope_decrypt_options_ex`), which bounds what they buffer, does
/// not apply to a message already in memory.
///
/// Memory: the message and the plaintext. The plaintext's exact length is
/// read from the message's framing first (regular frames of the header's
/// frame length, the final frame's stated length; the whole message parsed
/// as the decryption parses it, so the length never exceeds the message);
/// the `sr_bytes` is allocated once at that length plus the trailing NUL,
/// and each frame is decrypted in place in it (no other copy of the
/// plaintext). 64 MiB message: 140 MB peak RSS, as for
/// `sr_envelope_encrypt_message()` (it was 207 MB, about three times the
/// message, before this version). The same for `sr_envelope_decrypt_message_into()`
/// with a buffer that holds the plaintext.
///
/// Parameters:
/// - `key_ids`, `key_ids_len`: as for `sr_envelope_decrypt()` (NULL and 0
///   for any key of this keystore).
/// - `options`: NULL for the defaults, or the options of
///   `sr_envelope_decrypt_with_options()`: required encryption context
///   pairs, the encrypted data key limit, the commitment policy, and
///   `unsigned_only`, which refuses a signed suite (`SR_VALIDATION`) once
///   the header is read, before any key is unwrapped.
/// - `message`, `message_len`: the whole message.
///
/// Errors: as `sr_envelope_decrypt_with_options()` (without `SR_IO`):
/// `SR_INVALID_CIPHERTEXT` (anything that does not authenticate or parse,
/// truncation, trailing bytes, no encrypted data key that a usable key
/// unwraps, a required context pair missing or different; detail-free),
/// `SR_VALIDATION` (too many encrypted data keys, a non-committing suite
/// under the default policy, an unknown `commitment_policy`, a signed suite
/// with `unsigned_only`, a header above 4 MiB), `SR_DISABLED`, `SR_KMS_INVALID_STATE`,
/// `SR_ACCESS_DENIED`, `SR_INVALID_GRANT_TOKEN`, `SR_NULL_PARAMETER`,
/// `SR_INVALID_UTF8`, `SR_LIMIT_EXCEEDED` (the plaintext does not fit in
/// memory: an allocation failed, the call does not abort),
/// `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `key_ids` valid for `key_ids_len` strings;
/// `options` NULL or valid for a read, its arrays valid for
/// `required_ctx_len` strings; `message` valid for `message_len` bytes;
/// `out_plaintext` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_message(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    options: *const sr_envelope_decrypt_options,
    message: *const u8,
    message_len: usize,
    out_plaintext: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        let out = out!(out_plaintext);
        // SAFETY: caller promises, as documented above.
        let (keyring, (options, message)) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, false)?,
                decrypt_inputs(options, message, message_len)?,
            )
        };
        // SAFETY: `out` was checked non-NULL; the caller promises it is writable.
        unsafe { decrypt_to(&keyring, &options, message, Output::Bytes(out)) }
    })
}

/// As `sr_envelope_decrypt_message()`, writing the plaintext into the
/// caller's buffer `buf` of `len` bytes.
///
/// Size: the plaintext is always shorter than its message, so a buffer of
/// `message_len` bytes always suffices. A buffer that holds the plaintext
/// (its length is read from the message's framing first) receives it frame
/// by frame, decrypted in place: memory for the message and `buf`, nothing
/// more. With a smaller buffer the message is decrypted into the library's
/// memory first; then nothing is written to `buf`, that plaintext is
/// zeroized, `*out_len` receives its exact length and the call returns
/// `SR_BUFFER_TOO_SMALL` (so a size query, `buf` NULL and `len` 0, costs a
/// whole decryption). On `SR_OK`, `*out_len` receives the plaintext's
/// length: the plaintext is `buf[0 .. *out_len]`.
///
/// The contents of `buf` are the plaintext only on `SR_OK`, after the whole
/// message has authenticated (signature included). On any failure `buf`
/// holds no plaintext: the bytes this call wrote (the frames that
/// authenticated before the failure, and the one that did not) are
/// overwritten with zeros, and the bytes past the plaintext's length are
/// untouched; `*out_len` is written only on `SR_OK` or
/// `SR_BUFFER_TOO_SMALL`. A message that does not authenticate is reported
/// as such (`SR_INVALID_CIPHERTEXT`) whatever the buffer's size, also to a
/// size query. `buf` must not overlap `message` (no decryption in place):
/// that is refused (`SR_VALIDATION` naming `buf`) before any key is used.
///
/// Errors: as `sr_envelope_decrypt_message()`, `SR_BUFFER_TOO_SMALL`;
/// `SR_VALIDATION` also for `buf` overlapping `message` or `len` above
/// `PTRDIFF_MAX`.
///
/// # Safety
/// As `sr_envelope_decrypt_message()`; `buf` valid for `len` bytes of
/// writes; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_message_into(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    options: *const sr_envelope_decrypt_options,
    message: *const u8,
    message_len: usize,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    guard(|| {
        let out = BufOut::new(buf, len, out_len)?;
        // SAFETY: caller promises, as documented above.
        let (keyring, (options, message)) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, false)?,
                decrypt_inputs(options, message, message_len)?,
            )
        };
        // SAFETY: caller promises for buf and out_len.
        unsafe { decrypt_to(&keyring, &options, message, Output::Buf(out)) }
    })
}

/// As `sr_envelope_encrypt_message()`, with the data key wrapped by a raw
/// AES keyring (no keystore involved; `key_namespace`, `key_name` and
/// `wrapping_key` as for `sr_envelope_encrypt_raw_aes()`): a message of
/// the layout and length of the one `sr_envelope_encrypt_raw_aes()` makes
/// (a raw AES encrypted data key takes 6 bytes and the lengths of the
/// namespace and the name, plus 68, in the formula at
/// `sr_envelope_encrypt_message()`).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (key
/// length, names, frame length, suite, context, more than 2^32 − 2
/// frames), `SR_LIMIT_EXCEEDED` (the message does not fit in memory; no
/// abort), `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// Strings NUL-terminated; `wrapping_key` valid for `wrapping_key_len`
/// bytes; context arrays valid for `ctx_len` strings; `plaintext` valid for
/// `plaintext_len` bytes; `out_message` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt_message_raw_aes(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    frame_length: u32,
    suite_id: u16,
    plaintext: *const u8,
    plaintext_len: usize,
    out_message: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        let out = out!(out_message);
        // SAFETY: caller promises, as documented above.
        let (keyring, (ctx, plaintext)) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                encrypt_inputs(ctx_keys, ctx_values, ctx_len, plaintext, plaintext_len)?,
            )
        };
        // SAFETY: `out` was checked non-NULL; the caller promises it is writable.
        unsafe {
            encrypt_to(
                &keyring,
                &ctx,
                (frame_length, suite_id),
                plaintext,
                Output::Bytes(out),
            )
        }
    })
}

/// As `sr_envelope_encrypt_message_into()`, with a raw AES keyring (as
/// `sr_envelope_encrypt_message_raw_aes()`); the size query costs no KMS
/// call here.
///
/// Errors: as `sr_envelope_encrypt_message_raw_aes()`,
/// `SR_BUFFER_TOO_SMALL`; `SR_VALIDATION` also for `buf` overlapping
/// `plaintext` or `len` above `PTRDIFF_MAX`.
///
/// # Safety
/// As `sr_envelope_encrypt_message_raw_aes()`; `buf` valid for `len` bytes
/// of writes; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt_message_raw_aes_into(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    frame_length: u32,
    suite_id: u16,
    plaintext: *const u8,
    plaintext_len: usize,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    guard(|| {
        let out = BufOut::new(buf, len, out_len)?;
        // SAFETY: caller promises, as documented above.
        let (keyring, (ctx, plaintext)) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                encrypt_inputs(ctx_keys, ctx_values, ctx_len, plaintext, plaintext_len)?,
            )
        };
        // SAFETY: caller promises for buf and out_len.
        unsafe {
            encrypt_to(
                &keyring,
                &ctx,
                (frame_length, suite_id),
                plaintext,
                Output::Buf(out),
            )
        }
    })
}

/// As `sr_envelope_decrypt_message()`, with a raw AES keyring (as
/// `sr_envelope_decrypt_raw_aes()`) and the options of
/// `sr_envelope_decrypt_with_options()` (NULL for the defaults).
///
/// Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate,
/// wrong keyring, malformed, truncated or followed by other bytes;
/// detail-free), `SR_VALIDATION`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
/// `SR_LIMIT_EXCEEDED`, `SR_KMS_INTERNAL`.
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// Strings NUL-terminated; `wrapping_key` valid for `wrapping_key_len`
/// bytes; `options` NULL or valid for a read, its arrays valid for
/// `required_ctx_len` strings; `message` valid for `message_len` bytes;
/// `out_plaintext` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_message_raw_aes(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    options: *const sr_envelope_decrypt_options,
    message: *const u8,
    message_len: usize,
    out_plaintext: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        let out = out!(out_plaintext);
        // SAFETY: caller promises, as documented above.
        let (keyring, (options, message)) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                decrypt_inputs(options, message, message_len)?,
            )
        };
        // SAFETY: `out` was checked non-NULL; the caller promises it is writable.
        unsafe { decrypt_to(&keyring, &options, message, Output::Bytes(out)) }
    })
}

/// As `sr_envelope_decrypt_message_into()`, with a raw AES keyring (as
/// `sr_envelope_decrypt_message_raw_aes()`).
///
/// Errors: as `sr_envelope_decrypt_message_raw_aes()`,
/// `SR_BUFFER_TOO_SMALL`; `SR_VALIDATION` also for `buf` overlapping
/// `message` or `len` above `PTRDIFF_MAX`.
///
/// # Safety
/// As `sr_envelope_decrypt_message_raw_aes()`; `buf` valid for `len` bytes
/// of writes; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_message_raw_aes_into(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    options: *const sr_envelope_decrypt_options,
    message: *const u8,
    message_len: usize,
    buf: *mut u8,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    guard(|| {
        let out = BufOut::new(buf, len, out_len)?;
        // SAFETY: caller promises, as documented above.
        let (keyring, (options, message)) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                decrypt_inputs(options, message, message_len)?,
            )
        };
        // SAFETY: caller promises for buf and out_len.
        unsafe { decrypt_to(&keyring, &options, message, Output::Buf(out)) }
    })
}
