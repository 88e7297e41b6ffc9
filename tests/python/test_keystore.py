"""The Pythonic API: every method's success and error paths."""

from __future__ import annotations

import base64
import copy
import os
import pickle
from datetime import datetime, timezone
from pathlib import Path

import pytest

import strongroom
from strongroom import Keystore


# ---- package ------------------------------------------------------------------


def test_version() -> None:
    assert isinstance(strongroom.__version__, str)
    assert strongroom.__version__.count(".") == 2


def test_abi3_extension() -> None:
    from strongroom import _strongroom

    assert ".abi3." in Path(_strongroom.__file__).name


# ---- create / open / close -----------------------------------------------------


def test_create_open_roundtrip(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "a.db"
    with Keystore.create(path, root_key=root_key, region="eu-west-1", account="123456789012") as ks:
        assert ks.region == "eu-west-1" and ks.account == "123456789012"
        k = ks.create_key()
        assert k.arn.startswith("arn:aws:kms:eu-west-1:123456789012:key/")
        blob = ks.encrypt(k.key_id, b"hi").ciphertext_blob
    assert ks.closed
    with Keystore.open(str(path), root_key=bytearray(root_key)) as ks2:
        assert ks2.decrypt(blob).plaintext == b"hi"
        assert ks2.path == path


def test_root_key_as_text_file_and_env(tmp_path: Path, root_key: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.db"
    Keystore.create(path, root_key=base64.b64encode(root_key).decode()).close()
    Keystore.open(path, root_key=root_key.hex()).close()
    kf = tmp_path / "root.key"
    kf.write_bytes(root_key)
    Keystore.open(path, root_key_file=kf).close()
    Keystore.open(path, root_key_file=str(kf)).close()
    monkeypatch.setenv("SR_TEST_ROOT", base64.b64encode(root_key).decode())
    Keystore.open(path, root_key_env="SR_TEST_ROOT").close()


def test_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with Keystore.create(path, passphrase="correct horse") as ks:
        k = ks.create_key()
    with Keystore.open(path, passphrase=b"correct horse") as ks:
        assert ks.describe_key(k.key_id).key_id == k.key_id
    with pytest.raises(strongroom.AccessDeniedException, match="the passphrase is wrong"):
        Keystore.open(path, passphrase="wrong")
    # Neither text nor bytes: a TypeError naming both kinds and the type.
    for bad, name in ((12345, "int"), (1.5, "float"), (["p"], "list")):
        with pytest.raises(
            TypeError, match=f"passphrase must be a str or a bytes-like object .*, not {name}$"
        ):
            Keystore.open(path, passphrase=bad)
    # The keystore records that it takes a passphrase: a root key (however
    # well formed) is refused as such, not as a wrong key.
    with pytest.raises(strongroom.ValidationException, match="protected by a passphrase"):
        Keystore.open(path, root_key=b"\x07" * 32)


def test_create_errors(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "e.db"
    Keystore.create(path, root_key=root_key).close()
    with pytest.raises(strongroom.AlreadyExistsException):
        Keystore.create(path, root_key=root_key)
    with pytest.raises(strongroom.ValidationException):
        Keystore.create(tmp_path / "short.db", root_key=b"short")
    with pytest.raises(strongroom.ValidationException):
        Keystore.create(tmp_path / "acct.db", root_key=root_key, account="12")
    with pytest.raises(strongroom.ValidationException):
        Keystore.create(tmp_path / "reg.db", root_key=root_key, region="no spaces")
    with pytest.raises(TypeError):
        Keystore.create(tmp_path / "x.db")  # no root key
    with pytest.raises(TypeError):
        Keystore.create(tmp_path / "x.db", root_key=root_key, passphrase="both")
    with pytest.raises(TypeError):
        Keystore.create(tmp_path / "x.db", root_key=12345)


def test_open_errors(tmp_path: Path, root_key: bytes) -> None:
    with pytest.raises(strongroom.NotFoundException):
        Keystore.open(tmp_path / "missing.db", root_key=root_key)
    path = tmp_path / "o.db"
    Keystore.create(path, root_key=root_key).close()
    with pytest.raises(strongroom.AccessDeniedException) as e:
        Keystore.open(path, root_key=os.urandom(32))
    assert e.value.code == "AccessDeniedException"
    with pytest.raises(strongroom.ValidationException):
        Keystore.open(path, root_key_env="SR_SURELY_UNSET_VARIABLE")
    with pytest.raises(strongroom.NotFoundException):
        Keystore.open(path, root_key_file=tmp_path / "nope.key")
    notks = tmp_path / "not-a-keystore.db"
    notks.write_bytes(b"hello, I am not SQLite" * 100)
    with pytest.raises(strongroom.KMSInternalException):
        Keystore.open(notks, root_key=root_key)
    # A directory is named as one, not as "a keystore already exists".
    with pytest.raises(strongroom.AlreadyExistsException, match="is a directory"):
        Keystore.create(tmp_path, root_key=root_key)


def test_verify_digest_and_purge(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    ks.verify_digest()
    assert ks.purge_deleted_keys() == 0  # nothing is past its deletion window
    ks.schedule_key_deletion(key.key_id, pending_window_in_days=7)
    assert ks.purge_deleted_keys() == 0


def test_tampered_keystore_is_detected(tmp_path: Path, root_key: bytes) -> None:
    import sqlite3

    path = tmp_path / "tamper.db"
    with Keystore.create(path, root_key=root_key) as ks:
        ks.create_key()
        ks.create_key()
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    keys_table = next(t for t in tables if "key" in t.lower())
    db.execute(f"DELETE FROM {keys_table} WHERE rowid = (SELECT min(rowid) FROM {keys_table})")
    db.commit()
    db.close()
    with pytest.raises(strongroom.KMSInternalException):
        Keystore.open(path, root_key=root_key)


def test_close_closes_derived_handles(ks: Keystore) -> None:
    """Handles made by as_principal() and dry_run() (and from those) are
    closed with their parent and then raise what a closed keystore raises;
    closing a derived handle leaves its parent open."""
    key = ks.create_key().key_id
    app = ks.as_principal("arn:aws:iam::000000000000:user/app")
    dry = ks.dry_run()
    dry_app = app.dry_run()
    sibling = ks.as_principal("arn:aws:iam::000000000000:user/other")
    sibling.close()
    assert sibling.closed and not ks.closed and not app.closed
    ks.describe_key(key)
    with pytest.raises(strongroom.DryRunOperationException):
        dry.encrypt(key, b"x")
    ks.close()
    for h in (app, dry, dry_app):
        assert h.closed and "closed" in repr(h)
        with pytest.raises(ValueError, match="the keystore is closed"):
            h.describe_key(key)
        with pytest.raises(ValueError, match="the keystore is closed"):
            h.encrypt(key, b"x")
        with pytest.raises(ValueError, match="the keystore is closed"):
            h.as_principal("arn:aws:iam::000000000000:user/app")
        with pytest.raises(ValueError, match="the keystore is closed"):
            h.principal
        h.close()  # still idempotent


def test_closed_keystore(ks: Keystore) -> None:
    ks.close()
    ks.close()  # idempotent
    assert ks.closed and "closed" in repr(ks)
    with pytest.raises(ValueError, match="closed"):
        ks.create_key()
    with pytest.raises(ValueError):
        ks.region
    with pytest.raises(ValueError):
        ks.verify_digest()


def test_context_manager_closes_on_error(tmp_path: Path, root_key: bytes) -> None:
    with pytest.raises(RuntimeError):
        with Keystore.create(tmp_path / "c.db", root_key=root_key) as ks:
            raise RuntimeError("boom")
    assert ks.closed


# ---- key management --------------------------------------------------------------


def test_create_and_describe_key(ks: Keystore) -> None:
    k = ks.create_key(description="d", tags={"team": "ops"})
    assert isinstance(k, strongroom.KeyMetadata)
    assert k.key_spec == "SYMMETRIC_DEFAULT" and k.key_usage == "ENCRYPT_DECRYPT"
    assert k.key_state == "Enabled" and k.enabled and k.origin == "AWS_KMS"
    assert k.description == "d" and k.aws_account_id == ks.account
    assert isinstance(k.creation_date, datetime) and k.creation_date.tzinfo == timezone.utc
    assert k.encryption_algorithms == ("SYMMETRIC_DEFAULT",)
    d = ks.describe_key(k.arn)
    assert d.key_id == k.key_id and d.creation_date == k.creation_date
    assert "KeyMetadata(" in repr(d) and k.key_id in repr(d)
    with pytest.raises(AttributeError):
        d.key_id = "x"  # type: ignore[misc]


def test_create_key_errors(ks: Keystore) -> None:
    with pytest.raises(strongroom.ValidationException):
        ks.create_key(key_spec="NOT_A_SPEC")
    with pytest.raises(strongroom.ValidationException):
        ks.create_key(key_usage="BOGUS")
    with pytest.raises(strongroom.ValidationException):
        ks.create_key(description="x" * 10_000)
    # TagKey's length (1 to 128) is the Tag shape's: ValidationException, as AWS KMS.
    with pytest.raises(strongroom.ValidationException, match="tags.1.member.tagKey"):
        ks.create_key(tags={"": "empty key"})
    with pytest.raises(strongroom.TagException):
        ks.create_key(tags={"aws:reserved": "x"})
    with pytest.raises(TypeError):
        ks.create_key(tags={"a": 1})
    with pytest.raises(TypeError):
        ks.create_key("positional")  # type: ignore[misc]


def test_describe_key_errors(ks: Keystore) -> None:
    with pytest.raises(strongroom.NotFoundException) as e:
        ks.describe_key("00000000-0000-0000-0000-000000000000")
    assert e.value.code == "NotFoundException" and e.value.message
    with pytest.raises(strongroom.NotFoundException):
        ks.describe_key("alias/none")
    with pytest.raises(strongroom.InvalidArnException):
        ks.describe_key("arn:aws:kms:nowhere")  # not six ARN fields
    with pytest.raises(strongroom.ValidationException):
        ks.describe_key("")


def test_list_keys_paging(ks: Keystore) -> None:
    ids = {ks.create_key().key_id for _ in range(5)}
    seen: set[str] = set()
    marker = None
    pages = 0
    while True:
        page = ks.list_keys(limit=2, marker=marker)
        assert isinstance(page.keys, tuple) and len(page.keys) <= 2
        seen |= {e.key_id for e in page.keys}
        pages += 1
        if not page.truncated:
            assert page.next_marker is None
            break
        marker = page.next_marker
    assert seen == ids and pages == 3
    with pytest.raises(strongroom.ValidationException):
        ks.list_keys(limit=0)
    with pytest.raises(strongroom.ValidationException):
        ks.list_keys(limit=-1)
    with pytest.raises(strongroom.ValidationException):
        ks.list_keys(limit=2**70)
    with pytest.raises(strongroom.InvalidMarkerException):
        ks.list_keys(marker="garbage!")
    with pytest.raises(TypeError):
        ks.list_keys(limit="10")  # type: ignore[arg-type]


def test_update_description_enable_disable(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    ks.update_key_description(key.key_id, "new")
    assert ks.describe_key(key.key_id).description == "new"
    ks.disable_key(key.key_id)
    assert ks.describe_key(key.key_id).key_state == "Disabled"
    with pytest.raises(strongroom.DisabledException):
        ks.encrypt(key.key_id, b"x")
    ks.enable_key(key.key_id)
    assert ks.describe_key(key.key_id).enabled
    for op in (ks.enable_key, ks.disable_key):
        with pytest.raises(strongroom.NotFoundException):
            op("11111111-1111-1111-1111-111111111111")
    with pytest.raises(strongroom.NotFoundException):
        ks.update_key_description("11111111-1111-1111-1111-111111111111", "d")


def test_schedule_and_cancel_deletion(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    s = ks.schedule_key_deletion(key.key_id, pending_window_in_days=7)
    assert s.key_state == "PendingDeletion" and s.pending_window_in_days == 7
    assert s.deletion_date > datetime.now(timezone.utc)
    with pytest.raises(strongroom.KMSInvalidStateException):
        ks.encrypt(key.key_id, b"x")
    with pytest.raises(strongroom.KMSInvalidStateException):
        ks.schedule_key_deletion(key.key_id)
    assert ks.cancel_key_deletion(key.key_id).endswith(key.key_id)
    assert ks.describe_key(key.key_id).key_state == "Disabled"
    with pytest.raises(strongroom.KMSInvalidStateException):
        ks.cancel_key_deletion(key.key_id)
    with pytest.raises(strongroom.ValidationException):
        ks.schedule_key_deletion(key.key_id, pending_window_in_days=3)
    with pytest.raises(strongroom.ValidationException):
        ks.schedule_key_deletion(key.key_id, pending_window_in_days=-7)


def test_rotation(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    st = ks.get_key_rotation_status(key.key_id)
    assert st.key_rotation_enabled is False
    ks.enable_key_rotation(key.key_id, rotation_period_in_days=90)
    st = ks.get_key_rotation_status(key.key_id)
    assert st.key_rotation_enabled and st.rotation_period_in_days == 90
    assert isinstance(st.next_rotation_date, datetime)
    blob = ks.encrypt(key.key_id, b"before").ciphertext_blob
    assert ks.rotate_key_on_demand(key.key_id) == key.key_id
    rots = ks.list_key_rotations(key.key_id)
    assert len(rots.rotations) == 1 and rots.rotations[0].rotation_type == "ON_DEMAND"
    assert ks.decrypt(blob).plaintext == b"before"
    ks.disable_key_rotation(key.key_id)
    assert not ks.get_key_rotation_status(key.key_id).key_rotation_enabled
    with pytest.raises(strongroom.ValidationException):
        ks.enable_key_rotation(key.key_id, rotation_period_in_days=1)
    with pytest.raises(strongroom.NotFoundException):
        ks.get_key_rotation_status("alias/none")
    with pytest.raises(strongroom.NotFoundException):
        ks.rotate_key_on_demand("alias/none")
    with pytest.raises(strongroom.NotFoundException):
        ks.list_key_rotations("alias/none")
    with pytest.raises(strongroom.NotFoundException):
        ks.disable_key_rotation("alias/none")


def test_rotation_limit(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    with pytest.raises(strongroom.LimitExceededException):
        for _ in range(11):
            ks.rotate_key_on_demand(key.key_id)


# ---- aliases ---------------------------------------------------------------------


def test_aliases(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    other = ks.create_key()
    ks.create_alias("alias/app", key.key_id)
    assert ks.describe_key("alias/app").key_id == key.key_id
    page = ks.list_aliases(key_id=key.key_id)
    assert [a.alias_name for a in page.aliases] == ["alias/app"]
    a = page.aliases[0]
    assert a.target_key_id == key.key_id and a.alias_arn.endswith(":alias/app")
    assert isinstance(a.creation_date, datetime)
    ks.update_alias("alias/app", other.key_id)
    assert ks.describe_key("alias/app").key_id == other.key_id
    with pytest.raises(strongroom.AlreadyExistsException):
        ks.create_alias("alias/app", key.key_id)
    with pytest.raises(strongroom.InvalidAliasNameException):
        ks.create_alias("no-prefix", key.key_id)
    with pytest.raises(strongroom.NotFoundException):
        ks.create_alias("alias/x", "22222222-2222-2222-2222-222222222222")
    with pytest.raises(strongroom.NotFoundException):
        ks.update_alias("alias/absent", key.key_id)
    ks.delete_alias("alias/app")
    with pytest.raises(strongroom.NotFoundException):
        ks.delete_alias("alias/app")
    with pytest.raises(strongroom.InvalidAliasNameException):
        ks.delete_alias("app")
    assert ks.list_aliases().aliases == ()
    with pytest.raises(strongroom.ValidationException):
        ks.list_aliases(limit=0)


# ---- tags ------------------------------------------------------------------------


def test_tags(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    ks.tag_resource(key.key_id, {"a": "1", "b": "2"})
    tags = ks.list_resource_tags(key.key_id)
    assert {(t.tag_key, t.tag_value) for t in tags.tags} == {("a", "1"), ("b", "2")}
    assert not tags.truncated
    page = ks.list_resource_tags(key.key_id, limit=1)
    assert page.truncated and page.next_marker
    ks.untag_resource(key.key_id, ["a"])
    assert [t.tag_key for t in ks.list_resource_tags(key.key_id).tags] == ["b"]
    with pytest.raises(strongroom.ValidationException):
        ks.tag_resource(key.key_id, {"k" * 200: "v"})
    with pytest.raises(strongroom.ValidationException):
        ks.tag_resource(key.key_id, {"k": "v" * 257})
    with pytest.raises(strongroom.ValidationException):
        ks.untag_resource(key.key_id, [""])
    with pytest.raises(strongroom.TagException):
        ks.tag_resource(key.key_id, {"aws:x": "v"})
    with pytest.raises(strongroom.NotFoundException):
        ks.tag_resource("alias/none", {"a": "b"})
    with pytest.raises(strongroom.NotFoundException):
        ks.untag_resource("alias/none", ["a"])
    with pytest.raises(strongroom.ValidationException):
        ks.list_resource_tags(key.key_id, limit=51)
    with pytest.raises(TypeError):
        ks.untag_resource(key.key_id, "a")  # a str is not a list of keys
    with pytest.raises(TypeError):
        ks.tag_resource(key.key_id, [("a", "b")])  # type: ignore[arg-type]


# ---- cryptographic operations ---------------------------------------------------------


CTX = {"purpose": "test", "tenant": "42"}


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, "memoryview-slice", "array"])
def test_bytes_like_inputs(ks: Keystore, key: strongroom.KeyMetadata, kind: object) -> None:
    data = b"bytes-like plaintext"
    if kind == "memoryview-slice":
        pt: object = memoryview(b"XX" + data + b"YY")[2:-2]
    elif kind == "array":
        import array

        pt = array.array("B", data)
    else:
        pt = kind(data)  # type: ignore[operator]
    r = ks.encrypt(key.key_id, pt, encryption_context=CTX)  # type: ignore[arg-type]
    blob = r.ciphertext_blob
    for wrapped in (blob, bytearray(blob), memoryview(blob)):
        assert ks.decrypt(wrapped, encryption_context=CTX).plaintext == data


def test_encrypt_decrypt(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    r = ks.encrypt(key.key_id, b"hello", encryption_context=CTX, grant_tokens=[])
    assert isinstance(r, strongroom.EncryptResult) and isinstance(r.ciphertext_blob, bytes)
    assert r.key_id == key.arn and r.encryption_algorithm == "SYMMETRIC_DEFAULT"
    d = ks.decrypt(r.ciphertext_blob, encryption_context=CTX, key_id=key.key_id, encryption_algorithm="SYMMETRIC_DEFAULT")
    assert d.plaintext == b"hello" and d.key_id == key.arn
    assert isinstance(d.plaintext, strongroom.SecretBytes)
    assert "hello" not in repr(d) and "redacted" in repr(d)


def test_encrypt_errors(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt(key.key_id, b"")
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt(key.key_id, b"x" * 4097)
    with pytest.raises(strongroom.NotFoundException):
        ks.encrypt("alias/none", b"x")
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt(key.key_id, b"x", encryption_algorithm="ROT13")
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt(key.key_id, b"x", grant_tokens=["t"] * 11)
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt(key.key_id, b"x", encryption_context={"": "empty key"})
    with pytest.raises(TypeError):
        ks.encrypt(key.key_id, "a str is not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ks.encrypt(key.key_id, 12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ks.encrypt(key.key_id, b"x", encryption_context=["not", "a", "mapping"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ks.encrypt(key.key_id, b"x", encryption_context={"k": b"bytes value"})  # type: ignore[dict-item]


def test_decrypt_errors(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    blob = ks.encrypt(key.key_id, b"hello", encryption_context=CTX).ciphertext_blob
    with pytest.raises(strongroom.InvalidCiphertextException) as wrong_ctx:
        ks.decrypt(blob, encryption_context={"purpose": "other"})
    flipped = bytearray(blob)
    flipped[-1] ^= 1
    with pytest.raises(strongroom.InvalidCiphertextException) as wrong_bit:
        ks.decrypt(flipped, encryption_context=CTX)
    assert wrong_ctx.value.message == wrong_bit.value.message  # detail-free
    with pytest.raises(strongroom.ValidationException):
        ks.decrypt(b"", encryption_context=CTX)  # CiphertextBlob is 1-6144 bytes
    for bad in (b"\x00", blob[:10], blob[:-1], os.urandom(200)):
        with pytest.raises(strongroom.InvalidCiphertextException) as e:
            ks.decrypt(bad, encryption_context=CTX)
        assert e.value.message == wrong_bit.value.message  # one detail-free error
    other = ks.create_key()
    with pytest.raises(strongroom.IncorrectKeyException):
        ks.decrypt(blob, encryption_context=CTX, key_id=other.key_id)
    ks.disable_key(key.key_id)
    with pytest.raises(strongroom.DisabledException):
        ks.decrypt(blob, encryption_context=CTX)
    with pytest.raises(TypeError):
        ks.decrypt("not bytes")  # type: ignore[arg-type]


def test_re_encrypt(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    dst = ks.create_key()
    blob = ks.encrypt(key.key_id, b"move me", encryption_context=CTX).ciphertext_blob
    r = ks.re_encrypt(
        memoryview(blob),
        dst.key_id,
        source_encryption_context=CTX,
        source_key_id=key.key_id,
        destination_encryption_context={"new": "ctx"},
    )
    assert r.source_key_id == key.arn and r.key_id == dst.arn
    assert r.source_encryption_algorithm == r.destination_encryption_algorithm == "SYMMETRIC_DEFAULT"
    assert ks.decrypt(r.ciphertext_blob, encryption_context={"new": "ctx"}).plaintext == b"move me"
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.re_encrypt(blob, dst.key_id)  # missing source context
    with pytest.raises(strongroom.NotFoundException):
        ks.re_encrypt(blob, "alias/none", source_encryption_context=CTX)
    with pytest.raises(strongroom.IncorrectKeyException):
        ks.re_encrypt(blob, dst.key_id, source_encryption_context=CTX, source_key_id=dst.key_id)


def test_generate_data_key(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    dk = ks.generate_data_key(key.key_id, key_spec="AES_256", encryption_context=CTX)
    assert isinstance(dk, strongroom.DataKey) and len(dk.plaintext) == 32
    assert isinstance(dk.plaintext, strongroom.SecretBytes)
    text = repr(dk) + str(dk.plaintext) + f"{dk.plaintext}" + repr(dk.plaintext)
    assert dk.plaintext.hex() not in text and repr(bytes(dk.plaintext)) not in text
    assert "redacted" in repr(dk)
    assert ks.decrypt(dk.ciphertext_blob, encryption_context=CTX).plaintext == dk.plaintext
    assert len(ks.generate_data_key(key.key_id, key_spec="AES_128").plaintext) == 16
    assert len(ks.generate_data_key(key.key_id, number_of_bytes=7).plaintext) == 7
    wp = ks.generate_data_key_without_plaintext(key.key_id, key_spec="AES_256", encryption_context=CTX)
    assert isinstance(wp, strongroom.EncryptedDataKey) and not hasattr(wp, "plaintext")
    assert len(ks.decrypt(wp.ciphertext_blob, encryption_context=CTX).plaintext) == 32
    assert len(ks.generate_data_key_without_plaintext(key.key_id, number_of_bytes=64).ciphertext_blob) > 64


@pytest.mark.parametrize("op", ["generate_data_key", "generate_data_key_without_plaintext"])
def test_generate_data_key_errors(ks: Keystore, key: strongroom.KeyMetadata, op: str) -> None:
    fn = getattr(ks, op)
    with pytest.raises(strongroom.ValidationException):
        fn(key.key_id)  # neither spec nor length
    with pytest.raises(strongroom.ValidationException):
        fn(key.key_id, key_spec="AES_256", number_of_bytes=32)
    with pytest.raises(strongroom.ValidationException):
        fn(key.key_id, number_of_bytes=0)
    with pytest.raises(strongroom.ValidationException):
        fn(key.key_id, number_of_bytes=1025)
    with pytest.raises(strongroom.ValidationException):
        fn(key.key_id, number_of_bytes=-1)
    with pytest.raises(strongroom.ValidationException):
        fn(key.key_id, key_spec="AES_512")
    with pytest.raises(strongroom.NotFoundException):
        fn("alias/none", key_spec="AES_256")
    ks.disable_key(key.key_id)
    with pytest.raises(strongroom.DisabledException):
        fn(key.key_id, key_spec="AES_256")
    with pytest.raises(TypeError):
        fn(key.key_id, number_of_bytes=1.5)
    with pytest.raises(TypeError):
        fn(key.key_id, number_of_bytes=True)


def test_generate_random(ks: Keystore) -> None:
    r = ks.generate_random(16)
    assert isinstance(r, strongroom.SecretBytes) and len(r) == 16
    assert r != ks.generate_random(16)
    for bad in (0, 1025, -5, 2**64):
        with pytest.raises(strongroom.ValidationException):
            ks.generate_random(bad)
    with pytest.raises(TypeError):
        ks.generate_random("16")  # type: ignore[arg-type]


# ---- exceptions ------------------------------------------------------------------


def test_exception_classes_cover_every_kind() -> None:
    from strongroom import _strongroom, exceptions

    assert set(_strongroom.ERROR_CODES) <= set(exceptions.__all__)
    for code in _strongroom.ERROR_CODES:
        cls = getattr(strongroom, code)
        assert issubclass(cls, strongroom.KMSError) and cls.__name__ == code and cls.code == code
        e = cls("msg")
        assert e.code == code and e.message == "msg" and str(e) == f"{code}: msg"
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is cls and again.message == "msg"


def test_unknown_code_falls_back_to_kmserror() -> None:
    e = strongroom.KMSError("m", "SomeFutureException")
    assert e.code == "SomeFutureException"


def test_secret_bytes_behaves_like_bytes() -> None:
    s = strongroom.SecretBytes(b"\x01\x02")
    assert s == b"\x01\x02" and s[0] == 1 and bytes(s) == b"\x01\x02" and len(s) == 2
    assert "\\x01" not in repr(s) and "\\x01" not in str(s) and "\\x01" not in f"{s!s}{s}"


def test_every_method_is_documented() -> None:
    public = [n for n in dir(Keystore) if not n.startswith("_")]
    assert len(public) > 30
    for name in public:
        doc = getattr(Keystore, name).__doc__
        assert doc and len(doc) > 10, f"Keystore.{name} has no docstring"
    simple = {"close", "closed", "path", "region", "account", "client", "create", "open"}
    for name in public:
        if name not in simple:
            assert "Raises" in getattr(Keystore, name).__doc__, f"Keystore.{name} does not say what it raises"
    for name in strongroom.__all__:
        assert getattr(strongroom, name) is not None


def test_results_have_value_semantics(ks: Keystore) -> None:
    """Result objects compare and hash by value like frozen dataclasses, and
    support copy.copy / copy.deepcopy."""

    key = ks.create_key(description="eq")
    a, b = ks.describe_key(key.key_id), ks.describe_key(key.key_id)
    assert a is not b and a == b and not (a != b) and hash(a) == hash(b)
    assert len({a, b}) == 1
    ks.update_key_description(key.key_id, "changed")
    c = ks.describe_key(key.key_id)
    assert c != a and not (c == a)
    assert a != "not a result" and a != ks.list_keys()
    # Nested results (tuples of entries) compare by value too.
    assert ks.list_keys() == ks.list_keys() and hash(ks.list_keys()) == hash(ks.list_keys())
    assert copy.copy(a) is a
    d = copy.deepcopy(a)
    assert d == a and hash(d) == hash(a) and type(d) is type(a)
    keys = ks.list_keys()
    assert copy.deepcopy(keys) == keys and copy.deepcopy(keys).keys[0] == keys.keys[0]
    # A result holding a dict (a grant's constraints) compares by value but,
    # like a frozen dataclass holding a dict, is not hashable; deepcopy copies the dict.
    ks.create_grant(
        key.key_id,
        "arn:aws:iam::000000000000:user/u",
        ["Encrypt"],
        constraints={"EncryptionContextSubset": {"k": "v"}},
    )
    g1, g2 = ks.list_grants(key.key_id).grants[0], ks.list_grants(key.key_id).grants[0]
    assert g1 == g2 and g1.constraints == g2.constraints
    with pytest.raises(TypeError):
        hash(g1.constraints)
    g3 = copy.deepcopy(g1)
    assert g3 == g1
    assert g3.constraints is not None and g1.constraints is not None
    assert g3.constraints.encryption_context_subset is not g1.constraints.encryption_context_subset
    # Plaintext stays redacted in copies.
    dk = ks.generate_data_key(key.key_id, key_spec="AES_256")
    assert "redacted" in repr(copy.deepcopy(dk)) and copy.deepcopy(dk).plaintext == dk.plaintext


def test_results_pickle(ks: Keystore) -> None:
    """Results pickle and load as equal objects of their class (as frozen
    dataclasses do), nested ones included, so they cross multiprocessing and
    concurrent.futures process pools; a result holding plaintext
    (SecretBytes) is refused, as pyca/cryptography refuses private keys."""
    key = ks.create_key(description="pickled")
    a = ks.describe_key(key.key_id)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        b = pickle.loads(pickle.dumps(a, protocol))
        assert b == a and type(b) is strongroom.KeyMetadata and b.creation_date == a.creation_date
    keys = ks.list_keys()
    assert pickle.loads(pickle.dumps(keys)) == keys
    ks.create_grant(
        key.key_id,
        "arn:aws:iam::000000000000:user/u",
        ["Encrypt"],
        constraints={"EncryptionContextSubset": {"k": "v"}},
    )
    grants = ks.list_grants(key.key_id)
    assert pickle.loads(pickle.dumps(grants)) == grants
    dk = ks.generate_data_key(key.key_id, key_spec="AES_256")
    for holding_plaintext in (
        dk,
        ks.decrypt(ks.encrypt(key.key_id, b"pt").ciphertext_blob),
        ks.generate_data_key_pair(key.key_id, key_pair_spec="ECC_NIST_P256"),
    ):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError, match="holds plaintext"):
                pickle.dumps(holding_plaintext, protocol)
    # What the caller pickles explicitly.
    assert pickle.loads(pickle.dumps(bytes(dk.plaintext))) == dk.plaintext
    without = ks.generate_data_key_without_plaintext(key.key_id, key_spec="AES_256")
    assert pickle.loads(pickle.dumps(without)) == without


def test_secret_bytes_refuse_pickling(ks: Keystore) -> None:
    """SecretBytes itself is not pickled (as pyca/cryptography's private
    keys are not), so no container holding plaintext is: the boto-style dict
    responses, generate_random, decrypt_message and data key pairs, every
    protocol; copy.copy and copy.deepcopy give the same object, as for bytes."""
    key = ks.create_key(description="pickled secrets")
    pair_key = ks.create_key(description="pairs")
    client = ks.client()
    secret = ks.generate_random(32)
    message, _ = ks.encrypt_message(b"message plaintext", key_ids=[key.key_id])
    plain, _ = ks.decrypt_message(message)
    dk = ks.generate_data_key(key.key_id, key_spec="AES_256")
    holding_plaintext = [
        secret,
        plain,
        dk.plaintext,
        [secret],
        {"nested": (plain,)},
        client.generate_data_key(KeyId=key.key_id, KeySpec="AES_256"),
        client.generate_random(NumberOfBytes=16),
        client.decrypt(CiphertextBlob=client.encrypt(KeyId=key.key_id, Plaintext=b"pt")["CiphertextBlob"]),
        client.generate_data_key_pair(KeyId=pair_key.key_id, KeyPairSpec="ECC_NIST_P256"),
        ks.generate_data_key_pair(pair_key.key_id, key_pair_spec="ECC_NIST_P256").private_key_plaintext,
    ]
    for obj in holding_plaintext:
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError, match="cannot pickle 'SecretBytes': it is plaintext"):
                pickle.dumps(obj, protocol)
    assert isinstance(plain, strongroom.SecretBytes) and plain == b"message plaintext"
    assert copy.copy(secret) is secret and copy.deepcopy(secret) is secret
    copied = copy.deepcopy({"Plaintext": secret})
    assert copied["Plaintext"] is secret
    # What the caller pickles explicitly.
    assert pickle.loads(pickle.dumps(bytes(secret))) == secret
    without = ks.generate_data_key_without_plaintext(key.key_id, key_spec="AES_256")
    assert pickle.loads(pickle.dumps(without)) == without
    # Loading checks the attributes' number and types.
    with pytest.raises(TypeError):
        strongroom.KeyListEntry._from_attributes(("only one",))  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        strongroom.KeyListEntry._from_attributes((1, 2))  # type: ignore[attr-defined]
