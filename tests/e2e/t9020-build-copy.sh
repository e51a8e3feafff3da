#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# COPY and ADD from the context with BuildKit's rules: a directory means its
# contents, the destination's trailing slash, wildcards, several sources,
# symlinks (of the source followed, of the destination resolved in the
# image), ownership 0:0 unless --chown (names from the image), --chmod
# octal and symbolic, --link, --parents, --exclude, heredoc sources, mtimes
# kept, .dockerignore and the rule that hid a missing source, ADD's
# archives in every compression.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a context' '
	build_base &&
	mkdir -p ctx/src/sub ctx/docs &&
	echo a >ctx/src/a.txt && echo b >ctx/src/sub/b.txt && echo z >ctx/src/z.c &&
	echo c >ctx/docs/c.md && echo d >ctx/docs/d.md &&
	ln -s src/a.txt ctx/link && ln -s src ctx/dirlink &&
	echo secret >ctx/app.env && echo log >ctx/debug.log &&
	printf "*.env\n# comment\n*.log\n" >ctx/.dockerignore &&
	touch -d "2001-02-03 04:05:06" ctx/src/a.txt &&
	chmod 0750 ctx/src/sub && chown 1234:5678 ctx/src/z.c
'

build() {
	# build TAG: the Dockerfile from stdin, then the image's root filesystem in TAG/
	cat >ctx/Dockerfile &&
	kiln build -q -t "copy:$1" ctx >/dev/null &&
	rootfs_of "copy:$1" "$1"
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'directories mean their contents; trailing slashes' '
	build dirs <<-EOF &&
	FROM $BB
	COPY src /new
	COPY src/ /new2/
	COPY src/a.txt /file
	COPY src/a.txt /dir/
	RUN mkdir /exists
	COPY src/a.txt /exists
	COPY docs /exists
	EOF
	test -f dirs/new/a.txt && test -f dirs/new/sub/b.txt && ! test -e dirs/new/src &&
	test -f dirs/new2/a.txt && test -f dirs/file && test -f dirs/dir/a.txt &&
	test -f dirs/exists/a.txt && test -f dirs/exists/c.md && ! test -e dirs/exists/docs
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'metadata: 0:0, modes and mtimes kept; created parents 0755' '
	test "$(stat_of dirs new/sub)" = "750 0:0" &&
	test "$(stat_of dirs new/z.c)" = "644 0:0" &&
	test "$(stat -c %Y dirs/new/a.txt)" = "$(stat -c %Y ctx/src/a.txt)" &&
	test "$(stat_of dirs dir)" = "755 0:0"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'wildcards; several sources; one that matches nothing' '
	build wild <<-EOF &&
	FROM $BB
	COPY docs/*.md /md/
	COPY src/a.txt docs/c.md /two/
	COPY src/*.txt /one
	COPY nothing* /none/
	COPY nothing* /deep/er/file
	ADD --chown=1:1 nothing* /added/
	COPY s?c/[a-y].txt /class/
	EOF
	test -f wild/md/c.md && test -f wild/md/d.md &&
	test -f wild/two/a.txt && test -f wild/two/c.md &&
	test -f wild/one && echo a >expect && test_cmp expect wild/one &&
	! test -e wild/none && ! test -e wild/deep && ! test -e wild/added &&
	test -f wild/class/a.txt && ! test -e wild/class/z.c
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'symlinks: a source link is followed, a destination link resolved in the image' '
	build links <<-EOF &&
	FROM $BB
	COPY link /followed
	COPY dirlink /fromdirlink
	RUN mkdir /real && ln -s /real /dest-link
	COPY src/a.txt /dest-link/
	COPY src /realdir/
	RUN ln -s real /relative
	COPY docs/c.md /relative/
	EOF
	test -f links/followed && ! test -L links/followed &&
	test -f links/fromdirlink/a.txt &&
	test -f links/real/a.txt && test -L links/dest-link && test -f links/real/c.md
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--chown with names from the image, ids, a uid alone, an empty group' '
	build chown <<-EOF &&
	FROM $BB
	COPY --chown=daemon:nogroup src/a.txt /by-name
	COPY --chown=10:20 src/a.txt /by-ids
	COPY --chown=33 src/a.txt /uid-only
	COPY --chown=daemon src /dirdaemon/
	COPY --chown=daemon src/a.txt /newparent/child/
	COPY --chown=daemon: src/a.txt /empty-group
	USER 77:
	WORKDIR /w77
	EOF
	test "$(stat_of chown by-name)" = "644 1:65534" &&
	test "$(stat_of chown by-ids)" = "644 10:20" &&
	test "$(stat_of chown uid-only)" = "644 33:33" &&
	test "$(stat_of chown dirdaemon/sub/b.txt)" = "644 1:1" &&
	test "$(stat_of chown newparent)" = "755 1:1" &&
	test "$(stat_of chown newparent/child/a.txt)" = "644 1:1" &&
	test "$(stat_of chown empty-group)" = "644 1:0" &&
	test "$(stat_of chown w77)" = "755 77:0"
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--chmod octal and symbolic, on files, directories and the directories it makes' '
	build chmod <<-EOF &&
	FROM $BB
	COPY --chmod=0600 src/a.txt /octal
	COPY --chmod=4755 src/a.txt /setuid
	COPY --chmod=u+x,go-r src/a.txt /symbolic
	COPY --chmod=a+rX,go-w src /tree/
	COPY --chmod=0750 src/a.txt /new/parent/
	COPY --chmod=0711 src /newdir
	COPY --chmod=go-rx src/a.txt /symdir/a
	EOF
	test "$(stat_of chmod octal)" = "600 0:0" &&
	test "$(stat_of chmod setuid)" = "4755 0:0" &&
	test "$(stat_of chmod symbolic)" = "700 0:0" &&
	test "$(stat_of chmod tree/a.txt)" = "644 0:0" &&
	test "$(stat_of chmod tree/sub)" = "755 0:0" &&
	test "$(stat_of chmod new)" = "750 0:0" && test "$(stat_of chmod new/parent)" = "750 0:0" &&
	test "$(stat_of chmod newdir)" = "711 0:0" && test "$(stat_of chmod newdir/sub)" = "711 0:0" &&
	test "$(stat_of chmod symdir)" = "700 0:0"
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--link: a layer that does not depend on what is below' '
	build link1 <<-EOF &&
	FROM $BB
	RUN echo one >/below
	COPY --link src/a.txt /linked/a.txt
	EOF
	build link2 <<-EOF &&
	FROM $BB
	RUN echo two >/below
	COPY --link src/a.txt /linked/a.txt
	EOF
	test "$(cfg copy:link1 ".RootFS.Layers[-1]")" = "$(cfg copy:link2 ".RootFS.Layers[-1]")" &&
	test "$(cfg copy:link1 ".RootFS.Layers[-2]")" != "$(cfg copy:link2 ".RootFS.Layers[-2]")" &&
	test -f link2/linked/a.txt && echo two >expect && test_cmp expect link2/below &&
	printf "FROM %s\nCOPY --link --chown=daemon src/a.txt /x\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err && test_grep "numeric" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--parents keeps the source path; ** spans directories' '
	mkdir -p ctx/deep/x/y/z && echo deep >ctx/deep/x/y/z/d.txt &&
	build parents <<-EOF &&
	FROM $BB
	COPY --parents src/sub/b.txt docs/c.md /p/
	COPY --parents ./src/./sub/b.txt /pivot/
	COPY --parents src/**/*.txt /globstar/
	COPY --parents de*/./x/**/d.txt /wildpivot/
	EOF
	test -f parents/p/src/sub/b.txt && test -f parents/p/docs/c.md &&
	test -f parents/pivot/sub/b.txt && ! test -e parents/pivot/src &&
	test "$(stat_of parents p/src/sub)" = "750 0:0" &&
	(cd parents/globstar && find . | sort) >got &&
	printf "%s\n" . ./src ./src/a.txt ./src/sub ./src/sub/b.txt >expect &&
	test_cmp expect got &&
	echo deep >expect && test_cmp expect parents/wildpivot/x/y/z/d.txt &&
	! test -e parents/wildpivot/deep
'

# as BuildKit's copy: the patterns filter what is inside each source, never
# a source a wildcard matched (moby/buildkit#5489)
test_expect_success ROOT,OVERLAY,BUSYBOX '--exclude leaves out what matches inside each source' '
	build exclude <<-EOF &&
	FROM $BB
	COPY --exclude=*.c --exclude=sub src /ex/
	COPY --exclude=d.md docs/* /exd/
	COPY --exclude=*.md --exclude=*.txt --exclude=*.c --exclude=sub s* /none/
	EOF
	test -f exclude/ex/a.txt && ! test -e exclude/ex/z.c && ! test -e exclude/ex/sub &&
	test -f exclude/exd/c.md && test -f exclude/exd/d.md &&
	test -d exclude/none && test -z "$(ls -A exclude/none)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'heredoc sources, expanded unless quoted' '
	build heredoc <<-"EOF" &&
	FROM localhost/busybox:test
	ARG NAME=kiln
	COPY <<EOT /hello
	hello $NAME
	EOT
	COPY <<"EOT" /raw
	hello $NAME
	EOT
	COPY --chmod=0755 <<EOT /bin/greet
	#!/bin/sh
	echo greetings
	EOT
	COPY <<[x] <<a? /names/
	bracket
	[x]
	question
	a?
	EOF
	echo "hello kiln" >expect && test_cmp expect heredoc/hello &&
	echo bracket >expect && test_cmp expect "heredoc/names/[x]" &&
	echo question >expect && test_cmp expect "heredoc/names/a?" &&
	echo "hello \$NAME" >expect && test_cmp expect heredoc/raw &&
	test "$(stat_of heredoc bin/greet)" = "755 0:0" &&
	kiln run --rm copy:heredoc greet >out && echo greetings >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX '.dockerignore: an excluded directory a ! rule re-enters is copied' '
	mkdir -p reenter/docs/public reenter/docs/internal reenter/nm/@scope/keep reenter/nm/drop &&
	echo pub >reenter/docs/public/README.md && echo int >reenter/docs/internal/plan.md &&
	echo k >reenter/nm/@scope/keep/index.js && echo d >reenter/nm/drop/x.js &&
	printf "docs\n!docs/public\nnm\n!nm/@scope/keep\n" >reenter/.dockerignore &&
	printf "FROM %s\nCOPY docs /docs\nCOPY nm/* /nm/\n" $BB >reenter/Dockerfile &&
	kiln build -q -o type=local,dest=reenter-out reenter >/dev/null &&
	(cd reenter-out && find docs nm | sort) >got &&
	printf "docs\ndocs/public\ndocs/public/README.md\nnm\nnm/keep\nnm/keep/index.js\n" >expect &&
	test_cmp expect got
'

test_expect_success ROOT,OVERLAY,BUSYBOX '.dockerignore: ignored files are not there; a missing source names the rule' '
	build ignore <<-EOF &&
	FROM $BB
	COPY . /all/
	EOF
	test -f ignore/all/src/a.txt && ! test -e ignore/all/app.env && ! test -e ignore/all/debug.log &&
	printf "FROM %s\nCOPY app.env /x\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: source \"app.env\" is excluded by ctx/.dockerignore:1 (pattern \"\*.env\")" err &&
	printf "FROM %s\nCOPY missing.txt /x\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: source \"missing.txt\" not found in the build context" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'Dockerfile.dockerignore wins over .dockerignore' '
	printf "FROM %s\nCOPY app.env debug.log /x/\n" $BB >ctx/Custom.Dockerfile &&
	printf "*.log\n" >ctx/Custom.Dockerfile.dockerignore &&
	test_must_fail kiln build -q -f ctx/Custom.Dockerfile ctx 2>err &&
	test_grep "debug.log\" is excluded by .*Custom.Dockerfile.dockerignore:1" err &&
	printf "FROM %s\nCOPY app.env /x/\n" $BB >ctx/Custom.Dockerfile &&
	kiln build -q -f ctx/Custom.Dockerfile ctx >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'ADD extracts local archives in every compression; COPY does not' '
	mkdir -p tarsrc/top && echo in-tar >tarsrc/top/f && chown -R 7:8 tarsrc &&
	tar -C tarsrc -cf ctx/plain.tar . &&
	tar -C tarsrc -czf ctx/gz.tar.gz . && tar -C tarsrc -cjf ctx/bz.tar.bz2 . &&
	tar -C tarsrc -cJf ctx/xz.tar.xz . && tar -C tarsrc --zstd -cf ctx/zst.tar.zst . &&
	cp ctx/gz.tar.gz ctx/notanarchive.gz && echo text >ctx/plain.txt &&
	build add <<-EOF &&
	FROM $BB
	ADD plain.tar /x/plain/
	ADD gz.tar.gz /x/gz
	ADD bz.tar.bz2 /x/bz/
	ADD xz.tar.xz /x/xz/
	ADD zst.tar.zst /x/zst/
	ADD --chown=3:4 gz.tar.gz /x/owned/
	ADD plain.txt /x/text
	COPY gz.tar.gz /x/copied/
	EOF
	for d in plain gz bz xz zst; do
		echo in-tar >expect && test_cmp expect add/x/$d/top/f || return 1
	done &&
	test "$(stat_of add x/gz/top/f)" = "644 7:8" &&
	test "$(stat_of add x/owned/top/f)" = "644 3:4" &&
	test -f add/x/text && test -f add/x/copied/gz.tar.gz
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD: names with .. stay in the destination, as BuildKit extracts them' '
	python3 -c "
import io, tarfile
with tarfile.open(\"ctx/dotdot.tar\", \"w\") as t:
    for name in (\"../../../escape\", \"a/../../b\", \"ok\"):
        data = name.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    link = tarfile.TarInfo(\"hl\")
    link.type = tarfile.LNKTYPE
    link.linkname = \"../ok\"
    t.addfile(link)
" &&
	build dotdot <<-EOF &&
	FROM $BB
	ADD dotdot.tar /sub/
	EOF
	echo ../../../escape >expect && printf %s "$(cat expect)" >expect &&
	test_cmp expect dotdot/sub/escape && test -f dotdot/sub/b && test -f dotdot/sub/ok &&
	test "$(stat -c %i dotdot/sub/hl)" = "$(stat -c %i dotdot/sub/ok)" &&
	! test -e dotdot/escape && ! test -e dotdot/b
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a file is never replaced by a directory' '
	printf "FROM %s\nRUN mkdir -p /d/a.txt\nCOPY src/a.txt /d/\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "cannot replace to directory /d/a.txt with file" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a later source overwrites inside directories an earlier one created' '
	mkdir -p ctx/over1/new/deep ctx/over2/new/deep &&
	echo first >ctx/over1/new/deep/f && echo only1 >ctx/over1/new/one &&
	echo second >ctx/over2/new/deep/f && echo only2 >ctx/over2/new/two &&
	build over <<-EOF &&
	FROM $BB
	COPY over1 over2 /o/
	EOF
	test "$(cat over/o/new/deep/f)" = second &&
	test "$(cat over/o/new/one)" = only1 &&
	test "$(cat over/o/new/two)" = only2
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'many files: the workers copy what one thread would' '
	# enough files for the workers; sizes from empty to 300 KiB, modes,
	# times, hard links, symlinks, nested directories with their own times
	for d in 0 1 2 3 4 5 6 7 8 9; do
		mkdir -p ctx/many/d$d/sub &&
		for f in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
			n=$((d * 20 + f)) &&
			head -c $((n * n * 7)) /dev/urandom >ctx/many/d$d/f$f &&
			chmod 0$((6 + f % 2))$((4 + d % 4))$((f % 8)) ctx/many/d$d/f$f &&
			touch -d "2002-03-04 05:06:$((10 + f)).$d$f" ctx/many/d$d/f$f || return 1
		done &&
		echo "sub $d" >ctx/many/d$d/sub/s &&
		ln -s ../d$d/f3 ctx/many/d$d/sub/link &&
		touch -d "2003-01-01 00:00:0$d" ctx/many/d$d/sub ctx/many/d$d || return 1
	done &&
	ln ctx/many/d1/f1 ctx/many/d2/hard &&
	chmod 0701 ctx/many/d4 &&
	build many <<-EOF &&
	FROM $BB
	RUN mkdir -p /m/d5 && echo old >/m/d5/f5 && echo keep >/m/kept
	COPY many /m/
	EOF
	listing() {
		(cd "$1" && find . -mindepth 1 -path ./kept -prune -o \
			-printf "%P %y %m %s %T@ %l\n" | sort)
	} &&
	listing ctx/many >want &&
	listing many/m >got &&
	test_cmp want got &&
	(cd ctx/many && find . -type f -exec cmp {} ../../many/m/{} \;) >cmp.out 2>&1 &&
	test ! -s cmp.out &&
	test "$(stat -c %i many/m/d1/f1)" = "$(stat -c %i many/m/d2/hard)" &&
	test "$(stat -c %u:%g many/m/d7/f7)" = 0:0 &&
	test "$(cat many/m/kept)" = keep
'

test_done
