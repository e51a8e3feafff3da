#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Layers are named before their data reaches the disk: each carries a mark
# of the boot that named it (snapshots/unsynced/) until a sync has passed,
# which a command that builds starts in the background as it exits. A mark
# of another boot means the machine restarted before that sync: the layer
# may have lost data, so it is no layer; its step runs again, an image's
# layer is unpacked again from its blob, and fsck stays clean. (The image's
# COPY --from of the stage that ran again is still a hit: as in BuildKit,
# it is found by the stage's definition, which did not change.)
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

export KILN_ROOT=$TRASH/store
U=$KILN_ROOT/snapshots/unsynced
L=$KILN_ROOT/snapshots/layers
OTHER_BOOT=00000000-0000-4000-8000-000000000000

# marks_gone: no mark is left, waiting up to 60 s for the background sync
# (it waits for all of the file system's dirty data, which may be much)
marks_gone() {
	i=0
	while [ -n "$(ls -A "$U")" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	test -z "$(ls -A "$U")"
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a build stage and an image' '
	build_base &&
	mkdir ctx &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	RUN echo made >/made && cat /proc/sys/kernel/random/uuid >/id
	FROM $BB
	COPY --from=build /made /id /
	RUN cat /made /id >/both
	EOF
	kiln --debug build --progress=plain -t localhost/unsynced:1 ctx 2>out &&
	test "$(step_states out build)" = "1:CACHED 2:DONE " &&
	kiln run --rm localhost/unsynced:1 cat /both >both.1 &&
	test "$(head -1 both.1)" = made
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the build syncs its layers as it exits, in the background' '
	test_grep "syncing the store: [1-9][0-9]* layers, in the background" out &&
	marks_gone &&
	kiln --debug build --progress=plain -t localhost/unsynced:1 ctx 2>out2 &&
	test "$(step_states out2 build)" = "1:CACHED 2:CACHED " &&
	! grep -q "syncing the store" out2
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a layer left marked by the boot it was made in stays a layer' '
	boot=$(cat /proc/sys/kernel/random/boot_id) &&
	for d in "$L"/*; do
		test -d "$d" && ! test -h "$d" && ln -s "$boot" "$U/${d##*/}" || :
	done &&
	test -n "$(ls -A "$U")" &&
	kiln build --progress=plain -t localhost/unsynced:1 ctx 2>out3 &&
	test "$(step_states out3 build)" = "1:CACHED 2:CACHED " &&
	marks_gone
'

# A layer directory is known by its inode and birth time: the inode number of
# a removed one may be given to the next directory made.
test_expect_success ROOT,OVERLAY,BUSYBOX 'after a restart before the sync: the steps run again, nothing is lost' '
	for d in "$L"/*; do
		test -d "$d" && ! test -h "$d" && ln -s "$OTHER_BOOT" "$U/${d##*/}" &&
		stat -c "%i %.9W" "$d" >>layers.before || :
	done &&
	test "$(wc -l <layers.before)" -ge 4 &&
	kiln --debug build --progress=plain -t localhost/unsynced:1 ctx 2>out4 &&
	test "$(step_states out4 build)" = "1:CACHED 2:DONE " &&
	test_grep "named in another boot, unsynced: removed" out4 &&
	stat -c "%i %.9W" "$L"/* | sort >layers.after &&
	sort layers.before | comm -12 - layers.after >kept &&
	test_cmp /dev/null kept &&
	kiln build -q --target build -t localhost/unsynced-build:1 ctx >/dev/null &&
	kiln run --rm localhost/unsynced-build:1 cat /made /id >stage.2 &&
	test "$(head -1 stage.2)" = made &&
	test "$(sed -n 2p stage.2)" != "$(sed -n 2p both.1)" &&
	kiln --debug run --rm localhost/unsynced:1 cat /both >both.2 2>debug &&
	test_cmp both.1 both.2 &&
	test_grep "snapshot: unpacking" debug &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out &&
	marks_gone
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'kiln run of an image whose layers were marked by another boot unpacks them again' '
	kiln inspect localhost/unsynced:1 | jq -r ".[0].RootFS.Layers[]" | sed "s/^sha256://" >ids &&
	while read -r id; do
		name=$id && test -h "$L/$id" && name=$(readlink "$L/$id");
		ln -s "$OTHER_BOOT" "$U/$name" || exit 1
	done <ids &&
	kiln --debug run --rm localhost/unsynced:1 cat /both >both.3 2>debug3 &&
	test_cmp both.2 both.3 &&
	test "$(grep -c "snapshot: unpacking" debug3)" = "$(wc -l <ids)" &&
	kiln fsck >fsck.out && test_grep "no problems found" fsck.out
'

test_done
