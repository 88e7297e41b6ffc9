"""100,000 calls, success and error paths, without memory growth."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import strongroom
from strongroom import Keystore


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_no_memory_growth_over_100k_calls(tmp_path: Path) -> None:
    with Keystore.create(tmp_path / "m.db", root_key=os.urandom(32)) as ks:
        key_id = ks.create_key().key_id
        ctx = {"purpose": "leak-test"}
        blob = ks.encrypt(key_id, b"p" * 64, encryption_context=ctx).ciphertext_blob

        def round_(n: int) -> None:
            # 4 calls per iteration: a data key, an encrypt, a decrypt and a failing decrypt.
            for _ in range(n):
                dk = ks.generate_data_key(key_id, key_spec="AES_256", encryption_context=ctx)
                ks.encrypt(key_id, dk.plaintext, encryption_context=ctx)
                ks.decrypt(memoryview(blob), encryption_context=ctx)
                try:
                    ks.decrypt(blob, encryption_context={"wrong": "ctx"})
                except strongroom.InvalidCiphertextException:
                    pass

        round_(2_500)  # warm up caches, allocator pools, SQLite page cache
        tracemalloc.start()
        rss_before = rss_bytes()
        py_before, _ = tracemalloc.get_traced_memory()
        round_(25_000)  # 100,000 calls
        py_after, _ = tracemalloc.get_traced_memory()
        rss_after = rss_bytes()
        tracemalloc.stop()
        print(
            f"\n100,000 calls: RSS {rss_before / 2**20:.1f} -> {rss_after / 2**20:.1f} MiB, "
            f"Python heap {py_before / 1024:.0f} -> {py_after / 1024:.0f} KiB"
        )
        assert py_after - py_before < 256 * 1024, "Python objects leak"
        assert rss_after - rss_before < 16 * 2**20, "native memory grows"
