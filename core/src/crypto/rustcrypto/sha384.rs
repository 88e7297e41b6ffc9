//! Incremental SHA-384 (FIPS 180-4) through the RustCrypto `sha2` crate.

pub use crate::crypto::sha384::SHA384_LEN;
use sha2::{Digest, Sha384};

/// A SHA-384 computation fed piece by piece.
#[derive(Clone, Default)]
pub struct Sha384Stream(Sha384);

impl core::fmt::Debug for Sha384Stream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sha384Stream").finish_non_exhaustive()
    }
}

impl Sha384Stream {
    /// A fresh computation.
    pub fn new() -> Self {
        Self(Sha384::new())
    }

    /// Appends `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The 48-byte digest of everything appended.
    pub fn finalize(self) -> [u8; SHA384_LEN] {
        self.0.finalize().into()
    }
}
