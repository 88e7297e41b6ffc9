//! Streaming envelope encryption (AWS Encryption SDK message format v2)
//! through caller callbacks, over `strongroom::core::envelope`'s incremental
//! `Encryptor`/`Decryptor`: memory stays at about two frames whatever the
//! size of the data.

use std::ffi::{c_char, c_int, c_void};

use sr::core::envelope::{
    AlgorithmSuite, DecryptOptions, Decryptor, EncryptOptions, Encryptor, RawAesKeyring,
};

use zeroize::Zeroize;

use crate::optional;
use crate::ptr::{bytes, c_str, context};
use crate::result::{guard, sr_result, Failure};

/// Reads up to `len` bytes into `buf` and stores the number read in
/// `*out_read` (0 means end of input). Returns 0 on success and any other
/// value on failure (the Strongroom call then fails with `SR_IO`).
#[allow(non_camel_case_types)]
pub type sr_read_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        buf: *mut u8,
        len: usize,
        out_read: *mut usize,
    ) -> c_int,
>;

/// Writes all `len` bytes of `buf`. Returns 0 on success and any other value
/// on failure (the Strongroom call then fails with `SR_IO`).
#[allow(non_camel_case_types)]
pub type sr_write_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, buf: *const u8, len: usize) -> c_int>;

/// Bytes asked of `read` per call.
const CHUNK: usize = 64 * 1024;

struct Io {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> c_int,
    read_user: *mut c_void,
    write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int,
    write_user: *mut c_void,
}

impl Io {
    fn new(
        read: sr_read_fn,
        read_user: *mut c_void,
        write: sr_write_fn,
        write_user: *mut c_void,
    ) -> Result<Self, Failure> {
        Ok(Io {
            read: read.ok_or_else(|| Failure::null("read"))?,
            read_user,
            write: write.ok_or_else(|| Failure::null("write"))?,
            write_user,
        })
    }

    /// One chunk from the caller; empty at end of input.
    fn read<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8], Failure> {
        let mut n = 0usize;
        // SAFETY: the callback gets a buffer valid for buf.len() bytes and a
        // valid out pointer; the caller promises the callback honours them.
        let rc = unsafe { (self.read)(self.read_user, buf.as_mut_ptr(), buf.len(), &mut n) };
        if rc != 0 {
            return Err(Failure::new(
                sr_result::SR_IO,
                format!("the read callback failed ({rc})"),
            ));
        }
        if n > buf.len() {
            return Err(Failure::new(
                sr_result::SR_IO,
                "the read callback reported more bytes than the buffer holds",
            ));
        }
        Ok(&buf[..n])
    }

    fn write(&self, data: &[u8]) -> Result<(), Failure> {
        if data.is_empty() {
            return Ok(());
        }
        // SAFETY: data is a valid slice for the duration of the call.
        let rc = unsafe { (self.write)(self.write_user, data.as_ptr(), data.len()) };
        if rc != 0 {
            return Err(Failure::new(
                sr_result::SR_IO,
                format!("the write callback failed ({rc})"),
            ));
        }
        Ok(())
    }
}

/// The raw AES keyring from C arguments.
///
/// # Safety
/// Strings NUL-terminated; `key` valid for `key_len` bytes.
unsafe fn raw_aes(
    namespace: *const c_char,
    name: *const c_char,
    key: *const u8,
    key_len: usize,
) -> Result<RawAesKeyring, Failure> {
    // SAFETY: forwarded caller promises.
    let (namespace, name, key) = unsafe {
        (
            c_str(namespace, "key_namespace")?,
            c_str(name, "key_name")?,
            bytes(key, key_len, "wrapping_key")?,
        )
    };
    Ok(RawAesKeyring::new(namespace, name, key)?)
}

/// Envelope-encrypts everything `read` yields into one AWS Encryption SDK
/// message (format version 2, committing suite) passed to `write`, with the
/// data key wrapped by a raw AES keyring, in constant memory.
///
/// Parameters:
/// - `key_namespace`, `key_name`: the raw AES keyring's provider ID and key
///   name (as in the AWS Encryption SDKs' raw AES keyring; the namespace must
///   not start with `aws-kms`). The same pair is needed to decrypt.
/// - `wrapping_key`: 16, 24 or 32 bytes, copied and zeroized after use.
/// - context arrays: the encryption context, as in `sr_encrypt()`; stored
///   (authenticated, not encrypted) in the message header.
/// - `frame_length`: plaintext bytes per frame, 0 for the default (4096).
/// - `suite_id`: 0 for the default `0x0578` (signed with ECDSA P-384), or
///   `0x0478` (unsigned).
/// - `read`/`read_user`, `write`/`write_user`: the callbacks and the
///   pointers passed back to them (may be NULL; never dereferenced here).
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (key
/// length, names, frame length, suite), `SR_IO` (a callback failed; the
/// output is incomplete and must be discarded), `SR_KMS_INTERNAL`.
///
/// # Safety
/// Strings NUL-terminated; `wrapping_key` valid for `wrapping_key_len`
/// bytes; context arrays valid for `ctx_len` strings; the callbacks must
/// follow their contracts (`sr_read_fn`, `sr_write_fn`).
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt_raw_aes(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    frame_length: u32,
    suite_id: u16,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    guard(|| {
        let io = Io::new(read, read_user, write, write_user)?;
        // SAFETY: caller promises, as documented above.
        let (keyring, ctx) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            )
        };
        let mut options = EncryptOptions::default();
        if suite_id != 0 {
            options.suite = AlgorithmSuite::from_id(suite_id).ok_or_else(|| {
                Failure::validation(format!("unknown algorithm suite {suite_id:#06x}"))
            })?;
        }
        if let Some(fl) = optional(frame_length) {
            options.frame_length = fl;
        }
        let mut rng = sr::os_rng();
        let mut enc = Encryptor::new(&keyring, &ctx, &options, &mut rng)?;
        let mut inbuf = zeroize::Zeroizing::new(vec![0u8; CHUNK]);
        let mut out = Vec::new();
        loop {
            let chunk = io.read(&mut inbuf)?;
            if chunk.is_empty() {
                break;
            }
            enc.update(chunk, &mut out)?;
            io.write(&out)?;
            out.clear();
        }
        enc.finish(&mut out, &mut rng)?;
        io.write(&out)
    })
}

/// Decrypts one AWS Encryption SDK message that `read` yields, passing the
/// plaintext to `write` frame by frame, in constant memory (about two frames).
///
/// Only frames that authenticate are written, but the message as a whole is
/// valid only if this function returns `SR_OK`: on any failure (a later
/// frame, truncation, and for signed suites the final signature check) the
/// caller must discard everything written.
///
/// Parameters: the keyring as for `sr_envelope_encrypt_raw_aes()`;
/// `required_*` arrays: pairs that must be present, with these values, in
/// the message's encryption context (both NULL and 0 for none).
///
/// Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate,
/// wrong keyring, malformed or truncated message; detail-free),
/// `SR_VALIDATION`, `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_IO`.
///
/// # Safety
/// As `sr_envelope_encrypt_raw_aes()`.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_raw_aes(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    required_ctx_keys: *const *const c_char,
    required_ctx_values: *const *const c_char,
    required_ctx_len: usize,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    guard(|| {
        let io = Io::new(read, read_user, write, write_user)?;
        // SAFETY: caller promises, as documented above.
        let (keyring, required) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                context(
                    required_ctx_keys,
                    required_ctx_values,
                    required_ctx_len,
                    "required_ctx_keys",
                    "required_ctx_values",
                )?,
            )
        };
        let options = DecryptOptions {
            required_encryption_context: required,
            ..DecryptOptions::default()
        };
        let mut rng = sr::os_rng();
        let mut dec = Decryptor::new(&keyring, options, &mut rng);
        let mut inbuf = vec![0u8; CHUNK];
        let mut out = zeroize::Zeroizing::new(Vec::new());
        loop {
            let chunk = io.read(&mut inbuf)?;
            if chunk.is_empty() {
                break;
            }
            // Signed suites release frames pending the final signature; the
            // function's result says whether the whole message is valid.
            let _released = dec.update(chunk, &mut out)?;
            io.write(&out)?;
            out.zeroize();
        }
        dec.finish()?;
        Ok(())
    })
}
