//! HMAC (RFC 2104, FIPS 198-1) through AWS-LC.

pub use crate::crypto::mac::HMAC_SHA256_LEN;
use alloc::vec::Vec;
use aws_lc_rs::hmac::{Context, Key, HMAC_SHA224, HMAC_SHA256, HMAC_SHA384, HMAC_SHA512};

use crate::crypto::mac::HmacHash;
use crate::error::Result;

fn tag(alg: aws_lc_rs::hmac::Algorithm, key: &[u8], parts: &[&[u8]]) -> aws_lc_rs::hmac::Tag {
    let key = Key::new(alg, key);
    let mut ctx = Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    ctx.sign()
}

/// HMAC-SHA256 over the concatenation of `parts`; see
/// [`crate::crypto::rustcrypto::mac::hmac_sha256`].
///
/// # Errors
/// Never (the signature matches the RustCrypto backend's).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<[u8; HMAC_SHA256_LEN]> {
    let t = tag(HMAC_SHA256, key, parts);
    let mut out = [0u8; HMAC_SHA256_LEN];
    out.copy_from_slice(t.as_ref());
    Ok(out)
}

/// An HMAC-SHA256 key with its inner and outer hash states computed once;
/// see [`crate::crypto::rustcrypto::mac::HmacSha256Key`]. The states live
/// in the `HMAC_CTX` of an aws-lc-rs `hmac::Key`, whose `Drop` (and that of
/// the copy each [`HmacSha256Key::tag`] signs with) calls AWS-LC's
/// `HMAC_CTX_cleanup`, which `OPENSSL_cleanse`s the whole context (aws-lc-rs
/// 1.19, `crypto/fipsmodule/hmac/hmac.c`).
#[derive(Clone, Debug)]
pub struct HmacSha256Key(Key);

impl HmacSha256Key {
    /// Prepares `key` (any length, RFC 2104).
    pub fn new(key: &[u8]) -> Self {
        HmacSha256Key(Key::new(HMAC_SHA256, key))
    }

    /// HMAC-SHA256 over the concatenation of `parts`, the tag
    /// [`hmac_sha256`] gives for the same key.
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; HMAC_SHA256_LEN] {
        let mut ctx = Context::with_key(&self.0);
        for p in parts {
            ctx.update(p);
        }
        let mut out = [0u8; HMAC_SHA256_LEN];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

/// HMAC with SHA-224/256/384/512; see [`crate::crypto::rustcrypto::mac::hmac`].
///
/// # Errors
/// Never (the signature matches the RustCrypto backend's).
pub fn hmac(alg: impl Into<HmacHash>, key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>> {
    let a = match alg.into() {
        HmacHash::Sha224 => HMAC_SHA224,
        HmacHash::Sha256 => HMAC_SHA256,
        HmacHash::Sha384 => HMAC_SHA384,
        HmacHash::Sha512 => HMAC_SHA512,
    };
    Ok(tag(a, key, parts).as_ref().to_vec())
}

/// Verifies an HMAC tag in constant time (whole tag only); see
/// [`crate::crypto::rustcrypto::mac::hmac_verify`].
pub fn hmac_verify(alg: impl Into<HmacHash>, key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    match hmac(alg, key, parts) {
        Ok(expected) => tag.len() == expected.len() && bool::from(expected.ct_eq(tag)),
        Err(_) => false,
    }
}

/// Verifies an HMAC-SHA256 tag in constant time; see
/// [`crate::crypto::rustcrypto::mac::hmac_sha256_verify`].
pub fn hmac_sha256_verify(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    match hmac_sha256(key, parts) {
        Ok(expected) => tag.len() == HMAC_SHA256_LEN && bool::from(expected.ct_eq(tag)),
        Err(_) => false,
    }
}
