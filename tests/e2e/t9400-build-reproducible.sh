#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Reproducible images: with SOURCE_DATE_EPOCH and rewrite-timestamp=true, a
# multi-stage build (RUN making files and directories and touching existing
# ones, COPY from the context, ADD of a local archive and of a URL) gives the
# same manifest digest on two stores, at two moments, after the context's
# files were touched, with --no-cache, and from a copy of the context at
# another path. Without rewrite-timestamp (BuildKit's default) the config is
# dated but the layers keep their times.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

EPOCH=1700000000
TZ=UTC
export TZ

. "$KILN_SOURCE_ROOT/tests/helper/http-lib.sh"
http_start
trap http_stop EXIT

# The manifest digest of an OCI layout directory's only image.
manifest_of() {
	jq -r '.manifests[0].digest' "$1/index.json"
}

blob() {
	echo "$1/blobs/sha256/${2#sha256:}"
}

# Compare two OCI layout directories; on a difference, say which blob
# differs and, for a layer, the first tar entry that differs.
same_image() {
	ma=$(manifest_of "$1") && mb=$(manifest_of "$2") || return 1
	[ "$ma" = "$mb" ] && return 0
	echo "the manifests differ: $1 has $ma, $2 has $mb"
	ca=$(jq -r .config.digest "$(blob "$1" "$ma")")
	cb=$(jq -r .config.digest "$(blob "$2" "$mb")")
	if [ "$ca" != "$cb" ]; then
		echo "the configs differ ($ca, $cb):"
		jq -S . "$(blob "$1" "$ca")" >cfg-a.json
		jq -S . "$(blob "$2" "$cb")" >cfg-b.json
		diff -u cfg-a.json cfg-b.json | head -n 30
	fi
	n=$(jq '.layers | length' "$(blob "$1" "$ma")")
	i=0
	while [ "$i" -lt "$n" ]; do
		la=$(jq -r ".layers[$i].digest" "$(blob "$1" "$ma")")
		lb=$(jq -r ".layers[$i].digest" "$(blob "$2" "$mb")")
		if [ "$la" != "$lb" ]; then
			echo "layer $i differs ($la, $lb); the first entries that differ:"
			tar -tv --full-time --numeric-owner -f "$(blob "$1" "$la")" >tar-a.txt
			tar -tv --full-time --numeric-owner -f "$(blob "$2" "$lb")" >tar-b.txt
			diff tar-a.txt tar-b.txt | grep '^[<>]' | head -n 4
			return 1
		fi
		i=$((i + 1))
	done
	return 1
}

# build STORE OUT [kiln build options...]: the context ctx/ into the OCI
# layout directory OUT, with the store STORE
build() {
	store=$1 out=$2
	shift 2
	rm -rf "$out" &&
	KILN_ROOT=$TRASH/$store kiln build -q -t repro:x -o type=image \
		-o "type=oci,dest=$out,tar=false" "$@" ctx >/dev/null
}

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'setup: the same base in two stores, a context, a URL' '
	build_base &&
	kiln save --format oci-archive -o base.tar "$BB" &&
	KILN_ROOT=$TRASH/store2 kiln load -q -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/store3 kiln load -q -i base.tar >/dev/null &&
	mkdir -p ctx/src/sub bundle/etc &&
	echo "int main(void) { return 0; }" >ctx/src/main.c &&
	echo "nested" >ctx/src/sub/notes.txt &&
	echo "application" >ctx/app.txt &&
	echo "bundled" >bundle/etc/bundled.conf &&
	tar -C bundle -czf ctx/bundle.tar.gz etc &&
	echo "from the web" >www/remote.txt &&
	touch -d "2020-01-02 03:04:05 UTC" www/remote.txt &&
	cat >ctx/Dockerfile <<-EOF
	FROM $BB AS build
	WORKDIR /work
	COPY src/ ./src/
	RUN mkdir -p out/deep/er && cat src/main.c >out/main.o && echo built >out/deep/er/x && \
	    ln -s main.o out/link && touch /etc/passwd && hostname >out/host
	ADD bundle.tar.gz /opt/bundle/
	ADD http://127.0.0.1:$PORT/remote.txt /opt/remote.txt

	FROM $BB
	COPY --from=build /work/out /app/
	COPY --from=build /opt /opt
	COPY app.txt /app/
	RUN mkdir -p /data/new && echo data >/data/new/f && touch /etc/group /bin
	ADD bundle.tar.gz /bundle/
	EOF
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'two stores, two moments, touched sources: one digest' '
	build store a.oci --source-date-epoch $EPOCH -o type=image,rewrite-timestamp=true &&
	sleep 2 &&
	touch ctx/app.txt ctx/src/main.c ctx/src/sub/notes.txt ctx/src ctx/bundle.tar.gz &&
	build store2 b.oci --source-date-epoch $EPOCH -o type=image,rewrite-timestamp=true &&
	same_image a.oci b.oci &&
	test "$(jq -r .created "$(blob a.oci "$(jq -r .config.digest \
		"$(blob a.oci "$(manifest_of a.oci)")")")")" = "2023-11-14T22:13:20Z"
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'every time in the layers is at most the epoch' '
	for l in $(jq -r ".layers[1:][].digest" "$(blob a.oci "$(manifest_of a.oci)")"); do
		tar -tv --full-time -f "$(blob a.oci "$l")" || return 1
	done >entries &&
	test -s entries &&
	! awk -v e="$(date -u -d @$EPOCH "+%F %T")" "(\$4 \" \" \$5) > e" entries | grep . &&
	test_grep " app/host" entries
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 '--no-cache rebuilds give the same digest' '
	sleep 1 &&
	build store c.oci --source-date-epoch $EPOCH -o type=image,rewrite-timestamp=true \
		--no-cache &&
	same_image a.oci c.oci
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'SOURCE_DATE_EPOCH from the environment, the context at another path' '
	mkdir elsewhere && cp -r ctx elsewhere/ctx && rm -rf ctx && mv elsewhere/ctx ctx &&
	(SOURCE_DATE_EPOCH=$EPOCH &&
	 export SOURCE_DATE_EPOCH &&
	 build store3 d.oci -o type=image,rewrite-timestamp=true) &&
	same_image a.oci d.oci
'

# The times are rewritten at export, as BuildKit does, so the epoch is in no
# step's key: the next commit (a new epoch) finds every step in the cache,
# and its image is the one a store that ran every step makes. (WORKDIR and
# heredoc files are dated with the epoch, in BuildKit too: none here.)
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a new epoch runs no step again and gives what a fresh store gives' '
	mkdir ctx-e && echo one >ctx-e/app.txt &&
	cat >ctx-e/Dockerfile <<-EOF &&
	FROM $BB AS app
	COPY app.txt /app/
	FROM app
	RUN mkdir -p /data/d && echo made >/data/d/f && touch /etc/group
	EOF
	E2=$((EPOCH + 86400)) &&
	rw="-o type=image,rewrite-timestamp=true" &&
	KILN_ROOT=$TRASH/store kiln build -q -t e:1 --source-date-epoch $EPOCH $rw ctx-e >/dev/null &&
	sleep 1 &&
	KILN_ROOT=$TRASH/store kiln build --progress=plain -t e:2 --source-date-epoch $E2 $rw \
		-o type=oci,dest=e2.oci,tar=false ctx-e 2>out >/dev/null &&
	! grep "cache miss" out &&
	ls $TRASH/store/blobs/sha256 >blobs.before &&
	KILN_ROOT=$TRASH/store kiln build -q -t e:2 --source-date-epoch $E2 $rw ctx-e >/dev/null &&
	ls $TRASH/store/blobs/sha256 >blobs.after &&
	test_cmp blobs.before blobs.after &&
	KILN_ROOT=$TRASH/store4 kiln load -q -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/store4 kiln build -q --source-date-epoch $E2 $rw \
		-o type=oci,dest=f2.oci,tar=false ctx-e >/dev/null &&
	same_image e2.oci f2.oci &&
	KILN_ROOT=$TRASH/store kiln inspect "$BB" | jq -r ".[0].Manifest.layers[0].digest" >base.layer &&
	jq -r ".layers[0].digest" "$(blob e2.oci "$(manifest_of e2.oci)")" >image.layer &&
	test_cmp base.layer image.layer &&
	KILN_ROOT=$TRASH/store kiln run --rm e:2 cat /data/d/f >got &&
	echo made >expect && test_cmp expect got &&
	KILN_ROOT=$TRASH/store kiln build -q --source-date-epoch $E2 $rw --cache-to type=inline \
		ctx-e 2>err >/dev/null &&
	test_grep "type=inline: no records with rewrite-timestamp=true" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'without rewrite-timestamp, the config is dated but layers keep their times' '
	build store e.oci --source-date-epoch $EPOCH &&
	sleep 1 &&
	build store2 f.oci --source-date-epoch $EPOCH --no-cache &&
	! same_image e.oci f.oci >why &&
	test_grep "layer . differs" why &&
	cfg repro:x .Created >created &&
	echo "\"2023-11-14T22:13:20Z\"" >expect && test_cmp expect created
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a bad SOURCE_DATE_EPOCH is a usage error' '
	test_expect_code 2 kiln build --source-date-epoch yesterday ctx 2>err &&
	test_grep "source-date-epoch is seconds since 1970" err &&
	SOURCE_DATE_EPOCH=-5 test_expect_code 2 kiln build ctx 2>err &&
	test_grep "SOURCE_DATE_EPOCH in the environment" err &&
	test_expect_code 2 kiln build --build-arg SOURCE_DATE_EPOCH=1.5 ctx 2>err &&
	test_grep "build arg SOURCE_DATE_EPOCH" err
'

test_done
