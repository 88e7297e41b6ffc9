//! Envelope encryption of files and streams in the AWS Encryption SDK message
//! format, over `std::io::Read` / `Write`.
//!
//! The message format itself (header, frames, signature, keyring interface)
//! is in [`strongroom_core::envelope`]; this module adds:
//!
//! - [`KmsKeyring`]: the Strongroom keyring, which wraps the data key with
//!   Strongroom KMS keys through `GenerateDataKey` / `Encrypt` / `Decrypt`,
//!   writing encrypted data keys exactly as the ESDK's AWS KMS keyring does
//!   (provider ID `aws-kms`, provider info = key ARN, ciphertext = the KMS
//!   ciphertext blob);
//! - constant-memory streaming: [`encrypt_stream`], [`decrypt_stream`],
//!   [`decrypt_stream_unsigned_only`], and the file variants
//!   [`encrypt_file`] / [`decrypt_file`] / [`decrypt_file_unsigned_only`] (plus [`Keystore`] methods of the
//!   same names that use a [`KmsKeyring`] over that keystore). They copy
//!   the data once between the reader and the writer's call: plaintext is
//!   read straight into its frame's place and sealed there, ciphertext is
//!   decrypted where it was read. For signed suites the SHA-384 of the
//!   message (ciphertext only) runs on a second thread while the calling
//!   thread does AES-GCM and I/O; the signature is still made and checked
//!   by the encryptor and decryptor, so nothing is released earlier;
//! - one-call messages in memory (bytes in, bytes out): [`encrypt_message`]
//!   and [`decrypt_message`], and the `_into` variants that append to a
//!   caller's reusable `Vec` (plus [`Keystore`] methods of the same names),
//!   [`encrypt_message_into_slice`] into a caller's slice and
//!   [`decrypt_message_into_unsigned_only`];
//! - [`read_header`] to show a message's header without decrypting it, and
//!   [`header_json`] to print one.
//!
//! # When is plaintext released?
//!
//! | function | unsigned suite (`0x0478`) | signed suite (`0x0578`) |
//! |---|---|---|
//! | [`decrypt_file`] | temp file in the output's directory, renamed on success | same |
//! | [`decrypt_stream`] | each frame once it is authenticated | staged in an anonymous temp file; copied to the writer only after the signature verifies |
//! | [`decrypt_stream_unsigned_only`] | each frame once it is authenticated | refused (`ValidationException`) once the header is read, before any data key is unwrapped |
//! | [`decrypt_file_unsigned_only`] | temp file in the output's directory, renamed on success | refused, as the line above |
//! | [`decrypt_message`], [`decrypt_message_into`] | nothing until the whole message authenticates | nothing until the signature verifies too |
//! | [`decrypt_message_into_unsigned_only`] | as the line above | refused once the header is parsed, before any data key is unwrapped |
//!
//! With an unsigned suite every byte written is authenticated (AES-GCM under
//! the committed data key), but if the message turns out truncated the writer
//! holds a prefix of it: check the `Result` before using the output, or use
//! [`decrypt_file`], which never leaves the output path holding anything but
//! the whole, verified plaintext.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rand_core::CryptoRng;
use strongroom_core::api::{
    DecryptRequest, DecryptResponse, DescribeKeyResponse, EncryptRequest, EncryptResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse,
};
use strongroom_core::crypto::sha384::{Sha384Stream, SHA384_LEN};
use strongroom_core::envelope::kms::{self, KmsClient};
use strongroom_core::envelope::{
    parse_header, ContentType, DecryptOptions, DecryptionMaterials, Decryptor, EncryptOptions,
    EncryptedDataKey, EncryptionMaterials, Encryptor, Keyring, MessageHasher, MessageHeader,
    SliceOutcome,
};

use crate::files::{open_output, Destination, Output};
use crate::{os_rng, EncryptionContext, Error, Keystore, Result};

/// Provider ID of the encrypted data keys written by [`KmsKeyring`], the
/// ESDK's AWS KMS keyring's provider ID.
pub use strongroom_core::envelope::kms::KMS_PROVIDER_ID;

/// Bytes read from the input at a time by the streaming functions.
pub const STREAM_BUFFER_LEN: usize = 64 * 1024;

/// Bytes read from the input at a time by the file functions
/// ([`encrypt_file`], [`decrypt_file`], [`encrypt_to_path`],
/// [`decrypt_to_path`]): 1 MiB, which takes about a third of the kernel's
/// per-call cost out of reading and writing a large file (measured on tmpfs:
/// 0.12 s of system time per GiB read instead of 0.19 s with 64 KiB reads).
pub const FILE_BUFFER_LEN: usize = 1024 * 1024;

/// The Strongroom keyring: wraps a message's data key under one or more
/// Strongroom KMS keys (the ESDK's AWS KMS keyring, served by a [`Keystore`]).
///
/// - Encrypt: the first key (the *generator*) makes the data key with
///   `GenerateDataKey` (32 bytes, the suite's key length), every other key
///   wraps it with `Encrypt`; the message's encryption context is the KMS
///   encryption context. Each EDK has provider ID `aws-kms`, the key ARN
///   (UTF-8) as provider info and the KMS ciphertext blob as ciphertext.
/// - Decrypt: tries each `aws-kms` EDK whose ARN names a key of this
///   keystore — and, for a *strict* keyring ([`new`](Self::new)), one of its
///   keys — calling `Decrypt` with that ARN as `KeyId`. A *discovery*
///   keyring ([`discovery`](Self::discovery)) accepts any key of this
///   keystore and cannot encrypt.
///
/// Every KMS call carries the keyring's grant tokens
/// ([`with_grant_tokens`](Self::with_grant_tokens); none by default), as the
/// ESDK's AWS KMS keyring passes its grant tokens to each call.
#[derive(Clone, Debug)]
pub struct KmsKeyring {
    keystore: Keystore,
    key_ids: Vec<String>,
    grant_tokens: Vec<String>,
}

impl KmsKeyring {
    /// A strict keyring over `key_ids` (key IDs, key ARNs, alias names or
    /// alias ARNs); the first one generates the data key.
    ///
    /// # Errors
    /// `ValidationException` if `key_ids` is empty (its message in the
    /// ESDK's terms, which every front end passes on unchanged, naming no
    /// Rust API).
    pub fn new<S: AsRef<str>>(keystore: &Keystore, key_ids: &[S]) -> Result<Self> {
        if key_ids.is_empty() {
            return Err(Error::validation(
                "a KMS keyring needs at least one KMS key (key ID, key ARN, alias name or \
                 alias ARN); to decrypt with any key of this keystore, use a discovery keyring",
            ));
        }
        Ok(KmsKeyring {
            keystore: keystore.clone(),
            key_ids: key_ids.iter().map(|k| k.as_ref().to_string()).collect(),
            grant_tokens: Vec::new(),
        })
    }

    /// A discovery keyring: decrypts with whichever key of `keystore` an
    /// `aws-kms` EDK names; cannot encrypt.
    pub fn discovery(keystore: &Keystore) -> Self {
        KmsKeyring {
            keystore: keystore.clone(),
            key_ids: Vec::new(),
            grant_tokens: Vec::new(),
        }
    }

    /// This keyring with `grant_tokens` (KMS `GrantTokens`) sent with every
    /// `GenerateDataKey` / `Encrypt` / `Decrypt` it makes, replacing any it
    /// had. The tokens are checked now, as KMS checks them on each call.
    ///
    /// # Errors
    /// `ValidationException` for more than 10 tokens,
    /// `InvalidGrantTokenException` for a token this keystore did not issue.
    pub fn with_grant_tokens(mut self, grant_tokens: Vec<String>) -> Result<Self> {
        self.keystore.check_grant_tokens(&grant_tokens)?;
        self.grant_tokens = grant_tokens;
        Ok(self)
    }

    /// The grant tokens sent with each KMS call.
    pub fn grant_tokens(&self) -> &[String] {
        &self.grant_tokens
    }

    /// `true` for a discovery keyring.
    pub fn is_discovery(&self) -> bool {
        self.key_ids.is_empty()
    }
}

/// The KMS calls of [`KmsKeyring`]: its keystore handle's operations.
struct Client<'k>(&'k Keystore);

impl KmsClient for Client<'_> {
    fn region(&self) -> String {
        self.0.region().to_string()
    }
    fn account(&self) -> String {
        self.0.account().to_string()
    }
    fn generate_data_key(
        &mut self,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        self.0.generate_data_key(req)
    }
    fn encrypt(&mut self, req: &EncryptRequest) -> Result<EncryptResponse> {
        self.0.encrypt(req)
    }
    fn decrypt(&mut self, req: &DecryptRequest) -> Result<DecryptResponse> {
        self.0.decrypt(req)
    }
    fn describe_key(&mut self, key_id: &str) -> Result<DescribeKeyResponse> {
        self.0.describe_key(key_id)
    }
}

/// The AWS KMS keyring's rules are `strongroom_core::envelope::kms`'s.
impl Keyring for KmsKeyring {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        _rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        kms::on_encrypt(
            &mut Client(&self.keystore),
            &self.key_ids,
            &self.grant_tokens,
            materials,
        )
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        _rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        kms::on_decrypt(
            &mut Client(&self.keystore),
            &self.key_ids,
            &self.grant_tokens,
            materials,
            edks,
        )
    }
}

/// What a streaming or one-call encryption or decryption processed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSummary {
    /// The message header (suite, encryption context, EDKs, frame length).
    pub header: MessageHeader,
    /// Plaintext bytes read (encrypt) or written (decrypt).
    pub plaintext_len: u64,
    /// Message bytes written (encrypt) or read (decrypt).
    pub message_len: u64,
}

fn io_err(what: &str, e: io::Error) -> Error {
    Error::internal(format!("{what}: {e}"))
}

/// The error for an I/O failure `e` on a path the caller gave (`what`, say
/// "cannot open the input"): `ValidationException` naming the path when the
/// path is at fault — missing, not permitted, a directory (or a file where a
/// directory was meant), read-only, an invalid name, too deep in symbolic
/// links — as a bad argument of a KMS call is; `KMSInternalException` for
/// anything else (a disk error, a full disk), which is no fault of the
/// argument.
pub fn path_error(what: &str, path: &Path, e: &io::Error) -> Error {
    use io::ErrorKind as K;
    let msg = format!("{what} {}: {e}", path.display());
    let loop_ = cfg!(target_os = "linux") && e.raw_os_error() == Some(40); // ELOOP on Linux
    match e.kind() {
        K::NotFound
        | K::PermissionDenied
        | K::IsADirectory
        | K::NotADirectory
        | K::ReadOnlyFilesystem
        | K::InvalidFilename
        | K::InvalidInput => Error::validation(msg),
        _ if loop_ => Error::validation(msg),
        _ => Error::internal(msg),
    }
}

fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("cannot read the input", e)),
        }
    }
}

/// Bytes of message handed to the hashing thread at a time.
const HASH_CHUNK_LEN: usize = 256 * 1024;
/// Chunks that may wait for the hashing thread before the producer blocks,
/// which bounds the memory of [`ThreadedHasher`] to a few chunks.
const HASH_QUEUE_LEN: usize = 4;

/// The signed suites' SHA-384 of the message (header and body, which are
/// ciphertext) computed on a second thread, so that on two cores a signed
/// message costs about max(hash, AES-GCM + I/O) of wall time instead of
/// their sum. The encryptor or decryptor still chooses the bytes and signs
/// or verifies the digest itself; this only moves the hashing.
///
/// The thread is started by the first [`update`](MessageHasher::update)
/// (an unsigned message never starts one). Bytes are copied into
/// [`HASH_CHUNK_LEN`] chunks sent through a channel of [`HASH_QUEUE_LEN`]
/// (the producer waits when it is full; used chunks come back for reuse).
/// If the thread cannot be started the hash is computed in line; if it
/// panics or disappears, [`finalize`](MessageHasher::finalize) returns
/// `KMSInternalException`, never a digest.
struct ThreadedHasher {
    /// What the worker does with each chunk (`Sha384Stream::update`; tests
    /// substitute a failing one).
    work: fn(&mut Sha384Stream, &[u8]),
    chunk: Vec<u8>,
    worker: Option<HashWorker>,
    /// In-line fallback when no thread could be started.
    inline: Option<Sha384Stream>,
    /// A chunk could not be handed over: the worker is gone.
    failed: bool,
}

struct HashWorker {
    to_worker: std::sync::mpsc::SyncSender<Vec<u8>>,
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    handle: std::thread::JoinHandle<[u8; SHA384_LEN]>,
}

impl ThreadedHasher {
    fn new() -> Self {
        ThreadedHasher {
            work: Sha384Stream::update,
            chunk: Vec::new(),
            worker: None,
            inline: None,
            failed: false,
        }
    }

    fn start(&mut self) {
        let (to_worker, from_producer) = std::sync::mpsc::sync_channel::<Vec<u8>>(HASH_QUEUE_LEN);
        let (to_producer, spare) = std::sync::mpsc::channel::<Vec<u8>>();
        let work = self.work;
        let spawned = std::thread::Builder::new()
            .name("strongroom-sha384".into())
            .spawn(move || {
                let mut h = Sha384Stream::new();
                for mut chunk in from_producer {
                    work(&mut h, &chunk);
                    chunk.clear();
                    // The producer may have finished already; then the chunk is dropped.
                    let _ = to_producer.send(chunk);
                }
                h.finalize()
            });
        match spawned {
            Ok(handle) => {
                self.worker = Some(HashWorker {
                    to_worker,
                    spare,
                    handle,
                })
            }
            Err(_) => self.inline = Some(Sha384Stream::new()),
        }
    }

    /// Sends the current chunk to the worker and takes a fresh one.
    fn hand_over(&mut self) {
        let Some(w) = self.worker.as_ref() else {
            return;
        };
        let next = w
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(HASH_CHUNK_LEN));
        let full = std::mem::replace(&mut self.chunk, next);
        if w.to_worker.send(full).is_err() {
            self.failed = true;
        }
    }
}

impl MessageHasher for ThreadedHasher {
    fn update(&mut self, mut bytes: &[u8]) {
        if self.worker.is_none() && self.inline.is_none() {
            self.start();
        }
        if let Some(h) = self.inline.as_mut() {
            h.update(bytes);
            return;
        }
        while !bytes.is_empty() {
            if self.chunk.capacity() == 0 {
                self.chunk.reserve_exact(HASH_CHUNK_LEN);
            }
            let take = (HASH_CHUNK_LEN - self.chunk.len()).min(bytes.len());
            self.chunk.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.chunk.len() == HASH_CHUNK_LEN {
                self.hand_over();
            }
        }
    }

    fn finalize(mut self: Box<Self>) -> Result<[u8; SHA384_LEN]> {
        if let Some(h) = self.inline.take() {
            return Ok(h.finalize());
        }
        if self.worker.is_none() {
            // Nothing was ever appended.
            return Ok(Sha384Stream::new().finalize());
        }
        if !self.chunk.is_empty() {
            self.hand_over();
        }
        let failed = self.failed;
        let Some(HashWorker {
            to_worker, handle, ..
        }) = self.worker.take()
        else {
            return Err(hash_thread_failed());
        };
        // Closing the channel ends the worker's loop.
        drop(to_worker);
        match handle.join() {
            Ok(digest) if !failed => Ok(digest),
            _ => Err(hash_thread_failed()),
        }
    }
}

/// A message abandoned before `finalize` (an error elsewhere) stops its
/// thread: closing the channel ends it after the few chunks still queued,
/// and it is joined, so that no thread outlives the message.
impl Drop for ThreadedHasher {
    fn drop(&mut self) {
        if let Some(HashWorker {
            to_worker, handle, ..
        }) = self.worker.take()
        {
            drop(to_worker);
            // A panic there was already reported as an error, or the
            // message failed for another reason.
            let _ = handle.join();
        }
    }
}

fn hash_thread_failed() -> Error {
    Error::internal("the thread computing the message's SHA-384 failed")
}

/// Encrypts everything `reader` yields into one message written to `writer`,
/// with `keyring` wrapping the data key. Constant memory: a buffer of about
/// [`STREAM_BUFFER_LEN`] bytes of whole frames (at least four frames), and
/// for signed suites about 1.5 MiB queued for the hashing thread. Output is
/// written a buffer at a time (the last frame of a buffer waits for the
/// next read). Does not flush `writer`
/// beyond `flush()`; for a durable file use [`encrypt_file`].
///
/// # Errors
/// Those of [`Encryptor::new`] (options, keyring), and `KMSInternalException`
/// when reading or writing fails.
pub fn encrypt_stream(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    context: &EncryptionContext,
    options: &EncryptOptions,
) -> Result<EnvelopeSummary> {
    encrypt_core(keyring, reader, writer, context, options, STREAM_BUFFER_LEN)
}

/// Frame lengths for which the streams read plaintext straight into the
/// frames' places in the output buffer and seal them there; other frame
/// lengths go through [`Encryptor::update`], which copies each frame once
/// more (tiny frames would make one `iovec` per few bytes, huge ones a
/// buffer of several frames).
const IN_PLACE_FRAMES: std::ops::RangeInclusive<usize> = 512..=FILE_BUFFER_LEN;
/// Frames per buffer in the in-place path: about `buf_len` bytes of them,
/// at least 4 (one frame of each buffer is carried over to the next by a
/// copy) and at most 256 (one `readv` / `writev` each).
const FRAMES_PER_BUFFER: std::ops::RangeInclusive<usize> = 4..=256;

/// [`encrypt_stream`] reading about `buf_len` bytes at a time.
fn encrypt_core(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    context: &EncryptionContext,
    options: &EncryptOptions,
    buf_len: usize,
) -> Result<EnvelopeSummary> {
    // Before the first read, so that a bad option consumes no input.
    strongroom_core::envelope::check_max_encrypted_data_keys(options.max_encrypted_data_keys)?;
    let mut rng = os_rng();
    let mut enc = Encryptor::new(keyring, context, options, &mut rng)?
        .with_message_hasher(Box::new(ThreadedHasher::new()))?;
    let header = enc.header().clone();
    let (plaintext_len, mut message_len) = if IN_PLACE_FRAMES.contains(&enc.frame_length()) {
        encrypt_in_place(&mut enc, reader, writer, buf_len)?
    } else {
        encrypt_copying(&mut enc, reader, writer, buf_len)?
    };
    let mut out = Vec::new();
    enc.finish(&mut out, &mut rng)?;
    message_len += put(writer, &out)?;
    writer
        .flush()
        .map_err(|e| io_err("cannot write the message", e))?;
    Ok(EnvelopeSummary {
        header,
        plaintext_len,
        message_len,
    })
}

/// Writes message bytes; returns how many.
fn put(writer: &mut dyn Write, bytes: &[u8]) -> Result<u64> {
    writer
        .write_all(bytes)
        .map_err(|e| io_err("cannot write the message", e))?;
    Ok(bytes.len() as u64)
}

/// Reads `reader` to the end through [`Encryptor::update`], writing each
/// chunk of message; the last frame stays pending for
/// [`Encryptor::finish`]. Returns the plaintext and message bytes.
fn encrypt_copying(
    enc: &mut Encryptor,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    buf_len: usize,
) -> Result<(u64, u64)> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; buf_len]);
    // The message of `buf_len` plaintext bytes plus a held-back frame.
    let mut out = Vec::with_capacity(buf_len * 2);
    let (mut plaintext_len, mut message_len) = (0u64, 0u64);
    loop {
        let n = read_some(reader, &mut buf)?;
        if n == 0 {
            return Ok((plaintext_len, message_len));
        }
        plaintext_len += n as u64;
        enc.update(&buf[..n], &mut out)?;
        message_len += put(writer, &out)?;
        out.clear();
    }
}

/// As [`encrypt_copying`], with one copy of the plaintext fewer: the buffer
/// is laid out as whole regular frames, the plaintext is read (`readv`)
/// straight into their content, each frame is sealed in place
/// ([`Encryptor::seal_frame_in_place`]) and the frames are written in one
/// call. A frame is sealed as regular only once a byte after it has been
/// read; the last frame of a full buffer is carried over to the start of
/// the next one. The buffer holds plaintext between the read and the seal
/// and is wiped when dropped.
fn encrypt_in_place(
    enc: &mut Encryptor,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    buf_len: usize,
) -> Result<(u64, u64)> {
    let fl = enc.frame_length();
    let slot = enc.regular_frame_len();
    let off = Encryptor::FRAME_CONTENT_OFFSET;
    let frames = (buf_len / fl).clamp(*FRAMES_PER_BUFFER.start(), *FRAMES_PER_BUFFER.end());
    let mut out = Vec::new();
    enc.write_header(&mut out);
    let mut message_len = put(writer, &out)?;
    out.clear();
    let mut plaintext_len = 0u64;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; frames * slot]);
    // Plaintext bytes in the buffer, frame after frame.
    let mut filled = 0usize;
    loop {
        let n = read_into_frames(reader, &mut buf, slot, off, fl, filled)?;
        if n == 0 {
            break;
        }
        filled += n;
        plaintext_len += n as u64;
        if filled == frames * fl {
            // Every frame but the last is followed by plaintext: regular.
            let body = (frames - 1) * slot;
            for frame in buf[..body].chunks_exact_mut(slot) {
                enc.seal_frame_in_place(frame)?;
            }
            message_len += put(writer, &buf[..body])?;
            buf.copy_within(body + off..body + off + fl, off);
            filled = fl;
        }
    }
    // The frames followed by more plaintext are regular; the last one
    // (full, partial or empty) is the final frame, written by `finish`.
    let regular = if filled % fl > 0 {
        filled / fl
    } else {
        (filled / fl).saturating_sub(1)
    };
    for frame in buf[..regular * slot].chunks_exact_mut(slot) {
        enc.seal_frame_in_place(frame)?;
    }
    message_len += put(writer, &buf[..regular * slot])?;
    let last = regular * slot + off;
    enc.update(&buf[last..last + filled - regular * fl], &mut out)?;
    debug_assert!(out.is_empty(), "the final frame is pending, not written");
    Ok((plaintext_len, message_len))
}

/// Reads into the content of the frames laid out in `buf` (`slot` bytes
/// each, content of `fl` bytes at `off`), from plaintext byte `filled` on,
/// in one `read_vectored`; returns the bytes read (0 at the end).
fn read_into_frames(
    reader: &mut dyn Read,
    buf: &mut [u8],
    slot: usize,
    off: usize,
    fl: usize,
    filled: usize,
) -> Result<usize> {
    let (first, within) = (filled / fl, filled % fl);
    let mut slices: Vec<io::IoSliceMut<'_>> = buf
        .chunks_exact_mut(slot)
        .skip(first)
        .enumerate()
        .map(|(i, frame)| {
            let start = off + if i == 0 { within } else { 0 };
            io::IoSliceMut::new(&mut frame[start..off + fl])
        })
        .collect();
    loop {
        match reader.read_vectored(&mut slices) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("cannot read the input", e)),
        }
    }
}

/// Where [`decrypt_core`] sends plaintext once the suite is known.
enum Sink<'w> {
    /// Release frames as they authenticate; refuse signed suites.
    UnsignedOnly(&'w mut dyn Write),
    /// Unsigned: release frames; signed: stage in an anonymous temp file.
    Staged(&'w mut dyn Write, Option<File>),
    /// Write everything to this (temporary) destination; the caller decides.
    Direct(&'w mut dyn Write),
}

fn decrypt_core(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    mut sink: Sink<'_>,
    options: &DecryptOptions,
    buf_len: usize,
) -> Result<EnvelopeSummary> {
    // Before the first read, so that a bad option consumes no input.
    strongroom_core::envelope::check_max_encrypted_data_keys(options.max_encrypted_data_keys)?;
    let mut rng = os_rng();
    let mut dec = Decryptor::new(keyring, options.clone(), &mut rng)
        .with_message_hasher(Box::new(ThreadedHasher::new()));
    if matches!(sink, Sink::UnsignedOnly(_)) {
        dec = dec.refuse_signed_suites();
    }
    // The message is read into `buf` and its frames are decrypted there, in
    // place; `buf[..held]` is the start of a unit not yet read whole. The
    // plaintext stays in `buf` until the next read overwrites it or the
    // buffer is wiped when dropped (also on every error path).
    let mut buf = zeroize::Zeroizing::new(vec![0u8; buf_len]);
    let mut held = 0usize;
    let mut ranges = Vec::new();
    let (mut plaintext_len, mut message_len) = (0u64, 0u64);
    let mut decided = false;
    loop {
        if held == buf.len() {
            // One unit (a large header or frame) fills the buffer: grow it
            // by hand, so that the old one is wiped. The decryptor bounds a
            // unit (max_header_length, max_content_buffer).
            let mut bigger = zeroize::Zeroizing::new(vec![0u8; buf.len() * 2]);
            bigger[..held].copy_from_slice(&buf[..held]);
            buf = bigger;
        }
        let n = read_some(reader, &mut buf[held..])?;
        if n == 0 {
            break;
        }
        message_len += n as u64;
        let avail = held + n;
        ranges.clear();
        // Released::PendingSignature is handled by the sink choice below.
        let (consumed, _released) = dec.update_in_place(&mut buf[..avail], &mut ranges)?;
        if !decided {
            if let Some(signed) = dec.is_signed() {
                decided = true;
                // A signed suite under `Sink::UnsignedOnly` was already
                // refused by the decryptor, before it unwrapped anything.
                if let (true, Sink::Staged(_, staging)) = (signed, &mut sink) {
                    *staging = Some(
                        tempfile::tempfile()
                            .map_err(|e| io_err("cannot create a staging file", e))?,
                    );
                }
            }
        }
        if !ranges.is_empty() {
            let w: &mut dyn Write = match &mut sink {
                Sink::UnsignedOnly(w) | Sink::Direct(w) | Sink::Staged(w, None) => *w,
                Sink::Staged(_, Some(f)) => f,
            };
            plaintext_len += write_ranges(w, &buf, &ranges)
                .map_err(|e| io_err("cannot write the plaintext", e))?;
        }
        buf.copy_within(consumed..avail, 0);
        held = avail - consumed;
    }
    let header = dec.finish()?;
    match sink {
        Sink::Staged(w, Some(mut f)) => {
            f.seek(SeekFrom::Start(0))
                .map_err(|e| io_err("cannot read the staging file", e))?;
            io::copy(&mut f, w).map_err(|e| io_err("cannot write the plaintext", e))?;
            w.flush()
                .map_err(|e| io_err("cannot write the plaintext", e))?;
        }
        Sink::UnsignedOnly(w) | Sink::Staged(w, None) | Sink::Direct(w) => {
            w.flush()
                .map_err(|e| io_err("cannot write the plaintext", e))?;
        }
    }
    Ok(EnvelopeSummary {
        header,
        plaintext_len,
        message_len,
    })
}

/// Writes the parts `ranges` of `buf` to `w`, in order, with as few
/// `write_vectored` calls as the writer allows; returns the bytes written.
fn write_ranges(
    w: &mut dyn Write,
    buf: &[u8],
    ranges: &[std::ops::Range<usize>],
) -> io::Result<u64> {
    let mut slices: Vec<io::IoSlice<'_>> = ranges
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| io::IoSlice::new(&buf[r.clone()]))
        .collect();
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match w.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total as u64)
}

/// Decrypts one message from `reader` into `writer`, releasing nothing that
/// is not authenticated:
///
/// - unsigned suites (`0x0478`, `0x0178`): each frame is written once AES-GCM
///   authenticates it. If the message is truncated, `writer` holds a prefix
///   of authenticated plaintext and the call fails;
/// - signed suites (`0x0578`, `0x0378`): the plaintext is staged in an
///   anonymous temporary file (in the system temp directory, deleted by the
///   OS when closed) and copied to `writer` only after the ECDSA signature
///   verifies.
///
/// Memory stays constant (a read buffer, grown to one whole frame if a frame
/// is larger; for signed suites about 1.5 MiB queued for the hashing
/// thread). Trailing bytes
/// after the message are an error.
///
/// # Errors
/// `InvalidCiphertextException` for anything that fails to authenticate or
/// is malformed, truncated, reordered or duplicated, and when a pair of
/// `required_encryption_context` is missing from the message's context or
/// has another value; `ValidationException` for options (commitment policy,
/// EDK limit); keyring errors; `KMSInternalException` for I/O.
pub fn decrypt_stream(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    options: &DecryptOptions,
) -> Result<EnvelopeSummary> {
    decrypt_core(
        keyring,
        reader,
        Sink::Staged(writer, None),
        options,
        STREAM_BUFFER_LEN,
    )
}

/// Decrypts one message of an **unsigned** suite, writing each frame to
/// `writer` as soon as it is authenticated (the ESDK's
/// "streaming-unsigned-only" mode). A message with a signed suite is refused
/// with `ValidationException` before any plaintext is written, because its
/// plaintext cannot be trusted until the footer's signature is checked.
///
/// # Errors
/// As [`decrypt_stream`], plus `ValidationException` for a signed suite.
pub fn decrypt_stream_unsigned_only(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    options: &DecryptOptions,
) -> Result<EnvelopeSummary> {
    decrypt_core(
        keyring,
        reader,
        Sink::UnsignedOnly(writer),
        options,
        STREAM_BUFFER_LEN,
    )
}

/// [`decrypt_stream_unsigned_only`] from the file `in_path` to `out_path`:
/// a message of a signed suite is refused (`ValidationException`) once its
/// header is read, before any data key is unwrapped; the plaintext goes to a
/// temporary file beside `out_path`, renamed over it only once the whole
/// message is authenticated (a failure leaves `out_path` untouched).
///
/// # Errors
/// As [`decrypt_to_path_unsigned_only`]; for `in_path`, the errors of
/// [`decrypt_file`].
pub fn decrypt_file_unsigned_only(
    keyring: &dyn Keyring,
    in_path: &Path,
    out_path: &Path,
    options: &DecryptOptions,
) -> Result<EnvelopeSummary> {
    let mut r = open_input(in_path, out_path)?;
    decrypt_to_path_unsigned_only(keyring, &mut r, out_path, options)
}

/// Opens the input file of a file function: the error of [`path_error`]
/// if that fails, `ValidationException` if it is a directory or `out_path`
/// names the same file (the output would replace the input it is made
/// from).
fn open_input(in_path: &Path, out_path: &Path) -> Result<File> {
    let f = File::open(in_path).map_err(|e| path_error("cannot open the input", in_path, &e))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(Error::validation(format!(
            "the input {} is a directory",
            in_path.display()
        )));
    }
    #[cfg(unix)]
    let same = {
        use std::os::unix::fs::MetadataExt;
        match (f.metadata(), std::fs::metadata(out_path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    };
    #[cfg(not(unix))]
    let same = matches!(
        (std::fs::canonicalize(in_path), std::fs::canonicalize(out_path)),
        (Ok(a), Ok(b)) if a == b
    );
    if same {
        return Err(Error::validation(format!(
            "the input {} and the output {} are the same file: the output would replace its own input",
            in_path.display(),
            out_path.display()
        )));
    }
    Ok(f)
}

/// The temporary output files (`.strongroom-XXXXXX.partial`) of this
/// process's file functions that are not yet renamed into place, and
/// whether [`remove_partial_outputs`] has run (then no new one is made).
static PARTIAL_OUTPUTS: Mutex<(Vec<PathBuf>, bool)> = Mutex::new((Vec::new(), false));

fn partial_outputs() -> MutexGuard<'static, (Vec<PathBuf>, bool)> {
    PARTIAL_OUTPUTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Deletes the temporary files that the file functions ([`encrypt_to_path`],
/// [`decrypt_to_path`] and those built on them) of this process are writing
/// — each a `.strongroom-XXXXXX.partial` file in its output's directory,
/// holding a prefix of the output — and makes those calls, and any later
/// one, fail (`KMSInternalException`) instead of creating or renaming one.
///
/// For a process about to exit on a signal (SIGINT, SIGTERM, SIGHUP), which
/// would otherwise leave those files behind: call it from the thread that
/// handles the signal (not from a signal handler itself: it takes a lock
/// and allocates), then exit. A process killed by SIGKILL cannot do this.
pub fn remove_partial_outputs() {
    let mut g = partial_outputs();
    g.1 = true;
    for p in g.0.drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

/// A temporary file in the directory of an output, registered in
/// [`PARTIAL_OUTPUTS`] while it exists; persisted by [`commit_temp`],
/// deleted on drop otherwise.
struct PartialOutput {
    tmp: Option<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl PartialOutput {
    fn file(&self) -> Result<&File> {
        self.tmp
            .as_ref()
            .map(tempfile::NamedTempFile::as_file)
            .ok_or_else(|| Error::internal("the temporary output file is gone"))
    }
}

impl Drop for PartialOutput {
    fn drop(&mut self) {
        let mut g = partial_outputs();
        g.0.retain(|p| p != &self.path);
        // Deleted under the lock, so that remove_partial_outputs never
        // races with it.
        drop(self.tmp.take());
    }
}

fn interrupted() -> Error {
    Error::internal("interrupted: the temporary output file was removed")
}

/// A temporary file in the directory of `out`, persisted to `out` by
/// [`commit_temp`] and deleted on drop otherwise.
fn temp_beside(out: &Path) -> Result<PartialOutput> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut g = partial_outputs();
    if g.1 {
        return Err(interrupted());
    }
    let tmp = tempfile::Builder::new()
        .prefix(".strongroom-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| {
            // tempfile's error names the random temporary name; the OS
            // error alone says what the caller needs.
            let e = match std::fs::metadata(dir) {
                Err(m) => m,
                Ok(_) => io::Error::from(e.kind()),
            };
            path_error(
                &format!("cannot create the output {} in", out.display()),
                dir,
                &e,
            )
        })?;
    let path = tmp.path().to_path_buf();
    g.0.push(path.clone());
    Ok(PartialOutput {
        tmp: Some(tmp),
        path,
    })
}

/// Runs `produce` into an anonymous temporary file (in the system temp
/// directory, deleted by the OS when closed, as [`decrypt_stream`] stages
/// a signed suite's plaintext) and, once it succeeded, copies what it wrote
/// to `dest` (the output `out`): a failure writes nothing to `dest`. For an
/// output written into ([`Output::WriteInto`]: a FIFO, `/dev/null`, a file
/// named through a symbolic link), which a temporary file renamed over it
/// would replace (swapping `/dev/null` for a regular file holding the
/// plaintext, or bypassing the kernel's checks on the link).
fn stage_anonymously<T>(
    dest: &mut Destination,
    out: &Path,
    produce: impl FnOnce(&mut File) -> Result<T>,
) -> Result<T> {
    let mut staged = tempfile::tempfile().map_err(|e| io_err("cannot create a staging file", e))?;
    let done = produce(&mut staged)?;
    staged
        .seek(SeekFrom::Start(0))
        .map_err(|e| io_err("cannot read the staging file", e))?;
    let len = staged
        .metadata()
        .map_err(|e| io_err("cannot read the staging file", e))?
        .len();
    dest.put(&mut staged, len)
        .map_err(|e| io_err(&format!("cannot write the output {}", out.display()), e))?;
    Ok(done)
}

fn commit_temp(mut partial: PartialOutput, out: &Path) -> Result<()> {
    partial
        .file()?
        .sync_all()
        .map_err(|e| io_err("cannot sync the output", e))?;
    {
        // Renamed under the lock: remove_partial_outputs either deletes
        // the file first (and the rename fails) or finds it renamed.
        let mut g = partial_outputs();
        let tmp = match (g.1, partial.tmp.take()) {
            (false, Some(tmp)) => tmp,
            _ => return Err(interrupted()),
        };
        tmp.persist(out)
            .map_err(|e| path_error("cannot write the output", out, &e.error))?;
        let path = &partial.path;
        g.0.retain(|p| p != path);
    }
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        // Make the rename durable; not every platform can open a directory.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Encrypts `reader` into a message at `out_path`: written to a temporary
/// file beside it, synced, and renamed over `out_path` only on success (a
/// failure leaves `out_path` untouched). An existing `out_path` that is not
/// a regular file (a FIFO, a device such as `/dev/null`, an open file named
/// through `/proc` such as `/dev/stdout`) is never
/// replaced: the message is staged in an anonymous temporary file and
/// written into it once complete. A symbolic link is followed, never
/// replaced: the file it names is opened through it (as the shell's `>`
/// does) and rewritten in place once the message is complete, keeping its
/// mode and owner ([`crate::files::open_output`]).
///
/// # Errors
/// As [`encrypt_stream`];
/// `ValidationException` naming `out_path` if it is one of the files of a
/// keystore open in this process (the keystore, its SQLite sidecars, its
/// change-signal file, audit log, root key file or anchor file: see
/// [`crate::own_files`]), a directory, a symbolic link that names no file,
/// or in a directory that is missing or
/// not writable ([`path_error`]), checked before anything is read;
/// `KMSInternalException` if the output cannot be written or synced for
/// another reason (a full disk).
pub fn encrypt_to_path(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    out_path: &Path,
    context: &EncryptionContext,
    options: &EncryptOptions,
) -> Result<EnvelopeSummary> {
    let out = match open_output(out_path)? {
        Output::Replace(path) => path,
        Output::WriteInto(mut dest) => {
            return stage_anonymously(&mut dest, out_path, |w| {
                encrypt_core(keyring, reader, w, context, options, FILE_BUFFER_LEN)
            })
        }
    };
    let tmp = temp_beside(&out)?;
    // Unbuffered: each write is one chunk of about FILE_BUFFER_LEN bytes
    // (a `BufWriter` of that capacity copied every chunk just under it once more).
    let mut w = tmp.file()?;
    let summary = encrypt_core(keyring, reader, &mut w, context, options, FILE_BUFFER_LEN)?;
    commit_temp(tmp, &out)?;
    Ok(summary)
}

/// [`encrypt_to_path`] reading the file `in_path`.
///
/// # Errors
/// As [`encrypt_to_path`]; `ValidationException` naming `in_path` if it is
/// missing, not readable or a directory ([`path_error`]), or if `in_path`
/// and `out_path` are the same file (the output would replace its own
/// input).
pub fn encrypt_file(
    keyring: &dyn Keyring,
    in_path: &Path,
    out_path: &Path,
    context: &EncryptionContext,
    options: &EncryptOptions,
) -> Result<EnvelopeSummary> {
    let mut r = open_input(in_path, out_path)?;
    encrypt_to_path(keyring, &mut r, out_path, context, options)
}

/// Decrypts the message read from `reader` to `out_path`, for any suite: the
/// plaintext goes to a temporary file in `out_path`'s directory, which is
/// synced and renamed to `out_path` only once the whole message is
/// authenticated (including, for signed suites, the signature). On any
/// failure the temporary file is deleted and `out_path` is not created or
/// changed: the final output never holds unauthenticated or partial plaintext.
/// A symbolic link is followed: the file it names is opened through it (as
/// the shell's `>` does) and rewritten in place, keeping its mode and
/// owner, only once the whole message is authenticated; the link is kept. An existing `out_path` that is not a regular file (a FIFO, a device
/// such as `/dev/null`, `/dev/stdout`) is never replaced: the plaintext is staged in an
/// anonymous temporary file (in the system temp directory, as
/// [`decrypt_stream`] stages a signed suite's) and written into it only
/// once the whole message is authenticated; nothing on a failure.
///
/// # Errors
/// As [`decrypt_stream`]; the output's errors of [`encrypt_to_path`].
pub fn decrypt_to_path(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    out_path: &Path,
    options: &DecryptOptions,
) -> Result<EnvelopeSummary> {
    decrypt_to_temp(keyring, reader, out_path, options, false)
}

/// [`decrypt_to_path`] accepting only unsigned suites: a message of a signed
/// suite is refused (`ValidationException`) once its header is read, before
/// any data key is unwrapped (the AWS Encryption CLI's `--decrypt-unsigned`).
/// The output is still written to a temporary file and renamed over
/// `out_path` only once the whole message is authenticated.
///
/// # Errors
/// As [`decrypt_stream_unsigned_only`]; the output's errors of
/// [`encrypt_to_path`].
pub fn decrypt_to_path_unsigned_only(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    out_path: &Path,
    options: &DecryptOptions,
) -> Result<EnvelopeSummary> {
    decrypt_to_temp(keyring, reader, out_path, options, true)
}

fn decrypt_to_temp(
    keyring: &dyn Keyring,
    reader: &mut dyn Read,
    out_path: &Path,
    options: &DecryptOptions,
    unsigned_only: bool,
) -> Result<EnvelopeSummary> {
    let out = match open_output(out_path)? {
        Output::Replace(path) => path,
        Output::WriteInto(mut dest) => {
            return stage_anonymously(&mut dest, out_path, |mut w| {
                let sink = if unsigned_only {
                    Sink::UnsignedOnly(&mut w)
                } else {
                    Sink::Direct(&mut w)
                };
                decrypt_core(keyring, reader, sink, options, FILE_BUFFER_LEN)
            })
        }
    };
    let tmp = temp_beside(&out)?;
    // Unbuffered, as in `encrypt_to_path`: the plaintext of one chunk per write.
    let mut w = tmp.file()?;
    let sink = if unsigned_only {
        Sink::UnsignedOnly(&mut w)
    } else {
        Sink::Direct(&mut w)
    };
    let summary = decrypt_core(keyring, reader, sink, options, FILE_BUFFER_LEN)?;
    commit_temp(tmp, &out)?;
    Ok(summary)
}

/// [`decrypt_to_path`] reading the file `in_path`.
///
/// # Errors
/// As [`decrypt_to_path`]; `ValidationException` naming `in_path` if it is
/// missing, not readable or a directory ([`path_error`]), or if `in_path`
/// and `out_path` are the same file (the output would replace its own
/// input).
pub fn decrypt_file(
    keyring: &dyn Keyring,
    in_path: &Path,
    out_path: &Path,
    options: &DecryptOptions,
) -> Result<EnvelopeSummary> {
    let mut r = open_input(in_path, out_path)?;
    decrypt_to_path(keyring, &mut r, out_path, options)
}

/// Reads just the header of the message at the start of `reader` (at most
/// `max_header_length` bytes), without unwrapping any key or authenticating
/// anything: every field is untrusted. For showing a message's suite,
/// encryption context, EDK providers and key ARNs, and frame length.
///
/// # Errors
/// `InvalidCiphertextException` if no well-formed header is found within the
/// limit; `KMSInternalException` for I/O.
pub fn read_header(reader: &mut dyn Read, max_header_length: usize) -> Result<MessageHeader> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // The header is parsed again only once the buffer has doubled since the
    // last attempt (or the input or the limit ends), so the parses of a long
    // header cost at most twice its length in all: linear time, where one
    // parse per chunk read would be quadratic.
    let mut attempt_at = chunk.len();
    loop {
        let mut ended = false;
        while buf.len() < attempt_at.min(max_header_length) {
            let want = chunk.len().min(max_header_length - buf.len());
            let n = read_some(reader, &mut chunk[..want])?;
            if n == 0 {
                ended = true;
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let parsed = parse_header(&buf);
        if parsed.is_ok() || ended || buf.len() >= max_header_length {
            return parsed.map(|(h, _)| h);
        }
        attempt_at = buf.len().saturating_mul(2);
    }
}

/// A message header as JSON, the shape the CLI's `decrypt-file
/// --show-header` prints and the C library's `sr_envelope_read_header()`
/// returns: `AlgorithmSuiteId` (`"0x0578"`), `AlgorithmSuite` (the ESDK
/// name), `MessageFormatVersion` (1 or 2), `MessageId` (hex: 16 bytes for
/// version 1, 32 for version 2), `EncryptionContext` (object),
/// `EncryptedDataKeys` (array of `ProviderId`, `ProviderInfo` as UTF-8 text
/// with invalid bytes replaced, `CiphertextLength` in bytes), `ContentType`
/// (`"Framed"` or `"NonFramed"`) and `FrameLength` (bytes; 0 when non-framed).
///
/// Every field is as read from the message and untrusted until the message
/// is decrypted.
pub fn header_json(h: &MessageHeader) -> serde_json::Value {
    use serde_json::json;
    let edks: Vec<serde_json::Value> = h
        .encrypted_data_keys
        .iter()
        .map(|e| {
            json!({
                "ProviderId": e.provider_id,
                "ProviderInfo": String::from_utf8_lossy(&e.provider_info),
                "CiphertextLength": e.ciphertext.len(),
            })
        })
        .collect();
    let content_type = match h.content_type {
        ContentType::Framed => "Framed",
        ContentType::NonFramed => "NonFramed",
    };
    json!({
        "AlgorithmSuiteId": format!("0x{:04X}", h.suite.id()),
        "AlgorithmSuite": h.suite.name(),
        "MessageFormatVersion": h.suite.message_version(),
        "MessageId": h.message_id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "EncryptionContext": h.encryption_context.0,
        "EncryptedDataKeys": edks,
        "ContentType": content_type,
        "FrameLength": h.frame_length,
    })
}

/// Envelope-encrypts `plaintext` in one call (bytes in, bytes out: the AWS
/// Encryption SDKs' `encrypt` of a byte source) and returns the whole
/// message. One pass over the data: the message is allocated once, at its
/// exact length for unsigned suites, and each frame's plaintext is copied
/// into its place and sealed there while it is in the CPU cache
/// ([`strongroom_core::envelope::encrypt_into`]). The message holds the
/// plaintext and 32 bytes per frame more, so the caller needs memory for
/// both; for larger data use [`encrypt_stream`] or [`encrypt_file`].
/// Signed suites hash the message in line: SHA-384 is about nine tenths of
/// their work here, so the streams' hashing thread would overlap only the
/// rest and costs more CPU than that saves (measured in
/// `benches/RESULTS.md`).
///
/// # Errors
/// Those of [`Encryptor::new`] (options, keyring); `LimitExceededException`
/// if the message does not fit in memory.
pub fn encrypt_message(
    keyring: &dyn Keyring,
    plaintext: &[u8],
    context: &EncryptionContext,
    options: &EncryptOptions,
) -> Result<(Vec<u8>, EnvelopeSummary)> {
    let mut out = Vec::new();
    let summary = encrypt_message_into(keyring, plaintext, context, options, &mut out)?;
    Ok((out, summary))
}

/// As [`encrypt_message`], appending the message to `out`, which is grown
/// (once) only if it lacks the room: a caller that clears and reuses `out`
/// allocates nothing, and for large messages also avoids the kernel's page
/// faults on fresh memory (measured in `benches/RESULTS.md` at several
/// times the cost of the encryption itself). On error `out` is as it was.
///
/// # Errors
/// As [`encrypt_message`].
pub fn encrypt_message_into(
    keyring: &dyn Keyring,
    plaintext: &[u8],
    context: &EncryptionContext,
    options: &EncryptOptions,
    out: &mut Vec<u8>,
) -> Result<EnvelopeSummary> {
    let start = out.len();
    let header = strongroom_core::envelope::encrypt_into(
        keyring,
        context,
        plaintext,
        options,
        &mut os_rng(),
        out,
    )?;
    Ok(summary(header, plaintext.len(), out.len() - start))
}

/// What [`encrypt_message_into_slice`] or [`decrypt_message_into_slice`] did.
#[derive(Debug)]
pub enum SliceMessage {
    /// The output is the first bytes of the slice: `summary.message_len`
    /// of them (encryption), or `summary.plaintext_len` (decryption).
    Written(EnvelopeSummary),
    /// The slice is shorter than `needed` bytes; nothing was written to
    /// it. Encryption: [`Encryptor::message_len`] (exact for unsigned
    /// suites; for signed ones an upper bound counting the longest DER
    /// signature, usually at most 3 bytes above the message's length).
    /// Decryption: the exact plaintext length, read from the message's
    /// framing ([`plaintext_len`](strongroom_core::envelope::plaintext_len)).
    TooSmall {
        /// Bytes the slice must have.
        needed: usize,
    },
}

/// As [`encrypt_message_into`], writing the message to the start of a
/// caller's slice instead of a `Vec` (the C library's caller buffers): see
/// [`strongroom_core::envelope::encrypt_into_slice`]. The keyring is called
/// first; if `out` is shorter than the message may be, nothing is written
/// and the result is [`SliceMessage::TooSmall`] with the length needed.
/// Otherwise the message is `out[..summary.message_len]`. On error `out`
/// holds no part of the message (once writing has begun, the bytes the
/// message could use are overwritten with zeros).
///
/// # Errors
/// As [`encrypt_message`] (no `LimitExceededException` for the message,
/// whose memory is `out`).
pub fn encrypt_message_into_slice(
    keyring: &dyn Keyring,
    plaintext: &[u8],
    context: &EncryptionContext,
    options: &EncryptOptions,
    out: &mut [u8],
) -> Result<SliceMessage> {
    let outcome = strongroom_core::envelope::encrypt_into_slice(
        keyring,
        context,
        plaintext,
        options,
        &mut os_rng(),
        out,
    )?;
    Ok(match outcome {
        SliceOutcome::Written { header, len } => {
            SliceMessage::Written(summary(header, plaintext.len(), len))
        }
        SliceOutcome::TooSmall { needed } => SliceMessage::TooSmall { needed },
    })
}

fn summary(header: MessageHeader, plaintext_len: usize, message_len: usize) -> EnvelopeSummary {
    EnvelopeSummary {
        header,
        plaintext_len: plaintext_len as u64,
        message_len: message_len as u64,
    }
}

/// Decrypts a whole message in one call (bytes in, bytes out) and returns
/// its plaintext: nothing is returned unless the whole message
/// authenticates, signature included, and on failure whatever was
/// decrypted is wiped. One pass: each frame's ciphertext is copied into its
/// place in the output and authenticated and decrypted there
/// ([`strongroom_core::envelope::decrypt_into`]). The output is allocated
/// once, at the plaintext's exact length, read from the message's framing
/// ([`strongroom_core::envelope::plaintext_len`]): the caller needs memory
/// for the message and the plaintext, nothing more.
///
/// # Errors
/// `InvalidCiphertextException` for anything that fails to authenticate or
/// is malformed, truncated, reordered or followed by other bytes, and when
/// the required encryption context does not match; `ValidationException`
/// for options (commitment policy, EDK limit); keyring errors;
/// `LimitExceededException` if the output does not fit in memory.
pub fn decrypt_message(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
) -> Result<(Vec<u8>, EnvelopeSummary)> {
    let mut out = Vec::new();
    let summary = decrypt_message_into(keyring, message, options, &mut out)?;
    Ok((out, summary))
}

/// As [`decrypt_message`], appending the plaintext to `out`, which is
/// grown (once, wiping the old buffer if it moves) only if it lacks room
/// for the plaintext. On error `out` is as it was: what this call
/// appended is wiped and removed.
///
/// # Errors
/// As [`decrypt_message`].
pub fn decrypt_message_into(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
    out: &mut Vec<u8>,
) -> Result<EnvelopeSummary> {
    decrypt_message_into_checked(keyring, message, options, false, out)
}

/// As [`decrypt_message_into`], accepting only unsigned suites: a message
/// of a signed suite (`0x0578`, `0x0378`) is refused with
/// `ValidationException` once its header is parsed, before any data key is
/// unwrapped, as [`decrypt_stream_unsigned_only`] refuses it. (The one-call
/// functions release nothing before the whole message authenticates
/// anyway; this is for callers that want the same policy as their
/// streaming calls.)
///
/// # Errors
/// As [`decrypt_message`]; `ValidationException` for a signed suite.
pub fn decrypt_message_into_unsigned_only(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
    out: &mut Vec<u8>,
) -> Result<EnvelopeSummary> {
    decrypt_message_into_checked(keyring, message, options, true, out)
}

/// As [`decrypt_message_into`], writing the plaintext to the start of a
/// caller's slice instead of a `Vec` (a C caller's buffer, a Python
/// `bytes` being built): see
/// [`strongroom_core::envelope::decrypt_into_slice`]. If `out` is shorter
/// than the plaintext, read from the message's framing, nothing is written,
/// no key is unwrapped and the result is [`SliceMessage::TooSmall`] with
/// the exact length (the message is not authenticated then, and may still
/// fail). Otherwise the plaintext is `out[..summary.plaintext_len]`,
/// written frame by frame and valid only once this returns `Ok`: on error
/// (or a panic unwinding through it) the bytes written are overwritten
/// with zeros.
///
/// # Errors
/// As [`decrypt_message`] (no `LimitExceededException`: the memory is
/// `out`).
pub fn decrypt_message_into_slice(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
    out: &mut [u8],
) -> Result<SliceMessage> {
    decrypt_message_into_slice_checked(keyring, message, options, false, out)
}

/// As [`decrypt_message_into_slice`], refusing a signed suite as
/// [`decrypt_message_into_unsigned_only`] does (`ValidationException`
/// once the header is parsed, before any data key is unwrapped; the
/// length check comes first, so a slice too short gets
/// [`SliceMessage::TooSmall`] whatever the suite).
///
/// # Errors
/// As [`decrypt_message_into_slice`]; `ValidationException` for a signed
/// suite.
pub fn decrypt_message_into_slice_unsigned_only(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
    out: &mut [u8],
) -> Result<SliceMessage> {
    decrypt_message_into_slice_checked(keyring, message, options, true, out)
}

fn decrypt_message_into_slice_checked(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
    unsigned_only: bool,
    out: &mut [u8],
) -> Result<SliceMessage> {
    let mut rng = os_rng();
    let mut dec = Decryptor::new(keyring, options.clone(), &mut rng);
    if unsigned_only {
        dec = dec.refuse_signed_suites();
    }
    Ok(match dec.decrypt_into_slice(message, out)? {
        SliceOutcome::Written { header, len } => {
            SliceMessage::Written(summary(header, len, message.len()))
        }
        SliceOutcome::TooSmall { needed } => SliceMessage::TooSmall { needed },
    })
}

fn decrypt_message_into_checked(
    keyring: &dyn Keyring,
    message: &[u8],
    options: &DecryptOptions,
    unsigned_only: bool,
    out: &mut Vec<u8>,
) -> Result<EnvelopeSummary> {
    let start = out.len();
    let mut rng = os_rng();
    let mut dec = Decryptor::new(keyring, options.clone(), &mut rng);
    if unsigned_only {
        dec = dec.refuse_signed_suites();
    }
    let header = dec.decrypt_into(message, out)?;
    Ok(summary(header, out.len() - start, message.len()))
}

impl Keystore {
    /// A strict [`KmsKeyring`] over `key_ids` of this keystore.
    ///
    /// # Errors
    /// `ValidationException` if `key_ids` is empty.
    pub fn keyring<S: AsRef<str>>(&self, key_ids: &[S]) -> Result<KmsKeyring> {
        KmsKeyring::new(self, key_ids)
    }

    /// Envelope-encrypts `reader` into one message on `writer` under
    /// `key_ids` (the first generates the data key, the others also wrap
    /// it). See [`encrypt_stream`].
    ///
    /// # Errors
    /// As [`encrypt_stream`]; `ValidationException` if `key_ids` is empty.
    pub fn encrypt_stream<S: AsRef<str>>(
        &self,
        reader: &mut dyn Read,
        writer: &mut dyn Write,
        key_ids: &[S],
        context: &EncryptionContext,
        options: &EncryptOptions,
    ) -> Result<EnvelopeSummary> {
        encrypt_stream(&self.keyring(key_ids)?, reader, writer, context, options)
    }

    /// Decrypts a message with whichever key of this keystore wrapped it
    /// (discovery). Signed suites are staged in a temporary file until the
    /// signature verifies; see [`decrypt_stream`] for when plaintext reaches
    /// `writer`.
    ///
    /// # Errors
    /// As [`decrypt_stream`].
    pub fn decrypt_stream(
        &self,
        reader: &mut dyn Read,
        writer: &mut dyn Write,
        options: &DecryptOptions,
    ) -> Result<EnvelopeSummary> {
        decrypt_stream(&KmsKeyring::discovery(self), reader, writer, options)
    }

    /// Decrypts a message of an unsigned suite, releasing each frame once it
    /// is authenticated; refuses signed suites. See [`decrypt_stream_unsigned_only`].
    ///
    /// # Errors
    /// As [`decrypt_stream_unsigned_only`].
    pub fn decrypt_stream_unsigned_only(
        &self,
        reader: &mut dyn Read,
        writer: &mut dyn Write,
        options: &DecryptOptions,
    ) -> Result<EnvelopeSummary> {
        decrypt_stream_unsigned_only(&KmsKeyring::discovery(self), reader, writer, options)
    }

    /// Decrypts the message in `in_path` to `out_path` with whichever key of
    /// this keystore wrapped it, accepting only unsigned suites (refused
    /// before any data key is unwrapped). See [`decrypt_file_unsigned_only`].
    ///
    /// # Errors
    /// As [`decrypt_file_unsigned_only`].
    pub fn decrypt_file_unsigned_only(
        &self,
        in_path: impl AsRef<Path>,
        out_path: impl AsRef<Path>,
        options: &DecryptOptions,
    ) -> Result<EnvelopeSummary> {
        decrypt_file_unsigned_only(
            &KmsKeyring::discovery(self),
            in_path.as_ref(),
            out_path.as_ref(),
            options,
        )
    }

    /// Envelope-encrypts `plaintext` into one message in memory under
    /// `key_ids` (the first generates the data key, the others also wrap
    /// it). See [`encrypt_message`].
    ///
    /// # Errors
    /// As [`encrypt_message`]; `ValidationException` if `key_ids` is empty.
    pub fn encrypt_message<S: AsRef<str>>(
        &self,
        plaintext: &[u8],
        key_ids: &[S],
        context: &EncryptionContext,
        options: &EncryptOptions,
    ) -> Result<(Vec<u8>, EnvelopeSummary)> {
        encrypt_message(&self.keyring(key_ids)?, plaintext, context, options)
    }

    /// As [`Keystore::encrypt_message`], appending to a reusable `out`;
    /// see [`encrypt_message_into`].
    ///
    /// # Errors
    /// As [`encrypt_message_into`]; `ValidationException` if `key_ids` is
    /// empty.
    pub fn encrypt_message_into<S: AsRef<str>>(
        &self,
        plaintext: &[u8],
        key_ids: &[S],
        context: &EncryptionContext,
        options: &EncryptOptions,
        out: &mut Vec<u8>,
    ) -> Result<EnvelopeSummary> {
        encrypt_message_into(&self.keyring(key_ids)?, plaintext, context, options, out)
    }

    /// Decrypts a whole message in memory with whichever key of this
    /// keystore wrapped it (discovery); nothing is returned unless the whole
    /// message authenticates. See [`decrypt_message`].
    ///
    /// # Errors
    /// As [`decrypt_message`].
    pub fn decrypt_message(
        &self,
        message: &[u8],
        options: &DecryptOptions,
    ) -> Result<(Vec<u8>, EnvelopeSummary)> {
        decrypt_message(&KmsKeyring::discovery(self), message, options)
    }

    /// As [`Keystore::decrypt_message`], appending to a reusable `out`;
    /// see [`decrypt_message_into`].
    ///
    /// # Errors
    /// As [`decrypt_message_into`].
    pub fn decrypt_message_into(
        &self,
        message: &[u8],
        options: &DecryptOptions,
        out: &mut Vec<u8>,
    ) -> Result<EnvelopeSummary> {
        decrypt_message_into(&KmsKeyring::discovery(self), message, options, out)
    }

    /// Envelope-encrypts the file `in_path` to `out_path` (temp file + rename).
    ///
    /// # Errors
    /// As [`encrypt_file`].
    pub fn encrypt_file<S: AsRef<str>>(
        &self,
        in_path: impl AsRef<Path>,
        out_path: impl AsRef<Path>,
        key_ids: &[S],
        context: &EncryptionContext,
        options: &EncryptOptions,
    ) -> Result<EnvelopeSummary> {
        encrypt_file(
            &self.keyring(key_ids)?,
            in_path.as_ref(),
            out_path.as_ref(),
            context,
            options,
        )
    }

    /// Decrypts the message in `in_path` to `out_path` with whichever key of
    /// this keystore wrapped it; `out_path` appears only once the whole
    /// message (and signature) is authenticated. See [`decrypt_file`].
    ///
    /// # Errors
    /// As [`decrypt_file`].
    pub fn decrypt_file(
        &self,
        in_path: impl AsRef<Path>,
        out_path: impl AsRef<Path>,
        options: &DecryptOptions,
    ) -> Result<EnvelopeSummary> {
        decrypt_file(
            &KmsKeyring::discovery(self),
            in_path.as_ref(),
            out_path.as_ref(),
            options,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 + i / 253) as u8).collect()
    }

    fn one_shot(data: &[u8]) -> [u8; SHA384_LEN] {
        let mut h = Sha384Stream::new();
        h.update(data);
        h.finalize()
    }

    #[test]
    fn threaded_hasher_matches_sha384_for_any_split() {
        for n in [
            0,
            1,
            HASH_CHUNK_LEN - 1,
            HASH_CHUNK_LEN,
            HASH_CHUNK_LEN + 1,
            (HASH_QUEUE_LEN + 3) * HASH_CHUNK_LEN + 77,
        ] {
            let data = pattern(n);
            for piece in [1usize, 4133, HASH_CHUNK_LEN, 3 * HASH_CHUNK_LEN + 5] {
                if piece == 1 && n > HASH_CHUNK_LEN + 1 {
                    continue;
                }
                let mut h: Box<dyn MessageHasher> = Box::new(ThreadedHasher::new());
                for c in data.chunks(piece) {
                    h.update(c);
                }
                assert_eq!(
                    h.finalize().unwrap(),
                    one_shot(&data),
                    "n {n} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn an_abandoned_hasher_joins_its_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static CHUNKS: AtomicUsize = AtomicUsize::new(0);
        fn counts(h: &mut Sha384Stream, b: &[u8]) {
            std::thread::sleep(std::time::Duration::from_millis(20));
            h.update(b);
            CHUNKS.fetch_add(1, Ordering::SeqCst);
        }
        let mut h = ThreadedHasher::new();
        h.work = counts;
        h.update(&pattern(3 * HASH_CHUNK_LEN));
        drop(h);
        // Dropped without `finalize`: the queued chunks were hashed and the
        // thread ended before `drop` returned.
        assert_eq!(CHUNKS.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_panicking_hash_thread_is_an_error_not_a_digest() {
        fn panics(_: &mut Sha384Stream, _: &[u8]) {
            panic!("hash worker failure (expected by this test)");
        }
        for n in [1, HASH_CHUNK_LEN, (HASH_QUEUE_LEN + 4) * HASH_CHUNK_LEN] {
            let mut h = Box::new(ThreadedHasher::new());
            h.work = panics;
            let data = pattern(n);
            h.update(&data);
            let e = (h as Box<dyn MessageHasher>).finalize().unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::KMSInternalException);
        }
    }

    /// Sizes around 1 MiB and the frame boundaries there, plus some
    /// hashing chunks: where a hashing thread was tried for the one-call
    /// functions (benches/RESULTS.md), kept as the signed one-call path's
    /// check against the streams.
    fn sizes_around_1_mib(frame: usize) -> Vec<usize> {
        let t: usize = 1 << 20;
        let f = (t + 1).div_ceil(frame) * frame;
        vec![t - 1, t, t + 1, f - 1, f, f + 1, 3 * HASH_CHUNK_LEN + t + 5]
    }

    fn raw_keyring() -> strongroom_core::envelope::RawAesKeyring {
        strongroom_core::envelope::RawAesKeyring::new("ns", "key", &[7u8; 32]).unwrap()
    }

    #[test]
    fn signed_one_call_messages_around_frame_boundaries_match_the_streams() {
        use strongroom_core::envelope::AlgorithmSuite;
        let k = raw_keyring();
        let ctx = EncryptionContext::from_pairs([("purpose", "threshold")]).unwrap();
        for frame in [4096usize, 65536] {
            let opts = EncryptOptions {
                suite: AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
                frame_length: frame as u32,
                ..EncryptOptions::default()
            };
            for n in sizes_around_1_mib(frame) {
                let pt = pattern(n);
                let (msg, summary) = encrypt_message(&k, &pt, &ctx, &opts).unwrap();
                assert_eq!(summary.message_len as usize, msg.len());
                // The streams (hashing on their thread) and core's in-line
                // one-call decryption read it...
                let mut out = Vec::new();
                decrypt_stream(&k, &mut &msg[..], &mut out, &DecryptOptions::default()).unwrap();
                assert!(out == pt, "n {n} frame {frame}");
                let (inline, _) = strongroom_core::envelope::decrypt(
                    &k,
                    &msg,
                    DecryptOptions::default(),
                    &mut os_rng(),
                )
                .unwrap();
                assert!(inline == pt);
                // ...and the one-call decryption reads the streams' message.
                let mut streamed = Vec::new();
                encrypt_stream(&k, &mut &pt[..], &mut streamed, &ctx, &opts).unwrap();
                let mut appended = b"kept".to_vec();
                decrypt_message_into(&k, &streamed, &DecryptOptions::default(), &mut appended)
                    .unwrap();
                assert!(appended[..4] == *b"kept" && appended[4..] == pt[..]);
                // The same layout as the stream's: both are laid out by the
                // same encryptor, only the keys, the hashing and the DER
                // signature's length (up to 104 bytes, now and then much
                // shorter) differ, so the lengths agree up to the signature.
                let bound =
                    strongroom_core::envelope::Encryptor::new(&k, &ctx, &opts, &mut os_rng())
                        .unwrap()
                        .message_len(n)
                        .unwrap();
                assert!(msg.len() <= bound && streamed.len() <= bound, "n {n}");
                // 8 or more bytes short would need the two DER integers to
                // lose 8 leading bytes between them (odds below 2^-40).
                assert!(msg.len() + 8 > bound, "n {n}");
            }
        }
    }

    #[test]
    fn tampered_signed_one_call_messages_release_nothing() {
        use strongroom_core::envelope::AlgorithmSuite;
        let k = raw_keyring();
        let ctx = EncryptionContext::new();
        let opts = EncryptOptions {
            suite: AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            ..EncryptOptions::default()
        };
        let n = (1 << 20) + 4097;
        let (msg, _) = encrypt_message(&k, &pattern(n), &ctx, &opts).unwrap();
        for off in [10, msg.len() / 3, msg.len() - 200, msg.len() - 1] {
            let mut bad = msg.clone();
            bad[off] ^= 0x20;
            let mut out = b"before".to_vec();
            let e =
                decrypt_message_into(&k, &bad, &DecryptOptions::default(), &mut out).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidCiphertextException);
            assert_eq!(out, b"before");
        }
        let mut out = b"before".to_vec();
        assert!(decrypt_message_into(
            &k,
            &msg[..msg.len() - 1],
            &DecryptOptions::default(),
            &mut out
        )
        .is_err());
        assert_eq!(out, b"before");
    }

    #[test]
    fn slice_and_unsigned_only_one_call_variants() {
        use strongroom_core::envelope::AlgorithmSuite;
        let k = raw_keyring();
        let ctx = EncryptionContext::new();
        let pt = pattern(10_000);
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ] {
            let opts = EncryptOptions {
                suite,
                frame_length: 1000,
                ..EncryptOptions::default()
            };
            let mut empty: [u8; 0] = [];
            let SliceMessage::TooSmall { needed } =
                encrypt_message_into_slice(&k, &pt, &ctx, &opts, &mut empty).unwrap()
            else {
                panic!("an empty slice fits no message");
            };
            let mut buf = vec![0xAAu8; needed];
            let SliceMessage::Written(summary) =
                encrypt_message_into_slice(&k, &pt, &ctx, &opts, &mut buf).unwrap()
            else {
                panic!("a slice of the length needed fits the message");
            };
            let msg = &buf[..summary.message_len as usize];
            assert_eq!(summary.plaintext_len, pt.len() as u64);
            assert!(msg.len() <= needed && (suite.is_signing() || msg.len() == needed));
            let (out, _) = decrypt_message(&k, msg, &DecryptOptions::default()).unwrap();
            assert!(out == pt);
            let mut out = b"kept".to_vec();
            let r =
                decrypt_message_into_unsigned_only(&k, msg, &DecryptOptions::default(), &mut out);
            if suite.is_signing() {
                let e = r.unwrap_err();
                assert_eq!(e.kind(), crate::ErrorKind::ValidationException);
                assert_eq!(out, b"kept");
            } else {
                r.unwrap();
                assert!(out[..4] == *b"kept" && out[4..] == pt[..]);
            }
        }
    }
}
