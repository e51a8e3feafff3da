#!/bin/sh
# report() and ratio() set variables with eval; the file names are our own
# shellcheck disable=SC2154,SC2012
# SPDX-License-Identifier: Apache-2.0
# kiln lint throughput (Dockerfiles per second) against the npm linters
# dockerfilelint and dockerfile-utils, all measured in the same run.
#
#   bench/lint/run.sh [KILN] [COPIES]
#
# KILN defaults to build/kiln. The corpus is bench/lint/corpus (39
# Dockerfiles written for this benchmark: the seed's stacks at the sizes
# real projects have, from 2 to 142 lines) plus tests/lint-corpus (9);
# "all files in one process" lints COPIES copies of it (default 50, 2,400
# files) so that every tool runs for a measurable time. The npm packages
# are installed into $KILN_BENCH_NPM (default /var/tmp/kiln-bench-npm),
# never into the repository. Each measurement is the best of $KILN_BENCH_RUNS
# runs (default 3) of bash's `time`, by CPU time (user + system, which a
# busy machine inflates less than wall time) and by wall time; the tools of
# a setting take turns, one run each per round.
#
# Settings, each tool run the way a user runs it:
#   1. one process per file (pre-commit hooks, editors, a CI step per
#      Dockerfile): each CLI once per corpus file, default output;
#   2. all files in one process: kiln lint FILE... against bench/lint/peers.js,
#      which loads each npm linter once and calls it on every file in one
#      node process, without output: the peers' best case (their CLIs are
#      slower, dockerfile-utils' takes one file, and dockerfilelint's stops
#      at the first file it throws on);
#   3. kiln's default, ShellCheck on RUN scripts: not like-for-like (the npm
#      linters run no ShellCheck), reported on its own.
# Settings 1 and 2 run kiln with --no-shellcheck: the like-for-like ones.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
KILN=${1:-$root/build/kiln}
COPIES=${2:-50}
NPMDIR=${KILN_BENCH_NPM:-/var/tmp/kiln-bench-npm}
RUNS=${KILN_BENCH_RUNS:-3}

if [ ! -d "$NPMDIR/node_modules/dockerfilelint" ] || [ ! -d "$NPMDIR/node_modules/dockerfile-utils" ]; then
	mkdir -p "$NPMDIR"
	npm install --silent --no-audit --no-fund --prefix "$NPMDIR" dockerfilelint dockerfile-utils >/dev/null
fi
export NODE_PATH="$NPMDIR/node_modules"
DFL="$NPMDIR/node_modules/.bin/dockerfilelint"
DFU="$NPMDIR/node_modules/.bin/dockerfile-utils"

work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/one" "$work/all"
n=0
for f in "$here"/corpus/*.Dockerfile "$root"/tests/lint-corpus/*/Dockerfile \
	"$root"/tests/lint-corpus/*/services/*/Dockerfile; do
	n=$((n + 1))
	cp "$f" "$work/one/$n.Dockerfile"
done
n_one=$n
i=0
while [ $i -lt "$COPIES" ]; do
	for f in "$work"/one/*.Dockerfile; do
		n=$((n + 1))
		cp "$f" "$work/all/$n.Dockerfile"
	done
	i=$((i + 1))
done
n_all=$((n - n_one))
lines=$(cat "$work"/one/*.Dockerfile | wc -l)
all=$(ls "$work"/all/*.Dockerfile)

# once KEY CMD...: run CMD once; best_wall_KEY and best_cpu_KEY keep the best so far (ms).
# A setting's commands run in rounds, each once per round, so that no tool is
# always the one timed right after another's heavy run (the kiln runs right
# after 96 node processes took 88 ms, 59 ms on their own).
once() {
	key=$1
	shift
	# bash's time keyword: milliseconds, where /usr/bin/time counts in 10 ms steps
	bash -c 'TIMEFORMAT="%3R %3U %3S"; { time "$@" >/dev/null 2>&1; } 2>"$0"' \
		"$work/time" "$@" || { echo >&2 "failed: $*"; exit 1; }
	w=$(awk '{ printf "%d", $1 * 1000 }' "$work/time")
	c=$(awk '{ printf "%d", ($2 + $3) * 1000 }' "$work/time")
	eval "bw=\${best_wall_$key:-} bc=\${best_cpu_$key:-}"
	if [ -z "$bw" ] || [ "$w" -lt "$bw" ]; then eval "best_wall_$key=$w"; fi
	if [ -z "$bc" ] || [ "$c" -lt "$bc" ]; then eval "best_cpu_$key=$c"; fi
}

# best KEY: "wall_ms cpu_ms" of the best runs
best() {
	eval "echo \"\$best_wall_$1 \$best_cpu_$1\""
}

# report KEY FILES LABEL "WALL CPU": one line; sets wall_KEY and cpu_KEY (ms)
report() {
	# shellcheck disable=SC2086 # "WALL CPU" splits into two arguments
	set -- "$1" "$2" "$3" $4
	w=$4
	c=$5
	[ "$w" -gt 0 ] || w=1
	[ "$c" -gt 0 ] || c=1
	printf "  %-52s %5d files %7d ms wall %8.0f files/s %7d ms cpu %8.0f files/s\n" "$3" "$2" \
		"$w" "$(awk "BEGIN { print $2 * 1000 / $w }")" "$c" "$(awk "BEGIN { print $2 * 1000 / $c }")"
	eval "wall_$1=$w cpu_$1=$c"
}

# ratio A B: how many times faster A is than B (same files), by CPU and by wall time
ratio() {
	eval "ca=\$cpu_$1 cb=\$cpu_$2 wa=\$wall_$1 wb=\$wall_$2"
	awk "BEGIN { printf \"%.1fx cpu, %.1fx wall\", $cb / $ca, $wb / $wa }"
}

echo "kiln lint benchmark: $n_one Dockerfiles ($lines lines); best of $RUNS runs"
echo "  $("$KILN" --version 2>/dev/null | head -n 1), node $(node --version)," \
	"dockerfilelint $(node -p "require('$NPMDIR/node_modules/dockerfilelint/package.json').version")," \
	"dockerfile-utils $(node -p "require('$NPMDIR/node_modules/dockerfile-utils/package.json').version")"

# 1. one process per file
cat >"$work/per-file.sh" <<'EOS'
dir=$1
shift
for f in "$dir"/*.Dockerfile; do
	"$@" "$f" >/dev/null 2>&1 || true
done
EOS
echo
echo "1. one process per file (like-for-like: kiln without ShellCheck)"
k=0
while [ $k -lt "$RUNS" ]; do
	once pk sh "$work/per-file.sh" "$work/one" "$KILN" lint --no-shellcheck --no-context
	once pdfl sh "$work/per-file.sh" "$work/one" "$DFL"
	once pdfu sh "$work/per-file.sh" "$work/one" "$DFU" lint
	k=$((k + 1))
done
report pk "$n_one" "kiln lint --no-shellcheck FILE" "$(best pk)"
report pdfl "$n_one" "dockerfilelint FILE" "$(best pdfl)"
report pdfu "$n_one" "dockerfile-utils lint FILE" "$(best pdfu)"
echo "  kiln vs dockerfilelint: $(ratio pk pdfl); kiln vs dockerfile-utils: $(ratio pk pdfu)"

# 2. all files in one process
echo
echo "2. all $n_all files in one process (like-for-like: kiln without ShellCheck)"
k=0
while [ $k -lt "$RUNS" ]; do
	# shellcheck disable=SC2086
	once ak "$KILN" lint --no-fail --no-context --no-shellcheck $all
	# shellcheck disable=SC2086
	once akj "$KILN" lint --no-fail --no-context --no-shellcheck -f json $all
	# shellcheck disable=SC2086
	once adfl node "$here/peers.js" dockerfilelint $all
	# shellcheck disable=SC2086
	once adfu node "$here/peers.js" dockerfile-utils $all
	k=$((k + 1))
done
report ak "$n_all" "kiln lint --no-shellcheck FILE... (tty)" "$(best ak)"
report akj "$n_all" "kiln lint --no-shellcheck -f json FILE..." "$(best akj)"
report adfl "$n_all" "dockerfilelint, in one node process" "$(best adfl)"
report adfu "$n_all" "dockerfile-utils, in one node process" "$(best adfu)"
echo "  kiln (tty) vs dockerfilelint: $(ratio ak adfl); vs dockerfile-utils: $(ratio ak adfu)"
echo "  kiln (json) vs dockerfilelint: $(ratio akj adfl); vs dockerfile-utils: $(ratio akj adfu)"
# shellcheck disable=SC2046
node "$here/peers.js" dockerfilelint $(ls "$work"/one/*.Dockerfile) | sed 's/^/  dockerfilelint on the corpus: /'

# 3. kiln's default: ShellCheck on RUN scripts
if command -v shellcheck >/dev/null 2>&1; then
	echo
	echo "3. kiln with ShellCheck (its default; not like-for-like: the npm linters run no ShellCheck)"
	k=0
	while [ $k -lt "$RUNS" ]; do
		once sk sh "$work/per-file.sh" "$work/one" "$KILN" lint --no-context
		# shellcheck disable=SC2046
		once sak "$KILN" lint --no-fail --no-context $(ls "$work"/one/*.Dockerfile)
		k=$((k + 1))
	done
	report sk "$n_one" "kiln lint FILE, one process per file" "$(best sk)"
	report sak "$n_one" "kiln lint FILE... (ShellCheck shared by a batch)" "$(best sak)"
	echo "  one process per file, vs dockerfilelint: $(ratio sk pdfl); vs dockerfile-utils: $(ratio sk pdfu)"
fi
