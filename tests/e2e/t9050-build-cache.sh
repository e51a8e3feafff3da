#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The build cache: a rebuild takes every layer from it; what changes a key
# (contents, a used build arg, ignore rules that change the selection) and
# what must not (mtimes, unused build args, ignore rules that select the
# same files); --no-cache and --no-cache-filter; the cache survives kiln rmi
# and goes with kiln prune; fsck stays clean; a 5000-file context rebuilds
# from the cache; spellings of one step (./a and a, --chmod=644 and 0644,
# RUN's exec form of the shell form, a renamed stage) share its key; --pull
# takes a tag that moved in the registry.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

registry_for_tests pull

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a project' '
	build_base && mkdir -p ctx/src &&
	echo one >ctx/src/a.txt && echo two >ctx/src/b.txt && echo other >ctx/other.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	ARG USED=1
	RUN echo base-\$USED >/base
	COPY src /src
	RUN cat /src/*.txt >/all
	EOF
	kiln build --progress=plain -t cache:1 ctx 2>first &&
	test "$(step_states first)" = "1:CACHED 2:DONE 3:DONE 4:DONE "
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a rebuild takes every step from the cache, same image' '
	kiln build -q -t cache:1 ctx >id1 &&
	kiln build --progress=plain -t cache:1 ctx 2>second &&
	test "$(step_states second)" = "1:CACHED 2:CACHED 3:CACHED 4:CACHED " &&
	kiln build -q -t cache:1 ctx >id2 && test_cmp id1 id2
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'touching files and unused build args change nothing' '
	touch -d "2000-01-01" ctx/src/a.txt && touch ctx/src/b.txt &&
	kiln build --progress=plain --build-arg UNRELATED=x -t cache:1 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:CACHED 4:CACHED "
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a changed file misses from its COPY on' '
	echo ONE >ctx/src/a.txt &&
	kiln build --progress=plain -t cache:2 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:DONE 4:DONE " &&
	kiln run --rm cache:2 cat /all >all && printf "ONE\ntwo\n" >expect && test_cmp expect all
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a used build arg misses from its RUN on' '
	kiln build --progress=plain --build-arg USED=2 -t cache:3 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:DONE 3:DONE 4:DONE "
'

test_expect_success ROOT,OVERLAY,BUSYBOX '.dockerignore: unrelated rules hit, a rule that drops a copied file misses' '
	echo other.txt >ctx/.dockerignore &&
	kiln build --progress=plain -t cache:2 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:CACHED 4:CACHED " &&
	echo src/b.txt >>ctx/.dockerignore &&
	kiln build --progress=plain -t cache:4 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:DONE 4:DONE " &&
	kiln run --rm cache:4 cat /all >all && echo ONE >expect && test_cmp expect all &&
	rm ctx/.dockerignore
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--no-cache runs every step again' '
	kiln build --progress=plain --no-cache -t cache:2 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:DONE 3:DONE 4:DONE " &&
	kiln build --progress=plain -t cache:2 ctx 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:CACHED 4:CACHED "
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--no-cache-filter runs the steps of the stages it names' '
	mkdir -p mctx && echo dep >mctx/dep.txt &&
	cat >mctx/Dockerfile <<-EOF &&
	FROM $BB AS deps
	COPY dep.txt /dep.txt
	RUN cat /dep.txt >/fetched
	FROM $BB AS Final
	RUN echo final >/final
	COPY --from=deps /fetched /fetched
	EOF
	kiln build -q -t nf:1 mctx >/dev/null &&
	kiln build --progress=plain --no-cache-filter deps -t nf:1 mctx 2>out &&
	for n in 2 3; do
		id=$(sed -n "s/^#\([0-9]*\) \[deps $n\/3\] .*/\1/p" out | head -1) &&
		test_grep "^#$id DONE" out && test_grep "^#$id cache miss: --no-cache-filter$" out ||
		return 1
	done &&
	for n in 2 3; do
		id=$(sed -n "s/^#\([0-9]*\) \[final $n\/3\] .*/\1/p" out | head -1) &&
		test_grep "^#$id CACHED$" out || return 1
	done &&
	kiln build --progress=plain --no-cache-filter FINAL -t nf:1 mctx 2>out &&
	id=$(sed -n "s/^#\([0-9]*\) \[final 2\/3\] .*/\1/p" out | head -1) &&
	test_grep "^#$id DONE" out &&
	id=$(sed -n "s/^#\([0-9]*\) \[deps 3\/3\] .*/\1/p" out | head -1) &&
	test_grep "^#$id CACHED$" out &&
	kiln build -q --no-cache-filter nosuch -t nf:1 mctx 2>err >/dev/null &&
	test_grep "no-cache-filter nosuch: the build runs no stage of that name" err &&
	kiln rmi nf:1 >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the cache survives kiln rmi, and goes with kiln prune' '
	for t in 1 2 3 4; do kiln rmi cache:$t >/dev/null 2>&1; done; echo rmi-done &&
	! kiln inspect cache:2 >/dev/null 2>&1 &&
	kiln build --progress=plain -t cache:2 ctx 2>out &&
	step_states out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:CACHED 4:CACHED " &&
	kiln rmi cache:2 >/dev/null &&
	# --dangling: the images a rebuild untagged (--no-cache above) keep
	# their layers, which can be the cached steps'"'"' own when both were
	# made in the same second
	kiln prune --dangling >/dev/null &&
	kiln images -q >imgs && test "$(wc -l <imgs)" = 1 &&
	kiln fsck >out && test_grep "no problems found" out &&
	kiln build --progress=plain -t cache:2 ctx 2>out &&
	step_states out &&
	test "$(step_states out)" = "1:CACHED 2:DONE 3:DONE 4:DONE " &&
	kiln fsck >out && test_grep "no problems found" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a 5000-file context rebuilds from the cache' '
	mkdir -p big/files &&
	(cd big/files && i=0 && while [ $i -lt 50 ]; do
		mkdir d$i && j=0 &&
		while [ $j -lt 100 ]; do echo "$i $j" >d$i/f$j; j=$((j + 1)); done
		i=$((i + 1)); done) &&
	printf "FROM %s\nCOPY files /files\nRUN find /files -type f | wc -l >/count\n" $BB \
		>big/Dockerfile &&
	kiln build -q -t cache:big big >/dev/null &&
	kiln run --rm cache:big cat /count >out && echo 5000 >expect && test_cmp expect out &&
	kiln build --progress=plain -t cache:big big 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:CACHED " &&
	echo changed >big/files/d7/f7 &&
	kiln build --progress=plain -t cache:big big 2>out &&
	test "$(step_states out)" = "1:CACHED 2:DONE 3:DONE "
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'spellings of one step share its key, as BuildKit'"'"'s ops' '
	mkdir -p spell/src && echo a >spell/src/a.txt && echo b >spell/src/b.txt &&
	cat >spell/Dockerfile <<-EOF &&
	FROM $BB AS build
	COPY src/a.txt /a.txt
	COPY --chmod=644 src/b.txt /b.txt
	RUN echo hi >/hi
	FROM $BB
	COPY --from=build /hi /hi
	EOF
	kiln build -q -t spell:1 spell >/dev/null &&
	cat >spell/Dockerfile <<-EOF &&
	FROM $BB AS builder
	COPY ./src/a.txt /a.txt
	COPY --chmod=0644 src//b.txt /b.txt
	RUN ["/bin/sh", "-c", "echo hi >/hi"]
	FROM $BB
	COPY --from=builder /hi /hi
	EOF
	kiln build --progress=plain -t spell:2 spell 2>out &&
	test "$(step_states out builder)" = "1:CACHED 2:CACHED 3:CACHED 4:CACHED " &&
	test "$(step_states out stage-1)" = "1:CACHED 2:CACHED " &&
	kiln build -q --target builder -t spell:b spell >/dev/null &&
	kiln inspect spell:b >img && test_grep "COPY ./src/a.txt /a.txt # buildkit" img &&
	cat >spell/Dockerfile <<-EOF &&
	FROM $BB AS builder
	COPY ./src/a.txt /a.txt
	COPY --chmod=0755 src/b.txt /b.txt
	RUN ["/bin/sh", "-ec", "echo hi >/hi"]
	EOF
	kiln build --progress=plain -t spell:3 spell 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:DONE 4:DONE " &&
	sed -i "s/0755/0644/" spell/Dockerfile &&
	kiln build --progress=plain -t spell:3 spell 2>out &&
	test "$(step_states out)" = "1:CACHED 2:CACHED 3:CACHED 4:DONE "
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY '--pull: the registry'"'"'s image of a tag that moved' '
	mkdir -p pullctx && printf "FROM $R/moving:1\nRUN cat /marker >/seen\n" >pullctx/Dockerfile &&
	rootfs_of $BB mroot && echo one >mroot/marker && tar -C mroot -cf m1.tar . &&
	kiln import m1.tar $R/moving:1 >/dev/null && kiln push --tls-verify=false $R/moving:1 &&
	kiln build -q -o type=local,dest=out1 --tls-verify=false pullctx >/dev/null &&
	echo one >expect && test_cmp expect out1/seen &&
	echo two >mroot/marker && tar -C mroot -cf m2.tar . &&
	KILN_ROOT=$TRASH/other kiln import m2.tar $R/moving:1 >/dev/null &&
	KILN_ROOT=$TRASH/other kiln push --tls-verify=false $R/moving:1 &&
	kiln build --progress=plain -o type=local,dest=out2 pullctx 2>log >/dev/null &&
	test_cmp expect out2/seen && test "$(step_states log)" = "1:CACHED 2:CACHED " &&
	kiln build --progress=plain --pull --tls-verify=false -o type=local,dest=out3 pullctx \
		2>log >/dev/null &&
	test_grep "load metadata for $R/moving:1" log &&
	echo two >expect && test_cmp expect out3/seen
'

test_done
