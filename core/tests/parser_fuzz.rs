//! Fuzzing and exhaustive tamper tests of the core's parsers of untrusted
//! or stored bytes that no other test binary fuzzes (`docs/TESTING.md` has
//! the inventory): the ciphertext blob, sealed key material, import tokens
//! and wrapped key material, the sealed keystore export, grant tokens, the
//! audit checkpoint, key identifiers and ARNs, grant operation names,
//! pagination markers and base64.
//!
//! Two kinds of property:
//! - arbitrary bytes or strings never panic and fail only with the
//!   documented KMS exception;
//! - structure-aware: a real, valid encoding mutated (bit flips, byte
//!   overwrites, truncation, appended bytes) either fails with the
//!   documented exception or — only when the mutation changed nothing that
//!   matters — parses to the same value.
//!
//! The exhaustive tamper tests flip every bit (or every byte with several
//! XOR masks) of a real object and check the exact exception and that
//! nothing was changed. Raise the proptest case counts with e.g.
//! `PROPTEST_CASES=20000 cargo test -p strongroom-core --test parser_fuzz`.
#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;
use strongroom_core::api::*;
use strongroom_core::asym;
use strongroom_core::audit::Checkpoint;
use strongroom_core::b64;
use strongroom_core::blob;
use strongroom_core::crypto::keywrap::aes_key_wrap_with_padding;
use strongroom_core::crypto::rsa::{rsa_oaep_encrypt, OaepHash};
use strongroom_core::export::{KeystoreConfig, SealedExport};
use strongroom_core::grant::{
    grant_id_from_token, grant_token, Grant, GrantConstraints, GrantOperation,
};
use strongroom_core::key::*;
use strongroom_core::memstore::MemKeystore;
use strongroom_core::paging;
use strongroom_core::seal::RootKey;
use strongroom_core::{EncryptionContext, ErrorKind, Secret};

#[path = "support/ops_env.rs"]
mod ops_env;
use ops_env::{env, rng};

#[path = "support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

// ---- shared mutation strategy ----------------------------------------------

/// One edit of a valid encoding.
#[derive(Clone, Debug)]
enum Edit {
    /// XOR the byte at `at % len` with a non-zero mask.
    Flip { at: usize, mask: u8 },
    /// Overwrite the byte at `at % len`.
    Set { at: usize, byte: u8 },
    /// Keep only the first `at % (len + 1)` bytes.
    Truncate { at: usize },
    /// Append bytes.
    Append { bytes: Vec<u8> },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Edit::Flip { at, mask }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set { at, byte }),
        1 => any::<usize>().prop_map(|at| Edit::Truncate { at }),
        1 => proptest::collection::vec(any::<u8>(), 1..8).prop_map(|bytes| Edit::Append { bytes }),
    ]
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec(edit(), 1..4)
}

fn apply(valid: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut m = valid.to_vec();
    for e in edits {
        match e {
            Edit::Flip { at, mask } if !m.is_empty() => {
                let i = at % m.len();
                m[i] ^= mask;
            }
            Edit::Set { at, byte } if !m.is_empty() => {
                let i = at % m.len();
                m[i] = *byte;
            }
            Edit::Truncate { at } => m.truncate(at % (m.len() + 1)),
            Edit::Append { bytes } => m.extend_from_slice(bytes),
            _ => {}
        }
    }
    m
}

/// Every single-bit flip of `valid`: `(byte index, mutated bytes)`.
fn every_bit_flip(valid: &[u8]) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..valid.len() * 8).map(move |bit| {
        let mut m = valid.to_vec();
        m[bit / 8] ^= 1 << (bit % 8);
        (bit / 8, m)
    })
}

// ---- fixtures ----------------------------------------------------------------

fn root() -> &'static RootKey {
    ops_env::root()
}

const KEY_ID: [u8; 16] = [0x11; 16];

fn context() -> EncryptionContext {
    EncryptionContext::from_pairs([("tenant", "acme"), ("purpose", "fuzz")]).unwrap()
}

fn backing() -> Secret {
    Secret::from_slice(&[0x42; 32])
}

/// A real ciphertext blob of a 40-byte plaintext.
fn sample_blob() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        blob::seal(&mut rng(), &KEY_ID, 3, &backing(), &[0x5a; 40], &context()).unwrap()
    })
}

/// An EXTERNAL SYMMETRIC_DEFAULT key with no material, the import
/// parameters for it (RSA_2048 wrapping key) and 32 bytes of material
/// wrapped with each wrapping algorithm.
struct Import {
    rec: KeyRecord,
    material: Vec<u8>,
    /// `(algorithm, import token, wrapped material)`.
    wrapped: Vec<(WrappingAlgorithm, Vec<u8>, Vec<u8>)>,
}

fn import() -> &'static Import {
    static I: OnceLock<Import> = OnceLock::new();
    I.get_or_init(|| {
        let rec = ops_env::create_key(
            KeySpec::SymmetricDefault,
            KeyUsage::EncryptDecrypt,
            Some(Origin::External),
        )
        .unwrap();
        let material = vec![0x33; 32];
        let mut wrapped = Vec::new();
        for alg in [
            WrappingAlgorithm::RsaesOaepSha256,
            WrappingAlgorithm::RsaAesKeyWrapSha256,
        ] {
            let p = asym::get_parameters_for_import(
                &env(),
                &mut rng(),
                &rec,
                &GetParametersForImportRequest {
                    key_id: rec.key_id.clone(),
                    wrapping_algorithm: Some(alg),
                    wrapping_key_spec: Some(WrappingKeySpec::Rsa2048),
                },
            )
            .unwrap();
            let w = if alg == WrappingAlgorithm::RsaesOaepSha256 {
                rsa_oaep_encrypt(OaepHash::Sha256, &p.public_key, &material, &mut rng()).unwrap()
            } else {
                let kek = [0x24u8; 32];
                let mut w =
                    rsa_oaep_encrypt(OaepHash::Sha256, &p.public_key, &kek, &mut rng()).unwrap();
                w.extend_from_slice(&aes_key_wrap_with_padding(&kek, &material).unwrap());
                w
            };
            wrapped.push((alg, p.import_token, w));
        }
        Import {
            rec,
            material,
            wrapped,
        }
    })
}

fn import_request(rec: &KeyRecord, token: &[u8], wrapped: &[u8]) -> ImportKeyMaterialRequest {
    ImportKeyMaterialRequest {
        key_id: rec.key_id.clone(),
        import_token: token.to_vec(),
        encrypted_key_material: wrapped.to_vec(),
        expiration_model: Some(ExpirationModel::KeyMaterialDoesNotExpire),
        ..Default::default()
    }
}

/// ImportKeyMaterial on a copy of the fixture's key: the error kind, after
/// checking that a failed call left the record as it was.
fn import_error(token: &[u8], wrapped: &[u8]) -> Option<ErrorKind> {
    let fx = import();
    let mut rec = fx.rec.clone();
    match asym::import_key_material(
        &env(),
        &mut rng(),
        &mut rec,
        &import_request(&fx.rec, token, wrapped),
    ) {
        Ok(()) => None,
        Err(e) => {
            assert_eq!(rec, fx.rec, "a failed import changed the key record ({e})");
            Some(e.kind())
        }
    }
}

/// A sealed export of an in-memory keystore with two keys, an alias and a
/// grant, the root key 7s.
fn sample_export() -> &'static [u8] {
    static E: OnceLock<Vec<u8>> = OnceLock::new();
    E.get_or_init(|| {
        let now = 1_800_000_000;
        let mut ks = MemKeystore::new(
            RootKey::from_bytes(&[7; 32]).unwrap(),
            "local-1",
            "000000000000",
            now,
            &mut rng(),
        )
        .unwrap();
        let mut ids = Vec::new();
        for _ in 0..2 {
            let k = ks
                .create_key(&mut rng(), now, &CreateKeyRequest::default())
                .unwrap();
            ids.push(k.key_metadata.key_id);
        }
        ks.create_alias(&mut rng(), now, "alias/fuzz", &ids[0])
            .unwrap();
        ks.create_grant(
            &mut rng(),
            now,
            &CreateGrantRequest {
                key_id: ids[1].clone(),
                grantee_principal: "arn:aws:iam::000000000000:role/fuzz".into(),
                operations: vec![GrantOperation::Decrypt],
                ..Default::default()
            },
        )
        .unwrap();
        ks.export_sealed().unwrap()
    })
}

fn export_root() -> RootKey {
    RootKey::from_bytes(&[7; 32]).unwrap()
}

/// Byte ranges of the keystore ID and the root-key check value in an
/// export (`docs/FORMAT.md`, "Sealed keystore export": magic, version,
/// u16 length and keystore ID, 32-byte check value).
fn export_id_and_check(bytes: &[u8]) -> std::ops::Range<usize> {
    let id_len = usize::from(u16::from_be_bytes([bytes[5], bytes[6]]));
    7..7 + id_len + 32
}

// ---- ciphertext blob ------------------------------------------------------

proptest! {
    #![proptest_config(cases(256))]

    /// `parse_header` and `open` on arbitrary bytes: never a panic, only
    /// the detail-free InvalidCiphertextException.
    #[test]
    fn blob_arbitrary_bytes_are_invalid_ciphertext(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        if let Err(e) = blob::parse_header(&bytes) {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
        }
        let e = blob::open(&bytes, &backing(), &context()).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
    }

    /// A mutated real blob opens to the original plaintext only if the
    /// mutation was a no-op; otherwise InvalidCiphertextException.
    #[test]
    fn blob_mutations_fail_or_are_no_ops(edits in edits()) {
        let valid = sample_blob();
        let m = apply(valid, &edits);
        match blob::open(&m, &backing(), &context()) {
            Ok(pt) => {
                prop_assert_eq!(&m[..], valid);
                prop_assert_eq!(pt.expose_secret(), &[0x5a; 40][..]);
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException),
        }
        if let Ok(h) = blob::parse_header(&m) {
            prop_assert_eq!(h.key_id_string().len(), 36);
        }
    }
}

// ---- sealed key material ------------------------------------------------------

/// Every bit of sealed key material flipped, every truncation, and the
/// right bytes under another key ID or version: KMSInternalException
/// ("stored key material failed authentication"), never material.
#[test]
fn sealed_material_every_bit_flip_and_truncation_fails() {
    let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let material = Secret::from_slice(&[9u8; 32]);
    let sealed = root().seal_material(&mut rng(), id, 4, &material).unwrap();
    assert_eq!(
        root()
            .unseal_material(id, 4, &sealed)
            .unwrap()
            .expose_secret(),
        material.expose_secret()
    );
    let refused = |bytes: &[u8], id: &str, version: u32, what: &str| {
        let e = root().unseal_material(id, version, bytes).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{what}");
        assert!(e.message().contains("failed authentication"), "{what}: {e}");
    };
    for (i, m) in every_bit_flip(&sealed) {
        refused(&m, id, 4, &format!("bit flip in byte {i}"));
    }
    for n in 0..sealed.len() {
        refused(&sealed[..n], id, 4, &format!("cut to {n} bytes"));
    }
    let mut longer = sealed.clone();
    longer.push(0);
    refused(&longer, id, 4, "one byte appended");
    refused(&sealed, id, 5, "another version");
    refused(
        &sealed,
        "1234abcd-12ab-34cd-56ef-1234567890ac",
        4,
        "another key",
    );
    let other = RootKey::from_bytes(&[8; 32]).unwrap();
    assert_eq!(
        other.unseal_material(id, 4, &sealed).unwrap_err().kind(),
        ErrorKind::KMSInternalException
    );
}

proptest! {
    #![proptest_config(cases(256))]

    /// Root key bytes of any length other than 32 are a ValidationException;
    /// arbitrary sealed bytes never unseal nor panic.
    #[test]
    fn root_key_and_sealed_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..100),
        version in any::<u32>(),
    ) {
        match RootKey::from_bytes(&bytes) {
            Ok(_) => prop_assert_eq!(bytes.len(), 32),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
        let e = root().unseal_material("k", version, &bytes).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::KMSInternalException);
        prop_assert!(root().open_labeled(b"strongroom/v1/x", b"", &bytes).is_none());
    }
}

// ---- import token and wrapped key material ------------------------------------

/// The fixture's tokens and wrapped material import (the tamper tests below
/// start from objects that work).
#[test]
fn import_fixture_imports() {
    let fx = import();
    for (alg, token, wrapped) in &fx.wrapped {
        let mut rec = fx.rec.clone();
        asym::import_key_material(
            &env(),
            &mut rng(),
            &mut rec,
            &import_request(&fx.rec, token, wrapped),
        )
        .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(rec.state, KeyState::Enabled);
        assert_eq!(fx.material.len(), 32);
    }
}

/// Every bit of a real import token flipped, every truncation, one byte
/// appended: InvalidImportTokenException and the key record unchanged.
#[test]
fn import_token_every_bit_flip_and_truncation_fails() {
    let (_, token, wrapped) = &import().wrapped[0];
    for (i, m) in every_bit_flip(token) {
        assert_eq!(
            import_error(&m, wrapped),
            Some(ErrorKind::InvalidImportTokenException),
            "bit flip in byte {i} of the import token"
        );
    }
    for n in (0..token.len()).step_by(7).chain([token.len() - 1]) {
        assert_eq!(
            import_error(&token[..n], wrapped),
            Some(ErrorKind::InvalidImportTokenException),
            "token cut to {n} bytes"
        );
    }
    let mut longer = token.clone();
    longer.push(0);
    assert_eq!(
        import_error(&longer, wrapped),
        Some(ErrorKind::InvalidImportTokenException)
    );
}

/// Every byte of real wrapped key material (RSAES_OAEP_SHA_256, and
/// RSA_AES_KEY_WRAP_SHA_256 with both its RSA and its AES-KWP part) XORed
/// with a bit that moves through the byte, and cut: the detail-free
/// InvalidCiphertextException, the key record unchanged.
#[test]
fn wrapped_key_material_every_byte_flip_and_truncation_fails() {
    for (alg, token, wrapped) in &import().wrapped {
        for i in 0..wrapped.len() {
            let mut m = wrapped.clone();
            m[i] ^= 1 << (i % 8);
            assert_eq!(
                import_error(token, &m),
                Some(ErrorKind::InvalidCiphertextException),
                "{alg:?}: byte {i} flipped"
            );
        }
        for n in [0, 1, 255, 256, 257, wrapped.len() - 1] {
            assert_eq!(
                import_error(token, &wrapped[..n.min(wrapped.len() - 1)]),
                Some(ErrorKind::InvalidCiphertextException),
                "{alg:?}: cut to {n} bytes"
            );
        }
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// A mutated import token is InvalidImportTokenException unless the
    /// mutation was a no-op.
    #[test]
    fn import_token_mutations_fail_or_are_no_ops(edits in edits()) {
        let (_, token, wrapped) = &import().wrapped[1];
        let m = apply(token, &edits);
        match import_error(&m, wrapped) {
            None => prop_assert_eq!(&m, token),
            Some(k) => prop_assert_eq!(k, ErrorKind::InvalidImportTokenException),
        }
    }
}

/// Every byte of a real RSAES_OAEP_SHA_256 ciphertext of an RSA_2048
/// ENCRYPT_DECRYPT key XORed with a bit that moves through the byte, and
/// cut: Decrypt is the detail-free InvalidCiphertextException (OAEP's
/// integrity check), never plaintext.
#[test]
fn rsa_oaep_ciphertext_every_byte_flip_fails() {
    let rec = ops_env::create_key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt, None).unwrap();
    let alg = Some(EncryptionAlgorithm::RsaesOaepSha256);
    let ct = asym::encrypt(
        &env(),
        &mut rng(),
        &rec,
        &EncryptRequest {
            key_id: rec.key_id.clone(),
            plaintext: Secret::from_slice(b"oaep"),
            encryption_algorithm: alg,
            ..Default::default()
        },
    )
    .unwrap()
    .ciphertext_blob;
    let decrypt = |blob: &[u8]| {
        asym::decrypt(
            &env(),
            &mut rng(),
            &rec,
            &DecryptRequest {
                ciphertext_blob: blob.to_vec(),
                key_id: Some(rec.key_id.clone()),
                encryption_algorithm: alg,
                ..Default::default()
            },
        )
    };
    assert_eq!(decrypt(&ct).unwrap().plaintext.expose_secret(), b"oaep");
    for i in 0..ct.len() {
        let mut m = ct.clone();
        m[i] ^= 1 << (i % 8);
        let e = decrypt(&m).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException, "byte {i}");
    }
    for n in [0, 1, ct.len() / 2, ct.len() - 1] {
        let e = decrypt(&ct[..n]).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidCiphertextException,
            "cut to {n}"
        );
    }
}

// ---- sealed keystore export -------------------------------------------------

/// Every byte of a real export XORed with 0x01, 0x80 and 0xff, every
/// truncation, one byte appended: the documented exception of
/// `SealedExport::decode` and `MemKeystore::import_sealed`, never a keystore.
/// Magic or version made unreadable: ValidationException; the keystore ID
/// or the root-key check value altered: AccessDeniedException (the export
/// can no longer tell a wrong root key from an altered check value, and
/// says the root key does not open it); anything else: KMSInternalException.
#[test]
fn export_every_byte_flip_and_truncation_fails_with_its_exception() {
    let valid = sample_export();
    let root = export_root();
    MemKeystore::import_sealed(valid, export_root()).unwrap();
    let id_and_check = export_id_and_check(valid);
    for i in 0..valid.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut m = valid.to_vec();
            m[i] ^= mask;
            let expected = match i {
                0..=3 => ErrorKind::ValidationException,
                4 if !(1..=3).contains(&m[4]) => ErrorKind::ValidationException,
                _ if id_and_check.contains(&i)
                    && (i >= 7 + 36 || std::str::from_utf8(&m[7..7 + 36]).is_ok()) =>
                {
                    ErrorKind::AccessDeniedException
                }
                _ => ErrorKind::KMSInternalException,
            };
            let e = SealedExport::decode(&m, &root).unwrap_err();
            assert_eq!(e.kind(), expected, "byte {i} ^ {mask:#04x}: {e}");
            let e = MemKeystore::import_sealed(&m, export_root()).unwrap_err();
            assert_eq!(e.kind(), expected, "import: byte {i} ^ {mask:#04x}: {e}");
        }
    }
    for n in 0..valid.len() {
        let expected = if n < 4 + 1 + 32 {
            ErrorKind::ValidationException
        } else {
            ErrorKind::KMSInternalException
        };
        let e = SealedExport::decode(&valid[..n], &root).unwrap_err();
        assert_eq!(e.kind(), expected, "cut to {n} bytes: {e}");
    }
    let mut longer = valid.to_vec();
    longer.push(0);
    assert_eq!(
        SealedExport::decode(&longer, &root).unwrap_err().kind(),
        ErrorKind::KMSInternalException
    );
}

proptest! {
    #![proptest_config(cases(128))]

    /// Arbitrary bytes (bare, or behind a valid magic and version) never
    /// panic the unauthenticated parser nor the decoder.
    #[test]
    fn export_arbitrary_bytes_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..300),
        version in 0u8..5,
        framed in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        if framed {
            bytes.extend_from_slice(b"SRKX");
            bytes.push(version);
        }
        bytes.extend_from_slice(&tail);
        let root = export_root();
        for r in [
            SealedExport::parse_unauthenticated(&bytes).map(|_| ()),
            SealedExport::decode(&bytes, &root).map(|_| ()),
            MemKeystore::import_sealed(&bytes, export_root()).map(|_| ()),
        ] {
            if let Err(e) = r {
                prop_assert!(matches!(
                    e.kind(),
                    ErrorKind::ValidationException
                        | ErrorKind::KMSInternalException
                        | ErrorKind::AccessDeniedException
                ), "{}", e);
            }
        }
        prop_assert!(SealedExport::decode(&bytes, &root).is_err());
    }

    /// A mutated real export fails with one of its documented exceptions
    /// unless the mutation was a no-op; `parse_unauthenticated` of a
    /// mutation never panics.
    #[test]
    fn export_mutations_fail_or_are_no_ops(edits in edits()) {
        let valid = sample_export();
        let m = apply(valid, &edits);
        let _ = SealedExport::parse_unauthenticated(&m);
        match MemKeystore::import_sealed(&m, export_root()) {
            Ok(_) => prop_assert_eq!(&m[..], valid),
            Err(e) => prop_assert!(matches!(
                e.kind(),
                ErrorKind::ValidationException
                    | ErrorKind::KMSInternalException
                    | ErrorKind::AccessDeniedException
            ), "{}", e),
        }
    }

    /// Structure-aware, past the MAC: an export whose record bodies were
    /// mutated and then re-tagged and re-MACed under the right root key
    /// (what only a holder of the root key can make) never panics the
    /// import; it is refused with KMSInternalException or
    /// ValidationException, or imports.
    #[test]
    fn re_authenticated_malformed_records_never_panic(
        which in 0usize..4,
        edits in edits(),
    ) {
        let root = export_root();
        let mut e = SealedExport::decode(sample_export(), &root).unwrap();
        let (kind, row): (&[u8], &mut strongroom_core::export::ExportRow) = match which {
            0 => (b"key", &mut e.keys[0]),
            1 => (b"key", &mut e.keys[1]),
            2 => (b"alias", &mut e.aliases[0]),
            _ => (b"grant", &mut e.grants[0]),
        };
        row.body = apply(&row.body, &edits);
        row.tag = root.mac_export_record(kind, row.id.as_bytes(), &row.body).unwrap().to_vec();
        let bytes = e.encode(&root).unwrap();
        if let Err(err) = MemKeystore::import_sealed(&bytes, export_root()) {
            prop_assert!(matches!(
                err.kind(),
                ErrorKind::ValidationException | ErrorKind::KMSInternalException
            ), "{}", err);
        }
    }
}

// ---- stored records (`record::FromJson`) ------------------------------------

/// A sealed export (root key 9s) of a keystore whose records fill most
/// optional members: a key with a description, tags, a policy, rotation on
/// and an on-demand rotation (two backing keys), a key pending deletion, an
/// alias, and a grant with a name, a retiring principal and constraints.
fn rich_export() -> &'static SealedExport {
    static E: OnceLock<SealedExport> = OnceLock::new();
    E.get_or_init(|| {
        let now = 1_800_000_000;
        let root = || RootKey::from_bytes(&[9; 32]).unwrap();
        let mut ks = MemKeystore::new(root(), "local-1", "000000000000", now, &mut rng()).unwrap();
        let tags = vec![
            Tag {
                tag_key: "team".into(),
                tag_value: "fuzz".into(),
            },
            Tag {
                tag_key: "empty".into(),
                tag_value: String::new(),
            },
        ];
        let a = ks
            .create_key(
                &mut rng(),
                now,
                &CreateKeyRequest {
                    description: Some("records fuzz".into()),
                    tags,
                    ..Default::default()
                },
            )
            .unwrap()
            .key_metadata
            .key_id;
        ks.enable_key_rotation(&mut rng(), now, &a, Some(180))
            .unwrap();
        ks.rotate_key_on_demand(&mut rng(), now + 1, &a).unwrap();
        let b = ks
            .create_key(&mut rng(), now, &CreateKeyRequest::default())
            .unwrap()
            .key_metadata
            .key_id;
        ks.schedule_key_deletion(&mut rng(), now, &b, Some(7))
            .unwrap();
        ks.create_alias(&mut rng(), now, "alias/records", &a)
            .unwrap();
        ks.create_grant(
            &mut rng(),
            now,
            &CreateGrantRequest {
                key_id: a.clone(),
                grantee_principal: "arn:aws:iam::000000000000:role/fuzz".into(),
                retiring_principal: Some("arn:aws:iam::000000000000:role/retire".into()),
                operations: vec![GrantOperation::Decrypt, GrantOperation::Encrypt],
                constraints: Some(GrantConstraints {
                    encryption_context_subset: Some(context()),
                    ..Default::default()
                }),
                name: Some("records".into()),
                ..Default::default()
            },
        )
        .unwrap();
        let e = SealedExport::decode(&ks.export_sealed().unwrap(), &root()).unwrap();
        assert!(e.keys.len() == 2 && e.aliases.len() == 1 && e.grants.len() == 1);
        e
    })
}

/// One edit of a record's JSON tree, at the `at % n`th of its `n` nodes
/// (document order, the root first).
#[derive(Clone, Debug)]
enum RecordEdit {
    /// Remove the node from its object or array.
    Remove { at: usize },
    /// Put `with` (often of another JSON type) in its place.
    Replace { at: usize, with: Value },
    /// Add the member `name` (an object) or push `with` (an array).
    Add {
        at: usize,
        name: String,
        with: Value,
    },
    /// Change the node a little, keeping its type (`how` picks the change).
    Alter { at: usize, how: u8 },
}

/// Member names the record readers know, at every level, and a few others.
const MEMBER_NAMES: &[&str] = &[
    "key_id",
    "arn",
    "account",
    "creation_date",
    "description",
    "key_spec",
    "key_usage",
    "origin",
    "state",
    "deletion_date",
    "pending_window_days",
    "tags",
    "rotation",
    "backing_keys",
    "policy",
    "valid_to",
    "import_commitment",
    "generation",
    "version",
    "created",
    "rotation_type",
    "sealed",
    "enabled",
    "period_days",
    "next_rotation",
    "on_demand_count",
    "on_demand_started",
    "alias_name",
    "target_key_id",
    "last_updated_date",
    "KeyId",
    "GrantId",
    "Name",
    "CreationDate",
    "GranteePrincipal",
    "RetiringPrincipal",
    "IssuingAccount",
    "Operations",
    "Constraints",
    "EncryptionContextEquals",
    "EncryptionContextSubset",
    "format_version",
    "keystore_id",
    "region",
    "created",
    "admin_principal",
    "audit_log",
    "anchored",
    "",
    "extra",
    "KEY_ID",
];

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![
            0u64..10,
            Just(u64::from(u32::MAX)),
            Just(1 << 32),
            any::<u64>()
        ]
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just(0.0), Just(1.0), Just(-0.5), -1e20f64..1e20].prop_map(Value::from),
        prop_oneof![
            Just(String::new()),
            Just("AAAA".to_string()),
            Just("not base64!".to_string()),
            Just("SYMMETRIC_DEFAULT".to_string()),
            Just("ENCRYPT_DECRYPT".to_string()),
            Just("Enabled".to_string()),
            Just("PendingDeletion".to_string()),
            Just("ON_DEMAND".to_string()),
            Just("Encrypt".to_string()),
            Just("000000000000".to_string()),
            "[A-Za-z0-9+/=:_-]{0,16}",
            "\\PC{0,8}",
        ]
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    proptest::sample::select(MEMBER_NAMES).prop_map(String::from),
                    "[a-z]{1,6}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn record_edit() -> impl Strategy<Value = RecordEdit> {
    prop_oneof![
        2 => any::<usize>().prop_map(|at| RecordEdit::Remove { at }),
        3 => (any::<usize>(), json_value()).prop_map(|(at, with)| RecordEdit::Replace { at, with }),
        2 => (
            any::<usize>(),
            prop_oneof![proptest::sample::select(MEMBER_NAMES).prop_map(String::from), "[a-z_]{1,8}"],
            json_value()
        )
            .prop_map(|(at, name, with)| RecordEdit::Add { at, name, with }),
        3 => (any::<usize>(), any::<u8>()).prop_map(|(at, how)| RecordEdit::Alter { at, how }),
    ]
}

/// The JSON pointers of every node of `v`, the root first.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(o) => {
            for (k, c) in o {
                let name = k.replace('~', "~0").replace('/', "~1");
                pointers(c, format!("{at}/{name}"), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                pointers(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The parent's pointer and the last reference token (unescaped).
fn split_pointer(p: &str) -> Option<(&str, String)> {
    let (parent, last) = p.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn apply_record_edit(v: &mut Value, e: &RecordEdit) {
    let mut all = Vec::new();
    pointers(v, String::new(), &mut all);
    let at = |i: usize| all[i % all.len()].clone();
    match e {
        RecordEdit::Remove { at: i } => {
            if let Some((parent, last)) = split_pointer(&at(*i)) {
                match v.pointer_mut(parent) {
                    Some(Value::Object(o)) => {
                        o.remove(&last);
                    }
                    Some(Value::Array(a)) => {
                        a.remove(last.parse::<usize>().unwrap());
                    }
                    _ => unreachable!(),
                }
            }
        }
        RecordEdit::Replace { at: i, with } => {
            let p = at(*i);
            if !p.is_empty() {
                *v.pointer_mut(&p).unwrap() = with.clone();
            }
        }
        RecordEdit::Add { at: i, name, with } => match v.pointer_mut(&at(*i)).unwrap() {
            Value::Object(o) => {
                o.insert(name.clone(), with.clone());
            }
            Value::Array(a) => a.push(with.clone()),
            _ => {}
        },
        RecordEdit::Alter { at: i, how } => {
            let node = v.pointer_mut(&at(*i)).unwrap();
            let how = *how;
            *node = match std::mem::take(node) {
                Value::String(s) => Value::from(match how % 5 {
                    0 => format!("{s}x"),
                    1 => s.chars().skip(1).collect::<String>(),
                    2 => s.to_ascii_lowercase(),
                    3 => s.to_ascii_uppercase(),
                    _ => format!(" {s}"),
                }),
                Value::Number(n) => match (n.as_u64(), n.as_i64(), how % 6) {
                    (Some(u), _, 0) => Value::from(u.wrapping_add(1)),
                    (Some(u), _, 1) => Value::from(u.wrapping_sub(1)),
                    (Some(u), _, 2) => Value::from(u.wrapping_add(1 << 32)),
                    (Some(u), _, 3) => Value::from(u as f64),
                    (_, Some(i), _) => Value::from(i.wrapping_neg().wrapping_sub(1)),
                    _ => Value::from(n.as_f64().unwrap_or(0.0).trunc() as i64),
                },
                Value::Bool(b) => Value::from(!b),
                Value::Null => Value::from(if how % 2 == 0 { "" } else { "0" }),
                Value::Array(mut a) => {
                    match how % 3 {
                        0 if !a.is_empty() => a.push(a[0].clone()),
                        1 => a.reverse(),
                        _ => a.clear(),
                    }
                    Value::Array(a)
                }
                Value::Object(mut o) => {
                    if how % 2 == 0 {
                        o.clear();
                    } else if let Some(k) = o.keys().next().cloned() {
                        let c = o.remove(&k).unwrap();
                        o.insert(format!("{k}_"), c);
                    }
                    Value::Object(o)
                }
            };
        }
    }
}

/// The exact reading before `record`, serde's: what `FromJson` must agree
/// with, but for the edges its module documentation names.
fn serde_reading<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

proptest! {
    #![proptest_config(cases(256))]

    /// Structure-aware fuzzing of the stored-record reader
    /// (`record::FromJson`, behind `SealedExport::config`, `decode` and
    /// `MemKeystore::import_sealed`): members of real key, alias, grant and
    /// configuration records are removed, replaced by values of other
    /// types, added, or altered in place, and the record re-tagged with the
    /// root key. The reading never panics; it fails with
    /// KMSInternalException exactly when serde's reading of the same JSON
    /// fails, the ID no longer matches the row, or a nested record
    /// (`rotation`, a backing key, `Constraints`) became a JSON array (the
    /// one edge a JSON tree without repeated members can show); otherwise
    /// it reads the value serde reads (compared after an import and a new
    /// export).
    #[test]
    fn mutated_records_are_refused_or_read_as_serde_reads_them(
        which in 0usize..5,
        edits in proptest::collection::vec(record_edit(), 1..4),
    ) {
        let root = RootKey::from_bytes(&[9; 32]).unwrap();
        let mut e = rich_export().clone();
        let (kind, row): (&[u8], Option<&mut strongroom_core::export::ExportRow>) = match which {
            0 => (b"key", Some(&mut e.keys[0])),
            1 => (b"key", Some(&mut e.keys[1])),
            2 => (b"alias", Some(&mut e.aliases[0])),
            3 => (b"grant", Some(&mut e.grants[0])),
            _ => (b"meta", None),
        };
        let body = row.as_ref().map_or(&e.config_body, |r| &r.body);
        let mut v: Value = serde_json::from_slice(body).unwrap();
        for edit in &edits {
            apply_record_edit(&mut v, edit);
        }
        let bytes = serde_json::to_vec(&v).unwrap();
        let Some(row) = row else {
            // The configuration: read directly, no MAC in the way.
            e.config_body = bytes.clone();
            match e.config() {
                Ok(c) => prop_assert_eq!(Some(c), serde_reading::<KeystoreConfig>(&bytes)),
                Err(err) => {
                    prop_assert_eq!(err.kind(), ErrorKind::KMSInternalException);
                    prop_assert_eq!(serde_reading::<KeystoreConfig>(&bytes), None, "{}", v);
                }
            }
            return Ok(());
        };
        let id = row.id.clone();
        row.body = bytes.clone();
        row.tag = root.mac_export_record(kind, id.as_bytes(), &bytes).unwrap().to_vec();
        let nested_array = |p: &str| v.pointer(p).is_some_and(Value::is_array);
        let backing_array = v
            .pointer("/backing_keys")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(Value::is_array));
        // What serde reads, when the row's ID still matches it; whether the
        // JSON shows the nested-array edge.
        let (serde_ok, edge) = match which {
            0 | 1 => (
                serde_reading::<KeyRecord>(&bytes).is_some_and(|r| r.key_id == id),
                nested_array("/rotation") || backing_array,
            ),
            2 => (serde_reading::<AliasRecord>(&bytes).is_some_and(|a| a.alias_name == id), false),
            _ => (
                serde_reading::<Grant>(&bytes)
                    .is_some_and(|g| id.split_once('/').is_some_and(|(_, g_id)| g_id == g.grant_id)),
                nested_array("/Constraints"),
            ),
        };
        let encoded = e.encode(&root).unwrap();
        match SealedExport::decode(&encoded, &root) {
            Err(err) => {
                prop_assert_eq!(err.kind(), ErrorKind::KMSInternalException);
                prop_assert!(!serde_ok || edge, "refused what serde reads: {}", v);
            }
            Ok(_) => {
                prop_assert!(serde_ok && !edge, "read what serde refuses: {}", v);
                // The value read: imported, exported again, read back.
                let ks = MemKeystore::import_sealed(&encoded, root.clone()).unwrap();
                let again = SealedExport::decode(&ks.export_sealed().unwrap(), &root).unwrap();
                let rows = match which {
                    0 | 1 => &again.keys,
                    2 => &again.aliases,
                    _ => &again.grants,
                };
                let stored = &rows.iter().find(|r| r.id == id).unwrap().body;
                match which {
                    0 | 1 => prop_assert_eq!(
                        serde_reading::<KeyRecord>(stored),
                        serde_reading::<KeyRecord>(&bytes)
                    ),
                    2 => prop_assert_eq!(
                        serde_reading::<AliasRecord>(stored),
                        serde_reading::<AliasRecord>(&bytes)
                    ),
                    _ => prop_assert_eq!(
                        serde_reading::<Grant>(stored),
                        serde_reading::<Grant>(&bytes)
                    ),
                }
            }
        }
    }
}

// ---- grant tokens -----------------------------------------------------------

/// Every bit of a real grant token's decoded bytes flipped (re-encoded as
/// base64url), every truncation of the token string, and every character
/// replaced by another base64url character: InvalidGrantTokenException.
#[test]
fn grant_token_every_bit_flip_fails() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = [3u8; 32];
    let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let token = grant_token(&key, id).unwrap();
    assert_eq!(grant_id_from_token(&key, &token).unwrap(), id);
    let raw = b64.decode(&token).unwrap();
    let refused = |t: &str, what: &str| {
        let e = grant_id_from_token(&key, t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidGrantTokenException, "{what}");
    };
    for (i, m) in every_bit_flip(&raw) {
        refused(&b64.encode(m), &format!("bit flip in byte {i}"));
    }
    for n in 0..token.len() {
        refused(&token[..n], &format!("cut to {n} characters"));
    }
    for (i, c) in token.char_indices() {
        let other = if c == 'A' { "B" } else { "A" };
        let mut t = token.clone();
        t.replace_range(i..i + 1, other);
        // Changing only the unused low bits of the last character is
        // refused by the strict base64url decoder too.
        refused(&t, &format!("character {i} replaced"));
    }
    refused(&grant_token(&[4u8; 32], id).unwrap(), "another key");
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn grant_tokens_of_arbitrary_strings_never_panic(s in "\\PC{0,120}|[A-Za-z0-9_-]{0,120}") {
        let e = grant_id_from_token(&[3u8; 32], &s).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::InvalidGrantTokenException);
    }
}

// ---- small parsers -------------------------------------------------------------

fn arn_like() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just(String::new()),
        Just("arn".to_owned()),
        Just("aws".to_owned()),
        Just("kms".to_owned()),
        Just("local-1".to_owned()),
        Just("000000000000".to_owned()),
        Just("key/1234abcd-12ab-34cd-56ef-1234567890ab".to_owned()),
        Just("alias/x".to_owned()),
        Just("1234abcd-12ab-34cd-56ef-1234567890AB".to_owned()),
        "\\PC{0,12}",
    ];
    proptest::collection::vec(part, 0..7).prop_map(|p| p.join(":"))
}

proptest! {
    #![proptest_config(cases(512))]

    /// `KeyIdentifier::parse` on ARN-shaped and arbitrary strings: the
    /// documented exceptions only, and a key ID it returns is a lowercase
    /// hyphenated UUID, an alias an `alias/` name.
    #[test]
    fn key_identifiers_never_panic(s in prop_oneof![arn_like(), "\\PC{0,60}", ".{0,20}"]) {
        match KeyIdentifier::parse(&s, "local-1", "000000000000") {
            Ok(KeyIdentifier::KeyId(id)) => {
                let u = uuid::Uuid::try_parse(&id).unwrap();
                prop_assert_eq!(u.hyphenated().to_string(), id);
            }
            Ok(KeyIdentifier::Alias(a)) => prop_assert!(a.starts_with("alias/")),
            Err(e) => prop_assert!(matches!(
                e.kind(),
                ErrorKind::ValidationException
                    | ErrorKind::NotFoundException
                    | ErrorKind::InvalidArnException
            ), "{}", e),
        }
    }

    /// A grant operation name parses only to the operation of that exact
    /// name; anything else is a ValidationException.
    #[test]
    fn grant_operation_names(s in "\\PC{0,24}|[A-Za-z]{0,24}") {
        match GrantOperation::parse(&s) {
            Ok(op) => prop_assert_eq!(op.as_str(), s.as_str()),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
    }

    /// KMS enumeration names (`core::key`'s `FromStr`: key specs, usages,
    /// algorithms, states...) parse only from their exact AWS spelling;
    /// envelope algorithm suites from their ESDK name (any case) or their
    /// ID in hex digits (`0x` optional; no sign: `+578` was taken before),
    /// and commitment policies from their name (any case, underscores
    /// optional). Anything else is a ValidationException.
    #[test]
    fn enumeration_names(s in "\\PC{0,24}|[A-Z_0-9]{0,24}|[+ ]?(0x)?[0-9a-fA-F+]{1,5}|(0x|\\+)?0?[1-5]78") {
        use strongroom_core::envelope::{AlgorithmSuite, CommitmentPolicy};
        fn exact<T: std::str::FromStr<Err = strongroom_core::Error> + std::fmt::Display>(
            s: &str,
        ) -> Result<(), TestCaseError> {
            match s.parse::<T>() {
                Ok(v) => prop_assert_eq!(v.to_string(), s),
                Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
            }
            Ok(())
        }
        exact::<KeySpec>(&s)?;
        exact::<KeyUsage>(&s)?;
        exact::<KeyAgreementAlgorithm>(&s)?;
        exact::<KeyState>(&s)?;
        exact::<Origin>(&s)?;
        exact::<EncryptionAlgorithm>(&s)?;
        exact::<SigningAlgorithm>(&s)?;
        exact::<MessageType>(&s)?;
        exact::<MacAlgorithm>(&s)?;
        exact::<DataKeyPairSpec>(&s)?;
        exact::<WrappingAlgorithm>(&s)?;
        exact::<WrappingKeySpec>(&s)?;
        exact::<ExpirationModel>(&s)?;
        exact::<ImportType>(&s)?;
        exact::<DataKeySpec>(&s)?;
        exact::<RotationType>(&s)?;
        let t = s.trim();
        match s.parse::<AlgorithmSuite>() {
            Ok(suite) => {
                let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
                let by_id = hex.bytes().all(|b| b.is_ascii_hexdigit())
                    && u16::from_str_radix(hex, 16).ok() == Some(suite.id());
                prop_assert!(by_id || suite.name().eq_ignore_ascii_case(t), "{:?} -> {:?}", s, suite);
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
        match s.parse::<CommitmentPolicy>() {
            Ok(p) => {
                let squash = |n: &str| n.replace('_', "").to_ascii_uppercase();
                prop_assert_eq!(squash(p.name()), squash(t));
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
    }

    /// Pagination markers: arbitrary strings give `ValidationException`
    /// (outside KMS's constraints) or `InvalidMarkerException`, or decode;
    /// every marker this keystore makes decodes back to what it encodes.
    #[test]
    fn markers_never_panic_and_round_trip(
        s in "\\PC{0,40}|[A-Za-z0-9+/=]{0,40}",
        last in "[ -~]{1,60}",
        items in 0usize..20,
        limit in 1u32..10,
    ) {
        for r in [
            paging::decode_marker(Some(&s)),
            paging::decode_key_marker(Some(&s)),
            paging::decode_alias_marker(Some(&s)),
        ] {
            if let Err(e) = r {
                prop_assert!(matches!(
                    e.kind(),
                    ErrorKind::ValidationException | ErrorKind::InvalidMarkerException
                ), "{}", e);
            }
        }
        if let Err(e) = paging::paginate_index((0..items).collect(), Some(limit), Some(&s)) {
            prop_assert!(matches!(
                e.kind(),
                ErrorKind::ValidationException | ErrorKind::InvalidMarkerException
            ), "{}", e);
        }
        let m = paging::encode_marker(&last);
        if m.len() <= 1024 {
            prop_assert_eq!(paging::decode_marker(Some(&m)).unwrap(), Some(last));
        }
    }

    /// Base64: arbitrary strings decode or are a ValidationException, and
    /// what decodes re-encodes to the same string (no second spelling of
    /// one value is accepted).
    #[test]
    fn base64_is_strict(s in "[A-Za-z0-9+/=]{0,24}|\\PC{0,24}") {
        match b64::decode(&s) {
            Ok(b) => prop_assert_eq!(b64::encode(&b), s),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
    }

    /// The fixed-length values: the 40-byte audit checkpoint (every 40
    /// bytes round-trip) and the 32-byte envelope data key; every other
    /// length is a ValidationException.
    #[test]
    fn fixed_length_values(bytes in proptest::collection::vec(any::<u8>(), 0..60)) {
        match strongroom_core::envelope::DataKey::from_bytes(&bytes) {
            Ok(k) => prop_assert_eq!(&k.expose_secret()[..], &bytes[..]),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
        }
        match Checkpoint::from_bytes(&bytes) {
            Ok(c) => prop_assert_eq!(&c.to_bytes()[..], &bytes[..]),
            Err(e) => {
                prop_assert_ne!(bytes.len(), 40);
                prop_assert_eq!(e.kind(), ErrorKind::ValidationException);
            }
        }
    }
}

// ---- PKCS#8 private keys and SubjectPublicKeyInfo --------------------------

/// Real DER keys: P-256 PKCS#8, P-256 SPKI, RSA 2048 PKCS#8, RSA SPKI.
type DerKeys = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

fn der_keys() -> &'static DerKeys {
    use strongroom_core::crypto::ecdsa::{ecdsa_generate, ecdsa_public_key_der, EcCurve};
    use strongroom_core::crypto::rsa::{rsa_generate, rsa_public_key_der, RsaKeySize};
    static K: OnceLock<DerKeys> = OnceLock::new();
    K.get_or_init(|| {
        let ec = ecdsa_generate(EcCurve::P256, &mut rng()).unwrap();
        let ec_pub = ecdsa_public_key_der(EcCurve::P256, &ec).unwrap();
        let rsa = rsa_generate(RsaKeySize::Rsa2048, &mut rng()).unwrap();
        let rsa_pub = rsa_public_key_der(&rsa).unwrap();
        (ec.to_vec(), ec_pub, rsa.to_vec(), rsa_pub)
    })
}

proptest! {
    #![proptest_config(cases(96))]

    /// Mutations of real PKCS#8 and SubjectPublicKeyInfo DER (the key
    /// material ImportKeyMaterial checks, the keys of raw RSA keyrings, the
    /// public keys of Verify-like checks) never panic a parser or an
    /// operation that takes them; ImportKeyMaterial's check of them is
    /// accepted or a ValidationException.
    #[test]
    fn mutated_der_keys_never_panic(edits in edits(), which in 0usize..4) {
        use strongroom_core::crypto::digest::DigestAlgorithm;
        use strongroom_core::crypto::ecdsa::*;
        use strongroom_core::crypto::rsa::*;
        use strongroom_core::envelope::{RawRsaKeyring, RsaWrapPadding};
        let (ec, ec_pub, rsa, rsa_pub) = der_keys();
        let valid = [ec, ec_pub, rsa, rsa_pub][which];
        let m = apply(valid, &edits);
        let digest = [7u8; 32];
        for spec in [KeySpec::EccNistP256, KeySpec::Rsa2048, KeySpec::EccSecgP256k1] {
            if let Err(e) = asym::check_material(spec, &m) {
                prop_assert_eq!(e.kind(), ErrorKind::ValidationException);
            }
        }
        let _ = ecdsa_private_key_curve(&m);
        let _ = ecdsa_public_key_curve(&m);
        let _ = ecdsa_public_key_der(EcCurve::P256, &m);
        let _ = ecdsa_sign_digest(EcCurve::P256, &m, &digest, &mut rng());
        let _ = ecdsa_verify_digest(EcCurve::P256, &m, &digest, &m);
        let _ = rsa_private_key_size(&m);
        let _ = rsa_public_key_size(&m);
        let _ = rsa_public_key_der(&m);
        let _ = rsa_pss_verify_digest(DigestAlgorithm::Sha256, &m, &digest, &[1u8; 256]);
        let _ = rsa_oaep_encrypt(OaepHash::Sha256, &m, b"x", &mut rng());
        if which == 2 {
            // A private-key operation on a mutated RSA key (CRT values
            // changed, say) is an error or a result, never a panic.
            let _ = rsa_pkcs1v15_sign_digest(DigestAlgorithm::Sha256, &m, &digest, &mut rng());
            let _ = rsa_oaep_decrypt(OaepHash::Sha256, &m, &[3u8; 256], &mut rng());
        }
        for padding in [RsaWrapPadding::OaepSha256, RsaWrapPadding::Pkcs1v15] {
            if let Err(e) = RawRsaKeyring::new("ns", "n", padding, None, Some(&m)) {
                prop_assert_eq!(e.kind(), ErrorKind::ValidationException);
            }
            if let Err(e) = RawRsaKeyring::new("ns", "n", padding, Some(&m), None) {
                prop_assert_eq!(e.kind(), ErrorKind::ValidationException);
            }
        }
    }
}
