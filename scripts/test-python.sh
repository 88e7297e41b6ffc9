#!/usr/bin/env bash
# The Python package's tests, on a fresh machine: a venv at .venv (made if
# absent), maturin/pytest/mypy/botocore/boto3/moto from PyPI, the binding
# installed with `pip install ./bindings/python` (maturin as the PEP 517
# backend, release profile, abi3 wheel), the CLI built for the interop test,
# then mypy.stubtest against the compiled module and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n==== %s\n' "$*"; }

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  step "python venv at .venv"
  "$PY" -m venv .venv
fi
VPY="$PWD/.venv/bin/python"
# maturin's PEP 517 hook runs the `maturin` executable from PATH.
export PATH="$PWD/.venv/bin:$PATH"

step "pip install test tools"
"$VPY" -m pip install --quiet --disable-pip-version-check \
  'maturin>=1.9,<2' pytest mypy botocore boto3 'moto[kms]'

step "pip install ./bindings/python (maturin, release, abi3)"
start=$(date +%s)
# --no-build-isolation: use the maturin installed above (no second download);
# the cargo target dir is the workspace's, so unchanged sources do not rebuild.
"$VPY" -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  --force-reinstall --no-deps ./bindings/python
echo "binding built and installed in $(( $(date +%s) - start ))s"

step "strongroom CLI (for the interop tests)"
cargo build --release --quiet -p strongroom-cli
export STRONGROOM_CLI="${CARGO_TARGET_DIR:-$PWD/target}/release/strongroom"

step "mypy.stubtest strongroom"
# Run from outside the source tree so that the installed package is checked.
(cd tests/python && "$VPY" -m mypy.stubtest strongroom)
(cd tests/python && "$VPY" -m mypy --strict -p strongroom)

step "pytest tests/python"
set +e
(cd tests/python && "$VPY" -m pytest -q -ra -s -p no:cacheprovider .)
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
