#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A pull killed (-9) or interrupted (SIGINT) in the middle of a download
# leaves a store the next command uses as it is: no name, no partial blob,
# fsck happy, and the next pull completes.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

mkfifo "$TRASH/events"
if test_have_prereq PYTHON3,CURL; then
	fake_registry_start st --auth none --events "$TRASH/events" ||
		echo "# the fake registry did not start"
	R=127.0.0.1:$(registry_port st)
else
	R=127.0.0.1:1
fi
export R

# Start a pull, wait until the registry has sent half of a blob, signal it.
pull_and_signal() { # SIGNAL
	exec 7<>"$TRASH/events" &&
	{ "$KILN" pull -q --parallel 1 $R/t/a:1 >pull.out 2>pull.err & } &&
	pid=$! &&
	read -r what <&7 &&
	echo "$what" >stalled &&
	kill -s "$1" $pid &&
	{ wait $pid; echo $? >pull.rc; } &&
	exec 7<&-
}

test_expect_success PYTHON3,CURL 'setup: an image in the registry' '
	make_rootfs a "image A" &&
	random_file a/noise 4096 &&
	KILN_ROOT=$TRASH/src kiln import a local/a:1 >id.a &&
	KILN_ROOT=$TRASH/src kiln push -q local/a:1 $R/t/a:1
'

test_expect_success PYTHON3,CURL 'kill -9 in the middle of a blob' '
	fake_fault st stall 1 &&
	pull_and_signal KILL &&
	test_grep "stalled /v2/t/a/blobs/sha256:" stalled &&
	test "$(cat pull.rc)" = 137 &&
	test -z "$(kiln images -q)" &&
	kiln fsck >fsck &&
	test_grep "no problems found" fsck
'

test_expect_success PYTHON3,CURL 'the next pull completes and prune clears the leftovers' '
	kiln pull -q $R/t/a:1 &&
	test "$(kiln inspect $R/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)" &&
	kiln prune >/dev/null &&
	test -z "$(ls -A "$KILN_ROOT/tmp")" &&
	kiln fsck >fsck &&
	test_grep "no problems found" fsck
'

test_expect_success PYTHON3,CURL 'SIGINT stops a pull cleanly' '
	kiln rmi $R/t/a:1 >/dev/null &&
	kiln prune >/dev/null &&
	fake_fault st stall 1 &&
	pull_and_signal INT &&
	test "$(cat pull.rc)" = 1 &&
	test_grep "interrupted" pull.err &&
	test -z "$(kiln images -q)" &&
	test -z "$(ls -A "$KILN_ROOT/tmp")" &&
	kiln fsck >fsck &&
	test_grep "no problems found" fsck
'

registry_stop_all
test_done
