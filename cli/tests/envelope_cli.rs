//! `strongroom encrypt-file` / `decrypt-file` end to end: a 100 MiB file
//! encrypted by one process and decrypted by another with the same keystore,
//! stdin/stdout mode, `--show-header`, and failures that leave no output.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

mod common;

use common::{cmd_of, failed_with, json_of, s};

const DEBUG_BIN: &str = env!("CARGO_BIN_EXE_strongroom");

/// The release binary when it is at least as new as the debug one (much
/// faster for the 100 MiB file), else the debug binary cargo built for this test.
fn bin() -> PathBuf {
    let debug = PathBuf::from(DEBUG_BIN);
    let release = debug
        .parent()
        .and_then(Path::parent)
        .map(|t| t.join("release").join("strongroom"));
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match release {
        Some(r) if mtime(&r).is_some() && mtime(&r) >= mtime(&debug) => r,
        _ => debug,
    }
}

fn cmd(keystore: &Path) -> Command {
    cmd_of(&bin(), keystore)
}

#[track_caller]
fn ok(keystore: &Path, args: &[&str]) -> serde_json::Value {
    json_of(&cmd(keystore).args(args).output().unwrap(), args)
}

/// Runs `args` on `keystore` (with [`bin`]), which must fail with `exception`.
#[track_caller]
fn fails(keystore: &Path, args: &[&str], exception: &str) -> Output {
    let out = cmd(keystore).args(args).output().unwrap();
    failed_with(&out, args, exception);
    out
}

fn piped(keystore: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = cmd(keystore)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A keystore with one symmetric key: (dir, keystore path, key ARN).
fn setup() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    ok(&ks, &["init"]);
    let k = ok(&ks, &["create-key"]);
    let arn = k["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    (dir, ks, arn)
}

/// Writes `len` bytes of xorshift output to `path`, returning their SHA-256.
fn random_file(path: &Path, len: usize) -> Vec<u8> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut h = Sha256::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut block = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        for c in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len());
        f.write_all(&block[..n]).unwrap();
        h.update(&block[..n]);
        left -= n;
    }
    f.flush().unwrap();
    h.finalize().to_vec()
}

/// In `dir`: a plaintext file of `len` random bytes, and the paths for its
/// message and for the message's decryption (not created).
fn files(dir: &Path, len: usize) -> (PathBuf, PathBuf, PathBuf) {
    let plain = dir.join("p.bin");
    random_file(&plain, len);
    (plain, dir.join("p.sr"), dir.join("p.out"))
}

fn file_hash(path: &Path) -> Vec<u8> {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().to_vec()
}

#[test]
fn hundred_mib_file_round_trips_across_processes() {
    let (dir, ks, arn) = setup();
    let plain = dir.path().join("big.bin");
    let msg = dir.path().join("big.sr");
    let back = dir.path().join("big.out");
    let len = 100 * 1024 * 1024 + 12_345;
    let want = random_file(&plain, len);
    // Process 1 encrypts (default suite 0x0578, 4096-byte frames)...
    let e = ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&plain),
            "-o",
            s(&msg),
            "--key-id",
            &arn,
            "--encryption-context",
            "purpose=backup,host=db1",
        ],
    );
    assert_eq!(e["PlaintextBytes"], len as u64);
    assert_eq!(e["AlgorithmSuiteId"], "0x0578");
    // ...process 2 reads the header without decrypting...
    let h = ok(&ks, &["decrypt-file", "-i", s(&msg), "--show-header"]);
    assert_eq!(h["EncryptedDataKeys"][0]["ProviderId"], "aws-kms");
    assert_eq!(h["EncryptedDataKeys"][0]["ProviderInfo"], arn.as_str());
    assert_eq!(h["EncryptionContext"]["purpose"], "backup");
    assert_eq!(h["FrameLength"], 4096);
    assert!(!back.exists());
    // ...and process 3 decrypts, requiring part of the context.
    let d = ok(
        &ks,
        &[
            "decrypt-file",
            "-i",
            s(&msg),
            "-o",
            s(&back),
            "--required-context",
            "purpose=backup",
        ],
    );
    assert_eq!(d["PlaintextBytes"], len as u64);
    assert_eq!(file_hash(&back), want);
}

#[test]
fn stdin_stdout_mode_both_suites() {
    let (_dir, ks, arn) = setup();
    let mut pt = vec![0u8; 3 * 1024 * 1024 + 7];
    for (i, b) in pt.iter_mut().enumerate() {
        *b = (i * 31 % 251) as u8;
    }
    for suite in ["0x0578", "0x0478", "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"] {
        let e = piped(
            &ks,
            &[
                "encrypt-file",
                "-i",
                "-",
                "-o",
                "-",
                "--key-id",
                &arn,
                "--algorithm-suite",
                suite,
                "--frame-length",
                "1000",
            ],
            &pt,
        );
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        let d = piped(&ks, &["decrypt-file", "-i", "-", "-o", "-"], &e.stdout);
        assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
        assert!(d.stdout == pt, "{suite}: plaintext differs");
        // A flipped byte in the signed footer / last frame: nothing on stdout for signed suites.
        let mut bad = e.stdout.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x40;
        let d = piped(&ks, &["decrypt-file", "-i", "-", "-o", "-"], &bad);
        failed_with(&d, &[suite], "InvalidCiphertextException");
        if suite == "0x0578" {
            assert!(
                d.stdout.is_empty(),
                "signed plaintext released before verification"
            );
        }
    }
}

#[test]
fn decrypt_unsigned_refuses_signed_messages_before_unwrapping() {
    let (dir, ks, arn) = setup();
    let plain = dir.path().join("p.bin");
    let out = dir.path().join("p.out");
    let want = random_file(&plain, 40_000);
    let pt = std::fs::read(&plain).unwrap();
    let decrypts = |ks: &Path| {
        let e = ok(ks, &["audit", "show", "--event-name", "Decrypt"]);
        e.as_array().map_or(0, Vec::len)
    };
    for (suite, signed) in [("0x0578", true), ("0x0478", false)] {
        let msg = dir.path().join(format!("p.{suite}"));
        ok(
            &ks,
            &[
                "encrypt-file",
                "-i",
                s(&plain),
                "-o",
                s(&msg),
                "--key-id",
                &arn,
                "--algorithm-suite",
                suite,
                "--frame-length",
                "1000",
            ],
        );
        let before = decrypts(&ks);
        let r = cmd(&ks)
            .args([
                "decrypt-file",
                "--decrypt-unsigned",
                "-i",
                s(&msg),
                "-o",
                s(&out),
            ])
            .output()
            .unwrap();
        let bytes = std::fs::read(&msg).unwrap();
        let piped_out = piped(
            &ks,
            &["decrypt-file", "--decrypt-unsigned", "-i", "-", "-o", "-"],
            &bytes,
        );
        if signed {
            for (code, stderr) in [
                (r.status.code(), &r.stderr),
                (piped_out.status.code(), &piped_out.stderr),
            ] {
                assert_eq!(code, Some(1));
                assert!(String::from_utf8_lossy(stderr).contains("ValidationException"));
            }
            assert!(!out.exists() && piped_out.stdout.is_empty());
            assert_eq!(
                decrypts(&ks),
                before,
                "a data key was unwrapped for a refused message"
            );
        } else {
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
            assert_eq!(file_hash(&out), want);
            assert!(piped_out.status.success());
            assert!(piped_out.stdout == pt);
        }
    }
}

#[test]
fn failed_decrypt_leaves_no_output_file() {
    let (dir, ks, arn) = setup();
    let (plain, msg, out) = files(dir.path(), 50_000);
    ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&plain),
            "-o",
            s(&msg),
            "--key-id",
            &arn,
            "--algorithm-suite",
            "0x0478",
            "--encryption-context",
            "a=b",
        ],
    );
    let good = std::fs::read(&msg).unwrap();
    // `-o json` (the other commands' format option) is refused, not a file name.
    fails(
        &ks,
        &["decrypt-file", "-i", s(&msg), "-o", "json"],
        "ValidationException",
    );
    // Truncated (unsigned suite: frames authenticate, the final frame is missing).
    std::fs::write(&msg, &good[..good.len() - 100]).unwrap();
    fails(
        &ks,
        &["decrypt-file", "-i", s(&msg), "-o", s(&out)],
        "InvalidCiphertextException",
    );
    assert!(!out.exists());
    // Required context not met.
    std::fs::write(&msg, &good).unwrap();
    fails(
        &ks,
        &[
            "decrypt-file",
            "-i",
            s(&msg),
            "-o",
            s(&out),
            "--required-context",
            "a=c",
        ],
        "InvalidCiphertextException",
    );
    assert!(!out.exists());
    // Disabled key: a clean DisabledException.
    ok(&ks, &["disable-key", "--key-id", &arn]);
    fails(
        &ks,
        &["decrypt-file", "-i", s(&msg), "-o", s(&out)],
        "DisabledException",
    );
    assert!(!out.exists());
    let leftovers = std::fs::read_dir(dir.path())
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
fn zero_max_encrypted_data_keys_is_refused_as_the_esdk_does() {
    let (dir, ks, arn) = setup();
    let (plain, msg, out) = files(dir.path(), 1000);
    let refused = |args: &[&str]| {
        let r = fails(&ks, args, "ValidationException");
        let stderr = String::from_utf8_lossy(&r.stderr);
        // In no front end's terms (not the Rust or Python name, nor `None`).
        assert!(
            stderr.contains("the limit on encrypted data keys cannot be less than 1")
                && !stderr.contains("None")
                && !stderr.contains("max_encrypted"),
            "{args:?}: {stderr}"
        );
    };
    let zero = ["--max-encrypted-data-keys", "0"];
    let encrypt = [
        "encrypt-file",
        "-i",
        s(&plain),
        "-o",
        s(&msg),
        "--key-id",
        &arn,
    ];
    refused(&[&encrypt[..], &zero[..]].concat());
    assert!(!msg.exists());
    ok(&ks, &encrypt);
    let decrypt = ["decrypt-file", "-i", s(&msg), "-o", s(&out)];
    refused(&[&decrypt[..], &zero[..]].concat());
    assert!(!out.exists());
    // 1 is the smallest limit (the message has one encrypted data key).
    ok(
        &ks,
        &[&decrypt[..], &["--max-encrypted-data-keys", "1"][..]].concat(),
    );
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());
    // A message over the limit: the same words.
    std::fs::remove_file(&msg).unwrap();
    std::fs::remove_file(&out).unwrap();
    ok(&ks, &[&encrypt[..], &["--key-id", &arn][..]].concat());
    let r = fails(
        &ks,
        &[&decrypt[..], &["--max-encrypted-data-keys", "1"][..]].concat(),
        "ValidationException",
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("2 encrypted data keys, more than the limit on encrypted data keys (1)"),
        "{stderr}"
    );
}

#[test]
fn raw_aes_keyring_without_a_keystore() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("wrap.key");
    std::fs::write(
        &key,
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    )
    .unwrap();
    let ks = dir.path().join("none.db");
    let args = |op: &'static str| {
        vec![
            op.to_string(),
            "-i".into(),
            "-".into(),
            "-o".into(),
            "-".into(),
            "--raw-aes-key-file".into(),
            s(&key).to_string(),
            "--raw-key-namespace".into(),
            "ns".into(),
            "--raw-key-name".into(),
            "k1".into(),
        ]
    };
    let ea = args("encrypt-file");
    let e = piped(
        &ks,
        &ea.iter().map(String::as_str).collect::<Vec<_>>(),
        b"hello raw",
    );
    assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
    let da = args("decrypt-file");
    let d = piped(
        &ks,
        &da.iter().map(String::as_str).collect::<Vec<_>>(),
        &e.stdout,
    );
    assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
    assert_eq!(d.stdout, b"hello raw");
    assert!(!ks.exists());
}

/// `encrypt-file` / `decrypt-file` run as the global `--principal`: a
/// principal of another account is refused by the default key policy, and
/// the account's own principals are allowed.
#[test]
fn envelope_commands_act_as_the_principal() {
    let (dir, ks, arn) = setup();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, b"principal check").unwrap();
    let sealed = dir.path().join("in.sealed");
    let outsider = "arn:aws:iam::111111111111:user/mallory";
    let encrypt = [
        "encrypt-file",
        "--key-id",
        &arn,
        "-i",
        s(&input),
        "-o",
        s(&sealed),
    ];
    fails(
        &ks,
        &[&["--principal", outsider][..], &encrypt[..]].concat(),
        "AccessDeniedException",
    );
    assert!(!sealed.exists());

    let insider = "arn:aws:iam::000000000000:user/app";
    ok(&ks, &[&["--principal", insider][..], &encrypt[..]].concat());
    let back = dir.path().join("back.txt");
    let out = cmd(&ks)
        .args([
            "--principal",
            outsider,
            "decrypt-file",
            "-i",
            s(&sealed),
            "-o",
            s(&back),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!back.exists());
    ok(
        &ks,
        &[
            "--principal",
            insider,
            "decrypt-file",
            "-i",
            s(&sealed),
            "-o",
            s(&back),
        ],
    );
    assert_eq!(std::fs::read(&back).unwrap(), b"principal check");
}

#[test]
fn suite_and_policy_names_parse_as_in_core() {
    let (dir, ks, arn) = setup();
    let plain = dir.path().join("n.bin");
    let msg = dir.path().join("n.sr");
    random_file(&plain, 5_000);
    let enc = |suite: &str, policy: &str| {
        cmd(&ks)
            .args(["encrypt-file", "-i", s(&plain), "-o", s(&msg), "--key-id"])
            .args([
                &arn,
                "--algorithm-suite",
                suite,
                "--commitment-policy",
                policy,
            ])
            .output()
            .unwrap()
    };
    // ESDK names in any case; the ESDK for Java's PascalCase policy names too.
    let r = enc(
        "aes_256_gcm_hkdf_sha512_commit_key_ecdsa_p384",
        "RequireEncryptAllowDecrypt",
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let h = ok(&ks, &["decrypt-file", "-i", s(&msg), "--show-header"]);
    assert_eq!(h["AlgorithmSuiteId"], "0x0578");
    // Unknown names are ValidationExceptions that list what is accepted.
    for (suite, policy, listed) in [
        (
            "AES_128_GCM_IV12_TAG16_NO_KDF",
            "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
            "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        ),
        ("0x0478", "REQUIRE_ALL", "FORBID_ENCRYPT_ALLOW_DECRYPT"),
    ] {
        let r = enc(suite, policy);
        failed_with(&r, &[suite, policy], "ValidationException");
        assert!(String::from_utf8_lossy(&r.stderr).contains(listed));
    }
}

/// `--frame-length` stops at 256 MiB, what `decrypt-file` buffers of a frame
/// by default; `--max-frame-buffer` sets that bound (LimitExceededException
/// above it, no internal names); a missing input is the caller's error.
#[test]
fn frame_length_limit_and_max_frame_buffer() {
    let (dir, ks, arn) = setup();
    let (plain, msg, out) = files(dir.path(), 10_000);
    let (p, m, o) = (s(&plain), s(&msg), s(&out));
    let e = fails(
        &ks,
        &[
            "encrypt-file",
            "-i",
            p,
            "-o",
            m,
            "--key-id",
            &arn,
            "--frame-length",
            "268435457",
        ],
        "ValidationException",
    );
    assert!(String::from_utf8_lossy(&e.stderr).contains("268435456 bytes (256 MiB"));
    ok(&ks, &["encrypt-file", "-i", p, "-o", m, "--key-id", &arn]);
    let e = fails(
        &ks,
        &[
            "decrypt-file",
            "-i",
            m,
            "-o",
            o,
            "--max-frame-buffer",
            "100",
        ],
        "LimitExceededException",
    );
    let err = String::from_utf8_lossy(&e.stderr);
    assert!(
        err.contains("max frame buffer: 100 bytes") && !err.contains("max_content_buffer"),
        "{err}"
    );
    assert!(!out.exists());
    // Out of range: core's one rule and message (0 and past 2^32 - 1; the
    // latter was clap's usage error).
    for bad in ["0", "4294967296"] {
        let e = fails(
            &ks,
            &["decrypt-file", "-i", m, "-o", o, "--max-frame-buffer", bad],
            "ValidationException",
        );
        let err = String::from_utf8_lossy(&e.stderr);
        assert!(
            err.contains(
                "max frame buffer must be 1 to 4294967295 bytes (default 268435456, 256 MiB)"
            ),
            "{err}"
        );
    }
    ok(
        &ks,
        &[
            "decrypt-file",
            "-i",
            m,
            "-o",
            o,
            "--max-frame-buffer",
            "4096",
        ],
    );
    assert_eq!(file_hash(&out), file_hash(&plain));
}
