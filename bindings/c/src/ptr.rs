//! Turning C arguments into Rust values: every pointer is NULL-checked and
//! every length checked before a slice is formed; and writing outputs.

use std::ffi::{c_char, CStr};
use std::ptr::NonNull;

use sr::EncryptionContext;

use crate::result::Failure;

/// The non-NULL form of a pointer argument, or an early
/// `Err(Failure::null("name"))` naming the parameter.
macro_rules! non_null {
    ($p:ident) => {
        match ::std::ptr::NonNull::new($p as *mut _) {
            Some(p) => p,
            None => return Err($crate::result::Failure::null(stringify!($p))),
        }
    };
}
pub(crate) use non_null;

/// An out-parameter that was checked non-NULL before the operation ran, so
/// that a NULL output never causes an operation to happen without its
/// result being delivered.
#[derive(Debug)]
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    pub(crate) fn new(p: NonNull<T>) -> Self {
        Out(p)
    }

    /// Writes without reading or dropping the old (possibly uninitialised) value.
    ///
    /// # Safety
    /// The pointer must be valid and aligned for one write of `T`.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL by construction; validity and alignment are the
        // caller's promise, stated on every extern function.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Checks that the out-parameters `outs` (each with its parameter name)
/// are different objects: one `sr_bytes` given for two outputs would have
/// the second write overwrite the first without freeing or zeroizing it
/// (a data key's plaintext overwritten by its blob, leaked). Nothing has
/// run yet when this fails.
///
/// # Errors
/// `SR_VALIDATION` naming the first two parameters that are the same pointer.
pub(crate) fn distinct<T>(outs: &[(&str, &Out<T>)]) -> Result<(), Failure> {
    for (i, (a, pa)) in outs.iter().enumerate() {
        if let Some((b, _)) = outs[..i].iter().find(|(_, pb)| pb.0 == pa.0) {
            return Err(Failure::validation(format!(
                "{b} and {a} are the same sr_bytes; give each output its own"
            )));
        }
    }
    Ok(())
}

/// The out-parameter `$p`, NULL-checked.
macro_rules! out {
    ($p:ident) => {
        $crate::ptr::Out::new($crate::ptr::non_null!($p))
    };
}
pub(crate) use out;

/// Largest element count of an array of `T` that a slice may have.
fn max_len<T>() -> usize {
    isize::MAX as usize / std::mem::size_of::<T>().max(1)
}

/// A byte slice from `(p, len)`. `p` may be NULL when `len` is 0.
///
/// # Safety
/// When `len > 0`, `p` must be valid for `len` bytes of reads for `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if len > max_len::<u8>() {
        return Err(Failure::validation(format!("`{name}` length is too large")));
    }
    // SAFETY: p is non-NULL, len is within isize::MAX, and the caller
    // promises p is valid for len bytes.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Largest `Signature`, `Mac`, `ImportToken` and `EncryptedKeyMaterial`
/// AWS KMS accepts (bytes; longer is a `ValidationException`).
pub(crate) const MAX_KMS_BLOB: usize = 6144;

/// As [`bytes`], for a parameter of at most `max` bytes (its AWS KMS length
/// constraint): a longer `len` is `SR_VALIDATION`, found before the memory
/// is read, so a length far beyond the limit (a wrong or uninitialised
/// variable) is an error instead of a read past the buffer or an
/// allocation that aborts the process.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn bytes_at_most<'a>(
    p: *const u8,
    len: usize,
    name: &str,
    max: usize,
) -> Result<&'a [u8], Failure> {
    if len > 0 && p.is_null() {
        return Err(Failure::null(name));
    }
    if len > max {
        return Err(Failure::validation(format!(
            "`{name}` must be at most {max} bytes; it is {len} bytes"
        )));
    }
    // SAFETY: forwarded caller promise.
    unsafe { bytes(p, len, name) }
}

/// The UTF-8 text of a NUL-terminated string.
///
/// # Safety
/// `p`, if non-NULL, must point to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: p is non-NULL and the caller promises a NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|_| Failure::utf8(name))
}

/// As [`c_str`], with NULL meaning "absent".
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn opt_c_str<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded caller promise.
    unsafe { c_str(p, name) }.map(Some)
}

/// The raw bytes of a NUL-terminated string (paths need not be UTF-8).
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn c_bytes<'a>(p: *const c_char, name: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: p is non-NULL and the caller promises a NUL-terminated string.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// As [`c_bytes`], `None` for NULL (an optional path).
///
/// # Safety
/// As [`c_str`], when `p` is not NULL.
pub(crate) unsafe fn opt_c_bytes<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a [u8]>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded caller promise.
    unsafe { c_bytes(p, name) }.map(Some)
}

/// `n` strings from an array of `n` string pointers. `p` may be NULL when `n` is 0.
///
/// # Safety
/// When `n > 0`, `p` must be valid for `n` pointer reads, each pointing to a
/// NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_array<'a>(
    p: *const *const c_char,
    n: usize,
    name: &str,
) -> Result<Vec<&'a str>, Failure> {
    // SAFETY: the caller's promise of n readable C strings, passed on
    // (NULL elements are refused by `c_str`).
    unsafe { ptr_array(p, n, name, |s, item| c_str(s, item)) }
}

/// `n` byte strings (paths) from an array of `n` string pointers, as
/// [`str_array`] without the UTF-8 requirement ([`c_bytes`]).
///
/// # Safety
/// As [`str_array`].
pub(crate) unsafe fn bytes_array<'a>(
    p: *const *const c_char,
    n: usize,
    name: &str,
) -> Result<Vec<&'a [u8]>, Failure> {
    // SAFETY: the caller's promise of n readable C strings, passed on
    // (NULL elements are refused by `c_bytes`).
    unsafe { ptr_array(p, n, name, |s, item| c_bytes(s, item)) }
}

/// The `n` elements of an array of `n` C string pointers, each read by
/// `read` (given the element and its name, `name[i]`): empty for `n` 0
/// (`p` may then be NULL), `SR_NULL_PARAMETER` for a NULL `p` otherwise,
/// `SR_VALIDATION` for a count above [`crate::SR_MAX_ARRAY_LEN`] (before
/// the array is read), and the first element's failure.
///
/// # Safety
/// As [`str_array`]; `read` must be safe to call on each element.
unsafe fn ptr_array<'a, T: 'a>(
    p: *const *const c_char,
    n: usize,
    name: &str,
    read: impl Fn(*const c_char, &str) -> Result<T, Failure>,
) -> Result<Vec<T>, Failure> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    if n > crate::SR_MAX_ARRAY_LEN {
        return Err(Failure::validation(format!(
            "`{name}` must have at most {} elements; its count is {n}",
            crate::SR_MAX_ARRAY_LEN
        )));
    }
    // SAFETY: p is non-NULL, aligned as the C type requires, n is bounded,
    // and the caller promises n readable elements.
    let ptrs = unsafe { std::slice::from_raw_parts(p, n) };
    ptrs.iter()
        .enumerate()
        .map(|(i, s)| read(*s, &format!("{name}[{i}]")))
        .collect()
}

/// `n` (key, value) pairs from two parallel string arrays.
///
/// # Safety
/// As [`str_array`] for both arrays.
pub(crate) unsafe fn pairs<'a>(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
    keys_name: &str,
    values_name: &str,
) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    // SAFETY: forwarded caller promises.
    let k = unsafe { str_array(keys, n, keys_name) }?;
    // SAFETY: forwarded caller promises.
    let v = unsafe { str_array(values, n, values_name) }?;
    Ok(k.into_iter().zip(v).collect())
}

/// An encryption context from parallel key and value arrays.
///
/// # Safety
/// As [`str_array`] for both arrays.
pub(crate) unsafe fn context(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
    keys_name: &str,
    values_name: &str,
) -> Result<EncryptionContext, Failure> {
    // SAFETY: forwarded caller promises.
    let p = unsafe { pairs(keys, values, n, keys_name, values_name) }?;
    Ok(EncryptionContext::from_pairs(p)?)
}

/// A caller buffer for a NUL-terminated string: `buf` of `len` bytes and
/// `out_len`, which receives the size needed including the NUL.
#[derive(Debug)]
pub(crate) struct StrOut {
    name: &'static str,
    buf: *mut c_char,
    len: usize,
    out_len: Out<usize>,
}

impl StrOut {
    /// Checks the pointers; `buf` may be NULL only with `len` 0.
    pub(crate) fn new(
        name: &'static str,
        buf: *mut c_char,
        len: usize,
        out_len: Out<usize>,
    ) -> Result<Self, Failure> {
        if buf.is_null() && len != 0 {
            return Err(Failure::null(name));
        }
        Ok(StrOut {
            name,
            buf,
            len,
            out_len,
        })
    }

    /// Fails with `SR_BUFFER_TOO_SMALL` (reporting `needed`) unless the
    /// buffer holds `needed` bytes; used before operations with effects.
    ///
    /// # Safety
    /// `out_len` must be valid for one write.
    pub(crate) unsafe fn reserve(&self, needed: usize) -> Result<(), Failure> {
        if self.len < needed {
            // SAFETY: caller promise; the pointer was checked non-NULL.
            unsafe { self.out_len.0.as_ptr().write(needed) };
            return Err(Failure::too_small(self.name, needed));
        }
        Ok(())
    }

    /// Copies `s` and a NUL into the buffer and sets `*out_len`.
    ///
    /// # Safety
    /// `buf` valid for `len` bytes of writes, `out_len` for one write.
    pub(crate) unsafe fn write(self, s: &str) -> Result<(), Failure> {
        let needed = s.len() + 1;
        // SAFETY: forwarded caller promise.
        unsafe { self.reserve(needed) }?;
        // SAFETY: buf is non-NULL (len >= needed > 0) and valid for len >=
        // needed bytes; the source is a distinct Rust string.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), self.buf.cast::<u8>(), s.len());
            self.buf.add(s.len()).write(0);
        }
        // SAFETY: caller promise.
        unsafe { self.out_len.write(needed) };
        Ok(())
    }
}

/// [`StrOut::write`] for functions that take the three raw arguments.
///
/// # Safety
/// As [`StrOut::write`].
pub(crate) unsafe fn write_c_string(
    s: &str,
    name: &'static str,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    let out = StrOut::new(name, buf, len, Out::new(non_null!(out_len)))?;
    // SAFETY: forwarded caller promise.
    unsafe { out.write(s) }
}
