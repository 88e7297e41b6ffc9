//! ECDSA on P-256, P-384, P-521 and secp256k1 through the RustCrypto
//! `p256`, `p384`, `p521` and `k256` crates (see [`crate::crypto::ecdsa`]).
//! Nonces are hedged RFC 6979.

pub use crate::crypto::ecdsa::{EcCurve, P384_COMPRESSED_POINT_LEN};
use alloc::vec::Vec;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::ecdsa::{bad_digest, bad_private_key, bad_public_key};
use crate::error::{Error, Result};

/// One module per curve crate. `$low_s` is true for a crate whose verifier
/// rejects high-`s` signatures (`k256`): `s` is then normalized to
/// `min(s, n - s)` before verifying, which accepts exactly the signatures
/// that plain ECDSA verification accepts (`(r, s)` verifies iff
/// `(r, n - s)` does).
macro_rules! curve {
    ($m:ident, $c:ident, $low_s:literal) => {
        mod $m {
            use super::*;
            use $c::ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
            use $c::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
            use $c::elliptic_curve::Generate;
            use $c::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};

            pub(super) fn generate<R: CryptoRng + ?Sized>(
                rng: &mut R,
            ) -> Result<Zeroizing<Vec<u8>>> {
                let key = SigningKey::generate_from_rng(rng);
                let doc = key
                    .to_pkcs8_der()
                    .map_err(|_| Error::internal("EC private key encoding failed"))?;
                Ok(Zeroizing::new(doc.as_bytes().to_vec()))
            }

            pub(super) fn signing_key(pkcs8: &[u8]) -> Result<SigningKey> {
                SigningKey::from_pkcs8_der(pkcs8).map_err(|_| bad_private_key())
            }

            pub(super) fn spki(key: &VerifyingKey) -> Result<Vec<u8>> {
                key.to_public_key_der()
                    .map(|d| d.as_bytes().to_vec())
                    .map_err(|_| Error::internal("EC public key encoding failed"))
            }

            pub(super) fn is_private_key(pkcs8: &[u8]) -> bool {
                signing_key(pkcs8).is_ok()
            }

            pub(super) fn public_key_der(pkcs8: &[u8]) -> Result<Vec<u8>> {
                spki(signing_key(pkcs8)?.verifying_key())
            }

            pub(super) fn sign<R: CryptoRng + ?Sized>(
                pkcs8: &[u8],
                digest: &[u8],
                rng: &mut R,
            ) -> Result<Vec<u8>> {
                let key = signing_key(pkcs8)?;
                let sig: DerSignature = key
                    .sign_prehash_with_rng(rng, digest)
                    .map_err(|_| Error::internal("ECDSA signing failed"))?;
                Ok(sig.as_bytes().to_vec())
            }

            pub(super) fn verify_with(key: &VerifyingKey, digest: &[u8], sig_der: &[u8]) -> bool {
                if $low_s {
                    match Signature::from_der(sig_der) {
                        Ok(sig) => key.verify_prehash(digest, &sig.normalize_s()).is_ok(),
                        Err(_) => false,
                    }
                } else {
                    match DerSignature::from_bytes(sig_der) {
                        Ok(sig) => key.verify_prehash(digest, &sig).is_ok(),
                        Err(_) => false,
                    }
                }
            }

            pub(super) fn is_public_key(spki: &[u8]) -> bool {
                VerifyingKey::from_public_key_der(spki).is_ok()
            }

            pub(super) fn verify(spki: &[u8], digest: &[u8], sig_der: &[u8]) -> bool {
                match VerifyingKey::from_public_key_der(spki) {
                    Ok(key) => verify_with(&key, digest, sig_der),
                    Err(_) => false,
                }
            }
        }
    };
}

curve!(nist_p256, p256, false);
curve!(nist_p384, p384, false);
#[cfg(feature = "curve-p521")]
curve!(nist_p521, p521, false);
#[cfg(feature = "curve-secp256k1")]
curve!(secg_k256, k256, true);

/// Calls `$f` in the module of `$curve` with the arguments, or evaluates
/// `$unavailable` for a curve whose cargo feature is off.
macro_rules! on_curve {
    ($curve:expr, $f:ident($($arg:expr),*), $unavailable:expr) => {
        match $curve {
            EcCurve::P256 => nist_p256::$f($($arg),*),
            EcCurve::P384 => nist_p384::$f($($arg),*),
            #[cfg(feature = "curve-p521")]
            EcCurve::P521 => nist_p521::$f($($arg),*),
            #[cfg(feature = "curve-secp256k1")]
            EcCurve::Secp256k1 => secg_k256::$f($($arg),*),
            #[cfg(not(feature = "curve-p521"))]
            EcCurve::P521 => $unavailable,
            #[cfg(not(feature = "curve-secp256k1"))]
            EcCurve::Secp256k1 => $unavailable,
        }
    };
}

/// Generates an ECDSA key pair on `curve` and returns the private key as
/// PKCS#8 DER (RFC 5915 `ECPrivateKey` inside, with the public key).
///
/// # Errors
/// `KMSInternalException` if encoding fails.
/// `UnsupportedOperationException` for P-521 or secp256k1 when its cargo
/// feature (`curve-p521`, `curve-secp256k1`) is off.
pub fn ecdsa_generate<R: CryptoRng + ?Sized>(
    curve: EcCurve,
    rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    on_curve!(
        curve,
        generate(rng),
        Err(crate::crypto::ecdsa::unavailable(curve))
    )
}

/// The curve of the PKCS#8 EC private key `pkcs8` (e.g. to check imported
/// key material against the key spec).
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid PKCS#8 private key on
/// one of the [`EcCurve`]s.
pub fn ecdsa_private_key_curve(pkcs8: &[u8]) -> Result<EcCurve> {
    EcCurve::ALL
        .into_iter()
        .find(|&c| on_curve!(c, is_private_key(pkcs8), false))
        .ok_or_else(bad_private_key)
}

/// The curve of the EC public key `spki` (SubjectPublicKeyInfo DER).
///
/// # Errors
/// `ValidationException` if `spki` is not a valid public key on one of the
/// [`EcCurve`]s (including a point that is not on the curve).
pub fn ecdsa_public_key_curve(spki: &[u8]) -> Result<EcCurve> {
    EcCurve::ALL
        .into_iter()
        .find(|&c| on_curve!(c, is_public_key(spki), false))
        .ok_or_else(bad_public_key)
}

/// The public key of the PKCS#8 private key `pkcs8` on `curve`, as DER
/// SubjectPublicKeyInfo (`id-ecPublicKey` with the named curve, uncompressed
/// point), the shape of KMS `GetPublicKey`.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid PKCS#8 private key on
/// `curve`; `KMSInternalException` if encoding fails.
/// `UnsupportedOperationException` for P-521 or secp256k1 when its cargo
/// feature (`curve-p521`, `curve-secp256k1`) is off.
pub fn ecdsa_public_key_der(curve: EcCurve, pkcs8: &[u8]) -> Result<Vec<u8>> {
    on_curve!(
        curve,
        public_key_der(pkcs8),
        Err(crate::crypto::ecdsa::unavailable(curve))
    )
}

/// Signs `digest` ([`EcCurve::digest`], computed by the caller) with ECDSA
/// and returns the DER signature (at most 72 bytes for P-256 and
/// secp256k1, 104 for P-384, 139 for P-521). The nonce is hedged RFC 6979
/// (see the module docs); secp256k1 signatures are low-S.
///
/// # Errors
/// `ValidationException` if `digest` is not [`EcCurve::digest_len`] bytes or
/// `pkcs8` is not a valid private key on `curve`; `KMSInternalException` if
/// signing fails (the RNG failed).
/// `UnsupportedOperationException` for P-521 or secp256k1 when its cargo
/// feature (`curve-p521`, `curve-secp256k1`) is off.
pub fn ecdsa_sign_digest<R: CryptoRng + ?Sized>(
    curve: EcCurve,
    pkcs8: &[u8],
    digest: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    if digest.len() != curve.digest_len() {
        return Err(bad_digest());
    }
    on_curve!(
        curve,
        sign(pkcs8, digest, rng),
        Err(crate::crypto::ecdsa::unavailable(curve))
    )
}

/// Verifies a DER ECDSA signature over `digest` with the public key `spki`
/// (SubjectPublicKeyInfo DER) on `curve`.
///
/// `false` if the signature does not verify or is not strict DER, `digest`
/// is not [`EcCurve::digest_len`] bytes, or `spki` is not a valid public key
/// on `curve`; the caller maps `false` to `KMSInvalidSignatureException`.
/// Both `s` and `n - s` verify on every curve (FIPS 186-5 and SEC 1 do not
/// require low `s`).
pub fn ecdsa_verify_digest(curve: EcCurve, spki: &[u8], digest: &[u8], sig_der: &[u8]) -> bool {
    if digest.len() != curve.digest_len() {
        return false;
    }
    on_curve!(curve, verify(spki, digest, sig_der), false)
}

/// The public key of the P-384 PKCS#8 private key `pkcs8` as a compressed
/// SEC 1 point (49 bytes, SEC 1 v2 §2.3.3), as the AWS Encryption SDK puts
/// it (base64) in the encryption context under `aws-crypto-public-key`.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid P-384 private key.
pub fn p384_compressed_public_key(pkcs8: &[u8]) -> Result<[u8; P384_COMPRESSED_POINT_LEN]> {
    let key = nist_p384::signing_key(pkcs8)?;
    let point = key.verifying_key().to_sec1_point(true);
    point
        .as_bytes()
        .try_into()
        .map_err(|_| Error::internal("P-384 point compression failed"))
}

fn p384_key_from_compressed(compressed: &[u8]) -> Option<p384::ecdsa::VerifyingKey> {
    if compressed.len() != P384_COMPRESSED_POINT_LEN || !matches!(compressed[0], 0x02 | 0x03) {
        return None;
    }
    p384::ecdsa::VerifyingKey::from_sec1_bytes(compressed).ok()
}

/// The SubjectPublicKeyInfo DER of the P-384 public key given as a
/// compressed SEC 1 point (49 bytes), e.g. to hand to [`ecdsa_verify_digest`].
///
/// # Errors
/// `ValidationException` if `compressed` is not 49 bytes starting with
/// `0x02`/`0x03`, or is not the x-coordinate of a point on P-384.
pub fn p384_public_key_der_from_compressed(compressed: &[u8]) -> Result<Vec<u8>> {
    let key = p384_key_from_compressed(compressed)
        .ok_or_else(|| Error::validation("not a compressed P-384 public key"))?;
    nist_p384::spki(&key)
}

/// Verifies a DER ECDSA P-384 signature over the SHA-384 `digest` with a
/// public key given as a compressed SEC 1 point (the AWS Encryption SDK
/// suites with ECDSA P-384, e.g. 0x0578).
///
/// `false` if the signature does not verify or is not strict DER, `digest`
/// is not 48 bytes, or `compressed` is not a valid compressed P-384 point.
pub fn p384_verify_digest_with_compressed_key(
    compressed: &[u8],
    digest: &[u8],
    sig_der: &[u8],
) -> bool {
    if digest.len() != EcCurve::P384.digest_len() {
        return false;
    }
    match p384_key_from_compressed(compressed) {
        Some(key) => nist_p384::verify_with(&key, digest, sig_der),
        None => false,
    }
}
