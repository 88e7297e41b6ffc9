//! SHA-2 message digests (FIPS 180-4) for the signing algorithms of KMS.
//!
//! KMS `Sign`/`Verify` with `MessageType` `RAW` hash the message with the
//! algorithm's hash before the private-key operation; with `DIGEST` the caller
//! has already done so. The signature functions in [`super::rsa`] and
//! [`super::ecdsa`] take the digest only, so a message is hashed exactly once,
//! here, by the caller.
//!
//! SHA-1 is deliberately absent: Strongroom uses it only inside RSAES-OAEP
//! (`RSAES_OAEP_SHA_1`), where the `rsa` crate applies it.

use alloc::vec::Vec;

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;
/// Length of a SHA-384 digest in bytes.
pub const SHA384_LEN: usize = 48;
/// Length of a SHA-512 digest in bytes.
pub const SHA512_LEN: usize = 64;

/// A SHA-2 hash function (FIPS 180-4), as named in the KMS signing and MAC
/// algorithms (`…_SHA_256`, `…_SHA_384`, `…_SHA_512`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256, 32-byte output.
    Sha256,
    /// SHA-384, 48-byte output.
    Sha384,
    /// SHA-512, 64-byte output.
    Sha512,
}

impl DigestAlgorithm {
    /// Output length in bytes (32, 48 or 64).
    pub const fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => SHA256_LEN,
            DigestAlgorithm::Sha384 => SHA384_LEN,
            DigestAlgorithm::Sha512 => SHA512_LEN,
        }
    }

    /// Hashes `message`; the result has [`output_len`](Self::output_len) bytes.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => sha256(message).to_vec(),
            DigestAlgorithm::Sha384 => sha384(message).to_vec(),
            DigestAlgorithm::Sha512 => sha512(message).to_vec(),
        }
    }
}

pub use super::active::digest::*;
