//! An in-memory keystore: key records and aliases in ordered maps, with one
//! method per KMS operation delegating to [`crate::ops`]. It is what the
//! WebAssembly package (and any embedder without a filesystem) runs on;
//! persistence is the caller's choice through the sealed export
//! ([`MemKeystore::export_sealed`], [`MemKeystore::import_sealed`]), which
//! is the same format the native keystore exports and imports.
//!
//! No clock and no randomness of its own: every method that needs them
//! takes `now` (Unix seconds) and a [`CryptoRng`]. Semantics follow the
//! native `strongroom::Keystore`: identifiers may be key IDs, key ARNs,
//! alias names or alias ARNs; keys whose deletion date has passed are purged
//! (with their aliases) when next touched and reported as not found; due
//! automatic rotations are applied before a key is used; a record's
//! `generation` grows by one on every change; pagination markers are those
//! of [`crate::paging`].

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use rand_core::CryptoRng;

use crate::api::*;
use crate::error::{Error, ErrorKind, Result};
use crate::export::{ExportRow, KeystoreConfig, SealedExport, KEYSTORE_FORMAT_VERSION};
use crate::key::{
    alias_arn, validate_alias_name, AliasRecord, EncryptionAlgorithm, KeyIdentifier, KeyRecord,
    KeySpec, KeyState,
};
use crate::ops::{self, Env};
use crate::paging::{
    decode_marker, encode_marker, limit_within, page_limit, paginate_index, LIST_ALIASES,
};
use crate::seal::RootKey;

/// A keystore held in memory. `Debug` shows the keystore ID and the number
/// of keys only.
#[derive(Clone)]
pub struct MemKeystore {
    root: RootKey,
    config: KeystoreConfig,
    /// `meta/kdf` of a passphrase keystore, carried through export/import.
    kdf: Vec<u8>,
    keys: BTreeMap<String, KeyRecord>,
    aliases: BTreeMap<String, AliasRecord>,
    /// Grant rows of an imported export, kept byte for byte (with their
    /// record MACs) and written back by [`MemKeystore::export_sealed`]. The
    /// in-memory keystore has no principals, so it does not evaluate them.
    grants: Vec<ExportRow>,
}

impl fmt::Debug for MemKeystore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemKeystore")
            .field("keystore_id", &self.config.keystore_id)
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// Checks a region (letters, digits, `-`) and a 12-digit account ID.
///
/// # Errors
/// `ValidationException`.
pub fn validate_region_account(region: &str, account: &str) -> Result<()> {
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::validation("account must be 12 digits"));
    }
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::validation("region must be letters, digits and '-'"));
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|_| Error::internal("serialization failed"))
}

fn check_grant_tokens(tokens: &[String]) -> Result<()> {
    if tokens.len() > ops::MAX_GRANT_TOKENS {
        return Err(Error::validation("at most 10 grant tokens may be given"));
    }
    Ok(())
}

fn invalid_state(rec: &KeyRecord, what: &str) -> Error {
    Error::new(
        ErrorKind::KMSInvalidStateException,
        format!("{} is {what}", rec.arn),
    )
}

impl MemKeystore {
    /// A new, empty keystore with a random keystore ID.
    ///
    /// # Errors
    /// `ValidationException` for the region (letters, digits, `-`) or the
    /// account (12 digits).
    pub fn new<R: CryptoRng + ?Sized>(
        root: RootKey,
        region: &str,
        account: &str,
        now: u64,
        rng: &mut R,
    ) -> Result<Self> {
        validate_region_account(region, account)?;
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        Ok(MemKeystore {
            root,
            config: KeystoreConfig {
                format_version: KEYSTORE_FORMAT_VERSION,
                keystore_id: uuid::Builder::from_random_bytes(id)
                    .into_uuid()
                    .hyphenated()
                    .to_string(),
                region: region.to_string(),
                account: account.to_string(),
                created: now,
                admin_principal: String::new(),
                audit_log: false,
            },
            kdf: Vec::new(),
            keys: BTreeMap::new(),
            aliases: BTreeMap::new(),
            grants: Vec::new(),
        })
    }

    /// Restores a keystore from a sealed export ([`crate::export`], version
    /// 1 or 2). The grants of a version 2 export are not evaluated here (the
    /// in-memory keystore has no principals: every call is the
    /// administrator's); they are kept unchanged and written back by
    /// [`export_sealed`](Self::export_sealed), so a native keystore that
    /// passes through memory keeps its grants.
    ///
    /// # Errors
    /// As [`SealedExport::decode`]: `ValidationException` (not an export),
    /// `AccessDeniedException` (another root key), `KMSInternalException`
    /// (any byte altered).
    pub fn import_sealed(bytes: &[u8], root: RootKey) -> Result<Self> {
        let export = SealedExport::decode(bytes, &root)?;
        let config = export.config()?;
        validate_region_account(&config.region, &config.account)?;
        let bad = || Error::internal("the sealed keystore export holds a malformed record");
        let mut keys = BTreeMap::new();
        for row in &export.keys {
            let rec: KeyRecord = serde_json::from_slice(&row.body).map_err(|_| bad())?;
            keys.insert(row.id.clone(), rec);
        }
        let mut aliases = BTreeMap::new();
        for row in &export.aliases {
            let a: AliasRecord = serde_json::from_slice(&row.body).map_err(|_| bad())?;
            aliases.insert(row.id.clone(), a);
        }
        Ok(MemKeystore {
            root,
            config,
            kdf: export.kdf,
            keys,
            aliases,
            grants: export.grants,
        })
    }

    /// The whole keystore as a sealed export: records serialized exactly as
    /// the native keystore stores them, each with its record MAC, and the
    /// export MAC over everything.
    ///
    /// # Errors
    /// `KMSInternalException` on a serialization failure.
    pub fn export_sealed(&self) -> Result<Vec<u8>> {
        let config_body = to_json(&self.config)?;
        let config_tag = self.root.mac_record(b"meta", b"config", &config_body)?;
        let mut keys = Vec::with_capacity(self.keys.len());
        for (id, rec) in &self.keys {
            let body = to_json(rec)?;
            let tag = self.root.mac_record(b"key", id.as_bytes(), &body)?;
            keys.push(ExportRow {
                id: id.clone(),
                body,
                tag: tag.to_vec(),
            });
        }
        let mut aliases = Vec::with_capacity(self.aliases.len());
        for (name, a) in &self.aliases {
            let body = to_json(a)?;
            let tag = self.root.mac_record(b"alias", name.as_bytes(), &body)?;
            aliases.push(ExportRow {
                id: name.clone(),
                body,
                tag: tag.to_vec(),
            });
        }
        SealedExport {
            keystore_id: self.config.keystore_id.clone(),
            check: self
                .root
                .check_value(self.config.keystore_id.as_bytes())?
                .to_vec(),
            config_body,
            config_tag: config_tag.to_vec(),
            kdf: self.kdf.clone(),
            keys,
            aliases,
            grants: self.grants.clone(),
        }
        .encode(&self.root)
    }

    /// The keystore ID (UUID).
    pub fn keystore_id(&self) -> &str {
        &self.config.keystore_id
    }

    /// Region used in ARNs.
    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// Account ID used in ARNs.
    pub fn account(&self) -> &str {
        &self.config.account
    }

    fn env(&self, now: u64) -> Env<'_> {
        Env {
            region: &self.config.region,
            account: &self.config.account,
            root: &self.root,
            now,
        }
    }

    fn not_found(key_id: &str) -> Error {
        Error::not_found(format!("Key '{key_id}' does not exist"))
    }

    fn alias_arn(&self, name: &str) -> String {
        alias_arn(&self.config.region, &self.config.account, name)
    }

    /// The key ID an identifier names (without checking that the key exists).
    fn resolve(&self, key_id: &str) -> Result<String> {
        match KeyIdentifier::parse(key_id, &self.config.region, &self.config.account)? {
            KeyIdentifier::KeyId(id) => Ok(id),
            KeyIdentifier::Alias(name) => match self.aliases.get(&name) {
                Some(a) => Ok(a.target_key_id.clone()),
                None => Err(Error::not_found(format!(
                    "Alias {} is not found (requested as {key_id}).",
                    self.alias_arn(&name)
                ))),
            },
        }
    }

    fn purge(&mut self, key_id: &str) {
        self.keys.remove(key_id);
        self.aliases.retain(|_, a| a.target_key_id != key_id);
    }

    /// Runs `f` on the record `key_id` names and keeps the result: purges a
    /// key whose deletion date passed (then `NotFoundException`), deletes
    /// imported key material whose `ValidTo` passed and applies a due
    /// automatic rotation first, and on `f`'s failure keeps only those.
    fn modify<R, T>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        f: impl FnOnce(&Env<'_>, &mut R, &mut KeyRecord) -> Result<T>,
    ) -> Result<T>
    where
        R: CryptoRng + ?Sized,
    {
        let id = self.resolve(key_id)?;
        let before = self
            .keys
            .get(&id)
            .cloned()
            .ok_or_else(|| Self::not_found(key_id))?;
        if ops::is_due_for_purge(&before, now) {
            self.purge(&id);
            return Err(Self::not_found(key_id));
        }
        let env = self.env(now);
        let mut rec = before.clone();
        crate::asym::expire_imported_material(&mut rec, now);
        ops::rotate_if_due(&env, rng, &mut rec)?;
        let rotated = rec.clone();
        let result = f(&env, rng, &mut rec);
        if result.is_err() {
            rec = rotated;
        }
        if rec != before {
            rec.generation += 1;
            self.keys.insert(id, rec);
        }
        result
    }

    /// The record `key_id` names, after purges and due rotations.
    fn load<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<KeyRecord> {
        self.modify(rng, now, key_id, |_, _, r| Ok(r.clone()))
    }

    /// Deletes every key whose deletion date has passed, with its aliases;
    /// returns how many.
    pub fn purge_deleted_keys(&mut self, now: u64) -> usize {
        let due: Vec<String> = self
            .keys
            .values()
            .filter(|r| ops::is_due_for_purge(r, now))
            .map(|r| r.key_id.clone())
            .collect();
        for id in &due {
            self.purge(id);
        }
        due.len()
    }

    // ---- key management ------------------------------------------------------

    /// CreateKey.
    ///
    /// # Errors
    /// See [`ops::create_key`].
    pub fn create_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &CreateKeyRequest,
    ) -> Result<DescribeKeyResponse> {
        let rec = ops::create_key(&self.env(now), rng, req)?;
        let key_metadata = ops::describe(&rec);
        self.keys.insert(rec.key_id.clone(), rec);
        Ok(DescribeKeyResponse { key_metadata })
    }

    /// DescribeKey by key ID, key ARN, alias name or alias ARN.
    ///
    /// # Errors
    /// `NotFoundException`, `InvalidArnException`, `ValidationException`.
    pub fn describe_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<DescribeKeyResponse> {
        Ok(DescribeKeyResponse {
            key_metadata: ops::describe(&self.load(rng, now, key_id)?),
        })
    }

    /// ListKeys: `limit` 1–1000 (default 100), `marker` from a previous page.
    /// Keys awaiting purge are not listed.
    ///
    /// # Errors
    /// `ValidationException` for the limit, `InvalidMarkerException`.
    pub fn list_keys(
        &self,
        now: u64,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListKeysResponse> {
        let limit = page_limit(limit)?;
        let after = decode_marker(marker)?;
        let mut rows = self
            .keys
            .iter()
            .filter(|(id, _)| after.as_ref().is_none_or(|a| id.as_str() > a.as_str()));
        let page: Vec<&KeyRecord> = rows.by_ref().take(limit).map(|(_, r)| r).collect();
        let truncated = rows.next().is_some();
        // As natively, the marker is the last key read, not the last listed.
        let next_marker = if truncated {
            page.last().map(|r| encode_marker(&r.key_id))
        } else {
            None
        };
        Ok(ListKeysResponse {
            keys: page
                .into_iter()
                .filter(|r| !ops::is_due_for_purge(r, now))
                .map(|r| KeyListEntry {
                    key_id: r.key_id.clone(),
                    key_arn: r.arn.clone(),
                })
                .collect(),
            next_marker,
            truncated,
        })
    }

    /// UpdateKeyDescription.
    ///
    /// # Errors
    /// See [`ops::update_key_description`]; `NotFoundException`.
    pub fn update_key_description<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        description: &str,
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| {
            ops::update_key_description(r, description)
        })
    }

    /// EnableKey.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn enable_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| ops::enable_key(r))
    }

    /// DisableKey.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn disable_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| ops::disable_key(r))
    }

    /// ScheduleKeyDeletion: `pending_window_in_days` 7–30 (default 30).
    ///
    /// # Errors
    /// `ValidationException`, `NotFoundException`, `KMSInvalidStateException`.
    pub fn schedule_key_deletion<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        pending_window_in_days: Option<u32>,
    ) -> Result<ScheduleKeyDeletionResponse> {
        self.modify(rng, now, key_id, |env, _, r| {
            ops::schedule_key_deletion(env, r, pending_window_in_days)
        })
    }

    /// CancelKeyDeletion: the key becomes `Disabled`.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn cancel_key_deletion<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<KeyIdResponse> {
        self.modify(rng, now, key_id, |_, _, r| {
            ops::cancel_key_deletion(r).map(|_| KeyIdResponse {
                key_id: r.arn.clone(),
            })
        })
    }

    /// EnableKeyRotation: `rotation_period_in_days` 90–2560 (default 365).
    ///
    /// # Errors
    /// See [`ops::enable_key_rotation`].
    pub fn enable_key_rotation<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        rotation_period_in_days: Option<u32>,
    ) -> Result<()> {
        self.modify(rng, now, key_id, |env, _, r| {
            ops::enable_key_rotation(env, r, rotation_period_in_days)
        })
    }

    /// DisableKeyRotation.
    ///
    /// # Errors
    /// See [`ops::disable_key_rotation`].
    pub fn disable_key_rotation<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| ops::disable_key_rotation(r))
    }

    /// GetKeyRotationStatus.
    ///
    /// # Errors
    /// `NotFoundException`, `UnsupportedOperationException`.
    pub fn get_key_rotation_status<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<GetKeyRotationStatusResponse> {
        ops::get_key_rotation_status(&self.load(rng, now, key_id)?)
    }

    /// RotateKeyOnDemand (at most 10 per key).
    ///
    /// # Errors
    /// See [`ops::rotate_key_on_demand`].
    pub fn rotate_key_on_demand<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<KeyIdResponse> {
        self.modify(rng, now, key_id, |env, rng, r| {
            ops::rotate_key_on_demand(env, rng, r).map(|_| KeyIdResponse {
                key_id: r.key_id.clone(),
            })
        })
    }

    /// ListKeyRotations: `limit` 1–1000 (default 100).
    ///
    /// # Errors
    /// `NotFoundException`, `UnsupportedOperationException`, `InvalidMarkerException`.
    pub fn list_key_rotations<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListKeyRotationsResponse> {
        let all = ops::list_key_rotations(&self.load(rng, now, key_id)?)?;
        let (rotations, next_marker) = paginate_index(all, limit, marker)?;
        Ok(ListKeyRotationsResponse {
            truncated: next_marker.is_some(),
            rotations,
            next_marker,
        })
    }

    // ---- aliases -------------------------------------------------------------

    /// CreateAlias: `alias_name` (`alias/...`) for `target_key_id` (a key ID
    /// or key ARN, not an alias).
    ///
    /// # Errors
    /// `InvalidAliasNameException`, `ValidationException`,
    /// `AlreadyExistsException`, `NotFoundException`, `KMSInvalidStateException`.
    pub fn create_alias<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<()> {
        self.put_alias(rng, now, alias_name, target_key_id, true)
    }

    /// UpdateAlias: points an existing alias at another key of the same key
    /// spec and usage.
    ///
    /// # Errors
    /// As [`create_alias`](Self::create_alias), with `NotFoundException` for
    /// an absent alias.
    pub fn update_alias<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<()> {
        self.put_alias(rng, now, alias_name, target_key_id, false)
    }

    fn put_alias<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        alias_name: &str,
        target_key_id: &str,
        create: bool,
    ) -> Result<()> {
        validate_alias_name(alias_name)?;
        let ident = KeyIdentifier::parse(target_key_id, &self.config.region, &self.config.account)?;
        if matches!(ident, KeyIdentifier::Alias(_)) {
            return Err(Error::validation(
                "TargetKeyId must be a key ID or key ARN, not an alias",
            ));
        }
        let rec = self.load(rng, now, target_key_id)?;
        if rec.state == KeyState::PendingDeletion {
            return Err(invalid_state(&rec, "pending deletion"));
        }
        let record = match (create, self.aliases.get(alias_name)) {
            (true, Some(_)) => {
                return Err(Error::new(
                    ErrorKind::AlreadyExistsException,
                    format!(
                        "An alias with the name {} already exists",
                        self.alias_arn(alias_name)
                    ),
                ))
            }
            (false, None) => {
                return Err(Error::not_found(format!(
                    "Alias {} is not found.",
                    self.alias_arn(alias_name)
                )))
            }
            (true, None) => AliasRecord {
                alias_name: alias_name.to_string(),
                target_key_id: rec.key_id.clone(),
                creation_date: now,
                last_updated_date: now,
            },
            (false, Some(old)) => {
                if let Some(o) = self.keys.get(&old.target_key_id) {
                    if (o.key_spec, o.key_usage) != (rec.key_spec, rec.key_usage) {
                        return Err(Error::validation(
                            "UpdateAlias: the new key must have the same key spec and key usage as the current one",
                        ));
                    }
                }
                AliasRecord {
                    target_key_id: rec.key_id.clone(),
                    last_updated_date: now,
                    ..old.clone()
                }
            }
        };
        self.aliases.insert(alias_name.to_string(), record);
        Ok(())
    }

    /// DeleteAlias.
    ///
    /// # Errors
    /// `InvalidAliasNameException`, `NotFoundException`.
    pub fn delete_alias(&mut self, alias_name: &str) -> Result<()> {
        if !alias_name.starts_with("alias/") {
            return Err(Error::new(
                ErrorKind::InvalidAliasNameException,
                "alias names begin with 'alias/'",
            ));
        }
        match self.aliases.remove(alias_name) {
            Some(_) => Ok(()),
            None => Err(Error::not_found(format!(
                "Alias {} is not found.",
                self.alias_arn(alias_name)
            ))),
        }
    }

    /// ListAliases, optionally only those of `key_id`; `limit` 1–100 (default 50).
    ///
    /// # Errors
    /// `NotFoundException` for `key_id`, `ValidationException`, `InvalidMarkerException`.
    pub fn list_aliases<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: Option<&str>,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListAliasesResponse> {
        let limit = limit_within(limit, LIST_ALIASES)?;
        let target = key_id
            .map(|k| self.load(rng, now, k).map(|r| r.key_id))
            .transpose()?;
        let after = decode_marker(marker)?;
        let mut matching = self
            .aliases
            .values()
            .filter(|a| after.as_ref().is_none_or(|m| a.alias_name > *m))
            .filter(|a| target.as_ref().is_none_or(|t| *t == a.target_key_id));
        let aliases: Vec<AliasListEntry> = matching
            .by_ref()
            .take(limit)
            .map(|a| AliasListEntry {
                alias_arn: self.alias_arn(&a.alias_name),
                alias_name: a.alias_name.clone(),
                target_key_id: a.target_key_id.clone(),
                creation_date: a.creation_date,
                last_updated_date: a.last_updated_date,
            })
            .collect();
        let truncated = matching.next().is_some();
        let next_marker = if truncated {
            aliases.last().map(|a| encode_marker(&a.alias_name))
        } else {
            None
        };
        Ok(ListAliasesResponse {
            aliases,
            next_marker,
            truncated,
        })
    }

    // ---- tags ----------------------------------------------------------------

    /// TagResource.
    ///
    /// # Errors
    /// `TagException`, `NotFoundException`, `KMSInvalidStateException`.
    pub fn tag_resource<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        tags: &[Tag],
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| ops::tag_resource(r, tags))
    }

    /// UntagResource.
    ///
    /// # Errors
    /// `NotFoundException`, `KMSInvalidStateException`.
    pub fn untag_resource<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        tag_keys: &[String],
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| ops::untag_resource(r, tag_keys))
    }

    /// ListResourceTags: `limit` 1–50 (default 50).
    ///
    /// # Errors
    /// `ValidationException`, `NotFoundException`, `InvalidMarkerException`.
    pub fn list_resource_tags<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListResourceTagsResponse> {
        if limit.is_some_and(|l| !(1..=50).contains(&l)) {
            return Err(Error::validation("Limit must be between 1 and 50"));
        }
        let all = ops::list_resource_tags(&self.load(rng, now, key_id)?);
        let (tags, next_marker) = paginate_index(all, Some(limit.unwrap_or(50)), marker)?;
        Ok(ListResourceTagsResponse {
            truncated: next_marker.is_some(),
            tags,
            next_marker,
        })
    }

    // ---- cryptographic operations ---------------------------------------------

    /// Encrypt up to 4096 bytes under a symmetric key.
    ///
    /// # Errors
    /// `NotFoundException`, `DisabledException`, `KMSInvalidStateException`,
    /// `InvalidKeyUsageException`, `ValidationException`.
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &EncryptRequest,
    ) -> Result<EncryptResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        ops::encrypt(&self.env(now), rng, &rec, req)
    }

    /// The key that made a symmetric blob, checked against an optional
    /// expected key; an unknown key is the detail-free decryption error.
    fn blob_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        blob: &[u8],
        expected: Option<&str>,
    ) -> Result<KeyRecord> {
        let header = crate::blob::parse_header(blob)?;
        let expected_id = expected
            .map(|k| self.load(rng, now, k).map(|r| r.key_id))
            .transpose()?;
        let id = header.key_id_string();
        if expected_id.as_ref().is_some_and(|e| *e != id) {
            return Err(Error::new(
                ErrorKind::IncorrectKeyException,
                "The key ID in the request does not identify a key that can decrypt the ciphertext",
            ));
        }
        match self.load(rng, now, &id) {
            Ok(r) => Ok(r),
            Err(e) if e.kind() == ErrorKind::NotFoundException => Err(Error::invalid_ciphertext()),
            Err(e) => Err(e),
        }
    }

    /// Decrypt a symmetric ciphertext blob; a `KeyId` in the request must
    /// name the key that made it. When `KeyId` names an RSA key the
    /// ciphertext is RSAES-OAEP output and `EncryptionAlgorithm`
    /// (`RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`) is required, as in KMS
    /// ([`crate::asym::decrypt`]).
    ///
    /// # Errors
    /// `InvalidCiphertextException` (every authentication failure,
    /// detail-free), `IncorrectKeyException`, `DisabledException`,
    /// `KMSInvalidStateException`, `InvalidKeyUsageException`,
    /// `ValidationException`.
    pub fn decrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &DecryptRequest,
    ) -> Result<DecryptResponse> {
        check_grant_tokens(&req.grant_tokens)?;
        if let Some(key_id) = req.key_id.as_deref() {
            let rec = self.load(rng, now, key_id)?;
            if rec.key_spec != KeySpec::SymmetricDefault {
                return crate::asym::decrypt(&self.env(now), rng, &rec, req);
            }
        }
        let rec = self.blob_key(rng, now, &req.ciphertext_blob, req.key_id.as_deref())?;
        if let Some(a) = req.encryption_algorithm {
            if a != EncryptionAlgorithm::SymmetricDefault {
                return Err(Error::new(
                    ErrorKind::InvalidKeyUsageException,
                    format!("{a} is not valid for a symmetric key"),
                ));
            }
        }
        let plaintext = ops::decrypt_symmetric(
            &self.env(now),
            &rec,
            &req.ciphertext_blob,
            &req.encryption_context,
        )?;
        Ok(DecryptResponse {
            key_id: rec.arn,
            plaintext,
            encryption_algorithm: EncryptionAlgorithm::SymmetricDefault,
        })
    }

    /// ReEncrypt: decrypts under the source key and context and encrypts
    /// under the destination key and context, returning no plaintext. Either
    /// side may be an RSA `ENCRYPT_DECRYPT` key (RSAES-OAEP): an RSA source
    /// is named by `SourceKeyId` with `SourceEncryptionAlgorithm`, an RSA
    /// destination takes `DestinationEncryptionAlgorithm`.
    ///
    /// # Errors
    /// Those of [`decrypt`](Self::decrypt) for the source and
    /// [`encrypt`](Self::encrypt) for the destination.
    pub fn re_encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &ReEncryptRequest,
    ) -> Result<ReEncryptResponse> {
        check_grant_tokens(&req.grant_tokens)?;
        let src_rsa = match req.source_key_id.as_deref() {
            Some(k) => Some(self.load(rng, now, k)?)
                .filter(|r| crate::asym::rsa_size(r.key_spec).is_some()),
            None => None,
        };
        let src_is_rsa = src_rsa.is_some();
        let src = match src_rsa {
            Some(r) => r,
            None => {
                if req
                    .source_encryption_algorithm
                    .is_some_and(|a| a != EncryptionAlgorithm::SymmetricDefault)
                {
                    return Err(Error::new(
                        ErrorKind::InvalidKeyUsageException,
                        "SourceEncryptionAlgorithm is not valid for a symmetric key",
                    ));
                }
                self.blob_key(rng, now, &req.ciphertext_blob, req.source_key_id.as_deref())?
            }
        };
        let dst = self.load(rng, now, &req.destination_key_id)?;
        let env = self.env(now);
        let (plaintext, source_encryption_algorithm) = if src_is_rsa {
            let d = crate::asym::decrypt(
                &env,
                rng,
                &src,
                &DecryptRequest {
                    ciphertext_blob: req.ciphertext_blob.clone(),
                    encryption_context: req.source_encryption_context.clone(),
                    key_id: Some(src.key_id.clone()),
                    encryption_algorithm: req.source_encryption_algorithm,
                    grant_tokens: Vec::new(),
                },
            )?;
            (d.plaintext, d.encryption_algorithm)
        } else {
            let p = ops::decrypt_symmetric(
                &env,
                &src,
                &req.ciphertext_blob,
                &req.source_encryption_context,
            )?;
            (p, EncryptionAlgorithm::SymmetricDefault)
        };
        let r = ops::encrypt(
            &env,
            rng,
            &dst,
            &EncryptRequest {
                key_id: dst.key_id.clone(),
                plaintext,
                encryption_context: req.destination_encryption_context.clone(),
                encryption_algorithm: req.destination_encryption_algorithm,
                grant_tokens: Vec::new(),
            },
        )?;
        Ok(ReEncryptResponse {
            ciphertext_blob: r.ciphertext_blob,
            source_key_id: src.arn,
            key_id: r.key_id,
            source_encryption_algorithm,
            destination_encryption_algorithm: r.encryption_algorithm,
        })
    }

    /// GenerateDataKey: a data key in plaintext and encrypted under the key.
    ///
    /// # Errors
    /// `ValidationException` (KeySpec / NumberOfBytes), plus those of
    /// [`encrypt`](Self::encrypt).
    pub fn generate_data_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        ops::generate_data_key(&self.env(now), rng, &rec, req)
    }

    /// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
    ///
    /// # Errors
    /// As [`generate_data_key`](Self::generate_data_key).
    pub fn generate_data_key_without_plaintext<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse> {
        let r = self.generate_data_key(rng, now, req)?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob: r.ciphertext_blob,
            key_id: r.key_id,
        })
    }

    // ---- asymmetric keys and MACs -----------------------------------------------

    /// Sign with an asymmetric SIGN_VERIFY key.
    ///
    /// # Errors
    /// See [`crate::asym::sign`]; `NotFoundException`.
    pub fn sign<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &SignRequest,
    ) -> Result<SignResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        crate::asym::sign(&self.env(now), rng, &rec, req)
    }

    /// Verify a signature; one that does not verify is `KMSInvalidSignatureException`.
    ///
    /// # Errors
    /// See [`crate::asym::verify`]; `NotFoundException`.
    pub fn verify<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &VerifyRequest,
    ) -> Result<VerifyResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        crate::asym::verify(&self.env(now), &rec, req)
    }

    /// GetPublicKey of an asymmetric key (SubjectPublicKeyInfo DER).
    ///
    /// # Errors
    /// See [`crate::asym::get_public_key`]; `NotFoundException`.
    pub fn get_public_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<GetPublicKeyResponse> {
        let rec = self.load(rng, now, key_id)?;
        crate::asym::get_public_key(&self.env(now), &rec)
    }

    /// GenerateDataKeyPair: a fresh RSA or ECC key pair whose private key
    /// (PKCS#8 DER) is returned in plaintext and as a symmetric ciphertext
    /// blob under `KeyId` (a symmetric encryption key) with the request's
    /// encryption context.
    ///
    /// # Errors
    /// See [`crate::asym::generate_data_key_pair`]; `NotFoundException`.
    pub fn generate_data_key_pair<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        crate::asym::generate_data_key_pair(&self.env(now), rng, &rec, req)
    }

    /// GenerateDataKeyPairWithoutPlaintext: as
    /// [`generate_data_key_pair`](Self::generate_data_key_pair) without the
    /// plaintext private key (dropped, and zeroized, here).
    ///
    /// # Errors
    /// As [`generate_data_key_pair`](Self::generate_data_key_pair).
    pub fn generate_data_key_pair_without_plaintext<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairWithoutPlaintextResponse> {
        let r = self.generate_data_key_pair(rng, now, req)?;
        Ok(GenerateDataKeyPairWithoutPlaintextResponse {
            private_key_ciphertext_blob: r.private_key_ciphertext_blob,
            public_key: r.public_key,
            key_id: r.key_id,
            key_pair_spec: r.key_pair_spec,
        })
    }

    /// GetParametersForImport for a key with Origin `EXTERNAL`: an RSA
    /// wrapping public key (DER SubjectPublicKeyInfo) and an import token,
    /// both valid for 24 hours from `now`.
    ///
    /// # Errors
    /// See [`crate::asym::get_parameters_for_import`]; `NotFoundException`.
    pub fn get_parameters_for_import<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &GetParametersForImportRequest,
    ) -> Result<GetParametersForImportResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        crate::asym::get_parameters_for_import(&self.env(now), rng, &rec, req)
    }

    /// ImportKeyMaterial: unwraps the material with the import token's
    /// wrapping key and installs it in an `EXTERNAL` key, which becomes
    /// `Enabled`.
    ///
    /// # Errors
    /// See [`crate::asym::import_key_material`]; `NotFoundException`.
    pub fn import_key_material<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &ImportKeyMaterialRequest,
    ) -> Result<()> {
        self.modify(rng, now, &req.key_id, |env, rng, r| {
            crate::asym::import_key_material(env, rng, r, req)
        })
    }

    /// DeleteImportedKeyMaterial: the key returns to `PendingImport`; only
    /// the same material can be imported again.
    ///
    /// # Errors
    /// See [`crate::asym::delete_imported_key_material`]; `NotFoundException`.
    pub fn delete_imported_key_material<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
    ) -> Result<()> {
        self.modify(rng, now, key_id, |_, _, r| {
            crate::asym::delete_imported_key_material(r)
        })
    }

    /// GenerateMac with an HMAC key.
    ///
    /// # Errors
    /// See [`crate::asym::generate_mac`]; `NotFoundException`.
    pub fn generate_mac<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &GenerateMacRequest,
    ) -> Result<GenerateMacResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        crate::asym::generate_mac(&self.env(now), &rec, req)
    }

    /// VerifyMac; a mismatch is `KMSInvalidMacException`.
    ///
    /// # Errors
    /// See [`crate::asym::verify_mac`]; `NotFoundException`.
    pub fn verify_mac<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &VerifyMacRequest,
    ) -> Result<VerifyMacResponse> {
        let rec = self.load(rng, now, &req.key_id)?;
        crate::asym::verify_mac(&self.env(now), &rec, req)
    }

    /// GenerateRandom: 1–1024 bytes from `rng`.
    ///
    /// # Errors
    /// `ValidationException` outside 1–1024.
    pub fn generate_random<R: CryptoRng + ?Sized>(
        rng: &mut R,
        number_of_bytes: u32,
    ) -> Result<GenerateRandomResponse> {
        Ok(GenerateRandomResponse {
            plaintext: ops::generate_random(rng, number_of_bytes)?,
        })
    }
}
