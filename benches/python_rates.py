"""Strongroom's Python binding: operations per second (wall time, single
thread, ~1 s each), one `name rate unit` line each, for benches/compare.

Rows `py_*` use a fresh keystore under target/ (every call appends and
fsyncs an audit event), rows `py_shm_*` one on the tmpfs /dev/shm (fsync
free), as strongroom-rates does for the Rust API.
"""
import os
import shutil
import sys
import tempfile
import time

import strongroom

ROOT_KEY = bytes([0x5A]) * 32


def rate(name, fn, budget=1.0):
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget:
        fn()
        n += 1
    print(f"{name} {n / (time.perf_counter() - start):.1f} op/s")


def rows(prefix, directory):
    d = tempfile.mkdtemp(prefix="strongroom-py-bench-", dir=directory)
    try:
        ks = strongroom.Keystore.create(os.path.join(d, "bench.db"), root_key=ROOT_KEY)
        key = ks.create_key().key_id
        pt = b"\x01" * 32
        rate(f"{prefix}_encrypt_32", lambda: ks.encrypt(key, pt))
        rate(f"{prefix}_generate_data_key",
             lambda: ks.generate_data_key(key, number_of_bytes=32))
        ks.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target")
os.makedirs(target, exist_ok=True)
rows("py", target)
if os.path.isdir("/dev/shm"):
    rows("py_shm", "/dev/shm")
sys.stdout.flush()
