//! Streaming envelope encryption (AWS Encryption SDK message format v2)
//! through caller callbacks or files, over the facade's
//! `strongroom::envelope`: the KMS keyring (data keys wrapped by KMS keys of
//! the keystore, provider ID `aws-kms`, as the CLI's `encrypt-file` /
//! `decrypt-file`) and the raw AES keyring. This module only adapts the C
//! callbacks to `Read`/`Write` and converts arguments; when plaintext is
//! released is decided by the facade (see `sr_envelope_decrypt()`).

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void};
use std::io::{self, Read, Write};

use sr::core::envelope::{
    AlgorithmSuite, CommitmentPolicy, DecryptOptions, EncryptOptions, Keyring, RawAesKeyring,
    DEFAULT_MAX_CONTENT_BUFFER, DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
};
use sr::envelope::{self as env, KmsKeyring};
use sr::EncryptionContext;

use crate::bytes::sr_bytes;
use crate::keystore::{handle, path_from, sr_keystore};
use crate::optional;
use crate::ptr::{bytes_at_most, c_bytes, c_str, context, out, str_array};
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

type ReadFn = unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> c_int;
type WriteFn = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int;

/// The first callback failure of a call: it, not the facade's wrapping of
/// the I/O error, is what the caller gets (`SR_IO`).
#[derive(Default)]
struct IoFailure(RefCell<Option<Failure>>);

impl IoFailure {
    fn record(&self, message: String) -> io::Error {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(Failure::new(sr_result::SR_IO, message.clone()));
        }
        io::Error::other(message)
    }

    /// The call's failure: a callback failure if there was one, else `e`'s.
    fn or(self, e: sr::Error) -> Failure {
        self.0.into_inner().unwrap_or_else(|| e.into())
    }
}

/// `Read` over an `sr_read_fn`.
struct CallbackReader<'f> {
    read: ReadFn,
    user: *mut c_void,
    failure: &'f IoFailure,
}

impl Read for CallbackReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0usize;
        // SAFETY: the callback gets a buffer valid for buf.len() bytes and a
        // valid out pointer; the caller promises the callback honours them.
        let rc = unsafe { (self.read)(self.user, buf.as_mut_ptr(), buf.len(), &mut n) };
        if rc != 0 {
            return Err(self
                .failure
                .record(format!("the read callback failed ({rc})")));
        }
        if n > buf.len() {
            return Err(self
                .failure
                .record("the read callback reported more bytes than the buffer holds".into()));
        }
        Ok(n)
    }
}

/// `Write` over an `sr_write_fn`: each `write` hands the whole slice over.
struct CallbackWriter<'f> {
    write: WriteFn,
    user: *mut c_void,
    failure: &'f IoFailure,
}

impl Write for CallbackWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // SAFETY: data is a valid slice for the duration of the call.
        let rc = unsafe { (self.write)(self.user, data.as_ptr(), data.len()) };
        if rc != 0 {
            return Err(self
                .failure
                .record(format!("the write callback failed ({rc})")));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `f` with the callbacks as a reader and a writer; a callback failure
/// wins over the error the facade makes of it.
fn with_io(
    (read, read_user, write, write_user): Callbacks,
    f: impl FnOnce(&mut dyn Read, &mut dyn Write) -> sr::Result<env::EnvelopeSummary>,
) -> Result<(), Failure> {
    let read = read.ok_or_else(|| Failure::null("read"))?;
    let write = write.ok_or_else(|| Failure::null("write"))?;
    let failure = IoFailure::default();
    let result = f(
        &mut CallbackReader {
            read,
            user: read_user,
            failure: &failure,
        },
        &mut CallbackWriter {
            write,
            user: write_user,
            failure: &failure,
        },
    );
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(failure.or(e)),
    }
}

/// Encrypts the `read` stream to `write` with `keyring` (options as the C
/// arguments, 0 = default).
fn encrypt_callbacks(
    keyring: &dyn Keyring,
    ctx: &EncryptionContext,
    frame_length: u32,
    suite_id: u16,
    io: Callbacks,
) -> Result<(), Failure> {
    let options = encrypt_options(frame_length, suite_id)?;
    with_io(io, |r, w| env::encrypt_stream(keyring, r, w, ctx, &options))
}

/// Decrypts the `read` stream to `write` with `keyring` (see
/// `sr_envelope_decrypt()`; `unsigned_only` as
/// `sr_envelope_decrypt_options`).
fn decrypt_callbacks(
    keyring: &dyn Keyring,
    (options, unsigned_only): &(DecryptOptions, bool),
    io: Callbacks,
) -> Result<(), Failure> {
    with_io(io, |r, w| {
        if *unsigned_only {
            env::decrypt_stream_unsigned_only(keyring, r, w, options)
        } else {
            env::decrypt_stream(keyring, r, w, options)
        }
    })
}

/// The four callback arguments of the streaming functions.
type Callbacks = (sr_read_fn, *mut c_void, sr_write_fn, *mut c_void);

/// Encryption options from the C arguments (0 = default).
pub(crate) fn encrypt_options(frame_length: u32, suite_id: u16) -> Result<EncryptOptions, Failure> {
    let mut options = EncryptOptions::default();
    if suite_id != 0 {
        options.suite = AlgorithmSuite::from_id(suite_id).ok_or_else(|| {
            Failure::validation(format!(
                "unknown algorithm suite {suite_id:#06x} (use 0x0578 or 0x0478)"
            ))
        })?;
    }
    if let Some(fl) = optional(frame_length) {
        options.frame_length = fl;
    }
    Ok(options)
}

/// `sr_envelope_decrypt_options::commitment_policy`: decrypt committing
/// suites only (`0x0478`, `0x0578`); the default, and the AWS Encryption
/// SDK's `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`.
pub const SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_REQUIRE_DECRYPT: u32 = 0;
/// `sr_envelope_decrypt_options::commitment_policy`: also decrypt the
/// non-committing message format version 1 suites (`0x0178`, `0x0378`)
/// written by older AWS Encryption SDKs (`REQUIRE_ENCRYPT_ALLOW_DECRYPT`).
pub const SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT: u32 = 1;
/// `sr_envelope_decrypt_options::commitment_policy`: as
/// `SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT` for decryption
/// (`FORBID_ENCRYPT_ALLOW_DECRYPT`; Strongroom never encrypts without
/// key commitment).
pub const SR_COMMITMENT_POLICY_FORBID_ENCRYPT_ALLOW_DECRYPT: u32 = 2;

/// The limit on encrypted data keys that `max_encrypted_data_keys` 0 (the
/// default) stands for in the envelope decryption functions: 10
/// (`strongroom::core::envelope::DEFAULT_MAX_ENCRYPTED_DATA_KEYS`). Each
/// encrypted data key the keyring tries may cost a KMS Decrypt call, so a
/// crafted message with thousands of them would cost thousands of calls.
pub const SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS: u16 = 10;
// A literal above, for cbindgen's `#define`; the same as the core's.
const _: () = assert!(SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS == DEFAULT_MAX_ENCRYPTED_DATA_KEYS);
/// `max_encrypted_data_keys` of the envelope decryption functions for no
/// limit (65535, the largest count a message can hold; the AWS Encryption
/// SDKs' default).
pub const SR_NO_MAX_ENCRYPTED_DATA_KEYS: u16 = 65535;

/// Options of the `sr_envelope_decrypt*_with_options()` functions. A
/// zero-initialized struct (`sr_envelope_decrypt_options o = {0};`), or a
/// NULL pointer, gives the defaults of `sr_envelope_decrypt()`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sr_envelope_decrypt_options {
    /// Keys of pairs that must be present, with the values below, in the
    /// message's encryption context (NULL when `required_ctx_len` is 0).
    pub required_ctx_keys: *const *const c_char,
    /// Values of those pairs, in the same order.
    pub required_ctx_values: *const *const c_char,
    /// Number of required pairs.
    pub required_ctx_len: usize,
    /// Refuse (`SR_VALIDATION`, before any key is unwrapped) a message with
    /// more encrypted data keys than this, 1 to 65535; 0 for the default,
    /// `SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS` (10), so that a zero-initialized
    /// struct gets it (a limit of 0, which the AWS Encryption SDKs and the
    /// other Strongroom bindings refuse, cannot be asked for);
    /// `SR_NO_MAX_ENCRYPTED_DATA_KEYS` (65535) for no limit.
    pub max_encrypted_data_keys: u16,
    /// One of the `SR_COMMITMENT_POLICY_*` values; 0 for the default.
    pub commitment_policy: u32,
    /// Non-zero: the AWS Encryption SDK's streaming unsigned-only mode.
    /// A message of a signed suite (`0x0578`, `0x0378`) is refused with
    /// `SR_VALIDATION` before any plaintext is produced, and no staging
    /// file is used: plaintext reaches `write` once its frames are
    /// authenticated, without waiting for the end of the message (if the
    /// message turns out truncated, `write` has seen an authenticated prefix).
    pub unsigned_only: u8,
}

impl sr_envelope_decrypt_options {
    /// The defaults (all zero).
    const DEFAULT: sr_envelope_decrypt_options = sr_envelope_decrypt_options {
        required_ctx_keys: std::ptr::null(),
        required_ctx_values: std::ptr::null(),
        required_ctx_len: 0,
        max_encrypted_data_keys: 0,
        commitment_policy: SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
        unsigned_only: 0,
    };
}

/// Decryption options from an `sr_envelope_decrypt_options` (NULL = defaults).
///
/// # Safety
/// `opts` NULL or valid for a read; its arrays valid for `required_ctx_len` strings.
pub(crate) unsafe fn decrypt_options_from(
    opts: *const sr_envelope_decrypt_options,
) -> Result<(DecryptOptions, bool), Failure> {
    // SAFETY: caller promise: NULL or valid.
    let o = unsafe { opts.as_ref() }.unwrap_or(&sr_envelope_decrypt_options::DEFAULT);
    let max = o.max_encrypted_data_keys;
    let mut options = DecryptOptions {
        // SAFETY: caller promise on the arrays.
        required_encryption_context: unsafe {
            required_context(
                o.required_ctx_keys,
                o.required_ctx_values,
                o.required_ctx_len,
            )?
        },
        max_encrypted_data_keys: match max {
            0 => Some(SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS),
            SR_NO_MAX_ENCRYPTED_DATA_KEYS => None,
            n => Some(n),
        },
        ..DecryptOptions::default()
    };
    options.commitment_policy = match o.commitment_policy {
        SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_REQUIRE_DECRYPT => {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        }
        SR_COMMITMENT_POLICY_REQUIRE_ENCRYPT_ALLOW_DECRYPT => {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        }
        SR_COMMITMENT_POLICY_FORBID_ENCRYPT_ALLOW_DECRYPT => {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        }
        other => {
            return Err(Failure::validation(format!(
                "commitment_policy {other} is not one of the SR_COMMITMENT_POLICY_* values"
            )))
        }
    };
    Ok((options, o.unsigned_only != 0))
}

/// The max frame buffer that `sr_envelope_decrypt_options_ex::max_frame_buffer`
/// 0 (the default) stands for: 268435456 bytes (256 MiB,
/// `strongroom::core::envelope::DEFAULT_MAX_CONTENT_BUFFER`), the largest
/// frame length Strongroom writes, so every message it writes decrypts.
pub const SR_DEFAULT_MAX_FRAME_BUFFER: u64 = 268_435_456;
// A literal above, for cbindgen's `#define`; the same as the core's.
const _: () = assert!(SR_DEFAULT_MAX_FRAME_BUFFER == DEFAULT_MAX_CONTENT_BUFFER);

/// Options of the `sr_envelope_decrypt*_with_options_ex()` functions: those
/// of `sr_envelope_decrypt_options` (in `base`) and the max frame buffer, in
/// a struct that records its own size so that it can grow. Initialise it
/// with `SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT` (the defaults, `struct_size`
/// set, the others zero), then set the fields wanted:
///
/// ```c
/// sr_envelope_decrypt_options_ex o = SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT;
/// o.max_frame_buffer = 1u << 30; // accept frames up to 1 GiB
/// ```
///
/// Why a second struct: `sr_envelope_decrypt_options` has no size or
/// version field, so a field added to it would be read past the end of the
/// struct of a program compiled against an older header. This one starts
/// with its size as the caller's header declares it, and the library reads
/// that many bytes and no more (the scheme of Linux's `openat2()` and
/// `clone3()` arguments): fields are only ever added at the end; a field
/// past the caller's `struct_size` takes its default, so a program keeps
/// working with later libraries (fields are added in 8-byte units, with
/// explicit reserved members where a smaller one needs room, so that no
/// version has padding bytes past `base`, which C leaves unspecified and a
/// later library would check); a `struct_size` above this library's is
/// accepted only when the bytes past the fields it knows are all zero, so a
/// program built against a later header that sets an option this library
/// lacks gets `SR_VALIDATION` instead of having it ignored.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct sr_envelope_decrypt_options_ex {
    /// `sizeof(sr_envelope_decrypt_options_ex)` as the caller compiled it
    /// (`SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT` sets it): at least the size of
    /// the struct's first version (this one: 56 bytes on LP64 targets), at
    /// most 4096 (`SR_VALIDATION` otherwise, e.g. for a
    /// struct zero-initialised with `{0}`). Fields past it take their
    /// defaults.
    pub struct_size: usize,
    /// The options of `sr_envelope_decrypt_with_options()`, with the same
    /// meaning and defaults.
    pub base: sr_envelope_decrypt_options,
    /// The max frame buffer: the largest frame length (or, for a non-framed
    /// message, content length) in bytes that the streaming decryption
    /// agrees to buffer, 1 to 4294967295 (2^32 − 1, the largest frame
    /// length a message can declare; above is `SR_VALIDATION`); 0 for the
    /// default, `SR_DEFAULT_MAX_FRAME_BUFFER` (268435456, 256 MiB). A
    /// message with a larger frame is refused with `SR_LIMIT_EXCEEDED`
    /// once its header is read, before any key is unwrapped or anything
    /// written. The decryption holds one frame in memory: raise this to
    /// read another writer's messages with larger frames, lower it to
    /// bound the memory a message from an untrusted source can make it
    /// use. As the CLI's `decrypt-file --max-frame-buffer`, Python's
    /// `max_frame_buffer` and JavaScript's `maxFrameBuffer`.
    pub max_frame_buffer: u64,
}

/// The size of the first version of `sr_envelope_decrypt_options_ex` (up
/// to the end of `max_frame_buffer`): every later library accepts a
/// `struct_size` this large, and gives the fields it adds their defaults.
/// A constant, not the struct's size, so that it stays the same when a
/// field is added (the assertion below then goes).
const OPTIONS_EX_SIZE_V1: usize =
    std::mem::offset_of!(sr_envelope_decrypt_options_ex, max_frame_buffer)
        + std::mem::size_of::<u64>();
const _: () = assert!(OPTIONS_EX_SIZE_V1 == std::mem::size_of::<sr_envelope_decrypt_options_ex>());
/// The largest `struct_size` read (a page, as `openat2()`).
const OPTIONS_EX_SIZE_MAX: usize = 4096;

impl sr_envelope_decrypt_options_ex {
    /// `*options` (NULL: the defaults) and the defaults of the other fields.
    ///
    /// # Safety
    /// `options` NULL or valid for a read.
    unsafe fn with_base(options: *const sr_envelope_decrypt_options) -> Self {
        sr_envelope_decrypt_options_ex {
            struct_size: std::mem::size_of::<Self>(),
            // SAFETY: caller promise: NULL or valid.
            base: unsafe { options.as_ref() }
                .copied()
                .unwrap_or(sr_envelope_decrypt_options::DEFAULT),
            max_frame_buffer: 0,
        }
    }
}

/// Decryption options from an `sr_envelope_decrypt_options_ex` (NULL =
/// defaults), read as its `struct_size` says (see the struct).
///
/// # Safety
/// `opts` NULL or valid for reads of `struct_size` bytes; the arrays of
/// its `base` valid for `required_ctx_len` strings.
pub(crate) unsafe fn decrypt_options_ex_from(
    opts: *const sr_envelope_decrypt_options_ex,
) -> Result<(DecryptOptions, bool), Failure> {
    if opts.is_null() {
        // SAFETY: NULL is the defaults.
        return unsafe { decrypt_options_from(std::ptr::null()) };
    }
    // SAFETY: non-NULL; the caller promises a struct of some version, and
    // every version starts with `struct_size`. Read unaligned: the caller's
    // struct may sit anywhere (e.g. in a packed wrapper).
    let size = unsafe { opts.cast::<usize>().read_unaligned() };
    if !(OPTIONS_EX_SIZE_V1..=OPTIONS_EX_SIZE_MAX).contains(&size) {
        return Err(Failure::validation(format!(
            "sr_envelope_decrypt_options_ex: struct_size {size} is not the size of a version of \
             the struct ({OPTIONS_EX_SIZE_V1} to {OPTIONS_EX_SIZE_MAX}); initialise it with \
             SR_ENVELOPE_DECRYPT_OPTIONS_EX_INIT"
        )));
    }
    let known = std::mem::size_of::<sr_envelope_decrypt_options_ex>();
    if size > known {
        // SAFETY: the caller promises `size` readable bytes at `opts`
        // (at most 4096, checked above).
        let newer =
            unsafe { std::slice::from_raw_parts(opts.cast::<u8>().add(known), size - known) };
        if newer.iter().any(|b| *b != 0) {
            return Err(Failure::validation(format!(
                "sr_envelope_decrypt_options_ex: struct_size {size} with options set past the \
                 {known} bytes this library knows (a program built against a newer \
                 strongroom.h): link the newer library, or leave those options at 0"
            )));
        }
    }
    // The caller's bytes, as far as both its struct and this library's
    // go, over the defaults (a field the caller's version lacks keeps its
    // default); copied bytewise, so neither alignment nor a shorter struct
    // is read past. Every field is an integer or a raw pointer: any bytes
    // are a valid value.
    // SAFETY: NULL is the defaults.
    let mut o = unsafe { sr_envelope_decrypt_options_ex::with_base(std::ptr::null()) };
    // SAFETY: the caller promises `size` readable bytes at `opts`; at most
    // `known` bytes are written into `o`, which has `known`.
    unsafe {
        std::ptr::copy_nonoverlapping(
            opts.cast::<u8>(),
            std::ptr::addr_of_mut!(o).cast::<u8>(),
            size.min(known),
        );
    }
    // SAFETY: forwarded caller promise on the arrays.
    let (mut options, unsigned_only) = unsafe { decrypt_options_from(&o.base) }?;
    // 0 is the default (a zero-initialised field); the range is core's rule,
    // whose message this binding completes with its own way to ask for it.
    let n = o.max_frame_buffer;
    options
        .set_max_frame_buffer((n != 0).then_some(n))
        .map_err(|e| Failure::validation(format!("{}; 0 selects the default", e.message())))?;
    Ok((options, unsigned_only))
}

/// The KMS keyring of a handle: strict over `key_ids` when some are given,
/// else (decrypt only; `ValidationException` to encrypt) discovery over
/// every key of the keystore; it sends the handle's grant tokens.
///
/// # Safety
/// `ks` a live handle; `key_ids` valid for `n` NUL-terminated strings.
pub(crate) unsafe fn kms_keyring(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    n: usize,
    encrypt: bool,
) -> Result<KmsKeyring, Failure> {
    // SAFETY: forwarded caller promises.
    let (h, ids) = unsafe { (handle(ks)?, str_array(key_ids, n, "key_ids")?) };
    let ks = &h.inner;
    let keyring = match (ids.is_empty(), encrypt) {
        (false, _) => ks.keyring(&ids)?,
        (true, false) => KmsKeyring::discovery(ks),
        (true, true) => {
            return Err(Failure::validation(
                "envelope encryption needs at least one key ID",
            ))
        }
    };
    Ok(keyring.with_grant_tokens(h.tokens())?)
}

/// # Safety
/// Both arrays valid for `n` strings.
unsafe fn required_context(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
) -> Result<EncryptionContext, Failure> {
    // SAFETY: forwarded caller promises.
    unsafe { context(keys, values, n, "required_ctx_keys", "required_ctx_values") }
}

/// Envelope-encrypts everything `read` yields into one AWS Encryption SDK
/// message (format version 2, committing suite) passed to `write`, in
/// constant memory, with the data key wrapped by KMS keys of the keystore:
/// the message is the one the CLI's `encrypt-file` writes, and
/// `decrypt-file` (or `sr_envelope_decrypt()`, or an AWS Encryption SDK
/// with an AWS KMS keyring pointed at a Strongroom endpoint) decrypts it.
///
/// The first key generates the data key (`GenerateDataKey`), every other key
/// wraps it too (`Encrypt`); each becomes an encrypted data key with provider
/// ID `aws-kms` and the key ARN as provider info. The calls run for the
/// handle's principal (key policy and grants apply, and each is audited)
/// and send the handle's grant tokens (`sr_keystore_with_grant_tokens()`).
///
/// Parameters:
/// - `key_ids`, `key_ids_len`: 1 or more key IDs, key ARNs, alias names or
///   alias ARNs of symmetric `ENCRYPT_DECRYPT` keys.
/// - context arrays: the encryption context, as in `sr_encrypt()`; stored
///   (authenticated, not encrypted) in the message header and bound to
///   every wrapped data key.
/// - `frame_length`: plaintext bytes per frame, 1 to 268435456 (256 MiB;
///   `SR_VALIDATION` otherwise, before anything is written), 0 for the
///   default (4096). 256 MiB is what the streaming decryption functions
///   (`sr_envelope_decrypt*()`, the CLI) buffer of a frame by default (their
///   max frame buffer), so every message written decrypts with them; a
///   message of another writer with larger frames is refused there
///   (`SR_LIMIT_EXCEEDED`) unless the max frame buffer is raised
///   (`sr_envelope_decrypt_with_options_ex()`), while the one-call
///   `sr_envelope_decrypt_message*()` accept every frame length.
/// - `suite_id`: 0 for the default `0x0578` (signed with ECDSA P-384), or
///   `0x0478` (unsigned).
/// - `read`/`read_user`, `write`/`write_user`: the callbacks and the
///   pointers passed back to them (may be NULL; never dereferenced here).
///   `read` is asked for 64 KiB at a time; `write` gets the message in pieces.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (no key,
/// frame length, suite), `SR_NOT_FOUND`, `SR_DISABLED`,
/// `SR_KMS_INVALID_STATE`, `SR_INVALID_KEY_USAGE`, `SR_ACCESS_DENIED` (the
/// principal may not use a key), `SR_INVALID_GRANT_TOKEN` (a grant token of
/// the handle was not issued by this keystore), `SR_IO` (a callback failed; the output is
/// incomplete and must be discarded), `SR_KMS_INTERNAL`. On any failure the
/// output written so far must be discarded.
///
/// # Safety
/// `ks` a live handle; strings NUL-terminated; arrays valid for their
/// lengths; the callbacks must follow their contracts (`sr_read_fn`,
/// `sr_write_fn`).
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
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
        // SAFETY: caller promises, as documented above.
        let (keyring, ctx) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, true)?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            )
        };
        encrypt_callbacks(
            &keyring,
            &ctx,
            frame_length,
            suite_id,
            (read, read_user, write, write_user),
        )
    })
}

/// Decrypts one AWS Encryption SDK message that `read` yields (made by
/// `sr_envelope_encrypt()`, the CLI's `encrypt-file`, or any ESDK with a
/// KMS keyring naming keys of this keystore), passing the plaintext to
/// `write`, in constant memory. Each data key is unwrapped with `Decrypt`
/// for the handle's principal (key policy and grants apply, and each call
/// is audited), sending the handle's grant tokens
/// (`sr_keystore_with_grant_tokens()`).
///
/// When plaintext reaches `write` (this is the facade's
/// `strongroom::envelope::decrypt_stream`):
/// - signed suites (`0x0578`, the default, and `0x0378`): nothing is passed
///   to `write` until the whole message, including its ECDSA signature, has
///   verified. The plaintext is staged meanwhile in an anonymous temporary
///   file in the system temporary directory (`$TMPDIR`, else `/tmp`), which
///   the operating system deletes when it is closed; memory stays constant.
///   A tampered, truncated or wrongly keyed message therefore fails without
///   any call to `write`.
/// - unsigned suites (`0x0478`, `0x0178`): each frame is passed to `write`
///   as soon as AES-GCM authenticates it. If a later frame fails or the
///   message is truncated, the call fails after `write` has received an
///   authenticated prefix, which the caller must discard.
///
/// In every case the plaintext is valid only if this function returns
/// `SR_OK`.
///
/// Parameters:
/// - `key_ids`, `key_ids_len`: the keys that may be used (strict; key IDs,
///   ARNs or aliases), or NULL and 0 for any key of this keystore
///   (discovery).
/// - `required_*` arrays: pairs that must be present, with these values, in
///   the message's encryption context (both NULL and 0 for none).
/// - `max_encrypted_data_keys`: refuse messages with more encrypted data
///   keys than this (`SR_VALIDATION`, before any is unwrapped), 1 to 65535;
///   0 for the default, `SR_DEFAULT_MAX_ENCRYPTED_DATA_KEYS` (10: each one
///   the keyring tries may cost a KMS Decrypt call), not a limit of 0
///   (which the AWS Encryption SDKs refuse); `SR_NO_MAX_ENCRYPTED_DATA_KEYS`
///   (65535) for no limit.
/// - callbacks as for `sr_envelope_encrypt()`.
///
/// Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate or
/// parse, truncation, no encrypted data key that a usable key unwraps, a
/// required context pair missing or different), `SR_VALIDATION` (too many
/// encrypted data keys, a non-committing suite, a header above 4 MiB),
/// `SR_LIMIT_EXCEEDED` (a frame length above 256 MiB, which Strongroom
/// never writes: raise the max frame buffer with
/// `sr_envelope_decrypt_with_options_ex()`, or decrypt such a message in
/// one call), `SR_DISABLED`,
/// `SR_KMS_INVALID_STATE` or `SR_ACCESS_DENIED` (the only key that could
/// unwrap the data key refused), `SR_INVALID_GRANT_TOKEN` (a grant token of
/// the handle was not issued by this keystore), `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
/// `SR_IO` (a callback failed), `SR_KMS_INTERNAL` (staging file).
///
/// # Safety
/// As `sr_envelope_encrypt()`.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    required_ctx_keys: *const *const c_char,
    required_ctx_values: *const *const c_char,
    required_ctx_len: usize,
    max_encrypted_data_keys: u16,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    let options = sr_envelope_decrypt_options {
        required_ctx_keys,
        required_ctx_values,
        required_ctx_len,
        max_encrypted_data_keys,
        ..sr_envelope_decrypt_options::DEFAULT
    };
    // SAFETY: forwarded caller promises.
    unsafe {
        sr_envelope_decrypt_with_options(
            ks,
            key_ids,
            key_ids_len,
            &options,
            read,
            read_user,
            write,
            write_user,
        )
    }
}

/// As `sr_envelope_decrypt()`, with the options in `*options` (NULL for the
/// defaults): required encryption context pairs, the encrypted data key
/// limit, the commitment policy (`SR_COMMITMENT_POLICY_*`; to read version 1
/// messages of older AWS Encryption SDKs) and the unsigned-only mode, in
/// which a signed message is refused before any plaintext is produced and
/// plaintext reaches `write` as its frames authenticate.
///
/// Errors: as `sr_envelope_decrypt()`; `SR_VALIDATION` also for an unknown
/// `commitment_policy`, for a non-committing suite under the default
/// policy, and for a signed suite with `unsigned_only`.
///
/// # Safety
/// As `sr_envelope_decrypt()`; `options` NULL or valid for a read, its
/// arrays valid for `required_ctx_len` strings.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_with_options(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    options: *const sr_envelope_decrypt_options,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        let options = sr_envelope_decrypt_options_ex::with_base(options);
        sr_envelope_decrypt_with_options_ex(
            ks,
            key_ids,
            key_ids_len,
            &options,
            read,
            read_user,
            write,
            write_user,
        )
    }
}

/// As `sr_envelope_decrypt_with_options()`, with the options in an
/// `sr_envelope_decrypt_options_ex` (NULL for the defaults): those of
/// `sr_envelope_decrypt_options` in `base`, and `max_frame_buffer`, the
/// largest frame this streaming decryption buffers (default 256 MiB).
/// The one-call `sr_envelope_decrypt_message*()` functions take no max
/// frame buffer: the whole message is in memory already, and they accept
/// every frame length.
///
/// Errors: as `sr_envelope_decrypt_with_options()`; `SR_LIMIT_EXCEEDED`
/// for a message whose frame length (or non-framed content length) is
/// above `max_frame_buffer`, once its header is read (before any key is
/// unwrapped or anything written; the message names the max frame
/// buffer); `SR_VALIDATION` also for a `struct_size` below the size of the
/// struct's first version or above 4096, for options set past the fields this
/// library knows (a `struct_size` from a newer header with non-zero bytes
/// past them), and for a `max_frame_buffer` above 4294967295.
///
/// # Safety
/// As `sr_envelope_decrypt()`; `options` NULL or valid for reads of its
/// `struct_size` bytes, the arrays of its `base` valid for
/// `required_ctx_len` strings.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_with_options_ex(
    ks: *const sr_keystore,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    options: *const sr_envelope_decrypt_options_ex,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (keyring, options) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, false)?,
                decrypt_options_ex_from(options)?,
            )
        };
        decrypt_callbacks(&keyring, &options, (read, read_user, write, write_user))
    })
}

/// Reads the header of the message that `read` yields and writes it to
/// `*out_json` as UTF-8 JSON (free with `sr_bytes_free()`): no key is
/// unwrapped and nothing is authenticated, so every field is untrusted.
/// `read` is asked for up to 4 KiB at a time until the header parses (at
/// most 4 MiB in all), so it may have consumed bytes past the header: the
/// stream is not left at the message body (read the message again to
/// decrypt it). The JSON is the CLI's `decrypt-file --show-header` output:
/// `{"AlgorithmSuiteId": "0x0578", "AlgorithmSuite": "...",
/// "MessageFormatVersion": 2, "MessageId": "<hex>", "EncryptionContext":
/// {...}, "EncryptedDataKeys": [{"ProviderId": "aws-kms", "ProviderInfo":
/// "<key ARN>", "CiphertextLength": 184}], "ContentType": "Framed",
/// "FrameLength": 4096}`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_CIPHERTEXT` (no well-formed
/// header), `SR_IO` (the callback failed).
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `read` must follow its contract (`sr_read_fn`); `out_json` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_read_header(
    read: sr_read_fn,
    read_user: *mut c_void,
    out_json: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        let out = out!(out_json);
        let read = read.ok_or_else(|| Failure::null("read"))?;
        let failure = IoFailure::default();
        let mut reader = CallbackReader {
            read,
            user: read_user,
            failure: &failure,
        };
        let header = env::read_header(&mut reader, DecryptOptions::default().max_header_length)
            .map_err(|e| failure.or(e))?;
        let json = env::header_json(&header).to_string();
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(sr_bytes::copy_of(json.as_bytes())) };
        Ok(())
    })
}

/// `sr_envelope_encrypt()` from the file `in_path` to the file `out_path`:
/// the message is written to a temporary file in `out_path`'s directory,
/// synced, and renamed to `out_path` only on success (a failure leaves
/// `out_path` as it was). A symbolic link `out_path` is written through:
/// the file it names is opened through it and rewritten in place once the
/// output is complete (its mode and owner kept; staged in `TMPDIR` until
/// then; its space reserved first, so on file systems that reserve a full
/// disk leaves it unchanged, but an I/O error during that copy can leave
/// it partly rewritten), the link kept. Paths are NUL-terminated
/// bytes.
///
/// Errors: as `sr_envelope_encrypt()`; `SR_VALIDATION`, naming the path,
/// before anything is written, when `in_path` is missing, unreadable or a
/// directory, `out_path` is a directory, a symbolic link that names no
/// file, or in a missing or unwritable
/// directory, both name the same file, or `out_path` is a file of a
/// keystore open in this process (the keystore, its `-wal`/`-shm`/`-journal`
/// file, audit log, root key file or the default one beside it, anchor
/// file; also through a link: writing it would destroy every key);
/// `SR_KMS_INTERNAL` only when the output cannot be written for another
/// reason (a full disk).
///
/// # Safety
/// As `sr_envelope_encrypt()`; paths NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_encrypt_file(
    ks: *const sr_keystore,
    in_path: *const c_char,
    out_path: *const c_char,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    ctx_keys: *const *const c_char,
    ctx_values: *const *const c_char,
    ctx_len: usize,
    frame_length: u32,
    suite_id: u16,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (keyring, ctx, in_path, out_path) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, true)?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
                c_bytes(in_path, "in_path")?,
                c_bytes(out_path, "out_path")?,
            )
        };
        let options = encrypt_options(frame_length, suite_id)?;
        env::encrypt_file(
            &keyring,
            &path_from(in_path, "in_path")?,
            &path_from(out_path, "out_path")?,
            &ctx,
            &options,
        )?;
        Ok(())
    })
}

/// `sr_envelope_decrypt()` from the file `in_path` to the file `out_path`,
/// for any suite: the plaintext goes to a temporary file in `out_path`'s
/// directory, which is synced and renamed to `out_path` only once the whole
/// message (and, for signed suites, its signature) has verified. On any
/// failure `out_path` is not created or changed, so it never holds
/// unauthenticated or partial plaintext. A symbolic link `out_path` is
/// written through, as `sr_envelope_encrypt_file()` says: the file it
/// names keeps its mode and is rewritten in place once the message has
/// verified (space reserved first; an I/O error during that last copy can
/// leave it partly rewritten).
///
/// Errors: as `sr_envelope_decrypt()`; the path errors of
/// `sr_envelope_encrypt_file()`.
///
/// # Safety
/// As `sr_envelope_decrypt()`; paths NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_file(
    ks: *const sr_keystore,
    in_path: *const c_char,
    out_path: *const c_char,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    required_ctx_keys: *const *const c_char,
    required_ctx_values: *const *const c_char,
    required_ctx_len: usize,
    max_encrypted_data_keys: u16,
) -> sr_result {
    let options = sr_envelope_decrypt_options {
        required_ctx_keys,
        required_ctx_values,
        required_ctx_len,
        max_encrypted_data_keys,
        ..sr_envelope_decrypt_options::DEFAULT
    };
    // SAFETY: forwarded caller promises.
    unsafe {
        sr_envelope_decrypt_file_with_options(ks, in_path, out_path, key_ids, key_ids_len, &options)
    }
}

/// As `sr_envelope_decrypt_file()`, with the options of
/// `sr_envelope_decrypt_with_options()`. With `unsigned_only`, a message of
/// a signed suite is refused (`SR_VALIDATION`) once its header is read,
/// before any key is unwrapped (the input is opened and read once); the
/// output is still staged and renamed only once the whole message is
/// authenticated.
///
/// Errors: as `sr_envelope_decrypt_with_options()`; the path errors of
/// `sr_envelope_encrypt_file()`.
///
/// # Safety
/// As `sr_envelope_decrypt_with_options()`; paths NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_file_with_options(
    ks: *const sr_keystore,
    in_path: *const c_char,
    out_path: *const c_char,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    options: *const sr_envelope_decrypt_options,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        let options = sr_envelope_decrypt_options_ex::with_base(options);
        sr_envelope_decrypt_file_with_options_ex(
            ks,
            in_path,
            out_path,
            key_ids,
            key_ids_len,
            &options,
        )
    }
}

/// As `sr_envelope_decrypt_file_with_options()`, with the options of
/// `sr_envelope_decrypt_with_options_ex()` (`max_frame_buffer` too; on
/// `SR_LIMIT_EXCEEDED` `out_path` is not created or changed).
///
/// Errors: as `sr_envelope_decrypt_with_options_ex()`; the path errors of
/// `sr_envelope_encrypt_file()`.
///
/// # Safety
/// As `sr_envelope_decrypt_with_options_ex()`; paths NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_file_with_options_ex(
    ks: *const sr_keystore,
    in_path: *const c_char,
    out_path: *const c_char,
    key_ids: *const *const c_char,
    key_ids_len: usize,
    options: *const sr_envelope_decrypt_options_ex,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (keyring, (options, unsigned_only), in_path, out_path) = unsafe {
            (
                kms_keyring(ks, key_ids, key_ids_len, false)?,
                decrypt_options_ex_from(options)?,
                c_bytes(in_path, "in_path")?,
                c_bytes(out_path, "out_path")?,
            )
        };
        let (in_path, out_path) = (
            path_from(in_path, "in_path")?,
            path_from(out_path, "out_path")?,
        );
        if unsigned_only {
            env::decrypt_file_unsigned_only(&keyring, &in_path, &out_path, &options)?;
        } else {
            env::decrypt_file(&keyring, &in_path, &out_path, &options)?;
        }
        Ok(())
    })
}

/// Longest raw AES wrapping key (AES-256).
const MAX_WRAPPING_KEY: usize = 32;

/// The raw AES keyring from C arguments.
///
/// # Safety
/// Strings NUL-terminated; `key` valid for `key_len` bytes.
pub(crate) unsafe fn raw_aes(
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
            bytes_at_most(key, key_len, "wrapping_key", MAX_WRAPPING_KEY)?,
        )
    };
    Ok(RawAesKeyring::new(namespace, name, key)?)
}

/// As `sr_envelope_encrypt()`, with the data key wrapped by a raw AES
/// keyring instead of KMS keys (no keystore involved): the message is the
/// one the AWS Encryption SDKs' raw AES keyring reads and writes.
///
/// Parameters:
/// - `key_namespace`, `key_name`: the raw AES keyring's provider ID and key
///   name (as in the AWS Encryption SDKs' raw AES keyring; the namespace must
///   not start with `aws-kms`). The same pair is needed to decrypt.
/// - `wrapping_key`: 16, 24 or 32 bytes, copied and zeroized after use (a
///   longer `wrapping_key_len` is `SR_VALIDATION` before it is read).
/// - the others as for `sr_envelope_encrypt()`.
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
        // SAFETY: caller promises, as documented above.
        let (keyring, ctx) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                context(ctx_keys, ctx_values, ctx_len, "ctx_keys", "ctx_values")?,
            )
        };
        encrypt_callbacks(
            &keyring,
            &ctx,
            frame_length,
            suite_id,
            (read, read_user, write, write_user),
        )
    })
}

/// As `sr_envelope_decrypt()` (the same rules for when plaintext reaches
/// `write`: signed suites only after the signature verifies, unsigned ones
/// frame by frame), with a raw AES keyring: the keyring as for
/// `sr_envelope_encrypt_raw_aes()`; `required_*` arrays: pairs that must be
/// present, with these values, in the message's encryption context (both
/// NULL and 0 for none).
///
/// Errors: `SR_INVALID_CIPHERTEXT` (anything that does not authenticate,
/// wrong keyring, malformed or truncated message; detail-free),
/// `SR_VALIDATION`, `SR_LIMIT_EXCEEDED` (a frame length above 256 MiB, as
/// for `sr_envelope_decrypt()`), `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`,
/// `SR_IO`, `SR_KMS_INTERNAL` (staging file).
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
    let options = sr_envelope_decrypt_options {
        required_ctx_keys,
        required_ctx_values,
        required_ctx_len,
        ..sr_envelope_decrypt_options::DEFAULT
    };
    // SAFETY: forwarded caller promises.
    unsafe {
        sr_envelope_decrypt_raw_aes_with_options(
            key_namespace,
            key_name,
            wrapping_key,
            wrapping_key_len,
            &options,
            read,
            read_user,
            write,
            write_user,
        )
    }
}

/// As `sr_envelope_decrypt_raw_aes()`, with the options of
/// `sr_envelope_decrypt_with_options()` (its `max_encrypted_data_keys`,
/// commitment policy and unsigned-only mode apply here too).
///
/// Errors: as `sr_envelope_decrypt_raw_aes()`; `SR_VALIDATION` also as
/// `sr_envelope_decrypt_with_options()`.
///
/// # Safety
/// As `sr_envelope_decrypt_raw_aes()`; `options` NULL or valid for a read,
/// its arrays valid for `required_ctx_len` strings.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_raw_aes_with_options(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    options: *const sr_envelope_decrypt_options,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        let options = sr_envelope_decrypt_options_ex::with_base(options);
        sr_envelope_decrypt_raw_aes_with_options_ex(
            key_namespace,
            key_name,
            wrapping_key,
            wrapping_key_len,
            &options,
            read,
            read_user,
            write,
            write_user,
        )
    }
}

/// As `sr_envelope_decrypt_raw_aes_with_options()`, with the options of
/// `sr_envelope_decrypt_with_options_ex()` (`max_frame_buffer` too).
///
/// Errors: as `sr_envelope_decrypt_raw_aes()`; `SR_LIMIT_EXCEEDED` and
/// `SR_VALIDATION` also as `sr_envelope_decrypt_with_options_ex()`.
///
/// # Safety
/// As `sr_envelope_decrypt_raw_aes()`; `options` as for
/// `sr_envelope_decrypt_with_options_ex()`.
#[no_mangle]
pub unsafe extern "C" fn sr_envelope_decrypt_raw_aes_with_options_ex(
    key_namespace: *const c_char,
    key_name: *const c_char,
    wrapping_key: *const u8,
    wrapping_key_len: usize,
    options: *const sr_envelope_decrypt_options_ex,
    read: sr_read_fn,
    read_user: *mut c_void,
    write: sr_write_fn,
    write_user: *mut c_void,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (keyring, options) = unsafe {
            (
                raw_aes(key_namespace, key_name, wrapping_key, wrapping_key_len)?,
                decrypt_options_ex_from(options)?,
            )
        };
        decrypt_callbacks(&keyring, &options, (read, read_user, write, write_user))
    })
}
