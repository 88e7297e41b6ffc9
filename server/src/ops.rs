//! The mapping of `X-Amz-Target: TrentService.<Operation>` to the
//! [`Keystore`] methods: deserialize the request, call, serialize the
//! response. No KMS logic lives here.
//!
//! Operations whose facade method takes plain arguments get a small request
//! struct with the KMS member names.

use serde::{Deserialize, Serialize};
use strongroom::api::*;
use strongroom::{Error, Keystore};

use zeroize::Zeroizing;

use crate::wire::{parse, WireError};

/// The `X-Amz-Target` prefix of the KMS API.
pub const TARGET_PREFIX: &str = "TrentService.";

/// Every operation this endpoint serves, by its KMS name.
pub const OPERATIONS: &[&str] = &[
    "CreateKey",
    "DescribeKey",
    "ListKeys",
    "UpdateKeyDescription",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "EnableKeyRotation",
    "DisableKeyRotation",
    "GetKeyRotationStatus",
    "RotateKeyOnDemand",
    "ListKeyRotations",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "ListAliases",
    "TagResource",
    "UntagResource",
    "ListResourceTags",
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateRandom",
    "Sign",
    "Verify",
    "GetPublicKey",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GetParametersForImport",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
    "PutKeyPolicy",
    "GetKeyPolicy",
    "ListKeyPolicies",
    "CreateGrant",
    "ListGrants",
    "ListRetirableGrants",
    "RetireGrant",
    "RevokeGrant",
];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdRequest {
    key_id: String,
}

/// DescribeKey and GetPublicKey: a key and the request's grant tokens.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyWithGrantTokensRequest {
    key_id: String,
    #[serde(default)]
    grant_tokens: Vec<String>,
}

/// ListKeys `ResourceOwners` values.
#[derive(Deserialize, PartialEq, Eq)]
enum ResourceOwner {
    /// The keys of this keystore's account.
    #[serde(rename = "SELF")]
    Own,
    /// Keys other accounts share through AWS RAM: there are none here.
    #[serde(rename = "OTHER_ACCOUNTS_VIA_RAM")]
    OtherAccountsViaRam,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ListKeysRequest {
    limit: Option<u32>,
    marker: Option<String>,
    resource_owners: Option<Vec<ResourceOwner>>,
}

/// ListKeyRotations `IncludeKeyMaterial` values.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum IncludeKeyMaterial {
    /// Rotations and the first key material: not offered.
    AllKeyMaterial,
    /// Rotations only, the default.
    RotationsOnly,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyPagingRequest {
    key_id: String,
    limit: Option<u32>,
    marker: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ListAliasesRequest {
    key_id: Option<String>,
    limit: Option<u32>,
    marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateKeyDescriptionRequest {
    key_id: String,
    description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleKeyDeletionRequest {
    key_id: String,
    pending_window_in_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnableKeyRotationRequest {
    key_id: String,
    rotation_period_in_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasRequest {
    alias_name: String,
    target_key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAliasRequest {
    alias_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceRequest {
    key_id: String,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceRequest {
    key_id: String,
    tag_keys: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateRandomRequest {
    number_of_bytes: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetKeyPolicyRequest {
    key_id: String,
    policy_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRetirableGrantsRequest {
    retiring_principal: String,
    limit: Option<u32>,
    marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RevokeGrantRequest {
    key_id: String,
    grant_id: String,
}

/// The empty response of operations that return nothing.
#[derive(Serialize)]
struct Empty {}

/// A JSON response body. Responses of Decrypt, GenerateDataKey,
/// GenerateDataKeyPair and GenerateRandom carry plaintext (base64), so every
/// body is held in a buffer of exactly its size (no reallocation leaves a
/// stale partial copy behind) that is zeroized when dropped.
pub type ResponseBody = Zeroizing<Vec<u8>>;

/// Counts the bytes written to it.
struct Measure(usize);

impl std::io::Write for Measure {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serializes `v` into a [`ResponseBody`]: once to measure, once into a
/// buffer of that capacity.
fn reply<T: Serialize>(r: Result<T, Error>) -> Result<ResponseBody, WireError> {
    let v = r?;
    let failed = |e: serde_json::Error| {
        WireError::new(
            500,
            "KMSInternalException",
            format!("cannot serialize the response: {e}"),
        )
    };
    let mut size = Measure(0);
    serde_json::to_writer(&mut size, &v).map_err(failed)?;
    let mut out = Zeroizing::new(Vec::with_capacity(size.0));
    serde_json::to_writer(&mut *out, &v).map_err(failed)?;
    Ok(out)
}

fn done(r: Result<(), Error>) -> Result<ResponseBody, WireError> {
    reply(r.map(|()| Empty {}))
}

/// The `DryRun` member of any request body (absent = false).
#[derive(Deserialize)]
struct DryRunMember {
    #[serde(rename = "DryRun", default)]
    dry_run: bool,
}

/// The request members of KMS features Strongroom does not have: custom key
/// stores (`CustomKeyStoreId`, `XksKeyId`) and Nitro Enclaves attestation
/// (`Recipient`). They are refused rather than ignored, so that a client
/// asking for one of them never gets an ordinary key or a plaintext answer
/// it did not ask for. (DeriveSharedSecret's `Recipient` is refused by the
/// keystore itself.) Their values are not read: on an operation that does
/// not take one, the member is refused by [`request`].
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct AbsentFeatures {
    custom_key_store_id: Option<serde::de::IgnoredAny>,
    xks_key_id: Option<serde::de::IgnoredAny>,
    recipient: Option<serde::de::IgnoredAny>,
}

/// ListKeyRotations' `IncludeKeyMaterial`, read only there.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct IncludeKeyMaterialMember {
    include_key_material: Option<IncludeKeyMaterial>,
}

/// `CustomKeyStoreNotFoundException` for a `CustomKeyStoreId` (there are no
/// custom key stores), `UnsupportedOperationException` for `XksKeyId`,
/// `Recipient` and ListKeyRotations' `IncludeKeyMaterial`
/// `ALL_KEY_MATERIAL`, on the operations of KMS that take them.
fn refuse_absent_features(operation: &str, body: &[u8]) -> Result<(), WireError> {
    let takes = |ops: &[&str]| ops.contains(&operation);
    if !takes(&[
        "CreateKey",
        "GenerateRandom",
        "Decrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "ImportKeyMaterial",
        "ListKeyRotations",
    ]) {
        return Ok(());
    }
    let m: AbsentFeatures = parse(body)?;
    let unsupported = |what: &str| {
        Err(WireError::new(
            400,
            "UnsupportedOperationException",
            format!("{what} is not supported: Strongroom {operation} does not offer it"),
        ))
    };
    if m.custom_key_store_id.is_some() && takes(&["CreateKey", "GenerateRandom"]) {
        return Err(WireError::new(
            400,
            "CustomKeyStoreNotFoundException",
            "no custom key store has this CustomKeyStoreId: Strongroom has no custom key stores",
        ));
    }
    if m.xks_key_id.is_some() && operation == "CreateKey" {
        return unsupported("XksKeyId (external key stores)");
    }
    if m.recipient.is_some() && !takes(&["CreateKey", "ImportKeyMaterial"]) {
        return unsupported("Recipient (Nitro Enclaves attestation)");
    }
    if operation == "ListKeyRotations"
        && parse::<IncludeKeyMaterialMember>(body)?.include_key_material
            == Some(IncludeKeyMaterial::AllKeyMaterial)
    {
        return unsupported(
            "IncludeKeyMaterial ALL_KEY_MATERIAL (rotations only: no key material IDs)",
        );
    }
    Ok(())
}

/// Members read before an operation's request struct, from the same body:
/// `DryRun` by every operation ([`dispatch`]; the keystore refuses it where
/// KMS has none), and, by [`refuse_absent_features`], ListKeyRotations'
/// `IncludeKeyMaterial` (`ROTATIONS_ONLY` only).
fn read_before(operation: &str) -> &'static [&'static str] {
    match operation {
        "ListKeyRotations" => &["DryRun", "IncludeKeyMaterial"],
        _ => &["DryRun"],
    }
}

/// Parses the request struct `T` of `operation`, refusing every member of
/// the body that `T` (or a struct within it) does not read
/// ([`crate::wire::parse_strict`]). `body` is normalized
/// ([`crate::wire::normalize`]): a top-level member whose value was JSON
/// `null` is no longer in it.
///
/// # Errors
/// Those of [`crate::wire::parse_strict`].
fn request<T: serde::de::DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T, WireError> {
    crate::wire::parse_strict(operation, body, read_before(operation))
}

/// Runs `operation` (the part of `X-Amz-Target` after `TrentService.`) with
/// the JSON `body` on `ks` and returns the JSON response body.
///
/// # Errors
/// `UnknownOperationException` for an operation not in [`OPERATIONS`],
/// `SerializationException` / `ValidationException` for a body that does not
/// parse (a member named twice is `SerializationException`; a `null` member
/// counts as absent: [`crate::wire::normalize`]), and the keystore's own errors.
pub fn dispatch(ks: &Keystore, operation: &str, body: &[u8]) -> Result<ResponseBody, WireError> {
    let normalized = crate::wire::normalize(body)?;
    let body: &[u8] = normalized.as_ref().map_or(body, |b| b.as_slice());
    // `"DryRun": true` runs the request on a dry-run handle: every check,
    // no change, `DryRunOperationException` if it would have succeeded
    // (`ValidationException` for an operation without DryRun in KMS). A
    // `DryRun` that is not a boolean is refused here, never taken as false.
    let dry_run;
    let dry = parse::<DryRunMember>(body)?.dry_run;
    refuse_absent_features(operation, body)?;
    let ks = if dry {
        dry_run = ks.dry_run();
        &dry_run
    } else {
        ks
    };
    match operation {
        "CreateKey" => reply(ks.create_key(&request(operation, body)?)),
        "DescribeKey" => {
            let r: KeyWithGrantTokensRequest = request(operation, body)?;
            reply(ks.describe_key_with_grant_tokens(&r.key_id, &r.grant_tokens))
        }
        "ListKeys" => {
            let r: ListKeysRequest = request(operation, body)?;
            reply(list_keys(ks, &r))
        }
        "UpdateKeyDescription" => {
            let r: UpdateKeyDescriptionRequest = request(operation, body)?;
            done(ks.update_key_description(&r.key_id, &r.description))
        }
        "EnableKey" => done(ks.enable_key(&request::<KeyIdRequest>(operation, body)?.key_id)),
        "DisableKey" => done(ks.disable_key(&request::<KeyIdRequest>(operation, body)?.key_id)),
        "ScheduleKeyDeletion" => {
            let r: ScheduleKeyDeletionRequest = request(operation, body)?;
            reply(ks.schedule_key_deletion(&r.key_id, r.pending_window_in_days))
        }
        "CancelKeyDeletion" => {
            reply(ks.cancel_key_deletion(&request::<KeyIdRequest>(operation, body)?.key_id))
        }
        "EnableKeyRotation" => {
            let r: EnableKeyRotationRequest = request(operation, body)?;
            done(ks.enable_key_rotation(&r.key_id, r.rotation_period_in_days))
        }
        "DisableKeyRotation" => {
            done(ks.disable_key_rotation(&request::<KeyIdRequest>(operation, body)?.key_id))
        }
        "GetKeyRotationStatus" => {
            reply(ks.get_key_rotation_status(&request::<KeyIdRequest>(operation, body)?.key_id))
        }
        "RotateKeyOnDemand" => {
            reply(ks.rotate_key_on_demand(&request::<KeyIdRequest>(operation, body)?.key_id))
        }
        "ListKeyRotations" => {
            // IncludeKeyMaterial was read by `refuse_absent_features`.
            let r: KeyPagingRequest = request(operation, body)?;
            reply(ks.list_key_rotations(&r.key_id, r.limit, r.marker.as_deref()))
        }
        "CreateAlias" => {
            let r: AliasRequest = request(operation, body)?;
            done(ks.create_alias(&r.alias_name, &r.target_key_id))
        }
        "UpdateAlias" => {
            let r: AliasRequest = request(operation, body)?;
            done(ks.update_alias(&r.alias_name, &r.target_key_id))
        }
        "DeleteAlias" => {
            done(ks.delete_alias(&request::<DeleteAliasRequest>(operation, body)?.alias_name))
        }
        "ListAliases" => {
            let r: ListAliasesRequest = request(operation, body)?;
            reply(ks.list_aliases(r.key_id.as_deref(), r.limit, r.marker.as_deref()))
        }
        "TagResource" => {
            let r: TagResourceRequest = request(operation, body)?;
            done(ks.tag_resource(&r.key_id, &r.tags))
        }
        "UntagResource" => {
            let r: UntagResourceRequest = request(operation, body)?;
            done(ks.untag_resource(&r.key_id, &r.tag_keys))
        }
        "ListResourceTags" => {
            let r: KeyPagingRequest = request(operation, body)?;
            reply(ks.list_resource_tags(&r.key_id, r.limit, r.marker.as_deref()))
        }
        "Encrypt" => reply(ks.encrypt(&request(operation, body)?)),
        "Decrypt" => reply(ks.decrypt(&request(operation, body)?)),
        "ReEncrypt" => reply(ks.re_encrypt(&request(operation, body)?)),
        "GenerateDataKey" => reply(ks.generate_data_key(&request(operation, body)?)),
        "GenerateDataKeyWithoutPlaintext" => {
            reply(ks.generate_data_key_without_plaintext(&request(operation, body)?))
        }
        "GenerateRandom" => {
            let r: GenerateRandomRequest = request(operation, body)?;
            reply(ks.generate_random(r.number_of_bytes))
        }
        "Sign" => reply(ks.sign(&request(operation, body)?)),
        "Verify" => reply(ks.verify(&request(operation, body)?)),
        "GetPublicKey" => {
            let r: KeyWithGrantTokensRequest = request(operation, body)?;
            reply(ks.get_public_key_with_grant_tokens(&r.key_id, &r.grant_tokens))
        }
        "GenerateMac" => reply(ks.generate_mac(&request(operation, body)?)),
        "VerifyMac" => reply(ks.verify_mac(&request(operation, body)?)),
        "DeriveSharedSecret" => reply(ks.derive_shared_secret(&request(operation, body)?)),
        "GenerateDataKeyPair" => reply(ks.generate_data_key_pair(&request(operation, body)?)),
        "GenerateDataKeyPairWithoutPlaintext" => {
            reply(ks.generate_data_key_pair_without_plaintext(&request(operation, body)?))
        }
        "GetParametersForImport" => reply(ks.get_parameters_for_import(&request(operation, body)?)),
        "ImportKeyMaterial" => done(ks.import_key_material(&request(operation, body)?)),
        "DeleteImportedKeyMaterial" => {
            done(ks.delete_imported_key_material(&request::<KeyIdRequest>(operation, body)?.key_id))
        }
        "PutKeyPolicy" => done(ks.put_key_policy(&request(operation, body)?)),
        "GetKeyPolicy" => {
            let r: GetKeyPolicyRequest = request(operation, body)?;
            reply(ks.get_key_policy(&r.key_id, r.policy_name.as_deref()))
        }
        "ListKeyPolicies" => {
            let r: KeyPagingRequest = request(operation, body)?;
            reply(ks.list_key_policies(&r.key_id, r.limit, r.marker.as_deref()))
        }
        "CreateGrant" => reply(ks.create_grant(&request(operation, body)?)),
        "ListGrants" => reply(ks.list_grants(&request(operation, body)?)),
        "ListRetirableGrants" => {
            let r: ListRetirableGrantsRequest = request(operation, body)?;
            reply(ks.list_retirable_grants(&r.retiring_principal, r.limit, r.marker.as_deref()))
        }
        "RetireGrant" => done(ks.retire_grant(&request(operation, body)?)),
        "RevokeGrant" => {
            let r: RevokeGrantRequest = request(operation, body)?;
            done(ks.revoke_grant(&r.key_id, &r.grant_id))
        }
        other => Err(WireError::unknown_operation(format!(
            "unknown operation TrentService.{other}"
        ))),
    }
}

/// ListKeys with `ResourceOwners` (1 or 2 values): this keystore's keys
/// are listed unless `SELF` is left out; no keys are shared with it through
/// AWS RAM, so `OTHER_ACCOUNTS_VIA_RAM` adds none. The keystore lists (and
/// audits, and checks the marker) either way.
fn list_keys(ks: &Keystore, r: &ListKeysRequest) -> Result<ListKeysResponse, Error> {
    if let Some(owners) = &r.resource_owners {
        if !(1..=2).contains(&owners.len()) {
            return Err(Error::validation("ResourceOwners must have 1 or 2 members"));
        }
    }
    let listed = ks.list_keys(r.limit, r.marker.as_deref())?;
    match &r.resource_owners {
        Some(owners) if !owners.contains(&ResourceOwner::Own) => Ok(ListKeysResponse {
            keys: Vec::new(),
            next_marker: None,
            truncated: false,
        }),
        _ => Ok(listed),
    }
}

/// Whether `operation` is one this endpoint serves.
pub fn is_known(operation: &str) -> bool {
    OPERATIONS.contains(&operation)
}
