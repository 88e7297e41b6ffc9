//! HKDF (RFC 5869): the functions of the active backend ([`super::active`]).

pub use super::active::kdf::*;
