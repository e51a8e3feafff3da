#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The seed's Python stack: a local dependency built into a wheel and
# installed into a virtual environment in a toolchain stage (no package
# index), the environment copied to a slim python3 runtime. Run with kiln
# run and podman run; the runtime holds no pip, no compiler.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/test-images.sh"

P=ROOT,OVERLAY,IMAGE_TOOLCHAIN,IMAGE_PYTHON
test_images toolchain python
IMG=localhost/seed-python:1

test_expect_success $P 'setup: the project' '
	cp -R "$KILN_SOURCE_ROOT/tests/e2e/fixtures/seed/python" app
'

test_expect_success $P 'build: a wheel, a venv with the requirements, copied to the runtime' '
	kiln build --progress plain -t $IMG app 2>progress &&
	test_grep "Successfully installed greetlib-1.0.0" progress
'

test_expect_success $P 'kiln run: the app imports its dependency from the venv' '
	kiln run --rm $IMG >out &&
	cat >expect <<-\EOT &&
	hello, world, from python 3.11
	from /opt/venv/lib/python3.11
	EOT
	test_cmp expect out &&
	kiln run --rm $IMG python app.py kiln >out &&
	test_grep "^hello, kiln, from python" out
'

test_expect_success $P 'the runtime: the venv and app.py; no compiler, no system pip, no wheels' '
	kiln run --rm $IMG sh -c "command -v gcc cc go npm pip3 make; ls /wheels /build 2>/dev/null; :" >out &&
	test ! -s out &&
	kiln run --rm $IMG sh -c "ls /app; /usr/bin/python3 -c \"import greetlib\" 2>&1 | tail -n 1" >out &&
	printf "app.py\nModuleNotFoundError: No module named '"'"'greetlib'"'"'\n" >expect &&
	test_cmp expect out
'

test_expect_success $P,PODMAN,RUNC 'podman run: the app' '
	peers_setup &&
	kiln save -o python.tar $IMG &&
	podman load -q -i python.tar >/dev/null &&
	podman run --rm --network none $IMG >out &&
	printf "hello, world, from python 3.11\nfrom /opt/venv/lib/python3.11\n" >expect &&
	test_cmp expect out
'

test_expect_success $P,PODMAN 'cleanup' '
	peers_cleanup
'
test_done
