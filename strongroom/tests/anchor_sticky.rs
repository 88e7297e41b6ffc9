//! A keystore anchored once stays anchored (`docs/FORMAT.md`, "Keystore
//! anchor", `anchored`): opening it without its anchor is refused before
//! anything is written, unless the caller opts out (audited); a rollback
//! can no longer be "laundered" by a process that opens the file without
//! the anchor; the sealed export carries the setting, and the import keeps
//! it; anchoring is removed only deliberately, with the anchor.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};

use fixture::*;
use strongroom::api::*;
use strongroom::{Anchor, CreateOptions, ErrorKind, Keystore, OpenOptions};

fn open_without_anchor(path: &Path) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().without_anchor(),
    )
}

fn files_of(path: &Path) -> Files {
    strongroom::keystore_files(path)
        .into_iter()
        .map(|(p, _)| {
            let b = std::fs::read(&p).ok();
            (p, b)
        })
        .collect()
}

/// The audit log's event names, in order.
fn audit_events(path: &Path) -> Vec<String> {
    std::fs::read_to_string(strongroom::audit_log_path(path))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["eventName"].as_str().map(str::to_owned)
        })
        .collect()
}

/// The stored `meta/config` body.
fn config_body(path: &Path) -> String {
    let c = rusqlite::Connection::open(path).unwrap();
    let body: Vec<u8> = c
        .query_row("SELECT body FROM meta WHERE id = 'config'", [], |r| {
            r.get(0)
        })
        .unwrap();
    String::from_utf8(body).unwrap()
}

fn tag(ks: &Keystore, key: &str, value: &str) -> strongroom::Result<()> {
    ks.tag_resource(
        key,
        &[Tag {
            tag_key: "t".into(),
            tag_value: value.into(),
        }],
    )
}

#[track_caller]
fn refused_without_anchor<T: std::fmt::Debug>(r: strongroom::Result<T>) {
    let e = expect_err(r, ErrorKind::KMSInvalidStateException);
    for hint in [
        "--anchor PATH",
        "anchor=",
        "OpenOptions::anchor",
        "--no-anchor",
    ] {
        assert!(e.message().contains(hint), "{hint}: {e}");
    }
}

/// Opening an anchored keystore without its anchor is refused with
/// `KMSInvalidStateException`, naming how to give it, and changes no byte
/// of the keystore, its sidecars, its audit log or the anchor.
#[test]
fn an_anchored_keystore_opened_without_its_anchor_is_refused_and_unchanged() {
    let a = anchored();
    new_key(&a.ks);
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let before = files_of(&a.path);
    let anchor_before = std::fs::read(&a.anchor).unwrap();
    refused_without_anchor(Keystore::open(&a.path, root_source(&ROOT)));
    assert!(files_of(&a.path) == before, "the keystore's files changed");
    assert_eq!(std::fs::read(&a.anchor).unwrap(), anchor_before);
    // The anchored open works, and giving both is a contradiction.
    open_anchored(&a.path, &a.anchor, false).unwrap();
    let both = OpenOptions::default()
        .anchor(Anchor::file(&a.anchor))
        .without_anchor();
    expect_err(
        Keystore::open_with(&a.path, root_source(&ROOT), both),
        ErrorKind::ValidationException,
    );
}

/// An opted-out open works, and is audited (`OpenKeystoreWithoutAnchor`,
/// in a verified log); the option changes nothing on a keystore that is
/// not anchored.
#[test]
fn an_opted_out_open_works_and_is_audited() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    drop(a.ks);
    let ks = open_without_anchor(&a.path).unwrap();
    tag(&ks, &key, "v").unwrap();
    ks.flush_audit_log().unwrap();
    ks.verify_audit_log().unwrap();
    let events = audit_events(&a.path);
    assert_eq!(
        events
            .iter()
            .filter(|e| *e == "OpenKeystoreWithoutAnchor")
            .count(),
        1,
        "{events:?}"
    );
    let status = ks.anchor_status().unwrap();
    assert!(status.anchored && !status.anchor_given);
    assert_eq!(status.anchor_counter, None);
    drop(ks);
    // The anchored open moves the anchor past the opted-out write.
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    let status = ks.anchor_status().unwrap();
    assert!(status.anchored && status.anchor_given && !status.anchor_behind());

    let f = fixture();
    drop(open_without_anchor(&f.path).unwrap());
    assert!(!audit_events(&f.path).contains(&"OpenKeystoreWithoutAnchor".to_owned()));
}

/// The laundering the anchor could not stop before: the file copied aside,
/// anchored writes, the copy put back, and a process without the anchor
/// writing on it until its counter passes the anchored one. That process
/// is now refused; only one that opts out (audited) can still do it, after
/// which an anchored open accepts the rollback (the documented residual).
#[test]
fn a_rollback_is_no_longer_laundered_by_a_process_without_the_anchor() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let saved = files_of(&a.path);
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    ks.disable_key(&key).unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    put_back(&saved);
    refused_without_anchor(Keystore::open(&a.path, root_source(&ROOT)));
    assert!(files_of(&a.path) == saved);
    let e = expect_err(
        open_anchored(&a.path, &a.anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("behind its anchor"), "{e}");
    // Opting out: the writes carry the counter past the anchored one.
    let plain = open_without_anchor(&a.path).unwrap();
    for i in 0..4 {
        tag(&plain, &key, &i.to_string()).unwrap();
    }
    plain.flush_audit_log().unwrap();
    let status = plain.anchor_status().unwrap();
    drop(plain);
    assert!(status.anchored);
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    assert!(ks.describe_key(&key).unwrap().key_metadata.enabled);
    assert!(audit_events(&a.path).contains(&"OpenKeystoreWithoutAnchor".to_owned()));
}

/// A keystore without the field (created without an anchor, as every
/// keystore before it existed) opens as before and its configuration is
/// byte for byte the earlier one; its first anchored open (creating the
/// anchor) anchors it, audited, and from then on it needs the anchor.
#[test]
fn a_keystore_without_the_field_opens_as_before_until_anchored() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let body = config_body(&f.path);
    assert!(!body.contains("anchored"), "{body}");
    drop(f.ks);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    assert!(!ks.anchor_status().unwrap().anchored);
    drop(ks);
    let anchor_dir = tempfile::tempdir().unwrap();
    let anchor = anchor_dir.path().join("a");
    // Without --anchor-init, a missing anchor is refused, naming it.
    let e = expect_err(
        open_anchored(&f.path, &anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("--anchor-init"), "{e}");
    assert!(e.message().contains("initialize_if_missing"), "{e}");
    assert!(!config_body(&f.path).contains("anchored"));
    let ks = open_anchored(&f.path, &anchor, true).unwrap();
    tag(&ks, &key, "x").unwrap();
    ks.flush_audit_log().unwrap();
    ks.verify_audit_log().unwrap();
    assert!(ks.anchor_status().unwrap().anchored);
    drop(ks);
    assert!(config_body(&f.path).contains(r#""anchored":true"#));
    assert!(audit_events(&f.path).contains(&"AnchorKeystore".to_owned()));
    refused_without_anchor(Keystore::open(&f.path, root_source(&ROOT)));
    open_anchored(&f.path, &anchor, false).unwrap();
}

/// The sealed export carries the setting: importing an anchored keystore's
/// export without an anchor is refused before the file is created; with a
/// new anchor the imported keystore is anchored to it; opted out, it stays
/// anchored and its first anchored open creates the anchor.
#[test]
fn export_and_import_keep_anchoring() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    let export = a.ks.export_sealed().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("imported.db");
    refused_without_anchor(Keystore::import_sealed(
        &target,
        &export,
        root_source(&ROOT),
    ));
    assert!(!target.exists());
    // The original's anchor holds a record: not taken over.
    let taken = OpenOptions::default().anchor(Anchor::file(&a.anchor));
    expect_err(
        Keystore::import_sealed_with(&target, &export, root_source(&ROOT), taken),
        ErrorKind::AlreadyExistsException,
    );
    assert!(!target.exists());
    let anchor = dir.path().join("imported.anchor");
    let with = OpenOptions::default().anchor(Anchor::file(&anchor));
    let ks = Keystore::import_sealed_with(&target, &export, root_source(&ROOT), with).unwrap();
    assert!(ks.describe_key(&key).is_ok());
    let status = ks.anchor_status().unwrap();
    assert!(status.anchored && status.anchor_counter == Some(status.keystore_counter));
    drop(ks);
    refused_without_anchor(Keystore::open(&target, root_source(&ROOT)));
    open_anchored(&target, &anchor, false).unwrap();

    let opted = dir.path().join("opted.db");
    let without = OpenOptions::default().without_anchor();
    let ks = Keystore::import_sealed_with(&opted, &export, root_source(&ROOT), without).unwrap();
    assert!(ks.anchor_status().unwrap().anchored);
    drop(ks);
    assert!(audit_events(&opted).contains(&"OpenKeystoreWithoutAnchor".to_owned()));
    refused_without_anchor(Keystore::open(&opted, root_source(&ROOT)));
    let anchor2 = dir.path().join("opted.anchor");
    open_anchored(&opted, &anchor2, true).unwrap();

    // Through the in-memory keystore (the wasm package) and back: still
    // anchored.
    let root = strongroom::core::seal::RootKey::from_bytes(&ROOT).unwrap();
    let mem = strongroom::core::memstore::MemKeystore::import_sealed(&export, root).unwrap();
    let back = mem.export_sealed().unwrap();
    let via_memory = dir.path().join("via-memory.db");
    refused_without_anchor(Keystore::import_sealed(
        &via_memory,
        &back,
        root_source(&ROOT),
    ));
    assert!(!via_memory.exists());

    // An un-anchored export imported with an anchor is anchored.
    let f = fixture();
    let plain_export = f.ks.export_sealed().unwrap();
    let third = dir.path().join("third.db");
    let anchor3 = dir.path().join("third.anchor");
    let with = OpenOptions::default().anchor(Anchor::file(&anchor3));
    Keystore::import_sealed_with(&third, &plain_export, root_source(&ROOT), with).unwrap();
    refused_without_anchor(Keystore::open(&third, root_source(&ROOT)));
}

/// Anchoring is removed only by a handle opened with the anchor (audited
/// `RemoveKeystoreAnchor`); afterwards the keystore opens without one.
#[test]
fn removing_the_anchor_needs_the_anchor_and_is_audited() {
    let a = anchored();
    drop(a.ks);
    let plain = open_without_anchor(&a.path).unwrap();
    expect_err(plain.remove_anchor(), ErrorKind::ValidationException);
    assert!(plain.anchor_status().unwrap().anchored);
    drop(plain);
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    ks.remove_anchor().unwrap();
    assert!(!ks.anchor_status().unwrap().anchored);
    ks.flush_audit_log().unwrap();
    ks.verify_audit_log().unwrap();
    drop(ks);
    let events = audit_events(&a.path);
    assert!(
        events.contains(&"RemoveKeystoreAnchor".to_owned()),
        "{events:?}"
    );
    let ks = Keystore::open(&a.path, root_source(&ROOT)).unwrap();
    assert!(!ks.anchor_status().unwrap().anchored);
}

/// The status shows an anchor left behind by an opted-out process's
/// writes, and an anchored open moves it forward.
#[test]
fn the_status_shows_an_anchor_behind() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    drop(a.ks);
    let plain = open_without_anchor(&a.path).unwrap();
    tag(&plain, &key, "p").unwrap();
    plain.flush_audit_log().unwrap();
    drop(plain);
    let ks = Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(&a.anchor)),
    )
    .unwrap();
    let status = ks.anchor_status().unwrap();
    assert!(!status.anchor_behind(), "{status:?}");
    // Behind: the anchor put back to the record of before the writes.
    let record = std::fs::read(&a.anchor).unwrap();
    tag(&ks, &key, "q").unwrap();
    ks.flush_audit_log().unwrap();
    std::fs::write(&a.anchor, &record).unwrap();
    let status = ks.anchor_status().unwrap();
    assert!(status.anchor_behind(), "{status:?}");
    assert!(status.anchor_counter.unwrap() < status.keystore_counter);
}

// Review of the sticky anchor (findings 1–3): the anchoring is in the
// integrity state (anchor ID), so neither the configuration row put back,
// nor a handle opened before anchoring, nor a fresh anchor launders a
// rollback.

fn config_row(path: &Path) -> (Vec<u8>, Vec<u8>) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row("SELECT body, tag FROM meta WHERE id = 'config'", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

fn set_config_row(path: &Path, body: &[u8], tag: &[u8]) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute(
        "UPDATE meta SET body = ?1, tag = ?2 WHERE id = 'config'",
        rusqlite::params![body, tag],
    )
    .unwrap();
}

/// A consistent copy of the database (`VACUUM INTO`) and the audit log's bytes.
fn snapshot(path: &Path, to: &Path) -> Vec<u8> {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute("VACUUM INTO ?1", [to.to_str().unwrap()]).unwrap();
    std::fs::read(strongroom::audit_log_path(path)).unwrap_or_default()
}

/// Puts the copy's rows back through SQLite (so that open handles see it
/// coherently), and the audit log's bytes.
fn restore(path: &Path, snap: &Path, log: &[u8]) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute("ATTACH ?1 AS s", [snap.to_str().unwrap()])
        .unwrap();
    c.execute_batch(
        "BEGIN IMMEDIATE;
         DELETE FROM meta; INSERT INTO meta SELECT * FROM s.meta;
         DELETE FROM keys; INSERT INTO keys SELECT * FROM s.keys;
         DELETE FROM aliases; INSERT INTO aliases SELECT * FROM s.aliases;
         DELETE FROM grants; INSERT INTO grants SELECT * FROM s.grants;
         COMMIT;",
    )
    .unwrap();
    drop(c);
    std::fs::write(strongroom::audit_log_path(path), log).unwrap();
}

/// A keystore anchored after it was created (`--anchor-init`), with a key
/// disabled after a snapshot taken once anchored; returns the snapshot's
/// paths after putting it back (the disable rolled back).
struct RolledBack {
    _dir: tempfile::TempDir,
    path: PathBuf,
    _adir: tempfile::TempDir,
    anchor: PathBuf,
    key: String,
    /// The configuration row from before anchoring.
    old_config: (Vec<u8>, Vec<u8>),
}

fn anchored_later_then_rolled_back() -> RolledBack {
    let Fixture {
        dir, path, ks: f, ..
    } = fixture();
    let key = new_key(&f).key_id;
    f.flush_audit_log().unwrap();
    // No handle stays open in the process (its highest state would refuse
    // the rollback before the anchor does).
    drop(f);
    let old_config = config_row(&path);
    let adir = tempfile::tempdir().unwrap();
    let anchor = adir.path().join("a");
    let ks = open_anchored(&path, &anchor, true).unwrap();
    tag(&ks, &key, "after-anchoring").unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    let snap = adir.path().join("snap.db");
    let log = snapshot(&path, &snap);
    let ks = open_anchored(&path, &anchor, false).unwrap();
    ks.disable_key(&key).unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    restore(&path, &snap, &log);
    RolledBack {
        _dir: dir,
        path,
        _adir: adir,
        anchor,
        key,
        old_config,
    }
}

/// The anchor still refuses the rolled-back file, and the key stays as the
/// anchor knows it once the file is restored.
fn anchor_refuses_rollback(r: &RolledBack) {
    let e = expect_err(
        open_anchored(&r.path, &r.anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("behind its anchor"), "{e}");
}

/// Finding 1: the configuration row from before anchoring, put into a
/// rolled-back file, no longer opens it without the anchor: the integrity
/// state says it is anchored (plain open refused, every write refused), and
/// an open with the anchor calls the disagreement tampering.
#[test]
fn the_configuration_row_put_back_does_not_unanchor() {
    let r = anchored_later_then_rolled_back();
    let path = &r.path;
    refused_without_anchor(Keystore::open(path, root_source(&ROOT)));
    let (body, tag_bytes) = &r.old_config;
    set_config_row(path, body, tag_bytes);
    assert!(!config_body(path).contains("anchored"));
    let before = config_row(path);
    refused_without_anchor(Keystore::open(path, root_source(&ROOT)));
    assert_eq!(config_row(path), before, "nothing written");
    let e = expect_err(
        Keystore::open_with(
            path,
            root_source(&ROOT),
            OpenOptions::default().anchor(Anchor::file(&r.anchor)),
        ),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("behind its anchor"), "{e}");
    anchor_refuses_rollback(&r);
    let _ = &r.key;
}

/// Finding 1, with the file current: the old configuration row and an
/// open with the anchor is refused as a configuration put back.
#[test]
fn a_configuration_saying_unanchored_beside_an_anchored_state_is_refused() {
    let f = fixture();
    f.ks.flush_audit_log().unwrap();
    let old = config_row(&f.path);
    drop(f.ks);
    let adir = tempfile::tempdir().unwrap();
    let anchor = adir.path().join("a");
    drop(open_anchored(&f.path, &anchor, true).unwrap());
    set_config_row(&f.path, &old.0, &old.1);
    let e = expect_err(
        open_anchored(&f.path, &anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("configuration"), "{e}");
    refused_without_anchor(Keystore::open(&f.path, root_source(&ROOT)));
}

/// Child process for the next test: opens with the anchor (initialised if
/// missing) and tags or disables the key.
#[test]
#[ignore = "run as a child process by a_handle_opened_before_anchoring_is_refused"]
fn child_with_anchor() {
    // A child process's entry point: under `--include-ignored`, where no
    // parent set its variables, there is nothing to do.
    let Ok(path) = std::env::var("STICKY_PATH") else {
        return;
    };
    let anchor = PathBuf::from(std::env::var("STICKY_ANCHOR").unwrap());
    let key = std::env::var("STICKY_KEY").unwrap();
    let ks = open_anchored(Path::new(&path), &anchor, true).unwrap();
    match std::env::var("STICKY_STEP").unwrap().as_str() {
        "anchor" => tag(&ks, &key, "child").unwrap(),
        _ => ks.disable_key(&key).unwrap(),
    }
    ks.flush_audit_log().unwrap();
}

fn child(path: &Path, anchor: &Path, key: &str, step: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_with_anchor", "--nocapture"])
        .env("STICKY_PATH", path)
        .env("STICKY_ANCHOR", anchor)
        .env("STICKY_KEY", key)
        .env("STICKY_STEP", step)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Finding 2: a handle opened (without an anchor) before another process
/// anchored the keystore is refused by its next write and its next audit
/// checkpoint (it reads the anchoring in the integrity state), so it
/// cannot launder a rollback; it is told to reopen with the anchor.
#[test]
fn a_handle_opened_before_anchoring_is_refused() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    drop(f.ks);
    let adir = tempfile::tempdir().unwrap();
    let anchor = adir.path().join("a");
    let a = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    tag(&a, &key, "before").unwrap();
    child(&f.path, &anchor, &key, "anchor");
    let snap = adir.path().join("snap.db");
    let log = snapshot(&f.path, &snap);
    child(&f.path, &anchor, &key, "disable");
    // Refused on the current file too (it is anchored).
    let e = expect_err(tag(&a, &key, "0"), ErrorKind::KMSInvalidStateException);
    assert!(e.message().contains("reopened"), "{e}");
    restore(&f.path, &snap, &log);
    let counter = |p: &Path| {
        let c = rusqlite::Connection::open(p).unwrap();
        c.query_row("SELECT body FROM meta WHERE id = 'state'", [], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .unwrap()
    };
    let before = counter(&f.path);
    for i in 0..4 {
        expect_err(
            tag(&a, &key, &i.to_string()),
            ErrorKind::KMSInvalidStateException,
        );
    }
    let _ = a.flush_audit_log();
    drop(a);
    assert_eq!(counter(&f.path), before, "nothing written");
    let e = expect_err(
        open_anchored(&f.path, &anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("behind its anchor"), "{e}");
}

/// Finding 3: an anchored keystore is not re-anchored by a fresh anchor
/// with `initialize_if_missing` (refused, nothing created, nothing
/// written); re-anchoring is explicit (`Anchor::reinitialize`), audited as
/// `ReinitializeKeystoreAnchor`, and gives the keystore a new anchor ID, so
/// the earlier anchor is refused afterwards.
#[test]
fn a_fresh_anchor_does_not_replace_the_keystores() {
    let r = anchored_later_then_rolled_back();
    let path = &r.path;
    let other = r.anchor.with_file_name("fresh");
    let n_events = audit_events(path).len();
    let e = expect_err(
        open_anchored(path, &other, true),
        ErrorKind::KMSInvalidStateException,
    );
    assert!(e.message().contains("holds no record"), "{e}");
    assert!(!other.exists(), "nothing created");
    assert_eq!(audit_events(path).len(), n_events);
    anchor_refuses_rollback(&r);

    // The deliberate re-anchor (here on the rolled-back file: the operator
    // vouches for it) is audited, and the earlier anchor is refused after.
    let ks = open_reinit(path, &other).unwrap();
    tag(&ks, &r.key, "x").unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    assert!(audit_events(path).contains(&"ReinitializeKeystoreAnchor".to_owned()));
    let e = expect_err(
        open_anchored(path, &r.anchor, false),
        ErrorKind::KMSInvalidStateException,
    );
    assert!(e.message().contains("another anchor ID"), "{e}");
    open_anchored(path, &other, false).unwrap();
    // Re-anchoring with an anchor that holds a record checks it as always.
    let e = expect_err(
        open_reinit(path, &r.anchor),
        ErrorKind::KMSInvalidStateException,
    );
    assert!(e.message().contains("another anchor ID"), "{e}");
}

/// Finding 3: removing the anchoring of a rolled-back file is refused, with
/// the keystore's anchor (behind it) and with a fresh anchor (not its).
#[test]
fn removing_the_anchoring_of_a_rolled_back_file_is_refused() {
    let r = anchored_later_then_rolled_back();
    anchor_refuses_rollback(&r);
    let other = r.anchor.with_file_name("fresh");
    expect_err(
        open_anchored(&r.path, &other, true).and_then(|ks| ks.remove_anchor()),
        ErrorKind::KMSInvalidStateException,
    );
    refused_without_anchor(Keystore::open(&r.path, root_source(&ROOT)));
}

/// An anchor in memory whose `fail`-th store (counting from 1; 0: none)
/// fails, leaving the record it held; `first` is the first record stored.
#[derive(Default)]
struct MemAnchor {
    record: std::sync::Mutex<Option<Vec<u8>>>,
    first: std::sync::Mutex<Option<Vec<u8>>>,
    stores: std::sync::atomic::AtomicU32,
    fail: std::sync::atomic::AtomicU32,
}

impl strongroom::AnchorStore for MemAnchor {
    fn load(&self) -> strongroom::Result<Option<Vec<u8>>> {
        Ok(self.record.lock().unwrap().clone())
    }

    fn store(&self, record: &[u8]) -> strongroom::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.stores.fetch_add(1, SeqCst) + 1;
        if n == self.fail.load(SeqCst) {
            return Err(strongroom::Error::internal("the anchor's storage is down"));
        }
        *self.record.lock().unwrap() = Some(record.to_vec());
        self.first
            .lock()
            .unwrap()
            .get_or_insert_with(|| record.to_vec());
        Ok(())
    }
}

fn mem_anchor(store: &std::sync::Arc<MemAnchor>) -> Anchor {
    let s: std::sync::Arc<dyn strongroom::AnchorStore> = store.clone();
    Anchor::new(s)
}

/// The first record of a new keystore not stored: the create fails, and
/// leaves nothing (no keystore file, no audit log) to block the retry.
#[test]
fn a_create_whose_first_anchor_store_fails_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.db");
    let store = std::sync::Arc::new(MemAnchor::default());
    store.fail.store(1, std::sync::atomic::Ordering::SeqCst);
    let create = || {
        Keystore::create(
            &path,
            root_source(&ROOT),
            CreateOptions {
                anchor: Some(mem_anchor(&store)),
                ..CreateOptions::default()
            },
        )
    };
    expect_err(create(), ErrorKind::KMSInternalException);
    assert!(store.record.lock().unwrap().is_none());
    for (f, what) in strongroom::keystore_files(&path) {
        assert!(!f.exists(), "{what} left at {}", f.display());
    }
    let ks = create().unwrap();
    new_key(&ks);
    drop(ks);
    Keystore::open_with(
        &path,
        root_source(&ROOT),
        OpenOptions::default().anchor(mem_anchor(&store)),
    )
    .unwrap();
}

/// An import with an anchor stores the anchor's first record before its
/// open, as a create does: the imported keystore is anchored from the
/// start (counter 0, no `AnchorKeystore` event), and the anchor is stored
/// once. Before, the open stored a record of the un-anchored state and then
/// anchored the keystore (`AnchorKeystore`): when that second store failed,
/// the import failed after its intent and failure records were in the new
/// audit log, which was then kept (not empty), and every retry was refused
/// (`AlreadyExistsException`: a path whose audit log exists; review 19).
#[test]
fn an_import_stores_its_anchor_record_before_the_open() {
    use std::sync::atomic::Ordering::SeqCst;
    let f = fixture();
    new_key(&f.ks);
    let export = f.ks.export_sealed().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imported.db");
    let store = std::sync::Arc::new(MemAnchor::default());
    store.fail.store(2, SeqCst);
    let with = OpenOptions::default().anchor(mem_anchor(&store));
    let ks = Keystore::import_sealed_with(&path, &export, root_source(&ROOT), with).unwrap();
    assert_eq!(store.stores.load(SeqCst), 1, "the first record only");
    let status = ks.anchor_status().unwrap();
    assert!(status.anchored);
    assert_eq!(status.keystore_counter, 0);
    assert_eq!(status.anchor_counter, Some(0));
    drop(ks);
    assert!(events_named(&path, "AnchorKeystore").is_empty());
    refused_without_anchor(Keystore::open(&path, root_source(&ROOT)));
    store.fail.store(0, SeqCst);
    let ks = Keystore::open_with(
        &path,
        root_source(&ROOT),
        OpenOptions::default().anchor(mem_anchor(&store)),
    )
    .unwrap();
    new_key(&ks);
}

/// An import opted out of the anchor (`without_anchor`) whose
/// `OpenKeystoreWithoutAnchor` record cannot be written fails, and leaves
/// nothing at its path, its audit log included: the retry works, and its
/// log holds that record once. (The record is the open's only one, and a
/// batch that fails is cut from the log, so the log the import made is
/// still empty and removed with the keystore file.)
#[test]
fn an_opted_out_import_whose_audit_record_fails_leaves_nothing() {
    let a = anchored();
    new_key(&a.ks);
    let export = a.ks.export_sealed().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opted.db");
    let import = || {
        let without = OpenOptions::default().without_anchor();
        Keystore::import_sealed_with(&path, &export, root_source(&ROOT), without)
    };
    strongroom::test_hooks::fail_next_audit_write();
    let e = expect_err(import(), ErrorKind::KMSInternalException);
    assert!(e.message().contains("failure injected"), "{e}");
    for (f, what) in strongroom::keystore_files(&path) {
        assert!(!f.exists(), "{what} left at {}", f.display());
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let ks = import().unwrap();
    drop(ks);
    assert_eq!(events_named(&path, "OpenKeystoreWithoutAnchor").len(), 1);
}

/// A re-anchoring open stores nothing before its ID change commits: the
/// new anchor never holds a record of the old anchor ID (which the lost
/// anchor's records share), its first record is already the new ID's.
#[test]
fn a_reinit_stores_only_the_new_anchor_id() {
    let a = anchored();
    new_key(&a.ks);
    drop(a.ks);
    std::fs::rename(&a.anchor, a.anchor.with_extension("lost")).unwrap();
    let store = std::sync::Arc::new(MemAnchor::default());
    let ks = Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default().anchor(mem_anchor(&store).reinitialize(true)),
    )
    .unwrap();
    drop(ks);
    // The first record stored, put back: behind the keystore, but of its
    // anchor ID (moved forward), not of the old one (refused).
    let first = store.first.lock().unwrap().clone();
    *store.record.lock().unwrap() = first;
    let ks = Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default().anchor(mem_anchor(&store)),
    )
    .unwrap();
    new_key(&ks);
    drop(ks);
    expect_err(
        open_anchored(&a.path, &a.anchor.with_extension("lost"), false),
        ErrorKind::KMSInvalidStateException,
    );
}

/// A re-anchoring whose store of the new ID fails fails the open (its
/// change committed: the anchor holds no record); re-anchoring again with
/// a working anchor recovers.
#[test]
fn a_reinit_whose_anchor_store_fails_fails_and_can_be_retried() {
    let a = anchored();
    drop(a.ks);
    std::fs::remove_file(&a.anchor).unwrap();
    let store = std::sync::Arc::new(MemAnchor::default());
    store.fail.store(1, std::sync::atomic::Ordering::SeqCst);
    let open = || {
        Keystore::open_with(
            &a.path,
            root_source(&ROOT),
            OpenOptions::default().anchor(mem_anchor(&store).reinitialize(true)),
        )
    };
    expect_err(open(), ErrorKind::KMSInternalException);
    let ks = open().unwrap();
    new_key(&ks);
}

/// The events of the log named `op` (JSON), intents left out.
fn events_named(path: &Path, op: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(strongroom::audit_log_path(path))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["eventName"] == op && v.get("strongroomIntent").is_none())
        .collect()
}

/// An administrator principal no call can act as (a bare account ID, a
/// wildcard) is refused at create, before anything is written.
#[test]
fn an_admin_principal_no_call_can_act_as_is_refused_at_create() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.db");
    for admin in ["111122223333", "arn:aws:iam::111122223333:role/*", ""] {
        expect_err(
            Keystore::create(
                &path,
                root_source(&ROOT),
                CreateOptions {
                    admin_principal: Some(admin.into()),
                    ..CreateOptions::default()
                },
            ),
            ErrorKind::ValidationException,
        );
        for (f, what) in strongroom::keystore_files(&path) {
            assert!(!f.exists(), "{what} left at {}", f.display());
        }
    }
    Keystore::create(
        &path,
        root_source(&ROOT),
        CreateOptions {
            admin_principal: Some("arn:aws:iam::000000000000:role/admin".into()),
            ..CreateOptions::default()
        },
    )
    .unwrap();
}

/// The open's own anchoring events act for the principal the open names
/// (CLI `--principal`): the opt-out and a re-anchoring are authorized and
/// audited as that principal, not the administrator.
#[test]
fn anchoring_events_act_for_the_principal_of_the_open() {
    let a = anchored();
    drop(a.ks);
    let who = "arn:aws:iam::000000000000:user/operator";
    let ks = Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default().without_anchor().principal(who),
    )
    .unwrap();
    assert_eq!(ks.principal(), who);
    drop(ks);
    let opted = events_named(&a.path, "OpenKeystoreWithoutAnchor");
    assert_eq!(opted.len(), 1);
    assert_eq!(opted[0]["userIdentity"]["arn"], who);
    // Recovery: the anchor lost, re-anchored by the operator.
    std::fs::remove_file(&a.anchor).unwrap();
    let ks = Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default()
            .anchor(Anchor::file(&a.anchor).reinitialize(true))
            .principal(who),
    )
    .unwrap();
    new_key(&ks.as_principal("arn:aws:iam::000000000000:root"));
    let reinit = events_named(&a.path, "ReinitializeKeystoreAnchor");
    assert_eq!(reinit.len(), 1);
    assert_eq!(reinit[0]["userIdentity"]["arn"], who);
    assert!(reinit[0].get("errorCode").is_none(), "{}", reinit[0]);
    // A principal that is not an ARN fails the open before it writes
    // anything, and a failed re-anchoring adopts nothing: the anchor still
    // holds no record of this keystore's old ID.
    drop(ks);
    std::fs::remove_file(&a.anchor).unwrap();
    let fresh = a.anchor.with_extension("new");
    expect_err(
        Keystore::open_with(
            &a.path,
            root_source(&ROOT),
            OpenOptions::default()
                .anchor(Anchor::file(&fresh).reinitialize(true))
                .principal("111122223333"),
        ),
        ErrorKind::ValidationException,
    );
    assert!(!fresh.exists(), "a failed re-anchoring stored its anchor");
    Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(&fresh).reinitialize(true)),
    )
    .unwrap();
}
