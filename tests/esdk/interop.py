#!/usr/bin/env python3
"""Interop half of core/tests/esdk_interop.rs, run with the AWS Encryption SDK for Python (4.x).

Usage: interop.py DIR

1. Decrypts every `rust-*.msg` in DIR with the ESDK and compares it with the
   matching `rust-*.pt` (plaintext written by Strongroom).
2. Writes `esdk-*.msg` / `esdk-*.pt` pairs for Strongroom to decrypt: both
   committing suites, the version 1 HKDF suites, frame lengths 512, 4096 and 2^31 − 128 (above the 256 MiB Strongroom writes),
   a non-framed message, raw AES (128/192/256) and raw RSA (OAEP SHA-1/256) keys.

The keys and the encryption context are fixed below and repeated in the Rust
test. Exit status: 0 ok, 1 a check failed, 3 the ESDK is not importable.
"""
import os
import sys

try:
    import aws_encryption_sdk
    from aws_encryption_sdk.identifiers import (
        Algorithm,
        CommitmentPolicy,
        EncryptionKeyType,
        WrappingAlgorithm,
    )
    from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
    from aws_encryption_sdk.key_providers.raw import RawMasterKey
except ImportError as e:  # pragma: no cover
    print(f"aws_encryption_sdk not importable: {e}", file=sys.stderr)
    sys.exit(3)

NAMESPACE = "strongroom-interop"
AES_KEYS = {
    "aes-128": bytes(range(1, 17)),
    "aes-192": bytes(range(1, 25)),
    "aes-256": bytes(range(1, 33)),
}
AES_ALGS = {
    "aes-128": WrappingAlgorithm.AES_128_GCM_IV12_TAG16_NO_PADDING,
    "aes-192": WrappingAlgorithm.AES_192_GCM_IV12_TAG16_NO_PADDING,
    "aes-256": WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
}
CONTEXT = {"purpose": "interop", "tenant": "strongroom"}
SUITES = {
    "0478": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    "0578": Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    "0178": Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256,
    "0378": Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
}
BIG = 3 * 1024 * 1024 + 3


def pattern(n):
    return bytes(((i * 7 + i // 251) & 0xFF) for i in range(n))


def aes_key(name):
    return RawMasterKey(
        provider_id=NAMESPACE,
        key_id=name.encode(),
        wrapping_key=WrappingKey(
            wrapping_algorithm=AES_ALGS[name],
            wrapping_key=AES_KEYS[name],
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )


RSA_ALGS = {
    "rsa-oaep-sha1": WrappingAlgorithm.RSA_OAEP_SHA1_MGF1,
    "rsa-oaep-sha256": WrappingAlgorithm.RSA_OAEP_SHA256_MGF1,
    "rsa-oaep-sha384": WrappingAlgorithm.RSA_OAEP_SHA384_MGF1,
    "rsa-oaep-sha512": WrappingAlgorithm.RSA_OAEP_SHA512_MGF1,
    "rsa-pkcs1": WrappingAlgorithm.RSA_PKCS1,
}


def rsa_key(dirname, name):
    with open(os.path.join(dirname, "rsa-private.pem"), "rb") as f:
        pem = f.read()
    return RawMasterKey(
        provider_id=NAMESPACE,
        key_id=name.encode(),
        wrapping_key=WrappingKey(
            wrapping_algorithm=RSA_ALGS[name],
            wrapping_key=pem,
            wrapping_key_type=EncryptionKeyType.PRIVATE,
        ),
    )


def key_for(dirname, name):
    return aes_key(name) if name in AES_KEYS else rsa_key(dirname, name)


def main(dirname):
    failures = 0
    allow = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    )
    forbid = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    require = aws_encryption_sdk.EncryptionSDKClient()

    # 1. Decrypt what Strongroom wrote: rust-<suite>-<frame>-<size>-<key>.msg
    checked = 0
    for fn in sorted(os.listdir(dirname)):
        if not (fn.startswith("rust-") and fn.endswith(".msg")):
            continue
        stem = fn[: -len(".msg")]
        keyname = stem.split("-", 4)[4]
        with open(os.path.join(dirname, fn), "rb") as f:
            msg = f.read()
        with open(os.path.join(dirname, stem + ".pt"), "rb") as f:
            expected = f.read()
        try:
            pt, header = require.decrypt(source=msg, key_provider=key_for(dirname, keyname))
            ok = pt == expected and all(header.encryption_context.get(k) == v for k, v in CONTEXT.items())
        except Exception as e:  # noqa: BLE001
            print(f"FAIL decrypt {fn}: {type(e).__name__}: {e}", file=sys.stderr)
            ok = False
        if not ok:
            print(f"FAIL {fn}", file=sys.stderr)
            failures += 1
        checked += 1
    print(f"esdk decrypted {checked} Strongroom messages", file=sys.stderr)

    # 2. Write messages for Strongroom: esdk-<suite>-<frame>-<size>-<key>.msg
    have_rsa = os.path.exists(os.path.join(dirname, "rsa-private.pem"))
    cases = []
    for suite in ("0478", "0578"):
        for frame in (512, 4096):
            for size in (0, 1, frame - 1, frame, frame + 1, BIG):
                cases.append((suite, frame, size, "aes-256"))
        for keyname in ("aes-128", "aes-192"):
            cases.append((suite, 4096, 5000, keyname))
        cases.append((suite, 0, 1000, "aes-256"))  # non-framed
        # Near the ESDK's largest frame length (a multiple of 128 there): above what Strongroom writes and
        # what its streaming decryptors buffer by default (256 MiB).
        cases.append((suite, 2**31 - 128, 1000, "aes-256"))
        cases.append((suite, 0, BIG, "aes-256"))
        if have_rsa:
            for keyname in RSA_ALGS:
                cases.append((suite, 4096, 5000, keyname))
    for suite in ("0178", "0378"):
        cases.append((suite, 4096, 5000, "aes-256"))
        cases.append((suite, 0, 100, "aes-256"))
    for suite, frame, size, keyname in cases:
        client = forbid if suite in ("0178", "0378") else require
        pt = pattern(size)
        ct, _ = client.encrypt(
            source=pt,
            key_provider=key_for(dirname, keyname),
            encryption_context=CONTEXT,
            algorithm=SUITES[suite],
            frame_length=frame,
        )
        # The ESDK must read its own message back (sanity of the case).
        back, _ = allow.decrypt(source=ct, key_provider=key_for(dirname, keyname))
        assert back == pt
        stem = f"esdk-{suite}-{frame}-{size}-{keyname}"
        with open(os.path.join(dirname, stem + ".msg"), "wb") as f:
            f.write(ct)
        with open(os.path.join(dirname, stem + ".pt"), "wb") as f:
            f.write(pt)
    print(f"esdk wrote {len(cases)} messages", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
