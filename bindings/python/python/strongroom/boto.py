"""A drop-in for boto3's KMS client over a local keystore.

``strongroom.client(keystore)`` returns an object whose methods have the
boto3 KMS client's names, keyword parameters and response dictionaries, and
whose errors are ``client.exceptions.<KMS exception name>`` classes with
``.response["Error"]["Code"]``. They subclass botocore's ``ClientError`` when
botocore is installed, so ``except botocore.exceptions.ClientError`` works
too; otherwise they subclass a compatible ``ClientError`` defined here.
Code written for ``boto3.client("kms")`` runs unchanged once the client is
made with ``strongroom.client(keystore)``.

This module converts names and shapes only; every operation is the
keystore's own.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import inspect
import json
import uuid
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, TypeVar, cast

from . import _strongroom
from .exceptions import KMSError, UnsupportedOperationException, ValidationException

__all__ = ["Client", "ClientError", "client"]

try:  # pragma: no cover - depends on the environment
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        ClientError as _BaseClientError,
    )
    from botocore.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        ParamValidationError as _ParamValidationError,
    )
except ImportError:  # pragma: no cover

    class _BaseClientError(Exception):  # type: ignore[no-redef]
        """Compatible stand-in for ``botocore.exceptions.ClientError``."""

        MSG_TEMPLATE = "An error occurred ({error_code}) when calling the {operation_name} operation: {error_message}"

        def __init__(self, error_response: Mapping[str, Any], operation_name: str) -> None:
            err = error_response.get("Error", {})
            super().__init__(
                self.MSG_TEMPLATE.format(
                    error_code=err.get("Code", "Unknown"),
                    operation_name=operation_name,
                    error_message=err.get("Message", "Unknown"),
                )
            )
            self.response = error_response
            self.operation_name = operation_name

        def __reduce__(self):  # type: ignore[no-untyped-def]
            return type(self), (self.response, self.operation_name)

    _BaseClientError.__name__ = _BaseClientError.__qualname__ = "ClientError"

    class _ParamValidationError(ValueError):  # type: ignore[no-redef]
        """Compatible stand-in for ``botocore.exceptions.ParamValidationError``."""

        def __init__(self, report: str = "") -> None:
            super().__init__(f"Parameter validation failed:\n{report}")
            self.kwargs = {"report": report}


ClientError = _BaseClientError
"""``botocore.exceptions.ClientError`` if botocore is installed, else a compatible class."""


def _metadata() -> Dict[str, Any]:
    return {
        "RequestId": str(uuid.uuid4()),
        "HTTPStatusCode": 200,
        "HTTPHeaders": {},
        "RetryAttempts": 0,
    }


class _Exceptions:
    """``client.exceptions``: one ClientError subclass per KMS exception."""

    ClientError = _BaseClientError

    def __init__(self) -> None:
        self._by_code: Dict[str, type] = {}
        for code in _strongroom.ERROR_CODES:
            cls = type(code, (_BaseClientError,), {"__module__": "strongroom.boto"})
            self._by_code[code] = cls
            setattr(self, code, cls)

    def from_code(self, error_code: str) -> type:
        """The class for ``error_code``, or ``ClientError`` for an unknown code."""
        cls: type = self._by_code.get(error_code, _BaseClientError)
        return cls

    def __getattr__(self, name: str) -> Any:  # only for names not set above
        raise AttributeError(name)


_EXCEPTIONS = _Exceptions()

F = TypeVar("F", bound=Callable[..., Any])


# The minimum (string or list length, or integer value) of the KMS input
# members that have one, as in the KMS service model. botocore's parameter
# validator checks these minimums (not the maximums) before sending a
# request, so an out-of-range value is a ParamValidationError there, too.
_MIN_LENGTH = {
    "AliasName": 1,
    "CustomKeyStoreId": 1,
    "DestinationKeyId": 1,
    "GrantId": 1,
    "GrantToken": 1,
    "GranteePrincipal": 1,
    "GranteeServicePrincipal": 1,
    "KeyId": 1,
    "KeyMaterialId": 64,
    "Marker": 1,
    "Name": 1,
    "Policy": 1,
    "PolicyName": 1,
    "ResourceOwners": 1,
    "RetiringPrincipal": 1,
    "RetiringServicePrincipal": 1,
    "SourceKeyId": 1,
    "TargetKeyId": 1,
    "XksKeyId": 1,
}
_MIN_VALUE = {"Limit": 1, "NumberOfBytes": 1, "PendingWindowInDays": 1, "RotationPeriodInDays": 90}


class _ParamErrors(Exception):
    """botocore-style parameter validation messages, raised as one
    ParamValidationError by ``_operation``."""

    def __init__(self, errors: List[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _invalid_type(name: str, value: Any, valid: Sequence[Any]) -> str:
    kinds = ", ".join(str(t) for t in valid)
    return f"Invalid type for parameter {name}, value: {value}, type: {type(value)}, valid types: {kinds}"


# The Python types botocore's parameter validator accepts for each input
# member, by the member's type in the KMS service model; members not listed
# are strings. Blobs also take any bytes-like object here (botocore: bytes,
# bytearray, str or a file-like object).
_BLOB_TYPES: Sequence[Any] = (bytes, bytearray, "file-like object")
_BLOBS = frozenset(
    ("Plaintext", "CiphertextBlob", "Message", "Signature", "Mac", "PublicKey", "ImportToken", "EncryptedKeyMaterial")
)
_INTEGERS = frozenset(("Limit", "NumberOfBytes", "PendingWindowInDays", "RotationPeriodInDays"))
_BOOLEANS = frozenset(("DryRun", "BypassPolicyLockoutSafetyCheck", "MultiRegion"))
_STRING_MAPS = frozenset(("EncryptionContext", "SourceEncryptionContext", "DestinationEncryptionContext"))
_STRING_LISTS = frozenset(("GrantTokens", "TagKeys", "Operations", "ResourceOwners"))
# Members with a shape of their own, checked by the operation (only None is
# refused here): Tags, Constraints, Recipient (structures and lists), ValidTo.
_OTHER: Dict[str, Sequence[Any]] = {
    "Tags": (list, tuple),
    "Constraints": (dict,),
    "Recipient": (dict,),
    "ValidTo": ("<class 'datetime.datetime'>", "timestamp-string"),
}


def _is_bytes_like(value: Any) -> bool:
    try:
        memoryview(value)
    except TypeError:
        return False
    return True


def _type_errors(params: Mapping[str, Any]) -> List[str]:
    """botocore's "Invalid type for parameter ..." messages for ``params``
    (keyword arguments as given: an explicit ``None`` is a value of the wrong
    type, as botocore reports it), with its CamelCase names and nesting
    (``EncryptionContext.<key>``, ``EncryptionContext (key: <key>)``,
    ``GrantTokens[0]``)."""
    errors: List[str] = []
    for name, value in params.items():
        if name in _BLOBS:
            if not (isinstance(value, str) or _is_bytes_like(value) or hasattr(value, "read")):
                errors.append(_invalid_type(name, value, _BLOB_TYPES))
        elif name in _INTEGERS:
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(_invalid_type(name, value, (int,)))
        elif name in _BOOLEANS:
            if not isinstance(value, bool):
                errors.append(_invalid_type(name, value, (bool,)))
        elif name in _STRING_MAPS:
            if not isinstance(value, Mapping):
                errors.append(_invalid_type(name, value, (dict,)))
                continue
            for k, v in value.items():
                if not isinstance(k, str):
                    errors.append(_invalid_type(f"{name} (key: {k})", k, (str,)))
                if not isinstance(v, str):
                    errors.append(_invalid_type(f"{name}.{k}", v, (str,)))
        elif name in _STRING_LISTS:
            if not isinstance(value, (list, tuple)):
                errors.append(_invalid_type(name, value, (list, tuple)))
                continue
            errors += [_invalid_type(f"{name}[{i}]", v, (str,)) for i, v in enumerate(value) if not isinstance(v, str)]
        elif name in _OTHER:
            if value is None:
                errors.append(_invalid_type(name, value, _OTHER[name]))
        elif not isinstance(value, str):
            errors.append(_invalid_type(name, value, (str,)))
    return errors


def _check_minimums(params: Mapping[str, Any]) -> None:
    errors: List[str] = []
    for name, value in params.items():
        if name in _MIN_LENGTH and isinstance(value, (str, list, tuple)) and len(value) < _MIN_LENGTH[name]:
            errors.append(
                f"Invalid length for parameter {name}, value: {len(value)}, valid min length: {_MIN_LENGTH[name]}"
            )
        elif name in _MIN_VALUE and isinstance(value, int) and value < _MIN_VALUE[name]:
            errors.append(f"Invalid value for parameter {name}, value: {value}, valid min value: {_MIN_VALUE[name]}")
    if errors:
        raise _ParamErrors(errors)


def _blob(value: Any) -> Any:
    """A blob parameter: ``str`` is UTF-8 encoded, as boto3 does; a
    file-like object (one with ``read()``, as botocore accepts for blobs) is
    read to its end; bytes-like objects pass through (the keystore checks
    the rest)."""
    if hasattr(value, "read") and not _is_bytes_like(value):
        value = value.read()
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def _error_response(e: KMSError) -> Dict[str, Any]:
    """The ``response`` of the ClientError for ``e``, as botocore parses a
    KMS error: ``Error`` (``Code``, ``Message``), ``ResponseMetadata`` with
    KMS's HTTP status (500 for ``KMSInternalException``, 400 for the
    others) and, since every KMS exception shape has a ``message`` member,
    that member at the top level too (botocore adds the modeled error's
    members to the response)."""
    status = 500 if e.code == "KMSInternalException" else 400
    return {
        "Error": {"Code": e.code, "Message": e.message},
        "ResponseMetadata": dict(_metadata(), HTTPStatusCode=status),
        "message": e.message,
    }


def _operation(name: str) -> Callable[[F], F]:
    """Turns KMSError into ``client.exceptions.<Code>`` and argument errors
    into ParamValidationError, as botocore does for operation ``name``."""

    def wrap(fn: F) -> F:
        # The operation's input members (keyword-only, in the service
        # model's order) and the required ones (no default).
        params = [p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
        members = [p.name for p in params]
        required = [p.name for p in params if p.default is p.empty]

        @functools.wraps(fn)
        def call(self: "Client", *args: Any, **kwargs: Any) -> Any:
            if args:
                raise TypeError(f"{fn.__name__}() only accepts keyword arguments.")
            try:
                # botocore's order: missing members, unknown ones, then types.
                errors = [f'Missing required parameter in input: "{m}"' for m in required if m not in kwargs]
                errors += [
                    f'Unknown parameter in input: "{k}", must be one of: {", ".join(members)}'
                    for k in kwargs
                    if k not in members
                ]
                errors += _type_errors({k: v for k, v in kwargs.items() if k in members})
                if errors:
                    raise _ParamErrors(errors)
                _check_minimums(kwargs)
                return fn(self, **kwargs)
            except _ParamErrors as e:
                raise _ParamValidationError(report=str(e)) from None
            except KMSError as e:
                raise _EXCEPTIONS.from_code(e.code)(_error_response(e), name) from e
            except TypeError as e:
                raise _ParamValidationError(report=str(e)) from e

        return call  # type: ignore[return-value]

    return wrap


def _ok(body: Dict[str, Any]) -> Dict[str, Any]:
    body = {k: v for k, v in body.items() if v is not None}
    body["ResponseMetadata"] = _metadata()
    return body


class _TagPairs(List[Tuple[str, str]]):
    """(key, value) pairs in request order, read by the keystore through
    ``items()`` as a mapping is: a tag key given twice stays twice, so the
    keystore refuses it with TagException as KMS does (a dict would keep
    the last value)."""

    def items(self) -> "_TagPairs":
        return self


def _tags_in(tags: Optional[Sequence[Mapping[str, str]]]) -> Optional[Mapping[str, str]]:
    """KMS ``Tags`` (a list of ``{"TagKey": ..., "TagValue": ...}``) as
    (key, value) pairs, checked as botocore checks it: every problem is
    reported."""
    if tags is None:
        return None
    if not isinstance(tags, (list, tuple)):
        raise _ParamErrors([_invalid_type("Tags", tags, (list, tuple))])
    errors: List[str] = []
    out = _TagPairs()
    members = ("TagKey", "TagValue")
    for i, t in enumerate(tags):
        where = f"Tags[{i}]"
        if not isinstance(t, dict):
            errors.append(_invalid_type(where, t, (dict,)))
            continue
        errors += [f'Missing required parameter in {where}: "{m}"' for m in members if m not in t]
        errors += [
            f'Unknown parameter in {where}: "{k}", must be one of: {", ".join(members)}' for k in t if k not in members
        ]
        for m in members:
            if m in t and not isinstance(t[m], str):
                errors.append(_invalid_type(f"{where}.{m}", t[m], (str,)))
        if isinstance(t.get("TagKey"), str) and not t["TagKey"]:
            errors.append(f"Invalid length for parameter {where}.TagKey, value: 0, valid min length: 1")
        if isinstance(t.get("TagKey"), str) and isinstance(t.get("TagValue"), str):
            out.append((t["TagKey"], t["TagValue"]))
    if errors:
        raise _ParamErrors(errors)
    # The keystore reads a tags mapping only through items().
    return cast("Mapping[str, str]", out)


def _key_metadata(m: Any) -> Dict[str, Any]:
    d: Dict[str, Any] = {
        "AWSAccountId": m.aws_account_id,
        "KeyId": m.key_id,
        "Arn": m.arn,
        "CreationDate": m.creation_date,
        "Enabled": m.enabled,
        "Description": m.description,
        "KeyUsage": m.key_usage,
        "KeyState": m.key_state,
        "DeletionDate": m.deletion_date,
        "ValidTo": m.valid_to,
        "Origin": m.origin,
        "KeyManager": m.key_manager,
        "CustomerMasterKeySpec": m.customer_master_key_spec,
        "KeySpec": m.key_spec,
        "EncryptionAlgorithms": list(m.encryption_algorithms) or None,
        "SigningAlgorithms": list(m.signing_algorithms) or None,
        "MacAlgorithms": list(m.mac_algorithms) or None,
        "KeyAgreementAlgorithms": list(m.key_agreement_algorithms) or None,
        "MultiRegion": m.multi_region,
        "PendingDeletionWindowInDays": m.pending_deletion_window_in_days,
        "ExpirationModel": m.expiration_model,
    }
    return {k: v for k, v in d.items() if v is not None}


def _page(items_key: str, items: Sequence[Any], page: Any) -> Dict[str, Any]:
    return _ok({items_key: items, "NextMarker": page.next_marker, "Truncated": page.truncated})


class _Meta:
    def __init__(self, region_name: str) -> None:
        self.region_name = region_name
        self.service_model = None


def _encode_token(token: Dict[str, Any]) -> str:
    """A resume token in botocore's format: base64 of the JSON object."""
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("utf-8")


def _decode_token(token: str) -> "tuple[Optional[str], int]":
    """The Marker and the number of items to skip on its page, from a
    ``StartingToken`` in botocore's format (or its older ``marker___skip``
    format, or a bare service marker, as botocore reads them)."""
    try:
        decoded = json.loads(base64.b64decode(token.encode("utf-8"), validate=True).decode("utf-8"))
        if isinstance(decoded, dict):
            marker = decoded.get("Marker")
            return (None if marker in (None, "None") else str(marker)), int(decoded.get("boto_truncate_amount", 0))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    parts = token.split("___")
    if len(parts) == 2:
        try:
            return (None if parts[0] == "None" else parts[0]), int(parts[1])
        except ValueError:
            pass
    return token, 0


class _PageIterator:
    """The pages of one paginated call, as botocore's ``PageIterator``:
    ``PaginationConfig`` ``PageSize`` (sent as ``Limit``), ``MaxItems``
    (items over all pages; the last page is cut, and ``resume_token`` is
    where to go on) and ``StartingToken`` (a ``resume_token`` or a
    ``NextMarker``), plus ``build_full_result()`` and ``search()``."""

    def __init__(
        self,
        method: Callable[..., Dict[str, Any]],
        result_key: str,
        kwargs: Dict[str, Any],
        max_items: Optional[int],
        page_size: Optional[int],
        starting_token: Optional[str],
    ) -> None:
        self._method = method
        self._result_key = result_key
        self._kwargs = kwargs
        self._max_items = max_items
        self._page_size = page_size
        self._starting_token = starting_token
        self._resume_token: Optional[str] = None

    @property
    def result_keys(self) -> List[str]:
        return [self._result_key]

    @property
    def resume_token(self) -> Optional[str]:
        """Where a ``StartingToken`` resumes, once iteration stopped at ``MaxItems``."""
        return self._resume_token

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        kwargs = dict(self._kwargs)
        marker: Optional[str] = None
        skip = 0
        if self._starting_token is not None:
            marker, skip = _decode_token(self._starting_token)
            if marker is not None:
                kwargs["Marker"] = marker
        if self._page_size is not None:
            kwargs["Limit"] = self._page_size
        total = 0
        while True:
            page = self._method(**kwargs)
            items = list(page.get(self._result_key) or [])
            if skip:
                items = items[skip:]
                page[self._result_key] = items
            if self._max_items is not None and total + len(items) > self._max_items:
                keep = self._max_items - total
                page[self._result_key] = items[:keep]
                self._resume_token = _encode_token({"Marker": marker, "boto_truncate_amount": keep + skip})
                yield page
                return
            yield page
            total += len(items)
            skip = 0
            if not page.get("Truncated") or not page.get("NextMarker"):
                return
            marker = page["NextMarker"]
            if self._max_items is not None and total == self._max_items:
                self._resume_token = _encode_token({"Marker": marker})
                return
            kwargs["Marker"] = marker

    def build_full_result(self) -> Dict[str, Any]:
        """All pages' items under the result key (``NextToken``: the
        ``resume_token`` when ``MaxItems`` stopped the iteration)."""
        items: List[Any] = []
        for page in self:
            items.extend(page.get(self._result_key) or [])
        out: Dict[str, Any] = {self._result_key: items}
        if self._resume_token is not None:
            out["NextToken"] = self._resume_token
        return out


    def search(self, expression: str) -> Iterator[Any]:
        """The JMESPath ``expression`` applied to each page, as botocore's
        ``PageIterator.search``: a list result yields its elements, any
        other result (``None`` included) is yielded as it is. Needs the
        ``jmespath`` package (a dependency of botocore, so of the ``boto``
        extra); ``ImportError`` without it."""
        try:
            import jmespath  # type: ignore[import-untyped,unused-ignore]
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "search() needs the jmespath package: pip install 'strongroom[boto]' (or jmespath)"
            ) from e
        compiled = jmespath.compile(expression)
        for page in self:
            found = compiled.search(page)
            if isinstance(found, list):
                yield from found
            else:
                yield found


class _Paginator:
    """``client.get_paginator(...)`` for the Marker/NextMarker operations."""

    def __init__(self, method: Callable[..., Dict[str, Any]], result_key: str) -> None:
        self._method = method
        self._result_key = result_key

    def paginate(self, **kwargs: Any) -> _PageIterator:
        config = kwargs.pop("PaginationConfig", None) or {}
        max_items = config.get("MaxItems")
        page_size = config.get("PageSize")
        return _PageIterator(
            self._method,
            self._result_key,
            kwargs,
            None if max_items is None else int(max_items),
            page_size,
            config.get("StartingToken"),
        )


class Client:
    """The boto3 KMS client's interface over a :class:`strongroom.Keystore`.

    Methods take keyword arguments only, with the KMS parameter names
    (``KeyId``, ``Plaintext``, ``EncryptionContext``, ...), and return the
    KMS response dictionaries (blobs as ``bytes``, dates as ``datetime``,
    plus ``ResponseMetadata``). Errors are ``client.exceptions.<Code>``.
    """

    exceptions = _EXCEPTIONS

    def __init__(self, keystore: _strongroom.Keystore) -> None:
        if not isinstance(keystore, _strongroom.Keystore):
            raise TypeError(f"keystore must be a strongroom.Keystore, not {type(keystore).__name__}")
        self._ks = keystore
        self.meta = _Meta(keystore.region)

    def __repr__(self) -> str:
        return f"<strongroom.boto.Client over {self._ks!r}>"

    def _on(self, dry_run: bool) -> _strongroom.Keystore:
        """The handle for a request with KMS's ``DryRun``: a dry-run handle
        runs every check, changes nothing and raises DryRunOperationException
        when the request would have succeeded (``Keystore.dry_run``)."""
        return self._ks.dry_run() if dry_run else self._ks

    # Operation -> its result key (botocore's KMS paginators).
    _PAGINATED = {
        "list_keys": "Keys",
        "list_aliases": "Aliases",
        "list_resource_tags": "Tags",
        "list_key_rotations": "Rotations",
        "list_grants": "Grants",
        "list_key_policies": "PolicyNames",
        "list_retirable_grants": "Grants",
    }

    def can_paginate(self, operation_name: str) -> bool:
        return operation_name in self._PAGINATED

    def get_paginator(self, operation_name: str) -> _Paginator:
        if operation_name not in self._PAGINATED:
            raise ValueError(f"Operation cannot be paginated: {operation_name}")
        return _Paginator(getattr(self, operation_name), self._PAGINATED[operation_name])

    @property
    def waiter_names(self) -> List[str]:
        """A new empty list on each read, as botocore's: KMS has no waiters."""
        return []

    def get_waiter(self, waiter_name: str) -> Any:
        """Raises ``ValueError``, as botocore's KMS client does: KMS has no waiters."""
        raise ValueError(f"Waiter does not exist: {waiter_name}")

    def close(self) -> None:
        """Does nothing, as botocore's ``close()`` (which closes its HTTP
        connections) leaves the client usable; the keystore stays open, for
        its owner to close."""

    # ---- key management ---------------------------------------------------

    @_operation("CreateKey")
    def create_key(
        self,
        *,
        Policy: Optional[str] = None,
        Description: Optional[str] = None,
        KeyUsage: Optional[str] = None,
        CustomerMasterKeySpec: Optional[str] = None,
        KeySpec: Optional[str] = None,
        Origin: Optional[str] = None,
        BypassPolicyLockoutSafetyCheck: bool = False,
        Tags: Optional[Sequence[Mapping[str, str]]] = None,
        MultiRegion: Optional[bool] = None,
    ) -> Dict[str, Any]:
        m = self._ks.create_key(
            description=Description,
            key_usage=KeyUsage,
            customer_master_key_spec=CustomerMasterKeySpec,
            key_spec=KeySpec,
            origin=Origin,
            policy=Policy,
            bypass_policy_lockout_safety_check=BypassPolicyLockoutSafetyCheck,
            tags=_tags_in(Tags),
            multi_region=MultiRegion,
        )
        return _ok({"KeyMetadata": _key_metadata(m)})

    @_operation("DescribeKey")
    def describe_key(self, *, KeyId: str, GrantTokens: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        return _ok({"KeyMetadata": _key_metadata(self._ks.describe_key(KeyId, grant_tokens=_list(GrantTokens)))})

    @_operation("ListKeys")
    def list_keys(
        self, *, Limit: Optional[int] = None, Marker: Optional[str] = None, ResourceOwners: Optional[Sequence[str]] = None
    ) -> Dict[str, Any]:
        # ResourceOwners (1 or 2 of SELF, OTHER_ACCOUNTS_VIA_RAM), as
        # `strongroom serve` reads it: the keystore's keys are listed unless
        # SELF is left out; no keys are shared with it through AWS RAM.
        owners = _list(ResourceOwners, "ResourceOwners")
        if owners is not None:
            for owner in owners:
                if owner not in ("SELF", "OTHER_ACCOUNTS_VIA_RAM"):
                    raise ValidationException(
                        f"ResourceOwners member {owner!r} is not one of SELF, OTHER_ACCOUNTS_VIA_RAM"
                    )
            if len(owners) > 2:
                raise ValidationException("ResourceOwners must have 1 or 2 members")
        # The keystore lists (and audits, and checks the marker) either way.
        page = self._ks.list_keys(limit=Limit, marker=Marker)
        if owners is not None and "SELF" not in owners:
            return _ok({"Keys": [], "Truncated": False})
        return _page("Keys", [{"KeyId": k.key_id, "KeyArn": k.key_arn} for k in page.keys], page)

    @_operation("UpdateKeyDescription")
    def update_key_description(self, *, KeyId: str, Description: str) -> Dict[str, Any]:
        self._ks.update_key_description(KeyId, Description)
        return _ok({})

    @_operation("EnableKey")
    def enable_key(self, *, KeyId: str) -> Dict[str, Any]:
        self._ks.enable_key(KeyId)
        return _ok({})

    @_operation("DisableKey")
    def disable_key(self, *, KeyId: str) -> Dict[str, Any]:
        self._ks.disable_key(KeyId)
        return _ok({})

    @_operation("ScheduleKeyDeletion")
    def schedule_key_deletion(self, *, KeyId: str, PendingWindowInDays: Optional[int] = None) -> Dict[str, Any]:
        r = self._ks.schedule_key_deletion(KeyId, pending_window_in_days=PendingWindowInDays)
        return _ok(
            {
                "KeyId": r.key_id,
                "DeletionDate": r.deletion_date,
                "KeyState": r.key_state,
                "PendingWindowInDays": r.pending_window_in_days,
            }
        )

    @_operation("CancelKeyDeletion")
    def cancel_key_deletion(self, *, KeyId: str) -> Dict[str, Any]:
        return _ok({"KeyId": self._ks.cancel_key_deletion(KeyId)})

    @_operation("EnableKeyRotation")
    def enable_key_rotation(self, *, KeyId: str, RotationPeriodInDays: Optional[int] = None) -> Dict[str, Any]:
        self._ks.enable_key_rotation(KeyId, rotation_period_in_days=RotationPeriodInDays)
        return _ok({})

    @_operation("DisableKeyRotation")
    def disable_key_rotation(self, *, KeyId: str) -> Dict[str, Any]:
        self._ks.disable_key_rotation(KeyId)
        return _ok({})

    @_operation("GetKeyRotationStatus")
    def get_key_rotation_status(self, *, KeyId: str) -> Dict[str, Any]:
        r = self._ks.get_key_rotation_status(KeyId)
        return _ok(
            {
                "KeyRotationEnabled": r.key_rotation_enabled,
                "KeyId": r.key_id,
                "RotationPeriodInDays": r.rotation_period_in_days,
                "NextRotationDate": r.next_rotation_date,
                "OnDemandRotationStartDate": r.on_demand_rotation_start_date,
            }
        )

    @_operation("RotateKeyOnDemand")
    def rotate_key_on_demand(self, *, KeyId: str) -> Dict[str, Any]:
        return _ok({"KeyId": self._ks.rotate_key_on_demand(KeyId)})

    @_operation("ListKeyRotations")
    def list_key_rotations(self, *, KeyId: str, Limit: Optional[int] = None, Marker: Optional[str] = None) -> Dict[str, Any]:
        page = self._ks.list_key_rotations(KeyId, limit=Limit, marker=Marker)
        rotations = [
            {"KeyId": r.key_id, "RotationDate": r.rotation_date, "RotationType": r.rotation_type}
            for r in page.rotations
        ]
        return _page("Rotations", rotations, page)

    # ---- aliases ------------------------------------------------------------

    @_operation("CreateAlias")
    def create_alias(self, *, AliasName: str, TargetKeyId: str) -> Dict[str, Any]:
        self._ks.create_alias(AliasName, TargetKeyId)
        return _ok({})

    @_operation("UpdateAlias")
    def update_alias(self, *, AliasName: str, TargetKeyId: str) -> Dict[str, Any]:
        self._ks.update_alias(AliasName, TargetKeyId)
        return _ok({})

    @_operation("DeleteAlias")
    def delete_alias(self, *, AliasName: str) -> Dict[str, Any]:
        self._ks.delete_alias(AliasName)
        return _ok({})

    @_operation("ListAliases")
    def list_aliases(self, *, KeyId: Optional[str] = None, Limit: Optional[int] = None, Marker: Optional[str] = None) -> Dict[str, Any]:
        page = self._ks.list_aliases(key_id=KeyId, limit=Limit, marker=Marker)
        aliases = [
            {
                "AliasName": a.alias_name,
                "AliasArn": a.alias_arn,
                "TargetKeyId": a.target_key_id,
                "CreationDate": a.creation_date,
                "LastUpdatedDate": a.last_updated_date,
            }
            for a in page.aliases
        ]
        return _page("Aliases", aliases, page)

    # ---- tags -----------------------------------------------------------------

    @_operation("TagResource")
    def tag_resource(self, *, KeyId: str, Tags: Sequence[Mapping[str, str]]) -> Dict[str, Any]:
        self._ks.tag_resource(KeyId, _tags_in(Tags) or {})
        return _ok({})

    @_operation("UntagResource")
    def untag_resource(self, *, KeyId: str, TagKeys: Sequence[str]) -> Dict[str, Any]:
        self._ks.untag_resource(KeyId, _list(TagKeys, "TagKeys") or [])
        return _ok({})

    @_operation("ListResourceTags")
    def list_resource_tags(self, *, KeyId: str, Limit: Optional[int] = None, Marker: Optional[str] = None) -> Dict[str, Any]:
        page = self._ks.list_resource_tags(KeyId, limit=Limit, marker=Marker)
        tags = [{"TagKey": t.tag_key, "TagValue": t.tag_value} for t in page.tags]
        return _page("Tags", tags, page)

    # ---- key policies and grants -------------------------------------------------

    @_operation("PutKeyPolicy")
    def put_key_policy(
        self,
        *,
        KeyId: str,
        PolicyName: Optional[str] = None,
        Policy: str,
        BypassPolicyLockoutSafetyCheck: bool = False,
    ) -> Dict[str, Any]:
        self._ks.put_key_policy(
            KeyId, Policy, policy_name=PolicyName, bypass_policy_lockout_safety_check=BypassPolicyLockoutSafetyCheck
        )
        return _ok({})

    @_operation("GetKeyPolicy")
    def get_key_policy(self, *, KeyId: str, PolicyName: Optional[str] = None) -> Dict[str, Any]:
        return _ok({"Policy": self._ks.get_key_policy(KeyId, policy_name=PolicyName), "PolicyName": PolicyName or "default"})

    @_operation("ListKeyPolicies")
    def list_key_policies(self, *, KeyId: str, Limit: Optional[int] = None, Marker: Optional[str] = None) -> Dict[str, Any]:
        page = self._ks.list_key_policies(KeyId, limit=Limit, marker=Marker)
        return _page("PolicyNames", list(page.policy_names), page)

    @_operation("CreateGrant")
    def create_grant(
        self,
        *,
        KeyId: str,
        GranteePrincipal: Optional[str] = None,
        RetiringPrincipal: Optional[str] = None,
        Operations: Sequence[str],
        Constraints: Optional[Mapping[str, Mapping[str, str]]] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        Name: Optional[str] = None,
        DryRun: bool = False,
        GranteeServicePrincipal: Optional[str] = None,
        RetiringServicePrincipal: Optional[str] = None,
    ) -> Dict[str, Any]:
        _no_service_principal(GranteeServicePrincipal, RetiringServicePrincipal)
        if GranteePrincipal is None:
            raise ValidationException("GranteePrincipal is required")
        r = self._on(DryRun).create_grant(
            KeyId,
            GranteePrincipal,
            _list(Operations, "Operations") or [],
            retiring_principal=RetiringPrincipal,
            constraints=Constraints,
            grant_tokens=_list(GrantTokens),
            name=Name,
        )
        return _ok({"GrantToken": r.grant_token, "GrantId": r.grant_id})

    @_operation("ListGrants")
    def list_grants(
        self,
        *,
        Limit: Optional[int] = None,
        Marker: Optional[str] = None,
        KeyId: str,
        GrantId: Optional[str] = None,
        GranteePrincipal: Optional[str] = None,
        GranteeServicePrincipal: Optional[str] = None,
    ) -> Dict[str, Any]:
        _no_service_principal(GranteeServicePrincipal)
        page = self._ks.list_grants(
            KeyId, limit=Limit, marker=Marker, grant_id=GrantId, grantee_principal=GranteePrincipal
        )
        return _page("Grants", [_grant(g) for g in page.grants], page)

    @_operation("ListRetirableGrants")
    def list_retirable_grants(
        self,
        *,
        Limit: Optional[int] = None,
        Marker: Optional[str] = None,
        RetiringPrincipal: Optional[str] = None,
        RetiringServicePrincipal: Optional[str] = None,
    ) -> Dict[str, Any]:
        _no_service_principal(RetiringServicePrincipal)
        if RetiringPrincipal is None:
            raise ValidationException("RetiringPrincipal is required")
        page = self._ks.list_retirable_grants(RetiringPrincipal, limit=Limit, marker=Marker)
        return _page("Grants", [_grant(g) for g in page.grants], page)

    @_operation("RetireGrant")
    def retire_grant(
        self,
        *,
        GrantToken: Optional[str] = None,
        KeyId: Optional[str] = None,
        GrantId: Optional[str] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        self._on(DryRun).retire_grant(grant_token=GrantToken, key_id=KeyId, grant_id=GrantId)
        return _ok({})

    @_operation("RevokeGrant")
    def revoke_grant(self, *, KeyId: str, GrantId: str, DryRun: bool = False) -> Dict[str, Any]:
        self._on(DryRun).revoke_grant(KeyId, GrantId)
        return _ok({})

    # ---- cryptographic operations ----------------------------------------------

    @_operation("Encrypt")
    def encrypt(
        self,
        *,
        KeyId: str,
        Plaintext: Any,
        EncryptionContext: Optional[Mapping[str, str]] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        EncryptionAlgorithm: Optional[str] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).encrypt(
            KeyId,
            _blob(Plaintext),
            encryption_context=EncryptionContext,
            encryption_algorithm=EncryptionAlgorithm,
            grant_tokens=_list(GrantTokens),
        )
        return _ok(
            {
                "CiphertextBlob": r.ciphertext_blob,
                "KeyId": r.key_id,
                "EncryptionAlgorithm": r.encryption_algorithm,
            }
        )

    @_operation("Decrypt")
    def decrypt(
        self,
        *,
        CiphertextBlob: Any,
        EncryptionContext: Optional[Mapping[str, str]] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        KeyId: Optional[str] = None,
        EncryptionAlgorithm: Optional[str] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).decrypt(
            _blob(CiphertextBlob),
            encryption_context=EncryptionContext,
            key_id=KeyId,
            encryption_algorithm=EncryptionAlgorithm,
            grant_tokens=_list(GrantTokens),
        )
        return _ok(
            {
                "KeyId": r.key_id,
                "Plaintext": r.plaintext,
                "EncryptionAlgorithm": r.encryption_algorithm,
            }
        )

    @_operation("ReEncrypt")
    def re_encrypt(
        self,
        *,
        CiphertextBlob: Any,
        SourceEncryptionContext: Optional[Mapping[str, str]] = None,
        SourceKeyId: Optional[str] = None,
        DestinationKeyId: str,
        DestinationEncryptionContext: Optional[Mapping[str, str]] = None,
        SourceEncryptionAlgorithm: Optional[str] = None,
        DestinationEncryptionAlgorithm: Optional[str] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).re_encrypt(
            _blob(CiphertextBlob),
            DestinationKeyId,
            source_encryption_context=SourceEncryptionContext,
            source_key_id=SourceKeyId,
            destination_encryption_context=DestinationEncryptionContext,
            source_encryption_algorithm=SourceEncryptionAlgorithm,
            destination_encryption_algorithm=DestinationEncryptionAlgorithm,
            grant_tokens=_list(GrantTokens),
        )
        return _ok(
            {
                "CiphertextBlob": r.ciphertext_blob,
                "SourceKeyId": r.source_key_id,
                "KeyId": r.key_id,
                "SourceEncryptionAlgorithm": r.source_encryption_algorithm,
                "DestinationEncryptionAlgorithm": r.destination_encryption_algorithm,
            }
        )

    @_operation("GenerateDataKey")
    def generate_data_key(
        self,
        *,
        KeyId: str,
        EncryptionContext: Optional[Mapping[str, str]] = None,
        NumberOfBytes: Optional[int] = None,
        KeySpec: Optional[str] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).generate_data_key(
            KeyId,
            key_spec=KeySpec,
            number_of_bytes=NumberOfBytes,
            encryption_context=EncryptionContext,
            grant_tokens=_list(GrantTokens),
        )
        return _ok({"CiphertextBlob": r.ciphertext_blob, "Plaintext": r.plaintext, "KeyId": r.key_id})

    @_operation("GenerateDataKeyWithoutPlaintext")
    def generate_data_key_without_plaintext(
        self,
        *,
        KeyId: str,
        EncryptionContext: Optional[Mapping[str, str]] = None,
        KeySpec: Optional[str] = None,
        NumberOfBytes: Optional[int] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).generate_data_key_without_plaintext(
            KeyId,
            key_spec=KeySpec,
            number_of_bytes=NumberOfBytes,
            encryption_context=EncryptionContext,
            grant_tokens=_list(GrantTokens),
        )
        return _ok({"CiphertextBlob": r.ciphertext_blob, "KeyId": r.key_id})

    @_operation("GenerateRandom")
    def generate_random(self, *, NumberOfBytes: Optional[int] = None) -> Dict[str, Any]:
        if NumberOfBytes is None:
            raise ValidationException("NumberOfBytes is required")
        return _ok({"Plaintext": self._ks.generate_random(NumberOfBytes)})

    # ---- asymmetric keys, HMAC keys, imported key material ----------------------

    @_operation("Sign")
    def sign(
        self,
        *,
        KeyId: str,
        Message: Any,
        MessageType: Optional[str] = None,
        GrantTokens: Optional[Sequence[str]] = None,
        SigningAlgorithm: str,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).sign(
            KeyId, _blob(Message), signing_algorithm=SigningAlgorithm, message_type=MessageType, grant_tokens=_list(GrantTokens)
        )
        return _ok({"KeyId": r.key_id, "Signature": r.signature, "SigningAlgorithm": r.signing_algorithm})

    @_operation("Verify")
    def verify(
        self,
        *,
        KeyId: str,
        Message: Any,
        MessageType: Optional[str] = None,
        Signature: Any,
        SigningAlgorithm: str,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).verify(
            KeyId,
            _blob(Message),
            _blob(Signature),
            signing_algorithm=SigningAlgorithm,
            message_type=MessageType,
            grant_tokens=_list(GrantTokens),
        )
        return _ok({"KeyId": r.key_id, "SignatureValid": r.signature_valid, "SigningAlgorithm": r.signing_algorithm})

    @_operation("GetPublicKey")
    def get_public_key(self, *, KeyId: str, GrantTokens: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        r = self._ks.get_public_key(KeyId, grant_tokens=_list(GrantTokens))
        return _ok(
            {
                "KeyId": r.key_id,
                "PublicKey": r.public_key,
                "CustomerMasterKeySpec": r.customer_master_key_spec,
                "KeySpec": r.key_spec,
                "KeyUsage": r.key_usage,
                "EncryptionAlgorithms": list(r.encryption_algorithms) or None,
                "SigningAlgorithms": list(r.signing_algorithms) or None,
                "KeyAgreementAlgorithms": list(r.key_agreement_algorithms) or None,
            }
        )

    @_operation("DeriveSharedSecret")
    def derive_shared_secret(
        self,
        *,
        KeyId: str,
        KeyAgreementAlgorithm: str,
        PublicKey: Any,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
        Recipient: Optional[Mapping[str, Any]] = None,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).derive_shared_secret(
            KeyId, _blob(PublicKey), KeyAgreementAlgorithm, _list(GrantTokens), recipient=Recipient
        )
        return _ok(
            {
                "KeyId": r.key_id,
                "SharedSecret": r.shared_secret,
                "KeyAgreementAlgorithm": r.key_agreement_algorithm,
                "KeyOrigin": r.key_origin,
            }
        )

    @_operation("GenerateMac")
    def generate_mac(
        self,
        *,
        Message: Any,
        KeyId: str,
        MacAlgorithm: str,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).generate_mac(
            KeyId, _blob(Message), mac_algorithm=MacAlgorithm, grant_tokens=_list(GrantTokens)
        )
        return _ok({"Mac": r.mac, "MacAlgorithm": r.mac_algorithm, "KeyId": r.key_id})

    @_operation("VerifyMac")
    def verify_mac(
        self,
        *,
        Message: Any,
        KeyId: str,
        MacAlgorithm: str,
        Mac: Any,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).verify_mac(
            KeyId, _blob(Message), _blob(Mac), mac_algorithm=MacAlgorithm, grant_tokens=_list(GrantTokens)
        )
        return _ok({"KeyId": r.key_id, "MacValid": r.mac_valid, "MacAlgorithm": r.mac_algorithm})

    @_operation("GenerateDataKeyPair")
    def generate_data_key_pair(
        self,
        *,
        EncryptionContext: Optional[Mapping[str, str]] = None,
        KeyId: str,
        KeyPairSpec: str,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).generate_data_key_pair(
            KeyId, KeyPairSpec, encryption_context=EncryptionContext, grant_tokens=_list(GrantTokens)
        )
        return _ok(
            {
                "PrivateKeyCiphertextBlob": r.private_key_ciphertext_blob,
                "PrivateKeyPlaintext": r.private_key_plaintext,
                "PublicKey": r.public_key,
                "KeyId": r.key_id,
                "KeyPairSpec": r.key_pair_spec,
            }
        )

    @_operation("GenerateDataKeyPairWithoutPlaintext")
    def generate_data_key_pair_without_plaintext(
        self,
        *,
        EncryptionContext: Optional[Mapping[str, str]] = None,
        KeyId: str,
        KeyPairSpec: str,
        GrantTokens: Optional[Sequence[str]] = None,
        DryRun: bool = False,
    ) -> Dict[str, Any]:
        r = self._on(DryRun).generate_data_key_pair_without_plaintext(
            KeyId, KeyPairSpec, encryption_context=EncryptionContext, grant_tokens=_list(GrantTokens)
        )
        return _ok(
            {
                "PrivateKeyCiphertextBlob": r.private_key_ciphertext_blob,
                "PublicKey": r.public_key,
                "KeyId": r.key_id,
                "KeyPairSpec": r.key_pair_spec,
            }
        )

    @_operation("GetParametersForImport")
    def get_parameters_for_import(
        self, *, KeyId: str, WrappingAlgorithm: str, WrappingKeySpec: str
    ) -> Dict[str, Any]:
        r = self._ks.get_parameters_for_import(
            KeyId, wrapping_algorithm=WrappingAlgorithm, wrapping_key_spec=WrappingKeySpec
        )
        return _ok(
            {
                "KeyId": r.key_id,
                "ImportToken": r.import_token,
                "PublicKey": r.public_key,
                "ParametersValidTo": r.parameters_valid_to,
            }
        )

    @_operation("ImportKeyMaterial")
    def import_key_material(
        self,
        *,
        KeyId: str,
        ImportToken: Any,
        EncryptedKeyMaterial: Any,
        ValidTo: Any = None,
        ExpirationModel: Optional[str] = None,
        ImportType: Optional[str] = None,
    ) -> Dict[str, Any]:
        valid_to = ValidTo
        if isinstance(ValidTo, datetime.datetime) and ValidTo.utcoffset() is None:
            # botocore serializes a naive datetime as UTC.
            valid_to = ValidTo.replace(tzinfo=datetime.timezone.utc)
        self._ks.import_key_material(
            KeyId,
            _blob(ImportToken),
            _blob(EncryptedKeyMaterial),
            valid_to=valid_to, expiration_model=ExpirationModel, import_type=ImportType
        )
        return _ok({})

    @_operation("DeleteImportedKeyMaterial")
    def delete_imported_key_material(self, *, KeyId: str) -> Dict[str, Any]:
        self._ks.delete_imported_key_material(KeyId)
        return _ok({})


def _no_service_principal(*given: Optional[str]) -> None:
    """AWS service principals (GranteeServicePrincipal, ...) name AWS
    services, which a local keystore does not serve."""
    if any(p is not None for p in given):
        raise UnsupportedOperationException("AWS service principals are not supported by a local keystore")


def _grant(g: Any) -> Dict[str, Any]:
    """A GrantListEntry as the KMS response dictionary."""
    d: Dict[str, Any] = {
        "KeyId": g.key_id,
        "GrantId": g.grant_id,
        "Name": g.name,
        "CreationDate": g.creation_date,
        "GranteePrincipal": g.grantee_principal,
        "RetiringPrincipal": g.retiring_principal,
        "IssuingAccount": g.issuing_account,
        "Operations": list(g.operations),
    }
    c = g.constraints
    if c is not None:
        d["Constraints"] = {
            k: v
            for k, v in (
                ("EncryptionContextEquals", c.encryption_context_equals),
                ("EncryptionContextSubset", c.encryption_context_subset),
            )
            if v is not None
        }
    return {k: v for k, v in d.items() if v is not None}


def _list(v: Optional[Sequence[str]], name: str = "GrantTokens") -> Optional[List[str]]:
    """A list parameter; like botocore, only a list or tuple is one (a
    ``str`` is not split into characters)."""
    if v is None:
        return None
    if not isinstance(v, (list, tuple)):
        raise _ParamErrors([_invalid_type(name, v, (list, tuple))])
    return list(v)


def client(keystore: _strongroom.Keystore) -> Client:
    """A boto3-compatible KMS client over ``keystore``
    (``strongroom.client(ks)`` where you had ``boto3.client("kms")``)."""
    return Client(keystore)

