#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln build with nothing to do, and with everything to do: a small project
# and a 5,000-file context built once (outside the measurement), then
# rebuilt from the cache, and rebuilt with --no-cache; `kiln version` gives
# the cost of starting the process. Prints hyperfine's table.
#
#   bench/build/run.sh [KILN]
#
# KILN defaults to build/kiln. Needs root, overlayfs, hyperfine and
# Debian's busybox-static (tests/helper/make-busybox-rootfs.sh). RUNS
# (default 20) sets hyperfine's --runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kiln=${1:-$top/build/kiln}
kiln=$(cd "$(dirname "$kiln")" && pwd)/$(basename "$kiln")
runs=${RUNS:-20}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KILN_ROOT="$work/store"

"$top/tests/helper/make-busybox-rootfs.sh" --tar "$work/busybox.tar"
"$kiln" import "$work/busybox.tar" localhost/busybox:bench >/dev/null

# a small project: sources, a build step, metadata
mkdir -p "$work/small/src"
for f in main util net; do
	printf 'int %s(void) { return 0; }\n' "$f" >"$work/small/src/$f.c"
done
printf 'all:\n\tcat src/*.c > app\n' >"$work/small/Makefile"
cat >"$work/small/Dockerfile" <<'DF'
FROM localhost/busybox:bench AS build
WORKDIR /src
COPY Makefile ./
COPY src/ ./src/
RUN cat src/*.c >app
FROM localhost/busybox:bench
COPY --from=build /src/app /usr/local/bin/app
USER 65534
CMD ["/usr/local/bin/app"]
DF

# 5,000 files in 50 directories
mkdir -p "$work/big"
d=0
while [ $d -lt 50 ]; do
	mkdir -p "$work/big/d$d"
	f=0
	while [ $f -lt 100 ]; do
		echo "$d $f" >"$work/big/d$d/f$f"
		f=$((f + 1))
	done
	d=$((d + 1))
done
printf 'FROM localhost/busybox:bench\nCOPY . /ctx\nRUN ls -R /ctx | wc -l\n' >"$work/big/Dockerfile"

"$kiln" build -q -t bench/small "$work/small" >/dev/null
"$kiln" build -q -t bench/big "$work/big" >/dev/null

hyperfine --warmup 2 --runs "$runs" -N \
	-n "kiln version (process start only)" "$kiln version" \
	-n "small project, no-op rebuild" "$kiln build -q -t bench/small $work/small" \
	-n "5,000-file context, no-op rebuild" "$kiln build -q -t bench/big $work/big" \
	-n "small project, --no-cache" "$kiln build -q --no-cache -t bench/small $work/small" \
	-n "5,000-file context, --no-cache" "$kiln build -q --no-cache -t bench/big $work/big"
