//! The record cache: parsed, authenticated key records (with their parsed
//! key policies), alias targets and the grants of a key, so that the
//! cryptographic hot path does not read SQLite (nor, for a call that only a
//! grant allows, read and authenticate every grant row of the key).
//!
//! # Freshness
//!
//! Before every lookup the keystore asks its storage for the change counter
//! ([`Storage::change_counter`](crate::store::Storage::change_counter): on
//! Unix the change-signal file every write transaction of this library
//! moves, two atomic loads from shared memory; SQLite's `PRAGMA
//! data_version`, which moves when any connection of any process commits,
//! while a write is in progress, without a usable signal file, and at least
//! every [`SIGNAL_RECHECK`](crate::store::SIGNAL_RECHECK)). When it moved,
//! the keystore reads the sealed integrity state (`meta/state`, see
//! `docs/FORMAT.md`) and empties the cache if the digests of its key, alias
//! and grant rows (a SHA-256 of its level-1 digests) differ from those the
//! cache was filled under. So a key disabled, deleted, rotated or re-aliased,
//! or a grant created, retired or revoked, by another handle or process of
//! this library is seen on the next call
//! (by another program writing the file directly, within
//! `SIGNAL_RECHECK`); an audit checkpoint (which moves only the state's
//! checkpoint and counter) or other `meta` write leaves the cache alone.
//!
//! Entries loaded before a change but inserted after the cache was emptied
//! are refused (the cache's generation moved), so a stale record never
//! enters it.
//!
//! Tampering: a cached record or grant was authenticated when it was read. A row
//! edited in the file afterwards is not re-read while the cache holds it and
//! the integrity state does not change; it fails authentication (as before the
//! cache) on the next read that misses the cache: after any write that
//! changes the integrity state, after eviction, or in another handle or process.
//!
//! The cache holds no secret: key material stays sealed in the records
//! (public keys of asymmetric keys are kept once derived).
//! Its size is bounded by [`CAPACITY`] keys (least recently used evicted)
//! and [`GRANT_CAPACITY`] grants (all dropped when a key's grants would
//! pass it; a key with more grants than that is not cached).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use strongroom_core::grant::Grant;
use strongroom_core::key::KeyRecord;
use strongroom_core::ops::Env;
use strongroom_core::policy::Policy;

/// Most key records (and, separately, alias targets) the cache holds.
pub(crate) const CAPACITY: usize = 8192;

/// Most grants, summed over the keys whose grants are cached, the cache holds.
pub(crate) const GRANT_CAPACITY: usize = 65_536;

/// A cached key record and its parsed key policy.
pub(crate) struct CachedKey {
    pub rec: KeyRecord,
    /// The parsed `rec.policy`; `None` for the default policy or a policy
    /// that does not parse (then the caller parses it and reports the error).
    pub policy: Option<Arc<Policy>>,
    /// The DER SubjectPublicKeyInfo of an asymmetric key, derived on first
    /// use (public, so it may be kept).
    public_key: OnceLock<Arc<[u8]>>,
    used: AtomicU64,
}

impl CachedKey {
    pub(crate) fn new(rec: KeyRecord) -> Self {
        let policy = rec
            .policy
            .as_deref()
            .and_then(|t| Policy::parse(t).ok())
            .map(Arc::new);
        CachedKey {
            rec,
            policy,
            public_key: OnceLock::new(),
            used: AtomicU64::new(0),
        }
    }

    /// The record's public key ([`strongroom_core::asym::record_public_key`]),
    /// derived once per cached record instead of on every call.
    pub(crate) fn public_key(&self, env: &Env<'_>) -> strongroom_core::Result<Arc<[u8]>> {
        if let Some(k) = self.public_key.get() {
            return Ok(k.clone());
        }
        let k: Arc<[u8]> = strongroom_core::asym::record_public_key(env, &self.rec)?.into();
        Ok(self.public_key.get_or_init(|| k).clone())
    }
}

impl std::ops::Deref for CachedKey {
    type Target = KeyRecord;
    fn deref(&self) -> &KeyRecord {
        &self.rec
    }
}

#[derive(Default)]
struct State {
    /// The change counter the contents were last validated at.
    epoch: Option<u64>,
    /// The fingerprint of the rows (integrity state) the contents were read under.
    digest: [u8; 32],
    /// Moves whenever the cache is emptied.
    generation: u64,
    keys: HashMap<String, Arc<CachedKey>>,
    aliases: HashMap<String, String>,
    /// Every grant of a key (key ID), in grant ID order, as read.
    grants: HashMap<String, Arc<[Grant]>>,
    /// The grants in `grants`, summed.
    grant_count: usize,
}

impl State {
    fn clear(&mut self) {
        self.keys.clear();
        self.aliases.clear();
        self.grants.clear();
        self.grant_count = 0;
        self.generation += 1;
    }
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct RecordCache {
    state: RwLock<State>,
    tick: AtomicU64,
}

impl RecordCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The generation to insert under if the cache was validated at `epoch`.
    pub(crate) fn generation_at(&self, epoch: u64) -> Option<u64> {
        let s = self.read();
        (s.epoch == Some(epoch)).then_some(s.generation)
    }

    /// Records a validation at `epoch` against `digest` (read after the
    /// counter); empties the cache if the digest moved. Returns the
    /// generation to insert under.
    pub(crate) fn validate(&self, epoch: u64, digest: [u8; 32]) -> u64 {
        let mut s = self.write();
        if s.digest != digest || s.epoch.is_none() {
            s.clear();
            s.digest = digest;
        }
        if s.epoch.is_none_or(|e| e < epoch) {
            s.epoch = Some(epoch);
        }
        s.generation
    }

    /// Empties the cache (after this handle's own writes).
    pub(crate) fn invalidate(&self) {
        let mut s = self.write();
        s.clear();
        s.epoch = None;
    }

    pub(crate) fn key(&self, key_id: &str) -> Option<Arc<CachedKey>> {
        let s = self.read();
        let e = s.keys.get(key_id)?;
        e.used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(e.clone())
    }

    pub(crate) fn alias(&self, name: &str) -> Option<String> {
        self.read().aliases.get(name).cloned()
    }

    /// Every grant of the key `key_id` (a key ID), when cached.
    pub(crate) fn grants(&self, key_id: &str) -> Option<Arc<[Grant]>> {
        self.read().grants.get(key_id).cloned()
    }

    /// Caches the grants of `key_id` read under `generation` (refused if the
    /// cache was emptied since, or if they alone pass [`GRANT_CAPACITY`]).
    pub(crate) fn insert_grants(&self, generation: u64, key_id: &str, grants: &Arc<[Grant]>) {
        let mut s = self.write();
        if s.generation != generation || grants.len() > GRANT_CAPACITY {
            return;
        }
        if let Some(old) = s.grants.remove(key_id) {
            s.grant_count -= old.len();
        }
        if s.grant_count + grants.len() > GRANT_CAPACITY || s.grants.len() >= CAPACITY {
            s.grants.clear();
            s.grant_count = 0;
        }
        s.grant_count += grants.len();
        s.grants.insert(key_id.to_owned(), grants.clone());
    }

    /// Inserts an entry loaded under `generation` (refused if the cache was
    /// emptied since), and the alias it was found through.
    pub(crate) fn insert(&self, generation: u64, alias: Option<&str>, entry: &Arc<CachedKey>) {
        let mut s = self.write();
        if s.generation != generation {
            return;
        }
        if s.keys.len() >= CAPACITY {
            // Evict the least recently used half.
            let mut used: Vec<(u64, String)> = s
                .keys
                .iter()
                .map(|(k, e)| (e.used.load(Ordering::Relaxed), k.clone()))
                .collect();
            used.sort_unstable();
            for (_, k) in used.into_iter().take(CAPACITY / 2) {
                s.keys.remove(&k);
            }
        }
        if let Some(a) = alias {
            if s.aliases.len() >= CAPACITY {
                s.aliases.clear();
            }
            s.aliases.insert(a.to_owned(), entry.rec.key_id.clone());
        }
        entry
            .used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        s.keys.insert(entry.rec.key_id.clone(), entry.clone());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use strongroom_core::api::CreateKeyRequest;
    use strongroom_core::ops::{create_key, Env};
    use strongroom_core::seal::RootKey;

    #[test]
    fn the_cache_is_bounded_and_keeps_recently_used_keys() {
        let root = RootKey::from_bytes(&[7u8; 32]).unwrap();
        let env = Env {
            region: "local-1",
            account: "000000000000",
            root: &root,
            now: 1_704_067_200,
        };
        let cache = RecordCache::default();
        let g = cache.validate(1, [0u8; 32]);
        let mut rng = crate::os_rng();
        let mut first = None;
        for i in 0..=CAPACITY {
            let rec = create_key(&env, &mut rng, &CreateKeyRequest::default()).unwrap();
            let entry = Arc::new(CachedKey::new(rec));
            cache.insert(g, None, &entry);
            let id = entry.rec.key_id.clone();
            if i == 0 {
                first = Some(id);
            }
            // Keep touching the first key so that it is never the least recently used.
            assert!(cache.key(first.as_deref().unwrap()).is_some());
            assert!(cache.read().keys.len() <= CAPACITY);
        }
        assert!(cache.read().keys.len() <= CAPACITY / 2 + 1);
        // A stale loader (an older generation) cannot insert.
        cache.invalidate();
        let rec = create_key(&env, &mut rng, &CreateKeyRequest::default()).unwrap();
        cache.insert(g, None, &Arc::new(CachedKey::new(rec)));
        assert!(cache.read().keys.is_empty());
    }

    #[test]
    fn cached_grants_are_bounded_and_dropped_with_the_records() {
        let grant: Grant = serde_json::from_value(serde_json::json!({
            "KeyId": "arn:aws:kms:local-1:000000000000:key/k",
            "GrantId": "0".repeat(64),
            "CreationDate": 0,
            "GranteePrincipal": "arn:aws:iam::000000000000:user/app",
            "IssuingAccount": "arn:aws:iam::000000000000:root",
            "Operations": ["Encrypt"],
        }))
        .unwrap();
        let list = |n: usize| -> Arc<[Grant]> { vec![grant.clone(); n].into() };
        let cache = RecordCache::default();
        let g = cache.validate(1, [0u8; 32]);
        cache.insert_grants(g, "a", &list(GRANT_CAPACITY / 2));
        cache.insert_grants(g, "b", &list(GRANT_CAPACITY / 4));
        assert_eq!(cache.grants("a").unwrap().len(), GRANT_CAPACITY / 2);
        // Replacing a key's list counts it once.
        cache.insert_grants(g, "a", &list(GRANT_CAPACITY / 2));
        assert_eq!(
            cache.read().grant_count,
            GRANT_CAPACITY / 2 + GRANT_CAPACITY / 4
        );
        // Past the bound: everything else is dropped first.
        cache.insert_grants(g, "c", &list(GRANT_CAPACITY / 2));
        assert!(cache.grants("a").is_none() && cache.grants("b").is_none());
        assert_eq!(cache.read().grant_count, GRANT_CAPACITY / 2);
        // A list longer than the bound is not cached.
        cache.insert_grants(g, "d", &list(GRANT_CAPACITY + 1));
        assert!(cache.grants("d").is_none());
        // A moved digest, or this handle's own write, empties it; a stale
        // loader (older generation) cannot insert.
        let g2 = cache.validate(2, [1u8; 32]);
        assert!(g2 != g && cache.grants("c").is_none());
        assert_eq!(cache.read().grant_count, 0);
        cache.insert_grants(g2, "e", &list(1));
        cache.invalidate();
        assert!(cache.grants("e").is_none());
        cache.insert_grants(g2, "e", &list(1));
        assert!(cache.grants("e").is_none());
    }
}
