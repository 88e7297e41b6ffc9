#!/usr/bin/env python3
"""Wrap key material for Strongroom's ImportKeyMaterial with pyca/cryptography,
as an AWS KMS client would (an independent implementation of the wrapping side).

usage: wrap_key_material.py WRAPPING_PUBLIC_KEY.pem ALGORITHM MATERIAL_FILE OUT_FILE

ALGORITHM is a KMS WrappingAlgorithm:
  RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256        RSA-OAEP of the material itself
  RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256
      RSA-OAEP of a fresh AES-256 key, followed by AES Key Wrap with
      Padding (RFC 5649) of the material under that key.
"""
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding


def oaep(h):
    return padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)


def main():
    pem_path, alg, material_path, out_path = sys.argv[1:5]
    with open(pem_path, "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    with open(material_path, "rb") as f:
        material = f.read()
    h = hashes.SHA1() if alg.endswith("SHA_1") else hashes.SHA256()
    if alg.startswith("RSAES_OAEP_"):
        wrapped = public_key.encrypt(material, oaep(h))
    elif alg.startswith("RSA_AES_KEY_WRAP_"):
        kek = os.urandom(32)
        wrapped = public_key.encrypt(kek, oaep(h)) + aes_key_wrap_with_padding(kek, material)
    else:
        sys.exit(f"unknown wrapping algorithm {alg}")
    with open(out_path, "wb") as f:
        f.write(wrapped)


if __name__ == "__main__":
    main()
