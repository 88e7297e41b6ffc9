//! The ciphertext blob, sealed key material and the sealed keystore export:
//! arbitrary bytes never panic, and never open.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_core::export::SealedExport;
use strongroom_core::memstore::MemKeystore;
use strongroom_core::seal::RootKey;
use strongroom_core::{blob, EncryptionContext, Secret};

fuzz_target!(|data: &[u8]| {
    let _ = blob::parse_header(data);
    assert!(blob::open(
        data,
        &Secret::from_slice(&[1; 32]),
        &EncryptionContext::new()
    )
    .is_err());
    let Ok(root) = RootKey::from_bytes(&[7; 32]) else {
        return;
    };
    assert!(root.unseal_material("k", 1, data).is_err());
    let _ = SealedExport::parse_unauthenticated(data);
    assert!(SealedExport::decode(data, &root).is_err());
    assert!(MemKeystore::import_sealed(data, root).is_err());
});
