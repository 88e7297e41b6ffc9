//! Encryption: the [`Encryptor`] that turns plaintext chunks into a message.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::frame::{seal_regular_in_place, write_frame, FINAL_FRAME_MARKER, REGULAR_FRAME_PREFIX};
use super::header::{ContentType, MessageHeader};
use super::keyring::{EncryptionMaterials, Keyring};
use super::signature::{MessageHasher, Signer, PUBLIC_KEY_CONTEXT_KEY};
use super::suite::{IV_LEN, TAG_LEN};
use super::EncryptOptions;
use crate::context::EncryptionContext;
use crate::crypto::aead::GcmKey;
use crate::crypto::sha384::Sha384Stream;
use crate::error::{Error, Result};

/// Writes one message incrementally: header on the first output, then a
/// regular frame each time more than `frame_length` plaintext bytes are
/// pending, then the final frame (and footer) in [`finish`](Self::finish).
/// Holds at most one frame of plaintext.
pub struct Encryptor {
    header: MessageHeader,
    pending_header: Option<Vec<u8>>,
    /// The derived content key, expanded once for the header and every frame.
    key: GcmKey,
    frame_length: usize,
    pending: Zeroizing<Vec<u8>>,
    seq: u32,
    hasher: Option<Box<dyn MessageHasher>>,
    signer: Option<Signer>,
    /// Bytes of the serialized header (with its authentication tag).
    header_len: usize,
    /// Set when an `update` failed part-way: the message is broken.
    failed: bool,
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("header", &self.header)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    /// Starts a message: checks the options, has `keyring` generate and wrap
    /// the data key, and builds the header. `context` is the caller's
    /// encryption context; for signing suites Strongroom adds
    /// `aws-crypto-public-key`.
    ///
    /// # Errors
    /// `ValidationException` if the suite is not allowed by the commitment
    /// policy, the frame length is 0 or above [`MAX_FRAME_LENGTH`](super::MAX_FRAME_LENGTH) (256 MiB),
    /// a context key is empty ([`EncryptionContext::check_for_encryption`])
    /// or starts
    /// with the reserved prefix `aws-crypto-`, the keyring yields no data key
    /// or EDK, or more EDKs than `max_encrypted_data_keys`, or that option is
    /// 0 ([`super::check_max_encrypted_data_keys`]); any error of the keyring.
    pub fn new<R: CryptoRng>(
        keyring: &dyn Keyring,
        context: &EncryptionContext,
        options: &EncryptOptions,
        rng: &mut R,
    ) -> Result<Self> {
        let rng: &mut dyn CryptoRng = rng;
        let suite = options.suite;
        options.commitment_policy.check_encrypt(suite)?;
        super::check_max_encrypted_data_keys(options.max_encrypted_data_keys)?;
        super::check_frame_length(u64::from(options.frame_length))?;
        context.check_for_encryption()?;
        if context.iter().any(|(k, _)| k.starts_with("aws-crypto-")) {
            return Err(Error::validation(
                "encryption context keys starting with aws-crypto- are reserved",
            ));
        }
        let mut context = context.clone();
        let signer = if suite.is_signing() {
            let (signer, public_key) = Signer::generate(rng)?;
            context.0.insert(PUBLIC_KEY_CONTEXT_KEY.into(), public_key);
            Some(signer)
        } else {
            None
        };
        let mut materials = EncryptionMaterials::new(suite, context);
        keyring.on_encrypt(&mut materials, rng)?;
        let (encryption_context, data_key, encrypted_data_keys) = materials.into_parts();
        let data_key =
            data_key.ok_or_else(|| Error::validation("the keyring produced no data key"))?;
        if encrypted_data_keys.is_empty() {
            return Err(Error::validation(
                "the keyring produced no encrypted data key",
            ));
        }
        if let Some(max) = options.max_encrypted_data_keys {
            if encrypted_data_keys.len() > usize::from(max) {
                return Err(Error::validation(
                    "the keyring produced more encrypted data keys than the limit on encrypted data keys",
                ));
            }
        }
        let mut message_id = alloc::vec![0u8; suite.message_id_len()];
        rng.fill_bytes(&mut message_id);
        let (key, commitment) = suite.derive_keys(data_key.expose_secret(), &message_id)?;
        let header = MessageHeader {
            suite,
            message_id,
            encryption_context,
            encrypted_data_keys,
            content_type: ContentType::Framed,
            frame_length: options.frame_length,
            commitment,
        };
        let mut bytes = header.serialize_body()?;
        // Header authentication (version 2): AES-GCM of nothing, IV = zeros,
        // AAD = header body ‖ (empty) encryption context not stored in the message.
        let key = GcmKey::new(&key[..])?;
        let tag = key.seal_in_place(&[0u8; IV_LEN], &bytes, &mut [])?;
        bytes.extend_from_slice(&tag);
        // The header is hashed when it is emitted, with the body.
        let hasher = signer
            .as_ref()
            .map(|_| Box::new(Sha384Stream::new()) as Box<dyn MessageHasher>);
        let frame_length = usize::try_from(options.frame_length)
            .map_err(|_| Error::validation("frame length too large for this platform"))?;
        Ok(Encryptor {
            header,
            header_len: bytes.len(),
            pending_header: Some(bytes),
            key,
            frame_length,
            pending: Zeroizing::new(Vec::new()),
            seq: 1,
            hasher,
            signer,
            failed: false,
        })
    }

    /// This encryptor with `hasher` computing the SHA-384 that the footer
    /// signs (see [`MessageHasher`]) instead of the in-line default. For an
    /// unsigned suite `hasher` is dropped unused.
    ///
    /// # Errors
    /// `ValidationException` if output was already produced (the header is
    /// hashed when it is written, so the hasher cannot change afterwards).
    pub fn with_message_hasher(mut self, hasher: Box<dyn MessageHasher>) -> Result<Self> {
        if self.pending_header.is_none() {
            return Err(Error::validation(
                "the message hasher must be set before any output is written",
            ));
        }
        if self.hasher.is_some() {
            self.hasher = Some(hasher);
        }
        Ok(self)
    }

    /// The header of the message being written (suite, context, EDKs).
    pub fn header(&self) -> &MessageHeader {
        &self.header
    }

    /// Encrypts `plaintext`, appending any completed bytes of the message
    /// (header first, then whole frames) to `out`. Plaintext that does not
    /// fill a frame yet is kept (at most `frame_length` bytes).
    ///
    /// # Errors
    /// `ValidationException` if the message would need more than 2^32 − 2
    /// frames, or an earlier call failed part-way (the message is then
    /// broken: start another); `LimitExceededException`, changing nothing,
    /// if the frames this call completes do not fit in memory.
    pub fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.failed {
            return Err(Error::validation("the encryptor already failed"));
        }
        // Room for the header (first call) and every regular frame this
        // call completes (all but the last `frame_length` bytes or fewer
        // held, which wait for `finish` or more input), reserved at once
        // and fallibly (doubling `out`, or exactly if that fails), before
        // anything changes: when it fails, the encryptor is as it was and
        // takes smaller chunks. Not more: an
        // `out` sized by `message_len` is never reallocated.
        let fl = self.frame_length;
        let held = self.pending.len().saturating_add(plaintext.len());
        let header = self.pending_header.as_ref().map_or(0, Vec::len);
        let frames = held.saturating_sub(1) / fl;
        grow(
            out,
            frames
                .saturating_mul(fl.saturating_add(REGULAR_FRAME_PREFIX + TAG_LEN))
                .saturating_add(header),
        )?;
        let r = self.update_frames(plaintext, out);
        self.failed = r.is_err();
        r
    }

    fn update_frames(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        let fl = self.frame_length;
        let mut input = plaintext;
        if !self.pending.is_empty() {
            let take = (fl - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == fl && !input.is_empty() {
                let frame = core::mem::take(&mut *self.pending);
                let frame = Zeroizing::new(frame);
                self.write_regular(&frame, out)?;
            }
        }
        // A frame is written as regular only once a byte after it is known to
        // exist, so the last (possibly full) frame is always the final frame.
        while input.len() > fl {
            let (frame, rest) = input.split_at(fl);
            self.write_regular(frame, out)?;
            input = rest;
        }
        self.pending.extend_from_slice(input);
        Ok(())
    }

    /// Bytes of a regular frame's content in the message (the frame length).
    pub fn frame_length(&self) -> usize {
        self.frame_length
    }

    /// Offset of the content in a regular frame: 4 bytes of sequence
    /// number and the 12-byte IV come first, the 16-byte tag after it, so a
    /// regular frame is `frame_length() + 32` bytes
    /// ([`seal_frame_in_place`](Self::seal_frame_in_place)).
    pub const FRAME_CONTENT_OFFSET: usize = REGULAR_FRAME_PREFIX;

    /// Bytes a regular frame takes in the message: `frame_length() + 32`.
    pub fn regular_frame_len(&self) -> usize {
        REGULAR_FRAME_PREFIX + self.frame_length + TAG_LEN
    }

    /// Appends the header to `out` if it has not been written yet (as the
    /// first [`update`](Self::update) does).
    pub fn write_header(&mut self, out: &mut Vec<u8>) {
        self.emit_header(out);
    }

    /// Makes `slot` the next regular frame of the message, in place,
    /// without copying: `slot` is [`regular_frame_len`](Self::regular_frame_len)
    /// bytes holding `frame_length()` bytes of plaintext at
    /// [`FRAME_CONTENT_OFFSET`](Self::FRAME_CONTENT_OFFSET); the bytes before
    /// and after are overwritten with the sequence number, IV and tag, and
    /// the plaintext with its ciphertext. The caller writes `slot` to the
    /// message right after the header or the previous frame. A regular
    /// frame must be followed by at least one more byte of plaintext: the
    /// last frame (even a full one) is written by [`finish`](Self::finish)
    /// after an [`update`](Self::update) with its plaintext.
    ///
    /// # Errors
    /// `ValidationException` if the header has not been written, plaintext
    /// given to [`update`](Self::update) is still pending, `slot` is not one
    /// regular frame long, or the message would need more than 2^32 − 2 frames.
    pub fn seal_frame_in_place(&mut self, slot: &mut [u8]) -> Result<()> {
        if self.pending_header.is_some() || !self.pending.is_empty() {
            return Err(Error::validation(
                "seal_frame_in_place needs the header written and no pending plaintext",
            ));
        }
        if slot.len() != self.regular_frame_len() {
            return Err(Error::validation("the slot is not one regular frame long"));
        }
        self.check_seq()?;
        seal_regular_in_place(&self.key, &self.header.message_id, self.seq, slot)?;
        self.hash_output(slot);
        self.seq += 1;
        Ok(())
    }

    fn check_seq(&self) -> Result<()> {
        if self.seq >= FINAL_FRAME_MARKER - 1 {
            return Err(Error::validation("too many frames for one message"));
        }
        Ok(())
    }

    /// Appends the header if it has not been written yet.
    fn emit_header(&mut self, out: &mut Vec<u8>) {
        if let Some(h) = self.pending_header.take() {
            self.hash_output(&h);
            out.extend_from_slice(&h);
        }
    }

    /// Encrypts one regular frame onto `out` and hashes it there, while it
    /// is still in the CPU's cache.
    fn write_regular(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.check_seq()?;
        let start = out.len();
        write_frame(
            &self.key,
            &self.header.message_id,
            self.seq,
            false,
            frame,
            out,
        )?;
        self.hash_output(&out[start..]);
        self.seq += 1;
        Ok(())
    }

    fn hash_output(&mut self, bytes: &[u8]) {
        if let Some(h) = self.hasher.as_mut() {
            h.update(bytes);
        }
    }

    /// Writes the final frame (the pending plaintext, possibly empty) and,
    /// for signing suites, the footer with the ECDSA P-384 signature (`rng`
    /// hedges the signature nonce; unsigned suites do not use it).
    ///
    /// # Errors
    /// `KMSInternalException` if signing fails; `ValidationException` if an
    /// `update` failed part-way; `LimitExceededException` if the final frame
    /// does not fit in memory; any error of the [`MessageHasher`].
    pub fn finish<R: CryptoRng>(mut self, out: &mut Vec<u8>, rng: &mut R) -> Result<()> {
        if self.failed {
            return Err(Error::validation("the encryptor already failed"));
        }
        let header = self.pending_header.as_ref().map_or(0, Vec::len);
        let footer = if self.signer.is_some() {
            MAX_FOOTER_LEN
        } else {
            0
        };
        grow(
            out,
            header + FINAL_FRAME_OVERHEAD + self.pending.len() + footer,
        )?;
        self.emit_header(out);
        let start = out.len();
        let pending = core::mem::take(&mut *self.pending);
        let pending = Zeroizing::new(pending);
        write_frame(
            &self.key,
            &self.header.message_id,
            self.seq,
            true,
            &pending,
            out,
        )?;
        self.hash_output(&out[start..]);
        if let (Some(signer), Some(hasher)) = (self.signer.take(), self.hasher.take()) {
            let sig = signer.sign(&hasher.finalize()?, rng)?;
            let len =
                u16::try_from(sig.len()).map_err(|_| Error::internal("signature too long"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&sig);
        }
        Ok(())
    }
}

/// Bytes a final frame adds to its content: the end marker, sequence
/// number, IV, content length and tag.
const FINAL_FRAME_OVERHEAD: usize = 4 + 4 + IV_LEN + 4 + TAG_LEN;
/// Most regular frames a message may have (as `check_seq` allows): they
/// take sequence numbers 1 to 2^32 − 3 and the final frame the next, 2^32 − 2
/// frames in all.
const MAX_REGULAR_FRAMES: usize = (FINAL_FRAME_MARKER - 2) as usize;
/// Largest footer: a 2-byte length and a DER-encoded ECDSA P-384 signature
/// (two INTEGERs of at most 49 bytes in a SEQUENCE: at most 104 bytes).
const MAX_FOOTER_LEN: usize = 2 + 104;

impl Encryptor {
    /// Bytes of the whole message this encryptor writes when it is given
    /// `plaintext_len` bytes of plaintext in all: the header, every frame
    /// (the last frame, even a full one, is the final frame: each regular
    /// frame is `frame_length` plus 32 bytes, the final one its content plus
    /// 40) and,
    /// for signed suites, the footer. Exact for unsigned suites; for signed
    /// suites an upper bound that counts the longest footer (106 bytes: the
    /// DER signature is 104 bytes at most), usually at most 3 bytes above
    /// the exact length (signatures measure 102 to 104 bytes, now and then
    /// 101 or fewer). `None` if it does not fit in `usize` or the message
    /// would need more than 2^32 − 2 frames (the format's limit; see
    /// [`update`](Self::update)).
    pub fn message_len(&self, plaintext_len: usize) -> Option<usize> {
        let fl = self.frame_length;
        let regular = plaintext_len.saturating_sub(1) / fl;
        if regular > MAX_REGULAR_FRAMES {
            return None;
        }
        let final_len = plaintext_len - regular * fl;
        let footer = if self.signer.is_some() {
            MAX_FOOTER_LEN
        } else {
            0
        };
        regular
            .checked_mul(fl.checked_add(REGULAR_FRAME_PREFIX + TAG_LEN)?)?
            .checked_add(FINAL_FRAME_OVERHEAD + final_len)?
            .checked_add(self.header_len)?
            .checked_add(footer)
    }
}

/// Encrypts `plaintext` in one call; see [`Encryptor::new`] for the
/// parameters and errors. Returns the whole message, in a buffer allocated
/// once at [`Encryptor::message_len`] bytes (see [`encrypt_into`]).
///
/// # Errors
/// As [`Encryptor::new`], [`Encryptor::update`] and [`Encryptor::finish`].
pub fn encrypt<R: CryptoRng>(
    keyring: &dyn Keyring,
    context: &EncryptionContext,
    plaintext: &[u8],
    options: &EncryptOptions,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encrypt_into(keyring, context, plaintext, options, rng, &mut out)?;
    Ok(out)
}

/// Encrypts `plaintext` in one call and appends the whole message to `out`
/// (the same bytes as [`Encryptor::update`] and [`Encryptor::finish`] over
/// any chunking of `plaintext`). Room for the message
/// ([`Encryptor::message_len`]) is reserved once, up front, only if `out`
/// lacks it: a caller that clears and reuses `out` for messages of similar
/// size allocates nothing (and, for large messages, avoids the page faults
/// of fresh memory, which cost several times the encryption itself). Each
/// frame's plaintext is copied straight into its place in `out` and sealed
/// there while it is in the CPU cache.
///
/// Returns the message's header (suite, context with the public key of a
/// signed suite, EDKs). On error `out` is as it was (anything appended is
/// wiped first).
///
/// # Errors
/// As [`encrypt`] (`ValidationException`, before anything is reserved, if
/// the message would need more than 2^32 − 2 frames);
/// `LimitExceededException` if the message does not fit in memory.
pub fn encrypt_into<R: CryptoRng>(
    keyring: &dyn Keyring,
    context: &EncryptionContext,
    plaintext: &[u8],
    options: &EncryptOptions,
    rng: &mut R,
    out: &mut Vec<u8>,
) -> Result<MessageHeader> {
    let (mut enc, len) = start_message(keyring, context, plaintext.len(), options, rng)?;
    let header = enc.header().clone();
    let start = out.len();
    reserve_wiping(out, len)?;
    let r = enc
        .update(plaintext, out)
        .and_then(|()| enc.finish(out, rng));
    if r.is_err() {
        zeroize::Zeroize::zeroize(&mut out[start..]);
        out.truncate(start);
    }
    r.map(|()| header)
}

/// The encryptor of a one-call message of `plaintext_len` bytes and the
/// message's length ([`Encryptor::message_len`]).
fn start_message<R: CryptoRng>(
    keyring: &dyn Keyring,
    context: &EncryptionContext,
    plaintext_len: usize,
    options: &EncryptOptions,
    rng: &mut R,
) -> Result<(Encryptor, usize)> {
    let enc = Encryptor::new(keyring, context, options, rng)?;
    match enc.message_len(plaintext_len) {
        Some(len) => Ok((enc, len)),
        None if plaintext_len.saturating_sub(1) / enc.frame_length > MAX_REGULAR_FRAMES => {
            Err(Error::validation("too many frames for one message"))
        }
        None => Err(too_large()),
    }
}

/// What [`encrypt_into_slice`] or [`decrypt_into_slice`](super::decrypt_into_slice) did.
#[derive(Debug)]
pub enum SliceOutcome {
    /// The output (the message, or the plaintext) is the first `len` bytes
    /// of the output slice.
    Written {
        /// The message's header (suite, context, EDKs).
        header: MessageHeader,
        /// Bytes of the output.
        len: usize,
    },
    /// The output slice is shorter than `needed` bytes; nothing was written
    /// to it. Encryption: [`Encryptor::message_len`] (exact for unsigned
    /// suites, an upper bound for signed ones). Decryption: the exact
    /// plaintext length ([`plaintext_len`](super::plaintext_len)).
    TooSmall {
        /// Bytes the output slice must have.
        needed: usize,
    },
}

/// As [`encrypt_into`], writing the message to the start of a caller's
/// slice, which is never reallocated: for callers that own the memory (the
/// C library's caller buffers). The keyring is called first (the data key
/// is generated and wrapped); if `out` is shorter than
/// [`Encryptor::message_len`] nothing is written and the result is
/// [`SliceOutcome::TooSmall`] with the length needed. Otherwise each
/// frame's plaintext is copied to its place in `out` and sealed there
/// ([`Encryptor::seal_frame_in_place`]); the final frame and footer are
/// built aside (at most one frame and 146 bytes) and copied after it.
///
/// On error `out` holds no part of the message: once writing has begun,
/// its first `needed` bytes (all the message could use, including any
/// plaintext about to be sealed) are overwritten with zeros.
///
/// # Errors
/// As [`encrypt_into`] (no `LimitExceededException` for the message itself,
/// whose memory is `out`).
pub fn encrypt_into_slice<R: CryptoRng>(
    keyring: &dyn Keyring,
    context: &EncryptionContext,
    plaintext: &[u8],
    options: &EncryptOptions,
    rng: &mut R,
    out: &mut [u8],
) -> Result<SliceOutcome> {
    encrypt_into_slice_with(
        keyring,
        context,
        plaintext,
        options,
        rng,
        out,
        &mut |enc, slot| enc.seal_frame_in_place(slot),
    )
}

/// A regular frame's sealing step of [`encrypt_into_slice_with`].
pub(crate) type SealFrame<'a> = dyn FnMut(&mut Encryptor, &mut [u8]) -> Result<()> + 'a;

/// [`encrypt_into_slice`], sealing each regular frame with `seal` (the
/// tests inject a failure part-way through).
pub(crate) fn encrypt_into_slice_with<R: CryptoRng>(
    keyring: &dyn Keyring,
    context: &EncryptionContext,
    plaintext: &[u8],
    options: &EncryptOptions,
    rng: &mut R,
    out: &mut [u8],
    seal: &mut SealFrame<'_>,
) -> Result<SliceOutcome> {
    let (mut enc, needed) = start_message(keyring, context, plaintext.len(), options, rng)?;
    if out.len() < needed {
        return Ok(SliceOutcome::TooSmall { needed });
    }
    let out = &mut out[..needed];
    let header = enc.header().clone();
    let mut written = 0usize;
    let r = seal_into_slice(&mut enc, plaintext, out, &mut written, seal).and_then(|()| {
        let mut tail = Vec::new();
        enc.finish(&mut tail, rng)?;
        let end = written + tail.len();
        out.get_mut(written..end)
            .ok_or_else(|| Error::internal("the message outgrew its computed length"))?
            .copy_from_slice(&tail);
        Ok(end)
    });
    match r {
        Ok(len) => Ok(SliceOutcome::Written { header, len }),
        Err(e) => {
            zeroize::Zeroize::zeroize(out);
            Err(e)
        }
    }
}

/// The header and every regular frame of `plaintext` into `out`, sealed in
/// place; the last (final) frame's plaintext is left pending in `enc`.
/// `*written` is the bytes of `out` used so far.
fn seal_into_slice(
    enc: &mut Encryptor,
    plaintext: &[u8],
    out: &mut [u8],
    written: &mut usize,
    seal: &mut SealFrame<'_>,
) -> Result<()> {
    let mut head = Vec::new();
    enc.write_header(&mut head);
    let overflow = || Error::internal("the message outgrew its computed length");
    out.get_mut(..head.len())
        .ok_or_else(overflow)?
        .copy_from_slice(&head);
    *written = head.len();
    let (fl, slot_len) = (enc.frame_length(), enc.regular_frame_len());
    let content = Encryptor::FRAME_CONTENT_OFFSET..Encryptor::FRAME_CONTENT_OFFSET + fl;
    let mut input = plaintext;
    // The last frame, even a full one, is the final frame (see `update`).
    while input.len() > fl {
        let (frame, rest) = input.split_at(fl);
        let slot = out
            .get_mut(*written..*written + slot_len)
            .ok_or_else(overflow)?;
        // Counted before the copy, so that an error wipes the plaintext too.
        *written += slot_len;
        slot[content.clone()].copy_from_slice(frame);
        seal(enc, slot)?;
        input = rest;
    }
    // At most one frame: held by the encryptor for `finish`.
    enc.update(input, &mut Vec::new())
}

fn too_large() -> Error {
    Error::new(
        crate::error::ErrorKind::LimitExceededException,
        "the message does not fit in memory; encrypt it in chunks (Encryptor), \
         or with a larger frame length (each frame adds 32 bytes)",
    )
}

/// [`too_large`] for a message being decrypted: no frame length helps.
pub(crate) fn too_large_to_decrypt() -> Error {
    Error::new(
        crate::error::ErrorKind::LimitExceededException,
        "the message's plaintext does not fit in memory; decrypt it in chunks (Decryptor)",
    )
}

/// Reserves room for `additional` more bytes in `out`, exactly and
/// fallibly: a message too large for the memory (a 4 GiB WebAssembly
/// module, a frame length of 1 making each byte 33) is
/// `LimitExceededException`, not an allocation failure that aborts.
pub(crate) fn reserve(out: &mut Vec<u8>, additional: usize) -> Result<()> {
    out.try_reserve_exact(additional).map_err(|_| too_large())
}

/// As [`reserve`], but growing as `Vec` does (at least doubling), for the
/// incremental calls whose callers append chunk after chunk; exactly what
/// is needed if doubling does not fit.
fn grow(out: &mut Vec<u8>, additional: usize) -> Result<()> {
    if out.try_reserve(additional).is_ok() {
        return Ok(());
    }
    reserve(out, additional)
}

/// As [`reserve`], but when `out` must move to a larger buffer its bytes
/// are copied by hand and the old buffer is wiped before it is freed
/// (`Vec`'s own growth would free it unwiped, and it may hold plaintext).
/// Nothing is allocated when `out` already has the room; an empty `out`
/// gets exactly `additional`, a non-empty one at least twice its capacity.
pub(crate) fn reserve_wiping(out: &mut Vec<u8>, additional: usize) -> Result<()> {
    if out.capacity() - out.len() >= additional {
        return Ok(());
    }
    if out.is_empty() {
        // A plain exact reservation, made before the old buffer goes (so a
        // failure leaves `out` as it was); the spare capacity of a cleared
        // buffer may still hold plaintext, so it is wiped before it is freed.
        let mut fresh = Vec::new();
        reserve(&mut fresh, additional)?;
        let mut old = core::mem::replace(out, fresh);
        zeroize::Zeroize::zeroize(&mut old);
        return Ok(());
    }
    // At least double, as `Vec` does, for callers that append frame by
    // frame; exactly what is needed if that much is not available.
    let needed = out.len().saturating_add(additional);
    let mut grown = Vec::new();
    if grown
        .try_reserve_exact(needed.max(out.capacity().saturating_mul(2)))
        .is_err()
    {
        reserve(&mut grown, needed)?;
    }
    grown.extend_from_slice(out);
    let mut old = core::mem::replace(out, grown);
    zeroize::Zeroize::zeroize(&mut old);
    Ok(())
}
