//! Envelope encryption in the AWS Encryption SDK message format.
//!
//! A *message* holds data of any size encrypted under a fresh data key,
//! together with that data key wrapped by one or more [`Keyring`]s, so that
//! the AWS Encryption SDKs (Python, Java, JavaScript, C, …) read what
//! Strongroom writes and the other way round. Layout and rules: the AWS
//! Encryption SDK specification (message format, algorithm suites, keyrings,
//! encrypt and decrypt); what Strongroom implements is recorded in
//! `docs/FORMAT.md`, section "Envelope message".
//!
//! - Writes message format version 2 with suite `0x0578` (default) or
//!   `0x0478`; reads those and, if the [`CommitmentPolicy`] allows, the
//!   version 1 suites `0x0178` and `0x0378`.
//! - Works on byte slices ([`encrypt`] / [`decrypt`], or [`encrypt_into`] /
//!   [`decrypt_into`] appending to a caller's reusable `Vec`: one pass,
//!   each frame copied into its place and sealed or opened there;
//!   [`encrypt_into_slice`] / [`decrypt_into_slice`] into a caller's slice,
//!   decryption's output sized by [`plaintext_len`], read from the framing)
//!   and incremental frames ([`Encryptor`], [`Decryptor`]); streaming over
//!   `Read`/`Write` is in the `strongroom` crate.
//! - Every authentication failure is one detail-free
//!   `InvalidCiphertextException`; bad parameters are `ValidationException`.
//!
//! ```
//! use strongroom_core::envelope::{decrypt, encrypt, DecryptOptions, EncryptOptions, RawAesKeyring};
//! use strongroom_core::EncryptionContext;
//! # struct Counter(u8);
//! # impl rand_core::TryRng for Counter {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(0) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(0) }
//! #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in d { self.0 = self.0.wrapping_add(1); *b = self.0; } Ok(()) }
//! # }
//! # impl rand_core::TryCryptoRng for Counter {}
//! # let mut rng = Counter(0); // use rand_core::UnwrapErr(getrandom::SysRng) in real code
//! let keyring = RawAesKeyring::new("my-namespace", "my-key", &[7u8; 32])?;
//! let context = EncryptionContext::from_pairs([("purpose", "example")])?;
//! let options = EncryptOptions {
//!     suite: strongroom_core::envelope::AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
//!     ..EncryptOptions::default()
//! };
//! let message = encrypt(&keyring, &context, b"hello", &options, &mut rng)?;
//! let (plaintext, header) = decrypt(&keyring, &message, DecryptOptions::default(), &mut rng)?;
//! assert_eq!(plaintext, b"hello");
//! assert_eq!(header.encryption_context.get("purpose"), Some("example"));
//! # Ok::<(), strongroom_core::Error>(())
//! ```

mod decrypt;
mod encrypt;
mod frame;
mod header;
mod keyring;
pub mod kms;
mod signature;
mod suite;

pub use crate::crypto::rsa_wrap::RsaWrapPadding;
pub use decrypt::{decrypt, decrypt_into, decrypt_into_slice, plaintext_len, Decryptor, Released};
pub use encrypt::{encrypt, encrypt_into, encrypt_into_slice, Encryptor, SliceOutcome};
pub use header::{parse_header, ContentType, EncryptedDataKey, MessageHeader};
pub use keyring::{
    DataKey, DecryptionMaterials, EncryptionMaterials, Keyring, MultiKeyring, RawAesKeyring,
    RawRsaKeyring,
};
pub use signature::{MessageHasher, PUBLIC_KEY_CONTEXT_KEY};
pub use suite::{AlgorithmSuite, CommitmentPolicy, COMMITMENT_LEN, DATA_KEY_LEN, IV_LEN, TAG_LEN};

use crate::context::EncryptionContext;
use crate::error::{Error, Result};

/// Default frame length in bytes (the ESDKs' default).
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;
/// Default bound on a frame (or non-framed body) a streaming decryptor
/// buffers: 256 MiB (268,435,456 bytes). A streaming decryptor holds a whole
/// frame before it can authenticate and release it; the one-call decryptions
/// ([`decrypt`], [`Decryptor::decrypt_into`]) have the message in memory and
/// apply no such bound.
pub const DEFAULT_MAX_CONTENT_BUFFER: u64 = 256 * 1024 * 1024;
/// Largest max frame buffer ([`DecryptOptions::set_max_frame_buffer`]):
/// 2^32 − 1 bytes, the largest frame length the message format can state
/// (a 4-byte field).
pub const LARGEST_MAX_FRAME_BUFFER: u64 = 0xFFFF_FFFF;
/// Largest frame length Strongroom writes: 256 MiB (268,435,456 bytes),
/// [`DEFAULT_MAX_CONTENT_BUFFER`], so that every message Strongroom writes
/// is read by every Strongroom decryptor with its default options. (The
/// format allows up to 2^32 − 1 and the ESDK for Python writes up to
/// 2^31 − 1; such messages decrypt in one call, or as a stream with
/// [`DecryptOptions::max_content_buffer`] raised.)
pub const MAX_FRAME_LENGTH: u32 = 256 * 1024 * 1024;

/// Default bound on the header the decryptor buffers: 4 MiB.
pub const DEFAULT_MAX_HEADER_LENGTH: usize = 4 * 1024 * 1024;

/// Default bound on the encrypted data keys of a message the decryptor
/// accepts: 10. Each EDK a keyring may try costs a key unwrap (for the KMS
/// keyring, a Decrypt call and its audit record), so a crafted message
/// with thousands of EDKs would turn one file into thousands of calls. The
/// ESDKs themselves default to no limit (up to 65,535) and recommend
/// setting one for messages from untrusted sources; a message Strongroom
/// writes has one EDK per wrapping key.
pub const DEFAULT_MAX_ENCRYPTED_DATA_KEYS: u16 = 10;

/// Checks a `max_encrypted_data_keys` option ([`EncryptOptions`],
/// [`DecryptOptions`]): `None` (no limit) or 1 to 65535. A message has at
/// least one encrypted data key, so 0 could only refuse every message; the
/// AWS Encryption SDKs refuse it when the client is configured ("cannot be
/// less than 1"), and so do [`Encryptor::new`] (before the keyring is
/// called) and [`Decryptor`] (before the header is parsed).
///
/// # Errors
/// `ValidationException` for `Some(0)`.
pub fn check_max_encrypted_data_keys(max: Option<u16>) -> Result<()> {
    if max == Some(0) {
        return Err(Error::validation(
            "the limit on encrypted data keys cannot be less than 1 (a message has at least one)",
        ));
    }
    Ok(())
}

/// Options for [`encrypt`] and [`Encryptor::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptOptions {
    /// Algorithm suite; default `0x0578` (signed, committing).
    pub suite: AlgorithmSuite,
    /// Plaintext bytes per frame, 1 to [`MAX_FRAME_LENGTH`] (256 MiB);
    /// default 4096.
    pub frame_length: u32,
    /// Default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`; `FORBID_ENCRYPT_ALLOW_DECRYPT` makes encryption fail.
    pub commitment_policy: CommitmentPolicy,
    /// Fail if the keyring produces more EDKs than this, 1 to 65535 (0 is a
    /// `ValidationException`, [`check_max_encrypted_data_keys`]); `None` = no
    /// limit.
    pub max_encrypted_data_keys: Option<u16>,
}

impl Default for EncryptOptions {
    fn default() -> Self {
        EncryptOptions {
            suite: AlgorithmSuite::default(),
            frame_length: DEFAULT_FRAME_LENGTH,
            commitment_policy: CommitmentPolicy::default(),
            max_encrypted_data_keys: None,
        }
    }
}

impl EncryptOptions {
    /// Sets [`frame_length`](Self::frame_length) from a caller's option in
    /// bytes, checking its range: 1 to [`MAX_FRAME_LENGTH`] (256 MiB). A
    /// front end whose numbers go past `u32` (JavaScript's `frameLength`)
    /// passes the value as given, so that the message tells it, not a
    /// clamped one.
    ///
    /// # Errors
    /// `ValidationException` "frame length must be between 1 and 268435456
    /// bytes (…), not N" for a value out of range (the one message of
    /// [`encrypt`]'s check); the options are then unchanged.
    pub fn set_frame_length(&mut self, bytes: u64) -> Result<()> {
        self.frame_length = check_frame_length(bytes)?;
        Ok(())
    }
}

/// `bytes` as a frame length when it is 1 to [`MAX_FRAME_LENGTH`].
///
/// # Errors
/// `ValidationException` naming the range and `bytes` otherwise.
pub(crate) fn check_frame_length(bytes: u64) -> Result<u32> {
    match u32::try_from(bytes) {
        Ok(n @ 1..=MAX_FRAME_LENGTH) => Ok(n),
        _ => Err(Error::validation(alloc::format!(
            "frame length must be between 1 and {MAX_FRAME_LENGTH} bytes (256 MiB, \
             the largest frame a streaming decryptor buffers by default), not {bytes}"
        ))),
    }
}

/// Options for [`decrypt`] and [`Decryptor::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptOptions {
    /// Default `REQUIRE_ENCRYPT_REQUIRE_DECRYPT` (committing suites only).
    pub commitment_policy: CommitmentPolicy,
    /// Fail (before any key is unwrapped) if the header has more EDKs than
    /// this, 1 to 65535 (0 is a `ValidationException`,
    /// [`check_max_encrypted_data_keys`]); default
    /// [`DEFAULT_MAX_ENCRYPTED_DATA_KEYS`] (10); `None` = no limit (the
    /// ESDKs' default).
    pub max_encrypted_data_keys: Option<u16>,
    /// Pairs that must be present, with these values, in the message's encryption context.
    pub required_encryption_context: EncryptionContext,
    /// The max frame buffer: the largest frame length, or non-framed
    /// content length, in bytes that a streaming decryptor agrees to buffer
    /// (a message with a larger one is refused with
    /// `LimitExceededException` once its header is read); default
    /// [`DEFAULT_MAX_CONTENT_BUFFER`] (256 MiB), which every message
    /// Strongroom writes meets. Not applied by the one-call decryptions
    /// ([`decrypt`], [`Decryptor::decrypt_into`]): the message is in memory
    /// already. Called `max_frame_buffer` in Python, `maxFrameBuffer` in
    /// JavaScript and `--max-frame-buffer` in the CLI, which set it with
    /// [`set_max_frame_buffer`](Self::set_max_frame_buffer).
    pub max_content_buffer: u64,
    /// Largest header in bytes the decryptor agrees to buffer; default 4 MiB
    /// (a header with a few KMS or raw EDKs is well under 10 KiB).
    pub max_header_length: usize,
}

impl Default for DecryptOptions {
    fn default() -> Self {
        DecryptOptions {
            commitment_policy: CommitmentPolicy::default(),
            max_encrypted_data_keys: Some(DEFAULT_MAX_ENCRYPTED_DATA_KEYS),
            required_encryption_context: EncryptionContext::new(),
            max_content_buffer: DEFAULT_MAX_CONTENT_BUFFER,
            max_header_length: DEFAULT_MAX_HEADER_LENGTH,
        }
    }
}

impl DecryptOptions {
    /// Sets the max frame buffer ([`max_content_buffer`](Self::max_content_buffer))
    /// from a caller's option, in bytes, checking its range: 1 to
    /// [`LARGEST_MAX_FRAME_BUFFER`] (2^32 − 1); `None` leaves it as it is
    /// ([`DEFAULT_MAX_CONTENT_BUFFER`], 256 MiB, unless set). 0 would refuse
    /// every message with a misleading `LimitExceededException`, and no
    /// frame is longer than 2^32 − 1 bytes. The rule of Python's
    /// `max_frame_buffer`, JavaScript's `maxFrameBuffer` and the CLI's
    /// `--max-frame-buffer`.
    ///
    /// # Errors
    /// `ValidationException` "max frame buffer must be 1 to 4294967295
    /// bytes (default 268435456, 256 MiB)" for a value out of range; the
    /// options are then unchanged.
    pub fn set_max_frame_buffer(&mut self, bytes: Option<u64>) -> Result<()> {
        match bytes {
            None => Ok(()),
            Some(n @ 1..=LARGEST_MAX_FRAME_BUFFER) => {
                self.max_content_buffer = n;
                Ok(())
            }
            Some(_) => Err(Error::validation(alloc::format!(
                "max frame buffer must be 1 to {LARGEST_MAX_FRAME_BUFFER} bytes \
                 (default {DEFAULT_MAX_CONTENT_BUFFER}, 256 MiB)"
            ))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
