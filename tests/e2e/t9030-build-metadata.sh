#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The metadata instructions and the image config they make, as BuildKit
# writes it: ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR (a layer, its
# directory made), STOPSIGNAL, SHELL, MAINTAINER, ARG; one history entry
# per instruction with BuildKit's created_by and empty_layer; the layers
# and the history agree; a rebuild from the cache gives the same image id.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

test_expect_success ROOT,OVERLAY,BUSYBOX 'setup: a Dockerfile with every metadata instruction' '
	build_base && mkdir ctx &&
	cat >ctx/Dockerfile <<-EOF &&
	FROM $BB
	MAINTAINER Jane Doe <jane@example.com>
	ENV A=1 B="two words"
	ENV LEGACY value with spaces
	ENV A=3
	ARG VERSION=1.2
	LABEL org.opencontainers.image.version=\$VERSION "multi word"=yes
	EXPOSE 8080 53/udp 9000-9001/tcp
	VOLUME ["/data", "/cache"]
	VOLUME /logs
	USER daemon:daemon
	WORKDIR /srv
	WORKDIR app
	WORKDIR /
	STOPSIGNAL SIGQUIT
	SHELL ["/bin/sh", "-euc"]
	EOF
	kiln build -q -t meta:1 ctx >id
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'the config holds what the instructions set' '
	test "$(cfg meta:1 .Author)" = "\"Jane Doe <jane@example.com>\"" &&
	test "$(cfg meta:1 .Config.Env)" = \
		"[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"A=3\",\"B=two words\",\"LEGACY=value with spaces\"]" &&
	test "$(cfg meta:1 .Config.Labels)" = \
		"{\"multi word\":\"yes\",\"org.opencontainers.image.version\":\"1.2\"}" &&
	test "$(cfg meta:1 .Config.ExposedPorts)" = \
		"{\"53/udp\":{},\"8080/tcp\":{},\"9000/tcp\":{},\"9001/tcp\":{}}" &&
	test "$(cfg meta:1 .Config.Volumes)" = "{\"/cache\":{},\"/data\":{},\"/logs\":{}}" &&
	test "$(cfg meta:1 .Config.User)" = "\"daemon:daemon\"" &&
	test "$(cfg meta:1 .Config.WorkingDir)" = "\"/\"" &&
	test "$(cfg meta:1 .Config.StopSignal)" = "\"SIGQUIT\"" &&
	test "$(cfg meta:1 .Config.Shell)" = "[\"/bin/sh\",\"-euc\"]"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'one history entry per instruction, as BuildKit writes them' '
	cfg meta:1 "[.History[1:][] | [.created_by, (.empty_layer // false)]]" | jq -r ".[] | @tsv" >history &&
	cat >expect <<-"EOF" &&
	MAINTAINER Jane Doe <jane@example.com>	true
	ENV A=1 B=two words	true
	ENV LEGACY=value with spaces	true
	ENV A=3	true
	ARG VERSION=1.2	true
	LABEL org.opencontainers.image.version=1.2 multi word=yes	true
	EXPOSE [53/udp 8080/tcp 9000/tcp 9001/tcp]	true
	VOLUME [/data /cache]	true
	VOLUME [/logs]	true
	USER daemon:daemon	true
	WORKDIR /srv	false
	WORKDIR /srv/app	false
	WORKDIR /	true
	STOPSIGNAL SIGQUIT	true
	SHELL [/bin/sh -euc]	true
	EOF
	test_cmp expect history &&
	test "$(cfg meta:1 "[.History[].comment] | unique")" = \
		"[\"Imported from $TRASH/busybox.tar\",\"buildkit.dockerfile.v0\"]"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'layers and non-empty history entries agree; WORKDIR made the directories' '
	test "$(cfg meta:1 ".RootFS.Layers | length")" = \
		"$(cfg meta:1 "[.History[] | select(.empty_layer != true)] | length")" &&
	rootfs_of meta:1 rootfs &&
	test "$(stat_of rootfs srv/app)" = "755 1:1" &&
	test "$(stat_of rootfs srv)" = "755 1:1"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a rebuild from the cache gives the same image id and times' '
	kiln build -q -t meta:1 ctx >id2 && test_cmp id id2 &&
	test "$(cfg meta:1 .Created)" = "$(cfg meta:1 ".History[-1].created")"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'SOURCE_DATE_EPOCH sets the times of the config and history' '
	kiln build -q -t meta:epoch --build-arg SOURCE_DATE_EPOCH=1700000000 ctx >/dev/null &&
	test "$(cfg meta:epoch .Created)" = "\"2023-11-14T22:13:20Z\"" &&
	test "$(cfg meta:epoch "[.History[1:][].created] | unique")" = "[\"2023-11-14T22:13:20Z\"]"
'

test_expect_success ROOT,OVERLAY,BUSYBOX 'a scratch image of metadata only is a valid image' '
	printf "FROM scratch\nLABEL only=metadata\n" >ctx/Dockerfile &&
	kiln build -q -t meta:scratch ctx >/dev/null &&
	test "$(cfg meta:scratch ".RootFS.Layers | length")" = 1 &&
	test "$(cfg meta:scratch .Config.Labels.only)" = "\"metadata\"" &&
	test "$(cfg meta:scratch .Config.WorkingDir)" = "\"/\"" &&
	kiln fsck >out && test_grep "no problems found" out
'

test_done
