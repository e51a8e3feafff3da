#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The command line itself: help, version, usage errors and exit codes.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'kiln with no command is a usage error' '
	test_expect_code 2 kiln 2>err &&
	test_grep "usage: kiln" err
'

test_expect_success 'kiln help lists the commands' '
	kiln help >out &&
	test_grep "^  version " out
'

test_expect_success 'kiln version names kiln and its libraries' '
	kiln version >out &&
	test_grep "^kiln [0-9]" out &&
	test_grep "libarchive" out
'

test_expect_success 'an unknown command exits 2' '
	test_expect_code 2 kiln frobnicate 2>err &&
	test_grep "not a kiln command" err
'

test_expect_success 'an unknown option exits 2 and names it' '
	test_expect_code 2 kiln version --bogus 2>err &&
	test_grep "unknown option .--bogus." err
'

test_expect_success 'command --help exits 0 and shows usage' '
	kiln version --help >out &&
	test_grep "^usage: kiln version" out
'

# A dynamic kiln needs libc and libm and nothing else (every other library
# is linked from its static archive); a static one (-Dstatic_libc) needs
# nothing at all, not even a program interpreter. A sanitizer build loads
# the sanitizers' runtimes too.
test_expect_success READELF 'kiln loads no shared object beyond libc' '
	readelf -d -l "$KILN" >elf &&
	sed -n "s/.*(NEEDED).*\[\(.*\)\]/\1/p" elf | sort >needed &&
	if test "$KILN_STATIC_LIBC" = 1; then
		! test -s needed &&
		! grep -q "program interpreter" elf
	elif test "${KILN_SANITIZED:-0}" = 1; then
		grep -q -x libc.so.6 needed &&
		! grep -v -x -e libc.so.6 -e libm.so.6 -e "libasan.so.[0-9]*" \
			-e "libubsan.so.[0-9]*" needed
	else
		grep -q -x libc.so.6 needed &&
		! grep -v -x -e libc.so.6 -e libm.so.6 needed
	fi
'

test_done
