//! HMAC (RFC 2104, FIPS 198-1).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Length of an HMAC-SHA256 tag in bytes.
pub const HMAC_SHA256_LEN: usize = 32;

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

/// Verifies an HMAC-SHA256 tag in constant time; `false` on any mismatch,
/// including a tag of the wrong length.
pub fn hmac_sha256_verify(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    match hmac_sha256(key, parts) {
        Ok(expected) => tag.len() == HMAC_SHA256_LEN && bool::from(expected.ct_eq(tag)),
        Err(_) => false,
    }
}
