//! Frozen result classes: the facade's response types with snake_case
//! attributes, bytes as `bytes`, dates as aware UTC `datetime`s, lists as
//! tuples and plaintext as `strongroom.SecretBytes` (whose repr hides it).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyTuple, PyType};
use pyo3::IntoPyObjectExt;
use strongroom::api;
use strongroom::Secret;

static SECRET_BYTES: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `strongroom.SecretBytes(plaintext)`: a `bytes` whose repr and str are redacted.
pub(crate) fn secret_bytes<'py>(py: Python<'py>, s: &Secret) -> PyResult<Bound<'py, PyAny>> {
    secret_bytes_of(py, &PyBytes::new(py, s.expose_secret()))
}

/// `strongroom.SecretBytes(b)`: a copy of `b` (a `bytes` subclass cannot
/// be built in place without the C API).
pub(crate) fn secret_bytes_of<'py>(
    py: Python<'py>,
    b: &Bound<'py, PyBytes>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = SECRET_BYTES.import(py, "strongroom._secret", "SecretBytes")?;
    cls.call1((b,))
}

fn bytes(py: Python<'_>, b: &[u8]) -> Py<PyAny> {
    PyBytes::new(py, b).into_any().unbind()
}

/// Unix seconds as an aware UTC `datetime.datetime`.
fn date(py: Python<'_>, secs: u64) -> PyResult<Py<PyAny>> {
    let dt = py.import("datetime")?;
    let utc = dt.getattr("timezone")?.getattr("utc")?;
    Ok(dt
        .getattr("datetime")?
        .call_method1("fromtimestamp", (secs, utc))?
        .unbind())
}

fn opt_date(py: Python<'_>, secs: Option<u64>) -> PyResult<Option<Py<PyAny>>> {
    secs.map(|s| date(py, s)).transpose()
}

fn strs(py: Python<'_>, v: &[String]) -> PyResult<Py<PyAny>> {
    Ok(PyTuple::new(py, v)?.into_any().unbind())
}

fn tuple_of<T, I>(py: Python<'_>, items: I) -> PyResult<Py<PyAny>>
where
    T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>,
    I: IntoIterator<Item = PyResult<T>>,
{
    let objs = items
        .into_iter()
        .map(|r| r.and_then(|v| Py::new(py, v)))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyTuple::new(py, objs)?.into_any().unbind())
}

/// `TypeError` if one of a result's `attributes` is plaintext
/// (`SecretBytes`): such a result is not pickled, as pyca/cryptography's
/// private keys are not, so that a process pool, a result backend or a disk
/// cache does not receive a data key or decrypted data in clear unasked.
fn refuse_pickling_plaintext(
    py: Python<'_>,
    class: &str,
    attributes: &Bound<'_, PyTuple>,
) -> PyResult<()> {
    let secret = SECRET_BYTES.import(py, "strongroom._secret", "SecretBytes")?;
    for a in attributes.iter() {
        if a.is_instance(secret)? {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "cannot pickle '{class}': it holds plaintext (SecretBytes), which a pickle \
                 stores in clear; pickle bytes() of that attribute explicitly if it must \
                 cross a process boundary"
            )));
        }
    }
    Ok(())
}

fn repr_of<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> PyResult<String>
where
    PyErr: From<T::Error>,
{
    Ok(v.into_bound_py_any(py)?.repr()?.to_string())
}

/// Declares a frozen result class with read-only attributes, a repr that
/// shows every attribute (plaintext fields are `SecretBytes`, redacted) and
/// the value semantics of a frozen dataclass: `==` compares the attributes
/// of two objects of the same class, `hash()` hashes them (a `TypeError`
/// when one is a `dict`, as for a frozen dataclass holding one),
/// `copy.copy` returns the object itself, `copy.deepcopy` copies every
/// attribute and `pickle` stores the attributes (a `TypeError` for one
/// holding plaintext).
macro_rules! result_class {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[pyclass(frozen, get_all, module = "strongroom")]
        pub(crate) struct $name {
            $($(#[$fm])* pub(crate) $field: $ty,)*
        }

        impl $name {
            /// The attributes, in declaration order, as a tuple.
            fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
                PyTuple::new(py, [$((&self.$field).into_bound_py_any(py)?),*])
            }
        }

        #[pymethods]
        impl $name {
            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let fields: Vec<String> = vec![
                    $(format!("{}={}", stringify!($field), repr_of(py, &self.$field)?),)*
                ];
                Ok(format!("{}({})", stringify!($name), fields.join(", ")))
            }

            fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                match other.cast::<$name>() {
                    Ok(o) => self.attributes(py)?.eq(o.get().attributes(py)?)?.into_py_any(py),
                    Err(_) => Ok(py.NotImplemented()),
                }
            }

            fn __ne__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                match other.cast::<$name>() {
                    Ok(o) => self.attributes(py)?.ne(o.get().attributes(py)?)?.into_py_any(py),
                    Err(_) => Ok(py.NotImplemented()),
                }
            }

            fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
                self.attributes(py)?.hash()
            }

            fn __copy__(slf: Py<Self>) -> Py<Self> {
                slf
            }

            /// Pickling: the class's `_from_attributes` with the attributes;
            /// a `TypeError` for a result holding plaintext (`SecretBytes`),
            /// which a pickle would write out in clear.
            fn __reduce__<'py>(
                slf: &Bound<'py, Self>,
            ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyTuple>,))> {
                let py = slf.py();
                let attributes = slf.get().attributes(py)?;
                refuse_pickling_plaintext(py, stringify!($name), &attributes)?;
                let rebuild = slf.get_type().getattr("_from_attributes")?;
                Ok((rebuild, (attributes,)))
            }

            /// The object with these attributes (in declaration order), as
            /// `__reduce__` gives them: what `pickle` calls to load one.
            #[classmethod]
            fn _from_attributes(
                _cls: &Bound<'_, PyType>,
                attributes: &Bound<'_, PyTuple>,
            ) -> PyResult<Self> {
                const NAMES: &[&str] = &[$(stringify!($field)),*];
                if attributes.len() != NAMES.len() {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "{} takes {} attributes, not {}",
                        stringify!($name),
                        NAMES.len(),
                        attributes.len()
                    )));
                }
                let mut values = attributes.iter();
                Ok($name {
                    $($field: values
                        .next()
                        .ok_or_else(|| pyo3::exceptions::PyTypeError::new_err("missing attribute"))?
                        .extract()?,)*
                })
            }

            fn __deepcopy__(&self, py: Python<'_>, memo: &Bound<'_, PyAny>) -> PyResult<Self> {
                let deepcopy = py.import("copy")?.getattr("deepcopy")?;
                Ok($name {
                    $($field: deepcopy
                        .call1(((&self.$field).into_bound_py_any(py)?, memo))?
                        .extract()?,)*
                })
            }
        }
    };
}

result_class! {
    /// KeyMetadata of CreateKey and DescribeKey.
    KeyMetadata {
        aws_account_id: String,
        key_id: String,
        arn: String,
        creation_date: Py<PyAny>,
        enabled: bool,
        description: String,
        key_usage: String,
        key_state: String,
        deletion_date: Option<Py<PyAny>>,
        valid_to: Option<Py<PyAny>>,
        origin: String,
        key_manager: String,
        customer_master_key_spec: String,
        key_spec: String,
        encryption_algorithms: Py<PyAny>,
        signing_algorithms: Py<PyAny>,
        mac_algorithms: Py<PyAny>,
        key_agreement_algorithms: Py<PyAny>,
        multi_region: bool,
        pending_deletion_window_in_days: Option<u32>,
        expiration_model: Option<String>,
    }
}

impl KeyMetadata {
    pub(crate) fn new(py: Python<'_>, m: api::KeyMetadata) -> PyResult<Self> {
        Ok(KeyMetadata {
            creation_date: date(py, m.creation_date)?,
            deletion_date: opt_date(py, m.deletion_date)?,
            valid_to: opt_date(py, m.valid_to)?,
            encryption_algorithms: strs(py, &m.encryption_algorithms)?,
            signing_algorithms: strs(py, &m.signing_algorithms)?,
            mac_algorithms: strs(py, &m.mac_algorithms)?,
            key_agreement_algorithms: strs(py, &m.key_agreement_algorithms)?,
            key_usage: m.key_usage.as_str().to_owned(),
            key_state: m.key_state.as_str().to_owned(),
            origin: m.origin.as_str().to_owned(),
            customer_master_key_spec: m.customer_master_key_spec.as_str().to_owned(),
            key_spec: m.key_spec.as_str().to_owned(),
            aws_account_id: m.aws_account_id,
            key_id: m.key_id,
            arn: m.arn,
            enabled: m.enabled,
            description: m.description,
            key_manager: m.key_manager,
            multi_region: m.multi_region,
            pending_deletion_window_in_days: m.pending_deletion_window_in_days,
            expiration_model: m.expiration_model,
        })
    }
}

result_class! {
    /// One entry of ListKeys.
    KeyListEntry { key_id: String, key_arn: String }
}

result_class! {
    /// A page of ListKeys: `keys` is a tuple of KeyListEntry.
    KeyList { keys: Py<PyAny>, next_marker: Option<String>, truncated: bool }
}

impl KeyList {
    pub(crate) fn new(py: Python<'_>, r: api::ListKeysResponse) -> PyResult<Self> {
        Ok(KeyList {
            keys: tuple_of(
                py,
                r.keys.into_iter().map(|k| {
                    Ok(KeyListEntry {
                        key_id: k.key_id,
                        key_arn: k.key_arn,
                    })
                }),
            )?,
            next_marker: r.next_marker,
            truncated: r.truncated,
        })
    }
}

result_class! {
    /// One entry of ListAliases.
    AliasListEntry {
        alias_name: String,
        alias_arn: String,
        target_key_id: String,
        creation_date: Py<PyAny>,
        last_updated_date: Py<PyAny>,
    }
}

result_class! {
    /// A page of ListAliases: `aliases` is a tuple of AliasListEntry.
    AliasList { aliases: Py<PyAny>, next_marker: Option<String>, truncated: bool }
}

impl AliasList {
    pub(crate) fn new(py: Python<'_>, r: api::ListAliasesResponse) -> PyResult<Self> {
        Ok(AliasList {
            aliases: tuple_of(
                py,
                r.aliases.into_iter().map(|a| {
                    Ok(AliasListEntry {
                        creation_date: date(py, a.creation_date)?,
                        last_updated_date: date(py, a.last_updated_date)?,
                        alias_name: a.alias_name,
                        alias_arn: a.alias_arn,
                        target_key_id: a.target_key_id,
                    })
                }),
            )?,
            next_marker: r.next_marker,
            truncated: r.truncated,
        })
    }
}

result_class! {
    /// A resource tag.
    Tag { tag_key: String, tag_value: String }
}

result_class! {
    /// A page of ListResourceTags: `tags` is a tuple of Tag.
    TagList { tags: Py<PyAny>, next_marker: Option<String>, truncated: bool }
}

impl TagList {
    pub(crate) fn new(py: Python<'_>, r: api::ListResourceTagsResponse) -> PyResult<Self> {
        Ok(TagList {
            tags: tuple_of(
                py,
                r.tags.into_iter().map(|t| {
                    Ok(Tag {
                        tag_key: t.tag_key,
                        tag_value: t.tag_value,
                    })
                }),
            )?,
            next_marker: r.next_marker,
            truncated: r.truncated,
        })
    }
}

result_class! {
    /// Result of ScheduleKeyDeletion.
    KeyDeletionSchedule {
        key_id: String,
        deletion_date: Py<PyAny>,
        key_state: String,
        pending_window_in_days: u32,
    }
}

impl KeyDeletionSchedule {
    pub(crate) fn new(py: Python<'_>, r: api::ScheduleKeyDeletionResponse) -> PyResult<Self> {
        Ok(KeyDeletionSchedule {
            deletion_date: date(py, r.deletion_date)?,
            key_state: r.key_state.as_str().to_owned(),
            key_id: r.key_id,
            pending_window_in_days: r.pending_window_in_days,
        })
    }
}

result_class! {
    /// Result of GetKeyRotationStatus.
    KeyRotationStatus {
        key_id: String,
        key_rotation_enabled: bool,
        rotation_period_in_days: Option<u32>,
        next_rotation_date: Option<Py<PyAny>>,
        on_demand_rotation_start_date: Option<Py<PyAny>>,
    }
}

impl KeyRotationStatus {
    pub(crate) fn new(py: Python<'_>, r: api::GetKeyRotationStatusResponse) -> PyResult<Self> {
        Ok(KeyRotationStatus {
            next_rotation_date: opt_date(py, r.next_rotation_date)?,
            on_demand_rotation_start_date: opt_date(py, r.on_demand_rotation_start_date)?,
            key_id: r.key_id,
            key_rotation_enabled: r.key_rotation_enabled,
            rotation_period_in_days: r.rotation_period_in_days,
        })
    }
}

result_class! {
    /// One completed rotation of ListKeyRotations.
    KeyRotation { key_id: String, rotation_date: Py<PyAny>, rotation_type: String }
}

result_class! {
    /// A page of ListKeyRotations: `rotations` is a tuple of KeyRotation.
    KeyRotationList { rotations: Py<PyAny>, next_marker: Option<String>, truncated: bool }
}

impl KeyRotationList {
    pub(crate) fn new(py: Python<'_>, r: api::ListKeyRotationsResponse) -> PyResult<Self> {
        Ok(KeyRotationList {
            rotations: tuple_of(
                py,
                r.rotations.into_iter().map(|x| {
                    Ok(KeyRotation {
                        rotation_date: date(py, x.rotation_date)?,
                        rotation_type: x.rotation_type.as_str().to_owned(),
                        key_id: x.key_id,
                    })
                }),
            )?,
            next_marker: r.next_marker,
            truncated: r.truncated,
        })
    }
}

result_class! {
    /// Result of Encrypt.
    EncryptResult { ciphertext_blob: Py<PyAny>, key_id: String, encryption_algorithm: String }
}

impl EncryptResult {
    pub(crate) fn new(py: Python<'_>, r: api::EncryptResponse) -> PyResult<Self> {
        Ok(EncryptResult {
            ciphertext_blob: bytes(py, &r.ciphertext_blob),
            key_id: r.key_id,
            encryption_algorithm: r.encryption_algorithm.as_str().to_owned(),
        })
    }
}

result_class! {
    /// Result of Decrypt; `plaintext` is SecretBytes.
    DecryptResult { key_id: String, plaintext: Py<PyAny>, encryption_algorithm: String }
}

impl DecryptResult {
    pub(crate) fn new(py: Python<'_>, r: api::DecryptResponse) -> PyResult<Self> {
        Ok(DecryptResult {
            plaintext: secret_bytes(py, &r.plaintext)?.unbind(),
            key_id: r.key_id,
            encryption_algorithm: r.encryption_algorithm.as_str().to_owned(),
        })
    }
}

result_class! {
    /// Result of ReEncrypt.
    ReEncryptResult {
        ciphertext_blob: Py<PyAny>,
        source_key_id: String,
        key_id: String,
        source_encryption_algorithm: String,
        destination_encryption_algorithm: String,
    }
}

impl ReEncryptResult {
    pub(crate) fn new(py: Python<'_>, r: api::ReEncryptResponse) -> PyResult<Self> {
        Ok(ReEncryptResult {
            ciphertext_blob: bytes(py, &r.ciphertext_blob),
            source_key_id: r.source_key_id,
            key_id: r.key_id,
            source_encryption_algorithm: r.source_encryption_algorithm.as_str().to_owned(),
            destination_encryption_algorithm: r
                .destination_encryption_algorithm
                .as_str()
                .to_owned(),
        })
    }
}

result_class! {
    /// Result of GenerateDataKey: the data key in plaintext (SecretBytes,
    /// redacted in repr) and encrypted under `key_id`.
    DataKey { ciphertext_blob: Py<PyAny>, plaintext: Py<PyAny>, key_id: String }
}

impl DataKey {
    pub(crate) fn new(py: Python<'_>, r: api::GenerateDataKeyResponse) -> PyResult<Self> {
        Ok(DataKey {
            ciphertext_blob: bytes(py, &r.ciphertext_blob),
            plaintext: secret_bytes(py, &r.plaintext)?.unbind(),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of GenerateDataKeyWithoutPlaintext.
    EncryptedDataKey { ciphertext_blob: Py<PyAny>, key_id: String }
}

impl EncryptedDataKey {
    pub(crate) fn new(
        py: Python<'_>,
        r: api::GenerateDataKeyWithoutPlaintextResponse,
    ) -> PyResult<Self> {
        Ok(EncryptedDataKey {
            ciphertext_blob: bytes(py, &r.ciphertext_blob),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of Sign.
    SignResult { key_id: String, signature: Py<PyAny>, signing_algorithm: String }
}

impl SignResult {
    pub(crate) fn new(py: Python<'_>, r: api::SignResponse) -> PyResult<Self> {
        Ok(SignResult {
            signature: bytes(py, &r.signature),
            signing_algorithm: r.signing_algorithm.as_str().to_owned(),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of Verify.
    VerifyResult { key_id: String, signature_valid: bool, signing_algorithm: String }
}

impl VerifyResult {
    pub(crate) fn new(r: api::VerifyResponse) -> PyResult<Self> {
        Ok(VerifyResult {
            signing_algorithm: r.signing_algorithm.as_str().to_owned(),
            signature_valid: r.signature_valid,
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of GetPublicKey: `public_key` is DER SubjectPublicKeyInfo.
    PublicKey {
        key_id: String,
        public_key: Py<PyAny>,
        customer_master_key_spec: String,
        key_spec: String,
        key_usage: String,
        encryption_algorithms: Py<PyAny>,
        signing_algorithms: Py<PyAny>,
        key_agreement_algorithms: Py<PyAny>,
    }
}

impl PublicKey {
    pub(crate) fn new(py: Python<'_>, r: api::GetPublicKeyResponse) -> PyResult<Self> {
        Ok(PublicKey {
            public_key: bytes(py, &r.public_key),
            customer_master_key_spec: r.customer_master_key_spec.as_str().to_owned(),
            key_spec: r.key_spec.as_str().to_owned(),
            key_usage: r.key_usage.as_str().to_owned(),
            encryption_algorithms: strs(py, &r.encryption_algorithms)?,
            signing_algorithms: strs(py, &r.signing_algorithms)?,
            key_agreement_algorithms: strs(py, &r.key_agreement_algorithms)?,
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of DeriveSharedSecret: `shared_secret` is the raw ECDH shared
    /// secret (SecretBytes, redacted in repr); `key_id` is the key ARN.
    SharedSecret {
        key_id: String,
        shared_secret: Py<PyAny>,
        key_agreement_algorithm: String,
        key_origin: String,
    }
}

impl SharedSecret {
    pub(crate) fn new(py: Python<'_>, r: api::DeriveSharedSecretResponse) -> PyResult<Self> {
        Ok(SharedSecret {
            shared_secret: secret_bytes(py, &r.shared_secret)?.unbind(),
            key_agreement_algorithm: r.key_agreement_algorithm.as_str().to_owned(),
            key_origin: r.key_origin.as_str().to_owned(),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of GenerateMac.
    MacResult { mac: Py<PyAny>, mac_algorithm: String, key_id: String }
}

impl MacResult {
    pub(crate) fn new(py: Python<'_>, r: api::GenerateMacResponse) -> PyResult<Self> {
        Ok(MacResult {
            mac: bytes(py, &r.mac),
            mac_algorithm: r.mac_algorithm.as_str().to_owned(),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of VerifyMac.
    VerifyMacResult { key_id: String, mac_valid: bool, mac_algorithm: String }
}

impl VerifyMacResult {
    pub(crate) fn new(r: api::VerifyMacResponse) -> PyResult<Self> {
        Ok(VerifyMacResult {
            mac_algorithm: r.mac_algorithm.as_str().to_owned(),
            mac_valid: r.mac_valid,
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of GenerateDataKeyPair: `private_key_plaintext` (PKCS#8 DER) is
    /// SecretBytes, redacted in repr; `public_key` is DER SubjectPublicKeyInfo.
    DataKeyPair {
        private_key_ciphertext_blob: Py<PyAny>,
        private_key_plaintext: Py<PyAny>,
        public_key: Py<PyAny>,
        key_id: String,
        key_pair_spec: String,
    }
}

impl DataKeyPair {
    pub(crate) fn new(py: Python<'_>, r: api::GenerateDataKeyPairResponse) -> PyResult<Self> {
        Ok(DataKeyPair {
            private_key_ciphertext_blob: bytes(py, &r.private_key_ciphertext_blob),
            private_key_plaintext: secret_bytes(py, &r.private_key_plaintext)?.unbind(),
            public_key: bytes(py, &r.public_key),
            key_pair_spec: r.key_pair_spec.as_str().to_owned(),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of GenerateDataKeyPairWithoutPlaintext.
    EncryptedDataKeyPair {
        private_key_ciphertext_blob: Py<PyAny>,
        public_key: Py<PyAny>,
        key_id: String,
        key_pair_spec: String,
    }
}

impl EncryptedDataKeyPair {
    pub(crate) fn new(
        py: Python<'_>,
        r: api::GenerateDataKeyPairWithoutPlaintextResponse,
    ) -> PyResult<Self> {
        Ok(EncryptedDataKeyPair {
            private_key_ciphertext_blob: bytes(py, &r.private_key_ciphertext_blob),
            public_key: bytes(py, &r.public_key),
            key_pair_spec: r.key_pair_spec.as_str().to_owned(),
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// Result of GetParametersForImport.
    ImportParameters {
        key_id: String,
        import_token: Py<PyAny>,
        public_key: Py<PyAny>,
        parameters_valid_to: Py<PyAny>,
    }
}

impl ImportParameters {
    pub(crate) fn new(py: Python<'_>, r: api::GetParametersForImportResponse) -> PyResult<Self> {
        Ok(ImportParameters {
            import_token: bytes(py, &r.import_token),
            public_key: bytes(py, &r.public_key),
            parameters_valid_to: date(py, r.parameters_valid_to)?,
            key_id: r.key_id,
        })
    }
}

result_class! {
    /// The encryption context constraints of a grant (CreateGrant's
    /// `Constraints`): each is `None` or a `dict[str, str]`.
    GrantConstraints {
        encryption_context_equals: Option<Py<PyAny>>,
        encryption_context_subset: Option<Py<PyAny>>,
    }
}

fn context_dict(py: Python<'_>, c: &strongroom::EncryptionContext) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    for (k, v) in c.iter() {
        d.set_item(k, v)?;
    }
    Ok(d.into_any().unbind())
}

result_class! {
    /// One grant (GrantListEntry of ListGrants and ListRetirableGrants).
    GrantListEntry {
        key_id: String,
        grant_id: String,
        name: Option<String>,
        creation_date: Py<PyAny>,
        grantee_principal: String,
        retiring_principal: Option<String>,
        issuing_account: String,
        operations: Py<PyAny>,
        constraints: Option<Py<GrantConstraints>>,
    }
}

result_class! {
    /// A page of ListGrants or ListRetirableGrants: `grants` is a tuple of GrantListEntry.
    GrantList { grants: Py<PyAny>, next_marker: Option<String>, truncated: bool }
}

impl GrantList {
    pub(crate) fn new(py: Python<'_>, r: api::ListGrantsResponse) -> PyResult<Self> {
        Ok(GrantList {
            grants: tuple_of(
                py,
                r.grants.into_iter().map(|g| {
                    let constraints = match g.constraints {
                        Some(c) => Some(Py::new(
                            py,
                            GrantConstraints {
                                encryption_context_equals: c
                                    .encryption_context_equals
                                    .map(|e| context_dict(py, &e))
                                    .transpose()?,
                                encryption_context_subset: c
                                    .encryption_context_subset
                                    .map(|e| context_dict(py, &e))
                                    .transpose()?,
                            },
                        )?),
                        None => None,
                    };
                    let operations: Vec<&str> = g.operations.iter().map(|o| o.as_str()).collect();
                    Ok(GrantListEntry {
                        creation_date: date(py, g.creation_date)?,
                        operations: PyTuple::new(py, operations)?.into_any().unbind(),
                        constraints,
                        key_id: g.key_id,
                        grant_id: g.grant_id,
                        name: g.name,
                        grantee_principal: g.grantee_principal,
                        retiring_principal: g.retiring_principal,
                        issuing_account: g.issuing_account,
                    })
                }),
            )?,
            next_marker: r.next_marker,
            truncated: r.truncated,
        })
    }
}

result_class! {
    /// Result of CreateGrant: the grant token works at once with `grant_tokens=`.
    CreateGrantResult { grant_token: String, grant_id: String }
}

result_class! {
    /// A page of ListKeyPolicies: `policy_names` is a tuple of str (always `("default",)`).
    KeyPolicyList { policy_names: Py<PyAny>, next_marker: Option<String>, truncated: bool }
}

impl KeyPolicyList {
    pub(crate) fn new(py: Python<'_>, r: api::ListKeyPoliciesResponse) -> PyResult<Self> {
        Ok(KeyPolicyList {
            policy_names: strs(py, &r.policy_names)?,
            next_marker: r.next_marker,
            truncated: r.truncated,
        })
    }
}

result_class! {
    /// Result of Keystore.verify_audit_log,
    /// Keystore.verify_audit_log_read_only and
    /// Keystore.verify_audit_log_archives: `records` verified (intent
    /// records included), the records the sealed checkpoint covers, `fault`
    /// (the first bad record of the log and why; None when the log
    /// verified), and `outcome_unknown`: a tuple of the `eventID`s (str) of
    /// the intent records with no outcome record after them (a crash
    /// between a change and its record; not a fault). Counts are over every
    /// record the log ever held; `first_record` is the number (1-based) of
    /// the current file's first record (after Keystore.rotate_audit_log,
    /// its RotateAuditLog record). `archives`: the archives checked by
    /// verify_audit_log_archives, oldest first, as a tuple of
    /// AuditLogRotation (path, record range, bytes, SHA-256; empty for the
    /// other calls); `archive_fault`: the first problem with them (a
    /// modified, truncated, missing or misordered archive: the file, the
    /// record number when there is one, and why), else None. `intact` is
    /// True when both `fault` and `archive_fault` are None.
    AuditVerification {
        records: u64,
        checkpoint_records: u64,
        first_record: u64,
        intact: bool,
        fault: Option<String>,
        outcome_unknown: Py<PyAny>,
        archives: Py<PyAny>,
        archive_fault: Option<String>,
    }
}

impl AuditVerification {
    pub(crate) fn new(py: Python<'_>, r: strongroom::AuditVerification) -> PyResult<Self> {
        Ok(AuditVerification {
            records: r.records,
            checkpoint_records: r.checkpoint_records,
            first_record: r.first_record,
            intact: r.fault.is_none() && r.archive_fault.is_none(),
            fault: r.fault.map(|f| f.to_string()),
            outcome_unknown: strs(py, &r.outcome_unknown)?,
            archives: tuple_of(
                py,
                r.archives.into_iter().map(|a| {
                    Ok(AuditLogRotation {
                        archive: a.path.to_string_lossy().into_owned(),
                        first_record: a.first_record,
                        last_record: a.last_record,
                        bytes: a.bytes,
                        sha256: a.sha256,
                    })
                }),
            )?,
            archive_fault: r.archive_fault.map(|f| f.to_string()),
        })
    }
}

result_class! {
    /// Result of Keystore.rotate_audit_log (and an element of
    /// AuditVerification.archives): the archive's path (str), the
    /// numbers (1-based, over every record the log ever held) of its first
    /// and last records, its length in bytes and its SHA-256 (64 lowercase
    /// hex digits).
    AuditLogRotation {
        archive: String,
        first_record: u64,
        last_record: u64,
        bytes: u64,
        sha256: String,
    }
}

impl AuditLogRotation {
    pub(crate) fn new(r: strongroom::AuditLogRotation) -> Self {
        AuditLogRotation {
            archive: r.archive.to_string_lossy().into_owned(),
            first_record: r.first_record,
            last_record: r.last_record,
            bytes: r.bytes,
            sha256: r.sha256,
        }
    }
}

result_class! {
    /// What an envelope encryption or decryption processed: byte counts and
    /// the message header (for decryption, authenticated once the call returns).
    EnvelopeSummary {
        plaintext_length: u64,
        message_length: u64,
        algorithm_suite_id: u16,
        algorithm_suite: String,
        encryption_context: Py<PyAny>,
        key_arns: Py<PyAny>,
        frame_length: u32,
        message_id: Py<PyAny>,
    }
}

impl EnvelopeSummary {
    pub(crate) fn new(py: Python<'_>, s: &strongroom::envelope::EnvelopeSummary) -> PyResult<Self> {
        let h = &s.header;
        let arns = kms_key_arns(h);
        Ok(EnvelopeSummary {
            plaintext_length: s.plaintext_len,
            message_length: s.message_len,
            algorithm_suite_id: h.suite.id(),
            algorithm_suite: h.suite.name().to_owned(),
            encryption_context: context_dict(py, &h.encryption_context)?,
            key_arns: strs(py, &arns)?,
            frame_length: h.frame_length,
            message_id: bytes(py, &h.message_id),
        })
    }
}

result_class! {
    /// The header of an AWS Encryption SDK message, as `read_header` found
    /// it: nothing is authenticated, so every field is untrusted.
    /// `encrypted_data_keys` holds `(provider_id, provider_info)` pairs;
    /// `key_arns` the provider info of the `aws-kms` ones;
    /// `content_type` is "Framed" or "NonFramed" (`frame_length` 0).
    MessageHeader {
        algorithm_suite_id: u16,
        algorithm_suite: String,
        message_format_version: u8,
        message_id: Py<PyAny>,
        encryption_context: Py<PyAny>,
        encrypted_data_keys: Py<PyAny>,
        key_arns: Py<PyAny>,
        content_type: String,
        frame_length: u32,
    }
}

impl MessageHeader {
    pub(crate) fn new(
        py: Python<'_>,
        h: &strongroom::core::envelope::MessageHeader,
    ) -> PyResult<Self> {
        let edks = h
            .encrypted_data_keys
            .iter()
            .map(|e| {
                PyTuple::new(
                    py,
                    [
                        e.provider_id.as_str().into_bound_py_any(py)?,
                        PyBytes::new(py, &e.provider_info).into_any(),
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        let content_type = match h.content_type {
            strongroom::core::envelope::ContentType::Framed => "Framed",
            strongroom::core::envelope::ContentType::NonFramed => "NonFramed",
        };
        Ok(MessageHeader {
            algorithm_suite_id: h.suite.id(),
            algorithm_suite: h.suite.name().to_owned(),
            message_format_version: h.suite.message_version(),
            message_id: bytes(py, &h.message_id),
            encryption_context: context_dict(py, &h.encryption_context)?,
            encrypted_data_keys: PyTuple::new(py, edks)?.into_any().unbind(),
            key_arns: strs(py, &kms_key_arns(h))?,
            content_type: content_type.to_owned(),
            frame_length: h.frame_length,
        })
    }
}

/// The key ARNs of a header's `aws-kms` encrypted data keys.
fn kms_key_arns(h: &strongroom::core::envelope::MessageHeader) -> Vec<String> {
    h.encrypted_data_keys
        .iter()
        .filter(|e| e.provider_id == strongroom::envelope::KMS_PROVIDER_ID)
        .map(|e| String::from_utf8_lossy(&e.provider_info).into_owned())
        .collect()
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<KeyMetadata>()?;
    m.add_class::<MessageHeader>()?;
    m.add_class::<KeyListEntry>()?;
    m.add_class::<KeyList>()?;
    m.add_class::<AliasListEntry>()?;
    m.add_class::<AliasList>()?;
    m.add_class::<Tag>()?;
    m.add_class::<TagList>()?;
    m.add_class::<KeyDeletionSchedule>()?;
    m.add_class::<KeyRotationStatus>()?;
    m.add_class::<KeyRotation>()?;
    m.add_class::<KeyRotationList>()?;
    m.add_class::<EncryptResult>()?;
    m.add_class::<DecryptResult>()?;
    m.add_class::<ReEncryptResult>()?;
    m.add_class::<DataKey>()?;
    m.add_class::<EncryptedDataKey>()?;
    m.add_class::<SignResult>()?;
    m.add_class::<VerifyResult>()?;
    m.add_class::<PublicKey>()?;
    m.add_class::<SharedSecret>()?;
    m.add_class::<MacResult>()?;
    m.add_class::<VerifyMacResult>()?;
    m.add_class::<DataKeyPair>()?;
    m.add_class::<EncryptedDataKeyPair>()?;
    m.add_class::<ImportParameters>()?;
    m.add_class::<GrantConstraints>()?;
    m.add_class::<GrantListEntry>()?;
    m.add_class::<GrantList>()?;
    m.add_class::<CreateGrantResult>()?;
    m.add_class::<KeyPolicyList>()?;
    m.add_class::<AuditVerification>()?;
    m.add_class::<AuditLogRotation>()?;
    m.add_class::<EnvelopeSummary>()?;
    Ok(())
}
