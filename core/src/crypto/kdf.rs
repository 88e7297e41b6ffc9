//! HKDF (RFC 5869).

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
