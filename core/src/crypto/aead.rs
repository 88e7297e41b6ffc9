//! AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag: the
//! functions of the active backend ([`super::active`]).

/// Length of an AES-256 key in bytes.
pub const AES_256_KEY_LEN: usize = 32;
/// Length of a GCM nonce in bytes (96 bits, the NIST SP 800-38D recommendation).
pub const GCM_NONCE_LEN: usize = 12;
/// Length of a GCM authentication tag in bytes.
pub const GCM_TAG_LEN: usize = 16;

pub use super::active::aead::*;
