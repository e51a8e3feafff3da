#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# save and load: docker-archive and oci-archive round trips, OCI layout
# directories, archives laid out as docker and skopeo write them (legacy
# layer directories, compressed layers, whole-file compression), and bad
# archives, which must fail clearly and record nothing.
. "$(dirname "$0")/test-lib.sh"

HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh

# kiln in a second store
other() {
	"$KILN" --root "$TRASH/other" "$@"
}

# The store holds no image record and nothing is half-written.
store_untouched() {
	"$KILN" --root "$1" images -q >untouched.out &&
	test ! -s untouched.out &&
	"$KILN" --root "$1" fsck >untouched.out &&
	test_grep "no problems found" untouched.out &&
	test -z "$(ls -A "$1/tmp")"
}

test_expect_success BUSYBOX 'setup: two images' '
	"$HELPER" --tar rootfs.tar &&
	kiln import rootfs.tar bb:1 >id1 &&
	mkdir extra && echo hello >extra/greeting &&
	kiln import extra localhost:5000/extra:v2 >id2 &&
	kiln tag bb:1 bb:alias
'

test_expect_success BUSYBOX 'docker-archive: layout, names and round trip' '
	kiln save -o bb.tar bb:1 bb:alias localhost:5000/extra:v2 &&
	tar -tf bb.tar >members &&
	test_grep "^manifest.json$" members && test_grep "^repositories$" members &&
	test_grep "^$(cut -c8- id1).json$" members &&
	test_grep "/layer.tar$" members && test_grep "/VERSION$" members &&
	tar -xOf bb.tar manifest.json >m.json &&
	test_grep "\"RepoTags\":\\[\"docker.io/library/bb:1\",\"docker.io/library/bb:alias\"\\]" m.json &&
	test_grep "localhost:5000/extra:v2" m.json &&
	other load -i bb.tar >out &&
	test_grep "^Loaded image: bb:1$" out && test_grep "^Loaded image: bb:alias$" out &&
	test_grep "^Loaded image: localhost:5000/extra:v2$" out &&
	other inspect bb:1 >a && test_grep "\"Id\": \"$(cat id1)\"" a &&
	other inspect localhost:5000/extra:v2 >b && test_grep "\"Id\": \"$(cat id2)\"" b &&
	test_grep "application/vnd.docker.distribution.manifest.v2+json" a &&
	other fsck >out && test_grep "no problems found" out
'

test_expect_success BUSYBOX 'docker-archive layers are uncompressed tars with their diff_ids' '
	mkdir x && tar -xf bb.tar -C x &&
	for f in x/*.tar; do
		echo "$(basename "$f" .tar)  $f" >>sums || return 1
	done &&
	sha256sum -c sums
'

test_expect_success BUSYBOX 'an image saved by id has no name; the file appears only when complete' '
	kiln save -o byid.tar "$(cut -c8-19 id1)" &&
	tar -xOf byid.tar manifest.json >m.json &&
	test_grep "\"RepoTags\":\\[\\]" m.json &&
	test_expect_code 1 kiln save -o never.tar bb:1 nosuch 2>err &&
	test_grep "no such image" err &&
	! test -e never.tar && test -z "$(ls never.tar.tmp-* 2>/dev/null)"
'

test_expect_success ROOT,BUSYBOX 'a device, a fifo or a symlink named by -o is written to, not replaced' '
	mknod -m 666 null c 1 3 && mknod -m 666 full c 1 7 && mkfifo fifo &&
	echo old >real.tar && ln -s real.tar link.tar &&
	kiln save -o null bb:1 && test -c null &&
	test_expect_code 1 kiln save -o full bb:1 2>err && test -c full &&
	test_grep "No space left on device" err &&
	{ cat fifo >from-fifo.tar & } &&
	kiln save -o fifo bb:1 && wait && test -p fifo &&
	tar -xOf from-fifo.tar manifest.json >/dev/null &&
	kiln save -o link.tar bb:1 && test -h link.tar &&
	tar -xOf real.tar manifest.json >/dev/null
'

test_expect_success BUSYBOX 'save refuses a terminal and unknown formats' '
	test_expect_code 2 kiln save --format zip -o z bb:1 2>err &&
	test_grep "unknown format" err &&
	test_expect_code 2 kiln save --format oci bb:1 2>err &&
	test_grep "give -o DIR" err
'

test_expect_success BUSYBOX 'oci-archive round trip keeps the manifest digest' '
	kiln save --format oci-archive -o bb-oci.tar bb:1 &&
	tar -tf bb-oci.tar >members &&
	test_grep "^oci-layout$" members && test_grep "^index.json$" members &&
	tar -xOf bb-oci.tar index.json >idx &&
	test_grep "\"io.containerd.image.name\":\"docker.io/library/bb:1\"" idx &&
	test_grep "\"org.opencontainers.image.ref.name\":\"1\"" idx &&
	rm -rf "$TRASH/other" &&
	other load -i bb-oci.tar >out && test_grep "Loaded image: bb:1" out &&
	kiln inspect bb:1 | grep "\"Digest\"" >want &&
	other inspect bb:1 | grep "\"Digest\"" >got &&
	test_cmp want got
'

test_expect_success BUSYBOX 'a whole archive compressed, read from stdin' '
	rm -rf "$TRASH/other" &&
	gzip -c bb.tar | other load >out &&
	test_grep "Loaded image: bb:1" out &&
	rm -rf "$TRASH/other" &&
	zstd -q -c bb-oci.tar | other load -q >out &&
	test ! -s out && other inspect bb:1 >/dev/null
'

test_expect_success BUSYBOX 'OCI layout directory: write, add to, read back' '
	kiln save --format oci -o layout bb:1 &&
	kiln save --format oci -o layout localhost:5000/extra:v2 &&
	test_grep imageLayoutVersion layout/oci-layout &&
	test "$(grep -o "\"digest\"" layout/index.json | wc -l)" = 2 &&
	kiln save --format oci -o layout bb:1 &&
	test "$(grep -o "\"digest\"" layout/index.json | wc -l)" = 2 &&
	for f in layout/blobs/sha256/*; do
		echo "$(basename "$f")  $f" >>lsums || return 1
	done &&
	sha256sum -c lsums >/dev/null &&
	rm -rf "$TRASH/other" &&
	other load -i layout >out &&
	test_grep "Loaded image: bb:1" out && test_grep "Loaded image: localhost:5000/extra:v2" out
'

# A docker-archive as docker 20.10 writes it: <id>/layer.tar files, familiar RepoTags.
make_legacy() {
	# $1 = output, $2 = layer transform (cat, gzip -c, zstd -q -c)
	rm -rf legacy && mkdir -p legacy/0123456789abcdef &&
	layer=$(ls x/*.tar | head -1) &&
	cfg=$(ls x/*.json | grep -v manifest.json | head -1) &&
	$2 "$layer" >legacy/0123456789abcdef/layer.tar &&
	echo 1.0 >legacy/0123456789abcdef/VERSION &&
	cp "$cfg" legacy/ &&
	printf "[{\"Config\":\"%s\",\"RepoTags\":[\"legacy:%s\"],\"Layers\":[\"0123456789abcdef/layer.tar\"]}]" \
		"$(basename "$cfg")" "$3" >legacy/manifest.json &&
	tar -cf "$1" -C legacy .
}

test_expect_success BUSYBOX 'docker 20.10 layout with plain, gzip and zstd layers' '
	rm -rf x && mkdir x && kiln save -o one.tar bb:1 && tar -xf one.tar -C x &&
	make_legacy plain.tar cat plain && make_legacy gz.tar "gzip -n -c" gz &&
	make_legacy zst.tar "zstd -q -c" zst &&
	rm -rf "$TRASH/other" &&
	other load -i plain.tar && other load -i gz.tar && other load -i zst.tar &&
	other inspect legacy:plain >p && test_grep "rootfs.diff.tar\"" p &&
	other inspect legacy:gz >g && test_grep "rootfs.diff.tar.gzip" g &&
	other inspect legacy:zst >z && test_grep "application/vnd.oci.image.layer.v1.tar+zstd" z &&
	for f in p g z; do test_grep "\"Id\": \"$(cat id1)\"" $f || return 1; done &&
	other fsck >out && test_grep "no problems found" out
'

test_expect_success BUSYBOX,JQ 'docker 25 layout: an OCI layout plus manifest.json' '
	rm -rf d25 && mkdir d25 && tar -xf bb-oci.tar -C d25 &&
	m=$(jq -r ".manifests[0].digest" d25/index.json | cut -d: -f2) &&
	c=$(jq -r ".config.digest" "d25/blobs/sha256/$m" | cut -d: -f2) &&
	l=$(jq -r ".layers[0].digest" "d25/blobs/sha256/$m" | cut -d: -f2) &&
	printf "[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"bb:1\"],\"Layers\":[\"blobs/sha256/%s\"]}]" \
		"$c" "$l" >d25/manifest.json &&
	tar -cf d25.tar -C d25 . &&
	rm -rf "$TRASH/other" &&
	other load -i d25.tar >out && test_grep "Loaded image: bb:1" out &&
	other inspect bb:1 | grep "\"Digest\"" >got &&
	test_grep "sha256:$m" got
'

test_expect_success BUSYBOX 'bad archives fail clearly and record nothing' '
	rm -rf "$TRASH/other" &&
	head -c 5000 /dev/urandom >random.bin &&
	test_expect_code 1 other load -i random.bin 2>err && test_grep "random.bin" err &&
	size=$(wc -c <bb.tar) && head -c $((size / 2)) bb.tar >half.tar &&
	test_expect_code 1 other load -i half.tar 2>err && test_grep "half.tar" err &&
	test_expect_code 1 other load -i /nonexistent.tar 2>err &&
	test_grep "/nonexistent.tar" err &&
	store_untouched "$TRASH/other"
'

# Rewrite the legacy archive with one change and expect a load error.
broken_case() {
	# $1 = name, $2 = command run inside legacy/, $3 = expected message
	make_legacy "$1.tar" cat plain && (cd legacy && eval "$2") &&
	tar -cf "$1.tar" -C legacy . &&
	test_expect_code 1 other load -i "$1.tar" 2>err &&
	test_grep -e "$3" err &&
	store_untouched "$TRASH/other"
}

test_expect_success BUSYBOX 'broken docker-archives: JSON, missing and wrong layers' '
	rm -rf "$TRASH/other" &&
	broken_case badjson "printf \"[{\" >manifest.json" "manifest.json: line" &&
	broken_case nolayer "rm 0123456789abcdef/layer.tar" "is missing from the archive" &&
	broken_case notar "head -c 3000 /dev/urandom >0123456789abcdef/layer.tar" \
		"cannot be unpacked" &&
	broken_case wrongdiff \
		"sed -i s/sha256:[0-9a-f]*\\\"\\]/sha256:$(printf %064d 0)\\\"]/ *.json" \
		"unpacks to sha256:.* but the config says" &&
	broken_case badtag "sed -i s/legacy:plain/Bad:Tag/ manifest.json" "invalid RepoTag" &&
	broken_case noconfig "rm -f [0-9a-f]*.json" "is missing from the archive"
'

test_expect_success BUSYBOX 'broken oci-archives: digest mismatch, escaping names, a wrong or missing manifest' '
	rm -rf "$TRASH/other" ob && mkdir ob && tar -xf bb-oci.tar -C ob &&
	blob=$(ls -S ob/blobs/sha256 | head -1) &&
	printf X >>"ob/blobs/sha256/$blob" &&
	tar -cf badblob.tar -C ob . &&
	test_expect_code 1 other load -i badblob.tar 2>err &&
	test_grep "does not match its digest\|larger than" err &&
	store_untouched "$TRASH/other" &&
	echo x >f && tar -cf evil.tar --transform "s,^,../," f 2>/dev/null &&
	test_expect_code 1 other load -i evil.tar 2>err &&
	test_grep "refusing member name" err &&
	store_untouched "$TRASH/other" &&
	rm -rf ob && mkdir ob && tar -xf bb-oci.tar -C ob &&
	jq ".manifests[0].size = 3" ob/index.json >ob/i && mv ob/i ob/index.json &&
	tar -cf badsize.tar -C ob . &&
	test_expect_code 1 other load -i badsize.tar 2>err &&
	test_grep "its entry says 3" err &&
	store_untouched "$TRASH/other" &&
	rm -rf "$TRASH/other" ob && mkdir ob && tar -xf bb-oci.tar -C ob &&
	m=$(jq -r ".manifests[0].digest" ob/index.json | cut -d: -f2) &&
	rm ob/blobs/sha256/$m && tar -cf nomanifest.tar -C ob . &&
	test_expect_code 1 other load -i nomanifest.tar 2>err &&
	test_grep "is missing from the archive" err &&
	store_untouched "$TRASH/other"
'

test_expect_success BUSYBOX 'a layout that lost a blob fails and records nothing' '
	rm -rf "$TRASH/other" broken-layout && cp -r layout broken-layout &&
	rm "broken-layout/blobs/sha256/$(ls -S broken-layout/blobs/sha256 | head -1)" &&
	test_expect_code 1 other load -i broken-layout 2>err &&
	test_grep "missing" err &&
	store_untouched "$TRASH/other"
'

test_done
