//! Callers and authorization: the principal a [`Keystore`] acts for, what
//! [`strongroom_core::service::authorize`] (the one place where a key policy
//! and grants are evaluated, shared with `MemKeystore`) reads from the
//! keystore, and the per-call wrapper that writes exactly one audit event
//! for every operation.
//!
//! # Which operations are authorized how
//!
//! - Operations on a key evaluate the key's policy (the default key policy
//!   when none was set) with the condition keys of the table in
//!   [`strongroom_core::policy`], plus the key's grants for the operations a
//!   grant can allow. An explicit `Deny` wins; otherwise an `Allow` from the
//!   policy or a grant permits the request; otherwise `AccessDeniedException`.
//! - `ReEncrypt` is authorized as `ReEncryptFrom` on the source key and
//!   `ReEncryptTo` on the destination key.
//! - `CreateKey`, `ListKeys`, `ListAliases`, `GenerateRandom` and
//!   `ListRetirableGrants` have no key resource; AWS KMS authorizes them
//!   with IAM policies only. Strongroom has no IAM: these are allowed for
//!   every principal (the embedding application decides who may call them)
//!   and are audited like every other operation. The key policy given to
//!   `CreateKey` is still checked by the lockout safety check.
//! - `RetireGrant` is allowed for the principals of
//!   [`strongroom_core::grant::may_retire`], or when the key policy allows
//!   `kms:RetireGrant`.

use std::sync::Arc;

use strongroom_core::access;
pub(crate) use strongroom_core::access::Call;
use strongroom_core::audit::RequestParameters;
use strongroom_core::grant::Grant;
use strongroom_core::key::KeyRecord;
use strongroom_core::policy::Policy;
use strongroom_core::service::{KeyAccess, SharedPolicy};
use strongroom_core::Result;

use crate::store::{Row, Table};
use crate::{from_json, os_rng, to_json, Keystore};

/// Bytes of OS randomness drawn at once for audit event IDs.
const ID_POOL: usize = 1024;

/// OS randomness for the `requestID` and `eventID` of audit events, drawn
/// [`ID_POOL`] bytes at a time: one `getrandom` per 32 events instead of one
/// per event. The IDs are published in the log, so the pool holds nothing
/// secret; it is refilled when the process ID changes, so a forked child
/// never repeats its parent's IDs.
struct IdPool {
    bytes: [u8; ID_POOL],
    used: usize,
    pid: u32,
}

thread_local! {
    static ID_POOL_OF_THREAD: std::cell::RefCell<IdPool> = const {
        std::cell::RefCell::new(IdPool { bytes: [0; ID_POOL], used: ID_POOL, pid: 0 })
    };
}

/// 32 fresh random bytes for [`AuditEvent::new`]; `pid` is the calling
/// process's ID ([`std::process::id`], which the caller has read already:
/// it is a system call), for the pool's fork check.
pub(crate) fn audit_id_bytes(pid: u32) -> [u8; 32] {
    ID_POOL_OF_THREAD.with(|p| {
        let mut p = p.borrow_mut();
        if p.used + 32 > ID_POOL || p.pid != pid {
            rand_core::Rng::fill_bytes(&mut os_rng(), &mut p.bytes);
            p.used = 0;
            p.pid = pid;
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(&p.bytes[p.used..p.used + 32]);
        p.used += 32;
        out
    })
}

/// The operations that take `DryRun` in AWS KMS, and so may run on a
/// [`Keystore::dry_run`] handle.
pub use strongroom_core::access::DRY_RUN_OPERATIONS;

impl Keystore {
    /// The same keystore acting for `principal` (an ARN such as
    /// `arn:aws:iam::111122223333:user/app`): every operation on the clone is
    /// authorized for, and audited as, that principal. Cheap: the clone
    /// shares the connection and keys.
    pub fn as_principal(&self, principal: &str) -> Keystore {
        Keystore {
            inner: self.inner.clone(),
            principal: Some(Arc::from(principal)),
            dry_run: self.dry_run,
            source_ip: self.source_ip,
        }
    }

    /// [`as_principal`](Self::as_principal) with `principal` checked at
    /// once, by the rule every operation applies to the principal it acts
    /// for ([`strongroom_core::access::check_caller`]: 1 to 256 characters,
    /// the ARN of an account root, an IAM user or role, an assumed role or a
    /// federated user; no wildcard, not a bare account ID). The bindings'
    /// `as_principal` / `sr_keystore_as_principal()` / `asPrincipal` call
    /// this, so that a malformed principal fails where it is given rather
    /// than on every later call through the handle.
    ///
    /// # Errors
    /// `ValidationException` ("the caller principal … is not a principal
    /// ARN …" or "… must be 1 to 256 characters"); nothing is audited.
    pub fn try_as_principal(&self, principal: &str) -> Result<Keystore> {
        access::check_caller(principal)?;
        Ok(self.as_principal(principal))
    }

    /// The same keystore answering requests that came from the network
    /// address `ip`: key policies see it as the condition key
    /// `aws:SourceIp` (`IpAddress`/`NotIpAddress` conditions). A handle
    /// without one (every in-process caller) leaves the key absent, so an
    /// `IpAddress` condition does not hold and a `NotIpAddress` one does, as
    /// IAM evaluates a missing key. `strongroom serve` sets the TCP peer's
    /// address. Cheap: the handle shares the connection and keys, and keeps
    /// the principal and [`dry_run`](Self::dry_run).
    pub fn with_source_ip(&self, ip: std::net::IpAddr) -> Keystore {
        Keystore {
            inner: self.inner.clone(),
            principal: self.principal.clone(),
            dry_run: self.dry_run,
            source_ip: Some(ip),
        }
    }

    /// The address given to [`with_source_ip`](Self::with_source_ip), if any.
    pub fn source_ip(&self) -> Option<std::net::IpAddr> {
        self.source_ip
    }

    /// The same keystore with KMS's `DryRun` set on every request: an
    /// operation runs every check it would run — key lookup, key state,
    /// key policy and grants, grant tokens, parameter validation — and
    /// then, instead of its result, fails with `DryRunOperationException`
    /// ("the request would have succeeded"), or with the error the real
    /// call would have returned. The request changes nothing: a dry-run
    /// `CreateGrant`, `RetireGrant` or `RevokeGrant` rolls its write back.
    /// (Time-driven maintenance that any access to a key triggers — the
    /// purge of a key past its deletion date, a due automatic rotation, the
    /// expiry of imported material — still happens, as it would on the
    /// next access by any handle.) Each call is
    /// audited, with `errorCode` `DryRunOperationException` when it would
    /// have succeeded, as CloudTrail records dry runs.
    ///
    /// Only the operations that have a `DryRun` parameter in AWS KMS
    /// ([`DRY_RUN_OPERATIONS`]) accept it; any other operation on a dry-run
    /// handle fails with `ValidationException` without running. Cheap: the
    /// handle shares the connection and keys, and keeps the principal.
    pub fn dry_run(&self) -> Keystore {
        Keystore {
            inner: self.inner.clone(),
            principal: self.principal.clone(),
            dry_run: true,
            source_ip: self.source_ip,
        }
    }

    /// Whether this handle came from [`dry_run`](Self::dry_run).
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Fails with `DryRunOperationException` on a dry-run handle: called by
    /// operations that write, inside their write transaction after every
    /// check passed, so the transaction rolls back.
    ///
    /// # Errors
    /// `DryRunOperationException` when [`is_dry_run`](Self::is_dry_run).
    pub(crate) fn stop_if_dry_run(&self) -> Result<()> {
        if self.dry_run {
            Err(access::dry_run_succeeded())
        } else {
            Ok(())
        }
    }

    /// The principal this handle acts for: the one given to
    /// [`as_principal`](Self::as_principal), else the keystore's administrator.
    pub fn principal(&self) -> &str {
        self.principal
            .as_deref()
            .unwrap_or(&self.inner.config.admin_principal)
    }

    /// The keystore's administrator principal, which the default key policy
    /// allows `kms:*` (default `arn:aws:iam::<account>:root`, which covers
    /// every principal of the account, as KMS's default key policy does).
    pub fn admin_principal(&self) -> &str {
        &self.inner.config.admin_principal
    }

    /// Runs one operation and appends its audit event (success or failure).
    /// If the event cannot be written, the operation fails, unless it is a
    /// management operation and a change of it committed: its caller is
    /// then told its own outcome (a KMS
    /// client takes an error for "nothing changed" and retries), the
    /// change's intent record is in the log, and the event is kept to be
    /// written before this handle's next call
    /// ([`AuditSink::retain_outcome`](crate::audit_log::AuditSink)).
    pub(crate) fn call<T>(
        &self,
        op: &str,
        params: RequestParameters,
        f: impl FnOnce(&mut Call) -> Result<T>,
    ) -> Result<T> {
        // In a forked child nothing runs, and nothing is audited (the
        // handle's connections and audit state are its parent's).
        let pid = self.inner.audit.check_process()?;
        // The event's IDs are fixed before the operation runs: a row change
        // it commits is preceded by its intent record, which names them
        // (`docs/FORMAT.md`, "Intent records").
        let random = audit_id_bytes(pid);
        let durable = crate::audit_log::durable_event(op);
        let scope = crate::audit_log::CallScope::enter(op, random, durable.then(|| params.clone()));
        let mut call = Call::new(params);
        let result = if let Err(e) = access::check_caller(self.principal()) {
            Err(e)
        } else if !self.dry_run {
            f(&mut call)
        } else if !DRY_RUN_OPERATIONS.contains(&op) {
            Err(access::dry_run_refused(op, "on a handle without dry_run()"))
        } else {
            // The result (possibly secret) is dropped, and zeroized if it is.
            f(&mut call).and_then(|_| Err(access::dry_run_succeeded()))
        };
        let committed = scope.committed();
        drop(scope);
        let millis = self.inner.clock.now().saturating_mul(1000);
        let error = result.as_ref().err();
        let event = call.event(op, self.principal(), millis, random, self.account(), error);
        if let Err(e) = self.append_audit(&event, durable, pid) {
            // A read-only operation's result is still withheld: a change
            // it committed is due maintenance (a purge, a rotation), which
            // a retry finds done.
            if !committed || !durable {
                return Err(e);
            }
            self.inner
                .audit
                .retain_outcome(event.to_canonical_record(), &e);
        }
        result
    }

    /// Checks the grant tokens of a request: at most 10, each authentic.
    ///
    /// # Errors
    /// `ValidationException` for more than 10, `InvalidGrantTokenException`.
    pub(crate) fn check_grant_tokens(&self, tokens: &[String]) -> Result<()> {
        access::check_grant_tokens(self.inner.root.grant_token_key(), tokens)
    }

    /// The key's parsed policy: the default policy, the one parsed when the
    /// record was cached, or parsed now.
    fn key_policy(&self, rec: &KeyRecord) -> Result<Arc<Policy>> {
        match &rec.policy {
            None => Ok(self.inner.default_policy.clone()),
            Some(text) => {
                if let Some(p) = self
                    .inner
                    .cache
                    .key(&rec.key_id)
                    .filter(|c| c.rec.policy.as_deref() == Some(text.as_str()))
                    .and_then(|c| c.policy.clone())
                {
                    return Ok(p);
                }
                Ok(access::stored_policy(rec)?
                    .map_or_else(|| self.inner.default_policy.clone(), Arc::new))
            }
        }
    }

    /// The alias names that point at `key_id`.
    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.inner.storage.read(&mut |tx| {
            out = self.aliases_in(tx, key_id)?;
            Ok(())
        })?;
        Ok(out)
    }

    /// The names of the aliases that point at `key_id` (a key ID), read in
    /// `tx`, in name order.
    pub(crate) fn aliases_in(
        &self,
        tx: &mut dyn crate::store::Tx,
        key_id: &str,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = tx.list(Table::Aliases, after.as_deref(), 1000)?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for row in &rows {
                let a = self.parse_alias_row(row)?;
                if a.target_key_id == key_id {
                    out.push(a.alias_name);
                }
            }
        }
        Ok(out)
    }

    // ---- grant rows ------------------------------------------------------

    pub(crate) fn grant_row(&self, key_id: &str, g: &Grant) -> Result<Row> {
        let id = grant_row_id(key_id, &g.grant_id);
        let body = to_json(g)?;
        Ok(Row {
            tag: self.mac_row(b"grant", &id, &body)?,
            id,
            body,
        })
    }

    pub(crate) fn parse_grant_row(&self, row: &Row) -> Result<Grant> {
        if !self.verify_row(b"grant", row) {
            return Err(crate::auth_failed(&format!("grant {}", row.id)));
        }
        let g: Grant = from_json(&row.body, "grant")?;
        if !row.id.ends_with(&format!("/{}", g.grant_id)) {
            return Err(crate::auth_failed(&format!("grant {}", row.id)));
        }
        Ok(g)
    }

    /// Every grant of `key_id` (a key ID, not an ARN), in grant ID order:
    /// from the record cache when it is fresh, else read, authenticated and
    /// cached (as key records are, [`crate::cache`]).
    pub(crate) fn grants_of(&self, key_id: &str) -> Result<Arc<[Grant]>> {
        let generation = self.fresh_cache()?;
        let cache = &self.inner.cache;
        if let Some(hit) = generation.and_then(|_| cache.grants(key_id)) {
            return Ok(hit);
        }
        let mut out = Vec::new();
        self.inner.storage.read(&mut |tx| {
            out = self.grants_in(tx, key_id)?;
            Ok(())
        })?;
        let out: Arc<[Grant]> = out.into();
        if let Some(g) = generation {
            cache.insert_grants(g, key_id, &out);
        }
        Ok(out)
    }

    pub(crate) fn grants_in(
        &self,
        tx: &mut dyn crate::store::Tx,
        key_id: &str,
    ) -> Result<Vec<Grant>> {
        let (mut after, before) = crate::grant_range(key_id);
        let mut out = Vec::new();
        loop {
            let rows = tx.list_range(Table::Grants, &after, &before, 1000)?;
            let Some(last) = rows.last() else { break };
            after = last.id.clone();
            for row in &rows {
                out.push(self.parse_grant_row(row)?);
            }
        }
        Ok(out)
    }
}

pub(crate) use strongroom_core::grant::grant_row_id;

/// A keystore as a write sees it inside its transaction `tx`: the grants
/// and aliases it reads there, each row checked by the integrity state and
/// each listing complete ([`crate::integrity::IntegrityTx`]), and the
/// handle's principal, clock, source address and parsed key policies.
pub(crate) struct TxReads<'a> {
    ks: &'a Keystore,
    tx: std::cell::RefCell<&'a mut dyn crate::store::Tx>,
}

impl<'a> TxReads<'a> {
    /// The reads of `ks`'s write in `tx`.
    pub(crate) fn new(ks: &'a Keystore, tx: &'a mut dyn crate::store::Tx) -> Self {
        TxReads {
            ks,
            tx: std::cell::RefCell::new(tx),
        }
    }
}

impl strongroom_core::service::InWrite for TxReads<'_> {
    fn grants_of(&self, key_id: &str) -> Result<Vec<Grant>> {
        self.ks.grants_in(&mut **self.tx.borrow_mut(), key_id)
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        self.ks.aliases_in(&mut **self.tx.borrow_mut(), key_id)
    }

    fn principal(&self) -> &str {
        self.ks.principal()
    }

    fn region(&self) -> &str {
        self.ks.region()
    }

    fn account(&self) -> &str {
        self.ks.account()
    }

    fn request_time(&self) -> u64 {
        self.ks.inner.clock.now()
    }

    fn source_ip(&self) -> Option<std::net::IpAddr> {
        self.ks.source_ip
    }

    fn key_policy(&self, rec: &KeyRecord) -> Result<SharedPolicy<'_>> {
        Ok(SharedPolicy(Box::new(self.ks.key_policy(rec)?)))
    }
}

/// A keystore handle as the operation flows of [`strongroom_core::service`]
/// see it (a private type, so that its unaudited reads stay in the crate).
#[derive(Clone, Copy)]
pub(crate) struct Service<'a>(pub &'a Keystore);

impl KeyAccess for Service<'_> {
    type Policy<'p>
        = Arc<Policy>
    where
        Self: 'p;

    fn principal(&self) -> &str {
        self.0.principal()
    }

    fn region(&self) -> &str {
        self.0.region()
    }

    fn account(&self) -> &str {
        self.0.account()
    }

    fn request_time(&self) -> u64 {
        self.0.inner.clock.now()
    }

    fn source_ip(&self) -> Option<std::net::IpAddr> {
        self.0.source_ip
    }

    fn key_policy(&self, rec: &KeyRecord) -> Result<Arc<Policy>> {
        self.0.key_policy(rec)
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        self.0.aliases_of(key_id)
    }

    type Grants = Arc<[Grant]>;

    fn grants_of(&self, key_id: &str) -> Result<Arc<[Grant]>> {
        self.0.grants_of(key_id)
    }
}
