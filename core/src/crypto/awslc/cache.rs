//! A small per-process cache of parsed private keys.
//!
//! The seam takes keys as PKCS#8 bytes on every call, and AWS-LC's parse
//! validates the key (for RSA `RSA_check_key`, for EC a point
//! multiplication), which costs as much as the operation itself or more.
//! Parsed keys are kept here, found by the SHA-256 of the PKCS#8 document,
//! at most [`CAPACITY`] per kind, least recently used dropped first; AWS-LC
//! zeroizes a key's memory when its last reference goes.

use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::Mutex;

/// Parsed keys kept per kind.
pub(crate) const CAPACITY: usize = 64;

type Id = [u8; 32];

/// Most recently used last.
pub(crate) struct KeyCache<T>(Mutex<Vec<(Id, Arc<T>)>>);

impl<T> KeyCache<T> {
    pub(crate) const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// The parsed key for `pkcs8`, parsing it with `parse` on a miss. A
    /// failed parse is not cached.
    pub(crate) fn get_or_parse<E>(
        &self,
        pkcs8: &[u8],
        parse: impl FnOnce(&[u8]) -> core::result::Result<T, E>,
    ) -> core::result::Result<Arc<T>, E> {
        let id: Id = super::digest::sha256(pkcs8);
        if let Ok(mut v) = self.0.lock() {
            if let Some(i) = v.iter().position(|(k, _)| *k == id) {
                let hit = v.remove(i);
                let key = Arc::clone(&hit.1);
                v.push(hit);
                return Ok(key);
            }
        }
        let key = Arc::new(parse(pkcs8)?);
        if let Ok(mut v) = self.0.lock() {
            if v.len() >= CAPACITY {
                v.remove(0);
            }
            v.push((id, Arc::clone(&key)));
        }
        Ok(key)
    }
}
