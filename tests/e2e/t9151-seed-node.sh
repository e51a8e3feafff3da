#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The seed's Node.js stack: npm installs the dependencies (a vendored
# tarball: no registry) and builds the app in a toolchain stage; the
# runtime is Debian's nodejs on a slim base with dist/ and node_modules
# only. Run with kiln run and podman run (the app serves one request to
# itself on loopback); the runtime holds no npm and no compiler.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/test-images.sh"

P=ROOT,OVERLAY,IMAGE_TOOLCHAIN,IMAGE_NODE
test_images toolchain node
IMG=localhost/seed-node:1

test_expect_success $P 'setup: the project and its vendored dependency' '
	cp -R "$KILN_SOURCE_ROOT/tests/e2e/fixtures/seed/node" app &&
	mkdir app/vendor &&
	tar -C app/greeting --owner=0 --group=0 -czf app/vendor/greeting-1.0.0.tgz package
'

test_expect_success $P 'build: npm install and npm run build in the builder stage' '
	kiln build --progress plain -t $IMG app 2>progress &&
	test_grep "built 2 files" progress
'

test_expect_success $P 'kiln run: the service answers' '
	kiln run --rm $IMG >out &&
	test_grep "^hello, world, from node [0-9]* (built)$" out &&
	kiln run --rm $IMG node dist/server.js --self-test /kiln >out &&
	test_grep "^hello, kiln, from node" out
'

test_expect_success $P 'the runtime: dist and node_modules, no npm, no compiler, runs as nobody' '
	kiln run --rm $IMG sh -c "command -v npm gcc cc go make; ls /usr/share/nodejs/npm 2>/dev/null; :" >out &&
	test ! -s out &&
	kiln run --rm $IMG sh -c "ls /srv /srv/dist; id -un" >out &&
	test_grep "^node_modules$" out && test_grep "^server.js$" out && test_grep "^nobody$" out &&
	! grep -q "^src$" out && ! grep -q "^build.js$" out &&
	kiln inspect $IMG | jq -r ".[0].Config.ExposedPorts | keys[]" >ports &&
	echo 3000/tcp >expect && test_cmp expect ports
'

test_expect_success $P 'a source change rebuilds from the COPY of src/; npm install is a cache hit' '
	sed -i -e "s/(built)/(rebuilt)/" app/src/server.js &&
	kiln build --progress plain -t $IMG app 2>progress &&
	grep -A1 "RUN npm install" progress | test_grep CACHED &&
	! grep -A1 "RUN npm run build" progress | grep -q CACHED &&
	kiln run --rm $IMG >out && test_grep "(rebuilt)" out
'

test_expect_success $P,PODMAN,RUNC 'podman run: the service answers' '
	peers_setup &&
	kiln save -o node.tar $IMG &&
	podman load -q -i node.tar >/dev/null &&
	podman run --rm --network none $IMG >out &&
	test_grep "^hello, world, from node [0-9]* (rebuilt)$" out &&
	podman run --rm --network none $IMG sh -c "command -v npm; id -un" >out &&
	echo nobody >expect && test_cmp expect out
'

test_expect_success $P,PODMAN 'cleanup' '
	peers_cleanup
'
test_done
