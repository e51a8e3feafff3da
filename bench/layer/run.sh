#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Layer writing speed: kiln's writer (tar + diff_id + compression + digest in
# one pass) against GNU tar piped into gzip, and GNU tar --zstd, on the same
# ~200 MB tree in the same run. Prints hyperfine's table and the ratios.
#
#   bench/layer/run.sh [KILN] [TREE]
#
# KILN defaults to build/kiln; TREE to a copy of /usr/include plus gcc's cc1
# and lto1 (text headers and large binaries, about 200 MB) made in a scratch
# directory. Needs hyperfine, GNU tar, gzip, zstd, python3.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kiln=${1:-$here/../../build/kiln}
kiln=$(cd "$(dirname "$kiln")" && pwd)/$(basename "$kiln")
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench-layer.XXXXXX")
trap 'rm -rf "$work"' EXIT

tree=${2:-}
if [ -z "$tree" ]; then
	tree=$work/tree
	mkdir -p "$tree/usr/lib/gcc"
	cp -a /usr/include "$tree/usr/include"
	cp -a /usr/lib/gcc/x86_64-linux-gnu/12/cc1 /usr/lib/gcc/x86_64-linux-gnu/12/lto1 \
		"$tree/usr/lib/gcc/"
fi
echo "tree: $tree: $(du -sh "$tree" | cut -f1), $(find "$tree" | wc -l) entries"
echo "kiln: $kiln"
echo "cpus: $(nproc); $(gzip --version | head -n1); $(zstd --version)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

cd "$work"
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-json bench.json \
	-n kiln-gzip "$kiln debug tar-make -c gzip -o k.tgz $tree" \
	-n tar-gzip "tar -C $tree -cf - . | gzip >t.tgz" \
	-n kiln-zstd "$kiln debug tar-make -c zstd -o k.zst $tree" \
	-n tar-zstd "tar -C $tree --zstd -cf t.zst ." \
	-n kiln-none "$kiln debug tar-make -c none -o k.tar $tree" \
	-n tar-none "tar -C $tree -cf t.tar ."

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Wall time depends on the machine's load and on tar's second process (tar
# and the compressor run in parallel); CPU time (user + system, children
# included) is what each side spent.
python3 - <<'PY'
import json, os
res = {x['command']: x for x in json.load(open('bench.json'))['results']}
size = lambda f: os.path.getsize(f) / 1e6
print()
print('| format | kiln wall s | tar wall s | wall ratio | kiln CPU s | tar CPU s | CPU ratio | kiln MB | tar MB |')
print('|---|---|---|---|---|---|---|---|---|')
for fmt, kf, tf in (('gzip', 'k.tgz', 't.tgz'), ('zstd', 'k.zst', 't.zst'), ('none', 'k.tar', 't.tar')):
    k, t = res['kiln-' + fmt], res['tar-' + fmt]
    kc, tc = k['user'] + k['system'], t['user'] + t['system']
    print('| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f |' % (
        fmt, k['mean'], t['mean'], k['mean'] / t['mean'], kc, tc, kc / tc, size(kf), size(tf)))
PY
