"""Encrypts or decrypts one file with the AWS Encryption SDK for Python
(streaming, 4096-byte frames, a raw AES-256 wrapping key: no AWS account),
for `benches/file-compare`.

Usage: python esdk_file.py (e|d) SUITE IN OUT
SUITE: 0478 (AES-256-GCM, HKDF-SHA512, key commitment) or
       0578 (the same with ECDSA P-384 signatures).
"""

import sys

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import (
    Algorithm,
    CommitmentPolicy,
    EncryptionKeyType,
    WrappingAlgorithm,
)
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

SUITES = {
    "0478": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    "0578": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}


def main() -> None:
    mode, suite, src, dst = sys.argv[1:5]
    key = RawMasterKey(
        provider_id="bench",
        key_id=b"bench-key",
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=bytes(range(32)),
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    args = {"mode": mode, "key_provider": key}
    if mode == "e":
        args.update(algorithm=SUITES[suite], frame_length=4096)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        with client.stream(source=fi, **args) as stream:
            for chunk in stream:
                fo.write(chunk)


if __name__ == "__main__":
    main()
