//! Fuzzing of the reader of older keystore formats (`src/migrate.rs` and
//! the format 1 and 3 checks it runs: `docs/FORMAT.md`, "Migration from
//! older format versions"), on the committed keystores of format 1 and 3
//! (`tests/fixture/v1-keystore.db`, `v3-keystore.db`; format 2 is fuzzed
//! by the unit tests of `src/migrate.rs`, which can write it).
//!
//! Each case edits one row of the old file — a byte flipped in its id, body
//! or tag, the value cut or extended, stored as another SQL type, the row
//! deleted or copied under another id — or its schema (a table dropped, a
//! `bucket` column added), or rewrites an authenticated meta row (the
//! configuration with another `format_version`, the format 1 digest or
//! checkpoint, the format 3 state) with a valid MAC over mutated bytes.
//! Then it asks for the migration. The invariant, as `docs/FORMAT.md`
//! promises it: never a panic; a refusal is `KMSInternalException`
//! (`AccessDeniedException` for an altered `meta/check`, as for a wrong
//! root key) and leaves the keystore file and its audit log byte for byte
//! as they were; a migration that succeeds (the edit changed nothing that
//! matters, e.g. an unread meta row) holds exactly the keys, aliases and
//! grants of the unedited file, and decrypts its blob.
#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

mod fixture;

use std::path::{Path, PathBuf};

use fixture::*;
use proptest::prelude::*;
use rusqlite::types::Value;
use strongroom::api::ListGrantsRequest;
use strongroom::core::seal::RootKey;
use strongroom::{ErrorKind, Keystore, OpenOptions};

#[path = "../../core/tests/support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

/// The tables of a keystore file.
const TABLES: [&str; 4] = ["meta", "keys", "aliases", "grants"];

/// The committed keystore of format `version` and its blob's plaintext.
fn old(version: u32) -> (PathBuf, Vec<u8>, &'static [u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let blob = std::fs::read(dir.join(format!("v{version}-keystore.blob"))).unwrap();
    let plaintext: &[u8] = if version == 1 {
        b"hello v1"
    } else {
        b"hello v3"
    };
    (dir.join(format!("v{version}-keystore.db")), blob, plaintext)
}

/// A copy of the keystore at `from` and its audit log, in a fresh directory.
fn copy_of(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("ks.db");
    std::fs::copy(from, &to).unwrap();
    std::fs::copy(
        strongroom::audit_log_path(from),
        strongroom::audit_log_path(&to),
    )
    .unwrap();
    (dir, to)
}

fn migrate(path: &Path) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().migrate_old_format(true),
    )
}

/// What a keystore holds, as text: every key's metadata and grants, every
/// alias, and the blob's plaintext.
fn content(ks: &Keystore, blob: &[u8]) -> strongroom::Result<String> {
    let mut out = String::new();
    for k in ks.list_keys(None, None)?.keys {
        let md = ks.describe_key(&k.key_id)?.key_metadata;
        let mut grants: Vec<String> = ks
            .list_grants(&ListGrantsRequest {
                key_id: k.key_id.clone(),
                ..Default::default()
            })?
            .grants
            .into_iter()
            .map(|g| format!("{g:?}"))
            .collect();
        grants.sort();
        out += &format!("{md:?}\n{grants:?}\n");
    }
    out += &format!("{:?}\n", ks.list_aliases(None, None, None)?.aliases);
    let pt = strongroom::api::DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        ..Default::default()
    };
    out += &format!("{:?}", ks.decrypt(&pt)?.plaintext.expose_secret());
    Ok(out)
}

/// The content of the unedited keystore of format `version`, migrated.
fn reference(version: u32) -> &'static str {
    static R: [std::sync::OnceLock<String>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    R[usize::from(version == 3)].get_or_init(|| {
        let (path, blob, plaintext) = old(version);
        let (_dir, copy) = copy_of(&path);
        let ks = migrate(&copy).unwrap();
        let c = content(&ks, &blob).unwrap();
        assert!(c.ends_with(&format!("{plaintext:?}")), "{c}");
        c
    })
}

/// One column of a row to edit.
#[derive(Clone, Copy, Debug)]
enum Column {
    Id,
    Body,
    Tag,
}

/// An edit of the old file that does not know the root key.
#[derive(Clone, Debug)]
enum Edit {
    /// `bytes[at % len] ^= mask` (mask not zero).
    Flip(Column, usize, u8),
    /// The value cut to `len % (its length)` bytes.
    Cut(Column, usize),
    /// Bytes appended to the value.
    Extend(Column, Vec<u8>),
    /// The value stored as another SQL type: NULL, an integer, a real, or
    /// (for a blob) its text, (for text) its blob.
    Retype(Column, u8),
    Delete,
    /// The row copied under its id with `suffix` appended.
    Duplicate(String),
    /// The table dropped.
    DropTable,
    /// A `bucket` column added to the table, with `value` in every row.
    AddBucket(i64),
}

fn column() -> impl Strategy<Value = Column> {
    prop_oneof![Just(Column::Id), Just(Column::Body), Just(Column::Tag)]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (column(), any::<usize>(), 1..=255u8).prop_map(|(c, at, m)| Edit::Flip(c, at, m)),
        2 => (column(), any::<usize>()).prop_map(|(c, n)| Edit::Cut(c, n)),
        2 => (column(), proptest::collection::vec(any::<u8>(), 1..40))
            .prop_map(|(c, b)| Edit::Extend(c, b)),
        2 => (column(), 0..4u8).prop_map(|(c, k)| Edit::Retype(c, k)),
        1 => Just(Edit::Delete),
        1 => "[a-z/0-9]{1,8}".prop_map(Edit::Duplicate),
        1 => Just(Edit::DropTable),
        1 => prop_oneof![Just(-1i64), Just(0), Just(262_143), Just(262_144), any::<i64>()]
            .prop_map(Edit::AddBucket),
    ]
}

fn col_name(c: Column) -> &'static str {
    match c {
        Column::Id => "id",
        Column::Body => "body",
        Column::Tag => "tag",
    }
}

/// The bytes of a stored value (text or blob), if it is one.
fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Text(t) => Some(t.as_bytes().to_vec()),
        Value::Blob(b) => Some(b.clone()),
        _ => None,
    }
}

/// `v` with its bytes replaced, keeping its type (text that is no longer
/// UTF-8 is stored as a blob: SQLite would hold such text too).
fn with_bytes(v: &Value, b: Vec<u8>) -> Value {
    match v {
        Value::Text(_) => {
            String::from_utf8(b).map_or_else(|e| Value::Blob(e.into_bytes()), Value::Text)
        }
        _ => Value::Blob(b),
    }
}

/// Applies `edit` to row `row` (modulo the row count) of `table` in the
/// file at `path`; returns whether it touched `meta/check`.
fn apply(path: &Path, table: &str, row: usize, edit: &Edit) -> bool {
    let c = rusqlite::Connection::open(path).unwrap();
    let ids: Vec<Value> = c
        .prepare(&format!("SELECT id FROM {table} ORDER BY id"))
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .unwrap_or_default();
    let Some(id) = ids.get(row % ids.len().max(1)).cloned() else {
        return false;
    };
    let check = table == "meta" && id == Value::Text("check".into());
    let get = |col: &str| -> Value {
        c.query_row(
            &format!("SELECT {col} FROM {table} WHERE id = ?1"),
            [&id],
            |r| r.get(0),
        )
        .unwrap()
    };
    let set = |col: &str, v: Value| {
        // A new id may collide with another row's: then the edit is a no-op.
        let _ = c.execute(
            &format!("UPDATE {table} SET {col} = ?1 WHERE id = ?2"),
            rusqlite::params![v, id],
        );
    };
    match edit {
        Edit::Flip(col, at, mask) => {
            let v = get(col_name(*col));
            if let Some(mut b) = bytes_of(&v).filter(|b| !b.is_empty()) {
                let i = at % b.len();
                b[i] ^= mask;
                set(col_name(*col), with_bytes(&v, b));
            }
        }
        Edit::Cut(col, n) => {
            let v = get(col_name(*col));
            if let Some(mut b) = bytes_of(&v).filter(|b| !b.is_empty()) {
                b.truncate(n % b.len());
                set(col_name(*col), with_bytes(&v, b));
            }
        }
        Edit::Extend(col, more) => {
            let v = get(col_name(*col));
            if let Some(mut b) = bytes_of(&v) {
                b.extend_from_slice(more);
                set(col_name(*col), with_bytes(&v, b));
            }
        }
        Edit::Retype(col, kind) => {
            let v = get(col_name(*col));
            let b = bytes_of(&v).unwrap_or_default();
            let new = match kind {
                0 => Value::Null,
                1 => Value::Integer(b.len() as i64),
                2 => Value::Real(0.5),
                _ => match v {
                    Value::Text(t) => Value::Blob(t.into_bytes()),
                    _ => Value::Text(String::from_utf8_lossy(&b).into_owned()),
                },
            };
            // `NOT NULL` refuses a NULL body or tag: then nothing changes.
            set(col_name(*col), new);
        }
        Edit::Delete => {
            c.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [&id])
                .unwrap();
        }
        Edit::Duplicate(suffix) => {
            let new = match &id {
                Value::Text(t) => Value::Text(format!("{t}{suffix}")),
                other => other.clone(),
            };
            let _ = c.execute(
                &format!("INSERT INTO {table} (id, body, tag) SELECT ?1, body, tag FROM {table} WHERE id = ?2"),
                rusqlite::params![new, id],
            );
        }
        Edit::DropTable => {
            c.execute_batch(&format!("DROP TABLE {table}")).unwrap();
            return table == "meta";
        }
        Edit::AddBucket(value) => {
            let _ = c.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN bucket INTEGER NOT NULL DEFAULT {value}"
            ));
        }
    }
    check && !matches!(edit, Edit::AddBucket(_))
}

/// The keystore file and its audit log, as bytes.
fn files(path: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(path).unwrap(),
        std::fs::read(strongroom::audit_log_path(path)).unwrap(),
    )
}

/// Asks for the migration of the edited file at `path` (format
/// `version`) and checks the invariant of this file's header. With
/// `authenticated`, the edit was made with the root key: a migration that
/// succeeds may then hold other content, which must read without a panic.
fn check_migration(
    path: &Path,
    version: u32,
    check_altered: bool,
    authenticated: bool,
) -> Result<(), TestCaseError> {
    let (_, blob, _) = old(version);
    let before = files(path);
    match migrate(path) {
        Err(e) => {
            let allowed = if check_altered {
                [
                    ErrorKind::KMSInternalException,
                    ErrorKind::AccessDeniedException,
                ]
                .as_slice()
            } else {
                [ErrorKind::KMSInternalException].as_slice()
            };
            prop_assert!(allowed.contains(&e.kind()), "{e}");
            let after = files(path);
            prop_assert!(
                after.0 == before.0,
                "the refused migration changed the keystore file: {e}"
            );
            prop_assert!(
                after.1 == before.1,
                "the refused migration changed the audit log: {e}"
            );
        }
        Ok(ks) => {
            let got = content(&ks, &blob);
            if authenticated {
                // Any result but a panic: a key row with a valid MAC over
                // a malformed body is KMSInternalException when read.
                drop(got);
            } else {
                // Format 3's state commits to each row's tag; a row's MAC
                // over its body is checked when the row is read (as format
                // 3 and 4 do), so an edited body migrates as it was and is
                // refused on use (failed authentication, or a body that is
                // not a blob: a database error).
                match got {
                    Ok(c) => prop_assert_eq!(c, reference(version)),
                    Err(e) => {
                        prop_assert_eq!(version, 3, "{}", e);
                        prop_assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{}", e);
                    }
                }
                ks.verify_digest().unwrap();
            }
        }
    }
    Ok(())
}

fn table() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(TABLES.to_vec())
}

proptest! {
    #![proptest_config(cases(48))]

    /// Format 1 and format 3 files with one row or table edited (no root
    /// key): refused with the file and log unchanged, or migrated to the
    /// same content.
    #[test]
    fn edited_old_keystores_are_refused_unchanged_or_migrate_intact(
        v3 in any::<bool>(),
        table in table(),
        row in any::<usize>(),
        edit in edit(),
    ) {
        let version = if v3 { 3 } else { 1 };
        let (path, _, _) = old(version);
        let (_dir, copy) = copy_of(&path);
        let check = apply(&copy, table, row, &edit);
        check_migration(&copy, version, check, false)?;
    }
}

/// A byte edit of a value: flip, cut or extend.
#[derive(Clone, Debug)]
enum Bytes {
    Flip(usize, u8),
    Cut(usize),
    Extend(Vec<u8>),
}

fn bytes_edit() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, m)| Bytes::Flip(at, m)),
        any::<usize>().prop_map(Bytes::Cut),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(Bytes::Extend),
    ]
}

fn edit_bytes(b: &mut Vec<u8>, e: &Bytes) {
    match e {
        Bytes::Flip(at, m) if !b.is_empty() => {
            let i = at % b.len();
            b[i] ^= m;
        }
        Bytes::Flip(..) => b.push(b'x'),
        Bytes::Cut(n) => b.truncate(n % (b.len() + 1)),
        Bytes::Extend(more) => b.extend_from_slice(more),
    }
}

/// An edit made with the root key: a MAC-valid row the old reader parses.
#[derive(Clone, Debug)]
enum Signed {
    /// `meta/config` with `format_version` replaced (`None`: removed),
    /// tagged with the portable record MAC of formats 1 and 2 or
    /// (`keystore_mac`) the keystore record MAC of formats 3 and 4.
    Version(Option<serde_json::Value>, bool),
    /// `meta/config`'s bytes edited, tagged as above.
    Config(Bytes, bool),
    /// Format 1: `meta/digest` or (`checkpoint`) `meta/audit-checkpoint`
    /// edited, with a valid portable record MAC.
    V1Meta(Bytes, bool),
    /// Format 1: a key, alias or grant row's body edited, its portable
    /// record MAC and the XOR digest made valid again.
    V1Row(&'static str, usize, Bytes),
    /// Format 3: the integrity state row edited, with a valid MAC.
    V3State(Bytes),
}

fn signed() -> impl Strategy<Value = Signed> {
    let version = prop_oneof![
        (0u64..=6).prop_map(|v| Some(v.into())),
        Just(Some(u64::from(u32::MAX).into())),
        Just(Some((u64::from(u32::MAX) + 1).into())),
        Just(Some((-1i64).into())),
        Just(Some(1.5.into())),
        Just(Some("1".into())),
        Just(Some(serde_json::Value::Null)),
        Just(None),
    ];
    prop_oneof![
        (version, any::<bool>()).prop_map(|(v, k)| Signed::Version(v, k)),
        (bytes_edit(), any::<bool>()).prop_map(|(e, k)| Signed::Config(e, k)),
        (bytes_edit(), any::<bool>()).prop_map(|(e, c)| Signed::V1Meta(e, c)),
        (
            proptest::sample::select(vec!["keys", "aliases", "grants"]),
            any::<usize>(),
            bytes_edit()
        )
            .prop_map(|(t, r, e)| Signed::V1Row(t, r, e)),
        bytes_edit().prop_map(Signed::V3State),
    ]
}

fn meta_row(c: &rusqlite::Connection, id: &str) -> (Vec<u8>, Vec<u8>) {
    c.query_row("SELECT body, tag FROM meta WHERE id = ?1", [id], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

fn put_meta(c: &rusqlite::Connection, id: &str, body: &[u8], tag: &[u8]) {
    c.execute(
        "UPDATE meta SET body = ?1, tag = ?2 WHERE id = ?3",
        rusqlite::params![body, tag, id],
    )
    .unwrap();
}

/// Applies `edit` to the file of format `version` at `path`; `false` if
/// it does not apply to that format.
fn apply_signed(path: &Path, version: u32, edit: &Signed) -> bool {
    let root = RootKey::from_bytes(&ROOT).unwrap();
    let c = rusqlite::Connection::open(path).unwrap();
    let (ksid, _) = meta_row(&c, "check");
    let tag_config = |body: &[u8], keystore_mac: bool| {
        if keystore_mac {
            root.mac_keystore_record(&ksid, b"meta", b"config", body)
        } else {
            root.mac_record(b"meta", b"config", body)
        }
        .unwrap()
    };
    match edit {
        Signed::Version(v, keystore_mac) => {
            let (body, _) = meta_row(&c, "config");
            let mut json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            match v {
                Some(v) => json["format_version"] = v.clone(),
                None => drop(json.as_object_mut().unwrap().remove("format_version")),
            }
            let body = serde_json::to_vec(&json).unwrap();
            put_meta(&c, "config", &body, &tag_config(&body, *keystore_mac));
        }
        Signed::Config(e, keystore_mac) => {
            let (mut body, _) = meta_row(&c, "config");
            edit_bytes(&mut body, e);
            put_meta(&c, "config", &body, &tag_config(&body, *keystore_mac));
        }
        Signed::V1Meta(e, checkpoint) if version == 1 => {
            let id = if *checkpoint {
                "audit-checkpoint"
            } else {
                "digest"
            };
            let (mut body, _) = meta_row(&c, id);
            edit_bytes(&mut body, e);
            let tag = root.mac_record(b"meta", id.as_bytes(), &body).unwrap();
            put_meta(&c, id, &body, &tag);
        }
        Signed::V1Row(table, row, e) if version == 1 => {
            let rows: Vec<(String, Vec<u8>, Vec<u8>)> = c
                .prepare(&format!("SELECT id, body, tag FROM {table} ORDER BY id"))
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let (id, mut body, old_tag) = rows[row % rows.len()].clone();
            edit_bytes(&mut body, e);
            let kind = match *table {
                "keys" => &b"key"[..],
                "aliases" => b"alias",
                _ => b"grant",
            };
            let tag = root.mac_record(kind, id.as_bytes(), &body).unwrap();
            c.execute(
                &format!("UPDATE {table} SET body = ?1, tag = ?2 WHERE id = ?3"),
                rusqlite::params![body, tag.to_vec(), id],
            )
            .unwrap();
            let (mut digest, _) = meta_row(&c, "digest");
            for ((d, o), n) in digest.iter_mut().zip(&old_tag).zip(&tag) {
                *d ^= o ^ n;
            }
            let dtag = root.mac_record(b"meta", b"digest", &digest).unwrap();
            put_meta(&c, "digest", &digest, &dtag);
        }
        Signed::V3State(e) if version == 3 => {
            let (mut body, _) = meta_row(&c, "state");
            edit_bytes(&mut body, e);
            let tag = root
                .mac_integrity(&[b"strongroom/v1/state", &body])
                .unwrap();
            put_meta(&c, "state", &body, &tag);
        }
        _ => return false,
    }
    true
}

proptest! {
    #![proptest_config(cases(48))]

    /// Format 1 and 3 files with a row rewritten with the root key (wrong
    /// format versions, malformed configurations, digests, checkpoints,
    /// states and key, alias and grant bodies behind a valid MAC): the
    /// reader behind the MAC never panics, and refuses with
    /// `KMSInternalException`, the file and log unchanged.
    #[test]
    fn re_authenticated_old_rows_never_panic(v3 in any::<bool>(), edit in signed()) {
        let version = if v3 { 3 } else { 1 };
        let (path, _, _) = old(version);
        let (_dir, copy) = copy_of(&path);
        if apply_signed(&copy, version, &edit) {
            check_migration(&copy, version, false, true)?;
        }
    }
}

/// Every wrong `format_version` of the configuration, under either MAC,
/// in both old files: refused with `KMSInternalException`, unchanged.
#[test]
fn wrong_format_versions_are_refused_unchanged() {
    for version in [1, 3] {
        let versions = [0, 1, 2, 3, 4, 5, u64::from(u32::MAX)];
        for (v, keystore_mac) in versions.into_iter().flat_map(|v| [(v, false), (v, true)]) {
            // The file's own configuration. (Format 4 under the keystore
            // record MAC reads as a current keystore: refused by the check
            // of its integrity state at open.)
            if v == u64::from(version) && keystore_mac == (version == 3) {
                continue;
            }
            let (path, _, _) = old(version);
            let (_dir, copy) = copy_of(&path);
            assert!(apply_signed(
                &copy,
                version,
                &Signed::Version(Some(v.into()), keystore_mac)
            ));
            let before = files(&copy);
            let e = match migrate(&copy) {
                Ok(_) => panic!("v{version} {v} {keystore_mac}: migrated"),
                Err(e) => e,
            };
            assert_eq!(
                e.kind(),
                ErrorKind::KMSInternalException,
                "v{version} {v} {keystore_mac}: {e}"
            );
            assert!(files(&copy) == before, "v{version} {v} {keystore_mac}: {e}");
        }
    }
}

/// Found by `edited_old_keystores_are_refused_unchanged_or_migrate_intact`:
/// opening a file created the tables it lacked before anything was
/// checked, so a refused migration of a format 1 file with a table
/// dropped — or the open of another application's SQLite database named
/// by mistake — left the file changed. Now nothing is written before the
/// migration's transaction, which creates a missing old table itself.
#[test]
fn a_refused_open_creates_no_table() {
    let (v1, _, _) = old(1);
    for table in ["meta", "keys", "aliases", "grants"] {
        let (_dir, path) = copy_of(&v1);
        apply(&path, table, 0, &Edit::DropTable);
        let before = files(&path);
        let e = migrate(&path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{table}: {e}");
        assert!(files(&path) == before, "{table}: {e}");
    }
    // Another application's database, in rollback-journal mode; also one
    // with a table named `meta` (a common name: it passed the check for
    // that table, was switched to WAL mode for good and got a `-signal`
    // file beside it before the missing `meta/check` row refused it).
    for schema in [
        "CREATE TABLE t (x); INSERT INTO t VALUES (1);",
        "CREATE TABLE meta (k TEXT, v TEXT); INSERT INTO meta VALUES ('version', '3');",
        "CREATE TABLE meta (id TEXT PRIMARY KEY, body BLOB NOT NULL, tag BLOB NOT NULL);",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(schema)
            .unwrap();
        let before = std::fs::read(&path).unwrap();
        for options in [
            OpenOptions::default(),
            OpenOptions::default().migrate_old_format(true),
        ] {
            let e = Keystore::open_with(&path, root_source(&ROOT), options).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{schema}: {e}");
            assert!(e.message().contains("is not a Strongroom keystore"), "{e}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{schema}");
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, ["app.db"], "{schema}: files left beside it");
        }
    }
}

/// Found by `edited_old_keystores_are_refused_unchanged_or_migrate_intact`:
/// a format 1 file with its schema edited (a `bucket` column added to
/// `meta`, an index or a view added) was migrated and committed, and then
/// refused by the schema check of the open that ran the migration: the
/// file was changed, and could neither be opened nor migrated again. The
/// migration now checks the schema it leaves before it commits.
#[test]
fn a_schema_edit_is_refused_before_the_migration_commits() {
    let (v1, _, _) = old(1);
    for sql in [
        "ALTER TABLE meta ADD COLUMN bucket INTEGER NOT NULL DEFAULT -1",
        "CREATE INDEX extra ON keys (tag)",
        "CREATE VIEW v AS SELECT id FROM keys",
    ] {
        let (_dir, path) = copy_of(&v1);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let before = files(&path);
        let e = migrate(&path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{sql}: {e}");
        assert!(e.message().contains("schema"), "{sql}: {e}");
        assert!(files(&path) == before, "{sql}: {e}");
    }
}

/// The bytes of every row of the format 1 file (the configuration, the
/// XOR digest, the audit checkpoint, the key, alias and grant rows: body
/// and tag; `meta/check`), flipped — every byte of each tag and of each
/// body up to 100 bytes, every fifth byte (and the last) of the longer
/// bodies, which one MAC check covers whole; one migration per byte, so
/// all of them would take minutes in CI: the migration is refused —
/// `AccessDeniedException` for `meta/check` (it is the root key check),
/// `KMSInternalException` for every other — and leaves the file and its
/// audit log as they were (so one copy serves every byte, each flipped
/// back after its try).
#[test]
fn every_byte_of_a_format_1_row_is_authenticated() {
    let (v1, _, _) = old(1);
    let (_dir, path) = copy_of(&v1);
    let mut rows = Vec::new();
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        for table in TABLES {
            let mut st = c
                .prepare(&format!("SELECT id, body, tag FROM {table} ORDER BY id"))
                .unwrap();
            let found: Vec<(String, Vec<u8>, Vec<u8>)> = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.extend(found.into_iter().map(|r| (table, r)));
        }
    }
    assert_eq!(rows.len(), 8);
    let mut tried = 0;
    for (table, (id, body, tag)) in &rows {
        for (col, value) in [("body", body), ("tag", tag)] {
            let stride = if col == "body" && value.len() > 100 {
                5
            } else {
                1
            };
            let last = value.len() - 1;
            for i in (0..value.len())
                .step_by(stride)
                .chain((stride > 1).then_some(last))
            {
                let mut v = value.clone();
                v[i] ^= 0x01;
                let set = |v: &[u8]| {
                    rusqlite::Connection::open(&path)
                        .unwrap()
                        .execute(
                            &format!("UPDATE {table} SET {col} = ?1 WHERE id = ?2"),
                            rusqlite::params![v, id],
                        )
                        .unwrap();
                };
                set(&v);
                let before = files(&path);
                let e = match migrate(&path) {
                    Ok(_) => panic!("{table}/{id} {col} byte {i}: migrated"),
                    Err(e) => e,
                };
                let want = if *table == "meta" && id == "check" {
                    ErrorKind::AccessDeniedException
                } else {
                    ErrorKind::KMSInternalException
                };
                assert_eq!(e.kind(), want, "{table}/{id} {col} byte {i}: {e}");
                assert!(files(&path) == before, "{table}/{id} {col} byte {i}: {e}");
                set(value);
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 792);
    // Every byte put back: the file migrates.
    migrate(&path).unwrap().verify_digest().unwrap();
}
