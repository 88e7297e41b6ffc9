#!/usr/bin/env bash
# Builds the npm package `strongroom` (bindings/wasm/pkg/) from the
# strongroom-wasm crate, installing its toolchain on a fresh machine first.
# Recipe: ../shared/docs/TOOLCHAINS.md, "WebAssembly": Debian's rustc-web
# with rust-web-src and -Zbuild-std, wasm-ld-22, and a wasm-bindgen CLI
# pinned to the crate's exact wasm-bindgen version.
#
#   scripts/build-wasm.sh            # build (installs what is missing)
#   SKIP_INSTALL=1 scripts/build-wasm.sh   # fail instead of installing
#   WASM_NAMES=1 scripts/build-wasm.sh   # also the module with function names,
#       # target/wasm/strongroom_bg.names.wasm, for scripts/wasm-size.py
#   FEATURES="curve-p521" scripts/build-wasm.sh
#       # a smaller package: only the listed cargo features of strongroom-wasm
#       # (default: rsa curve-p521 curve-secp256k1; FEATURES="" for none),
#       # see bindings/wasm/Cargo.toml and bindings/wasm/js/README.md
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CRATE=bindings/wasm
PKG=$CRATE/pkg
TARGET_DIR=$ROOT/target/wasm
start=$(date +%s)

# The version the crate pins (`wasm-bindgen = "=X.Y.Z"`).
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' $CRATE/Cargo.toml)
[ -n "$WB_VERSION" ] || { echo "cannot read the pinned wasm-bindgen version" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian's wasm-capable compiler, its std source and the wasm linker.
if [ ! -x /usr/bin/wasm-ld-22 ] || [ ! -x /usr/bin/cargo ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  [ -z "${SKIP_INSTALL:-}" ] || { echo "wasm toolchain missing" >&2; exit 1; }
  echo "== installing rustc-web cargo-web rust-web-src lld-22 (apt)"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y rustc-web cargo-web rust-web-src lld-22
fi

# 2. The wasm-bindgen CLI matching the crate exactly.
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WB_VERSION" ]; then
  [ -z "${SKIP_INSTALL:-}" ] || { echo "wasm-bindgen $WB_VERSION missing" >&2; exit 1; }
  echo "== installing wasm-bindgen-cli $WB_VERSION"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION" --locked
fi

# 3. Binaryen's wasm-opt (-Oz), from npm, pinned: Debian's (version 108)
# exports the wrong table from a module with two tables, as this one has
# (functions and externrefs), and the package then fails to load.
BINARYEN_VERSION=132.0.0
BINARYEN_DIR=$TARGET_DIR/binaryen
WASM_OPT=$BINARYEN_DIR/node_modules/.bin/wasm-opt
if [ "$(node -p "require('$BINARYEN_DIR/node_modules/binaryen/package.json').version" 2>/dev/null || true)" != "$BINARYEN_VERSION" ]; then
  if [ -n "${SKIP_INSTALL:-}" ]; then
    WASM_OPT=
  else
    echo "== installing binaryen $BINARYEN_VERSION (npm)"
    mkdir -p "$BINARYEN_DIR"
    npm install --prefix "$BINARYEN_DIR" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
  fi
fi

# 4. Build with Debian's cargo and rustc (rustup's shims come first on PATH).
# Size-optimized release profile, set here so native builds are unaffected.
# For size (scripts/wasm-size.py shows where the bytes go):
# - `panic = "immediate-abort"` (std rebuilt with it too) drops the panic
#   message formatting and location tables: a panic, which the code never
#   reaches on purpose (bad input is a KMS error), traps the module;
# - `-Zfmt-debug=none -Zlocation-detail=none`: `{:?}` formats nothing (no
#   message of the package may use it: `{:?}` in core is for tests only)
#   and no source locations are embedded;
# - the compact (rolled-loop) software SHA-2 and AES of the RustCrypto
#   crates (their documented `sha2_backend_soft` / `aes_backend_soft` cfgs);
# - `-Zinline-mir=yes`: rustc's MIR inliner, which `-O` builds run but
#   opt-level "z" leaves off, inlines small functions in MIR, before
#   LLVM (-15.3 KB, measured in benches/RESULTS.md);
# - std's `optimize_for_size` feature (smaller sort, integer formatting and
#   string search in core/alloc; -7.8 KB);
# - `k256` compiled with `-Zinline-llvm=no` (a profile rustflag of that
#   package alone): its field arithmetic is `#[inline(always)]`, so every
#   square root, point addition and doubling carried its own unrolled
#   copies of the field multiplication (-46 KB; it made secp256k1 signing
#   and verifying in wasm ≈ 1.6x the CPU time, which `-Zinline-mir=yes`
#   more than won back; other crates' code grows without inlining; all
#   measured in benches/RESULTS.md);
# - `strongroom-core` and `serde_json` compiled with
#   `-Zinline-mir-hint-threshold=50` (profile rustflags of those packages
#   alone): the MIR inliner takes `#[inline]` callees up to cost 50 there
#   instead of 100 (-1.6 and -0.8 KB, same CPU time; other thresholds, and
#   the setting for strongroom-wasm, der or crypto-bigint, give a bigger
#   module: benches/RESULTS.md).
# The function names stay in cargo's output for scripts/wasm-size.py; the
# package's module has none.
FEATURE_ARGS=()
if [ -n "${FEATURES+set}" ]; then
  FEATURE_ARGS=(--no-default-features --features "$FEATURES")
fi
echo "== cargo build (wasm32-unknown-unknown, -Zbuild-std${FEATURES+, features: \"$FEATURES\"})"
build_start=$(date +%s)
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc \
RUSTFLAGS='-C linker=wasm-ld-22 --cfg getrandom_backend="wasm_js" -Zfmt-debug=none -Zlocation-detail=none -Zinline-mir=yes --cfg sha2_backend_soft="compact" --cfg aes_backend_soft="compact"' \
CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_PANIC=immediate-abort \
CARGO_PROFILE_RELEASE_DEBUG=false \
CARGO_PROFILE_RELEASE_STRIP=false \
  /usr/bin/cargo build --release --target wasm32-unknown-unknown \
  -Zpanic-immediate-abort -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
  -Zprofile-rustflags --config 'profile.release.package.k256.rustflags = ["-Zinline-llvm=no"]' \
  --config 'profile.release.package.strongroom-core.rustflags = ["-Zinline-mir-hint-threshold=50"]' \
  --config 'profile.release.package.serde_json.rustflags = ["-Zinline-mir-hint-threshold=50"]' \
  --target-dir "$TARGET_DIR" -p strongroom-wasm "${FEATURE_ARGS[@]}"
build_end=$(date +%s)
WASM=$TARGET_DIR/wasm32-unknown-unknown/release/strongroom_wasm.wasm

# 5. JS glue: CommonJS for Node, ES module for browsers and bundlers.
rm -rf "$PKG"
mkdir -p "$PKG/node" "$PKG/web"
wasm-bindgen --target nodejs --weak-refs --remove-name-section --out-dir "$PKG/node" --out-name strongroom "$WASM"
wasm-bindgen --target web --weak-refs --remove-name-section --out-dir "$PKG/web" --out-name strongroom "$WASM"

# wasm-opt: functions that are the same, or differ only in constants, merged
# into one first (`--merge-similar-functions` passes the constants as
# arguments), then -Oz, repeated while it still shrinks the module
# (`--converge`: −619 bytes, −363 gzipped, benches/RESULTS.md); the producers
# and target-features sections (tool metadata, unused when the module runs)
# dropped.
WASM_OPT_ARGS=(--duplicate-function-elimination --merge-similar-functions -Oz --converge
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue
  --strip-producers --strip-target-features)
if [ -n "$WASM_OPT" ]; then
  echo "== wasm-opt ${WASM_OPT_ARGS[*]:0:4}"
  "$WASM_OPT" "${WASM_OPT_ARGS[@]}" "$PKG/node/strongroom_bg.wasm" -o "$PKG/node/strongroom_bg.opt.wasm"
  # Both targets get the same module from wasm-bindgen: optimize it once.
  if cmp -s "$PKG/node/strongroom_bg.wasm" "$PKG/web/strongroom_bg.wasm"; then
    cp "$PKG/node/strongroom_bg.opt.wasm" "$PKG/web/strongroom_bg.wasm"
  else
    "$WASM_OPT" "${WASM_OPT_ARGS[@]}" "$PKG/web/strongroom_bg.wasm" -o "$PKG/web/strongroom_bg.wasm"
  fi
  mv "$PKG/node/strongroom_bg.opt.wasm" "$PKG/node/strongroom_bg.wasm"
  # WASM_NAMES=1: the same module with its function names kept, for
  # scripts/wasm-size.py (where the package's bytes go, after wasm-bindgen
  # and wasm-opt); not part of the package.
  if [ -n "${WASM_NAMES:-}" ]; then
    echo "== the module with names: $TARGET_DIR/strongroom_bg.names.wasm"
    rm -rf "$TARGET_DIR/names"
    wasm-bindgen --target web --weak-refs --out-dir "$TARGET_DIR/names" --out-name strongroom "$WASM"
    "$WASM_OPT" "${WASM_OPT_ARGS[@]}" -g "$TARGET_DIR/names/strongroom_bg.wasm" -o "$TARGET_DIR/strongroom_bg.names.wasm"
    rm -rf "$TARGET_DIR/names"
  fi
else
  echo "== binaryen not installed: the module is not post-optimized"
fi

# wasm-bindgen writes the inline JS snippet (the StrongroomError class) as an
# ES module and require()s it from the CommonJS glue, which only Node >= 20.19
# accepts; make the Node copy CommonJS so every supported Node loads it.
for f in "$PKG"/node/snippets/*/inline*.js; do
  names=$(sed -n 's/^export \(class\|function\) \([A-Za-z0-9_]*\).*/\2/p' "$f" | paste -sd, -)
  sed -i 's/^export \(class\|function\) /\1 /' "$f"
  echo "module.exports = { $names };" >> "$f"
done

# 6. Package entry points and metadata.
cp -r $CRATE/js/. "$PKG/"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
sed "s/@VERSION@/$VERSION/" $CRATE/js/package.json > "$PKG/package.json"
cp LICENSE* "$PKG/" 2>/dev/null || true

size=$(stat -c %s "$PKG/web/strongroom_bg.wasm")
end=$(date +%s)
echo "== built $PKG: strongroom_bg.wasm $size bytes ($((size / 1024)) KiB); cargo build $((build_end - build_start)) s, total $((end - start)) s"
echo "   (where the bytes go: scripts/wasm-size.py $WASM)"
