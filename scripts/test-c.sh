#!/usr/bin/env bash
# The C library's test suite, on a fresh machine:
#   - installs the pinned cbindgen (skipped when `cbindgen --version` matches),
#   - builds libstrongroom (strongroom-ffi) and the CLI, runs the crate's unit tests,
#   - regenerates include/strongroom.h and fails if it changed,
#   - compiles tests/c/*.c with gcc -std=c11 -Wall -Wextra -Werror and runs
#     them plain, under AddressSanitizer + UBSan and under Valgrind (zero errors,
#     zero definite/indirect leaks), including the C <-> CLI interop check,
#   - checks constant memory of streaming envelope encryption (plain only),
#   - checks the SONAME (libstrongroom.so.$STRONGROOM_SOVERSION),
#   - links statically, checks the header as C++, and installs with
#     `make install PREFIX=...` (with the SONAME symlinks) to build the
#     example through pkg-config.
# The last line is "N passed, M failed"; the exit status is 0 only when M is 0.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
ROOT=$PWD
CBINDGEN_VERSION=0.29.4
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -pthread -I"$ROOT/include")
VALGRIND=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect)

passed=0
failed=0
failures=()
start_all=$SECONDS
step() { printf '\n==== %s\n' "$*"; }
# run NAME COMMAND...: one test; its output is shown, its status counted.
run() {
    local name=$1
    shift
    local t0=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        printf -- '--- PASS %s (%ss)\n' "$name" $((SECONDS - t0))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf -- '--- FAIL %s (%ss)\n' "$name" $((SECONDS - t0))
    fi
}

step "cbindgen $CBINDGEN_VERSION"
if [ "$(cbindgen --version 2>/dev/null || true)" = "cbindgen $CBINDGEN_VERSION" ]; then
    echo "cbindgen $CBINDGEN_VERSION already installed"
else
    cargo install cbindgen --version "=$CBINDGEN_VERSION" --locked
fi
for tool in gcc valgrind make pkg-config readelf; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool (apt-get install -y $tool)" >&2; exit 1; }
done

step "cargo build -p strongroom-ffi -p strongroom-cli"
cargo build -p strongroom-ffi -p strongroom-cli
LIB=$ROOT/target/debug
CLI=$ROOT/target/debug/strongroom
# Programs record the SONAME (libstrongroom.so.N) and load that name; in the
# build directory it is a symlink to the library cargo wrote, as after an install.
SOVERSION=$(sed -n 's/^#define STRONGROOM_SOVERSION \([0-9]*\)$/\1/p' include/strongroom.h)
ln -sf libstrongroom.so "$LIB/libstrongroom.so.$SOVERSION"

step "unit tests of strongroom-ffi (result codes, version macros, panic guard)"
run "cargo test -p strongroom-ffi" cargo test -p strongroom-ffi --quiet

step "header: regenerate and compare with the committed one"
(cd bindings/c && cbindgen --quiet --config cbindgen.toml --output ../../include/strongroom.h)
header_unchanged() {
    git ls-files --error-unmatch include/strongroom.h >/dev/null &&
        git diff --exit-code -- include/
}
run "header is committed and up to date" header_unchanged
if command -v g++ >/dev/null; then
    run "header compiles as C++" g++ -std=c++11 -Wall -Wextra -Werror -fsyntax-only -x c++ include/strongroom.h
else
    echo "g++ not installed: skipping the C++ parse of the header"
fi

step "compile tests/c (plain, AddressSanitizer + UBSan, static)"
BUILD=$ROOT/target/ctest
mkdir -p "$BUILD"
PROGRAMS=(test_api test_threads test_envelope test_envelope_message test_asymmetric test_access test_export test_anchor test_misuse example interop)
compile_all() {
    local p
    for p in "${PROGRAMS[@]}"; do
        gcc "${CFLAGS[@]}" "tests/c/$p.c" -L"$LIB" -lstrongroom -Wl,-rpath,"$LIB" -o "$BUILD/$p" || return 1
        gcc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer "tests/c/$p.c" \
            -L"$LIB" -lstrongroom -Wl,-rpath,"$LIB" -o "$BUILD/$p.asan" || return 1
    done
    # The static library, with the native libraries rustc asks for.
    gcc "${CFLAGS[@]}" tests/c/test_api.c "$LIB/libstrongroom.a" -lm -lrt -lpthread -lutil -ldl \
        -o "$BUILD/test_api.static"
}
run "compile C tests with -std=c11 -Wall -Wextra -Werror" compile_all

export TMPDIR=${TMPDIR:-/tmp}
for mode in plain asan valgrind; do
    step "C tests: $mode"
    case $mode in
        plain) runner=() suffix="" ;;
        asan) runner=() suffix=".asan" ;;
        valgrind) runner=("${VALGRIND[@]}") suffix="" ;;
    esac
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
    ws="$TMPDIR/sr-example-$$-$mode.db"
    run "test_api ($mode)" "${runner[@]}" "$BUILD/test_api$suffix"
    run "test_threads ($mode)" "${runner[@]}" "$BUILD/test_threads$suffix"
    run "test_envelope ($mode)" "${runner[@]}" "$BUILD/test_envelope$suffix"
    run "test_envelope_message ($mode)" "${runner[@]}" "$BUILD/test_envelope_message$suffix"
    run "test_asymmetric ($mode)" "${runner[@]}" "$BUILD/test_asymmetric$suffix"
    run "test_access ($mode)" "${runner[@]}" "$BUILD/test_access$suffix"
    run "test_export ($mode)" "${runner[@]}" "$BUILD/test_export$suffix"
    run "test_anchor ($mode)" "${runner[@]}" "$BUILD/test_anchor$suffix"
    run "test_misuse ($mode)" "${runner[@]}" "$BUILD/test_misuse$suffix"
    run "example ($mode)" "${runner[@]}" "$BUILD/example$suffix" "$ws"
    rm -f "$ws" "$ws-wal" "$ws-shm" "$ws-signal" "$ws.audit.jsonl"
    run "cli_interop ($mode)" tests/c/cli_interop.sh "$CLI" "${runner[@]}" "$BUILD/interop$suffix"
done

step "constant memory of streaming envelope encryption (no sanitizer)"
memory_check() {
    gcc "${CFLAGS[@]}" tests/c/test_envelope_memory.c -L"$LIB" -lstrongroom -Wl,-rpath,"$LIB" \
        -o "$BUILD/test_envelope_memory" && "$BUILD/test_envelope_memory" 64
}
run "test_envelope_memory (64 MiB)" memory_check

step "SONAME"
soname_check() {
    [ -n "$SOVERSION" ] || { echo "no STRONGROOM_SOVERSION in the header" >&2; return 1; }
    local soname
    soname=$(readelf -d "$LIB/libstrongroom.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    echo "SONAME: $soname"
    [ "$soname" = "libstrongroom.so.$SOVERSION" ] || return 1
    # A program linked with -lstrongroom needs the SONAME, not the bare name.
    readelf -d "$BUILD/test_api" | grep -q "Shared library: \[libstrongroom.so.$SOVERSION\]"
}
run "SONAME is libstrongroom.so.$SOVERSION" soname_check

step "static library"
run "test_api (static link)" "$BUILD/test_api.static"

step "make install PREFIX=... and build the example through pkg-config"
install_and_build() {
    local prefix
    prefix=$(mktemp -d)
    make -s -C bindings/c install PREFIX="$prefix" PROFILE=debug >/dev/null || return 1
    # libstrongroom.so -> libstrongroom.so.N -> libstrongroom.so.VERSION (the file).
    local version
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
    [ -f "$prefix/lib/libstrongroom.so.$version" ] && [ ! -L "$prefix/lib/libstrongroom.so.$version" ] || return 1
    [ "$(readlink "$prefix/lib/libstrongroom.so.$SOVERSION")" = "libstrongroom.so.$version" ] || return 1
    [ "$(readlink "$prefix/lib/libstrongroom.so")" = "libstrongroom.so.$SOVERSION" ] || return 1
    ls -l "$prefix/lib" | grep libstrongroom.so
    local flags
    flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs strongroom) || return 1
    echo "pkg-config --cflags --libs strongroom: $flags"
    # shellcheck disable=SC2086 # pkg-config output is a list of words
    cc tests/c/example.c $flags -o "$prefix/example" || return 1
    LD_LIBRARY_PATH="$prefix/lib" "$prefix/example" "$prefix/example.db" || return 1
    make -s -C bindings/c uninstall PREFIX="$prefix" >/dev/null || return 1
    if ls "$prefix/lib"/libstrongroom* >/dev/null 2>&1; then
        echo "make uninstall left files behind" >&2
        return 1
    fi
    rm -rf "$prefix"
}
run "install + pkg-config + example" install_and_build

echo
echo "C suite took $((SECONDS - start_all))s"
if [ "$failed" -ne 0 ]; then
    printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
