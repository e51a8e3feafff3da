#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The sandbox's user: names and numbers resolved from the root filesystem's
# /etc/passwd and /etc/group (supplementary groups too), HOME, and the
# working directory created when missing and owned by the user, as BuildKit
# does.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done &&
	cat >"$1/etc/passwd" <<-\EOF &&
	root:x:0:0:root:/root:/bin/sh
	alice:x:1000:1000:Alice:/home/alice:/bin/sh
	bob:x:1001:1001:Bob:/home/bob:/bin/sh
	EOF
	cat >"$1/etc/group" <<-\EOF
	root:x:0:
	wheel:x:10:alice
	audio:x:29:alice,bob
	alice:x:1000:
	bob:x:1001:
	staff:x:50:
	EOF
}

test_expect_success ROOT,BUSYBOX 'set up a root directory with users and groups' '
	make_rootfs rootfs
'

test_expect_success ROOT,BUSYBOX 'no user is root with no supplementary groups' '
	kiln debug sandbox rootfs sh -c "id -u; id -g; id -G; echo \$HOME" >out &&
	printf "0\n0\n0\n/root\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'a user name gives its uid, gid, groups and home' '
	kiln debug sandbox -u alice rootfs sh -c "id -u; id -g; id -G; echo \$HOME; whoami" >out &&
	printf "1000\n1000\n1000 10 29\n/home/alice\nalice\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'a uid from passwd behaves like the name' '
	kiln debug sandbox -u 1001 rootfs sh -c "id -u; id -g; id -G; echo \$HOME" >out &&
	printf "1001\n1001\n1001 29\n/home/bob\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'user:group takes the group and no supplementary groups' '
	kiln debug sandbox -u alice:staff rootfs sh -c "id -u; id -g; id -G" >out &&
	printf "1000\n50\n50\n" >expect &&
	test_cmp expect out &&
	kiln debug sandbox -u bob:29 rootfs sh -c "id -u; id -g; id -G" >out &&
	printf "1001\n29\n29\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'numbers unknown to passwd and group are used as they are' '
	kiln debug sandbox -u 4242:4343 rootfs sh -c "id -u; id -g; id -G; echo \$HOME" >out &&
	printf "4242\n4343\n4343\n/\n" >expect &&
	test_cmp expect out &&
	kiln debug sandbox -u 4242 rootfs sh -c "id -u; id -g" >out &&
	printf "4242\n0\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'unknown names fail with docker'"'"'s message' '
	test_expect_code 125 kiln debug sandbox -u carol rootfs true 2>err &&
	test_grep "unable to find user carol: no matching entries in passwd file" err &&
	test_expect_code 125 kiln debug sandbox -u alice:nogroup rootfs true 2>err &&
	test_grep "unable to find group nogroup: no matching entries in group file" err &&
	test_expect_code 125 kiln debug sandbox -u -5 rootfs true 2>err &&
	test_grep "range" err
'

test_expect_success ROOT,BUSYBOX 'the user really is unprivileged' '
	test_must_fail kiln debug sandbox -u alice rootfs sh -c "echo x >/etc/passwd" 2>err &&
	test_grep "Permission denied" err &&
	test_must_fail kiln debug sandbox -u alice rootfs sh -c "echo x >/not-there" 2>err &&
	test_must_fail test -e rootfs/not-there
'

test_expect_success ROOT,BUSYBOX 'a missing working directory is created, owned by the user' '
	kiln debug sandbox -u alice -w /work/src rootfs pwd >out &&
	echo /work/src >expect &&
	test_cmp expect out &&
	test "$(stat -c %u:%g:%a rootfs/work)" = 1000:1000:755 &&
	test "$(stat -c %u:%g:%a rootfs/work/src)" = 1000:1000:755
'

test_expect_success ROOT,BUSYBOX 'an existing working directory keeps its owner' '
	mkdir -p rootfs/srv/data &&
	kiln debug sandbox -u bob -w /srv/data/new rootfs pwd >out &&
	echo /srv/data/new >expect &&
	test_cmp expect out &&
	test "$(stat -c %u rootfs/srv/data)" = 0 &&
	test "$(stat -c %u rootfs/srv/data/new)" = 1001
'

test_expect_success ROOT,BUSYBOX 'the working directory cannot be a file' '
	test_expect_code 125 kiln debug sandbox -w /etc/passwd rootfs true 2>err &&
	test_grep "working directory" err
'

test_expect_success ROOT,BUSYBOX 'a missing passwd file still allows numeric users' '
	mkdir -p bare/bin &&
	cp /bin/busybox bare/bin/busybox &&
	kiln debug sandbox -u 7:8 bare /bin/busybox id >out &&
	test_grep "uid=7 gid=8" out &&
	test_expect_code 125 kiln debug sandbox -u alice bare /bin/busybox true 2>err &&
	test_grep "unable to find user alice" err
'

test_done
