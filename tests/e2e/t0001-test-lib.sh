#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The test library itself: cleanup hooks, expected failures and TAP output,
# checked by running a small test script under it.
. "$(dirname "$0")/test-lib.sh"

lib="$KILN_SOURCE_ROOT/tests/e2e/test-lib.sh"

test_expect_success 'a nested test script reports each case in TAP' '
	cat >inner.sh <<-EOF &&
	. "$lib"
	test_expect_success "registers hooks" "
		test_when_finished \"echo ran >\\\$TRASH/../hook-ran\" &&
		test_when_finished \"echo second >>\\\$TRASH/../order\" &&
		test_when_finished \"echo first >>\\\$TRASH/../order\" &&
		true
	"
	test_expect_success "fails on purpose" "
		test_when_finished \"echo after-failure >\\\$TRASH/../hook-after-failure\" &&
		false
	"
	test_expect_success "test_must_fail accepts a failing command" "
		test_must_fail false
	"
	test_expect_success "test_must_fail rejects a success" "
		test_must_fail true
	"
	test_expect_success NO_SUCH_TOOL_XYZ "skipped for a missing prerequisite" "
		false
	"
	test_done
	EOF
	mkdir -p box &&
	(cd box && TMPDIR=$TRASH/box sh ../inner.sh >../tap.out 2>&1; echo $? >../status) &&
	cat tap.out &&
	test "$(cat status)" = 1 &&
	test_grep "^ok 1 - registers hooks" tap.out &&
	test_grep "^not ok 2 - fails on purpose" tap.out &&
	test_grep "^ok 3 - test_must_fail accepts" tap.out &&
	test_grep "^not ok 4 - test_must_fail rejects" tap.out &&
	test_grep "^ok 5 - skipped .* # SKIP missing NO_SUCH_TOOL_XYZ" tap.out &&
	test_grep "^1\.\.5$" tap.out
'

test_expect_success 'hooks ran after their case, newest first, even after a failure' '
	test "$(cat box/hook-ran)" = ran &&
	test "$(cat box/hook-after-failure)" = after-failure &&
	printf "first\nsecond\n" >expect &&
	test_cmp expect box/order
'

test_expect_success 'the nested scratch directory was removed' '
	test -z "$(find box -maxdepth 1 -name "kiln-inner.*")"
'

test_done
