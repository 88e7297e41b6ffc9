use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::error::{Error, ErrorKind, Result};

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn unsigned() -> EncryptOptions {
    EncryptOptions {
        suite: AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        ..EncryptOptions::default()
    }
}

fn keyring() -> RawAesKeyring {
    RawAesKeyring::new("ns", "key", &[9u8; 32]).unwrap()
}

fn ctx() -> EncryptionContext {
    EncryptionContext::from_pairs([("a", "1"), ("purpose", "test")]).unwrap()
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn round_trip_sizes_and_chunkings() {
    let k = keyring();
    for fl in [1u32, 17, 512, 4096] {
        let fl_us = fl as usize;
        for n in [0, 1, fl_us - 1, fl_us, fl_us + 1, 3 * fl_us + 5] {
            let pt = pattern(n);
            let opts = EncryptOptions {
                frame_length: fl,
                ..unsigned()
            };
            let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
            let (out, header) = decrypt(&k, &msg, DecryptOptions::default(), &mut rng()).unwrap();
            assert_eq!(out, pt);
            assert_eq!(header.frame_length, fl);
            // chunked decrypt: byte by byte, pieces smaller than a frame
            // (buffered path) and larger than one (whole frames taken from
            // the caller's slice, the rest buffered)
            for chunk in [1usize, 3, 100, 4999] {
                let mut r = rng();
                let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
                let mut out = Vec::new();
                for c in msg.chunks(chunk) {
                    assert_eq!(d.update(c, &mut out).unwrap(), Released::Authenticated);
                }
                d.finish().unwrap();
                assert_eq!(out, pt);
            }
            // chunked encrypt gives a message of the same length that decrypts
            let mut e = Encryptor::new(&k, &ctx(), &opts, &mut rng()).unwrap();
            let mut msg2 = Vec::new();
            for c in pt.chunks(13) {
                e.update(c, &mut msg2).unwrap();
            }
            e.finish(&mut msg2, &mut rng()).unwrap();
            assert_eq!(msg2.len(), msg.len());
            assert_eq!(
                decrypt(&k, &msg2, DecryptOptions::default(), &mut rng())
                    .unwrap()
                    .0,
                pt
            );
        }
    }
}

#[test]
fn frames_released_as_they_authenticate() {
    let k = keyring();
    let pt = pattern(10_000);
    let opts = EncryptOptions {
        frame_length: 1000,
        ..unsigned()
    };
    let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let mut out = Vec::new();
    let _ = d.update(&msg[..msg.len() / 2], &mut out).unwrap();
    assert!(!out.is_empty() && out.len() < pt.len() && out.len() % 1000 == 0);
    assert_eq!(out[..], pt[..out.len()]);
}

#[test]
fn wrong_key_context_and_tampering_fail() {
    let k = keyring();
    let pt = pattern(2000);
    let opts = EncryptOptions {
        frame_length: 512,
        ..unsigned()
    };
    let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
    let other = RawAesKeyring::new("ns", "key", &[8u8; 32]).unwrap();
    let e = decrypt(&other, &msg, DecryptOptions::default(), &mut rng()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
    let other = RawAesKeyring::new("ns", "other", &[9u8; 32]).unwrap();
    let invalid = |m: &[u8]| {
        decrypt(&k, m, DecryptOptions::default(), &mut rng())
            .unwrap_err()
            .kind()
    };
    assert_eq!(
        decrypt(&other, &msg, DecryptOptions::default(), &mut rng())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCiphertextException
    );
    for i in (0..msg.len()).step_by(7) {
        let mut m = msg.clone();
        m[i] ^= 0x01;
        let e = decrypt(&k, &m, DecryptOptions::default(), &mut rng()).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::InvalidCiphertextException | ErrorKind::ValidationException
            ),
            "{e:?}"
        );
    }
    for n in 0..msg.len() {
        assert_eq!(
            invalid(&msg[..n]),
            ErrorKind::InvalidCiphertextException,
            "cut at {n}"
        );
    }
    let mut longer = msg.clone();
    longer.push(0);
    assert_eq!(invalid(&longer), ErrorKind::InvalidCiphertextException);
}

#[test]
fn reordered_frames_fail() {
    let k = keyring();
    let opts = EncryptOptions {
        frame_length: 16,
        ..unsigned()
    };
    let msg = encrypt(&k, &ctx(), &pattern(64), &opts, &mut rng()).unwrap();
    let (_, hlen) = parse_header(&msg).unwrap();
    let frame = 4 + 12 + 16 + 16;
    let mut m = msg.clone();
    let (a, b) = (hlen, hlen + frame);
    let f1: Vec<u8> = m[a..b].to_vec();
    let f2: Vec<u8> = m[b..b + frame].to_vec();
    m[a..b].copy_from_slice(&f2);
    m[b..b + frame].copy_from_slice(&f1);
    let kind = |m: &[u8]| {
        decrypt(&k, m, DecryptOptions::default(), &mut rng())
            .unwrap_err()
            .kind()
    };
    assert_eq!(kind(&m), ErrorKind::InvalidCiphertextException);
    // duplicated frame
    let mut m = msg[..b].to_vec();
    m.extend_from_slice(&f1);
    m.extend_from_slice(&msg[b..]);
    assert_eq!(kind(&m), ErrorKind::InvalidCiphertextException);
}

#[test]
fn policies_and_limits() {
    let k = keyring();
    let e = encrypt(
        &k,
        &ctx(),
        b"x",
        &EncryptOptions {
            commitment_policy: CommitmentPolicy::ForbidEncryptAllowDecrypt,
            ..unsigned()
        },
        &mut rng(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    let e = encrypt(
        &k,
        &ctx(),
        b"x",
        &EncryptOptions {
            frame_length: 0,
            ..unsigned()
        },
        &mut rng(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    let bad = EncryptionContext::from_pairs([("aws-crypto-public-key", "x")]).unwrap();
    assert!(encrypt(&k, &bad, b"x", &unsigned(), &mut rng()).is_err());

    let multi = MultiKeyring::new(
        Some(Box::new(keyring())),
        vec![Box::new(RawAesKeyring::new("ns", "k2", &[1u8; 16]).unwrap()) as Box<dyn Keyring>],
    )
    .unwrap();
    let msg = encrypt(&multi, &ctx(), b"hi", &unsigned(), &mut rng()).unwrap();
    assert_eq!(parse_header(&msg).unwrap().0.encrypted_data_keys.len(), 2);
    let e = encrypt(
        &multi,
        &ctx(),
        b"hi",
        &EncryptOptions {
            max_encrypted_data_keys: Some(1),
            ..unsigned()
        },
        &mut rng(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    let limited = DecryptOptions {
        max_encrypted_data_keys: Some(1),
        ..DecryptOptions::default()
    };
    assert_eq!(
        decrypt(&k, &msg, limited, &mut rng()).unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    // the child alone (AES-128) decrypts
    let child = RawAesKeyring::new("ns", "k2", &[1u8; 16]).unwrap();
    assert_eq!(
        decrypt(&child, &msg, DecryptOptions::default(), &mut rng())
            .unwrap()
            .0,
        b"hi"
    );
    assert_eq!(
        decrypt(&multi, &msg, DecryptOptions::default(), &mut rng())
            .unwrap()
            .0,
        b"hi"
    );

    // required encryption context
    let req = |pairs: &[(&str, &str)]| DecryptOptions {
        required_encryption_context: EncryptionContext::from_pairs(pairs.iter().copied()).unwrap(),
        ..DecryptOptions::default()
    };
    assert!(decrypt(&k, &msg, req(&[("purpose", "test")]), &mut rng()).is_ok());
    assert!(decrypt(&k, &msg, req(&[("purpose", "other")]), &mut rng()).is_err());
    assert!(decrypt(&k, &msg, req(&[("missing", "x")]), &mut rng()).is_err());
}

/// A keyring that fails every call, to show that an option is refused
/// before the keyring is asked for anything.
#[derive(Debug)]
struct Unreachable;

impl Keyring for Unreachable {
    fn on_encrypt(
        &self,
        _: &mut EncryptionMaterials,
        _: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        Err(Error::internal("keyring called"))
    }
    fn on_decrypt(
        &self,
        _: &mut DecryptionMaterials,
        _: &[EncryptedDataKey],
        _: &mut dyn rand_core::CryptoRng,
    ) -> Result<()> {
        Err(Error::internal("keyring called"))
    }
}

#[test]
fn zero_max_encrypted_data_keys_is_refused_as_the_esdk_does() {
    let zero = "the limit on encrypted data keys cannot be less than 1";
    let e = encrypt(
        &Unreachable,
        &ctx(),
        b"x",
        &EncryptOptions {
            max_encrypted_data_keys: Some(0),
            ..unsigned()
        },
        &mut rng(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(e.message().contains(zero), "{}", e.message());

    let msg = encrypt(&keyring(), &ctx(), b"x", &unsigned(), &mut rng()).unwrap();
    let options = DecryptOptions {
        max_encrypted_data_keys: Some(0),
        ..DecryptOptions::default()
    };
    let e = decrypt(&Unreachable, &msg, options, &mut rng()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(e.message().contains(zero), "{}", e.message());

    // One is the smallest limit, None none at all.
    for max in [Some(1), None] {
        let options = DecryptOptions {
            max_encrypted_data_keys: max,
            ..DecryptOptions::default()
        };
        assert_eq!(
            decrypt(&keyring(), &msg, options, &mut rng()).unwrap().0,
            b"x"
        );
    }
}

#[test]
fn aes_192_wrapping_and_debug_redaction() {
    let k = RawAesKeyring::new("ns", "k192", &[3u8; 24]).unwrap();
    let msg = encrypt(&k, &ctx(), b"abc", &unsigned(), &mut rng()).unwrap();
    assert_eq!(
        decrypt(&k, &msg, DecryptOptions::default(), &mut rng())
            .unwrap()
            .0,
        b"abc"
    );
    assert!(!alloc::format!("{k:?}").contains("3, 3"));
    assert!(RawAesKeyring::new("ns", "bad", &[3u8; 20]).is_err());
    assert!(RawAesKeyring::new("aws-kms", "bad", &[3u8; 32]).is_err());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    #[test]
    fn mutations_never_panic_and_always_fail(
        n in 0usize..300,
        edits in proptest::collection::vec((proptest::num::usize::ANY, 1u8..=255), 1..4),
        cut in proptest::option::of(proptest::num::usize::ANY),
        chunk in 1usize..200,
    ) {
        let k = keyring();
        let opts = EncryptOptions { frame_length: 64, ..unsigned() };
        let msg = encrypt(&k, &ctx(), &pattern(n), &opts, &mut rng()).unwrap();
        let mut m = msg.clone();
        for (i, x) in &edits {
            let i = i % m.len();
            m[i] ^= x;
        }
        if let Some(c) = cut {
            m.truncate(c % m.len());
        }
        proptest::prop_assert!(decrypt(&k, &m, DecryptOptions::default(), &mut rng()).is_err());
        let mut r = rng();
        let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
        let mut out = Vec::new();
        let ok = m.chunks(chunk).all(|c| d.update(c, &mut out).is_ok()) && d.finish().is_ok();
        proptest::prop_assert!(!ok);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let k = keyring();
        let _ = parse_header(&bytes);
        let policy = DecryptOptions { commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt, ..DecryptOptions::default() };
        proptest::prop_assert!(decrypt(&k, &bytes, policy, &mut rng()).is_err());
    }
}

#[test]
fn signed_suite_round_trip_and_pending_release() {
    let k = keyring();
    let opts = EncryptOptions {
        frame_length: 100,
        ..EncryptOptions::default()
    };
    assert_eq!(opts.suite.id(), 0x0578);
    let pt = pattern(1000);
    let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
    let (out, header) = decrypt(&k, &msg, DecryptOptions::default(), &mut rng()).unwrap();
    assert_eq!(out, pt);
    assert!(header
        .encryption_context
        .get(PUBLIC_KEY_CONTEXT_KEY)
        .is_some());
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let mut out = Vec::new();
    assert_eq!(
        d.update(&msg[..msg.len() - 10], &mut out).unwrap(),
        Released::PendingSignature
    );
    assert_eq!(
        d.update(&msg[msg.len() - 10..], &mut out).unwrap(),
        Released::Authenticated
    );
    d.finish().unwrap();
    // signature tampering, truncation of the footer
    let mut m = msg.clone();
    let last = m.len() - 1;
    m[last] ^= 1;
    assert_eq!(
        decrypt(&k, &m, DecryptOptions::default(), &mut rng())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCiphertextException
    );
    assert!(decrypt(
        &k,
        &msg[..msg.len() - 1],
        DecryptOptions::default(),
        &mut rng()
    )
    .is_err());
    let (_, hlen) = parse_header(&msg).unwrap();
    // dropping the footer entirely: plaintext appended, but finish fails
    let sig_len = msg.len() - (hlen + 10 * (4 + 12 + 100 + 16) + (4 + 4 + 12 + 4 + 16));
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let mut out = Vec::new();
    let _ = d.update(&msg[..msg.len() - sig_len], &mut out).unwrap();
    assert!(d.finish().is_err());
}

/// A [`MessageHasher`] that records what it is given and then either
/// hashes it or fails.
struct Recording {
    seen: alloc::sync::Arc<core::sync::atomic::AtomicUsize>,
    inner: crate::crypto::sha384::Sha384Stream,
    fail: bool,
}

impl MessageHasher for Recording {
    fn update(&mut self, bytes: &[u8]) {
        self.seen
            .fetch_add(bytes.len(), core::sync::atomic::Ordering::Relaxed);
        self.inner.update(bytes);
    }
    fn finalize(self: Box<Self>) -> crate::Result<[u8; 48]> {
        if self.fail {
            Err(crate::Error::internal("hasher failed (test)"))
        } else {
            Ok(self.inner.finalize())
        }
    }
}

fn recording(
    fail: bool,
) -> (
    Box<Recording>,
    alloc::sync::Arc<core::sync::atomic::AtomicUsize>,
) {
    let seen = alloc::sync::Arc::new(core::sync::atomic::AtomicUsize::new(0));
    let h = Box::new(Recording {
        seen: seen.clone(),
        inner: crate::crypto::sha384::Sha384Stream::new(),
        fail,
    });
    (h, seen)
}

#[test]
fn message_hasher_sees_exactly_the_signed_bytes_and_its_failure_fails_the_message() {
    let k = keyring();
    let opts = EncryptOptions {
        frame_length: 100,
        ..EncryptOptions::default()
    };
    let pt = pattern(1000);
    // Encrypt through a supplied hasher: the message verifies with the
    // in-line hash, which covers everything but the footer.
    let (h, seen) = recording(false);
    let mut e = Encryptor::new(&k, &ctx(), &opts, &mut rng())
        .unwrap()
        .with_message_hasher(h)
        .unwrap();
    let mut msg = Vec::new();
    e.update(&pt, &mut msg).unwrap();
    // Too late once output exists.
    let mut late = Encryptor::new(&k, &ctx(), &opts, &mut rng()).unwrap();
    late.update(b"x", &mut Vec::new()).unwrap();
    assert_eq!(
        late.with_message_hasher(recording(false).0)
            .unwrap_err()
            .kind(),
        ErrorKind::ValidationException
    );
    e.finish(&mut msg, &mut rng()).unwrap();
    let (out, _) = decrypt(&k, &msg, DecryptOptions::default(), &mut rng()).unwrap();
    assert_eq!(out, pt);
    assert_eq!(
        seen.load(core::sync::atomic::Ordering::Relaxed),
        signed_len(&msg)
    );
    // Decrypt through a supplied hasher: same bytes.
    let (h, seen) = recording(false);
    let mut r = rng();
    let (out, _) = Decryptor::new(&k, DecryptOptions::default(), &mut r)
        .with_message_hasher(h)
        .decrypt_all(&msg)
        .unwrap();
    assert_eq!(out, pt);
    assert_eq!(
        seen.load(core::sync::atomic::Ordering::Relaxed),
        signed_len(&msg)
    );
    // A failing hasher fails encryption ...
    let e = Encryptor::new(&k, &ctx(), &opts, &mut rng())
        .unwrap()
        .with_message_hasher(recording(true).0)
        .unwrap();
    let err = e.finish(&mut Vec::new(), &mut rng()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KMSInternalException);
    // ... and decryption, with its error, releasing nothing as final.
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r)
        .with_message_hasher(recording(true).0);
    let mut out = Vec::new();
    let err = d.update(&msg, &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KMSInternalException);
    assert!(out.is_empty());
    assert!(d.finish().is_err());
    // Unsigned messages never use it.
    let (h, seen) = recording(true);
    let m = encrypt(&k, &ctx(), &pt, &unsigned(), &mut rng()).unwrap();
    let mut r = rng();
    let (out, _) = Decryptor::new(&k, DecryptOptions::default(), &mut r)
        .with_message_hasher(h)
        .decrypt_all(&m)
        .unwrap();
    assert_eq!(out, pt);
    assert_eq!(seen.load(core::sync::atomic::Ordering::Relaxed), 0);
}

/// Bytes of `msg` (1000 bytes of plaintext in 100-byte frames, signed)
/// before its footer: the header, nine regular frames and a full final frame.
fn signed_len(msg: &[u8]) -> usize {
    let (_, hlen) = parse_header(msg).unwrap();
    let body_end = hlen + 9 * (4 + 12 + 100 + 16) + (4 + 4 + 12 + 4 + 100 + 16);
    let sig_len = usize::from(u16::from_be_bytes([msg[body_end], msg[body_end + 1]]));
    assert_eq!(body_end + 2 + sig_len, msg.len());
    body_end
}

#[test]
fn in_place_frames_match_the_copying_api_and_fail_cleanly() {
    let k = keyring();
    for opts in [unsigned(), EncryptOptions::default()] {
        let opts = EncryptOptions {
            frame_length: 600,
            ..opts
        };
        let pt = pattern(600 * 5 + 17);
        // Encrypt: four regular frames sealed in place, then the rest.
        let mut e = Encryptor::new(&k, &ctx(), &opts, &mut rng()).unwrap();
        let mut slot = vec![0u8; e.regular_frame_len()];
        assert_eq!(
            e.seal_frame_in_place(&mut slot).unwrap_err().kind(),
            ErrorKind::ValidationException,
            "before the header"
        );
        let mut msg = Vec::new();
        e.write_header(&mut msg);
        assert_eq!(
            e.seal_frame_in_place(&mut slot[1..]).unwrap_err().kind(),
            ErrorKind::ValidationException,
            "wrong length"
        );
        for frame in pt[..2400].chunks(600) {
            let off = Encryptor::FRAME_CONTENT_OFFSET;
            slot[off..off + 600].copy_from_slice(frame);
            e.seal_frame_in_place(&mut slot).unwrap();
            msg.extend_from_slice(&slot);
        }
        e.update(&pt[2400..2500], &mut msg).unwrap();
        assert_eq!(
            e.seal_frame_in_place(&mut slot).unwrap_err().kind(),
            ErrorKind::ValidationException,
            "plaintext pending"
        );
        e.update(&pt[2500..], &mut msg).unwrap();
        e.finish(&mut msg, &mut rng()).unwrap();
        let (out, _) = decrypt(&k, &msg, DecryptOptions::default(), &mut rng()).unwrap();
        assert_eq!(out, pt);
        // Decrypt in place, in pieces of 1000 bytes carried over as a
        // caller does: the same plaintext.
        let mut r = rng();
        let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
        let (mut out, mut buf, mut ranges) = (Vec::new(), Vec::new(), Vec::new());
        for piece in msg.chunks(1000) {
            buf.extend_from_slice(piece);
            let (n, _) = d.update_in_place(&mut buf, &mut ranges).unwrap();
            for r in ranges.drain(..) {
                out.extend_from_slice(&buf[r]);
            }
            buf.drain(..n);
        }
        assert!(buf.is_empty());
        d.finish().unwrap();
        assert_eq!(out, pt);
        // A flipped byte in the third frame: the call fails, reports no
        // range, and the frames it had decrypted are wiped.
        let (_, hlen) = parse_header(&msg).unwrap();
        let mut bad = msg.clone();
        bad[hlen + 2 * 632 + 100] ^= 1;
        let mut r = rng();
        let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
        let mut ranges = Vec::new();
        let err = d.update_in_place(&mut bad, &mut ranges).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidCiphertextException);
        assert!(ranges.is_empty());
        let first = hlen + 16..hlen + 616;
        assert!(bad[first].iter().all(|&b| b == 0), "decrypted frame wiped");
        assert!(d.update_in_place(&mut msg.clone(), &mut ranges).is_err());
        assert!(d.finish().is_err());
        // Not mixable with a unit buffered by `update`.
        let mut r = rng();
        let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
        let _ = d.update(&msg[..hlen + 10], &mut Vec::new()).unwrap();
        assert_eq!(
            d.update_in_place(&mut msg[hlen + 10..].to_vec(), &mut ranges)
                .unwrap_err()
                .kind(),
            ErrorKind::ValidationException
        );
    }
}

#[test]
fn in_place_header_is_bounded_by_max_header_length() {
    let k = keyring();
    let msg = encrypt(&k, &ctx(), b"x", &unsigned(), &mut rng()).unwrap();
    let (_, hlen) = parse_header(&msg).unwrap();
    let opts = DecryptOptions {
        max_header_length: 64,
        ..DecryptOptions::default()
    };
    let mut r = rng();
    let mut d = Decryptor::new(&k, opts, &mut r);
    let err = d
        .update_in_place(&mut msg[..hlen - 1].to_vec(), &mut Vec::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ValidationException);
}

#[test]
fn decryptor_memory_is_bounded_by_frames_not_input() {
    let k = keyring();
    let pt = pattern(2 * 1024 * 1024);
    let msg = encrypt(&k, &ctx(), &pt, &unsigned(), &mut rng()).unwrap();
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let mut out = Vec::new();
    let _ = d.update(&msg, &mut out).unwrap();
    // One 2 MiB chunk in: the internal buffer never held more than a piece plus a frame.
    assert!(
        d.buffered_capacity() <= 2 * (64 * 1024 + 4096 + 64),
        "{}",
        d.buffered_capacity()
    );
    d.finish().unwrap();
    assert_eq!(out, pt);
}

#[test]
fn oversized_header_and_frame_rejected() {
    let k = keyring();
    let msg = encrypt(&k, &ctx(), b"x", &unsigned(), &mut rng()).unwrap();
    let small = DecryptOptions {
        max_header_length: 10,
        ..DecryptOptions::default()
    };
    assert_eq!(
        decrypt(&k, &msg, small, &mut rng()).unwrap_err().kind(),
        ErrorKind::ValidationException
    );
    // The max frame buffer bounds what a stream holds: LimitExceeded
    // naming it...
    {
        let msg = encrypt(&k, &ctx(), &[7u8; 200], &unsigned(), &mut rng()).unwrap();
        let small = DecryptOptions {
            max_content_buffer: 100,
            ..DecryptOptions::default()
        };
        let mut r = rng();
        let mut d = Decryptor::new(&k, small.clone(), &mut r);
        let e = d.update(&msg, &mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceededException, "{e}");
        assert!(e.to_string().contains("max frame buffer: 100 bytes"), "{e}");
        assert!(!e.to_string().contains("max_content_buffer"), "{e}");
        // ... and not one call, which has the whole message in memory.
        assert_eq!(decrypt(&k, &msg, small, &mut rng()).unwrap().0.len(), 200);
    }
}

/// The max frame buffer option's one rule (Python, JavaScript and the CLI
/// call it): 1 to 2^32 − 1 bytes, `None` the default; out of range is
/// `ValidationException` with one message, the options unchanged.
#[test]
fn the_max_frame_buffer_is_1_to_2_pow_32_minus_1() {
    let mut o = DecryptOptions::default();
    o.set_max_frame_buffer(None).unwrap();
    assert_eq!(o.max_content_buffer, DEFAULT_MAX_CONTENT_BUFFER);
    assert_eq!(DEFAULT_MAX_CONTENT_BUFFER, 268_435_456);
    for good in [1, 100, DEFAULT_MAX_CONTENT_BUFFER, (1 << 32) - 1] {
        o.set_max_frame_buffer(Some(good)).unwrap();
        assert_eq!(o.max_content_buffer, good);
    }
    o.set_max_frame_buffer(Some(4096)).unwrap();
    for bad in [0, 1 << 32, u64::MAX] {
        let e = o.set_max_frame_buffer(Some(bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        assert_eq!(
            e.message(),
            "max frame buffer must be 1 to 4294967295 bytes (default 268435456, 256 MiB)"
        );
        assert_eq!(o.max_content_buffer, 4096);
    }
}

#[test]
fn frame_lengths_above_the_default_max_frame_buffer_are_refused_on_encryption() {
    let k = keyring();
    for (frame_length, ok) in [
        (MAX_FRAME_LENGTH, true),
        (MAX_FRAME_LENGTH + 1, false),
        ((1 << 31) - 1, false),
    ] {
        let o = EncryptOptions {
            frame_length,
            ..unsigned()
        };
        let r = encrypt(&k, &ctx(), b"tiny", &o, &mut rng());
        if ok {
            // Every message Strongroom writes streams with the defaults.
            let msg = r.unwrap();
            let mut r = rng();
            let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
            let mut out = Vec::new();
            assert_eq!(d.update(&msg, &mut out).unwrap(), Released::Authenticated);
            d.finish().unwrap();
            assert_eq!(out, b"tiny");
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValidationException);
            assert!(e.to_string().contains("268435456 bytes (256 MiB"), "{e}");
        }
    }
    assert_eq!(u64::from(MAX_FRAME_LENGTH), DEFAULT_MAX_CONTENT_BUFFER);
}

/// A front end's frame length past `u32` (JavaScript's `frameLength` of
/// 2^32) is refused with the accepted range and the value as given, not a
/// clamped one; the options are then unchanged.
#[test]
fn set_frame_length_tells_the_range_and_the_value_given() {
    let mut o = EncryptOptions::default();
    for bad in [0, u64::from(MAX_FRAME_LENGTH) + 1, 1 << 32, (1 << 53) + 2] {
        let e = o.set_frame_length(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        assert_eq!(
            e.message(),
            alloc::format!(
                "frame length must be between 1 and 268435456 bytes (256 MiB, the largest \
                 frame a streaming decryptor buffers by default), not {bad}"
            )
        );
        assert_eq!(o.frame_length, 4096);
    }
    for good in [1, 4096, u64::from(MAX_FRAME_LENGTH)] {
        o.set_frame_length(good).unwrap();
        assert_eq!(u64::from(o.frame_length), good);
    }
}

#[test]
fn raw_rsa_keyring_round_trip() {
    use crate::crypto::rsa::{rsa_generate, RsaKeySize};
    let der = rsa_generate(RsaKeySize::Rsa2048, &mut rng()).unwrap();
    let enc =
        RawRsaKeyring::new("ns", "rsa", RsaWrapPadding::OaepSha256, None, Some(&der)).unwrap();
    let msg = encrypt(&enc, &ctx(), b"rsa", &unsigned(), &mut rng()).unwrap();
    assert_eq!(
        decrypt(&enc, &msg, DecryptOptions::default(), &mut rng())
            .unwrap()
            .0,
        b"rsa"
    );
    // wrong padding or name: no key found
    let other =
        RawRsaKeyring::new("ns", "rsa", RsaWrapPadding::OaepSha1, None, Some(&der)).unwrap();
    assert!(decrypt(&other, &msg, DecryptOptions::default(), &mut rng()).is_err());
    let pkcs1 =
        RawRsaKeyring::new("ns", "rsa", RsaWrapPadding::Pkcs1v15, None, Some(&der)).unwrap();
    assert!(encrypt(&pkcs1, &ctx(), b"x", &unsigned(), &mut rng()).is_err());
    // A public key alone encrypts, and decrypting with it names the
    // missing private key instead of calling the message invalid.
    let public = crate::crypto::rsa_wrap::rsa_wrap_public_key(&der).unwrap();
    let public_only =
        RawRsaKeyring::new("ns", "rsa", RsaWrapPadding::OaepSha256, Some(&public), None).unwrap();
    let msg = encrypt(&public_only, &ctx(), b"pub", &unsigned(), &mut rng()).unwrap();
    let e = decrypt(&public_only, &msg, DecryptOptions::default(), &mut rng()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{}", e.message());
    assert!(e.message().contains("no private key"), "{}", e.message());
    assert_eq!(
        decrypt(&enc, &msg, DecryptOptions::default(), &mut rng())
            .unwrap()
            .0,
        b"pub"
    );
    // In a multi-keyring, another keyring that unwraps the key wins.
    let multi = MultiKeyring::new(
        Some(Box::new(public_only)),
        vec![Box::new(enc) as Box<dyn Keyring>],
    )
    .unwrap();
    assert_eq!(
        decrypt(&multi, &msg, DecryptOptions::default(), &mut rng())
            .unwrap()
            .0,
        b"pub"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    #[test]
    fn signed_mutations_always_fail(i in proptest::num::usize::ANY, x in 1u8..=255) {
        let k = keyring();
        let opts = EncryptOptions { frame_length: 32, ..EncryptOptions::default() };
        let msg = encrypt(&k, &ctx(), &pattern(100), &opts, &mut rng()).unwrap();
        let mut m = msg.clone();
        let i = i % m.len();
        m[i] ^= x;
        proptest::prop_assert!(decrypt(&k, &m, DecryptOptions::default(), &mut rng()).is_err());
    }
}

#[test]
fn suites_and_policies_parse_from_their_esdk_names() {
    use core::str::FromStr;
    for suite in AlgorithmSuite::ALL {
        assert_eq!(AlgorithmSuite::from_str(suite.name()).unwrap(), suite);
        let lower = suite.name().to_ascii_lowercase();
        assert_eq!(lower.parse::<AlgorithmSuite>().unwrap(), suite);
        let hex = alloc::format!("0x{:04X}", suite.id());
        assert_eq!(hex.parse::<AlgorithmSuite>().unwrap(), suite);
        assert_eq!(hex[2..].parse::<AlgorithmSuite>().unwrap(), suite);
    }
    assert_eq!(
        " AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 "
            .parse::<AlgorithmSuite>()
            .unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384
    );
    assert_eq!(
        "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
            .parse::<AlgorithmSuite>()
            .unwrap(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey
    );
    for bad in [
        "",
        "0x0014",
        "AES_128_GCM_IV12_TAG16_NO_KDF",
        "0x05780",
        "suite",
    ] {
        let e = bad.parse::<AlgorithmSuite>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}");
        assert!(e.message().contains("0x0578"), "{}", e.message());
    }

    for policy in CommitmentPolicy::ALL {
        assert_eq!(policy.name().parse::<CommitmentPolicy>().unwrap(), policy);
    }
    assert_eq!(
        "REQUIRE_ENCRYPT_REQUIRE_DECRYPT"
            .parse::<CommitmentPolicy>()
            .unwrap(),
        CommitmentPolicy::RequireEncryptRequireDecrypt
    );
    assert_eq!(
        "RequireEncryptAllowDecrypt"
            .parse::<CommitmentPolicy>()
            .unwrap(),
        CommitmentPolicy::RequireEncryptAllowDecrypt
    );
    assert_eq!(
        "forbid_encrypt_allow_decrypt"
            .parse::<CommitmentPolicy>()
            .unwrap(),
        CommitmentPolicy::ForbidEncryptAllowDecrypt
    );
    for bad in ["", "REQUIRE", "FORBID_ENCRYPT_FORBID_DECRYPT"] {
        let e = bad.parse::<CommitmentPolicy>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{bad}");
        assert!(e.message().contains("REQUIRE_ENCRYPT_REQUIRE_DECRYPT"));
    }
}

#[test]
fn refuse_signed_suites_stops_before_the_keyring() {
    // A signed message; the decryptor holds a keyring with the wrong key, so
    // reaching the keyring would end in InvalidCiphertextException: the
    // ValidationException shows the refusal came first.
    let signed = encrypt(
        &keyring(),
        &ctx(),
        b"data",
        &EncryptOptions::default(),
        &mut rng(),
    )
    .unwrap();
    let wrong = RawAesKeyring::new("ns", "key", &[8u8; 32]).unwrap();
    let mut r = rng();
    let mut d = Decryptor::new(&wrong, DecryptOptions::default(), &mut r).refuse_signed_suites();
    let mut out = Vec::new();
    let e = d.update(&signed, &mut out).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(e.message().contains("signed algorithm suite"), "{e}");
    assert!(out.is_empty());
    // An unsigned message goes through with the right keyring.
    let k = keyring();
    let msg = encrypt(&k, &ctx(), b"data", &unsigned(), &mut rng()).unwrap();
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r).refuse_signed_suites();
    let mut out = Vec::new();
    assert_eq!(d.update(&msg, &mut out).unwrap(), Released::Authenticated);
    d.finish().unwrap();
    assert_eq!(out, b"data");
}

#[test]
fn one_call_encrypt_allocates_the_message_once() {
    // The message was reserved as plaintext + 1024 bytes; 40 bytes per
    // frame outgrew that and the Vec doubled, so that a 1 GiB plaintext
    // needed 4 GiB at once (all of a WebAssembly module's memory).
    let k = keyring();
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        for (n, fl) in [
            (0usize, 4096u32),
            (1, 1),
            (5000, 1),
            (4096, 4096),
            (1 << 20, 4096),
            (100_000, 512),
        ] {
            let opts = EncryptOptions {
                suite,
                frame_length: fl,
                ..EncryptOptions::default()
            };
            let m = encrypt(&k, &ctx(), &pattern(n), &opts, &mut rng()).unwrap();
            // Exactly the message for an unsigned suite; for a signed one
            // the footer is reserved at its largest (a DER signature of 104
            // bytes; 102 to 104 measured, and 101 or fewer when an INTEGER
            // has a leading zero byte, with odds of about 2^-7).
            let slack = if suite.is_signing() { 16 } else { 0 };
            assert!(
                m.capacity() - m.len() <= slack,
                "{n} bytes in frames of {fl}: capacity {} for {} bytes",
                m.capacity(),
                m.len()
            );
            let (pt, _) = decrypt(&k, &m, DecryptOptions::default(), &mut rng()).unwrap();
            assert_eq!(pt, pattern(n));
        }
    }
}

#[test]
fn a_reservation_that_cannot_be_met_is_limit_exceeded() {
    // Encryptor::update, encrypt, decrypt and open_frame reserve through this:
    // in a 4 GiB WebAssembly memory a frame length of 1 (33 bytes per
    // plaintext byte) reaches it with 128 MiB, and an infallible allocation
    // aborted there (tests/wasm/envelope.test.mjs runs that case).
    let mut out = vec![1u8; 3];
    let err = encrypt::reserve(&mut out, usize::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceededException);
    assert_eq!(out, [1, 1, 1]);
    encrypt::reserve(&mut out, 100).unwrap();
    assert!(out.capacity() >= 103);
}

/// A seeded generator (SplitMix64), so that two encryptions of the same
/// plaintext make the same data key, message ID and EDK.
struct Seeded(u64);

impl rand_core::TryRng for Seeded {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> core::result::Result<(), Self::Error> {
        for chunk in d.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Seeded {}

/// The message of `pt` written through `Encryptor::update` in `chunk`-byte
/// pieces and `finish`.
fn streamed(k: &dyn Keyring, pt: &[u8], opts: &EncryptOptions, seed: u64, chunk: usize) -> Vec<u8> {
    let mut r = Seeded(seed);
    let mut e = Encryptor::new(k, &ctx(), opts, &mut r).unwrap();
    let mut out = Vec::new();
    for c in pt.chunks(chunk.max(1)) {
        e.update(c, &mut out).unwrap();
    }
    e.finish(&mut out, &mut r).unwrap();
    out
}

#[test]
fn one_call_output_equals_the_streamed_output_around_frame_boundaries() {
    let k = keyring();
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        for fl in [1usize, 7, 512, 4096] {
            let opts = EncryptOptions {
                suite,
                frame_length: fl as u32,
                ..EncryptOptions::default()
            };
            for n in [0, 1, fl - 1, fl, fl + 1, 2 * fl, 2 * fl + 1, 5 * fl + 3] {
                let pt = pattern(n);
                let seed = (n * 31 + fl) as u64;
                let mut r = Seeded(seed);
                let one = encrypt(&k, &ctx(), &pt, &opts, &mut r).unwrap();
                // Appended after earlier bytes, into a reused buffer.
                let mut into = b"earlier".to_vec();
                encrypt_into(&k, &ctx(), &pt, &opts, &mut Seeded(seed), &mut into).unwrap();
                assert_eq!(&into[..7], b"earlier");
                let expected_len = Encryptor::new(&k, &ctx(), &opts, &mut Seeded(seed))
                    .unwrap()
                    .message_len(n)
                    .unwrap();
                for chunk in [1, fl - 1, fl, fl + 1, n] {
                    let st = streamed(&k, &pt, &opts, seed, chunk);
                    if suite.is_signing() && cfg!(not(feature = "backend-aws-lc")) {
                        // RustCrypto generates the signing key and signs
                        // with the seeded generator: the same bytes.
                        assert_eq!(one, st, "{suite:?} fl {fl} n {n} chunk {chunk}");
                        assert_eq!(into[7..], st[..]);
                        assert!(one.len() <= expected_len && one.len() + 8 >= expected_len);
                    } else if suite.is_signing() {
                        // The frames are the same bytes (their key and AAD
                        // come from the seeded data key and message ID);
                        // the header differs only in the signing key's
                        // public point (AWS-LC generates it from its own
                        // randomness) and the EDK (the raw keyring's AAD is
                        // the context, which holds that point), the footer
                        // in the signature.
                        let body = expected_len - 106;
                        let (h1, hlen) = parse_header(&one).unwrap();
                        let (h2, hlen2) = parse_header(&st).unwrap();
                        assert_eq!((hlen, &h1.message_id), (hlen2, &h2.message_id));
                        assert!(one.len() <= expected_len && one.len() >= body + 2 + 96);
                        assert_eq!(
                            one[hlen..body],
                            st[hlen..body],
                            "{suite:?} fl {fl} n {n} chunk {chunk}"
                        );
                        assert_eq!(into[7 + hlen..7 + body], st[hlen..body]);
                    } else {
                        assert_eq!(one, st, "fl {fl} n {n} chunk {chunk}");
                        assert_eq!(into[7..], st[..]);
                        assert_eq!(one.len(), expected_len);
                    }
                }
                // One-call decryption: the same plaintext as the
                // incremental decryptor's, appended after earlier bytes.
                let mut r = rng();
                let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
                let mut inc = Vec::new();
                let _ = d.update(&one, &mut inc).unwrap();
                d.finish().unwrap();
                let mut out = b"kept".to_vec();
                let header =
                    decrypt_into(&k, &one, DecryptOptions::default(), &mut rng(), &mut out)
                        .unwrap();
                assert_eq!(header.suite, suite);
                assert_eq!(&out[..4], b"kept");
                assert_eq!(out[4..], inc[..]);
                assert_eq!(inc, pt);
                // A reused buffer with room is not reallocated.
                out.clear();
                let before = out.capacity();
                decrypt_into(&k, &one, DecryptOptions::default(), &mut rng(), &mut out).unwrap();
                assert_eq!(out, pt);
                assert_eq!(out.capacity(), before);
            }
        }
    }
}

#[test]
fn one_call_decryption_of_a_tampered_message_leaves_the_buffer_as_it_was() {
    // `out` keeps its length and contents; what decrypt_into appended
    // before the failure is wiped before the truncation (not observable
    // here: the spare capacity is not read).
    let k = keyring();
    for opts in [unsigned(), EncryptOptions::default()] {
        let opts = EncryptOptions {
            frame_length: 256,
            ..opts
        };
        let pt = pattern(256 * 6 + 9);
        let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
        let (_, hlen) = parse_header(&msg).unwrap();
        // In the header, the first frame, a middle frame (earlier frames
        // authenticated and were appended before it failed), the final
        // frame, the footer; then truncations and a trailing byte.
        let mut broken = Vec::new();
        for i in [
            10,
            hlen + 20,
            hlen + 3 * 288 + 40,
            msg.len() - 120,
            msg.len() - 1,
        ] {
            let mut m = msg.clone();
            m[i] ^= 0x40;
            broken.push(m);
        }
        for n in [hlen, hlen + 288, hlen + 4 * 288 + 7, msg.len() - 1] {
            broken.push(msg[..n].to_vec());
        }
        let mut longer = msg.clone();
        longer.push(0);
        broken.push(longer);
        for m in &broken {
            let mut out = b"kept".to_vec();
            let e =
                decrypt_into(&k, m, DecryptOptions::default(), &mut rng(), &mut out).unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::InvalidCiphertextException | ErrorKind::ValidationException
                ),
                "{e:?}"
            );
            assert_eq!(out, b"kept");
            assert!(decrypt(&k, m, DecryptOptions::default(), &mut rng()).is_err());
        }
    }
}

#[test]
fn message_len_is_none_beyond_the_frame_limit() {
    // 2^32 − 2 frames at most: 2^32 − 3 regular frames and the final one.
    let k = keyring();
    let opts = EncryptOptions {
        frame_length: 1,
        ..unsigned()
    };
    let e = Encryptor::new(&k, &ctx(), &opts, &mut rng()).unwrap();
    assert!(e.message_len(usize::MAX).is_none());
    if usize::BITS > 32 {
        let most = (u32::MAX - 1) as usize;
        assert!(e.message_len(most).is_some());
        assert!(e.message_len(most + 1).is_none());
    }
}

#[test]
fn a_failed_wiping_reservation_leaves_the_buffer_as_it_was() {
    // Empty with spare capacity (a cleared buffer) and non-empty.
    for init in [&b""[..], b"kept"] {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(init);
        let err = encrypt::reserve_wiping(&mut out, usize::MAX).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LimitExceededException);
        assert_eq!((out.as_slice(), out.capacity()), (init, 64));
        encrypt::reserve_wiping(&mut out, 100).unwrap();
        assert_eq!(out, init);
        assert!(out.capacity() >= init.len() + 100);
    }
}

#[test]
fn decrypt_into_refuses_a_decryptor_already_given_part_of_the_message() {
    let k = keyring();
    let msg = encrypt(&k, &ctx(), &pattern(3000), &unsigned(), &mut rng()).unwrap();
    let (_, hlen) = parse_header(&msg).unwrap();
    for given in [5, hlen, hlen + 10] {
        let mut r = rng();
        let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
        let mut released = Vec::new();
        let _ = d.update(&msg[..given], &mut released).unwrap();
        let mut out = b"kept".to_vec();
        let e = d.decrypt_into(&msg[given..], &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        assert_eq!(out, b"kept");
    }
    // An update with nothing in it has not started the message.
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let _ = d.update(&[], &mut Vec::new()).unwrap();
    assert_eq!(d.decrypt_all(&msg).unwrap().0, pattern(3000));
}

#[test]
fn one_call_encryption_that_fails_leaves_the_buffer_as_it_was() {
    // These fail before the reservation. A failure after it (signing in
    // `finish`) cannot be provoked from here: the keyring is asked before,
    // the frame limit is checked before, and the room is reserved.
    let k = keyring();
    let mut out = b"kept".to_vec();
    for opts in [
        EncryptOptions {
            frame_length: 0,
            ..unsigned()
        },
        EncryptOptions {
            max_encrypted_data_keys: Some(0),
            ..unsigned()
        },
    ] {
        let e = encrypt_into(&k, &ctx(), b"secret", &opts, &mut rng(), &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException);
        assert_eq!(out, b"kept");
    }
}

#[test]
fn slice_output_equals_the_vec_output_and_a_short_slice_is_untouched() {
    let k = keyring();
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        for fl in [1usize, 7, 512] {
            let opts = EncryptOptions {
                suite,
                frame_length: fl as u32,
                ..EncryptOptions::default()
            };
            for n in [0, 1, fl - 1, fl, fl + 1, 2 * fl, 2 * fl + 1, 5 * fl + 3] {
                let pt = pattern(n);
                let seed = (n * 17 + fl) as u64;
                let one = encrypt(&k, &ctx(), &pt, &opts, &mut Seeded(seed)).unwrap();
                let needed = Encryptor::new(&k, &ctx(), &opts, &mut Seeded(seed))
                    .unwrap()
                    .message_len(n)
                    .unwrap();
                // One byte short: nothing written, the length reported.
                let mut short = vec![0xAAu8; needed - 1];
                match encrypt_into_slice(&k, &ctx(), &pt, &opts, &mut Seeded(seed), &mut short)
                    .unwrap()
                {
                    SliceOutcome::TooSmall { needed: reported } => assert_eq!(reported, needed),
                    other => panic!("expected TooSmall, got {other:?}"),
                }
                assert!(short.iter().all(|&b| b == 0xAA));
                // Room to spare: the message at the start, the rest untouched.
                let mut buf = vec![0xAAu8; needed + 5];
                let SliceOutcome::Written { header, len } =
                    encrypt_into_slice(&k, &ctx(), &pt, &opts, &mut Seeded(seed), &mut buf)
                        .unwrap()
                else {
                    panic!("expected Written");
                };
                assert!(buf[len..].iter().all(|&b| b == 0xAA));
                let msg = &buf[..len];
                if suite.is_signing() && cfg!(feature = "backend-aws-lc") {
                    // AWS-LC draws the signing key from its own randomness:
                    // the frames (keyed by the seeded data key and message
                    // ID) are the same bytes, the header's public key and the
                    // signature differ.
                    let (_, hlen) = parse_header(&one).unwrap();
                    let (_, hlen2) = parse_header(msg).unwrap();
                    assert_eq!(hlen, hlen2);
                    assert_eq!(msg[hlen..needed - 106], one[hlen..needed - 106]);
                } else {
                    assert_eq!(msg, &one[..], "{suite:?} fl {fl} n {n}");
                }
                if !suite.is_signing() {
                    assert_eq!(len, needed);
                }
                let (out, h) = decrypt(&k, msg, DecryptOptions::default(), &mut rng()).unwrap();
                assert_eq!(out, pt);
                assert_eq!(h.message_id, header.message_id);
            }
        }
    }
}

#[test]
fn slice_output_refuses_bad_options_before_writing() {
    let k = keyring();
    let mut buf = vec![0xAAu8; 4096];
    let opts = EncryptOptions {
        frame_length: 0,
        ..EncryptOptions::default()
    };
    let e = encrypt_into_slice(&k, &ctx(), b"x", &opts, &mut rng(), &mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(buf.iter().all(|&b| b == 0xAA));
}

#[test]
fn slice_output_is_wiped_when_sealing_fails_part_way() {
    let k = keyring();
    let opts = EncryptOptions {
        frame_length: 100,
        ..unsigned()
    };
    let pt = pattern(1000);
    let needed = Encryptor::new(&k, &ctx(), &opts, &mut rng())
        .unwrap()
        .message_len(pt.len())
        .unwrap();
    let mut buf = vec![0xAAu8; needed + 16];
    let mut sealed = 0;
    let e = super::encrypt::encrypt_into_slice_with(
        &k,
        &ctx(),
        &pt,
        &opts,
        &mut rng(),
        &mut buf,
        &mut |enc, slot| {
            sealed += 1;
            if sealed == 4 {
                return Err(Error::internal("injected sealing failure"));
            }
            enc.seal_frame_in_place(slot)
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::KMSInternalException);
    assert_eq!(sealed, 4);
    // The header, three sealed frames and the fourth frame's plaintext
    // (copied in before sealing) are gone: all the message could use is
    // zero, the bytes past it untouched.
    assert!(buf[..needed].iter().all(|&b| b == 0));
    assert!(buf[needed..].iter().all(|&b| b == 0xAA));
}

/// Messages of both v2 suites around the frame boundaries.
fn boundary_messages(k: &dyn Keyring) -> Vec<(Vec<u8>, Vec<u8>, AlgorithmSuite, usize)> {
    let mut all = Vec::new();
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ] {
        for fl in [1usize, 7, 512] {
            let opts = EncryptOptions {
                suite,
                frame_length: fl as u32,
                ..EncryptOptions::default()
            };
            for n in [0, 1, fl - 1, fl, fl + 1, 2 * fl, 5 * fl + 3] {
                let pt = pattern(n);
                let msg = encrypt(k, &ctx(), &pt, &opts, &mut rng()).unwrap();
                all.push((msg, pt, suite, fl));
            }
        }
    }
    all
}

#[test]
fn plaintext_len_is_the_decrypted_length_and_decrypt_into_allocates_it_exactly() {
    let k = keyring();
    for (msg, pt, suite, fl) in boundary_messages(&k) {
        assert_eq!(plaintext_len(&msg).unwrap(), pt.len(), "{suite:?} fl {fl}");
        // A fresh output is allocated once, at the plaintext's length (it
        // was the message's length: 33 times the plaintext at frame length 1).
        let (out, _) = decrypt(&k, &msg, DecryptOptions::default(), &mut rng()).unwrap();
        assert_eq!(out, pt);
        assert_eq!(out.capacity(), pt.len(), "{suite:?} fl {fl}");
        // Truncated anywhere, or followed by a byte: refused.
        for cut in [0, 1, msg.len() / 2, msg.len() - 1] {
            assert!(plaintext_len(&msg[..cut]).is_err());
        }
        let mut longer = msg.clone();
        longer.push(0);
        assert!(plaintext_len(&longer).is_err());
    }
}

#[test]
fn decrypt_into_slice_writes_exactly_the_plaintext_or_reports_its_length() {
    let k = keyring();
    for (msg, pt, suite, fl) in boundary_messages(&k) {
        let n = pt.len();
        // One byte short: the exact length, nothing written, no key
        // unwrapped (the keyring would fail the call).
        if n > 0 {
            let mut short = vec![0xAAu8; n - 1];
            let r = decrypt_into_slice(
                &Unreachable,
                &msg,
                DecryptOptions::default(),
                &mut rng(),
                &mut short,
            )
            .unwrap();
            assert!(matches!(r, SliceOutcome::TooSmall { needed } if needed == n));
            assert!(short.iter().all(|&b| b == 0xAA));
        }
        // Exactly the room, and room to spare: the plaintext at the start,
        // the rest untouched.
        for spare in [0usize, 9] {
            let mut buf = vec![0xAAu8; n + spare];
            let SliceOutcome::Written { header, len } =
                decrypt_into_slice(&k, &msg, DecryptOptions::default(), &mut rng(), &mut buf)
                    .unwrap()
            else {
                panic!("expected Written");
            };
            assert_eq!(len, n);
            assert_eq!(&buf[..n], &pt[..], "{suite:?} fl {fl} n {n}");
            assert!(buf[n..].iter().all(|&b| b == 0xAA));
            assert_eq!(header.suite, suite);
        }
    }
}

#[test]
fn decrypt_into_slice_wipes_what_it_wrote_when_the_message_fails() {
    // A tampered last frame, final-frame length or signature fails after
    // earlier frames were decrypted into the slice: every byte it wrote is
    // zero again, the bytes past the plaintext untouched.
    let k = keyring();
    for opts in [unsigned(), EncryptOptions::default()] {
        let opts = EncryptOptions {
            frame_length: 256,
            ..opts
        };
        let pt = pattern(256 * 6 + 9);
        let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
        let (_, hlen) = parse_header(&msg).unwrap();
        let final_frame = hlen + 6 * 288;
        let footer = final_frame + 4 + 4 + 12 + 4 + 9 + 16;
        let mut cases = Vec::new();
        // A middle frame's tag, the final frame's ciphertext and tag.
        for i in [hlen + 3 * 288 + 280, final_frame + 30, footer - 1] {
            let mut m = msg.clone();
            m[i] ^= 0x01;
            cases.push(m);
        }
        // The final frame's content length, one less (the framing still
        // parses, with a byte left over) and one more.
        for delta in [-1i32, 1] {
            let mut m = msg.clone();
            let at = final_frame + 20;
            let len = u32::from_be_bytes(m[at..at + 4].try_into().unwrap());
            m[at..at + 4].copy_from_slice(&len.wrapping_add_signed(delta).to_be_bytes());
            cases.push(m);
        }
        if opts.suite.is_signing() {
            // The signature's last byte and its length.
            let mut m = msg.clone();
            let last = m.len() - 1;
            m[last] ^= 0x01;
            cases.push(m);
            let mut m = msg.clone();
            m[footer + 1] ^= 0x01;
            cases.push(m);
        }
        for m in &cases {
            let mut buf = vec![0xAAu8; msg.len()];
            let e = decrypt_into_slice(&k, m, DecryptOptions::default(), &mut rng(), &mut buf)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException, "{e:?}");
            let written = buf.iter().position(|&b| b == 0xAA).unwrap_or(buf.len());
            assert!(buf[..written].iter().all(|&b| b == 0), "plaintext left");
            assert!(buf[written..].iter().all(|&b| b == 0xAA));
            assert!(decrypt(&k, m, DecryptOptions::default(), &mut rng()).is_err());
        }
        // The tampered final frame came after six frames were written.
        let mut m = msg.clone();
        m[final_frame + 30] ^= 0x01;
        let mut buf = vec![0xAAu8; pt.len()];
        decrypt_into_slice(&k, &m, DecryptOptions::default(), &mut rng(), &mut buf).unwrap_err();
        assert!(buf.iter().all(|&b| b == 0), "{:?}", opts.suite);
    }
}

#[test]
fn decrypt_into_slice_reports_the_decryptors_errors() {
    // Refusals of the header come first, as with the other calls, and a
    // message whose framing is broken fails as malformed even into a
    // slice too short for its frames (nothing is written past the slice).
    let k = keyring();
    let msg = encrypt(&k, &ctx(), &pattern(3000), &unsigned(), &mut rng()).unwrap();
    let (_, hlen) = parse_header(&msg).unwrap();
    let mut buf = vec![0xAAu8; 8];
    let mut r = rng();
    let unsigned_only = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let signed = encrypt(&k, &ctx(), b"x", &EncryptOptions::default(), &mut rng()).unwrap();
    let e = unsigned_only
        .refuse_signed_suites()
        .decrypt_into_slice(&signed, &mut buf)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    for cut in [hlen, hlen + 100, msg.len() - 1] {
        for len in [0usize, 8, 3000] {
            let mut buf = vec![0xAAu8; len];
            let e = decrypt_into_slice(
                &k,
                &msg[..cut],
                DecryptOptions::default(),
                &mut rng(),
                &mut buf,
            )
            .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException, "{e:?}");
            assert!(buf.iter().all(|&b| b == 0xAA || b == 0));
        }
    }
    // A decryptor already given part of a message is refused.
    let mut r = rng();
    let mut d = Decryptor::new(&k, DecryptOptions::default(), &mut r);
    let _ = d.update(&msg[..10], &mut Vec::new()).unwrap();
    let e = d.decrypt_into_slice(&msg, &mut buf).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// On messages with bytes flipped (anywhere, or in the framing fields
    /// that `plaintext_len` reads: sequence numbers, the final-frame
    /// marker and length, the signature length), cut or extended:
    /// `plaintext_len` is never more than the message holds, equals the
    /// decryptor's plaintext length whenever it decrypts, and
    /// `decrypt_into_slice` into a buffer of that length agrees with
    /// `decrypt`, leaving no plaintext behind when it fails.
    #[test]
    fn plaintext_len_and_the_slice_decryption_agree_with_the_decryptor(
        n in 0usize..700,
        fl in proptest::sample::select(vec![1u32, 16, 64, 1000]),
        signed in proptest::bool::ANY,
        edits in proptest::collection::vec((proptest::num::usize::ANY, 0u8..=255, proptest::bool::ANY), 0..3),
        cut in proptest::option::of(proptest::num::usize::ANY),
        extra in proptest::collection::vec(proptest::num::u8::ANY, 0..3),
    ) {
        let k = keyring();
        let suite = if signed {
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384
        } else {
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey
        };
        let opts = EncryptOptions { suite, frame_length: fl, ..EncryptOptions::default() };
        let msg = encrypt(&k, &ctx(), &pattern(n), &opts, &mut rng()).unwrap();
        let (_, hlen) = parse_header(&msg).unwrap();
        let mut m = msg.clone();
        for &(i, x, framing) in &edits {
            let i = if framing {
                // A byte of a frame's first 8 (sequence number, or final
                // marker and sequence number) or of the final frame's
                // length field, or the footer's length.
                let frames = n.saturating_sub(1) / fl as usize;
                let start = hlen + (i % (frames + 1)) * (fl as usize + 32);
                let field = [0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 23][i % 12];
                let footer = msg.len().saturating_sub(if signed { 106 } else { 0 });
                if signed && i % 7 == 0 { footer.min(m.len() - 1) } else { (start + field).min(m.len() - 1) }
            } else {
                i % m.len()
            };
            m[i] ^= x;
        }
        if let Some(c) = cut {
            m.truncate(c % (m.len() + 1));
        }
        m.extend_from_slice(&extra);
        let len = plaintext_len(&m);
        if let Ok(len) = len {
            proptest::prop_assert!(len < m.len());
        }
        let decrypted = decrypt(&k, &m, DecryptOptions::default(), &mut rng());
        if let Ok((pt, _)) = &decrypted {
            proptest::prop_assert_eq!(len.as_ref().ok(), Some(&pt.len()));
        }
        let mut buf = vec![0xAAu8; len.unwrap_or(0)];
        let sliced = decrypt_into_slice(&k, &m, DecryptOptions::default(), &mut rng(), &mut buf);
        match (&decrypted, &sliced) {
            (Ok((pt, _)), Ok(SliceOutcome::Written { len, .. })) => {
                proptest::prop_assert_eq!(&buf[..*len], &pt[..]);
            }
            (Err(a), Err(b)) => {
                proptest::prop_assert_eq!(a.kind(), b.kind());
                proptest::prop_assert!(buf.iter().all(|&b| b == 0 || b == 0xAA));
            }
            (a, b) => proptest::prop_assert!(false, "decrypt {:?} but slice {:?}", a.as_ref().map(|_| ()), b),
        }
    }
}

#[test]
fn plaintext_len_reads_a_non_framed_body() {
    // Strongroom writes framed bodies only; the AWS Encryption SDKs may
    // read (older ones write) a single block. Its header here is a framed
    // one rewritten (content type 1, frame length 0), which no longer
    // authenticates: `plaintext_len` reads the framing only.
    let k = keyring();
    let framed = encrypt(&k, &ctx(), b"abc", &unsigned(), &mut rng()).unwrap();
    let (_, hlen) = parse_header(&framed).unwrap();
    let mut head = framed[..hlen].to_vec();
    let body_end = hlen - TAG_LEN;
    head[body_end - 37] = 1;
    head[body_end - 36..body_end - 32].copy_from_slice(&[0; 4]);
    let (h, _) = parse_header(&head).unwrap();
    assert_eq!(h.content_type, ContentType::NonFramed);
    let block = |stated: u64, content: usize| {
        let mut m = head.clone();
        m.extend_from_slice(&[0u8; IV_LEN]);
        m.extend_from_slice(&stated.to_be_bytes());
        m.extend(core::iter::repeat_n(0x5Au8, content + TAG_LEN));
        m
    };
    for n in [0usize, 1, 5000] {
        assert_eq!(plaintext_len(&block(n as u64, n)).unwrap(), n);
        // The stated length beyond the bytes present, short of them, or
        // beyond what AES-GCM allows: refused, never believed.
        assert!(plaintext_len(&block(n as u64 + 1, n)).is_err());
        assert!(plaintext_len(&block(n as u64, n + 1)).is_err());
        assert!(plaintext_len(&block(u64::MAX, n)).is_err());
        let m = block(n as u64, n);
        let mut buf = vec![0xAAu8; n];
        let e = decrypt_into_slice(&k, &m, DecryptOptions::default(), &mut rng(), &mut buf)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
        assert!(buf.iter().all(|&b| b == 0xAA));
    }
}

/// A [`MessageHasher`] that panics when the footer's digest is asked for,
/// after every frame has been decrypted.
struct PanicsAtFooter(crate::crypto::sha384::Sha384Stream);

impl MessageHasher for PanicsAtFooter {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finalize(self: Box<Self>) -> crate::Result<[u8; 48]> {
        panic!("hasher panicked (test)")
    }
}

#[test]
fn decrypt_into_and_into_slice_wipe_what_they_wrote_when_a_panic_unwinds() {
    extern crate std;
    let k = keyring();
    let opts = EncryptOptions {
        frame_length: 100,
        ..EncryptOptions::default()
    };
    let pt = pattern(1000);
    let msg = encrypt(&k, &ctx(), &pt, &opts, &mut rng()).unwrap();
    let mut buf = vec![0xAAu8; pt.len() + 9];
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut r = rng();
        Decryptor::new(&k, DecryptOptions::default(), &mut r)
            .with_message_hasher(Box::new(PanicsAtFooter(
                crate::crypto::sha384::Sha384Stream::new(),
            )))
            .decrypt_into_slice(&msg, &mut buf)
    }));
    assert!(r.is_err(), "the hasher did not panic");
    assert!(buf[..pt.len()].iter().all(|&b| b == 0), "plaintext left");
    assert!(buf[pt.len()..].iter().all(|&b| b == 0xAA));
    // `decrypt_into`: what it appended is removed (wiped first).
    let mut out = b"kept".to_vec();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut r = rng();
        Decryptor::new(&k, DecryptOptions::default(), &mut r)
            .with_message_hasher(Box::new(PanicsAtFooter(
                crate::crypto::sha384::Sha384Stream::new(),
            )))
            .decrypt_into(&msg, &mut out)
    }));
    assert!(r.is_err(), "the hasher did not panic");
    assert_eq!(out, b"kept", "plaintext left");
}
