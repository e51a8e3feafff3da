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
meson compile -C "$build" kiln >/dev/null
if [ ! -f "$ctx/.dockerignore" ]; then
	rm -rf "$ctx"
	python3 "$src/bench/walk/make-tree.py" "$ctx" "$files"
fi
kiln=$build/kiln

echo "context: $("$kiln" context --top 0 "$ctx" | sed -n 's/^entries: *//p') sent," \
	"$(find "$ctx" | wc -l) entries on disk"

# find lists every entry without stat'ing it (d_type); find -printf %s has to
# stat each entry, as kiln does for what it sends. kiln also matches every
# entry it visits against the 100 patterns.
hyperfine --warmup 3 --min-runs 20 -N --export-json "$out" \
	-n find "find $ctx" \
	-n find-stat "find $ctx -printf %s" \
	-n "kiln context --list" "$kiln context --list $ctx" \
	-n "kiln context" "$kiln context $ctx"

python3 - "$out" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
find = r["find"]["mean"]
for name in ["find-stat", "kiln context --list", "kiln context"]:
    m = r[name]["mean"]
    print(f"{name:22s} {m * 1000:7.1f} ms  = {m / find:4.2f} x find ({find * 1000:.1f} ms)")
EOF
