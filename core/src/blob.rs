//! The ciphertext blob of symmetric Encrypt, GenerateDataKey and ReEncrypt.
//! Byte layout (all integers big-endian; see `docs/FORMAT.md`):
//!
//! ```text
//! offset len  field
//! 0      1    version = 0x01
//! 1      16   key ID (UUID bytes)
//! 17     4    backing-key version (u32)
//! 21     16   salt (random)
//! 37     12   nonce (random)
//! 49     n+16 AES-256-GCM ciphertext || tag
//! ```
//!
//! Per-call key: `HKDF-SHA256(salt, backing key, "strongroom/v1/blob" ||
//! key ID bytes || version)`, 32 bytes. AAD: the 49 header bytes followed
//! by the encryption context in the AWS Encryption SDK serialization.
//! A fresh 128-bit salt gives a fresh key per call, so one backing key has no
//! practical wear-out limit (NIST SP 800-38D's 2^32 random-nonce bound
//! applies per derived key, which is used once).

use alloc::vec::Vec;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::context::EncryptionContext;
use crate::crypto::{self, GCM_NONCE_LEN, GCM_TAG_LEN};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Version byte of the blob format.
pub const BLOB_VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 49;
/// Bytes a blob adds to the plaintext (header + tag).
pub const OVERHEAD: usize = HEADER_LEN + GCM_TAG_LEN;
/// The KMS limit on a ciphertext blob (bytes).
pub const MAX_BLOB_LEN: usize = 6144;

/// The cleartext header of a blob: which key and backing-key version made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobHeader {
    /// Key ID as UUID bytes.
    pub key_id: [u8; 16],
    /// Backing-key version.
    pub version: u32,
}

impl BlobHeader {
    /// The key ID in hyphenated lowercase form.
    pub fn key_id_string(&self) -> alloc::string::String {
        use alloc::string::ToString;
        uuid::Uuid::from_bytes(self.key_id).hyphenated().to_string()
    }
}

/// Reads the header of a blob without decrypting it.
///
/// # Errors
/// `InvalidCiphertextException` (detail-free) if the blob is shorter than
/// header + tag, longer than 6144 bytes, or has an unknown version.
pub fn parse_header(blob: &[u8]) -> Result<BlobHeader> {
    if blob.len() < OVERHEAD || blob.len() > MAX_BLOB_LEN || blob[0] != BLOB_VERSION {
        return Err(Error::invalid_ciphertext());
    }
    let mut key_id = [0u8; 16];
    key_id.copy_from_slice(&blob[1..17]);
    let version = u32::from_be_bytes([blob[17], blob[18], blob[19], blob[20]]);
    Ok(BlobHeader { key_id, version })
}

fn per_call_key(
    backing: &Secret,
    salt: &[u8],
    key_id: &[u8; 16],
    version: u32,
) -> Result<Zeroizing<[u8; 32]>> {
    let mut info = Vec::with_capacity(18 + 16 + 4);
    info.extend_from_slice(b"strongroom/v1/blob");
    info.extend_from_slice(key_id);
    info.extend_from_slice(&version.to_be_bytes());
    let mut k = Zeroizing::new([0u8; 32]);
    crypto::hkdf_sha256(salt, backing.expose_secret(), &info, k.as_mut())?;
    Ok(k)
}

/// Encrypts `plaintext` under `backing` (version `version` of key `key_id`).
///
/// # Errors
/// `ValidationException` if the context cannot be encoded;
/// `KMSInternalException` if the blob would exceed 6144 bytes.
pub fn seal<R: CryptoRng + ?Sized>(
    rng: &mut R,
    key_id: &[u8; 16],
    version: u32,
    backing: &Secret,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> Result<Vec<u8>> {
    if plaintext.len() + OVERHEAD > MAX_BLOB_LEN {
        return Err(Error::internal("ciphertext blob would exceed 6144 bytes"));
    }
    let mut header = Vec::with_capacity(HEADER_LEN + plaintext.len() + GCM_TAG_LEN);
    header.push(BLOB_VERSION);
    header.extend_from_slice(key_id);
    header.extend_from_slice(&version.to_be_bytes());
    // Salt and nonce from one draw (one `getrandom` with the OS RNG).
    let mut random = [0u8; 16 + GCM_NONCE_LEN];
    rng.fill_bytes(&mut random);
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; GCM_NONCE_LEN];
    salt.copy_from_slice(&random[..16]);
    nonce.copy_from_slice(&random[16..]);
    header.extend_from_slice(&random);
    let mut aad = header.clone();
    aad.extend_from_slice(&context.encode()?);
    let k = per_call_key(backing, &salt, key_id, version)?;
    let ct = crypto::aes256_gcm_seal(k.as_ref(), &nonce, &aad, plaintext)?;
    header.extend_from_slice(&ct);
    Ok(header)
}

/// Decrypts a blob made by [`seal`] with the backing key its header names.
///
/// # Errors
/// `InvalidCiphertextException` (one detail-free error) for any failure:
/// wrong backing key, wrong context, truncation, any altered byte.
pub fn open(blob: &[u8], backing: &Secret, context: &EncryptionContext) -> Result<Secret> {
    let h = parse_header(blob)?;
    let mut nonce = [0u8; GCM_NONCE_LEN];
    nonce.copy_from_slice(&blob[37..49]);
    let mut aad = blob[..HEADER_LEN].to_vec();
    aad.extend_from_slice(&context.encode().map_err(|_| Error::invalid_ciphertext())?);
    let k = per_call_key(backing, &blob[21..37], &h.key_id, h.version)
        .map_err(|_| Error::invalid_ciphertext())?;
    crypto::aes256_gcm_open(k.as_ref(), &nonce, &aad, &blob[HEADER_LEN..]).map(Secret::new)
}
