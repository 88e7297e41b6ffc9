//! Intent records (`docs/FORMAT.md`, "Intent records"): a row change is
//! preceded in the audit log by the intent record of its operation,
//! `fdatasync`ed and covered by the checkpoint of the very state row that
//! commits the change. So no authentic state row that reflects a change
//! has a checkpoint short of that change's record (review 5b, finding 2:
//! "checkpoint behind its rows"), and a crash between the intent and the
//! commit, or between the commit and the outcome record, leaves a keystore
//! that opens and a log that verifies, naming the intent "outcome unknown".
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::Path;

use fixture::*;
use strongroom::api::*;
use strongroom::{ErrorKind, Keystore, OpenOptions};

/// A state row version as stored: body and tag.
type StateRow = (Vec<u8>, Vec<u8>);

fn db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Keeps every version of the state row the keystore writes, in order, in
/// a side table (as an attacker copies them from the `-wal` file, or
/// between two commits).
fn record_state_versions(path: &Path) {
    db(path)
        .execute_batch(
            "CREATE TABLE state_history (n INTEGER PRIMARY KEY, body BLOB, tag BLOB);
             CREATE TRIGGER state_insert AFTER INSERT ON meta WHEN NEW.id = 'state'
               BEGIN INSERT INTO state_history (body, tag) VALUES (NEW.body, NEW.tag); END;
             CREATE TRIGGER state_update AFTER UPDATE ON meta WHEN NEW.id = 'state'
               BEGIN INSERT INTO state_history (body, tag) VALUES (NEW.body, NEW.tag); END;",
        )
        .unwrap();
}

/// The state row versions recorded, oldest first; stops the recording
/// (the keystore refuses a file whose schema holds the side table or the
/// triggers: `docs/FORMAT.md`, "Keystore integrity state").
fn state_versions(path: &Path) -> Vec<StateRow> {
    let db = db(path);
    let versions = db
        .prepare("SELECT body, tag FROM state_history ORDER BY n")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    db.execute_batch(
        "DROP TRIGGER state_insert; DROP TRIGGER state_update; DROP TABLE state_history;",
    )
    .unwrap();
    versions
}

/// A state row's checkpoint (`docs/FORMAT.md`, "Keystore integrity state"):
/// record count and log length.
fn checkpoint_of(row: &StateRow) -> (u64, u64) {
    let b = &row.0;
    let count = u64::from_be_bytes(b[9..17].try_into().unwrap());
    let log_len = u64::from_be_bytes(b[49..57].try_into().unwrap());
    (count, log_len)
}

fn put_back_state(path: &Path, row: &StateRow) {
    db(path)
        .execute(
            "UPDATE meta SET body = ?1, tag = ?2 WHERE id = 'state'",
            rusqlite::params![row.0, row.1],
        )
        .unwrap();
}

fn cut_log(log: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(log)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// The log's records (parsed lines), in order.
fn log_records(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn is_intent(r: &serde_json::Value) -> bool {
    r["strongroomIntent"].is_object()
}

/// The `eventID` of the intent record in the log that names the outcome
/// `eventID` `outcome`.
fn intent_naming(log: &Path, outcome: &str) -> String {
    let found: Vec<String> = log_records(log)
        .iter()
        .filter(|r| r["strongroomIntent"]["eventID"] == outcome)
        .map(|r| r["eventID"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(found.len(), 1, "{outcome}");
    found[0].clone()
}

/// The byte offset of the end of the last intent record of `op` in the log.
fn end_of_last_intent(log: &Path, op: &str) -> u64 {
    let text = std::fs::read_to_string(log).unwrap();
    let mut end = 0;
    let mut found = None;
    for line in text.split_inclusive('\n') {
        end += line.len() as u64;
        let r: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        if is_intent(&r) && r["eventName"] == op {
            found = Some(end);
        }
    }
    found.unwrap()
}

/// `(eventName, intent?)` of every record, in log order.
fn names(log: &Path) -> Vec<(String, bool)> {
    log_records(log)
        .iter()
        .map(|r| (r["eventName"].as_str().unwrap().to_owned(), is_intent(r)))
        .collect()
}

const OPEN_TO_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;

fn open_to_all(ks: &Keystore, key: &str) -> strongroom::Result<()> {
    ks.put_key_policy(&PutKeyPolicyRequest {
        key_id: key.into(),
        policy: OPEN_TO_ALL.into(),
        bypass_policy_lockout_safety_check: true,
        ..Default::default()
    })
}

/// The `eventID` of the last (outcome) record of `op`.
fn outcome_id(ks: &Keystore, op: &str) -> String {
    ks.audit_events(&strongroom::AuditFilter {
        event_name: Some(op.into()),
        ..Default::default()
    })
    .unwrap()
    .iter()
    .rev()
    .find(|r| !is_intent(r))
    .unwrap()["eventID"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Review 5b, finding 2: the state row a change commits covers the
/// change's intent record. Put back (it is authentic, and matches the
/// rows) with the log cut to before that record, it is refused: the log no
/// longer holds what the checkpoint covers. The most it can hide is the
/// outcome record after the intent, and verification names that intent
/// "outcome unknown".
#[test]
fn a_changes_own_state_row_put_back_with_its_record_cut_is_refused() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    record_state_versions(&f.path);
    let log = f.ks.audit_log_path().to_path_buf();
    let before = std::fs::metadata(&log).unwrap().len();
    open_to_all(&f.ks, &key).unwrap();
    let id = intent_naming(&log, &outcome_id(&f.ks, "PutKeyPolicy"));
    let full_log = std::fs::read(&log).unwrap();
    let versions = state_versions(&f.path);
    // The change's own state row, then the checkpoint after its outcome.
    assert_eq!(versions.len(), 2, "one row change, one checkpoint");
    let own = &versions[0];
    let intent_end = end_of_last_intent(&log, "PutKeyPolicy");
    assert_eq!(
        checkpoint_of(own),
        (3, intent_end),
        "the change's state covers its intent record"
    );
    assert!(intent_end > before);
    assert_eq!(
        names(&log)[2..],
        [
            ("PutKeyPolicy".to_string(), true),
            ("PutKeyPolicy".to_string(), false)
        ]
    );

    // Put back with the log cut before the intent: refused by the open
    // handle (verification — an older state than it has seen — and every
    // operation) and, after a new open, reported as a fault.
    put_back_state(&f.path, own);
    cut_log(&log, before);
    expect_err(f.ks.verify_audit_log(), ErrorKind::KMSInternalException);
    expect_err(
        f.ks.update_key_description(&key, "after"),
        ErrorKind::KMSInternalException,
    );
    drop(f.ks);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    assert!(ks.verify_audit_log().unwrap().fault.is_some());
    expect_err(
        ks.create_key(&CreateKeyRequest::default()),
        ErrorKind::KMSInternalException,
    );
    drop(ks);

    // Cut after the intent: the outcome record alone is gone, and the
    // intent says so.
    std::fs::write(&log, &full_log).unwrap();
    put_back_state(&f.path, own);
    cut_log(&log, intent_end);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    assert_eq!(v.outcome_unknown, [id]);
    // The keystore works on, and the intent stays without outcome.
    ks.update_key_description(&key, "after").unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!((v.fault, v.outcome_unknown.len()), (None, 1));
}

/// A crash after the intent record is synced and before the rows commit:
/// the keystore as it was, the log with the intent. It opens, verifies
/// (the intent's outcome unknown), keeps every acknowledged key, and takes
/// writes.
#[test]
fn a_crash_between_the_intent_and_the_commit_leaves_a_keystore_that_opens() {
    let f = fixture();
    let acked = new_key(&f.ks).key_id;
    drop(f.ks);
    let snapshot = std::fs::read(&f.path).unwrap();
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let lost = new_key(&ks).key_id;
    let log = ks.audit_log_path().to_path_buf();
    drop(ks);
    let intent_end = end_of_last_intent(&log, "CreateKey");
    // The crash: the row commit and the outcome record never happened.
    std::fs::write(&f.path, &snapshot).unwrap();
    cut_log(&log, intent_end);

    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!((&v.fault, v.outcome_unknown.len()), (&None, 1), "{v:?}");
    let keys: Vec<String> = ks
        .list_keys(None, None)
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(
        keys,
        std::slice::from_ref(&acked),
        "{lost} was never acknowledged"
    );
    try_encrypt(&ks, &acked, b"x").unwrap();
    let next = new_key(&ks).key_id;
    let v = ks.verify_audit_log().unwrap();
    assert_eq!((v.fault, v.outcome_unknown.len()), (None, 1));
    drop(ks);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    ks.describe_key(&next).unwrap();
}

/// A crash after the rows commit and before the outcome record: the
/// change's state row, the log ending with the intent. It opens, verifies,
/// and the key created is there.
#[test]
fn a_crash_between_the_commit_and_the_outcome_leaves_a_keystore_that_opens() {
    let f = fixture();
    let first = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    record_state_versions(&f.path);
    let second = new_key(&f.ks).key_id;
    let log = f.ks.audit_log_path().to_path_buf();
    drop(f.ks);
    let own = state_versions(&f.path)[0].clone();
    let intent_end = end_of_last_intent(&log, "CreateKey");
    assert_eq!(checkpoint_of(&own).1, intent_end);
    put_back_state(&f.path, &own);
    cut_log(&log, intent_end);

    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!((&v.fault, v.outcome_unknown.len()), (&None, 1), "{v:?}");
    for k in [&first, &second] {
        try_encrypt(&ks, k, b"x").unwrap();
    }
    new_key(&ks);
    assert_eq!(ks.verify_audit_log().unwrap().fault, None);
}

/// A state row store that fails (an injected failure standing in for a
/// full disk) fails the change with an error, holds no lock: another
/// handle on the keystore (its own open file description of the log, as
/// another process has) gets an error too instead of waiting, and once the
/// store works again both handles write, and every intent has its outcome.
#[test]
fn a_failing_state_store_returns_an_error_and_holds_no_lock() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    db(&f.path)
        .execute_batch(
            "CREATE TRIGGER fail_state BEFORE UPDATE ON meta WHEN NEW.id = 'state'
               BEGIN SELECT RAISE(FAIL, 'injected: database or disk is full'); END;",
        )
        .unwrap();
    let tag = |ks: &Keystore, v: &str| {
        ks.tag_resource(
            &key,
            &[Tag {
                tag_key: "k".into(),
                tag_value: v.into(),
            }],
        )
    };
    expect_err(tag(&f.ks, "a"), ErrorKind::KMSInternalException);
    expect_err(tag(&other, "b"), ErrorKind::KMSInternalException);
    std::thread::scope(|s| {
        s.spawn(|| expect_err(tag(&other, "c"), ErrorKind::KMSInternalException));
        s.spawn(|| expect_err(tag(&f.ks, "d"), ErrorKind::KMSInternalException));
    });
    db(&f.path)
        .execute_batch("DROP TRIGGER fail_state")
        .unwrap();
    tag(&other, "e").unwrap();
    tag(&f.ks, "f").unwrap();
    let tags = f.ks.list_resource_tags(&key, None, None).unwrap().tags;
    assert_eq!(tags[0].tag_value, "f");
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!((v.fault, v.outcome_unknown), (None, Vec::<String>::new()));
}

/// Write-behind: the read-only records queued before a change are written
/// ahead of its intent, and the intent is synced and checkpointed by the
/// change's own commit. The queue's bounds are ones the test never reaches
/// (the default's 100 ms would let the background drain write the queue
/// first whenever the test is descheduled that long).
#[test]
fn write_behind_writes_the_queue_and_the_intent_before_the_change_commits() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    drop(f.ks);
    let ks = Keystore::open_with(
        &f.path,
        root_source(&ROOT),
        OpenOptions::default().audit_write_mode(strongroom::AuditWriteMode::WriteBehind {
            max_events: 60_000,
            max_millis: 60_000,
        }),
    )
    .unwrap();
    record_state_versions(&f.path);
    for _ in 0..3 {
        try_encrypt(&ks, &key, b"x").unwrap();
    }
    let log = ks.audit_log_path().to_path_buf();
    assert_eq!(names(&log).len(), 2, "the Encrypts are queued");
    ks.update_key_description(&key, "d").unwrap();
    let n = names(&log);
    assert_eq!(
        n[2..],
        [
            ("Encrypt".to_string(), false),
            ("Encrypt".to_string(), false),
            ("Encrypt".to_string(), false),
            ("UpdateKeyDescription".to_string(), true),
            ("UpdateKeyDescription".to_string(), false),
        ]
    );
    // The queue's checkpoint, then the change's own state row over its intent.
    let versions = state_versions(&f.path);
    assert_eq!(checkpoint_of(&versions[0]).0, 5);
    assert_eq!(
        checkpoint_of(&versions[1]),
        (6, end_of_last_intent(&log, "UpdateKeyDescription"))
    );
}

/// Row changes of several handles and threads at once, with Encrypts in
/// between: each commits a checkpoint over its own intent, the checkpoints
/// stored never go back, and the log verifies with every record and every
/// outcome.
#[test]
fn concurrent_changes_each_commit_their_intent_and_checkpoints_only_advance() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let other = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    record_state_versions(&f.path);
    std::thread::scope(|s| {
        for (t, ks) in [&f.ks, &other, &f.ks, &other].into_iter().enumerate() {
            let key = key.clone();
            s.spawn(move || {
                for i in 0..10 {
                    ks.update_key_description(&key, &format!("{t}/{i}"))
                        .unwrap();
                    try_encrypt(ks, &key, b"x").unwrap();
                }
            });
        }
    });
    drop(other);
    let counts: Vec<(u64, u64)> = state_versions(&f.path).iter().map(checkpoint_of).collect();
    let v = f.ks.verify_audit_log().unwrap();
    // CreateKey and 40 UpdateKeyDescription with their intents, 40 Encrypts.
    assert_eq!((v.fault, v.records), (None, 2 + 40 * 3));
    assert!(v.outcome_unknown.is_empty());
    assert!(counts.len() >= 40);
    for w in counts.windows(2) {
        assert!(w[0].0 <= w[1].0 && w[0].1 <= w[1].1, "{counts:?}");
    }
    drop(f.ks);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    assert_eq!(ks.verify_audit_log().unwrap().fault, None);
}

/// An operation that fails inside its write transaction before changing
/// anything (here: the key is not there) writes no intent, only its
/// record; so does a read-only operation.
#[test]
fn no_intent_without_a_row_change() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let log = f.ks.audit_log_path().to_path_buf();
    let n = names(&log).len();
    expect_err(
        f.ks.update_key_description(&"0".repeat(36), "x"),
        ErrorKind::NotFoundException,
    );
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let after = names(&log);
    assert_eq!(
        after[n..],
        [
            ("UpdateKeyDescription".to_string(), false),
            ("Encrypt".to_string(), false)
        ]
    );
}

/// Review of the intent records, finding 1: an intent record has an
/// `eventID` of its own (CloudTrail's `eventID` is unique per event: a
/// shipper that dedupes on it must not drop the outcome), shares its
/// operation's `requestID`, and names its outcome's `eventID` in
/// `strongroomIntent`. `audit_events` lists the outcome alone; with the
/// outcome cut off, the intent (listed, and in `outcome_unknown` by its own
/// `eventID`).
#[test]
fn an_intent_has_its_own_event_id_and_names_its_outcome() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.flush_audit_log().unwrap();
    record_state_versions(&f.path);
    open_to_all(&f.ks, &key).unwrap();
    let log = f.ks.audit_log_path().to_path_buf();
    let records = log_records(&log);
    let ids: std::collections::HashSet<&str> = records
        .iter()
        .map(|r| r["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), records.len(), "every eventID is unique");
    let intents: Vec<&serde_json::Value> = records.iter().filter(|r| is_intent(r)).collect();
    assert_eq!(intents.len(), 2, "CreateKey and PutKeyPolicy");
    for intent in &intents {
        let named = intent["strongroomIntent"]["eventID"].as_str().unwrap();
        assert_ne!(named, intent["eventID"].as_str().unwrap());
        let outcome = records
            .iter()
            .find(|r| !is_intent(r) && r["eventID"] == named)
            .unwrap();
        assert_eq!(outcome["requestID"], intent["requestID"]);
        assert_eq!(outcome["eventName"], intent["eventName"]);
        assert_eq!(intent["readOnly"], false);
        assert!(intent.get("errorCode").is_none());
        // Intent review, finding 6: the intent names the key its
        // transaction wrote.
        assert_eq!(intent["resources"], outcome["resources"]);
        assert!(intent["resources"][0]["ARN"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":key/{key}")));
    }
    let listed = f.ks.audit_events(&Default::default()).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|r| !is_intent(r)));

    // PutKeyPolicy's outcome lost (its own state row, the log cut after
    // its intent): the intent is listed, and unknown by its own eventID.
    let intent_id = intents[1]["eventID"].as_str().unwrap().to_owned();
    let own = state_versions(&f.path)[0].clone();
    drop(f.ks);
    put_back_state(&f.path, &own);
    cut_log(&log, end_of_last_intent(&log, "PutKeyPolicy"));
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(
        (v.fault, v.outcome_unknown),
        (None, vec![intent_id.clone()])
    );
    let listed = ks.audit_events(&Default::default()).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["eventID"], intent_id.as_str());
    assert!(is_intent(&listed[1]));
}
