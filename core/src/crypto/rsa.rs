//! RSA (RFC 8017) for the KMS key specs `RSA_2048`, `RSA_3072` and `RSA_4096`:
//! the shared types here, the functions from the active backend
//! ([`super::active`]).
//!
//! - Signatures: RSASSA-PSS with MGF1 over the same hash and a salt as long as
//!   the hash (KMS `RSASSA_PSS_SHA_256/384/512`), and RSASSA-PKCS1-v1_5 (KMS
//!   `RSASSA_PKCS1_V1_5_SHA_256/384/512`). Both sign and verify a **digest**:
//!   the caller hashes a `RAW` message with [`super::digest`] once, and passes
//!   a `DIGEST` message as it is, so nothing is hashed twice.
//! - Encryption: RSAES-OAEP with SHA-1 or SHA-256, MGF1 over the same hash and
//!   an empty label (KMS `RSAES_OAEP_SHA_1`, `RSAES_OAEP_SHA_256`).
//!
//! Keys travel as DER documents: private keys as PKCS#8 `PrivateKeyInfo`
//! (RFC 5208), public keys as X.509 `SubjectPublicKeyInfo` (RFC 5280), the
//! shapes of KMS `GenerateDataKeyPair` and `GetPublicKey`. Only moduli of
//! exactly 2048, 3072 or 4096 bits are accepted.
//!
//! The RustCrypto backend blinds private-key operations with the caller's
//! RNG; the `rsa` crate is still subject to RUSTSEC-2023-0071 (Marvin timing
//! side channel), so native builds (`backend-aws-lc`) do every RSA
//! private-key operation in AWS-LC instead.

use crate::crypto::digest::DigestAlgorithm;
use crate::error::{Error, Result};

/// An RSA modulus size that KMS offers (`RSA_2048`, `RSA_3072`, `RSA_4096`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaKeySize {
    /// 2048-bit modulus (`RSA_2048`).
    Rsa2048,
    /// 3072-bit modulus (`RSA_3072`).
    Rsa3072,
    /// 4096-bit modulus (`RSA_4096`).
    Rsa4096,
}

impl RsaKeySize {
    /// The modulus size in bits.
    pub const fn bits(self) -> usize {
        match self {
            RsaKeySize::Rsa2048 => 2048,
            RsaKeySize::Rsa3072 => 3072,
            RsaKeySize::Rsa4096 => 4096,
        }
    }

    /// The modulus (and signature, and ciphertext) size in bytes.
    pub const fn bytes(self) -> usize {
        self.bits() / 8
    }

    /// The size whose modulus has exactly `bits` bits, if KMS offers it.
    pub const fn from_bits(bits: usize) -> Option<Self> {
        match bits {
            2048 => Some(RsaKeySize::Rsa2048),
            3072 => Some(RsaKeySize::Rsa3072),
            4096 => Some(RsaKeySize::Rsa4096),
            _ => None,
        }
    }
}

/// The hash of RSAES-OAEP (used for the label hash and for MGF1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OaepHash {
    /// SHA-1 (`RSAES_OAEP_SHA_1`), 20-byte hash.
    Sha1,
    /// SHA-256 (`RSAES_OAEP_SHA_256`), 32-byte hash.
    Sha256,
}

impl OaepHash {
    /// Hash output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            OaepHash::Sha1 => 20,
            OaepHash::Sha256 => 32,
        }
    }
}

/// The longest plaintext RSAES-OAEP can encrypt: `k - 2·hLen - 2` bytes
/// (RFC 8017 §7.1.1), which gives the KMS limits: `RSA_2048` 214 (SHA-1) /
/// 190 (SHA-256), `RSA_3072` 342 / 318, `RSA_4096` 470 / 446.
pub const fn rsa_oaep_max_plaintext_len(size: RsaKeySize, hash: OaepHash) -> usize {
    size.bytes() - 2 * hash.output_len() - 2
}

#[cfg_attr(
    not(any(feature = "rsa", feature = "backend-aws-lc")),
    allow(dead_code)
)]
pub(crate) fn check_digest(hash: DigestAlgorithm, digest: &[u8]) -> Result<()> {
    if digest.len() == hash.output_len() {
        Ok(())
    } else {
        Err(Error::validation(
            "the digest length must equal the signing algorithm's hash length",
        ))
    }
}

/// True when this build has RSA: with `backend-aws-lc`, or with the cargo
/// feature `rsa` (on by default) for RustCrypto. The KMS operations refuse
/// the RSA key specs of a build without it with
/// `UnsupportedOperationException` ([`crate::asym::check_spec_available`]).
pub const fn is_available() -> bool {
    cfg!(any(feature = "backend-aws-lc", feature = "rsa"))
}

/// The error for RSA in a build without it (see [`is_available`]).
pub fn unavailable() -> Error {
    Error::new(
        crate::error::ErrorKind::UnsupportedOperationException,
        "RSA key specs (RSA_2048, RSA_3072, RSA_4096) are not available in this build \
         (cargo feature rsa of strongroom-core)",
    )
}

pub use super::active::rsa::*;
