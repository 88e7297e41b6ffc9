//! The keystore integrity state (`docs/FORMAT.md`, "Keystore integrity
//! state"): old authentic rows, level-1 and level-2 rows, state rows and audit
//! checkpoints put back into the file, alone or in any mix with current
//! ones, are refused at open; keystores of format versions 1 and 3 (written
//! by earlier Strongrooms) are refused by a plain open, and checked and
//! migrated when the migration is asked for; old rows put back into the
//! migrated file are refused either way.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::Path;

use fixture::*;
use strongroom::api::*;
use strongroom::core::grant::GrantOperation;
use strongroom::{ErrorKind, Keystore, OpenOptions};

/// A principal of another account: the default key policy does not cover it.
const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";

/// A row as stored: id, body, tag and recorded bucket (`-1` for meta).
type StoredRow = (String, Vec<u8>, Vec<u8>, i64);

fn db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Every row of `table` (for `meta`, the rows of the integrity state).
fn rows(path: &Path, table: &str) -> Vec<StoredRow> {
    let sql = if table == "meta" {
        "SELECT id, body, tag, -1 FROM meta WHERE id = 'state' OR id LIKE 'state/%' ORDER BY id"
            .to_string()
    } else {
        format!("SELECT id, body, tag, bucket FROM {table} ORDER BY id")
    };
    db(path)
        .prepare(&sql)
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every row of `table` of a format 1 file (no `bucket` column: `-1`).
fn v1_rows(path: &Path, table: &str) -> Vec<StoredRow> {
    db(path)
        .prepare(&format!(
            "SELECT id, body, tag, -1 FROM {table} ORDER BY id"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Puts `rows` back into `table` as they were (the attacker has every column).
fn put_back(path: &Path, table: &str, rows: &[&StoredRow]) {
    let conn = db(path);
    for (id, body, tag, bucket) in rows {
        if table == "meta" {
            conn.execute(
                "INSERT OR REPLACE INTO meta (id, body, tag) VALUES (?1, ?2, ?3)",
                rusqlite::params![id, body, tag],
            )
        } else {
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO {table} (id, body, tag, bucket) VALUES (?1, ?2, ?3, ?4)"
                ),
                rusqlite::params![id, body, tag, bucket],
            )
        }
        .unwrap();
    }
}

/// Opening `path` fails on the integrity state.
#[track_caller]
fn assert_refused(path: &Path, what: &str) {
    let e = Keystore::open(path, root_source(&ROOT)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{what}: {e}");
    assert!(e.message().contains("integrity state"), "{what}: {e}");
}

/// Opens `path` with the migration of an older format version asked for.
fn migrate(path: &Path) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().migrate_old_format(true),
    )
}

/// The committed keystore of format `version` (`tests/fixture`) and the
/// blob encrypted under it.
fn old_keystore(version: u32) -> (std::path::PathBuf, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let blob = std::fs::read(dir.join(format!("v{version}-keystore.blob"))).unwrap();
    (dir.join(format!("v{version}-keystore.db")), blob)
}

/// A plain open of the old keystore at `path` (format `version`) fails,
/// names the explicit migration, and leaves the file as it was.
#[track_caller]
fn assert_open_names_migration(path: &Path, version: u32) {
    let before = std::fs::read(path).unwrap();
    let e = Keystore::open(path, root_source(&ROOT)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains(&format!("format {version}")), "{e}");
    assert!(e.message().contains("strongroom migrate-keystore"), "{e}");
    assert!(e.message().contains("migrate_old_format"), "{e}");
    assert_eq!(std::fs::read(path).unwrap(), before);
}

/// The migration of the tampered keystore at `path` fails naming `what`,
/// and leaves the file as it was.
#[track_caller]
fn assert_migration_refused(path: &Path, what: &str) {
    let before = std::fs::read(path).unwrap();
    let e = migrate(path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains(what), "{e}");
    assert_eq!(std::fs::read(path).unwrap(), before);
}

/// A copy of the keystore file (closed) to tamper with, in a fresh directory.
fn copy_of(path: &Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("ks.db");
    std::fs::copy(path, &to).unwrap();
    std::fs::copy(
        strongroom::audit_log_path(path),
        strongroom::audit_log_path(&to),
    )
    .unwrap();
    (dir, to)
}

fn grant_to(ks: &Keystore, key_id: &str, grantee: &str, ops: &[GrantOperation]) -> String {
    ks.create_grant(&CreateGrantRequest {
        key_id: key_id.into(),
        grantee_principal: grantee.into(),
        operations: ops.to_vec(),
        ..Default::default()
    })
    .unwrap()
    .grant_id
}

/// The rows of `rows` other than `rows[except]` whose tags XOR to `want`
/// ([`solve_xor`]).
fn xor_subset<'a>(rows: &'a [StoredRow], except: usize, want: &[u8]) -> Vec<&'a StoredRow> {
    let others: Vec<&StoredRow> = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != except)
        .map(|(_, r)| r)
        .collect();
    let tags: Vec<Vec<u8>> = others.iter().map(|r| r.2.clone()).collect();
    let subset = solve_xor(&tags, want).expect("300 tags span GF(2)^256");
    subset.iter().map(|&i| others[i]).collect()
}

/// Review 5, finding 1, as the reviewer ran it: a grant to another account
/// and 300 routine grants, all revoked; the revoked grant put back together
/// with a subset of the old grant rows whose tags XOR to its tag, which a
/// digest that XORs the row tags cannot tell from the current state.
#[test]
fn a_revoked_grant_put_back_with_a_compensating_subset_is_refused() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let mallory_grant = grant_to(
        &f.ks,
        &key,
        MALLORY,
        &[GrantOperation::Decrypt, GrantOperation::Encrypt],
    );
    for i in 0..300 {
        grant_to(
            &f.ks,
            &key,
            &format!("arn:aws:iam::000000000000:user/job{i}"),
            &[GrantOperation::Encrypt],
        );
    }
    let old = rows(&f.path, "grants");
    assert_eq!(old.len(), 301);
    for (id, ..) in &old {
        let grant_id = id.rsplit('/').next().unwrap();
        f.ks.revoke_grant(&key, grant_id).unwrap();
    }
    let mallory = f.ks.as_principal(MALLORY);
    expect_err(
        try_encrypt(&mallory, &key, b"x"),
        ErrorKind::AccessDeniedException,
    );
    drop((mallory, f.ks));

    let target = old
        .iter()
        .position(|(id, ..)| id.ends_with(&mallory_grant))
        .unwrap();
    let subset = xor_subset(&old, target, &old[target].2);
    // The XOR of the tags put back is zero: the old digest would not move.
    let mut acc = bits_of_tag(&old[target].2);
    for r in &subset {
        xor_into(&mut acc, &bits_of_tag(&r.2));
    }
    assert!(acc.iter().all(|&w| w == 0));

    let mut restored = vec![&old[target]];
    restored.extend(subset);
    put_back(&f.path, "grants", &restored);
    assert_refused(&f.path, "revoked grant + compensating subset");
    // The grant alone, too.
    let conn = db(&f.path);
    conn.execute("DELETE FROM grants", []).unwrap();
    put_back(&f.path, "grants", &[&old[target]]);
    assert_refused(&f.path, "revoked grant alone");
    // With the file as Strongroom left it, the keystore opens and the
    // grant stays revoked.
    conn.execute("DELETE FROM grants", []).unwrap();
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    expect_err(
        try_encrypt(&ks.as_principal(MALLORY), &key, b"x"),
        ErrorKind::AccessDeniedException,
    );
}

/// Any single old authentic version of a key, alias or grant row, of a
/// level-1 or level-2 row or of the state row (with its audit checkpoint), put back
/// alone into the current file, is refused at open.
#[test]
fn any_single_old_row_put_back_is_refused() {
    let f = fixture();
    let k1 = new_key(&f.ks).key_id;
    let k2 = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/app", &k1).unwrap();
    grant_to(&f.ks, &k1, MALLORY, &[GrantOperation::Encrypt]);
    let snapshot: Vec<(&str, Vec<StoredRow>)> = ["keys", "aliases", "grants", "meta"]
        .into_iter()
        .map(|t| (t, rows(&f.path, t)))
        .collect();
    // Changes to every kind of row: key state and policy, alias target,
    // grant revoked, so the level-1 and level-2 rows and the state move too.
    f.ks.disable_key(&k1).unwrap();
    f.ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: k2.clone(),
        policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}"#.into(),
        ..Default::default()
    })
    .unwrap();
    f.ks.update_alias("alias/app", &k2).unwrap();
    let g = f.ks.list_grants(&ListGrantsRequest {
        key_id: k1.clone(),
        ..Default::default()
    });
    f.ks.revoke_grant(&k1, &g.unwrap().grants[0].grant_id)
        .unwrap();
    f.ks.flush_audit_log().unwrap();
    let current: Vec<Vec<StoredRow>> = snapshot.iter().map(|(t, _)| rows(&f.path, t)).collect();
    drop(f.ks);
    Keystore::open(&f.path, root_source(&ROOT)).unwrap();

    let mut tried = 0;
    let mut levels = [false; 2];
    for ((table, old), now) in snapshot.iter().zip(&current) {
        for row in old {
            if now.contains(row) {
                continue; // unchanged since the snapshot: not an old version
            }
            let (_dir, copy) = copy_of(&f.path);
            put_back(&copy, table, &[row]);
            assert_refused(&copy, &format!("old {table}/{}", row.0));
            tried += 1;
            levels[0] |= row.0.starts_with("state/1/");
            levels[1] |= row.0.starts_with("state/2/");
        }
    }
    // Two key rows, the alias, the grant, at least one level-1 row, one
    // level-2 row and the state.
    assert!(tried >= 7, "{tried}");
    assert_eq!(levels, [true, true]);
}

/// The meta rows of the integrity state a write changed: IDs of rows added
/// or changed between `before` and `after`.
fn changed(before: &[StoredRow], after: &[StoredRow]) -> Vec<String> {
    after
        .iter()
        .filter(|r| !before.contains(r))
        .map(|r| r.0.clone())
        .collect()
}

/// A write rewrites one row of each level of the tree and the state, however
/// many keys there are; the bucket it touches holds about rows / 262,144
/// rows. An old authentic level-2 row put back under an open handle makes
/// the next write in its buckets fail before anything changes.
#[test]
fn a_write_rewrites_one_tree_row_per_level_and_checks_them() {
    let f = fixture();
    let keys: Vec<String> = (0..40).map(|_| new_key(&f.ks).key_id).collect();
    let before = rows(&f.path, "meta");
    f.ks.update_key_description(&keys[7], "changed").unwrap();
    let after = rows(&f.path, "meta");
    let mut ids = changed(&before, &after);
    ids.sort();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], "state");
    assert!(
        ids[1].starts_with("state/1/") && ids[1].len() == 10,
        "{ids:?}"
    );
    assert!(
        ids[2].starts_with("state/2/") && ids[2].len() == 11,
        "{ids:?}"
    );
    // The key's recorded bucket is under that level-2 row, and that under
    // the level-1 row.
    let key_row = rows(&f.path, "keys")
        .into_iter()
        .find(|r| r.0 == keys[7])
        .unwrap();
    let n = key_row.3 / 64;
    assert_eq!(ids[2], format!("state/2/{n:03x}"));
    assert_eq!(ids[1], format!("state/1/{:02x}", n / 64));

    // The level-2 row as it was before that write, put back.
    let old = before.iter().find(|r| r.0 == ids[2]).unwrap();
    put_back(&f.path, "meta", &[old]);
    let e = f.ks.update_key_description(&keys[7], "again").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("integrity state"), "{e}");
    // Nothing was written: the tree rows are as put back (the state row
    // may have moved with the audit checkpoint of the failed call).
    let tree = |rs: Vec<StoredRow>| -> Vec<StoredRow> {
        rs.into_iter().filter(|r| r.0 != "state").collect()
    };
    let mut expected = tree(after);
    let i = expected.iter().position(|r| r.0 == ids[2]).unwrap();
    expected[i] = old.clone();
    assert!(tree(rows(&f.path, "meta")) == expected, "tree rows changed");
    let d =
        f.ks.describe_key(&keys[7])
            .unwrap()
            .key_metadata
            .description;
    assert_eq!(d, "changed");
}

/// Review 5, finding 2: the audit checkpoint cannot be rolled back (to erase
/// management records by truncating the log) without rolling back the
/// state row that carries it, which the rows written since no longer match.
#[test]
fn a_rolled_back_checkpoint_with_a_truncated_log_is_refused() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    let state = rows(&f.path, "meta");
    let log = f.ks.audit_log_path().to_path_buf();
    let log_then = std::fs::read(&log).unwrap();
    // Management operations the attacker wants to erase from the trail.
    f.ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.clone(),
        policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#.into(),
        bypass_policy_lockout_safety_check: true,
        ..Default::default()
    })
    .unwrap();
    grant_to(&f.ks, &key, MALLORY, &[GrantOperation::Decrypt]);
    assert!(f.ks.verify_audit_log().unwrap().records >= 3);

    // The state row with the old checkpoint, and the log cut to it.
    let old_state: Vec<&StoredRow> = state.iter().filter(|r| r.0 == "state").collect();
    put_back(&f.path, "meta", &old_state);
    std::fs::write(&log, &log_then).unwrap();
    // The handle that is still open refuses to verify the log ...
    expect_err(f.ks.verify_audit_log(), ErrorKind::KMSInternalException);
    drop(f.ks);
    // ... and opening refuses the keystore.
    assert_refused(&f.path, "old checkpoint + truncated log");
    // Putting back the level-1 and level-2 rows of that time as well does not help: the
    // key and grant rows are newer.
    put_back(&f.path, "meta", &state.iter().collect::<Vec<_>>());
    assert_refused(&f.path, "old state and tree rows + truncated log");
}

/// A keystore file of format version 1 (the XOR digest and its own
/// checkpoint row), written by `main`'s `strongroom` CLI (a debug build of
/// 68678b2, before the integrity state; `*.db` is git-ignored, so the file
/// is added with `git add -f`): an enabled key `K1` with the alias
/// `alias/v1`, a grant on it to alice, a disabled key `K2`, a blob
/// encrypted under `alias/v1` and the audit log. A plain open refuses it
/// and names the explicit step; the migration checks the old digest and
/// migrates it to the integrity state, with every row tagged again in the
/// format 3 domain.
#[test]
fn a_format_1_keystore_is_checked_and_migrated_when_asked() {
    const K1: &str = "cc5aed0e-8d61-4841-8302-d54c63e9d3f7";
    const K2: &str = "4a07b91f-2a42-4702-9e41-8ea0193d83ae";
    let (v1, blob) = old_keystore(1);

    // A plain open refuses the version 1 file, names the migration, and
    // leaves the file as it was.
    let (_dir, path) = copy_of(&v1);
    assert_open_names_migration(&path, 1);

    // A grant row deleted from the version 1 file: its XOR digest refuses
    // it, and nothing is migrated.
    let (_d, tampered) = copy_of(&v1);
    db(&tampered).execute("DELETE FROM grants", []).unwrap();
    assert_migration_refused(&tampered, "digest");

    let v1_rows: Vec<StoredRow> = ["keys", "aliases", "grants"]
        .into_iter()
        .flat_map(|t| v1_rows(&path, t))
        .collect();
    let ks = migrate(&path).unwrap();
    // Every row has a new tag (the format 3 domain), its body unchanged.
    let v3_rows: Vec<StoredRow> = ["keys", "aliases", "grants"]
        .into_iter()
        .flat_map(|t| rows(&path, t))
        .collect();
    assert_eq!(v1_rows.len(), v3_rows.len());
    for (old, new) in v1_rows.iter().zip(&v3_rows) {
        assert_eq!((&old.0, &old.1), (&new.0, &new.1));
        assert_ne!(old.2, new.2, "{}", old.0);
    }
    let meta: Vec<String> = db(&path)
        .prepare("SELECT id FROM meta ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(meta.contains(&"state".to_string()), "{meta:?}");
    assert!(meta.iter().any(|m| m.starts_with("state/1/")), "{meta:?}");
    assert!(meta.iter().any(|m| m.starts_with("state/2/")), "{meta:?}");
    for (id, _, _, bucket) in rows(&path, "keys") {
        assert!((0..262_144).contains(&bucket), "{id}: {bucket}");
    }
    assert!(!meta
        .iter()
        .any(|m| m == "digest" || m == "audit-checkpoint"));
    let (config,): (Vec<u8>,) = db(&path)
        .query_row("SELECT body FROM meta WHERE id = 'config'", [], |r| {
            Ok((r.get(0)?,))
        })
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["format_version"], 4);

    // Everything the old file held works as before.
    assert_eq!(
        decrypt(&ks, &blob, &ctx(&[])),
        b"hello v1",
        "blob under alias/v1"
    );
    assert!(ks.describe_key("alias/v1").unwrap().key_metadata.enabled);
    assert!(!ks.describe_key(K2).unwrap().key_metadata.enabled);
    let grants = ks
        .list_grants(&ListGrantsRequest {
            key_id: K1.into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(grants.grants.len(), 1);
    try_encrypt(
        &ks.as_principal("arn:aws:iam::111122223333:user/alice"),
        K1,
        b"x",
    )
    .unwrap();
    // The audit chain continues from the old checkpoint.
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    assert!(v.records > 6, "{v:?}");
    ks.enable_key(K2).unwrap();
    drop(ks);
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    assert!(ks.describe_key(K2).unwrap().key_metadata.enabled);
    ks.verify_digest().unwrap();
    // Asking for the migration of a current keystore changes nothing.
    drop(ks);
    let before = std::fs::read(&path).unwrap();
    migrate(&path).unwrap().verify_digest().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();

    // The migrated file is protected like a new one.
    let old_k2 = rows(&path, "keys").into_iter().find(|r| r.0 == K2).unwrap();
    ks.disable_key(K2).unwrap();
    drop(ks);
    put_back(&path, "keys", &[&old_k2]);
    assert_refused(&path, "migrated keystore, old key row");
}

/// A keystore file of format version 3 (keystore record MACs; an
/// integrity state without row counts, a grant in the bucket of its own
/// row ID), written by `main`'s `strongroom` CLI (a debug build of
/// 093eae4; added with `git add -f`): key `K1` with the alias `alias/v3`
/// and six grants (alice: Encrypt and Decrypt; job1 to job5: Encrypt), key
/// `K2` with `alias/v3-two`, disabled, whose one grant was revoked, a blob
/// encrypted under `alias/v3`, and the audit log. A plain open refuses it
/// and names the explicit step; the migration checks its integrity state
/// and writes the format 4 one: the rows and their tags unchanged, a key's
/// grants in one bucket, the row counts, the counter moved on.
#[test]
fn a_format_3_keystore_is_checked_and_migrated_when_asked() {
    const K1: &str = "843785cd-e1f8-451b-be85-c5072b802087";
    const K2: &str = "094cd271-1344-4558-81b5-d0769413f120";
    let (v3, blob) = old_keystore(3);

    let (_dir, path) = copy_of(&v3);
    assert_open_names_migration(&path, 3);

    // A grant row deleted from the format 3 file: its integrity state
    // refuses it, and nothing is migrated.
    let (_d, tampered) = copy_of(&v3);
    db(&tampered)
        .execute(
            "DELETE FROM grants WHERE rowid = (SELECT MIN(rowid) FROM grants)",
            [],
        )
        .unwrap();
    assert_migration_refused(&tampered, "integrity state");

    let state_body = |path: &Path| {
        rows(path, "meta")
            .into_iter()
            .find(|r| r.0 == "state")
            .unwrap()
            .1
    };
    let v3_state = state_body(&path);
    assert_eq!((v3_state.len(), v3_state[0]), (2105, 1));
    let v3_rows: Vec<StoredRow> = ["keys", "aliases", "grants"]
        .into_iter()
        .flat_map(|t| rows(&path, t))
        .collect();
    let ks = migrate(&path).unwrap();
    let v4_rows: Vec<StoredRow> = ["keys", "aliases", "grants"]
        .into_iter()
        .flat_map(|t| rows(&path, t))
        .collect();
    assert_eq!(v3_rows.len(), v4_rows.len());
    for (old, new) in v3_rows.iter().zip(&v4_rows) {
        assert_eq!((&old.0, &old.1, &old.2), (&new.0, &new.1, &new.2));
    }
    // K1's six grants were in six buckets; now they share one.
    let buckets = |rows: &[StoredRow]| {
        let mut b: Vec<i64> = rows
            .iter()
            .filter(|r| r.0.starts_with(&format!("{K1}/")))
            .map(|r| r.3)
            .collect();
        b.dedup();
        b.len()
    };
    assert_eq!(buckets(&rows(&path, "grants")), 1);
    assert!(buckets(&v3_rows) > 1);
    // The state of format 4: version 2, the row counts (2 keys, 2 aliases,
    // 6 grants) after the format 3 fields, the counter moved on by one.
    let v4_state = state_body(&path);
    assert_eq!((v4_state.len(), v4_state[0]), (2129, 2));
    let counter = |b: &[u8]| u64::from_be_bytes(b[1..9].try_into().unwrap());
    assert_eq!(counter(&v4_state), counter(&v3_state) + 1);
    let counts: Vec<u64> = v4_state[2105..]
        .chunks(8)
        .map(|c| u64::from_be_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(counts, [2, 2, 6]);
    assert_eq!(
        v4_state[9..57],
        v3_state[9..57],
        "the audit checkpoint is kept"
    );
    let (config,): (Vec<u8>,) = db(&path)
        .query_row("SELECT body FROM meta WHERE id = 'config'", [], |r| {
            Ok((r.get(0)?,))
        })
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["format_version"], 4);

    // Everything the old file held works as before.
    assert_eq!(decrypt(&ks, &blob, &ctx(&[])), b"hello v3");
    assert_eq!(ks.describe_key("alias/v3").unwrap().key_metadata.key_id, K1);
    assert!(
        !ks.describe_key("alias/v3-two")
            .unwrap()
            .key_metadata
            .enabled
    );
    let grants_of = |ks: &Keystore, key: &str| {
        ks.list_grants(&ListGrantsRequest {
            key_id: key.into(),
            ..Default::default()
        })
        .unwrap()
        .grants
    };
    assert_eq!(grants_of(&ks, K1).len(), 6);
    assert!(grants_of(&ks, K2).is_empty());
    try_encrypt(
        &ks.as_principal("arn:aws:iam::111122223333:user/alice"),
        K1,
        b"x",
    )
    .unwrap();
    let g = grants_of(&ks, K1)[0].grant_id.clone();
    ks.revoke_grant(K1, &g).unwrap();
    ks.enable_key(K2).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    drop(ks);
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    ks.verify_digest().unwrap();
    assert_eq!(grants_of(&ks, K1).len(), 5);
    assert!(ks.describe_key(K2).unwrap().key_metadata.enabled);
    // Asking for the migration of a current keystore changes nothing.
    drop(ks);
    let before = std::fs::read(&path).unwrap();
    migrate(&path).unwrap().verify_digest().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Two handles migrating the same format 1 file at once: one migrates it,
/// the other finds format 3 inside its own write transaction and leaves it;
/// both open, and the keystore is intact.
#[test]
fn a_format_1_keystore_opened_twice_at_once_is_migrated_once() {
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/v1-keystore.db");
    let (_dir, path) = copy_of(&v1);
    let handles: Vec<Keystore> = std::thread::scope(|s| {
        let opens: Vec<_> = (0..2)
            .map(|_| s.spawn(|| migrate(&path).unwrap()))
            .collect();
        opens.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ks in &handles {
        ks.verify_digest().unwrap();
        assert_eq!(ks.list_keys(None, None).unwrap().keys.len(), 2);
    }
    assert_eq!(
        rows(&path, "meta")
            .iter()
            .filter(|r| r.0 == "state")
            .count(),
        1
    );
}

/// A format 1 keystore made before grants existed has no `grants` table
/// (written here from the fixture: the table dropped, the XOR digest
/// recomputed with the root key): it migrates too.
#[test]
fn a_format_1_keystore_without_a_grants_table_is_migrated() {
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/v1-keystore.db");
    let (_dir, path) = copy_of(&v1);
    let conn = db(&path);
    conn.execute("DROP TABLE grants", []).unwrap();
    let mut digest = [0u8; 32];
    for table in ["keys", "aliases"] {
        for (_, _, tag, _) in conn
            .prepare(&format!("SELECT id, body, tag, 0 FROM {table}"))
            .unwrap()
            .query_map([], |r| {
                Ok::<StoredRow, _>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .map(Result::unwrap)
        {
            for (d, t) in digest.iter_mut().zip(tag) {
                *d ^= t;
            }
        }
    }
    let root = strongroom::core::seal::RootKey::from_bytes(&ROOT).unwrap();
    let tag = root.mac_record(b"meta", b"digest", &digest).unwrap();
    conn.execute(
        "UPDATE meta SET body = ?1, tag = ?2 WHERE id = 'digest'",
        rusqlite::params![digest.to_vec(), tag.to_vec()],
    )
    .unwrap();
    drop(conn);
    let ks = migrate(&path).unwrap();
    assert_eq!(ks.list_keys(None, None).unwrap().keys.len(), 2);
    assert!(ks.describe_key("alias/v1").unwrap().key_metadata.enabled);
    ks.verify_digest().unwrap();
}

/// Review 5b, finding 1: a migrated keystore with its format 1 meta rows
/// (config, XOR digest, audit checkpoint) put back, and a revoked grant to
/// mallory restored with a subset of revoked grant rows solved so that the
/// XOR of the present tags is the old digest, the audit log cut to the old
/// checkpoint. A plain open refuses it (format 1 needs the explicit step);
/// the explicit migration refuses it too: the file has an integrity state,
/// and with that deleted as well, the rows' tags are format 3 tags, not the
/// format 1 tags the old digest and the migration accept. Nothing changes.
#[test]
fn format_1_meta_rows_put_back_into_a_migrated_keystore_are_refused() {
    const K1: &str = "cc5aed0e-8d61-4841-8302-d54c63e9d3f7";
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/v1-keystore.db");
    let (_dir, path) = copy_of(&v1);
    let meta_v1: Vec<StoredRow> = db(&path)
        .prepare(
            "SELECT id, body, tag, -1 FROM meta \
             WHERE id IN ('config', 'digest', 'audit-checkpoint') ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(meta_v1.len(), 3);
    let alice_grant = v1_rows(&path, "grants");
    assert_eq!(alice_grant.len(), 1);
    let log = strongroom::audit_log_path(&path);
    let log_v1 = std::fs::read(&log).unwrap();

    // After the upgrade: a grant to mallory and 300 routine grants, all revoked.
    let ks = migrate(&path).unwrap();
    let mallory_grant = grant_to(
        &ks,
        K1,
        MALLORY,
        &[GrantOperation::Decrypt, GrantOperation::Encrypt],
    );
    for i in 0..300 {
        grant_to(
            &ks,
            K1,
            &format!("arn:aws:iam::000000000000:user/job{i}"),
            &[GrantOperation::Encrypt],
        );
    }
    let revoked: Vec<StoredRow> = rows(&path, "grants")
        .into_iter()
        .filter(|r| r.0 != alice_grant[0].0)
        .collect();
    assert_eq!(revoked.len(), 301);
    for (id, ..) in &revoked {
        ks.revoke_grant(K1, id.rsplit('/').next().unwrap()).unwrap();
    }
    expect_err(
        try_encrypt(&ks.as_principal(MALLORY), K1, b"x"),
        ErrorKind::AccessDeniedException,
    );
    drop(ks);

    // The attack: the format 1 meta rows back, mallory's grant back with a
    // subset of revoked grants whose tags make the XOR of every present
    // tag equal the old digest, the log cut to the old checkpoint.
    put_back(&path, "meta", &meta_v1.iter().collect::<Vec<_>>());
    let digest = meta_v1.iter().find(|r| r.0 == "digest").unwrap().1.clone();
    let target = revoked
        .iter()
        .position(|r| r.0.ends_with(&mallory_grant))
        .unwrap();
    let mut want = bits_of_tag(&digest);
    for table in ["keys", "aliases", "grants"] {
        for r in rows(&path, table) {
            xor_into(&mut want, &bits_of_tag(&r.2));
        }
    }
    xor_into(&mut want, &bits_of_tag(&revoked[target].2));
    let want: Vec<u8> = want.iter().flat_map(|w| w.to_be_bytes()).collect();
    let mut restored = vec![&revoked[target]];
    restored.extend(xor_subset(&revoked, target, &want));
    put_back(&path, "grants", &restored);
    // The XOR digest of format 1 would accept the rows now present.
    let mut acc = vec![0u64; 4];
    for table in ["keys", "aliases", "grants"] {
        for r in rows(&path, table) {
            xor_into(&mut acc, &bits_of_tag(&r.2));
        }
    }
    assert_eq!(acc, bits_of_tag(&digest));
    std::fs::write(&log, &log_v1).unwrap();

    // A plain open takes it for a format 1 keystore and refuses it.
    let before = std::fs::read(&path).unwrap();
    let e = Keystore::open(&path, root_source(&ROOT)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("strongroom migrate-keystore"), "{e}");
    // The explicit migration refuses it: the integrity state is there ...
    let e = migrate(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("failed authentication"), "{e}");
    assert!(e.message().contains("format 1 configuration"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // ... and with it deleted, the rows' tags are not format 1 tags.
    db(&path)
        .execute(
            "DELETE FROM meta WHERE id = 'state' OR id LIKE 'state/%'",
            [],
        )
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let e = migrate(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("failed authentication"), "{e}");
    assert!(!e.message().contains("digest"), "the XOR was solved: {e}");
    assert!(e.message().contains("the key row "), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Review 5b, finding 3: a write checks the bucket of every key, alias and
/// grant row it reads, not only of those it changes. The key row of a time
/// when its policy let mallory call CreateGrant, put back under a running
/// handle (whose record cache then reads it from the file), cannot authorize
/// a grant that the integrity state would then cover: CreateGrant fails,
/// and once the current row is back the keystore opens with no grant for
/// mallory.
#[test]
fn an_old_key_row_read_inside_create_grant_is_refused() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let admin = "arn:aws:iam::000000000000:root";
    let policy = |mallory_may_grant: bool| {
        let mut statements = vec![serde_json::json!(
            {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*"}
        )];
        if mallory_may_grant {
            statements.push(serde_json::json!(
                {"Effect": "Allow", "Principal": {"AWS": MALLORY}, "Action": "kms:CreateGrant", "Resource": "*"}
            ));
        }
        PutKeyPolicyRequest {
            key_id: key.clone(),
            policy: serde_json::json!({"Version": "2012-10-17", "Statement": statements})
                .to_string(),
            ..Default::default()
        }
    };
    f.ks.put_key_policy(&policy(true)).unwrap();
    let old_row = rows(&f.path, "keys")
        .into_iter()
        .find(|r| r.0 == key)
        .unwrap();
    f.ks.put_key_policy(&policy(false)).unwrap();
    let current_row = rows(&f.path, "keys")
        .into_iter()
        .find(|r| r.0 == key)
        .unwrap();
    let mallory = f.ks.as_principal(MALLORY);
    let request = CreateGrantRequest {
        key_id: key.clone(),
        grantee_principal: MALLORY.into(),
        operations: vec![GrantOperation::Decrypt, GrantOperation::Encrypt],
        ..Default::default()
    };
    // The current policy denies mallory (asked through another handle, so
    // that this one's record cache stays empty after its own write).
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    expect_err(
        other.as_principal(MALLORY).create_grant(&request),
        ErrorKind::AccessDeniedException,
    );
    drop(other);

    // The old row put back: this handle's cache was emptied by its own
    // write, so the call reads the old row and authorizes on it; the
    // write's re-read of the key row checks its bucket and refuses.
    put_back(&f.path, "keys", &[&old_row]);
    let e = mallory.create_grant(&request).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.message().contains("integrity state"), "{e}");
    drop(mallory);
    drop(f.ks);

    put_back(&f.path, "keys", &[&current_row]);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let grants = ks
        .list_grants(&ListGrantsRequest {
            key_id: key.clone(),
            ..Default::default()
        })
        .unwrap();
    assert!(grants.grants.is_empty(), "{:?}", grants.grants);
    expect_err(
        try_encrypt(&ks.as_principal(MALLORY), &key, b"x"),
        ErrorKind::AccessDeniedException,
    );
}
