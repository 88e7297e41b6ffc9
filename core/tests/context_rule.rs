//! One rule for an empty encryption-context key, whatever way the context
//! was built (`from_pairs`, as the C, Python and wasm bindings do; the map
//! itself, as JSON and serde do; `decode`): encryption refuses it with
//! `ValidationException`, decryption of a ciphertext bound to it (written
//! before the rule) still succeeds.

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::collections::BTreeMap;

use strongroom_core::api::*;
use strongroom_core::blob;
use strongroom_core::envelope::{self, DecryptOptions, EncryptOptions, RawAesKeyring};
use strongroom_core::key::{KeySpec, KeyUsage};
use strongroom_core::ops;
use strongroom_core::{EncryptionContext, ErrorKind, Secret};

#[path = "support/ops_env.rs"]
mod ops_env;
use ops_env::{create_key, env, rng};

fn empty_key_contexts() -> [EncryptionContext; 3] {
    let pairs = EncryptionContext::from_pairs([("", "x"), ("k", "v")]).unwrap();
    let map = EncryptionContext(BTreeMap::from([
        (String::new(), "x".to_string()),
        ("k".to_string(), "v".to_string()),
    ]));
    let decoded = EncryptionContext::decode(&map.encode().unwrap()).unwrap();
    [pairs, map, decoded]
}

#[test]
fn every_spelling_builds_the_same_context() {
    let [a, b, c] = empty_key_contexts();
    assert_eq!(a, b);
    assert_eq!(b, c);
}

#[test]
fn kms_encryption_refuses_an_empty_key_and_decryption_accepts_it() {
    let rec = create_key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt, None).unwrap();
    for ctx in empty_key_contexts() {
        let req = EncryptRequest {
            key_id: rec.key_id.clone(),
            plaintext: Secret::from_slice(b"pt"),
            encryption_context: ctx.clone(),
            ..Default::default()
        };
        let e = ops::encrypt(&env(), &mut rng(), &rec, &req).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
        let gdk = GenerateDataKeyRequest {
            key_id: rec.key_id.clone(),
            number_of_bytes: Some(32),
            encryption_context: ctx.clone(),
            ..Default::default()
        };
        let e = ops::generate_data_key(&env(), &mut rng(), &rec, &gdk).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");

        // A blob bound to the context, as an older version wrote it through
        // the endpoint or the CLI's JSON form, still decrypts.
        let b = rec.current_backing_key().unwrap();
        let material = env()
            .root
            .unseal_material(&rec.key_id, b.version, &b.sealed)
            .unwrap();
        let mut id = [0u8; 16];
        id.copy_from_slice(uuid::Uuid::parse_str(&rec.key_id).unwrap().as_bytes());
        let legacy = blob::seal(&mut rng(), &id, b.version, &material, b"old", &ctx).unwrap();
        for other in empty_key_contexts() {
            let pt = ops::decrypt_symmetric(&env(), &rec, &legacy, &other).unwrap();
            assert_eq!(pt.expose_secret(), b"old");
        }
    }
}

#[test]
fn envelope_encryption_refuses_an_empty_key() {
    let keyring = RawAesKeyring::new("ns", "name", &[1u8; 32]).unwrap();
    for ctx in empty_key_contexts() {
        let e = envelope::encrypt(
            &keyring,
            &ctx,
            b"pt",
            &EncryptOptions::default(),
            &mut rng(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    }
    // Without the empty key the same call works and round-trips.
    let ok = EncryptionContext::from_pairs([("k", "v")]).unwrap();
    let msg =
        envelope::encrypt(&keyring, &ok, b"pt", &EncryptOptions::default(), &mut rng()).unwrap();
    let (pt, _) = envelope::decrypt(&keyring, &msg, DecryptOptions::default(), &mut rng()).unwrap();
    assert_eq!(pt, b"pt");
}
