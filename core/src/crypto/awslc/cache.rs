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
//! [`CAPACITY`] per kind (enough for a keystore's working set of
//! asymmetric keys, so that using more than a few dozen keys in turn does
//! not re-parse each one on every call), least recently used dropped first
//! (found in O(n) on a miss, which costs a parse anyway); AWS-LC
//! zeroizes a private key's memory when its last reference goes.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use std::sync::Mutex;

/// Parsed keys kept per kind.
pub(crate) const CAPACITY: usize = 1024;

type Id = [u8; 32];

/// Each entry with the tick of its last use.
struct Entries<T> {
    map: BTreeMap<Id, (Arc<T>, u64)>,
    tick: u64,
}

pub(crate) struct KeyCache<T>(Mutex<Entries<T>>);

impl<T> KeyCache<T> {
    pub(crate) const fn new() -> Self {
        Self(Mutex::new(Entries {
            map: BTreeMap::new(),
            tick: 0,
        }))
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
        if let Ok(mut guard) = self.0.lock() {
            let e = &mut *guard;
            e.tick += 1;
            if let Some((key, used)) = e.map.get_mut(&id) {
                *used = e.tick;
                return Ok(Arc::clone(key));
            }
        }
        let key = Arc::new(parse()?);
        if let Ok(mut guard) = self.0.lock() {
            let e = &mut *guard;
            if e.map.len() >= CAPACITY {
                let oldest = e
                    .map
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    e.map.remove(&k);
                }
            }
            e.tick += 1;
            let tick = e.tick;
            e.map.insert(id, (Arc::clone(&key), tick));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(i: usize) -> [u8; 8] {
        (i as u64).to_be_bytes()
    }

    #[test]
    fn hits_do_not_reparse_and_the_least_recently_used_goes_first() {
        let cache: KeyCache<usize> = KeyCache::new();
        let parses = core::cell::Cell::new(0usize);
        let get = |i: usize| {
            *cache
                .get_or_parse(&doc(i), |_| {
                    parses.set(parses.get() + 1);
                    Ok::<_, ()>(i)
                })
                .unwrap()
        };
        for i in 0..CAPACITY {
            assert_eq!(get(i), i);
        }
        assert_eq!(parses.get(), CAPACITY);
        // Touch key 0, then add one more: key 1 (now the oldest) is dropped.
        assert_eq!(get(0), 0);
        assert_eq!(get(CAPACITY), CAPACITY);
        assert_eq!(parses.get(), CAPACITY + 1);
        assert_eq!(get(0), 0);
        assert_eq!(parses.get(), CAPACITY + 1, "key 0 stayed");
        assert_eq!(get(1), 1);
        assert_eq!(
            parses.get(),
            CAPACITY + 2,
            "key 1 was dropped and parsed again"
        );
    }

    #[test]
    fn failures_are_not_cached_and_tags_keep_parses_apart() {
        let cache: KeyCache<u8> = KeyCache::new();
        assert_eq!(
            cache
                .get_or_parse(b"k", |_| Err::<u8, _>("bad"))
                .unwrap_err(),
            "bad"
        );
        assert_eq!(*cache.get_or_parse(b"k", |_| Ok::<_, ()>(7)).unwrap(), 7);
        let a = cache
            .get_or_parse_tagged(1, b"spki", |_| Ok::<_, ()>(1))
            .unwrap();
        let b = cache
            .get_or_parse_tagged(2, b"spki", |_| Ok::<_, ()>(2))
            .unwrap();
        assert_eq!((*a, *b), (1, 2));
        let a2 = cache
            .get_or_parse_tagged(1, b"spki", |_| Ok::<_, ()>(9))
            .unwrap();
        assert_eq!(*a2, 1);
    }
}
