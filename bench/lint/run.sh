#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln lint throughput (Dockerfiles per second) over the lint corpus,
# against the npm linters dockerfilelint and dockerfile-utils, in one run.
#
#   bench/lint/run.sh [KILN] [COPIES]
#
# KILN defaults to build/kiln; the corpus (tests/lint-corpus, every
# Dockerfile) is copied COPIES times (default 200) into a scratch directory
# so that one run lints a few thousand files. The npm packages are installed
# into $KILN_BENCH_NPM (default /var/tmp/kiln-bench-npm), never into the
# repository. Each tool lints all files in one process; the best of three
# runs counts. Needs node and npm.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
KILN=${1:-$root/build/kiln}
COPIES=${2:-200}
NPMDIR=${KILN_BENCH_NPM:-/var/tmp/kiln-bench-npm}

if [ ! -d "$NPMDIR/node_modules/dockerfilelint" ] || [ ! -d "$NPMDIR/node_modules/dockerfile-utils" ]; then
	mkdir -p "$NPMDIR"
	npm install --silent --no-audit --no-fund --prefix "$NPMDIR" dockerfilelint dockerfile-utils >/dev/null
fi

export NODE_PATH="$NPMDIR/node_modules"
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
i=0
while [ $i -lt "$COPIES" ]; do
	for f in "$root"/tests/lint-corpus/*/Dockerfile "$root"/tests/lint-corpus/*/services/*/Dockerfile; do
		n=$((n + 1))
		cp "$f" "$work/$n.Dockerfile"
	done
	i=$((i + 1))
done
files=$(ls "$work"/*.Dockerfile)

now() { date +%s%N; }

# best wall time of 3 runs, in ms
measure() {
	best=""
	for _ in 1 2 3; do
		t0=$(now)
		"$@" >/dev/null || { echo >&2 "failed: $1 ..."; exit 1; }
		t1=$(now)
		t=$(((t1 - t0) / 1000000))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
	done
	echo "$best"
}

report() {
	ms=$2
	[ "$ms" -gt 0 ] || ms=1
	rate=$((n * 1000 / ms))
	printf "%-44s %6d files %8d ms %10d files/s\n" "$1" "$n" "$ms" "$rate"
	eval "rate_$3=$rate"
}

echo "corpus: $n Dockerfiles ($COPIES copies of tests/lint-corpus)"
# shellcheck disable=SC2086
report "kiln lint (rules, no context, no ShellCheck)" \
	"$(measure "$KILN" lint --no-fail --no-context --no-shellcheck -f json $files)" kiln
# shellcheck disable=SC2086
report "dockerfilelint $(node -p "require('$NPMDIR/node_modules/dockerfilelint/package.json').version")" \
	"$(measure node "$here/peers.js" dockerfilelint $files)" dfl
# shellcheck disable=SC2086
report "dockerfile-utils $(node -p "require('$NPMDIR/node_modules/dockerfile-utils/package.json').version")" \
	"$(measure node "$here/peers.js" dockerfile-utils $files)" dfu
echo "kiln / dockerfilelint: $((rate_kiln / (rate_dfl > 0 ? rate_dfl : 1)))x;" \
	"kiln / dockerfile-utils: $((rate_kiln / (rate_dfu > 0 ? rate_dfu : 1)))x"

if command -v shellcheck >/dev/null 2>&1; then
	# ShellCheck dominates when it runs; fewer files keep the run short
	small=$(ls "$work"/*.Dockerfile | head -n 90)
	n_all=$n
	n=90
	# shellcheck disable=SC2086
	report "kiln lint with ShellCheck (1 process/file)" \
		"$(measure "$KILN" lint --no-fail --no-context -f json $small)" ksc
	n=$n_all
fi
