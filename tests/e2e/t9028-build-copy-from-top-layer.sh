#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# COPY --from a stage reads a source directory in the stage's top layer,
# not through the overlay, when no layer below has a directory at that path
# or the top one is opaque; a directory that overlayfs merges with a lower
# layer's is read through the overlay. Either way the image holds what the
# stage shows, and the step's key is the one reading through the overlay
# gives.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# the sorted "name content" lines of a directory of an image
listing() {
	kiln run --rm "$1" sh -c "cd $2 && for f in \$(ls -A); do
		if [ -L \$f ]; then echo \"\$f -> \$(readlink \$f)\";
		elif [ -d \$f ]; then echo \"\$f/\";
		else echo \"\$f \$(cat \$f)\"; fi; done"
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup' '
	build_base && mkdir ctx
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a directory only the top layer has is read there' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS gen
	RUN mkdir -p /out/d/sub && echo one >/out/d/a && echo two >/out/d/sub/b && \\
		ln -s a /out/d/l
	FROM $BB
	COPY --from=gen /out/d /app
	EOF
	kiln --debug build --progress=plain -t top:1 ctx >out 2>err &&
	grep "COPY: gen'"'"'s files read in its top layer" err &&
	listing top:1 /app >got &&
	printf "%s\n" "a one" "l -> a" "sub/" >want &&
	test_cmp want got &&
	test "$(kiln run --rm top:1 cat /app/sub/b)" = two
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a directory a lower layer has too is read through the overlay' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS gen
	RUN mkdir -p /out && echo low >/out/low && echo gone >/out/gone
	RUN echo top >/out/top && rm /out/gone
	FROM $BB
	COPY --from=gen /out /app
	EOF
	kiln --debug build --progress=plain -t top:2 ctx >out 2>err &&
	! grep "read in its top layer" err &&
	listing top:2 /app >got &&
	printf "%s\n" "low low" "top top" >want &&
	test_cmp want got
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'an opaque directory is read in the top layer' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS gen
	RUN mkdir -p /out && echo low >/out/low
	RUN rm -rf /out && mkdir /out && echo new >/out/new
	FROM $BB
	COPY --from=gen /out /app
	EOF
	kiln --debug build --progress=plain -t top:3 ctx >out 2>err &&
	grep "read in its top layer" err &&
	listing top:3 /app >got &&
	echo "new new" >want &&
	test_cmp want got
'

# The same stage output with its directory merged with a lower layer's and
# not: the COPY's key is the same, so the second build hits it by content.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'the key is the one the overlay gives' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS gen
	RUN mkdir -p /out && echo x >/out/x
	RUN echo y >/out/y && touch -d "2001-01-01" /out /out/x /out/y
	FROM $BB
	COPY --from=gen /out /app
	EOF
	kiln --debug build --progress=plain -t top:4 ctx >out1 2>err1 &&
	! grep "read in its top layer" err1 &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS gen
	RUN mkdir -p /out && echo x >/out/x && echo y >/out/y && \\
		touch -d "2001-01-01" /out /out/x /out/y
	FROM $BB
	COPY --from=gen /out /app
	EOF
	kiln --debug build --progress=plain -t top:5 ctx >out2 2>err2 &&
	grep "read in its top layer" err2 &&
	test "$(step_states err1 stage-1)" = "1:CACHED 2:DONE " &&
	test "$(step_states err2 stage-1)" = "1:CACHED 2:CACHED "
'

test_done
