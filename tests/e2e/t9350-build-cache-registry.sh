#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A cache shared through a registry, the way a fleet of CI runners shares
# one: store A builds with --cache-to type=registry,mode=max; store B, fresh,
# with a copy of the context at another path and other mtimes, builds with
# --cache-from and runs nothing (every step CACHED, no RUN left a trace on
# B's side), gets the same image digest, and downloads only the layers the
# image is made of (the builder stage's stay in the registry). A change to
# one source file reruns only the steps after it.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

registry_for_tests cache
A=$TRASH/storeA
B=$TRASH/storeB

# states FILE: "[stage n/m] INSTR:CACHED" or ":DONE" per layer step
states() {
	grep -E '^#[0-9]+ \[[^]]+\] (RUN|COPY|ADD|WORKDIR)' "$1" |
	sed -E 's/^#([0-9]+) (\[[^]]+\] [A-Z]+).*/\1 \2/' | sort -u |
	while read -r id name; do
		if grep -q "^#$id CACHED$" "$1"; then echo "$name:CACHED"; else echo "$name:DONE"; fi
	done | sort
}

test_must_be_empty() {
	if [ -s "$1" ]; then
		echo "$1 is not empty:"
		cat "$1"
		return 1
	fi
}

# the RUNs that executed on a store leave a line in their cache mount
runs_on() {
	find "$1/build-cache-mounts" -name ran -type f -exec cat {} + 2>/dev/null | sort
}

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'setup: a base in the registry, a project' '
	KILN_ROOT=$A build_base &&
	KILN_ROOT=$A kiln push $BB $R/base/busybox:1 >/dev/null &&
	mkdir -p ctx/src &&
	echo one >ctx/src/a.c && echo two >ctx/src/b.c && echo docs >ctx/README &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $R/base/busybox:1 AS build
	RUN --mount=type=cache,target=/trace,id=trace echo build-deps >>/trace/ran && head -c 300000 /dev/urandom >/toolchain
	COPY src /src
	RUN --mount=type=cache,target=/trace,id=trace echo build-compile >>/trace/ran && cat /src/*.c >/out && date +%s%N >/built-at
	FROM $R/base/busybox:1
	COPY --from=build /out /app/out
	COPY README /app/
	RUN --mount=type=cache,target=/trace,id=trace echo final >>/trace/ran && wc -c /app/out >/app/size
	EOF
	cp -r ctx ctxA
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'store A builds and exports every step to the registry' '
	KILN_ROOT=$A kiln build --progress=plain --metadata-file mdA.json \
		--cache-to type=registry,ref=$R/cache/app:main,mode=max -t app:1 ctxA 2>outA &&
	grep -q "^#[0-9]* exporting cache to registry $R/cache/app:main" outA &&
	grep -q "writing cache image manifest sha256:" outA &&
	printf "build-compile\nbuild-deps\nfinal\n" >expect && runs_on $A >got && test_cmp expect got &&
	curl -fsS -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		http://$R/v2/cache/app/manifests/main >cache.json &&
	test "$(jq -r .config.mediaType cache.json)" = application/vnd.buildkit.cacheconfig.v0 &&
	test "$(jq ".layers | length" cache.json)" -ge 5 &&
	curl -fsS http://$R/v2/cache/app/blobs/$(jq -r .config.digest cache.json) >cfg.json &&
	test "$(jq "[.records[] | select(.kiln.ingredients)] | length" cfg.json)" -ge 6
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'a fresh store B, another checkout: nothing runs, same image' '
	cp -r ctx ctxB && find ctxB -exec touch -d "2001-02-03 04:05:06" {} + &&
	KILN_ROOT=$B kiln build --progress=plain --metadata-file mdB.json \
		--cache-from type=registry,ref=$R/cache/app:main -t app:1 ctxB 2>outB &&
	states outB >st && ! grep -v ":CACHED$" st && test "$(wc -l <st)" = 6 &&
	test "$(jq ".\"kiln.steps.cached\"" mdB.json)" = 6 &&
	runs_on $B >got && test_must_be_empty got &&
	test "$(jq -r .\"containerimage.digest\" mdB.json)" = \
	     "$(jq -r .\"containerimage.digest\" mdA.json)" &&
	KILN_ROOT=$B kiln run --rm app:1 cat /app/size >size && grep -q " /app/out" size
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'B downloaded only the layers of its image' '
	KILN_ROOT=$B kiln inspect app:1 | jq -r ".[0].Manifest.layers[].digest" | sort >image.layers &&
	jq -r ".layers[].digest" cache.json | sort >cache.layers &&
	comm -23 cache.layers image.layers >not-needed &&
	test -s not-needed &&
	for d in $(cat not-needed); do
		test ! -e "$B/blobs/sha256/${d#sha256:}" || { echo "fetched $d"; exit 1; }
	done &&
	for d in $(comm -12 cache.layers image.layers); do
		test -e "$B/blobs/sha256/${d#sha256:}" || { echo "missing $d"; exit 1; }
	done
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'a changed source file reruns only the steps after it' '
	echo ONE >ctxB/src/a.c &&
	KILN_ROOT=$B kiln build --progress=plain \
		--cache-from type=registry,ref=$R/cache/app:main -t app:2 ctxB 2>out2 &&
	states out2 >st &&
	cat >expect <<-\EOF &&
	[build 2/4] RUN:CACHED
	[build 3/4] COPY:DONE
	[build 4/4] RUN:DONE
	[stage-1 2/4] COPY:DONE
	[stage-1 3/4] COPY:DONE
	[stage-1 4/4] RUN:DONE
	EOF
	test_cmp expect st &&
	printf "build-compile\nfinal\n" >expect && runs_on $B >got && test_cmp expect got &&
	KILN_ROOT=$B kiln run --rm app:2 cat /app/out >o && printf "ONE\ntwo\n" >expect && test_cmp expect o
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'B exports back (--cache-from X --cache-to X): only what is new goes up' '
	KILN_ROOT=$B kiln build --progress=plain --cache-from type=registry,ref=$R/cache/app:main \
		--cache-to type=registry,ref=$R/cache/app:main,mode=max -t app:2 ctxB 2>out3 &&
	grep -q "writing cache image manifest" out3 &&
	rm -rf $TRASH/storeC && KILN_ROOT=$TRASH/storeC kiln build --progress=plain \
		--cache-from type=registry,ref=$R/cache/app:main -t app:2 ctxB 2>out4 &&
	states out4 >st && ! grep -v ":CACHED$" st
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,JQ 'mode=min: the image'"'"'s steps only' '
	KILN_ROOT=$A kiln build --progress=plain \
		--cache-to type=registry,ref=$R/cache/app:min -t app:1 ctxA 2>outmin &&
	curl -fsS -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		http://$R/v2/cache/app/manifests/min >min.json &&
	curl -fsS http://$R/v2/cache/app/blobs/$(jq -r .config.digest min.json) >mincfg.json &&
	jq -r ".records[].kiln.createdBy" mincfg.json | sort -u >created &&
	grep -q "^COPY /out /app/out" created && grep -q "^COPY README" created &&
	! grep -q "build-deps" created && ! grep -q "^COPY src" created
'

test_done
