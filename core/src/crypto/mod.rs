//! The primitive seam: every cipher, MAC, KDF and signature that Strongroom
//! uses goes through the functions in this module, so that one backend can be
//! swapped for another behind a cargo feature (RustCrypto today; see issue on
//! the AWS-LC backend). Nothing here is invented: each function is a thin call
//! into a vetted RustCrypto crate.

pub mod aead;
pub mod kdf;
pub mod mac;

pub use aead::{aes256_gcm_open, aes256_gcm_seal, AES_256_KEY_LEN, GCM_NONCE_LEN, GCM_TAG_LEN};
pub use digest::DigestAlgorithm;
pub use kdf::hkdf_sha256;
pub use mac::{hmac_sha256, hmac_sha256_verify, HMAC_SHA256_LEN};
pub mod digest;
pub mod ecdsa;
pub mod keywrap;
pub mod rsa;
pub mod sha384;
pub use ecdsa::EcCurve;
pub use rsa::{OaepHash, RsaKeySize};
pub mod rsa_wrap;

pub use subtle::ConstantTimeEq;
