//! Argon2id parameters read from a file (a keystore's `meta/kdf` row, an
//! export's KDF field) are read before any MAC can be checked: values out
//! of the bounds of `docs/FORMAT.md` ("Root key and derived keys") are
//! refused before deriving (no abort on a 4 TiB allocation, no hour-long
//! derivation), and the same bounds apply to parameters a caller gives.

use strongroom::root::{Argon2Params, ARGON2_MAX_M_COST_KIB, ARGON2_MAX_T_COST};
use strongroom::store::{Row, SqliteStorage, Storage, Table};
use strongroom::{CreateOptions, ErrorKind, Keystore, RootKeySource, Secret};

fn pass() -> RootKeySource {
    RootKeySource::Passphrase(Secret::from_slice(b"correct horse battery staple"))
}

/// The (start, end) byte range of the KDF JSON in export `b` (layout in
/// `docs/FORMAT.md`, "Sealed keystore export").
fn kdf_range(b: &[u8]) -> (usize, usize) {
    let u32_at =
        |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("four bytes")) as usize;
    let mut i = 5;
    i += 2 + u16::from_be_bytes([b[i], b[i + 1]]) as usize + 32;
    i += 4 + u32_at(i) + 32;
    (i + 4, i + 4 + u32_at(i))
}

/// `export` with its KDF parameters changed by `edit`.
fn with_kdf(export: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let (start, end) = kdf_range(export);
    let mut kdf: serde_json::Value = serde_json::from_slice(&export[start..end]).expect("KDF JSON");
    edit(&mut kdf);
    let kdf = serde_json::to_vec(&kdf).expect("JSON");
    let mut out = export[..start - 4].to_vec();
    out.extend_from_slice(&u32::try_from(kdf.len()).expect("short").to_be_bytes());
    out.extend_from_slice(&kdf);
    out.extend_from_slice(&export[end..]);
    out
}

const OUT_OF_RANGE: [(&str, u64); 6] = [
    ("m_cost", u32::MAX as u64),
    ("m_cost", ARGON2_MAX_M_COST_KIB as u64 + 1),
    ("t_cost", u32::MAX as u64),
    ("t_cost", ARGON2_MAX_T_COST as u64 + 1),
    ("p_cost", u32::MAX as u64),
    ("t_cost", 0),
];

#[test]
fn imports_refuse_out_of_range_kdf_parameters_before_deriving() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::create(dir.path().join("p.db"), pass(), CreateOptions::default()).unwrap();
    let export = ks.export_sealed().unwrap();
    for (i, (field, value)) in OUT_OF_RANGE.into_iter().enumerate() {
        let bad = with_kdf(&export, |k| k[field] = value.into());
        let path = dir.path().join(format!("i{i}.db"));
        let err = Keystore::import_sealed(&path, &bad, pass()).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::KMSInternalException,
            "{field}={value}"
        );
        assert!(
            err.message().contains("KDF parameters are out of range")
                && err.message().contains(field),
            "{field}={value}: {}",
            err.message()
        );
        assert!(!path.exists(), "{field}={value}: a keystore was created");
    }
    // Unaltered, the export imports.
    Keystore::import_sealed(dir.path().join("ok.db"), &export, pass()).unwrap();
}

#[test]
fn opens_refuse_an_out_of_range_meta_kdf_row_before_deriving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    drop(Keystore::create(&path, pass(), CreateOptions::default()).unwrap());
    let stored = || {
        let storage = SqliteStorage::open(&path, false).unwrap();
        let mut row = None;
        storage
            .read(&mut |tx| {
                row = tx.get(Table::Meta, "kdf")?;
                Ok(())
            })
            .unwrap();
        (storage, row.unwrap())
    };
    let (_, original) = stored();
    for (field, value) in OUT_OF_RANGE {
        let (storage, mut row) = stored();
        let mut kdf: serde_json::Value = serde_json::from_slice(&original.body).unwrap();
        kdf[field] = value.into();
        row.body = serde_json::to_vec(&kdf).expect("JSON");
        storage.write(&mut |tx| tx.put(Table::Meta, &row)).unwrap();
        drop(storage);
        let err = Keystore::open(&path, pass()).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::KMSInternalException,
            "{field}={value}"
        );
        assert!(
            err.message().contains("meta/kdf") && err.message().contains("out of range"),
            "{field}={value}: {}",
            err.message()
        );
    }
    // Put back, the keystore opens again.
    let (storage, _) = stored();
    let back = Row { ..original };
    storage.write(&mut |tx| tx.put(Table::Meta, &back)).unwrap();
    drop(storage);
    Keystore::open(&path, pass()).unwrap();
}

#[test]
fn derive_refuses_parameters_out_of_range_with_validation_exception() {
    let good = Argon2Params::generate([7; 16]);
    good.check_bounds().unwrap();
    for bad in [
        Argon2Params {
            m_cost: u32::MAX,
            ..good.clone()
        },
        Argon2Params {
            t_cost: ARGON2_MAX_T_COST + 1,
            ..good.clone()
        },
        Argon2Params {
            p_cost: 17,
            ..good.clone()
        },
        Argon2Params {
            m_cost: 15,
            p_cost: 2,
            ..good.clone()
        },
        Argon2Params {
            salt: vec![0; 4],
            ..good.clone()
        },
    ] {
        let err = bad.derive(b"pw").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValidationException, "{bad:?}");
        assert!(err.message().contains("out of range"), "{}", err.message());
    }
}

/// A passphrase keystore (it records so) opened with any root key says it
/// is protected by a passphrase, the same whatever the key source held: a
/// missing key file, an unset variable, a readable wrong key, or the bytes
/// of a key (nothing about them is told).
#[test]
fn a_passphrase_keystore_opened_with_a_root_key_says_so_whatever_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    drop(Keystore::create(&path, pass(), CreateOptions::default()).unwrap());
    assert!(Keystore::is_passphrase_protected(&path).unwrap());
    let missing = dir.path().join("p.key");
    let readable = dir.path().join("wrong.key");
    std::fs::write(&readable, [7u8; 32]).unwrap();
    let malformed = dir.path().join("short.key");
    std::fs::write(&malformed, [7u8; 5]).unwrap();
    let sources = [
        RootKeySource::File(missing),
        RootKeySource::File(readable),
        RootKeySource::File(malformed),
        RootKeySource::EnvVar("STRONGROOM_KDF_BOUNDS_TEST_UNSET".into()),
        // Set in every test environment, and not a key.
        RootKeySource::EnvVar("PATH".into()),
        RootKeySource::Bytes(Secret::new(vec![7; 32])),
        RootKeySource::Bytes(Secret::new(vec![7; 3])),
    ];
    let expected = "this keystore is protected by a passphrase: open it with its passphrase \
                    instead of a root key";
    for source in sources {
        let what = format!("{source:?}");
        let e = Keystore::open(&path, source.clone()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{what}: {e}");
        assert_eq!(e.message(), expected, "{what}");
        let e =
            Keystore::verify_audit_log_read_only(&path, source, Default::default()).unwrap_err();
        assert_eq!(e.message(), expected, "{what}");
    }
    Keystore::open(&path, pass()).unwrap();
    // A keystore made with a root key is not.
    let keyed = dir.path().join("k.db");
    drop(
        Keystore::create(
            &keyed,
            RootKeySource::Bytes(Secret::new(vec![7; 32])),
            CreateOptions::default(),
        )
        .unwrap(),
    );
    assert!(!Keystore::is_passphrase_protected(&keyed).unwrap());
    let e = Keystore::is_passphrase_protected(dir.path().join("none.db")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFoundException, "{e}");
}

/// A wrong passphrase is told as such (`AccessDeniedException`, the kind
/// a wrong root key gets), for a keystore and for a sealed export; a
/// wrong root key still says "root key" (review P1).
#[test]
fn a_wrong_passphrase_says_the_passphrase_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let ks = Keystore::create(&path, pass(), CreateOptions::default()).unwrap();
    let export = ks.export_sealed().unwrap();
    drop(ks);
    let wrong = RootKeySource::Passphrase(Secret::from_slice(b"wrong horse"));
    let e = Keystore::open(&path, wrong.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException, "{e}");
    assert_eq!(
        e.message(),
        "the passphrase is wrong: it does not open this keystore"
    );
    let e = Keystore::import_sealed(dir.path().join("i.db"), &export, wrong).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException, "{e}");
    assert_eq!(
        e.message(),
        "the passphrase is wrong: it does not open this sealed keystore export"
    );
    let keyed = dir.path().join("k.db");
    drop(
        Keystore::create(
            &keyed,
            RootKeySource::Bytes(Secret::new(vec![7; 32])),
            CreateOptions::default(),
        )
        .unwrap(),
    );
    let e = Keystore::open(&keyed, RootKeySource::Bytes(Secret::new(vec![8; 32]))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDeniedException, "{e}");
    assert_eq!(e.message(), "the root key does not open this keystore");
}

/// A passphrase given for a keystore without KDF parameters (made with a
/// root key, or its `meta/kdf` row deleted) names the missing row; for a
/// sealed export of a keystore made with a root key, the missing
/// parameters (review P2).
#[test]
fn a_passphrase_for_a_keystore_without_kdf_parameters_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    drop(Keystore::create(&path, pass(), CreateOptions::default()).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM meta WHERE id = 'kdf'", [])
        .unwrap();
    assert!(!Keystore::is_passphrase_protected(&path).unwrap());
    let e = Keystore::open(&path, pass()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    assert!(
        e.message()
            .contains("holds no passphrase (Argon2id KDF) parameters: its meta/kdf row is missing"),
        "{e}"
    );
    let keyed = dir.path().join("k.db");
    let ks = Keystore::create(
        &keyed,
        RootKeySource::Bytes(Secret::new(vec![7; 32])),
        CreateOptions::default(),
    )
    .unwrap();
    let export = ks.export_sealed().unwrap();
    let e = Keystore::import_sealed(dir.path().join("i.db"), &export, pass()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    assert!(
        e.message()
            .contains("this sealed keystore export holds no passphrase (Argon2id KDF) parameters"),
        "{e}"
    );
}

/// `is_passphrase_protected` of a file that is not a keystore (not SQLite,
/// or another application's SQLite database) says so, naming the path,
/// rather than passing on SQLite's text (review P5).
#[test]
fn is_passphrase_protected_of_a_file_that_is_not_a_keystore_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "this is not sqlite, but long enough to be read as a header",
    )
    .unwrap();
    let app = dir.path().join("app.db");
    rusqlite::Connection::open(&app)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    for p in [&text, &app] {
        let e = Keystore::is_passphrase_protected(p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
        let expected = format!("{} is not a Strongroom keystore", p.display());
        assert!(e.message().starts_with(&expected), "{e}");
        assert!(!e.message().contains("database error"), "{e}");
    }
}
