//! Keystore methods for asymmetric and HMAC keys, data key pairs and the
//! import of key material. Each loads the key it names, calls the pure
//! function of [`strongroom_core::asym`], and stores what changed.

use strongroom_core::api::*;
use strongroom_core::asym;
use strongroom_core::key::{EncryptionAlgorithm, KeySpec};
use strongroom_core::ops;

use crate::{os_rng, Keystore, Result};

impl Keystore {
    /// Sign with an RSA or ECC `SIGN_VERIFY` key. `MessageType` `RAW`
    /// (default, 1–4096 bytes, hashed once) or `DIGEST` (exactly the hash
    /// length, not hashed again). RSA signatures are as long as the modulus;
    /// ECDSA signatures are DER.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::sign`]; `NotFoundException`.
    pub fn sign(&self, req: &SignRequest) -> Result<SignResponse> {
        let rec = self.load(&req.key_id)?;
        asym::sign(&self.env(), &mut os_rng(), &rec, req)
    }

    /// Verify a signature made by [`sign`](Self::sign) (or by anyone holding
    /// the private key).
    ///
    /// # Errors
    /// `KMSInvalidSignatureException` when it does not verify; see
    /// [`strongroom_core::asym::verify`].
    pub fn verify(&self, req: &VerifyRequest) -> Result<VerifyResponse> {
        let rec = self.load(&req.key_id)?;
        asym::verify(&self.env(), &rec, req)
    }

    /// GetPublicKey: DER SubjectPublicKeyInfo of an RSA or ECC key.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::get_public_key`]; `NotFoundException`.
    pub fn get_public_key(&self, key_id: &str) -> Result<GetPublicKeyResponse> {
        let rec = self.load(key_id)?;
        asym::get_public_key(&self.env(), &rec)
    }

    /// GenerateMac with an HMAC key (message 1–4096 bytes).
    ///
    /// # Errors
    /// See [`strongroom_core::asym::generate_mac`]; `NotFoundException`.
    pub fn generate_mac(&self, req: &GenerateMacRequest) -> Result<GenerateMacResponse> {
        let rec = self.load(&req.key_id)?;
        asym::generate_mac(&self.env(), &rec, req)
    }

    /// VerifyMac (constant-time comparison).
    ///
    /// # Errors
    /// `KMSInvalidMacException` on a mismatch; see
    /// [`strongroom_core::asym::verify_mac`].
    pub fn verify_mac(&self, req: &VerifyMacRequest) -> Result<VerifyMacResponse> {
        let rec = self.load(&req.key_id)?;
        asym::verify_mac(&self.env(), &rec, req)
    }

    /// GenerateDataKeyPair: a key pair whose private key (PKCS#8 DER) is
    /// returned in plaintext and encrypted under the symmetric key `KeyId`.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::generate_data_key_pair`].
    pub fn generate_data_key_pair(
        &self,
        req: &GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        let rec = self.load(&req.key_id)?;
        asym::generate_data_key_pair(&self.env(), &mut os_rng(), &rec, req)
    }

    /// GenerateDataKeyPairWithoutPlaintext: as
    /// [`generate_data_key_pair`](Self::generate_data_key_pair) without the
    /// plaintext private key (which is dropped, and zeroized, here).
    ///
    /// # Errors
    /// As [`generate_data_key_pair`](Self::generate_data_key_pair).
    pub fn generate_data_key_pair_without_plaintext(
        &self,
        req: &GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairWithoutPlaintextResponse> {
        let r = self.generate_data_key_pair(req)?;
        Ok(GenerateDataKeyPairWithoutPlaintextResponse {
            private_key_ciphertext_blob: r.private_key_ciphertext_blob,
            public_key: r.public_key,
            key_id: r.key_id,
            key_pair_spec: r.key_pair_spec,
        })
    }

    /// GetParametersForImport for a key with Origin `EXTERNAL`: an RSA
    /// wrapping public key (DER SPKI) and an import token, valid 24 hours.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::get_parameters_for_import`].
    pub fn get_parameters_for_import(
        &self,
        req: &GetParametersForImportRequest,
    ) -> Result<GetParametersForImportResponse> {
        let rec = self.load(&req.key_id)?;
        asym::get_parameters_for_import(&self.env(), &mut os_rng(), &rec, req)
    }

    /// ImportKeyMaterial: imports wrapped material into an `EXTERNAL` key.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::import_key_material`].
    pub fn import_key_material(&self, req: &ImportKeyMaterialRequest) -> Result<()> {
        self.modify(&req.key_id, |env, r| {
            asym::import_key_material(env, &mut os_rng(), r, req)
        })
    }

    /// DeleteImportedKeyMaterial: the key returns to `PendingImport`.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::delete_imported_key_material`].
    pub fn delete_imported_key_material(&self, key_id: &str) -> Result<()> {
        self.modify(key_id, |_, r| asym::delete_imported_key_material(r))
    }

    /// Decrypt for a request whose `KeyId` names an asymmetric key
    /// (RSAES-OAEP); `None` when the request is for the symmetric blob flow.
    pub(crate) fn decrypt_if_asymmetric(
        &self,
        req: &DecryptRequest,
    ) -> Result<Option<DecryptResponse>> {
        let Some(key_id) = req.key_id.as_deref() else {
            return Ok(None);
        };
        let rec = self.load(key_id)?;
        if rec.key_spec == KeySpec::SymmetricDefault {
            return Ok(None);
        }
        asym::decrypt(&self.env(), &mut os_rng(), &rec, req).map(Some)
    }

    /// ReEncrypt when the source (named by `SourceKeyId`) or the destination
    /// is an RSA key: decrypts with RSAES-OAEP or from a symmetric blob, and
    /// encrypts with RSAES-OAEP or into a symmetric blob, never returning
    /// the plaintext. `None` when both sides are symmetric.
    pub(crate) fn re_encrypt_if_asymmetric(
        &self,
        req: &ReEncryptRequest,
    ) -> Result<Option<ReEncryptResponse>> {
        let src_rsa = match req.source_key_id.as_deref() {
            Some(k) => Some(self.load(k)?).filter(|r| asym::rsa_size(r.key_spec).is_some()),
            None => None,
        };
        let dst = self.load(&req.destination_key_id)?;
        if src_rsa.is_none() && asym::rsa_size(dst.key_spec).is_none() {
            return Ok(None);
        }
        let env = self.env();
        let mut rng = os_rng();
        let (plaintext, source_key_id, source_alg) = match src_rsa {
            Some(src) => {
                let d = asym::decrypt(
                    &env,
                    &mut rng,
                    &src,
                    &DecryptRequest {
                        ciphertext_blob: req.ciphertext_blob.clone(),
                        encryption_context: req.source_encryption_context.clone(),
                        key_id: Some(src.key_id.clone()),
                        encryption_algorithm: req.source_encryption_algorithm,
                        grant_tokens: req.grant_tokens.clone(),
                    },
                )?;
                (d.plaintext, d.key_id, d.encryption_algorithm)
            }
            None => {
                if req
                    .source_encryption_algorithm
                    .is_some_and(|a| a != EncryptionAlgorithm::SymmetricDefault)
                {
                    return Err(crate::Error::new(
                        crate::ErrorKind::InvalidKeyUsageException,
                        "SourceEncryptionAlgorithm is not valid for a symmetric key",
                    ));
                }
                let src = self.blob_key(&req.ciphertext_blob, req.source_key_id.as_deref())?;
                let p = ops::decrypt_symmetric(
                    &env,
                    &src,
                    &req.ciphertext_blob,
                    &req.source_encryption_context,
                )?;
                (p, src.arn, EncryptionAlgorithm::SymmetricDefault)
            }
        };
        let r = ops::encrypt(
            &env,
            &mut rng,
            &dst,
            &EncryptRequest {
                key_id: dst.key_id.clone(),
                plaintext,
                encryption_context: req.destination_encryption_context.clone(),
                encryption_algorithm: req.destination_encryption_algorithm,
                grant_tokens: req.grant_tokens.clone(),
            },
        )?;
        Ok(Some(ReEncryptResponse {
            ciphertext_blob: r.ciphertext_blob,
            source_key_id,
            key_id: r.key_id,
            source_encryption_algorithm: source_alg,
            destination_encryption_algorithm: r.encryption_algorithm,
        }))
    }
}
