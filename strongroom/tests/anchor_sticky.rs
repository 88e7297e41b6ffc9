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

/// A keystore created with an anchor file in another directory.
struct Anchored {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    path: PathBuf,
    anchor: PathBuf,
    ks: Keystore,
}

fn anchored() -> Anchored {
    let (dir, anchor_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = dir.path().join("ks.db");
    let anchor = anchor_dir.path().join("ks.anchor");
    let ks = Keystore::create(
        &path,
        root_source(&ROOT),
        CreateOptions {
            anchor: Some(Anchor::file(&anchor)),
            ..CreateOptions::default()
        },
    )
    .unwrap();
    Anchored {
        _dirs: (dir, anchor_dir),
        path,
        anchor,
        ks,
    }
}

fn open_anchored(path: &Path, anchor: &Path, init: bool) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(anchor).initialize_if_missing(init)),
    )
}

fn open_without_anchor(path: &Path) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().without_anchor(),
    )
}

/// The keystore's files (database, WAL, shared memory, audit log) as they
/// are, `None` for one that does not exist.
type Files = Vec<(PathBuf, Option<Vec<u8>>)>;

fn files_of(path: &Path) -> Files {
    strongroom::keystore_files(path)
        .into_iter()
        .map(|(p, _)| {
            let b = std::fs::read(&p).ok();
            (p, b)
        })
        .collect()
}

fn put_back(saved: &Files) {
    for (p, b) in saved {
        match b {
            Some(b) => std::fs::write(p, b).unwrap(),
            None => {
                let _ = std::fs::remove_file(p);
            }
        }
    }
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
