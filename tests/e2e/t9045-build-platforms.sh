#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln build --platform a,b: the cross-compiling Dockerfile (a build stage
# FROM --platform=$BUILDPLATFORM, its output copied into a stage per target)
# built for several platforms into one OCI image index: an OCI archive read
# by skopeo and umoci, a push read back by skopeo, kiln pull and podman, the
# local and tar outputs a directory per platform, annotations on the index
# and its entries, one cache for every platform, and what is refused.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"
trap registry_stop_all EXIT

registry_for_tests out

skopeo_() {
	skopeo --insecure-policy "$@"
}

P=ROOT,OVERLAY,BUSYBOX,JQ

test_expect_success $P 'setup: a cross-compiling Dockerfile' '
	build_base && mkdir ctx &&
	cat >ctx/Dockerfile <<-EOF
	FROM --platform=\$BUILDPLATFORM $BB AS build
	RUN echo toolchain >/tool
	ARG TARGETARCH TARGETVARIANT
	RUN echo "\$TARGETARCH\$TARGETVARIANT" >/arch
	FROM scratch
	COPY --from=build /arch /arch
	EOF
'

test_expect_success $P,SKOPEO,UMOCI 'an OCI archive of the index: each platform its image' '
	kiln build --progress=plain -t localhost/multi:1 --load --metadata-file m.json \
		--platform linux/amd64,linux/arm64 --platform linux/arm/v7 \
		-o type=oci,dest=multi.tar ctx 2>log &&
	tar -xOf multi.tar index.json >index.json &&
	test "$(jq -r ".manifests[0].mediaType" index.json)" = \
		application/vnd.oci.image.index.v1+json &&
	test "$(jq -r ".manifests[0].annotations[\"io.containerd.image.name\"]" index.json)" = \
		localhost/multi:1 &&
	skopeo_ inspect --raw oci-archive:multi.tar >idx.json &&
	jq -r ".manifests[] | [.platform.os, .platform.architecture, .platform.variant // \"\"] |
		join(\"/\")" idx.json >got &&
	printf "linux/amd64/\nlinux/arm64/\nlinux/arm/v7\n" >expect && test_cmp expect got &&
	digest=$(jq -r ".manifests[0].digest" index.json) &&
	test "$(jq -r ".\"containerimage.digest\"" m.json)" = "$digest" &&
	test "$(jq -r ".\"containerimage.descriptor\".mediaType" m.json)" = \
		application/vnd.oci.image.index.v1+json &&
	test "$(jq -r ".\"containerimage.config.digest\"" m.json)" = null &&
	skopeo_ copy -q --override-arch arm --override-variant v7 oci-archive:multi.tar \
		oci:one:arm &&
	umoci unpack --image one:arm bundle >/dev/null &&
	echo armv7 >expect && test_cmp expect bundle/rootfs/arch
'

# other machines' platforms build first (a RUN they cannot run fails before
# any other work), in the order given: arm64's build runs the toolchain step
test_expect_success $P 'the build stage runs once; progress names each platform' '
	sed -n "s/^#[0-9]* \[\([^ ]*\) build 2\/3\] RUN echo toolchain.*/\1/p" log >order &&
	printf "linux/arm64\nlinux/arm/v7\nlinux/amd64\n" >expect && test_cmp expect order &&
	for p in linux/arm/v7 linux/amd64; do
		id=$(sed -n "s|^#\([0-9]*\) \[$p build 2/3\] RUN echo toolchain.*|\1|p" log) &&
		test -n "$id" && test_grep "^#$id CACHED$" log || return 1
	done &&
	id=$(sed -n "s|^#\([0-9]*\) \[linux/arm64 build 2/3\] RUN echo toolchain.*|\1|p" log) &&
	test -n "$id" && ! grep "^#$id CACHED$" log &&
	test_grep "^#[0-9]* \[linux/arm/v7 stage-1 1/1\] COPY --from=build" log &&
	test_grep "exporting manifest list sha256:" log
'

test_expect_success $P '-t names the image for this machine'"'"'s platform' '
	test "$(cfg localhost/multi:1 .Architecture)" = "\"amd64\"" &&
	test_grep "naming to .*localhost/multi:1 (its linux/amd64 image)" log &&
	kiln build -q -t localhost/none:1 --platform linux/arm64,linux/arm/v7 ctx \
		>/dev/null 2>err &&
	test_grep "localhost/none:1 is not named in the store" err &&
	test_must_fail kiln inspect localhost/none:1 2>/dev/null
'

test_expect_success $P 'local and tar outputs: a directory per platform' '
	kiln build -q --platform linux/amd64,linux/arm64 -o type=local,dest=out \
		-o type=tar,dest=all.tar ctx >/dev/null &&
	echo amd64 >expect && test_cmp expect out/linux_amd64/arch &&
	echo arm64 >expect && test_cmp expect out/linux_arm64/arch &&
	tar -tf all.tar >list &&
	printf "linux_amd64/\nlinux_amd64/arch\nlinux_arm64/\nlinux_arm64/arch\n" >expect &&
	test_cmp expect list &&
	! ls all.tar.tmp-* 2>/dev/null
'

test_expect_success $P 'platforms normalized as BuildKit'"'"'s: arm64/v8 is arm64, arm is arm/v7' '
	kiln build -q --platform "linux/arm64, linux/arm64/v8 ,linux/arm" -o type=local,dest=norm \
		--metadata-file norm.json ctx >/dev/null &&
	ls norm >got && printf "linux_arm64\nlinux_arm_v7\n" >expect && test_cmp expect got &&
	echo armv7 >expect && test_cmp expect norm/linux_arm_v7/arch &&
	jq -r ".\"kiln.steps\"[].name" norm.json >steps &&
	test_grep "^\[linux/arm/v7 stage-1 1/1\] COPY" steps &&
	test_grep "^\[linux/arm64 stage-1 1/1\] COPY" steps &&
	test_expect_code 2 kiln build -q --platform linux/amd64,,linux/arm64 ctx 2>err &&
	test_grep "an empty platform" err &&
	test_expect_code 2 kiln build -q --platform linux/amd64,nowhere ctx 2>err &&
	test_grep "^error: --platform: .*nowhere" err
'

test_expect_success $P 'a failed platform: no output written, not even the platforms before it' '
	mkdir failctx && echo a >failctx/arm64.txt &&
	printf "FROM scratch\nARG TARGETARCH\nCOPY \$TARGETARCH.txt /\n" >failctx/Dockerfile &&
	test_expect_code 1 kiln build --progress=plain --platform linux/amd64,linux/arm64 \
		-o type=local,dest=fail -o type=tar,dest=fail.tar failctx 2>err &&
	test_grep "^#[0-9]* \[linux/arm64 1/1\] COPY \$TARGETARCH.txt /" err &&
	test_grep "Dockerfile:3: .*amd64.txt" err &&
	! test -e fail && ! test -e fail.tar && ! ls fail.tar.tmp-* 2>/dev/null
'

test_expect_success $P,SKOPEO 'annotations: on the index, on an entry, on the layout'"'"'s' '
	kiln build -q --platform linux/amd64,linux/arm64 \
		--annotation "index:org.opencontainers.image.title=multi" \
		--annotation "manifest-descriptor[linux/arm64]:org.example.arch=arm64" \
		--annotation "index-descriptor:org.example.entry=yes" \
		--annotation "manifest:org.example.all=1" \
		-o type=oci,dest=ann,tar=false ctx >/dev/null &&
	test "$(jq -r ".manifests[0].annotations[\"org.example.entry\"]" ann/index.json)" = yes &&
	skopeo_ inspect --raw oci:ann >idx.json &&
	test "$(jq -r ".annotations[\"org.opencontainers.image.title\"]" idx.json)" = multi &&
	jq -c "[.manifests[].annotations]" idx.json >got &&
	echo "[null,{\"org.example.arch\":\"arm64\"}]" >expect && test_cmp expect got &&
	for d in $(jq -r ".manifests[].digest" idx.json | cut -d: -f2); do
		jq -r ".annotations[\"org.example.all\"]" ann/blobs/sha256/$d || return 1
	done >got &&
	printf "1\n1\n" >expect && test_cmp expect got
'

test_expect_success $P,REGISTRY,SKOPEO '--push: the index and its images in the registry' '
	kiln build -q --tls-verify=false --platform linux/amd64,linux/arm64 \
		-t $R/kiln/multi:1 --push --metadata-file pm.json ctx >/dev/null &&
	skopeo_ inspect --tls-verify=false --raw docker://$R/kiln/multi:1 >reg.json &&
	test "sha256:$(sha256sum <reg.json | cut -d" " -f1)" = \
		"$(jq -r ".\"containerimage.digest\"" pm.json)" &&
	test "$(jq -r .mediaType reg.json)" = application/vnd.oci.image.index.v1+json &&
	skopeo_ inspect --tls-verify=false --override-arch arm64 --config \
		docker://$R/kiln/multi:1 >arm.json &&
	test "$(jq -r .architecture arm.json)" = arm64 &&
	KILN_ROOT=$TRASH/pulled kiln pull -q --tls-verify=false --platform linux/arm64 \
		$R/kiln/multi:1 >/dev/null &&
	KILN_ROOT=$TRASH/pulled kiln inspect $R/kiln/multi:1 | jq -r ".[0].Architecture" >got &&
	echo arm64 >expect && test_cmp expect got
'

test_expect_success $P,REGISTRY,PODMAN,RUNC 'podman pulls its platform'"'"'s image from the index' '
	peers_setup &&
	podman pull -q --tls-verify=false $R/kiln/multi:1 >/dev/null &&
	podman image inspect --format "{{.Architecture}}" $R/kiln/multi:1 >got &&
	echo amd64 >expect && test_cmp expect got &&
	podman rmi -f $R/kiln/multi:1 >/dev/null
'

test_expect_success $P '--cache-to: one cache; a fresh store builds every platform from it' '
	kiln save -o base.tar $BB &&
	KILN_ROOT=$TRASH/first kiln load -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/first kiln build -q --platform linux/amd64,linux/arm64 \
		--cache-to type=local,dest=cache,mode=max -o type=local,dest=c1 ctx >/dev/null &&
	KILN_ROOT=$TRASH/fresh kiln load -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/fresh kiln build --progress=plain --platform linux/amd64,linux/arm64 \
		--cache-from type=local,src=cache -o type=local,dest=c2 ctx 2>fresh.log &&
	for p in linux/amd64 linux/arm64; do
		for step in "build 3/3\] RUN echo" "stage-1 1/1\] COPY"; do
			id=$(sed -n "s|^#\([0-9]*\) \[$p $step.*|\1|p" fresh.log) &&
			test -n "$id" && grep -q "^#$id CACHED$" fresh.log || return 1
		done
	done &&
	echo arm64 >expect && test_cmp expect c2/linux_arm64/arch
'

test_expect_success $P 'refused: a docker archive; a RUN for another platform' '
	test_expect_code 2 kiln build --platform linux/amd64,linux/arm64 \
		-o type=docker,dest=d.tar ctx 2>err &&
	test_grep "type=docker holds one platform" err && ! test -e d.tar &&
	rootfs_of $BB bbroot && tar -C bbroot -cf bb.tar . &&
	kiln import --platform linux/arm64 bb.tar localhost/bb:arm64 >/dev/null &&
	kiln tag $BB localhost/bb:amd64 &&
	mkdir run && printf "ARG TARGETARCH\nFROM localhost/bb:\$TARGETARCH\nRUN true\n" \
		>run/Dockerfile &&
	test_expect_code 1 kiln build --progress=plain -t localhost/run:1 \
		--platform linux/amd64,linux/arm64 \
		-o type=oci,dest=run.tar run 2>err &&
	test_grep "Dockerfile:3: RUN would have to execute for linux/arm64" err &&
	! grep "RUN true" err &&
	! test -e run.tar && test_must_fail kiln inspect localhost/run:1 2>/dev/null
'

test_expect_success $P 'a docker archive: one platform, however it is spelled' '
	mkdir single && printf "FROM localhost/bb:arm64\nCOPY f /f\n" >single/Dockerfile &&
	echo x >single/f &&
	kiln build -q --platform linux/arm64,linux/arm64/v8 -o type=docker,dest=one.tar single \
		>/dev/null &&
	tar -xOf one.tar manifest.json >m.json &&
	cfg=$(jq -r ".[0].Config" m.json) && test "$cfg" != null &&
	tar -xOf one.tar "$cfg" | jq -r .architecture >arch &&
	echo arm64 >expect && test_cmp expect arch
'

test_expect_success $P 'BUILDKIT_MULTI_PLATFORM=1: an index for one platform' '
	kiln build -q --platform linux/arm64 --build-arg BUILDKIT_MULTI_PLATFORM=1 \
		-o type=oci,dest=mp.tar single \
		>/dev/null &&
	mkdir mp && tar -xf mp.tar -C mp &&
	d=$(jq -r ".manifests[0].digest" mp/index.json | cut -d: -f2) &&
	jq -r ".mediaType" mp/blobs/sha256/$d >mt &&
	echo application/vnd.oci.image.index.v1+json >expect && test_cmp expect mt &&
	jq -r ".manifests[0].platform.architecture" mp/blobs/sha256/$d >arch &&
	echo arm64 >expect && test_cmp expect arch &&
	kiln build -q --platform linux/arm64 --build-arg BUILDKIT_MULTI_PLATFORM=1 \
		-o type=local,dest=mpl single \
		>/dev/null &&
	test -f mpl/linux_arm64/f &&
	test_expect_code 1 kiln build -q --platform linux/arm64 \
		--build-arg BUILDKIT_MULTI_PLATFORM=1 -o type=docker,dest=mp-d.tar single 2>err &&
	test_grep "not an image index" err
'

test_done
