"""The KMS endpoint through boto3: every served operation's success and error
paths, exceptions as boto3 raises them, pagination, SigV4 refusals, and
protocol faults that must leave the server serving."""

import base64
import contextlib
import datetime
import hashlib
import hmac
import http.client
import json
import socket

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ADMIN, BOB, REGION, TEMP


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@contextlib.contextmanager
def raises_code(name):
    """For exceptions outside the KMS model (ValidationException is a
    generic AWS error): a ClientError with that code."""
    with pytest.raises(ClientError) as e:
        yield e
    assert code(e) == name, e.value.response


# ---- key lifecycle -----------------------------------------------------------

def test_health(server):
    assert server.healthy()


def test_create_describe_update(kms):
    md = kms.create_key(Description="first", Tags=[{"TagKey": "team", "TagValue": "a"}])["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and md["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["KeyUsage"] == "ENCRYPT_DECRYPT" and md["Origin"] == "AWS_KMS"
    assert isinstance(md["CreationDate"], datetime.datetime)  # epoch seconds parsed by botocore
    d = kms.describe_key(KeyId=md["Arn"])["KeyMetadata"]
    assert d["KeyId"] == md["KeyId"] and d["Description"] == "first"
    kms.update_key_description(KeyId=md["KeyId"], Description="second")
    assert kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]["Description"] == "second"


def test_not_found(kms):
    missing = "11111111-2222-3333-4444-555555555555"
    for call in (
        lambda: kms.describe_key(KeyId=missing),
        lambda: kms.encrypt(KeyId=missing, Plaintext=b"x"),
        lambda: kms.enable_key(KeyId=missing),
        lambda: kms.describe_key(KeyId="alias/does-not-exist"),
    ):
        with pytest.raises(kms.exceptions.NotFoundException):
            call()


def test_enable_disable(kms, key):
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    with pytest.raises(kms.exceptions.DisabledException):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    kms.enable_key(KeyId=key)
    kms.encrypt(KeyId=key, Plaintext=b"x")


def test_schedule_and_cancel_deletion(kms, key):
    r = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert r["KeyState"] == "PendingDeletion" and r["PendingWindowInDays"] == 7
    assert isinstance(r["DeletionDate"], datetime.datetime)
    with pytest.raises(kms.exceptions.KMSInvalidStateException):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    with raises_code("ValidationException"):
        kms.schedule_key_deletion(KeyId=kms.create_key()["KeyMetadata"]["KeyId"], PendingWindowInDays=3)
    kms.cancel_key_deletion(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"


def test_list_keys_pagination(kms):
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(5)}
    seen, marker, pages = [], None, 0
    while True:
        kw = {"Limit": 2}
        if marker:
            kw["Marker"] = marker
        r = kms.list_keys(**kw)
        pages += 1
        assert len(r["Keys"]) <= 2
        seen += [k["KeyId"] for k in r["Keys"]]
        if not r["Truncated"]:
            assert "NextMarker" not in r
            break
        marker = r["NextMarker"]
    assert pages >= 3 and created <= set(seen) and len(seen) == len(set(seen))
    via_paginator = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 3}) for k in p["Keys"]]
    assert via_paginator == seen
    with pytest.raises(kms.exceptions.InvalidMarkerException):
        kms.list_keys(Marker="not-a-marker!")
    with raises_code("ValidationException"):
        kms.list_keys(Limit=5000)


# ---- rotation ----------------------------------------------------------------

def test_rotation(kms, key):
    blob = kms.encrypt(KeyId=key, Plaintext=b"before rotation")["CiphertextBlob"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    st = kms.get_key_rotation_status(KeyId=key)
    assert st["KeyRotationEnabled"] is True and st["RotationPeriodInDays"] == 90
    kms.rotate_key_on_demand(KeyId=key)
    rot = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert len(rot) == 1 and rot[0]["RotationType"] == "ON_DEMAND"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before rotation"
    kms.disable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    with raises_code("ValidationException"):
        kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=3000)


# ---- aliases and tags ------------------------------------------------------------

def test_aliases(kms, key):
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/server-test", TargetKeyId=key)
    assert kms.describe_key(KeyId="alias/server-test")["KeyMetadata"]["KeyId"] == key
    blob = kms.encrypt(KeyId="alias/server-test", Plaintext=b"via alias")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"via alias"
    with pytest.raises(kms.exceptions.AlreadyExistsException):
        kms.create_alias(AliasName="alias/server-test", TargetKeyId=other)
    with pytest.raises(kms.exceptions.InvalidAliasNameException):
        kms.create_alias(AliasName="no-prefix", TargetKeyId=other)
    kms.update_alias(AliasName="alias/server-test", TargetKeyId=other)
    listed = kms.list_aliases(KeyId=other)["Aliases"]
    assert [a["AliasName"] for a in listed] == ["alias/server-test"]
    assert isinstance(listed[0]["CreationDate"], datetime.datetime)
    kms.delete_alias(AliasName="alias/server-test")
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.delete_alias(AliasName="alias/server-test")


def test_list_aliases_pagination(kms, key):
    names = {f"alias/page-{i}" for i in range(5)}
    for n in names:
        kms.create_alias(AliasName=n, TargetKeyId=key)
    seen = []
    for page in kms.get_paginator("list_aliases").paginate(KeyId=key, PaginationConfig={"PageSize": 2}):
        assert len(page["Aliases"]) <= 2
        seen += [a["AliasName"] for a in page["Aliases"]]
    assert set(seen) == names and len(seen) == 5
    first = kms.list_aliases(Limit=2)
    assert first["Truncated"] is True and len(first["Aliases"]) == 2
    second = kms.list_aliases(Limit=2, Marker=first["NextMarker"])
    assert not {a["AliasName"] for a in first["Aliases"]} & {a["AliasName"] for a in second["Aliases"]}
    # KMS ListAliases takes Limit 1-100 (ListKeys 1-1000).
    assert len(kms.list_aliases(Limit=100)["Aliases"]) >= 5
    with raises_code("ValidationException"):
        kms.list_aliases(Limit=101)


def test_tags(kms, key):
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    tags = kms.list_resource_tags(KeyId=key)["Tags"]
    assert {t["TagKey"]: t["TagValue"] for t in tags} == {"a": "1", "b": "2"}
    kms.untag_resource(KeyId=key, TagKeys=["a"])
    assert [t["TagKey"] for t in kms.list_resource_tags(KeyId=key)["Tags"]] == ["b"]
    # Lengths are the Tag shape's constraints, answered with ValidationException
    # as AWS KMS does; an "aws:" key has a valid shape and is a TagException.
    with pytest.raises(ClientError) as e:
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "x" * 129, "TagValue": "v"}])
    assert code(e) == "ValidationException"
    with pytest.raises(kms.exceptions.TagException):
        kms.tag_resource(KeyId=key, Tags=[{"TagKey": "aws:x", "TagValue": "v"}])


def test_empty_tag_key_is_a_validation_error(server, key):
    # botocore refuses an empty TagKey itself (min length 1); without its
    # parameter validation the request reaches the endpoint, which answers
    # as AWS KMS: ValidationException, even for a key that does not exist.
    kms = server.client(parameter_validation=False)
    for key_id in (key, "alias/none"):
        with pytest.raises(ClientError) as e:
            kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "", "TagValue": "v"}])
        assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.untag_resource(KeyId=key, TagKeys=[""])
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        kms.create_key(Tags=[{"TagKey": "", "TagValue": "v"}])
    assert code(e) == "ValidationException"


# ---- cryptographic operations -------------------------------------------------

def test_encrypt_decrypt_context(kms, key):
    ctx = {"purpose": "test", "tenant": "42"}
    r = kms.encrypt(KeyId=key, Plaintext=b"secret bytes", EncryptionContext=ctx)
    assert r["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT" and r["KeyId"].endswith(key)
    d = kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=ctx)
    assert d["Plaintext"] == b"secret bytes" and d["KeyId"].endswith(key)
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"purpose": "other"})
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=r["CiphertextBlob"])
    flipped = bytearray(r["CiphertextBlob"])
    flipped[-1] ^= 1
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=bytes(flipped), EncryptionContext=ctx)
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.IncorrectKeyException):
        kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext=ctx, KeyId=other)
    with raises_code("ValidationException"):
        kms.encrypt(KeyId=key, Plaintext=b"x" * 4097)


def test_re_encrypt(kms, key):
    dst = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"move me", EncryptionContext={"a": "1"})["CiphertextBlob"]
    r = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                       DestinationKeyId=dst, DestinationEncryptionContext={"b": "2"})
    assert "Plaintext" not in r and r["KeyId"].endswith(dst) and r["SourceKeyId"].endswith(key)
    assert kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"b": "2"})["Plaintext"] == b"move me"
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=dst)


def test_generate_data_key(kms, key):
    r = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"k": "v"})
    assert len(r["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=r["CiphertextBlob"], EncryptionContext={"k": "v"})["Plaintext"] == r["Plaintext"]
    r = kms.generate_data_key(KeyId=key, NumberOfBytes=64)
    assert len(r["Plaintext"]) == 64
    w = kms.generate_data_key_without_plaintext(KeyId=key, KeySpec="AES_128")
    assert "Plaintext" not in w
    assert len(kms.decrypt(CiphertextBlob=w["CiphertextBlob"])["Plaintext"]) == 16
    with raises_code("ValidationException"):
        kms.generate_data_key(KeyId=key)  # neither KeySpec nor NumberOfBytes
    with raises_code("ValidationException"):
        kms.generate_data_key(KeyId=key, KeySpec="AES_256", NumberOfBytes=32)


def test_generate_random(kms):
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    assert len(a) == 32 and a != b
    with raises_code("ValidationException"):
        kms.generate_random(NumberOfBytes=2000)


def test_every_served_operation_is_covered():
    """Each operation name the server lists has a test in this file calling it."""
    import pathlib
    import re
    src = (pathlib.Path(__file__).resolve().parents[2] / "server" / "src" / "ops.rs").read_text()
    table = src.split("pub const OPERATIONS")[1].split("];")[0]
    ops = re.findall(r'"(\w+)"', table)
    text = pathlib.Path(__file__).read_text()
    for group in pathlib.Path(__file__).parent.glob("test_*.py"):
        text += group.read_text()
    for op in ops:
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()
        assert f".{snake}(" in text or f"TrentService.{op}" in text, f"{op} is not tested"


# ---- SigV4 -----------------------------------------------------------------------

def test_wrong_secret_refused(server):
    bad = server.client(cred=(ADMIN[0], "not-the-secret", ADMIN[2]))
    with pytest.raises(ClientError) as e:
        bad.list_keys()
    assert code(e) == "InvalidSignatureException"


def test_unknown_access_key_refused(server):
    bad = server.client(cred=("AKIDNOBODY", "x", ""))
    with pytest.raises(ClientError) as e:
        bad.list_keys()
    assert code(e) == "UnrecognizedClientException"


def test_unsigned_refused(server):
    c = boto3.client("kms", endpoint_url=server.url, region_name=REGION,
                     config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        c.list_keys()
    assert code(e) == "MissingAuthenticationTokenException"


def test_second_principal_authenticates(server):
    assert "Keys" in server.client(cred=BOB).list_keys(Limit=1)


def test_session_tokens_are_checked(server):
    """X-Amz-Security-Token is verified, never ignored: boto3 signs it; the
    credentials file's session token of a temporary access key must match;
    a long-term key with any token, or a temporary key without its token,
    is UnrecognizedClientException, as AWS answers an invalid token."""
    temp = (TEMP[0], TEMP[1], TEMP[3])
    kms = server.client(cred=temp, session_token=TEMP[2])
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.encrypt(KeyId=key, Plaintext=b"p")["KeyId"].endswith(key)
    refused = [server.client(cred=temp), server.client(cred=temp, session_token=TEMP[2] + "x"),
               server.client(cred=temp, session_token=TEMP[2][:-1]), server.client(cred=ADMIN, session_token=TEMP[2]),
               server.client(cred=BOB, session_token="any")]
    for c in refused:
        with pytest.raises(ClientError) as e:
            c.describe_key(KeyId=key)
        assert code(e) == "UnrecognizedClientException"
    # The token outside the signature: refused even when it is the right one.
    headers = _sign(server, b"{}", datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    headers["x-amz-security-token"] = "anything"
    status, body = _post(server, headers, b"{}")
    assert (status, body["__type"]) == (400, "IncompleteSignatureException"), body


def _sign(server, body, amz_date, secret=ADMIN[1], target="TrentService.ListKeys"):
    """An independent SigV4 signer (hashlib/hmac), used for skewed dates."""
    host = f"127.0.0.1:{server.port}"
    headers = {"content-type": "application/x-amz-json-1.1", "host": host,
               "x-amz-date": amz_date, "x-amz-target": target}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", ""] + [f"{n}:{headers[n]}" for n in names] +
                          ["", ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{REGION}/kms/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (amz_date[:8], REGION, "kms", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ADMIN[0]}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return headers


def _post(server, headers, body):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    out = r.status, json.loads(r.read() or b"{}")
    conn.close()
    return out


def test_independent_signer_and_clock_skew(server):
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y%m%dT%H%M%SZ"
    status, body = _post(server, _sign(server, b"{}", now.strftime(fmt)), b"{}")
    assert status == 200 and "Keys" in body
    for skew in (datetime.timedelta(minutes=16), datetime.timedelta(minutes=-16)):
        status, body = _post(server, _sign(server, b"{}", (now + skew).strftime(fmt)), b"{}")
        assert status == 400 and body["__type"] == "InvalidSignatureException"
        assert "expired" in body["message"].lower()
    h = _sign(server, b"{}", now.strftime(fmt))
    h["x-amz-target"] = "TrentService.CreateKey"  # signed header changed after signing
    status, body = _post(server, h, b"{}")
    assert body["__type"] == "InvalidSignatureException"
    h = _sign(server, b"{}", now.strftime(fmt))
    h["authorization"] = "AWS4-HMAC-SHA256 Credential=garbage"
    status, body = _post(server, h, b"{}")
    assert status == 400 and body["__type"] == "IncompleteSignatureException"
    h = _sign(server, b"{}", now.strftime(fmt))
    del h["x-amz-date"]
    status, body = _post(server, h, b"{}")
    assert body["__type"] == "IncompleteSignatureException"


# ---- protocol faults: each answered correctly, and the server keeps serving ---

FAULTS = [
    # (body, kwargs for raw(), expected status, expected __type)
    (b'{"Limit": ', {}, 400, "SerializationException"),                       # truncated JSON
    (b"not json at all", {}, 400, "SerializationException"),                  # malformed
    (b"[1, 2, 3]", {}, 400, "SerializationException"),                        # wrong top-level type
    (b'{"Limit": "ten"}', {}, 400, "SerializationException"),                 # wrong member type
    (b'{"KeyId": "k", "Plaintext": "***not base64***"}', {"target": "TrentService.Encrypt"}, 400, "SerializationException"),
    (b'{"CiphertextBlob": 42}', {"target": "TrentService.Decrypt"}, 400, "SerializationException"),
    (b"{}", {"target": "TrentService.DescribeKey"}, 400, "ValidationException"),  # missing KeyId
    (b'{"KeySpec": "AES_9000"}', {"target": "TrentService.CreateKey"}, 400, "ValidationException"),
    (b"{}", {"target": "TrentService.NoSuchOperation"}, 400, "UnknownOperationException"),
    (b"{}", {"target": "NotTrent.ListKeys"}, 400, "UnknownOperationException"),
    (b"{}", {"target": None}, 400, "UnknownOperationException"),              # missing X-Amz-Target
    (b"{}", {"content_type": None}, 400, "SerializationException"),           # missing Content-Type
    (b"{}", {"content_type": "text/plain"}, 400, "SerializationException"),
    (b"{}", {"sign": False}, 400, "MissingAuthenticationTokenException"),
    (b'{"KeyId": "' + b"a" * (2 << 20) + b'"}', {"target": "TrentService.DescribeKey"}, 413, "ValidationException"),
]


@pytest.mark.parametrize("body,kw,status,exc", FAULTS, ids=[f[3] + "-" + str(i) for i, f in enumerate(FAULTS)])
def test_protocol_faults(server, kms, body, kw, status, exc):
    got_status, got = server.raw(body, **kw)
    assert (got_status, got.get("__type")) == (status, exc), got
    assert isinstance(got.get("message"), str)
    assert server.healthy()
    kms.list_keys(Limit=1)


def test_truncated_body_on_the_wire(server, kms):
    """A client that announces more bytes than it sends and hangs up."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
              b"X-Amz-Target: TrentService.ListKeys\r\nContent-Length: 100\r\n\r\n{\"Li")
    s.shutdown(socket.SHUT_WR)
    s.recv(4096)
    s.close()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"this is not http\r\n\r\n")
    s.recv(4096)
    s.close()
    assert server.healthy()
    kms.list_keys(Limit=1)


def test_stalled_body_is_answered_and_closed(tmp_path):
    """A client that sends its headers and part of the body, then nothing
    while keeping the socket open, gets HTTP 408 once the request time
    limit passes and its connection is closed; it does not hold the
    connection for as long as it likes."""
    from conftest import Server

    s = Server(tmp_path, extra_args=["--request-timeout-secs", "1"])
    try:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=60)
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
                     b"X-Amz-Target: TrentService.ListKeys\r\nContent-Length: 100\r\n\r\n{\"Li")
        answer = b""
        while chunk := sock.recv(4096):  # ends when the server closes the connection
            answer += chunk
        sock.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body)["__type"] == "RequestTimeoutException"
        assert s.healthy()
    finally:
        assert s.stop() == 0


def test_wrong_method_and_path(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/nowhere")
    r = conn.getresponse()
    assert r.status == 404 and json.loads(r.read())["__type"] == "UnknownOperationException"
    conn.close()


def test_errors_have_kms_shape(server):
    status, body = server.raw(b'{"KeyId": "alias/absent"}', target="TrentService.DescribeKey")
    assert status == 400 and set(body) == {"__type", "message"} and body["__type"] == "NotFoundException"


def test_response_headers(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "TrentService.ListKeys",
                                                   "Content-Type": "application/x-amz-json-1.1"})
    r = conn.getresponse()
    r.read()
    assert r.getheader("Content-Type") == "application/x-amz-json-1.1"
    assert r.getheader("x-amzn-RequestId")
    conn.close()


def test_logs_hold_no_secrets(server, kms, key):
    pt = base64.b64encode(b"LOG-CANARY-PLAINTEXT-1234").decode()
    kms.encrypt(KeyId=key, Plaintext=base64.b64decode(pt))
    dk = kms.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"]
    log = (server.workdir / "server.log").read_bytes()
    assert b"LOG-CANARY" not in log and pt.encode() not in log
    assert base64.b64encode(dk) not in log
    assert ADMIN[1].encode() not in log and b"Signature=" not in log
    assert b'"target":"TrentService.Encrypt"' in log
