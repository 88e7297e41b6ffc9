//! The files of an open keystore stay protected after the process changes
//! its working directory (review of 2026-11-30): a keystore opened with
//! relative paths registers them made absolute at open, so a later `chdir`
//! does not let an output replace its root key file or anchor. A test
//! binary of its own: `chdir` is process-wide.
#![allow(clippy::unwrap_used)]

use strongroom::core::envelope::{DecryptOptions, EncryptOptions};
use strongroom::{Anchor, CreateOptions, ErrorKind, Keystore, OpenOptions, RootKeySource};

#[test]
fn a_chdir_after_open_does_not_unprotect_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    std::fs::write("root.key", [7u8; 32]).unwrap();
    let root = || RootKeySource::File("root.key".into());
    let create = CreateOptions {
        anchor: Some(Anchor::file("ks.anchor")),
        ..CreateOptions::default()
    };
    drop(Keystore::create("ks.db", root(), create).unwrap());
    let open = OpenOptions::default().anchor(Anchor::file("ks.anchor"));
    let ks = Keystore::open_with("ks.db", root(), open).unwrap();
    let key = ks
        .create_key(&Default::default())
        .unwrap()
        .key_metadata
        .key_id;
    std::fs::write("plain", b"secret").unwrap();
    ks.encrypt_file(
        "plain",
        "plain.sr",
        &[&key],
        &Default::default(),
        &EncryptOptions::default(),
    )
    .unwrap();
    let message = dir.path().join("plain.sr");
    let plain = dir.path().join("plain");
    let key_before = std::fs::read(dir.path().join("root.key")).unwrap();
    std::env::set_current_dir(elsewhere.path()).unwrap();
    // Relative names now mean other files: they are free to write.
    ks.decrypt_file(&message, "root.key", &DecryptOptions::default())
        .unwrap();
    // The real root key file, default key file and anchor are refused.
    for (target, what) in [
        ("root.key", "the root key file"),
        ("ks.key", "the default root key file"),
        ("ks.anchor", "the keystore's anchor file"),
    ] {
        let out = dir.path().join(target);
        let e = ks
            .decrypt_file(&message, &out, &DecryptOptions::default())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
        assert!(e.to_string().contains(what), "{e}");
        let e = ks
            .encrypt_file(
                &plain,
                &out,
                &[&key],
                &Default::default(),
                &EncryptOptions::default(),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("root.key")).unwrap(),
        key_before
    );
    drop(ks);
    std::env::set_current_dir(dir.path()).unwrap();
    drop(
        Keystore::open_with(
            "ks.db",
            root(),
            OpenOptions::default().anchor(Anchor::file("ks.anchor")),
        )
        .unwrap(),
    );
    std::env::set_current_dir(std::env::temp_dir()).unwrap();
}
