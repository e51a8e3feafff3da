#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Debian's docker-registry with htpasswd (Basic auth) and a self-signed TLS
# certificate: kiln trusts it only through --cert-dir (or with
# --tls-verify=false), never falls back to plain http, and logs in, stores,
# uses and forgets credentials like docker.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

if test_have_prereq REGISTRY,OPENSSL,HTPASSWD; then
	mkdir -p certs &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln test registry" \
		-addext "subjectAltName=IP:127.0.0.1" \
		-keyout certs/key.pem -out certs/ca.crt 2>/dev/null &&
	htpasswd -Bbn alice 's3cret:with colon' >htpasswd &&
	registry_start tls htpasswd "$TRASH/htpasswd" tls "$TRASH/certs/ca.crt" "$TRASH/certs/key.pem" ||
		echo "# the registry did not start"
	R=127.0.0.1:$(registry_port tls)
	# a second registry that wants a client certificate signed by its CA
	mkdir -p mtls client &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln test CA" \
		-keyout mtls/ca.key -out mtls/ca.crt 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=kiln client" \
		-keyout client/client.key -out mtls/client.csr 2>/dev/null &&
	openssl x509 -req -in mtls/client.csr -CA mtls/ca.crt -CAkey mtls/ca.key \
		-CAcreateserial -days 2 -out client/client.cert 2>/dev/null &&
	cp certs/ca.crt client/ca.crt &&
	registry_start mtls tls "$TRASH/certs/ca.crt" "$TRASH/certs/key.pem" \
		clientca "$TRASH/mtls/ca.crt" ||
		echo "# the client-certificate registry did not start"
	M=127.0.0.1:$(registry_port mtls)
	# a third whose certificate, from the trusted CA directory, names
	# another address and a host name, but not 127.0.0.1
	mkdir -p other &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.2" \
		-addext "subjectAltName=IP:127.0.0.2,IP:::1,DNS:localhost" \
		-keyout other/key.pem -out other/ca.crt 2>/dev/null &&
	registry_start other tls "$TRASH/other/ca.crt" "$TRASH/other/key.pem" ||
		echo "# the third registry did not start"
	O=127.0.0.1:$(registry_port other)
else
	R=127.0.0.1:1 M=127.0.0.1:1 O=127.0.0.1:1
fi
CERTS=$TRASH/certs
export R M CERTS

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'setup: an image' '
	make_rootfs a "image A" &&
	kiln import a local/a:1 >id.a
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'an unknown CA is refused, with a hint, and no http fallback' '
	test_expect_code 1 kiln push local/a:1 $R/t/a:1 2>err &&
	test_grep "GET https://$R/v2/" err &&
	test_grep -- "--cert-dir" err &&
	! grep "http://" err
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'a certificate for other addresses is refused' '
	test_expect_code 1 kiln push --cert-dir other local/a:1 $O/t/a:1 2>err &&
	# as mbedTLS and as OpenSSL word it
	mismatch="CN_MISMATCH\|no alternative certificate subject name" &&
	test_grep "GET https://$O/v2/: .*\($mismatch\)" err &&
	! grep "http://" err &&
	! registry_log other | grep -q "PUT /v2/"
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'with the CA but no credentials: asks for a login' '
	test_expect_code 1 kiln push --cert-dir $CERTS local/a:1 $R/t/a:1 2>err &&
	test_grep "kiln login $R" err
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'login with a wrong password fails and stores nothing' '
	echo wrong | test_expect_code 1 kiln login --cert-dir $CERTS -u alice --password-stdin $R 2>err &&
	test_grep "401" err &&
	test_must_fail test -e "$HOME/.docker/config.json"
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'login stores the credentials (0600, base64)' '
	printf "%s\n" "s3cret:with colon" |
		kiln login --cert-dir $CERTS -u alice --password-stdin $R >out 2>err &&
	test_grep "Login Succeeded" out &&
	test "$(stat -c %a "$HOME/.docker/config.json")" = 600 &&
	auth=$(jq -r ".auths[\"$R\"].auth" "$HOME/.docker/config.json") &&
	test "$(echo "$auth" | base64 -d)" = "alice:s3cret:with colon"
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD,JQ,SKOPEO 'push and pull with the stored credentials' '
	kiln push --cert-dir $CERTS local/a:1 $R/t/a:1 >out &&
	KILN_ROOT=$TRASH/s2 kiln pull --cert-dir $CERTS $R/t/a:1 &&
	test "$(KILN_ROOT=$TRASH/s2 kiln inspect $R/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)" &&
	skopeo inspect --cert-dir $CERTS --creds "alice:s3cret:with colon" docker://$R/t/a:1 >sk.json &&
	test "$(jq -r .Digest sk.json)" = "$(sed "s/.*@//" out)"
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'a chunked push over TLS' '
	random_file a/big 200 &&
	kiln import a local/a:2 >/dev/null &&
	kiln push --cert-dir $CERTS --chunk-size 50000 --no-mount local/a:2 $R/t/chunked:2 2>err &&
	test_grep "1 blob uploaded\|2 blobs uploaded" err &&
	registry_log tls | grep -c "\"PATCH /v2/t/chunked/blobs/uploads/" >n &&
	test "$(cat n)" -ge 4
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'logout forgets them' '
	kiln logout $R >out &&
	test_grep "Removing login credentials for $R" out &&
	test "$(jq -r ".auths[\"$R\"]" "$HOME/.docker/config.json")" = null &&
	test_expect_code 1 kiln pull --cert-dir $CERTS $R/t/a:1 2>err &&
	test_grep "kiln login" err
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD,JQ '--creds instead of a login; --tls-verify=false instead of the CA' '
	KILN_ROOT=$TRASH/s3 kiln pull --tls-verify=false --creds "alice:s3cret:with colon" $R/t/a:1 &&
	test "$(KILN_ROOT=$TRASH/s3 kiln inspect $R/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)"
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'wrong --creds are refused by the registry' '
	test_expect_code 1 kiln pull --cert-dir $CERTS --creds alice:nope $R/t/a:1 2>err &&
	test_grep "registry refused the credentials" err
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'a missing --cert-dir is an error' '
	test_expect_code 1 kiln pull --cert-dir $TRASH/nope $R/t/a:1 2>err &&
	test_grep "certificate directory $TRASH/nope" err
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD 'a client certificate without its key is an error' '
	mkdir -p badcerts && cp certs/ca.crt badcerts/ && cp certs/ca.crt badcerts/client.cert &&
	test_expect_code 1 kiln pull --cert-dir badcerts --creds alice:x $R/t/a:1 2>err &&
	test_grep "has no key client.key" err
'

test_expect_success REGISTRY,OPENSSL,HTPASSWD,JQ 'a client certificate from --cert-dir (NAME.cert + NAME.key)' '
	test_expect_code 1 kiln push --cert-dir $CERTS local/a:1 $M/t/a:1 2>err &&
	# OpenSSL names the alert; mbedTLS does not, and the hint says so
	test_grep "GET https://$M/v2/: .*\(wants\|may want\) a client certificate" err &&
	test_grep "NAME.cert and NAME.key in --cert-dir" err &&
	# With TLS 1.3 the server refuses the missing certificate after the
	# client finished its handshake, so the first request can die as a
	# plain broken connection (retried once); the certificate alert itself
	# is never retried.
	! grep "^retrying.*certificate" err &&
	test "$(grep -c "^retrying" err)" -le 1 &&
	! grep "after [3-9] attempts" err &&
	kiln push --cert-dir client local/a:1 $M/t/a:1 &&
	KILN_ROOT=$TRASH/s4 kiln pull --cert-dir client $M/t/a:1 &&
	test "$(KILN_ROOT=$TRASH/s4 kiln inspect $M/t/a:1 | jq -r ".[0].Id")" = "$(cat id.a)"
'

registry_stop_all
test_done
