//! ListKeys and ListAliases run one flow (`strongroom_core::service`) on
//! both keystores: the native SQLite keystore and the in-memory
//! `MemKeystore` (what the WebAssembly package runs), loaded from the same
//! export, give the same pages, markers, errors and audit events on the
//! paging edge cases: `Limit` 1 and the maximum, limits out of range,
//! malformed markers and markers of another List operation, and keys and
//! aliases deleted between two pages.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use serde_json::Value;
use strongroom::api::*;
use strongroom::core::memstore::MemKeystore;
use strongroom::core::paging::encode_marker;
use strongroom::core::seal::RootKey;
use strongroom::AuditFilter;

/// The operations the scenario runs, on either keystore.
trait Backend {
    fn list_keys(
        &mut self,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> strongroom::Result<ListKeysResponse>;
    fn list_aliases(
        &mut self,
        key_id: Option<&str>,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> strongroom::Result<ListAliasesResponse>;
    fn list_key_rotations(&mut self, key_id: &str, limit: u32) -> ListKeyRotationsResponse;
    fn schedule_key_deletion(&mut self, key_id: &str);
    fn delete_alias(&mut self, alias_name: &str);
    /// Moves the clock to `now`.
    fn set_now(&mut self, now: u64);
    /// Moves the clock to `now` and purges the keys due by then.
    fn purge_at(&mut self, now: u64);
    /// `(requestParameters, errorCode)` of the audit events of `op`.
    fn audited(&self, op: &str) -> Vec<(Value, Value)>;
}

struct Native<'a>(&'a Fixture);

impl Backend for Native<'_> {
    fn list_keys(
        &mut self,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> strongroom::Result<ListKeysResponse> {
        self.0.ks.list_keys(limit, marker)
    }
    fn list_aliases(
        &mut self,
        key_id: Option<&str>,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> strongroom::Result<ListAliasesResponse> {
        self.0.ks.list_aliases(key_id, limit, marker)
    }
    fn list_key_rotations(&mut self, key_id: &str, limit: u32) -> ListKeyRotationsResponse {
        self.0
            .ks
            .list_key_rotations(key_id, Some(limit), None)
            .unwrap()
    }
    fn schedule_key_deletion(&mut self, key_id: &str) {
        self.0.ks.schedule_key_deletion(key_id, Some(7)).unwrap();
    }
    fn delete_alias(&mut self, alias_name: &str) {
        self.0.ks.delete_alias(alias_name).unwrap();
    }
    fn set_now(&mut self, now: u64) {
        self.0.clock.set(now);
    }
    fn purge_at(&mut self, now: u64) {
        self.0.clock.set(now);
        self.0.ks.purge_deleted_keys().unwrap();
    }
    fn audited(&self, op: &str) -> Vec<(Value, Value)> {
        let filter = AuditFilter {
            event_name: Some(op.into()),
            ..AuditFilter::default()
        };
        self.0
            .ks
            .audit_events(&filter)
            .unwrap()
            .iter()
            .map(audited_fields)
            .collect()
    }
}

struct Memory {
    ks: MemKeystore,
    now: u64,
}

impl Backend for Memory {
    fn list_keys(
        &mut self,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> strongroom::Result<ListKeysResponse> {
        self.ks
            .list_keys(&mut strongroom::os_rng(), self.now, limit, marker)
    }
    fn list_aliases(
        &mut self,
        key_id: Option<&str>,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> strongroom::Result<ListAliasesResponse> {
        self.ks
            .list_aliases(&mut strongroom::os_rng(), self.now, key_id, limit, marker)
    }
    fn list_key_rotations(&mut self, key_id: &str, limit: u32) -> ListKeyRotationsResponse {
        self.ks
            .list_key_rotations(
                &mut strongroom::os_rng(),
                self.now,
                key_id,
                Some(limit),
                None,
            )
            .unwrap()
    }
    fn schedule_key_deletion(&mut self, key_id: &str) {
        self.ks
            .schedule_key_deletion(&mut strongroom::os_rng(), self.now, key_id, Some(7))
            .unwrap();
    }
    fn delete_alias(&mut self, alias_name: &str) {
        self.ks
            .delete_alias(&mut strongroom::os_rng(), self.now, alias_name)
            .unwrap();
    }
    fn set_now(&mut self, now: u64) {
        self.now = now;
    }
    fn purge_at(&mut self, now: u64) {
        self.now = now;
        self.ks
            .purge_deleted_keys(&mut strongroom::os_rng(), now)
            .unwrap();
    }
    fn audited(&self, op: &str) -> Vec<(Value, Value)> {
        self.ks
            .audit_lines()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["eventName"] == op)
            .map(|e| audited_fields(&e))
            .collect()
    }
}

fn audited_fields(e: &Value) -> (Value, Value) {
    (e["requestParameters"].clone(), e["errorCode"].clone())
}

/// What a call returned, as text to compare between keystores.
fn outcome<T: std::fmt::Debug>(r: &strongroom::Result<T>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => e.code().to_string(),
    }
}

/// Every key ID, walking ListKeys `limit` keys at a time from `marker`;
/// checks each page's shape and records it in `log`.
fn walk_keys(
    b: &mut dyn Backend,
    limit: u32,
    mut marker: Option<String>,
    log: &mut Vec<String>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..100 {
        let page = b.list_keys(Some(limit), marker.as_deref()).unwrap();
        log.push(format!("{page:?}"));
        assert!(page.keys.len() <= limit as usize);
        assert_eq!(page.truncated, page.next_marker.is_some());
        ids.extend(page.keys.into_iter().map(|k| k.key_id));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => return ids,
        }
    }
    panic!("ListKeys paging does not end");
}

/// Every alias name (of `key_id` when given), walking ListAliases `limit`
/// at a time; checks each page's shape and records it in `log`.
fn walk_aliases(
    b: &mut dyn Backend,
    key_id: Option<&str>,
    limit: u32,
    log: &mut Vec<String>,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..100 {
        let page = b
            .list_aliases(key_id, Some(limit), marker.as_deref())
            .unwrap();
        log.push(format!("{page:?}"));
        assert!(page.aliases.len() <= limit as usize);
        assert_eq!(page.truncated, page.next_marker.is_some());
        names.extend(page.aliases.into_iter().map(|a| a.alias_name));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => return names,
        }
    }
    panic!("ListAliases paging does not end");
}

/// The keys (sorted) and `alias/...` names of the shared starting point.
struct Setup {
    keys: Vec<String>,
    /// Aliases of `keys[0]`, interleaved in name order with the others.
    of_first: Vec<String>,
    aliases: Vec<String>,
}

/// Runs the scenario on `b`; returns everything it saw, in order.
fn scenario(b: &mut dyn Backend, s: &Setup) -> Vec<String> {
    let mut log = Vec::new();
    let k = &s.keys;

    // Limit 1: one key per page, every key once, in key ID order.
    assert_eq!(walk_keys(b, 1, None, &mut log), *k);
    // Limit 1000 (the maximum): everything on one page.
    let all = b.list_keys(Some(1000), None).unwrap();
    assert!(!all.truncated && all.next_marker.is_none());
    assert_eq!(all.keys.len(), k.len());
    log.push(format!("{all:?}"));
    // ListAliases: Limit 1, and its maximum 100; the KeyId filter.
    assert_eq!(walk_aliases(b, None, 1, &mut log), s.aliases);
    assert_eq!(walk_aliases(b, None, 100, &mut log), s.aliases);
    assert_eq!(walk_aliases(b, Some(&k[0]), 1, &mut log), s.of_first);
    // The KeyId filter takes a key ID or key ARN only, as in KMS: an
    // alias is NotFoundException in both keystores.
    let by_alias = outcome(&b.list_aliases(Some(&s.of_first[1]), Some(2), None));
    assert_eq!(by_alias, "NotFoundException");
    log.push(by_alias);

    // Limits out of range are ValidationException (ListAliases stops at 100).
    for limit in [0, 1001, u32::MAX] {
        log.push(outcome(&b.list_keys(Some(limit), None)));
    }
    for limit in [0, 101, 1000] {
        log.push(outcome(&b.list_aliases(None, Some(limit), None)));
    }

    // Malformed markers, and markers another List operation made (a
    // rotation index, an alias name, a key ID not in canonical form).
    let key_marker = b.list_keys(Some(1), None).unwrap().next_marker.unwrap();
    let alias_marker = b
        .list_aliases(None, Some(1), None)
        .unwrap()
        .next_marker
        .unwrap();
    let rotation_marker = b.list_key_rotations(&k[0], 1).next_marker.unwrap();
    let bad_markers = [
        "%%% not a marker".to_string(),
        encode_marker("not-a-key-id"),
        encode_marker(&k[0].to_uppercase()),
        alias_marker.clone(),
        rotation_marker.clone(),
    ];
    for m in &bad_markers {
        log.push(format!(
            "ListKeys {m:?}: {}",
            outcome(&b.list_keys(None, Some(m)))
        ));
    }
    for m in [
        &key_marker,
        &rotation_marker,
        &bad_markers[0],
        &bad_markers[2],
    ] {
        let r = b.list_aliases(None, None, Some(m));
        log.push(format!("ListAliases {m:?}: {}", outcome(&r)));
    }

    // A key deleted between two pages: the marker's own key (k[1]) is
    // purged, the next one (k[2]) is due for purge but still stored. The
    // walk goes on after the marker and lists neither.
    let first = b.list_keys(Some(2), None).unwrap();
    assert_eq!(first.next_marker.as_deref(), Some(&*encode_marker(&k[1])));
    b.schedule_key_deletion(&k[1]);
    b.purge_at(T0 + 7 * DAY + 1);
    b.schedule_key_deletion(&k[2]);
    b.set_now(T0 + 14 * DAY + 2);
    let rest = walk_keys(b, 2, first.next_marker, &mut log);
    assert_eq!(rest, k[3..].to_vec());
    // The aliases of the purged key are gone; its KeyId filter is NotFound.
    log.push(outcome(&b.list_aliases(Some(&k[1]), None, None)));

    // An alias deleted between two pages: the walk goes on after it.
    let page = b.list_aliases(None, Some(1), None).unwrap();
    let gone = page.aliases[0].alias_name.clone();
    b.delete_alias(&gone);
    let after = b
        .list_aliases(None, Some(1), page.next_marker.as_deref())
        .unwrap();
    assert!(after.aliases[0].alias_name > gone);
    log.push(format!("{after:?}"));

    for op in ["ListKeys", "ListAliases"] {
        log.push(format!("{op}: {:?}", b.audited(op)));
    }
    log
}

#[test]
fn both_keystores_agree_on_listing_edge_cases() {
    let f = fixture();
    let mut keys: Vec<String> = (0..6).map(|_| new_key(&f.ks).key_id).collect();
    keys.sort();
    f.ks.rotate_key_on_demand(&keys[0]).unwrap();
    f.ks.rotate_key_on_demand(&keys[0]).unwrap();
    // Aliases of keys[0] between aliases of other keys, by name.
    let mut of_first = Vec::new();
    let mut aliases = Vec::new();
    for (i, name) in ["a", "b", "c", "d", "e", "f", "g"].iter().enumerate() {
        let alias = format!("alias/{name}");
        let target = if i % 2 == 0 {
            &keys[0]
        } else {
            &keys[1 + i % 4]
        };
        f.ks.create_alias(&alias, target).unwrap();
        if i % 2 == 0 {
            of_first.push(alias.clone());
        }
        aliases.push(alias);
    }
    let setup = Setup {
        keys,
        of_first,
        aliases,
    };
    let root = RootKey::from_bytes(&ROOT).unwrap();
    let mut memory = Memory {
        ks: MemKeystore::import_sealed(&f.ks.export_sealed().unwrap(), root).unwrap(),
        now: T0,
    };
    let native = scenario(&mut Native(&f), &setup);
    let in_memory = scenario(&mut memory, &setup);
    assert_eq!(native.len(), in_memory.len());
    for (n, m) in native.iter().zip(&in_memory) {
        assert_eq!(n, m, "the keystores disagree");
    }

    // What they agree on: out-of-range limits are ValidationException, and
    // every malformed or foreign marker is InvalidMarkerException.
    let codes = |prefix: &str| -> Vec<String> {
        native
            .iter()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.rsplit(": ").next().unwrap().to_string())
            .collect()
    };
    let invalid = "InvalidMarkerException".to_string();
    assert_eq!(codes("ListKeys \""), vec![invalid.clone(); 5]);
    assert_eq!(codes("ListAliases \""), vec![invalid; 4]);
    assert_eq!(
        native
            .iter()
            .filter(|l| *l == "ValidationException")
            .count(),
        6
    );
    assert!(native.contains(&"NotFoundException".to_string()));
    let audited = native.iter().find(|l| l.starts_with("ListKeys: ")).unwrap();
    assert!(audited.contains("InvalidMarkerException") && audited.contains("\"limit\": Number(1)"));
}
