#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# -t: a terminal from the sandbox's own devpts, relayed to kiln's; the window
# size follows the caller's; input typed goes through its line discipline;
# the exit code still comes through. script(1) gives kiln a terminal.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done
}

# Run a command line under a fresh terminal of the given size.
in_terminal() {
	rows=$1 cols=$2
	shift 2
	script -qec "stty rows $rows cols $cols; $*" /dev/null
}

test_expect_success ROOT,BUSYBOX,SCRIPT 'set up a busybox root directory' '
	make_rootfs rootfs
'

test_expect_success ROOT,BUSYBOX,SCRIPT '-t gives the command a terminal of its own devpts' '
	in_terminal 24 80 "\"$KILN\" debug sandbox -t rootfs sh -c \"tty; test -t 0 && test -t 1 && echo both\"" </dev/null >out &&
	tr -d "\r" <out >clean &&
	test_grep "^/dev/pts/0$" clean &&
	test_grep "^both$" clean
'

test_expect_success ROOT,BUSYBOX,SCRIPT 'the window size is the caller'"'"'s' '
	in_terminal 33 111 "\"$KILN\" debug sandbox -t rootfs stty size" </dev/null >out &&
	tr -d "\r" <out >clean &&
	test_grep "^33 111$" clean
'

# One dimension only: stty sets rows and cols with one ioctl each, and the
# command may see the first change before the second.
test_expect_success ROOT,BUSYBOX,SCRIPT 'a resize of the caller'"'"'s terminal reaches the command' '
	mkfifo ready &&
	cat >resize.sh <<-EOF &&
	"$KILN" debug sandbox -t -v "$TRASH/ready:/ready" rootfs sh -c \
		"trap \"stty size; exit 5\" WINCH; echo up >/ready; while :; do :; done" &
	pid=\$!
	read -r line <"$TRASH/ready"
	stty rows 50
	wait \$pid
	echo "exit \$?"
	EOF
	in_terminal 24 80 sh resize.sh </dev/null >out &&
	tr -d "\r" <out >clean &&
	test_grep "^50 80$" clean &&
	test_grep "^exit 5$" clean
'

test_expect_success ROOT,BUSYBOX,SCRIPT '-it: typed input reaches the command, exit code comes back' '
	printf "echo typed-\$((40 + 2))\nexit 7\n" >input &&
	test_expect_code 7 in_terminal 24 80 "\"$KILN\" debug sandbox -it rootfs sh" <input >out &&
	tr -d "\r" <out >clean &&
	test_grep "^typed-42$" clean
'

test_expect_success ROOT,BUSYBOX,SCRIPT 'the terminal is the user'"'"'s and is /dev/console' '
	mkdir -p rootfs/etc &&
	printf "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n" >rootfs/etc/passwd &&
	in_terminal 24 80 "\"$KILN\" debug sandbox -t -u alice rootfs sh -c \"stat -c %u \\\$(tty); stat -c %t:%T /dev/console \\\$(tty)\"" </dev/null >out &&
	tr -d "\r" <out >clean &&
	test "$(sed -n 1p clean)" = 1000 &&
	test "$(sed -n 2p clean)" = "$(sed -n 3p clean)"
'

test_expect_success ROOT,BUSYBOX,SCRIPT 'the caller'"'"'s terminal settings are restored' '
	in_terminal 24 80 "stty -g; \"$KILN\" debug sandbox -t rootfs true; stty -g" </dev/null >out &&
	tr -d "\r" <out >clean &&
	test "$(sed -n 1p clean)" = "$(sed -n 2p clean)"
'

test_done
