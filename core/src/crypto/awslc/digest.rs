//! SHA-2 (FIPS 180-4) through AWS-LC.

pub use crate::crypto::digest::{DigestAlgorithm, SHA256_LEN, SHA384_LEN, SHA512_LEN};
use aws_lc_rs::digest::{digest, SHA256, SHA384, SHA512};

fn fixed<const N: usize>(d: aws_lc_rs::digest::Digest) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-256 of `message` (FIPS 180-4).
pub fn sha256(message: &[u8]) -> [u8; SHA256_LEN] {
    fixed(digest(&SHA256, message))
}

/// SHA-384 of `message` (FIPS 180-4).
pub fn sha384(message: &[u8]) -> [u8; SHA384_LEN] {
    fixed(digest(&SHA384, message))
}

/// SHA-512 of `message` (FIPS 180-4).
pub fn sha512(message: &[u8]) -> [u8; SHA512_LEN] {
    fixed(digest(&SHA512, message))
}
