//! Sealed keystore export and import: round trip, byte-for-byte records,
//! tampering and wrong root keys rejected, interchange with the in-memory
//! keystore of strongroom-core (what the WebAssembly package runs).
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use strongroom::api::*;
use strongroom::core::memstore::MemKeystore;
use strongroom::core::seal::RootKey;
use strongroom::{CreateOptions, ErrorKind, Keystore, RootKeySource, Secret};

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
