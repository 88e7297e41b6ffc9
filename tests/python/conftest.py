"""Shared fixtures of the Python binding's tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List

import pytest

import strongroom

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def ks(tmp_path: Path, root_key: bytes) -> Iterator[strongroom.Keystore]:
    with strongroom.Keystore.create(tmp_path / "ks.db", root_key=root_key) as k:
        yield k


@pytest.fixture
def key(ks: strongroom.Keystore) -> strongroom.KeyMetadata:
    return ks.create_key(description="test key")


@pytest.fixture(scope="session")
def cli() -> str:
    """The strongroom CLI: $STRONGROOM_CLI, else target/{release,debug}, else built."""
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


def run_cli(cli: str, ks: Path, root: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    """Runs the CLI on keystore `ks` with root key file `root`; fails with its stderr."""
    cmd: List[str] = [cli, "--keystore", str(ks), "--root-key-file", str(root), *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r
