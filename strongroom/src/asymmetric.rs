//! Keystore methods for asymmetric and HMAC keys, data key pairs and the
//! import of key material. Each runs the operation's flow in
//! [`strongroom_core::service`] (load the key, authorize, call the pure
//! function of [`strongroom_core::asym`], store what changed).

use strongroom_core::api::*;
use strongroom_core::service;

use crate::{Keystore, Result};

impl Keystore {
    /// Sign with an RSA or ECC `SIGN_VERIFY` key. `MessageType` `RAW`
    /// (default, 1–4096 bytes, hashed once) or `DIGEST` (exactly the hash
    /// length, not hashed again). RSA signatures are as long as the modulus;
    /// ECDSA signatures are DER.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::sign`]; `NotFoundException`.
    pub fn sign(&self, req: &SignRequest) -> Result<SignResponse> {
        service::sign(&mut crate::access::Service(self), req)
    }

    /// Verify a signature made by [`sign`](Self::sign) (or by anyone holding
    /// the private key).
    ///
    /// # Errors
    /// `KMSInvalidSignatureException` when it does not verify; see
    /// [`strongroom_core::asym::verify`].
    pub fn verify(&self, req: &VerifyRequest) -> Result<VerifyResponse> {
        service::verify(&mut crate::access::Service(self), req)
    }

    /// GetPublicKey: DER SubjectPublicKeyInfo of an RSA or ECC key.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::get_public_key`]; `NotFoundException`.
    pub fn get_public_key(&self, key_id: &str) -> Result<GetPublicKeyResponse> {
        service::get_public_key(&mut crate::access::Service(self), key_id, &[])
    }

    /// GetPublicKey with the request's `GrantTokens`, checked as Encrypt's
    /// are (see [`Keystore::describe_key_with_grant_tokens`]).
    ///
    /// # Errors
    /// Those of [`get_public_key`](Self::get_public_key);
    /// `ValidationException` for the number or length of the tokens,
    /// `InvalidGrantTokenException` for a token this keystore did not issue.
    pub fn get_public_key_with_grant_tokens(
        &self,
        key_id: &str,
        grant_tokens: &[String],
    ) -> Result<GetPublicKeyResponse> {
        service::get_public_key(&mut crate::access::Service(self), key_id, grant_tokens)
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
        service::derive_shared_secret(&mut crate::access::Service(self), req)
    }

    /// GenerateMac with an HMAC key (message 1–4096 bytes).
    ///
    /// # Errors
    /// See [`strongroom_core::asym::generate_mac`]; `NotFoundException`.
    pub fn generate_mac(&self, req: &GenerateMacRequest) -> Result<GenerateMacResponse> {
        service::generate_mac(&mut crate::access::Service(self), req)
    }

    /// VerifyMac (constant-time comparison).
    ///
    /// # Errors
    /// `KMSInvalidMacException` on a mismatch; see
    /// [`strongroom_core::asym::verify_mac`].
    pub fn verify_mac(&self, req: &VerifyMacRequest) -> Result<VerifyMacResponse> {
        service::verify_mac(&mut crate::access::Service(self), req)
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
        service::generate_data_key_pair(
            &mut crate::access::Service(self),
            "GenerateDataKeyPair",
            req,
        )
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
        let op = "GenerateDataKeyPairWithoutPlaintext";
        let r = service::generate_data_key_pair(&mut crate::access::Service(self), op, req)?;
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
        service::get_parameters_for_import(&mut crate::access::Service(self), req)
    }

    /// ImportKeyMaterial: imports wrapped material into an `EXTERNAL` key.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::import_key_material`].
    pub fn import_key_material(&self, req: &ImportKeyMaterialRequest) -> Result<()> {
        service::import_key_material(&mut crate::access::Service(self), req)
    }

    /// DeleteImportedKeyMaterial: the key returns to `PendingImport`.
    ///
    /// # Errors
    /// See [`strongroom_core::asym::delete_imported_key_material`].
    pub fn delete_imported_key_material(&self, key_id: &str) -> Result<()> {
        service::delete_imported_key_material(&mut crate::access::Service(self), key_id)
    }
}
