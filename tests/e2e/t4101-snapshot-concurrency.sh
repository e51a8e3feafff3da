#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Snapshots under concurrency and crashes: several kilns unpacking the same
# layer at once all succeed and leave one copy; a kiln killed (-9) in the
# middle of a run leaves no mount, and its upper directory is removed by the
# next kiln.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done
}

test_expect_success ROOT,BUSYBOX,OVERLAY 'make a base layer and a bigger one' '
	make_rootfs base &&
	tar -C base -cf base.tar . &&
	mkdir -p big/data &&
	i=0 &&
	while [ $i -lt 200 ]; do
		head -c 20000 /dev/urandom >big/data/f$i &&
		i=$((i + 1))
	done &&
	tar -C big -czf big.tar.gz . &&
	mkfifo ready
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'four kilns unpacking one layer at once all succeed' '
	for n in 1 2 3 4; do
		"$KILN" debug sandbox --layer base.tar --layer big.tar.gz -- \
			sh -c "ls /data | wc -l" >out$n 2>err$n &
		eval "pid$n=\$!"
	done &&
	for n in 1 2 3 4; do
		eval "wait \$pid$n" || { cat err$n; exit 1; }
	done &&
	for n in 1 2 3 4; do
		echo 200 >expect && test_cmp expect out$n || exit 1
	done &&
	ls "$KILN_ROOT/snapshots/layers" >layers &&
	test "$(wc -l <layers)" = 2 &&
	test_must_fail grep -e "^tmp-" -e "^trash-" layers
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'kill -9 during a run: no mount stays, the next kiln cleans up' '
	"$KILN" debug sandbox --layer base.tar -v "$TRASH/ready:/ready" -- \
		sh -c "echo written >/in-upper; echo up >/ready; exec sleep 1000" &
	pid=$! &&
	read -r line <ready &&
	ls "$KILN_ROOT/snapshots/active" >active &&
	test "$(wc -l <active)" = 2 &&
	upper=$(grep -v "\.lock$" active) &&
	test -e "$KILN_ROOT/snapshots/active/$upper/upper/in-upper" &&
	init=$(pgrep -P $pid) &&
	kill -9 $pid &&
	{ wait $pid; true; } &&
	while [ -d /proc/$init ] && [ "$(cut -d" " -f3 /proc/$init/stat)" != Z ]; do :; done &&
	test_must_fail grep -q "$KILN_ROOT" /proc/self/mountinfo &&
	test -d "$KILN_ROOT/snapshots/active/$upper" &&
	kiln debug sandbox --layer base.tar -- true &&
	ls "$KILN_ROOT/snapshots/active" >after &&
	test_must_fail test -s after
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'a layer interrupted while unpacking is never used half-done' '
	mkdir -p "$KILN_ROOT/snapshots/layers/tmp-00000000000dead0/bin" &&
	: >"$KILN_ROOT/snapshots/layers/tmp-00000000000dead0.lock" &&
	kiln debug sandbox --layer base.tar -- true &&
	ls "$KILN_ROOT/snapshots/layers" >layers &&
	test_must_fail grep "^tmp-" layers
'

test_done
