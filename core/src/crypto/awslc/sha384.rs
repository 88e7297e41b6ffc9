//! Incremental SHA-384 (FIPS 180-4) through AWS-LC.

pub use crate::crypto::sha384::SHA384_LEN;
use aws_lc_rs::digest::{Context, SHA384};

/// A SHA-384 computation fed piece by piece.
#[derive(Clone)]
pub struct Sha384Stream(Context);

impl Default for Sha384Stream {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Sha384Stream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sha384Stream").finish_non_exhaustive()
    }
}

impl Sha384Stream {
    /// A fresh computation.
    pub fn new() -> Self {
        Self(Context::new(&SHA384))
    }

    /// Appends `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The 48-byte digest of everything appended.
    pub fn finalize(self) -> [u8; SHA384_LEN] {
        let mut out = [0u8; SHA384_LEN];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}
