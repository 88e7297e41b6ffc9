#!/usr/bin/env bash
# Loopback load test of `strongroom serve` side by side with moto's standalone
# server: Encrypt, Decrypt and GenerateDataKey at 1, 8 and 64 connections,
# SigV4-signed (Strongroom verifies every signature; moto does not).
# Bounded: SECONDS_PER_CELL (default 3) per operation x connections x server.
# Prints a Markdown table. Needs target/server-venv (scripts/test-server.sh)
# with moto[server].
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${STRONGROOM_SERVER_VENV:-$PWD/target/server-venv}"
"$VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5'
cargo build --quiet --release -p strongroom-cli
cargo build --quiet --release -p strongroom-server --example loadgen

work="$(mktemp -d)"
cleanup() {
    [ -n "${SR_PID:-}" ] && kill "$SR_PID" 2>/dev/null || true
    [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

AK=AKIDLOADGEN SK=loadgen-secret-key
printf '{"credentials":[{"access_key_id":"%s","secret_access_key":"%s","principal":"arn:aws:iam::000000000000:root"}]}' "$AK" "$SK" > "$work/creds.json"
target/release/strongroom --keystore "$work/ks.db" init > /dev/null
target/release/strongroom --keystore "$work/ks.db" serve --listen 127.0.0.1:0 \
    --credentials "$work/creds.json" --log-level warn > "$work/sr.out" 2> "$work/sr.err" &
SR_PID=$!
for _ in $(seq 100); do grep -q listening "$work/sr.out" 2>/dev/null && break; sleep 0.1; done
SR_ADDR="$(sed -n 's#^listening on http://##p' "$work/sr.out")"

MOTO_PORT="${MOTO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > "$work/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $MOTO_PORT), 1)" 2>/dev/null && break
    sleep 0.1
done

echo "cores: $(nproc); strongroom at $SR_ADDR, moto at 127.0.0.1:$MOTO_PORT; ${SECONDS_PER_CELL:-3} s per cell"
target/release/examples/loadgen \
    --target "strongroom=$SR_ADDR" --target "moto=127.0.0.1:$MOTO_PORT" \
    --access-key "$AK" --secret-key "$SK" \
    --seconds "${SECONDS_PER_CELL:-3}" --concurrency "${CONCURRENCY:-1,8,64}"
