//! HMAC (RFC 2104, FIPS 198-1): the functions of the active backend
//! ([`super::active`]).

/// Length of an HMAC-SHA256 tag in bytes.
pub const HMAC_SHA256_LEN: usize = 32;

pub use super::active::mac::*;
