#!/usr/bin/env bash
# Every test suite, on a fresh machine: formatting, lints, docs, the no_std
# build of the core, the Rust tests, the quick start, then the C, Python,
# wasm and server suites and a short libFuzzer smoke run under
# AddressSanitizer (scripts/test-*.sh). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# One build per checkout: incremental caches (~3 GB) are never reused here.
export CARGO_INCREMENTAL=0

# Each step also prints the free space where the build goes (CARGO_TARGET_DIR
# when set, else target/ here): a CI machine's disk is not sized, and a full
# one fails a link with a misleading error. A target directory not made yet
# is on the file system of its nearest existing parent.
build_dir() {
  local d="${CARGO_TARGET_DIR:-.}"
  while [ ! -e "$d" ] && [ "$d" != "$(dirname "$d")" ]; do d="$(dirname "$d")"; done
  printf '%s\n' "$d"
}
step() {
  printf '\n==== %s\n' "$*"
  df -h --output=avail,target "$(build_dir)" 2>/dev/null | tail -n 1 | sed 's/^ */(free: /; s/$/)/' || true
}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
# The library as its users build it: without the `test-hooks` feature that
# the crate's own dev-dependency turns on for every --all-targets build.
cargo clippy -p strongroom --lib -- -D warnings

step "no_std core: cargo build -p strongroom-core --no-default-features"
cargo build -p strongroom-core --no-default-features

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "Python venv with the AWS Encryption SDK (core/tests/esdk_interop.rs)"
ESDK_VENV="${STRONGROOM_ESDK_VENV:-$PWD/target/esdk-venv}"
[ -x "$ESDK_VENV/bin/python" ] || python3 -m venv "$ESDK_VENV"
"$ESDK_VENV/bin/pip" install --quiet --disable-pip-version-check 'aws-encryption-sdk>=4,<5' cryptography
export STRONGROOM_PYTHON="${STRONGROOM_PYTHON:-$ESDK_VENV/bin/python}"

step "Rust tests (native: AWS-LC backend, and both backends side by side)"
cargo test --workspace

step "RustCrypto backend alone (the no_std/wasm primitive set): core tests"
cargo test -p strongroom-core

step "benches compile (cargo bench --no-run; not run in CI)"
./scripts/bench-check.sh

step "quickstart"
./scripts/quickstart.sh

for suite in c python wasm server fuzz; do
  if [ -x "scripts/test-$suite.sh" ]; then
    step "suite: $suite"
    "./scripts/test-$suite.sh"
  fi
done

echo
echo "all suites passed"
