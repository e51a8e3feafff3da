#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build a small busybox root filesystem from Debian's busybox-static, for
# end-to-end tests that need a base image without a network.
#
#   make-busybox-rootfs.sh DIR            a directory tree
#   make-busybox-rootfs.sh --tar FILE     the same tree as a tar (uid/gid 0,
#                                         sorted, fixed mtimes: the same bytes
#                                         every time)
#
# The tree: /bin/busybox, one symlink per applet at its canonical path
# (busybox --list-full), /etc/passwd and /etc/group (root, daemon, nobody),
# /tmp (1777), /root (0700), empty /proc /sys /dev /home /var.
# Exits 77 (the TAP "skip" status) when busybox-static is not installed.
set -eu

usage() {
	echo "usage: $0 DIR | --tar FILE" >&2
	exit 2
}

BUSYBOX=${BUSYBOX:-/bin/busybox}
# a dynamically linked busybox would not run inside the image (ldd fails on static ones)
if [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	echo "$0: a static busybox is needed (apt-get install busybox-static)" >&2
	exit 77
fi

tar_out=""
case "${1:-}" in
--tar)
	[ $# = 2 ] || usage
	case "$2" in
	/*) tar_out=$2 ;;
	*) tar_out=$(pwd)/$2 ;;
	esac
	dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-busybox.XXXXXX")
	;;
"" | -*) usage ;;
*)
	[ $# = 1 ] || usage
	dir=$1
	;;
esac

mkdir -p "$dir"
for d in bin sbin usr/bin usr/sbin etc proc sys dev home var; do
	mkdir -p "$dir/$d"
done
install -m 0755 "$BUSYBOX" "$dir/bin/busybox"
"$dir/bin/busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$dir/$(dirname "$applet")"
	ln -sfn /bin/busybox "$dir/$applet"
done
cat >"$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$dir/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
install -d -m 1777 "$dir/tmp"
install -d -m 0700 "$dir/root"

if [ -n "$tar_out" ]; then
	# members without "./", as docker-made layers have them
	(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0 tar --sort=name --numeric-owner --owner=0 --group=0 \
			--mtime=@1704067200 --format=posix \
			--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
			-cf "$tar_out")
	rm -rf "$dir"
fi
