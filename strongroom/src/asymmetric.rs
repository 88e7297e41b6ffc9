//! Keystore methods for asymmetric and HMAC keys, data key pairs and the
//! import of key material. Each loads the key it names, calls the pure
//! function of [`strongroom_core::asym`], and stores what changed.

use strongroom_core::api::*;
use strongroom_core::asym;

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
        if rec.key_spec == strongroom_core::key::KeySpec::SymmetricDefault {
            return Ok(None);
        }
        asym::decrypt(&self.env(), &mut os_rng(), &rec, req).map(Some)
    }
}
