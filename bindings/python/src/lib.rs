//! `strongroom._strongroom`: the native half of the `strongroom` Python package.
//!
//! A thin layer over the [`strongroom`] facade: it converts Python arguments
//! into the facade's request types, releases the GIL around every keystore
//! call, converts responses into frozen result classes, and raises the
//! exception classes that `strongroom/exceptions.py` defines (looked up by
//! the KMS exception name). No algorithm, policy or validation logic lives
//! here: range checks and every KMS error come from the facade.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyString, PyTuple, PyType};
use strongroom::api::{
    CreateGrantRequest, CreateKeyRequest, DecryptRequest, DeriveSharedSecretRequest,
    EncryptRequest, GenerateDataKeyPairRequest, GenerateDataKeyRequest, GenerateMacRequest,
    GetParametersForImportRequest, ImportKeyMaterialRequest, ListGrantsRequest,
    PutKeyPolicyRequest, ReEncryptRequest, RecipientInfo, RetireGrantRequest, SignRequest,
    Tag as ApiTag, VerifyMacRequest, VerifyRequest,
};
use strongroom::core::envelope::{
    check_max_encrypted_data_keys, plaintext_len, AlgorithmSuite, CommitmentPolicy, DecryptOptions,
    EncryptOptions, DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
};
use strongroom::core::grant::{GrantConstraints as ApiGrantConstraints, GrantOperation};
use strongroom::core::key::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, ExpirationModel, ImportType,
    KeyAgreementAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType, Origin, SigningAlgorithm,
    WrappingAlgorithm, WrappingKeySpec,
};
use strongroom::envelope::{self, KmsKeyring, SliceMessage};
use strongroom::{AuditFilter, EncryptionContext, Error, ErrorKind, RootKeySource, Secret};

mod results;

use results::*;

// ---- errors -----------------------------------------------------------------

static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python exception for a facade error: the class of `strongroom.exceptions`
/// named after the KMS exception, or `KMSError` with the code for a kind the
/// Python side does not know yet.
/// The audit write mode named `name` ("write-through" or "write-behind",
/// the latter with its default bounds).
fn write_mode(name: &str) -> PyResult<strongroom::AuditWriteMode> {
    match name {
        "write-through" => Ok(strongroom::AuditWriteMode::WriteThrough),
        "write-behind" => Ok(strongroom::AuditWriteMode::write_behind()),
        other => Err(kms(Error::validation(format!(
            "audit_write_mode must be 'write-through' or 'write-behind', not '{other}'"
        )))),
    }
}

fn kms(err: Error) -> PyErr {
    Python::attach(|py| {
        let module = match EXCEPTIONS
            .get_or_try_init(py, || py.import("strongroom.exceptions").map(Bound::unbind))
        {
            Ok(m) => m.bind(py),
            Err(e) => return e,
        };
        let specific = module
            .getattr(err.code())
            .ok()
            .and_then(|c| c.cast_into::<PyType>().ok());
        match specific {
            Some(cls) => PyErr::from_type(cls, (err.message().to_owned(),)),
            None => match module
                .getattr("KMSError")
                .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from))
            {
                Ok(base) => PyErr::from_type(base, (err.message().to_owned(), err.code())),
                Err(e) => e,
            },
        }
    })
}

fn validation(message: String) -> PyErr {
    kms(Error::validation(message))
}

// ---- argument conversion ----------------------------------------------------

/// Copies any bytes-like object (bytes, bytearray, memoryview, any buffer
/// exporter) into a `Vec`. `str` and other objects are a `TypeError`.
fn bytes_like(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    // The buffer protocol is not in the 3.9 limited API: go through memoryview.
    let py = obj.py();
    let view = py
        .import("builtins")?
        .getattr("memoryview")?
        .call1((obj,))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{name} must be a bytes-like object (bytes, bytearray, memoryview), not {}",
                type_name(obj)
            ))
        })?;
    let bytes = view.call_method0("tobytes")?;
    Ok(bytes.cast::<PyBytes>()?.as_bytes().to_vec())
}

/// A bytes-like argument read with the GIL released: a `bytes` object is
/// immutable and is read in place (kept alive by the reference held here);
/// anything else (bytearray, memoryview), which could change meanwhile, is
/// copied first: `memoryview(obj).tobytes()` makes a Python `bytes` (freed
/// by Python, not wiped), which is copied into a Rust buffer that is wiped
/// when dropped.
enum InputBytes {
    Shared(PyBackedBytes),
    Copied(Secret),
}

impl InputBytes {
    fn new(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(InputBytes::Shared(PyBackedBytes::from(b.clone())));
        }
        secret(name, obj).map(InputBytes::Copied)
    }

    fn get(&self) -> &[u8] {
        match self {
            InputBytes::Shared(b) => b,
            InputBytes::Copied(s) => s.expose_secret(),
        }
    }
}

fn secret(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Secret> {
    bytes_like(name, obj).map(Secret::new)
}

/// Text (as UTF-8) or bytes-like (passphrases). Anything else is a
/// `TypeError` naming both accepted kinds and the type given.
fn text_or_bytes(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Secret> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Secret::new(utf8_text(name, s)?.into_bytes()));
    }
    secret(name, obj).map_err(|e| {
        if e.is_instance_of::<PyTypeError>(obj.py()) {
            PyTypeError::new_err(format!(
                "{name} must be a str or a bytes-like object (bytes, bytearray, memoryview), \
                 not {}",
                type_name(obj)
            ))
        } else {
            e
        }
    })
}

/// A `root_key` argument: 32 bytes-like bytes (or their base64/hex text as
/// bytes), or a `str` that must be the base64 or hex text of 32 bytes. A
/// `str` is never taken as raw key bytes (a 32-character password would
/// otherwise become the key): it is decoded here, and anything else is a
/// `ValidationException` pointing to `passphrase=`.
fn root_key_arg(obj: &Bound<'_, PyAny>) -> PyResult<Secret> {
    let Ok(s) = obj.cast::<PyString>() else {
        return secret("root_key", obj);
    };
    let refused = || {
        validation(
            "root_key given as str must be the base64 or hex text of 32 bytes; \
             for a password use passphrase= instead"
                .to_owned(),
        )
    };
    let text = Secret::new(
        utf8_text("root_key", s)
            .map_err(|_| refused())?
            .into_bytes(),
    );
    // 32 UTF-8 bytes are too short for the hex (64) or base64 (44) text of
    // 32 bytes, so the facade would take them as the raw key: refuse.
    if text.expose_secret().len() == strongroom::core::seal::ROOT_KEY_LEN {
        return Err(refused());
    }
    strongroom::root::parse_key_bytes(text.expose_secret()).map_err(|_| refused())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// The streaming decryptor's `max_frame_buffer`: `None` keeps the default
/// (256 MiB), else an `int` checked by core's
/// [`DecryptOptions::set_max_frame_buffer`] (1 to 2**32 − 1 bytes).
fn set_max_frame_buffer(
    options: &mut DecryptOptions,
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let Some(obj) = opt_int("max_frame_buffer", value)? else {
        return Ok(());
    };
    // An int outside u64 (negative, or 2**64 and above) is out of the
    // rule's range as u64::MAX is: the same ValidationException.
    let bytes = obj.extract::<u64>().unwrap_or(u64::MAX);
    options.set_max_frame_buffer(Some(bytes)).map_err(kms)
}

/// An optional `int` parameter (`None` or absent: `None`).
///
/// # Errors
/// `TypeError` for another type (`bool` included).
fn opt_int<'a, 'py>(
    name: &str,
    obj: Option<&'a Bound<'py, PyAny>>,
) -> PyResult<Option<&'a Bound<'py, PyAny>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.cast::<pyo3::types::PyBool>().is_ok() || obj.cast::<pyo3::types::PyInt>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be an int, not {}",
            type_name(obj)
        )));
    }
    Ok(Some(obj))
}

/// An optional non-negative integer parameter. Values that do not fit the
/// facade's `u32` are a `ValidationException` (the facade checks the range
/// of those that do).
fn opt_u32(name: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u32>> {
    let Some(obj) = opt_int(name, obj)? else {
        return Ok(None);
    };
    obj.extract::<u32>()
        .map(Some)
        .map_err(|_| validation(format!("{name} is out of range: {obj}")))
}

fn context(obj: Option<&Bound<'_, PyAny>>) -> PyResult<EncryptionContext> {
    let pairs = str_mapping("encryption_context", obj)?;
    EncryptionContext::from_pairs(pairs).map_err(kms)
}

/// A `Mapping[str, str]` (or `None`) as pairs.
fn str_mapping(name: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(obj) = obj else {
        return Ok(Vec::new());
    };
    if obj.is_none() {
        return Ok(Vec::new());
    }
    let items = obj.call_method0("items").map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a mapping of str to str, not {}",
            type_name(obj)
        ))
    })?;
    let mut out = Vec::new();
    for item in items.try_iter()? {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let (Ok(k), Ok(v)) = (k.cast::<PyString>(), v.cast::<PyString>()) else {
            return Err(PyTypeError::new_err(format!(
                "{name} keys and values must be str"
            )));
        };
        out.push((
            utf8_text(&format!("a key of {name}"), k)?,
            utf8_text(&format!("a value of {name}"), v)?,
        ));
    }
    Ok(out)
}

/// A point in time given as Unix seconds (int) or as a timezone-aware
/// `datetime.datetime` (fractions of a second are dropped). A naive
/// `datetime` is a `TypeError`: its zone would be a guess.
fn unix_seconds(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<u64> {
    let datetime = obj.py().import("datetime")?.getattr("datetime")?;
    let seconds = if obj.is_instance(&datetime)? {
        if obj.getattr("tzinfo")?.is_none() || obj.call_method0("utcoffset")?.is_none() {
            return Err(PyTypeError::new_err(format!(
                "{name} must be a timezone-aware datetime (e.g. tzinfo=datetime.timezone.utc), \
                 not a naive one"
            )));
        }
        obj.call_method0("timestamp")?.call_method0("__floor__")?
    } else if obj.cast::<pyo3::types::PyInt>().is_ok() && obj.cast::<pyo3::types::PyBool>().is_err()
    {
        obj.clone()
    } else {
        return Err(PyTypeError::new_err(format!(
            "{name} must be Unix seconds (int) or a timezone-aware datetime, not {}",
            type_name(obj)
        )));
    };
    seconds
        .extract::<u64>()
        .map_err(|_| validation(format!("{name} is out of range: {obj}")))
}

/// A KMS enum value given as its KMS spelling, e.g. `"SYMMETRIC_DEFAULT"`.
fn parse<T: std::str::FromStr<Err = Error>>(value: Option<impl AsRef<str>>) -> PyResult<Option<T>> {
    value.map(|v| v.as_ref().parse().map_err(kms)).transpose()
}

fn tokens(grant_tokens: Option<StrList>) -> Vec<String> {
    grant_tokens.map(|t| t.0).unwrap_or_default()
}

/// A sequence of `str` argument (key IDs, grant tokens, tag keys,
/// operations). A lone `str` is refused (it is a sequence of characters, so
/// pyo3's own conversion would report "Can't extract `str` to `Vec`").
#[derive(Default)]
struct StrList(Vec<String>);

impl std::ops::Deref for StrList {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for StrList {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.cast::<PyString>().is_ok() {
            return Err(PyTypeError::new_err(
                "expected a sequence of str (e.g. a list), not a single str; wrap it: [value]",
            ));
        }
        let iter = obj.try_iter().map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a sequence of str (e.g. a list), not {}",
                type_name(&obj)
            ))
        })?;
        let mut out = Vec::new();
        for item in iter {
            let item = item?;
            let Ok(s) = item.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "expected a sequence of str, but an item is {}",
                    type_name(&item)
                )));
            };
            out.push(utf8_text("an item", s)?);
        }
        Ok(StrList(out))
    }
}

/// A `str` as UTF-8. A lone surrogate (which UTF-8 cannot encode) is a
/// `ValidationException` naming the parameter and the surrogate's position
/// (not its text), not a `UnicodeEncodeError`.
fn utf8_text(name: &str, s: &Bound<'_, PyString>) -> PyResult<String> {
    s.to_cow().map(|c| c.into_owned()).map_err(|_| {
        let at = lone_surrogate(s)
            .map(|(i, c)| format!(" (U+{c:04X} at index {i})"))
            .unwrap_or_default();
        validation(format!(
            "{name} is not valid Unicode text: it holds a lone surrogate{at}, which UTF-8 cannot encode"
        ))
    })
}

/// The index and code point of the first lone surrogate of `s`.
fn lone_surrogate(s: &Bound<'_, PyString>) -> Option<(usize, u32)> {
    let py = s.py();
    let ord = py.import("builtins").ok()?.getattr("ord").ok()?;
    s.try_iter().ok()?.enumerate().find_map(|(i, c)| {
        let c: u32 = ord.call1((c.ok()?,)).ok()?.extract().ok()?;
        (0xD800..=0xDFFF).contains(&c).then_some((i, c))
    })
}

/// A plain `str` parameter (key IDs, alias names, grant names, principals,
/// algorithm names, markers...). Every such parameter of the module is
/// this type, so that text UTF-8 cannot encode (a lone surrogate) is a
/// `ValidationException` for all of them, as a KMS endpoint rejects invalid
/// input, and not the `UnicodeEncodeError` of pyo3's `String` (pyo3 names
/// the argument in a note of the exception, on Python 3.11+). Anything other
/// than a `str` is pyo3's usual `TypeError` naming the argument.
struct Text(String);

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// The `String` (or `Option<String>`) of a [`Text`] argument.
trait Plain {
    type Out;
    fn plain(self) -> Self::Out;
}

impl Plain for Text {
    type Out = String;
    fn plain(self) -> String {
        self.0
    }
}

impl Plain for Option<Text> {
    type Out = Option<String>;
    fn plain(self) -> Option<String> {
        self.map(|t| t.0)
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

/// Parameter defaults (`region="local-1"`).
impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(s.to_owned())
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Text {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s = obj.cast::<PyString>()?;
        utf8_text("a str argument", &s).map(Text)
    }
}

fn root_source(
    root_key: Option<&Bound<'_, PyAny>>,
    root_key_file: Option<PathBuf>,
    root_key_env: Option<String>,
    passphrase: Option<&Bound<'_, PyAny>>,
) -> PyResult<RootKeySource> {
    let given = [
        root_key.is_some(),
        root_key_file.is_some(),
        root_key_env.is_some(),
        passphrase.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(PyTypeError::new_err(
            "give exactly one of root_key, root_key_file, root_key_env, passphrase",
        ));
    }
    Ok(if let Some(k) = root_key {
        RootKeySource::Bytes(root_key_arg(k)?)
    } else if let Some(f) = root_key_file {
        RootKeySource::File(f)
    } else if let Some(v) = root_key_env {
        RootKeySource::EnvVar(v)
    } else if let Some(p) = passphrase {
        RootKeySource::Passphrase(text_or_bytes("passphrase", p)?)
    } else {
        unreachable!("exactly one root-key source was checked above")
    })
}

/// `options` with the `anchor` argument of `Keystore.open` (the anchor
/// file's path, or False for the opt-out) and its `anchor_init` /
/// `anchor_reinit` flags.
fn anchor_options(
    mut options: strongroom::OpenOptions,
    anchor: Option<&Bound<'_, PyAny>>,
    anchor_init: bool,
    anchor_reinit: bool,
) -> PyResult<strongroom::OpenOptions> {
    // `anchor=False`: the opt-out; a path otherwise.
    let anchor = match anchor {
        Some(b) if b.is_instance_of::<pyo3::types::PyBool>() => {
            if b.is_truthy()? || anchor_init || anchor_reinit {
                return Err(kms(Error::validation(
                    "anchor takes the anchor file's path, or False to open an anchored \
                     keystore without its anchor (then without anchor_init or anchor_reinit)",
                )));
            }
            options = options.without_anchor();
            None
        }
        Some(p) => Some(p.extract::<PathBuf>()?),
        None => None,
    };
    match anchor {
        Some(a) => Ok(options.anchor(
            strongroom::Anchor::file(a)
                .initialize_if_missing(anchor_init)
                .reinitialize(anchor_reinit),
        )),
        None if anchor_init || anchor_reinit => Err(kms(Error::validation(
            "anchor_init and anchor_reinit need an anchor",
        ))),
        None => Ok(options),
    }
}

// ---- the keystore -------------------------------------------------------------

/// A Strongroom keystore: KMS keys sealed under a root key in one SQLite file.
///
/// Make one with `Keystore.create(...)` or `Keystore.open(...)`; use it as a
/// context manager or call `close()`. Safe to share between threads: every
/// operation releases the GIL while it runs.
#[pyclass(frozen, module = "strongroom")]
struct Keystore {
    node: Arc<Handle>,
    path: PathBuf,
}

/// One Python handle's facade handle (`None` once closed) and the handles
/// derived from it by `as_principal` / `dry_run`, which its `close()`
/// closes too.
struct Handle {
    inner: Mutex<Option<strongroom::Keystore>>,
    derived: Mutex<Vec<Weak<Handle>>>,
}

impl Handle {
    fn new(ks: strongroom::Keystore) -> Arc<Handle> {
        Arc::new(Handle {
            inner: Mutex::new(Some(ks)),
            derived: Mutex::new(Vec::new()),
        })
    }

    /// Takes the facade handle out of this handle and of every handle
    /// derived from it, so that they all raise the error of a closed
    /// keystore. The
    /// `derived` lock is taken before `inner`, as in [`Keystore::derive`],
    /// so that no handle is derived from this one after it is closed.
    ///
    /// Returns the keystore handles taken out, for the caller to drop
    /// without holding these locks (or the GIL): dropping a keystore's last
    /// handle writes and syncs its audit records, which can wait for a
    /// background flush or another process's lock on the log.
    fn close(&self) -> Vec<strongroom::Keystore> {
        let (mut taken, derived) = {
            let mut derived = self.derived.lock().unwrap_or_else(|p| p.into_inner());
            let own = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
            (Vec::from_iter(own), std::mem::take(&mut *derived))
        };
        for d in derived.iter().filter_map(Weak::upgrade) {
            taken.extend(d.close());
        }
        taken
    }
}

impl Keystore {
    fn new(ks: strongroom::Keystore, path: PathBuf) -> Keystore {
        Keystore {
            node: Handle::new(ks),
            path,
        }
    }

    /// The context, options and strict keyring of `encrypt_stream`,
    /// `encrypt_file` and `encrypt_message`.
    #[allow(clippy::too_many_arguments)]
    fn encrypt_setup(
        &self,
        key_ids: &[String],
        grant_tokens: Option<StrList>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        frame_length: Option<&Bound<'_, PyAny>>,
        algorithm_suite: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<Text>,
        max_encrypted_data_keys: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(EncryptionContext, EncryptOptions, KmsKeyring)> {
        let ctx = context(encryption_context)?;
        let options = encrypt_options(
            frame_length,
            algorithm_suite,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        let keyring = encrypt_keyring(&self.handle()?, key_ids, grant_tokens)?;
        Ok((ctx, options, keyring))
    }

    /// The options and keyring (strict over `key_ids`, else discovery) of
    /// `decrypt_stream`, `decrypt_file` and `decrypt_message`.
    fn decrypt_setup(
        &self,
        key_ids: Option<StrList>,
        grant_tokens: Option<StrList>,
        required_encryption_context: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<Text>,
        max_encrypted_data_keys: Option<u16>,
    ) -> PyResult<(DecryptOptions, KmsKeyring)> {
        let options = decrypt_options(
            required_encryption_context,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        let keyring = decrypt_keyring(&self.handle()?, key_ids, grant_tokens)?;
        Ok((options, keyring))
    }

    fn handle(&self) -> PyResult<strongroom::Keystore> {
        self.node
            .inner
            .lock()
            .map_err(|_| PyValueError::new_err("the keystore lock is poisoned"))?
            .clone()
            .ok_or_else(|| PyValueError::new_err("the keystore is closed"))
    }

    /// A handle made by `f` from this one's facade handle, closed with it.
    fn derive(
        &self,
        f: impl FnOnce(strongroom::Keystore) -> strongroom::Keystore,
    ) -> PyResult<Keystore> {
        let mut derived = self
            .node
            .derived
            .lock()
            .map_err(|_| PyValueError::new_err("the keystore lock is poisoned"))?;
        let child = Keystore::new(f(self.handle()?), self.path.clone());
        derived.retain(|d| d.strong_count() > 0);
        derived.push(Arc::downgrade(&child.node));
        Ok(child)
    }

    /// Runs `f` on the keystore with the GIL released.
    fn run<T, F>(&self, py: Python<'_>, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&strongroom::Keystore) -> strongroom::Result<T> + Send,
    {
        let ks = self.handle()?;
        py.detach(move || f(&ks)).map_err(kms)
    }
}

#[pymethods]
impl Keystore {
    /// Creates a new keystore file at `path`.
    ///
    /// Give exactly one root-key source: `root_key` (32 bytes, or a `str`
    /// holding their base64 or hex text; any other `str`, such as a
    /// password, is a ValidationException: use `passphrase`), `root_key_file` (a file holding either), `root_key_env`
    /// (the name of an environment variable holding the text) or `passphrase`
    /// (str or bytes; stretched with Argon2id, 64 MiB, 3 passes).
    /// `region` and `account` (12 digits) appear in key ARNs.
    /// `audit_write_mode` is how this handle writes audit events of read-only
    /// operations: "write-through" (default; each is in the log before its call
    /// returns) or "write-behind" (queued in memory and written in batches of
    /// up to 256 events or 100 ms, before any management event, on close and
    /// on garbage collection; a process crash loses the queued events).
    /// `anchor`: the path of an external anchor file of the keystore's
    /// integrity state, created with it (see `open`).
    ///
    /// Raises AlreadyExistsException if `path` or its audit log exists (an
    /// earlier keystore's history: move it away first), a non-empty SQLite
    /// `-wal`/`-journal` file of an earlier keystore is beside it, or the anchor file
    /// already holds a record (remove it first to replace it), ValidationException for a
    /// malformed root key, region, account or audit_write_mode, or a directory of
    /// `path` that is missing or not writable, KMSInternalException
    /// on other I/O failures.
    #[staticmethod]
    #[pyo3(signature = (path, *, root_key=None, root_key_file=None, root_key_env=None, passphrase=None, region=Text::from("local-1"), account=Text::from("000000000000"), audit_write_mode=Text::from("write-through"), anchor=None))]
    #[pyo3(
        text_signature = "(path, *, root_key=None, root_key_file=None, root_key_env=None, passphrase=None, region=\"local-1\", account=\"000000000000\", audit_write_mode=\"write-through\", anchor=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        path: PathBuf,
        root_key: Option<&Bound<'_, PyAny>>,
        root_key_file: Option<PathBuf>,
        root_key_env: Option<Text>,
        passphrase: Option<&Bound<'_, PyAny>>,
        region: Text,
        account: Text,
        audit_write_mode: Text,
        anchor: Option<PathBuf>,
    ) -> PyResult<Self> {
        let root = root_source(root_key, root_key_file, root_key_env.plain(), passphrase)?;
        let options = strongroom::CreateOptions {
            region: region.to_owned(),
            account: account.to_owned(),
            admin_principal: None,
            audit_write_mode: write_mode(&audit_write_mode)?,
            anchor: anchor.map(strongroom::Anchor::file),
        };
        let p = path.clone();
        let ks = py
            .detach(move || strongroom::Keystore::create(&p, root, options))
            .map_err(kms)?;
        Ok(Keystore::new(ks, path))
    }

    /// Opens an existing keystore with its root key (one source, as for `create`).
    ///
    /// `audit_write_mode` as for `create`. `anchor`: the path of the
    /// keystore's external anchor file (docs/FORMAT.md, "Keystore anchor"),
    /// checked on open and by every write and verification, and moved
    /// forward by every write; a missing anchor file is refused unless
    /// `anchor_init` is true (then it is created from the keystore as it is:
    /// trust on first use). `anchor_reinit`: re-anchor an anchored keystore
    /// whose anchor is lost with `anchor`, which must hold no record (the
    /// keystore gets a new anchor ID, so every earlier anchor is refused
    /// after; audited as `ReinitializeKeystoreAnchor`); `anchor_init` alone
    /// does not re-anchor an anchored keystore (KMSInvalidStateException).
    /// A keystore opened with an anchor (or created
    /// with one) is anchored: it then opens only with its anchor, or with
    /// `anchor=False`, which opens it without the anchor (audited as
    /// `OpenKeystoreWithoutAnchor`; this handle neither checks nor moves the
    /// anchor, so its writes on a keystore file put back to an earlier
    /// state make the rollback pass: for recovery only). `principal`: the
    /// principal ARN the returned handle acts for (as `as_principal()`;
    /// default the keystore's administrator), already for the events the
    /// open itself records (`AnchorKeystore`, `ReinitializeKeystoreAnchor`,
    /// `OpenKeystoreWithoutAnchor`), which are audited as it.
    ///
    /// Raises NotFoundException if there is no keystore at `path`,
    /// AccessDeniedException if the root key is not this keystore's,
    /// ValidationException naming `path` if it is a directory, for a
    /// passphrase keystore given a root key (whatever it holds; its
    /// passphrase opens it) or the other way round,
    /// KMSInvalidStateException if the keystore is anchored and no `anchor`
    /// is given, or the anchor is not the keystore's (it holds no record,
    /// without `anchor_reinit`, or another anchor ID), KMSInternalException
    /// if the file fails authentication or
    /// is behind the anchor (put back to an earlier state), or the anchor is
    /// missing or fails authentication, ValidationException for an unknown
    /// `audit_write_mode`, `anchor_init` or `anchor_reinit` without
    /// `anchor`, `anchor=True`, an anchor that is not a regular file, or a
    /// `principal` that is not a principal ARN (raised before anything is
    /// written: no anchor is created, no event recorded).
    #[staticmethod]
    #[pyo3(signature = (path, *, root_key=None, root_key_file=None, root_key_env=None, passphrase=None, audit_write_mode=Text::from("write-through"), anchor=None, anchor_init=false, anchor_reinit=false, principal=None))]
    #[pyo3(
        text_signature = "(path, *, root_key=None, root_key_file=None, root_key_env=None, passphrase=None, audit_write_mode=\"write-through\", anchor=None, anchor_init=False, anchor_reinit=False, principal=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        root_key: Option<&Bound<'_, PyAny>>,
        root_key_file: Option<PathBuf>,
        root_key_env: Option<Text>,
        passphrase: Option<&Bound<'_, PyAny>>,
        audit_write_mode: Text,
        anchor: Option<&Bound<'_, PyAny>>,
        anchor_init: bool,
        anchor_reinit: bool,
        principal: Option<Text>,
    ) -> PyResult<Self> {
        let root = root_source(root_key, root_key_file, root_key_env.plain(), passphrase)?;
        let mut options =
            strongroom::OpenOptions::default().audit_write_mode(write_mode(&audit_write_mode)?);
        if let Some(p) = &principal {
            options = options.principal(p);
        }
        let options = anchor_options(options, anchor, anchor_init, anchor_reinit)?;
        let p = path.clone();
        let ks = py
            .detach(move || strongroom::Keystore::open_with(&p, root, options))
            .map_err(kms)?;
        Ok(Keystore::new(ks, path))
    }

    /// Verifies the audit log of the keystore at `path` as
    /// `verify_audit_log` does, without opening a handle and writing
    /// nothing (the CLI's `strongroom audit verify`): for a keystore and
    /// log this process cannot or must not write (a read-only file system
    /// or files, a copy kept as evidence), and for one that other handles
    /// or processes have open (their latest commits, still in the `-wal`
    /// file, are read). The keystore is opened read only: through its WAL
    /// while a `-wal` or `-shm` file exists beside it, otherwise as an
    /// immutable file, creating no file. Nothing is flushed first, so
    /// records past the sealed checkpoint (the unsealed tail of a process
    /// that crashed) are checked by the chain alone; the integrity state is
    /// checked against `anchor` without moving or creating it; no audit
    /// event is appended. The keystore, its WAL, its audit log and its
    /// anchor are never written; while a `-wal` file exists (a writer has
    /// the keystore open, or crashed), SQLite may create or update the
    /// shared-memory index `-shm` beside it, as for any reader. An edited, deleted, inserted or reordered
    /// record, or a log cut short, gives `intact=False` and the `fault`
    /// that `verify_audit_log` reports.
    ///
    /// Give exactly one root-key source, as for `open`. `anchor`: the
    /// anchor file of an anchored keystore (a missing one is an error:
    /// nothing is initialised here), or False to verify an anchored
    /// keystore without checking its anchor.
    ///
    /// Raises NotFoundException if there is no keystore at `path`,
    /// AccessDeniedException if the root key is not this keystore's,
    /// ValidationException naming `path` if it is a directory, for a
    /// passphrase keystore given a root key (whatever it holds; its
    /// passphrase opens it) or the other way round,
    /// KMSInvalidStateException if the keystore is anchored and no `anchor`
    /// is given or the anchor is not the keystore's, KMSInternalException
    /// if the keystore or its checkpoint fails authentication, the keystore
    /// is behind its anchor, the anchor is missing or fails authentication,
    /// the keystore is of an older format version (never migrated here),
    /// or the log or a `-wal` file cannot be read, ValidationException for
    /// a malformed root key, `anchor=True`, or an anchor that is one of the
    /// keystore's files or not a regular file, TypeError unless exactly one
    /// root-key source is given.
    #[staticmethod]
    #[pyo3(signature = (path, *, root_key=None, root_key_file=None, root_key_env=None, passphrase=None, anchor=None))]
    fn verify_audit_log_read_only(
        py: Python<'_>,
        path: PathBuf,
        root_key: Option<&Bound<'_, PyAny>>,
        root_key_file: Option<PathBuf>,
        root_key_env: Option<Text>,
        passphrase: Option<&Bound<'_, PyAny>>,
        anchor: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<AuditVerification> {
        let root = root_source(root_key, root_key_file, root_key_env.plain(), passphrase)?;
        let options = anchor_options(strongroom::OpenOptions::default(), anchor, false, false)?;
        let r = py
            .detach(move || strongroom::Keystore::verify_audit_log_read_only(&path, root, options))
            .map_err(kms)?;
        AuditVerification::new(py, r)
    }

    /// Closes the keystore; later calls raise ValueError. Idempotent. The
    /// handles made from this one by `as_principal()` and `dry_run()` (and
    /// from those) are closed with it; closing one of them leaves this one
    /// open.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self.node.close();
        // Dropping the last handle writes and syncs the audit records: other
        // Python threads run meanwhile.
        py.detach(move || drop(taken));
        Ok(())
    }

    /// True once `close()` has been called.
    #[getter]
    fn closed(&self) -> bool {
        self.node.inner.lock().map(|g| g.is_none()).unwrap_or(true)
    }

    /// The keystore file's path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Region used in ARNs.
    #[getter]
    fn region(&self) -> PyResult<String> {
        Ok(self.handle()?.region().to_owned())
    }

    /// 12-digit account ID used in ARNs.
    #[getter]
    fn account(&self) -> PyResult<String> {
        Ok(self.handle()?.account().to_owned())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { " closed" } else { "" };
        format!("<strongroom.Keystore {:?}{state}>", self.path.display())
    }

    /// A client with the boto3 KMS client's method names, parameters,
    /// responses and exceptions (`strongroom.client(self)`).
    fn client<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("strongroom.boto")?
            .getattr("Client")?
            .call1((slf,))
    }

    /// Checks that the key, alias and grant records and the audit
    /// checkpoint are exactly those Strongroom last wrote (the keystore
    /// integrity state; `open` checks it too).
    ///
    /// Raises KMSInternalException when the keystore file was tampered with.
    fn verify_digest(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |ks| ks.verify_digest())
    }

    /// Whether the keystore is anchored and where its anchor stands, as a
    /// dict: `Anchored` (bool, as stored in the keystore), `AnchorGiven`
    /// (this handle was opened with `anchor=`), `KeystoreCounter` (the
    /// integrity state's write counter), `AnchorCounter` (the anchor's, or
    /// None without an anchor) and `AnchorBehind` (the anchor holds an
    /// earlier state; None without an anchor). Not audited.
    ///
    /// Raises KMSInternalException if the keystore or the anchor fails
    /// authentication or cannot be read.
    fn anchor_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let st = self.run(py, |ks| ks.anchor_status())?;
        let d = pyo3::types::PyDict::new(py);
        d.set_item("Anchored", st.anchored)?;
        d.set_item("AnchorGiven", st.anchor_given)?;
        d.set_item("KeystoreCounter", st.keystore_counter)?;
        d.set_item("AnchorCounter", st.anchor_counter)?;
        d.set_item("AnchorBehind", st.anchor_given.then(|| st.anchor_behind()))?;
        Ok(d)
    }

    /// Removes the keystore's anchoring: it then opens without an anchor,
    /// and a rollback of its file is no longer detected. Needs this handle
    /// opened with the anchor (`anchor=`), which is checked again first.
    /// Audited as `RemoveKeystoreAnchor`. The anchor file is left in place;
    /// opening with `anchor=` again anchors the keystore again.
    ///
    /// Raises ValidationException on a handle opened without the anchor,
    /// KMSInternalException if the keystore is behind the anchor.
    fn remove_anchor(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |ks| ks.remove_anchor())
    }

    /// Deletes every key whose deletion window has passed, with its aliases;
    /// returns how many. (Keys are also purged lazily when used.)
    ///
    /// Raises KMSInternalException on storage or authentication failure.
    fn purge_deleted_keys(&self, py: Python<'_>) -> PyResult<usize> {
        self.run(py, |ks| ks.purge_deleted_keys())
    }

    // ---- key management -----------------------------------------------------

    /// CreateKey. `key_spec` e.g. "SYMMETRIC_DEFAULT", `key_usage` e.g.
    /// "ENCRYPT_DECRYPT", `tags` a mapping of tag keys to values.
    /// Returns the new key's KeyMetadata.
    ///
    /// Raises ValidationException, TagException, MalformedPolicyDocumentException,
    /// UnsupportedOperationException.
    #[pyo3(signature = (*, description=None, key_spec=None, key_usage=None, origin=None, policy=None, bypass_policy_lockout_safety_check=false, tags=None, multi_region=None, customer_master_key_spec=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_key(
        &self,
        py: Python<'_>,
        description: Option<Text>,
        key_spec: Option<Text>,
        key_usage: Option<Text>,
        origin: Option<Text>,
        policy: Option<Text>,
        bypass_policy_lockout_safety_check: bool,
        tags: Option<&Bound<'_, PyAny>>,
        multi_region: Option<bool>,
        customer_master_key_spec: Option<Text>,
    ) -> PyResult<KeyMetadata> {
        let req = CreateKeyRequest {
            description: description.plain(),
            key_spec: parse::<KeySpec>(key_spec)?,
            customer_master_key_spec: parse::<KeySpec>(customer_master_key_spec)?,
            key_usage: parse::<KeyUsage>(key_usage)?,
            origin: parse::<Origin>(origin)?,
            policy: policy.plain(),
            bypass_policy_lockout_safety_check,
            tags: tag_list(tags)?,
            multi_region,
        };
        let r = self.run(py, move |ks| ks.create_key(&req))?;
        KeyMetadata::new(py, r.key_metadata)
    }

    /// DescribeKey by key ID, key ARN, alias name or alias ARN;
    /// `grant_tokens` (at most 10) are checked as Encrypt's are.
    ///
    /// Raises NotFoundException, InvalidArnException, ValidationException,
    /// InvalidGrantTokenException.
    #[pyo3(signature = (key_id, *, grant_tokens=None))]
    fn describe_key(
        &self,
        py: Python<'_>,
        key_id: Text,
        grant_tokens: Option<StrList>,
    ) -> PyResult<KeyMetadata> {
        let grant_tokens = tokens(grant_tokens);
        let r = self.run(py, move |ks| {
            ks.describe_key_with_grant_tokens(&key_id, &grant_tokens)
        })?;
        KeyMetadata::new(py, r.key_metadata)
    }

    /// ListKeys: one page of at most `limit` (1–1000, default 100) keys after `marker`.
    ///
    /// Raises ValidationException, InvalidMarkerException.
    #[pyo3(signature = (*, limit=None, marker=None))]
    fn list_keys(
        &self,
        py: Python<'_>,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
    ) -> PyResult<KeyList> {
        let limit = opt_u32("limit", limit)?;
        let r = self.run(py, move |ks| ks.list_keys(limit, marker.as_deref()))?;
        KeyList::new(py, r)
    }

    /// UpdateKeyDescription.
    ///
    /// Raises NotFoundException, ValidationException, KMSInvalidStateException.
    fn update_key_description(
        &self,
        py: Python<'_>,
        key_id: Text,
        description: Text,
    ) -> PyResult<()> {
        self.run(py, move |ks| {
            ks.update_key_description(&key_id, &description)
        })
    }

    /// EnableKey.
    ///
    /// Raises NotFoundException, KMSInvalidStateException.
    fn enable_key(&self, py: Python<'_>, key_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.enable_key(&key_id))
    }

    /// DisableKey.
    ///
    /// Raises NotFoundException, KMSInvalidStateException.
    fn disable_key(&self, py: Python<'_>, key_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.disable_key(&key_id))
    }

    /// ScheduleKeyDeletion after `pending_window_in_days` (7–30, default 30).
    ///
    /// Raises ValidationException, NotFoundException, KMSInvalidStateException.
    #[pyo3(signature = (key_id, *, pending_window_in_days=None))]
    fn schedule_key_deletion(
        &self,
        py: Python<'_>,
        key_id: Text,
        pending_window_in_days: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<KeyDeletionSchedule> {
        let days = opt_u32("pending_window_in_days", pending_window_in_days)?;
        let r = self.run(py, move |ks| ks.schedule_key_deletion(&key_id, days))?;
        KeyDeletionSchedule::new(py, r)
    }

    /// CancelKeyDeletion; the key becomes Disabled. Returns the key ARN.
    ///
    /// Raises NotFoundException, KMSInvalidStateException.
    fn cancel_key_deletion(&self, py: Python<'_>, key_id: Text) -> PyResult<String> {
        self.run(py, move |ks| ks.cancel_key_deletion(&key_id))
            .map(|r| r.key_id)
    }

    /// EnableKeyRotation every `rotation_period_in_days` (90–2560, default 365).
    ///
    /// Raises ValidationException, NotFoundException, UnsupportedOperationException,
    /// DisabledException, KMSInvalidStateException.
    #[pyo3(signature = (key_id, *, rotation_period_in_days=None))]
    fn enable_key_rotation(
        &self,
        py: Python<'_>,
        key_id: Text,
        rotation_period_in_days: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let days = opt_u32("rotation_period_in_days", rotation_period_in_days)?;
        self.run(py, move |ks| ks.enable_key_rotation(&key_id, days))
    }

    /// DisableKeyRotation.
    ///
    /// Raises NotFoundException, UnsupportedOperationException, KMSInvalidStateException.
    fn disable_key_rotation(&self, py: Python<'_>, key_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.disable_key_rotation(&key_id))
    }

    /// GetKeyRotationStatus.
    ///
    /// Raises NotFoundException, UnsupportedOperationException.
    fn get_key_rotation_status(&self, py: Python<'_>, key_id: Text) -> PyResult<KeyRotationStatus> {
        let r = self.run(py, move |ks| ks.get_key_rotation_status(&key_id))?;
        KeyRotationStatus::new(py, r)
    }

    /// RotateKeyOnDemand (at most 10 per key). Returns the key ID.
    ///
    /// Raises NotFoundException, UnsupportedOperationException,
    /// LimitExceededException, DisabledException, KMSInvalidStateException.
    fn rotate_key_on_demand(&self, py: Python<'_>, key_id: Text) -> PyResult<String> {
        self.run(py, move |ks| ks.rotate_key_on_demand(&key_id))
            .map(|r| r.key_id)
    }

    /// ListKeyRotations: one page of at most `limit` (1–1000, default 100).
    ///
    /// Raises NotFoundException, UnsupportedOperationException, InvalidMarkerException.
    #[pyo3(signature = (key_id, *, limit=None, marker=None))]
    fn list_key_rotations(
        &self,
        py: Python<'_>,
        key_id: Text,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
    ) -> PyResult<KeyRotationList> {
        let limit = opt_u32("limit", limit)?;
        let r = self.run(py, move |ks| {
            ks.list_key_rotations(&key_id, limit, marker.as_deref())
        })?;
        KeyRotationList::new(py, r)
    }

    // ---- aliases -----------------------------------------------------------

    /// CreateAlias `alias_name` ("alias/...") for `target_key_id` (key ID or ARN).
    ///
    /// Raises InvalidAliasNameException, AlreadyExistsException, NotFoundException,
    /// ValidationException, KMSInvalidStateException.
    fn create_alias(&self, py: Python<'_>, alias_name: Text, target_key_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.create_alias(&alias_name, &target_key_id))
    }

    /// UpdateAlias: points `alias_name` at `target_key_id`, a key of the
    /// same key type (both symmetric, both asymmetric or both HMAC) and key
    /// usage as the current one; the key spec may differ, as in AWS KMS.
    ///
    /// Raises NotFoundException, ValidationException (another key type or
    /// usage), KMSInvalidStateException.
    fn update_alias(&self, py: Python<'_>, alias_name: Text, target_key_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.update_alias(&alias_name, &target_key_id))
    }

    /// DeleteAlias.
    ///
    /// Raises InvalidAliasNameException, NotFoundException.
    fn delete_alias(&self, py: Python<'_>, alias_name: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.delete_alias(&alias_name))
    }

    /// ListAliases, optionally only those of `key_id`; `limit` 1–100 (default 50).
    ///
    /// Raises NotFoundException, ValidationException, InvalidMarkerException.
    #[pyo3(signature = (*, key_id=None, limit=None, marker=None))]
    fn list_aliases(
        &self,
        py: Python<'_>,
        key_id: Option<Text>,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
    ) -> PyResult<AliasList> {
        let limit = opt_u32("limit", limit)?;
        let r = self.run(py, move |ks| {
            ks.list_aliases(key_id.as_deref(), limit, marker.as_deref())
        })?;
        AliasList::new(py, r)
    }

    // ---- tags ----------------------------------------------------------------

    /// TagResource with `tags`, a mapping of tag keys to values.
    ///
    /// Raises ValidationException (a key not 1 to 128 characters, a value
    /// over 256), TagException (an "aws:" key, more than 50 tags),
    /// NotFoundException, KMSInvalidStateException.
    fn tag_resource(&self, py: Python<'_>, key_id: Text, tags: &Bound<'_, PyAny>) -> PyResult<()> {
        let tags = tag_list(Some(tags))?;
        self.run(py, move |ks| ks.tag_resource(&key_id, &tags))
    }

    /// UntagResource: removes the tags with keys `tag_keys`.
    ///
    /// Raises ValidationException (a key not 1 to 128 characters),
    /// NotFoundException, KMSInvalidStateException.
    fn untag_resource(&self, py: Python<'_>, key_id: Text, tag_keys: StrList) -> PyResult<()> {
        self.run(py, move |ks| ks.untag_resource(&key_id, &tag_keys))
    }

    /// ListResourceTags: one page of at most `limit` (1–50, default 50) tags.
    ///
    /// Raises NotFoundException, ValidationException, InvalidMarkerException.
    #[pyo3(signature = (key_id, *, limit=None, marker=None))]
    fn list_resource_tags(
        &self,
        py: Python<'_>,
        key_id: Text,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
    ) -> PyResult<TagList> {
        let limit = opt_u32("limit", limit)?;
        let r = self.run(py, move |ks| {
            ks.list_resource_tags(&key_id, limit, marker.as_deref())
        })?;
        TagList::new(py, r)
    }

    // ---- cryptographic operations -------------------------------------------

    /// Encrypt 1–4096 bytes of `plaintext` (any bytes-like object) under a
    /// symmetric key, bound to `encryption_context` (exact match on decrypt).
    ///
    /// Raises NotFoundException, DisabledException, KMSInvalidStateException,
    /// InvalidKeyUsageException, ValidationException.
    #[pyo3(signature = (key_id, plaintext, *, encryption_context=None, encryption_algorithm=None, grant_tokens=None))]
    fn encrypt(
        &self,
        py: Python<'_>,
        key_id: Text,
        plaintext: &Bound<'_, PyAny>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        encryption_algorithm: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<EncryptResult> {
        let req = EncryptRequest {
            key_id: key_id.plain(),
            plaintext: secret("plaintext", plaintext)?,
            encryption_context: context(encryption_context)?,
            encryption_algorithm: parse::<EncryptionAlgorithm>(encryption_algorithm)?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.encrypt(&req))?;
        EncryptResult::new(py, r)
    }

    /// Decrypt a ciphertext blob with the encryption context it was made with.
    /// `key_id`, if given, must name the key that made the blob.
    ///
    /// Raises InvalidCiphertextException (every authentication failure, without
    /// detail), IncorrectKeyException, DisabledException, KMSInvalidStateException,
    /// NotFoundException, ValidationException.
    #[pyo3(signature = (ciphertext_blob, *, encryption_context=None, key_id=None, encryption_algorithm=None, grant_tokens=None))]
    fn decrypt(
        &self,
        py: Python<'_>,
        ciphertext_blob: &Bound<'_, PyAny>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        key_id: Option<Text>,
        encryption_algorithm: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<DecryptResult> {
        let req = DecryptRequest {
            ciphertext_blob: bytes_like("ciphertext_blob", ciphertext_blob)?,
            encryption_context: context(encryption_context)?,
            key_id: key_id.plain(),
            encryption_algorithm: parse::<EncryptionAlgorithm>(encryption_algorithm)?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.decrypt(&req))?;
        DecryptResult::new(py, r)
    }

    /// ReEncrypt a blob under `destination_key_id` without returning plaintext.
    ///
    /// Raises the errors of `decrypt` (source) and `encrypt` (destination).
    #[pyo3(signature = (ciphertext_blob, destination_key_id, *, source_encryption_context=None, source_key_id=None, destination_encryption_context=None, source_encryption_algorithm=None, destination_encryption_algorithm=None, grant_tokens=None))]
    #[allow(clippy::too_many_arguments)]
    fn re_encrypt(
        &self,
        py: Python<'_>,
        ciphertext_blob: &Bound<'_, PyAny>,
        destination_key_id: Text,
        source_encryption_context: Option<&Bound<'_, PyAny>>,
        source_key_id: Option<Text>,
        destination_encryption_context: Option<&Bound<'_, PyAny>>,
        source_encryption_algorithm: Option<Text>,
        destination_encryption_algorithm: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<ReEncryptResult> {
        let req = ReEncryptRequest {
            ciphertext_blob: bytes_like("ciphertext_blob", ciphertext_blob)?,
            source_encryption_context: context(source_encryption_context)?,
            source_key_id: source_key_id.plain(),
            destination_key_id: destination_key_id.plain(),
            destination_encryption_context: context(destination_encryption_context)?,
            source_encryption_algorithm: parse::<EncryptionAlgorithm>(source_encryption_algorithm)?,
            destination_encryption_algorithm: parse::<EncryptionAlgorithm>(
                destination_encryption_algorithm,
            )?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.re_encrypt(&req))?;
        ReEncryptResult::new(py, r)
    }

    /// GenerateDataKey: a fresh data key in plaintext and encrypted under
    /// `key_id`. Give exactly one of `key_spec` ("AES_256", "AES_128") and
    /// `number_of_bytes` (1–1024).
    ///
    /// Raises ValidationException, plus the errors of `encrypt`.
    #[pyo3(signature = (key_id, *, key_spec=None, number_of_bytes=None, encryption_context=None, grant_tokens=None))]
    fn generate_data_key(
        &self,
        py: Python<'_>,
        key_id: Text,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'_, PyAny>>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<DataKey> {
        let req = data_key_request(
            key_id,
            key_spec,
            number_of_bytes,
            encryption_context,
            grant_tokens,
        )?;
        let r = self.run(py, move |ks| ks.generate_data_key(&req))?;
        DataKey::new(py, r)
    }

    /// GenerateDataKeyWithoutPlaintext: only the encrypted data key.
    ///
    /// Raises the errors of `generate_data_key`.
    #[pyo3(signature = (key_id, *, key_spec=None, number_of_bytes=None, encryption_context=None, grant_tokens=None))]
    fn generate_data_key_without_plaintext(
        &self,
        py: Python<'_>,
        key_id: Text,
        key_spec: Option<Text>,
        number_of_bytes: Option<&Bound<'_, PyAny>>,
        encryption_context: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<EncryptedDataKey> {
        let req = data_key_request(
            key_id,
            key_spec,
            number_of_bytes,
            encryption_context,
            grant_tokens,
        )?;
        let r = self.run(py, move |ks| ks.generate_data_key_without_plaintext(&req))?;
        EncryptedDataKey::new(py, r)
    }

    /// GenerateRandom: `number_of_bytes` (1–1024) bytes from the OS CSPRNG.
    ///
    /// Raises ValidationException outside 1–1024.
    #[pyo3(signature = (number_of_bytes))]
    fn generate_random<'py>(
        &self,
        py: Python<'py>,
        number_of_bytes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n = opt_u32("number_of_bytes", Some(number_of_bytes))?
            .ok_or_else(|| PyTypeError::new_err("number_of_bytes must be an int, not None"))?;
        let r = self.run(py, move |ks| ks.generate_random(n))?;
        secret_bytes(py, &r.plaintext)
    }

    // ---- asymmetric keys, HMAC keys, imported key material -------------------

    /// Sign `message` (1–4096 bytes, or a digest with `message_type="DIGEST"`)
    /// with an asymmetric SIGN_VERIFY key; `signing_algorithm` e.g. "ECDSA_SHA_256".
    ///
    /// Raises NotFoundException, DisabledException, KMSInvalidStateException,
    /// InvalidKeyUsageException, ValidationException.
    #[pyo3(signature = (key_id, message, *, signing_algorithm=None, message_type=None, grant_tokens=None))]
    fn sign(
        &self,
        py: Python<'_>,
        key_id: Text,
        message: &Bound<'_, PyAny>,
        signing_algorithm: Option<Text>,
        message_type: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<SignResult> {
        let req = SignRequest {
            key_id: key_id.plain(),
            message: secret("message", message)?,
            message_type: parse::<MessageType>(message_type)?,
            signing_algorithm: parse::<SigningAlgorithm>(signing_algorithm)?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.sign(&req))?;
        SignResult::new(py, r)
    }

    /// Verify a signature made by `sign`. Returns a result whose
    /// `signature_valid` is True.
    ///
    /// Raises KMSInvalidSignatureException when the signature does not verify,
    /// and the errors of `sign`.
    #[pyo3(signature = (key_id, message, signature, *, signing_algorithm=None, message_type=None, grant_tokens=None))]
    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        py: Python<'_>,
        key_id: Text,
        message: &Bound<'_, PyAny>,
        signature: &Bound<'_, PyAny>,
        signing_algorithm: Option<Text>,
        message_type: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<VerifyResult> {
        let req = VerifyRequest {
            key_id: key_id.plain(),
            message: secret("message", message)?,
            message_type: parse::<MessageType>(message_type)?,
            signature: bytes_like("signature", signature)?,
            signing_algorithm: parse::<SigningAlgorithm>(signing_algorithm)?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.verify(&req))?;
        VerifyResult::new(r)
    }

    /// GetPublicKey of an asymmetric key (DER SubjectPublicKeyInfo), by key
    /// ID, key ARN, alias name or alias ARN; `grant_tokens` (at most 10)
    /// are checked as Encrypt's are.
    ///
    /// Raises NotFoundException, UnsupportedOperationException,
    /// KMSInvalidStateException, ValidationException, InvalidGrantTokenException.
    #[pyo3(signature = (key_id, *, grant_tokens=None))]
    fn get_public_key(
        &self,
        py: Python<'_>,
        key_id: Text,
        grant_tokens: Option<StrList>,
    ) -> PyResult<PublicKey> {
        let grant_tokens = tokens(grant_tokens);
        let r = self.run(py, move |ks| {
            ks.get_public_key_with_grant_tokens(&key_id, &grant_tokens)
        })?;
        PublicKey::new(py, r)
    }

    /// DeriveSharedSecret: the raw ECDH shared secret (SecretBytes, 32 bytes
    /// on P-256, 48 on P-384, 66 on P-521) of the NIST ECC KEY_AGREEMENT key `key_id` and
    /// the peer's `public_key` (DER SubjectPublicKeyInfo on the same curve,
    /// any bytes-like object). `key_agreement_algorithm` is "ECDH", the only
    /// value. `recipient` (a Nitro Enclaves attestation) is not supported.
    ///
    /// Raises NotFoundException, DisabledException, KMSInvalidStateException,
    /// InvalidKeyUsageException, ValidationException (a malformed key or one
    /// on another curve), AccessDeniedException, InvalidGrantTokenException,
    /// UnsupportedOperationException (`recipient` given).
    #[pyo3(signature = (key_id, public_key, key_agreement_algorithm=Text::from("ECDH"), grant_tokens=None, *, recipient=None))]
    #[pyo3(
        text_signature = "($self, key_id, public_key, key_agreement_algorithm=\"ECDH\", grant_tokens=None, *, recipient=None)"
    )]
    fn derive_shared_secret(
        &self,
        py: Python<'_>,
        key_id: Text,
        public_key: &Bound<'_, PyAny>,
        key_agreement_algorithm: Text,
        grant_tokens: Option<StrList>,
        recipient: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SharedSecret> {
        let req = DeriveSharedSecretRequest {
            key_id: key_id.plain(),
            key_agreement_algorithm: parse::<KeyAgreementAlgorithm>(Some(
                key_agreement_algorithm.to_owned(),
            ))?,
            public_key: bytes_like("public_key", public_key)?,
            grant_tokens: tokens(grant_tokens),
            recipient: recipient
                .filter(|r| !r.is_none())
                .map(|_| RecipientInfo::default()),
        };
        let r = self.run(py, move |ks| ks.derive_shared_secret(&req))?;
        SharedSecret::new(py, r)
    }

    /// GenerateMac over `message` (1–4096 bytes) with an HMAC key;
    /// `mac_algorithm` e.g. "HMAC_SHA_256".
    ///
    /// Raises NotFoundException, DisabledException, InvalidKeyUsageException,
    /// KMSInvalidStateException, ValidationException.
    #[pyo3(signature = (key_id, message, *, mac_algorithm=None, grant_tokens=None))]
    fn generate_mac(
        &self,
        py: Python<'_>,
        key_id: Text,
        message: &Bound<'_, PyAny>,
        mac_algorithm: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<MacResult> {
        let req = GenerateMacRequest {
            key_id: key_id.plain(),
            message: secret("message", message)?,
            mac_algorithm: parse::<MacAlgorithm>(mac_algorithm)?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.generate_mac(&req))?;
        MacResult::new(py, r)
    }

    /// VerifyMac: checks `mac` over `message`; returns a result whose
    /// `mac_valid` is True.
    ///
    /// Raises KMSInvalidMacException when the MAC does not verify, and the
    /// errors of `generate_mac`.
    #[pyo3(signature = (key_id, message, mac, *, mac_algorithm=None, grant_tokens=None))]
    fn verify_mac(
        &self,
        py: Python<'_>,
        key_id: Text,
        message: &Bound<'_, PyAny>,
        mac: &Bound<'_, PyAny>,
        mac_algorithm: Option<Text>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<VerifyMacResult> {
        let req = VerifyMacRequest {
            key_id: key_id.plain(),
            message: secret("message", message)?,
            mac_algorithm: parse::<MacAlgorithm>(mac_algorithm)?,
            mac: bytes_like("mac", mac)?,
            grant_tokens: tokens(grant_tokens),
        };
        let r = self.run(py, move |ks| ks.verify_mac(&req))?;
        VerifyMacResult::new(r)
    }

    /// GenerateDataKeyPair: a key pair (`key_pair_spec` e.g. "ECC_NIST_P256",
    /// "RSA_2048") whose private key comes in plaintext (PKCS#8 DER,
    /// SecretBytes) and encrypted under `key_id`.
    ///
    /// Raises ValidationException, plus the errors of `encrypt`.
    #[pyo3(signature = (key_id, key_pair_spec, *, encryption_context=None, grant_tokens=None))]
    fn generate_data_key_pair(
        &self,
        py: Python<'_>,
        key_id: Text,
        key_pair_spec: Text,
        encryption_context: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<DataKeyPair> {
        let req = key_pair_request(key_id, key_pair_spec, encryption_context, grant_tokens)?;
        let r = self.run(py, move |ks| ks.generate_data_key_pair(&req))?;
        DataKeyPair::new(py, r)
    }

    /// GenerateDataKeyPairWithoutPlaintext: the public key and the encrypted private key.
    ///
    /// Raises the errors of `generate_data_key_pair`.
    #[pyo3(signature = (key_id, key_pair_spec, *, encryption_context=None, grant_tokens=None))]
    fn generate_data_key_pair_without_plaintext(
        &self,
        py: Python<'_>,
        key_id: Text,
        key_pair_spec: Text,
        encryption_context: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<EncryptedDataKeyPair> {
        let req = key_pair_request(key_id, key_pair_spec, encryption_context, grant_tokens)?;
        let r = self.run(py, move |ks| {
            ks.generate_data_key_pair_without_plaintext(&req)
        })?;
        EncryptedDataKeyPair::new(py, r)
    }

    /// GetParametersForImport of an EXTERNAL-origin key: a wrapping public key
    /// and an import token.
    ///
    /// Raises NotFoundException, UnsupportedOperationException, ValidationException,
    /// KMSInvalidStateException.
    #[pyo3(signature = (key_id, *, wrapping_algorithm=None, wrapping_key_spec=None))]
    fn get_parameters_for_import(
        &self,
        py: Python<'_>,
        key_id: Text,
        wrapping_algorithm: Option<Text>,
        wrapping_key_spec: Option<Text>,
    ) -> PyResult<ImportParameters> {
        let req = GetParametersForImportRequest {
            key_id: key_id.plain(),
            wrapping_algorithm: parse::<WrappingAlgorithm>(wrapping_algorithm)?,
            wrapping_key_spec: parse::<WrappingKeySpec>(wrapping_key_spec)?,
        };
        let r = self.run(py, move |ks| ks.get_parameters_for_import(&req))?;
        ImportParameters::new(py, r)
    }

    /// ImportKeyMaterial wrapped under the parameters of
    /// `get_parameters_for_import`; `valid_to` (with
    /// `expiration_model="KEY_MATERIAL_EXPIRES"`) is Unix seconds or a
    /// timezone-aware `datetime` (fractions of a second dropped); a naive
    /// `datetime` or another type is a TypeError. `import_type` is
    /// "NEW_KEY_MATERIAL" (only on the key's first import) or
    /// "EXISTING_KEY_MATERIAL" (only once material was imported).
    ///
    /// Raises InvalidImportTokenException, ExpiredImportTokenException,
    /// IncorrectKeyMaterialException (also EXISTING_KEY_MATERIAL on a key
    /// that never had material), InvalidCiphertextException,
    /// NotFoundException, ValidationException, KMSInvalidStateException,
    /// UnsupportedOperationException (NEW_KEY_MATERIAL after the first import).
    #[pyo3(signature = (key_id, import_token, encrypted_key_material, *, valid_to=None, expiration_model=None, import_type=None))]
    #[allow(clippy::too_many_arguments)]
    fn import_key_material(
        &self,
        py: Python<'_>,
        key_id: Text,
        import_token: &Bound<'_, PyAny>,
        encrypted_key_material: &Bound<'_, PyAny>,
        valid_to: Option<&Bound<'_, PyAny>>,
        expiration_model: Option<Text>,
        import_type: Option<Text>,
    ) -> PyResult<()> {
        let valid_to = match valid_to {
            Some(v) if !v.is_none() => Some(unix_seconds("valid_to", v)?),
            _ => None,
        };
        let req = ImportKeyMaterialRequest {
            key_id: key_id.plain(),
            import_token: bytes_like("import_token", import_token)?,
            encrypted_key_material: bytes_like("encrypted_key_material", encrypted_key_material)?,
            valid_to,
            expiration_model: parse::<ExpirationModel>(expiration_model)?,
            import_type: parse::<ImportType>(import_type)?,
        };
        self.run(py, move |ks| ks.import_key_material(&req))
    }

    // ---- principals, key policies, grants, audit -------------------------------

    /// The same keystore acting for `principal` (an IAM ARN such as
    /// `arn:aws:iam::111122223333:user/app`): every operation on the returned
    /// handle is authorized (key policy and grants) for, and audited as, that
    /// principal. The handles share the open keystore. Closing this handle
    /// closes the returned one too (its calls then raise ValueError, as a
    /// closed keystore's); closing the returned one leaves this one open.
    ///
    /// Raises ValidationException at once, before a handle is made, if
    /// `principal` is not a principal ARN a call can act as (empty, longer
    /// than 256 characters, a wildcard, a bare account ID: the rule of
    /// `open(principal=...)`); ValueError if this handle is closed.
    fn as_principal(&self, principal: Text) -> PyResult<Keystore> {
        let checked = self.handle()?.try_as_principal(&principal).map_err(kms)?;
        self.derive(|_| checked)
    }

    /// The same keystore with AWS KMS's `DryRun` set on every request: each
    /// operation runs all its checks (key, key state, key policy and grants,
    /// grant tokens, parameters) and then raises DryRunOperationException
    /// ("the request would have succeeded") instead of returning a result,
    /// or the exception the real call would have raised. Nothing changes (a
    /// dry-run create_grant, retire_grant or revoke_grant is rolled back);
    /// each call is audited. Only the operations with a DryRun parameter in
    /// KMS accept it (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*,
    /// GenerateDataKeyPair*, Sign, Verify, GenerateMac, VerifyMac,
    /// CreateGrant, RetireGrant, RevokeGrant); others raise
    /// ValidationException without running. Keeps the principal. Closed
    /// with this handle, as the handles of `as_principal`.
    ///
    /// Raises ValueError if this handle is closed.
    fn dry_run(&self) -> PyResult<Keystore> {
        self.derive(|ks| ks.dry_run())
    }

    /// The principal this handle acts for: the one given to `as_principal`,
    /// else the keystore's administrator (`arn:aws:iam::<account>:root`).
    ///
    /// Raises ValueError if this handle is closed.
    #[getter]
    fn principal(&self) -> PyResult<String> {
        Ok(self.handle()?.principal().to_owned())
    }

    /// PutKeyPolicy: replaces the key policy with `policy`, a JSON policy
    /// document (at most 32 KiB). `policy_name` must be "default" when given.
    /// Unless `bypass_policy_lockout_safety_check`, the new policy must still
    /// allow this principal `kms:PutKeyPolicy`.
    ///
    /// Raises MalformedPolicyDocumentException (bad document, or the lockout
    /// safety check), NotFoundException (key or policy name),
    /// AccessDeniedException, KMSInvalidStateException.
    #[pyo3(signature = (key_id, policy, *, policy_name=None, bypass_policy_lockout_safety_check=false))]
    fn put_key_policy(
        &self,
        py: Python<'_>,
        key_id: Text,
        policy: Text,
        policy_name: Option<Text>,
        bypass_policy_lockout_safety_check: bool,
    ) -> PyResult<()> {
        let req = PutKeyPolicyRequest {
            key_id: key_id.plain(),
            policy_name: policy_name.plain(),
            policy: policy.plain(),
            bypass_policy_lockout_safety_check,
        };
        self.run(py, move |ks| ks.put_key_policy(&req))
    }

    /// GetKeyPolicy: the key policy document (JSON text); the default key
    /// policy when none was set. `policy_name` must be "default" when given.
    ///
    /// Raises NotFoundException (key or policy name), AccessDeniedException.
    #[pyo3(signature = (key_id, *, policy_name=None))]
    fn get_key_policy(
        &self,
        py: Python<'_>,
        key_id: Text,
        policy_name: Option<Text>,
    ) -> PyResult<String> {
        self.run(py, move |ks| {
            ks.get_key_policy(&key_id, policy_name.as_deref())
        })
        .map(|r| r.policy)
    }

    /// ListKeyPolicies: a KeyPolicyList whose `policy_names` is `("default",)`;
    /// `limit` 1–1000.
    ///
    /// Raises NotFoundException, AccessDeniedException, ValidationException,
    /// InvalidMarkerException.
    #[pyo3(signature = (key_id, *, limit=None, marker=None))]
    fn list_key_policies(
        &self,
        py: Python<'_>,
        key_id: Text,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
    ) -> PyResult<KeyPolicyList> {
        let limit = opt_u32("limit", limit)?;
        let r = self.run(py, move |ks| {
            ks.list_key_policies(&key_id, limit, marker.as_deref())
        })?;
        KeyPolicyList::new(py, r)
    }

    /// CreateGrant: allows `grantee_principal` the `operations` (KMS names:
    /// "Encrypt", "Decrypt", "GenerateDataKey", ...) on the key. `constraints`
    /// uses the KMS member names: `{"EncryptionContextSubset": {...}}` or
    /// `{"EncryptionContextEquals": {...}}`. With a `name` already used by an
    /// identical grant of the key, returns that grant's ID. The returned
    /// grant token works at once with `grant_tokens=`.
    ///
    /// Raises ValidationException, NotFoundException, AccessDeniedException,
    /// KMSInvalidStateException, InvalidGrantTokenException, LimitExceededException.
    #[pyo3(signature = (key_id, grantee_principal, operations, *, retiring_principal=None, constraints=None, grant_tokens=None, name=None))]
    #[allow(clippy::too_many_arguments)]
    fn create_grant(
        &self,
        py: Python<'_>,
        key_id: Text,
        grantee_principal: Text,
        operations: StrList,
        retiring_principal: Option<Text>,
        constraints: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
        name: Option<Text>,
    ) -> PyResult<CreateGrantResult> {
        let operations = operations
            .iter()
            .map(|o| GrantOperation::parse(o).map_err(kms))
            .collect::<PyResult<Vec<_>>>()?;
        let req = CreateGrantRequest {
            key_id: key_id.plain(),
            grantee_principal: grantee_principal.plain(),
            retiring_principal: retiring_principal.plain(),
            operations,
            constraints: grant_constraints(constraints)?,
            grant_tokens: tokens(grant_tokens),
            name: name.plain(),
        };
        let r = self.run(py, move |ks| ks.create_grant(&req))?;
        Ok(CreateGrantResult {
            grant_token: r.grant_token,
            grant_id: r.grant_id,
        })
    }

    /// ListGrants: a GrantList of the key's grants, optionally only
    /// `grant_id` or those of `grantee_principal`; `limit` 1–100 (default 50).
    ///
    /// Raises NotFoundException, AccessDeniedException, ValidationException,
    /// InvalidMarkerException, InvalidGrantIdException.
    #[pyo3(signature = (key_id, *, limit=None, marker=None, grant_id=None, grantee_principal=None))]
    fn list_grants(
        &self,
        py: Python<'_>,
        key_id: Text,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
        grant_id: Option<Text>,
        grantee_principal: Option<Text>,
    ) -> PyResult<GrantList> {
        let req = ListGrantsRequest {
            key_id: key_id.plain(),
            limit: opt_u32("limit", limit)?,
            marker: marker.plain(),
            grant_id: grant_id.plain(),
            grantee_principal: grantee_principal.plain(),
        };
        let r = self.run(py, move |ks| ks.list_grants(&req))?;
        GrantList::new(py, r)
    }

    /// ListRetirableGrants: a GrantList of the grants, across keys, whose
    /// retiring principal is `retiring_principal`; `limit` 1–100 (default 50).
    ///
    /// Raises ValidationException, InvalidMarkerException.
    #[pyo3(signature = (retiring_principal, *, limit=None, marker=None))]
    fn list_retirable_grants(
        &self,
        py: Python<'_>,
        retiring_principal: Text,
        limit: Option<&Bound<'_, PyAny>>,
        marker: Option<Text>,
    ) -> PyResult<GrantList> {
        let limit = opt_u32("limit", limit)?;
        let r = self.run(py, move |ks| {
            ks.list_retirable_grants(&retiring_principal, limit, marker.as_deref())
        })?;
        GrantList::new(py, r)
    }

    /// RetireGrant: deletes the grant named by `grant_token`, or by `key_id`
    /// and `grant_id`. Allowed for the grant's retiring principal, its grantee
    /// when the grant includes "RetireGrant", the account root, or a principal
    /// the key policy allows `kms:RetireGrant`.
    ///
    /// Raises InvalidGrantTokenException, InvalidGrantIdException,
    /// ValidationException (neither form given), NotFoundException, AccessDeniedException.
    #[pyo3(signature = (*, grant_token=None, key_id=None, grant_id=None))]
    fn retire_grant(
        &self,
        py: Python<'_>,
        grant_token: Option<Text>,
        key_id: Option<Text>,
        grant_id: Option<Text>,
    ) -> PyResult<()> {
        let req = RetireGrantRequest {
            grant_token: grant_token.plain(),
            key_id: key_id.plain(),
            grant_id: grant_id.plain(),
        };
        self.run(py, move |ks| ks.retire_grant(&req))
    }

    /// RevokeGrant: deletes grant `grant_id` of the key (authorized by the
    /// key policy's `kms:RevokeGrant`).
    ///
    /// Raises InvalidGrantIdException, NotFoundException, AccessDeniedException.
    fn revoke_grant(&self, py: Python<'_>, key_id: Text, grant_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.revoke_grant(&key_id, &grant_id))
    }

    /// Verifies the audit log against its hash chain and the sealed
    /// checkpoint. An edited, deleted, inserted or reordered record, or a
    /// log cut short, gives `intact=False` and `fault` naming the first bad
    /// record (0-based) and why. `records` counts the intent records of
    /// changes too; `outcome_unknown` names those a crash left without
    /// their outcome record. Reading the log is not audited.
    ///
    /// Raises KMSInternalException if the checkpoint fails authentication or
    /// the log cannot be read.
    fn verify_audit_log(&self, py: Python<'_>) -> PyResult<AuditVerification> {
        let r = self.run(py, |ks| ks.verify_audit_log())?;
        AuditVerification::new(py, r)
    }

    /// Verifies the audit log as `verify_audit_log` does, then the archive
    /// files `paths` (str or os.PathLike; oldest first, as
    /// `rotate_audit_log` made them; any contiguous run of them, up to the
    /// current log): each archive's chain verifies from its own first
    /// record, and the file after it (the next archive, or the current log
    /// for the last one) starts with a RotateAuditLog record that names it
    /// with its record range, length, SHA-256 and last chain value. A
    /// modified, truncated, extended, missing or misordered archive gives
    /// `intact=False` and `archive_fault` naming the file, the record
    /// number and why; `archives` lists the archives checked
    /// (AuditLogRotation: path, record range, bytes, SHA-256). An archive
    /// that cannot be read is an `archive_fault`, not an exception. Not
    /// audited; with no paths, the result of `verify_audit_log`.
    ///
    /// Raises KMSInternalException if the checkpoint fails authentication or
    /// the log cannot be read, TypeError if `paths` is a str or not a
    /// sequence of paths.
    fn verify_audit_log_archives(
        &self,
        py: Python<'_>,
        paths: Vec<PathBuf>,
    ) -> PyResult<AuditVerification> {
        let r = self.run(py, move |ks| ks.verify_audit_log_archives(&paths))?;
        AuditVerification::new(py, r)
    }

    /// Moves the audit log's records to an archive file beside it
    /// (`<keystore>.audit.<first>-<last>.jsonl`, 20-digit record numbers,
    /// mode 0400) and starts a new log whose first record, RotateAuditLog,
    /// is chained from the last archived one and names the archive with its
    /// record range, length and SHA-256 (docs/FORMAT.md, "Audit log
    /// rotation and archives"). Other handles and processes continue in the
    /// new file; the archive may be moved or deleted.
    ///
    /// Raises KMSInvalidStateException if the log holds no record or the
    /// rotation gave up after 64 attempts because the log kept changing
    /// under it (rotate again), ValidationException on a dry-run handle or for a keystore file name
    /// over 193 bytes or not UTF-8, KMSInternalException if the log's
    /// records do not verify, a file that is not a copy of them already has
    /// the archive's name (move it away: nothing is deleted), or the log
    /// cannot be locked, read, written or synced or no longer holds what
    /// its sealed checkpoint covers.
    fn rotate_audit_log(&self, py: Python<'_>) -> PyResult<AuditLogRotation> {
        self.run(py, |ks| ks.rotate_audit_log())
            .map(AuditLogRotation::new)
    }

    /// The audit events (CloudTrail-shaped dicts: `eventName`, `eventTime`,
    /// `userIdentity`, `requestParameters`, `responseElements`, `errorCode`,
    /// `resources`, ...) matching every filter given, oldest first, one
    /// per operation: the intent record of a change (its own `eventID`,
    /// member `strongroomIntent` naming the outcome's `eventID`) is listed
    /// only while its outcome record is missing (see `verify_audit_log`'s
    /// `outcome_unknown`). `key_id` matches a key ID or ARN; `event_name` a KMS operation name;
    /// `principal` the caller's ARN; `start_time` / `end_time` are RFC 3339
    /// UTC text (a date prefix such as "2026-01-01" works). Does not verify
    /// the chain (see `verify_audit_log`).
    ///
    /// Raises ValidationException for a time that is not such text, or a
    /// `start_time` after `end_time` (no event can match: CloudTrail's
    /// InvalidTimeRangeException); KMSInternalException if the log cannot
    /// be read.
    #[pyo3(signature = (*, key_id=None, event_name=None, principal=None, start_time=None, end_time=None))]
    fn audit_events<'py>(
        &self,
        py: Python<'py>,
        key_id: Option<Text>,
        event_name: Option<Text>,
        principal: Option<Text>,
        start_time: Option<Text>,
        end_time: Option<Text>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = AuditFilter {
            key_id: key_id.plain(),
            event_name: event_name.plain(),
            principal: principal.plain(),
            start_time: start_time.plain(),
            end_time: end_time.plain(),
        };
        let events = self.run(py, move |ks| ks.audit_events(&filter))?;
        let text = serde_json::to_string(&events).map_err(|e| {
            kms(Error::internal(format!(
                "cannot serialize audit events: {e}"
            )))
        })?;
        py.import("json")?.call_method1("loads", (text,))
    }

    /// The path of this keystore's audit log (JSON lines beside the keystore file).
    ///
    /// Raises ValueError if this handle is closed.
    #[getter]
    fn audit_log_path(&self) -> PyResult<PathBuf> {
        Ok(self.handle()?.audit_log_path().to_path_buf())
    }

    // ---- envelope encryption ---------------------------------------------------

    /// Envelope-encrypts everything read from the binary file object `src`
    /// (its `read(n)` must return bytes-like, `b""` at the end) into one
    /// AWS Encryption SDK message written to `dst` (`write(b)`), under
    /// `key_ids` (key IDs, ARNs or aliases; the first generates the data key,
    /// every one can decrypt). Constant memory: 64 KiB is read at a time and
    /// the GIL is released except while `src.read` / `dst.write` run.
    ///
    /// `frame_length`: plaintext bytes per frame, 1 to 268435456 (256 MiB,
    /// the largest frame a streaming decryptor buffers by default; default
    /// 4096);
    /// `algorithm_suite`: 0x0578 (signed, default) or 0x0478 (unsigned), as
    /// the integer ID or a string: the ESDK name
    /// ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
    /// "AES_256_GCM_HKDF_SHA512_COMMIT_KEY", any case) or the hex ID ("0x0578");
    /// `commitment_policy`: "REQUIRE_ENCRYPT_REQUIRE_DECRYPT" (default) or
    /// "REQUIRE_ENCRYPT_ALLOW_DECRYPT" (any case; "RequireEncryptAllowDecrypt"
    /// too); `max_encrypted_data_keys`: fail if
    /// more keys would wrap the data key, 1 to 65535 (0 is a
    /// ValidationException, as the AWS Encryption SDK refuses it), `None`
    /// (default) for no limit; `grant_tokens`: KMS grant tokens
    /// (at most 10) sent with each `GenerateDataKey` / `Encrypt`.
    ///
    /// `dst.write(b)` returns the bytes written (an int, 1 to `len(b)`; the
    /// rest is written again), as io's raw files do; `None` or 0 (a
    /// non-blocking file that took nothing) or a count out of range is a
    /// ValueError, anything but an int or `None` (a bool too) a TypeError.
    ///
    /// On failure `dst` may hold part of a message, which never decrypts;
    /// `encrypt_file` writes a path atomically instead.
    ///
    /// Raises ValidationException (also for more than 10 grant tokens),
    /// InvalidGrantTokenException, the errors of `generate_data_key` and
    /// `encrypt`, and whatever `src.read` / `dst.write` raise.
    #[pyo3(signature = (src, dst, *, key_ids, encryption_context=None, frame_length=None, algorithm_suite=None, commitment_policy=None, max_encrypted_data_keys=None, grant_tokens=None))]
    #[allow(clippy::too_many_arguments)]
    fn encrypt_stream(
        &self,
        py: Python<'_>,
        src: Bound<'_, PyAny>,
        dst: Bound<'_, PyAny>,
        key_ids: StrList,
        encryption_context: Option<&Bound<'_, PyAny>>,
        frame_length: Option<&Bound<'_, PyAny>>,
        algorithm_suite: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<Text>,
        max_encrypted_data_keys: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<EnvelopeSummary> {
        let (ctx, options, keyring) = self.encrypt_setup(
            &key_ids,
            grant_tokens,
            encryption_context,
            frame_length,
            algorithm_suite,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        let mut reader = PyReader::new(src.unbind());
        let mut writer = PyWriter::new(dst.unbind());
        let r = py.detach(|| {
            envelope::encrypt_stream(&keyring, &mut reader, &mut writer, &ctx, &options)
        });
        let r = stream_result(r, &mut reader, &mut writer)?;
        writer.flush_py(py)?;
        EnvelopeSummary::new(py, &r)
    }

    /// Decrypts one message read from `src` into `dst`, releasing no
    /// plaintext that is not authenticated. With `key_ids` only those keys
    /// may unwrap the data key (strict), else any key of this keystore
    /// (discovery). Check the returned `encryption_context`, or pass
    /// `required_encryption_context` (pairs the message must carry).
    ///
    /// When plaintext reaches `dst`:
    /// - unsigned suites (0x0478): each frame once AES-GCM authenticates it;
    ///   if the message is then found truncated or corrupt, the call raises
    ///   and `dst` holds an authenticated prefix;
    /// - signed suites (0x0578, the default): staged in an anonymous temporary
    ///   file (in the system temporary directory, `TMPDIR`; deleted when
    ///   closed) and copied to `dst` only after the signature verifies — on
    ///   failure `dst` receives nothing;
    /// - `unsigned_only=True`: the ESDK's streaming-unsigned-only mode: signed
    ///   messages are refused (ValidationException) before any plaintext is
    ///   produced, and nothing is staged on disk.
    /// `decrypt_file` never leaves a partial output.
    ///
    /// Memory stays constant; the GIL is released except while `src.read` /
    /// `dst.write` run. `commitment_policy` as for `encrypt_stream`;
    /// "REQUIRE_ENCRYPT_ALLOW_DECRYPT" also reads non-committing suites
    /// (0x0178, 0x0378). `max_encrypted_data_keys`: a message with more
    /// encrypted data keys is refused (ValidationException) once its header
    /// is read, before any key is unwrapped; 1 to 65535, default 10 (each
    /// EDK the keyring tries may cost a `Decrypt` call), `None` for no limit
    /// (the AWS Encryption SDKs' default); 0 is a ValidationException, raised
    /// before `src` is read, as the AWS Encryption SDK refuses it.
    /// `grant_tokens`: KMS grant tokens (at most
    /// 10) sent with each `Decrypt`. `max_frame_buffer`: the largest frame
    /// (or non-framed body) in bytes the decryptor buffers, 1 to 2**32 − 1
    /// (ValidationException outside, before `src` is read; TypeError for a
    /// non-int), default (`None`) 268435456 (256 MiB, the largest frame length
    /// Strongroom writes); a message with larger frames (another writer's)
    /// raises LimitExceededException once its header is read: raise the
    /// option, or use `decrypt_message`, which reads every frame length.
    ///
    /// Raises InvalidCiphertextException (malformed, tampered, truncated, or
    /// no key could unwrap it), ValidationException, LimitExceededException, AccessDeniedException,
    /// InvalidGrantTokenException, DisabledException, KMSInvalidStateException, and whatever `src.read` /
    /// `dst.write` raise.
    #[pyo3(signature = (src, dst, *, key_ids=None, required_encryption_context=None, commitment_policy=None, max_encrypted_data_keys=10, unsigned_only=false, grant_tokens=None, max_frame_buffer=None))]
    #[allow(clippy::too_many_arguments)]
    fn decrypt_stream(
        &self,
        py: Python<'_>,
        src: Bound<'_, PyAny>,
        dst: Bound<'_, PyAny>,
        key_ids: Option<StrList>,
        required_encryption_context: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<Text>,
        #[pyo3(from_py_with = decrypt_edk_limit)] max_encrypted_data_keys: Option<u16>,
        unsigned_only: bool,
        grant_tokens: Option<StrList>,
        max_frame_buffer: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<EnvelopeSummary> {
        let (mut options, keyring) = self.decrypt_setup(
            key_ids,
            grant_tokens,
            required_encryption_context,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        set_max_frame_buffer(&mut options, max_frame_buffer)?;
        let mut reader = PyReader::new(src.unbind());
        let mut writer = PyWriter::new(dst.unbind());
        let r = py.detach(|| {
            if unsigned_only {
                envelope::decrypt_stream_unsigned_only(&keyring, &mut reader, &mut writer, &options)
            } else {
                envelope::decrypt_stream(&keyring, &mut reader, &mut writer, &options)
            }
        });
        let r = stream_result(r, &mut reader, &mut writer)?;
        writer.flush_py(py)?;
        EnvelopeSummary::new(py, &r)
    }

    /// Envelope-encrypts the file `path_in` into a message at `path_out`,
    /// written to a temporary file beside it, synced and renamed over
    /// `path_out` only on success (a failure leaves `path_out` untouched).
    /// The GIL is released for the whole call. Options as for `encrypt_stream`.
    ///
    /// Raises the errors of `encrypt_stream`, and ValidationException naming
    /// the path if `path_in` is missing, unreadable or a directory, if
    /// `path_out` is a directory or in a missing or unwritable directory, if
    /// both are the same file, or if `path_out` is a file of a keystore open
    /// in this process (the keystore, its -wal/-shm/-journal, audit log,
    /// root key file or the default one beside it, anchor file; also through
    /// a link), before anything is written; KMSInternalException only for
    /// the library's own failures (a full disk).
    #[pyo3(signature = (path_in, path_out, *, key_ids, encryption_context=None, frame_length=None, algorithm_suite=None, commitment_policy=None, max_encrypted_data_keys=None, grant_tokens=None))]
    #[allow(clippy::too_many_arguments)]
    fn encrypt_file(
        &self,
        py: Python<'_>,
        path_in: PathBuf,
        path_out: PathBuf,
        key_ids: StrList,
        encryption_context: Option<&Bound<'_, PyAny>>,
        frame_length: Option<&Bound<'_, PyAny>>,
        algorithm_suite: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<Text>,
        max_encrypted_data_keys: Option<&Bound<'_, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<EnvelopeSummary> {
        let (ctx, options, keyring) = self.encrypt_setup(
            &key_ids,
            grant_tokens,
            encryption_context,
            frame_length,
            algorithm_suite,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        let r = py
            .detach(move || envelope::encrypt_file(&keyring, &path_in, &path_out, &ctx, &options))
            .map_err(kms)?;
        EnvelopeSummary::new(py, &r)
    }

    /// Decrypts the message file `path_in` to `path_out`, for any suite: the
    /// plaintext goes to a temporary file beside `path_out`, renamed to
    /// `path_out` only once the whole message (and its signature) is
    /// authenticated; on any failure `path_out` is neither created nor
    /// changed. The GIL is released for the whole call. Options as for
    /// `decrypt_stream`; with `unsigned_only`, a message of a signed suite is
    /// refused (ValidationException) once its header is read, before any
    /// data key is unwrapped.
    ///
    /// Raises the errors of `decrypt_stream` (`max_frame_buffer` as there),
    /// and the path errors of `encrypt_file`.
    #[pyo3(signature = (path_in, path_out, *, key_ids=None, required_encryption_context=None, commitment_policy=None, max_encrypted_data_keys=10, unsigned_only=false, grant_tokens=None, max_frame_buffer=None))]
    #[allow(clippy::too_many_arguments)]
    fn decrypt_file(
        &self,
        py: Python<'_>,
        path_in: PathBuf,
        path_out: PathBuf,
        key_ids: Option<StrList>,
        required_encryption_context: Option<&Bound<'_, PyAny>>,
        commitment_policy: Option<Text>,
        #[pyo3(from_py_with = decrypt_edk_limit)] max_encrypted_data_keys: Option<u16>,
        unsigned_only: bool,
        grant_tokens: Option<StrList>,
        max_frame_buffer: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<EnvelopeSummary> {
        let (mut options, keyring) = self.decrypt_setup(
            key_ids,
            grant_tokens,
            required_encryption_context,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        set_max_frame_buffer(&mut options, max_frame_buffer)?;
        let r = py
            .detach(move || {
                if unsigned_only {
                    envelope::decrypt_file_unsigned_only(&keyring, &path_in, &path_out, &options)
                } else {
                    envelope::decrypt_file(&keyring, &path_in, &path_out, &options)
                }
            })
            .map_err(kms)?;
        EnvelopeSummary::new(py, &r)
    }

    /// Envelope-encrypts `plaintext` (bytes-like) into one AWS Encryption
    /// SDK message in memory and returns `(message, summary)`, as the ESDK's
    /// `encrypt(source=bytes)` returns `(ciphertext, header)`. Options as for
    /// `encrypt_stream`. The GIL is released while the message is made
    /// (`bytes` input is read in place; a bytearray or memoryview is copied
    /// first, since it could change meanwhile); the message is then copied
    /// into the returned `bytes`. Needs memory for the plaintext and about
    /// twice the message; `encrypt_stream` / `encrypt_file` for large data.
    ///
    /// Raises the errors of `encrypt_stream` (but no I/O errors), and
    /// LimitExceededException if the message does not fit in memory.
    #[pyo3(signature = (plaintext, *, key_ids, encryption_context=None, frame_length=None, algorithm_suite=None, commitment_policy=None, max_encrypted_data_keys=None, grant_tokens=None))]
    #[allow(clippy::too_many_arguments)]
    fn encrypt_message<'py>(
        &self,
        py: Python<'py>,
        plaintext: &Bound<'py, PyAny>,
        key_ids: StrList,
        encryption_context: Option<&Bound<'py, PyAny>>,
        frame_length: Option<&Bound<'py, PyAny>>,
        algorithm_suite: Option<&Bound<'py, PyAny>>,
        commitment_policy: Option<Text>,
        max_encrypted_data_keys: Option<&Bound<'py, PyAny>>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<(Bound<'py, PyBytes>, EnvelopeSummary)> {
        let plaintext = InputBytes::new("plaintext", plaintext)?;
        let (ctx, options, keyring) = self.encrypt_setup(
            &key_ids,
            grant_tokens,
            encryption_context,
            frame_length,
            algorithm_suite,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        let (message, summary) = py
            .detach(|| envelope::encrypt_message(&keyring, plaintext.get(), &ctx, &options))
            .map_err(kms)?;
        Ok((
            PyBytes::new(py, &message),
            EnvelopeSummary::new(py, &summary)?,
        ))
    }

    /// Decrypts one whole AWS Encryption SDK message (bytes-like) in memory
    /// and returns `(plaintext, summary)`, as the ESDK's
    /// `decrypt(source=bytes)` returns `(plaintext, header)`. Nothing is
    /// returned unless the whole message authenticates (signature
    /// included); on failure what was decrypted is wiped. Options as for
    /// `decrypt_stream` (`key_ids` strict, else discovery; check
    /// `summary.encryption_context` or pass `required_encryption_context`).
    /// The GIL is released while decrypting, into a `bytes` allocated once
    /// at the plaintext's exact length (read from the message's framing);
    /// it is then copied into the returned `SecretBytes` (a `bytes` whose
    /// repr is redacted, as `DecryptResult.plaintext`). Memory at the peak:
    /// the message and twice the plaintext (a `bytes` input is read in
    /// place; a bytearray or memoryview is copied first).
    ///
    /// Raises InvalidCiphertextException (malformed, tampered, truncated,
    /// trailing bytes, or no key could unwrap it), ValidationException,
    /// AccessDeniedException, InvalidGrantTokenException, DisabledException,
    /// KMSInvalidStateException, LimitExceededException.
    #[pyo3(signature = (message, *, key_ids=None, required_encryption_context=None, commitment_policy=None, max_encrypted_data_keys=10, grant_tokens=None))]
    #[allow(clippy::too_many_arguments)]
    fn decrypt_message<'py>(
        &self,
        py: Python<'py>,
        message: &Bound<'py, PyAny>,
        key_ids: Option<StrList>,
        required_encryption_context: Option<&Bound<'py, PyAny>>,
        commitment_policy: Option<Text>,
        #[pyo3(from_py_with = decrypt_edk_limit)] max_encrypted_data_keys: Option<u16>,
        grant_tokens: Option<StrList>,
    ) -> PyResult<(Bound<'py, PyAny>, EnvelopeSummary)> {
        let message = InputBytes::new("message", message)?;
        let (options, keyring) = self.decrypt_setup(
            key_ids,
            grant_tokens,
            required_encryption_context,
            commitment_policy,
            max_encrypted_data_keys,
        )?;
        let message = message.get();
        let Ok(len) = plaintext_len(message) else {
            // The framing does not parse: the decryption says why (its
            // errors come in the order the message is read).
            let (plaintext, summary) = py
                .detach(|| envelope::decrypt_message(&keyring, message, &options))
                .map_err(kms)?;
            let plaintext = Secret::new(plaintext);
            return Ok((
                secret_bytes(py, &plaintext)?,
                EnvelopeSummary::new(py, &summary)?,
            ));
        };
        let mut summary = None;
        // Decrypted in place in the new object, which no other thread can
        // see yet; on failure the bytes written are zeroed before it is freed.
        let plaintext = PyBytes::new_with(py, len, |buf| {
            match py
                .detach(|| envelope::decrypt_message_into_slice(&keyring, message, &options, buf))
                .map_err(kms)?
            {
                SliceMessage::Written(s) => {
                    summary = Some(s);
                    Ok(())
                }
                SliceMessage::TooSmall { .. } => Err(kms(Error::internal(
                    "the plaintext outgrew its computed length",
                ))),
            }
        })?;
        let summary =
            summary.ok_or_else(|| kms(Error::internal("no summary of the decryption")))?;
        Ok((
            secret_bytes_of(py, &plaintext)?,
            EnvelopeSummary::new(py, &summary)?,
        ))
    }

    /// DeleteImportedKeyMaterial: the key becomes PendingImport.
    ///
    /// Raises NotFoundException, UnsupportedOperationException, KMSInvalidStateException.
    fn delete_imported_key_material(&self, py: Python<'_>, key_id: Text) -> PyResult<()> {
        self.run(py, move |ks| ks.delete_imported_key_material(&key_id))
    }
}

// ---- envelope options and Python file objects ---------------------------------

/// A `Mapping[str, Mapping[str, str]]` of grant constraints with the KMS
/// member names `EncryptionContextEquals` / `EncryptionContextSubset`.
fn grant_constraints(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ApiGrantConstraints>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let items = obj.call_method0("items").map_err(|_| {
        PyTypeError::new_err(format!(
            "constraints must be a mapping, not {}",
            type_name(obj)
        ))
    })?;
    let mut out = ApiGrantConstraints::default();
    for item in items.try_iter()? {
        let (name, value): (Text, Bound<'_, PyAny>) = item?.extract()?;
        let pairs = str_mapping(&name, Some(&value))?;
        let ctx = EncryptionContext::from_pairs(pairs).map_err(kms)?;
        match &*name {
            "EncryptionContextEquals" => out.encryption_context_equals = Some(ctx),
            "EncryptionContextSubset" => out.encryption_context_subset = Some(ctx),
            other => {
                return Err(validation(format!(
                    "unknown grant constraint {other:?}: use EncryptionContextEquals or EncryptionContextSubset"
                )))
            }
        }
    }
    Ok(Some(out))
}

/// An ESDK commitment policy by name (see `CommitmentPolicy`'s `FromStr`).
fn commitment_policy(name: Option<Text>) -> PyResult<CommitmentPolicy> {
    name.map_or(Ok(CommitmentPolicy::default()), |n| n.parse().map_err(kms))
}

/// An algorithm suite given as its integer ID (e.g. `0x0578`) or as a
/// string: the ESDK name or the hexadecimal ID (see `AlgorithmSuite`'s
/// `FromStr`).
fn algorithm_suite(obj: &Bound<'_, PyAny>) -> PyResult<AlgorithmSuite> {
    if let Ok(name) = obj.cast::<PyString>() {
        return utf8_text("algorithm_suite", name)?.parse().map_err(kms);
    }
    if obj.cast::<pyo3::types::PyBool>().is_ok() || obj.cast::<pyo3::types::PyInt>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "algorithm_suite must be an int or a str, not {}",
            type_name(obj)
        )));
    }
    let id = opt_u16("algorithm_suite", Some(obj))?
        .ok_or_else(|| validation("algorithm_suite is required".to_string()))?;
    AlgorithmSuite::from_id(id).ok_or_else(|| {
        validation(format!(
            "unknown algorithm suite 0x{id:04X}: use 0x0578 or 0x0478 (or their ESDK names)"
        ))
    })
}

fn opt_u16(name: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u16>> {
    opt_u32(name, obj)?
        .map(|n| u16::try_from(n).map_err(|_| validation(format!("{name} is out of range: {n}"))))
        .transpose()
}

fn encrypt_options(
    frame_length: Option<&Bound<'_, PyAny>>,
    algorithm_suite: Option<&Bound<'_, PyAny>>,
    policy: Option<Text>,
    max_encrypted_data_keys: Option<&Bound<'_, PyAny>>,
) -> PyResult<EncryptOptions> {
    let mut options = EncryptOptions {
        commitment_policy: commitment_policy(policy)?,
        max_encrypted_data_keys: edk_limit(max_encrypted_data_keys)?,
        ..EncryptOptions::default()
    };
    if let Some(n) = opt_u32("frame_length", frame_length)? {
        options.frame_length = n;
    }
    if let Some(obj) = algorithm_suite.filter(|o| !o.is_none()) {
        options.suite = self::algorithm_suite(obj)?;
    }
    Ok(options)
}

// The `max_encrypted_data_keys=10` default of `decrypt_stream` /
// `decrypt_file` (a literal, so that it shows in their signatures).
const _: () = assert!(DEFAULT_MAX_ENCRYPTED_DATA_KEYS == 10);

/// `max_encrypted_data_keys` of the envelope functions: an int of 1 to
/// 65535, or `None` for no limit. 0 is a `ValidationException` (the AWS
/// Encryption SDK for Python's client raises `ValueError`, "cannot be less
/// than 1"), as is a number out of range; a non-int is a `TypeError`.
fn edk_limit(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u16>> {
    let max = opt_u16("max_encrypted_data_keys", obj)?;
    check_max_encrypted_data_keys(max).map_err(kms)?;
    Ok(max)
}

/// [`edk_limit`] of a given argument (`from_py_with` of `decrypt_stream` /
/// `decrypt_file`, whose default of 10 shows in their signatures).
fn decrypt_edk_limit(obj: &Bound<'_, PyAny>) -> PyResult<Option<u16>> {
    edk_limit(Some(obj))
}

fn decrypt_options(
    required_encryption_context: Option<&Bound<'_, PyAny>>,
    policy: Option<Text>,
    max_encrypted_data_keys: Option<u16>,
) -> PyResult<DecryptOptions> {
    Ok(DecryptOptions {
        commitment_policy: commitment_policy(policy)?,
        max_encrypted_data_keys,
        required_encryption_context: EncryptionContext::from_pairs(str_mapping(
            "required_encryption_context",
            required_encryption_context,
        )?)
        .map_err(kms)?,
        ..DecryptOptions::default()
    })
}

/// A strict keyring over `key_ids` sending `grant_tokens`.
///
/// # Errors
/// `ValidationException` for an empty `key_ids`, in the Python API's terms.
fn encrypt_keyring(
    ks: &strongroom::Keystore,
    key_ids: &[String],
    grant_tokens: Option<StrList>,
) -> PyResult<KmsKeyring> {
    if key_ids.is_empty() {
        return Err(validation(
            "key_ids must name at least one KMS key (key ID, key ARN, alias name or alias ARN)"
                .into(),
        ));
    }
    ks.keyring(key_ids)
        .and_then(|k| k.with_grant_tokens(tokens(grant_tokens)))
        .map_err(kms)
}

/// Strict over `key_ids` when given, else discovery over the keystore;
/// sends `grant_tokens`.
///
/// # Errors
/// `ValidationException` for an empty `key_ids`, in the Python API's terms.
fn decrypt_keyring(
    ks: &strongroom::Keystore,
    key_ids: Option<StrList>,
    grant_tokens: Option<StrList>,
) -> PyResult<KmsKeyring> {
    match key_ids {
        Some(ids) if ids.0.is_empty() => {
            return Err(validation(
                "key_ids must name at least one KMS key, or be None (the default) \
                 to decrypt with any key of this keystore"
                    .into(),
            ))
        }
        Some(ids) => ks.keyring(&ids.0),
        None => Ok(KmsKeyring::discovery(ks)),
    }
    .and_then(|k| k.with_grant_tokens(tokens(grant_tokens)))
    .map_err(kms)
}

/// The facade's result of a streaming call; when it failed because a file
/// object raised, that Python exception is raised instead (the facade only
/// saw an I/O error).
fn stream_result<T>(
    r: strongroom::Result<T>,
    reader: &mut PyReader,
    writer: &mut PyWriter,
) -> PyResult<T> {
    let py_err = reader.error.take().or_else(|| writer.error.take());
    match (r, py_err) {
        (Err(_), Some(e)) => Err(e),
        (r, _) => r.map_err(kms),
    }
}

/// A Python binary file object as a `Read`: each read attaches to the
/// interpreter (takes the GIL) only for the `read(n)` call and the copy.
struct PyReader {
    file: Py<PyAny>,
    error: Option<PyErr>,
}

impl PyReader {
    fn new(file: Py<PyAny>) -> Self {
        PyReader { file, error: None }
    }

    fn fail(&mut self, e: PyErr) -> std::io::Error {
        let msg = e.to_string();
        self.error = Some(e);
        std::io::Error::other(msg)
    }
}

impl std::io::Read for PyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Python::attach(|py| {
            let got = match self.file.bind(py).call_method1("read", (buf.len(),)) {
                Ok(b) if b.is_none() => {
                    return Err(self.fail(PyValueError::new_err(
                        "read() returned None (a non-blocking file with no data): \
                         envelope streams need a blocking binary file",
                    )))
                }
                // The chunk (plaintext when encrypting) is held as a
                // `Secret`, wiped when dropped, not as a bare `Vec`.
                Ok(b) => bytes_like("read() result", &b).map(Secret::new),
                Err(e) => Err(e),
            };
            match got {
                Ok(data) if data.expose_secret().len() <= buf.len() => {
                    let data = data.expose_secret();
                    buf[..data.len()].copy_from_slice(data);
                    Ok(data.len())
                }
                Ok(data) => Err(self.fail(PyValueError::new_err(format!(
                    "read({}) returned {} bytes",
                    buf.len(),
                    data.expose_secret().len()
                )))),
                Err(e) => Err(self.fail(e)),
            }
        })
    }
}

/// A Python binary file object as a `Write`: each write attaches to the
/// interpreter only for the `write(bytes)` call (repeated by `write_all`
/// for short writes).
struct PyWriter {
    file: Py<PyAny>,
    error: Option<PyErr>,
}

impl PyWriter {
    fn new(file: Py<PyAny>) -> Self {
        PyWriter { file, error: None }
    }

    /// Calls `flush()` if the object has one.
    fn flush_py(&self, py: Python<'_>) -> PyResult<()> {
        let f = self.file.bind(py);
        if f.hasattr("flush")? {
            f.call_method0("flush")?;
        }
        Ok(())
    }
}

impl std::io::Write for PyWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Python::attach(|py| {
            let r = self
                .file
                .bind(py)
                .call_method1("write", (PyBytes::new(py, buf),))
                .and_then(|n| {
                    // None (or 0) is what a non-blocking raw file returns
                    // when it wrote nothing; a count outside 1..=len is a
                    // broken file object. None may count as a write.
                    if n.is_none() {
                        return Err(PyValueError::new_err(
                            "write() returned None (a non-blocking file that accepted no data): \
                             envelope streams need a blocking binary file",
                        ));
                    }
                    // io's convention is an int (a bool is one to Python, but
                    // `True` is no byte count: taking it as 1 would resend
                    // the rest and corrupt the message).
                    if n.cast::<pyo3::types::PyBool>().is_ok()
                        || n.cast::<pyo3::types::PyInt>().is_err()
                    {
                        return Err(PyTypeError::new_err(format!(
                            "write() must return an int (the bytes written) or None, not {}",
                            type_name(&n)
                        )));
                    }
                    match n.extract::<i64>() {
                        Ok(k) if k > 0 && k as u64 <= buf.len() as u64 => Ok(k as usize),
                        Ok(0) if buf.is_empty() => Ok(0),
                        _ => Err(PyValueError::new_err(format!(
                            "write() returned {n} for a buffer of {} bytes",
                            buf.len()
                        ))),
                    }
                });
            match r {
                Ok(n) => Ok(n),
                Err(e) => {
                    let msg = e.to_string();
                    self.error = Some(e);
                    Err(std::io::Error::other(msg))
                }
            }
        })
    }

    /// Python's `flush()` runs once, at the end (`flush_py`).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn key_pair_request(
    key_id: Text,
    key_pair_spec: Text,
    encryption_context: Option<&Bound<'_, PyAny>>,
    grant_tokens: Option<StrList>,
) -> PyResult<GenerateDataKeyPairRequest> {
    Ok(GenerateDataKeyPairRequest {
        key_id: key_id.plain(),
        key_pair_spec: parse::<DataKeyPairSpec>(Some(key_pair_spec))?,
        encryption_context: context(encryption_context)?,
        grant_tokens: tokens(grant_tokens),
    })
}

fn data_key_request(
    key_id: Text,
    key_spec: Option<Text>,
    number_of_bytes: Option<&Bound<'_, PyAny>>,
    encryption_context: Option<&Bound<'_, PyAny>>,
    grant_tokens: Option<StrList>,
) -> PyResult<GenerateDataKeyRequest> {
    Ok(GenerateDataKeyRequest {
        key_id: key_id.plain(),
        key_spec: parse::<DataKeySpec>(key_spec)?,
        number_of_bytes: opt_u32("number_of_bytes", number_of_bytes)?,
        encryption_context: context(encryption_context)?,
        grant_tokens: tokens(grant_tokens),
    })
}

fn tag_list(tags: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<ApiTag>> {
    Ok(str_mapping("tags", tags)?
        .into_iter()
        .map(|(tag_key, tag_value)| ApiTag { tag_key, tag_value })
        .collect())
}

/// Reads only the header of the AWS Encryption SDK message at the start of
/// `src` (a binary file object, read until the header is parsed, at most
/// 4 MiB; or a bytes-like object) without unwrapping any key: the suite,
/// message ID, encryption context, encrypted data keys and frame length, all
/// untrusted until the message is decrypted. As the CLI's `decrypt-file
/// --show-header`.
///
/// Raises InvalidCiphertextException when no well-formed header is found,
/// and whatever `src.read` raises.
#[pyfunction]
fn read_header(py: Python<'_>, src: Bound<'_, PyAny>) -> PyResult<MessageHeader> {
    let limit = DecryptOptions::default().max_header_length;
    let header = if src.hasattr("read")? {
        let mut reader = PyReader::new(src.unbind());
        let r = py.detach(|| envelope::read_header(&mut reader, limit));
        match (r, reader.error.take()) {
            (Err(_), Some(e)) => return Err(e),
            (r, _) => r.map_err(kms)?,
        }
    } else {
        let data = bytes_like("src", &src)?;
        envelope::read_header(&mut data.as_slice(), limit).map_err(kms)?
    };
    MessageHeader::new(py, &header)
}

/// The native module. `strongroom/__init__.py` re-exports what users need.
#[pymodule]
fn _strongroom(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    m.add("ERROR_CODES", PyTuple::new(m.py(), codes)?)?;
    m.add_class::<Keystore>()?;
    m.add_function(wrap_pyfunction!(read_header, m)?)?;
    results::register(m)?;
    Ok(())
}
