"""Principals, key policies, grants and the audit log from Python."""

from __future__ import annotations

import json

import pytest

import strongroom

OTHER = "arn:aws:iam::111122223333:user/app"


def test_principal_and_as_principal(ks: strongroom.Keystore) -> None:
    assert ks.principal.startswith("arn:aws:iam::")
    app = ks.as_principal(OTHER)
    assert app.principal == OTHER
    assert ks.principal != OTHER


def test_key_policy_round_trip(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    policy = json.loads(ks.get_key_policy(key.key_id))
    assert "Statement" in policy
    assert ks.list_key_policies(key.key_id)["PolicyNames"] == ["default"]
    policy["Statement"].append(
        {
            "Sid": "app",
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
        }
    )
    ks.put_key_policy(key.key_id, json.dumps(policy))
    assert json.loads(ks.get_key_policy(key.key_id, policy_name="default")) == policy
    app = ks.as_principal(OTHER)
    blob = app.encrypt(key.key_id, b"hi").ciphertext_blob
    assert app.decrypt(blob).plaintext == b"hi"
    with pytest.raises(strongroom.MalformedPolicyDocumentException):
        ks.put_key_policy(key.key_id, "not json")
    with pytest.raises(strongroom.KMSError):
        ks.get_key_policy(key.key_id, policy_name="other")


def test_grants(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    app = ks.as_principal(OTHER)
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"x")
    g = ks.create_grant(
        key.key_id,
        OTHER,
        ["Encrypt", "Decrypt"],
        retiring_principal=OTHER,
        constraints={"EncryptionContextSubset": {"app": "1"}},
        name="app-grant",
    )
    assert set(g) == {"GrantToken", "GrantId"}
    blob = app.encrypt(
        key.key_id, b"x", encryption_context={"app": "1"}, grant_tokens=[g["GrantToken"]]
    ).ciphertext_blob
    assert app.decrypt(blob, encryption_context={"app": "1"}).plaintext == b"x"
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"x", encryption_context={"app": "2"})

    listed = ks.list_grants(key.key_id)
    assert [x["GrantId"] for x in listed["Grants"]] == [g["GrantId"]]
    assert listed["Grants"][0]["Operations"] == ["Encrypt", "Decrypt"]
    assert listed["Truncated"] is False
    assert ks.list_grants(key.key_id, grantee_principal="arn:aws:iam::111122223333:user/none")["Grants"] == []
    retirable = app.list_retirable_grants(OTHER)
    assert [x["GrantId"] for x in retirable["Grants"]] == [g["GrantId"]]

    app.retire_grant(grant_token=g["GrantToken"])
    assert ks.list_grants(key.key_id)["Grants"] == []
    with pytest.raises(strongroom.AccessDeniedException):
        app.encrypt(key.key_id, b"x", encryption_context={"app": "1"})

    g2 = ks.create_grant(key.key_id, OTHER, ["DescribeKey"])
    ks.revoke_grant(key.key_id, g2["GrantId"])
    assert ks.list_grants(key.key_id)["Grants"] == []
    with pytest.raises(strongroom.ValidationException):
        ks.create_grant(key.key_id, OTHER, ["NoSuchOperation"])


def test_verify_audit_log(ks: strongroom.Keystore, key: strongroom.KeyMetadata) -> None:
    ks.encrypt(key.key_id, b"audit me")
    r = ks.verify_audit_log()
    assert r["intact"] is True and r["fault"] is None
    assert r["records"] >= 2
