#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The local image commands on one store: import, images, tag, inspect, rmi,
# fsck, prune, and their errors.
. "$(dirname "$0")/test-lib.sh"

HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh

test_expect_success BUSYBOX 'import a busybox directory' '
	"$HELPER" rootfs &&
	kiln import rootfs bb:1 >id &&
	grep -q "^sha256:[0-9a-f]\{64\}$" id &&
	kiln images >out &&
	test_grep "^bb  *1  *$(cut -c8-19 id) " out
'

test_expect_success BUSYBOX 'import a gzip tar from stdin with a message and platform' '
	"$HELPER" --tar rootfs.tar &&
	gzip -c rootfs.tar | kiln import -m "from a tarball" --platform linux/arm64 - \
		localhost:5000/team/bb:arm >id2 &&
	kiln inspect localhost:5000/team/bb:arm >out &&
	test_grep "\"Architecture\": \"arm64\"" out &&
	test_grep "\"comment\": \"from a tarball\"" out &&
	test_grep "\"localhost:5000/team/bb:arm\"" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'import --change: Dockerfile instructions on the config, in order' '
	kiln import -c "ENV A=1" -c "ENV B=\$A-2" -c "WORKDIR /w" -c "CMD [\"/bin/echo\", \"hi\"]" \
		-c "EXPOSE 8080" -c "USER nobody" rootfs chg:1 >/dev/null &&
	kiln inspect chg:1 | jq -c ".[0].Config | [.Env, .WorkingDir, .Cmd, .ExposedPorts, .User]" >cfg &&
	echo "[[\"A=1\",\"B=1-2\"],\"/w\",[\"/bin/echo\",\"hi\"],{\"8080/tcp\":{}},\"nobody\"]" >expect &&
	test_cmp expect cfg &&
	kiln run --rm chg:1 >out && echo hi >expect && test_cmp expect out &&
	kiln rmi chg:1 >/dev/null
'

test_expect_success BUSYBOX 'import --change refuses what docker refuses, and writes no image' '
	kiln images -q | sort >before &&
	test_expect_code 1 kiln import -c "RUN true" rootfs bad:1 2>err &&
	test_grep "run is not a valid change command" err &&
	test_expect_code 1 kiln import -c "FROM busybox" rootfs bad:1 2>err &&
	test_grep "from is not a valid change command" err &&
	test_expect_code 1 kiln import -c "ENV" rootfs bad:1 2>err &&
	test_grep "ENV" err &&
	kiln images -q | sort >after && test_cmp before after &&
	! kiln inspect bad:1 >/dev/null 2>&1
'

test_expect_success BUSYBOX 'the same tar imported twice has the same layer, the tar its own' '
	kiln import rootfs.tar again:1 >/dev/null &&
	kiln import rootfs.tar again:2 >/dev/null &&
	kiln inspect again:1 >a && kiln inspect again:2 >b && kiln inspect bb:1 >c &&
	grep -A1 "\"Layers\"" a | tail -1 >la &&
	grep -A1 "\"Layers\"" b | tail -1 >lb &&
	grep -A1 "\"Layers\"" c | tail -1 >lc &&
	test_grep "sha256:" la &&
	test_cmp la lb &&
	tar -xOf rootfs.tar >/dev/null && sha256sum rootfs.tar | cut -c1-64 >want &&
	test_grep "$(cat want)" la &&
	! test_cmp la lc &&
	kiln rmi again:2 >/dev/null
'

test_expect_success BUSYBOX 'images: json, quiet, filters' '
	kiln images --format json >j &&
	test_grep "\"RepoTags\"" j &&
	test_grep "\"Platform\": \"linux/arm64\"" j &&
	kiln images -q >q && test "$(wc -l <q)" = 3 &&
	kiln images bb >f && test "$(wc -l <f)" = 2 &&
	kiln images localhost:5000/team/bb:arm >f2 && test_grep "team/bb" f2 &&
	test_expect_code 2 kiln images --format yaml 2>err &&
	test_grep "unknown format" err
'

test_expect_success BUSYBOX 'tag by name and by id prefix; tags move' '
	kiln tag bb:1 bb:2 &&
	kiln tag "$(cut -c8-19 id)" registry.example/bb &&
	kiln images bb >out && test_grep "^bb  *2 " out &&
	kiln inspect registry.example/bb:latest >out &&
	test_grep "$(cat id)" out &&
	kiln tag again:1 bb:2 &&
	kiln inspect bb:2 >out && test_grep "\"again:1\"" out
'

test_expect_success BUSYBOX 'inspect shows docker-like fields and the manifest' '
	kiln inspect bb:1 >out &&
	for k in Id RepoTags RepoDigests Created Config Architecture Os Size RootFS Digest Manifest; do
		test_grep "\"$k\":" out || return 1
	done &&
	test_grep "\"Id\": \"$(cat id)\"" out &&
	test_grep "application/vnd.oci.image.layer.v1.tar+gzip" out
'

test_expect_success 'errors: unknown image, bad names, usage' '
	test_expect_code 1 kiln inspect nosuch 2>err && test_grep "no such image: nosuch" err &&
	test_expect_code 1 kiln tag nosuch x 2>err && test_grep "no such image" err &&
	test_expect_code 2 kiln tag bb:1 "Bad/Name" 2>err && test_grep "target" err &&
	test_expect_code 2 kiln tag bb:1 2>err && test_grep "usage: kiln tag" err &&
	test_expect_code 2 kiln rmi 2>err &&
	test_expect_code 1 kiln import /nonexistent x 2>err && test_grep "/nonexistent" err &&
	kiln import --help >out && test_grep "^usage: kiln import" out
'

test_expect_success BUSYBOX 'rmi of a name untags; the last name deletes' '
	kiln rmi bb:2 >out &&
	test_grep "^Untagged: bb:2$" out &&
	! test_grep Deleted out &&
	kiln tag again:1 only:1 &&
	kiln rmi again:1 >out && ! test_grep Deleted out &&
	kiln rmi only:1 >out &&
	test_grep "^Untagged: only:1$" out && test_grep "^Deleted: sha256:" out
'

test_expect_success BUSYBOX 'rmi by id refuses an image in several repositories unless forced' '
	test_expect_code 1 kiln rmi "$(cut -c8-19 id)" 2>err &&
	test_grep "must be forced" err &&
	kiln rmi -f "$(cut -c8-19 id)" >out &&
	test_grep "Untagged: bb:1" out && test_grep "Untagged: registry.example/bb:latest" out &&
	test_grep "Deleted: $(cat id)" out &&
	test_expect_code 1 kiln inspect bb:1 2>/dev/null
'

test_expect_success BUSYBOX 'rmi frees blobs at once; fsck stays clean' '
	kiln fsck >out &&
	test_grep "no problems found" out &&
	! test_grep unreferenced out &&
	kiln prune >out && test_grep "Deleted 0 blobs" out
'

test_expect_success 'prune removes what crashed commands left behind' '
	printf partial >"$KILN_ROOT/tmp/blob-0123.99" &&
	kiln prune --dry-run >out && test_grep "Would delete 0 blobs and 1 temp file" out &&
	test -f "$KILN_ROOT/tmp/blob-0123.99" &&
	kiln prune >out && test_grep "Total reclaimed space: 7B" out &&
	! test -e "$KILN_ROOT/tmp/blob-0123.99"
'

test_expect_success BUSYBOX 'prune --dangling removes images without a name' '
	kiln import rootfs.tar gone:1 >gid &&
	kiln rmi gone:1 >/dev/null &&
	kiln import rootfs.tar >/dev/null &&
	kiln images >out && test_grep "^<none> " out &&
	kiln prune --dangling >out && test_grep "Deleted [1-9][0-9]* blob" out &&
	kiln images >out && ! test_grep "^<none> " out
'

test_expect_success BUSYBOX '--root and KILN_ROOT choose the store' '
	kiln --root "$TRASH/other" import rootfs.tar elsewhere:1 >/dev/null &&
	kiln --root "$TRASH/other" images >out && test_grep elsewhere out &&
	kiln images >out && ! test_grep elsewhere out &&
	test -f "$TRASH/other/store.db" && test -d "$TRASH/other/blobs/sha256"
'

test_done
