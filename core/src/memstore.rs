//! An in-memory keystore: key records, aliases and grants in ordered maps
//! (vectors sorted by ID),
//! with one method per KMS operation running its flow in [`crate::service`]
//! (the native keystore runs the same flows; the cryptographic work is in
//! [`crate::ops`] and [`crate::asym`]). It is what the
//! WebAssembly package (and any embedder without a filesystem) runs on;
//! persistence is the caller's choice through the sealed export
//! ([`MemKeystore::export_sealed`], [`MemKeystore::import_sealed`]), which
//! is the same format the native keystore exports and imports.
//!
//! No clock and no randomness of its own: every method that needs them
//! takes `now` (Unix seconds) and a [`CryptoRng`]. Semantics follow the
//! native `strongroom::Keystore`: identifiers may be key IDs, key ARNs,
//! and, for the cryptographic operations, DescribeKey and GetPublicKey,
//! alias names or alias ARNs (the others refuse an alias, as KMS); keys whose deletion date has passed are purged
//! (with their aliases) when next touched and reported as not found; due
//! automatic rotations are applied before a key is used; a record's
//! `generation` grows by one on every change; pagination markers are those
//! of [`crate::paging`].
//!
//! Access control is the native keystore's too ([`crate::access`]): every
//! method runs for the principal set by [`MemKeystore::act_as`] (by default
//! the administrator), is authorized by the key policy and grants, and
//! appends one event to the in-memory audit log ([`MemKeystore::audit_lines`],
//! [`MemKeystore::verify_audit_log`]) whether it succeeds, is denied or
//! fails. Dry runs ([`MemKeystore::set_dry_run`]) are the native
//! keystore's too.

use alloc::borrow::{Cow, ToOwned};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use rand_core::CryptoRng;

use crate::access::{self, Call};
use crate::api::*;
use crate::audit::{self, ChainError, Checkpoint, RequestParameters};
use crate::error::{Error, Result};
use crate::export::{ExportRow, KeystoreConfig, SealedExport, KEYSTORE_FORMAT_VERSION};
use crate::grant::{grant_row_id, Grant};
use crate::key::{alias_arn, AliasRecord, KeyIdentifier, KeyRecord};
use crate::ops::{self, Env};
use crate::policy::Policy;
use crate::seal::RootKey;
use crate::service::{self, KeyAccess, KeyService, OwnedKey};
use crate::sorted_map::SortedMap;

/// A keystore held in memory. `Debug` shows the keystore ID and the number
/// of keys only.
#[derive(Clone)]
pub struct MemKeystore {
    root: RootKey,
    config: KeystoreConfig,
    /// `meta/kdf` of a passphrase keystore, carried through export/import.
    kdf: Vec<u8>,
    keys: SortedMap<KeyRecord>,
    aliases: SortedMap<AliasRecord>,
    /// Grants by row ID (`<key ID>/<grant ID>`, [`grant_row_id`]).
    grants: SortedMap<Grant>,
    /// The administrator principal (the configured one, else the account root).
    admin: String,
    /// The default key policy, for `admin`.
    default_policy: Policy,
    /// The principal calls act for ([`act_as`](MemKeystore::act_as)); the
    /// administrator when `None`.
    principal: Option<String>,
    /// Whether calls are dry runs ([`set_dry_run`](MemKeystore::set_dry_run)).
    dry_run: bool,
    /// The audit log: one chained JSON line per operation, oldest first.
    audit: Vec<String>,
    /// Count and chain value of the last line of `audit`.
    audit_head: Checkpoint,
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

/// 32 bytes from `rng`: the IDs of an audit event.
fn random_bytes<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; 32] {
    let mut random = [0u8; 32];
    rng.fill_bytes(&mut random);
    random
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
        Self::assemble(
            root,
            KeystoreConfig {
                format_version: KEYSTORE_FORMAT_VERSION,
                keystore_id: uuid::Builder::from_random_bytes(id)
                    .into_uuid()
                    .hyphenated()
                    .to_string(),
                region: region.to_string(),
                account: account.to_string(),
                created: now,
                admin_principal: access::admin_principal("", account),
                audit_log: false,
                anchored: false,
            },
            Vec::new(),
            SortedMap::new(),
            SortedMap::new(),
            SortedMap::new(),
        )
    }

    fn assemble(
        root: RootKey,
        config: KeystoreConfig,
        kdf: Vec<u8>,
        keys: SortedMap<KeyRecord>,
        aliases: SortedMap<AliasRecord>,
        grants: SortedMap<Grant>,
    ) -> Result<Self> {
        let admin = access::admin_principal(&config.admin_principal, &config.account);
        let default_policy = access::default_policy(&admin)?;
        Ok(MemKeystore {
            root,
            config,
            kdf,
            keys,
            aliases,
            grants,
            admin,
            default_policy,
            principal: None,
            dry_run: false,
            audit: Vec::new(),
            audit_head: Checkpoint::genesis(),
        })
    }

    /// The same keystore with `admin` (an IAM principal ARN) as its
    /// administrator, whom the default key policy allows `kms:*` (default:
    /// the account root `arn:aws:iam::<account>:root`, which covers every
    /// principal of the account). Kept in the sealed export.
    ///
    /// # Errors
    /// `ValidationException` when `admin` is not a principal a call can act
    /// as ([`access::new_admin_policy`]: an IAM user, role or account root
    /// ARN, an assumed role or a federated user).
    pub fn with_admin_principal(mut self, admin: &str) -> Result<Self> {
        self.default_policy = access::new_admin_policy(admin)?;
        admin.clone_into(&mut self.admin);
        admin.clone_into(&mut self.config.admin_principal);
        Ok(self)
    }

    /// Restores a keystore from a sealed export ([`crate::export`], version
    /// 1, 2 or 3), with its key policies (inside the key records) and grants
    /// (versions 2 and 3). The audit log is not part of the export: the restored
    /// keystore starts a new one.
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
        let mut keys = SortedMap::new();
        for row in &export.keys {
            let rec: KeyRecord = crate::record_from_slice(&row.body).ok_or_else(bad)?;
            keys.insert(row.id.clone(), rec);
        }
        let mut aliases = SortedMap::new();
        for row in &export.aliases {
            let a: AliasRecord = crate::record_from_slice(&row.body).ok_or_else(bad)?;
            aliases.insert(row.id.clone(), a);
        }
        let mut grants = SortedMap::new();
        for row in &export.grants {
            let g: Grant = crate::record_from_slice(&row.body).ok_or_else(bad)?;
            grants.insert(row.id.clone(), g);
        }
        Self::assemble(root, config, export.kdf, keys, aliases, grants)
    }

    /// The whole keystore as a sealed export: records serialized exactly as
    /// the native keystore stores them, each with its export record MAC
    /// ([`RootKey::mac_export_record`]), and the export MAC over everything.
    ///
    /// # Errors
    /// `KMSInternalException` on a serialization failure.
    pub fn export_sealed(&self) -> Result<Vec<u8>> {
        let config_body = to_json(&self.config)?;
        let config_tag = self
            .root
            .mac_export_record(b"meta", b"config", &config_body)?;
        let keys = self.rows(b"key", &self.keys)?;
        let aliases = self.rows(b"alias", &self.aliases)?;
        let grants = self.rows(b"grant", &self.grants)?;
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
            grants,
        }
        .encode(&self.root)
    }

    /// Export rows of one kind of record, serialized as the native keystore
    /// stores them, each with its export record MAC.
    fn rows<T: serde::Serialize>(
        &self,
        kind: &[u8],
        records: &SortedMap<T>,
    ) -> Result<Vec<ExportRow>> {
        records
            .iter()
            .map(|(id, rec)| {
                let body = to_json(rec)?;
                let tag = self.root.mac_export_record(kind, id.as_bytes(), &body)?;
                Ok(ExportRow {
                    id: id.clone(),
                    body,
                    tag: tag.to_vec(),
                })
            })
            .collect()
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

    /// Makes the following calls act for `principal` (an IAM ARN such as
    /// `arn:aws:iam::111122223333:user/app`), or for the administrator with
    /// `None`: each is authorized for, and audited as, that principal until
    /// the next `act_as`. A binding that hands out one handle per principal
    /// calls it before each call of a handle.
    pub fn act_as(&mut self, principal: Option<&str>) {
        self.principal = principal.map(ToString::to_string);
    }

    /// Makes the following calls dry runs (KMS's `DryRun` parameter) until
    /// the next `set_dry_run(false)`: an operation of
    /// [`access::DRY_RUN_OPERATIONS`] runs every check it would run — key
    /// lookup, key state, key policy and grants, grant tokens, parameter
    /// validation — and then, instead of its result, fails with
    /// `DryRunOperationException` ([`access::dry_run_succeeded`]), or with
    /// the error the real call would have returned. It changes nothing: a
    /// dry-run `CreateGrant`, `RetireGrant` or `RevokeGrant` stops before
    /// its write. (Time-driven maintenance that any access to a key
    /// triggers — the purge of a key past its deletion date, a due
    /// automatic rotation, the expiry of imported material — still happens.)
    /// Any other operation fails with `ValidationException` without
    /// running. Each call is audited, with `errorCode`
    /// `DryRunOperationException` when it would have succeeded. As
    /// `strongroom::Keystore::dry_run`.
    pub fn set_dry_run(&mut self, dry_run: bool) {
        self.dry_run = dry_run;
    }

    /// Whether calls are dry runs ([`set_dry_run`](Self::set_dry_run)).
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Fails with `DryRunOperationException` in a dry run: called by the
    /// operations that write, after every check passed and before the write.
    fn stop_if_dry_run(&self) -> Result<()> {
        if self.dry_run {
            Err(access::dry_run_succeeded())
        } else {
            Ok(())
        }
    }

    /// The principal calls act for: the one given to
    /// [`act_as`](Self::act_as), else the administrator.
    pub fn principal(&self) -> &str {
        self.principal.as_deref().unwrap_or(&self.admin)
    }

    /// The administrator principal, whom the default key policy allows `kms:*`.
    pub fn admin_principal(&self) -> &str {
        &self.admin
    }

    // ---- audit log -------------------------------------------------------------

    /// Refuses a dry run of an operation without KMS's `DryRun` parameter
    /// (kept apart from the generic `KeyService::call` of its service).
    fn dry_run_gate(&self, op: &str) -> Result<()> {
        if self.dry_run && !access::DRY_RUN_OPERATIONS.contains(&op) {
            Err(access::dry_run_refused(
                op,
                "on a handle that is not a dry run",
            ))
        } else {
            Ok(())
        }
    }

    /// Appends the audit event of a finished call (kept apart from the
    /// generic `KeyService::call` of its service, so that it is compiled once). A dry
    /// run that succeeded is recorded, and returned, as
    /// `DryRunOperationException`.
    fn record<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        op: &str,
        call: Call,
        error: Option<&Error>,
    ) -> Result<()> {
        let dry_run = (self.dry_run && error.is_none()).then(access::dry_run_succeeded);
        let error = error.or(dry_run.as_ref());
        let millis = now.saturating_mul(1000);
        let account = &self.config.account;
        let event = call.event(
            op,
            self.principal(),
            millis,
            random_bytes(rng),
            account,
            error,
        );
        // Written directly (no JSON value tree): the bytes of
        // `canonical_record(&event.to_record())`.
        self.append_audit(&event.to_canonical_record())?;
        dry_run.map_or(Ok(()), Err)
    }

    /// Chains the canonical record `canonical` onto the audit log.
    ///
    /// # Errors
    /// Those of [`audit::chain_canonical`].
    fn append_audit(&mut self, canonical: &str) -> Result<()> {
        let (line, head) =
            audit::chain_canonical(self.root.audit_key(), &self.audit_head, canonical)?;
        self.audit.push(line);
        self.audit_head = head;
        Ok(())
    }

    /// The audit log: one CloudTrail-shaped JSON record per operation since
    /// the keystore was created or imported, oldest first, each line
    /// carrying its `strongroomChain` value (`docs/FORMAT.md`, "Audit log").
    pub fn audit_lines(&self) -> &[String] {
        &self.audit
    }

    /// Verifies this keystore's audit log: the chain of every line under
    /// the root key's audit sub-key, and that no line was cut off.
    ///
    /// # Errors
    /// The first bad record and why ([`audit::verify_chain`]).
    pub fn verify_audit_log(&self) -> core::result::Result<Checkpoint, ChainError> {
        audit::verify_chain(
            self.audit.iter().map(String::as_str),
            self.root.audit_key(),
            Some(&self.audit_head),
        )
    }

    /// Verifies audit lines kept elsewhere (for example saved from
    /// [`audit_lines`](Self::audit_lines)) under this keystore's root key,
    /// from the start of a log.
    ///
    /// # Errors
    /// The first bad record and why ([`audit::verify_chain`]).
    pub fn verify_audit_lines<'a>(
        &self,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> core::result::Result<Checkpoint, ChainError> {
        audit::verify_chain(lines, self.root.audit_key(), None)
    }

    // ---- authorization ---------------------------------------------------------

    /// Checks grant tokens as every call that takes them does: at most 10,
    /// each made by this keystore.
    ///
    /// # Errors
    /// `ValidationException` for more than 10, `InvalidGrantTokenException`.
    pub fn check_grant_tokens(&self, tokens: &[String]) -> Result<()> {
        access::check_grant_tokens(self.root.grant_token_key(), tokens)
    }

    /// The parsed policy of `rec`: its own, or the default key policy.
    fn key_policy(&self, rec: &KeyRecord) -> Result<Cow<'_, Policy>> {
        Ok(match access::stored_policy(rec)? {
            Some(p) => Cow::Owned(p),
            None => Cow::Borrowed(&self.default_policy),
        })
    }

    /// The names of the aliases that point at `key_id` (a key ID), in name order.
    fn aliases_of(&self, key_id: &str) -> Vec<String> {
        self.aliases
            .values()
            .filter(|a| a.target_key_id == key_id)
            .map(|a| a.alias_name.clone())
            .collect()
    }

    /// Every grant of `key_id` (a key ID), in grant ID order.
    fn grants_of(&self, key_id: &str) -> Vec<Grant> {
        let prefix = grant_row_id(key_id, "");
        self.grants
            .iter_from(&prefix)
            .take_while(|(id, _)| id.starts_with(&prefix))
            .map(|(_, g)| g.clone())
            .collect()
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

    /// Deletes the key with its aliases and grants (KMS deletes a key's
    /// grants with the key), at the end of its waiting period (`now`), and
    /// records AWS KMS's `DeleteKey` service event for it
    /// ([`AuditEvent::key_deleted`](audit::AuditEvent::key_deleted)).
    ///
    /// # Errors
    /// `KMSInternalException` if the event cannot be chained (the key is
    /// kept then).
    fn purge<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: u64, key_id: &str) -> Result<()> {
        let Some(rec) = self.keys.get(key_id) else {
            return Ok(());
        };
        let event = audit::AuditEvent::key_deleted(
            &self.config.account,
            &rec.arn,
            now.saturating_mul(1000),
            random_bytes(rng),
        );
        self.append_audit(&event.to_canonical_record())?;
        self.keys.remove(key_id);
        self.aliases.retain(|_, a| a.target_key_id != key_id);
        let prefix = grant_row_id(key_id, "");
        self.grants.retain(|id, _| !id.starts_with(&prefix));
        Ok(())
    }

    /// Runs `f` on the record `key_id` names and keeps the result: purges a
    /// key whose deletion date passed (then `NotFoundException`), deletes
    /// imported key material whose `ValidTo` passed and applies a due
    /// automatic rotation first, and on `f`'s failure keeps only those.
    /// The maintenance is recorded as AWS KMS's service events
    /// (`DeleteExpiredKeyMaterial`, `RotateKey`), chained before the
    /// record is kept: if one cannot be (`KMSInternalException`), nothing
    /// changes.
    /// `f` runs once; it hands its value out through what it captures
    /// ([`service::take_value`]), so that this is compiled once, not per
    /// operation.
    fn modify<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        f: &mut service::RecordChange<'_, R>,
    ) -> Result<()> {
        let id = self.resolve(key_id)?;
        let before = self
            .keys
            .get(&id)
            .cloned()
            .ok_or_else(|| Self::not_found(key_id))?;
        if ops::is_due_for_purge(&before, now) {
            self.purge(rng, now, &id)?;
            return Err(Self::not_found(key_id));
        }
        let env = self.env(now);
        let mut rec = before.clone();
        let expired = crate::asym::expire_imported_material(&mut rec, now);
        let rotated = ops::rotate_if_due(&env, rng, &mut rec)?;
        let maintained = rec.clone();
        let result = f(&env, rng, &mut rec);
        if result.is_err() {
            rec = maintained;
        }
        if rec != before {
            // As a purge's `DeleteKey`: the maintenance's service events
            // are chained before the record is kept, and if one cannot be,
            // nothing changes.
            type Make = fn(&str, &str, &str, u64, [u8; 32]) -> audit::AuditEvent;
            let done: [(bool, Make); 2] = [
                (expired, audit::AuditEvent::key_material_expired),
                (rotated, audit::AuditEvent::key_rotated),
            ];
            for (_, make) in done.into_iter().filter(|(happened, _)| *happened) {
                let (account, millis) = (&self.config.account, now.saturating_mul(1000));
                let event = make(account, &rec.arn, &rec.key_id, millis, random_bytes(rng));
                self.append_audit(&event.to_canonical_record())?;
            }
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
        let mut loaded = None;
        let result = self.modify(rng, now, key_id, &mut |_, _, r| {
            loaded = Some(r.clone());
            Ok(())
        });
        service::take_value(result, loaded)
    }

    /// Deletes every key whose deletion date has passed, with its aliases
    /// and grants, recording a `DeleteKey` service event for each (as AWS
    /// KMS does at the end of a waiting period); returns how many. `rng`
    /// gives the events' IDs.
    ///
    /// # Errors
    /// `KMSInternalException` if an event cannot be chained (that key and
    /// those after it are kept).
    pub fn purge_deleted_keys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
    ) -> Result<usize> {
        let due: Vec<String> = self
            .keys
            .values()
            .filter(|r| ops::is_due_for_purge(r, now))
            .map(|r| r.key_id.clone())
            .collect();
        for id in &due {
            self.purge(rng, now, id)?;
        }
        Ok(due.len())
    }

    // ---- key management ------------------------------------------------------

    /// CreateKey, allowed for every principal (no key resource). A `Policy`
    /// must parse and, unless `BypassPolicyLockoutSafetyCheck` is set, let
    /// the acting principal call `PutKeyPolicy` on the new key.
    ///
    /// # Errors
    /// See [`ops::create_key`]; `MalformedPolicyDocumentException`.
    pub fn create_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &CreateKeyRequest,
    ) -> Result<DescribeKeyResponse> {
        service::create_key(&mut self.service(rng, now), req)
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
        self.describe_key_with_grant_tokens(rng, now, key_id, &[])
    }

    /// DescribeKey with KMS's `GrantTokens` (at most 10), checked as
    /// Encrypt's are.
    ///
    /// # Errors
    /// Those of [`describe_key`](Self::describe_key);
    /// `InvalidGrantTokenException`.
    pub fn describe_key_with_grant_tokens<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        grant_tokens: &[String],
    ) -> Result<DescribeKeyResponse> {
        service::describe_key(&mut self.service(rng, now), key_id, grant_tokens)
    }

    /// ListKeys: `limit` 1–1000 (default 100), `marker` from a previous page
    /// ([`service::list_keys`]). Keys awaiting purge are not listed. Allowed
    /// for every principal.
    ///
    /// # Errors
    /// `ValidationException` for the limit, `InvalidMarkerException`.
    pub fn list_keys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListKeysResponse> {
        service::list_keys(&mut self.service(rng, now), limit, marker)
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
        service::update_key_description(&mut self.service(rng, now), key_id, description)
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
        service::enable_key(&mut self.service(rng, now), key_id)
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
        service::disable_key(&mut self.service(rng, now), key_id)
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
        service::schedule_key_deletion(&mut self.service(rng, now), key_id, pending_window_in_days)
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
        service::cancel_key_deletion(&mut self.service(rng, now), key_id)
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
        service::enable_key_rotation(&mut self.service(rng, now), key_id, rotation_period_in_days)
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
        service::disable_key_rotation(&mut self.service(rng, now), key_id)
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
        service::get_key_rotation_status(&mut self.service(rng, now), key_id)
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
        service::rotate_key_on_demand(&mut self.service(rng, now), key_id)
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
        service::list_key_rotations(&mut self.service(rng, now), key_id, limit, marker)
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
        service::put_alias(&mut self.service(rng, now), alias_name, target_key_id, true)
    }

    /// UpdateAlias: points an existing alias at another key of the same key
    /// type (both symmetric, both asymmetric or both HMAC) and key usage,
    /// as in KMS; the key spec may differ.
    ///
    /// # Errors
    /// As [`create_alias`](Self::create_alias), with `NotFoundException` for
    /// an absent alias and `ValidationException` for a new key of another
    /// key type or key usage.
    pub fn update_alias<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        alias_name: &str,
        target_key_id: &str,
    ) -> Result<()> {
        service::put_alias(
            &mut self.service(rng, now),
            alias_name,
            target_key_id,
            false,
        )
    }

    /// DeleteAlias, authorized on the key the alias points at.
    ///
    /// # Errors
    /// `InvalidAliasNameException`, `NotFoundException`, `AccessDeniedException`.
    pub fn delete_alias<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        alias_name: &str,
    ) -> Result<()> {
        service::delete_alias(&mut self.service(rng, now), alias_name)
    }

    /// ListAliases, optionally only those of `key_id`; `limit` 1–100 (default 50)
    /// ([`service::list_aliases`]). Allowed for every principal.
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
        service::list_aliases(&mut self.service(rng, now), key_id, limit, marker)
    }

    // ---- tags ----------------------------------------------------------------

    /// TagResource.
    ///
    /// `key_id` is a key ID or key ARN, as in KMS: an alias name or alias
    /// ARN is `NotFoundException` (`Invalid keyId`), for this and the other
    /// tag operations.
    ///
    /// # Errors
    /// `ValidationException` (a `TagKey` not 1 to 128 characters, a
    /// `TagValue` over 256), `TagException` (an `aws:` key, more than 50
    /// tags), `NotFoundException` (no such key, or an alias given),
    /// `KMSInvalidStateException`.
    pub fn tag_resource<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        tags: &[Tag],
    ) -> Result<()> {
        service::tag_resource(&mut self.service(rng, now), key_id, tags)
    }

    /// UntagResource. `key_id` is a key ID or key ARN (an alias is
    /// `NotFoundException`, as in KMS).
    ///
    /// # Errors
    /// `ValidationException` (a tag key not 1 to 128 characters),
    /// `NotFoundException` (no such key, or an alias given),
    /// `KMSInvalidStateException`.
    pub fn untag_resource<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        tag_keys: &[String],
    ) -> Result<()> {
        service::untag_resource(&mut self.service(rng, now), key_id, tag_keys)
    }

    /// ListResourceTags: `limit` 1–50 (default 50). `key_id` is a key ID or
    /// key ARN (an alias is `NotFoundException`, as in KMS).
    ///
    /// # Errors
    /// `ValidationException`, `NotFoundException` (no such key, or an alias
    /// given), `InvalidMarkerException`.
    pub fn list_resource_tags<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListResourceTagsResponse> {
        service::list_resource_tags(&mut self.service(rng, now), key_id, limit, marker)
    }

    // ---- key policies ----------------------------------------------------------

    /// PutKeyPolicy: replaces the key's policy (name `default`). Unless
    /// `BypassPolicyLockoutSafetyCheck` is set, the new policy must still let
    /// the acting principal call `PutKeyPolicy`.
    ///
    /// # Errors
    /// `MalformedPolicyDocumentException` (invalid document, over 32 KiB, or
    /// the lockout safety check), `NotFoundException` (key, or a policy name
    /// other than `default`), `AccessDeniedException`, `KMSInvalidStateException`.
    pub fn put_key_policy<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &PutKeyPolicyRequest,
    ) -> Result<()> {
        service::put_key_policy(&mut self.service(rng, now), req)
    }

    /// GetKeyPolicy: the key's policy document, or the default key policy
    /// when none was set. `policy_name` must be `default` when given.
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`.
    pub fn get_key_policy<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        policy_name: Option<&str>,
    ) -> Result<GetKeyPolicyResponse> {
        service::get_key_policy(&mut self.service(rng, now), key_id, policy_name)
    }

    /// ListKeyPolicies: always `["default"]`; `limit` 1–1000.
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`, `ValidationException`,
    /// `InvalidMarkerException`.
    pub fn list_key_policies<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListKeyPoliciesResponse> {
        service::list_key_policies(&mut self.service(rng, now), key_id, limit, marker)
    }

    // ---- grants ----------------------------------------------------------------

    /// CreateGrant: allows `GranteePrincipal` the `Operations` on the key,
    /// optionally only with an encryption context that equals or contains
    /// the constraint's. With a `Name` already used by a grant of this key
    /// with the same parameters, returns that grant's ID (and a fresh token).
    /// The returned grant token works at once.
    ///
    /// # Errors
    /// `ValidationException` (see [`Grant::validate`]), `NotFoundException`,
    /// `AccessDeniedException`, `KMSInvalidStateException` (key pending
    /// deletion), `InvalidGrantTokenException`, `LimitExceededException`
    /// (50,000 grants per key).
    pub fn create_grant<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &CreateGrantRequest,
    ) -> Result<CreateGrantResponse> {
        service::create_grant(&mut self.service(rng, now), req)
    }

    /// ListGrants: the grants of a key (optionally one grant ID or one
    /// grantee principal); `limit` 1–100 (default 50).
    ///
    /// # Errors
    /// `NotFoundException`, `AccessDeniedException`, `ValidationException`,
    /// `InvalidMarkerException`, `InvalidGrantIdException`.
    pub fn list_grants<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &ListGrantsRequest,
    ) -> Result<ListGrantsResponse> {
        service::list_grants(&mut self.service(rng, now), req)
    }

    /// ListRetirableGrants: the grants whose retiring principal is
    /// `retiring_principal`, across keys; `limit` 1–100 (default 50).
    /// Allowed for every principal.
    ///
    /// # Errors
    /// `ValidationException`, `InvalidMarkerException`.
    pub fn list_retirable_grants<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        retiring_principal: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<ListGrantsResponse> {
        service::list_retirable_grants(
            &mut self.service(rng, now),
            retiring_principal,
            limit,
            marker,
        )
    }

    /// RetireGrant: deletes a grant named by its token, or by key ID and
    /// grant ID. Allowed for the grant's retiring principal, its grantee when
    /// the grant includes `RetireGrant`, the issuing account's root, or a
    /// principal the key policy allows `kms:RetireGrant`.
    ///
    /// # Errors
    /// `InvalidGrantTokenException`, `InvalidGrantIdException`,
    /// `ValidationException` (neither token nor key and grant ID),
    /// `NotFoundException`, `AccessDeniedException`.
    pub fn retire_grant<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &RetireGrantRequest,
    ) -> Result<()> {
        service::retire_grant(&mut self.service(rng, now), req)
    }

    /// RevokeGrant: deletes a grant of the key; authorized by the key policy
    /// (`kms:RevokeGrant`).
    ///
    /// # Errors
    /// `InvalidGrantIdException`, `NotFoundException`, `AccessDeniedException`.
    pub fn revoke_grant<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        grant_id: &str,
    ) -> Result<()> {
        service::revoke_grant(&mut self.service(rng, now), key_id, grant_id)
    }

    // ---- cryptographic operations ---------------------------------------------

    /// The service the operation flows of [`crate::service`] run on, for one
    /// call at `now` drawing from `rng`.
    fn service<'a, R: CryptoRng + ?Sized>(
        &'a mut self,
        rng: &'a mut R,
        now: u64,
    ) -> Service<'a, R> {
        Service { ks: self, rng, now }
    }

    /// Encrypt up to 4096 bytes under a symmetric key ([`service::encrypt`]).
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
        service::encrypt(&mut self.service(rng, now), req)
    }

    /// Decrypt a symmetric ciphertext blob; a `KeyId` in the request must
    /// name the key that made it. When `KeyId` names an RSA key the
    /// ciphertext is RSAES-OAEP output and `EncryptionAlgorithm`
    /// (`RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`) is required, as in KMS
    /// ([`service::decrypt`]).
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
        service::decrypt(&mut self.service(rng, now), req)
    }

    /// ReEncrypt: decrypts under the source key and context and encrypts
    /// under the destination key and context, returning no plaintext. Either
    /// side may be an RSA `ENCRYPT_DECRYPT` key (RSAES-OAEP): an RSA source
    /// is named by `SourceKeyId` with `SourceEncryptionAlgorithm`, an RSA
    /// destination takes `DestinationEncryptionAlgorithm`
    /// ([`service::re_encrypt`]).
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
        service::re_encrypt(&mut self.service(rng, now), req)
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
        service::generate_data_key(&mut self.service(rng, now), "GenerateDataKey", req)
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
        let op = "GenerateDataKeyWithoutPlaintext";
        let r = service::generate_data_key(&mut self.service(rng, now), op, req)?;
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
        service::sign(&mut self.service(rng, now), req)
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
        service::verify(&mut self.service(rng, now), req)
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
        self.get_public_key_with_grant_tokens(rng, now, key_id, &[])
    }

    /// GetPublicKey with KMS's `GrantTokens` (at most 10), checked as
    /// Encrypt's are.
    ///
    /// # Errors
    /// Those of [`get_public_key`](Self::get_public_key);
    /// `ValidationException`, `InvalidGrantTokenException`.
    pub fn get_public_key_with_grant_tokens<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        key_id: &str,
        grant_tokens: &[String],
    ) -> Result<GetPublicKeyResponse> {
        service::get_public_key(&mut self.service(rng, now), key_id, grant_tokens)
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
        let op = "GenerateDataKeyPair";
        service::generate_data_key_pair(&mut self.service(rng, now), op, req)
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
        let op = "GenerateDataKeyPairWithoutPlaintext";
        let r = service::generate_data_key_pair(&mut self.service(rng, now), op, req)?;
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
        service::get_parameters_for_import(&mut self.service(rng, now), req)
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
        service::import_key_material(&mut self.service(rng, now), req)
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
        service::delete_imported_key_material(&mut self.service(rng, now), key_id)
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
        service::generate_mac(&mut self.service(rng, now), req)
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
        service::verify_mac(&mut self.service(rng, now), req)
    }

    /// DeriveSharedSecret (ECDH) with a NIST ECC `KEY_AGREEMENT` key,
    /// authorized as `kms:DeriveSharedSecret` with `kms:KeyAgreementAlgorithm`.
    ///
    /// # Errors
    /// See [`crate::asym::derive_shared_secret`]; `NotFoundException`,
    /// `AccessDeniedException`.
    pub fn derive_shared_secret<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        req: &DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse> {
        service::derive_shared_secret(&mut self.service(rng, now), req)
    }

    /// GenerateRandom: 1–1024 bytes from `rng`. Allowed for every principal.
    ///
    /// # Errors
    /// `ValidationException` outside 1–1024.
    pub fn generate_random<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: u64,
        number_of_bytes: u32,
    ) -> Result<GenerateRandomResponse> {
        service::generate_random(&mut self.service(rng, now), number_of_bytes)
    }
}

/// The authorization view of a keystore ([`service::authorize`]) for a call
/// at Unix second `.1`, and its view inside the call's writes
/// ([`service::InWrite`]): one call owns the keystore, so what it reads is
/// what the write commits against.
#[derive(Clone, Copy)]
struct Access<'a>(&'a MemKeystore, u64);

impl KeyAccess for Access<'_> {
    type Policy<'p>
        = Cow<'p, Policy>
    where
        Self: 'p;

    fn principal(&self) -> &str {
        self.0.principal()
    }

    fn region(&self) -> &str {
        &self.0.config.region
    }

    fn account(&self) -> &str {
        &self.0.config.account
    }

    fn request_time(&self) -> u64 {
        self.1
    }

    /// An in-memory keystore serves in-process calls only.
    fn source_ip(&self) -> Option<core::net::IpAddr> {
        None
    }

    fn key_policy(&self, rec: &KeyRecord) -> Result<Cow<'_, Policy>> {
        self.0.key_policy(rec)
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        Ok(self.0.aliases_of(key_id))
    }

    type Grants = Vec<Grant>;

    fn grants_of(&self, key_id: &str) -> Result<Vec<Grant>> {
        Ok(self.0.grants_of(key_id))
    }
}

/// One call on a [`MemKeystore`] at `now`, drawing from `rng`.
struct Service<'a, R: ?Sized> {
    ks: &'a mut MemKeystore,
    rng: &'a mut R,
    now: u64,
}

impl<R: CryptoRng + ?Sized> KeyService for Service<'_, R> {
    type Access<'s>
        = Access<'s>
    where
        Self: 's;
    type Key = OwnedKey;
    type Rng = R;

    fn access(&self) -> Access<'_> {
        Access(self.ks, self.now)
    }

    fn grant_token_key(&self) -> &[u8] {
        self.ks.root.grant_token_key()
    }

    fn admin_principal(&self) -> &str {
        &self.ks.admin
    }

    fn read_alias(&mut self, alias_name: &str) -> Result<Option<AliasRecord>> {
        Ok(self.ks.aliases.get(alias_name).cloned())
    }

    fn key_page(&mut self, after: Option<&str>, count: usize) -> Result<Vec<KeyRecord>> {
        Ok(self.ks.keys.after(after).take(count).cloned().collect())
    }

    fn alias_page(
        &mut self,
        after: Option<&str>,
        count: usize,
        target_key_id: Option<&str>,
    ) -> Result<Vec<AliasRecord>> {
        Ok(self
            .ks
            .aliases
            .after(after)
            .filter(|a| target_key_id.is_none_or(|t| t == a.target_key_id))
            .take(count)
            .cloned()
            .collect())
    }

    fn write_alias(
        &mut self,
        alias_name: &str,
        target_key_id: &str,
        mut f: impl FnMut(
            &KeyRecord,
            Option<AliasRecord>,
            Option<&KeyRecord>,
            &dyn service::InWrite,
        ) -> Result<AliasRecord>,
    ) -> Result<()> {
        let ks = &mut *self.ks;
        let id = ks.resolve(target_key_id)?;
        let rec = ks
            .keys
            .get(&id)
            .ok_or_else(|| MemKeystore::not_found(target_key_id))?;
        let existing = ks.aliases.get(alias_name).cloned();
        let old_target = existing
            .as_ref()
            .and_then(|a| ks.keys.get(&a.target_key_id));
        let record = f(rec, existing, old_target, &Access(ks, self.now))?;
        ks.aliases.insert(alias_name.into(), record);
        Ok(())
    }

    fn delete_alias(&mut self, alias_name: &str, check: &service::AliasCheck<'_>) -> Result<()> {
        let alias = self.ks.aliases.get(alias_name);
        let target = alias.and_then(|a| self.ks.keys.get(&a.target_key_id));
        check(alias, target, &Access(self.ks, self.now))?;
        self.ks.aliases.remove(alias_name);
        Ok(())
    }

    fn all_grants(&mut self) -> Result<Vec<(String, Grant)>> {
        Ok(self
            .ks
            .grants
            .iter()
            .map(|(row, g)| (row.split('/').next().unwrap_or_default().into(), g.clone()))
            .collect())
    }

    fn add_grant(
        &mut self,
        key_id: &str,
        grant: &Grant,
        existing: &service::GrantCheck<'_>,
    ) -> Result<String> {
        let rec = self
            .ks
            .keys
            .get(key_id)
            .ok_or_else(|| MemKeystore::not_found(key_id))?;
        if let Some(id) = existing(rec, &Access(self.ks, self.now))? {
            return Ok(id);
        }
        self.ks.stop_if_dry_run()?;
        let row = grant_row_id(key_id, &grant.grant_id);
        self.ks.grants.insert(row, grant.clone());
        Ok(grant.grant_id.clone())
    }

    fn delete_grant(
        &mut self,
        key_id: &str,
        grant_id: &str,
        check: &service::WriteCheck<'_>,
    ) -> Result<()> {
        let rec = self
            .ks
            .keys
            .get(key_id)
            .ok_or_else(|| MemKeystore::not_found(key_id))?;
        check(rec, &Access(self.ks, self.now))?;
        let row = grant_row_id(key_id, grant_id);
        if self.ks.grants.get(&row).is_none() {
            return Err(access::grant_not_found(grant_id));
        }
        self.ks.stop_if_dry_run()?;
        self.ks.grants.remove(&row);
        Ok(())
    }

    fn insert_key(&mut self, rec: KeyRecord) -> Result<()> {
        self.ks.keys.insert(rec.key_id.clone(), rec);
        Ok(())
    }

    fn modify<T: Clone>(
        &mut self,
        key_id: &str,
        check: &service::WriteCheck<'_>,
        mut f: impl FnMut(&Env<'_>, &mut R, &mut KeyRecord) -> Result<T>,
    ) -> Result<T> {
        let mut value = None;
        let result = self.modify_record(key_id, check, &mut |env, rng, rec| {
            value = Some(f(env, rng, rec)?);
            Ok(())
        });
        service::take_value(result, value)
    }

    fn load(&mut self, key_id: &str) -> Result<OwnedKey> {
        self.ks.load(self.rng, self.now, key_id).map(OwnedKey)
    }

    fn with_env<T>(&mut self, f: impl FnOnce(&Env<'_>, &mut R) -> T) -> T {
        f(&self.ks.env(self.now), self.rng)
    }

    fn with_rng<T>(&mut self, f: impl FnOnce(&mut R) -> T) -> T {
        f(self.rng)
    }

    fn call<T>(
        &mut self,
        op: &str,
        params: RequestParameters,
        f: impl FnOnce(&mut Self, &mut Call) -> Result<T>,
    ) -> Result<T> {
        let mut f = Some(f);
        let mut value = None;
        let result = self.run_call(op, params, &mut |s, call| {
            if let Some(f) = f.take() {
                value = Some(f(s, call)?);
            }
            Ok(())
        });
        // In a dry run, `record` turns success into DryRunOperationException;
        // the result (possibly secret) is then dropped, and zeroized if it is.
        service::take_value(result, value)
    }
}

/// The parts of [`KeyService::modify`] and [`KeyService::call`] compiled once,
/// not per operation: the operation's closure hands its value out through
/// what it captures ([`service::take_value`]).
impl<R: CryptoRng + ?Sized> Service<'_, R> {
    fn modify_record(
        &mut self,
        key_id: &str,
        check: &service::WriteCheck<'_>,
        f: &mut service::RecordChange<'_, R>,
    ) -> Result<()> {
        // One call owns the keystore: the record after maintenance is the
        // one `modify` changes.
        let rec = self.ks.load(self.rng, self.now, key_id)?;
        check(&rec, &Access(self.ks, self.now))?;
        self.ks.modify(self.rng, self.now, key_id, f)
    }

    fn run_call(
        &mut self,
        op: &str,
        params: RequestParameters,
        f: &mut dyn FnMut(&mut Self, &mut Call) -> Result<()>,
    ) -> Result<()> {
        let mut call = Call::new(params);
        let result = self
            .ks
            .dry_run_gate(op)
            .and_then(|()| crate::access::check_caller(self.ks.principal()))
            .and_then(|()| f(self, &mut call));
        self.ks
            .record(self.rng, self.now, op, call, result.as_ref().err())?;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::{authorize, InWriteAccess};
    use crate::{EncryptionContext, ErrorKind};

    /// A write's view of the keystore ([`InWriteAccess`] of [`Access`],
    /// which CreateAlias, CreateGrant and the other writes authorize again
    /// with when what they were authorized on changed) decides every call
    /// as the read view ([`Access`]) does: the same decision, error and
    /// audited resources.
    #[test]
    fn a_write_authorizes_as_a_read_does() {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let now = 1_800_000_000;
        let root = RootKey::from_bytes(&[9; 32]).unwrap();
        let mut ks = MemKeystore::new(root, "eu-west-1", "111122223333", now, &mut rng).unwrap();
        let policy = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Deny","Principal":"*","Action":"kms:TagResource","Resource":"*",
             "Condition":{"StringEquals":{"aws:ResourceTag/team":"red"}}},
            {"Effect":"Deny","Principal":"*","Action":"kms:DescribeKey","Resource":"*",
             "Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/x"}}}]}"#;
        let mut keys = Vec::new();
        for policy in [None, Some(policy.into())] {
            let req = CreateKeyRequest {
                policy,
                tags: alloc::vec![Tag {
                    tag_key: "team".into(),
                    tag_value: "red".into(),
                }],
                ..Default::default()
            };
            keys.push(
                ks.create_key(&mut rng, now, &req)
                    .unwrap()
                    .key_metadata
                    .key_id,
            );
            ks.create_alias(
                &mut rng,
                now,
                &alloc::format!("alias/x{}", keys.len()),
                &keys[0],
            )
            .unwrap();
        }
        ks.create_alias(&mut rng, now, "alias/x", &keys[1]).unwrap();
        let mut outcomes = Vec::new();
        for principal in [None, Some("arn:aws:iam::444455556666:user/bob")] {
            ks.act_as(principal);
            for key in &keys {
                let rec = ks.keys.get(key).unwrap();
                for action in ["TagResource", "DescribeKey", "UpdateKeyDescription"] {
                    let read = decide(&Access(&ks, now), action, rec, key);
                    let write = decide(&InWriteAccess::new(&Access(&ks, now)), action, rec, key);
                    assert_eq!(read, write, "{principal:?} {action} {key}");
                    outcomes.push(read.0);
                }
            }
        }
        assert!(outcomes.contains(&Ok(false)));
        assert!(outcomes.contains(&Err(ErrorKind::AccessDeniedException)));
    }

    /// [`authorize`] through either view: the outcome (whether a grant
    /// allowed it) and the audit record's resources.
    fn decide<K: KeyAccess + ?Sized>(
        access: &K,
        action: &str,
        rec: &KeyRecord,
        key: &str,
    ) -> (core::result::Result<bool, ErrorKind>, Vec<String>) {
        let mut call = Call::new(RequestParameters::default());
        let ctx = EncryptionContext::default();
        let r = authorize(access, &mut call, action, rec, key, &ctx, &|r| r);
        (r.map(|g| g.is_some()).map_err(|e| e.kind()), call.resources)
    }
}
