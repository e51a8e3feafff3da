#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Interop with podman: an image kiln imported and saved is loaded and run by
# podman; images podman saves (docker-archive and oci-archive) load into
# kiln. podman runs with its own storage and config under the scratch dir:
# runc as runtime, cgroupfs, and ulimits this machine allows.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"

HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh

test_expect_success PODMAN,ROOT,BUSYBOX,RUNC 'setup: podman with private storage' '
	peers_setup &&
	podman info --format "{{.Store.GraphRoot}}" >out &&
	test_grep "$TRASH/peers/graph" out
'

test_expect_success PODMAN,ROOT,BUSYBOX,RUNC 'kiln import -> kiln save -> podman load -> podman run' '
	"$HELPER" rootfs &&
	echo "made by kiln" >rootfs/etc/motd &&
	kiln import rootfs localhost/kiln-bb:1 >id &&
	kiln save -o bb.tar localhost/kiln-bb:1 &&
	podman load -i bb.tar >out 2>&1 &&
	test_grep "localhost/kiln-bb:1" out &&
	podman images --format "{{.ID}}" localhost/kiln-bb:1 >pid &&
	test "$(cut -c1-12 pid)" = "$(cut -c8-19 id)" &&
	podman run --rm --network none localhost/kiln-bb:1 /bin/cat /etc/motd >run.out &&
	echo "made by kiln" >expect &&
	test_cmp expect run.out &&
	podman run --rm --network none localhost/kiln-bb:1 /bin/sh -c "echo \$((6 * 7))" >run.out &&
	echo 42 >expect && test_cmp expect run.out
'

test_expect_success PODMAN,ROOT,BUSYBOX,RUNC 'podman save docker-archive -> kiln load -> kiln inspect' '
	podman tag localhost/kiln-bb:1 docker.io/library/from-podman:v1 &&
	podman save -o pd.tar docker.io/library/from-podman:v1 2>/dev/null &&
	kiln --root "$TRASH/k2" load -i pd.tar >out &&
	test_grep "^Loaded image: from-podman:v1$" out &&
	kiln --root "$TRASH/k2" inspect from-podman:v1 >insp &&
	test_grep "\"from-podman:v1\"" insp &&
	test_grep "\"Architecture\": \"$(podman image inspect --format "{{.Architecture}}" docker.io/library/from-podman:v1)\"" insp &&
	kiln --root "$TRASH/k2" fsck >out && test_grep "no problems found" out
'

test_expect_success PODMAN,ROOT,BUSYBOX,RUNC 'podman save oci-archive -> kiln load -> kiln inspect' '
	podman save --format oci-archive -o po.tar docker.io/library/from-podman:v1 2>/dev/null &&
	kiln --root "$TRASH/k3" load -i po.tar >out &&
	test_grep "^Loaded image: from-podman:v1$" out &&
	kiln --root "$TRASH/k3" inspect from-podman:v1 >insp &&
	test_grep "application/vnd.oci.image.manifest.v1+json" insp &&
	tar -xOf po.tar index.json | grep -o "sha256:[0-9a-f]*" | head -1 >want &&
	test_grep "\"Digest\": \"$(cat want)\"" insp
'

test_expect_success PODMAN,ROOT,BUSYBOX,RUNC 'kiln oci-archive -> podman load -> podman run' '
	kiln save --format oci-archive -o bb-oci.tar localhost/kiln-bb:1 &&
	podman rmi -f localhost/kiln-bb:1 >/dev/null 2>&1 &&
	podman load -i bb-oci.tar >out 2>&1 &&
	podman images -q >ids && test -s ids &&
	podman run --rm --network none "$(head -1 ids)" /bin/cat /etc/motd >run.out &&
	echo "made by kiln" >expect && test_cmp expect run.out
'

test_expect_success PODMAN,ROOT 'cleanup podman state' '
	podman rmi -a -f >/dev/null 2>&1 || :
'

test_done
