//! ECDH on P-256, P-384 and P-521 through the RustCrypto `p256`, `p384` and
//! `p521` (feature `curve-p521`) crates
//! (`elliptic_curve::ecdh::diffie_hellman`); see [`crate::crypto::ecdh`].

pub use crate::crypto::ecdh::EcCurve;
use alloc::vec::Vec;
use zeroize::Zeroizing;

use crate::crypto::ecdh::{bad_point, peer_point, unsupported_curve};
use crate::crypto::ecdsa::bad_private_key;
use crate::error::Result;

macro_rules! curve {
    ($m:ident, $c:ident, $curve:expr) => {
        mod $m {
            use super::*;
            use $c::elliptic_curve::ecdh::diffie_hellman;
            use $c::pkcs8::DecodePrivateKey;
            use $c::{PublicKey, SecretKey};

            pub(super) fn derive(pkcs8: &[u8], point: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
                // `from_sec1_bytes` decodes the point and refuses one that is
                // not on the curve or is the identity.
                let peer = PublicKey::from_sec1_bytes(point).map_err(|_| bad_point($curve))?;
                let key = SecretKey::from_pkcs8_der(pkcs8).map_err(|_| bad_private_key())?;
                // The scalar is `Copy`: lend it, then wipe this copy.
                let mut scalar = key.to_nonzero_scalar();
                let shared = diffie_hellman(&scalar, peer.as_affine());
                zeroize::Zeroize::zeroize(&mut scalar);
                Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
            }
        }
    };
}

curve!(nist_p256, p256, EcCurve::P256);
curve!(nist_p384, p384, EcCurve::P384);
#[cfg(feature = "curve-p521")]
curve!(nist_p521, p521, EcCurve::P521);

/// The raw ECDH shared secret (the x-coordinate of the shared point,
/// [`crate::crypto::ecdh::shared_secret_len`] bytes) of the PKCS#8 private
/// key `pkcs8` on `curve` and the peer's public key `peer_spki` (DER
/// SubjectPublicKeyInfo on the same curve).
///
/// # Errors
/// `ValidationException` if `peer_spki` is not an EC public key on `curve`
/// (see [`peer_point`]) or its point is not on the curve, or `pkcs8` is not
/// a private key on `curve`; `UnsupportedOperationException` for a curve
/// without key agreement here.
#[allow(unreachable_patterns)] // a curve added to `EcCurve` needs an arm here
pub fn ecdh_derive(curve: EcCurve, pkcs8: &[u8], peer_spki: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let point = peer_point(curve, peer_spki)?;
    match curve {
        EcCurve::P256 => nist_p256::derive(pkcs8, point),
        EcCurve::P384 => nist_p384::derive(pkcs8, point),
        #[cfg(feature = "curve-p521")]
        EcCurve::P521 => nist_p521::derive(pkcs8, point),
        _ => Err(unsupported_curve(curve)),
    }
}
