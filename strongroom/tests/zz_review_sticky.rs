//! Reviewer scratch tests (delete before merge).
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};

use fixture::*;
use strongroom::api::*;
use strongroom::{Anchor, ErrorKind, Keystore, OpenOptions};

fn open_anchored(path: &Path, anchor: &Path, init: bool) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(anchor).initialize_if_missing(init)),
    )
}

fn events(path: &Path) -> Vec<String> {
    std::fs::read_to_string(strongroom::audit_log_path(path))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["eventName"].as_str().map(str::to_owned)
        })
        .collect()
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

/// A consistent snapshot of the database (VACUUM INTO) plus the audit log bytes.
fn snapshot(path: &Path, to: &Path) -> Vec<u8> {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute("VACUUM INTO ?1", [to.to_str().unwrap()]).unwrap();
    std::fs::read(strongroom::audit_log_path(path)).unwrap_or_default()
}

/// Puts the snapshot's rows back through SQLite (so open handles see it
/// coherently) and the audit log bytes back in place.
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

/// F1: the `anchored` flag is not bound to the integrity state: the
/// un-anchored `meta/config` row from before anchoring, put into a
/// rolled-back (post-anchoring) file, makes it open without the anchor
/// (no refusal, no OpenKeystoreWithoutAnchor), and the plain process's
/// writes launder the rollback.
#[test]
fn zz_config_row_swap_launders_rollback() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    drop(f.ks);
    let (old_body, old_tag) = config_row(&f.path);
    let adir = tempfile::tempdir().unwrap();
    let anchor = adir.path().join("a");
    let ks = open_anchored(&f.path, &anchor, true).unwrap();
    tag(&ks, &key, "after-anchoring").unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    let snap = adir.path().join("snap.db");
    let log = snapshot(&f.path, &snap);
    let ks = open_anchored(&f.path, &anchor, false).unwrap();
    ks.disable_key(&key).unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    restore(&f.path, &snap, &log);
    // As the branch intends: refused.
    expect_err(
        Keystore::open(&f.path, root_source(&ROOT)),
        ErrorKind::KMSInvalidStateException,
    );
    // Swap in the old config row: opens without the anchor.
    set_config_row(&f.path, &old_body, &old_tag);
    let plain = Keystore::open(&f.path, root_source(&ROOT)).expect("swapped config opens plain");
    for i in 0..4 {
        tag(&plain, &key, &i.to_string()).unwrap();
    }
    plain.flush_audit_log().unwrap();
    drop(plain);
    let ks = open_anchored(&f.path, &anchor, false)
        .expect("anchored open accepts the laundered rollback");
    assert!(
        ks.describe_key(&key).unwrap().key_metadata.enabled,
        "disable was rolled back"
    );
    let ev = events(&f.path);
    eprintln!("EVENTS: {ev:?}");
    assert!(!ev.contains(&"OpenKeystoreWithoutAnchor".to_owned()));
}

/// F2: flipping the flag in the file (tag kept) fails authentication.
#[test]
fn zz_flag_flip_is_under_the_mac() {
    let f = fixture();
    drop(f.ks);
    let adir = tempfile::tempdir().unwrap();
    drop(open_anchored(&f.path, &adir.path().join("a"), true).unwrap());
    let (body, tag) = config_row(&f.path);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains(r#""anchored":true"#), "{text}");
    for replaced in [
        text.replace(r#""anchored":true"#, r#""anchored":false"#),
        text.replace(r#","anchored":true"#, ""),
    ] {
        set_config_row(&f.path, replaced.as_bytes(), &tag);
        let e = Keystore::open(&f.path, root_source(&ROOT)).unwrap_err();
        eprintln!("FLIP: {:?}: {}", e.kind(), e.message());
        assert_eq!(e.kind(), ErrorKind::KMSInternalException);
    }
}

/// Child for F3: anchors the keystore (or writes with the anchor).
#[test]
#[ignore]
fn zz_child() {
    let Ok(path) = std::env::var("ZZ_PATH") else {
        return;
    };
    let anchor = PathBuf::from(std::env::var("ZZ_ANCHOR").unwrap());
    let key = std::env::var("ZZ_KEY").unwrap();
    let path = PathBuf::from(path);
    let ks = open_anchored(&path, &anchor, true).unwrap();
    match std::env::var("ZZ_STEP").unwrap().as_str() {
        "anchor" => tag(&ks, &key, "child").unwrap(),
        _ => ks.disable_key(&key).unwrap(),
    }
    ks.flush_audit_log().unwrap();
}

fn child(path: &Path, anchor: &Path, key: &str, step: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "zz_child", "--nocapture"])
        .env("ZZ_PATH", path)
        .env("ZZ_ANCHOR", anchor)
        .env("ZZ_KEY", key)
        .env("ZZ_STEP", step)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// F3: a handle opened (plain) before another process anchored the
/// keystore keeps writing without the anchor and without an audit event:
/// a rollback to a post-anchoring state is laundered.
#[test]
fn zz_handle_opened_before_anchoring_launders() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    drop(f.ks);
    let adir = tempfile::tempdir().unwrap();
    let anchor = adir.path().join("a");
    let a = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    child(&f.path, &anchor, &key, "anchor");
    let snap = adir.path().join("snap.db");
    let log = snapshot(&f.path, &snap);
    child(&f.path, &anchor, &key, "disable");
    restore(&f.path, &snap, &log);
    // A fresh plain open is refused (config says anchored) ...
    expect_err(
        Keystore::open(&f.path, root_source(&ROOT)),
        ErrorKind::KMSInvalidStateException,
    );
    // ... but the old handle writes on.
    for i in 0..4 {
        tag(&a, &key, &i.to_string()).expect("old handle writes on the rolled-back anchored file");
    }
    a.flush_audit_log().unwrap();
    drop(a);
    let ks = open_anchored(&f.path, &anchor, false).expect("anchored open accepts");
    assert!(
        ks.describe_key(&key).unwrap().key_metadata.enabled,
        "disable was rolled back"
    );
    let ev = events(&f.path);
    eprintln!("EVENTS: {ev:?}");
    assert!(!ev.contains(&"OpenKeystoreWithoutAnchor".to_owned()));
}

/// F4: an anchored keystore opens with ANY fresh anchor path plus
/// initialize_if_missing, unaudited; its writes launder a rollback for the
/// real anchor exactly as the audited opt-out does.
#[test]
fn zz_fresh_anchor_init_is_an_unaudited_opt_out() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    drop(f.ks);
    let adir = tempfile::tempdir().unwrap();
    let anchor = adir.path().join("a");
    let ks = open_anchored(&f.path, &anchor, true).unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    let snap = adir.path().join("snap.db");
    let log = snapshot(&f.path, &snap);
    let ks = open_anchored(&f.path, &anchor, false).unwrap();
    ks.disable_key(&key).unwrap();
    ks.flush_audit_log().unwrap();
    drop(ks);
    restore(&f.path, &snap, &log);
    expect_err(
        Keystore::open(&f.path, root_source(&ROOT)),
        ErrorKind::KMSInvalidStateException,
    );
    let n_before = events(&f.path).len();
    let other = adir.path().join("ephemeral");
    let ks = open_anchored(&f.path, &other, true)
        .expect("fresh anchor + init opens the rolled-back file");
    eprintln!("EVENTS ON OPEN: {:?}", &events(&f.path)[n_before..]);
    for i in 0..4 {
        tag(&ks, &key, &i.to_string()).unwrap();
    }
    ks.flush_audit_log().unwrap();
    drop(ks);
    let ks = open_anchored(&f.path, &anchor, false).expect("the real anchor accepts");
    assert!(ks.describe_key(&key).unwrap().key_metadata.enabled);
    let ev = events(&f.path);
    assert!(!ev.contains(&"OpenKeystoreWithoutAnchor".to_owned()));
}
