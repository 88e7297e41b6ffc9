"""Asymmetric signing keys, HMAC keys, data key pairs and imported key material."""

from __future__ import annotations

import hashlib
import hmac
import os
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
    with pytest.raises(strongroom.InvalidKeyUsageException):
        ks.sign(sym.key_id, b"msg", signing_algorithm="ECDSA_SHA_256")
    with pytest.raises(strongroom.UnsupportedOperationException):
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
    with pytest.raises(strongroom.InvalidCiphertextException):
        ks.import_key_material(ext.key_id, params.import_token, b"\x00" * 256)
    with pytest.raises(strongroom.InvalidImportTokenException):
        ks.import_key_material(ext.key_id, b"bad token", b"\x00" * 256)
    with pytest.raises(strongroom.UnsupportedOperationException):
        ks.get_parameters_for_import(key.key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048")
    with pytest.raises(strongroom.UnsupportedOperationException):
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


CURVES = [
    # (KeySpec, SigningAlgorithm, pyca curve name, hash name, digest length)
    ("ECC_NIST_P521", "ECDSA_SHA_512", "secp521r1", "SHA512", 64),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256", "secp256k1", "SHA256", 32),
]


@pytest.mark.parametrize("spec,alg,curve,hash_name,digest_len", CURVES)
def test_p521_and_secp256k1_interop_with_pyca(
    ks: Keystore, spec: str, alg: str, curve: str, hash_name: str, digest_len: int
) -> None:
    """Strongroom's signatures verify in pyca/cryptography with the GetPublicKey
    SPKI (whose curve pyca reads from its OID), RAW and DIGEST; pyca's own key,
    imported with pyca's RSA_AES_KEY_WRAP_SHA_256 wrapping, verifies pyca's
    signatures (several, so some secp256k1 ones have a high s)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

    h = getattr(hashes, hash_name)()
    k = ks.create_key(key_spec=spec, key_usage="SIGN_VERIFY")
    assert k.key_spec == spec and tuple(k.signing_algorithms) == (alg,)
    pk = ks.get_public_key(k.key_id)
    assert pk.key_spec == spec and tuple(pk.signing_algorithms) == (alg,)
    public = serialization.load_der_public_key(pk.public_key)
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == curve
    msg = b"interop with pyca"
    raw = ks.sign(k.key_id, msg, signing_algorithm=alg)
    public.verify(raw.signature, msg, ec.ECDSA(h))
    digester = hashes.Hash(getattr(hashes, hash_name)())
    digester.update(msg)
    digest = digester.finalize()
    assert len(digest) == digest_len
    d = ks.sign(k.key_id, digest, signing_algorithm=alg, message_type="DIGEST")
    public.verify(d.signature, digest, ec.ECDSA(utils.Prehashed(getattr(hashes, hash_name)())))
    with pytest.raises(strongroom.ValidationException):
        ks.sign(k.key_id, digest[:-1], signing_algorithm=alg, message_type="DIGEST")
    with pytest.raises(strongroom.InvalidKeyUsageException):
        ks.sign(k.key_id, msg, signing_algorithm="ECDSA_SHA_384")

    theirs = ec.generate_private_key(getattr(ec, curve.upper())())
    der = theirs.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ext = ks.create_key(key_spec=spec, key_usage="SIGN_VERIFY", origin="EXTERNAL")
    params = ks.get_parameters_for_import(
        ext.key_id, wrapping_algorithm="RSA_AES_KEY_WRAP_SHA_256", wrapping_key_spec="RSA_2048"
    )
    wrapping = serialization.load_der_public_key(params.public_key)
    kek = os.urandom(32)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = wrapping.encrypt(kek, oaep) + aes_key_wrap_with_padding(kek, der)  # type: ignore[union-attr]
    ks.import_key_material(ext.key_id, params.import_token, wrapped)
    assert ks.get_public_key(ext.key_id).public_key == theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for i in range(8):
        sig = theirs.sign(msg + bytes([i]), ec.ECDSA(h))
        assert ks.verify(ext.key_id, msg + bytes([i]), sig, signing_algorithm=alg).signature_valid
    with pytest.raises(strongroom.KMSInvalidSignatureException):
        ks.verify(ext.key_id, b"other", sig, signing_algorithm=alg)


def test_hmac_224_matches_python_hmac(ks: Keystore) -> None:
    """HMAC_224 keys make 28-byte HMAC-SHA224 tags; imported material gives
    exactly Python's hmac tag; the KMS import range is 28-64 bytes."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    k = ks.create_key(key_spec="HMAC_224", key_usage="GENERATE_VERIFY_MAC")
    assert k.key_spec == "HMAC_224" and tuple(k.mac_algorithms) == ("HMAC_SHA_224",)
    m = ks.generate_mac(k.key_id, b"data", mac_algorithm="HMAC_SHA_224")
    assert len(m.mac) == 28 and m.mac_algorithm == "HMAC_SHA_224"
    assert ks.verify_mac(k.key_id, b"data", m.mac, mac_algorithm="HMAC_SHA_224").mac_valid
    with pytest.raises(strongroom.InvalidKeyUsageException):
        ks.generate_mac(k.key_id, b"data", mac_algorithm="HMAC_SHA_256")

    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    for length, ok in [(27, False), (28, True), (64, True), (65, False)]:
        material = os.urandom(length)
        ext = ks.create_key(key_spec="HMAC_224", key_usage="GENERATE_VERIFY_MAC", origin="EXTERNAL")
        params = ks.get_parameters_for_import(
            ext.key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048"
        )
        wrapping = serialization.load_der_public_key(params.public_key)
        wrapped = wrapping.encrypt(material, oaep)  # type: ignore[union-attr]
        if not ok:
            with pytest.raises(strongroom.ValidationException):
                ks.import_key_material(ext.key_id, params.import_token, wrapped)
            continue
        ks.import_key_material(ext.key_id, params.import_token, wrapped)
        tag = ks.generate_mac(ext.key_id, b"message", mac_algorithm="HMAC_SHA_224").mac
        assert tag == hmac.new(material, b"message", hashlib.sha224).digest()


def test_boto_client_new_key_specs(ks: Keystore) -> None:
    """The boto-compatible client speaks botocore's KMS model names for the
    new specs: parameters and responses validate against the model."""
    pytest.importorskip("botocore.session")
    from test_boto import check_params, check_response

    c: Any = ks.client()
    for spec, usage in [
        ("ECC_NIST_P521", "SIGN_VERIFY"),
        ("ECC_SECG_P256K1", "SIGN_VERIFY"),
        ("HMAC_224", "GENERATE_VERIFY_MAC"),
    ]:
        check_params("CreateKey", {"KeySpec": spec, "KeyUsage": usage})
        r = c.create_key(KeySpec=spec, KeyUsage=usage)
        check_response("CreateKey", r)
        key = r["KeyMetadata"]["KeyId"]
        check_response("DescribeKey", c.describe_key(KeyId=key))
        if usage == "SIGN_VERIFY":
            alg = r["KeyMetadata"]["SigningAlgorithms"][0]
            check_response("GetPublicKey", c.get_public_key(KeyId=key))
            s = c.sign(KeyId=key, Message=b"m", SigningAlgorithm=alg)
            check_response("Sign", s)
            check_response("Verify", c.verify(KeyId=key, Message=b"m", Signature=s["Signature"], SigningAlgorithm=alg))
        else:
            m = c.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_224")
            check_response("GenerateMac", m)
            check_response("VerifyMac", c.verify_mac(KeyId=key, Message=b"m", Mac=m["Mac"], MacAlgorithm="HMAC_SHA_224"))
    sym = c.create_key()["KeyMetadata"]["KeyId"]
    for pair_spec in ["ECC_NIST_P521", "ECC_SECG_P256K1"]:
        check_params("GenerateDataKeyPair", {"KeyId": sym, "KeyPairSpec": pair_spec})
        p = c.generate_data_key_pair(KeyId=sym, KeyPairSpec=pair_spec)
        check_response("GenerateDataKeyPair", p)
        assert p["KeyPairSpec"] == pair_spec
        w = c.generate_data_key_pair_without_plaintext(KeyId=sym, KeyPairSpec=pair_spec)
        check_response("GenerateDataKeyPairWithoutPlaintext", w)


def test_import_valid_to_takes_an_aware_datetime(ks: Keystore) -> None:
    """valid_to is Unix seconds or an aware datetime (what results return);
    a naive datetime is a TypeError (its zone would be a guess)."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    when = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).replace(microsecond=0)
    for valid_to in (when, when.astimezone(dt.timezone(dt.timedelta(hours=-5))), int(when.timestamp())):
        ext = ks.create_key(origin="EXTERNAL")
        params = ks.get_parameters_for_import(
            ext.key_id, wrapping_algorithm="RSAES_OAEP_SHA_256", wrapping_key_spec="RSA_2048"
        )
        wrapping = serialization.load_der_public_key(params.public_key)
        wrapped = wrapping.encrypt(os.urandom(32), oaep)  # type: ignore[union-attr]
        for naive in (when.replace(tzinfo=None), dt.date.today(), 1.5, "2030-01-01", True):
            with pytest.raises(TypeError, match="valid_to"):
                ks.import_key_material(
                    ext.key_id, params.import_token, wrapped, valid_to=naive, expiration_model="KEY_MATERIAL_EXPIRES"  # type: ignore[arg-type]
                )
        ks.import_key_material(
            ext.key_id, params.import_token, wrapped, valid_to=valid_to, expiration_model="KEY_MATERIAL_EXPIRES"
        )
        assert ks.describe_key(ext.key_id).valid_to == when
