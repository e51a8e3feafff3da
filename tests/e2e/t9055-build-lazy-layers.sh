#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Layers of a stage the image does not hold are kept unpacked only: no blob
# until an image (--target) or an exported cache needs one, and then the
# very blob an image build would have written. A lazy record whose unpacked
# layer is gone (kiln prune) is a miss; fsck stays clean throughout.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# blob_kib ROOT: the size of a store's blobs
blob_kib() {
	du -sk "$1/blobs" | cut -f1
}

# layers ROOT IMAGE: the image's layer blobs and diff ids, one line
layers() {
	KILN_ROOT=$1 kiln inspect "$2" |
		jq -c "[.[0].RootFS.Layers, [.[0].Manifest.layers[] | .digest]]"
}

A=$TRASH/storeA
export KILN_ROOT=$A

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a build stage that makes 8 MiB the image does not take' '
	build_base && kiln save --format oci-archive -o base.tar $BB &&
	mkdir ctx && head -c 4194304 /dev/urandom >ctx/big &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY big /src/big
	RUN cat /src/big /src/big >/src/twice && wc -c </src/twice >/made
	FROM $BB
	COPY --from=build /made /made
	EOF
	blob_kib $A >before &&
	kiln build --progress=plain -t app:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:DONE 3:DONE " &&
	kiln run --rm app:1 cat /made >made && echo 8388608 >expect && test_cmp expect made
'

# The image's own layers are kept the same way and their blobs written on a
# thread while the next steps run; each is named by its diff_id (a symlink
# in layers/), so running the image unpacks nothing.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'running the image unpacks none of its layers again' '
	KILN_ROOT=$A kiln inspect app:1 | jq -r ".[0].RootFS.Layers[]" | sed "s/^sha256://" >ids &&
	test "$(wc -l <ids)" = 2 &&
	L=$A/snapshots/layers &&
	test -d "$L/$(sed -n 1p ids)" && test -h "$L/$(sed -n 2p ids)" &&
	test -d "$L/$(readlink "$L/$(sed -n 2p ids)")" &&
	kiln --debug run --rm app:1 cat /made >made 2>debug &&
	test_cmp expect made &&
	! grep -q "snapshot: unpacking" debug
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'the build stage wrote no blob, and fsck is clean' '
	test $(($(blob_kib $A) - $(cat before))) -lt 1024 &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a rebuild hits the kept layers' '
	kiln build --progress=plain -t app:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:CACHED 3:CACHED " &&
	test "$(step_states out stage-1)" = "1:CACHED 2:CACHED "
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'kiln prune drops the kept layers: the next build runs the stage again' '
	kiln prune >/dev/null &&
	kiln build --progress=plain -t app:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:DONE 3:DONE " &&
	test "$(step_states out stage-1)" = "1:CACHED 2:CACHED " &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ '--target build takes them from the cache and writes their blobs' '
	kiln build --progress=plain --target build -t tools:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:CACHED 3:CACHED " &&
	test $(($(blob_kib $A) - $(cat before))) -gt 8192 &&
	kiln run --rm tools:1 cat /made >made && test_cmp expect made &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'pruned once they have blobs: unpacked from those' '
	kiln prune >/dev/null &&
	kiln build --progress=plain --target build -o type=local,dest=rootfs ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:CACHED 3:CACHED " &&
	cmp ctx/big rootfs/src/big && echo 8388608 >expect && test_cmp expect rootfs/made &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out
'

# rewrite-timestamp takes the build's times out of the image's layers (at
# export; the steps are keyed without it): new content, so that the build
# stage runs and keeps its layers lazy again.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'those blobs are the ones an image build writes at once' '
	R="--source-date-epoch 1000000000 -o type=image,rewrite-timestamp=true" &&
	head -c 4194304 /dev/urandom >ctx/big &&
	kiln build --progress=plain $R -t app:r ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:DONE 3:DONE " &&
	kiln build --progress=plain $R --target build -t tools:r ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:CACHED 3:CACHED " &&
	rm -rf B && KILN_ROOT=$TRASH/B kiln load -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/B kiln build -q $R --target build -t tools:r ctx >/dev/null &&
	layers $TRASH/B tools:r >eager && layers $A tools:r >lazy &&
	test_cmp eager lazy
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ '--cache-to mode=max writes the kept layers: a fresh store hits every step' '
	kiln rmi tools:1 tools:r app:r >/dev/null && kiln prune >/dev/null &&
	kiln build --progress=plain -t app:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:DONE 3:DONE " &&
	kiln build --progress=plain --cache-to type=local,dest=$TRASH/cache,mode=max \
		-t app:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:CACHED 3:CACHED " &&
	rm -rf C && KILN_ROOT=$TRASH/C kiln load -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/C kiln build --progress=plain --target build -t tools:1 \
		--cache-from type=local,src=$TRASH/cache ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:CACHED 3:CACHED " &&
	KILN_ROOT=$TRASH/C kiln run --rm tools:1 cat /made >made && test_cmp expect made
'

# The image's layer is written after its step is done, on a thread: a
# layer that cannot be written fails the build at the export, with the
# step's line, and no image gets the name.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a layer of the image that cannot be written fails the build at its line' '
	mkdir wh && cat >wh/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo a >/a
	RUN touch /.wh.x
	RUN echo b >/b
	EOF
	test_must_fail kiln build -t wh:1 wh 2>err &&
	test_grep "Dockerfile:3: .*.wh.x. cannot be stored in a layer" err &&
	test_must_fail kiln inspect wh:1 >/dev/null 2>&1
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'kiln prune removes a layer named by its diff_id with its name' '
	L=$A/snapshots/layers &&
	find "$L" -maxdepth 1 -type l >links && test -s links &&
	kiln prune >/dev/null &&
	find "$L" -maxdepth 1 -type l >kept && test -s kept &&
	while read -r l; do test -d "$l/" || exit 1; done <kept &&
	kiln rmi app:1 >/dev/null && kiln prune >/dev/null &&
	find "$L" -maxdepth 1 -type l >left && ! test -s left &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out
'

test_done
