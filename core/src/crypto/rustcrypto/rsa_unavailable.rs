//! The RSA functions of the RustCrypto backend in a build without the cargo
//! feature `rsa` (no `rsa` crate, and none of its big-number, prime-search
//! and PKCS#1 code): each has the signature of its counterpart in
//! [`super::rsa`] / [`super::rsa_wrap`] and fails with
//! `UnsupportedOperationException` ([`crate::crypto::rsa::unavailable`]);
//! the verifications answer `false`. The KMS operations refuse RSA key
//! specs before reaching them ([`crate::asym::check_spec_available`]).

/// RSA signatures and encryption (see [`crate::crypto::rsa`]).
pub mod rsa {
    pub use crate::crypto::rsa::{rsa_oaep_max_plaintext_len, OaepHash, RsaKeySize};
    use alloc::vec::Vec;
    use rand_core::CryptoRng;
    use zeroize::Zeroizing;

    use crate::crypto::digest::DigestAlgorithm;
    use crate::crypto::rsa::unavailable;
    use crate::error::Result;

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_generate<R: CryptoRng + ?Sized>(
        _size: RsaKeySize,
        _rng: &mut R,
    ) -> Result<Zeroizing<Vec<u8>>> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_private_key_size(_pkcs8: &[u8]) -> Result<RsaKeySize> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_public_key_size(_spki: &[u8]) -> Result<RsaKeySize> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_public_key_der(_pkcs8: &[u8]) -> Result<Vec<u8>> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_pss_sign_digest<R: CryptoRng + ?Sized>(
        _hash: DigestAlgorithm,
        _pkcs8: &[u8],
        _digest: &[u8],
        _rng: &mut R,
    ) -> Result<Vec<u8>> {
        Err(unavailable())
    }

    /// `false`: RSA is not in this build.
    pub fn rsa_pss_verify_digest(
        _hash: DigestAlgorithm,
        _spki: &[u8],
        _digest: &[u8],
        _signature: &[u8],
    ) -> bool {
        false
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_pkcs1v15_sign_digest<R: CryptoRng + ?Sized>(
        _hash: DigestAlgorithm,
        _pkcs8: &[u8],
        _digest: &[u8],
        _rng: &mut R,
    ) -> Result<Vec<u8>> {
        Err(unavailable())
    }

    /// `false`: RSA is not in this build.
    pub fn rsa_pkcs1v15_verify_digest(
        _hash: DigestAlgorithm,
        _spki: &[u8],
        _digest: &[u8],
        _signature: &[u8],
    ) -> bool {
        false
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_oaep_encrypt<R: CryptoRng + ?Sized>(
        _hash: OaepHash,
        _spki: &[u8],
        _plaintext: &[u8],
        _rng: &mut R,
    ) -> Result<Vec<u8>> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_oaep_decrypt<R: CryptoRng + ?Sized>(
        _hash: OaepHash,
        _pkcs8: &[u8],
        _ciphertext: &[u8],
        _rng: &mut R,
    ) -> Result<Zeroizing<Vec<u8>>> {
        Err(unavailable())
    }
}

/// RSA encryption of short secrets (see [`crate::crypto::rsa_wrap`]).
pub mod rsa_wrap {
    pub use crate::crypto::rsa_wrap::RsaWrapPadding;
    use alloc::vec::Vec;
    use rand_core::CryptoRng;
    use zeroize::Zeroizing;

    use crate::crypto::rsa::unavailable;
    use crate::error::Result;

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_wrap<R: CryptoRng + ?Sized>(
        _padding: RsaWrapPadding,
        _spki: &[u8],
        _plaintext: &[u8],
        _rng: &mut R,
    ) -> Result<Vec<u8>> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_unwrap<R: CryptoRng + ?Sized>(
        _padding: RsaWrapPadding,
        _pkcs8: &[u8],
        _ciphertext: &[u8],
        _rng: &mut R,
    ) -> Result<Zeroizing<Vec<u8>>> {
        Err(unavailable())
    }

    /// Fails: RSA is not in this build.
    ///
    /// # Errors
    /// `UnsupportedOperationException`.
    pub fn rsa_wrap_public_key(_pkcs8: &[u8]) -> Result<Vec<u8>> {
        Err(unavailable())
    }
}
