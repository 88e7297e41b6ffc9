#!/usr/bin/env bash
# Compile check of the benches (they are not run in CI): criterion bench,
# strongroom-rates. Run the benches themselves with
#   cargo bench -p strongroom-benches --bench ops && benches/ops-table
#        (criterion, ~8 minutes; STRONGROOM_BENCH_SHM=1 / _CPU=1 / _QUICK=1,
#         see benches/benches/ops.rs)
#   benches/compare                          (table of ratios vs moto, openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
cargo bench -p strongroom-benches --no-run
