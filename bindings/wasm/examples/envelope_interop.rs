//! Native side of the wasm cross-runtime test (tests/wasm/cross.test.mjs):
//! encrypts or decrypts an envelope message with the native build of
//! strongroom-core and a raw AES keyring, so that messages made in wasm are
//! read natively and the other way round.
//!
//! `envelope_interop encrypt|decrypt <wrapping-key-file> <in> <out>`
//! (namespace `strongroom-interop`, key name `k`, context `{"origin": "..."}`).
#![allow(clippy::unwrap_used)]

use std::process::ExitCode;

use strongroom_core::envelope::{self, DecryptOptions, EncryptOptions, RawAesKeyring};
use strongroom_core::EncryptionContext;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: envelope_interop encrypt|decrypt <key-file> <in> <out>");
        return ExitCode::from(2);
    }
    let key = std::fs::read(&args[2]).unwrap();
    let input = std::fs::read(&args[3]).unwrap();
    let keyring = RawAesKeyring::new("strongroom-interop", "k", &key).unwrap();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let out = match args[1].as_str() {
        "encrypt" => {
            let ctx = EncryptionContext::from_pairs([("origin", "native")]).unwrap();
            envelope::encrypt(&keyring, &ctx, &input, &EncryptOptions::default(), &mut rng)
        }
        _ => envelope::decrypt(&keyring, &input, DecryptOptions::default(), &mut rng).map(
            |(pt, h)| {
                eprintln!(
                    "origin={}",
                    h.encryption_context.get("origin").unwrap_or("-")
                );
                pt
            },
        ),
    };
    match out {
        Ok(b) => {
            std::fs::write(&args[4], b).unwrap();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
