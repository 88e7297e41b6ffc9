#!/usr/bin/env bash
# Compile check of the benches (they are not run in CI): criterion bench,
# strongroom-rates. Run the benches themselves with
#   cargo bench -p strongroom-benches        (criterion, a few minutes)
#   benches/compare                          (table of ratios vs moto, openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
cargo bench -p strongroom-benches --no-run
