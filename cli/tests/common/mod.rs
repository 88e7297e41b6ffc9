//! Helpers shared by the `strongroom` command's test files: run the binary
//! on a keystore with none of the test environment's Strongroom variables,
//! read its JSON output, or check that it failed with a KMS exception.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// The `strongroom` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_strongroom");

/// The command on `keystore`, with none of the Strongroom variables of the
/// test's own environment.
pub fn cmd(keystore: &Path) -> Command {
    cmd_of(Path::new(BIN), keystore)
}

/// As [`cmd`], with the binary `bin` (a test may prefer a release build).
pub fn cmd_of(bin: &Path, keystore: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("STRONGROOM_ROOT_KEY")
        .env_remove("STRONGROOM_ROOT_KEY_FILE")
        .env_remove("STRONGROOM_KEYSTORE")
        .env_remove("STRONGROOM_PRINCIPAL")
        .env_remove("STRONGROOM_ANCHOR")
        .arg("--keystore")
        .arg(keystore);
    c
}

/// Runs `args` on `keystore` and returns the output, whatever the status.
pub fn run(keystore: &Path, args: &[&str]) -> Output {
    cmd(keystore).args(args).output().unwrap()
}

/// Runs a command that must succeed and returns its stdout as JSON (Null if empty).
#[track_caller]
pub fn ok(keystore: &Path, args: &[&str]) -> serde_json::Value {
    json_of(&run(keystore, args), args)
}

/// The JSON on stdout of `out`, which must have succeeded (Null if empty).
#[track_caller]
pub fn json_of(out: &Output, what: &[&str]) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Asserts that `out` (of the command `what`) failed as the command reports
/// a KMS error: exit code 1 and the exception's name in parentheses on
/// stderr ("An error occurred (NotFoundException) when calling ...").
#[track_caller]
pub fn failed_with(out: &Output, what: &[&str], exception: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what:?}: {err}");
    assert!(
        err.contains(&format!("({exception})")),
        "{what:?}: expected {exception}, got {err:?}"
    );
}

/// Runs `args` on `keystore`, which must fail with `exception`
/// ([`failed_with`]); returns the output for further checks.
#[track_caller]
pub fn fails(keystore: &Path, args: &[&str], exception: &str) -> Output {
    let out = run(keystore, args);
    failed_with(&out, args, exception);
    out
}

/// A path as the `&str` argument of a command (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A new keystore (`ks.db` in a temporary directory) with one symmetric
/// key: the directory, the keystore's path and the key's ID.
pub fn keystore_with_key() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    ok(&ks, &["init"]);
    let key = ok(&ks, &["create-key"])["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    (dir, ks, key)
}
