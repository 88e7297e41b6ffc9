"""No input panics the library: hostile blobs, identifiers, contexts and
types raise KMSError (or TypeError/ValueError for wrong Python types),
never pyo3's PanicException (a BaseException) and never a crash."""

from __future__ import annotations

import os
import random
import sys
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


def test_out_of_limit_identifiers_raise_the_kms_exception(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    """The inputs of test_hostile_identifiers that KMS refuses, each with the
    exception KMS raises: `call()` there passes on success too, so a
    regression that accepted them would go unseen (audit F1)."""
    v = strongroom.ValidationException
    cases: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], type]] = [
        (ks.create_alias, ("alias/" + "a" * 300, key.key_id), {}, v),  # AliasName is 1-256
        (ks.create_key, (), {"description": "k" * 100_000}, v),  # Description is 0-8192
        (ks.create_key, (), {"key_spec": ""}, v),
        (ks.tag_resource, (key.key_id, {"k" * 100_000: "v"}), {}, v),  # TagKey is 1-128
        (ks.tag_resource, (key.key_id, {"k": "v" * 257}), {}, v),  # TagValue is 0-256
        (ks.describe_key, ("",), {}, v),  # KeyId is 1-2048
        (ks.encrypt, ("\ud800", b"x"), {}, v),  # not UTF-8
        (ks.encrypt, (key.key_id, b"x"), {"encryption_context": {"\ud800": "x"}}, v),
    ]
    for fn, args, kwargs, expected in cases:
        with pytest.raises(expected):
            fn(*args, **kwargs)
    assert [a.alias_name for a in ks.list_aliases(key_id=key.key_id).aliases] == []
    assert ks.list_resource_tags(key.key_id).tags == ()


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


def test_out_of_limit_root_keys_raise_validation_exception(tmp_path: Any) -> None:
    """Each root key test_hostile_root_keys tries is refused with
    ValidationException and leaves no file (audit F1); so are a lone
    surrogate in the account; a path with a NUL names no file (NotFoundException)."""
    for i, rk in enumerate([b"", b"x" * 31, b"x" * 33, "not base64!", "\ud800", b"\x00" * 1000, "A" * 44]):
        with pytest.raises(strongroom.ValidationException):
            Keystore.create(tmp_path / f"r{i}.db", root_key=rk)
        assert not (tmp_path / f"r{i}.db").exists()
    with pytest.raises(strongroom.ValidationException):
        Keystore.create(tmp_path / "acct.db", root_key=os.urandom(32), account="\ud800")
    assert not (tmp_path / "acct.db").exists()
    with pytest.raises(strongroom.NotFoundException):
        Keystore.open(tmp_path / "\x00", root_key=os.urandom(32))


def test_str_root_key_is_only_base64_or_hex(tmp_path: Any) -> None:
    """A str root key is base64 or hex text of 32 bytes; a 32-character
    password (or any other text) is refused, pointing to passphrase=."""
    import base64

    raw = os.urandom(32)
    for i, text in enumerate([base64.b64encode(raw).decode(), raw.hex(), raw.hex().upper(), f" {raw.hex()}\n"]):
        Keystore.create(tmp_path / f"ok{i}.db", root_key=text).close()
        Keystore.open(tmp_path / f"ok{i}.db", root_key=raw).close()
    for i, bad in enumerate(["password-password-password-passw", "\u00e9" * 16, "x" * 31, "x" * 33, "A" * 44, "\ud800"]):
        with pytest.raises(strongroom.ValidationException, match="passphrase="):
            Keystore.create(tmp_path / f"bad{i}.db", root_key=bad)
        assert not (tmp_path / f"bad{i}.db").exists()
    # The same 32 characters as bytes are 32 raw key bytes, as documented.
    Keystore.create(tmp_path / "raw.db", root_key=b"password-password-password-passw").close()
    # And as a passphrase they are a passphrase.
    Keystore.create(tmp_path / "pw.db", passphrase="password-password-password-passw").close()


def test_str_is_not_a_sequence_of_str(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    """A lone str where a sequence of str is wanted is a clear TypeError,
    not pyo3's "Can't extract `str` to `Vec`" nor a list of characters."""
    import io

    cases: list = [  # type: ignore[type-arg]
        (ks.encrypt, (key.key_id, b"x"), {"grant_tokens": "tok"}),
        (ks.untag_resource, (key.key_id, "abc"), {}),
        (ks.encrypt_stream, (io.BytesIO(b"x"), io.BytesIO()), {"key_ids": "kid"}),
        (ks.decrypt_stream, (io.BytesIO(b"x"), io.BytesIO()), {"key_ids": "kid"}),
        (ks.create_grant, (key.key_id, "arn:aws:iam::000000000000:user/u", "Encrypt"), {}),
    ]
    for fn, args, kwargs in cases:
        with pytest.raises(TypeError, match="sequence of str") as e:
            fn(*args, **kwargs)
        assert "Can't extract" not in str(e.value)
    with pytest.raises(TypeError, match="sequence of str"):
        ks.encrypt(key.key_id, b"x", grant_tokens=[b"tok"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="sequence of str"):
        ks.encrypt(key.key_id, b"x", grant_tokens=5)  # type: ignore[arg-type]
    # Tuples and other iterables of str are still sequences of str.
    ks.untag_resource(key.key_id, ("abc",))
    ks.encrypt(key.key_id, b"x", grant_tokens=iter([]))  # type: ignore[arg-type]


def test_lone_surrogates_are_validation_errors(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    """Text UTF-8 cannot encode is a ValidationException naming the
    parameter, not a UnicodeEncodeError."""
    for ctx in ({"a": "\ud800"}, {"\udfff": "v"}):
        with pytest.raises(strongroom.ValidationException, match="encryption_context.*surrogate"):
            ks.encrypt(key.key_id, b"x", encryption_context=ctx)
    with pytest.raises(strongroom.ValidationException, match="surrogate"):
        ks.encrypt(key.key_id, b"x", grant_tokens=["\ud800"])
    with pytest.raises(strongroom.ValidationException, match="passphrase.*surrogate"):
        Keystore.create(ks.path.with_name("s.db"), passphrase="\ud800")


def _str_parameters() -> list[tuple[str, str, dict[str, str]]]:
    """(method, str parameter, other parameters by annotation) of every
    method of `Keystore` in the type stubs."""
    import ast
    import pathlib

    stub = pathlib.Path(strongroom.__file__).with_name("_strongroom.pyi")
    tree = ast.parse(stub.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Keystore")
    out = []
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_"):
            continue
        args = fn.args.args + fn.args.kwonlyargs
        annotations = {a.arg: ast.unparse(a.annotation) for a in args if a.annotation is not None}
        for name, ann in annotations.items():
            if ann in ("str", "Optional[str]"):
                out.append((fn.name, name, annotations))
    return out


def _filler(annotation: str, tmp: str) -> Any:
    """A well-typed value for a parameter that is not under test."""
    if annotation == "str":
        return "x"
    if annotation.startswith("Optional[") or "None" in annotation:
        return None
    if annotation == "_StrPath":
        return tmp
    if annotation == "bool":
        return False
    if annotation == "Sequence[str]":
        return []
    if annotation.startswith("Literal["):
        import ast

        literal = ast.parse(annotation, mode="eval").body
        assert isinstance(literal, ast.Subscript)
        first = literal.slice.elts[0] if isinstance(literal.slice, ast.Tuple) else literal.slice
        return ast.literal_eval(first)
    return b"x"


def test_lone_surrogates_in_any_str_parameter(ks: Keystore, tmp_path: Any) -> None:
    """Every `str` parameter of every method (read from the stubs, so a new
    one is covered) refuses a lone surrogate with ValidationException, as a
    KMS endpoint refuses invalid input, not with UnicodeEncodeError."""
    import io

    cases = _str_parameters()
    assert len(cases) > 80 and ("describe_key", "key_id") in [c[:2] for c in cases]
    tmp = str(tmp_path / "out")
    for method, param, annotations in cases:
        kwargs = {p: _filler(a, tmp) for p, a in annotations.items() if p != "self"}
        kwargs[param] = "ab\ud800"
        target = Keystore if method in ("create", "open") else ks
        with pytest.raises(strongroom.ValidationException, match=r"surrogate \(U\+D800 at index 2\)") as e:
            getattr(target, method)(**kwargs)
        if sys.version_info >= (3, 11):  # pyo3 names the argument in a note
            assert f"while processing '{param}'" in getattr(e.value, "__notes__", [])
    # Inside mappings (tags, constraints, contexts) and algorithm suites too.
    key_id = ks.create_key().key_id
    with pytest.raises(strongroom.ValidationException, match="tags"):
        ks.tag_resource(key_id, {"k": "\udfff"})
    with pytest.raises(strongroom.ValidationException, match="surrogate"):
        ks.create_grant(
            key_id,
            "arn:aws:iam::000000000000:user/u",
            ["Encrypt"],
            constraints={"EncryptionContextSubset": {"\ud800": "v"}},
        )
    with pytest.raises(strongroom.ValidationException, match="algorithm_suite"):
        ks.encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), key_ids=[key_id], algorithm_suite="\ud800")
    # The boto-compatible client gets the same error.
    with pytest.raises(ks.client().exceptions.ValidationException):
        ks.client().describe_key(KeyId="\ud800")
    # File paths are as Python's own open(): a path that cannot be encoded
    # is a UnicodeEncodeError.
    with pytest.raises(UnicodeEncodeError):
        Keystore.create(str(tmp_path / "\ud800.db"), root_key=os.urandom(32))
