//! `sr_result`, the thread's last error message, and the panic boundary
//! every `extern "C"` body runs in.

use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The outcome of every fallible Strongroom function.
///
/// The numbers are stable and never reused: `SR_OK` is 0, the binding's own
/// failures are 1–99, and the AWS KMS exceptions start at 100 (new
/// exceptions get new numbers at the end). `sr_result_name()` gives the KMS
/// exception name of a code and `sr_last_error_message()` the message of the
/// last failure on the calling thread.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum sr_result {
    /// Success; every output has been written.
    SR_OK = 0,
    /// A pointer that must not be NULL was NULL (the message names the parameter).
    SR_NULL_PARAMETER = 1,
    /// A caller buffer is too small; `*out_len` holds the size needed.
    SR_BUFFER_TOO_SMALL = 2,
    /// A C string (key ID, alias, context key or value, ...) is not UTF-8.
    SR_INVALID_UTF8 = 3,
    /// Reading or writing through a caller's callback or file failed.
    SR_IO = 4,
    /// A bug: a Rust panic was stopped at the library boundary. No output is
    /// released: no out-parameter is set, and the plaintext
    /// `sr_envelope_decrypt_message_into()` wrote to the caller's buffer is
    /// overwritten with zeros (as on any failure).
    SR_PANIC = 5,
    /// `sr_verify_audit_log()`: the audit log was read and does not verify
    /// (a record was edited, deleted, inserted or reordered, or the log was
    /// cut short); the message names the first bad record and why.
    SR_AUDIT_LOG_NOT_INTACT = 6,
    /// `AccessDeniedException`, e.g. the root key does not open the keystore.
    SR_ACCESS_DENIED = 100,
    /// `AlreadyExistsException`.
    SR_ALREADY_EXISTS = 101,
    /// `DisabledException`: the key is disabled.
    SR_DISABLED = 102,
    /// `DryRunOperationException`.
    SR_DRY_RUN_OPERATION = 103,
    /// `ExpiredImportTokenException`.
    SR_EXPIRED_IMPORT_TOKEN = 104,
    /// `IncorrectKeyException`: the ciphertext was not made with the key named.
    SR_INCORRECT_KEY = 105,
    /// `IncorrectKeyMaterialException`.
    SR_INCORRECT_KEY_MATERIAL = 106,
    /// `InvalidAliasNameException`.
    SR_INVALID_ALIAS_NAME = 107,
    /// `InvalidArnException`.
    SR_INVALID_ARN = 108,
    /// `InvalidCiphertextException`: every decryption failure (detail-free by design).
    SR_INVALID_CIPHERTEXT = 109,
    /// `InvalidGrantIdException`.
    SR_INVALID_GRANT_ID = 110,
    /// `InvalidGrantTokenException`.
    SR_INVALID_GRANT_TOKEN = 111,
    /// `InvalidImportTokenException`.
    SR_INVALID_IMPORT_TOKEN = 112,
    /// `InvalidKeyUsageException`.
    SR_INVALID_KEY_USAGE = 113,
    /// `InvalidMarkerException`.
    SR_INVALID_MARKER = 114,
    /// `KMSInternalException`: storage or I/O failure inside the keystore.
    SR_KMS_INTERNAL = 115,
    /// `KMSInvalidMacException`.
    SR_KMS_INVALID_MAC = 116,
    /// `KMSInvalidSignatureException`.
    SR_KMS_INVALID_SIGNATURE = 117,
    /// `KMSInvalidStateException`: the key's state does not allow the operation.
    SR_KMS_INVALID_STATE = 118,
    /// `KeyUnavailableException`.
    SR_KEY_UNAVAILABLE = 119,
    /// `LimitExceededException`.
    SR_LIMIT_EXCEEDED = 120,
    /// `MalformedPolicyDocumentException`.
    SR_MALFORMED_POLICY_DOCUMENT = 121,
    /// `NotFoundException`: no such key, alias or keystore.
    SR_NOT_FOUND = 122,
    /// `TagException`.
    SR_TAG = 123,
    /// `UnsupportedOperationException`.
    SR_UNSUPPORTED_OPERATION = 124,
    /// `ValidationException`: a parameter is missing, malformed or out of range.
    SR_VALIDATION = 125,
}

use sr_result::*;

/// Every code with its name; KMS codes carry the exact exception name, so
/// this table is also the map from `sr::ErrorKind` to `sr_result`.
const NAMES: &[(sr_result, &CStr)] = &[
    (SR_OK, c"OK"),
    (SR_NULL_PARAMETER, c"NullParameter"),
    (SR_BUFFER_TOO_SMALL, c"BufferTooSmall"),
    (SR_INVALID_UTF8, c"InvalidUtf8"),
    (SR_IO, c"IoError"),
    (SR_PANIC, c"Panic"),
    (SR_AUDIT_LOG_NOT_INTACT, c"AuditLogNotIntact"),
    (SR_ACCESS_DENIED, c"AccessDeniedException"),
    (SR_ALREADY_EXISTS, c"AlreadyExistsException"),
    (SR_DISABLED, c"DisabledException"),
    (SR_DRY_RUN_OPERATION, c"DryRunOperationException"),
    (SR_EXPIRED_IMPORT_TOKEN, c"ExpiredImportTokenException"),
    (SR_INCORRECT_KEY, c"IncorrectKeyException"),
    (SR_INCORRECT_KEY_MATERIAL, c"IncorrectKeyMaterialException"),
    (SR_INVALID_ALIAS_NAME, c"InvalidAliasNameException"),
    (SR_INVALID_ARN, c"InvalidArnException"),
    (SR_INVALID_CIPHERTEXT, c"InvalidCiphertextException"),
    (SR_INVALID_GRANT_ID, c"InvalidGrantIdException"),
    (SR_INVALID_GRANT_TOKEN, c"InvalidGrantTokenException"),
    (SR_INVALID_IMPORT_TOKEN, c"InvalidImportTokenException"),
    (SR_INVALID_KEY_USAGE, c"InvalidKeyUsageException"),
    (SR_INVALID_MARKER, c"InvalidMarkerException"),
    (SR_KMS_INTERNAL, c"KMSInternalException"),
    (SR_KMS_INVALID_MAC, c"KMSInvalidMacException"),
    (SR_KMS_INVALID_SIGNATURE, c"KMSInvalidSignatureException"),
    (SR_KMS_INVALID_STATE, c"KMSInvalidStateException"),
    (SR_KEY_UNAVAILABLE, c"KeyUnavailableException"),
    (SR_LIMIT_EXCEEDED, c"LimitExceededException"),
    (
        SR_MALFORMED_POLICY_DOCUMENT,
        c"MalformedPolicyDocumentException",
    ),
    (SR_NOT_FOUND, c"NotFoundException"),
    (SR_TAG, c"TagException"),
    (SR_UNSUPPORTED_OPERATION, c"UnsupportedOperationException"),
    (SR_VALIDATION, c"ValidationException"),
];

impl sr_result {
    /// The code of a KMS exception kind; a kind this table does not know yet
    /// becomes `SR_KMS_INTERNAL` (a unit test keeps the table complete).
    pub(crate) fn from_kind(kind: sr::ErrorKind) -> sr_result {
        let code = kind.code().as_bytes();
        NAMES
            .iter()
            .find(|(r, n)| *r as u32 >= 100 && n.to_bytes() == code)
            .map_or(SR_KMS_INTERNAL, |(r, _)| *r)
    }

    fn name(code: u32) -> &'static CStr {
        NAMES
            .iter()
            .find(|(r, _)| *r as u32 == code)
            .map_or(c"Unknown", |(_, n)| n)
    }
}

/// A failure on its way to the C caller: a code and a message for
/// `sr_last_error_message()`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: sr_result,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: sr_result, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(parameter: &str) -> Self {
        Failure::new(
            SR_NULL_PARAMETER,
            format!("parameter `{parameter}` must not be NULL"),
        )
    }

    pub(crate) fn utf8(parameter: &str) -> Self {
        Failure::new(
            SR_INVALID_UTF8,
            format!("parameter `{parameter}` is not valid UTF-8"),
        )
    }

    pub(crate) fn too_small(parameter: &str, needed: usize) -> Self {
        Failure::new(
            SR_BUFFER_TOO_SMALL,
            format!("buffer `{parameter}` is too small: {needed} bytes needed"),
        )
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Failure::new(SR_VALIDATION, message)
    }
}

impl From<sr::Error> for Failure {
    fn from(e: sr::Error) -> Self {
        Failure::new(sr_result::from_kind(e.kind()), e.message())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(mut message: String) {
    // A message may quote caller bytes that hold a NUL (a root key file path
    // or variable name given with a length); C would read it cut short there.
    if message.contains('\0') {
        message = message.replace('\0', "\\0");
    }
    // try_with: during thread teardown the slot may be gone; losing the
    // message then is better than aborting.
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            *m = message;
        }
    });
}

/// Runs an `extern "C"` body: a panic becomes `SR_PANIC`, a failure its code,
/// and either one this thread's last error message.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> sr_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => SR_OK,
        Ok(Err(f)) => {
            set_last_error(f.message);
            f.code
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(format!("internal error (panic): {what}"));
            SR_PANIC
        }
    }
}

/// The name of a result code: the AWS KMS exception name for KMS codes
/// (e.g. `"NotFoundException"` for `SR_NOT_FOUND`), `"OK"`, `"NullParameter"`,
/// `"BufferTooSmall"`, `"InvalidUtf8"`, `"IoError"`, `"Panic"` or
/// `"AuditLogNotIntact"` for the others, and `"Unknown"` for a number that is not an `sr_result`.
///
/// Ownership: the string is static; never free it. Never fails, never NULL.
#[no_mangle]
pub extern "C" fn sr_result_name(code: u32) -> *const c_char {
    sr_result::name(code).as_ptr()
}

/// Copies the message of the last failure on the calling thread (as a
/// NUL-terminated string) into `buf`.
///
/// Each failing Strongroom call replaces the message; successful calls leave
/// it alone, and this function never changes it. Before any failure the
/// message is empty. Messages never contain key material or plaintext.
///
/// Parameters: `buf` may be NULL only when `len` is 0 (a size query).
/// `out_len` must not be NULL; it receives the size the message needs
/// including its terminating NUL, on `SR_OK` and on `SR_BUFFER_TOO_SMALL`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL` (nothing copied).
///
/// # Safety
/// `buf` must be valid for `len` bytes of writes; `out_len` valid for one write.
#[no_mangle]
pub unsafe extern "C" fn sr_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let message = LAST_ERROR
            .try_with(|m| m.try_borrow().map(|m| m.clone()).unwrap_or_default())
            .unwrap_or_default();
        // SAFETY: the caller promises `buf` is valid for `len` bytes and
        // `out_len` for one write; `write_c_string` NULL-checks both.
        match unsafe { crate::ptr::write_c_string(&message, "buf", buf, len, out_len) } {
            Ok(()) => SR_OK,
            Err(f) => f.code,
        }
    }));
    r.unwrap_or(SR_PANIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_its_own_code_and_name() {
        let mut seen = std::collections::HashSet::new();
        for kind in sr::ErrorKind::ALL {
            let code = sr_result::from_kind(*kind);
            assert!(code as u32 >= 100, "{kind:?}");
            assert_eq!(
                sr_result::name(code as u32).to_str().ok(),
                Some(kind.code())
            );
            assert!(seen.insert(code as u32), "{kind:?} shares a code");
        }
        assert_eq!(seen.len(), NAMES.len() - 7, "stale entries in NAMES");
    }

    #[test]
    fn codes_and_names_are_unique() {
        let mut nums = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for (r, n) in NAMES {
            assert!(nums.insert(*r as u32));
            assert!(names.insert(*n));
        }
        assert_eq!(sr_result::name(9999), c"Unknown");
    }

    #[test]
    fn guard_turns_a_panic_into_sr_panic() {
        #[allow(clippy::panic)]
        let r = guard(|| panic!("boom"));
        assert_eq!(r, SR_PANIC);
        let msg = LAST_ERROR.with(|m| m.borrow().clone());
        assert!(msg.contains("boom"), "{msg}");
    }
}
