#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln debug sandbox: a command runs in a busybox root directory; its output,
# input, environment and exit status come through; bad commands and usage
# errors get docker's exit codes.
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

test_expect_success ROOT,BUSYBOX 'set up a busybox root directory' '
	make_rootfs rootfs &&
	test -x rootfs/bin/sh
'

test_expect_success ROOT,BUSYBOX 'a command runs and its output comes through' '
	kiln debug sandbox rootfs -- echo hello world >out &&
	echo "hello world" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'the separator -- is optional' '
	kiln debug sandbox rootfs sh -c "echo \$((6 * 7))" >out &&
	echo 42 >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'stderr is kept apart from stdout' '
	kiln debug sandbox rootfs sh -c "echo to-out; echo to-err >&2" >out 2>err &&
	echo to-out >expect-out &&
	echo to-err >expect-err &&
	test_cmp expect-out out &&
	test_cmp expect-err err
'

test_expect_success ROOT,BUSYBOX 'stdin is /dev/null without -i and the caller'"'"'s with -i' '
	echo piped >in &&
	kiln debug sandbox rootfs cat <in >out-no-i &&
	test_must_fail test -s out-no-i &&
	kiln debug sandbox -i rootfs cat <in >out-i &&
	test_cmp in out-i
'

test_expect_success ROOT,BUSYBOX 'exit codes pass through' '
	for code in 0 1 3 42 125 255; do
		test_expect_code $code kiln debug sandbox rootfs sh -c "exit $code" || exit 1
	done
'

test_expect_success ROOT,BUSYBOX 'a process killed by a signal exits 128+N' '
	test_expect_code 137 kiln debug sandbox rootfs sh -c "kill -KILL \$\$" &&
	test_expect_code 143 kiln debug sandbox rootfs sh -c "kill -TERM \$\$" &&
	test_expect_code 138 kiln debug sandbox rootfs sh -c "kill -USR1 \$\$"
'

test_expect_success ROOT,BUSYBOX 'a missing command exits 127 and says so' '
	test_expect_code 127 kiln debug sandbox rootfs no-such-command 2>err &&
	test_grep "exec \"no-such-command\"" err &&
	test_grep "PATH" err &&
	test_expect_code 127 kiln debug sandbox rootfs /bin/no-such-file 2>err &&
	test_grep "No such file or directory" err
'

test_expect_success ROOT,BUSYBOX 'a file that cannot be executed exits 126' '
	test_expect_code 126 kiln debug sandbox rootfs /etc/passwd 2>err &&
	test_grep "Permission denied" err
'

test_expect_success ROOT,BUSYBOX 'the command is found in the PATH of its environment' '
	mkdir -p rootfs/opt/tools &&
	printf "#!/bin/sh\necho from-opt\n" >rootfs/opt/tools/mytool &&
	chmod +x rootfs/opt/tools/mytool &&
	test_expect_code 127 kiln debug sandbox rootfs mytool 2>err &&
	kiln debug sandbox -e PATH=/opt/tools:/bin rootfs mytool >out &&
	echo from-opt >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'environment: -e sets, -e K copies from kiln, HOME from passwd' '
	KILN_TEST_VAR=from-caller &&
	export KILN_TEST_VAR &&
	kiln debug sandbox -e A=1 -e B="two words" -e KILN_TEST_VAR -e UNSET_HERE rootfs \
		sh -c "echo \$A; echo \$B; echo \$KILN_TEST_VAR; echo \${UNSET_HERE-unset}; echo \$HOME" >out &&
	printf "1\ntwo words\nfrom-caller\nunset\n/root\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'a later -e wins and HOME can be overridden' '
	kiln debug sandbox -e A=1 -e A=2 -e HOME=/elsewhere rootfs sh -c "echo \$A \$HOME" >out &&
	echo "2 /elsewhere" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX 'usage errors exit 2' '
	test_expect_code 2 kiln debug sandbox 2>err &&
	test_grep "missing ROOTFS" err &&
	test_expect_code 2 kiln debug sandbox rootfs 2>err &&
	test_grep "missing CMD" err &&
	test_expect_code 2 kiln debug sandbox --network bridge rootfs true 2>err &&
	test_grep "none or host" err &&
	test_expect_code 2 kiln debug sandbox -v relative:/x rootfs true 2>err &&
	test_grep "absolute" err &&
	test_expect_code 2 kiln debug sandbox --tmpfs /t:size=lots rootfs true 2>err &&
	test_grep "size" err
'

test_expect_success ROOT,BUSYBOX 'a root filesystem that does not exist is an error, not a crash' '
	test_expect_code 125 kiln debug sandbox does-not-exist true 2>err &&
	test_grep "root filesystem" err
'

test_expect_success ROOT,BUSYBOX 'a bad working directory and an unknown user fail before running' '
	test_expect_code 125 kiln debug sandbox -w relative rootfs true 2>err &&
	test_grep "absolute" err &&
	test_expect_code 125 kiln debug sandbox -u nobody-at-all rootfs true 2>err &&
	test_grep "unable to find user nobody-at-all" err
'

test_expect_success ROOT,BUSYBOX,SETPRIV 'without root the sandbox says what it needs' '
	chmod 755 "$TRASH" &&
	test_expect_code 125 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$KILN" debug sandbox "$TRASH/rootfs" true 2>err &&
	test_grep "needs root" err
'

test_done
