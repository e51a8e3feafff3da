#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Stages that run at the same time start sandboxes and commit snapshots at
# the same moments. A sandbox started while another stage commits must not
# keep that stage's overlay alive: overlayfs marks an upper directory in
# use until its overlay is gone, and the next step, which stacks the
# committed layer as a lower directory, would get the kernel's "lowerdir
# is in-use as upperdir/workdir of another mount" warning (undefined
# behaviour). Runs alone (meson): the kernel log is the machine's.
. "$(dirname "$0")/test-lib.sh"
. "$KILN_SOURCE_ROOT/tests/e2e/t9000-build-lib.sh"

# the prerequisite KERNEL_LOG: a function of that name exists when root can read the log
if dmesg >/dev/null 2>&1; then
	kernel_log() { dmesg; }
fi

in_use_warnings() {
	kernel_log | grep -c "is in-use as upperdir/workdir" || true
}

test_expect_success ROOT,OVERLAY,BUSYBOX,KERNEL_LOG 'setup: three stages of twelve RUN steps' '
	build_base && mkdir ctx &&
	{
		for s in a b c; do
			echo "FROM $BB AS $s"
			for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "RUN echo $s$i >/$s$i"; done
		done &&
		echo "FROM $BB" &&
		for s in a b c; do echo "COPY --from=$s /${s}12 /"; done
	} >par.Dockerfile
'

test_expect_success ROOT,OVERLAY,BUSYBOX,KERNEL_LOG 'no committed layer is stacked while its overlay lives' '
	before=$(in_use_warnings) &&
	for n in 1 2 3 4 5 6; do
		kiln build -q --no-cache -j 3 -t par:$n -f par.Dockerfile ctx >/dev/null || exit 1
	done &&
	after=$(in_use_warnings) &&
	test "$after" = "$before" &&
	kiln run --rm par:6 cat /a12 /b12 /c12 >out &&
	printf "a12\nb12\nc12\n" >expect && test_cmp expect out
'

# The next step stacks a layer while the overlay it was written through is
# still being torn down (on the snapshotter's reaper): what the step wrote
# moved out of the upper directory that overlayfs marks in use, so the
# directory stacked is another one.
test_expect_success ROOT,OVERLAY,BUSYBOX,KERNEL_LOG 'a layer stacks at once after the RUN that wrote it' '
	cat >seq.Dockerfile <<-EOF &&
	FROM $BB AS gen
	RUN mkdir /out && i=0; while [ \$i -lt 600 ]; do echo \$i >/out/f\$i; i=\$((i+1)); done
	RUN ls /out | wc -l >/count && rm /out/f0
	FROM $BB
	COPY --from=gen /out /data
	COPY --from=gen /count /
	RUN ls /data | wc -l >/left
	EOF
	before=$(in_use_warnings) &&
	for n in 1 2 3; do
		kiln build -q --no-cache -t seq:$n -f seq.Dockerfile ctx >/dev/null || exit 1
	done &&
	after=$(in_use_warnings) &&
	test "$after" = "$before" &&
	kiln run --rm seq:3 cat /count /left /data/f599 >out &&
	printf "600\n599\n599\n" >expect && test_cmp expect out
'

test_done
