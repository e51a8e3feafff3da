/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statx(STATX_MNT_ID) on its own: glibc 2.36's struct statx lacks stx_mnt_id,
 * so this file uses the kernel's struct and must not include <sys/stat.h>.
 */
#include <fcntl.h>
#include <linux/stat.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/exec-private.h"

uint64_t kiln_exec_mnt_id(int fd)
{
	struct statx stx = { 0 };
	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return 0;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return 0;
	return stx.stx_mnt_id;
}
