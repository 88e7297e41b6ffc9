//! Envelope encryption through the Strongroom keyring and the streaming API:
//! round trips, multi-key messages, required context, disabled keys, and
//! every kind of tampering failing cleanly without leaving plaintext behind.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::io::Cursor;
use std::path::Path;

use fixture::*;
use strongroom::core::envelope::{
    parse_header, AlgorithmSuite, DecryptOptions, EncryptOptions, RawAesKeyring,
};
use strongroom::envelope::{self as env, KmsKeyring, KMS_PROVIDER_ID};
use strongroom::{api::DecryptRequest, ErrorKind, Keystore};

const SIGNED: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384;
const UNSIGNED: AlgorithmSuite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;

fn data(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ n as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn opts(suite: AlgorithmSuite, frame_length: u32) -> EncryptOptions {
    EncryptOptions {
        suite,
        frame_length,
        ..EncryptOptions::default()
    }
}

fn encrypt(ks: &Keystore, keys: &[&str], pt: &[u8], o: &EncryptOptions) -> Vec<u8> {
    let mut out = Vec::new();
    let s = ks
        .encrypt_stream(
            &mut Cursor::new(pt),
            &mut out,
            keys,
            &ctx(&[("purpose", "test")]),
            o,
        )
        .unwrap();
    assert_eq!(s.plaintext_len, pt.len() as u64);
    assert_eq!(s.message_len, out.len() as u64);
    out
}

/// How many Decrypt events the keystore's audit log holds (each a data key unwrap).
fn decrypt_events(ks: &Keystore) -> usize {
    let filter = strongroom::AuditFilter {
        event_name: Some("Decrypt".into()),
        ..Default::default()
    };
    ks.audit_events(&filter).unwrap().len()
}

fn decrypt(ks: &Keystore, msg: &[u8]) -> strongroom::Result<Vec<u8>> {
    let mut out = Vec::new();
    ks.decrypt_stream(&mut Cursor::new(msg), &mut out, &DecryptOptions::default())?;
    Ok(out)
}

/// decrypt_file must fail and leave no file at the output path (nor a temp file).
#[track_caller]
fn assert_file_refused(ks: &Keystore, dir: &Path, msg: &[u8]) -> ErrorKind {
    let inp = dir.join("tampered.msg");
    let out = dir.join("out.bin");
    std::fs::write(&inp, msg).unwrap();
    let e = ks
        .decrypt_file(&inp, &out, &DecryptOptions::default())
        .unwrap_err();
    assert!(!out.exists(), "output exists after a failed decrypt_file");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "temporary file left behind");
    e.kind()
}

#[test]
fn round_trips_across_frame_and_plaintext_sizes() {
    let f = fixture();
    let k = new_key(&f.ks);
    for suite in [SIGNED, UNSIGNED] {
        for frame in [1u32, 17, 512, 4096] {
            let f_ = frame as usize;
            let mut sizes = vec![0, 1, f_.saturating_sub(1), f_, f_ + 1, 3 * f_ + 5];
            if frame == 4096 {
                sizes.push(200_000);
            }
            for n in sizes {
                if frame == 1 && n > 64 {
                    continue;
                }
                let pt = data(n);
                let msg = encrypt(&f.ks, &[&k.key_id], &pt, &opts(suite, frame));
                assert_eq!(decrypt(&f.ks, &msg).unwrap(), pt, "{suite:?} {frame} {n}");
                let (h, _) = parse_header(&msg).unwrap();
                assert_eq!(h.suite, suite);
                assert_eq!(h.frame_length, frame);
                if suite == UNSIGNED {
                    let mut out = Vec::new();
                    f.ks.decrypt_stream_unsigned_only(
                        &mut Cursor::new(&msg),
                        &mut out,
                        &DecryptOptions::default(),
                    )
                    .unwrap();
                    assert_eq!(out, pt);
                }
            }
        }
    }
}

/// A reader that yields at most `step` bytes per call, through `read` and
/// `read_vectored` alike (the default `read_vectored`, first buffer only).
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A writer that takes at most `step` bytes per call (partial vectored writes).
struct Sip {
    out: Vec<u8>,
    step: usize,
}

impl std::io::Write for Sip {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn streams_agree_with_one_shot_core_for_short_reads_writes_and_large_frames() {
    let f = fixture();
    let k = new_key(&f.ks);
    let keyring = KmsKeyring::new(&f.ks, &[&k.key_id]).unwrap();
    let discovery = KmsKeyring::discovery(&f.ks);
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    // 4096: in place, several buffers; 65536: in place, a frame bigger than
    // the decrypt buffer's start; 2 MiB: frames above the in-place range.
    for (suite, frame, n) in [
        (UNSIGNED, 4096u32, 300_001usize),
        (SIGNED, 4096, 16 * 4096),
        (UNSIGNED, 65536, 5 * 65536 + 3),
        (SIGNED, 2 << 20, (5 << 20) + 1),
    ] {
        let pt = data(n);
        for step in [usize::MAX, 1000, 4096 + 16] {
            let mut msg = Vec::new();
            env::encrypt_stream(
                &keyring,
                &mut Trickle { data: &pt, step },
                &mut msg,
                &ctx(&[("purpose", "test")]),
                &opts(suite, frame),
            )
            .unwrap();
            let (one_shot, _) = strongroom::core::envelope::decrypt(
                &discovery,
                &msg,
                DecryptOptions::default(),
                &mut rng,
            )
            .unwrap();
            assert!(one_shot == pt, "{suite:?} {frame} {step}: encrypt");
            let mut out = Sip {
                out: Vec::new(),
                step: 7777,
            };
            env::decrypt_stream(
                &discovery,
                &mut Trickle { data: &msg, step },
                &mut out,
                &DecryptOptions::default(),
            )
            .unwrap();
            assert!(out.out == pt, "{suite:?} {frame} {step}: decrypt");
        }
    }
}

#[test]
fn edks_have_the_esdk_kms_keyring_shape() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    let msg = encrypt(
        &f.ks,
        &[&a.key_id, &b.arn],
        b"x",
        &EncryptOptions::default(),
    );
    let (h, _) = parse_header(&msg).unwrap();
    assert_eq!(h.encrypted_data_keys.len(), 2);
    for (edk, key) in h.encrypted_data_keys.iter().zip([&a, &b]) {
        assert_eq!(edk.provider_id, KMS_PROVIDER_ID);
        assert_eq!(edk.provider_info, key.arn.as_bytes());
        // The ciphertext is an ordinary KMS blob under the message's context.
        let r =
            f.ks.decrypt(&DecryptRequest {
                ciphertext_blob: edk.ciphertext.clone(),
                encryption_context: h.encryption_context.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.plaintext.len(), 32);
        assert_eq!(r.key_id, key.arn);
    }
    assert_eq!(h.encryption_context.get("purpose"), Some("test"));
    assert!(h.encryption_context.get("aws-crypto-public-key").is_some());
}

#[test]
fn multi_key_messages_decrypt_with_either_key() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    let c = new_key(&f.ks);
    let pt = data(10_000);
    let msg = encrypt(
        &f.ks,
        &[&a.key_id, &b.key_id],
        &pt,
        &EncryptOptions::default(),
    );
    for key in [&a.arn, &b.arn] {
        let kr = KmsKeyring::new(&f.ks, &[key]).unwrap();
        let mut out = Vec::new();
        env::decrypt_stream(
            &kr,
            &mut Cursor::new(&msg),
            &mut out,
            &DecryptOptions::default(),
        )
        .unwrap();
        assert_eq!(out, pt);
    }
    // A strict keyring of another key finds nothing to unwrap.
    let kr = KmsKeyring::new(&f.ks, &[&c.key_id]).unwrap();
    let e = env::decrypt_stream(
        &kr,
        &mut Cursor::new(&msg),
        &mut Vec::new(),
        &DecryptOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
    // With A disabled, discovery still decrypts with B.
    f.ks.disable_key(&a.key_id).unwrap();
    assert_eq!(decrypt(&f.ks, &msg).unwrap(), pt);
}

#[test]
fn disabled_key_fails_cleanly() {
    let f = fixture();
    let a = new_key(&f.ks);
    let pt = data(5000);
    let msg = encrypt(&f.ks, &[&a.key_id], &pt, &EncryptOptions::default());
    f.ks.disable_key(&a.key_id).unwrap();
    let e = decrypt(&f.ks, &msg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DisabledException);
    assert_eq!(
        assert_file_refused(&f.ks, f.dir.path(), &msg),
        ErrorKind::DisabledException
    );
    // And encrypting under it is refused.
    let e =
        f.ks.encrypt_stream(
            &mut Cursor::new(b"x"),
            &mut Vec::new(),
            &[&a.key_id],
            &ctx(&[]),
            &EncryptOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DisabledException);
    f.ks.enable_key(&a.key_id).unwrap();
    assert_eq!(decrypt(&f.ks, &msg).unwrap(), pt);
}

#[test]
fn message_from_another_keystore_is_refused() {
    let f = fixture();
    let g = fixture_with_root(&[1u8; 32]);
    let k = new_key(&f.ks);
    let msg = encrypt(&f.ks, &[&k.key_id], b"data", &EncryptOptions::default());
    let e = decrypt(&g.ks, &msg).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
}

#[test]
fn required_encryption_context() {
    let f = fixture();
    let k = new_key(&f.ks);
    let msg = encrypt(&f.ks, &[&k.key_id], b"data", &EncryptOptions::default());
    let ok = DecryptOptions {
        required_encryption_context: ctx(&[("purpose", "test")]),
        ..DecryptOptions::default()
    };
    let mut out = Vec::new();
    f.ks.decrypt_stream(&mut Cursor::new(&msg), &mut out, &ok)
        .unwrap();
    assert_eq!(out, b"data");
    for bad in [ctx(&[("purpose", "other")]), ctx(&[("missing", "x")])] {
        let o = DecryptOptions {
            required_encryption_context: bad,
            ..DecryptOptions::default()
        };
        let mut out = Vec::new();
        // The documented class (decrypt_stream's docs, FORMAT.md):
        // InvalidCiphertextException, as decrypt_message and the bindings.
        let e =
            f.ks.decrypt_stream(&mut Cursor::new(&msg), &mut out, &o)
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException, "{e}");
        assert!(out.is_empty());
    }
}

#[test]
fn max_encrypted_data_keys_on_both_sides() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    let o = EncryptOptions {
        max_encrypted_data_keys: Some(1),
        ..EncryptOptions::default()
    };
    let e =
        f.ks.encrypt_stream(
            &mut Cursor::new(b"x"),
            &mut Vec::new(),
            &[&a.key_id, &b.key_id],
            &ctx(&[]),
            &o,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    let msg = encrypt(
        &f.ks,
        &[&a.key_id, &b.key_id],
        b"x",
        &EncryptOptions::default(),
    );
    let d = DecryptOptions {
        max_encrypted_data_keys: Some(1),
        ..DecryptOptions::default()
    };
    let e =
        f.ks.decrypt_stream(&mut Cursor::new(&msg), &mut Vec::new(), &d)
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
}

/// By default a message with more than 10 EDKs is refused once the count is
/// read, before any Decrypt call; when more are allowed, the keyring stops
/// at the first EDK that unwraps (one Decrypt call, however many EDKs).
#[test]
fn edk_limit_by_default_and_one_decrypt_per_message() {
    let f = fixture();
    let k = new_key(&f.ks);
    let decrypts = || decrypt_events(&f.ks);
    let ids = |n: usize| vec![k.key_id.as_str(); n];
    let eleven = encrypt(&f.ks, &ids(11), b"x", &EncryptOptions::default());
    let before = decrypts();
    let e = decrypt(&f.ks, &eleven).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(
        e.message()
            .contains("the limit on encrypted data keys (10)"),
        "{e}"
    );
    assert_eq!(
        decrypts(),
        before,
        "a data key was unwrapped for a refused message"
    );
    let mut out = Vec::new();
    f.ks.decrypt_stream(
        &mut Cursor::new(&eleven),
        &mut out,
        &DecryptOptions {
            max_encrypted_data_keys: None,
            ..DecryptOptions::default()
        },
    )
    .unwrap();
    assert_eq!(out, b"x");
    assert_eq!(decrypts(), before + 1);
    let ten = encrypt(&f.ks, &ids(10), b"y", &EncryptOptions::default());
    assert_eq!(decrypt(&f.ks, &ten).unwrap(), b"y");
    assert_eq!(decrypts(), before + 2);
}

#[test]
fn discovery_keyring_cannot_encrypt_and_empty_key_list_is_refused() {
    let f = fixture();
    let kr = KmsKeyring::discovery(&f.ks);
    assert!(kr.is_discovery());
    let e = env::encrypt_stream(
        &kr,
        &mut Cursor::new(b"x"),
        &mut Vec::new(),
        &ctx(&[]),
        &EncryptOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    // In the terms every front end passes on unchanged: no Rust API named.
    let e = KmsKeyring::new::<&str>(&f.ks, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert_eq!(
        e.message(),
        "a KMS keyring needs at least one KMS key (key ID, key ARN, alias name or alias ARN); \
         to decrypt with any key of this keystore, use a discovery keyring"
    );
}

#[test]
fn generic_stream_api_works_with_raw_keyrings() {
    let kr = RawAesKeyring::new("ns", "name", &[9u8; 32]).unwrap();
    let pt = data(70_000);
    for suite in [SIGNED, UNSIGNED] {
        let mut msg = Vec::new();
        env::encrypt_stream(
            &kr,
            &mut Cursor::new(&pt),
            &mut msg,
            &ctx(&[("a", "b")]),
            &opts(suite, 1000),
        )
        .unwrap();
        let mut out = Vec::new();
        let s = env::decrypt_stream(
            &kr,
            &mut Cursor::new(&msg),
            &mut out,
            &DecryptOptions::default(),
        )
        .unwrap();
        assert_eq!(out, pt);
        assert_eq!(s.plaintext_len, pt.len() as u64);
        assert_eq!(s.header.suite, suite);
    }
}

#[test]
fn unsigned_only_refuses_signed_suites_before_writing() {
    let f = fixture();
    let k = new_key(&f.ks);
    let msg = encrypt(&f.ks, &[&k.key_id], &data(20_000), &opts(SIGNED, 128));
    let mut out = Vec::new();
    let e = f
        .ks
        .decrypt_stream_unsigned_only(&mut Cursor::new(&msg), &mut out, &DecryptOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert!(out.is_empty());
}

#[test]
fn unsigned_only_file_refuses_signed_suites_before_unwrapping() {
    let f = fixture();
    let k = new_key(&f.ks);
    let decrypts = || decrypt_events(&f.ks);
    let (m, o) = (f.dir.path().join("m.sr"), f.dir.path().join("m.out"));
    // Signed: refused once the header is read, no Decrypt call made, no output.
    std::fs::write(
        &m,
        encrypt(&f.ks, &[&k.key_id], &data(20_000), &opts(SIGNED, 128)),
    )
    .unwrap();
    let before = decrypts();
    let e =
        f.ks.decrypt_file_unsigned_only(&m, &o, &DecryptOptions::default())
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    assert_eq!(
        decrypts(),
        before,
        "a data key was unwrapped for a refused message"
    );
    assert!(!o.exists());
    // Unsigned: the file appears, whole.
    let pt = data(20_000);
    std::fs::write(&m, encrypt(&f.ks, &[&k.key_id], &pt, &opts(UNSIGNED, 128))).unwrap();
    f.ks.decrypt_file_unsigned_only(&m, &o, &DecryptOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&o).unwrap(), pt);
    // Unsigned and truncated: authenticated frames are not enough, the old
    // output stays and no temporary file is left beside it.
    let mut msg = encrypt(&f.ks, &[&k.key_id], &data(20_000), &opts(UNSIGNED, 128));
    msg.truncate(msg.len() - 10);
    std::fs::write(&m, &msg).unwrap();
    f.ks.decrypt_file_unsigned_only(&m, &o, &DecryptOptions::default())
        .unwrap_err();
    assert_eq!(std::fs::read(&o).unwrap(), pt);
    let leftovers = std::fs::read_dir(f.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn signed_stream_releases_nothing_when_the_signature_fails() {
    let f = fixture();
    let k = new_key(&f.ks);
    let mut msg = encrypt(&f.ks, &[&k.key_id], &data(300_000), &opts(SIGNED, 4096));
    let last = msg.len() - 1;
    msg[last] ^= 1;
    let mut out = Vec::new();
    let e =
        f.ks.decrypt_stream(&mut Cursor::new(&msg), &mut out, &DecryptOptions::default())
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
    assert!(
        out.is_empty(),
        "plaintext released before the signature verified"
    );
}

#[test]
fn file_api_round_trip_and_overwrite() {
    let f = fixture();
    let k = new_key(&f.ks);
    let pt = data(100_000);
    let p = f.dir.path().join("plain");
    let m = f.dir.path().join("plain.sr");
    let o = f.dir.path().join("plain.out");
    std::fs::write(&p, &pt).unwrap();
    let s =
        f.ks.encrypt_file(&p, &m, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
            .unwrap();
    assert_eq!(s.message_len, std::fs::metadata(&m).unwrap().len());
    std::fs::write(&o, b"old contents").unwrap();
    f.ks.decrypt_file(&m, &o, &DecryptOptions::default())
        .unwrap();
    assert_eq!(std::fs::read(&o).unwrap(), pt);
    let h = env::read_header(&mut std::fs::File::open(&m).unwrap(), 1 << 20).unwrap();
    assert_eq!(h.encrypted_data_keys[0].provider_info, k.arn.as_bytes());
}

#[test]
fn a_file_is_never_its_own_output() {
    let f = fixture();
    let k = new_key(&f.ks);
    let p = f.dir.path().join("data");
    let pt = data(10_000);
    std::fs::write(&p, &pt).unwrap();
    let link = f.dir.path().join("hard-link");
    std::fs::hard_link(&p, &link).unwrap();
    for out in [&p, &link] {
        let e =
            f.ks.encrypt_file(&p, out, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    }
    assert_eq!(std::fs::read(&p).unwrap(), pt, "the input is untouched");
    let m = f.dir.path().join("data.sr");
    f.ks.encrypt_file(&p, &m, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
        .unwrap();
    let msg = std::fs::read(&m).unwrap();
    for e in [
        f.ks.decrypt_file(&m, &m, &DecryptOptions::default())
            .unwrap_err(),
        f.ks.decrypt_file_unsigned_only(&m, &m, &DecryptOptions::default())
            .unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    }
    assert_eq!(std::fs::read(&m).unwrap(), msg);
}

/// Frame geometry of a version 2 framed message: (header length, frame length in bytes).
fn frames(msg: &[u8], frame_length: usize) -> (usize, usize) {
    let (_, hlen) = parse_header(msg).unwrap();
    (hlen, 4 + 12 + frame_length + 16)
}

#[test]
fn every_flipped_byte_and_truncation_fails_cleanly() {
    let f = fixture();
    let k = new_key(&f.ks);
    let pt = data(200);
    for suite in [SIGNED, UNSIGNED] {
        let msg = encrypt(&f.ks, &[&k.key_id], &pt, &opts(suite, 64));
        let dir = tempfile::tempdir().unwrap();
        for i in 0..msg.len() {
            let mut m = msg.clone();
            m[i] ^= 0x01 << (i % 8);
            let kind = assert_file_refused(&f.ks, dir.path(), &m);
            // LimitExceeded: a flipped frame length above the max frame
            // buffer, refused before anything is buffered or unwrapped.
            assert!(
                matches!(
                    kind,
                    ErrorKind::InvalidCiphertextException
                        | ErrorKind::ValidationException
                        | ErrorKind::LimitExceededException
                ),
                "byte {i}: {kind:?}"
            );
        }
        for len in 0..msg.len() {
            let kind = assert_file_refused(&f.ks, dir.path(), &msg[..len]);
            assert_eq!(kind, ErrorKind::InvalidCiphertextException, "len {len}");
        }
        let mut extra = msg.clone();
        extra.push(0);
        assert_file_refused(&f.ks, dir.path(), &extra);
    }
}

#[test]
fn reordered_duplicated_or_dropped_frames_fail() {
    let f = fixture();
    let k = new_key(&f.ks);
    let pt = data(64 * 4 + 10);
    for suite in [SIGNED, UNSIGNED] {
        let msg = encrypt(&f.ks, &[&k.key_id], &pt, &opts(suite, 64));
        let (h, fl) = frames(&msg, 64);
        let frame = |i: usize| &msg[h + i * fl..h + (i + 1) * fl];
        let rest = &msg[h + 4 * fl..];
        let build = |order: &[usize]| {
            let mut m = msg[..h].to_vec();
            for &i in order {
                m.extend_from_slice(frame(i));
            }
            m.extend_from_slice(rest);
            m
        };
        assert_eq!(decrypt(&f.ks, &build(&[0, 1, 2, 3])).unwrap(), pt);
        let dir = tempfile::tempdir().unwrap();
        for order in [
            &[1, 0, 2, 3][..],
            &[0, 2, 1, 3],
            &[0, 0, 1, 2, 3],
            &[0, 1, 1, 2, 3],
            &[0, 1, 3],
            &[0, 1, 2],
            &[0, 1, 2, 3, 3],
        ] {
            let kind = assert_file_refused(&f.ks, dir.path(), &build(order));
            assert_eq!(kind, ErrorKind::InvalidCiphertextException, "{order:?}");
        }
        // The final frame duplicated, and the whole message twice.
        let mut twice = msg.clone();
        twice.extend_from_slice(&msg);
        assert_file_refused(&f.ks, dir.path(), &twice);
    }
}

/// A header of almost 4 MiB (2000 encrypted data keys of about 2 KiB each,
/// just under the default `max_header_length`) read over short reads comes
/// back field for field, with the body that follows it left alone; one byte
/// less of limit, or one byte less of input, is refused.
#[test]
fn read_header_reads_a_header_of_almost_4_mib() {
    use strongroom::core::envelope::{ContentType, EncryptedDataKey, MessageHeader};
    let suite = UNSIGNED;
    let header = MessageHeader {
        suite,
        message_id: data(32),
        encryption_context: ctx(&[("purpose", "large header")]),
        encrypted_data_keys: (0..2000usize)
            .map(|i| EncryptedDataKey {
                provider_id: format!("provider-{i}"),
                provider_info: format!("info-{i}").into_bytes(),
                ciphertext: data(2040 + i % 7),
            })
            .collect(),
        content_type: ContentType::Framed,
        frame_length: 4096,
        commitment: Some([7u8; 32]),
    };
    let mut message = header.serialize_body().unwrap();
    message.extend_from_slice(&[9u8; 16]); // header authentication tag
    let header_len = message.len();
    let max = DecryptOptions::default().max_header_length;
    assert!(header_len > 4_000_000 && header_len <= max, "{header_len}");
    message.extend_from_slice(&data(10_000)); // a body after the header

    let read = env::read_header(
        &mut Trickle {
            data: &message,
            step: 1000,
        },
        max,
    )
    .unwrap();
    assert_eq!(read, header);

    let too_small = env::read_header(
        &mut Trickle {
            data: &message,
            step: 1000,
        },
        header_len - 1,
    )
    .unwrap_err();
    assert_eq!(too_small.kind(), ErrorKind::InvalidCiphertextException);
    let truncated = env::read_header(
        &mut Trickle {
            data: &message[..header_len - 1],
            step: 1000,
        },
        max,
    )
    .unwrap_err();
    assert_eq!(truncated.kind(), ErrorKind::InvalidCiphertextException);
}

#[test]
fn one_call_messages_round_trip_with_the_streams_and_fail_cleanly() {
    let f = fixture();
    let k = new_key(&f.ks);
    let c = ctx(&[("purpose", "test")]);
    for suite in [SIGNED, UNSIGNED] {
        for frame in [512u32, 4096] {
            let fl = frame as usize;
            for n in [0, 1, fl - 1, fl, fl + 1, 3 * fl + 5] {
                let pt = data(n);
                let o = opts(suite, frame);
                let (msg, s) = f.ks.encrypt_message(&pt, &[&k.key_id], &c, &o).unwrap();
                assert_eq!(s.plaintext_len, n as u64);
                assert_eq!(s.message_len, msg.len() as u64);
                assert_eq!(s.header.suite, suite);
                assert_eq!(s.header.encryption_context.get("purpose"), Some("test"));
                // One-call and streamed messages decrypt through either API.
                assert_eq!(decrypt(&f.ks, &msg).unwrap(), pt, "{suite:?} {frame} {n}");
                let streamed = encrypt(&f.ks, &[&k.key_id], &pt, &o);
                for m in [&msg, &streamed] {
                    let (out, s) = f.ks.decrypt_message(m, &DecryptOptions::default()).unwrap();
                    assert_eq!(out, pt);
                    assert_eq!(s.plaintext_len, n as u64);
                    assert_eq!(s.message_len, m.len() as u64);
                    assert_eq!(s.header.suite, suite);
                }
                // The `_into` variants append to a reused buffer.
                let mut buf = b"prefix".to_vec();
                let s =
                    f.ks.encrypt_message_into(&pt, &[&k.key_id], &c, &o, &mut buf)
                        .unwrap();
                assert_eq!(&buf[..6], b"prefix");
                assert_eq!(s.message_len, (buf.len() - 6) as u64);
                let mut out = b"kept".to_vec();
                f.ks.decrypt_message_into(&buf[6..], &DecryptOptions::default(), &mut out)
                    .unwrap();
                assert_eq!(&out[..4], b"kept");
                assert_eq!(out[4..], pt[..]);
            }
        }
        // Tampering in the last frame (earlier frames authenticate first)
        // and truncation: an error, and the buffer as it was.
        let pt = data(5000);
        let (msg, _) =
            f.ks.encrypt_message(&pt, &[&k.key_id], &c, &opts(suite, 512))
                .unwrap();
        let mut flipped = msg.clone();
        let i = msg.len() - if suite == SIGNED { 150 } else { 30 };
        flipped[i] ^= 1;
        for m in [&flipped[..], &msg[..msg.len() - 1]] {
            let mut out = b"kept".to_vec();
            let e =
                f.ks.decrypt_message_into(m, &DecryptOptions::default(), &mut out)
                    .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException, "{e:?}");
            assert_eq!(out, b"kept");
            assert!(f.ks.decrypt_message(m, &DecryptOptions::default()).is_err());
        }
    }
    // Bad options are refused before the keyring runs.
    let e =
        f.ks.encrypt_message(b"x", &[&k.key_id], &c, &opts(UNSIGNED, 0))
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
    let e =
        f.ks.encrypt_message(b"x", &[] as &[&str], &c, &opts(UNSIGNED, 4096))
            .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException);
}

#[test]
fn one_call_decryption_into_a_slice_or_an_exact_allocation() {
    let f = fixture();
    let k = new_key(&f.ks);
    let c = ctx(&[("purpose", "test")]);
    let keyring = KmsKeyring::discovery(&f.ks);
    let none = DecryptOptions::default();
    for suite in [SIGNED, UNSIGNED] {
        let pt = data(5000);
        let (msg, _) =
            f.ks.encrypt_message(&pt, &[&k.key_id], &c, &opts(suite, 512))
                .unwrap();
        // decrypt_message allocates the plaintext's length, not the message's.
        let (out, _) = f.ks.decrypt_message(&msg, &none).unwrap();
        assert_eq!((out.len(), out.capacity()), (pt.len(), pt.len()));
        // Too short: the exact length, nothing written, no key unwrapped.
        let events = decrypt_events(&f.ks);
        let mut short = vec![0xAAu8; pt.len() - 1];
        let r = env::decrypt_message_into_slice(&keyring, &msg, &none, &mut short).unwrap();
        assert!(matches!(r, env::SliceMessage::TooSmall { needed } if needed == pt.len()));
        assert!(short.iter().all(|&b| b == 0xAA));
        assert_eq!(decrypt_events(&f.ks), events);
        // Room: the plaintext at the start, the rest untouched.
        let mut buf = vec![0xAAu8; msg.len()];
        let env::SliceMessage::Written(s) =
            env::decrypt_message_into_slice(&keyring, &msg, &none, &mut buf).unwrap()
        else {
            panic!("expected Written");
        };
        assert_eq!(s.plaintext_len, pt.len() as u64);
        assert_eq!(s.message_len, msg.len() as u64);
        assert_eq!(buf[..pt.len()], pt[..]);
        assert!(buf[pt.len()..].iter().all(|&b| b == 0xAA));
        // Unsigned only: the signed suite refused once the header is read.
        let r = env::decrypt_message_into_slice_unsigned_only(&keyring, &msg, &none, &mut buf);
        if suite == SIGNED {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::ValidationException);
        } else {
            assert!(matches!(r.unwrap(), env::SliceMessage::Written(_)));
        }
        // The last frame or the signature tampered with: earlier frames
        // were decrypted into the slice, and are zero again.
        let mut flipped = msg.clone();
        let i = msg.len() - if suite == SIGNED { 1 } else { 30 };
        flipped[i] ^= 1;
        let mut buf = vec![0xAAu8; msg.len()];
        let e = env::decrypt_message_into_slice(&keyring, &flipped, &none, &mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException);
        assert!(buf[..pt.len()].iter().all(|&b| b == 0));
        assert!(buf[pt.len()..].iter().all(|&b| b == 0xAA));
    }
}

/// The file functions refuse every file of an open keystore as their output
/// (the keystore, its sidecars, audit log, root key file — also through a
/// symbolic or hard link), whatever the keyring: writing there would destroy
/// every key. The keystore still opens afterwards with every file intact.
#[test]
fn the_files_of_an_open_keystore_are_never_an_output() {
    use strongroom::{CreateOptions, RootKeySource};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.db");
    let key_file = dir.path().join("elsewhere.key");
    std::fs::write(&key_file, [7u8; 32]).unwrap();
    let root = || RootKeySource::File(key_file.clone());
    drop(Keystore::create(&path, root(), CreateOptions::default()).unwrap());
    let ks = Keystore::open(&path, root()).unwrap();
    let k = new_key(&ks);
    let p = dir.path().join("plain");
    std::fs::write(&p, data(5000)).unwrap();
    let m = dir.path().join("plain.sr");
    ks.encrypt_file(&p, &m, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
        .unwrap();
    let audit = strongroom::audit_log_path(&path);
    let sym = dir.path().join("sym.db");
    std::os::unix::fs::symlink(&path, &sym).unwrap();
    let hard = dir.path().join("hard.jsonl");
    std::fs::hard_link(&audit, &hard).unwrap();
    let wal = dir.path().join("ks.db-wal");
    let shm = dir.path().join("ks.db-shm");
    let default_key = dir.path().join("ks.key");
    let before = std::fs::read(&key_file).unwrap();
    let raw = RawAesKeyring::new("ns", "name", &[1u8; 32]).unwrap();
    let cases = [
        (&path, "the keystore"),
        (&sym, "the keystore"),
        (&wal, "the keystore's write-ahead log"),
        (&shm, "the keystore's shared-memory file"),
        (&audit, "the keystore's audit log"),
        (&hard, "the keystore's audit log"),
        (&key_file, "the root key file"),
        (&default_key, "the default root key file"),
    ];
    for (out, what) in cases {
        let errs = [
            ks.decrypt_file(&m, out, &DecryptOptions::default())
                .unwrap_err(),
            ks.decrypt_file_unsigned_only(&m, out, &DecryptOptions::default())
                .unwrap_err(),
            ks.encrypt_file(&p, out, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
                .unwrap_err(),
            env::encrypt_file(&raw, &p, out, &ctx(&[]), &EncryptOptions::default()).unwrap_err(),
            env::encrypt_to_path(
                &raw,
                &mut Cursor::new(b"x"),
                out,
                &ctx(&[]),
                &EncryptOptions::default(),
            )
            .unwrap_err(),
        ];
        for e in errs {
            assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
            assert_eq!(
                e.to_string(),
                format!(
                    "ValidationException: the output {} is {what}: writing it would destroy it; choose another path",
                    out.display()
                )
            );
        }
    }
    drop(ks);
    assert_eq!(
        std::fs::read(&key_file).unwrap(),
        before,
        "the root key file is untouched"
    );
    let ks = Keystore::open(&path, root()).unwrap();
    assert!(ks.verify_audit_log().unwrap().fault.is_none());
    ks.describe_key(&k.key_id).unwrap();
    drop(ks);
    // Once no handle is open, the paths are ordinary files again.
    env::encrypt_file(
        &raw,
        &p,
        &default_key,
        &ctx(&[]),
        &EncryptOptions::default(),
    )
    .unwrap();
}

/// A path the caller gave that cannot be used (missing, a directory, in a
/// missing directory, not permitted) is a `ValidationException` naming it,
/// before any key is used; `KMSInternalException` is kept for the
/// library's own failures.
#[test]
fn unusable_paths_are_validation_errors_naming_them() {
    let f = fixture();
    let k = new_key(&f.ks);
    let d = f.dir.path();
    let p = d.join("plain");
    std::fs::write(&p, data(100)).unwrap();
    let m = d.join("plain.sr");
    f.ks.encrypt_file(&p, &m, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
        .unwrap();
    let missing = d.join("missing");
    let no_dir = d.join("no-such-dir").join("out");
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let enc = |i: &Path, o: &Path| {
        f.ks.encrypt_file(i, o, &[&k.key_id], &ctx(&[]), &EncryptOptions::default())
            .unwrap_err()
    };
    let dec = |i: &Path, o: &Path| {
        f.ks.decrypt_file(i, o, &DecryptOptions::default())
            .unwrap_err()
    };
    let out = d.join("out");
    let cases = [
        (enc(&missing, &out), &missing),
        (dec(&missing, &out), &missing),
        (enc(&sub, &out), &sub),
        (dec(&sub, &out), &sub),
        (enc(&p, &no_dir), &no_dir),
        (dec(&m, &no_dir), &no_dir),
        (enc(&p, &sub), &sub),
        (dec(&m, &sub), &sub),
    ];
    for (e, path) in cases {
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
        assert!(!e.to_string().contains(".partial"), "{e}");
        assert!(
            e.to_string().contains(&path.display().to_string()),
            "{e} names {}",
            path.display()
        );
    }
    assert!(!out.exists());
    assert_eq!(decrypt_events(&f.ks), 0, "no key was used");
    // A directory the process may not write to (skipped as root, who may).
    let ro = d.join("read-only");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
    if std::fs::File::create(ro.join("probe")).is_err() {
        let e = dec(&m, &ro.join("out"));
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// A FIFO made with `mkfifo` at `path`, a thread reading it to its end,
/// and a handle that keeps it open for writing (opened read-write, which
/// Linux allows without waiting): the code under test never waits to open
/// it, and the reader sees the end only once that handle is dropped too,
/// so a call that never writes into the FIFO ends the read (empty) instead
/// of hanging the test.
#[cfg(unix)]
fn fifo_reader(path: &Path) -> (std::thread::JoinHandle<Vec<u8>>, std::fs::File) {
    use std::io::Read;
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
    let keep = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut r = std::fs::File::open(path).unwrap();
    let t = std::thread::spawn(move || {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    });
    (t, keep)
}

/// An output path that is a symbolic link was replaced by a regular file
/// (the temporary file renamed over the link), the file it named left
/// untouched. Now the file functions write through it: the file it names
/// is replaced (in its own directory) and the link kept; a link that names
/// no file is refused before anything is read, and nothing is created.
#[test]
#[cfg(unix)]
fn an_output_link_is_written_through_and_kept() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let raw = RawAesKeyring::new("ns", "name", &[1u8; 32]).unwrap();
    let p = d.join("plain");
    std::fs::write(&p, data(5000)).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let kept = |link: &Path, target: &str| {
        assert!(std::fs::symlink_metadata(link).unwrap().is_symlink());
        assert_eq!(std::fs::read_link(link).unwrap(), Path::new(target));
    };
    let m = d.join("sub/m");
    std::fs::write(&m, b"").unwrap();
    let m_link = d.join("m.link");
    symlink("sub/m", &m_link).unwrap();
    env::encrypt_file(&raw, &p, &m_link, &ctx(&[]), &EncryptOptions::default()).unwrap();
    kept(&m_link, "sub/m");
    let back = d.join("sub/back");
    std::fs::write(&back, b"old").unwrap();
    let back_link = d.join("back.link");
    symlink("sub/back", &back_link).unwrap();
    env::decrypt_file(&raw, &m, &back_link, &DecryptOptions::default()).unwrap();
    kept(&back_link, "sub/back");
    assert_eq!(std::fs::read(&back).unwrap(), data(5000));
    let dangling = d.join("dangling");
    symlink("sub/none", &dangling).unwrap();
    let e = env::decrypt_file(&raw, &m, &dangling, &DecryptOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
    assert!(
        e.message().contains("symbolic link that names no file"),
        "{e}"
    );
    kept(&dangling, "sub/none");
    assert!(!d.join("sub/none").exists());
}

#[cfg(unix)]
fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// An output that exists and is not a regular file (a FIFO here; as root,
/// `/dev/null`) was replaced: the temporary file was renamed over it, so
/// the reader of the FIFO got nothing and the node became a regular file
/// holding the plaintext. Now the output is staged anonymously and written
/// into the node once complete (nothing at all on a failure), and the node
/// stays what it was.
#[test]
#[cfg(unix)]
fn a_fifo_output_is_written_into_and_never_replaced() {
    let f = fixture();
    let k = new_key(&f.ks);
    let pt = data(300_000);
    let p = f.dir.path().join("plain");
    std::fs::write(&p, &pt).unwrap();
    let m = f.dir.path().join("plain.sr");
    let none = EncryptOptions::default();
    f.ks.encrypt_file(&p, &m, &[&k.key_id], &ctx(&[]), &none)
        .unwrap();
    let msg = std::fs::read(&m).unwrap();

    let fifo = f.dir.path().join("fifo");
    let (reader, keep) = fifo_reader(&fifo);
    let r = f.ks.encrypt_file(&p, &fifo, &[&k.key_id], &ctx(&[]), &none);
    drop(keep);
    let through_fifo = reader.join().unwrap();
    r.unwrap();
    assert!(is_fifo(&fifo), "the FIFO was replaced");
    assert_eq!(decrypt(&f.ks, &through_fifo).unwrap(), pt);
    std::fs::remove_file(&fifo).unwrap();

    for unsigned_only in [false, true] {
        let (reader, keep) = fifo_reader(&fifo);
        let o = DecryptOptions::default();
        let r = if unsigned_only {
            f.ks.decrypt_file_unsigned_only(&m, &fifo, &o)
        } else {
            f.ks.decrypt_file(&m, &fifo, &o)
        };
        drop(keep);
        let got = reader.join().unwrap();
        assert!(is_fifo(&fifo), "the FIFO was replaced");
        if unsigned_only {
            // The default suite is signed: refused, and nothing written.
            assert_eq!(r.unwrap_err().kind(), ErrorKind::ValidationException);
            assert!(got.is_empty());
        } else {
            r.unwrap();
            assert_eq!(got, pt);
        }
        std::fs::remove_file(&fifo).unwrap();
    }

    // A message that fails to authenticate releases nothing into the FIFO,
    // even for an unsigned suite whose first frames do authenticate.
    let unsigned = encrypt(&f.ks, &[&k.key_id], &pt, &opts(UNSIGNED, 4096));
    let cut = unsigned[..unsigned.len() - 10].to_vec();
    let mut flipped = msg.clone();
    let n = flipped.len();
    flipped[n - 1] ^= 1;
    let bad = f.dir.path().join("bad.sr");
    for tampered in [cut, flipped] {
        std::fs::write(&bad, &tampered).unwrap();
        let (reader, keep) = fifo_reader(&fifo);
        let r = f.ks.decrypt_file(&bad, &fifo, &DecryptOptions::default());
        drop(keep);
        let got = reader.join().unwrap();
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException, "{e}");
        assert!(got.is_empty(), "plaintext released");
        assert!(is_fifo(&fifo));
        std::fs::remove_file(&fifo).unwrap();
    }
}
