"""Principals, key policies, grants and the audit log from Python."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import time
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

import strongroom

OTHER = "arn:aws:iam::111122223333:user/app"
NOBODY = "arn:aws:iam::111122223333:user/nobody"
MISSING_GRANT = "0" * 64


def allow(policy: Dict[str, Any], principal: str, *actions: str) -> Dict[str, Any]:
    policy["Statement"].append(
        {"Sid": "extra", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": list(actions), "Resource": "*"}
    )
    return policy


# ---- principals ------------------------------------------------------------------


def test_principal_and_as_principal(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    assert ks.principal == "arn:aws:iam::000000000000:root"
    app = ks.as_principal(OTHER)
    assert app.principal == OTHER and ks.principal != OTHER
    assert app.path == ks.path and app.region == ks.region
    # The default key policy allows the account root only: another account's user is denied.
    with pytest.raises(strongroom.AccessDeniedException) as e:
        app.describe_key(key.key_id)
    assert e.value.code == "AccessDeniedException" and OTHER in str(e.value)
    # Closing the derived handle leaves the original open, and the other way round.
    app.close()
    assert app.closed and not ks.closed
    with pytest.raises(ValueError, match="closed"):
        app.encrypt(key.key_id, b"x")
    assert ks.describe_key(key.key_id).key_id == key.key_id
    with ks.as_principal(OTHER) as other:
        assert other.principal == OTHER
    ks.close()
    with pytest.raises(ValueError, match="closed"):
        ks.as_principal(OTHER)
    with pytest.raises(ValueError, match="closed"):
        ks.principal


def test_as_principal_refuses_a_malformed_principal_at_once(ks: strongroom.Keystore, tmp_path: Path) -> None:
    """as_principal checks the principal where it is given, by the rule of
    Keystore.open(principal=...) and C's sr_keystore_as_principal, rather
    than letting every later call through the handle fail."""
    for bad in ("", "junk", "arn:aws:iam::*:root", "111122223333", "*", "arn:aws:iam::111122223333:user/" + "a" * 256):
        with pytest.raises(strongroom.ValidationException) as e:
            ks.as_principal(bad)
        assert e.value.code == "ValidationException"
        assert "the caller principal" in str(e.value), str(e.value)
    with pytest.raises(strongroom.ValidationException, match="not a principal ARN"):
        ks.dry_run().as_principal("junk")
    # The same message as open(principal=...).
    with pytest.raises(strongroom.ValidationException) as opened:
        strongroom.Keystore.open(ks.path, root_key=b"\0" * 32, principal="junk")
    with pytest.raises(strongroom.ValidationException) as derived:
        ks.as_principal("junk")
    assert str(opened.value) == str(derived.value)


# ---- key policies ------------------------------------------------------------------


def test_key_policy_round_trip(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    policy = json.loads(ks.get_key_policy(key.key_id))
    assert policy["Statement"][0]["Principal"] == {"AWS": ks.principal}
    listed = ks.list_key_policies(key.key_id)
    assert isinstance(listed, strongroom.KeyPolicyList)
    assert listed.policy_names == ("default",) and listed.truncated is False and listed.next_marker is None
    ks.put_key_policy(key.key_id, json.dumps(allow(policy, OTHER, "kms:Encrypt", "kms:Decrypt")))
    assert json.loads(ks.get_key_policy(key.key_id, policy_name="default")) == policy
    app = ks.as_principal(OTHER)
    blob = app.encrypt(key.key_id, b"hi").ciphertext_blob
    assert app.decrypt(blob).plaintext == b"hi"
    with pytest.raises(strongroom.AccessDeniedException):
        app.get_key_policy(key.key_id)
    with pytest.raises(strongroom.AccessDeniedException):
        app.put_key_policy(key.key_id, json.dumps(policy))


def test_key_policy_errors(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    policy = ks.get_key_policy(key.key_id)
    with pytest.raises(strongroom.MalformedPolicyDocumentException):
        ks.put_key_policy(key.key_id, "not json")
    with pytest.raises(strongroom.NotFoundException):
        ks.get_key_policy(key.key_id, policy_name="other")
    with pytest.raises(strongroom.NotFoundException):
        ks.put_key_policy(key.key_id, policy, policy_name="other")
    with pytest.raises(strongroom.NotFoundException):
        ks.get_key_policy("alias/none")
    with pytest.raises(strongroom.NotFoundException):
        ks.list_key_policies("alias/none")
    with pytest.raises(strongroom.ValidationException):
        ks.list_key_policies(key.key_id, limit=0)
    with pytest.raises(TypeError):
        ks.list_key_policies(key.key_id, limit="1")  # type: ignore[arg-type]
    # A policy that locks the caller out needs the bypass flag.
    lockout = allow({"Version": "2012-10-17", "Statement": []}, OTHER, "kms:*")
    with pytest.raises(strongroom.MalformedPolicyDocumentException):
        ks.put_key_policy(key.key_id, json.dumps(lockout))
    ks.put_key_policy(key.key_id, json.dumps(lockout), bypass_policy_lockout_safety_check=True)
    with pytest.raises(strongroom.AccessDeniedException):
        ks.describe_key(key.key_id)
    assert ks.as_principal(OTHER).describe_key(key.key_id).key_id == key.key_id


# ---- grants ------------------------------------------------------------------------


def test_grants(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    app = ks.as_principal(OTHER)
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"x")
    def app_grant() -> strongroom.CreateGrantResult:
        return ks.create_grant(
            key.key_id,
            OTHER,
            ["Encrypt", "Decrypt"],
            retiring_principal=OTHER,
            constraints={"EncryptionContextSubset": {"app": "1"}},
            name="app-grant",
        )

    g = app_grant()
    assert isinstance(g, strongroom.CreateGrantResult)
    assert len(g.grant_id) == 64 and g.grant_token and "grant_token=" in repr(g)
    blob = app.encrypt(
        key.key_id, b"x", encryption_context={"app": "1", "more": "ok"}, grant_tokens=[g.grant_token]
    ).ciphertext_blob
    assert app.decrypt(blob, encryption_context={"app": "1", "more": "ok"}).plaintext == b"x"
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"x", encryption_context={"app": "2"})
    with pytest.raises(strongroom.AccessDeniedException):
        app.generate_data_key(key.key_id, encryption_context={"app": "1"}, key_spec="AES_256")

    listed = ks.list_grants(key.key_id)
    assert isinstance(listed, strongroom.GrantList) and listed.truncated is False
    (entry,) = listed.grants
    assert isinstance(entry, strongroom.GrantListEntry)
    assert entry.grant_id == g.grant_id and entry.key_id == key.arn
    assert entry.operations == ("Encrypt", "Decrypt") and entry.name == "app-grant"
    assert entry.grantee_principal == OTHER and entry.retiring_principal == OTHER
    assert entry.issuing_account == f"arn:aws:iam::{key.aws_account_id}:root"
    assert isinstance(entry.creation_date, dt.datetime) and entry.creation_date.tzinfo is not None
    assert entry.constraints is not None
    assert entry.constraints.encryption_context_subset == {"app": "1"}
    assert entry.constraints.encryption_context_equals is None
    assert ks.list_grants(key.key_id, grant_id=g.grant_id).grants[0].grant_id == g.grant_id
    assert ks.list_grants(key.key_id, grantee_principal=NOBODY).grants == ()
    retirable = app.list_retirable_grants(OTHER)
    assert [x.grant_id for x in retirable.grants] == [g.grant_id]
    assert ks.list_retirable_grants(NOBODY).grants == ()

    # Same name and parameters: the same grant (CreateGrant idempotency).
    again = app_grant()
    assert again.grant_id == g.grant_id

    app.retire_grant(grant_token=g.grant_token)
    assert ks.list_grants(key.key_id).grants == ()
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"x", encryption_context={"app": "1"})

    g2 = ks.create_grant(key.key_id, OTHER, ["DescribeKey"], constraints={"EncryptionContextEquals": {"a": "b"}})
    c = ks.list_grants(key.key_id).grants[0].constraints
    assert c is not None and c.encryption_context_equals == {"a": "b"}
    assert app.describe_key(key.key_id).key_id == key.key_id
    ks.revoke_grant(key.key_id, g2.grant_id)
    assert ks.list_grants(key.key_id).grants == ()
    g3 = ks.create_grant(key.key_id, OTHER, ["GenerateDataKey"])
    ks.retire_grant(key_id=key.key_id, grant_id=g3.grant_id)
    assert ks.list_grants(key.key_id).grants == ()


def test_grant_errors(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    with pytest.raises(strongroom.ValidationException):
        ks.create_grant(key.key_id, OTHER, ["NoSuchOperation"])
    with pytest.raises(strongroom.ValidationException):
        ks.create_grant(key.key_id, OTHER, [])
    with pytest.raises(strongroom.ValidationException):
        ks.create_grant(key.key_id, OTHER, ["Encrypt"], constraints={"EncryptionContextBogus": {"a": "b"}})
    with pytest.raises(TypeError):
        ks.create_grant(key.key_id, OTHER, ["Encrypt"], constraints=["x"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ks.create_grant(key.key_id, OTHER, ["Encrypt"], constraints={"EncryptionContextSubset": {"a": 1}})  # type: ignore[dict-item]
    with pytest.raises(strongroom.NotFoundException):
        ks.create_grant("alias/none", OTHER, ["Encrypt"])
    with pytest.raises(strongroom.InvalidGrantTokenException):
        ks.create_grant(key.key_id, OTHER, ["Encrypt"], grant_tokens=["not-a-token"])
    with pytest.raises(strongroom.AccessDeniedException):
        ks.as_principal(OTHER).create_grant(key.key_id, OTHER, ["Encrypt"])
    with pytest.raises(strongroom.InvalidGrantTokenException):
        ks.encrypt(key.key_id, b"x", grant_tokens=["not-a-token"])
    with pytest.raises(strongroom.ValidationException):
        ks.encrypt(key.key_id, b"x", grant_tokens=[ks.create_grant(key.key_id, OTHER, ["Encrypt"]).grant_token] * 11)
    with pytest.raises(strongroom.InvalidGrantIdException):
        ks.list_grants(key.key_id, grant_id="")
    with pytest.raises(strongroom.InvalidMarkerException):
        ks.list_grants(key.key_id, marker="bogus")
    with pytest.raises(strongroom.ValidationException):
        ks.list_grants(key.key_id, limit=101)
    with pytest.raises(strongroom.ValidationException):
        ks.list_retirable_grants("")
    with pytest.raises(strongroom.ValidationException):
        ks.retire_grant()
    with pytest.raises(strongroom.ValidationException):
        ks.retire_grant(grant_id=MISSING_GRANT)
    with pytest.raises(strongroom.InvalidGrantTokenException):
        ks.retire_grant(grant_token="not-a-token")
    with pytest.raises(strongroom.NotFoundException):
        ks.retire_grant(key_id=key.key_id, grant_id=MISSING_GRANT)
    with pytest.raises(strongroom.NotFoundException):
        ks.revoke_grant(key.key_id, MISSING_GRANT)
    with pytest.raises(strongroom.InvalidGrantIdException):
        ks.revoke_grant(key.key_id, "x" * 129)
    g = ks.create_grant(key.key_id, OTHER, ["Encrypt"], retiring_principal=OTHER)
    # Neither the grantee (without RetireGrant in the grant) nor a stranger may retire it ...
    with pytest.raises(strongroom.AccessDeniedException):
        ks.as_principal(NOBODY).retire_grant(grant_token=g.grant_token)
    # ... nor revoke it, which the key policy governs.
    with pytest.raises(strongroom.AccessDeniedException):
        ks.as_principal(OTHER).revoke_grant(key.key_id, g.grant_id)


def test_grant_pagination(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    ids = {ks.create_grant(key.key_id, OTHER, ["Encrypt"], retiring_principal=OTHER).grant_id for _ in range(5)}
    seen = []
    marker = None
    while True:
        page = ks.list_grants(key.key_id, limit=2, marker=marker)
        seen += [g.grant_id for g in page.grants]
        if not page.truncated:
            assert page.next_marker is None
            break
        marker = page.next_marker
    assert len(seen) == 5 and set(seen) == ids
    first = ks.list_retirable_grants(OTHER, limit=3)
    assert first.truncated and len(first.grants) == 3
    rest = ks.list_retirable_grants(OTHER, marker=first.next_marker)
    assert {g.grant_id for g in first.grants + rest.grants} == ids


# ---- audit ---------------------------------------------------------------------------


def test_audit_log(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    ks.encrypt(key.key_id, b"audit me")
    app = ks.as_principal(OTHER)
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"denied")
    r = ks.verify_audit_log()
    assert isinstance(r, strongroom.AuditVerification)
    assert r.intact is True and r.fault is None and r.records >= 3
    assert ks.audit_log_path.exists() and isinstance(ks.audit_log_path, Path)

    encrypts = ks.audit_events(event_name="Encrypt")
    assert [e["userIdentity"]["arn"] for e in encrypts] == [ks.principal, OTHER]
    assert "errorCode" not in encrypts[0] and encrypts[1]["errorCode"] == "AccessDeniedException"
    assert all(key.arn in [res["ARN"] for res in e["resources"]] for e in encrypts)
    assert [e["eventName"] for e in ks.audit_events(principal=OTHER)] == ["Encrypt"]
    assert {e["eventName"] for e in ks.audit_events(key_id=key.key_id)} >= {"CreateKey", "Encrypt"}
    assert ks.audit_events(start_time="2999-01-01") == []
    # One event per operation; the log also holds the intent record of each change.
    intents = ks.audit_log_path.read_text().count('"strongroomIntent":{')
    assert intents > 0 and len(ks.audit_events(end_time="2999-01-01")) == r.records - intents
    assert ks.audit_events(event_name="NoSuchOperation") == []


def test_audit_outcome_unknown(tmp_path: Path, root_key: bytes) -> None:
    # A crash after a change's intent record was synced and before its rows
    # committed: the keystore as it was, the log ending with the intent.
    path = tmp_path / "crash.db"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        ks.create_key()
        assert ks.verify_audit_log().outcome_unknown == ()
    snapshot = path.read_bytes()
    with strongroom.Keystore.open(path, root_key=root_key) as ks:
        ks.create_key()
        log = ks.audit_log_path
    text = log.read_text()
    intent_line = text.splitlines(keepends=True)[-2]
    intent = json.loads(intent_line)
    assert intent["strongroomIntent"]["eventID"] != intent["eventID"]
    path.write_bytes(snapshot)
    log.write_text(text[: text.rindex(intent_line) + len(intent_line)])
    with strongroom.Keystore.open(path, root_key=root_key) as ks:
        r = ks.verify_audit_log()
        assert r.intact and r.outcome_unknown == (intent["eventID"],)
        assert [e.get("strongroomIntent") is not None for e in ks.audit_events()] == [False, True]


def test_audit_log_tampering_is_reported(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    ks.encrypt(key.key_id, b"one")
    ks.encrypt(key.key_id, b"two")
    path = ks.audit_log_path
    lines = path.read_text().splitlines(keepends=True)
    record = json.loads(lines[1])
    record["eventName"] = "Edited"
    lines[1] = json.dumps(record) + "\n"
    path.write_text("".join(lines))
    r = ks.verify_audit_log()
    assert r.intact is False and r.fault is not None and r.records == 1


def test_verify_audit_log_archives(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "rotated.db"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        key = ks.create_key()
        ks.encrypt(key.key_id, b"one")
        first = ks.rotate_audit_log()
        ks.encrypt(key.key_id, b"two")
        second = ks.rotate_audit_log()
        ks.encrypt(key.key_id, b"three")
        whole = ks.verify_audit_log()
        assert whole.intact and whole.archives == () and whole.archive_fault is None
        # str and os.PathLike, oldest first: the archives as rotate_audit_log named them.
        r = ks.verify_audit_log_archives([first.archive, Path(second.archive)])
        assert isinstance(r, strongroom.AuditVerification)
        assert r.intact is True and r.fault is None and r.archive_fault is None
        assert r.archives == (first, second) and r.records == whole.records
        assert pickle.loads(pickle.dumps(r)) == r
        # Any run of archives up to the current log; none is verify_audit_log.
        assert ks.verify_audit_log_archives([second.archive]).intact
        assert ks.verify_audit_log_archives([]) == whole
        # Misordered, missing or modified: archive_fault names the file, no exception.
        r = ks.verify_audit_log_archives([second.archive, first.archive])
        assert r.intact is False and r.fault is None and r.archive_fault is not None
        missing = str(tmp_path / "missing.jsonl")
        r = ks.verify_audit_log_archives([missing, second.archive])
        assert r.intact is False and r.archive_fault is not None and missing in r.archive_fault
        archive = Path(first.archive)
        archive.chmod(0o600)
        data = archive.read_bytes()
        at = data.index(b'"eventName":"') + len(b'"eventName":"')
        archive.write_bytes(data[:at] + b"X" + data[at + 1 :])
        r = ks.verify_audit_log_archives([first.archive, second.archive])
        assert r.intact is False and r.archive_fault is not None and first.archive in r.archive_fault
        assert r.fault is None and ks.verify_audit_log().intact
        with pytest.raises(TypeError):
            ks.verify_audit_log_archives(first.archive)  # a str is not a list of paths


def files_in(directory: Path) -> Dict[str, Tuple[bytes, int]]:
    """Every file of `directory`: its bytes and modification time (ns)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_verify_audit_log_read_only_writes_nothing(tmp_path: Path, root_key: bytes) -> None:
    path, anchor = tmp_path / "ro.db", tmp_path / "ro.anchor"
    with strongroom.Keystore.create(path, root_key=root_key, anchor=anchor) as ks:
        key = ks.create_key()
        ks.encrypt(key.key_id, b"x")
        expected = ks.verify_audit_log()
    before = files_in(tmp_path)
    assert {"ro.db", "ro.db.audit.jsonl", "ro.anchor"} <= set(before)
    verify = strongroom.Keystore.verify_audit_log_read_only
    r = verify(path, root_key=root_key, anchor=anchor)
    assert isinstance(r, strongroom.AuditVerification)
    assert r.intact is True and r.fault is None and r.outcome_unknown == ()
    assert (r.records, r.checkpoint_records) == (expected.records, expected.checkpoint_records)
    # Without checking the anchor: no OpenKeystoreWithoutAnchor event is recorded.
    assert verify(path, root_key=root_key.hex(), anchor=False).records == expected.records
    # Refusals create and write nothing either.
    with pytest.raises(strongroom.KMSInvalidStateException):
        verify(path, root_key=root_key)
    with pytest.raises(strongroom.AccessDeniedException):
        verify(path, root_key=bytes(b ^ 1 for b in root_key), anchor=anchor)
    with pytest.raises(strongroom.KMSInternalException, match="missing"):
        verify(path, root_key=root_key, anchor=tmp_path / "other.anchor")
    with pytest.raises(strongroom.ValidationException):
        verify(path, root_key=root_key, anchor=True)  # type: ignore[arg-type]
    with pytest.raises(strongroom.NotFoundException):
        verify(tmp_path / "none.db", root_key=root_key)
    with pytest.raises(TypeError):
        verify(path, anchor=anchor)
    assert files_in(tmp_path) == before


def test_verify_audit_log_read_only_reports_as_verify_audit_log(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ro.db"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        key = ks.create_key()
        ks.encrypt(key.key_id, b"one")
        ks.encrypt(key.key_id, b"two")
        full = ks.verify_audit_log()
        log = ks.audit_log_path
    lines = log.read_text().splitlines(keepends=True)
    verify = strongroom.Keystore.verify_audit_log_read_only

    def as_tuple(r: strongroom.AuditVerification) -> Tuple[Any, ...]:
        return (r.intact, r.records, r.checkpoint_records, r.fault, r.outcome_unknown)

    # An edited record.
    record = json.loads(lines[1])
    record["eventName"] = "Edited"
    log.write_text("".join([lines[0], json.dumps(record) + "\n", *lines[2:]]))
    ro = verify(path, root_key=root_key)
    assert ro.intact is False and ro.records == 1 and ro.fault is not None and "audit record 1" in ro.fault
    with strongroom.Keystore.open(path, root_key=root_key) as ks:
        assert as_tuple(ks.verify_audit_log()) == as_tuple(ro)
    # The last record cut off: the log is short of its sealed checkpoint.
    log.write_text("".join(lines[:-1]))
    ro = verify(path, root_key=root_key)
    assert ro.intact is False and ro.fault is not None
    assert (ro.records, ro.checkpoint_records) == (full.records - 1, full.records)
    with strongroom.Keystore.open(path, root_key=root_key) as ks:
        assert as_tuple(ks.verify_audit_log()) == as_tuple(ro)


def test_verify_audit_log_read_only_while_another_handle_is_open(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "ro.db"
    verify = strongroom.Keystore.verify_audit_log_read_only
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        key = ks.create_key()
        for i in range(2):
            ks.encrypt(key.key_id, b"x")
            live = ks.verify_audit_log()
            # The handle's commits, and the checkpoint sealed with them, are in its WAL.
            assert Path(f"{path}-wal").exists()
            r = verify(path, root_key=root_key)
            assert r.intact and (r.records, r.checkpoint_records) == (live.records, live.checkpoint_records)
        # The handle keeps working; a record cut off the log is found.
        ks.encrypt(key.key_id, b"y")
        live = ks.verify_audit_log()
        lines = ks.audit_log_path.read_text().splitlines(keepends=True)
        ks.audit_log_path.write_text("".join(lines[:-1]))
        r = verify(path, root_key=root_key)
        assert r.intact is False and r.checkpoint_records == live.records


def test_audit_write_behind(tmp_path: Path, root_key: bytes) -> None:
    path = tmp_path / "wb.db"
    with strongroom.Keystore.create(path, root_key=root_key) as ks:
        key = ks.create_key()
    with strongroom.Keystore.open(path, root_key=root_key, audit_write_mode="write-behind") as wb:
        start = time.monotonic()
        for _ in range(3):
            wb.encrypt(key.key_id, b"x")
        # Queued, not yet in the file; reading the log writes them first.
        # "write-behind" writes the queue once its oldest record is 100 ms
        # old (AUDIT_BATCH_MILLIS): a test (or the background drain)
        # descheduled that long on a loaded machine finds some or all of
        # the three written, and only then.
        lines = wb.audit_log_path.read_text().count("\n")
        if time.monotonic() - start < 0.1:
            assert lines == 2  # CreateKey's intent and record
        else:
            assert 2 <= lines <= 5, lines
        assert [e["eventName"] for e in wb.audit_events()] == ["CreateKey"] + ["Encrypt"] * 3
        wb.encrypt(key.key_id, b"x")
    # close() wrote the last one.
    with strongroom.Keystore.open(path, root_key=root_key) as ks:
        r = ks.verify_audit_log()
        assert r.intact and r.records == 6
    with pytest.raises(strongroom.ValidationException):
        strongroom.Keystore.open(path, root_key=root_key, audit_write_mode="lazy")  # type: ignore[arg-type]


def test_rotate_audit_log(ks: strongroom.Keystore) -> None:
    """rotate_audit_log archives the log beside it and starts a new file
    whose first record is RotateAuditLog; the result pickles as other
    results do; the log verifies from where the new file starts."""
    key = ks.create_key()
    ks.encrypt(key.key_id, b"x")
    r = ks.rotate_audit_log()
    assert type(r) is strongroom.AuditLogRotation
    # CreateKey's intent and outcome, one Encrypt.
    assert (r.first_record, r.last_record) == (1, 3)
    archive = Path(r.archive)
    assert archive.name == "ks.db.audit.00000000000000000001-00000000000000000003.jsonl"
    data = archive.read_bytes()
    assert r.bytes == len(data)
    assert r.sha256 == hashlib.sha256(data).hexdigest()
    assert pickle.loads(pickle.dumps(r)) == r
    events = ks.audit_events()
    assert events[0]["eventName"] == "RotateAuditLog"
    assert events[0]["responseElements"]["archiveSha256"] == r.sha256
    v = ks.verify_audit_log()
    assert v.intact and (v.first_record, v.records) == (4, 4)
    archive.unlink()
    ks.encrypt(key.key_id, b"x")
    assert ks.verify_audit_log().intact
    # A log without records is not rotated.
    with strongroom.Keystore.create(archive.parent / "other.db", root_key=bytes(32)) as other:
        with pytest.raises(strongroom.KMSInvalidStateException):
            other.rotate_audit_log()
