#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A private dockerd (Debian's docker.io, with its built-in BuildKit) for the
# differential suite, sourced after test-lib.sh. Everything lives under
# $TRASH/docker: data-root, exec-root, socket, pid file, log. No iptables,
# no bridge (RUN steps build with --network none), vfs storage (no mounts
# left behind), only loopback.
#
#   dockerd_start          start it; returns 1 when it does not answer
#   dockerd_stop           stop it (the pid it wrote, nothing else)
#   dk ARGS...             the docker CLI against it
#   dk_build TAG CTX [FLAGS...]
#                          DOCKER_BUILDKIT=1 docker build --network none

DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
DOCKERD_DIR=$TRASH/docker

dk() {
	"$DOCKER_CLI" -H "unix://$DOCKERD_DIR/docker.sock" "$@"
}

dockerd_start() {
	mkdir -p "$DOCKERD_DIR/data" "$DOCKERD_DIR/exec" || return 1
	# shellcheck disable=SC3045 # dash has ulimit -H
	nofile=$(ulimit -Hn)
	[ "$nofile" = unlimited ] && nofile=1048576
	cat >"$DOCKERD_DIR/daemon.json" <<-EOF
	{
	  "data-root": "$DOCKERD_DIR/data",
	  "exec-root": "$DOCKERD_DIR/exec",
	  "pidfile": "$DOCKERD_DIR/dockerd.pid",
	  "hosts": ["unix://$DOCKERD_DIR/docker.sock"],
	  "storage-driver": "vfs",
	  "iptables": false,
	  "ip6tables": false,
	  "ip-forward": false,
	  "ip-masq": false,
	  "bridge": "none",
	  "features": {"buildkit": true},
	  "exec-opts": ["native.cgroupdriver=cgroupfs"],
	  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": $nofile, "Soft": $nofile}}
	}
	EOF
	setsid /usr/sbin/dockerd --config-file "$DOCKERD_DIR/daemon.json" \
		</dev/null >"$DOCKERD_DIR/dockerd.log" 2>&1 &
	echo $! >"$DOCKERD_DIR/started.pid"
	# dockerd answers on its socket once it is ready: poll, bounded (20 s)
	tries=0
	until dk version >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ $tries -gt 100 ] || ! kill -0 "$(cat "$DOCKERD_DIR/started.pid")" 2>/dev/null; then
			tail -n 20 "$DOCKERD_DIR/dockerd.log" >&2
			dockerd_stop
			return 1
		fi
		sleep 0.2
	done
}

dockerd_stop() {
	[ -f "$DOCKERD_DIR/started.pid" ] || return 0
	pid=$(cat "$DOCKERD_DIR/started.pid")
	rm -f "$DOCKERD_DIR/started.pid"
	kill "$pid" 2>/dev/null || return 0
	# dockerd stops its containerd and unmounts before it exits (bounded)
	tries=0
	while kill -0 "$pid" 2>/dev/null && [ $tries -lt 150 ]; do
		tries=$((tries + 1))
		sleep 0.2
	done
	kill -9 "$pid" 2>/dev/null
	:
}

dk_build() {
	tag=$1
	ctx=$2
	shift 2
	DOCKER_BUILDKIT=1 dk build -q --network none -t "$tag" "$@" "$ctx"
}
