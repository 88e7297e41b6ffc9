//! AES-GCM (NIST SP 800-38D) through the RustCrypto `aes-gcm` crate.

pub use crate::crypto::aead::{AES_256_KEY_LEN, GCM_NONCE_LEN, GCM_TAG_LEN};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use alloc::vec::Vec;

use crate::error::{Error, Result};

/// Encrypts `plaintext` with AES-256-GCM and returns `ciphertext || tag`
/// (`plaintext.len() + 16` bytes).
///
/// # Errors
/// `KMSInternalException` if `key` is not 32 bytes (a bug in the caller).
pub fn aes256_gcm_seal(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(key)
        .map_err(|_| Error::internal("AES-256-GCM key must be 32 bytes"))?;
    cipher
        .encrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::internal("AES-256-GCM encryption failed"))
}

/// Decrypts and authenticates `ciphertext || tag` produced by [`aes256_gcm_seal`].
///
/// # Errors
/// `InvalidCiphertextException` (with no detail) if the tag does not verify,
/// the input is shorter than a tag, or the key has the wrong length.
pub fn aes256_gcm_open(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::invalid_ciphertext())?;
    cipher
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map_err(|_| Error::invalid_ciphertext())
}

/// AES-GCM (NIST SP 800-38D) with a 128-, 192- or 256-bit key, chosen by
/// `key.len()` (16, 24 or 32 bytes), a 96-bit nonce and a 128-bit tag,
/// encrypting `buffer` in place and returning the 16-byte tag.
///
/// # Errors
/// `ValidationException` if `key` is not 16, 24 or 32 bytes;
/// `KMSInternalException` if the input exceeds the GCM limit (2^36 − 32 bytes).
pub fn aes_gcm_seal_in_place(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    buffer: &mut [u8],
) -> Result<[u8; GCM_TAG_LEN]> {
    use aes_gcm::aead::AeadInOut;
    let nonce = Nonce::from(*nonce);
    let tag = match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key)
            .map_err(|_| Error::validation("AES-GCM key must be 16, 24 or 32 bytes"))?
            .encrypt_inout_detached(&nonce, aad, buffer.into()),
        24 => Aes192Gcm::new_from_slice(key)
            .map_err(|_| Error::validation("AES-GCM key must be 16, 24 or 32 bytes"))?
            .encrypt_inout_detached(&nonce, aad, buffer.into()),
        32 => Aes256Gcm::new_from_slice(key)
            .map_err(|_| Error::validation("AES-GCM key must be 16, 24 or 32 bytes"))?
            .encrypt_inout_detached(&nonce, aad, buffer.into()),
        _ => return Err(Error::validation("AES-GCM key must be 16, 24 or 32 bytes")),
    }
    .map_err(|_| Error::internal("AES-GCM encryption failed"))?;
    Ok(tag.into())
}

/// Decrypts `buffer` in place with AES-GCM (key of 16, 24 or 32 bytes, 96-bit
/// nonce) and checks the 16-byte `tag`. On failure `buffer` is zeroed, so no
/// unauthenticated plaintext survives.
///
/// # Errors
/// `InvalidCiphertextException` (no detail) if the tag does not verify or the
/// key has the wrong length.
pub fn aes_gcm_open_in_place(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8; GCM_TAG_LEN],
) -> Result<()> {
    use aes_gcm::aead::AeadInOut;
    let nonce = Nonce::from(*nonce);
    let tag = aes_gcm::Tag::from(*tag);
    let result = match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key)
            .map_err(|_| Error::invalid_ciphertext())?
            .decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag),
        24 => Aes192Gcm::new_from_slice(key)
            .map_err(|_| Error::invalid_ciphertext())?
            .decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag),
        32 => Aes256Gcm::new_from_slice(key)
            .map_err(|_| Error::invalid_ciphertext())?
            .decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag),
        _ => return Err(Error::invalid_ciphertext()),
    };
    result.map_err(|_| {
        zeroize::Zeroize::zeroize(buffer);
        Error::invalid_ciphertext()
    })
}

/// AES-192-GCM with a 96-bit nonce (aes-gcm has no alias for it).
type Aes192Gcm = aes_gcm::AesGcm<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>;
