#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Pull and push of a 200 MB image in 5 layers, kiln against skopeo, in the
# same run against the same kind of local registry (Debian's docker-registry
# on 127.0.0.1), cold and with every blob already present.
#
#   bench/registry/run.sh [KILN]         (default: build/kiln)
#
# Environment: RUNS (default 3, the median is reported), LAYERS (5),
# LAYER_MB (40), WORK (a scratch directory, default /tmp/kiln-bench-registry),
# BASELINE (another kiln binary, e.g. an older build: measured in the same
# runs, same registries and load, and compared in a second table).
#
# pull cold:  empty kiln store      / skopeo copy docker://R/img oci:DIR into a new DIR
# pull warm:  all blobs in the store / skopeo copy into the DIR that has them
# push cold:  a fresh registry       / the same, skopeo copy oci:SRC docker://R/img
# push warm:  the registry has every blob (HEAD only) for both
#
# Wall time (clock, ns) and peak RSS (/usr/bin/time) of the client process
# (the registry is not counted); throughput is image bytes / wall time.
set -eu

KILN=$(realpath "${1:-build/kiln}")
BASELINE=${BASELINE:+$(realpath "$BASELINE")}
RUNS=${RUNS:-3}
LAYERS=${LAYERS:-5}
LAYER_MB=${LAYER_MB:-40}
WORK=${WORK:-/tmp/kiln-bench-registry}

for t in docker-registry skopeo python3 jq /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing" >&2; exit 2; }
done

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME: a registry with empty storage; its address in REG_ADDR
start_registry() {
	d=$WORK/reg-$1
	rm -rf "$d"
	mkdir -p "$d/data"
	port=$(free_port)
	cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
http:
  addr: 127.0.0.1:$port
  secret: bench
EOF
	mkfifo "$d/fifo"
	docker-registry serve "$d/config.yml" </dev/null >"$d/fifo" 2>&1 &
	PIDS="$PIDS $!"
	exec 8<"$d/fifo"
	while IFS= read -r line <&8; do
		case "$line" in *"listening on"*) break ;; esac
	done
	cat <&8 >/dev/null &
	exec 8<&-
	REG_ADDR=127.0.0.1:$port
}

# The image: LAYERS gzip layers of LAYER_MB of random data each, as an OCI layout.
make_image() {
	mkdir -p src/blobs/sha256 layers
	diff_ids="" layer_descs=""
	i=0
	while [ $i -lt "$LAYERS" ]; do
		mkdir -p "layers/$i"
		head -c "$((LAYER_MB * 1024 * 1024))" /dev/urandom >"layers/$i/data-$i"
		tar -C "layers/$i" -cf "layers/$i.tar" .
		diff=$(sha256sum <"layers/$i.tar" | cut -d" " -f1)
		gzip -1 -n -c "layers/$i.tar" >"layers/$i.tar.gz"
		dig=$(sha256sum <"layers/$i.tar.gz" | cut -d" " -f1)
		size=$(stat -c %s "layers/$i.tar.gz")
		mv "layers/$i.tar.gz" "src/blobs/sha256/$dig"
		rm -rf "layers/$i" "layers/$i.tar"
		diff_ids="$diff_ids${diff_ids:+,}\"sha256:$diff\""
		layer_descs="$layer_descs${layer_descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
		i=$((i + 1))
	done
	printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$diff_ids" >cfg.json
	cd_=$(sha256sum <cfg.json | cut -d" " -f1)
	cp cfg.json "src/blobs/sha256/$cd_"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[%s]}' \
		"$cd_" "$(stat -c %s cfg.json)" "$layer_descs" >m.json
	md=$(sha256sum <m.json | cut -d" " -f1)
	cp m.json "src/blobs/sha256/$md"
	printf '{"imageLayoutVersion":"1.0.0"}' >src/oci-layout
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"img"}}]}' \
		"$md" "$(stat -c %s m.json)" >src/index.json
	IMAGE_BYTES=$(du -cb src/blobs/sha256/* | tail -1 | cut -f1)
}

# measure LABEL CMD...: append "LABEL seconds maxrss_kb" to results (wall time
# from the clock in ns, peak RSS from /usr/bin/time)
measure() {
	label=$1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -f "%M" -o time.out "$@" >/dev/null 2>cmd.err || {
		echo "bench: $label failed:" >&2
		cat cmd.err >&2
		exit 1
	}
	t1=$(date +%s%N)
	echo "$label $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}') $(cat time.out)" >>results
}

median() { # LABEL FIELD(2=s,3=kb)
	grep "^$1 " results | awk -v f="$2" '{print $f}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo "making a $LAYERS x $LAYER_MB MB image..." >&2
make_image
start_registry main
R=$REG_ADDR
skopeo copy -q --dest-tls-verify=false oci:src:img "docker://$R/bench/img:1"
: >results

run=1
while [ "$run" -le "$RUNS" ]; do
	echo "run $run/$RUNS" >&2
	# pull, cold then warm
	rm -rf kstore
	measure kiln-pull-cold env KILN_ROOT="$WORK/kstore" "$KILN" pull -q "$R/bench/img:1"
	measure kiln-pull-warm env KILN_ROOT="$WORK/kstore" "$KILN" pull -q "$R/bench/img:1"
	rm -rf sdir
	measure skopeo-pull-cold skopeo copy -q --src-tls-verify=false "docker://$R/bench/img:1" oci:sdir:img
	measure skopeo-pull-warm skopeo copy -q --src-tls-verify=false "docker://$R/bench/img:1" oci:sdir:img
	# push to registries that have nothing, then again
	start_registry "kpush$run"
	P1=$REG_ADDR
	measure kiln-push-cold env KILN_ROOT="$WORK/kstore" "$KILN" push -q "$R/bench/img:1" "$P1/bench/img:1"
	measure kiln-push-warm env KILN_ROOT="$WORK/kstore" "$KILN" push -q "$R/bench/img:1" "$P1/bench/img:1"
	start_registry "spush$run"
	P2=$REG_ADDR
	measure skopeo-push-cold skopeo copy -q --dest-tls-verify=false oci:src:img "docker://$P2/bench/img:1"
	measure skopeo-push-warm skopeo copy -q --dest-tls-verify=false oci:src:img "docker://$P2/bench/img:1"
	if [ -n "$BASELINE" ]; then
		rm -rf bstore
		measure base-pull-cold env KILN_ROOT="$WORK/bstore" "$BASELINE" pull -q "$R/bench/img:1"
		measure base-pull-warm env KILN_ROOT="$WORK/bstore" "$BASELINE" pull -q "$R/bench/img:1"
		start_registry "bpush$run"
		P3=$REG_ADDR
		measure base-push-cold env KILN_ROOT="$WORK/bstore" "$BASELINE" push -q "$R/bench/img:1" "$P3/bench/img:1"
		measure base-push-warm env KILN_ROOT="$WORK/bstore" "$BASELINE" push -q "$R/bench/img:1" "$P3/bench/img:1"
	fi
	run=$((run + 1))
done

mb=$(awk -v b="$IMAGE_BYTES" 'BEGIN {printf "%.1f", b / 1e6}')
echo "image: $LAYERS layers, $mb MB of blobs; median of $RUNS runs"
echo
echo "| operation | kiln s | skopeo s | kiln MB/s | skopeo MB/s | throughput ratio | kiln peak RSS MiB | skopeo peak RSS MiB | RSS ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for op in pull-cold pull-warm push-cold push-warm; do
	ks=$(median "kiln-$op" 2) ss=$(median "skopeo-$op" 2)
	kr=$(median "kiln-$op" 3) sr=$(median "skopeo-$op" 3)
	awk -v op="$op" -v ks="$ks" -v ss="$ss" -v kr="$kr" -v sr="$sr" -v b="$IMAGE_BYTES" 'BEGIN {
		kt = ks > 0 ? b / 1e6 / ks : 0; st = ss > 0 ? b / 1e6 / ss : 0
		printf "| %s | %.3f | %.3f | %.0f | %.0f | %.2fx | %.1f | %.1f | %.2f |\n",
			op, ks, ss, kt, st, (ks > 0 ? ss / ks : 0), kr / 1024, sr / 1024, (sr > 0 ? kr / sr : 0)
	}'
done
[ -n "$BASELINE" ] || exit 0
echo
echo "baseline: $BASELINE (same runs)"
echo
echo "| operation | baseline s | kiln s | baseline peak RSS MiB | kiln peak RSS MiB | kiln/baseline RSS | baseline/skopeo RSS | kiln/skopeo RSS |"
echo "|---|---|---|---|---|---|---|---|"
for op in pull-cold pull-warm push-cold push-warm; do
	bs=$(median "base-$op" 2) ks=$(median "kiln-$op" 2)
	br=$(median "base-$op" 3) kr=$(median "kiln-$op" 3) sr=$(median "skopeo-$op" 3)
	awk -v op="$op" -v bs="$bs" -v ks="$ks" -v br="$br" -v kr="$kr" -v sr="$sr" 'BEGIN {
		printf "| %s | %.3f | %.3f | %.1f | %.1f | %.2f | %.2f | %.2f |\n",
			op, bs, ks, br / 1024, kr / 1024, (br > 0 ? kr / br : 0),
			(sr > 0 ? br / sr : 0), (sr > 0 ? kr / sr : 0)
	}'
done
