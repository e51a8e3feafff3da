#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The CI flow of docs/ci.md, end to end against a local registry: the lint
# gate (a Dockerfile with a finding fails the job and pushes nothing; a
# clean one passes, with SARIF and Code Climate reports), a first runner
# that builds and pushes with the registry cache, a second runner with an
# empty store on another branch that falls back to main's cache and runs
# nothing, a third that rebuilds one change from the branch's cache, the
# pushed images read by skopeo, and SOURCE_DATE_EPOCH from the last commit
# giving the same digest everywhere.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

registry_for_tests ci
IMAGE=$R/team/app
CACHE=$R/team/app/cache
export R IMAGE CACHE

# The job of docs/ci.md, as a runner runs it: RUNNER is its (fresh) store,
# BRANCH the branch, run in a checkout. Exit status: the job's.
ci_lint() {
	kiln lint --format sarif Dockerfile >kiln-lint.sarif
	sarif=$?
	kiln lint --format gitlab_codeclimate Dockerfile >gl-code-quality-report.json
	test $sarif = 0 && test $? = 0
}
ci_build() {
	export SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct)
	kiln build --progress=plain \
		--cache-from type=registry,ref=$CACHE:$BRANCH \
		--cache-from type=registry,ref=$CACHE:main \
		--cache-to type=registry,ref=$CACHE:$BRANCH,mode=max,cache-mounts=true,ignore-error=true \
		--metadata-file build.json \
		-t $IMAGE:$(git rev-parse HEAD) --push .
}
ci_job() {
	(
		export KILN_ROOT=$TRASH/runner-$1 BRANCH=$2
		rm -rf "$KILN_ROOT" && cd "$TRASH/checkout" &&
		ci_lint && ci_build
	)
}

# layer steps of a progress: "ran" or "cached" per step, in order
steps() {
	for id in $(sed -n -E 's/^#([0-9]+) \[[^]]+\] (RUN|COPY|ADD|WORKDIR) .*/\1/p' "$1" | sort -un); do
		if grep -q "^#$id CACHED$" "$1"; then echo cached; else echo ran; fi
	done | sort | uniq -c | tr -s " " | sed "s/^ //"
}

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT,SKOPEO 'setup: a base image in the registry, a project in git' '
	KILN_ROOT=$TRASH/base build_base &&
	KILN_ROOT=$TRASH/base kiln push $BB $R/base/busybox:1 >pushed &&
	BASE=$(cat pushed) &&
	mkdir checkout && cd checkout &&
	git init -q -b main && git config user.email ci@example.com && git config user.name ci &&
	mkdir src && echo "package main" >src/main.go && echo "module app" >go.mod &&
	printf ".git\nkiln-lint.sarif\ngl-code-quality-report.json\nbuild.json\n" >.dockerignore &&
	cat >Dockerfile <<-EOF &&
	FROM $BASE AS build
	COPY go.mod /src/
	RUN --mount=type=cache,target=/root/.cache echo "deps for \$(cat /src/go.mod)" >>/root/.cache/deps && cp /root/.cache/deps /deps
	WORKDIR /src
	COPY src ./src
	RUN cat src/main.go /deps >/app.bin

	FROM $BASE
	COPY --from=build /app.bin /usr/local/bin/app.bin
	USER 10001
	EOF
	git add -A && GIT_COMMITTER_DATE="2024-05-06T07:08:09Z" git commit -q -m "app" \
		--date "2024-05-06T07:08:09Z"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT 'the lint gate: a finding fails the job, nothing is pushed' '
	(cd checkout && git checkout -q -b bad &&
	 sed -i "s/^USER 10001$/RUN apt-get install curl/" Dockerfile &&
	 git commit -q -am "a finding") &&
	test_must_fail ci_job lint bad &&
	jq -r ".runs[0].results[].ruleId" checkout/kiln-lint.sarif >rules &&
	test_grep "^DL3008$" rules &&
	jq -r ".[].check_name" checkout/gl-code-quality-report.json >gl &&
	test_grep "^DL3008$" gl &&
	test_must_fail curl -fsS http://$R/v2/team/app/manifests/$(git -C checkout rev-parse HEAD) &&
	(cd checkout && git checkout -q main && git branch -q -D bad)
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT,SKOPEO 'runner 1 (main): lint passes, builds, pushes image and cache' '
	ci_job one main 2>out1 &&
	test "$(jq ".runs[0].results | length" checkout/kiln-lint.sarif)" = 0 &&
	test "$(jq length checkout/gl-code-quality-report.json)" = 0 &&
	test_grep "WARNING: cache $CACHE:main not found" out1 &&
	test "$(steps out1)" = "6 ran" &&
	cp checkout/build.json build1.json &&
	sha=$(git -C checkout rev-parse HEAD) &&
	skopeo inspect --tls-verify=false docker://$IMAGE:$sha >sk1.json &&
	test "$(jq -r .Digest sk1.json)" = "$(jq -r .\"containerimage.digest\" build1.json)" &&
	test "$(jq -r .Created sk1.json)" = "2024-05-06T07:08:09Z" &&
	skopeo inspect --tls-verify=false --raw docker://$CACHE:main >cache.json &&
	test "$(jq -r .config.mediaType cache.json)" = application/vnd.buildkit.cacheconfig.v0
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT,SKOPEO 'runner 2 (a new branch, empty store): main'"'"'s cache, nothing runs, same digest' '
	(cd checkout && git checkout -q -b feature/x) &&
	ci_job two feature-x 2>out2 &&
	test_grep "WARNING: cache $CACHE:feature-x not found" out2 &&
	test "$(steps out2)" = "6 cached" &&
	cp checkout/build.json build2.json &&
	test "$(jq -r .\"containerimage.digest\" build2.json)" = \
	     "$(jq -r .\"containerimage.digest\" build1.json)" &&
	skopeo inspect --tls-verify=false --raw docker://$CACHE:feature-x >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT,SKOPEO 'runner 3: a new commit reruns from its first dated step, cache mounts warm' '
	(cd checkout && echo "func main() {}" >>src/main.go &&
	 GIT_COMMITTER_DATE="2024-05-07T00:00:00Z" git commit -q -am "change" \
		--date "2024-05-07T00:00:00Z") &&
	ci_job three feature-x 2>out3 &&
	id=$(sed -n "s/^#\([0-9]*\) \[build 3\/6\] RUN .*/\1/p" out3 | head -1) &&
	grep -q "^#$id CACHED$" out3 &&
	test "$(steps out3)" = "$(printf "2 cached\n4 ran")" &&
	sha=$(git -C checkout rev-parse HEAD) &&
	skopeo inspect --tls-verify=false docker://$IMAGE:$sha >sk3.json &&
	test "$(jq -r .Created sk3.json)" = "2024-05-07T00:00:00Z" &&
	KILN_ROOT=$TRASH/runner-three kiln run --rm $IMAGE:$sha cat /usr/local/bin/app.bin >app &&
	test_grep "func main" app && test_grep "deps for module app" app
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT 'with rewrite-timestamp=true a commit built cold twice gives one digest' '
	(cd checkout && git checkout -q main) &&
	for s in cold1 cold2; do
		(export KILN_ROOT=$TRASH/$s && cd checkout &&
		 SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct) kiln build -q \
			-o type=image,rewrite-timestamp=true --metadata-file ../$s.json . >/dev/null) ||
		exit 1
	done &&
	test "$(jq -r .\"containerimage.digest\" cold1.json)" = \
	     "$(jq -r .\"containerimage.digest\" cold2.json)"
'

# The times are rewritten at export, so the steps main's runner cached
# (without rewrite-timestamp) are the ones a reproducible build needs.
test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ,GIT 'with rewrite-timestamp=true and main'"'"'s cache: nothing runs, the digest of a cold build' '
	(export KILN_ROOT=$TRASH/runner-four && cd checkout &&
	 SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct) kiln build --progress=plain \
		--cache-from type=registry,ref=$CACHE:main \
		-o type=image,rewrite-timestamp=true --metadata-file ../four.json . \
		>/dev/null 2>../out4) &&
	test "$(steps out4)" = "6 cached" &&
	test "$(jq -r .\"containerimage.digest\" four.json)" = \
	     "$(jq -r .\"containerimage.digest\" cold1.json)"
'

test_done
