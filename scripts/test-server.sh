#!/usr/bin/env bash
# The KMS endpoint (`strongroom serve`) against real AWS clients, on a fresh
# machine: a venv with boto3, the AWS CLI, the AWS Encryption SDK and pytest
# at target/server-venv, the binary built, then tests/server/ with pytest.
# Loopback only. Exit status is pytest's (no tests collected, 5, is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

VENV="${STRONGROOM_SERVER_VENV:-$PWD/target/server-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
    'boto3>=1.34' awscli 'aws-encryption-sdk>=4,<5' pytest

cargo build --quiet -p strongroom-cli
export STRONGROOM_BIN="$PWD/target/debug/strongroom"
export PATH="$VENV/bin:$PATH"

set +e
(cd tests/server && "$VENV/bin/python" -m pytest -q -p no:cacheprovider -rs "$@")
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "test-server.sh: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
