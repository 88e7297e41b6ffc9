"""Shared fixtures of the Python binding's tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

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
