"""The external anchor (docs/FORMAT.md, "Keystore anchor") from Python:
`anchor=` on create and open, `anchor_init=` for a missing one."""

from __future__ import annotations

from pathlib import Path

import pytest

import strongroom


def test_a_keystore_put_back_is_refused_with_the_anchor(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "elsewhere.anchor"
    with strongroom.Keystore.create(path, root_key=root_key, anchor=anchor) as ks:
        key = ks.create_key().key_id
    assert anchor.exists()
    log = Path(f"{path}.audit.jsonl")
    saved = [(p, p.read_bytes()) for p in (path, log)]
    with strongroom.Keystore.open(path, root_key=root_key, anchor=anchor) as ks:
        ks.disable_key(key)
    for p, b in saved:
        p.write_bytes(b)
    with pytest.raises(strongroom.KMSInternalException, match="keystore anchor"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=anchor)


def test_a_missing_anchor_is_refused_unless_initialised(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "later.anchor"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        ks.create_key()
    with pytest.raises(strongroom.KMSInternalException, match="missing"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=anchor)
    with pytest.raises(strongroom.ValidationException):
        strongroom.Keystore.open(path, root_key=root_key, anchor_init=True)
    with strongroom.Keystore.open(path, root_key=root_key, anchor=anchor, anchor_init=True) as ks:
        ks.create_key()
    assert anchor.exists()
    with strongroom.Keystore.open(path, root_key=root_key, anchor=anchor) as ks:
        assert len(ks.list_keys().keys) == 2


def test_create_refuses_an_anchor_in_use(tmp_path: Path, root_key: bytes) -> None:
    anchor = tmp_path / "shared.anchor"
    with strongroom.Keystore.create(tmp_path / "a.db", root_key=root_key, anchor=anchor):
        pass
    before = anchor.read_bytes()
    with pytest.raises(strongroom.AlreadyExistsException, match="anchor"):
        strongroom.Keystore.create(tmp_path / "b.db", root_key=root_key, anchor=anchor)
    assert not (tmp_path / "b.db").exists()
    assert anchor.read_bytes() == before


def test_an_anchor_that_is_a_keystore_file_is_refused(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    log = Path(f"{path}.audit.jsonl")
    for own in (log, path):
        with pytest.raises(strongroom.ValidationException, match="would destroy"):
            strongroom.Keystore.create(path, root_key=root_key, anchor=own)
        assert not path.exists()
    with strongroom.Keystore.create(path, root_key=root_key, anchor=tmp_path / "a.anchor") as ks:
        ks.create_key()
    before = log.read_bytes()
    with pytest.raises(strongroom.ValidationException, match="audit log"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=log, anchor_init=True)
    assert log.read_bytes() == before
    with strongroom.Keystore.open(path, root_key=root_key, anchor=tmp_path / "a.anchor") as ks:
        assert len(ks.list_keys().keys) == 1
