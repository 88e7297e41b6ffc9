//! The AWS-LC backend of the primitive seam, through `aws-lc-rs` (native
//! targets; cargo feature `backend-aws-lc`). Every function has the
//! signature of its counterpart in [`super::rustcrypto`] and is documented at
//! the seam module that re-exports it (e.g. [`super::aead`]).
//!
//! Randomness: AWS-LC draws its own (OS-seeded) randomness for RSA blinding,
//! PSS salts, OAEP seeds, ECDSA nonces and key generation, so the `rng`
//! arguments the seam takes (for the RustCrypto backend) are unused here.

pub mod aead;
mod cache;
pub mod digest;
pub mod ecdh;
pub mod ecdsa;
pub mod kdf;
pub mod mac;
pub mod rsa;
pub mod rsa_wrap;
pub mod sha384;
