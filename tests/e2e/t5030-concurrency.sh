#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Several kiln processes on one store at once: the same load twice,
# imports, tags, and a prune that must wait for writers.
. "$(dirname "$0")/test-lib.sh"

HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh

test_expect_success BUSYBOX 'setup' '
	"$HELPER" --tar rootfs.tar &&
	kiln --root "$TRASH/src" import rootfs.tar bb:1 >/dev/null &&
	kiln --root "$TRASH/src" import rootfs.tar bb:2 >/dev/null &&
	kiln --root "$TRASH/src" save -o two.tar bb:1 bb:2
'

test_expect_success BUSYBOX 'two loads of the same archive at once both succeed' '
	"$KILN" load -i two.tar >l1 2>&1 &
	p1=$!
	"$KILN" load -i two.tar >l2 2>&1 &
	p2=$!
	wait $p1 && wait $p2 &&
	test_grep "Loaded image: bb:1" l1 && test_grep "Loaded image: bb:1" l2 &&
	kiln images >out && test_grep "^bb  *1 " out && test_grep "^bb  *2 " out &&
	kiln fsck >out && test_grep "no problems found" out
'

test_expect_success BUSYBOX 'four loads creating one new store at once, ten times over' '
	i=0 &&
	while [ $i -lt 10 ]; do
		rm -rf "$TRASH/fresh" && : >pids &&
		for n in 1 2 3 4; do
			"$KILN" --root "$TRASH/fresh" load -i two.tar >"fresh$n" 2>&1 &
			echo $! >>pids
		done &&
		for p in $(cat pids); do wait "$p" || { cat fresh1 fresh2 fresh3 fresh4; return 1; }; done &&
		i=$((i + 1))
	done &&
	kiln --root "$TRASH/fresh" fsck >out && test_grep "no problems found" out
'

test_expect_success BUSYBOX 'four imports of one tar at once' '
	: >pids || return 1
	for n in 1 2 3 4; do
		"$KILN" import rootfs.tar "par:$n" >"imp$n" 2>&1 &
		echo $! >>pids
	done &&
	for p in $(cat pids); do wait "$p" || return 1; done &&
	kiln images par >out && test "$(grep -c "^par " out)" = 4 &&
	kiln fsck >out && test_grep "no problems found" out
'

test_expect_success BUSYBOX 'eight tags at once' '
	: >pids || return 1
	for n in 1 2 3 4 5 6 7 8; do
		"$KILN" tag bb:1 "many:$n" 2>>tag-errors &
		echo $! >>pids
	done &&
	for p in $(cat pids); do wait "$p" || return 1; done &&
	test ! -s tag-errors &&
	kiln images many >out && test "$(grep -c "^many " out)" = 8
'

test_expect_success BUSYBOX 'prune next to loads and imports keeps everything they record' '
	rm -rf "$KILN_ROOT" && : >pids || return 1
	"$KILN" load -i two.tar >/dev/null 2>&1 &
	echo $! >>pids
	"$KILN" import rootfs.tar side:1 >/dev/null 2>&1 &
	echo $! >>pids
	"$KILN" prune >prune1 2>&1 &
	echo $! >>pids
	"$KILN" load -i two.tar >/dev/null 2>&1 &
	echo $! >>pids
	"$KILN" prune >prune2 2>&1 &
	echo $! >>pids
	for p in $(cat pids); do wait "$p" || return 1; done &&
	test_grep "Total reclaimed space" prune1 && test_grep "Total reclaimed space" prune2 &&
	kiln images >out &&
	test_grep "^bb  *1 " out && test_grep "^side  *1 " out &&
	kiln fsck >out && test_grep "no problems found" out &&
	kiln save -o again.tar bb:1 side:1
'

test_done
