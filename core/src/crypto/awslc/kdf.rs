//! HKDF (RFC 5869) through AWS-LC.

use aws_lc_rs::hkdf::{Algorithm, KeyType, Salt, HKDF_SHA256, HKDF_SHA384, HKDF_SHA512};

use crate::error::{Error, Result};

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(
    alg: Algorithm,
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<()> {
    let too_long = || Error::internal("HKDF output too long");
    if okm.len() > 255 * alg.hmac_algorithm().digest_algorithm().output_len() {
        return Err(too_long());
    }
    // RFC 5869 §2.2: an absent salt is HashLen zero bytes, which HMAC treats
    // exactly like the empty key (both are zero-padded to the block size).
    let salt = Salt::new(alg, salt.unwrap_or(&[]));
    let prk = salt.extract(ikm);
    let info = [info];
    prk.expand(&info, Len(okm.len()))
        .and_then(|o| o.fill(okm))
        .map_err(|_| too_long())
}

/// HKDF-SHA256; see [`crate::crypto::rustcrypto::kdf::hkdf_sha256`].
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
    hkdf(HKDF_SHA256, Some(salt), ikm, info, okm)
}

/// HKDF-SHA384 (`None` salt = 48 zero bytes); see
/// [`crate::crypto::rustcrypto::kdf::hkdf_sha384`].
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha384(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
    hkdf(HKDF_SHA384, salt, ikm, info, okm)
}

/// HKDF-SHA512; see [`crate::crypto::rustcrypto::kdf::hkdf_sha512`].
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha512(salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
    hkdf(HKDF_SHA512, Some(salt), ikm, info, okm)
}

/// HKDF-SHA256 with an optional salt (`None` = 32 zero bytes); see
/// [`crate::crypto::rustcrypto::kdf::hkdf_sha256_opt_salt`].
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha256_opt_salt(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<()> {
    hkdf(HKDF_SHA256, salt, ikm, info, okm)
}
