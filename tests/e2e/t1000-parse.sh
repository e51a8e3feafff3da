#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln parse: BuildKit's AST dump, the JSON model, input choices, errors.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a multi-stage Dockerfile' '
	cat >Dockerfile <<-\EOF &&
	# syntax=docker/dockerfile:1
	ARG BASE=alpine:3.19
	# the builder
	FROM --platform=$BUILDPLATFORM golang:1.22 AS build
	WORKDIR /src
	COPY --link . .
	RUN --mount=type=cache,target=/root/.cache \
	    go build -o /out/app .
	RUN <<EOF2
	echo heredoc
	EOF2
	FROM ${BASE}
	COPY --from=build /out/app /usr/local/bin/app
	ENTRYPOINT ["app", "--serve"]
	EOF
	mkdir sub &&
	printf "FROM a\nENV x\n" >sub/app.Dockerfile
'

test_expect_success '--dump prints BuildKit'"'"'s AST dump' '
	kiln parse --dump >out &&
	cat >expect <<-\EOF &&
	(arg "BASE=alpine:3.19")
	(from ["--platform=$BUILDPLATFORM"] "golang:1.22" "AS" "build")
	(workdir "/src")
	(copy ["--link"] "." ".")
	(run ["--mount=type=cache,target=/root/.cache"] "go build -o /out/app .")
	(run "<<EOF2")
	(from "${BASE}")
	(copy ["--from=build"] "/out/app" "/usr/local/bin/app")
	(entrypoint "app" "--serve")
	EOF
	test_cmp expect out
'

test_expect_success 'the dump is the default output' '
	kiln parse >out2 &&
	test_cmp out out2
'

test_expect_success '-f - reads stdin and -f FILE reads that file' '
	kiln parse -f - --dump <Dockerfile >stdin.out &&
	test_cmp out stdin.out &&
	cp Dockerfile sub/Other &&
	kiln parse -f sub/Other >file.out &&
	test_cmp out file.out
'

test_expect_success CONFORMANCE 'every BuildKit parser case dumps byte for byte' '
	for d in "$KILN_CONFORMANCE_DIR"/buildkit-parser/*/; do
		kiln parse -f "$d/Dockerfile" >case.out || return 1
		cmp case.out "$d/result" || return 1
	done
'

test_expect_success JQ '--json is valid JSON with the documented top-level fields' '
	kiln parse --json >j.json &&
	jq -e ".version == 1 and .file == \"Dockerfile\" and .escape == \"\\\\\"" j.json &&
	jq -e "(.instructions | length) == 9 and (.stages | length) == 2" j.json &&
	jq -e ".directives[0] == {name: \"syntax\", value: \"docker/dockerfile:1\", line: 1}" j.json
'

test_expect_success JQ '--json describes instructions, flags, heredocs and comments' '
	jq -e ".instructions[1] | .keyword == \"FROM\" and .instruction == \"from\"
		and .start_line == 4 and .stage == 0
		and .flags[0].name == \"platform\" and .flags[0].value == \"\$BUILDPLATFORM\"
		and .comments[0].text == \"the builder\" and .comments[0].line == 3" j.json &&
	jq -e ".instructions[4] | .start_line == 7 and .end_line == 8 and .json_form == false" j.json &&
	jq -e ".instructions[5].heredocs[0] | .name == \"EOF2\" and .content == \"echo heredoc\\n\"
		and .expand and (.chomp | not) and .fd == 0 and .start_line == 10" j.json &&
	jq -e ".instructions[8] | .json_form and .args == [\"app\", \"--serve\"]" j.json &&
	jq -e ".instructions[0].stage == null" j.json
'

test_expect_success JQ '--json describes stages' '
	jq -e ".stages[0] | .name == \"build\" and .base == \"golang:1.22\"
		and .platform == \"\$BUILDPLATFORM\" and .instructions == [1,2,3,4,5]
		and .start_line == 4 and .end_line == 11" j.json &&
	jq -e ".stages[1] | .name == null and .base == \"\${BASE}\" and .instructions == [6,7,8]" j.json
'

test_expect_success JQ '--json reports empty continuation lines as warnings' '
	printf "FROM a\nRUN a \\\\\n\n b\n" >Warn &&
	kiln parse --json -f Warn >w.json 2>w.err &&
	jq -e ".warnings[0].line == 4 and .warnings[0].start_line == 2" w.json &&
	test_grep "warning: Warn:4: Empty continuation line found in: RUN a  b" w.err
'

test_expect_success 'a parse error exits 1 and names FILE:LINE' '
	test_expect_code 1 kiln parse -f sub/app.Dockerfile 2>err &&
	test_grep "^error: sub/app.Dockerfile:2: ENV must have two arguments$" err
'

test_expect_success 'an unterminated heredoc is located at its instruction' '
	printf "FROM a\nRUN <<EOF\nnever\n" >Unterm &&
	test_expect_code 1 kiln parse -f Unterm 2>err &&
	test_grep "^error: Unterm:2: unterminated heredoc$" err
'

test_expect_success 'errors from stdin name <stdin>' '
	printf "# comment only\n" | test_expect_code 1 kiln parse -f - 2>err &&
	test_grep "^error: <stdin>:1: file with no instructions$" err
'

test_expect_success 'an over-long line is refused with BuildKit'"'"'s message' '
	{ echo "FROM a" && head -c 70000 /dev/zero | tr "\\000" a && echo; } >Long &&
	test_expect_code 1 kiln parse -f Long 2>err &&
	test_grep "Long:2: dockerfile line greater than max allowed size of 65535" err
'

test_expect_success 'a missing Dockerfile exits 1' '
	mkdir empty && (cd empty && test_expect_code 1 kiln parse 2>../err) &&
	test_grep "Dockerfile" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 kiln parse --dump --json 2>err &&
	test_grep "exclude each other" err &&
	test_expect_code 2 kiln parse extra 2>err &&
	test_grep "unexpected argument" err &&
	test_expect_code 2 kiln parse --bogus 2>err &&
	test_expect_code 2 kiln parse -f 2>err
'

test_expect_success '--help describes the command' '
	kiln parse --help >out &&
	test_grep "^usage: kiln parse" out &&
	test_grep -- "--json" out
'

test_done
