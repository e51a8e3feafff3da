#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The differential suite (t9100-t9149): the same Dockerfile built by kiln and
# by buildah from the same base image, compared by image-diff.py on the root
# filesystem and the image config. Sourced after test-lib.sh and
# peers-lib.sh. docs/testing.md explains the suite and the differences it
# allows.
#
#   diff_setup             busybox as localhost/busybox:test in kiln's store
#                          and buildah's (loaded from a kiln-saved archive),
#                          and the shared context in ctx/
#   diff_build ID FIXTURE [FLAGS...]
#                          build fixtures/diff/FIXTURE.Dockerfile (context
#                          ctx/, or $DIFF_CTX) with kiln and buildah, with the
#                          same FLAGS (--target, --build-arg), as
#                          localhost/diff-ID; the results are k-ID.tar and
#                          b-ID.tar (docker archives)
#   diff_check ID [IMAGE-DIFF OPTIONS...]
#                          compare them; the differences every case allows
#                          (buildah's, see below) are always passed
#   diff_buildkit ID FIXTURE [FLAGS...] [-- IMAGE-DIFF OPTIONS...]
#                          build it with BuildKit too and compare with kiln's
#   diff_run ID CMD...     run kiln's image with podman (podman load of
#                          k-ID.tar), stdout to run-ID.out
#   diff_kiln_run ID CMD...  the same with kiln run

DIFF_FIXTURES=$KILN_SOURCE_ROOT/tests/e2e/fixtures/diff
IMAGE_DIFF=$KILN_SOURCE_ROOT/tests/helper/image-diff.py
DIFF_BB=localhost/busybox:test

# Where buildah departs from BuildKit in every build (kiln follows BuildKit):
#  - buildah labels its images io.buildah.version; BuildKit adds no label.
#  - buildah leaves the mount points of a RUN in the image when the base has
#    none: an empty /etc/hostname (also /etc/hosts, /etc/resolv.conf) and
#    /run (for /run/.containerenv). BuildKit removes the stubs its mounts
#    created (executor/stubs.go), so a RUN adds nothing there.
#  - WORKDIR: BuildKit makes the directory with a file operation that is a
#    layer of its own (dispatchWorkdir: llb.Mkdir, history without
#    empty_layer), buildah only records the instruction (empty_layer). The
#    directory itself is compared like any path.
DIFF_ALWAYS="--allow-workdir-layer --ignore-field Labels.io.buildah.version
--allow-extra-b etc/hostname --allow-extra-b etc/hosts --allow-extra-b etc/resolv.conf
--allow-extra-b run"

diff_setup() {
	peers_setup &&
	"$KILN_SOURCE_ROOT/tests/helper/make-busybox-rootfs.sh" --tar "$TRASH/busybox.tar" &&
	kiln import "$TRASH/busybox.tar" "$DIFF_BB" >/dev/null &&
	kiln save -o "$TRASH/busybox-saved.tar" "$DIFF_BB" &&
	buildah pull -q "docker-archive:$TRASH/busybox-saved.tar" >/dev/null &&
	buildah inspect --type image "$DIFF_BB" >/dev/null &&
	diff_context "$TRASH/ctx"
}

# The context every case builds from: files of several modes and owners,
# nested directories, an empty one, symlinks (to a file and to a
# directory), hard links, names with spaces, and archives in four
# compressions.
diff_context() {
	c=$1
	rm -rf "$c" && mkdir -p "$c/src/sub/deep" "$c/docs" "$c/empty" "$c/odd" "$c/tree/a/b" &&
	echo a >"$c/src/a.txt" && echo b >"$c/src/b.txt" && echo c >"$c/src/sub/c.txt" &&
	echo d >"$c/src/sub/deep/d.txt" && echo "int main(void){return 0;}" >"$c/src/z.c" &&
	printf '#!/bin/sh\necho run.sh ran\n' >"$c/src/run.sh" && chmod 0755 "$c/src/run.sh" &&
	echo x >"$c/docs/x.md" && echo y >"$c/docs/y.md" && echo "with space" >"$c/docs/a b.md" &&
	ln -s src/a.txt "$c/link" && ln -s src "$c/dirlink" && ln -s ../nowhere "$c/src/dangling" &&
	echo hard >"$c/src/h1" && ln "$c/src/h1" "$c/src/h2" &&
	echo secret >"$c/odd/private" && chmod 0600 "$c/odd/private" && chmod 0700 "$c/odd" &&
	echo suid >"$c/odd/suid" && chmod 4755 "$c/odd/suid" &&
	echo owned >"$c/odd/owned" && chown 1234:5678 "$c/odd/owned" &&
	chmod 0750 "$c/src/sub" &&
	echo t1 >"$c/tree/a/t1" && echo t2 >"$c/tree/a/b/t2" && echo t3 >"$c/tree/t3.txt" &&
	mkdir -p "$c/arch/top/dir" && echo in-tar >"$c/arch/top/f" &&
	ln -s f "$c/arch/top/l" && chmod 0700 "$c/arch/top/dir" &&
	chown -R 7:8 "$c/arch" &&
	tar -C "$c/arch" -cf "$c/plain.tar" top &&
	tar -C "$c/arch" -czf "$c/gz.tar.gz" top && tar -C "$c/arch" -cjf "$c/bz.tar.bz2" top &&
	tar -C "$c/arch" -cJf "$c/xz.tar.xz" top && rm -rf "$c/arch" &&
	echo "not an archive" | gzip >"$c/text.gz"
}

diff_build() {
	id=$1
	fixture=$2
	shift 2
	ctx=${DIFF_CTX:-$TRASH/ctx}
	cp "$DIFF_FIXTURES/$fixture.Dockerfile" "$ctx/Dockerfile" &&
	kiln build -q -t "localhost/diff-$id" "$@" "$ctx" >"$TRASH/k-$id.id" &&
	kiln save -o "$TRASH/k-$id.tar" "localhost/diff-$id" &&
	buildah_build "localhost/diff-$id" "$ctx" "$@" >"$TRASH/b-$id.log" 2>&1 || {
		tail -n 20 "$TRASH/b-$id.log"
		return 1
	}
	buildah_save "localhost/diff-$id" "$TRASH/b-$id.tar"
}

diff_check() {
	id=$1
	shift
	# shellcheck disable=SC2086
	python3 "$IMAGE_DIFF" $DIFF_ALWAYS "$@" "$TRASH/k-$id.tar" "$TRASH/b-$id.tar" \
		>"$TRASH/diff-$id.out" 2>&1 || {
		echo "kiln (first) and buildah (second) differ:"
		cat "$TRASH/diff-$id.out"
		return 1
	}
}

# diff_buildkit ID FIXTURE [FLAGS...] [-- IMAGE-DIFF OPTIONS...]: the same
# build by BuildKit (dockerd-lib.sh), compared with kiln's k-ID.tar.
diff_buildkit() {
	id=$1
	fixture=$2
	shift 2
	ctx=${DIFF_CTX:-$TRASH/ctx}
	flags=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags="$flags $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	cp "$DIFF_FIXTURES/$fixture.Dockerfile" "$ctx/Dockerfile" &&
	dk_build "localhost/diff-$id" "$ctx" $flags >"$TRASH/d-$id.log" 2>&1 || {
		tail -n 20 "$TRASH/d-$id.log"
		return 1
	}
	dk save -o "$TRASH/d-$id.tar" "localhost/diff-$id" &&
	python3 "$IMAGE_DIFF" "$@" "$TRASH/k-$id.tar" "$TRASH/d-$id.tar" >"$TRASH/diffd-$id.out" 2>&1 || {
		echo "kiln (first) and BuildKit (second) differ:"
		cat "$TRASH/diffd-$id.out"
		return 1
	}
}

# diff_run ID CMD...: kiln's image run by podman (loaded from kiln save's
# archive), stdout in run-ID.out; diff_kiln_run: the same with kiln run.
diff_run() {
	id=$1
	shift
	podman load -q -i "$TRASH/k-$id.tar" >/dev/null &&
	podman run --rm --network none "localhost/diff-$id" "$@" >"$TRASH/run-$id.out"
}

diff_kiln_run() {
	id=$1
	shift
	kiln run --rm "localhost/diff-$id" "$@" >"$TRASH/kiln-run-$id.out"
}

# cfg_of ARCHIVE JQ: a jq expression over the image config in a docker
# archive (compact output)
cfg_of() {
	tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r ".[0].Config")" | jq -c "$2"
}

# Top level of a test file (not in a case: prerequisites are functions of
# the test's shell): start a private dockerd when docker.io is installed,
# load the base into it, and define the BUILDKIT prerequisite.
diff_start_buildkit() {
	[ "$(id -u)" = 0 ] && [ -x /usr/sbin/dockerd ] && [ -x "$DOCKER_CLI" ] || {
		echo "# BuildKit comparisons skipped: docker.io (dockerd 20.10) is not installed"
		return 0
	}
	if dockerd_start && dk load -q -i "$TRASH/busybox-saved.tar" >/dev/null; then
		# shellcheck disable=SC2317
		buildkit() { :; }
	else
		echo "# BuildKit comparisons skipped: dockerd did not start (see $DOCKERD_DIR/dockerd.log)"
	fi
}
