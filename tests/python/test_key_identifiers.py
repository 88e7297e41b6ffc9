"""Key identifier forms per operation (as AWS KMS: README, "Key
identifiers"), `import_type` on import_key_material and `grant_tokens` on
describe_key and get_public_key, natively and through the boto client."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict

import pytest

import strongroom
from strongroom import Keystore

OTHER = "arn:aws:iam::000000000000:user/other"


def _alias_arn(key: strongroom.KeyMetadata, name: str) -> str:
    return key.arn.split(":key/")[0] + ":" + name


def test_key_id_only_operations_refuse_aliases(ks: Keystore) -> None:
    key = ks.create_key(description="before")
    ks.create_alias("alias/py-id-only", key.key_id)
    calls: Dict[str, Callable[[str], Any]] = {
        "UpdateKeyDescription": lambda k: ks.update_key_description(k, "after"),
        "DisableKey": ks.disable_key,
        "EnableKey": ks.enable_key,
        "EnableKeyRotation": ks.enable_key_rotation,
        "GetKeyRotationStatus": ks.get_key_rotation_status,
        "GetKeyPolicy": ks.get_key_policy,
        "ListKeyPolicies": ks.list_key_policies,
        "CreateGrant": lambda k: ks.create_grant(k, OTHER, ["Encrypt"]),
        "ListGrants": ks.list_grants,
        "ListResourceTags": ks.list_resource_tags,
        "ScheduleKeyDeletion": ks.schedule_key_deletion,
        "CancelKeyDeletion": ks.cancel_key_deletion,
    }
    for form in ("alias/py-id-only", _alias_arn(key, "alias/py-id-only")):
        for op, call in calls.items():
            with pytest.raises(strongroom.NotFoundException) as e:
                call(form)
            assert e.value.message == f"Invalid keyId {form} ({op} takes a key ID or key ARN, not an alias)", op
    now = ks.describe_key(key.key_id)
    assert (now.description, now.key_state) == ("before", "Enabled")
    assert len(ks.list_grants(key.key_id).grants) == 0
    for form in (key.key_id, key.arn):
        for call in calls.values():
            call(form)
        ks.enable_key(form)  # CancelKeyDeletion leaves the key Disabled
    now = ks.describe_key("alias/py-id-only")
    assert (now.description, now.key_state) == ("after", "Enabled")


def test_alias_accepting_operations_take_all_four_forms(ks: Keystore) -> None:
    signer = ks.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    ks.create_alias("alias/py-signer", signer.key_id)
    for form in (signer.key_id, signer.arn, "alias/py-signer", _alias_arn(signer, "alias/py-signer")):
        assert ks.describe_key(form).key_id == signer.key_id
        assert ks.get_public_key(form).key_id == signer.arn
        sig = ks.sign(form, b"m", signing_algorithm="ECDSA_SHA_256").signature
        assert ks.verify(form, b"m", sig, signing_algorithm="ECDSA_SHA_256").signature_valid


def test_grant_tokens_on_describe_key_and_get_public_key(ks: Keystore) -> None:
    signer = ks.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    token = ks.create_grant(signer.key_id, OTHER, ["Sign"]).grant_token
    for call in (ks.describe_key, ks.get_public_key):
        assert call(signer.key_id, grant_tokens=[token]).key_id in (signer.key_id, signer.arn)
        assert call(signer.key_id, grant_tokens=[]).key_id in (signer.key_id, signer.arn)
        with pytest.raises(strongroom.InvalidGrantTokenException):
            call(signer.key_id, grant_tokens=["not-a-token"])
        with pytest.raises(strongroom.ValidationException):
            call(signer.key_id, grant_tokens=[token] * 11)
        with pytest.raises(TypeError):
            call(signer.key_id, grant_tokens=token)  # a str is not a list of tokens
    c = ks.client()
    assert c.describe_key(KeyId=signer.key_id, GrantTokens=[token])["KeyMetadata"]["KeyId"] == signer.key_id
    assert c.get_public_key(KeyId=signer.key_id, GrantTokens=[token])["KeyId"] == signer.arn
    for boto_call in (c.describe_key, c.get_public_key):
        with pytest.raises(c.exceptions.InvalidGrantTokenException):
            boto_call(KeyId=signer.key_id, GrantTokens=["not-a-token"])


def _wrapped(ks: Keystore, key_id: str, material: bytes) -> "tuple[bytes, bytes]":
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    params = ks.get_parameters_for_import(key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048")
    wrapping = serialization.load_der_public_key(params.public_key)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return params.import_token, wrapping.encrypt(material, oaep)  # type: ignore[union-attr]


def test_import_type(ks: Keystore) -> None:
    pytest.importorskip("cryptography")
    material = os.urandom(32)
    ext = ks.create_key(origin="EXTERNAL")
    with pytest.raises(strongroom.IncorrectKeyMaterialException):
        ks.import_key_material(ext.key_id, *_wrapped(ks, ext.key_id, material), import_type="EXISTING_KEY_MATERIAL")
    with pytest.raises(strongroom.ValidationException):
        ks.import_key_material(ext.key_id, *_wrapped(ks, ext.key_id, material), import_type="SOME_MATERIAL")
    assert ks.describe_key(ext.key_id).key_state == "PendingImport"
    ks.import_key_material(ext.key_id, *_wrapped(ks, ext.key_id, material), import_type="NEW_KEY_MATERIAL")
    assert ks.describe_key(ext.key_id).key_state == "Enabled"
    with pytest.raises(strongroom.UnsupportedOperationException):
        ks.import_key_material(ext.key_id, *_wrapped(ks, ext.key_id, material), import_type="NEW_KEY_MATERIAL")
    ks.import_key_material(ext.key_id, *_wrapped(ks, ext.key_id, material), import_type="EXISTING_KEY_MATERIAL")

    c = ks.client()
    token, wrapped = _wrapped(ks, ext.key_id, material)
    with pytest.raises(c.exceptions.UnsupportedOperationException):
        c.import_key_material(KeyId=ext.key_id, ImportToken=token, EncryptedKeyMaterial=wrapped, ImportType="NEW_KEY_MATERIAL")
    c.import_key_material(KeyId=ext.key_id, ImportToken=token, EncryptedKeyMaterial=wrapped, ImportType="EXISTING_KEY_MATERIAL")
