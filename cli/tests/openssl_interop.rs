//! Independent implementations, both directions, through the `strongroom`
//! command: OpenSSL verifies Strongroom's signatures with the GetPublicKey
//! PEM; Strongroom verifies OpenSSL's signatures made with private keys it
//! then imported; Strongroom decrypts OpenSSL's RSA-OAEP ciphertexts; key
//! material wrapped by OpenSSL and pyca/cryptography with each import
//! wrapping algorithm imports; and `tests/decrypt_blob.py`, written from
//! `docs/FORMAT.md` alone, decrypts a blob made under imported material.
//!
//! pyca/cryptography comes from a venv at `target/pyca-venv` made on first
//! use. If it cannot be made the Python parts are skipped locally and FAIL
//! when `CI` is set. A missing `openssl` fails the test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use base64::Engine;

mod common;

use common::json_of;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Env {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    ks: PathBuf,
    /// Every byte the CLI printed, for the private-key scan.
    printed: std::cell::RefCell<Vec<u8>>,
}

impl Env {
    fn new() -> Env {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        let e = Env {
            ks: dir.join("ks.db"),
            dir,
            _dir: d,
            printed: Default::default(),
        };
        e.ok(&["init"]);
        e
    }

    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = common::run(&self.ks, args);
        let mut p = self.printed.borrow_mut();
        p.extend_from_slice(&out.stdout);
        p.extend_from_slice(&out.stderr);
        out
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> serde_json::Value {
        json_of(&self.run(args), args)
    }

    #[track_caller]
    fn fails_with(&self, args: &[&str], code: &str) {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(code), "{args:?}: expected {code}, got {err}");
    }

    fn create_key(&self, spec: &str, usage: &str, origin: Option<&str>) -> String {
        let mut args = vec!["create-key", "--key-spec", spec, "--key-usage", usage];
        if let Some(o) = origin {
            args.extend(["--origin", o]);
        }
        self.ok(&args)["KeyMetadata"]["KeyId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// GetParametersForImport, writing `wrap.pem` and `token.bin`.
    fn import_params(&self, key: &str, alg: &str) {
        self.ok(&[
            "get-parameters-for-import",
            "--key-id",
            key,
            "--wrapping-algorithm",
            alg,
            "--wrapping-key-spec",
            "RSA_2048",
            "--public-key-outfile",
            &self.p("wrap.pem"),
            "--pem",
            "--import-token-outfile",
            &self.p("token.bin"),
        ]);
    }

    fn import(&self, key: &str, wrapped: &str) -> Output {
        self.run(&[
            "import-key-material",
            "--key-id",
            key,
            "--encrypted-key-material",
            &format!("fileb://{}", self.p(wrapped)),
            "--import-token",
            &format!("fileb://{}", self.p("token.bin")),
            "--expiration-model",
            "KEY_MATERIAL_DOES_NOT_EXPIRE",
        ])
    }
}

#[track_caller]
fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl must be installed for the interop tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn openssl_status(args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .output()
        .unwrap()
        .status
        .success()
}

/// OAEP-wraps `input` to `wrap.pem` with `openssl pkeyutl`.
fn openssl_oaep(e: &Env, md: &str, input: &str, output: &str) {
    openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        &e.p("wrap.pem"),
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        &format!("rsa_oaep_md:{md}"),
        "-pkeyopt",
        &format!("rsa_mgf1_md:{md}"),
        "-in",
        &e.p(input),
        "-out",
        &e.p(output),
    ]);
}

/// The Python of a venv with pyca/cryptography, made once per test run.
fn pyca_python() -> Option<PathBuf> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = workspace().join("target").join("pyca-venv");
        let py = venv.join("bin").join("python");
        let importable = |py: &Path| {
            Command::new(py)
                .args([
                    "-c",
                    "from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding",
                ])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !importable(&py) {
            // System site packages first (offline); pip only if still missing.
            let _ = Command::new("python3")
                .args(["-m", "venv", "--system-site-packages"])
                .arg(&venv)
                .output();
            if !importable(&py) {
                let _ = Command::new(&py)
                    .args(["-m", "pip", "install", "--quiet", "cryptography"])
                    .output();
            }
        }
        if importable(&py) {
            Some(py)
        } else if std::env::var_os("CI").is_some() {
            panic!(
                "cannot make a venv with pyca/cryptography at {} and CI is set",
                venv.display()
            );
        } else {
            eprintln!("SKIPPED: no pyca/cryptography venv (set CI=1 to make this fatal)");
            None
        }
    })
    .clone()
}

#[track_caller]
fn python(py: &Path, script: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(py)
        .arg(workspace().join("tests").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn strongroom_signatures_verify_with_openssl_dgst() {
    let e = Env::new();
    std::fs::write(e.p("msg"), b"signed by strongroom\n").unwrap();
    let rsa = e.create_key("RSA_2048", "SIGN_VERIFY", None);
    let p256 = e.create_key("ECC_NIST_P256", "SIGN_VERIFY", None);
    let p384 = e.create_key("ECC_NIST_P384", "SIGN_VERIFY", None);
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (&rsa, "RSASSA_PKCS1_V1_5_SHA_256", "-sha256", &[]),
        (&rsa, "RSASSA_PKCS1_V1_5_SHA_512", "-sha512", &[]),
        (
            &rsa,
            "RSASSA_PSS_SHA_256",
            "-sha256",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:32",
            ],
        ),
        (
            &rsa,
            "RSASSA_PSS_SHA_384",
            "-sha384",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:48",
            ],
        ),
        (&p256, "ECDSA_SHA_256", "-sha256", &[]),
        (&p384, "ECDSA_SHA_384", "-sha384", &[]),
    ];
    for (key, alg, md, opts) in cases {
        e.ok(&[
            "sign",
            "--key-id",
            key,
            "--message",
            &format!("fileb://{}", e.p("msg")),
            "--signing-algorithm",
            alg,
            "--outfile",
            &e.p("sig"),
        ]);
        e.ok(&[
            "get-public-key",
            "--key-id",
            key,
            "--outfile",
            &e.p("pub.pem"),
            "--pem",
        ]);
        let (pubp, sigp, msgp, m2) = (e.p("pub.pem"), e.p("sig"), e.p("msg"), e.p("msg2"));
        let mut args: Vec<&str> = vec!["dgst", md, "-verify", &pubp];
        args.extend_from_slice(opts);
        args.extend(["-signature", &sigp, &msgp]);
        let out = openssl(&args);
        assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
        // And OpenSSL rejects it for another message.
        std::fs::write(e.p("msg2"), b"something else\n").unwrap();
        let last = args.len() - 1;
        args[last] = &m2;
        assert!(
            !openssl_status(&args),
            "{alg}: OpenSSL accepted a wrong message"
        );
    }
    // DIGEST: OpenSSL's SHA-384 of the message, signed by Strongroom without
    // hashing it again, verifies against the message itself in OpenSSL.
    let digest = openssl(&["dgst", "-sha384", "-binary", &e.p("msg")]).stdout;
    assert_eq!(digest.len(), 48);
    std::fs::write(e.p("digest"), digest).unwrap();
    for (key, alg, opts) in [
        (&p384, "ECDSA_SHA_384", vec![]),
        (
            &rsa,
            "RSASSA_PSS_SHA_384",
            vec![
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:48",
            ],
        ),
    ] {
        e.ok(&[
            "sign",
            "--key-id",
            key,
            "--message",
            &format!("fileb://{}", e.p("digest")),
            "--message-type",
            "DIGEST",
            "--signing-algorithm",
            alg,
            "--outfile",
            &e.p("dsig"),
        ]);
        e.ok(&[
            "get-public-key",
            "--key-id",
            key,
            "--outfile",
            &e.p("pub.pem"),
            "--pem",
        ]);
        let (pubp, sigp, msgp) = (e.p("pub.pem"), e.p("dsig"), e.p("msg"));
        let mut args: Vec<&str> = vec!["dgst", "-sha384", "-verify", &pubp];
        args.extend(opts);
        args.extend(["-signature", &sigp, &msgp]);
        openssl(&args);
    }
    // DER public key output is the SPKI that OpenSSL reads.
    e.ok(&[
        "get-public-key",
        "--key-id",
        &p256,
        "--outfile",
        &e.p("pub.der"),
    ]);
    openssl(&[
        "pkey",
        "-pubin",
        "-inform",
        "DER",
        "-in",
        &e.p("pub.der"),
        "-noout",
    ]);
}

/// Imports `<name>.der` into `key` with RSA_AES_KEY_WRAP_SHA_256, wrapped
/// by OpenSSL alone: RSAES-OAEP-SHA-256 of a fresh AES-256 key, then
/// OpenSSL's own AES-KWP (id-aes256-wrap-pad, RFC 5649) of the material.
#[track_caller]
fn import_with_openssl_kwp(e: &Env, key: &str, name: &str) {
    e.import_params(key, "RSA_AES_KEY_WRAP_SHA_256");
    let kek = [0x6bu8; 32];
    std::fs::write(e.p("kek.bin"), kek).unwrap();
    openssl_oaep(e, "sha256", "kek.bin", "kek.wrapped");
    let kek_hex: String = kek.iter().map(|b| format!("{b:02x}")).collect();
    let (der, kwp) = (e.p(&format!("{name}.der")), e.p(&format!("{name}.kwp")));
    openssl(&[
        "enc",
        "-id-aes256-wrap-pad",
        "-K",
        &kek_hex,
        "-iv",
        "A65959A6",
        "-in",
        &der,
        "-out",
        &kwp,
    ]);
    let mut wrapped = std::fs::read(e.p("kek.wrapped")).unwrap();
    wrapped.extend(std::fs::read(kwp).unwrap());
    let wrapped_name = format!("{name}.wrapped");
    std::fs::write(e.p(&wrapped_name), wrapped).unwrap();
    let out = e.import(key, &wrapped_name);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pkcs8_der(e: &Env, genpkey: &[&str], name: &str) -> Vec<u8> {
    let pem = e.p(&format!("{name}.pem"));
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey);
    args.extend(["-out", &pem]);
    openssl(&args);
    let der = e.p(&format!("{name}.der"));
    openssl(&[
        "pkcs8", "-topk8", "-nocrypt", "-in", &pem, "-outform", "DER", "-out", &der,
    ]);
    std::fs::read(der).unwrap()
}

#[test]
fn openssl_signatures_verify_after_importing_the_private_key() {
    let e = Env::new();
    std::fs::write(e.p("msg"), b"signed by openssl\n").unwrap();
    let mut secrets = Vec::new();

    // EC P-256: the PKCS#8 fits in RSAES_OAEP_SHA_256 with a 2048-bit wrapping key.
    let ec = pkcs8_der(
        &e,
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ec",
    );
    let ek = e.create_key("ECC_NIST_P256", "SIGN_VERIFY", Some("EXTERNAL"));
    e.import_params(&ek, "RSAES_OAEP_SHA_256");
    openssl_oaep(&e, "sha256", "ec.der", "ec.wrapped");
    let out = e.import(&ek, "ec.wrapped");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        &e.p("ec.pem"),
        "-out",
        &e.p("ec.sig"),
        &e.p("msg"),
    ]);
    let v = e.ok(&[
        "verify",
        "--key-id",
        &ek,
        "--message",
        &format!("fileb://{}", e.p("msg")),
        "--signature",
        &format!("fileb://{}", e.p("ec.sig")),
        "--signing-algorithm",
        "ECDSA_SHA_256",
    ]);
    assert_eq!(v["SignatureValid"], true);
    secrets.push(ec);

    // RSA 2048: PKCS#8 is too long for OAEP, so RSA_AES_KEY_WRAP_SHA_256 with
    // OpenSSL's own AES-KWP (id-aes256-wrap-pad, RFC 5649).
    let rsa = pkcs8_der(
        &e,
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsa",
    );
    let rk = e.create_key("RSA_2048", "SIGN_VERIFY", Some("EXTERNAL"));
    import_with_openssl_kwp(&e, &rk, "rsa");
    for (alg, md, opts) in [
        ("RSASSA_PKCS1_V1_5_SHA_256", "-sha256", vec![]),
        (
            "RSASSA_PSS_SHA_512",
            "-sha512",
            vec![
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:64",
            ],
        ),
    ] {
        let (key, sig, msg) = (e.p("rsa.pem"), e.p("rsa.sig"), e.p("msg"));
        let mut args = vec!["dgst", md, "-sign", &key];
        args.extend(opts);
        args.extend(["-out", &sig, &msg]);
        openssl(&args);
        let v = e.ok(&[
            "verify",
            "--key-id",
            &rk,
            "--message",
            &format!("fileb://{}", e.p("msg")),
            "--signature",
            &format!("fileb://{sig}"),
            "--signing-algorithm",
            alg,
        ]);
        assert_eq!(v["SignatureValid"], true);
    }
    // A signature over another message is KMSInvalidSignatureException.
    std::fs::write(e.p("msg2"), b"other\n").unwrap();
    e.fails_with(
        &[
            "verify",
            "--key-id",
            &rk,
            "--message",
            &format!("fileb://{}", e.p("msg2")),
            "--signature",
            &format!("fileb://{}", e.p("rsa.sig")),
            "--signing-algorithm",
            "RSASSA_PSS_SHA_512",
        ],
        "KMSInvalidSignatureException",
    );
    // Strongroom's public key is the one OpenSSL derives from the private key.
    e.ok(&[
        "get-public-key",
        "--key-id",
        &rk,
        "--outfile",
        &e.p("sr.der"),
    ]);
    openssl(&[
        "pkey",
        "-in",
        &e.p("rsa.pem"),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        &e.p("os.der"),
    ]);
    assert_eq!(
        std::fs::read(e.p("sr.der")).unwrap(),
        std::fs::read(e.p("os.der")).unwrap()
    );
    secrets.push(rsa);

    // The private keys appear nowhere in what the CLI printed or the keystore file.
    let mut file = std::fs::read(&e.ks).unwrap();
    if let Ok(wal) = std::fs::read(e.ks.with_extension("db-wal")) {
        file.extend(wal);
    }
    let printed = e.printed.borrow().clone();
    let b64 = base64::engine::general_purpose::STANDARD;
    for s in &secrets {
        let s_b64 = b64.encode(s);
        for w in s.windows(16).step_by(16) {
            assert!(
                !file.windows(16).any(|x| x == w),
                "private key in keystore file"
            );
            assert!(!printed.windows(16).any(|x| x == w), "private key printed");
        }
        for w in s_b64.as_bytes().windows(24).step_by(24) {
            assert!(
                !printed.windows(24).any(|x| x == w),
                "private key printed (base64)"
            );
        }
    }
}

#[test]
fn openssl_oaep_ciphertexts_decrypt() {
    let e = Env::new();
    let key = e.create_key("RSA_2048", "ENCRYPT_DECRYPT", None);
    e.ok(&[
        "get-public-key",
        "--key-id",
        &key,
        "--outfile",
        &e.p("wrap.pem"),
        "--pem",
    ]);
    for (alg, md, max) in [
        ("RSAES_OAEP_SHA_1", "sha1", 214),
        ("RSAES_OAEP_SHA_256", "sha256", 190),
    ] {
        let pt: Vec<u8> = (0..max).map(|i| i as u8).collect();
        std::fs::write(e.p("pt"), &pt).unwrap();
        openssl_oaep(&e, md, "pt", "ct");
        e.ok(&[
            "decrypt",
            "--key-id",
            &key,
            "--encryption-algorithm",
            alg,
            "--ciphertext-blob",
            &format!("fileb://{}", e.p("ct")),
            "--outfile",
            &e.p("out"),
        ]);
        assert_eq!(std::fs::read(e.p("out")).unwrap(), pt);
        // One byte past the KMS limit is refused.
        std::fs::write(e.p("big"), vec![1u8; max + 1]).unwrap();
        e.fails_with(
            &[
                "encrypt",
                "--key-id",
                &key,
                "--encryption-algorithm",
                alg,
                "--plaintext",
                &format!("fileb://{}", e.p("big")),
            ],
            "ValidationException",
        );
    }
}

#[test]
fn material_wrapped_by_openssl_and_pyca_imports_with_each_wrapping_algorithm() {
    let e = Env::new();
    let py = pyca_python();
    let algs = [
        "RSAES_OAEP_SHA_1",
        "RSAES_OAEP_SHA_256",
        "RSA_AES_KEY_WRAP_SHA_1",
        "RSA_AES_KEY_WRAP_SHA_256",
    ];
    for (i, alg) in algs.iter().enumerate() {
        let material = [0x20u8 + i as u8; 32];
        std::fs::write(e.p("material.bin"), material).unwrap();
        let key = e.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", Some("EXTERNAL"));
        e.import_params(&key, alg);
        if alg.starts_with("RSAES_OAEP") {
            let md = if alg.ends_with("SHA_1") {
                "sha1"
            } else {
                "sha256"
            };
            openssl_oaep(&e, md, "material.bin", "wrapped.bin");
        } else {
            let Some(py) = &py else { continue };
            python(
                py,
                "wrap_key_material.py",
                &[
                    &e.p("wrap.pem"),
                    alg,
                    &e.p("material.bin"),
                    &e.p("wrapped.bin"),
                ],
            );
        }
        let out = e.import(&key, "wrapped.bin");
        assert!(
            out.status.success(),
            "{alg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            e.ok(&["describe-key", "--key-id", &key])["KeyMetadata"]["KeyState"],
            "Enabled"
        );
        // The blob is under the caller's bytes: the FORMAT.md script opens it.
        let r = e.ok(&[
            "encrypt",
            "--key-id",
            &key,
            "--plaintext",
            "aW1wb3J0ZWQgYW5kIHJlYWQ=",
            "--encryption-context",
            "purpose=interop,b=2",
            "--outfile",
            &e.p("blob.bin"),
        ]);
        assert!(r["CiphertextBlob"].is_string());
        if let Some(py) = &py {
            let pt = python(
                py,
                "decrypt_blob.py",
                &[
                    &e.p("material.bin"),
                    &e.p("blob.bin"),
                    r#"{"purpose": "interop", "b": "2"}"#,
                ],
            );
            assert_eq!(pt, b"imported and read");
        }
        // Importing other material is refused after deletion.
        e.ok(&["delete-imported-key-material", "--key-id", &key]);
        e.import_params(&key, "RSAES_OAEP_SHA_256");
        std::fs::write(e.p("material.bin"), [0xeeu8; 32]).unwrap();
        openssl_oaep(&e, "sha256", "material.bin", "wrapped.bin");
        let out = e.import(&key, "wrapped.bin");
        assert!(String::from_utf8_lossy(&out.stderr).contains("IncorrectKeyMaterialException"));
    }
}

/// `import-key-material --import-type` (KMS's `ImportType`) and
/// `--grant-tokens` on `describe-key` and `get-public-key` reach core:
/// EXISTING_KEY_MATERIAL before any import, NEW_KEY_MATERIAL after one and
/// an unknown type are refused; a bogus token is InvalidGrantTokenException,
/// a token this keystore issued is accepted. A key-ID-only command refuses
/// an alias (NotFoundException).
#[test]
fn import_type_and_grant_tokens_flags() {
    let e = Env::new();
    let key = e.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", Some("EXTERNAL"));
    std::fs::write(e.p("material.bin"), [0x42u8; 32]).unwrap();
    let import_as = |import_type: &str| {
        e.import_params(&key, "RSAES_OAEP_SHA_256");
        openssl_oaep(&e, "sha256", "material.bin", "wrapped.bin");
        e.run(&[
            "import-key-material",
            "--key-id",
            &key,
            "--encrypted-key-material",
            &format!("fileb://{}", e.p("wrapped.bin")),
            "--import-token",
            &format!("fileb://{}", e.p("token.bin")),
            "--import-type",
            import_type,
        ])
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let state = || e.ok(&["describe-key", "--key-id", &key])["KeyMetadata"]["KeyState"].clone();
    let out = import_as("EXISTING_KEY_MATERIAL");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("IncorrectKeyMaterialException"),
        "{}",
        stderr(&out)
    );
    let out = import_as("SOME_MATERIAL");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SOME_MATERIAL"), "{}", stderr(&out));
    assert_eq!(state(), "PendingImport");
    let out = import_as("NEW_KEY_MATERIAL");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(state(), "Enabled");
    let out = import_as("NEW_KEY_MATERIAL");
    assert!(
        stderr(&out).contains("UnsupportedOperationException"),
        "{}",
        stderr(&out)
    );
    let out = import_as("EXISTING_KEY_MATERIAL");
    assert!(out.status.success(), "{}", stderr(&out));

    let signer = e.create_key("ECC_NIST_P256", "SIGN_VERIFY", None);
    e.ok(&[
        "create-alias",
        "--alias-name",
        "alias/tokens",
        "--target-key-id",
        &signer,
    ]);
    let token = e.ok(&[
        "create-grant",
        "--key-id",
        &signer,
        "--grantee-principal",
        "arn:aws:iam::000000000000:user/app",
        "--operations",
        "Sign",
    ])["GrantToken"]
        .as_str()
        .unwrap()
        .to_string();
    for cmd in ["describe-key", "get-public-key"] {
        e.fails_with(
            &[cmd, "--key-id", "alias/tokens", "--grant-tokens", "bogus"],
            "InvalidGrantTokenException",
        );
        let r = e.ok(&[cmd, "--key-id", "alias/tokens", "--grant-tokens", &token]);
        assert!(r.to_string().contains(&signer), "{cmd}: {r}");
    }
    e.fails_with(
        &["enable-key", "--key-id", "alias/tokens"],
        "NotFoundException",
    );
    e.fails_with(
        &["get-key-rotation-status", "--key-id", "alias/tokens"],
        "NotFoundException",
    );
}

#[test]
fn cli_limits_and_mac_round_trip() {
    let e = Env::new();
    let key = e.create_key("HMAC_256", "GENERATE_VERIFY_MAC", None);
    let r = e.ok(&[
        "generate-mac",
        "--key-id",
        &key,
        "--message",
        "aGVsbG8=",
        "--mac-algorithm",
        "HMAC_SHA_256",
    ]);
    let mac = r["Mac"].as_str().unwrap().to_string();
    let v = e.ok(&[
        "verify-mac",
        "--key-id",
        &key,
        "--message",
        "aGVsbG8=",
        "--mac-algorithm",
        "HMAC_SHA_256",
        "--mac",
        &mac,
    ]);
    assert_eq!(v["MacValid"], true);
    e.fails_with(
        &[
            "verify-mac",
            "--key-id",
            &key,
            "--message",
            "aGVsbG9v",
            "--mac-algorithm",
            "HMAC_SHA_256",
            "--mac",
            &mac,
        ],
        "KMSInvalidMacException",
    );
    std::fs::write(e.p("4097"), vec![0u8; 4097]).unwrap();
    e.fails_with(
        &[
            "generate-mac",
            "--key-id",
            &key,
            "--message",
            &format!("fileb://{}", e.p("4097")),
            "--mac-algorithm",
            "HMAC_SHA_256",
        ],
        "ValidationException",
    );
    let sym = e.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", None);
    let r = e.ok(&[
        "generate-data-key-pair",
        "--key-id",
        &sym,
        "--key-pair-spec",
        "ECC_NIST_P256",
        "--private-key-outfile",
        &e.p("priv.der"),
        "--public-key-outfile",
        &e.p("pub.der"),
    ]);
    // Written to the file, so left out of the JSON.
    assert!(r.get("PrivateKeyPlaintext").is_none());
    assert!(r["PrivateKeyCiphertextBlob"].is_string());
    openssl(&[
        "pkey",
        "-inform",
        "DER",
        "-in",
        &e.p("priv.der"),
        "-pubout",
        "-outform",
        "DER",
        "-out",
        &e.p("derived.der"),
    ]);
    assert_eq!(
        std::fs::read(e.p("pub.der")).unwrap(),
        std::fs::read(e.p("derived.der")).unwrap()
    );
    let r = e.ok(&[
        "generate-data-key-pair-without-plaintext",
        "--key-id",
        &sym,
        "--key-pair-spec",
        "ECC_NIST_P384",
    ]);
    assert!(r.get("PrivateKeyPlaintext").is_none());
    e.fails_with(
        &[
            "create-key",
            "--key-spec",
            "ECC_NIST_P256",
            "--key-usage",
            "ENCRYPT_DECRYPT",
        ],
        "ValidationException",
    );
}

/// `ECC_NIST_P521` and `ECC_SECG_P256K1` against OpenSSL and
/// pyca/cryptography: their signatures (RAW and DIGEST) verify there with
/// the GetPublicKey SPKI, which names the right curve OID; theirs verify in
/// Strongroom after importing their private key, whose public key is the
/// one GetPublicKey returns. `HMAC_224` tags equal OpenSSL's and Python's
/// HMAC-SHA224 of imported key material.
#[test]
fn p521_secp256k1_and_hmac_224_interop() {
    let e = Env::new();
    let py = pyca_python();
    std::fs::write(e.p("msg"), b"P-521 and secp256k1 interop\n").unwrap();
    let msg = format!("fileb://{}", e.p("msg"));
    for (spec, curve, md, alg) in [
        ("ECC_NIST_P521", "secp521r1", "sha512", "ECDSA_SHA_512"),
        ("ECC_SECG_P256K1", "secp256k1", "sha256", "ECDSA_SHA_256"),
    ] {
        let dash_md = format!("-{md}");
        let key = e.create_key(spec, "SIGN_VERIFY", None);
        let md_json = e.ok(&["describe-key", "--key-id", &key]);
        assert_eq!(md_json["KeyMetadata"]["KeySpec"], spec);
        assert_eq!(md_json["KeyMetadata"]["SigningAlgorithms"][0], alg);
        let spki = e.ok(&[
            "get-public-key",
            "--key-id",
            &key,
            "--outfile",
            &e.p("pub.der"),
        ]);
        assert_eq!(spki["KeySpec"], spec);
        let text = openssl(&[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            &e.p("pub.der"),
            "-noout",
            "-text",
        ]);
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        assert!(text.contains(&format!("ASN1 OID: {curve}")), "{text}");
        // RAW, then DIGEST of OpenSSL's hash: both verify over the message.
        let digest = openssl(&["dgst", &dash_md, "-binary", &e.p("msg")]).stdout;
        std::fs::write(e.p("digest"), &digest).unwrap();
        for (message, message_type) in [
            (msg.clone(), "RAW"),
            (format!("fileb://{}", e.p("digest")), "DIGEST"),
        ] {
            e.ok(&[
                "sign",
                "--key-id",
                &key,
                "--message",
                &message,
                "--message-type",
                message_type,
                "--signing-algorithm",
                alg,
                "--outfile",
                &e.p("sig"),
            ]);
            let out = openssl(&[
                "dgst",
                &dash_md,
                "-keyform",
                "DER",
                "-verify",
                &e.p("pub.der"),
                "-signature",
                &e.p("sig"),
                &e.p("msg"),
            ]);
            assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
            if let Some(py) = &py {
                let named = python(
                    py,
                    "ecdsa_pyca.py",
                    &["verify", &e.p("pub.der"), &e.p("msg"), &e.p("sig"), md],
                );
                assert_eq!(String::from_utf8_lossy(&named).trim(), curve);
            }
        }
        // A DIGEST of the other length is a ValidationException.
        let other_len = if digest.len() == 64 { 32 } else { 64 };
        std::fs::write(e.p("short"), vec![1u8; other_len]).unwrap();
        e.fails_with(
            &[
                "sign",
                "--key-id",
                &key,
                "--message",
                &format!("fileb://{}", e.p("short")),
                "--message-type",
                "DIGEST",
                "--signing-algorithm",
                alg,
            ],
            "ValidationException",
        );

        // OpenSSL's key, imported; OpenSSL's signatures verify (several, so
        // that secp256k1 signatures with a high s are among them).
        let pem_opts = ["-algorithm", "EC", "-pkeyopt"];
        let curve_opt = format!("ec_paramgen_curve:{curve}");
        let mut genpkey: Vec<&str> = pem_opts.to_vec();
        genpkey.push(&curve_opt);
        pkcs8_der(&e, &genpkey, "os");
        let ext = e.create_key(spec, "SIGN_VERIFY", Some("EXTERNAL"));
        import_with_openssl_kwp(&e, &ext, "os");
        for _ in 0..8 {
            openssl(&[
                "dgst",
                &dash_md,
                "-sign",
                &e.p("os.pem"),
                "-out",
                &e.p("os.sig"),
                &e.p("msg"),
            ]);
            let v = e.ok(&[
                "verify",
                "--key-id",
                &ext,
                "--message",
                &msg,
                "--signature",
                &format!("fileb://{}", e.p("os.sig")),
                "--signing-algorithm",
                alg,
            ]);
            assert_eq!(v["SignatureValid"], true);
        }
        e.ok(&[
            "get-public-key",
            "--key-id",
            &ext,
            "--outfile",
            &e.p("sr.der"),
        ]);
        openssl(&[
            "pkey",
            "-in",
            &e.p("os.pem"),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            &e.p("os.pub"),
        ]);
        assert_eq!(
            std::fs::read(e.p("sr.der")).unwrap(),
            std::fs::read(e.p("os.pub")).unwrap()
        );

        // pyca's key and signature, too.
        if let Some(py) = &py {
            python(
                py,
                "ecdsa_pyca.py",
                &[
                    "sign",
                    curve,
                    &e.p("msg"),
                    md,
                    &e.p("py.der"),
                    &e.p("py.sig"),
                ],
            );
            let pk = e.create_key(spec, "SIGN_VERIFY", Some("EXTERNAL"));
            import_with_openssl_kwp(&e, &pk, "py");
            let v = e.ok(&[
                "verify",
                "--key-id",
                &pk,
                "--message",
                &msg,
                "--signature",
                &format!("fileb://{}", e.p("py.sig")),
                "--signing-algorithm",
                alg,
            ]);
            assert_eq!(v["SignatureValid"], true);
        }
    }

    // HMAC_224: a generated key makes 28-byte tags; imported material gives
    // the tag OpenSSL and Python compute.
    let gen = e.create_key("HMAC_224", "GENERATE_VERIFY_MAC", None);
    let r = e.ok(&[
        "generate-mac",
        "--key-id",
        &gen,
        "--message",
        &msg,
        "--mac-algorithm",
        "HMAC_SHA_224",
    ]);
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(b64.decode(r["Mac"].as_str().unwrap()).unwrap().len(), 28);
    e.fails_with(
        &[
            "generate-mac",
            "--key-id",
            &gen,
            "--message",
            &msg,
            "--mac-algorithm",
            "HMAC_SHA_256",
        ],
        "InvalidKeyUsageException",
    );
    let hk = e.create_key("HMAC_224", "GENERATE_VERIFY_MAC", Some("EXTERNAL"));
    let material: Vec<u8> = (0u8..40).collect();
    std::fs::write(e.p("hmac.bin"), &material).unwrap();
    e.import_params(&hk, "RSAES_OAEP_SHA_256");
    openssl_oaep(&e, "sha256", "hmac.bin", "hmac.wrapped");
    let out = e.import(&hk, "hmac.wrapped");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = e.ok(&[
        "generate-mac",
        "--key-id",
        &hk,
        "--message",
        &msg,
        "--mac-algorithm",
        "HMAC_SHA_224",
    ]);
    let tag = b64.decode(r["Mac"].as_str().unwrap()).unwrap();
    let hex: String = material.iter().map(|b| format!("{b:02x}")).collect();
    let os = openssl(&[
        "dgst",
        "-sha224",
        "-mac",
        "HMAC",
        "-macopt",
        &format!("hexkey:{hex}"),
        "-binary",
        &e.p("msg"),
    ])
    .stdout;
    assert_eq!(tag, os);
    if let Some(py) = &py {
        assert_eq!(
            tag,
            python(
                py,
                "ecdsa_pyca.py",
                &["hmac", "sha224", &e.p("hmac.bin"), &e.p("msg")]
            )
        );
    }
    let v = e.ok(&[
        "verify-mac",
        "--key-id",
        &hk,
        "--message",
        &msg,
        "--mac-algorithm",
        "HMAC_SHA_224",
        "--mac",
        r["Mac"].as_str().unwrap(),
    ]);
    assert_eq!(v["MacValid"], true);
}

/// An OpenSSL key pair made by `openssl genpkey <genpkey>`: the private
/// key PEM `<name>.pem` and the public key DER SPKI `<name>_pub.der`.
fn openssl_key_pair(e: &Env, genpkey: &[&str], name: &str) -> (String, String) {
    let (pem, der) = (e.p(&format!("{name}.pem")), e.p(&format!("{name}_pub.der")));
    let mut args = vec!["genpkey"];
    args.extend_from_slice(genpkey);
    args.extend(["-out", &pem]);
    openssl(&args);
    openssl(&[
        "pkey", "-in", &pem, "-pubout", "-outform", "DER", "-out", &der,
    ]);
    (pem, der)
}

fn ec_genpkey(curve: &str) -> [String; 4] {
    [
        "-algorithm".into(),
        "EC".into(),
        "-pkeyopt".into(),
        format!("ec_paramgen_curve:{curve}"),
    ]
}

/// `derive-shared-secret` of `key` with the public key file `public` (DER),
/// as arguments for [`Env::ok`] / [`Env::fails_with`].
fn derive_args(key: &str, public: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "derive-shared-secret",
        "--key-id",
        key,
        "--key-agreement-algorithm",
        "ECDH",
        "--public-key",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("fileb://{public}"));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// DeriveSharedSecret against `openssl pkeyutl -derive`, both directions,
/// on P-256, P-384 and P-521: the peer (an OpenSSL key) derives from the KMS key's
/// GetPublicKey PEM the same secret that `derive-shared-secret` returns for
/// the peer's public key; and a KEY_AGREEMENT key whose private key OpenSSL
/// made (imported, origin EXTERNAL) derives what OpenSSL derives with it.
/// Wrong-curve, RSA and garbage public keys, a SIGN_VERIFY key and
/// `--recipient` are refused.
#[test]
fn derive_shared_secret_matches_openssl_pkeyutl_derive() {
    let e = Env::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    let secret_of =
        |r: &serde_json::Value| b64.decode(r["SharedSecret"].as_str().unwrap()).unwrap();
    std::fs::write(e.p("garbage.der"), b"not a public key").unwrap();
    let (_, rsa_pub) = openssl_key_pair(
        &e,
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsa",
    );
    for (spec, curve, other, len) in [
        ("ECC_NIST_P256", "P-256", "P-384", 32),
        ("ECC_NIST_P384", "P-384", "P-256", 48),
        ("ECC_NIST_P521", "P-521", "P-384", 66),
    ] {
        let key = e.create_key(spec, "KEY_AGREEMENT", None);
        let d = e.ok(&["describe-key", "--key-id", &key]);
        assert_eq!(d["KeyMetadata"]["KeyAgreementAlgorithms"][0], "ECDH");
        let kms_pem = e.p("kms.pem");
        let pk = e.ok(&[
            "get-public-key",
            "--key-id",
            &key,
            "--outfile",
            &kms_pem,
            "--pem",
        ]);
        assert_eq!(pk["KeyAgreementAlgorithms"][0], "ECDH");
        assert_eq!(pk["KeyUsage"], "KEY_AGREEMENT");
        let (peer, peer_pub) = openssl_key_pair(&e, &strs(&ec_genpkey(curve)), "peer");
        let r = e.ok(&strs(&derive_args(
            &key,
            &peer_pub,
            &["--outfile", &e.p("z.bin")],
        )));
        assert_eq!(r["KeyAgreementAlgorithm"], "ECDH");
        assert_eq!(r["KeyOrigin"], "AWS_KMS");
        assert!(r["KeyId"].as_str().unwrap().ends_with(&key));
        // Written to the file, so left out of the JSON.
        assert!(r.get("SharedSecret").is_none());
        let z = std::fs::read(e.p("z.bin")).unwrap();
        assert_eq!(z.len(), len);
        assert_eq!(
            secret_of(&e.ok(&strs(&derive_args(&key, &peer_pub, &[])))),
            z
        );
        let theirs = openssl(&["pkeyutl", "-derive", "-inkey", &peer, "-peerkey", &kms_pem]).stdout;
        assert_eq!(theirs, z, "{spec}: OpenSSL's ECDH differs");

        let (_, other_pub) = openssl_key_pair(&e, &strs(&ec_genpkey(other)), "other");
        for bad in [&other_pub, &rsa_pub, &e.p("garbage.der")] {
            e.fails_with(&strs(&derive_args(&key, bad, &[])), "ValidationException");
        }
    }

    // OpenSSL's private key imported into a KEY_AGREEMENT key.
    let ec = pkcs8_der(&e, &strs(&ec_genpkey("P-256")), "ec");
    let ek = e.create_key("ECC_NIST_P256", "KEY_AGREEMENT", Some("EXTERNAL"));
    e.import_params(&ek, "RSAES_OAEP_SHA_256");
    openssl_oaep(&e, "sha256", "ec.der", "ec.wrapped");
    let out = e.import(&ek, "ec.wrapped");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, peer_pub) = openssl_key_pair(&e, &strs(&ec_genpkey("P-256")), "peer2");
    let r = e.ok(&strs(&derive_args(&ek, &peer_pub, &[])));
    assert_eq!(r["KeyOrigin"], "EXTERNAL");
    let theirs = openssl(&[
        "pkeyutl",
        "-derive",
        "-inkey",
        &e.p("ec.pem"),
        "-peerkey",
        &peer_pub,
        "-peerform",
        "DER",
    ])
    .stdout;
    assert_eq!(
        theirs,
        secret_of(&r),
        "imported key: OpenSSL's ECDH differs"
    );

    let signer = e.create_key("ECC_NIST_P256", "SIGN_VERIFY", None);
    e.fails_with(
        &strs(&derive_args(&signer, &peer_pub, &[])),
        "InvalidKeyUsageException",
    );
    let recipient = "KeyEncryptionAlgorithm=RSAES_OAEP_SHA_256,AttestationDocument=AA==";
    e.fails_with(
        &strs(&derive_args(&ek, &peer_pub, &["--recipient", recipient])),
        "UnsupportedOperationException",
    );
    // The CLI printed no private key made by OpenSSL.
    let printed = e.printed.borrow();
    assert!(!printed.windows(16).any(|w| ec.windows(16).any(|s| s == w)));
}
