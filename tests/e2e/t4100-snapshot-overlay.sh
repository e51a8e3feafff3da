#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Snapshots through `kiln debug sandbox --layer`: layers unpacked once into
# the store, mounted as an overlay (whiteouts and opaque directories
# honoured, 100+ lowers), and what a command changed committed as an OCI
# layer that holds neither kiln's mount points nor its generated files.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done &&
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd" &&
	printf 'root:x:0:\n' >"$1/etc/group"
}

# The entries of a layer tar, sorted: "type path" (directories without '/').
layer_ls() {
	tar -tvf "$1" | awk '{ t = substr($1, 1, 1); p = $6; sub("/$", "", p); print t, p }' | sort
}

test_expect_success ROOT,BUSYBOX,OVERLAY 'make a base layer and a layer with whiteouts' '
	make_rootfs base &&
	echo motd >base/etc/motd &&
	mkdir -p base/opt/old &&
	echo old >base/opt/old/file &&
	tar -C base -czf base.tar.gz . &&
	mkdir -p l2/etc l2/opt &&
	: >l2/etc/.wh.motd &&
	echo new >l2/etc/new &&
	: >l2/opt/.wh..wh..opq &&
	echo fresh >l2/opt/fresh &&
	tar -C l2 -cf l2.tar .
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'layers are unpacked once, under the store root' '
	kiln debug sandbox --layer base.tar.gz -- true &&
	ls "$KILN_ROOT/snapshots/layers" >first &&
	test "$(wc -l <first)" = 1 &&
	layer=$(cat first) &&
	test -x "$KILN_ROOT/snapshots/layers/$layer/bin/busybox" &&
	stat -c %i "$KILN_ROOT/snapshots/layers/$layer" >ino-before &&
	kiln debug sandbox --layer base.tar.gz -- true &&
	stat -c %i "$KILN_ROOT/snapshots/layers/$layer" >ino-after &&
	test_cmp ino-before ino-after &&
	test "$(stat -c %a "$KILN_ROOT/snapshots")" = 700
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'whiteouts and opaque directories show through the overlay' '
	kiln debug sandbox --layer base.tar.gz --layer l2.tar -- \
		sh -c "ls /etc; echo ---; ls /opt; cat /etc/new" >out &&
	test_must_fail grep -x motd out &&
	test_grep -x passwd out &&
	test_grep -x fresh out &&
	test_must_fail grep -x old out &&
	test_grep -x new out &&
	kiln debug sandbox --layer base.tar.gz -- cat /etc/motd >motd &&
	echo motd >expect &&
	test_cmp expect motd
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'commit: additions, changes and deletions as an OCI layer' '
	kiln debug sandbox --layer base.tar.gz --commit c1.tar -- sh -c \
		"echo x >/etc/added && rm /etc/motd && echo y >>/etc/passwd && mkdir -p /srv/data && rm -r /opt/old" 2>err &&
	test_grep "diff_id sha256:" err &&
	layer_ls c1.tar >got &&
	cat >expect <<-\EOF &&
	- etc/.wh.motd
	- etc/added
	- etc/passwd
	- opt/.wh.old
	d etc
	d opt
	d srv
	d srv/data
	EOF
	test_cmp expect got
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'the diff_id printed is the sha256 of the tar' '
	kiln debug sandbox --layer base.tar.gz --commit c2.tar -- touch /x 2>err &&
	sed -n "s/.*diff_id sha256:\([0-9a-f]*\) .*/\1/p" err >said &&
	sha256sum <c2.tar | cut -d" " -f1 >actual &&
	test_cmp said actual
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'a command that changes nothing commits an empty layer' '
	kiln debug sandbox --layer base.tar.gz --layer l2.tar --commit empty.tar -- \
		sh -c "cat /etc/hosts /etc/resolv.conf /etc/hostname >/dev/null; ls /proc /dev /sys >/dev/null" &&
	layer_ls empty.tar >got &&
	test_must_fail test -s got &&
	test "$(sha256sum <empty.tar | cut -d" " -f1)" = \
		5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'mount points and generated files never reach the layer' '
	mkdir -p hostdir &&
	kiln debug sandbox --layer base.tar.gz --commit c3.tar -v "$TRASH/hostdir:/mnt/deep/dir" \
		--tmpfs /scratch -w /work --file /etc/motd2="$TRASH/base/etc/motd" -- \
		sh -c "echo w >/work/f" &&
	layer_ls c3.tar >got &&
	printf "%s\n" "- work/f" "d work" >expect &&
	test_cmp expect got
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'a committed layer stacks on its parents' '
	kiln debug sandbox --layer base.tar.gz --layer c1.tar -- \
		sh -c "cat /etc/added; test ! -e /etc/motd; test -d /srv/data; test ! -e /opt/old; tail -n 1 /etc/passwd" >out &&
	printf "x\ny\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'commit compresses with gzip and zstd' '
	kiln debug sandbox --layer base.tar.gz --commit c.tar.gz --compress gzip -- touch /g &&
	gzip -dc c.tar.gz | tar -t >list &&
	test_grep -x g list &&
	kiln debug sandbox --layer base.tar.gz --commit c.tar.zst --compress zstd -- touch /z &&
	kiln debug sandbox --layer base.tar.gz --layer c.tar.zst -- test -e /z &&
	test_expect_code 2 kiln debug sandbox --layer base.tar.gz --commit x --compress lz4 -- true
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'FROM scratch: an empty root, and a layer of what was written' '
	kiln debug sandbox --scratch -v /bin/busybox:/busybox:ro --commit s.tar -- \
		/busybox sh -c "/busybox ls / >/listing.txt; echo hi >/f" &&
	layer_ls s.tar >got &&
	printf "%s\n" "- f" "- listing.txt" >expect &&
	test_cmp expect got
'

test_expect_success ROOT,BUSYBOX,OVERLAY '--read-only over layers' '
	test_must_fail kiln debug sandbox --read-only --layer base.tar.gz -- touch /nope 2>err &&
	test_grep "Read-only file system" err
'

test_expect_success ROOT,BUSYBOX,OVERLAY '120 layers stack (more than one page of mount options)' '
	i=0 &&
	set -- --layer base.tar.gz &&
	while [ $i -lt 120 ]; do
		mkdir -p many/$i/many &&
		echo $i >many/$i/many/f$i &&
		echo $i >many/$i/top &&
		tar -C many/$i -cf many/$i.tar . &&
		set -- "$@" --layer many/$i.tar &&
		i=$((i + 1))
	done &&
	kiln debug sandbox "$@" -- sh -c "ls /many | wc -l; cat /top" >out &&
	printf "120\n119\n" >expect &&
	test_cmp expect out &&
	test "$(ls "$KILN_ROOT/snapshots/layers" | wc -l)" -ge 121
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'a layer that is not a layer is refused and nothing is kept' '
	ls "$KILN_ROOT/snapshots/layers" >before &&
	head -c 3000 base.tar.gz >truncated.tar.gz &&
	test_expect_code 125 kiln debug sandbox --layer truncated.tar.gz -- true 2>err &&
	test_grep "truncated.tar.gz" err &&
	echo "not a tar at all" >junk.tar &&
	test_expect_code 125 kiln debug sandbox --layer junk.tar -- true 2>err &&
	ls "$KILN_ROOT/snapshots/layers" >after &&
	test_cmp before after
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'no mount and no upper directory outlive a run' '
	kiln debug sandbox --layer base.tar.gz -- true &&
	test_must_fail grep -q " $TRASH" /proc/self/mountinfo &&
	test_must_fail grep -q overlay.*snapshots /proc/self/mountinfo &&
	ls "$KILN_ROOT/snapshots/active" >active &&
	test_must_fail test -s active
'

test_done
