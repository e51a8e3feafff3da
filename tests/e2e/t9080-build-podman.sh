#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Images kiln builds, read by podman: each is saved with `kiln save`, loaded
# by podman and inspected or run there, and podman must see the same config
# (Env, User, WorkingDir, ports, volumes, labels, stop signal, healthcheck)
# and run the same command (ENTRYPOINT/CMD, USER, WORKDIR) as kiln does.
# podman runs with its own storage under the scratch dir (as t5040 does).
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/peers-lib.sh"

# to_podman NAME: kiln save NAME, podman load it
to_podman() {
	kiln save -o "$TRASH/$(echo "$1" | tr /: __).tar" "$1" &&
	podman load -i "$TRASH/$(echo "$1" | tr /: __).tar" >/dev/null 2>&1
}

# same_run NAME [ARGS...]: podman run and kiln run print the same
same_run() {
	name=$1
	shift
	podman run --rm --network none "$name" "$@" >podman.out 2>podman.err &&
	kiln run --network none "$name" "$@" >kiln.out 2>kiln.err &&
	test_cmp kiln.out podman.out
}

P=PODMAN,ROOT,OVERLAY,BUSYBOX,RUNC

test_expect_success $P 'setup: podman with private storage, a busybox base' '
	peers_setup &&
	build_base
'

test_expect_success $P,JQ 'metadata instructions: podman sees the config kiln built' '
	mkdir meta &&
	cat >meta/Dockerfile <<-EOF &&
	FROM $BB
	ENV GREETING="hello world" LEVEL=3
	LABEL org.example.team=build "org.example.note"="two words"
	EXPOSE 8080 53/udp
	VOLUME /data
	WORKDIR /srv/app
	USER nobody
	STOPSIGNAL SIGQUIT
	HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD wget -q -O- localhost:8080
	CMD ["sh", "-c", "echo \$GREETING; id -u; pwd"]
	EOF
	kiln build -q -t localhost/meta:1 meta >/dev/null &&
	to_podman localhost/meta:1 &&
	podman image inspect localhost/meta:1 >pi.json &&
	jq -c ".[0].Config.Env" pi.json >env &&
	test_grep "GREETING=hello world" env && test_grep "LEVEL=3" env &&
	test "$(jq -r ".[0].Config.User" pi.json)" = nobody &&
	test "$(jq -r ".[0].Config.WorkingDir" pi.json)" = /srv/app &&
	test "$(jq -r ".[0].Config.StopSignal" pi.json)" = SIGQUIT &&
	jq -r ".[0].Config.ExposedPorts | keys | join(\" \")" pi.json >ports &&
	echo "53/udp 8080/tcp" >expect && test_cmp expect ports &&
	jq -r ".[0].Config.Volumes | keys | join(\" \")" pi.json >vols &&
	echo "/data" >expect && test_cmp expect vols &&
	test "$(jq -r ".[0].Labels[\"org.example.note\"]" pi.json)" = "two words" &&
	test "$(jq -r ".[0].Labels[\"org.example.team\"]" pi.json)" = build &&
	jq -c ".[0].Healthcheck.Test" pi.json >hc &&
	echo "[\"CMD-SHELL\",\"wget -q -O- localhost:8080\"]" >expect && test_cmp expect hc &&
	test "$(jq -r ".[0].Healthcheck.Retries" pi.json)" = 2
'

test_expect_success $P 'metadata image: podman runs it as kiln does (ENV, USER, WORKDIR)' '
	same_run localhost/meta:1 &&
	printf "hello world\n65534\n/srv/app\n" >expect &&
	test_cmp expect podman.out
'

test_expect_success $P 'ENTRYPOINT and CMD: podman and kiln run the same command' '
	mkdir ep &&
	cat >ep/Dockerfile.base <<-EOF &&
	FROM $BB
	CMD ["echo", "from the base"]
	EOF
	kiln build -q -t localhost/ep-base:1 -f ep/Dockerfile.base ep >/dev/null &&
	cat >ep/Dockerfile.exec <<-EOF &&
	FROM localhost/ep-base:1
	ENTRYPOINT ["echo", "entry"]
	CMD ["default", "args"]
	EOF
	cat >ep/Dockerfile.reset <<-EOF &&
	FROM localhost/ep-base:1
	ENTRYPOINT ["echo", "reset:"]
	EOF
	cat >ep/Dockerfile.shell <<-EOF &&
	FROM $BB
	ENTRYPOINT echo shell-form entry ignores
	CMD ["these", "args"]
	EOF
	for v in exec reset shell; do
		kiln build -q -t localhost/ep-$v:1 -f ep/Dockerfile.$v ep >/dev/null &&
		to_podman localhost/ep-$v:1 || return 1
	done &&
	same_run localhost/ep-exec:1 &&
	echo "entry default args" >expect && test_cmp expect podman.out &&
	same_run localhost/ep-exec:1 other words &&
	echo "entry other words" >expect && test_cmp expect podman.out &&
	same_run localhost/ep-reset:1 &&
	echo "reset:" >expect && test_cmp expect podman.out &&
	same_run localhost/ep-shell:1 &&
	echo "shell-form entry ignores" >expect && test_cmp expect podman.out
'

test_expect_success $P 'a multi-stage image with COPY --chown/--chmod and a RUN layer runs in podman' '
	mkdir ms && echo "payload" >ms/data.txt &&
	cat >ms/Dockerfile <<-EOF &&
	FROM $BB AS build
	RUN mkdir -p /out && echo "built in stage" >/out/result && chmod 0640 /out/result
	FROM $BB
	COPY --from=build /out/result /app/result
	COPY --chown=nobody:nogroup --chmod=0600 data.txt /app/data.txt
	RUN rm /bin/vi && ln -s /app/result /app/link
	CMD ["sh", "-c", "cat /app/link /app/data.txt; stat -c \"%a %u:%g\" /app/result /app/data.txt; test -e /bin/vi || echo vi-gone"]
	EOF
	kiln build -q -t localhost/ms:1 ms >/dev/null &&
	to_podman localhost/ms:1 &&
	same_run localhost/ms:1 &&
	printf "built in stage\npayload\n640 0:0\n600 65534:65534\nvi-gone\n" >expect &&
	test_cmp expect podman.out
'

test_expect_success PODMAN,ROOT 'cleanup podman state' '
	podman rmi -a -f >/dev/null 2>&1 || :
'

test_done
