#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Interop with docker (Debian's docker.io, dockerd 20.10): a multi-stage
# image kiln built, saved as a docker archive, is loaded and run by docker
# with its config (entrypoint, env, user, workdir) intact and the same image
# id; an image docker saves loads into kiln and runs there; a kiln archive
# of several tags loads them all. dockerd runs privately under the scratch
# dir (tests/helper/dockerd-lib.sh).
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/dockerd-lib.sh"
trap dockerd_stop EXIT

P=ROOT,OVERLAY,BUSYBOX,DOCKERD,DOCKER,JQ

test_expect_success $P 'setup: a private dockerd, a multi-stage image built by kiln' '
	dockerd_start &&
	build_base && mkdir ctx &&
	printf "#!/bin/sh\necho \"\$GREETING \$(cat /srv/msg) as \$(id -u) in \$PWD\"\n" >ctx/app &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY app /out/app
	RUN echo "built by kiln" >/out/msg && chmod 755 /out/app
	FROM $BB
	COPY --from=build /out/ /srv/
	ENV GREETING=hello
	USER 1000
	WORKDIR /srv
	ENTRYPOINT ["/srv/app"]
	EOF
	kiln build -q -t localhost/kiln-app:1 -t localhost/kiln-app:latest ctx >id &&
	kiln run --rm localhost/kiln-app:1 >out && echo "hello built by kiln as 1000 in /srv" >expect &&
	test_cmp expect out
'

test_expect_success $P 'kiln save -> docker load -> docker run: same output, same image id' '
	kiln save -o app.tar localhost/kiln-app:1 &&
	dk load -i app.tar >out &&
	test_grep "localhost/kiln-app:1" out &&
	dk image inspect --format "{{.Id}}" localhost/kiln-app:1 >did &&
	test_cmp id did &&
	dk run --rm --network none localhost/kiln-app:1 >out &&
	test_cmp expect out &&
	dk image inspect --format "{{json .Config.Entrypoint}} {{.Config.User}} {{.Config.WorkingDir}}" \
		localhost/kiln-app:1 >cfg &&
	echo "[\"/srv/app\"] 1000 /srv" >expect.cfg && test_cmp expect.cfg cfg
'

test_expect_success $P 'a kiln archive with two tags: docker loads both' '
	kiln save -o both.tar localhost/kiln-app:1 localhost/kiln-app:latest &&
	dk rmi localhost/kiln-app:1 >/dev/null &&
	dk load -i both.tar >out &&
	test_grep "localhost/kiln-app:1" out && test_grep "localhost/kiln-app:latest" out
'

test_expect_success $P 'docker save -> kiln load -> kiln run' '
	mkdir dctx &&
	printf "FROM localhost/kiln-app:1\nENV GREETING=bonjour\nUSER 0\nRUN echo changed by docker >/srv/msg\nUSER 1000\n" >dctx/Dockerfile &&
	DOCKER_BUILDKIT=0 dk build -q --network none -t localhost/from-docker:2 dctx >/dev/null &&
	dk save -o fromdocker.tar localhost/from-docker:2 &&
	kiln --root "$TRASH/k2" load -i fromdocker.tar >out &&
	test_grep "from-docker:2" out &&
	kiln --root "$TRASH/k2" fsck >out && test_grep "no problems found" out &&
	kiln --root "$TRASH/k2" run --rm localhost/from-docker:2 >out &&
	echo "bonjour changed by docker as 1000 in /srv" >expect2 && test_cmp expect2 out
'

test_expect_success $P 'a truncated archive: kiln load fails and leaves no image' '
	head -c 20000 app.tar >cut.tar &&
	test_must_fail kiln --root "$TRASH/k3" load -i cut.tar 2>err &&
	test -s err &&
	kiln --root "$TRASH/k3" images -q >imgs && test ! -s imgs
'

test_expect_success $P 'import --change: the config docker import makes from the same changes' '
	"$BUILD_HELPER" --tar rootfs.tar &&
	set -- -c "ENV A=1 B=two" -c "ENV C=\$A-x PATH=/usr/bin" -c "WORKDIR /app" \
		-c "WORKDIR sub" -c "EXPOSE 80 443/udp" -c "LABEL org.example.k=v" -c "USER 1000:1000" \
		-c "ENTRYPOINT [\"/bin/sh\", \"-c\"]" -c "CMD echo \$HOME" -c "VOLUME /data /cache" \
		-c "HEALTHCHECK --interval=5s --retries=2 CMD true" \
		-c "ONBUILD RUN echo child" &&
	kiln import "$@" rootfs.tar localhost/imp:1 >/dev/null &&
	dk import "$@" rootfs.tar localhost/imp:1 >/dev/null &&
	fields=".Env, .Cmd, .Entrypoint, .WorkingDir, .User, .ExposedPorts, .Volumes, .Labels, .StopSignal, .Healthcheck, .OnBuild" &&
	kiln inspect localhost/imp:1 | jq -c ".[0].Config | [$fields]" >kcfg &&
	dk image inspect localhost/imp:1 | jq -c ".[0].Config | [$fields]" >dcfg &&
	test_cmp dcfg kcfg &&
	for c in "RUN true" "STOPSIGNAL SIGINT"; do
		test_must_fail kiln import -c "$c" rootfs.tar localhost/imp:2 2>err &&
		test_grep "is not a valid change command" err &&
		test_must_fail dk import -c "$c" rootfs.tar localhost/imp:2 2>derr &&
		test_grep "is not a valid change command" derr || exit 1
	done
'

# before test_done, which deletes the directory holding dockerd's pid file
dockerd_stop
test_done
