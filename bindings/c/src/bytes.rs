//! `sr_bytes`: byte strings the library allocates and the caller frees.

use zeroize::Zeroize;

/// A byte string allocated by Strongroom: ciphertext blobs, plaintexts, data
/// keys, random bytes and JSON documents.
///
/// Ownership: the caller owns it after a successful call and must release
/// it exactly once with `sr_bytes_free()`, which overwrites the bytes with
/// zeros first. `ptr[len]` is always a NUL byte that is not counted in
/// `len`, so JSON documents can be used directly as C strings. Do not modify
/// `ptr` or `len`. Outputs are written only on success: initialise with
/// `SR_BYTES_INIT` so that freeing after a failure is harmless.
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
