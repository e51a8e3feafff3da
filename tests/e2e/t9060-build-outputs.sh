#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln build's outputs, each read back by a tool that is not kiln: OCI
# layouts (directory and tar) by umoci and skopeo, a docker archive by podman
# (loaded and run), the root filesystem as a directory and as a tar, layer
# compression as buildx spells it, a registry through --push and
# type=registry (read back by skopeo), and OCI annotations.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"
trap registry_stop_all EXIT

registry_for_tests out

skopeo_() {
	skopeo --insecure-policy "$@"
}

# the files every output of the test image must hold
check_tree() {
	echo built >expect && test_cmp expect "$1/app/built" &&
	echo hello >expect && test_cmp expect "$1/app/hello.txt" &&
	test "$(readlink "$1/app/link")" = built &&
	test -x "$1/bin/busybox"
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a project built into the store' '
	build_base &&
	mkdir ctx && echo hello >ctx/hello.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN mkdir -p /app && echo built >/app/built && ln -s built /app/link
	COPY hello.txt /app/
	ENV GREETING=hi
	CMD ["/bin/sh", "-c", "cat /app/built /app/hello.txt; echo \$GREETING"]
	EOF
	kiln build -q -t localhost/out:1 --metadata-file meta.json ctx >id &&
	jq -r ".\"containerimage.digest\"" meta.json >digest &&
	grep -q "^sha256:" digest
'

test_expect_success ROOT,OVERLAY,BUSYBOX,UMOCI,SKOPEO,JQ 'type=oci,tar=false: a layout umoci unpacks and skopeo reads' '
	kiln build -q -t localhost/out:1 -o type=oci,dest=layout,tar=false ctx >id2 &&
	test_cmp id id2 &&
	test -f layout/oci-layout &&
	jq -r ".manifests[0].digest" layout/index.json >got && test_cmp digest got &&
	skopeo_ inspect oci:layout:1 >sk.json &&
	test "$(jq -r .Digest sk.json)" = "$(cat digest)" &&
	umoci unpack --image layout:1 bundle >/dev/null &&
	check_tree bundle/rootfs
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SKOPEO,JQ 'type=oci (a tar) and dest=-: an oci-archive skopeo reads' '
	kiln build -q -t localhost/out:1 -o type=oci,dest=out.tar ctx >/dev/null &&
	tar -tf out.tar >list &&
	test_grep "^oci-layout$" list && test_grep "^index.json$" list &&
	skopeo_ inspect oci-archive:out.tar >sk.json &&
	test "$(jq -r .Digest sk.json)" = "$(cat digest)" &&
	kiln build --progress=plain -t localhost/out:1 -o type=oci,dest=- ctx >stdout.tar 2>log &&
	test_cmp out.tar stdout.tar &&
	test_expect_code 2 kiln build -o type=oci,dest=-,tar=false ctx 2>err &&
	test_grep "cannot be -" err
'

test_expect_success PODMAN,ROOT,OVERLAY,BUSYBOX,RUNC 'type=docker: podman loads the archive and runs the image' '
	peers_setup &&
	kiln build -q -t localhost/out:1 -o type=docker,dest=docker.tar ctx >/dev/null &&
	tar -tf docker.tar >list && test_grep "^manifest.json$" list &&
	podman load -i docker.tar >out 2>&1 &&
	test_grep "localhost/out:1" out &&
	podman images --format "{{.ID}}" localhost/out:1 >pid &&
	test "$(cut -c1-12 pid)" = "$(cut -c8-19 id)" &&
	podman run --rm --network none localhost/out:1 >run.out &&
	printf "built\nhello\nhi\n" >expect &&
	test_cmp expect run.out &&
	podman rmi -a -f >/dev/null 2>&1
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'type=docker: another kiln store loads it' '
	kiln --root "$TRASH/k2" load -i docker.tar >out &&
	test_grep "^Loaded image: localhost/out:1$" out &&
	kiln --root "$TRASH/k2" inspect localhost/out:1 >insp &&
	test_grep "\"Id\": \"$(cat id)\"" insp
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'type=local and -o DIR: the root filesystem as files' '
	kiln build -q -o type=local,dest=rootfs ctx >/dev/null &&
	check_tree rootfs &&
	kiln build -q -o plain-dir ctx >/dev/null &&
	check_tree plain-dir &&
	test "$(stat -c %a rootfs/app/hello.txt)" = 644
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a full disk: no half-written directory, layout or archive' '
	mkdir small && mount -t tmpfs -o size=512k tmpfs small &&
	test_when_finished "umount small" &&
	test_expect_code 1 kiln build -q -o type=local,dest=small/rootfs ctx 2>err &&
	test_grep "No space left on device" err &&
	test_expect_code 1 kiln build -q -o type=oci,tar=false,dest=small/layout ctx 2>err &&
	test_expect_code 1 kiln build -q -o type=oci,dest=small/oci.tar ctx 2>err &&
	test_expect_code 1 kiln save --format oci -o small/saved localhost/out:1 2>err &&
	test -z "$(ls -A small)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'type=tar and -o -: the root filesystem as a tar' '
	kiln build -q -o type=tar,dest=fs.tar ctx >/dev/null &&
	mkdir fs && tar -xf fs.tar -C fs && check_tree fs &&
	kiln build --progress=plain -o - ctx >fs2.tar 2>log &&
	test_cmp fs.tar fs2.tar &&
	test_expect_code 2 kiln build -q -o - ctx >fs3.tar 2>err &&
	test_grep "prints the image id on stdout" err
'

# As BuildKit's tar exporter (fsutil's WriteTar) writes it: every extended
# attribute, times rounded to the second (the layers drop the fraction).
test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'type=tar: extended attributes, times rounded' '
	mkdir -p ctx-x &&
	printf "FROM scratch\nCOPY a b /\n" >ctx-x/Dockerfile &&
	echo a >ctx-x/a && echo b >ctx-x/b &&
	touch -d "2021-02-03 04:05:06.7 UTC" ctx-x/a &&
	touch -d "2021-02-03 04:05:06.2 UTC" ctx-x/b &&
	python3 -c "import os; os.setxattr(\"ctx-x/a\", \"user.kiln\", b\"yes\")" &&
	kiln build -q -o type=tar,dest=x.tar ctx-x >/dev/null &&
	TZ=UTC tar -tv --full-time -f x.tar >list &&
	test_grep " 2021-02-03 04:05:07 a$" list &&
	test_grep " 2021-02-03 04:05:06 b$" list &&
	tar --xattrs --xattrs-include="user.*" -xf x.tar -C "$(mkdir xo && echo xo)" a &&
	python3 -c "import os; print(os.getxattr(\"xo/a\", \"user.kiln\").decode())" >got &&
	echo yes >expect && test_cmp expect got
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'outputs at once; -t names it with type=image, --load' '
	kiln build -q -t localhost/out:2 -o type=local,dest=l2 \
		-o type=oci,dest=o2,tar=false ctx >id2 &&
	test_cmp id id2 && check_tree l2 &&
	jq -r ".manifests[0].annotations[\"io.containerd.image.name\"]" o2/index.json >name &&
	echo localhost/out:2 >expect && test_cmp expect name &&
	test_expect_code 1 kiln inspect localhost/out:2 2>err &&
	kiln build -q -t localhost/out:3 -o type=image -o type=local,dest=l3 ctx >id3 &&
	test_cmp id id3 && check_tree l3 &&
	kiln inspect localhost/out:3 >insp && test_grep "\"Id\": \"$(cat id)\"" insp &&
	kiln build -q -t localhost/out:4 --load -o type=local,dest=l4 ctx >id4 &&
	test_cmp id id4 && check_tree l4 &&
	kiln inspect localhost/out:4 >insp && test_grep "\"Id\": \"$(cat id)\"" insp
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'name= names its own output, instead of -t, as buildx'"'"'s exporters' '
	kiln build -q -t localhost/out:t -o type=docker,dest=n1.tar,name=localhost/dn:1 \
		-o type=oci,dest=n1,tar=false ctx >/dev/null &&
	tar -xOf n1.tar manifest.json | jq -c ".[0].RepoTags" >tags &&
	echo "[\"localhost/dn:1\"]" >expect && test_cmp expect tags &&
	jq -r ".manifests[0].annotations[\"io.containerd.image.name\"]" n1/index.json >name &&
	echo localhost/out:t >expect && test_cmp expect name &&
	kiln build -q -t localhost/out:u -o "type=image,name=localhost/in:1;localhost/in:2" \
		-o type=docker,dest=n2.tar ctx >/dev/null &&
	kiln inspect localhost/in:1 localhost/in:2 >/dev/null &&
	test_expect_code 1 kiln inspect localhost/out:u 2>err &&
	tar -xOf n2.tar manifest.json | jq -c ".[0].RepoTags" >tags &&
	echo "[\"localhost/out:u\"]" >expect && test_cmp expect tags &&
	test_expect_code 2 kiln build -o type=local,dest=nl,name=x ctx 2>err &&
	test_grep "name= names an image, not a local output" err &&
	test_expect_code 2 kiln build -o type=docker,dest=nb.tar,name=UPPER:1 ctx 2>err &&
	test_grep "name= \"UPPER:1\"" err && ! test -e nb.tar
'

layer_types() {
	m=$(jq -r ".manifests[0].digest" "$1/index.json" | cut -d: -f2) &&
	jq -r ".layers[].mediaType" "$1/blobs/sha256/$m"
}
top_layer() {
	m=$(jq -r ".manifests[0].digest" "$1/index.json" | cut -d: -f2) &&
	echo "$1/blobs/sha256/$(jq -r ".layers[-1].digest" "$1/blobs/sha256/$m" | cut -d: -f2)"
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ,ZSTD 'compression=zstd|uncompressed|gzip: the new layers; force-compression: all' '
	kiln build -q -o type=oci,dest=zs,tar=false,compression=zstd ctx >/dev/null &&
	layer_types zs >types &&
	printf "%s\n" application/vnd.oci.image.layer.v1.tar+gzip \
		application/vnd.oci.image.layer.v1.tar+zstd \
		application/vnd.oci.image.layer.v1.tar+zstd >expect &&
	test_cmp expect types &&
	zstd -dc "$(top_layer zs)" | tar -t >list && test_grep "app/hello.txt" list &&
	kiln build -q -o type=oci,dest=zf,tar=false,compression=zstd,force-compression=true \
		ctx >/dev/null &&
	layer_types zf | sort -u >types &&
	echo application/vnd.oci.image.layer.v1.tar+zstd >expect && test_cmp expect types &&
	kiln build -q -o type=oci,dest=un,tar=false,compression=uncompressed ctx >/dev/null &&
	layer_types un | tail -n 1 >types &&
	echo application/vnd.oci.image.layer.v1.tar >expect && test_cmp expect types &&
	tar -tf "$(top_layer un)" >list && test_grep "app/hello.txt" list &&
	kiln build -q -o type=oci,dest=gz,tar=false,compression=gzip,compression-level=9 ctx >/dev/null &&
	layer_types gz | sort -u >types &&
	echo application/vnd.oci.image.layer.v1.tar+gzip >expect && test_cmp expect types &&
	gzip -dc "$(top_layer gz)" | tar -t >list && test_grep "app/hello.txt" list &&
	test_expect_code 2 kiln build -o type=oci,dest=x,compression=lzma ctx 2>err &&
	test_grep "compression is gzip, zstd or uncompressed" err
'

test_expect_success REGISTRY,ROOT,OVERLAY,BUSYBOX,SKOPEO,JQ '--push and type=registry: skopeo reads what was pushed' '
	kiln build -q --tls-verify=false -t $R/kiln/out:1 --push --metadata-file pm.json ctx >/dev/null &&
	skopeo_ inspect --tls-verify=false docker://$R/kiln/out:1 >sk.json &&
	test "$(jq -r .Digest sk.json)" = "$(jq -r ".\"containerimage.digest\"" pm.json)" &&
	skopeo_ inspect --tls-verify=false --config --raw docker://$R/kiln/out:1 >cfg.json &&
	test "sha256:$(sha256sum <cfg.json | cut -d" " -f1)" = "$(cat id)" &&
	kiln build -q --tls-verify=false -t $R/kiln/out:2 -o type=registry ctx >/dev/null &&
	skopeo_ copy -q --src-tls-verify=false docker://$R/kiln/out:2 oci:pulled:2 &&
	umoci unpack --image pulled:2 bundle2 >/dev/null &&
	check_tree bundle2/rootfs
'

test_expect_success REGISTRY,ROOT,OVERLAY,BUSYBOX,SKOPEO,JQ,ZSTD 'oci-mediatypes=false: docker'"'"'s schema 2, unless zstd layers need OCI'"'"'s' '
	kiln build -q --tls-verify=false -t $R/kiln/dmt:1 --metadata-file dm.json \
		-o type=image,push=true,oci-mediatypes=false ctx >/dev/null &&
	skopeo_ inspect --tls-verify=false --raw docker://$R/kiln/dmt:1 >raw.json &&
	jq -r ".mediaType, .config.mediaType, .layers[].mediaType" raw.json | sort -u >types &&
	printf "%s\n" application/vnd.docker.container.image.v1+json \
		application/vnd.docker.distribution.manifest.v2+json \
		application/vnd.docker.image.rootfs.diff.tar.gzip >expect &&
	test_cmp expect types &&
	jq -r ".\"containerimage.descriptor\".mediaType" dm.json >mt &&
	echo application/vnd.docker.distribution.manifest.v2+json >expect && test_cmp expect mt &&
	KILN_ROOT=$TRASH/dmstore kiln pull -q --tls-verify=false $R/kiln/dmt:1 >/dev/null &&
	KILN_ROOT=$TRASH/dmstore kiln run --rm $R/kiln/dmt:1 cat /app/built >out &&
	echo built >expect && test_cmp expect out &&
	kiln build -q --tls-verify=false -t $R/kiln/dmt:2 --push \
		-o type=image,oci-mediatypes=false,compression=zstd ctx >/dev/null 2>err &&
	test_grep "OCI media types after all, for the image.s zstd layers" err &&
	skopeo_ inspect --tls-verify=false --raw docker://$R/kiln/dmt:2 >raw.json &&
	echo application/vnd.oci.image.manifest.v1+json >expect &&
	jq -r .mediaType raw.json >mt && test_cmp expect mt &&
	test_expect_code 2 kiln build -o type=image,oci-mediatypes=maybe ctx 2>err &&
	test_grep "oci-mediatypes wants true or false" err
'

test_expect_success REGISTRY,ROOT,OVERLAY,BUSYBOX,SKOPEO,JQ '--annotation, -o annotation.*' '
	kiln build -q --tls-verify=false -t $R/kiln/ann:1 \
		--annotation org.opencontainers.image.title=Out \
		--annotation "manifest[linux/amd64]:org.example.arch=amd64" \
		--annotation "manifest[linux/arm64]:org.example.arch=arm64" \
		--annotation "index-descriptor:org.example.entry=yes" \
		--annotation "index:org.example.index=1" \
		-o type=oci,dest=ann,tar=false,annotation-manifest.org.example.out=o \
		-o type=registry ctx >/dev/null 2>err &&
	test_grep "annotation manifest\[linux/arm64\]:org.example.arch is left out" err &&
	test_grep "annotation index:org.example.index is left out" err &&
	jq -c ".manifests[0].annotations" ann/index.json >got &&
	test_grep "\"org.example.entry\":\"yes\"" got &&
	test_grep "\"org.opencontainers.image.ref.name\":\"1\"" got &&
	skopeo_ inspect --raw oci:ann:1 | jq -c .annotations >got &&
	printf "{%s,%s,%s}\n" "\"org.example.arch\":\"amd64\"" "\"org.example.out\":\"o\"" \
		"\"org.opencontainers.image.title\":\"Out\"" >expect &&
	test_cmp expect got &&
	skopeo_ inspect --tls-verify=false --raw docker://$R/kiln/ann:1 | jq -c .annotations >got &&
	test_cmp expect got &&
	test_expect_code 2 kiln build --annotation "layer:k=v" ctx 2>err &&
	test_grep "unknown annotation type \"layer\"" err
'

test_expect_success REGISTRY,ROOT,OVERLAY,BUSYBOX 'type=registry without a name is an error' '
	test_expect_code 1 kiln build -q --tls-verify=false -o type=registry ctx 2>err &&
	test_grep "needs a name" err
'

test_done
