//! Keyrings (ESDK "Keyring Interface"): what generates, wraps and unwraps the
//! data key of a message. Strongroom's KMS-backed keyring lives in the
//! `strongroom` crate and implements [`Keyring`] with provider ID `aws-kms`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::header::EncryptedDataKey;
use super::suite::{AlgorithmSuite, DATA_KEY_LEN, IV_LEN, TAG_LEN};
use crate::context::EncryptionContext;
use crate::crypto::aead::{aes_gcm_open_in_place, aes_gcm_seal_in_place};
use crate::crypto::rsa_wrap::{rsa_unwrap, rsa_wrap, rsa_wrap_public_key, RsaWrapPadding};
use crate::error::{Error, Result};

/// A plaintext data key (32 bytes for every supported suite). Zeroized on
/// drop; `Debug` never shows the bytes.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// Wraps `bytes` as a data key, e.g. the plaintext returned by KMS `GenerateDataKey`.
    ///
    /// # Errors
    /// `ValidationException` unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut k = Zeroizing::new([0u8; DATA_KEY_LEN]);
        if bytes.len() != DATA_KEY_LEN {
            return Err(Error::validation("a data key must be 32 bytes"));
        }
        k.copy_from_slice(bytes);
        Ok(DataKey(k))
    }

    /// A fresh random data key.
    pub fn generate(rng: &mut dyn CryptoRng) -> Self {
        let mut k = Zeroizing::new([0u8; DATA_KEY_LEN]);
        rng.fill_bytes(&mut k[..]);
        DataKey(k)
    }

    /// The key bytes. Named so that every use is visible in review.
    pub fn expose_secret(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").finish_non_exhaustive()
    }
}

/// What a keyring works on when a message is encrypted: the suite, the full
/// encryption context (with `aws-crypto-public-key` for signing suites), the
/// data key once one keyring has generated it, and the EDKs so far.
#[derive(Debug)]
pub struct EncryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    data_key: Option<DataKey>,
    encrypted_data_keys: Vec<EncryptedDataKey>,
}

impl EncryptionMaterials {
    pub(crate) fn new(suite: AlgorithmSuite, encryption_context: EncryptionContext) -> Self {
        EncryptionMaterials {
            suite,
            encryption_context,
            data_key: None,
            encrypted_data_keys: Vec::new(),
        }
    }

    /// The message's algorithm suite.
    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The message's encryption context, exactly as it will be in the header.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// The data key, if a keyring has generated one.
    pub fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    /// Sets the data key (a generating keyring does this once).
    ///
    /// # Errors
    /// `ValidationException` if a data key is already set.
    pub fn set_data_key(&mut self, key: DataKey) -> Result<()> {
        if self.data_key.is_some() {
            return Err(Error::validation("the data key is already set"));
        }
        self.data_key = Some(key);
        Ok(())
    }

    /// Adds an encrypted data key to the header.
    pub fn add_encrypted_data_key(&mut self, edk: EncryptedDataKey) {
        self.encrypted_data_keys.push(edk);
    }

    /// The encrypted data keys added so far.
    pub fn encrypted_data_keys(&self) -> &[EncryptedDataKey] {
        &self.encrypted_data_keys
    }

    pub(crate) fn into_parts(self) -> (EncryptionContext, Option<DataKey>, Vec<EncryptedDataKey>) {
        (
            self.encryption_context,
            self.data_key,
            self.encrypted_data_keys,
        )
    }
}

/// What a keyring works on when a message is decrypted.
#[derive(Debug)]
pub struct DecryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    data_key: Option<DataKey>,
}

impl DecryptionMaterials {
    pub(crate) fn new(suite: AlgorithmSuite, encryption_context: EncryptionContext) -> Self {
        DecryptionMaterials {
            suite,
            encryption_context,
            data_key: None,
        }
    }

    /// The message's algorithm suite.
    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The message's encryption context, as read from the header (not yet authenticated).
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// The data key, if a keyring has unwrapped one.
    pub fn data_key(&self) -> Option<&DataKey> {
        self.data_key.as_ref()
    }

    /// Sets the unwrapped data key.
    ///
    /// # Errors
    /// `ValidationException` if a data key is already set.
    pub fn set_data_key(&mut self, key: DataKey) -> Result<()> {
        if self.data_key.is_some() {
            return Err(Error::validation("the data key is already set"));
        }
        self.data_key = Some(key);
        Ok(())
    }

    pub(crate) fn take_data_key(&mut self) -> Option<DataKey> {
        self.data_key.take()
    }
}

/// A keyring (ESDK keyring interface).
///
/// - `on_encrypt`: if `materials` has no data key, generate one (with `rng`
///   or a KMS `GenerateDataKey`) and set it; then wrap it and add at least
///   one EDK. A keyring that cannot generate fails with `ValidationException`
///   when no data key is set.
/// - `on_decrypt`: if `materials` has no data key yet, try the EDKs this
///   keyring recognises and set the first that unwraps. Not finding one is
///   not an error (return `Ok(())`); the decrypt flow then fails with
///   `InvalidCiphertextException`. Unwrapping must authenticate the
///   encryption context (`materials.encryption_context()`).
pub trait Keyring: fmt::Debug {
    /// Generates and/or wraps the data key. See the trait docs.
    ///
    /// # Errors
    /// Any failure of the wrapping key or service, as a KMS error kind.
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn CryptoRng,
    ) -> Result<()>;

    /// Tries to unwrap one of `edks`; `rng` is for blinding private-key
    /// operations. See the trait docs.
    ///
    /// # Errors
    /// A service failure that the caller should see (e.g. `AccessDeniedException`);
    /// an EDK that does not unwrap is not an error.
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn CryptoRng,
    ) -> Result<()>;
}

impl<K: Keyring + ?Sized> Keyring for &K {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        (**self).on_encrypt(materials, rng)
    }
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        (**self).on_decrypt(materials, edks, rng)
    }
}

impl<K: Keyring + ?Sized> Keyring for Box<K> {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        (**self).on_encrypt(materials, rng)
    }
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        (**self).on_decrypt(materials, edks, rng)
    }
}

/// Tag length in bits, as written in a raw AES keyring's provider info.
const RAW_AES_TAG_BITS: u32 = (TAG_LEN * 8) as u32;

/// The ESDK raw AES keyring: wraps the data key with AES-GCM under a local
/// 128-, 192- or 256-bit wrapping key, with the serialized encryption context
/// as AAD.
///
/// EDK layout (byte-compatible with the ESDKs): provider ID = key namespace;
/// provider info = key name ‖ tag length in bits (u32, 128) ‖ IV length
/// (u32, 12) ‖ IV (12 random bytes); ciphertext = wrapped data key ‖ 16-byte tag.
pub struct RawAesKeyring {
    namespace: String,
    name: String,
    wrapping_key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for RawAesKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAesKeyring")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RawAesKeyring {
    /// A raw AES keyring with key namespace `namespace`, key name `name` and
    /// a 16-, 24- or 32-byte `wrapping_key`.
    ///
    /// # Errors
    /// `ValidationException` if the key length is wrong, the namespace starts
    /// with `aws-kms` (reserved for KMS keyrings), or a name is longer than 65535 bytes.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        wrapping_key: &[u8],
    ) -> Result<Self> {
        let (namespace, name) = (namespace.into(), name.into());
        if !matches!(wrapping_key.len(), 16 | 24 | 32) {
            return Err(Error::validation(
                "a raw AES wrapping key must be 16, 24 or 32 bytes",
            ));
        }
        check_raw_names(&namespace, &name)?;
        Ok(RawAesKeyring {
            namespace,
            name,
            wrapping_key: Zeroizing::new(wrapping_key.to_vec()),
        })
    }
}

pub(crate) fn check_raw_names(namespace: &str, name: &str) -> Result<()> {
    if namespace.starts_with("aws-kms") {
        return Err(Error::validation(
            "key namespace must not start with aws-kms",
        ));
    }
    if namespace.len() > 0xFFFF || name.len() > 0xFFFF - 20 {
        return Err(Error::validation("key namespace or name too long"));
    }
    Ok(())
}

impl Keyring for RawAesKeyring {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        if materials.data_key().is_none() {
            materials.set_data_key(DataKey::generate(rng))?;
        }
        let aad = materials.encryption_context().encode()?;
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut iv);
        let key = materials
            .data_key()
            .ok_or_else(|| Error::internal("data key missing"))?;
        // The plaintext data key is wiped if sealing fails; room for the tag
        // is reserved so that appending it does not leave a copy behind.
        let mut sealing = Zeroizing::new(Vec::with_capacity(key.expose_secret().len() + TAG_LEN));
        sealing.extend_from_slice(key.expose_secret());
        let tag = aes_gcm_seal_in_place(&self.wrapping_key, &iv, &aad, &mut sealing)?;
        sealing.extend_from_slice(&tag);
        let ciphertext = core::mem::take(&mut *sealing);
        let mut provider_info = Vec::with_capacity(self.name.len() + 20);
        provider_info.extend_from_slice(self.name.as_bytes());
        provider_info.extend_from_slice(&RAW_AES_TAG_BITS.to_be_bytes());
        provider_info.extend_from_slice(&(IV_LEN as u32).to_be_bytes());
        provider_info.extend_from_slice(&iv);
        materials.add_encrypted_data_key(EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info,
            ciphertext,
        });
        Ok(())
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        _rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        if materials.data_key().is_some() {
            return Ok(());
        }
        let aad = materials.encryption_context().encode()?;
        let name = self.name.as_bytes();
        for edk in edks {
            if edk.provider_id != self.namespace || edk.provider_info.len() != name.len() + 20 {
                continue;
            }
            let (info_name, rest) = edk.provider_info.split_at(name.len());
            if info_name != name
                || rest[..4] != RAW_AES_TAG_BITS.to_be_bytes()
                || rest[4..8] != (IV_LEN as u32).to_be_bytes()
                || edk.ciphertext.len() != DATA_KEY_LEN + TAG_LEN
            {
                continue;
            }
            let mut iv = [0u8; IV_LEN];
            iv.copy_from_slice(&rest[8..]);
            let mut tag = [0u8; TAG_LEN];
            tag.copy_from_slice(&edk.ciphertext[DATA_KEY_LEN..]);
            let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
            key.copy_from_slice(&edk.ciphertext[..DATA_KEY_LEN]);
            if aes_gcm_open_in_place(&self.wrapping_key, &iv, &aad, &mut key[..], &tag).is_ok() {
                return materials.set_data_key(DataKey(key));
            }
        }
        Ok(())
    }
}

/// The ESDK multi-keyring: an optional generator keyring that makes the
/// data key, and children that each wrap it too. On decrypt, the generator
/// and then each child is tried until one unwraps an EDK.
#[derive(Debug, Default)]
pub struct MultiKeyring {
    generator: Option<Box<dyn Keyring>>,
    children: Vec<Box<dyn Keyring>>,
}

impl MultiKeyring {
    /// A multi-keyring. Without a generator it can only encrypt when another
    /// component has set the data key, and always can decrypt.
    ///
    /// # Errors
    /// `ValidationException` if there is neither a generator nor a child.
    pub fn new(
        generator: Option<Box<dyn Keyring>>,
        children: Vec<Box<dyn Keyring>>,
    ) -> Result<Self> {
        if generator.is_none() && children.is_empty() {
            return Err(Error::validation(
                "a multi-keyring needs a generator or a child",
            ));
        }
        Ok(MultiKeyring {
            generator,
            children,
        })
    }
}

impl Keyring for MultiKeyring {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        match &self.generator {
            Some(g) => g.on_encrypt(materials, rng)?,
            None if materials.data_key().is_none() => {
                return Err(Error::validation(
                    "a multi-keyring without a generator cannot make a data key",
                ))
            }
            None => {}
        }
        for child in &self.children {
            child.on_encrypt(materials, rng)?;
        }
        Ok(())
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        let mut last_error = None;
        for k in self.generator.iter().chain(self.children.iter()) {
            if materials.data_key().is_some() {
                return Ok(());
            }
            if let Err(e) = k.on_decrypt(materials, edks, rng) {
                last_error = Some(e);
            }
        }
        match (materials.data_key(), last_error) {
            (None, Some(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

/// The ESDK raw RSA keyring: wraps the data key with RSA under a local key
/// pair. EDK layout (byte-compatible with the ESDKs): provider ID = key
/// namespace, provider info = key name (UTF-8), ciphertext = the RSA
/// ciphertext of the data key (modulus length).
///
/// Paddings: OAEP with SHA-1/256/384/512 (and MGF1 with the same hash) for
/// both directions; PKCS#1 v1.5 to decrypt old data only.
pub struct RawRsaKeyring {
    namespace: String,
    name: String,
    padding: RsaWrapPadding,
    public_key: Option<Vec<u8>>,
    private_key: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for RawRsaKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRsaKeyring")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("padding", &self.padding)
            .field("can_decrypt", &self.private_key.is_some())
            .finish_non_exhaustive()
    }
}

impl RawRsaKeyring {
    /// A raw RSA keyring. `public_key` is SubjectPublicKeyInfo DER (needed to
    /// encrypt; derived from the private key if absent), `private_key` is
    /// PKCS#8 DER (needed to decrypt: without it, decryption with this
    /// keyring is a `ValidationException` naming the missing private key).
    ///
    /// # Errors
    /// `ValidationException` if neither key is given, a key does not parse,
    /// the namespace starts with `aws-kms`, or PKCS#1 v1.5 is combined with a
    /// public key only (it cannot be used to encrypt).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        padding: RsaWrapPadding,
        public_key: Option<&[u8]>,
        private_key: Option<&[u8]>,
    ) -> Result<Self> {
        let (namespace, name) = (namespace.into(), name.into());
        check_raw_names(&namespace, &name)?;
        let public_key = match (public_key, private_key) {
            (Some(p), _) => Some(p.to_vec()),
            (None, Some(k)) => Some(rsa_wrap_public_key(k)?),
            (None, None) => return Err(Error::validation("a raw RSA keyring needs a key")),
        };
        if private_key.is_none() && padding == RsaWrapPadding::Pkcs1v15 {
            return Err(Error::validation(
                "PKCS#1 v1.5 is for decrypting old data and needs a private key",
            ));
        }
        if let Some(k) = private_key {
            // Parse once now so that a bad key fails here, not on first use.
            rsa_wrap_public_key(k)?;
        }
        Ok(RawRsaKeyring {
            namespace,
            name,
            padding,
            public_key,
            private_key: private_key.map(|k| Zeroizing::new(k.to_vec())),
        })
    }
}

impl Keyring for RawRsaKeyring {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        let public_key = self
            .public_key
            .as_deref()
            .ok_or_else(|| Error::validation("this raw RSA keyring has no public key"))?;
        if self.padding == RsaWrapPadding::Pkcs1v15 {
            return Err(Error::validation("PKCS#1 v1.5 is not used to encrypt"));
        }
        if materials.data_key().is_none() {
            materials.set_data_key(DataKey::generate(rng))?;
        }
        let key = materials
            .data_key()
            .ok_or_else(|| Error::internal("data key missing"))?;
        let ciphertext = rsa_wrap(self.padding, public_key, key.expose_secret(), rng)?;
        materials.add_encrypted_data_key(EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info: self.name.as_bytes().to_vec(),
            ciphertext,
        });
        Ok(())
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn CryptoRng,
    ) -> Result<()> {
        // A keyring made from a public key alone cannot decrypt: say so
        // (as the AWS Encryption SDKs do) rather than let the message look
        // invalid. In a multi-keyring this error counts only when no other
        // keyring unwraps the data key.
        let Some(private_key) = self.private_key.as_deref() else {
            return Err(Error::validation(
                "this raw RSA keyring has no private key (privateKey / private_key): it can encrypt but not decrypt",
            ));
        };
        for edk in edks {
            if materials.data_key().is_some() {
                break;
            }
            if edk.provider_id != self.namespace || edk.provider_info != self.name.as_bytes() {
                continue;
            }
            if let Ok(key) = rsa_unwrap(self.padding, private_key, &edk.ciphertext, rng) {
                if let Ok(key) = DataKey::from_bytes(&key) {
                    materials.set_data_key(key)?;
                }
            }
        }
        Ok(())
    }
}
