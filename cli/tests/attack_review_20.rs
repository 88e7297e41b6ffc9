//! Defects found by the attack review of the `strongroom` command (session
//! 20): output paths that are symbolic links (`/dev/stdout` among them)
//! replaced instead of written through, and raw AES key files whose hex
//! was read as raw bytes.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

use std::fs::File;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Stdio;

mod common;

use common::*;

#[track_caller]
fn succeeded(out: std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()
}

#[track_caller]
fn assert_link(link: &Path, target: &Path) {
    let m = std::fs::symlink_metadata(link).unwrap();
    assert!(
        m.file_type().is_symlink(),
        "{} was replaced",
        link.display()
    );
    assert_eq!(std::fs::read_link(link).unwrap(), target);
}

/// `encrypt-file -o LINK`, `decrypt-file -o LINK` and `--outfile LINK`
/// deleted the symbolic link and put a new regular file in its place,
/// leaving the file it named untouched. Now the output goes to the file the
/// link names (opened through the link and rewritten in place once
/// complete), the link stays, also through a chain of relative links; a
/// link that names no file is refused and nothing is created.
#[test]
fn an_output_link_is_written_through_and_kept() {
    let (dir, ks, key) = keystore_with_key();
    let d = dir.path();
    let pt = d.join("pt");
    std::fs::write(&pt, b"secret-plaintext\n").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let msg = d.join("sub/msg");
    std::fs::write(&msg, b"old").unwrap();
    let msg_link = d.join("msg.link");
    symlink(&msg, &msg_link).unwrap();
    ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&pt),
            "-o",
            s(&msg_link),
            "--key-id",
            &key,
        ],
    );
    assert_link(&msg_link, &msg);
    // A chain of relative links: out -> sub/chain -> ../sub/plain.
    let plain = d.join("sub/plain");
    std::fs::write(&plain, b"").unwrap();
    symlink("../sub/plain", d.join("sub/chain")).unwrap();
    let out = d.join("out");
    symlink("sub/chain", &out).unwrap();
    ok(&ks, &["decrypt-file", "-i", s(&msg), "-o", s(&out)]);
    assert_link(&out, Path::new("sub/chain"));
    assert_eq!(std::fs::read(&plain).unwrap(), b"secret-plaintext\n");
    // Second reading: written in place through the link, opened by the
    // kernel as `>` opens it (so `fs.protected_symlinks` applies), not a
    // new file renamed over the path resolved here: the inode, its mode
    // and its other hard links are kept.
    use std::os::unix::fs::MetadataExt;
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o640)).unwrap();
    let hard = d.join("sub/plain.hard");
    std::fs::hard_link(&plain, &hard).unwrap();
    let ino = std::fs::metadata(&plain).unwrap().ino();
    ok(&ks, &["decrypt-file", "-i", s(&msg), "-o", s(&out)]);
    let m = std::fs::metadata(&plain).unwrap();
    assert_eq!(m.ino(), ino, "rewritten in place, not replaced");
    assert_eq!(m.permissions().mode() & 0o777, 0o640, "its mode is kept");
    assert_eq!(std::fs::read(&hard).unwrap(), b"secret-plaintext\n");
    // A longer old content is truncated, not left behind the new bytes.
    std::fs::write(&plain, vec![b'x'; 100]).unwrap();
    ok(&ks, &["decrypt-file", "-i", s(&msg), "-o", s(&out)]);
    assert_eq!(std::fs::read(&plain).unwrap(), b"secret-plaintext\n");
    // A failure leaves the file as it was.
    let mut bad = std::fs::read(&msg).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let bad_msg = d.join("bad.msg");
    std::fs::write(&bad_msg, &bad).unwrap();
    let e = run(&ks, &["decrypt-file", "-i", s(&bad_msg), "-o", s(&out)]);
    assert_eq!(e.status.code(), Some(1));
    assert_eq!(std::fs::read(&plain).unwrap(), b"secret-plaintext\n");
    // --outfile of the other commands, the same code.
    let random = d.join("sub/random");
    std::fs::write(&random, b"").unwrap();
    let random_link = d.join("random.link");
    symlink(&random, &random_link).unwrap();
    ok(
        &ks,
        &[
            "generate-random",
            "--number-of-bytes",
            "7",
            "--outfile",
            s(&random_link),
        ],
    );
    assert_link(&random_link, &random);
    assert_eq!(std::fs::read(&random).unwrap().len(), 7);
    // A dangling link is refused, and kept; nothing is created.
    // (`--outfile` is written once the operation succeeded: the command
    // says so, as for any output it cannot write.)
    let dangling = d.join("dangling");
    symlink(d.join("sub/none"), &dangling).unwrap();
    for args in [
        vec!["decrypt-file", "-i", s(&msg), "-o", s(&dangling)],
        vec![
            "generate-random",
            "--number-of-bytes",
            "7",
            "--outfile",
            s(&dangling),
        ],
    ] {
        let e = run(&ks, &args);
        let err = String::from_utf8_lossy(&e.stderr);
        assert_eq!(e.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!(
                "the output {} is a symbolic link that names no file",
                s(&dangling)
            )),
            "{err}"
        );
        assert!(e.stdout.is_empty());
        assert_link(&dangling, &d.join("sub/none"));
        assert!(!d.join("sub/none").exists());
    }
    let e = run(&ks, &["decrypt-file", "-i", s(&msg), "-o", s(&dangling)]);
    failed_with(&e, &["decrypt-file"], "ValidationException");
}

/// `-o /dev/stdout` (and `/dev/fd/1`, `/proc/self/fd/1`, a link to one)
/// with stdout redirected to a file replaced the link with a regular file
/// (as root, `/dev/stdout` itself) and the file stdout went to only got
/// the JSON summary. Now such a path is stdout, as `-` is: the file gets
/// the output alone, appended when stdout appends (`>>`).
#[test]
#[cfg(target_os = "linux")]
fn dev_stdout_as_the_output_is_stdout() {
    let (dir, ks, key) = keystore_with_key();
    let d = dir.path();
    let pt = d.join("pt");
    std::fs::write(&pt, b"secret-plaintext\n").unwrap();
    let msg = d.join("msg");
    ok(
        &ks,
        &[
            "encrypt-file",
            "-i",
            s(&pt),
            "-o",
            s(&msg),
            "--key-id",
            &key,
        ],
    );
    let fd_link = d.join("fd.link");
    symlink("/proc/self/fd/1", &fd_link).unwrap();
    let run_to = |args: &[&str], stdout: File| {
        succeeded(
            cmd(&ks)
                .args(args)
                .stdout(Stdio::from(stdout))
                .output()
                .unwrap(),
        );
    };
    for name in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", s(&fd_link)] {
        let file = d.join("redirected");
        run_to(
            &["decrypt-file", "-i", s(&msg), "-o", name],
            File::create(&file).unwrap(),
        );
        assert_eq!(read(&file), "secret-plaintext\n", "{name}");
        // `>>`: appended after what the file held.
        std::fs::write(&file, b"hdr\n").unwrap();
        run_to(
            &["decrypt-file", "-i", s(&msg), "-o", name],
            File::options().append(true).open(&file).unwrap(),
        );
        assert_eq!(read(&file), "hdr\nsecret-plaintext\n", "{name}");
        run_to(
            &[
                "generate-random",
                "--number-of-bytes",
                "5",
                "--outfile",
                name,
            ],
            File::create(&file).unwrap(),
        );
        assert_eq!(std::fs::read(&file).unwrap().len(), 5, "{name}: no JSON");
        // The message to stdout decrypts.
        run_to(
            &["encrypt-file", "-i", s(&pt), "-o", name, "--key-id", &key],
            File::create(&file).unwrap(),
        );
        let back = run(&ks, &["decrypt-file", "-i", s(&file), "-o", "-"]);
        assert_eq!(back.stdout, b"secret-plaintext\n", "{name}");
    }
    assert_link(&fd_link, Path::new("/proc/self/fd/1"));
    // Two outputs to stdout are refused, as two `-` are.
    let e = fails(
        &ks,
        &[
            "generate-data-key",
            "--key-id",
            &key,
            "--number-of-bytes",
            "16",
            "--outfile",
            "-",
            "--ciphertext-outfile",
            "/dev/stdout",
        ],
        "ValidationException",
    );
    assert!(String::from_utf8_lossy(&e.stderr).contains("only one output can be stdout"));
}

/// A raw AES key file of 16, 24 or 32 bytes was taken as the raw key, so
/// the 32 hex digits of an AES-128 key written without a newline became an
/// AES-256 key of their ASCII characters (and the same hex with a newline
/// an AES-128 key: the two files did not decrypt each other's messages).
/// Now such a file, all hex digits or white space, is refused with a
/// ValidationException saying what to write; hex with a line end, hex of
/// other lengths and raw keys work as documented.
#[test]
fn a_raw_aes_key_file_of_hex_digits_is_not_read_as_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ks = d.join("none.db");
    let pt = d.join("pt");
    std::fs::write(&pt, b"hi\n").unwrap();
    let hex128 = "000102030405060708090a0b0c0d0e0f";
    let file = |name: &str, bytes: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let raw_args = |op: &str, input: &Path, output: &Path, key: &Path| {
        let mut c = cmd(&ks);
        c.args([op, "-i", s(input), "-o", s(output)])
            .args(["--raw-aes-key-file", s(key)]);
        if op == "encrypt-file" {
            c.args(["--algorithm-suite", "0x0478"]);
        }
        c.output().unwrap()
    };
    let msg = d.join("msg");
    let back = d.join("back");
    for (name, bytes) in [
        ("nonl", hex128.as_bytes().to_vec()),
        ("crlf", format!("{}\r\n", &hex128[..30]).into_bytes()),
        ("hex16", hex128.as_bytes()[..16].to_vec()),
        ("spaces", b" 0a1b2c3d4e5f60718293a4 ".to_vec()),
    ] {
        let key = file(name, &bytes);
        for op in ["encrypt-file", "decrypt-file"] {
            let out = raw_args(op, &pt, &msg, &key);
            failed_with(&out, &[op, name], "ValidationException");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("the raw AES key file {}", s(&key))),
                "{name}: {err}"
            );
            // Second reading 20: digits already with white space are not
            // told to add a line end.
            if matches!(name, "crlf" | "spaces") {
                assert!(
                    err.contains("hex digits and white space")
                        && !err.contains("end the file with a newline"),
                    "{name}: {err}"
                );
            } else {
                assert!(
                    err.contains("refused as ambiguous")
                        && err.contains("end the file with a newline"),
                    "{name}: {err}"
                );
            }
            assert_eq!(
                err.contains("32 hex digits spell a 16-byte AES-128 key"),
                name == "nonl",
                "{err}"
            );
        }
        assert!(!msg.exists());
    }
    // With a newline the hex is the AES-128 key: the file of its 16 raw
    // bytes decrypts what it encrypted.
    let with_nl = file("nl", format!("{hex128}\n").as_bytes());
    let raw16 = file("raw16", &(0u8..16).collect::<Vec<_>>());
    succeeded(raw_args("encrypt-file", &pt, &msg, &with_nl));
    succeeded(raw_args("decrypt-file", &msg, &back, &raw16));
    assert_eq!(read(&back), "hi\n");
    // 64 hex digits without a newline (64 bytes) stay an AES-256 key.
    let hex256: String = (0u8..32).map(|b| format!("{b:02x}")).collect();
    let hex_file = file("hex256", hex256.as_bytes());
    let raw32 = file("raw32", &(0u8..32).collect::<Vec<_>>());
    succeeded(raw_args("encrypt-file", &pt, &msg, &hex_file));
    std::fs::remove_file(&back).unwrap();
    succeeded(raw_args("decrypt-file", &msg, &back, &raw32));
    assert_eq!(read(&back), "hi\n");
}

/// Second reading 20: `encrypt-file -i - -o /dev/stdin < f` appended the
/// message to `f`, its own input (the same-file check skipped `-i -`).
#[test]
#[cfg(target_os = "linux")]
fn stdin_as_the_output_of_its_own_input_is_refused() {
    let (dir, ks, key) = keystore_with_key();
    let d = dir.path();
    let input = d.join("in.txt");
    std::fs::write(&input, b"plain\n").unwrap();
    let out = cmd(&ks)
        .args([
            "encrypt-file",
            "-i",
            "-",
            "-o",
            "/dev/stdin",
            "--key-id",
            &key,
        ])
        .stdin(File::open(&input).unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("are the same file"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), b"plain\n");
    // A character device on both sides is not one file replaced: an empty
    // stdin from /dev/null into /dev/null is decrypted (and refused as no
    // message), not refused as the same file.
    let out = cmd(&ks)
        .args(["decrypt-file", "-i", "-", "-o", "/dev/null"])
        .stdin(File::open("/dev/null").unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("are the same file"), "{err}");
}
