#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln stages: --target, --build-arg (K=V and K from the environment),
# --platform, the predefined args, unused build args, ONBUILD edges.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup' '
	cat >Dockerfile <<-\EOF
	ARG NODE=20
	ARG DISTRO=alpine
	FROM --platform=$BUILDPLATFORM node:${NODE}-${DISTRO} AS build
	ARG TARGETARCH
	RUN echo building for $TARGETARCH
	FROM build AS test
	RUN npm test
	FROM nginx:${DISTRO} AS site
	COPY --from=build /app/dist /usr/share/nginx/html
	FROM scratch AS export
	COPY --from=build /app/dist /
	EOF
'

test_expect_success '--target picks the stage; the others are skipped' '
	kiln stages --target test >out &&
	test_grep "schedule (target test):" out &&
	test_grep "level 0: build" out &&
	test_grep "level 1: test" out &&
	test_grep "^skipped: site export$" out
'

test_expect_success '--target is case-insensitive' '
	kiln stages --target TEST >out2 &&
	test_cmp out out2
'

test_expect_success JQ '--build-arg K=V replaces a global default' '
	kiln stages --json --build-arg NODE=22 --build-arg DISTRO=bookworm >a.json &&
	jq -e ".stages[0].base.ref == \"node:22-bookworm\"" a.json &&
	jq -e ".stages[2].base.ref == \"nginx:bookworm\"" a.json &&
	jq -e ".stages[0].from_args | index(\"NODE=22\") != null" a.json
'

test_expect_success JQ '--build-arg K takes K from the environment' '
	NODE=18 "$KILN" stages --json --build-arg NODE >e.json &&
	jq -e ".stages[0].base.ref == \"node:18-alpine\"" e.json &&
	(unset NODE; "$KILN" stages --json --build-arg NODE >u.json) &&
	jq -e ".stages[0].base.ref == \"node:20-alpine\"" u.json
'

test_expect_success JQ '--platform sets the target platform; BUILDPLATFORM stays the host' '
	kiln stages --json --platform linux/arm64 >p.json &&
	jq -e ".target_platform == \"linux/arm64\"" p.json &&
	jq -e ".stages[0].platform == .build_platform" p.json &&
	jq -e ".stages[0].platform_flag == \"\$BUILDPLATFORM\"" p.json &&
	jq -e ".stages[2].platform == \"linux/arm64\"" p.json &&
	jq -e "(.global_args | map(select(.name == \"TARGETARCH\"))[0].value) == \"arm64\"" p.json &&
	jq -e "(.global_args | map(select(.name == \"TARGETSTAGE\"))[0].value) == \"export\"" p.json
'

test_expect_success 'unused build args are reported as docker does' '
	kiln stages --build-arg NODE=20 --build-arg NOPE=1 --build-arg ZED=2 \
		--build-arg HTTP_PROXY=http://proxy:3128 >/dev/null 2>err &&
	test_grep "^\[Warning\] One or more build-args \[NOPE ZED\] were not consumed$" err
'

test_expect_success 'no warning when every build arg is consumed' '
	kiln stages --build-arg NODE=20 >/dev/null 2>err &&
	test_must_fail test -s err
'

test_expect_success 'an ONBUILD COPY --from of the base is an edge of the child' '
	cat >onbuild <<-\EOF &&
	FROM alpine AS base
	ONBUILD COPY --from=assets /a /a
	FROM busybox AS assets
	FROM base AS app
	EOF
	kiln stages -f onbuild >ob.out &&
	test_grep "app <- assets  (COPY --from=assets, line 4, ONBUILD of the base)" ob.out &&
	test_grep "level 0: base assets" ob.out
'

test_expect_success 'global ARGs expand the FROM line of every stage' '
	cat >scope <<-\EOF &&
	ARG V=1
	FROM alpine:3.$V AS a
	FROM alpine AS b
	COPY --from=a /x /x
	EOF
	kiln stages -f scope >sc.out &&
	test_grep "image alpine:3.1$" sc.out
'

test_done
