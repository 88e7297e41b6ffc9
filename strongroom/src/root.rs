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
/// whitespace ignored), or 32 raw bytes. Every intermediate copy of the
/// bytes (a decoded key of the wrong length too) is wiped when dropped.
///
/// # Errors
/// `ValidationException` if it is none of these.
pub fn parse_key_bytes(raw: &[u8]) -> Result<Secret> {
    let wrong =
        || Error::validation("root key must be 32 raw bytes, or base64 or hex text of 32 bytes");
    if raw.len() == ROOT_KEY_LEN {
        return Ok(Secret::from_slice(raw));
    }
    let text = std::str::from_utf8(raw).map_err(|_| wrong())?.trim();
    if text.len() == 2 * ROOT_KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes: Vec<u8> = (0..ROOT_KEY_LEN)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect();
        return Ok(Secret::new(bytes));
    }
    let decoded = zeroize::Zeroizing::new(STANDARD.decode(text).map_err(|_| wrong())?);
    if decoded.len() != ROOT_KEY_LEN {
        return Err(wrong());
    }
    Ok(Secret::from_slice(&decoded))
}

/// Largest key file read, in bytes: a key file holds at most 64 hex
/// characters and a line end; anything past 4096 bytes is not a key.
pub const MAX_KEY_FILE_LEN: u64 = 4096;

/// Reads a key file: a regular file (a symbolic link to one is followed)
/// or, on Unix, a pipe or FIFO (`--root-key-file <(vault read …)`, whose
/// `/dev/fd/N` is a pipe: the key never touches a disk), of at most
/// [`MAX_KEY_FILE_LEN`] bytes. The file is opened without blocking, so a
/// FIFO with no writer reads as empty (refused as not a key) instead of
/// waiting for one; a pipe is then read in blocking mode until its writer
/// closes it or the cap is passed; a device such as `/dev/zero` is refused
/// instead of read until memory runs out.
///
/// # Errors
/// `NotFoundException` if it cannot be opened or read; `ValidationException`
/// if it is neither a regular file nor a pipe (a directory, a device), is
/// longer than [`MAX_KEY_FILE_LEN`] bytes, or does not hold a 32-byte key.
pub fn read_key_file(path: &Path) -> Result<Secret> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| {
        Error::new(
            ErrorKind::NotFoundException,
            format!("cannot read root key file {}: {e}", path.display()),
        )
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        rustix::fs::OFlags::NONBLOCK.bits() as i32,
    );
    let file = options.open(path).map_err(unreadable)?;
    let kind = file.metadata().map_err(unreadable)?.file_type();
    #[cfg(unix)]
    let pipe = std::os::unix::fs::FileTypeExt::is_fifo(&kind);
    #[cfg(not(unix))]
    let pipe = false;
    if !kind.is_file() && !pipe {
        return Err(Error::validation(format!(
            "root key file {} is not a regular file or a pipe (a directory or device)",
            path.display()
        )));
    }
    #[cfg(unix)]
    if pipe {
        // Opened without blocking (no writer: no wait); read blocking, so a
        // writer that is still producing the key is waited for.
        rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty())
            .map_err(|e| unreadable(e.into()))?;
    }
    // Room for the cap and one byte past it: never reallocated, so no
    // unwiped copy of key bytes is freed.
    let mut raw = zeroize::Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN as usize + 1));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut raw)
        .map_err(unreadable)?;
    if raw.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(Error::validation(format!(
            "root key file {} is longer than {MAX_KEY_FILE_LEN} bytes: not a 32-byte key",
            path.display()
        )));
    }
    parse_key_bytes(&raw)
}

/// Makes the directory entry of `path` durable: fsyncs its parent
/// directory (the current directory for a bare file name). On ext4, XFS
/// and most other file systems a new or renamed name survives power loss
/// only after this.
///
/// # Errors
/// The I/O error of opening or syncing the directory.
pub(crate) fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    // Windows cannot open a directory as a file; NTFS journals names.
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Writes a new random root key as base64 text to `path`, created with mode
/// 0600 (owner read/write only) and refusing to overwrite an existing file.
///
/// Durable and all-or-nothing: the text is written and fsynced under a
/// temporary name in the same directory (`.<name>.<random>.tmp`, mode 0600),
/// hard-linked to `path` (which fails if `path` exists, so nothing is ever
/// overwritten), the temporary name removed and the directory fsynced. On
/// any failure the temporary file is removed and `path` does not exist, so
/// the call can simply be retried. A crash in the middle can leave only a
/// `.<name>.<random>.tmp` file behind (never a partial `path`); it holds key
/// material and may be deleted.
///
/// # Errors
/// `AlreadyExistsException` if the file exists; `ValidationException`
/// naming it when its directory is missing, not a directory, not writable
/// or read-only ([`crate::envelope::path_error`]); `KMSInternalException`
/// on other I/O failures.
pub fn write_new_key_file(path: &Path, key: &Secret) -> Result<()> {
    write_new_key_file_with(path, key, |f, text| {
        use std::io::Write;
        f.write_all(text)
    })
}

/// [`write_new_key_file`] with the write of the text into the temporary
/// file given by the caller (tests inject failures through it).
fn write_new_key_file_with(
    path: &Path,
    key: &Secret,
    write: impl FnOnce(&mut std::fs::File, &[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let exists = || {
        Error::new(
            ErrorKind::AlreadyExistsException,
            format!("{} already exists", path.display()),
        )
    };
    let failed = |what: &str, e: std::io::Error| {
        Error::internal(format!("cannot {what} {}: {e}", path.display()))
    };
    if path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::validation(format!("{} is not a file name", path.display())))?;
    let mut suffix = [0u8; 8];
    rand_core::Rng::fill_bytes(&mut crate::os_rng(), &mut suffix);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", hex::encode(suffix)));
    let tmp = path.with_file_name(tmp_name);

    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .map_err(|e| crate::envelope::path_error("cannot create a file beside", path, &e))?;
    let text = zeroize::Zeroizing::new(format!("{}\n", STANDARD.encode(key.expose_secret())));
    let linked = write(&mut f, text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| failed("write", e))
        .and_then(|()| {
            std::fs::hard_link(&tmp, path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    exists()
                } else {
                    failed("create", e)
                }
            })
        });
    drop(f);
    let removed = std::fs::remove_file(&tmp);
    linked?;
    removed
        .and_then(|()| sync_parent_dir(path))
        .map_err(|e| failed("make durable", e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_the_retry_works() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let key = Secret::from_slice(&[9u8; 32]);
        // The write fails half-way (as on ENOSPC): no file at `path`, no
        // temporary file left.
        let e = write_new_key_file_with(&path, &key, |f, text| {
            std::io::Write::write_all(f, &text[..10])?;
            Err(std::io::Error::other("injected: no space left on device"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        // The retry succeeds and writes the whole key, owner-only.
        write_new_key_file(&path, &key).unwrap();
        assert_eq!(names(dir.path()), ["root.key"]);
        assert_eq!(read_key_file(&path).unwrap().expose_secret(), &[9u8; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // An existing file is never overwritten, and nothing is left over.
        let other = Secret::from_slice(&[1u8; 32]);
        let e = write_new_key_file(&path, &other).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExistsException);
        assert_eq!(read_key_file(&path).unwrap().expose_secret(), &[9u8; 32]);
        assert_eq!(names(dir.path()), ["root.key"]);
    }

    #[test]
    fn an_empty_file_left_by_an_older_crashed_write_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        std::fs::write(&path, b"").unwrap();
        let e = read_key_file(&path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValidationException, "{e}");
        let e = write_new_key_file(&path, &Secret::from_slice(&[9u8; 32])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExistsException, "{e}");
    }

    #[test]
    fn key_text_of_the_wrong_length_is_refused() {
        use base64::Engine;
        for n in [0usize, 16, 31, 33, 48, 64] {
            let text = STANDARD.encode(vec![5u8; n]);
            let e = parse_key_bytes(text.as_bytes()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ValidationException, "{n} bytes");
        }
        let good = STANDARD.encode([5u8; 32]);
        assert_eq!(
            parse_key_bytes(good.as_bytes()).unwrap().expose_secret(),
            &[5u8; 32]
        );
        let hex = format!(" {}\r\n", hex::encode([6u8; 32]));
        assert_eq!(
            parse_key_bytes(hex.as_bytes()).unwrap().expose_secret(),
            &[6u8; 32]
        );
    }

    #[test]
    fn a_key_file_must_be_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |p: &Path| {
            let e = read_key_file(p).unwrap_err();
            assert_eq!(
                e.kind(),
                ErrorKind::ValidationException,
                "{}: {e}",
                p.display()
            );
            e
        };
        // A directory.
        refused(dir.path());
        // A 10 MiB regular file.
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'A'; 10 << 20]).unwrap();
        let e = refused(&big);
        assert!(e.to_string().contains("longer than 4096"), "{e}");
        // Just at the cap: read, then refused as not a key.
        let at_cap = dir.path().join("cap");
        std::fs::write(&at_cap, vec![b' '; 4096]).unwrap();
        refused(&at_cap);
        #[cfg(unix)]
        {
            // A device that never ends.
            let e = refused(Path::new("/dev/zero"));
            assert!(e.to_string().contains("not a regular file"), "{e}");
            // A FIFO with no writer: read as empty at once (not a hang),
            // refused as not a key.
            let fifo = dir.path().join("fifo");
            rustix::fs::mkfifoat(
                rustix::fs::CWD,
                &fifo,
                rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
            )
            .unwrap();
            let e = refused(&fifo);
            assert!(e.to_string().contains("32"), "{e}");
            // A pipe whose writer is still producing the key, as
            // `--root-key-file <(command)` gives one: waited for and read.
            let mut child = std::process::Command::new("sh")
                .args(["-c", "sleep 0.3; printf '%064d' 7"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let out = child.stdout.take().unwrap();
            let fd = std::os::fd::AsRawFd::as_raw_fd(&out);
            let key = read_key_file(Path::new(&format!("/dev/fd/{fd}"))).unwrap();
            let mut want = [0u8; 32];
            want[31] = 7;
            assert_eq!(key.expose_secret(), &want[..]);
            drop(out);
            child.wait().unwrap();
        }
    }
}

#[cfg(test)]
mod kdf_fuzz {
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
