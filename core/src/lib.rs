#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod context;
pub mod crypto;
pub mod error;

pub use context::EncryptionContext;
pub use error::{Error, ErrorKind, Result};
pub mod envelope;
