//! The rules of the AWS Encryption SDK's AWS KMS keyring, written once for
//! every keystore (the native `strongroom::envelope::KmsKeyring` and the
//! WebAssembly package's `Keyring.kms`): each keystore supplies the KMS
//! calls ([`KmsClient`]), these functions decide what to call.
//!
//! - Encrypt: `GenerateDataKey` (32 bytes) with the first key, then
//!   `Encrypt` of that data key with every other key (with every key when
//!   an earlier keyring already made the data key). Each EDK has provider
//!   ID [`KMS_PROVIDER_ID`] (`aws-kms`), the key ARN as provider info and
//!   the KMS ciphertext blob; the KMS encryption context is the message's.
//! - Decrypt: tries each `aws-kms` EDK whose ARN names a key of this
//!   keystore (and, unless the keyring is a discovery keyring, one of its
//!   key IDs), calling `Decrypt` with that ARN as `KeyId`; the first that
//!   unwraps a 32-byte data key for that same key wins, and no further EDK
//!   is tried (nor Decrypt called). Key IDs given as aliases are resolved
//!   (DescribeKey) once per message, not once per EDK. If none does, the
//!   first refusal (`DisabledException`, `KMSInvalidStateException`,
//!   `AccessDeniedException`) is returned so the caller learns why;
//!   `InvalidCiphertextException`, `IncorrectKeyException` and
//!   `NotFoundException` just move on; any other error stops.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{DataKey, DecryptionMaterials, EncryptedDataKey, EncryptionMaterials, DATA_KEY_LEN};
use crate::api::{
    DecryptRequest, DecryptResponse, DescribeKeyResponse, EncryptRequest, EncryptResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse,
};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;

/// Provider ID of the encrypted data keys of the AWS KMS keyring.
pub const KMS_PROVIDER_ID: &str = "aws-kms";

/// The KMS operations the keyring calls, on one keystore, for one principal.
pub trait KmsClient {
    /// The region in the keystore's key ARNs.
    fn region(&self) -> String;
    /// The account ID in the keystore's key ARNs.
    fn account(&self) -> String;
    /// GenerateDataKey.
    ///
    /// # Errors
    /// The keystore's.
    fn generate_data_key(
        &mut self,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse>;
    /// Encrypt.
    ///
    /// # Errors
    /// The keystore's.
    fn encrypt(&mut self, req: &EncryptRequest) -> Result<EncryptResponse>;
    /// Decrypt.
    ///
    /// # Errors
    /// The keystore's.
    fn decrypt(&mut self, req: &DecryptRequest) -> Result<DecryptResponse>;
    /// DescribeKey (to resolve an alias among the keyring's key IDs).
    ///
    /// # Errors
    /// The keystore's.
    fn describe_key(&mut self, key_id: &str) -> Result<DescribeKeyResponse>;
}

/// The EDK of the AWS KMS keyring for `key_arn`.
pub fn kms_edk(key_arn: String, ciphertext_blob: Vec<u8>) -> EncryptedDataKey {
    EncryptedDataKey {
        provider_id: KMS_PROVIDER_ID.to_string(),
        provider_info: key_arn.into_bytes(),
        ciphertext: ciphertext_blob,
    }
}

/// The keyring's encryption (see the module documentation).
///
/// # Errors
/// `ValidationException` for a discovery keyring (no `key_ids`); the
/// keystore's errors of GenerateDataKey and Encrypt.
pub fn on_encrypt<C: KmsClient + ?Sized>(
    client: &mut C,
    key_ids: &[String],
    grant_tokens: &[String],
    materials: &mut EncryptionMaterials,
) -> Result<()> {
    let Some((first, rest)) = key_ids.split_first() else {
        return Err(Error::validation(
            "a discovery KMS keyring cannot encrypt: give at least one key ID",
        ));
    };
    let context = materials.encryption_context().clone();
    let mut wrap_with = rest;
    if materials.data_key().is_none() {
        let r = client.generate_data_key(&GenerateDataKeyRequest {
            key_id: first.clone(),
            key_spec: None,
            number_of_bytes: Some(DATA_KEY_LEN as u32),
            encryption_context: context.clone(),
            grant_tokens: grant_tokens.to_vec(),
        })?;
        materials.set_data_key(DataKey::from_bytes(r.plaintext.expose_secret())?)?;
        materials.add_encrypted_data_key(kms_edk(r.key_id, r.ciphertext_blob));
    } else {
        wrap_with = key_ids;
    }
    let data_key = materials
        .data_key()
        .ok_or_else(|| Error::internal("no data key after GenerateDataKey"))?
        .clone();
    for key_id in wrap_with {
        let r = client.encrypt(&EncryptRequest {
            key_id: key_id.clone(),
            plaintext: Secret::from_slice(data_key.expose_secret()),
            encryption_context: context.clone(),
            encryption_algorithm: None,
            grant_tokens: grant_tokens.to_vec(),
        })?;
        materials.add_encrypted_data_key(kms_edk(r.key_id, r.ciphertext_blob));
    }
    Ok(())
}

/// Whether the keyring may try the EDK of `arn`: a key of this keystore
/// and, for a strict keyring, one of `key_ids`. A key ARN or a bare key ID
/// needs no lookup (nor DescribeKey permission); other key IDs (aliases)
/// are resolved with DescribeKey the first time they are needed, into
/// `resolved`, which the caller keeps for the whole message.
fn accepts<C: KmsClient + ?Sized>(
    client: &mut C,
    key_ids: &[String],
    resolved: &mut Option<Vec<String>>,
    arn: &str,
) -> Result<bool> {
    let prefix = crate::key::key_arn(&client.region(), &client.account(), "");
    if !arn.starts_with(&prefix) {
        return Ok(false);
    }
    if key_ids.is_empty() {
        return Ok(true);
    }
    if key_ids
        .iter()
        .any(|k| k == arn || arn.strip_prefix(&prefix) == Some(k.as_str()))
    {
        return Ok(true);
    }
    let arns = match resolved {
        Some(arns) => arns,
        None => {
            let mut arns = Vec::new();
            for k in key_ids {
                match client.describe_key(k) {
                    Ok(d) => arns.push(d.key_metadata.arn),
                    Err(e) if e.kind() == ErrorKind::NotFoundException => {}
                    Err(e) => return Err(e),
                }
            }
            resolved.insert(arns)
        }
    };
    Ok(arns.iter().any(|a| a == arn))
}

/// The keyring's decryption (see the module documentation); `key_ids`
/// empty for a discovery keyring.
///
/// # Errors
/// The first refusal when no EDK unwraps; any keystore error other than
/// those the module documentation lists as moving on.
pub fn on_decrypt<C: KmsClient + ?Sized>(
    client: &mut C,
    key_ids: &[String],
    grant_tokens: &[String],
    materials: &mut DecryptionMaterials,
    edks: &[EncryptedDataKey],
) -> Result<()> {
    if materials.data_key().is_some() {
        return Ok(());
    }
    let mut refusal: Option<Error> = None;
    let mut resolved = None;
    for edk in edks {
        if edk.provider_id != KMS_PROVIDER_ID {
            continue;
        }
        let Ok(arn) = core::str::from_utf8(&edk.provider_info) else {
            continue;
        };
        if !accepts(client, key_ids, &mut resolved, arn)? {
            continue;
        }
        let r = client.decrypt(&DecryptRequest {
            ciphertext_blob: edk.ciphertext.clone(),
            encryption_context: materials.encryption_context().clone(),
            key_id: Some(arn.to_string()),
            encryption_algorithm: None,
            grant_tokens: grant_tokens.to_vec(),
        });
        match r {
            Ok(r) if r.key_id == arn && r.plaintext.len() == DATA_KEY_LEN => {
                materials.set_data_key(DataKey::from_bytes(r.plaintext.expose_secret())?)?;
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => match e.kind() {
                ErrorKind::DisabledException
                | ErrorKind::KMSInvalidStateException
                | ErrorKind::AccessDeniedException => {
                    refusal.get_or_insert(e);
                }
                ErrorKind::InvalidCiphertextException
                | ErrorKind::IncorrectKeyException
                | ErrorKind::NotFoundException => {}
                _ => return Err(e),
            },
        }
    }
    match refusal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
