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

/// Largest accepted Argon2id memory cost, in KiB: 2 GiB, RFC 9106's first
/// recommended option (section 4) and 32 times this library's default
/// (64 MiB), above every OWASP recommendation (19 to 46 MiB).
pub const ARGON2_MAX_M_COST_KIB: u32 = 2 * 1024 * 1024;
/// Largest accepted Argon2id pass count: 64 (RFC 9106 recommends 1 or 3,
/// OWASP 1 to 5; this library's default is 3).
pub const ARGON2_MAX_T_COST: u32 = 64;
/// Largest accepted Argon2id lane count: 16 (RFC 9106 recommends 4; this
/// library's default is 1).
pub const ARGON2_MAX_P_COST: u32 = 16;
/// Accepted salt lengths in bytes: 8 to 64 (the `argon2` crate's limits;
/// RFC 9106 recommends 16, which this library generates).
pub const ARGON2_SALT_LEN: std::ops::RangeInclusive<usize> = 8..=64;

/// Argon2id parameters stored in the keystore (not secret). Accepted only
/// within the bounds [`check_bounds`](Self::check_bounds) names, so that
/// parameters read from a file (before any MAC can be checked) cannot make
/// a derivation abort on memory or run for hours.
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

    /// Checks the parameters against this library's bounds: `m_cost` from
    /// `8 * p_cost` (Argon2's minimum) to [`ARGON2_MAX_M_COST_KIB`] KiB,
    /// `t_cost` from 1 to [`ARGON2_MAX_T_COST`], `p_cost` from 1 to
    /// [`ARGON2_MAX_P_COST`], and a salt of [`ARGON2_SALT_LEN`] bytes.
    ///
    /// # Errors
    /// `ValidationException` naming the first parameter out of range.
    pub fn check_bounds(&self) -> Result<()> {
        let out = |what: String| {
            Err(Error::validation(format!(
                "Argon2id parameter out of range: {what}"
            )))
        };
        if !(1..=ARGON2_MAX_P_COST).contains(&self.p_cost) {
            return out(format!(
                "p_cost {} is not between 1 and {ARGON2_MAX_P_COST}",
                self.p_cost
            ));
        }
        if !(1..=ARGON2_MAX_T_COST).contains(&self.t_cost) {
            return out(format!(
                "t_cost {} is not between 1 and {ARGON2_MAX_T_COST}",
                self.t_cost
            ));
        }
        let min_m = 8 * self.p_cost;
        if !(min_m..=ARGON2_MAX_M_COST_KIB).contains(&self.m_cost) {
            return out(format!(
                "m_cost {} KiB is not between {min_m} KiB (8 per lane) and {ARGON2_MAX_M_COST_KIB} KiB",
                self.m_cost
            ));
        }
        if !ARGON2_SALT_LEN.contains(&self.salt.len()) {
            return out(format!(
                "the salt is {} bytes, not {} to {}",
                self.salt.len(),
                ARGON2_SALT_LEN.start(),
                ARGON2_SALT_LEN.end()
            ));
        }
        Ok(())
    }

    /// Parses stored or imported parameters (`meta/kdf`, or an export's
    /// KDF field) and checks their bounds. `what` names their origin in
    /// the error.
    ///
    /// # Errors
    /// `KMSInternalException` when they are not JSON parameters or are out
    /// of range ([`check_bounds`](Self::check_bounds)): the bytes were
    /// modified outside Strongroom, and nothing is derived from them.
    pub(crate) fn parse_stored(body: &[u8], what: &str) -> Result<Self> {
        let params: Argon2Params = serde_json::from_slice(body)
            .map_err(|e| Error::internal(format!("{what} are malformed: {e}")))?;
        params.check_bounds().map_err(|e| {
            Error::internal(format!(
                "{what} are out of range ({}): modified outside Strongroom",
                e.message()
            ))
        })?;
        Ok(params)
    }

    /// Derives 32 bytes from `passphrase`.
    ///
    /// # Errors
    /// `ValidationException` for an empty passphrase, or parameters out of
    /// range ([`check_bounds`](Self::check_bounds)); nothing is derived then.
    pub fn derive(&self, passphrase: &[u8]) -> Result<Secret> {
        if passphrase.is_empty() {
            return Err(Error::validation("the passphrase is empty"));
        }
        self.check_bounds()?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// A JSON value of any type, or a number at or past a bound.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            prop_oneof![
                Just(0u64),
                Just(7),
                Just(8),
                Just(16),
                Just(17),
                Just(64),
                Just(65),
                Just(u64::from(ARGON2_MAX_M_COST_KIB) + 1),
                Just(u64::from(u32::MAX) + 1)
            ]
            .prop_map(serde_json::Value::from),
            Just(serde_json::Value::from(1.5)),
            "[A-Za-z0-9+/=]{0,100}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            Just(serde_json::json!([1, 2])),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
        ))]

        /// `meta/kdf` (read before any MAC can be checked) and an export's
        /// KDF field: arbitrary bytes, and the stored parameters with a
        /// member replaced by another value or removed, or their bytes
        /// flipped or cut, parse only to parameters within the bounds, and
        /// are refused otherwise with `KMSInternalException` — never a
        /// panic, never parameters that make a derivation abort or run for
        /// hours.
        #[test]
        fn stored_kdf_parameters(
            bytes in proptest::collection::vec(any::<u8>(), 0..120),
            member in 0usize..5,
            value in json_value(),
            flip in (any::<usize>(), any::<u8>()),
            cut in any::<usize>(),
            how in 0u8..3,
        ) {
            let real = serde_json::to_vec(&Argon2Params::generate([9; 16])).unwrap();
            let mut json: serde_json::Value = serde_json::from_slice(&real).unwrap();
            let names = ["m_cost", "t_cost", "p_cost", "salt", "extra"];
            match how {
                0 => json[names[member]] = value,
                1 => drop(json.as_object_mut().unwrap().remove(names[member])),
                _ => {}
            }
            let mut edited = serde_json::to_vec(&json).unwrap();
            if how == 2 {
                let i = flip.0 % edited.len();
                edited[i] ^= flip.1;
                edited.truncate(cut % (edited.len() + 1));
            }
            for body in [&bytes, &edited] {
                match Argon2Params::parse_stored(body, "the KDF parameters") {
                    Ok(p) => prop_assert!(p.check_bounds().is_ok()),
                    Err(e) => prop_assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{}", e),
                }
            }
        }
    }
}
