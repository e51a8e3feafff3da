#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Registries for kiln's end-to-end tests, on 127.0.0.1 only, started and
# stopped by the test file itself (source it after test-lib.sh):
#
#   registry_start NAME [htpasswd FILE] [tls CERT KEY] [clientca CA]
#       Debian's docker-registry with storage and an access log under
#       $TRASH/reg-NAME; sets REG_NAME_PORT... through registry_port NAME.
#   fake_registry_start NAME [fake-registry.py options]
#       tests/helper/fake-registry.py (Bearer tokens, faults on demand).
#   registry_port NAME / registry_log NAME / registry_stop_all
#   registry_for_tests NAME
#       with the REGISTRY prerequisite, registry_start NAME; exports R as its
#       127.0.0.1:PORT (127.0.0.1:1, where nothing listens, without one).
#
# Readiness is read from the server's own "listening on" line through a
# FIFO: no sleeps. registry_stop_all runs from an EXIT trap.

REG_HELPER_DIR=${KILN_SOURCE_ROOT:-.}/tests/helper
REG_PIDS=""

registry_stop_all() {
	for p in $REG_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $REG_PIDS; do
		wait "$p" 2>/dev/null
	done
	REG_PIDS=""
}

reg_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# reg_wait_listening DIR: read the server's output from DIR/fifo until it says
# "listening on"; the rest keeps flowing into DIR/log. Fails if it exits first.
reg_wait_listening() {
	exec 9<"$1/fifo"
	while IFS= read -r line <&9; do
		printf '%s\n' "$line" >>"$1/log"
		case "$line" in
		*"listening on"*)
			cat <&9 >>"$1/log" &
			exec 9<&-
			return 0
			;;
		esac
	done
	exec 9<&-
	echo >&2 "registry in $1 did not start:"
	cat >&2 "$1/log"
	return 1
}

registry_for_tests() {
	if test_have_prereq REGISTRY; then
		registry_start "$1" || echo "# the registry did not start"
		R=127.0.0.1:$(registry_port "$1")
	else
		R=127.0.0.1:1
	fi
	export R
}

registry_start() {
	name=$1
	shift
	dir=$TRASH/reg-$name
	mkdir -p "$dir/data" || return 1
	port=$(reg_free_port) || return 1
	auth="" tls=""
	while [ $# -gt 0 ]; do
		case "$1" in
		htpasswd)
			auth="auth:
  htpasswd:
    realm: kiln-test
    path: $2"
			shift 2
			;;
		tls)
			tls="  tls:
    certificate: $2
    key: $3"
			shift 3
			;;
		clientca)
			tls="$tls
    clientcas:
      - $2"
			shift 2
			;;
		*)
			echo >&2 "registry_start: unknown option $1"
			return 1
			;;
		esac
	done
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
$auth
http:
  addr: 127.0.0.1:$port
  secret: kiln-test-secret
$tls
EOF
	rm -f "$dir/fifo"
	mkfifo "$dir/fifo" || return 1
	: >"$dir/log"
	docker-registry serve "$dir/config.yml" </dev/null >"$dir/fifo" 2>&1 &
	REG_PIDS="$REG_PIDS $!"
	echo "$port" >"$dir/port"
	reg_wait_listening "$dir"
}

fake_registry_start() {
	name=$1
	shift
	dir=$TRASH/reg-$name
	mkdir -p "$dir" || return 1
	rm -f "$dir/fifo" "$dir/port"
	mkfifo "$dir/fifo" || return 1
	: >"$dir/log"
	: >"$dir/requests"
	python3 "$REG_HELPER_DIR/fake-registry.py" --port-file "$dir/port" \
		--log "$dir/requests" "$@" </dev/null >"$dir/fifo" 2>&1 &
	REG_PIDS="$REG_PIDS $!"
	reg_wait_listening "$dir"
}

registry_port() {
	cat "$TRASH/reg-$1/port"
}

# The access log (docker-registry) or request log (fake) of a registry.
registry_log() {
	if [ -s "$TRASH/reg-$1/requests" ] || [ -e "$TRASH/reg-$1/requests" ]; then
		cat "$TRASH/reg-$1/requests"
	else
		cat "$TRASH/reg-$1/log"
	fi
}

# fake_fault NAME MODE [COUNT]
fake_fault() {
	curl -fsS "http://127.0.0.1:$(registry_port "$1")/_control/fault?mode=$2&count=${3:--1}" >/dev/null
}

# make_rootfs DIR TEXT: a tiny root filesystem with busybox and a marker file.
make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" &&
	cp "$(command -v busybox)" "$1/bin/busybox" &&
	ln -sf busybox "$1/bin/sh" &&
	ln -sf busybox "$1/bin/cat" &&
	printf '%s\n' "$2" >"$1/etc/marker"
}

# random_file PATH KIB: incompressible content.
random_file() {
	head -c "$(($2 * 1024))" /dev/urandom >"$1"
}
