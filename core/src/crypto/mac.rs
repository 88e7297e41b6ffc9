//! HMAC (RFC 2104, FIPS 198-1): the functions of the active backend
//! ([`super::active`]).

use super::digest::DigestAlgorithm;

/// Length of an HMAC-SHA256 tag in bytes.
pub const HMAC_SHA256_LEN: usize = 32;

/// The SHA-2 function (FIPS 180-4) of an HMAC: the hash of the KMS MAC
/// algorithms `HMAC_SHA_224`, `HMAC_SHA_256`, `HMAC_SHA_384` and
/// `HMAC_SHA_512`. A [`DigestAlgorithm`] converts into it, so the HMAC
/// functions take either; SHA-224 is here only, since no KMS signing
/// algorithm uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HmacHash {
    /// SHA-224: 28-byte tags, 64-byte blocks.
    Sha224,
    /// SHA-256: 32-byte tags, 64-byte blocks.
    Sha256,
    /// SHA-384: 48-byte tags, 128-byte blocks.
    Sha384,
    /// SHA-512: 64-byte tags, 128-byte blocks.
    Sha512,
}

impl HmacHash {
    /// Length of the tag in bytes (28, 32, 48 or 64).
    pub const fn tag_len(self) -> usize {
        match self {
            HmacHash::Sha224 => 28,
            HmacHash::Sha256 => 32,
            HmacHash::Sha384 => 48,
            HmacHash::Sha512 => 64,
        }
    }
}

impl From<DigestAlgorithm> for HmacHash {
    fn from(d: DigestAlgorithm) -> Self {
        match d {
            DigestAlgorithm::Sha256 => HmacHash::Sha256,
            DigestAlgorithm::Sha384 => HmacHash::Sha384,
            DigestAlgorithm::Sha512 => HmacHash::Sha512,
        }
    }
}

pub use super::active::mac::*;
