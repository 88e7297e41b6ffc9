//! CPU time of the management writes whose listings inside their write
//! transaction the integrity state checks (keystore format 4: the row count
//! of each table, a key's grants in one bucket), on a keystore of a few
//! rows and on one of thousands, and of opening a large keystore.
//!
//! `strongroom-rowcost [ROWS]` (default 2000) makes, for `n` = 10 and `n` =
//! ROWS, a keystore on the tmpfs `/dev/shm` (fsync costs nothing there, so
//! the figures are CPU cost) holding `n` keys with one alias each and `n`
//! grants of one key `G` (each timed write is undone after it, untimed, so
//! the keystore keeps that size), and prints one line per operation:
//! `operation n
//! microseconds`, the mean CPU time of the calling thread over
//! `STRONGROOM_ROWCOST_ITERS` calls (default 200: the thread's CPU time,
//! [`thread_cpu_ns`], can advance in whole scheduler ticks, 4 ms here, so
//! a mean over 20 calls of a sub-millisecond write moves in steps of
//! 200 µs):
//!
//! - `CreateKey`;
//! - `CreateAlias`: a new alias on one of the keys;
//! - `CreateGrant`: on `G` (the write lists `G`'s grants);
//! - `RevokeGrant`: of a grant of `G` (the write reads one grant row);
//! - `CreateGrant+aliases`: on `G` under a key policy that tests
//!   `kms:ResourceAliases` (the write also lists every alias);
//! - `Purge`: `purge_deleted_keys` of one key past its deletion date (the
//!   write lists every alias and the key's grants);
//! - `Open`, timed first: `Keystore::open` (checks the whole integrity
//!   state).
//!
//! `strongroom-rowcost anchor` instead times `CreateKey` and
//! `TagResource` on a new keystore without and with an external anchor
//! file (`docs/FORMAT.md`, "Keystore anchor"; both on `/dev/shm`),
//! alternating the two over `STRONGROOM_ROWCOST_ROUNDS` rounds (default
//! 5), one line per round and setting (`anchor=<bool> <operation>
//! microseconds`), then the ratio of the means (with / without).
//!
//! `strongroom-rowcost open KEYS` instead times `Keystore::open` of the
//! bench keystore of KEYS keys (`strongroom_benches::fixture`, made first
//! if needed, in `STRONGROOM_BENCH_DIR`).

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::sync::Arc;

use strongroom::api::{CreateGrantRequest, CreateKeyRequest, PutKeyPolicyRequest, Tag};
use strongroom::core::grant::GrantOperation;
use strongroom::{Keystore, ManualClock};
use strongroom_benches::{root, thread_cpu_ns};

const ADMIN: &str = "arn:aws:iam::000000000000:root";

fn iters() -> u64 {
    std::env::var("STRONGROOM_ROWCOST_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Mean CPU time of `op` in microseconds over `n` calls, each after an
/// untimed `prepare` and before an untimed `undo` (so that the keystore
/// keeps its size).
fn cpu_us<P, R>(
    n: u64,
    mut prepare: impl FnMut(u64) -> P,
    mut op: impl FnMut(P) -> R,
    mut undo: impl FnMut(R),
) -> f64 {
    let mut total = 0;
    for i in 0..n {
        let p = prepare(i);
        let c0 = thread_cpu_ns().unwrap();
        let r = op(p);
        total += thread_cpu_ns().unwrap() - c0;
        undo(r);
    }
    total as f64 / n as f64 / 1000.0
}

fn new_key(ks: &Keystore) -> String {
    ks.create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
}

fn grant(ks: &Keystore, key: &str, i: u64) -> String {
    ks.create_grant(&CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: format!("arn:aws:iam::000000000000:user/app{i}"),
        operations: vec![GrantOperation::Decrypt],
        ..Default::default()
    })
    .unwrap()
    .grant_id
}

fn sized(dir: &Path, n: u64) {
    let path = dir.join(format!("rowcost-{n}.db"));
    let clock = Arc::new(ManualClock::new(1_704_067_200));
    let ks = Keystore::create(&path, root(), Default::default())
        .unwrap()
        .with_clock(clock.clone());
    let g = new_key(&ks);
    for i in 0..n {
        let k = new_key(&ks);
        ks.create_alias(&format!("alias/k{i}"), &k).unwrap();
        grant(&ks, &g, i);
    }
    let delete_key = |key: String| {
        ks.schedule_key_deletion(&key, Some(7)).unwrap();
        clock.advance(8 * 86_400);
        assert_eq!(ks.purge_deleted_keys().unwrap(), 1);
    };
    let revoke = |id: String| ks.revoke_grant(&g, &id).unwrap();
    let k = iters();
    let print = |op: &str, us: f64| println!("{op} {n} {us:.1}");
    print(
        "Open",
        cpu_us(
            k,
            |_| (),
            |()| drop(Keystore::open(&path, root()).unwrap()),
            |()| (),
        ),
    );
    print(
        "CreateKey",
        cpu_us(k, |_| (), |()| new_key(&ks), delete_key),
    );
    let target = new_key(&ks);
    print(
        "CreateAlias",
        cpu_us(
            k,
            |i| format!("alias/new{i}"),
            |a| {
                ks.create_alias(&a, &target).unwrap();
                a
            },
            |a| ks.delete_alias(&a).unwrap(),
        ),
    );
    print(
        "CreateGrant",
        cpu_us(k, |i| n + i, |i| grant(&ks, &g, i), revoke),
    );
    print(
        "RevokeGrant",
        cpu_us(k, |i| grant(&ks, &g, n + i), revoke, |()| ()),
    );
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/mallory"},
         "Action": "kms:*", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/prod"}}}]});
    ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: g.clone(),
        policy: policy.to_string(),
        ..Default::default()
    })
    .unwrap();
    print(
        "CreateGrant+aliases",
        cpu_us(k, |i| n + k + i, |i| grant(&ks, &g, i), revoke),
    );
    print(
        "Purge",
        cpu_us(
            k,
            |_| {
                let doomed = new_key(&ks);
                ks.schedule_key_deletion(&doomed, Some(7)).unwrap();
                clock.advance(8 * 86_400);
            },
            |()| assert_eq!(ks.purge_deleted_keys().unwrap(), 1),
            |()| (),
        ),
    );
}

/// `strongroom-rowcost anchor` (module documentation).
fn anchor_cost(dir: &Path) {
    let rounds: u64 = std::env::var("STRONGROOM_ROWCOST_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let k = iters();
    // Sums of the round means, by [without, with] and operation.
    let mut sums = [[0.0f64; 2]; 2];
    for round in 0..rounds {
        for (a, anchored) in [false, true].into_iter().enumerate() {
            let path = dir.join(format!("anchor-{round}-{anchored}.db"));
            let anchor =
                anchored.then(|| strongroom::Anchor::file(dir.join(format!("{round}.anchor"))));
            let options = strongroom::CreateOptions {
                anchor,
                ..Default::default()
            };
            let ks = Keystore::create(&path, root(), options).unwrap();
            let create = cpu_us(k, |_| (), |()| new_key(&ks), |_| ());
            let key = new_key(&ks);
            let tag = cpu_us(
                k,
                |i| {
                    vec![Tag {
                        tag_key: "n".into(),
                        tag_value: i.to_string(),
                    }]
                },
                |tags| ks.tag_resource(&key, &tags).unwrap(),
                |()| (),
            );
            println!("anchor={anchored} CreateKey {create:.1}");
            println!("anchor={anchored} TagResource {tag:.1}");
            sums[0][a] += create;
            sums[1][a] += tag;
        }
    }
    for (op, s) in ["CreateKey", "TagResource"].iter().zip(sums) {
        println!("ratio {op} {:.3}", s[1] / s[0]);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("anchor") {
        let dir = tempfile::Builder::new()
            .prefix("strongroom-anchor-")
            .tempdir_in("/dev/shm")
            .unwrap();
        anchor_cost(dir.path());
        return;
    }
    if args.first().map(String::as_str) == Some("open") {
        let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(100_000);
        let f = strongroom_benches::fixture(n);
        drop(f);
        let path = strongroom_benches::fixture_path(&strongroom_benches::bench_dir(), n);
        let us = cpu_us(
            iters(),
            |_| (),
            |()| drop(Keystore::open(&path, root()).unwrap()),
            |()| (),
        );
        println!("Open {n} {us:.1}");
        return;
    }
    let rows: u64 = args.first().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let dir = tempfile::Builder::new()
        .prefix("strongroom-rowcost-")
        .tempdir_in("/dev/shm")
        .unwrap();
    for n in [10, rows] {
        sized(dir.path(), n);
    }
}
