#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# COPY --from a stage takes the digests of files the source shows from a
# COPY layer from that layer's note instead of reading them again: a file a
# RUN changed afterwards is read, the digests are the ones reading every
# file gives (the cache hits by content across the two ways), and a change
# of the stage's COPY reaches the final image.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# the cache key of the build's step whose name has PATTERN, from --metadata-file
step_key() {
	jq -r --arg p "$2" '.["kiln.steps"][] | select(.name | contains($p)) | .key' "$1"
}

# whether that step was cached
step_cached() {
	jq -r --arg p "$2" '.["kiln.steps"][] | select(.name | contains($p)) | .cached' "$1"
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a context tree' '
	build_base &&
	for d in 0 1 2; do
		mkdir -p ctx/tree/d$d &&
		for f in 0 1 2 3; do
			head -c $((d * 900 + f * 113 + 1)) /dev/urandom >ctx/tree/d$d/f$f || return 1
		done || return 1
	done &&
	echo top >ctx/tree/top &&
	cat >ctx/Dockerfile <<-EOF
	FROM $BB AS build
	COPY tree /src/
	RUN echo changed >>/src/d1/f1
	FROM $BB
	COPY --from=build /src /app
	EOF
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'digests of the files the stage copied: from its note' '
	kiln --debug build --progress=plain --metadata-file md1.json -t notes:1 ctx \
		>out 2>err &&
	grep "COPY: 12 digests from the notes of build" err &&
	step_key md1.json "COPY --from=build" >key1 &&
	test -s key1 &&
	kiln run --rm notes:1 cat /app/d1/f1 >got &&
	cat ctx/tree/d1/f1 >want && echo changed >>want &&
	cmp want got
'

# The notes against reading every file, in a store of its own: the stage is
# built, its notes are removed, and the final COPY reads and hashes every file. Then a change
# before the stage's COPY runs that COPY again (a new note, the same files):
# the final COPY takes its digests from the new note and, when they are the
# digests reading gave, hits the cache by content.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'the digests are the ones reading the files gives' '
	mkdir ctx2 &&
	cp -a ctx/tree ctx2/tree &&
	cat >ctx2/Dockerfile <<-EOF &&
	FROM $BB AS build
	ARG X=1
	RUN echo \$X >/x
	COPY tree /src/
	RUN echo changed >>/src/d1/f1
	FROM $BB
	COPY --from=build /src /app
	EOF
	(
		KILN_ROOT="$TRASH/store2" &&
		build_base &&
		kiln build -q --target build -t notes:stage ctx2 >/dev/null &&
		rm -rf "$KILN_ROOT/snapshots/notes" &&
		kiln --debug build --progress=plain --metadata-file md2.json -t notes:2 ctx2 \
			>out 2>err2 &&
		kiln --debug build --progress=plain --metadata-file md3.json --build-arg X=2 \
			-t notes:3 ctx2 >out 2>err3
	) &&
	! grep "digests from the notes" err2 &&
	test "$(step_cached md2.json "COPY --from=build")" = false &&
	grep "COPY: 12 digests from the notes of build" err3 &&
	test "$(step_cached md3.json "COPY --from=build")" = true
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a changed file of the stage reaches the final image' '
	head -c 300 /dev/urandom >ctx/tree/d2/f3 &&
	kiln --debug build --progress=plain --metadata-file md4.json -t notes:4 ctx \
		>out 2>err &&
	grep "COPY: 12 digests from the notes of build" err &&
	step_key md4.json "COPY --from=build" >key4 &&
	! test_cmp key1 key4 &&
	kiln run --rm notes:4 cat /app/d2/f3 >got &&
	cmp ctx/tree/d2/f3 got
'

test_done
