#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ONBUILD across two builds: the triggers are stored in the first image's
# config, run when a second build uses it as a base (before that stage's
# own instructions, COPY from the second build's context), and are not
# passed on to the second image.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'the first build stores its triggers' '
	build_base && mkdir parent child &&
	cat >parent/Dockerfile <<-EOF &&
	FROM $BB
	ONBUILD RUN echo triggered >/triggered
	ONBUILD COPY app.txt /app/
	RUN echo parent >/parent
	EOF
	kiln build -q -t ob:parent parent >/dev/null &&
	test "$(cfg ob:parent .Config.OnBuild)" = \
		"[\"RUN echo triggered >/triggered\",\"COPY app.txt /app/\"]" &&
	kiln run --rm ob:parent sh -c "test ! -e /triggered && cat /parent" >out &&
	echo parent >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a build on it runs them first, with its own context' '
	echo child-app >child/app.txt &&
	cat >child/Dockerfile <<-EOF &&
	FROM ob:parent
	RUN test -f /app/app.txt && echo child >/child
	EOF
	kiln build --progress=plain -t ob:child child 2>progress &&
	test_grep "\] ONBUILD RUN echo triggered >/triggered" progress &&
	rootfs_of ob:child crootfs &&
	echo triggered >expect && test_cmp expect crootfs/triggered &&
	echo child-app >expect && test_cmp expect crootfs/app/app.txt &&
	echo child >expect && test_cmp expect crootfs/child &&
	test "$(cfg ob:child .Config.OnBuild)" = null
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'ONBUILD in a stage runs in a stage built on it' '
	cat >child/Dockerfile <<-EOF &&
	FROM $BB AS tmpl
	ONBUILD RUN echo from-stage >/stage-trigger
	FROM tmpl
	RUN cat /stage-trigger >/seen
	EOF
	kiln build -q -t ob:stages child >/dev/null &&
	rootfs_of ob:stages srootfs && echo from-stage >expect && test_cmp expect srootfs/seen
'

test_done
