//! The deletion window with an injected clock: a key pending deletion exists
//! and refuses cryptography until its date, then it and its aliases are gone.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::collections::BTreeSet;

use fixture::*;
use strongroom::core::key::KeyState;
use strongroom::{ErrorKind, Keystore};

fn listed_keys(ks: &Keystore, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..100 {
        let p = ks.list_keys(Some(limit), marker.as_deref()).unwrap();
        assert_eq!(
            p.truncated,
            p.next_marker.is_some(),
            "Truncated must come with a NextMarker"
        );
        out.extend(p.keys.into_iter().map(|k| k.key_id));
        match p.next_marker {
            Some(m) => marker = Some(m),
            None => return out,
        }
    }
    panic!("ListKeys pagination does not terminate");
}

fn alias_names(ks: &Keystore) -> BTreeSet<String> {
    ks.list_aliases(None, None, None)
        .unwrap()
        .aliases
        .into_iter()
        .map(|a| a.alias_name)
        .collect()
}

#[test]
fn deletion_window_then_purge() {
    let f = fixture();
    let doomed = new_key(&f.ks);
    let doomed_too = new_key(&f.ks);
    let later = new_key(&f.ks);
    let keeper = new_key(&f.ks);
    f.ks.create_alias("alias/doomed-1", &doomed.key_id).unwrap();
    f.ks.create_alias("alias/doomed-2", &doomed.key_id).unwrap();
    f.ks.create_alias("alias/keeper", &keeper.key_id).unwrap();
    let c = ctx(&[("k", "v")]);
    let old = encrypt(&f.ks, &doomed.key_id, b"made before deletion", &c);

    let s = f.ks.schedule_key_deletion(&doomed.key_id, Some(7)).unwrap();
    assert_eq!(s.deletion_date, T0 + 7 * DAY);
    f.ks.schedule_key_deletion(&doomed_too.key_id, Some(7))
        .unwrap();
    f.ks.schedule_key_deletion(&later.key_id, Some(30)).unwrap();

    // One second before the date: the key exists, pending deletion, refusing crypto.
    f.clock.set(T0 + 7 * DAY - 1);
    let m = f.ks.describe_key("alias/doomed-1").unwrap().key_metadata;
    assert_eq!(m.key_state, KeyState::PendingDeletion);
    assert_eq!(m.deletion_date, Some(T0 + 7 * DAY));
    expect_err(
        try_encrypt(&f.ks, &doomed.key_id, b"no"),
        ErrorKind::KMSInvalidStateException,
    );
    expect_err(
        try_decrypt(&f.ks, &old, &c, None),
        ErrorKind::KMSInvalidStateException,
    );
    expect_err(
        gdk(&f.ks, &doomed.key_id),
        ErrorKind::KMSInvalidStateException,
    );
    assert_eq!(listed_keys(&f.ks, 100).len(), 4);
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 0, "nothing is due yet");

    // The date has come: ListKeys omits the keys even before they are purged.
    f.clock.set(T0 + 7 * DAY);
    let listed: BTreeSet<_> = listed_keys(&f.ks, 100).into_iter().collect();
    assert_eq!(
        listed,
        BTreeSet::from([later.key_id.clone(), keeper.key_id.clone()])
    );
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 2);
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 0, "purge is idempotent");

    for id in [
        doomed.key_id.as_str(),
        doomed.arn.as_str(),
        doomed_too.key_id.as_str(),
    ] {
        expect_err(f.ks.describe_key(id), ErrorKind::NotFoundException);
        expect_err(f.ks.enable_key(id), ErrorKind::NotFoundException);
        expect_err(f.ks.cancel_key_deletion(id), ErrorKind::NotFoundException);
    }
    expect_err(
        f.ks.describe_key("alias/doomed-1"),
        ErrorKind::NotFoundException,
    );
    assert_eq!(
        alias_names(&f.ks),
        BTreeSet::from(["alias/keeper".to_string()])
    );
    // A blob of a deleted key is just an undecryptable blob.
    expect_err(
        try_decrypt(&f.ks, &old, &c, None),
        ErrorKind::InvalidCiphertextException,
    );
    // The alias name is free again.
    f.ks.create_alias("alias/doomed-1", &keeper.key_id).unwrap();

    // The 30-day key is still there, still pending.
    assert_eq!(
        f.ks.describe_key(&later.key_id)
            .unwrap()
            .key_metadata
            .key_state,
        KeyState::PendingDeletion
    );

    // A reopened keystore agrees.
    let reopened = Keystore::open(&f.path, root_source(&ROOT))
        .unwrap()
        .with_clock(f.clock.clone());
    expect_err(
        reopened.describe_key(&doomed.key_id),
        ErrorKind::NotFoundException,
    );
    assert_eq!(listed_keys(&reopened, 1).len(), 2);
}

#[test]
fn a_due_key_is_purged_when_used() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/lazy", &k.key_id).unwrap();
    f.ks.schedule_key_deletion(&k.key_id, Some(10)).unwrap();
    f.clock.advance(10 * DAY + 1);
    // No explicit purge: DescribeKey through the alias finds nothing.
    expect_err(f.ks.describe_key(&k.key_id), ErrorKind::NotFoundException);
    expect_err(
        f.ks.describe_key("alias/lazy"),
        ErrorKind::NotFoundException,
    );
    assert!(alias_names(&f.ks).is_empty());
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 0, "already purged");
    assert!(listed_keys(&f.ks, 10).is_empty());
}

#[test]
fn cancelled_deletion_outlives_the_date() {
    let f = fixture();
    let k = new_key(&f.ks);
    let c = ctx(&[]);
    let b = encrypt(&f.ks, &k.key_id, b"kept", &c);
    f.ks.schedule_key_deletion(&k.key_id, Some(7)).unwrap();
    f.clock.advance(6 * DAY);
    f.ks.cancel_key_deletion(&k.key_id).unwrap();
    f.clock.advance(365 * DAY);
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 0);
    let m = f.ks.describe_key(&k.key_id).unwrap().key_metadata;
    assert_eq!(m.key_state, KeyState::Disabled);
    assert_eq!(m.deletion_date, None);
    f.ks.enable_key(&k.key_id).unwrap();
    assert_eq!(decrypt(&f.ks, &b, &c), b"kept");
}

#[test]
fn list_keys_pages_past_keys_awaiting_purge() {
    let f = fixture();
    let mut ids: Vec<String> = (0..6).map(|_| new_key(&f.ks).key_id).collect();
    ids.sort();
    // The first two in listing order are due but not yet purged, so the
    // first page of two holds only keys that ListKeys omits.
    for id in &ids[..2] {
        f.ks.schedule_key_deletion(id, Some(7)).unwrap();
    }
    f.clock.advance(8 * DAY);
    for limit in [1u32, 2, 3, 100] {
        let listed = listed_keys(&f.ks, limit);
        assert_eq!(listed, ids[2..].to_vec(), "limit {limit}");
    }
}

/// A purged key's grants go with it, as in KMS: ListRetirableGrants (open
/// to every principal) no longer lists them and an export no longer
/// carries them; the other key's grant stays.
#[test]
fn a_purged_key_takes_its_grants() {
    use strongroom::api::{CreateGrantRequest, ListGrantsRequest};
    use strongroom::core::grant::GrantOperation;
    const RETIRER: &str = "arn:aws:iam::000000000000:user/retirer";
    let f = fixture();
    let gone = new_key(&f.ks).key_id;
    let kept = new_key(&f.ks).key_id;
    for k in [&gone, &kept] {
        for who in ["alice", "bob"] {
            f.ks.create_grant(&CreateGrantRequest {
                key_id: k.clone(),
                grantee_principal: format!("arn:aws:iam::000000000000:user/{who}"),
                retiring_principal: Some(RETIRER.into()),
                operations: vec![GrantOperation::Encrypt],
                ..Default::default()
            })
            .unwrap();
        }
    }
    f.ks.schedule_key_deletion(&gone, Some(7)).unwrap();
    f.clock.advance(7 * DAY + 1);
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 1);
    let listed = f.ks.list_retirable_grants(RETIRER, None, None).unwrap();
    assert_eq!(listed.grants.len(), 2);
    assert!(listed.grants.iter().all(|g| g.key_id.ends_with(&kept)));
    let export = f.ks.export_sealed().unwrap();
    let parsed = strongroom::core::export::SealedExport::parse_unauthenticated(&export).unwrap();
    assert_eq!(parsed.grants.len(), 2);
    assert!(parsed.grants.iter().all(|g| g.id.starts_with(&kept)));
    let kept_grants = f.ks.list_grants(&ListGrantsRequest {
        key_id: kept.clone(),
        ..Default::default()
    });
    assert_eq!(kept_grants.unwrap().grants.len(), 2);
    // The deletion was one consistent write: the keystore still opens.
    drop(f.ks);
    Keystore::open(&f.path, root_source(&ROOT)).unwrap();
}

/// The `DeleteKey` service events of `key` in the audit log.
fn delete_key_events(ks: &Keystore, key: &str) -> Vec<serde_json::Value> {
    key_events(ks, key, "DeleteKey")
}

#[test]
fn a_purge_records_a_delete_key_service_event_per_key() {
    let f = fixture();
    let lazy = new_key(&f.ks).key_id;
    let (a, b) = (new_key(&f.ks).key_id, new_key(&f.ks).key_id);
    let kept = new_key(&f.ks).key_id;
    for k in [&lazy, &a, &b] {
        f.ks.schedule_key_deletion(k, Some(7)).unwrap();
    }
    f.clock.advance(7 * DAY + 1);
    // Purged lazily, when used: the DescribeKey fails, the DeleteKey is recorded.
    expect_err(f.ks.describe_key(&lazy), ErrorKind::NotFoundException);
    // Purged explicitly: one event per key.
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 2);
    for k in [&lazy, &a, &b] {
        let events = delete_key_events(&f.ks, k);
        assert_eq!(events.len(), 1, "{k}: {events:?}");
        let e = &events[0];
        assert_service_event(e, k, "2024-01-08T00:00:01");
        assert_eq!(e["responseElements"]["keyId"], e["resources"][0]["ARN"]);
    }
    assert!(delete_key_events(&f.ks, &kept).is_empty());
    // Chained and covered by the sealed checkpoint.
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
    assert_eq!(v.records, v.checkpoint_records);
}

#[test]
fn a_purge_that_does_not_commit_records_no_delete_key() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    f.ks.schedule_key_deletion(&k, Some(7)).unwrap();
    f.clock.advance(7 * DAY + 1);
    // The purge's transaction appends its intent, then fails to commit.
    strongroom::test_hooks::fail_next_commit();
    expect_err(f.ks.describe_key(&k), ErrorKind::KMSInternalException);
    // The key was not purged: no DeleteKey service event for it, and the
    // log verifies.
    assert!(delete_key_events(&f.ks, &k).is_empty());
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
    // The key is still stored: the purge that commits records exactly one.
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 1);
    assert_eq!(delete_key_events(&f.ks, &k).len(), 1);
    expect_err(f.ks.describe_key(&k), ErrorKind::NotFoundException);
    assert_eq!(delete_key_events(&f.ks, &k).len(), 1);
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
}

#[test]
fn a_delete_key_event_that_cannot_be_written_is_kept_and_written_later() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    f.ks.schedule_key_deletion(&k, Some(7)).unwrap();
    f.clock.advance(7 * DAY + 1);
    // The purge commits, its DeleteKey cannot be written: the committed
    // purge is not failed, the event is kept and written (before the
    // call's own record), once.
    strongroom::test_hooks::fail_next_service_event();
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 1);
    assert_eq!(delete_key_events(&f.ks, &k).len(), 1);
    assert_eq!(f.ks.purge_deleted_keys().unwrap(), 0);
    assert_eq!(delete_key_events(&f.ks, &k).len(), 1);
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
}
