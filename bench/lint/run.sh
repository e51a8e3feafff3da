#!/bin/sh
# report() sets wall_<key>/cpu_<key> with eval; the file names are our own
# shellcheck disable=SC2154,SC2012
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
# runs counts, by wall-clock and by CPU time. Needs node, npm and /usr/bin/time.
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

# best of 3 runs: "wall_ms cpu_ms" (cpu = user + system, which a busy machine does not inflate)
measure() {
	best_w=""
	best_c=""
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >/dev/null ||
			{ echo >&2 "failed: $1 ..."; exit 1; }
		w=$(awk '{ printf "%d", $1 * 1000 }' "$work/time")
		c=$(awk '{ printf "%d", ($2 + $3) * 1000 }' "$work/time")
		if [ -z "$best_w" ] || [ "$w" -lt "$best_w" ]; then best_w=$w; fi
		if [ -z "$best_c" ] || [ "$c" -lt "$best_c" ]; then best_c=$c; fi
	done
	echo "$best_w $best_c"
}

# report NAME "WALL CPU" KEY: prints files/s by wall time and by CPU time
report() {
	# shellcheck disable=SC2086 # "WALL CPU" splits into two arguments
	set -- "$1" $2 "$3"
	w=$2
	c=$3
	[ "$w" -gt 0 ] || w=1
	[ "$c" -gt 0 ] || c=1
	printf "%-44s %6d files %7d ms wall %7d files/s %7d ms cpu %7d files/s\n" "$1" "$n" "$w" \
		$((n * 1000 / w)) "$c" $((n * 1000 / c))
	eval "wall_$4=$((n * 1000 / w)) cpu_$4=$((n * 1000 / c))"
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
echo "kiln / dockerfilelint: $((wall_kiln / wall_dfl))x wall, $((cpu_kiln / cpu_dfl))x cpu;" \
	"kiln / dockerfile-utils: $((wall_kiln / wall_dfu))x wall, $((cpu_kiln / cpu_dfu))x cpu"

if command -v shellcheck >/dev/null 2>&1; then
	# ShellCheck dominates when it runs; fewer files keep the run short
	small=$(ls "$work"/*.Dockerfile | head -n 90)
	n_all=$n
	n=90
	# shellcheck disable=SC2086
	report "kiln lint with ShellCheck (batched)" \
		"$(measure "$KILN" lint --no-fail --no-context -f json $small)" ksc
	n=$n_all
fi

# One process per file, as pre-commit hooks and editors call linters: the
# first 45 files, each tool started once per file.
ls "$work"/*.Dockerfile | head -n 45 >"$work/few"
cat >"$work/per-file.sh" <<'EOS'
list=$1
shift
while read -r f; do
	"$@" "$f" >/dev/null 2>&1 || true
done <"$list"
EOS
n_all=$n
n=45
per_file() {
	measure sh "$work/per-file.sh" "$work/few" "$@"
}
report "kiln lint, one process per file" "$(per_file "$KILN" lint --no-fail --no-context --no-shellcheck -f json)" pk
report "dockerfilelint CLI, one process per file" \
	"$(per_file "$NPMDIR/node_modules/.bin/dockerfilelint" -o json)" pdfl
report "dockerfile-utils CLI, one process per file" \
	"$(per_file "$NPMDIR/node_modules/.bin/dockerfile-utils" lint)" pdfu
echo "per file: kiln / dockerfilelint: $((wall_pk / wall_pdfl))x wall;" \
	"kiln / dockerfile-utils: $((wall_pk / wall_pdfu))x wall"
n=$n_all
