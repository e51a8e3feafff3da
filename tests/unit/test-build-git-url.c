/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: git source URLs as BuildKit's dfgitutil parses them: the fragment
 * `#ref:subdir`, the Dockerfile 1.18 query options, how the two combine
 * and what they refuse.
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "build/git-url.h"
#include "tap.h"

static const char *or_none(const char *s)
{
	return s ? s : "-";
}

static void test_good(void)
{
	static const struct {
		const char *url, *remote, *ref, *subdir, *checksum;
		int keep, submodules;
	} cases[] = {
		{ "https://h/r.git", "https://h/r.git", NULL, NULL, NULL, -1, -1 },
		{ "https://h/r.git#main", "https://h/r.git", "main", NULL, NULL, -1, -1 },
		{ "https://h/r.git#main:sub/dir", "https://h/r.git", "main", "sub/dir", NULL, -1,
		  -1 },
		{ "https://h/r.git#:sub", "https://h/r.git", NULL, "sub", NULL, -1, -1 },
		{ "git@h:o/r.git#v1", "git@h:o/r.git", "v1", NULL, NULL, -1, -1 },
		{ "https://h/r.git?tag=v1", "https://h/r.git", "refs/tags/v1", NULL, NULL, -1, -1 },
		{ "https://h/r.git?branch=dev&subdir=docker", "https://h/r.git", "refs/heads/dev",
		  "docker", NULL, -1, -1 },
		{ "https://h/r.git?branch=refs/heads/dev", "https://h/r.git", "refs/heads/dev", NULL,
		  NULL, -1, -1 },
		{ "https://h/r.git?ref=pull/42/head", "https://h/r.git", "pull/42/head", NULL, NULL,
		  -1, -1 },
		{ "https://h/r.git?tag=v1&checksum=abc123", "https://h/r.git", "refs/tags/v1", NULL,
		  "abc123", -1, -1 },
		{ "https://h/r.git?commit=abc123", "https://h/r.git", "abc123", NULL, "abc123", -1,
		  -1 },
		{ "https://h/r.git?keep-git-dir&submodules=false", "https://h/r.git", NULL, NULL,
		  NULL, 1, 0 },
		{ "https://h/r.git?keep-git-dir=0&submodules=T", "https://h/r.git", NULL, NULL,
		  NULL, 0, 1 },
		{ "https://h/r.git?subdir=a%2Fb+c", "https://h/r.git", NULL, "a/b c", NULL, -1, -1 },
		{ "https://h/r.git?ref=main#main", "https://h/r.git", "main", NULL, NULL, -1, -1 },
		{ "https://h/r.git?subdir=s#main:s", "https://h/r.git", "main", "s", NULL, -1, -1 },
		{ "https://h/r.git?&tag=v1&", "https://h/r.git", "refs/tags/v1", NULL, NULL, -1,
		  -1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct bb_git_url u;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = bb_git_url_parse(cases[i].url, &u, &err);
		char got[512] = "", want[512];
		if (r == 0)
			snprintf(got, sizeof(got), "%s %s %s %s %d %d", u.remote, or_none(u.ref),
				 or_none(u.subdir), or_none(u.checksum), u.keep_git_dir,
				 u.submodules);
		else
			snprintf(got, sizeof(got), "error: %s", err.msg ? err.msg : "");
		snprintf(want, sizeof(want), "%s %s %s %s %d %d", cases[i].remote,
			 or_none(cases[i].ref), or_none(cases[i].subdir), or_none(cases[i].checksum),
			 cases[i].keep, cases[i].submodules);
		TAP_STR_EQ(got, want, "parsed: %s", cases[i].url);
		if (r == 0)
			bb_git_url_release(&u);
		kiln_error_release(&err);
	}
}

static void test_bad(void)
{
	static const struct {
		const char *url, *why;
	} cases[] = {
		{ "https://h/r.git?tag=v1&branch=main", "branch conflicts with tag" },
		{ "https://h/r.git?ref=dev#main", "ref conflicts: \"main\" vs \"dev\"" },
		{ "https://h/r.git?tag=v1#main", "ref conflicts: \"main\" vs \"refs/tags/v1\"" },
		{ "https://h/r.git?subdir=b#main:a", "subdir conflicts: \"a\" vs \"b\"" },
		{ "https://h/r.git?depth=1", "unexpected query \"depth\"" },
		{ "https://h/r.git?tag=", "query \"tag\" has no value" },
		{ "https://h/r.git?tag=a&tag=b", "query \"tag\" has multiple values" },
		{ "https://h/r.git?commit=a&checksum=b", "query \"checksum\" has multiple values" },
		{ "https://h/r.git?keep-git-dir=yes", "invalid keep-git-dir value: \"yes\"" },
		{ "https://h/r.git?submodules=2", "invalid submodules value: \"2\"" },
		{ "https://h/r.git?tag=%zz", "invalid query tag=%zz" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct bb_git_url u;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = bb_git_url_parse(cases[i].url, &u, &err);
		TAP_OK(r == -KILN_EPARSE && err.msg && !strcmp(err.msg, cases[i].why),
		       "refused: %s (%s)", cases[i].url, r == 0 ? "accepted" : or_none(err.msg));
		if (r == 0)
			bb_git_url_release(&u);
		kiln_error_release(&err);
	}
}

int main(void)
{
	test_good();
	test_bad();
	return tap_done();
}
