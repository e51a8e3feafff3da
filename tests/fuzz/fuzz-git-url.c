/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Git source URLs (a Dockerfile's ADD, a build context): never crash, and
 * an accepted URL's parts are consistent: the remote is the input's prefix,
 * the options are tri-states, a tag or branch ref carries its refs/ prefix
 * only when the query said tag= or branch=.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "build/git-url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096 || memchr(data, 0, size))
		return 0;
	cleanup_free char *url = kiln_strndup((const char *) data, size);
	if (!url)
		return 0;
	struct bb_git_url u;
	struct kiln_error err = KILN_ERROR_INIT;
	if (bb_git_url_parse(url, &u, &err) < 0) {
		if (!err.msg)
			__builtin_trap();
		kiln_error_release(&err);
		return 0;
	}
	if (!u.remote || strncmp(url, u.remote, strlen(u.remote)) != 0)
		__builtin_trap();
	if (u.keep_git_dir < -1 || u.keep_git_dir > 1 || u.submodules < -1 || u.submodules > 1)
		__builtin_trap();
	if ((u.ref && !*u.ref) || (u.checksum && !*u.checksum))
		__builtin_trap();
	if (u.checksum && !u.ref)
		__builtin_trap(); /* a checksum alone is the ref */
	bb_git_url_release(&u);
	return 0;
}
