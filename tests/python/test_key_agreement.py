"""DeriveSharedSecret (ECDH) from Python, checked against pyca/cryptography:
a peer key made by pyca, `ec.ECDH()` with Strongroom's GetPublicKey output,
must give the secret Strongroom derives with the peer's public key; and the
KMS errors for malformed keys, usage, state, policy and grants, through
`Keystore` and the boto-compatible client (checked against botocore)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import strongroom
from strongroom import Keystore

ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")

OTHER = "arn:aws:iam::111122223333:user/app"
CURVES = [("ECC_NIST_P256", "SECP256R1", 32), ("ECC_NIST_P384", "SECP384R1", 48), ("ECC_NIST_P521", "SECP521R1", 66)]


def spki(private: Any) -> bytes:
    return bytes(
        private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.mark.parametrize("spec,curve,size", CURVES)
def test_secret_equals_pyca_ecdh(ks: Keystore, spec: str, curve: str, size: int) -> None:
    k = ks.create_key(key_spec=spec, key_usage="KEY_AGREEMENT")
    assert k.key_usage == "KEY_AGREEMENT" and k.key_agreement_algorithms == ("ECDH",)
    assert k.signing_algorithms == () and ks.describe_key(k.key_id).key_agreement_algorithms == ("ECDH",)
    pk = ks.get_public_key(k.key_id)
    assert pk.key_agreement_algorithms == ("ECDH",) and pk.key_usage == "KEY_AGREEMENT"
    peer = ec.generate_private_key(getattr(ec, curve)())
    r = ks.derive_shared_secret(k.key_id, spki(peer))
    assert isinstance(r, strongroom.SharedSecret)
    assert isinstance(r.shared_secret, strongroom.SecretBytes) and len(r.shared_secret) == size
    expected = peer.exchange(ec.ECDH(), serialization.load_der_public_key(pk.public_key))
    assert r.shared_secret == expected
    assert r.key_id == k.arn and r.key_agreement_algorithm == "ECDH" and r.key_origin == "AWS_KMS"
    # Frozen, and the secret is not in the repr.
    with pytest.raises(AttributeError):
        r.shared_secret = b"x"  # type: ignore[misc]
    assert expected.hex() not in repr(r) and repr(expected) not in repr(r)
    # bytes-like public keys, explicit algorithm.
    again = ks.derive_shared_secret(k.key_id, memoryview(spki(peer)), "ECDH")
    assert again.shared_secret == expected


def test_malformed_and_foreign_public_keys(ks: Keystore) -> None:
    k = ks.create_key(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    cases = {
        "wrong curve": spki(ec.generate_private_key(ec.SECP384R1())),
        "secp256k1": spki(ec.generate_private_key(ec.SECP256K1())),
        "rsa": spki(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "garbage DER": b"\x30\x82\xff\xff garbage",
        "bare point": bytes(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        ),
    }
    for what, public in cases.items():
        with pytest.raises(strongroom.ValidationException) as e:
            ks.derive_shared_secret(k.key_id, public)
        assert "PublicKey" in str(e.value), what
    with pytest.raises(strongroom.ValidationException):
        ks.derive_shared_secret(k.key_id, b"")
    with pytest.raises(strongroom.ValidationException):
        ks.derive_shared_secret(k.key_id, spki(ec.generate_private_key(ec.SECP256R1())), "ECDHE")
    with pytest.raises(strongroom.UnsupportedOperationException):
        ks.derive_shared_secret(
            k.key_id,
            spki(ec.generate_private_key(ec.SECP256R1())),
            recipient={"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"},
        )
    with pytest.raises(TypeError):
        ks.derive_shared_secret(k.key_id, "not bytes")  # type: ignore[arg-type]


def test_usage_state_policy_and_grants(ks: Keystore) -> None:
    peer = spki(ec.generate_private_key(ec.SECP256R1()))
    signer = ks.create_key(key_spec="ECC_NIST_P256", key_usage="SIGN_VERIFY")
    with pytest.raises(strongroom.InvalidKeyUsageException):
        ks.derive_shared_secret(signer.key_id, peer)
    with pytest.raises(strongroom.ValidationException):
        ks.create_key(key_spec="RSA_2048", key_usage="KEY_AGREEMENT")
    k = ks.create_key(key_spec="ECC_NIST_P256", key_usage="KEY_AGREEMENT")
    with pytest.raises(strongroom.InvalidKeyUsageException):
        ks.sign(k.key_id, b"m", signing_algorithm="ECDSA_SHA_256")

    ks.disable_key(k.key_id)
    with pytest.raises(strongroom.DisabledException):
        ks.derive_shared_secret(k.key_id, peer)
    ks.enable_key(k.key_id)

    app = ks.as_principal(OTHER)
    with pytest.raises(strongroom.AccessDeniedException):
        app.derive_shared_secret(k.key_id, peer)
    g = ks.create_grant(k.key_id, OTHER, ["DeriveSharedSecret"])
    assert len(app.derive_shared_secret(k.key_id, peer, grant_tokens=[g.grant_token]).shared_secret) == 32
    ks.revoke_grant(k.key_id, g.grant_id)
    with pytest.raises(strongroom.AccessDeniedException):
        app.derive_shared_secret(k.key_id, peer)
    policy = json.loads(ks.get_key_policy(k.key_id))
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": OTHER},
            "Action": "kms:DeriveSharedSecret",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:KeyAgreementAlgorithm": "ECDH"}},
        }
    )
    ks.put_key_policy(k.key_id, json.dumps(policy))
    assert len(app.derive_shared_secret(k.key_id, peer).shared_secret) == 32

    ks.schedule_key_deletion(k.key_id, pending_window_in_days=7)
    with pytest.raises(strongroom.KMSInvalidStateException):
        ks.derive_shared_secret(k.key_id, peer)


def test_boto_client_derive_shared_secret(ks: Keystore) -> None:
    from test_boto import check_params, check_response

    kms = strongroom.client(ks)
    created = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")
    check_response("CreateKey", created)
    assert created["KeyMetadata"]["KeyAgreementAlgorithms"] == ["ECDH"]
    key_id = created["KeyMetadata"]["KeyId"]
    pub = kms.get_public_key(KeyId=key_id)
    check_response("GetPublicKey", pub)
    assert pub["KeyAgreementAlgorithms"] == ["ECDH"]
    peer = ec.generate_private_key(ec.SECP384R1())
    params = {"KeyId": key_id, "KeyAgreementAlgorithm": "ECDH", "PublicKey": spki(peer)}
    check_params("DeriveSharedSecret", params)
    r = kms.derive_shared_secret(**params)
    check_response("DeriveSharedSecret", r)
    assert r["SharedSecret"] == peer.exchange(ec.ECDH(), serialization.load_der_public_key(pub["PublicKey"]))
    assert set(r) == {"KeyId", "SharedSecret", "KeyAgreementAlgorithm", "KeyOrigin", "ResponseMetadata"}
    with pytest.raises(kms.exceptions.DryRunOperationException):
        kms.derive_shared_secret(DryRun=True, **params)
    recipient = {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"}
    check_params("DeriveSharedSecret", dict(params, Recipient=recipient))
    with pytest.raises(kms.exceptions.UnsupportedOperationException):
        kms.derive_shared_secret(Recipient=recipient, **params)
    wrong = dict(params, PublicKey=spki(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(kms.exceptions.ValidationException):
        kms.derive_shared_secret(**wrong)
