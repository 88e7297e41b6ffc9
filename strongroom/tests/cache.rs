//! The record cache stays correct across handles and processes: a key
//! disabled, deleted, rotated or re-aliased, or a grant created, revoked or
//! retired, elsewhere is seen on the next call through a handle that has the
//! key (and its grants) cached; tampering is detected on
//! the next read that misses the cache (see the `cache` module of the
//! facade for the exact guarantee).
#![allow(clippy::unwrap_used)]

mod fixture;

use std::path::Path;

use fixture::*;
use strongroom::core::blob::parse_header;
use strongroom::{ErrorKind, Keystore};

fn other_handle(path: &Path) -> Keystore {
    Keystore::open(path, root_source(&ROOT)).unwrap()
}

fn blob_key_id(blob: &[u8]) -> String {
    parse_header(blob).unwrap().key_id_string()
}

#[test]
fn a_key_disabled_or_deleted_by_another_handle_is_seen_on_the_next_call() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let other = other_handle(&f.path);
    other.disable_key(&key).unwrap();
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
    expect_err(gdk(&f.ks, &key), ErrorKind::DisabledException);
    other.enable_key(&key).unwrap();
    let blob = try_encrypt(&f.ks, &key, b"x").unwrap().ciphertext_blob;
    other.schedule_key_deletion(&key, Some(7)).unwrap();
    expect_err(
        try_encrypt(&f.ks, &key, b"x"),
        ErrorKind::KMSInvalidStateException,
    );
    expect_err(
        try_decrypt(&f.ks, &blob, &ctx(&[]), None),
        ErrorKind::KMSInvalidStateException,
    );
}

#[test]
fn a_key_disabled_by_another_process_is_seen_on_the_next_call() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    #[cfg(unix)]
    let before = signal_counters(&f.path);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_entry", "--ignored", "--quiet"])
        .env("STRONGROOM_CACHE_CHILD_DB", &f.path)
        .env("STRONGROOM_CACHE_CHILD_KEY", &key)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // The child's commit moved the shared signal file.
    #[cfg(unix)]
    {
        let (begun, ended) = signal_counters(&f.path);
        assert_eq!(begun, ended);
        assert!(begun > before.0);
    }
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
}

/// The child side of the test above: disables a key in another process.
#[test]
#[ignore = "entry point of the child process another test spawns"]
fn child_process_entry() {
    // A child process's entry point: under `--include-ignored`, where no
    // parent set its variables, there is nothing to do.
    let Ok(db) = std::env::var("STRONGROOM_CACHE_CHILD_DB") else {
        return;
    };
    let key = std::env::var("STRONGROOM_CACHE_CHILD_KEY").unwrap();
    other_handle(Path::new(&db)).disable_key(&key).unwrap();
}

#[test]
fn rotation_in_another_handle_is_used_by_the_next_encrypt() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let old = encrypt(&f.ks, &key, b"old", &ctx(&[]));
    assert_eq!(parse_header(&old).unwrap().version, 1);
    let other = other_handle(&f.path);
    other.rotate_key_on_demand(&key).unwrap();
    let new = encrypt(&f.ks, &key, b"new", &ctx(&[]));
    assert_eq!(parse_header(&new).unwrap().version, 2);
    assert_eq!(decrypt(&f.ks, &old, &ctx(&[])), b"old");
    assert_eq!(decrypt(&other, &new, &ctx(&[])), b"new");
    assert_eq!(decrypt(&f.ks, &new, &ctx(&[])), b"new");
}

#[test]
fn an_alias_moved_by_another_handle_is_followed() {
    let f = fixture();
    let a = new_key(&f.ks).key_id;
    let b = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/app", &a).unwrap();
    let first = encrypt(&f.ks, "alias/app", b"x", &ctx(&[]));
    assert_eq!(blob_key_id(&first), a);
    other_handle(&f.path).update_alias("alias/app", &b).unwrap();
    let second = encrypt(&f.ks, "alias/app", b"x", &ctx(&[]));
    assert_eq!(blob_key_id(&second), b);
}

#[test]
fn own_writes_are_seen_at_once() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let clone = f.ks.clone();
    clone.disable_key(&key).unwrap();
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
    f.ks.enable_key(&key).unwrap();
    try_encrypt(&clone, &key, b"x").unwrap();
}

/// A key row edited in the file (its MAC tag kept, so the integrity state
/// does not move): the next read that misses the cache fails authentication.
#[test]
fn tampering_is_detected_on_the_next_read_that_misses_the_cache() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let n = conn
        .execute(
            "UPDATE keys SET body = CAST(body AS TEXT) || ' ' WHERE id = ?1",
            [&key],
        )
        .unwrap();
    assert_eq!(n, 1);
    // A handle without the record cached reads it and refuses it.
    let fresh = other_handle(&f.path);
    expect_err(
        try_encrypt(&fresh, &key, b"x"),
        ErrorKind::KMSInternalException,
    );
    // The cached handle keeps the record it authenticated until the cache
    // is emptied: here by a write that moves the integrity state (another key).
    try_encrypt(&f.ks, &key, b"x").unwrap();
    fresh.create_key(&Default::default()).unwrap();
    expect_err(
        try_encrypt(&f.ks, &key, b"x"),
        ErrorKind::KMSInternalException,
    );
}

/// A key policy changed by another handle applies to the next call of a
/// handle that has the key (and its parsed policy) cached.
#[test]
fn a_policy_changed_by_another_handle_applies_at_once() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let app = f.ks.as_principal("arn:aws:iam::000000000000:user/app");
    // A named administrator: the account root would cover `user/app` too.
    let admin = "arn:aws:iam::000000000000:user/admin";
    let policy = |actions: &[&str]| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/app"},
             "Action": actions, "Resource": "*"},
        ]})
        .to_string()
    };
    let other = other_handle(&f.path).as_principal(admin);
    let put = |actions: &[&str]| {
        other
            .put_key_policy(&strongroom::api::PutKeyPolicyRequest {
                key_id: key.clone(),
                policy: policy(actions),
                bypass_policy_lockout_safety_check: true,
                ..Default::default()
            })
            .unwrap();
    };
    put(&["kms:Encrypt"]);
    try_encrypt(&app, &key, b"x").unwrap();
    put(&["kms:Decrypt"]);
    expect_err(
        try_encrypt(&app, &key, b"x"),
        ErrorKind::AccessDeniedException,
    );
    put(&["kms:Encrypt"]);
    try_encrypt(&app, &key, b"x").unwrap();
}

/// The grants of a key are cached with its record: a grant created,
/// revoked or retired by another handle applies to the next call of a
/// handle that has the key's grants cached, and so does one revoked
/// through the same handle.
#[test]
fn grants_changed_by_another_handle_apply_at_once() {
    use strongroom::api::{CreateGrantRequest, EncryptRequest, RetireGrantRequest};
    use strongroom::core::grant::{GrantConstraints, GrantOperation};
    let f = fixture();
    let key = new_key(&f.ks).arn;
    // Of another account: the default key policy (the keystore's account)
    // does not cover it, so only grants allow its calls.
    let app_arn = "arn:aws:iam::444455556666:user/app";
    let app = f.ks.as_principal(app_arn);
    let other = other_handle(&f.path);
    let grant = |ks: &Keystore, subset: Option<(&str, &str)>| {
        ks.create_grant(&CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: app_arn.to_owned(),
            retiring_principal: Some(app_arn.to_owned()),
            operations: vec![GrantOperation::Encrypt],
            constraints: subset.map(|(k, v)| GrantConstraints {
                encryption_context_subset: Some(ctx(&[(k, v)])),
                encryption_context_equals: None,
            }),
            ..Default::default()
        })
        .unwrap()
        .grant_id
    };
    let enc = |c: &[(&str, &str)]| {
        app.encrypt(&EncryptRequest {
            key_id: key.clone(),
            plaintext: strongroom::Secret::from_slice(b"x"),
            encryption_context: ctx(c),
            ..Default::default()
        })
    };
    expect_err(enc(&[]), ErrorKind::AccessDeniedException);
    let a = grant(&other, Some(("dept", "it")));
    enc(&[("Dept", "it")]).unwrap();
    expect_err(enc(&[("dept", "hr")]), ErrorKind::AccessDeniedException);
    // Revoked elsewhere: the cached grants are not used again.
    other.revoke_grant(&key, &a).unwrap();
    expect_err(enc(&[("dept", "it")]), ErrorKind::AccessDeniedException);
    // Created elsewhere, retired elsewhere.
    let b = grant(&other, None);
    enc(&[("dept", "hr")]).unwrap();
    other
        .as_principal(app_arn)
        .retire_grant(&RetireGrantRequest {
            key_id: Some(key.clone()),
            grant_id: Some(b),
            grant_token: None,
        })
        .unwrap();
    expect_err(enc(&[("dept", "hr")]), ErrorKind::AccessDeniedException);
    // Created and revoked through the calling handle itself.
    let c = grant(&f.ks, None);
    enc(&[]).unwrap();
    f.ks.revoke_grant(&key, &c).unwrap();
    expect_err(enc(&[]), ErrorKind::AccessDeniedException);
}

/// The change-signal file's two counters (`docs/FORMAT.md`): (begun, ended).
#[cfg(unix)]
fn signal_counters(db: &Path) -> (u64, u64) {
    let b = std::fs::read(strongroom::signal_path(db)).unwrap();
    assert_eq!(b.len(), 64);
    assert_eq!(&b[..8], b"SRSIGNAL");
    assert_eq!(b[8..12], 1u32.to_le_bytes());
    let word = |o: usize| u64::from_ne_bytes(b[o..o + 8].try_into().unwrap());
    (word(16), word(24))
}

/// Overwrites the `ended` counter, as a writer that died inside its write
/// window leaves it (one behind `begun`).
#[cfg(unix)]
fn set_ended(db: &Path, ended: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(strongroom::signal_path(db))
        .unwrap();
    f.write_all_at(&ended.to_ne_bytes(), 24).unwrap();
}

/// Every write moves the signal; between writes it is quiescent.
#[cfg(unix)]
#[test]
fn every_write_moves_the_change_signal() {
    let f = fixture();
    let (b0, e0) = signal_counters(&f.path);
    assert_eq!(b0, e0);
    let key = new_key(&f.ks).key_id;
    let (b1, e1) = signal_counters(&f.path);
    assert_eq!(b1, e1);
    assert!(b1 > b0, "CreateKey committed without moving the signal");
    try_encrypt(&f.ks, &key, b"x").unwrap();
    other_handle(&f.path).disable_key(&key).unwrap();
    let (b2, e2) = signal_counters(&f.path);
    assert_eq!(b2, e2);
    assert!(b2 > b1);
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
}

/// A writer that died between its commit and the end of its window (the
/// counters left unequal) hides nothing: handles read `data_version` while
/// the counters differ, and the next call repairs the file.
#[cfg(unix)]
#[test]
fn a_writer_that_died_in_its_window_hides_no_change() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    let other = other_handle(&f.path);
    other.disable_key(&key).unwrap();
    let (begun, ended) = signal_counters(&f.path);
    assert_eq!(begun, ended);
    // The state a `kill -9` after the commit and before `ended` leaves.
    set_ended(&f.path, ended - 1);
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
    // Repaired by that call (no writer was in a window).
    let (b, e) = signal_counters(&f.path);
    assert_eq!(b, e);
    assert_eq!(b, begun);
    // And the signal works again.
    other.enable_key(&key).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    other.disable_key(&key).unwrap();
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
}

/// A signal file deleted while no handle is open is created again by the
/// next open; an invalid one (not a signal file) is bypassed by `open`
/// (every call reads `data_version`, still seeing other handles' changes)
/// and replaced by `Keystore::create`.
#[cfg(unix)]
#[test]
fn a_missing_or_invalid_signal_file_is_recreated_or_bypassed() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let sig = strongroom::signal_path(&f.path);
    drop(f.ks);
    std::fs::remove_file(&sig).unwrap();
    let a = other_handle(&f.path);
    assert_eq!(std::fs::metadata(&sig).unwrap().len(), 64);
    try_encrypt(&a, &key, b"x").unwrap();
    other_handle(&f.path).disable_key(&key).unwrap();
    expect_err(try_encrypt(&a, &key, b"x"), ErrorKind::DisabledException);
    drop(a);

    // Not a signal file: opened without it, and still fresh.
    std::fs::write(&sig, b"not a signal file").unwrap();
    let a = other_handle(&f.path);
    expect_err(try_encrypt(&a, &key, b"x"), ErrorKind::DisabledException);
    other_handle(&f.path).enable_key(&key).unwrap();
    try_encrypt(&a, &key, b"x").unwrap();
    other_handle(&f.path).disable_key(&key).unwrap();
    expect_err(try_encrypt(&a, &key, b"x"), ErrorKind::DisabledException);
    assert_eq!(std::fs::read(&sig).unwrap(), b"not a signal file");
    drop(a);

    // `create` at a path whose old keystore (and its audit log) is gone
    // replaces an invalid file.
    for ext in ["", "-wal", "-shm", ".audit.jsonl"] {
        let mut p = f.path.as_os_str().to_owned();
        p.push(ext);
        let _ = std::fs::remove_file(p);
    }
    let ks = Keystore::create(
        &f.path,
        root_source(&ROOT),
        strongroom::CreateOptions::default(),
    )
    .unwrap();
    let (b, e) = signal_counters(&f.path);
    assert_eq!(b, e);
    let key = new_key(&ks).key_id;
    try_encrypt(&ks, &key, b"x").unwrap();
    other_handle(&f.path).disable_key(&key).unwrap();
    expect_err(try_encrypt(&ks, &key, b"x"), ErrorKind::DisabledException);
}

/// A signal file deleted while a handle has it mapped, and created again by
/// a handle opened afterwards: the two no longer share a signal; the older
/// handle sees the newer one's writes at its next periodic check of
/// `data_version` (`SIGNAL_RECHECK`) and reads it on every call from then on.
#[cfg(unix)]
#[test]
fn a_signal_file_replaced_under_an_open_handle_is_noticed() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    std::fs::remove_file(strongroom::signal_path(&f.path)).unwrap();
    let newer = other_handle(&f.path);
    newer.disable_key(&key).unwrap();
    // Past the bound (a sleep, not a timing assertion: the check is due
    // once SIGNAL_RECHECK has passed since the last one).
    std::thread::sleep(strongroom::SIGNAL_RECHECK * 2);
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
    newer.enable_key(&key).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
}

/// A write by another program (here SQLite directly, which does not move
/// the signal) is seen at the next periodic check of `data_version`: the
/// authentic rows of a disabled key and the matching integrity state, put
/// back after the key was enabled.
#[cfg(unix)]
#[test]
fn a_write_that_does_not_move_the_signal_is_seen_at_the_periodic_check() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    f.ks.disable_key(&key).unwrap();
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    let row = |table: &str, id: &str| -> (Vec<u8>, Vec<u8>) {
        conn.query_row(
            &format!("SELECT body, tag FROM {table} WHERE id = ?1"),
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let disabled = row("keys", &key);
    // The integrity state: `meta/state` and its level-1 and level-2 rows.
    let state: Vec<(String, Vec<u8>, Vec<u8>)> = conn
        .prepare("SELECT id, body, tag FROM meta WHERE id = 'state' OR id LIKE 'state/%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    f.ks.enable_key(&key).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    f.ks.flush_audit_log().unwrap();
    let before = signal_counters(&f.path);
    let restore = std::iter::once(("keys", key.clone(), disabled))
        .chain(state.into_iter().map(|(id, b, t)| ("meta", id, (b, t))));
    for (table, id, (body, tag)) in restore {
        conn.execute(
            &format!("UPDATE {table} SET body = ?1, tag = ?2 WHERE id = ?3"),
            rusqlite::params![body, tag, id],
        )
        .unwrap();
    }
    assert_eq!(signal_counters(&f.path), before, "SQLite moved the signal");
    std::thread::sleep(strongroom::SIGNAL_RECHECK * 2);
    // Seen: the cached (enabled) record is not used. (The put-back state is
    // older than one this handle has authenticated, so the handle's next
    // audit checkpoint store refuses it; the log was flushed before the
    // put-back, so none is due before this call's answer.)
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
    expect_err(f.ks.flush_audit_log(), ErrorKind::KMSInternalException);
}

/// A keystore opened through a symbolic link uses the signal file (and the
/// audit log) beside the real file, so handles naming the keystore
/// differently share them.
#[cfg(unix)]
#[test]
fn a_keystore_opened_through_a_symlink_shares_the_signal_file() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    let link = f.dir.path().join("link.db");
    std::os::unix::fs::symlink(&f.path, &link).unwrap();
    let linked = other_handle(&link);
    try_encrypt(&linked, &key, b"x").unwrap();
    assert!(!strongroom::signal_path(&link).exists());
    assert_eq!(linked.audit_log_path(), f.ks.audit_log_path());
    let before = signal_counters(&f.path);
    f.ks.disable_key(&key).unwrap();
    assert!(signal_counters(&f.path).0 > before.0);
    expect_err(
        try_encrypt(&linked, &key, b"x"),
        ErrorKind::DisabledException,
    );
    linked.enable_key(&key).unwrap();
    try_encrypt(&f.ks, &key, b"x").unwrap();
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}

/// A keystore used through a link to its file by an earlier version has its
/// audit log beside the link; opening it now moves that log beside the real
/// file instead of failing closed for a missing log.
#[cfg(unix)]
#[test]
fn a_log_beside_a_link_is_adopted() {
    let f = fixture();
    let key = new_key(&f.ks).key_id;
    try_encrypt(&f.ks, &key, b"x").unwrap();
    f.ks.flush_audit_log().unwrap();
    let records = f.ks.verify_audit_log().unwrap().records;
    let real_log = f.ks.audit_log_path().to_path_buf();
    drop(f.ks);
    // The layout an earlier version left: the log named after the link.
    let link = f.dir.path().join("link.db");
    std::os::unix::fs::symlink(&f.path, &link).unwrap();
    let link_log = strongroom::audit_log_path(&link);
    std::fs::rename(&real_log, &link_log).unwrap();
    let ks = other_handle(&link);
    assert!(real_log.exists() && !link_log.exists());
    try_encrypt(&ks, &key, b"x").unwrap();
    let v = ks.verify_audit_log().unwrap();
    assert_eq!(v.fault, None);
    assert!(
        v.records > records,
        "the earlier records are kept and chained on"
    );
}

/// The signal file follows the keystore file's permissions: created with
/// exactly its mode, and brought back in line when the keystore's mode was
/// changed (e.g. shared with a group), so that every process that may write
/// the keystore may also move the counters.
#[cfg(unix)]
#[test]
fn the_signal_file_follows_the_keystore_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let signal = strongroom::signal_path(&f.path);
    assert_eq!(mode(&signal), mode(&f.path));
    std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(0o660)).unwrap();
    let other = other_handle(&f.path);
    new_key(&other);
    assert_eq!(mode(&signal), 0o660);
}

/// Review 18, M1, as root sees it (root ignores modes: the failing writes
/// themselves are in the CLI's `permissions` tests, run as another user):
/// opening a keystore whose file is read only keeps its signal file's
/// owner read and write (the group and other bits follow the keystore's),
/// and opening it once its file is writable again gives the `-wal`, `-shm`
/// and signal files that a read-only open left read only their owner's
/// read and write back (adding nothing else to the sidecars; the signal's
/// group and other bits follow the keystore file's).
#[cfg(unix)]
#[test]
fn a_read_only_keystore_file_leaves_its_side_files_writable() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let chmod = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    let signal = strongroom::signal_path(&f.path);
    chmod(&f.path, 0o440);
    let reader = other_handle(&f.path);
    reader.list_keys(None, None).unwrap();
    assert_eq!(mode(&signal), 0o640);
    // What SQLite (and an earlier version, for the signal) left beside a
    // keystore opened while its file was 0400, the writer `f.ks` holding
    // the sidecars open.
    new_key(&f.ks);
    let side = |s: &str| std::path::PathBuf::from(format!("{}{s}", f.path.display()));
    for p in [side("-wal"), side("-shm"), signal.clone()] {
        chmod(&p, 0o404);
    }
    chmod(&f.path, 0o600);
    let writer = other_handle(&f.path);
    new_key(&writer);
    for p in [side("-wal"), side("-shm")] {
        assert_eq!(mode(&p), 0o604, "{}", p.display());
    }
    assert_eq!(mode(&signal), 0o600);
}

/// Review 18b, 2: a symbolic link at the change-signal file's name is not
/// followed: the file it names (here one its owner may only read, as a
/// root key file) keeps its mode and bytes after the keystore is opened.
#[cfg(unix)]
#[test]
fn a_symbolic_link_at_the_signal_files_name_is_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let path = f.path.clone();
    drop(f.ks);
    let sig = strongroom::signal_path(&path);
    let _ = std::fs::remove_file(&sig);
    let target = f.dir.path().join("root.key");
    std::fs::write(&target, [7u8; 32]).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o400)).unwrap();
    std::os::unix::fs::symlink(&target, &sig).unwrap();
    if let Ok(ks) = Keystore::open(&path, root_source(&ROOT)) {
        let _ = new_key(&ks);
    }
    let m = std::fs::metadata(&target).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o400);
    assert_eq!(std::fs::read(&target).unwrap(), [7u8; 32]);
    assert!(std::fs::symlink_metadata(&sig).unwrap().is_symlink());
}

/// Whether another process could take an exclusive POSIX lock on byte 128
/// of `shm` (SQLite's "dead man switch" of the wal-index, which every
/// connection that has it mapped holds shared): asked of `python3`, a
/// separate process, since a process never conflicts with its own locks.
#[cfg(target_os = "linux")]
fn dms_byte_is_free(shm: &Path) -> bool {
    let probe = "import fcntl,os,sys\n\
        fd=os.open(sys.argv[1],os.O_RDWR)\n\
        try:\n    fcntl.lockf(fd,fcntl.LOCK_EX|fcntl.LOCK_NB,1,128)\nexcept OSError:\n    sys.exit(3)\n\
        sys.exit(0)\n";
    let status = std::process::Command::new("python3")
        .args(["-c", probe])
        .arg(shm)
        .status()
        .expect("python3 runs");
    match status.code() {
        Some(0) => true,
        Some(3) => false,
        other => panic!("probe failed: {other:?}"),
    }
}

/// Second reading 18, D1: giving a read-only `-shm` its owner's write
/// permission back while another handle of this process has the keystore
/// open keeps that handle's SQLite locks on `-shm`: the file is changed
/// through an `O_PATH` descriptor, whose close releases no POSIX lock.
/// Before, it was opened read only and closed, which released every lock
/// this process held on `-shm` (another process could then take the dead
/// man switch and rebuild the wal-index under the open handle).
#[cfg(target_os = "linux")]
#[test]
fn repairing_a_side_files_mode_keeps_the_open_handles_locks() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    new_key(&f.ks);
    f.ks.list_keys(None, None).unwrap();
    let shm = std::path::PathBuf::from(format!("{}-shm", f.path.display()));
    assert!(
        !dms_byte_is_free(&shm),
        "the open handle holds the wal-index"
    );
    std::fs::set_permissions(&shm, std::fs::Permissions::from_mode(0o400)).unwrap();
    let second = other_handle(&f.path);
    let mode = std::fs::metadata(&shm).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600, "the owner's write given back");
    assert!(!dms_byte_is_free(&shm), "the first handle's locks are kept");
    new_key(&second);
    new_key(&f.ks);
}
