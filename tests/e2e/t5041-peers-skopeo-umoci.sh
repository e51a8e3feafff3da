#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Interop with skopeo and umoci through OCI layouts and archives: what kiln
# writes they read, and what skopeo writes (compressed, uncompressed and
# zstd layers, docker-archive) kiln loads.
. "$(dirname "$0")/test-lib.sh"

HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh

# skopeo without any registry configuration or policy of the host
skopeo_() {
	skopeo --insecure-policy "$@"
}

test_expect_success SKOPEO,BUSYBOX 'setup: a kiln image in an OCI layout' '
	"$HELPER" rootfs &&
	echo "layout test" >rootfs/etc/motd &&
	kiln import rootfs docker.io/library/bb:1 >id &&
	kiln save --format oci -o layout bb:1
'

test_expect_success SKOPEO,BUSYBOX 'skopeo inspects the layout kiln wrote' '
	skopeo_ inspect oci:layout:1 >out &&
	kiln inspect bb:1 | grep "\"Digest\"" | grep -o "sha256:[0-9a-f]*" >want &&
	test_grep "\"Digest\": \"$(cat want)\"" out &&
	skopeo_ inspect --config oci:layout:1 >cfg &&
	test_grep "\"architecture\"" cfg
'

test_expect_success SKOPEO,BUSYBOX 'skopeo copies from a kiln layout to a layout and a docker-archive' '
	skopeo_ copy -q oci:layout:1 oci:copy:docker.io/library/copied:2 &&
	kiln --root "$TRASH/k2" load -i copy >out &&
	test_grep "^Loaded image: copied:2$" out &&
	skopeo_ copy -q oci:layout:1 docker-archive:da.tar:docker.io/library/via-skopeo:3 &&
	kiln --root "$TRASH/k2" load -i da.tar >out &&
	test_grep "^Loaded image: via-skopeo:3$" out &&
	kiln --root "$TRASH/k2" inspect via-skopeo:3 >insp &&
	test_grep "\"Id\": \"$(cat id)\"" insp
'

# An OCI layout whose layer is an uncompressed tar (skopeo always compresses).
make_plain_layout() {
	rm -rf plain && cp -r layout plain &&
	m=$(jq -r ".manifests[0].digest" plain/index.json | cut -d: -f2) &&
	l=$(jq -r ".layers[0].digest" "plain/blobs/sha256/$m" | cut -d: -f2) &&
	gzip -dc "plain/blobs/sha256/$l" >layer.tar &&
	ld=$(sha256sum layer.tar | cut -c1-64) && ls=$(wc -c <layer.tar) &&
	mv layer.tar "plain/blobs/sha256/$ld" &&
	jq -c ".layers[0].mediaType = \"application/vnd.oci.image.layer.v1.tar\" |
		.layers[0].digest = \"sha256:$ld\" | .layers[0].size = $ls" \
		"plain/blobs/sha256/$m" >manifest.json &&
	md=$(sha256sum manifest.json | cut -c1-64) && ms=$(wc -c <manifest.json) &&
	mv manifest.json "plain/blobs/sha256/$md" &&
	jq -c ".manifests[0].digest = \"sha256:$md\" | .manifests[0].size = $ms |
		.manifests[0].annotations[\"io.containerd.image.name\"] = \"docker.io/library/plain:1\"" \
		layout/index.json >plain/index.json
}

test_expect_success SKOPEO,JQ,BUSYBOX 'layouts with uncompressed and zstd layers load' '
	make_plain_layout &&
	skopeo_ copy -q --dest-compress-format zstd oci:layout:1 oci:zst:docker.io/library/zst:1 &&
	kiln --root "$TRASH/k3" load -i plain >out && test_grep "Loaded image: plain:1" out &&
	kiln --root "$TRASH/k3" load -i zst >out && test_grep "Loaded image: zst:1" out &&
	kiln --root "$TRASH/k3" inspect plain:1 >p &&
	test_grep "\"application/vnd.oci.image.layer.v1.tar\"" p &&
	kiln --root "$TRASH/k3" inspect zst:1 >z &&
	test_grep "application/vnd.oci.image.layer.v1.tar+zstd" z &&
	kiln --root "$TRASH/k3" fsck >out && test_grep "no problems found" out
'

test_expect_success SKOPEO,BUSYBOX 'a layout tagged with a bare tag loads without a name' '
	skopeo_ copy -q oci:layout:1 oci:bare:justatag &&
	kiln --root "$TRASH/k4" load -i bare >out &&
	test_grep "^Loaded image ID: sha256:" out
'

test_expect_success SKOPEO,BUSYBOX 'a kiln oci-archive is read by skopeo' '
	kiln save --format oci-archive -o bb-oci.tar bb:1 &&
	skopeo_ inspect oci-archive:bb-oci.tar:1 >out &&
	test_grep "\"Digest\": \"$(cat want)\"" out
'

test_expect_success UMOCI,BUSYBOX 'umoci unpacks a kiln layout' '
	umoci unpack --image layout:1 bundle >/dev/null &&
	test -f bundle/config.json &&
	echo "layout test" >expect &&
	test_cmp expect bundle/rootfs/etc/motd &&
	test -x bundle/rootfs/bin/busybox &&
	test -h bundle/rootfs/bin/sh
'

test_expect_success UMOCI,BUSYBOX 'umoci unpacks a docker-archive image kiln rewrote for a layout' '
	kiln save -o d.tar bb:1 &&
	kiln --root "$TRASH/k5" load -i d.tar >/dev/null &&
	kiln --root "$TRASH/k5" save --format oci -o layout2 bb:1 &&
	grep -q "application/vnd.oci.image.manifest.v1+json" layout2/index.json &&
	umoci unpack --image layout2:1 bundle2 >/dev/null &&
	test_cmp expect bundle2/rootfs/etc/motd
'

test_done
