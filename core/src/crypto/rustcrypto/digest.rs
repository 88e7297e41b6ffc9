//! SHA-2 (FIPS 180-4) through the RustCrypto `sha2` crate.

pub use crate::crypto::digest::{DigestAlgorithm, SHA256_LEN, SHA384_LEN, SHA512_LEN};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// SHA-256 of `message` (FIPS 180-4).
pub fn sha256(message: &[u8]) -> [u8; SHA256_LEN] {
    Sha256::digest(message).into()
}

/// SHA-384 of `message` (FIPS 180-4).
pub fn sha384(message: &[u8]) -> [u8; SHA384_LEN] {
    Sha384::digest(message).into()
}

/// SHA-512 of `message` (FIPS 180-4).
pub fn sha512(message: &[u8]) -> [u8; SHA512_LEN] {
    Sha512::digest(message).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers_for_abc() {
        // FIPS 180-2 appendix examples for "abc".
        assert_eq!(sha256(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
        assert_eq!(sha384(b"abc")[..4], [0xcb, 0x00, 0x75, 0x3f]);
        assert_eq!(sha512(b"abc")[..4], [0xdd, 0xaf, 0x35, 0xa1]);
        for alg in [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            assert_eq!(alg.digest(b"abc").len(), alg.output_len());
        }
    }
}
