"""Fixtures: a `strongroom serve` process on a loopback ephemeral port, boto3
clients pointed at it, and a raw SigV4-signed HTTP helper for protocol faults.

The binary is `$STRONGROOM_BIN` or `target/debug/strongroom` (built by
scripts/test-server.sh)."""

import http.client
import json
import os
import pathlib
import signal
import subprocess
import time

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("STRONGROOM_BIN", str(ROOT / "target" / "debug" / "strongroom"))
REGION = "us-east-1"
ACCOUNT = "000000000000"
ADMIN = ("AKIDADMINEXAMPLE", "admin-secret-key-example/+=", f"arn:aws:iam::{ACCOUNT}:user/admin")
BOB = ("AKIDBOBEXAMPLE", "bob-secret-key-example", f"arn:aws:iam::{ACCOUNT}:user/bob")
# Temporary credentials: access key, secret, session token, principal.
TEMP = ("ASIATEMPEXAMPLE", "temp-secret-key-example", "FwoGZXIvYXdzEXAMPLEsessiontoken/+=",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session")


class Server:
    """A running `strongroom serve`."""

    def __init__(self, workdir, extra_args=(), keystore=None):
        self.workdir = pathlib.Path(workdir)
        self.keystore = keystore or self.workdir / "ks.db"
        self.creds = self.workdir / "creds.json"
        if not pathlib.Path(self.keystore).exists():
            subprocess.run([BIN, "--keystore", str(self.keystore), "init"], check=True,
                           stdout=subprocess.DEVNULL)
        self.creds.write_text(json.dumps({"credentials": [
            {"access_key_id": a, "secret_access_key": s, "principal": p}
            for (a, s, p) in (ADMIN, BOB)
        ] + [{"access_key_id": TEMP[0], "secret_access_key": TEMP[1], "session_token": TEMP[2],
              "principal": TEMP[3]}]}))
        self.extra_args = list(extra_args)
        self.proc = None
        self.start()

    def start(self):
        args = [BIN, "--keystore", str(self.keystore), "serve", "--listen", "127.0.0.1:0"]
        if "--insecure-no-auth" not in self.extra_args:
            args += ["--credentials", str(self.creds)]
        args += self.extra_args
        self.log = open(self.workdir / "server.log", "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("listening on "), f"server did not start: {line!r}"
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            rc = self.proc.wait(timeout=20)
        else:
            rc = self.proc.returncode if self.proc else None
        self.log.close()
        return rc

    def client(self, cred=ADMIN, session_token=None, **config):
        return boto3.client(
            "kms", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=cred[0], aws_secret_access_key=cred[1], aws_session_token=session_token,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def raw(self, body, target="TrentService.ListKeys", headers=None, sign=True,
            content_type="application/x-amz-json-1.1", cred=ADMIN):
        """POSTs `body` (bytes) signed with SigV4 by botocore; returns (status, json)."""
        h = {"Host": f"127.0.0.1:{self.port}"}
        if target is not None:
            h["X-Amz-Target"] = target
        if content_type is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        if sign:
            req = botocore.awsrequest.AWSRequest(method="POST", url=self.url + "/", data=body, headers=h)
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(cred[0], cred[1]), "kms", REGION).add_auth(req)
            h = dict(req.headers.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", "/", body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        try:
            parsed = json.loads(data) if data else {}
        except ValueError:
            parsed = {"raw": data}
        return r.status, parsed

    def healthy(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/health")
        r = conn.getresponse()
        ok = r.status == 200 and json.loads(r.read()) == {"status": "ok"}
        conn.close()
        return ok


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("server"))
    yield s
    rc = s.stop()
    assert rc == 0, "graceful shutdown on SIGTERM must exit 0"


@pytest.fixture(scope="session")
def kms(server):
    return server.client()


@pytest.fixture
def key(kms):
    return kms.create_key(Description="test key")["KeyMetadata"]["KeyId"]


def wait_until(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False
