#!/usr/bin/env bash
# Peak resident memory of `strongroom encrypt-file` / `decrypt-file` on a
# 1 GiB file (both v2 suites, file output and stdout output), measured with
# `/usr/bin/time -v`. Usage: benches/rss.sh [SIZE_MIB] (default 1024).
# Prints one Markdown table row per run; results go in benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
cargo build --release -q -p strongroom-cli
BIN="$PWD/target/release/strongroom"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strongroom-rss.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
"$BIN" --keystore ks.db init >/dev/null
KEY="$("$BIN" --keystore ks.db create-key | sed -n 's/.*"Arn": "\(.*\)".*/\1/p')"
# Incompressible input, generated fast.
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > plain.bin
measure() { # label, command...
    local label="$1"; shift
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -v "$@" 2> time.txt >/dev/null
    end=$(date +%s.%N)
    local rss secs
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)
    secs=$(echo "$end - $start" | bc)
    printf '| %s | %s MiB | %.1f MiB | %.2f s | %.0f MiB/s |\n' "$label" "$SIZE_MIB" \
        "$(echo "$rss / 1024" | bc -l)" "$secs" "$(echo "$SIZE_MIB / $secs" | bc -l)"
}
echo "| run | input | max RSS | wall time | throughput |"
echo "|---|---|---|---|---|"
for suite in 0x0578 0x0478; do
    measure "encrypt-file $suite, -o file" "$BIN" --keystore ks.db encrypt-file -i plain.bin -o msg.sr --key-id "$KEY" --algorithm-suite "$suite"
    measure "decrypt-file $suite, -o file" "$BIN" --keystore ks.db decrypt-file -i msg.sr -o plain.out
    cmp plain.bin plain.out
    measure "decrypt-file $suite, -o - (stdout)" sh -c "'$BIN' --keystore ks.db decrypt-file -i msg.sr -o - > plain.out2"
    cmp plain.bin plain.out2
    rm -f msg.sr plain.out plain.out2
done
