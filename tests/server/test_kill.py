"""SIGKILL in the middle of a load of CreateKey and Encrypt calls: after a
restart every acknowledged key exists and every acknowledged ciphertext
decrypts, and the audit log (where the build has one) verifies; SIGTERM
shuts down cleanly."""

import os
import signal
import subprocess
import threading
import time

import pytest
from botocore.config import Config

from conftest import BIN, Server


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path):
    srv = Server(tmp_path)
    keys, blobs, errors, lock = [], [], [], threading.Lock()
    stop, killed = threading.Event(), threading.Event()

    def worker(n):
        # Timeouts far above any call's time on a loaded machine: a call
        # waits for the keystore's write lock behind the other workers'
        # synced writes. After the kill every call fails at once.
        c = srv.client(connect_timeout=60, read_timeout=120)
        i = 0
        while not stop.is_set() and i < 2000:
            i += 1
            try:
                if i % 3 == 1 or not keys:
                    kid = c.create_key(Description=f"w{n}-{i}")["KeyMetadata"]["KeyId"]
                    with lock:
                        keys.append(kid)
                else:
                    with lock:
                        kid = keys[(n * 7 + i) % len(keys)]
                    pt = os.urandom(32)
                    blob = c.encrypt(KeyId=kid, Plaintext=pt, EncryptionContext={"w": str(n)})["CiphertextBlob"]
                    with lock:
                        blobs.append((blob, pt, n, kid))
            except Exception as e:
                if not killed.is_set():
                    with lock:
                        errors.append(repr(e))
                return  # the server is gone (or failed: reported below): stop this worker

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    # Load until enough calls were acknowledged, however long a loaded
    # machine takes; the bound only keeps a broken server from hanging the run.
    deadline = time.time() + 600
    while (len(keys) < 100 or len(blobs) < 200) and not errors and time.time() < deadline:
        time.sleep(0.05)
    killed.set()
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=60)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    srv.log.close()
    assert not errors, errors
    assert len(keys) >= 100 and len(blobs) >= 200, (len(keys), len(blobs))

    srv.start()
    try:
        c = srv.client()
        listed = {k["KeyId"] for p in c.get_paginator("list_keys").paginate() for k in p["Keys"]}
        assert set(keys) <= listed
        for blob, pt, n, kid in blobs:
            r = c.decrypt(CiphertextBlob=blob, EncryptionContext={"w": str(n)})
            assert r["Plaintext"] == pt and r["KeyId"].endswith(kid)
    finally:
        assert srv.stop() == 0
    help_text = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
    if "audit" in help_text:
        v = subprocess.run([BIN, "--keystore", str(srv.keystore), "audit", "verify"],
                           capture_output=True, text=True, timeout=120)
        assert v.returncode == 0, v.stdout + v.stderr


def test_sigterm_finishes_in_flight_and_exits_zero(tmp_path):
    srv = Server(tmp_path)
    c = srv.client()
    key = c.create_key()["KeyMetadata"]["KeyId"]
    results = []

    def call():
        try:
            results.append(c.generate_data_key(KeyId=key, KeySpec="AES_256")["Plaintext"])
        except Exception as e:  # connection refused after shutdown is fine
            results.append(e)

    ts = [threading.Thread(target=call) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert srv.stop(signal.SIGTERM) == 0
    assert all(isinstance(r, bytes) for r in results)
