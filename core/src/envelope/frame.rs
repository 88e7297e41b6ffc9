//! The message body (ESDK "Message Body"): framed and non-framed content,
//! the body AAD (ESDK "Body AAD"), and the footer.

use alloc::vec::Vec;
use core::ops::Range;

use super::header::{malformed, Cursor, Short};
use super::suite::{IV_LEN, TAG_LEN};
use crate::crypto::aead::GcmKey;
use crate::error::Result;

/// Sequence-number-end marker that starts a final frame.
pub(crate) const FINAL_FRAME_MARKER: u32 = 0xFFFF_FFFF;

/// Body AAD content strings.
pub(crate) const FRAME_STRING: &[u8] = b"AWSKMSEncryptionClient Frame";
pub(crate) const FINAL_FRAME_STRING: &[u8] = b"AWSKMSEncryptionClient Final Frame";
pub(crate) const SINGLE_BLOCK_STRING: &[u8] = b"AWSKMSEncryptionClient Single Block";

/// Longest message ID of any suite (message format version 2).
const MAX_MESSAGE_ID_LEN: usize = 32;
/// Longest body AAD: message ID, the longest content string, sequence
/// number and content length.
const MAX_BODY_AAD_LEN: usize = MAX_MESSAGE_ID_LEN + SINGLE_BLOCK_STRING.len() + 12;

/// Body AAD: message ID ‖ content string ‖ sequence number (u32) ‖ content
/// length (u64), built on the stack (one per frame: a heap allocation per
/// 4 KiB frame cost measurable time). A message ID longer than any suite's
/// (which a parsed or built header never has) is `KMSInternalException`.
pub(crate) struct BodyAad {
    buf: [u8; MAX_BODY_AAD_LEN],
    len: usize,
}

impl BodyAad {
    pub(crate) fn new(message_id: &[u8], content: &[u8], seq: u32, len: u64) -> Result<Self> {
        let n = message_id.len() + content.len() + 12;
        if message_id.len() > MAX_MESSAGE_ID_LEN || n > MAX_BODY_AAD_LEN {
            return Err(crate::error::Error::internal("message ID too long"));
        }
        let mut buf = [0u8; MAX_BODY_AAD_LEN];
        let (id, rest) = buf.split_at_mut(message_id.len());
        id.copy_from_slice(message_id);
        let (c, rest) = rest.split_at_mut(content.len());
        c.copy_from_slice(content);
        rest[..4].copy_from_slice(&seq.to_be_bytes());
        rest[4..12].copy_from_slice(&len.to_be_bytes());
        Ok(BodyAad { buf, len: n })
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The IV of frame `seq`: eight zero bytes then the big-endian sequence
/// number, as the ESDKs write it (unique within a message, whose key is unique).
pub(crate) fn frame_iv(seq: u32) -> [u8; IV_LEN] {
    let mut iv = [0u8; IV_LEN];
    iv[IV_LEN - 4..].copy_from_slice(&seq.to_be_bytes());
    iv
}

/// Encrypts one frame of `plaintext` and appends it to `out`.
pub(crate) fn write_frame(
    key: &GcmKey,
    message_id: &[u8],
    seq: u32,
    is_final: bool,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    let iv = frame_iv(seq);
    let len = u64::try_from(plaintext.len()).unwrap_or(u64::MAX);
    if is_final {
        out.extend_from_slice(&FINAL_FRAME_MARKER.to_be_bytes());
    }
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&iv);
    if is_final {
        let len32 = u32::try_from(plaintext.len())
            .map_err(|_| crate::error::Error::validation("frame too long"))?;
        out.extend_from_slice(&len32.to_be_bytes());
    }
    let content = if is_final {
        FINAL_FRAME_STRING
    } else {
        FRAME_STRING
    };
    let aad = BodyAad::new(message_id, content, seq, len)?;
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = key.seal_in_place(&iv, aad.as_bytes(), &mut out[start..])?;
    out.extend_from_slice(&tag);
    Ok(())
}

/// Bytes of a regular frame before its content: sequence number and IV.
pub(crate) const REGULAR_FRAME_PREFIX: usize = 4 + IV_LEN;

/// Seals a regular frame in place. `slot` is the whole frame as it will be
/// in the message: [`REGULAR_FRAME_PREFIX`] bytes (overwritten with the
/// sequence number and IV), the plaintext (encrypted in place), and
/// [`TAG_LEN`] bytes (overwritten with the tag).
pub(crate) fn seal_regular_in_place(
    key: &GcmKey,
    message_id: &[u8],
    seq: u32,
    slot: &mut [u8],
) -> Result<()> {
    let (prefix, rest) = slot.split_at_mut(REGULAR_FRAME_PREFIX);
    let content_len = rest.len() - TAG_LEN;
    let (content, tag_out) = rest.split_at_mut(content_len);
    let iv = frame_iv(seq);
    prefix[..4].copy_from_slice(&seq.to_be_bytes());
    prefix[4..].copy_from_slice(&iv);
    let len = u64::try_from(content_len).unwrap_or(u64::MAX);
    let aad = BodyAad::new(message_id, FRAME_STRING, seq, len)?;
    let tag = key.seal_in_place(&iv, aad.as_bytes(), content)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// A parsed, not yet authenticated frame (or the single block of a
/// non-framed body), found at the start of a buffer.
pub(crate) struct RawFrame {
    pub(crate) seq: u32,
    pub(crate) is_final: bool,
    pub(crate) iv: [u8; IV_LEN],
    /// Where the ciphertext is in the buffer the frame was parsed from.
    pub(crate) ciphertext: Range<usize>,
    pub(crate) tag: [u8; TAG_LEN],
    /// Bytes the frame occupies in the message.
    pub(crate) len: usize,
    /// Body AAD content string for this frame.
    pub(crate) content: &'static [u8],
}

/// Parses one frame of a framed body. `frame_length` comes from the header.
pub(crate) fn parse_frame(buf: &[u8], frame_length: u32) -> core::result::Result<RawFrame, Short> {
    let mut c = Cursor::new(buf);
    let first = c.u32()?;
    let (is_final, seq) = if first == FINAL_FRAME_MARKER {
        (true, c.u32()?)
    } else {
        (false, first)
    };
    let iv = c.array::<IV_LEN>()?;
    let len = if is_final {
        let len = c.u32()?;
        if len > frame_length {
            return Err(malformed("final frame longer than the frame length").into());
        }
        len
    } else {
        frame_length
    };
    let start = c.pos;
    c.take(usize::try_from(len).map_err(|_| Short::Bad(malformed("frame too long")))?)?;
    let ciphertext = start..c.pos;
    let tag = c.array::<TAG_LEN>()?;
    Ok(RawFrame {
        seq,
        is_final,
        iv,
        ciphertext,
        tag,
        len: c.pos,
        content: if is_final {
            FINAL_FRAME_STRING
        } else {
            FRAME_STRING
        },
    })
}

/// Parses the single block of a non-framed body; `max_len` bounds the
/// content length this reader is willing to buffer.
pub(crate) fn parse_single_block(
    buf: &[u8],
    max_len: u64,
) -> core::result::Result<RawFrame, Short> {
    let mut c = Cursor::new(buf);
    let iv = c.array::<IV_LEN>()?;
    let len = c.u64()?;
    // GCM limit: 2^36 - 32 bytes of plaintext.
    if len > (1u64 << 36) - 32 {
        return Err(malformed("non-framed content longer than AES-GCM allows").into());
    }
    if len > max_len {
        return Err(super::decrypt::frame_over_limit(len, max_len).into());
    }
    let n = usize::try_from(len).map_err(|_| Short::Bad(malformed("content too long")))?;
    let start = c.pos;
    c.take(n)?;
    let ciphertext = start..c.pos;
    let tag = c.array::<TAG_LEN>()?;
    Ok(RawFrame {
        seq: 1,
        is_final: true,
        iv,
        ciphertext,
        tag,
        len: c.pos,
        content: SINGLE_BLOCK_STRING,
    })
}

/// Authenticates and decrypts `frame` (parsed from `buf`), appending its
/// plaintext to `out`. On failure `out` is restored to its previous length
/// (the appended bytes are zeroed first), so no unauthenticated plaintext is
/// released.
pub(crate) fn open_frame(
    key: &GcmKey,
    message_id: &[u8],
    frame: &RawFrame,
    buf: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    let ciphertext = &buf[frame.ciphertext.clone()];
    let start = out.len();
    super::encrypt::reserve_wiping(out, ciphertext.len())?;
    out.extend_from_slice(ciphertext);
    open_in_place(key, message_id, frame, &mut out[start..]).inspect_err(|_| out.truncate(start))
}

/// Authenticates and decrypts `frame` in place: `ciphertext` is its
/// ciphertext, which becomes the plaintext. On failure it is zeroed (no
/// unauthenticated plaintext is left behind).
pub(crate) fn open_in_place(
    key: &GcmKey,
    message_id: &[u8],
    frame: &RawFrame,
    ciphertext: &mut [u8],
) -> Result<()> {
    let len = u64::try_from(ciphertext.len()).unwrap_or(u64::MAX);
    let aad = BodyAad::new(message_id, frame.content, frame.seq, len)
        .inspect_err(|_| zeroize::Zeroize::zeroize(&mut *ciphertext))?;
    key.open_in_place(&frame.iv, aad.as_bytes(), ciphertext, &frame.tag)
        .inspect_err(|_| zeroize::Zeroize::zeroize(ciphertext))
}
