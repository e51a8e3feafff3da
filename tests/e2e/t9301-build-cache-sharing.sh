#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN --mount=type=cache,sharing=shared|private|locked between two builds
# running at once, and between two RUNs of one build, proven by what each
# RUN sees while the other holds the cache (not by timing): the first
# build's RUN holds the cache until the test writes to a FIFO that its
# context binds in. `timeout` only ends a build that would hang on a bug.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# holder_df SHARING ID: a RUN that writes A-in, says it holds the cache,
# waits for the test, writes A-out
holder_df() {
	cat <<-EOF
	FROM $BB
	RUN --mount=type=bind,source=ctl,target=/ctl \
		--mount=type=cache,id=$2,target=/c,sharing=$1 \
		sh -c "echo A-in >>/c/log; echo held >/ctl/holds; read go </ctl/go; echo A-out >>/c/log"
	EOF
}

# warm SHARING ID: make the cache exist first, so that the holder takes an
# existing instance (the path a second user contends on)
warm() {
	mkdir -p w &&
	printf "FROM %s\nRUN --mount=type=cache,id=%s,target=/c,sharing=%s touch /c/warm\n" \
		"$BB" "$2" "$1" >w/Dockerfile &&
	kiln build -q --no-cache w >/dev/null
}

# start_holder: build a/ in the background until its RUN holds the cache
start_holder() {
	(
		"$KILN" build -q --no-cache a >a.out 2>&1 &
		echo $! >a.kiln
		wait $!
		echo $? >a.rc
	) &
	echo $! >a.pid &&
	timeout 300 sh -c "read x <a/ctl/holds"
}

# release_holder: let the RUN finish, wait for the build, check it succeeded
release_holder() {
	timeout 60 sh -c "echo go >a/ctl/go" &&
	wait "$(cat a.pid)" &&
	test "$(cat a.rc)" = 0
}

stop_holder() {
	kill "$(cat a.kiln 2>/dev/null)" 2>/dev/null
	timeout 5 sh -c "echo go >a/ctl/go" 2>/dev/null
	rm -f a.kiln a.pid a.rc
	:
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir -p a/ctl b && mkfifo a/ctl/holds a/ctl/go
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'shared: a second build uses the cache the first one holds' '
	test_when_finished stop_holder &&
	warm shared sh &&
	holder_df shared sh >a/Dockerfile &&
	cat >b/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,id=sh,target=/c cp /c/log /seen
	EOF
	start_holder &&
	timeout 300 "$KILN" build -q --no-cache -o type=local,dest=b-shared b >/dev/null &&
	echo A-in >expect && test_cmp expect b-shared/seen &&
	release_holder
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'private: a second build gets its own instance, later ones reuse' '
	test_when_finished stop_holder &&
	warm private pv &&
	holder_df private pv >a/Dockerfile &&
	cat >b/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,id=pv,target=/c,sharing=private sh -c "ls -A /c >/seen; echo B >/c/b"
	EOF
	start_holder &&
	timeout 300 "$KILN" build -q --no-cache -o type=local,dest=b-private b >/dev/null &&
	test ! -s b-private/seen &&
	release_holder &&
	key=$(grep -l "\"id\": \"pv\"" store/build-cache-mounts/*/info.json) &&
	ls "${key%/info.json}" >instances &&
	printf "0\n1\ninfo.json\n" >expect && test_cmp expect instances &&
	kiln build -q --no-cache -o type=local,dest=c-private b >/dev/null &&
	printf "log\nwarm\n" >expect && test_cmp expect c-private/seen
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'locked: a second build waits until the first RUN is done' '
	test_when_finished stop_holder &&
	warm locked lk &&
	holder_df locked lk >a/Dockerfile &&
	cat >b/Dockerfile <<-EOF &&
	FROM $BB
	RUN --mount=type=cache,id=lk,target=/c,sharing=locked sh -c "echo B-RUN\"\"S; cp /c/log /seen"
	EOF
	start_holder &&
	mkfifo b.progress &&
	{
		(timeout 300 "$KILN" build --progress=plain --no-cache -o type=local,dest=b-locked b 2>&1
		 echo "kiln-exit=$?") >b.progress &
	} &&
	exec 3<b.progress &&
	first=$(while read -r l <&3; do
		echo "$l" >>b.log
		case $l in
		*"waiting for cache mount"*|*B-RUNS*|kiln-exit=*) echo "$l"; break ;;
		esac
	done) &&
	echo "$first" | grep "waiting for cache mount /c (id lk, sharing=locked)" &&
	release_holder &&
	cat <&3 >>b.log &&
	test_grep "kiln-exit=0" b.log &&
	printf "A-in\nA-out\n" >expect && test_cmp expect b-locked/seen
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'two RUNs of one build share a cache at the same time' '
	mkdir -p rv &&
	cat >rv/Dockerfile <<-EOF &&
	FROM $BB AS x
	RUN --mount=type=cache,id=rv,target=/c sh -c "mkfifo /c/p 2>/dev/null; echo from-x >/c/p"
	FROM $BB AS y
	RUN --mount=type=cache,id=rv,target=/c \
		sh -c "mkfifo /c/p 2>/dev/null; read v </c/p; echo \\\$v >/got"
	FROM $BB
	COPY --from=x /etc/passwd /x-passwd
	COPY --from=y /got /got
	EOF
	timeout 300 "$KILN" build -q -j 2 --no-cache -o type=local,dest=rv-out rv >/dev/null &&
	echo from-x >expect && test_cmp expect rv-out/got
'

test_done
