//! The files of a keystore that no output of the library may replace: the
//! keystore, its SQLite sidecars, its change-signal file, its audit log,
//! its root key file and its anchor file. Writing a message or a plaintext
//! over one of them would destroy the keystore (every key lost with the
//! root key file), so every file output of the library
//! ([`crate::envelope::encrypt_to_path`], [`crate::envelope::decrypt_to_path`]
//! and the functions built on them, in every binding) is checked against
//! the files of each keystore this process has open, and the CLI checks
//! its outputs with [`refuse_keystore_file`] before it opens anything.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use strongroom_core::{Error, Result};

use crate::anchor::keystore_files;

/// How [`files_of`] names the root key file the keystore was opened with.
pub const ROOT_KEY_FILE: &str = "the root key file";
/// How [`files_of`] names the default root key file beside the keystore.
pub const DEFAULT_ROOT_KEY_FILE: &str = "the default root key file";
/// How [`files_of`] names the anchor file.
pub const ANCHOR_FILE: &str = "the keystore's anchor file";

/// The default root key file of the keystore at `keystore`: the same path
/// with the extension `key` (`keys.db` → `keys.key`), where the CLI looks
/// for the root key when no other source is given.
pub fn default_root_key_file(keystore: &Path) -> PathBuf {
    keystore.with_extension("key")
}

/// Every file of the keystore at `keystore`, each with how it is named in
/// errors: [`keystore_files`], the root key file (`root_key_file`, when the
/// root key comes from a file), the default root key file
/// ([`default_root_key_file`]) and the anchor file (`anchor_file`).
pub fn files_of(
    keystore: &Path,
    root_key_file: Option<&Path>,
    anchor_file: Option<&Path>,
) -> Vec<(PathBuf, &'static str)> {
    let mut files = keystore_files(keystore);
    if let Some(f) = root_key_file {
        files.push((absolute(f), ROOT_KEY_FILE));
    }
    files.push((
        absolute(&default_root_key_file(keystore)),
        DEFAULT_ROOT_KEY_FILE,
    ));
    if let Some(f) = anchor_file {
        files.push((absolute(f), ANCHOR_FILE));
    }
    files
}

/// `p` made absolute against the current directory now (when the files are
/// registered, at open), so that a later `chdir` of the process does not
/// make a relative path name another file; `p` as given if that fails.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `p` with its directory resolved (symbolic links, `..`), the file name as
/// given; `None` when the directory does not exist.
fn resolved(p: &Path) -> Option<PathBuf> {
    let name = p.file_name()?;
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

/// Whether `a` and `b` name the same file: the same device and inode when
/// both exist (so hard links and symbolic links count), else the same
/// resolved path (a `-wal` file not created yet, say).
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    matches!((resolved(a), resolved(b)), (Some(x), Some(y)) if x == y)
}

/// Refuses an output path that is one of `files` (as [`files_of`] lists
/// them), compared by [`same_file`].
///
/// # Errors
/// `ValidationException`: "`{name} {out}` is `{what}`: writing it would
/// destroy it; choose another path", `name` naming the output as the
/// caller's API does (`-o/--output`, `path_out`, "the output").
pub fn refuse_keystore_file(
    out: &Path,
    name: &str,
    files: &[(PathBuf, &'static str)],
) -> Result<()> {
    match files.iter().find(|(f, _)| same_file(out, f)) {
        Some((_, what)) => Err(Error::validation(format!(
            "{name} {} is {what}: writing it would destroy it; choose another path",
            out.display()
        ))),
        None => Ok(()),
    }
}

/// A keystore's files, each with how errors name it.
type Files = Vec<(PathBuf, &'static str)>;

/// The files of the keystores open in this process, by registration.
static OPEN: Mutex<Vec<(u64, Files)>> = Mutex::new(Vec::new());
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn open_files() -> MutexGuard<'static, Vec<(u64, Files)>> {
    OPEN.lock().unwrap_or_else(|p| p.into_inner())
}

/// A keystore's files listed as open until this is dropped (held by the
/// keystore handle's shared state).
pub(crate) struct Registration(u64);

impl Registration {
    pub(crate) fn new(files: Files) -> Self {
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        open_files().push((id, files));
        Registration(id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        open_files().retain(|(id, _)| *id != self.0);
    }
}

/// [`refuse_open_keystore_file`] for an output already opened (through a
/// symbolic link): compared by device and inode with what `file` is, not
/// with what `out` names now.
///
/// # Errors
/// `ValidationException` as [`refuse_keystore_file`], `name` "the output".
pub(crate) fn refuse_open_keystore_handle(file: &std::fs::File, out: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(m) = file.metadata() else {
            return Ok(());
        };
        let hit = open_files().iter().find_map(|(_, files)| {
            files.iter().find_map(|(f, what)| {
                std::fs::metadata(f)
                    .is_ok_and(|fm| fm.dev() == m.dev() && fm.ino() == m.ino())
                    .then_some(*what)
            })
        });
        if let Some(what) = hit {
            return Err(Error::validation(format!(
                "the output {} is {what}: writing it would destroy it; choose another path",
                out.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (file, out);
    Ok(())
}

/// [`refuse_keystore_file`] against the files of every keystore open in
/// this process; run by every file output of the library before it creates
/// anything.
///
/// # Errors
/// `ValidationException` as [`refuse_keystore_file`], `name` "the output".
pub(crate) fn refuse_open_keystore_file(out: &Path) -> Result<()> {
    let files: Vec<_> = open_files()
        .iter()
        .flat_map(|(_, f)| f.iter().cloned())
        .collect();
    refuse_keystore_file(out, "the output", &files)
}
