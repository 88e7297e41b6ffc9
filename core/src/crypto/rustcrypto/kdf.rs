//! HKDF (RFC 5869) through the RustCrypto `hkdf` crate.

use crate::error::{Error, Result};

/// HKDF-SHA256 extract-and-expand: fills `okm` (at most 255 × 32 bytes).
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), ikm)
        .expand(info, okm)
        .map_err(|_| Error::internal("HKDF output too long"))
}

/// HKDF-SHA384 extract-and-expand: fills `okm` (at most 255 × 48 bytes).
/// `salt = None` means the RFC 5869 default (48 zero bytes).
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha384(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
    hkdf::Hkdf::<sha2::Sha384>::new(salt, ikm)
        .expand(info, okm)
        .map_err(|_| Error::internal("HKDF output too long"))
}

/// HKDF-SHA512 extract-and-expand: fills `okm` (at most 255 × 64 bytes).
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha512(salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
    hkdf::Hkdf::<sha2::Sha512>::new(Some(salt), ikm)
        .expand(info, okm)
        .map_err(|_| Error::internal("HKDF output too long"))
}

/// HKDF-SHA256 with an optional salt (`None` = 32 zero bytes, RFC 5869 §2.2):
/// fills `okm` (at most 255 × 32 bytes).
///
/// # Errors
/// `KMSInternalException` if `okm` is longer than RFC 5869 allows.
pub fn hkdf_sha256_opt_salt(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<()> {
    hkdf::Hkdf::<sha2::Sha256>::new(salt, ikm)
        .expand(info, okm)
        .map_err(|_| Error::internal("HKDF output too long"))
}
