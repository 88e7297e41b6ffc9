//! `init` and `import-keystore` killed at any point (user trial of
//! 2026-11-30, item 7): the process is killed with SIGKILL at its n-th
//! fsync, fdatasync, rename or link (strace fault injection), for every n
//! until it completes. Each crash leaves either no keystore or a complete
//! one, never a half-made file that blocks the retry, and the retry
//! removes what the crashed run left under its temporary name. Skipped
//! (with a note) where `strace` cannot run.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

mod common;

use common::*;

const CALLS: &str = "fsync,fdatasync,rename,renameat,renameat2,link,linkat";

/// Runs the command `args` on `keystore` under strace, killed at its
/// `n`-th call of [`CALLS`]; whether it ran to the end (was not killed).
fn run_killed_at(n: u32, keystore: &Path, args: &[&str]) -> bool {
    let out = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "-e"])
        .arg(format!("trace={CALLS}"))
        .arg("-e")
        .arg(format!("inject={CALLS}:signal=SIGKILL:when={n}"))
        .arg(BIN)
        .arg("--keystore")
        .arg(keystore)
        .args(args)
        .env_remove("STRONGROOM_ROOT_KEY")
        .env_remove("STRONGROOM_ROOT_KEY_FILE")
        .env_remove("STRONGROOM_KEYSTORE")
        .env_remove("STRONGROOM_ANCHOR")
        .output()
        .unwrap();
    out.status.success()
}

fn strace_works() -> bool {
    let ok = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("strace cannot run here: crash injection tests skipped");
    }
    ok
}

/// The names in `dir` (hidden ones included), sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Kills `args` at every step in turn; after each crash the keystore
/// `ks.db` in a fresh directory (prepared by `prepare`) is absent or
/// complete, and `args` run again succeeds when it is absent.
fn crash_everywhere(args: &[&str], extra: &[&str], prepare: impl Fn(&Path)) {
    if !strace_works() {
        return;
    }
    let mut n = 1;
    loop {
        assert!(n < 200, "the command never completed under injection");
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let ks = dir.path().join("ks.db");
        let all: Vec<&str> = extra.iter().chain(args).copied().collect();
        let completed = run_killed_at(n, &ks, &all);
        let left = names(dir.path());
        if ks.exists() {
            // Complete: it opens and answers.
            let out = run(&ks, &[extra, &["list-keys"]].concat());
            assert!(
                out.status.success(),
                "killed at call {n}: a keystore that does not open ({}); files {left:?}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            // Absent: the retry succeeds and leaves no temporary file.
            let out = run(&ks, &all);
            assert!(
                out.status.success(),
                "killed at call {n}: retry failed ({}); files {left:?}",
                String::from_utf8_lossy(&out.stderr)
            );
            let after = names(dir.path());
            assert!(
                after.iter().all(|f| !f.contains(".creating")),
                "killed at call {n}: the retry left {after:?}"
            );
            run(&ks, &[extra, &["list-keys"]].concat())
                .status
                .success()
                .then_some(())
                .unwrap();
        }
        if completed {
            break;
        }
        n += 1;
    }
    assert!(
        n > 3,
        "too few injection points ({n}): strace did not inject"
    );
}

#[test]
fn init_killed_at_any_point_leaves_nothing_or_a_keystore() {
    crash_everywhere(&["init"], &[], |_| {});
}

#[test]
fn import_keystore_killed_at_any_point_leaves_nothing_or_a_keystore() {
    let src = tempfile::tempdir().unwrap();
    let src_ks = src.path().join("src.db");
    ok(&src_ks, &["init"]);
    ok(&src_ks, &["create-key"]);
    let export = src.path().join("e.bin");
    ok(&src_ks, &["export-keystore", "--outfile", s(&export)]);
    let key = src.path().join("src.key");
    assert!(key.exists(), "init's key file is not at {}", key.display());
    crash_everywhere(
        &["import-keystore", "--infile", s(&export)],
        &["--root-key-file", s(&key)],
        |_| {},
    );
}
