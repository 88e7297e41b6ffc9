//! `sr_bytes`: byte strings the library allocates and the caller frees.

use zeroize::{Zeroize, Zeroizing};

use crate::result::Failure;

/// A byte string allocated by Strongroom: ciphertext blobs, plaintexts, data
/// keys, random bytes and JSON documents.
///
/// Ownership: the caller owns it after a successful call and must release
/// it exactly once with `sr_bytes_free()`, which overwrites the bytes with
/// zeros first. `ptr[len]` is always a NUL byte that is not counted in
/// `len`, so JSON documents can be used directly as C strings. Do not modify
/// `ptr` or `len`. Outputs are written only on success: initialise with
/// `SR_BYTES_INIT` so that freeing after a failure is harmless.
///
/// An output must be empty when passed in (`SR_BYTES_INIT`, or freed:
/// `sr_bytes_free()` resets it to `{NULL, 0}`, so a freed value can be
/// reused). One still holding bytes is overwritten on success without
/// being freed: those bytes leak, and a secret among them is never wiped.
/// The library does not refuse a non-empty output, since it cannot tell one
/// from an uninitialised value (which a caller that does not free after a
/// failure may pass).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug)]
pub struct sr_bytes {
    /// `len` bytes followed by a NUL; NULL only in a freed or initial value.
    pub ptr: *mut u8,
    /// Number of bytes, not counting the trailing NUL.
    pub len: usize,
}

impl sr_bytes {
    /// A copy of `src` (plus the trailing NUL) in a new allocation.
    pub(crate) fn copy_of(src: &[u8]) -> sr_bytes {
        let mut v = Vec::with_capacity(src.len() + 1);
        v.extend_from_slice(src);
        v.push(0);
        // Exact capacity, so no copy of secret bytes is left behind by a reallocation.
        let boxed = v.into_boxed_slice();
        let len = boxed.len() - 1;
        sr_bytes {
            ptr: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }

    /// As [`copy_of`](Self::copy_of), failing with `SR_LIMIT_EXCEEDED`
    /// instead of aborting when the memory cannot be allocated (for copies
    /// as large as a message or its plaintext).
    pub(crate) fn try_copy_of(src: &[u8]) -> Result<sr_bytes, Failure> {
        let mut v = Vec::new();
        reserve_exact(&mut v, src.len())?;
        v.extend_from_slice(src);
        Ok(sr_bytes::from_exact(v))
    }

    /// The bytes of `v`, which must not be secret (its allocation may move
    /// to make room for the trailing NUL, leaving the old one unwiped):
    /// no copy when `v` has room for the NUL, e.g. a message built in an
    /// exact allocation, whose growth by one byte a large (`mmap`)
    /// allocation makes without copying. `SR_LIMIT_EXCEEDED` if the memory
    /// cannot be allocated.
    pub(crate) fn try_from_public(mut v: Vec<u8>) -> Result<sr_bytes, Failure> {
        if v.capacity() == v.len() {
            reserve_exact(&mut v, 0)?;
        }
        Ok(sr_bytes::from_exact(v))
    }

    /// The bytes of `v`, which may be secret: no copy when `v`'s capacity
    /// is exactly its length plus the trailing NUL (an output reserved with
    /// [`reserve_exact`] at its final length), so that the allocation never
    /// moves; otherwise a copy ([`try_copy_of`](Self::try_copy_of)) and `v`
    /// wiped when it drops. `SR_LIMIT_EXCEEDED` if the memory cannot be
    /// allocated.
    pub(crate) fn try_from_secret(mut v: Zeroizing<Vec<u8>>) -> Result<sr_bytes, Failure> {
        if v.len().checked_add(1) == Some(v.capacity()) {
            return Ok(sr_bytes::from_exact(std::mem::take(&mut *v)));
        }
        sr_bytes::try_copy_of(&v)
    }

    /// `v` with room for the trailing NUL (capacity more than its length).
    fn from_exact(mut v: Vec<u8>) -> sr_bytes {
        v.push(0);
        // Shrinks only when the capacity is not exact: public bytes
        // (`try_from_public`), or never (`try_copy_of`, `try_from_secret`).
        let boxed = v.into_boxed_slice();
        let len = boxed.len() - 1;
        sr_bytes {
            ptr: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }
}

/// Room in `v` for `additional` bytes and the trailing NUL, exactly;
/// `SR_LIMIT_EXCEEDED` if the memory cannot be allocated.
pub(crate) fn reserve_exact(v: &mut Vec<u8>, additional: usize) -> Result<(), Failure> {
    additional
        .checked_add(1)
        .and_then(|n| v.try_reserve_exact(n).ok())
        .ok_or_else(|| {
            Failure::new(
                crate::result::sr_result::SR_LIMIT_EXCEEDED,
                format!(
                    "the output ({} bytes) does not fit in memory",
                    v.len().saturating_add(additional)
                ),
            )
        })
}

/// Zeroizes and frees the bytes of `*bytes`, then sets `bytes->ptr` to NULL
/// and `bytes->len` to 0.
///
/// `sr_bytes_free(NULL)` and freeing an `SR_BYTES_INIT` or already-freed
/// value are no-ops. Never fails.
///
/// # Safety
/// `bytes`, if non-NULL, must point to an `sr_bytes` that is either
/// `{NULL, 0}` or was filled by a Strongroom function and not modified.
#[no_mangle]
pub unsafe extern "C" fn sr_bytes_free(bytes: *mut sr_bytes) {
    let _ = crate::result::guard(|| {
        let Some(mut b) = std::ptr::NonNull::new(bytes) else {
            return Ok(());
        };
        // SAFETY: non-NULL; the caller promises a valid sr_bytes.
        let b = unsafe { b.as_mut() };
        if b.ptr.is_null() {
            return Ok(());
        }
        // SAFETY: ptr/len came from `copy_of`: a boxed slice of len + 1 bytes
        // that has not been freed (freeing resets ptr to NULL).
        let mut boxed =
            unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(b.ptr, b.len + 1)) };
        boxed.zeroize();
        drop(boxed);
        b.ptr = std::ptr::null_mut();
        b.len = 0;
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A freed output is empty (`{NULL, 0}`), so it can be passed again;
    /// freeing it twice is harmless.
    #[test]
    fn sr_bytes_free_empties_the_value_for_reuse() {
        let mut b = sr_bytes::copy_of(b"secret");
        assert!(!b.ptr.is_null());
        // SAFETY: a value filled by `copy_of`, not modified.
        unsafe { sr_bytes_free(&mut b) };
        assert!(b.ptr.is_null());
        assert_eq!(b.len, 0);
        // SAFETY: an empty value.
        unsafe { sr_bytes_free(&mut b) };
        assert!(b.ptr.is_null());
    }

    /// The generated header tells, at every function with an `sr_bytes`
    /// output, that the output must be empty on entry (one holding bytes
    /// is overwritten, not freed).
    #[test]
    fn every_function_with_an_sr_bytes_output_says_it_must_be_empty() {
        let header = include_str!("../../../include/strongroom.h");
        let mut seen = 0;
        // Each declaration follows its doc comment (`/** … */`).
        for chunk in header.split("/**").skip(1) {
            let Some((doc, decl)) = chunk.split_once("*/") else {
                continue;
            };
            let decl = decl.split(';').next().unwrap_or("");
            let Some(name) = decl
                .split('(')
                .next()
                .and_then(|d| d.split_whitespace().last())
            else {
                continue;
            };
            if !decl.contains("sr_bytes *") || name == "sr_bytes_free" {
                continue;
            }
            let doc = doc.replace("\n *", "");
            assert!(
                doc.contains("outputs must be empty on entry")
                    && doc.contains("overwritten on success, not freed"),
                "{name}"
            );
            seen += 1;
        }
        assert!(seen >= 32, "{seen} functions with an sr_bytes output");
    }
}
