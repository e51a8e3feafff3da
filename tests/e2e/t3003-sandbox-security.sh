#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The sandbox's privileges: Docker's default capability set (bounding,
# permitted, effective; nothing inheritable or ambient), lost by non-root
# users at exec, no no_new_privs (as in Docker), and a seccomp filter like
# Docker's that refuses with EPERM (ENOSYS for a syscall newer than it
# knows). Where podman runs here, the same root directory is run by podman
# (runc) as a cross-check.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done &&
	printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' \
		>"$1/etc/passwd" &&
	printf 'root:x:0:\nalice:x:1000:\n' >"$1/etc/group"
}

# Docker's default capabilities, by number (linux/capability.h): CHOWN 0,
# DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5, SETGID 6, SETUID 7, SETPCAP 8,
# NET_BIND_SERVICE 10, NET_RAW 13, SYS_CHROOT 18, MKNOD 27, AUDIT_WRITE 29,
# SETFCAP 31.
caps_hex() {
	v=0
	for c in "$@"; do
		v=$((v | (1 << c)))
	done
	printf "%016x\n" "$v"
}
# shellcheck disable=SC2034 # used inside the test bodies
docker_caps=$(caps_hex 0 1 3 4 5 6 7 8 10 13 18 27 29 31)

status_field() {
	sed -n "s/^$1:[[:space:]]*//p" "$2"
}

test_expect_success ROOT,BUSYBOX 'set up a busybox root directory' '
	make_rootfs rootfs
'

test_expect_success ROOT,BUSYBOX 'root has Docker'"'"'s default capabilities, nothing inheritable or ambient' '
	kiln debug sandbox rootfs cat /proc/self/status >status &&
	test "$(status_field CapEff status)" = "$docker_caps" &&
	test "$(status_field CapPrm status)" = "$docker_caps" &&
	test "$(status_field CapBnd status)" = "$docker_caps" &&
	test "$(status_field CapInh status)" = 0000000000000000 &&
	test "$(status_field CapAmb status)" = 0000000000000000
'

test_expect_success ROOT,BUSYBOX 'a non-root user keeps only the bounding set' '
	kiln debug sandbox -u alice rootfs cat /proc/self/status >status &&
	test "$(status_field CapEff status)" = 0000000000000000 &&
	test "$(status_field CapPrm status)" = 0000000000000000 &&
	test "$(status_field CapBnd status)" = "$docker_caps"
'

test_expect_success ROOT,BUSYBOX '--cap-add and --cap-drop change the set' '
	kiln debug sandbox --cap-add NET_ADMIN --cap-drop chown,CAP_KILL rootfs \
		cat /proc/self/status >status &&
	test "$(status_field CapEff status)" = "$(caps_hex 1 3 4 6 7 8 10 12 13 18 27 29 31)" &&
	test_expect_code 125 kiln debug sandbox --cap-add NOT_A_CAP rootfs true 2>err &&
	test_grep "unknown capability" err
'

test_expect_success ROOT,BUSYBOX 'the capabilities are real: chown works, mount does not' '
	kiln debug sandbox rootfs sh -c "touch /f && chown 1000 /f && stat -c %u /f" >out &&
	echo 1000 >expect &&
	test_cmp expect out &&
	rm -f rootfs/f &&
	test_must_fail kiln debug sandbox --cap-drop CHOWN rootfs sh -c "touch /f && chown 1000 /f" &&
	rm -f rootfs/f
'

test_expect_success ROOT,BUSYBOX 'no_new_privs is off (as in Docker); seccomp in filter mode' '
	kiln debug sandbox rootfs cat /proc/self/status >status &&
	test "$(status_field NoNewPrivs status)" = 0 &&
	test "$(status_field Seccomp status)" = 2
'

# As under Docker (and BuildKit's RUN): sudo and su work; the capabilities
# the setuid program gets are still only the sandbox's.
test_expect_success ROOT,BUSYBOX,GCC 'a setuid-root binary raises a user to root, as in Docker' '
	printf "#include <stdio.h>\n#include <unistd.h>\n%s\n" \
		"int main(void) { printf(\"%d\\n\", (int)geteuid()); return 0; }" >euid.c &&
	gcc -static -o rootfs/bin/euid euid.c &&
	chmod 4755 rootfs/bin/euid &&
	su_check=$(setpriv --reuid=1000 --regid=1000 --clear-groups "$TRASH/rootfs/bin/euid") &&
	test "$su_check" = 0 &&
	kiln debug sandbox -u alice rootfs /bin/euid >out &&
	echo 0 >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'seccomp refuses unshare, mount and sethostname with EPERM' '
	test_must_fail kiln debug sandbox rootfs unshare -u true 2>err &&
	test_grep "Operation not permitted" err &&
	test_must_fail kiln debug sandbox rootfs mount -t tmpfs none /mnt 2>err &&
	test_must_fail kiln debug sandbox rootfs hostname evil 2>err &&
	test_grep "Operation not permitted" err
'

# A call newer than the filter knows fails with ENOSYS (runc's rule), so that
# a program falls back to an older one; fchmodat2, which glibc 2.39 uses for
# fchmodat, is allowed as moby's profile allows it.
test_expect_success ROOT,BUSYBOX,CC 'seccomp: ENOSYS for a syscall newer than it knows' '
	cat >probe.c <<-\EOF &&
	#include <errno.h>
	#include <stdio.h>
	#include <unistd.h>
	#include <sys/syscall.h>
	static int err(long nr) { errno = 0; return syscall(nr, 0, 0, 0, 0, 0) < 0 ? errno : 0; }
	int main(void)
	{
		printf("unknown %d\n", err(999));
	#if defined(__x86_64__)
		int e = err(452);
		printf("fchmodat2 %s\n", e == EPERM || e == ENOSYS ? "refused" : "ran");
	#else
		printf("fchmodat2 ran\n");
	#endif
		printf("mount %d\n", err(SYS_mount));
		return 0;
	}
	EOF
	cc -static -o rootfs/bin/probe probe.c &&
	kiln debug sandbox rootfs /bin/probe >out &&
	printf "unknown %d\nfchmodat2 ran\nmount %d\n" 38 1 >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'with CAP_SYS_ADMIN the filter lets unshare through' '
	kiln debug sandbox --cap-add SYS_ADMIN rootfs unshare -u sh -c "hostname inner && hostname" >out &&
	echo inner >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'chroot is allowed (SYS_CHROOT is in the default set)' '
	kiln debug sandbox rootfs chroot / true
'

test_expect_success ROOT,BUSYBOX,PODMAN 'podman (runc) with Docker'"'"'s capability list agrees' '
	n=$(ulimit -Hn) &&
	podman run --rm --runtime runc --ulimit nofile=$n:$n --ulimit nproc=32768:32768 \
		--network none --cap-add MKNOD,NET_RAW,AUDIT_WRITE \
		--rootfs "$TRASH/rootfs" cat /proc/self/status >podman-status &&
	kiln debug sandbox rootfs cat /proc/self/status >kiln-status &&
	for f in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
		test "$(status_field $f podman-status)" = "$(status_field $f kiln-status)" || {
			echo "$f: podman $(status_field $f podman-status), kiln $(status_field $f kiln-status)"
			exit 1
		}
	done &&
	rm -rf "$TRASH/rootfs/dev" "$TRASH/rootfs/proc" "$TRASH/rootfs/sys" "$TRASH/rootfs/run"
'

test_expect_success ROOT,BUSYBOX,PODMAN 'podman and kiln agree on which mounts are read-only' '
	n=$(ulimit -Hn) &&
	podman run --rm --runtime runc --ulimit nofile=$n:$n --ulimit nproc=32768:32768 \
		--network none --rootfs "$TRASH/rootfs" cat /proc/self/mounts >podman-mounts &&
	kiln debug sandbox rootfs cat /proc/self/mounts >kiln-mounts &&
	for m in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /proc/sys /proc/bus /proc/irq; do
		p=$(awk -v m=$m "\$2 == m { split(\$4, o, \",\"); print \$3, o[1] }" podman-mounts) &&
		k=$(awk -v m=$m "\$2 == m { split(\$4, o, \",\"); print \$3, o[1] }" kiln-mounts) &&
		test "$p" = "$k" || { echo "$m: podman [$p], kiln [$k]"; exit 1; }
	done &&
	rm -rf "$TRASH/rootfs/dev" "$TRASH/rootfs/proc" "$TRASH/rootfs/sys" "$TRASH/rootfs/run"
'

test_done
