#!/usr/bin/env python3
"""Decrypt a Strongroom ciphertext blob, written from docs/FORMAT.md alone
("Encryption context encoding" and "Ciphertext blob"), with pyca/cryptography.

usage: decrypt_blob.py BACKING_KEY_FILE BLOB_FILE CONTEXT_JSON
Writes the plaintext to stdout. BACKING_KEY_FILE holds the 32 raw bytes of
the backing key (e.g. imported key material the caller knows).
"""
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def encode_context(ctx):
    if not ctx:
        return b""
    items = sorted(((k.encode(), v.encode()) for k, v in ctx.items()), key=lambda kv: kv[0])
    out = struct.pack(">H", len(items))
    for k, v in items:
        out += struct.pack(">H", len(k)) + k + struct.pack(">H", len(v)) + v
    return out


def main():
    with open(sys.argv[1], "rb") as f:
        backing_key = f.read()
    with open(sys.argv[2], "rb") as f:
        blob = f.read()
    ctx = json.loads(sys.argv[3])
    if blob[0] != 1:
        sys.exit("unknown blob version")
    key_id, version, salt, nonce = blob[1:17], blob[17:21], blob[21:37], blob[37:49]
    k = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt,
        info=b"strongroom/v1/blob" + key_id + version,
    ).derive(backing_key)
    plaintext = AESGCM(k).decrypt(nonce, blob[49:], blob[:49] + encode_context(ctx))
    sys.stdout.buffer.write(plaintext)


if __name__ == "__main__":
    main()
