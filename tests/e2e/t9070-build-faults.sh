#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln build under faults: kill -9 at random moments over and over (the
# store stays consistent, no half image gets a name, the next build works
# and reuses what was cached), kill -9 and SIGINT while a RUN is running (its
# processes die with the build, no mount stays behind), a missing base image.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

ROUNDS=${KILN_CRASH_ROUNDS:-20}

# A random delay of 0 to 1499 ms, so that kills land anywhere in a build.
random_delay() {
	n=$(od -An -N2 -tu2 /dev/urandom | tr -d " ")
	n=$((n % 1500))
	printf "%d.%03d" $((n / 1000)) $((n % 1000))
}

# wait_for CMD...: run CMD every 0.1 s until it succeeds, for at most 10 s
wait_for() {
	n=0
	until "$@"; do
		n=$((n + 1))
		[ $n -lt 100 ] || return 1
		sleep 0.1
	done
}

# step_done TEXT FILE: the progress in FILE says the step TEXT is done
step_done() {
	awk -v t="$1" 'index($0, t) { n = $1 } n != "" && $1 == n && $2 == "DONE" { f = 1 }
		END { exit !f }' "$2" 2>/dev/null
}

no_process() {
	! pgrep -f "$1" >/dev/null
}

# kiln's overlay mounts left visible here (a leak would be under the test's
# directory; other tools' mounts, such as dockerd's, are not counted)
overlay_mounts() {
	grep " overlay " /proc/self/mountinfo | grep -c " $TRASH" || :
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a project whose build takes a while' '
	build_base &&
	mkdir ctx && head -c 16000000 /dev/urandom >ctx/big &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	COPY big /data/big
	RUN head -c 6000000 /dev/urandom >/data/r1
	ARG ROUND
	RUN echo "round \$ROUND" >/round && head -c 6000000 /dev/urandom >/data/r2
	EOF
	kiln build -q --build-arg ROUND=0 -t localhost/crash:0 ctx >/dev/null &&
	overlay_mounts >mounts.before
'

test_expect_success ROOT,OVERLAY,BUSYBOX "kill -9 at random moments, $ROUNDS rounds" '
	i=0 &&
	while [ $i -lt "$ROUNDS" ]; do
		i=$((i + 1))
		nc=
		[ $((i % 3)) -ne 0 ] || nc=--no-cache
		"$KILN" build -q $nc --build-arg ROUND=$i -t localhost/crash:$i ctx \
			>/dev/null 2>&1 &
		pid=$!
		sleep "$(random_delay)"
		kill -9 $pid 2>/dev/null
		wait $pid
		kiln fsck >fsck.out 2>&1 || { echo "round $i:"; cat fsck.out; return 1; }
		# a name is set last: a named image is a whole one
		if kiln inspect localhost/crash:$i >/dev/null 2>&1; then
			rootfs_of localhost/crash:$i fs &&
			echo "round $i" >expect && test_cmp expect fs/round &&
			test "$(wc -c <fs/data/r2)" = 6000000 || return 1
		fi
	done &&
	overlay_mounts >mounts.after &&
	test_cmp mounts.before mounts.after
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'after the kills: a build works and takes the finished steps from the cache' '
	kiln build --progress=plain --build-arg ROUND=last -t localhost/crash:last ctx \
		>/dev/null 2>log &&
	grep -A1 "COPY big /data/big" log | grep -q CACHED &&
	grep -A1 "RUN head -c 6000000 /dev/urandom >/data/r1" log | grep -q CACHED &&
	rootfs_of localhost/crash:last fs &&
	echo "round last" >expect && test_cmp expect fs/round &&
	cmp ctx/big fs/data/big &&
	test -z "$(ls -A "$KILN_ROOT/build-tmp")" &&
	kiln prune >/dev/null &&
	kiln fsck >out && test_grep "no problems found" out &&
	! test_grep "unreferenced" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'kill -9 while a RUN runs: its processes die too' '
	mkdir ctx2 &&
	cat >ctx2/Dockerfile <<-EOF &&
	FROM $BB
	RUN sh -c "sleep 60; true" kiln-fault-kill9
	EOF
	"$KILN" build -q ctx2 >/dev/null 2>&1 &
	pid=$! &&
	wait_for pgrep -f kiln-fault-kill9 >/dev/null &&
	kill -9 $pid && { wait $pid; :; } &&
	wait_for no_process kiln-fault-kill9 &&
	overlay_mounts >mounts.after &&
	test_cmp mounts.before mounts.after &&
	kiln fsck >fsck.out &&
	test_grep "[1-9][0-9]* temp files" fsck.out &&
	kiln prune >prune.out &&
	test -z "$(ls -A "$KILN_ROOT/build-tmp")"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'SIGINT while a RUN runs: the build stops, cleans up, names nothing' '
	mkdir ctx3 &&
	cat >ctx3/Dockerfile <<-EOF &&
	FROM $BB
	RUN sh -c "sleep 60; true" kiln-fault-sigint
	EOF
	"$KILN" build --progress=plain -t localhost/interrupted:1 ctx3 >/dev/null 2>err &
	pid=$! &&
	wait_for pgrep -f kiln-fault-sigint >/dev/null &&
	kill -INT $pid &&
	{ wait $pid; echo $? >rc; } &&
	test "$(cat rc)" -ne 0 &&
	test_grep "interrupted" err &&
	no_process kiln-fault-sigint &&
	test_expect_code 1 kiln inspect localhost/interrupted:1 2>/dev/null &&
	overlay_mounts >mounts.after &&
	test_cmp mounts.before mounts.after &&
	test -z "$(ls -A "$KILN_ROOT/build-tmp")" &&
	kiln fsck >fsck.out
'

# The blob of the image's last layer is still being written, on its own
# thread, when the steps are done: an interrupt then stops the build too,
# names nothing and stores no blob of that layer (some 90 MB).
test_expect_success ROOT,OVERLAY,BUSYBOX 'SIGINT while the image'"'"'s layer is written: the build stops, names nothing' '
	mkdir ctx5 &&
	head -c 96000000 /dev/urandom | base64 >ctx5/text &&
	printf "FROM $BB\nCOPY text /text\n" >ctx5/Dockerfile &&
	"$KILN" build --progress=plain -o type=image,compression-level=9 \
		-t localhost/interrupted:2 ctx5 >/dev/null 2>err5 &
	pid=$! &&
	wait_for step_done "COPY text /text" err5 &&
	kill -INT $pid &&
	{ wait $pid; echo $? >rc; } &&
	test "$(cat rc)" -ne 0 &&
	test_grep "^error: interrupted" err5 &&
	test_expect_code 1 kiln inspect localhost/interrupted:2 2>/dev/null &&
	test -z "$(find "$KILN_ROOT/blobs" -type f -size +40M)" &&
	overlay_mounts >mounts.after &&
	test_cmp mounts.before mounts.after &&
	test -z "$(ls -A "$KILN_ROOT/build-tmp")" &&
	kiln fsck >fsck.out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a base image neither in the store nor reachable is a clear error' '
	mkdir ctx4 &&
	printf "FROM 127.0.0.1:1/nothing/here:1\nRUN true\n" >ctx4/Dockerfile &&
	test_expect_code 1 kiln build -q ctx4 2>err &&
	test_grep "127.0.0.1:1/nothing/here:1" err
'

test_done
