#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Debian base images for end-to-end tests (the seed's stacks, t9150-t9199),
# sourced after test-lib.sh. scripts/base-images makes their root
# filesystems once per machine (debootstrap and apt-get from Debian's
# archive); each is imported once more into a kiln store and kept as a
# kiln-saved archive in $KILN_TEST_IMAGES (default
# /var/cache/kiln/test-images), which every test file then loads into its
# own store in seconds.
#
#   test_images NAME...    at the top level of a test file: load
#                          localhost/debian:bookworm-NAME (slim, toolchain,
#                          python, node) and define the prerequisite
#                          IMAGE_NAME; an image that cannot be made (no
#                          apt archive) prints why, and its cases skip
#   test_busybox           localhost/busybox:test (busybox-static)

KILN_TEST_IMAGES=${KILN_TEST_IMAGES:-/var/cache/kiln/test-images}

# test_image_archive NAME: the archive's path on stdout, made if missing or
# older than the root filesystem tarball; one maker at a time (flock).
test_image_archive() {
	mkdir -p "$KILN_TEST_IMAGES" || return 1
	(
		flock 9 || exit 1
		base=$(KILN=$KILN "$KILN_SOURCE_ROOT/scripts/base-images" --tarball "$1") || exit 1
		# (v2: images with their config, as scripts/base-images makes them)
		arch=$KILN_TEST_IMAGES/$1.v2.tar
		# shellcheck disable=SC3013 # dash has -nt
		if [ ! -f "$arch" ] || [ "$base" -nt "$arch" ]; then
			tmp=$(mktemp -d "$KILN_TEST_IMAGES/.store.XXXXXX") || exit 1
			KILN=$KILN KILN_ROOT=$tmp "$KILN_SOURCE_ROOT/scripts/base-images" "$1" >/dev/null &&
				"$KILN" --root "$tmp" save -o "$arch.tmp" "localhost/debian:bookworm-$1" &&
				mv "$arch.tmp" "$arch"
			rc=$?
			rm -rf "$tmp" "$arch.tmp"
			[ $rc = 0 ] || exit $rc
		fi
		echo "$arch"
	) 9>"$KILN_TEST_IMAGES/.lock"
}

test_images() {
	for name in "$@"; do
		if [ "$(id -u)" != 0 ]; then
			echo "# image $name: not made (needs root for debootstrap)"
			continue
		fi
		if arch=$(test_image_archive "$name" 2>"$TRASH/image-$name.log") &&
			kiln load -q -i "$arch" >/dev/null 2>>"$TRASH/image-$name.log"; then
			eval "image_$name() { :; }"
		else
			echo "# image localhost/debian:bookworm-$name cannot be made" \
				"(is Debian's apt archive reachable?); its cases skip:"
			tail -n 5 "$TRASH/image-$name.log" | sed -e 's/^/#   /'
		fi
	done
}

test_busybox() {
	"$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh" --tar "$TRASH/busybox.tar" &&
	kiln import "$TRASH/busybox.tar" localhost/busybox:test >/dev/null
}
