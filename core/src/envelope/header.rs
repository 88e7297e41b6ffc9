//! The message header (ESDK "Message Header", versions 1 and 2): parsing from
//! a possibly incomplete buffer and serialization.

use alloc::string::String;
use alloc::vec::Vec;

use super::suite::{AlgorithmSuite, COMMITMENT_LEN, IV_LEN, TAG_LEN};
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind, Result};

/// An encrypted data key as stored in the header: who can decrypt it
/// (provider ID and provider info) and the wrapped data key.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// Key provider ID (UTF-8, at most 65535 bytes), e.g. `aws-kms` or a raw keyring's namespace.
    pub provider_id: String,
    /// Key provider information (at most 65535 bytes), e.g. a key ARN or a raw AES keyring's key name, tag length, IV length and IV.
    pub provider_info: Vec<u8>,
    /// The wrapped data key (at most 65535 bytes).
    pub ciphertext: Vec<u8>,
}

impl core::fmt::Debug for EncryptedDataKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptedDataKey")
            .field("provider_id", &self.provider_id)
            .field(
                "provider_info",
                &String::from_utf8_lossy(&self.provider_info),
            )
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// How the body is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// `0x01`: one block (read only).
    NonFramed,
    /// `0x02`: a sequence of frames, the last one marked final.
    Framed,
}

/// A parsed message header (without its authentication fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHeader {
    /// The algorithm suite; it fixes the message format version (1 or 2).
    pub suite: AlgorithmSuite,
    /// Message ID: 16 random bytes (version 1) or 32 (version 2).
    pub message_id: Vec<u8>,
    /// The encryption context, including `aws-crypto-public-key` for signing suites.
    pub encryption_context: EncryptionContext,
    /// The encrypted data keys, in header order (at least one).
    pub encrypted_data_keys: Vec<EncryptedDataKey>,
    /// Framed or non-framed body.
    pub content_type: ContentType,
    /// Bytes of plaintext per regular frame (0 for non-framed bodies).
    pub frame_length: u32,
    /// Version 2 only: the commitment key (suite data), 32 bytes.
    pub commitment: Option<[u8; COMMITMENT_LEN]>,
}

/// Why a parse stopped.
#[derive(Debug)]
pub(crate) enum Short {
    /// The buffer ends before the structure does.
    More,
    /// The bytes can never form a valid structure.
    Bad(Error),
}

impl From<Error> for Short {
    fn from(e: Error) -> Self {
        Short::Bad(e)
    }
}

/// A malformed-message error: `InvalidCiphertextException` with a
/// structural description (it reveals nothing the attacker did not write).
pub(crate) fn malformed(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidCiphertextException,
        alloc::format!("malformed message: {what}"),
    )
}

/// A read position in a buffer that may end early.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> core::result::Result<&'a [u8], Short> {
        let end = self.pos.checked_add(n).ok_or(Short::More)?;
        let s = self.buf.get(self.pos..end).ok_or(Short::More)?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> core::result::Result<[u8; N], Short> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> core::result::Result<u8, Short> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> core::result::Result<u16, Short> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> core::result::Result<u32, Short> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> core::result::Result<u64, Short> {
        Ok(u64::from_be_bytes(self.array()?))
    }
}

/// The header authentication fields that follow the header body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeaderAuth {
    /// Version 1 only: the IV (always zeros when written by an ESDK).
    pub(crate) iv: [u8; IV_LEN],
    pub(crate) tag: [u8; TAG_LEN],
}

impl MessageHeader {
    /// Serializes the header body (everything the header authentication tag covers).
    ///
    /// # Errors
    /// `ValidationException` if a field does not fit its length prefix or
    /// there are no (or more than 65535) encrypted data keys.
    pub fn serialize_body(&self) -> Result<Vec<u8>> {
        let v2 = self.suite.is_committing();
        if self.message_id.len() != self.suite.message_id_len() {
            return Err(Error::validation("message ID has the wrong length"));
        }
        let mut out = Vec::new();
        if v2 {
            out.push(2);
        } else {
            out.extend_from_slice(&[1, 0x80]);
        }
        out.extend_from_slice(&self.suite.id().to_be_bytes());
        out.extend_from_slice(&self.message_id);
        let ctx = self.encryption_context.encode()?;
        put_u16_len(&mut out, ctx.len(), "encryption context")?;
        out.extend_from_slice(&ctx);
        if self.encrypted_data_keys.is_empty() {
            return Err(Error::validation(
                "a message needs at least one encrypted data key",
            ));
        }
        put_u16_len(
            &mut out,
            self.encrypted_data_keys.len(),
            "encrypted data key count",
        )?;
        for edk in &self.encrypted_data_keys {
            for field in [
                edk.provider_id.as_bytes(),
                &edk.provider_info,
                &edk.ciphertext,
            ] {
                put_u16_len(&mut out, field.len(), "encrypted data key field")?;
                out.extend_from_slice(field);
            }
        }
        out.push(match self.content_type {
            ContentType::NonFramed => 1,
            ContentType::Framed => 2,
        });
        if v2 {
            out.extend_from_slice(&self.frame_length.to_be_bytes());
            let commit = self
                .commitment
                .ok_or_else(|| Error::validation("version 2 header needs a commitment key"))?;
            out.extend_from_slice(&commit);
        } else {
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.push(IV_LEN as u8);
            out.extend_from_slice(&self.frame_length.to_be_bytes());
        }
        Ok(out)
    }

    /// Parses a header body from the start of `buf`, returning the header and
    /// the body's length in bytes. `Short::More` means `buf` is too short;
    /// a header with more than `max_edks` encrypted data keys is rejected as
    /// soon as the count is read, before the keys are buffered.
    pub(crate) fn parse_body(
        buf: &[u8],
        max_edks: Option<u16>,
    ) -> core::result::Result<(MessageHeader, usize), Short> {
        let mut c = Cursor::new(buf);
        let version = c.u8()?;
        match version {
            1 => {
                if c.u8()? != 0x80 {
                    return Err(malformed("unknown message type").into());
                }
            }
            2 => {}
            _ => return Err(malformed("unsupported message format version").into()),
        }
        let id = c.u16()?;
        let suite =
            AlgorithmSuite::from_id(id).ok_or_else(|| malformed("unsupported algorithm suite"))?;
        if suite.message_version() != version {
            return Err(
                malformed("algorithm suite does not match the message format version").into(),
            );
        }
        let message_id = c.take(suite.message_id_len())?.to_vec();
        let ctx_len = usize::from(c.u16()?);
        let ctx_bytes = c.take(ctx_len)?;
        let encryption_context = EncryptionContext::decode(ctx_bytes)
            .map_err(|_| malformed("bad encryption context encoding"))?;
        let count = c.u16()?;
        if count == 0 {
            return Err(malformed("no encrypted data keys").into());
        }
        if let Some(max) = max_edks {
            if count > max {
                return Err(Error::validation(alloc::format!(
                    "the message has {count} encrypted data keys, more than the limit on encrypted data keys ({max})"
                ))
                .into());
            }
        }
        let mut encrypted_data_keys = Vec::new();
        for _ in 0..count {
            let n = usize::from(c.u16()?);
            let provider_id = core::str::from_utf8(c.take(n)?)
                .map_err(|_| malformed("provider ID is not UTF-8"))?
                .into();
            let n = usize::from(c.u16()?);
            let provider_info = c.take(n)?.to_vec();
            let n = usize::from(c.u16()?);
            let ciphertext = c.take(n)?.to_vec();
            encrypted_data_keys.push(EncryptedDataKey {
                provider_id,
                provider_info,
                ciphertext,
            });
        }
        let content_type = match c.u8()? {
            1 => ContentType::NonFramed,
            2 => ContentType::Framed,
            _ => return Err(malformed("unknown content type").into()),
        };
        let (frame_length, commitment) = if version == 2 {
            let frame_length = c.u32()?;
            (frame_length, Some(c.array::<COMMITMENT_LEN>()?))
        } else {
            if c.u32()? != 0 {
                return Err(malformed("reserved field is not zero").into());
            }
            if usize::from(c.u8()?) != IV_LEN {
                return Err(malformed("IV length does not match the algorithm suite").into());
            }
            (c.u32()?, None)
        };
        match content_type {
            ContentType::NonFramed if frame_length != 0 => {
                return Err(malformed("non-framed message with a frame length").into())
            }
            ContentType::Framed if frame_length == 0 => {
                return Err(malformed("framed message with frame length 0").into())
            }
            _ => {}
        }
        Ok((
            MessageHeader {
                suite,
                message_id,
                encryption_context,
                encrypted_data_keys,
                content_type,
                frame_length,
                commitment,
            },
            c.pos,
        ))
    }

    /// Length of the header authentication fields: 16 (version 2) or 28 (version 1).
    pub(crate) fn auth_len(&self) -> usize {
        if self.suite.is_committing() {
            TAG_LEN
        } else {
            IV_LEN + TAG_LEN
        }
    }

    pub(crate) fn parse_auth(&self, buf: &[u8]) -> core::result::Result<HeaderAuth, Short> {
        let mut c = Cursor::new(buf);
        let iv = if self.suite.is_committing() {
            [0u8; IV_LEN]
        } else {
            c.array()?
        };
        Ok(HeaderAuth {
            iv,
            tag: c.array()?,
        })
    }
}

/// Parses a complete header (body and authentication fields) from the start
/// of `message`, without decrypting anything, e.g. to show a message's suite,
/// encryption context and key IDs. Returns the header and its total length
/// in bytes. Nothing is authenticated: treat every field as untrusted.
///
/// # Errors
/// `InvalidCiphertextException` if the bytes are not a well-formed header or
/// end before the header does.
pub fn parse_header(message: &[u8]) -> Result<(MessageHeader, usize)> {
    let short = |s: Short| match s {
        Short::More => malformed("truncated header"),
        Short::Bad(e) => e,
    };
    let (header, n) = MessageHeader::parse_body(message, None).map_err(short)?;
    let rest = message
        .get(n..)
        .ok_or_else(|| malformed("truncated header"))?;
    header.parse_auth(rest).map_err(short)?;
    let total = n + header.auth_len();
    Ok((header, total))
}

fn put_u16_len(out: &mut Vec<u8>, len: usize, what: &str) -> Result<()> {
    let n = u16::try_from(len)
        .map_err(|_| Error::validation(alloc::format!("{what} is longer than 65535")))?;
    out.extend_from_slice(&n.to_be_bytes());
    Ok(())
}
