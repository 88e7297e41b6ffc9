"""The external anchor (docs/FORMAT.md, "Keystore anchor") from Python:
`anchor=` on create and open, `anchor_init=` for a missing one,
`anchor=False` to open an anchored keystore without it (audited),
`anchor_status()` and `remove_anchor()`."""

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
    with pytest.raises(strongroom.KMSInternalException, match="behind its anchor"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=anchor)
    # Without the anchor: refused, naming how to give it; anchor=False opts out.
    with pytest.raises(strongroom.KMSInvalidStateException, match="anchor="):
        strongroom.Keystore.open(path, root_key=root_key)
    with strongroom.Keystore.open(path, root_key=root_key, anchor=False) as ks:
        assert ks.describe_key(key).enabled
        assert ks.anchor_status()["Anchored"] is True
    assert "OpenKeystoreWithoutAnchor" in log.read_text()


def test_anchor_status_and_remove(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "ks.anchor"
    with strongroom.Keystore.create(path, root_key=root_key, anchor=anchor) as ks:
        ks.create_key()
    with strongroom.Keystore.open(path, root_key=root_key, anchor=False) as ks:
        with pytest.raises(strongroom.ValidationException):
            ks.remove_anchor()
        ks.create_key()
    with pytest.raises(strongroom.ValidationException):
        strongroom.Keystore.open(path, root_key=root_key, anchor=True)  # type: ignore[arg-type]
    with strongroom.Keystore.open(path, root_key=root_key, anchor=anchor) as ks:
        st = ks.anchor_status()
        assert st["Anchored"] and st["AnchorGiven"] and st["AnchorBehind"] is False
        assert st["AnchorCounter"] == st["KeystoreCounter"]
        ks.remove_anchor()
        assert ks.anchor_status()["Anchored"] is False
    with strongroom.Keystore.open(path, root_key=root_key) as ks:
        st = ks.anchor_status()
        assert st["Anchored"] is False and st["AnchorCounter"] is None
    assert "RemoveKeystoreAnchor" in Path(f"{path}.audit.jsonl").read_text()


def test_an_anchor_that_is_not_a_regular_file_is_a_validation_error(tmp_path: Path, root_key: bytes) -> None:
    for bad in (Path("/dev/null"), tmp_path):
        with pytest.raises(strongroom.ValidationException, match="not a regular file"):
            strongroom.Keystore.create(tmp_path / "ks.db", root_key=root_key, anchor=bad)
        assert not (tmp_path / "ks.db").exists()


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


def test_an_anchored_keystore_is_re_anchored_only_deliberately(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "ks.anchor"
    fresh = tmp_path / "fresh.anchor"
    with strongroom.Keystore.create(path, root_key=root_key, anchor=anchor) as ks:
        ks.create_key()
    # A fresh anchor with anchor_init does not take the keystore's place.
    with pytest.raises(strongroom.KMSInvalidStateException, match="holds no record"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=fresh, anchor_init=True)
    assert not fresh.exists()
    with pytest.raises(strongroom.ValidationException):
        strongroom.Keystore.open(path, root_key=root_key, anchor_reinit=True)
    with strongroom.Keystore.open(path, root_key=root_key, anchor=fresh, anchor_reinit=True) as ks:
        ks.create_key()
    log = Path(f"{path}.audit.jsonl").read_text()
    assert "ReinitializeKeystoreAnchor" in log
    with pytest.raises(strongroom.KMSInvalidStateException, match="another anchor ID"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=anchor)
    with strongroom.Keystore.open(path, root_key=root_key, anchor=fresh) as ks:
        assert ks.anchor_status()["AnchorBehind"] is False


def test_a_handle_opened_before_anchoring_is_refused(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "ks.anchor"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        key = ks.create_key().key_id
    plain = strongroom.Keystore.open(path, root_key=root_key)
    try:
        with strongroom.Keystore.open(path, root_key=root_key, anchor=anchor, anchor_init=True) as ks:
            ks.describe_key(key)
        with pytest.raises(strongroom.KMSInvalidStateException, match="reopened"):
            plain.disable_key(key)
    finally:
        plain.close()


OPERATOR = "arn:aws:iam::000000000000:user/operator"


def anchoring_events(path: Path, root_key: bytes, anchor: Path, name: str) -> "list[dict[str, object]]":
    with strongroom.Keystore.open(path, root_key=root_key, anchor=anchor) as ks:
        return ks.audit_events(event_name=name)


def test_the_open_s_own_events_act_for_its_principal(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "ks.anchor"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        ks.create_key()
    # Anchoring (trust on first use) by the operator.
    with strongroom.Keystore.open(
        path, root_key=root_key, anchor=anchor, anchor_init=True, principal=OPERATOR
    ) as ks:
        assert ks.principal == OPERATOR
    (event,) = anchoring_events(path, root_key, anchor, "AnchorKeystore")
    assert event["userIdentity"] == {"accountId": "000000000000", "arn": OPERATOR, "type": "IAMUser"}
    # The opt-out by the operator.
    with strongroom.Keystore.open(path, root_key=root_key, anchor=False, principal=OPERATOR) as ks:
        assert ks.principal == OPERATOR
    (event,) = anchoring_events(path, root_key, anchor, "OpenKeystoreWithoutAnchor")
    assert event["userIdentity"]["arn"] == OPERATOR  # type: ignore[index]
    assert "errorCode" not in event
    # Re-anchoring by a principal that is not an ARN: refused before
    # anything is written (no event), and the new anchor is not stored.
    anchor.unlink()
    fresh = tmp_path / "fresh.anchor"
    with pytest.raises(strongroom.ValidationException):
        strongroom.Keystore.open(path, root_key=root_key, anchor=fresh, anchor_reinit=True, principal="111122223333")
    assert not fresh.exists()
    with strongroom.Keystore.open(path, root_key=root_key, anchor=fresh, anchor_reinit=True, principal=OPERATOR):
        pass
    (done,) = anchoring_events(path, root_key, fresh, "ReinitializeKeystoreAnchor")
    assert done["userIdentity"]["arn"] == OPERATOR  # type: ignore[index]
    assert "errorCode" not in done


def test_a_malformed_principal_creates_no_anchor(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ks.db"
    anchor = tmp_path / "ks.anchor"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        ks.create_key()
    with pytest.raises(strongroom.ValidationException, match="principal"):
        strongroom.Keystore.open(path, root_key=root_key, anchor=anchor, anchor_init=True, principal="not-an-arn")
    assert not anchor.exists()
