#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN --mount=type=secret and kiln build --secret: a secret as a file (its
# default target, mode 0400, or the mount's target/mode/uid/gid, read-only)
# and as a variable, from a file or from kiln's environment, optional
# unless required; and a secret's value reaching nothing kiln keeps or
# writes: after builds that use it in every way, no blob, no file under the
# store, no output, progress line or metadata holds it.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# grep_all VALUE PATH...: every file under PATH (tar members extracted, each
# file also decompressed) that holds VALUE; empty output when none does
grep_all() {
	value=$1
	shift
	for top in "$@"; do
		find "$top" -type f 2>/dev/null
	done | while read -r f; do
		if grep -qaF "$value" "$f"; then
			echo "$f"
		fi
		case $(head -c 4 "$f" | od -An -tx1 | tr -d " ") in
		1f8b*) gzip -dc "$f" 2>/dev/null | grep -qaF "$value" && echo "$f (gunzip)" ;;
		28b52ffd) zstd -dc "$f" 2>/dev/null | grep -qaF "$value" && echo "$f (unzstd)" ;;
		esac
		if tar -tf "$f" >/dev/null 2>&1; then
			d=$(mktemp -d "$TRASH/untar.XXXXXX")
			tar -xf "$f" -C "$d" 2>/dev/null
			grep_all "$value" "$d" | sed "s|^|$f: |"
			rm -rf "$d"
		fi
	done
}

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup' '
	build_base && mkdir ctx &&
	SECRET="kiln-secret-$(od -An -tx8 -N8 /dev/urandom | tr -d " ")" &&
	printf %s "$SECRET" >secret.txt &&
	printf %s "$SECRET" | sha256sum | cut -d" " -f1 >secret.sum &&
	ENVSECRET="kiln-env-secret-$(od -An -tx8 -N8 /dev/urandom | tr -d " ")" &&
	printf %s "$ENVSECRET" >envsecret.txt &&
	printf %s "$ENVSECRET" | sha256sum | cut -d" " -f1 >envsecret.sum
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a secret variable reads **** in the step name, as in BuildKit' '
	mkdir masked &&
	cat >masked/Dockerfile <<-"EOF" &&
	FROM localhost/busybox:test
	ENV A=1
	RUN --mount=type=secret,id=tok,env=TOKEN test -n "$TOKEN$A"
	EOF
	kiln build --progress=plain --secret id=tok,src=secret.txt masked >/dev/null 2>progress &&
	test_grep "RUN --mount=type=secret,id=tok,env=TOKEN test -n \"\*\*\*\*1\"$" progress &&
	! grep -F "$(cat secret.txt)" progress
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a secret as a file and as a variable, used every way' '
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM localhost/busybox:test
	RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d" " -f1 >/file.sum && \
		stat -c "%a %u:%g" /run/secrets/tok >/file.perm
	RUN --mount=type=secret,id=tok,env=TOKEN sh -c "printf %s \"\$TOKEN\" | sha256sum | cut -d\" \" -f1 >/env.sum; test -e /run/secrets/tok || echo no-file >/env.nofile"
	RUN --mount=type=secret,id=tok,env=TOKEN2,target=/etc/app/tok,mode=0440,uid=1000,gid=1000 \
		sh -c "stat -c \"%a %u:%g\" /etc/app/tok >/both.perm; test \"\$(cat /etc/app/tok)\" = \"\$TOKEN2\" && echo same >/both.same"
	RUN --mount=type=secret,id=tok cat /run/secrets/tok >/dev/null
	RUN --mount=type=secret,id=tok sh -c "(cat /run/secrets/tok >/run/secrets/tok) 2>/dev/null || echo refused >>/write; (cat /run/secrets/tok >/run/secrets/tok/copy) 2>/dev/null || echo refused >>/write"
	RUN --mount=type=secret,id=envtok,env=FROMENV sh -c "printf %s \"\$FROMENV\" | sha256sum | cut -d\" \" -f1 >/fromenv.sum"
	RUN --mount=type=secret,id=missing sh -c "test -e /run/secrets/missing || echo skipped >/missing"
	RUN echo something-else
	EOF
	KILN_TEST_SECRET=$(cat envsecret.txt) &&
	export KILN_TEST_SECRET &&
	kiln --debug build --progress=plain -t sec:1 --secret id=tok,src=secret.txt \
		--secret id=envtok,env=KILN_TEST_SECRET --metadata-file md.json --iidfile iid \
		-o type=image -o type=oci,dest=out.oci.tar -o type=docker,dest=out.docker.tar \
		-o type=local,dest=out.rootfs -o type=tar,dest=out.rootfs.tar ctx >progress 2>&1 &&
	test_grep "something-else" progress &&
	r=out.rootfs &&
	test_cmp secret.sum $r/file.sum && test_cmp secret.sum $r/env.sum &&
	test_cmp envsecret.sum $r/fromenv.sum &&
	echo "400 0:0" >expect && test_cmp expect $r/file.perm &&
	echo no-file >expect && test_cmp expect $r/env.nofile &&
	echo "440 1000:1000" >expect && test_cmp expect $r/both.perm &&
	echo same >expect && test_cmp expect $r/both.same &&
	printf "refused\nrefused\n" >expect && test_cmp expect $r/write &&
	echo skipped >expect && test_cmp expect $r/missing &&
	! test -e $r/run/secrets && ! test -e $r/etc/app
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a relative target is under WORKDIR, as BuildKit puts it' '
	mkdir -p relctx && cat >relctx/Dockerfile <<-"EOF" &&
	FROM localhost/busybox:test
	WORKDIR /w
	RUN --mount=type=secret,id=tok,target=rel/tok sh -c "test -f /w/rel/tok && ! test -e /rel && echo under-w >/where"
	RUN --mount=type=secret,target=.npmrc sh -c "test -f /w/.npmrc && echo npmrc >>/where"
	EOF
	kiln build -q --secret id=tok,src=secret.txt --secret id=.npmrc,src=secret.txt \
		-o type=local,dest=relout relctx >/dev/null &&
	printf "under-w\nnpmrc\n" >expect && test_cmp expect relout/where &&
	! test -e relout/w/rel && ! test -e relout/w/.npmrc
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the values are nowhere: store, outputs, progress, metadata, config' '
	kiln inspect sec:1 >inspect.json &&
	kiln save -o saved.tar sec:1 &&
	for v in "$(cat secret.txt)" "$(cat envsecret.txt)"; do
		grep_all "$v" store out.oci.tar out.docker.tar out.rootfs out.rootfs.tar \
			saved.tar progress md.json iid inspect.json >>hits
	done &&
	test ! -s hits &&
	# the check itself finds a value where there is one
	grep_all "$(cat secret.txt)" secret.txt >found && test -s found
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a new value does not change the cache key' '
	printf %s "another-value" >secret2.txt &&
	KILN_TEST_SECRET=x kiln build -q --metadata-file md2.json --secret id=tok,src=secret2.txt \
		--secret id=envtok,env=KILN_TEST_SECRET ctx >/dev/null &&
	test "$(jq ".\"kiln.steps.cached\"" md2.json)" = "$(jq ".\"kiln.steps.total\"" md2.json)"
'

test_expect_success ROOT,OVERLAY,BUSYBOX '--secret id=X alone: the variable X, else the file X' '
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM localhost/busybox:test
	RUN --mount=type=secret,id=KILN_T_VAR,required cat /run/secrets/KILN_T_VAR >/fromvar
	RUN --mount=type=secret,id=afile,required cat /run/secrets/afile >/file
	RUN --mount=type=secret,id=typed,env=T,required sh -c "echo \$T" >/typed
	EOF
	echo from-file >afile &&
	KILN_T_VAR=from-var KILN_T2=typed-var kiln build -q --secret id=KILN_T_VAR \
		--secret id=afile --secret type=env,id=typed,src=KILN_T2 -o type=local,dest=alone ctx \
		>/dev/null &&
	printf from-var >expect && test_cmp expect alone/fromvar &&
	echo from-file >expect && test_cmp expect alone/file &&
	echo typed-var >expect && test_cmp expect alone/typed
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'bad --secret values: usage errors, missing and big files' '
	test_expect_code 2 kiln build --secret src=secret.txt ctx 2>err &&
	test_grep "secret missing ID" err &&
	test_expect_code 2 kiln build --secret id=a,type=ssh ctx 2>err &&
	test_grep "unsupported secret type \"ssh\"" err &&
	test_expect_code 2 kiln build --secret id=a,what=b ctx 2>err &&
	test_grep "unexpected key .what. in .what=b." err &&
	test_expect_code 1 kiln build --secret id=a,src=nowhere ctx 2>err &&
	test_grep "failed to stat nowhere" err &&
	head -c 600000 /dev/zero >big &&
	test_expect_code 1 kiln build --secret id=big,src=big ctx 2>err &&
	test_grep "secret big too big. max size 500KB" err
'

test_done
