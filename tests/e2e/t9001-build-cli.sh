#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln build from the command line: usage errors, the image id (-q,
# --iidfile, --metadata-file), -f and stdin (a Dockerfile alone or a tar
# context), build args and labels, platforms, progress formats, bad
# Dockerfiles reported with their line before any step runs, and --call.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a busybox base image' '
	build_base &&
	kiln inspect $BB >/dev/null
'

test_expect_success '--help describes the flags' '
	kiln build --help >out &&
	for f in --file --tag --target --build-arg --label --no-cache --pull --platform \
		--network --progress --output --push --load --check --iidfile --metadata-file \
		--jobs; do
		test_grep -e "$f" out || return 1
	done
'

test_expect_success 'usage errors exit 2' '
	mkdir -p empty &&
	test_expect_code 2 kiln build 2>err && test_grep "missing CONTEXT" err &&
	test_expect_code 2 kiln build empty empty 2>err && test_grep "one CONTEXT only" err &&
	test_expect_code 2 kiln build --progress=fancy empty 2>err &&
	test_grep "auto, tty, plain or quiet" err &&
	test_expect_code 2 kiln build --network=bridge empty 2>err &&
	test_grep "default, host or none" err &&
	test_expect_code 2 kiln build -o type=oci empty 2>err && test_grep "needs dest" err &&
	test_expect_code 2 kiln build -o type=oci,dest=x,colour=red empty 2>err &&
	test_grep "unknown key .colour." err &&
	test_expect_code 2 kiln build -o type=floppy,dest=x empty 2>err &&
	test_grep "unknown output type" err &&
	test_expect_code 2 kiln build --build-arg =x empty 2>err &&
	test_expect_code 2 kiln build --label =nokey empty 2>err &&
	test_grep "label needs K=V or K" err &&
	test_expect_code 2 kiln build -q --progress=plain empty 2>err &&
	test_grep "progress=plain and --quiet cannot be used together" err &&
	test_expect_code 2 kiln build -q -o - empty 2>err &&
	test_grep "dest=- writes a tar" err
'

test_expect_success 'a missing Dockerfile is an error, not a usage error' '
	test_expect_code 1 kiln build empty 2>err &&
	test_grep "Dockerfile" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX '-q prints the image id; --iidfile and --metadata-file agree' '
	mkdir -p ctx &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo built >/built
	EOF
	kiln build -q -t cli:1 --iidfile iid --metadata-file meta.json ctx >id &&
	test "$(cat id)" = "$(cat iid)" &&
	test "$(cfg cli:1 .Id)" = "\"$(cat iid)\"" &&
	test "$(jq -r ".[\"containerimage.config.digest\"]" meta.json)" = "$(cat iid)" &&
	test "$(jq -r ".[\"containerimage.digest\"]" meta.json)" = "$(cfg cli:1 .Digest | tr -d \")" &&
	test "$(jq -r ".[\"image.name\"]" meta.json)" = docker.io/library/cli:1 &&
	test "$(jq -r ".[\"kiln.steps.total\"]" meta.json)" = 1 &&
	test "$(jq -r ".[\"kiln.steps\"][0].name" meta.json)" = "[2/2] RUN echo built >/built"
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--progress=quiet prints nothing, -q the id' '
	kiln build --progress=quiet -t cli:1 ctx >out 2>err &&
	test ! -s out &&
	test ! -s err &&
	kiln build -q --progress=quiet -t cli:1 ctx >id2 &&
	test "$(cat id2)" = "$(cat iid)" &&
	kiln build --progress=quiet -o - ctx >fs.tar &&
	tar -tf fs.tar >list &&
	test_grep "^built$" list
'

test_expect_success ROOT,OVERLAY,BUSYBOX '-f names the Dockerfile; -f - reads it from stdin' '
	printf "FROM %s\nRUN echo other >/which\n" $BB >ctx/Other.dockerfile &&
	kiln build -q -t cli:other -f ctx/Other.dockerfile ctx >/dev/null &&
	kiln run --rm cli:other cat /which >out && echo other >expect && test_cmp expect out &&
	printf "FROM %s\nRUN echo stdin >/which\n" $BB |
		kiln build -q -t cli:stdin -f - ctx >/dev/null &&
	kiln run --rm cli:stdin cat /which >out && echo stdin >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'context -: a lone Dockerfile, then a tar context' '
	printf "FROM %s\nRUN echo lone >/which\n" $BB | kiln build -q -t cli:lone - >/dev/null &&
	kiln run --rm cli:lone cat /which >out && echo lone >expect && test_cmp expect out &&
	printf "FROM %s\nCOPY f /f\n" $BB | test_must_fail kiln build -q - 2>err &&
	test_grep "needs a build context" err &&
	mkdir -p tarctx && echo from-tar >tarctx/f &&
	printf "FROM %s\nCOPY f /f\n" $BB >tarctx/Dockerfile &&
	tar -C tarctx -czf ctx.tgz . &&
	kiln build -q -t cli:tar - <ctx.tgz >/dev/null &&
	kiln run --rm cli:tar cat /f >out && echo from-tar >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'build args: given, from the environment, unused' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ARG GREETING=hello
	ARG WHO
	RUN echo "\$GREETING \$WHO" >/greeting
	EOF
	WHO=world kiln build -t cli:args --build-arg GREETING=hi --build-arg WHO \
		--build-arg UNUSED=1 --progress=plain ctx 2>err &&
	test_grep "build-args \[UNUSED\] were not consumed" err &&
	kiln run --rm cli:args cat /greeting >out && echo "hi world" >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--label lands on the image (K alone is K="")' '
	kiln build -q -t cli:label --label org.example.a=1 --label b=two --label e ctx >/dev/null &&
	test "$(cfg cli:label .Config.Labels)" = "{\"b\":\"two\",\"e\":\"\",\"org.example.a\":\"1\"}"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'another platform: RUN is refused at its line, COPY builds' '
	printf "FROM scratch\nCOPY f /f\nRUN true\n" >tarctx/Dockerfile.run &&
	test_must_fail kiln build -q --platform linux/arm64 -f tarctx/Dockerfile.run tarctx 2>err &&
	test_grep "Dockerfile.run:3: RUN would have to execute for linux/arm64" err &&
	printf "FROM scratch\nCOPY f /f\n" >tarctx/Dockerfile.copy &&
	kiln build -q -t cli:arm --platform linux/arm/7 -f tarctx/Dockerfile.copy tarctx \
		>/dev/null &&
	test "$(cfg cli:arm .Architecture)" = "\"arm\"" &&
	test "$(cfg cli:arm .Variant)" = "\"v7\"" &&
	kiln build -q -t cli:arm64 --platform linux/arm64/v8 -f tarctx/Dockerfile.copy tarctx \
		>/dev/null &&
	test "$(cfg cli:arm64 .Architecture)" = "\"arm64\"" &&
	test "$(cfg cli:arm64 .Variant)" = null &&
	test_expect_code 2 kiln build -q --platform bogus tarctx 2>err &&
	test_grep "^error: --platform: .*bogus" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'another platform: a $BUILDPLATFORM stage runs here' '
	mkdir xctx &&
	cat >xctx/Dockerfile <<-EOF &&
	FROM --platform=\$BUILDPLATFORM $BB AS build
	RUN echo toolchain >/tool
	ARG TARGETARCH
	RUN echo "for \$TARGETARCH" >/out
	FROM build AS test
	RUN cat /out >/tested
	FROM scratch
	COPY --from=build /out /out
	COPY --from=test /tested /tested
	EOF
	kiln build --progress=plain -t cli:xarm --load -o type=local,dest=xarm \
		--platform linux/arm64 xctx 2>arm &&
	test "$(cfg cli:xarm .Architecture)" = "\"arm64\"" &&
	echo "for arm64" >expect &&
	test_cmp expect xarm/out && test_cmp expect xarm/tested &&
	kiln build --progress=plain -o type=local,dest=xamd --platform linux/amd64 xctx 2>amd &&
	echo "for amd64" >expect && test_cmp expect xamd/out &&
	id=$(sed -n "s/^#\([0-9]*\) \[build 2\/3\] RUN echo toolchain.*/\1/p" amd | head -1) &&
	test -n "$id" && test_grep "^#$id CACHED$" amd &&
	printf "FROM --platform=linux/arm64 scratch AS a\nCOPY f /f\nRUN true\n" \
		>tarctx/Dockerfile.xrun &&
	test_must_fail kiln build -q -f tarctx/Dockerfile.xrun tarctx 2>err &&
	test_grep "Dockerfile.xrun:3: RUN would have to execute for linux/arm64" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a bad Dockerfile fails at its line before any step runs' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo should-not-run
	COPY --chmod=banana x /x
	EOF
	test_expect_code 1 kiln build --progress=plain ctx >out 2>err &&
	test_grep "Dockerfile:3: " err &&
	! grep "should-not-run" err &&
	! grep "^#[0-9]* \[[0-9]" err &&
	printf "FROM %s\nRUNN x\n" $BB >ctx/Dockerfile &&
	test_expect_code 1 kiln build ctx 2>err &&
	test_grep "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)" err &&
	printf "FROM %s AS a\nFROM a\nCOPY --from=nope /x /x\n" $BB >ctx/Dockerfile &&
	test_expect_code 1 kiln build --target missing ctx 2>err &&
	test_grep "target stage \"missing\" could not be found" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'plain progress: numbered vertices, DONE, CACHED, output lines' '
	printf "FROM %s\nRUN echo one; echo two\n" $BB >ctx/Dockerfile &&
	kiln build --progress=plain -t cli:plain ctx 2>first &&
	test_grep "^#[0-9]* \[2/2\] RUN echo one; echo two$" first &&
	test_grep "^#[0-9]* [0-9.]* one$" first &&
	test_grep "^#[0-9]* [0-9.]* two$" first &&
	test_grep "^#[0-9]* DONE [0-9.]*s$" first &&
	kiln build --progress=plain -t cli:plain ctx 2>second &&
	test_grep "^#[0-9]* CACHED$" second &&
	! grep " one$" second
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'tty progress: the live view and its summary' '
	kiln build --progress=tty --no-cache -t cli:plain ctx 2>tty &&
	test_grep "\[+\] Building .* FINISHED" tty &&
	test_grep " => \[2/2\] RUN echo one; echo two" tty
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'build checks: warnings after a build, --check, error' '
	mkdir -p ck &&
	printf "FROM %s as BUILD\nCMD echo hi\n" $BB >ck/Dockerfile &&
	kiln build --progress=plain -t cli:checks ck 2>err &&
	test_grep "^ 3 warnings found" err &&
	test_grep "^ - StageNameCasing: Stage name .BUILD. should be lowercase (line 1)$" err &&
	test_grep "^ - JSONArgsRecommended: JSON arguments recommended for CMD" err &&
	kiln build -q -t cli:checks ck >id 2>err &&
	! grep -q "warnings found" err &&
	test_expect_code 1 kiln build --check --progress=quiet ck >out &&
	test_grep "^Check complete, 3 warnings have been found!$" out &&
	u=https://docs.docker.com/go/dockerfile/rule &&
	test_grep "^WARNING: FromAsCasing - $u/from-as-casing/$" out &&
	test_grep "^Dockerfile:2$" out &&
	test_grep "^   2 | >>> CMD echo hi$" out &&
	{ echo "# check=error=true"; cat ck/Dockerfile; } >ck/Dockerfile.strict &&
	test_expect_code 1 kiln build -f ck/Dockerfile.strict --progress=quiet ck 2>err &&
	test_grep "lint violation found for rules: .*JSONArgsRecommended" err &&
	test_expect_code 1 kiln build -f ck/Dockerfile.strict --check --progress=quiet ck \
		>out 2>err &&
	test_grep "lint violation found" err &&
	{ echo "# check=skip=all"; cat ck/Dockerfile; } >ck/Dockerfile.quiet &&
	kiln build -f ck/Dockerfile.quiet --check --progress=quiet ck >out &&
	test_grep "^Check complete, no warnings found.$" out &&
	{ echo "# check=foo"; cat ck/Dockerfile; } >ck/Dockerfile.bad &&
	test_expect_code 1 kiln build -f ck/Dockerfile.bad -q ck 2>err &&
	test_grep "^error: ck/Dockerfile.bad:1: failed to parse check options: invalid check option" \
		err &&
	test_expect_code 1 kiln build --build-arg BUILDKIT_DOCKERFILE_CHECK=error=maybe -q ck 2>err &&
	test_grep "failed to parse BUILDKIT_DOCKERFILE_CHECK: .*\"error=maybe\"" err
'

test_expect_success 'checks: the warnings before an error are shown with it' '
	mkdir -p wbe &&
	printf "FROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n" >wbe/Dockerfile &&
	test_expect_code 1 kiln build --progress=plain wbe 2>err &&
	test_grep "^ 2 warnings found" err &&
	test_grep "^ - StageNameCasing: .*(line 1)$" err &&
	test_grep "^ - MaintainerDeprecated: .*(line 2)$" err &&
	test_grep "^error: Dockerfile:3: unknown instruction: BADCMD$" err &&
	test_expect_code 1 kiln build --check wbe >out 2>err &&
	test_grep "^Check complete, 2 warnings have been found!$" out &&
	test_grep "^WARNING: MaintainerDeprecated" out &&
	test_grep "^error: Dockerfile:3: dockerfile parse error on line 3: unknown instruction" err &&
	printf "FROM --platform=\$BULIDPLATFORM scratch\nCOPY Dockerfile .\n" >wbe/Dockerfile &&
	test_expect_code 1 kiln build --progress=plain wbe 2>err &&
	test_grep "^ - UndefinedArgInFrom: FROM argument .BULIDPLATFORM. is not declared" err &&
	test_grep "^error: Dockerfile:1: empty platform value from expression" err
'

test_expect_success 'a bad -t is a usage error, before anything is built' '
	test_expect_code 2 kiln build -q -t UPPER:x ctx 2>err &&
	test_grep "^error: -t \"UPPER:x\": invalid reference format" err &&
	test_expect_code 2 kiln build -q -t "a@sha256:$(printf %064d 0)" ctx 2>err &&
	test_grep "a tag cannot hold a digest" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a failed RUN shows its output tail and exits 1' '
	printf "FROM %s\nRUN echo first-line; echo to-stderr >&2; exit 3\n" $BB >ctx/Dockerfile &&
	test_expect_code 1 kiln build --progress=quiet ctx 2>err &&
	test_grep "^ > \[2/2\] RUN echo first-line" err &&
	test_grep "^first-line$" err &&
	test_grep "^to-stderr$" err &&
	test_grep "error: Dockerfile:2: process \"/bin/sh -c echo first-line; echo to-stderr >&2; exit 3\" did not complete successfully: exit code: 3" err
'

test_expect_success '--call=targets lists the stages; nothing is built or pulled' '
	mkdir -p tctx &&
	cat >tctx/Dockerfile <<-EOF &&
	ARG V=1

	# deps fetches the modules
	FROM registry.invalid/none:1 AS deps
	RUN false

	# build compiles the app
	FROM deps AS Build

	FROM scratch AS test

	# not a description of the last stage
	FROM scratch
	COPY --from=build / /x
	EOF
	kiln build --call=targets -q tctx >out &&
	printf "%s\n" "TARGET    DESCRIPTION" "deps      fetches the modules" \
		"build     compiles the app" "test      " "(default) " >expect &&
	test_cmp expect out &&
	kiln build --call targets -q --target test tctx >out2 && test_cmp expect out2 &&
	test_expect_code 2 kiln build --call=lint tctx 2>err &&
	test_grep "call is build, check, outline or targets, not .lint." err &&
	test_expect_code 2 kiln build --call=targets --check tctx 2>err &&
	printf "FROM scratch\nFROM scratch AS last\n" >tctx/Dockerfile &&
	kiln build --call=targets -q tctx >out3 &&
	printf "%s\n" "TARGET         DESCRIPTION" "               " "last (default) " >expect &&
	test_cmp expect out3
'

test_expect_success '--call=outline: the args, secrets and agents the target uses' '
	mkdir -p octx &&
	cat >octx/Dockerfile <<-EOF &&
	# GO_VERSION sets the toolchain
	ARG GO_VERSION=1.22
	ARG UNUSED=x

	# build compiles the app
	FROM scratch AS build
	# TAGS build tags
	ARG TAGS=netgo
	ARG GO_VERSION
	RUN --mount=type=secret,id=npmrc,required=true --mount=type=ssh echo \$TAGS \$GO_VERSION
	RUN --mount=type=secret,target=/run/secrets/token echo hi

	FROM scratch AS other
	ARG OTHER=1
	RUN --mount=type=secret,id=elsewhere echo \$OTHER

	FROM scratch
	ARG FINAL=f
	COPY --from=build /x /x
	ENV F=\$FINAL
	EOF
	kiln build --call=outline -q octx >out &&
	printf "%s\n" "BUILD ARG    VALUE   DESCRIPTION" "TAGS         netgo   build tags" \
		"GO_VERSION   1.22    " "FINAL        f       " "" "SECRET   REQUIRED" \
		"npmrc    true" "token    " "" "SSH       REQUIRED" "default   " "" >expect &&
	test_cmp expect out &&
	kiln build --call=outline -q --target build --build-arg TAGS=osusergo octx >out &&
	printf "%s\n" "TARGET:      build" "DESCRIPTION: compiles the app" "" \
		"BUILD ARG    VALUE      DESCRIPTION" "TAGS         osusergo   build tags" \
		"GO_VERSION   1.22       " "" >expect &&
	sed -n 1,7p out >got && test_cmp expect got
'

test_expect_success '--call=check is --check' '
	printf "FROM scratch\nMAINTAINER me\n" >tctx/Dockerfile &&
	test_expect_code 1 kiln build --call=check tctx >out &&
	test_grep "MaintainerDeprecated" out
'

test_done
