#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN --mount=type=bind from a stage, an image and the context: read-only
# by default, writable with rw and every write thrown away (neither the
# source, nor the layer, nor the next mount sees it); type=tmpfs with its
# size enforced and its contents gone with the RUN.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir -p ctx/data && echo original >ctx/data/f
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bind from a stage: read-only, or rw with writes discarded' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS src
	RUN mkdir /data && echo original >/data/f
	FROM $BB
	RUN --mount=type=bind,from=src,source=/data,target=/m \
		sh -c "cat /m/f >/ro.seen; (echo x >/m/f) 2>/dev/null || echo refused >/ro.write"
	RUN --mount=type=bind,from=src,source=/data,target=/m,rw \
		sh -c "echo changed >/m/f; echo new >/m/new; cat /m/f >/rw.seen"
	RUN --mount=type=bind,from=src,source=/data,target=/m \
		sh -c "cat /m/f >/after; ls /m >/after.ls"
	EOF
	kiln build -q -t bind:stage --target src ctx >/dev/null &&
	kiln build -q -o type=local,dest=rs ctx >/dev/null &&
	echo original >expect && test_cmp expect rs/ro.seen && test_cmp expect rs/after &&
	echo refused >expect && test_cmp expect rs/ro.write &&
	echo changed >expect && test_cmp expect rs/rw.seen &&
	echo f >expect && test_cmp expect rs/after.ls &&
	! test -e rs/m/f && ! test -e rs/m/new &&
	rootfs_of bind:stage rsrc &&
	echo original >expect && test_cmp expect rsrc/data/f && ! test -e rsrc/data/new
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bind from an image' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=bind,from=$BB,source=/etc,target=/img-etc,rw \
		sh -c "head -1 /img-etc/passwd >/passwd.first; echo y >/img-etc/added"
	EOF
	kiln build -q -o type=local,dest=ri ctx >/dev/null &&
	head -1 ri/etc/passwd >expect && test_cmp expect ri/passwd.first &&
	! test -e ri/etc/added && ! test -e ri/img-etc &&
	rootfs_of $BB rbase && ! test -e rbase/etc/added
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bind from the context: the directory, a file, rw on a copy' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=bind,source=data,target=/d cat /d/f >/ctx.seen
	RUN --mount=type=bind,source=data/f,target=/one cat /one >/file.seen
	RUN --mount=type=bind,target=/all,rw \
		sh -c "echo changed >/all/data/f; cat /all/data/f >/ctx.rw; rm /all/Dockerfile"
	EOF
	kiln build -q -o type=local,dest=rc ctx >/dev/null &&
	echo original >expect &&
	test_cmp expect rc/ctx.seen && test_cmp expect rc/file.seen && test_cmp expect ctx/data/f &&
	echo changed >expect && test_cmp expect rc/ctx.rw &&
	test -e ctx/Dockerfile && ! test -e rc/all
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bind of a .dockerignore-d file: it is not there' '
	echo "data/f" >ctx/.dockerignore &&
	test_when_finished "rm -f ctx/.dockerignore" &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=bind,source=data,target=/d sh -c "ls -A /d >/listing"
	EOF
	kiln build -q -o type=local,dest=rign ctx >/dev/null &&
	test ! -s rign/listing
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bind of a source a stage lacks: the source as written, at its line' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS n
	RUN mkdir /d && ln -s /nonexist /d/link
	FROM $BB
	RUN --mount=type=bind,from=n,source=d/link/inner,target=/m ls /m
	EOF
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:4: mount source \"d/link/inner\" of n: No such file or directory" err &&
	! grep /proc/self err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'tmpfs: size enforced, devices allowed, gone with the RUN' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=tmpfs,target=/t,size=1m \
		sh -c "dd if=/dev/zero of=/t/half bs=1k count=512 2>/dev/null && echo fits >/small; \
		dd if=/dev/zero of=/t/big bs=1k count=2048 2>/dev/null || echo full >/big; \
		df -k /t | tail -1 | tr -s \" \" | cut -d\" \" -f2 >/size; stat -f -c %T /t >/fstype"
	RUN --mount=type=tmpfs,target=/t ls -A /t >/second
	RUN --mount=type=tmpfs,target=/t mknod /t/null c 1 3 && echo x >/t/null && \\
		grep " /t " /proc/mounts | grep -c nodev >/nodev || true
	EOF
	kiln build -q -o type=local,dest=rt ctx >/dev/null &&
	echo fits >expect && test_cmp expect rt/small &&
	echo full >expect && test_cmp expect rt/big &&
	echo 1024 >expect && test_cmp expect rt/size &&
	echo tmpfs >expect && test_cmp expect rt/fstype &&
	test ! -s rt/second && ! test -e rt/t/half &&
	echo 0 >expect && test_cmp expect rt/nodev
'

test_done
