//! The primitive seam: every cipher, MAC, KDF and signature that Strongroom
//! uses goes through the functions in this module. Nothing here is invented:
//! each function is a thin call into a vetted library.
//!
//! Two backends implement the seam with the same signatures and
//! byte-compatible outputs:
//!
//! - [`rustcrypto`]: the RustCrypto crates (pure Rust, `no_std`, wasm).
//!   Always compiled, so it can be named in every build (the backend
//!   compatibility tests call it next to the other one).
//! - `awslc`: AWS-LC through `aws-lc-rs` (native targets), compiled with the
//!   cargo feature `backend-aws-lc`.
//!
//! [`active`] is the backend chosen at compile time: `awslc` when the feature
//! `backend-aws-lc` is on, else `rustcrypto`. The modules [`aead`], [`kdf`],
//! [`mac`], [`digest`], [`sha384`], [`rsa`], [`rsa_wrap`], [`ecdsa`] and
//! [`ecdh`] hold
//! the shared types and re-export the active backend's functions, so callers
//! never name a backend. [`keywrap`] (AES-KW/KWP, used only for imports) is
//! RustCrypto in every build.

pub mod aead;
pub mod digest;
pub mod ecdh;
pub mod ecdsa;
pub mod kdf;
pub mod keywrap;
pub mod mac;
pub mod rsa;
pub mod rsa_wrap;
pub mod sha384;

pub mod rustcrypto;

#[cfg(feature = "backend-aws-lc")]
pub mod awslc;

/// The backend in use: `awslc` with the `backend-aws-lc` feature.
#[cfg(feature = "backend-aws-lc")]
pub use awslc as active;
/// The backend in use: `rustcrypto` (no `backend-aws-lc` feature).
#[cfg(not(feature = "backend-aws-lc"))]
pub use rustcrypto as active;

/// The name of the active backend: `"aws-lc"` or `"rustcrypto"`.
#[cfg(feature = "backend-aws-lc")]
pub const BACKEND: &str = "aws-lc";
/// The name of the active backend: `"aws-lc"` or `"rustcrypto"`.
#[cfg(not(feature = "backend-aws-lc"))]
pub const BACKEND: &str = "rustcrypto";

pub use aead::{aes256_gcm_open, aes256_gcm_seal, AES_256_KEY_LEN, GCM_NONCE_LEN, GCM_TAG_LEN};
pub use digest::DigestAlgorithm;
pub use ecdsa::EcCurve;
pub use kdf::hkdf_sha256;
pub use mac::{hmac_sha256, hmac_sha256_verify, HmacHash, HmacSha256Key, HMAC_SHA256_LEN};
pub use rsa::{OaepHash, RsaKeySize};

pub use subtle::ConstantTimeEq;
