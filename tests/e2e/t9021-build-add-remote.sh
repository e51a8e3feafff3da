#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ADD of remote sources, against a loopback HTTP server: a URL (named after
# its last path element, mode 0600, Last-Modified as mtime (else 0), --checksum
# checked, the cache keyed by the content), a git repository served over
# git's dumb HTTP protocol (with and without its .git, at a branch), and
# ADDs that mix them with context paths, copied in the order written; git
# URL queries, submodules and the GIT_AUTH_* credentials.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

. "$KILN_SOURCE_ROOT/tests/helper/http-lib.sh"
http_start
trap http_stop EXIT

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'setup: a base image and a web server' '
	build_base && mkdir ctx &&
	test "$PORT" -gt 0 &&
	echo "remote content" >www/file.txt &&
	touch -d "2010-05-06 07:08:09 UTC" www/file.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD <url>: the file, its mode, its Last-Modified time (none: 1970)' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ADD http://127.0.0.1:$PORT/file.txt /dl/
	ADD http://127.0.0.1:$PORT/file.txt /renamed
	ADD --chmod=0644 --chown=1:1 http://127.0.0.1:$PORT/file.txt /opened
	ADD http://127.0.0.1:$PORT/etag/undated.txt /undated
	EOF
	mkdir -p www/etag && echo undated >www/etag/undated.txt &&
	kiln build -q -t add:url ctx >/dev/null &&
	rootfs_of add:url rootfs &&
	echo "remote content" >expect && test_cmp expect rootfs/dl/file.txt &&
	test_cmp expect rootfs/renamed &&
	test "$(stat_of rootfs dl/file.txt)" = "600 0:0" &&
	test "$(stat_of rootfs opened)" = "644 1:1" &&
	test "$(stat -c %Y rootfs/dl/file.txt)" = "$(date -d "2010-05-06 07:08:09 UTC" +%s)" &&
	test "$(stat -c %Y rootfs/undated)" = 0
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD --checksum: right passes, wrong fails' '
	sum=$(sha256sum www/file.txt | cut -d" " -f1) &&
	printf "FROM %s\nADD --checksum=sha256:%s http://127.0.0.1:%s/file.txt /f\n" $BB $sum $PORT \
		>ctx/Dockerfile &&
	kiln build -q ctx >/dev/null &&
	printf "FROM %s\nADD --checksum=sha256:%064d http://127.0.0.1:%s/file.txt /f\n" $BB 0 $PORT \
		>ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "checksum mismatch: expected sha256:0000" err &&
	test_grep "Dockerfile:2: " err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD --checksum=<sha256> <url>: no download for a cache hit' '
	echo pinned >www/pinned.txt &&
	sum=$(sha256sum www/pinned.txt | cut -d" " -f1) &&
	printf "FROM %s\nADD --checksum=sha256:%s http://127.0.0.1:%s/pinned.txt /p\n" \
		$BB $sum $PORT >ctx/Dockerfile &&
	kiln build -q -t add:pin ctx >/dev/null &&
	rm www/pinned.txt &&
	kiln build --progress=plain -t add:pin ctx 2>out &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD .*/\1/p" out | head -1) &&
	test_grep "^#$id CACHED$" out &&
	rootfs_of add:pin rootfs && echo pinned >expect && test_cmp expect rootfs/p &&
	test_must_fail kiln build -q --no-cache ctx 2>err &&
	test_grep "Dockerfile:2: ADD http://127.0.0.1:$PORT/pinned.txt: .*404" err &&
	printf "FROM %s\nADD --checksum=sha512:%0128d http://127.0.0.1:%s/pinned.txt /p\n" \
		$BB 0 $PORT >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "only sha256 checksums are supported" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'a changed URL is a cache miss, an unchanged one a hit' '
	printf "FROM %s\nADD http://127.0.0.1:%s/file.txt /f\n" $BB $PORT >ctx/Dockerfile &&
	kiln build --progress=plain -t add:c1 ctx 2>first &&
	kiln build --progress=plain -t add:c1 ctx 2>second &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD http.*/\1/p" second | head -1) &&
	test_grep "^#$id CACHED$" second &&
	echo "new content" >www/file.txt &&
	kiln build --progress=plain -t add:c2 ctx 2>third &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD http.*/\1/p" third | head -1) &&
	test_grep "^#$id DONE" third && ! grep "^#$id CACHED" third &&
	rootfs_of add:c2 rootfs2 && echo "new content" >expect && test_cmp expect rootfs2/f
'

# requests the server answered for PATH with STATUS
served() {
	grep -c "\"GET $1 HTTP/1.1\" $2" http.log
}

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD <url> again: 304, no download' '
	echo cond1 >www/cond.txt && touch -d "2011-01-01 00:00:00 UTC" www/cond.txt &&
	printf "FROM %s\nADD http://127.0.0.1:%s/cond.txt /c\n" $BB $PORT >ctx/Dockerfile &&
	kiln build -q -t add:cond ctx >/dev/null &&
	test "$(served /cond.txt 200)" = 1 &&
	kiln build --progress=plain -t add:cond ctx 2>out &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD .*/\1/p" out | head -1) &&
	test_grep "^#$id CACHED$" out &&
	test "$(served /cond.txt 304)" = 1 && test "$(served /cond.txt 200)" = 1 &&
	printf "FROM %s\nADD http://127.0.0.1:%s/cond.txt /c2\n" $BB $PORT >ctx/Dockerfile &&
	kiln build -q -t add:cond-miss ctx >/dev/null &&
	test "$(served /cond.txt 304)" = 2 && test "$(served /cond.txt 200)" = 2 &&
	rootfs_of add:cond-miss r1 && echo cond1 >expect && test_cmp expect r1/c2 &&
	test "$(stat -c %Y r1/c2)" = "$(date -d "2011-01-01 00:00:00 UTC" +%s)" &&
	printf "FROM %s\nADD http://127.0.0.1:%s/cond.txt /c\n" $BB $PORT >ctx/Dockerfile &&
	echo cond2 >www/cond.txt && touch -d "2012-01-01 00:00:00 UTC" www/cond.txt &&
	kiln build -q -t add:cond2 ctx >/dev/null &&
	test "$(served /cond.txt 200)" = 3 && test "$(served /cond.txt 304)" = 2 &&
	rootfs_of add:cond2 r2 && echo cond2 >expect && test_cmp expect r2/c &&
	kiln build -q --no-cache -t add:cond3 ctx >/dev/null &&
	test "$(served /cond.txt 200)" = 4 && test "$(served /cond.txt 304)" = 2
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD <url> again: If-None-Match with the ETag' '
	mkdir -p www/etag && echo tagged1 >www/etag/t.txt &&
	printf "FROM %s\nADD http://127.0.0.1:%s/etag/t.txt /t\n" $BB $PORT >ctx/Dockerfile &&
	kiln build -q -t add:etag ctx >/dev/null &&
	kiln build -q -t add:etag ctx >/dev/null &&
	test "$(served /etag/t.txt 200)" = 1 && test "$(served /etag/t.txt 304)" = 1 &&
	echo tagged2 >www/etag/t.txt &&
	kiln build -q -t add:etag2 ctx >/dev/null &&
	test "$(served /etag/t.txt 200)" = 2 && test "$(served /etag/t.txt 304)" = 1 &&
	rootfs_of add:etag2 rootfs && echo tagged2 >expect && test_cmp expect rootfs/t
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'a URL that fails names the server error' '
	printf "FROM %s\nADD http://127.0.0.1:%s/missing /f\n" $BB $PORT >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: ADD http://127.0.0.1:$PORT/missing: .*404" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD of two URLs and context files: each as alone' '
	echo fetched >www/file.txt && echo other >www/other.txt &&
	mkdir -p arc && echo packed >arc/inner.txt && tar -C arc -cf www/remote.tar inner.txt &&
	tar -C arc -cf ctx/local.tar inner.txt && echo local >ctx/local.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ADD http://127.0.0.1:$PORT/file.txt local.txt http://127.0.0.1:$PORT/remote.tar local.tar /mix/
	EOF
	kiln build --progress=plain -t add:mix ctx 2>first &&
	rootfs_of add:mix rootfs &&
	echo fetched >expect && test_cmp expect rootfs/mix/file.txt &&
	echo local >expect && test_cmp expect rootfs/mix/local.txt &&
	echo packed >expect && test_cmp expect rootfs/mix/inner.txt &&
	test "$(stat_of rootfs mix/file.txt)" = "600 0:0" &&
	test "$(stat_of rootfs mix/remote.tar)" = "600 0:0" &&
	! test -e rootfs/mix/local.tar &&
	kiln build --progress=plain -t add:mix ctx 2>second &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD http.*/\1/p" second | head -1) &&
	test_grep "^#$id CACHED$" second &&
	echo changed >www/remote.tar &&
	kiln build --progress=plain -t add:mix2 ctx 2>third &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD http.*/\1/p" third | head -1) &&
	test_grep "^#$id DONE" third && ! grep "^#$id CACHED" third &&
	rootfs_of add:mix2 rootfs2 &&
	echo changed >expect && test_cmp expect rootfs2/mix/remote.tar &&
	echo local2 >ctx/local.txt &&
	kiln build --progress=plain -t add:mix3 ctx 2>fourth &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/2\] ADD http.*/\1/p" fourth | head -1) &&
	test_grep "^#$id DONE" fourth && ! grep "^#$id CACHED" fourth &&
	rootfs_of add:mix3 rootfs3 &&
	echo local2 >expect && test_cmp expect rootfs3/mix/local.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD of a URL and a context file of one name: the later wins' '
	echo remote >www/same.txt && echo local >ctx/same.txt &&
	printf "FROM %s\nADD http://127.0.0.1:%s/same.txt same.txt /o/\n" $BB $PORT \
		>ctx/Dockerfile &&
	kiln build -q -t add:late1 ctx >/dev/null &&
	printf "FROM %s\nADD same.txt http://127.0.0.1:%s/same.txt /o/\n" $BB $PORT \
		>ctx/Dockerfile &&
	kiln build -q -t add:late2 ctx >/dev/null &&
	rootfs_of add:late1 r1 && rootfs_of add:late2 r2 &&
	echo local >expect && test_cmp expect r1/o/same.txt &&
	echo remote >expect && test_cmp expect r2/o/same.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'a mixed ADD explains a miss by its context file' '
	mkdir ctx3 && echo one >ctx3/local.txt &&
	printf "FROM %s\nADD local.txt http://127.0.0.1:%s/other.txt /d/\n" $BB $PORT \
		>ctx3/Dockerfile &&
	kiln build --progress=plain ctx3 2>first &&
	echo two >ctx3/local.txt &&
	kiln build --progress=plain ctx3 2>second &&
	test_grep "cache miss: 1 source file changed: local.txt (sha256:" second &&
	echo other2 >www/other.txt &&
	kiln build --progress=plain ctx3 2>third &&
	test_grep "cache miss: the sources changed$" third
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD --unpack: a URL'"'"'s archive, a local one' '
	mkdir -p arcz && echo zipped >arcz/z.txt && tar -C arcz -czf www/remote.tgz z.txt &&
	tar -C arcz -czf ctx/local.tgz z.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ADD --unpack=true http://127.0.0.1:$PORT/remote.tgz /on/
	ADD --unpack=true http://127.0.0.1:$PORT/same.txt /on/
	ADD http://127.0.0.1:$PORT/remote.tgz /default/
	ADD --unpack=false local.tgz /off/
	ADD local.tgz /local/
	EOF
	kiln build --progress=plain -t add:unpack ctx 2>first &&
	rootfs_of add:unpack ru &&
	echo zipped >expect && test_cmp expect ru/on/z.txt && ! test -e ru/on/remote.tgz &&
	echo remote >expect && test_cmp expect ru/on/same.txt &&
	cmp www/remote.tgz ru/default/remote.tgz && ! test -e ru/default/z.txt &&
	cmp ctx/local.tgz ru/off/local.tgz && ! test -e ru/off/z.txt &&
	echo zipped >expect && test_cmp expect ru/local/z.txt &&
	sed "s/--unpack=true h/h/" ctx/Dockerfile >ctx/Dockerfile.new &&
	mv ctx/Dockerfile.new ctx/Dockerfile &&
	kiln build --progress=plain -t add:unpack2 ctx 2>second &&
	id=$(sed -n "s/^#\([0-9]*\) \[2\/6\] ADD .*remote.tgz.*/\1/p" second | head -1) &&
	test -n "$id" && test_grep "^#$id DONE" second && ! grep "^#$id CACHED" second &&
	rootfs_of add:unpack2 ru2 && cmp www/remote.tgz ru2/on/remote.tgz
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD of several sources, one a missing URL or file, fails' '
	printf "FROM %s\nADD same.txt http://127.0.0.1:%s/missing /o/\n" $BB $PORT \
		>ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: ADD http://127.0.0.1:$PORT/missing: .*404" err &&
	printf "FROM %s\nADD http://127.0.0.1:%s/same.txt nothere.txt /o/\n" $BB $PORT \
		>ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: .*nothere.txt" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'ADD <git>: a repository over dumb HTTP, at a branch' '
	git init -q -b main repo && echo v1 >repo/hello &&
	git -C repo add hello &&
	git -C repo -c user.name=t -c user.email=t@example.com commit -qm one &&
	git -C repo checkout -qb feature && echo feature >repo/extra &&
	git -C repo add extra &&
	git -C repo -c user.name=t -c user.email=t@example.com commit -qm two &&
	git -C repo -c user.name=t -c user.email=t@example.com tag -a v1 -m v1 main &&
	git clone -q --bare repo www/repo.git && git -C www/repo.git update-server-info &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ADD http://127.0.0.1:$PORT/repo.git#main /main/
	ADD http://127.0.0.1:$PORT/repo.git#feature /feature/
	ADD --keep-git-dir=true http://127.0.0.1:$PORT/repo.git#main /withgit/
	EOF
	kiln build -q -t add:git ctx >/dev/null &&
	rootfs_of add:git rootfs &&
	echo v1 >expect && test_cmp expect rootfs/main/hello &&
	! test -e rootfs/main/extra && ! test -e rootfs/main/.git &&
	test -f rootfs/feature/extra &&
	test -d rootfs/withgit/.git
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'ADD --checksum=<commit or tag> of a repository' '
	main=$(git -C repo rev-parse main) && feature=$(git -C repo rev-parse feature) &&
	tag=$(git -C repo rev-parse v1) && test "$tag" != "$main" &&
	short=$(echo $main | cut -c1-10) &&
	printf "FROM %s\nADD --checksum=%s http://127.0.0.1:%s/repo.git#main /r/\n" \
		$BB $short $PORT >ctx/Dockerfile &&
	kiln build -q ctx >/dev/null &&
	printf "FROM %s\nADD --checksum=%s http://127.0.0.1:%s/repo.git#v1 /r/\n" \
		$BB $tag $PORT >ctx/Dockerfile &&
	kiln build -q ctx >/dev/null &&
	printf "FROM %s\nADD --checksum=%s http://127.0.0.1:%s/repo.git#%s /r/\n" \
		$BB $short $PORT $main >ctx/Dockerfile &&
	kiln build -q ctx >/dev/null &&
	printf "FROM %s\nADD --checksum=%s http://127.0.0.1:%s/repo.git#main /r/\n" \
		$BB $feature $PORT >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: ADD http://127.0.0.1:$PORT/repo.git#main: expected checksum" err &&
	test_grep "expected checksum to match $feature, got $main$" err &&
	printf "FROM %s\nADD --checksum=%s http://127.0.0.1:%s/repo.git#%s /r/\n" \
		$BB $short $PORT $feature >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "expected checksum to match $short, got $feature$" err &&
	printf "FROM %s\nADD --checksum=foobar http://127.0.0.1:%s/repo.git#main /r/\n" \
		$BB $PORT >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "invalid checksum foobar for Git URL, expected hex commit hash" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'ADD of a repository, a URL and a context file' '
	echo other >www/other.txt && echo local >ctx/same.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ADD http://127.0.0.1:$PORT/repo.git#feature http://127.0.0.1:$PORT/other.txt same.txt /all/
	EOF
	kiln build -q -t add:gitmix ctx >/dev/null &&
	rootfs_of add:gitmix rootfs &&
	echo v1 >expect && test_cmp expect rootfs/all/hello &&
	echo feature >expect && test_cmp expect rootfs/all/extra &&
	echo other >expect && test_cmp expect rootfs/all/other.txt &&
	echo local >expect && test_cmp expect rootfs/all/same.txt &&
	! test -e rootfs/all/.git
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'ADD <git>?tag,branch,subdir,ref,submodules' '
	gc="git -c user.name=t -c user.email=t@example.com -c protocol.allow=always" &&
	git init -q -b main lib && echo libfile >lib/l.txt && git -C lib add l.txt &&
	$gc -C lib commit -qm lib &&
	git clone -q --bare lib www/lib.git && git -C www/lib.git update-server-info &&
	git init -q -b main sup && mkdir sup/docs && echo doc >sup/docs/d.txt &&
	printf "FROM %s\nCOPY d.txt /\n" $BB >sup/docs/Dockerfile &&
	echo top >sup/top.txt &&
	$gc -C sup submodule --quiet add http://127.0.0.1:$PORT/lib.git lib &&
	git -C sup add . && $gc -C sup commit -qm one && git -C sup tag v2 &&
	git -C sup checkout -qb dev && echo dev >sup/dev.txt && git -C sup add dev.txt &&
	$gc -C sup commit -qm two &&
	git clone -q --bare sup www/sup.git &&
	git -C www/sup.git update-ref refs/pull/7/head "$(git -C sup rev-parse dev)" &&
	git -C www/sup.git update-server-info &&
	R=http://127.0.0.1:$PORT/sup.git &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ADD $R?tag=v2&subdir=docs /docs/
	ADD $R?branch=dev /dev/
	ADD $R?ref=pull/7/head&submodules=false /pr/
	ADD $R?keep-git-dir=true /kept/
	ADD $R#main /main/
	EOF
	kiln build -q -t add:query ctx >/dev/null &&
	rootfs_of add:query rootfs &&
	echo doc >expect && test_cmp expect rootfs/docs/d.txt && ! test -e rootfs/docs/top.txt &&
	echo libfile >expect && test_cmp expect rootfs/dev/lib/l.txt &&
	test -f rootfs/dev/dev.txt && ! test -e rootfs/dev/.git && ! test -e rootfs/dev/lib/.git &&
	test -f rootfs/pr/dev.txt && test -d rootfs/pr/lib && ! test -e rootfs/pr/lib/l.txt &&
	test -d rootfs/kept/.git && test -f rootfs/kept/lib/.git &&
	test_cmp expect rootfs/main/lib/l.txt && ! test -e rootfs/main/dev.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'a context from a git URL with a query' '
	kiln build -q -t ctx:query "http://127.0.0.1:$PORT/sup.git?tag=v2&subdir=docs" >/dev/null &&
	rootfs_of ctx:query rootfs && echo doc >expect && test_cmp expect rootfs/d.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'ADD <git>?query against flags; bad queries' '
	R=http://127.0.0.1:$PORT/sup.git &&
	printf "FROM %s\nADD --keep-git-dir=false %s?keep-git-dir=true /k/\n" $BB $R \
		>ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: ADD $R?keep-git-dir=true: inconsistent keep-git-dir" err &&
	printf "FROM %s\nADD --checksum=abc %s?checksum=def /k/\n" $BB $R >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "checksum mismatch \"abc\" != \"def\"" err &&
	printf "FROM %s\nADD %s?tag=v2&branch=dev /k/\n" $BB $R >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: .*branch conflicts with tag" err &&
	printf "FROM %s\nADD %s?checksum=%s&tag=v2 /k/\n" $BB $R \
		"$(git -C sup rev-parse dev)" >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "expected checksum to match" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'a private repository: GIT_AUTH_* secrets' '
	mkdir -p www/private && git clone -q --bare repo www/private/repo.git &&
	git -C www/private/repo.git update-server-info &&
	tok=tok-$$-secret && export tok &&
	printf "basic %s\n" "$(printf "x-access-token:%s" "$tok" | base64 -w0)" >http-auth &&
	printf "FROM %s\nADD http://127.0.0.1:%s/private/repo.git#main /r/\n" $BB $PORT \
		>ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: ADD http://127.0.0.1:$PORT/private/repo.git#main: git clone failed" err &&
	kiln build -q -t add:private --secret id=GIT_AUTH_TOKEN,env=tok ctx >/dev/null &&
	rootfs_of add:private rootfs && echo v1 >expect && test_cmp expect rootfs/r/hello &&
	echo "$tok" >tokfile &&
	kiln build -q --no-cache --secret id=GIT_AUTH_TOKEN,src=tokfile ctx >/dev/null &&
	echo "bearer hdr-$$-secret" >http-auth && echo "bearer hdr-$$-secret" >hdr &&
	printf "FROM %s\nADD http://127.0.0.1:%s/private/repo.git#feature /r/\n" $BB $PORT \
		>ctx/Dockerfile &&
	kiln build -q -t add:private2 --secret id=GIT_AUTH_TOKEN,env=tok \
		--secret "id=GIT_AUTH_HEADER.127.0.0.1:$PORT,src=hdr" ctx >/dev/null &&
	rootfs_of add:private2 rootfs2 && test -f rootfs2/r/extra &&
	! grep -r -F -e "$tok" -e "hdr-$$-secret" "$KILN_ROOT" &&
	git clone -q --bare sup www/private/sup.git && git -C www/private/sup.git update-server-info &&
	P="http://127.0.0.1:$PORT/private/sup.git?tag=v2&subdir=docs" &&
	test_must_fail kiln build -q "$P" 2>err && test_grep "git clone failed" err &&
	kiln build -q -t ctx:private --secret "id=GIT_AUTH_HEADER.127.0.0.1:$PORT,src=hdr" "$P" \
		>/dev/null &&
	rootfs_of ctx:private rootfs3 && echo doc >expect && test_cmp expect rootfs3/d.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'ADD <git> without a git client says so' '
	printf "FROM %s\nADD http://127.0.0.1:%s/repo.git /r/\n" $BB $PORT >ctx/Dockerfile &&
	test_must_fail env PATH=/nonexistent "$KILN" build -q ctx 2>err &&
	test_grep "needs the git client, which is not installed" err
'

test_done
