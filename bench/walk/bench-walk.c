/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The context walk alone, as a build's no-op rebuild pays it: find the
 * ignore file, compile it, walk the context through it, lstat every entry
 * that would be sent; print the paths (like find) or just count them.
 *
 *   bench-walk [--count] DIR
 *
 * Links only the ignore module and what it needs, so that process start-up
 * costs about what find's does (the kiln binary loads ~50 shared libraries).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "ignore/ignore.h"
#include "ignore/walk.h"

struct acc {
	int count_only;
	unsigned long entries;
	unsigned long long bytes;
};

static int on_entry(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct acc *a = userdata;
	a->entries++;
	if (S_ISREG(e->st->st_mode))
		a->bytes += (unsigned long long)e->st->st_size;
	if (!a->count_only && (fwrite(e->path, 1, e->path_len, stdout) != e->path_len ||
			       putchar('\n') == EOF))
		return -KILN_EIO;
	return 0;
}

int main(int argc, char **argv)
{
	struct acc a = { 0 };
	int i = 1;
	if (i < argc && strcmp(argv[i], "--count") == 0) {
		a.count_only = 1;
		i++;
	}
	if (i + 1 != argc) {
		fprintf(stderr, "usage: bench-walk [--count] DIR\n");
		return 2;
	}
	const char *dir = argv[i];
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_ignore_list l;
	char *file = NULL;
	int fd = -1;
	struct kiln_ignore_filter *f = NULL;
	int r = kiln_ignore_load_for_build(dir, NULL, &l, &file, &err);
	if (r == 0)
		r = kiln_ignore_open_root(dir, &fd, &err);
	if (r == 0) {
		struct kiln_ignore_filter_opt o = {
			.exclude = (const char *const *)l.patterns.items,
			.n_exclude = l.patterns.len,
			.exclude_lines = l.lines,
			.exclude_lens = l.lens,
			.exclude_source = l.source,
		};
		r = kiln_ignore_filter_new(fd, &o, &f, &err);
	}
	if (r == 0) {
		struct kiln_ignore_walk_opts wo = { .filters = &f, .n_filters = 1 };
		r = kiln_ignore_walk(fd, &wo, on_entry, &a, &err);
	}
	if (r < 0) {
		char *msg = kiln_error_format(&err);
		fprintf(stderr, "bench-walk: %s\n", msg ? msg : "error");
		free(msg);
	} else if (a.count_only) {
		printf("%lu entries, %llu bytes\n", a.entries, a.bytes);
	}
	kiln_error_release(&err);
	kiln_ignore_filter_free(f);
	kiln_ignore_list_release(&l);
	free(file);
	if (fd >= 0)
		close(fd);
	return r < 0 ? 1 : 0;
}
