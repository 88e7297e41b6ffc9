//! Incremental SHA-384 (FIPS 180-4), for signatures over data that arrives
//! in pieces (the AWS Encryption SDK message footer signs header and body):
//! the active backend's [`Sha384Stream`] ([`super::active`]).

/// Length of a SHA-384 digest in bytes.
pub const SHA384_LEN: usize = 48;

pub use super::active::sha384::Sha384Stream;
