#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Cache mounts shared between machines: --cache-to ...,cache-mounts=true
# exports the RUN --mount=type=cache directories the build uses (a blob
# each, annotated in the manifest, listed in the cache config), and a
# build reading that cache seeds its own cache mounts before any step: a
# fresh store's RUN that misses the cache finds the file another machine
# wrote, in a root with the mount's owner and mode. A local cache mount is
# replaced only when it is empty or older than the exported one.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

registry_for_tests mounts
A=$TRASH/storeA

fresh() {
	rm -rf "$TRASH/$1" && KILN_ROOT=$TRASH/$1 kiln load -i base.tar >/dev/null
}

# the file the cache mount holds in a store
mount_file() {
	find "$1/build-cache-mounts" -name "$2" -type f | head -1
}

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'setup: a RUN with a cache mount' '
	KILN_ROOT=$A build_base &&
	KILN_ROOT=$A kiln save --format oci-archive -o base.tar $BB &&
	mkdir ctx && cat >ctx/Dockerfile <<-EOF
	FROM $BB
	ARG V=1
	RUN --mount=type=cache,target=/cache (cat /cache/hello 2>/dev/null || echo none) >/seen && echo "built \$V" >>/cache/hello
	EOF
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'store A exports its cache mount with the cache' '
	KILN_ROOT=$A kiln build --progress=plain -t app:1 \
		--cache-to type=registry,ref=$R/cache:mounts,mode=max,cache-mounts=true ctx 2>out &&
	test_grep "cache mount /cache: [0-9]* bytes" out &&
	curl -fsS -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		http://$R/v2/cache/manifests/mounts >m.json &&
	jq -r ".layers[] | select(.annotations[\"dev.kiln.cache-mount.id\"]) |
		.annotations[\"dev.kiln.cache-mount.id\"]" m.json >ids &&
	echo /cache >expect && test_cmp expect ids &&
	curl -fsS http://$R/v2/cache/blobs/$(jq -r .config.digest m.json) >cfg.json &&
	test "$(jq -r ".kiln.mounts[0].id" cfg.json)" = /cache &&
	KILN_ROOT=$A kiln build -q -t app:plain \
		--cache-to type=registry,ref=$R/cache:plain,mode=max ctx >/dev/null &&
	curl -fsS -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		http://$R/v2/cache/manifests/plain >p.json &&
	test "$(jq "[.layers[] | select(.annotations[\"dev.kiln.cache-mount.id\"])] | length" p.json)" = 0
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'a fresh store B: a RUN that misses finds A'"'"'s file' '
	fresh B &&
	KILN_ROOT=$TRASH/B kiln build --progress=plain --build-arg V=2 -t app:2 \
		--cache-from type=registry,ref=$R/cache:mounts ctx 2>out &&
	test_grep "cache mount /cache: seeded from the cache" out &&
	KILN_ROOT=$TRASH/B kiln run --rm app:2 cat /seen >seen &&
	echo "built 1" >expect && test_cmp expect seen &&
	printf "built 1\nbuilt 2\n" >expect && test_cmp expect "$(mount_file $TRASH/B hello)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'B'"'"'s own cache mount is newer: kept' '
	KILN_ROOT=$TRASH/B kiln build --progress=plain --build-arg V=3 -t app:3 \
		--cache-from type=registry,ref=$R/cache:mounts ctx 2>out &&
	test_grep "cache mount /cache: the local one is as new, kept" out &&
	KILN_ROOT=$TRASH/B kiln run --rm app:3 cat /seen >seen &&
	printf "built 1\nbuilt 2\n" >expect && test_cmp expect seen
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'an older local cache mount is replaced' '
	fresh C &&
	KILN_ROOT=$TRASH/C kiln build -q --build-arg V=9 ctx >/dev/null &&
	f=$(mount_file $TRASH/C hello) && echo "built 9" >expect && test_cmp expect "$f" &&
	touch -d "2000-01-01" "$f" &&
	KILN_ROOT=$TRASH/C kiln build --progress=plain --build-arg V=10 -t app:10 \
		--cache-from type=registry,ref=$R/cache:mounts ctx 2>out &&
	test_grep "cache mount /cache: replaced by the newer one from the cache" out &&
	KILN_ROOT=$TRASH/C kiln run --rm app:10 cat /seen >seen &&
	echo "built 1" >expect && test_cmp expect seen
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'a seeded cache'"'"'s root has the mount'"'"'s uid, gid and mode: a non-root RUN writes in it' '
	mkdir owned && cat >owned/Dockerfile <<-EOF &&
	FROM $BB
	ARG X=1
	USER 1000:1000
	RUN --mount=type=cache,target=/home/u/.cache,uid=1000,gid=1000,mode=0750 \
		stat -c "%a %u:%g" /home/u/.cache >/tmp/root && echo "run \$X" >/home/u/.cache/new-\$X
	EOF
	KILN_ROOT=$A kiln build -q \
		--cache-to type=registry,ref=$R/cache:owned,mode=max,cache-mounts=true owned >/dev/null &&
	fresh E &&
	KILN_ROOT=$TRASH/E kiln build --progress=plain --build-arg X=2 -t owned:2 \
		--cache-from type=registry,ref=$R/cache:owned owned 2>out &&
	test_grep "cache mount /home/u/.cache: seeded from the cache" out &&
	KILN_ROOT=$TRASH/E kiln run --rm owned:2 cat /tmp/root >root &&
	echo "750 1000:1000" >expect && test_cmp expect root &&
	test -f "$(mount_file $TRASH/E new-1)" && test -f "$(mount_file $TRASH/E new-2)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'a cache mount the build does not use is not fetched' '
	fresh D && mkdir other && cat >other/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,target=/other echo hi >/other/x
	EOF
	KILN_ROOT=$TRASH/D kiln build --progress=plain \
		--cache-from type=registry,ref=$R/cache:mounts other 2>out &&
	! grep -q "cache mount /cache" out &&
	test -z "$(mount_file $TRASH/D hello)"
'

test_done
