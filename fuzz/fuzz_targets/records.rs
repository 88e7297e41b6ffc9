//! The stored-record reader (`record::FromJson`): arbitrary bytes as the
//! body of a key, alias, grant and configuration record of a real sealed
//! export, re-tagged with its root key, never panic and fail only with
//! KMSInternalException; a body that is read is one serde's reading of the
//! record type reads too (the configuration: as the same value).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom_core::api::{CreateGrantRequest, CreateKeyRequest, Tag};
use strongroom_core::export::{KeystoreConfig, SealedExport};
use strongroom_core::grant::{Grant, GrantOperation};
use strongroom_core::key::{AliasRecord, KeyRecord};
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::ErrorKind;

fn root() -> &'static RootKey {
    static R: OnceLock<RootKey> = OnceLock::new();
    R.get_or_init(|| RootKey::from_bytes(&[9; 32]).expect("a root key"))
}

/// A keystore with a key (description, tags, rotation on, two backing
/// keys), an alias and a grant, decoded from its sealed export.
fn export() -> &'static SealedExport {
    static E: OnceLock<SealedExport> = OnceLock::new();
    E.get_or_init(|| {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let now = 1_800_000_000;
        let mut ks = MemKeystore::new(root().clone(), "local-1", "000000000000", now, &mut rng)
            .expect("a keystore");
        let request = CreateKeyRequest {
            description: Some("records".into()),
            tags: vec![Tag {
                tag_key: "team".into(),
                tag_value: "fuzz".into(),
            }],
            ..Default::default()
        };
        let key = ks
            .create_key(&mut rng, now, &request)
            .expect("a key")
            .key_metadata
            .key_id;
        ks.enable_key_rotation(&mut rng, now, &key, Some(180))
            .expect("rotation on");
        ks.rotate_key_on_demand(&mut rng, now, &key)
            .expect("a rotation");
        ks.create_alias(&mut rng, now, "alias/records", &key)
            .expect("an alias");
        let grant = CreateGrantRequest {
            key_id: key,
            grantee_principal: "arn:aws:iam::000000000000:role/fuzz".into(),
            operations: vec![GrantOperation::Decrypt],
            name: Some("records".into()),
            ..Default::default()
        };
        ks.create_grant(&mut rng, now, &grant).expect("a grant");
        SealedExport::decode(&ks.export_sealed().expect("an export"), root()).expect("decoded")
    })
}

/// `data` as the body of the first row of `kind`: whether the export
/// still decodes (after a new record tag and export MAC).
fn decodes_with(kind: &[u8], data: &[u8]) -> bool {
    let root = root();
    let mut e = export().clone();
    let row = match kind {
        b"key" => &mut e.keys[0],
        b"alias" => &mut e.aliases[0],
        _ => &mut e.grants[0],
    };
    row.body = data.to_vec();
    row.tag = root
        .mac_export_record(kind, row.id.as_bytes(), data)
        .expect("a tag")
        .to_vec();
    let Ok(bytes) = e.encode(root) else {
        return false; // longer than its length prefix
    };
    match SealedExport::decode(&bytes, root) {
        Ok(_) => true,
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::KMSInternalException, "{err}");
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut e = export().clone();
    e.config_body = data.to_vec();
    match e.config() {
        Ok(c) => assert_eq!(serde_json::from_slice::<KeystoreConfig>(data).ok(), Some(c)),
        Err(err) => assert_eq!(err.kind(), ErrorKind::KMSInternalException, "{err}"),
    }
    if decodes_with(b"key", data) {
        assert!(serde_json::from_slice::<KeyRecord>(data).is_ok());
    }
    if decodes_with(b"alias", data) {
        assert!(serde_json::from_slice::<AliasRecord>(data).is_ok());
    }
    if decodes_with(b"grant", data) {
        assert!(serde_json::from_slice::<Grant>(data).is_ok());
    }
});
