#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The seed's compiled stacks: a C program (gcc, make) and a Go program
# (golang-go) built in a Debian toolchain stage, only their static binaries
# copied to a busybox runtime and to a scratch one; each image run with
# kiln run and with podman run, and the runtimes checked to hold no
# compiler.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/test-images.sh"

P=ROOT,OVERLAY,BUSYBOX,JQ,IMAGE_TOOLCHAIN
test_images toolchain

test_expect_success $P 'setup: busybox, the project' '
	test_busybox &&
	cp -R "$KILN_SOURCE_ROOT/tests/e2e/fixtures/seed/c-go" app
'

test_expect_success $P 'build the busybox runtime: toolchain stages run, binaries copied' '
	kiln build --progress plain --target busybox -t localhost/seed-c-go:busybox app 2>progress &&
	test_grep "hello from C, test (4)" progress &&
	test_grep "hello from Go (go1\.[0-9]*), test" progress
'

test_expect_success $P 'build the scratch runtime: both toolchain stages are cache hits' '
	kiln build --progress plain --target scratch -t localhost/seed-c-go:scratch app 2>progress &&
	test_grep "RUN go build.*" progress &&
	grep -A1 "RUN go build" progress | test_grep CACHED &&
	grep -A1 "RUN make" progress | test_grep CACHED
'

test_expect_success $P 'kiln run: the busybox runtime' '
	kiln run --rm localhost/seed-c-go:busybox >out &&
	cat >expect <<-\EOT &&
	hello from C, multi-stage (11)
	hello from Go (go1.), multi-stage
	EOT
	sed -e "s/(go1\.[0-9]*)/(go1.)/" out >got && test_cmp expect got
'

test_expect_success $P 'kiln run: the scratch runtime (ENTRYPOINT, arguments)' '
	kiln run --rm localhost/seed-c-go:scratch from scratch >out &&
	test_grep "^hello from Go (go1\.[0-9]*), from scratch$" out &&
	kiln run --rm --entrypoint /hello-c localhost/seed-c-go:scratch >out &&
	echo "hello from C, multi-stage (11)" >expect && test_cmp expect out
'

test_expect_success $P 'the runtimes hold the binaries and no compiler' '
	rootfs_dir() {
		rm -rf "$2" && kiln build -q -o "type=local,dest=$2" - >/dev/null <<-EOF
		FROM $1
		EOF
	} &&
	rootfs_dir localhost/seed-c-go:scratch scratch &&
	(cd scratch && find . -mindepth 1 | sort) >got &&
	printf "./hello-c\n./hello-go\n" >expect && test_cmp expect got &&
	kiln run --rm localhost/seed-c-go:busybox sh -c "command -v gcc cc go make; ls /usr/lib/go* /usr/lib/gcc 2>/dev/null; :" >out &&
	test ! -s out &&
	test "$(kiln inspect localhost/seed-c-go:busybox | jq ".[0].RootFS.Layers | length")" = 3
'

test_expect_success $P,PODMAN,RUNC 'podman run: both runtimes' '
	peers_setup &&
	kiln save -o c-go.tar localhost/seed-c-go:busybox localhost/seed-c-go:scratch &&
	podman load -q -i c-go.tar >/dev/null &&
	podman run --rm --network none localhost/seed-c-go:busybox >out &&
	printf "hello from C, multi-stage (11)\nhello from Go (go1.), multi-stage\n" >expect &&
	sed -e "s/(go1\.[0-9]*)/(go1.)/" out >got && test_cmp expect got &&
	podman run --rm --network none localhost/seed-c-go:scratch via podman >out &&
	test_grep "^hello from Go (go1\.[0-9]*), via podman$" out &&
	podman run --rm --network none --entrypoint /hello-c localhost/seed-c-go:scratch podman >out &&
	echo "hello from C, podman (6)" >expect && test_cmp expect out
'

test_expect_success $P,PODMAN 'cleanup' '
	peers_cleanup
'
test_done
