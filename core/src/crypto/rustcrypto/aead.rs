//! AES-GCM (NIST SP 800-38D) through the RustCrypto `aes-gcm` crate.

pub use crate::crypto::aead::{AES_256_KEY_LEN, GCM_NONCE_LEN, GCM_TAG_LEN};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use alloc::boxed::Box;
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

/// An AES-GCM key (AES-128, -192 or -256, chosen by the key length: 16, 24
/// or 32 bytes) whose schedule is expanded once in [`GcmKey::new`] and
/// reused by every [`seal_in_place`](Self::seal_in_place) /
/// [`open_in_place`](Self::open_in_place) call: for many short messages
/// under one key (the frames of an envelope message) the expansion would
/// otherwise cost more than the encryption. 96-bit nonce, 128-bit tag.
pub struct GcmKey(Inner);

enum Inner {
    A128(Box<aes_gcm::Aes128Gcm>),
    A192(Box<Aes192Gcm>),
    A256(Box<Aes256Gcm>),
}

impl core::fmt::Debug for GcmKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("GcmKey(..)")
    }
}

impl GcmKey {
    /// Expands `key` (16, 24 or 32 bytes).
    ///
    /// # Errors
    /// `ValidationException` if `key` is not 16, 24 or 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self> {
        let bad = |_| Error::validation("AES-GCM key must be 16, 24 or 32 bytes");
        Ok(GcmKey(match key.len() {
            16 => Inner::A128(Box::new(
                aes_gcm::Aes128Gcm::new_from_slice(key).map_err(bad)?,
            )),
            24 => Inner::A192(Box::new(Aes192Gcm::new_from_slice(key).map_err(bad)?)),
            32 => Inner::A256(Box::new(Aes256Gcm::new_from_slice(key).map_err(bad)?)),
            _ => return Err(Error::validation("AES-GCM key must be 16, 24 or 32 bytes")),
        }))
    }

    /// Encrypts `buffer` in place and returns the 16-byte tag.
    ///
    /// # Errors
    /// `KMSInternalException` if the input exceeds the GCM limit (2^36 − 32 bytes).
    pub fn seal_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; GCM_TAG_LEN]> {
        use aes_gcm::aead::AeadInOut;
        let nonce = Nonce::from(*nonce);
        let tag = match &self.0 {
            Inner::A128(c) => c.encrypt_inout_detached(&nonce, aad, buffer.into()),
            Inner::A192(c) => c.encrypt_inout_detached(&nonce, aad, buffer.into()),
            Inner::A256(c) => c.encrypt_inout_detached(&nonce, aad, buffer.into()),
        }
        .map_err(|_| Error::internal("AES-GCM encryption failed"))?;
        Ok(tag.into())
    }

    /// Decrypts `buffer` in place and checks the 16-byte `tag`. On failure
    /// `buffer` is zeroed, so no unauthenticated plaintext survives.
    ///
    /// # Errors
    /// `InvalidCiphertextException` (no detail) if the tag does not verify.
    pub fn open_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; GCM_TAG_LEN],
    ) -> Result<()> {
        use aes_gcm::aead::AeadInOut;
        let nonce = Nonce::from(*nonce);
        let tag = aes_gcm::Tag::from(*tag);
        let result = match &self.0 {
            Inner::A128(c) => c.decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag),
            Inner::A192(c) => c.decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag),
            Inner::A256(c) => c.decrypt_inout_detached(&nonce, aad, (&mut *buffer).into(), &tag),
        };
        result.map_err(|_| {
            zeroize::Zeroize::zeroize(buffer);
            Error::invalid_ciphertext()
        })
    }
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
    GcmKey::new(key)?.seal_in_place(nonce, aad, buffer)
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
    GcmKey::new(key)
        .map_err(|_| Error::invalid_ciphertext())?
        .open_in_place(nonce, aad, buffer, tag)
}

/// AES-192-GCM with a 96-bit nonce (aes-gcm has no alias for it).
type Aes192Gcm = aes_gcm::AesGcm<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>;
