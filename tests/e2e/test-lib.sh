#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A small sharness-style library for kiln's end-to-end tests. Each test file
# sources it, declares cases with test_expect_success, and ends with
# test_done. Output is TAP, one case per test_expect_success.
#
#   test_expect_success 'what it checks' '
#       kiln parse --dump -f Dockerfile >out &&
#       test_cmp expect out
#   '
#
# Prerequisites (test_have_prereq / first argument of test_expect_success):
#   ROOT      running as root
#   USERNS    unprivileged user namespaces usable
#   OVERLAY   overlayfs mounts work
#   REGISTRY  Debian's docker-registry binary is installed
#   PODMAN    podman is installed

set -u

: "${KILN:=${KILN_BUILD_ROOT:-$(pwd)/build}/kiln}"
: "${KILN_SOURCE_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -z "${KILN_CONFORMANCE_DIR:-}" ]; then
	KILN_CONFORMANCE_DIR=${KILN_CONFORMANCE_DIR_DEFAULT:-$KILN_SOURCE_ROOT/../shared/conformance}
fi
export KILN KILN_SOURCE_ROOT KILN_CONFORMANCE_DIR

test_count=0
test_failed=0
test_name_=$(basename "$0" .sh)

# Every test file gets its own scratch directory (and kiln store), removed at
# the end unless KILN_TEST_KEEP is set.
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/kiln-$test_name_.XXXXXX")
export KILN_ROOT="$TRASH/store"
HOME="$TRASH/home"
export HOME
mkdir -p "$HOME"
cd "$TRASH" || exit 1

kiln() {
	"$KILN" "$@"
}

# Test bodies run in a subshell, so cleanup commands go to a file that the
# runner executes after the body, whatever its outcome (newest first).
test_when_finished() {
	{
		printf '%s\n' "$*"
		cat "$TRASH/.cleanup" 2>/dev/null || :
	} >"$TRASH/.cleanup.new" && mv "$TRASH/.cleanup.new" "$TRASH/.cleanup"
}

test_have_prereq() {
	for p in $(echo "$1" | tr ',' ' '); do
		case "$p" in
		ROOT) [ "$(id -u)" = 0 ] || return 1 ;;
		USERNS) unshare -U true 2>/dev/null || return 1 ;;
		OVERLAY)
			[ "$(id -u)" = 0 ] || return 1
			grep -qw overlay /proc/filesystems || return 1
			;;
		REGISTRY) command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || return 1 ;;
		PODMAN) command -v podman >/dev/null 2>&1 || return 1 ;;
		CONFORMANCE) [ -d "$KILN_CONFORMANCE_DIR" ] || return 1 ;;
		*) command -v "$(echo "$p" | tr 'A-Z' 'a-z')" >/dev/null 2>&1 || return 1 ;;
		esac
	done
	return 0
}

test_ok_() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1"
}

test_failure_() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	echo "not ok $test_count - $1"
	if [ -s "$TRASH/.test-output" ]; then
		sed -e 's/^/#   /' "$TRASH/.test-output" | tail -n 40
	fi
	echo "#   failed script:"
	echo "$2" | sed -e 's/^/#   /'
}

test_run_() {
	(
		eval "$1"
	) >"$TRASH/.test-output" 2>&1
}

test_expect_success() {
	prereq=""
	if [ $# = 3 ]; then
		prereq=$1
		shift
	fi
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		test_count=$((test_count + 1))
		echo "ok $test_count - $1 # SKIP missing $prereq"
		return
	fi
	cd "$TRASH" || exit 1
	if test_run_ "$2"; then
		test_ok_ "$1"
	else
		test_failure_ "$1" "$2"
	fi
	if [ -f "$TRASH/.cleanup" ]; then
		(cd "$TRASH" && . "$TRASH/.cleanup") >/dev/null 2>&1
		rm -f "$TRASH/.cleanup"
	fi
	cd "$TRASH" || exit 1
}

# Prints why a command was expected to fail and did not; 126/127 and signals
# are never an "expected" failure.
test_must_fail() {
	"$@"
	ec=$?
	if [ $ec = 0 ]; then
		echo >&2 "test_must_fail: command succeeded: $*"
		return 1
	elif [ $ec -gt 128 ] && [ $ec -le 192 ]; then
		echo >&2 "test_must_fail: died by signal $((ec - 128)): $*"
		return 1
	elif [ $ec = 127 ] || [ $ec = 126 ]; then
		echo >&2 "test_must_fail: command not found: $*"
		return 1
	fi
	return 0
}

# test_expect_code N cmd...: the command must exit with exactly N.
test_expect_code() {
	want=$1
	shift
	"$@"
	ec=$?
	if [ "$ec" != "$want" ]; then
		echo >&2 "test_expect_code: want exit $want, got $ec: $*"
		return 1
	fi
	return 0
}

test_cmp() {
	diff -u "$1" "$2"
}

test_grep() {
	if ! grep "$@"; then
		echo >&2 "test_grep: no match for: $*"
		for last; do :; done
		[ -f "$last" ] && sed -e 's/^/    /' "$last" >&2
		return 1
	fi
}

test_done() {
	echo "1..$test_count"
	cd /
	if [ -z "${KILN_TEST_KEEP:-}" ]; then
		# stores may hold read-only files or mounts from the sandbox
		if grep -q " $TRASH" /proc/self/mountinfo 2>/dev/null; then
			awk -v t="$TRASH" '$5 ~ "^"t {print $5}' /proc/self/mountinfo | sort -r |
				while read -r m; do umount -l "$m" 2>/dev/null; done
		fi
		chmod -R u+w "$TRASH" 2>/dev/null
		rm -rf "$TRASH"
	else
		echo "# kept $TRASH"
	fi
	[ "$test_failed" = 0 ]
}
