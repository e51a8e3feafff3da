#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The sandbox's life: signals sent to kiln reach the command; pid 1 reaps
# orphans; whatever the command leaves running dies with it; when kiln itself
# is killed (-9) no process and no mount of the sandbox survives.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done
}

# Wait (without sleeping) until a process is gone (or only a zombie).
wait_gone() {
	i=0
	while stat=$(cat "/proc/$1/stat" 2>/dev/null); do
		# shellcheck disable=SC2086
		set -- "$1" $stat
		[ "$4" = Z ] && return 0
		i=$((i + 1))
		if [ $i -gt 20000 ]; then
			echo "process $1 is still there"
			return 1
		fi
	done
}

test_expect_success ROOT,BUSYBOX 'set up a busybox root directory' '
	make_rootfs rootfs &&
	mkfifo ready
'

for sig in TERM INT HUP QUIT USR1; do
	test_expect_success ROOT,BUSYBOX "SIG$sig sent to kiln reaches the command" '
		"$KILN" debug sandbox -v "$TRASH/ready:/ready" rootfs sh -c \
			"trap \"echo got-$sig; exit 3\" $sig; echo up >/ready; while :; do :; done" \
			>out 2>&1 &
		pid=$! &&
		read -r line <ready &&
		kill -$sig $pid &&
		{ wait $pid; code=$?; } &&
		test $code = 3 &&
		echo got-$sig >expect &&
		test_cmp expect out
	'
done

test_expect_success ROOT,BUSYBOX 'the sandbox is out of kiln'"'"'s session: terminal signals come only through kiln' '
	"$KILN" debug sandbox -v "$TRASH/ready:/ready" rootfs sh -c \
		"echo up >/ready; exec sleep 1000" &
	pid=$! &&
	read -r line <ready &&
	init=$(pgrep -P $pid) &&
	test -n "$init" &&
	test "$(ps -o sid= -p $init)" != "$(ps -o sid= -p $pid)" &&
	test "$(ps -o pgid= -p $init)" != "$(ps -o pgid= -p $pid)" &&
	kill -TERM $pid &&
	{ wait $pid; code=$?; } &&
	test $code = 143
'

test_expect_success ROOT,BUSYBOX 'a signal the command does not handle ends it: 128+N' '
	"$KILN" debug sandbox -v "$TRASH/ready:/ready" rootfs sh -c \
		"echo up >/ready; exec sleep 1000" &
	pid=$! &&
	read -r line <ready &&
	kill -TERM $pid &&
	{ wait $pid; code=$?; } &&
	test $code = 143
'

test_expect_success ROOT,BUSYBOX 'pid 1 reaps orphaned zombies' '
	cat >reap.sh <<-\EOF &&
	p=$(sh -c "true & echo \$!")
	i=0
	while [ -e /proc/$p ]; do
		i=$((i + 1))
		[ $i -lt 200000 ] || { echo "zombie $p not reaped"; exit 1; }
	done
	echo reaped
	EOF
	cp reap.sh rootfs/reap.sh &&
	kiln debug sandbox rootfs sh /reap.sh >out &&
	echo reaped >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'what the command leaves running is killed when it exits' '
	timeout 100 "$KILN" debug sandbox rootfs sh -c "sleep 1000 >/dev/null 2>&1 & echo started" >out &&
	echo started >expect &&
	test_cmp expect out &&
	timeout 100 "$KILN" debug sandbox rootfs sh -c "(sleep 1000; echo never) & echo started" |
		cat >out &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'kill -9 of kiln leaves no process and no mount behind' '
	"$KILN" debug sandbox -v "$TRASH/ready:/ready" --tmpfs /t rootfs sh -c \
		"sleep 1000 & echo up >/ready; exec sleep 1001" &
	pid=$! &&
	read -r line <ready &&
	init=$(pgrep -P $pid) &&
	test -n "$init" &&
	children=$(pgrep -P $init) &&
	grandchildren=$(for c in $children; do pgrep -P $c; done) &&
	test -n "$children" &&
	test -n "$grandchildren" &&
	kill -9 $pid &&
	{ wait $pid; code=$?; } &&
	test $code = 137 &&
	for p in $init $children $grandchildren; do
		wait_gone $p || exit 1
	done &&
	test_must_fail grep -q " $TRASH" /proc/self/mountinfo
'

test_expect_success ROOT,BUSYBOX 'kiln is usable again right after a kill -9' '
	kiln debug sandbox rootfs echo again >out &&
	echo again >expect &&
	test_cmp expect out
'

test_done
