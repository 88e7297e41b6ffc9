//! Every KMS operation as a pure function of the key records it touches, the
//! request, a random number generator and the time. The `strongroom` crate
//! loads the records, calls these, and persists what they changed.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use rand_core::CryptoRng;

use crate::api::*;
use crate::blob;
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind, Result};
use crate::key::*;
use crate::seal::{random_secret, RootKey, SYMMETRIC_KEY_LEN};
use crate::secret::Secret;

/// Seconds in a day ([`crate::time::SECONDS_PER_DAY`], unsigned).
pub const DAY: u64 = crate::time::SECONDS_PER_DAY.unsigned_abs();
/// Largest Encrypt plaintext for symmetric keys (bytes).
pub const MAX_PLAINTEXT: usize = 4096;
/// Range of NumberOfBytes for GenerateDataKey and GenerateRandom.
pub const NUMBER_OF_BYTES: core::ops::RangeInclusive<u32> = 1..=1024;
/// Range of PendingWindowInDays (days).
pub const PENDING_WINDOW_DAYS: core::ops::RangeInclusive<u32> = 7..=30;
/// Range of RotationPeriodInDays (days).
pub const ROTATION_PERIOD_DAYS: core::ops::RangeInclusive<u32> = 90..=2560;
/// Default RotationPeriodInDays.
pub const DEFAULT_ROTATION_PERIOD_DAYS: u32 = 365;
/// On-demand rotations allowed per key.
pub const MAX_ON_DEMAND_ROTATIONS: u32 = 10;
/// Largest description (characters).
pub const MAX_DESCRIPTION: usize = 8192;
/// Tags per key.
pub const MAX_TAGS: usize = 50;
/// Grant tokens per request.
pub const MAX_GRANT_TOKENS: usize = 10;

/// What an operation needs besides the records: the keystore's identity,
/// its root key and the time.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// Region in ARNs.
    pub region: &'a str,
    /// Account ID in ARNs.
    pub account: &'a str,
    /// The keystore's root key.
    pub root: &'a RootKey,
    /// Now, in Unix seconds.
    pub now: u64,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The length constraints of the KMS `Tag` data type: `TagKey` 1 to 128
/// characters, `TagValue` 0 to 256. AWS KMS checks them with the rest of
/// the request's shape, before it looks at the key, and answers
/// `ValidationException`; `TagException` is for tags of a valid shape that
/// KMS refuses (an `aws:` prefix, more than 50 tags).
///
/// # Errors
/// `ValidationException` naming the first tag out of bounds.
pub fn check_tag_shapes(tags: &[Tag]) -> Result<()> {
    for (i, t) in tags.iter().enumerate() {
        let at = |field: &str| format!("tags.{}.member.{field}", i + 1);
        check_length(&at("tagKey"), &t.tag_key, 1, 128)?;
        check_length(&at("tagValue"), &t.tag_value, 0, 256)?;
    }
    Ok(())
}

/// The `TagKey` length constraint of [`check_tag_shapes`] over the
/// `TagKeys` of `UntagResource`.
///
/// # Errors
/// `ValidationException` naming the first key out of bounds.
pub fn check_tag_key_shapes(tag_keys: &[String]) -> Result<()> {
    for (i, k) in tag_keys.iter().enumerate() {
        check_length(&format!("tagKeys.{}.member", i + 1), k, 1, 128)?;
    }
    Ok(())
}

/// A string member's length constraint (in characters), with the message
/// AWS gives when one fails.
fn check_length(at: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = chars(value);
    let bound = if n < min {
        format!("greater than or equal to {min}")
    } else if n > max {
        format!("less than or equal to {max}")
    } else {
        return Ok(());
    };
    Err(Error::validation(format!(
        "1 validation error detected: Value at '{at}' failed to satisfy constraint: \
         Member must have length {bound}"
    )))
}

/// [`check_tag_shapes`], then what KMS refuses with `TagException`: keys
/// beginning with `aws:`, and a tag key given more than once in one request
/// (AWS KMS refuses such a `TagResource` or `CreateKey` request rather than
/// keep one of the values; tag keys are case-sensitive, so `Env` and `env`
/// are two keys).
fn validate_tags(tags: &[Tag]) -> Result<()> {
    check_tag_shapes(tags)?;
    if tags.iter().any(|t| t.tag_key.starts_with("aws:")) {
        return Err(Error::new(
            ErrorKind::TagException,
            "tag keys beginning with 'aws:' are reserved",
        ));
    }
    // Sorted in a vector: a B-tree set would be compiled for this one use.
    let mut keys: Vec<&str> = tags.iter().map(|t| t.tag_key.as_str()).collect();
    keys.sort_unstable();
    if let Some(pair) = keys.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::new(
            ErrorKind::TagException,
            format!(
                "duplicate tag keys: the tag key \"{}\" is given more than once in the request",
                pair[0]
            ),
        ));
    }
    Ok(())
}

fn check_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > MAX_GRANT_TOKENS {
        return Err(Error::validation("at most 10 grant tokens may be given"));
    }
    Ok(())
}

fn uuid_bytes(key_id: &str) -> Result<[u8; 16]> {
    uuid::Uuid::try_parse(key_id)
        .map(|u| *u.as_bytes())
        .map_err(|_| Error::internal("stored key ID is not a UUID"))
}

/// Creates a key record. Symmetric `AWS_KMS` keys get their first backing
/// key; `EXTERNAL` keys start in `PendingImport` with none.
///
/// # Errors
/// `ValidationException` (description over 8192 characters, a key spec
/// given twice with different values), `InvalidKeyUsageException` /
/// `ValidationException` for a spec and usage KMS does not pair,
/// `UnsupportedOperationException` for multi-Region keys or a curve this
/// build lacks ([`crate::asym::check_spec_available`]), `TagException`,
/// `KMSInternalException` if key-pair generation fails.
pub fn create_key<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    req: &CreateKeyRequest,
) -> Result<KeyRecord> {
    let description = req.description.clone().unwrap_or_default();
    if chars(&description) > MAX_DESCRIPTION {
        return Err(Error::validation(
            "Description must be at most 8192 characters",
        ));
    }
    let spec = match (req.key_spec, req.customer_master_key_spec) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::validation(
                "KeySpec and CustomerMasterKeySpec differ",
            ))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => KeySpec::SymmetricDefault,
    };
    let usage = req.key_usage.unwrap_or(KeyUsage::EncryptDecrypt);
    check_spec_usage(spec, usage)?;
    crate::asym::check_spec_available(spec)?;
    if req.multi_region == Some(true) {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            "multi-Region keys are not supported",
        ));
    }
    // Refuses repeated tag keys, so every tag is a distinct key.
    validate_tags(&req.tags)?;
    if req.tags.len() > MAX_TAGS {
        return Err(Error::new(
            ErrorKind::TagException,
            "a key can have at most 50 tags",
        ));
    }
    let origin = req.origin.unwrap_or(Origin::AwsKms);
    let mut id_bytes = [0u8; 16];
    rng.fill_bytes(&mut id_bytes);
    let key_id = uuid::Builder::from_random_bytes(id_bytes)
        .into_uuid()
        .hyphenated()
        .to_string();
    let mut rec = KeyRecord {
        arn: key_arn(env.region, env.account, &key_id),
        key_id,
        account: env.account.to_string(),
        creation_date: env.now,
        description,
        key_spec: spec,
        key_usage: usage,
        origin,
        state: KeyState::Enabled,
        deletion_date: None,
        pending_window_days: None,
        tags: Default::default(),
        rotation: RotationConfig::default(),
        backing_keys: Vec::new(),
        policy: req.policy.clone(),
        valid_to: None,
        import_commitment: None,
        generation: 0,
        extra: Default::default(),
    };
    // Filled by `insert` (the tag keys are distinct: checked above), not
    // `collect`, which compiles a sort and a bulk build of the B-tree for
    // this one use.
    for t in &req.tags {
        rec.tags.insert(t.tag_key.clone(), t.tag_value.clone());
    }
    match origin {
        Origin::External => rec.state = KeyState::PendingImport,
        Origin::AwsKms => {
            let material = generate_material(rng, spec)?;
            add_backing_key(env, rng, &mut rec, &material, None)?;
        }
    }
    Ok(rec)
}

/// KMS's spec/usage pairing rules.
///
/// # Errors
/// `ValidationException` naming the allowed usages.
pub fn check_spec_usage(spec: KeySpec, usage: KeyUsage) -> Result<()> {
    let ok = match spec {
        KeySpec::SymmetricDefault => usage == KeyUsage::EncryptDecrypt,
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            matches!(usage, KeyUsage::EncryptDecrypt | KeyUsage::SignVerify)
        }
        KeySpec::EccNistP256
        | KeySpec::EccNistP384
        | KeySpec::EccNistP521
        | KeySpec::EccSecgP256k1 => usage == KeyUsage::SignVerify,
        KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
            usage == KeyUsage::GenerateVerifyMac
        }
    };
    // KEY_AGREEMENT: the NIST curves only (KMS refuses it for ECC_SECG_P256K1).
    let ok =
        ok || (usage == KeyUsage::KeyAgreement && crate::asym::key_agreement_curve(spec).is_some());
    if ok {
        Ok(())
    } else {
        Err(Error::validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}"
        )))
    }
}

/// Fresh key material for `spec`: 32 random bytes for `SYMMETRIC_DEFAULT`,
/// 28/32/48/64 random bytes for `HMAC_224/256/384/512` (the KMS key
/// lengths), a PKCS#8 DER private key
/// for RSA and ECC specs (see [`crate::asym::generate_private_key`]).
///
/// # Errors
/// `KMSInternalException` if key-pair generation fails.
pub fn generate_material<R: CryptoRng + ?Sized>(rng: &mut R, spec: KeySpec) -> Result<Secret> {
    match spec {
        KeySpec::SymmetricDefault => Ok(random_secret(rng, SYMMETRIC_KEY_LEN)),
        KeySpec::Hmac224 => Ok(random_secret(rng, 28)),
        KeySpec::Hmac256 => Ok(random_secret(rng, 32)),
        KeySpec::Hmac384 => Ok(random_secret(rng, 48)),
        KeySpec::Hmac512 => Ok(random_secret(rng, 64)),
        other => crate::asym::generate_private_key(rng, other),
    }
}

/// Seals `material` as the next backing key of `rec`.
///
/// # Errors
/// `KMSInternalException` on a sealing failure or version overflow.
pub fn add_backing_key<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &mut KeyRecord,
    material: &Secret,
    rotation_type: Option<RotationType>,
) -> Result<()> {
    let version = match rec.backing_keys.last() {
        Some(b) => b
            .version
            .checked_add(1)
            .ok_or_else(|| Error::internal("version overflow"))?,
        None => 1,
    };
    let sealed = env
        .root
        .seal_material(rng, &rec.key_id, version, material)?;
    rec.backing_keys.push(BackingKey {
        version,
        created: env.now,
        rotation_type,
        sealed,
    });
    Ok(())
}

/// DescribeKey's `KeyMetadata` of a record.
pub fn describe(rec: &KeyRecord) -> KeyMetadata {
    let (enc, sig, mac): (&[&str], &[&str], &[&str]) = match (rec.key_spec, rec.key_usage) {
        (KeySpec::SymmetricDefault, _) => (&["SYMMETRIC_DEFAULT"], &[], &[]),
        (_, KeyUsage::KeyAgreement) => (&[], &[], &[]),
        (KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096, KeyUsage::EncryptDecrypt) => {
            (&["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], &[], &[])
        }
        (KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096, _) => (
            &[],
            &[
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
            ],
            &[],
        ),
        (KeySpec::EccNistP256 | KeySpec::EccSecgP256k1, _) => (&[], &["ECDSA_SHA_256"], &[]),
        (KeySpec::EccNistP384, _) => (&[], &["ECDSA_SHA_384"], &[]),
        (KeySpec::EccNistP521, _) => (&[], &["ECDSA_SHA_512"], &[]),
        (KeySpec::Hmac224, _) => (&[], &[], &["HMAC_SHA_224"]),
        (KeySpec::Hmac256, _) => (&[], &[], &["HMAC_SHA_256"]),
        (KeySpec::Hmac384, _) => (&[], &[], &["HMAC_SHA_384"]),
        (KeySpec::Hmac512, _) => (&[], &[], &["HMAC_SHA_512"]),
    };
    let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    KeyMetadata {
        aws_account_id: rec.account.clone(),
        key_id: rec.key_id.clone(),
        arn: rec.arn.clone(),
        creation_date: rec.creation_date,
        enabled: rec.state == KeyState::Enabled,
        description: rec.description.clone(),
        key_usage: rec.key_usage,
        key_state: rec.state,
        deletion_date: rec.deletion_date,
        valid_to: rec.valid_to,
        origin: rec.origin,
        key_manager: "CUSTOMER".to_string(),
        customer_master_key_spec: rec.key_spec,
        key_spec: rec.key_spec,
        encryption_algorithms: strs(enc),
        signing_algorithms: strs(sig),
        mac_algorithms: strs(mac),
        key_agreement_algorithms: if rec.key_usage == KeyUsage::KeyAgreement {
            KeyAgreementAlgorithm::ALL
                .iter()
                .map(|a| a.as_str().to_string())
                .collect()
        } else {
            Vec::new()
        },
        multi_region: false,
        pending_deletion_window_in_days: rec
            .pending_window_days
            .filter(|_| rec.state == KeyState::PendingDeletion),
        expiration_model: match rec.origin {
            Origin::External => Some(
                if rec.valid_to.is_some() {
                    "KEY_MATERIAL_EXPIRES"
                } else {
                    "KEY_MATERIAL_DOES_NOT_EXPIRE"
                }
                .to_string(),
            ),
            Origin::AwsKms => None,
        },
    }
}

fn invalid_state(rec: &KeyRecord) -> Error {
    Error::new(
        ErrorKind::KMSInvalidStateException,
        format!("{} is {}", rec.arn, rec.state),
    )
}

/// UpdateKeyDescription.
///
/// # Errors
/// `ValidationException` over 8192 characters; `KMSInvalidStateException`
/// when pending deletion.
pub fn update_key_description(rec: &mut KeyRecord, description: &str) -> Result<()> {
    if chars(description) > MAX_DESCRIPTION {
        return Err(Error::validation(
            "Description must be at most 8192 characters",
        ));
    }
    if rec.state == KeyState::PendingDeletion {
        return Err(invalid_state(rec));
    }
    rec.description = description.to_string();
    Ok(())
}

/// EnableKey.
///
/// # Errors
/// `KMSInvalidStateException` when pending deletion or import.
pub fn enable_key(rec: &mut KeyRecord) -> Result<()> {
    match rec.state {
        KeyState::Enabled | KeyState::Disabled => {
            rec.state = KeyState::Enabled;
            Ok(())
        }
        _ => Err(invalid_state(rec)),
    }
}

/// DisableKey.
///
/// # Errors
/// `KMSInvalidStateException` when pending deletion or import.
pub fn disable_key(rec: &mut KeyRecord) -> Result<()> {
    match rec.state {
        KeyState::Enabled | KeyState::Disabled => {
            rec.state = KeyState::Disabled;
            Ok(())
        }
        _ => Err(invalid_state(rec)),
    }
}

/// `PendingWindowInDays` (7–30, default 30): the days it gives.
///
/// # Errors
/// `ValidationException` outside 7–30.
pub fn check_pending_window(days: Option<u32>) -> Result<u32> {
    let days = days.unwrap_or(30);
    if !PENDING_WINDOW_DAYS.contains(&days) {
        return Err(Error::validation(
            "PendingWindowInDays must be between 7 and 30",
        ));
    }
    Ok(days)
}

/// `days` days after `env.now`, in Unix seconds.
///
/// # Errors
/// `KMSInternalException` naming the clock when the date does not fit in a
/// `u64` (a clock — e.g. a replaced `Date.now()` in wasm — far beyond any
/// real date): never a wrapped date in the past, which would make a key
/// due for deletion or rotation at once.
pub fn days_from_now(env: &Env<'_>, days: u64) -> Result<u64> {
    days.checked_mul(DAY)
        .and_then(|d| env.now.checked_add(d))
        .ok_or_else(|| {
            Error::internal(format!(
                "the clock is out of range: {} Unix seconds plus {days} days does not fit",
                env.now
            ))
        })
}

/// ScheduleKeyDeletion: `PendingWindowInDays` 7–30, default 30.
///
/// # Errors
/// `ValidationException` outside 7–30; `KMSInvalidStateException` when
/// already pending deletion; `KMSInternalException` when the clock is out
/// of range ([`days_from_now`]), the key unchanged.
pub fn schedule_key_deletion(
    env: &Env<'_>,
    rec: &mut KeyRecord,
    days: Option<u32>,
) -> Result<ScheduleKeyDeletionResponse> {
    let days = check_pending_window(days)?;
    if rec.state == KeyState::PendingDeletion {
        return Err(invalid_state(rec));
    }
    let date = days_from_now(env, u64::from(days))?;
    rec.state = KeyState::PendingDeletion;
    rec.deletion_date = Some(date);
    rec.pending_window_days = Some(days);
    Ok(ScheduleKeyDeletionResponse {
        key_id: rec.arn.clone(),
        deletion_date: date,
        key_state: KeyState::PendingDeletion,
        pending_window_in_days: days,
    })
}

/// CancelKeyDeletion: the key becomes `Disabled` (or `PendingImport` for an
/// external key without material), as in KMS.
///
/// # Errors
/// `KMSInvalidStateException` when not pending deletion.
pub fn cancel_key_deletion(rec: &mut KeyRecord) -> Result<()> {
    if rec.state != KeyState::PendingDeletion {
        return Err(invalid_state(rec));
    }
    rec.state = if rec.backing_keys.is_empty() {
        KeyState::PendingImport
    } else {
        KeyState::Disabled
    };
    rec.deletion_date = None;
    rec.pending_window_days = None;
    Ok(())
}

/// True when `rec` is pending deletion and its date has passed: the store
/// must delete it (and its aliases) and treat it as not found.
pub fn is_due_for_purge(rec: &KeyRecord, now: u64) -> bool {
    rec.state == KeyState::PendingDeletion && rec.deletion_date.is_some_and(|d| d <= now)
}

fn check_rotatable(rec: &KeyRecord) -> Result<()> {
    if rec.key_spec != KeySpec::SymmetricDefault {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            format!(
                "{} has KeySpec {}; only symmetric encryption keys rotate",
                rec.arn, rec.key_spec
            ),
        ));
    }
    if rec.origin == Origin::External {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            format!(
                "{} has imported key material, which does not rotate automatically",
                rec.arn
            ),
        ));
    }
    rec.check_usable()
}

/// `RotationPeriodInDays` (90–2560, default 365): the days it gives.
///
/// # Errors
/// `ValidationException` outside 90–2560.
pub fn check_rotation_period(period: Option<u32>) -> Result<u32> {
    let period = period.unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS);
    if !ROTATION_PERIOD_DAYS.contains(&period) {
        return Err(Error::validation(
            "RotationPeriodInDays must be between 90 and 2560",
        ));
    }
    Ok(period)
}

/// EnableKeyRotation: `RotationPeriodInDays` 90–2560, default 365.
///
/// # Errors
/// `ValidationException` for the period, `UnsupportedOperationException`
/// for non-symmetric or imported keys, `DisabledException`,
/// `KMSInvalidStateException`; `KMSInternalException` when the clock is out
/// of range ([`days_from_now`]), the key unchanged.
pub fn enable_key_rotation(env: &Env<'_>, rec: &mut KeyRecord, period: Option<u32>) -> Result<()> {
    let period = check_rotation_period(period)?;
    check_rotatable(rec)?;
    let next = days_from_now(env, u64::from(period))?;
    rec.rotation.enabled = true;
    rec.rotation.period_days = Some(period);
    rec.rotation.next_rotation = Some(next);
    Ok(())
}

/// DisableKeyRotation.
///
/// # Errors
/// As [`enable_key_rotation`] except the period check.
pub fn disable_key_rotation(rec: &mut KeyRecord) -> Result<()> {
    check_rotatable(rec)?;
    rec.rotation.enabled = false;
    rec.rotation.next_rotation = None;
    Ok(())
}

/// GetKeyRotationStatus.
///
/// # Errors
/// `UnsupportedOperationException` for keys that cannot rotate.
pub fn get_key_rotation_status(rec: &KeyRecord) -> Result<GetKeyRotationStatusResponse> {
    if rec.key_spec != KeySpec::SymmetricDefault {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            format!("{} does not rotate", rec.arn),
        ));
    }
    Ok(GetKeyRotationStatusResponse {
        key_id: rec.key_id.clone(),
        key_rotation_enabled: rec.rotation.enabled,
        rotation_period_in_days: rec.rotation.period_days.filter(|_| rec.rotation.enabled),
        next_rotation_date: rec.rotation.next_rotation.filter(|_| rec.rotation.enabled),
        on_demand_rotation_start_date: rec.rotation.on_demand_started,
    })
}

/// RotateKeyOnDemand: a new backing key now; at most 10 per key.
///
/// # Errors
/// `LimitExceededException` after 10, plus [`enable_key_rotation`]'s state errors.
pub fn rotate_key_on_demand<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &mut KeyRecord,
) -> Result<()> {
    check_rotatable(rec)?;
    if rec.rotation.on_demand_count >= MAX_ON_DEMAND_ROTATIONS {
        return Err(Error::new(
            ErrorKind::LimitExceededException,
            "a key can be rotated on demand at most 10 times",
        ));
    }
    let material = generate_material(rng, rec.key_spec)?;
    add_backing_key(env, rng, rec, &material, Some(RotationType::OnDemand))?;
    rec.rotation.on_demand_count += 1;
    rec.rotation.on_demand_started = Some(env.now);
    Ok(())
}

/// Automatic rotation: when enabled, the key is `Enabled` and the date has
/// come, adds a backing key and schedules the next. Returns whether the
/// record changed.
///
/// # Errors
/// `KMSInternalException` on a sealing failure, or when the clock is out of
/// range ([`days_from_now`]; the key unchanged).
pub fn rotate_if_due<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &mut KeyRecord,
) -> Result<bool> {
    let due = rec.rotation.enabled
        && rec.state == KeyState::Enabled
        && rec.key_spec == KeySpec::SymmetricDefault
        && rec.rotation.next_rotation.is_some_and(|d| d <= env.now);
    if !due {
        return Ok(false);
    }
    let period = u64::from(
        rec.rotation
            .period_days
            .unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS),
    );
    // Computed first: a clock out of range changes nothing.
    let next = days_from_now(env, period)?;
    let material = generate_material(rng, rec.key_spec)?;
    add_backing_key(env, rng, rec, &material, Some(RotationType::Automatic))?;
    rec.rotation.next_rotation = Some(next);
    Ok(true)
}

/// ListKeyRotations (the whole list; the caller paginates).
///
/// # Errors
/// `UnsupportedOperationException` for keys that cannot rotate.
pub fn list_key_rotations(rec: &KeyRecord) -> Result<Vec<RotationsListEntry>> {
    if rec.key_spec != KeySpec::SymmetricDefault {
        return Err(Error::new(
            ErrorKind::UnsupportedOperationException,
            format!("{} does not rotate", rec.arn),
        ));
    }
    Ok(rec
        .backing_keys
        .iter()
        .filter_map(|b| {
            b.rotation_type.map(|t| RotationsListEntry {
                key_id: rec.key_id.clone(),
                rotation_date: b.created,
                rotation_type: t,
            })
        })
        .collect())
}

/// TagResource: adds or replaces tags (at most 50 per key).
///
/// # Errors
/// `ValidationException` for a tag key or value out of its length bounds
/// ([`check_tag_shapes`]); `TagException` for a reserved `aws:` key, a tag
/// key given twice in `tags`, or more than 50 tags; `KMSInvalidStateException`
/// when pending deletion.
pub fn tag_resource(rec: &mut KeyRecord, tags: &[Tag]) -> Result<()> {
    validate_tags(tags)?;
    if rec.state == KeyState::PendingDeletion {
        return Err(invalid_state(rec));
    }
    let mut next = rec.tags.clone();
    for t in tags {
        next.insert(t.tag_key.clone(), t.tag_value.clone());
    }
    if next.len() > MAX_TAGS {
        return Err(Error::new(
            ErrorKind::TagException,
            "a key can have at most 50 tags",
        ));
    }
    rec.tags = next;
    Ok(())
}

/// UntagResource: removes the named tags (absent ones are ignored, as in KMS).
///
/// # Errors
/// `ValidationException` for a tag key of 0 or more than 128 characters
/// ([`check_tag_key_shapes`]); `KMSInvalidStateException` when pending
/// deletion.
pub fn untag_resource(rec: &mut KeyRecord, tag_keys: &[String]) -> Result<()> {
    check_tag_key_shapes(tag_keys)?;
    if rec.state == KeyState::PendingDeletion {
        return Err(invalid_state(rec));
    }
    for k in tag_keys {
        rec.tags.remove(k);
    }
    Ok(())
}

/// ListResourceTags (the whole list, ordered by tag key).
pub fn list_resource_tags(rec: &KeyRecord) -> Vec<Tag> {
    rec.tags
        .iter()
        .map(|(k, v)| Tag {
            tag_key: k.clone(),
            tag_value: v.clone(),
        })
        .collect()
}

fn require_symmetric_encrypt(rec: &KeyRecord, alg: Option<EncryptionAlgorithm>) -> Result<()> {
    if rec.key_usage != KeyUsage::EncryptDecrypt {
        return Err(Error::new(
            ErrorKind::InvalidKeyUsageException,
            format!(
                "{} has KeyUsage {}, not ENCRYPT_DECRYPT",
                rec.arn, rec.key_usage
            ),
        ));
    }
    if rec.key_spec != KeySpec::SymmetricDefault {
        return Err(Error::new(
            ErrorKind::InvalidKeyUsageException,
            format!("{} is not a symmetric key", rec.arn),
        ));
    }
    if let Some(a) = alg {
        if a != EncryptionAlgorithm::SymmetricDefault {
            return Err(Error::new(
                ErrorKind::InvalidKeyUsageException,
                format!("{a} is not valid for a symmetric key"),
            ));
        }
    }
    Ok(())
}

fn current_material(env: &Env<'_>, rec: &KeyRecord) -> Result<(u32, Secret)> {
    let b = rec.current_backing_key().ok_or_else(|| {
        Error::new(
            ErrorKind::KMSInvalidStateException,
            format!("{} has no key material", rec.arn),
        )
    })?;
    Ok((
        b.version,
        env.root
            .unseal_material(&rec.key_id, b.version, &b.sealed)?,
    ))
}

/// Symmetric encryption of `plaintext` (1–4096 bytes) into a blob
/// ([`crate::blob`]) under the newest backing key of `rec`.
///
/// # Errors
/// `ValidationException` for the length or an empty encryption-context key
/// ([`EncryptionContext::check_for_encryption`]), `InvalidKeyUsageException`,
/// `DisabledException`, `KMSInvalidStateException`.
pub fn encrypt_symmetric<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &KeyRecord,
    plaintext: &[u8],
    context: &EncryptionContext,
    alg: Option<EncryptionAlgorithm>,
) -> Result<Vec<u8>> {
    if plaintext.is_empty() || plaintext.len() > MAX_PLAINTEXT {
        return Err(Error::validation("Plaintext must be 1 to 4096 bytes"));
    }
    context.check_for_encryption()?;
    require_symmetric_encrypt(rec, alg)?;
    rec.check_usable()?;
    let (version, material) = current_material(env, rec)?;
    blob::seal(
        rng,
        &uuid_bytes(&rec.key_id)?,
        version,
        &material,
        plaintext,
        context,
    )
}

/// Encrypt: a symmetric blob, or RSAES-OAEP for RSA keys
/// ([`crate::asym::encrypt`]).
///
/// # Errors
/// As [`encrypt_symmetric`] / [`crate::asym::encrypt_oaep`], plus `ValidationException` for more than 10 grant tokens.
pub fn encrypt<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &KeyRecord,
    req: &EncryptRequest,
) -> Result<EncryptResponse> {
    check_grant_tokens(&req.grant_tokens)?;
    if crate::asym::rsa_size(rec.key_spec).is_some() {
        return crate::asym::encrypt(env, rng, rec, req);
    }
    let blob = encrypt_symmetric(
        env,
        rng,
        rec,
        req.plaintext.expose_secret(),
        &req.encryption_context,
        req.encryption_algorithm,
    )?;
    Ok(EncryptResponse {
        ciphertext_blob: blob,
        key_id: rec.arn.clone(),
        encryption_algorithm: EncryptionAlgorithm::SymmetricDefault,
    })
}

/// Decrypts a symmetric blob with `rec`, the key its header names (the
/// caller found `rec` through [`blob::parse_header`]).
///
/// # Errors
/// `InvalidCiphertextException` (one detail-free error) for every
/// authentication failure; `DisabledException`, `KMSInvalidStateException`,
/// `InvalidKeyUsageException` for the key's state and usage.
pub fn decrypt_symmetric(
    env: &Env<'_>,
    rec: &KeyRecord,
    ciphertext: &[u8],
    context: &EncryptionContext,
) -> Result<Secret> {
    let header = blob::parse_header(ciphertext)?;
    if header.key_id_string() != rec.key_id {
        return Err(Error::invalid_ciphertext());
    }
    require_symmetric_encrypt(rec, None)?;
    rec.check_usable()?;
    let backing = rec
        .backing_key(header.version)
        .ok_or_else(Error::invalid_ciphertext)?;
    let material = env
        .root
        .unseal_material(&rec.key_id, backing.version, &backing.sealed)?;
    blob::open(ciphertext, &material, context)
}

/// The checks of a request's optional `KeyId` against the key that made the blob.
///
/// # Errors
/// `IncorrectKeyException` when they differ.
pub fn check_expected_key(rec: &KeyRecord, expected_key_id: Option<&str>) -> Result<()> {
    match expected_key_id {
        Some(k) if k != rec.key_id => Err(Error::new(
            ErrorKind::IncorrectKeyException,
            "The key ID in the request does not identify a key that can decrypt the ciphertext",
        )),
        _ => Ok(()),
    }
}

/// Validates GenerateDataKey's `KeySpec` / `NumberOfBytes` and returns the length.
///
/// # Errors
/// `ValidationException` when neither or both are given, or NumberOfBytes is out of 1–1024.
pub fn data_key_len(spec: Option<DataKeySpec>, number_of_bytes: Option<u32>) -> Result<usize> {
    match (spec, number_of_bytes) {
        (Some(_), Some(_)) => Err(Error::validation(
            "specify either KeySpec or NumberOfBytes, not both",
        )),
        (None, None) => Err(Error::validation("specify either KeySpec or NumberOfBytes")),
        (Some(s), None) => Ok(s.key_len()),
        (None, Some(n)) if NUMBER_OF_BYTES.contains(&n) => Ok(n as usize),
        (None, Some(_)) => Err(Error::validation(
            "NumberOfBytes must be between 1 and 1024",
        )),
    }
}

/// GenerateDataKey: a fresh data key and its blob under `rec`.
///
/// # Errors
/// As [`data_key_len`] and [`encrypt_symmetric`].
pub fn generate_data_key<R: CryptoRng + ?Sized>(
    env: &Env<'_>,
    rng: &mut R,
    rec: &KeyRecord,
    req: &GenerateDataKeyRequest,
) -> Result<GenerateDataKeyResponse> {
    check_grant_tokens(&req.grant_tokens)?;
    let len = data_key_len(req.key_spec, req.number_of_bytes)?;
    require_symmetric_encrypt(rec, None)?;
    rec.check_usable()?;
    let key = random_secret(rng, len);
    let blob = encrypt_symmetric(
        env,
        rng,
        rec,
        key.expose_secret(),
        &req.encryption_context,
        None,
    )?;
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: blob,
        plaintext: key,
        key_id: rec.arn.clone(),
    })
}

/// GenerateRandom: `n` random bytes, 1–1024.
///
/// # Errors
/// `ValidationException` outside 1–1024.
pub fn generate_random<R: CryptoRng + ?Sized>(rng: &mut R, n: u32) -> Result<Secret> {
    if !NUMBER_OF_BYTES.contains(&n) {
        return Err(Error::validation(
            "NumberOfBytes must be between 1 and 1024",
        ));
    }
    Ok(random_secret(rng, n as usize))
}
