//! Envelope encryption in the AWS Encryption SDK message format
//! ([`strongroom_core::envelope`]): keyrings (raw AES, raw RSA, multi, and
//! the KMS keyring over a `Keystore`), one-call encryption and decryption of
//! `Uint8Array`s, and incremental (chunk in, chunk out) encryptors and
//! decryptors whose memory stays bounded by about two frames.

use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use rand_core::UnwrapErr;
use strongroom_core::api::{
    DecryptRequest, DecryptResponse, DescribeKeyResponse, EncryptRequest, EncryptResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse,
};
use strongroom_core::envelope::kms::{self, KmsClient};
use strongroom_core::envelope::{
    self, AlgorithmSuite, CommitmentPolicy, DecryptOptions, DecryptionMaterials, Decryptor,
    EncryptOptions, EncryptedDataKey, EncryptionMaterials, Encryptor, Keyring as CoreKeyring,
    MessageHeader, MultiKeyring, RawAesKeyring, RawRsaKeyring, RsaWrapPadding,
    DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
};
use strongroom_core::memstore::MemKeystore;
use strongroom_core::{Error, ErrorKind, Result, Secret};
use wasm_bindgen::prelude::*;

use crate::convert::{bytes_arg, bytes_to_js, context_to_js, object, Req};
use crate::{js_err, now, rng, JsResult, Keystore};

/// A keyring shared between its JavaScript handle, multi-keyrings holding
/// it and running decryptors.
#[derive(Debug, Clone)]
struct Shared(Rc<dyn CoreKeyring>);

impl CoreKeyring for Shared {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        self.0.on_encrypt(materials, rng)
    }
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        self.0.on_decrypt(materials, edks, rng)
    }
}

/// The Strongroom KMS keyring over an in-memory keystore, writing encrypted
/// data keys exactly as the native `KmsKeyring` (and the ESDK's AWS KMS
/// keyring) does: provider ID `aws-kms`, the key ARN (UTF-8) as provider
/// info, the KMS ciphertext blob as ciphertext.
///
/// - Encrypt: the first key generates the data key (`GenerateDataKey`, 32
///   bytes), every other key wraps it (`Encrypt`); the message's encryption
///   context is the KMS encryption context.
/// - Decrypt: tries each `aws-kms` EDK whose ARN names a key of this
///   keystore (and, unless it is a discovery keyring, one of `key_ids`),
///   calling `Decrypt` with that ARN as `KeyId`.
#[derive(Debug)]
struct KmsKeyring {
    store: Rc<RefCell<MemKeystore>>,
    /// How the keystore handle the keyring was made over calls it
    /// (principal, dry run).
    acting: crate::Acting,
    /// Empty for a discovery keyring.
    key_ids: Vec<String>,
    /// Grant tokens passed on every KMS call.
    grant_tokens: Vec<String>,
}

impl KmsKeyring {
    fn store(&self) -> Result<RefMut<'_, MemKeystore>> {
        crate::acting(&self.store, &self.acting)
    }
}

/// The KMS calls of [`KmsKeyring`]: the in-memory keystore's operations,
/// at the time the keyring was called, with the caller's randomness.
struct Client<'a> {
    ks: RefMut<'a, MemKeystore>,
    now: u64,
    rng: &'a mut dyn rand_core::CryptoRng,
}

impl<'a> Client<'a> {
    /// The clock is read before the keystore is borrowed: a replaced
    /// `Date.now` that calls the keystore must find it free.
    fn new(keyring: &'a KmsKeyring, rng: &'a mut dyn rand_core::CryptoRng) -> Result<Client<'a>> {
        let now = now()?;
        Ok(Client {
            ks: keyring.store()?,
            now,
            rng,
        })
    }
}

impl KmsClient for Client<'_> {
    fn region(&self) -> String {
        self.ks.region().to_string()
    }
    fn account(&self) -> String {
        self.ks.account().to_string()
    }
    fn generate_data_key(
        &mut self,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        self.ks.generate_data_key(self.rng, self.now, req)
    }
    fn encrypt(&mut self, req: &EncryptRequest) -> Result<EncryptResponse> {
        self.ks.encrypt(self.rng, self.now, req)
    }
    fn decrypt(&mut self, req: &DecryptRequest) -> Result<DecryptResponse> {
        self.ks.decrypt(self.rng, self.now, req)
    }
    fn describe_key(&mut self, key_id: &str) -> Result<DescribeKeyResponse> {
        self.ks.describe_key(self.rng, self.now, key_id)
    }
}

/// The AWS KMS keyring's rules are `strongroom_core::envelope::kms`'s.
impl CoreKeyring for KmsKeyring {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        let mut client = Client::new(self, rng)?;
        kms::on_encrypt(&mut client, &self.key_ids, &self.grant_tokens, materials)
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        let mut client = Client::new(self, rng)?;
        kms::on_decrypt(
            &mut client,
            &self.key_ids,
            &self.grant_tokens,
            materials,
            edks,
        )
    }
}

/// Wraps and unwraps data keys: raw AES, raw RSA, Strongroom KMS keys, or
/// several at once.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Keyring {
    inner: Shared,
    /// For multi-keyrings: the parts, so that `withChild` can extend them.
    multi: Option<(Shared, Vec<Shared>)>,
}

fn rsa_padding(s: &str) -> Result<RsaWrapPadding> {
    Ok(match s {
        "OAEP_SHA1_MGF1" | "RSAES_OAEP_SHA_1" => RsaWrapPadding::OaepSha1,
        "OAEP_SHA256_MGF1" | "RSAES_OAEP_SHA_256" => RsaWrapPadding::OaepSha256,
        "OAEP_SHA384_MGF1" => RsaWrapPadding::OaepSha384,
        "OAEP_SHA512_MGF1" => RsaWrapPadding::OaepSha512,
        "PKCS1" => RsaWrapPadding::Pkcs1v15,
        other => {
            return Err(Error::validation(format!(
                "'{other}' is not a padding; valid: OAEP_SHA1_MGF1, OAEP_SHA256_MGF1, \
                 OAEP_SHA384_MGF1, OAEP_SHA512_MGF1, PKCS1"
            )))
        }
    })
}

/// The suite of exactly this ESDK name (the TypeScript type lists them).
fn suite(s: &str) -> Result<AlgorithmSuite> {
    AlgorithmSuite::ALL
        .into_iter()
        .find(|x| x.name() == s)
        .ok_or_else(|| Error::validation(format!("'{s}' is not a supported algorithm suite")))
}

/// The commitment policy of exactly this ESDK name.
fn commitment_policy(s: &str) -> Result<CommitmentPolicy> {
    CommitmentPolicy::ALL
        .into_iter()
        .find(|p| p.name() == s)
        .ok_or_else(|| Error::validation(format!("'{s}' is not a commitment policy")))
}

fn max_edks(r: &Req) -> Result<Option<u16>> {
    r.opt_u32("maxEncryptedDataKeys")?
        .map(|n| {
            u16::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::validation("maxEncryptedDataKeys must be 1 to 65535"))
        })
        .transpose()
}

/// `maxEncryptedDataKeys` of the decryption options: absent (or `null`) for
/// the default, `DEFAULT_MAX_ENCRYPTED_DATA_KEYS` (10: each EDK the keyring
/// tries may cost a KMS Decrypt call); `false` for no limit, as in the AWS
/// Encryption SDK for JavaScript; else 1 to 65535.
fn decrypt_max_edks(r: &Req) -> Result<Option<u16>> {
    match r.get("maxEncryptedDataKeys")? {
        None => Ok(Some(DEFAULT_MAX_ENCRYPTED_DATA_KEYS)),
        Some(v) if v.as_bool() == Some(false) => Ok(None),
        Some(_) => max_edks(r).map_err(|_| {
            Error::validation("maxEncryptedDataKeys must be 1 to 65535, or false for no limit")
        }),
    }
}

fn encrypt_options(
    options: &JsValue,
) -> Result<(strongroom_core::EncryptionContext, EncryptOptions)> {
    let r = Req::new(
        options,
        &[
            "encryptionContext",
            "algorithmSuite",
            "frameLength",
            "maxEncryptedDataKeys",
        ],
    )?;
    let mut o = EncryptOptions::default();
    if let Some(s) = r.opt_str("algorithmSuite")? {
        o.suite = suite(&s)?;
    }
    if let Some(n) = r.opt_u64("frameLength")? {
        // As given (not clamped to u32), for the message to tell it.
        o.set_frame_length(n)?;
    }
    o.max_encrypted_data_keys = max_edks(&r)?;
    Ok((r.context("encryptionContext")?, o))
}

/// Decryption options and `unsignedOnly` (refuse signed suites before any
/// data key is unwrapped: `Decryptor::refuse_signed_suites`).
fn decrypt_options(options: &JsValue) -> Result<(DecryptOptions, bool)> {
    let r = Req::new(
        options,
        &[
            "commitmentPolicy",
            "maxEncryptedDataKeys",
            "requiredEncryptionContext",
            "maxFrameBuffer",
            "unsignedOnly",
        ],
    )?;
    let mut o = DecryptOptions::default();
    if let Some(p) = r.opt_str("commitmentPolicy")? {
        o.commitment_policy = commitment_policy(&p)?;
    }
    o.max_encrypted_data_keys = decrypt_max_edks(&r)?;
    o.required_encryption_context = r.context("requiredEncryptionContext")?;
    // Core's one rule for the option (1 to 2^32 - 1 bytes).
    o.set_max_frame_buffer(r.opt_u64("maxFrameBuffer")?)?;
    Ok((o, r.opt_bool("unsignedOnly")?.unwrap_or(false)))
}

/// A core decryptor over `keyring` with `options`.
fn decryptor<'k>(
    keyring: &'k dyn CoreKeyring,
    (options, unsigned_only): (DecryptOptions, bool),
    rng: &'k mut UnwrapErr<getrandom::SysRng>,
) -> Decryptor<'k> {
    let d = Decryptor::new(keyring, options, rng);
    if unsigned_only {
        d.refuse_signed_suites()
    } else {
        d
    }
}

/// The authenticated header as a plain object.
fn header_to_js(h: &MessageHeader) -> JsValue {
    let edks: Array = h
        .encrypted_data_keys
        .iter()
        .map(|e| {
            object(&[
                ("providerId", e.provider_id.as_str().into()),
                ("providerInfo", bytes_to_js(&e.provider_info)),
            ])
        })
        .collect();
    object(&[
        ("algorithmSuite", h.suite.name().into()),
        ("messageId", bytes_to_js(&h.message_id)),
        ("encryptionContext", context_to_js(&h.encryption_context)),
        ("encryptedDataKeys", edks.into()),
        ("frameLength", h.frame_length.into()),
    ])
}

#[wasm_bindgen]
impl Keyring {
    /// The ESDK raw AES keyring: `{ keyNamespace, keyName, wrappingKey }`
    /// with a 16-, 24- or 32-byte wrapping key.
    #[wasm_bindgen(js_name = rawAes)]
    pub fn raw_aes(
        #[wasm_bindgen(unchecked_param_type = "RawAesKeyringOptions")] options: JsValue,
    ) -> JsResult<Keyring> {
        (|| {
            let r = Req::new(&options, &["keyNamespace", "keyName", "wrappingKey"])?;
            let key = strongroom_core::Secret::new(r.bytes("wrappingKey")?);
            let k = RawAesKeyring::new(
                r.str("keyNamespace")?,
                r.str("keyName")?,
                key.expose_secret(),
            )?;
            Ok(Keyring {
                inner: Shared(Rc::new(k)),
                multi: None,
            })
        })()
        .map_err(js_err)
    }

    /// The ESDK raw RSA keyring: `{ keyNamespace, keyName, padding,
    /// publicKey?: SPKI DER, privateKey?: PKCS#8 DER }`.
    #[wasm_bindgen(js_name = rawRsa)]
    pub fn raw_rsa(
        #[wasm_bindgen(unchecked_param_type = "RawRsaKeyringOptions")] options: JsValue,
    ) -> JsResult<Keyring> {
        (|| {
            let r = Req::new(
                &options,
                &[
                    "keyNamespace",
                    "keyName",
                    "padding",
                    "publicKey",
                    "privateKey",
                ],
            )?;
            let private = r.opt_bytes("privateKey")?.map(strongroom_core::Secret::new);
            let k = RawRsaKeyring::new(
                r.str("keyNamespace")?,
                r.str("keyName")?,
                rsa_padding(&r.str("padding")?)?,
                r.opt_bytes("publicKey")?.as_deref(),
                private.as_ref().map(|p| p.expose_secret()),
            )?;
            Ok(Keyring {
                inner: Shared(Rc::new(k)),
                multi: None,
            })
        })()
        .map_err(js_err)
    }

    /// The Strongroom KMS keyring over `keystore`: `{ keyIds: string[],
    /// grantTokens?: string[] }` (key IDs, key ARNs, alias names or alias
    /// ARNs; the first generates the data key, each can decrypt). It calls
    /// the keystore as the principal of the `keystore` handle, passing the
    /// grant tokens on every call. Messages carry one EDK per key with
    /// provider ID `aws-kms` and the key ARN as provider info, as the native
    /// library's and the ESDK's AWS KMS keyrings write them.
    pub fn kms(
        keystore: &Keystore,
        #[wasm_bindgen(unchecked_param_type = "KmsKeyringOptions")] options: JsValue,
    ) -> JsResult<Keyring> {
        (|| {
            let r = Req::new(&options, &["keyIds", "grantTokens"])?;
            let key_ids = r.str_list("keyIds")?;
            if key_ids.is_empty() {
                return Err(Error::validation(
                    "keyIds must name at least one key (or use Keyring.kmsDiscovery)",
                ));
            }
            Self::over_keystore(keystore, key_ids, r.str_list("grantTokens")?)
        })()
        .map_err(js_err)
    }

    /// A discovery KMS keyring: decrypts with whichever key of `keystore`
    /// an `aws-kms` EDK names; cannot encrypt. `{ grantTokens? }` as for `kms`.
    #[wasm_bindgen(js_name = kmsDiscovery)]
    pub fn kms_discovery(
        keystore: &Keystore,
        #[wasm_bindgen(unchecked_optional_param_type = "KmsDiscoveryOptions")] options: Option<
            JsValue,
        >,
    ) -> JsResult<Keyring> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        (|| {
            let r = Req::new(&options, &["grantTokens"])?;
            Self::over_keystore(keystore, Vec::new(), r.str_list("grantTokens")?)
        })()
        .map_err(js_err)
    }

    fn over_keystore(
        keystore: &Keystore,
        key_ids: Vec<String>,
        grant_tokens: Vec<String>,
    ) -> Result<Keyring> {
        let (store, acting) = keystore.shared();
        crate::acting(&store, &crate::Acting::default())?.check_grant_tokens(&grant_tokens)?;
        Ok(Keyring {
            inner: Shared(Rc::new(KmsKeyring {
                store,
                acting,
                key_ids,
                grant_tokens,
            })),
            multi: None,
        })
    }

    /// A multi-keyring whose generator makes and wraps the data key; add
    /// more wrapping keyrings with `withChild`. Decryption tries each in turn.
    pub fn multi(generator: &Keyring) -> JsResult<Keyring> {
        Self::build_multi(generator.inner.clone(), Vec::new())
    }

    /// A new multi-keyring: this one's generator and children plus `child`
    /// (this keyring, if it is not a multi-keyring, becomes the generator).
    #[wasm_bindgen(js_name = withChild)]
    pub fn with_child(&self, child: &Keyring) -> JsResult<Keyring> {
        let (generator, mut children) = match &self.multi {
            Some((g, c)) => (g.clone(), c.clone()),
            None => (self.inner.clone(), Vec::new()),
        };
        children.push(child.inner.clone());
        Self::build_multi(generator, children)
    }

    fn build_multi(generator: Shared, children: Vec<Shared>) -> JsResult<Keyring> {
        let k = MultiKeyring::new(
            Some(Box::new(generator.clone())),
            children
                .iter()
                .map(|c| Box::new(c.clone()) as Box<dyn CoreKeyring>)
                .collect(),
        )
        .map_err(js_err)?;
        Ok(Keyring {
            inner: Shared(Rc::new(k)),
            multi: Some((generator, children)),
        })
    }
}

/// Encrypts `plaintext` into one message.
#[wasm_bindgen(js_name = encryptMessage)]
pub fn encrypt_message(
    keyring: &Keyring,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] plaintext: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "EncryptMessageOptions")] options: Option<
        JsValue,
    >,
) -> JsResult<Vec<u8>> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    (|| {
        let plaintext = Secret::new(bytes_arg(&plaintext, "plaintext")?);
        let (ctx, o) = encrypt_options(&options)?;
        envelope::encrypt(
            &keyring.inner,
            &ctx,
            plaintext.expose_secret(),
            &o,
            &mut rng(),
        )
        .map_err(|e| {
            out_of_memory(
                e,
                "the message does not fit in the module's memory; encrypt the data in chunks \
                 with MessageEncryptor, or with a larger frame length (each frame adds 32 bytes)",
            )
        })
    })()
    .map_err(js_err)
}

/// `e`, with the advice of this package (its class names) when it is the
/// core's `LimitExceededException` for a one-call message that does not fit
/// in memory.
fn out_of_memory(e: Error, advice: &str) -> Error {
    if e.kind() == ErrorKind::LimitExceededException
        && e.message().contains("does not fit in memory")
    {
        Error::new(ErrorKind::LimitExceededException, advice)
    } else {
        e
    }
}

/// Decrypts a whole message; nothing is returned unless it fully
/// authenticates (signature included).
#[wasm_bindgen(js_name = decryptMessage, unchecked_return_type = "DecryptMessageResult")]
pub fn decrypt_message(
    keyring: &Keyring,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "DecryptMessageOptions")] options: Option<
        JsValue,
    >,
) -> JsResult<JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    (|| {
        let message = bytes_arg(&message, "message")?;
        let mut rng = UnwrapErr(getrandom::SysRng);
        let (pt, header) = decryptor(&keyring.inner, decrypt_options(&options)?, &mut rng)
            .decrypt_all(&message)
            .map_err(|e| {
                out_of_memory(
                    e,
                    "the message's plaintext does not fit in the module's memory; decrypt the \
                     message in chunks with MessageDecryptor",
                )
            })?;
        let pt = Secret::new(pt);
        Ok(object(&[
            ("plaintext", Uint8Array::from(pt.expose_secret()).into()),
            ("messageHeader", header_to_js(&header)),
        ]))
    })()
    .map_err(js_err)
}

/// Writes one message incrementally: `update(chunk)` returns the message
/// bytes completed so far (whole frames), `finish()` the rest.
#[wasm_bindgen]
#[derive(Debug)]
pub struct MessageEncryptor {
    inner: Option<Encryptor>,
}

#[wasm_bindgen]
impl MessageEncryptor {
    /// Starts a message (options as for `encryptMessage`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        keyring: &Keyring,
        #[wasm_bindgen(unchecked_optional_param_type = "EncryptMessageOptions")] options: Option<
            JsValue,
        >,
    ) -> JsResult<MessageEncryptor> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        (|| {
            let (ctx, o) = encrypt_options(&options)?;
            Ok(MessageEncryptor {
                inner: Some(Encryptor::new(&keyring.inner, &ctx, &o, &mut rng())?),
            })
        })()
        .map_err(js_err)
    }

    fn finished() -> JsValue {
        js_err(Error::validation("the message is already finished"))
    }

    /// Feeds plaintext; returns the message bytes ready so far.
    pub fn update(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] chunk: JsValue,
    ) -> JsResult<Vec<u8>> {
        let chunk = Secret::new(bytes_arg(&chunk, "chunk").map_err(js_err)?);
        let enc = self.inner.as_mut().ok_or_else(Self::finished)?;
        let mut out = Vec::new();
        enc.update(chunk.expose_secret(), &mut out)
            .map_err(js_err)?;
        Ok(out)
    }

    /// Ends the message: the final frame and, for signing suites, the footer.
    pub fn finish(&mut self) -> JsResult<Vec<u8>> {
        let enc = self.inner.take().ok_or_else(Self::finished)?;
        let mut out = Vec::new();
        enc.finish(&mut out, &mut rng()).map_err(js_err)?;
        Ok(out)
    }
}

/// A keyring that is whichever keyring the running decryptor has set; lets
/// a [`Decryptor`] (which borrows its keyring) live in a JavaScript object.
#[derive(Debug)]
struct Current;

thread_local! {
    static CURRENT: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

static CURRENT_KEYRING: Current = Current;

impl Current {
    fn with<T>(&self, f: impl FnOnce(&Shared) -> Result<T>) -> Result<T> {
        let k = CURRENT.with(|c| c.borrow().clone());
        match k {
            Some(k) => f(&k),
            None => Err(Error::internal("no keyring is set for this decryptor")),
        }
    }
}

impl CoreKeyring for Current {
    fn on_encrypt(
        &self,
        materials: &mut EncryptionMaterials,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        self.with(|k| k.on_encrypt(materials, rng))
    }
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        self.with(|k| k.on_decrypt(materials, edks, rng))
    }
}

/// Reads one message incrementally: `update(chunk)` returns the plaintext
/// of every frame completed and authenticated by it; `finish()` checks that
/// the message is complete (and its signature valid) and returns the header.
///
/// For signed suites (the default `AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384`)
/// the plaintext from `update` is not final until `finish()` succeeds.
#[wasm_bindgen]
#[derive(Debug)]
pub struct MessageDecryptor {
    keyring: Shared,
    inner: Option<Decryptor<'static>>,
    /// `isSigned` of the message once `finish()` has consumed `inner`.
    signed: Option<bool>,
}

#[wasm_bindgen]
impl MessageDecryptor {
    /// A decryptor (options as for `decryptMessage`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        keyring: &Keyring,
        #[wasm_bindgen(unchecked_optional_param_type = "DecryptMessageOptions")] options: Option<
            JsValue,
        >,
    ) -> JsResult<MessageDecryptor> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        let o = decrypt_options(&options).map_err(js_err)?;
        // The RNG is a zero-sized handle on crypto.getRandomValues, so leaking
        // its box allocates nothing.
        let rng: &'static mut UnwrapErr<getrandom::SysRng> =
            Box::leak(Box::new(UnwrapErr(getrandom::SysRng)));
        Ok(MessageDecryptor {
            keyring: keyring.inner.clone(),
            inner: Some(decryptor(&CURRENT_KEYRING, o, rng)),
            signed: None,
        })
    }

    fn finished() -> JsValue {
        js_err(Error::validation("the message is already finished"))
    }

    fn with_keyring<T>(&self, f: impl FnOnce() -> T) -> T {
        CURRENT.with(|c| *c.borrow_mut() = Some(self.keyring.clone()));
        let out = f();
        CURRENT.with(|c| *c.borrow_mut() = None);
        out
    }

    /// Feeds ciphertext; returns the plaintext authenticated so far.
    #[wasm_bindgen(unchecked_return_type = "Uint8Array")]
    pub fn update(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] chunk: JsValue,
    ) -> JsResult<JsValue> {
        let chunk = bytes_arg(&chunk, "chunk").map_err(js_err)?;
        let keyring = self.keyring.clone();
        let dec = self.inner.as_mut().ok_or_else(Self::finished)?;
        let mut out = Vec::new();
        CURRENT.with(|c| *c.borrow_mut() = Some(keyring));
        let r = dec.update(&chunk, &mut out);
        CURRENT.with(|c| *c.borrow_mut() = None);
        // Signed messages: the caller learns from `isSigned` that this
        // plaintext is final only once finish() succeeds.
        // Copied out, then wiped: a returned Vec would be freed with the
        // plaintext still in the module's memory.
        let out = Secret::new(out);
        let _released = r.map_err(js_err)?;
        Ok(Uint8Array::from(out.expose_secret()).into())
    }

    /// True for a signed message, once its header has been read.
    #[wasm_bindgen(getter, js_name = isSigned)]
    pub fn is_signed(&self) -> Option<bool> {
        match &self.inner {
            Some(d) => d.is_signed(),
            None => self.signed,
        }
    }

    /// Checks that the whole message was read and authenticated; returns
    /// its header.
    #[wasm_bindgen(unchecked_return_type = "MessageHeader")]
    pub fn finish(&mut self) -> JsResult<JsValue> {
        let dec = self.inner.take().ok_or_else(Self::finished)?;
        self.signed = dec.is_signed();
        let header = self.with_keyring(|| dec.finish()).map_err(js_err)?;
        Ok(header_to_js(&header))
    }
}
