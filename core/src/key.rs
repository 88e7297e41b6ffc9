//! The key model: key specs, usages, states, origins, identifiers, and the
//! stored key record with its backing keys (one per rotation).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use crate::error::{Error, ErrorKind, Result};

/// Defines a string enum whose text is the AWS KMS spelling.
macro_rules! kms_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The AWS KMS spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = Error;
            /// Parses the exact AWS KMS spelling.
            ///
            /// # Errors
            /// `ValidationException` naming the accepted values.
            fn from_str(s: &str) -> Result<Self> {
                const TEXTS: &[&str] = &[$($text),*];
                $crate::key::parse_kms_text(s, stringify!($name), TEXTS).map(|i| Self::ALL[i])
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
                let s: String = serde::Deserialize::deserialize(d)?;
                s.parse().map_err(|e: Error| serde::de::Error::custom(e.message()))
            }
        }

        impl $crate::record::FromJson for $name {
            fn from_json(v: &serde_json::Value) -> Option<Self> {
                v.as_str()?.parse().ok()
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use kms_enum;

/// The position of `s` in `texts`, the AWS KMS spellings of the values of
/// the `kms_enum` `type_name` in declaration order: what every `FromStr` of
/// those enums runs (one scan of a table, compiled once, rather than one
/// string `match` and message per enum).
///
/// # Errors
/// `ValidationException` `'<s>' is not a valid <type_name>; valid values:
/// <texts, comma-separated>`.
pub(crate) fn parse_kms_text(s: &str, type_name: &str, texts: &[&str]) -> Result<usize> {
    texts.iter().position(|t| *t == s).ok_or_else(|| {
        Error::validation(format!(
            "'{s}' is not a valid {type_name}; valid values: {}",
            texts.join(", ")
        ))
    })
}

kms_enum! {
    /// The type of key material (`KeySpec` in the KMS API).
    KeySpec {
        /// AES-256-GCM symmetric key.
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// RSA 2048-bit key pair.
        Rsa2048 = "RSA_2048",
        /// RSA 3072-bit key pair.
        Rsa3072 = "RSA_3072",
        /// RSA 4096-bit key pair.
        Rsa4096 = "RSA_4096",
        /// NIST P-256 (secp256r1) key pair.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384 (secp384r1) key pair.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521 (secp521r1) key pair.
        EccNistP521 = "ECC_NIST_P521",
        /// SECG secp256k1 (Koblitz curve, SEC 2 §2.4.1) key pair.
        EccSecgP256k1 = "ECC_SECG_P256K1",
        /// HMAC-SHA-224 key (28 bytes when generated).
        Hmac224 = "HMAC_224",
        /// HMAC key of 256 bits.
        Hmac256 = "HMAC_256",
        /// HMAC key of 384 bits.
        Hmac384 = "HMAC_384",
        /// HMAC key of 512 bits.
        Hmac512 = "HMAC_512",
    }
}

kms_enum! {
    /// What a key may be used for (`KeyUsage`).
    KeyUsage {
        /// Encrypt and decrypt.
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        /// Sign and verify.
        SignVerify = "SIGN_VERIFY",
        /// Generate and verify MACs.
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        /// Derive shared secrets (DeriveSharedSecret); NIST ECC key specs only.
        KeyAgreement = "KEY_AGREEMENT",
    }
}

kms_enum! {
    /// Key agreement algorithms of DeriveSharedSecret (`KeyAgreementAlgorithmSpec`).
    KeyAgreementAlgorithm {
        /// Elliptic Curve Cryptography Cofactor Diffie-Hellman Primitive
        /// (NIST SP 800-56A Rev. 3 §5.7.1.2); the output is the raw shared
        /// secret, the x-coordinate of the shared point.
        Ecdh = "ECDH",
    }
}

kms_enum! {
    /// The lifecycle state of a key (`KeyState`).
    KeyState {
        /// Usable.
        Enabled = "Enabled",
        /// Refuses cryptographic operations with `DisabledException`.
        Disabled = "Disabled",
        /// Scheduled for deletion; refuses cryptographic operations with `KMSInvalidStateException`.
        PendingDeletion = "PendingDeletion",
        /// Created with origin `EXTERNAL`, waiting for imported material.
        PendingImport = "PendingImport",
    }
}

kms_enum! {
    /// Where the key material came from (`Origin`).
    Origin {
        /// Generated by Strongroom (KMS's value, kept so AWS tooling parses it).
        AwsKms = "AWS_KMS",
        /// Imported by the caller.
        External = "EXTERNAL",
    }
}

kms_enum! {
    /// Encryption algorithms (`EncryptionAlgorithmSpec`).
    EncryptionAlgorithm {
        /// AES-256-GCM under a per-call HKDF-derived key (symmetric keys).
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        /// RSAES-OAEP with SHA-1 (RFC 8017).
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256 (RFC 8017).
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
    }
}

kms_enum! {
    /// Signing algorithms of Sign and Verify (`SigningAlgorithmSpec`).
    SigningAlgorithm {
        /// RSASSA-PSS (RFC 8017 §8.1), SHA-256, MGF1-SHA-256, 32-byte salt.
        RsassaPssSha256 = "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS, SHA-384, MGF1-SHA-384, 48-byte salt.
        RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS, SHA-512, MGF1-SHA-512, 64-byte salt.
        RsassaPssSha512 = "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with SHA-256.
        RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA (FIPS 186-5, SEC 1) on P-256 or secp256k1 with SHA-256, DER signature.
        EcdsaSha256 = "ECDSA_SHA_256",
        /// ECDSA on P-384 with SHA-384, DER signature.
        EcdsaSha384 = "ECDSA_SHA_384",
        /// ECDSA on P-521 with SHA-512, DER signature.
        EcdsaSha512 = "ECDSA_SHA_512",
    }
}

kms_enum! {
    /// How Sign and Verify read `Message` (`MessageType`).
    MessageType {
        /// The message itself (at most 4096 bytes); hashed once by Strongroom.
        Raw = "RAW",
        /// The caller's digest, exactly the algorithm's hash length; never hashed again.
        Digest = "DIGEST",
    }
}

kms_enum! {
    /// MAC algorithms of GenerateMac and VerifyMac (`MacAlgorithmSpec`).
    MacAlgorithm {
        /// HMAC-SHA-224 (RFC 2104), 28-byte tag; keys of spec `HMAC_224`.
        HmacSha224 = "HMAC_SHA_224",
        /// HMAC-SHA-256, 32-byte tag; keys of spec `HMAC_256`.
        HmacSha256 = "HMAC_SHA_256",
        /// HMAC-SHA-384, 48-byte tag; keys of spec `HMAC_384`.
        HmacSha384 = "HMAC_SHA_384",
        /// HMAC-SHA-512, 64-byte tag; keys of spec `HMAC_512`.
        HmacSha512 = "HMAC_SHA_512",
    }
}

kms_enum! {
    /// `KeyPairSpec` of GenerateDataKeyPair.
    DataKeyPairSpec {
        /// RSA 2048-bit key pair.
        Rsa2048 = "RSA_2048",
        /// RSA 3072-bit key pair.
        Rsa3072 = "RSA_3072",
        /// RSA 4096-bit key pair.
        Rsa4096 = "RSA_4096",
        /// NIST P-256 key pair.
        EccNistP256 = "ECC_NIST_P256",
        /// NIST P-384 key pair.
        EccNistP384 = "ECC_NIST_P384",
        /// NIST P-521 key pair.
        EccNistP521 = "ECC_NIST_P521",
        /// SECG secp256k1 key pair.
        EccSecgP256k1 = "ECC_SECG_P256K1",
    }
}

impl DataKeyPairSpec {
    /// The key spec of the same name.
    pub const fn key_spec(self) -> KeySpec {
        match self {
            DataKeyPairSpec::Rsa2048 => KeySpec::Rsa2048,
            DataKeyPairSpec::Rsa3072 => KeySpec::Rsa3072,
            DataKeyPairSpec::Rsa4096 => KeySpec::Rsa4096,
            DataKeyPairSpec::EccNistP256 => KeySpec::EccNistP256,
            DataKeyPairSpec::EccNistP384 => KeySpec::EccNistP384,
            DataKeyPairSpec::EccNistP521 => KeySpec::EccNistP521,
            DataKeyPairSpec::EccSecgP256k1 => KeySpec::EccSecgP256k1,
        }
    }
}

kms_enum! {
    /// How imported key material is wrapped (`WrappingAlgorithm` of GetParametersForImport).
    WrappingAlgorithm {
        /// RSAES-OAEP with SHA-1 of the material itself.
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        /// RSAES-OAEP with SHA-256 of the material itself.
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        /// RSAES-OAEP-SHA-1 of an ephemeral AES-256 key ‖ AES-KWP (RFC 5649) of the material.
        RsaAesKeyWrapSha1 = "RSA_AES_KEY_WRAP_SHA_1",
        /// RSAES-OAEP-SHA-256 of an ephemeral AES-256 key ‖ AES-KWP (RFC 5649) of the material.
        RsaAesKeyWrapSha256 = "RSA_AES_KEY_WRAP_SHA_256",
    }
}

kms_enum! {
    /// The RSA wrapping key's size (`WrappingKeySpec` of GetParametersForImport).
    WrappingKeySpec {
        /// 2048-bit wrapping key.
        Rsa2048 = "RSA_2048",
        /// 3072-bit wrapping key.
        Rsa3072 = "RSA_3072",
        /// 4096-bit wrapping key.
        Rsa4096 = "RSA_4096",
    }
}

kms_enum! {
    /// Whether imported key material expires (`ExpirationModel`).
    ExpirationModel {
        /// The material is deleted at `ValidTo`; the key returns to `PendingImport`.
        KeyMaterialExpires = "KEY_MATERIAL_EXPIRES",
        /// The material stays until DeleteImportedKeyMaterial.
        KeyMaterialDoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
}

kms_enum! {
    /// Whether ImportKeyMaterial brings new key material or re-imports the
    /// material the key had (`ImportType`). Strongroom keys have one key
    /// material each: new material is accepted only for a key that never
    /// had any.
    ImportType {
        /// Material the key never had: only on the first import.
        NewKeyMaterial = "NEW_KEY_MATERIAL",
        /// The material imported before (after it expired or was deleted).
        ExistingKeyMaterial = "EXISTING_KEY_MATERIAL",
    }
}

kms_enum! {
    /// `DataKeySpec` of GenerateDataKey.
    DataKeySpec {
        /// 16 bytes.
        Aes128 = "AES_128",
        /// 32 bytes.
        Aes256 = "AES_256",
    }
}

kms_enum! {
    /// How a backing key came to be (`RotationType` of ListKeyRotations).
    RotationType {
        /// Automatic rotation when the period elapsed.
        Automatic = "AUTOMATIC",
        /// RotateKeyOnDemand.
        OnDemand = "ON_DEMAND",
    }
}

impl DataKeySpec {
    /// Length of the data key in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            DataKeySpec::Aes128 => 16,
            DataKeySpec::Aes256 => 32,
        }
    }
}

impl KeySpec {
    /// True for `SYMMETRIC_DEFAULT`.
    pub fn is_symmetric(self) -> bool {
        self == KeySpec::SymmetricDefault
    }
}

/// How a caller names a key: key ID, key ARN, alias name or alias ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyIdentifier {
    /// A key ID (UUID), possibly taken from a key ARN.
    KeyId(String),
    /// An alias name (`alias/...`), possibly taken from an alias ARN.
    Alias(String),
}

impl KeyIdentifier {
    /// Parses `1234abcd-…`, `arn:aws:kms:<region>:<account>:key/<id>`,
    /// `alias/name` or `arn:aws:kms:<region>:<account>:alias/name`.
    ///
    /// An ARN whose partition ([`PARTITION`], compared exactly: not
    /// `aws-cn`, `AWS` or an empty one), region or account is not this
    /// keystore's names no key here, so it is `NotFoundException`, as in KMS.
    ///
    /// # Errors
    /// `ValidationException` for an empty identifier or one over 2048
    /// characters; `NotFoundException` for an ARN of another partition,
    /// region or account, or a key ID that is not a UUID;
    /// `InvalidArnException` for a malformed ARN.
    pub fn parse(s: &str, region: &str, account: &str) -> Result<Self> {
        if s.is_empty() || s.len() > 2048 {
            return Err(Error::validation("KeyId must be 1 to 2048 characters"));
        }
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            if parts.len() != 5 || parts[1] != "kms" {
                return Err(Error::new(
                    ErrorKind::InvalidArnException,
                    format!("'{s}' is not a valid KMS ARN"),
                ));
            }
            if parts[0] != PARTITION || parts[2] != region || parts[3] != account {
                return Err(Error::not_found(format!(
                    "{s} is not found in this keystore"
                )));
            }
            let resource = parts[4];
            if let Some(id) = resource.strip_prefix("key/") {
                return Self::key_id(id);
            }
            if resource.starts_with("alias/") {
                return Ok(KeyIdentifier::Alias(resource.to_string()));
            }
            return Err(Error::new(
                ErrorKind::InvalidArnException,
                format!("'{s}' is not a key or alias ARN"),
            ));
        }
        if s.starts_with("alias/") {
            return Ok(KeyIdentifier::Alias(s.to_string()));
        }
        Self::key_id(s)
    }

    fn key_id(id: &str) -> Result<Self> {
        match uuid::Uuid::try_parse(id) {
            Ok(u) => Ok(KeyIdentifier::KeyId(u.hyphenated().to_string())),
            Err(_) => Err(Error::not_found(format!("Invalid keyId {id}"))),
        }
    }
}

/// One version of a key's material. The material is sealed under the root
/// key (see [`crate::seal`]); this record never holds it in plaintext.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackingKey {
    /// Version number, 1 for the first material, +1 per rotation.
    pub version: u32,
    /// When this version was created (Unix seconds).
    pub created: u64,
    /// How it was created; `None` for the first material.
    pub rotation_type: Option<RotationType>,
    /// The sealed material ([`crate::seal`] format), base64 in JSON.
    #[serde(with = "crate::b64")]
    pub sealed: Vec<u8>,
}

/// Automatic rotation settings and counters of a symmetric key.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RotationConfig {
    /// Automatic rotation on.
    pub enabled: bool,
    /// Period in days (90–2560), kept when rotation is turned off.
    pub period_days: Option<u32>,
    /// When the next automatic rotation is due (Unix seconds).
    pub next_rotation: Option<u64>,
    /// On-demand rotations performed so far (KMS limit: 10).
    pub on_demand_count: u32,
    /// When the latest on-demand rotation started (Unix seconds).
    pub on_demand_started: Option<u64>,
}

/// Everything stored about one KMS key. Persisted as JSON, authenticated
/// with the keystore's metadata MAC ([`crate::seal::RootKey::mac_record`]).
/// Holds no plaintext key material.
///
/// Reading a record (its `Deserialize`, written by hand, below) keeps the
/// object members it does not know in [`extra`](Self::extra), as
/// `#[serde(flatten)]` would, without serde's buffering of every member
/// that `flatten` compiles in (about 6 KB of WebAssembly).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeyRecord {
    /// Key ID (lowercase hyphenated UUID).
    pub key_id: String,
    /// Key ARN.
    pub arn: String,
    /// Account ID the ARN names.
    pub account: String,
    /// Creation date (Unix seconds).
    pub creation_date: u64,
    /// Description (≤ 8192 characters).
    pub description: String,
    /// Key spec.
    pub key_spec: KeySpec,
    /// Key usage.
    pub key_usage: KeyUsage,
    /// Origin.
    pub origin: Origin,
    /// State.
    pub state: KeyState,
    /// When a key pending deletion will be deleted (Unix seconds).
    pub deletion_date: Option<u64>,
    /// Waiting period chosen by ScheduleKeyDeletion (days).
    pub pending_window_days: Option<u32>,
    /// Tags, by tag key.
    pub tags: BTreeMap<String, String>,
    /// Rotation settings.
    pub rotation: RotationConfig,
    /// Material versions, oldest first; the last one encrypts.
    pub backing_keys: Vec<BackingKey>,
    /// The key policy document (JSON text), when one is set.
    pub policy: Option<String>,
    /// Imported-material expiry (Unix seconds), when the material expires.
    pub valid_to: Option<u64>,
    /// For `EXTERNAL` keys that ever had material imported: a keyed
    /// commitment to it (HMAC-SHA256 under the root key's record-MAC key,
    /// base64), so that a re-import can be checked to be the same material
    /// after the material itself was deleted or expired. Reveals nothing
    /// about the material without the root key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_commitment: Option<String>,
    /// Incremented on every change: a change counter (the record cache
    /// compares it); writes re-check what they were authorized on by the
    /// fields themselves, not by it.
    pub generation: u64,
    /// Fields added by later versions, kept verbatim.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// `KeyRecord` from a map (a JSON object): the members named after its
/// fields set them, any other member goes to `extra`; a field named twice is
/// an error (`duplicate field`), a missing field is one unless it is an
/// `Option` (then `None`). The same records and errors as the derived
/// `Deserialize` with `#[serde(flatten)]`.
impl<'de> serde::Deserialize<'de> for KeyRecord {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> core::result::Result<Self, D::Error> {
        deserializer.deserialize_map(KeyRecordVisitor)
    }
}

struct KeyRecordVisitor;

impl<'de> serde::de::Visitor<'de> for KeyRecordVisitor {
    type Value = KeyRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct KeyRecord")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> core::result::Result<KeyRecord, A::Error> {
        use serde::de::Error as _;
        /// Sets `slot` from the next value, once.
        fn set<'de, A: serde::de::MapAccess<'de>, T: serde::Deserialize<'de>>(
            map: &mut A,
            slot: &mut Option<T>,
            name: &'static str,
        ) -> core::result::Result<(), A::Error> {
            if slot.is_some() {
                return Err(A::Error::duplicate_field(name));
            }
            *slot = Some(map.next_value()?);
            Ok(())
        }
        fn need<T, E: serde::de::Error>(
            slot: Option<T>,
            name: &'static str,
        ) -> core::result::Result<T, E> {
            slot.ok_or_else(|| E::missing_field(name))
        }

        let (mut key_id, mut arn, mut account, mut creation_date, mut description) =
            (None, None, None, None, None);
        let (mut key_spec, mut key_usage, mut origin, mut state) = (None, None, None, None);
        let (mut deletion_date, mut pending_window_days, mut tags, mut rotation) =
            (None, None, None, None);
        let (mut backing_keys, mut policy, mut valid_to, mut import_commitment, mut generation) =
            (None, None, None, None, None);
        let mut extra = BTreeMap::new();
        while let Some(name) = map.next_key::<String>()? {
            match name.as_str() {
                "key_id" => set(&mut map, &mut key_id, "key_id")?,
                "arn" => set(&mut map, &mut arn, "arn")?,
                "account" => set(&mut map, &mut account, "account")?,
                "creation_date" => set(&mut map, &mut creation_date, "creation_date")?,
                "description" => set(&mut map, &mut description, "description")?,
                "key_spec" => set(&mut map, &mut key_spec, "key_spec")?,
                "key_usage" => set(&mut map, &mut key_usage, "key_usage")?,
                "origin" => set(&mut map, &mut origin, "origin")?,
                "state" => set(&mut map, &mut state, "state")?,
                "deletion_date" => set(&mut map, &mut deletion_date, "deletion_date")?,
                "pending_window_days" => {
                    set(&mut map, &mut pending_window_days, "pending_window_days")?;
                }
                "tags" => set(&mut map, &mut tags, "tags")?,
                "rotation" => set(&mut map, &mut rotation, "rotation")?,
                "backing_keys" => set(&mut map, &mut backing_keys, "backing_keys")?,
                "policy" => set(&mut map, &mut policy, "policy")?,
                "valid_to" => set(&mut map, &mut valid_to, "valid_to")?,
                "import_commitment" => {
                    set(&mut map, &mut import_commitment, "import_commitment")?;
                }
                "generation" => set(&mut map, &mut generation, "generation")?,
                _ => {
                    let value = map.next_value()?;
                    extra.insert(name, value);
                }
            }
        }
        Ok(KeyRecord {
            key_id: need(key_id, "key_id")?,
            arn: need(arn, "arn")?,
            account: need(account, "account")?,
            creation_date: need(creation_date, "creation_date")?,
            description: need(description, "description")?,
            key_spec: need(key_spec, "key_spec")?,
            key_usage: need(key_usage, "key_usage")?,
            origin: need(origin, "origin")?,
            state: need(state, "state")?,
            deletion_date: deletion_date.flatten(),
            pending_window_days: pending_window_days.flatten(),
            tags: need(tags, "tags")?,
            rotation: need(rotation, "rotation")?,
            backing_keys: need(backing_keys, "backing_keys")?,
            policy: policy.flatten(),
            valid_to: valid_to.flatten(),
            import_commitment: import_commitment.flatten(),
            generation: need(generation, "generation")?,
            extra,
        })
    }
}

impl KeyRecord {
    /// The newest backing key, which new encryptions use.
    pub fn current_backing_key(&self) -> Option<&BackingKey> {
        self.backing_keys.last()
    }

    /// The backing key with `version`.
    pub fn backing_key(&self, version: u32) -> Option<&BackingKey> {
        self.backing_keys.iter().find(|b| b.version == version)
    }

    /// `Ok` when the key may be used for a cryptographic operation.
    ///
    /// # Errors
    /// `DisabledException` when disabled; `KMSInvalidStateException` when
    /// pending deletion or pending import.
    pub fn check_usable(&self) -> Result<()> {
        match self.state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(Error::new(
                ErrorKind::DisabledException,
                format!("{} is disabled.", self.arn),
            )),
            other => Err(Error::new(
                ErrorKind::KMSInvalidStateException,
                format!(
                    "{} is pending {}.",
                    self.arn,
                    match other {
                        KeyState::PendingImport => "import",
                        _ => "deletion",
                    }
                ),
            )),
        }
    }
}

/// The partition of every ARN a keystore writes (`arn:aws:…`): its key and
/// alias ARNs and the account root `IssuingAccount` of its grants. It is
/// not configurable; a key or alias ARN of any other partition names no key
/// here ([`KeyIdentifier::parse`]).
pub const PARTITION: &str = "aws";

/// The key ARN for `key_id` in `region` and `account`.
pub fn key_arn(region: &str, account: &str, key_id: &str) -> String {
    format!("arn:{PARTITION}:kms:{region}:{account}:key/{key_id}")
}

/// The six `:`-separated fields of an ARN
/// (`arn:partition:service:region:account:resource`; the last holds any
/// further `:`), or `None` when there are fewer. Allocates nothing: it runs
/// on every call's principal (the caller check and the key policy).
pub(crate) fn arn_fields(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    Some([
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ])
}

/// The alias ARN for `alias_name` (`alias/...`).
pub fn alias_arn(region: &str, account: &str, alias_name: &str) -> String {
    format!("arn:{PARTITION}:kms:{region}:{account}:{alias_name}")
}

/// Checks an alias name against the KMS rules: `alias/` prefix, 1–256
/// characters in all, only `[a-zA-Z0-9/_-]` after the prefix, and not in
/// the reserved `alias/aws/` namespace.
///
/// # Errors
/// `ValidationException` for the length or character rules,
/// `NotAuthorized`-like `InvalidAliasNameException` for `alias/aws/`.
pub fn validate_alias_name(name: &str) -> Result<()> {
    let invalid =
        |m: &str| Error::new(ErrorKind::InvalidAliasNameException, format!("{name}: {m}"));
    let Some(rest) = name.strip_prefix("alias/") else {
        return Err(invalid("alias names must begin with 'alias/'"));
    };
    if name.len() > 256 {
        return Err(Error::validation(
            "AliasName must be at most 256 characters",
        ));
    }
    if rest.is_empty() {
        return Err(invalid("alias name is empty after 'alias/'"));
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'_' || b == b'-')
    {
        return Err(invalid(
            "alias names may contain only a-z, A-Z, 0-9, '/', '_' and '-'",
        ));
    }
    if rest.starts_with("aws/") || rest == "aws" {
        return Err(invalid(
            "the 'alias/aws/' prefix is reserved for AWS managed keys",
        ));
    }
    Ok(())
}

/// An alias: a friendly name pointing at one key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AliasRecord {
    /// `alias/...`.
    pub alias_name: String,
    /// The key it points at.
    pub target_key_id: String,
    /// Creation date (Unix seconds).
    pub creation_date: u64,
    /// Last update (Unix seconds).
    pub last_updated_date: u64,
}

#[cfg(test)]
mod record_serde_tests {
    use super::{BackingKey, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, RotationConfig};
    use alloc::string::ToString;
    use alloc::vec;

    fn record() -> KeyRecord {
        KeyRecord {
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".to_string(),
            arn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                .to_string(),
            account: "111122223333".to_string(),
            creation_date: 1_700_000_000,
            description: "d".to_string(),
            key_spec: KeySpec::SymmetricDefault,
            key_usage: KeyUsage::EncryptDecrypt,
            origin: Origin::AwsKms,
            state: KeyState::PendingDeletion,
            deletion_date: Some(1_800_000_000),
            pending_window_days: Some(7),
            tags: [
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ]
            .into(),
            rotation: RotationConfig {
                period_days: Some(365),
                ..RotationConfig::default()
            },
            backing_keys: vec![BackingKey {
                version: 1,
                created: 1_700_000_000,
                rotation_type: None,
                sealed: vec![1, 2, 3],
            }],
            policy: Some("{}".to_string()),
            valid_to: None,
            import_commitment: Some("c29tZQ==".to_string()),
            generation: 3,
            extra: Default::default(),
        }
    }

    /// Members added by later versions survive a read and a write, in
    /// place of `#[serde(flatten)]`; the known fields round-trip.
    #[test]
    fn keeps_unknown_members() {
        let mut rec = record();
        let text = serde_json::to_string(&rec).unwrap();
        let with_extra = alloc::format!(
            "{{\"zz_later\":{{\"a\":[1,2.5,null,\"s\"]}},{}, \"aa_later\":-4}}",
            &text[1..text.len() - 1]
        );
        let back: KeyRecord = serde_json::from_str(&with_extra).unwrap();
        rec.extra.insert(
            "zz_later".to_string(),
            serde_json::json!({"a": [1, 2.5, null, "s"]}),
        );
        rec.extra
            .insert("aa_later".to_string(), serde_json::json!(-4));
        assert_eq!(back, rec);
        let again = serde_json::to_string(&back).unwrap();
        assert!(again.starts_with(&text[..text.len() - 1]), "{again}");
        assert!(again.ends_with(",\"aa_later\":-4,\"zz_later\":{\"a\":[1,2.5,null,\"s\"]}}"));
        assert_eq!(serde_json::from_str::<KeyRecord>(&again).unwrap(), rec);
    }

    /// Absent or `null` optional fields are `None`; a missing required field,
    /// a field given twice and a non-object are errors; an unknown member
    /// given twice keeps its last value.
    #[test]
    fn optional_missing_and_duplicate_fields() {
        let mut value = serde_json::to_value(record()).unwrap();
        let obj = value.as_object_mut().unwrap();
        obj.remove("deletion_date");
        obj.remove("import_commitment");
        obj.insert("policy".to_string(), serde_json::Value::Null);
        let rec: KeyRecord = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            (rec.deletion_date, rec.import_commitment, rec.policy),
            (None, None, None)
        );
        assert_eq!(rec.pending_window_days, Some(7));

        let text = serde_json::to_string(&value).unwrap();
        let body = &text[1..text.len() - 1];
        let twice = alloc::format!("{{{body},\"generation\":4}}");
        assert!(serde_json::from_str::<KeyRecord>(&twice)
            .unwrap_err()
            .to_string()
            .contains("duplicate field `generation`"));
        let later = alloc::format!("{{{body},\"n\":1,\"n\":2}}");
        let rec: KeyRecord = serde_json::from_str(&later).unwrap();
        assert_eq!(rec.extra.get("n"), Some(&serde_json::json!(2)));

        for field in ["key_id", "tags", "backing_keys", "generation"] {
            let mut v = value.clone();
            v.as_object_mut().unwrap().remove(field);
            let err = serde_json::from_value::<KeyRecord>(v)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&alloc::format!("missing field `{field}`")),
                "{err}"
            );
        }
        assert!(serde_json::from_str::<KeyRecord>("[]").is_err());
        assert!(serde_json::from_str::<KeyRecord>("{\"key_id\":7}").is_err());
    }
}

#[cfg(test)]
mod kms_enum_tests {
    use super::*;

    /// Every value of every `kms_enum` parses back from its AWS KMS
    /// spelling (the table `parse_kms_text` scans is in declaration order,
    /// as `ALL` is), and a serde round trip gives the same value.
    #[test]
    fn every_value_parses_from_its_spelling() {
        macro_rules! round_trip {
            ($($t:ty),*) => {$(
                for v in <$t>::ALL {
                    assert_eq!(v.as_str().parse::<$t>().unwrap(), *v);
                    let json = serde_json::to_string(v).unwrap();
                    assert_eq!(serde_json::from_str::<$t>(&json).unwrap(), *v);
                }
            )*};
        }
        round_trip!(
            KeySpec,
            KeyUsage,
            KeyAgreementAlgorithm,
            KeyState,
            Origin,
            EncryptionAlgorithm,
            SigningAlgorithm,
            MessageType,
            MacAlgorithm,
            DataKeyPairSpec,
            WrappingAlgorithm,
            WrappingKeySpec,
            ExpirationModel,
            ImportType,
            DataKeySpec,
            RotationType
        );
    }

    /// An unknown or differently cased spelling is a ValidationException
    /// naming the type and listing the accepted values in order.
    #[test]
    fn unknown_spelling_names_the_accepted_values() {
        let e = "RSA_1024".parse::<KeySpec>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        assert!(
            e.message().starts_with(
                "'RSA_1024' is not a valid KeySpec; valid values: SYMMETRIC_DEFAULT, RSA_2048, RSA_3072, RSA_4096, "
            ),
            "{}",
            e.message()
        );
        let e = "encrypt_decrypt".parse::<KeyUsage>().unwrap_err();
        assert_eq!(
            e.message(),
            alloc::format!(
                "'encrypt_decrypt' is not a valid KeyUsage; valid values: {}",
                KeyUsage::ALL
                    .iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
        assert!("".parse::<Origin>().is_err());
        let e = serde_json::from_str::<KeyState>("\"Gone\"").unwrap_err();
        assert!(
            e.to_string().contains("'Gone' is not a valid KeyState"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod arn_tests {
    use super::arn_fields;

    /// Six fields or none, the last keeping any further `:` (the shape the
    /// principal checks and `ArnLike` read).
    #[test]
    fn an_arn_has_exactly_six_fields_the_last_keeping_colons() {
        assert_eq!(
            arn_fields("arn:aws:iam::111122223333:user/a:b"),
            Some(["arn", "aws", "iam", "", "111122223333", "user/a:b"])
        );
        assert_eq!(
            arn_fields("arn:aws:iam::111122223333:"),
            Some(["arn", "aws", "iam", "", "111122223333", ""])
        );
        for short in ["", "arn", "arn:aws:iam::111122223333", "a:b:c:d:e"] {
            assert_eq!(arn_fields(short), None, "{short}");
        }
    }
}
