#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A COPY run again after a change takes its unchanged files from the layer
# its last run made, as hard links: the layer is the one a fresh store
# builds (same diff_ids, same files, modes and times), changed files
# (content, mode, mtime) are written anew, and a note that does not check
# out, a pruned layer or --no-cache make kiln write every file.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# the unpacked layer directory of an image's last layer (or the one at INDEX)
last_layer() {
	echo "$KILN_ROOT/snapshots/layers/$(kiln inspect "$1" |
		jq -r ".[0].RootFS.Layers[${2:--1}]" | sed s/^sha256://)"
}

listing() {
	(cd "$1" && find . -mindepth 1 -printf "%P %y %m %U:%G %s %T@ %l\n" | sort)
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a tree of files and a first build' '
	build_base &&
	for d in 0 1 2 3; do
		mkdir -p ctx/tree/d$d/sub &&
		for f in 0 1 2 3 4 5 6 7; do
			head -c $((d * 900 + f * 77)) /dev/urandom >ctx/tree/d$d/f$f &&
			touch -d "2004-05-06 07:08:0$f.$d" ctx/tree/d$d/f$f || return 1
		done &&
		echo "sub $d" >ctx/tree/d$d/sub/s &&
		touch -d "2005-01-01 00:00:0$d" ctx/tree/d$d/sub ctx/tree/d$d || return 1
	done &&
	echo top >ctx/tree/top &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN mkdir -p /w/d1 && echo lower >/w/d1/old && touch -t 200001010000 /w/d1/old
	COPY tree /w/
	EOF
	kiln build -q -t reuse:1 ctx >/dev/null &&
	last_layer reuse:1 >layer1 &&
	test -f "$(cat layer1)/w/d0/f0"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a rebuild after changes links what did not change' '
	echo changed >ctx/tree/d0/f1 &&
	touch -d "2004-05-06 07:08:01.0" ctx/tree/d0/f1 &&
	chmod 0600 ctx/tree/d1/f2 &&
	touch -d "2010-01-01" ctx/tree/d2/f3 &&
	echo new >ctx/tree/d3/new &&
	rm ctx/tree/d1/f4 &&
	kiln build -q -t reuse:2 ctx >/dev/null &&
	last_layer reuse:2 >layer2 &&
	l1=$(cat layer1) && l2=$(cat layer2) &&
	test "$l1" != "$l2" &&
	for f in d0/f0 d1/f0 d1/f7 d2/f2 d3/f5 d0/sub/s; do
		test "$(stat -c %i "$l1/w/$f")" = "$(stat -c %i "$l2/w/$f")" || return 1
	done &&
	for f in d0/f1 d1/f2 d2/f3; do
		test "$(stat -c %i "$l1/w/$f")" != "$(stat -c %i "$l2/w/$f")" || return 1
	done &&
	test "$(cat "$l2/w/d0/f1")" = changed &&
	test "$(stat -c %a "$l2/w/d1/f2")" = 600 &&
	! test -e "$l2/w/d1/f4" && test -f "$l2/w/d3/new"
'

# With rewrite-timestamp, layers do not depend on when they were built, so a
# fresh store gives the same diff_ids byte for byte. The times are rewritten
# at export: the steps, linked copy and all, are the cached ones.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'the same layers as a fresh store builds' '
	repro="--source-date-epoch 1500000000 -o type=image,rewrite-timestamp=true" &&
	kiln build --progress=plain -t reuse:r $repro ctx 2>out >/dev/null &&
	! grep -q "cache miss" out &&
	(
		export KILN_ROOT=$TRASH/store2 &&
		kiln import "$TRASH/busybox.tar" "$BB" >/dev/null &&
		kiln build -q -t reuse:r $repro ctx >/dev/null &&
		kiln inspect reuse:r | jq -c ".[0].RootFS.Layers" >fresh.ids &&
		rootfs_of reuse:r fresh-rootfs
	) &&
	kiln inspect reuse:r | jq -c ".[0].RootFS.Layers" >linked.ids &&
	test_cmp fresh.ids linked.ids &&
	rootfs_of reuse:r linked &&
	listing fresh-rootfs/w >want &&
	listing linked/w >got &&
	test_cmp want got &&
	(cd fresh-rootfs/w && find . -type f -exec cmp {} ../../linked/w/{} \;) >cmp.out 2>&1 &&
	test ! -s cmp.out &&
	test "$(cat linked/w/d1/old)" = lower
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a note that does not check out: every file written' '
	notes=$KILN_ROOT/snapshots/notes &&
	set -- "$notes"/copy2-* &&
	test $# = 1 &&
	donor=$(readlink "$1") &&
	test -s "$notes/$donor" &&
	printf x >>"$notes/$donor" &&
	echo again >ctx/tree/d0/f1 &&
	kiln build -q -t reuse:3 ctx >/dev/null &&
	l3=$(last_layer reuse:3) &&
	test "$(stat -c %h "$l3/w/d0/f0")" = 1 &&
	test "$(stat -c %i "$KILN_ROOT/snapshots/layers/$donor/w/d0/f0")" != \
		"$(stat -c %i "$l3/w/d0/f0")" &&
	echo "$l3" >layer3
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ '--no-cache writes every file; the next build links' '
	echo once-more >ctx/tree/d0/f1 &&
	kiln build -q --no-cache -t reuse:4 ctx >/dev/null &&
	l4=$(last_layer reuse:4) &&
	test "$(stat -c %h "$l4/w/d0/f0")" = 1 &&
	echo last >ctx/tree/d0/f1 &&
	kiln build -q -t reuse:5 ctx >/dev/null &&
	l5=$(last_layer reuse:5) &&
	test "$(stat -c %i "$l4/w/d0/f0")" = "$(stat -c %i "$l5/w/d0/f0")"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a pruned last layer: every file written' '
	kiln rmi reuse:1 reuse:2 reuse:r reuse:3 reuse:4 reuse:5 >/dev/null &&
	kiln prune >/dev/null &&
	! test -d "$(cat layer3)" &&
	echo after-prune >ctx/tree/d0/f1 &&
	kiln build -q -t reuse:6 ctx >/dev/null &&
	l6=$(last_layer reuse:6) &&
	test "$(stat -c %h "$l6/w/d0/f0")" = 1 &&
	rootfs_of reuse:6 pruned &&
	(cd ctx/tree && find . -type f -exec cmp {} ../../pruned/w/{} \;) >cmp.out 2>&1 &&
	test ! -s cmp.out
'

# Layers are never changed, but a hand that does must not lead a link out of
# the store: a directory of the last layer made a symlink is not followed.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a symlink in the last layer is not followed' '
	l6=$(last_layer reuse:6) &&
	mv "$l6/w/d2" outside &&
	ln -s "$TRASH/outside" "$l6/w/d2" &&
	echo via-link >ctx/tree/d0/f1 &&
	kiln build -q -t reuse:7 ctx >/dev/null &&
	l7=$(last_layer reuse:7) &&
	test -d "$l7/w/d2" && ! test -L "$l7/w/d2" &&
	test "$(stat -c %h "$l7/w/d2/f1")" = 1 &&
	test "$(stat -c %i outside/f1)" != "$(stat -c %i "$l7/w/d2/f1")" &&
	test "$(stat -c %i "$l6/w/d3/f1")" = "$(stat -c %i "$l7/w/d3/f1")" &&
	cmp ctx/tree/d2/f1 "$l7/w/d2/f1"
'

# The second build's stage has its files linked from the first's, so they
# have two links each: they are still copied (and linked) one by one, not
# taken for a group of hard links within the source. /out, which the RUN
# writes anew, is linked from the stage's new layer (t9026).
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'COPY --from a stage that changed links too' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY tree /src/
	RUN mkdir /out && cp -a /src/d0 /src/d1 /out/
	FROM $BB
	COPY --from=build /out /app
	COPY --from=build /src /all
	EOF
	kiln build -q -t reuse:from1 ctx >/dev/null &&
	a=$(last_layer reuse:from1 -2) && a2=$(last_layer reuse:from1) &&
	echo stage-change >ctx/tree/d1/f3 &&
	kiln build -q -t reuse:from2 ctx >/dev/null &&
	b=$(last_layer reuse:from2 -2) && b2=$(last_layer reuse:from2) &&
	test "$(stat -c %h "$a/app/d0/f2")" = 2 && test "$(stat -c %h "$b/app/d0/f2")" = 2 &&
	test "$(cat "$b/app/d1/f3")" = stage-change &&
	test "$(stat -c %i "$a2/all/d2/f5")" = "$(stat -c %i "$b2/all/d2/f5")" &&
	test "$(cat "$b2/all/d1/f3")" = stage-change &&
	rootfs_of reuse:from2 from &&
	(cd ctx/tree && for f in d0/* d1/*; do
		test -d "$f" || cmp "$f" "../../from/app/$f" || exit 1
	done) &&
	(cd ctx/tree && find . -type f -exec cmp {} ../../from/all/{} \;) >cmp.out 2>&1 &&
	test ! -s cmp.out &&
	test "$(stat -c %h from/all/d2/f5)" = 1
'

test_done
