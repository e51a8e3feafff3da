#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Caches in a directory (type=local: an OCI image layout, BuildKit's index
# by default, named in index.json by tag) and in the image itself
# (type=inline: the records in the config's moby.buildkit.cache.v0, read
# back with --cache-from type=registry,ref=<the image>).
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

registry_for_tests inline
A=$TRASH/storeA

# all_cached FILE: every layer step of the progress was CACHED (and there were some)
all_cached() {
	ids=$(sed -n -E 's/^#([0-9]+) \[[^]]+\] (RUN|COPY|ADD|WORKDIR) .*/\1/p' "$1" | sort -u)
	test -n "$ids" || return 1
	for id in $ids; do
		grep -q "^#$id CACHED$" "$1" || { echo "step #$id ran"; return 1; }
	done
}

# fresh NAME: a new store with the base image of store A (same manifest digest)
fresh() {
	rm -rf "$TRASH/$1" && KILN_ROOT=$TRASH/$1 kiln load -i base.tar >/dev/null
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a base image, a two-stage project' '
	KILN_ROOT=$A build_base &&
	KILN_ROOT=$A kiln save --format oci-archive -o base.tar $BB &&
	mkdir -p ctx && echo "int main(void) { return 0; }" >ctx/main.c &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY main.c /src/
	RUN wc -c /src/main.c >/src/size && date +%s%N >/src/at
	FROM $BB
	COPY --from=build /src/size /size
	RUN cat /size >/copy
	EOF
	KILN_ROOT=$A kiln build -q --metadata-file mdA.json \
		--cache-to type=local,dest=$TRASH/dir,mode=max ctx >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'type=local writes an OCI layout: an index named latest' '
	test "$(cat dir/oci-layout)" = "{\"imageLayoutVersion\":\"1.0.0\"}" &&
	jq -r ".manifests[] | .annotations[\"org.opencontainers.image.ref.name\"]" dir/index.json >names &&
	echo latest >expect && test_cmp expect names &&
	root=$(jq -r ".manifests[0].digest" dir/index.json) &&
	jq -r ".mediaType" dir/blobs/sha256/${root#sha256:} >mt &&
	echo application/vnd.oci.image.index.v1+json >expect && test_cmp expect mt &&
	jq -r ".manifests[-1].mediaType" dir/blobs/sha256/${root#sha256:} >last &&
	echo application/vnd.buildkit.cacheconfig.v0 >expect && test_cmp expect last &&
	for d in $(jq -r ".manifests[].digest" dir/blobs/sha256/${root#sha256:}); do
		test "sha256:$(sha256sum <dir/blobs/sha256/${d#sha256:} | cut -d" " -f1)" = "$d" || exit 1
	done
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a fresh store reads it: every step cached, same image' '
	fresh B && cp -r ctx ctxB && touch -d "2002-02-02" ctxB/main.c &&
	KILN_ROOT=$TRASH/B kiln build --progress=plain --metadata-file mdB.json \
		--cache-from type=local,src=$TRASH/dir ctxB 2>out &&
	all_cached out &&
	test "$(jq -r .\"containerimage.digest\" mdB.json)" = "$(jq -r .\"containerimage.digest\" mdA.json)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'tag= and image-manifest=true; digest= reads one cache by digest' '
	KILN_ROOT=$A kiln build -q \
		--cache-to type=local,dest=$TRASH/dir,tag=v2,image-manifest=true,mode=max ctx >/dev/null &&
	KILN_ROOT=$A kiln build -q --cache-to type=local,dest=$TRASH/dir,mode=max ctx >/dev/null &&
	jq -r ".manifests[] | .annotations[\"org.opencontainers.image.ref.name\"]" dir/index.json |
		sort >names &&
	printf "latest\nv2\n" >expect && test_cmp expect names &&
	v2=$(jq -r ".manifests[] | select(.annotations[\"org.opencontainers.image.ref.name\"] == \"v2\") | .digest" dir/index.json) &&
	jq -r ".config.mediaType" dir/blobs/sha256/${v2#sha256:} >mt &&
	echo application/vnd.buildkit.cacheconfig.v0 >expect && test_cmp expect mt &&
	fresh C && KILN_ROOT=$TRASH/C kiln build --progress=plain \
		--cache-from type=local,src=$TRASH/dir,tag=v2 ctx 2>out &&
	all_cached out &&
	fresh D && KILN_ROOT=$TRASH/D kiln build --progress=plain \
		--cache-from type=local,src=$TRASH/dir,digest=$v2 ctx 2>out &&
	all_cached out &&
	fresh E && KILN_ROOT=$TRASH/E kiln build --progress=plain \
		--cache-from type=local,src=$TRASH/dir,tag=nope ctx 2>out &&
	test_grep "WARNING: cache $TRASH/dir not found: index.json has no tag nope; building without it" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ,REGISTRY,SKOPEO 'type=inline: the records ride in the pushed image' '
	KILN_ROOT=$A kiln build --progress=plain --cache-to type=inline -t $R/app:inline --push \
		ctx 2>out &&
	skopeo inspect --tls-verify=false --config --raw docker://$R/app:inline >cfg.json &&
	jq -r ".\"moby.buildkit.cache.v0\"" cfg.json | base64 -d >records.json &&
	jq -r ".[].kiln.createdBy" records.json | sort >created &&
	grep -q "^COPY /src/size /size" created && grep -q "^RUN /bin/sh -c cat /size" created &&
	! grep -q "wc -c" created &&
	jq -r ".[].layers[0].layer" records.json | sort -n | tail -1 >last &&
	test "$(cat last)" = "$(($(jq ".rootfs.diff_ids | length" cfg.json) - 1))"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ,REGISTRY 'a fresh store reads the image'"'"'s inline cache' '
	fresh F && KILN_ROOT=$TRASH/F kiln build --progress=plain -t app:f \
		--cache-from type=registry,ref=$R/app:inline ctx 2>out &&
	grep -q "importing cache manifest from $R/app:inline" out &&
	test_grep "inline cache: 3 records" out &&
	id=$(sed -n "s/^#\([0-9]*\) \[stage-1 2\/3\] COPY .*/\1/p" out | head -1) &&
	grep -q "^#$id CACHED$" out &&
	id=$(sed -n "s/^#\([0-9]*\) \[stage-1 3\/3\] RUN .*/\1/p" out | head -1) &&
	grep -q "^#$id CACHED$" out &&
	KILN_ROOT=$TRASH/F kiln inspect app:f | jq -c ".[0].RootFS.Layers" >layers &&
	jq -c ".rootfs.diff_ids" cfg.json >expect && test_cmp expect layers
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ,REGISTRY,SKOPEO 'without type=inline the config has no records' '
	KILN_ROOT=$A kiln build -q -t $R/app:plain --push ctx >/dev/null &&
	skopeo inspect --tls-verify=false --config --raw docker://$R/app:plain >cfg.json &&
	test "$(jq -r ".\"moby.buildkit.cache.v0\"" cfg.json)" = null
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'docker build'"'"'s --build-arg BUILDKIT_INLINE_CACHE=1 is type=inline' '
	KILN_ROOT=$A kiln build -q -o type=oci,dest=arg.tar --build-arg BUILDKIT_INLINE_CACHE=1 \
		ctx >/dev/null &&
	mkdir arg && tar -xf arg.tar -C arg &&
	m=$(jq -r ".manifests[0].digest" arg/index.json | cut -d: -f2) &&
	c=$(jq -r ".config.digest" arg/blobs/sha256/$m | cut -d: -f2) &&
	jq -e ".\"moby.buildkit.cache.v0\"" arg/blobs/sha256/$c >/dev/null &&
	KILN_ROOT=$A kiln build -q -o type=oci,dest=arg0.tar --build-arg BUILDKIT_INLINE_CACHE=0 \
		ctx >/dev/null &&
	mkdir arg0 && tar -xf arg0.tar -C arg0 &&
	m=$(jq -r ".manifests[0].digest" arg0/index.json | cut -d: -f2) &&
	c=$(jq -r ".config.digest" arg0/blobs/sha256/$m | cut -d: -f2) &&
	test "$(jq -r ".\"moby.buildkit.cache.v0\"" arg0/blobs/sha256/$c)" = null
'

test_done
