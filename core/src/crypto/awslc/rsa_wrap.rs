//! RSA encryption of short secrets (ESDK raw RSA keyring) through AWS-LC.
//! See [`crate::crypto::rsa_wrap`] for the contracts.

pub use crate::crypto::rsa_wrap::RsaWrapPadding;
use alloc::vec;
use alloc::vec::Vec;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    Pkcs1PrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
    OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::rsa::{decrypting_key_bits, oaep_decrypt, oaep_encrypt, public_key};
use crate::crypto::rsa_wrap::MIN_BITS;
use crate::error::{Error, Result};

/// Encrypts `plaintext` to `spki` with OAEP; see
/// [`crate::crypto::rustcrypto::rsa_wrap::rsa_wrap`].
///
/// # Errors
/// `ValidationException` for a bad key, PKCS#1 v1.5, or a too-long plaintext.
pub fn rsa_wrap<R: CryptoRng + ?Sized>(
    padding: RsaWrapPadding,
    spki: &[u8],
    plaintext: &[u8],
    _rng: &mut R,
) -> Result<Vec<u8>> {
    let (key, bits) =
        public_key(spki).ok_or_else(|| Error::validation("not an RSA SubjectPublicKeyInfo"))?;
    if bits < MIN_BITS as usize {
        return Err(Error::validation("RSA keys must have at least 2048 bits"));
    }
    let alg = match padding {
        RsaWrapPadding::OaepSha1 => &OAEP_SHA1_MGF1SHA1,
        RsaWrapPadding::OaepSha256 => &OAEP_SHA256_MGF1SHA256,
        RsaWrapPadding::OaepSha384 => &OAEP_SHA384_MGF1SHA384,
        RsaWrapPadding::OaepSha512 => &OAEP_SHA512_MGF1SHA512,
        RsaWrapPadding::Pkcs1v15 => {
            return Err(Error::validation(
                "PKCS#1 v1.5 encryption is not offered; use OAEP",
            ))
        }
    };
    oaep_encrypt(alg, key, plaintext)
}

/// Decrypts `ciphertext` with `pkcs8`, in AWS-LC; see
/// [`crate::crypto::rustcrypto::rsa_wrap::rsa_unwrap`].
///
/// # Errors
/// `ValidationException` for a bad key; `InvalidCiphertextException` (no
/// detail) if the padding does not check.
pub fn rsa_unwrap<R: CryptoRng + ?Sized>(
    padding: RsaWrapPadding,
    pkcs8: &[u8],
    ciphertext: &[u8],
    _rng: &mut R,
) -> Result<Zeroizing<Vec<u8>>> {
    let (key, bits) = decrypting_key_bits(pkcs8)
        .ok_or_else(|| Error::validation("not an RSA PKCS#8 private key"))?;
    if bits < MIN_BITS as usize {
        return Err(Error::validation("RSA keys must have at least 2048 bits"));
    }
    let alg = match padding {
        RsaWrapPadding::OaepSha1 => &OAEP_SHA1_MGF1SHA1,
        RsaWrapPadding::OaepSha256 => &OAEP_SHA256_MGF1SHA256,
        RsaWrapPadding::OaepSha384 => &OAEP_SHA384_MGF1SHA384,
        RsaWrapPadding::OaepSha512 => &OAEP_SHA512_MGF1SHA512,
        RsaWrapPadding::Pkcs1v15 => {
            let key =
                Pkcs1PrivateDecryptingKey::new(key).map_err(|_| Error::invalid_ciphertext())?;
            let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
            let n = key
                .decrypt(ciphertext, &mut out)
                .map_err(|_| Error::invalid_ciphertext())?
                .len();
            out.truncate(n);
            return Ok(out);
        }
    };
    oaep_decrypt(alg, key, ciphertext)
}

/// The SubjectPublicKeyInfo DER of the PKCS#8 RSA private key.
///
/// # Errors
/// `ValidationException` if `pkcs8` is not an RSA private key.
pub fn rsa_wrap_public_key(pkcs8: &[u8]) -> Result<Vec<u8>> {
    let key = PrivateDecryptingKey::from_pkcs8(pkcs8)
        .map_err(|_| Error::validation("not an RSA PKCS#8 private key"))?;
    let der: PublicKeyX509Der = key
        .public_key()
        .as_der()
        .map_err(|_| Error::internal("RSA public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}
