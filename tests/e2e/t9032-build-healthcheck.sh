#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# HEALTHCHECK into the image config: shell and exec forms, every option
# (durations in nanoseconds), NONE over an inherited check, BuildKit's
# history text.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir ctx
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'shell form with every option' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	HEALTHCHECK --interval=30s --timeout=3s --start-period=1m30s --start-interval=500ms \\
	    --retries=4 CMD wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1
	EOF
	kiln build -q -t hc:full ctx >/dev/null &&
	cfg hc:full .Config.Healthcheck >out &&
	echo "{\"Test\":[\"CMD-SHELL\",\"wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1\"],\"Interval\":30000000000,\"Timeout\":3000000000,\"StartPeriod\":90000000000,\"StartInterval\":500000000,\"Retries\":4}" >expect &&
	test_cmp expect out &&
	test "$(cfg hc:full ".History[-1].created_by")" = \
		"\"HEALTHCHECK {Test:[CMD-SHELL wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1] Interval:30s Timeout:3s StartPeriod:1m30s StartInterval:500ms Retries:4}\""
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'exec form, then NONE in a stage built on it' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS checked
	HEALTHCHECK CMD ["/bin/true", "arg"]
	FROM checked
	HEALTHCHECK NONE
	EOF
	kiln build -q -t hc:none ctx >/dev/null &&
	kiln build -q -t hc:exec --target checked ctx >/dev/null &&
	test "$(cfg hc:exec .Config.Healthcheck)" = "{\"Test\":[\"CMD\",\"/bin/true\",\"arg\"]}" &&
	test "$(cfg hc:none .Config.Healthcheck)" = "{\"Test\":[\"NONE\"]}" &&
	test "$(cfg hc:none ".History[-1].created_by")" = \
		"\"HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}\""
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a bad duration is an error at its line' '
	printf "FROM %s\nHEALTHCHECK --interval=soon CMD true\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: " err && test_grep "invalid duration" err
'

test_done
