//! Defects found by an attack review of the `strongroom` command and its
//! `serve` (session 18): option files read without a cap, `serve` saying
//! it listens before its TLS files are loaded, tag shorthand that dropped
//! fields, grant tokens missing from some commands, wrapped base64, and
//! help and usage messages.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};

mod common;

use common::*;

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("ks.db");
    ok(&ks, &["init"]);
    (dir, ks)
}

/// The `KeyId` of a `create-key` response.
fn key_id(created: &serde_json::Value) -> String {
    created["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asserts that `out` failed with ValidationException naming `name`,
/// saying `text`, and printed nothing on stdout.
#[track_caller]
fn refused_naming(out: &Output, name: &str, text: &str) {
    failed_with(out, &[name], "ValidationException");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(name) && err.contains(text),
        "expected {name:?} and {text:?}: {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "printed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `import-keystore --infile` is read with a cap and refused as a
/// ValidationException naming it when missing, a directory, or not an
/// export (`/dev/zero` was read until memory ran out; a missing file or a
/// directory was KMSInternalException); `-` reads standard input, as
/// `export-keystore --outfile -` writes standard output.
#[test]
fn import_keystore_reads_its_input_with_a_cap_and_from_stdin() {
    let (dir, ks) = setup();
    ok(&ks, &["create-key"]);
    let export = cmd(&ks)
        .args(["export-keystore", "--outfile", "-"])
        .output()
        .unwrap();
    assert!(export.status.success());
    let key = dir.path().join("ks.key");
    let new = dir.path().join("new.db");
    let import = |infile: &str| {
        cmd(&new)
            .args([
                "--root-key-file",
                s(&key),
                "import-keystore",
                "--infile",
                infile,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let missing = dir.path().join("missing");
    for (infile, text) in [
        (s(&missing), "No such file"),
        (s(dir.path()), "Is a directory"),
        ("/dev/zero", "is not a sealed keystore export"),
    ] {
        let out = import(infile).wait_with_output().unwrap();
        refused_naming(&out, infile, text);
        assert!(!new.exists());
    }
    let mut child = import("-");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&export.stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    json_of(&out, &["import-keystore", "--infile", "-"]);
    let keys = ok(&new, &["--root-key-file", s(&key), "list-keys"]);
    assert_eq!(keys["Keys"].as_array().unwrap().len(), 1);
}

/// `serve`'s files are read with a cap and named when missing
/// (`--tls-cert /dev/zero` aborted on a failed allocation,
/// `--credentials /dev/zero` read until memory ran out, `--credentials
/// /nonexistent` was KMSInternalException); and `listening on` is printed
/// only once the TLS files are loaded (it was printed before, so a
/// supervisor took a server that then failed for started).
#[test]
fn serve_checks_its_files_before_it_says_it_listens() {
    let (dir, ks) = setup();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let missing = dir.path().join("missing.json");
    let tls = |cert: &str, key: &str| {
        run(
            &ks,
            &[
                "serve",
                "--insecure-no-auth",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                cert,
                "--tls-key",
                key,
            ],
        )
    };
    refused_naming(
        &tls("/dev/zero", "/dev/zero"),
        "/dev/zero",
        "longer than 1048576 bytes",
    );
    refused_naming(&tls(s(&empty), s(&empty)), s(&empty), "no certificate in");
    refused_naming(&tls(s(&missing), s(&empty)), s(&missing), "No such file");
    let creds = |file: &str| {
        run(
            &ks,
            &["serve", "--listen", "127.0.0.1:0", "--credentials", file],
        )
    };
    refused_naming(
        &creds("/dev/zero"),
        "/dev/zero",
        "longer than 1048576 bytes",
    );
    refused_naming(&creds(s(&missing)), s(&missing), "No such file");
    refused_naming(&creds(s(dir.path())), s(dir.path()), "Is a directory");
}

/// A tag field repeated in the shorthand, or an unknown member in the JSON
/// form, is refused by `tag-resource` and `create-key` alike (`TagKey=env,
/// TagValue=prod,TagKey=team` stored team=prod; `TagValu` was dropped),
/// and nothing is tagged or created.
#[test]
fn tags_with_a_repeated_or_unknown_field_are_refused() {
    let (_dir, ks) = setup();
    let key = key_id(&ok(&ks, &["create-key"]));
    for tags in [
        "TagKey=env,TagValue=prod,TagKey=team",
        "TagKey=a,TagValue=1,TagValue=2",
        r#"[{"TagKey":"owner","TagValue":"x","TagValu":"typo"}]"#,
    ] {
        fails(
            &ks,
            &["tag-resource", "--key-id", &key, "--tags", tags],
            "ValidationException",
        );
        fails(&ks, &["create-key", "--tags", tags], "ValidationException");
    }
    let tags = ok(&ks, &["list-resource-tags", "--key-id", &key]);
    assert_eq!(tags["Tags"], serde_json::json!([]));
    assert_eq!(ok(&ks, &["list-keys"])["Keys"].as_array().unwrap().len(), 1);
}

/// `--grant-tokens` is taken by every command whose KMS operation has
/// `GrantTokens` (sign, verify, generate-mac, verify-mac and the four
/// generate-data-key commands had none: a usage error): a grant's token
/// lets its grantee call at once, and a malformed token is
/// InvalidGrantTokenException.
#[test]
fn grant_tokens_are_taken_by_every_operation_that_has_them() {
    const APP: &str = "arn:aws:iam::000000000000:user/app";
    let (_dir, ks) = setup();
    let create = |args: &[&str]| {
        let mut a = vec!["create-key"];
        a.extend_from_slice(args);
        key_id(&ok(&ks, &a))
    };
    let grant = |key: &str, ops: &[&str]| {
        let mut a = vec![
            "create-grant",
            "--key-id",
            key,
            "--grantee-principal",
            APP,
            "--operations",
        ];
        a.extend_from_slice(ops);
        ok(&ks, &a)["GrantToken"].as_str().unwrap().to_string()
    };
    let sym = create(&[]);
    let sign = create(&["--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY"]);
    let mac = create(&[
        "--key-spec",
        "HMAC_256",
        "--key-usage",
        "GENERATE_VERIFY_MAC",
    ]);
    let sym_token = grant(
        &sym,
        &[
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
        ],
    );
    let sign_token = grant(&sign, &["Sign", "Verify"]);
    let mac_token = grant(&mac, &["GenerateMac", "VerifyMac"]);
    let message = "aGVsbG8=";
    let sign_args = [
        "sign",
        "--key-id",
        &sign,
        "--message",
        message,
        "--signing-algorithm",
        "ECDSA_SHA_256",
    ];
    let mac_args = [
        "generate-mac",
        "--key-id",
        &mac,
        "--message",
        message,
        "--mac-algorithm",
        "HMAC_SHA_256",
    ];
    let signature = ok(&ks, &sign_args)["Signature"]
        .as_str()
        .unwrap()
        .to_string();
    let tag = ok(&ks, &mac_args)["Mac"].as_str().unwrap().to_string();
    let mut commands: Vec<(Vec<&str>, &str)> = vec![
        (sign_args.to_vec(), &sign_token),
        (
            vec![
                "verify",
                "--key-id",
                &sign,
                "--message",
                message,
                "--signature",
                &signature,
                "--signing-algorithm",
                "ECDSA_SHA_256",
            ],
            &sign_token,
        ),
        (mac_args.to_vec(), &mac_token),
        (
            vec![
                "verify-mac",
                "--key-id",
                &mac,
                "--message",
                message,
                "--mac",
                &tag,
                "--mac-algorithm",
                "HMAC_SHA_256",
            ],
            &mac_token,
        ),
    ];
    for (command, spec_flag, spec) in [
        ("generate-data-key", "--key-spec", "AES_256"),
        (
            "generate-data-key-without-plaintext",
            "--key-spec",
            "AES_256",
        ),
        ("generate-data-key-pair", "--key-pair-spec", "ECC_NIST_P256"),
        (
            "generate-data-key-pair-without-plaintext",
            "--key-pair-spec",
            "ECC_NIST_P256",
        ),
    ] {
        commands.push((vec![command, "--key-id", &sym, spec_flag, spec], &sym_token));
    }
    for (command, token) in commands {
        let with = |token: &str| {
            let mut a = vec!["--principal", APP];
            a.extend_from_slice(&command);
            a.extend_from_slice(&["--grant-tokens", token]);
            a.into_iter().map(String::from).collect::<Vec<_>>()
        };
        let args = with(token);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&ks, &argv);
        let bad = with("bogus");
        let argv: Vec<&str> = bad.iter().map(String::as_str).collect();
        fails(&ks, &argv, "InvalidGrantTokenException");
    }
}

/// A blob argument in wrapped base64 (`"$(base64 file)"`: a line end every
/// 76 characters) is read, as AWS CLI v2 reads it; any other character
/// outside the alphabet is still refused.
#[test]
fn wrapped_base64_blobs_are_read() {
    let (_dir, ks) = setup();
    let key = key_id(&ok(&ks, &["create-key"]));
    let blob = ok(
        &ks,
        &["encrypt", "--key-id", &key, "--plaintext", "aGVsbG8="],
    )["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(blob.len() > 76);
    let wrapped: Vec<&str> = blob
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let wrapped = wrapped.join("\n") + "\n";
    let plain = ok(&ks, &["decrypt", "--ciphertext-blob", &wrapped]);
    assert_eq!(plain["Plaintext"], "aGVsbG8=");
    fails(
        &ks,
        &["decrypt", "--ciphertext-blob", &format!("{blob}!")],
        "ValidationException",
    );
}

/// A malformed `--output` is a usage error (exit 2) like any other
/// malformed argument (`--output yaml` was ValidationException, exit 1),
/// except for `encrypt-file` / `decrypt-file`, where it names the file.
#[test]
fn a_malformed_output_format_is_a_usage_error() {
    let (dir, ks) = setup();
    for args in [
        &["--output", "yaml", "list-keys"][..],
        &["list-keys", "-o", "yaml"],
        &[
            "generate-random",
            "--number-of-bytes",
            "4",
            "--output",
            "xml",
        ],
    ] {
        let out = run(&ks, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(err.contains("[possible values: json, text]"), "{err}");
    }
    assert!(ok(&ks, &["--output", "JSON", "list-keys"])["Keys"].is_array());
    let key = key_id(&ok(&ks, &["create-key"]));
    let input = dir.path().join("in");
    std::fs::write(&input, b"x").unwrap();
    let yaml = dir.path().join("yaml");
    let out = run(
        &ks,
        &[
            "--output",
            s(&yaml),
            "encrypt-file",
            "-i",
            s(&input),
            "--key-id",
            &key,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(yaml.exists());
}

/// `--max-encrypted-data-keys 0` says what leaving the option out means
/// for each command: no limit for encrypt-file, the default of 10 for
/// decrypt-file (both said "leave it out for no limit").
#[test]
fn a_zero_edk_limit_says_what_leaving_it_out_means() {
    let (dir, ks) = setup();
    let input = dir.path().join("in");
    std::fs::write(&input, b"x").unwrap();
    let out_file = dir.path().join("out");
    for (command, says, not) in [
        ("encrypt-file", "leave it out for no limit", "default"),
        (
            "decrypt-file",
            "leave it out for the default of 10",
            "no limit",
        ),
    ] {
        let out = fails(
            &ks,
            &[
                "-o",
                s(&out_file),
                command,
                "-i",
                s(&input),
                "--max-encrypted-data-keys",
                "0",
            ],
            "ValidationException",
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("the limit on encrypted data keys cannot be less than 1")
                && err.contains(says)
                && !err.contains(not),
            "{command}: {err}"
        );
    }
}

/// Each command's `--outfile` help names the field it writes (every one
/// said "the main binary field (Plaintext or CiphertextBlob)").
#[test]
fn outfile_help_names_each_commands_field() {
    let (_dir, ks) = setup();
    for (command, field) in [
        ("sign", "Signature"),
        ("generate-mac", "Mac"),
        ("get-public-key", "DER SubjectPublicKeyInfo"),
        ("generate-random", "Plaintext (the random bytes)"),
        ("derive-shared-secret", "SharedSecret"),
        ("generate-data-key", "Plaintext (the data key)"),
        ("generate-data-key-without-plaintext", "CiphertextBlob"),
        ("encrypt", "CiphertextBlob"),
        ("re-encrypt", "CiphertextBlob"),
        ("decrypt", "Plaintext"),
    ] {
        let out = run(&ks, &[command, "--help"]);
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        let outfile = help
            .split("--outfile <OUTFILE>")
            .nth(1)
            .and_then(|h| h.split("\n      -").next())
            .unwrap_or_default();
        assert!(
            outfile.contains(field) && !outfile.contains("Plaintext or CiphertextBlob"),
            "{command}: {outfile}"
        );
    }
}
