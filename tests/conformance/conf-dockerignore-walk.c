/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance, dockerignore/walk/: fsutil's walker cases. Each case's tree
 * is created in a fresh temporary directory, walked through the filters its
 * opt.tsv describes, and the output compared with expected.txt in fsutil's
 * bufWalk format; open.tsv rows check FilterFS.Open's verdict.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "conf-dockerignore.h"
#include "ignore/walk.h"

struct opt_layer {
	struct kiln_strv include, exclude, follow;
};

struct walk_case {
	struct opt_layer layers[8];
	size_t nlayers;
	char *target;
};

static void case_release(struct walk_case *c)
{
	for (size_t i = 0; i < c->nlayers; i++) {
		kiln_strv_release(&c->layers[i].include);
		kiln_strv_release(&c->layers[i].exclude);
		kiln_strv_release(&c->layers[i].follow);
	}
	free(c->target);
}

/* Create the tree.txt entries under root; 0 or -1 with a diagnostic. */
static int make_tree(const char *casedir, const char *root)
{
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup_free char *path = kiln_asprintf("%s/tree.txt", casedir);
	if (!path || conf_read_lines(path, &lines) < 0)
		return -1;
	for (size_t i = 0; i < lines.len; i++) {
		char *f[4] = { NULL };
		size_t n = 0;
		/* "ADD <path> <kind> [<target>]", single spaces, maybe a trailing one */
		for (char *p = lines.items[i]; *p && n < 4;) {
			while (*p == ' ')
				p++;
			if (!*p)
				break;
			f[n++] = p;
			while (*p && *p != ' ')
				p++;
			if (*p)
				*p++ = '\0';
		}
		if (n == 0)
			continue;
		if (n < 3 || strcmp(f[0], "ADD") != 0) {
			conf_tap_diag("tree.txt:%zu: cannot read", i + 1);
			return -1;
		}
		cleanup_free char *p = kiln_asprintf("%s/%s", root, f[1]);
		if (!p)
			return -1;
		int rc;
		if (strcmp(f[2], "dir") == 0) {
			rc = mkdir(p, 0700);
		} else if (strcmp(f[2], "file") == 0) {
			int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			rc = fd < 0 ? -1 : fchmod(fd, 0644);
			if (fd >= 0)
				close(fd);
		} else if (strcmp(f[2], "symlink") == 0 && n == 4) {
			rc = symlink(f[3], p);
		} else {
			conf_tap_diag("tree.txt:%zu: unknown kind %s", i + 1, f[2]);
			return -1;
		}
		if (rc < 0) {
			conf_tap_diag("tree.txt:%zu: %s: %s", i + 1, p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int read_opts(const char *casedir, struct walk_case *c)
{
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup_free char *path = kiln_asprintf("%s/opt.tsv", casedir);
	if (!path || conf_read_lines(path, &lines) < 0)
		return -1;
	for (size_t i = 0; i < lines.len; i++) {
		char *f[3];
		if (!*lines.items[i])
			continue;
		if (conf_split_tabs(lines.items[i], f, 3) != 2) {
			conf_tap_diag("opt.tsv:%zu: want 2 columns", i + 1);
			return -1;
		}
		if (strcmp(f[0], "layer") == 0) {
			if (c->nlayers == 0 || c->nlayers == KILN_ARRAY_SIZE(c->layers))
				return -1;
			c->nlayers++;
			continue;
		}
		if (strcmp(f[0], "root") == 0) {
			free(c->target);
			c->target = kiln_strdup(f[1]);
			continue;
		}
		if (c->nlayers == 0)
			c->nlayers = 1;
		struct opt_layer *l = &c->layers[c->nlayers - 1];
		struct kiln_strv *v = strcmp(f[0], "include") == 0   ? &l->include
				      : strcmp(f[0], "exclude") == 0 ? &l->exclude
				      : strcmp(f[0], "follow") == 0  ? &l->follow
								     : NULL;
		if (!v || kiln_strv_push(v, f[1]) < 0) {
			conf_tap_diag("opt.tsv:%zu: unknown option %s", i + 1, f[0]);
			return -1;
		}
	}
	return 0;
}

/* fsutil's bufWalk format. */
static int record(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct kiln_buf *out = userdata;
	int r;
	if (S_ISLNK(e->st->st_mode))
		r = kiln_buf_addf(out, "symlink:%s %s\n", e->link_target, e->path);
	else
		r = kiln_buf_addf(out, "%s %s\n", S_ISDIR(e->st->st_mode) ? "dir" : "file", e->path);
	return r;
}

/* Run one case; 1 = pass. */
static int run_case(const char *casedir, const char *name, const char *tmp)
{
	struct walk_case c = { .nlayers = 0 };
	struct kiln_ignore_filter *filters[8] = { NULL };
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_buf out = KILN_BUF_INIT;
	int ok = 0, root_fd = -1;
	cleanup_free char *root = kiln_asprintf("%s/%s", tmp, name);
	cleanup_free char *expected = NULL;
	cleanup_free char *exp_path = kiln_asprintf("%s/expected.txt", casedir);
	cleanup_free char *open_path = kiln_asprintf("%s/open.tsv", casedir);
	size_t exp_len = 0;
	struct stat st;

	if (!root || !exp_path || !open_path || mkdir(root, 0700) < 0 ||
	    make_tree(casedir, root) < 0 || read_opts(casedir, &c) < 0)
		goto out;
	if (kiln_ignore_open_root(root, &root_fd, &err) < 0)
		goto out;
	for (size_t i = 0; i < c.nlayers; i++) {
		struct opt_layer *l = &c.layers[i];
		struct kiln_ignore_filter_opt o = {
			.include = (const char *const *)l->include.items,
			.n_include = l->include.len,
			.exclude = (const char *const *)l->exclude.items,
			.n_exclude = l->exclude.len,
			.follow = (const char *const *)l->follow.items,
			.n_follow = l->follow.len,
		};
		if (kiln_ignore_filter_new(root_fd, &o, &filters[i], &err) < 0)
			goto out;
	}
	struct kiln_ignore_walk_opts wo = {
		.target = c.target,
		.filters = filters,
		.n_filters = c.nlayers,
	};
	if (kiln_ignore_walk(root_fd, &wo, record, &out, &err) < 0)
		goto out;
	ok = 1;
	if (stat(exp_path, &st) == 0) {
		if (conf_read_file(exp_path, &expected, &exp_len) < 0 || strcmp(out.buf, expected) != 0) {
			conf_tap_diag_block("got", out.buf);
			conf_tap_diag_block("want", expected ? expected : "");
			ok = 0;
		}
	}
	if (stat(open_path, &st) == 0) {
		cleanup(kiln_strv_release) struct kiln_strv rows = KILN_STRV_INIT;
		if (conf_read_lines(open_path, &rows) < 0) {
			ok = 0;
			goto out;
		}
		for (size_t i = 1; i < rows.len; i++) {
			char *f[3];
			if (conf_split_tabs(rows.items[i], f, 3) != 2) {
				ok = 0;
				continue;
			}
			int visible = 1;
			for (size_t k = 0; k < c.nlayers && visible > 0; k++)
				visible = kiln_ignore_filter_visible(filters[k], f[0], strlen(f[0]),
								     &err);
			if (visible < 0)
				goto out;
			/* FilterFS.Open passes what the filter lets through on to the disk */
			cleanup_free char *p = kiln_asprintf("%s/%s", root, f[0]);
			const char *got = visible && p && lstat(p, &st) == 0 ? "ok" : "notexist";
			if (strcmp(got, f[1]) != 0) {
				conf_tap_diag("open %s: got %s, want %s", f[0], got, f[1]);
				ok = 0;
			}
		}
	}
out:
	if (err.code != KILN_OK) {
		conf_tap_diag("%s", err.msg ? err.msg : "error");
		ok = 0;
	}
	kiln_error_release(&err);
	for (size_t i = 0; i < c.nlayers; i++)
		kiln_ignore_filter_free(filters[i]);
	if (root_fd >= 0)
		close(root_fd);
	kiln_buf_release(&out);
	case_release(&c);
	return ok;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void conf_walk_run(const char *dir)
{
	struct conf_set set = { "dockerignore-walk", 0, 0 };
	cleanup_free char *walkdir = kiln_asprintf("%s/walk", dir);
	cleanup(kiln_strv_release) struct kiln_strv cases = KILN_STRV_INIT;
	DIR *d = walkdir ? opendir(walkdir) : NULL;
	if (!d) {
		conf_tap_ok(0, "walk/ readable");
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && kiln_strv_push(&cases, de->d_name) < 0)
			break;
	closedir(d);
	if (cases.len)
		qsort(cases.items, cases.len, sizeof(char *), cmp_str);
	const char *tmpbase = getenv("TMPDIR");
	cleanup_free char *tmpl = kiln_asprintf("%s/kiln-conf-walk.XXXXXX",
						tmpbase && *tmpbase ? tmpbase : "/tmp");
	char *tmp = tmpl ? mkdtemp(tmpl) : NULL;
	if (!tmp) {
		conf_tap_ok(0, "temporary directory");
		return;
	}
	for (size_t i = 0; i < cases.len; i++) {
		cleanup_free char *casedir = kiln_asprintf("%s/%s", walkdir, cases.items[i]);
		int ok = casedir && run_case(casedir, cases.items[i], tmp);
		conf_set_case(&set, ok);
		conf_tap_ok(ok, "walk/%s", cases.items[i]);
	}
	(void)kiln_rm_rf(tmp, NULL);
	printf("# conformance %s %d/%d\n", set.name, set.passed, set.total);
}
