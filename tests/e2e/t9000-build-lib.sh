#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What the kiln build tests (t90xx) share; sourced after test-lib.sh, not a
# test itself.
#
#   build_base           import a busybox image as localhost/busybox:test
#   cfg IMAGE EXPR       a jq expression over the image's inspect object
#   rootfs_of IMAGE DIR  the image's root filesystem, exported to DIR
#   stat_of DIR PATH     "mode uid:gid" of a path (octal permissions)
#   step_states FILE [STAGE]
#                        "N:CACHED" / "N:DONE" per numbered step of a
#                        --progress=plain log (of STAGE, or unnamed), in order

BB=localhost/busybox:test
BUILD_HELPER=$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh

build_base() {
	"$BUILD_HELPER" --tar "$TRASH/busybox.tar" &&
	kiln import "$TRASH/busybox.tar" "$BB" >/dev/null
}

cfg() {
	kiln inspect "$1" | jq -c ".[0] | $2"
}

rootfs_of() {
	rm -rf "$2" &&
	kiln build -q -o "type=local,dest=$2" - >/dev/null <<-EOF
	FROM $1
	EOF
}

stat_of() {
	stat -c '%a %u:%g' "$1/$2"
}

step_states() {
	sed -n "s/^#\([0-9]*\) \[${2:+$2 }\([0-9]\)\/[0-9]*\] .*/\1 \2/p" "$1" | sort -u -k2 |
	while read -r id n; do
		if grep -q "^#$id CACHED$" "$1"; then echo "$n:CACHED"; else echo "$n:DONE"; fi
	done | tr "\n" " "
}
