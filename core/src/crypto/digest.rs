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

/// SHA-256 (FIPS 180-4) of a message given in pieces: the digest of their
/// concatenation, the same as [`sha256`] of it, for a caller that hashes a
/// file it never holds whole (an audit log archive). Memory: one SHA-256
/// state (about 100 bytes) whatever the length. Through the RustCrypto
/// `sha2` crate in every build (a digest of public data; the active
/// backend's one-shot [`sha256`] gives the same bytes).
#[derive(Clone, Default)]
pub struct Sha256Stream(sha2::Sha256);

impl core::fmt::Debug for Sha256Stream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Sha256Stream(..)")
    }
}

impl Sha256Stream {
    /// The state before any byte.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hashes the next `piece` of the message (any length, empty included).
    pub fn update(&mut self, piece: &[u8]) {
        sha2::Digest::update(&mut self.0, piece);
    }

    /// The 32-byte digest of every piece given, in order.
    pub fn finish(self) -> [u8; SHA256_LEN] {
        sha2::Digest::finalize(self.0).into()
    }
}

pub use super::active::digest::*;

#[cfg(test)]
mod stream_tests {
    use super::*;

    /// Any split of a message gives the one-shot digest (FIPS 180-2's
    /// "abc" and a message crossing several 64-byte blocks).
    #[test]
    fn pieces_hash_as_the_whole() {
        let long: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        for msg in [&b""[..], b"abc", &long] {
            for step in [1, 3, 63, 64, 65, 1000] {
                let mut s = Sha256Stream::new();
                for piece in msg.chunks(step) {
                    s.update(piece);
                    s.update(&[]);
                }
                assert_eq!(s.finish(), sha256(msg), "{} bytes by {step}", msg.len());
            }
        }
        assert_eq!(Sha256Stream::new().finish()[..4], [0xe3, 0xb0, 0xc4, 0x42]);
    }
}
