#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln pull / push / login / logout at the command line: references as docker
# reads them, usage errors, and failures that name the registry and URL.
. "$(dirname "$0")/test-lib.sh"

# a loopback port nothing listens on
DEAD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

test_expect_success 'pull without a reference is a usage error' '
	test_expect_code 2 kiln pull 2>err &&
	test_grep "want one REFERENCE" err
'

test_expect_success 'pull --help shows the registry flags' '
	kiln pull --help >out &&
	test_grep "^usage: kiln pull" out &&
	test_grep -- "--tls-verify" out &&
	test_grep -- "--cert-dir" out &&
	test_grep -- "--platform" out
'

test_expect_success 'a bad --tls-verify value is a usage error' '
	test_expect_code 2 kiln pull --tls-verify=maybe x 2>err &&
	test_grep "true or false" err
'

test_expect_success 'references are checked with docker'"'"'s rules and words' '
	test_expect_code 1 kiln pull "Busybox" 2>err &&
	test_grep "invalid reference format: repository name (library/Busybox) must be lowercase" err &&
	test_expect_code 1 kiln pull "foo bar" 2>err &&
	test_grep "pulling foo bar: invalid reference format$" err &&
	test_expect_code 1 kiln pull "a:-b" 2>err &&
	test_grep "invalid reference format" err &&
	test_expect_code 1 kiln pull "x@sha256:abc" 2>err &&
	test_grep "invalid reference format" err &&
	test_expect_code 1 kiln pull 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 2>err &&
	test_grep "cannot specify 64-byte hexadecimal strings" err
'

test_expect_success 'an unreachable registry is named with the URL' '
	test_expect_code 1 kiln pull 127.0.0.1:$DEAD_PORT/x/y:1 2>err &&
	test_grep "registry 127.0.0.1:$DEAD_PORT: GET http://127.0.0.1:$DEAD_PORT/v2/" err &&
	test_grep -i "connect" err
'

# 0.0.0.0 is not loopback for kiln, and connecting to it stays on this machine
test_expect_success 'a non-loopback registry is never tried over plain http' '
	test_expect_code 1 kiln --debug pull 0.0.0.0:$DEAD_PORT/x 2>err &&
	test_grep "GET https://0.0.0.0:$DEAD_PORT/v2/" err &&
	! grep "http://" err
'

test_expect_success 'a bad platform is refused before any network use' '
	test_expect_code 1 kiln pull --platform linux/amd64/v3/x 127.0.0.1:$DEAD_PORT/x 2>err &&
	test_grep "invalid platform" err
'

test_expect_success 'push of an image the store does not have' '
	test_expect_code 1 kiln push nosuchimage 127.0.0.1:$DEAD_PORT/x 2>err &&
	test_grep "nosuchimage" err
'

test_expect_success 'push usage errors' '
	test_expect_code 2 kiln push 2>err &&
	test_expect_code 2 kiln push a b c 2>err &&
	test_grep "at most one DESTINATION" err
'

test_expect_success 'login without a terminal asks for --password-stdin' '
	test_expect_code 2 kiln login -u me 127.0.0.1:$DEAD_PORT </dev/null 2>err &&
	test_grep "password-stdin" err &&
	test_expect_code 2 kiln login --password-stdin 127.0.0.1:$DEAD_PORT </dev/null 2>err &&
	test_grep "needs --username" err &&
	test_expect_code 2 kiln login -u me -p x --password-stdin h:1 </dev/null 2>err
'

test_expect_success 'login refuses a bad server name' '
	echo pw | test_expect_code 1 kiln login -u me --password-stdin "bad host" 2>err &&
	test_grep "not a registry host" err
'

test_expect_success 'logout of a server kiln has no credentials for' '
	kiln logout 127.0.0.1:$DEAD_PORT >out &&
	test_grep "Not logged in to 127.0.0.1:$DEAD_PORT" out
'

test_expect_success 'a broken credentials file is reported with its path' '
	echo "{ nope" >bad.json &&
	test_expect_code 1 kiln pull --authfile bad.json 127.0.0.1:$DEAD_PORT/x 2>err &&
	test_grep "bad.json" err
'

test_done
