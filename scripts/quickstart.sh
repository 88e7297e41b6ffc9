#!/usr/bin/env bash
# The main job, on a fresh machine: build the `strongroom` CLI, create an
# embedded keystore in a temporary directory, create a KMS key, encrypt a
# file with an encryption context, decrypt it, and check the round trip.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building the strongroom CLI (release; 5-20 minutes on a fresh 2-core machine, seconds once built)"
cargo build --release -p strongroom-cli
SR="$PWD/target/release/strongroom"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== strongroom init (keystore + root key file, mode 0600)"
"$SR" init
echo "== create-key"
key_id="$("$SR" create-key --description "quickstart" | sed -n 's/.*"KeyId": "\([^"]*\)".*/\1/p')"
echo "created key $key_id"
"$SR" create-alias --alias-name alias/quickstart --target-key-id "$key_id"
"$SR" describe-key --key-id alias/quickstart

printf 'Attack at dawn. %s\n' "$(date -u +%FT%TZ)" > secret.txt
echo "== encrypt (plaintext bytes -> CiphertextBlob)"
"$SR" encrypt --key-id alias/quickstart --plaintext fileb://secret.txt \
  --encryption-context purpose=quickstart,team=ops --outfile secret.blob
echo "== decrypt (key found from the blob; context must match exactly)"
"$SR" decrypt --ciphertext-blob fileb://secret.blob \
  --encryption-context purpose=quickstart,team=ops --outfile roundtrip.txt >/dev/null
cmp secret.txt roundtrip.txt
echo "round trip OK: $(cat roundtrip.txt)"

echo "== decrypt with the wrong context is refused"
if "$SR" decrypt --ciphertext-blob fileb://secret.blob --encryption-context purpose=other 2>err.txt; then
  echo "expected InvalidCiphertextException" >&2; exit 1
fi
cat err.txt
grep -q InvalidCiphertextException err.txt

echo "== generate-data-key (envelope encryption's first step)"
"$SR" generate-data-key --key-id alias/quickstart --key-spec AES_256 \
  --outfile data.key --ciphertext-outfile data.key.blob >/dev/null
"$SR" decrypt --ciphertext-blob fileb://data.key.blob --outfile data.key.again >/dev/null
cmp data.key data.key.again
echo "data key round trip OK ($(wc -c < data.key) bytes)"
echo "quickstart: all good"
