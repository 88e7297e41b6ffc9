//! The in-memory keystore and the sealed keystore export.
#![allow(clippy::unwrap_used)]

use rand_core::UnwrapErr;
use strongroom_core::api::*;
use strongroom_core::export::SealedExport;
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::{EncryptionContext, ErrorKind, Secret};

type Rng = UnwrapErr<getrandom::SysRng>;

fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

fn root(b: u8) -> RootKey {
    RootKey::from_bytes(&[b; 32]).unwrap()
}

const NOW: u64 = 1_800_000_000;

fn store() -> MemKeystore {
    MemKeystore::new(root(7), "local-1", "000000000000", NOW, &mut rng()).unwrap()
}

fn new_key(ks: &mut MemKeystore) -> String {
    ks.create_key(&mut rng(), NOW, &CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id
}

fn encrypt(ks: &mut MemKeystore, key: &str, pt: &[u8], ctx: &EncryptionContext) -> Vec<u8> {
    ks.encrypt(
        &mut rng(),
        NOW,
        &EncryptRequest {
            key_id: key.into(),
            plaintext: Secret::from_slice(pt),
            encryption_context: ctx.clone(),
            ..Default::default()
        },
    )
    .unwrap()
    .ciphertext_blob
}

fn decrypt(
    ks: &mut MemKeystore,
    blob: &[u8],
    ctx: &EncryptionContext,
) -> strongroom_core::Result<Vec<u8>> {
    ks.decrypt(
        &mut rng(),
        NOW,
        &DecryptRequest {
            ciphertext_blob: blob.to_vec(),
            encryption_context: ctx.clone(),
            ..Default::default()
        },
    )
    .map(|r| r.plaintext.expose_secret().to_vec())
}

#[test]
fn operations_round_trip() {
    let mut ks = store();
    let r = &mut rng();
    let k = new_key(&mut ks);
    let ctx = EncryptionContext::from_pairs([("purpose", "test")]).unwrap();
    let blob = encrypt(&mut ks, &k, b"hello", &ctx);
    assert_eq!(decrypt(&mut ks, &blob, &ctx).unwrap(), b"hello");
    assert_eq!(
        decrypt(&mut ks, &blob, &EncryptionContext::new())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCiphertextException
    );

    ks.create_alias(r, NOW, "alias/app", &k).unwrap();
    let d = ks.describe_key(r, NOW, "alias/app").unwrap();
    assert_eq!(d.key_metadata.key_id, k);
    assert_eq!(
        ks.create_alias(r, NOW, "alias/app", &k).unwrap_err().kind(),
        ErrorKind::AlreadyExistsException
    );
    ks.disable_key(r, NOW, &k).unwrap();
    assert_eq!(
        decrypt(&mut ks, &blob, &ctx).unwrap_err().kind(),
        ErrorKind::DisabledException
    );
    ks.enable_key(r, NOW, &k).unwrap();
    ks.rotate_key_on_demand(r, NOW, &k).unwrap();
    assert_eq!(decrypt(&mut ks, &blob, &ctx).unwrap(), b"hello");
    let rot = ks.list_key_rotations(r, NOW, &k, None, None).unwrap();
    assert_eq!(rot.rotations.len(), 1);

    let k2 = new_key(&mut ks);
    let re = ks
        .re_encrypt(
            r,
            NOW,
            &ReEncryptRequest {
                ciphertext_blob: blob.clone(),
                source_encryption_context: ctx.clone(),
                destination_key_id: k2.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        decrypt(&mut ks, &re.ciphertext_blob, &EncryptionContext::new()).unwrap(),
        b"hello"
    );

    let page = ks.list_keys(NOW, Some(1), None).unwrap();
    assert!(page.truncated);
    let page2 = ks
        .list_keys(NOW, Some(1), page.next_marker.as_deref())
        .unwrap();
    assert!(!page2.truncated);
    assert_ne!(page.keys[0].key_id, page2.keys[0].key_id);

    ks.schedule_key_deletion(r, NOW, &k, Some(7)).unwrap();
    // After the window the key is purged with its alias.
    let later = NOW + 8 * 86_400;
    assert_eq!(
        ks.describe_key(r, later, &k).unwrap_err().kind(),
        ErrorKind::NotFoundException
    );
    assert!(ks
        .list_aliases(r, later, None, None, None)
        .unwrap()
        .aliases
        .is_empty());
}

#[test]
fn export_import_round_trip() {
    let mut ks = store();
    let k = new_key(&mut ks);
    ks.create_alias(&mut rng(), NOW, "alias/x", &k).unwrap();
    let blob = encrypt(&mut ks, &k, b"secret", &EncryptionContext::new());
    let bytes = ks.export_sealed().unwrap();
    let mut back = MemKeystore::import_sealed(&bytes, root(7)).unwrap();
    assert_eq!(back.keystore_id(), ks.keystore_id());
    assert_eq!(
        decrypt(&mut back, &blob, &EncryptionContext::new()).unwrap(),
        b"secret"
    );
    assert_eq!(back.export_sealed().unwrap(), bytes);
    assert!(!bytes.windows(6).any(|w| w == b"secret"));
}

#[test]
fn export_rejects_every_altered_byte_and_wrong_root() {
    let mut ks = store();
    let k = new_key(&mut ks);
    ks.create_alias(&mut rng(), NOW, "alias/x", &k).unwrap();
    let bytes = ks.export_sealed().unwrap();
    for i in 0..bytes.len() {
        let mut t = bytes.clone();
        t[i] ^= 0x01;
        assert!(
            MemKeystore::import_sealed(&t, root(7)).is_err(),
            "byte {i} flipped was accepted"
        );
    }
    for n in 0..bytes.len() {
        assert!(MemKeystore::import_sealed(&bytes[..n], root(7)).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(MemKeystore::import_sealed(&longer, root(7)).is_err());
    assert_eq!(
        MemKeystore::import_sealed(&bytes, root(8))
            .unwrap_err()
            .kind(),
        ErrorKind::AccessDeniedException
    );
    assert_eq!(
        MemKeystore::import_sealed(b"not an export at all, nope, nope", root(7))
            .unwrap_err()
            .kind(),
        ErrorKind::ValidationException
    );
}

#[test]
fn export_layout_starts_with_magic_and_version() {
    let ks = store();
    let bytes = ks.export_sealed().unwrap();
    assert_eq!(&bytes[..5], b"SRKX\x01");
    let parsed = SealedExport::decode(&bytes, &root(7)).unwrap();
    assert!(parsed.keys.is_empty());
    assert_eq!(parsed.keystore_id, ks.keystore_id());
}
