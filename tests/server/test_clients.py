"""Real AWS clients against the endpoint: the AWS CLI and the AWS Encryption
SDK for Python with its KMS master key provider on botocore."""

import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys

import botocore.session
import pytest

from conftest import ADMIN, BIN, REGION

AWS = shutil.which("aws", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("aws")


def aws(server, *args, check=True):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ADMIN[0], AWS_SECRET_ACCESS_KEY=ADMIN[1],
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    r = subprocess.run([AWS, "--endpoint-url", server.url, "--output", "json", "kms", *args],
                       env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (scripts/test-server.sh installs it)")
def test_aws_cli(server, tmp_path):
    md = json.loads(aws(server, "create-key", "--description", "from the AWS CLI").stdout)["KeyMetadata"]
    key = md["KeyId"]
    assert md["Description"] == "from the AWS CLI"
    (tmp_path / "pt").write_bytes(b"hello from the aws cli\n")
    enc = json.loads(aws(server, "encrypt", "--key-id", key, "--plaintext", f"fileb://{tmp_path / 'pt'}",
                         "--encryption-context", "purpose=cli").stdout)
    (tmp_path / "blob").write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    dec = json.loads(aws(server, "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'blob'}",
                         "--encryption-context", "purpose=cli").stdout)
    assert base64.b64decode(dec["Plaintext"]) == b"hello from the aws cli\n"
    dk = json.loads(aws(server, "generate-data-key", "--key-id", key, "--key-spec", "AES_256").stdout)
    assert len(base64.b64decode(dk["Plaintext"])) == 32
    (tmp_path / "dk").write_bytes(base64.b64decode(dk["CiphertextBlob"]))
    again = json.loads(aws(server, "decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'dk'}").stdout)
    assert again["Plaintext"] == dk["Plaintext"]
    bad = aws(server, "describe-key", "--key-id", "alias/absent", check=False)
    assert bad.returncode != 0 and "NotFoundException" in bad.stderr
    listed = json.loads(aws(server, "list-keys").stdout)  # the CLI paginates by itself
    assert key in [k["KeyId"] for k in listed["Keys"]]


def test_esdk_master_key_provider(server, kms, monkeypatch):
    esdk = pytest.importorskip("aws_encryption_sdk")
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    arn = kms.create_key(Description="ESDK")["KeyMetadata"]["Arn"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ADMIN[1])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    session = botocore.session.Session()
    provider = esdk.StrictAwsKmsMasterKeyProvider(key_ids=[arn], botocore_session=session)
    client = esdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    message = os.urandom(100_000)
    ct, header = client.encrypt(source=message, key_provider=provider, encryption_context={"purpose": "esdk"})
    assert [k.key_provider.key_info.decode() for k in header.encrypted_data_keys] == [arn]
    pt, dheader = client.decrypt(source=ct, key_provider=provider)
    assert pt == message and dheader.encryption_context["purpose"] == "esdk"
    # The encrypted data key is an ordinary KMS ciphertext blob: boto3 decrypts it too.
    edk = next(iter(header.encrypted_data_keys)).encrypted_data_key
    ctx = {k: v for k, v in dheader.encryption_context.items()}
    assert len(kms.decrypt(CiphertextBlob=edk, EncryptionContext=ctx)["Plaintext"]) == 32


def test_esdk_decrypts_strongroom_encrypt_file(server, kms, tmp_path, monkeypatch):
    """`strongroom encrypt-file` (Strongroom keyring, in-process) writes an
    AWS Encryption SDK message; the ESDK decrypts it through the endpoint."""
    esdk = pytest.importorskip("aws_encryption_sdk")
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    arn = kms.create_key(Description="encrypt-file")["KeyMetadata"]["Arn"]
    message = os.urandom(50_000)
    (tmp_path / "plain").write_bytes(message)
    r = subprocess.run([BIN, "--keystore", str(server.keystore), "encrypt-file", "-i", str(tmp_path / "plain"),
                        "-o", str(tmp_path / "msg"), "--key-id", arn, "--encryption-context", "origin=cli"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ADMIN[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ADMIN[1])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    provider = esdk.StrictAwsKmsMasterKeyProvider(key_ids=[arn], botocore_session=botocore.session.Session())
    client = esdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    pt, header = client.decrypt(source=(tmp_path / "msg").read_bytes(), key_provider=provider)
    assert pt == message and header.encryption_context["origin"] == "cli"
    # And the other way: a message the ESDK wrote through the endpoint, read by decrypt-file.
    ct, _ = client.encrypt(source=message, key_provider=provider, encryption_context={"origin": "esdk"})
    (tmp_path / "esdk-msg").write_bytes(ct)
    r = subprocess.run([BIN, "--keystore", str(server.keystore), "decrypt-file", "-i", str(tmp_path / "esdk-msg"),
                        "-o", str(tmp_path / "back")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "back").read_bytes() == message


def _self_signed(tmp_path):
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return tmp_path / "cert.pem", tmp_path / "key.pem"


def test_tls(tmp_path):
    pytest.importorskip("cryptography")
    from conftest import Server

    cert, key = _self_signed(tmp_path)
    srv = Server(tmp_path, extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    try:
        assert srv.url.startswith("https://127.0.0.1:")
        import boto3
        from botocore.config import Config
        c = boto3.client("kms", endpoint_url=srv.url, region_name=REGION, verify=str(cert),
                         aws_access_key_id=ADMIN[0], aws_secret_access_key=ADMIN[1],
                         config=Config(retries={"max_attempts": 1}))
        k = c.create_key()["KeyMetadata"]["KeyId"]
        blob = c.encrypt(KeyId=k, Plaintext=b"over tls")["CiphertextBlob"]
        assert c.decrypt(CiphertextBlob=blob)["Plaintext"] == b"over tls"
    finally:
        assert srv.stop() == 0


def test_insecure_no_auth_mode(tmp_path):
    from conftest import Server

    srv = Server(tmp_path, extra_args=["--insecure-no-auth"])
    try:
        status, body = srv.raw(b"{}", sign=False)
        assert status == 200 and "Keys" in body
    finally:
        assert srv.stop() == 0
    log = (tmp_path / "server.log").read_text()
    assert "insecure-no-auth" in log


def test_insecure_no_auth_refuses_non_loopback(tmp_path):
    import subprocess as sp
    sp.run([BIN, "--keystore", str(tmp_path / "ks.db"), "init"], check=True, stdout=sp.DEVNULL)
    r = sp.run([BIN, "--keystore", str(tmp_path / "ks.db"), "serve", "--insecure-no-auth",
                "--listen", "0.0.0.0:0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "loopback" in r.stderr


@pytest.mark.parametrize("entry,said", [
    ({"aws_session_token": "T"}, "unknown field `aws_session_token`"),
    ({"SessionToken": "T"}, "unknown field `SessionToken`"),
    ({"session_token": " T"}, "visible ASCII"),
    ({"session_token": "T\u00e9"}, "visible ASCII"),
])
def test_a_wrong_credentials_file_stops_the_server(tmp_path, entry, said):
    """A misspelt session token field must not make temporary credentials
    long-term ones: the server does not start, and says why."""
    import subprocess as sp
    sp.run([BIN, "--keystore", str(tmp_path / "ks.db"), "init"], check=True, stdout=sp.DEVNULL)
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"credentials": [dict({"access_key_id": "ASIAX", "secret_access_key": "s",
                                                       "principal": "arn:aws:iam::000000000000:user/a"}, **entry)]}))
    creds.chmod(0o600)
    r = sp.run([BIN, "--keystore", str(tmp_path / "ks.db"), "serve", "--credentials", str(creds),
                "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and said in r.stderr, r.stderr
    assert "listening" not in r.stdout
