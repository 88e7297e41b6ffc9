#!/usr/bin/env python3
"""ECDSA and HMAC checks with pyca/cryptography and Python's hmac, for the
CLI interop tests (cli/tests/openssl_interop.rs).

usage:
  ecdsa_pyca.py verify SPKI_DER MESSAGE_FILE SIG_DER HASH
      Verifies the DER ECDSA signature over the message (hashed with HASH:
      sha256, sha384 or sha512) with the SubjectPublicKeyInfo; prints the
      curve name (e.g. secp521r1) on success, exits 1 on a bad signature.
  ecdsa_pyca.py sign CURVE MESSAGE_FILE HASH PKCS8_OUT SIG_OUT
      Makes a key on CURVE (secp256r1, secp384r1, secp521r1, secp256k1),
      writes its unencrypted PKCS#8 DER and a DER signature of the message.
  ecdsa_pyca.py hmac HASH KEY_FILE MESSAGE_FILE
      Writes HMAC-HASH(key, message) to stdout (raw bytes).
"""
import hashlib
import hmac
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
CURVES = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    mode = sys.argv[1]
    if mode == "verify":
        spki, msg, sig, h = sys.argv[2:6]
        key = serialization.load_der_public_key(read(spki))
        try:
            key.verify(read(sig), read(msg), ec.ECDSA(HASHES[h]()))
        except InvalidSignature:
            print("invalid signature", file=sys.stderr)
            sys.exit(1)
        print(key.curve.name)
    elif mode == "sign":
        curve, msg, h, pkcs8_out, sig_out = sys.argv[2:7]
        key = ec.generate_private_key(CURVES[curve]())
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with open(pkcs8_out, "wb") as f:
            f.write(der)
        with open(sig_out, "wb") as f:
            f.write(key.sign(read(msg), ec.ECDSA(HASHES[h]())))
    elif mode == "hmac":
        h, key, msg = sys.argv[2:5]
        sys.stdout.buffer.write(hmac.new(read(key), read(msg), getattr(hashlib, h)).digest())
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
