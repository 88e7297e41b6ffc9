//! RSA encryption of short secrets through the RustCrypto `rsa` crate (see
//! [`crate::crypto::rsa_wrap`]). Subject to RUSTSEC-2023-0071.

pub use crate::crypto::rsa_wrap::RsaWrapPadding;
use alloc::vec::Vec;
use rand_core::CryptoRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Encrypt, PrivateKey, PublicKey};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::crypto::rsa_wrap::MIN_BITS;
use crate::error::{Error, Result};

/// Encrypts `plaintext` (non-empty, at most `k − 2·hLen − 2` bytes) to the
/// public key `spki` (SubjectPublicKeyInfo DER).
///
/// # Errors
/// `ValidationException` if the key is not an RSA public key of at least 2048
/// bits, the padding is PKCS#1 v1.5 (not written), or the plaintext is too long.
pub fn rsa_wrap<R: CryptoRng + ?Sized>(
    padding: RsaWrapPadding,
    spki: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let key = PublicKey::from_public_key_der(spki)
        .map_err(|_| Error::validation("not an RSA SubjectPublicKeyInfo"))?;
    if key.n().bit_width() < MIN_BITS {
        return Err(Error::validation("RSA keys must have at least 2048 bits"));
    }
    let bad = |_| Error::validation("RSA encryption failed (plaintext too long for the key)");
    match padding {
        RsaWrapPadding::OaepSha1 => key
            .encrypt(rng, Oaep::<Sha1>::new(), plaintext)
            .map_err(bad),
        RsaWrapPadding::OaepSha256 => key
            .encrypt(rng, Oaep::<Sha256>::new(), plaintext)
            .map_err(bad),
        RsaWrapPadding::OaepSha384 => key
            .encrypt(rng, Oaep::<Sha384>::new(), plaintext)
            .map_err(bad),
        RsaWrapPadding::OaepSha512 => key
            .encrypt(rng, Oaep::<Sha512>::new(), plaintext)
            .map_err(bad),
        RsaWrapPadding::Pkcs1v15 => Err(Error::validation(
            "PKCS#1 v1.5 encryption is not offered; use OAEP",
        )),
    }
}

/// Decrypts `ciphertext` with the private key `pkcs8` (PKCS#8 DER).
///
/// # Errors
/// `ValidationException` if the key is not an RSA private key of at least
/// 2048 bits; `InvalidCiphertextException` (no detail) if the padding does
/// not check. PKCS#1 v1.5 padding checks are weak (RFC 8017 §7.2.2): the
/// caller must authenticate the result (the ESDK header tag does).
pub fn rsa_unwrap<R: CryptoRng + ?Sized>(
    padding: RsaWrapPadding,
    pkcs8: &[u8],
    ciphertext: &[u8],
    rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let key = PrivateKey::from_pkcs8_der(pkcs8)
        .map_err(|_| Error::validation("not an RSA PKCS#8 private key"))?;
    if key.as_public_key().n().bit_width() < MIN_BITS {
        return Err(Error::validation("RSA keys must have at least 2048 bits"));
    }
    match padding {
        RsaWrapPadding::OaepSha1 => key.decrypt_blinded(rng, Oaep::<Sha1>::new(), ciphertext),
        RsaWrapPadding::OaepSha256 => key.decrypt_blinded(rng, Oaep::<Sha256>::new(), ciphertext),
        RsaWrapPadding::OaepSha384 => key.decrypt_blinded(rng, Oaep::<Sha384>::new(), ciphertext),
        RsaWrapPadding::OaepSha512 => key.decrypt_blinded(rng, Oaep::<Sha512>::new(), ciphertext),
        RsaWrapPadding::Pkcs1v15 => key.decrypt_blinded(rng, Pkcs1v15Encrypt, ciphertext),
    }
    .map(Zeroizing::new)
    .map_err(|_| Error::invalid_ciphertext())
}

/// The public key (SubjectPublicKeyInfo DER) of the PKCS#8 RSA private key.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not an RSA private key.
pub fn rsa_wrap_public_key(pkcs8: &[u8]) -> Result<Vec<u8>> {
    use rsa::pkcs8::EncodePublicKey;
    let key = PrivateKey::from_pkcs8_der(pkcs8)
        .map_err(|_| Error::validation("not an RSA PKCS#8 private key"))?;
    key.as_public_key()
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|_| Error::internal("RSA public key encoding failed"))
}
