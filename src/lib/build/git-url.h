/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/error.h"

/*
 * A git source as BuildKit's Dockerfile frontend reads it (dfgitutil):
 * `remote#ref:subdir`, and for URLs the query form of Dockerfile 1.18,
 * `remote?ref=…&tag=…&branch=…&subdir=…&checksum=…&keep-git-dir&submodules=false`
 * (`commit` is `checksum`'s other name). A tag is refs/tags/<tag>, a branch
 * refs/heads/<branch>; a checksum alone is also the ref.
 */
struct bb_git_url {
	char *remote;	  /* the repository, without fragment or query */
	char *ref;	  /* NULL: the remote's default branch */
	char *subdir;	  /* NULL: the whole tree */
	char *checksum;	  /* NULL, or what the commit (or annotated tag) starts with */
	int keep_git_dir; /* -1 not said, 0, 1 */
	int submodules;	  /* -1 not said (fetched), 0, 1 */
};

/** Parse `url`; the errors are BuildKit's ("ref conflicts: …", "unexpected query …"). */
int bb_git_url_parse(const char *url, struct bb_git_url *ret, struct kiln_error *err);
void bb_git_url_release(struct bb_git_url *u);
