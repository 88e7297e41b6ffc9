//! Where the root key comes from: raw bytes, a key file, an environment
//! variable, or a passphrase stretched with Argon2id (RFC 9106).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use strongroom_core::seal::ROOT_KEY_LEN;
use strongroom_core::{Error, ErrorKind, Result, Secret};

/// A source of the keystore's 256-bit root key.
#[derive(Clone, Debug)]
pub enum RootKeySource {
    /// The 32 key bytes themselves.
    Bytes(Secret),
    /// A key file: 32 raw bytes, or their base64 or hex text (one line).
    File(PathBuf),
    /// An environment variable holding the base64 or hex text of 32 bytes.
    EnvVar(String),
    /// A passphrase (at least one byte; an empty one fails with
    /// `ValidationException`); the key is Argon2id(passphrase, salt) with the
    /// salt and cost parameters stored in the keystore.
    Passphrase(Secret),
}

/// Argon2id parameters stored in the keystore (not secret).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Argon2Params {
    /// Memory cost in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
    /// 16-byte random salt, base64.
    #[serde(with = "strongroom_core::b64")]
    pub salt: Vec<u8>,
}

impl Argon2Params {
    /// The defaults for new keystores: 64 MiB, 3 passes, 1 lane (RFC 9106's
    /// second recommended option), random 16-byte salt.
    pub fn generate(salt: [u8; 16]) -> Self {
        Argon2Params {
            m_cost: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
            salt: salt.to_vec(),
        }
    }

    /// Derives 32 bytes from `passphrase`.
    ///
    /// # Errors
    /// `ValidationException` for an empty passphrase, or parameters Argon2
    /// rejects.
    pub fn derive(&self, passphrase: &[u8]) -> Result<Secret> {
        if passphrase.is_empty() {
            return Err(Error::validation("the passphrase is empty"));
        }
        let params = argon2::Params::new(self.m_cost, self.t_cost, self.p_cost, Some(ROOT_KEY_LEN))
            .map_err(|e| Error::validation(format!("invalid Argon2 parameters: {e}")))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = zeroize::Zeroizing::new([0u8; ROOT_KEY_LEN]);
        a.hash_password_into(passphrase, &self.salt, out.as_mut())
            .map_err(|e| Error::validation(format!("Argon2 failed: {e}")))?;
        Ok(Secret::from_slice(out.as_ref()))
    }
}

/// Parses key text: base64 or hex of exactly 32 bytes (surrounding
/// whitespace ignored), or 32 raw bytes.
///
/// # Errors
/// `ValidationException` if it is none of these.
pub fn parse_key_bytes(raw: &[u8]) -> Result<Secret> {
    if raw.len() == ROOT_KEY_LEN {
        return Ok(Secret::from_slice(raw));
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| {
            Error::validation("root key must be 32 raw bytes, or base64 or hex text of 32 bytes")
        })?
        .trim();
    if text.len() == 2 * ROOT_KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes: Vec<u8> = (0..ROOT_KEY_LEN)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect();
        return Ok(Secret::new(bytes));
    }
    match STANDARD.decode(text) {
        Ok(b) if b.len() == ROOT_KEY_LEN => Ok(Secret::new(b)),
        _ => Err(Error::validation(
            "root key must be 32 raw bytes, or base64 or hex text of 32 bytes",
        )),
    }
}

/// Reads a key file.
///
/// # Errors
/// `NotFoundException` if it cannot be read, `ValidationException` if it
/// does not hold a 32-byte key.
pub fn read_key_file(path: &Path) -> Result<Secret> {
    let raw = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorKind::NotFoundException,
            format!("cannot read root key file {}: {e}", path.display()),
        )
    })?);
    parse_key_bytes(&raw)
}

/// Writes a new random root key as base64 text to `path`, created with mode
/// 0600 (owner read/write only) and refusing to overwrite an existing file.
///
/// # Errors
/// `AlreadyExistsException` if the file exists, `KMSInternalException` on
/// other I/O failures.
pub fn write_new_key_file(path: &Path, key: &Secret) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::new(
                ErrorKind::AlreadyExistsException,
                format!("{} already exists", path.display()),
            )
        } else {
            Error::internal(format!("cannot create {}: {e}", path.display()))
        }
    })?;
    let text = zeroize::Zeroizing::new(format!("{}\n", STANDARD.encode(key.expose_secret())));
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))
}
