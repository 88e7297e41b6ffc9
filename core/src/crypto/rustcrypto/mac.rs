//! HMAC (RFC 2104, FIPS 198-1) through the RustCrypto `hmac` crate.

pub use crate::crypto::mac::HMAC_SHA256_LEN;
use alloc::vec::Vec;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::crypto::mac::HmacHash;

use crate::error::{Error, Result};

/// HMAC-SHA256 over the concatenation of `parts`; returns the 32-byte tag.
///
/// # Errors
/// `KMSInternalException` only if the HMAC implementation rejects the key,
/// which RFC 2104 HMAC never does (keys of every length are allowed).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<[u8; HMAC_SHA256_LEN]> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| Error::internal("HMAC key rejected"))?;
    for p in parts {
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// An HMAC-SHA256 key with its inner and outer hash states computed once
/// (RFC 2104 §4: the keyed states are the same for every message), for a
/// caller that MACs many messages under one key, such as the audit chain.
/// The states are as secret as the key, and are wiped when this (or a
/// clone, or the copy [`HmacSha256Key::tag`] works on) is dropped: the two
/// SHA-256 block states through `sha2`'s `zeroize` feature, the block
/// buffer through `hmac`'s (a compile-time check in this module holds
/// every build to both).
/// What no type can wipe are the bytes a move leaves behind in a dead
/// stack slot, as for every Rust value.
#[derive(Clone)]
pub struct HmacSha256Key(Hmac<Sha256>);

// `Hmac<Sha256>` holds two SHA-256 cores (inner and outer; `HmacCore` has
// no `Drop` of its own) and a block buffer. This compiles only if each of
// them wipes itself on drop, so that a build without `sha2/zeroize` or
// `hmac/zeroize` fails here instead of leaving the integrity and audit
// keys' HMAC states in freed memory. (Before the workspace asked for
// `sha2/zeroize`, only the `rsa` dependency turned it on, and the builds
// without the `rsa` feature, such as the smaller wasm packages, did not
// wipe them.)
#[allow(dead_code)]
const WIPED_ON_DROP: () = {
    use hmac::block_api::HmacCore;
    use hmac::digest::block_api::Buffer;
    use hmac::EagerHash;
    use zeroize::ZeroizeOnDrop;
    const fn wipes<T: ZeroizeOnDrop + ?Sized>() {}
    wipes::<<Sha256 as EagerHash>::Core>();
    wipes::<Buffer<HmacCore<Sha256>>>();
};

impl core::fmt::Debug for HmacSha256Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HmacSha256Key(..)")
    }
}

impl HmacSha256Key {
    /// Prepares `key` (any length, RFC 2104).
    pub fn new(key: &[u8]) -> Self {
        // RFC 2104 HMAC accepts keys of every length, so this cannot fail.
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        HmacSha256Key(mac)
    }

    /// HMAC-SHA256 over the concatenation of `parts`, the tag
    /// [`hmac_sha256`] gives for the same key.
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; HMAC_SHA256_LEN] {
        let mut mac = self.0.clone();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }
}

/// HMAC with the SHA-2 function `alg` (an [`HmacHash`] or a
/// [`DigestAlgorithm`](crate::crypto::DigestAlgorithm)) over the
/// concatenation of `parts` (RFC 2104); the tag has
/// [`HmacHash::tag_len`] bytes (28, 32, 48 or 64). This is KMS
/// `GenerateMac` with `HMAC_SHA_224`, `HMAC_SHA_256`, `HMAC_SHA_384` or
/// `HMAC_SHA_512`.
///
/// # Errors
/// `KMSInternalException` only if the HMAC implementation rejects the key,
/// which RFC 2104 HMAC never does (keys of every length are allowed).
pub fn hmac(alg: impl Into<HmacHash>, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>> {
        let mut mac = <M as KeyInit>::new_from_slice(key)
            .map_err(|_| Error::internal("HMAC key rejected"))?;
        for p in parts {
            mac.update(p);
        }
        Ok(mac.finalize().into_bytes().to_vec())
    }
    match alg.into() {
        HmacHash::Sha224 => run::<Hmac<Sha224>>(key, parts),
        HmacHash::Sha256 => run::<Hmac<Sha256>>(key, parts),
        HmacHash::Sha384 => run::<Hmac<Sha384>>(key, parts),
        HmacHash::Sha512 => run::<Hmac<Sha512>>(key, parts),
    }
}

/// Verifies an HMAC tag made by [`hmac()`] with the same `alg`, in constant
/// time (`subtle`); `false` on any mismatch, including a tag of the wrong
/// length (truncated tags are not accepted: KMS `VerifyMac` compares the
/// whole tag). The caller maps `false` to `KMSInvalidMacException`.
pub fn hmac_verify(alg: impl Into<HmacHash>, key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    match hmac(alg, key, parts) {
        Ok(expected) => tag.len() == expected.len() && bool::from(expected.ct_eq(tag)),
        Err(_) => false,
    }
}

/// Verifies an HMAC-SHA256 tag in constant time; `false` on any mismatch,
/// including a tag of the wrong length.
pub fn hmac_sha256_verify(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    match hmac_sha256(key, parts) {
        Ok(expected) => tag.len() == HMAC_SHA256_LEN && bool::from(expected.ct_eq(tag)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DigestAlgorithm;

    #[test]
    fn rfc4231_test_case_2() {
        let key = b"Jefe";
        let msg: &[u8] = b"what do ya want for nothing?";
        let t224 = hmac(HmacHash::Sha224, key, &[msg]).unwrap();
        assert_eq!(t224.len(), 28);
        assert_eq!(t224[..4], [0xa3, 0x0e, 0x01, 0x09]);
        assert!(hmac_verify(HmacHash::Sha224, key, &[msg], &t224));
        assert!(!hmac_verify(HmacHash::Sha224, key, &[msg], &t224[..27]));
        let t256 = hmac(DigestAlgorithm::Sha256, key, &[msg]).unwrap();
        assert_eq!(t256[..4], [0x5b, 0xdc, 0xc1, 0x46]);
        assert_eq!(t256[..], hmac_sha256(key, &[msg]).unwrap()[..]);
        let t384 = hmac(DigestAlgorithm::Sha384, key, &[msg]).unwrap();
        assert_eq!(t384[..4], [0xaf, 0x45, 0xd2, 0xe3]);
        let t512 = hmac(DigestAlgorithm::Sha512, key, &[&msg[..4], &msg[4..]]).unwrap();
        assert_eq!(t512[..4], [0x16, 0x4b, 0x7a, 0x7b]);
        assert!(hmac_verify(DigestAlgorithm::Sha512, key, &[msg], &t512));
        assert!(!hmac_verify(
            DigestAlgorithm::Sha512,
            key,
            &[msg],
            &t512[..32]
        ));
        assert!(!hmac_verify(
            DigestAlgorithm::Sha384,
            key,
            &[msg],
            &t512[..48]
        ));
        let mut bad = t384.clone();
        bad[47] ^= 1;
        assert!(!hmac_verify(DigestAlgorithm::Sha384, key, &[msg], &bad));
        assert!(!hmac_verify(DigestAlgorithm::Sha256, key, &[msg], &[]));
    }
}
