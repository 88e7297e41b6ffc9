"""moto's in-process KMS rates (ops/s), one `name rate unit` line each, for
benches/compare. Single thread, ~1 s per operation."""
import os
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402


def rate(name, fn, budget=1.0):
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget:
        fn()
        n += 1
    print(f"{name} {n / (time.perf_counter() - start):.1f} op/s")


with mock_aws():
    kms = boto3.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    pt = b"\x01" * 32
    rate("moto_encrypt_32", lambda: kms.encrypt(KeyId=key, Plaintext=pt))
    blob = kms.encrypt(KeyId=key, Plaintext=pt)["CiphertextBlob"]
    rate("moto_decrypt_32", lambda: kms.decrypt(CiphertextBlob=blob))
    rate("moto_generate_data_key",
         lambda: kms.generate_data_key(KeyId=key, NumberOfBytes=32))
    ec = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    rate("moto_sign_p256", lambda: kms.sign(KeyId=ec, Message=b"m",
                                            SigningAlgorithm="ECDSA_SHA_256"))
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    rate("moto_sign_rsa2048_pss", lambda: kms.sign(KeyId=rsa, Message=b"m",
                                                   SigningAlgorithm="RSASSA_PSS_SHA_256"))
