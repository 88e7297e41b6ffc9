//! ECDSA (FIPS 186-5, SEC 1) for the KMS key specs `ECC_NIST_P256`
//! (`ECDSA_SHA_256`), `ECC_NIST_P384` (`ECDSA_SHA_384`), `ECC_NIST_P521`
//! (`ECDSA_SHA_512`) and `ECC_SECG_P256K1` (secp256k1, SEC 2 §2.4.1,
//! `ECDSA_SHA_256`); the functions are the active backend's
//! ([`super::active`]).
//!
//! Signing and verification take a **digest** (SHA-256 for P-256 and
//! secp256k1, SHA-384 for P-384, SHA-512 for P-521): the caller hashes a
//! `RAW` message once with
//! [`super::digest`] and passes a `DIGEST` message as it is. Signatures are
//! ASN.1 DER `ECDSA-Sig-Value` (RFC 3279), as KMS returns them.
//!
//! Nonces are *hedged*, so a weak RNG cannot leak the key and two signatures
//! of one digest differ: RustCrypto derives `k` as in RFC 6979 §3.2 from the
//! private key and the digest with fresh bytes from the caller's RNG as the
//! additional input `k'` of RFC 6979 §3.6; AWS-LC mixes the private key and
//! the digest into its own RNG output for `k` (the caller's RNG is unused).
//!
//! Verification accepts both `s` and `n - s` on every curve, as KMS and
//! OpenSSL do: secp256k1 signatures are not required to be "low-S" (the
//! RustCrypto `k256` crate insists on low-S, so that backend normalizes `s`
//! before verifying, which accepts exactly the same signatures). Signatures
//! made by the RustCrypto backend on secp256k1 are always low-S; AWS-LC's
//! may have either.
//!
//! Keys travel as DER: private keys as PKCS#8 (RFC 5208 / RFC 5915), public
//! keys as SubjectPublicKeyInfo (RFC 5480; `id-ecPublicKey` with the named
//! curve `secp256r1` 1.2.840.10045.3.1.7, `secp384r1` 1.3.132.0.34,
//! `secp521r1` 1.3.132.0.35 or `secp256k1` 1.3.132.0.10). For the AWS Encryption SDK
//! signing suites, P-384 public keys also travel as a compressed SEC 1
//! point (49 bytes).

use crate::crypto::digest::DigestAlgorithm;
use crate::error::{Error, ErrorKind};

/// A curve that KMS offers for ECDSA signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 / secp256r1 (`ECC_NIST_P256`), signed with SHA-256 digests.
    P256,
    /// NIST P-384 / secp384r1 (`ECC_NIST_P384`), signed with SHA-384 digests.
    P384,
    /// NIST P-521 / secp521r1 (`ECC_NIST_P521`), signed with SHA-512 digests.
    P521,
    /// SECG secp256k1, the Koblitz curve (`ECC_SECG_P256K1`), signed with
    /// SHA-256 digests.
    Secp256k1,
}

impl EcCurve {
    /// Every curve, in KMS key spec order.
    pub const ALL: [EcCurve; 4] = [
        EcCurve::P256,
        EcCurve::P384,
        EcCurve::P521,
        EcCurve::Secp256k1,
    ];

    /// The hash of this curve's KMS signing algorithm: SHA-256 for P-256
    /// and secp256k1 (`ECDSA_SHA_256`), SHA-384 for P-384
    /// (`ECDSA_SHA_384`), SHA-512 for P-521 (`ECDSA_SHA_512`).
    pub const fn digest(self) -> DigestAlgorithm {
        match self {
            EcCurve::P256 | EcCurve::Secp256k1 => DigestAlgorithm::Sha256,
            EcCurve::P384 => DigestAlgorithm::Sha384,
            EcCurve::P521 => DigestAlgorithm::Sha512,
        }
    }

    /// True when the active backend has this curve: P-256 and P-384 always;
    /// P-521 and secp256k1 with `backend-aws-lc`, or with the cargo features
    /// `curve-p521` / `curve-secp256k1` (on by default) for RustCrypto.
    /// The KMS operations refuse a key spec on an unavailable curve with
    /// `UnsupportedOperationException`.
    pub const fn is_available(self) -> bool {
        match self {
            EcCurve::P256 | EcCurve::P384 => true,
            EcCurve::P521 => cfg!(any(feature = "backend-aws-lc", feature = "curve-p521")),
            EcCurve::Secp256k1 => {
                cfg!(any(feature = "backend-aws-lc", feature = "curve-secp256k1"))
            }
        }
    }

    /// The KMS key spec name of this curve (`ECC_NIST_P256`, …).
    pub const fn key_spec_name(self) -> &'static str {
        match self {
            EcCurve::P256 => "ECC_NIST_P256",
            EcCurve::P384 => "ECC_NIST_P384",
            EcCurve::P521 => "ECC_NIST_P521",
            EcCurve::Secp256k1 => "ECC_SECG_P256K1",
        }
    }

    /// Length in bytes of the digest this curve signs: 32 (P-256,
    /// secp256k1), 48 (P-384) or 64 (P-521).
    pub const fn digest_len(self) -> usize {
        self.digest().output_len()
    }
}

/// Length of a compressed SEC 1 P-384 point (`0x02`/`0x03` || x).
pub const P384_COMPRESSED_POINT_LEN: usize = 49;

pub(crate) fn bad_private_key() -> Error {
    Error::validation("the EC private key is not a valid PKCS#8 key on the expected curve")
}

/// The error for a curve that this build does not have (see
/// [`EcCurve::is_available`]).
pub fn unavailable(curve: EcCurve) -> Error {
    Error::new(
        ErrorKind::UnsupportedOperationException,
        alloc::format!(
            "KeySpec {} is not available in this build (cargo feature {} of strongroom-core)",
            curve.key_spec_name(),
            match curve {
                EcCurve::Secp256k1 => "curve-secp256k1",
                _ => "curve-p521",
            }
        ),
    )
}

pub(crate) fn bad_public_key() -> Error {
    Error::validation("not a P-256, P-384, P-521 or secp256k1 SubjectPublicKeyInfo")
}

pub(crate) fn bad_digest() -> Error {
    Error::validation("the digest length must equal the signing algorithm's hash length")
}

pub use super::active::ecdsa::*;
