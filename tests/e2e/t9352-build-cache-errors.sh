#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Remote caches that are missing, unreachable, corrupt or another builder's
# are warnings naming them, and the build goes on (as in BuildKit); records
# whose ingredients do not hash to their key, or whose layer is not on the
# layer of their parent's record, are ignored; a failed export
# fails the build unless ignore-error=true; caches behind authentication
# use the registry's credentials (--creds, the docker config); bad options
# are usage errors.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"
. "$KILN_SOURCE_ROOT/tests/helper/registry-lib.sh"
trap registry_stop_all EXIT

if test_have_prereq REGISTRY,HTPASSWD; then
	registry_start open || echo "# the registry did not start"
	htpasswd -Bbn ci 'cache-pass' >htpasswd &&
	registry_start auth htpasswd "$TRASH/htpasswd" || echo "# the auth registry did not start"
	R=127.0.0.1:$(registry_port open)
	S=127.0.0.1:$(registry_port auth)
else
	R=127.0.0.1:1 S=127.0.0.1:1
fi
export R S

# cached_steps FILE: how many layer steps the progress shows CACHED
cached_steps() {
	n=0
	for id in $(sed -n -E 's/^#([0-9]+) \[[^]]+\] (RUN|COPY|ADD|WORKDIR) .*/\1/p' "$1" | sort -u); do
		grep -q "^#$id CACHED$" "$1" && n=$((n + 1))
	done
	echo $n
}

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'setup: a project' '
	build_base && mkdir -p ctx && echo data >ctx/f &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	COPY f /f
	RUN cat /f >/g
	EOF
	kiln build -q --cache-to type=local,dest=$TRASH/good,mode=max ctx >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'a cache that is not there is a warning (once, when given twice)' '
	kiln build --progress=plain --cache-from type=registry,ref=$R/nothing:here \
		--cache-from type=local,src=$TRASH/no-such-dir --cache-from $R/nothing:here ctx 2>out &&
	test_grep "WARNING: cache $R/nothing:here not found" out &&
	test_grep "WARNING: cache $TRASH/no-such-dir not found" out &&
	test "$(grep -c "WARNING: cache $R/nothing:here not found" out)" = 1
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an unreachable registry is a warning' '
	port=$(reg_free_port) &&
	kiln build --progress=plain --cache-from 127.0.0.1:$port/cache:x ctx 2>out &&
	test_grep "WARNING: cache 127.0.0.1:$port/cache:x is unusable" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a corrupt cache config is a warning naming the cache' '
	cp -r good bad &&
	root=$(jq -r ".manifests[0].digest" bad/index.json) &&
	cfg=$(jq -r ".manifests[-1].digest" bad/blobs/sha256/${root#sha256:}) &&
	echo "{\"layers\": 1}" >bad/blobs/sha256/${cfg#sha256:} &&
	kiln build --progress=plain --cache-from type=local,src=$TRASH/bad ctx 2>out &&
	test_grep "WARNING: cache $TRASH/bad is unusable: .*hashes to" out &&
	n=$(stat -c %s bad/blobs/sha256/${cfg#sha256:}) && h=$(sha256sum bad/blobs/sha256/${cfg#sha256:} | cut -d" " -f1) &&
	mv bad/blobs/sha256/${cfg#sha256:} bad/blobs/sha256/$h &&
	jq ".manifests[-1].digest = \"sha256:$h\" | .manifests[-1].size = $n" \
		bad/blobs/sha256/${root#sha256:} >idx && rh=$(sha256sum idx | cut -d" " -f1) &&
	mv idx bad/blobs/sha256/$rh && jq ".manifests[0].digest = \"sha256:$rh\" | .manifests[0].size = $(stat -c %s bad/blobs/sha256/$rh)" \
		bad/index.json >i2 && mv i2 bad/index.json &&
	kiln build --progress=plain --cache-from type=local,src=$TRASH/bad ctx 2>out &&
	test_grep "WARNING: cache $TRASH/bad is unusable: .*invalid cache config: layers: want an array" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'records that do not hash to their key are ignored' '
	cp -r good forged &&
	root=$(jq -r ".manifests[0].digest" forged/index.json) &&
	cfg=$(jq -r ".manifests[-1].digest" forged/blobs/sha256/${root#sha256:}) &&
	jq ".records[].kiln.ingredients[0][1] = \"forged\"" forged/blobs/sha256/${cfg#sha256:} >c2 &&
	h=$(sha256sum c2 | cut -d" " -f1) && n=$(stat -c %s c2) && mv c2 forged/blobs/sha256/$h &&
	jq ".manifests[-1].digest = \"sha256:$h\" | .manifests[-1].size = $n" \
		forged/blobs/sha256/${root#sha256:} >idx && rh=$(sha256sum idx | cut -d" " -f1) &&
	mv idx forged/blobs/sha256/$rh &&
	jq ".manifests[0].digest = \"sha256:$rh\" | .manifests[0].size = $(stat -c %s forged/blobs/sha256/$rh)" \
		forged/index.json >i2 && mv i2 forged/index.json &&
	rm -rf $TRASH/s2 && KILN_ROOT=$TRASH/s2 build_base && KILN_ROOT=$TRASH/s2 kiln build --progress=plain \
		--cache-from type=local,src=$TRASH/forged ctx 2>out &&
	test_grep "WARNING: cache $TRASH/forged: 2 records ignored" out &&
	test "$(cached_steps out)" = 0
'

test_expect_success ROOT,OVERLAY,BUSYBOX,PYTHON3 'a record whose layer is not on its parent'"'"'s is ignored' '
	cp -r good swapped &&
	python3 - swapped <<-\PY &&
	import hashlib, json, os, sys
	d = sys.argv[1]
	def blob(dg): return os.path.join(d, "blobs", "sha256", dg.split(":")[1])
	def put(obj):
	    data = json.dumps(obj).encode()
	    dg = "sha256:" + hashlib.sha256(data).hexdigest()
	    open(blob(dg), "wb").write(data)
	    return dg, len(data)
	index = json.load(open(os.path.join(d, "index.json")))
	root = json.load(open(blob(index["manifests"][0]["digest"])))
	cfg = json.load(open(blob(root["manifests"][-1]["digest"])))
	keys = {r["digest"]: r for r in cfg["records"]}
	for r in cfg["records"]:
	    parent = dict(r["kiln"]["ingredients"]).get("parent")
	    if parent in keys:  # the RUN, on the COPY: claim the layer of the COPY
	        r["layers"][0]["layer"] = keys[parent]["layers"][0]["layer"]
	root["manifests"][-1]["digest"], root["manifests"][-1]["size"] = put(cfg)
	index["manifests"][0]["digest"], index["manifests"][0]["size"] = put(root)
	json.dump(index, open(os.path.join(d, "index.json"), "w"))
	PY
	kiln save --format oci-archive -o base3.tar $BB && rm -rf $TRASH/s3 &&
	KILN_ROOT=$TRASH/s3 kiln load -i base3.tar >/dev/null &&
	KILN_ROOT=$TRASH/s3 kiln build --progress=plain -o type=local,dest=swapped-out \
		--cache-from type=local,src=$TRASH/swapped ctx 2>out &&
	test_grep "WARNING: cache $TRASH/swapped: 1 record ignored (.*not on its parent" out &&
	test "$(cached_steps out)" = 1 &&
	echo data >expect && test_cmp expect swapped-out/g
'

# A layer is the same blob in every cache: one that a cache lost (its
# registry pruned it) comes from the next cache that lists it.
test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a blob missing from one cache comes from the next' '
	rm -rf lost && cp -r good lost &&
	m=$(jq -r ".manifests[0].digest" lost/index.json) &&
	jq -r ".manifests[] | select(.mediaType | test(\"layer\")) | .digest" \
		"lost/blobs/sha256/${m#sha256:}" >layers &&
	test -s layers &&
	while read -r l; do rm "lost/blobs/sha256/${l#sha256:}" || return 1; done <layers &&
	kiln save --format oci-archive -o base-lost.tar $BB &&
	rm -rf s5 && KILN_ROOT=$TRASH/s5 kiln load -q -i base-lost.tar >/dev/null &&
	KILN_ROOT=$TRASH/s5 kiln build --progress=plain --cache-from type=local,src=$TRASH/lost \
		--cache-from type=local,src=$TRASH/good -t fell:back ctx >/dev/null 2>out &&
	test "$(cached_steps out)" = 2 &&
	test_grep "WARNING: cache $TRASH/lost: .*; trying the other caches" out &&
	KILN_ROOT=$TRASH/s5 kiln run --rm fell:back cat /g >g && echo data >expect && test_cmp expect g &&
	rm -rf s6 && KILN_ROOT=$TRASH/s6 kiln load -q -i base-lost.tar >/dev/null &&
	(export KILN_ROOT=$TRASH/s6 &&
	 test_must_fail kiln build -q --cache-from type=local,src=$TRASH/lost ctx >/dev/null 2>err) &&
	test_grep "promised could not be used" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,JQ 'a cache BuildKit wrote is recognised as another builder'"'"'s' '
	mkdir -p bk/blobs/sha256 &&
	printf "%s" "{\"layers\":[{\"blob\":\"sha256:$(printf %064d 1)\",\"parent\":-1}],\"records\":[{\"digest\":\"sha256:$(printf %064d 2)\",\"layers\":[{\"layer\":0,\"createdAt\":\"2024-01-01T00:00:00Z\"}]}]}" >c &&
	ch=$(sha256sum c | cut -d" " -f1) && mv c bk/blobs/sha256/$ch &&
	printf "%s" "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$(printf %064d 1)\",\"size\":10},{\"mediaType\":\"application/vnd.buildkit.cacheconfig.v0\",\"digest\":\"sha256:$ch\",\"size\":$(stat -c %s bk/blobs/sha256/$ch)}]}" >m &&
	mh=$(sha256sum m | cut -d" " -f1) && mv m bk/blobs/sha256/$mh &&
	printf "%s" "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:$mh\",\"size\":$(stat -c %s bk/blobs/sha256/$mh),\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}" >bk/index.json &&
	kiln build --progress=plain --cache-from type=local,src=$TRASH/bk ctx 2>out &&
	test_grep "WARNING: cache $TRASH/bk is unusable: it was not written by kiln" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY 'an image without an inline cache, as a cache, is a warning' '
	kiln build -q -t $R/plain/img:1 --push ctx >/dev/null &&
	kiln build --progress=plain --cache-from $R/plain/img:1 ctx 2>out &&
	test_grep "WARNING: cache $R/plain/img:1 is unusable: .*an image without an inline cache" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a failed export fails the build; ignore-error=true makes it a warning' '
	echo file >not-a-dir &&
	test_expect_code 1 kiln build --progress=plain -t err:1 \
		--cache-to type=local,dest=$TRASH/not-a-dir/cache ctx 2>out &&
	test_grep "^error: cache $TRASH/not-a-dir/cache" out &&
	kiln build --progress=plain -t err:2 \
		--cache-to type=local,dest=$TRASH/not-a-dir/cache,ignore-error=true ctx 2>out &&
	test_grep "WARNING: exporting the cache failed (ignore-error=true)" out &&
	kiln inspect err:2 >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'an export to a registry that is down fails, and leaves no cache' '
	port=$(reg_free_port) &&
	test_expect_code 1 kiln build --progress=plain \
		--cache-to type=registry,ref=127.0.0.1:$port/c:1 ctx 2>out &&
	test_grep "^error: cache 127.0.0.1:$port/c:1" out
'

test_expect_success ROOT,OVERLAY,BUSYBOX,REGISTRY,HTPASSWD,JQ 'a cache behind authentication: --creds, then the docker config' '
	test_expect_code 1 kiln build --progress=plain \
		--cache-to type=registry,ref=$S/cache:auth,mode=max ctx 2>out &&
	test_grep "^error: cache $S/cache:auth: .*kiln login $S" out &&
	kiln build --progress=plain --creds ci:cache-pass \
		--cache-to type=registry,ref=$S/cache:auth,mode=max ctx 2>out &&
	kiln build --progress=plain --cache-from type=registry,ref=$S/cache:auth ctx 2>out &&
	test_grep "WARNING: cache $S/cache:auth is unusable" out &&
	printf "cache-pass" | kiln login -u ci --password-stdin $S >/dev/null &&
	kiln save --format oci-archive -o base.tar $BB && rm -rf $TRASH/s3 &&
	KILN_ROOT=$TRASH/s3 kiln load -i base.tar >/dev/null &&
	KILN_ROOT=$TRASH/s3 kiln build --progress=plain \
		--cache-from type=registry,ref=$S/cache:auth ctx 2>out &&
	test "$(cached_steps out)" = 2
'

test_expect_success 'bad --cache-to and --cache-from values are usage errors' '
	for spec in "type=gha" "type=registry" "type=local" "type=registry,ref=r,mode=big" \
		"type=inline,mode=max" "type=inline,cache-mounts=true" "ref=r,ignore-error=maybe" \
		"ref=r,compression=zstd" "ref=r,oci-mediatypes=false" "ref=r,src=x" "ref=r,color=red" \
		"type=local,dest=d,tag=a,unknown" "" "ref=r/UPPER:1" "r/UPPER:1" \
		"r/x@sha256:0000000000000000000000000000000000000000000000000000000000000001"; do
		test_expect_code 2 kiln build --cache-to "$spec" ctx 2>err || { echo "$spec"; exit 1; }
		test_grep "^error: --cache-to" err || exit 1
	done &&
	for spec in "type=inline" "type=local" "type=local,dest=d" "ref=r,mode=max" "BAD ref"; do
		test_expect_code 2 kiln build --cache-from "$spec" ctx 2>err || { echo "$spec"; exit 1; }
		test_grep "^error: --cache-from" err || exit 1
	done
'

test_done
