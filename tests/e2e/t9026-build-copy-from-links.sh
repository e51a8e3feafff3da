#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# COPY --from a stage links the files the copy would make alike from the
# layer that holds them, on the first build too: the layer is the one a
# copy writes (the same diff_id as the same files copied from the
# context), files whose mode, owner or xattrs the copy changes are written
# anew, and a later step that changes a linked file leaves the stage's
# file alone.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# the unpacked layer directory of an image's layer at INDEX (default: the last)
layer_dir() {
	echo "$KILN_ROOT/snapshots/layers/$(kiln inspect "$1" |
		jq -r ".[0].RootFS.Layers[${2:--1}]" | sed s/^sha256://)"
}

inode() {
	stat -c %i "$1"
}

xattr_of() {
	python3 -c "import os, sys; print(os.getxattr(sys.argv[1], 'user.kiln').decode())" "$1"
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a context tree' '
	build_base &&
	for d in 0 1 2; do
		mkdir -p ctx/tree/d$d &&
		for f in 0 1 2 3 4 5; do
			head -c $((d * 700 + f * 91)) /dev/urandom >ctx/tree/d$d/f$f &&
			touch -d "2003-02-01 10:00:0$f.$d" ctx/tree/d$d/f$f || return 1
		done &&
		touch -d "2003-01-01 00:00:0$d" ctx/tree/d$d || return 1
	done &&
	chmod 0755 ctx/tree/d1/f1 &&
	touch -d "2003-02-01 10:00:04" ctx/tree/d1/f4 &&
	python3 -c "import os; os.setxattr(\"ctx/tree/d2/f2\", \"user.kiln\", b\"kept\")" &&
	head -c 333 /dev/urandom >ctx/tree/top &&
	touch -d "2003-03-01 10:00:00" ctx/tree/top &&
	touch -d "2002-01-01" ctx/tree
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a first build links the stage'"'"'s files' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY tree /src/
	RUN chmod 0600 /src/d0/f3 && touch -d "2001-01-01 00:00:00" /src/d0/f4 && \\
		echo made >/src/d0/new && cp -p /src/d1/f4 /ref && \\
		dd if=/dev/zero of=/src/d1/f4 bs=1 count=20 conv=notrunc 2>/dev/null && \\
		touch -r /ref /src/d1/f4
	FROM $BB
	COPY --from=build /src /app
	EOF
	kiln build -q --target build -t links:build ctx >/dev/null &&
	kiln build -q -t links:1 ctx >/dev/null &&
	copied=$(layer_dir links:build -2) && run=$(layer_dir links:build) &&
	app=$(layer_dir links:1) &&
	for f in top d0/f0 d1/f1 d1/f5 d2/f0; do
		test "$(inode "$copied/src/$f")" = "$(inode "$app/app/$f")" || return 1
	done &&
	test "$(inode "$run/src/d0/new")" = "$(inode "$app/app/d0/new")" &&
	test "$(stat -c %h "$app/app/d0/f3")" = 1 &&
	test "$(stat -c %h "$app/app/d0/f4")" = 1 &&
	test "$(stat -c %h "$app/app/d1/f4")" = 1 &&
	test "$(stat -c %Y "$app/app/d1/f4")" = "$(stat -c %Y ctx/tree/d1/f4)" &&
	head -c 20 /dev/zero >zeros &&
	head -c 20 "$app/app/d1/f4" | cmp - zeros &&
	tail -c +21 ctx/tree/d1/f4 >rest &&
	tail -c +21 "$app/app/d1/f4" | cmp - rest &&
	test "$(stat -c %a "$app/app/d0/f3")" = 600 &&
	test "$(stat -c %a "$app/app/d1/f1")" = 755 &&
	test "$(stat -c %Y "$app/app/d0/f4")" = "$(date -d "2001-01-01 00:00:00" +%s)" &&
	test "$(stat -c %Y "$app/app/d1")" = "$(stat -c %Y ctx/tree/d1)" &&
	test "$(stat -c %Y "$app/app/d2")" = "$(stat -c %Y ctx/tree/d2)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a file with xattrs is written, with them' '
	copied=$(layer_dir links:build -2) && app=$(layer_dir links:1) &&
	test "$(xattr_of "$copied/src/d2/f2")" = kept &&
	test "$(inode "$copied/src/d2/f2")" != "$(inode "$app/app/d2/f2")" &&
	test "$(stat -c %h "$app/app/d2/f2")" = 1 &&
	test "$(xattr_of "$app/app/d2/f2")" = kept &&
	cmp ctx/tree/d2/f2 "$app/app/d2/f2"
'

# The same files, modes and times copied from the context: the layer a
# COPY writes, byte for byte (the destination directory itself is made at
# build time: rewrite-timestamp takes that time out). The times are
# rewritten at export, so the same build without it has the step's own
# layer, the linked one.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'the layer is the one a copy makes' '
	repro="--source-date-epoch 1500000000 -o type=image,rewrite-timestamp=true" &&
	kiln build -q $repro --no-cache-filter build -t links:r ctx >/dev/null &&
	kiln build -q -t links:steps ctx >/dev/null &&
	test "$(stat -c %h "$(layer_dir links:steps)/app/d0/f0")" = 2 &&
	mkdir -p ctx2 &&
	rootfs_of links:1 rootfs &&
	cp -a rootfs/app ctx2/app &&
	cat >ctx2/Dockerfile <<-EOF &&
	FROM $BB
	COPY app /app
	EOF
	kiln build -q $repro -t links:ctx ctx2 >/dev/null &&
	kiln inspect links:ctx | jq -r ".[0].RootFS.Layers[-1]" >want &&
	kiln inspect links:r | jq -r ".[0].RootFS.Layers[-1]" >got &&
	test_cmp want got
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ '--chmod, --chown: only files already so are linked' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY tree /src/
	RUN cp /src/d0/f3 /src/d0/g && chmod 0600 /src/d0/g
	FROM $BB AS m
	COPY --from=build --chmod=600 /src /m
	FROM $BB AS o
	COPY --from=build --chown=7:8 /src /o
	EOF
	kiln build -q --target build -t links:b2 ctx >/dev/null &&
	kiln build -q --target m -t links:m ctx >/dev/null &&
	kiln build -q --target o -t links:o ctx >/dev/null &&
	run=$(layer_dir links:b2) && m=$(layer_dir links:m) && o=$(layer_dir links:o) &&
	test "$(inode "$run/src/d0/g")" = "$(inode "$m/m/d0/g")" &&
	test "$(stat -c %h "$m/m/d0/f0")" = 1 &&
	test "$(stat -c %a "$m/m/d0/f0")" = 600 &&
	test "$(stat -c %h "$o/o/d0/f0")" = 1 &&
	test "$(stat -c %u:%g "$o/o/d0/f0")" = 7:8
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a changed link leaves the stage'"'"'s file; copy 2 writes' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY tree /src/
	FROM $BB AS w
	COPY --from=build /src /app
	RUN echo appended >>/app/d1/f2 && chmod 0700 /app/d1/f3
	FROM $BB AS again
	COPY --from=build /src /again
	EOF
	kiln build -q --target w -t links:w ctx >/dev/null &&
	kiln build -q -t links:again ctx >/dev/null &&
	src=$(layer_dir links:w -2) && ran=$(layer_dir links:w) &&
	again=$(layer_dir links:again) &&
	test "$(inode "$src/app/d1/f0")" != "$(inode "$again/again/d1/f0")" &&
	test "$(tail -c 9 "$ran/app/d1/f2")" = appended &&
	cmp ctx/tree/d1/f2 "$again/again/d1/f2" &&
	cmp ctx/tree/d1/f2 "$src/app/d1/f2" &&
	test "$(stat -c %a "$again/again/d1/f3")" = 644 &&
	rootfs_of links:again again &&
	(cd ctx/tree && find . -type f -exec cmp {} ../../again/again/{} \;) >cmp.out 2>&1 &&
	test ! -s cmp.out
'

# /c1/pub/p is linked: its other link is in stage s's layer, not in the
# image. The later copies are written: a second path to that inode would
# show in the image (and in its local and tar outputs) as a hard link.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'one inode never shows at two paths of an image' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS s
	RUN mkdir -p /h/pub && echo p >/h/pub/p && echo t >/h/top
	FROM $BB
	COPY --from=s /h /c1/
	COPY --from=s /h /c2/
	COPY --from=s /h/pub /h/pub /twice/
	COPY --from=$BB /bin/busybox /bb2
	RUN for f in /c1/pub/p /c2/pub/p /twice/p /bb2 /bin/busybox; do \\
		stat -c "%h %n" \$f; done >/l
	RUN if [ /c1/pub/p -ef /c2/pub/p ]; then echo same; else echo apart; fi >>/l
	EOF
	kiln build -q -t links:alias ctx >/dev/null &&
	kiln run --rm links:alias cat /l >got &&
	echo "2 /c1/pub/p" >expect &&
	printf "1 %s\n" /c2/pub/p /twice/p >>expect &&
	echo "$(stat -c %h "$(layer_dir $BB 0)/bin/busybox") /bb2" >>expect &&
	echo "$(stat -c %h "$(layer_dir $BB 0)/bin/busybox") /bin/busybox" >>expect &&
	echo apart >>expect &&
	test_cmp expect got &&
	kiln build -q -o type=tar,dest=alias.tar ctx >/dev/null &&
	tar -tvf alias.tar | grep -E " (c1|c2|twice)/" >list &&
	! grep "link to" list
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SETCAP,GETCAP 'COPY --from keeps a file'"'"'s capability' '
	mkdir capctx && cp /bin/true capctx/capped &&
	setcap cap_net_raw+ep capctx/capped &&
	tar -C capctx --xattrs --xattrs-include=security.capability -cf capctx/capped.tar capped &&
	cat >capctx/Dockerfile <<-EOF &&
	FROM $BB AS s
	ADD capped.tar /c/
	FROM $BB
	COPY --chown=1:1 --from=s /c/capped /out/
	EOF
	kiln build -q -o type=local,dest=capout capctx >/dev/null &&
	getcap capout/out/capped >got &&
	test_grep "cap_net_raw[=+]ep" got &&
	test "$(stat -c %u:%g capout/out/capped)" = 1:1
'

test_done
