//! A small per-process cache of parsed keys.
//!
//! The seam takes keys as PKCS#8 (private) or SubjectPublicKeyInfo (public)
//! bytes on every call, and AWS-LC's parse validates the key (for RSA
//! private keys `RSA_check_key`, for EC a point multiplication; for public
//! keys the DER decoding, big-number set-up and, for EC, the on-curve
//! check), which costs as much as the operation itself or a good part of
//! it. Parsed keys are kept here, found by the SHA-256 of the DER document
//! (for public keys, of a one-byte algorithm tag and the SPKI, since a
//! parsed public key is bound to one verification algorithm), at most
//! [`CAPACITY`] per kind, least recently used dropped first; AWS-LC
//! zeroizes a private key's memory when its last reference goes.

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
        self.get_or_insert(id, || parse(pkcs8))
    }

    /// As [`get_or_parse`](Self::get_or_parse) for a key whose parsed form
    /// depends on `tag` as well as on `der` (a public key parsed for one
    /// verification algorithm).
    pub(crate) fn get_or_parse_tagged<E>(
        &self,
        tag: u8,
        der: &[u8],
        parse: impl FnOnce(&[u8]) -> core::result::Result<T, E>,
    ) -> core::result::Result<Arc<T>, E> {
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(&[tag]);
        ctx.update(der);
        let mut id: Id = [0u8; 32];
        id.copy_from_slice(ctx.finish().as_ref());
        self.get_or_insert(id, || parse(der))
    }

    fn get_or_insert<E>(
        &self,
        id: Id,
        parse: impl FnOnce() -> core::result::Result<T, E>,
    ) -> core::result::Result<Arc<T>, E> {
        if let Ok(mut v) = self.0.lock() {
            if let Some(i) = v.iter().position(|(k, _)| *k == id) {
                let hit = v.remove(i);
                let key = Arc::clone(&hit.1);
                v.push(hit);
                return Ok(key);
            }
        }
        let key = Arc::new(parse()?);
        if let Ok(mut v) = self.0.lock() {
            if v.len() >= CAPACITY {
                v.remove(0);
            }
            v.push((id, Arc::clone(&key)));
        }
        Ok(key)
    }
}
