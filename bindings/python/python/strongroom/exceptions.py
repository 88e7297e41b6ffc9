"""Exceptions of Strongroom: one class per AWS KMS exception, with KMS's names.

Every failure of a keystore operation raises a subclass of :class:`KMSError`
whose name and ``code`` are the KMS exception name, so code that knows KMS
recognises each one. The native module raises these classes by name.

Arguments of the wrong Python type (``str`` where bytes are expected, a
non-mapping encryption context) raise ``TypeError``, as any Python function
does; a closed keystore raises ``ValueError``.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "KMSError",
    "AccessDeniedException",
    "AlreadyExistsException",
    "DisabledException",
    "DryRunOperationException",
    "ExpiredImportTokenException",
    "IncorrectKeyException",
    "IncorrectKeyMaterialException",
    "InvalidAliasNameException",
    "InvalidArnException",
    "InvalidCiphertextException",
    "InvalidGrantIdException",
    "InvalidGrantTokenException",
    "InvalidImportTokenException",
    "InvalidKeyUsageException",
    "InvalidMarkerException",
    "KMSInternalException",
    "KMSInvalidMacException",
    "KMSInvalidSignatureException",
    "KMSInvalidStateException",
    "KeyUnavailableException",
    "LimitExceededException",
    "MalformedPolicyDocumentException",
    "NotFoundException",
    "TagException",
    "UnsupportedOperationException",
    "ValidationException",
]


class KMSError(Exception):
    """Base class of every Strongroom failure.

    ``code`` is the KMS exception name (e.g. ``"NotFoundException"``) and
    ``message`` the human-readable text, which never contains key material.
    """

    code: str = "KMSError"

    def __init__(self, message: str = "", code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.message, self.code))



class AccessDeniedException(KMSError):
    """The principal may not perform the operation, or the root key does not open the keystore."""
    code = "AccessDeniedException"


class AlreadyExistsException(KMSError):
    """A resource with that name (keystore file, alias, grant name) already exists."""
    code = "AlreadyExistsException"


class DisabledException(KMSError):
    """The key is disabled."""
    code = "DisabledException"


class DryRunOperationException(KMSError):
    """A DryRun request would have succeeded."""
    code = "DryRunOperationException"


class ExpiredImportTokenException(KMSError):
    """The import token has expired."""
    code = "ExpiredImportTokenException"


class IncorrectKeyException(KMSError):
    """The ciphertext was not made with the key given as key_id."""
    code = "IncorrectKeyException"


class IncorrectKeyMaterialException(KMSError):
    """Imported key material differs from the material imported before."""
    code = "IncorrectKeyMaterialException"


class InvalidAliasNameException(KMSError):
    """The alias name is not valid."""
    code = "InvalidAliasNameException"


class InvalidArnException(KMSError):
    """The ARN is not valid."""
    code = "InvalidArnException"


class InvalidCiphertextException(KMSError):
    """The ciphertext, encryption context or key does not authenticate (no detail, by design)."""
    code = "InvalidCiphertextException"


class InvalidGrantIdException(KMSError):
    """The grant ID is not valid."""
    code = "InvalidGrantIdException"


class InvalidGrantTokenException(KMSError):
    """The grant token is not valid."""
    code = "InvalidGrantTokenException"


class InvalidImportTokenException(KMSError):
    """The import token is not valid."""
    code = "InvalidImportTokenException"


class InvalidKeyUsageException(KMSError):
    """The key's usage or spec does not allow the operation."""
    code = "InvalidKeyUsageException"


class InvalidMarkerException(KMSError):
    """The pagination marker is not valid."""
    code = "InvalidMarkerException"


class KMSInternalException(KMSError):
    """An internal failure (storage, I/O, a tampered keystore); the message says which."""
    code = "KMSInternalException"


class KMSInvalidMacException(KMSError):
    """The MAC does not verify."""
    code = "KMSInvalidMacException"


class KMSInvalidSignatureException(KMSError):
    """The signature does not verify."""
    code = "KMSInvalidSignatureException"


class KMSInvalidStateException(KMSError):
    """The key's state does not allow the operation."""
    code = "KMSInvalidStateException"


class KeyUnavailableException(KMSError):
    """The key cannot be used right now."""
    code = "KeyUnavailableException"


class LimitExceededException(KMSError):
    """A limit (rotations, grants, ...) would be exceeded."""
    code = "LimitExceededException"


class MalformedPolicyDocumentException(KMSError):
    """The key policy document is malformed."""
    code = "MalformedPolicyDocumentException"


class NotFoundException(KMSError):
    """The key, alias, grant or keystore does not exist."""
    code = "NotFoundException"


class TagException(KMSError):
    """A tag is not valid."""
    code = "TagException"


class UnsupportedOperationException(KMSError):
    """The operation is not supported for this key."""
    code = "UnsupportedOperationException"


class ValidationException(KMSError):
    """A parameter is missing, malformed or out of range."""
    code = "ValidationException"
