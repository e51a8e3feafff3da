#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Multi-stage builds: only the stages the target needs run (an unneeded
# stage with a failing RUN is never started), --target, independent stages
# run at the same time (proved by timestamps written inside the RUNs) and
# one at a time with --jobs 1, a COPY --from waits only for its own stage,
# COPY --from a stage by name or index or an image, FROM <stage>, and the
# same content copied from a changed stage is still a cache hit.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir ctx
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an unneeded stage is never run, even when it would fail' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS broken
	RUN echo broken-stage-ran; exit 1
	FROM $BB AS used
	RUN echo used >/used
	FROM $BB
	COPY --from=used /used /used
	EOF
	kiln build --progress=plain -t ms:needed ctx 2>progress &&
	! grep "broken" progress &&
	test_grep "\[used 2/2\] RUN echo used" progress &&
	kiln run --rm ms:needed cat /used >out && echo used >expect && test_cmp expect out
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--target stops at a stage; later stages do not run' '
	kiln build --progress=plain -t ms:target --target used ctx 2>progress &&
	! grep "stage-2" progress && ! grep broken progress &&
	kiln run --rm ms:target cat /used >out && echo used >expect && test_cmp expect out &&
	test_must_fail kiln build -q --target broken ctx 2>err &&
	test_grep "exit code: 1" err
'

# Two independent stages stamp when their RUN starts and ends (the system's
# uptime in hundredths of a second); the final stage collects the stamps.
cat >par.Dockerfile <<EOF
FROM $BB AS a
RUN cut -d" " -f1 /proc/uptime | tr -d . >/start; sleep 1; cut -d" " -f1 /proc/uptime | tr -d . >/end
FROM $BB AS b
RUN cut -d" " -f1 /proc/uptime | tr -d . >/start; sleep 1; cut -d" " -f1 /proc/uptime | tr -d . >/end
FROM $BB
COPY --from=a /start /a.start
COPY --from=a /end /a.end
COPY --from=b /start /b.start
COPY --from=b /end /b.end
EOF

stamps() {
	rootfs_of "$1" "$2" &&
	as=$(cat "$2/a.start") && ae=$(cat "$2/a.end") &&
	bs=$(cat "$2/b.start") && be=$(cat "$2/b.end")
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'independent stages overlap in time' '
	kiln build -q -j 2 -t ms:par -f par.Dockerfile ctx >/dev/null &&
	stamps ms:par par &&
	test "$as" -lt "$be" && test "$bs" -lt "$ae"
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--jobs 1 runs them one after the other' '
	kiln build -q -j 1 --no-cache -t ms:seq -f par.Dockerfile ctx >/dev/null &&
	stamps ms:seq seq &&
	{ test "$ae" -le "$bs" || test "$be" -le "$as"; }
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a COPY --from waits only for its own stage' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS slow
	RUN sleep 1; echo slow >/slow
	FROM $BB AS fast
	RUN echo fast >/fast
	FROM $BB
	COPY --from=fast /fast /fast
	COPY --from=slow /slow /slow
	EOF
	kiln build --progress=plain -j 3 -t ms:wait ctx 2>progress &&
	fast=$(grep -n "^#[0-9]* \[stage-2 2/3\] COPY --from=fast" progress | head -1 | cut -d: -f1) &&
	slow_done=$(grep -n "^#[0-9]* \[slow 2/2\] RUN" progress | tail -1 | cut -d: -f1) &&
	test -n "$fast" && test -n "$slow_done" && test "$fast" -lt "$slow_done"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'COPY --from a stage by name, by index, an image; FROM a stage' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS base
	ENV FROM_BASE=yes
	WORKDIR /w
	RUN echo base >/w/base
	FROM base AS derived
	RUN echo "\$FROM_BASE \$(pwd)" >/derived
	FROM scratch
	COPY --from=base /w/base /by-name
	COPY --from=1 /derived /by-index
	COPY --from=$BB /bin/busybox /bin/busybox
	EOF
	kiln build -q -t ms:from ctx >/dev/null &&
	rootfs_of ms:from from &&
	echo base >expect && test_cmp expect from/by-name &&
	echo "yes /w" >expect && test_cmp expect from/by-index &&
	test -x from/bin/busybox &&
	test_must_fail kiln build -q --target nope ctx 2>err &&
	printf "FROM %s\nCOPY --from=5 /x /x\n" $BB >ctx/Dockerfile &&
	test_must_fail kiln build -q ctx 2>err && test_grep "invalid stage index 5" err
'

# A stage name used twice: BuildKit's warning; FROM takes the stage of that
# name before it, --from and --target the last one.
test_expect_success ROOT,OVERLAY,BUSYBOX 'a stage name used twice' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS base
	RUN echo one >/v
	FROM base AS mid
	RUN cat /v >/mid
	FROM $BB AS Base
	RUN echo two >/v
	FROM $BB
	COPY --from=base /v /final
	COPY --from=mid /mid /mid
	EOF
	kiln build --progress=plain -t ms:dup ctx 2>err &&
	test_grep "DuplicateStageName" err &&
	rootfs_of ms:dup dup &&
	echo two >expect && test_cmp expect dup/final &&
	echo one >expect && test_cmp expect dup/mid &&
	kiln build -q -t ms:duptarget --target base ctx >/dev/null &&
	rootfs_of ms:duptarget dupt &&
	echo two >expect && test_cmp expect dupt/v
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the same file from a changed stage: the COPY is a hit, the image the same' '
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	RUN echo artifact >/artifact
	ARG NOISE=1
	RUN echo \$NOISE >/noise
	FROM $BB
	COPY --from=build /artifact /artifact
	RUN cat /artifact >/copied
	EOF
	kiln build -q -t ms:content --build-arg NOISE=1 ctx >id1 &&
	kiln build --progress=plain -t ms:content --build-arg NOISE=2 ctx 2>progress &&
	test_grep "\[build 3/3\] RUN echo 2 >/noise" progress &&
	copy=$(sed -n "s/^#\([0-9]*\) \[stage-1 2\/3\] COPY --from=build.*/\1/p" progress | head -1) &&
	test_grep "^#$copy CACHED$" progress &&
	kiln build -q -t ms:content --build-arg NOISE=2 ctx >id2 &&
	test_cmp id1 id2
'

test_done
