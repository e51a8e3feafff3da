#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN --network=none|host|default (and kiln build --network) and
# RUN --security=insecure|sandbox: insecure is refused with BuildKit's
# message unless the build was started with --allow security.insecure, and
# then runs with every capability, no seccomp filter, no no_new_privs,
# nothing of /proc masked and /sys writable, still in its own namespaces;
# --add-host entries in every RUN's /etc/hosts, --ulimit and --shm-size in
# its sandbox, and all three in its cache key.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# field NAME FILE: a /proc/self/status field's value
field() {
	sed -n "s/^$1:[[:space:]]*//p" "$2"
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir ctx
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'network none has only lo; host and default the host'"'"'s' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --network=none ls /sys/class/net >/none
	RUN --network=host ls /sys/class/net >/host
	RUN ls /sys/class/net >/default
	EOF
	ls /sys/class/net >host-nets &&
	kiln build -q -o type=local,dest=rn ctx >/dev/null &&
	echo lo >expect && test_cmp expect rn/none &&
	test_cmp host-nets rn/host && test_cmp host-nets rn/default &&
	kiln build -q --no-cache --network=none -o type=local,dest=rn2 ctx >/dev/null &&
	test_cmp expect rn2/default && test_cmp host-nets rn2/host
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'network=none and host are different cache keys' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN ls /sys/class/net >/nets
	EOF
	kiln build -q -o type=local,dest=k1 ctx >/dev/null &&
	kiln build -q --network=none -o type=local,dest=k2 ctx >/dev/null &&
	echo lo >expect && test_cmp expect k2/nets && test_cmp host-nets k1/nets
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'security=insecure without --allow: refused before any step' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo first >/first
	RUN --security=insecure cat /proc/self/status >/status
	EOF
	test_expect_code 1 kiln build --progress=plain ctx >out 2>&1 &&
	test_grep "error: Dockerfile:3: security.insecure is not allowed" out &&
	! grep "RUN echo first" out &&
	test_expect_code 2 kiln build --allow security.secure ctx 2>err &&
	test_grep "invalid entitlement: security.secure" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'with --allow security.insecure: every capability, no seccomp' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --security=insecure sh -c "cat /proc/self/status >/insecure; grep \" /sys \" /proc/mounts >/sys.mnt; stat -c %F /proc/interrupts >/masked; ls /dev/loop-control >/loop 2>&1; true"
	RUN --security=sandbox sh -c "cat /proc/self/status >/sandbox; grep \" /sys \" /proc/mounts >/sys.sandbox; stat -c %F /proc/interrupts >/masked.sandbox"
	RUN cat /proc/self/status >/default
	RUN --security=insecure sh -c "readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt" >/ns
	EOF
	kiln build -q --allow security.insecure -o type=local,dest=ri ctx >/dev/null &&
	test "$(field CapEff ri/insecure)" = "$(field CapBnd /proc/self/status)" &&
	test "$(field CapEff ri/sandbox)" != "$(field CapBnd /proc/self/status)" &&
	test "$(field Seccomp ri/insecure)" = 0 &&
	test "$(field Seccomp ri/sandbox)" = 2 && test "$(field Seccomp ri/default)" = 2 &&
	test "$(field NoNewPrivs ri/insecure)" = 0 && test "$(field NoNewPrivs ri/sandbox)" = 0 &&
	grep -q " rw," ri/sys.mnt && grep -q " ro," ri/sys.sandbox &&
	echo "regular empty file" >expect && test_cmp expect ri/masked &&
	echo "character special file" >expect && test_cmp expect ri/masked.sandbox &&
	if test -e /dev/loop-control; then echo /dev/loop-control >expect && test_cmp expect ri/loop; fi &&
	{ readlink /proc/self/ns/pid && readlink /proc/self/ns/mnt; } >host-ns &&
	test -s ri/ns &&
	! grep -qxF -f host-ns ri/ns
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--add-host: in every RUN'"'"'s /etc/hosts, and its key' '
	mkdir hctx &&
	cat >hctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN cat /etc/hosts >/hosts-seen
	RUN --network=none cat /etc/hosts >/hosts-none
	EOF
	kiln build --progress=plain -t hosts:1 --add-host db:10.1.2.3 \
		--add-host "gw=host-gateway" --add-host "v6:[2001:db8::7]" hctx 2>first &&
	rootfs_of hosts:1 rootfs &&
	for f in hosts-seen hosts-none; do
		test_grep "^10.1.2.3	db$" rootfs/$f && test_grep "^127.0.0.1	gw$" rootfs/$f &&
		test_grep "^2001:db8::7	v6$" rootfs/$f || return 1
	done &&
	! grep -q "	db$" rootfs/etc/hosts 2>/dev/null &&
	kiln build --progress=plain -t hosts:1 --add-host db:10.1.2.3 \
		--add-host "gw=host-gateway" --add-host "v6:[2001:db8::7]" hctx 2>again &&
	test "$(step_states again)" = "1:CACHED 2:CACHED 3:CACHED " &&
	kiln build --progress=plain -t hosts:2 --add-host db:10.9.9.9 hctx 2>other &&
	test "$(step_states other)" = "1:CACHED 2:DONE 3:DONE " &&
	kiln build --progress=plain -t hosts:3 hctx 2>none &&
	test "$(step_states none)" = "1:CACHED 2:DONE 3:DONE " &&
	rootfs_of hosts:3 rootfs3 && ! grep -q "	db$" rootfs3/hosts-seen &&
	test_expect_code 2 kiln build --add-host db:nothost hctx 2>err &&
	test_grep "invalid host db:nothost" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--ulimit and --shm-size: in every RUN, and its key' '
	mkdir uctx &&
	cat >uctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN ulimit -n >/nofile && df -k /dev/shm | tail -1 >/shm
	EOF
	kiln build --progress=plain -t lim:1 --ulimit nofile=300:400 --shm-size 8m uctx 2>first &&
	rootfs_of lim:1 r1 && echo 300 >expect && test_cmp expect r1/nofile &&
	test "$(tr -s " " <r1/shm | cut -d" " -f2)" = 8192 &&
	kiln build --progress=plain -t lim:1 --ulimit nofile=300:400 --shm-size 8m uctx 2>again &&
	test "$(step_states again)" = "1:CACHED 2:CACHED " &&
	kiln build --progress=plain -t lim:2 --ulimit nofile=301:400 --shm-size 8m uctx 2>other &&
	test "$(step_states other)" = "1:CACHED 2:DONE " &&
	m="ulimit=nofile=300:400 shm-size=8388608 → ulimit=nofile=301:400 shm-size=8388608" &&
	test_grep "cache miss: --add-host, --ulimit or --shm-size changed: $m" other &&
	kiln build --progress=plain -t lim:3 uctx 2>none &&
	test "$(step_states none)" = "1:CACHED 2:DONE " &&
	rootfs_of lim:3 r3 && test "$(tr -s " " <r3/shm | cut -d" " -f2)" = 65536
'

test_done
