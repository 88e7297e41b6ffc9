"""Type stubs of the native module ``strongroom._strongroom`` (checked by mypy.stubtest)."""

import os
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Optional, Sequence, Tuple, Type, Union, final

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
]

__version__: str
ERROR_CODES: Tuple[str, ...]

_BytesLike = Buffer
_StrPath = Union[str, "os.PathLike[str]"]

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
    def multi_region(self) -> bool: ...
    @property
    def pending_deletion_window_in_days(self) -> Optional[int]: ...
    @property
    def expiration_model(self) -> Optional[str]: ...

@final
class KeyListEntry:
    @property
    def key_id(self) -> str: ...
    @property
    def key_arn(self) -> str: ...

@final
class KeyList:
    @property
    def keys(self) -> Tuple[KeyListEntry, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...

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

@final
class AliasList:
    @property
    def aliases(self) -> Tuple[AliasListEntry, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...

@final
class Tag:
    @property
    def tag_key(self) -> str: ...
    @property
    def tag_value(self) -> str: ...

@final
class TagList:
    @property
    def tags(self) -> Tuple[Tag, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...

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

@final
class KeyRotation:
    @property
    def key_id(self) -> str: ...
    @property
    def rotation_date(self) -> datetime: ...
    @property
    def rotation_type(self) -> str: ...

@final
class KeyRotationList:
    @property
    def rotations(self) -> Tuple[KeyRotation, ...]: ...
    @property
    def next_marker(self) -> Optional[str]: ...
    @property
    def truncated(self) -> bool: ...

@final
class EncryptResult:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def key_id(self) -> str: ...
    @property
    def encryption_algorithm(self) -> str: ...

@final
class DecryptResult:
    @property
    def key_id(self) -> str: ...
    @property
    def plaintext(self) -> SecretBytes: ...
    @property
    def encryption_algorithm(self) -> str: ...

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

@final
class DataKey:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def plaintext(self) -> SecretBytes: ...
    @property
    def key_id(self) -> str: ...

@final
class EncryptedDataKey:
    @property
    def ciphertext_blob(self) -> bytes: ...
    @property
    def key_id(self) -> str: ...

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
    ) -> Keystore: ...
    @staticmethod
    def open(
        path: _StrPath,
        *,
        root_key: Union[str, _BytesLike, None] = None,
        root_key_file: Optional[_StrPath] = None,
        root_key_env: Optional[str] = None,
        passphrase: Union[str, _BytesLike, None] = None,
    ) -> Keystore: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def path(self) -> Path: ...
    @property
    def region(self) -> str: ...
    @property
    def account(self) -> str: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        *_args: Union[Type[BaseException], BaseException, TracebackType, None],
    ) -> bool: ...
    def client(self) -> Client: ...
    def verify_digest(self) -> None: ...
    def purge_deleted_keys(self) -> int: ...
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
    ) -> KeyMetadata: ...
    def describe_key(self, key_id: str) -> KeyMetadata: ...
    def list_keys(self, *, limit: Optional[int] = None, marker: Optional[str] = None) -> KeyList: ...
    def update_key_description(self, key_id: str, description: str) -> None: ...
    def enable_key(self, key_id: str) -> None: ...
    def disable_key(self, key_id: str) -> None: ...
    def schedule_key_deletion(
        self, key_id: str, *, pending_window_in_days: Optional[int] = None
    ) -> KeyDeletionSchedule: ...
    def cancel_key_deletion(self, key_id: str) -> str: ...
    def enable_key_rotation(self, key_id: str, *, rotation_period_in_days: Optional[int] = None) -> None: ...
    def disable_key_rotation(self, key_id: str) -> None: ...
    def get_key_rotation_status(self, key_id: str) -> KeyRotationStatus: ...
    def rotate_key_on_demand(self, key_id: str) -> str: ...
    def list_key_rotations(
        self, key_id: str, *, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> KeyRotationList: ...
    # aliases
    def create_alias(self, alias_name: str, target_key_id: str) -> None: ...
    def update_alias(self, alias_name: str, target_key_id: str) -> None: ...
    def delete_alias(self, alias_name: str) -> None: ...
    def list_aliases(
        self, *, key_id: Optional[str] = None, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> AliasList: ...
    # tags
    def tag_resource(self, key_id: str, tags: Mapping[str, str]) -> None: ...
    def untag_resource(self, key_id: str, tag_keys: Sequence[str]) -> None: ...
    def list_resource_tags(
        self, key_id: str, *, limit: Optional[int] = None, marker: Optional[str] = None
    ) -> TagList: ...
    # cryptographic operations
    def encrypt(
        self,
        key_id: str,
        plaintext: _BytesLike,
        *,
        encryption_context: Optional[Mapping[str, str]] = None,
        encryption_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EncryptResult: ...
    def decrypt(
        self,
        ciphertext_blob: _BytesLike,
        *,
        encryption_context: Optional[Mapping[str, str]] = None,
        key_id: Optional[str] = None,
        encryption_algorithm: Optional[str] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> DecryptResult: ...
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
    ) -> ReEncryptResult: ...
    def generate_data_key(
        self,
        key_id: str,
        *,
        key_spec: Optional[str] = None,
        number_of_bytes: Optional[int] = None,
        encryption_context: Optional[Mapping[str, str]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> DataKey: ...
    def generate_data_key_without_plaintext(
        self,
        key_id: str,
        *,
        key_spec: Optional[str] = None,
        number_of_bytes: Optional[int] = None,
        encryption_context: Optional[Mapping[str, str]] = None,
        grant_tokens: Optional[Sequence[str]] = None,
    ) -> EncryptedDataKey: ...
    def generate_random(self, number_of_bytes: int) -> SecretBytes: ...
