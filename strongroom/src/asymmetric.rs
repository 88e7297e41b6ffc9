//! Keystore methods for asymmetric and HMAC keys, data key pairs and the
//! import of key material. Each loads the key it names, calls the pure
//! function of [`strongroom_core::asym`], and stores what changed.

use strongroom_core::access;
use strongroom_core::api::*;
use strongroom_core::asym;
use strongroom_core::key::{EncryptionAlgorithm, KeySpec};
use strongroom_core::ops;
use strongroom_core::policy::PolicyRequest;

use strongroom_core::audit::RequestParameters;
use strongroom_core::EncryptionContext;

use crate::access::Call;
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
        let message_type = req.message_type.map_or("RAW", |m| m.as_str());
        let alg = req.signing_algorithm.map(|a| a.as_str());
        let params = RequestParameters::signature(&req.key_id, alg, message_type);
        self.call("Sign", params, |call| {
            let rec = self.load_for(call, "Sign", &req.key_id, &req.grant_tokens, |r| {
                access::signing_conditions(r, alg, message_type)
            })?;
            asym::sign(&self.env(), &mut os_rng(), &rec, req)
        })
    }

    /// Verify a signature made by [`sign`](Self::sign) (or by anyone holding
    /// the private key).
    ///
    /// # Errors
    /// `KMSInvalidSignatureException` when it does not verify; see
    /// [`strongroom_core::asym::verify`].
    pub fn verify(&self, req: &VerifyRequest) -> Result<VerifyResponse> {
        let message_type = req.message_type.map_or("RAW", |m| m.as_str());
        let alg = req.signing_algorithm.map(|a| a.as_str());
        let params = RequestParameters::signature(&req.key_id, alg, message_type);
        self.call("Verify", params, |call| {
            let rec = self.load_for(call, "Verify", &req.key_id, &req.grant_tokens, |r| {
                access::signing_conditions(r, alg, message_type)
            })?;
            let env = self.env();
            asym::verify_with(&rec, req, || rec.public_key(&env))
        })
    }

    /// GetPublicKey: DER SubjectPublicKeyInfo of an RSA or ECC key.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::get_public_key`]; `NotFoundException`.
    pub fn get_public_key(&self, key_id: &str) -> Result<GetPublicKeyResponse> {
        self.call("GetPublicKey", RequestParameters::key(key_id), |call| {
            let rec = self.load_authorized(call, "GetPublicKey", key_id, |r| r)?;
            asym::get_public_key(&self.env(), &rec)
        })
    }

    /// DeriveSharedSecret: the raw ECDH shared secret (32 bytes on P-256,
    /// 48 on P-384, 66 on P-521) of a NIST ECC `KEY_AGREEMENT` key and the peer's public
    /// key (DER SubjectPublicKeyInfo on the same curve). Authorized as
    /// `kms:DeriveSharedSecret` with the condition key
    /// `kms:KeyAgreementAlgorithm`, or by a grant for `DeriveSharedSecret`.
    /// The audit event records the key and the algorithm, never the secret.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::derive_shared_secret`];
    /// `NotFoundException`, `AccessDeniedException`,
    /// `InvalidGrantTokenException`.
    pub fn derive_shared_secret(
        &self,
        req: &DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse> {
        let alg = req.key_agreement_algorithm.map(|a| a.as_str());
        let params = RequestParameters::key_agreement(&req.key_id, alg);
        self.call("DeriveSharedSecret", params, |call| {
            let rec = self.load_for(
                call,
                "DeriveSharedSecret",
                &req.key_id,
                &req.grant_tokens,
                |r| access::key_agreement_conditions(r, alg),
            )?;
            asym::derive_shared_secret(&self.env(), &rec, req)
        })
    }

    /// GenerateMac with an HMAC key (message 1–4096 bytes).
    ///
    /// # Errors
    /// See [`strongroom_core::asym::generate_mac`]; `NotFoundException`.
    pub fn generate_mac(&self, req: &GenerateMacRequest) -> Result<GenerateMacResponse> {
        let alg = req.mac_algorithm.map(|a| a.as_str());
        let params = RequestParameters::mac(&req.key_id, alg);
        self.call("GenerateMac", params, |call| {
            let rec = self.load_for(call, "GenerateMac", &req.key_id, &req.grant_tokens, |r| {
                access::mac_conditions(r, alg)
            })?;
            asym::generate_mac(&self.env(), &rec, req)
        })
    }

    /// VerifyMac (constant-time comparison).
    ///
    /// # Errors
    /// `KMSInvalidMacException` on a mismatch; see
    /// [`strongroom_core::asym::verify_mac`].
    pub fn verify_mac(&self, req: &VerifyMacRequest) -> Result<VerifyMacResponse> {
        let alg = req.mac_algorithm.map(|a| a.as_str());
        let params = RequestParameters::mac(&req.key_id, alg);
        self.call("VerifyMac", params, |call| {
            let rec = self.load_for(call, "VerifyMac", &req.key_id, &req.grant_tokens, |r| {
                access::mac_conditions(r, alg)
            })?;
            asym::verify_mac(&self.env(), &rec, req)
        })
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
        self.data_key_pair("GenerateDataKeyPair", req)
    }

    fn data_key_pair(
        &self,
        op: &str,
        req: &GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        let params = RequestParameters::data_key_pair(req);
        self.call(op, params, |call| {
            self.check_grant_tokens(&req.grant_tokens)?;
            let rec = self.load_shared(&req.key_id)?;
            self.authorize(call, op, &rec, &req.key_id, &req.encryption_context, |r| {
                let spec = req.key_pair_spec.map(|s| s.as_str());
                access::data_key_pair_conditions(r, spec, &req.encryption_context)
            })?;
            asym::generate_data_key_pair(&self.env(), &mut os_rng(), &rec, req)
        })
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
        let r = self.data_key_pair("GenerateDataKeyPairWithoutPlaintext", req)?;
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
        let params = RequestParameters {
            wrapping_algorithm: req.wrapping_algorithm.map(|a| a.as_str().into()),
            ..RequestParameters::key(&req.key_id)
        };
        self.call("GetParametersForImport", params, |call| {
            let rec = self.load_authorized(call, "GetParametersForImport", &req.key_id, |r| {
                access::import_parameters_conditions(r, req)
            })?;
            asym::get_parameters_for_import(&self.env(), &mut os_rng(), &rec, req)
        })
    }

    /// ImportKeyMaterial: imports wrapped material into an `EXTERNAL` key.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::import_key_material`].
    pub fn import_key_material(&self, req: &ImportKeyMaterialRequest) -> Result<()> {
        let params = RequestParameters {
            expiration_model: req.expiration_model.map(|m| m.as_str().into()),
            valid_to: req.valid_to,
            ..RequestParameters::key(&req.key_id)
        };
        self.call("ImportKeyMaterial", params, |call| {
            self.modify_authorized(
                call,
                "ImportKeyMaterial",
                &req.key_id,
                |r| access::import_conditions(r, req),
                |env, r| asym::import_key_material(env, &mut os_rng(), r, req),
            )
        })
    }

    /// DeleteImportedKeyMaterial: the key returns to `PendingImport`.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::delete_imported_key_material`].
    pub fn delete_imported_key_material(&self, key_id: &str) -> Result<()> {
        self.call(
            "DeleteImportedKeyMaterial",
            RequestParameters::key(key_id),
            |call| {
                self.modify_authorized(
                    call,
                    "DeleteImportedKeyMaterial",
                    key_id,
                    |r| r,
                    |_, r| asym::delete_imported_key_material(r),
                )
            },
        )
    }

    /// Decrypt for a request whose `KeyId` names an asymmetric key
    /// (RSAES-OAEP); `None` when the request is for the symmetric blob flow.
    pub(crate) fn decrypt_if_asymmetric(
        &self,
        call: &mut Call,
        req: &DecryptRequest,
    ) -> Result<Option<DecryptResponse>> {
        let Some(key_id) = req.key_id.as_deref() else {
            return Ok(None);
        };
        let rec = self.load(key_id)?;
        if rec.key_spec == KeySpec::SymmetricDefault {
            return Ok(None);
        }
        self.authorize(
            call,
            "Decrypt",
            &rec,
            key_id,
            &req.encryption_context,
            |r| {
                access::rsa_decrypt_conditions(r, req.encryption_algorithm, &req.encryption_context)
            },
        )?;
        asym::decrypt(&self.env(), &mut os_rng(), &rec, req).map(Some)
    }

    /// ReEncrypt when the source (named by `SourceKeyId`) or the destination
    /// is an RSA key: decrypts with RSAES-OAEP or from a symmetric blob, and
    /// encrypts with RSAES-OAEP or into a symmetric blob, never returning
    /// the plaintext. `None` when both sides are symmetric.
    pub(crate) fn re_encrypt_if_asymmetric(
        &self,
        call: &mut Call,
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
                self.authorize_re_encrypt(call, "ReEncryptFrom", &src, req, &dst, true)?;
                self.authorize_re_encrypt(call, "ReEncryptTo", &dst, req, &src, false)?;
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
                self.authorize_re_encrypt(call, "ReEncryptFrom", &src, req, &dst, true)?;
                self.authorize_re_encrypt(call, "ReEncryptTo", &dst, req, &src, false)?;
                let p = ops::decrypt_symmetric(
                    &env,
                    &src,
                    &req.ciphertext_blob,
                    &req.source_encryption_context,
                )?;
                (p, src.arn.clone(), EncryptionAlgorithm::SymmetricDefault)
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

    /// Authorizes one side of a ReEncrypt (`ReEncryptFrom` on the source when
    /// `source`, else `ReEncryptTo` on the destination).
    fn authorize_re_encrypt(
        &self,
        call: &mut Call,
        action: &str,
        rec: &strongroom_core::key::KeyRecord,
        req: &ReEncryptRequest,
        other: &strongroom_core::key::KeyRecord,
        source: bool,
    ) -> Result<()> {
        let (as_given, ctx, alg) = if source {
            (
                req.source_key_id.as_deref().unwrap_or(&rec.key_id),
                &req.source_encryption_context,
                req.source_encryption_algorithm,
            )
        } else {
            (
                req.destination_key_id.as_str(),
                &req.destination_encryption_context,
                req.destination_encryption_algorithm,
            )
        };
        let alg = alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault);
        self.authorize(call, action, rec, as_given, ctx, |r| {
            access::re_encrypt_conditions(r, Some(alg), ctx, rec.key_id == other.key_id)
        })
    }
}

impl Keystore {
    /// Sign, Verify, GenerateMac, VerifyMac and DeriveSharedSecret: checks
    /// the grant tokens, loads the key and authorizes `action` with the
    /// operation's condition keys, set by `conditions` (one of
    /// [`access::signing_conditions`], [`access::mac_conditions`],
    /// [`access::key_agreement_conditions`]).
    fn load_for(
        &self,
        call: &mut Call,
        action: &str,
        key_id: &str,
        grant_tokens: &[String],
        conditions: impl for<'a> FnOnce(PolicyRequest<'a>) -> PolicyRequest<'a>,
    ) -> Result<std::sync::Arc<crate::cache::CachedKey>> {
        self.check_grant_tokens(grant_tokens)?;
        let rec = self.load_shared(key_id)?;
        self.authorize(
            call,
            action,
            &rec,
            key_id,
            &EncryptionContext::default(),
            conditions,
        )?;
        Ok(rec)
    }
}
