//! AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use alloc::vec::Vec;

use crate::error::{Error, Result};

/// Length of an AES-256 key in bytes.
pub const AES_256_KEY_LEN: usize = 32;
/// Length of a GCM nonce in bytes (96 bits, the NIST SP 800-38D recommendation).
pub const GCM_NONCE_LEN: usize = 12;
/// Length of a GCM authentication tag in bytes.
pub const GCM_TAG_LEN: usize = 16;

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
