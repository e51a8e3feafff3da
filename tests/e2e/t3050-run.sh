#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kiln run over images in the store: Docker's Entrypoint/Cmd rules, the
# image's Env, WorkingDir and User with the flags' overrides, a throwaway
# writable layer, exit codes, and the same command lines checked against
# podman where it runs here.
. "$(dirname "$0")/test-lib.sh"

make_rootfs() {
	mkdir -p "$1/bin" "$1/etc" &&
	cp /bin/busybox "$1/bin/busybox" &&
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet" || return 1
	done &&
	printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' \
		>"$1/etc/passwd" &&
	printf 'root:x:0:\nalice:x:1000:\nstaff:x:50:alice\n' >"$1/etc/group"
}

arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)

# make_image NAME CONFIG-OBJECT: a docker-archive of one layer (base.tar)
# with the given "config" object, loaded into kiln's store as NAME.
make_image() {
	rm -rf img && mkdir img &&
	cp base.tar img/layer.tar &&
	diff_id=$(sha256sum <base.tar | cut -d" " -f1) &&
	printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$arch" "$2" "$diff_id" >img/config.json &&
	cfg=$(sha256sum <img/config.json | cut -d" " -f1) &&
	mv img/config.json img/$cfg.json &&
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cfg" "$1" \
		>img/manifest.json &&
	file=$(echo "$1" | tr : -).tar &&
	tar -C img -cf "$file" . &&
	kiln load -q -i "$file"
}

test_expect_success ROOT,BUSYBOX,OVERLAY 'set up images' '
	make_rootfs base &&
	tar -C base -cf base.tar . &&
	make_image plain:1 "{}" &&
	make_image cmd-only:1 "{\"Cmd\":[\"/bin/echo\",\"from-cmd\"]}" &&
	make_image ep-cmd:1 "{\"Entrypoint\":[\"/bin/echo\",\"ep\"],\"Cmd\":[\"c1\",\"c2\"]}" &&
	make_image ep-only:1 "{\"Entrypoint\":[\"/bin/echo\",\"only-ep\"]}" &&
	make_image conf:1 "{\"Env\":[\"A=image\",\"PATH=/bin:/custom\",\"B=b\"],\"WorkingDir\":\"/app/dir\",\"User\":\"alice\",\"Cmd\":[\"sh\",\"-c\",\"id -u; pwd; echo \$A \$B \$PATH\"]}" &&
	kiln images >list &&
	test_grep "ep-cmd" list &&
	mkfifo ready
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'Entrypoint and Cmd combine as in docker' '
	test "$(kiln run ep-cmd:1)" = "ep c1 c2" &&
	test "$(kiln run ep-cmd:1 x y)" = "ep x y" &&
	test "$(kiln run ep-only:1)" = "only-ep" &&
	test "$(kiln run ep-only:1 more)" = "only-ep more" &&
	test "$(kiln run cmd-only:1)" = "from-cmd" &&
	test "$(kiln run cmd-only:1 /bin/echo other)" = "other" &&
	test "$(kiln run --entrypoint /bin/echo ep-cmd:1)" = "" &&
	test "$(kiln run --entrypoint /bin/echo ep-cmd:1 z)" = "z" &&
	test "$(kiln run --entrypoint "" ep-cmd:1 /bin/echo q)" = "q"
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'no command at all is an error (125)' '
	test_expect_code 125 kiln run plain:1 2>err &&
	test_grep "no command" err &&
	test_expect_code 125 kiln run --entrypoint "" ep-only:1 2>err &&
	test_grep "no command" err
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'an unknown image is an error (125), a usage error 2' '
	test_expect_code 125 kiln run no-such-image:1 true 2>err &&
	test_grep "no image" err &&
	test_expect_code 2 kiln run 2>err &&
	test_grep "missing IMAGE" err &&
	test_expect_code 2 kiln run --network bridge plain:1 true 2>err &&
	test_expect_code 2 kiln run --name "-bad" plain:1 true 2>err
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'images resolve by name, short name, id and id prefix' '
	id=$(kiln inspect plain:1 | sed -n "s/.*\"Id\": *\"\(sha256:[0-9a-f]*\)\".*/\1/p" | head -n 1) &&
	test -n "$id" &&
	kiln run plain:1 true &&
	kiln run "docker.io/library/plain:1" true &&
	kiln run "$id" true &&
	kiln run "$(echo "$id" | cut -c8-19)" true
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'the image'"'"'s Env, WorkingDir and User are used' '
	kiln run conf:1 >out &&
	printf "1000\n/app/dir\nimage b /bin:/custom\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX,OVERLAY '-e, -w and -u override them' '
	kiln run -e A=flag -e C=c -w /else -u root conf:1 sh -c "id -u; pwd; echo \$A \$B \$C" >out &&
	printf "0\n/else\nflag b c\n" >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'the user as docker run sets it up: groups, exec checks' '
	for u in alice alice:alice 1234:5678 root; do
		kiln run -u $u plain:1 sed -n "s/^Groups:\t*//p" /proc/self/status || return 1
	done >out &&
	printf "50 1000 \n1000 \n5678 \n0 \n" >expect && test_cmp expect out &&
	mkdir rootonly && cp /bin/busybox rootonly/true && chmod 700 rootonly/true &&
	test_expect_code 126 kiln run -u alice -v "$TRASH/rootonly:/ro" plain:1 /ro/true \
		2>err &&
	test_grep "Permission denied" err &&
	kiln run -v "$TRASH/rootonly:/ro" plain:1 /ro/true
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'PATH, HOSTNAME and HOME come as docker sets them' '
	kiln run --hostname hh plain:1 sh -c "echo \$PATH; echo \$HOSTNAME; echo \$HOME; hostname" >out &&
	printf "%s\n" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin hh /root hh >expect &&
	test_cmp expect out &&
	kiln run --name named plain:1 hostname >out &&
	echo named >expect &&
	test_cmp expect out &&
	kiln run plain:1 hostname >out &&
	test_grep -E "^[0-9a-f]{12}$" out
'

test_expect_success ROOT,BUSYBOX,OVERLAY '--add-host adds /etc/hosts entries' '
	kiln run --hostname hh --add-host db:10.1.2.3 --add-host gw=host-gateway plain:1 \
		cat /etc/hosts >out &&
	printf "127.0.0.1\tlocalhost hh\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\n%s\n" \
		"10.1.2.3	db" "127.0.0.1	gw" >expect &&
	test_cmp expect out &&
	test_expect_code 2 kiln run --add-host db:x plain:1 true 2>err &&
	test_grep "invalid host db:x" err
'

test_expect_success ROOT,BUSYBOX,OVERLAY '--ulimit and --shm-size' '
	kiln run --ulimit nofile=512:1024 --ulimit core=0 --shm-size 16m plain:1 \
		sh -c "ulimit -n; ulimit -Hn; ulimit -c; df -k /dev/shm | tail -1" >out &&
	sed -n 1,3p out >got && printf "512\n1024\n0\n" >expect && test_cmp expect got &&
	test "$(sed -n 4p out | tr -s " " | cut -d" " -f2)" = 16384 &&
	kiln run plain:1 sh -c "df -k /dev/shm | tail -1" >out &&
	test "$(tr -s " " <out | cut -d" " -f2)" = 65536 &&
	test_expect_code 2 kiln run --ulimit nofile=2:1 plain:1 true 2>err &&
	test_grep "soft limit must be less than or equal to hard limit" err
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'exit codes and signals of the command pass through' '
	test_expect_code 3 kiln run plain:1 sh -c "exit 3" &&
	test_expect_code 137 kiln run plain:1 sh -c "kill -9 \$\$" &&
	test_expect_code 127 kiln run plain:1 no-such-command 2>err &&
	test_grep "no-such-command" err &&
	test_expect_code 126 kiln run plain:1 /etc/passwd 2>err
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'each run starts from the image: writes are thrown away' '
	kiln run --rm plain:1 sh -c "echo scribble >/etc/scribble && rm /bin/ls" &&
	kiln run plain:1 sh -c "test ! -e /etc/scribble && test -e /bin/ls" &&
	ls "$KILN_ROOT/snapshots/active" >active &&
	test_must_fail test -s active
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'the image'"'"'s layer is unpacked once and never changed' '
	ls "$KILN_ROOT/snapshots/layers" >layers &&
	test "$(wc -l <layers)" = 1 &&
	layer="$KILN_ROOT/snapshots/layers/$(cat layers)" &&
	(cd "$layer" && find . | sort) >before &&
	kiln run plain:1 sh -c "rm -rf /bin/busybox-nope /etc/passwd; echo x >/new" &&
	(cd "$layer" && find . | sort) >after &&
	test_cmp before after
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'volumes, tmpfs, read-only root and -i' '
	mkdir -p vol &&
	echo from-host >vol/in &&
	echo piped | kiln run -i -v "$TRASH/vol:/vol" --tmpfs /tmp plain:1 \
		sh -c "cat /vol/in; cat; echo out >/vol/out; echo t >/tmp/t" >out &&
	printf "from-host\npiped\n" >expect &&
	test_cmp expect out &&
	test "$(cat vol/out)" = out &&
	test_must_fail kiln run --read-only plain:1 touch /x &&
	for f in hosts resolv.conf hostname; do
		test_must_fail kiln run --read-only plain:1 sh -c "echo x >>/etc/$f" || return 1
	done
'

test_expect_success ROOT,BUSYBOX,OVERLAY '--tmpfs takes docker'"'"'s options; noexec by default' '
	test_expect_code 126 kiln run --tmpfs /t plain:1 sh -c "cp /bin/busybox /t/true && /t/true" &&
	kiln run --tmpfs /t:exec,nosuid,nodev plain:1 sh -c "cp /bin/busybox /t/true && /t/true" &&
	kiln run --tmpfs /t:uid=1000,gid=50,mode=0750 plain:1 stat -c "%u:%g %a" /t >out &&
	echo "1000:50 750" >expect && test_cmp expect out &&
	test_expect_code 2 kiln run --tmpfs /t:bogus plain:1 true 2>err &&
	test_grep "tmpfs options are" err
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'network host by default, none on request' '
	ls /sys/class/net | sort >host-ifaces &&
	kiln run plain:1 ls /sys/class/net >ifaces &&
	sort ifaces >sorted && test_cmp host-ifaces sorted &&
	kiln run --network none plain:1 ls /sys/class/net >ifaces &&
	echo lo >expect &&
	test_cmp expect ifaces &&
	kiln run --network host --add-host extra:10.1.2.3 plain:1 \
		sh -c "hostname; cat /etc/hosts" >out &&
	{ hostname && cat /etc/hosts && printf "10.1.2.3\textra\n"; } >expect &&
	test_cmp expect out
'

test_expect_success ROOT,BUSYBOX,OVERLAY 'SIGTERM to kiln run reaches the command' '
	"$KILN" run -v "$TRASH/ready:/ready" plain:1 sh -c \
		"trap \"exit 9\" TERM; echo up >/ready; while :; do :; done" &
	pid=$! &&
	read -r line <ready &&
	kill -TERM $pid &&
	{ wait $pid; code=$?; } &&
	test $code = 9
'

test_expect_success ROOT,BUSYBOX,OVERLAY,SCRIPT '-it gives an interactive terminal' '
	printf "echo interactive-\$((1 + 1))\nexit 4\n" >input &&
	test_expect_code 4 script -qec "\"$KILN\" run -it plain:1 sh" /dev/null <input >out &&
	tr -d "\r" <out >clean &&
	test_grep "^interactive-2$" clean
'

test_expect_success ROOT,BUSYBOX,OVERLAY '-it with input from a pipe is refused, as docker refuses it' '
	echo x | test_expect_code 1 kiln run -it plain:1 cat >out 2>err &&
	test_grep "the input device is not a TTY" err && test ! -s out &&
	echo x | kiln run -i plain:1 cat >out && echo x >expect && test_cmp expect out
'

# podman does not create a missing -w directory (docker and kiln do), so
# the comparison uses directories that exist or come from the image.
test_expect_success ROOT,BUSYBOX,OVERLAY,PODMAN 'podman runs the same command lines with the same results' '
	n=$(ulimit -Hn) &&
	: >podman-ids &&
	for i in ep-cmd ep-only cmd-only conf; do
		podman load -q -i $i-1.tar >/dev/null &&
		podman images -q localhost/$i:1 >>podman-ids || exit 1
	done &&
	P="podman run --rm --runtime runc --ulimit nofile=$n:$n --ulimit nproc=32768:32768 --network none" &&
	for args in "ep-cmd:1" "ep-cmd:1 x y" "ep-only:1 more" "cmd-only:1" \
		"--entrypoint /bin/echo ep-cmd:1 z" "conf:1" "-e A=flag -u root conf:1" "-w /etc -u 1000:50 conf:1"; do
		# shellcheck disable=SC2086
		p=$($P $args 2>&1) || { echo "podman $args: $p"; echo 1 >failed; break; }
		# shellcheck disable=SC2086
		k=$(kiln run --network none $args 2>&1) || { echo "kiln $args: $k"; echo 1 >failed; break; }
		test "$p" = "$k" || { echo "$args: podman [$p] kiln [$k]"; echo 1 >failed; break; }
	done;
	# shellcheck disable=SC2046
	podman rmi -f $(cat podman-ids) >/dev/null 2>&1;
	test_must_fail test -e failed
'

test_done
