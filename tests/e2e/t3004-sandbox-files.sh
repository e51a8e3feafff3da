#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Files and mounts the sandbox adds: /etc/hosts, /etc/resolv.conf,
# /etc/hostname and --file contents are visible inside but never written to
# the root filesystem; mount points kiln had to create are removed again
# (and their parent's times restored); bind mounts and tmpfs; mount targets
# stay inside the root whatever symlinks the root holds.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done
}

# A listing of a tree: type, mode, owner, size, mtime and link target of
# every entry, to compare a root filesystem before and after a run.
snapshot_tree() {
	(cd "$1" && find . -printf "%y %m %U:%G %s %T@ %p -> %l\n" | sort)
}

test_expect_success ROOT,BUSYBOX 'set up a root directory without /etc, /proc, /dev or /sys' '
	make_rootfs rootfs &&
	ls rootfs >top &&
	echo bin >expect &&
	test_cmp expect top
'

test_expect_success ROOT,BUSYBOX 'generated files are there inside' '
	kiln debug sandbox --hostname gen-test rootfs sh -c \
		"cat /etc/hosts; echo ---; cat /etc/hostname; echo ---; grep -c nameserver /etc/resolv.conf" >out &&
	test_grep "^127.0.0.1	localhost gen-test$" out &&
	test_grep "^::1	localhost" out &&
	test_grep "^gen-test$" out &&
	test "$(tail -n 1 out)" -ge 1
'

test_expect_success ROOT,BUSYBOX 'a root without /etc, /proc, /dev, /sys is left as it was' '
	snapshot_tree rootfs >before &&
	kiln debug sandbox rootfs sh -c "ls /proc/self >/dev/null && cat /etc/hosts >/dev/null" &&
	snapshot_tree rootfs >after &&
	test_cmp before after
'

test_expect_success ROOT,BUSYBOX 'an existing /etc keeps its content and its times' '
	mkdir -p rootfs/etc rootfs/proc rootfs/dev rootfs/sys &&
	printf "root:x:0:0::/root:/bin/sh\n" >rootfs/etc/passwd &&
	touch -d "2001-02-03 04:05:06" rootfs/etc rootfs/etc/passwd rootfs &&
	snapshot_tree rootfs >before &&
	kiln debug sandbox rootfs cat /etc/hosts >/dev/null &&
	snapshot_tree rootfs >after &&
	test_cmp before after
'

test_expect_success ROOT,BUSYBOX 'files the image has are shown kiln'"'"'s content but keep their own' '
	echo "image hosts" >rootfs/etc/hosts &&
	echo "nameserver 192.0.2.1" >rootfs/etc/resolv.conf &&
	kiln debug sandbox --hostname h1 rootfs cat /etc/hosts >out &&
	test_grep "localhost h1" out &&
	echo "image hosts" >expect &&
	test_cmp expect rootfs/etc/hosts &&
	rm rootfs/etc/hosts rootfs/etc/resolv.conf
'

test_expect_success ROOT,BUSYBOX 'writes to the generated files do not reach the root filesystem' '
	kiln debug sandbox rootfs sh -c "echo 10.0.0.1 extra >>/etc/hosts && grep -c extra /etc/hosts" >out &&
	echo 1 >expect &&
	test_cmp expect out &&
	test_must_fail test -e rootfs/etc/hosts
'

test_expect_success ROOT,BUSYBOX '--file shows a host file'"'"'s content at a path, and replaces kiln'"'"'s' '
	echo "hello from the host" >motd &&
	printf "127.0.0.1 custom\n" >myhosts &&
	kiln debug sandbox --file /etc/motd="$TRASH/motd" --file /etc/hosts="$TRASH/myhosts" rootfs \
		sh -c "cat /etc/motd /etc/hosts" >out &&
	cat motd myhosts >expect &&
	test_cmp expect out &&
	test_must_fail test -e rootfs/etc/motd
'

test_expect_success ROOT,BUSYBOX 'a dangling /etc/resolv.conf symlink is followed inside the root and cleaned up' '
	ln -s ../run/systemd/resolve/stub-resolv.conf rootfs/etc/resolv.conf &&
	snapshot_tree rootfs >before &&
	kiln debug sandbox rootfs grep -c nameserver /etc/resolv.conf >out &&
	test "$(cat out)" -ge 1 &&
	snapshot_tree rootfs >after &&
	test_cmp before after &&
	rm rootfs/etc/resolv.conf
'

test_expect_success ROOT,BUSYBOX 'bind mounts: read-write and read-only' '
	mkdir -p shared &&
	echo original >shared/file &&
	kiln debug sandbox -v "$TRASH/shared:/data" rootfs sh -c "cat /data/file; echo written >/data/new" >out &&
	echo original >expect &&
	test_cmp expect out &&
	echo written >expect &&
	test_cmp expect shared/new &&
	test_must_fail kiln debug sandbox -v "$TRASH/shared:/data:ro" rootfs sh -c "echo x >/data/x" 2>err &&
	test_grep "Read-only file system" err &&
	test_must_fail test -e shared/x &&
	test_must_fail test -e rootfs/data
'

test_expect_success ROOT,BUSYBOX 'a single file can be bind-mounted' '
	echo one-file >single &&
	kiln debug sandbox -v "$TRASH/single:/opt/single.txt:ro" rootfs cat /opt/single.txt >out &&
	test_cmp single out &&
	test_must_fail test -e rootfs/opt
'

test_expect_success ROOT,BUSYBOX 'nested mounts go parent first, whatever the order given' '
	mkdir -p outer inner &&
	echo in >inner/f &&
	kiln debug sandbox -v "$TRASH/inner:/m/sub" -v "$TRASH/outer:/m" rootfs cat /m/sub/f >out &&
	echo in >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'tmpfs mounts with size and mode' '
	kiln debug sandbox --tmpfs /scratch:size=2m,mode=700 rootfs sh -c \
		"stat -c %a /scratch; df -k /scratch | tail -n 1 | awk \"{print \\\$2}\"; echo x >/scratch/f" >out &&
	printf "700\n2048\n" >expect &&
	test_cmp expect out &&
	test_must_fail test -e rootfs/scratch
'

test_expect_success ROOT,BUSYBOX 'a symlink in the root cannot point a mount outside it' '
	ln -s / rootfs/escape &&
	ln -s /../../.. rootfs/up &&
	name=kiln-escape-$$ &&
	mkdir -p src &&
	kiln debug sandbox -v "$TRASH/src:/escape/$name" -v "$TRASH/src:/up/$name-2" rootfs \
		ls -d /$name /$name-2 &&
	test_must_fail test -e /$name &&
	test_must_fail test -e /$name-2 &&
	test_must_fail test -e rootfs/$name &&
	rm rootfs/escape rootfs/up
'

test_expect_success ROOT,BUSYBOX '--read-only makes the root read-only, mounts stay writable' '
	test_must_fail kiln debug sandbox --read-only rootfs touch /newfile 2>err &&
	test_grep "Read-only file system" err &&
	kiln debug sandbox --read-only --tmpfs /tmp rootfs sh -c "echo ok >/tmp/f && cat /tmp/f" >out &&
	echo ok >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'what the command writes stays, what kiln made goes' '
	(cd rootfs && find . | sort) >before &&
	kiln debug sandbox -v "$TRASH/shared:/mnt/shared" rootfs sh -c "mkdir -p /built && echo out >/built/f" &&
	(cd rootfs && find . | sort) >after &&
	printf "./built\n./built/f\n" >added &&
	sort before added >expect &&
	test_cmp expect after &&
	test "$(cat rootfs/built/f)" = out
'

test_done
