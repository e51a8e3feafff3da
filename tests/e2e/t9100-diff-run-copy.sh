#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Differential: RUN, COPY and ADD built by kiln, by buildah and (when
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

test_expect_success $P 'RUN: files, links, fifo, modes, whiteouts' '
	diff_build run run &&
	diff_check run &&
	diff_run run /bin/sh -c "cat /made/hard /made/deep/g /etc/motd; ls /bin/vi 2>&1 || :" &&
	printf "one\ntwo\nchanged\n" >expect &&
	sed -n 1,3p run-run.out >got && test_cmp expect got &&
	grep -q "No such file" run-run.out
'
test_expect_success $P,BUILDKIT 'RUN: kiln = BuildKit' '
	diff_buildkit run run
'

# buildah drops the setuid and setgid bits of files it copies from the
# context (containers/buildah#574); BuildKit keeps them (fsutil sends the
# whole mode; the BuildKit comparison below has no exception).
test_expect_success $P 'COPY: directories, trailing slashes, WORKDIR-relative, JSON form' '
	diff_build copy-dirs copy-dirs &&
	diff_check copy-dirs --ignore-path all/odd/suid &&
	python3 "$IMAGE_DIFF" --dump k-copy-dirs.tar | grep "^/all/odd/suid " >suid &&
	test_grep "\"mode\": \"4755\"" suid &&
	diff_run copy-dirs cat /new/a.txt /new2/sub/deep/d.txt /exists/x.md /w/renamed "/spaced/a b.md" &&
	printf "a\nd\nx\nb\nwith space\n" >expect && test_cmp expect run-copy-dirs.out
'
test_expect_success $P,BUILDKIT 'COPY: kiln = BuildKit' '
	diff_buildkit copy-dirs copy-dirs
'

test_expect_success $P 'COPY: wildcards' '
	diff_build copy-wildcards copy-wildcards &&
	diff_check copy-wildcards &&
	diff_run copy-wildcards ls /class /treestar /deepstar /mixed &&
	test_grep "^t3.txt$" run-copy-wildcards.out
'
# (no BuildKit comparison: dockerd 20.10's client fails to send a context
# filtered by "s?c/[a-b].txt": "readdirent ctx/src/a.txt: not a directory")

test_expect_success $P 'COPY --chown (names, ids), --chmod, owners and modes of the sources' '
	diff_build copy-owners copy-owners &&
	diff_check copy-owners --ignore-path odd/suid --ignore-path chmoddir --ignore-path both &&
	diff_run copy-owners stat -c "%a %u:%g %n" /by-name /uid-only /newparent /newparent/child /odd/owned /setuid /both/x.md &&
	cat >expect <<-\EOT &&
	644 1:65534 /by-name
	644 33:33 /uid-only
	755 65534:1 /newparent
	755 65534:1 /newparent/child
	644 0:0 /odd/owned
	4755 0:0 /setuid
	640 1:1 /both/x.md
	EOT
	test_cmp expect run-copy-owners.out
'
# dockerd 20.10 (BuildKit 0.8) drops the setuid bit of --chmod=4755
# (moby/buildkit#3920, fixed since); buildah and kiln keep it. The
# directories a COPY --chmod makes (/chmoddir, /both) get its mode in
# current BuildKit (moby/buildkit#4945) and kiln, 0755 in BuildKit 0.8 and
# buildah 1.28: t9020 checks kiln's.
test_expect_success $P,BUILDKIT 'COPY --chown/--chmod: kiln = BuildKit' '
	diff_buildkit copy-owners copy-owners -- --ignore-path setuid --ignore-path chmoddir \
		--ignore-path both
'

test_expect_success $P 'symlinks: followed in sources, resolved in the image; hard links' '
	diff_build symlinks symlinks &&
	diff_check symlinks &&
	diff_run symlinks cat /followed /fromdirlink/a.txt /real/a.txt /real/x.md /withlinks/h2 &&
	printf "a\na\na\nx\nhard\n" >expect && test_cmp expect run-symlinks.out
'
test_expect_success $P,BUILDKIT 'symlinks: kiln = BuildKit' '
	diff_buildkit symlinks symlinks
'

test_expect_success $P 'ADD: archives in four compressions, a .gz that is not a tar' '
	diff_build add-archives add-archives &&
	diff_check add-archives &&
	diff_run add-archives /bin/sh -c "cat /x/plain/top/f /x/xz/top/l; stat -c \"%a %u:%g\" /x/bz/top/dir; zcat /x/text/text.gz; ls /x/copied" &&
	printf "in-tar\nin-tar\n700 7:8\nnot an archive\ngz.tar.gz\n" >expect &&
	test_cmp expect run-add-archives.out
'
test_expect_success $P,BUILDKIT 'ADD: kiln = BuildKit' '
	diff_buildkit add-archives add-archives
'

test_expect_success $P 'cleanup' '
	peers_cleanup
'
dockerd_stop
test_done
