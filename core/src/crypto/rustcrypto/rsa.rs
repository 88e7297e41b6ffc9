//! RSA (RFC 8017) through the RustCrypto `rsa` crate (see [`crate::crypto::rsa`]).
//! Subject to RUSTSEC-2023-0071: not the active backend in native builds.

pub use crate::crypto::rsa::{rsa_oaep_max_plaintext_len, OaepHash, RsaKeySize};
use alloc::vec::Vec;
use rand_core::CryptoRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey, Pss, PublicKey};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::crypto::digest::DigestAlgorithm;
use crate::crypto::rsa::check_digest;
use crate::error::{Error, Result};

fn bad_private_key() -> Error {
    Error::validation(
        "the RSA private key is not a valid PKCS#8 RSA_2048, RSA_3072 or RSA_4096 key",
    )
}

fn size_of(key: &PublicKey) -> Option<RsaKeySize> {
    usize::try_from(key.n().bit_width())
        .ok()
        .and_then(RsaKeySize::from_bits)
}

fn parse_private(pkcs8: &[u8]) -> Result<(PrivateKey, RsaKeySize)> {
    let key = PrivateKey::from_pkcs8_der(pkcs8).map_err(|_| bad_private_key())?;
    let size = size_of(key.as_public_key()).ok_or_else(bad_private_key)?;
    Ok((key, size))
}

fn parse_public(spki: &[u8]) -> Option<(PublicKey, RsaKeySize)> {
    let key = PublicKey::from_public_key_der(spki).ok()?;
    let size = size_of(&key)?;
    Some((key, size))
}

/// Generates an RSA key pair with public exponent 65537 and returns the
/// private key as PKCS#8 DER (which also holds the public key).
///
/// Prime search makes the time vary widely: a 4096-bit key can take seconds
/// in an unoptimised build.
///
/// # Errors
/// `KMSInternalException` if generation or encoding fails.
pub fn rsa_generate<R: CryptoRng + ?Sized>(
    size: RsaKeySize,
    rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let key = PrivateKey::new(rng, size.bits())
        .map_err(|_| Error::internal("RSA key generation failed"))?;
    let doc = key
        .to_pkcs8_der()
        .map_err(|_| Error::internal("RSA private key encoding failed"))?;
    Ok(Zeroizing::new(doc.as_bytes().to_vec()))
}

/// The size of the RSA private key `pkcs8` (PKCS#8 DER).
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a PKCS#8 RSA private key of 2048,
/// 3072 or 4096 bits, or is inconsistent (the `rsa` crate validates it).
pub fn rsa_private_key_size(pkcs8: &[u8]) -> Result<RsaKeySize> {
    parse_private(pkcs8).map(|(_, size)| size)
}

/// The size of the RSA public key `spki` (SubjectPublicKeyInfo DER).
///
/// # Errors
/// `ValidationException` if `spki` is not an RSA public key of 2048, 3072 or
/// 4096 bits.
pub fn rsa_public_key_size(spki: &[u8]) -> Result<RsaKeySize> {
    parse_public(spki)
        .map(|(_, size)| size)
        .ok_or_else(|| Error::validation("the RSA public key is not a valid SubjectPublicKeyInfo"))
}

/// The public key of the PKCS#8 private key `pkcs8`, as DER
/// SubjectPublicKeyInfo (algorithm `rsaEncryption`), the shape of KMS
/// `GetPublicKey`.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid key (see
/// [`rsa_private_key_size`]); `KMSInternalException` if encoding fails.
pub fn rsa_public_key_der(pkcs8: &[u8]) -> Result<Vec<u8>> {
    let (key, _) = parse_private(pkcs8)?;
    key.as_public_key()
        .to_public_key_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| Error::internal("RSA public key encoding failed"))
}

/// Signs `digest` (the `hash` of the message) with RSASSA-PSS (RFC 8017
/// §8.1): MGF1 with `hash`, salt length = hash length, random salt from
/// `rng`, which also blinds the private-key operation. Returns a signature
/// as long as the modulus (256, 384 or 512 bytes).
///
/// # Errors
/// `ValidationException` if `digest` is not `hash.output_len()` bytes or
/// `pkcs8` is not a valid key; `KMSInternalException` if signing fails.
pub fn rsa_pss_sign_digest<R: CryptoRng + ?Sized>(
    hash: DigestAlgorithm,
    pkcs8: &[u8],
    digest: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    check_digest(hash, digest)?;
    let (key, _) = parse_private(pkcs8)?;
    let res = match hash {
        DigestAlgorithm::Sha256 => key.sign_with_rng(rng, Pss::<Sha256>::new(), digest),
        DigestAlgorithm::Sha384 => key.sign_with_rng(rng, Pss::<Sha384>::new(), digest),
        DigestAlgorithm::Sha512 => key.sign_with_rng(rng, Pss::<Sha512>::new(), digest),
    };
    res.map_err(|_| Error::internal("RSASSA-PSS signing failed"))
}

/// Verifies an RSASSA-PSS signature (RFC 8017 §8.1.2) over `digest` with
/// MGF1 over `hash` and a salt of exactly the hash length.
///
/// `false` if the signature does not verify, `digest` has the wrong length,
/// or `spki` is not a valid RSA public key of a supported size; the caller
/// maps `false` to `KMSInvalidSignatureException`.
pub fn rsa_pss_verify_digest(
    hash: DigestAlgorithm,
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> bool {
    if check_digest(hash, digest).is_err() {
        return false;
    }
    let Some((key, _)) = parse_public(spki) else {
        return false;
    };
    let salt = hash.output_len();
    match hash {
        DigestAlgorithm::Sha256 => {
            key.verify(Pss::<Sha256>::new_with_salt(salt), digest, signature)
        }
        DigestAlgorithm::Sha384 => {
            key.verify(Pss::<Sha384>::new_with_salt(salt), digest, signature)
        }
        DigestAlgorithm::Sha512 => {
            key.verify(Pss::<Sha512>::new_with_salt(salt), digest, signature)
        }
    }
    .is_ok()
}

fn pkcs1v15_scheme(hash: DigestAlgorithm) -> rsa::Pkcs1v15Sign {
    match hash {
        DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    }
}

/// Signs `digest` with RSASSA-PKCS1-v1_5 (RFC 8017 §8.2; `DigestInfo` with
/// the `hash` OID). Deterministic: the same key and digest always give the
/// same signature; `rng` only blinds the private-key operation.
///
/// # Errors
/// `ValidationException` if `digest` is not `hash.output_len()` bytes or
/// `pkcs8` is not a valid key; `KMSInternalException` if signing fails.
pub fn rsa_pkcs1v15_sign_digest<R: CryptoRng + ?Sized>(
    hash: DigestAlgorithm,
    pkcs8: &[u8],
    digest: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    check_digest(hash, digest)?;
    let (key, _) = parse_private(pkcs8)?;
    key.sign_with_rng(rng, pkcs1v15_scheme(hash), digest)
        .map_err(|_| Error::internal("RSASSA-PKCS1-v1_5 signing failed"))
}

/// Verifies an RSASSA-PKCS1-v1_5 signature (RFC 8017 §8.2.2) over `digest`.
///
/// `false` if the signature does not verify, `digest` has the wrong length,
/// or `spki` is not a valid RSA public key of a supported size; the caller
/// maps `false` to `KMSInvalidSignatureException`.
pub fn rsa_pkcs1v15_verify_digest(
    hash: DigestAlgorithm,
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> bool {
    if check_digest(hash, digest).is_err() {
        return false;
    }
    let Some((key, _)) = parse_public(spki) else {
        return false;
    };
    key.verify(pkcs1v15_scheme(hash), digest, signature).is_ok()
}

/// Encrypts `plaintext` to the RSA public key `spki` with RSAES-OAEP (RFC
/// 8017 §7.1.1): `hash` for the (empty) label and MGF1, a random seed from
/// `rng`. The ciphertext is as long as the modulus.
///
/// # Errors
/// `ValidationException` if `spki` is not a valid RSA public key of a
/// supported size, or `plaintext` is empty or longer than
/// [`rsa_oaep_max_plaintext_len`]; `KMSInternalException` if encryption fails.
pub fn rsa_oaep_encrypt<R: CryptoRng + ?Sized>(
    hash: OaepHash,
    spki: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let (key, size) = parse_public(spki).ok_or_else(|| {
        Error::validation("the RSA public key is not a valid SubjectPublicKeyInfo")
    })?;
    if plaintext.is_empty() || plaintext.len() > rsa_oaep_max_plaintext_len(size, hash) {
        return Err(Error::validation(
            "the plaintext is empty or too long for this RSA key and OAEP hash",
        ));
    }
    match hash {
        OaepHash::Sha1 => key.encrypt(rng, Oaep::<Sha1>::new(), plaintext),
        OaepHash::Sha256 => key.encrypt(rng, Oaep::<Sha256>::new(), plaintext),
    }
    .map_err(|_| Error::internal("RSAES-OAEP encryption failed"))
}

/// Decrypts an RSAES-OAEP ciphertext (RFC 8017 §7.1.2) made as by
/// [`rsa_oaep_encrypt`] with the same `hash`; `rng` blinds the private-key
/// operation.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not a valid key. Every decryption
/// failure (wrong length, wrong key, bad padding) is the one detail-free
/// `InvalidCiphertextException`.
///
/// Known deviation (Wycheproof "First byte is 1"): `rsa` 0.10.0 does not
/// check that the leading octet `Y` of the encoded message is zero (RFC 8017
/// §7.1.2 step 3.g), so such a ciphertext still decrypts if the rest of the
/// padding is right. It reveals nothing (no distinct error) and needs the
/// private key to produce; `tests/wycheproof.rs` tracks it until the crate
/// fixes it.
pub fn rsa_oaep_decrypt<R: CryptoRng + ?Sized>(
    hash: OaepHash,
    pkcs8: &[u8],
    ciphertext: &[u8],
    rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let (key, size) = parse_private(pkcs8)?;
    if ciphertext.len() != size.bytes() {
        return Err(Error::invalid_ciphertext());
    }
    match hash {
        OaepHash::Sha1 => key.decrypt_blinded(rng, Oaep::<Sha1>::new(), ciphertext),
        OaepHash::Sha256 => key.decrypt_blinded(rng, Oaep::<Sha256>::new(), ciphertext),
    }
    .map(Zeroizing::new)
    .map_err(|_| Error::invalid_ciphertext())
}
