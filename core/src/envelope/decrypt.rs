//! Decryption: the [`Decryptor`] that turns ciphertext chunks into
//! authenticated plaintext.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::encrypt::SliceOutcome;
use super::frame::{
    open_frame, open_in_place, parse_frame, parse_single_block, RawFrame, FINAL_FRAME_MARKER,
};
use super::header::{malformed, parse_header, ContentType, Cursor, MessageHeader, Short};
use super::keyring::{DecryptionMaterials, Keyring};
use super::signature::{check_public_key, verify, MessageHasher, PUBLIC_KEY_CONTEXT_KEY};
use super::DecryptOptions;
use crate::crypto::aead::GcmKey;
use crate::crypto::sha384::Sha384Stream;
use crate::error::{Error, ErrorKind, Result};

/// Input is taken into the internal buffer at most this many bytes at a time
/// (or one frame, if larger), so memory stays bounded by about two frames
/// plus the header whatever the caller's chunk size.
const PIECE: usize = 64 * 1024;

/// What the plaintext appended by [`Decryptor::update`] may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "plaintext of a signed message is not final until finish() succeeds"]
pub enum Released {
    /// Unsigned suite: every byte appended so far is authenticated (AES-GCM
    /// under the committed data key) and final.
    Authenticated,
    /// Signed suite (ECDSA P-384), the ESDK's "streaming unsigned only"
    /// case: the appended frames are GCM-authenticated but the message
    /// signature is checked only when the footer arrives. Do not release
    /// this plaintext to a final destination until [`Decryptor::finish`]
    /// returns `Ok`.
    PendingSignature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Frames,
    SingleBlock,
    Footer,
    Done,
    Failed,
}

/// Reads one message incrementally. Feed ciphertext in chunks of any size
/// to [`update`](Self::update); it appends the plaintext of each frame once
/// that frame is authenticated, and never appends unauthenticated bytes.
/// [`finish`](Self::finish) fails unless the whole message (final frame and,
/// for signing suites, a valid signature) has been read.
///
/// Memory: at most the header plus about two frames (non-framed bodies: the
/// whole content, bounded by [`DecryptOptions::max_content_buffer`]).
pub struct Decryptor<'k> {
    keyring: &'k dyn Keyring,
    rng: &'k mut dyn CryptoRng,
    options: DecryptOptions,
    buf: Vec<u8>,
    state: State,
    header: Option<MessageHeader>,
    /// The derived content key, expanded once when the header authenticates.
    key: Option<GcmKey>,
    next_seq: u32,
    hasher: Option<Box<dyn MessageHasher>>,
    /// Set by [`Decryptor::with_message_hasher`]; used if the suite is signed.
    custom_hasher: Option<Box<dyn MessageHasher>>,
    public_key: Option<String>,
    /// Set by [`Decryptor::refuse_signed_suites`].
    unsigned_only: bool,
}

impl fmt::Debug for Decryptor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("state", &self.state)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl<'k> Decryptor<'k> {
    /// A decryptor that unwraps the data key with `keyring`; `rng` blinds
    /// private-key operations of keyrings that need it (raw RSA).
    pub fn new<R: CryptoRng>(
        keyring: &'k dyn Keyring,
        options: DecryptOptions,
        rng: &'k mut R,
    ) -> Self {
        Decryptor {
            keyring,
            rng,
            options,
            buf: Vec::new(),
            state: State::Header,
            header: None,
            key: None,
            next_seq: 1,
            hasher: None,
            custom_hasher: None,
            public_key: None,
            unsigned_only: false,
        }
    }

    /// Makes the decryptor refuse a message of a signed suite (`0x0578`,
    /// `0x0378`) with `ValidationException` as soon as its header is parsed,
    /// before the keyring is asked to unwrap any data key: the AWS Encryption
    /// SDK's "streaming unsigned-only" mode, for callers that release each
    /// frame once authenticated and so cannot wait for a signature.
    #[must_use]
    pub fn refuse_signed_suites(mut self) -> Self {
        self.unsigned_only = true;
        self
    }

    /// Makes the decryptor compute the SHA-384 that a signed message's
    /// footer signature covers with `hasher` (see [`MessageHasher`]) instead
    /// of in line. The decryptor still chooses the bytes (the header and
    /// every frame, as read) and verifies the signature itself when the
    /// footer arrives; for an unsigned message `hasher` is dropped unused.
    /// Call it before the first [`update`](Self::update): once the header
    /// has been read it has no effect.
    #[must_use]
    pub fn with_message_hasher(mut self, hasher: Box<dyn MessageHasher>) -> Self {
        if self.state == State::Header {
            self.custom_hasher = Some(hasher);
        }
        self
    }

    #[cfg(test)]
    pub(crate) fn buffered_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The authenticated header, once it has been read.
    pub fn header(&self) -> Option<&MessageHeader> {
        self.header.as_ref()
    }

    /// `Some(true)` for a signed message, once the header has been read.
    pub fn is_signed(&self) -> Option<bool> {
        self.header.as_ref().map(|h| h.suite.is_signing())
    }

    /// Feeds `ciphertext`; appends the plaintext of every frame completed and
    /// authenticated by it to `out`. After an error the decryptor refuses
    /// further input.
    ///
    /// # Errors
    /// `InvalidCiphertextException` if anything fails to authenticate (header
    /// tag, commitment, a frame, the signature) or the message is malformed,
    /// reordered or has trailing bytes; `ValidationException` if the commitment
    /// policy forbids the suite or there are too many EDKs;
    /// `LimitExceededException` if a frame is larger than the max frame
    /// buffer (`max_content_buffer`) or the plaintext does not fit in
    /// memory; any error the keyring or the
    /// [`MessageHasher`] returns.
    pub fn update(&mut self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<Released> {
        let start = out.len();
        let r = self.update_inner(ciphertext, out);
        if let Err(e) = r {
            self.state = State::Failed;
            self.buf.zeroize();
            // Frames authenticated in this call stay, nothing unauthenticated was appended;
            // but a failure means the message as a whole is invalid, so drop this call's output.
            out[start..].zeroize();
            out.truncate(start);
            return Err(e);
        }
        Ok(self.released())
    }

    fn released(&self) -> Released {
        match self.header.as_ref() {
            Some(h) if h.suite.is_signing() && self.state != State::Done => {
                Released::PendingSignature
            }
            _ => Released::Authenticated,
        }
    }

    fn update_inner(&mut self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.state == State::Failed {
            return Err(Error::validation("the decryptor already failed"));
        }
        let mut input = ciphertext;
        let mut buf = core::mem::take(&mut self.buf);
        let result = (|| {
            while !input.is_empty() {
                if buf.is_empty() {
                    // Nothing buffered: take whole units (header, frames,
                    // footer) straight from the caller's slice, without
                    // copying them into `buf`; only an incomplete unit at
                    // the end goes through the buffered path below.
                    let consumed = self.process(input, out)?;
                    input = &input[consumed..];
                    if input.is_empty() {
                        break;
                    }
                }
                let piece = self.piece_len();
                let take = input.len().min(piece);
                let held = buf.len();
                buf.extend_from_slice(&input[..take]);
                let consumed = self.process(&buf, out)?;
                if consumed > 0 && consumed >= held {
                    // The unit that straddled two calls is done: give back
                    // the unconsumed rest of this piece, so that the next
                    // round takes whole units from the caller's slice again.
                    buf.clear();
                    input = &input[consumed - held..];
                } else {
                    buf.drain(..consumed);
                    input = &input[take..];
                }
                if self.state == State::Header && buf.len() > self.options.max_header_length {
                    return Err(Error::validation(
                        "message header longer than max_header_length",
                    ));
                }
            }
            Ok(())
        })();
        self.buf = buf;
        result
    }

    fn piece_len(&self) -> usize {
        match &self.header {
            Some(h) => usize::try_from(h.frame_length)
                .unwrap_or(usize::MAX)
                .max(PIECE),
            None => PIECE,
        }
    }

    /// Processes as many whole units (header, frames, footer) as `buf` holds;
    /// returns the bytes consumed.
    fn process(&mut self, buf: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        loop {
            let rest = &buf[pos..];
            let step = match self.state {
                State::Frames | State::SingleBlock => self.read_frame(rest, out),
                _ => self.read_other(rest),
            };
            match step {
                Ok(n) => pos += n,
                Err(Short::More) => return Ok(pos),
                Err(Short::Bad(e)) => return Err(e),
            }
        }
    }

    /// One unit that yields no plaintext: the header, the footer, or
    /// nothing after the end.
    fn read_other(&mut self, rest: &[u8]) -> core::result::Result<usize, Short> {
        match self.state {
            State::Header => self.read_header(rest),
            State::Footer => self.read_footer(rest),
            State::Done => {
                if rest.is_empty() {
                    Err(Short::More)
                } else {
                    Err(Short::Bad(malformed("trailing bytes after the message")))
                }
            }
            State::Frames | State::SingleBlock | State::Failed => Err(Short::Bad(
                Error::validation("the decryptor already failed"),
            )),
        }
    }

    /// As [`update`](Self::update), but without copying: decrypts the
    /// frames that `buf` holds whole in place, in `buf`, and appends to
    /// `plaintext` the range of `buf` that each frame's plaintext now
    /// occupies (in message order). Returns the bytes of `buf` consumed;
    /// the rest is the start of a unit that `buf` does not hold whole, which
    /// the caller passes again at the start of the next call, followed by
    /// more of the message (a caller whose buffer is full of one unit must
    /// give a larger one: a unit is at most the header, bounded by
    /// `max_header_length`, or one frame). Ciphertext is hashed (signed
    /// suites) as it is in the message, before it is decrypted.
    ///
    /// What the ranges hold may be released exactly as what
    /// [`update`](Self::update) appends: the returned [`Released`] says so.
    /// On error nothing of this call is reported, every range this call
    /// decrypted is zeroed, and the decryptor refuses further input.
    ///
    /// # Errors
    /// As [`update`](Self::update); `ValidationException` if input given to
    /// [`update`](Self::update) is still buffered (the two cannot be mixed
    /// mid-unit).
    pub fn update_in_place(
        &mut self,
        buf: &mut [u8],
        plaintext: &mut Vec<Range<usize>>,
    ) -> Result<(usize, Released)> {
        let first = plaintext.len();
        match self.process_in_place(buf, plaintext) {
            Ok(n) => Ok((n, self.released())),
            Err(e) => {
                self.state = State::Failed;
                self.buf.zeroize();
                for r in plaintext.drain(first..) {
                    buf[r].zeroize();
                }
                Err(e)
            }
        }
    }

    fn process_in_place(
        &mut self,
        buf: &mut [u8],
        plaintext: &mut Vec<Range<usize>>,
    ) -> Result<usize> {
        if !self.buf.is_empty() {
            return Err(Error::validation(
                "update_in_place cannot continue a unit buffered by update",
            ));
        }
        if self.state == State::Failed {
            return Err(Error::validation("the decryptor already failed"));
        }
        let mut pos = 0;
        loop {
            let step = match self.state {
                State::Frames | State::SingleBlock => {
                    self.next_body_unit(&buf[pos..]).and_then(|f| {
                        let ct = pos + f.ciphertext.start..pos + f.ciphertext.end;
                        open_in_place(
                            self.content_key()?,
                            self.message_id(),
                            &f,
                            &mut buf[ct.clone()],
                        )?;
                        plaintext.push(ct);
                        Ok(f.len)
                    })
                }
                _ => self.read_other(&buf[pos..]),
            };
            match step {
                Ok(n) => pos += n,
                Err(Short::More) => break,
                Err(Short::Bad(e)) => return Err(e),
            }
        }
        if self.state == State::Header && buf.len() - pos > self.options.max_header_length {
            return Err(Error::validation(
                "message header longer than max_header_length",
            ));
        }
        Ok(pos)
    }

    fn read_header(&mut self, buf: &[u8]) -> core::result::Result<usize, Short> {
        super::check_max_encrypted_data_keys(self.options.max_encrypted_data_keys)?;
        let (header, body_len) =
            MessageHeader::parse_body(buf, self.options.max_encrypted_data_keys)?;
        self.options.commitment_policy.check_decrypt(header.suite)?;
        if self.unsigned_only && header.suite.is_signing() {
            return Err(Error::validation(alloc::format!(
                "the message uses the signed algorithm suite {} and only unsigned suites are accepted \
                 (plaintext is released frame by frame, before a signature could be checked)",
                header.suite.name()
            ))
            .into());
        }
        let auth = header.parse_auth(&buf[body_len..])?;
        let total = body_len + header.auth_len();
        if total > self.options.max_header_length {
            return Err(Error::validation("message header longer than max_header_length").into());
        }
        let max = self.options.max_content_buffer;
        if u64::from(header.frame_length) > max {
            return Err(frame_over_limit(u64::from(header.frame_length), max).into());
        }
        // The public key entry must match the suite.
        let public_key = header
            .encryption_context
            .get(PUBLIC_KEY_CONTEXT_KEY)
            .map(String::from);
        match (&public_key, header.suite.is_signing()) {
            (Some(pk), true) => check_public_key(pk)?,
            (None, false) => {}
            _ => {
                return Err(
                    malformed("aws-crypto-public-key does not match the algorithm suite").into(),
                )
            }
        }
        let mut materials =
            DecryptionMaterials::new(header.suite, header.encryption_context.clone());
        self.keyring
            .on_decrypt(&mut materials, &header.encrypted_data_keys, &mut *self.rng)?;
        let data_key = materials
            .take_data_key()
            .ok_or_else(Error::invalid_ciphertext)?;
        let (key, commitment) = header
            .suite
            .derive_keys(data_key.expose_secret(), &header.message_id)?;
        if let (Some(expected), Some(stored)) = (commitment, header.commitment) {
            if !bool::from(expected.ct_eq(&stored)) {
                return Err(Error::invalid_ciphertext().into());
            }
        }
        let key = GcmKey::new(&key[..])?;
        key.open_in_place(&auth.iv, &buf[..body_len], &mut [], &auth.tag)?;
        for (k, v) in self.options.required_encryption_context.iter() {
            if header.encryption_context.get(k) != Some(v) {
                return Err(Error::new(
                    ErrorKind::InvalidCiphertextException,
                    alloc::format!(
                        "the message's encryption context lacks the required pair for key '{k}'"
                    ),
                )
                .into());
            }
        }
        if header.suite.is_signing() {
            let mut h = self
                .custom_hasher
                .take()
                .unwrap_or_else(|| Box::new(Sha384Stream::new()));
            h.update(&buf[..total]);
            self.hasher = Some(h);
        }
        self.custom_hasher = None;
        self.public_key = public_key;
        self.key = Some(key);
        self.state = match header.content_type {
            ContentType::Framed => State::Frames,
            ContentType::NonFramed => State::SingleBlock,
        };
        self.header = Some(header);
        Ok(total)
    }

    fn message_id(&self) -> &[u8] {
        self.header
            .as_ref()
            .map(|h| h.message_id.as_slice())
            .unwrap_or(&[])
    }

    fn content_key(&self) -> core::result::Result<&GcmKey, Short> {
        self.key
            .as_ref()
            .ok_or_else(|| Error::internal("no content key before the header").into())
    }

    /// Parses the body unit (frame, or the single block of a non-framed
    /// body) at the start of `buf`, checks its sequence number, hashes it
    /// (signed suites; the bytes as they are in the message) and moves on
    /// to the next unit. The caller then authenticates and decrypts it;
    /// if that fails, the whole message fails.
    fn next_body_unit(&mut self, buf: &[u8]) -> core::result::Result<RawFrame, Short> {
        let frame = if self.state == State::SingleBlock {
            parse_single_block(buf, self.options.max_content_buffer)?
        } else {
            let frame_length = self.header.as_ref().map(|h| h.frame_length).unwrap_or(0);
            parse_frame(buf, frame_length)?
        };
        if frame.seq != self.next_seq {
            return Err(Error::invalid_ciphertext().into());
        }
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..frame.len]);
        }
        if frame.is_final {
            self.state = self.after_body();
        } else {
            self.next_seq += 1;
            if self.next_seq == FINAL_FRAME_MARKER {
                return Err(malformed("too many frames").into());
            }
        }
        Ok(frame)
    }

    fn read_frame(&mut self, buf: &[u8], out: &mut Vec<u8>) -> core::result::Result<usize, Short> {
        let frame = self.next_body_unit(buf)?;
        open_frame(self.content_key()?, self.message_id(), &frame, buf, out)?;
        Ok(frame.len)
    }

    fn after_body(&self) -> State {
        if self.hasher.is_some() {
            State::Footer
        } else {
            State::Done
        }
    }

    fn read_footer(&mut self, buf: &[u8]) -> core::result::Result<usize, Short> {
        let mut c = Cursor::new(buf);
        let len = usize::from(c.u16()?);
        let sig = c.take(len)?;
        let hasher = self
            .hasher
            .take()
            .ok_or_else(|| Error::internal("no signature state"))?;
        let pk = self
            .public_key
            .as_deref()
            .ok_or_else(Error::invalid_ciphertext)?;
        verify(pk, &hasher.finalize()?, sig)?;
        self.state = State::Done;
        Ok(c.pos)
    }

    /// Ends the message. Succeeds only if the whole message was read: the
    /// header, every frame up to and including the final frame, and for
    /// signing suites a footer whose signature verifies. Returns the
    /// authenticated header.
    ///
    /// # Errors
    /// `InvalidCiphertextException` if the message is truncated or an earlier
    /// [`update`](Self::update) failed.
    pub fn finish(mut self) -> Result<MessageHeader> {
        if self.state != State::Done || !self.buf.is_empty() {
            self.buf.zeroize();
            return Err(match self.state {
                State::Failed => Error::invalid_ciphertext(),
                _ => malformed("truncated message"),
            });
        }
        self.header.take().ok_or_else(Error::invalid_ciphertext)
    }

    /// Decrypts the whole `message` in one call (as [`decrypt`], with this
    /// decryptor's settings, e.g. [`Decryptor::refuse_signed_suites`]).
    /// Nothing is returned unless the message fully authenticates; on error
    /// any plaintext produced is wiped.
    ///
    /// # Errors
    /// As [`Decryptor::update`] and [`Decryptor::finish`];
    /// `ValidationException` if this decryptor was already given part of a
    /// message (see [`decrypt_into`](Self::decrypt_into)).
    pub fn decrypt_all(self, message: &[u8]) -> Result<(Vec<u8>, MessageHeader)> {
        let mut out = Vec::new();
        let header = self.decrypt_into(message, &mut out)?;
        Ok((out, header))
    }

    /// As [`decrypt_all`](Self::decrypt_all), appending the plaintext to
    /// `out`. Room for the plaintext (its exact length, [`plaintext_len`])
    /// is reserved once, up front, only if `out` lacks it (an `out` that
    /// must move is copied and its old buffer wiped): a caller that clears and
    /// reuses `out` allocates nothing and avoids the page faults of fresh
    /// memory. Each frame's ciphertext is copied straight into its place in
    /// `out` and authenticated and decrypted there while it is in the CPU
    /// cache; the message is read once.
    ///
    /// On error `out` is as it was: whatever this call appended (frames
    /// that authenticated before the failure) is wiped and removed, so no
    /// plaintext of a message that fails is left behind; so too if a panic
    /// unwinds through this call.
    ///
    /// # Errors
    /// As [`Decryptor::update`] and [`Decryptor::finish`];
    /// `LimitExceededException` if the plaintext does not fit in memory;
    /// the decryptor's max frame buffer
    /// ([`DecryptOptions::max_content_buffer`]) does not apply (every frame
    /// length decrypts);
    /// `ValidationException`, before anything is read, if this decryptor was
    /// already given part of a message with [`update`](Self::update) (the
    /// plaintext that call released is the caller's, and could not be taken
    /// back if the message then failed).
    pub fn decrypt_into(mut self, message: &[u8], out: &mut Vec<u8>) -> Result<MessageHeader> {
        self.check_unused()?;
        // The whole message is in memory already: no frame needs a buffer
        // of its own, so every frame length decrypts (the max frame buffer
        // bounds only what a stream holds).
        self.options.max_content_buffer = u64::MAX;
        let start = out.len();
        // A message whose framing does not parse fails below; until it
        // does, `out` grows frame by frame (wiping what it leaves).
        super::encrypt::reserve_wiping(out, plaintext_len(message).unwrap_or(0))
            .map_err(|_| super::encrypt::too_large_to_decrypt())?;
        let mut wipe = WipeAppended {
            out,
            start,
            released: false,
        };
        let header = self.update(message, wipe.out).and_then(|_| self.finish())?;
        wipe.released = true;
        Ok(header)
    }

    /// As [`decrypt_into`](Self::decrypt_into), writing the plaintext to
    /// the start of a caller's slice, which is never reallocated: for
    /// callers that own the memory (a C caller's buffer, a Python `bytes`
    /// being built). If `out` is shorter than the plaintext
    /// ([`plaintext_len`], read from the message's framing) nothing is
    /// written, no key is unwrapped, and the result is
    /// [`SliceOutcome::TooSmall`] with the exact length needed: the
    /// message has not been authenticated then, and may still fail to
    /// decrypt. Otherwise each frame's ciphertext is copied to its place in
    /// `out` and authenticated and decrypted there, and the result is
    /// [`SliceOutcome::Written`]: the plaintext is `out[..len]`, released
    /// only once the whole message (signature included) has authenticated.
    ///
    /// On error `out` holds no plaintext: the bytes this call wrote are
    /// overwritten with zeros (the rest of `out` is untouched); so too if a
    /// panic unwinds through this call.
    ///
    /// # Errors
    /// As [`decrypt_into`](Self::decrypt_into) (no `LimitExceededException`
    /// for the plaintext, whose memory is `out`).
    pub fn decrypt_into_slice(mut self, message: &[u8], out: &mut [u8]) -> Result<SliceOutcome> {
        self.check_unused()?;
        // As in `decrypt_into`: the message is in memory, every frame
        // length decrypts.
        self.options.max_content_buffer = u64::MAX;
        let framing = plaintext_len(message);
        if let Ok(needed) = framing {
            if out.len() < needed {
                return Ok(SliceOutcome::TooSmall { needed });
            }
        }
        // Wipes what was written unless the whole message authenticates:
        // on an error return and on a panic unwinding through here alike.
        let mut wipe = WipeWritten {
            out,
            written: 0,
            released: false,
        };
        let header = self
            .open_into_slice(message, wipe.out, &mut wipe.written, framing.err())
            .and_then(|()| self.finish())?;
        wipe.released = true;
        Ok(SliceOutcome::Written {
            header,
            len: wipe.written,
        })
    }

    /// `ValidationException` unless this decryptor is unused (the one-call
    /// functions cannot take back plaintext released by an earlier
    /// [`update`](Self::update)).
    fn check_unused(&mut self) -> Result<()> {
        if self.state != State::Header || !self.buf.is_empty() {
            self.buf.zeroize();
            return Err(Error::validation(
                "decrypt_into and decrypt_all need a decryptor not yet given any of the message",
            ));
        }
        Ok(())
    }

    /// The units of `message` in order, each frame's plaintext into
    /// `out[*written..]` (`*written` counts the bytes written, including
    /// those of a frame that then fails, for the caller to wipe).
    /// `bad_framing` is why [`plaintext_len`] refused the message, if it
    /// did: only such a message can outgrow `out`, and that is its error.
    fn open_into_slice(
        &mut self,
        message: &[u8],
        out: &mut [u8],
        written: &mut usize,
        mut bad_framing: Option<Error>,
    ) -> Result<()> {
        let mut pos = 0;
        loop {
            let rest = &message[pos..];
            let step = match self.state {
                State::Frames | State::SingleBlock => self.next_body_unit(rest).and_then(|f| {
                    let n = f.ciphertext.len();
                    let Some(dst) = out.get_mut(*written..*written + n) else {
                        return Err(bad_framing
                            .take()
                            .unwrap_or_else(|| {
                                Error::internal("the plaintext outgrew its computed length")
                            })
                            .into());
                    };
                    *written += n;
                    dst.copy_from_slice(&rest[f.ciphertext.clone()]);
                    open_in_place(self.content_key()?, self.message_id(), &f, dst)?;
                    Ok(f.len)
                }),
                _ => self.read_other(rest),
            };
            match step {
                Ok(n) => pos += n,
                Err(Short::More) => return Ok(()),
                Err(Short::Bad(e)) => return Err(e),
            }
        }
    }
}

/// The length in bytes of the plaintext that `message` (one whole message)
/// holds, read from its framing alone: no key is unwrapped and nothing is
/// authenticated. A framed body's regular frames each hold the header's
/// frame length and its final frame the content length it states; a
/// non-framed body holds the content length it states (AWS Encryption SDK
/// message format, "Message Body").
///
/// The message is parsed as [`Decryptor`] parses it (the header, every
/// frame in sequence up to the final one, for signed suites the footer,
/// and nothing after it), so that the length counts only bytes present in
/// `message` (it is less than `message.len()`), and when [`decrypt`]
/// succeeds on `message` its plaintext has exactly this length. `Ok` says
/// nothing about authenticity: a message whose length this reads may still
/// fail to decrypt. Used to allocate a one-call decryption's output once,
/// at its exact length.
///
/// # Errors
/// `InvalidCiphertextException` if `message` is not a well-formed message:
/// a malformed or truncated header, frame or footer, frames out of
/// sequence, a final frame longer than the frame length, bytes after the
/// end.
pub fn plaintext_len(message: &[u8]) -> Result<usize> {
    let body = |s: Short| match s {
        Short::More => malformed("truncated message"),
        Short::Bad(e) => e,
    };
    let (header, mut pos) = parse_header(message)?;
    let mut total = 0usize;
    match header.content_type {
        ContentType::NonFramed => {
            let block = parse_single_block(&message[pos..], u64::MAX).map_err(body)?;
            total = block.ciphertext.len();
            pos += block.len;
        }
        ContentType::Framed => {
            let mut seq = 1u32;
            loop {
                let frame = parse_frame(&message[pos..], header.frame_length).map_err(body)?;
                if frame.seq != seq {
                    return Err(Error::invalid_ciphertext());
                }
                // Each frame's content lies in `message`: no overflow.
                total += frame.ciphertext.len();
                pos += frame.len;
                if frame.is_final {
                    break;
                }
                seq += 1;
                if seq == FINAL_FRAME_MARKER {
                    return Err(malformed("too many frames"));
                }
            }
        }
    }
    if header.suite.is_signing() {
        let mut c = Cursor::new(&message[pos..]);
        let len = usize::from(c.u16().map_err(body)?);
        c.take(len).map_err(body)?;
        pos += c.pos;
    }
    if pos != message.len() {
        return Err(malformed("trailing bytes after the message"));
    }
    Ok(total)
}

/// The error for a frame (or non-framed body) of `len` bytes above the
/// streaming decryptor's max frame buffer `max`
/// ([`DecryptOptions::max_content_buffer`]).
pub(crate) fn frame_over_limit(len: u64, max: u64) -> Error {
    Error::new(
        crate::error::ErrorKind::LimitExceededException,
        alloc::format!(
            "the message's frames are {len} bytes, more than this streaming decryptor buffers \
             (max frame buffer: {max} bytes); raise the max frame buffer option of the \
             decryptor, or decrypt the message in one call"
        ),
    )
}

/// Decrypts a whole message in one call and returns its plaintext and
/// authenticated header. Nothing is returned unless the message fully
/// authenticates (signature included).
///
/// # Errors
/// As [`Decryptor::update`] and [`Decryptor::finish`].
pub fn decrypt<R: CryptoRng>(
    keyring: &dyn Keyring,
    message: &[u8],
    options: DecryptOptions,
    rng: &mut R,
) -> Result<(Vec<u8>, MessageHeader)> {
    Decryptor::new(keyring, options, rng).decrypt_all(message)
}

/// As [`decrypt`], appending the plaintext to `out` (see
/// [`Decryptor::decrypt_into`]: reserved once, only if `out` lacks the
/// room; on error `out` is as it was, anything appended wiped).
///
/// # Errors
/// As [`decrypt`]; `LimitExceededException` if the plaintext does not fit
/// in memory.
pub fn decrypt_into<R: CryptoRng>(
    keyring: &dyn Keyring,
    message: &[u8],
    options: DecryptOptions,
    rng: &mut R,
    out: &mut Vec<u8>,
) -> Result<MessageHeader> {
    Decryptor::new(keyring, options, rng).decrypt_into(message, out)
}

/// As [`decrypt_into`], writing the plaintext to the start of a caller's
/// slice (see [`Decryptor::decrypt_into_slice`]): [`SliceOutcome::TooSmall`]
/// with the exact length, before any key is unwrapped, if `out` is shorter
/// than the plaintext ([`plaintext_len`]); on error the bytes written to
/// `out` are overwritten with zeros.
///
/// # Errors
/// As [`decrypt`].
pub fn decrypt_into_slice<R: CryptoRng>(
    keyring: &dyn Keyring,
    message: &[u8],
    options: DecryptOptions,
    rng: &mut R,
    out: &mut [u8],
) -> Result<SliceOutcome> {
    Decryptor::new(keyring, options, rng).decrypt_into_slice(message, out)
}

/// The part of a caller's slice [`Decryptor::decrypt_into_slice`] has
/// written (`out[..written]`), overwritten with zeros when dropped unless
/// `released` (the whole message authenticated): on an error return and
/// on a panic unwinding through the call alike.
struct WipeWritten<'a> {
    out: &'a mut [u8],
    written: usize,
    released: bool,
}

impl Drop for WipeWritten<'_> {
    fn drop(&mut self) {
        if !self.released {
            let n = self.written.min(self.out.len());
            self.out[..n].zeroize();
        }
    }
}

/// What [`Decryptor::decrypt_into`] appended to a `Vec` (`out[start..]`),
/// overwritten with zeros and removed when dropped unless `released` (the
/// whole message authenticated): on an error return and on a panic
/// unwinding through the call alike.
struct WipeAppended<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    released: bool,
}

impl Drop for WipeAppended<'_> {
    fn drop(&mut self) {
        if !self.released {
            if let Some(appended) = self.out.get_mut(self.start..) {
                appended.zeroize();
            }
            self.out.truncate(self.start);
        }
    }
}
