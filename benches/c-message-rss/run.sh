#!/usr/bin/env bash
# Peak resident memory of the C one-call envelope functions
# (sr_envelope_encrypt_message_raw_aes, sr_envelope_decrypt_message_raw_aes
# to an sr_bytes and _into a caller buffer) on a SIZE_MIB message, both v2
# suites, one process per call, from `/usr/bin/time -v` (as benches/rss.sh).
# Usage: benches/c-message-rss/run.sh [SIZE_MIB] (default 64) [LIB_DIR]
# (default target/release, built here). Prints Markdown table rows; results
# go in benches/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MIB="${1:-64}"
LIB_DIR="${2:-}"
if [ -z "$LIB_DIR" ]; then
    cargo build --release -q -p strongroom-ffi
    LIB_DIR="$PWD/target/release"
fi
# Programs load the SONAME (libstrongroom.so.N), as after an install.
SOVERSION=$(sed -n 's/^#define STRONGROOM_SOVERSION \([0-9]*\)$/\1/p' include/strongroom.h)
ln -sf libstrongroom.so "$LIB_DIR/libstrongroom.so.$SOVERSION"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/strongroom-c-rss.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude benches/c-message-rss/message_rss.c \
    -L"$LIB_DIR" -lstrongroom -Wl,-rpath,"$LIB_DIR" -o "$WORK/message_rss"
measure() { # label, args...
    local label="$1"; shift
    /usr/bin/time -v "$WORK/message_rss" "$@" 2> "$WORK/time.txt" >/dev/null ||
        { cat "$WORK/time.txt" >&2; echo "failed: $label" >&2; exit 1; }
    local kb
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
    printf '| %s | %s MiB | %.1f MB | %.2f× |\n' "$label" "$SIZE_MIB" \
        "$(echo "$kb * 1024 / 1000000" | bc -l)" "$(echo "$kb / ($SIZE_MIB * 1024)" | bc -l)"
}
echo "| call | message | max RSS | RSS / plaintext |"
echo "|---|---|---|---|"
for suite in 0x0478 0x0578; do
    measure "encrypt_message $suite (sr_bytes)" encrypt "$suite" "$SIZE_MIB" "$WORK/msg"
    measure "decrypt_message $suite (sr_bytes)" decrypt "$suite" "$SIZE_MIB" "$WORK/msg"
    measure "decrypt_message_into $suite (caller buffer)" decrypt_into "$suite" "$SIZE_MIB" "$WORK/msg"
done
