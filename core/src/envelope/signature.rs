//! The footer signature of signing suites: ECDSA P-384 over SHA-384 of the
//! header and body, public key in the encryption context as
//! `aws-crypto-public-key` (base64 of the SEC1 compressed point).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use crate::crypto::sha384::SHA384_LEN;
use crate::error::{Error, Result};

/// Encryption context key that carries the signature public key.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";

/// The message's ephemeral signing key.
pub(crate) struct Signer {
    _private: (),
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

fn unavailable() -> Error {
    Error::new(
        crate::error::ErrorKind::UnsupportedOperationException,
        "ECDSA P-384 signing suites need the asymmetric primitive seam",
    )
}

impl Signer {
    /// A fresh P-384 key and its `aws-crypto-public-key` value.
    pub(crate) fn generate(_rng: &mut dyn CryptoRng) -> Result<(Self, String)> {
        Err(unavailable())
    }

    /// DER-encoded ECDSA signature of `digest`.
    pub(crate) fn sign(&self, _digest: &[u8; SHA384_LEN]) -> Result<Vec<u8>> {
        Err(unavailable())
    }
}

/// Checks the `aws-crypto-public-key` value parses as a P-384 point.
pub(crate) fn check_public_key(_b64: &str) -> Result<()> {
    Err(unavailable())
}

/// Verifies a DER signature over `digest`; `InvalidCiphertextException` on failure.
pub(crate) fn verify(_b64: &str, _digest: &[u8; SHA384_LEN], _sig: &[u8]) -> Result<()> {
    Err(unavailable())
}
