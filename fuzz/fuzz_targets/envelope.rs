//! Envelope messages: the header parser and the decryptor never panic on
//! arbitrary bytes, and never decrypt them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom_core::envelope::{decrypt, parse_header, DecryptOptions, RawAesKeyring};

fuzz_target!(|data: &[u8]| {
    let _ = parse_header(data);
    let Ok(keyring) = RawAesKeyring::new("fuzz", "key", &[0x42; 32]) else {
        return;
    };
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    assert!(decrypt(&keyring, data, DecryptOptions::default(), &mut rng).is_err());
});
