//! `--anchor` (`STRONGROOM_ANCHOR`): the keystore file and its audit log
//! put back to an earlier state between two runs of the command are
//! refused by every command that opens the keystore with the anchor, and
//! by `audit verify`; an anchored keystore opens only with its anchor or
//! `--no-anchor` (audited). A missing anchor file is refused unless
//! `--anchor-init` is given. `anchor status` and `anchor remove`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod common;

use common::*;

/// The keystore's database and audit log files.
fn files(ks: &Path) -> [PathBuf; 2] {
    [
        ks.to_path_buf(),
        PathBuf::from(format!("{}.audit.jsonl", s(ks))),
    ]
}

#[test]
fn a_keystore_put_back_is_refused_with_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let anchor_dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = anchor_dir.path().join("ks.anchor");
    let a = ["--anchor", s(&anchor)];
    fn with<'a>(a: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
        [a, args].concat()
    }
    ok(&ks, &with(&a, &["init"]));
    assert!(anchor.exists(), "init creates the anchor");
    let key = ok(&ks, &with(&a, &["create-key"]))["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let saved: Vec<Vec<u8>> = files(&ks)
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    ok(&ks, &with(&a, &["disable-key", "--key-id", &key]));
    for (p, b) in files(&ks).iter().zip(&saved) {
        std::fs::write(p, b).unwrap();
    }
    for args in [
        with(&a, &["describe-key", "--key-id", &key]),
        with(&a, &["audit", "verify"]),
        with(&a, &["enable-key", "--key-id", &key]),
    ] {
        let out = fails(&ks, &args, "KMSInternalException");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("behind its anchor"),
            "{args:?}"
        );
    }
    // The environment variable names it too.
    let out = cmd(&ks)
        .env("STRONGROOM_ANCHOR", &anchor)
        .args(["describe-key", "--key-id", &key])
        .output()
        .unwrap();
    failed_with(&out, &["describe-key"], "KMSInternalException");
    // Without the anchor: refused, the keystore being anchored.
    let out = fails(
        &ks,
        &["describe-key", "--key-id", &key],
        "KMSInvalidStateException",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--anchor PATH") && err.contains("--no-anchor"),
        "{err}"
    );
    // Opted out, a new process cannot tell: the key is enabled again.
    let v = ok(&ks, &["--no-anchor", "describe-key", "--key-id", &key]);
    assert_eq!(v["KeyMetadata"]["Enabled"], true);
    let log = std::fs::read_to_string(&files(&ks)[1]).unwrap();
    assert!(log.contains("OpenKeystoreWithoutAnchor"));
}

/// `init --anchor` lists the anchor; `anchor status` shows the keystore
/// anchored and the anchor current, then behind after a `--no-anchor`
/// write; `anchor remove` needs the anchor, and afterwards the keystore
/// opens without it.
#[test]
fn anchor_status_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    let a = ["--anchor", s(&anchor)];
    let v = ok(&ks, &[&a[..], &["init"]].concat());
    assert_eq!(v["Anchor"], s(&anchor));
    let v = ok(&ks, &[&a[..], &["anchor", "status"]].concat());
    assert_eq!(v["Anchored"], true);
    assert_eq!(v["Anchor"], s(&anchor));
    assert_eq!(v["AnchorBehind"], false);
    assert_eq!(v["AnchorCounter"], v["KeystoreCounter"]);
    ok(&ks, &["--no-anchor", "create-key"]);
    let v = ok(&ks, &["--no-anchor", "anchor", "status"]);
    assert_eq!(v["Anchored"], true);
    assert!(v["AnchorBehind"].is_null() && v["AnchorCounter"].is_null());
    fails(
        &ks,
        &["--no-anchor", "anchor", "remove"],
        "ValidationException",
    );
    fails(&ks, &["anchor", "status"], "KMSInvalidStateException");
    ok(&ks, &[&a[..], &["anchor", "remove"]].concat());
    let v = ok(&ks, &["anchor", "status"]);
    assert_eq!(v["Anchored"], false);
    assert!(v["Anchor"].is_null());
    ok(&ks, &["list-keys"]);
    let log = std::fs::read_to_string(&files(&ks)[1]).unwrap();
    assert!(log.contains("RemoveKeystoreAnchor"));
    // A plain keystore's init lists no anchor.
    let plain = dir.path().join("plain.db");
    assert!(ok(&plain, &["init"])["Anchor"].is_null());
}

/// `--anchor /dev/null` or a directory is ValidationException, as for the
/// keystore path, before anything is created.
#[cfg(unix)]
#[test]
fn an_anchor_that_is_not_a_regular_file_is_a_validation_error() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    for bad in [Path::new("/dev/null"), dir.path()] {
        let out = fails(&ks, &["--anchor", s(bad), "init"], "ValidationException");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
        assert!(!ks.exists());
    }
    ok(&ks, &["init"]);
    fails(
        &ks,
        &["--anchor", "/dev/null", "--anchor-init", "list-keys"],
        "ValidationException",
    );
}

#[test]
fn a_missing_anchor_is_refused_unless_initialised() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("later.anchor");
    ok(&ks, &["init"]);
    ok(&ks, &["create-key"]);
    let out = fails(
        &ks,
        &["--anchor", s(&anchor), "list-keys"],
        "KMSInternalException",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    assert!(!anchor.exists());
    ok(&ks, &["--anchor", s(&anchor), "--anchor-init", "list-keys"]);
    assert!(anchor.exists());
    ok(&ks, &["--anchor", s(&anchor), "list-keys"]);
}

#[test]
fn an_output_file_is_refused_when_it_is_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    ok(&ks, &["--anchor", s(&anchor), "init"]);
    let before = std::fs::read(&anchor).unwrap();
    let out = fails(
        &ks,
        &[
            "--anchor",
            s(&anchor),
            "export-keystore",
            "--outfile",
            s(&anchor),
        ],
        "ValidationException",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("anchor file"));
    assert_eq!(std::fs::read(&anchor).unwrap(), before);
    ok(&ks, &["--anchor", s(&anchor), "list-keys"]);
}

/// An anchored keystore `ks.db` (anchor `ks.anchor`) in `dir`, exported
/// to `ks.export`, with `clone.key` a copy of its root key for an import
/// as `clone.db`: (anchor, export, clone).
fn exported_anchored(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ks = dir.join("ks.db");
    let anchor = dir.join("ks.anchor");
    ok(&ks, &["--anchor", s(&anchor), "init"]);
    ok(&ks, &["--anchor", s(&anchor), "create-key"]);
    let export = dir.join("ks.export");
    ok(
        &ks,
        &[
            "--anchor",
            s(&anchor),
            "export-keystore",
            "--outfile",
            s(&export),
        ],
    );
    std::fs::copy(dir.join("ks.key"), dir.join("clone.key")).unwrap();
    (anchor, export, dir.join("clone.db"))
}

#[test]
fn import_keystore_starts_a_new_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let (anchor, export, clone) = exported_anchored(dir.path());
    // The original's anchor is not taken over.
    let out = fails(
        &clone,
        &[
            "--anchor",
            s(&anchor),
            "import-keystore",
            "--infile",
            s(&export),
        ],
        "AlreadyExistsException",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--anchor"));
    assert!(!clone.exists());
    // Without an anchor: refused (the export is of an anchored keystore).
    fails(
        &clone,
        &["import-keystore", "--infile", s(&export)],
        "KMSInvalidStateException",
    );
    assert!(!clone.exists());
    let clone_anchor = dir.path().join("clone.anchor");
    ok(
        &clone,
        &[
            "--anchor",
            s(&clone_anchor),
            "import-keystore",
            "--infile",
            s(&export),
        ],
    );
    assert!(clone_anchor.exists());
    // Opened with its anchor, no --anchor-init needed; anchored.
    ok(&clone, &["--anchor", s(&clone_anchor), "list-keys"]);
    fails(&clone, &["list-keys"], "KMSInvalidStateException");
    // Opted out, the import is still anchored.
    let opted = dir.path().join("opted.db");
    std::fs::copy(dir.path().join("ks.key"), dir.path().join("opted.key")).unwrap();
    ok(
        &opted,
        &["--no-anchor", "import-keystore", "--infile", s(&export)],
    );
    fails(&opted, &["list-keys"], "KMSInvalidStateException");
}

/// `--anchor` naming another file of the keystore (its audit log, the
/// keystore itself, its root key file) is refused before anything runs:
/// storing the anchor would replace that file.
#[test]
fn an_anchor_that_is_a_keystore_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let log = files(&ks)[1].clone();
    let out = fails(&ks, &["--anchor", s(&log), "init"], "ValidationException");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("audit log"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!ks.exists() && !log.exists(), "nothing was created");
    let anchor = dir.path().join("ks.anchor");
    ok(&ks, &["--anchor", s(&anchor), "init"]);
    let before = std::fs::read(&log).unwrap();
    for (path, what) in [(&ks, "the keystore"), (&log, "audit log")] {
        let out = fails(
            &ks,
            &["--anchor", s(path), "list-keys"],
            "ValidationException",
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(what));
    }
    let key = dir.path().join("ks.key");
    fails(
        &ks,
        &["--anchor", s(&key), "list-keys"],
        "ValidationException",
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
    ok(&ks, &["--anchor", s(&anchor), "list-keys"]);
}

/// `import-keystore --anchor` refuses a symbolic link at the anchor path,
/// even a dangling one (which is not "missing"), as the library does.
#[cfg(unix)]
#[test]
fn import_keystore_refuses_an_anchor_link() {
    let dir = tempfile::tempdir().unwrap();
    let (_, export, clone) = exported_anchored(dir.path());
    let link = dir.path().join("clone.anchor");
    let target = dir.path().join("elsewhere.anchor");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    fails(
        &clone,
        &[
            "--anchor",
            s(&link),
            "import-keystore",
            "--infile",
            s(&export),
        ],
        "AlreadyExistsException",
    );
    assert!(!clone.exists() && !target.exists());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// An anchored keystore is not re-anchored by a fresh anchor file with
/// `--anchor-init` (so `anchor remove` through one is refused, nothing
/// created); `--anchor-reinit` re-anchors it deliberately (audited as
/// `ReinitializeKeystoreAnchor`), after which the earlier anchor file is
/// refused. Errors of `anchor status` name the AnchorStatus operation.
#[test]
fn an_anchored_keystore_is_re_anchored_only_deliberately() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    let fresh = dir.path().join("fresh.anchor");
    ok(&ks, &["--anchor", s(&anchor), "init"]);
    ok(&ks, &["--anchor", s(&anchor), "create-key"]);
    let out = fails(
        &ks,
        &["--anchor", s(&fresh), "--anchor-init", "anchor", "remove"],
        "KMSInvalidStateException",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no record"), "{err}");
    assert!(!fresh.exists());
    let out = fails(&ks, &["anchor", "status"], "KMSInvalidStateException");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AnchorStatus operation"), "{err}");
    ok(
        &ks,
        &["--anchor", s(&fresh), "--anchor-reinit", "list-keys"],
    );
    let log = std::fs::read_to_string(&files(&ks)[1]).unwrap();
    assert!(log.contains("ReinitializeKeystoreAnchor"));
    let out = fails(
        &ks,
        &["--anchor", s(&anchor), "list-keys"],
        "KMSInvalidStateException",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("another anchor ID"));
    ok(&ks, &["--anchor", s(&fresh), "anchor", "remove"]);
    ok(&ks, &["list-keys"]);
}

/// `anchor status` is read only: with `--anchor` on an un-anchored keystore
/// it anchors nothing and creates no anchor file, with `--no-anchor` it
/// appends no audit event, and an anchor behind is shown behind (not moved
/// forward first).
#[test]
fn anchor_status_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    ok(&ks, &["init"]);
    ok(&ks, &["create-key"]);
    let log = || std::fs::read(&files(&ks)[1]).unwrap();
    let before = (std::fs::read(&ks).unwrap(), log());
    for args in [
        &["--anchor", s(&anchor), "anchor", "status"][..],
        &["--anchor", s(&anchor), "--anchor-init", "anchor", "status"][..],
    ] {
        let v = ok(&ks, args);
        assert_eq!(v["Anchored"], false);
        assert!(v["AnchorCounter"].is_null());
    }
    assert!(!anchor.exists());
    assert_eq!((std::fs::read(&ks).unwrap(), log()), before);
    ok(&ks, &["list-keys"]);

    ok(&ks, &["--anchor", s(&anchor), "--anchor-init", "list-keys"]);
    ok(&ks, &["--no-anchor", "create-key"]);
    let events = String::from_utf8(log()).unwrap().lines().count();
    let v = ok(&ks, &["--no-anchor", "anchor", "status"]);
    assert_eq!(v["Anchored"], true);
    assert_eq!(String::from_utf8(log()).unwrap().lines().count(), events);
    let anchor_before = std::fs::read(&anchor).unwrap();
    let v = ok(&ks, &["--anchor", s(&anchor), "anchor", "status"]);
    assert_eq!(v["AnchorBehind"], true, "{v}");
    assert_eq!(std::fs::read(&anchor).unwrap(), anchor_before);
}

/// `init --admin-principal` refuses a principal no call can act as, and the
/// anchoring events of a command run for its `--principal`: the opt-out,
/// and the recovery by re-anchoring (a failed one, by a principal that is
/// not an ARN, leaves no anchor file).
#[test]
fn anchoring_events_act_for_the_principal_and_the_admin_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    let fresh = dir.path().join("fresh.anchor");
    fails(
        &ks,
        &["init", "--admin-principal", "111122223333"],
        "ValidationException",
    );
    assert!(!ks.exists());
    ok(&ks, &["--anchor", s(&anchor), "init"]);
    let who = "arn:aws:iam::000000000000:user/operator";
    ok(&ks, &["--principal", who, "--no-anchor", "list-keys"]);
    let log = std::fs::read_to_string(&files(&ks)[1]).unwrap();
    let opt_out = log
        .lines()
        .find(|l| l.contains("\"OpenKeystoreWithoutAnchor\"") && !l.contains("strongroomIntent"))
        .unwrap();
    assert!(opt_out.contains(who), "{opt_out}");
    std::fs::remove_file(&anchor).unwrap();
    fails(
        &ks,
        &[
            "--principal",
            "111122223333",
            "--anchor",
            s(&fresh),
            "--anchor-reinit",
            "list-keys",
        ],
        "ValidationException",
    );
    assert!(!fresh.exists());
    ok(
        &ks,
        &[
            "--principal",
            who,
            "--anchor",
            s(&fresh),
            "--anchor-reinit",
            "list-keys",
        ],
    );
    ok(&ks, &["--anchor", s(&fresh), "create-key"]);
}

/// The read-only `audit verify` refuses `--anchor-init`/`--anchor-reinit`
/// (it could create or re-anchor nothing) and, like `anchor status`, fails
/// on an anchored keystore whose anchor file is gone; none creates it.
#[test]
fn read_only_commands_refuse_a_missing_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    ok(&ks, &["--anchor", s(&anchor), "init"]);
    ok(&ks, &["--anchor", s(&anchor), "create-key"]);
    std::fs::remove_file(&anchor).unwrap();
    for flag in ["--anchor-init", "--anchor-reinit"] {
        let out = fails(
            &ks,
            &["--anchor", s(&anchor), flag, "audit", "verify"],
            "ValidationException",
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{err}");
    }
    for args in [
        &["--anchor", s(&anchor), "audit", "verify"][..],
        &["--anchor", s(&anchor), "anchor", "status"][..],
        &[
            "--anchor",
            s(&anchor),
            "--anchor-reinit",
            "anchor",
            "status",
        ][..],
    ] {
        let out = fails(&ks, args, "KMSInternalException");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("missing"),
            "{args:?}"
        );
    }
    assert!(!anchor.exists());
}
