//! Defects found by a user trial of the `strongroom` command: root key
//! sources and their precedence, output files that would clobber the
//! keystore, secrets in output files, closed pipes, interrupted
//! `decrypt-file`, audit filters and `-` as an output path.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;

mod common;

use common::*;

/// Asserts that `out` failed with exit code 1 naming `exception` and
/// containing `text` on stderr.
#[track_caller]
fn failed(out: &Output, exception: &str, text: &str) {
    failed_with(out, &[], exception);
    assert!(
        out.stdout.is_empty(),
        "printed on failure: {:?}",
        out.stdout
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(text), "expected {text:?}, got {err:?}");
}

/// Asserts that `out` exited 1 saying that its operation succeeded but
/// its output (containing `text`) was not written, printing nothing.
#[track_caller]
fn output_not_written(out: &Output, text: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "printed: {:?}", out.stdout);
    assert!(
        err.contains("operation succeeded, but its output was not written") && err.contains(text),
        "expected {text:?}, got {err:?}"
    );
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn passphrase_env_must_be_set_and_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("p.db");
    let unset = cmd(&ks)
        .env_remove("SR_TEST_UNSET_PASSPHRASE")
        .args(["--passphrase-env", "SR_TEST_UNSET_PASSPHRASE", "init"])
        .output()
        .unwrap();
    failed(&unset, "ValidationException", "SR_TEST_UNSET_PASSPHRASE");
    assert!(
        !ks.exists(),
        "a keystore was created under an unset variable"
    );

    let empty = cmd(&ks)
        .env("SR_TEST_PASSPHRASE", "")
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "init"])
        .output()
        .unwrap();
    failed(&empty, "ValidationException", "empty passphrase");
    assert!(
        !ks.exists(),
        "a keystore was created under an empty passphrase"
    );

    // A real passphrase works, and opening with the variable unset fails
    // rather than trying the empty passphrase.
    let good = cmd(&ks)
        .env("SR_TEST_PASSPHRASE", "correct horse")
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "init"])
        .output()
        .unwrap();
    json_of(&good, &["init"]);
    let list = cmd(&ks)
        .env_remove("SR_TEST_PASSPHRASE")
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "list-keys"])
        .output()
        .unwrap();
    failed(&list, "ValidationException", "SR_TEST_PASSPHRASE");

    // Without --passphrase-env, the error says the keystore is
    // passphrase-protected and how to open it, not just that the default
    // `.key` file (which it never had) is missing; read-only commands too.
    // The same with a key file that holds a (wrong) key, the default one or
    // one named: the keystore records that it takes a passphrase.
    let expected = |out: &std::process::Output, what: &str| {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {err}");
        assert!(
            err.contains("(ValidationException)")
                && err.contains("is protected by a passphrase")
                && err.contains("pass --passphrase-env VAR")
                && !err.contains(".key"),
            "{what}: {err}"
        );
    };
    let commands = [
        &["list-keys"][..],
        &["audit", "verify"],
        &["anchor", "status"],
    ];
    for args in commands {
        expected(&cmd(&ks).args(args).output().unwrap(), &format!("{args:?}"));
    }
    let wrong = dir.path().join("wrong.key");
    std::fs::write(&wrong, [7u8; 32]).unwrap();
    for args in commands {
        let out = cmd(&ks)
            .arg("--root-key-file")
            .arg(&wrong)
            .args(args)
            .output()
            .unwrap();
        expected(&out, &format!("--root-key-file {args:?}"));
    }
    std::fs::write(dir.path().join("p.key"), [7u8; 32]).unwrap();
    for args in commands {
        expected(
            &cmd(&ks).args(args).output().unwrap(),
            &format!("p.key {args:?}"),
        );
    }
    // A command that opens no keystore (a raw AES key only) keeps its own
    // error beside a passphrase keystore.
    let wrap = dir.path().join("wrap.key");
    std::fs::write(&wrap, [9u8; 32]).unwrap();
    let missing = dir.path().join("missing.sealed");
    let out = cmd(&ks)
        .arg("decrypt-file")
        .arg("-i")
        .arg(&missing)
        .args([
            "-o",
            "-",
            "--raw-key-namespace",
            "ns",
            "--raw-key-name",
            "k1",
        ])
        .arg("--raw-aes-key-file")
        .arg(&wrap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("missing.sealed") && !err.contains("passphrase"),
        "{err}"
    );
}

/// `--passphrase-env` with `--root-key-file` (on the command line) or
/// `--root-key-env` is refused, naming both flags, before any keystore is
/// made (it used to win silently over the other flag); from the
/// environment (`STRONGROOM_ROOT_KEY_FILE`) the key file is a default the
/// passphrase takes precedence over. A wrong passphrase says so (review
/// P1, P3).
#[test]
fn passphrase_env_with_a_root_key_flag_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("p.db");
    let key_file = dir.path().join("other.key");
    std::fs::write(&key_file, [7u8; 32]).unwrap();
    for (flag, value) in [
        ("--root-key-file", s(&key_file)),
        ("--root-key-env", "SR_TEST_ROOT_KEY"),
    ] {
        let out = cmd(&ks)
            .env("SR_TEST_PASSPHRASE", "correct horse")
            .env("SR_TEST_ROOT_KEY", b64(&[7u8; 32]))
            .args([
                "--passphrase-env",
                "SR_TEST_PASSPHRASE",
                flag,
                value,
                "init",
            ])
            .output()
            .unwrap();
        failed(
            &out,
            "ValidationException",
            &format!("--passphrase-env and {flag} were both given"),
        );
        assert!(!ks.exists(), "{flag}: a keystore was created");
    }
    // The help says so.
    let help = cmd(&ks).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Refused together with --root-key-file"),
        "{help}"
    );
    // The key file from the environment is only a default.
    let out = cmd(&ks)
        .env("SR_TEST_PASSPHRASE", "correct horse")
        .env("STRONGROOM_ROOT_KEY_FILE", &key_file)
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "init"])
        .output()
        .unwrap();
    json_of(&out, &["init"]);
    let wrong = cmd(&ks)
        .env("SR_TEST_PASSPHRASE", "wrong horse")
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "list-keys"])
        .output()
        .unwrap();
    failed(&wrong, "AccessDeniedException", "the passphrase is wrong");
}

#[test]
fn export_keystore_refuses_to_overwrite_the_keystore_files() {
    let (dir, ks, _) = keystore_with_key();
    let key_file = dir.path().join("ks.key");
    let audit = dir.path().join("ks.db.audit.jsonl");
    assert!(audit.exists());
    let before: Vec<Vec<u8>> = [&ks, &key_file, &audit]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let via_dotdot = sub.join("..").join("ks.key");
    let wal = dir.path().join("ks.db-wal");
    let signal = dir.path().join("ks.db-signal");
    let rotating = dir.path().join("ks.db.audit.jsonl.rotating");
    for (target, what) in [
        (&key_file, "root key file"),
        (&via_dotdot, "root key file"),
        (&ks, "the keystore"),
        (&audit, "audit log"),
        (&wal, "write-ahead log"),
        (&signal, "change-signal file"),
        (&rotating, "next audit log while a rotation writes it"),
    ] {
        let out = run(&ks, &["export-keystore", "--outfile", s(target)]);
        failed(&out, "ValidationException", what);
    }
    // A hard link to the key file is the same file.
    let link = dir.path().join("link.bin");
    std::fs::hard_link(&key_file, &link).unwrap();
    failed(
        &run(&ks, &["export-keystore", "--outfile", s(&link)]),
        "ValidationException",
        "root key file",
    );
    let after: Vec<Vec<u8>> = [&ks, &key_file, &audit]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(before == after, "a keystore file changed");
    ok(&ks, &["list-keys"]);

    // The other writers check the same files.
    failed(
        &run(
            &ks,
            &[
                "generate-random",
                "--number-of-bytes",
                "32",
                "--outfile",
                s(&key_file),
            ],
        ),
        "ValidationException",
        "root key file",
    );
    let msg = dir.path().join("m.bin");
    std::fs::write(&msg, b"x").unwrap();
    failed(
        &run(&ks, &["decrypt-file", "-i", s(&msg), "-o", s(&key_file)]),
        "ValidationException",
        "root key file",
    );

    // A good path works, and a failure to write leaves no file behind.
    let backup = dir.path().join("backup.bin");
    assert!(ok(&ks, &["export-keystore", "--outfile", s(&backup)]).is_null());
    assert!(!std::fs::read(&backup).unwrap().is_empty());
    let bad = dir.path().join("missing-dir").join("backup.bin");
    let out = run(&ks, &["export-keystore", "--outfile", s(&bad)]);
    output_not_written(&out, "cannot write");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn root_key_file_flag_beats_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    let explicit = dir.path().join("explicit.key");
    let env_key = b64(&[7u8; 32]);
    let out = cmd(&ks)
        .env("STRONGROOM_ROOT_KEY", &env_key)
        .args(["--root-key-file", s(&explicit), "init"])
        .output()
        .unwrap();
    let v = json_of(&out, &["init"]);
    assert_eq!(v["RootKeyFile"], s(&explicit));
    assert!(explicit.exists(), "init did not write --root-key-file");
    // Sealed under the file's key, not the environment's.
    let with_file = cmd(&ks)
        .env("STRONGROOM_ROOT_KEY", &env_key)
        .args(["--root-key-file", s(&explicit), "list-keys"])
        .output()
        .unwrap();
    json_of(&with_file, &["list-keys"]);
    let with_env = cmd(&ks)
        .env("STRONGROOM_ROOT_KEY", &env_key)
        .arg("list-keys")
        .output()
        .unwrap();
    assert_eq!(with_env.status.code(), Some(1));
    // The variable still beats STRONGROOM_ROOT_KEY_FILE (both environment).
    let env_file = cmd(&ks)
        .env("STRONGROOM_ROOT_KEY", &env_key)
        .env("STRONGROOM_ROOT_KEY_FILE", &explicit)
        .arg("list-keys")
        .output()
        .unwrap();
    assert_eq!(env_file.status.code(), Some(1));
}

#[test]
fn secrets_written_to_files_are_private_and_not_printed() {
    let (dir, ks, key) = keystore_with_key();
    let f = |n: &str| dir.path().join(n);

    let v = ok(
        &ks,
        &[
            "generate-data-key",
            "--key-id",
            &key,
            "--key-spec",
            "AES_256",
            "--outfile",
            s(&f("dk")),
            "--ciphertext-outfile",
            s(&f("dk.blob")),
        ],
    );
    assert!(v.get("Plaintext").is_none(), "{v}");
    assert!(v["CiphertextBlob"].is_string());
    assert_eq!(std::fs::read(f("dk")).unwrap().len(), 32);
    #[cfg(unix)]
    assert_eq!(mode(&f("dk")), 0o600);

    let v = ok(
        &ks,
        &[
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", s(&f("dk.blob"))),
            "--outfile",
            s(&f("dk2")),
        ],
    );
    assert!(v.get("Plaintext").is_none(), "{v}");
    assert_eq!(
        std::fs::read(f("dk2")).unwrap(),
        std::fs::read(f("dk")).unwrap()
    );
    #[cfg(unix)]
    assert_eq!(mode(&f("dk2")), 0o600);
    // Overwriting an existing world-readable file leaves a private one.
    std::fs::write(f("old"), b"public").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f("old"), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let v = ok(
        &ks,
        &[
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", s(&f("dk.blob"))),
            "--outfile",
            s(&f("old")),
        ],
    );
    assert!(v.get("Plaintext").is_none());
    #[cfg(unix)]
    assert_eq!(mode(&f("old")), 0o600);

    // Without --outfile the plaintext is printed, as the AWS CLI does.
    let v = ok(
        &ks,
        &[
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", s(&f("dk.blob"))),
        ],
    );
    assert!(v["Plaintext"].is_string());

    let pair = ok(
        &ks,
        &[
            "generate-data-key-pair",
            "--key-id",
            &key,
            "--key-pair-spec",
            "ECC_NIST_P256",
            "--private-key-outfile",
            s(&f("priv.der")),
        ],
    );
    assert!(pair.get("PrivateKeyPlaintext").is_none(), "{pair}");
    assert!(pair["PublicKey"].is_string());
    #[cfg(unix)]
    assert_eq!(mode(&f("priv.der")), 0o600);

    let agree = ok(
        &ks,
        &[
            "create-key",
            "--key-spec",
            "ECC_NIST_P256",
            "--key-usage",
            "KEY_AGREEMENT",
        ],
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let peer = pair["PublicKey"].as_str().unwrap();
    let v = ok(
        &ks,
        &[
            "derive-shared-secret",
            "--key-id",
            &agree,
            "--key-agreement-algorithm",
            "ECDH",
            "--public-key",
            peer,
            "--outfile",
            s(&f("z")),
        ],
    );
    assert!(v.get("SharedSecret").is_none(), "{v}");
    assert_eq!(std::fs::read(f("z")).unwrap().len(), 32);
    #[cfg(unix)]
    assert_eq!(mode(&f("z")), 0o600);

    // The wrapped copy is written first: if it cannot be, there is no
    // plaintext data key on disk either.
    let out = run(
        &ks,
        &[
            "generate-data-key",
            "--key-id",
            &key,
            "--key-spec",
            "AES_256",
            "--outfile",
            s(&f("lonely")),
            "--ciphertext-outfile",
            s(&f("no-such-dir/lonely.blob")),
        ],
    );
    output_not_written(&out, "cannot write");
    assert!(
        !f("lonely").exists(),
        "plaintext data key left without its wrapped copy"
    );
}

/// Runs `args` with stdout a pipe whose read end is closed before the
/// command writes, and returns its exit status and stderr.
fn with_closed_stdout(keystore: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = cmd(keystore)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Dropping our only read end closes the pipe: every write gets EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let (_dir, ks, key) = keystore_with_key();
    for _ in 0..3 {
        ok(&ks, &["create-key"]);
    }
    // Enough message that the writes cannot all fit in the pipe's buffer.
    let big = ks.with_file_name("big.bin");
    std::fs::write(&big, vec![7u8; 4 << 20]).unwrap();
    let message = ks.with_file_name("big.enc");
    ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&big),
            "-o",
            s(&message),
            "--key-id",
            &key,
        ],
    );
    for args in [
        &["encrypt-file", "-i", s(&big), "-o", "-", "--key-id", &key][..],
        &["decrypt-file", "-i", s(&message), "-o", "-"],
        &["list-keys"],
        &["audit", "show"],
        &["--output", "text", "audit", "show"],
        &["describe-key", "--key-id", &key],
    ] {
        let (code, err) = with_closed_stdout(&ks, args);
        assert!(
            code == Some(141) || code == Some(0),
            "{args:?}: exit {code:?}, stderr {err:?}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn a_failed_decryption_beats_a_closed_stdout() {
    let (_dir, ks, key) = keystore_with_key();
    // Unsigned suite, 4 KiB frames: each frame is released once it
    // authenticates, and 64 KiB stay in the CLI's output buffer until the
    // decryption ends, so the first write to the closed stdout comes after
    // the failure.
    let plain = ks.with_file_name("plain.bin");
    std::fs::write(&plain, vec![5u8; 64 << 10]).unwrap();
    let encrypt = |suite: &str, out: &Path| {
        ok(
            &ks,
            &[
                "encrypt-file",
                "-i",
                s(&plain),
                "-o",
                s(out),
                "--key-id",
                &key,
                "--algorithm-suite",
                suite,
                "--frame-length",
                "4096",
            ],
        );
        std::fs::read(out).unwrap()
    };
    let unsigned = encrypt(
        "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        &ks.with_file_name("unsigned.enc"),
    );
    let signed = encrypt(
        "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        &ks.with_file_name("signed.enc"),
    );
    let mut tampered = unsigned.clone();
    let n = tampered.len();
    tampered[n - 20] ^= 1;
    let cases: [(&str, &[u8]); 3] = [
        ("unsigned-truncated", &unsigned[..unsigned.len() - 7]),
        ("unsigned-tampered", &tampered),
        ("signed-truncated", &signed[..signed.len() - 7]),
    ];
    for (name, bytes) in cases {
        let bad = ks.with_file_name(format!("{name}.enc"));
        std::fs::write(&bad, bytes).unwrap();
        let (code, err) = with_closed_stdout(&ks, &["decrypt-file", "-i", s(&bad), "-o", "-"]);
        assert_eq!(code, Some(1), "{name}: stderr {err:?}");
        assert!(
            err.contains("(InvalidCiphertextException)") && err.contains("DecryptFile"),
            "{name}: {err}"
        );
        if name.starts_with("unsigned") {
            let (code, err) = with_closed_stdout(
                &ks,
                &[
                    "decrypt-file",
                    "-i",
                    s(&bad),
                    "-o",
                    "-",
                    "--decrypt-unsigned",
                ],
            );
            assert_eq!(code, Some(1), "{name} --decrypt-unsigned: stderr {err:?}");
            assert!(
                err.contains("(InvalidCiphertextException)"),
                "{name}: {err}"
            );
        }
    }
    // A KMS error (the key is disabled) wins too.
    ok(&ks, &["disable-key", "--key-id", &key]);
    let good = ks.with_file_name("unsigned.enc");
    let (code, err) = with_closed_stdout(&ks, &["decrypt-file", "-i", s(&good), "-o", "-"]);
    assert_eq!(code, Some(1), "stderr {err:?}");
    assert!(err.contains("(DisabledException)"), "{err}");
}

/// The `.strongroom-*.partial` files in `dir`.
fn partial_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(".strongroom-") && n.ends_with(".partial")
        })
        .collect()
}

/// Starts `args` reading `input[..fed]` from a pipe held open, waits until
/// its temporary output file holds data, sends `signal` and returns the
/// exit code.
fn interrupt(ks: &Path, dir: &Path, args: &[&str], input: &[u8], signal: &str) -> Option<i32> {
    use std::io::Write;
    let mut child = cmd(ks)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    // Wait until the temporary file holds part of the output (polling; the
    // bound only keeps a broken build from hanging the test run).
    for polls in 0.. {
        assert!(polls < 15_000, "{args:?}: no partial output appeared");
        let partial = partial_files(dir);
        if partial
            .iter()
            .any(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
        {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{args:?} exited early: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    out.status.code()
}

#[test]
#[cfg(unix)]
fn interrupted_file_commands_remove_their_partial_output() {
    let (dir, ks, key) = keystore_with_key();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // 4 MiB of input: several of the 1 MiB chunks the commands read at a time.
    let data: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let plain = dir.path().join("plain.bin");
    std::fs::write(&plain, &data).unwrap();
    let message = dir.path().join("plain.enc");
    ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&plain),
            "-o",
            s(&message),
            "--key-id",
            &key,
        ],
    );
    let message = std::fs::read(&message).unwrap();

    let out = work.join("out.bin");
    let code = interrupt(
        &ks,
        &work,
        &["decrypt-file", "-i", "-", "-o", s(&out)],
        &message[..message.len() * 3 / 4],
        "TERM",
    );
    assert_eq!(code, Some(143));
    assert!(
        partial_files(&work).is_empty(),
        "{:?}",
        partial_files(&work)
    );
    assert!(!out.exists());

    let enc = work.join("out.enc");
    let code = interrupt(
        &ks,
        &work,
        &["encrypt-file", "-i", "-", "-o", s(&enc), "--key-id", &key],
        &data[..data.len() * 3 / 4],
        "INT",
    );
    assert_eq!(code, Some(130));
    assert!(
        partial_files(&work).is_empty(),
        "{:?}",
        partial_files(&work)
    );
    assert!(!enc.exists());

    let code = interrupt(
        &ks,
        &work,
        &["decrypt-file", "-i", "-", "-o", s(&out)],
        &message[..message.len() / 2],
        "HUP",
    );
    assert_eq!(code, Some(129));
    assert!(
        partial_files(&work).is_empty(),
        "{:?}",
        partial_files(&work)
    );
}

#[test]
fn audit_show_refuses_bad_filters() {
    let (_dir, ks, key) = keystore_with_key();
    ok(
        &ks,
        &[
            "create-alias",
            "--alias-name",
            "alias/x",
            "--target-key-id",
            &key,
        ],
    );
    let events = ok(&ks, &["audit", "show"]);
    let first = events[0]["eventTime"].as_str().unwrap().to_string();
    assert_eq!(first.len(), 20, "{first}");
    for bad in ["yesterday", "2024-13-45", "2023-02-29", "2024-01-01 10:00"] {
        for flag in ["--start-time", "--end-time"] {
            failed(
                &run(&ks, &["audit", "show", flag, bad]),
                "ValidationException",
                bad,
            );
        }
    }
    for alias in ["alias/x", "arn:aws:kms:local-1:000000000000:alias/x"] {
        failed(
            &run(&ks, &["audit", "show", "--key-id", alias]),
            "ValidationException",
            "TargetKeyId",
        );
    }
    // The documented forms still filter: the day of the first record and
    // the full time both include it.
    for t in [&first[..10], &first[..13], &first[..]] {
        let v = ok(&ks, &["audit", "show", "--start-time", t, "--end-time", t]);
        assert!(
            v.as_array()
                .unwrap()
                .iter()
                .any(|e| e["eventTime"] == first),
            "{t}"
        );
    }
    let by_key = ok(&ks, &["audit", "show", "--key-id", &key]);
    assert!(!by_key.as_array().unwrap().is_empty());
}

#[test]
fn dash_outfile_is_stdout() {
    let (dir, ks, key) = keystore_with_key();
    let run_in = |args: &[&str]| {
        cmd(&ks)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run_in(&[
        "encrypt",
        "--key-id",
        &key,
        "--plaintext",
        &b64(b"hello"),
        "--outfile",
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Only the raw blob on stdout, no JSON.
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_err());
    let blob = out.stdout;
    let v = ok(&ks, &["decrypt", "--ciphertext-blob", &b64(&blob)]);
    assert_eq!(v["Plaintext"], b64(b"hello"));

    let out = run_in(&["export-keystore", "--outfile", "-"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
    let copy = dir.path().join("copy.db");
    let exported = dir.path().join("exported.bin");
    std::fs::write(&exported, &out.stdout).unwrap();
    let import = cmd(&copy)
        .args(["--root-key-file", s(&dir.path().join("ks.key"))])
        .args(["import-keystore", "--infile", s(&exported)])
        .output()
        .unwrap();
    json_of(&import, &["import-keystore"]);
    assert!(!dir.path().join("-").exists(), "a file named - was written");

    // Two outputs cannot both be stdout.
    let out = run_in(&[
        "generate-data-key",
        "--key-id",
        &key,
        "--key-spec",
        "AES_256",
        "--outfile",
        "-",
        "--ciphertext-outfile",
        "-",
    ]);
    failed(&out, "ValidationException", "only one output");
    assert!(!dir.path().join("-").exists(), "a file named - was written");
}

#[test]
#[cfg(unix)]
fn init_makes_the_keystore_files_owner_only() {
    let (dir, ks, key) = keystore_with_key();
    ok(
        &ks,
        &["encrypt", "--key-id", &key, "--plaintext", &b64(b"x")],
    );
    for name in [
        "ks.db",
        "ks.key",
        "ks.db.audit.jsonl",
        "ks.db-wal",
        "ks.db-shm",
    ] {
        let p = dir.path().join(name);
        if p.exists() || !name.starts_with("ks.db-") {
            assert_eq!(mode(&p), 0o600, "{name}");
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    for args in [
        &["--no-such-option"][..],
        &["encrypt"],
        &["list-keys", "--limit", "x"],
    ] {
        let out = run(&ks, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn empty_ciphertext_and_dry_run_refusals_speak_cli() {
    let (_dir, ks, key) = keystore_with_key();
    failed(
        &run(&ks, &["decrypt", "--ciphertext-blob", ""]),
        "ValidationException",
        "CiphertextBlob",
    );
    failed(
        &run(
            &ks,
            &[
                "re-encrypt",
                "--ciphertext-blob",
                "",
                "--destination-key-id",
                &key,
            ],
        ),
        "ValidationException",
        "CiphertextBlob",
    );
    for args in [
        &["--dry-run", "list-keys"][..],
        &["--dry-run", "generate-random", "--number-of-bytes", "3"],
        &["--dry-run", "disable-key", "--key-id", &key],
    ] {
        let out = run(&ks, args);
        failed(&out, "ValidationException", "without --dry-run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("dry_run()"), "{err}");
    }
    // Operations that take DryRun still answer DryRunOperationException.
    failed(
        &run(
            &ks,
            &[
                "--dry-run",
                "encrypt",
                "--key-id",
                &key,
                "--plaintext",
                &b64(b"x"),
            ],
        ),
        "DryRunOperationException",
        "",
    );
}

/// Through a symbolic link to the keystore file, the files SQLite and the
/// library keep beside the real file are protected too; outputs that are
/// not regular files (here `/dev/null`) are written to, not replaced.
#[cfg(unix)]
#[test]
fn outputs_are_checked_against_the_real_keystore_files_and_devices_are_written() {
    let (dir, ks, _) = keystore_with_key();
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("store.db");
    for suffix in ["", ".audit.jsonl", "-signal"] {
        let from = format!("{}{suffix}", ks.display());
        if Path::new(&from).exists() {
            std::fs::rename(&from, format!("{}{suffix}", real.display())).unwrap();
        }
    }
    std::fs::rename(dir.path().join("ks.key"), real_dir.join("store.key")).unwrap();
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let key_file = real_dir.join("store.key");
    let with_key = |args: &[&str]| {
        let mut a = vec!["--root-key-file", s(&key_file)];
        a.extend_from_slice(args);
        run(&link, &a)
    };
    let out = with_key(&["list-keys"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let real_log = format!("{}.audit.jsonl", real.display());
    let before = std::fs::read(&real_log).unwrap();
    for (target, what) in [
        (real_log.as_str(), "audit log"),
        (&format!("{}-wal", real.display()), "write-ahead log"),
    ] {
        failed(
            &with_key(&[
                "generate-random",
                "--number-of-bytes",
                "8",
                "--outfile",
                target,
            ]),
            "ValidationException",
            what,
        );
    }
    assert_eq!(
        std::fs::read(&real_log).unwrap()[..before.len()],
        before[..]
    );
    let out = with_key(&[
        "generate-random",
        "--number-of-bytes",
        "8",
        "--outfile",
        "/dev/null",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}

#[test]
fn envelope_input_and_output_cannot_be_the_same_file() {
    let (dir, ks, key) = keystore_with_key();
    let p = dir.path().join("data.bin");
    std::fs::write(&p, b"precious").unwrap();
    for cmd in [
        vec![
            "encrypt-file",
            "-i",
            s(&p),
            "-o",
            s(&p),
            "--key-id",
            key.as_str(),
        ],
        vec!["decrypt-file", "-i", s(&p), "-o", s(&p)],
    ] {
        failed(&run(&ks, &cmd), "ValidationException", "same file");
    }
    assert_eq!(std::fs::read(&p).unwrap(), b"precious");
}

/// A keystore of format version 1 (the fixture of strongroom's own tests,
/// root key 32 bytes of 0x5a): every command refuses it, naming
/// `migrate-keystore`, until that command has migrated it; running it
/// again on the migrated keystore changes nothing.
#[test]
fn an_old_keystore_is_refused_until_migrate_keystore_runs() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../strongroom/tests/fixture");
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    std::fs::copy(fixture.join("v1-keystore.db"), &ks).unwrap();
    std::fs::copy(
        fixture.join("v1-keystore.db.audit.jsonl"),
        dir.path().join("ks.db.audit.jsonl"),
    )
    .unwrap();
    let key = dir.path().join("ks.key");
    std::fs::write(&key, "5a".repeat(32)).unwrap();
    let run_with_key = |args: &[&str]| {
        cmd(&ks)
            .args(["--root-key-file", s(&key)])
            .args(args)
            .output()
            .unwrap()
    };
    let before = std::fs::read(&ks).unwrap();
    let out = run_with_key(&["list-keys"]);
    failed(&out, "KMSInternalException", "strongroom migrate-keystore");
    assert_eq!(std::fs::read(&ks).unwrap(), before, "a refused open wrote");

    json_of(&run_with_key(&["migrate-keystore"]), &["migrate-keystore"]);
    let keys = json_of(&run_with_key(&["list-keys"]), &["list-keys"]);
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 2, "{keys}");
    json_of(&run_with_key(&["migrate-keystore"]), &["migrate-keystore"]);
    // The audit chain continues from the old checkpoint (exit 1 otherwise).
    json_of(&run_with_key(&["audit", "verify"]), &["audit", "verify"]);
}

/// Runs `args` with stderr `stderr` (stdout discarded); returns the exit
/// status.
fn with_stderr(keystore: &Path, args: &[&str], stderr: Stdio) -> Option<i32> {
    cmd(keystore)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .status()
        .unwrap()
        .code()
}

#[test]
#[cfg(target_os = "linux")]
fn a_full_or_closed_stderr_still_exits_1() {
    let (_dir, ks, _key) = keystore_with_key();
    let args = ["describe-key", "--key-id", "nope"];
    // A full device: every write fails with ENOSPC.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    assert_eq!(with_stderr(&ks, &args, Stdio::from(full)), Some(1));
    // A pipe whose read end is closed: every write fails with EPIPE.
    let mut child = cmd(&ks)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

/// A change whose output cannot be written (stdout full) is reported as
/// succeeded, with what was not written: not as the operation's failure
/// (KMS clients and scripts retry a failure believing nothing changed).
#[test]
#[cfg(target_os = "linux")]
fn a_committed_change_whose_output_is_not_written_says_it_succeeded() {
    let (_dir, ks, key) = keystore_with_key();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = cmd(&ks)
        .args([
            "schedule-key-deletion",
            "--key-id",
            &key,
            "--pending-window-in-days",
            "7",
        ])
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("The ScheduleKeyDeletion operation succeeded")
            && err.contains("output was not written")
            && err.contains("stdout")
            && !err.contains("KMSInternalException"),
        "{err}"
    );
    let state = ok(&ks, &["describe-key", "--key-id", &key]);
    assert_eq!(state["KeyMetadata"]["KeyState"], "PendingDeletion");
}

/// A write past the file size limit (`ulimit -f`) raised SIGXFSZ, which
/// killed the command mid-write: `decrypt-file` left its `.partial` file,
/// a prefix of the plaintext, beside the output. The command now fails
/// (exit 1, naming the error) and removes it, as on a full disk.
#[test]
#[cfg(unix)]
fn a_file_size_limit_fails_the_file_commands_without_leaving_partial_output() {
    let (dir, ks, key) = keystore_with_key();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let data: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let plain = dir.path().join("plain.bin");
    std::fs::write(&plain, &data).unwrap();
    let message = dir.path().join("plain.enc");
    ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&plain),
            "-o",
            s(&message),
            "--key-id",
            &key,
        ],
    );
    // 2048 blocks (1 or 2 MiB, by the shell's block size): room for the
    // keystore and its log, not for the 4 MiB outputs.
    let limited = |args: &[&str]| {
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -f 2048 && exec \"$@\"")
            .arg("sh")
            .arg(BIN)
            .arg("--keystore")
            .arg(&ks)
            .args(args)
            .env_remove("STRONGROOM_ROOT_KEY")
            .env_remove("STRONGROOM_ROOT_KEY_FILE")
            .env_remove("STRONGROOM_ANCHOR")
            .output()
            .unwrap()
    };
    let out = work.join("out.bin");
    let enc = work.join("out.enc");
    for (args, target) in [
        (vec!["decrypt-file", "-i", s(&message), "-o", s(&out)], &out),
        (
            vec![
                "encrypt-file",
                "-i",
                s(&plain),
                "-o",
                s(&enc),
                "--key-id",
                &key,
            ],
            &enc,
        ),
    ] {
        let o = limited(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {:?} {err}", o.status);
        assert!(err.contains("(KMSInternalException)"), "{err}");
        assert!(
            partial_files(&work).is_empty(),
            "{:?}",
            partial_files(&work)
        );
        assert!(!target.exists(), "{args:?}");
    }
    // Nothing else was harmed: the keystore and its log still work.
    ok(&ks, &["decrypt-file", "-i", s(&message), "-o", s(&out)]);
    assert_eq!(std::fs::read(&out).unwrap(), data);
    assert_eq!(ok(&ks, &["audit", "verify"])["Intact"], true);
}

/// Two outputs of one command naming the same file (as given, through
/// `./`, or through a link): the second replaced the first (a data key's
/// plaintext by its blob, a data key pair's public key by its private
/// key), and the command succeeded. Now refused before the operation runs.
#[test]
fn two_outputs_in_one_file_are_refused() {
    let (dir, ks, key) = keystore_with_key();
    let same = dir.path().join("same.bin");
    let dotted = format!("{}/./same.bin", dir.path().display());
    let run_with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--key-id", &key]);
        run(&ks, &all)
    };
    for args in [
        vec![
            "generate-data-key",
            "--key-spec",
            "AES_256",
            "--outfile",
            s(&same),
            "--ciphertext-outfile",
            &dotted,
        ],
        vec![
            "generate-data-key-pair",
            "--key-pair-spec",
            "ECC_NIST_P256",
            "--public-key-outfile",
            s(&same),
            "--private-key-outfile",
            s(&same),
        ],
    ] {
        let out = run_with(&args);
        failed(&out, "ValidationException", "are the same file");
        assert!(!same.exists(), "{args:?}: written");
    }
    #[cfg(unix)]
    {
        let link = dir.path().join("link.bin");
        std::fs::write(&same, b"old").unwrap();
        std::os::unix::fs::symlink(&same, &link).unwrap();
        let out = run_with(&[
            "generate-data-key",
            "--key-spec",
            "AES_256",
            "--outfile",
            s(&link),
            "--ciphertext-outfile",
            s(&same),
        ]);
        failed(&out, "ValidationException", "are the same file");
        assert_eq!(std::fs::read(&same).unwrap(), b"old");
    }
    // Nothing was generated: no GenerateDataKey call reached the audit log.
    let events = ok(&ks, &["audit", "show", "--event-name", "GenerateDataKey"]);
    assert_eq!(events.as_array().map(Vec::len), Some(0), "{events}");
    // Different files are fine.
    let other = dir.path().join("other.bin");
    json_of(
        &run_with(&[
            "generate-data-key",
            "--key-spec",
            "AES_256",
            "--outfile",
            s(&same),
            "--ciphertext-outfile",
            s(&other),
        ]),
        &["generate-data-key"],
    );
    assert_eq!(std::fs::read(&same).unwrap().len(), 32);
    // Outputs discarded together into /dev/null are not "the same file"
    // (a character device takes every write; review finding).
    #[cfg(unix)]
    for args in [
        [
            "generate-data-key",
            "--key-spec",
            "AES_256",
            "--outfile",
            "/dev/null",
            "--ciphertext-outfile",
            "/dev/null",
        ],
        [
            "generate-data-key-pair",
            "--key-pair-spec",
            "ECC_NIST_P256",
            "--public-key-outfile",
            "/dev/null",
            "--private-key-outfile",
            "/dev/null",
        ],
    ] {
        json_of(&run_with(&args), &[args[0]]);
    }
}

/// A directory given as `-i` was `KMSInternalException` ("cannot read the
/// input: Is a directory"), where the README calls a directory input a
/// `ValidationException` naming it, as the library's file functions do.
#[test]
fn a_directory_as_the_envelope_input_is_a_validation_exception() {
    let (dir, ks, key) = keystore_with_key();
    let out = dir.path().join("out.bin");
    for cmd in [
        vec![
            "encrypt-file",
            "-i",
            s(dir.path()),
            "-o",
            s(&out),
            "--key-id",
            key.as_str(),
        ],
        vec!["decrypt-file", "-i", s(dir.path()), "-o", s(&out)],
        vec!["decrypt-file", "-i", s(dir.path()), "--show-header"],
    ] {
        failed(&run(&ks, &cmd), "ValidationException", "is a directory");
        assert!(!out.exists());
    }
}

/// attack16 P4: a passphrase is bytes (as the bindings take it), so one
/// that is not UTF-8 works from `--passphrase-env` too (before: refused as
/// "not set or not UTF-8"), and another opens nothing.
#[cfg(unix)]
#[test]
fn a_passphrase_that_is_not_utf8_works_from_the_environment() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("p.db");
    let pass = std::ffi::OsStr::from_bytes(b"caf\xe9 au lait \xff");
    let init = cmd(&ks)
        .env("SR_TEST_PASSPHRASE", pass)
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "init"])
        .output()
        .unwrap();
    json_of(&init, &["init"]);
    let list = cmd(&ks)
        .env("SR_TEST_PASSPHRASE", pass)
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "list-keys"])
        .output()
        .unwrap();
    json_of(&list, &["list-keys"]);
    let other = cmd(&ks)
        .env(
            "SR_TEST_PASSPHRASE",
            std::ffi::OsStr::from_bytes(b"caf\xe9 au lait \xfe"),
        )
        .args(["--passphrase-env", "SR_TEST_PASSPHRASE", "list-keys"])
        .output()
        .unwrap();
    failed(&other, "AccessDeniedException", "passphrase is wrong");
}
