"""Asymmetric signing keys, HMAC keys, data key pairs and imported key material."""

from __future__ import annotations

from typing import Any

import pytest

import strongroom
from strongroom import Keystore


def test_sign_verify_and_public_key(ks: Keystore) -> None:
    k = ks.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    assert k.key_spec == "ECC_NIST_P256" and "ECDSA_SHA_256" in k.signing_algorithms
    s = ks.sign(k.key_id, bytearray(b"msg"), signing_algorithm="ECDSA_SHA_256")
    assert isinstance(s, strongroom.SignResult) and isinstance(s.signature, bytes)
    v = ks.verify(k.key_id, memoryview(b"msg"), s.signature, signing_algorithm="ECDSA_SHA_256")
    assert v.signature_valid is True and v.signing_algorithm == "ECDSA_SHA_256"
    with pytest.raises(strongroom.KMSInvalidSignatureException):
        ks.verify(k.key_id, b"other", s.signature, signing_algorithm="ECDSA_SHA_256")
    pk = ks.get_public_key(k.key_id)
    assert isinstance(pk, strongroom.PublicKey) and pk.public_key[:1] == b"\x30"  # DER SEQUENCE
    assert pk.key_usage == "SIGN_VERIFY"
    with pytest.raises(strongroom.ValidationException):
        ks.sign(k.key_id, b"msg", signing_algorithm="NOPE")
    sym = ks.create_key()
    with pytest.raises(strongroom.KMSError):
        ks.sign(sym.key_id, b"msg", signing_algorithm="ECDSA_SHA_256")
    with pytest.raises(strongroom.KMSError):
        ks.get_public_key(sym.key_id)
    with pytest.raises(strongroom.NotFoundException):
        ks.get_public_key("alias/none")


def test_generate_and_verify_mac(ks: Keystore) -> None:
    k = ks.create_key(key_spec="HMAC_256", key_usage="GENERATE_VERIFY_MAC")
    m = ks.generate_mac(k.key_id, b"data", mac_algorithm="HMAC_SHA_256")
    assert isinstance(m, strongroom.MacResult) and len(m.mac) == 32
    assert ks.verify_mac(k.key_id, b"data", m.mac, mac_algorithm="HMAC_SHA_256").mac_valid is True
    with pytest.raises(strongroom.KMSInvalidMacException):
        ks.verify_mac(k.key_id, b"data!", m.mac, mac_algorithm="HMAC_SHA_256")
    with pytest.raises(strongroom.ValidationException):
        ks.generate_mac(k.key_id, b"data", mac_algorithm="HMAC_MD5")
    with pytest.raises(strongroom.NotFoundException):
        ks.generate_mac("alias/none", b"data", mac_algorithm="HMAC_SHA_256")


def test_generate_data_key_pair(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    ctx = {"pair": "1"}
    p = ks.generate_data_key_pair(key.key_id, "ECC_NIST_P256", encryption_context=ctx)
    assert isinstance(p, strongroom.DataKeyPair)
    assert isinstance(p.private_key_plaintext, strongroom.SecretBytes)
    assert p.private_key_plaintext.hex() not in repr(p) and "redacted" in repr(p)
    assert ks.decrypt(p.private_key_ciphertext_blob, encryption_context=ctx).plaintext == p.private_key_plaintext
    w = ks.generate_data_key_pair_without_plaintext(key.key_id, "ECC_NIST_P256")
    assert isinstance(w, strongroom.EncryptedDataKeyPair) and not hasattr(w, "private_key_plaintext")
    with pytest.raises(strongroom.ValidationException):
        ks.generate_data_key_pair(key.key_id, "ECC_NIST_P999")
    with pytest.raises(strongroom.NotFoundException):
        ks.generate_data_key_pair("alias/none", "ECC_NIST_P256")


def test_import_parameters_and_errors(ks: Keystore, key: strongroom.KeyMetadata) -> None:
    ext = ks.create_key(origin="EXTERNAL")
    assert ext.key_state == "PendingImport"
    params = ks.get_parameters_for_import(ext.key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048")
    assert isinstance(params, strongroom.ImportParameters) and params.import_token
    with pytest.raises(strongroom.KMSError):
        ks.import_key_material(ext.key_id, params.import_token, b"\x00" * 256)
    with pytest.raises(strongroom.KMSError):
        ks.import_key_material(ext.key_id, b"bad token", b"\x00" * 256)
    with pytest.raises(strongroom.KMSError):
        ks.get_parameters_for_import(key.key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048")
    with pytest.raises(strongroom.KMSError):
        ks.delete_imported_key_material(key.key_id)


def test_boto_client_asymmetric(ks: Keystore) -> None:
    botocore_session = pytest.importorskip("botocore.session")
    model = botocore_session.get_session().get_service_model("kms")
    from test_boto import check_response

    c: Any = ks.client()
    k = c.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    s = c.sign(KeyId=k, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
    check_response("Sign", s)
    v = c.verify(KeyId=k, Message=b"m", Signature=s["Signature"], SigningAlgorithm="ECDSA_SHA_256")
    check_response("Verify", v)
    assert v["SignatureValid"] is True
    with pytest.raises(c.exceptions.KMSInvalidSignatureException):
        c.verify(KeyId=k, Message=b"x", Signature=s["Signature"], SigningAlgorithm="ECDSA_SHA_256")
    check_response("GetPublicKey", c.get_public_key(KeyId=k))
    h = c.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    m = c.generate_mac(KeyId=h, Message=b"m", MacAlgorithm="HMAC_SHA_256")
    check_response("GenerateMac", m)
    check_response("VerifyMac", c.verify_mac(KeyId=h, Message=b"m", Mac=m["Mac"], MacAlgorithm="HMAC_SHA_256"))
    sym = c.create_key()["KeyMetadata"]["KeyId"]
    check_response("GenerateDataKeyPair", c.generate_data_key_pair(KeyId=sym, KeyPairSpec="ECC_NIST_P256"))
    check_response(
        "GenerateDataKeyPairWithoutPlaintext",
        c.generate_data_key_pair_without_plaintext(KeyId=sym, KeyPairSpec="ECC_NIST_P256"),
    )
    ext = c.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    check_response(
        "GetParametersForImport",
        c.get_parameters_for_import(KeyId=ext, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"),
    )
    assert model is not None
