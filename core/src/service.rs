//! Each KMS operation's flow, written once for every keystore: check the
//! grant tokens, load the key (by key ID, key ARN, alias name or alias ARN
//! for the cryptographic operations, DescribeKey and GetPublicKey, by key
//! ID or key ARN only for the others, as in KMS; for
//! Decrypt and ReEncrypt the key named in the ciphertext blob),
//! authorize the call with the operation's condition keys ([`crate::access`]),
//! do the cryptographic work ([`crate::ops`], [`crate::asym`]), and let the
//! keystore's audit wrapper record the outcome.
//!
//! A keystore takes part by implementing two small traits with what really
//! differs between keystores:
//!
//! - [`KeyAccess`]: the acting principal, the region and account, a key's
//!   parsed policy, the aliases and grants of a key. [`authorize`] decides a
//!   call with them, including the fast path for a policy without
//!   conditions (such as the default key policy): an `Allow` on the
//!   principal, action and resource alone needs no condition values, alias
//!   lookups or grants.
//! - [`KeyService`]: loading a key record for use (with the keystore's
//!   purges, due rotations and expiries of imported material), the
//!   environment ([`Env`]) and randomness, and the audit wrapper
//!   [`KeyService::call`] (which also applies the keystore's `DryRun`).
//!
//! The native `strongroom::Keystore` and [`crate::memstore::MemKeystore`]
//! both call the functions of this module, so a principal gets the same
//! answer, the same error and the same audit event from both. Each
//! operation function returns the errors its keystore methods document
//! (for example [`MemKeystore::encrypt`](crate::memstore::MemKeystore::encrypt)):
//! those of the [`crate::ops`] / [`crate::asym`] function it calls, of
//! [`KeyService::load`], [`authorize`] and the grant token check.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Deref;

use rand_core::CryptoRng;

use crate::access::{self, Call, GrantsWanted};
use crate::api::*;
use crate::asym;
use crate::audit::RequestParameters;
use crate::context::EncryptionContext;
use crate::error::{Error, ErrorKind, Result};
use crate::grant::{grant_token, is_retiring_principal, may_retire, validate_grant_id, Grant};
use crate::key::{
    alias_arn, validate_alias_name, AliasRecord, EncryptionAlgorithm, KeyIdentifier, KeyRecord,
    KeySpec, KeyState,
};
use crate::ops::{self, Env};
use crate::paging::{
    decode_alias_marker, decode_key_marker, encode_marker, limit_within, page_limit,
    paginate_index, paginate_index_within, LIST_ALIASES, LIST_GRANTS,
};
use crate::policy::{self, Decision, Policy, PolicyRequest};

/// Adds an operation's condition keys to a policy request (a trait object,
/// so that authorization is compiled once for every operation).
pub type Conditions<'c> = dyn for<'a> Fn(PolicyRequest<'a>) -> PolicyRequest<'a> + 'c;

/// A key record loaded for one operation (owned, or shared with a cache).
pub trait LoadedKey: Deref<Target = KeyRecord> {
    /// The key's public key as DER SubjectPublicKeyInfo.
    type PublicKey: AsRef<[u8]>;

    /// The public key of an asymmetric key
    /// ([`asym::record_public_key`]); a keystore may keep it once derived.
    ///
    /// # Errors
    /// Those of [`asym::record_public_key`].
    fn public_key(&self, env: &Env<'_>) -> Result<Self::PublicKey>;
}

/// A key record owned by the caller, for keystores without a record cache.
#[derive(Clone, Debug)]
pub struct OwnedKey(pub KeyRecord);

impl Deref for OwnedKey {
    type Target = KeyRecord;
    fn deref(&self) -> &KeyRecord {
        &self.0
    }
}

impl LoadedKey for OwnedKey {
    type PublicKey = Vec<u8>;
    fn public_key(&self, env: &Env<'_>) -> Result<Vec<u8>> {
        asym::record_public_key(env, &self.0)
    }
}

/// The check [`KeyService::add_grant`] runs inside its transaction, with the
/// key record as stored and the keystore's grants and aliases as that
/// transaction reads them: `Ok(Some(id))` for an equivalent existing grant
/// (returned instead of adding), `Ok(None)` to add the new grant, an error
/// to write nothing.
pub type GrantCheck<'a> = dyn Fn(&KeyRecord, &dyn InWrite) -> Result<Option<String>> + 'a;

/// The check [`KeyService::delete_alias`] runs inside its transaction, with
/// the alias as it is then (`None` when there is none), the key record
/// it points at then, as stored (`None` when there is no alias or no such
/// key), and the keystore's grants and aliases as that transaction reads
/// them: an error writes nothing.
pub type AliasCheck<'a> =
    dyn Fn(Option<&AliasRecord>, Option<&KeyRecord>, &dyn InWrite) -> Result<()> + 'a;

/// The check a key write runs inside its transaction ([`KeyService::modify`],
/// [`KeyService::delete_grant`]), with the key record as stored then and the
/// keystore's grants and aliases as that transaction reads them: an error
/// writes nothing.
pub type WriteCheck<'a> = dyn Fn(&KeyRecord, &dyn InWrite) -> Result<()> + 'a;

/// A keystore as a write sees it inside its own transaction: the grants and
/// alias names that transaction reads (a keystore that checks what its
/// writes read, as the native keystore's integrity state does, checks these
/// reads too) and the rest of what [`authorize`] asks ([`KeyAccess`]). A
/// write re-checks with it an authorization made in an earlier read
/// ([`Authorization::holds`]) and, when that no longer holds, authorizes the
/// call again on what the transaction reads ([`InWriteAccess`]), so that
/// its decision is the one a new call would reach on the state the write
/// commits against.
pub trait InWrite {
    /// Every grant of `key_id` (a key ID), in grant ID order.
    ///
    /// # Errors
    /// `KMSInternalException` on storage or authentication failure.
    fn grants_of(&self, key_id: &str) -> Result<Vec<Grant>>;

    /// The names of the aliases that point at `key_id` (a key ID).
    ///
    /// # Errors
    /// `KMSInternalException` on storage or authentication failure.
    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>>;

    /// [`KeyAccess::principal`].
    fn principal(&self) -> &str;

    /// [`KeyAccess::region`].
    fn region(&self) -> &str;

    /// [`KeyAccess::account`].
    fn account(&self) -> &str;

    /// [`KeyAccess::request_time`] (Unix seconds).
    fn request_time(&self) -> u64;

    /// [`KeyAccess::source_ip`].
    fn source_ip(&self) -> Option<core::net::IpAddr>;

    /// [`KeyAccess::key_policy`]: the parsed policy of `rec`, its own or the
    /// default key policy.
    ///
    /// # Errors
    /// `KMSInternalException` when the stored policy does not parse.
    fn key_policy(&self, rec: &KeyRecord) -> Result<SharedPolicy<'_>>;
}

/// Every [`KeyAccess`] whose grants come as a `Vec` is what it reads inside
/// a write (a keystore whose reads are those of the state a write commits
/// against, such as one a call owns, or a test double). A view with `Vec`
/// grants that reads *outside* the write's transaction must not be handed
/// to a write: the re-checks made through it would run on stale state.
impl<K: KeyAccess<Grants = Vec<Grant>> + ?Sized> InWrite for K {
    fn grants_of(&self, key_id: &str) -> Result<Vec<Grant>> {
        KeyAccess::grants_of(self, key_id)
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        KeyAccess::aliases_of(self, key_id)
    }

    fn principal(&self) -> &str {
        KeyAccess::principal(self)
    }

    fn region(&self) -> &str {
        KeyAccess::region(self)
    }

    fn account(&self) -> &str {
        KeyAccess::account(self)
    }

    fn request_time(&self) -> u64 {
        KeyAccess::request_time(self)
    }

    fn source_ip(&self) -> Option<core::net::IpAddr> {
        KeyAccess::source_ip(self)
    }

    fn key_policy(&self, rec: &KeyRecord) -> Result<SharedPolicy<'_>> {
        Ok(SharedPolicy(alloc::boxed::Box::new(KeyAccess::key_policy(
            self, rec,
        )?)))
    }
}

/// A parsed key policy as [`InWrite::key_policy`] hands it out: owned, or
/// shared with the keystore (whatever derefs to it, boxed).
pub struct SharedPolicy<'p>(pub alloc::boxed::Box<dyn Deref<Target = Policy> + 'p>);

impl Deref for SharedPolicy<'_> {
    type Target = Policy;
    fn deref(&self) -> &Policy {
        &self.0
    }
}

impl core::fmt::Debug for SharedPolicy<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("SharedPolicy").field(&**self).finish()
    }
}

/// [`authorize`]'s view of a keystore inside a write: what [`InWrite`] reads
/// in the write's transaction, and the grants of one key when the write has
/// read them already (CreateGrant, which reads them once in its write).
#[derive(Clone, Copy)]
pub struct InWriteAccess<'a> {
    reads: &'a dyn InWrite,
    known: Option<(&'a str, &'a [Grant])>,
}

impl<'a> InWriteAccess<'a> {
    /// What `reads` reads.
    pub fn new(reads: &'a dyn InWrite) -> Self {
        InWriteAccess { reads, known: None }
    }

    /// What `reads` reads, but the grants of `key_id` (a key ID), which
    /// are `grants`, the write having read them (not read again).
    pub(crate) fn with_grants(
        reads: &'a dyn InWrite,
        key_id: &'a str,
        grants: &'a [Grant],
    ) -> Self {
        InWriteAccess {
            reads,
            known: Some((key_id, grants)),
        }
    }
}

impl core::fmt::Debug for InWriteAccess<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InWriteAccess").finish_non_exhaustive()
    }
}

impl KeyAccess for InWriteAccess<'_> {
    type Policy<'p>
        = SharedPolicy<'p>
    where
        Self: 'p;

    fn principal(&self) -> &str {
        self.reads.principal()
    }

    fn region(&self) -> &str {
        self.reads.region()
    }

    fn account(&self) -> &str {
        self.reads.account()
    }

    fn request_time(&self) -> u64 {
        self.reads.request_time()
    }

    fn source_ip(&self) -> Option<core::net::IpAddr> {
        self.reads.source_ip()
    }

    fn key_policy(&self, rec: &KeyRecord) -> Result<SharedPolicy<'_>> {
        self.reads.key_policy(rec)
    }

    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>> {
        self.reads.aliases_of(key_id)
    }

    type Grants = Vec<Grant>;

    fn grants_of(&self, key_id: &str) -> Result<Vec<Grant>> {
        match self.known {
            Some((known, grants)) if known == key_id => Ok(grants.to_vec()),
            _ => self.reads.grants_of(key_id),
        }
    }
}

/// What a call was authorized on, in a read before its write: the key
/// record `R` (shared with the loaded key, not copied; all of it counts but
/// what no authorization reads: its description, its `generation` counter,
/// and its tags unless the key policy tests an `aws:ResourceTag/`
/// condition key), the grants that allowed it when the key policy did not,
/// and the alias state the policy's conditions saw (`kms:ResourceAliases`;
/// no write takes an alias, so no write's request has `kms:RequestAlias`).
/// The write checks inside its own transaction that all of it still holds
/// ([`holds`](Self::holds)), so that a change committed in between, or a
/// row put back in (or deleted from) the file and read by the earlier
/// check, cannot authorize it.
#[derive(Clone, Debug)]
pub struct Authorization<R> {
    key: R,
    parents: Option<Vec<Grant>>,
    aliases: ConditionsSeen,
}

impl<R: Deref<Target = KeyRecord>> Authorization<R> {
    /// The key record the call was authorized on.
    pub fn key(&self) -> &KeyRecord {
        &self.key
    }

    /// Whether the authorization still holds for `now`, the key record the
    /// write reads (`None`: no such key): the same record in all that an
    /// authorization reads (see the type); each grant that allowed the call
    /// among the key's grants read by `reads`; the key's aliases read by
    /// `reads` giving the alias condition keys the values the policy saw.
    ///
    /// # Errors
    /// Those of `reads`.
    pub fn holds(&self, now: Option<&KeyRecord>, reads: &dyn InWrite) -> Result<bool> {
        let Some(now) = now else { return Ok(false) };
        if !same_for_authorization(&self.key, now, self.aliases.resource_tags) {
            return Ok(false);
        }
        if let Some(parents) = &self.parents {
            let grants = reads.grants_of(&now.key_id)?;
            if !parents
                .iter()
                .all(|p| grants.iter().any(|g| g.grant_id == p.grant_id))
            {
                return Ok(false);
            }
        }
        if self.aliases.any() {
            let aliases = reads.aliases_of(&now.key_id)?;
            if !self.aliases.still_hold(Some(&aliases)) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Inside a write whose re-check found that what the call was authorized
/// on changed ([`Authorization::holds`]): authorizes the call again with
/// `authorize` on what the write's transaction reads (`reads`), as a new
/// call would be on the state the write commits against, so that a writer
/// is never sent back to start over (where writers changing the key in a
/// tight loop could starve it) and a change that revoked its permission
/// fails it (`AccessDeniedException`). The key ARNs the attempt recorded
/// in `call` since `mark` are dropped first, so that `authorize` records
/// them as a new call does. A key among `keys` that is due for purge at
/// the request time ([`ops::is_due_for_purge`]), which a new call's load
/// would purge first, sends the call back to be authorized from the start
/// instead (`KMSInternalException`, "retry", noted in `stale` for
/// [`retry_stale`]).
///
/// # Errors
/// `authorize`'s; `KMSInternalException` as above.
fn reauthorize(
    stale: &Stale,
    call: &core::cell::RefCell<&mut Call>,
    mark: usize,
    reads: &dyn InWrite,
    keys: &[Option<&KeyRecord>],
    authorize: impl FnOnce(&InWriteAccess<'_>, &mut Call) -> Result<()>,
) -> Result<()> {
    let now = reads.request_time();
    if keys.iter().flatten().any(|k| ops::is_due_for_purge(k, now)) {
        return stale.note(Err(changed_during_request()));
    }
    // A check that runs again (a keystore retrying its transaction) must
    // not be taken for a stale one by an earlier run's note.
    stale.note(Ok(()))?;
    let mut call = call.borrow_mut();
    call.resources.truncate(mark);
    authorize(&InWriteAccess::new(reads), &mut call)
}

/// The error of a write whose authorization no longer holds.
fn changed_during_request() -> Error {
    Error::internal(
        "the key, its policy, its aliases or the grants that allowed this call changed during the request; retry",
    )
}

/// The value a closure handed to a function compiled once (taking
/// `&mut dyn FnMut(..) -> Result<()>`, not one instance per result type)
/// left in `slot`: `result`'s error, else the value, which the closure
/// set when it succeeded.
///
/// # Errors
/// `result`'s; `KMSInternalException` if the closure never produced a value.
pub(crate) fn take_value<T>(result: Result<()>, slot: Option<T>) -> Result<T> {
    result?;
    slot.ok_or_else(|| Error::internal("the operation produced no result"))
}

/// A change of a key record whose value, if any, the closure hands out
/// through what it captures ([`take_value`]): what the functions compiled
/// once per keystore rather than per operation take.
pub(crate) type RecordChange<'f, R> =
    dyn FnMut(&Env<'_>, &mut R, &mut KeyRecord) -> Result<()> + 'f;

/// [`KeyService::modify_authorized`] with `f`'s value handed out through
/// what it captures, compiled once per keystore rather than per operation.
fn modify_authorized_record<S: KeyService + ?Sized>(
    ks: &mut S,
    call: &mut Call,
    action: &str,
    key_id: &str,
    build: &Conditions<'_>,
    f: &mut RecordChange<'_, S::Rng>,
) -> Result<()> {
    retry_stale(|stale| {
        let mark = call.resources.len();
        let checked = ks.load(key_id)?;
        let authorized = authorize_for_write(
            &ks.access(),
            call,
            action,
            checked,
            key_id,
            &no_context(),
            build,
        )?;
        let call = core::cell::RefCell::new(&mut *call);
        let check = |now: &KeyRecord, reads: &dyn InWrite| {
            if authorized.holds(Some(now), reads)? {
                return Ok(());
            }
            reauthorize(stale, &call, mark, reads, &[Some(now)], |access, call| {
                check_authorized(access, call, action, now, key_id, &no_context(), build)
            })
        };
        ks.modify(key_id, &check, &mut *f)
    })
}

/// Whether the last write sent the call back to start over ([`reauthorize`]:
/// a key that became due for purge after it was authorized), which
/// [`retry_stale`] retries.
#[derive(Default)]
struct Stale(core::cell::Cell<bool>);

impl Stale {
    /// `check` (a re-check of an authorization inside a write), noting
    /// whether it failed.
    ///
    /// # Errors
    /// `check`'s.
    fn note(&self, check: Result<()>) -> Result<()> {
        self.0.set(check.is_err());
        check
    }
}

/// Runs `attempt` (authorize, then write with the authorization re-checked,
/// and if need be made again, inside the write: [`reauthorize`]) again
/// while it fails only because it was sent back to start over
/// ([`Stale::note`]), up to [`MODIFY_ATTEMPTS`] times in all. A write
/// whose authorization no longer holds is authorized again inside its own
/// transaction, so that this happens only for a key that became due for
/// purge in between (whose purge a new attempt's load commits).
///
/// # Errors
/// The last attempt's.
fn retry_stale<T>(mut attempt: impl FnMut(&Stale) -> Result<T>) -> Result<T> {
    let mut n = 1;
    loop {
        let stale = Stale::default();
        let result = attempt(&stale);
        if result.is_ok() || !stale.0.get() || n == MODIFY_ATTEMPTS {
            return result;
        }
        n += 1;
    }
}

/// How many times a write authorized in an earlier read starts over when
/// its transaction sends it back (a key that became due for purge in
/// between, which the next attempt's load purges) before it fails. A
/// concurrent change of what it was authorized on does not send it back:
/// it is authorized again inside the write, on what the write reads
/// ([`InWrite`]).
pub const MODIFY_ATTEMPTS: u32 = 32;

/// What [`authorize`] needs from a keystore.
pub trait KeyAccess {
    /// A parsed key policy, owned or borrowed.
    type Policy<'p>: Deref<Target = Policy>
    where
        Self: 'p;

    /// The principal the call acts for.
    fn principal(&self) -> &str;

    /// The region in the keystore's ARNs.
    fn region(&self) -> &str;

    /// The account ID in the keystore's ARNs.
    fn account(&self) -> &str;

    /// The time of the request, in Unix seconds: the policy condition keys
    /// `aws:CurrentTime` and `aws:EpochTime` ([`access::request_globals`]).
    fn request_time(&self) -> u64;

    /// The address the request came from, the condition key `aws:SourceIp`:
    /// known when a network endpoint passes its peer's address on; `None`
    /// for an in-process call (then the key is absent from the request).
    fn source_ip(&self) -> Option<core::net::IpAddr>;

    /// The key's parsed policy: its own, or the default key policy when it
    /// has none.
    ///
    /// # Errors
    /// `KMSInternalException` when the stored policy does not parse
    /// ([`access::stored_policy`]).
    fn key_policy(&self, rec: &KeyRecord) -> Result<Self::Policy<'_>>;

    /// The alias names that point at `key_id` (a key ID).
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn aliases_of(&self, key_id: &str) -> Result<Vec<String>>;

    /// The grants of a key, owned or shared.
    type Grants: Deref<Target = [Grant]>;

    /// Every grant of `key_id` (a key ID), in grant ID order.
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn grants_of(&self, key_id: &str) -> Result<Self::Grants>;
}

/// Authorizes `action` (a KMS operation name, e.g. `Encrypt`,
/// `ReEncryptFrom`) on `rec`, named by the caller as `requested_as`, for
/// the principal of `ks`. Records the key ARN as a resource of `call` first,
/// so a denied call's event names the key. Sets the condition keys every key
/// operation has ([`access::key_request`], `kms:ResourceAliases` when the
/// policy can ask for it); `build` adds the operation's own. Grants are
/// consulted for grant operations, with `grant_context` checked against
/// their constraints. Returns `None` when the key policy allowed the call,
/// `Some(grants)` when only these grants did ([`access::decide`]).
///
/// # Errors
/// `AccessDeniedException`; `KMSInternalException` on storage failure or a
/// stored policy that does not parse.
pub fn authorize<K: KeyAccess + ?Sized>(
    ks: &K,
    call: &mut Call,
    action: &str,
    rec: &KeyRecord,
    requested_as: &str,
    grant_context: &EncryptionContext,
    build: &Conditions<'_>,
) -> Result<Option<Vec<Grant>>> {
    let wanted = GrantsWanted::All;
    authorize_seeing_aliases(
        ks,
        call,
        action,
        rec,
        requested_as,
        grant_context,
        build,
        wanted,
    )
    .map(|(grants, _)| grants)
}

/// [`authorize`] for the operations that need only its decision: a call the
/// key policy leaves to the grants stops at the first grant that allows it
/// ([`access::GrantsWanted::Any`]), which decides the same.
///
/// # Errors
/// Those of [`authorize`].
fn check_authorized<K: KeyAccess + ?Sized>(
    ks: &K,
    call: &mut Call,
    action: &str,
    rec: &KeyRecord,
    requested_as: &str,
    grant_context: &EncryptionContext,
    build: &Conditions<'_>,
) -> Result<()> {
    let wanted = GrantsWanted::Any;
    authorize_seeing_aliases(
        ks,
        call,
        action,
        rec,
        requested_as,
        grant_context,
        build,
        wanted,
    )
    .map(|_| ())
}

/// What of the key's aliases and tags an authorization depended on: what a
/// write made after it checks has not changed ([`ConditionsSeen::still_hold`],
/// [`same_for_authorization`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ConditionsSeen {
    /// The key's aliases, sorted, when the policy tests `kms:ResourceAliases`.
    /// (`kms:RequestAlias` needs no re-check: no write takes an alias, the
    /// alias operations included, so no write's request has it.)
    resource_aliases: Option<Vec<String>>,
    /// Whether the policy tests an `aws:ResourceTag/<key>` condition key,
    /// so that the key's tags must be the same in the write.
    resource_tags: bool,
}

impl ConditionsSeen {
    /// Whether the write needs the key's aliases as they are now.
    fn any(&self) -> bool {
        self.resource_aliases.is_some()
    }

    /// Whether `now` (the names of the aliases pointing at the key now; `None`
    /// when not read) leaves the alias-derived condition keys as they were.
    fn still_hold(&self, now: Option<&[String]>) -> bool {
        if !self.any() {
            return true;
        }
        let Some(now) = now else { return false };
        let mut now = now.to_vec();
        now.sort_unstable();
        self.resource_aliases
            .as_ref()
            .is_none_or(|seen| *seen == now)
    }
}

/// [`authorize`], returning what the decision depended on, for the write to
/// check ([`Authorization::holds`]).
///
/// # Errors
/// Those of [`authorize`].
pub fn authorize_for_write<K: KeyAccess + ?Sized, R: Deref<Target = KeyRecord>>(
    ks: &K,
    call: &mut Call,
    action: &str,
    rec: R,
    requested_as: &str,
    grant_context: &EncryptionContext,
    build: &Conditions<'_>,
) -> Result<Authorization<R>> {
    // The write needs to know which grant allowed the call, not every one.
    let wanted = GrantsWanted::Any;
    let ctx = grant_context;
    authorize_write_wanting(ks, call, action, rec, requested_as, ctx, build, wanted)
}

/// [`authorize_for_write`], returning the allowing grants `wanted` asks for.
///
/// # Errors
/// Those of [`authorize`].
#[allow(clippy::too_many_arguments)]
fn authorize_write_wanting<K: KeyAccess + ?Sized, R: Deref<Target = KeyRecord>>(
    ks: &K,
    call: &mut Call,
    action: &str,
    rec: R,
    requested_as: &str,
    grant_context: &EncryptionContext,
    build: &Conditions<'_>,
    wanted: GrantsWanted,
) -> Result<Authorization<R>> {
    let (parents, aliases) = authorize_seeing_aliases(
        ks,
        call,
        action,
        &rec,
        requested_as,
        grant_context,
        build,
        wanted,
    )?;
    Ok(Authorization {
        key: rec,
        parents,
        aliases,
    })
}

/// [`authorize`], also returning the alias state the decision depended on;
/// `wanted` says which of the allowing grants to return.
#[allow(clippy::too_many_arguments)]
fn authorize_seeing_aliases<K: KeyAccess + ?Sized>(
    ks: &K,
    call: &mut Call,
    action: &str,
    rec: &KeyRecord,
    requested_as: &str,
    grant_context: &EncryptionContext,
    build: &Conditions<'_>,
    wanted: GrantsWanted,
) -> Result<(Option<Vec<Grant>>, ConditionsSeen)> {
    call.touch(&rec.arn);
    let principal = ks.principal();
    let policy = ks.key_policy(rec)?;
    let mut seen = ConditionsSeen::default();
    // A policy without conditions (the default policy) decides on the
    // principal, action and resource alone (`Statement::applies` reads no
    // other field of the request, and the grants read the principal, the
    // action and `grant_context`): an Allow needs no condition values,
    // alias lookups or grants, and the grants are consulted without them.
    if !policy.has_conditions() {
        let bare = PolicyRequest::new(principal, action, &rec.arn);
        if policy::evaluate(&policy, &bare) == Decision::Allow {
            return Ok((None, seen));
        }
        let grants = access::decide_wanting(&policy, &bare, grant_context, wanted, || {
            ks.grants_of(&rec.key_id)
        })?;
        return Ok((grants, seen));
    }
    let alias = match KeyIdentifier::parse(requested_as, ks.region(), ks.account()) {
        Ok(KeyIdentifier::Alias(name)) => Some(name),
        _ => None,
    };
    let mut req = access::key_request(principal, action, rec, alias);
    access::request_globals(&mut req, ks.request_time(), ks.source_ip());
    seen.resource_tags = policy.tests_resource_tags();
    // Only look the aliases up when a condition of the parsed policy tests
    // them (not the policy text: a key may be spelled with JSON escapes).
    if policy.uses_condition_key("kms:ResourceAliases") {
        let mut aliases = ks.aliases_of(&rec.key_id)?;
        req.set("kms:ResourceAliases", aliases.clone());
        aliases.sort_unstable();
        seen.resource_aliases = Some(aliases);
    }
    let req = build(req);
    let grants = access::decide_wanting(&policy, &req, grant_context, wanted, || {
        ks.grants_of(&rec.key_id)
    })?;
    Ok((grants, seen))
}

/// A keystore running one operation: the primitives the operation flows of
/// this module are written with.
pub trait KeyService {
    /// What [`authorize`] asks.
    type Access<'s>: KeyAccess
    where
        Self: 's;
    /// A key record loaded for use.
    type Key: LoadedKey;
    /// The randomness the operation draws from.
    type Rng: CryptoRng + ?Sized;

    /// The keystore's authorization view.
    fn access(&self) -> Self::Access<'_>;

    /// The 32-byte key that authenticates grant tokens
    /// ([`crate::seal::RootKey::grant_token_key`]).
    fn grant_token_key(&self) -> &[u8];

    /// Loads the key `key_id` names for use, after the keystore's
    /// time-driven maintenance (a purge past the deletion date, a due
    /// automatic rotation, the expiry of imported material).
    ///
    /// # Errors
    /// `NotFoundException` (also for a purged key), `ValidationException`
    /// for a malformed identifier, `KMSInternalException` on storage
    /// failure.
    fn load(&mut self, key_id: &str) -> Result<Self::Key>;

    /// The keystore's administrator principal (the default key policy's).
    fn admin_principal(&self) -> &str;

    /// Runs `check` on the record `key_id` names as stored, then `f` on it,
    /// and stores the result, after the maintenance of [`load`](Self::load)
    /// (kept also when `check` or `f` fails; a purged key is
    /// `NotFoundException`), all in one transaction. `check` and `f` may
    /// run more than once when the keystore retries its write.
    ///
    /// # Errors
    /// Those of [`load`](Self::load), `check` and `f`.
    fn modify<T: Clone>(
        &mut self,
        key_id: &str,
        check: &WriteCheck<'_>,
        f: impl FnMut(&Env<'_>, &mut Self::Rng, &mut KeyRecord) -> Result<T>,
    ) -> Result<T>;

    /// Stores a new key record.
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn insert_key(&mut self, rec: KeyRecord) -> Result<()>;

    /// The alias record `alias_name`, if it exists.
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn read_alias(&mut self, alias_name: &str) -> Result<Option<AliasRecord>>;

    /// Up to `count` key records in key ID order, those after the key ID
    /// `after` (from the first when `None`; `after` need not exist), read
    /// in one transaction as stored (without maintenance: a key due for
    /// purge is still there). The page read of [`list_keys`].
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn key_page(&mut self, after: Option<&str>, count: usize) -> Result<Vec<KeyRecord>>;

    /// Up to `count` alias records in alias name order, those after the
    /// name `after` (from the first when `None`; `after` need not exist)
    /// and, when `target_key_id` is given, pointing at that key ID, read in
    /// one transaction. The page read of [`list_aliases`].
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn alias_page(
        &mut self,
        after: Option<&str>,
        count: usize,
        target_key_id: Option<&str>,
    ) -> Result<Vec<AliasRecord>>;

    /// Stores the alias record `f` makes from the key `target_key_id` names
    /// (as stored, without maintenance), the alias `alias_name` as it is
    /// now (if it exists), the key it points at now (if that exists) and
    /// the keystore's grants and aliases as the transaction reads them, read
    /// and written in one transaction. `f` may run more than once when the
    /// keystore retries its write.
    ///
    /// # Errors
    /// `NotFoundException` for the key; `f`'s; `KMSInternalException` on
    /// storage failure.
    fn write_alias(
        &mut self,
        alias_name: &str,
        target_key_id: &str,
        f: impl FnMut(
            &KeyRecord,
            Option<AliasRecord>,
            Option<&KeyRecord>,
            &dyn InWrite,
        ) -> Result<AliasRecord>,
    ) -> Result<()>;

    /// Deletes the alias `alias_name` in one transaction with `check`, which
    /// is called with the alias as it is then (`None` when there is none)
    /// and the key record it points at then, as stored (`None` when there
    /// is no alias or no such key), and whose error leaves everything
    /// unchanged.
    ///
    /// # Errors
    /// `check`'s; `KMSInternalException` on storage failure.
    fn delete_alias(&mut self, alias_name: &str, check: &AliasCheck<'_>) -> Result<()>;

    /// Every grant of the keystore with its key ID, in key then grant ID order.
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure.
    fn all_grants(&mut self) -> Result<Vec<(String, Grant)>>;

    /// Adds `grant` to the key `key_id` in one transaction with the key
    /// record as stored and the transaction's reads, unless `existing`
    /// (called with them) returns the ID of an equivalent grant, which is
    /// returned instead. Returns the ID. An error of `existing` leaves
    /// everything unchanged.
    ///
    /// # Errors
    /// `NotFoundException` when the key is gone; `existing`'s;
    /// `DryRunOperationException` on a dry run; `KMSInternalException` on
    /// storage failure.
    fn add_grant(
        &mut self,
        key_id: &str,
        grant: &Grant,
        existing: &GrantCheck<'_>,
    ) -> Result<String>;

    /// Deletes the grant `grant_id` of the key `key_id` in one transaction
    /// with `check`, which is called with the key record as stored then and
    /// the transaction's reads, and whose error leaves everything unchanged.
    ///
    /// # Errors
    /// `NotFoundException` for the key or the grant
    /// ([`access::grant_not_found`]); `check`'s; `DryRunOperationException`
    /// on a dry run; `KMSInternalException` on storage failure.
    fn delete_grant(&mut self, key_id: &str, grant_id: &str, check: &WriteCheck<'_>) -> Result<()>;

    /// Runs `f` with the keystore's environment (its `now`) and randomness.
    fn with_env<T>(&mut self, f: impl FnOnce(&Env<'_>, &mut Self::Rng) -> T) -> T;

    /// Runs `f` with the keystore's randomness.
    fn with_rng<T>(&mut self, f: impl FnOnce(&mut Self::Rng) -> T) -> T;

    /// Runs operation `op`, whose audit event has the request parameters
    /// `params`, and records its event whether it succeeded, was denied or
    /// failed (and applies the keystore's `DryRun`).
    ///
    /// # Errors
    /// `f`'s error, or the keystore's when the event cannot be recorded.
    fn call<T>(
        &mut self,
        op: &str,
        params: RequestParameters,
        f: impl FnOnce(&mut Self, &mut Call) -> Result<T>,
    ) -> Result<T>;

    /// Checks the grant tokens of a request ([`access::check_grant_tokens`]).
    ///
    /// # Errors
    /// `ValidationException` for more than 10, `InvalidGrantTokenException`.
    fn check_grant_tokens(&self, tokens: &[String]) -> Result<()> {
        access::check_grant_tokens(self.grant_token_key(), tokens)
    }

    /// Checks the grant tokens, loads the key `key_id` names and authorizes
    /// `action` on it, with `context` checked against grant constraints.
    ///
    /// # Errors
    /// Those of [`check_grant_tokens`](Self::check_grant_tokens),
    /// [`load`](Self::load) and [`authorize`].
    fn load_for(
        &mut self,
        call: &mut Call,
        action: &str,
        key_id: &str,
        grant_tokens: &[String],
        context: &EncryptionContext,
        build: &Conditions<'_>,
    ) -> Result<Self::Key> {
        self.check_grant_tokens(grant_tokens)?;
        let rec = self.load(key_id)?;
        check_authorized(&self.access(), call, action, &rec, key_id, context, build)?;
        Ok(rec)
    }

    /// Loads the key `key_id` names and authorizes `action` on it (no
    /// encryption context).
    ///
    /// # Errors
    /// Those of [`load`](Self::load) and [`authorize`].
    fn load_authorized(
        &mut self,
        call: &mut Call,
        action: &str,
        key_id: &str,
        build: &Conditions<'_>,
    ) -> Result<Self::Key> {
        let rec = self.load(key_id)?;
        check_authorized(
            &self.access(),
            call,
            action,
            &rec,
            key_id,
            &no_context(),
            build,
        )?;
        Ok(rec)
    }

    /// [`load_authorized`](Self::load_authorized), then
    /// [`modify`](Self::modify) with `f`. If the authorization does not
    /// hold inside the write ([`Authorization::holds`]: a changed field an
    /// authorization reads (the policy, state, tags the policy tests …),
    /// or the key's aliases the policy tested, or the grants that allowed
    /// the call, changed: a change committed in between, or a stale row
    /// read by the check), the call is authorized again inside the write
    /// on the record, grants and aliases its transaction reads, as a new
    /// call would be; `f` runs only if that allows it.
    ///
    /// # Errors
    /// Those of [`load_authorized`](Self::load_authorized),
    /// [`modify`](Self::modify) and `f` (`AccessDeniedException` also when
    /// a change in between revoked the permission).
    fn modify_authorized<T: Clone>(
        &mut self,
        call: &mut Call,
        action: &str,
        key_id: &str,
        build: &Conditions<'_>,
        mut f: impl FnMut(&Env<'_>, &mut Self::Rng, &mut KeyRecord) -> Result<T>,
    ) -> Result<T> {
        let mut value = None;
        let result =
            modify_authorized_record(self, call, action, key_id, build, &mut |env, rng, rec| {
                value = Some(f(env, rng, rec)?);
                Ok(())
            });
        take_value(result, value)
    }

    /// The key that made a symmetric ciphertext blob, checked against an
    /// optional expected key (`IncorrectKeyException`); an unknown key is
    /// the detail-free `InvalidCiphertextException`.
    ///
    /// # Errors
    /// As above; those of [`load`](Self::load) for `expected`.
    fn blob_key(&mut self, blob: &[u8], expected: Option<&str>) -> Result<Self::Key> {
        let header = crate::blob::parse_header(blob)?;
        let expected_id = expected
            .map(|k| self.load(k).map(|r| r.key_id.clone()))
            .transpose()?;
        let id = header.key_id_string();
        if expected_id.as_ref().is_some_and(|e| *e != id) {
            return Err(Error::new(
                ErrorKind::IncorrectKeyException,
                "The key ID in the request does not identify a key that can decrypt the ciphertext",
            ));
        }
        match self.load(&id) {
            Ok(r) => Ok(r),
            Err(e) if e.kind() == ErrorKind::NotFoundException => Err(Error::invalid_ciphertext()),
            Err(e) => Err(e),
        }
    }
}

/// A KMS length constraint on a byte parameter: `value` (the parameter
/// `name`) must be 1 to `max` bytes, else `ValidationException`. Checked
/// before any key is looked up, as KMS validates a request before it does
/// any work.
fn check_length(name: &str, value: &[u8], max: usize) -> Result<()> {
    if value.is_empty() || value.len() > max {
        return Err(Error::validation(alloc::format!(
            "{name} must be 1 to {max} bytes long; it is {} bytes",
            value.len()
        )));
    }
    Ok(())
}

/// The KMS length constraint of a `CiphertextBlob` parameter: 1 to 6144
/// bytes ([`crate::blob::MAX_BLOB_LEN`]).
fn check_ciphertext_blob_length(blob: &[u8]) -> Result<()> {
    check_length("CiphertextBlob", blob, crate::blob::MAX_BLOB_LEN)
}

/// No encryption context (operations whose grants have no constraint context).
fn no_context() -> EncryptionContext {
    EncryptionContext::default()
}

/// Encrypt ([`ops::encrypt`]).
pub fn encrypt<S: KeyService>(s: &mut S, req: &EncryptRequest) -> Result<EncryptResponse> {
    s.call("Encrypt", RequestParameters::encrypt(req), |s, call| {
        check_length(
            "Plaintext",
            req.plaintext.expose_secret(),
            ops::MAX_PLAINTEXT,
        )?;
        let ctx = &req.encryption_context;
        let rec = s.load_for(call, "Encrypt", &req.key_id, &req.grant_tokens, ctx, &|r| {
            access::crypto_conditions(r, req.encryption_algorithm, ctx)
        })?;
        s.with_env(|env, rng| ops::encrypt(env, rng, &rec, req))
    })
}

/// Decrypt: a symmetric ciphertext blob with the key that made it (a
/// `KeyId` in the request must name that key), or RSAES-OAEP output when
/// `KeyId` names an RSA key ([`asym::decrypt`]).
pub fn decrypt<S: KeyService>(s: &mut S, req: &DecryptRequest) -> Result<DecryptResponse> {
    s.call("Decrypt", RequestParameters::decrypt(req), |s, call| {
        check_ciphertext_blob_length(&req.ciphertext_blob)?;
        s.check_grant_tokens(&req.grant_tokens)?;
        let ctx = &req.encryption_context;
        if let Some(key_id) = req.key_id.as_deref() {
            let rec = s.load(key_id)?;
            if rec.key_spec != KeySpec::SymmetricDefault {
                check_authorized(&s.access(), call, "Decrypt", &rec, key_id, ctx, &|r| {
                    access::rsa_decrypt_conditions(r, req.encryption_algorithm, ctx)
                })?;
                return s.with_env(|env, rng| asym::decrypt(env, rng, &rec, req));
            }
        }
        let rec = s.blob_key(&req.ciphertext_blob, req.key_id.as_deref())?;
        let requested_as = req.key_id.as_deref().unwrap_or(&rec.key_id);
        check_authorized(
            &s.access(),
            call,
            "Decrypt",
            &rec,
            requested_as,
            ctx,
            &|r| access::crypto_conditions(r, req.encryption_algorithm, ctx),
        )?;
        if let Some(a) = req
            .encryption_algorithm
            .filter(|a| *a != EncryptionAlgorithm::SymmetricDefault)
        {
            return Err(Error::new(
                ErrorKind::InvalidKeyUsageException,
                alloc::format!("{a} is not valid for a symmetric key"),
            ));
        }
        let plaintext =
            s.with_env(|env, _| ops::decrypt_symmetric(env, &rec, &req.ciphertext_blob, ctx))?;
        Ok(DecryptResponse {
            key_id: rec.arn.clone(),
            plaintext,
            encryption_algorithm: EncryptionAlgorithm::SymmetricDefault,
        })
    })
}

/// ReEncrypt: decrypts under the source key and context and encrypts under
/// the destination key and context, returning no plaintext. Either side may
/// be an RSA `ENCRYPT_DECRYPT` key (RSAES-OAEP): an RSA source is named by
/// `SourceKeyId` with `SourceEncryptionAlgorithm`, an RSA destination takes
/// `DestinationEncryptionAlgorithm`. Authorized as `ReEncryptFrom` on the
/// source key and `ReEncryptTo` on the destination key.
pub fn re_encrypt<S: KeyService>(s: &mut S, req: &ReEncryptRequest) -> Result<ReEncryptResponse> {
    s.call(
        "ReEncrypt",
        RequestParameters::re_encrypt(req),
        |s, call| {
            check_ciphertext_blob_length(&req.ciphertext_blob)?;
            s.check_grant_tokens(&req.grant_tokens)?;
            let src_rsa = match req.source_key_id.as_deref() {
                Some(k) => Some(s.load(k)?).filter(|r| asym::rsa_size(r.key_spec).is_some()),
                None => None,
            };
            let dst = s.load(&req.destination_key_id)?;
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
                    s.blob_key(&req.ciphertext_blob, req.source_key_id.as_deref())?
                }
            };
            let same = src.key_id == dst.key_id;
            let src_as = req.source_key_id.as_deref().unwrap_or(&src.key_id);
            let src_ctx = &req.source_encryption_context;
            let dst_ctx = &req.destination_encryption_context;
            let (src_alg, dst_alg) = (
                req.source_encryption_algorithm,
                req.destination_encryption_algorithm,
            );
            check_authorized(
                &s.access(),
                call,
                "ReEncryptFrom",
                &src,
                src_as,
                src_ctx,
                &|r| access::re_encrypt_conditions(r, src_alg, src_ctx, same),
            )?;
            check_authorized(
                &s.access(),
                call,
                "ReEncryptTo",
                &dst,
                &req.destination_key_id,
                dst_ctx,
                &|r| access::re_encrypt_conditions(r, dst_alg, dst_ctx, same),
            )?;
            s.with_env(|env, rng| {
                let (plaintext, source_encryption_algorithm) = if src_is_rsa {
                    let d = asym::decrypt(
                        env,
                        rng,
                        &src,
                        &DecryptRequest {
                            ciphertext_blob: req.ciphertext_blob.clone(),
                            encryption_context: src_ctx.clone(),
                            key_id: Some(src.key_id.clone()),
                            encryption_algorithm: src_alg,
                            grant_tokens: Vec::new(),
                        },
                    )?;
                    (d.plaintext, d.encryption_algorithm)
                } else {
                    let p = ops::decrypt_symmetric(env, &src, &req.ciphertext_blob, src_ctx)?;
                    (p, EncryptionAlgorithm::SymmetricDefault)
                };
                let r = ops::encrypt(
                    env,
                    rng,
                    &dst,
                    &EncryptRequest {
                        key_id: dst.key_id.clone(),
                        plaintext,
                        encryption_context: dst_ctx.clone(),
                        encryption_algorithm: dst_alg,
                        grant_tokens: Vec::new(),
                    },
                )?;
                Ok(ReEncryptResponse {
                    ciphertext_blob: r.ciphertext_blob,
                    source_key_id: src.arn.clone(),
                    key_id: r.key_id,
                    source_encryption_algorithm,
                    destination_encryption_algorithm: r.encryption_algorithm,
                })
            })
        },
    )
}

/// GenerateDataKey (`op` `GenerateDataKey`) and
/// GenerateDataKeyWithoutPlaintext (`op`
/// `GenerateDataKeyWithoutPlaintext`, the caller drops the plaintext).
pub fn generate_data_key<S: KeyService>(
    s: &mut S,
    op: &str,
    req: &GenerateDataKeyRequest,
) -> Result<GenerateDataKeyResponse> {
    s.call(op, RequestParameters::data_key(req), |s, call| {
        let ctx = &req.encryption_context;
        let rec = s.load_for(call, op, &req.key_id, &req.grant_tokens, ctx, &|r| {
            access::crypto_conditions(r, None, ctx)
        })?;
        s.with_env(|env, rng| ops::generate_data_key(env, rng, &rec, req))
    })
}

/// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext (`op`, as
/// for [`generate_data_key`]).
pub fn generate_data_key_pair<S: KeyService>(
    s: &mut S,
    op: &str,
    req: &GenerateDataKeyPairRequest,
) -> Result<GenerateDataKeyPairResponse> {
    s.call(op, RequestParameters::data_key_pair(req), |s, call| {
        let ctx = &req.encryption_context;
        let spec = req.key_pair_spec.map(|s| s.as_str());
        let rec = s.load_for(call, op, &req.key_id, &req.grant_tokens, ctx, &|r| {
            access::data_key_pair_conditions(r, spec, ctx)
        })?;
        s.with_env(|env, rng| asym::generate_data_key_pair(env, rng, &rec, req))
    })
}

/// Sign, Verify, GenerateMac, VerifyMac and DeriveSharedSecret: operation
/// `op` on the key `key_id` with no encryption context, audited with
/// `params`; the byte parameters `lengths` (name, value, KMS maximum) are
/// checked first ([`check_length`]), `build` adds the condition keys, `f`
/// does the work.
#[allow(clippy::too_many_arguments)]
fn key_op<S: KeyService, T>(
    s: &mut S,
    op: &str,
    params: RequestParameters,
    key_id: &str,
    grant_tokens: &[String],
    lengths: &[(&str, &[u8], usize)],
    build: &Conditions<'_>,
    f: impl FnOnce(&mut S, S::Key) -> Result<T>,
) -> Result<T> {
    s.call(op, params, |s, call| {
        for (name, value, max) in lengths {
            check_length(name, value, *max)?;
        }
        let rec = s.load_for(call, op, key_id, grant_tokens, &no_context(), build)?;
        f(s, rec)
    })
}

/// Sign ([`asym::sign`]).
pub fn sign<S: KeyService>(s: &mut S, req: &SignRequest) -> Result<SignResponse> {
    let alg = req.signing_algorithm.map(|a| a.as_str());
    let message_type = req.message_type.map_or("RAW", |m| m.as_str());
    let params = RequestParameters::signature(&req.key_id, alg, message_type);
    let build: &Conditions<'_> = &|r| access::signing_conditions(r, alg, message_type);
    key_op(
        s,
        "Sign",
        params,
        &req.key_id,
        &req.grant_tokens,
        &[("Message", req.message.expose_secret(), asym::MAX_MESSAGE)],
        build,
        |s, rec| s.with_env(|env, rng| asym::sign(env, rng, &rec, req)),
    )
}

/// Verify ([`asym::verify_with`], with the loaded key's public key).
pub fn verify<S: KeyService>(s: &mut S, req: &VerifyRequest) -> Result<VerifyResponse> {
    let alg = req.signing_algorithm.map(|a| a.as_str());
    let message_type = req.message_type.map_or("RAW", |m| m.as_str());
    let params = RequestParameters::signature(&req.key_id, alg, message_type);
    let build: &Conditions<'_> = &|r| access::signing_conditions(r, alg, message_type);
    key_op(
        s,
        "Verify",
        params,
        &req.key_id,
        &req.grant_tokens,
        &[
            ("Message", req.message.expose_secret(), asym::MAX_MESSAGE),
            ("Signature", &req.signature, asym::MAX_SIGNATURE),
        ],
        build,
        |s, rec| s.with_env(|env, _| asym::verify_with(&rec, req, || rec.public_key(env))),
    )
}

/// GetPublicKey ([`asym::get_public_key`]); the grant tokens are checked
/// as Encrypt's are ([`KeyService::check_grant_tokens`]).
pub fn get_public_key<S: KeyService>(
    s: &mut S,
    key_id: &str,
    grant_tokens: &[String],
) -> Result<GetPublicKeyResponse> {
    s.call("GetPublicKey", RequestParameters::key(key_id), |s, call| {
        let rec = s.load_for(
            call,
            "GetPublicKey",
            key_id,
            grant_tokens,
            &no_context(),
            &|r| r,
        )?;
        s.with_env(|env, _| asym::get_public_key(env, &rec))
    })
}

/// GenerateMac ([`asym::generate_mac`]).
pub fn generate_mac<S: KeyService>(
    s: &mut S,
    req: &GenerateMacRequest,
) -> Result<GenerateMacResponse> {
    let alg = req.mac_algorithm.map(|a| a.as_str());
    let params = RequestParameters::mac(&req.key_id, alg);
    let build: &Conditions<'_> = &|r| access::mac_conditions(r, alg);
    key_op(
        s,
        "GenerateMac",
        params,
        &req.key_id,
        &req.grant_tokens,
        &[("Message", req.message.expose_secret(), asym::MAX_MESSAGE)],
        build,
        |s, rec| s.with_env(|env, _| asym::generate_mac(env, &rec, req)),
    )
}

/// VerifyMac ([`asym::verify_mac`], constant-time comparison).
pub fn verify_mac<S: KeyService>(s: &mut S, req: &VerifyMacRequest) -> Result<VerifyMacResponse> {
    let alg = req.mac_algorithm.map(|a| a.as_str());
    let params = RequestParameters::mac(&req.key_id, alg);
    let build: &Conditions<'_> = &|r| access::mac_conditions(r, alg);
    key_op(
        s,
        "VerifyMac",
        params,
        &req.key_id,
        &req.grant_tokens,
        &[
            ("Message", req.message.expose_secret(), asym::MAX_MESSAGE),
            ("Mac", &req.mac, asym::MAX_MAC),
        ],
        build,
        |s, rec| s.with_env(|env, _| asym::verify_mac(env, &rec, req)),
    )
}

/// DeriveSharedSecret ([`asym::derive_shared_secret`]), authorized as
/// `kms:DeriveSharedSecret` with `kms:KeyAgreementAlgorithm`.
pub fn derive_shared_secret<S: KeyService>(
    s: &mut S,
    req: &DeriveSharedSecretRequest,
) -> Result<DeriveSharedSecretResponse> {
    let alg = req.key_agreement_algorithm.map(|a| a.as_str());
    let params = RequestParameters::key_agreement(&req.key_id, alg);
    let build: &Conditions<'_> = &|r| access::key_agreement_conditions(r, alg);
    let op = "DeriveSharedSecret";
    key_op(
        s,
        op,
        params,
        &req.key_id,
        &req.grant_tokens,
        &[("PublicKey", &req.public_key, asym::MAX_PUBLIC_KEY)],
        build,
        |s, rec| s.with_env(|env, _| asym::derive_shared_secret(env, &rec, req)),
    )
}

/// GenerateRandom: 1–1024 bytes from the keystore's randomness. Allowed for
/// every principal (IAM-only in AWS KMS) and audited.
pub fn generate_random<S: KeyService>(
    s: &mut S,
    number_of_bytes: u32,
) -> Result<GenerateRandomResponse> {
    let mut params = RequestParameters::NONE;
    params.number_of_bytes = Some(number_of_bytes);
    s.call("GenerateRandom", params, |s, _| {
        Ok(GenerateRandomResponse {
            plaintext: s.with_rng(|rng| ops::generate_random(rng, number_of_bytes))?,
        })
    })
}

/// An operation that authorizes `action` on the key `key_id` names (no
/// condition keys of its own) and changes the record with `f`; `key_id` is
/// a key ID or key ARN ([`key_id_or_arn`]).
fn simple_change<S: KeyService, T: Clone>(
    s: &mut S,
    action: &str,
    key_id: &str,
    f: impl FnMut(&Env<'_>, &mut S::Rng, &mut KeyRecord) -> Result<T>,
) -> Result<T> {
    s.call(action, RequestParameters::key(key_id), |s, call| {
        key_id_or_arn(s, action, key_id)?;
        s.modify_authorized(call, action, key_id, &|r| r, f)
    })
}

/// CreateKey ([`ops::create_key`]). CreateKey has no key resource to
/// authorize against (AWS KMS uses IAM alone); every principal may call it.
/// A `Policy` is validated and, unless `BypassPolicyLockoutSafetyCheck` is
/// set, must let the caller call `PutKeyPolicy` later.
pub fn create_key<S: KeyService>(s: &mut S, req: &CreateKeyRequest) -> Result<DescribeKeyResponse> {
    s.call(
        "CreateKey",
        RequestParameters::create_key(req),
        |s, call| {
            let policy = req.policy.as_deref().map(Policy::parse).transpose()?;
            let rec = s.with_env(|env, rng| ops::create_key(env, rng, req))?;
            call.touch(&rec.arn);
            if let Some(p) = &policy {
                let bypass = req.bypass_policy_lockout_safety_check;
                let a = s.access();
                let (now, ip) = (a.request_time(), a.source_ip());
                access::check_new_policy(p, bypass, a.principal(), &rec.arn, now, ip)?;
            }
            let key_metadata = ops::describe(&rec);
            s.insert_key(rec)?;
            call.response = serde_json::json!({ "keyMetadata": key_metadata });
            Ok(DescribeKeyResponse { key_metadata })
        },
    )
}

// ---- aliases ---------------------------------------------------------------------

/// The error for an alias that does not exist (`arn`, its ARN).
fn alias_not_found(arn: &str) -> Error {
    Error::not_found(alloc::format!("Alias {arn} is not found."))
}

/// Whether `now` leaves a decision made on `then` (the key record as an
/// authorization read it) as it was: the same key, and the same record in
/// every field but those no authorization reads — the description, the
/// `generation` counter, and the tags when the key policy tests no
/// `aws:ResourceTag/` condition key (`tags_seen` false). A TagResource or
/// UpdateKeyDescription committed between a call's authorization and its
/// write thus leaves the call authorized, as in AWS KMS, without
/// authorizing it again inside the write ([`reauthorize`]). Every other
/// field, the policy and state included, must be equal: a record put back
/// from an older copy of the file is refused like any change.
fn same_for_authorization(then: &KeyRecord, now: &KeyRecord, tags_seen: bool) -> bool {
    // Destructured in full so that a field added to the record is compared
    // unless it is listed here as one no authorization reads.
    let KeyRecord {
        key_id,
        arn,
        account,
        creation_date,
        description: _,
        key_spec,
        key_usage,
        origin,
        state,
        deletion_date,
        pending_window_days,
        tags,
        rotation,
        backing_keys,
        policy,
        valid_to,
        import_commitment,
        generation: _,
        extra,
    } = then;
    *key_id == now.key_id
        && *arn == now.arn
        && *account == now.account
        && *creation_date == now.creation_date
        && *key_spec == now.key_spec
        && *key_usage == now.key_usage
        && *origin == now.origin
        && *state == now.state
        && *deletion_date == now.deletion_date
        && *pending_window_days == now.pending_window_days
        && (!tags_seen || *tags == now.tags)
        && *rotation == now.rotation
        && *backing_keys == now.backing_keys
        && *policy == now.policy
        && *valid_to == now.valid_to
        && *import_commitment == now.import_commitment
        && *extra == now.extra
}

/// What the alias a call names pointed at when the call was authorized.
struct AliasTarget<K> {
    /// The target key ID the alias had.
    key_id: String,
    /// The authorization on the target key (`None`: no such key).
    key: Option<Authorization<K>>,
}

/// Authorizes `action` on the key the alias `alias_name` points at now,
/// unless the alias or that key does not exist. Returns the target the
/// alias had when it was read (`None`: no alias), for the write to check
/// that neither the alias nor the authorization on that key has changed in
/// between ([`alias_target_holds`]).
fn authorize_alias_target<S: KeyService>(
    s: &mut S,
    call: &mut Call,
    action: &str,
    alias_name: &str,
) -> Result<Option<AliasTarget<S::Key>>> {
    let Some(old) = s.read_alias(alias_name)? else {
        return Ok(None);
    };
    let mut key = None;
    if let Some(rec) = Error::unless_not_found(s.load(&old.target_key_id))? {
        key = Some(authorize_for_write(
            &s.access(),
            call,
            action,
            rec,
            &old.target_key_id,
            &no_context(),
            &|r| r,
        )?);
    }
    Ok(Some(AliasTarget {
        key_id: old.target_key_id,
        key,
    }))
}

/// Inside the write: the alias (`alias`, as it is then; `None`: gone) still
/// points where it pointed when the call was authorized (`authorized`;
/// another call may have moved it in between, to a key the caller has no
/// permission on), and the authorization on the key it points at (`target`,
/// as the write reads it) still holds.
///
/// # Errors
/// Those of `reads`.
fn alias_target_holds<K: Deref<Target = KeyRecord>>(
    authorized: Option<&AliasTarget<K>>,
    alias: Option<&AliasRecord>,
    target: Option<&KeyRecord>,
    reads: &dyn InWrite,
) -> Result<bool> {
    Ok(match (authorized, alias) {
        (None, None) => true,
        (Some(t), Some(a)) if t.key_id == a.target_key_id => match &t.key {
            Some(authorization) => authorization.holds(target, reads)?,
            None => target.is_none(),
        },
        _ => false,
    })
}

/// Authorizes `action` on the key an alias points at (`alias`, `target` as
/// a write reads them), as [`authorize_alias_target`] does in a read: a key
/// that does not exist needs no authorization. Named by its key ID: KMS
/// sets `kms:RequestAlias` only for the cryptographic operations,
/// DescribeKey and GetPublicKey, not for the alias operations.
///
/// # Errors
/// Those of [`authorize`].
fn check_alias_target(
    access: &InWriteAccess<'_>,
    call: &mut Call,
    action: &str,
    alias: Option<&AliasRecord>,
    target: Option<&KeyRecord>,
) -> Result<()> {
    match (alias, target) {
        (Some(a), Some(t)) => check_authorized(
            access,
            call,
            action,
            t,
            &a.target_key_id,
            &no_context(),
            &|r| r,
        ),
        _ => Ok(()),
    }
}

/// The key type UpdateAlias compares: symmetric encryption
/// (`SYMMETRIC_DEFAULT`), asymmetric (`RSA_*`, `ECC_*`) or HMAC (`HMAC_*`).
#[derive(PartialEq, Eq)]
enum KeyType {
    Symmetric,
    Asymmetric,
    Hmac,
}

fn key_type(spec: KeySpec) -> KeyType {
    if spec.is_symmetric() {
        KeyType::Symmetric
    } else if asym::is_asymmetric(spec) {
        KeyType::Asymmetric
    } else {
        KeyType::Hmac
    }
}

/// CreateAlias (`create`) and UpdateAlias: authorized on the target key
/// and, for UpdateAlias, on the key the alias points at now; the new target
/// must not be pending deletion, and for UpdateAlias must be the same key
/// type as the current one (both symmetric, both asymmetric or both HMAC —
/// the key spec may differ, e.g. `RSA_2048` to `ECC_NIST_P256`) and have
/// the same key usage, as in KMS (`ValidationException` otherwise).
pub fn put_alias<S: KeyService>(
    s: &mut S,
    alias_name: &str,
    target_key_id: &str,
    create: bool,
) -> Result<()> {
    let action = if create { "CreateAlias" } else { "UpdateAlias" };
    let params = RequestParameters::alias(alias_name, Some(target_key_id));
    s.call(action, params, |s, call| {
        validate_alias_name(alias_name)?;
        let (ident, arn) = {
            let access = s.access();
            let (region, account) = (access.region(), access.account());
            let ident = KeyIdentifier::parse(target_key_id, region, account);
            (ident, alias_arn(region, account, alias_name))
        };
        if matches!(ident?, KeyIdentifier::Alias(_)) {
            return Err(Error::validation(
                "TargetKeyId must be a key ID or key ARN, not an alias",
            ));
        }
        retry_stale(|stale| {
            let mark = call.resources.len();
            // UpdateAlias needs permission on the key the alias points at now, too.
            let authorized_old = if create {
                None
            } else {
                authorize_alias_target(s, call, action, alias_name)?
            };
            let rec = s.load(target_key_id)?;
            let target = authorize_for_write(
                &s.access(),
                call,
                action,
                rec,
                target_key_id,
                &no_context(),
                &|r| r,
            )?;
            let now = s.with_env(|env, _| env.now);
            let call = core::cell::RefCell::new(&mut *call);
            s.write_alias(
                alias_name,
                target_key_id,
                |rec, existing, old_target, reads| {
                    let old = existing.as_ref();
                    let holds = (create
                        || alias_target_holds(authorized_old.as_ref(), old, old_target, reads)?)
                        && target.holds(Some(rec), reads)?;
                    if !holds {
                        let keys = [Some(rec), old_target];
                        reauthorize(stale, &call, mark, reads, &keys, |access, call| {
                            if !create {
                                check_alias_target(access, call, action, old, old_target)?;
                            }
                            let ctx = &no_context();
                            check_authorized(access, call, action, rec, target_key_id, ctx, &|r| r)
                        })?;
                    }
                    put_alias_record(alias_name, &arn, create, now, rec, existing, old_target)
                },
            )
        })
    })
}

/// Inside CreateAlias's (`create`) or UpdateAlias's write, once the call is
/// authorized: the alias record `alias_name` (ARN `arn`) pointing at `rec`
/// at `now`, made from the alias as it is (`existing`), which points at
/// `old_target`.
///
/// # Errors
/// `KMSInvalidStateException` for a target pending deletion;
/// `AlreadyExistsException` (CreateAlias), `NotFoundException` and
/// `ValidationException` for a key of another type or usage (UpdateAlias).
fn put_alias_record(
    alias_name: &str,
    arn: &str,
    create: bool,
    now: u64,
    rec: &KeyRecord,
    existing: Option<AliasRecord>,
    old_target: Option<&KeyRecord>,
) -> Result<AliasRecord> {
    if rec.state == KeyState::PendingDeletion {
        return Err(Error::new(
            ErrorKind::KMSInvalidStateException,
            alloc::format!("{} is pending deletion", rec.arn),
        ));
    }
    match (create, existing) {
        (true, Some(_)) => Err(Error::new(
            ErrorKind::AlreadyExistsException,
            alloc::format!("An alias with the name {arn} already exists"),
        )),
        (false, None) => Err(alias_not_found(arn)),
        (true, None) => Ok(AliasRecord {
            alias_name: alias_name.into(),
            target_key_id: rec.key_id.clone(),
            creation_date: now,
            last_updated_date: now,
        }),
        (false, Some(old)) => {
            if old_target.is_some_and(|o| {
                (key_type(o.key_spec), o.key_usage) != (key_type(rec.key_spec), rec.key_usage)
            }) {
                return Err(Error::validation(
                    "UpdateAlias: the new key must be the same type as the current one \
                     (both symmetric, both asymmetric or both HMAC) and have the same key usage",
                ));
            }
            Ok(AliasRecord {
                target_key_id: rec.key_id.clone(),
                last_updated_date: now,
                ..old
            })
        }
    }
}

/// DeleteAlias: authorized on the key the alias points at.
pub fn delete_alias<S: KeyService>(s: &mut S, alias_name: &str) -> Result<()> {
    let params = RequestParameters::alias(alias_name, None);
    s.call("DeleteAlias", params, |s, call| {
        if !alias_name.starts_with("alias/") {
            return Err(Error::new(
                ErrorKind::InvalidAliasNameException,
                "alias names begin with 'alias/'",
            ));
        }
        let arn = {
            let access = s.access();
            alias_arn(access.region(), access.account(), alias_name)
        };
        retry_stale(|stale| {
            let mark = call.resources.len();
            let authorized = authorize_alias_target(s, call, "DeleteAlias", alias_name)?;
            let call = core::cell::RefCell::new(&mut *call);
            s.delete_alias(alias_name, &|now, target, reads| {
                if !alias_target_holds(authorized.as_ref(), now, target, reads)? {
                    reauthorize(stale, &call, mark, reads, &[target], |access, call| {
                        check_alias_target(access, call, "DeleteAlias", now, target)
                    })?;
                }
                match now {
                    None => Err(alias_not_found(&arn)),
                    Some(_) => Ok(()),
                }
            })
        })
    })
}

/// ListAliases, only those pointing at the key `key_id` names when given
/// (a key ID or key ARN, as in KMS; `NotFoundException` for an alias or
/// when it names no key); `limit` 1–100 (default 50); `marker` from a previous
/// page's `NextMarker` (the last alias name listed). Allowed for every
/// principal (IAM-only in AWS KMS) and audited.
///
/// # Errors
/// `ValidationException` for the limit, those of [`KeyService::load`] for
/// `key_id`, `InvalidMarkerException` for a marker ListAliases did not make
/// ([`decode_alias_marker`]).
pub fn list_aliases<S: KeyService>(
    s: &mut S,
    key_id: Option<&str>,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListAliasesResponse> {
    let params = RequestParameters::list(key_id, limit, marker);
    s.call("ListAliases", params, |s, _| {
        let limit = limit_within(limit, LIST_ALIASES)?;
        if let Some(k) = key_id {
            key_id_or_arn(s, "ListAliases", k)?;
        }
        let target = key_id
            .map(|k| s.load(k).map(|r| r.key_id.clone()))
            .transpose()?;
        let after = decode_alias_marker(marker)?;
        let mut page = s.alias_page(after.as_deref(), limit + 1, target.as_deref())?;
        let truncated = page.len() > limit;
        page.truncate(limit);
        let next_marker = truncated
            .then(|| page.last().map(|a| encode_marker(&a.alias_name)))
            .flatten();
        let access = s.access();
        let aliases = page
            .into_iter()
            .map(|a| AliasListEntry {
                alias_arn: alias_arn(access.region(), access.account(), &a.alias_name),
                alias_name: a.alias_name,
                target_key_id: a.target_key_id,
                creation_date: a.creation_date,
                last_updated_date: a.last_updated_date,
            })
            .collect();
        Ok(ListAliasesResponse {
            aliases,
            next_marker,
            truncated,
        })
    })
}

// ---- grants ----------------------------------------------------------------------

/// One page of grants with KMS's grant limits (1–100, default 50).
fn grant_page(
    all: Vec<Grant>,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListGrantsResponse> {
    let (grants, next_marker) = paginate_index_within(all, limit, marker, LIST_GRANTS)?;
    Ok(ListGrantsResponse {
        grants,
        truncated: next_marker.is_some(),
        next_marker,
    })
}

/// CreateGrant: allowed by the key policy, or by a grant with `CreateGrant`
/// for a narrower grant ([`access::check_grant_narrower`]); a named grant
/// with the parameters of an existing one returns that grant's ID.
pub fn create_grant<S: KeyService>(
    s: &mut S,
    req: &CreateGrantRequest,
) -> Result<CreateGrantResponse> {
    s.call(
        "CreateGrant",
        RequestParameters::create_grant(req),
        |s, call| {
            s.check_grant_tokens(&req.grant_tokens)?;
            key_id_or_arn(s, "CreateGrant", &req.key_id)?;
            let grant_id = retry_stale(|stale| {
                let mark = call.resources.len();
                let rec = s.load(&req.key_id)?;
                let (_, ctx) = access::grant_constraint(req);
                let conditions: &Conditions<'_> = &|r| access::create_grant_conditions(r, req);
                let authorized = authorize_write_wanting(
                    &s.access(),
                    call,
                    "CreateGrant",
                    rec,
                    &req.key_id,
                    &ctx,
                    conditions,
                    GrantsWanted::All,
                )?;
                let rec = authorized.key();
                may_grant(
                    authorized.parents.as_deref(),
                    req,
                    s.access().principal(),
                    rec,
                )?;
                let grant = s.with_env(|env, rng| {
                    let mut random = [0u8; 32];
                    rand_core::Rng::fill_bytes(rng, &mut random);
                    access::new_grant(req, &rec.arn, env.account, env.now, &random)
                })?;
                grant.check_key(rec.key_spec, rec.key_usage)?;
                let call = core::cell::RefCell::new(&mut *call);
                s.add_grant(&rec.key_id, &grant, &|now, reads| {
                    grant_in_write(now, reads, &grant, |reads| {
                        if authorized.holds(Some(now), reads)? {
                            return Ok(());
                        }
                        reauthorize(stale, &call, mark, reads, &[Some(now)], |access, call| {
                            let again = authorize_write_wanting(
                                access,
                                call,
                                "CreateGrant",
                                now,
                                &req.key_id,
                                &ctx,
                                conditions,
                                GrantsWanted::All,
                            )?;
                            may_grant(
                                again.parents.as_deref(),
                                req,
                                access.reads.principal(),
                                now,
                            )?;
                            grant.check_key(now.key_spec, now.key_usage)
                        })
                    })
                })
            })?;
            call.response = serde_json::json!({ "grantId": grant_id });
            Ok(CreateGrantResponse {
                grant_token: grant_token(s.grant_token_key(), &grant_id)?,
                grant_id,
            })
        },
    )
}

/// CreateGrant's check inside its write ([`GrantCheck`]), on the key record
/// `now` and the transaction's reads: the key's grants are read once, and
/// `authorized` (the re-check of the call's authorization, made again if it
/// no longer holds) reads them from there, as do the check for an
/// equivalent named grant (whose ID is returned) and the per-key limit.
///
/// # Errors
/// `authorized`'s; `LimitExceededException` when the key has
/// [`access::MAX_GRANTS_PER_KEY`] grants; those of `reads`.
fn grant_in_write(
    now: &KeyRecord,
    reads: &dyn InWrite,
    grant: &Grant,
    authorized: impl FnOnce(&dyn InWrite) -> Result<()>,
) -> Result<Option<String>> {
    let existing = reads.grants_of(&now.key_id)?;
    authorized(&InWriteAccess::with_grants(reads, &now.key_id, &existing))?;
    if grant.name.is_some() {
        if let Some(g) = existing.iter().find(|g| g.same_parameters(grant)) {
            return Ok(Some(g.grant_id.clone()));
        }
    }
    if existing.len() >= access::MAX_GRANTS_PER_KEY {
        return Err(access::too_many_grants(&now.arn));
    }
    Ok(None)
}

/// Whether CreateGrant may add a grant to `rec` once its key policy or its
/// grants allowed the call: a call that grants allowed (`parents`: all of
/// them) must ask for a narrower grant ([`access::check_grant_narrower`]
/// for `principal`), and the key must not be pending deletion.
///
/// # Errors
/// `AccessDeniedException`, `KMSInvalidStateException`.
fn may_grant(
    parents: Option<&[Grant]>,
    req: &CreateGrantRequest,
    principal: &str,
    rec: &KeyRecord,
) -> Result<()> {
    if let Some(parents) = parents {
        access::check_grant_narrower(parents, req, principal, &rec.arn)?;
    }
    if rec.state == KeyState::PendingDeletion {
        return Err(Error::new(
            ErrorKind::KMSInvalidStateException,
            alloc::format!("{} is pending deletion", rec.arn),
        ));
    }
    Ok(())
}

/// ListGrants: the grants of a key (optionally one grant ID or one grantee
/// principal); `limit` 1–100 (default 50).
pub fn list_grants<S: KeyService>(
    s: &mut S,
    req: &ListGrantsRequest,
) -> Result<ListGrantsResponse> {
    s.call(
        "ListGrants",
        RequestParameters::list_grants(req),
        |s, call| {
            if let Some(g) = &req.grant_id {
                validate_grant_id(g)?;
            }
            key_id_or_arn(s, "ListGrants", &req.key_id)?;
            let rec = s.load_authorized(call, "ListGrants", &req.key_id, &|r| r)?;
            let all = access::select_grants(s.access().grants_of(&rec.key_id)?.to_vec(), req);
            grant_page(all, req.limit, req.marker.as_deref())
        },
    )
}

/// ListRetirableGrants: the grants whose retiring principal is
/// `retiring_principal`, across keys; `limit` 1–100 (default 50).
pub fn list_retirable_grants<S: KeyService>(
    s: &mut S,
    retiring_principal: &str,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListGrantsResponse> {
    let params = RequestParameters::list_retirable_grants(retiring_principal, limit, marker);
    s.call("ListRetirableGrants", params, |s, _| {
        if retiring_principal.is_empty() {
            return Err(Error::validation("RetiringPrincipal must not be empty"));
        }
        let all = s
            .all_grants()?
            .into_iter()
            .map(|(_, g)| g)
            .filter(|g| is_retiring_principal(g, retiring_principal))
            .collect();
        grant_page(all, limit, marker)
    })
}

/// RetireGrant: deletes a grant named by its token, or by key ID and grant
/// ID; allowed for the principals of [`may_retire`], or when the key policy
/// allows `kms:RetireGrant`.
pub fn retire_grant<S: KeyService>(s: &mut S, req: &RetireGrantRequest) -> Result<()> {
    s.call(
        "RetireGrant",
        RequestParameters::retire_grant(req),
        |s, call| {
            let grant_id = access::retire_grant_id(s.grant_token_key(), req)?;
            call.params.grant_id = Some(grant_id.clone());
            let key_id = match &req.key_id {
                Some(k) => {
                    key_id_or_arn(s, "RetireGrant", k)?;
                    s.load(k)?.key_id.clone()
                }
                None => s
                    .all_grants()?
                    .into_iter()
                    .find(|(_, g)| g.grant_id == grant_id)
                    .map(|(k, _)| k)
                    .ok_or_else(|| access::grant_not_found(&grant_id))?,
            };
            let named = req.key_id.as_deref().unwrap_or(&key_id);
            retry_stale(|stale| {
                let mark = call.resources.len();
                let grant = s
                    .access()
                    .grants_of(&key_id)?
                    .iter()
                    .find(|g| g.grant_id == grant_id)
                    .cloned()
                    .ok_or_else(|| access::grant_not_found(&grant_id))?;
                let rec = s.load(&key_id)?;
                let authorized_on = if may_retire(&grant, s.access().principal()) {
                    call.touch(&rec.arn);
                    None
                } else {
                    Some(authorize_for_write(
                        &s.access(),
                        call,
                        "RetireGrant",
                        rec,
                        named,
                        &no_context(),
                        &|r| r,
                    )?)
                };
                let call = core::cell::RefCell::new(&mut *call);
                // A grantee or retiring principal retires on the grant itself
                // (which the write reads and deletes); a permission of the key
                // policy or of other grants holds for what it was read from,
                // or is given again on what the write reads.
                s.delete_grant(&key_id, &grant_id, &|now, reads| match &authorized_on {
                    Some(a) if !a.holds(Some(now), reads)? => {
                        reauthorize(stale, &call, mark, reads, &[Some(now)], |access, call| {
                            let ctx = &no_context();
                            check_authorized(access, call, "RetireGrant", now, named, ctx, &|r| r)
                        })
                    }
                    _ => Ok(()),
                })
            })
        },
    )
}

/// RevokeGrant: deletes a grant of the key; authorized by the key policy
/// (`kms:RevokeGrant`).
pub fn revoke_grant<S: KeyService>(s: &mut S, key_id: &str, grant_id: &str) -> Result<()> {
    let params = RequestParameters::revoke_grant(key_id, grant_id);
    s.call("RevokeGrant", params, |s, call| {
        validate_grant_id(grant_id)?;
        key_id_or_arn(s, "RevokeGrant", key_id)?;
        retry_stale(|stale| {
            let mark = call.resources.len();
            let rec = s.load(key_id)?;
            let key = rec.key_id.clone();
            let authorized = authorize_for_write(
                &s.access(),
                call,
                "RevokeGrant",
                rec,
                key_id,
                &no_context(),
                &|r| r,
            )?;
            let call = core::cell::RefCell::new(&mut *call);
            s.delete_grant(&key, grant_id, &|now, reads| {
                if authorized.holds(Some(now), reads)? {
                    return Ok(());
                }
                reauthorize(stale, &call, mark, reads, &[Some(now)], |access, call| {
                    check_authorized(
                        access,
                        call,
                        "RevokeGrant",
                        now,
                        key_id,
                        &no_context(),
                        &|r| r,
                    )
                })
            })
        })
    })
}

// ---- key management -------------------------------------------------------------

/// ListKeys: `limit` 1–1000 (default 100), `marker` from a previous page's
/// `NextMarker`. Keys due for purge ([`ops::is_due_for_purge`]) are not
/// listed; the marker is the last key read, not the last listed, so a
/// truncated page may hold fewer keys than `limit`, even none. A key
/// deleted between two pages (the marker's own included) is just not
/// listed. Allowed for every principal (IAM-only in AWS KMS; it reveals key
/// IDs, not metadata) and audited.
///
/// # Errors
/// `ValidationException` for the limit, `InvalidMarkerException` for a
/// marker ListKeys did not make ([`decode_key_marker`]).
pub fn list_keys<S: KeyService>(
    s: &mut S,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListKeysResponse> {
    let params = RequestParameters::list(None, limit, marker);
    s.call("ListKeys", params, |s, _| {
        let limit = page_limit(limit)?;
        let after = decode_key_marker(marker)?;
        let mut read = s.key_page(after.as_deref(), limit + 1)?;
        let truncated = read.len() > limit;
        read.truncate(limit);
        let next_marker = truncated
            .then(|| read.last().map(|r| encode_marker(&r.key_id)))
            .flatten();
        let now = s.with_env(|env, _| env.now);
        let keys = read
            .into_iter()
            .filter(|r| !ops::is_due_for_purge(r, now))
            .map(|r| KeyListEntry {
                key_id: r.key_id,
                key_arn: r.arn,
            })
            .collect();
        Ok(ListKeysResponse {
            keys,
            next_marker,
            truncated,
        })
    })
}

/// DescribeKey ([`ops::describe`]); the grant tokens are checked as
/// Encrypt's are ([`KeyService::check_grant_tokens`]).
pub fn describe_key<S: KeyService>(
    s: &mut S,
    key_id: &str,
    grant_tokens: &[String],
) -> Result<DescribeKeyResponse> {
    s.call("DescribeKey", RequestParameters::key(key_id), |s, call| {
        s.check_grant_tokens(grant_tokens)?;
        let rec = s.load_authorized(call, "DescribeKey", key_id, &|r| r)?;
        Ok(DescribeKeyResponse {
            key_metadata: ops::describe(&rec),
        })
    })
}

/// UpdateKeyDescription ([`ops::update_key_description`]).
pub fn update_key_description<S: KeyService>(
    s: &mut S,
    key_id: &str,
    description: &str,
) -> Result<()> {
    let mut params = RequestParameters::key(key_id);
    params.description = Some(description.into());
    s.call("UpdateKeyDescription", params, |s, call| {
        key_id_or_arn(s, "UpdateKeyDescription", key_id)?;
        s.modify_authorized(call, "UpdateKeyDescription", key_id, &|r| r, |_, _, r| {
            ops::update_key_description(r, description)
        })
    })
}

/// EnableKey ([`ops::enable_key`]).
pub fn enable_key<S: KeyService>(s: &mut S, key_id: &str) -> Result<()> {
    simple_change(s, "EnableKey", key_id, |_, _, r| ops::enable_key(r))
}

/// DisableKey ([`ops::disable_key`]).
pub fn disable_key<S: KeyService>(s: &mut S, key_id: &str) -> Result<()> {
    simple_change(s, "DisableKey", key_id, |_, _, r| ops::disable_key(r))
}

/// ScheduleKeyDeletion ([`ops::schedule_key_deletion`]). The window is
/// checked first ([`ops::check_pending_window`]), as KMS validates a
/// request's shape before it looks at the key; `key_id` is a key ID or key
/// ARN (an alias is `NotFoundException`).
pub fn schedule_key_deletion<S: KeyService>(
    s: &mut S,
    key_id: &str,
    pending_window_in_days: Option<u32>,
) -> Result<ScheduleKeyDeletionResponse> {
    let mut params = RequestParameters::key(key_id);
    params.pending_window_in_days = pending_window_in_days;
    s.call("ScheduleKeyDeletion", params, |s, call| {
        ops::check_pending_window(pending_window_in_days)?;
        key_id_or_arn(s, "ScheduleKeyDeletion", key_id)?;
        let out = s.modify_authorized(
            call,
            "ScheduleKeyDeletion",
            key_id,
            &|r| access::schedule_deletion_conditions(r, pending_window_in_days),
            |env, _, r| ops::schedule_key_deletion(env, r, pending_window_in_days),
        )?;
        call.response = access::schedule_deletion_response(&out);
        Ok(out)
    })
}

/// CancelKeyDeletion ([`ops::cancel_key_deletion`]).
pub fn cancel_key_deletion<S: KeyService>(s: &mut S, key_id: &str) -> Result<KeyIdResponse> {
    s.call(
        "CancelKeyDeletion",
        RequestParameters::key(key_id),
        |s, call| {
            key_id_or_arn(s, "CancelKeyDeletion", key_id)?;
            let out =
                s.modify_authorized(call, "CancelKeyDeletion", key_id, &|r| r, |_, _, r| {
                    ops::cancel_key_deletion(r).map(|_| KeyIdResponse {
                        key_id: r.arn.clone(),
                    })
                })?;
            call.response = serde_json::json!({ "keyId": out.key_id });
            Ok(out)
        },
    )
}

/// EnableKeyRotation ([`ops::enable_key_rotation`]), with the condition key
/// `kms:RotationPeriodInDays` when a period is given. The period is checked
/// first ([`ops::check_rotation_period`]), as KMS validates a request's
/// shape before it looks at the key; `key_id` is a key ID or key ARN (an
/// alias is `NotFoundException`).
pub fn enable_key_rotation<S: KeyService>(
    s: &mut S,
    key_id: &str,
    rotation_period_in_days: Option<u32>,
) -> Result<()> {
    let mut params = RequestParameters::key(key_id);
    params.rotation_period_in_days = rotation_period_in_days;
    s.call("EnableKeyRotation", params, |s, call| {
        ops::check_rotation_period(rotation_period_in_days)?;
        key_id_or_arn(s, "EnableKeyRotation", key_id)?;
        s.modify_authorized(
            call,
            "EnableKeyRotation",
            key_id,
            &|r| access::set_opt(r, "kms:RotationPeriodInDays", rotation_period_in_days),
            |env, _, r| ops::enable_key_rotation(env, r, rotation_period_in_days),
        )
    })
}

/// DisableKeyRotation ([`ops::disable_key_rotation`]).
pub fn disable_key_rotation<S: KeyService>(s: &mut S, key_id: &str) -> Result<()> {
    simple_change(s, "DisableKeyRotation", key_id, |_, _, r| {
        ops::disable_key_rotation(r)
    })
}

/// GetKeyRotationStatus ([`ops::get_key_rotation_status`]).
pub fn get_key_rotation_status<S: KeyService>(
    s: &mut S,
    key_id: &str,
) -> Result<GetKeyRotationStatusResponse> {
    s.call(
        "GetKeyRotationStatus",
        RequestParameters::key(key_id),
        |s, call| {
            key_id_or_arn(s, "GetKeyRotationStatus", key_id)?;
            ops::get_key_rotation_status(&*s.load_authorized(
                call,
                "GetKeyRotationStatus",
                key_id,
                &|r| r,
            )?)
        },
    )
}

/// RotateKeyOnDemand ([`ops::rotate_key_on_demand`]).
pub fn rotate_key_on_demand<S: KeyService>(s: &mut S, key_id: &str) -> Result<KeyIdResponse> {
    simple_change(s, "RotateKeyOnDemand", key_id, |env, rng, r| {
        ops::rotate_key_on_demand(env, rng, r).map(|_| KeyIdResponse {
            key_id: r.key_id.clone(),
        })
    })
}

/// ListKeyRotations ([`ops::list_key_rotations`], paginated).
pub fn list_key_rotations<S: KeyService>(
    s: &mut S,
    key_id: &str,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListKeyRotationsResponse> {
    let params = RequestParameters::list(Some(key_id), limit, marker);
    s.call("ListKeyRotations", params, |s, call| {
        key_id_or_arn(s, "ListKeyRotations", key_id)?;
        let rec = s.load_authorized(call, "ListKeyRotations", key_id, &|r| r)?;
        let all = ops::list_key_rotations(&rec)?;
        let (rotations, next_marker) = paginate_index(all, limit, marker)?;
        Ok(ListKeyRotationsResponse {
            truncated: next_marker.is_some(),
            rotations,
            next_marker,
        })
    })
}

/// Refuses an alias name or alias ARN as the `KeyId` of `op`, whose KMS
/// `KeyId` is a key ID or key ARN only: every operation that names a key
/// except the cryptographic ones, DescribeKey and GetPublicKey (the table
/// is in README, "Key identifiers"; CreateAlias/UpdateAlias refuse an
/// alias `TargetKeyId` with their own `ValidationException`).
///
/// # Errors
/// `NotFoundException` for an alias: `Invalid keyId <value>`, as KMS
/// answers, then which identifiers `op` takes;
/// those of [`KeyIdentifier::parse`].
fn key_id_or_arn<S: KeyService>(s: &S, op: &str, key_id: &str) -> Result<()> {
    let access = s.access();
    match KeyIdentifier::parse(key_id, access.region(), access.account())? {
        KeyIdentifier::Alias(_) => Err(Error::not_found(alloc::format!(
            "Invalid keyId {key_id} ({op} takes a key ID or key ARN, not an alias)"
        ))),
        KeyIdentifier::KeyId(_) => Ok(()),
    }
}

/// TagResource ([`ops::tag_resource`], condition keys of
/// [`access::tag_conditions`]). Tag lengths are checked first
/// ([`ops::check_tag_shapes`]), as KMS validates a request's shape before
/// it looks at the key. `key_id` is a key ID or key ARN: an alias is
/// `NotFoundException`, as in KMS.
pub fn tag_resource<S: KeyService>(s: &mut S, key_id: &str, tags: &[Tag]) -> Result<()> {
    let keys = tags.iter().map(|t| t.tag_key.clone()).collect();
    s.call(
        "TagResource",
        RequestParameters::tags(key_id, keys),
        |s, call| {
            ops::check_tag_shapes(tags)?;
            key_id_or_arn(s, "TagResource", key_id)?;
            s.modify_authorized(
                call,
                "TagResource",
                key_id,
                &|r| access::tag_conditions(r, tags),
                |_, _, r| ops::tag_resource(r, tags),
            )
        },
    )
}

/// UntagResource ([`ops::untag_resource`], condition key `aws:TagKeys`);
/// tag key lengths are checked first ([`ops::check_tag_key_shapes`]);
/// `key_id` is a key ID or key ARN (an alias is `NotFoundException`).
pub fn untag_resource<S: KeyService>(s: &mut S, key_id: &str, tag_keys: &[String]) -> Result<()> {
    let params = RequestParameters::tags(key_id, tag_keys.to_vec());
    s.call("UntagResource", params, |s, call| {
        ops::check_tag_key_shapes(tag_keys)?;
        key_id_or_arn(s, "UntagResource", key_id)?;
        s.modify_authorized(
            call,
            "UntagResource",
            key_id,
            &|r| r.with("aws:TagKeys", tag_keys.to_vec()),
            |_, _, r| ops::untag_resource(r, tag_keys),
        )
    })
}

/// ListResourceTags: `limit` 1–50 (default 50); `key_id` is a key ID or
/// key ARN (an alias is `NotFoundException`).
pub fn list_resource_tags<S: KeyService>(
    s: &mut S,
    key_id: &str,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListResourceTagsResponse> {
    let params = RequestParameters::list(Some(key_id), limit, marker);
    s.call("ListResourceTags", params, |s, call| {
        if limit.is_some_and(|l| !(1..=50).contains(&l)) {
            return Err(Error::validation("Limit must be between 1 and 50"));
        }
        key_id_or_arn(s, "ListResourceTags", key_id)?;
        let rec = s.load_authorized(call, "ListResourceTags", key_id, &|r| r)?;
        let all = ops::list_resource_tags(&rec);
        let (tags, next_marker) = paginate_index(all, Some(limit.unwrap_or(50)), marker)?;
        Ok(ListResourceTagsResponse {
            truncated: next_marker.is_some(),
            tags,
            next_marker,
        })
    })
}

/// PutKeyPolicy: replaces the key's policy (name `default`); unless
/// `BypassPolicyLockoutSafetyCheck` is set, the new policy must still let
/// the acting principal call `PutKeyPolicy` ([`access::check_new_policy`]).
pub fn put_key_policy<S: KeyService>(s: &mut S, req: &PutKeyPolicyRequest) -> Result<()> {
    s.call(
        "PutKeyPolicy",
        RequestParameters::put_key_policy(req),
        |s, call| {
            access::check_policy_name(req.policy_name.as_deref())?;
            let policy = Policy::parse(&req.policy)?;
            key_id_or_arn(s, "PutKeyPolicy", &req.key_id)?;
            let bypass = req.bypass_policy_lockout_safety_check;
            let principal = String::from(s.access().principal());
            let (now, ip) = (s.access().request_time(), s.access().source_ip());
            s.modify_authorized(
                call,
                "PutKeyPolicy",
                &req.key_id,
                &|r| r.with("kms:BypassPolicyLockoutSafetyCheck", bypass),
                |_, _, r| {
                    if r.state == KeyState::PendingDeletion {
                        return Err(Error::new(
                            ErrorKind::KMSInvalidStateException,
                            alloc::format!("{} is pending deletion", r.arn),
                        ));
                    }
                    access::check_new_policy(&policy, bypass, &principal, &r.arn, now, ip)?;
                    r.policy = Some(req.policy.clone());
                    Ok(())
                },
            )
        },
    )
}

/// GetKeyPolicy: the key's policy document, or the default key policy
/// when none was set; `policy_name` must be `default` when given.
pub fn get_key_policy<S: KeyService>(
    s: &mut S,
    key_id: &str,
    policy_name: Option<&str>,
) -> Result<GetKeyPolicyResponse> {
    let params = RequestParameters::get_key_policy(key_id, policy_name);
    s.call("GetKeyPolicy", params, |s, call| {
        access::check_policy_name(policy_name)?;
        key_id_or_arn(s, "GetKeyPolicy", key_id)?;
        let rec = s.load_authorized(call, "GetKeyPolicy", key_id, &|r| r)?;
        Ok(GetKeyPolicyResponse {
            policy: rec
                .policy
                .clone()
                .unwrap_or_else(|| policy::default_key_policy(s.admin_principal())),
            policy_name: policy::DEFAULT_POLICY_NAME.into(),
        })
    })
}

/// ListKeyPolicies: always `["default"]`; `limit` 1–1000.
pub fn list_key_policies<S: KeyService>(
    s: &mut S,
    key_id: &str,
    limit: Option<u32>,
    marker: Option<&str>,
) -> Result<ListKeyPoliciesResponse> {
    let params = RequestParameters::list(Some(key_id), limit, marker);
    s.call("ListKeyPolicies", params, |s, call| {
        key_id_or_arn(s, "ListKeyPolicies", key_id)?;
        s.load_authorized(call, "ListKeyPolicies", key_id, &|r| r)?;
        let names = alloc::vec![String::from(policy::DEFAULT_POLICY_NAME)];
        let (policy_names, next_marker) = paginate_index(names, limit, marker)?;
        Ok(ListKeyPoliciesResponse {
            policy_names,
            truncated: next_marker.is_some(),
            next_marker,
        })
    })
}

// ---- imported key material --------------------------------------------------------

/// GetParametersForImport ([`asym::get_parameters_for_import`]).
pub fn get_parameters_for_import<S: KeyService>(
    s: &mut S,
    req: &GetParametersForImportRequest,
) -> Result<GetParametersForImportResponse> {
    let mut params = RequestParameters::key(&req.key_id);
    params.wrapping_algorithm = req.wrapping_algorithm.map(|a| a.as_str().into());
    s.call("GetParametersForImport", params, |s, call| {
        key_id_or_arn(s, "GetParametersForImport", &req.key_id)?;
        let rec = s.load_authorized(call, "GetParametersForImport", &req.key_id, &|r| {
            access::import_parameters_conditions(r, req)
        })?;
        s.with_env(|env, rng| asym::get_parameters_for_import(env, rng, &rec, req))
    })
}

/// ImportKeyMaterial ([`asym::import_key_material`]).
pub fn import_key_material<S: KeyService>(s: &mut S, req: &ImportKeyMaterialRequest) -> Result<()> {
    let mut params = RequestParameters::key(&req.key_id);
    params.expiration_model = req.expiration_model.map(|m| m.as_str().into());
    params.valid_to = req.valid_to;
    s.call("ImportKeyMaterial", params, |s, call| {
        check_length("ImportToken", &req.import_token, asym::MAX_IMPORT_TOKEN)?;
        let material = &req.encrypted_key_material;
        check_length(
            "EncryptedKeyMaterial",
            material,
            asym::MAX_ENCRYPTED_KEY_MATERIAL,
        )?;
        key_id_or_arn(s, "ImportKeyMaterial", &req.key_id)?;
        s.modify_authorized(
            call,
            "ImportKeyMaterial",
            &req.key_id,
            &|r| access::import_conditions(r, req),
            |env, rng, r| asym::import_key_material(env, rng, r, req),
        )
    })
}

/// DeleteImportedKeyMaterial ([`asym::delete_imported_key_material`]).
pub fn delete_imported_key_material<S: KeyService>(s: &mut S, key_id: &str) -> Result<()> {
    simple_change(s, "DeleteImportedKeyMaterial", key_id, |_, _, r| {
        asym::delete_imported_key_material(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(target: &str) -> AliasRecord {
        AliasRecord {
            alias_name: "alias/a".into(),
            target_key_id: target.into(),
            creation_date: 0,
            last_updated_date: 0,
        }
    }

    fn record(generation: u64) -> KeyRecord {
        KeyRecord {
            key_id: "k1".into(),
            arn: "arn:aws:kms:us-east-1:111122223333:key/k1".into(),
            account: "111122223333".into(),
            creation_date: 0,
            description: String::new(),
            key_spec: crate::key::KeySpec::SymmetricDefault,
            key_usage: crate::key::KeyUsage::EncryptDecrypt,
            origin: crate::key::Origin::AwsKms,
            state: KeyState::Enabled,
            deletion_date: None,
            pending_window_days: None,
            tags: Default::default(),
            rotation: Default::default(),
            backing_keys: Vec::new(),
            policy: None,
            valid_to: None,
            import_commitment: None,
            generation,
            extra: Default::default(),
        }
    }

    fn grant(id: &str) -> Grant {
        Grant {
            key_id: "arn:aws:kms:us-east-1:111122223333:key/k1".into(),
            grant_id: id.into(),
            name: None,
            creation_date: 0,
            grantee_principal: "arn:aws:iam::111122223333:user/a".into(),
            retiring_principal: None,
            issuing_account: "arn:aws:iam::111122223333:root".into(),
            operations: alloc::vec![crate::grant::GrantOperation::CreateGrant],
            constraints: None,
        }
    }

    /// `record(4)` after a PutKeyPolicy.
    fn repolicied() -> KeyRecord {
        let mut r = record(5);
        r.policy = Some("{}".into());
        r
    }

    /// A change of the record between a call's authorization and its write
    /// leaves the authorization standing only if no authorization reads
    /// what changed: the description, the generation, and the tags unless
    /// the policy tests `aws:ResourceTag/`. Any other field stops it.
    #[test]
    fn only_changes_no_authorization_reads_leave_it_standing() {
        let then = record(4);
        let mut described = record(5);
        described.description = "new".into();
        let mut tagged = record(6);
        tagged.tags.insert("team".into(), "b".into());
        for tags_seen in [false, true] {
            assert!(same_for_authorization(&then, &record(4), tags_seen));
            assert!(same_for_authorization(&then, &described, tags_seen));
        }
        assert!(same_for_authorization(&then, &tagged, false));
        assert!(!same_for_authorization(&then, &tagged, true));
        let changes: [fn(&mut KeyRecord); 14] = [
            |r| r.key_id = "k2".into(),
            |r| r.arn.push('x'),
            |r| r.account = "444455556666".into(),
            |r| r.creation_date = 1,
            |r| r.key_spec = crate::key::KeySpec::Hmac256,
            |r| r.key_usage = crate::key::KeyUsage::GenerateVerifyMac,
            |r| r.origin = crate::key::Origin::External,
            |r| r.state = KeyState::Disabled,
            |r| r.deletion_date = Some(7),
            |r| r.pending_window_days = Some(7),
            |r| r.rotation.enabled = true,
            |r| r.policy = Some("{}".into()),
            |r| r.valid_to = Some(7),
            |r| r.import_commitment = Some("c".into()),
        ];
        for (i, change) in changes.iter().enumerate() {
            let mut now = record(5);
            change(&mut now);
            assert!(!same_for_authorization(&then, &now, false), "change {i}");
        }
        let mut now = record(5);
        now.extra
            .insert("later".into(), serde_json::Value::Bool(true));
        assert!(!same_for_authorization(&then, &now, false));
    }

    /// The policy decides whether the tags are read: only a condition on an
    /// `aws:ResourceTag/` key (in any case) counts, not `aws:RequestTag/`.
    #[test]
    fn a_resource_tag_condition_makes_the_tags_part_of_the_authorization() {
        let policy = |key: &str| {
            crate::policy::Policy::parse(&alloc::format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{{"StringEquals":{{"{key}":"x"}}}}}}]}}"#
            ))
            .unwrap()
        };
        assert!(policy("aws:ResourceTag/team").tests_resource_tags());
        assert!(policy("AWS:resourcetag/Team").tests_resource_tags());
        assert!(!policy("aws:RequestTag/team").tests_resource_tags());
        assert!(!policy("kms:KeySpec").tests_resource_tags());
    }

    /// Reads inside a write, as a keystore's transaction would give them,
    /// for the principal `user/a` at Unix second 100, under `policy` (the
    /// key's own policy is used when it has one); with `broken`, every
    /// read of grants or aliases fails (a row that fails its integrity
    /// check).
    struct Now {
        grants: Vec<Grant>,
        aliases: Vec<String>,
        policy: Policy,
        broken: bool,
        /// How many times the grants were read.
        grant_reads: core::cell::Cell<usize>,
    }

    impl Now {
        fn new(grants: &[&str], aliases: &[&str]) -> Self {
            Now {
                grants: grants.iter().map(|g| grant(g)).collect(),
                aliases: aliases.iter().map(|a| String::from(*a)).collect(),
                policy: Policy::parse(
                    r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/a"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}"#,
                )
                .unwrap(),
                broken: false,
                grant_reads: core::cell::Cell::new(0),
            }
        }

        fn read<T: Clone>(&self, rows: &T) -> Result<T> {
            if self.broken {
                return Err(Error::internal("a grant row failed its integrity check"));
            }
            Ok(rows.clone())
        }
    }

    impl InWrite for Now {
        fn grants_of(&self, _: &str) -> Result<Vec<Grant>> {
            self.grant_reads.set(self.grant_reads.get() + 1);
            self.read(&self.grants)
        }
        fn aliases_of(&self, _: &str) -> Result<Vec<String>> {
            self.read(&self.aliases)
        }
        fn principal(&self) -> &str {
            "arn:aws:iam::111122223333:user/a"
        }
        fn region(&self) -> &str {
            "us-east-1"
        }
        fn account(&self) -> &str {
            "111122223333"
        }
        fn request_time(&self) -> u64 {
            100
        }
        fn source_ip(&self) -> Option<core::net::IpAddr> {
            None
        }
        fn key_policy(&self, rec: &KeyRecord) -> Result<SharedPolicy<'_>> {
            Ok(match access::stored_policy(rec)? {
                Some(p) => SharedPolicy(alloc::boxed::Box::new(alloc::boxed::Box::new(p))),
                None => SharedPolicy(alloc::boxed::Box::new(&self.policy)),
            })
        }
    }

    /// Every write authorized in an earlier read (PutKeyPolicy and the
    /// other key writes, alias writes, CreateGrant, RevokeGrant,
    /// RetireGrant) goes ahead on that authorization only if the key
    /// record, the grants that allowed the call and the aliases its policy
    /// tested are, inside the write, what it was authorized on.
    #[test]
    fn an_authorization_holds_only_for_what_it_was_made_on() {
        let names = |v: &[&str]| v.iter().map(|s| String::from(*s)).collect::<Vec<_>>();
        let key = record(4);
        let auth = |parents: Option<Vec<Grant>>, aliases: ConditionsSeen| Authorization {
            key: &key,
            parents,
            aliases,
        };
        let resource = ConditionsSeen {
            resource_aliases: Some(names(&["alias/a", "alias/b"])),
            ..ConditionsSeen::default()
        };
        let holds =
            |a: &Authorization<&KeyRecord>,
             now: Option<&KeyRecord>,
             grants: &[&str],
             aliases: &[&str]| { a.holds(now, &Now::new(grants, aliases)).unwrap() };
        let plain = auth(None, ConditionsSeen::default());
        assert!(holds(&plain, Some(&record(4)), &[], &[]));
        assert!(holds(&plain, Some(&record(4)), &[], &["alias/x"]));
        assert!(!holds(&plain, Some(&repolicied()), &[], &[]));
        assert!(!holds(&plain, None, &[], &[]));
        let mut other_key = record(4);
        other_key.key_id = "k2".into();
        assert!(!holds(&plain, Some(&other_key), &[], &[]));
        let by_grant = auth(Some(alloc::vec![grant("p1")]), ConditionsSeen::default());
        assert!(holds(&by_grant, Some(&record(4)), &["p0", "p1"], &[]));
        assert!(!holds(&by_grant, Some(&record(4)), &["p0"], &[]));
        let by_alias = auth(None, resource);
        assert!(by_alias.aliases.any());
        // The same set in another order still holds.
        assert!(holds(
            &by_alias,
            Some(&record(4)),
            &[],
            &["alias/b", "alias/a"]
        ));
        assert!(!holds(&by_alias, Some(&record(4)), &[], &["alias/a"]));
        assert!(!holds(
            &by_alias,
            Some(&record(4)),
            &[],
            &["alias/a", "alias/b", "alias/c"]
        ));
    }

    /// A write whose authorization no longer holds is authorized again on
    /// what its transaction reads, and recorded as a new call would be: a
    /// change that keeps the permission lets it go ahead at once (no start
    /// over), one that takes it away fails it with AccessDeniedException
    /// (never retried), and a key due for purge sends it back to start over.
    #[test]
    fn a_changed_authorization_is_made_again_inside_the_write() {
        let tagged = |team: &str| {
            let mut r = record(6);
            r.tags.insert("team".into(), team.into());
            r
        };
        let reads = Now::new(&[], &[]);
        let mut call = Call::new(RequestParameters::default());
        call.touch("arn:earlier");
        call.touch("arn:aws:kms:us-east-1:111122223333:key/stale");
        let call = core::cell::RefCell::new(&mut call);
        let stale = Stale::default();
        let again = |now: &KeyRecord| {
            reauthorize(&stale, &call, 1, &reads, &[Some(now)], |access, call| {
                check_authorized(
                    access,
                    call,
                    "TagResource",
                    now,
                    "k1",
                    &no_context(),
                    &|r| r,
                )
            })
        };
        again(&tagged("blue")).unwrap();
        assert!(!stale.0.get());
        assert_eq!(
            call.borrow().resources,
            ["arn:earlier", "arn:aws:kms:us-east-1:111122223333:key/k1"]
        );
        let e = again(&tagged("red")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AccessDeniedException);
        assert!(!stale.0.get(), "a denial is not retried");
        let mut due = tagged("blue");
        due.state = KeyState::PendingDeletion;
        due.deletion_date = Some(100);
        let e = again(&due).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException);
        assert!(stale.0.get(), "a key due for purge starts over");
        due.deletion_date = Some(101);
        again(&due).unwrap();
        assert!(!stale.0.get());
    }

    /// CreateGrant's check inside its write reads the key's grants once,
    /// also when its authorization no longer holds (the re-check reads
    /// them) and is made again on them (which reads them too, the key
    /// policy leaving the call to the grants): the equivalent-grant check
    /// and the per-key limit use the same read.
    #[test]
    fn a_grant_check_in_the_write_reads_the_grants_once() {
        let reads = Now::new(&["p0", "p1"], &[]);
        let now = record(4);
        let authorized = Authorization {
            key: &now,
            parents: Some(alloc::vec![grant("revoked")]),
            aliases: ConditionsSeen::default(),
        };
        let stale = Stale::default();
        let mut call = Call::new(RequestParameters::default());
        let call = core::cell::RefCell::new(&mut call);
        let mut again = 0;
        let mut named = grant("p1");
        named.grant_id = "new".into();
        let r = grant_in_write(&now, &reads, &named, |reads| {
            if authorized.holds(Some(&now), reads)? {
                return Ok(());
            }
            again += 1;
            reauthorize(&stale, &call, 0, reads, &[Some(&now)], |access, call| {
                let by = authorize(
                    access,
                    call,
                    "CreateGrant",
                    &now,
                    "k1",
                    &no_context(),
                    &|r| r,
                )?;
                assert!(by.is_some(), "allowed by a grant");
                Ok(())
            })
        })
        .unwrap();
        assert_eq!(again, 1, "authorized again");
        assert_eq!(r, None);
        assert_eq!(reads.grant_reads.get(), 1);
    }

    /// Only a write sent back to start over is retried: an error reading
    /// the rows inside the write (a tampered row, an I/O error) fails at
    /// once.
    #[test]
    fn only_a_write_sent_back_is_retried() {
        let key = record(4);
        let by_grant = Authorization {
            key: &key,
            parents: Some(alloc::vec![grant("p1")]),
            aliases: ConditionsSeen::default(),
        };
        let broken = Now {
            broken: true,
            ..Now::new(&[], &[])
        };
        let mut attempts = 0;
        let e = retry_stale(|_| {
            attempts += 1;
            by_grant.holds(Some(&record(4)), &broken)
        })
        .unwrap_err();
        assert!(e.message().contains("integrity check"), "{e}");
        assert_eq!(attempts, 1);
        let mut call = Call::new(RequestParameters::default());
        let call = core::cell::RefCell::new(&mut call);
        let mut due = record(5);
        due.state = KeyState::PendingDeletion;
        due.deletion_date = Some(1);
        let mut attempts = 0;
        let e = retry_stale(|stale| {
            attempts += 1;
            reauthorize(stale, &call, 0, &broken, &[Some(&due)], |_, _| Ok(()))
        })
        .unwrap_err();
        assert!(e.message().contains("retry"), "{e}");
        assert_eq!(attempts, MODIFY_ATTEMPTS);
    }

    /// An alias write goes ahead on its authorization only if the alias
    /// still points where it pointed when the call was authorized, and the
    /// authorization on that key still holds.
    #[test]
    fn an_alias_moved_after_authorization_needs_authorizing_again() {
        let key = record(4);
        let on = |key_id: &str, auth: bool| AliasTarget {
            key_id: key_id.into(),
            key: auth.then(|| Authorization {
                key: &key,
                parents: None,
                aliases: ConditionsSeen::default(),
            }),
        };
        let reads = Now::new(&[], &[]);
        let holds =
            |t: Option<&AliasTarget<&KeyRecord>>,
             a: Option<&AliasRecord>,
             k: Option<&KeyRecord>| { alias_target_holds(t, a, k, &reads).unwrap() };
        let (k1, k1_gone) = (on("k1", true), on("k1", false));
        assert!(holds(None, None, None));
        assert!(holds(Some(&k1), Some(&alias("k1")), Some(&record(4))));
        assert!(holds(Some(&k1_gone), Some(&alias("k1")), None));
        assert!(!holds(Some(&k1), Some(&alias("k2")), Some(&record(4))));
        assert!(!holds(Some(&k1), None, None));
        assert!(!holds(None, Some(&alias("k1")), Some(&record(4))));
        assert!(!holds(Some(&k1), Some(&alias("k1")), Some(&repolicied())));
        assert!(!holds(Some(&k1_gone), Some(&alias("k1")), Some(&record(4))));
    }
}
