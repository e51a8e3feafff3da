#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Crash safety: kill -9 load, import, tag and save at random moments, over
# and over, and check after each kill that the store is consistent (fsck
# exits 0) and the next command works on it without any repair.
. "$(dirname "$0")/test-lib.sh"

HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh
ROUNDS=${KILN_CRASH_ROUNDS:-30}

# A random delay of 0 to 299 ms, so that kills land anywhere in a command.
random_delay() {
	n=$(od -An -N2 -tu2 /dev/urandom | tr -d " ")
	printf "0.%03d" $((n % 300))
}

test_expect_success BUSYBOX 'setup: an image big enough to interrupt' '
	"$HELPER" big-rootfs &&
	head -c 24000000 /dev/urandom >big-rootfs/blob &&
	tar -C big-rootfs -cf big-rootfs.tar . &&
	kiln --root "$TRASH/src" import big-rootfs.tar big:1 >/dev/null &&
	kiln --root "$TRASH/src" save -o big.tar big:1 &&
	kiln load -i big.tar >/dev/null
'

test_expect_success BUSYBOX "kill -9 during load, import, tag and save, $ROUNDS rounds" '
	i=0 &&
	while [ $i -lt "$ROUNDS" ]; do
		i=$((i + 1))
		case $((i % 4)) in
		0) "$KILN" load -i big.tar >/dev/null 2>&1 & ;;
		1) "$KILN" import big-rootfs.tar "crash:$i" >/dev/null 2>&1 & ;;
		2) "$KILN" tag big:1 "crash-tag:$i" >/dev/null 2>&1 & ;;
		3) "$KILN" save -o "saved-$i.tar" big:1 >/dev/null 2>&1 & ;;
		esac
		pid=$!
		sleep "$(random_delay)"
		kill -9 $pid 2>/dev/null
		wait $pid
		kiln fsck >fsck.out 2>&1 || { echo "round $i:"; cat fsck.out; return 1; }
		kiln images >images.out 2>&1 || { echo "round $i:"; cat images.out; return 1; }
		test_grep "^big  *1 " images.out >/dev/null || return 1
		# an interrupted save leaves no file under the target name
		if [ -e "saved-$i.tar" ]; then
			tar -tf "saved-$i.tar" >/dev/null || return 1
		fi
	done
'

test_expect_success BUSYBOX 'after the crashes: commands work and prune clears the leftovers' '
	kiln load -i big.tar >out && test_grep "Loaded image: big:1" out &&
	kiln import big-rootfs.tar after:1 >/dev/null &&
	kiln tag after:1 after:2 &&
	rm -f saved-*.tar.tmp-* &&
	kiln prune >/dev/null &&
	test -z "$(ls -A "$KILN_ROOT/tmp")" &&
	kiln fsck >out &&
	test_grep "no problems found" out &&
	! test_grep "unreferenced" out
'

test_done
