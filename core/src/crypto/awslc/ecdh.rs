//! ECDH on P-256, P-384 and P-521 through AWS-LC (`aws_lc_rs::agreement`); see
//! [`crate::crypto::ecdh`].

pub use crate::crypto::ecdh::EcCurve;
use alloc::vec::Vec;
use aws_lc_rs::agreement::{self, Algorithm, PrivateKey, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::crypto::ecdh::{bad_point, peer_point, unsupported_curve};
use crate::crypto::ecdsa::bad_private_key;
use crate::error::{Error, Result};

#[allow(unreachable_patterns)] // a curve added to `EcCurve` needs an arm here
fn algorithm(curve: EcCurve) -> Result<&'static Algorithm> {
    match curve {
        EcCurve::P256 => Ok(&agreement::ECDH_P256),
        EcCurve::P384 => Ok(&agreement::ECDH_P384),
        EcCurve::P521 => Ok(&agreement::ECDH_P521),
        _ => Err(unsupported_curve(curve)),
    }
}

/// The raw ECDH shared secret of `pkcs8` on `curve` and `peer_spki`, in
/// AWS-LC. AWS-LC validates the peer point (on the curve, not the
/// identity) before multiplying.
///
/// # Errors
/// As the RustCrypto backend's `ecdh_derive`.
pub fn ecdh_derive(curve: EcCurve, pkcs8: &[u8], peer_spki: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let alg = algorithm(curve)?;
    let point = peer_point(curve, peer_spki)?;
    let key = PrivateKey::from_private_key_der(alg, pkcs8).map_err(|_| bad_private_key())?;
    agreement::agree(
        &key,
        UnparsedPublicKey::new(alg, point),
        bad_point(curve),
        |z| -> core::result::Result<_, Error> { Ok(Zeroizing::new(z.to_vec())) },
    )
}
