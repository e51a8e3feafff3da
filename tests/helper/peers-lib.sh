#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# podman and buildah for end-to-end tests, sourced after test-lib.sh. Both
# get their own storage and configuration under the test's scratch dir
# (vfs driver, runc as runtime, cgroupfs, ulimits this machine allows: crun
# cannot start containers on a hybrid cgroup layout, and root lacks
# CAP_SYS_RESOURCE for podman's default limits), so nothing touches
# /var/lib/containers and a test's images vanish with its scratch dir.
#
#   peers_setup            write the configuration (call in a setup case)
#   podman_load_run IMAGE ARCHIVE [ARGS...]
#                          podman load -i ARCHIVE, then podman run --rm
#                          --network none IMAGE ARGS...
#   buildah_build TAG CTX [ARGS...]
#                          buildah build (docker format, one layer per
#                          instruction, runc, no network) of CTX/Dockerfile
#   buildah_save TAG FILE  the image TAG as a docker archive (an OCI layout
#                          would lose the docker-only config fields:
#                          Healthcheck, Shell, OnBuild)
#   peers_cleanup          remove every container and image (last case)

export CONTAINERS_CONF="$TRASH/peers/containers.conf"
export CONTAINERS_STORAGE_CONF="$TRASH/peers/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$TRASH/peers/registries.conf"
# buildah and podman keep a few things under XDG_RUNTIME_DIR / TMPDIR
export TMPDIR="${TMPDIR:-/tmp}"

# shellcheck disable=SC3045 # dash has ulimit -H
peers_setup() {
	mkdir -p "$TRASH/peers" &&
	nofile=$(ulimit -Hn) &&
	if [ "$nofile" = unlimited ]; then nofile=1048576; fi &&
	cat >"$TRASH/peers/containers.conf" <<-EOF &&
	[containers]
	default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
	[engine]
	runtime = "runc"
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	EOF
	cat >"$TRASH/peers/storage.conf" <<-EOF &&
	[storage]
	driver = "vfs"
	graphroot = "$TRASH/peers/graph"
	runroot = "$TRASH/peers/run"
	EOF
	# no search registries: a short name is never looked up on the network
	cat >"$TRASH/peers/registries.conf" <<-EOF
	unqualified-search-registries = []
	EOF
}

podman_load_run() {
	img=$1
	archive=$2
	shift 2
	podman load -q -i "$archive" >/dev/null &&
	podman run --rm --network none "$img" "$@"
}

buildah_build() {
	tag=$1
	ctx=$2
	shift 2
	buildah build --format docker --layers --isolation oci --network none \
		--pull-never -t "$tag" "$@" "$ctx"
}

buildah_save() {
	rm -f "$2" &&
	buildah push -q "$1" "docker-archive:$2:$1" >/dev/null
}

peers_cleanup() {
	buildah rm -a >/dev/null 2>&1
	podman rm -a -f >/dev/null 2>&1
	podman rmi -a -f >/dev/null 2>&1
	buildah rmi -a -f >/dev/null 2>&1
	:
}
