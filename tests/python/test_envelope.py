"""Envelope streaming and files from Python, and interop with the CLI."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import List, Optional

import pytest

import strongroom
from conftest import REPO


def test_stream_round_trip(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    data = os.urandom(100_000)
    src, dst = io.BytesIO(data), io.BytesIO()
    s = ks.encrypt_stream(src, dst, key_ids=[key.key_id], encryption_context={"a": "b"}, frame_length=1000)
    assert s["plaintext_length"] == len(data)
    assert s["message_length"] == len(dst.getvalue())
    out = io.BytesIO()
    d = ks.decrypt_stream(io.BytesIO(dst.getvalue()), out)
    assert out.getvalue() == data and d["plaintext_length"] == len(data)


def test_empty_stream(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    dst = io.BytesIO()
    ks.encrypt_stream(io.BytesIO(b""), dst, key_ids=[key.key_id])
    out = io.BytesIO()
    ks.decrypt_stream(io.BytesIO(dst.getvalue()), out)
    assert out.getvalue() == b""


def test_tampered_stream_fails(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    dst = io.BytesIO()
    ks.encrypt_stream(io.BytesIO(b"secret" * 100), dst, key_ids=[key.key_id])
    msg = bytearray(dst.getvalue())
    msg[-100] ^= 1
    with pytest.raises(strongroom.KMSError):
        ks.decrypt_stream(io.BytesIO(bytes(msg)), io.BytesIO())


class Boom(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> Optional[bytes]:
        raise OSError("boom")


def test_reader_errors_propagate(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    with pytest.raises(OSError, match="boom"):
        ks.encrypt_stream(Boom(), io.BytesIO(), key_ids=[key.key_id])


def test_files(ks: strongroom.Keystore, key: strongroom.KeyMetadata, tmp_path: Path) -> None:
    data = os.urandom(10_000)
    (tmp_path / "in").write_bytes(data)
    ks.encrypt_file(tmp_path / "in", tmp_path / "enc", key_ids=[key.key_id], encryption_context={"f": "1"})
    ks.decrypt_file(str(tmp_path / "enc"), str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == data
    with open(tmp_path / "enc", "rb") as f:
        out = io.BytesIO()
        ks.decrypt_stream(f, out)
    assert out.getvalue() == data


@pytest.fixture(scope="module")
def cli() -> str:
    explicit = os.environ.get("STRONGROOM_CLI")
    if explicit:
        return explicit
    for profile in ("release", "debug"):
        exe = REPO / "target" / profile / "strongroom"
        if exe.exists():
            return str(exe)
    cargo = shutil.which("cargo")
    if cargo is None:  # pragma: no cover
        pytest.fail("no strongroom CLI binary and no cargo to build one")
    subprocess.run([cargo, "build", "--release", "-q", "-p", "strongroom-cli"], cwd=REPO, check=True)
    return str(REPO / "target" / "release" / "strongroom")


def run(cli: str, ks: Path, root: Path, *args: str) -> None:
    cmd: List[str] = [cli, "--keystore", str(ks), "--root-key-file", str(root), *args]
    subprocess.run(cmd, capture_output=True, text=True, check=True)


def test_cli_envelope_interop(cli: str, tmp_path: Path) -> None:
    root = tmp_path / "root.key"
    root.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    ks_path = tmp_path / "interop.db"
    with strongroom.Keystore.create(ks_path, root_key_file=root) as ks:
        key = ks.create_key(description="envelope interop")
        data = os.urandom(50_000)
        (tmp_path / "plain").write_bytes(data)

        # CLI -> Python
        run(cli, ks_path, root, "-o", str(tmp_path / "cli.enc"), "encrypt-file",
            "-i", str(tmp_path / "plain"), "--key-id", key.key_id, "--encryption-context", "k=v")
        out = io.BytesIO()
        with open(tmp_path / "cli.enc", "rb") as f:
            ks.decrypt_stream(f, out)
        assert out.getvalue() == data

        # Python -> CLI
        with open(tmp_path / "plain", "rb") as src, open(tmp_path / "py.enc", "wb") as dst:
            ks.encrypt_stream(src, dst, key_ids=[key.key_id], encryption_context={"k": "v"})
        run(cli, ks_path, root, "-o", str(tmp_path / "py.out"), "decrypt-file",
            "-i", str(tmp_path / "py.enc"), "--required-context", "k=v")
        assert (tmp_path / "py.out").read_bytes() == data
