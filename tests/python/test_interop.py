"""A blob made by the CLI decrypts in Python, and the other way round."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

import strongroom
from conftest import run_cli as run


def test_cli_and_python_decrypt_each_others_blobs(cli: str, tmp_path: Path) -> None:
    root = tmp_path / "root.key"
    root.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    ks_path = tmp_path / "interop.db"
    with strongroom.Keystore.create(ks_path, root_key_file=root) as ks:
        key = ks.create_key(description="interop")
        ks.create_alias("alias/interop", key.key_id)

        # Python -> CLI
        data = os.urandom(300)
        blob = ks.encrypt("alias/interop", data, encryption_context={"dir": "py-to-cli", "n": "1"}).ciphertext_blob
        (tmp_path / "py.blob").write_bytes(blob)
        run(
            cli, ks_path, root, "decrypt",
            "--ciphertext-blob", f"fileb://{tmp_path / 'py.blob'}",
            "--encryption-context", "dir=py-to-cli,n=1",
            "--outfile", str(tmp_path / "py.out"),
        )
        assert (tmp_path / "py.out").read_bytes() == data

        # CLI -> Python
        (tmp_path / "cli.in").write_bytes(data[::-1])
        run(
            cli, ks_path, root, "encrypt",
            "--key-id", key.key_id,
            "--plaintext", f"fileb://{tmp_path / 'cli.in'}",
            "--encryption-context", "dir=cli-to-py",
            "--outfile", str(tmp_path / "cli.blob"),
        )
        cli_blob = (tmp_path / "cli.blob").read_bytes()
        r = ks.decrypt(cli_blob, encryption_context={"dir": "cli-to-py"})
        assert r.plaintext == data[::-1] and r.key_id == key.arn
        with pytest.raises(strongroom.InvalidCiphertextException):
            ks.decrypt(cli_blob, encryption_context={"dir": "other"})

        # A data key made by the CLI decrypts in Python.
        out = run(cli, ks_path, root, "generate-data-key", "--key-id", key.key_id, "--key-spec", "AES_256")
        import json

        dk = json.loads(out.stdout)
        plain = ks.decrypt(base64.b64decode(dk["CiphertextBlob"])).plaintext
        assert plain == base64.b64decode(dk["Plaintext"])


def test_cli_made_keystore_opens_in_python(cli: str, tmp_path: Path) -> None:
    ks_path = tmp_path / "made-by-cli.db"
    root = tmp_path / "made-by-cli.key"
    run(cli, ks_path, root, "init")
    out = run(cli, ks_path, root, "create-key", "--description", "from the CLI")
    import json

    key_id = json.loads(out.stdout)["KeyMetadata"]["KeyId"]
    with strongroom.Keystore.open(ks_path, root_key_file=root) as ks:
        assert ks.describe_key(key_id).description == "from the CLI"
