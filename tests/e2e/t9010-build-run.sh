#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN as BuildKit runs it: shell form through /bin/sh -c or SHELL, exec
# form, heredocs (a script, a file with a shebang, heredocs inside a longer
# line), the environment (ENV, the stage's ARGs, a default PATH), USER
# resolved in the image, WORKDIR created, the network, bind/tmpfs/cache
# mounts, and the layer a RUN makes (its deletions included).
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir ctx
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'shell form, exec form and SHELL' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo "shell \$0" >/shell
	RUN ["/bin/sh", "-c", "echo exec > /exec"]
	SHELL ["/bin/sh", "-ec", "echo shell-is-\$0 >/shellcmd; \$@"]
	RUN echo ignored
	EOF
	kiln build -q -t run:forms ctx >/dev/null &&
	kiln run --rm run:forms cat /shell /exec /shellcmd >out &&
	printf "shell /bin/sh\nexec\nshell-is-echo ignored\n" >expect &&
	test_cmp expect out &&
	test "$(cfg run:forms ".History[-1].created_by")" = \
		"\"RUN /bin/sh -ec echo shell-is-\$0 >/shellcmd; \$@ echo ignored # buildkit\"" &&
	test "$(cfg run:forms ".History[-3].created_by")" = \
		"\"RUN /bin/sh -c echo exec > /exec # buildkit\""
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'heredocs: a script, a shebang file, heredocs in a line' '
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM localhost/busybox:test
	RUN <<EOT
	set -e
	echo one >/script
	echo two >>/script
	EOT
	RUN <<EOT
	#!/bin/sh
	echo "shebang $0" >/shebang
	echo "echo changed" >>"$0" || echo "read-only" >>/shebang
	EOT
	RUN cat <<A >/a && cat <<B >/b
	from a
	A
	from b
	B
	RUN <<-EOT
		echo chomped >/chomped
	EOT
	EOF
	kiln build --progress=plain -t run:heredoc ctx 2>err >/dev/null &&
	test_grep "^#[0-9]* \[2/5\] RUN <<EOT (set -e...)$" err &&
	test_grep "^#[0-9]* \[4/5\] RUN cat <<A >/a && cat <<B >/b$" err &&
	test_grep "^#[0-9]* \[5/5\] RUN <<-EOT (echo chomped >/chomped)$" err &&
	kiln run --rm run:heredoc cat /script /shebang /a /b /chomped >out &&
	printf "one\ntwo\nshebang /dev/pipes/EOT\nread-only\nfrom a\nfrom b\nchomped\n" \
		>expect &&
	test_cmp expect out &&
	rootfs_of run:heredoc rootfs && ! test -e rootfs/dev/pipes
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'heredocs larger than a mebibyte: a script and a COPY body' '
	awk "BEGIN { for (i = 0; i < 100000; i++) printf \"echo line %06d >/dev/null\\n\", i }" \
		>lines && test $(wc -c <lines) -gt 2000000 &&
	{
		printf "FROM localhost/busybox:test\nARG A=first\nRUN <<EOT\n#!/bin/sh\n" &&
		cat lines && printf "echo ran >/ran\nEOT\nCOPY <<EOT /big.txt\n\$A\n" &&
		cat lines && printf "EOT\n"
	} >ctx/Dockerfile &&
	kiln build -q -t run:bigdoc ctx >/dev/null &&
	kiln run --rm run:bigdoc cat /ran /big.txt >out &&
	{ echo ran && echo first && cat lines; } >expect && test_cmp expect out
'

# keyed as they are; the process gets each such byte as U+FFFD, as runc's
# JSON config passes it (BuildKit's RUN and docker run alike)
test_expect_success ROOT,OVERLAY,BUSYBOX 'bytes that are not UTF-8, in the Dockerfile and a build arg' '
	printf "FROM localhost/busybox:test\nARG X\nRUN printf \"\377\$X\" >/bytes\n" \
		>ctx/Dockerfile &&
	kiln build -q -t run:bytes --build-arg X=$(printf "\376") ctx >/dev/null &&
	kiln run --rm run:bytes od -An -tx1 /bytes >out &&
	echo " ef bf bd ef bf bd" >expect && test_cmp expect out &&
	kiln build --progress=plain --build-arg X=$(printf "\375") ctx 2>err >/dev/null &&
	test_grep "cache miss: build arg X changed: .xfe → .xfd" err &&
	kiln build --progress=plain --build-arg X=$(printf "\375") ctx 2>err >/dev/null &&
	test_grep "^#[0-9]* \[2/2\] RUN" err && ! grep "cache miss" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the environment: ENV, the stage ARGs, PATH, HOME' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ENV E1=env-one
	ARG A1=arg-one
	ARG A2
	RUN env | sort | grep -E "^(E1|A1|A2|PATH|HOME)=" >/env
	EOF
	kiln build -q -t run:env --build-arg A2=given ctx >/dev/null &&
	kiln run --rm run:env cat /env >out &&
	cat >expect <<-EOF &&
	A1=arg-one
	A2=given
	E1=env-one
	HOME=/root
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	EOF
	test_cmp expect out &&
	test "$(cfg run:env ".History[-1].created_by")" = \
		"\"RUN |2 A1=arg-one A2=given /bin/sh -c env | sort | grep -E \\\"^(E1|A1|A2|PATH|HOME)=\\\" >/env # buildkit\"" &&
	test "$(cfg run:env .Config.Env)" = "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"E1=env-one\"]"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'proxy build args: both spellings in RUN' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ARG http_proxy
	RUN env | grep -i -E "^(https?|no|ftp|all)_proxy=" | sort >/proxy
	EOF
	kiln build -q -t run:proxy --build-arg http_proxy=http://q:2 \
		--build-arg NO_PROXY=localhost ctx >/dev/null &&
	kiln run --rm run:proxy cat /proxy >out &&
	printf "%s\n" HTTP_PROXY=http://q:2 NO_PROXY=localhost http_proxy=http://q:2 \
		no_proxy=localhost >expect &&
	test_cmp expect out &&
	test "$(cfg run:proxy .Config.Env)" = \
		"[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'RUN cannot read kiln'"'"'s command line: /proc/1 is the RUN itself' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN tr "\\\\0" " " </proc/1/cmdline >/cmdline
	EOF
	kiln build -q -t run:cmdline --build-arg UNUSED=tok-4711 --label l=lab-4711 ctx \
		>/dev/null &&
	kiln run --rm run:cmdline cat /cmdline >out &&
	test_grep "^tr " out &&
	! grep -e "4711" -e "--build-arg" -e kiln-init out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the hostname: buildkitsandbox, or the build arg'"'"'s' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN hostname >/h && head -n 1 /etc/hosts >>/h
	EOF
	kiln build -q -t run:host ctx >/dev/null &&
	kiln run --rm run:host cat /h >out &&
	printf "buildkitsandbox\n127.0.0.1\tlocalhost buildkitsandbox\n" >expect &&
	test_cmp expect out &&
	kiln build --progress=plain -t run:host2 --build-arg BUILDKIT_SANDBOX_HOSTNAME=box1 \
		ctx 2>err &&
	! grep "were not consumed" err &&
	test_grep "cache miss: .*hostname=box1" err &&
	kiln run --rm run:host2 head -n 1 /h >out &&
	echo box1 >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX '/etc/hosts and resolv.conf read-only, the image'"'"'s own /etc/hostname, as BuildKit'"'"'s RUN' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN echo imagehost >/etc/hostname
	RUN cat /etc/hostname >/seen && ! echo x >>/etc/hosts && ! echo x >>/etc/resolv.conf && \
		grep " /etc/hosts " /proc/mounts | grep -q "[ ,]ro[ ,]"
	EOF
	kiln build -q -t run:etc ctx >/dev/null &&
	rootfs_of run:etc rootfs &&
	echo imagehost >expect && test_cmp expect rootfs/seen && test_cmp expect rootfs/etc/hostname &&
	kiln run --rm run:etc sh -c "test \"\$(cat /etc/hostname)\" = \"\$(hostname)\" &&
		echo x >>/etc/hosts && echo rw" >out &&
	echo rw >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'USER by name and number, WORKDIR created for it' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	USER daemon
	WORKDIR /work/dir
	RUN id -u >/tmp/uid && pwd >/tmp/pwd && touch mine
	USER 4242:4243
	RUN id -u >/tmp/uid2 && id -g >/tmp/gid2
	EOF
	kiln build -q -t run:user ctx >/dev/null &&
	rootfs_of run:user rootfs &&
	echo 1 >expect && test_cmp expect rootfs/tmp/uid &&
	echo /work/dir >expect && test_cmp expect rootfs/tmp/pwd &&
	printf "4242\n4243\n" >expect && cat rootfs/tmp/uid2 rootfs/tmp/gid2 >out && test_cmp expect out &&
	test "$(stat_of rootfs work/dir)" = "755 1:1" &&
	test "$(stat_of rootfs work/dir/mine)" = "644 1:1" &&
	test "$(cfg run:user .Config.User)" = "\"4242:4243\""
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an unknown user fails the RUN' '
	printf "FROM %s\nUSER nobody-here\nRUN true\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:3: " err && test_grep "nobody-here" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'deletions in a RUN become whiteouts' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN mkdir -p /d && echo x >/d/f && echo y >/keep
	RUN rm -rf /d /bin/vi
	EOF
	kiln build -q -t run:rm ctx >/dev/null &&
	rootfs_of run:rm rootfs &&
	! test -e rootfs/d && ! test -e rootfs/bin/vi && test -e rootfs/keep && test -e rootfs/bin/ls
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--network none and RUN --network' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN ls /sys/class/net | sort | tr "\n" " " >/nets
	RUN --network=none ls /sys/class/net | tr "\n" " " >/nets-none
	EOF
	kiln build -q -t run:net ctx >/dev/null &&
	rootfs_of run:net rootfs &&
	test "$(cat rootfs/nets-none)" = "lo " &&
	test "$(cat rootfs/nets)" = "$(ls /sys/class/net | sort | tr "\n" " ")" &&
	kiln build -q -t run:net2 --network none --no-cache ctx >/dev/null &&
	rootfs_of run:net2 rootfs2 && test "$(cat rootfs2/nets)" = "lo "
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'RUN --mount: bind from the context and a stage, tmpfs, cache' '
	echo ctx-file >ctx/data.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS src
	RUN echo from-stage >/made
	FROM $BB
	RUN --mount=type=bind,source=data.txt,target=/mnt/data cat /mnt/data >/bound
	RUN --mount=type=bind,from=src,source=/made,target=/mnt/made cat /mnt/made >/bound-stage
	RUN --mount=type=tmpfs,target=/scratch echo t >/scratch/t && cat /scratch/t >/tmpfs-ok
	RUN --mount=type=cache,target=/cache echo run >>/cache/log && cat /cache/log >/cache-seen
	RUN test ! -e /mnt/data/../data && test ! -e /scratch/t
	EOF
	kiln build -q -t run:mounts ctx >/dev/null &&
	rootfs_of run:mounts rootfs &&
	echo ctx-file >expect && test_cmp expect rootfs/bound &&
	echo from-stage >expect && test_cmp expect rootfs/bound-stage &&
	echo t >expect && test_cmp expect rootfs/tmpfs-ok &&
	echo run >expect && test_cmp expect rootfs/cache-seen &&
	! test -e rootfs/cache && ! test -e rootfs/scratch/t &&
	kiln build -q -t run:mounts2 --no-cache ctx >/dev/null &&
	rootfs_of run:mounts2 rootfs2 &&
	printf "run\nrun\n" >expect && test_cmp expect rootfs2/cache-seen
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a required secret or agent not given fails its RUN, at its line' '
	printf "FROM %s\nRUN --mount=type=secret,id=x,required cat /run/secrets/x\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: secret x: not found" err &&
	printf "FROM %s\nRUN --mount=type=ssh,required=true true\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "Dockerfile:2: no SSH key \"default\" forwarded" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a RUN killed by a signal reports it' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	RUN sh -c '"'"'kill -9 \$\$'"'"'; exit \$?
	EOF
	test_must_fail kiln build -q ctx 2>err &&
	test_grep "exit code: 137" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the RUN is pid 1, as runc starts it: deaf to its own kill -9' '
	printf "FROM %s\nRUN echo \$\$ >/pid && kill -9 \$\$ && echo alive >>/pid\n" $BB \
		>ctx/Dockerfile &&
	kiln build -q -t run:pid1 ctx >/dev/null &&
	kiln run --rm run:pid1 cat /pid >out &&
	printf "1\nalive\n" >expect && test_cmp expect out
'

test_done
