#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Differential: ENV, USER, WORKDIR, ENTRYPOINT, CMD,
# HEALTHCHECK, SHELL, LABEL, EXPOSE, VOLUME, STOPSIGNAL, ONBUILD built by kiln, by buildah and (when
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

# buildah gives a RUN under USER name the user's primary group as a
# supplementary group too (id prints groups=1000(app)); BuildKit sets only
# the groups /etc/group lists the user in (none here), as kiln does. (C is
# "-x": one ENV instruction expands with the variables before it.)
test_expect_success $P 'ENV, USER, WORKDIR and their effect on RUN' '
	diff_build euw env-user-workdir &&
	diff_check euw --ignore-path home/app/work/id &&
	diff_run euw /bin/sh -c "cat /home/app/work/out /home/app/work/id /home/app/work/sub/pwd /pwd; stat -c \"%U %G\" /home/app/work /home/app/work/sub/made-by-uid" &&
	cat >expect <<-\EOT &&
	1 two words -x set
	uid=1000(app) gid=1000(app)
	/home/app/work/sub
	/1
	app app
	app root
	EOT
	test_cmp expect run-euw.out
'
test_expect_success $P,BUILDKIT 'ENV, USER, WORKDIR: kiln = BuildKit' '
	diff_buildkit euw env-user-workdir
'

for t in shellform execform reset cmdshell cmdonly; do
	test_expect_success $P "ENTRYPOINT and CMD: --target $t" "
		diff_build ec-$t entrypoint-cmd --target $t &&
		diff_check ec-$t
	"
	test_expect_success $P,BUILDKIT "ENTRYPOINT and CMD: --target $t: kiln = BuildKit" "
		diff_buildkit ec-$t entrypoint-cmd --target $t
	"
done

test_expect_success $P 'ENTRYPOINT and CMD: what podman runs' '
	diff_run ec-shellform && echo "hello from shell form" >expect && test_cmp expect run-ec-shellform.out &&
	diff_run ec-execform && echo "a b" >expect && test_cmp expect run-ec-execform.out &&
	diff_run ec-execform c && echo "a c" >expect && test_cmp expect run-ec-execform.out &&
	diff_run ec-reset x y && printf "x|y|" >expect && test_cmp expect run-ec-reset.out &&
	diff_run ec-cmdshell && printf "/bin/sh|-c|echo shell|" >expect && test_cmp expect run-ec-cmdshell.out &&
	diff_run ec-cmdonly && echo "only cmd" >expect && test_cmp expect run-ec-cmdonly.out
'

for t in hc exec none; do
	test_expect_success $P "HEALTHCHECK: --target $t" "
		diff_build hc-$t healthcheck --target $t &&
		diff_check hc-$t
	"
	test_expect_success $P,BUILDKIT "HEALTHCHECK: --target $t: kiln = BuildKit" "
		diff_buildkit hc-$t healthcheck --target $t
	"
done

# A CMD in shell form runs through the current SHELL in BuildKit
# (dispatchCmd: withShell); buildah always uses /bin/sh -c.
test_expect_success $P 'SHELL: RUN and CMD in shell form' '
	diff_build shell shell &&
	diff_check shell --ignore-field Cmd &&
	test "$(cfg_of k-shell.tar .config.Cmd)" = "[\"/bin/busybox\",\"sh\",\"-c\",\"echo via shell\"]" &&
	diff_run shell /bin/cat /shell-out /second &&
	printf "shell /bin/sh\nsecond sh\n" >expect && test_cmp expect run-shell.out &&
	diff_run shell && echo "via shell" >expect && test_cmp expect run-shell.out
'
test_expect_success $P,BUILDKIT 'SHELL: kiln = BuildKit' '
	diff_buildkit shell shell
'

# ONBUILD records no history entry in BuildKit (dispatchOnbuild only adds
# the trigger); buildah records one per trigger.
test_expect_success $P 'LABEL, MAINTAINER, EXPOSE, VOLUME, STOPSIGNAL, ONBUILD' '
	diff_build metadata metadata &&
	diff_check metadata --skip-history-b "#(nop) ONBUILD"
'
test_expect_success $P,BUILDKIT 'metadata: kiln = BuildKit' '
	diff_buildkit metadata metadata
'

# buildah makes the base image's VOLUME directories in the image when a RUN
# runs (they are mount points there); BuildKit never creates them.
test_expect_success $P 'ONBUILD triggers run in the image built on it' '
	diff_build onbuild onbuild &&
	diff_check onbuild --skip-history-b "#(nop) ONBUILD" \
		--allow-extra-b data --allow-extra-b more --allow-extra-b logs --allow-extra-b cache &&
	test "$(cfg_of k-onbuild.tar .config.OnBuild)" = null &&
	diff_run onbuild cat /both && printf "triggered\na\n" >expect && test_cmp expect run-onbuild.out
'
test_expect_success $P,BUILDKIT 'ONBUILD: kiln = BuildKit' '
	diff_buildkit onbuild onbuild
'

test_expect_success $P 'cleanup' '
	peers_cleanup
'
dockerd_stop
test_done
