#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Differential: stages, --target, ARG scoping, scratch built by kiln, by buildah and (when
# docker.io is installed) by BuildKit from the same Dockerfiles
# (fixtures/diff/) and base image, compared path by path and on the config
# (tests/helper/image-diff.py); kiln's images also run under podman.
# Differences are allowed only where buildah departs from BuildKit, each
# one named at its case (and in docs/testing.md).
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/dockerd-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/diff-lib.sh"
trap dockerd_stop EXIT

P=ROOT,OVERLAY,BUSYBOX,BUILDAH,PODMAN,RUNC,PYTHON3,JQ

test_expect_success $P 'setup: busybox in kiln and buildah, the context' '
	diff_setup
'
test_have_prereq $P && diff_start_buildkit

test_expect_success $P 'multi-stage: FROM a stage, COPY --from name, index, image' '
	diff_build ms multistage &&
	diff_check ms &&
	diff_run ms &&
	printf "base\nbuilt\nother\n" >expect && test_cmp expect run-ms.out &&
	diff_kiln_run ms && test_cmp expect kiln-run-ms.out
'
test_expect_success $P,BUILDKIT 'multi-stage: kiln = BuildKit' '
	diff_buildkit ms multistage
'

# FROM scratch: BuildKit's empty image has WorkingDir "/" and the default
# PATH (dockerfile2llb emptyImage); buildah's has neither.
test_expect_success $P '--target a scratch stage' '
	diff_build ms-bare multistage --target bare &&
	diff_check ms-bare --ignore-field WorkingDir --ignore-field Env &&
	test "$(cfg_of k-ms-bare.tar .config.WorkingDir)" = "\"/\"" &&
	test "$(cfg_of k-ms-bare.tar .config.Env)" = "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]"
'
test_expect_success $P,BUILDKIT '--target a scratch stage: kiln = BuildKit' '
	diff_buildkit ms-bare multistage --target bare
'

test_expect_success $P '--target an intermediate stage' '
	diff_build ms-build multistage --target build &&
	diff_check ms-build &&
	diff_run ms-build cat /base /out/link &&
	printf "base\nbuilt\n" >expect && test_cmp expect run-ms-build.out
'
test_expect_success $P,BUILDKIT '--target an intermediate stage: kiln = BuildKit' '
	diff_buildkit ms-build multistage --target build
'

# (WorkingDir: see --target a scratch stage)
test_expect_success $P 'scratch runtime stage with files from a build stage' '
	diff_build scratch scratch &&
	diff_check scratch --ignore-field WorkingDir &&
	diff_run scratch &&
	echo "from scratch" >expect && test_cmp expect run-scratch.out
'
test_expect_success $P,BUILDKIT 'scratch runtime stage: kiln = BuildKit' '
	diff_buildkit scratch scratch
'

test_expect_success $P 'ARG scoping with the defaults' '
	diff_build args args &&
	diff_check args &&
	diff_run args cat /args /args-in-env /args2 &&
	printf "global-default local-default unset no-unused\n1\nsecond local-default\n" >expect &&
	test_cmp expect run-args.out &&
	test "$(cfg_of k-args.tar ".history | map(select((.created_by // \"\") | startswith(\"ARG\"))) | length")" = 4
'
test_expect_success $P,BUILDKIT 'ARG scoping with the defaults: kiln = BuildKit' '
	diff_buildkit args args
'

test_expect_success $P 'ARG scoping with --build-arg' '
	diff_build args-cli args --build-arg GLOBAL=cli --build-arg LOCAL=cli2 --build-arg UNUSED=x &&
	diff_check args-cli &&
	diff_run args-cli cat /args /args2 &&
	printf "cli cli2 unset no-unused\ncli2 cli2\n" >expect && test_cmp expect run-args-cli.out
'
test_expect_success $P,BUILDKIT 'ARG scoping with --build-arg: kiln = BuildKit' '
	diff_buildkit args-cli args --build-arg GLOBAL=cli --build-arg LOCAL=cli2 --build-arg UNUSED=x
'

test_expect_success $P 'cleanup' '
	peers_cleanup
'
dockerd_stop
test_done
