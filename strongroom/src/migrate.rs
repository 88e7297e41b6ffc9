//! The record MACs of the native keystore and the explicit migration of a
//! keystore of an older format version (`docs/FORMAT.md`, "Authenticated
//! records" and "Migration from older format versions").
//!
//! From format version 3 every key, alias and grant row and `meta/config`
//! is tagged with [`RootKey::mac_keystore_record`]: its own MAC domain,
//! bound to the keystore ID. Formats 1 and 2 used [`RootKey::mac_record`],
//! which the sealed export still carries. So an old row, or an old
//! configuration, put back into a current keystore is not readable, and a
//! tag of a current row cannot stand in for an old one in the format 1
//! XOR digest. An old keystore is migrated only when asked
//! ([`OpenOptions::migrate_old_format`](crate::OpenOptions::migrate_old_format)),
//! because the migration can only trust the old file as it stands: the
//! format 1 digest is forgeable by anyone who can write the file (review
//! 5b, finding 1).

use strongroom_core::seal::RootKey;

use crate::store::{Row, SqliteStorage, Storage, Table, Tx};
use crate::{
    audit_log, auth_failed, from_json, integrity, to_json, Config, Error, Result,
    KEYSTORE_FORMAT_VERSION, META_CONFIG,
};

/// The record-MAC kind of the rows of a bucketed table.
pub(crate) fn kind_of(table: Table) -> &'static [u8] {
    match table {
        Table::Keys => b"key",
        Table::Aliases => b"alias",
        Table::Grants => b"grant",
        Table::Meta => b"meta",
    }
}

/// The tag of a row of keystore `keystore_id` (format version 3).
pub(crate) fn tag(
    root: &RootKey,
    keystore_id: &str,
    kind: &[u8],
    id: &str,
    body: &[u8],
) -> Result<Vec<u8>> {
    root.mac_keystore_record(keystore_id.as_bytes(), kind, id.as_bytes(), body)
        .map(|t| t.to_vec())
}

/// Whether `tag` is the format version 3 tag of a row of keystore `keystore_id`.
pub(crate) fn verify(
    root: &RootKey,
    keystore_id: &str,
    kind: &[u8],
    id: &str,
    body: &[u8],
    tag: &[u8],
) -> bool {
    root.verify_keystore_record(keystore_id.as_bytes(), kind, id.as_bytes(), body, tag)
}

/// The `meta/config` row of keystore `keystore_id` with `config` as body.
pub(crate) fn config_row(root: &RootKey, config: &Config) -> Result<Row> {
    let body = to_json(config)?;
    Ok(Row {
        id: META_CONFIG.into(),
        tag: tag(root, &config.keystore_id, b"meta", META_CONFIG, &body)?,
        body,
    })
}

/// The authenticated configuration of keystore `keystore_id` (the
/// `meta/check` body, already checked against the root key) and whether
/// it is of an older format version, to be migrated: a current
/// configuration has a keystore record MAC and says version 4; an old one
/// has a keystore record MAC and says version 3, or the tag of formats 1
/// and 2 and says version 1 or 2. Anything else failed authentication.
pub(crate) fn read_config(root: &RootKey, keystore_id: &str, row: &Row) -> Result<(Config, bool)> {
    let what = "the keystore configuration";
    let current = verify(root, keystore_id, b"meta", META_CONFIG, &row.body, &row.tag);
    let old = !current && root.verify_record(b"meta", META_CONFIG.as_bytes(), &row.body, &row.tag);
    if !current && !old {
        return Err(auth_failed(what));
    }
    let config: Config = from_json(&row.body, "keystore configuration")?;
    if config.keystore_id != keystore_id {
        return Err(auth_failed(what));
    }
    match (current, config.format_version) {
        (true, v) if v == KEYSTORE_FORMAT_VERSION => Ok((config, false)),
        (true, v) if v > KEYSTORE_FORMAT_VERSION => Err(Error::internal(format!(
            "keystore format {v} is newer than this Strongroom ({KEYSTORE_FORMAT_VERSION})"
        ))),
        (true, 3) | (false, 1 | 2) => Ok((config, true)),
        _ => Err(auth_failed(what)),
    }
}

/// The error of [`Keystore::open`](crate::Keystore::open) for a keystore
/// of an older format version.
pub(crate) fn needs_migration(version: u32) -> Error {
    Error::internal(format!(
        "keystore format {version} must be migrated to format {KEYSTORE_FORMAT_VERSION} \
         explicitly: run `strongroom migrate-keystore` (or open it with \
         OpenOptions::migrate_old_format), which trusts the file as it stands, once, with \
         every process using it stopped and from a copy known to be unmodified; a keystore \
         that was already migrated and reads as format {version} again was modified: \
         restore it from backup, do not migrate it again"
    ))
}

/// Migrates a keystore of format version 1, 2 or 3 to version 4 in one
/// write transaction, after checking it as its own version would (format
/// 1: the XOR digest and the checkpoint row; formats 2 and 3: the integrity
/// state) and, for formats 1 and 2, every row's own MAC: those rows are
/// tagged again in the keystore record MAC domain. Every row gets its
/// bucket (a key's grants move to the bucket of their key ID), the
/// integrity state is written afresh with the row counts and the old
/// checkpoint (and, from format 3, the old counter + 1), the format 1 rows
/// go, and `meta/config` records format version 4 under its keystore
/// record MAC. A keystore another process migrated meanwhile is left as it
/// is; any failure leaves the file as it was.
pub(crate) fn migrate(storage: &SqliteStorage, root: &RootKey, keystore_id: &str) -> Result<()> {
    storage.write(&mut |tx| {
        // A format 1 keystore made before grants has no `grants` table.
        tx.create_old_tables()?;
        let row = tx
            .get(Table::Meta, META_CONFIG)?
            .ok_or_else(|| auth_failed("the keystore configuration"))?;
        let (mut config, old) = read_config(root, keystore_id, &row)?;
        if !old {
            return Ok(());
        }
        let (checkpoint, counter) = if config.format_version == 1 {
            // A format 1 file has never had an integrity state: one with a
            // state row had been migrated, and its old configuration put back.
            if tx.get(Table::Meta, integrity::META_STATE)?.is_some() {
                return Err(auth_failed(
                    "the keystore configuration (a format 1 configuration in a migrated keystore)",
                ));
            }
            integrity::verify_v1_digest(tx, root)?;
            (audit_log::v1_checkpoint(tx, root, config.audit_log)?, 0)
        } else {
            let (checkpoint, counter) = integrity::verify_format_3(tx, root)?;
            // Format 2 counted from 0 again at its migration to format 3.
            let counter = if config.format_version == 3 {
                counter.wrapping_add(1)
            } else {
                0
            };
            (checkpoint, counter)
        };
        tx.add_bucket_columns()?;
        // The schema the migrated file must have, checked here so that a
        // file the open would refuse after the migration is not migrated
        // (its schema edited: a table, index, view or trigger added,
        // changed or removed).
        tx.check_schema()?;
        if config.format_version == 3 {
            // Keys and aliases keep their buckets.
            rebucket(tx, root, Table::Grants)?;
        } else {
            for table in Table::BUCKETED {
                retag(tx, root, keystore_id, table)?;
            }
        }
        integrity::rebuild(tx, root, checkpoint, counter, None)?;
        tx.delete(Table::Meta, integrity::META_V1_DIGEST)?;
        tx.delete(Table::Meta, audit_log::META_AUDIT)?;
        config.format_version = KEYSTORE_FORMAT_VERSION;
        tx.put(Table::Meta, &config_row(root, &config)?)
    })
}

/// Stores every row of `table` again as `f` makes it from the stored one,
/// in its bucket of format 4.
fn rewrite(
    tx: &mut dyn Tx,
    root: &RootKey,
    table: Table,
    mut f: impl FnMut(Row) -> Result<Row>,
) -> Result<()> {
    let mut after: Option<String> = None;
    loop {
        let rows = tx.list(table, after.as_deref(), 1000)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(last.id.clone());
        for r in rows {
            let row = f(r)?;
            tx.put_in_bucket(table, &row, integrity::bucket_of(root, table, &row.id)?)?;
        }
    }
}

/// Stores every row of `table` of a format 3 keystore again in its bucket
/// of format 4 (for grants: the bucket of their key's grants; the
/// integrity state was checked, each row's MAC is checked when it is used).
fn rebucket(tx: &mut dyn Tx, root: &RootKey, table: Table) -> Result<()> {
    rewrite(tx, root, table, Ok)
}

/// Checks every row of `table` against its format 1 and 2 tag and stores
/// it with its keystore record MAC, in its bucket.
fn retag(tx: &mut dyn Tx, root: &RootKey, keystore_id: &str, table: Table) -> Result<()> {
    let kind = kind_of(table);
    rewrite(tx, root, table, |r| {
        if !root.verify_record(kind, r.id.as_bytes(), &r.body, &r.tag) {
            return Err(auth_failed(&format!(
                "the {} row {}",
                String::from_utf8_lossy(kind),
                r.id
            )));
        }
        Ok(Row {
            tag: tag(root, keystore_id, kind, &r.id, &r.body)?,
            ..r
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::api::{CreateGrantRequest, CreateKeyRequest, EncryptRequest};
    use crate::{CreateOptions, ErrorKind, Keystore, OpenOptions, RootKeySource, Secret};
    use strongroom_core::grant::GrantOperation;

    const ROOT: [u8; 32] = [0x3c; 32];

    fn source() -> RootKeySource {
        RootKeySource::Bytes(Secret::from_slice(&ROOT))
    }

    /// Turns the format 3 keystore at `path` into the format 2 file a build
    /// of format 2 wrote: every row and the configuration under the
    /// portable record MAC, `format_version` 2, and the integrity state
    /// over those tags (with the checkpoint it held).
    fn downgrade_to_format_2(path: &std::path::Path) {
        let root = RootKey::from_bytes(&ROOT).unwrap();
        let storage = SqliteStorage::open(path, false).unwrap();
        storage
            .write(&mut |tx| {
                let checkpoint = integrity::read_checkpoint(tx, &root)?;
                for table in Table::BUCKETED {
                    let kind = kind_of(table);
                    for r in tx.list(table, None, 1000)? {
                        let tag = root.mac_record(kind, r.id.as_bytes(), &r.body)?.to_vec();
                        let b = integrity::bucket_of(&root, table, &r.id)?;
                        tx.put_in_bucket(table, &Row { tag, ..r }, b)?;
                    }
                }
                integrity::rebuild(tx, &root, checkpoint, 0, None)?;
                integrity::write_format_3_state(tx, &root)?;
                let row = tx.get(Table::Meta, META_CONFIG)?.unwrap();
                let mut config: Config = from_json(&row.body, "config")?;
                config.format_version = 2;
                let body = to_json(&config)?;
                let tag = root
                    .mac_record(b"meta", META_CONFIG.as_bytes(), &body)?
                    .to_vec();
                tx.put(
                    Table::Meta,
                    &Row {
                        id: META_CONFIG.into(),
                        body,
                        tag,
                    },
                )
            })
            .unwrap();
    }

    /// A format 2 keystore (the integrity state over portable tags) is
    /// refused by a plain open, and migrated when asked, after its
    /// integrity state is checked: its keys and grants work, and its rows
    /// carry keystore record MACs. A format 2 file with a row rolled back
    /// is refused by the migration and left as it was.
    #[test]
    fn a_format_2_keystore_is_checked_and_migrated_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.db");
        let ks = Keystore::create(&path, source(), CreateOptions::default()).unwrap();
        let key = ks
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .key_metadata
            .key_id;
        ks.create_alias("alias/two", &key).unwrap();
        let app = "arn:aws:iam::000000000000:user/app";
        ks.create_grant(&CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: app.into(),
            operations: vec![GrantOperation::Encrypt],
            ..Default::default()
        })
        .unwrap();
        ks.update_key_description(&key, "before").unwrap();
        let mut old_key_row = None;
        SqliteStorage::open(&path, false)
            .unwrap()
            .read(&mut |tx| {
                old_key_row = tx.get(Table::Keys, &key)?;
                Ok(())
            })
            .unwrap();
        ks.update_key_description(&key, "after").unwrap();
        ks.flush_audit_log().unwrap();
        drop(ks);
        downgrade_to_format_2(&path);

        let e = Keystore::open(&path, source()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
        assert!(e.message().contains("keystore format 2"), "{e}");

        // A row rolled back in the format 2 file: its integrity state refuses it.
        let tampered = dir.path().join("tampered.db");
        std::fs::copy(&path, &tampered).unwrap();
        std::fs::copy(
            crate::audit_log_path(&path),
            crate::audit_log_path(&tampered),
        )
        .unwrap();
        let root = RootKey::from_bytes(&ROOT).unwrap();
        let mut old = old_key_row.unwrap();
        old.tag = root
            .mac_record(b"key", old.id.as_bytes(), &old.body)
            .unwrap()
            .to_vec();
        let b = integrity::bucket_of(&root, Table::Keys, &old.id).unwrap();
        SqliteStorage::open(&tampered, false)
            .unwrap()
            .write(&mut |tx| tx.put_in_bucket(Table::Keys, &old, b))
            .unwrap();
        let before = std::fs::read(&tampered).unwrap();
        let migrate = OpenOptions::default().migrate_old_format(true);
        let e = Keystore::open_with(&tampered, source(), migrate.clone()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
        assert!(e.message().contains("integrity state"), "{e}");
        assert_eq!(std::fs::read(&tampered).unwrap(), before);

        let ks = Keystore::open_with(&path, source(), migrate).unwrap();
        let described = ks.describe_key("alias/two").unwrap().key_metadata;
        assert_eq!(described.description, "after");
        ks.as_principal(app)
            .encrypt(&EncryptRequest {
                key_id: key.clone(),
                plaintext: Secret::from_slice(b"x"),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(ks.verify_audit_log().unwrap().fault, None);
        drop(ks);
        let ks = Keystore::open(&path, source()).unwrap();
        ks.verify_digest().unwrap();
        let storage = SqliteStorage::open(&path, false).unwrap();
        storage
            .read(&mut |tx| {
                let row = tx.get(Table::Keys, &key)?.unwrap();
                assert!(!root.verify_record(b"key", key.as_bytes(), &row.body, &row.tag));
                let ksid = ks.inner.config.keystore_id.as_str();
                assert!(verify(&root, ksid, b"key", &key, &row.body, &row.tag));
                Ok(())
            })
            .unwrap();
    }

    /// A format 2 keystore (a key, an alias and a grant), made once: the
    /// bytes of its file and audit log, and its key ID.
    fn format_2_template() -> &'static (Vec<u8>, Vec<u8>, String) {
        static T: std::sync::OnceLock<(Vec<u8>, Vec<u8>, String)> = std::sync::OnceLock::new();
        T.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ks.db");
            let ks = Keystore::create(&path, source(), CreateOptions::default()).unwrap();
            let key = ks
                .create_key(&CreateKeyRequest::default())
                .unwrap()
                .key_metadata
                .key_id;
            ks.create_alias("alias/two", &key).unwrap();
            ks.create_grant(&CreateGrantRequest {
                key_id: key.clone(),
                grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
                operations: vec![GrantOperation::Encrypt],
                ..Default::default()
            })
            .unwrap();
            ks.flush_audit_log().unwrap();
            drop(ks);
            downgrade_to_format_2(&path);
            let log = std::fs::read(crate::audit_log_path(&path)).unwrap();
            (std::fs::read(&path).unwrap(), log, key)
        })
    }

    /// An edit of a format 2 file: `(table, row, column, op, bytes)` with
    /// `op` 0 flip (`bytes[0]` at `row`-chosen offset), 1 cut, 2 extend,
    /// 3 delete the row, 4 rewrite the integrity state or the configuration
    /// with a valid MAC (so the reader behind it runs).
    type Format2Edit = (usize, usize, usize, u8, Vec<u8>);

    fn edit_format_2(path: &std::path::Path, (t, r, c, op, bytes): &Format2Edit) {
        let root = RootKey::from_bytes(&ROOT).unwrap();
        let conn = rusqlite::Connection::open(path).unwrap();
        let table = ["meta", "keys", "aliases", "grants"][t % 4];
        let col = ["id", "body", "tag"][c % 3];
        let ids: Vec<String> = conn
            .prepare(&format!("SELECT id FROM {table} ORDER BY id"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let id = &ids[r % ids.len()];
        let value: Vec<u8> = conn
            .query_row(
                &format!("SELECT CAST({col} AS BLOB) FROM {table} WHERE id = ?1"),
                [id],
                |row| row.get(0),
            )
            .unwrap();
        let mut v = value.clone();
        match op % 5 {
            0 if !v.is_empty() => {
                let at = r % v.len();
                v[at] ^= bytes.first().copied().unwrap_or(1).max(1);
            }
            1 => v.truncate(r % (v.len() + 1)),
            2 | 0 => v.extend_from_slice(bytes),
            3 => {
                conn.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id])
                    .unwrap();
                return;
            }
            _ => {
                let (which, mut body): (&str, Vec<u8>) = if r % 2 == 0 {
                    let b = conn
                        .query_row("SELECT body FROM meta WHERE id = 'state'", [], |x| x.get(0))
                        .unwrap();
                    ("state", b)
                } else {
                    let b = conn
                        .query_row("SELECT body FROM meta WHERE id = 'config'", [], |x| {
                            x.get(0)
                        })
                        .unwrap();
                    ("config", b)
                };
                let at = c % (body.len() + 1);
                body.splice(
                    at..(at + bytes.len() % 3).min(body.len()),
                    bytes.iter().copied(),
                );
                let tag = if which == "state" {
                    root.mac_integrity(&[b"strongroom/v1/state", &body])
                        .unwrap()
                } else {
                    root.mac_record(b"meta", b"config", &body).unwrap()
                };
                conn.execute(
                    "UPDATE meta SET body = ?1, tag = ?2 WHERE id = ?3",
                    rusqlite::params![body, tag.to_vec(), which],
                )
                .unwrap();
                return;
            }
        }
        let new = if col == "id" {
            rusqlite::types::Value::Text(String::from_utf8_lossy(&v).into_owned())
        } else {
            rusqlite::types::Value::Blob(v)
        };
        // An id that collides with another row's leaves the file as it was.
        let _ = conn.execute(
            &format!("UPDATE {table} SET {col} = ?1 WHERE id = ?2"),
            rusqlite::params![new, id],
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(32)
        ))]

        /// A format 2 file with a row edited (id, body or tag flipped, cut
        /// or extended; deleted), or its integrity state or configuration
        /// rewritten with a valid MAC over edited bytes: the migration
        /// never panics, and either refuses with `KMSInternalException`
        /// (`AccessDeniedException` for an edited `meta/check`, as for a
        /// wrong root key) leaving the file and audit log byte for byte as
        /// they were, or migrates a keystore whose key, alias and grant
        /// are intact.
        #[test]
        fn edited_format_2_keystores_are_refused_unchanged_or_migrate_intact(
            edit in (0..4usize, proptest::prelude::any::<usize>(), 0..3usize, 0..5u8,
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24))
        ) {
            let (db, log, key) = format_2_template();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ks.db");
            std::fs::write(&path, db).unwrap();
            std::fs::write(crate::audit_log_path(&path), log).unwrap();
            edit_format_2(&path, &edit);
            let before = (std::fs::read(&path).unwrap(), std::fs::read(crate::audit_log_path(&path)).unwrap());
            let migrate = OpenOptions::default().migrate_old_format(true);
            match Keystore::open_with(&path, source(), migrate) {
                Err(e) => {
                    proptest::prop_assert!(
                        matches!(e.kind(), ErrorKind::KMSInternalException | ErrorKind::AccessDeniedException),
                        "{}", e
                    );
                    let after = (std::fs::read(&path).unwrap(), std::fs::read(crate::audit_log_path(&path)).unwrap());
                    proptest::prop_assert!(after == before, "a refused migration changed the files: {}", e);
                }
                Ok(ks) if edit.3 % 5 == 4 => {
                    // Rewritten with the root key: any typed result.
                    let _ = ks.describe_key(key);
                }
                Ok(ks) => {
                    proptest::prop_assert_eq!(&ks.describe_key("alias/two").unwrap().key_metadata.key_id, key);
                    let grants = ks.list_grants(&crate::api::ListGrantsRequest {
                        key_id: key.clone(),
                        ..Default::default()
                    });
                    proptest::prop_assert_eq!(grants.unwrap().grants.len(), 1);
                    ks.verify_digest().unwrap();
                }
            }
        }
    }
}
