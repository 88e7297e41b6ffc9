//! RSA encryption of short secrets (data keys) with every padding the AWS
//! Encryption SDK's raw RSA keyring uses: RSAES-OAEP (RFC 8017 §7.1) with
//! SHA-1, SHA-256, SHA-384 or SHA-512 for both the label hash and MGF1 and an
//! empty label, and RSAES-PKCS1-v1_5 (RFC 8017 §7.2, decryption only).
//!
//! Keys are DER: PKCS#8 private keys, SubjectPublicKeyInfo public keys; any
//! modulus of at least 2048 bits. Private-key operations are blinded with the
//! caller's RNG (see RUSTSEC-2023-0071 in [`super::rsa`]).

//!
//! The functions are the active backend's ([`super::active`]).

/// An RSA encryption padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaWrapPadding {
    /// RSAES-OAEP, SHA-1 and MGF1-SHA-1.
    OaepSha1,
    /// RSAES-OAEP, SHA-256 and MGF1-SHA-256.
    OaepSha256,
    /// RSAES-OAEP, SHA-384 and MGF1-SHA-384.
    OaepSha384,
    /// RSAES-OAEP, SHA-512 and MGF1-SHA-512.
    OaepSha512,
    /// RSAES-PKCS1-v1_5: decryption of old data only.
    Pkcs1v15,
}

/// The smallest RSA modulus accepted, in bits.
#[cfg_attr(
    not(any(feature = "rsa", feature = "backend-aws-lc")),
    allow(dead_code)
)]
pub(crate) const MIN_BITS: u32 = 2048;

pub use super::active::rsa_wrap::*;
