"""Type stubs of the native module ``strongroom._strongroom`` (checked by mypy.stubtest)."""

import os
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Mapping, Optional, Protocol, Sequence, Tuple, Type, Union, final

from typing_extensions import Buffer, Self

from ._secret import SecretBytes
from .boto import Client

__all__ = [
    "AliasList",
    "AliasListEntry",
    "DataKey",
    "DecryptResult",
    "EncryptResult",
    "EncryptedDataKey",
    "ERROR_CODES",
    "KeyDeletionSchedule",
    "KeyList",
    "KeyListEntry",
    "KeyMetadata",
    "KeyRotation",
    "KeyRotationList",
    "KeyRotationStatus",
    "Keystore",
    "ReEncryptResult",
    "Tag",
    "TagList",
    "__version__",
    "SignResult",
    "VerifyResult",
    "PublicKey",
    "SharedSecret",
    "MacResult",
    "VerifyMacResult",
    "DataKeyPair",
    "EncryptedDataKeyPair",
    "ImportParameters",
    "GrantConstraints",
    "GrantListEntry",
    "GrantList",
    "CreateGrantResult",
    "KeyPolicyList",
    "AuditLogRotation",
    "AuditVerification",
    "EnvelopeSummary",
    "MessageHeader",
    "read_header",
]

__version__: str
ERROR_CODES: Tuple[str, ...]

_BytesLike = Buffer
_StrPath = Union[str, "os.PathLike[str]"]

class _BinaryReader(Protocol):
    def read(self, size: int, /) -> Optional[Buffer]: ...

class _BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> Optional[int]: ...

@final
class KeyMetadata:
    """KeyMetadata of CreateKey and DescribeKey."""

    @property
    def aws_account_id(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def creation_date(self) -> datetime: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def description(self) -> str: ...
    @property
    def key_usage(self) -> str: ...
    @property
    def key_state(self) -> str: ...
    @property
    def deletion_date(self) -> Optional[datetime]: ...
    @property
    def valid_to(self) -> Optional[datetime]: ...
    @property
    def origin(self) -> str: ...
    @property
    def key_manager(self) -> str: ...
    @property
    def customer_master_key_spec(self) -> str: ...
    @property
    def key_spec(self) -> str: ...
    @property
    def encryption_algorithms(self) -> Tuple[str, ...]: ...
    @property
    def signing_algorithms(self) -> Tuple[str, ...]: ...
    @property
    def mac_algorithms(self) -> Tuple[str, ...]: ...
    @property
    def key_agreement_algorithms(self) -> Tuple[str, ...]: ...
    @property
    def multi_region(self) -> bool: ...
    @property
    def pending_deletion_window_in_days(self) -> Optional[int]: ...
    @property
    def expiration_model(self) -> Optional[str]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyListEntry:
    @property
    def key_id(self) -> str: ...
    @property
    def key_arn(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyList:
    @property
    def keys(self) -> Tuple[KeyListEntry, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class AliasListEntry:
    @property
    def alias_name(self) -> str: ...
    @property
    def alias_arn(self) -> str: ...
    @property
    def target_key_id(self) -> str: ...
    @property
    def creation_date(self) -> datetime: ...
    @property
    def last_updated_date(self) -> datetime: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class AliasList:
    @property
    def aliases(self) -> Tuple[AliasListEntry, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class Tag:
    @property
    def tag_key(self) -> str: ...
    @property
    def tag_value(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class TagList:
    @property
    def tags(self) -> Tuple[Tag, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyDeletionSchedule:
    @property
    def key_id(self) -> str: ...
    @property
    def deletion_date(self) -> datetime: ...
    @property
    def key_state(self) -> str: ...
    @property
    def pending_window_in_days(self) -> int: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyRotationStatus:
    @property
    def key_id(self) -> str: ...
    @property
    def key_rotation_enabled(self) -> bool: ...
    @property
    def rotation_period_in_days(self) -> Optional[int]: ...
    @property
    def next_rotation_date(self) -> Optional[datetime]: ...
    @property
    def on_demand_rotation_start_date(self) -> Optional[datetime]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyRotation:
    @property
    def key_id(self) -> str: ...
    @property
    def rotation_date(self) -> datetime: ...
    @property
    def rotation_type(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyRotationList:
    @property
    def rotations(self) -> Tuple[KeyRotation, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class EncryptResult:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def key_id(self) -> str: ...
    @property
    def encryption_algorithm(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class DecryptResult:
    @property
    def key_id(self) -> str: ...
    @property
    def plaintext(self) -> SecretBytes: ...
    @property
    def encryption_algorithm(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class ReEncryptResult:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def source_key_id(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def source_encryption_algorithm(self) -> str: ...
    @property
    def destination_encryption_algorithm(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class DataKey:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def plaintext(self) -> SecretBytes: ...
    @property
    def key_id(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class EncryptedDataKey:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def key_id(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class SignResult:
    @property
    def key_id(self) -> str: ...
    @property
    def signature(self) -> bytes: ...
    @property
    def signing_algorithm(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class VerifyResult:
    @property
    def key_id(self) -> str: ...
    @property
    def signature_valid(self) -> bool: ...
    @property
    def signing_algorithm(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class PublicKey:
    @property
    def key_id(self) -> str: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def customer_master_key_spec(self) -> str: ...
    @property
    def key_spec(self) -> str: ...
    @property
    def key_usage(self) -> str: ...
    @property
    def encryption_algorithms(self) -> Tuple[str, ...]: ...
    @property
    def signing_algorithms(self) -> Tuple[str, ...]: ...
    @property
    def key_agreement_algorithms(self) -> Tuple[str, ...]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class SharedSecret:
    """Result of DeriveSharedSecret; `shared_secret` is SecretBytes (redacted in repr)."""
    @property
    def key_id(self) -> str: ...
    @property
    def shared_secret(self) -> SecretBytes: ...
    @property
    def key_agreement_algorithm(self) -> str: ...
    @property
    def key_origin(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class MacResult:
    @property
    def mac(self) -> bytes: ...
    @property
    def mac_algorithm(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class VerifyMacResult:
    @property
    def key_id(self) -> str: ...
    @property
    def mac_valid(self) -> bool: ...
    @property
    def mac_algorithm(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class DataKeyPair:
    @property
    def private_key_ciphertext_blob(self) -> bytes: ...
    @property
    def private_key_plaintext(self) -> SecretBytes: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def key_id(self) -> str: ...
    @property
    def key_pair_spec(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class EncryptedDataKeyPair:
    @property
    def private_key_ciphertext_blob(self) -> bytes: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def key_id(self) -> str: ...
    @property
    def key_pair_spec(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class ImportParameters:
    @property
    def key_id(self) -> str: ...
    @property
    def import_token(self) -> bytes: ...
    @property
    def public_key(self) -> bytes: ...
    @property
    def parameters_valid_to(self) -> datetime: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class GrantConstraints:
    """Encryption context constraints of a grant."""

    @property
    def encryption_context_equals(self) -> Optional[dict[str, str]]: ...
    @property
    def encryption_context_subset(self) -> Optional[dict[str, str]]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class GrantListEntry:
    """One grant of ListGrants / ListRetirableGrants."""

    @property
    def key_id(self) -> str: ...
    @property
    def grant_id(self) -> str: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def creation_date(self) -> datetime: ...
    @property
    def grantee_principal(self) -> str: ...
    @property
    def retiring_principal(self) -> Optional[str]: ...
    @property
    def issuing_account(self) -> str: ...
    @property
    def operations(self) -> Tuple[str, ...]: ...
    @property
    def constraints(self) -> Optional[GrantConstraints]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class GrantList:
    """A page of ListGrants or ListRetirableGrants."""

    @property
    def grants(self) -> Tuple[GrantListEntry, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class CreateGrantResult:
    """Result of CreateGrant."""

    @property
    def grant_token(self) -> str: ...
    @property
    def grant_id(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class KeyPolicyList:
    """A page of ListKeyPolicies."""

    @property
    def policy_names(self) -> Tuple[str, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class AuditVerification:
    """
    Result of Keystore.verify_audit_log, Keystore.verify_audit_log_read_only
    and Keystore.verify_audit_log_archives (archives, archive_fault).
    """

    @property
    def records(self) -> int: ...
    @property
    def checkpoint_records(self) -> int: ...
    @property
    def first_record(self) -> int: ...
    @property
    def intact(self) -> bool: ...
    @property
    def fault(self) -> Optional[str]: ...
    @property
    def outcome_unknown(self) -> Tuple[str, ...]: ...
    @property
    def archives(self) -> Tuple[AuditLogRotation, ...]: ...
    @property
    def archive_fault(self) -> Optional[str]: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class AuditLogRotation:
    """Result of Keystore.rotate_audit_log: the archive and the records it holds."""

    @property
    def archive(self) -> str: ...
    @property
    def first_record(self) -> int: ...
    @property
    def last_record(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class EnvelopeSummary:
    """What an envelope encryption or decryption processed, and the message header."""

    @property
    def plaintext_length(self) -> int: ...
    @property
    def message_length(self) -> int: ...
    @property
    def algorithm_suite_id(self) -> int: ...
    @property
    def algorithm_suite(self) -> str: ...
    @property
    def encryption_context(self) -> dict[str, str]: ...
    @property
    def key_arns(self) -> Tuple[str, ...]: ...
    @property
    def frame_length(self) -> int: ...
    @property
    def message_id(self) -> bytes: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

@final
class MessageHeader:
    """The header of an AWS Encryption SDK message (untrusted: nothing is authenticated)."""

    @property
    def algorithm_suite_id(self) -> int: ...
    @property
    def algorithm_suite(self) -> str: ...
    @property
    def message_format_version(self) -> int: ...
    @property
    def message_id(self) -> bytes: ...
    @property
    def encryption_context(self) -> dict[str, str]: ...
    @property
    def encrypted_data_keys(self) -> Tuple[Tuple[str, bytes], ...]: ...
    @property
    def key_arns(self) -> Tuple[str, ...]: ...
    @property
    def content_type(self) -> str: ...
    @property
    def frame_length(self) -> int: ...
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any) -> Self: ...
    def __reduce__(self) -> Tuple[Any, Tuple[Tuple[Any, ...]]]: ...

def read_header(src: Union[_BinaryReader, _BytesLike]) -> MessageHeader:
    """The header of the message at the start of ``src`` (a binary file
    object or bytes), without unwrapping any key. Raises
    InvalidCiphertextException when there is no well-formed header."""

@final
class Keystore:
    """A keystore file; every method releases the GIL while it runs."""

    @staticmethod
    def create(
        path: _StrPath,
        *,
        root_key: Union[str, _BytesLike, None] = None,
        root_key_file: Optional[_StrPath] = None,
        root_key_env: Optional[str] = None,
        passphrase: Union[str, _BytesLike, None] = None,
        region: str = "local-1",
        account: str = "000000000000",
        audit_write_mode: Literal["write-through", "write-behind"] = "write-through",
        anchor: Optional[_StrPath] = None,
    ) -> Keystore:
        """
        Creates a new keystore file at `path`.

        Give exactly one root-key source: `root_key` (32 bytes, or a `str`
        holding their base64 or hex text; any other `str`, such as a
        password, is a ValidationException: use `passphrase`), `root_key_file` (a file holding either), `root_key_env`
        (the name of an environment variable holding the text) or `passphrase`
        (str or bytes; stretched with Argon2id, 64 MiB, 3 passes).
        `region` and `account` (12 digits) appear in key ARNs.
        `audit_write_mode` is how this handle writes audit events of read-only
        operations: "write-through" (default; each is in the log before its call
        returns) or "write-behind" (queued in memory and written in batches of
        up to 256 events or 100 ms, before any management event, on close and
        on garbage collection; a process crash loses the queued events).
        `anchor`: the path of an external anchor file of the keystore's
        integrity state, created with it (see `open`).

        Raises AlreadyExistsException if `path` or its audit log exists (an
        earlier keystore's history: move it away first), a non-empty SQLite
        `-wal`/`-journal` file of an earlier keystore is beside it, or the anchor file
        already holds a record (remove it first to replace it), ValidationException for a
        malformed root key, region, account or audit_write_mode, or a directory of
        `path` that is missing or not writable, KMSInternalException
        on other I/O failures.
        """
    @staticmethod
    def open(
        path: _StrPath,
        *,
        root_key: Union[str, _BytesLike, None] = None,
        root_key_file: Optional[_StrPath] = None,
        root_key_env: Optional[str] = None,
        passphrase: Union[str, _BytesLike, None] = None,
        audit_write_mode: Literal["write-through", "write-behind"] = "write-through",
        anchor: Union[_StrPath, Literal[False], None] = None,
        anchor_init: bool = False,
        anchor_reinit: bool = False,
        principal: Optional[str] = None,
    ) -> Keystore:
        """
        Opens an existing keystore with its root key (one source, as for `create`).
        `audit_write_mode` as for `create`. `anchor`: the path of the
        keystore's external anchor file (docs/FORMAT.md, "Keystore anchor"),
        checked on open and by every write and verification, and moved
        forward by every write; a missing anchor file is refused unless
        `anchor_init` is true (then it is created from the keystore as it is:
        trust on first use). `anchor_reinit`: re-anchor an anchored keystore
        whose anchor is lost with `anchor`, which must hold no record (the
        keystore gets a new anchor ID, so every earlier anchor is refused
        after; audited as `ReinitializeKeystoreAnchor`); `anchor_init` alone
        does not re-anchor an anchored keystore (KMSInvalidStateException).
        A keystore opened with an anchor (or created
        with one) is anchored: it then opens only with its anchor, or with
        `anchor=False`, which opens it without the anchor (audited as
        `OpenKeystoreWithoutAnchor`; this handle neither checks nor moves the
        anchor, so its writes on a keystore file put back to an earlier
        state make the rollback pass: for recovery only). `principal`: the
        principal ARN the returned handle acts for (as `as_principal()`;
        default the keystore's administrator), already for the events the
        open itself records (`AnchorKeystore`, `ReinitializeKeystoreAnchor`,
        `OpenKeystoreWithoutAnchor`), which are audited as it.

        Raises NotFoundException if there is no keystore at `path`,
        AccessDeniedException if the root key is not this keystore's,
        ValidationException naming `path` if it is a directory, for a
        passphrase keystore given a root key (whatever it holds; its
        passphrase opens it) or the other way round,
        KMSInvalidStateException if the keystore is anchored and no `anchor`
        is given, or the anchor is not the keystore's (it holds no record,
        without `anchor_reinit`, or another anchor ID), KMSInternalException
        if the file fails authentication or
        is behind the anchor (put back to an earlier state), the anchor is
        missing or fails authentication, or the audit log is missing while
        the sealed checkpoint covers records (the keystore opened by another
        name, such as a hard link, or its log deleted; nothing is created),
        ValidationException for an unknown
        `audit_write_mode`, `anchor_init` or `anchor_reinit` without
        `anchor`, `anchor=True`, an anchor that is not a regular file, or a
        `principal` that is not a principal ARN (raised before anything is
        written: no anchor is created, no event recorded).
        """
    @staticmethod
    def verify_audit_log_read_only(
        path: _StrPath,
        *,
        root_key: Union[str, _BytesLike, None] = None,
        root_key_file: Optional[_StrPath] = None,
        root_key_env: Optional[str] = None,
        passphrase: Union[str, _BytesLike, None] = None,
        anchor: Union[_StrPath, Literal[False], None] = None,
    ) -> AuditVerification:
        """
        Verifies the audit log of the keystore at `path` as `verify_audit_log`
        does, without opening a handle and writing nothing (the CLI's
        `strongroom audit verify`): for a keystore and log this process cannot
        or must not write (a read-only file system or files, a copy kept as
        evidence), and for one that other handles or processes have open
        (their latest commits, still in the `-wal` file, are read). Nothing is
        flushed first, so records past the sealed checkpoint are checked by
        the chain alone; the integrity state is checked against `anchor`
        without moving or creating it; no audit event is appended. The
        keystore, its WAL, its audit log and its anchor are never written; while
        a `-wal` file exists (a writer has the keystore open, or crashed),
        SQLite may create or update the shared-memory index `-shm` beside it,
        as for any reader. A log that
        does not verify gives `intact=False` and the `fault` that
        `verify_audit_log` reports.

        Root key: one source, as for `open`. `anchor`: the anchor file of an
        anchored keystore (a missing one is an error: nothing is initialised
        here), or False to verify without checking the anchor.

        Raises NotFoundException (no keystore at `path`),
        ValidationException (`path` is a directory),
        AccessDeniedException (not this keystore's root key),
        KMSInvalidStateException (anchored, and no `anchor` given or not its
        anchor), KMSInternalException (the keystore or its checkpoint fails
        authentication, the keystore is behind its anchor, the anchor is
        missing or fails authentication, an older format version, the log or
        a `-wal` file cannot be read), ValidationException (malformed root
        key, `anchor=True`, an anchor that is one of the keystore's files or
        not a regular file), TypeError (not exactly one root-key source).
        """
    def close(self) -> None:
        """
        Closes the keystore; later calls raise ValueError. Idempotent. The
        handles made from this one by `as_principal()` and `dry_run()` (and
        from those) are closed with it; closing one of them leaves this one
        open.
        """
    @property
    def closed(self) -> bool:
        """
        True once `close()` has been called.
        """
    @property
    def path(self) -> Path:
        """
        The keystore file's path.
        """
    @property
    def region(self) -> str:
        """
        Region used in ARNs.
        """
    @property
    def account(self) -> str:
        """
        12-digit account ID used in ARNs.
        """
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        *_args: Union[Type[BaseException], BaseException, TracebackType, None],
    ) -> bool: ...
    def client(self) -> Client:
        """
        A client with the boto3 KMS client's method names, parameters,
        responses and exceptions (`strongroom.client(self)`).
        """
    def verify_digest(self) -> None:
        """
        Checks that the key, alias and grant records and the audit
        checkpoint are exactly those Strongroom last wrote (the keystore
        integrity state; `open` checks it too).

        Raises KMSInternalException when the keystore file was tampered with.
        """
    def anchor_status(self) -> dict[str, Any]:
        """
        Whether the keystore is anchored and where its anchor stands, as a
        dict: `Anchored` (bool, as stored in the keystore), `AnchorGiven`
        (this handle was opened with `anchor=`), `KeystoreCounter` (the
        integrity state's write counter), `AnchorCounter` (the anchor's, or
        None without an anchor) and `AnchorBehind` (the anchor holds an
        earlier state; None without an anchor). Not audited.

        Raises KMSInternalException if the keystore or the anchor fails
        authentication or cannot be read.
        """
    def remove_anchor(self) -> None:
        """
        Removes the keystore's anchoring: it then opens without an anchor,
        and a rollback of its file is no longer detected. Needs this handle
        opened with the anchor (`anchor=`), which is checked again first.
        Audited as `RemoveKeystoreAnchor`. The anchor file is left in place;
        opening with `anchor=` again anchors the keystore again.

        Raises ValidationException on a handle opened without the anchor,
        KMSInternalException if the keystore is behind the anchor.
        """
    def purge_deleted_keys(self) -> int:
        """
        Deletes every key whose deletion window has passed, with its aliases;
        returns how many. (Keys are also purged lazily when used.)

        Raises KMSInternalException on storage or authentication failure.
        """
    # key management
    def create_key(
        self,
        *,
        description: Optional[str] = None,
        key_spec: Optional[str] = None,
        key_usage: Optional[str] = None,
        origin: Optional[str] = None,
        policy: Optional[str] = None,
        bypass_policy_lockout_safety_check: bool = False,
        tags: Optional[Mapping[str, str]] = None,
        multi_region: Optional[bool] = None,
        customer_master_key_spec: Optional[str] = None,
    ) -> KeyMetadata:
        """
        CreateKey. `key_spec` e.g. "SYMMETRIC_DEFAULT", `key_usage` e.g.
        "ENCRYPT_DECRYPT", `tags` a mapping of tag keys to values.
        Returns the new key's KeyMetadata.

        Raises ValidationException, TagException, MalformedPolicyDocumentException,
        UnsupportedOperationException.
        """
    def describe_key(self, key_id: str, *, grant_tokens: Optional[Sequence[str]] = None) -> KeyMetadata:
        """
        DescribeKey by key ID, key ARN, alias name or alias ARN;
        `grant_tokens` (at most 10) are checked as Encrypt's are.

        Raises NotFoundException, InvalidArnException, ValidationException,
        InvalidGrantTokenException.
        """
    def list_keys(self, *, limit: Optional[int] = None, marker: Optional[str] = None) -> KeyList:
        """
        ListKeys: one page of at most `limit` (1–1000, default 100) keys after `marker`.

        Raises ValidationException, InvalidMarkerException.
        """
    def update_key_description(self, key_id: str, description: str) -> None:
        """
        UpdateKeyDescription.

        Raises NotFoundException, ValidationException, KMSInvalidStateException.
        """
    def enable_key(self, key_id: str) -> None:
        """
        EnableKey.

        Raises NotFoundException, KMSInvalidStateException.
        """
    def disable_key(self, key_id: str) -> None:
        """
        DisableKey.

        Raises NotFoundException, KMSInvalidStateException.
        """
    def schedule_key_deletion(
        self, key_id: str, *, pending_window_in_days: Optional[int] = None
    ) -> KeyDeletionSchedule:
        """
        ScheduleKeyDeletion after `pending_window_in_days` (7–30, default 30).

        Raises ValidationException, NotFoundException, KMSInvalidStateException.
        """
    def cancel_key_deletion(self, key_id: str) -> str:
        """
        CancelKeyDeletion; the key becomes Disabled. Returns the key ARN.

        Raises NotFoundException, KMSInvalidStateException.
        """
    def enable_key_rotation(self, key_id: str, *, rotation_period_in_days: Optional[int] = None) -> None:
        """
        EnableKeyRotation every `rotation_period_in_days` (90–2560, default 365).

        Raises ValidationException, NotFoundException, UnsupportedOperationException,
        DisabledException, KMSInvalidStateException.
        """
    def disable_key_rotation(self, key_id: str) -> None:
        """
        DisableKeyRotation.

        Raises NotFoundException, UnsupportedOperationException, KMSInvalidStateException.
        """
    def get_key_rotation_status(self, key_id: str) -> KeyRotationStatus:
        """
        GetKeyRotationStatus.

        Raises NotFoundException, UnsupportedOperationException.
        """
    def rotate_key_on_demand(self, key_id: str) -> str:
        """
        RotateKeyOnDemand (at most 10 per key). Returns the key ID.

        Raises NotFoundException, UnsupportedOperationException,
        LimitExceededException, DisabledException, KMSInvalidStateException.
        """
    def list_key_rotations(
        self, key_id: str, *, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> KeyRotationList:
        """
        ListKeyRotations: one page of at most `limit` (1–1000, default 100).

        Raises NotFoundException, UnsupportedOperationException, InvalidMarkerException.
        """
    # aliases
    def create_alias(self, alias_name: str, target_key_id: str) -> None:
        """
        CreateAlias `alias_name` ("alias/...") for `target_key_id` (key ID or ARN).

        Raises InvalidAliasNameException, AlreadyExistsException, NotFoundException,
        ValidationException, KMSInvalidStateException.
        """
    def update_alias(self, alias_name: str, target_key_id: str) -> None:
        """
        UpdateAlias: points `alias_name` at `target_key_id`, a key of the
        same key type (both symmetric, both asymmetric or both HMAC) and key
        usage as the current one; the key spec may differ, as in AWS KMS.

        Raises NotFoundException, ValidationException (another key type or
        usage), KMSInvalidStateException.
        """
    def delete_alias(self, alias_name: str) -> None:
        """
        DeleteAlias.

        Raises InvalidAliasNameException, NotFoundException.
        """
    def list_aliases(
        self, *, key_id: Optional[str] = None, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> AliasList:
        """
        ListAliases, optionally only those of `key_id`; `limit` 1–100 (default 50).

        Raises NotFoundException, ValidationException, InvalidMarkerException.
        """
    # tags
    def tag_resource(self, key_id: str, tags: Mapping[str, str]) -> None:
        """
        TagResource with `tags`, a mapping of tag keys to values. `key_id`
        is a key ID or key ARN, as in KMS: an alias name or alias ARN is
        NotFoundException ("Invalid keyId"), here and in untag_resource and
        list_resource_tags.

        Raises ValidationException (a key not 1 to 128 characters, a value
        over 256), TagException (an "aws:" key, more than 50 tags),
        NotFoundException (no such key, or an alias), KMSInvalidStateException.
        """
    def untag_resource(self, key_id: str, tag_keys: Sequence[str]) -> None:
        """
        UntagResource: removes the tags with keys `tag_keys`. `key_id` is a
        key ID or key ARN (an alias is NotFoundException, as in KMS).

        Raises ValidationException (a key not 1 to 128 characters),
        NotFoundException (no such key, or an alias), KMSInvalidStateException.
        """
    def list_resource_tags(
        self, key_id: str, *, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> TagList:
        """
        ListResourceTags: one page of at most `limit` (1–50, default 50) tags.
        `key_id` is a key ID or key ARN (an alias is NotFoundException, as
        in KMS).

        Raises NotFoundException (no such key, or an alias),
        ValidationException, InvalidMarkerException.
        """
    # cryptographic operations
    def encrypt(
        self,
        key_id: str,
        plaintext: _BytesLike,
        *,
        encryption_context: Optional[Mapping[str, str]] = None,
        encryption_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EncryptResult:
        """
        Encrypt 1–4096 bytes of `plaintext` (any bytes-like object) under a
        symmetric key, bound to `encryption_context` (exact match on decrypt).

        Raises NotFoundException, DisabledException, KMSInvalidStateException,
        InvalidKeyUsageException, ValidationException.
        """
    def decrypt(
        self,
        ciphertext_blob: _BytesLike,
        *,
        encryption_context: Optional[Mapping[str, str]] = None,
        key_id: Optional[str] = None,
        encryption_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> DecryptResult:
        """
        Decrypt a ciphertext blob with the encryption context it was made with.
        `key_id`, if given, must name the key that made the blob.

        Raises InvalidCiphertextException (every authentication failure, without
        detail), IncorrectKeyException, DisabledException, KMSInvalidStateException,
        NotFoundException, ValidationException.
        """
    def re_encrypt(
        self,
        ciphertext_blob: _BytesLike,
        destination_key_id: str,
        *,
        source_encryption_context: Optional[Mapping[str, str]] = None,
        source_key_id: Optional[str] = None,
        destination_encryption_context: Optional[Mapping[str, str]] = None,
        source_encryption_algorithm: Optional[str] = None,
        destination_encryption_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> ReEncryptResult:
        """
        ReEncrypt a blob under `destination_key_id` without returning plaintext.

        Raises the errors of `decrypt` (source) and `encrypt` (destination).
        """
    def generate_data_key(
        self,
        key_id: str,
        *,
        key_spec: Optional[str] = None,
        number_of_bytes: Optional[int] = None,
        encryption_context: Optional[Mapping[str, str]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> DataKey:
        """
        GenerateDataKey: a fresh data key in plaintext and encrypted under
        `key_id`. Give exactly one of `key_spec` ("AES_256", "AES_128") and
        `number_of_bytes` (1–1024).

        Raises ValidationException, plus the errors of `encrypt`.
        """
    def generate_data_key_without_plaintext(
        self,
        key_id: str,
        *,
        key_spec: Optional[str] = None,
        number_of_bytes: Optional[int] = None,
        encryption_context: Optional[Mapping[str, str]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EncryptedDataKey:
        """
        GenerateDataKeyWithoutPlaintext: only the encrypted data key.

        Raises the errors of `generate_data_key`.
        """
    def generate_random(self, number_of_bytes: int) -> SecretBytes:
        """
        GenerateRandom: `number_of_bytes` (1–1024) bytes from the OS CSPRNG.

        Raises ValidationException outside 1–1024.
        """
    # asymmetric keys, HMAC keys, imported key material
    def sign(
        self,
        key_id: str,
        message: _BytesLike,
        *,
        signing_algorithm: Optional[str] = None,
        message_type: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> SignResult:
        """Sign `message` (1–4096 bytes, or a digest with message_type="DIGEST").

        Raises NotFoundException, DisabledException, KMSInvalidStateException,
        InvalidKeyUsageException, ValidationException.
        """
    def verify(
        self,
        key_id: str,
        message: _BytesLike,
        signature: _BytesLike,
        *,
        signing_algorithm: Optional[str] = None,
        message_type: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> VerifyResult:
        """Verify a signature. Raises KMSInvalidSignatureException when it does not verify."""
    def get_public_key(self, key_id: str, *, grant_tokens: Optional[Sequence[str]] = None) -> PublicKey:
        """GetPublicKey (DER SubjectPublicKeyInfo) by key ID, key ARN, alias name or
        alias ARN; `grant_tokens` (at most 10) are checked as Encrypt's are.

        Raises NotFoundException, UnsupportedOperationException,
        KMSInvalidStateException, ValidationException, InvalidGrantTokenException.
        """
    def derive_shared_secret(
        self,
        key_id: str,
        public_key: _BytesLike,
        key_agreement_algorithm: str = "ECDH",
        grant_tokens: Optional[Sequence[str]] = None,
        *,
        recipient: Optional[Mapping[str, Any]] = None,
    ) -> SharedSecret:
        """DeriveSharedSecret: the raw ECDH shared secret of a NIST ECC KEY_AGREEMENT
        key and the peer's DER SubjectPublicKeyInfo on the same curve.

        Raises NotFoundException, DisabledException, KMSInvalidStateException,
        InvalidKeyUsageException, ValidationException, AccessDeniedException,
        UnsupportedOperationException (`recipient` is not supported).
        """
    def generate_mac(
        self,
        key_id: str,
        message: _BytesLike,
        *,
        mac_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> MacResult:
        """GenerateMac over 1–4096 bytes. Raises NotFoundException, InvalidKeyUsageException, ValidationException."""
    def verify_mac(
        self,
        key_id: str,
        message: _BytesLike,
        mac: _BytesLike,
        *,
        mac_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> VerifyMacResult:
        """VerifyMac. Raises KMSInvalidMacException when the MAC does not verify."""
    def generate_data_key_pair(
        self,
        key_id: str,
        key_pair_spec: str,
        *,
        encryption_context: Optional[Mapping[str, str]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> DataKeyPair:
        """GenerateDataKeyPair; the private key (PKCS#8 DER) is SecretBytes. Raises ValidationException and the errors of encrypt."""
    def generate_data_key_pair_without_plaintext(
        self,
        key_id: str,
        key_pair_spec: str,
        *,
        encryption_context: Optional[Mapping[str, str]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EncryptedDataKeyPair:
        """GenerateDataKeyPairWithoutPlaintext. Raises the errors of generate_data_key_pair."""
    def get_parameters_for_import(
        self,
        key_id: str,
        *,
        wrapping_algorithm: Optional[str] = None,
        wrapping_key_spec: Optional[str] = None,
    ) -> ImportParameters:
        """GetParametersForImport of an EXTERNAL key. Raises NotFoundException, UnsupportedOperationException."""
    def import_key_material(
        self,
        key_id: str,
        import_token: _BytesLike,
        encrypted_key_material: _BytesLike,
        *,
        valid_to: Union[int, datetime, None] = None,
        expiration_model: Optional[str] = None,
        import_type: Optional[str] = None,
    ) -> None:
        """
        ImportKeyMaterial wrapped under the parameters of
        `get_parameters_for_import`; `valid_to` (with
        `expiration_model="KEY_MATERIAL_EXPIRES"`) is Unix seconds or a
        timezone-aware `datetime` (fractions of a second dropped); a naive
        `datetime` or another type is a TypeError. `import_type` is
        "NEW_KEY_MATERIAL" (only on the key's first import) or
        "EXISTING_KEY_MATERIAL" (only once material was imported).

        Raises InvalidImportTokenException, ExpiredImportTokenException,
        IncorrectKeyMaterialException (also EXISTING_KEY_MATERIAL on a key
        that never had material), InvalidCiphertextException,
        NotFoundException, ValidationException, KMSInvalidStateException,
        UnsupportedOperationException (NEW_KEY_MATERIAL after the first import).
        """
    def delete_imported_key_material(self, key_id: str) -> None:
        """DeleteImportedKeyMaterial. Raises NotFoundException, UnsupportedOperationException."""
    # ---- principals, key policies, grants, audit
    def as_principal(self, principal: str) -> Keystore:
        """
        The same keystore acting for `principal` (an IAM ARN): every operation
        on the returned handle is authorized (key policy and grants) for, and
        audited as, that principal. Closing this handle closes the returned
        one too (its calls then raise ValueError, as a closed keystore's);
        closing the returned one leaves this one open. Raises
        ValidationException at once if `principal` is not a principal ARN a
        call can act as (the rule of `open(principal=...)`).
        """
    def dry_run(self) -> Keystore:
        """
        The same keystore with KMS's DryRun set: operations that take DryRun
        run every check, change nothing and raise DryRunOperationException
        when they would have succeeded; other operations raise
        ValidationException. Closed with this handle, as the handles of
        `as_principal()`.
        """
    @property
    def principal(self) -> str:
        """The principal this handle acts for (default: the administrator, arn:aws:iam::<account>:root)."""
    def put_key_policy(
        self,
        key_id: str,
        policy: str,
        *,
        policy_name: Optional[str] = None,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> None:
        """
        PutKeyPolicy: `policy` is a JSON policy document (at most 32 KiB);
        `policy_name` must be "default". Raises MalformedPolicyDocumentException,
        NotFoundException, AccessDeniedException, KMSInvalidStateException.
        """
    def get_key_policy(self, key_id: str, *, policy_name: Optional[str] = None) -> str:
        """GetKeyPolicy: the policy document (JSON text). Raises NotFoundException, AccessDeniedException."""
    def list_key_policies(
        self, key_id: str, *, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> KeyPolicyList:
        """ListKeyPolicies (`("default",)`); `limit` 1-1000. Raises NotFoundException, AccessDeniedException."""
    def create_grant(
        self,
        key_id: str,
        grantee_principal: str,
        operations: Sequence[str],
        *,
        retiring_principal: Optional[str] = None,
        constraints: Optional[Mapping[str, Mapping[str, str]]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
        name: Optional[str] = None,
    ) -> CreateGrantResult:
        """
        CreateGrant: `operations` are KMS names ("Encrypt", ...); `constraints`
        is {"EncryptionContextSubset": {...}} or {"EncryptionContextEquals": {...}}.
        Raises ValidationException, NotFoundException, AccessDeniedException,
        KMSInvalidStateException, InvalidGrantTokenException, LimitExceededException.
        """
    def list_grants(
        self,
        key_id: str,
        *,
        limit: Optional[int] = None,
        marker: Optional[str] = None,
        grant_id: Optional[str] = None,
        grantee_principal: Optional[str] = None,
    ) -> GrantList:
        """
        ListGrants of the key; `limit` 1-100 (default 50). Raises NotFoundException,
        AccessDeniedException, ValidationException, InvalidMarkerException,
        InvalidGrantIdException.
        """
    def list_retirable_grants(
        self, retiring_principal: str, *, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> GrantList:
        """ListRetirableGrants across keys; `limit` 1-100. Raises ValidationException, InvalidMarkerException."""
    def retire_grant(
        self,
        *,
        grant_token: Optional[str] = None,
        key_id: Optional[str] = None,
        grant_id: Optional[str] = None,
    ) -> None:
        """
        RetireGrant by `grant_token`, or by `key_id` and `grant_id`. Raises
        InvalidGrantTokenException, InvalidGrantIdException, ValidationException,
        NotFoundException, AccessDeniedException.
        """
    def revoke_grant(self, key_id: str, grant_id: str) -> None:
        """RevokeGrant. Raises InvalidGrantIdException, NotFoundException, AccessDeniedException."""
    def verify_audit_log(self) -> AuditVerification:
        """
        Verifies the audit log's hash chain and sealed checkpoint. Raises
        KMSInternalException if the checkpoint fails authentication or the log
        cannot be read.
        """
    def verify_audit_log_archives(self, paths: Sequence[_StrPath]) -> AuditVerification:
        """
        Verifies the audit log as verify_audit_log does, then the archives
        `paths` (oldest first, as rotate_audit_log made them, up to the current
        log): a modified, truncated, missing or misordered archive gives
        intact=False and archive_fault; archives lists those checked. Raises
        KMSInternalException if the checkpoint fails authentication or the log
        cannot be read.
        """
    def rotate_audit_log(self) -> AuditLogRotation:
        """
        Archives the audit log beside it (<keystore>.audit.<first>-<last>.jsonl)
        and starts a new log whose first record, RotateAuditLog, names the
        archive with its record range, length and SHA-256. A rotation of the
        same records already copying (its .partial file locked) is waited for
        5 s at most. Raises KMSInvalidStateException (no record, a .partial
        file of the same records locked for 5 s: another rotation copying, or
        a process such as a fork()ed child holding its lock, or the rotation
        gave up after 64 attempts because the log kept changing under it:
        rotate again),
        ValidationException (dry-run handle, or a keystore file name over 193
        bytes or not UTF-8), KMSInternalException (the log's records do not
        verify, a file not a copy of them already has the archive's name, the
        directory or a .partial file cannot be read or locked, or the log
        cannot be written or was replaced; nothing is archived or deleted
        then).
        """
    def audit_events(
        self,
        *,
        key_id: Optional[str] = None,
        event_name: Optional[str] = None,
        principal: Optional[str] = None,
        start_time: Optional[str] = None,
        end_time: Optional[str] = None,
    ) -> list[dict[str, Any]]:
        """
        The audit events (CloudTrail-shaped dicts) matching every filter given,
        oldest first; times are RFC 3339 UTC text (date prefixes work).
        Raises ValidationException for a malformed time or a start_time
        after end_time; KMSInternalException if the log cannot be read.
        """
    @property
    def audit_log_path(self) -> Path:
        """The audit log's path (JSON lines beside the keystore file)."""
    # ---- envelope encryption (AWS Encryption SDK message format)
    def encrypt_stream(
        self,
        src: _BinaryReader,
        dst: _BinaryWriter,
        *,
        key_ids: Sequence[str],
        encryption_context: Optional[Mapping[str, str]] = None,
        frame_length: Optional[int] = None,
        algorithm_suite: Optional[Union[int, str]] = None,
        commitment_policy: Optional[str] = None,
        max_encrypted_data_keys: Optional[int] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EnvelopeSummary:
        """
        Envelope-encrypts everything `src.read(n)` yields into one message
        written with `dst.write(b)`, under `key_ids` (the first generates the
        data key). Constant memory; the GIL is released except during
        read/write. `frame_length`: plaintext bytes per frame, 1 to
        268435456 (256 MiB, the largest frame a streaming decryptor buffers
        by default), default 4096. `algorithm_suite`: 0x0578 (signed, default) or 0x0478, or
        its ESDK name ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"). `max_encrypted_data_keys`:
        fail if more keys would wrap the data key, 1 to 65535 (0 raises
        ValidationException, as the AWS Encryption SDK refuses it), None
        (default) for no limit. `grant_tokens`: up to 10, sent
        with each KMS call. `dst.write(b)` returns the bytes it wrote (an
        int, 1 to len(b); fewer are written again) as io's raw files do;
        None or 0 (a non-blocking file that took nothing) or a count out of
        range raise ValueError, anything but an int or None (a bool too)
        TypeError. Raises ValidationException,
        InvalidGrantTokenException, the errors of generate_data_key/encrypt,
        and whatever read/write raise.
        """
    def decrypt_stream(
        self,
        src: _BinaryReader,
        dst: _BinaryWriter,
        *,
        key_ids: Optional[Sequence[str]] = None,
        required_encryption_context: Optional[Mapping[str, str]] = None,
        commitment_policy: Optional[str] = None,
        max_encrypted_data_keys: Optional[int] = 10,
        unsigned_only: bool = False,
        grant_tokens: Optional[Sequence[str]] = None,
        max_frame_buffer: Optional[int] = None,
    ) -> EnvelopeSummary:
        """
        Decrypts one message from `src` into `dst`, releasing only
        authenticated plaintext: frame by frame for unsigned suites (a
        truncated message raises after an authenticated prefix was written),
        staged in an anonymous temp file until the signature verifies for
        signed suites; `unsigned_only=True` refuses signed suites before any
        plaintext. A message with more than `max_encrypted_data_keys`
        encrypted data keys (1 to 65535, default 10; None for no limit) is
        refused with ValidationException before any key is unwrapped; 0
        raises ValidationException before `src` is read, as the AWS
        Encryption SDK refuses it. `max_frame_buffer`: the largest frame (or
        non-framed body) in bytes the decryptor buffers, 1 to 2**32 - 1
        (ValidationException outside, before `src` is read; TypeError for
        a non-int), default (None) 268435456 (256 MiB, the largest frame length
        Strongroom writes); a message with larger frames (another writer's:
        the format allows up to 2**32 - 1) raises LimitExceededException
        once its header is read: raise the option or use `decrypt_message`,
        which reads every frame length. Raises
        InvalidCiphertextException, ValidationException,
        LimitExceededException, AccessDeniedException, DisabledException,
        KMSInvalidStateException.
        """
    def encrypt_message(
        self,
        plaintext: _BytesLike,
        *,
        key_ids: Sequence[str],
        encryption_context: Optional[Mapping[str, str]] = None,
        frame_length: Optional[int] = None,
        algorithm_suite: Optional[Union[int, str]] = None,
        commitment_policy: Optional[str] = None,
        max_encrypted_data_keys: Optional[int] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> Tuple[bytes, EnvelopeSummary]:
        """
        Envelope-encrypts `plaintext` into one message in memory and returns
        `(message, summary)`, like the AWS Encryption SDK's
        `encrypt(source=bytes)`. Options as for `encrypt_stream`. The GIL is
        released while the message is made (`bytes` is read in place, other
        bytes-like objects are copied first). Raises ValidationException,
        InvalidGrantTokenException, LimitExceededException, the errors of
        generate_data_key/encrypt.
        """
    def decrypt_message(
        self,
        message: _BytesLike,
        *,
        key_ids: Optional[Sequence[str]] = None,
        required_encryption_context: Optional[Mapping[str, str]] = None,
        commitment_policy: Optional[str] = None,
        max_encrypted_data_keys: Optional[int] = 10,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> Tuple[SecretBytes, EnvelopeSummary]:
        """
        Decrypts one whole message in memory and returns `(plaintext,
        summary)`, like the AWS Encryption SDK's `decrypt(source=bytes)`:
        nothing is returned unless the whole message (signature included)
        authenticates. `plaintext` is SecretBytes (a `bytes` whose repr is
        redacted), as `DecryptResult.plaintext`. Options as for
        `decrypt_stream`. The GIL is released while decrypting. Raises
        InvalidCiphertextException (malformed, tampered, truncated, trailing
        bytes, required encryption context not matched, or no key could
        unwrap it), ValidationException, AccessDeniedException,
        InvalidGrantTokenException, DisabledException,
        KMSInvalidStateException, LimitExceededException.
        """
    def encrypt_file(
        self,
        path_in: _StrPath,
        path_out: _StrPath,
        *,
        key_ids: Sequence[str],
        encryption_context: Optional[Mapping[str, str]] = None,
        frame_length: Optional[int] = None,
        algorithm_suite: Optional[Union[int, str]] = None,
        commitment_policy: Optional[str] = None,
        max_encrypted_data_keys: Optional[int] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EnvelopeSummary:
        """
        Envelope-encrypts the file `path_in` to `path_out` (temp file +
        rename: all or nothing; a symbolic link `path_out` is written
        through: the file it names is rewritten in place once complete, its
        mode and owner kept (a secret then has that file's permissions),
        the link kept). Options as
        for `encrypt_stream`. Raises its
        errors, and ValidationException naming the path if `path_in` is
        missing, unreadable or a directory, if `path_out` is a directory, a
        symbolic link that names no file, or
        in a missing or unwritable directory, if both are the same file, or
        if `path_out` is a file of a keystore open in this process (the
        keystore, its -wal/-shm/-journal, its audit log, its root key file or
        the default one beside it, its anchor file; also through a link:
        writing it would destroy every key), before anything is written.
        KMSInternalException only for the library's own failures (a full disk).
        """
    def decrypt_file(
        self,
        path_in: _StrPath,
        path_out: _StrPath,
        *,
        key_ids: Optional[Sequence[str]] = None,
        required_encryption_context: Optional[Mapping[str, str]] = None,
        commitment_policy: Optional[str] = None,
        max_encrypted_data_keys: Optional[int] = 10,
        unsigned_only: bool = False,
        grant_tokens: Optional[Sequence[str]] = None,
        max_frame_buffer: Optional[int] = None,
    ) -> EnvelopeSummary:
        """
        Decrypts `path_in` to `path_out`, which appears only once everything is
        authenticated. With `unsigned_only`, a signed message is refused
        (ValidationException) before any data key is unwrapped; so is one
        with more than `max_encrypted_data_keys` encrypted data keys
        (1 to 65535, default 10; None for no limit; 0 raises
        ValidationException, as in `decrypt_stream`). `max_frame_buffer` as
        for `decrypt_stream`. The paths' errors are those of `encrypt_file`.
        """
