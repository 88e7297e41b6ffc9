//! The `sr_keystore` handle: creating, opening and freeing a keystore.

use std::ffi::c_char;
use std::path::PathBuf;

use sr::{CreateOptions, Keystore, RootKeySource, Secret};

use crate::bytes::sr_bytes;
use crate::ptr::{
    bytes, bytes_at_most, c_bytes, c_str, opt_c_bytes, opt_c_str, out, str_array, StrOut,
};
use crate::result::{guard, sr_result, Failure};

/// An open keystore (opaque).
///
/// Create one with `sr_keystore_create()` or `sr_keystore_open()` and
/// release it with `sr_keystore_free()`. One handle may be used by many
/// threads at once; it must not be freed while another thread uses it.
/// Several handles (and processes) may open the same file.
///
/// A handle acts for one principal (`sr_keystore_as_principal()`; by default
/// the keystore's administrator) and may carry grant tokens
/// (`sr_keystore_with_grant_tokens()`) that it sends with every call that
/// accepts them. Derived handles share the open keystore with the handle
/// they came from; each is freed on its own, in any order.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct sr_keystore {
    pub(crate) inner: Keystore,
    /// Sent as `GrantTokens` with every request that has the member.
    pub(crate) grant_tokens: Vec<String>,
}

impl sr_keystore {
    fn boxed(inner: Keystore, grant_tokens: Vec<String>) -> *mut sr_keystore {
        Box::into_raw(Box::new(sr_keystore {
            inner,
            grant_tokens,
        }))
    }

    /// The grant tokens to put in a request.
    pub(crate) fn tokens(&self) -> Vec<String> {
        self.grant_tokens.clone()
    }
}

/// `root` holds the 32 root key bytes, or their hex or base64 text.
pub const SR_ROOT_KEY_BYTES: u32 = 0;
/// `root` holds the path of a root key file (32 raw bytes, hex or base64).
pub const SR_ROOT_KEY_FILE: u32 = 1;
/// `root` holds the name of an environment variable with the hex or base64 key.
pub const SR_ROOT_KEY_ENV_VAR: u32 = 2;
/// `root` holds a passphrase; the root key is derived with Argon2id (RFC 9106)
/// using a salt stored in the keystore (slow by design: about 64 MiB and a
/// fraction of a second).
pub const SR_ROOT_KEY_PASSPHRASE: u32 = 3;

/// Flag of `sr_keystore_open_with_anchor()`: create a missing anchor file
/// from the keystore as it is (trust on first use, for this open only).
pub const SR_ANCHOR_INIT: u32 = 1;
/// Flag of `sr_keystore_open_with_anchor()` and
/// `sr_keystore_import_sealed_with_anchor()` (with `anchor_path` NULL):
/// open an anchored keystore without its anchor. Audited
/// (`OpenKeystoreWithoutAnchor`); the handle neither checks nor moves the
/// anchor, so its writes on a keystore file put back to an earlier state
/// make the rollback pass (docs/FORMAT.md, "Anchored keystores").
pub const SR_WITHOUT_ANCHOR: u32 = 2;

/// Flag of `sr_keystore_open_with_anchor()` (with an `anchor_path`):
/// re-anchor an anchored keystore whose anchor is lost with `anchor_path`,
/// which must hold no record (created from the keystore as it is, trust on
/// first use). The keystore gets a new anchor ID, so every earlier anchor
/// is refused after; audited (`ReinitializeKeystoreAnchor`).
/// `SR_ANCHOR_INIT` alone does not re-anchor an anchored keystore
/// (`SR_KMS_INVALID_STATE`; docs/FORMAT.md, "Anchored keystores").
pub const SR_ANCHOR_REINIT: u32 = 4;

/// The open options of an anchor path (NULL: none) and `SR_ANCHOR_INIT` /
/// `SR_ANCHOR_REINIT` / `SR_WITHOUT_ANCHOR` flags.
pub(crate) fn anchor_options(
    anchor: Option<&[u8]>,
    flags: u32,
) -> Result<sr::OpenOptions, Failure> {
    if flags & !(SR_ANCHOR_INIT | SR_ANCHOR_REINIT | SR_WITHOUT_ANCHOR) != 0 {
        return Err(Failure::validation(format!(
            "flags {flags:#x}: only SR_ANCHOR_INIT, SR_ANCHOR_REINIT and SR_WITHOUT_ANCHOR are \
             defined"
        )));
    }
    let reinit = flags & SR_ANCHOR_REINIT != 0;
    let init = flags & SR_ANCHOR_INIT != 0;
    let without = flags & SR_WITHOUT_ANCHOR != 0;
    let options = sr::OpenOptions::default();
    match anchor {
        Some(_) if without => Err(Failure::validation(
            "SR_WITHOUT_ANCHOR with an anchor_path: choose one",
        )),
        Some(a) => Ok(options.anchor(
            sr::Anchor::file(path_from(a, "anchor_path")?)
                .initialize_if_missing(init)
                .reinitialize(reinit),
        )),
        None if init || reinit => Err(Failure::validation(
            "SR_ANCHOR_INIT and SR_ANCHOR_REINIT need an anchor_path",
        )),
        None if without => Ok(options.without_anchor()),
        None => Ok(options),
    }
}

/// The handle itself (for its grant tokens).
///
/// # Safety
/// `ks` must be NULL or a live handle from this library.
pub(crate) unsafe fn handle<'a>(ks: *const sr_keystore) -> Result<&'a sr_keystore, Failure> {
    if ks.is_null() {
        return Err(Failure::null("ks"));
    }
    // SAFETY: non-NULL; the caller promises a live handle.
    Ok(unsafe { &*ks })
}

/// The `sr::Keystore` behind a handle.
///
/// # Safety
/// `ks` must be NULL or a live handle from this library.
pub(crate) unsafe fn keystore<'a>(ks: *const sr_keystore) -> Result<&'a Keystore, Failure> {
    // SAFETY: forwarded caller promise.
    Ok(&unsafe { handle(ks) }?.inner)
}

pub(crate) fn path_from(bytes: &[u8], name: &str) -> Result<PathBuf, Failure> {
    #[cfg(unix)]
    {
        let _ = name;
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| Failure::utf8(name))
    }
}

/// Largest `root_len` of `SR_ROOT_KEY_BYTES`, `SR_ROOT_KEY_FILE` and
/// `SR_ROOT_KEY_ENV_VAR`, in bytes: 4096. A key's text (32 bytes, or their
/// hex or base64 text with whitespace around it) is refused past it as a
/// key file is; a path is at most `PATH_MAX` (4096 on Linux, with its
/// NUL); an environment variable's name is far shorter. A longer
/// `root_len` is `SR_VALIDATION` before `root` is read.
pub const SR_ROOT_MAX_LEN: usize = 4096;

/// Largest `root_len` of `SR_ROOT_KEY_PASSPHRASE`, in bytes: 1 MiB (1048576),
/// more than any passphrase the CLI takes (an environment variable holds at
/// most 128 KiB on Linux). A longer `root_len` is `SR_VALIDATION` before
/// `root` is read.
pub const SR_PASSPHRASE_MAX_LEN: usize = 1 << 20;

/// The root key source from the `(kind, root, root_len)` arguments. The
/// kind is checked first, then `root_len` against the kind's maximum
/// ([`SR_ROOT_MAX_LEN`], [`SR_PASSPHRASE_MAX_LEN`]) before `root` is read:
/// a wrong length (an uninitialised variable, `1 << 40`) is an error, not
/// a read past the buffer or an allocation that aborts the process.
///
/// # Safety
/// `root` valid for `root_len` bytes when `root_len > 0`.
pub(crate) unsafe fn root_source(
    kind: u32,
    root: *const u8,
    root_len: usize,
) -> Result<RootKeySource, Failure> {
    let max = match kind {
        SR_ROOT_KEY_PASSPHRASE => SR_PASSPHRASE_MAX_LEN,
        SR_ROOT_KEY_BYTES | SR_ROOT_KEY_FILE | SR_ROOT_KEY_ENV_VAR => SR_ROOT_MAX_LEN,
        other => {
            return Err(Failure::validation(format!(
                "root key kind {other} is not one of SR_ROOT_KEY_BYTES, _FILE, _ENV_VAR, \
                 _PASSPHRASE"
            )))
        }
    };
    // SAFETY: forwarded caller promise; the length is bounded first.
    let raw = unsafe { bytes_at_most(root, root_len, "root", max) }?;
    match kind {
        SR_ROOT_KEY_BYTES => Ok(RootKeySource::Bytes(Secret::from_slice(raw))),
        SR_ROOT_KEY_PASSPHRASE => Ok(RootKeySource::Passphrase(Secret::from_slice(raw))),
        SR_ROOT_KEY_FILE => Ok(RootKeySource::File(path_from(raw, "root")?)),
        // SR_ROOT_KEY_ENV_VAR, the one kind left (checked above).
        _ => std::str::from_utf8(raw)
            .map(|v| RootKeySource::EnvVar(v.to_string()))
            .map_err(|_| Failure::utf8("root")),
    }
}

/// Creates a new keystore file at `path`, protected by a root key, and
/// returns a handle to it in `*out`.
///
/// Parameters:
/// - `path`: NUL-terminated file path (bytes, need not be UTF-8). Must not exist.
/// - `root_kind`: one of `SR_ROOT_KEY_BYTES`, `SR_ROOT_KEY_FILE`,
///   `SR_ROOT_KEY_ENV_VAR`, `SR_ROOT_KEY_PASSPHRASE`; says what the
///   `root_len` bytes at `root` are (key, path, variable name, passphrase).
///   The bytes are copied; secret copies are zeroized when no longer needed.
///   `root_len` is at most `SR_ROOT_MAX_LEN` (4096) bytes, or
///   `SR_PASSPHRASE_MAX_LEN` (1 MiB) for a passphrase: a longer one is
///   `SR_VALIDATION` before `root` is read.
/// - `region`, `account`: used in ARNs; NULL for `"local-1"` and
///   `"000000000000"` (12 digits).
/// - `out`: receives the handle on success; free it with `sr_keystore_free()`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_ALREADY_EXISTS` (path,
/// its audit log or a non-empty leftover `-wal`/`-journal` of an earlier
/// keystore exists), `SR_VALIDATION` (malformed root key, region or
/// account, unknown `root_kind`, `root_len` above its maximum, a missing or
/// unwritable directory), `SR_NOT_FOUND` (unreadable key file),
/// `SR_KMS_INTERNAL` (other I/O failures).
///
/// # Safety
/// Strings NUL-terminated; `root` valid for `root_len` bytes; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_create(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    region: *const c_char,
    account: *const c_char,
    out: *mut *mut sr_keystore,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        sr_keystore_create_with_admin(
            path,
            root_kind,
            root,
            root_len,
            region,
            account,
            std::ptr::null(),
            out,
        )
    }
}

/// As `sr_keystore_create()`, naming the keystore's administrator: the
/// principal that the default key policy of every key allows `kms:*`, and
/// that handles act for unless `sr_keystore_as_principal()` says otherwise.
///
/// `admin_principal`: NULL for `arn:aws:iam::<account>:root` (every
/// principal of the account, as the default key policy of AWS KMS), or an
/// IAM ARN such as `arn:aws:iam::111122223333:role/KeyAdmin`. It is stored
/// in the keystore (sealed configuration) and kept by sealed export/import.
///
/// Errors: as `sr_keystore_create()`; `SR_VALIDATION`, before anything is
/// written, when `admin_principal` is not a principal a call can act as
/// (an IAM user, role or account root ARN, an assumed role or a federated
/// user; not a bare account ID, not a wildcard).
///
/// # Safety
/// As `sr_keystore_create()`; `admin_principal` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_create_with_admin(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    region: *const c_char,
    account: *const c_char,
    admin_principal: *const c_char,
    out: *mut *mut sr_keystore,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        sr_keystore_create_with_anchor(
            path,
            root_kind,
            root,
            root_len,
            region,
            account,
            admin_principal,
            std::ptr::null(),
            out,
        )
    }
}

/// As `sr_keystore_create_with_admin()`, with an external anchor file of
/// the keystore's integrity state (docs/FORMAT.md, "Keystore anchor"):
/// created with the keystore (it must hold no record), moved forward by
/// every write, and checked by every open, verification and write, so a
/// keystore file put back to an earlier state is refused. The keystore is
/// anchored: it opens only with `sr_keystore_open_with_anchor()` and the
/// anchor (or `SR_WITHOUT_ANCHOR`). Keep the anchor on other storage than
/// the keystore.
///
/// `anchor_path`: NUL-terminated path (bytes), or NULL for none (as
/// `sr_keystore_create_with_admin()`).
///
/// Errors: as `sr_keystore_create_with_admin()`; `SR_ALREADY_EXISTS` when
/// the anchor holds a record; `SR_VALIDATION` when it is one of the
/// keystore's own files or not a regular file.
///
/// # Safety
/// As `sr_keystore_create_with_admin()`; `anchor_path` NULL or NUL-terminated.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sr_keystore_create_with_anchor(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    region: *const c_char,
    account: *const c_char,
    admin_principal: *const c_char,
    anchor_path: *const c_char,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        let out = out!(out);
        // SAFETY: caller promises for each argument, as documented above.
        let (path, root, region, account, admin, anchor) = unsafe {
            (
                c_bytes(path, "path")?,
                root_source(root_kind, root, root_len)?,
                opt_c_str(region, "region")?,
                opt_c_str(account, "account")?,
                opt_c_str(admin_principal, "admin_principal")?,
                opt_c_bytes(anchor_path, "anchor_path")?,
            )
        };
        let mut options = CreateOptions::default();
        if let Some(a) = anchor {
            options.anchor = Some(sr::Anchor::file(path_from(a, "anchor_path")?));
        }
        if let Some(r) = region {
            options.region = r.to_string();
        }
        if let Some(a) = account {
            options.account = a.to_string();
        }
        options.admin_principal = admin.map(str::to_string);
        let ks = Keystore::create(path_from(path, "path")?, root, options)?;
        let handle = sr_keystore::boxed(ks, Vec::new());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Opens an existing keystore file at `path` and returns a handle in `*out`.
///
/// Parameters as for `sr_keystore_create()`; for `SR_ROOT_KEY_PASSPHRASE` the
/// keystore must have been created with a passphrase.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_NOT_FOUND` (no keystore
/// or key file), `SR_ACCESS_DENIED` (the root key does not open this keystore;
/// nothing is modified), `SR_VALIDATION` (`path` is a directory; malformed
/// root key, unknown `root_kind`, `root_len` above its maximum; a
/// passphrase keystore given a root key, whatever it holds, or a passphrase
/// for one made with a key), `SR_KMS_INVALID_STATE` (the keystore is
/// anchored: open it with `sr_keystore_open_with_anchor()`; nothing is
/// written),
/// `SR_KMS_INTERNAL` (not a keystore, or its settings fail authentication,
/// or its audit log is missing while its sealed checkpoint covers records:
/// opened by another name, such as a hard link, or the log deleted; nothing
/// is created).
///
/// # Safety
/// As `sr_keystore_create()`.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_open(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        let out = out!(out);
        // SAFETY: caller promises, as documented above.
        let (path, root) = unsafe {
            (
                c_bytes(path, "path")?,
                root_source(root_kind, root, root_len)?,
            )
        };
        let ks = Keystore::open(path_from(path, "path")?, root)?;
        let handle = sr_keystore::boxed(ks, Vec::new());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// As `sr_keystore_open()`, with the keystore's external anchor file
/// (docs/FORMAT.md, "Keystore anchor"): checked on open and by every
/// verification and write (a keystore behind it, put back to an earlier
/// state, is `SR_KMS_INTERNAL`), and moved forward by every write. Opening
/// with an anchor anchors the keystore: later opens need it too.
///
/// - `anchor_path`: NUL-terminated path (bytes), or NULL for none.
/// - `flags`: 0, or `SR_ANCHOR_INIT` (with `anchor_path`: create a missing
///   anchor from the keystore as it is, trust on first use; without it a
///   missing anchor is `SR_KMS_INTERNAL`; it does not re-anchor an
///   anchored keystore), or `SR_ANCHOR_REINIT` (with `anchor_path`:
///   re-anchor an anchored keystore whose anchor is lost, audited; see the
///   flag), or `SR_WITHOUT_ANCHOR` (with `anchor_path` NULL: open an
///   anchored keystore without its anchor, audited; see the flag).
///
/// Errors: as `sr_keystore_open()`; `SR_KMS_INVALID_STATE` (the keystore is
/// anchored and neither `anchor_path` nor `SR_WITHOUT_ANCHOR` was given,
/// nothing is read or written past its configuration; or `anchor_path` is
/// not the anchored keystore's anchor: it holds no record and
/// `SR_ANCHOR_REINIT` was not given, or a record of another anchor ID);
/// `SR_KMS_INTERNAL`
/// (the keystore is behind the anchor, or the anchor is missing or fails
/// authentication); `SR_VALIDATION` (unknown flags, `SR_ANCHOR_INIT`
/// without `anchor_path`, `SR_WITHOUT_ANCHOR` with it, an anchor that is one
/// of the keystore's own files or not a regular file).
///
/// # Safety
/// As `sr_keystore_open()`; `anchor_path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_open_with_anchor(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    anchor_path: *const c_char,
    flags: u32,
    out: *mut *mut sr_keystore,
) -> sr_result {
    // SAFETY: the caller's promises, with no principal.
    unsafe {
        sr_keystore_open_as_principal(
            path,
            root_kind,
            root,
            root_len,
            anchor_path,
            flags,
            std::ptr::null(),
            out,
        )
    }
}

/// As `sr_keystore_open_with_anchor()`, with the handle acting for
/// `principal` from the start (as `sr_keystore_as_principal()`): the events
/// the open itself records (`AnchorKeystore` with `SR_ANCHOR_INIT`,
/// `ReinitializeKeystoreAnchor`, `OpenKeystoreWithoutAnchor`) are audited as
/// it, not as the keystore's administrator.
///
/// - `principal`: a principal ARN of the forms `sr_keystore_as_principal()`
///   takes, or NULL for the administrator (then exactly
///   `sr_keystore_open_with_anchor()`).
///
/// Errors: as `sr_keystore_open_with_anchor()`; `SR_INVALID_UTF8`,
/// `SR_VALIDATION` (empty, longer than 256 characters, or not a principal
/// ARN; refused before the keystore is opened, so nothing is written).
///
/// # Safety
/// As `sr_keystore_open_with_anchor()`; `principal` NULL or NUL-terminated.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sr_keystore_open_as_principal(
    path: *const c_char,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    anchor_path: *const c_char,
    flags: u32,
    principal: *const c_char,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        let out = out!(out);
        // SAFETY: caller promises, as documented above.
        let (path, root, anchor, principal) = unsafe {
            (
                c_bytes(path, "path")?,
                root_source(root_kind, root, root_len)?,
                opt_c_bytes(anchor_path, "anchor_path")?,
                opt_c_str(principal, "principal")?,
            )
        };
        let mut options = anchor_options(anchor, flags)?;
        if let Some(p) = principal {
            // Checked by the open before anything is written.
            options = options.principal(p);
        }
        let ks = Keystore::open_with(path_from(path, "path")?, root, options)?;
        let handle = sr_keystore::boxed(ks, Vec::new());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Removes the keystore's anchoring (docs/FORMAT.md, "Anchored
/// keystores"): it then opens without an anchor, and a keystore file put
/// back to an earlier state is no longer detected. The handle must have
/// been opened with the anchor, which is checked again first. Audited as
/// `RemoveKeystoreAnchor`. The anchor file is left in place.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_VALIDATION` (a handle opened without the
/// anchor, or a dry-run handle), `SR_KMS_INTERNAL` (the keystore is behind
/// the anchor; I/O).
///
/// # Safety
/// `ks` a live handle.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_remove_anchor(ks: *const sr_keystore) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        ks.remove_anchor()?;
        Ok(())
    })
}

/// Writes the whole keystore as one sealed byte string to `*out_export`
/// (free with `sr_bytes_free()`): the sealed keystore export, format version
/// 2 of `docs/FORMAT.md` ("Sealed keystore export"), the same bytes as
/// `strongroom export-keystore`. It holds the configuration and every key,
/// alias and grant record as stored, key material still sealed under the
/// root key, all authenticated by an HMAC under the root key. Not secret
/// material in itself, but a snapshot as sensitive as the keystore file.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL` (storage failure, or a
/// stored record fails authentication: a tampered keystore is not exported).
///
/// `sr_bytes` outputs must be empty on entry (`SR_BYTES_INIT`, or freed
/// with `sr_bytes_free()`, which empties them): one still holding bytes is
/// overwritten on success, not freed, and those bytes leak unwiped.
///
/// # Safety
/// `ks` a live handle; `out_export` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_export_sealed(
    ks: *const sr_keystore,
    out_export: *mut sr_bytes,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        let out = out!(out_export);
        let bytes = ks.export_sealed()?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(sr_bytes::copy_of(&bytes)) };
        Ok(())
    })
}

/// Creates a new keystore file at `path` from a sealed export
/// (`sr_keystore_export_sealed()`, `strongroom export-keystore`, or the
/// WebAssembly package's `exportSealed()`; format version 1 or 2) and
/// returns a handle to it in `*out`. The new keystore has the export's
/// keystore ID, region, account, keys, aliases and grants (grant tokens
/// issued before the export keep working) and starts a new audit log beside
/// `path`.
///
/// Parameters:
/// - `path`: NUL-terminated file path (bytes, need not be UTF-8). Must not exist.
/// - `sealed`/`sealed_len`: the export bytes.
/// - `root_kind`, `root`, `root_len`: as for `sr_keystore_create()`; they
///   must give the root key the export was sealed under (a passphrase uses
///   the Argon2id parameters carried in the export).
/// - `out`: receives the handle on success; free it with `sr_keystore_free()`.
///
/// Every byte is authenticated before anything is written: on any error no
/// file is left at `path`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_ALREADY_EXISTS`
/// (path, its audit log or a non-empty leftover `-wal`/`-journal` exists),
/// `SR_VALIDATION` (not a sealed export, an unsupported
/// format version, malformed root key, unknown `root_kind`, `root_len`
/// above its maximum, a missing or unwritable directory; the export of a passphrase keystore given a root
/// key, or the other way round), `SR_NOT_FOUND`
/// (unreadable key file), `SR_ACCESS_DENIED` (another root key),
/// `SR_KMS_INVALID_STATE` (the export of an anchored keystore: import it
/// with `sr_keystore_import_sealed_with_anchor()`; no file is written),
/// `SR_KMS_INTERNAL` (an altered, truncated or extended export; I/O).
///
/// # Safety
/// `path` NUL-terminated; `sealed` valid for `sealed_len` bytes; `root`
/// valid for `root_len` bytes; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_import_sealed(
    path: *const c_char,
    sealed: *const u8,
    sealed_len: usize,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        let out = out!(out);
        // SAFETY: caller promises, as documented above.
        let (path, sealed, root) = unsafe {
            (
                c_bytes(path, "path")?,
                bytes(sealed, sealed_len, "sealed")?,
                root_source(root_kind, root, root_len)?,
            )
        };
        let ks = Keystore::import_sealed(path_from(path, "path")?, sealed, root)?;
        let handle = sr_keystore::boxed(ks, Vec::new());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// As `sr_keystore_import_sealed()`, with an anchor for the new keystore:
/// `anchor_path` (NUL-terminated, or NULL) names a new anchor file, which
/// must hold no record (the original keystore's is not taken over), created
/// from the imported state; the new keystore is anchored. The export of an
/// anchored keystore is refused without one (`SR_KMS_INVALID_STATE`, before
/// the file is created) unless `flags` is `SR_WITHOUT_ANCHOR`: the new
/// keystore is then still anchored, opened (audited) without its anchor,
/// and its first anchored open must pass `SR_ANCHOR_INIT`. `flags` is 0 or
/// `SR_WITHOUT_ANCHOR` (with `anchor_path` NULL).
///
/// Errors: as `sr_keystore_import_sealed()`; `SR_KMS_INVALID_STATE`;
/// `SR_ALREADY_EXISTS` (the anchor holds a record); `SR_VALIDATION`
/// (unknown flags, an anchor that is one of the keystore's own files or not
/// a regular file).
///
/// # Safety
/// As `sr_keystore_import_sealed()`; `anchor_path` NULL or NUL-terminated.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn sr_keystore_import_sealed_with_anchor(
    path: *const c_char,
    sealed: *const u8,
    sealed_len: usize,
    root_kind: u32,
    root: *const u8,
    root_len: usize,
    anchor_path: *const c_char,
    flags: u32,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        let out = out!(out);
        // SAFETY: caller promises, as documented above.
        let (path, sealed, root, anchor) = unsafe {
            (
                c_bytes(path, "path")?,
                bytes(sealed, sealed_len, "sealed")?,
                root_source(root_kind, root, root_len)?,
                opt_c_bytes(anchor_path, "anchor_path")?,
            )
        };
        if flags & (SR_ANCHOR_INIT | SR_ANCHOR_REINIT) != 0 {
            return Err(Failure::validation(
                "SR_ANCHOR_INIT and SR_ANCHOR_REINIT do not apply to an import (its anchor is \
                 always created)",
            ));
        }
        let options = anchor_options(anchor, flags)?;
        let ks = Keystore::import_sealed_with(path_from(path, "path")?, sealed, root, options)?;
        let handle = sr_keystore::boxed(ks, Vec::new());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Closes a keystore handle and frees it; the in-memory root key is zeroized.
///
/// `sr_keystore_free(NULL)` is a no-op. The handle must not be used (by any
/// thread) during or after this call. Never fails.
///
/// # Safety
/// `ks` must be NULL or a handle from this library that is not yet freed.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_free(ks: *mut sr_keystore) {
    let _ = guard(|| {
        if !ks.is_null() {
            // SAFETY: the handle came from Box::into_raw in this module and
            // the caller promises it is not freed yet nor in use.
            drop(unsafe { Box::from_raw(ks) });
        }
        Ok(())
    });
}

/// Copies a string of the keystore (`get(keystore)`) into a caller buffer.
///
/// # Safety
/// `ks` a live handle; `buf` valid for `len` bytes; `out_len` valid for a write.
unsafe fn copy_keystore_str(
    ks: *const sr_keystore,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
    get: fn(&Keystore) -> &str,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        let o = StrOut::new("buf", buf, len, out!(out_len))?;
        // SAFETY: caller promise.
        unsafe { o.write(get(ks)) }
    })
}

/// Copies the keystore's region (as used in ARNs) into `buf` as a
/// NUL-terminated string; `*out_len` receives the size needed including the
/// NUL (on `SR_OK` and `SR_BUFFER_TOO_SMALL`). `buf` may be NULL when `len` is 0.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `ks` a live handle; `buf` valid for `len` bytes; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_region(
    ks: *const sr_keystore,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { copy_keystore_str(ks, buf, len, out_len, Keystore::region) }
}

/// Copies the keystore's 12-digit account ID into `buf`; as `sr_keystore_region()`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `sr_keystore_region()`.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_account(
    ks: *const sr_keystore,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { copy_keystore_str(ks, buf, len, out_len, Keystore::account) }
}

/// Deletes the key material of every key whose deletion date has passed and
/// writes how many keys were deleted to `*out_count`. (Keys due for deletion
/// are also purged when next touched; this is the explicit sweep.)
///
/// Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL`.
///
/// # Safety
/// `ks` a live handle; `out_count` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_purge_deleted_keys(
    ks: *const sr_keystore,
    out_count: *mut usize,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        let out = out!(out_count);
        let n = ks.purge_deleted_keys()?;
        // SAFETY: checked non-NULL; caller promise.
        unsafe { out.write(n) };
        Ok(())
    })
}

/// Checks the keystore integrity state: that the key, alias and grant
/// records and the audit checkpoint are exactly those Strongroom last wrote
/// (no row added, deleted or rolled back, alone or with other old rows).
/// `sr_keystore_open()` already does this; call it to re-check a
/// long-lived handle.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_KMS_INTERNAL` (mismatch or I/O).
///
/// # Safety
/// `ks` a live handle.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_verify_digest(ks: *const sr_keystore) -> sr_result {
    guard(|| {
        // SAFETY: caller promise.
        let ks = unsafe { keystore(ks) }?;
        Ok(ks.verify_digest()?)
    })
}

/// A new handle on the same open keystore that acts for `principal`: every
/// operation through it is authorized (key policy and grants) for, and
/// audited as, that principal. The new handle keeps `ks`'s grant tokens
/// (and dry-run mode, for a handle from `sr_keystore_dry_run()`).
///
/// Parameters:
/// - `principal`: a principal ARN, 1 to 256 characters: an account
///   (`"arn:aws:iam::111122223333:root"`), an IAM user or role
///   (`"arn:aws:iam::111122223333:user/app"`, `"...:role/worker"`), an
///   assumed role (`"arn:aws:sts::111122223333:assumed-role/role/session"`)
///   or a federated user (`"arn:aws:sts::111122223333:federated-user/name"`);
///   no wildcards, no bare account ID. The default key policy allows the
///   keystore's administrator principal (`sr_keystore_admin_principal()`;
///   by default `arn:aws:iam::<keystore account>:root`, which covers every
///   principal of the keystore's account, as KMS's default policy does); a
///   principal it does not cover (another account's, say) is refused
///   (`SR_ACCESS_DENIED`) unless a key policy or grant allows it.
/// - `out`: receives the new handle on success; free it with
///   `sr_keystore_free()`. It shares the open keystore with `ks` (no file is
///   opened), and `ks` and the new handle may be freed in any order.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (empty,
/// longer than 256 characters, or not a principal ARN of those forms).
///
/// # Safety
/// `ks` a live handle; `principal` NUL-terminated; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_as_principal(
    ks: *const sr_keystore,
    principal: *const c_char,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let (h, principal) = unsafe { (handle(ks)?, c_str(principal, "principal")?) };
        let out = out!(out);
        let new = sr_keystore::boxed(h.inner.try_as_principal(principal)?, h.tokens());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(new) };
        Ok(())
    })
}

/// A new handle on the same open keystore with AWS KMS's `DryRun` set on
/// every request: the operations that take `DryRun` in KMS (`sr_encrypt`,
/// `sr_decrypt`, `sr_re_encrypt`, `sr_generate_data_key*`,
/// `sr_generate_data_key_pair*`, `sr_sign`, `sr_verify`, `sr_generate_mac`,
/// `sr_verify_mac`, `sr_derive_shared_secret`, `sr_create_grant`,
/// `sr_retire_grant`, `sr_revoke_grant`)
/// run every check — key, key state, key policy and grants, grant tokens,
/// parameters — and return `SR_DRY_RUN_OPERATION` instead of a result when
/// the request would have succeeded, or the error the real call would
/// return. Nothing changes and no output is written; each call is audited.
/// Other operations on the handle return `SR_VALIDATION` without running.
/// The new handle keeps `ks`'s principal and grant tokens.
///
/// `out`: receives the new handle; free it with `sr_keystore_free()` (in
/// any order with `ks`).
///
/// Errors: `SR_NULL_PARAMETER`.
///
/// # Safety
/// `ks` a live handle; `out` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_dry_run(
    ks: *const sr_keystore,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        // SAFETY: caller promises, as documented above.
        let h = unsafe { handle(ks)? };
        let out = out!(out);
        let new = sr_keystore::boxed(h.inner.dry_run(), h.tokens());
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(new) };
        Ok(())
    })
}

/// A new handle on the same open keystore, acting for the same principal as
/// `ks` (and, for a handle from `sr_keystore_dry_run()`, in dry-run mode too), that sends `tokens` as `GrantTokens` with every request that takes
/// them: `sr_encrypt()`, `sr_decrypt()`, `sr_re_encrypt()`,
/// `sr_generate_data_key()` and `_without_plaintext()`,
/// `sr_generate_data_key_pair()` and `_without_plaintext()`, `sr_sign()`,
/// `sr_verify()`, `sr_generate_mac()`, `sr_verify_mac()`,
/// `sr_derive_shared_secret()`, `sr_describe_key()`, `sr_get_public_key()`,
/// `sr_create_grant()`, and the KMS-keyring envelope functions
/// (`sr_envelope_encrypt()`, `sr_envelope_decrypt()` and their `_file`
/// forms, with each `GenerateDataKey` / `Encrypt` / `Decrypt` they make).
/// Each token is authenticated on every such call: a token that was not
/// issued by this keystore fails the call with `SR_INVALID_GRANT_TOKEN`. (A
/// grant takes effect as soon as `sr_create_grant()` returns, so tokens are
/// not needed for a grant to apply; they are accepted for compatibility
/// with KMS code.) The key management calls do not send grant tokens.
///
/// This is how grant tokens are given from C: the crypto functions keep
/// their signatures. The tokens replace those of `ks`, if any.
///
/// Parameters:
/// - `tokens`, `n`: up to 10 NUL-terminated grant tokens (as returned by
///   `sr_create_grant()`); `tokens` may be NULL when `n` is 0, which gives a
///   handle without tokens. The strings are copied.
/// - `out`: receives the new handle; free it with `sr_keystore_free()`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_INVALID_UTF8`, `SR_VALIDATION` (more than
/// 10 tokens).
///
/// # Safety
/// `ks` a live handle; `tokens` valid for `n` NUL-terminated strings; `out`
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_with_grant_tokens(
    ks: *const sr_keystore,
    tokens: *const *const c_char,
    n: usize,
    out: *mut *mut sr_keystore,
) -> sr_result {
    guard(|| {
        // Checked before the array is read, so a wrong count is an error
        // rather than a read past the caller's array.
        if n > sr::core::ops::MAX_GRANT_TOKENS {
            return Err(Failure::validation(format!(
                "at most {} grant tokens may be given",
                sr::core::ops::MAX_GRANT_TOKENS
            )));
        }
        // SAFETY: caller promises, as documented above.
        let (h, tokens) = unsafe { (handle(ks)?, str_array(tokens, n, "tokens")?) };
        let out = out!(out);
        let tokens = tokens.into_iter().map(str::to_string).collect();
        let new = sr_keystore::boxed(h.inner.clone(), tokens);
        // SAFETY: out was checked non-NULL; the caller promises it is writable.
        unsafe { out.write(new) };
        Ok(())
    })
}

/// Copies the keystore's administrator principal (see
/// `sr_keystore_create_with_admin()`) into `buf`; as `sr_keystore_region()`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `sr_keystore_region()`.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_admin_principal(
    ks: *const sr_keystore,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { copy_keystore_str(ks, buf, len, out_len, Keystore::admin_principal) }
}

/// Copies the principal this handle acts for (the one given to
/// `sr_keystore_as_principal()`, else the keystore's administrator, by
/// default `arn:aws:iam::<account>:root`) into `buf`; as `sr_keystore_region()`.
///
/// Errors: `SR_NULL_PARAMETER`, `SR_BUFFER_TOO_SMALL`.
///
/// # Safety
/// As `sr_keystore_region()`.
#[no_mangle]
pub unsafe extern "C" fn sr_keystore_principal(
    ks: *const sr_keystore,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> sr_result {
    // SAFETY: forwarded caller promises.
    unsafe { copy_keystore_str(ks, buf, len, out_len, Keystore::principal) }
}
