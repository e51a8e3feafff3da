#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build contexts: --build-context NAME=DIR|docker-image://REF|oci-layout://DIR
# |git URL|https URL read by FROM, COPY --from and RUN --mount from=, a
# named context replacing a stage, NAME::PLATFORM; contexts from stdin (a
# gzip tar, a lone Dockerfile), from a git repository (at a ref, in a
# subdirectory) and from a tar at a URL, served over loopback HTTP.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

. "$KILN_SOURCE_ROOT/tests/helper/http-lib.sh"
http_start
trap http_stop EXIT
URL=http://127.0.0.1:$PORT

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a base image, a context, another directory' '
	build_base &&
	mkdir -p ctx other/skipped &&
	echo "other file" >other/o.txt &&
	echo "not sent" >other/skipped/x &&
	echo "skipped" >other/.dockerignore
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a directory for COPY --from and RUN --mount from=, behind its .dockerignore' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	COPY --from=other / /other/
	RUN --mount=from=other,target=/mnt cat /mnt/o.txt >/mounted && ! test -e /mnt/skipped
	EOF
	kiln build -q -t ctx:dir --build-context other=other ctx >/dev/null &&
	rootfs_of ctx:dir rootfs &&
	echo "other file" >expect &&
	test_cmp expect rootfs/other/o.txt && test_cmp expect rootfs/mounted &&
	! test -e rootfs/other/skipped
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an unchanged or touched directory is not copied again; an edited one is' '
	kiln build --progress=plain --build-context other=other ctx 2>out &&
	test_grep -A1 "\[context other\] load" out | test_grep CACHED &&
	touch other/o.txt &&
	kiln build --progress=plain --build-context other=other ctx 2>out &&
	test_grep -A1 "\[context other\] load" out | test_grep CACHED &&
	echo "edited" >other/o.txt &&
	kiln build -q -t ctx:dir2 --build-context other=other ctx >/dev/null &&
	rootfs_of ctx:dir2 rootfs2 && echo edited >expect && test_cmp expect rootfs2/mounted &&
	echo "other file" >other/o.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'FROM a directory: an image of its files, with no base' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM other
	LABEL from=directory
	COPY --from=$BB /bin/busybox /bin/busybox
	EOF
	kiln build -q -t ctx:fromdir --build-context other=other ctx >/dev/null &&
	rootfs_of ctx:fromdir rootfs3 &&
	echo "other file" >expect && test_cmp expect rootfs3/o.txt &&
	ls rootfs3 | sort >got && printf "bin\no.txt\n" >expect && test_cmp expect got &&
	test "$(cfg ctx:fromdir ".RootFS.Layers | length")" = 2
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a named context replaces a stage: its own steps never run' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM localhost/does-not-exist:never AS build
	RUN false

	FROM $BB
	COPY --from=build /o.txt /from-build.txt
	EOF
	kiln build --progress=plain -t ctx:stage --build-context build=other ctx 2>out &&
	! test_grep "does-not-exist" out &&
	rootfs_of ctx:stage rootfs4 &&
	echo "other file" >expect && test_cmp expect rootfs4/from-build.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'docker-image:// pinned by digest stands for an image name; nothing is pulled' '
	digest=$(cfg "$BB" .Digest | tr -d "\"") &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM alpine:3.19
	RUN echo on-alpine >/which
	EOF
	kiln build --progress=plain -t ctx:img \
		--build-context "alpine:3.19=docker-image://$BB@$digest" ctx 2>out &&
	test_grep "FROM .*busybox:test@$digest" out &&
	! test_grep "load metadata for" out &&
	test "$(cfg ctx:img ".RootFS.Layers[0]")" = "$(cfg "$BB" ".RootFS.Layers[0]")"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'oci-layout:// by tag and by digest' '
	printf "FROM %s\nRUN echo in-layout >/layout.txt\n" $BB | \
		kiln build -q -t lay:v1 -o type=oci,dest=layout,tar=false - >/dev/null &&
	digest=$(jq -r ".manifests[0].digest" layout/index.json) &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM base
	RUN cat /layout.txt >/seen
	EOF
	kiln build -q -t ctx:lt --build-context base=oci-layout://layout:v1 ctx >/dev/null &&
	kiln build -q -t ctx:ld --build-context "base=oci-layout://layout@$digest" ctx >/dev/null &&
	rootfs_of ctx:lt r1 && rootfs_of ctx:ld r2 &&
	echo in-layout >expect && test_cmp expect r1/seen && test_cmp expect r2/seen &&
	test_must_fail kiln build --build-context base=oci-layout://layout:nope ctx 2>err &&
	test_grep "has no image tagged nope" err &&
	cp -R layout unlisted && jq ".manifests = []" layout/index.json >unlisted/index.json &&
	kiln build -q -t ctx:lu --build-context "base=oci-layout://unlisted@$digest" ctx >/dev/null &&
	rootfs_of ctx:lu r3 && test_cmp expect r3/seen &&
	config=$(jq -r ".config.digest" "unlisted/blobs/sha256/${digest#sha256:}") &&
	test_must_fail kiln build --build-context "base=oci-layout://unlisted@$config" ctx 2>err &&
	test -s err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'NAME::PLATFORM applies to that platform only' '
	printf "FROM %s\nCOPY --from=other / /other/\n" $BB >ctx/Dockerfile &&
	mkdir -p wrong && echo wrong >wrong/o.txt &&
	kiln build -q -t ctx:plat --build-context other::linux/arm64=wrong \
		--build-context other=other ctx >/dev/null &&
	rootfs_of ctx:plat r3 && echo "other file" >expect && test_cmp expect r3/other/o.txt &&
	kiln build -q -t ctx:plat2 --build-context other::linux/amd64=wrong \
		--build-context other=other ctx >/dev/null &&
	rootfs_of ctx:plat2 r4 && echo wrong >expect && test_cmp expect r4/other/o.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bad --build-context values are refused with the reason' '
	test_expect_code 2 kiln build --build-context nameonly ctx 2>err &&
	test_grep "needs NAME=VALUE" err &&
	test_expect_code 2 kiln build --build-context x=ftp://host/a ctx 2>err &&
	test_grep "unsupported context source" err &&
	test_expect_code 2 kiln build --build-context x=target:other ctx 2>err &&
	test_grep "bake target" err &&
	test_expect_code 2 kiln build --build-context "Bad Name=other" ctx 2>err &&
	test_grep "invalid context name" err &&
	test_expect_code 2 kiln build --build-context x=docker-image://UPPER ctx 2>err &&
	test_expect_code 1 kiln build --build-context x=missing-dir ctx 2>err &&
	test_grep "build-context x: missing-dir" err &&
	test_expect_code 1 kiln build --build-context x=oci-layout://other ctx 2>err &&
	test_grep "is not an OCI layout" err &&
	test_expect_code 1 kiln build --build-context x=other --build-context x=ctx ctx 2>err &&
	test_grep "given twice" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'stdin: a gzip tar with its Dockerfile, and a lone Dockerfile' '
	mkdir -p tarctx && echo "from the tar" >tarctx/t.txt &&
	printf "FROM %s\nCOPY t.txt /t.txt\n" $BB >tarctx/Dockerfile &&
	tar -C tarctx -czf tarctx.tgz . &&
	kiln build -q -t ctx:stdin - <tarctx.tgz >/dev/null &&
	rootfs_of ctx:stdin r5 && echo "from the tar" >expect && test_cmp expect r5/t.txt &&
	printf "FROM %s\nRUN echo alone >/alone\n" $BB | kiln build -q -t ctx:lone - >/dev/null &&
	rootfs_of ctx:lone r6 && echo alone >expect && test_cmp expect r6/alone
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'a git repository as the context: a ref, a subdirectory, -f inside it' '
	git init -q -b main repo && mkdir -p repo/app &&
	echo "main version" >repo/app/v.txt &&
	printf "FROM %s\nCOPY v.txt /v.txt\n" $BB >repo/app/Dockerfile &&
	printf "FROM %s\nCOPY v.txt /other.txt\n" $BB >repo/app/Other.Dockerfile &&
	git -C repo add -A &&
	git -C repo -c user.name=t -c user.email=t@example.com commit -qm one &&
	git -C repo checkout -qb feature && echo "feature version" >repo/app/v.txt &&
	git -C repo -c user.name=t -c user.email=t@example.com commit -qam two &&
	git clone -q --bare repo www/repo.git && git -C www/repo.git update-server-info &&
	kiln build --progress=plain -t ctx:git "$URL/repo.git#main:app" 2>out &&
	test_grep "load git source $URL/repo.git#main:app" out &&
	rootfs_of ctx:git r7 && echo "main version" >expect && test_cmp expect r7/v.txt &&
	kiln build -q -t ctx:git2 -f Other.Dockerfile "$URL/repo.git#feature:app" >/dev/null &&
	rootfs_of ctx:git2 r8 && echo "feature version" >expect && test_cmp expect r8/other.txt &&
	test_must_fail kiln build "$URL/repo.git#main:nope" 2>err &&
	test_grep "context $URL/repo.git#main:nope: no directory nope in the repository" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3,GIT 'a git repository as a named context' '
	printf "FROM %s\nCOPY --from=src /app/v.txt /v.txt\n" $BB >ctx/Dockerfile &&
	kiln build -q -t ctx:gitnamed --build-context "src=$URL/repo.git#feature" ctx >/dev/null &&
	rootfs_of ctx:gitnamed r9 && echo "feature version" >expect && test_cmp expect r9/v.txt
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'a tar at a URL as the context; a URL of a Dockerfile alone' '
	tar -C tarctx -czf www/ctx.tar.gz . &&
	kiln build -q -t ctx:url "$URL/ctx.tar.gz" >/dev/null &&
	rootfs_of ctx:url r10 && echo "from the tar" >expect && test_cmp expect r10/t.txt &&
	printf "FROM %s\nRUN echo remote-dockerfile >/r\n" $BB >www/Dockerfile.remote &&
	kiln build -q -t ctx:urldf "$URL/Dockerfile.remote" >/dev/null &&
	rootfs_of ctx:urldf r11 && echo remote-dockerfile >expect && test_cmp expect r11/r &&
	test_must_fail kiln build "$URL/missing.tar" 2>err &&
	test_grep "context $URL/missing.tar" err
'

test_done
