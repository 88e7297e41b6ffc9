"""No input panics the library: hostile blobs, identifiers, contexts and
types raise KMSError (or TypeError/ValueError for wrong Python types),
never pyo3's PanicException (a BaseException) and never a crash."""

from __future__ import annotations

import os
import random
from typing import Any, Callable

import pytest

import strongroom
from strongroom import Keystore

ALLOWED = (strongroom.KMSError, TypeError, ValueError)


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except ALLOWED:
        pass
    except BaseException as e:  # PanicException derives from BaseException
        pytest.fail(f"{type(e).__module__}.{type(e).__name__} escaped: {e!r}")


STRINGS = [
    "",
    " ",
    "\x00",
    "alias/",
    "alias/" + "a" * 300,
    "arn:aws:kms:",
    "arn:aws:kms:local-1:000000000000:key/",
    "arn:aws:kms:local-1:000000000000:alias/x",
    "arn:" * 100,
    "k" * 100_000,
    "\u00e9\u4e2d\U0001f600",
    "\ud800",  # a lone surrogate cannot be encoded as UTF-8
    "00000000-0000-0000-0000-00000000000g",
    "../../etc/passwd",
]


def test_hostile_identifiers(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    for s in STRINGS:
        call(ks.describe_key, s)
        call(ks.encrypt, s, b"x")
        call(ks.generate_data_key, s, key_spec="AES_256")
        call(ks.create_alias, s, key.key_id)
        call(ks.create_alias, "alias/ok", s)
        call(ks.delete_alias, s)
        call(ks.list_keys, marker=s)
        call(ks.list_aliases, key_id=s, marker=s)
        call(ks.list_resource_tags, key.key_id, marker=s)
        call(ks.list_key_rotations, key.key_id, marker=s)
        call(ks.create_key, key_spec=s)
        call(ks.create_key, description=s)
        call(ks.create_key, policy=s)
        call(ks.tag_resource, key.key_id, {s: s})
        call(ks.untag_resource, key.key_id, [s])
        call(ks.encrypt, key.key_id, b"x", encryption_context={s: s})
        call(ks.encrypt, key.key_id, b"x", grant_tokens=[s])
        call(ks.decrypt, b"x", key_id=s)


def test_hostile_blobs(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    rng = random.Random(1234)
    good = ks.encrypt(key.key_id, b"payload", encryption_context={"a": "b"}).ciphertext_blob
    blobs = [b"", good[:1], good[:-1], good + b"\x00", bytes(len(good)), b"\xff" * 5000]
    for _ in range(300):
        b = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        blobs.append(bytes(b))
        blobs.append(good[: rng.randrange(len(good))])
        blobs.append(os.urandom(rng.randrange(0, 400)))
    for blob in blobs:
        if blob == good:
            continue
        with pytest.raises(strongroom.KMSError):
            ks.decrypt(blob, encryption_context={"a": "b"})
        call(ks.re_encrypt, blob, key.key_id, source_encryption_context={"a": "b"})


def test_hostile_python_objects(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    class Weird:
        def items(self) -> Any:
            raise RuntimeError("items() blew up")

    class BadMapping:
        def items(self) -> Any:
            return [("a",)]  # not pairs

    odd: list[Any] = [None, 0, -1, 2**100, 1.5, float("nan"), "s", b"b", [], {}, object(), Weird(), BadMapping()]
    for v in odd:
        for fn, kw in (
            (ks.encrypt, {"key_id": key.key_id, "plaintext": v}),
            (ks.encrypt, {"key_id": key.key_id, "plaintext": b"x", "encryption_context": v}),
            (ks.encrypt, {"key_id": key.key_id, "plaintext": b"x", "grant_tokens": v}),
            (ks.generate_data_key, {"key_id": key.key_id, "number_of_bytes": v}),
            (ks.generate_random, {"number_of_bytes": v}),
            (ks.list_keys, {"limit": v}),
            (ks.decrypt, {"ciphertext_blob": v}),
            (ks.tag_resource, {"key_id": key.key_id, "tags": v}),
        ):
            try:
                fn(**kw)
            except (strongroom.KMSError, TypeError, ValueError, RuntimeError):
                pass  # RuntimeError: Weird.items() itself, propagated unchanged
            except BaseException as e:
                pytest.fail(f"{fn.__name__}({kw}): {type(e).__name__} escaped: {e!r}")


def test_hostile_root_keys(tmp_path: Any) -> None:
    for i, rk in enumerate([b"", b"x" * 31, b"x" * 33, "not base64!", "\ud800", b"\x00" * 1000, "A" * 44]):
        call(Keystore.create, tmp_path / f"r{i}.db", root_key=rk)
    call(Keystore.create, tmp_path / "acct.db", root_key=os.urandom(32), account="\ud800")
    call(Keystore.open, tmp_path / "\x00", root_key=os.urandom(32))
    call(Keystore.create, tmp_path / "nodir" / "x" / "y.db", root_key=os.urandom(32))
