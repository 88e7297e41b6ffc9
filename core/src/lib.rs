#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod audit;
pub mod context;
pub mod crypto;
pub mod error;
pub mod grant;
pub mod policy;

pub use context::EncryptionContext;
pub use error::{Error, ErrorKind, Result};
