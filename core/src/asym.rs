//! The KMS operations of asymmetric and HMAC keys, and the import of key
//! material (BYOK), as pure functions of (record, request, rng, now) like
//! those in [`crate::ops`]:
//!
//! - Sign / Verify (RSASSA-PSS, RSASSA-PKCS1-v1_5, ECDSA; `RAW` messages of at
//!   most 4096 bytes are hashed once, `DIGEST` messages never),
//! - GetPublicKey (DER SubjectPublicKeyInfo),
//! - Encrypt / Decrypt with RSAES-OAEP (raw RSA output, as KMS returns it),
//! - GenerateMac / VerifyMac (HMAC-SHA-224/256/384/512, constant-time check),
//! - GenerateDataKeyPair (PKCS#8 private key, sealed as a symmetric blob),
//! - DeriveSharedSecret (ECDH with a NIST ECC `KEY_AGREEMENT` key),
//! - GetParametersForImport / ImportKeyMaterial / DeleteImportedKeyMaterial.
//!
//! Backing keys of RSA and ECC keys hold the PKCS#8 DER private key, those
//! of HMAC keys the raw HMAC key, always sealed under the root key.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use rand_core::CryptoRng;

use crate::api::*;
use crate::context::EncryptionContext;
use crate::crypto::digest::DigestAlgorithm;
use crate::crypto::{ecdh, ecdsa, keywrap, mac, rsa, EcCurve, HmacHash, OaepHash, RsaKeySize};
use crate::error::{Error, ErrorKind, Result};
use crate::key::*;
use crate::ops::{self, Env, DAY};
use crate::secret::Secret;

/// Largest `RAW` message of Sign and Verify, and message of GenerateMac (bytes).
pub const MAX_MESSAGE: usize = 4096;
/// Largest `PublicKey` of DeriveSharedSecret (bytes; KMS `PublicKeyType`).
pub const MAX_PUBLIC_KEY: usize = 8192;
/// Largest `Signature` of Verify (bytes; KMS `CiphertextType`).
pub const MAX_SIGNATURE: usize = 6144;
/// Largest `Mac` of VerifyMac (bytes; KMS `CiphertextType`).
pub const MAX_MAC: usize = 6144;
/// Largest `ImportToken` of ImportKeyMaterial (bytes; KMS `CiphertextType`).
pub const MAX_IMPORT_TOKEN: usize = 6144;
/// Largest `EncryptedKeyMaterial` of ImportKeyMaterial (bytes; KMS
/// `CiphertextType`).
pub const MAX_ENCRYPTED_KEY_MATERIAL: usize = 6144;
/// How long GetParametersForImport's public key and import token are valid (seconds).
pub const IMPORT_PARAMETERS_LIFETIME: u64 = DAY;
/// Latest `ValidTo` of imported material, from now (seconds; KMS: 365 days).
pub const MAX_VALID_TO: u64 = 365 * DAY;
/// Version byte of the import token format (`docs/FORMAT.md`).
pub const IMPORT_TOKEN_VERSION: u8 = 1;
const IMPORT_TOKEN_LABEL: &[u8] = b"strongroom/v1/import-token";
const IMPORT_TOKEN_HEADER_LEN: usize = 1 + 8 + 1;
const AES_KWP_KEK_LEN: usize = 32;

fn usage_err(m: String) -> Error {
    Error::new(ErrorKind::InvalidKeyUsageException, m)
}

/// The RSA size of an RSA key spec.
pub fn rsa_size(spec: KeySpec) -> Option<RsaKeySize> {
    match spec {
        KeySpec::Rsa2048 => Some(RsaKeySize::Rsa2048),
        KeySpec::Rsa3072 => Some(RsaKeySize::Rsa3072),
        KeySpec::Rsa4096 => Some(RsaKeySize::Rsa4096),
        _ => None,
    }
}

/// The curve of an ECC key spec.
pub fn ec_curve(spec: KeySpec) -> Option<EcCurve> {
    match spec {
        KeySpec::EccNistP256 => Some(EcCurve::P256),
        KeySpec::EccNistP384 => Some(EcCurve::P384),
        KeySpec::EccNistP521 => Some(EcCurve::P521),
        KeySpec::EccSecgP256k1 => Some(EcCurve::Secp256k1),
        _ => None,
    }
}

/// The curve of a key spec that KMS allows with `KEY_AGREEMENT`: the NIST
/// curves (`ECC_NIST_P256`, `ECC_NIST_P384`, `ECC_NIST_P521`), never
/// `ECC_SECG_P256K1`.
pub fn key_agreement_curve(spec: KeySpec) -> Option<EcCurve> {
    match spec {
        KeySpec::EccNistP256 => Some(EcCurve::P256),
        KeySpec::EccNistP384 => Some(EcCurve::P384),
        KeySpec::EccNistP521 => Some(EcCurve::P521),
        _ => None,
    }
}

/// The hash of an HMAC key spec.
pub fn hmac_hash(spec: KeySpec) -> Option<HmacHash> {
    match spec {
        KeySpec::Hmac224 => Some(HmacHash::Sha224),
        KeySpec::Hmac256 => Some(HmacHash::Sha256),
        KeySpec::Hmac384 => Some(HmacHash::Sha384),
        KeySpec::Hmac512 => Some(HmacHash::Sha512),
        _ => None,
    }
}

/// The KMS MAC algorithm of an HMAC key spec (`HMAC_224` →
/// `HMAC_SHA_224`, …), the only one such a key accepts.
pub fn mac_algorithm(spec: KeySpec) -> Option<MacAlgorithm> {
    match spec {
        KeySpec::Hmac224 => Some(MacAlgorithm::HmacSha224),
        KeySpec::Hmac256 => Some(MacAlgorithm::HmacSha256),
        KeySpec::Hmac384 => Some(MacAlgorithm::HmacSha384),
        KeySpec::Hmac512 => Some(MacAlgorithm::HmacSha512),
        _ => None,
    }
}

/// `Ok` unless `spec` is on a curve that this build lacks (P-521 or
/// secp256k1 with the RustCrypto backend and the cargo feature
/// `curve-p521` / `curve-secp256k1` off; see
/// [`EcCurve::is_available`](crate::crypto::EcCurve::is_available)) or is
/// an RSA spec in a build without RSA (the RustCrypto backend and the cargo
/// feature `rsa` off; [`crate::crypto::rsa::is_available`]).
///
/// # Errors
/// `UnsupportedOperationException` naming the key spec and the feature.
pub fn check_spec_available(spec: KeySpec) -> Result<()> {
    match ec_curve(spec) {
        Some(c) if !c.is_available() => Err(ecdsa::unavailable(c)),
        None if rsa_size(spec).is_some() && !rsa::is_available() => Err(rsa::unavailable()),
        _ => Ok(()),
    }
}

/// True for RSA and ECC key specs (the ones with a public key).
pub fn is_asymmetric(spec: KeySpec) -> bool {
    rsa_size(spec).is_some() || ec_curve(spec).is_some()
}

/// Fresh private key material for an RSA or ECC spec: PKCS#8 DER.
///
/// # Errors
/// `UnsupportedOperationException` for other specs; `KMSInternalException`
/// if generation fails.
pub fn generate_private_key<R: CryptoRng + ?Sized>(
    mut rng: &mut R,
    spec: KeySpec,
) -> Result<Secret> {
    // One body for every RNG type, as `sign`.
    generate_private_key_dyn(&mut rng, spec)
}

fn generate_private_key_dyn(rng: &mut dyn CryptoRng, spec: KeySpec) -> Result<Secret> {
    if let Some(size) = rsa_size(spec) {
        let der = rsa::rsa_generate(size, rng)?;
        return Ok(Secret::from_slice(&der));
    }
    if let Some(curve) = ec_curve(spec) {
        let der = ecdsa::ecdsa_generate(curve, rng)?;
        return Ok(Secret::from_slice(&der));
    }
    Err(Error::new(
        ErrorKind::UnsupportedOperationException,
        format!("KeySpec {spec} has no key pair"),
    ))
}

/// The DER SubjectPublicKeyInfo of the PKCS#8 private key of an RSA or ECC spec.
///
/// # Errors
/// `UnsupportedOperationException` for other specs; `ValidationException`
/// if the material is not a key of that spec.
pub fn public_key_der(spec: KeySpec, pkcs8: &[u8]) -> Result<Vec<u8>> {
    if rsa_size(spec).is_some() {
        return rsa::rsa_public_key_der(pkcs8);
    }
    if let Some(curve) = ec_curve(spec) {
        return ecdsa::ecdsa_public_key_der(curve, pkcs8);
    }
    Err(Error::new(
        ErrorKind::UnsupportedOperationException,
        format!("KeySpec {spec} has no public key"),
    ))
}

/// Checks that `material` is acceptable key material for `spec`:
/// 32 bytes for `SYMMETRIC_DEFAULT`; 28–64 / 32–64 / 48–128 / 64–128 bytes
/// for `HMAC_224` / `HMAC_256` / `HMAC_384` / `HMAC_512` (the KMS import
/// ranges); a PKCS#8 private key of exactly that size or curve for RSA and
/// ECC specs.
///
/// # Errors
/// `ValidationException` naming the rule, never the material.
pub fn check_material(spec: KeySpec, material: &[u8]) -> Result<()> {
    let len = material.len();
    let ok = match spec {
        KeySpec::SymmetricDefault => len == 32,
        KeySpec::Hmac224 => (28..=64).contains(&len),
        KeySpec::Hmac256 => (32..=64).contains(&len),
        KeySpec::Hmac384 => (48..=128).contains(&len),
        KeySpec::Hmac512 => (64..=128).contains(&len),
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            rsa::rsa_private_key_size(material).ok() == rsa_size(spec)
        }
        KeySpec::EccNistP256
        | KeySpec::EccNistP384
        | KeySpec::EccNistP521
        | KeySpec::EccSecgP256k1 => ecdsa::ecdsa_private_key_curve(material).ok() == ec_curve(spec),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "the key material is not valid for KeySpec {spec} \
             (SYMMETRIC_DEFAULT: 32 bytes; HMAC: the spec's byte range; RSA/ECC: PKCS#8 DER of that size or curve)"
        )))
    }
}

fn material(env: &Env<'_>, rec: &KeyRecord) -> Result<Secret> {
    let b = rec.current_backing_key().ok_or_else(|| {
        Error::new(
            ErrorKind::KMSInvalidStateException,
            format!("{} has no key material", rec.arn),
        )
    })?;
    env.root.unseal_material(&rec.key_id, b.version, &b.sealed)
}

fn require_usage(rec: &KeyRecord, usage: KeyUsage) -> Result<()> {
    if rec.key_usage != usage {
        return Err(usage_err(format!(
            "{} has KeyUsage {}, not {usage}",
            rec.arn, rec.key_usage
        )));
    }
    Ok(())
}

fn check_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > ops::MAX_GRANT_TOKENS {
        return Err(Error::validation("at most 10 grant tokens may be given"));
    }
    Ok(())
}

// ---- Sign / Verify -----------------------------------------------------------

#[derive(Clone, Copy)]
enum Scheme {
    Pss,
    Pkcs1,
    Ecdsa(EcCurve),
}

/// The scheme and hash of `alg` on a key of `spec`.
fn scheme(spec: KeySpec, alg: SigningAlgorithm) -> Result<(Scheme, DigestAlgorithm)> {
    use SigningAlgorithm as S;
    let fit = match (alg, rsa_size(spec).is_some(), ec_curve(spec)) {
        (S::RsassaPssSha256, true, _) => Some((Scheme::Pss, DigestAlgorithm::Sha256)),
        (S::RsassaPssSha384, true, _) => Some((Scheme::Pss, DigestAlgorithm::Sha384)),
        (S::RsassaPssSha512, true, _) => Some((Scheme::Pss, DigestAlgorithm::Sha512)),
        (S::RsassaPkcs1V15Sha256, true, _) => Some((Scheme::Pkcs1, DigestAlgorithm::Sha256)),
        (S::RsassaPkcs1V15Sha384, true, _) => Some((Scheme::Pkcs1, DigestAlgorithm::Sha384)),
        (S::RsassaPkcs1V15Sha512, true, _) => Some((Scheme::Pkcs1, DigestAlgorithm::Sha512)),
        (S::EcdsaSha256, _, Some(c @ (EcCurve::P256 | EcCurve::Secp256k1)))
        | (S::EcdsaSha384, _, Some(c @ EcCurve::P384))
        | (S::EcdsaSha512, _, Some(c @ EcCurve::P521)) => Some((Scheme::Ecdsa(c), c.digest())),
        _ => None,
    };
    fit.ok_or_else(|| {
        usage_err(format!(
            "SigningAlgorithm {alg} is not valid for KeySpec {spec}"
        ))
    })
}

/// The digest to sign or verify: `RAW` (1–4096 bytes) hashed once with
/// `hash`, `DIGEST` (exactly `hash.output_len()` bytes) as given.
fn message_digest(
    hash: DigestAlgorithm,
    message: &[u8],
    message_type: Option<MessageType>,
) -> Result<Vec<u8>> {
    match message_type.unwrap_or(MessageType::Raw) {
        MessageType::Raw => {
            if message.is_empty() || message.len() > MAX_MESSAGE {
                return Err(Error::validation(
                    "Message must be 1 to 4096 bytes for MessageType RAW; use DIGEST for longer messages",
                ));
            }
            Ok(hash.digest(message))
        }
        MessageType::Digest => {
            if message.len() != hash.output_len() {
                return Err(Error::validation(format!(
                    "a DIGEST message for this signing algorithm must be {} bytes",
                    hash.output_len()
                )));
            }
            Ok(message.to_vec())
        }
    }
}

fn signing_prelude(
    rec: &KeyRecord,
    alg: Option<SigningAlgorithm>,
    message: &[u8],
    message_type: Option<MessageType>,
    grant_tokens: &[String],
) -> Result<(SigningAlgorithm, Scheme, DigestAlgorithm, Vec<u8>)> {
    check_grant_tokens(grant_tokens)?;
    let alg = alg.ok_or_else(|| Error::validation("SigningAlgorithm is required"))?;
    require_usage(rec, KeyUsage::SignVerify)?;
    let (scheme, hash) = scheme(rec.key_spec, alg)?;
    check_spec_available(rec.key_spec)?;
    let digest = message_digest(hash, message, message_type)?;
    rec.check_usable()?;
    Ok((alg, scheme, hash, digest))
}

/// Sign.
///
/// # Errors
/// `ValidationException` (no algorithm, RAW message empty or over 4096
/// bytes, DIGEST of the wrong length, over 10 grant tokens),
/// `InvalidKeyUsageException` (key not SIGN_VERIFY, algorithm not for the
/// key spec), `DisabledException`, `KMSInvalidStateException`.
pub fn sign<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    mut rng: &mut R,
    rec: &KeyRecord,
    req: &SignRequest,
) -> Result<SignResponse> {
    // The body is not generic: a caller's RNG type (`dyn CryptoRng` in the
    // wasm package) would otherwise get its own copy of it, and of the
    // `rsa`/ECDSA code under it, compiled in the caller's crate next to
    // the one the envelope keyrings use (one copy of
    // `rsa_decrypt_and_check` in each; benches/RESULTS.md, issue 8).
    sign_dyn(env, &mut rng, rec, req)
}

fn sign_dyn(
    env: &Env<'_>,
    rng: &mut dyn CryptoRng,
    rec: &KeyRecord,
    req: &SignRequest,
) -> Result<SignResponse> {
    let (alg, scheme, hash, digest) = signing_prelude(
        rec,
        req.signing_algorithm,
        req.message.expose_secret(),
        req.message_type,
        &req.grant_tokens,
    )?;
    let key = material(env, rec)?;
    let pkcs8 = key.expose_secret();
    let signature = match scheme {
        Scheme::Pss => rsa::rsa_pss_sign_digest(hash, pkcs8, &digest, rng)?,
        Scheme::Pkcs1 => rsa::rsa_pkcs1v15_sign_digest(hash, pkcs8, &digest, rng)?,
        Scheme::Ecdsa(curve) => ecdsa::ecdsa_sign_digest(curve, pkcs8, &digest, rng)?,
    };
    Ok(SignResponse {
        key_id: rec.arn.clone(),
        signature,
        signing_algorithm: alg,
    })
}

/// The DER SubjectPublicKeyInfo of an RSA or ECC key record's current key
/// material (unsealed to derive it).
///
/// # Errors
/// `KMSInvalidStateException` (no key material),
/// `UnsupportedOperationException` (not an RSA or ECC key spec),
/// `KMSInternalException` (the sealed material does not open).
pub fn record_public_key(env: &Env<'_>, rec: &KeyRecord) -> Result<Vec<u8>> {
    let key = material(env, rec)?;
    public_key_der(rec.key_spec, key.expose_secret())
}

/// Verify. A signature that does not verify is `KMSInvalidSignatureException`.
///
/// # Errors
/// As [`sign`], plus `KMSInvalidSignatureException`.
pub fn verify(env: &Env<'_>, rec: &KeyRecord, req: &VerifyRequest) -> Result<VerifyResponse> {
    verify_with(rec, req, || record_public_key(env, rec))
}

/// As [`verify`], with the key's public key (DER SubjectPublicKeyInfo, as
/// [`record_public_key`] returns it) from `public_key`, called once the
/// request passed its checks: a caller that keeps the public key of a
/// record skips unsealing the private key on every call.
///
/// # Errors
/// As [`verify`], and `public_key`'s error.
pub fn verify_with<P: AsRef<[u8]>>(
    rec: &KeyRecord,
    req: &VerifyRequest,
    public_key: impl FnOnce() -> Result<P>,
) -> Result<VerifyResponse> {
    let (alg, scheme, hash, digest) = signing_prelude(
        rec,
        req.signing_algorithm,
        req.message.expose_secret(),
        req.message_type,
        &req.grant_tokens,
    )?;
    let spki = public_key()?;
    let spki = spki.as_ref();
    let valid = match scheme {
        Scheme::Pss => rsa::rsa_pss_verify_digest(hash, spki, &digest, &req.signature),
        Scheme::Pkcs1 => rsa::rsa_pkcs1v15_verify_digest(hash, spki, &digest, &req.signature),
        Scheme::Ecdsa(curve) => ecdsa::ecdsa_verify_digest(curve, spki, &digest, &req.signature),
    };
    if !valid {
        return Err(Error::new(
            ErrorKind::KMSInvalidSignatureException,
            "the signature is not valid",
        ));
    }
    Ok(VerifyResponse {
        key_id: rec.arn.clone(),
        signature_valid: true,
        signing_algorithm: alg,
    })
}

// ---- GetPublicKey ------------------------------------------------------------

/// GetPublicKey: the DER SubjectPublicKeyInfo of an RSA or ECC key with its
/// spec, usage and algorithms (as in [`ops::describe`]).
///
/// # Errors
/// `UnsupportedOperationException` for symmetric and HMAC keys,
/// `DisabledException`, `KMSInvalidStateException`.
pub fn get_public_key(env: &Env<'_>, rec: &KeyRecord) -> Result<GetPublicKeyResponse> {
    if !is_asymmetric(rec.key_spec) {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            format!("{} is not an asymmetric key", rec.arn),
        ));
    }
    rec.check_usable()?;
    let key = material(env, rec)?;
    let public_key = public_key_der(rec.key_spec, key.expose_secret())?;
    let meta = ops::describe(rec);
    Ok(GetPublicKeyResponse {
        key_id: rec.arn.clone(),
        public_key,
        customer_master_key_spec: rec.key_spec,
        key_spec: rec.key_spec,
        key_usage: rec.key_usage,
        encryption_algorithms: meta.encryption_algorithms,
        signing_algorithms: meta.signing_algorithms,
        key_agreement_algorithms: meta.key_agreement_algorithms,
    })
}

// ---- DeriveSharedSecret ------------------------------------------------------

/// DeriveSharedSecret: ECDH (NIST SP 800-56A Rev. 3 §5.7.1.2) of the
/// private key of a NIST ECC `KEY_AGREEMENT` key and the peer's public key
/// (`PublicKey`, DER SubjectPublicKeyInfo on the same curve). The response
/// holds the raw shared secret (the x-coordinate of the shared point, 32
/// bytes on P-256, 48 on P-384, 66 on P-521) as a [`Secret`], the key ARN, the algorithm
/// and the key's origin. `Recipient` (a Nitro Enclaves attestation
/// document) is not supported.
///
/// # Errors
/// `ValidationException` (no `KeyAgreementAlgorithm`, `PublicKey` empty or
/// over 8192 bytes, not a DER SubjectPublicKeyInfo, not an EC key, on
/// another curve, or not a valid point; over 10 grant tokens),
/// `UnsupportedOperationException` (`Recipient` given),
/// `InvalidKeyUsageException` (key not `KEY_AGREEMENT`),
/// `DisabledException`, `KMSInvalidStateException`.
pub fn derive_shared_secret(
    env: &Env<'_>,
    rec: &KeyRecord,
    req: &DeriveSharedSecretRequest,
) -> Result<DeriveSharedSecretResponse> {
    check_grant_tokens(&req.grant_tokens)?;
    let alg = req
        .key_agreement_algorithm
        .ok_or_else(|| Error::validation("KeyAgreementAlgorithm is required"))?;
    if req.public_key.is_empty() || req.public_key.len() > MAX_PUBLIC_KEY {
        return Err(Error::validation("PublicKey must be 1 to 8192 bytes"));
    }
    if req.recipient.is_some() {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            "Recipient (a Nitro Enclaves attestation document) is not supported: \
             Strongroom has no attested environments",
        ));
    }
    require_usage(rec, KeyUsage::KeyAgreement)?;
    let curve = key_agreement_curve(rec.key_spec).ok_or_else(|| {
        usage_err(format!(
            "KeyAgreementAlgorithm {alg} is not valid for KeySpec {}",
            rec.key_spec
        ))
    })?;
    match alg {
        KeyAgreementAlgorithm::Ecdh => {}
    }
    ecdh::peer_point(curve, &req.public_key)?;
    rec.check_usable()?;
    let key = material(env, rec)?;
    let z = ecdh::ecdh_derive(curve, key.expose_secret(), &req.public_key)?;
    Ok(DeriveSharedSecretResponse {
        key_id: rec.arn.clone(),
        shared_secret: Secret::from_slice(&z),
        key_agreement_algorithm: alg,
        key_origin: rec.origin,
    })
}

// ---- RSAES-OAEP Encrypt / Decrypt --------------------------------------------

fn oaep_params(
    rec: &KeyRecord,
    alg: Option<EncryptionAlgorithm>,
) -> Result<(RsaKeySize, OaepHash)> {
    require_usage(rec, KeyUsage::EncryptDecrypt)?;
    let size = rsa_size(rec.key_spec)
        .ok_or_else(|| usage_err(format!("{} is not an RSA key", rec.arn)))?;
    let hash = match alg {
        None => {
            return Err(Error::validation(
                "EncryptionAlgorithm is required for asymmetric keys (RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256)",
            ))
        }
        Some(EncryptionAlgorithm::RsaesOaepSha1) => OaepHash::Sha1,
        Some(EncryptionAlgorithm::RsaesOaepSha256) => OaepHash::Sha256,
        Some(other) => {
            return Err(usage_err(format!(
                "EncryptionAlgorithm {other} is not valid for KeySpec {}",
                rec.key_spec
            )))
        }
    };
    Ok((size, hash))
}

fn no_context(context: &EncryptionContext) -> Result<()> {
    if context.0.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(
            "asymmetric keys do not accept an encryption context",
        ))
    }
}

/// Encrypts with RSAES-OAEP under an RSA `ENCRYPT_DECRYPT` key; the
/// ciphertext is the raw RSA output (as long as the modulus), as KMS returns
/// it. Plaintext: 1 to `k − 2·hLen − 2` bytes (RSA_2048: 214 with SHA-1,
/// 190 with SHA-256; RSA_3072: 342 / 318; RSA_4096: 470 / 446).
///
/// # Errors
/// `ValidationException` (no algorithm, an encryption context, plaintext
/// length), `InvalidKeyUsageException`, `DisabledException`,
/// `KMSInvalidStateException`.
pub fn encrypt_oaep<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    mut rng: &mut R,
    rec: &KeyRecord,
    plaintext: &[u8],
    context: &EncryptionContext,
    alg: Option<EncryptionAlgorithm>,
) -> Result<Vec<u8>> {
    // One body for every RNG type, as `sign`.
    encrypt_oaep_dyn(env, &mut rng, rec, plaintext, context, alg)
}

fn encrypt_oaep_dyn(
    env: &Env<'_>,
    rng: &mut dyn CryptoRng,
    rec: &KeyRecord,
    plaintext: &[u8],
    context: &EncryptionContext,
    alg: Option<EncryptionAlgorithm>,
) -> Result<Vec<u8>> {
    let (size, hash) = oaep_params(rec, alg)?;
    no_context(context)?;
    let max = rsa::rsa_oaep_max_plaintext_len(size, hash);
    if plaintext.is_empty() || plaintext.len() > max {
        return Err(Error::validation(format!(
            "Plaintext must be 1 to {max} bytes for {} with {}",
            rec.key_spec,
            alg.map(|a| a.as_str()).unwrap_or_default()
        )));
    }
    rec.check_usable()?;
    let key = material(env, rec)?;
    let spki = rsa::rsa_public_key_der(key.expose_secret())?;
    rsa::rsa_oaep_encrypt(hash, &spki, plaintext, rng)
}

/// Encrypt with an RSA key: [`encrypt_oaep`] in the KMS response shape.
///
/// # Errors
/// As [`encrypt_oaep`].
pub fn encrypt<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &KeyRecord,
    req: &EncryptRequest,
) -> Result<EncryptResponse> {
    check_grant_tokens(&req.grant_tokens)?;
    let blob = encrypt_oaep(
        env,
        rng,
        rec,
        req.plaintext.expose_secret(),
        &req.encryption_context,
        req.encryption_algorithm,
    )?;
    Ok(EncryptResponse {
        ciphertext_blob: blob,
        key_id: rec.arn.clone(),
        encryption_algorithm: req
            .encryption_algorithm
            .unwrap_or(EncryptionAlgorithm::RsaesOaepSha256),
    })
}

/// Decrypt with an RSA key (the request's `KeyId` named it): RSAES-OAEP.
///
/// # Errors
/// `ValidationException` (no algorithm, an encryption context),
/// `InvalidKeyUsageException`, `DisabledException`,
/// `KMSInvalidStateException`; every decryption failure is the one
/// detail-free `InvalidCiphertextException`.
pub fn decrypt<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    mut rng: &mut R,
    rec: &KeyRecord,
    req: &DecryptRequest,
) -> Result<DecryptResponse> {
    // One body for every RNG type, as `sign`.
    decrypt_dyn(env, &mut rng, rec, req)
}

fn decrypt_dyn(
    env: &Env<'_>,
    rng: &mut dyn CryptoRng,
    rec: &KeyRecord,
    req: &DecryptRequest,
) -> Result<DecryptResponse> {
    check_grant_tokens(&req.grant_tokens)?;
    let (_, hash) = oaep_params(rec, req.encryption_algorithm)?;
    no_context(&req.encryption_context)?;
    rec.check_usable()?;
    let key = material(env, rec)?;
    let plaintext = rsa::rsa_oaep_decrypt(hash, key.expose_secret(), &req.ciphertext_blob, rng)?;
    Ok(DecryptResponse {
        key_id: rec.arn.clone(),
        plaintext: Secret::from_slice(&plaintext),
        encryption_algorithm: req
            .encryption_algorithm
            .unwrap_or(EncryptionAlgorithm::RsaesOaepSha256),
    })
}

// ---- GenerateMac / VerifyMac -------------------------------------------------

fn mac_prelude(
    rec: &KeyRecord,
    alg: Option<MacAlgorithm>,
    message: &[u8],
    grant_tokens: &[String],
) -> Result<(MacAlgorithm, HmacHash)> {
    check_grant_tokens(grant_tokens)?;
    let alg = alg.ok_or_else(|| Error::validation("MacAlgorithm is required"))?;
    if message.is_empty() || message.len() > MAX_MESSAGE {
        return Err(Error::validation("Message must be 1 to 4096 bytes"));
    }
    require_usage(rec, KeyUsage::GenerateVerifyMac)?;
    let hash = match (mac_algorithm(rec.key_spec), hmac_hash(rec.key_spec)) {
        (Some(a), Some(hash)) if a == alg => hash,
        _ => {
            return Err(usage_err(format!(
                "MacAlgorithm {alg} is not valid for KeySpec {}",
                rec.key_spec
            )))
        }
    };
    rec.check_usable()?;
    Ok((alg, hash))
}

/// GenerateMac: HMAC (RFC 2104) of a 1–4096-byte message.
///
/// # Errors
/// `ValidationException` (no algorithm, message length),
/// `InvalidKeyUsageException` (key not GENERATE_VERIFY_MAC, algorithm not
/// the key spec's), `DisabledException`, `KMSInvalidStateException`.
pub fn generate_mac(
    env: &Env<'_>,
    rec: &KeyRecord,
    req: &GenerateMacRequest,
) -> Result<GenerateMacResponse> {
    let (alg, hash) = mac_prelude(
        rec,
        req.mac_algorithm,
        req.message.expose_secret(),
        &req.grant_tokens,
    )?;
    let key = material(env, rec)?;
    let tag = mac::hmac(hash, key.expose_secret(), &[req.message.expose_secret()])?;
    Ok(GenerateMacResponse {
        mac: tag,
        mac_algorithm: alg,
        key_id: rec.arn.clone(),
    })
}

/// VerifyMac: recomputes the HMAC and compares in constant time; a
/// mismatch (including a tag of another length) is `KMSInvalidMacException`.
///
/// # Errors
/// As [`generate_mac`], plus `KMSInvalidMacException`.
pub fn verify_mac(
    env: &Env<'_>,
    rec: &KeyRecord,
    req: &VerifyMacRequest,
) -> Result<VerifyMacResponse> {
    let (alg, hash) = mac_prelude(
        rec,
        req.mac_algorithm,
        req.message.expose_secret(),
        &req.grant_tokens,
    )?;
    let key = material(env, rec)?;
    if !mac::hmac_verify(
        hash,
        key.expose_secret(),
        &[req.message.expose_secret()],
        &req.mac,
    ) {
        return Err(Error::new(
            ErrorKind::KMSInvalidMacException,
            "the MAC is not valid",
        ));
    }
    Ok(VerifyMacResponse {
        key_id: rec.arn.clone(),
        mac_valid: true,
        mac_algorithm: alg,
    })
}

// ---- GenerateDataKeyPair -----------------------------------------------------

/// GenerateDataKeyPair: a fresh key pair; the private key (PKCS#8 DER) is
/// returned in plaintext and as a symmetric ciphertext blob under `rec`
/// (a symmetric encryption key) with the request's encryption context.
///
/// # Errors
/// `ValidationException` (no KeyPairSpec, over 10 grant tokens), and those
/// of [`ops::encrypt_symmetric`] for `rec`.
pub fn generate_data_key_pair<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &KeyRecord,
    req: &GenerateDataKeyPairRequest,
) -> Result<GenerateDataKeyPairResponse> {
    check_grant_tokens(&req.grant_tokens)?;
    let spec = req
        .key_pair_spec
        .ok_or_else(|| Error::validation("KeyPairSpec is required"))?;
    if rec.key_spec != KeySpec::SymmetricDefault || rec.key_usage != KeyUsage::EncryptDecrypt {
        return Err(usage_err(format!(
            "{} is not a symmetric encryption key",
            rec.arn
        )));
    }
    rec.check_usable()?;
    let private = generate_private_key(rng, spec.key_spec())?;
    let public_key = public_key_der(spec.key_spec(), private.expose_secret())?;
    let blob = ops::encrypt_symmetric(
        env,
        rng,
        rec,
        private.expose_secret(),
        &req.encryption_context,
        None,
    )?;
    Ok(GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: blob,
        private_key_plaintext: private,
        public_key,
        key_id: rec.arn.clone(),
        key_pair_spec: spec,
    })
}

// ---- Import ------------------------------------------------------------------

fn wrapping_hash(alg: WrappingAlgorithm) -> OaepHash {
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => OaepHash::Sha1,
        _ => OaepHash::Sha256,
    }
}

fn wrapping_alg_code(alg: WrappingAlgorithm) -> u8 {
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 => 1,
        WrappingAlgorithm::RsaesOaepSha256 => 2,
        WrappingAlgorithm::RsaAesKeyWrapSha1 => 3,
        _ => 4,
    }
}

fn wrapping_alg_from_code(code: u8) -> Option<WrappingAlgorithm> {
    match code {
        1 => Some(WrappingAlgorithm::RsaesOaepSha1),
        2 => Some(WrappingAlgorithm::RsaesOaepSha256),
        3 => Some(WrappingAlgorithm::RsaAesKeyWrapSha1),
        4 => Some(WrappingAlgorithm::RsaAesKeyWrapSha256),
        _ => None,
    }
}

fn require_external(rec: &KeyRecord) -> Result<()> {
    if rec.origin != Origin::External {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            format!("{} does not have Origin EXTERNAL", rec.arn),
        ));
    }
    if rec.state == KeyState::PendingDeletion {
        return Err(Error::new(
            ErrorKind::KMSInvalidStateException,
            format!("{} is pending deletion", rec.arn),
        ));
    }
    Ok(())
}

/// GetParametersForImport: a fresh RSA wrapping key pair of
/// `WrappingKeySpec` and an import token, both valid for 24 hours.
///
/// The wrapping private key is never stored in the key record: it travels
/// inside the import token, sealed under the root key with the key ID, the
/// wrapping algorithm and the expiry as AAD (`docs/FORMAT.md`, "Import token").
///
/// # Errors
/// `ValidationException` (missing algorithm or spec),
/// `UnsupportedOperationException` (origin not EXTERNAL),
/// `KMSInvalidStateException` (pending deletion), `KMSInternalException`.
pub fn get_parameters_for_import<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &KeyRecord,
    req: &GetParametersForImportRequest,
) -> Result<GetParametersForImportResponse> {
    let alg = req
        .wrapping_algorithm
        .ok_or_else(|| Error::validation("WrappingAlgorithm is required"))?;
    let spec = req
        .wrapping_key_spec
        .ok_or_else(|| Error::validation("WrappingKeySpec is required"))?;
    require_external(rec)?;
    let size = match spec {
        WrappingKeySpec::Rsa2048 => RsaKeySize::Rsa2048,
        WrappingKeySpec::Rsa3072 => RsaKeySize::Rsa3072,
        _ => RsaKeySize::Rsa4096,
    };
    let private = rsa::rsa_generate(size, rng)?;
    let public_key = rsa::rsa_public_key_der(&private)?;
    let valid_to = env.now.saturating_add(IMPORT_PARAMETERS_LIFETIME);
    let mut header = Vec::with_capacity(IMPORT_TOKEN_HEADER_LEN);
    header.push(IMPORT_TOKEN_VERSION);
    header.extend_from_slice(&valid_to.to_be_bytes());
    header.push(wrapping_alg_code(alg));
    let sealed = env.root.seal_labeled(
        rng,
        IMPORT_TOKEN_LABEL,
        &token_aad(&rec.key_id, &header),
        &private,
    )?;
    let mut import_token = header;
    import_token.extend_from_slice(&sealed);
    Ok(GetParametersForImportResponse {
        key_id: rec.arn.clone(),
        import_token,
        public_key,
        parameters_valid_to: valid_to,
    })
}

fn token_aad(key_id: &str, header: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + key_id.len() + header.len());
    // Key IDs are 36-character UUIDs; the length byte keeps the fields apart.
    aad.push(u8::try_from(key_id.len()).unwrap_or(u8::MAX));
    aad.extend_from_slice(key_id.as_bytes());
    aad.extend_from_slice(header);
    aad
}

fn invalid_token() -> Error {
    Error::new(
        ErrorKind::InvalidImportTokenException,
        "the import token is not valid for this key",
    )
}

/// Opens an import token for `key_id`: the wrapping algorithm and the
/// wrapping private key (PKCS#8).
fn open_token(env: &Env<'_>, key_id: &str, token: &[u8]) -> Result<(WrappingAlgorithm, Secret)> {
    if token.len() <= IMPORT_TOKEN_HEADER_LEN || token[0] != IMPORT_TOKEN_VERSION {
        return Err(invalid_token());
    }
    let (header, sealed) = token.split_at(IMPORT_TOKEN_HEADER_LEN);
    let alg = wrapping_alg_from_code(header[9]).ok_or_else(invalid_token)?;
    let private = env
        .root
        .open_labeled(IMPORT_TOKEN_LABEL, &token_aad(key_id, header), sealed)
        .ok_or_else(invalid_token)?;
    let mut valid_to = [0u8; 8];
    valid_to.copy_from_slice(&header[1..9]);
    if env.now >= u64::from_be_bytes(valid_to) {
        return Err(Error::new(
            ErrorKind::ExpiredImportTokenException,
            "the import token has expired; call GetParametersForImport again",
        ));
    }
    Ok((alg, private))
}

/// Unwraps `EncryptedKeyMaterial` with the wrapping private key.
fn unwrap_material<R: CryptoRng + ?Sized>(
    alg: WrappingAlgorithm,
    wrapping_pkcs8: &[u8],
    wrapped: &[u8],
    rng: &mut R,
) -> Result<Secret> {
    let hash = wrapping_hash(alg);
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaesOaepSha256 => {
            let m = rsa::rsa_oaep_decrypt(hash, wrapping_pkcs8, wrapped, rng)?;
            Ok(Secret::from_slice(&m))
        }
        _ => {
            let k = rsa::rsa_private_key_size(wrapping_pkcs8)?.bytes();
            if wrapped.len() <= k {
                return Err(Error::invalid_ciphertext());
            }
            let (rsa_part, kwp_part) = wrapped.split_at(k);
            let kek = rsa::rsa_oaep_decrypt(hash, wrapping_pkcs8, rsa_part, rng)?;
            if kek.len() != AES_KWP_KEK_LEN {
                return Err(Error::invalid_ciphertext());
            }
            let m = keywrap::aes_key_unwrap_with_padding(&kek, kwp_part)?;
            Ok(Secret::from_slice(&m))
        }
    }
}

fn commitment(env: &Env<'_>, key_id: &str, material: &Secret) -> Result<String> {
    let tag = env.root.mac_record(
        b"import-material",
        key_id.as_bytes(),
        material.expose_secret(),
    )?;
    Ok(crate::b64::encode(&tag))
}

/// ImportKeyMaterial: unwraps the material with the token's wrapping key,
/// checks it against the key spec ([`check_material`]) and, if material
/// was imported before, that it is the same; seals it as backing key 1 and
/// enables the key. A key that has material keeps its state and only takes
/// the new expiration.
///
/// `ExpirationModel` defaults to `KEY_MATERIAL_EXPIRES` when `ValidTo` is
/// given and `KEY_MATERIAL_DOES_NOT_EXPIRE` otherwise; `ValidTo` (Unix
/// seconds) must be in the future and at most 365 days away. AWS KMS
/// documents `KEY_MATERIAL_EXPIRES` as the default in both cases (so by
/// that documentation a request with neither fails); Strongroom imports material that does
/// not expire then, so that leaving `ValidTo` out means what the C API's
/// `valid_to = 0` means.
///
/// # Errors
/// `ValidationException` (expiration parameters, material not valid for
/// the spec), `UnsupportedOperationException` (origin not EXTERNAL),
/// `KMSInvalidStateException` (pending deletion), `InvalidImportTokenException`,
/// `ExpiredImportTokenException`, `InvalidCiphertextException` (the
/// material does not unwrap), `IncorrectKeyMaterialException` (not the
/// material imported before, or `ImportType` `EXISTING_KEY_MATERIAL` for
/// a key that never had any), `UnsupportedOperationException` (also
/// `ImportType` `NEW_KEY_MATERIAL` once material was imported: one key
/// material per key).
pub fn import_key_material<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &mut KeyRecord,
    req: &ImportKeyMaterialRequest,
) -> Result<()> {
    require_external(rec)?;
    match (req.import_type, &rec.import_commitment) {
        (Some(ImportType::NewKeyMaterial), Some(_)) => {
            return Err(Error::new(
                ErrorKind::UnsupportedOperationException,
                "ImportType NEW_KEY_MATERIAL is not supported after the first import: \
                 a Strongroom key has one key material; re-import it with EXISTING_KEY_MATERIAL",
            ))
        }
        (Some(ImportType::ExistingKeyMaterial), None) => {
            return Err(Error::new(
                ErrorKind::IncorrectKeyMaterialException,
                "ImportType EXISTING_KEY_MATERIAL: no key material was ever imported into this key",
            ))
        }
        _ => {}
    }
    let valid_to = match (req.expiration_model, req.valid_to) {
        (Some(ExpirationModel::KeyMaterialDoesNotExpire), Some(_)) => {
            return Err(Error::validation(
                "ValidTo must not be given with KEY_MATERIAL_DOES_NOT_EXPIRE",
            ))
        }
        (Some(ExpirationModel::KeyMaterialExpires), None) => {
            return Err(Error::validation(
                "ValidTo is required with KEY_MATERIAL_EXPIRES",
            ))
        }
        (_, Some(t)) => {
            if t <= env.now || t - env.now > MAX_VALID_TO {
                return Err(Error::validation(
                    "ValidTo must be in the future and at most 365 days from now",
                ));
            }
            Some(t)
        }
        (_, None) => None,
    };
    let (alg, wrapping) = open_token(env, &rec.key_id, &req.import_token)?;
    let material = unwrap_material(
        alg,
        wrapping.expose_secret(),
        &req.encrypted_key_material,
        rng,
    )?;
    check_material(rec.key_spec, material.expose_secret())?;
    let c = commitment(env, &rec.key_id, &material)?;
    if let Some(prev) = &rec.import_commitment {
        let same = prev.len() == c.len()
            && bool::from(subtle::ConstantTimeEq::ct_eq(prev.as_bytes(), c.as_bytes()));
        if !same {
            return Err(Error::new(
                ErrorKind::IncorrectKeyMaterialException,
                "the key material is not the material previously imported into this key",
            ));
        }
    }
    if rec.backing_keys.is_empty() {
        ops::add_backing_key(env, rng, rec, &material, None)?;
        rec.state = KeyState::Enabled;
    }
    rec.import_commitment = Some(c);
    rec.valid_to = valid_to;
    Ok(())
}

/// DeleteImportedKeyMaterial: deletes the material; the key goes to
/// `PendingImport` and keeps the commitment, so only the same material can
/// be imported again (ciphertexts made before then decrypt again).
///
/// # Errors
/// `UnsupportedOperationException` (origin not EXTERNAL),
/// `KMSInvalidStateException` (pending deletion).
pub fn delete_imported_key_material(rec: &mut KeyRecord) -> Result<()> {
    require_external(rec)?;
    rec.backing_keys.clear();
    rec.valid_to = None;
    rec.state = KeyState::PendingImport;
    Ok(())
}

/// True when `rec`'s imported material has expired (`ValidTo` ≤ `now`)
/// and is still there: the store must apply [`expire_imported_material`].
pub fn imported_material_expired(rec: &KeyRecord, now: u64) -> bool {
    rec.origin == Origin::External
        && !rec.backing_keys.is_empty()
        && rec.valid_to.is_some_and(|t| t <= now)
}

/// Deletes expired imported material: the key returns to `PendingImport`
/// (a key pending deletion stays so). Returns whether the record changed.
pub fn expire_imported_material(rec: &mut KeyRecord, now: u64) -> bool {
    if !imported_material_expired(rec, now) {
        return false;
    }
    // ValidTo stays, as in KMS's metadata of expired material.
    rec.backing_keys.clear();
    if rec.state != KeyState::PendingDeletion {
        rec.state = KeyState::PendingImport;
    }
    true
}
