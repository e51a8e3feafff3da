#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# kiln against buildah, podman and BuildKit (dockerd) on the multi-stage
# cases in cases/, in one run, and the ratio kiln/peer per row.
#
#   bench/peers/run.sh [KILN]
#
# KILN defaults to build/kiln. Needs root, overlayfs, /usr/bin/time, and
# the peers set up as bench/peers/README.md says: a registry on
# 127.0.0.1:5000 holding busybox:1.35 and debian:bookworm-gcc-local, and
# dockerd with BuildKit on unix://$PEERS_WORKDIR/docker/docker.sock. A peer
# that is not there is skipped, and the table says so.
#
# Tools: kiln (its defaults: new layers gzip level 1), kiln-uncompressed
# (`-o type=image,compression=uncompressed`: layers kept as plain tar, as
# containers-storage and dockerd keep theirs; shown, not in the ratios),
# buildah, podman, buildkit.
# Per case, RUNS times (default 3): every tool's store and build cache
# emptied and its base images pulled (untimed; for kiln also unpacked with
# `kiln run BASE true`, as a peer's pull unpacks them into its storage),
# then SETTLE seconds (default 361) of rest, then for each tool in turn,
# after a `sync` and REST seconds (default 5):
#   cold   the build in the emptied store
#   warm   the same build again, nothing changed
#   touch  one source file (case.conf TOUCH) gets a line appended
# Why all resets come first and the long rest: on ext4 without a journal
# (this VM's root file system) the inode allocator passes over every free
# inode of a group that was deleted less than 60 s ago, or 360 s (60 + 300)
# if its inode table block is dirty, which the build's own new files make
# it (RECENTCY_MIN, RECENTCY_DIRTY in fs/ext4/ialloc.c). So the rest is
# 361 s, and with REST the reset's last deletion is 366 s old.
# Each new file then costs a scan of the files the reset just deleted:
# kiln's cold a-genfiles build took 1.7-3.0 s (1.3-1.9 s of it system
# time, `perf`: recently_deleted, find_get_block_common) with its old
# store deleted in the minutes before, 0.8 s in a directory with no
# recent deletions. The rest lets every tool start clear of its reset.
# The first build after the rest is slower, whichever tool makes it: kiln's
# cold c-bigctx build took 1.26 s after 240 s of rest and 0.80 s right
# after it (its COPY of the context 0.8 against 0.4 s). So the tools take
# turns: in run N the order starts at tool number N, and with as many runs
# as tools each builds first once (the median leaves that run out).
# Each build runs under /usr/bin/time -v: wall time, and the peak RSS of the
# largest process of the build's process tree (RUN steps included). For
# BuildKit the work is done in dockerd: its RSS (with its children) is read
# from /proc after each build and added to the docker CLI's.
# peak-rss (peak-rss.c, compiled here) records every process of the tree
# with its name and peak RSS as the kernel's taskstats report them at exit;
# the largest of the builder's own processes (builder_comm) is the second
# memory figure. It leaves out the commands the RUN steps run (sh, cc1, ld),
# which are the same work for every builder and which dockerd's figure never
# included: BuildKit runs them under runc, outside dockerd's process.
# After each cold build the image is run once and its first line of output
# compared with case.conf EXPECT.
#
# Environment: RUNS (3), TOOLS ("kiln kiln-uncompressed buildah podman
# buildkit"), SETTLE (361), REST (5), CASES (all
# in cases/), OUT (scratch and results, default /tmp/kiln-peerbench),
# PEERS_WORKDIR (/tmp/peers: dockerd's socket and pid file), DOCKER
# (/usr/bin/docker, Debian's 20.10 CLI).
# Results: $OUT/results.csv (every build), $OUT/summary.md (medians and
# ratios), $OUT/commands.txt (the exact build commands), $OUT/logs/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
KILN=${1:-$TOP/build/kiln}
KILN=$(cd "$(dirname "$KILN")" && pwd)/$(basename "$KILN")
RUNS=${RUNS:-3}
TOOLS=${TOOLS:-"kiln kiln-uncompressed buildah podman buildkit"}
SETTLE=${SETTLE:-361}
REST=${REST:-5}
CASES=${CASES:-$(cd "$HERE/cases" && for d in */; do printf '%s ' "${d%/}"; done)}
OUT=${OUT:-/tmp/kiln-peerbench}
PEERS_WORKDIR=${PEERS_WORKDIR:-/tmp/peers}
DOCKER=${DOCKER:-/usr/bin/docker}
DHOST=unix://$PEERS_WORKDIR/docker/docker.sock
RES=$OUT/results.csv
CHK=$OUT/checks.csv

mkdir -p "$OUT/logs" "$OUT/orig" "$OUT/ctx" "$OUT/storage"
log() { printf '[peers %(%T)T] %s\n' -1 "$*" | tee -a "$OUT/bench.log" >&2; }

# the exit-time recorder; without it (no compiler, no taskstats) the
# builder's own figure is left empty and the tables show "-"
PEAK=$OUT/peak-rss
if ! cc -O2 -o "$PEAK" "$HERE/peak-rss.c" || ! "$PEAK" /dev/null -- true; then
	log "peak-rss unavailable: the builder-only memory figures are left out"
	PEAK=
fi

# --- tools -------------------------------------------------------------------
kroot() { # kiln's store: one per tool name, so no shared cache
	echo "$OUT/kiln-root/$1"
}
st() { # containers-storage of buildah/podman: one per tool, so no shared cache
	echo "--root $OUT/storage/$1/root --runroot $OUT/storage/$1/run --storage-driver overlay"
}
dk() { "$DOCKER" -H "$DHOST" "$@"; }

available() {
	case $1 in
	kiln | kiln-uncompressed) [[ -x $KILN ]] ;;
	buildah) command -v buildah >/dev/null ;;
	podman) command -v podman >/dev/null ;;
	buildkit) dk version >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

builder_comm() { # TOOL: the names (ERE) of the tool's own processes
	case $1 in
	kiln | kiln-uncompressed) echo '^kiln' ;;
	# buildah and podman run helpers as /proc/self/exe ("exe"), and runc
	# names its stages runc:[0:PARENT] to runc:[2:INIT]
	buildah | podman) echo '^(buildah|podman|exe|runc|runc:.*|conmon|catatonit|fuse-overlayfs)$' ;;
	buildkit) echo '^docker$' ;;
	esac
}

build_cmd() { # TOOL CASE CTX
	local tool=$1 c=$2 ctx=$3 tag=bench-$2:latest
	local kbuild
	kbuild="$KILN --root $(kroot "$tool") build --progress=plain --network none"
	case $tool in
	kiln) echo "$kbuild -t $tag -f $ctx/Dockerfile $ctx" ;;
	kiln-uncompressed)
		echo "$kbuild -o type=image,compression=uncompressed" \
			"-t $tag -f $ctx/Dockerfile $ctx" ;;
	buildah) echo "buildah $(st buildah) bud --layers --isolation oci --network none -t $tag -f $ctx/Dockerfile $ctx" ;;
	podman) echo "podman $(st podman) build --layers --network none -t $tag -f $ctx/Dockerfile $ctx" ;;
	buildkit) echo "env DOCKER_BUILDKIT=1 $DOCKER -H $DHOST build --progress=plain --network none -t $tag -f $ctx/Dockerfile $ctx" ;;
	esac
}

# Empty the tool's images and build cache, then pull the bases (untimed).
reset_tool() { # TOOL BASES
	local tool=$1 bases=$2 b
	case $tool in
	kiln | kiln-uncompressed)
		local root
		root=$(kroot "$tool")
		rm -rf "$root"
		for b in $bases; do
			KILN_ROOT=$root "$KILN" pull "$b" >>"$OUT/logs/kiln.pull.log" 2>&1
			# unpack the layers now: the peers' pulls do
			KILN_ROOT=$root "$KILN" run --rm --network none "$b" true
		done ;;
	buildah | podman)
		# shellcheck disable=SC2046
		buildah $(st "$tool") rm --all >/dev/null 2>&1 || true
		# shellcheck disable=SC2046
		podman $(st "$tool") rm --all --force >/dev/null 2>&1 || true
		# shellcheck disable=SC2046
		podman $(st "$tool") rmi --all --force >/dev/null 2>&1 || true
		for b in $bases; do
			# shellcheck disable=SC2046
			podman $(st "$tool") pull -q --tls-verify=false "$b" >/dev/null
		done ;;
	buildkit)
		dk ps -aq | xargs -r "$DOCKER" -H "$DHOST" rm -f >/dev/null
		dk builder prune -af >/dev/null
		dk image prune -af >/dev/null
		dk images -q | xargs -r "$DOCKER" -H "$DHOST" rmi -f >/dev/null 2>&1 || true
		for b in $bases; do dk pull -q "$b" >/dev/null; done ;;
	esac
}

run_image() { # TOOL TAG: the first line the image's CMD prints
	# shellcheck disable=SC2046
	case $1 in
	kiln | kiln-uncompressed)
		KILN_ROOT=$(kroot "$1") "$KILN" run --rm --network none "$2" 2>&1 | head -1 ;;
	buildah | podman) podman $(st "$1") run --rm --network none "$2" 2>&1 | head -1 ;;
	buildkit) dk run --rm --network none "$2" 2>&1 | head -1 ;;
	esac
}

dockerd_rss_kb() { # VmRSS of dockerd and its children (containerd), KiB
	local pf=$PEERS_WORKDIR/docker/dockerd.pid tot=0 p
	[[ -s $pf ]] || { echo 0; return; }
	for p in $(cat "$pf") $(pgrep -P "$(cat "$pf")" 2>/dev/null); do
		tot=$((tot + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo $tot
}

measure() { # TOOL CASE RUN PHASE CTX
	local tool=$1 c=$2 run=$3 phase=$4 ctx=$5 rc=0 cmd wall rss drss brss=
	local base=$OUT/logs/$tool.$c.$run.$phase
	cmd=$(build_cmd "$tool" "$c" "$ctx")
	echo "$cmd" >"$base.cmd"
	local t0 t1 peak=()
	[[ -n $PEAK ]] && peak=("$PEAK" "$base.procs" --)
	# the clock read by bash itself, in microseconds: no `date` process, nor
	# a subshell for $(...), starts or exits inside the interval
	t0=${EPOCHREALTIME/./}
	# shellcheck disable=SC2086
	"${peak[@]}" /usr/bin/time -v -o "$base.time" $cmd >"$base.log" 2>&1 || rc=$?
	t1=${EPOCHREALTIME/./}
	# wall time from the clock (time -v rounds to 10 ms)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e6}')
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$base.time")
	# lines "pid ppid peak_kib comm"; a "#" line says records were lost
	if [[ -n $PEAK ]] && ! grep -q '^#' "$base.procs"; then
		brss=$(awk -v re="$(builder_comm "$tool")" \
			'$4 ~ re && $3 > m {m = $3} END {print m + 0}' "$base.procs")
	fi
	drss=0
	[[ $tool == buildkit ]] && drss=$(dockerd_rss_kb)
	echo "$tool,$c,$run,$phase,$wall,$rss,$drss,$rc,$(cut -d' ' -f1 /proc/loadavg),$brss" >>"$RES"
	log "$tool $c run$run $phase: ${wall}s rss=${rss}KiB${brss:+ builder=${brss}KiB}${drss:+ dockerd=${drss}KiB} rc=$rc"
	if [[ $rc != 0 ]]; then
		log "build failed, see $base.log"
		tail -5 "$base.log" >&2
	fi
	return "$rc"
}

edit_file() { # FILE TAG: a change of content, not only of mtime
	case $1 in
	*.c | *.h) printf '/* bench edit %s */\n' "$2" >>"$1" ;;
	*) printf '# bench edit %s\n' "$2" >>"$1" ;;
	esac
}

# --- runs ----------------------------------------------------------------------
ts=$(date +%Y%m%d-%H%M%S)
for f in "$RES" "$CHK" "$OUT/summary.md"; do
	if [[ -e $f ]]; then mv "$f" "${f%.*}.$ts.${f##*.}"; fi
done
echo "tool,case,run,phase,wall_s,maxrss_kb,dockerd_rss_kb,rc,load1,builder_rss_kb" >"$RES"
echo "tool,case,run,output,check" >"$CHK"
: >"$OUT/commands.txt"
: >"$OUT/skipped.txt"
log "kiln $KILN ($("$KILN" version | head -1)); RUNS=$RUNS SETTLE=$SETTLE REST=$REST;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"

for c in $CASES; do
	cdir=$HERE/cases/$c
	[[ -f $cdir/Dockerfile ]] || { log "skip $c: no Dockerfile"; continue; }
	TOUCH=
	EXPECT=
	BASES=
	# shellcheck disable=SC1091
	source "$cdir/case.conf"
	ctx=$OUT/ctx/$c
	mkdir -p "$ctx"
	rsync -a --exclude case.conf --exclude prepare.sh "$cdir/" "$ctx/"
	if [[ -x $cdir/prepare.sh ]]; then "$cdir/prepare.sh" "$ctx"; fi
	cp "$cdir/$TOUCH" "$OUT/orig/$c.touch" 2>/dev/null || cp "$ctx/$TOUCH" "$OUT/orig/$c.touch"

	tools=()
	for tool in $TOOLS; do
		if ! available "$tool"; then
			log "SKIPPED: $tool is not available (see bench/peers/README.md)"
			echo "$tool" >>"$OUT/skipped.txt"
			continue
		fi
		build_cmd "$tool" "$c" "$ctx" >>"$OUT/commands.txt"
		tools+=("$tool")
	done
	failed=" "
	for run in $(seq 1 "$RUNS"); do
		for tool in "${tools[@]}"; do
			[[ $failed == *" $tool "* ]] && continue
			t0=$(date +%s%N)
			reset_tool "$tool" "$BASES"
			log "$tool: reset, bases pulled (untimed): $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s"
		done
		log "run $run of $c: $SETTLE s of rest after the resets"
		sync
		sleep "$SETTLE"
		# a different tool builds first after the rest in each run (see above)
		k=$(((run - 1) % ${#tools[@]}))
		order=("${tools[@]:k}" "${tools[@]:0:k}")
		for tool in "${order[@]}"; do
			[[ $failed == *" $tool "* ]] && continue
			cp "$OUT/orig/$c.touch" "$ctx/$TOUCH"
			sync
			sleep "$REST"
			if ! measure "$tool" "$c" "$run" cold "$ctx"; then
				log "cold build of $c failed for $tool: skipping its other runs"
				failed+="$tool "
				continue
			fi
			out=$(run_image "$tool" "bench-$c:latest" || true)
			chk=FAIL
			[[ $out == "$EXPECT"* ]] && chk=ok
			echo "$tool,$c,$run,\"$out\",$chk" >>"$CHK"
			[[ $chk == ok ]] || log "$tool $c: the image printed '$out', not '$EXPECT'"
			measure "$tool" "$c" "$run" warm "$ctx" || true
			edit_file "$ctx/$TOUCH" "$tool-$run-$(date +%s%N)"
			measure "$tool" "$c" "$run" touch "$ctx" || true
		done
	done
	cp "$OUT/orig/$c.touch" "$ctx/$TOUCH"
done
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# What the measurement itself costs: the same clock reads around the same
# wrappers (peak-rss, /usr/bin/time -v) running `true`. It is inside every
# wall time above and matters only for the millisecond rows (kiln's warm ones).
peak=()
[[ -n $PEAK ]] && peak=("$PEAK" /dev/null --)
overhead_ms=$(for _ in $(seq 1 11); do
	t0=${EPOCHREALTIME/./}
	"${peak[@]}" /usr/bin/time -v -o /dev/null true
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
done | sort -n | awk '{v[NR] = $1} END {printf "%.1f", v[int((NR + 1) / 2)] / 1000}')
log "measurement overhead (median of 11 timed runs of the wrappers around true): $overhead_ms ms"

# --- summary -------------------------------------------------------------------
# Targets, as ratios to the fastest peer of the row: warm <= 0.1, cold and
# touch <= 0.5 (c-bigctx <= 0.25); kiln's peak RSS <= 0.2 of the smallest
# peer's (BuildKit: docker CLI + dockerd).
{
	echo "## Medians of $RUNS runs ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
	echo
	echo "Wall seconds. ratio = kiln / fastest peer of the row."
	echo
	echo "| case | phase | kiln | kiln (uncompressed) | buildah | podman | buildkit | ratio | target | met |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	tail -n +2 "$RES" | awk -F, -v mode=wall -f "$HERE/summary.awk"
	echo
	echo "Peak RSS MiB of the builder's own processes (the largest; RUN steps' commands"
	echo "left out; buildkit: docker CLI + dockerd). ratio = kiln / smallest peer of the row."
	echo
	echo "| case | phase | kiln | kiln (uncompressed) | buildah | podman | buildkit | ratio | target | met |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	tail -n +2 "$RES" | awk -F, -v mode=builder -f "$HERE/summary.awk"
	echo
	echo "Peak RSS MiB (largest process of the build's tree, RUN steps' commands included;"
	echo "buildkit: docker CLI + dockerd). ratio = kiln / smallest peer of the row."
	echo
	echo "| case | phase | kiln | kiln (uncompressed) | buildah | podman | buildkit | ratio | target | met |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	tail -n +2 "$RES" | awk -F, -v mode=rss -f "$HERE/summary.awk"
	echo
	echo "Image output checks (EXPECT): $(tail -n +2 "$CHK" | awk -F, '{n[$NF]++} END {for (k in n) printf "%s %d  ", k, n[k]}')"
	if [[ -s $OUT/skipped.txt ]]; then echo "SKIPPED (not available): $(sort -u "$OUT/skipped.txt" | tr '\n' ' ')"; fi
	fails=$(tail -n +2 "$RES" | awk -F, '$8 != 0' | wc -l)
	echo "Failed builds: $fails"
	echo "Measurement overhead (the wrappers around true, timed the same way, median of 11): $overhead_ms ms, included in every wall time"
	echo "Load average (1 min) after the builds: $(tail -n +2 "$RES" | awk -F, '{s += $9; if ($9 > m) m = $9} END {printf "mean %.2f, max %.2f", s / NR, m}')"
} >"$OUT/summary.md"
cat "$OUT/summary.md"
log "results: $RES  summary: $OUT/summary.md  commands: $OUT/commands.txt"
