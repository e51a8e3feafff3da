#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# RUN --mount=type=ssh and kiln build --ssh: a real ssh-agent's keys listed
# by ssh-add inside the RUN (through kiln's relay socket, SSH_AUTH_SOCK
# set), the socket's owner and mode for a USER, private key files loaded
# into an agent kiln starts, an agent mount skipped when not required, and
# nothing of it left in the image.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX,SSH-AGENT,SSH-ADD,SSH-KEYGEN 'setup: an agent with a key, ssh-add in an image' '
	build_base && mkdir -p ctx/root &&
	ssh-keygen -q -t ed25519 -N "" -C kiln-agent-key -f key &&
	ssh-keygen -q -t ed25519 -N "" -C kiln-file-key -f filekey &&
	eval "$(ssh-agent -s -a "$TRASH/agent.sock")" >/dev/null &&
	echo "$SSH_AGENT_PID" >agent.pid &&
	SSH_AUTH_SOCK=$TRASH/agent.sock ssh-add -q key &&
	SSH_AUTH_SOCK=$TRASH/agent.sock ssh-add -l >agent-keys &&
	for f in $(command -v ssh-add) $(ldd "$(command -v ssh-add)" | grep -o "/[^ ]*"); do
		mkdir -p "ctx/root$(dirname "$f")" && cp -L "$f" "ctx/root$f" || return 1
	done &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	COPY root/ /
	EOF
	kiln build -q -t sshbase ctx >/dev/null
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SSH-AGENT 'ssh-add -l in the RUN lists the key added outside' '
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM sshbase
	RUN --mount=type=ssh sh -c "echo \$SSH_AUTH_SOCK >/sock; stat -c \"%a %u:%g %F\" \$SSH_AUTH_SOCK >/sock.stat; ssh-add -l >/keys"
	EOF
	SSH_AUTH_SOCK=$TRASH/agent.sock kiln build -q --ssh default -o type=local,dest=r1 ctx \
		>/dev/null &&
	test_cmp agent-keys r1/keys &&
	echo /run/buildkit/ssh_agent.0 >expect && test_cmp expect r1/sock &&
	echo "600 0:0 socket" >expect && test_cmp expect r1/sock.stat &&
	! test -e r1/run/buildkit &&
	kiln build -q --no-cache --ssh default="$TRASH/agent.sock" -o type=local,dest=r2 ctx \
		>/dev/null &&
	test_cmp agent-keys r2/keys
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SSH-AGENT 'an id, a target (a relative one under WORKDIR), and a USER the socket is given to' '
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM sshbase
	USER 1000:1000
	RUN --mount=type=ssh,id=work,target=/tmp/agent,uid=1000 sh -c "echo \$SSH_AUTH_SOCK >/tmp/sock; ssh-add -l >/tmp/keys"
	RUN --mount=type=ssh,id=work sh -c "ssh-add -l >/tmp/denied 2>&1; echo \$? >/tmp/denied.rc"
	WORKDIR /w
	RUN --mount=type=ssh,id=work,target=relsock sh -c "echo \$SSH_AUTH_SOCK >/tmp/relsock"
	EOF
	kiln build -q --ssh work="$TRASH/agent.sock" -o type=local,dest=r3 ctx >/dev/null &&
	echo /tmp/agent >expect && test_cmp expect r3/tmp/sock &&
	echo /w/relsock >expect && test_cmp expect r3/tmp/relsock &&
	test_cmp agent-keys r3/tmp/keys &&
	test "$(cat r3/tmp/denied.rc)" != 0
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SSH-AGENT,SSH-ADD 'private key files: an agent kiln starts and stops' '
	ssh-keygen -l -f filekey.pub | cut -d" " -f2 >expect &&
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM sshbase
	RUN --mount=type=ssh,id=deploy ssh-add -l | cut -d" " -f2 >/keys
	EOF
	kiln build -q --ssh deploy="$TRASH/filekey" -o type=local,dest=r4 ctx >/dev/null &&
	test_cmp expect r4/keys &&
	test_expect_code 1 kiln build -q --no-cache --ssh deploy="$TRASH/key.pub" ctx 2>err &&
	test_grep "failed to add the keys to an agent" err
'

test_expect_success ROOT,OVERLAY,BUSYBOX,SSH-AGENT 'an agent not given: skipped unless required; bad --ssh' '
	cat >ctx/Dockerfile <<-"EOF" &&
	FROM sshbase
	RUN --mount=type=ssh,id=absent sh -c "test -e /run/buildkit/ssh_agent.0 || echo skipped >/absent"
	EOF
	kiln build -q -o type=local,dest=r5 ctx >/dev/null &&
	echo skipped >expect && test_cmp expect r5/absent &&
	test_expect_code 1 kiln build -q --ssh x=/nonexistent ctx 2>err &&
	test_grep "ssh x: /nonexistent" err &&
	test_expect_code 1 kiln build -q --ssh a="$TRASH/agent.sock" --ssh a="$TRASH/agent.sock" \
		ctx 2>err &&
	test_grep "invalid duplicate ID a" err &&
	test_expect_code 1 env -u SSH_AUTH_SOCK "$KILN" build -q --ssh default ctx 2>err &&
	test_grep "invalid empty ssh agent socket" err
'

test_expect_success SSH-AGENT 'stop the agent' '
	if test -s agent.pid; then kill "$(cat agent.pid)"; fi
'

test_done
