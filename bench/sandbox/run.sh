#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Sandbox start-up: `true` run by kiln's sandbox over a plain busybox
# directory, over a one-layer overlay snapshot, over a 100-layer one, and by
# podman (runc) over the same directory. Prints hyperfine's table.
#
#   bench/sandbox/run.sh [KILN]
#
# KILN defaults to build/kiln. Needs root, hyperfine, busybox, tar; podman is
# skipped when missing. RUNS (default 20) sets hyperfine's --runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kiln=${1:-$here/../../build/kiln}
kiln=$(cd "$(dirname "$kiln")" && pwd)/$(basename "$kiln")
runs=${RUNS:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-sandbox.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KILN_ROOT="$work/store"

mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$work/rootfs/bin/$a"
done
tar -C "$work/rootfs" -cf "$work/base.tar" .
layers="--layer $work/base.tar"
i=0
while [ $i -lt 99 ]; do
	mkdir -p "$work/l/$i"
	echo $i >"$work/l/$i/f$i"
	tar -C "$work/l/$i" -cf "$work/l/$i.tar" .
	layers="$layers --layer $work/l/$i.tar"
	i=$((i + 1))
done
# unpack everything once, outside the measurement
# shellcheck disable=SC2086
"$kiln" debug sandbox $layers -- true

set -- \
	-n "kiln, directory" "$kiln debug sandbox $work/rootfs true" \
	-n "kiln, 1-layer overlay" "$kiln debug sandbox --layer $work/base.tar true" \
	-n "kiln, 100-layer overlay" "$kiln debug sandbox $layers true" \
	-n "kiln version (process start only)" "$kiln version"
if command -v podman >/dev/null 2>&1; then
	n=$(ulimit -Hn)
	set -- "$@" -n "podman (runc), directory" \
		"podman run --rm --runtime runc --ulimit nofile=$n:$n --ulimit nproc=32768:32768 --network none --rootfs $work/rootfs true"
fi
hyperfine --warmup 2 --runs "$runs" -N "$@"
