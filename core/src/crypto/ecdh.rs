//! Elliptic-curve Diffie–Hellman (ECDH) for KMS `DeriveSharedSecret`: the
//! Elliptic Curve Cryptography Cofactor Diffie-Hellman primitive of NIST
//! SP 800-56A Rev. 3 §5.7.1.2 (the cofactor of the NIST prime curves is 1,
//! so it is plain ECDH), with the private key of a KMS key pair (PKCS#8
//! DER) and the peer's public key (DER SubjectPublicKeyInfo, RFC 5280 /
//! RFC 5480). The output is the raw shared secret Z: the x-coordinate of
//! the shared point, big-endian, as many bytes as the field (32 for P-256,
//! 48 for P-384, 66 for P-521), with no key derivation applied — what KMS returns.
//!
//! The peer key is parsed here, the same way for both backends
//! ([`peer_point`]): a DER `SubjectPublicKeyInfo` whose algorithm is
//! `id-ecPublicKey` (1.2.840.10045.2.1) with the named curve of the key
//! pair as parameters, holding an uncompressed or compressed SEC 1 point.
//! The backend then checks that the point is on the curve and not the
//! identity (SP 800-56A §5.6.2.3.3 full public-key validation for curves of
//! cofactor 1), and computes the product with the private scalar; the
//! curve arithmetic is the backend's (RustCrypto `elliptic_curve::ecdh` or
//! AWS-LC `agreement`), never Strongroom's.
//!
//! Adding a curve: one arm each in
//! [`curve_oid`], [`shared_secret_len`] and each backend's `ecdh_derive`
//! dispatch, and the key spec in `asym::key_agreement_curve`, which alone
//! decides which KMS key specs allow `KEY_AGREEMENT` (KMS: the NIST curves,
//! never `ECC_SECG_P256K1`). Until then a curve without arms is refused
//! with `UnsupportedOperationException`, so adding curves elsewhere never
//! breaks this module.

use spki::der::Decode;
use spki::ObjectIdentifier;

pub use crate::crypto::ecdsa::EcCurve;
use crate::error::{Error, Result};

/// `id-ecPublicKey` (RFC 5480 §2.1.1).
pub const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// Named curves and public-key algorithms a peer key may carry, with the
/// names the error messages use.
const KNOWN_OIDS: &[(&str, &str)] = &[
    ("1.2.840.10045.3.1.7", "NIST P-256 (secp256r1)"),
    ("1.3.132.0.34", "NIST P-384 (secp384r1)"),
    ("1.3.132.0.35", "NIST P-521 (secp521r1)"),
    ("1.3.132.0.10", "secp256k1"),
    ("1.2.156.10197.1.301", "SM2"),
    ("1.2.840.113549.1.1.1", "RSA (rsaEncryption)"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.112", "Ed25519"),
];

/// The named-curve OID of `curve` in a SubjectPublicKeyInfo (RFC 5480
/// §2.1.1.1): secp256r1 1.2.840.10045.3.1.7, secp384r1 1.3.132.0.34,
/// secp521r1 1.3.132.0.35.
///
/// # Errors
/// `UnsupportedOperationException` for a curve without key agreement here.
#[allow(unreachable_patterns)] // a curve added to `EcCurve` needs an arm here
pub fn curve_oid(curve: EcCurve) -> Result<ObjectIdentifier> {
    match curve {
        EcCurve::P256 => Ok(ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7")),
        EcCurve::P384 => Ok(ObjectIdentifier::new_unwrap("1.3.132.0.34")),
        EcCurve::P521 => Ok(ObjectIdentifier::new_unwrap("1.3.132.0.35")),
        _ => Err(unsupported_curve(curve)),
    }
}

/// The length in bytes of the shared secret on `curve` (the field size:
/// 32 for P-256, 48 for P-384, 66 for P-521).
///
/// # Errors
/// `UnsupportedOperationException` for a curve without key agreement here.
#[allow(unreachable_patterns)] // a curve added to `EcCurve` needs an arm here
pub fn shared_secret_len(curve: EcCurve) -> Result<usize> {
    match curve {
        EcCurve::P256 => Ok(32),
        EcCurve::P384 => Ok(48),
        EcCurve::P521 => Ok(66),
        _ => Err(unsupported_curve(curve)),
    }
}

pub(crate) fn unsupported_curve(curve: EcCurve) -> Error {
    Error::new(
        crate::error::ErrorKind::UnsupportedOperationException,
        alloc::format!(
            "key agreement is not supported on {}",
            curve.key_spec_name()
        ),
    )
}

fn curve_name(oid: &ObjectIdentifier) -> alloc::string::String {
    let text = alloc::format!("{oid}");
    match KNOWN_OIDS.iter().find(|(o, _)| *o == text) {
        Some((_, name)) => alloc::format!("{name}, {text}"),
        None => text,
    }
}

/// Checks that `spki` is a DER SubjectPublicKeyInfo of an EC public key on
/// `curve` and returns its SEC 1 point (uncompressed `04‖x‖y` or compressed
/// `02|03‖x`), for the backend to validate and use. Trailing bytes after
/// the DER are refused.
///
/// # Errors
/// `ValidationException` saying which rule failed: not DER SPKI, not an EC
/// key (e.g. RSA), a curve other than `curve` (named when known, e.g.
/// secp256k1), no named curve, or a point encoding that is not SEC 1
/// uncompressed/compressed of the curve's size; `UnsupportedOperationException`
/// for a curve without key agreement here.
pub fn peer_point(curve: EcCurve, spki: &[u8]) -> Result<&[u8]> {
    let expected = curve_oid(curve)?;
    let info = spki::SubjectPublicKeyInfoRef::from_der(spki).map_err(|_| {
        Error::validation("PublicKey is not a DER-encoded X.509 SubjectPublicKeyInfo (RFC 5280)")
    })?;
    if info.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(Error::validation(alloc::format!(
            "PublicKey is not an elliptic curve public key (algorithm {}); \
             it must be an id-ecPublicKey on {}",
            curve_name(&info.algorithm.oid),
            curve_name(&expected)
        )));
    }
    let named = info.algorithm.parameters_oid().map_err(|_| {
        Error::validation("PublicKey's algorithm parameters are not a named curve (RFC 5480)")
    })?;
    if named != expected {
        return Err(Error::validation(alloc::format!(
            "PublicKey is on the curve {}, not on the KMS key's curve {}",
            curve_name(&named),
            curve_name(&expected)
        )));
    }
    let field = shared_secret_len(curve)?;
    let point = info
        .subject_public_key
        .as_bytes()
        .filter(|p| match p.first() {
            Some(0x04) => p.len() == 1 + 2 * field,
            Some(0x02 | 0x03) => p.len() == 1 + field,
            _ => false,
        })
        .ok_or_else(|| bad_point(curve))?;
    Ok(point)
}

pub(crate) fn bad_point(curve: EcCurve) -> Error {
    Error::validation(alloc::format!(
        "PublicKey is not a valid point on {} (SEC 1 uncompressed or compressed, on the curve, not the identity)",
        curve_oid(curve).map_or_else(|_| curve.key_spec_name().into(), |o| curve_name(&o))
    ))
}

pub use super::active::ecdh::*;

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages name the curve by its KMS key spec, never through
    /// `Debug` (which wasm builds print as nothing).
    #[test]
    fn messages_name_the_key_spec() {
        let e = shared_secret_len(EcCurve::Secp256k1).unwrap_err();
        assert_eq!(
            e.message(),
            "key agreement is not supported on ECC_SECG_P256K1"
        );
        for c in EcCurve::ALL {
            assert!(c.key_spec_name().starts_with("ECC_"));
        }
    }
}
