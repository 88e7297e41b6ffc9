#!/usr/bin/env bash
# A short smoke run of the libFuzzer targets in fuzz/ (docs/TESTING.md,
# "libFuzzer"), under AddressSanitizer (cargo fuzz's default), on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets it take the nightly options
# cargo fuzz passes). On a fresh machine: installs cargo-fuzz
# $CARGO_FUZZ_VERSION if absent, builds the targets, seeds each corpus from
# the product's own outputs, and runs every target for $FUZZ_SECONDS seconds
# (default 15). The build goes to $FUZZ_TARGET_DIR, by default a cache
# outside the clone (~/.cache/strongroom/fuzz-target, about 600 MB; with
# neither XDG_CACHE_HOME nor HOME set, target/fuzz in the clone) that
# the next CI run on the machine reuses: from a cold state the install and
# the build are most of the suite's time. Needs a C++ compiler ($CXX, else
# c++: libfuzzer-sys compiles libFuzzer) and python3. A crash, leak or sanitizer report
# fails the suite; its input is saved under fuzz/artifacts/<target>/ (turn
# it into a proptest regression case).
# Usage: scripts/test-fuzz.sh [TARGET...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
cache_home="${XDG_CACHE_HOME:-${HOME:+$HOME/.cache}}"
if [ -n "$cache_home" ]; then
    FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$cache_home/strongroom/fuzz-target}"
else
    FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/target/fuzz}"
fi
# Only for cargo fuzz: set for the workspace's own cargo commands it would
# change their fingerprints and rebuild target/ from scratch.
fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }

# What the build needs beyond Rust, said before the long part starts.
cxx="${CXX:-c++}"
if ! command -v "${cxx%% *}" >/dev/null 2>&1; then
    echo "test-fuzz.sh: no C++ compiler: '${cxx%% *}' (\$CXX, else c++) is not on PATH;" \
        "libfuzzer-sys compiles libFuzzer's C++ sources. Install one (Debian: apt-get install g++)" \
        "or set CXX." >&2
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "test-fuzz.sh: python3 is not on PATH (it reads the CLI's JSON for the seeds)." >&2
    exit 1
fi

# The CLI makes the seeds (the Rust tests have built it in CI). Its path
# from cargo itself: CARGO_TARGET_DIR, CARGO_BUILD_TARGET_DIR or a
# build.target-dir setting all move it.
cargo build --quiet -p strongroom-cli
target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"], end="")')"

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

# The dependencies the fuzz crate shares with the workspace at the versions
# the workspace locks (fuzz/Cargo.lock is not committed; cargo adds what
# only the fuzz crate needs): copied again whenever the workspace's lock
# changed since, so a kept clone does not fuzz old versions.
if [ ! -f fuzz/Cargo.lock ] || [ Cargo.lock -nt fuzz/Cargo.lock ]; then
    cp -f Cargo.lock fuzz/Cargo.lock
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
    for t in "${targets[@]}"; do fuzz build --target-dir "$FUZZ_TARGET_DIR" "$t"; done
else
    mapfile -t targets < <(cargo fuzz list)
    fuzz build --target-dir "$FUZZ_TARGET_DIR"
fi

# Seeds: real objects in the formats each target parses. Made here, not
# committed; libFuzzer mutates them (each target's keys are not the ones
# that made them, so none decrypts or opens as is).
corpus="$(mktemp -d)"
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/blob_and_export" "$corpus/envelope" "$corpus/records" "$corpus/text_parsers"
cp strongroom/tests/fixture/export-v1.bin strongroom/tests/fixture/v1-keystore.blob \
    strongroom/tests/fixture/v3-keystore.blob "$corpus/blob_and_export/"
sr="$target_dir/debug/strongroom"
work="$corpus/keystore"
mkdir -p "$work"
ks=(--keystore "$work/ks.db")
# The JSON member at a path of a CLI response (a digit: a list index).
field() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if k.isdigit() else v[k]
print(v, end="")' "$@"
}
"$sr" "${ks[@]}" init >/dev/null
key="$("$sr" "${ks[@]}" create-key | field KeyMetadata KeyId)"
"$sr" "${ks[@]}" create-key >/dev/null
"$sr" "${ks[@]}" create-alias --alias-name alias/fuzz-seed --target-key-id "$key" >/dev/null
printf 'seed plaintext' >"$work/plain"
"$sr" "${ks[@]}" encrypt --key-id "$key" --plaintext "fileb://$work/plain" \
    --encryption-context tenant=acme --outfile "$corpus/blob_and_export/blob" >/dev/null
"$sr" "${ks[@]}" create-grant --key-id "$key" --operations Decrypt \
    --grantee-principal arn:aws:iam::000000000000:role/seed >/dev/null
"$sr" "${ks[@]}" export-keystore --outfile "$corpus/blob_and_export/export" >/dev/null
# The export's JSON record bodies (configuration, two keys, alias, grant),
# found by reading a JSON object at each '{"' of the export's bytes.
python3 - "$corpus/blob_and_export/export" "$corpus/records" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("latin-1")  # one character per byte: offsets are byte offsets
decoder, at, n = json.JSONDecoder(), 0, 0
while (at := text.find('{"', at)) >= 0:
    try:
        _, end = decoder.raw_decode(text, at)
    except ValueError:
        at += 1
        continue
    open(f"{sys.argv[2]}/record-{n}", "wb").write(data[at:end])
    at, n = end, n + 1
if n < 5:
    sys.exit(f"test-fuzz.sh: found {n} records in the export, expected 5")
PY
"$sr" "${ks[@]}" encrypt-file -i "$work/plain" -o "$corpus/envelope/kms-signed" \
    --key-id "$key" --encryption-context tenant=acme --frame-length 8 >/dev/null
head -c 32 /dev/urandom >"$work/aes.key"
"$sr" encrypt-file -i "$work/plain" -o "$corpus/envelope/raw-aes" --raw-aes-key-file "$work/aes.key" \
    --raw-key-namespace fuzz --raw-key-name key >/dev/null
seed() { cat >"$corpus/text_parsers/$1"; }
"$sr" "${ks[@]}" get-key-policy --key-id "$key" | field Policy | seed policy
"$sr" "${ks[@]}" describe-key --key-id alias/fuzz-seed | field KeyMetadata Arn | seed key-arn
"$sr" "${ks[@]}" list-aliases | field Aliases 0 AliasArn | seed alias-arn
"$sr" "${ks[@]}" list-keys --limit 1 | field NextMarker | seed marker
"$sr" "${ks[@]}" create-grant --key-id "$key" --operations Encrypt \
    --grantee-principal arn:aws:iam::000000000000:user/seed | field GrantToken | seed grant-token
printf '%s' "$key" | seed key-id
base64 -w0 "$corpus/blob_and_export/blob" | seed base64

status=0
for t in "${targets[@]}"; do
    mkdir -p "$corpus/$t"
    echo "fuzz target $t: ${FUZZ_SECONDS}s"
    if ! fuzz run --target-dir "$FUZZ_TARGET_DIR" "$t" "$corpus/$t" -- -max_total_time="$FUZZ_SECONDS" \
        -print_final_stats=1 >"$corpus/$t.log" 2>&1; then
        tail -n 60 "$corpus/$t.log"
        echo "fuzz target $t FAILED (input under fuzz/artifacts/$t/)" >&2
        status=1
        continue
    fi
    grep -E '^#[0-9]+.*cov:' "$corpus/$t.log" | tail -n 1 || true
    grep -E '^(Done|stat::average_exec_per_sec)' "$corpus/$t.log" || true
done
exit "$status"
