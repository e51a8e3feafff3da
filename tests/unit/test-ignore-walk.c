/* SPDX-License-Identifier: Apache-2.0 */
/* The context walker and the ignore-file lookup, on trees made in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "ignore/ignore.h"
#include "ignore/walk.h"
#include "test-ignore.h"

#define OK(c, ...) ignore_tap_ok(!!(c), __VA_ARGS__)

static int str_eq(const char *got, const char *want, const char *what)
{
	int ok = got && strcmp(got, want) == 0;
	if (!ignore_tap_ok(ok, "%s", what)) {
		ignore_tap_diag("got:\n%s", got ? got : "(null)");
		ignore_tap_diag("want:\n%s", want);
	}
	return ok;
}

static int put(const char *root, const char *rel, const char *content)
{
	cleanup_free char *p = kiln_asprintf("%s/%s", root, rel);
	if (!p)
		return -1;
	size_t n = strlen(p);
	if (p[n - 1] == '/') {
		p[n - 1] = '\0';
		return kiln_mkdir_p(p, 0755, NULL);
	}
	char *slash = strrchr(p, '/');
	*slash = '\0';
	if (kiln_mkdir_p(p, 0755, NULL) < 0)
		return -1;
	*slash = '/';
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int r = kiln_write_all(fd, content, strlen(content));
	close(fd);
	return r;
}

static int link_at(const char *root, const char *rel, const char *target)
{
	cleanup_free char *p = kiln_asprintf("%s/%s", root, rel);
	return p ? symlink(target, p) : -1;
}

struct collect {
	struct kiln_buf out;
	const char *skip_at;  /* return SKIP at this path */
	const char *fail_at;  /* return an error at this path */
	long long size_of_a;  /* st_size of "a/keep.txt" */
};

static int collect(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct collect *c = userdata;
	const char *t = S_ISDIR(e->st->st_mode) ? "dir" : S_ISLNK(e->st->st_mode) ? "link" : "file";
	int r = e->link_target ? kiln_buf_addf(&c->out, "%s %s -> %s\n", t, e->path, e->link_target)
			       : kiln_buf_addf(&c->out, "%s %s\n", t, e->path);
	if (r < 0)
		return r;
	if (strlen(e->path) != e->path_len || strcmp(e->name, strrchr(e->path, '/')
							      ? strrchr(e->path, '/') + 1
							      : e->path) != 0)
		return -KILN_EINTERNAL;
	if (strcmp(e->path, "a/keep.txt") == 0)
		c->size_of_a = (long long)e->st->st_size;
	if (c->skip_at && strcmp(e->path, c->skip_at) == 0)
		return KILN_IGNORE_WALK_SKIP;
	if (c->fail_at && strcmp(e->path, c->fail_at) == 0)
		return -KILN_EINVAL;
	return 0;
}

struct walk_spec {
	const char *const *exclude;
	size_t n_exclude;
	const char *const *include;
	size_t n_include;
	const char *const *follow;
	size_t n_follow;
	const char *target;
	const char *skip_at, *fail_at;
	const struct kiln_ctx *ctx;
	int prefetch;
};

static int walk(int root_fd, const struct walk_spec *s, struct collect *c, struct kiln_error *err)
{
	struct kiln_ignore_filter *f = NULL;
	struct kiln_ignore_filter_opt o = {
		.include = s->include,
		.n_include = s->n_include,
		.exclude = s->exclude,
		.n_exclude = s->n_exclude,
		.follow = s->follow,
		.n_follow = s->n_follow,
	};
	int use_filter = s->n_include || s->n_exclude || s->n_follow;
	if (use_filter) {
		int r = kiln_ignore_filter_new(root_fd, &o, &f, err);
		if (r < 0)
			return r;
	}
	struct kiln_ignore_filter *fl[] = { f };
	struct kiln_ignore_walk_opts wo = {
		.target = s->target,
		.filters = fl,
		.n_filters = use_filter ? 1 : 0,
		.ctx = s->ctx,
		.prefetch_stats = s->prefetch,
	};
	c->skip_at = s->skip_at;
	c->fail_at = s->fail_at;
	kiln_buf_reset(&c->out);
	int r = kiln_ignore_walk(root_fd, &wo, collect, c, err);
	kiln_ignore_filter_free(f);
	return r;
}

/* A chain of n nested directories under root/rel. */
static int make_deep(const char *root, const char *rel, int n)
{
	cleanup_free char *p = kiln_asprintf("%s/%s", root, rel);
	if (!p || mkdir(p, 0755) < 0)
		return -1;
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < n && fd >= 0; i++) {
		if (mkdirat(fd, "d", 0755) < 0) {
			close(fd);
			return -1;
		}
		int nfd = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

void test_walk(void)
{
	char tmpl[] = "/tmp/kiln-test-ignore.XXXXXX";
	char *root = mkdtemp(tmpl);
	if (!OK(root, "temporary directory"))
		return;
	int made = put(root, "a/keep.txt", "hello") == 0 && put(root, "a/skip.log", "") == 0 &&
		   link_at(root, "b", "a") == 0 && put(root, "c/d/e.txt", "") == 0 &&
		   put(root, "node_modules/pkg/index.js", "") == 0 &&
		   put(root, "node_modules/pkg/README.md", "") == 0 && put(root, "z.txt", "") == 0 &&
		   make_deep(root, "deep", KILN_IGNORE_WALK_DEPTH_MAX + 10) == 0 &&
		   put(root, "odd/we\nird", "") == 0 && put(root, "odd/\xFF.bin", "") == 0 &&
		   put(root, "odd/plain", "") == 0 && link_at(root, "l", "c/d") == 0 &&
		   link_at(root, "esc", "../../../../etc") == 0;
	if (!OK(made, "make the tree")) {
		(void)kiln_rm_rf(root, NULL);
		return;
	}
	int root_fd = -1;
	struct kiln_error err = KILN_ERROR_INIT;
	OK(kiln_ignore_open_root(root, &root_fd, &err) == 0, "open the root");
	struct collect c = { .out = KILN_BUF_INIT };

	static const char *const ex1[] = { "**/*.log", "node_modules",
					   "!node_modules/pkg/README.md", "deep", "odd" };
	struct walk_spec s = { .exclude = ex1, .n_exclude = 5 };
	int r = walk(root_fd, &s, &c, &err);
	OK(r == 0, "walk with excludes (%s)", err.msg ? err.msg : "ok");
	str_eq(c.out.buf,
	       "dir a\nfile a/keep.txt\nlink b -> a\ndir c\ndir c/d\nfile c/d/e.txt\n"
	       "link esc -> ../../../../etc\nlink l -> c/d\ndir node_modules\n"
	       "dir node_modules/pkg\nfile node_modules/pkg/README.md\nfile z.txt\n",
	       "lexical order, parents of the exception emitted, excluded trees skipped");
	OK(c.size_of_a == 5, "entries carry their lstat data (size %lld)", c.size_of_a);
	kiln_error_release(&err);

	/* The deep tree is not entered when excluded: walking it trips the depth limit. */
	static const char *const ex2[] = { "odd" };
	s = (struct walk_spec){ .exclude = ex2, .n_exclude = 1 };
	r = walk(root_fd, &s, &c, &err);
	OK(r == -KILN_ELIMIT, "an unexcluded tree deeper than %d levels is refused",
	   KILN_IGNORE_WALK_DEPTH_MAX);
	OK(err.msg && strstr(err.msg, "deeper"), "... with a message (%s)", err.msg ? err.msg : "");
	kiln_error_release(&err);

	/* Names with a newline and with an invalid byte match as Go would match them. */
	static const char *const ex3[] = { "deep", "**/*.bin", "odd/we*" };
	s = (struct walk_spec){ .exclude = ex3, .n_exclude = 3, .target = "odd" };
	r = walk(root_fd, &s, &c, &err);
	OK(r == 0, "walk odd/");
	str_eq(c.out.buf, "dir odd\nfile odd/plain\n", "[^/]* takes a newline and a bad byte");
	kiln_error_release(&err);

	/* Targets: a subtree, a file, a missing path, a path trying to climb out. */
	static const struct {
		const char *target, *want;
	} targets[] = {
		{ "c", "dir c\ndir c/d\nfile c/d/e.txt\n" },
		{ "c/d/e.txt", "file c/d/e.txt\n" },
		{ "nope", "" },
		{ "b/keep.txt", "file b/keep.txt\n" }, /* a link in the path stays inside */
		{ "esc/passwd", "" },		       /* "/etc" is looked for inside the root */
		{ "../../c/d", "dir c/d\nfile c/d/e.txt\n" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(targets); i++) {
		s = (struct walk_spec){ .exclude = ex3, .n_exclude = 1, .target = targets[i].target };
		r = walk(root_fd, &s, &c, &err);
		OK(r == 0, "walk target %s (%s)", targets[i].target, err.msg ? err.msg : "ok");
		char what[128];
		snprintf(what, sizeof(what), "target %s", targets[i].target);
		str_eq(c.out.buf, targets[i].want, what);
		kiln_error_release(&err);
	}

	/* Follow paths become include patterns; links are still not followed. */
	static const char *const fol[] = { "l", "esc/passwd" };
	s = (struct walk_spec){ .follow = fol, .n_follow = 2 };
	r = walk(root_fd, &s, &c, &err);
	OK(r == 0, "walk with follow paths (%s)", err.msg ? err.msg : "ok");
	str_eq(c.out.buf, "dir c\ndir c/d\nfile c/d/e.txt\nlink esc -> ../../../../etc\nlink l -> c/d\n",
	       "follow paths include the link and its target");
	kiln_error_release(&err);

	/* Callbacks: SKIP on a directory, SKIP on a file, an error. */
	static const char *const ex4[] = { "deep", "odd", "node_modules" };
	s = (struct walk_spec){ .exclude = ex4, .n_exclude = 3, .skip_at = "c" };
	r = walk(root_fd, &s, &c, &err);
	str_eq(c.out.buf,
	       "dir a\nfile a/keep.txt\nfile a/skip.log\nlink b -> a\ndir c\n"
	       "link esc -> ../../../../etc\nlink l -> c/d\nfile z.txt\n",
	       "SKIP on a directory leaves it out");
	s.skip_at = "a/keep.txt";
	r = walk(root_fd, &s, &c, &err);
	OK(r == 0 && strstr(c.out.buf, "a/skip.log") == NULL && strstr(c.out.buf, "link b") != NULL,
	   "SKIP on a file skips the rest of its directory only");
	s.skip_at = NULL;
	s.fail_at = "c/d";
	r = walk(root_fd, &s, &c, &err);
	OK(r == -KILN_EINVAL, "a callback's error stops the walk");
	OK(strstr(c.out.buf, "c/d/e.txt") == NULL, "nothing after the error");
	kiln_error_release(&err);

	/* An include filter with an exception inside */
	static const char *const inc[] = { "node_modules", "!node_modules/pkg/index.js" };
	s = (struct walk_spec){ .include = inc, .n_include = 2 };
	r = walk(root_fd, &s, &c, &err);
	str_eq(c.out.buf, "dir node_modules\ndir node_modules/pkg\nfile node_modules/pkg/README.md\n",
	       "include patterns with an exception");
	kiln_error_release(&err);

	/* Upstream's parent-result rule: a path can stay in although MatchesOrParentMatches says no. */
	static const char *const quirk[] = { "c", "!c/d", "c" };
	s = (struct walk_spec){ .exclude = quirk, .n_exclude = 3, .target = "c" };
	r = walk(root_fd, &s, &c, &err);
	str_eq(c.out.buf, "dir c\ndir c/d\nfile c/d/e.txt\n",
	       "MatchesUsingParentResults decides, as in BuildKit");
	kiln_error_release(&err);

	/* A bad pattern is an error of the walk, located in its file. */
	static const char *const bad[] = { "ok", "[z-a]" };
	static const unsigned lines[] = { 1, 7 };
	struct kiln_ignore_filter_opt bo = {
		.exclude = bad, .n_exclude = 2, .exclude_lines = lines, .exclude_source = "x.ignore"
	};
	struct kiln_ignore_filter *bf = NULL;
	OK(kiln_ignore_filter_new(root_fd, &bo, &bf, &err) == 0, "New accepts [z-a]");
	struct kiln_ignore_walk_opts bwo = { .filters = &bf, .n_filters = 1 };
	r = bf ? kiln_ignore_walk(root_fd, &bwo, collect, &c, &err) : -KILN_ENOMEM;
	OK(r == -KILN_EPARSE && err.pos.line == 7 && err.pos.file &&
		   strcmp(err.pos.file, "x.ignore") == 0,
	   "matching with [z-a] fails at x.ignore:7 (%s)", err.msg ? err.msg : "");
	kiln_error_release(&err);
	kiln_ignore_filter_free(bf);

	/* Cancellation */
	atomic_int stop = 1;
	struct kiln_ctx ctx = { .cancel = &stop };
	s = (struct walk_spec){ .exclude = ex4, .n_exclude = 1, .ctx = &ctx };
	r = walk(root_fd, &s, &c, &err);
	OK(r == -KILN_ECANCEL, "an interrupted walk stops");
	kiln_error_release(&err);

	/* Stacked filters see what the inner one lets through. */
	static const char *const in1[] = { "deep", "odd", "a", "!a/keep.txt" };
	static const char *const in2[] = { "a" };
	struct kiln_ignore_filter *f1 = NULL, *f2 = NULL;
	struct kiln_ignore_filter_opt o1 = { .exclude = in1, .n_exclude = 4 };
	struct kiln_ignore_filter_opt o2 = { .include = in2, .n_include = 1 };
	if (!OK(kiln_ignore_filter_new(root_fd, &o1, &f1, NULL) == 0 &&
			kiln_ignore_filter_new(root_fd, &o2, &f2, NULL) == 0,
		"two filters")) {
		kiln_ignore_filter_free(f1);
		kiln_buf_release(&c.out);
		close(root_fd);
		(void)kiln_rm_rf(root, NULL);
		return;
	}
	struct kiln_ignore_filter *stack[] = { f1, f2 };
	struct kiln_ignore_walk_opts so = { .filters = stack, .n_filters = 2 };
	kiln_buf_reset(&c.out);
	c.skip_at = c.fail_at = NULL;
	r = kiln_ignore_walk(root_fd, &so, collect, &c, &err);
	str_eq(c.out.buf, "dir a\nfile a/keep.txt\n", "stacked filters");
	OK(kiln_ignore_filter_visible(f1, "a/keep.txt", 10, NULL) == 1 &&
		   kiln_ignore_filter_visible(f1, "a/skip.log", 10, NULL) == 0 &&
		   kiln_ignore_filter_visible(f2, "z.txt", 5, NULL) == 0,
	   "FilterFS.Open's verdicts");
	kiln_ignore_filter_free(f1);
	kiln_ignore_filter_free(f2);
	kiln_error_release(&err);

	kiln_buf_release(&c.out);
	if (root_fd >= 0)
		close(root_fd);
	(void)kiln_rm_rf(root, NULL);
}

void test_load_for_build(void)
{
	char tmpl[] = "/tmp/kiln-test-ignore.XXXXXX";
	char *root = mkdtemp(tmpl);
	if (!OK(root, "temporary directory"))
		return;
	cleanup_free char *df = kiln_asprintf("%s/build/app.Dockerfile", root);
	OK(put(root, ".dockerignore", "from-context\n") == 0 &&
		   put(root, "build/app.Dockerfile", "FROM scratch\n") == 0 &&
		   put(root, "build/app.Dockerfile.dockerignore", "# own\nfrom-dockerfile\n") == 0,
	   "make the files");
	struct kiln_ignore_list l;
	char *path = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_ignore_load_for_build(root, df, &l, &path, &err);
	OK(r == 0 && l.patterns.len == 1 && strcmp(l.patterns.items[0], "from-dockerfile") == 0 &&
		   l.lines[0] == 2,
	   "Dockerfile.dockerignore wins");
	OK(path && strstr(path, "build/app.Dockerfile.dockerignore"), "its path is reported");
	free(path);
	kiln_ignore_list_release(&l);

	cleanup_free char *own = kiln_asprintf("%s.dockerignore", df);
	OK(own && unlink(own) == 0, "remove it");
	r = kiln_ignore_load_for_build(root, df, &l, &path, &err);
	OK(r == 0 && l.patterns.len == 1 && strcmp(l.patterns.items[0], "from-context") == 0,
	   "otherwise the context's .dockerignore");
	OK(path && strstr(path, "/.dockerignore"), "its path is reported");
	free(path);
	kiln_ignore_list_release(&l);

	r = kiln_ignore_load_for_build(root, NULL, &l, &path, &err);
	OK(r == 0 && l.patterns.len == 1, "no Dockerfile: the context's file");
	free(path);
	kiln_ignore_list_release(&l);

	cleanup_free char *ci = kiln_asprintf("%s/.dockerignore", root);
	OK(ci && unlink(ci) == 0, "remove .dockerignore");
	r = kiln_ignore_load_for_build(root, df, &l, &path, &err);
	OK(r == 0 && l.patterns.len == 0 && path == NULL, "neither: no patterns, no path");
	kiln_ignore_list_release(&l);

	/* a directory where the file should be is an error, not "absent" */
	cleanup_free char *dir = kiln_asprintf("%s/.dockerignore", root);
	OK(dir && mkdir(dir, 0755) == 0, "make .dockerignore a directory");
	r = kiln_ignore_load_for_build(root, NULL, &l, &path, &err);
	OK(r < 0 && err.msg, "an unreadable ignore file is an error (%s)", err.msg ? err.msg : "");
	kiln_error_release(&err);
	kiln_ignore_list_release(&l);
	(void)kiln_rm_rf(root, NULL);
}

/* What the walk saw of each entry, lstat included. */
static int collect_stat(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct collect *c = userdata;
	if (kiln_buf_addf(&c->out, "%s %llu %lld %o\n", e->path, (unsigned long long) e->st->st_ino,
			  (long long) e->st->st_size, (unsigned) e->st->st_mode) < 0)
		return -KILN_ENOMEM;
	if (c->skip_at && strcmp(e->path, c->skip_at) == 0)
		return KILN_IGNORE_WALK_SKIP;
	if (c->fail_at && strcmp(e->path, c->fail_at) == 0)
		return -KILN_EINVAL;
	return 0;
}

static int walk_stat(int root_fd, const char *const *exclude, size_t n_exclude, int prefetch,
		     const char *skip_at, const char *fail_at, struct kiln_buf *out)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_ignore_filter *f = NULL;
	struct kiln_ignore_filter_opt o = { .exclude = exclude, .n_exclude = n_exclude };
	int r = n_exclude ? kiln_ignore_filter_new(root_fd, &o, &f, &err) : 0;
	struct kiln_ignore_filter *fl[] = { f };
	struct kiln_ignore_walk_opts wo = { .filters = fl,
					    .n_filters = n_exclude ? 1 : 0,
					    .prefetch_stats = prefetch };
	struct collect c = { .out = KILN_BUF_INIT, .skip_at = skip_at, .fail_at = fail_at };
	if (r >= 0 && kiln_buf_addstr(&c.out, "") < 0)
		r = -KILN_ENOMEM;
	if (r >= 0)
		r = kiln_ignore_walk(root_fd, &wo, collect_stat, &c, &err);
	kiln_ignore_filter_free(f);
	kiln_error_release(&err);
	*out = c.out;
	return r;
}

void test_walk_prefetch(void)
{
	char tmpl[] = "/tmp/kiln-test-prefetch.XXXXXX";
	char *root = mkdtemp(tmpl);
	if (!OK(root, "temporary directory"))
		return;
	/* a directory longer than what the helper takes (its first entries are
	 * the walker's alone), one with subdirectories to descend into while
	 * the helper works on it, and files an exclude rule drops */
	int made = 1;
	for (int i = 0; made && i < 4500; i++) {
		char rel[64], data[128];
		snprintf(rel, sizeof(rel), "big/f%04d.txt", i);
		memset(data, 'x', sizeof(data));
		data[i % 97] = '\0';
		made = put(root, rel, data) == 0;
	}
	for (int i = 0; made && i < 300; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), i % 50 ? "mid/g%03d.%s" : "mid/sub%03d/inner.txt", i,
			 i % 7 ? "txt" : "skip");
		made = put(root, rel, "y") == 0;
	}
	if (!OK(made, "a tree of 4,800 files")) {
		(void) kiln_rm_rf(root, NULL);
		return;
	}
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	static const char *const ex[] = { "**/*.skip", "big/f1*" };
	struct kiln_buf plain = KILN_BUF_INIT, pre = KILN_BUF_INIT;
	int same = 1;
	/* the same entries, in the same order, with the same lstat, however
	 * the two threads happen to meet (several times, to give races a chance) */
	for (int round = 0; round < 4 && same; round++) {
		size_t nex = round % 2 ? 2 : 0;
		int r1 = walk_stat(root_fd, ex, nex, 0, NULL, NULL, &plain);
		int r2 = walk_stat(root_fd, ex, nex, 1, NULL, NULL, &pre);
		same = r1 == 0 && r2 == 0 && plain.len > 100000 && !strcmp(plain.buf, pre.buf);
		if (!same)
			ignore_tap_diag("round %d: %d %d, %zu and %zu bytes", round, r1, r2,
					plain.len, pre.len);
		kiln_buf_release(&plain);
		kiln_buf_release(&pre);
	}
	OK(same, "a walk with a stat helper sees what a walk without one sees");
	/* stopping in the middle of a listing the helper works on */
	int r1 = walk_stat(root_fd, NULL, 0, 0, "big/f2500.txt", NULL, &plain);
	int r2 = walk_stat(root_fd, NULL, 0, 1, "big/f2500.txt", NULL, &pre);
	OK(r1 == 0 && r2 == 0 && !strcmp(plain.buf, pre.buf) && !strstr(pre.buf, "big/f2501"),
	   "a skip in the middle of a directory ends it, helper or not");
	kiln_buf_release(&plain);
	kiln_buf_release(&pre);
	r2 = walk_stat(root_fd, NULL, 0, 1, NULL, "big/f4000.txt", &pre);
	OK(r2 == -KILN_EINVAL && strstr(pre.buf, "big/f3999.txt") && !strstr(pre.buf, "f4001"),
	   "an error in the middle of a directory stops the walk and its helper");
	kiln_buf_release(&pre);
	if (root_fd >= 0)
		(void) close(root_fd);
	(void) kiln_rm_rf(root, NULL);
}
