//! File permissions as an unprivileged user sees them: the command run as
//! a user other than root (`nobody`, through `setpriv`, when the tests run
//! as root, who ignores file modes; as the test's own user otherwise) on a
//! keystore in a directory that user owns.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::*;

/// The user and group the command runs as when the tests run as root.
const NOBODY: u32 = 65534;

/// A directory owned by the user the command runs as, holding a link to
/// (or a copy of) the binary that user can run, and how to run it.
struct Unprivileged {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// `setpriv` is put before the binary (the tests run as root).
    as_nobody: bool,
}

impl Unprivileged {
    /// `None` (the test is skipped) as root without `setpriv`.
    fn new() -> Option<Self> {
        let uid = Command::new("id").arg("-u").output().unwrap();
        let as_nobody = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if as_nobody && Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: running as root without setpriv to run as another user");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // Reachable whatever the modes of the directories above the build.
        let bin = dir.path().join("strongroom");
        if std::fs::hard_link(BIN, &bin).is_err() {
            std::fs::copy(BIN, &bin).unwrap();
        }
        if as_nobody {
            std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).unwrap();
            let parent = dir.path().parent().unwrap();
            assert!(
                mode(parent) & 0o001 != 0,
                "{} must be searchable by others",
                parent.display()
            );
        }
        Some(Unprivileged {
            dir,
            bin,
            as_nobody,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the command with `args` on the keystore `ks.db` of the directory.
    fn run(&self, args: &[&str]) -> Output {
        let mut c = if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={NOBODY}"))
                .arg(format!("--regid={NOBODY}"))
                .arg("--clear-groups")
                .arg(&self.bin);
            c
        } else {
            Command::new(&self.bin)
        };
        c.current_dir(self.dir.path())
            .env_remove("STRONGROOM_ROOT_KEY")
            .env_remove("STRONGROOM_ROOT_KEY_FILE")
            .env_remove("STRONGROOM_KEYSTORE")
            .env_remove("STRONGROOM_PRINCIPAL")
            .env_remove("STRONGROOM_ANCHOR")
            .args(["--keystore", "ks.db"])
            .args(args)
            .output()
            .unwrap()
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> serde_json::Value {
        json_of(&self.run(args), args)
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// Review 18, M1: a keystore opened once while its file was read only
/// (`chmod a-w`) stays writable once its write permission is back. SQLite
/// had made `-wal` and `-shm` with the read-only file's mode (0400) and
/// the change signal had been brought down to it, so every later write
/// failed with "attempt to write a readonly database".
#[test]
fn a_read_only_open_leaves_the_keystore_writable_once_its_mode_is_back() {
    let Some(u) = Unprivileged::new() else {
        return;
    };
    u.ok(&["init"]);
    let key = u.ok(&["create-key"])["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let db = u.path("ks.db");
    chmod(&db, 0o400);
    let listed = u.ok(&["list-keys"]);
    assert_eq!(listed["Keys"][0]["KeyId"], key.as_str());
    // The change signal keeps its owner's write permission.
    assert_eq!(mode(&u.path("ks.db-signal")), 0o600);
    chmod(&db, 0o600);
    for _ in 0..2 {
        u.ok(&["create-key"]);
        u.ok(&["encrypt", "--key-id", &key, "--plaintext", "eA=="]);
    }
    for side in ["ks.db-signal", "ks.db-wal", "ks.db-shm"] {
        let p = u.path(side);
        if p.exists() {
            assert_eq!(mode(&p) & 0o600, 0o600, "{side}");
        }
    }
    assert_eq!(u.ok(&["list-keys"])["Keys"].as_array().unwrap().len(), 3);
}

/// A write SQLite refuses as read only names the file whose mode blocks
/// it, with that mode: the keystore file itself while it is read only,
/// and a sidecar that Strongroom may not repair (not of the keystore
/// file's owner: here root's, so only when the tests run as root).
#[test]
fn a_read_only_write_names_the_file_that_blocks_it() {
    let Some(u) = Unprivileged::new() else {
        return;
    };
    u.ok(&["init"]);
    let db = u.path("ks.db");
    chmod(&db, 0o400);
    let out = u.run(&["create-key"]);
    failed_with(&out, &["create-key"], "KMSInternalException");
    let err = String::from_utf8_lossy(&out.stderr);
    let named = format!(
        "attempt to write a readonly database: {} is not writable by this process (mode 0400)",
        db.display()
    );
    assert!(err.contains(&named), "{err}");
    assert!(u.path("ks.db-shm").exists());
    if u.as_nobody {
        let shm = u.path("ks.db-shm");
        std::os::unix::fs::chown(&shm, Some(0), Some(0)).unwrap();
        chmod(&shm, 0o444);
        chmod(&db, 0o600);
        let out = u.run(&["create-key"]);
        failed_with(&out, &["create-key"], "KMSInternalException");
        let err = String::from_utf8_lossy(&out.stderr);
        let named = format!(
            "{} is not writable by this process (mode 0444)",
            shm.display()
        );
        assert!(err.contains(&named), "{err}");
        // Given back to its owner, it is repaired and the keystore written.
        std::os::unix::fs::chown(&shm, Some(NOBODY), Some(NOBODY)).unwrap();
        u.ok(&["create-key"]);
        if shm.exists() {
            assert_eq!(mode(&shm), 0o644);
        }
    }
}
