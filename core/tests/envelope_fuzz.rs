//! Fuzzing of the message parser and decryptor with a proptest-based
//! mutator (runs in CI in well under a minute; no nightly toolchain needed).
//!
//! Valid messages (both v2 suites, several frame lengths, an empty and a
//! multi-frame plaintext) are mutated — bit flips, byte overwrites,
//! truncation, insertion, deletion, duplication and swapping of ranges,
//! random prefixes — and fed to `parse_header`, the one-shot `decrypt` and a
//! `Decryptor` in random chunk sizes. Properties: nothing panics; a mutated
//! message that still decrypts yields exactly the original plaintext (only
//! possible when the mutation was a no-op); a streaming decryptor never
//! appends more plaintext than the original. Raise the case count with
//! `PROPTEST_CASES=100000 cargo test -p strongroom-core --test envelope_fuzz`.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use proptest::prelude::*;
use strongroom_core::envelope::{
    decrypt, encrypt, parse_header, AlgorithmSuite, DecryptOptions, Decryptor, EncryptOptions,
    RawAesKeyring,
};
use strongroom_core::EncryptionContext;

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn keyring() -> RawAesKeyring {
    RawAesKeyring::new("fuzz", "key", &[0x42; 32]).unwrap()
}

struct Sample {
    message: Vec<u8>,
    plaintext: Vec<u8>,
}

fn samples() -> &'static [Sample] {
    static S: OnceLock<Vec<Sample>> = OnceLock::new();
    S.get_or_init(|| {
        let kr = keyring();
        let ctx = EncryptionContext::from_pairs([("k", "v"), ("purpose", "fuzz")]).unwrap();
        let mut out = Vec::new();
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ] {
            for (frame, len) in [(16u32, 0usize), (16, 50), (64, 64), (4096, 300)] {
                let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let o = EncryptOptions {
                    suite,
                    frame_length: frame,
                    ..EncryptOptions::default()
                };
                let message = encrypt(&kr, &ctx, &plaintext, &o, &mut rng()).unwrap();
                out.push(Sample { message, plaintext });
            }
        }
        out
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Truncate { at: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Swap { a: usize, b: usize, len: usize },
    Prefix { bytes: Vec<u8> },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 1u8..=255).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (pos, any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        pos.prop_map(|at| Mutation::Truncate { at }),
        (pos, prop::collection::vec(any::<u8>(), 1..40))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (pos, 1usize..100).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (pos, 1usize..100).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (pos, pos, 1usize..60).prop_map(|(a, b, len)| Mutation::Swap { a, b, len }),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| Mutation::Prefix { bytes }),
    ]
}

fn apply(m: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut v = m.to_vec();
    for mu in mutations {
        let n = v.len().max(1);
        match mu {
            Mutation::Flip { at, mask } => {
                if let Some(b) = v.get_mut(at % n) {
                    *b ^= mask;
                }
            }
            Mutation::Set { at, byte } => {
                if let Some(b) = v.get_mut(at % n) {
                    *b = *byte;
                }
            }
            Mutation::Truncate { at } => v.truncate(at % n),
            Mutation::Insert { at, bytes } => {
                let at = at % (v.len() + 1);
                v.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(v.len());
                if at < end {
                    v.drain(at..end);
                }
            }
            Mutation::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(v.len());
                if at < end {
                    let piece = v[at..end].to_vec();
                    v.splice(end..end, piece);
                }
            }
            Mutation::Swap { a, b, len } => {
                let (a, b) = (a % n, b % n);
                let (a, b) = (a.min(b), a.max(b));
                let len = (*len).min(b - a).min(v.len().saturating_sub(b));
                for i in 0..len {
                    v.swap(a + i, b + i);
                }
            }
            Mutation::Prefix { bytes } => {
                v.splice(0..0, bytes.iter().copied());
            }
        }
    }
    v
}

fn check(sample: &Sample, mutated: &[u8], chunk: usize) {
    let kr = keyring();
    let _ = parse_header(mutated);
    let opts = DecryptOptions {
        max_content_buffer: 1 << 20,
        ..DecryptOptions::default()
    };
    if let Ok((pt, _)) = decrypt(&kr, mutated, opts.clone(), &mut rng()) {
        assert_eq!(
            pt, sample.plaintext,
            "a mutated message decrypted to other plaintext"
        );
    }
    let mut r = rng();
    let mut dec = Decryptor::new(&kr, opts, &mut r);
    let mut out = Vec::new();
    let mut failed = false;
    for piece in mutated.chunks(chunk.max(1)) {
        if dec.update(piece, &mut out).is_err() {
            failed = true;
            break;
        }
        assert!(sample.plaintext.starts_with(&out), "released bytes differ");
    }
    if !failed && dec.finish().is_ok() {
        assert_eq!(out, sample.plaintext);
    }
}

proptest! {
    // `PROPTEST_CASES` raises the count (proptest itself reads it only for
    // a configuration that leaves `cases` at its default).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(8000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_messages_never_panic_nor_decrypt_to_other_plaintext(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..4),
        chunk in 1usize..700,
    ) {
        let s = &samples()[which % samples().len()];
        let mutated = apply(&s.message, &mutations);
        check(s, &mutated, chunk);
    }

    #[test]
    fn random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        head in 0usize..8,
    ) {
        // Start some inputs with a valid version/suite prefix so that the
        // parser gets past the first fields.
        let s = &samples()[head % samples().len()];
        let mut m = s.message[..head.min(s.message.len())].to_vec();
        m.extend_from_slice(&bytes);
        check(s, &m, 97);
    }
}
