/* SPDX-License-Identifier: Apache-2.0 */
/* fsutil.NewFilterFS and FilterFS.Open's check. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "ignore/filter.h"

void kiln_ignore_filter_free(struct kiln_ignore_filter *f)
{
	if (!f)
		return;
	kiln_ignore_matcher_free(f->inc);
	kiln_ignore_matcher_free(f->exc);
	free(f);
}

KILN_DEFINE_CLEANUP(struct kiln_ignore_filter, kiln_ignore_filter_free)

int kiln_ignore_filter_new(int root_fd, const struct kiln_ignore_filter_opt *opt,
			   struct kiln_ignore_filter **ret, struct kiln_error *err)
{
	cleanup(kiln_ignore_filter_freep) struct kiln_ignore_filter *f = kiln_calloc(1, sizeof(*f));
	if (!f)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup(kiln_strv_release) struct kiln_strv inc = KILN_STRV_INIT;
	for (size_t i = 0; i < opt->n_include; i++)
		if (kiln_strv_push(&inc, opt->include[i]) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r;
	if (opt->n_follow > 0) {
		cleanup(kiln_strv_release) struct kiln_strv targets = KILN_STRV_INIT;
		int all = 0;
		r = kiln_ignore_follow_links(root_fd, opt->follow, opt->n_follow, &targets, &all, err);
		if (r < 0)
			return r;
		/* A follow path that is the root itself means "no include filter from links". */
		if (!all) {
			for (size_t i = 0; i < targets.len; i++)
				if (kiln_strv_push(&inc, targets.items[i]) < 0)
					return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			if ((r = kiln_ignore_dedupe_paths(&inc, &all, err)) < 0)
				return r;
		}
	}
	if (inc.len > 0) {
		r = kiln_ignore_matcher_new((const char *const *)inc.items, inc.len, &f->inc, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "include patterns");
	}
	if (opt->n_exclude > 0) {
		struct kiln_ignore_list l = {
			.patterns = { (char **)opt->exclude, opt->n_exclude, 0 },
			.lines = (unsigned *)opt->exclude_lines,
			.lens = (size_t *)opt->exclude_lens,
			.source = (char *)opt->exclude_source,
		};
		r = kiln_ignore_matcher_new_list(&l, &f->exc, err);
		if (r < 0)
			return r;
	}
	*ret = steal_ptr(&f);
	return 0;
}

struct kiln_ignore_matcher *kiln_ignore_filter_includes(const struct kiln_ignore_filter *f)
{
	return f->inc;
}

struct kiln_ignore_matcher *kiln_ignore_filter_excludes(const struct kiln_ignore_filter *f)
{
	return f->exc;
}

int kiln_ignore_filter_visible(struct kiln_ignore_filter *f, const char *path, size_t len,
			       struct kiln_error *err)
{
	int r;
	if (f->inc) {
		r = kiln_ignore_matches_or_parent(f->inc, path, len, NULL, err);
		if (r <= 0)
			return r;
	}
	if (f->exc) {
		r = kiln_ignore_matches_or_parent(f->exc, path, len, NULL, err);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return 1;
}
