#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Bearer token flow and a registry that misbehaves, against
# tests/helper/fake-registry.py: anonymous and authenticated tokens, scopes
# per repository and action, both token fields, refresh tokens, credential
# helpers; retries on 500/429/broken transfers; clear errors and a clean
# store for garbage (bad JSON, wrong digest, truncated blobs, oversized
# manifests, a lying digest header, 401 loops, broken token servers).
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

if test_have_prereq PYTHON3,CURL; then
	fake_registry_start tok --auth bearer --user alice:secret --anonymous-pull ||
		echo "# the fake registry did not start"
	fake_registry_start acc --auth bearer --user bob:pw --token-field access_token \
		--refresh-token refresh-123 ||
		echo "# the fake registry did not start"
	R=127.0.0.1:$(registry_port tok)
	A=127.0.0.1:$(registry_port acc)
else
	R=127.0.0.1:1 A=127.0.0.1:1
fi
export R A

# The store was left clean: no name, no temp file, fsck happy.
store_clean() {
	test -z "$(kiln images -q)" &&
	{ ! test -d "$KILN_ROOT/tmp" || test -z "$(ls -A "$KILN_ROOT/tmp")"; } &&
	kiln fsck >fsck &&
	grep -q "no problems found" fsck
}

test_expect_success PYTHON3,CURL 'setup: an image with a 2 MB layer' '
	make_rootfs a "image A" &&
	random_file a/noise 2048 &&
	KILN_ROOT=$TRASH/src kiln import a local/a:1 >id.a
'

test_expect_success PYTHON3,CURL 'push without credentials: anonymous tokens do not grant push' '
	KILN_ROOT=$TRASH/src test_expect_code 1 kiln push local/a:1 $R/t/a:1 2>err &&
	test_grep "kiln login" err
'

test_expect_success PYTHON3,CURL 'login, then push with a token scoped to pull,push' '
	echo secret | kiln login -u alice --password-stdin $R >out &&
	test_grep "Login Succeeded" out &&
	KILN_ROOT=$TRASH/src kiln push local/a:1 $R/t/a:1 &&
	grep "GET /token?service=fake-registry&scope=repository%3At%2Fa%3Apull%2Cpush 200" \
		"$TRASH/reg-tok/requests"
'

test_expect_success PYTHON3,CURL 'a mount asks one token for both repositories' '
	KILN_ROOT=$TRASH/src kiln push local/a:1 $R/t/b:1 2>err &&
	test_grep "2 mounted" err &&
	grep "scope=repository%3At%2Fb%3Apull%2Cpush&scope=repository%3At%2Fa%3Apull 200" \
		"$TRASH/reg-tok/requests"
'

test_expect_success PYTHON3,CURL 'anonymous pull with an anonymous token' '
	HOME=$TRASH/nobody kiln pull $R/t/a:1 >out &&
	test "$(kiln inspect $R/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)" &&
	kiln rmi $R/t/a:1 >/dev/null
'

test_expect_success PYTHON3,CURL 'a wrong password is refused by the token server' '
	echo nope | test_expect_code 1 kiln login -u alice --password-stdin $R 2>err &&
	test_grep "token server refused the credentials of alice" err
'

test_expect_success PYTHON3,CURL 'access_token answers and refresh tokens (identitytoken)' '
	KILN_ROOT=$TRASH/src kiln push --creds bob:pw local/a:1 $A/t/a:1 &&
	grep "GET /token?.* 200" "$TRASH/reg-acc/requests" &&
	mkdir -p id && echo "{\"auths\":{\"$A\":{\"identitytoken\":\"refresh-123\"}}}" >id/config.json &&
	kiln pull --authfile id/config.json $A/t/a:1 &&
	grep "POST /token 200" "$TRASH/reg-acc/requests" &&
	echo "{\"auths\":{\"$A\":{\"identitytoken\":\"stale\"}}}" >id/config.json &&
	test_expect_code 1 kiln pull --authfile id/config.json $A/t/a:1 2>err &&
	test_grep "refused the credentials" err &&
	kiln rmi $A/t/a:1 >/dev/null
'

test_expect_success PYTHON3,CURL 'credentials from a docker-credential helper' '
	mkdir -p bin &&
	cat >bin/docker-credential-kilntest <<-EOF &&
	#!/bin/sh
	read -r server
	[ "\$1" = get ] && [ "\$server" = "$A" ] || exit 1
	echo "{\"Username\":\"bob\",\"Secret\":\"pw\"}"
	EOF
	chmod +x bin/docker-credential-kilntest &&
	echo "{\"credHelpers\":{\"$A\":\"kilntest\"}}" >helper.json &&
	PATH=$TRASH/bin:$PATH KILN_ROOT=$TRASH/src kiln push --authfile helper.json local/a:1 $A/t/h:1
'

# ---- a registry that misbehaves --------------------------------------------

test_expect_success PYTHON3,CURL 'two 500s, then success' '
	fake_fault tok 500 2 &&
	kiln pull $R/t/a:1 2>err &&
	test "$(grep -c "^retrying manifest: 500 Internal Server Error" err)" = 2 &&
	kiln rmi $R/t/a:1 >/dev/null
'

test_expect_success PYTHON3,CURL '429 with Retry-After is honoured' '
	fake_fault tok 429 1 &&
	kiln pull $R/t/a:1 2>err &&
	test_grep "429 Too Many Requests (attempt 2 in 1.0 s)" err &&
	kiln rmi $R/t/a:1 >/dev/null
'

test_expect_success PYTHON3,CURL 'a broken transfer resumes with a Range request' '
	fake_fault tok truncated 1 &&
	kiln pull $R/t/a:1 2>err &&
	test_grep "transfer closed" err &&
	test_grep "GET /v2/t/a/blobs/sha256:[0-9a-f]* 206" "$TRASH/reg-tok/requests" &&
	test "$(kiln inspect $R/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)" &&
	kiln fsck >fsck && test_grep "no problems found" fsck &&
	kiln rmi $R/t/a:1 >/dev/null
'

test_expect_success PYTHON3,CURL 'a dropped connection is retried' '
	fake_fault tok drop 2 &&
	kiln pull $R/t/a:1 &&
	kiln rmi $R/t/a:1 >/dev/null
'

test_expect_success PYTHON3,CURL 'kiln prune takes what failed pulls left' '
	kiln prune >/dev/null && store_clean
'

test_expect_success PYTHON3,CURL 'a manifest that is not JSON' '
	fake_fault tok bad-json &&
	test_expect_code 1 kiln pull $R/t/a:1 2>err &&
	test_grep "registry $R: manifest of $R/t/a:1: .*invalid" err &&
	store_clean
'

test_expect_success PYTHON3,CURL 'a blob that does not match its digest' '
	fake_fault tok wrong-digest &&
	test_expect_code 1 kiln pull $R/t/a:1 2>err &&
	test_grep "registry $R: GET http://$R/v2/t/a/blobs/sha256:.*does not match its digest" err &&
	store_clean
'

test_expect_success PYTHON3,CURL 'a blob that is always cut short' '
	fake_fault tok truncated &&
	test_expect_code 1 kiln pull --retries 2 $R/t/a:1 2>err &&
	test_grep "GET http://$R/v2/t/a/blobs/sha256:.*transfer closed .*(after 3 attempts)" err &&
	store_clean
'

test_expect_success PYTHON3,CURL 'an oversized manifest' '
	fake_fault tok big-manifest &&
	test_expect_code 1 kiln pull $R/t/a:1 2>err &&
	test_grep "GET http://$R/v2/t/a/manifests/1: answer larger than 4194304 bytes" err &&
	store_clean
'

test_expect_success PYTHON3,CURL 'a Docker-Content-Digest that lies' '
	fake_fault tok digest-lie &&
	test_expect_code 1 kiln pull $R/t/a:1 2>err &&
	test_grep "but the registry says sha256:0000" err &&
	store_clean
'

test_expect_success PYTHON3,CURL 'a 401 loop ends after one fresh token' '
	fake_fault tok 401-loop &&
	test_expect_code 1 kiln pull $R/t/a:1 2>err &&
	test_grep "401 Unauthorized again with a fresh token" err &&
	test "$(grep -c "GET /v2/t/a/manifests/1 401" "$TRASH/reg-tok/requests")" -le 3 &&
	store_clean
'

test_expect_success PYTHON3,CURL 'a token server that fails' '
	fake_fault tok token-500 &&
	test_expect_code 1 kiln pull --retries 1 $R/t/a:1 2>err &&
	test_grep "GET http://$R/token?.*500 Internal Server Error" err &&
	fake_fault tok token-garbage &&
	test_expect_code 1 kiln pull $R/t/a:1 2>err &&
	test_grep "neither .token. nor .access_token." err &&
	store_clean
'

test_expect_success PYTHON3,CURL '500 forever: a bounded number of attempts' '
	fake_fault tok 500 &&
	test_expect_code 1 kiln pull --retries 3 $R/t/a:1 2>err &&
	test_grep "500 Internal Server Error: UNKNOWN: try again (after 4 attempts)" err &&
	store_clean
'

test_expect_success PYTHON3,CURL 'back to normal' '
	fake_fault tok none &&
	kiln pull $R/t/a:1 >/dev/null &&
	test "$(kiln inspect $R/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)"
'

registry_stop_all
test_done
