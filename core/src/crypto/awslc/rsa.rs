//! RSA (RFC 8017) through AWS-LC: every private-key operation (signing,
//! OAEP decryption) and key generation runs in AWS-LC, which is not subject
//! to RUSTSEC-2023-0071. See [`crate::crypto::rsa`] for the contracts.

pub use crate::crypto::rsa::{rsa_oaep_max_plaintext_len, OaepHash, RsaKeySize};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use aws_lc_rs::digest::{Digest, SHA256, SHA384, SHA512};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{
    self, KeyPair as _, ParsedPublicKey, RsaEncoding, VerificationAlgorithm, RSA_PKCS1_SHA256,
    RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256, RSA_PSS_SHA384, RSA_PSS_SHA512,
};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::cache::KeyCache;
use crate::crypto::digest::DigestAlgorithm;
use crate::crypto::rsa::check_digest;
use crate::error::{Error, Result};

fn bad_private_key() -> Error {
    Error::validation(
        "the RSA private key is not a valid PKCS#8 RSA_2048, RSA_3072 or RSA_4096 key",
    )
}

fn bad_public_key() -> Error {
    Error::validation("the RSA public key is not a valid SubjectPublicKeyInfo")
}

/// The number of bits of a big-endian unsigned integer without leading zeros.
fn bit_len(be: &[u8]) -> usize {
    match be.iter().position(|b| *b != 0) {
        Some(i) => (be.len() - i) * 8 - be[i].leading_zeros() as usize,
        None => 0,
    }
}

/// The smallest public exponent accepted on private keys: KMS and both
/// backends' key generation use 65537, and the RustCrypto backend rejects
/// smaller ones (e.g. e = 3), so AWS-LC must too for the same acceptance.
const MIN_PRIVATE_KEY_EXPONENT: u64 = 65537;

fn exponent_ok(e: &[u8]) -> bool {
    let e = match e.iter().position(|b| *b != 0) {
        Some(i) => &e[i..],
        None => return false,
    };
    e.len() > 8
        || e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)) >= MIN_PRIVATE_KEY_EXPONENT
}

/// Parses a PKCS#8 RSA private key and returns it with its modulus size in
/// bits, rejecting public exponents below 65537.
pub(crate) fn private_key_bits(pkcs8: &[u8]) -> Option<(KeyPair, usize)> {
    let key = KeyPair::from_pkcs8(pkcs8).ok()?;
    let public = key.public_key();
    if !exponent_ok(public.exponent().big_endian_without_leading_zero()) {
        return None;
    }
    let bits = bit_len(public.modulus().big_endian_without_leading_zero());
    Some((key, bits))
}

static SIGNING_KEYS: KeyCache<(KeyPair, RsaKeySize)> = KeyCache::new();
static DECRYPTING_KEYS: KeyCache<(PrivateDecryptingKey, usize)> = KeyCache::new();

fn signing_key(pkcs8: &[u8]) -> Result<Arc<(KeyPair, RsaKeySize)>> {
    SIGNING_KEYS.get_or_parse(pkcs8, |pkcs8| {
        let (key, bits) = private_key_bits(pkcs8).ok_or_else(bad_private_key)?;
        let size = RsaKeySize::from_bits(bits).ok_or_else(bad_private_key)?;
        Ok((key, size))
    })
}

/// The decryption key of `pkcs8` and its modulus size in bits (at least
/// 2048; exponent at least 65537), parsed once per process (see `cache`).
pub(crate) fn decrypting_key_bits(pkcs8: &[u8]) -> Option<(PrivateDecryptingKey, usize)> {
    DECRYPTING_KEYS
        .get_or_parse(pkcs8, |pkcs8| {
            let (_, bits) = private_key_bits(pkcs8).ok_or(())?;
            let key = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| ())?;
            Ok::<_, ()>((key, bits))
        })
        .ok()
        .map(|k| (k.0.clone(), k.1))
}

fn decrypting_key(pkcs8: &[u8]) -> Result<(PrivateDecryptingKey, RsaKeySize)> {
    let (key, bits) = decrypting_key_bits(pkcs8).ok_or_else(bad_private_key)?;
    let size = RsaKeySize::from_bits(bits).ok_or_else(bad_private_key)?;
    Ok((key, size))
}

pub(crate) fn public_key(spki: &[u8]) -> Option<(PublicEncryptingKey, usize)> {
    let key = PublicEncryptingKey::from_der(spki).ok()?;
    let bits = key.key_size_bits();
    Some((key, bits))
}

fn parse_public(spki: &[u8]) -> Option<(PublicEncryptingKey, RsaKeySize)> {
    let (key, bits) = public_key(spki)?;
    Some((key, RsaKeySize::from_bits(bits)?))
}

pub(crate) fn digest_alg(hash: DigestAlgorithm) -> &'static aws_lc_rs::digest::Algorithm {
    match hash {
        DigestAlgorithm::Sha256 => &SHA256,
        DigestAlgorithm::Sha384 => &SHA384,
        DigestAlgorithm::Sha512 => &SHA512,
    }
}

fn import_digest(hash: DigestAlgorithm, digest: &[u8]) -> Result<Digest> {
    check_digest(hash, digest)?;
    Digest::import_less_safe(digest, digest_alg(hash)).map_err(|_| {
        Error::validation("the digest length must equal the signing algorithm's hash length")
    })
}

fn sign(
    enc: &'static dyn RsaEncoding,
    hash: DigestAlgorithm,
    pkcs8: &[u8],
    digest: &[u8],
) -> Result<Vec<u8>> {
    let d = import_digest(hash, digest)?;
    let key = &signing_key(pkcs8)?.0;
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign_digest(enc, &d, &mut sig)
        .map_err(|_| Error::internal("RSA signing failed"))?;
    Ok(sig)
}

static VERIFYING_KEYS: KeyCache<ParsedPublicKey> = KeyCache::new();

/// Verifies with `spki` parsed for `alg` (cached under `tag`, one per
/// algorithm), after checking once that it is a 2048/3072/4096-bit key.
fn verify(
    alg: &'static dyn VerificationAlgorithm,
    tag: u8,
    hash: DigestAlgorithm,
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(d) = import_digest(hash, digest) else {
        return false;
    };
    let key = VERIFYING_KEYS.get_or_parse_tagged(tag, spki, |spki| {
        parse_public(spki).ok_or(())?;
        ParsedPublicKey::new(alg, spki).map_err(|_| ())
    });
    key.is_ok_and(|k| k.verify_digest_sig(&d, signature).is_ok())
}

/// The cache tag of a verification algorithm: scheme and hash.
fn verify_tag(pss: bool, hash: DigestAlgorithm) -> u8 {
    let h = match hash {
        DigestAlgorithm::Sha256 => 0,
        DigestAlgorithm::Sha384 => 1,
        DigestAlgorithm::Sha512 => 2,
    };
    if pss {
        0x10 | h
    } else {
        0x20 | h
    }
}

/// Generates an RSA key pair (e = 65537) in AWS-LC; PKCS#8 DER.
///
/// # Errors
/// `KMSInternalException` if generation or encoding fails.
pub fn rsa_generate<R: CryptoRng + ?Sized>(
    size: RsaKeySize,
    _rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let ks = match size {
        RsaKeySize::Rsa2048 => KeySize::Rsa2048,
        RsaKeySize::Rsa3072 => KeySize::Rsa3072,
        RsaKeySize::Rsa4096 => KeySize::Rsa4096,
    };
    let key = KeyPair::generate(ks).map_err(|_| Error::internal("RSA key generation failed"))?;
    let doc: Pkcs8V1Der = key
        .as_der()
        .map_err(|_| Error::internal("RSA private key encoding failed"))?;
    Ok(Zeroizing::new(doc.as_ref().to_vec()))
}

/// The size of the RSA private key `pkcs8`.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid 2048/3072/4096-bit key.
pub fn rsa_private_key_size(pkcs8: &[u8]) -> Result<RsaKeySize> {
    signing_key(pkcs8).map(|k| k.1)
}

/// The size of the RSA public key `spki`.
///
/// # Errors
/// `ValidationException` if `spki` is not an RSA public key of 2048, 3072 or
/// 4096 bits.
pub fn rsa_public_key_size(spki: &[u8]) -> Result<RsaKeySize> {
    parse_public(spki)
        .map(|(_, size)| size)
        .ok_or_else(bad_public_key)
}

/// The SubjectPublicKeyInfo DER of the PKCS#8 private key `pkcs8`.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid key.
pub fn rsa_public_key_der(pkcs8: &[u8]) -> Result<Vec<u8>> {
    let (key, _) = decrypting_key(pkcs8)?;
    let der: PublicKeyX509Der = key
        .public_key()
        .as_der()
        .map_err(|_| Error::internal("RSA public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

/// RSASSA-PSS signature over `digest` (salt = hash length), in AWS-LC.
///
/// # Errors
/// `ValidationException` for a bad digest length or key.
pub fn rsa_pss_sign_digest<R: CryptoRng + ?Sized>(
    hash: DigestAlgorithm,
    pkcs8: &[u8],
    digest: &[u8],
    _rng: &mut R,
) -> Result<Vec<u8>> {
    let enc: &'static dyn RsaEncoding = match hash {
        DigestAlgorithm::Sha256 => &RSA_PSS_SHA256,
        DigestAlgorithm::Sha384 => &RSA_PSS_SHA384,
        DigestAlgorithm::Sha512 => &RSA_PSS_SHA512,
    };
    sign(enc, hash, pkcs8, digest)
}

/// Verifies an RSASSA-PSS signature over `digest` (salt = hash length).
pub fn rsa_pss_verify_digest(
    hash: DigestAlgorithm,
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let alg: &'static dyn VerificationAlgorithm = match hash {
        DigestAlgorithm::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
        DigestAlgorithm::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
        DigestAlgorithm::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
    };
    verify(alg, verify_tag(true, hash), hash, spki, digest, signature)
}

/// RSASSA-PKCS1-v1_5 signature over `digest`, in AWS-LC.
///
/// # Errors
/// `ValidationException` for a bad digest length or key.
pub fn rsa_pkcs1v15_sign_digest<R: CryptoRng + ?Sized>(
    hash: DigestAlgorithm,
    pkcs8: &[u8],
    digest: &[u8],
    _rng: &mut R,
) -> Result<Vec<u8>> {
    let enc: &'static dyn RsaEncoding = match hash {
        DigestAlgorithm::Sha256 => &RSA_PKCS1_SHA256,
        DigestAlgorithm::Sha384 => &RSA_PKCS1_SHA384,
        DigestAlgorithm::Sha512 => &RSA_PKCS1_SHA512,
    };
    sign(enc, hash, pkcs8, digest)
}

/// Verifies an RSASSA-PKCS1-v1_5 signature over `digest`.
pub fn rsa_pkcs1v15_verify_digest(
    hash: DigestAlgorithm,
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let alg: &'static dyn VerificationAlgorithm = match hash {
        DigestAlgorithm::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        DigestAlgorithm::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        DigestAlgorithm::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
    };
    verify(alg, verify_tag(false, hash), hash, spki, digest, signature)
}

fn oaep_alg(hash: OaepHash) -> &'static OaepAlgorithm {
    match hash {
        OaepHash::Sha1 => &OAEP_SHA1_MGF1SHA1,
        OaepHash::Sha256 => &OAEP_SHA256_MGF1SHA256,
    }
}

pub(crate) fn oaep_encrypt(
    alg: &'static OaepAlgorithm,
    key: PublicEncryptingKey,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let key = OaepPublicEncryptingKey::new(key)
        .map_err(|_| Error::validation("not an RSA public key"))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let n = key
        .encrypt(alg, plaintext, &mut out, None)
        .map_err(|_| Error::validation("RSA encryption failed (plaintext too long for the key)"))?
        .len();
    out.truncate(n);
    Ok(out)
}

pub(crate) fn oaep_decrypt(
    alg: &'static OaepAlgorithm,
    key: PrivateDecryptingKey,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let key = OaepPrivateDecryptingKey::new(key).map_err(|_| Error::invalid_ciphertext())?;
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let n = key
        .decrypt(alg, ciphertext, &mut out, None)
        .map_err(|_| Error::invalid_ciphertext())?
        .len();
    out.truncate(n);
    Ok(out)
}

/// RSAES-OAEP encryption (empty label) in AWS-LC.
///
/// # Errors
/// `ValidationException` for a bad key or a plaintext that is empty or too long.
pub fn rsa_oaep_encrypt<R: CryptoRng + ?Sized>(
    hash: OaepHash,
    spki: &[u8],
    plaintext: &[u8],
    _rng: &mut R,
) -> Result<Vec<u8>> {
    let (key, size) = parse_public(spki).ok_or_else(bad_public_key)?;
    if plaintext.is_empty() || plaintext.len() > rsa_oaep_max_plaintext_len(size, hash) {
        return Err(Error::validation(
            "the plaintext is empty or too long for this RSA key and OAEP hash",
        ));
    }
    oaep_encrypt(oaep_alg(hash), key, plaintext)
        .map_err(|_| Error::internal("RSAES-OAEP encryption failed"))
}

/// RSAES-OAEP decryption (empty label) in AWS-LC.
///
/// # Errors
/// `ValidationException` for a bad key; every decryption failure is the one
/// detail-free `InvalidCiphertextException`. AWS-LC checks the leading octet
/// (unlike `rsa` 0.10.0).
pub fn rsa_oaep_decrypt<R: CryptoRng + ?Sized>(
    hash: OaepHash,
    pkcs8: &[u8],
    ciphertext: &[u8],
    _rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let (key, size) = decrypting_key(pkcs8)?;
    if ciphertext.len() != size.bytes() {
        return Err(Error::invalid_ciphertext());
    }
    oaep_decrypt(oaep_alg(hash), key, ciphertext)
}
