#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build bench-expand against an optimized build of the shell module and run it.
#   bench/expand/run.sh [BUILD_DIR] [WORDS]   (default: build-bench, 100000)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-bench}
words=${2:-100000}
if [ ! -d "$build" ]; then
	meson setup "$build" "$src" --buildtype=release >/dev/null
fi
meson compile -C "$build" src/lib/shell/kiln-shell src/lib/base/kiln-base >/dev/null
cc -O2 -I"$src/src/lib" -o "$build/bench-expand" "$src/bench/expand/bench-expand.c" \
	"$build/src/lib/shell/libkiln-shell.a" "$build/src/lib/base/libkiln-base.a" \
	$(pkg-config --libs libcrypto)
"$build/bench-expand" "$words"
