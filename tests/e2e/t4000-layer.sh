#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Layers from the shell: kiln debug tar-make / tar-ls / tar-apply against
# GNU tar, gzip, zstd and xz, determinism, a real overlayfs upper
# directory, and hostile archives.
. "$(dirname "$0")/test-lib.sh"

# A tree with the usual suspects: long names, symlinks, hardlinks, modes.
make_tree() {
	mkdir -p "$1/etc" "$1/usr/bin" "$1/tmp" "$1/deep/a/b/c" &&
	echo "key=value" >"$1/etc/conf" &&
	printf 'x%.0s' $(seq 1 3000) >"$1/usr/bin/tool" &&
	chmod 4755 "$1/usr/bin/tool" &&
	chmod 1777 "$1/tmp" &&
	ln "$1/etc/conf" "$1/etc/conf.hard" &&
	ln -s ../etc/conf "$1/usr/bin/rel-link" &&
	ln -s /etc/conf "$1/usr/bin/abs-link" &&
	long=$(printf 'n%.0s' $(seq 1 140)) &&
	echo long >"$1/deep/a/b/c/$long" &&
	echo "caf" >"$1/etc/$(printf 'caf\303\251')" &&
	touch -d @1600000000 "$1/etc/conf" "$1/usr/bin/tool"
}

# "mode uid gid size mtime type name [target]" for every path below $1.
describe() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
		stat -c '%a %u %g %F %N' "$p"
		[ -f "$p" ] && [ ! -L "$p" ] && { cksum <"$p"; stat -c '%s %Y' "$p"; }
	done)
}

test_expect_success 'tar-make writes a gzip layer that gzip and GNU tar read' '
	make_tree src &&
	kiln debug tar-make -o layer.tgz src >digests &&
	gzip -t layer.tgz &&
	tar -tzf layer.tgz | LC_ALL=C sort >names-gnu &&
	kiln debug tar-ls layer.tgz | sed "s/^[^ ]* [^ ]* [^ ]* [^ ]* [^ ]* //; s/ -> .*//" |
		LC_ALL=C sort >names-kiln &&
	test_cmp names-gnu names-kiln
'

test_expect_success 'reported digest and diff_id are the sha256 of the bytes and of the tar' '
	digest=$(sed -n "s/^digest: //p" digests) &&
	diff_id=$(sed -n "s/^diff_id: //p" digests) &&
	test "$digest" = "sha256:$(sha256sum <layer.tgz | cut -d" " -f1)" &&
	test "$diff_id" = "sha256:$(gzip -dc layer.tgz | sha256sum | cut -d" " -f1)" &&
	test "$(sed -n "s/^size: //p" digests)" = "$(stat -c %s layer.tgz)"
'

test_expect_success 'the same tree gives byte-identical layers' '
	kiln debug tar-make -o again.tgz src >/dev/null &&
	cmp layer.tgz again.tgz &&
	kiln debug tar-make -c zstd -o a.zst src >/dev/null &&
	kiln debug tar-make -c zstd -o b.zst src >/dev/null &&
	cmp a.zst b.zst
'

test_expect_success 'zstd and plain layers carry the same diff_id as the gzip one' '
	zstd -tq a.zst &&
	kiln debug tar-make -c none -o plain.tar src >plain-digests &&
	kiln debug tar-ls --digests a.zst >zst-ls &&
	test "$(sed -n "s/^diff_id: //p" zst-ls)" = "$(sed -n "s/^diff_id: //p" digests)" &&
	test "$(sed -n "s/^diff_id: //p" plain-digests)" = "$(sed -n "s/^diff_id: //p" digests)" &&
	gzip -dc layer.tgz | cmp - plain.tar
'

test_expect_success 'SOURCE_DATE_EPOCH clamps newer mtimes only' '
	SOURCE_DATE_EPOCH=1650000000 kiln debug tar-make -o clamped.tgz src >/dev/null &&
	kiln debug tar-ls clamped.tgz >ls &&
	test_grep " 1600000000 etc/conf$" ls &&
	! awk "\$5 > 1650000000" ls | grep . &&
	awk "\$5 == 1650000000" ls | grep -q .
'

test_expect_success ROOT 'tar-make | tar-apply round trip keeps modes, owners, links and times' '
	chown 1234:5678 src/etc/conf &&
	chown -h 42:43 src/usr/bin/rel-link &&
	kiln debug tar-make -o owned.tgz src >/dev/null &&
	mkdir dst &&
	kiln debug tar-apply owned.tgz dst >out &&
	describe src >want &&
	describe dst >got &&
	test_cmp want got &&
	test "$(stat -c %i dst/etc/conf)" = "$(stat -c %i dst/etc/conf.hard)"
'

test_expect_success 'archives made by GNU tar (gzip, bzip2, xz, sparse, PAX) apply like GNU tar extracts them' '
	mkdir gnusrc &&
	cp -a src/. gnusrc/ &&
	dd if=/dev/zero of=gnusrc/sparse bs=1 count=0 seek=5M 2>/dev/null &&
	echo tail >>gnusrc/sparse &&
	python3 -c "import os; os.setxattr(\"gnusrc/etc/conf\", \"user.note\", b\"hi\\0there\")" &&
	for fmt in "-z gnu" "-j posix" "-J posix" "--zstd posix"; do
		set -- $fmt &&
		rm -rf x-gnu x-kiln arch && mkdir x-gnu x-kiln &&
		xa= && [ "$2" = posix ] && xa=--xattrs
		tar $1 -S $xa --format=$2 -cf arch -C gnusrc . 2>/dev/null &&
		tar $1 --xattrs --xattrs-include="*" -xpf arch -C x-gnu &&
		kiln debug tar-apply arch x-kiln >/dev/null &&
		describe x-gnu >want &&
		describe x-kiln >got &&
		test_cmp want got &&
		{ [ -z "$xa" ] || python3 -c "import os,sys; sys.exit(os.getxattr(\"x-kiln/etc/conf\", \"user.note\") != b\"hi\\0there\")"; } ||
		return 1
	done &&
	test "$(stat -c %b x-kiln/sparse)" -lt 1024
'

test_expect_success 'whiteouts of a second layer remove lower content' '
	mkdir -p up/etc up/deep && : >up/etc/.wh.conf && : >up/deep/.wh..wh..opq &&
	echo new >up/deep/fresh &&
	tar -cf up.tar -C up . &&
	rm -rf applied && mkdir applied &&
	kiln debug tar-apply layer.tgz applied >/dev/null &&
	kiln debug tar-apply up.tar applied >out &&
	test_grep "^whiteouts: 2" out &&
	test ! -e applied/etc/conf && test -e applied/etc/conf.hard &&
	test "$(ls -A applied/deep)" = fresh &&
	test ! -e applied/etc/.wh.conf
'

test_expect_success 'extract mode (ADD) keeps .wh. names as files' '
	rm -rf added && mkdir added &&
	kiln debug tar-apply --mode extract up.tar added >out &&
	test -f added/etc/.wh.conf && test -f added/deep/.wh..wh..opq &&
	test_grep "^whiteouts: 0" out
'

test_expect_success ROOT,OVERLAY 'an overlayfs upper directory becomes a layer equal to the change' '
	mkdir -p ov/lower/keep ov/lower/dir ov/upper ov/work ov/merged &&
	echo a >ov/lower/keep/a && echo b >ov/lower/keep/b && echo old >ov/lower/dir/old &&
	unshare -m sh -c "
		mount -t overlay overlay -o lowerdir=ov/lower,upperdir=ov/upper,workdir=ov/work ov/merged &&
		rm ov/merged/keep/a && rm -r ov/merged/dir && mkdir ov/merged/dir &&
		echo new >ov/merged/dir/new && echo add >ov/merged/added &&
		cp -a ov/merged ov/seen
	" &&
	kiln debug tar-make --overlay -o ov.tgz ov/upper >/dev/null &&
	kiln debug tar-ls ov.tgz >ls &&
	test_grep " keep/.wh.a$" ls &&
	test_grep " dir/.wh..wh..opq$" ls &&
	grep -A1 " dir/$" ls | tail -n1 | grep -q "dir/.wh..wh..opq" &&
	mkdir ov/rebuilt && cp -a ov/lower/. ov/rebuilt/ &&
	kiln debug tar-apply ov.tgz ov/rebuilt >/dev/null &&
	diff -r ov/seen ov/rebuilt
'

test_expect_success 'a tar with .. is refused and writes nothing outside' '
	mkdir -p hostile/in && echo evil >hostile/pwned &&
	tar -cf evil.tar -C hostile/in --transform="s|^|../|" ../pwned 2>/dev/null ||
	python3 -c "
import tarfile, io
t = tarfile.open(\"evil.tar\", \"w\")
i = tarfile.TarInfo(\"../pwned-by-tar\"); d = b\"evil\"; i.size = len(d)
t.addfile(i, io.BytesIO(d)); t.close()" &&
	mkdir victim &&
	test_expect_code 1 kiln debug tar-apply evil.tar victim 2>err &&
	test_grep "leaves the root (.\.\..)" err &&
	test ! -e pwned-by-tar && test "$(ls -A victim)" = ""
'

test_expect_success 'a symlink out of the root is not followed by a later entry' '
	python3 -c "
import tarfile, io, os
t = tarfile.open(\"sym.tar\", \"w\")
l = tarfile.TarInfo(\"out\"); l.type = tarfile.SYMTYPE; l.linkname = os.path.abspath(\"hostile\")
t.addfile(l)
f = tarfile.TarInfo(\"out/pwned\"); d = b\"overwritten\"; f.size = len(d)
t.addfile(f, io.BytesIO(d)); t.close()" &&
	mkdir victim2 &&
	test_expect_code 1 kiln debug tar-apply sym.tar victim2 2>err &&
	test_grep "inside the root" err &&
	test "$(cat hostile/pwned)" = evil
'

test_expect_success 'a truncated or corrupt layer is refused' '
	head -c -20 layer.tgz >cut.tgz &&
	test_expect_code 1 kiln debug tar-ls cut.tgz 2>err &&
	test_grep "unexpected end of gzip" err &&
	test_expect_code 1 kiln debug tar-ls /etc/passwd 2>err &&
	test_grep "tar entry 1" err
'

test_expect_success 'a wrong expected digest fails the apply' '
	rm -rf v3 && mkdir v3 &&
	test_expect_code 1 kiln debug tar-apply --diff-id sha256:0000000000000000000000000000000000000000000000000000000000000000 layer.tgz v3 2>err &&
	test_grep "diff_id mismatch" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 kiln debug tar-make 2>err &&
	test_grep "usage: kiln debug tar-make" err &&
	test_expect_code 2 kiln debug tar-apply --mode bogus a b 2>err &&
	test_expect_code 2 kiln debug tar-make -c lz4 -o x src 2>err
'

test_done
