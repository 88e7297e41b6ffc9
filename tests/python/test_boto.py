"""The boto3 drop-in: the same test functions run against Strongroom's client
and against boto3's KMS client mocked by moto, and every response is checked
against botocore's KMS service model."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import strongroom

botocore_session = pytest.importorskip("botocore.session")
from botocore.exceptions import ClientError, ParamValidationError  # noqa: E402

KMS_MODEL = botocore_session.get_session().get_service_model("kms")


# ---- shape checking against botocore's KMS model ---------------------------------


def check_shape(value: Any, shape: Any, path: str) -> None:
    t = shape.type_name
    if t == "structure":
        assert isinstance(value, dict), f"{path}: expected dict, got {type(value).__name__}"
        for k, v in value.items():
            if k == "ResponseMetadata" and path == "":
                continue
            assert k in shape.members, f"{path}.{k}: not a member of {shape.name}"
            check_shape(v, shape.members[k], f"{path}.{k}")
        for req in shape.required_members:
            assert req in value, f"{path}: required member {req} missing"
    elif t == "list":
        assert isinstance(value, list), f"{path}: expected list, got {type(value).__name__}"
        for i, v in enumerate(value):
            check_shape(v, shape.member, f"{path}[{i}]")
    elif t == "map":
        assert isinstance(value, dict), path
        for k, v in value.items():
            assert isinstance(k, str), path
            check_shape(v, shape.value, f"{path}[{k}]")
    elif t == "string":
        assert isinstance(value, str), f"{path}: expected str, got {type(value).__name__}"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} not in {shape.enum}"
    elif t == "blob":
        assert isinstance(value, bytes), f"{path}: expected bytes, got {type(value).__name__}"
    elif t == "timestamp":
        assert isinstance(value, dt.datetime) and value.tzinfo is not None, f"{path}: expected aware datetime"
    elif t == "boolean":
        assert isinstance(value, bool), f"{path}: expected bool"
    elif t in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: expected int"
    else:  # pragma: no cover
        raise AssertionError(f"{path}: unhandled shape type {t}")


def check_response(operation: str, response: Dict[str, Any]) -> None:
    op = KMS_MODEL.operation_model(operation)
    assert "ResponseMetadata" in response
    if op.output_shape is None:
        assert set(response) == {"ResponseMetadata"}
    else:
        check_shape(response, op.output_shape, "")


def check_params(operation: str, params: Dict[str, Any]) -> None:
    """The parameters a test passes are valid for the real KMS API."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(params, KMS_MODEL.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


# ---- the two clients --------------------------------------------------------------


@pytest.fixture(params=["strongroom", "moto"])
def kms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "strongroom":
        with strongroom.Keystore.create(tmp_path / "boto.db", root_key=os.urandom(32), region="us-east-1") as ks:
            yield strongroom.client(ks)
    else:
        moto = pytest.importorskip("moto")
        boto3 = pytest.importorskip("boto3")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        with moto.mock_aws():
            yield boto3.client("kms", region_name="us-east-1")


class Checked:
    """Wraps a client: validates every request against the model and every
    response against the model, by operation name."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.exceptions = client.exceptions

    def __getattr__(self, method: str) -> Any:
        op = "".join(p.capitalize() for p in method.split("_"))
        op = {"GenerateDataKeyWithoutPlaintext": "GenerateDataKeyWithoutPlaintext"}.get(op, op)

        def call(**params: Any) -> Dict[str, Any]:
            check_params(op, params)
            r = getattr(self.client, method)(**params)
            check_response(op, r)
            return r

        return call


CTX = {"purpose": "boto-test"}


# ---- code written for boto3 -----------------------------------------------------------


def test_key_lifecycle(kms: Any) -> None:
    c = Checked(kms)
    created = c.create_key(Description="boto", Tags=[{"TagKey": "team", "TagValue": "ops"}])
    key_id = created["KeyMetadata"]["KeyId"]
    assert created["KeyMetadata"]["KeyState"] == "Enabled"
    assert created["KeyMetadata"]["KeySpec"] == "SYMMETRIC_DEFAULT"
    d = c.describe_key(KeyId=key_id)["KeyMetadata"]
    assert d["Arn"].startswith("arn:aws:kms:us-east-1:") and d["Description"] == "boto"
    assert key_id in [k["KeyId"] for k in c.list_keys()["Keys"]]
    c.update_key_description(KeyId=key_id, Description="changed")
    assert c.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "changed"
    c.disable_key(KeyId=key_id)
    assert c.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is False
    c.enable_key(KeyId=key_id)
    s = c.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert s["KeyId"].endswith(key_id) and isinstance(s["DeletionDate"], dt.datetime)
    assert c.cancel_key_deletion(KeyId=key_id)["KeyId"].endswith(key_id)
    assert c.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_rotation(kms: Any) -> None:
    c = Checked(kms)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    assert c.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    c.enable_key_rotation(KeyId=key_id)
    assert c.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    c.disable_key_rotation(KeyId=key_id)
    assert c.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


def test_aliases_and_tags(kms: Any) -> None:
    c = Checked(kms)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    c.create_alias(AliasName="alias/boto", TargetKeyId=key_id)
    assert c.describe_key(KeyId="alias/boto")["KeyMetadata"]["KeyId"] == key_id
    names = [a["AliasName"] for a in c.list_aliases(KeyId=key_id)["Aliases"]]
    assert names == ["alias/boto"]
    c.delete_alias(AliasName="alias/boto")
    c.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}])
    assert {"TagKey": "a", "TagValue": "1"} in c.list_resource_tags(KeyId=key_id)["Tags"]
    c.untag_resource(KeyId=key_id, TagKeys=["a"])
    assert c.list_resource_tags(KeyId=key_id)["Tags"] == []


def test_encrypt_decrypt_reencrypt(kms: Any) -> None:
    c = Checked(kms)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    other = c.create_key()["KeyMetadata"]["KeyId"]
    enc = c.encrypt(KeyId=key_id, Plaintext=b"attack at dawn", EncryptionContext=CTX)
    dec = c.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext=CTX)
    assert dec["Plaintext"] == b"attack at dawn" and dec["KeyId"].endswith(key_id)
    re = c.re_encrypt(
        CiphertextBlob=enc["CiphertextBlob"],
        SourceEncryptionContext=CTX,
        DestinationKeyId=other,
        DestinationEncryptionContext={"new": "ctx"},
    )
    assert re["KeyId"].endswith(other) and re["SourceKeyId"].endswith(key_id)
    back = c.decrypt(CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"new": "ctx"})
    assert back["Plaintext"] == b"attack at dawn"


def test_data_keys_and_random(kms: Any) -> None:
    c = Checked(kms)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    dk = c.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=CTX)
    assert set(dk) == {"CiphertextBlob", "Plaintext", "KeyId", "ResponseMetadata"}
    assert len(dk["Plaintext"]) == 32
    assert c.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=CTX)["Plaintext"] == dk["Plaintext"]
    wp = c.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=16)
    assert set(wp) == {"CiphertextBlob", "KeyId", "ResponseMetadata"}
    assert len(c.decrypt(CiphertextBlob=wp["CiphertextBlob"])["Plaintext"]) == 16
    assert len(c.generate_random(NumberOfBytes=24)["Plaintext"]) == 24


def test_errors_caught_the_boto3_way(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    missing = "12345678-1234-1234-1234-123456789012"
    with pytest.raises(kms.exceptions.NotFoundException) as e:
        kms.describe_key(KeyId=missing)
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    assert isinstance(e.value, ClientError) and e.value.operation_name == "DescribeKey"
    # botocore adds the modeled exception's members (KMS's: `message`) to
    # the response, beside Error, and the HTTP status is KMS's.
    assert e.value.response["message"] == e.value.response["Error"]["Message"] != ""
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=CTX)["CiphertextBlob"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException) as e:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "other"})
    assert e.value.response["Error"]["Code"] == "InvalidCiphertextException"
    try:
        kms.create_alias(AliasName="alias/a", TargetKeyId=missing)
    except ClientError as err:  # the generic boto3 idiom
        assert err.response["Error"]["Code"] == "NotFoundException"
    else:
        pytest.fail("expected NotFoundException")


GRANTEE = "arn:aws:iam::123456789012:user/app"


def test_key_policies(kms: Any) -> None:
    c = Checked(kms)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    listed = c.list_key_policies(KeyId=key_id)
    assert listed["PolicyNames"] == ["default"] and listed["Truncated"] is False
    got = c.get_key_policy(KeyId=key_id, PolicyName="default")
    policy = json.loads(got["Policy"])
    assert policy["Statement"]
    if isinstance(kms, strongroom.Client):  # moto 5 omits PolicyName, which KMS returns
        assert got["PolicyName"] == "default"
    policy["Statement"].append(
        {"Sid": "app", "Effect": "Allow", "Principal": {"AWS": GRANTEE}, "Action": "kms:Encrypt", "Resource": "*"}
    )
    c.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))
    assert json.loads(c.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == policy
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.get_key_policy(KeyId="12345678-1234-1234-1234-123456789012", PolicyName="default")
    if isinstance(kms, strongroom.Client):  # moto 5 fails (KeyError) without PolicyName, optional in KMS
        assert json.loads(c.get_key_policy(KeyId=key_id)["Policy"]) == policy


def test_grants(kms: Any) -> None:
    c = Checked(kms)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    g = c.create_grant(
        KeyId=key_id,
        GranteePrincipal=GRANTEE,
        RetiringPrincipal=GRANTEE,
        Operations=["Encrypt", "Decrypt"],
        Constraints={"EncryptionContextSubset": CTX},
        Name="app",
    )
    assert set(g) == {"GrantToken", "GrantId", "ResponseMetadata"}
    (entry,) = c.list_grants(KeyId=key_id)["Grants"]
    assert entry["GrantId"] == g["GrantId"] and entry["Name"] == "app"
    assert entry["GranteePrincipal"] == GRANTEE and entry["RetiringPrincipal"] == GRANTEE
    assert sorted(entry["Operations"]) == ["Decrypt", "Encrypt"]
    assert entry["Constraints"] == {"EncryptionContextSubset": CTX}
    assert [x["GrantId"] for x in c.list_retirable_grants(RetiringPrincipal=GRANTEE)["Grants"]] == [g["GrantId"]]
    # Grant tokens are accepted by the cryptographic operations.
    blob = c.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=CTX, GrantTokens=[g["GrantToken"]])["CiphertextBlob"]
    assert c.decrypt(CiphertextBlob=blob, EncryptionContext=CTX, GrantTokens=[g["GrantToken"]])["Plaintext"] == b"x"
    c.retire_grant(GrantToken=g["GrantToken"])
    assert c.list_grants(KeyId=key_id)["Grants"] == []
    g2 = c.create_grant(KeyId=key_id, GranteePrincipal=GRANTEE, Operations=["GenerateDataKey"])
    c.revoke_grant(KeyId=key_id, GrantId=g2["GrantId"])
    g3 = c.create_grant(KeyId=key_id, GranteePrincipal=GRANTEE, Operations=["DescribeKey"])
    c.retire_grant(KeyId=key_id, GrantId=g3["GrantId"])
    assert c.list_grants(KeyId=key_id)["Grants"] == []
    if isinstance(kms, strongroom.Client):  # moto 5 fails with a KeyError for a missing key
        with pytest.raises(kms.exceptions.NotFoundException):
            kms.create_grant(KeyId="12345678-1234-1234-1234-123456789012", GranteePrincipal=GRANTEE, Operations=["Encrypt"])


# ---- the same calls on both: Strongroom's responses carry every member moto's do ----------


def _script(kms: Any) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    out["CreateKey"] = kms.create_key(Description="cmp", Tags=[{"TagKey": "t", "TagValue": "v"}])
    key_id = out["CreateKey"]["KeyMetadata"]["KeyId"]
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    out["DescribeKey"] = kms.describe_key(KeyId=key_id)
    out["ListKeys"] = kms.list_keys()
    out["Encrypt"] = kms.encrypt(KeyId=key_id, Plaintext=b"p", EncryptionContext=CTX)
    out["Decrypt"] = kms.decrypt(CiphertextBlob=out["Encrypt"]["CiphertextBlob"], EncryptionContext=CTX)
    out["ReEncrypt"] = kms.re_encrypt(
        CiphertextBlob=out["Encrypt"]["CiphertextBlob"], SourceEncryptionContext=CTX, DestinationKeyId=other
    )
    out["GenerateDataKey"] = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    out["GenerateDataKeyWithoutPlaintext"] = kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    out["GenerateRandom"] = kms.generate_random(NumberOfBytes=8)
    out["CreateAlias"] = kms.create_alias(AliasName="alias/cmp", TargetKeyId=key_id)
    out["ListAliases"] = kms.list_aliases(KeyId=key_id)
    out["ListResourceTags"] = kms.list_resource_tags(KeyId=key_id)
    out["EnableKeyRotation"] = kms.enable_key_rotation(KeyId=key_id)
    out["GetKeyRotationStatus"] = kms.get_key_rotation_status(KeyId=key_id)
    out["ScheduleKeyDeletion"] = kms.schedule_key_deletion(KeyId=other, PendingWindowInDays=7)
    out["CancelKeyDeletion"] = kms.cancel_key_deletion(KeyId=other)
    out["GetKeyPolicy"] = kms.get_key_policy(KeyId=key_id, PolicyName="default")
    out["PutKeyPolicy"] = kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=out["GetKeyPolicy"]["Policy"])
    out["ListKeyPolicies"] = kms.list_key_policies(KeyId=key_id)
    out["CreateGrant"] = kms.create_grant(
        KeyId=key_id,
        GranteePrincipal=GRANTEE,
        RetiringPrincipal=GRANTEE,
        Operations=["Encrypt"],
        Constraints={"EncryptionContextEquals": CTX},
        Name="cmp",
    )
    out["ListGrants"] = kms.list_grants(KeyId=key_id)
    out["ListRetirableGrants"] = kms.list_retirable_grants(RetiringPrincipal=GRANTEE)
    out["RetireGrant"] = kms.retire_grant(GrantToken=out["CreateGrant"]["GrantToken"])
    grant_id = kms.create_grant(KeyId=key_id, GranteePrincipal=GRANTEE, Operations=["Decrypt"])["GrantId"]
    out["RevokeGrant"] = kms.revoke_grant(KeyId=key_id, GrantId=grant_id)
    return out


def _members(value: Any, path: str = "") -> set:
    """Every member path in a response, e.g. {"KeyMetadata.KeyId", "Keys[].KeyArn"}."""
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "ResponseMetadata":
                continue
            p = f"{path}.{k}" if path else k
            found.add(p)
            found |= _members(v, p)
    elif isinstance(value, list):
        for v in value:
            found |= _members(v, f"{path}[]")
    return found


def test_response_members_match_moto(tmp_path: Path) -> None:
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        theirs = _script(boto3.client("kms", region_name="us-east-1"))
    with strongroom.Keystore.create(tmp_path / "cmp.db", root_key=os.urandom(32), region="us-east-1") as ks:
        ours = _script(strongroom.client(ks))
    # moto lists SigningAlgorithms even for symmetric encryption keys; AWS
    # returns them only for SIGN_VERIFY keys (KMS API reference, KeyMetadata).
    not_for_local_symmetric = {"KeyMetadata.SigningAlgorithms"}
    for op in theirs:
        check_response(op, ours[op])
        missing = _members(theirs[op]) - _members(ours[op]) - not_for_local_symmetric
        extra = _members(ours[op]) - _members(theirs[op])
        if extra:
            print(f"\n{op}: Strongroom also returns {sorted(extra)}")
        assert not missing, f"{op}: moto returns {sorted(missing)}, Strongroom does not"


# ---- Strongroom-only behaviour of the client ---------------------------------------


def test_exact_response_members(sr: Any) -> None:
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    enc = sr.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext=CTX)
    assert set(enc) == {"CiphertextBlob", "KeyId", "EncryptionAlgorithm", "ResponseMetadata"}
    dec = sr.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext=CTX)
    assert set(dec) == {"KeyId", "Plaintext", "EncryptionAlgorithm", "ResponseMetadata"}
    s = sr.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert set(s) == {"KeyId", "DeletionDate", "KeyState", "PendingWindowInDays", "ResponseMetadata"}
    check_response("ScheduleKeyDeletion", s)


def test_disabled_key_error(sr: Any) -> None:
    # moto does not model DisabledException; KMS and Strongroom do.
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    sr.disable_key(KeyId=key_id)
    with pytest.raises(sr.exceptions.DisabledException) as e:
        sr.encrypt(KeyId=key_id, Plaintext=b"x")
    assert e.value.response["Error"]["Code"] == "DisabledException"


@pytest.fixture
def sr(tmp_path: Path) -> Iterator[Any]:
    with strongroom.Keystore.create(tmp_path / "sr.db", root_key=os.urandom(32)) as ks:
        yield ks.client()


def test_client_exceptions_cover_every_code(sr: Any) -> None:
    from strongroom import _strongroom

    for code in _strongroom.ERROR_CODES:
        cls = getattr(sr.exceptions, code)
        assert issubclass(cls, ClientError) and cls.__name__ == code
        assert sr.exceptions.from_code(code) is cls
    assert sr.exceptions.ClientError is ClientError
    with pytest.raises(AttributeError):
        sr.exceptions.NoSuchException


def test_client_error_chains_the_kms_error(sr: Any) -> None:
    with pytest.raises(ClientError) as e:
        sr.describe_key(KeyId="alias/none")
    assert isinstance(e.value.__cause__, strongroom.NotFoundException)
    assert "when calling the DescribeKey operation" in str(e.value)


def test_client_param_validation(sr: Any) -> None:
    with pytest.raises(ParamValidationError):
        sr.encrypt(KeyId="alias/x", Plaintext=b"x", Bogus=1)
    with pytest.raises(ParamValidationError):
        sr.encrypt(KeyId="alias/x")
    with pytest.raises(TypeError):
        sr.encrypt("alias/x", b"x")
    with pytest.raises(sr.exceptions.ValidationException):
        sr.generate_random()


def test_client_paginators(sr: Any) -> None:
    ids = {sr.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    assert sr.can_paginate("list_keys") and not sr.can_paginate("encrypt")
    pages = list(sr.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert {k["KeyId"] for p in pages for k in p["Keys"]} == ids
    for p in pages:
        check_response("ListKeys", p)


def test_client_str_plaintext_and_all_list_shapes(sr: Any) -> None:
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    enc = sr.encrypt(KeyId=key_id, Plaintext="text is UTF-8 encoded, as boto3 does")
    assert sr.decrypt(CiphertextBlob=enc["CiphertextBlob"])["Plaintext"] == b"text is UTF-8 encoded, as boto3 does"
    sr.create_alias(AliasName="alias/shape", TargetKeyId=key_id)
    check_response("ListAliases", sr.list_aliases())
    sr.tag_resource(KeyId=key_id, Tags=[{"TagKey": "k", "TagValue": "v"}])
    check_response("ListResourceTags", sr.list_resource_tags(KeyId=key_id))
    check_response("RotateKeyOnDemand", sr.rotate_key_on_demand(KeyId=key_id))
    check_response("ListKeyRotations", sr.list_key_rotations(KeyId=key_id))
    check_response("GetKeyRotationStatus", sr.get_key_rotation_status(KeyId=key_id))
    check_response("UpdateAlias", sr.update_alias(AliasName="alias/shape", TargetKeyId=key_id))
    check_response("DeleteAlias", sr.delete_alias(AliasName="alias/shape"))
    assert sr.meta.region_name == "local-1"


def test_client_rejects_non_keystore() -> None:
    with pytest.raises(TypeError):
        strongroom.client("not a keystore")  # type: ignore[arg-type]


def test_client_without_botocore(tmp_path: Path) -> None:
    """Without botocore the client's exceptions subclass a compatible
    ClientError with the same constructor, message and .response."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        f"""
        import os, sys
        sys.modules["botocore"] = None  # make `import botocore...` fail
        import strongroom
        with strongroom.Keystore.create({str(tmp_path / "nb.db")!r}, root_key=os.urandom(32)) as ks:
            c = ks.client()
            try:
                c.describe_key(KeyId="alias/none")
            except c.exceptions.ClientError as e:
                assert type(e).__name__ == "NotFoundException", type(e)
                assert isinstance(e, c.exceptions.NotFoundException)
                assert e.response["Error"]["Code"] == "NotFoundException"
                assert e.operation_name == "DescribeKey"
                assert str(e).startswith("An error occurred (NotFoundException) when calling the DescribeKey operation")
                assert type(e).__mro__[1].__name__ == "ClientError"
            else:
                raise SystemExit("no exception")
            try:
                c.encrypt(KeyId="alias/none", Bogus=1)
            except ValueError as e:
                assert "Parameter validation failed" in str(e)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_grant_errors_and_pagination(sr: Any) -> None:
    c = Checked(sr)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    ids = {
        c.create_grant(KeyId=key_id, GranteePrincipal=GRANTEE, RetiringPrincipal=GRANTEE, Operations=["Encrypt"])[
            "GrantId"
        ]
        for _ in range(5)
    }
    for op, kwargs in (("list_grants", {"KeyId": key_id}), ("list_retirable_grants", {"RetiringPrincipal": GRANTEE})):
        assert sr.can_paginate(op)
        pages = list(sr.get_paginator(op).paginate(PaginationConfig={"PageSize": 2}, **kwargs))
        assert len(pages) == 3 and {g["GrantId"] for p in pages for g in p["Grants"]} == ids
        for p in pages:
            check_response("ListGrants", p)
    assert sr.can_paginate("list_key_policies")
    grant_id = next(iter(ids))
    missing = "0" * 64
    with pytest.raises(sr.exceptions.ValidationException):
        sr.create_grant(KeyId=key_id, GranteePrincipal=GRANTEE, Operations=["Bogus"])
    with pytest.raises(sr.exceptions.ValidationException):
        sr.create_grant(KeyId=key_id, Operations=["Encrypt"])
    with pytest.raises(sr.exceptions.InvalidGrantTokenException):
        sr.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=["bogus"])
    with pytest.raises(sr.exceptions.InvalidGrantIdException):
        sr.revoke_grant(KeyId=key_id, GrantId="x" * 129)
    with pytest.raises(sr.exceptions.NotFoundException):
        sr.revoke_grant(KeyId=key_id, GrantId=missing)
    with pytest.raises(sr.exceptions.InvalidGrantTokenException):
        sr.retire_grant(GrantToken="bogus")
    with pytest.raises(sr.exceptions.ValidationException):
        sr.retire_grant()
    with pytest.raises(sr.exceptions.ValidationException):
        sr.list_retirable_grants()
    with pytest.raises(sr.exceptions.InvalidMarkerException):
        sr.list_grants(KeyId=key_id, Marker="bogus")
    with pytest.raises(sr.exceptions.MalformedPolicyDocumentException):
        sr.put_key_policy(KeyId=key_id, Policy="{}")
    with pytest.raises(sr.exceptions.NotFoundException):
        sr.get_key_policy(KeyId=key_id, PolicyName="other")
    with pytest.raises(sr.exceptions.UnsupportedOperationException):
        sr.create_grant(KeyId=key_id, GranteeServicePrincipal="kms.amazonaws.com", Operations=["Encrypt"])
    with pytest.raises(sr.exceptions.UnsupportedOperationException):
        sr.list_grants(KeyId=key_id, GranteeServicePrincipal="kms.amazonaws.com")
    with pytest.raises(sr.exceptions.UnsupportedOperationException):
        sr.list_retirable_grants(RetiringServicePrincipal="kms.amazonaws.com")
    # DryRun of an operation that changes the keystore runs its checks,
    # reports that it would have succeeded, and changes nothing.
    for method, params in (
        ("create_grant", {"KeyId": key_id, "GranteePrincipal": GRANTEE, "Operations": ["Encrypt"]}),
        ("retire_grant", {"KeyId": key_id, "GrantId": grant_id}),
        ("revoke_grant", {"KeyId": key_id, "GrantId": grant_id}),
    ):
        op = "".join(p.capitalize() for p in method.split("_"))
        check_params(op, dict(params, DryRun=True))
        with pytest.raises(sr.exceptions.DryRunOperationException):
            getattr(sr, method)(DryRun=True, **params)
        # ... or the error the real call would raise.
        with pytest.raises(sr.exceptions.NotFoundException):
            getattr(sr, method)(DryRun=True, **dict(params, KeyId="alias/none"))
    assert {g["GrantId"] for g in sr.list_grants(KeyId=key_id)["Grants"]} == ids


def test_dry_run(sr: Any) -> None:
    c = Checked(sr)
    key_id = c.create_key()["KeyMetadata"]["KeyId"]
    blob = c.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    calls = [
        ("encrypt", {"KeyId": key_id, "Plaintext": b"x"}),
        ("decrypt", {"CiphertextBlob": blob}),
        ("re_encrypt", {"CiphertextBlob": blob, "DestinationKeyId": key_id}),
        ("generate_data_key", {"KeyId": key_id, "KeySpec": "AES_256"}),
        ("generate_data_key_without_plaintext", {"KeyId": key_id, "KeySpec": "AES_256"}),
    ]
    for method, params in calls:
        op = "".join(p.capitalize() for p in method.split("_"))
        check_params(op, dict(params, DryRun=True))
        with pytest.raises(sr.exceptions.DryRunOperationException) as e:
            getattr(sr, method)(DryRun=True, **params)
        assert e.value.response["Error"]["Code"] == "DryRunOperationException"
        # A request that would fail reports its own error, not DryRun's.
        bad = dict(params, KeyId="alias/none") if "KeyId" in params else dict(params, CiphertextBlob=b"junk")
        with pytest.raises(ClientError) as e:
            getattr(sr, method)(DryRun=True, **bad)
        assert e.value.response["Error"]["Code"] != "DryRunOperationException"


def test_dry_run_handle(tmp_path: Path) -> None:
    with strongroom.Keystore.create(tmp_path / "dry.db", root_key=os.urandom(32)) as ks:
        key = ks.create_key()
        dry = ks.dry_run()
        with pytest.raises(strongroom.DryRunOperationException, match="would have succeeded"):
            dry.encrypt(key.key_id, b"x")
        # Permission checks are what a dry run answers.
        with pytest.raises(strongroom.AccessDeniedException):
            ks.as_principal("arn:aws:iam::111122223333:user/x").dry_run().encrypt(key.key_id, b"x")
        assert dry.as_principal("arn:aws:iam::111122223333:user/x").principal.endswith("user/x")
        # Operations without DryRun in KMS refuse on a dry-run handle and do nothing.
        with pytest.raises(strongroom.ValidationException, match="DryRun"):
            dry.create_key()
        assert len(ks.list_keys().keys) == 1
        events = [e for e in ks.audit_events() if e["eventName"] == "Encrypt"]
        assert [e.get("errorCode") for e in events] == ["DryRunOperationException", "AccessDeniedException"]


def botocore_report(operation: str, params: Dict[str, Any]) -> str:
    """botocore's own client-side validation report for `params`."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(params, KMS_MODEL.operation_model(operation).input_shape)
    return str(report.generate_report())


def test_client_str_blobs_are_utf8(sr: Any) -> None:
    """Every blob parameter takes a str, UTF-8 encoded, as boto3 does."""
    text = "naïve message ✓"
    data = text.encode("utf-8")
    sym = sr.create_key()["KeyMetadata"]["KeyId"]
    blob = sr.encrypt(KeyId=sym, Plaintext=text)["CiphertextBlob"]
    assert sr.decrypt(CiphertextBlob=blob)["Plaintext"] == data
    signer = sr.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = sr.sign(KeyId=signer, Message=text, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    for message in (text, data):
        assert sr.verify(KeyId=signer, Message=message, Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    mac_key = sr.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = sr.generate_mac(KeyId=mac_key, Message=text, MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == sr.generate_mac(KeyId=mac_key, Message=data, MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert sr.verify_mac(KeyId=mac_key, Message=text, Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]
    # A str that is not the ciphertext is still a ciphertext error, not a TypeError.
    with pytest.raises(sr.exceptions.InvalidCiphertextException):
        sr.decrypt(CiphertextBlob="not a ciphertext")


def test_client_malformed_tags_are_param_validation_errors(sr: Any) -> None:
    """Malformed Tags fail as botocore's validator fails them: one
    ParamValidationError with botocore's report, before the keystore sees them."""
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    cases = [
        [{"Key": "a"}],
        {"a": "b"},
        [{"TagKey": "a"}],
        [{"TagKey": "", "TagValue": "v"}],
        [{"TagKey": 1, "TagValue": "v"}],
        ["a"],
    ]
    for tags in cases:
        expected = botocore_report("TagResource", {"KeyId": key_id, "Tags": tags})
        assert expected, tags
        with pytest.raises(ParamValidationError) as e:
            sr.tag_resource(KeyId=key_id, Tags=tags)
        assert str(e.value) == f"Parameter validation failed:\n{expected}", tags
        with pytest.raises(ParamValidationError):
            sr.create_key(Tags=tags)
    assert sr.list_resource_tags(KeyId=key_id)["Tags"] == []


def test_client_minimums_and_list_types_match_botocore(sr: Any) -> None:
    """botocore checks minimum lengths/values and list types client-side;
    so does the client, with the same report."""
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    for op, method, params in [
        ("GenerateDataKey", "generate_data_key", {"KeyId": key_id, "NumberOfBytes": 0}),
        ("GenerateRandom", "generate_random", {"NumberOfBytes": 0}),
        ("ListKeys", "list_keys", {"Limit": 0}),
        ("Encrypt", "encrypt", {"KeyId": "", "Plaintext": b"x"}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "GrantTokens": "tok"}),
        ("UntagResource", "untag_resource", {"KeyId": key_id, "TagKeys": "abc"}),
    ]:
        expected = botocore_report(op, params)
        assert expected, params
        with pytest.raises(ParamValidationError) as e:
            getattr(sr, method)(**params)
        assert str(e.value) == f"Parameter validation failed:\n{expected}", params


def test_client_type_errors_are_botocores_reports(sr: Any) -> None:
    """Wrong types, an explicit None included, fail with botocore's own
    report: CamelCase member names and botocore's nesting, not the Python
    API's snake_case messages (user trial 2026-11-30, item 11)."""
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    for op, method, params in [
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "EncryptionContext": None}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "EncryptionContext": {"a": 1}}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "EncryptionContext": {1: "a"}}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "EncryptionContext": "a=b"}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": 1}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": None}),
        ("Encrypt", "encrypt", {"KeyId": None, "Plaintext": b"x"}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "GrantTokens": ["t", 1]}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "DryRun": "yes"}),
        ("GenerateDataKey", "generate_data_key", {"KeyId": key_id, "NumberOfBytes": "32"}),
        ("GenerateRandom", "generate_random", {"NumberOfBytes": None}),
        ("ReEncrypt", "re_encrypt", {"CiphertextBlob": b"x", "DestinationKeyId": key_id,
                                     "DestinationEncryptionContext": {"k": None}}),
        ("TagResource", "tag_resource", {"KeyId": key_id, "Tags": None}),
    ]:
        expected = botocore_report(op, params)
        assert expected, params
        with pytest.raises(ParamValidationError) as e:
            getattr(sr, method)(**params)
        assert str(e.value) == f"Parameter validation failed:\n{expected}", params


def test_client_unknown_and_missing_members_are_botocores_reports(sr: Any) -> None:
    """An unknown or a missing member is botocore's "Unknown parameter in
    input" / "Missing required parameter in input" report, not a Python
    TypeError text naming the client's method, nor (for an unknown member
    that is not a str) a report of a wrong type."""
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    for op, method, params in [
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "Bogus": 1}),
        ("Encrypt", "encrypt", {"KeyId": key_id, "Plaintext": b"x", "Bogus": "x"}),
        ("Encrypt", "encrypt", {"KeyId": key_id}),
        ("Encrypt", "encrypt", {"Bogus": [1], "Plaintext": 5}),
        ("DescribeKey", "describe_key", {"KeyId": key_id, "keyid": key_id}),
        ("CreateAlias", "create_alias", {"AliasName": "alias/x"}),
        ("Sign", "sign", {"KeyId": key_id, "Message": b"m", "Foo": None}),
    ]:
        expected = botocore_report(op, params)
        assert expected, params
        with pytest.raises(ParamValidationError) as e:
            getattr(sr, method)(**params)
        assert str(e.value) == f"Parameter validation failed:\n{expected}", params


def test_client_duplicate_tag_keys_are_tag_exceptions(sr: Any) -> None:
    """A tag key given twice in one request is KMS's TagException, not
    "last value wins" (user trial 2026-11-30, item 13)."""
    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    twice = [{"TagKey": "b", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}]
    with pytest.raises(sr.exceptions.TagException):
        sr.tag_resource(KeyId=key_id, Tags=twice)
    assert sr.list_resource_tags(KeyId=key_id)["Tags"] == []
    with pytest.raises(sr.exceptions.TagException):
        sr.create_key(Tags=twice)
    sr.tag_resource(KeyId=key_id, Tags=[{"TagKey": "b", "TagValue": "1"}, {"TagKey": "B", "TagValue": "2"}])
    assert len(sr.list_resource_tags(KeyId=key_id)["Tags"]) == 2


def test_client_blobs_take_file_like_objects(sr: Any, tmp_path: Path) -> None:
    """botocore accepts a readable file-like object for a blob member; the
    client reads it (user trial 2026-11-30, item 11)."""
    import io

    key_id = sr.create_key()["KeyMetadata"]["KeyId"]
    src = tmp_path / "plain.bin"
    src.write_bytes(b"from a file")
    with open(src, "rb") as f:
        blob = sr.encrypt(KeyId=key_id, Plaintext=f)["CiphertextBlob"]
    assert sr.decrypt(CiphertextBlob=io.BytesIO(blob))["Plaintext"] == b"from a file"
    # A text file-like gives str, UTF-8 encoded as a str blob is.
    blob = sr.encrypt(KeyId=key_id, Plaintext=io.StringIO("naïve"))["CiphertextBlob"]
    assert sr.decrypt(CiphertextBlob=blob)["Plaintext"] == "naïve".encode("utf-8")


def botocore_pages(sr: Any, operation: str, config: Dict[str, Any], **kwargs: Any) -> Any:
    """botocore's own PageIterator driving the client's method."""
    import jmespath
    from botocore.paginate import PageIterator

    return PageIterator(
        getattr(sr, operation),
        input_token=["Marker"],
        output_token=[jmespath.compile("NextMarker")],
        more_results=jmespath.compile("Truncated"),
        result_keys=[jmespath.compile("Keys")],
        non_aggregate_keys=[],
        limit_key="Limit",
        max_items=config.get("MaxItems"),
        starting_token=config.get("StartingToken"),
        page_size=config.get("PageSize"),
        op_kwargs=dict(kwargs),
    )


def key_ids_of(pages: Any) -> list:  # type: ignore[type-arg]
    return [[k["KeyId"] for k in p["Keys"]] for p in pages]


def test_paginator_config_matches_botocore(sr: Any) -> None:
    """PageSize, MaxItems, StartingToken, resume_token and
    build_full_result() behave as botocore's PageIterator over the same
    operation: same pages, same resume tokens."""
    for _ in range(7):
        sr.create_key()
    paginator = sr.get_paginator("list_keys")
    for config in [
        {},
        {"PageSize": 2},
        {"PageSize": 2, "MaxItems": 3},
        {"PageSize": 2, "MaxItems": 4},
        {"PageSize": 3, "MaxItems": 1},
        {"MaxItems": 10},
    ]:
        ours = paginator.paginate(PaginationConfig=dict(config))
        theirs = botocore_pages(sr, "list_keys", config)
        assert key_ids_of(ours) == key_ids_of(theirs), config
        assert ours.resume_token == theirs.resume_token, config
        if ours.resume_token is not None:
            # Resuming from the token continues where the cut was, as botocore does.
            resume = {"StartingToken": ours.resume_token, "PageSize": config["PageSize"], "MaxItems": 2}
            a = paginator.paginate(PaginationConfig=resume)
            b = botocore_pages(sr, "list_keys", resume)
            assert key_ids_of(a) == key_ids_of(b), resume
            assert a.resume_token == b.resume_token
        full = paginator.paginate(PaginationConfig=dict(config)).build_full_result()
        assert full == botocore_pages(sr, "list_keys", config).build_full_result(), config
        for expression in ["Keys[].KeyId", "Keys[0].KeyArn", "Truncated", "Keys[?KeyId == 'x']", "NoSuchKey"]:
            found = list(paginator.paginate(PaginationConfig=dict(config)).search(expression))
            assert found == list(botocore_pages(sr, "list_keys", config).search(expression)), (config, expression)
    every = paginator.paginate().build_full_result()
    assert len(every["Keys"]) == 7 and "NextToken" not in every
    ids = list(paginator.paginate(PaginationConfig={"PageSize": 3}).search("Keys[].KeyId"))
    assert ids == [k["KeyId"] for k in every["Keys"]]
    # Not a list: one value per page (three pages of 3, 3 and 1 keys).
    assert list(paginator.paginate(PaginationConfig={"PageSize": 3}).search("Truncated")) == [True, True, False]
    assert list(paginator.paginate(PaginationConfig={"PageSize": 3}).search("length(Keys)")) == [3, 3, 1]
    # Paging through with MaxItems and the returned NextToken visits every key once.
    seen: list = []  # type: ignore[type-arg]
    token = None
    while True:
        cfg: Dict[str, Any] = {"MaxItems": 3, "PageSize": 2}
        if token:
            cfg["StartingToken"] = token
        r = paginator.paginate(PaginationConfig=cfg).build_full_result()
        seen += [k["KeyId"] for k in r["Keys"]]
        token = r.get("NextToken")
        if token is None:
            break
    assert sorted(seen) == sorted(k["KeyId"] for k in every["Keys"])


def test_client_close_and_waiters_as_botocore(kms: Any) -> None:
    """close() (botocore: closes its HTTP connections) leaves the client
    usable; KMS has no waiters: waiter_names is empty and get_waiter raises
    botocore's ValueError."""
    kms.close()
    assert kms.list_keys()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert kms.waiter_names == []
    with pytest.raises(ValueError, match="Waiter does not exist: key_ready"):
        kms.get_waiter("key_ready")


def test_client_internal_error_is_http_500(tmp_path: Path) -> None:
    """KMSInternalException is KMS's HTTP 500 (the others 400), with the
    modeled `message` member beside Error as botocore parses it."""
    import sqlite3

    path = tmp_path / "internal.db"
    with strongroom.Keystore.create(path, root_key=os.urandom(32)) as ks:
        kms = strongroom.client(ks)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        db = sqlite3.connect(path)
        db.execute("UPDATE keys SET tag = zeroblob(length(tag)) WHERE id = ?", (key_id,))
        db.commit()
        db.close()
        with pytest.raises(kms.exceptions.KMSInternalException) as e:
            kms.encrypt(KeyId=key_id, Plaintext=b"x")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert e.value.response["message"] == e.value.response["Error"]["Message"]
        assert "failed authentication" in e.value.response["message"]


def test_client_list_keys_resource_owners(tmp_path: Path) -> None:
    """ListKeys takes botocore's ResourceOwners, as `strongroom serve` does:
    SELF lists the keystore's keys, OTHER_ACCOUNTS_VIA_RAM alone lists none
    (no keys are shared through AWS RAM); other values are
    ValidationException, an empty list botocore's minimum-length report."""
    with strongroom.Keystore.create(tmp_path / "owners.db", root_key=os.urandom(32)) as ks:
        kms = strongroom.client(ks)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        mine = [k["KeyId"] for k in kms.list_keys(ResourceOwners=["SELF"])["Keys"]]
        assert mine == [key_id]
        both = kms.list_keys(ResourceOwners=["SELF", "OTHER_ACCOUNTS_VIA_RAM"])["Keys"]
        assert [k["KeyId"] for k in both] == [key_id]
        ram = kms.list_keys(ResourceOwners=["OTHER_ACCOUNTS_VIA_RAM"])
        assert ram["Keys"] == [] and ram["Truncated"] is False
        pages = list(kms.get_paginator("list_keys").paginate(ResourceOwners=["SELF"]))
        assert [k["KeyId"] for p in pages for k in p["Keys"]] == [key_id]
        with pytest.raises(kms.exceptions.ValidationException):
            kms.list_keys(ResourceOwners=["ANYONE"])
        with pytest.raises(ParamValidationError, match="valid min length: 1"):
            kms.list_keys(ResourceOwners=[])
        with pytest.raises(ParamValidationError, match="Invalid type for parameter ResourceOwners"):
            kms.list_keys(ResourceOwners="SELF")
