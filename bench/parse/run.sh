#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build bench-parse against an optimized build of the dockerfile module and run it.
#   bench/parse/run.sh [BUILD_DIR] [LINES]   (default: build-bench, 10000)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-bench}
lines=${2:-10000}
if [ ! -d "$build" ]; then
	meson setup "$build" "$src" --buildtype=release >/dev/null
fi
meson compile -C "$build" src/lib/dockerfile/kiln-dockerfile src/lib/base/kiln-base >/dev/null
cc -O2 -I"$src/src/lib" -o "$build/bench-parse" "$src/bench/parse/bench-parse.c" \
	"$build/src/lib/dockerfile/libkiln-dockerfile.a" "$build/src/lib/base/libkiln-base.a" \
	$(pkg-config --libs jansson libcrypto)
"$build/bench-parse" "$lines" "$build/bench-parse.Dockerfile"
echo "the file: $build/bench-parse.Dockerfile (kiln parse -f it to time the CLI)"
