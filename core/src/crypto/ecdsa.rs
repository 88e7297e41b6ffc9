//! ECDSA (FIPS 186-5, SEC 1) on NIST P-256 and P-384 for the KMS key specs
//! `ECC_NIST_P256` (`ECDSA_SHA_256`) and `ECC_NIST_P384` (`ECDSA_SHA_384`);
//! the functions are the active backend's ([`super::active`]).
//!
//! Signing and verification take a **digest** (SHA-256 for P-256, SHA-384
//! for P-384): the caller hashes a `RAW` message once with
//! [`super::digest`] and passes a `DIGEST` message as it is. Signatures are
//! ASN.1 DER `ECDSA-Sig-Value` (RFC 3279), as KMS returns them.
//!
//! Nonces are *hedged*, so a weak RNG cannot leak the key and two signatures
//! of one digest differ: RustCrypto derives `k` as in RFC 6979 §3.2 from the
//! private key and the digest with fresh bytes from the caller's RNG as the
//! additional input `k'` of RFC 6979 §3.6; AWS-LC mixes the private key and
//! the digest into its own RNG output for `k` (the caller's RNG is unused).
//!
//! Keys travel as DER: private keys as PKCS#8 (RFC 5208 / RFC 5915), public
//! keys as SubjectPublicKeyInfo (RFC 5480). For the AWS Encryption SDK
//! signing suites, P-384 public keys also travel as a compressed SEC 1
//! point (49 bytes).

use crate::error::Error;

/// A NIST curve that KMS offers for ECDSA signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 / secp256r1 (`ECC_NIST_P256`), signed with SHA-256 digests.
    P256,
    /// NIST P-384 / secp384r1 (`ECC_NIST_P384`), signed with SHA-384 digests.
    P384,
}

impl EcCurve {
    /// Length in bytes of the digest this curve signs (32 for P-256, 48 for
    /// P-384), i.e. the output of `ECDSA_SHA_256` / `ECDSA_SHA_384`'s hash.
    pub const fn digest_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
        }
    }
}

/// Length of a compressed SEC 1 P-384 point (`0x02`/`0x03` || x).
pub const P384_COMPRESSED_POINT_LEN: usize = 49;

pub(crate) fn bad_private_key() -> Error {
    Error::validation("the EC private key is not a valid PKCS#8 key on the expected curve")
}

pub(crate) fn bad_digest() -> Error {
    Error::validation("the digest length must equal the signing algorithm's hash length")
}

pub use super::active::ecdsa::*;
