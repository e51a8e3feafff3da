#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The sandbox's namespaces are really separate: mount, pid, ipc, uts and (with
# --network none) net; /proc is fresh and shows only the sandbox, /dev is
# minimal, /sys is read-only, Docker's masked paths are hidden.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done &&
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
}

test_expect_success ROOT,BUSYBOX 'set up a busybox root directory' '
	make_rootfs rootfs
'

test_expect_success ROOT,BUSYBOX 'mnt, pid, ipc, uts and net namespaces differ from kiln'"'"'s' '
	for ns in mnt pid ipc uts net; do
		readlink /proc/self/ns/$ns || exit 1
	done >host &&
	kiln debug sandbox rootfs sh -c \
		"for ns in mnt pid ipc uts net; do readlink /proc/self/ns/\$ns; done" >inside &&
	test_line_count_eq() { test "$(wc -l <"$1")" = "$2"; } &&
	test_line_count_eq inside 5 &&
	paste host inside | while read -r h i; do
		test "$h" != "$i" || { echo "same namespace: $h"; exit 1; }
	done
'

test_expect_success ROOT,BUSYBOX 'with --network host the net namespace is kiln'"'"'s' '
	readlink /proc/self/ns/net >host &&
	kiln debug sandbox --network host rootfs readlink /proc/self/ns/net >inside &&
	test_cmp host inside
'

test_expect_success ROOT,BUSYBOX 'the hostname is the sandbox'"'"'s own' '
	kiln debug sandbox rootfs hostname >out &&
	echo kiln >expect &&
	test_cmp expect out &&
	kiln debug sandbox --hostname build-box rootfs sh -c "hostname; cat /etc/hostname" >out &&
	printf "build-box\nbuild-box\n" >expect &&
	test_cmp expect out &&
	hostname >host-after &&
	test "$(cat host-after)" != build-box
'

test_expect_success ROOT,BUSYBOX 'pid 1 is kiln'"'"'s init and the command runs as pid 2' '
	kiln debug sandbox rootfs sh -c "echo \$\$; cat /proc/1/comm" >out &&
	printf "2\nkiln-init\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX '--no-init: the command is pid 1, as a build'"'"'s RUN, and its end ends the rest' '
	kiln debug sandbox --no-init rootfs sh -c "echo \$\$; cat /proc/1/comm; sleep 1000 & exit 3" \
		>out; echo $? >rc &&
	printf "1\nsh\n" >expect && test_cmp expect out &&
	echo 3 >expect && test_cmp expect rc
'

test_expect_success ROOT,BUSYBOX '/proc shows only the sandbox'"'"'s processes' '
	kiln debug sandbox rootfs sh -c "cd /proc && ls -d [0-9]*" >pids &&
	sort -n pids >sorted &&
	printf "1\n2\n" >expect &&
	test_cmp expect sorted
'

test_expect_success ROOT,BUSYBOX 'network none has only lo, and lo is up' '
	kiln debug sandbox rootfs ls /sys/class/net >ifaces &&
	echo lo >expect &&
	test_cmp expect ifaces &&
	kiln debug sandbox rootfs cat /sys/class/net/lo/operstate /sys/class/net/lo/flags >lo &&
	flags=$(sed -n 2p lo) &&
	test $((flags & 1)) = 1
'

test_expect_success ROOT,BUSYBOX 'network host sees the host'"'"'s interfaces' '
	ls /sys/class/net >expect &&
	kiln debug sandbox --network host rootfs ls -1 /sys/class/net >out &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX,IPCMK 'System V IPC objects of the host are not visible' '
	id=$(ipcmk -Q | sed "s/.*: *//") &&
	seen=$(wc -l </proc/sysvipc/msg) &&
	kiln debug sandbox rootfs sh -c "wc -l </proc/sysvipc/msg" >inside;
	ipcrm -q "$id" &&
	test "$seen" -ge 2 &&
	echo 1 >expect &&
	test_cmp expect inside
'

test_expect_success ROOT,BUSYBOX 'mounts: fresh proc, minimal dev, devpts, shm, mqueue, read-only sysfs' '
	kiln debug sandbox rootfs cat /proc/self/mounts >mounts &&
	test_grep "^[^ ]* /proc proc rw,nosuid,nodev,noexec" mounts &&
	test_grep "^[^ ]* /dev tmpfs rw,nosuid" mounts &&
	test_grep "^[^ ]* /dev/pts devpts .*ptmxmode=666" mounts &&
	test_grep "^[^ ]* /dev/shm tmpfs rw,nosuid,nodev,noexec" mounts &&
	test_grep "^[^ ]* /dev/mqueue mqueue" mounts &&
	test_grep "^[^ ]* /sys sysfs ro,nosuid,nodev,noexec" mounts &&
	test_grep "^[^ ]* /proc/sys proc ro," mounts
'

test_expect_success ROOT,BUSYBOX '/dev holds the usual devices and links, nothing of the host' '
	kiln debug sandbox rootfs ls /dev >dev &&
	printf "%s\n" core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero >expect &&
	test_cmp expect dev &&
	kiln debug sandbox rootfs sh -c "ls -l /dev/null /dev/zero /dev/ptmx | cut -c1" >types &&
	printf "c\nl\nc\n" >expect &&
	sort expect >e && sort types >t && test_cmp e t &&
	kiln debug sandbox rootfs sh -c "echo data >/dev/null && head -c 4 /dev/zero | od -An -tx1" >z &&
	test_grep "00 00 00 00" z
'

test_expect_success ROOT,BUSYBOX '/dev/pts is a new instance: no host terminals' '
	kiln debug sandbox rootfs ls /dev/pts >pts &&
	echo ptmx >expect &&
	test_cmp expect pts
'

test_expect_success ROOT,BUSYBOX '/sys, /proc/sys and the root'"'"'s mounts cannot be written or changed' '
	test_expect_code 1 kiln debug sandbox rootfs touch /sys/kernel/kiln-test 2>err &&
	test_grep "Read-only file system" err &&
	test_expect_code 1 kiln debug sandbox rootfs sh -c "echo 1 >/proc/sys/kernel/domainname" 2>err &&
	test_grep "Read-only file system" err &&
	test_must_fail kiln debug sandbox rootfs umount /proc 2>err
'

test_expect_success ROOT,BUSYBOX 'Docker'"'"'s masked paths read empty' '
	test "$(wc -c </proc/interrupts)" -gt 0 && test "$(wc -c </proc/timer_list)" -gt 0 &&
	test -n "$(ls /sys/firmware)" &&
	kiln debug sandbox rootfs sh -c \
		"wc -c </proc/interrupts; wc -c </proc/timer_list; ls /sys/firmware | wc -l" >out &&
	printf "0\n0\n0\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'nothing the sandbox mounted is visible on the host' '
	grep -c "$TRASH" /proc/self/mountinfo >count || true &&
	kiln debug sandbox -v "$TRASH:/trash" --tmpfs /t rootfs true &&
	grep -c "$TRASH" /proc/self/mountinfo >count-after || true &&
	test_cmp count count-after
'

test_done
