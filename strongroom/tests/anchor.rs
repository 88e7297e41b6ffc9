//! The external anchor (`docs/FORMAT.md`, "Keystore anchor") and the
//! process-wide highest state: a keystore put back to an earlier state —
//! the whole file with its audit log, or every row with the old state row —
//! is refused by a handle opened afterwards, by the verifications and by
//! writes; an anchor left behind (a crash between a commit and its store)
//! is moved forward; a tampered, foreign or missing anchor is refused.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use fixture::*;
use strongroom::api::*;
use strongroom::{
    Anchor, AnchorStore, CreateOptions, ErrorKind, FileAnchor, Keystore, OpenOptions,
};

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

/// Opens the anchored keystore at `path` without its anchor, opting out
/// (audited).
fn open_without_anchor(path: &Path) -> strongroom::Result<Keystore> {
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().without_anchor(),
    )
}

#[track_caller]
fn refused_by_anchor<T: std::fmt::Debug>(r: strongroom::Result<T>) {
    let e = expect_err(r, ErrorKind::KMSInternalException);
    assert!(e.message().contains("behind its anchor"), "{e}");
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
    // Without the anchor: refused, unless the caller opts out.
    expect_err(
        Keystore::open(&a.path, root_source(&ROOT)),
        ErrorKind::KMSInvalidStateException,
    );
    let ks = open_without_anchor(&a.path).unwrap();
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
        open_without_anchor(&a.path),
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
    // An anchored keystore is re-anchored deliberately, not by initialising.
    expect_err(
        open_anchored(&a.path, &a.anchor, true),
        ErrorKind::KMSInvalidStateException,
    );
    assert!(!a.anchor.exists(), "nothing created");
    drop(open_reinit(&a.path, &a.anchor).unwrap());
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
        "AnchorId",
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
    let id = v["AnchorId"].as_str().unwrap();
    assert_eq!(id.len(), 32, "16 bytes, hex");
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
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

/// A step run once, by the next [`Hooked`] load or store that takes it.
type Step = Mutex<Option<Box<dyn FnOnce() + Send>>>;

/// A [`FileAnchor`] that runs a step armed by the test at its next load
/// (before reading, or after with `after_load`) or store (before writing),
/// and fails its stores while `fail` is set.
struct Hooked {
    file: FileAnchor,
    on_load: Step,
    after_load: Step,
    on_store: Step,
    fail: AtomicBool,
}

impl Hooked {
    fn new(path: &Path) -> Arc<Self> {
        Arc::new(Hooked {
            file: FileAnchor::new(path),
            on_load: Mutex::new(None),
            after_load: Mutex::new(None),
            on_store: Mutex::new(None),
            fail: AtomicBool::new(false),
        })
    }
}

fn run(step: &Step) {
    let f = step.lock().unwrap().take();
    if let Some(f) = f {
        f();
    }
}

impl AnchorStore for Hooked {
    fn load(&self) -> strongroom::Result<Option<Vec<u8>>> {
        run(&self.on_load);
        let r = self.file.load();
        run(&self.after_load);
        r
    }

    fn store(&self, record: &[u8]) -> strongroom::Result<()> {
        run(&self.on_store);
        if self.fail.load(Ordering::SeqCst) {
            return Err(strongroom::Error::internal("the anchor's storage is down"));
        }
        self.file.store(record)
    }
}

/// Opens `path` with the anchor kept by `store`.
fn open_hooked(path: &Path, store: &Arc<Hooked>) -> strongroom::Result<Keystore> {
    let store: Arc<dyn AnchorStore> = store.clone();
    Keystore::open_with(
        path,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::new(store)),
    )
}

/// Another handle commits a write (and stores its anchor) between the
/// moment a verification takes its marks and its snapshot: the snapshot is
/// current, not a rollback (the anchor is read before the snapshot, so it
/// cannot be ahead of it).
#[test]
fn a_write_by_another_handle_during_verification_is_not_a_rollback() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    let store = Hooked::new(&a.anchor);
    let verifier = open_hooked(&a.path, &store).unwrap();
    let writer = a.ks.clone();
    let k = key.clone();
    *store.on_load.lock().unwrap() = Some(Box::new(move || tag(&writer, &k, "during").unwrap()));
    verifier.verify_digest().unwrap();
    assert!(store.on_load.lock().unwrap().is_none(), "the step ran");
    verifier.verify_audit_log().unwrap();
    tag(&verifier, &key, "after").unwrap();
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
}

/// An open that finds the anchor behind moves it forward under the audit
/// log's lock: writes by another handle meanwhile wait, and the anchor is
/// never put back behind them (which would let a rollback to the opener's
/// state open).
#[test]
fn moving_the_anchor_forward_on_open_never_moves_it_back() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    // Writes without the anchor leave it behind.
    let plain = open_without_anchor(&a.path).unwrap();
    tag(&plain, &key, "plain").unwrap();
    plain.flush_audit_log().unwrap();
    drop(plain);
    assert!(anchored_counter(&a.anchor) < stored_counter(&a.path));
    let saved = files_of(&a.path);
    let opener_state = stored_counter(&a.path);
    // While the opener stores the anchor, another handle makes six writes
    // in a thread; the opener waits for them (at most a while: under the
    // log's lock they cannot run until it is done).
    let store = Hooked::new(&a.anchor);
    let writer = a.ks.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let thread = Arc::new(Mutex::new(None));
    let t = thread.clone();
    *store.on_store.lock().unwrap() = Some(Box::new(move || {
        let k = key.clone();
        *t.lock().unwrap() = Some(std::thread::spawn(move || {
            for i in 0..6 {
                tag(&writer, &k, &i.to_string()).unwrap();
            }
            writer.flush_audit_log().unwrap();
            let _ = done_tx.send(());
        }));
        let _ = done_rx.recv_timeout(std::time::Duration::from_secs(2));
    }));
    let opener = open_hooked(&a.path, &store).unwrap();
    let handle = thread.lock().unwrap().take().unwrap();
    handle.join().unwrap();
    assert!(stored_counter(&a.path) >= opener_state + 6);
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
    drop(opener);
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    put_back(&saved);
    refused_by_anchor(open_anchored(&a.path, &a.anchor, false));
}

/// A write whose anchor store fails succeeds (it committed); the
/// handle's next write first stores the state it reads and, while that
/// fails, is refused without changing anything; once the store works
/// again the anchor catches up.
#[test]
fn a_failed_anchor_store_refuses_the_next_write_until_stored() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let store = Hooked::new(&a.anchor);
    let ks = open_hooked(&a.path, &store).unwrap();
    store.fail.store(true, Ordering::SeqCst);
    // The change committed: its caller is told it succeeded (a KMS client
    // takes an error for "nothing changed" and retries), and the failed
    // store is a deferred fault the next write acts on.
    tag(&ks, &key, "1").unwrap();
    let committed = stored_counter(&a.path);
    assert!(anchored_counter(&a.anchor) < committed);
    let e = expect_err(tag(&ks, &key, "2"), ErrorKind::KMSInternalException);
    assert!(e.message().contains("nothing was changed"), "{e}");
    // Nothing changed (the operation's audit record is checkpointed; reads
    // go on).
    let tags = ks.list_resource_tags(&key, None, None).unwrap().tags;
    assert_eq!(tags[0].tag_value, "1");
    store.fail.store(false, Ordering::SeqCst);
    tag(&ks, &key, "3").unwrap();
    ks.flush_audit_log().unwrap();
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
}

/// `initialize_if_missing` creates a missing anchor on open only: an
/// anchor deleted while the handle runs is refused, not re-created.
#[test]
fn initialization_ends_with_the_open() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    std::fs::remove_file(&a.anchor).unwrap();
    let ks = open_reinit(&a.path, &a.anchor).unwrap();
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
    std::fs::remove_file(&a.anchor).unwrap();
    let before = stored_counter(&a.path);
    let e = expect_err(tag(&ks, &key, "x"), ErrorKind::KMSInternalException);
    assert!(e.message().contains("missing"), "{e}");
    assert!(!a.anchor.exists());
    assert_eq!(stored_counter(&a.path), before);
    expect_err(ks.verify_digest(), ErrorKind::KMSInternalException);
}

/// The anchor's own check of a fork: the keystore put back while no handle
/// of the process is open, moved by one write without the anchor to the
/// anchored counter with another state, is refused by the anchor (no
/// process-wide state is left to tell).
#[test]
fn the_same_counter_with_another_state_is_refused_by_the_anchor() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let saved = files_of(&a.path);
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    tag(&ks, &key, "anchored").unwrap();
    // One more audited event (a refused write: a checkpoint, one step, as
    // the opted-out open's event below).
    expect_err(
        ks.disable_key("00000000-0000-4000-8000-000000000000"),
        ErrorKind::NotFoundException,
    );
    ks.flush_audit_log().unwrap();
    drop(ks);
    let anchored_at = anchored_counter(&a.anchor);
    put_back(&saved);
    // An opted-out process writes (its open's audit event is one write of
    // the checkpoint) until it reaches the anchored counter.
    let plain = open_without_anchor(&a.path).unwrap();
    plain.flush_audit_log().unwrap();
    while stored_counter(&a.path) < anchored_at {
        tag(&plain, &key, "other").unwrap();
        plain.flush_audit_log().unwrap();
    }
    drop(plain);
    assert_eq!(stored_counter(&a.path), anchored_at);
    refused_by_anchor(open_anchored(&a.path, &a.anchor, false));
}

/// An anchor path that is not a regular file (a FIFO, which would block a
/// plain read, or a directory), or a record longer than the cap, is
/// refused rather than read.
#[cfg(unix)]
#[test]
fn an_anchor_that_is_not_a_small_regular_file_is_refused() {
    let a = anchored();
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let genuine = std::fs::read(&a.anchor).unwrap();
    std::fs::remove_file(&a.anchor).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&a.anchor)
        .status()
        .unwrap();
    assert!(status.success());
    let e = expect_err(
        open_anchored(&a.path, &a.anchor, false),
        ErrorKind::ValidationException,
    );
    assert!(e.message().contains("not a regular file"), "{e}");
    std::fs::remove_file(&a.anchor).unwrap();
    std::fs::create_dir(&a.anchor).unwrap();
    expect_err(
        open_anchored(&a.path, &a.anchor, false),
        ErrorKind::ValidationException,
    );
    std::fs::remove_dir(&a.anchor).unwrap();
    // A character device (as `--anchor /dev/null` names), also at create.
    expect_err(
        open_anchored(&a.path, Path::new("/dev/null"), false),
        ErrorKind::ValidationException,
    );
    let dir = tempfile::tempdir().unwrap();
    let created = Keystore::create(
        dir.path().join("new.db"),
        root_source(&ROOT),
        CreateOptions {
            anchor: Some(Anchor::file("/dev/null")),
            ..CreateOptions::default()
        },
    );
    expect_err(created, ErrorKind::ValidationException);
    assert!(!dir.path().join("new.db").exists());
    let mut long = genuine.clone();
    long.extend(std::iter::repeat_n(b' ', 5000));
    std::fs::write(&a.anchor, &long).unwrap();
    let e = expect_err(
        open_anchored(&a.path, &a.anchor, false),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("longer than"), "{e}");
    std::fs::write(&a.anchor, &genuine).unwrap();
    open_anchored(&a.path, &a.anchor, false).unwrap();
}

/// Creating a keystore with an anchor that already holds a record (another
/// keystore's) is refused before anything is created; the anchor and the
/// other keystore are untouched.
#[test]
fn create_refuses_an_anchor_in_use() {
    let a = anchored();
    let before = std::fs::read(&a.anchor).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.db");
    let e = expect_err(
        Keystore::create(
            &other,
            root_source(&ROOT),
            CreateOptions {
                anchor: Some(Anchor::file(&a.anchor)),
                ..CreateOptions::default()
            },
        ),
        ErrorKind::AlreadyExistsException,
    );
    assert!(e.message().contains("anchor"), "{e}");
    assert!(!other.exists());
    assert_eq!(std::fs::read(&a.anchor).unwrap(), before);
    drop(a.ks);
    open_anchored(&a.path, &a.anchor, false).unwrap();
}

/// An anchor file that is one of the keystore's own files (the keystore,
/// its sidecars, its change-signal file, its audit log; by path or by hard
/// link) is refused by create and open before anything is written: the
/// record stored there would destroy that file.
#[test]
fn an_anchor_that_is_a_keystore_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("own.db");
    let with = |p: std::path::PathBuf| CreateOptions {
        anchor: Some(Anchor::file(p)),
        ..CreateOptions::default()
    };
    for own in [
        strongroom::audit_log_path(&path),
        path.clone(),
        dir.path().join("own.db-wal"),
        strongroom::signal_path(&path),
        dir.path().join(".").join("own.db"),
    ] {
        let e = expect_err(
            Keystore::create(&path, root_source(&ROOT), with(own.clone())),
            ErrorKind::ValidationException,
        );
        assert!(e.message().contains("would destroy"), "{e}");
        assert!(!path.exists(), "{}", own.display());
    }
    // An existing keystore: its log (by path and through a hard link) is
    // refused on open and left intact.
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let log = strongroom::audit_log_path(&a.path);
    let before = std::fs::read(&log).unwrap();
    let link = dir.path().join("hard-link");
    std::fs::hard_link(&log, &link).unwrap();
    for p in [log.clone(), link.clone()] {
        let e = expect_err(
            open_anchored(&a.path, &p, true),
            ErrorKind::ValidationException,
        );
        assert!(e.message().contains("audit log"), "{e}");
    }
    std::fs::remove_file(&link).unwrap();
    assert_eq!(std::fs::read(&log).unwrap(), before);
    let ks = open_anchored(&a.path, &a.anchor, false).unwrap();
    ks.describe_key(&key).unwrap();
    ks.verify_audit_log().unwrap();
}

/// After one handle's anchor store fails, every handle sharing the anchor
/// (not only that one) stores the state first at its next write and, while
/// that fails, is refused without changing anything.
#[test]
fn a_failed_anchor_store_refuses_the_writes_of_every_handle() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let store = Hooked::new(&a.anchor);
    let handles: Vec<Keystore> = (0..3)
        .map(|_| open_hooked(&a.path, &store).unwrap())
        .collect();
    store.fail.store(true, Ordering::SeqCst);
    tag(&handles[0], &key, "0").unwrap();
    let committed = stored_counter(&a.path);
    assert!(anchored_counter(&a.anchor) < committed);
    for (i, ks) in handles.iter().enumerate() {
        let e = expect_err(
            tag(ks, &key, &format!("after {i}")),
            ErrorKind::KMSInternalException,
        );
        assert!(e.message().contains("nothing was changed"), "{i}: {e}");
    }
    for ks in &handles {
        let tags = ks.list_resource_tags(&key, None, None).unwrap().tags;
        assert_eq!(tags[0].tag_value, "0", "no write committed");
    }
    // Only the audit checkpoints of the refused calls moved the state on.
    assert!(stored_counter(&a.path) > committed);
    store.fail.store(false, Ordering::SeqCst);
    tag(&handles[1], &key, "stored").unwrap();
    handles[1].flush_audit_log().unwrap();
    assert_eq!(anchored_counter(&a.anchor), stored_counter(&a.path));
}

/// A symbolic link at the anchor's path (even a dangling one) is refused
/// by load and store (`ValidationException`, as a path that is not a
/// regular file): the store's rename would replace the link with a
/// regular file and stop updating the file it names.
#[cfg(unix)]
#[test]
fn an_anchor_path_that_is_a_symbolic_link_is_refused() {
    let a = anchored();
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let genuine = std::fs::read(&a.anchor).unwrap();
    let link = a.anchor.with_extension("link");
    std::os::unix::fs::symlink(&a.anchor, &link).unwrap();
    let file = FileAnchor::new(&link);
    let e = expect_err(file.load(), ErrorKind::ValidationException);
    assert!(e.message().contains("symbolic link"), "{e}");
    let e = expect_err(file.store(b"{}"), ErrorKind::ValidationException);
    assert!(e.message().contains("symbolic link"), "{e}");
    let e = expect_err(
        open_anchored(&a.path, &link, false),
        ErrorKind::ValidationException,
    );
    assert!(e.message().contains("symbolic link"), "{e}");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&a.anchor).unwrap(), genuine);
    // A dangling link is refused too, not taken as a missing anchor.
    let dangling = a.anchor.with_extension("dangling");
    std::os::unix::fs::symlink(a.anchor.with_extension("nowhere"), &dangling).unwrap();
    let e = expect_err(
        open_anchored(&a.path, &dangling, true),
        ErrorKind::ValidationException,
    );
    assert!(e.message().contains("symbolic link"), "{e}");
    assert!(!a.anchor.with_extension("nowhere").exists());
    open_anchored(&a.path, &a.anchor, false).unwrap();
}

/// A write-behind batch whose checkpoint store the anchor check refuses
/// (here: the anchor is missing) is not written, and stays queued: once
/// the anchor is back, the next flush writes every record once.
#[test]
fn a_batch_refused_by_the_anchor_check_is_written_once() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let ks = Keystore::open_with(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default()
            .anchor(Anchor::file(&a.anchor))
            .audit_write_mode(strongroom::AuditWriteMode::WriteBehind {
                max_events: 60_000,
                max_millis: 60_000,
            }),
    )
    .unwrap();
    let log = ks.audit_log_path().to_path_buf();
    let lines_before = std::fs::read_to_string(&log).unwrap().lines().count();
    for _ in 0..5 {
        ks.describe_key(&key).unwrap();
    }
    let saved = std::fs::read(&a.anchor).unwrap();
    std::fs::remove_file(&a.anchor).unwrap();
    expect_err(ks.flush_audit_log(), ErrorKind::KMSInternalException);
    // The batch stays queued: the next call retries it, and fails with it.
    let e = expect_err(ks.describe_key(&key), ErrorKind::KMSInternalException);
    assert!(e.message().contains("anchor"), "{e}");
    std::fs::write(&a.anchor, &saved).unwrap();
    ks.describe_key(&key).unwrap();
    ks.flush_audit_log().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), lines_before + 6, "{text}");
    let events = ks.audit_events(&Default::default()).unwrap();
    let described = events
        .iter()
        .filter(|e| e["eventName"] == "DescribeKey")
        .count();
    assert_eq!(described, 6);
    let ids: std::collections::HashSet<&str> = events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len());
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    assert_eq!(v.records as usize, lines_before + 6);
    assert_eq!(v.checkpoint_records, v.records);
}

/// Runs [`anchor_child_entry`] in a new process of this test binary: one
/// TagResource on `key` of the keystore at `db` with the anchor file
/// `anchor`; returns once the process has exited.
fn tag_in_another_process(db: &Path, anchor: &Path, key: &str) {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "anchor_child_entry", "--ignored", "--quiet"])
        .env("STRONGROOM_ANCHOR_CHILD_DB", db)
        .env("STRONGROOM_ANCHOR_CHILD_ANCHOR", anchor)
        .env("STRONGROOM_ANCHOR_CHILD_KEY", key)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// The child side of [`tag_in_another_process`] (ignored when run
/// directly).
#[test]
#[ignore = "entry point of the child process another test spawns"]
fn anchor_child_entry() {
    // A child process's entry point: under `--include-ignored`, where no
    // parent set its variables, there is nothing to do.
    let Ok(db) = std::env::var("STRONGROOM_ANCHOR_CHILD_DB") else {
        return;
    };
    let anchor = std::env::var("STRONGROOM_ANCHOR_CHILD_ANCHOR").unwrap();
    let key = std::env::var("STRONGROOM_ANCHOR_CHILD_KEY").unwrap();
    let ks = open_anchored(Path::new(&db), Path::new(&anchor), false).unwrap();
    tag(&ks, &key, "child").unwrap();
    ks.flush_audit_log().unwrap();
}

/// Another process commits a write (and stores the anchor) after a
/// verification read the anchor, and the rows are then put back to the
/// state the anchor held, before the verification's snapshot: the anchor,
/// read again after the snapshot, has moved, the check is repeated under
/// the log's lock, and the rollback is refused.
#[test]
fn a_rollback_between_the_anchor_read_and_the_snapshot_is_refused() {
    let a = anchored();
    let key = new_key(&a.ks).key_id;
    a.ks.flush_audit_log().unwrap();
    drop(a.ks);
    let store = Hooked::new(&a.anchor);
    let verifier = open_hooked(&a.path, &store).unwrap();
    let old = snapshot(&a.path);
    let before = anchored_counter(&a.anchor);
    let (path, anchor) = (a.path.clone(), a.anchor.clone());
    *store.after_load.lock().unwrap() = Some(Box::new(move || {
        tag_in_another_process(&path, &anchor, &key);
        assert!(anchored_counter(&anchor) > before);
        restore(&path, &old);
    }));
    refused_by_anchor(verifier.verify_digest());
    assert!(store.after_load.lock().unwrap().is_none(), "the step ran");
}

/// Read only, a missing anchor of an anchored keystore is never fine:
/// `verify_audit_log_read_only` refuses an anchor to be initialised or
/// re-anchored (ValidationException naming the option; it could create
/// neither) and refuses the missing anchor without them;
/// `inspect_anchor` refuses it whatever the options; nothing is created.
#[test]
fn read_only_checks_refuse_a_missing_anchor() {
    let a = anchored();
    new_key(&a.ks);
    drop(a.ks);
    std::fs::remove_file(&a.anchor).unwrap();
    let with = |anchor: Anchor| OpenOptions::default().anchor(anchor);
    let verify =
        |o: OpenOptions| Keystore::verify_audit_log_read_only(&a.path, root_source(&ROOT), o);
    for (anchor, option) in [
        (Anchor::file(&a.anchor).reinitialize(true), "reinitialize"),
        (
            Anchor::file(&a.anchor).initialize_if_missing(true),
            "initialize_if_missing",
        ),
    ] {
        let e = expect_err(verify(with(anchor)), ErrorKind::ValidationException);
        assert!(e.message().contains(option), "{e}");
    }
    let e = expect_err(
        verify(with(Anchor::file(&a.anchor))),
        ErrorKind::KMSInternalException,
    );
    assert!(e.message().contains("missing"), "{e}");
    for anchor in [
        Anchor::file(&a.anchor),
        Anchor::file(&a.anchor).initialize_if_missing(true),
        Anchor::file(&a.anchor).reinitialize(true),
    ] {
        let e = expect_err(
            Keystore::inspect_anchor(&a.path, root_source(&ROOT), with(anchor)),
            ErrorKind::KMSInternalException,
        );
        assert!(e.message().contains("missing"), "{e}");
    }
    assert!(!a.anchor.exists(), "nothing created");
    // The opt-out still reads the status.
    let s = Keystore::inspect_anchor(
        &a.path,
        root_source(&ROOT),
        OpenOptions::default().without_anchor(),
    )
    .unwrap();
    assert!(s.anchored && s.anchor_counter.is_none());
}

/// A principal that is not an ARN is refused by the open before it writes
/// anything: no anchor is initialised (nor audit event appended) for an
/// open that then fails.
#[test]
fn a_malformed_principal_is_refused_before_the_anchor_is_created() {
    let f = fixture();
    new_key(&f.ks);
    let events = std::fs::read(f.ks.audit_log_path()).unwrap();
    let anchor = f.dir.path().join("new.anchor");
    for bad in ["not-an-arn", ""] {
        let e = expect_err(
            Keystore::open_with(
                &f.path,
                root_source(&ROOT),
                OpenOptions::default()
                    .principal(bad)
                    .anchor(Anchor::file(&anchor).initialize_if_missing(true)),
            ),
            ErrorKind::ValidationException,
        );
        assert!(e.message().contains("principal"), "{e}");
        assert!(!anchor.exists(), "the anchor was created for {bad:?}");
    }
    assert_eq!(std::fs::read(f.ks.audit_log_path()).unwrap(), events);
}

/// A keystore named through a symbolic link, its writer still open with
/// its latest commits in the WAL: the read-only verification reads them
/// (not the main file's older state alone, which is behind the anchor the
/// writer moved: no false rollback alarm).
#[test]
fn read_only_verification_through_a_link_is_not_behind_the_anchor() {
    let a = anchored();
    new_key(&a.ks);
    new_key(&a.ks);
    let link = a.path.with_file_name("link.db");
    std::os::unix::fs::symlink(&a.path, &link).unwrap();
    let v = Keystore::verify_audit_log_read_only(
        &link,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(&a.anchor)),
    )
    .unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    let s = Keystore::inspect_anchor(
        &link,
        root_source(&ROOT),
        OpenOptions::default().anchor(Anchor::file(&a.anchor)),
    )
    .unwrap();
    assert_eq!(s.anchor_counter, Some(s.keystore_counter));
}
