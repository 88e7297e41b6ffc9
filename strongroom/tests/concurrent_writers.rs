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
            }
        };
        let (a, b) = (&f.ks, &other);
        s.spawn(move || churn(a, "same-handle"));
        s.spawn(move || churn(b, "other-handle"));
        let failed = s
            .spawn(|| {
                let mut failed = Vec::new();
                for i in 0..ROUNDS {
                    if let Err(e) = writer(&f.ks, i) {
                        failed.push(e.to_string());
                    }
                }
                done.store(true, Ordering::Relaxed);
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
