"""Asymmetric keys, MACs, data key pairs and imported key material through
the endpoint."""

import base64
import hashlib
import json
import os

import pytest
from botocore.exceptions import ClientError

from test_clients import AWS, aws


@pytest.fixture(scope="module")
def asym(kms):
    # The asymmetric operations are part of the product: GetPublicKey on a
    # symmetric key is UnsupportedOperationException (a server without the
    # operation would answer UnknownOperationException and fail here).
    with pytest.raises(ClientError) as e:
        kms.get_public_key(KeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    assert e.value.response["Error"]["Code"] == "UnsupportedOperationException"
    return kms


@pytest.mark.parametrize("spec,alg", [("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
                                      ("RSA_2048", "RSASSA_PSS_SHA_256")])
def test_sign_verify_get_public_key(asym, spec, alg):
    kms = asym
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = kms.sign(KeyId=key, Message=b"message", SigningAlgorithm=alg)["Signature"]
    assert kms.verify(KeyId=key, Message=b"message", Signature=sig, SigningAlgorithm=alg)["SignatureValid"] is True
    with pytest.raises(kms.exceptions.KMSInvalidSignatureException):
        kms.verify(KeyId=key, Message=b"other", Signature=sig, SigningAlgorithm=alg)
    digest = hashlib.sha256(b"message").digest()
    assert kms.verify(KeyId=key, Message=digest, MessageType="DIGEST", Signature=sig,
                      SigningAlgorithm=alg)["SignatureValid"] is True
    pub = kms.get_public_key(KeyId=key)
    assert pub["KeySpec"] == spec and alg in pub["SigningAlgorithms"]
    crypto = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    pk = crypto.load_der_public_key(pub["PublicKey"])
    if spec.startswith("ECC"):
        pk.verify(sig, b"message", ec.ECDSA(hashes.SHA256()))
    else:
        pk.verify(sig, b"message", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    with pytest.raises(kms.exceptions.InvalidKeyUsageException):
        kms.encrypt(KeyId=key, Plaintext=b"x")


def test_mac(asym):
    kms = asym
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert len(mac) == 32
    assert kms.verify_mac(KeyId=key, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"] is True
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(KeyId=key, Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_256")


def test_data_key_pairs(asym, key):
    kms = asym
    r = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256", EncryptionContext={"p": "1"})
    assert r["PublicKey"] and r["PrivateKeyPlaintext"]
    back = kms.decrypt(CiphertextBlob=r["PrivateKeyCiphertextBlob"], EncryptionContext={"p": "1"})["Plaintext"]
    assert back == r["PrivateKeyPlaintext"]
    w = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec="ECC_NIST_P256")
    assert "PrivateKeyPlaintext" not in w and w["PublicKey"]


def test_import_key_material(asym):
    kms = asym
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"
    p = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapping = serialization.load_der_public_key(p["PublicKey"])
    material = os.urandom(32)
    wrapped = wrapping.encrypt(material, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    kms.import_key_material(KeyId=key, ImportToken=p["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    blob = kms.encrypt(KeyId=key, Plaintext=b"imported")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"imported"
    with pytest.raises(kms.exceptions.InvalidImportTokenException):
        kms.import_key_material(KeyId=key, ImportToken=b"garbage", EncryptedKeyMaterial=wrapped,
                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    kms.delete_imported_key_material(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingImport"


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")
def test_aws_cli_sign_verify(asym, server, tmp_path):
    key = json.loads(aws(server, "create-key", "--key-spec", "ECC_NIST_P256", "--key-usage",
                         "SIGN_VERIFY").stdout)["KeyMetadata"]["KeyId"]
    (tmp_path / "msg").write_bytes(b"signed by the aws cli")
    sig = json.loads(aws(server, "sign", "--key-id", key, "--message", f"fileb://{tmp_path / 'msg'}",
                         "--signing-algorithm", "ECDSA_SHA_256").stdout)["Signature"]
    (tmp_path / "sig").write_bytes(base64.b64decode(sig))
    ok = json.loads(aws(server, "verify", "--key-id", key, "--message", f"fileb://{tmp_path / 'msg'}",
                        "--signature", f"fileb://{tmp_path / 'sig'}", "--signing-algorithm",
                        "ECDSA_SHA_256").stdout)
    assert ok["SignatureValid"] is True


@pytest.mark.parametrize("spec,curve", [("ECC_NIST_P256", "SECP256R1"), ("ECC_NIST_P384", "SECP384R1")])
def test_derive_shared_secret(asym, spec, curve):
    """boto3's DeriveSharedSecret equals pyca/cryptography's ECDH with the
    KMS key's GetPublicKey output; KMS errors for a wrong curve and usage."""
    kms = asym
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    meta = kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"] and "SigningAlgorithms" not in meta
    pub = kms.get_public_key(KeyId=meta["KeyId"])
    assert pub["KeyUsage"] == "KEY_AGREEMENT" and pub["KeyAgreementAlgorithms"] == ["ECDH"]
    peer = ec.generate_private_key(getattr(ec, curve)())
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    r = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                                 PublicKey=peer.public_key().public_bytes(der, spki))
    assert r["KeyId"] == meta["Arn"] and r["KeyAgreementAlgorithm"] == "ECDH"
    assert r["KeyOrigin"] == "AWS_KMS"
    assert r["SharedSecret"] == peer.exchange(ec.ECDH(), serialization.load_der_public_key(pub["PublicKey"]))
    other = ec.generate_private_key(ec.SECP384R1() if curve == "SECP256R1" else ec.SECP256R1())
    with pytest.raises(kms.exceptions.ClientError) as e:
        kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
                                 PublicKey=other.public_key().public_bytes(der, spki))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    signer = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    with pytest.raises(kms.exceptions.InvalidKeyUsageException):
        kms.derive_shared_secret(KeyId=signer, KeyAgreementAlgorithm="ECDH",
                                 PublicKey=peer.public_key().public_bytes(der, spki))
