#!/usr/bin/env bash
# Tests of the strongroom npm package (issue 8): builds it with
# scripts/build-wasm.sh, then runs under Node's test runner
#   tests/wasm/keystore.test.mjs  every Keystore method, errors, sealed export/import
#   tests/wasm/access.test.mjs    principals, key policies, grants, the audit log
#   tests/wasm/envelope.test.mjs  envelope messages, one call and incremental
#   tests/wasm/cross.test.mjs     wasm <-> native CLI (blobs, policies and grants) and native core (messages)
#   tests/wasm/reentrancy.test.mjs  calls from request getters (and Date.now) into the keystore; free() there
#   tests/wasm/shapes.test.mjs    every response's members, in order, and their types
#   tests/wasm/browser.test.mjs   headless Chromium (playwright-core) on a localhost page
# and type-checks tests/wasm/types.test.ts against the declarations (tsc --noEmit);
# core/tests/without_rsa.rs checks a build without the `rsa` feature.
# Installs what is missing on a fresh machine (apt: chromium; npm: tests/wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "Node.js 20 or newer is required (found $(node --version))" >&2; exit 1; }

echo "== build the package"
scripts/build-wasm.sh

echo "== strongroom-core without RSA (as FEATURES= builds of the package)"
cargo test -q -p strongroom-core --no-default-features --features backend-rustcrypto --test without_rsa

echo "== native binaries for the cross-runtime test"
cargo build -q -p strongroom-cli
cargo build -q -p strongroom-wasm --example envelope_interop
export STRONGROOM_CLI=$ROOT/target/debug/strongroom
export STRONGROOM_ENVELOPE_INTEROP=$ROOT/target/debug/examples/envelope_interop

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (apt)"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

cd tests/wasm
echo "== npm ci (typescript, playwright-core, the package)"
npm ci --no-audit --no-fund --loglevel=error

echo "== tsc --noEmit (TypeScript declarations)"
npx tsc --noEmit -p .
echo "tsc: declarations type-check"

echo "== node --test"
node --test --test-reporter=spec ./*.test.mjs
