"""Envelope encryption (AWS Encryption SDK message format) of streams and
files from Python: round trips, options, when plaintext is released, error
mapping, constant memory, and interop with the CLI's encrypt-file /
decrypt-file."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

import strongroom
from conftest import run_cli as run

SIGNED = 0x0578
UNSIGNED = 0x0478
OTHER = "arn:aws:iam::111122223333:user/app"


def encrypt_bytes(ks: strongroom.Keystore, data: bytes, key_ids: List[str], **kw: object) -> bytes:
    dst = io.BytesIO()
    ks.encrypt_stream(io.BytesIO(data), dst, key_ids=key_ids, **kw)  # type: ignore[arg-type]
    return dst.getvalue()


# ---- round trips and what the summary says ---------------------------------------------


def test_stream_round_trip(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    data = os.urandom(100_000)
    src, dst = io.BytesIO(data), io.BytesIO()
    s = ks.encrypt_stream(src, dst, key_ids=[key.key_id], encryption_context={"a": "b"}, frame_length=1000)
    assert isinstance(s, strongroom.EnvelopeSummary)
    assert s.plaintext_length == len(data) and s.message_length == len(dst.getvalue())
    assert s.algorithm_suite_id == SIGNED and s.algorithm_suite == "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"
    assert s.frame_length == 1000 and len(s.message_id) == 32
    assert s.key_arns == (key.arn,)
    # Signed suites carry the verification key in the encryption context.
    assert s.encryption_context["a"] == "b" and "aws-crypto-public-key" in s.encryption_context
    out = io.BytesIO()
    d = ks.decrypt_stream(io.BytesIO(dst.getvalue()), out)
    assert out.getvalue() == data
    assert d.plaintext_length == len(data) and d.message_length == s.message_length
    assert d.encryption_context == s.encryption_context and d.message_id == s.message_id
    assert "EnvelopeSummary(" in repr(d)


def test_empty_stream(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    msg = encrypt_bytes(ks, b"", [key.key_id])
    out = io.BytesIO()
    assert ks.decrypt_stream(io.BytesIO(msg), out).plaintext_length == 0
    assert out.getvalue() == b""


def test_unsigned_suite_and_unsigned_only(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    data = os.urandom(20_000)
    msg = encrypt_bytes(ks, data, [key.key_id], algorithm_suite=UNSIGNED, frame_length=512)
    out = io.BytesIO()
    s = ks.decrypt_stream(io.BytesIO(msg), out, unsigned_only=True)
    assert out.getvalue() == data and s.algorithm_suite_id == UNSIGNED
    assert "aws-crypto-public-key" not in s.encryption_context
    # A signed message is refused before any plaintext is produced.
    signed = encrypt_bytes(ks, data, [key.key_id])
    out = io.BytesIO()
    with pytest.raises(strongroom.ValidationException, match="signed"):
        ks.decrypt_stream(io.BytesIO(signed), out, unsigned_only=True)
    assert out.getvalue() == b""


def test_decrypt_file_unsigned_only(ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path) -> None:
    data = os.urandom(20_000)
    src, dst = tmp_path / "m.sr", tmp_path / "m.out"
    src.write_bytes(encrypt_bytes(ks, data, [key.key_id], algorithm_suite=UNSIGNED, frame_length=512))
    s = ks.decrypt_file(src, dst, unsigned_only=True)
    assert dst.read_bytes() == data and s.algorithm_suite_id == UNSIGNED
    # Signed: refused before any data key is unwrapped (no Decrypt event), nothing written.
    dst.unlink()
    src.write_bytes(encrypt_bytes(ks, data, [key.key_id]))
    decrypts = len(ks.audit_events(event_name="Decrypt"))
    with pytest.raises(strongroom.ValidationException, match="signed"):
        ks.decrypt_file(src, dst, unsigned_only=True)
    assert not dst.exists()
    assert len(ks.audit_events(event_name="Decrypt")) == decrypts


def test_read_header_without_keys(ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path) -> None:
    other = ks.create_key()
    msg = encrypt_bytes(ks, os.urandom(5000), [key.key_id, other.key_id], encryption_context={"a": "b"}, frame_length=1024)
    # From bytes and from a file object, reading only the header.
    h = strongroom.read_header(msg)
    assert isinstance(h, strongroom.MessageHeader) and "MessageHeader(" in repr(h)
    assert h.algorithm_suite_id == SIGNED and h.message_format_version == 2 and len(h.message_id) == 32
    assert h.key_arns == (key.arn, other.arn) and h.frame_length == 1024 and h.content_type == "Framed"
    assert h.encrypted_data_keys[0] == ("aws-kms", key.arn.encode())
    assert h.encryption_context["a"] == "b"
    src = io.BytesIO(msg)
    assert strongroom.read_header(src).message_id == h.message_id
    assert src.tell() < len(msg)
    # No keystore is involved: a plain file works too.
    path = tmp_path / "m.bin"
    path.write_bytes(msg)
    with open(path, "rb") as f:
        assert strongroom.read_header(f).key_arns == h.key_arns
    for bad in (b"", b"not a message", msg[:40]):
        with pytest.raises(strongroom.InvalidCiphertextException):
            strongroom.read_header(bad)
    with pytest.raises(OSError, match="boom"):
        strongroom.read_header(Boom())
    with pytest.raises(TypeError):
        strongroom.read_header("text")  # type: ignore[arg-type]


def test_several_keys_and_strict_decryption(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    second = ks.create_key(description="second")
    third = ks.create_key(description="third")
    ks.create_alias("alias/env-second", second.key_id)
    msg = encrypt_bytes(ks, b"both", [key.key_id, "alias/env-second"])
    for ids in ([key.arn], [second.key_id], ["alias/env-second"], [third.key_id, second.arn]):
        out = io.BytesIO()
        s = ks.decrypt_stream(io.BytesIO(msg), out, key_ids=ids)
        assert out.getvalue() == b"both" and s.key_arns == (key.arn, second.arn)
    # Strict decryption with a key that did not wrap the data key fails.
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_stream(io.BytesIO(msg), io.BytesIO(), key_ids=[third.key_id])
    # Without the wrapping keys, discovery cannot decrypt either.
    ks.disable_key(key.key_id)
    ks.disable_key(second.key_id)
    with pytest.raises(strongroom.DisabledException):
        ks.decrypt_stream(io.BytesIO(msg), io.BytesIO())


def test_encrypted_data_key_limit_on_decrypt(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path
) -> None:
    # A message with 11 EDKs: refused by default (limit 10) before any key is
    # unwrapped, read with max_encrypted_data_keys=None (no limit).
    eleven = encrypt_bytes(ks, b"eleven", [key.key_id] * 11)
    assert len(strongroom.read_header(eleven).key_arns) == 11
    path_in, path_out = tmp_path / "eleven.msg", tmp_path / "eleven.out"
    path_in.write_bytes(eleven)
    decrypts = len(ks.audit_events(key_id=key.key_id, event_name="Decrypt"))
    out = io.BytesIO()
    with pytest.raises(strongroom.ValidationException, match=r"the limit on encrypted data keys \(10\)"):
        ks.decrypt_stream(io.BytesIO(eleven), out)
    assert out.getvalue() == b""
    with pytest.raises(strongroom.ValidationException, match=r"the limit on encrypted data keys \(10\)"):
        ks.decrypt_file(path_in, path_out)
    assert not path_out.exists()
    assert len(ks.audit_events(key_id=key.key_id, event_name="Decrypt")) == decrypts
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(eleven), out, max_encrypted_data_keys=None)
    assert out.getvalue() == b"eleven"
    ks.decrypt_file(path_in, path_out, max_encrypted_data_keys=None)
    assert path_out.read_bytes() == b"eleven"
    # Ten are within the default; an explicit limit below the count refuses.
    ten = encrypt_bytes(ks, b"ten", [key.key_id] * 10)
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(ten), out)
    assert out.getvalue() == b"ten"
    with pytest.raises(strongroom.ValidationException, match=r"the limit on encrypted data keys \(9\)"):
        ks.decrypt_stream(io.BytesIO(ten), io.BytesIO(), max_encrypted_data_keys=9)
    with pytest.raises(strongroom.ValidationException):
        ks.decrypt_stream(io.BytesIO(ten), io.BytesIO(), max_encrypted_data_keys=65536)
    with pytest.raises(TypeError):
        ks.decrypt_stream(io.BytesIO(ten), io.BytesIO(), max_encrypted_data_keys="10")  # type: ignore[arg-type]


def test_empty_key_ids_are_refused_in_the_python_apis_terms(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata
) -> None:
    # The message names the keyword (key_ids) and, for decryption, None for
    # any key of the keystore; not the Rust API (KmsKeyring::discovery).
    msg = encrypt_bytes(ks, b"one", [key.key_id])
    with pytest.raises(strongroom.ValidationException, match=r"key_ids must name at least one") as e:
        ks.encrypt_message(b"x", key_ids=[])
    assert "::" not in str(e.value)
    with pytest.raises(strongroom.ValidationException, match=r"or be None \(the default\)") as e:
        ks.decrypt_message(msg, key_ids=[])
    assert "::" not in str(e.value)
    assert ks.decrypt_message(msg)[0] == b"one"


class _Unread(io.RawIOBase):
    """A source whose reads fail the test: an argument error must come first."""

    def readable(self) -> bool:
        return True

    def readinto(self, b: object) -> int:
        raise AssertionError("src was read")


def test_zero_max_encrypted_data_keys_is_refused_as_the_esdk_does(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path
) -> None:
    # The AWS Encryption SDK for Python's client raises ValueError ("cannot be
    # less than 1") for 0 on encrypt and decrypt; here it is a
    # ValidationException, before the source is read or KMS is called.
    msg = encrypt_bytes(ks, b"one", [key.key_id])
    path_in, path_out = tmp_path / "one.msg", tmp_path / "one.out"
    path_in.write_bytes(msg)
    calls = len(ks.audit_events(key_id=key.key_id))
    zero = r"the limit on encrypted data keys cannot be less than 1"
    with pytest.raises(strongroom.ValidationException, match=zero):
        ks.decrypt_stream(_Unread(), io.BytesIO(), max_encrypted_data_keys=0)
    with pytest.raises(strongroom.ValidationException, match=zero):
        ks.decrypt_file(path_in, path_out, max_encrypted_data_keys=0)
    assert not path_out.exists()
    with pytest.raises(strongroom.ValidationException, match=zero):
        ks.encrypt_stream(_Unread(), io.BytesIO(), key_ids=[key.key_id], max_encrypted_data_keys=0)
    with pytest.raises(strongroom.ValidationException, match=zero):
        ks.encrypt_file(path_in, tmp_path / "two.msg", key_ids=[key.key_id], max_encrypted_data_keys=0)
    assert not (tmp_path / "two.msg").exists()
    with pytest.raises(strongroom.ValidationException):
        ks.decrypt_stream(io.BytesIO(msg), io.BytesIO(), max_encrypted_data_keys=-1)
    assert len(ks.audit_events(key_id=key.key_id)) == calls
    # 1 is the smallest limit; None (no limit) and the default 10 stay.
    for limit in (1, None, 10):
        out = io.BytesIO()
        ks.decrypt_stream(io.BytesIO(msg), out, max_encrypted_data_keys=limit)
        assert out.getvalue() == b"one"


def test_required_encryption_context(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    msg = encrypt_bytes(ks, b"ctx", [key.key_id], encryption_context={"tenant": "a", "kind": "x"})
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(msg), out, required_encryption_context={"tenant": "a"})
    assert out.getvalue() == b"ctx"
    out = io.BytesIO()
    with pytest.raises(strongroom.KMSError) as e:
        ks.decrypt_stream(io.BytesIO(msg), out, required_encryption_context={"tenant": "b"})
    assert e.value.code in ("ValidationException", "InvalidCiphertextException")
    assert out.getvalue() == b""


def test_commitment_policy(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    msg = encrypt_bytes(ks, b"p", [key.key_id], commitment_policy="require_encrypt_allow_decrypt")
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(msg), out, commitment_policy="REQUIRE_ENCRYPT_REQUIRE_DECRYPT")
    assert out.getvalue() == b"p"
    with pytest.raises(strongroom.ValidationException):
        encrypt_bytes(ks, b"p", [key.key_id], commitment_policy="FORBID_ENCRYPT_ALLOW_DECRYPT")
    with pytest.raises(strongroom.ValidationException, match="commitment policy"):
        encrypt_bytes(ks, b"p", [key.key_id], commitment_policy="sometimes")
    with pytest.raises(strongroom.ValidationException, match="commitment policy"):
        ks.decrypt_stream(io.BytesIO(msg), io.BytesIO(), commitment_policy="sometimes")
    # The ESDK for Java's spelling of the names parses too.
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(msg), out, commitment_policy="RequireEncryptRequireDecrypt")
    assert out.getvalue() == b"p"


@pytest.mark.parametrize(
    "suite, want",
    [
        ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", SIGNED),
        ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY", UNSIGNED),
        ("aes_256_gcm_hkdf_sha512_commit_key", UNSIGNED),
        ("0x0478", UNSIGNED),
        (UNSIGNED, UNSIGNED),
    ],
)
def test_algorithm_suite_by_name_or_id(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path, suite: object, want: int
) -> None:
    msg = encrypt_bytes(ks, b"named", [key.key_id], algorithm_suite=suite)
    out = io.BytesIO()
    assert ks.decrypt_stream(io.BytesIO(msg), out).algorithm_suite_id == want
    assert out.getvalue() == b"named"
    (tmp_path / "in").write_bytes(b"named")
    s = ks.encrypt_file(tmp_path / "in", tmp_path / "enc", key_ids=[key.key_id], algorithm_suite=suite)  # type: ignore[arg-type]
    assert s.algorithm_suite_id == want


# ---- bad parameters and key errors --------------------------------------------------------


def test_encrypt_parameter_errors(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    with pytest.raises(strongroom.ValidationException):
        encrypt_bytes(ks, b"x", [])
    with pytest.raises(strongroom.ValidationException, match="algorithm suite"):
        encrypt_bytes(ks, b"x", [key.key_id], algorithm_suite=0x1234)
    with pytest.raises(strongroom.ValidationException):
        encrypt_bytes(ks, b"x", [key.key_id], algorithm_suite=0x10000)
    with pytest.raises(strongroom.ValidationException, match="AES_256_GCM_HKDF_SHA512_COMMIT_KEY"):
        encrypt_bytes(ks, b"x", [key.key_id], algorithm_suite="AES_128_GCM_IV12_TAG16_NO_KDF")
    with pytest.raises(TypeError, match="int or a str"):
        encrypt_bytes(ks, b"x", [key.key_id], algorithm_suite=1.5)
    with pytest.raises(strongroom.ValidationException):
        encrypt_bytes(ks, b"x", [key.key_id], frame_length=0)
    with pytest.raises(TypeError):
        encrypt_bytes(ks, b"x", [key.key_id], frame_length="4096")
    with pytest.raises(strongroom.ValidationException):
        encrypt_bytes(ks, b"x", [key.key_id, key.key_id], max_encrypted_data_keys=1)
    with pytest.raises(TypeError):
        encrypt_bytes(ks, b"x", [key.key_id], encryption_context={"a": 1})
    with pytest.raises(strongroom.NotFoundException):
        encrypt_bytes(ks, b"x", ["alias/none"])
    ks.disable_key(key.key_id)
    with pytest.raises(strongroom.DisabledException):
        encrypt_bytes(ks, b"x", [key.key_id])


def test_principal_and_grants_apply(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    app = ks.as_principal(OTHER)
    with pytest.raises(strongroom.AccessDeniedException):
        encrypt_bytes(app, b"x", [key.key_id])
    msg = encrypt_bytes(ks, b"granted", [key.key_id])
    with pytest.raises(strongroom.AccessDeniedException):
        app.decrypt_stream(io.BytesIO(msg), io.BytesIO())
    ks.create_grant(key.key_id, OTHER, ["GenerateDataKey", "Decrypt"])
    out = io.BytesIO()
    app.decrypt_stream(io.BytesIO(encrypt_bytes(app, b"granted", [key.key_id])), out)
    assert out.getvalue() == b"granted"


def test_grant_tokens_are_sent_and_checked(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path
) -> None:
    app = ks.as_principal(OTHER)
    g = ks.create_grant(key.key_id, OTHER, ["GenerateDataKey", "Decrypt"])
    tokens = [g.grant_token]
    (tmp_path / "in").write_bytes(b"granted file")
    app.encrypt_file(tmp_path / "in", tmp_path / "enc", key_ids=[key.key_id], grant_tokens=tokens)
    app.decrypt_file(tmp_path / "enc", tmp_path / "out", key_ids=[key.key_id], grant_tokens=tokens)
    assert (tmp_path / "out").read_bytes() == b"granted file"
    msg = encrypt_bytes(app, b"granted", [key.key_id], grant_tokens=tokens)
    out = io.BytesIO()
    app.decrypt_stream(io.BytesIO(msg), out, grant_tokens=tokens)
    assert out.getvalue() == b"granted"
    with pytest.raises(strongroom.ValidationException):
        encrypt_bytes(app, b"x", [key.key_id], grant_tokens=tokens * 11)
    with pytest.raises(strongroom.InvalidGrantTokenException):
        encrypt_bytes(app, b"x", [key.key_id], grant_tokens=["garbage"])
    with pytest.raises(strongroom.InvalidGrantTokenException):
        app.decrypt_stream(io.BytesIO(msg), io.BytesIO(), grant_tokens=["garbage"])
    with pytest.raises(strongroom.ValidationException):
        app.encrypt_file(tmp_path / "in", tmp_path / "enc2", key_ids=[key.key_id], grant_tokens=tokens * 11)
    with pytest.raises(strongroom.InvalidGrantTokenException):
        app.decrypt_file(tmp_path / "enc", tmp_path / "out2", grant_tokens=["garbage"])
    assert not (tmp_path / "enc2").exists() and not (tmp_path / "out2").exists()


# ---- what reaches the output when authentication fails --------------------------------------


def test_tampered_signed_stream_releases_nothing(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    data = os.urandom(50_000)
    msg = bytearray(encrypt_bytes(ks, data, [key.key_id], frame_length=1024))
    msg[-10] ^= 1  # in the footer's signature: every frame still authenticates
    out = io.BytesIO()
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_stream(io.BytesIO(bytes(msg)), out)
    assert out.getvalue() == b""
    out = io.BytesIO()
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_stream(io.BytesIO(bytes(msg[:-200])), out)  # truncated
    assert out.getvalue() == b""


def test_truncated_unsigned_stream_releases_only_an_authenticated_prefix(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata
) -> None:
    data = os.urandom(50_000)
    msg = encrypt_bytes(ks, data, [key.key_id], algorithm_suite=UNSIGNED, frame_length=1024)
    out = io.BytesIO()
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_stream(io.BytesIO(msg[: len(msg) // 2]), out, unsigned_only=True)
    got = out.getvalue()
    assert 0 < len(got) < len(data) and data.startswith(got) and len(got) % 1024 == 0
    tampered = bytearray(msg)
    tampered[len(msg) // 2] ^= 1
    out = io.BytesIO()
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_stream(io.BytesIO(bytes(tampered)), out)
    assert data.startswith(out.getvalue()) and len(out.getvalue()) < len(data)


def test_files(ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path) -> None:
    data = os.urandom(10_000)
    (tmp_path / "in").write_bytes(data)
    s = ks.encrypt_file(tmp_path / "in", tmp_path / "enc", key_ids=[key.key_id], encryption_context={"f": "1"})
    assert s.message_length == (tmp_path / "enc").stat().st_size
    d = ks.decrypt_file(str(tmp_path / "enc"), str(tmp_path / "out"), required_encryption_context={"f": "1"})
    assert (tmp_path / "out").read_bytes() == data and d.plaintext_length == len(data)
    with open(tmp_path / "enc", "rb") as f:
        out = io.BytesIO()
        ks.decrypt_stream(f, out, key_ids=[key.key_id])
    assert out.getvalue() == data
    ks.encrypt_file(tmp_path / "in", tmp_path / "enc2", key_ids=[key.key_id], algorithm_suite=UNSIGNED)
    ks.decrypt_file(tmp_path / "enc2", tmp_path / "out2", key_ids=[key.arn])
    assert (tmp_path / "out2").read_bytes() == data


@pytest.mark.parametrize("suite", [SIGNED, UNSIGNED])
def test_decrypt_file_all_or_nothing(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path, suite: int
) -> None:
    tmp_path = tmp_path / "files"
    tmp_path.mkdir()
    data = os.urandom(100_000)
    msg = bytearray(encrypt_bytes(ks, data, [key.key_id], algorithm_suite=suite, frame_length=4096))
    msg[-300] ^= 1  # in the last frames: earlier frames authenticate
    (tmp_path / "bad.enc").write_bytes(bytes(msg))
    (tmp_path / "existing").write_bytes(b"old contents")
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_file(tmp_path / "bad.enc", tmp_path / "existing")
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_file(tmp_path / "bad.enc", tmp_path / "new")
    assert (tmp_path / "existing").read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.enc", "existing"]


def test_file_errors(ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path) -> None:
    tmp_path = tmp_path / "files"
    tmp_path.mkdir()
    # A path of the caller's that cannot be used is a ValidationException
    # naming it (as in the CLI), not the library's KMSInternalException.
    missing = str(tmp_path / "missing")
    with pytest.raises(strongroom.ValidationException, match="cannot open the input " + re.escape(missing)):
        ks.encrypt_file(tmp_path / "missing", tmp_path / "out", key_ids=[key.key_id])
    with pytest.raises(strongroom.ValidationException, match="cannot open the input " + re.escape(missing)):
        ks.decrypt_file(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "in").write_bytes(b"data")
    no_dir = str(tmp_path / "no-such-dir" / "out")
    with pytest.raises(strongroom.ValidationException, match=re.escape(no_dir)):
        ks.encrypt_file(tmp_path / "in", no_dir, key_ids=[key.key_id])
    with pytest.raises(strongroom.ValidationException, match="is a directory"):
        ks.encrypt_file(tmp_path, tmp_path / "out", key_ids=[key.key_id])
    with pytest.raises(strongroom.NotFoundException):
        ks.encrypt_file(tmp_path / "in", tmp_path / "out", key_ids=["alias/none"])
    (tmp_path / "junk").write_bytes(b"not a message at all")
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_file(tmp_path / "junk", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "junk"]


def test_files_of_the_keystore_are_never_an_output(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path
) -> None:
    """encrypt_file / decrypt_file refuse the keystore, its -wal/-shm, its
    audit log and its root key files as their output, also through links:
    writing one would lose every key. The refusal is the CLI's."""
    (tmp_path / "in").write_bytes(b"data")
    ks.encrypt_file(tmp_path / "in", tmp_path / "in.sr", key_ids=[key.key_id])
    db = tmp_path / "ks.db"
    os.symlink(db, tmp_path / "link.db")
    os.link(str(db) + ".audit.jsonl", tmp_path / "hard.jsonl")
    cases = {
        db: "the keystore",
        tmp_path / "link.db": "the keystore",
        tmp_path / "ks.db-wal": "the keystore's write-ahead log",
        tmp_path / "ks.db-shm": "the keystore's shared-memory file",
        tmp_path / "ks.db.audit.jsonl": "the keystore's audit log",
        tmp_path / "hard.jsonl": "the keystore's audit log",
        tmp_path / "ks.key": "the default root key file",
    }
    for out, what in cases.items():
        expected = f"the output {out} is {what}: writing it would destroy it; choose another path"
        with pytest.raises(strongroom.ValidationException, match=re.escape(expected)):
            ks.decrypt_file(tmp_path / "in.sr", out)
        with pytest.raises(strongroom.ValidationException, match=re.escape(expected)):
            ks.encrypt_file(tmp_path / "in", out, key_ids=[key.key_id])
    assert ks.verify_audit_log().intact
    assert ks.describe_key(key.key_id).key_id == key.key_id
    assert not (tmp_path / "ks.key").exists()


def test_root_key_file_is_never_an_output(tmp_path: Path, root_key: bytes) -> None:
    (tmp_path / "root.key").write_bytes(root_key)
    strongroom.Keystore.create(tmp_path / "a.db", root_key_file=tmp_path / "root.key").close()
    with strongroom.Keystore.open(tmp_path / "a.db", root_key_file=tmp_path / "root.key") as ks:
        key = ks.create_key()
        (tmp_path / "in").write_bytes(b"data")
        with pytest.raises(strongroom.ValidationException, match="is the root key file"):
            ks.encrypt_file(tmp_path / "in", tmp_path / "root.key", key_ids=[key.key_id])
    assert (tmp_path / "root.key").read_bytes() == root_key


# ---- Python file objects that misbehave --------------------------------------------------------


class Boom(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> Optional[bytes]:
        raise OSError("boom")


class Returns:
    def __init__(self, value: object) -> None:
        self.value = value

    def read(self, size: int) -> object:
        return self.value


class FailingWriter:
    def __init__(self, after: int) -> None:
        self.left = after

    def write(self, b: bytes) -> int:
        if self.left <= 0:
            raise OSError("disk full")
        self.left -= len(b)
        return len(b)


class ShortWriter:
    """Writes at most 100 bytes per call, as raw files may."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def write(self, b: bytes) -> int:
        self.buf += b[:100]
        return min(len(b), 100)


def test_file_object_errors_propagate(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    with pytest.raises(OSError, match="boom"):
        ks.encrypt_stream(Boom(), io.BytesIO(), key_ids=[key.key_id])
    with pytest.raises(OSError, match="boom"):
        ks.decrypt_stream(Boom(), io.BytesIO())
    with pytest.raises(TypeError, match="bytes-like"):
        ks.encrypt_stream(Returns("text"), io.BytesIO(), key_ids=[key.key_id])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-blocking"):
        ks.encrypt_stream(Returns(None), io.BytesIO(), key_ids=[key.key_id])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="returned"):
        ks.encrypt_stream(Returns(b"x" * 100_000), io.BytesIO(), key_ids=[key.key_id])  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        ks.encrypt_stream(object(), io.BytesIO(), key_ids=[key.key_id])  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disk full"):
        ks.encrypt_stream(io.BytesIO(os.urandom(200_000)), FailingWriter(1000), key_ids=[key.key_id])
    msg = encrypt_bytes(ks, os.urandom(200_000), [key.key_id], algorithm_suite=UNSIGNED)
    with pytest.raises(OSError, match="disk full"):
        ks.decrypt_stream(io.BytesIO(msg), FailingWriter(1000))
    # Text-mode files are refused rather than mangled.
    with pytest.raises(TypeError):
        ks.encrypt_stream(io.StringIO("text"), io.BytesIO(), key_ids=[key.key_id])  # type: ignore[arg-type]


def test_short_writes_and_bytearray_reads(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    data = os.urandom(30_000)

    class ByteArrayReader:
        def __init__(self) -> None:
            self.src = io.BytesIO(data)

        def read(self, n: int) -> bytearray:
            return bytearray(self.src.read(n))

    w = ShortWriter()
    ks.encrypt_stream(ByteArrayReader(), w, key_ids=[key.key_id])
    out = ShortWriter()
    ks.decrypt_stream(io.BytesIO(bytes(w.buf)), out)
    assert bytes(out.buf) == data


def test_concurrent_streams(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    """Several threads stream at once through one keystore handle."""
    blobs = [os.urandom(300_000) for _ in range(4)]
    results: List[Optional[bytes]] = [None] * len(blobs)

    def work(i: int) -> None:
        msg = encrypt_bytes(ks, blobs[i], [key.key_id], frame_length=8192)
        out = io.BytesIO()
        ks.decrypt_stream(io.BytesIO(msg), out)
        results[i] = out.getvalue()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(blobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == blobs


class GilProbe:
    """Counts, in a second thread, the moments it holds the GIL. With the
    switch interval set very long, a thread running Python code is never
    preempted, so the probe can only count while the main thread has
    released the GIL (a blocking call, or native code that detaches)."""

    def __init__(self) -> None:
        self.count = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        while not self._stop:
            self.count += 1
            time.sleep(0)  # releases the GIL: the main thread takes it back at once

    def __enter__(self) -> "GilProbe":
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join()
        sys.setswitchinterval(self._interval)


def test_gil_is_released_while_streams_and_files_work(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path
) -> None:
    data = os.urandom(4 * 1024 * 1024)
    (tmp_path / "in").write_bytes(data)
    counts = {}
    made: Dict[str, bytes] = {}
    with GilProbe() as probe:
        for name, call in (
            ("encrypt_stream", lambda: made.setdefault("msg", encrypt_bytes(ks, data, [key.key_id]))),
            ("encrypt_file", lambda: ks.encrypt_file(tmp_path / "in", tmp_path / "enc", key_ids=[key.key_id])),
            ("decrypt_file", lambda: ks.decrypt_file(tmp_path / "enc", tmp_path / "out")),
            ("decrypt_stream", lambda: ks.decrypt_stream(io.BytesIO(made["msg"]), io.BytesIO())),
        ):
            before = probe.count
            call()
            counts[name] = probe.count - before
        # Control: pure-Python work of the main thread does not let the probe run.
        before = probe.count
        sum(i * i for i in range(300_000))
        control = probe.count - before
    assert (tmp_path / "out").read_bytes() == data
    print(f"\nGIL probe iterations during: {counts}, during pure Python work: {control}")
    assert control == 0
    assert all(n > 0 for n in counts.values()), counts


# ---- constant memory ------------------------------------------------------------------------------


class GeneratedReader:
    """A file object over a generator: `total` pseudo-random bytes made on demand."""

    def __init__(self, total: int) -> None:
        self.digest = hashlib.sha256()
        self._chunks = self._generate(total)
        self._pending = b""

    @staticmethod
    def _generate(total: int) -> Iterator[bytes]:
        block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB
        made = 0
        while made < total:
            chunk = block[: min(len(block), total - made)]
            made += len(chunk)
            yield bytes([made % 251]) + chunk[1:]

    def read(self, n: int) -> bytes:
        if not self._pending:
            self._pending = next(self._chunks, b"")
        out, self._pending = self._pending[:n], self._pending[n:]
        self.digest.update(out)
        return out


class HashingWriter:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.length = 0

    def write(self, b: bytes) -> int:
        self.digest.update(b)
        self.length += len(b)
        return len(b)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc")
@pytest.mark.parametrize("suite", [SIGNED, UNSIGNED])
def test_streaming_64_mib_in_constant_memory(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path, suite: int
) -> None:
    total = 64 * 1024 * 1024
    bound = 16 * 1024 * 1024  # a quarter of the data: growth must not scale with it
    # Warm up (first-call allocations: keyring, thread-locals, tracemalloc tables).
    encrypt_bytes(ks, os.urandom(200_000), [key.key_id], algorithm_suite=suite)

    tracemalloc.start()
    try:
        rss0 = rss_bytes()
        src = GeneratedReader(total)
        with open(tmp_path / "big.enc", "wb") as f:
            s = ks.encrypt_stream(src, f, key_ids=[key.key_id], algorithm_suite=suite, frame_length=65536)
        _, enc_peak = tracemalloc.get_traced_memory()
        rss1 = rss_bytes()
        tracemalloc.reset_peak()
        out = HashingWriter()
        with open(tmp_path / "big.enc", "rb") as f:
            d = ks.decrypt_stream(f, out)
        _, dec_peak = tracemalloc.get_traced_memory()
        rss2 = rss_bytes()
    finally:
        tracemalloc.stop()
    assert s.plaintext_length == total == d.plaintext_length == out.length
    assert out.digest.digest() == src.digest.digest()
    print(
        f"\n64 MiB suite 0x{suite:04X}: Python peak {enc_peak / 2**20:.2f} / {dec_peak / 2**20:.2f} MiB, "
        f"RSS growth {(rss1 - rss0) / 2**20:.1f} / {(rss2 - rss1) / 2**20:.1f} MiB (encrypt / decrypt)"
    )
    assert enc_peak < bound and dec_peak < bound
    assert rss1 - rss0 < bound and rss2 - rss1 < bound


# ---- interop with the CLI ----------------------------------------------------------------------------


@pytest.mark.parametrize("suite", [SIGNED, UNSIGNED])
def test_cli_envelope_interop(cli: str, tmp_path: Path, suite: int) -> None:
    root = tmp_path / "root.key"
    root.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    ks_path = tmp_path / "interop.db"
    with strongroom.Keystore.create(ks_path, root_key_file=root) as ks:
        key = ks.create_key(description="envelope interop")
        other = ks.create_key(description="second wrapping key")
        data = os.urandom(50_000)
        (tmp_path / "plain").write_bytes(data)

        # CLI -> Python (stream and file)
        run(cli, ks_path, root, "-o", str(tmp_path / "cli.enc"), "encrypt-file", "-i", str(tmp_path / "plain"),
            "--key-id", key.key_id, "--key-id", other.key_id, "--encryption-context", "k=v",
            "--algorithm-suite", f"0x{suite:04X}", "--frame-length", "1000")
        out = io.BytesIO()
        with open(tmp_path / "cli.enc", "rb") as f:
            s = ks.decrypt_stream(f, out, key_ids=[other.key_id], required_encryption_context={"k": "v"},
                                  unsigned_only=suite == UNSIGNED)
        assert out.getvalue() == data
        assert s.algorithm_suite_id == suite and s.frame_length == 1000 and s.key_arns == (key.arn, other.arn)
        ks.decrypt_file(tmp_path / "cli.enc", tmp_path / "cli.out")
        assert (tmp_path / "cli.out").read_bytes() == data

        # Python -> CLI
        with open(tmp_path / "plain", "rb") as src, open(tmp_path / "py.enc", "wb") as dst:
            ks.encrypt_stream(src, dst, key_ids=[key.key_id], encryption_context={"k": "v"}, algorithm_suite=suite)
        run(cli, ks_path, root, "-o", str(tmp_path / "py.out"), "decrypt-file", "-i", str(tmp_path / "py.enc"),
            "--required-context", "k=v")
        assert (tmp_path / "py.out").read_bytes() == data
        ks.encrypt_file(tmp_path / "plain", tmp_path / "py2.enc", key_ids=[other.arn])
        cp = subprocess.run(
            [cli, "--keystore", str(ks_path), "--root-key-file", str(root), "-o", "-", "decrypt-file",
             "-i", str(tmp_path / "py2.enc"), "--key-id", other.key_id],
            capture_output=True,
        )
        assert cp.returncode == 0, cp.stderr
        assert cp.stdout == data


class ReturnsFromWrite:
    """A file object whose write() returns `value` whatever it is given."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    def write(self, b: bytes) -> object:
        self.calls += 1
        return self.value


def test_bad_write_results_raise(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    """write() returning None (a non-blocking raw file that wrote nothing),
    a negative count or more than it was given is a ValueError, never a
    full write, in both directions."""
    msg = encrypt_bytes(ks, os.urandom(5000), [key.key_id], algorithm_suite=UNSIGNED)
    for value, match in [(None, "non-blocking"), (0, "returned 0"), (-1, "returned -1"), (10**9, "returned 1000000000")]:
        w = ReturnsFromWrite(value)
        with pytest.raises(ValueError, match=match):
            ks.encrypt_stream(io.BytesIO(os.urandom(5000)), w, key_ids=[key.key_id])  # type: ignore[arg-type]
        assert w.calls == 1
        with pytest.raises(ValueError, match=match):
            ks.decrypt_stream(io.BytesIO(msg), ReturnsFromWrite(value))  # type: ignore[arg-type]
    # Not an int: a bool (True is no byte count: taking it as 1 resent the
    # rest and corrupted the message while reporting success), a str, a float.
    for value, name in [(True, "bool"), (False, "bool"), ("3", "str"), (3.0, "float")]:
        w = ReturnsFromWrite(value)
        with pytest.raises(TypeError, match=f"write\\(\\) must return an int .* not {name}"):
            ks.encrypt_stream(io.BytesIO(os.urandom(5000)), w, key_ids=[key.key_id])  # type: ignore[arg-type]
        assert w.calls == 1
        with pytest.raises(TypeError, match=f"not {name}"):
            ks.decrypt_stream(io.BytesIO(msg), ReturnsFromWrite(value))  # type: ignore[arg-type]


# ---- one-call messages in memory (bytes in, bytes out) ------------------------------


@pytest.mark.parametrize("suite", [SIGNED, UNSIGNED])
def test_message_round_trip_matches_the_streams(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, suite: int
) -> None:
    for n in [0, 1, 511, 512, 513, 3 * 512 + 5]:
        data = os.urandom(n)
        msg, s = ks.encrypt_message(
            data, key_ids=[key.key_id], encryption_context={"a": "b"}, frame_length=512, algorithm_suite=suite
        )
        assert isinstance(msg, bytes) and isinstance(s, strongroom.EnvelopeSummary)
        assert s.plaintext_length == n and s.message_length == len(msg)
        assert s.algorithm_suite_id == suite and s.frame_length == 512 and s.key_arns == (key.arn,)
        # The message decrypts through the stream API, and a streamed one through decrypt_message.
        out = io.BytesIO()
        ks.decrypt_stream(io.BytesIO(msg), out)
        assert out.getvalue() == data
        streamed = encrypt_bytes(ks, data, [key.key_id], frame_length=512, algorithm_suite=suite)
        for m in (msg, bytearray(streamed), memoryview(streamed)):
            pt, d = ks.decrypt_message(m, required_encryption_context={"a": "b"} if m is msg else None)
            assert pt == data and isinstance(pt, strongroom.SecretBytes)
            assert repr(pt) == f"SecretBytes(<redacted: {n} bytes>)"
            assert d.plaintext_length == n and d.message_length == len(m)
    # bytearray and memoryview plaintexts too
    for src in (bytearray(b"xyz"), memoryview(b"xyz")):
        msg, _ = ks.encrypt_message(src, key_ids=[key.key_id], algorithm_suite=suite)
        assert ks.decrypt_message(msg)[0] == b"xyz"


@pytest.mark.parametrize("suite", [SIGNED, UNSIGNED])
def test_message_failing_in_its_last_frame_or_signature_raises(
    ks: strongroom.Keystore, key: strongroom.KeyMetadata, suite: int
) -> None:
    # decrypt_message decrypts in place into a bytes of the plaintext's
    # length (read from the framing): a message that fails after its other
    # frames decrypted raises, and returns nothing.
    data = os.urandom(5000)
    msg, _ = ks.encrypt_message(data, key_ids=[key.key_id], frame_length=512, algorithm_suite=suite)
    # The final frame's ciphertext; the last byte (the signature, or the
    # final frame's tag).
    for i in (len(msg) - (150 if suite == SIGNED else 30), len(msg) - 1):
        bad = bytearray(msg)
        bad[i] ^= 1
        with pytest.raises(strongroom.InvalidCiphertextException):
            ks.decrypt_message(bytes(bad))
    pt, s = ks.decrypt_message(msg)
    assert pt == data and s.plaintext_length == 5000


def test_message_tampering_and_options_raise(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    msg, _ = ks.encrypt_message(os.urandom(5000), key_ids=[key.key_id], frame_length=512)
    for bad in (msg[:-1], msg + b"\0", msg[:-200] + bytes([msg[-200] ^ 1]) + msg[-199:]):
        with pytest.raises(strongroom.InvalidCiphertextException):
            ks.decrypt_message(bad)
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt_message(b"x", key_ids=[key.key_id], frame_length=0)
    with pytest.raises(strongroom.ValidationException):
        ks.decrypt_message(msg, max_encrypted_data_keys=0)
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.decrypt_message(msg, required_encryption_context={"a": "b"})
    with pytest.raises(TypeError):
        ks.encrypt_message("text", key_ids=[key.key_id])  # type: ignore[arg-type]


def test_frame_lengths_and_the_max_frame_buffer(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    """Frame lengths above 256 MiB are refused on encryption (so every
    message Strongroom writes streams with the default options); a stream
    whose frames exceed `max_frame_buffer` is LimitExceededException naming
    the option, without internal names; one call reads every frame length."""
    for frame_length in (2**28 + 1, 2**31 - 1):
        with pytest.raises(strongroom.ValidationException, match=r"between 1 and 268435456 bytes \(256 MiB"):
            ks.encrypt_message(b"x", key_ids=[key.key_id], frame_length=frame_length)
    msg, _ = ks.encrypt_message(b"tiny", key_ids=[key.key_id], frame_length=2**28)
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(msg), out)
    assert out.getvalue() == b"tiny"
    msg = encrypt_bytes(ks, b"y" * 5000, [key.key_id])
    with pytest.raises(strongroom.LimitExceededException, match="max frame buffer: 100 bytes") as e:
        ks.decrypt_stream(io.BytesIO(msg), io.BytesIO(), max_frame_buffer=100)
    assert "max_content_buffer" not in str(e.value)
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(msg), out, max_frame_buffer=4096)
    assert out.getvalue() == b"y" * 5000
    # Out of range: core's one rule and message, for the stream and the file.
    for bad in (0, -1, 2**32, 2**64):
        with pytest.raises(strongroom.ValidationException) as e:
            ks.decrypt_stream(io.BytesIO(msg), io.BytesIO(), max_frame_buffer=bad)
        assert e.value.message == "max frame buffer must be 1 to 4294967295 bytes (default 268435456, 256 MiB)"
    with pytest.raises(strongroom.ValidationException, match=r"^ValidationException: max frame buffer must be 1 to 4294967295 bytes"):
        ks.decrypt_file("/nonexistent/in", "/nonexistent/out", key_ids=[key.key_id], max_frame_buffer=2**32)
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(msg), out, max_frame_buffer=2**32 - 1)
    assert out.getvalue() == b"y" * 5000
    with pytest.raises(TypeError):
        ks.decrypt_stream(io.BytesIO(msg), io.BytesIO(), max_frame_buffer=True)
