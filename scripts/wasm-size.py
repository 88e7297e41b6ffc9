#!/usr/bin/env python3
"""Where the bytes of a WebAssembly module go: section sizes, and code size
per crate and per function from the module's name section.

    scripts/wasm-size.py target/wasm/wasm32-unknown-unknown/release/strongroom_wasm.wasm [--top N]
    scripts/wasm-size.py target/wasm/strongroom_bg.names.wasm --top 40 --monos 30

scripts/build-wasm.sh keeps the function names in cargo's output (the
package's module has none), so run this on that file; that is code before
wasm-bindgen (which drops its `__wbindgen_describe_*` functions) and
wasm-opt. `WASM_NAMES=1 scripts/build-wasm.sh` also writes the package's
own module with its names kept (`target/wasm/strongroom_bg.names.wasm`,
same code, byte for byte, plus a name section): the figures that count.
Crates are read from the Rust symbol names (v0 `_R` or legacy `_ZN`
mangling, or the demangled names wasm-bindgen writes: the first crate
named, so a trait impl counts for the crate of its type); code that LTO or
wasm-opt inlined is counted in the function it was inlined into. v0 names
are demangled with `llvm-cxxfilt` when it is on PATH.

`--monos N` lists the generic functions compiled more than once (the
instances of one function whose type arguments differ), largest total
first, with what all but the largest instance add.
"""
import argparse
import collections
import re
import shutil
import subprocess
import sys

SECTIONS = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
            6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
            12: "datacount"}


def leb(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def sections(buf):
    if buf[:4] != b"\0asm":
        sys.exit("not a WebAssembly module")
    pos = 8
    while pos < len(buf):
        sid = buf[pos]
        size, body = leb(buf, pos + 1)
        yield sid, body, size
        pos = body + size


def custom_name(buf, body):
    n, p = leb(buf, body)
    return buf[p:p + n].decode("utf-8", "replace"), p + n


def imported_functions(buf, body):
    count, p = leb(buf, body)
    funcs = 0
    for _ in range(count):
        for _ in range(2):  # module, field
            n, p = leb(buf, p)
            p += n
        kind = buf[p]
        p += 1
        if kind == 0:
            _, p = leb(buf, p)
            funcs += 1
        elif kind == 1:  # table: reftype, limits
            p += 1
            flags, p = leb(buf, p)
            _, p = leb(buf, p)
            if flags & 1:
                _, p = leb(buf, p)
        elif kind == 2:  # memory: limits
            flags, p = leb(buf, p)
            _, p = leb(buf, p)
            if flags & 1:
                _, p = leb(buf, p)
        elif kind == 3:  # global: valtype, mutability
            p += 2
        else:
            sys.exit(f"unknown import kind {kind}")
    return funcs


def function_names(buf, start, end):
    names = {}
    p = start
    while p < end:
        sub = buf[p]
        size, p = leb(buf, p + 1)
        if sub == 1:
            count, q = leb(buf, p)
            for _ in range(count):
                idx, q = leb(buf, q)
                n, q = leb(buf, q)
                names[idx] = buf[q:q + n].decode("utf-8", "replace")
                q += n
        p += size
    return names


def v0_crates(name):
    """The crate names in a v0-mangled symbol (`C<disambiguator>_<len><name>`), in order."""
    out = []
    for m in re.finditer(r"C(?:s[0-9A-Za-z]*_)?(\d+)", name):
        k = int(m.group(1))
        ident = name[m.end():m.end() + k]
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident):
            out.append(ident)
    return out


def crate_of(name):
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\[[0-9a-f]+\]", name)
    if m:  # demangled by wasm-bindgen: crate[hash]::path
        return m.group(1)
    if name.startswith("_R"):
        crates = v0_crates(name)
        return crates[0] if crates else "?"
    m = re.match(r"_ZN(.*)E$", name)
    if not m:
        return "(no Rust name: wasm-bindgen glue, exports)"
    rest = m.group(1)
    n = re.match(r"(\d+)", rest)
    first = rest[len(n.group(1)):len(n.group(1)) + int(n.group(1))]
    first = first.lstrip("_").replace("$LT$", "").replace("$u20$", " ").replace("$RF$", "")
    first = first.lstrip("&")
    return first.split("..")[0].split(" ")[0] or "?"


def demangle(name):
    m = re.match(r"_ZN(.*)E$", name)
    if not m:
        return name
    rest, parts = m.group(1), []
    while rest:
        n = re.match(r"(\d+)", rest)
        if not n:
            break
        k = int(n.group(1))
        parts.append(rest[len(n.group(1)):len(n.group(1)) + k])
        rest = rest[len(n.group(1)) + k:]
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    s = "::".join(parts)
    for a, b in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("..", "::"),
                 ("$C$", ","), ("$u7b$", "{"), ("$u7d$", "}"), ("$BP$", "*"), ("$u27$", "'")):
        s = s.replace(a, b)
    return s


def demangle_all(names):
    """`names` (index -> symbol) with v0 symbols demangled by llvm-cxxfilt."""
    tool = shutil.which("llvm-cxxfilt") or shutil.which("llvm-cxxfilt-22")
    v0 = [i for i, n in names.items() if n.startswith("_R")]
    if not tool or not v0:
        return names
    out = subprocess.run([tool], input="\n".join(names[i] for i in v0), capture_output=True,
                         text=True, check=False).stdout.split("\n")
    if len(out) < len(v0):
        return names
    named = dict(names)
    for i, d in zip(v0, out):
        named[i] = d
    return named


def generic_base(name):
    """`name` with the type arguments of its turbofish (`::<...>`) elided."""
    out, i = [], 0
    while i < len(name):
        if name.startswith("::<", i):
            j, depth = i + 3, 1
            while j < len(name) and depth:
                depth += {"<": 1, ">": -1}.get(name[j], 0)
                j += 1
            out.append("::<_>")
            i = j
        else:
            out.append(name[i])
            i += 1
    return re.sub(r"\[[0-9a-f]+\]", "", "".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wasm")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--monos", type=int, default=0, metavar="N")
    args = ap.parse_args()
    buf = open(args.wasm, "rb").read()
    total = len(buf)
    print(f"{args.wasm}: {total} bytes")
    n_imported = 0
    bodies = []
    names = {}
    for sid, body, size in sections(buf):
        label = SECTIONS.get(sid, str(sid))
        if sid == 0:
            cname, _ = custom_name(buf, body)
            label = f"custom '{cname}'"
            if cname == "name":
                _, p = custom_name(buf, body)
                names = function_names(buf, p, body + size)
        print(f"  section {label:<28} {size:>9} bytes {100 * size / total:5.1f} %")
        if sid == 2:
            n_imported = imported_functions(buf, body)
        if sid == 10:
            count, p = leb(buf, body)
            for i in range(count):
                fsize, q = leb(buf, p)
                bodies.append((n_imported + i, q + fsize - p))
                p = q + fsize
    if not names:
        print("no name section: build without stripping to see functions and crates")
        return
    code = sum(s for _, s in bodies)
    raw_names = names
    names = demangle_all(names)
    by_crate = collections.Counter()
    for idx, size in bodies:
        by_crate[crate_of(raw_names.get(idx, "?"))] += size
    print(f"\ncode by crate ({code} bytes of function bodies):")
    for crate, size in by_crate.most_common(args.top):
        print(f"  {size:>9} {100 * size / code:5.1f} %  {crate}")
    print(f"\nlargest functions:")
    for idx, size in sorted(bodies, key=lambda x: -x[1])[:args.top]:
        print(f"  {size:>9}  {demangle(names.get(idx, '?'))[:140]}")
    if args.monos:
        groups = collections.defaultdict(list)
        for idx, size in bodies:
            groups[generic_base(demangle(names.get(idx, "?")))].append(size)
        rows = sorted(((sum(v), len(v), sum(v) - max(v), k) for k, v in groups.items()
                       if len(v) > 1), reverse=True)
        print("\ngeneric functions compiled more than once (total, instances, "
              "all but the largest):")
        for total_size, n, extra, base in rows[:args.monos]:
            print(f"  {total_size:>9} {n:>4} {extra:>9}  {base[:130]}")


if __name__ == "__main__":
    main()
