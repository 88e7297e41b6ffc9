//! A RustCrypto build without the cargo feature `rsa` (as the smaller
//! WebAssembly packages are built) refuses RSA with
//! UnsupportedOperationException and keeps everything else. Runs only in
//! such a build:
//! `cargo test -p strongroom-core --no-default-features --features backend-rustcrypto --test without_rsa`.
#![cfg(not(any(feature = "rsa", feature = "backend-aws-lc")))]
#![allow(clippy::unwrap_used)]

use rand_core::UnwrapErr;
use strongroom_core::api::*;
use strongroom_core::envelope::{RawRsaKeyring, RsaWrapPadding};
use strongroom_core::key::{DataKeyPairSpec, KeySpec, KeyUsage};
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::ErrorKind;

fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

const NOW: u64 = 1_800_000_000;

#[test]
fn rsa_is_unsupported_and_the_rest_works() {
    let root = RootKey::from_bytes(&[7; 32]).unwrap();
    let mut ks = MemKeystore::new(root, "eu-west-1", "111122223333", NOW, &mut rng()).unwrap();
    for (spec, usage) in [
        (KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
        (KeySpec::Rsa4096, KeyUsage::SignVerify),
    ] {
        let req = CreateKeyRequest {
            key_spec: Some(spec),
            key_usage: Some(usage),
            ..Default::default()
        };
        let err = ks.create_key(&mut rng(), NOW, &req).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedOperationException);
        assert!(
            err.message().contains("cargo feature rsa"),
            "{}",
            err.message()
        );
    }
    let key = ks
        .create_key(&mut rng(), NOW, &CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id;
    let pair = GenerateDataKeyPairRequest {
        key_id: key.clone(),
        key_pair_spec: Some(DataKeyPairSpec::Rsa2048),
        ..Default::default()
    };
    let err = ks
        .generate_data_key_pair(&mut rng(), NOW, &pair)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedOperationException);
    let ecc = GenerateDataKeyPairRequest {
        key_pair_spec: Some(DataKeyPairSpec::EccNistP256),
        ..pair
    };
    assert!(ks.generate_data_key_pair(&mut rng(), NOW, &ecc).is_ok());
    let err = RawRsaKeyring::new("ns", "name", RsaWrapPadding::OaepSha256, None, Some(b"key"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedOperationException);
}
