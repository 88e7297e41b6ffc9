//! AES-GCM (NIST SP 800-38D) through AWS-LC.

pub use crate::crypto::aead::{AES_256_KEY_LEN, GCM_NONCE_LEN, GCM_TAG_LEN};
use alloc::vec::Vec;
use aws_lc_rs::aead::{
    Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_192_GCM, AES_256_GCM,
};

use crate::error::{Error, Result};

fn key_for(key: &[u8]) -> Option<LessSafeKey> {
    let alg = match key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        _ => return None,
    };
    UnboundKey::new(alg, key).ok().map(LessSafeKey::new)
}

fn key_256(key: &[u8]) -> Option<LessSafeKey> {
    if key.len() != 32 {
        return None;
    }
    key_for(key)
}

/// AES-256-GCM encryption; see [`crate::crypto::rustcrypto::aead::aes256_gcm_seal`].
///
/// # Errors
/// `KMSInternalException` if `key` is not 32 bytes (a bug in the caller).
pub fn aes256_gcm_seal(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let k = key_256(key).ok_or_else(|| Error::internal("AES-256-GCM key must be 32 bytes"))?;
    let mut out = Vec::with_capacity(plaintext.len() + GCM_TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut out,
        )
        .map_err(|_| Error::internal("AES-256-GCM encryption failed"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// AES-256-GCM decryption; see [`crate::crypto::rustcrypto::aead::aes256_gcm_open`].
///
/// # Errors
/// `InvalidCiphertextException` (no detail) on any failure.
pub fn aes256_gcm_open(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>> {
    let k = key_256(key).ok_or_else(Error::invalid_ciphertext)?;
    if ciphertext_and_tag.len() < GCM_TAG_LEN {
        return Err(Error::invalid_ciphertext());
    }
    let mut buf = ciphertext_and_tag.to_vec();
    match k.open_in_place(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut buf,
    ) {
        Ok(pt) => {
            let n = pt.len();
            buf.truncate(n);
            Ok(buf)
        }
        Err(_) => {
            zeroize::Zeroize::zeroize(&mut buf);
            Err(Error::invalid_ciphertext())
        }
    }
}

/// An AES-GCM key (16, 24 or 32 bytes) expanded once, for many
/// [`seal_in_place`](Self::seal_in_place) / [`open_in_place`](Self::open_in_place)
/// calls under the same key (the frames of one envelope message); see
/// [`crate::crypto::rustcrypto::aead::GcmKey`].
pub struct GcmKey(LessSafeKey);

impl core::fmt::Debug for GcmKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("GcmKey(..)")
    }
}

impl GcmKey {
    /// Expands `key` (AES-128, -192 or -256 by its length).
    ///
    /// # Errors
    /// `ValidationException` if `key` is not 16, 24 or 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self> {
        key_for(key)
            .map(GcmKey)
            .ok_or_else(|| Error::validation("AES-GCM key must be 16, 24 or 32 bytes"))
    }

    /// Encrypts `buffer` in place and returns the 16-byte tag.
    ///
    /// # Errors
    /// `KMSInternalException` if the input exceeds the GCM limit.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; GCM_TAG_LEN]> {
        let tag: Tag = self
            .0
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                buffer,
            )
            .map_err(|_| Error::internal("AES-GCM encryption failed"))?;
        let mut out = [0u8; GCM_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts `buffer` in place and checks `tag`; on failure `buffer` is zeroed.
    ///
    /// # Errors
    /// `InvalidCiphertextException` (no detail) on any failure.
    pub fn open_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; GCM_TAG_LEN],
    ) -> Result<()> {
        self.0
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                tag,
                buffer,
            )
            .map(|_| ())
            .map_err(|_| {
                zeroize::Zeroize::zeroize(buffer);
                Error::invalid_ciphertext()
            })
    }
}

/// AES-GCM (16-, 24- or 32-byte key) encryption in place; see
/// [`crate::crypto::rustcrypto::aead::aes_gcm_seal_in_place`].
///
/// # Errors
/// `ValidationException` if `key` is not 16, 24 or 32 bytes;
/// `KMSInternalException` if the input exceeds the GCM limit.
pub fn aes_gcm_seal_in_place(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    buffer: &mut [u8],
) -> Result<[u8; GCM_TAG_LEN]> {
    GcmKey::new(key)?.seal_in_place(nonce, aad, buffer)
}

/// AES-GCM decryption in place with a detached tag; see
/// [`crate::crypto::rustcrypto::aead::aes_gcm_open_in_place`]. On failure
/// `buffer` is zeroed.
///
/// # Errors
/// `InvalidCiphertextException` (no detail) on any failure.
pub fn aes_gcm_open_in_place(
    key: &[u8],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &[u8; GCM_TAG_LEN],
) -> Result<()> {
    GcmKey::new(key)
        .map_err(|_| Error::invalid_ciphertext())?
        .open_in_place(nonce, aad, buffer, tag)
}
