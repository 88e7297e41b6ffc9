//! The footer signature of signing suites: ECDSA P-384 over SHA-384 of the
//! header and body, public key in the encryption context as
//! `aws-crypto-public-key` (base64 of the SEC 1 compressed point).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::header::malformed;
use crate::crypto::ecdsa::{
    ecdsa_generate, ecdsa_sign_digest, p384_compressed_public_key,
    p384_public_key_der_from_compressed, p384_verify_digest_with_compressed_key, EcCurve,
};
use crate::crypto::sha384::{Sha384Stream, SHA384_LEN};
use crate::error::{Error, Result};

/// Encryption context key that carries the signature public key.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Computes the SHA-384 that a signed message's footer signs: the digest of
/// the header and body bytes exactly as they appear in the message
/// (ciphertext only; no plaintext or key passes through it).
///
/// [`Encryptor`](super::Encryptor) and [`Decryptor`](super::Decryptor)
/// compute it in line by default ([`Sha384Stream`] implements this trait);
/// [`Encryptor::with_message_hasher`](super::Encryptor::with_message_hasher)
/// and [`Decryptor::with_message_hasher`](super::Decryptor::with_message_hasher)
/// take another implementation, e.g. one that hashes on a second thread (the
/// `strongroom` crate's streaming functions do). The encryptor or decryptor
/// still decides which bytes are hashed and when the digest is signed or
/// verified; an implementation only has to compute SHA-384 of what it is
/// given, in order.
pub trait MessageHasher: Send {
    /// Appends the next bytes of the message.
    fn update(&mut self, bytes: &[u8]);

    /// The SHA-384 of every byte appended, in order.
    ///
    /// # Errors
    /// Whatever the implementation reports when it cannot produce the digest
    /// (e.g. `KMSInternalException` if a worker thread failed); the message's
    /// encryption or decryption then fails with that error.
    fn finalize(self: Box<Self>) -> Result<[u8; SHA384_LEN]>;
}

impl MessageHasher for Sha384Stream {
    fn update(&mut self, bytes: &[u8]) {
        Sha384Stream::update(self, bytes);
    }

    fn finalize(self: Box<Self>) -> Result<[u8; SHA384_LEN]> {
        Ok(Sha384Stream::finalize(*self))
    }
}

/// The message's ephemeral signing key (PKCS#8, zeroized on drop).
pub(crate) struct Signer {
    pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// A fresh P-384 key and its `aws-crypto-public-key` value.
    pub(crate) fn generate(rng: &mut dyn CryptoRng) -> Result<(Self, String)> {
        let pkcs8 = ecdsa_generate(EcCurve::P384, rng)?;
        let point = p384_compressed_public_key(&pkcs8)?;
        Ok((Signer { pkcs8 }, B64.encode(point)))
    }

    /// DER-encoded ECDSA signature of `digest`.
    pub(crate) fn sign(
        &self,
        digest: &[u8; SHA384_LEN],
        rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>> {
        ecdsa_sign_digest(EcCurve::P384, &self.pkcs8, digest, rng)
    }
}

fn decode_point(b64: &str) -> Result<Vec<u8>> {
    B64.decode(b64)
        .map_err(|_| malformed("aws-crypto-public-key is not base64"))
}

/// Checks the `aws-crypto-public-key` value is a compressed P-384 point.
pub(crate) fn check_public_key(b64: &str) -> Result<()> {
    p384_public_key_der_from_compressed(&decode_point(b64)?)
        .map(|_| ())
        .map_err(|_| malformed("aws-crypto-public-key is not a compressed P-384 point"))
}

/// Verifies a DER signature over `digest`; `InvalidCiphertextException` on failure.
pub(crate) fn verify(b64: &str, digest: &[u8; SHA384_LEN], sig: &[u8]) -> Result<()> {
    let point = decode_point(b64)?;
    if p384_verify_digest_with_compressed_key(&point, digest, sig) {
        Ok(())
    } else {
        Err(Error::invalid_ciphertext())
    }
}
