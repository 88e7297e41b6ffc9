//! Algorithm suites of the AWS Encryption SDK that Strongroom reads or writes
//! (AWS Encryption SDK specification, "Algorithm Suites").

use zeroize::Zeroizing;

use crate::crypto::kdf::{hkdf_sha256_opt_salt, hkdf_sha384, hkdf_sha512};
use crate::error::{Error, Result};

/// Length of every data key and data encryption key of the supported suites (AES-256).
pub const DATA_KEY_LEN: usize = 32;
/// Length of the commitment key stored in a version 2 header (suite data).
pub const COMMITMENT_LEN: usize = 32;
/// IV length of every supported suite.
pub const IV_LEN: usize = 12;
/// Authentication tag length of every supported suite.
pub const TAG_LEN: usize = 16;

/// An algorithm suite. All use AES-256-GCM with a 12-byte IV and 16-byte tag
/// and derive the data encryption key from the data key with HKDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AlgorithmSuite {
    /// `0x0178` AES_256_GCM_IV12_TAG16_HKDF_SHA256: message format version 1,
    /// no key commitment, no signature. Decrypt only.
    Aes256GcmHkdfSha256,
    /// `0x0378` AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384: message format
    /// version 1, no key commitment, ECDSA P-384 signature. Decrypt only.
    Aes256GcmHkdfSha384EcdsaP384,
    /// `0x0478` AES_256_GCM_HKDF_SHA512_COMMIT_KEY: message format version 2,
    /// key commitment, no signature.
    Aes256GcmHkdfSha512CommitKey,
    /// `0x0578` AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384: message format
    /// version 2, key commitment, ECDSA P-384 signature (the default).
    #[default]
    Aes256GcmHkdfSha512CommitKeyEcdsaP384,
}

impl AlgorithmSuite {
    /// Every suite Strongroom reads, in ID order (the last two it also writes).
    pub const ALL: [AlgorithmSuite; 4] = [
        Self::Aes256GcmHkdfSha256,
        Self::Aes256GcmHkdfSha384EcdsaP384,
        Self::Aes256GcmHkdfSha512CommitKey,
        Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ];

    /// The two-byte suite ID as written in the header.
    pub const fn id(self) -> u16 {
        match self {
            Self::Aes256GcmHkdfSha256 => 0x0178,
            Self::Aes256GcmHkdfSha384EcdsaP384 => 0x0378,
            Self::Aes256GcmHkdfSha512CommitKey => 0x0478,
            Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => 0x0578,
        }
    }

    /// The suite with ID `id`, if Strongroom supports it.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            0x0178 => Some(Self::Aes256GcmHkdfSha256),
            0x0378 => Some(Self::Aes256GcmHkdfSha384EcdsaP384),
            0x0478 => Some(Self::Aes256GcmHkdfSha512CommitKey),
            0x0578 => Some(Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384),
            _ => None,
        }
    }

    /// The ESDK's name for the suite, e.g. `"AES_256_GCM_HKDF_SHA512_COMMIT_KEY"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Aes256GcmHkdfSha256 => "AES_256_GCM_IV12_TAG16_HKDF_SHA256",
            Self::Aes256GcmHkdfSha384EcdsaP384 => "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
            Self::Aes256GcmHkdfSha512CommitKey => "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
            Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => {
                "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"
            }
        }
    }

    /// Message format version the suite belongs to (1 or 2).
    pub const fn message_version(self) -> u8 {
        if self.is_committing() {
            2
        } else {
            1
        }
    }

    /// True for suites with key commitment (message format version 2).
    pub const fn is_committing(self) -> bool {
        matches!(
            self,
            Self::Aes256GcmHkdfSha512CommitKey | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384
        )
    }

    /// True for suites with an ECDSA P-384 footer signature.
    pub const fn is_signing(self) -> bool {
        matches!(
            self,
            Self::Aes256GcmHkdfSha384EcdsaP384 | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384
        )
    }

    /// Length of the message ID: 16 bytes (version 1) or 32 bytes (version 2).
    pub const fn message_id_len(self) -> usize {
        if self.is_committing() {
            32
        } else {
            16
        }
    }

    /// Derives the data encryption key and, for committing suites, the
    /// commitment key from the data key (ESDK "Key Derivation"):
    /// - version 2: HKDF-SHA512, salt = message ID, IKM = data key;
    ///   key info = suite ID ‖ `"DERIVEKEY"`, commitment info = `"COMMITKEY"`, 32 bytes each;
    /// - version 1: HKDF-SHA256 (`0x0178`) or HKDF-SHA384 (`0x0378`) with no
    ///   salt, info = suite ID ‖ message ID.
    ///
    /// # Errors
    /// `KMSInternalException` only on a bug (wrong lengths).
    pub(crate) fn derive_keys(self, data_key: &[u8], message_id: &[u8]) -> Result<DerivedKeys> {
        if data_key.len() != DATA_KEY_LEN {
            return Err(Error::internal("data key has the wrong length"));
        }
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        let id = self.id().to_be_bytes();
        if self.is_committing() {
            let mut info = [0u8; 11];
            info[..2].copy_from_slice(&id);
            info[2..].copy_from_slice(b"DERIVEKEY");
            hkdf_sha512(message_id, data_key, &info, &mut key[..])?;
            let mut commit = [0u8; COMMITMENT_LEN];
            hkdf_sha512(message_id, data_key, b"COMMITKEY", &mut commit)?;
            Ok((key, Some(commit)))
        } else {
            let mut info = [0u8; 18];
            info[..2].copy_from_slice(&id);
            info.get_mut(2..2 + message_id.len())
                .ok_or_else(|| Error::internal("message ID has the wrong length"))?
                .copy_from_slice(message_id);
            let info = &info[..2 + message_id.len()];
            match self {
                Self::Aes256GcmHkdfSha256 => {
                    hkdf_sha256_opt_salt(None, data_key, info, &mut key[..])?
                }
                _ => hkdf_sha384(None, data_key, info, &mut key[..])?,
            }
            Ok((key, None))
        }
    }
}

impl core::str::FromStr for AlgorithmSuite {
    type Err = Error;

    /// Parses the ESDK name ([`name`](Self::name), ASCII case-insensitive,
    /// e.g. `AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384`) or the suite ID
    /// in hexadecimal with or without `0x` (e.g. `0x0578`), surrounding
    /// whitespace ignored.
    ///
    /// # Errors
    /// `ValidationException` for anything else, naming the accepted suites.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let hex = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        // Hex digits only: `u16::from_str_radix` alone would also take a
        // sign (`+578`).
        let id = Some(hex)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u16::from_str_radix(h, 16).ok());
        if let Some(suite) = id.and_then(Self::from_id) {
            return Ok(suite);
        }
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                Error::validation(alloc::format!(
                    "unknown algorithm suite '{s}': use 0x0578 ({}), 0x0478 ({}), or to decrypt only 0x0378 ({}) or 0x0178 ({})",
                    Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384.name(),
                    Self::Aes256GcmHkdfSha512CommitKey.name(),
                    Self::Aes256GcmHkdfSha384EcdsaP384.name(),
                    Self::Aes256GcmHkdfSha256.name(),
                ))
            })
    }
}

/// The data encryption key and, for committing suites, the commitment key.
pub(crate) type DerivedKeys = (Zeroizing<[u8; DATA_KEY_LEN]>, Option<[u8; COMMITMENT_LEN]>);

/// Which suites may be written and read (ESDK "Commitment Policy").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CommitmentPolicy {
    /// Encrypt with committing suites only; decrypt committing suites only (default).
    #[default]
    RequireEncryptRequireDecrypt,
    /// Encrypt with committing suites only; decrypt any supported suite.
    RequireEncryptAllowDecrypt,
    /// Encrypt with non-committing suites only; decrypt any supported suite.
    /// Strongroom never writes non-committing suites, so encrypting under
    /// this policy fails with `ValidationException`.
    ForbidEncryptAllowDecrypt,
}

impl CommitmentPolicy {
    /// Every commitment policy, strictest first.
    pub const ALL: [CommitmentPolicy; 3] = [
        Self::RequireEncryptRequireDecrypt,
        Self::RequireEncryptAllowDecrypt,
        Self::ForbidEncryptAllowDecrypt,
    ];

    /// The ESDK's name, e.g. `"REQUIRE_ENCRYPT_REQUIRE_DECRYPT"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::RequireEncryptRequireDecrypt => "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
            Self::RequireEncryptAllowDecrypt => "REQUIRE_ENCRYPT_ALLOW_DECRYPT",
            Self::ForbidEncryptAllowDecrypt => "FORBID_ENCRYPT_ALLOW_DECRYPT",
        }
    }

    /// # Errors
    /// `ValidationException` if the policy does not allow encrypting with `suite`.
    pub(crate) fn check_encrypt(self, suite: AlgorithmSuite) -> Result<()> {
        match self {
            Self::ForbidEncryptAllowDecrypt => Err(Error::validation(
                "commitment policy FORBID_ENCRYPT_ALLOW_DECRYPT: Strongroom writes only committing suites",
            )),
            _ if !suite.is_committing() => Err(Error::validation(
                "Strongroom encrypts only with committing suites 0x0478 and 0x0578",
            )),
            _ => Ok(()),
        }
    }

    /// # Errors
    /// `ValidationException` if the policy does not allow decrypting `suite`.
    pub(crate) fn check_decrypt(self, suite: AlgorithmSuite) -> Result<()> {
        if self == Self::RequireEncryptRequireDecrypt && !suite.is_committing() {
            return Err(Error::validation(
                "the message uses a non-committing algorithm suite, which commitment policy REQUIRE_ENCRYPT_REQUIRE_DECRYPT forbids",
            ));
        }
        Ok(())
    }
}

impl core::str::FromStr for CommitmentPolicy {
    type Err = Error;

    /// Parses the ESDK name ([`name`](Self::name), e.g.
    /// `REQUIRE_ENCRYPT_REQUIRE_DECRYPT`), ASCII case-insensitive and with or
    /// without its underscores, so the ESDK for Java's and Rust's
    /// `RequireEncryptRequireDecrypt` also parses; surrounding whitespace is
    /// ignored.
    ///
    /// # Errors
    /// `ValidationException` for anything else, naming the policies.
    fn from_str(s: &str) -> Result<Self> {
        let squash = |n: &str| -> alloc::string::String {
            n.chars()
                .filter(|&c| c != '_')
                .map(|c| c.to_ascii_uppercase())
                .collect()
        };
        let want = squash(s.trim());
        Self::ALL
            .into_iter()
            .find(|p| squash(p.name()) == want)
            .ok_or_else(|| {
                Error::validation(alloc::format!(
                    "unknown commitment policy '{s}': use {}, {} or {}",
                    Self::RequireEncryptRequireDecrypt.name(),
                    Self::RequireEncryptAllowDecrypt.name(),
                    Self::ForbidEncryptAllowDecrypt.name(),
                ))
            })
    }
}
