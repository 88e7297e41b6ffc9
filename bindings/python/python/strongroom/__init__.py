"""Strongroom: embeddable key management with the AWS KMS model.

Keys live sealed under a root key in one SQLite file; every operation has
the AWS KMS name, parameters and exceptions::

    import strongroom

    with strongroom.Keystore.create("keys.db", root_key=os.urandom(32)) as ks:
        key = ks.create_key(description="orders")
        blob = ks.encrypt(key.key_id, b"secret", encryption_context={"order": "42"})
        plain = ks.decrypt(blob.ciphertext_blob, encryption_context={"order": "42"})
        assert plain.plaintext == b"secret"

``strongroom.client(keystore)`` returns a drop-in for boto3's KMS client.
"""

from __future__ import annotations

from ._secret import SecretBytes
from ._strongroom import (
    DataKeyPair,
    EncryptedDataKeyPair,
    ImportParameters,
    MacResult,
    PublicKey,
    SignResult,
    VerifyMacResult,
    VerifyResult,
    AliasList,
    AliasListEntry,
    DataKey,
    DecryptResult,
    EncryptedDataKey,
    EncryptResult,
    KeyDeletionSchedule,
    KeyList,
    KeyListEntry,
    KeyMetadata,
    KeyRotation,
    KeyRotationList,
    KeyRotationStatus,
    Keystore,
    ReEncryptResult,
    Tag,
    TagList,
    __version__,
)
from .boto import Client, client
from .exceptions import (
    AccessDeniedException,
    AlreadyExistsException,
    DisabledException,
    DryRunOperationException,
    ExpiredImportTokenException,
    IncorrectKeyException,
    IncorrectKeyMaterialException,
    InvalidAliasNameException,
    InvalidArnException,
    InvalidCiphertextException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    InvalidImportTokenException,
    InvalidKeyUsageException,
    InvalidMarkerException,
    KeyUnavailableException,
    KMSError,
    KMSInternalException,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    KMSInvalidStateException,
    LimitExceededException,
    MalformedPolicyDocumentException,
    NotFoundException,
    TagException,
    UnsupportedOperationException,
    ValidationException,
)

__all__ = [
    "__version__",
    "Keystore",
    "SecretBytes",
    "Client",
    "client",
    # results
    "DataKeyPair",
    "EncryptedDataKeyPair",
    "ImportParameters",
    "MacResult",
    "PublicKey",
    "SignResult",
    "VerifyMacResult",
    "VerifyResult",
    "AliasList",
    "AliasListEntry",
    "DataKey",
    "DecryptResult",
    "EncryptedDataKey",
    "EncryptResult",
    "KeyDeletionSchedule",
    "KeyList",
    "KeyListEntry",
    "KeyMetadata",
    "KeyRotation",
    "KeyRotationList",
    "KeyRotationStatus",
    "ReEncryptResult",
    "Tag",
    "TagList",
    # exceptions
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
