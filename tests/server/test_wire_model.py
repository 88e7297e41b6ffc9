"""The endpoint against botocore's KMS service model: request members as the
AWS SDKs send them (timestamps with fractions), members of KMS features
Strongroom does not have (refused, never ignored), and every response of a
broad tour checked member by member against the model's output shapes."""

import base64
import datetime
import json
import os
import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from conftest import BOB

MODEL = botocore.session.get_session().get_service_model("kms")


def shape_problems(shape, value, path):
    """Where the raw JSON `value` breaks `shape` (types, required members,
    enumerations, lengths, patterns, ranges); an empty list if nowhere."""
    out = []
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: not an object"]
        out += [f"{path}: unknown member {k}" for k in value if k not in shape.members]
        out += [f"{path}: missing required {r}" for r in shape.required_members if r not in value]
        for k, v in value.items():
            if k in shape.members:
                out += shape_problems(shape.members[k], v, f"{path}.{k}")
    elif t == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        for i, v in enumerate(value):
            out += shape_problems(shape.member, v, f"{path}[{i}]")
    elif t == "map":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        for k, v in value.items():
            out += shape_problems(shape.value, v, f"{path}[{k}]")
    elif t == "string":
        if not isinstance(value, str):
            return [f"{path}: not a string"]
        if shape.enum and value not in shape.enum:
            out.append(f"{path}: {value!r} not in {shape.name}")
        if "min" in meta and len(value) < meta["min"] or "max" in meta and len(value) > meta["max"]:
            out.append(f"{path}: length {len(value)} outside {shape.name}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            out.append(f"{path}: {value!r} does not match {meta['pattern']}")
    elif t == "blob":
        try:
            n = len(base64.b64decode(value, validate=True))
        except (TypeError, ValueError):
            return [f"{path}: not base64"]
        if "min" in meta and n < meta["min"] or "max" in meta and n > meta["max"]:
            out.append(f"{path}: {n} bytes outside {shape.name}")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: not an integer"]
        if "min" in meta and value < meta["min"] or "max" in meta and value > meta["max"]:
            out.append(f"{path}: {value} outside {shape.name}")
    elif t == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: not a boolean")
    elif t == "timestamp":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            out.append(f"{path}: not epoch seconds")
    return out


@pytest.fixture
def checked(server):
    """A boto3 client whose every response is checked against the model:
    a 200 body against the operation's output shape, an error body for its
    `{"__type", "message"}` form and the status the model gives the
    exception. `.problems` collects what broke, `.calls` what was checked."""
    c = server.client()
    c.problems, c.calls = [], []

    def check(http_response, model, **_):
        c.calls.append(model.name)
        body = json.loads(http_response.content or b"{}")
        if http_response.status_code == 200:
            if model.output_shape is not None:
                c.problems += shape_problems(model.output_shape, body, model.name)
            elif body:
                c.problems.append(f"{model.name}: a body for an operation without output")
            return
        code = body.get("__type", "")
        if set(body) - {"__type", "message"}:
            c.problems.append(f"{model.name}: error members {sorted(body)}")
        known = {e.name: e for e in MODEL.error_shapes}
        if code in known:
            want = known[code].metadata.get("error", {}).get("httpStatusCode")
            want = want or (500 if code in ("KMSInternalException", "DependencyTimeoutException") else 400)
            if http_response.status_code != want:
                c.problems.append(f"{model.name}: {code} as HTTP {http_response.status_code}, not {want}")

    c.meta.events.register("after-call.kms", check)
    return c


def test_import_key_material_valid_to_as_boto3_sends_it(checked):
    """boto3 serializes a datetime ValidTo as epoch seconds with the
    microseconds as a fraction (1798604692.671234)."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    kms = checked
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    p = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = serialization.load_der_public_key(p["PublicKey"]).encrypt(
        os.urandom(32), padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    valid_to = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=654321) + datetime.timedelta(days=30)
    kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped, ValidTo=valid_to)
    md = kms.describe_key(KeyId=key)["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and md["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert md["ValidTo"] == valid_to.replace(microsecond=0)
    assert kms.problems == []


@pytest.mark.parametrize("valid_to", ["2030-01-01", True, [1]])
def test_import_key_material_valid_to_not_a_timestamp(server, key, valid_to):
    body = {"KeyId": key, "ImportToken": "AA==", "EncryptedKeyMaterial": "AA==", "ValidTo": valid_to}
    status, r = server.raw(json.dumps(body).encode(), target="TrentService.ImportKeyMaterial")
    assert (status, r["__type"]) == (400, "SerializationException"), r


@pytest.mark.parametrize("valid_to", [-1, -0.5])
def test_import_key_material_valid_to_out_of_range(server, key, valid_to):
    """A number (the timestamp's JSON type) below 0: ValidationException,
    as AWS answers an out-of-range value, not SerializationException."""
    body = {"KeyId": key, "ImportToken": "AA==", "EncryptedKeyMaterial": "AA==", "ValidTo": valid_to}
    status, r = server.raw(json.dumps(body).encode(), target="TrentService.ImportKeyMaterial")
    assert (status, r["__type"]) == (400, "ValidationException"), r
    assert f"Value '{valid_to}' at 'ValidTo'" in r["message"], r


def test_custom_key_store_members_are_refused(checked):
    kms = checked
    before = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.create_key(CustomKeyStoreId="cks-1234567890abcdef0")
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId="cks-1234567890abcdef0")
    with pytest.raises(kms.exceptions.UnsupportedOperationException):
        kms.create_key(XksKeyId="ext-key-1")
    with pytest.raises(kms.exceptions.CustomKeyStoreNotFoundException):
        kms.generate_random(NumberOfBytes=16, CustomKeyStoreId="cks-1234567890abcdef0")
    after = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    assert after == before, "a refused CreateKey must not create a key"
    assert kms.problems == []


def test_recipient_is_refused_not_ignored(checked, key):
    """Recipient asks KMS to encrypt the plaintext to a Nitro enclave's key;
    answering with the plaintext instead would hand it to the wrong party."""
    kms = checked
    recipient = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"\x00" * 64}
    blob = kms.encrypt(KeyId=key, Plaintext=b"for the enclave only")["CiphertextBlob"]
    calls = [
        lambda: kms.decrypt(CiphertextBlob=blob, Recipient=recipient),
        lambda: kms.generate_data_key(KeyId=key, KeySpec="AES_256", Recipient=recipient),
        lambda: kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256", Recipient=recipient),
        lambda: kms.generate_random(NumberOfBytes=32, Recipient=recipient),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"
        assert "Plaintext" not in e.value.response
    assert kms.problems == []


def test_import_type_new_key_material_only_on_the_first_import(checked):
    """botocore's model: with no key material ever imported, ImportType
    defaults to NEW_KEY_MATERIAL, so sending it on a first import is valid
    KMS usage. A Strongroom key has one key material: new material after
    that (a rotation) is UnsupportedOperationException, and
    EXISTING_KEY_MATERIAL needs material imported before."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    kms = checked
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    material = os.urandom(32)

    def import_as(import_type):
        p = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                          WrappingKeySpec="RSA_2048")
        wrapped = serialization.load_der_public_key(p["PublicKey"]).encrypt(
            material, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
        kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE", ImportType=import_type)

    with pytest.raises(kms.exceptions.IncorrectKeyMaterialException):
        import_as("EXISTING_KEY_MATERIAL")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    import_as("NEW_KEY_MATERIAL")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    with pytest.raises(kms.exceptions.UnsupportedOperationException):
        import_as("NEW_KEY_MATERIAL")
    import_as("EXISTING_KEY_MATERIAL")
    assert kms.problems == []


SPECS = [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("RSA_2048", "ENCRYPT_DECRYPT"), ("RSA_3072", "SIGN_VERIFY"),
         ("ECC_NIST_P256", "SIGN_VERIFY"), ("ECC_NIST_P384", "KEY_AGREEMENT"), ("ECC_NIST_P521", "SIGN_VERIFY"),
         ("ECC_SECG_P256K1", "SIGN_VERIFY"), ("HMAC_224", "GENERATE_VERIFY_MAC"), ("HMAC_512", "GENERATE_VERIFY_MAC")]


def test_every_response_matches_the_model(checked):
    """A tour of the served operations, success and failure; each raw
    response is checked against botocore's shapes by the `checked` hook."""
    kms = checked
    ids = {}
    for spec, usage in SPECS:
        ids[spec, usage] = kms.create_key(KeySpec=spec, KeyUsage=usage, Tags=[{"TagKey": "t", "TagValue": ""}],
                                          Description=spec)["KeyMetadata"]["KeyId"]
        kms.describe_key(KeyId=ids[spec, usage])
    sym = ids["SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"]
    kms.create_alias(AliasName="alias/model-tour", TargetKeyId=sym)
    list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}))
    list(kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 2}))
    kms.list_resource_tags(KeyId=sym)
    kms.list_key_policies(KeyId=sym)
    kms.get_key_policy(KeyId=sym)
    g = kms.create_grant(KeyId=sym, GranteePrincipal=BOB[2],
                         Operations=["Encrypt", "Decrypt"], Constraints={"EncryptionContextSubset": {"a": "b"}}, Name="tour")
    kms.list_grants(KeyId=sym)
    kms.list_retirable_grants(RetiringPrincipal=BOB[2])
    kms.revoke_grant(KeyId=sym, GrantId=g["GrantId"])
    ct = kms.encrypt(KeyId="alias/model-tour", Plaintext=b"p", EncryptionContext={"a": "b"})["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=ct, EncryptionContext={"a": "b"})
    kms.re_encrypt(CiphertextBlob=ct, SourceEncryptionContext={"a": "b"}, DestinationKeyId=sym)
    kms.generate_data_key(KeyId=sym, KeySpec="AES_128")
    kms.generate_data_key_without_plaintext(KeyId=sym, NumberOfBytes=7)
    kms.generate_data_key_pair(KeyId=sym, KeyPairSpec="ECC_NIST_P384")
    kms.generate_data_key_pair_without_plaintext(KeyId=sym, KeyPairSpec="RSA_2048")
    kms.generate_random(NumberOfBytes=9)
    kms.enable_key_rotation(KeyId=sym, RotationPeriodInDays=100)
    kms.get_key_rotation_status(KeyId=sym)
    kms.rotate_key_on_demand(KeyId=sym)
    kms.list_key_rotations(KeyId=sym)
    rsa = ids["RSA_2048", "ENCRYPT_DECRYPT"]
    kms.get_public_key(KeyId=rsa)
    blob = kms.encrypt(KeyId=rsa, Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    kms.decrypt(KeyId=rsa, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    for spec, alg in (("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384"), ("ECC_NIST_P521", "ECDSA_SHA_512"),
                      ("ECC_SECG_P256K1", "ECDSA_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256")):
        k = ids[spec, "SIGN_VERIFY"]
        kms.get_public_key(KeyId=k)
        sig = kms.sign(KeyId=k, Message=b"m", SigningAlgorithm=alg)["Signature"]
        kms.verify(KeyId=k, Message=b"m", Signature=sig, SigningAlgorithm=alg)
    for spec, alg in (("HMAC_224", "HMAC_SHA_224"), ("HMAC_512", "HMAC_SHA_512")):
        k = ids[spec, "GENERATE_VERIFY_MAC"]
        mac = kms.generate_mac(KeyId=k, Message=b"m", MacAlgorithm=alg)["Mac"]
        kms.verify_mac(KeyId=k, Message=b"m", Mac=mac, MacAlgorithm=alg)
    ka = ids["ECC_NIST_P384", "KEY_AGREEMENT"]
    kms.derive_shared_secret(KeyId=ka, KeyAgreementAlgorithm="ECDH", PublicKey=kms.get_public_key(KeyId=ka)["PublicKey"])
    ext = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    kms.get_parameters_for_import(KeyId=ext, WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_3072")
    kms.update_key_description(KeyId=sym, Description="")
    doomed = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    kms.describe_key(KeyId=doomed)
    kms.cancel_key_deletion(KeyId=doomed)
    failures = [
        lambda: kms.describe_key(KeyId="alias/absent"),
        lambda: kms.decrypt(CiphertextBlob=b"\x01" * 64),
        lambda: kms.encrypt(KeyId=doomed, Plaintext=b"p"),
        lambda: kms.sign(KeyId=sym, Message=b"m", SigningAlgorithm="ECDSA_SHA_256"),
        lambda: kms.verify(KeyId=ids["ECC_NIST_P256", "SIGN_VERIFY"], Message=b"x", Signature=b"\x30" * 8,
                           SigningAlgorithm="ECDSA_SHA_256"),
        lambda: kms.create_alias(AliasName="alias/model-tour", TargetKeyId=sym),
        lambda: kms.list_keys(Marker="not-a-marker"),
        lambda: kms.tag_resource(KeyId=sym, Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}]),
        lambda: kms.put_key_policy(KeyId=sym, Policy="{"),
    ]
    for f in failures:
        with pytest.raises(ClientError):
            f()
    assert len(kms.calls) > 60
    assert kms.problems == []


def test_create_grant_refuses_operations_the_key_does_not_support(checked):
    """CreateGrant API reference: a grant that allows an operation its key
    does not support fails with ValidationException, and so do encryption
    context constraints on a key that takes no encryption context."""
    kms = checked
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    refused = [(sym, ["Sign"], None), (sym, ["Encrypt", "GetPublicKey"], None), (signing, ["Encrypt"], None),
               (signing, ["GenerateDataKey"], None), (rsa, ["GenerateDataKeyPair"], None), (rsa, ["Sign"], None),
               (rsa, ["Decrypt"], {"EncryptionContextSubset": {"a": "b"}})]
    for key, ops, constraints in refused:
        kw = {"Constraints": constraints} if constraints else {}
        with pytest.raises(ClientError) as e:
            kms.create_grant(KeyId=key, GranteePrincipal=BOB[2], Operations=ops, **kw)
        assert e.value.response["Error"]["Code"] == "ValidationException", (ops, e.value.response)
        assert kms.list_grants(KeyId=key)["Grants"] == []
    kms.create_grant(KeyId=signing, GranteePrincipal=BOB[2], Operations=["Sign", "Verify", "GetPublicKey", "DescribeKey"])
    kms.create_grant(KeyId=rsa, GranteePrincipal=BOB[2], Operations=["Encrypt", "Decrypt", "GetPublicKey"])
    assert kms.problems == []


def served_operations(server):
    """The operations of botocore's KMS model the endpoint serves (an empty
    body answers anything but UnknownOperationException)."""
    served = [o for o in MODEL.operation_names
              if server.raw(b"{}", target=f"TrentService.{o}")[1].get("__type") != "UnknownOperationException"]
    assert len(served) == 45, served
    return served


def _tour_keys(kms):
    """One key of each kind the GrantTokens operations need, and what they
    take: a ciphertext, a signature, a MAC, a peer public key."""
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    ec = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    ka = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    ct = kms.encrypt(KeyId=sym, Plaintext=b"p")["CiphertextBlob"]
    sig = kms.sign(KeyId=ec, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    mac = kms.generate_mac(KeyId=mac_key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    peer = kms.get_public_key(KeyId=ka)["PublicKey"]
    return {
        "DescribeKey": dict(KeyId=sym),
        "GetPublicKey": dict(KeyId=ec),
        "Encrypt": dict(KeyId=sym, Plaintext=b"p"),
        "Decrypt": dict(CiphertextBlob=ct),
        "ReEncrypt": dict(CiphertextBlob=ct, DestinationKeyId=sym),
        "GenerateDataKey": dict(KeyId=sym, KeySpec="AES_256"),
        "GenerateDataKeyWithoutPlaintext": dict(KeyId=sym, KeySpec="AES_256"),
        "GenerateDataKeyPair": dict(KeyId=sym, KeyPairSpec="ECC_NIST_P256"),
        "GenerateDataKeyPairWithoutPlaintext": dict(KeyId=sym, KeyPairSpec="ECC_NIST_P256"),
        "Sign": dict(KeyId=ec, Message=b"m", SigningAlgorithm="ECDSA_SHA_256"),
        "Verify": dict(KeyId=ec, Message=b"m", Signature=sig, SigningAlgorithm="ECDSA_SHA_256"),
        "GenerateMac": dict(KeyId=mac_key, Message=b"m", MacAlgorithm="HMAC_SHA_256"),
        "VerifyMac": dict(KeyId=mac_key, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256"),
        "DeriveSharedSecret": dict(KeyId=ka, KeyAgreementAlgorithm="ECDH", PublicKey=peer),
        "CreateGrant": dict(KeyId=sym, GranteePrincipal=BOB[2], Operations=["Decrypt"]),
    }, sym


def test_grant_tokens_are_checked_on_every_operation_that_takes_them(server):
    """Every served operation whose KMS request has GrantTokens checks them
    as Encrypt does: more than 10 or one of the wrong length is
    ValidationException (the GrantTokenList shape), a token this keystore did
    not issue is InvalidGrantTokenException; a token it issued is accepted.
    (DescribeKey and GetPublicKey ignored them.)"""
    kms = server.client(parameter_validation=False)
    calls, sym = _tour_keys(kms)
    with_tokens = {o for o in served_operations(server) if "GrantTokens" in MODEL.operation_model(o).input_shape.members}
    assert with_tokens == set(calls), "an operation taking GrantTokens is not covered"
    token = kms.create_grant(KeyId=sym, GranteePrincipal=BOB[2], Operations=["DescribeKey"])["GrantToken"]
    bogus = base64.b64encode(b"\x00" * 64).decode()
    for op, kw in calls.items():
        method = getattr(kms, botocore.xform_name(op))
        for tokens, code in (([bogus], "InvalidGrantTokenException"), (["x" * 8193], "ValidationException"),
                             ([""], "ValidationException"), ([token] * 11, "ValidationException")):
            with pytest.raises(ClientError) as e:
                method(GrantTokens=tokens, **kw)
            assert e.value.response["Error"]["Code"] == code, (op, tokens[0][:10], e.value.response)
        method(GrantTokens=[token], **kw)


def test_tag_operations_take_a_key_id_or_key_arn_not_an_alias(checked):
    """TagResource, UntagResource and ListResourceTags: "Specify the key ID
    or key ARN of the KMS key" (KMS API reference); an alias name or alias
    ARN is NotFoundException (Invalid keyId), and nothing is tagged."""
    kms = checked
    md = kms.create_key(Tags=[{"TagKey": "keep", "TagValue": "1"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/tag-target", TargetKeyId=md["KeyId"])
    alias_arn = md["Arn"].split(":key/")[0] + ":alias/tag-target"
    for alias in ("alias/tag-target", alias_arn):
        calls = [
            lambda: kms.tag_resource(KeyId=alias, Tags=[{"TagKey": "new", "TagValue": "v"}]),
            lambda: kms.untag_resource(KeyId=alias, TagKeys=["keep"]),
            lambda: kms.list_resource_tags(KeyId=alias),
        ]
        for call in calls:
            with pytest.raises(kms.exceptions.NotFoundException) as e:
                call()
            assert e.value.response["Error"]["Message"].startswith(f"Invalid keyId {alias} (")
    assert kms.list_resource_tags(KeyId=md["KeyId"])["Tags"] == [{"TagKey": "keep", "TagValue": "1"}]
    kms.tag_resource(KeyId=md["Arn"], Tags=[{"TagKey": "new", "TagValue": "v"}])
    kms.untag_resource(KeyId=md["Arn"], TagKeys=["keep"])
    assert kms.list_resource_tags(KeyId=md["Arn"])["Tags"] == [{"TagKey": "new", "TagValue": "v"}]
    assert kms.problems == []


def test_key_id_only_operations_refuse_aliases_through_the_endpoint(checked):
    """The operations KMS documents as taking "the key ID or key ARN of the
    KMS key" refuse an alias name and an alias ARN (NotFoundException,
    "Invalid keyId <value> (<Operation> takes a key ID or key ARN, not an
    alias)") and change nothing; they take the key ID and the key ARN. The
    cryptographic operations, DescribeKey and GetPublicKey take all four
    forms (README, "Key identifiers")."""
    kms = checked
    md = kms.create_key(Description="before")["KeyMetadata"]
    kms.create_alias(AliasName="alias/id-only", TargetKeyId=md["KeyId"])
    alias_arn = md["Arn"].split(":key/")[0] + ":alias/id-only"
    bob = "arn:aws:iam::000000000000:user/bob"

    def calls(key_id):
        return {
            "DisableKey": lambda: kms.disable_key(KeyId=key_id),
            "EnableKey": lambda: kms.enable_key(KeyId=key_id),
            "UpdateKeyDescription": lambda: kms.update_key_description(KeyId=key_id, Description="after"),
            "EnableKeyRotation": lambda: kms.enable_key_rotation(KeyId=key_id),
            "GetKeyRotationStatus": lambda: kms.get_key_rotation_status(KeyId=key_id),
            "GetKeyPolicy": lambda: kms.get_key_policy(KeyId=key_id, PolicyName="default"),
            "PutKeyPolicy": lambda: kms.put_key_policy(
                KeyId=key_id, PolicyName="default",
                Policy=kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"],
            ),
            "CreateGrant": lambda: kms.create_grant(KeyId=key_id, GranteePrincipal=bob, Operations=["Encrypt"]),
            "ListGrants": lambda: kms.list_grants(KeyId=key_id),
            "ListAliases": lambda: kms.list_aliases(KeyId=key_id),
            "ScheduleKeyDeletion": lambda: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7),
            "CancelKeyDeletion": lambda: kms.cancel_key_deletion(KeyId=key_id),
        }

    for form in ("alias/id-only", alias_arn):
        for op, call in calls(form).items():
            with pytest.raises(kms.exceptions.NotFoundException) as e:
                call()
            msg = e.value.response["Error"]["Message"]
            assert msg == f"Invalid keyId {form} ({op} takes a key ID or key ARN, not an alias)", (op, msg)
    now = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert (now["Description"], now["KeyState"]) == ("before", "Enabled")
    assert kms.list_grants(KeyId=md["KeyId"])["Grants"] == []
    assert kms.get_key_rotation_status(KeyId=md["KeyId"])["KeyRotationEnabled"] is False

    for form in (md["KeyId"], md["Arn"]):
        for op, call in calls(form).items():
            call()
        kms.enable_key(KeyId=form)  # CancelKeyDeletion leaves it Disabled
    now = kms.describe_key(KeyId=alias_arn)["KeyMetadata"]
    assert (now["Description"], now["KeyState"]) == ("after", "Enabled")
    assert len(kms.list_grants(KeyId=md["Arn"])["Grants"]) == 2

    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    kms.create_alias(AliasName="alias/id-signer", TargetKeyId=signer["KeyId"])
    signer_alias_arn = signer["Arn"].split(":key/")[0] + ":alias/id-signer"
    for form in (signer["KeyId"], signer["Arn"], "alias/id-signer", signer_alias_arn):
        assert kms.describe_key(KeyId=form)["KeyMetadata"]["KeyId"] == signer["KeyId"]
        assert kms.get_public_key(KeyId=form)["KeyId"] == signer["Arn"]
        sig = kms.sign(KeyId=form, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        assert kms.verify(KeyId=form, Message=b"m", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    assert kms.problems == []


def _sample(shape):
    """A value of `shape` as it goes on the wire (the first enum value)."""
    t = shape.type_name
    if t == "string":
        return shape.enum[0] if shape.enum else "x"
    if t == "blob":
        return "AA=="
    if t in ("integer", "long", "timestamp"):
        return 1
    if t == "boolean":
        return False
    if t == "list":
        return [_sample(shape.member)]
    if t == "map":
        return {"k": "v"}
    return {}


# Members of served operations that the endpoint refuses (KMS features
# Strongroom does not have); with the value _sample gives them. Every other
# member of botocore's model is read by the operation. DeriveSharedSecret's
# Recipient is read and refused by the keystore once the request is whole
# (test_recipient_is_refused_not_ignored).
REFUSED = {
    ("CreateKey", "CustomKeyStoreId"), ("CreateKey", "XksKeyId"),
    ("GenerateRandom", "CustomKeyStoreId"), ("GenerateRandom", "Recipient"),
    ("Decrypt", "Recipient"), ("GenerateDataKey", "Recipient"), ("GenerateDataKeyPair", "Recipient"),
    ("Decrypt", "DryRunModifiers"), ("ReEncrypt", "DryRunModifiers"),
    ("ImportKeyMaterial", "KeyMaterialId"),
    ("ImportKeyMaterial", "KeyMaterialDescription"), ("DeleteImportedKeyMaterial", "KeyMaterialId"),
    ("ListKeyRotations", "IncludeKeyMaterial"),
    ("CreateGrant", "GranteeServicePrincipal"), ("CreateGrant", "RetiringServicePrincipal"),
    ("ListGrants", "GranteeServicePrincipal"), ("ListRetirableGrants", "RetiringServicePrincipal"),
}


def test_every_model_member_is_read_or_refused(server):
    """Each member of each served operation in botocore's KMS model, sent
    alone: the refused ones (REFUSED) answer UnsupportedOperationException or
    CustomKeyStoreNotFoundException whatever else the request lacks; no other
    member is refused. A member KMS adds later is refused until the endpoint
    reads it, so this test names it."""
    refused = set()
    for op in served_operations(server):
        shape = MODEL.operation_model(op).input_shape
        for name, member in shape.members.items():
            body = json.dumps({name: _sample(member)}).encode()
            status, r = server.raw(body, target=f"TrentService.{op}")
            if r.get("__type") in ("UnsupportedOperationException", "CustomKeyStoreNotFoundException"):
                assert name in r["message"], (op, name, r)
                refused.add((op, name))
    assert refused == REFUSED
    # An unknown member that is not in the model is refused too, never dropped.
    status, r = server.raw(b'{"KeyId": "alias/x", "GrantToken": ["t"]}', target="TrentService.Encrypt")
    assert (status, r["__type"]) == (400, "UnsupportedOperationException"), r


def test_null_members_count_as_absent(server, key):
    for body in ({"KeyId": key, "KeyMaterialId": None}, {"KeyId": key, "GrantTokens": None},
                 {"KeyId": key, "DryRun": None}):
        status, r = server.raw(json.dumps(body).encode(), target="TrentService.DescribeKey")
        assert status == 200 and r["KeyMetadata"]["KeyId"] == key, (body, r)
    # A required member that is null is missing.
    status, r = server.raw(b'{"KeyId": null}', target="TrentService.DescribeKey")
    assert (status, r["__type"]) == (400, "ValidationException"), r


def test_a_member_named_twice_is_refused(server, key):
    for body in (b'{"KeyId": "%s", "Bogus": 1, "Bogus": null}' % key.encode(),
                 b'{"CiphertextBlob": "AA==", "DryRunModifiers": ["IGNORE_CIPHERTEXT"], '
                 b'"DryRunModifiers": null, "DryRun": true}'):
        status, r = server.raw(body, target="TrentService.DescribeKey" if b"KeyId" in body
                               else "TrentService.Decrypt")
        assert (status, r["__type"]) == (400, "SerializationException"), (body, r)


def test_list_keys_resource_owners(checked, key):
    """ResourceOwners: SELF lists this keystore's keys; no key is shared
    with it through RAM, so OTHER_ACCOUNTS_VIA_RAM alone lists none."""
    kms = checked
    mine = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    assert key in mine
    for owners in (["SELF"], ["OTHER_ACCOUNTS_VIA_RAM", "SELF"]):
        got = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate(ResourceOwners=owners) for k in p["Keys"]}
        assert got == mine
    r = kms.list_keys(ResourceOwners=["OTHER_ACCOUNTS_VIA_RAM"])
    assert (r["Keys"], r["Truncated"]) == ([], False)
    assert kms.problems == []


@pytest.mark.parametrize("owners", [[], ["SELF", "SELF", "SELF"], ["NOBODY"]])
def test_list_keys_resource_owners_out_of_shape(server, owners):
    status, r = server.raw(json.dumps({"ResourceOwners": owners}).encode(), target="TrentService.ListKeys")
    assert (status, r["__type"]) == (400, "ValidationException"), r


def test_list_key_rotations_include_key_material(checked, key):
    kms = checked
    kms.rotate_key_on_demand(KeyId=key)
    assert len(kms.list_key_rotations(KeyId=key, IncludeKeyMaterial="ROTATIONS_ONLY")["Rotations"]) == 1
    with pytest.raises(kms.exceptions.UnsupportedOperationException):
        kms.list_key_rotations(KeyId=key, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    assert kms.problems == []
