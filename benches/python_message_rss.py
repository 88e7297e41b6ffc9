"""Peak resident memory of the Python binding's one-call envelope calls,
`Keystore.encrypt_message` and `Keystore.decrypt_message`, on a message of
SIZE_MIB MiB (default 64), both v2 suites: each call in a process of its own
(`python benches/python_message_rss.py [SIZE_MIB]`), the peak read with
`resource.getrusage` (ru_maxrss) and shown beside the process's RSS before
the call. Prints Markdown table rows; results go in benches/RESULTS.md.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile

ROOT_KEY = bytes([0x5A]) * 32


def rss_now_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(mode, suite, mib, directory):
    import strongroom

    ks = strongroom.Keystore.open(os.path.join(directory, "ks.db"), root_key=ROOT_KEY)
    path = os.path.join(directory, f"msg-{suite}")
    if mode == "encrypt":
        key = open(os.path.join(directory, "key")).read()
        data = os.urandom(mib << 20)
        before = rss_now_kb()
        msg, _ = ks.encrypt_message(data, key_ids=[key], algorithm_suite=int(suite, 0))
        with open(path, "wb") as f:
            f.write(msg)
    else:
        with open(path, "rb") as f:
            msg = f.read()
        before = rss_now_kb()
        pt, _ = ks.decrypt_message(msg)
        assert len(pt) == mib << 20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(before, peak)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:4], int(sys.argv[4]), sys.argv[5])
        return
    import strongroom

    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    d = tempfile.mkdtemp(prefix="strongroom-py-rss-")
    try:
        ks = strongroom.Keystore.create(os.path.join(d, "ks.db"), root_key=ROOT_KEY)
        with open(os.path.join(d, "key"), "w") as f:
            f.write(ks.create_key().key_id)
        ks.close()
        print("| call | message | RSS before the call | max RSS | max RSS − before |")
        print("|---|---|---|---|---|")
        for suite in ("0x0478", "0x0578"):
            for mode in ("encrypt", "decrypt"):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, suite, str(mib), d],
                    check=True, capture_output=True, text=True,
                ).stdout.split()
                before, peak = int(out[0]), int(out[1])
                print(f"| {mode}_message {suite} | {mib} MiB | {before * 1024 / 1e6:.1f} MB "
                      f"| {peak * 1024 / 1e6:.1f} MB | {(peak - before) * 1024 / 1e6:.1f} MB |")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
