#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln stages: every error of the stage graph exits 1 with Dockerfile:LINE and
# BuildKit's wording; usage errors exit 2.
. "$(dirname "$0")/test-lib.sh"

# expect_error FILE LINE MESSAGE [kiln stages options...]
expect_error() {
	f=$1 line=$2 msg=$3
	shift 3
	test_expect_code 1 kiln stages -f "$f" "$@" >out 2>err &&
	test_must_fail test -s out &&
	if [ "$line" = 0 ]; then want="error: $msg"; else want="error: $f:$line: $msg"; fi &&
	echo "$want" >expect &&
	test_cmp expect err
}

test_expect_success 'unknown target, with a suggestion' '
	printf "FROM alpine AS build\nFROM alpine AS final\n" >t &&
	expect_error t 0 "target stage \"biuld\" could not be found (did you mean build?)" --target biuld &&
	expect_error t 0 "target stage \"nothing\" could not be found" --target nothing
'


test_expect_success 'invalid stage names' '
	printf "FROM alpine AS 2fast\n" >n1 &&
	expect_error n1 1 "invalid name for build stage: \"2fast\", name can'"'"'t start with a number or contain symbols" &&
	printf "FROM alpine AS a/b\n" >n2 &&
	expect_error n2 1 "invalid name for build stage: \"a/b\", name can'"'"'t start with a number or contain symbols"
'

test_expect_success 'a NUL byte in a here-document (it would cut the file short)' '
	printf "FROM alpine\nCOPY <<EOF /f\nab\\0cd\nEOF\n" >nulhd &&
	expect_error nulhd 2 "NUL byte in the here-document EOF of COPY"
'

test_expect_success 'a Dockerfile without a stage: its name, BuildKit'"'"'s words' '
	printf "ARG A=1\n" >argonly &&
	test_expect_code 1 kiln stages -f argonly 2>err &&
	echo "error: argonly: dockerfile contains no stages to build" >expect &&
	test_cmp expect err
'

test_expect_success 'an ENV name that expands to nothing' '
	printf "FROM alpine AS a\nARG X\nENV \${X}=1\nFROM a\n" >envname &&
	expect_error envname 3 "ENV names can not be blank (\"\${X}\" expanded to nothing)"
'

test_expect_success 'COPY --from a later stage' '
	printf "FROM alpine AS a\nCOPY --from=b /x /y\nFROM alpine AS b\nFROM a\n" >later &&
	expect_error later 2 "cannot copy from stage \"b\", it needs to be defined before current stage \"a\""
'

test_expect_success 'RUN --mount from a later stage' '
	printf "FROM alpine AS a\nRUN --mount=from=b,target=/m true\nFROM alpine AS b\nFROM a\n" >mlater &&
	expect_error mlater 2 "cannot mount from stage \"b\" to \"/m\", stage needs to be defined before current command"
'

test_expect_success 'a stage copying from itself, and a cycle' '
	printf "FROM alpine AS a\nCOPY --from=a /x /y\n" >self &&
	expect_error self 2 "circular dependency detected on stage: a" &&
	printf "FROM alpine AS a\nCOPY --from=b /x /y\nFROM alpine AS b\nCOPY --from=a /x /y\n" >cycle &&
	expect_error cycle 2 "circular dependency detected on stage: a"
'

test_expect_success '--from index out of range, --from with a variable' '
	printf "FROM alpine\nFROM alpine\nCOPY --from=2 /x /y\n" >idx &&
	expect_error idx 3 "invalid stage index 2" &&
	printf "ARG S=0\nFROM alpine\nCOPY --from=\$S /x /y\n" >var &&
	expect_error var 3 "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"
'

test_expect_success 'FROM a later stage name is an image (and must be a valid one)' '
	printf "FROM Later\nFROM alpine AS later\n" >img &&
	expect_error img 1 "failed to parse stage name \"Later\": invalid reference format: repository name (library/Later) must be lowercase" &&
	printf "FROM later\nFROM alpine AS later\n" >img2 &&
	kiln stages -f img2 --target later >ok.out &&
	test_grep "^0      stage-0  skipped   image later$" ok.out
'

test_expect_success 'instruction errors stop before any work' '
	printf "FROM alpine\nCOPY --chmod=8 a b\n" >e1 &&
	expect_error e1 2 "invalid chmod parameter: '"'"'8'"'"'. it should be octal string and between 0 and 07777" &&
	printf "FROM alpine\nADD only-one\n" >e2 &&
	expect_error e2 2 "ADD requires at least two arguments, but only one was provided. Destination could not be determined" &&
	printf "FROM alpine\nRUN --mount=type=cache,target=/c,sharing=privat true\n" >e3 &&
	expect_error e3 2 "unsupported sharing value \"privat\" (did you mean private?)" &&
	printf "FROM alpine\nRUN --network=bridge true\n" >e4 &&
	expect_error e4 2 "invalid network mode \"bridge\"" &&
	printf "FROM alpine\nCOPY --form=x a b\n" >e5 &&
	expect_error e5 2 "unknown flag: --form (did you mean from?)" &&
	printf "FROM alpine\nRUNN true\n" >e6 &&
	expect_error e6 2 "unknown instruction: RUNN (did you mean RUN?)" &&
	printf "FROM alpine\nONBUILD FROM x\n" >e7 &&
	expect_error e7 2 "FROM isn'"'"'t allowed as an ONBUILD trigger" &&
	printf "ARG IMG\nFROM \${IMG}\n" >e8 &&
	expect_error e8 2 "base name (\${IMG}) should not be blank" &&
	printf "FROM alpine\nHEALTHCHECK --interval=3 CMD true\n" >e9 &&
	expect_error e9 2 "time: missing unit in duration \"3\""
'

test_expect_success 'usage errors exit 2' '
	printf "FROM alpine\n" >Dockerfile &&
	test_expect_code 2 kiln stages --platform linux/ 2>err &&
	test_grep "invalid component" err &&
	test_expect_code 2 kiln stages --build-arg =x 2>err &&
	test_expect_code 2 kiln stages --target "" 2>err &&
	test_expect_code 2 kiln stages --no-such-flag 2>err &&
	test_expect_code 2 kiln stages a b 2>err
'

test_expect_success 'a missing Dockerfile is an error, not a crash' '
	test_expect_code 1 kiln stages -f nowhere 2>err &&
	test_grep "nowhere" err
'

test_done
