//! Every way a symmetric decryption can fail — wrong context, wrong key, any
//! flipped bit, any truncation — is one detail-free InvalidCiphertextException;
//! disabled and pending-deletion keys refuse every cryptographic operation.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::collections::BTreeSet;

use fixture::*;
use proptest::prelude::*;
use strongroom::api::*;
use strongroom::core::blob;
use strongroom::{EncryptionContext, Error, ErrorKind, Keystore, Secret};

/// Decrypts and asserts the one InvalidCiphertextException, returning its message.
#[track_caller]
fn refused(ks: &Keystore, blob: &[u8], c: &EncryptionContext) -> String {
    let e = expect_err(
        try_decrypt(ks, blob, c, None),
        ErrorKind::InvalidCiphertextException,
    );
    e.message().to_string()
}

fn canonical_message() -> String {
    Error::invalid_ciphertext().message().to_string()
}

#[test]
fn context_must_match_exactly() {
    let f = fixture();
    let k = new_key(&f.ks);
    let c = ctx(&[("ab", "c")]);
    let b = encrypt(&f.ks, &k.key_id, b"secret", &c);
    assert_eq!(decrypt(&f.ks, &b, &c), b"secret");
    let mut messages = BTreeSet::new();
    for wrong in [
        ctx(&[("a", "bc")]),
        ctx(&[("abc", "")]),
        ctx(&[("ab", "C")]),
        ctx(&[("AB", "c")]),
        ctx(&[("ab", "c ")]),
        ctx(&[("ab", "c"), ("x", "y")]),
        ctx(&[]),
    ] {
        messages.insert(refused(&f.ks, &b, &wrong));
    }
    // And the other way round: a blob with no context needs none.
    let b0 = encrypt(&f.ks, &k.key_id, b"secret", &ctx(&[]));
    messages.insert(refused(&f.ks, &b0, &c));
    // Order of insertion does not matter; pairs are sorted.
    let c2 = ctx(&[("z", "1"), ("a", "2")]);
    let b2 = encrypt(&f.ks, &k.key_id, b"sorted", &c2);
    assert_eq!(
        decrypt(&f.ks, &b2, &ctx(&[("a", "2"), ("z", "1")])),
        b"sorted"
    );
    messages.insert(refused(&f.ks, &b2, &ctx(&[("a", "1"), ("z", "2")])));
    assert_eq!(messages, BTreeSet::from([canonical_message()]));
}

#[test]
fn wrong_key() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    let c = ctx(&[("k", "v")]);
    let blob_a = encrypt(&f.ks, &a.key_id, b"for A only", &c);

    // A KeyId that is not the blob's key: IncorrectKeyException.
    expect_err(
        try_decrypt(&f.ks, &blob_a, &c, Some(&b.key_id)),
        ErrorKind::IncorrectKeyException,
    );
    assert_eq!(
        try_decrypt(&f.ks, &blob_a, &c, Some(&a.key_id))
            .unwrap()
            .plaintext
            .expose_secret(),
        b"for A only"
    );

    // The blob's key ID bytes rewritten to name key B: B cannot open it.
    let b_uuid = blob::parse_header(&encrypt(&f.ks, &b.key_id, b"x", &c))
        .unwrap()
        .key_id;
    let mut moved = blob_a.clone();
    moved[1..17].copy_from_slice(&b_uuid);
    assert_eq!(
        blob::parse_header(&moved).unwrap().key_id_string(),
        b.key_id
    );
    let m1 = refused(&f.ks, &moved, &c);
    // ... even when the caller names B as the expected key.
    let e = expect_err(
        try_decrypt(&f.ks, &moved, &c, Some(&b.key_id)),
        ErrorKind::InvalidCiphertextException,
    );
    // Rewritten to a key that does not exist.
    let mut ghost = blob_a.clone();
    ghost[1..17].copy_from_slice(&[0x42; 16]);
    let m2 = refused(&f.ks, &ghost, &c);
    // A backing-key version the key does not have.
    let mut future = blob_a.clone();
    future[17..21].copy_from_slice(&2u32.to_be_bytes());
    let m3 = refused(&f.ks, &future, &c);
    // The same blob bytes under another keystore whose key happens to be absent.
    let other = fixture_with_root(&[9u8; 32]);
    let m4 = refused(&other.ks, &blob_a, &c);
    for m in [m1, e.message().to_string(), m2, m3, m4] {
        assert_eq!(m, canonical_message());
    }
}

#[test]
fn every_bit_flip_and_every_truncation_is_the_same_error() {
    let f = fixture();
    let k = new_key(&f.ks);
    // A second backing key, so that a version flip can land on a real version.
    f.ks.rotate_key_on_demand(&k.key_id).unwrap();
    let c = ctx(&[("tenant", "alpha"), ("purpose", "flip")]);
    let pt = b"thirty-two bytes of plaintext!!!";
    let good = encrypt(&f.ks, &k.key_id, pt, &c);
    assert_eq!(good.len(), blob::OVERHEAD + pt.len());
    assert_eq!(decrypt(&f.ks, &good, &c), pt);

    let mut messages = BTreeSet::new();
    let mut attempts = 0;
    for i in 0..good.len() {
        for mask in [1u8, 2, 4, 8, 16, 32, 64, 128, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= mask;
            messages.insert(refused(&f.ks, &bad, &c));
            attempts += 1;
        }
    }
    assert_eq!(attempts, good.len() * 9);
    for len in 1..good.len() {
        messages.insert(refused(&f.ks, &good[..len], &c));
    }
    // An empty blob breaks KMS's length constraint (1 to 6144 bytes).
    let e = expect_err(
        try_decrypt(&f.ks, &[], &c, None),
        ErrorKind::ValidationException,
    );
    assert!(e.message().contains("CiphertextBlob"), "{e}");
    // Extension is no better than truncation.
    let mut longer = good.clone();
    longer.push(0);
    messages.insert(refused(&f.ks, &longer, &c));
    assert_eq!(messages, BTreeSet::from([canonical_message()]));

    // The original is untouched by all of that.
    assert_eq!(decrypt(&f.ks, &good, &c), pt);
}

#[test]
fn bit_flips_are_refused_by_re_encrypt_too() {
    let f = fixture();
    let k = new_key(&f.ks);
    let good = encrypt(&f.ks, &k.key_id, b"re-encrypt me", &ctx(&[]));
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x80;
        let e = expect_err(
            f.ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: bad,
                destination_key_id: k.key_id.clone(),
                ..Default::default()
            }),
            ErrorKind::InvalidCiphertextException,
        );
        assert_eq!(e.message(), canonical_message());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Arbitrary bytes, or a real header followed by arbitrary bytes, never
    /// decrypt and never panic.
    #[test]
    fn arbitrary_blobs_are_refused(
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        keep_header in any::<bool>(),
    ) {
        thread_local! {
            static F: (Fixture, Vec<u8>) = {
                let f = fixture();
                let k = new_key(&f.ks);
                let b = encrypt(&f.ks, &k.key_id, b"header donor", &ctx(&[]));
                (f, b)
            };
        }
        F.with(|(f, donor)| {
            let mut b = if keep_header { donor[..blob::HEADER_LEN].to_vec() } else { Vec::new() };
            b.extend_from_slice(&tail);
            let e = try_decrypt(&f.ks, &b, &ctx(&[]), None).unwrap_err();
            if b.is_empty() {
                // KMS's length constraint, before any lookup.
                assert_eq!(e.kind(), ErrorKind::ValidationException);
            } else {
                assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
                assert_eq!(e.message(), canonical_message());
            }
        });
    }
}

fn crypto_results(ks: &Keystore, key: &str, old_blob: &[u8]) -> Vec<(&'static str, Error)> {
    let c = ctx(&[]);
    let other = new_key(ks);
    let other_blob = encrypt(ks, &other.key_id, b"from another key", &c);
    let mut out = vec![
        ("Encrypt", try_encrypt(ks, key, b"x").unwrap_err()),
        ("Decrypt", try_decrypt(ks, old_blob, &c, None).unwrap_err()),
        (
            "Decrypt with KeyId",
            try_decrypt(ks, old_blob, &c, Some(key)).unwrap_err(),
        ),
        ("GenerateDataKey", gdk(ks, key).unwrap_err()),
        (
            "GenerateDataKeyWithoutPlaintext",
            ks.generate_data_key_without_plaintext(&GenerateDataKeyRequest {
                key_id: key.to_string(),
                number_of_bytes: Some(16),
                ..Default::default()
            })
            .unwrap_err(),
        ),
        (
            "ReEncrypt from",
            ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: old_blob.to_vec(),
                destination_key_id: other.key_id.clone(),
                ..Default::default()
            })
            .unwrap_err(),
        ),
        (
            "ReEncrypt to",
            ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: other_blob,
                destination_key_id: key.to_string(),
                ..Default::default()
            })
            .unwrap_err(),
        ),
    ];
    // Rotation is refused in both states as well; RotateKeyOnDemand takes
    // a key ID or key ARN only, as in KMS, so an alias is NotFoundException.
    let rotate = ks.rotate_key_on_demand(key).unwrap_err();
    if key.starts_with("alias/") {
        assert_eq!(rotate.kind(), ErrorKind::NotFoundException, "{rotate}");
    } else {
        out.push(("RotateKeyOnDemand", rotate));
    }
    out
}

#[test]
fn disabled_and_pending_deletion_keys_refuse() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/refusing", &k.key_id).unwrap();
    let c = ctx(&[]);
    let old = encrypt(&f.ks, &k.key_id, b"made while enabled", &c);

    f.ks.disable_key(&k.key_id).unwrap();
    for ident in [k.key_id.as_str(), "alias/refusing"] {
        for (op, e) in crypto_results(&f.ks, ident, &old) {
            assert_eq!(
                e.kind(),
                ErrorKind::DisabledException,
                "{op} on a disabled key: {e}"
            );
        }
    }
    // Management operations still work on a disabled key.
    f.ks.update_key_description(&k.key_id, "disabled").unwrap();

    f.ks.schedule_key_deletion(&k.key_id, Some(7)).unwrap();
    for ident in [k.key_id.as_str(), "alias/refusing"] {
        for (op, e) in crypto_results(&f.ks, ident, &old) {
            assert_eq!(
                e.kind(),
                ErrorKind::KMSInvalidStateException,
                "{op} on a key pending deletion: {e}"
            );
        }
    }
    expect_err(
        f.ks.enable_key(&k.key_id),
        ErrorKind::KMSInvalidStateException,
    );
    expect_err(
        f.ks.disable_key(&k.key_id),
        ErrorKind::KMSInvalidStateException,
    );

    // Cancel: Disabled, still refusing with DisabledException.
    f.ks.cancel_key_deletion(&k.key_id).unwrap();
    for (op, e) in crypto_results(&f.ks, &k.key_id, &old) {
        assert_eq!(
            e.kind(),
            ErrorKind::DisabledException,
            "{op} after cancel: {e}"
        );
    }
    // Enable: the old blob decrypts again and new work succeeds.
    f.ks.enable_key(&k.key_id).unwrap();
    assert_eq!(decrypt(&f.ks, &old, &c), b"made while enabled");
    let fresh =
        f.ks.encrypt(&EncryptRequest {
            key_id: "alias/refusing".into(),
            plaintext: Secret::from_slice(b"again"),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(decrypt(&f.ks, &fresh.ciphertext_blob, &c), b"again");
    gdk(&f.ks, &k.key_id).unwrap();
}
