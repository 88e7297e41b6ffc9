//! Request and response shapes of the KMS operations, with the AWS KMS JSON
//! member names (`KeyId`, `CiphertextBlob`, …; blobs as base64), so that the
//! CLI, the bindings and a network endpoint share one definition.

#![allow(missing_docs)] // members are documented by the AWS KMS API reference names

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::context::EncryptionContext;
use crate::key::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, ExpirationModel, ImportType,
    KeyAgreementAlgorithm, KeySpec, KeyState, KeyUsage, MacAlgorithm, MessageType, Origin,
    RotationType, SigningAlgorithm, WrappingAlgorithm, WrappingKeySpec,
};
use crate::secret::Secret;

mod strict;

pub use strict::{from_json_strict, StrictError, UnknownMember};

/// A tag (`Tag`): `TagKey` 1–128 characters, `TagValue` 0–256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// `CreateKey` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateKeyRequest {
    pub description: Option<String>,
    pub key_spec: Option<KeySpec>,
    /// Old name of `KeySpec`; accepted for compatibility.
    pub customer_master_key_spec: Option<KeySpec>,
    pub key_usage: Option<KeyUsage>,
    pub origin: Option<Origin>,
    pub policy: Option<String>,
    pub bypass_policy_lockout_safety_check: bool,
    pub tags: Vec<Tag>,
    pub multi_region: Option<bool>,
}

/// `KeyMetadata` of DescribeKey, CreateKey and friends. Dates are Unix seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    pub arn: String,
    pub creation_date: u64,
    pub enabled: bool,
    pub description: String,
    pub key_usage: KeyUsage,
    pub key_state: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<u64>,
    pub origin: Origin,
    pub key_manager: String,
    pub customer_master_key_spec: KeySpec,
    pub key_spec: KeySpec,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub encryption_algorithms: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub signing_algorithms: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub mac_algorithms: Vec<String>,
    /// `["ECDH"]` for `KEY_AGREEMENT` keys, absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub key_agreement_algorithms: Vec<String>,
    pub multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
}

/// Response of CreateKey, DescribeKey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyResponse {
    pub key_metadata: KeyMetadata,
}

/// One entry of ListKeys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

/// `ListKeys` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// One entry of ListAliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    pub target_key_id: String,
    pub creation_date: u64,
    pub last_updated_date: u64,
}

/// `ListAliases` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// `ListResourceTags` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// `ScheduleKeyDeletion` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    pub key_id: String,
    pub deletion_date: u64,
    pub key_state: KeyState,
    pub pending_window_in_days: u32,
}

/// `CancelKeyDeletion` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdResponse {
    pub key_id: String,
}

/// `GetKeyRotationStatus` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    pub key_id: String,
    pub key_rotation_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<u64>,
}

/// One entry of ListKeyRotations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    pub key_id: String,
    pub rotation_date: u64,
    pub rotation_type: RotationType,
}

/// `ListKeyRotations` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    pub rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// `Encrypt` request. `Plaintext` is 1–4096 bytes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EncryptRequest {
    pub key_id: String,
    pub plaintext: Secret,
    pub encryption_context: EncryptionContext,
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    pub grant_tokens: Vec<String>,
}

/// `Encrypt` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    #[serde(with = "crate::b64")]
    pub ciphertext_blob: Vec<u8>,
    pub key_id: String,
    pub encryption_algorithm: EncryptionAlgorithm,
}

/// `Decrypt` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DecryptRequest {
    #[serde(with = "crate::b64")]
    pub ciphertext_blob: Vec<u8>,
    pub encryption_context: EncryptionContext,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    pub grant_tokens: Vec<String>,
}

/// `Decrypt` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    pub key_id: String,
    pub plaintext: Secret,
    pub encryption_algorithm: EncryptionAlgorithm,
}

/// `ReEncrypt` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReEncryptRequest {
    #[serde(with = "crate::b64")]
    pub ciphertext_blob: Vec<u8>,
    pub source_encryption_context: EncryptionContext,
    pub source_key_id: Option<String>,
    pub destination_key_id: String,
    pub destination_encryption_context: EncryptionContext,
    pub source_encryption_algorithm: Option<EncryptionAlgorithm>,
    pub destination_encryption_algorithm: Option<EncryptionAlgorithm>,
    pub grant_tokens: Vec<String>,
}

/// `ReEncrypt` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    #[serde(with = "crate::b64")]
    pub ciphertext_blob: Vec<u8>,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: EncryptionAlgorithm,
    pub destination_encryption_algorithm: EncryptionAlgorithm,
}

/// `GenerateDataKey` / `GenerateDataKeyWithoutPlaintext` request: exactly
/// one of `KeySpec` and `NumberOfBytes` (1–1024).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateDataKeyRequest {
    pub key_id: String,
    pub key_spec: Option<DataKeySpec>,
    pub number_of_bytes: Option<u32>,
    pub encryption_context: EncryptionContext,
    pub grant_tokens: Vec<String>,
}

/// `GenerateDataKey` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    #[serde(with = "crate::b64")]
    pub ciphertext_blob: Vec<u8>,
    pub plaintext: Secret,
    pub key_id: String,
}

/// `GenerateDataKeyWithoutPlaintext` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    #[serde(with = "crate::b64")]
    pub ciphertext_blob: Vec<u8>,
    pub key_id: String,
}

/// `GenerateRandom` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    pub plaintext: Secret,
}

/// `PutKeyPolicy` request. `PolicyName` must be `default` when given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PutKeyPolicyRequest {
    pub key_id: String,
    pub policy_name: Option<String>,
    pub policy: String,
    pub bypass_policy_lockout_safety_check: bool,
}

/// `GetKeyPolicy` response: the key's policy document (the default key
/// policy when none was set) and its name, `default`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    pub policy: String,
    pub policy_name: String,
}

/// `ListKeyPolicies` response: always `["default"]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    pub policy_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// `CreateGrant` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateGrantRequest {
    pub key_id: String,
    pub grantee_principal: String,
    pub retiring_principal: Option<String>,
    pub operations: Vec<crate::grant::GrantOperation>,
    pub constraints: Option<crate::grant::GrantConstraints>,
    pub grant_tokens: Vec<String>,
    pub name: Option<String>,
}

/// `CreateGrant` response. The grant token works at once on every
/// operation that accepts `GrantTokens`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    pub grant_token: String,
    pub grant_id: String,
}

/// `ListGrants` request: the grants of `KeyId`, optionally only `GrantId`
/// or those of `GranteePrincipal`; `Limit` 1–100 (default 50).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListGrantsRequest {
    pub key_id: String,
    pub limit: Option<u32>,
    pub marker: Option<String>,
    pub grant_id: Option<String>,
    pub grantee_principal: Option<String>,
}

/// `ListGrants` / `ListRetirableGrants` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    pub grants: Vec<crate::grant::Grant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// `RetireGrant` request: either `GrantToken`, or `KeyId` and `GrantId`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RetireGrantRequest {
    pub grant_token: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
}

/// `Sign` request. `Message` is 1–4096 bytes for `MessageType` `RAW`
/// (the default), exactly the hash length for `DIGEST`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SignRequest {
    pub key_id: String,
    pub message: Secret,
    pub message_type: Option<MessageType>,
    pub signing_algorithm: Option<SigningAlgorithm>,
    pub grant_tokens: Vec<String>,
}

/// `Sign` response: `Signature` is as long as the modulus (RSA) or a DER
/// `ECDSA-Sig-Value` (ECDSA).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    pub key_id: String,
    #[serde(with = "crate::b64")]
    pub signature: Vec<u8>,
    pub signing_algorithm: SigningAlgorithm,
}

/// `Verify` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VerifyRequest {
    pub key_id: String,
    pub message: Secret,
    pub message_type: Option<MessageType>,
    #[serde(with = "crate::b64")]
    pub signature: Vec<u8>,
    pub signing_algorithm: Option<SigningAlgorithm>,
    pub grant_tokens: Vec<String>,
}

/// `Verify` response (only when the signature is valid; otherwise
/// `KMSInvalidSignatureException`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    pub key_id: String,
    pub signature_valid: bool,
    pub signing_algorithm: SigningAlgorithm,
}

/// `GetPublicKey` response: `PublicKey` is DER SubjectPublicKeyInfo (RFC 5280).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    pub key_id: String,
    #[serde(with = "crate::b64")]
    pub public_key: Vec<u8>,
    pub customer_master_key_spec: KeySpec,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub encryption_algorithms: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub signing_algorithms: Vec<String>,
    /// `["ECDH"]` for `KEY_AGREEMENT` keys, absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub key_agreement_algorithms: Vec<String>,
}

/// `RecipientInfo` of DeriveSharedSecret (a Nitro Enclaves attestation
/// document). Strongroom has no attested environments: a request that
/// carries one is refused with `UnsupportedOperationException`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RecipientInfo {
    pub key_encryption_algorithm: Option<String>,
    #[serde(with = "crate::b64")]
    pub attestation_document: Vec<u8>,
}

/// `DeriveSharedSecret` request: `PublicKey` is the peer's DER
/// SubjectPublicKeyInfo (RFC 5280) on the KMS key's curve;
/// `KeyAgreementAlgorithm` is required (`ECDH`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeriveSharedSecretRequest {
    pub key_id: String,
    pub key_agreement_algorithm: Option<KeyAgreementAlgorithm>,
    #[serde(with = "crate::b64")]
    pub public_key: Vec<u8>,
    pub grant_tokens: Vec<String>,
    pub recipient: Option<RecipientInfo>,
}

/// `DeriveSharedSecret` response: `SharedSecret` is the raw ECDH shared
/// secret (the x-coordinate of the shared point, 32 bytes on P-256, 48 on
/// P-384, 66 on P-521), base64 in JSON; `KeyId` is the key ARN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    pub key_id: String,
    pub shared_secret: Secret,
    pub key_agreement_algorithm: KeyAgreementAlgorithm,
    pub key_origin: Origin,
}

/// `GenerateMac` request: `Message` 1–4096 bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateMacRequest {
    pub key_id: String,
    pub message: Secret,
    pub mac_algorithm: Option<MacAlgorithm>,
    pub grant_tokens: Vec<String>,
}

/// `GenerateMac` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    #[serde(with = "crate::b64")]
    pub mac: Vec<u8>,
    pub mac_algorithm: MacAlgorithm,
    pub key_id: String,
}

/// `VerifyMac` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VerifyMacRequest {
    pub key_id: String,
    pub message: Secret,
    pub mac_algorithm: Option<MacAlgorithm>,
    #[serde(with = "crate::b64")]
    pub mac: Vec<u8>,
    pub grant_tokens: Vec<String>,
}

/// `VerifyMac` response (only when the MAC is valid; otherwise `KMSInvalidMacException`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    pub key_id: String,
    pub mac_valid: bool,
    pub mac_algorithm: MacAlgorithm,
}

/// `GenerateDataKeyPair` / `GenerateDataKeyPairWithoutPlaintext` request;
/// `KeyId` names a symmetric encryption key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GenerateDataKeyPairRequest {
    pub key_id: String,
    pub key_pair_spec: Option<DataKeyPairSpec>,
    pub encryption_context: EncryptionContext,
    pub grant_tokens: Vec<String>,
}

/// `GenerateDataKeyPair` response: `PublicKey` DER SubjectPublicKeyInfo,
/// `PrivateKeyPlaintext` PKCS#8 DER, `PrivateKeyCiphertextBlob` a symmetric
/// ciphertext blob of the PKCS#8 under `KeyId` with the encryption context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    #[serde(with = "crate::b64")]
    pub private_key_ciphertext_blob: Vec<u8>,
    pub private_key_plaintext: Secret,
    #[serde(with = "crate::b64")]
    pub public_key: Vec<u8>,
    pub key_id: String,
    pub key_pair_spec: DataKeyPairSpec,
}

/// `GenerateDataKeyPairWithoutPlaintext` response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    #[serde(with = "crate::b64")]
    pub private_key_ciphertext_blob: Vec<u8>,
    #[serde(with = "crate::b64")]
    pub public_key: Vec<u8>,
    pub key_id: String,
    pub key_pair_spec: DataKeyPairSpec,
}

/// `GetParametersForImport` request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetParametersForImportRequest {
    pub key_id: String,
    pub wrapping_algorithm: Option<WrappingAlgorithm>,
    pub wrapping_key_spec: Option<WrappingKeySpec>,
}

/// `GetParametersForImport` response: the wrapping `PublicKey` (DER
/// SubjectPublicKeyInfo), the opaque `ImportToken` (format in
/// `docs/FORMAT.md`) and `ParametersValidTo` (Unix seconds, now + 24 h).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportResponse {
    pub key_id: String,
    #[serde(with = "crate::b64")]
    pub import_token: Vec<u8>,
    #[serde(with = "crate::b64")]
    pub public_key: Vec<u8>,
    pub parameters_valid_to: u64,
}

/// `ImportKeyMaterial` request. `ValidTo` is Unix seconds; read from JSON it
/// may be an integer or, as the AWS SDKs send a timestamp (botocore: the
/// epoch seconds with the microseconds as a fraction), a number with a
/// fractional part, which is dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImportKeyMaterialRequest {
    pub key_id: String,
    #[serde(with = "crate::b64")]
    pub import_token: Vec<u8>,
    #[serde(with = "crate::b64")]
    pub encrypted_key_material: Vec<u8>,
    #[serde(deserialize_with = "epoch_seconds")]
    pub valid_to: Option<u64>,
    pub expiration_model: Option<ExpirationModel>,
    /// `NEW_KEY_MATERIAL` (allowed only while no material was ever imported
    /// into the key) or `EXISTING_KEY_MATERIAL` (allowed only once some
    /// was); absent, the one that fits the key.
    pub import_type: Option<ImportType>,
}

/// Deserializes an optional timestamp of the AWS JSON protocol (epoch
/// seconds, an integer or a number with a fraction) into whole seconds.
/// A negative, non-finite or non-numeric value is an error.
fn epoch_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Seconds;
    impl serde::de::Visitor<'_> for Seconds {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a timestamp in non-negative epoch seconds")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // `u64::MAX as f64` rounds up to 2^64, so `<` keeps the cast exact.
            #[allow(clippy::cast_precision_loss)]
            let in_range = v.is_finite() && v >= 0.0 && v < u64::MAX as f64;
            if !in_range {
                return Err(E::invalid_value(serde::de::Unexpected::Float(v), &self));
            }
            // Truncation toward zero drops the fraction of a non-negative value.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Some(v as u64))
        }
    }
    d.deserialize_any(Seconds)
}
