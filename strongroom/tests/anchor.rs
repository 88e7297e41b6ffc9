//! The external anchor (`docs/FORMAT.md`, "Keystore anchor") and the
//! process-wide highest state: a keystore put back to an earlier state —
//! the whole file with its audit log, or every row with the old state row —
//! is refused by a handle opened afterwards, by the verifications and by
//! writes; an anchor left behind (a crash between a commit and its store)
//! is moved forward; a tampered, foreign or missing anchor is refused.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};

use fixture::*;
use strongroom::api::*;
use strongroom::{Anchor, CreateOptions, ErrorKind, Keystore, OpenOptions};

/// A keystore created with an anchor file in another directory: (keystore
/// directory, anchor directory, keystore path, anchor path, handle).
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

/// Opens `path` with the anchor file `anchor` (initialised when missing
/// with `init`).
fn open_anchored(path: &Path, anchor: &Path, init: bool) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(anchor).initialize_if_missing(init)),
    )
}

/// The keystore's files (database, WAL, shared memory, audit log) as they
/// are, `None` for one that does not exist.
type Files = Vec<(PathBuf, Option<Vec<u8>>)>;

fn files_of(path: &Path) -> Files {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    [
        path.to_path_buf(),
        with("-wal"),
        with("-shm"),
        strongroom::audit_log_path(path),
    ]
    .into_iter()
    .map(|p| {
        let b = std::fs::read(&p).ok();
        (p, b)
    })
    .collect()
}

/// Puts the files back as `saved` holds them.
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

/// The anchor record's `Counter`.
fn anchored_counter(anchor: &Path) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(anchor).unwrap()).unwrap();
    v["Counter"].as_u64().unwrap()
}

/// The integrity state counter stored in the keystore (bytes 1–8 of the
/// state row's body).
fn stored_counter(path: &Path) -> u64 {
    let c = rusqlite::Connection::open(path).unwrap();
    let body: Vec<u8> = c
        .query_row("SELECT body FROM meta WHERE id = 'state'", [], |r| r.get(0))
        .unwrap();
    u64::from_be_bytes(body[1..9].try_into().unwrap())
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
fn refused_by_anchor<T: std::fmt::Debug>(r: strongroom::Result<T>) {
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("keystore anchor"), "{e}");
}

/// The whole keystore file and its audit log copied aside, changed, and
/// put back while no handle is open: a handle opened afterwards with the
/// anchor refuses it (the anchor holds the later state); one without the
/// anchor cannot tell (the limit the anchor closes).
#[test]
fn whole_file_rollback_is_refused_by_a_new_handle() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    drop(a.ks);
    let saved = files_of(&a.path);
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    ks.schedule_key_deletion(&key, Some(7)).unwrap();
    drop(ks);
    put_back(&saved);
    refused_by_anchor(open_anchored(&a.path, &a.anchor, false));
    let ks = Keystore::open(&a.path, root_source(&ROOT)).unwrap();
    assert!(ks.describe_key(&key).unwrap().key_metadata.enabled);
}

/// Every row put back to an earlier copy, the state row with them, under a
/// running handle: its verifications and writes refuse it, naming the
/// anchor, and so does a new handle; a new handle without the anchor too,
/// while the running one is open (the process's highest state).
#[test]
fn rows_rolled_back_with_their_state_row_are_refused_by_verify_and_writes() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    let old = snapshot(&a.path);
    a.ks.disable_key(&key).unwrap();
    restore(&a.path, &old);
    refused_by_anchor(a.ks.verify_digest());
    refused_by_anchor(a.ks.verify_audit_log());
    refused_by_anchor(tag(&a.ks, &key, "x"));
    refused_by_anchor(open_anchored(&a.path, &a.anchor, false));
    let e = expect_err(
        Keystore::open(&a.path, root_source(&ROOT)),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("integrity state"), "{e}");
}

/// A crash between a write's commit and its anchor store leaves the
/// anchor behind the keystore: that is accepted, and the next write or
/// open moves it forward.
#[test]
fn an_anchor_left_behind_is_moved_forward() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    let behind = std::fs::read(&a.anchor).unwrap();
    let old = anchored_counter(&a.anchor);
    tag(&a.ks, &key, "1").unwrap();
    assert!(anchored_counter(&a.anchor) > old);
    // The running handle's next write.
    std::fs::write(&a.anchor, &behind).unwrap();
    tag(&a.ks, &key, "2").unwrap();
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
    // A new handle's open.
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    std::fs::write(&a.anchor, &behind).unwrap();
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    assert!(anchored_counter(&a.anchor) > old);
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
    tag(&ks, &key, "3").unwrap();
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
}

/// An anchor whose fields were changed (its MAC no longer verifies), that
/// is malformed, or that is another keystore's is refused; the genuine
/// one put back opens.
#[test]
fn a_tampered_or_foreign_anchor_is_refused() {
    let a = anchored();
    new_key(&a.ks);
    drop(a.ks);
    let genuine = std::fs::read_to_string(&a.anchor).unwrap();
    let v: serde_json::Value = serde_json::from_str(&genuine).unwrap();
    let counter = v["Counter"].as_u64().unwrap();
    let mac = v["Mac"].as_str().unwrap();
    let flipped = format!(
        "{}{}",
        if mac.starts_with('0') { "1" } else { "0" },
        &mac[1..]
    );
    let other = anchored();
    let cases = [
        (
            genuine.replace(
                &format!("\"Counter\":{counter}"),
                &format!("\"Counter\":{}", counter - 1),
            ),
            "MAC",
        ),
        (genuine.replace(mac, &flipped), "MAC"),
        (genuine[..genuine.len() / 2].to_owned(), "malformed"),
        (
            std::fs::read_to_string(&other.anchor).unwrap(),
            "another keystore",
        ),
    ];
    for (bad, why) in cases {
        assert_ne!(bad, genuine);
        std::fs::write(&a.anchor, &bad).unwrap();
        let e = expect_err(
            open_anchored(&a.path, &a.anchor, false),
            ErrorKind::KMSInternalException,
        );
        assert!(e.message().contains(why), "{why}: {e}");
    }
    std::fs::write(&a.anchor, &genuine).unwrap();
    open_anchored(&a.path, &a.anchor, false).unwrap();
}

/// A missing anchor is refused unless the caller asks for it to be
/// initialised from the keystore as it is (trust on first use); a keystore
/// created without an anchor gets one that way.
#[test]
fn a_missing_anchor_is_refused_unless_initialised() {
    let a = anchored();
    new_key(&a.ks);
    drop(a.ks);
    std::fs::remove_file(&a.anchor).unwrap();
    let e = expect_err(
        open_anchored(&a.path, &a.anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("missing"), "{e}");
    assert!(!a.anchor.exists(), "nothing created");
    drop(open_anchored(&a.path, &a.anchor, true).unwrap());
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
    open_anchored(&a.path, &a.anchor, false).unwrap();

    let f = fixture();
    new_key(&f.ks);
    let anchor = f.dir.path().join("later.anchor");
    let e = expect_err(
        open_anchored(&f.path, &anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("missing"), "{e}");
    let ks = open_anchored(&f.path, &anchor, true).unwrap();
    assert_eq!(anchored_counter(&anchor), stored_counter(&f.path));
    new_key(&ks);
    assert_eq!(anchored_counter(&anchor), stored_counter(&f.path));
}

/// The anchor holds no key material: not the root key, nor any key's
/// material (checked as raw bytes, hex and base64 in `at_rest.rs`); here:
/// exactly its documented fields, each of its documented form.
#[test]
fn the_anchor_record_is_its_documented_fields() {
    let a = anchored();
    new_key(&a.ks);
    let text = std::fs::read_to_string(&a.anchor).unwrap();
    assert!(text.ends_with('\n'));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "AuditChain",
        "AuditLogLength",
        "AuditRecords",
        "Counter",
        "KeystoreId",
        "Mac",
        "StateDigest",
        "Version",
    ];
    expected.sort_unstable();
    let mut fields = fields;
    fields.sort_unstable();
    assert_eq!(fields, expected);
    assert_eq!(v["Version"], 1);
    for hex in ["AuditChain", "Mac", "StateDigest"] {
        let h = v[hex].as_str().unwrap();
        assert_eq!(h.len(), 64, "{hex}");
        assert!(h
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
    assert_eq!(v["Counter"].as_u64().unwrap(), stored_counter(&a.path));
    let h: String = ROOT.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&h));
}

/// Another process writing on a rolled-back file moves its counter up to
/// the counter this process saw, with another state: the process-wide
/// highest state refuses it (a new handle, and the running one's
/// verification, where its counter alone would not). The other process is a copy of the
/// file at another path (its own history), put back under this path.
#[test]
fn the_same_counter_with_another_state_is_refused_in_the_process() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    // The fork: the file and log as they are now, at another path.
    let other_dir = tempfile::tempdir().unwrap();
    let other = other_dir.path().join("ks.db");
    rusqlite::Connection::open(&f.path)
        .unwrap()
        .execute("VACUUM INTO ?1", [other.to_str().unwrap()])
        .unwrap();
    std::fs::copy(
        strongroom::audit_log_path(&f.path),
        strongroom::audit_log_path(&other),
    )
    .unwrap();
    // This process moves on here...
    tag(&f.ks, &key, "here").unwrap();
    f.ks.flush_audit_log().unwrap();
    f.ks.verify_digest().unwrap();
    let seen = stored_counter(&f.path);
    // ...and the other one there, by the same steps: the same counter.
    let there = Keystore::open(&other, root_source(&ROOT)).unwrap();
    tag(&there, &key, "there").unwrap();
    there.flush_audit_log().unwrap();
    drop(there);
    assert_eq!(stored_counter(&other), seen);
    restore(&f.path, &snapshot(&other));
    std::fs::copy(
        strongroom::audit_log_path(&other),
        strongroom::audit_log_path(&f.path),
    )
    .unwrap();
    for e in [
        expect_err(
            Keystore::open(&f.path, root_source(&ROOT)),
            ErrorKind::KMSInternalException,
        ),
        expect_err(f.ks.verify_digest(), ErrorKind::KMSInternalException),
    ] {
        assert!(e.message().contains("integrity state"), "{e}");
    }
}
