//! The one error type of Strongroom. Its kinds are the AWS KMS exception
//! names, so that a user who knows KMS recognises every failure.

use alloc::string::{String, ToString};
use core::fmt;

macro_rules! error_kinds {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// The kind of a failure: one variant per AWS KMS exception, spelled as KMS spells it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[allow(clippy::enum_variant_names)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[$doc])* $name,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$name,)*];

            /// The exact AWS KMS exception name, e.g. `"NotFoundException"`.
            pub const fn code(self) -> &'static str {
                match self { $(ErrorKind::$name => stringify!($name),)* }
            }

            /// The kind whose [`code`](Self::code) is `code`, if any.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $(stringify!($name) => Some(ErrorKind::$name),)* _ => None }
            }
        }
    };
}

error_kinds! {
    /// The principal is not allowed to perform the operation on the key.
    AccessDeniedException,
    /// A resource with that name (alias, grant name) already exists.
    AlreadyExistsException,
    /// The key is disabled.
    DisabledException,
    /// A DryRun request would have succeeded.
    DryRunOperationException,
    /// The import token has expired.
    ExpiredImportTokenException,
    /// The ciphertext was not made with the key given as KeyId.
    IncorrectKeyException,
    /// Imported key material differs from the material imported before.
    IncorrectKeyMaterialException,
    /// The alias name is not valid.
    InvalidAliasNameException,
    /// The ARN is not valid.
    InvalidArnException,
    /// The ciphertext, encryption context or key does not authenticate (no detail, by design).
    InvalidCiphertextException,
    /// The grant ID is not valid.
    InvalidGrantIdException,
    /// The grant token is not valid.
    InvalidGrantTokenException,
    /// The import token is not valid.
    InvalidImportTokenException,
    /// The key's usage or spec does not allow the operation.
    InvalidKeyUsageException,
    /// The pagination marker is not valid.
    InvalidMarkerException,
    /// An internal failure (storage, I/O, a bug); the message says which.
    KMSInternalException,
    /// The MAC does not verify.
    KMSInvalidMacException,
    /// The signature does not verify.
    KMSInvalidSignatureException,
    /// The key's state does not allow the operation.
    KMSInvalidStateException,
    /// The key cannot be used right now.
    KeyUnavailableException,
    /// A limit (rotations, grants, …) would be exceeded.
    LimitExceededException,
    /// The key policy document is malformed.
    MalformedPolicyDocumentException,
    /// The key, alias or grant does not exist.
    NotFoundException,
    /// A tag is not valid.
    TagException,
    /// The operation is not supported for this key.
    UnsupportedOperationException,
    /// A parameter is missing, malformed or out of range.
    ValidationException,
}

/// A Strongroom failure: a KMS exception kind and a human-readable message.
///
/// Messages never contain key material or plaintext. Decryption failures
/// carry one fixed message so that they cannot be used as an oracle.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind (KMS exception).
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The KMS exception name, e.g. `"InvalidCiphertextException"`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message, without the exception name.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `ValidationException` with `message`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ValidationException, message)
    }

    /// `NotFoundException` with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFoundException, message)
    }

    /// `Ok(None)` for a `NotFoundException`, `Ok(Some(v))` for `Ok(v)`, and
    /// every other error as it is: for lookups where a missing item is
    /// expected but any other failure (e.g. a record that fails
    /// authentication) must not be mistaken for one.
    ///
    /// # Errors
    /// `result`'s error unless it is `NotFoundException`.
    pub fn unless_not_found<T>(result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == ErrorKind::NotFoundException => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `KMSInternalException` with `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::KMSInternalException, message)
    }

    /// The one, detail-free `InvalidCiphertextException` of every decryption failure.
    pub fn invalid_ciphertext() -> Self {
        Self::new(
            ErrorKind::InvalidCiphertextException,
            "the ciphertext, encryption context or key is not valid".to_string(),
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
impl std::error::Error for Error {}
