//! Audit events in the AWS CloudTrail record shape, and the HMAC chain that
//! makes a log of them tamper-evident.
//!
//! An [`AuditEvent`] becomes a CloudTrail-shaped JSON object with
//! [`AuditEvent::to_record`]. [`chain_line`] turns a record into one JSON line
//! carrying a `strongroomChain` field; [`verify_chain`] checks a whole log and
//! reports the first bad record ([`ChainVerifier`] does so one line at a
//! time, for a log read in pieces). The chain construction is specified in
//! `docs/FORMAT.md`, section "Audit log":
//!
//! - `R_i` = the canonical JSON of record *i* without `strongroomChain`
//!   (objects with keys sorted by their UTF-8 bytes, no whitespace, strings
//!   escaped as `serde_json` escapes them, numbers as `serde_json` prints them);
//! - `C_0` = 32 zero bytes (the genesis value, [`GENESIS`]);
//! - `C_i` = HMAC-SHA256(chain_key, `C_{i-1}` || `R_i`);
//! - line *i* = `R_i` without its final `}`, then `,"strongroomChain":"<hex(C_i)>"}`.
//!
//! The chain key is the keystore's `strongroom/v1/audit-mac` sub-key
//! ([`crate::seal::RootKey::audit_key`]).
//!
//! Every record is bounded whatever a caller sends (`docs/FORMAT.md`,
//! "Bounded records"): a `requestParameters` member over
//! [`REQUEST_PARAMETER_MAX`] (and more, see [`REQUEST_PARAMETERS_MAX`]) is
//! written in its reduced form ([`OMITTED_FIELD`]: length, SHA-256 and
//! prefix), a text over [`TEXT_MAX`] cut likewise.
//!
//! A [`Checkpoint`] (count, last chain value) kept by the caller under a seal
//! detects truncation: records after the checkpoint are covered by the chain
//! but can be cut off undetected until the next checkpoint.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::context::EncryptionContext;
use crate::crypto::mac::{hmac_sha256_verify, HmacSha256Key, HMAC_SHA256_LEN};
use crate::error::{Error, Result};
use crate::grant::hex;
use crate::time;

/// CloudTrail `eventVersion` of the records Strongroom writes.
pub const EVENT_VERSION: &str = "1.08";
/// CloudTrail `eventSource` for KMS.
pub const EVENT_SOURCE: &str = "kms.amazonaws.com";

/// `userIdentity.invokedBy` of a service event ([`AuditEvent::service_event`]),
/// as AWS KMS writes it for the `DeleteKey` at the end of a waiting period.
pub const SERVICE_INVOKER: &str = "AWS Internal";

/// Name of the chain field added to each line.
pub const CHAIN_FIELD: &str = "strongroomChain";
/// The member that marks an intent record: the record of a change written
/// before the change commits, with an `eventID` of its own and the
/// `requestID`, operation, caller and request of the operation whose own
/// record (the outcome) follows it. Its value is the object
/// `{"eventID": <the outcome record's eventID>}` (`docs/FORMAT.md`,
/// "Intent records").
pub const INTENT_FIELD: &str = "strongroomIntent";
/// The chain value before the first record: 32 zero bytes.
pub const GENESIS: [u8; HMAC_SHA256_LEN] = [0; HMAC_SHA256_LEN];

/// Longest canonical JSON (bytes) of one `requestParameters` member
/// recorded as given: 128 KiB. A longer member is recorded in its
/// [reduced form](OMITTED_FIELD). Every value within AWS KMS's limits (a
/// 32 KiB policy, a description of 8192 characters, …) escapes to at most
/// 64 KiB, so is recorded as given (`docs/FORMAT.md`, "Bounded records").
pub const REQUEST_PARAMETER_MAX: usize = 128 * 1024;

/// Longest canonical JSON (bytes) of a whole `requestParameters` recorded
/// after the members over [`REQUEST_PARAMETER_MAX`] are reduced: 256 KiB.
/// When it is longer, every member longer than
/// [`REQUEST_PARAMETER_KEEP`] is reduced too, and if it is still longer
/// (only a caller-built value of hundreds of members can be), the whole
/// `requestParameters` is.
pub const REQUEST_PARAMETERS_MAX: usize = 256 * 1024;

/// Members of a `requestParameters` longer than [`REQUEST_PARAMETERS_MAX`]
/// that are still recorded as given: those whose canonical JSON is at
/// most 1 KiB (key IDs, algorithms, numbers).
pub const REQUEST_PARAMETER_KEEP: usize = 1024;

/// Longest text (UTF-8 bytes) of `errorMessage`, `userIdentity.arn`,
/// `userIdentity.accountId` and `recipientAccountId` recorded as given:
/// 8 KiB. Longer text (a message quoting a caller's oversized input, a
/// principal ARN the call refuses) is recorded as its first
/// [`OMITTED_PREFIX_MAX`] bytes followed by
/// `…(strongroomOmitted: <bytes> bytes, sha256 <64 hex>)`.
pub const TEXT_MAX: usize = 8 * 1024;

/// Longest `resources` list recorded in full: 1,000 keys. The record of a
/// change to more keys (a `PurgeDeletedKeys` of many due keys; each purged
/// key also has its own `DeleteKey` record) lists the first 1,000 and then
/// one object `{"strongroomOmitted": {"count": N, "sha256": "<64 hex>"}}`:
/// the number of ARNs left out and the SHA-256 of them, each followed by a
/// newline (`docs/FORMAT.md`, "Bounded records"). Each ARN is recorded as
/// text is ([`TEXT_MAX`]).
pub const RESOURCES_MAX: usize = 1_000;

/// Bytes of an omitted value kept as its `prefix` (cut back to a character
/// boundary): at most 128.
pub const OMITTED_PREFIX_MAX: usize = 128;

/// The member of a value's reduced form: a `requestParameters` value over
/// the limits ([`REQUEST_PARAMETER_MAX`], [`REQUEST_PARAMETERS_MAX`]) is
/// recorded as `{"strongroomOmitted": {"bytes": N, "prefix": "...",
/// "sha256": "<64 hex>"}}`. For a string, `N` is its length in UTF-8
/// bytes, `sha256` the SHA-256 of those bytes and `prefix` their first
/// [`OMITTED_PREFIX_MAX`] bytes (cut back to a character boundary); for
/// any other value (an encryption context, a list, the grant constraints,
/// the whole `requestParameters`) the same of its canonical JSON. No
/// caller-supplied value is an object with this member holding an object,
/// so the form cannot be mistaken for one.
pub const OMITTED_FIELD: &str = "strongroomOmitted";
/// Whether CloudTrail marks the KMS operation `event_name` read-only
/// (cryptographic operations, `Describe*`, `Get*`, `List*`).
pub fn is_read_only(event_name: &str) -> bool {
    matches!(
        event_name,
        "Encrypt"
            | "Decrypt"
            | "ReEncrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateDataKeyPair"
            | "GenerateDataKeyPairWithoutPlaintext"
            | "GenerateRandom"
            | "Sign"
            | "Verify"
            | "GenerateMac"
            | "VerifyMac"
            | "DeriveSharedSecret"
            | "DescribeKey"
    ) || event_name.starts_with("Get")
        || event_name.starts_with("List")
}

/// A version-4 UUID from 16 caller-supplied random bytes.
fn uuid_v4(bytes: [u8; 16]) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// `uuid` in its hyphenated lowercase form, as a JSON string.
fn write_uuid(uuid: &uuid::Uuid, out: &mut String) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push('"');
    out.push_str(uuid.hyphenated().encode_lower(&mut buf));
    out.push('"');
}

/// The non-secret request fields Strongroom logs in `requestParameters`, in
/// CloudTrail's camelCase. It has no field for plaintext, data keys, private
/// keys, MAC or signature inputs, signatures, MACs, ciphertext blobs or grant
/// tokens, so a record built from it cannot contain them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)] // each field is the KMS request parameter of the same name
pub struct RequestParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_encryption_context: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_encryption_context: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_encryption_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_encryption_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_pair_spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypass_policy_lockout_safety_check: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grantee_principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<crate::grant::GrantConstraints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapping_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_keys: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

impl RequestParameters {
    /// No field set (the [`Default`]) as a constant: the constructors
    /// (`RequestParameters::key`, …) fill the fields they set over it, so
    /// that none of them builds and drops a whole default first.
    pub(crate) const NONE: RequestParameters = RequestParameters {
        key_id: None,
        source_key_id: None,
        destination_key_id: None,
        encryption_context: None,
        source_encryption_context: None,
        destination_encryption_context: None,
        encryption_algorithm: None,
        source_encryption_algorithm: None,
        destination_encryption_algorithm: None,
        signing_algorithm: None,
        mac_algorithm: None,
        key_agreement_algorithm: None,
        message_type: None,
        key_spec: None,
        key_usage: None,
        origin: None,
        key_pair_spec: None,
        number_of_bytes: None,
        description: None,
        alias_name: None,
        target_key_id: None,
        policy_name: None,
        policy: None,
        bypass_policy_lockout_safety_check: None,
        pending_window_in_days: None,
        rotation_period_in_days: None,
        grant_id: None,
        grantee_principal: None,
        retiring_principal: None,
        operations: None,
        constraints: None,
        name: None,
        wrapping_algorithm: None,
        expiration_model: None,
        valid_to: None,
        tag_keys: None,
        limit: None,
        marker: None,
    };

    /// The JSON object for `requestParameters`.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The canonical JSON of [`to_value`](Self::to_value) (the same bytes
    /// as [`canonical_json`] of it), appended to `out` without building it.
    /// Members are written in ascending key order; absent fields are left
    /// out, as the `Serialize` derive skips them.
    pub fn write_canonical(&self, out: &mut String) {
        let mut o = Obj::open(out);
        o.str("aliasName", self.alias_name.as_deref());
        o.bool(
            "bypassPolicyLockoutSafetyCheck",
            self.bypass_policy_lockout_safety_check,
        );
        o.value("constraints", self.constraints.as_ref());
        o.str("description", self.description.as_deref());
        o.str(
            "destinationEncryptionAlgorithm",
            self.destination_encryption_algorithm.as_deref(),
        );
        o.context(
            "destinationEncryptionContext",
            self.destination_encryption_context.as_ref(),
        );
        o.str("destinationKeyId", self.destination_key_id.as_deref());
        o.str("encryptionAlgorithm", self.encryption_algorithm.as_deref());
        o.context("encryptionContext", self.encryption_context.as_ref());
        o.str("expirationModel", self.expiration_model.as_deref());
        o.str("grantId", self.grant_id.as_deref());
        o.str("granteePrincipal", self.grantee_principal.as_deref());
        o.str(
            "keyAgreementAlgorithm",
            self.key_agreement_algorithm.as_deref(),
        );
        o.str("keyId", self.key_id.as_deref());
        o.str("keyPairSpec", self.key_pair_spec.as_deref());
        o.str("keySpec", self.key_spec.as_deref());
        o.str("keyUsage", self.key_usage.as_deref());
        o.num("limit", self.limit);
        o.str("macAlgorithm", self.mac_algorithm.as_deref());
        o.str("marker", self.marker.as_deref());
        o.str("messageType", self.message_type.as_deref());
        o.str("name", self.name.as_deref());
        o.num("numberOfBytes", self.number_of_bytes);
        o.strings("operations", self.operations.as_deref());
        o.str("origin", self.origin.as_deref());
        o.num("pendingWindowInDays", self.pending_window_in_days);
        o.str("policy", self.policy.as_deref());
        o.str("policyName", self.policy_name.as_deref());
        o.str("retiringPrincipal", self.retiring_principal.as_deref());
        o.num("rotationPeriodInDays", self.rotation_period_in_days);
        o.str("signingAlgorithm", self.signing_algorithm.as_deref());
        o.str(
            "sourceEncryptionAlgorithm",
            self.source_encryption_algorithm.as_deref(),
        );
        o.context(
            "sourceEncryptionContext",
            self.source_encryption_context.as_ref(),
        );
        o.str("sourceKeyId", self.source_key_id.as_deref());
        o.strings("tagKeys", self.tag_keys.as_deref());
        o.str("targetKeyId", self.target_key_id.as_deref());
        o.num("validTo", self.valid_to);
        o.str("wrappingAlgorithm", self.wrapping_algorithm.as_deref());
        o.close();
    }
}

/// One audit event, built by the operation that it records.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    event_name: String,
    principal: String,
    unix_millis: u64,
    request_id: uuid::Uuid,
    event_id: uuid::Uuid,
    read_only: bool,
    request_parameters: Parameters,
    response_elements: Value,
    error: Option<(String, String)>,
    resources: Vec<String>,
    recipient_account_id: Option<String>,
    /// For an intent record, the `eventID` of its operation's outcome record.
    intent: Option<uuid::Uuid>,
    /// An event of the service itself, not of a call ([`service_event`](Self::service_event)).
    service: bool,
    /// CloudTrail's `serviceEventDetails` of a service event, if any.
    service_event_details: Option<Value>,
}

impl AuditEvent {
    /// An event for KMS operation `event_name` called by `principal` at
    /// `unix_millis`. `random` (from the caller's RNG) gives the `requestID`
    /// (first 16 bytes) and `eventID` (last 16) as version-4 UUIDs.
    /// `readOnly` starts as [`is_read_only`]`(event_name)`.
    pub fn new(event_name: &str, principal: &str, unix_millis: u64, random: [u8; 32]) -> Self {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        a.copy_from_slice(&random[..16]);
        b.copy_from_slice(&random[16..]);
        AuditEvent {
            event_name: event_name.to_owned(),
            principal: principal.to_owned(),
            unix_millis,
            request_id: uuid_v4(a),
            event_id: uuid_v4(b),
            read_only: is_read_only(event_name),
            request_parameters: Parameters::Value(Value::Null),
            response_elements: Value::Null,
            error: None,
            resources: Vec::new(),
            recipient_account_id: None,
            intent: None,
            service: false,
            service_event_details: None,
        }
    }

    /// An event the service records on its own, not for a call: CloudTrail's
    /// `eventType` `AwsServiceEvent`, with `userIdentity`
    /// `{"accountId": account, "invokedBy": "AWS Internal"}` (no `arn`, no
    /// `type`), no `requestID`, `requestParameters` null, and `readOnly`
    /// false; as AWS KMS records `DeleteKey` when a key's waiting period
    /// ends. `random` (from the caller's RNG) gives the `eventID` (last 16
    /// bytes).
    pub fn service_event(
        event_name: &str,
        account: &str,
        unix_millis: u64,
        random: [u8; 32],
    ) -> Self {
        let mut event = AuditEvent::new(event_name, "", unix_millis, random);
        event.service = true;
        event.read_only = false;
        event.recipient_account_id = Some(account.to_owned());
        event
    }

    /// The `DeleteKey` service event of the key `key_arn` in `account`,
    /// purged at `unix_millis` at the end of its waiting period (AWS KMS's
    /// CloudTrail entry: the key in `resources` and in
    /// `responseElements.keyId`).
    pub fn key_deleted(account: &str, key_arn: &str, unix_millis: u64, random: [u8; 32]) -> Self {
        AuditEvent::service_event("DeleteKey", account, unix_millis, random)
            .with_key(key_arn)
            .with_response_elements(serde_json::json!({ "keyId": key_arn }))
    }

    /// The `RotateKey` service event of the key `key_arn` (key ID `key_id`)
    /// in `account`, rotated automatically at `unix_millis` when its
    /// rotation period elapsed (AWS KMS's CloudTrail entry: the key in
    /// `resources`, `responseElements` null, `serviceEventDetails`
    /// `{"keyId": key_id, "rotationType": "AUTOMATIC"}`).
    pub fn key_rotated(
        account: &str,
        key_arn: &str,
        key_id: &str,
        unix_millis: u64,
        random: [u8; 32],
    ) -> Self {
        let details = serde_json::json!({ "keyId": key_id, "rotationType": "AUTOMATIC" });
        let event = AuditEvent::service_event("RotateKey", account, unix_millis, random);
        event.of_key_maintenance(key_arn, details)
    }

    /// The `DeleteExpiredKeyMaterial` service event of the key `key_arn`
    /// (key ID `key_id`) in `account`, whose imported key material was
    /// deleted at `unix_millis` because its `ValidTo` had passed (AWS
    /// KMS's CloudTrail entry: the key in `resources`, `responseElements`
    /// null, `serviceEventDetails` `{"keyId": key_id}`; Strongroom has no
    /// key material IDs, so no `keyMaterialId`).
    pub fn key_material_expired(
        account: &str,
        key_arn: &str,
        key_id: &str,
        unix_millis: u64,
        random: [u8; 32],
    ) -> Self {
        let event =
            AuditEvent::service_event("DeleteExpiredKeyMaterial", account, unix_millis, random);
        event.of_key_maintenance(key_arn, serde_json::json!({ "keyId": key_id }))
    }

    /// This service event as the record of maintenance of the key
    /// `key_arn`: the key in `resources`, `details` (no secret) in
    /// `serviceEventDetails`.
    fn of_key_maintenance(mut self, key_arn: &str, details: Value) -> Self {
        self.service_event_details = Some(details);
        self.with_key(key_arn)
    }

    /// Makes this the intent record of its operation: an `eventID` of its
    /// own, a version-4 UUID from `random` (from the caller's RNG), the
    /// event's `eventID` (the outcome record's) in [`INTENT_FIELD`]
    /// (`{"eventID": ...}`), `readOnly` false, and no outcome (no
    /// `errorCode`, `responseElements` null).
    #[must_use]
    pub fn into_intent(mut self, random: [u8; 16]) -> Self {
        self.intent = Some(self.event_id);
        self.event_id = uuid_v4(random);
        self.read_only = false;
        self.error = None;
        self.response_elements = Value::Null;
        self
    }

    /// Whether this is an intent record ([`into_intent`](Self::into_intent)).
    pub fn is_intent(&self) -> bool {
        self.intent.is_some()
    }

    /// Adds a key ARN to `resources` (once per ARN).
    #[must_use]
    pub fn with_key(mut self, key_arn: &str) -> Self {
        if !self.resources.iter().any(|r| r == key_arn) {
            self.resources.push(key_arn.to_owned());
        }
        self
    }

    /// Adds key ARNs to `resources`, in order, each once (as
    /// [`with_key`](Self::with_key), in time linear in the number of keys
    /// times their logarithm: for a change to many keys).
    #[must_use]
    pub fn with_keys<I: IntoIterator<Item = String>>(mut self, key_arns: I) -> Self {
        let mut seen: alloc::collections::BTreeSet<String> =
            self.resources.iter().cloned().collect();
        for arn in key_arns {
            if !seen.contains(&arn) {
                seen.insert(arn.clone());
                self.resources.push(arn);
            }
        }
        self
    }

    /// The `resources` recorded in full (at most [`RESOURCES_MAX`]) and,
    /// past that, the number of ARNs left out with the SHA-256 of them
    /// (each followed by a newline), as 64 hex digits.
    fn resources_recorded(&self) -> (&[String], Option<(u64, String)>) {
        if self.resources.len() <= RESOURCES_MAX {
            return (&self.resources, None);
        }
        let (kept, rest) = self.resources.split_at(RESOURCES_MAX);
        let mut hash = crate::crypto::digest::Sha256Stream::new();
        for arn in rest {
            hash.update(arn.as_bytes());
            hash.update(b"\n");
        }
        (kept, Some((rest.len() as u64, hex(&hash.finish()))))
    }

    /// Sets `requestParameters` from non-secret fields. They are recorded
    /// as given unless over the limits of `docs/FORMAT.md`, "Bounded
    /// records" ([`REQUEST_PARAMETER_MAX`]): then in their reduced form.
    #[must_use]
    pub fn with_request_parameters(self, params: &RequestParameters) -> Self {
        self.with_owned_request_parameters(params.clone())
    }

    /// As [`with_request_parameters`](Self::with_request_parameters), taking
    /// the fields by value (no copy).
    #[must_use]
    pub fn with_owned_request_parameters(mut self, params: RequestParameters) -> Self {
        self.request_parameters = Parameters::Typed(Box::new(params));
        self
    }

    /// Sets `requestParameters` to `value`. The caller guarantees it holds no secret.
    #[must_use]
    pub fn with_request_parameters_value(mut self, value: Value) -> Self {
        self.request_parameters = Parameters::Value(value);
        self
    }

    /// Sets `responseElements`. The caller guarantees it holds no secret
    /// (for example `{"keyId": ..., "encryptionAlgorithm": ...}`).
    #[must_use]
    pub fn with_response_elements(mut self, value: Value) -> Self {
        self.response_elements = value;
        self
    }

    /// Records a failure: `errorCode` is the KMS exception name, `errorMessage` its message.
    #[must_use]
    pub fn with_error(mut self, error: &Error) -> Self {
        self.error = Some((error.code().to_owned(), error.message().to_owned()));
        self
    }

    /// Overrides `readOnly`.
    #[must_use]
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Sets `recipientAccountId` (by default the account of the first key, else of the principal).
    #[must_use]
    pub fn with_recipient_account(mut self, account: &str) -> Self {
        self.recipient_account_id = Some(account.to_owned());
        self
    }

    /// CloudTrail's `eventType`: `AwsServiceEvent` for a
    /// [`service_event`](Self::service_event), else `AwsApiCall`.
    fn event_type(&self) -> &'static str {
        if self.service {
            "AwsServiceEvent"
        } else {
            "AwsApiCall"
        }
    }

    /// The event name.
    pub fn event_name(&self) -> &str {
        &self.event_name
    }

    /// The CloudTrail-shaped record (without the chain field), with the
    /// values a caller chooses bounded (`docs/FORMAT.md`, "Bounded
    /// records": reduced forms past [`REQUEST_PARAMETER_MAX`],
    /// [`REQUEST_PARAMETERS_MAX`] and [`TEXT_MAX`]).
    pub fn to_record(&self) -> Value {
        let principal_account = account_of(&self.principal);
        let mut identity = Map::new();
        if self.service {
            if let Some(a) = &self.recipient_account_id {
                identity.insert("accountId".into(), a.clone().into());
            }
            identity.insert("invokedBy".into(), SERVICE_INVOKER.into());
        } else {
            identity.insert("type".into(), identity_type(&self.principal).into());
            identity.insert("arn".into(), bounded_text(&self.principal).into());
            if let Some(a) = principal_account {
                identity.insert("accountId".into(), bounded_text(a).into());
            }
        }
        let (kept, left_out) = self.resources_recorded();
        let mut resources: Vec<Value> = kept
            .iter()
            .map(|arn| {
                let mut r = Map::new();
                r.insert("ARN".into(), bounded_text(arn).into());
                if let Some(a) = account_of(arn) {
                    r.insert("accountId".into(), bounded_text(a).into());
                }
                r.insert("type".into(), "AWS::KMS::Key".into());
                Value::Object(r)
            })
            .collect();
        if let Some((count, sha256)) = left_out {
            let mut reduced = Map::new();
            reduced.insert("count".into(), count.into());
            reduced.insert("sha256".into(), sha256.into());
            let mut form = Map::new();
            form.insert(OMITTED_FIELD.into(), Value::Object(reduced));
            resources.push(Value::Object(form));
        }
        let recipient = self
            .recipient_account_id
            .clone()
            .or_else(|| {
                self.resources
                    .iter()
                    .find_map(|r| account_of(r))
                    .map(ToOwned::to_owned)
            })
            .or_else(|| principal_account.map(ToOwned::to_owned));
        let mut rec = Map::new();
        rec.insert("eventVersion".into(), EVENT_VERSION.into());
        rec.insert("userIdentity".into(), Value::Object(identity));
        rec.insert(
            "eventTime".into(),
            time::format_rfc3339_millis(self.unix_millis).into(),
        );
        rec.insert("eventSource".into(), EVENT_SOURCE.into());
        rec.insert("eventName".into(), self.event_name.clone().into());
        let params = match &self.request_parameters {
            Parameters::Typed(p) => p.to_value(),
            Parameters::Value(v) => v.clone(),
        };
        let params = if canonical_json(&params).len() > REQUEST_PARAMETER_MAX {
            bounded_parameters(params)
        } else {
            params
        };
        rec.insert("requestParameters".into(), params);
        rec.insert("responseElements".into(), self.response_elements.clone());
        if let Some((code, message)) = &self.error {
            rec.insert("errorCode".into(), code.clone().into());
            rec.insert("errorMessage".into(), bounded_text(message).into());
        }
        if !self.service {
            rec.insert(
                "requestID".into(),
                self.request_id.hyphenated().to_string().into(),
            );
        }
        rec.insert(
            "eventID".into(),
            self.event_id.hyphenated().to_string().into(),
        );
        rec.insert("readOnly".into(), self.read_only.into());
        rec.insert("resources".into(), Value::Array(resources));
        rec.insert("eventType".into(), self.event_type().into());
        rec.insert("managementEvent".into(), true.into());
        rec.insert("eventCategory".into(), "Management".into());
        if let Some(r) = recipient {
            rec.insert("recipientAccountId".into(), bounded_text(&r).into());
        }
        if let Some(details) = &self.service_event_details {
            rec.insert("serviceEventDetails".into(), details.clone());
        }
        if let Some(outcome) = &self.intent {
            let mut link = Map::new();
            link.insert("eventID".into(), outcome.hyphenated().to_string().into());
            rec.insert(INTENT_FIELD.into(), Value::Object(link));
        }
        Value::Object(rec)
    }

    /// The canonical JSON of [`to_record`](Self::to_record) (the bytes
    /// [`canonical_record`] gives for it, `R_i` of `docs/FORMAT.md`), written
    /// directly: no intermediate [`Value`] tree.
    pub fn to_canonical_record(&self) -> String {
        let mut out = String::with_capacity(1024);
        self.write_canonical_record(&mut out);
        out
    }

    /// [`to_canonical_record`](Self::to_canonical_record) appended to `out`.
    /// The members of every object are written in ascending order of their
    /// keys' bytes (checked in debug builds). Bounded as
    /// [`to_record`](Self::to_record) is: `requestParameters` at most
    /// [`REQUEST_PARAMETERS_MAX`] bytes, the texts a caller chooses at most
    /// [`TEXT_MAX`] bytes before escaping.
    pub fn write_canonical_record(&self, out: &mut String) {
        let principal_account = account_of(&self.principal);
        let recipient = self
            .recipient_account_id
            .as_deref()
            .or_else(|| self.resources.iter().find_map(|r| account_of(r)))
            .or(principal_account);
        let mut o = Obj::open(out);
        if let Some((code, message)) = &self.error {
            o.str("errorCode", Some(code.as_str()));
            o.str("errorMessage", Some(&bounded_text(message)));
        }
        o.str("eventCategory", Some("Management"));
        o.key("eventID");
        write_uuid(&self.event_id, o.out);
        o.str("eventName", Some(self.event_name.as_str()));
        o.str("eventSource", Some(EVENT_SOURCE));
        o.key("eventTime");
        o.out.push('"');
        time::write_rfc3339_millis(self.unix_millis, o.out);
        o.out.push('"');
        o.str("eventType", Some(self.event_type()));
        o.str("eventVersion", Some(EVENT_VERSION));
        o.bool("managementEvent", Some(true));
        o.bool("readOnly", Some(self.read_only));
        o.str("recipientAccountId", recipient.map(bounded_text).as_deref());
        if !self.service {
            o.key("requestID");
            write_uuid(&self.request_id, o.out);
        }
        o.key("requestParameters");
        self.write_request_parameters(o.out);
        o.key("resources");
        o.out.push('[');
        let (kept, left_out) = self.resources_recorded();
        for (i, arn) in kept.iter().enumerate() {
            if i > 0 {
                o.out.push(',');
            }
            let mut r = Obj::open(o.out);
            r.str("ARN", Some(&bounded_text(arn)));
            r.str("accountId", account_of(arn).map(bounded_text).as_deref());
            r.str("type", Some("AWS::KMS::Key"));
            r.close();
        }
        if let Some((count, sha256)) = left_out {
            o.out.push(',');
            let mut r = Obj::open(o.out);
            r.key(OMITTED_FIELD);
            let mut reduced = Obj::open(&mut *r.out);
            reduced.num("count", Some(count));
            reduced.str("sha256", Some(&sha256));
            reduced.close();
            r.close();
        }
        o.out.push(']');
        o.key("responseElements");
        write_canonical(&self.response_elements, o.out);
        if let Some(details) = &self.service_event_details {
            o.key("serviceEventDetails");
            write_canonical(details, o.out);
        }
        if let Some(outcome) = &self.intent {
            o.key("strongroomIntent");
            let mut link = Obj::open(o.out);
            link.key("eventID");
            write_uuid(outcome, link.out);
            link.close();
        }
        o.key("userIdentity");
        let mut id = Obj::open(o.out);
        if self.service {
            id.str("accountId", self.recipient_account_id.as_deref());
            id.str("invokedBy", Some(SERVICE_INVOKER));
        } else {
            id.str("accountId", principal_account.map(bounded_text).as_deref());
            id.str("arn", Some(&bounded_text(&self.principal)));
            id.str("type", Some(identity_type(&self.principal)));
        }
        id.close();
        o.close();
    }
}

impl AuditEvent {
    /// The canonical `requestParameters`, bounded as [`bounded_parameters`]
    /// bounds it. Written as given first: a result of at most
    /// [`REQUEST_PARAMETER_MAX`] bytes has no member over a limit and is
    /// kept (every record of a call within KMS's limits); a longer one is
    /// taken back and written again reduced.
    fn write_request_parameters(&self, out: &mut String) {
        let start = out.len();
        match &self.request_parameters {
            Parameters::Typed(p) => p.write_canonical(out),
            Parameters::Value(v) => write_canonical(v, out),
        }
        if out.len() - start <= REQUEST_PARAMETER_MAX {
            return;
        }
        out.truncate(start);
        let value = match &self.request_parameters {
            Parameters::Typed(p) => p.to_value(),
            Parameters::Value(v) => v.clone(),
        };
        write_canonical(&bounded_parameters(value), out);
    }
}

/// `requestParameters` bounded (`docs/FORMAT.md`, "Bounded records"):
/// each member whose canonical JSON is longer than
/// [`REQUEST_PARAMETER_MAX`] is replaced by its [reduced form](omitted);
/// if the whole is then longer than [`REQUEST_PARAMETERS_MAX`], so is every
/// member longer than [`REQUEST_PARAMETER_KEEP`]; if it is still longer,
/// the whole value is replaced by its reduced form. A value that is not
/// an object is kept up to [`REQUEST_PARAMETERS_MAX`], else reduced. The
/// canonical JSON of the result is at most [`REQUEST_PARAMETERS_MAX`] bytes.
fn bounded_parameters(value: Value) -> Value {
    let Value::Object(map) = value else {
        return if canonical_json(&value).len() > REQUEST_PARAMETERS_MAX {
            omitted(&value)
        } else {
            value
        };
    };
    let sizes: Vec<usize> = map.values().map(|v| canonical_json(v).len()).collect();
    // Filled by `insert` (the members come sorted and distinct), not
    // `collect`, which compiles a sort and a bulk build of the B-tree.
    let reduce = |limit: usize| -> Value {
        let mut out = Map::new();
        for ((k, v), &n) in map.iter().zip(&sizes) {
            let v = if n > limit { omitted(v) } else { v.clone() };
            out.insert(k.clone(), v);
        }
        Value::Object(out)
    };
    let first = reduce(REQUEST_PARAMETER_MAX);
    if canonical_json(&first).len() <= REQUEST_PARAMETERS_MAX {
        return first;
    }
    let second = reduce(REQUEST_PARAMETER_KEEP);
    if canonical_json(&second).len() <= REQUEST_PARAMETERS_MAX {
        return second;
    }
    omitted(&Value::Object(map))
}

/// The first at most [`OMITTED_PREFIX_MAX`] bytes of `s`, cut back to a
/// character boundary.
fn omitted_prefix(s: &str) -> &str {
    let mut n = s.len().min(OMITTED_PREFIX_MAX);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

/// The reduced form of `value` ([`OMITTED_FIELD`]): its length, SHA-256
/// and prefix (of a string's UTF-8 bytes, else of its canonical JSON).
fn omitted(value: &Value) -> Value {
    let canonical;
    let text = match value {
        Value::String(s) => s.as_str(),
        other => {
            canonical = canonical_json(other);
            canonical.as_str()
        }
    };
    let mut reduced = Map::new();
    reduced.insert("bytes".into(), (text.len() as u64).into());
    reduced.insert("prefix".into(), omitted_prefix(text).into());
    reduced.insert(
        "sha256".into(),
        hex(&crate::crypto::digest::sha256(text.as_bytes())).into(),
    );
    let mut form = Map::new();
    form.insert(OMITTED_FIELD.into(), Value::Object(reduced));
    Value::Object(form)
}

/// `text` as recorded in `errorMessage` and the identity fields: as given
/// up to [`TEXT_MAX`] bytes, else its first [`OMITTED_PREFIX_MAX`] bytes
/// and `…(strongroomOmitted: <bytes> bytes, sha256 <64 hex>)`.
fn bounded_text(text: &str) -> alloc::borrow::Cow<'_, str> {
    if text.len() <= TEXT_MAX {
        return alloc::borrow::Cow::Borrowed(text);
    }
    alloc::borrow::Cow::Owned(format!(
        "{}\u{2026}({OMITTED_FIELD}: {} bytes, sha256 {})",
        omitted_prefix(text),
        text.len(),
        hex(&crate::crypto::digest::sha256(text.as_bytes()))
    ))
}

/// What `requestParameters` holds: the typed fields, or a JSON value given
/// by the caller.
#[derive(Clone, Debug, PartialEq)]
enum Parameters {
    Typed(Box<RequestParameters>),
    Value(Value),
}

/// The members of one JSON object, written in canonical form to `out`; the
/// caller gives them in ascending order of their keys' bytes (checked in
/// debug builds). A member whose value is `None` is left out.
struct Obj<'a> {
    out: &'a mut String,
    first: bool,
    #[cfg(debug_assertions)]
    prev: &'static str,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut String) -> Self {
        out.push('{');
        Obj {
            out,
            first: true,
            #[cfg(debug_assertions)]
            prev: "",
        }
    }

    fn key(&mut self, key: &'static str) {
        #[cfg(debug_assertions)]
        {
            debug_assert!(
                self.first || self.prev.as_bytes() < key.as_bytes(),
                "canonical members out of order: {} before {key}",
                self.prev
            );
            self.prev = key;
        }
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        // The member names are this module's constants, none with a byte
        // to escape: copied as they are, without the escape scan.
        debug_assert!(!needs_escape(key.as_bytes()), "{key}");
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(v) = value {
            self.key(key);
            write_string(v, self.out);
        }
    }

    fn bool(&mut self, key: &'static str, value: Option<bool>) {
        if let Some(v) = value {
            self.key(key);
            self.out.push_str(if v { "true" } else { "false" });
        }
    }

    fn num(&mut self, key: &'static str, value: Option<impl Into<u64>>) {
        use core::fmt::Write;
        if let Some(v) = value {
            self.key(key);
            // Writing to a String cannot fail; integers print as serde_json prints them.
            let _ = write!(self.out, "{}", v.into());
        }
    }

    fn strings(&mut self, key: &'static str, value: Option<&[String]>) {
        if let Some(v) = value {
            self.key(key);
            self.out.push('[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                write_string(s, self.out);
            }
            self.out.push(']');
        }
    }

    fn context(&mut self, key: &'static str, value: Option<&EncryptionContext>) {
        if let Some(c) = value {
            self.key(key);
            // A BTreeMap<String, _> iterates in ascending order of key bytes.
            self.out.push('{');
            for (i, (k, v)) in c.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                write_string(k, self.out);
                self.out.push(':');
                write_string(v, self.out);
            }
            self.out.push('}');
        }
    }

    fn value<T: Serialize>(&mut self, key: &'static str, value: Option<&T>) {
        if let Some(v) = value {
            self.key(key);
            write_canonical(&serde_json::to_value(v).unwrap_or(Value::Null), self.out);
        }
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn account_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    parts.next()?;
    (!account.is_empty()).then_some(account)
}

/// CloudTrail `userIdentity.type` for a principal ARN.
fn identity_type(principal: &str) -> &'static str {
    let resource = principal.splitn(6, ':').nth(5).unwrap_or("");
    if resource == "root" {
        "Root"
    } else if resource.starts_with("user/") {
        "IAMUser"
    } else if resource.starts_with("assumed-role/") || resource.starts_with("role/") {
        "AssumedRole"
    } else if principal.ends_with(".amazonaws.com") {
        "AWSService"
    } else {
        "Unknown"
    }
}

/// The canonical JSON of `value`: keys sorted by UTF-8 bytes at every level,
/// no whitespace, strings and numbers as `serde_json` writes them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

/// [`canonical_json`] of the object `map` without its `strongroomChain`
/// member: what the chain MAC covers. Reads the member in place rather than
/// removing it from a copy (a JSON map's removal code is ≈ 5 KB of
/// WebAssembly, used nowhere else).
fn canonical_without_chain(map: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    write_object(map, Some(CHAIN_FIELD), &mut out);
    out
}

/// The members of `map` but `skip`, keys sorted by UTF-8 bytes.
fn write_object(map: &serde_json::Map<String, Value>, skip: Option<&str>, out: &mut String) {
    let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.push('{');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(k, out);
        out.push(':');
        if let Some(v) = map.get(k.as_str()) {
            write_canonical(v, out);
        }
    }
    out.push('}');
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => write_object(map, None, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        // What serde_json writes for them (a `Number`'s `Display` is its
        // serialized text under every serde_json feature set); not
        // `Value`'s `Display`, whose compact and pretty JSON writers the
        // module would otherwise carry for these three cases alone.
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
    }
}

/// `s` as a JSON string (quoted, escaped as `serde_json` escapes), appended to `out`.
pub(crate) fn write_string(s: &str, out: &mut String) {
    // serde_json's escaping (docs/FORMAT.md, "Canonical record bytes"):
    // `"` and `\\`, the five short control escapes, `\u00xx` for the other
    // code points below U+0020, everything else literal.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x09 => "\\t",
            0x0a => "\\n",
            0x0c => "\\f",
            0x0d => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether `bytes` holds a byte [`write_string`] escapes (`"`, `\\` or one
/// below 0x20), tested eight bytes at a time: most values have none, and
/// are then copied in one go. A byte `b` of a word `x` is zero exactly
/// when `(x - 0x01…01) & !x & 0x80…80` is non-zero (at some byte), and is
/// below `n <= 0x80` likewise with `0x01…01 * n`; UTF-8 bytes of 0x80 and
/// above never match (`!x` clears their high bit).
fn needs_escape(bytes: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        let x = u64::from_le_bytes(b);
        let quote = x ^ (LO * u64::from(b'"'));
        let backslash = x ^ (LO * u64::from(b'\\'));
        let hit = (x.wrapping_sub(LO * 0x20) & !x)
            | (quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash);
        if hit & HI != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Where a log stands: how many records it holds and the chain value of the
/// last one ([`GENESIS`] for an empty log). Seal it to detect truncation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of records.
    pub count: u64,
    /// Chain value `C_count`.
    pub last: [u8; HMAC_SHA256_LEN],
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Checkpoint {{ count: {}, last: {} }}",
            self.count,
            hex(&self.last)
        )
    }
}

impl Checkpoint {
    /// The checkpoint of an empty log.
    pub const fn genesis() -> Self {
        Checkpoint {
            count: 0,
            last: GENESIS,
        }
    }

    /// 40 bytes: big-endian `count`, then `last`.
    pub fn to_bytes(&self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[..8].copy_from_slice(&self.count.to_be_bytes());
        b[8..].copy_from_slice(&self.last);
        b
    }

    /// Parses [`to_bytes`](Self::to_bytes).
    ///
    /// # Errors
    /// `ValidationException` unless `bytes` is 40 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 40 {
            return Err(Error::validation("an audit checkpoint is 40 bytes"));
        }
        let mut count = [0u8; 8];
        count.copy_from_slice(&bytes[..8]);
        let mut last = [0u8; HMAC_SHA256_LEN];
        last.copy_from_slice(&bytes[8..]);
        Ok(Checkpoint {
            count: u64::from_be_bytes(count),
            last,
        })
    }
}

/// Chains `record` after `previous`: returns the JSON line to append
/// (without a trailing newline) and the new checkpoint.
///
/// # Errors
/// `ValidationException` if `record` is not a non-empty JSON object or
/// already has a `strongroomChain` field.
pub fn chain_line(
    chain_key: &[u8],
    previous: &Checkpoint,
    record: &Value,
) -> Result<(String, Checkpoint)> {
    chain_canonical(chain_key, previous, &canonical_record(record)?)
}

/// The canonical form of an audit record, checked as [`chain_line`] checks
/// it; with [`chain_canonical`] it lets a writer serialize a record before
/// taking the log's lock and only chain it under the lock.
///
/// # Errors
/// `ValidationException` if `record` is not a non-empty JSON object or
/// already has the chain field.
pub fn canonical_record(record: &Value) -> Result<String> {
    let obj = record
        .as_object()
        .ok_or_else(|| Error::validation("an audit record must be a JSON object"))?;
    if obj.is_empty() || obj.contains_key(CHAIN_FIELD) {
        return Err(Error::validation(
            "an audit record must be a non-empty JSON object without a strongroomChain field",
        ));
    }
    Ok(canonical_json(record))
}

/// [`chain_line`] for a record already in canonical form
/// ([`canonical_record`]).
///
/// # Errors
/// `KMSInternalException` if the MAC cannot be computed.
pub fn chain_canonical(
    chain_key: &[u8],
    previous: &Checkpoint,
    canonical: &str,
) -> Result<(String, Checkpoint)> {
    let mut line = String::with_capacity(canonical.len() + CHAIN_SUFFIX_LEN);
    let next = chain_canonical_into(chain_key, previous, canonical, &mut line)?;
    Ok((line, next))
}

/// Bytes a line adds to its canonical record: `,"strongroomChain":"` and
/// 64 hex digits and `"`.
const CHAIN_SUFFIX_LEN: usize = 2 + CHAIN_FIELD.len() + 3 + 2 * HMAC_SHA256_LEN + 1;

/// Length in bytes of the line (without its newline) that
/// [`chain_canonical`] makes of a canonical record of `canonical_len`
/// bytes: the record and its chain suffix (85 bytes).
pub const fn chained_line_len(canonical_len: usize) -> usize {
    canonical_len.saturating_add(CHAIN_SUFFIX_LEN)
}

/// [`chain_canonical`] appending the line (without a newline) to `out`;
/// returns the new checkpoint.
///
/// # Errors
/// `ValidationException` if `canonical` does not end in `}`.
pub fn chain_canonical_into(
    chain_key: &[u8],
    previous: &Checkpoint,
    canonical: &str,
    out: &mut String,
) -> Result<Checkpoint> {
    chain_canonical_keyed(&HmacSha256Key::new(chain_key), previous, canonical, out)
}

/// [`chain_canonical_into`] with the chain key prepared once
/// ([`HmacSha256Key::new`] of the chain key), for a writer that chains
/// many records: the HMAC's keyed states are not recomputed per record.
///
/// # Errors
/// `ValidationException` if `canonical` does not end in `}`.
pub fn chain_canonical_keyed(
    chain_key: &HmacSha256Key,
    previous: &Checkpoint,
    canonical: &str,
    out: &mut String,
) -> Result<Checkpoint> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let body = canonical
        .strip_suffix('}')
        .ok_or_else(|| Error::validation("a canonical audit record ends in }"))?;
    let mac = chain_key.tag(&[&previous.last, canonical.as_bytes()]);
    out.push_str(body);
    out.push_str(",\"");
    out.push_str(CHAIN_FIELD);
    out.push_str("\":\"");
    for b in mac {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out.push_str("\"}");
    Ok(Checkpoint {
        count: previous.count + 1,
        last: mac,
    })
}

fn assemble_line(canonical: &str, mac: &[u8]) -> String {
    let body = &canonical[..canonical.len() - 1];
    format!("{body},\"{CHAIN_FIELD}\":\"{}\"}}", hex(mac))
}

/// The log line of a record read back from a log and parsed (with its
/// `strongroomChain` field), as [`chain_line`] wrote it: the canonical form
/// of the rest with the chain field last. Lets a caller that holds records
/// as parsed JSON objects (where member order is lost) verify them with
/// [`verify_chain`]. A record without a string chain field comes back in
/// plain canonical form, which fails verification as malformed.
pub fn record_line(record: &Value) -> String {
    let (rest, chain) = match record.as_object() {
        Some(o) if o.len() > 1 => match o.get(CHAIN_FIELD) {
            Some(Value::String(c)) => (o, c),
            _ => return canonical_json(record),
        },
        _ => return canonical_json(record),
    };
    let canonical = canonical_without_chain(rest);
    let mut line = String::with_capacity(canonical.len() + chain.len() + 22);
    line.push_str(&canonical[..canonical.len() - 1]);
    line.push_str(",\"");
    line.push_str(CHAIN_FIELD);
    line.push_str("\":");
    write_string(chain, &mut line);
    line.push('}');
    line
}

/// Why a log failed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainFault {
    /// The line is not a JSON object with a well-formed `strongroomChain` field.
    Malformed(&'static str),
    /// The line is not in the canonical form Strongroom writes.
    NotCanonical,
    /// The chain value does not verify: this record, or one before it, was
    /// edited, deleted, inserted or moved.
    ChainMismatch,
    /// The log holds fewer records than the checkpoint.
    Truncated {
        /// Records in the checkpoint.
        expected: u64,
        /// Records found.
        found: u64,
    },
    /// The record at the checkpoint's position is not the one checkpointed.
    CheckpointMismatch,
}

impl fmt::Display for ChainFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainFault::Malformed(why) => write!(f, "malformed record: {why}"),
            ChainFault::NotCanonical => f.write_str("record is not in canonical form (edited)"),
            ChainFault::ChainMismatch => f.write_str(
                "chain value does not verify (record edited, or a record deleted, inserted or reordered before it)",
            ),
            ChainFault::Truncated { expected, found } => write!(
                f,
                "log truncated: the checkpoint covers {expected} records, the log holds {found}"
            ),
            ChainFault::CheckpointMismatch => {
                f.write_str("record does not match the sealed checkpoint")
            }
        }
    }
}

/// The first bad record of a log (0-based line index) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainError {
    /// Index of the first bad record; for truncation, the number of records found.
    pub index: u64,
    /// What is wrong.
    pub reason: ChainFault,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit record {}: {}", self.index, self.reason)
    }
}

/// Verifies a whole log, one JSON line per record (pass `text.lines()`),
/// against `chain_key`, starting from [`GENESIS`]. With `checkpoint`, the log
/// must hold at least `checkpoint.count` records and the chain value of record
/// `checkpoint.count` must be `checkpoint.last`; records after it are
/// verified as part of the chain.
///
/// Returns the checkpoint of the whole log (its record count and last chain
/// value). It is [`verify_chain_from`] from [`Checkpoint::genesis`].
///
/// # Errors
/// The first bad record and the [`ChainFault`].
pub fn verify_chain<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    chain_key: &[u8],
    checkpoint: Option<&Checkpoint>,
) -> core::result::Result<Checkpoint, ChainError> {
    verify_chain_from(lines, chain_key, Checkpoint::genesis(), checkpoint)
}

/// [`verify_chain`] of a log file that starts after `base.count` records
/// chained to `base.last` (a rotated file: its first line is chained from
/// `base`), with record indexes and the checkpoint's `count` over every
/// record ever: the first line is record index `base.count`. Runs a
/// [`ChainVerifier`].
///
/// # Errors
/// The first bad record and the [`ChainFault`]; a `checkpoint` whose count
/// is below `base.count`, or equal to it with another chain value, is a
/// [`ChainFault::CheckpointMismatch`] at index `base.count`.
pub fn verify_chain_from<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    chain_key: &[u8],
    base: Checkpoint,
    checkpoint: Option<&Checkpoint>,
) -> core::result::Result<Checkpoint, ChainError> {
    let mut verifier = ChainVerifier::new(chain_key, base, checkpoint.copied())?;
    for line in lines {
        verifier.next_line(line)?;
    }
    verifier.finish()
}

/// A chain verified one line at a time, for a caller that reads a log in
/// pieces and never holds it whole: the one implementation of
/// [`verify_chain`] and [`verify_chain_from`], which feed it every line.
/// Starts at a base ([`Checkpoint::genesis`], or the state a rotated file
/// continues from); with a sealed checkpoint, the record at the
/// checkpoint's count must have its chain value, and [`finish`](Self::finish)
/// requires the chain to reach that count. Memory: the key reference and
/// two checkpoints, whatever the log's length.
#[derive(Clone)]
pub struct ChainVerifier<'k> {
    chain_key: &'k [u8],
    state: Checkpoint,
    checkpoint: Option<Checkpoint>,
}

impl fmt::Debug for ChainVerifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainVerifier")
            .field("state", &self.state)
            .field("checkpoint", &self.checkpoint)
            .finish_non_exhaustive()
    }
}

impl<'k> ChainVerifier<'k> {
    /// A verifier whose next line is record index `base.count` (0-based over
    /// every record ever), chained from `base.last`, checked against
    /// `checkpoint` (global counts) when given.
    ///
    /// # Errors
    /// [`ChainFault::CheckpointMismatch`] at index `base.count` when the
    /// checkpoint's count is below `base.count`, or equal to it with
    /// another chain value (the file starts past the checkpoint, or not
    /// where it ends).
    pub fn new(
        chain_key: &'k [u8],
        base: Checkpoint,
        checkpoint: Option<Checkpoint>,
    ) -> core::result::Result<Self, ChainError> {
        if let Some(cp) = checkpoint {
            if cp.count < base.count || (cp.count == base.count && cp.last != base.last) {
                return Err(ChainError {
                    index: base.count,
                    reason: ChainFault::CheckpointMismatch,
                });
            }
        }
        Ok(ChainVerifier {
            chain_key,
            state: base,
            checkpoint,
        })
    }

    /// Verifies the next line (one record, without its newline) and returns
    /// the state after it.
    ///
    /// # Errors
    /// The line's [`ChainFault`] at its index ([`state`](Self::state)'s
    /// count), or [`ChainFault::CheckpointMismatch`] when it is the
    /// checkpoint's record with another chain value; the verifier's state
    /// is then unchanged.
    pub fn next_line(&mut self, line: &str) -> core::result::Result<Checkpoint, ChainError> {
        let index = self.state.count;
        let fail = |reason| ChainError { index, reason };
        let mac = check_line(line, self.chain_key, &self.state.last).map_err(fail)?;
        let next = Checkpoint {
            count: index + 1,
            last: mac,
        };
        if let Some(cp) = &self.checkpoint {
            if cp.count == next.count && cp.last != next.last {
                return Err(fail(ChainFault::CheckpointMismatch));
            }
        }
        self.state = next;
        Ok(next)
    }

    /// The state after the last line verified (the base before any).
    pub fn state(&self) -> Checkpoint {
        self.state
    }

    /// Ends the log: returns the state after its last line.
    ///
    /// # Errors
    /// [`ChainFault::Truncated`] (index: the records found) when the
    /// checkpoint counts more records than were verified.
    pub fn finish(self) -> core::result::Result<Checkpoint, ChainError> {
        if let Some(cp) = &self.checkpoint {
            if self.state.count < cp.count {
                return Err(ChainError {
                    index: self.state.count,
                    reason: ChainFault::Truncated {
                        expected: cp.count,
                        found: self.state.count,
                    },
                });
            }
        }
        Ok(self.state)
    }
}

/// Verifies one line chained after `previous` and returns the state after it
/// (used to extend a chain from a checkpoint without re-reading the log).
///
/// # Errors
/// The [`ChainFault`] of the line.
pub fn verify_next_line(
    line: &str,
    chain_key: &[u8],
    previous: &Checkpoint,
) -> core::result::Result<Checkpoint, ChainFault> {
    let mac = check_line(line, chain_key, &previous.last)?;
    Ok(Checkpoint {
        count: previous.count + 1,
        last: mac,
    })
}

fn check_line(
    line: &str,
    chain_key: &[u8],
    previous: &[u8; HMAC_SHA256_LEN],
) -> core::result::Result<[u8; HMAC_SHA256_LEN], ChainFault> {
    let value = crate::json_tree(line, false).map_err(|_| ChainFault::Malformed("not JSON"))?;
    let obj = value
        .as_object()
        .ok_or(ChainFault::Malformed("not a JSON object"))?;
    let chain = match obj.get(CHAIN_FIELD) {
        Some(Value::String(s)) => s,
        Some(_) => return Err(ChainFault::Malformed("strongroomChain is not a string")),
        None => return Err(ChainFault::Malformed("no strongroomChain field")),
    };
    let tag = unhex(chain).ok_or(ChainFault::Malformed(
        "strongroomChain is not 64 hex digits",
    ))?;
    if obj.len() == 1 {
        return Err(ChainFault::Malformed("empty record"));
    }
    let canonical = canonical_without_chain(obj);
    if assemble_line(&canonical, &tag) != line {
        return Err(ChainFault::NotCanonical);
    }
    if !hmac_sha256_verify(chain_key, &[previous, canonical.as_bytes()], &tag) {
        return Err(ChainFault::ChainMismatch);
    }
    Ok(tag)
}

fn unhex(s: &str) -> Option<[u8; HMAC_SHA256_LEN]> {
    let b = s.as_bytes();
    if b.len() != 2 * HMAC_SHA256_LEN {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; HMAC_SHA256_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The constant the constructors start from is the `Default`: no field
    /// set, so `to_value` is the empty object.
    #[test]
    fn none_is_the_default() {
        assert_eq!(RequestParameters::NONE, RequestParameters::default());
        assert_eq!(
            RequestParameters::NONE.to_value(),
            Value::Object(Map::new())
        );
    }

    #[test]
    fn the_escape_test_finds_every_escaped_byte_at_every_position() {
        for len in 0..20 {
            for pos in 0..len {
                for b in 0u8..=255 {
                    let mut v = alloc::vec![b'a'; len];
                    v[pos] = b;
                    let expected = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&v), expected, "{len} {pos} {b:#x}");
                }
            }
            assert!(!needs_escape(&alloc::vec![0xc3; len]));
        }
    }

    fn event_with(params: RequestParameters) -> AuditEvent {
        AuditEvent::new(
            "PutKeyPolicy",
            "arn:aws:iam::111122223333:user/alice",
            1_700_000_000_000,
            [7; 32],
        )
        .with_owned_request_parameters(params)
    }

    /// The canonical record, checked equal to the canonical form of
    /// `to_record`, and its `requestParameters` parsed.
    fn recorded_parameters(e: &AuditEvent) -> (String, Value) {
        let direct = e.to_canonical_record();
        assert_eq!(direct, canonical_record(&e.to_record()).unwrap());
        let v: Value = serde_json::from_str(&direct).unwrap();
        (direct, v["requestParameters"].clone())
    }

    fn assert_omitted(v: &Value, text: &str) {
        let form = &v[OMITTED_FIELD];
        assert_eq!(form["bytes"], text.len() as u64, "{v}");
        assert_eq!(
            form["sha256"],
            hex(&crate::crypto::digest::sha256(text.as_bytes())).as_str()
        );
        let prefix = form["prefix"].as_str().unwrap();
        assert!(prefix.len() <= OMITTED_PREFIX_MAX && text.starts_with(prefix));
    }

    /// A string member whose canonical JSON is exactly
    /// `REQUEST_PARAMETER_MAX` bytes is kept; one byte more is reduced
    /// (length, SHA-256 and prefix of the string), and the other members
    /// are kept.
    #[test]
    fn a_member_over_the_limit_is_reduced_at_the_exact_boundary() {
        for extra in [0usize, 1] {
            let policy = "\u{1}".repeat((REQUEST_PARAMETER_MAX - 2) / 6)
                + &"a".repeat((REQUEST_PARAMETER_MAX - 2) % 6 + extra);
            let e = event_with(RequestParameters {
                key_id: Some("k".into()),
                policy: Some(policy.clone()),
                ..RequestParameters::default()
            });
            let (record, params) = recorded_parameters(&e);
            assert_eq!(params["keyId"], "k");
            if extra == 0 {
                assert_eq!(params["policy"], policy.as_str());
            } else {
                assert_omitted(&params["policy"], &policy);
                assert!(record.len() < 2048, "{}", record.len());
            }
        }
    }

    /// A prefix is cut back to a character boundary.
    #[test]
    fn the_prefix_ends_on_a_character_boundary() {
        let s = "a".to_owned() + &"\u{1F600}".repeat(100_000);
        let e = event_with(RequestParameters {
            description: Some(s.clone()),
            ..RequestParameters::default()
        });
        let (_, params) = recorded_parameters(&e);
        assert_omitted(&params["description"], &s);
        assert_eq!(
            params["description"][OMITTED_FIELD]["prefix"]
                .as_str()
                .unwrap()
                .len(),
            125
        );
    }

    /// Members each under the member limit but together over the whole
    /// limit: every member over `REQUEST_PARAMETER_KEEP` is reduced (a
    /// context by its canonical JSON), the short ones kept.
    #[test]
    fn parameters_over_the_whole_limit_reduce_every_long_member() {
        let big = "x".repeat(REQUEST_PARAMETER_MAX - 100);
        let c = EncryptionContext::from_pairs([("k", big.clone())]).unwrap();
        let e = event_with(RequestParameters {
            key_id: Some("1234abcd".into()),
            policy: Some(big.clone()),
            description: Some(big.clone()),
            encryption_context: Some(c.clone()),
            ..RequestParameters::default()
        });
        let (record, params) = recorded_parameters(&e);
        assert_eq!(params["keyId"], "1234abcd");
        assert_omitted(&params["policy"], &big);
        assert_omitted(&params["description"], &big);
        let context_json = canonical_json(&serde_json::to_value(&c).unwrap());
        assert_omitted(&params["encryptionContext"], &context_json);
        assert!(record.len() < 8192, "{}", record.len());
    }

    /// A caller-built value of many members each under the keep limit but
    /// together over the whole limit is reduced whole; one that is not an
    /// object, over the whole limit, too.
    #[test]
    fn a_value_of_many_members_is_reduced_whole() {
        let mut m = Map::new();
        for i in 0..1000 {
            m.insert(format!("m{i:04}"), Value::String("y".repeat(1000)));
        }
        let v = Value::Object(m);
        let e = event_with(RequestParameters::default()).with_request_parameters_value(v.clone());
        let (_, params) = recorded_parameters(&e);
        assert_omitted(&params, &canonical_json(&v));
        let s = Value::String("z".repeat(REQUEST_PARAMETERS_MAX));
        let e = event_with(RequestParameters::default()).with_request_parameters_value(s.clone());
        let (_, params) = recorded_parameters(&e);
        assert_omitted(&params, s.as_str().unwrap());
    }

    /// An error message (or principal) over `TEXT_MAX` bytes is cut to
    /// its prefix, its length and its SHA-256; one of `TEXT_MAX` bytes is
    /// kept.
    #[test]
    fn long_texts_are_cut() {
        for n in [TEXT_MAX, TEXT_MAX + 1] {
            let msg = "\u{1}".repeat(n);
            let e = event_with(RequestParameters::default())
                .with_error(&Error::validation(msg.clone()));
            let (_, _) = recorded_parameters(&e);
            let v: Value = serde_json::from_str(&e.to_canonical_record()).unwrap();
            let got = v["errorMessage"].as_str().unwrap();
            if n == TEXT_MAX {
                assert_eq!(got, msg);
            } else {
                let digest = hex(&crate::crypto::digest::sha256(msg.as_bytes()));
                assert_eq!(
                    got,
                    format!(
                        "{}\u{2026}({OMITTED_FIELD}: {n} bytes, sha256 {digest})",
                        &msg[..OMITTED_PREFIX_MAX]
                    )
                );
            }
        }
    }

    /// The longest record a caller can make: `requestParameters` just
    /// under 256 KiB and every bounded text 8 KiB of control characters
    /// (6 bytes each escaped). Under 512 KiB, far below 16 MiB.
    #[test]
    fn the_longest_record_is_bounded() {
        let half = "\u{1}".repeat((REQUEST_PARAMETERS_MAX / 2 - 64) / 6);
        let text = "\u{1}".repeat(TEXT_MAX);
        let principal = alloc::format!("arn:aws:iam::{text}:user/{text}");
        let e = AuditEvent::new("PutKeyPolicy", &principal, 0, [1; 32])
            .with_owned_request_parameters(RequestParameters {
                policy: Some(half.clone()),
                description: Some(half),
                ..RequestParameters::default()
            })
            .with_error(&Error::validation(text));
        let (record, params) = recorded_parameters(&e);
        assert!(params["policy"].is_string(), "kept as given");
        let line = chained_line_len(record.len());
        assert!(line < 512 * 1024, "{line}");
    }

    /// review17b M2: a change to more than [`RESOURCES_MAX`] keys (a
    /// `PurgeDeletedKeys` of 130,000 due keys) lists the first 1,000 and
    /// the count and SHA-256 of the rest, so its intent record stays far
    /// below 16 MiB (it was 17,420,668 bytes, refused at every try); an ARN
    /// over 8 KiB is cut as text is; `with_keys` keeps order and drops
    /// repeats; both writers agree.
    #[test]
    fn a_change_to_many_keys_lists_a_bounded_resources() {
        let arns: Vec<String> = (0..130_000u32)
            .map(|i| {
                alloc::format!(
                    "arn:aws:kms:local-1:000000000000:key/{i:08x}-0000-4000-8000-000000000000"
                )
            })
            .collect();
        let e = AuditEvent::new(
            "PurgeDeletedKeys",
            "arn:aws:iam::000000000000:root",
            0,
            [1; 32],
        )
        .with_keys(arns.iter().cloned().chain(arns[..10].iter().cloned()))
        .into_intent([2; 16]);
        let (record, _) = recorded_parameters(&e);
        let line = chained_line_len(record.len());
        assert!(line < 256 * 1024, "{line}");
        let v: Value = serde_json::from_str(&record).unwrap();
        let resources = v["resources"].as_array().unwrap();
        assert_eq!(resources.len(), RESOURCES_MAX + 1);
        for (r, arn) in resources[..RESOURCES_MAX].iter().zip(&arns) {
            assert_eq!(r["ARN"], arn.as_str());
        }
        let mut rest = String::new();
        for arn in &arns[RESOURCES_MAX..] {
            rest.push_str(arn);
            rest.push('\n');
        }
        let form = &resources[RESOURCES_MAX][OMITTED_FIELD];
        assert_eq!(form["count"], (arns.len() - RESOURCES_MAX) as u64);
        assert_eq!(
            form["sha256"],
            hex(&crate::crypto::digest::sha256(rest.as_bytes())).as_str()
        );
        // At the limit: listed in full, no reduced form.
        let e = AuditEvent::new(
            "PurgeDeletedKeys",
            "arn:aws:iam::000000000000:root",
            0,
            [1; 32],
        )
        .with_keys(arns[..RESOURCES_MAX].iter().cloned());
        let (record, _) = recorded_parameters(&e);
        assert!(!record.contains(OMITTED_FIELD), "{record}");
        // An ARN over 8 KiB is cut.
        let long = alloc::format!(
            "arn:aws:kms:local-1:000000000000:key/{}",
            "x".repeat(TEXT_MAX)
        );
        let e = AuditEvent::new("Encrypt", "arn:aws:iam::000000000000:root", 0, [1; 32])
            .with_key(&long);
        let (record, _) = recorded_parameters(&e);
        assert!(record.len() < 4096, "{}", record.len());
    }

    /// Scalars, alone and nested, are written as serde_json writes them.
    #[test]
    fn canonical_scalars_are_serde_jsons() {
        let scalars = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::from(0u64),
            Value::from(u64::MAX),
            Value::from(-1i64),
            Value::from(i64::MIN),
            Value::from(1.5f64),
            Value::from(-0.0f64),
            Value::from(0.1f64),
            Value::from(1e300f64),
            Value::from(5e-324f64),
            Value::from(123_456_789.0f64),
        ];
        for v in &scalars {
            assert_eq!(canonical_json(v), serde_json::to_string(v).unwrap());
        }
        let nested = serde_json::json!({ "b": scalars.to_vec(), "a": { "x": 2.5, "y": null } });
        assert_eq!(
            canonical_json(&nested),
            serde_json::to_string(&nested).unwrap()
        );
    }
}
