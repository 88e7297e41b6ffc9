//! The C API of Strongroom: `libstrongroom.so` / `libstrongroom.a` and the
//! generated header `include/strongroom.h`.
//!
//! A thin layer over the `strongroom` facade, modelled on rustls-ffi: opaque
//! handles, `sr_result` codes with stable numbers, outputs written only on
//! success, a panic boundary around every body, and every pointer
//! NULL-checked and every length checked before a slice is formed. Nothing
//! here decides anything about keys: it converts arguments and results.

// An FFI layer needs raw pointers; each unsafe block is small and says why
// it is sound. The general pointer contract is written once in the header
// preamble, and each function states its own.
#![allow(clippy::missing_safety_doc)]
// The KMS operations take many parameters; C has no keyword arguments.
#![allow(clippy::too_many_arguments)]

mod access;
mod asymmetric;
mod bytes;
mod crypto;
mod envelope;
mod keys;
mod keystore;
mod message;
mod ptr;
mod result;

pub use access::*;
pub use asymmetric::*;
pub use bytes::{sr_bytes, sr_bytes_free};
pub use crypto::*;
pub use envelope::*;
pub use keys::*;
pub use keystore::*;
pub use message::*;
pub use result::{sr_last_error_message, sr_result, sr_result_name};

use std::ffi::{c_char, CStr};

use result::Failure;

// The header's version macros. cbindgen cannot evaluate `env!`, so the
// numbers are literals and a unit test keeps them equal to Cargo.toml's
// version; `STRONGROOM_VERSION` (the string) is assembled from them in the
// header (cbindgen.toml).

/// Major part of `STRONGROOM_VERSION` (the Cargo.toml version of this header).
pub const STRONGROOM_VERSION_MAJOR: u32 = 0;
/// Minor part of `STRONGROOM_VERSION`.
pub const STRONGROOM_VERSION_MINOR: u32 = 1;
/// Patch part of `STRONGROOM_VERSION`.
pub const STRONGROOM_VERSION_PATCH: u32 = 0;

/// The ABI version of this header and library: the number in the shared
/// library's SONAME, `libstrongroom.so.0`. It changes only when something
/// already in the header changes incompatibly (new functions keep it), so a
/// program linked against `libstrongroom.so.N` runs with any later library
/// of the same N.
pub const STRONGROOM_SOVERSION: u32 = 0;

/// Largest element count of an array parameter (an encryption context's
/// `ctx_keys`/`ctx_values`, tag arrays, grant tokens, grant operations,
/// key IDs, archive paths): 65535, the most pairs an encryption context
/// can hold (its encoding counts them in 16 bits) and more than any other
/// list a KMS parameter takes (50 tags per key, 10 grant tokens). A larger
/// count is `SR_VALIDATION` before the array is read; parameters with a
/// smaller maximum say so and are refused at it.
pub const SR_MAX_ARRAY_LEN: usize = 65535;

const VERSION_C: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("version contains a NUL"),
    };

/// The version of the linked library, e.g. `"0.1.0"`; compare with the
/// header's `STRONGROOM_VERSION` to detect a header/library mismatch.
///
/// Ownership: static; never free it. Never fails, never NULL.
#[no_mangle]
pub extern "C" fn sr_version() -> *const c_char {
    VERSION_C.as_ptr()
}

/// The C convention "0 means not given" for optional counts and limits.
fn optional(n: u32) -> Option<u32> {
    (n != 0).then_some(n)
}

/// A response as its AWS-shaped JSON document.
fn json<T: serde::Serialize>(v: &T) -> Result<sr_bytes, Failure> {
    serde_json::to_vec(v)
        .map(|j| sr_bytes::copy_of(&j))
        .map_err(|e| Failure::new(sr_result::SR_KMS_INTERNAL, format!("JSON encoding: {e}")))
}

/// Writes a response as its AWS-shaped JSON document to a checked output.
///
/// # Safety
/// `out` must be valid for a write of an `sr_bytes`.
unsafe fn write_json<T: serde::Serialize>(out: ptr::Out<sr_bytes>, v: &T) -> Result<(), Failure> {
    let doc = json(v)?;
    // SAFETY: forwarded caller promise.
    unsafe { out.write(doc) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_soversion_is_the_soname_one() {
        assert_eq!(
            STRONGROOM_SOVERSION.to_string(),
            env!("STRONGROOM_SOVERSION")
        );
    }

    #[test]
    fn header_version_is_the_cargo_version() {
        assert_eq!(
            STRONGROOM_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            STRONGROOM_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            STRONGROOM_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        assert_eq!(
            VERSION_C.to_str().ok().map(str::to_string),
            Some(format!(
                "{STRONGROOM_VERSION_MAJOR}.{STRONGROOM_VERSION_MINOR}.{STRONGROOM_VERSION_PATCH}"
            ))
        );
    }
}
