"""Key policies, grants and the audit log through the endpoint: the SigV4
access key's principal is the caller."""

import json
import subprocess

import pytest

from conftest import ACCOUNT, ADMIN, BIN, BOB
from test_boto3 import raises_code  # AccessDeniedException is not in botocore's KMS model


@pytest.fixture(scope="module")
def access(server, kms):
    # Key policies are part of the product: a server without them fails
    # here, it does not skip the module.
    assert kms.list_key_policies(KeyId=kms.create_key()["KeyMetadata"]["KeyId"])["PolicyNames"] == ["default"]
    return server


def admin_only_key(kms):
    key = kms.create_key(Description="admin only")["KeyMetadata"]["KeyId"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "admin", "Effect": "Allow", "Principal": {"AWS": ADMIN[2]},
        "Action": "kms:*", "Resource": "*"}]}
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
    return key


def test_policies(access, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    default = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    assert f"arn:aws:iam::{ACCOUNT}:root" in json.dumps(default)
    with pytest.raises(kms.exceptions.MalformedPolicyDocumentException):
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy="{not json")
    bob = access.client(cred=BOB)
    bob.encrypt(KeyId=key, Plaintext=b"default policy covers the account")
    key = admin_only_key(kms)
    kms.encrypt(KeyId=key, Plaintext=b"admin may")
    with raises_code("AccessDeniedException"):
        bob.encrypt(KeyId=key, Plaintext=b"bob may not")


def test_grants_and_pagination(access, kms):
    key = admin_only_key(kms)
    bob = access.client(cred=BOB)
    with raises_code("AccessDeniedException"):
        bob.generate_data_key(KeyId=key, KeySpec="AES_256")
    g = kms.create_grant(KeyId=key, GranteePrincipal=BOB[2], Operations=["Encrypt", "Decrypt", "GenerateDataKey"],
                         RetiringPrincipal=BOB[2])
    blob = bob.encrypt(KeyId=key, Plaintext=b"granted", GrantTokens=[g["GrantToken"]])["CiphertextBlob"]
    assert bob.decrypt(CiphertextBlob=blob)["Plaintext"] == b"granted"
    ids = {g["GrantId"]}
    for i in range(3):
        ids.add(kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/g{i}",
                                 Operations=["Decrypt"])["GrantId"])
    seen = []
    for page in kms.get_paginator("list_grants").paginate(KeyId=key, PaginationConfig={"PageSize": 1}):
        assert len(page["Grants"]) <= 1
        seen += [x["GrantId"] for x in page["Grants"]]
    assert set(seen) == ids and len(seen) == 4
    # IssuingAccount is the account's root principal ARN, as AWS KMS returns it.
    assert {x["IssuingAccount"] for x in kms.list_grants(KeyId=key)["Grants"]} == {f"arn:aws:iam::{ACCOUNT}:root"}
    retirable = bob.list_retirable_grants(RetiringPrincipal=BOB[2])["Grants"]
    assert g["GrantId"] in [x["GrantId"] for x in retirable]
    bob.retire_grant(GrantToken=g["GrantToken"])
    with raises_code("AccessDeniedException"):
        bob.decrypt(CiphertextBlob=blob)
    other = next(i for i in ids if i != g["GrantId"])
    kms.revoke_grant(KeyId=key, GrantId=other)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.revoke_grant(KeyId=key, GrantId=other)
    assert len(kms.list_grants(KeyId=key)["Grants"]) == 2


def test_audit_log_names_the_signing_principal(access, kms):
    bob = access.client(cred=BOB)
    key = kms.create_key(Description="audited")["KeyMetadata"]["KeyId"]
    bob.encrypt(KeyId=key, Plaintext=b"audited")
    out = subprocess.run([BIN, "--keystore", str(access.keystore), "audit", "show"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert BOB[2] in out.stdout and ADMIN[2] in out.stdout
    v = subprocess.run([BIN, "--keystore", str(access.keystore), "audit", "verify"],
                       capture_output=True, text=True, timeout=60)
    assert v.returncode == 0, v.stdout + v.stderr


def test_dry_run_checks_without_changing_anything(access, kms):
    """boto3's DryRun=True: DryRunOperationException when the request would
    succeed, the real error otherwise, and no grant created or removed."""
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.encrypt(KeyId=key, Plaintext=b"x", DryRun=True)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.encrypt(KeyId="alias/none", Plaintext=b"x", DryRun=True)
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.create_grant(KeyId=key, GranteePrincipal=BOB[2], Operations=["Encrypt"], DryRun=True)
    assert kms.list_grants(KeyId=key)["Grants"] == []
    grant = kms.create_grant(KeyId=key, GranteePrincipal=BOB[2], Operations=["Encrypt"])
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.revoke_grant(KeyId=key, GrantId=grant["GrantId"], DryRun=True)
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key)["Grants"]] == [grant["GrantId"]]
