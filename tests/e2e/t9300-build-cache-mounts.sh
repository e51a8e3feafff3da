#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN --mount=type=cache: a directory of the store kept across builds (per
# id, default the target), never in a layer nor in a step's cache key; its
# options (id, uid/gid/mode, source=, from= a stage, ro), the
# BUILDKIT_CACHE_MOUNT_NS namespace, one store's caches being its own, and
# kiln prune keeping them unless --cache-mounts.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# count the RUNs a build ran (not cached) from its metadata file
ran() {
	jq '."kiln.steps.total" - ."kiln.steps.cached"' "$1"
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir ctx
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a cache persists across builds, outside the layer and the key' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,target=/var/cache/app \
		echo "\$(cat /var/cache/app/n 2>/dev/null)x" >/var/cache/app/n.new && \
		mv /var/cache/app/n.new /var/cache/app/n && cp /var/cache/app/n /seen
	EOF
	kiln build -q -t cm:1 ctx >/dev/null &&
	rootfs_of cm:1 r1 &&
	echo x >expect && test_cmp expect r1/seen &&
	! test -e r1/var/cache/app &&
	kiln build -q --no-cache -t cm:2 ctx >/dev/null &&
	rootfs_of cm:2 r2 &&
	echo xx >expect && test_cmp expect r2/seen &&
	kiln build -q --metadata-file md.json ctx >/dev/null &&
	test "$(ran md.json)" = 0
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the same id from another target and another Dockerfile' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,id=/var/cache/app,target=/elsewhere cat /elsewhere/n >/by-id
	RUN --mount=type=cache,target=/var/cache/app cat /var/cache/app/n >/by-target
	RUN --mount=type=cache,id=other,target=/var/cache/app ls -A /var/cache/app >/other
	EOF
	kiln build -q -t cm:id ctx >/dev/null &&
	rootfs_of cm:id rid &&
	echo xx >expect && test_cmp expect rid/by-id && test_cmp expect rid/by-target &&
	test ! -s rid/other
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'each store has its own caches' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,target=/var/cache/app ls -A /var/cache/app >/listing
	EOF
	KILN_ROOT=$TRASH/other-store kiln import busybox.tar $BB >/dev/null &&
	KILN_ROOT=$TRASH/other-store kiln build -q -t cm:fresh ctx >/dev/null &&
	KILN_ROOT=$TRASH/other-store kiln build -q -o type=local,dest=rfresh ctx >/dev/null &&
	test ! -s rfresh/listing &&
	kiln build -q -o type=local,dest=rold ctx >/dev/null &&
	echo n >expect && test_cmp expect rold/listing
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'uid, gid and mode of a new cache; a USER writes to it' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	USER 1000:1000
	RUN --mount=type=cache,target=/home/cache,uid=1000,gid=1000,mode=0700 \
		stat -c "%u:%g %a" /home/cache >/tmp/perm && touch /home/cache/by-user
	USER root
	RUN cp /tmp/perm /perm
	RUN --mount=type=cache,target=/home/cache,uid=1000,gid=1000,mode=0700 ls /home/cache >/listing
	EOF
	kiln build -q -o type=local,dest=rperm ctx >/dev/null &&
	echo "1000:1000 700" >expect && test_cmp expect rperm/perm &&
	echo by-user >expect && test_cmp expect rperm/listing
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'from= a stage seeds the cache, source= picks a directory' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS seed
	ARG SEED=one
	RUN mkdir -p /opt/seed && echo \$SEED >/opt/seed/s && chown -R 7:8 /opt/seed
	FROM $BB
	RUN --mount=type=cache,target=/c,from=seed,source=/opt/seed \
		sh -c "cat /c/*; stat -c %u:%g /c; echo more >/c/more" >/seen
	EOF
	kiln build -q -o type=local,dest=rs1 ctx >/dev/null &&
	printf "one\n7:8\n" >expect && test_cmp expect rs1/seen &&
	kiln build -q --no-cache -o type=local,dest=rs2 ctx >/dev/null &&
	printf "more\none\n7:8\n" >expect && test_cmp expect rs2/seen &&
	kiln build -q --build-arg SEED=two -o type=local,dest=rs3 ctx >/dev/null &&
	printf "two\n7:8\n" >expect && test_cmp expect rs3/seen
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'source= without from= is a directory of the cache' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,id=sub,target=/x,source=one echo a >/x/f
	RUN --mount=type=cache,id=sub,target=/y cat /y/one/f >/got
	EOF
	kiln build -q -o type=local,dest=rsub ctx >/dev/null &&
	echo a >expect && test_cmp expect rsub/got
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a read-only cache mount cannot be written' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,target=/var/cache/app,ro \
		sh -c "cat /var/cache/app/n; touch /var/cache/app/w 2>/dev/null || echo refused" >/ro
	EOF
	kiln build -q -o type=local,dest=rro ctx >/dev/null &&
	printf "xx\nrefused\n" >expect && test_cmp expect rro/ro
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'BUILDKIT_CACHE_MOUNT_NS keeps namespaces apart' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,target=/var/cache/app ls -A /var/cache/app >/listing
	EOF
	kiln build -q --build-arg BUILDKIT_CACHE_MOUNT_NS=ci -o type=local,dest=rns ctx \
		>/dev/null &&
	test ! -s rns/listing &&
	grep -h "\"id\": \"ci//var/cache/app\"" store/build-cache-mounts/*/info.json
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'kiln prune keeps caches; --cache-mounts deletes them' '
	kiln prune >out &&
	kiln build -q --no-cache -o type=local,dest=rp1 ctx >/dev/null &&
	echo n >expect && test_cmp expect rp1/listing &&
	n=$(ls -d store/build-cache-mounts/*/0 | wc -l) &&
	kiln prune --cache-mounts --dry-run >out &&
	test_grep "Would delete $n cache mounts (0 in use, kept)" out &&
	test "$(ls -d store/build-cache-mounts/*/0 | wc -l)" = "$n" &&
	kiln prune --cache-mounts >out &&
	test_grep "Deleted $n cache mounts (0 in use, kept)" out &&
	test -z "$(ls -A store/build-cache-mounts)" &&
	kiln build -q --no-cache -o type=local,dest=rp2 ctx >/dev/null &&
	test ! -s rp2/listing
'

test_done
