//! The environment of the tests of the pure operations: OS randomness, a
//! fixed root key, region, account and time, and key creation.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a part; tests may unwrap

use std::sync::OnceLock;

use rand_core::UnwrapErr;
use strongroom_core::api::CreateKeyRequest;
use strongroom_core::key::{KeyRecord, KeySpec, KeyUsage, Origin};
use strongroom_core::ops::{self, Env};
use strongroom_core::seal::RootKey;

pub type Rng = UnwrapErr<getrandom::SysRng>;

pub fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

pub fn root() -> &'static RootKey {
    static R: OnceLock<RootKey> = OnceLock::new();
    R.get_or_init(|| RootKey::from_bytes(&[7u8; 32]).unwrap())
}

pub fn env() -> Env<'static> {
    Env {
        region: "local-1",
        account: "000000000000",
        root: root(),
        now: 1_700_000_000,
    }
}

/// CreateKey with `spec`, `usage` and `origin` (default `AWS_KMS`).
pub fn create_key(
    spec: KeySpec,
    usage: KeyUsage,
    origin: Option<Origin>,
) -> strongroom_core::Result<KeyRecord> {
    ops::create_key(
        &env(),
        &mut rng(),
        &CreateKeyRequest {
            key_spec: Some(spec),
            key_usage: Some(usage),
            origin,
            ..Default::default()
        },
    )
}
