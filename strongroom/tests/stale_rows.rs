//! Writes authorized on a stale key row: a call is authorized in one read
//! and writes in a later transaction, which re-reads the key row; the write
//! must fail unless that row is the one authorized (the same record in
//! every field an authorization reads). The races restore an old, once-valid key row in the file,
//! then put the current row back under a held SQLite write lock, so the
//! call's check reads the old row and its write the current one.
//!
//! The race depends on the call's check running while the lock is held; if
//! it runs later it reads the current row and is denied. Either way the
//! call must fail and change nothing, which is what these tests assert.
//!
//! Also: rows of a sealed export cannot forge a format 1 file for the
//! migration; and rows deleted from the file under a running handle are
//! seen by the listings inside a write (keystore format 4).
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::Path;

use fixture::*;
use strongroom::api::*;
use strongroom::core::key::KeyState;
use strongroom::{ErrorKind, Keystore};

const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";
const ADMIN: &str = "arn:aws:iam::000000000000:root";

/// A stored row: ID, body, tag, bucket.
type StoredRow = (String, Vec<u8>, Vec<u8>, i64);

fn db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// The row `id` of `table` as stored.
fn stored_row(path: &Path, table: &str, id: &str) -> StoredRow {
    db(path)
        .query_row(
            &format!("SELECT id, body, tag, bucket FROM {table} WHERE id = ?1"),
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
}

/// Puts `r` back into `table`, bucket and all (the attacker has every column).
fn insert_row(conn: &rusqlite::Connection, table: &str, r: &StoredRow) {
    conn.execute(
        &format!("INSERT INTO {table} (id, body, tag, bucket) VALUES (?1, ?2, ?3, ?4)"),
        rusqlite::params![r.0, r.1, r.2, r.3],
    )
    .unwrap();
}

/// Deletes the row `id` of `table`.
fn delete_row(conn: &rusqlite::Connection, table: &str, id: &str) {
    conn.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])
        .unwrap();
}

fn put_key(conn: &rusqlite::Connection, r: &StoredRow) {
    conn.execute(
        "UPDATE keys SET body = ?2, tag = ?3 WHERE id = ?1",
        rusqlite::params![r.0, r.1, r.2],
    )
    .unwrap();
}

/// A key policy allowing the admin everything and, when `action` is given,
/// mallory that action.
fn policy(key: &str, action: Option<&str>) -> PutKeyPolicyRequest {
    let mut st = vec![serde_json::json!(
        {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"})];
    if let Some(a) = action {
        st.push(serde_json::json!(
            {"Effect": "Allow", "Principal": {"AWS": MALLORY}, "Action": a, "Resource": "*"}));
    }
    PutKeyPolicyRequest {
        key_id: key.into(),
        policy: serde_json::json!({"Version": "2012-10-17", "Statement": st}).to_string(),
        ..Default::default()
    }
}

/// Runs `op` as mallory on a fresh (cold-cache) handle while the key row of
/// `key` in the file is `old_row` and the current row `current_row` is put
/// back under a held write lock; returns `op`'s result. The call must have
/// failed (checked here), with the lock race reached
/// (`KMSInternalException`) or not (`AccessDeniedException`).
fn race_stale_row<T: Send + 'static>(
    f: &Fixture,
    old_row: &StoredRow,
    current_row: &StoredRow,
    op: impl FnOnce(Keystore) -> strongroom::Result<T> + Send + 'static,
) {
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let mallory = h.as_principal(MALLORY);
    put_key(&db(&f.path), old_row);
    let conn = db(&f.path);
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    put_key(&conn, current_row);
    let t = std::thread::spawn(move || op(mallory).map(|_| ()));
    // Lets the call's check read the old row before the lock is released
    // (synchronization only; the outcome asserted is the same either way).
    std::thread::sleep(std::time::Duration::from_secs(2));
    conn.execute_batch("COMMIT").unwrap();
    let e = t.join().unwrap().unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::KMSInternalException | ErrorKind::AccessDeniedException
        ),
        "{e}"
    );
}

/// Sets the policy of `key`: the admin may do everything, and `mallory`
/// holds the statements given (JSON, `Principal` mallory added). Returns
/// the policy text.
fn set_policy(f: &Fixture, key: &str, mallory: serde_json::Value) -> String {
    let mut st = vec![serde_json::json!(
        {"Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"})];
    for mut m in mallory.as_array().unwrap().iter().cloned() {
        m["Principal"] = serde_json::json!({"AWS": MALLORY});
        m["Resource"] = "*".into();
        st.push(m);
    }
    let p = serde_json::json!({"Version": "2012-10-17", "Statement": st}).to_string();
    f.ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.into(),
        policy: p.clone(),
        ..Default::default()
    })
    .unwrap();
    p
}

/// A new handle on the fixture's file (integrity checked).
fn reopen(f: &Fixture) -> Keystore {
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    ks.verify_digest().unwrap();
    ks
}

/// The key is still `Enabled` (not scheduled for deletion), on a new handle.
#[track_caller]
fn assert_still_enabled(f: &Fixture, key: &str) {
    let ks = reopen(f);
    assert_eq!(
        ks.describe_key(key).unwrap().key_metadata.key_state,
        KeyState::Enabled
    );
}

/// A key whose policy once allowed mallory `action` (the old row) and no
/// longer does (the current row).
fn revoked_permission(f: &Fixture, action: &str) -> (String, StoredRow, StoredRow) {
    let key = new_key(&f.ks).key_id;
    f.ks.put_key_policy(&policy(&key, Some(action))).unwrap();
    let old_row = stored_row(&f.path, "keys", &key);
    f.ks.put_key_policy(&policy(&key, None)).unwrap();
    let current_row = stored_row(&f.path, "keys", &key);
    (key, old_row, current_row)
}

#[test]
fn stale_key_row_does_not_authorize_create_alias() {
    let f = fixture();
    let (key, old_row, current_row) = revoked_permission(&f, "kms:CreateAlias");
    let k = key.clone();
    race_stale_row(&f, &old_row, &current_row, move |m| {
        m.create_alias("alias/mallory", &k)
    });
    let ks = reopen(&f);
    expect_err(
        ks.describe_key("alias/mallory"),
        ErrorKind::NotFoundException,
    );
}

#[test]
fn stale_key_row_does_not_authorize_update_alias() {
    let f = fixture();
    let other = new_key(&f.ks).key_id;
    let (key, old_row, current_row) = revoked_permission(&f, "kms:UpdateAlias");
    f.ks.create_alias("alias/app", &other).unwrap();
    // Mallory may update the alias away from `other`, not onto `key` any more.
    f.ks.put_key_policy(&policy(&other, Some("kms:UpdateAlias")))
        .unwrap();
    let k = key.clone();
    race_stale_row(&f, &old_row, &current_row, move |m| {
        m.update_alias("alias/app", &k)
    });
    let ks = reopen(&f);
    assert_eq!(
        ks.describe_key("alias/app").unwrap().key_metadata.key_id,
        other
    );
}

#[test]
fn stale_key_row_does_not_authorize_delete_alias() {
    let f = fixture();
    let (key, old_row, current_row) = revoked_permission(&f, "kms:DeleteAlias");
    // The alias is made before the old row is taken back, so that row's
    // generation is older than the current one.
    f.ks.create_alias("alias/app", &key).unwrap();
    race_stale_row(&f, &old_row, &current_row, |m| m.delete_alias("alias/app"));
    let ks = reopen(&f);
    assert_eq!(
        ks.describe_key("alias/app").unwrap().key_metadata.key_id,
        key
    );
}

#[test]
fn stale_key_row_does_not_authorize_revoke_grant() {
    let f = fixture();
    let (key, old_row, current_row) = revoked_permission(&f, "kms:RevokeGrant");
    let grant_id =
        f.ks.create_grant(&CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
            operations: vec![strongroom::core::grant::GrantOperation::Decrypt],
            ..Default::default()
        })
        .unwrap()
        .grant_id;
    let (k, g) = (key.clone(), grant_id.clone());
    race_stale_row(&f, &old_row, &current_row, move |m| m.revoke_grant(&k, &g));
    let ks = reopen(&f);
    let grants = ks
        .list_grants(&ListGrantsRequest {
            key_id: key,
            ..Default::default()
        })
        .unwrap()
        .grants;
    assert!(grants.iter().any(|x| x.grant_id == grant_id));
}

/// An old row with the same policy but other tags: the policy allows
/// ScheduleKeyDeletion on an `aws:ResourceTag` condition the old tags meet.
#[test]
fn stale_tags_do_not_authorize_schedule_key_deletion() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    set_policy(
        &f,
        &key,
        serde_json::json!([
            {"Effect": "Allow", "Action": "kms:ScheduleKeyDeletion",
            "Condition": {"StringEquals": {"aws:ResourceTag/env": "dev"}}}]),
    );
    let tag = |v: &str| {
        vec![Tag {
            tag_key: "env".into(),
            tag_value: v.into(),
        }]
    };
    f.ks.tag_resource(&key, &tag("dev")).unwrap();
    let old_row = stored_row(&f.path, "keys", &key);
    f.ks.tag_resource(&key, &tag("prod")).unwrap();
    let current_row = stored_row(&f.path, "keys", &key);
    let k = key.clone();
    race_stale_row(&f, &old_row, &current_row, move |m| {
        m.schedule_key_deletion(&k, Some(7))
    });
    assert_still_enabled(&f, &key);
}

/// An alias row deleted from the file under a running handle: the
/// in-write alias listing of CreateGrant finds one alias row fewer than the
/// integrity state counts (keystore format 4), so the call fails instead of
/// skipping a Deny on `kms:ResourceAliases` (on format 3 the grant was
/// written, covered by the state, and survived once the row was put back).
#[test]
fn hidden_alias_row_does_not_skip_resource_aliases_deny() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    set_policy(
        &f,
        &key,
        serde_json::json!([
            {"Effect": "Allow", "Action": "kms:CreateGrant"},
            {"Effect": "Deny", "Action": "kms:CreateGrant",
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/prod"}}}]),
    );
    f.ks.create_alias("alias/prod", &key).unwrap();
    let req = CreateGrantRequest {
        key_id: key.clone(),
        grantee_principal: MALLORY.into(),
        operations: vec![strongroom::core::grant::GrantOperation::Decrypt],
        ..Default::default()
    };
    let alias = stored_row(&f.path, "aliases", "alias/prod");
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    delete_row(&db(&f.path), "aliases", "alias/prod");
    let r = h.as_principal(MALLORY).create_grant(&req);
    drop(h);
    let path = f.path.clone();
    drop(f.ks);
    insert_row(&db(&path), "aliases", &alias);
    // The call's authorization read no alias (the Deny did not apply); its
    // write counted the aliases and refused.
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    let g = ks
        .list_grants(&ListGrantsRequest {
            key_id: key,
            ..Default::default()
        })
        .unwrap();
    assert!(g.grants.is_empty());
}

/// Grant rows deleted from the file while a handle purges their key (past
/// its deletion date): the purge lists the key's grants inside its write,
/// and the bucket of the key's grants (keystore format 4) still holds
/// them, so the purge fails and changes nothing. On format 3 the key was
/// purged without them, and the grants, still covered by the integrity
/// state, survived once their rows were put back.
#[test]
fn hidden_grant_rows_do_not_survive_a_purge() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    for i in 0..3 {
        f.ks.create_grant(&CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: format!("arn:aws:iam::000000000000:user/app{i}"),
            operations: vec![strongroom::core::grant::GrantOperation::Decrypt],
            ..Default::default()
        })
        .unwrap();
    }
    f.ks.schedule_key_deletion(&key, Some(7)).unwrap();
    f.clock.advance(8 * DAY);
    let grants_of_key = |path: &Path| -> Vec<StoredRow> {
        db(path)
            .prepare("SELECT id, body, tag, bucket FROM grants WHERE id LIKE ?1 ORDER BY id")
            .unwrap()
            .query_map([format!("{key}/%")], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let hidden = grants_of_key(&f.path);
    assert_eq!(hidden.len(), 3);
    let h = Keystore::open(&f.path, root_source(&ROOT))
        .unwrap()
        .with_clock(f.clock.clone());
    db(&f.path)
        .execute("DELETE FROM grants WHERE id LIKE ?1", [format!("{key}/%")])
        .unwrap();
    let r = h.purge_deleted_keys();
    drop(h);
    let conn = db(&f.path);
    for g in &hidden {
        insert_row(&conn, "grants", g);
    }
    drop(conn);
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    // Nothing was purged: the key and its grants are there, and go together.
    let ks = reopen(&f).with_clock(f.clock.clone());
    assert_eq!(grants_of_key(&f.path).len(), 3);
    assert_eq!(ks.purge_deleted_keys().unwrap(), 1);
    assert!(grants_of_key(&f.path).is_empty());
    expect_err(ks.describe_key(&key), ErrorKind::NotFoundException);
    ks.verify_digest().unwrap();
}

/// An alias row deleted from the file while a handle purges its key: the
/// purge's listing of every alias finds fewer rows than the integrity state
/// counts, fails, and changes nothing.
#[test]
fn hidden_alias_row_does_not_survive_a_purge() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/doomed", &key).unwrap();
    f.ks.schedule_key_deletion(&key, Some(7)).unwrap();
    f.clock.advance(8 * DAY);
    let alias = stored_row(&f.path, "aliases", "alias/doomed");
    let h = Keystore::open(&f.path, root_source(&ROOT))
        .unwrap()
        .with_clock(f.clock.clone());
    delete_row(&db(&f.path), "aliases", "alias/doomed");
    let r = h.purge_deleted_keys();
    drop(h);
    insert_row(&db(&f.path), "aliases", &alias);
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    let ks = reopen(&f).with_clock(f.clock.clone());
    assert_eq!(ks.purge_deleted_keys().unwrap(), 1);
    expect_err(
        ks.describe_key("alias/doomed"),
        ErrorKind::NotFoundException,
    );
    ks.verify_digest().unwrap();
}

/// An alias row deleted from the file under a running handle while mallory
/// calls PutKeyPolicy, which the key policy denies mallory on a key with
/// the alias `alias/prod`: the call's check reads no alias, and its write
/// lists the key's aliases again (as CreateGrant's does), counts them and
/// refuses; the policy is unchanged.
#[test]
fn hidden_alias_row_does_not_skip_a_deny_of_put_key_policy() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let p = set_policy(
        &f,
        &key,
        serde_json::json!([
            {"Effect": "Allow", "Action": "kms:PutKeyPolicy"},
            {"Effect": "Deny", "Action": "kms:PutKeyPolicy",
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/prod"}}}]),
    );
    f.ks.create_alias("alias/prod", &key).unwrap();
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let alias = stored_row(&f.path, "aliases", "alias/prod");
    delete_row(&db(&f.path), "aliases", "alias/prod");
    let mut open_policy = policy(&key, Some("kms:*"));
    open_policy.bypass_policy_lockout_safety_check = true;
    let r = h.as_principal(MALLORY).put_key_policy(&open_policy);
    drop(h);
    insert_row(&db(&f.path), "aliases", &alias);
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    let ks = reopen(&f);
    let now = ks.get_key_policy(&key, None).unwrap().policy;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&now).unwrap(),
        serde_json::from_str::<serde_json::Value>(&p).unwrap()
    );
}

/// An alias row put back into the file under a running handle, after it
/// was deleted: it satisfied an Allow of ScheduleKeyDeletion on
/// `kms:ResourceAliases` when it was there. The call's check reads it; the
/// write lists the key's aliases again and finds the row the integrity
/// state does not cover, so the key is not scheduled for deletion.
#[test]
fn alias_row_put_back_does_not_authorize_schedule_key_deletion() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    set_policy(
        &f,
        &key,
        serde_json::json!([
            {"Effect": "Allow", "Action": "kms:ScheduleKeyDeletion",
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/dev"}}}]),
    );
    f.ks.create_alias("alias/dev", &key).unwrap();
    let old = stored_row(&f.path, "aliases", "alias/dev");
    f.ks.delete_alias("alias/dev").unwrap();
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let conn = db(&f.path);
    insert_row(&conn, "aliases", &old);
    let r = h.as_principal(MALLORY).schedule_key_deletion(&key, Some(7));
    drop(h);
    delete_row(&conn, "aliases", "alias/dev");
    drop(conn);
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    assert_still_enabled(&f, &key);
}

/// A revoked grant that let mallory retire grants (operation RetireGrant),
/// put back into the file under a running handle: mallory's RetireGrant of
/// another grant of the key is allowed by it in the call's check, and its
/// write, which reads the key's grants (one bucket in keystore format 4),
/// finds the row the integrity state does not cover; the other grant stays.
#[test]
fn revoked_grant_put_back_does_not_let_its_grantee_retire_others() {
    use strongroom::core::grant::GrantOperation;
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let grant = |who: &str, ops: Vec<GrantOperation>| {
        f.ks.create_grant(&CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: who.into(),
            operations: ops,
            ..Default::default()
        })
        .unwrap()
        .grant_id
    };
    let mallorys = grant(MALLORY, vec![GrantOperation::RetireGrant]);
    let other = grant(
        "arn:aws:iam::000000000000:user/app",
        vec![GrantOperation::Decrypt],
    );
    let old = stored_row(&f.path, "grants", &format!("{key}/{mallorys}"));
    f.ks.revoke_grant(&key, &mallorys).unwrap();
    let retire = RetireGrantRequest {
        key_id: Some(key.clone()),
        grant_id: Some(other.clone()),
        grant_token: None,
    };
    expect_err(
        f.ks.as_principal(MALLORY).retire_grant(&retire),
        ErrorKind::AccessDeniedException,
    );
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let conn = db(&f.path);
    insert_row(&conn, "grants", &old);
    let r = h.as_principal(MALLORY).retire_grant(&retire);
    drop(h);
    delete_row(&conn, "grants", &old.0);
    drop(conn);
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    let ks = reopen(&f);
    let grants = ks
        .list_grants(&ListGrantsRequest {
            key_id: key,
            ..Default::default()
        })
        .unwrap()
        .grants;
    assert!(grants.iter().any(|g| g.grant_id == other));
}

/// An attacker holding the file and a routine export made after the
/// migration (no root key) rebuilds a format 1 file: the v1 meta rows put
/// back, the state rows deleted, every row replaced by its export version,
/// mallory's revoked grant kept and a subset of revoked grants solved to
/// match the format 1 XOR digest. Export rows are tagged under their own
/// label (export version 3), not the portable record MAC of format 1 rows,
/// so the migration refuses the file.
#[test]
fn export_tags_cannot_forge_a_format_1_file_for_the_migration() {
    use strongroom::core::export::SealedExport;
    use strongroom::core::grant::GrantOperation;
    use strongroom::OpenOptions;
    const K1: &str = "cc5aed0e-8d61-4841-8302-d54c63e9d3f7";
    let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/v1-keystore.db");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.db");
    std::fs::copy(&v1, &path).unwrap();
    std::fs::copy(
        strongroom::audit_log_path(&v1),
        strongroom::audit_log_path(&path),
    )
    .unwrap();
    let meta_v1: Vec<StoredRow> = db(&path)
        .prepare("SELECT id, body, tag, -1 FROM meta WHERE id IN ('config', 'digest', 'audit-checkpoint')")
        .unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap()
        .collect::<Result<_, _>>().unwrap();
    assert_eq!(meta_v1.len(), 3);
    let log = strongroom::audit_log_path(&path);
    let log_v1 = std::fs::read(&log).unwrap();
    let mig = || {
        Keystore::open_with(
            &path,
            root_source(&ROOT),
            OpenOptions::default().migrate_old_format(true),
        )
    };
    let ks = mig().unwrap();
    let grant = |who: &str, ops: Vec<GrantOperation>| {
        ks.create_grant(&CreateGrantRequest {
            key_id: K1.into(),
            grantee_principal: who.into(),
            operations: ops,
            ..Default::default()
        })
        .unwrap()
        .grant_id
    };
    let mallory_grant = grant(
        MALLORY,
        vec![GrantOperation::Decrypt, GrantOperation::Encrypt],
    );
    let mut routine = Vec::new();
    for i in 0..300 {
        routine.push(grant(
            &format!("arn:aws:iam::000000000000:user/job{i}"),
            vec![GrantOperation::Encrypt],
        ));
    }
    let export = ks.export_sealed().unwrap(); // a routine backup
    ks.revoke_grant(K1, &mallory_grant).unwrap();
    for g in &routine {
        ks.revoke_grant(K1, g).unwrap();
    }
    expect_err(
        try_encrypt(&ks.as_principal(MALLORY), K1, b"x"),
        ErrorKind::AccessDeniedException,
    );
    drop(ks);

    // Attacker: no root key, only the file and the export bytes.
    let ex = SealedExport::parse_unauthenticated(&export).unwrap();
    let conn = db(&path);
    for t in ["keys", "aliases", "grants"] {
        conn.execute(&format!("DELETE FROM {t}"), []).unwrap();
    }
    conn.execute(
        "DELETE FROM meta WHERE id = 'state' OR id LIKE 'state/%'",
        [],
    )
    .unwrap();
    for r in &meta_v1 {
        conn.execute(
            "INSERT OR REPLACE INTO meta (id, body, tag) VALUES (?1, ?2, ?3)",
            rusqlite::params![r.0, r.1, r.2],
        )
        .unwrap();
    }
    let ins = |t: &str, r: &strongroom::core::export::ExportRow| {
        conn.execute(
            &format!("INSERT OR REPLACE INTO {t} (id, body, tag) VALUES (?1, ?2, ?3)"),
            rusqlite::params![r.id, r.body, r.tag],
        )
        .unwrap();
    };
    let mut want = bits_of_tag(&meta_v1.iter().find(|r| r.0 == "digest").unwrap().1);
    for r in &ex.keys {
        ins("keys", r);
        xor_into(&mut want, &bits_of_tag(&r.tag));
    }
    for r in &ex.aliases {
        ins("aliases", r);
        xor_into(&mut want, &bits_of_tag(&r.tag));
    }
    let is_revoked =
        |id: &str| id.ends_with(&mallory_grant) || routine.iter().any(|g| id.ends_with(g.as_str()));
    for r in ex.grants.iter().filter(|r| !is_revoked(&r.id)) {
        ins("grants", r);
        xor_into(&mut want, &bits_of_tag(&r.tag));
    }
    let m = ex
        .grants
        .iter()
        .find(|r| r.id.ends_with(&mallory_grant))
        .unwrap();
    ins("grants", m);
    xor_into(&mut want, &bits_of_tag(&m.tag));
    let pool: Vec<&strongroom::core::export::ExportRow> = ex
        .grants
        .iter()
        .filter(|r| is_revoked(&r.id) && !r.id.ends_with(&mallory_grant))
        .collect();
    let want: Vec<u8> = want.iter().flat_map(|w| w.to_be_bytes()).collect();
    let subset = solve_xor(
        &pool.iter().map(|r| r.tag.clone()).collect::<Vec<_>>(),
        &want,
    )
    .expect("span");
    for i in &subset {
        ins("grants", pool[*i]);
    }
    drop(conn);
    std::fs::write(&log, &log_v1).unwrap();

    let e = Keystore::open(&path, root_source(&ROOT)).unwrap_err();
    assert!(e.to_string().contains("migrate"), "{e}");
    expect_err(mig(), ErrorKind::KMSInternalException);
}

/// A key whose policy allows mallory `action` unless the key has the alias
/// `alias/prod` (which it has), and that alias's row as stored.
fn denied_for_alias_prod(f: &Fixture, action: &str) -> (String, StoredRow) {
    let key = new_key(&f.ks).key_id;
    set_policy(
        f,
        &key,
        serde_json::json!([
            {"Effect": "Allow", "Action": action},
            {"Effect": "Deny", "Action": action,
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/prod"}}}]),
    );
    f.ks.create_alias("alias/prod", &key).unwrap();
    let alias = stored_row(&f.path, "aliases", "alias/prod");
    (key, alias)
}

fn decrypt_grant_for_mallory(key: &str) -> CreateGrantRequest {
    CreateGrantRequest {
        key_id: key.into(),
        grantee_principal: MALLORY.into(),
        operations: vec![strongroom::core::grant::GrantOperation::Decrypt],
        ..Default::default()
    }
}

/// Mallory's CreateGrant on `key` through a handle opened before `tamper`
/// changed the file; every handle is closed when it returns (the file's
/// directory is kept with the path).
fn create_grant_after(
    f: Fixture,
    key: &str,
    tamper: impl FnOnce(&rusqlite::Connection),
) -> (
    strongroom::Result<CreateGrantResponse>,
    (tempfile::TempDir, std::path::PathBuf),
) {
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    tamper(&db(&f.path));
    let r = h
        .as_principal(MALLORY)
        .create_grant(&decrypt_grant_for_mallory(key));
    drop(h);
    let Fixture { dir, path, ks, .. } = f;
    drop(ks);
    (r, (dir, path))
}

/// The key's grants, on a new handle whose open (and a second full check)
/// passed: the file was put back as it was.
#[track_caller]
fn grants_after_restore(path: &Path, key: &str) -> usize {
    let ks = Keystore::open(path, root_source(&ROOT)).unwrap();
    ks.verify_digest().unwrap();
    ks.list_grants(&ListGrantsRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
    .grants
    .len()
}

/// An alias row deleted and replaced by one with id `''` (second review of
/// format 4): the table's row count is the state's, but no listing returns
/// that row (its first page starts after `''`). The write reads the table
/// itself and refuses a row a listing cannot return; once the file is put
/// back, the grant is not there.
#[test]
fn alias_row_replaced_by_an_empty_id_does_not_skip_resource_aliases_deny() {
    let f = fixture();
    let (key, alias) = denied_for_alias_prod(&f, "kms:CreateGrant");
    let (r, (_dir, path)) = create_grant_after(f, &key, |c| {
        delete_row(c, "aliases", "alias/prod");
        insert_row(c, "aliases", &(String::new(), vec![0], vec![0], -1));
    });
    {
        let c = db(&path);
        delete_row(&c, "aliases", "");
        insert_row(&c, "aliases", &alias);
    }
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    assert_eq!(grants_after_restore(&path, &key), 0);
}

/// The same with a `NULL` id (`id TEXT PRIMARY KEY` allows it in SQLite),
/// against PutKeyPolicy; the file with that row does not open either.
#[test]
fn alias_row_replaced_by_a_null_id_does_not_skip_a_deny_of_put_key_policy() {
    let f = fixture();
    let (key, alias) = denied_for_alias_prod(&f, "kms:PutKeyPolicy");
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    {
        let c = db(&f.path);
        delete_row(&c, "aliases", "alias/prod");
        c.execute(
            "INSERT INTO aliases (id, body, tag, bucket) VALUES (NULL, x'00', x'00', -1)",
            [],
        )
        .unwrap();
    }
    let r = h
        .as_principal(MALLORY)
        .put_key_policy(&policy(&key, Some("kms:*")));
    drop(h);
    let path = f.path.clone();
    drop(f.ks);
    expect_err(
        Keystore::open(&path, root_source(&ROOT)),
        ErrorKind::KMSInternalException,
    );
    {
        let c = db(&path);
        c.execute("DELETE FROM aliases WHERE id IS NULL", [])
            .unwrap();
        insert_row(&c, "aliases", &alias);
    }
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    let ks = Keystore::open(&path, root_source(&ROOT)).unwrap();
    ks.verify_digest().unwrap();
    // Mallory's own call, with the alias back, is denied as it should be.
    expect_err(
        ks.as_principal(MALLORY)
            .put_key_policy(&policy(&key, Some("kms:*"))),
        ErrorKind::AccessDeniedException,
    );
}

/// The `aliases` table replaced by a view that leaves out `alias/prod` and
/// shows another alias twice: the count is the state's and every row listed
/// authentic. The write refuses the schema (a view), and its own reading
/// of the table would refuse the repeated id; the file with the view does
/// not open.
#[test]
fn aliases_view_repeating_a_row_does_not_skip_resource_aliases_deny() {
    let f = fixture();
    let (key, _) = denied_for_alias_prod(&f, "kms:CreateGrant");
    let other = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/other", &other).unwrap();
    let (r, (_dir, path)) = create_grant_after(f, &key, |c| {
        c.execute_batch(
            "ALTER TABLE aliases RENAME TO aliases_real;
             CREATE VIEW aliases AS
               SELECT * FROM aliases_real WHERE id <> 'alias/prod'
               UNION ALL SELECT * FROM aliases_real WHERE id = 'alias/other';",
        )
        .unwrap();
    });
    let e = expect_err(
        Keystore::open(&path, root_source(&ROOT)),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("schema"), "{e}");
    // Put back as made (a table renamed back would keep its SQL rewritten
    // with the name quoted, which open refuses too).
    db(&path)
        .execute_batch(
            "DROP VIEW aliases;
             CREATE TABLE aliases (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL, \
                 bucket INTEGER NOT NULL DEFAULT -1);
             INSERT INTO aliases SELECT * FROM aliases_real;
             DROP TABLE aliases_real;
             CREATE INDEX aliases_bucket ON aliases (bucket, id, tag);",
        )
        .unwrap();
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("schema"), "{e}");
    assert_eq!(grants_after_restore(&path, &key), 0);
}

/// A trigger added to the file under a running handle (here one that puts
/// `alias/prod` back once a grant is written, so that the file would look
/// untouched after the write): a write that lists refuses the schema, and
/// so does open.
#[test]
fn trigger_in_the_file_is_refused_by_a_write_that_lists_and_by_open() {
    let f = fixture();
    let (key, alias) = denied_for_alias_prod(&f, "kms:CreateGrant");
    let (r, (_dir, path)) = create_grant_after(f, &key, |c| {
        delete_row(c, "aliases", "alias/prod");
        // Trigger bodies take no parameters: the row inline.
        c.execute_batch(&format!(
            "CREATE TRIGGER put_back AFTER INSERT ON grants BEGIN \
             INSERT INTO aliases (id, body, tag, bucket) \
             VALUES ('{}', x'{}', x'{}', {}); END",
            alias.0,
            hex(&alias.1),
            hex(&alias.2),
            alias.3
        ))
        .unwrap();
    });
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("schema"), "{e}");
    let e = expect_err(
        Keystore::open(&path, root_source(&ROOT)),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("schema"), "{e}");
    {
        let c = db(&path);
        c.execute_batch("DROP TRIGGER put_back").unwrap();
        insert_row(&c, "aliases", &alias);
    }
    assert_eq!(grants_after_restore(&path, &key), 0);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A second handle `h` gives mallory a grant that allows CreateGrant,
/// revokes it, and then every row and the integrity state are put back to
/// the copy taken before the revoke. Returns the fixture, `h` and the key.
fn revoke_then_roll_back() -> (Fixture, Keystore, String) {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let h = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let grant = h
        .create_grant(&CreateGrantRequest {
            operations: vec![
                strongroom::core::grant::GrantOperation::CreateGrant,
                strongroom::core::grant::GrantOperation::Decrypt,
            ],
            ..decrypt_grant_for_mallory(&key)
        })
        .unwrap()
        .grant_id;
    let old_rows = snapshot(&f.path);
    h.revoke_grant(&key, &grant).unwrap();
    restore(&f.path, &old_rows);
    (f, h, key)
}

/// Mallory's CreateGrant through the revoked grant is refused as a
/// rolled-back integrity state.
fn mallory_create_grant_is_refused(h: &Keystore, key: &str) {
    let e = expect_err(
        h.as_principal(MALLORY)
            .create_grant(&decrypt_grant_for_mallory(key)),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("integrity state"), "{e}");
}

/// Every row and the integrity state put back to an earlier authentic copy
/// while a handle runs, after that handle has written past it (third
/// review, finding 3): the handle's next write refuses the older state
/// counter, so a grant revoked since cannot let mallory create grants
/// through it. (The audit log put back too is refused by the audit sink,
/// which remembers its checkpoint; a new handle cannot tell either, the
/// documented limit of a whole-file rollback.)
#[test]
fn whole_keystore_rolled_back_under_a_running_handle_is_refused() {
    let (_f, h, key) = revoke_then_roll_back();
    mallory_create_grant_is_refused(&h, &key);
}

/// The same rollback, then a flush of the audit log before the write: the
/// flush stores a checkpoint in the rolled-back state, which moved its
/// counter up to the handle's highest and let the write through (review of
/// the merge of `intent` and `rowcount`). A checkpoint store now refuses a
/// state older than the handle has seen too.
#[test]
fn whole_keystore_rolled_back_then_flushed_under_a_running_handle_is_refused() {
    let (_f, h, key) = revoke_then_roll_back();
    // A read-only call leaves a record to flush; the flush and the audit
    // verification are refused (an older state), and so is the write.
    let _ = h.generate_random(16);
    let e = expect_err(h.flush_audit_log(), ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    let e = expect_err(h.verify_audit_log(), ErrorKind::KMSInternalException);
    assert!(e.message().contains("integrity state"), "{e}");
    mallory_create_grant_is_refused(&h, &key);
}
