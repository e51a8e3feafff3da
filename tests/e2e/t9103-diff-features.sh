#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Differential: .dockerignore, and the newer
# Dockerfile features (heredocs, --link, --exclude, --parents, symbolic
# --chmod) against an equivalent Dockerfile without them built by kiln, by buildah and (when
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

test_expect_success $P 'setup: a context with a .dockerignore' '
	mkdir -p ign/docs ign/sub/deep ign/keep &&
	echo a >ign/a.txt && echo log >ign/debug.log && echo kept >ign/keep.log &&
	echo s >ign/secret.env && echo t >ign/sub/deep/x.tmp && echo u >ign/sub/deep/y.txt &&
	echo r >ign/docs/README.md && echo o >ign/docs/other.md && echo k >ign/keep/k.txt &&
	cat >ign/.dockerignore <<-\EOT
	# logs, but one
	*.log
	!keep.log
	secret*
	**/*.tmp
	docs
	!docs/README.md
	EOT
'

test_expect_success $P '.dockerignore: what COPY . sees' '
	DIFF_CTX=$TRASH/ign diff_build ignore dockerignore &&
	diff_check ignore &&
	diff_run ignore find /ctx -type f &&
	sort run-ignore.out >got &&
	printf "%s\n" /ctx/.dockerignore /ctx/Dockerfile /ctx/a.txt /ctx/docs/README.md \
		/ctx/keep.log /ctx/keep/k.txt /ctx/sub/deep/y.txt >expect &&
	test_cmp expect got
'
test_expect_success $P,BUILDKIT '.dockerignore: kiln = BuildKit' '
	DIFF_CTX=$TRASH/ign diff_buildkit ignore dockerignore
'

# The history texts differ by construction (and the equivalent needs one
# RUN more for the mode --parents keeps): only the root filesystems and the
# config fields are compared.
test_expect_success $P 'heredocs, --link, --exclude, --parents, symbolic --chmod' '
	echo "hello heredoc" >ctx/greeting &&
	cp "$DIFF_FIXTURES/features.Dockerfile" ctx/Dockerfile &&
	kiln build -q -t localhost/diff-features ctx >/dev/null &&
	kiln save -o k-features.tar localhost/diff-features &&
	diff_build features-equiv features.equiv &&
	python3 "$IMAGE_DIFF" $DIFF_ALWAYS --ignore-field history --ignore-field layers \
		--ignore-path greeting k-features.tar b-features-equiv.tar &&
	diff_run features cat /h1 /h2 /etc/greeting &&
	printf "one\ntwo\nshebang\nhello heredoc\n" >expect && test_cmp expect run-features.out
'
test_expect_success $P,BUILDKIT 'heredocs, --link, --exclude, --parents: kiln = BuildKit (equivalent)' '
	diff_buildkit features-equiv features.equiv -- --ignore-field history --ignore-field layers &&
	python3 "$IMAGE_DIFF" --ignore-field history --ignore-field layers --ignore-path greeting \
		k-features.tar d-features-equiv.tar
'

test_expect_success $P 'cleanup' '
	peers_cleanup
'
dockerd_stop
test_done
