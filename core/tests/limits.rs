//! AWS KMS's length constraints on request parameters, at their boundaries,
//! in the in-memory keystore (the native facade runs the same
//! `core::service` flow; `strongroom/tests/operations.rs` checks it there):
//! the longest value passes the check, one byte (or character) more and an
//! empty value are `ValidationException`, decided before any key is looked
//! up (a key that does not exist is `NotFoundException` only for a value of
//! a valid length).
#![allow(clippy::unwrap_used)]

use rand_core::UnwrapErr;
use strongroom_core::api::*;
use strongroom_core::key::{KeySpec, KeyUsage, MacAlgorithm, MessageType, SigningAlgorithm};
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::{ErrorKind, Result, Secret};

type Rng = UnwrapErr<getrandom::SysRng>;

fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

const NOW: u64 = 1_800_000_000;

/// A key ID that names no key.
const MISSING: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

fn store() -> MemKeystore {
    let root = RootKey::from_bytes(&[7; 32]).unwrap();
    MemKeystore::new(root, "local-1", "000000000000", NOW, &mut rng()).unwrap()
}

fn create(ks: &mut MemKeystore, spec: KeySpec, usage: KeyUsage) -> String {
    let req = CreateKeyRequest {
        key_spec: Some(spec),
        key_usage: Some(usage),
        ..Default::default()
    };
    ks.create_key(&mut rng(), NOW, &req)
        .unwrap()
        .key_metadata
        .key_id
}

fn kind<T: core::fmt::Debug>(r: Result<T>) -> ErrorKind {
    r.unwrap_err().kind()
}

/// `call(len)` on a key that does not exist: `NotFoundException` at `max`
/// bytes, `ValidationException` at `max + 1` and 0.
fn boundary(what: &str, max: usize, mut call: impl FnMut(usize) -> ErrorKind) {
    assert_eq!(
        call(max),
        ErrorKind::NotFoundException,
        "{what}: {max} bytes"
    );
    for bad in [0, max + 1] {
        assert_eq!(
            call(bad),
            ErrorKind::ValidationException,
            "{what}: {bad} bytes"
        );
    }
}

#[test]
fn byte_parameters_are_validated_before_the_key_is_looked_up() {
    let mut ks = store();
    let r = &mut rng();
    boundary("Encrypt Plaintext", 4096, |n| {
        let req = EncryptRequest {
            key_id: MISSING.into(),
            plaintext: Secret::from_slice(&vec![1; n]),
            ..Default::default()
        };
        kind(ks.encrypt(r, NOW, &req))
    });
    let sign = |n: usize, message_type| SignRequest {
        key_id: MISSING.into(),
        message: Secret::from_slice(&vec![1; n]),
        message_type,
        signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
        ..Default::default()
    };
    for message_type in [None, Some(MessageType::Digest)] {
        boundary("Sign Message", 4096, |n| {
            kind(ks.sign(r, NOW, &sign(n, message_type)))
        });
    }
    let verify = |message: usize, signature: usize| VerifyRequest {
        key_id: MISSING.into(),
        message: Secret::from_slice(&vec![1; message]),
        signature: vec![2; signature],
        signing_algorithm: Some(SigningAlgorithm::EcdsaSha256),
        ..Default::default()
    };
    boundary("Verify Message", 4096, |n| {
        kind(ks.verify(r, NOW, &verify(n, 64)))
    });
    boundary("Verify Signature", 6144, |n| {
        kind(ks.verify(r, NOW, &verify(32, n)))
    });
    boundary("GenerateMac Message", 4096, |n| {
        let req = GenerateMacRequest {
            key_id: MISSING.into(),
            message: Secret::from_slice(&vec![1; n]),
            mac_algorithm: Some(MacAlgorithm::HmacSha256),
            ..Default::default()
        };
        kind(ks.generate_mac(r, NOW, &req))
    });
    let verify_mac = |message: usize, mac: usize| VerifyMacRequest {
        key_id: MISSING.into(),
        message: Secret::from_slice(&vec![1; message]),
        mac: vec![2; mac],
        mac_algorithm: Some(MacAlgorithm::HmacSha256),
        ..Default::default()
    };
    boundary("VerifyMac Message", 4096, |n| {
        kind(ks.verify_mac(r, NOW, &verify_mac(n, 32)))
    });
    boundary("VerifyMac Mac", 6144, |n| {
        kind(ks.verify_mac(r, NOW, &verify_mac(32, n)))
    });
    boundary("DeriveSharedSecret PublicKey", 8192, |n| {
        let req = DeriveSharedSecretRequest {
            key_id: MISSING.into(),
            public_key: vec![3; n],
            ..Default::default()
        };
        kind(ks.derive_shared_secret(r, NOW, &req))
    });
    let import = |token: usize, material: usize| ImportKeyMaterialRequest {
        key_id: MISSING.into(),
        import_token: vec![4; token],
        encrypted_key_material: vec![5; material],
        ..Default::default()
    };
    boundary("ImportKeyMaterial ImportToken", 6144, |n| {
        kind(ks.import_key_material(r, NOW, &import(n, 256)))
    });
    boundary("ImportKeyMaterial EncryptedKeyMaterial", 6144, |n| {
        kind(ks.import_key_material(r, NOW, &import(256, n)))
    });
}

/// On real keys, a value of the longest valid length reaches the operation
/// (a signature or MAC of 6144 bytes fails as an invalid one, a 4096-byte
/// message is signed and MACed), while an empty signature or MAC is a
/// `ValidationException`, never `KMSInvalidSignatureException` or
/// `KMSInvalidMacException`.
#[test]
fn longest_values_reach_the_operation_and_empty_ones_do_not() {
    let mut ks = store();
    let r = &mut rng();
    let signer = create(&mut ks, KeySpec::EccNistP256, KeyUsage::SignVerify);
    let hmac = create(&mut ks, KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let message = Secret::from_slice(&[9; 4096]);
    let alg = Some(SigningAlgorithm::EcdsaSha256);
    let signature = ks
        .sign(
            r,
            NOW,
            &SignRequest {
                key_id: signer.clone(),
                message: message.clone(),
                signing_algorithm: alg,
                ..Default::default()
            },
        )
        .unwrap()
        .signature;
    let verify = |signature: Vec<u8>| VerifyRequest {
        key_id: signer.clone(),
        message: message.clone(),
        signature,
        signing_algorithm: alg,
        ..Default::default()
    };
    assert!(
        ks.verify(r, NOW, &verify(signature))
            .unwrap()
            .signature_valid
    );
    assert_eq!(
        kind(ks.verify(r, NOW, &verify(vec![0x30; 6144]))),
        ErrorKind::KMSInvalidSignatureException
    );
    for bad in [Vec::new(), vec![0x30; 6145]] {
        assert_eq!(
            kind(ks.verify(r, NOW, &verify(bad))),
            ErrorKind::ValidationException
        );
    }

    let mac_alg = Some(MacAlgorithm::HmacSha256);
    let mac = ks
        .generate_mac(
            r,
            NOW,
            &GenerateMacRequest {
                key_id: hmac.clone(),
                message: message.clone(),
                mac_algorithm: mac_alg,
                ..Default::default()
            },
        )
        .unwrap()
        .mac;
    let verify_mac = |mac: Vec<u8>| VerifyMacRequest {
        key_id: hmac.clone(),
        message: message.clone(),
        mac,
        mac_algorithm: mac_alg,
        ..Default::default()
    };
    assert!(ks.verify_mac(r, NOW, &verify_mac(mac)).unwrap().mac_valid);
    assert_eq!(
        kind(ks.verify_mac(r, NOW, &verify_mac(vec![1; 6144]))),
        ErrorKind::KMSInvalidMacException
    );
    for bad in [Vec::new(), vec![1; 6145]] {
        assert_eq!(
            kind(ks.verify_mac(r, NOW, &verify_mac(bad))),
            ErrorKind::ValidationException
        );
    }
}

/// `Marker`: 1 to 1024 characters of `[\u0020-\u00FF]`; a marker of a valid
/// length that this keystore did not make is `InvalidMarkerException`.
#[test]
fn markers_are_validated() {
    let mut ks = store();
    let r = &mut rng();
    let key = create(&mut ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    // `!` is outside base64, so no keystore made these.
    let longest = "!".repeat(1024);
    let too_long = "!".repeat(1025);
    let cases = [
        ("", ErrorKind::ValidationException),
        (too_long.as_str(), ErrorKind::ValidationException),
        ("\u{100}", ErrorKind::ValidationException),
        ("\n", ErrorKind::ValidationException),
        (longest.as_str(), ErrorKind::InvalidMarkerException),
        ("\u{ff}", ErrorKind::InvalidMarkerException),
    ];
    for (marker, expected) in cases {
        let m = Some(marker);
        let what = marker.len();
        assert_eq!(kind(ks.list_keys(r, NOW, None, m)), expected, "{what}");
        assert_eq!(
            kind(ks.list_aliases(r, NOW, None, None, m)),
            expected,
            "{what}"
        );
        assert_eq!(
            kind(ks.list_resource_tags(r, NOW, &key, None, m)),
            expected,
            "{what}"
        );
    }
}

/// A grant token is 1 to 8192 characters (`ValidationException` outside);
/// a token of a valid length that does not verify is
/// `InvalidGrantTokenException`.
#[test]
fn grant_token_lengths_are_validated() {
    let mut ks = store();
    let r = &mut rng();
    let key = create(&mut ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let encrypt = |token: String| EncryptRequest {
        key_id: key.clone(),
        plaintext: Secret::from_slice(b"x"),
        grant_tokens: vec![token],
        ..Default::default()
    };
    let retire = |token: String| RetireGrantRequest {
        grant_token: Some(token),
        ..Default::default()
    };
    let cases = [
        (String::new(), ErrorKind::ValidationException),
        ("A".repeat(8193), ErrorKind::ValidationException),
        ("A".repeat(8192), ErrorKind::InvalidGrantTokenException),
    ];
    for (token, expected) in cases {
        let what = token.len();
        assert_eq!(
            kind(ks.encrypt(r, NOW, &encrypt(token.clone()))),
            expected,
            "{what}"
        );
        assert_eq!(
            kind(ks.retire_grant(r, NOW, &retire(token))),
            expected,
            "{what}"
        );
    }
}

/// `PolicyName` is 1 to 128 characters of `[\w]` (`ValidationException`
/// outside); a valid name other than `default` is `NotFoundException`. An
/// empty `Policy` is a `ValidationException` for PutKeyPolicy and CreateKey.
#[test]
fn policy_names_and_empty_policies_are_validated() {
    let mut ks = store();
    let r = &mut rng();
    let key = create(&mut ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let policy = ks.get_key_policy(r, NOW, &key, None).unwrap().policy;
    let longest = "p".repeat(128);
    let too_long = "p".repeat(129);
    let cases = [
        ("", ErrorKind::ValidationException),
        (too_long.as_str(), ErrorKind::ValidationException),
        ("a-b", ErrorKind::ValidationException),
        (longest.as_str(), ErrorKind::NotFoundException),
        ("other_1", ErrorKind::NotFoundException),
    ];
    for (name, expected) in cases {
        assert_eq!(
            kind(ks.get_key_policy(r, NOW, &key, Some(name))),
            expected,
            "{name}"
        );
        let put = PutKeyPolicyRequest {
            key_id: key.clone(),
            policy_name: Some(name.into()),
            policy: policy.clone(),
            ..Default::default()
        };
        assert_eq!(kind(ks.put_key_policy(r, NOW, &put)), expected, "{name}");
    }
    let put = PutKeyPolicyRequest {
        key_id: key.clone(),
        policy: String::new(),
        ..Default::default()
    };
    assert_eq!(
        kind(ks.put_key_policy(r, NOW, &put)),
        ErrorKind::ValidationException
    );
    let create = CreateKeyRequest {
        policy: Some(String::new()),
        ..Default::default()
    };
    assert_eq!(
        kind(ks.create_key(r, NOW, &create)),
        ErrorKind::ValidationException
    );
}

/// CreateGrant's `Constraints` limits (CreateGrant API reference): at most
/// 8 encryption context pairs per constraint and values of at most 384
/// characters; one more is `ValidationException` and no grant is made.
#[test]
fn grant_constraint_limits_are_enforced() {
    use strongroom_core::grant::{GrantConstraints, GrantOperation};
    use strongroom_core::EncryptionContext;
    let mut ks = store();
    let key = create(&mut ks, KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let pairs = |n: usize, value: &str| {
        EncryptionContext::from_pairs((0..n).map(|i| (format!("k{i}"), value.to_owned()))).unwrap()
    };
    let request =
        |subset: Option<EncryptionContext>, equals: Option<EncryptionContext>| CreateGrantRequest {
            key_id: key.clone(),
            grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
            operations: vec![GrantOperation::Decrypt],
            constraints: Some(GrantConstraints {
                encryption_context_subset: subset,
                encryption_context_equals: equals,
            }),
            ..Default::default()
        };
    let longest = "é".repeat(384);
    let too_long = "é".repeat(385);
    for ok in [
        request(Some(pairs(8, &longest)), None),
        request(None, Some(pairs(8, &longest))),
    ] {
        ks.create_grant(&mut rng(), NOW, &ok).unwrap();
    }
    for bad in [
        request(Some(pairs(9, "v")), None),
        request(None, Some(pairs(9, "v"))),
        request(Some(pairs(1, &too_long)), None),
        request(Some(pairs(1, "v")), Some(pairs(1, &too_long))),
    ] {
        let e = ks.create_grant(&mut rng(), NOW, &bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    }
    let listed = ks
        .list_grants(
            &mut rng(),
            NOW,
            &ListGrantsRequest {
                key_id: key.clone(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(listed.grants.len(), 2);
}
