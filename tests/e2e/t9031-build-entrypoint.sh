#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ENTRYPOINT and CMD as BuildKit sets them: exec and shell forms (through
# SHELL), ArgsEscaped, and the reset rule: an ENTRYPOINT drops the CMD the
# stage inherited, not one the stage itself set. What kiln run then runs.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a base with a CMD' '
	build_base && mkdir ctx &&
	printf "FROM %s\nCMD [\"echo\", \"from-base\"]\n" $BB >ctx/Dockerfile &&
	kiln build -q -t ep:base ctx >/dev/null &&
	test "$(cfg ep:base .Config.Cmd)" = "[\"echo\",\"from-base\"]" &&
	test "$(cfg ep:base .Config.ArgsEscaped)" = true &&
	kiln run --rm ep:base >out && echo from-base >expect && test_cmp expect out
'

# entry TAG INSTRUCTIONS...: an image FROM ep:base with the instructions
entry() {
	tag=$1 && shift &&
	{ echo "FROM ep:base" && printf "%s\n" "$@"; } >ctx/Dockerfile &&
	kiln build -q -t "ep:$tag" ctx >/dev/null
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'ENTRYPOINT resets the inherited CMD' '
	entry reset "ENTRYPOINT [\"echo\", \"ep\"]" &&
	test "$(cfg ep:reset .Config.Entrypoint)" = "[\"echo\",\"ep\"]" &&
	test "$(cfg ep:reset .Config.Cmd)" = null &&
	kiln run --rm ep:reset >out && echo ep >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a CMD set in the stage survives a later ENTRYPOINT' '
	entry keep "CMD [\"kept\"]" "ENTRYPOINT [\"echo\", \"ep\"]" &&
	test "$(cfg ep:keep .Config.Cmd)" = "[\"kept\"]" &&
	kiln run --rm ep:keep >out && echo "ep kept" >expect && test_cmp expect out &&
	entry after "ENTRYPOINT [\"echo\", \"ep\"]" "CMD [\"after\"]" &&
	kiln run --rm ep:after >out && echo "ep after" >expect && test_cmp expect out &&
	kiln run --rm ep:after extra >out && echo "ep extra" >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'shell forms go through /bin/sh -c, or SHELL' '
	entry shellform "ENTRYPOINT echo shell \$0" &&
	test "$(cfg ep:shellform .Config.Entrypoint)" = "[\"/bin/sh\",\"-c\",\"echo shell \$0\"]" &&
	kiln run --rm ep:shellform >out && echo "shell /bin/sh" >expect && test_cmp expect out &&
	kiln run --rm ep:shellform arg0 >out && echo "shell arg0" >expect && test_cmp expect out &&
	entry shellcmd "SHELL [\"/bin/sh\", \"-xc\"]" "CMD echo via-shell" &&
	test "$(cfg ep:shellcmd .Config.Cmd)" = "[\"/bin/sh\",\"-xc\",\"echo via-shell\"]" &&
	kiln run --rm ep:shellcmd >out 2>err && echo via-shell >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'history texts of CMD and ENTRYPOINT' '
	test "$(cfg ep:keep "[.History[-2:][].created_by]")" = \
		"[\"CMD [\\\"kept\\\"]\",\"ENTRYPOINT [\\\"echo\\\" \\\"ep\\\"]\"]" &&
	test "$(cfg ep:shellform ".History[-1].created_by")" = \
		"\"ENTRYPOINT [\\\"/bin/sh\\\" \\\"-c\\\" \\\"echo shell \$0\\\"]\""
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a stage based on a stage: the reset follows the stage' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS first
	CMD ["first-cmd"]
	FROM first
	ENTRYPOINT ["echo"]
	EOF
	kiln build -q -t ep:stages ctx >/dev/null &&
	test "$(cfg ep:stages .Config.Cmd)" = null
'

test_done
