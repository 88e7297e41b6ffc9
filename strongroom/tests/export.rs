//! Sealed keystore export and import: round trip, byte-for-byte records,
//! tampering and wrong root keys rejected, interchange with the in-memory
//! keystore of strongroom-core (what the WebAssembly package runs), grants
//! and key state carried by format versions 2 and 3, version 1 exports still
//! read.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use strongroom::api::*;
use strongroom::core::grant::GrantOperation;
use strongroom::core::key::KeyState;
use strongroom::core::memstore::MemKeystore;
use strongroom::core::seal::RootKey;
use strongroom::{CreateOptions, ErrorKind, Keystore, RootKeySource, Secret};

const ADMIN: &str = "arn:aws:iam::000000000000:user/admin";
const APP: &str = "arn:aws:iam::000000000000:user/app";
const OTHER: &str = "arn:aws:iam::000000000000:user/other";

fn encrypt(ks: &Keystore, key: &str, pt: &[u8]) -> Vec<u8> {
    ks.encrypt(&EncryptRequest {
        key_id: key.into(),
        plaintext: Secret::from_slice(pt),
        encryption_context: ctx(&[("a", "b")]),
        ..Default::default()
    })
    .unwrap()
    .ciphertext_blob
}

fn decrypt(ks: &Keystore, blob: &[u8]) -> strongroom::Result<Vec<u8>> {
    ks.decrypt(&DecryptRequest {
        ciphertext_blob: blob.to_vec(),
        encryption_context: ctx(&[("a", "b")]),
        ..Default::default()
    })
    .map(|r| r.plaintext.expose_secret().to_vec())
}

#[test]
fn export_import_round_trip() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/backup", &k).unwrap();
    f.ks.rotate_key_on_demand(&k).unwrap();
    let blob = encrypt(&f.ks, &k, b"payload");
    let bytes = f.ks.export_sealed().unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"payload"));

    let path = f.dir.path().join("restored.db");
    let restored = Keystore::import_sealed(&path, &bytes, root_source(&ROOT)).unwrap();
    assert_eq!(decrypt(&restored, &blob).unwrap(), b"payload");
    assert_eq!(
        restored
            .describe_key("alias/backup")
            .unwrap()
            .key_metadata
            .key_id,
        k
    );
    // Reopening verifies the digest and every record.
    let reopened = Keystore::open(&path, root_source(&ROOT)).unwrap();
    assert_eq!(decrypt(&reopened, &blob).unwrap(), b"payload");
    // Rows travel byte for byte: exporting the import gives the same bytes.
    assert_eq!(reopened.export_sealed().unwrap(), bytes);
    // The target must not exist.
    assert_eq!(
        Keystore::import_sealed(&path, &bytes, root_source(&ROOT))
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExistsException
    );
}

#[test]
fn tampered_or_foreign_exports_are_rejected() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/x", &k).unwrap();
    let bytes = f.ks.export_sealed().unwrap();
    for i in (0..bytes.len()).step_by(7) {
        let mut t = bytes.clone();
        t[i] ^= 0x80;
        let path = f.dir.path().join(format!("t{i}.db"));
        assert!(Keystore::import_sealed(&path, &t, root_source(&ROOT)).is_err());
        assert!(!path.exists(), "a rejected import left a file behind");
    }
    let path = f.dir.path().join("wrong-root.db");
    assert_eq!(
        Keystore::import_sealed(&path, &bytes, root_source(&[1; 32]))
            .unwrap_err()
            .kind(),
        ErrorKind::AccessDeniedException
    );
}

#[test]
fn native_and_in_memory_keystores_interchange() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    let native_blob = encrypt(&f.ks, &k, b"from native");

    let root = RootKey::from_bytes(&ROOT).unwrap();
    let mut mem = MemKeystore::import_sealed(&f.ks.export_sealed().unwrap(), root).unwrap();
    let rng = &mut strongroom::os_rng();
    let now = T0 + 10;
    let out = mem
        .decrypt(
            rng,
            now,
            &DecryptRequest {
                ciphertext_blob: native_blob,
                encryption_context: ctx(&[("a", "b")]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(out.plaintext.expose_secret(), b"from native");
    let mem_blob = mem
        .encrypt(
            rng,
            now,
            &EncryptRequest {
                key_id: k.clone(),
                plaintext: Secret::from_slice(b"from memory"),
                encryption_context: ctx(&[("a", "b")]),
                ..Default::default()
            },
        )
        .unwrap()
        .ciphertext_blob;
    let k2 = mem
        .create_key(rng, now, &CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id;

    let path = f.dir.path().join("from-mem.db");
    let back =
        Keystore::import_sealed(&path, &mem.export_sealed().unwrap(), root_source(&ROOT)).unwrap();
    assert_eq!(decrypt(&back, &mem_blob).unwrap(), b"from memory");
    back.describe_key(&k2).unwrap();
}

#[test]
fn passphrase_keystores_carry_their_kdf_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let pass = || RootKeySource::Passphrase(Secret::from_slice(b"correct horse battery staple"));
    let ks = Keystore::create(dir.path().join("p.db"), pass(), CreateOptions::default()).unwrap();
    let k = new_key(&ks).key_id;
    let blob = encrypt(&ks, &k, b"pp");
    let bytes = ks.export_sealed().unwrap();
    let back = Keystore::import_sealed(dir.path().join("q.db"), &bytes, pass()).unwrap();
    assert_eq!(decrypt(&back, &blob).unwrap(), b"pp");
}

#[test]
fn empty_passphrases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = || RootKeySource::Passphrase(Secret::from_slice(b""));
    let path = dir.path().join("e.db");
    let err = Keystore::create(&path, empty(), CreateOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValidationException);
    assert!(
        !path.exists(),
        "a keystore was created under an empty passphrase"
    );

    let pass = || RootKeySource::Passphrase(Secret::from_slice(b"correct horse battery staple"));
    let good = dir.path().join("p.db");
    let ks = Keystore::create(&good, pass(), CreateOptions::default()).unwrap();
    let bytes = ks.export_sealed().unwrap();
    drop(ks);
    let err = Keystore::open(&good, empty()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValidationException);
    let err = Keystore::import_sealed(dir.path().join("q.db"), &bytes, empty()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValidationException);
}

/// A keystore with a granted key (Encrypt/Decrypt for `APP`), a tagged key
/// with rotation enabled and a key pending deletion. Returns the fixture,
/// the granted key and its grant token.
fn keystore_with_grants() -> (Fixture, String, String) {
    let mut f = fixture();
    // An administrator that is not the account root, so that the default key
    // policy does not already allow `APP`: only the grant does.
    let path = f.dir.path().join("granted.db");
    f.ks = Keystore::create(
        &path,
        root_source(&ROOT),
        CreateOptions {
            admin_principal: Some(ADMIN.into()),
            ..CreateOptions::default()
        },
    )
    .unwrap()
    .with_clock(f.clock.clone());
    f.path = path;
    let k = new_key(&f.ks).key_id;
    let doomed = new_key(&f.ks).key_id;
    f.ks.tag_resource(
        &k,
        &[Tag {
            tag_key: "team".into(),
            tag_value: "vault".into(),
        }],
    )
    .unwrap();
    f.ks.enable_key_rotation(&k, Some(90)).unwrap();
    f.ks.schedule_key_deletion(&doomed, Some(7)).unwrap();
    f.ks.create_alias("alias/granted", &k).unwrap();
    let token =
        f.ks.create_grant(&CreateGrantRequest {
            key_id: k.clone(),
            grantee_principal: APP.into(),
            operations: vec![GrantOperation::Encrypt, GrantOperation::Decrypt],
            name: Some("backup-test".into()),
            ..Default::default()
        })
        .unwrap()
        .grant_token;
    (f, k, token)
}

fn app_encrypt(ks: &Keystore, key: &str, token: &str) -> strongroom::Result<Vec<u8>> {
    ks.as_principal(APP)
        .encrypt(&EncryptRequest {
            key_id: key.into(),
            plaintext: Secret::from_slice(b"granted"),
            encryption_context: ctx(&[("a", "b")]),
            grant_tokens: vec![token.into()],
            ..Default::default()
        })
        .map(|r| r.ciphertext_blob)
}

fn app_decrypt(ks: &Keystore, blob: &[u8], token: &str) -> strongroom::Result<Vec<u8>> {
    ks.as_principal(APP)
        .decrypt(&DecryptRequest {
            ciphertext_blob: blob.to_vec(),
            encryption_context: ctx(&[("a", "b")]),
            grant_tokens: vec![token.into()],
            ..Default::default()
        })
        .map(|r| r.plaintext.expose_secret().to_vec())
}

fn list_grants(ks: &Keystore, key: &str) -> ListGrantsResponse {
    ks.list_grants(&ListGrantsRequest {
        key_id: key.into(),
        ..Default::default()
    })
    .unwrap()
}

/// Everything a restored keystore must keep about a key, as the API shows it.
fn key_state(ks: &Keystore, key: &str) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        ks.describe_key(key).unwrap().key_metadata,
        ks.get_key_policy(key, None).unwrap(),
        ks.list_resource_tags(key, None, None).unwrap(),
        ks.get_key_rotation_status(key).unwrap(),
        list_grants(ks, key),
    )
}

#[test]
fn grants_and_key_state_survive_export_and_import() {
    let (f, k, token) = keystore_with_grants();
    let doomed =
        f.ks.list_keys(None, None)
            .unwrap()
            .keys
            .into_iter()
            .map(|e| e.key_id)
            .find(|id| *id != k)
            .unwrap();
    let blob = app_encrypt(&f.ks, &k, &token).unwrap();
    let bytes = f.ks.export_sealed().unwrap();
    assert_eq!(bytes[4], 3, "exports are written in format version 3");

    let path = f.dir.path().join("restored.db");
    let restored = Keystore::import_sealed(&path, &bytes, root_source(&ROOT))
        .unwrap()
        .with_clock(f.clock.clone());
    // The grant still authorizes its grantee, through the same token.
    assert_eq!(app_decrypt(&restored, &blob, &token).unwrap(), b"granted");
    app_encrypt(&restored, &k, &token).unwrap();
    // ... and only its grantee.
    let other = restored.as_principal(OTHER).decrypt(&DecryptRequest {
        ciphertext_blob: blob.clone(),
        encryption_context: ctx(&[("a", "b")]),
        grant_tokens: vec![token.clone()],
        ..Default::default()
    });
    assert_eq!(other.unwrap_err().kind(), ErrorKind::AccessDeniedException);
    assert_eq!(list_grants(&restored, &k), list_grants(&f.ks, &k));
    assert_eq!(list_grants(&restored, &k).grants.len(), 1);
    for key in [&k, &doomed] {
        assert_eq!(key_state(&restored, key), key_state(&f.ks, key));
    }
    assert_eq!(
        restored
            .describe_key(&doomed)
            .unwrap()
            .key_metadata
            .key_state,
        KeyState::PendingDeletion
    );
    // The digest covers the imported grant rows: the copy opens cleanly,
    // and exports the same bytes.
    let reopened = Keystore::open(&path, root_source(&ROOT)).unwrap();
    assert_eq!(reopened.export_sealed().unwrap(), bytes);
}

#[test]
fn every_altered_byte_of_an_export_is_rejected() {
    let (f, _, _) = keystore_with_grants();
    let bytes = f.ks.export_sealed().unwrap();
    let path = f.dir.path().join("t.db");
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x01;
        assert!(
            Keystore::import_sealed(&path, &t, root_source(&ROOT)).is_err(),
            "byte {i} altered was accepted"
        );
        assert!(!path.exists(), "a rejected import left a file behind");
    }
    // Dropping the grant section (a version 1 body under a version 3 header)
    // or any trailing byte is rejected too.
    for cut in 1..=40 {
        let t = &bytes[..bytes.len() - cut];
        assert_eq!(
            Keystore::import_sealed(&path, t, root_source(&ROOT))
                .unwrap_err()
                .kind(),
            ErrorKind::KMSInternalException,
            "cut {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Keystore::import_sealed(&path, &longer, root_source(&ROOT))
            .unwrap_err()
            .kind(),
        ErrorKind::KMSInternalException
    );
}

/// `fixture/export-v1.bin` was written by the version 1 writer (before
/// grants were exported) from a keystore under [`ROOT`] with one key, the
/// alias `alias/v1-fixture` and `fixture/export-v1.blob` encrypted under it
/// with context `{"a":"b"}`.
#[test]
fn version_1_exports_still_import() {
    let v1 = include_bytes!("fixture/export-v1.bin");
    let blob = include_bytes!("fixture/export-v1.blob");
    assert_eq!(&v1[..5], b"SRKX\x01");
    let dir = tempfile::tempdir().unwrap();
    let restored =
        Keystore::import_sealed(dir.path().join("v1.db"), v1, root_source(&ROOT)).unwrap();
    assert_eq!(decrypt(&restored, blob).unwrap(), b"v1 fixture payload");
    let k = restored
        .describe_key("alias/v1-fixture")
        .unwrap()
        .key_metadata
        .key_id;
    assert!(list_grants(&restored, &k).grants.is_empty());
    // Its records travel unchanged into a version 3 export.
    let v2 = restored.export_sealed().unwrap();
    assert_eq!(v2[4], 3);
    let again = Keystore::import_sealed(dir.path().join("v2.db"), &v2, root_source(&ROOT)).unwrap();
    assert_eq!(decrypt(&again, blob).unwrap(), b"v1 fixture payload");
    // The in-memory keystore reads it as well.
    let root = RootKey::from_bytes(&ROOT).unwrap();
    let mut mem = MemKeystore::import_sealed(v1, root).unwrap();
    let out = mem
        .decrypt(
            &mut strongroom::os_rng(),
            T0 + 10,
            &DecryptRequest {
                ciphertext_blob: blob.to_vec(),
                encryption_context: ctx(&[("a", "b")]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(out.plaintext.expose_secret(), b"v1 fixture payload");
    // A version 1 export altered in any byte is still rejected.
    for i in 0..v1.len() {
        let mut t = v1.to_vec();
        t[i] ^= 0x01;
        assert!(
            Keystore::import_sealed(dir.path().join("bad.db"), &t, root_source(&ROOT)).is_err(),
            "byte {i} altered was accepted"
        );
    }
}

#[test]
fn grants_pass_through_the_in_memory_keystore() {
    let (f, k, token) = keystore_with_grants();
    let blob = app_encrypt(&f.ks, &k, &token).unwrap();
    let root = RootKey::from_bytes(&ROOT).unwrap();
    let mut mem = MemKeystore::import_sealed(&f.ks.export_sealed().unwrap(), root).unwrap();
    // A change in memory, then back to a native keystore.
    mem.create_key(
        &mut strongroom::os_rng(),
        T0 + 10,
        &CreateKeyRequest::default(),
    )
    .unwrap();
    let path = f.dir.path().join("via-mem.db");
    let back =
        Keystore::import_sealed(&path, &mem.export_sealed().unwrap(), root_source(&ROOT)).unwrap();
    assert_eq!(app_decrypt(&back, &blob, &token).unwrap(), b"granted");
    assert_eq!(list_grants(&back, &k), list_grants(&f.ks, &k));
}

#[test]
fn the_configuration_survives_the_in_memory_keystore() {
    let (f, _, _) = keystore_with_grants();
    let root = RootKey::from_bytes(&ROOT).unwrap();
    let mem = MemKeystore::import_sealed(&f.ks.export_sealed().unwrap(), root).unwrap();
    let path = f.dir.path().join("config-via-mem.db");
    let back =
        Keystore::import_sealed(&path, &mem.export_sealed().unwrap(), root_source(&ROOT)).unwrap();
    // The administrator named at creation, not the account root.
    assert_eq!(back.admin_principal(), ADMIN);
    assert_eq!(back.region(), f.ks.region());
    assert_eq!(back.account(), f.ks.account());
}
