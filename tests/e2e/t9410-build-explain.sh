#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Explained cache misses: after a first build, change a source file, a
# build arg, an instruction, the base image; each rebuild says in its plain
# progress and in --metadata-file (kiln.cache.misses) why every step that
# ran was not cached, and nothing for the steps that were. A value taken
# from the environment is never shown; --no-cache and a pruned layer say so.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# the plain lines of one step: "#N cache miss: ..." after its header
miss_lines() {
	awk -v step="$1" '
		/^#[0-9]+ \[/ { id = $1; name = substr($0, length($1) + 2) }
		/^#[0-9]+ cache miss: / && $1 == id && name == step {
			print substr($0, length($1) + 14)
		}' "$2"
}

# the metadata's miss of one step, as "reason|message"
miss_json() {
	jq -r --arg s "$1" '."kiln.cache.misses"[] | select(.step == $s) |
		.reason + "|" + .message' "$2"
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a two-stage project, built once' '
	build_base &&
	mkdir -p ctx/src &&
	echo "one" >ctx/src/a.txt &&
	echo "two" >ctx/src/b.txt &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB AS build
	ARG LEVEL=1
	COPY src/ /src/
	RUN cat /src/a.txt /src/b.txt >/out && echo \$LEVEL >>/out

	FROM $BB
	COPY --from=build /out /app/out
	RUN echo final >/app/final
	EOF
	kiln build --progress=plain --metadata-file m0.json -t ex ctx 2>out0 &&
	test "$(miss_lines "[build 2/3] COPY src/ /src/" out0)" = \
		"no earlier build of this step (the Dockerfile, context or store is new to it)" &&
	test "$(jq -r "[.\"kiln.cache.misses\"[].reason] | unique | join(\",\")" m0.json)" = new
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a no-op rebuild misses nothing and says nothing' '
	kiln build --progress=plain --metadata-file m1.json ctx 2>out1 &&
	! grep "cache miss" out1 &&
	test "$(jq ".\"kiln.cache.misses\" | length" m1.json)" = 0
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a changed source file: its path and both digests' '
	old=$(sha256sum ctx/src/a.txt | cut -c1-12) &&
	echo "one, edited" >ctx/src/a.txt &&
	new=$(sha256sum ctx/src/a.txt | cut -c1-12) &&
	kiln build --progress=plain --metadata-file m2.json ctx 2>out2 &&
	echo "1 source file changed: src/a.txt (sha256:$old → sha256:$new)" >expect &&
	miss_lines "[build 2/3] COPY src/ /src/" out2 >got && test_cmp expect got &&
	echo "sources|1 source file changed: src/a.txt (sha256:$old → sha256:$new)" >expect &&
	miss_json "[build 2/3] COPY src/ /src/" m2.json >got && test_cmp expect got &&
	jq -e --arg old "$old" --arg new "$new" ".\"kiln.cache.misses\"[0] |
		.files_changed == 1 and (.details[0] | .kind == \"file\" and
		.name == \"src/a.txt\" and (.old | contains(\"sha256:\" + \$old)) and
		(.new | contains(\"sha256:\" + \$new)))" m2.json >/dev/null &&
	echo "the step before it was rebuilt (the first miss: [build 2/3] COPY src/ /src/)" \
		>expect &&
	miss_lines "[build 3/3] RUN cat /src/a.txt /src/b.txt >/out && echo 1 >>/out" out2 >got &&
	test_cmp expect got &&
	miss_lines "[stage-1 2/3] COPY --from=build /out /app/out" out2 >got &&
	test_grep "^1 source file changed: out (sha256:" got &&
	echo "parent" >expect &&
	jq -r ".\"kiln.cache.misses\"[] | select(.step == \"[stage-1 3/3] RUN echo final >/app/final\") |
		.reason" m2.json >got && test_cmp expect got
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'many changed files: five named, the rest counted' '
	for i in 1 2 3 4 5 6 7; do echo "$i" >ctx/src/n$i.txt || return 1; done &&
	kiln build --progress=plain --metadata-file m3.json ctx 2>out3 &&
	miss_lines "[build 2/3] COPY src/ /src/" out3 >got &&
	test_grep "^7 source files changed: src/n1.txt (added), .*src/n5.txt (added), and 2 more$" got &&
	test "$(jq ".\"kiln.cache.misses\"[0].files_changed" m3.json)" = 7
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a build arg: its name and values; from the environment, hidden' '
	kiln build --progress=plain --metadata-file m4.json --build-arg LEVEL=2 ctx 2>out4 &&
	echo "build arg LEVEL changed: 1 → 2" >expect &&
	miss_lines "[build 3/3] RUN cat /src/a.txt /src/b.txt >/out && echo 2 >>/out" out4 >got &&
	test_cmp expect got &&
	echo "args|build arg LEVEL changed: 1 → 2" >expect &&
	miss_json "[build 3/3] RUN cat /src/a.txt /src/b.txt >/out && echo 2 >>/out" m4.json \
		>got && test_cmp expect got &&
	! grep "COPY src/ /src/" out4 | grep -q "cache miss" &&
	LEVEL=topsecret kiln build --progress=plain --metadata-file m5.json --build-arg LEVEL \
		ctx 2>out5 &&
	echo "build arg LEVEL changed: 2 → (not shown)" >expect &&
	grep "cache miss: build arg" out5 | sed "s/^#[0-9]* cache miss: //" >got &&
	test_cmp expect got &&
	! grep "cache miss" out5 | grep topsecret &&
	! jq -c ".\"kiln.cache.misses\"[] | [.message, .summary, .details]" m5.json |
		grep topsecret &&
	kiln build -q --build-arg LEVEL=2 ctx >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an edited instruction: old and new text' '
	sed -i "s|RUN echo final >/app/final|RUN echo final >/app/final \&\& echo more|" \
		ctx/Dockerfile &&
	kiln build --progress=plain --metadata-file m6.json --build-arg LEVEL=2 ctx 2>out6 &&
	echo "the instruction changed: RUN echo final >/app/final → RUN echo final >/app/final && echo more" \
		>expect &&
	miss_lines "[stage-1 3/3] RUN echo final >/app/final && echo more" out6 >got &&
	test_cmp expect got &&
	test "$(jq -r ".\"kiln.cache.misses\" | length" m6.json)" = 1
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an ENV or a WORKDIR added above a step: still compared with that step' '
	sed -i "s|^FROM $BB\$|&\nENV ADDED=1|" ctx/Dockerfile &&
	grep -q "^ENV ADDED=1$" ctx/Dockerfile &&
	kiln build --progress=plain --build-arg LEVEL=2 ctx 2>out7 &&
	echo "environment changed: ADDED" >expect &&
	miss_lines "[stage-1 3/3] RUN echo final >/app/final && echo more" out7 >got &&
	test_cmp expect got &&
	sed -i "s|^ENV ADDED=1$|WORKDIR /wd|" ctx/Dockerfile &&
	kiln build --progress=plain --build-arg LEVEL=2 ctx 2>out8 &&
	test_grep "cache miss: WORKDIR changed: / → /wd" out8 &&
	! grep "instruction changed" out8 &&
	sed -i "/^WORKDIR \/wd$/d" ctx/Dockerfile &&
	kiln build -q --build-arg LEVEL=2 ctx >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a new base image: both digests, and every step on it' '
	old=$(kiln inspect "$BB" | jq -r ".[0].Digest" | cut -c1-19) &&
	kiln build -q -t "$BB" - >/dev/null <<-EOF &&
	FROM $BB
	RUN echo rebuilt >/etc/based
	EOF
	new=$(kiln inspect "$BB" | jq -r ".[0].Digest" | cut -c1-19) &&
	kiln build --progress=plain --metadata-file m7.json --build-arg LEVEL=2 ctx 2>out7 &&
	miss_lines "[build 2/3] COPY src/ /src/" out7 >got &&
	test_grep "^the base image .*busybox:test changed: $old → $new$" got &&
	test "$(jq -r ".\"kiln.cache.misses\"[0].reason" m7.json)" = base
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--no-cache and a pruned layer say so' '
	kiln build --progress=plain --no-cache --metadata-file m8.json --build-arg LEVEL=2 \
		ctx 2>out8 &&
	test "$(grep -c "cache miss: --no-cache" out8)" = 4 &&
	test "$(jq -r "[.\"kiln.cache.misses\"[].reason] | unique | join(\",\")" m8.json)" = no-cache &&
	kiln rmi ex >/dev/null && kiln prune >/dev/null &&
	kiln build --progress=plain --build-arg LEVEL=2 ctx 2>out9 &&
	test_grep "cache miss: the cache had this step, but its layer was removed (kiln prune)" out9
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a step taken from a remote cache without its layer: not blamed on prune' '
	kiln build -q --build-arg LEVEL=3 --cache-to type=local,dest=rc,mode=max ctx >/dev/null &&
	kiln save --format oci-archive -o rbase.tar $BB &&
	rm -rf $TRASH/fresh && KILN_ROOT=$TRASH/fresh kiln load -i rbase.tar >/dev/null &&
	KILN_ROOT=$TRASH/fresh kiln build --progress=plain --build-arg LEVEL=3 \
		--cache-from type=local,src=rc ctx 2>r1 &&
	! grep "cache miss" r1 &&
	KILN_ROOT=$TRASH/fresh kiln build --progress=plain --metadata-file mr.json \
		--build-arg LEVEL=4 ctx 2>r2 &&
	echo "an earlier build took this step from the cache rc without fetching its layer: give --cache-from rc again to use it" >expect &&
	miss_lines "[build 2/3] COPY src/ /src/" r2 >got && test_cmp expect got &&
	test "$(miss_json "[build 2/3] COPY src/ /src/" mr.json | cut -d"|" -f1)" = remote &&
	! grep "kiln prune" r2 &&
	miss_lines "[stage-1 2/3] COPY --from=build /out /app/out" r2 >got &&
	! grep "no earlier build" got
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SCRIPT 'tty progress puts a short reason on the step line' '
	echo "one, again" >ctx/src/a.txt &&
	script -qec "$KILN build --progress=tty --build-arg LEVEL=2 ctx" /dev/null >tty.out &&
	tr "\r" "\n" <tty.out >tty.txt &&
	test_grep "COPY src/ /src/ (cache miss: src/a.txt changed)" tty.txt
'

test_done
