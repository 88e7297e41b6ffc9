//! The RustCrypto backend of the primitive seam: pure Rust, `no_std`, wasm.
//! Every function has the signature of its counterpart in `awslc` and is
//! documented at the seam module that re-exports it (e.g. [`super::aead`]).

pub mod aead;
pub mod digest;
pub mod ecdh;
pub mod ecdsa;
pub mod kdf;
pub mod mac;
#[cfg(feature = "rsa")]
pub mod rsa;
#[cfg(not(feature = "rsa"))]
mod rsa_unavailable;
#[cfg(not(feature = "rsa"))]
pub use rsa_unavailable::{rsa, rsa_wrap};
#[cfg(feature = "rsa")]
pub mod rsa_wrap;
pub mod sha384;
