//! The record cache stays correct across handles and processes: a key
//! disabled, deleted, rotated or re-aliased elsewhere is seen on the next
//! call through a handle that has the key cached; tampering is detected on
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
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_entry", "--ignored", "--quiet"])
        .env("STRONGROOM_CACHE_CHILD_DB", &f.path)
        .env("STRONGROOM_CACHE_CHILD_KEY", &key)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    expect_err(try_encrypt(&f.ks, &key, b"x"), ErrorKind::DisabledException);
}

/// The child side of the test above: disables a key in another process.
#[test]
#[ignore = "entry point of the child process another test spawns"]
fn child_process_entry() {
    let db = std::env::var("STRONGROOM_CACHE_CHILD_DB").unwrap();
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

/// A key row edited in the file (its MAC tag kept, so the keystore digest
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
    // is emptied: here by a write that moves the digest (another key).
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
