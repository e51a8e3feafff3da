#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln prune frees the build cache and the unpacked layers that only the
# cache used, keeps what images in the store need, and the next run and
# build still work.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

layers() {
	find "$KILN_ROOT/snapshots/layers" -mindepth 1 -maxdepth 1 -type d ! -name 'tmp-*' | wc -l
}

test_expect_success ROOT,OVERLAY 'a build leaves unpacked layers for its steps' '
	build_base &&
	mkdir ctx &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo one >/one
	RUN echo two >/two
	EOF
	kiln build -q -t t:1 ctx >/dev/null &&
	test "$(layers)" -ge 3 &&
	layers >before
'

test_expect_success ROOT,OVERLAY 'after rmi and prune only the base image layers stay unpacked' '
	kiln rmi t:1 >/dev/null &&
	kiln prune >out &&
	cat out &&
	test_grep "^Deleted [1-9][0-9]* unpacked layers\? (0 in use, kept)" out &&
	test "$(layers)" -lt "$(cat before)" &&
	kiln fsck
'

test_expect_success ROOT,OVERLAY 'the base image still runs and builds after prune' '
	test "$(kiln run --rm $BB echo ok)" = ok &&
	kiln build -q -t t:2 ctx >/dev/null &&
	test "$(kiln run --rm t:2 cat /two)" = two
'

test_expect_success ROOT,OVERLAY 'prune --dry-run deletes no unpacked layer' '
	kiln rmi t:2 >/dev/null &&
	n=$(layers) &&
	kiln prune --dry-run >out &&
	test_grep "^Would delete" out &&
	! grep "unpacked" out &&
	test "$(layers)" = "$n"
'

test_done
