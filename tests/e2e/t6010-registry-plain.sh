#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln push and pull against Debian's docker-registry (plain http on
# loopback, no auth), checked from the registry's side (its access log) and
# with skopeo and umoci as independent readers and writers.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

registry_for_tests plain

# lines of the access log since the mark
log_mark() {
	registry_log plain | wc -l >log.mark
}
log_since() {
	registry_log plain | tail -n +$(($(cat log.mark) + 1))
}
# log_wait PATTERN: wait (5 s at most) until the log since log_mark has
# PATTERN: the registry writes a request's line after its answer, which the
# client may have read, and exited, before
log_wait() {
	n=0
	until log_since | grep -q "$1"; do
		n=$((n + 1))
		[ $n -lt 50 ] || return 1
		sleep 0.1
	done
}

manifest_digest() {
	kiln inspect "$1" | jq -r ".[0].Digest"
}
image_id() {
	kiln inspect "$1" | jq -r ".[0].Id"
}

test_expect_success REGISTRY,JQ 'setup: two small images in the store' '
	make_rootfs a "image A" &&
	kiln import a local/a:1 >id.a &&
	make_rootfs b "image B" &&
	random_file b/big 300 &&
	kiln import b local/b:1 >id.b
'

test_expect_success REGISTRY,JQ,SKOPEO 'push; skopeo reads the same manifest' '
	kiln push local/a:1 $R/test/a:1 >out 2>err &&
	echo "$R/test/a:1@$(manifest_digest local/a:1)" >expect &&
	test_cmp expect out &&
	skopeo inspect --tls-verify=false docker://$R/test/a:1 >sk.json &&
	test "$(jq -r .Digest sk.json)" = "$(manifest_digest local/a:1)" &&
	skopeo inspect --tls-verify=false --config --raw docker://$R/test/a:1 >cfg.json &&
	test "sha256:$(sha256sum <cfg.json | cut -d" " -f1)" = "$(cat id.a)"
'

test_expect_success REGISTRY,SKOPEO,UMOCI 'skopeo copies what kiln pushed; umoci unpacks it' '
	skopeo copy --src-tls-verify=false docker://$R/test/a:1 oci:sk-oci:a &&
	umoci unpack --image sk-oci:a bundle &&
	echo "image A" >expect &&
	test_cmp expect bundle/rootfs/etc/marker
'

test_expect_success REGISTRY 'a re-push of an unchanged image moves no blob' '
	log_mark &&
	kiln push local/a:1 $R/test/a:1 2>err &&
	test_grep "0 blobs uploaded, 2 already there" err &&
	log_wait "\"PUT /v2/test/a/manifests/1" &&
	log_since >new &&
	test_grep "\"HEAD /v2/test/a/blobs/sha256:" new &&
	! grep -E "\"(POST|PATCH) /v2/test/a/blobs/" new &&
	! grep -E "\"PUT /v2/test/a/blobs/" new
'

test_expect_success REGISTRY,JQ 'pull into an empty store gives the same image' '
	KILN_ROOT=$TRASH/s2 kiln pull $R/test/a:1 >out 2>err &&
	echo "$R/test/a:1" >expect &&
	test_cmp expect out &&
	test "$(KILN_ROOT=$TRASH/s2 image_id $R/test/a:1)" = "$(cat id.a)" &&
	test "$(KILN_ROOT=$TRASH/s2 manifest_digest $R/test/a:1)" = "$(manifest_digest local/a:1)" &&
	KILN_ROOT=$TRASH/s2 kiln fsck >fsck &&
	test_grep "no problems found" fsck
'

test_expect_success REGISTRY 'a second pull downloads no blob' '
	log_mark &&
	KILN_ROOT=$TRASH/s2 kiln pull $R/test/a:1 >out 2>err &&
	test_grep "0 blobs fetched" err &&
	log_wait "GET /v2/test/a/manifests/1" &&
	log_since >new &&
	! grep "GET /v2/test/a/blobs/" new
'

# A name that only /etc/hosts knows (in a mount namespace of its own): the
# resolver a static kiln carries reads /etc/hosts itself, no NSS module.
test_expect_success REGISTRY,ROOT,UNSHARE 'a registry named in /etc/hosts' '
	port=${R##*:} &&
	{ cat /etc/hosts && echo "127.0.0.1 kiln-registry.test"; } >hosts &&
	unshare -m sh -c "mount --bind hosts /etc/hosts &&
		KILN_ROOT=$TRASH/s5 \"$KILN\" pull --tls-verify=false \
			kiln-registry.test:$port/test/a:1" >out 2>err &&
	echo "kiln-registry.test:$port/test/a:1" >expect &&
	test_cmp expect out &&
	test "$(KILN_ROOT=$TRASH/s5 image_id kiln-registry.test:$port/test/a:1)" = "$(cat id.a)" &&
	test_expect_code 1 env KILN_ROOT=$TRASH/s5 "$KILN" pull --tls-verify=false \
		kiln-registry.test:$port/test/a:1 2>err &&
	test_grep "Could not resolve host: kiln-registry.test" err &&
	test_expect_code 1 unshare -m sh -c "mount --bind hosts /etc/hosts &&
		KILN_ROOT=$TRASH/s5 \"$KILN\" pull kiln-registry.test:$port/test/a:1" 2>err &&
	test_grep "seems to speak plain http: --tls-verify=false allows it" err
'

test_expect_success REGISTRY,JQ,SKOPEO 'chunked upload above --chunk-size' '
	log_mark &&
	kiln push --no-mount --chunk-size 65536 local/b:1 $R/test/b:1 2>err &&
	log_wait "\"PUT /v2/test/b/manifests/1" &&
	log_since >new &&
	test "$(grep -c "\"PATCH /v2/test/b/blobs/uploads/" new)" -ge 5 &&
	skopeo inspect --tls-verify=false docker://$R/test/b:1 >/dev/null &&
	KILN_ROOT=$TRASH/s3 kiln pull -q $R/test/b:1 &&
	test "$(KILN_ROOT=$TRASH/s3 image_id $R/test/b:1)" = "$(cat id.b)"
'

test_expect_success REGISTRY 'a blob known in another repository is mounted' '
	log_mark &&
	kiln push local/a:1 $R/test/other:1 2>err &&
	test_grep "0 blobs uploaded, 0 already there, 2 mounted" err &&
	log_wait "\"PUT /v2/test/other/manifests/1" &&
	log_since >new &&
	test_grep "\"POST /v2/test/other/blobs/uploads/?mount=sha256:.*&from=test/a " new &&
	! grep -E "\"(PATCH|PUT) /v2/test/other/blobs/" new
'

test_expect_success REGISTRY,JQ 'pull by digest: no tag, a repository digest, listed under its repository' '
	d=$(manifest_digest local/a:1) &&
	KILN_ROOT=$TRASH/s4 kiln pull $R/test/a@$d >out 2>err &&
	echo "$R/test/a@$d" >expect &&
	test_cmp expect out &&
	KILN_ROOT=$TRASH/s4 kiln inspect $R/test/a@$d >insp &&
	test "$(jq -r ".[0].RepoTags | length" insp)" = 0 &&
	test "$(jq -r ".[0].RepoDigests[0]" insp)" = "$R/test/a@$d" &&
	KILN_ROOT=$TRASH/s4 kiln images $R/test/a >list &&
	test "$(sed -n 2p list | tr -s " " | cut -d" " -f1,2)" = "$R/test/a <none>" &&
	KILN_ROOT=$TRASH/s4 kiln prune --dangling --dry-run >dry &&
	test_grep "Would delete 1 image without a name" dry &&
	test_grep "Would delete [1-9][0-9]* blob" dry &&
	KILN_ROOT=$TRASH/s4 kiln images -q >ids && test -s ids
'

test_expect_success REGISTRY 'a tag that does not exist' '
	test_expect_code 1 kiln pull $R/test/a:nope 2>err &&
	test_grep "404 Not Found: MANIFEST_UNKNOWN" err &&
	test_grep "/v2/test/a/manifests/nope" err
'

# An index over two single-platform images, put by hand.
put_index() { # NAME MEDIATYPE CHILD_MEDIATYPE TAG...
	name=$1 mt=$2 cmt=$3
	shift 3
	entries=""
	for t in "$@"; do
		curl -fsS -H "Accept: $cmt" http://$R/v2/$name/manifests/$t >m-$t.json || return 1
		arch=${t%%-*}
		variant=""
		[ "$arch" = arm64 ] && variant=",\"variant\":\"v8\""
		entries="$entries${entries:+,}{\"mediaType\":\"$cmt\",\"digest\":\"sha256:$(sha256sum <m-$t.json | cut -d" " -f1)\",\"size\":$(wc -c <m-$t.json),\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"$variant}}"
	done
	printf "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}" "$mt" "$entries" >index.json &&
	curl -fsS -X PUT -H "Content-Type: $mt" --data-binary @index.json \
		http://$R/v2/$name/manifests/multi
}

test_expect_success REGISTRY,JQ,CURL 'setup: an OCI index for linux/amd64 and linux/arm64' '
	make_rootfs arm "image ARM" &&
	kiln import --platform linux/arm64 arm local/arm:1 >id.arm &&
	make_rootfs x86 "image X86" &&
	kiln import --platform linux/amd64 x86 local/x86:1 >id.x86 &&
	kiln push -q local/arm:1 $R/multi/x:arm64 &&
	kiln push -q local/x86:1 $R/multi/x:amd64 &&
	put_index multi/x application/vnd.oci.image.index.v1+json \
		application/vnd.oci.image.manifest.v1+json amd64 arm64
'

test_expect_success REGISTRY,JQ 'an index: --platform picks the image' '
	KILN_ROOT=$TRASH/m1 kiln pull --platform linux/arm64/v8 $R/multi/x:multi 2>err &&
	test_grep "(linux/arm64)" err &&
	test "$(KILN_ROOT=$TRASH/m1 image_id $R/multi/x:multi)" = "$(cat id.arm)" &&
	KILN_ROOT=$TRASH/m2 kiln pull --platform aarch64 $R/multi/x:multi &&
	test "$(KILN_ROOT=$TRASH/m2 image_id $R/multi/x:multi)" = "$(cat id.arm)" &&
	KILN_ROOT=$TRASH/m3 kiln pull --platform linux/x86_64 $R/multi/x:multi &&
	test "$(KILN_ROOT=$TRASH/m3 image_id $R/multi/x:multi)" = "$(cat id.x86)"
'

test_expect_success REGISTRY,JQ 'an index: the default platform is this machine'"'"'s' '
	case $(uname -m) in
	x86_64) want=$(cat id.x86) ;;
	aarch64) want=$(cat id.arm) ;;
	*) want=none ;;
	esac &&
	if [ "$want" = none ]; then
		test_expect_code 1 kiln pull $R/multi/x:multi 2>err
	else
		KILN_ROOT=$TRASH/m4 kiln pull $R/multi/x:multi &&
		test "$(KILN_ROOT=$TRASH/m4 image_id $R/multi/x:multi)" = "$want" &&
		KILN_ROOT=$TRASH/m4 kiln inspect $R/multi/x:multi >insp &&
		test "$(jq -r ".[0].RepoDigests[0]" insp)" = "$R/multi/x@sha256:$(sha256sum <index.json | cut -d" " -f1)"
	fi
'

test_expect_success REGISTRY 'an index without the platform lists what it has' '
	test_expect_code 1 kiln pull --platform linux/s390x $R/multi/x:multi 2>err &&
	test_grep "has no image for linux/s390x (it has: linux/amd64, linux/arm64)" err
'

test_expect_success REGISTRY 'a single-platform image for another platform is refused' '
	test_expect_code 1 kiln pull --platform linux/arm64 $R/multi/x:amd64 2>err &&
	test_grep "is an image for linux/amd64, not linux/arm64" err
'

test_expect_success REGISTRY,JQ,SKOPEO,CURL 'a docker manifest list over docker schema 2 manifests' '
	skopeo copy -q --format v2s2 --src-tls-verify=false --dest-tls-verify=false \
		docker://$R/multi/x:arm64 docker://$R/multi/d:arm64 &&
	skopeo copy -q --format v2s2 --src-tls-verify=false --dest-tls-verify=false \
		docker://$R/multi/x:amd64 docker://$R/multi/d:amd64 &&
	put_index multi/d application/vnd.docker.distribution.manifest.list.v2+json \
		application/vnd.docker.distribution.manifest.v2+json amd64 arm64 &&
	KILN_ROOT=$TRASH/d1 kiln pull --platform linux/arm64 $R/multi/d:multi &&
	KILN_ROOT=$TRASH/d1 kiln inspect $R/multi/d:multi >insp &&
	test "$(jq -r ".[0].MediaType" insp)" = application/vnd.docker.distribution.manifest.v2+json &&
	test "$(jq -r ".[0].Architecture" insp)" = arm64
'

test_expect_success REGISTRY,JQ,SKOPEO,UMOCI 'skopeo pushes an umoci-made OCI layout; kiln pulls it' '
	umoci init --layout lay &&
	umoci new --image lay:t &&
	make_rootfs u "image U" &&
	umoci insert --image lay:t u / &&
	skopeo copy -q --dest-tls-verify=false oci:lay:t docker://$R/from/skopeo:gzip &&
	KILN_ROOT=$TRASH/k1 kiln pull $R/from/skopeo:gzip &&
	skopeo inspect --tls-verify=false --config --raw docker://$R/from/skopeo:gzip >cfg.json &&
	test "$(KILN_ROOT=$TRASH/k1 image_id $R/from/skopeo:gzip)" = "sha256:$(sha256sum <cfg.json | cut -d" " -f1)" &&
	KILN_ROOT=$TRASH/k1 kiln inspect $R/from/skopeo:gzip >insp &&
	test "$(jq -r ".[0].Manifest.layers[-1].mediaType" insp)" = application/vnd.oci.image.layer.v1.tar+gzip
'

# fresh content: skopeo would otherwise reuse the gzip blob it pushed above
test_expect_success REGISTRY,JQ,SKOPEO,UMOCI 'zstd layers' '
	umoci init --layout layz &&
	umoci new --image layz:t &&
	make_rootfs z "image Z" &&
	random_file z/noise 64 &&
	umoci insert --image layz:t z / &&
	skopeo copy -q --dest-tls-verify=false --dest-compress-format zstd \
		oci:layz:t docker://$R/from/skopeo:zstd &&
	KILN_ROOT=$TRASH/k2 kiln pull $R/from/skopeo:zstd &&
	KILN_ROOT=$TRASH/k2 kiln inspect $R/from/skopeo:zstd >insp &&
	test "$(jq -r ".[0].Manifest.layers[-1].mediaType" insp)" = application/vnd.oci.image.layer.v1.tar+zstd &&
	KILN_ROOT=$TRASH/k2 kiln fsck >fsck &&
	test_grep "no problems found" fsck
'

test_expect_success REGISTRY,JQ,SKOPEO,UMOCI 'docker schema 2 through a docker-archive' '
	skopeo copy -q oci:lay:t docker-archive:arch.tar:from/archive:1 &&
	skopeo copy -q --dest-tls-verify=false docker-archive:arch.tar docker://$R/from/archive:1 &&
	KILN_ROOT=$TRASH/k3 kiln pull $R/from/archive:1 &&
	KILN_ROOT=$TRASH/k3 kiln inspect $R/from/archive:1 >insp &&
	test "$(jq -r ".[0].MediaType" insp)" = application/vnd.docker.distribution.manifest.v2+json
'

# blob upload the plain way, for a layer no tool here leaves uncompressed
upload_blob() { # REPO FILE
	loc=$(curl -fsS -X POST -D - -o /dev/null http://$R/v2/$1/blobs/uploads/ |
		tr -d "\r" | sed -n "s/^[Ll]ocation: //p") &&
	case $loc in http*) ;; *) loc=http://$R$loc ;; esac &&
	curl -fsS -X PUT -H "Content-Type: application/octet-stream" --data-binary @"$2" \
		"$loc&digest=sha256:$(sha256sum <"$2" | cut -d" " -f1)" >/dev/null
}

test_expect_success REGISTRY,JQ,CURL 'an uncompressed layer' '
	make_rootfs raw "image RAW" &&
	tar -C raw -cf layer.tar . &&
	ld=sha256:$(sha256sum <layer.tar | cut -d" " -f1) &&
	printf "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]},\"config\":{}}" \
		"$(jq -r ".[0].Architecture" insp)" "$ld" >rawcfg.json &&
	upload_blob raw/img layer.tar &&
	upload_blob raw/img rawcfg.json &&
	printf "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%d},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%d}]}" \
		"$(sha256sum <rawcfg.json | cut -d" " -f1)" "$(wc -c <rawcfg.json)" "$ld" "$(wc -c <layer.tar)" >rawm.json &&
	curl -fsS -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
		--data-binary @rawm.json http://$R/v2/raw/img/manifests/1 &&
	KILN_ROOT=$TRASH/k4 kiln pull $R/raw/img:1 &&
	KILN_ROOT=$TRASH/k4 kiln inspect $R/raw/img:1 >insp2 &&
	test "$(jq -r ".[0].RootFS.Layers[0]" insp2)" = "$ld" &&
	KILN_ROOT=$TRASH/k4 kiln fsck >fsck &&
	test_grep "no problems found" fsck
'

test_expect_success REGISTRY 'progress lines name every blob once started and done' '
	KILN_ROOT=$TRASH/p1 kiln pull $R/test/b:1 2>err &&
	test "$(grep -c "^pulling layer sha256:" err)" = 1 &&
	test "$(grep -c "^done layer sha256:" err)" = 1 &&
	test "$(grep -c "^pulling config sha256:" err)" = 1 &&
	KILN_ROOT=$TRASH/p2 kiln pull -q $R/test/b:1 2>err &&
	test_must_fail test -s err
'

registry_stop_all
test_done
