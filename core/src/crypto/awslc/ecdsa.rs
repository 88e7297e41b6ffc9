//! ECDSA on P-256, P-384, P-521 and secp256k1 through AWS-LC. See [`crate::crypto::ecdsa`] for
//! the contracts. AWS-LC's nonces mix the private key and the digest into
//! its own RNG output (hedged); the caller's RNG is unused.

pub use crate::crypto::ecdsa::{EcCurve, P384_COMPRESSED_POINT_LEN};
use alloc::sync::Arc;
use alloc::vec::Vec;
use aws_lc_rs::digest::{Digest, SHA256, SHA384, SHA512};
use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPublicKeyCompressedBin, PublicKeyX509Der};
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair, ParsedPublicKey,
    UnparsedPublicKey, ECDSA_P256K1_SHA256_ASN1, ECDSA_P256K1_SHA256_ASN1_SIGNING,
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1, ECDSA_P521_SHA512_ASN1_SIGNING,
};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::cache::KeyCache;
use crate::crypto::ecdsa::{bad_digest, bad_private_key, bad_public_key};
use crate::error::{Error, Result};

fn signing_alg(curve: EcCurve) -> &'static EcdsaSigningAlgorithm {
    match curve {
        EcCurve::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
        EcCurve::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        EcCurve::P521 => &ECDSA_P521_SHA512_ASN1_SIGNING,
        EcCurve::Secp256k1 => &ECDSA_P256K1_SHA256_ASN1_SIGNING,
    }
}

fn verify_alg(curve: EcCurve) -> &'static EcdsaVerificationAlgorithm {
    match curve {
        EcCurve::P256 => &ECDSA_P256_SHA256_ASN1,
        EcCurve::P384 => &ECDSA_P384_SHA384_ASN1,
        EcCurve::P521 => &ECDSA_P521_SHA512_ASN1,
        EcCurve::Secp256k1 => &ECDSA_P256K1_SHA256_ASN1,
    }
}

fn import_digest(curve: EcCurve, digest: &[u8]) -> Option<Digest> {
    let alg = match curve {
        EcCurve::P256 | EcCurve::Secp256k1 => &SHA256,
        EcCurve::P384 => &SHA384,
        EcCurve::P521 => &SHA512,
    };
    Digest::import_less_safe(digest, alg).ok()
}

static P256_KEYS: KeyCache<EcdsaKeyPair> = KeyCache::new();
static P384_KEYS: KeyCache<EcdsaKeyPair> = KeyCache::new();
static P521_KEYS: KeyCache<EcdsaKeyPair> = KeyCache::new();
static K256_KEYS: KeyCache<EcdsaKeyPair> = KeyCache::new();

/// The parsed key pair, once per process (see `cache`).
fn key_pair(curve: EcCurve, pkcs8: &[u8]) -> Result<Arc<EcdsaKeyPair>> {
    let cache = match curve {
        EcCurve::P256 => &P256_KEYS,
        EcCurve::P384 => &P384_KEYS,
        EcCurve::P521 => &P521_KEYS,
        EcCurve::Secp256k1 => &K256_KEYS,
    };
    cache.get_or_parse(pkcs8, |pkcs8| {
        EcdsaKeyPair::from_pkcs8(signing_alg(curve), pkcs8).map_err(|_| bad_private_key())
    })
}

/// A DER SubjectPublicKeyInfo starts with a SEQUENCE; aws-lc-rs would also
/// take a bare SEC 1 point, which the seam does not accept as an SPKI.
fn looks_like_spki(spki: &[u8]) -> bool {
    spki.first() == Some(&0x30)
}

fn spki_of(key: &Arc<EcdsaKeyPair>) -> Result<Vec<u8>> {
    let der: PublicKeyX509Der = key
        .public_key()
        .as_der()
        .map_err(|_| Error::internal("EC public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

/// Generates an ECDSA key pair on `curve` in AWS-LC; PKCS#8 DER.
///
/// # Errors
/// `KMSInternalException` if generation or encoding fails.
pub fn ecdsa_generate<R: CryptoRng + ?Sized>(
    curve: EcCurve,
    _rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let key = EcdsaKeyPair::generate(signing_alg(curve))
        .map_err(|_| Error::internal("EC key generation failed"))?;
    let doc = key
        .to_pkcs8v1()
        .map_err(|_| Error::internal("EC private key encoding failed"))?;
    Ok(Zeroizing::new(doc.as_ref().to_vec()))
}

/// The curve of the PKCS#8 EC private key `pkcs8`.
///
/// # Errors
/// `ValidationException` if it is not a valid key on one of the
/// [`EcCurve`]s.
pub fn ecdsa_private_key_curve(pkcs8: &[u8]) -> Result<EcCurve> {
    EcCurve::ALL
        .into_iter()
        .find(|&c| key_pair(c, pkcs8).is_ok())
        .ok_or_else(bad_private_key)
}

fn is_public_key(curve: EcCurve, spki: &[u8]) -> bool {
    looks_like_spki(spki)
        && UnparsedPublicKey::new(verify_alg(curve), spki)
            .parse()
            .is_ok()
}

/// The curve of the EC public key `spki`.
///
/// # Errors
/// `ValidationException` if it is not a valid SPKI on one of the
/// [`EcCurve`]s.
pub fn ecdsa_public_key_curve(spki: &[u8]) -> Result<EcCurve> {
    EcCurve::ALL
        .into_iter()
        .find(|&c| is_public_key(c, spki))
        .ok_or_else(bad_public_key)
}

/// The SubjectPublicKeyInfo DER of the PKCS#8 private key on `curve`.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid key on `curve`.
pub fn ecdsa_public_key_der(curve: EcCurve, pkcs8: &[u8]) -> Result<Vec<u8>> {
    spki_of(&key_pair(curve, pkcs8)?)
}

/// Signs `digest` with ECDSA in AWS-LC; DER signature.
///
/// # Errors
/// `ValidationException` for a bad digest length or key.
pub fn ecdsa_sign_digest<R: CryptoRng + ?Sized>(
    curve: EcCurve,
    pkcs8: &[u8],
    digest: &[u8],
    _rng: &mut R,
) -> Result<Vec<u8>> {
    let d = import_digest(curve, digest).ok_or_else(bad_digest)?;
    let key = key_pair(curve, pkcs8)?;
    let sig = key
        .sign_digest(&d)
        .map_err(|_| Error::internal("ECDSA signing failed"))?;
    Ok(sig.as_ref().to_vec())
}

static VERIFYING_KEYS: KeyCache<ParsedPublicKey> = KeyCache::new();

/// Verifies a DER ECDSA signature over `digest` with `spki` on `curve`. The
/// parsed public key is cached (see `cache`), one per curve.
pub fn ecdsa_verify_digest(curve: EcCurve, spki: &[u8], digest: &[u8], sig_der: &[u8]) -> bool {
    let Some(d) = import_digest(curve, digest) else {
        return false;
    };
    if !looks_like_spki(spki) {
        return false;
    }
    let tag = match curve {
        EcCurve::P256 => 1,
        EcCurve::P384 => 2,
        EcCurve::P521 => 3,
        EcCurve::Secp256k1 => 4,
    };
    VERIFYING_KEYS
        .get_or_parse_tagged(tag, spki, |spki| {
            ParsedPublicKey::new(verify_alg(curve), spki)
        })
        .is_ok_and(|k| k.verify_digest_sig(&d, sig_der).is_ok())
}

/// The P-384 public key of `pkcs8` as a compressed SEC 1 point (49 bytes).
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid P-384 private key.
pub fn p384_compressed_public_key(pkcs8: &[u8]) -> Result<[u8; P384_COMPRESSED_POINT_LEN]> {
    let key = key_pair(EcCurve::P384, pkcs8)?;
    let point: EcPublicKeyCompressedBin = key
        .public_key()
        .as_be_bytes()
        .map_err(|_| Error::internal("P-384 point compression failed"))?;
    point
        .as_ref()
        .try_into()
        .map_err(|_| Error::internal("P-384 point compression failed"))
}

/// The SPKI DER of a compressed P-384 point: public-key parsing only, done
/// by the RustCrypto backend (no secret involved).
///
/// # Errors
/// `ValidationException` if `compressed` is not a compressed P-384 point.
pub fn p384_public_key_der_from_compressed(compressed: &[u8]) -> Result<Vec<u8>> {
    crate::crypto::rustcrypto::ecdsa::p384_public_key_der_from_compressed(compressed)
}

/// Verifies a DER ECDSA P-384 signature over `digest` with a compressed
/// SEC 1 public key, in AWS-LC.
pub fn p384_verify_digest_with_compressed_key(
    compressed: &[u8],
    digest: &[u8],
    sig_der: &[u8],
) -> bool {
    if compressed.len() != P384_COMPRESSED_POINT_LEN || !matches!(compressed[0], 0x02 | 0x03) {
        return false;
    }
    let Some(d) = import_digest(EcCurve::P384, digest) else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, compressed)
        .verify_digest(&d, sig_der)
        .is_ok()
}
