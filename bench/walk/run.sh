#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Walk a 50,000-file context with a 100-pattern .dockerignore: kiln against
# find on the same tree, in the same run (hyperfine), and print the ratio.
#   bench/walk/run.sh [BUILD_DIR] [FILES]   (default: build-bench, 50000)
# The tree is made once under BUILD_DIR/bench-walk-ctx (make-tree.py).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-bench}
files=${2:-50000}
ctx=$build/bench-walk-ctx
out=$build/bench-walk.json

if [ ! -d "$build" ]; then
	meson setup "$build" "$src" --buildtype=release >/dev/null
fi
meson compile -C "$build" kiln src/lib/ignore/kiln-ignore src/lib/dockerfile/kiln-dockerfile \
	src/lib/shell/kiln-shell src/lib/base/kiln-base >/dev/null
cc -O2 -I"$src/src/lib" -o "$build/bench-walk" "$src/bench/walk/bench-walk.c" \
	"$build/src/lib/ignore/libkiln-ignore.a" "$build/src/lib/dockerfile/libkiln-dockerfile.a" \
	"$build/src/lib/shell/libkiln-shell.a" "$build/src/lib/base/libkiln-base.a" \
	$(pkg-config --libs jansson libcrypto)
if [ ! -f "$ctx/.dockerignore" ]; then
	rm -rf "$ctx"
	python3 "$src/bench/walk/make-tree.py" "$ctx" "$files"
fi
kiln=$build/kiln

echo "context: $("$kiln" context --top 0 "$ctx" | sed -n 's/^entries: *//p') sent," \
	"$(find "$ctx" | wc -l) entries on disk"

# find lists every entry without stat'ing it (d_type); find -printf %s has to
# stat each entry, as kiln does for what it sends. kiln also matches every
# entry it visits against the 100 patterns. bench-walk is the walk alone
# (ignore module only, paths printed like find's); the kiln binary adds the
# start-up of its ~50 shared libraries and the report.
hyperfine --warmup 3 --min-runs 20 -N --export-json "$out" \
	-n find "find $ctx" \
	-n find-stat "find $ctx -printf %s" \
	-n bench-walk "$build/bench-walk $ctx" \
	-n "kiln context --list" "$kiln context --list $ctx" \
	-n "kiln context" "$kiln context $ctx"

python3 - "$out" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
find = r["find"]
cpu = lambda x: x["user"] + x["system"]
print(f"{'':22s} {'wall (mean)':>18s}   {'CPU (user+sys)':>18s}")
for name in ["find", "find-stat", "bench-walk", "kiln context --list", "kiln context"]:
    x = r[name]
    print(f"{name:22s} {x['mean'] * 1000:7.1f} ms {x['mean'] / find['mean']:5.2f}x   "
          f"{cpu(x) * 1000:7.1f} ms {cpu(x) / cpu(find):5.2f}x")
EOF
