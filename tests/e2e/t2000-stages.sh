#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln stages: the stages of a multi-stage Dockerfile, their bases and edges,
# what the target needs, the parallel schedule; text and JSON.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a Go service with a web front end' '
	mkdir app &&
	cat >app/Dockerfile <<-\EOF
	# syntax=docker/dockerfile:1
	ARG GO_VERSION=1.22
	ARG RUNTIME=alpine:3.19
	FROM golang:${GO_VERSION} AS deps
	WORKDIR /src
	COPY go.mod go.sum ./
	RUN --mount=type=cache,target=/go/pkg/mod go mod download

	FROM deps AS build
	COPY . .
	RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app .

	FROM deps AS test
	RUN go test ./...

	FROM node:20 AS web
	WORKDIR /web
	COPY web/ .
	RUN npm ci && npm run build

	FROM ${RUNTIME} AS final
	COPY --from=build /out/app /usr/local/bin/app
	COPY --from=web /web/dist /srv
	COPY --from=busybox:1.36 /bin/busybox /bin/
	ENTRYPOINT ["/usr/local/bin/app"]
	EOF
'

test_expect_success 'text: stages, edges, schedule, skipped' '
	kiln stages app >out &&
	cat >expect <<-\EOF &&
	STAGE  NAME   STATUS    BASE
	0      deps   level 0   image golang:1.22
	1      build  level 1   stage deps
	2      test   skipped   stage deps
	3      web    level 0   image node:20
	4      final  level 2   image alpine:3.19

	edges:
	  deps <- image golang:1.22  (FROM, line 4)
	  build <- deps  (FROM, line 9)
	  test <- deps  (FROM, line 13)
	  web <- image node:20  (FROM, line 16)
	  final <- image alpine:3.19  (FROM, line 21)
	  final <- build  (COPY --from=build, line 22)
	  final <- web  (COPY --from=web, line 23)
	  final <- image busybox:1.36  (COPY --from, line 24)

	schedule (target final):
	  level 0: deps web
	  level 1: build
	  level 2: final
	skipped: test
	EOF
	test_cmp expect out
'

test_expect_success '-f names the Dockerfile, - reads stdin' '
	kiln stages -f app/Dockerfile >f.out &&
	test_cmp out f.out &&
	kiln stages -f=app/Dockerfile >f.out &&
	test_cmp out f.out &&
	kiln stages -f - <app/Dockerfile >stdin.out &&
	test_cmp out stdin.out &&
	(cd app && kiln stages >../cwd.out) &&
	test_cmp out cwd.out
'

test_expect_success JQ '--json: stages, bases, edges and the schedule' '
	kiln stages --json app >out.json &&
	jq -e ".version == 1 and .target == 4" out.json &&
	jq -e "[.stages[].id] == [\"deps\",\"build\",\"test\",\"web\",\"final\"]" out.json &&
	jq -e ".stages[0].base == {\"kind\":\"image\",\"raw\":\"golang:\${GO_VERSION}\",\"ref\":\"golang:1.22\"}" out.json &&
	jq -e ".stages[1].base.kind == \"stage\" and .stages[1].base.stage == 0" out.json &&
	jq -e ".stages[0].from_args == [\"GO_VERSION=1.22\"]" out.json &&
	jq -e "[.stages[4].deps[] | [.stage, .kind, .line]] == [[1,\"copy\",22],[3,\"copy\",23]]" out.json &&
	jq -e ".stages[4].images == [{\"ref\":\"alpine:3.19\",\"kind\":\"from\",\"line\":21},{\"ref\":\"busybox:1.36\",\"kind\":\"copy\",\"line\":24}]" out.json &&
	jq -e ".schedule == [[0,3],[1],[4]] and .skipped == [2]" out.json &&
	jq -e "[.stages[] | .needed] == [true,true,false,true,true]" out.json &&
	jq -e ".stages[2].level == null and .stages[4].level == 2" out.json &&
	jq -e "(.global_args | map(select(.name == \"RUNTIME\"))[0].value) == \"alpine:3.19\"" out.json &&
	jq -e ".stages[3].start_line == 16 and .stages[3].end_line == 19" out.json
'

test_expect_success JQ 'every level only depends on earlier levels' '
	kiln stages --json app >s.json &&
	jq -e "
		([.schedule | to_entries[] | .key as \$l | .value[] | {(tostring): \$l}] | add) as \$lvl
		| [.stages[] | select(.needed) | . as \$s | .deps[] | \$lvl[(.stage|tostring)] < \$lvl[(\$s.index|tostring)]]
		| all" s.json
'

test_expect_success 'a single-stage file' '
	printf "FROM alpine\nRUN true\n" >one &&
	kiln stages -f one >one.out &&
	test_grep "^0      stage-0  level 0   image alpine$" one.out &&
	test_grep "level 0: stage-0" one.out
'

test_done
