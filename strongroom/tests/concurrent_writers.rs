//! Writers of a key's aliases and grants while other calls change the same
//! key record (TagResource, UpdateKeyDescription), from threads on one
//! handle and from a second handle: each call is authorized afresh when the
//! key record changed between its authorization and its write, and none
//! fails (AWS KMS serves them all). User trial item 4.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::sync::atomic::{AtomicBool, Ordering};

use fixture::*;
use strongroom::api::*;
use strongroom::core::grant::GrantOperation;
use strongroom::Keystore;

const ROUNDS: usize = 40;

/// Runs `writer` `ROUNDS` times while one thread of the fixture's handle
/// and one of a second handle change the key record of `key` in a loop;
/// returns the writer's failures.
fn failures_under_churn(
    f: &Fixture,
    key: &str,
    writer: impl Fn(&Keystore, usize) -> strongroom::Result<()> + Sync,
) -> Vec<String> {
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let churn = |ks: &Keystore, name: &'static str| {
            let mut i = 0u64;
            while !done.load(Ordering::Relaxed) {
                let tag = Tag {
                    tag_key: name.into(),
                    tag_value: i.to_string(),
                };
                ks.tag_resource(key, &[tag]).unwrap();
                ks.update_key_description(key, &i.to_string()).unwrap();
                i += 1;
                // Neither the file lock nor a mutex is fair: leave the
                // writer its turn on a loaded machine.
                std::thread::yield_now();
            }
        };
        let (a, b) = (&f.ks, &other);
        s.spawn(move || churn(a, "same-handle"));
        s.spawn(move || churn(b, "other-handle"));
        let failed = s
            .spawn(|| {
                // Ends the churn however the writer ends: a writer that
                // panics must fail the test, not leave the churn running.
                struct SetOnDrop<'a>(&'a AtomicBool);
                impl Drop for SetOnDrop<'_> {
                    fn drop(&mut self) {
                        self.0.store(true, Ordering::Relaxed);
                    }
                }
                let _done = SetOnDrop(&done);
                let mut failed = Vec::new();
                for i in 0..ROUNDS {
                    if let Err(e) = writer(&f.ks, i) {
                        failed.push(e.to_string());
                    }
                }
                failed
            })
            .join()
            .unwrap();
        failed
    })
}

fn grant_request(key: &str) -> CreateGrantRequest {
    CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
        operations: vec![GrantOperation::Encrypt],
        ..Default::default()
    }
}

#[test]
fn create_and_delete_alias_while_the_key_changes() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let failed = failures_under_churn(&f, &key, |ks, i| {
        let name = format!("alias/a{i}");
        ks.create_alias(&name, &key)?;
        ks.delete_alias(&name)
    });
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
}

#[test]
fn update_alias_while_both_keys_change() {
    let f = fixture();
    let (a, b) = (new_key(&f.ks).key_id, new_key(&f.ks).key_id);
    f.ks.create_alias("alias/app", &a).unwrap();
    let failed = failures_under_churn(&f, &a, |ks, i| {
        ks.update_alias("alias/app", if i % 2 == 0 { &b } else { &a })
    });
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
}

#[test]
fn create_and_revoke_grant_while_the_key_changes() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let failed = failures_under_churn(&f, &key, |ks, _| {
        let g = ks.create_grant(&grant_request(&key))?;
        ks.revoke_grant(&key, &g.grant_id)
    });
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    assert!(f
        .ks
        .list_grants(&ListGrantsRequest {
            key_id: key.clone(),
            ..Default::default()
        })
        .unwrap()
        .grants
        .is_empty());
}

#[test]
fn retire_grant_while_the_key_changes() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let failed = failures_under_churn(&f, &key, |ks, _| {
        let g = ks.create_grant(&grant_request(&key))?;
        ks.retire_grant(&RetireGrantRequest {
            key_id: Some(key.clone()),
            grant_id: Some(g.grant_id),
            ..Default::default()
        })
    });
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
}

// ---- a change committed between every authorization and its write ----------

const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";
const ADMIN: &str = "arn:aws:iam::000000000000:root";

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        tag_key: key.into(),
        tag_value: value.into(),
    }
}

/// A key whose policy allows the administrator everything and mallory the
/// alias and grant writes and UpdateKeyDescription only while the key has
/// the tag `team` = `blue` (which it has).
fn tag_tested_key(f: &Fixture) -> String {
    let key = new_key(&f.ks).key_id;
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": MALLORY}, "Resource": "*",
         "Action": ["kms:UpdateKeyDescription", "kms:CreateAlias", "kms:UpdateAlias",
                    "kms:DeleteAlias", "kms:CreateGrant", "kms:RevokeGrant", "kms:RetireGrant"],
         "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}}]});
    f.ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.clone(),
        policy: policy.to_string(),
        ..Default::default()
    })
    .unwrap();
    f.ks.tag_resource(&key, &[tag("team", "blue")]).unwrap();
    key
}

/// Before every write transaction the calling thread begins from now on,
/// a second handle on the fixture's file tags each of `keys` with
/// `tags(n)` (`n` counts the changes, from 0), so that what a call was
/// authorized on has always changed by the time it writes. Returns the
/// count.
fn change_tags_before_every_write(
    f: &Fixture,
    keys: &[&str],
    tags: fn(u64) -> Vec<Tag>,
) -> std::rc::Rc<std::cell::Cell<u64>> {
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let n = count.clone();
    strongroom::test_hooks::set_before_write(Some(Box::new(move || {
        for k in &keys {
            other.tag_resource(k, &tags(n.get())).unwrap();
        }
        n.set(n.get() + 1);
    })));
    count
}

/// Clears the hook of [`change_tags_before_every_write`] when dropped, also
/// when an assertion fails.
struct ClearHook;

impl Drop for ClearHook {
    fn drop(&mut self) {
        strongroom::test_hooks::set_before_write(None);
    }
}

/// Under a key policy that tests `aws:ResourceTag/`, every management write
/// goes ahead although the key's tags change between its authorization and
/// its write every time: it is authorized again inside its write (where it
/// used to start over, and lost all its attempts to a tag-changing loop).
#[test]
fn writers_under_a_tag_testing_policy_are_not_starved_by_tag_changes() {
    let f = fixture();
    let (a, b) = (tag_tested_key(&f), tag_tested_key(&f));
    let m = f.ks.as_principal(MALLORY);
    let _clear = ClearHook;
    let changes = change_tags_before_every_write(&f, &[&a, &b], |n| {
        vec![tag("team", "blue"), tag("revision", &n.to_string())]
    });
    let mut seen = 0;
    let mut changed_under = |what: &str| {
        assert!(changes.get() > seen, "{what}: no change before its write");
        seen = changes.get();
    };
    m.update_key_description(&a, "renamed").unwrap();
    changed_under("UpdateKeyDescription");
    m.create_alias("alias/m", &a).unwrap();
    changed_under("CreateAlias");
    m.update_alias("alias/m", &b).unwrap();
    changed_under("UpdateAlias");
    m.delete_alias("alias/m").unwrap();
    changed_under("DeleteAlias");
    let g = m.create_grant(&grant_request(&a)).unwrap();
    changed_under("CreateGrant");
    m.revoke_grant(&a, &g.grant_id).unwrap();
    changed_under("RevokeGrant");
    let g = m.create_grant(&grant_request(&a)).unwrap();
    m.retire_grant(&RetireGrantRequest {
        key_id: Some(a.clone()),
        grant_id: Some(g.grant_id),
        ..Default::default()
    })
    .unwrap();
    changed_under("CreateGrant, RetireGrant");
    strongroom::test_hooks::set_before_write(None);
    let d = f.ks.describe_key(&a).unwrap().key_metadata;
    assert_eq!(d.description, "renamed");
    let grants = f.ks.list_grants(&ListGrantsRequest {
        key_id: a.clone(),
        ..Default::default()
    });
    assert!(grants.unwrap().grants.is_empty());
    let aliases = f.ks.list_aliases(None, None, None).unwrap().aliases;
    assert!(aliases.iter().all(|x| x.alias_name != "alias/m"));
}

/// A change committed between a call's authorization and its write that
/// takes the permission away (the tag the policy tests) fails the write
/// with AccessDeniedException, as a new call would, and writes nothing:
/// the decision made on the earlier read is not used.
#[test]
fn a_change_that_revokes_permission_before_the_write_denies_it() {
    let f = fixture();
    let (a, b) = (tag_tested_key(&f), tag_tested_key(&f));
    f.ks.create_alias("alias/kept", &a).unwrap();
    let kept = f.ks.create_grant(&grant_request(&a)).unwrap().grant_id;
    let m = f.ks.as_principal(MALLORY);
    let _clear = ClearHook;
    let denied = |what: &str, r: strongroom::Result<()>| {
        let e = expect_err(r, strongroom::ErrorKind::AccessDeniedException);
        assert!(!e.message().contains("retry"), "{what}: {e}");
        // Permission back for the next call's read.
        strongroom::test_hooks::set_before_write(None);
        for k in [&a, &b] {
            f.ks.tag_resource(k, &[tag("team", "blue")]).unwrap();
        }
    };
    let revoke = || {
        change_tags_before_every_write(&f, &[&a, &b], |_| vec![tag("team", "red")]);
    };
    revoke();
    denied(
        "UpdateKeyDescription",
        m.update_key_description(&a, "renamed"),
    );
    revoke();
    denied("CreateAlias", m.create_alias("alias/m", &a));
    revoke();
    denied("UpdateAlias", m.update_alias("alias/kept", &b));
    revoke();
    denied("DeleteAlias", m.delete_alias("alias/kept"));
    revoke();
    denied(
        "CreateGrant",
        m.create_grant(&grant_request(&a)).map(|_| ()),
    );
    revoke();
    denied("RevokeGrant", m.revoke_grant(&a, &kept));
    revoke();
    let retire = RetireGrantRequest {
        key_id: Some(a.clone()),
        grant_id: Some(kept.clone()),
        ..Default::default()
    };
    denied("RetireGrant", m.retire_grant(&retire));
    assert_eq!(f.ks.describe_key(&a).unwrap().key_metadata.description, "");
    let aliases = f.ks.list_aliases(None, None, None).unwrap().aliases;
    let names: Vec<_> = aliases
        .iter()
        .map(|x| (&x.alias_name, &x.target_key_id))
        .collect();
    assert_eq!(names, [(&"alias/kept".to_string(), &a)]);
    let grants = f.ks.list_grants(&ListGrantsRequest {
        key_id: a.clone(),
        ..Default::default()
    });
    let ids: Vec<_> = grants
        .unwrap()
        .grants
        .into_iter()
        .map(|g| g.grant_id)
        .collect();
    assert_eq!(ids, [kept]);
    // The audit record of the denied call is the denial, naming the key.
    let events =
        f.ks.audit_events(&strongroom::AuditFilter {
            key_id: Some(a.clone()),
            ..Default::default()
        })
        .unwrap();
    let update = events
        .iter()
        .rev()
        .find(|e| e["eventName"] == "UpdateKeyDescription")
        .unwrap();
    assert_eq!(update["errorCode"], "AccessDeniedException", "{update}");
}
