#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

// The AWS-LC backend needs `std` (aws-lc-rs does); the RustCrypto one does not.
#[cfg(feature = "backend-aws-lc")]
extern crate std;

pub mod access;
pub mod api;
pub mod asym;
pub mod audit;
pub mod b64;
pub mod blob;
pub mod context;
pub mod crypto;
pub mod error;
pub mod export;
pub mod grant;
pub mod key;
pub mod memstore;
pub mod ops;
pub mod paging;
pub mod policy;
pub mod seal;
pub mod secret;
pub mod service;
pub mod sorted_map;
pub mod time;

pub use context::EncryptionContext;
pub use error::{Error, ErrorKind, Result};
pub use secret::Secret;
pub mod envelope;
