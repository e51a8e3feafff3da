/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan: resolving COPY sources in a context (wildcards, symlinks,
 * .dockerignore, --exclude, --parents) and their content digests: what
 * changes a digest (contents, modes, names) and what must not (mtimes, ignore
 * rules that select the same files), and the hash cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ignore/ignore.h"
#include "ignore/walk.h"
#include "plan/plan.h"
#include "tap.h"

static char root[256];

static void put(const char *rel, const char *data)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(99);
	}
	fputs(data, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		perror(p);
		exit(99);
	}
}

static void ln(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (symlink(target, p) < 0) {
		perror(p);
		exit(99);
	}
}

/* A context with its .dockerignore. */
struct fixture {
	int fd;
	struct kiln_ignore_filter *filter;
	struct kiln_ignore_matcher *ignore;
	struct kiln_plan_tree tree;
};

static int fixture_open(struct fixture *fx, const char *patterns)
{
	memset(fx, 0, sizeof(*fx));
	fx->fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
	if (fx->fd < 0 ||
	    kiln_ignore_read_all(patterns, strlen(patterns), ".dockerignore", &l, NULL) < 0)
		return -1;
	struct kiln_ignore_filter_opt fo = {
		.exclude = (const char *const *) l.patterns.items,
		.n_exclude = l.patterns.len,
		.exclude_lines = l.lines,
		.exclude_lens = l.lens,
		.exclude_source = l.source,
	};
	int r = kiln_ignore_filter_new(fx->fd, &fo, &fx->filter, NULL);
	kiln_ignore_list_release(&l);
	if (r < 0)
		return -1;
	fx->ignore = kiln_ignore_filter_excludes(fx->filter);
	fx->tree = (struct kiln_plan_tree){ .root_fd = fx->fd,
					    .filter = fx->filter,
					    .ignore = fx->ignore,
					    .ignore_file = ".dockerignore",
					    .name = "the build context",
					    .context = 1 };
	return 0;
}

static void fixture_close(struct fixture *fx)
{
	kiln_ignore_filter_free(fx->filter);
	close(fx->fd);
}

static int sel(struct fixture *fx, const char *const *src, size_t n, const char *const *ex,
	       size_t nex, int parents, struct kiln_plan_selection **ret, struct kiln_error *err)
{
	struct kiln_plan_select_opts o = { .sources = src,
					   .n_sources = n,
					   .excludes = ex,
					   .n_excludes = nex,
					   .parents = parents };
	return kiln_plan_select(&fx->tree, &o, NULL, ret, err);
}

/* "rel,rel,..." of a selection's items */
static char *items(const struct kiln_plan_selection *s)
{
	static char buf[2048];
	buf[0] = '\0';
	for (size_t i = 0; i < s->n_items; i++) {
		strncat(buf, i ? "," : "", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, s->items[i].path[0] ? s->items[i].path : ".",
			sizeof(buf) - strlen(buf) - 1);
		if (s->items[i].parent_only)
			strncat(buf, "^", sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

static void test_resolve(struct fixture *fx)
{
	static const char *const cases[][3] = {
		{ "link", "a.txt", "a symlink to a file" },
		{ "../../a.txt", "a.txt", "'..' stops at the root" },
		{ "alink/x.c", "dir/x.c", "an absolute link resolves in the root" },
		{ "dlink/sub", "dir/sub", "a link to a directory inside a path" },
		{ "missing/x", "missing/x", "missing components are kept" },
		{ "", "", "the root" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		char *out = NULL;
		int r = kiln_plan_resolve_in_root(fx->fd, cases[i][0], 1, &out, NULL);
		TAP_OK(r == 0 && !strcmp(out, cases[i][1]), "%s: %s -> %s", cases[i][2],
		       cases[i][0], out ? out : "?");
		free(out);
	}
	char *out = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_plan_resolve_in_root(fx->fd, "loop", 1, &out, &err);
	TAP_INT_EQ(r, -KILN_ELIMIT, "a symlink loop is refused");
	kiln_error_release(&err);
	free(out);
	r = kiln_plan_resolve_in_root(fx->fd, "link", 0, &out, NULL);
	TAP_STR_EQ(out, "link", "the last link is kept when not followed");
	free(out);
}

static void test_select(struct fixture *fx)
{
	struct kiln_plan_selection *s = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	static const struct {
		const char *src;
		int parents;
		const char *want;
		const char *what;
	} cases[] = {
		{ "a.txt", 0, "a.txt", "one file" },
		{ "dir", 0, "dir,dir/sub,dir/sub/z.c,dir/x.c,dir/y.c",
		  "a directory, lexical order" },
		{ "dir/", 0, "dir,dir/sub,dir/sub/z.c,dir/x.c,dir/y.c",
		  "a trailing slash is the same" },
		{ "*.txt", 0, "a.txt,b.txt", "a wildcard" },
		{ "dir/*.c", 0, "dir/x.c,dir/y.c", "a wildcard in a directory" },
		{ "d[il]*", 0,
		  "dir,dir/sub,dir/sub/z.c,dir/x.c,dir/y.c,dir,dir/sub,dir/sub/z.c,dir/x.c,dir/y.c",
		  "a wildcard matching a directory and a link to it (both followed)" },
		{ "nomatch*", 0, "", "a wildcard matching nothing selects nothing" },
		{ "link", 0, "a.txt", "a symlink source is followed" },
		{ "dir/sub/z.c", 1, ".,dir^,dir/sub^,dir/sub/z.c", "--parents keeps the path" },
		{ "./dir/./sub/z.c", 1, "dir,dir/sub^,dir/sub/z.c", "--parents from a pivot" },
		{ "dir/*/z.c", 1, ".,dir^,dir/sub^,dir/sub/z.c", "--parents with a wildcard" },
		{ ".", 0,
		  ".,a.txt,alink,b.txt,dangling,dir,dir/sub,dir/sub/z.c,dir/x.c,dir/"
		  "y.c,dlink,keep.env,"
		  "link,loop",
		  "the whole context without what .dockerignore excludes" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		const char *src[] = { cases[i].src };
		int r = sel(fx, src, 1, NULL, 0, cases[i].parents, &s, &err);
		if (r < 0)
			tap_diag("%s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
		TAP_STR_EQ(r == 0 ? items(s) : "(error)", cases[i].want, "%s: %s", cases[i].what,
			   cases[i].src);
		kiln_plan_selection_free(s);
		s = NULL;
	}

	const char *link[] = { "link" };
	if (sel(fx, link, 1, NULL, 0, 0, &s, NULL) == 0) {
		TAP_STR_EQ(s->matches[0].base, "link", "a followed link keeps its own name");
		TAP_INT_EQ(s->matches[0].is_dir, 0, "it is a file");
		kiln_plan_selection_free(s);
	}

	const char *ex[] = { "*.c", "!y.c" };
	const char *dir[] = { "dir" };
	int r = sel(fx, dir, 1, ex, 2, 0, &s, NULL);
	TAP_STR_EQ(
		r == 0 ? items(s) : "(error)", "dir,dir/sub,dir/sub/z.c,dir/y.c",
		"--exclude is relative to the source (*.c only at its top), exceptions re-include");
	kiln_plan_selection_free(s);
	const char *ex2[] = { "b*" };
	const char *txt[] = { "*.txt" };
	r = sel(fx, txt, 1, ex2, 1, 0, &s, NULL);
	TAP_STR_EQ(r == 0 ? items(s) : "(error)", "a.txt,b.txt",
		   "--exclude never drops a wildcard's match itself (BuildKit's copy)");
	kiln_plan_selection_free(s);

	/* missing and excluded sources */
	static const struct {
		const char *src;
		const char *msg;
	} bad[] = {
		{ "app.log",
		  "source \"app.log\" is excluded by .dockerignore:1 (pattern \"*.log\")" },
		{ "secret/key", "source \"secret/key\" is excluded by .dockerignore:2 (pattern "
				"\"secret\")" },
		{ "missing.txt", "source \"missing.txt\" not found in the build context" },
		{ "nodir/*.c", "source \"nodir/*.c\" not found in the build context" },
		{ "dangling", "source \"dangling\" not found in the build context" },
		{ "dir/[", "source \"dir/[\": syntax error in pattern" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(bad); i++) {
		const char *src[] = { bad[i].src };
		s = NULL;
		r = sel(fx, src, 1, NULL, 0, 0, &s, &err);
		TAP_OK(r < 0 && err.msg && !strcmp(err.msg, bad[i].msg), "COPY %s fails: %s",
		       bad[i].src, err.msg ? err.msg : "(no error)");
		kiln_error_release(&err);
		kiln_plan_selection_free(s);
	}
}

/* ---- digests and the hash cache ---------------------------------------- */

struct fake_cache {
	struct kiln_plan_file_id ids[64];
	struct kiln_plan_sum d[64];
	size_t n;
	size_t lookups, stores;
};

static int fake_lookup(void *ud, const struct kiln_plan_file_id *ids, size_t n,
		       kiln_plan_sum_found_fn found, void *found_ud, struct kiln_error *err)
{
	struct fake_cache *c = ud;
	(void) err;
	c->lookups += n;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c->n; k++)
			if (!memcmp(&c->ids[k], &ids[i], sizeof(ids[i])))
				found(found_ud, i, &c->d[k]);
	return 0;
}

static int fake_store(void *ud, const struct kiln_plan_file_id *ids,
		      const struct kiln_plan_sum *digests, size_t n, struct kiln_error *err)
{
	struct fake_cache *c = ud;
	(void) err;
	c->stores += n;
	for (size_t i = 0; i < n && c->n < 64; i++) {
		c->ids[c->n] = ids[i];
		c->d[c->n++] = digests[i];
	}
	return 0;
}

static int digest_of(const char *patterns, const char *src, struct kiln_plan_hasher *h,
		     struct kiln_digest *ret)
{
	struct fixture fx;
	struct kiln_plan_selection *s = NULL;
	const char *srcs[] = { src };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = fixture_open(&fx, patterns);
	if (r == 0)
		r = sel(&fx, srcs, 1, NULL, 0, 0, &s, &err);
	if (r == 0)
		r = kiln_plan_selection_hash(s, &fx.tree, h, &err);
	if (r == 0)
		*ret = s->digest;
	else
		tap_diag("digest: %s", err.msg ? err.msg : "?");
	kiln_error_release(&err);
	kiln_plan_selection_free(s);
	fixture_close(&fx);
	return r;
}

static void test_digests(void)
{
	struct kiln_plan_hasher *h = NULL;
	struct kiln_digest d0, d1;
	static const char ign[] = "*.log\nsecret\n";
	if (kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) < 0 ||
	    digest_of(ign, "dir", h, &d0) < 0) {
		TAP_OK(0, "digest of a directory");
		kiln_plan_hasher_free(h);
		return;
	}
	kiln_plan_hasher_free(h);
	h = NULL;

	char p[512];
	snprintf(p, sizeof(p), "%s/dir/x.c", root);
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };
	TAP_OK(utimensat(AT_FDCWD, p, ts, 0) == 0 &&
		       kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d1) == 0 && kiln_digest_equal(&d0, &d1),
	       "an mtime change does not change the digest");
	kiln_plan_hasher_free(h);
	TAP_OK(kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of("*.log\nsecret\nkeep.env\nb.txt\n", "dir", h, &d1) == 0 &&
		       kiln_digest_equal(&d0, &d1),
	       "ignore rules that select the same files do not change it");
	kiln_plan_hasher_free(h);
	TAP_OK(kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of("*.log\nsecret\ndir/y.c\n", "dir", h, &d1) == 0 &&
		       !kiln_digest_equal(&d0, &d1),
	       "a rule that excludes a selected file changes it");
	kiln_plan_hasher_free(h);
	TAP_OK(chmod(p, 0600) == 0 && kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d1) == 0 && !kiln_digest_equal(&d0, &d1),
	       "a mode change changes it");
	kiln_plan_hasher_free(h);
	TAP_OK(chmod(p, 0644) == 0 && kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d1) == 0 && kiln_digest_equal(&d0, &d1),
	       "the mode back gives the digest back");
	kiln_plan_hasher_free(h);
	put("dir/x.c", "int x = 2;\n");
	TAP_OK(kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d1) == 0 && !kiln_digest_equal(&d0, &d1),
	       "a content change changes it");
	kiln_plan_hasher_free(h);

	/* the persistent cache: the second run reads no file */
	struct fake_cache fc = { .n = 0 };
	struct kiln_plan_hash_cache cache = { .userdata = &fc,
					      .lookup = fake_lookup,
					      .store = fake_store };
	struct kiln_plan_hash_stats st;
	TAP_OK(kiln_plan_hasher_new(&cache, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d0) == 0,
	       "hashing through a cache");
	kiln_plan_hasher_stats(h, &st);
	TAP_OK(st.hashed == 3 && fc.stores == 3 && st.cache_hits == 0,
	       "a cold cache: three files hashed and stored (hashed %llu)",
	       (unsigned long long) st.hashed);
	TAP_OK(digest_of(ign, "dir", h, &d1) == 0 && kiln_digest_equal(&d0, &d1),
	       "the same selection again");
	kiln_plan_hasher_stats(h, &st);
	TAP_OK(st.cache_hits == 3 && st.memo_hits == 0 && st.hashed == 3,
	       "the second time comes from the cache, not from the files or a memo beside it");
	kiln_plan_hasher_free(h);
	TAP_OK(kiln_plan_hasher_new(&cache, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d1) == 0 && kiln_digest_equal(&d0, &d1),
	       "a new run with the cache gives the same digest");
	kiln_plan_hasher_stats(h, &st);
	TAP_OK(st.cache_hits == 3 && st.hashed == 0, "and reads no file (cache hits %llu)",
	       (unsigned long long) st.cache_hits);
	kiln_plan_hasher_free(h);
	put("dir/y.c", "int y = 3;\n");
	TAP_OK(kiln_plan_hasher_new(&cache, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d1) == 0 && !kiln_digest_equal(&d0, &d1),
	       "a rewritten file is a cache miss");
	kiln_plan_hasher_stats(h, &st);
	TAP_OK(st.hashed == 1 && st.cache_hits == 2, "only it is read again");
	kiln_plan_hasher_free(h);
	struct kiln_digest d2, d3;
	TAP_OK(kiln_plan_hasher_new(NULL, 2, NULL, &h, NULL) == 0 &&
		       digest_of(ign, "dir", h, &d2) == 0 && digest_of(ign, "dir", h, &d3) == 0 &&
		       kiln_digest_equal(&d2, &d3) && kiln_digest_equal(&d1, &d2),
	       "without a cache, the same selection twice gives the same digest");
	kiln_plan_hasher_stats(h, &st);
	TAP_OK(st.memo_hits == 3 && st.hashed == 3 && st.cache_hits == 0,
	       "the second time comes from memory (memo hits %llu)",
	       (unsigned long long) st.memo_hits);
	kiln_plan_hasher_free(h);

	/* many files take the thread pool */
	mk("many");
	for (int i = 0; i < 200; i++) {
		char rel[64], data[64];
		snprintf(rel, sizeof(rel), "many/f%03d", i);
		snprintf(data, sizeof(data), "file %d\n", i);
		put(rel, data);
	}
	struct kiln_digest m1, m4;
	struct kiln_plan_hasher *h1 = NULL, *h4 = NULL;
	TAP_OK(kiln_plan_hasher_new(NULL, 1, NULL, &h1, NULL) == 0 &&
		       kiln_plan_hasher_new(NULL, 4, NULL, &h4, NULL) == 0 &&
		       digest_of(ign, "many", h1, &m1) == 0 &&
		       digest_of(ign, "many", h4, &m4) == 0 && kiln_digest_equal(&m1, &m4),
	       "one thread and four give the same digest for 200 files");
	kiln_plan_hasher_free(h1);
	kiln_plan_hasher_free(h4);
}

/* A COPY --from's subtree_fd: the match `only` read in another directory
 * (a layer that shows the same subtree), -1 for any other. */
struct subtree {
	int fd;
	const char *only;
	int calls;
};

static int subtree_of(void *userdata, const char *real)
{
	struct subtree *sub = userdata;
	sub->calls++;
	return strcmp(real, sub->only) == 0 ? sub->fd : -1;
}

struct subtree_result {
	struct kiln_digest digest;
	char items[2048];
	int read_fd;
};

/* `srcs` selected in the tree "view" (with `sub`, if any) and hashed. */
static int subtree_select(const char *const *srcs, size_t n, int parents, struct subtree *sub,
			  struct subtree_result *ret)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/view", root);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct kiln_plan_tree t = { .root_fd = fd, .name = "stage view" };
	if (sub) {
		t.subtree_fd = subtree_of;
		t.subtree_userdata = sub;
	}
	struct kiln_plan_select_opts o = { .sources = srcs, .n_sources = n, .parents = parents };
	struct kiln_plan_selection *s = NULL;
	struct kiln_plan_hasher *h = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = fd < 0 ? -1 : kiln_plan_select(&t, &o, NULL, &s, &err);
	if (r == 0)
		r = kiln_plan_hasher_new(NULL, 2, NULL, &h, &err);
	if (r == 0)
		r = kiln_plan_selection_hash(s, &t, h, &err);
	if (r == 0) {
		ret->digest = s->digest;
		snprintf(ret->items, sizeof(ret->items), "%s", items(s));
		ret->read_fd = s->read_fd;
	} else {
		tap_diag("subtree selection: %s", err.msg ? err.msg : "?");
	}
	kiln_error_release(&err);
	kiln_plan_hasher_free(h);
	kiln_plan_selection_free(s);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The same directory in two trees: "view" (what root_fd shows) and
 * "layer", which also holds a whiteout; "other" has a file of the same size
 * and another content. A directory match is walked and read in the subtree
 * fd; the whiteout is not listed; a file match, --parents, or more than
 * one match read everything from the root. */
static void test_subtree(void)
{
	static const char *const trees[] = { "view", "layer", "other" };
	for (size_t i = 0; i < 3; i++) {
		char d[64];
		snprintf(d, sizeof(d), "%s/d", trees[i]);
		mk(trees[i]);
		mk(d);
		snprintf(d, sizeof(d), "%s/d/sub", trees[i]);
		mk(d);
		snprintf(d, sizeof(d), "%s/d/a.txt", trees[i]);
		put(d, i == 2 ? "ONE\n" : "one\n");
		snprintf(d, sizeof(d), "%s/d/sub/b.txt", trees[i]);
		put(d, "two\n");
		snprintf(d, sizeof(d), "%s/d/l", trees[i]);
		ln("a.txt", d);
	}
	put("view/f.txt", "f\n");
	char p[512];
	snprintf(p, sizeof(p), "%s/layer/d/gone", root);
	int whiteout = mknod(p, S_IFCHR | 0600, 0) == 0;
	if (!whiteout)
		tap_diag("no whiteout in the layer (mknod: %s)", strerror(errno));

	snprintf(p, sizeof(p), "%s/layer", root);
	int layer = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof(p), "%s/other", root);
	int other = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *d[] = { "d" }, *f[] = { "f.txt" }, *both[] = { "d", "f.txt" };
	struct subtree_result plain, got;
	if (layer < 0 || other < 0 || subtree_select(d, 1, 0, NULL, &plain) < 0) {
		TAP_OK(0, "select d in the view");
		return;
	}
	TAP_STR_EQ(plain.items, "d,d/a.txt,d/l,d/sub,d/sub/b.txt", "the view lists d");
	TAP_OK(plain.read_fd == -1, "no subtree fd: read from the root");

	struct subtree sub = { .fd = layer, .only = "d" };
	TAP_OK(subtree_select(d, 1, 0, &sub, &got) == 0 && sub.calls == 1 && got.read_fd == layer,
	       "a directory match is walked in the subtree fd (%d call)", sub.calls);
	TAP_STR_EQ(got.items, plain.items, "the same items, the whiteout left out");
	TAP_OK(kiln_digest_equal(&got.digest, &plain.digest), "the same digest");

	sub = (struct subtree){ .fd = other, .only = "d" };
	TAP_OK(subtree_select(d, 1, 0, &sub, &got) == 0 &&
		       !kiln_digest_equal(&got.digest, &plain.digest),
	       "the files are read in the subtree fd: its content makes the digest");

	sub = (struct subtree){ .fd = layer, .only = "f.txt" };
	TAP_OK(subtree_select(f, 1, 0, &sub, &got) == 0 && sub.calls == 0 && got.read_fd == -1,
	       "a file match is read from the root");
	sub = (struct subtree){ .fd = other, .only = "d" };
	struct subtree_result both_plain;
	TAP_OK(subtree_select(both, 2, 0, NULL, &both_plain) == 0 &&
		       subtree_select(both, 2, 0, &sub, &got) == 0 && sub.calls == 0 &&
		       got.read_fd == -1 && kiln_digest_equal(&got.digest, &both_plain.digest) &&
		       strcmp(got.items, both_plain.items) == 0,
	       "two sources: everything walked and read from the root");
	const char *wild[] = { "[d]" };
	sub = (struct subtree){ .fd = layer, .only = "d" };
	TAP_OK(subtree_select(wild, 1, 0, &sub, &got) == 0 && sub.calls == 1 &&
		       got.read_fd == layer && strcmp(got.items, plain.items) == 0,
	       "a wildcard matching one directory: read in the subtree fd");
	const char *wild2[] = { "[df]*" };
	sub = (struct subtree){ .fd = other, .only = "d" };
	TAP_OK(subtree_select(wild2, 1, 0, &sub, &got) == 0 && sub.calls == 0 && got.read_fd == -1,
	       "a wildcard matching two: read from the root");
	sub = (struct subtree){ .fd = layer, .only = "d" };
	TAP_OK(subtree_select(d, 1, 1, &sub, &got) == 0 && sub.calls == 0 && got.read_fd == -1,
	       "--parents walks the root");
	close(layer);
	close(other);
}

/* The selection of "chg", then `data` written to chg/f, then the hash. */
static int hash_after_change(const char *data, struct kiln_error *err)
{
	struct fixture fx;
	struct kiln_plan_selection *s = NULL;
	struct kiln_plan_hasher *h = NULL;
	const char *srcs[] = { "chg" };
	int r = fixture_open(&fx, "");
	if (r == 0)
		r = sel(&fx, srcs, 1, NULL, 0, 0, &s, err);
	if (r == 0) {
		put("chg/f", data);
		r = kiln_plan_hasher_new(NULL, 2, NULL, &h, err);
	}
	if (r == 0)
		r = kiln_plan_selection_hash(s, &fx.tree, h, err);
	kiln_plan_hasher_free(h);
	kiln_plan_selection_free(s);
	fixture_close(&fx);
	return r;
}

/* A file that changes between the listing and the read is refused: its
 * digest would be remembered under the identity the listing saw. */
static void test_changed_after_listing(void)
{
	static const char *const cases[][2] = {
		{ "twelve bytes", "twelve bytes and more" },
		{ "twelve bytes", "short" },
		{ "", "not empty now" },
	};
	mk("chg");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("chg/f", cases[i][0]);
		struct kiln_error err = KILN_ERROR_INIT;
		int r = hash_after_change(cases[i][1], &err);
		TAP_OK(r < 0 && err.msg && strstr(err.msg, "changed while it was read"),
		       "'%s' listed, '%s' read: %s", cases[i][0], cases[i][1],
		       err.msg ? err.msg : "no error");
		kiln_error_release(&err);
	}
}

int main(void)
{
	snprintf(root, sizeof(root), "%s/kiln-plan-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 99;
	}
	put("a.txt", "A\n");
	put("b.txt", "B\n");
	mk("dir");
	mk("dir/sub");
	put("dir/x.c", "int x;\n");
	put("dir/y.c", "int y;\n");
	put("dir/sub/z.c", "int z;\n");
	ln("a.txt", "link");
	ln("/dir", "alink");
	ln("dir", "dlink");
	ln("loop", "loop");
	ln("nowhere", "dangling");
	put("app.log", "log\n");
	mk("secret");
	put("secret/key", "k\n");
	put("keep.env", "E=1\n");
	put(".dockerignore", "*.log\nsecret\n.dockerignore\ndangling\n");

	struct fixture fx;
	if (fixture_open(&fx, "*.log\nsecret\n.dockerignore\n") < 0) {
		TAP_OK(0, "open the context");
		return tap_done();
	}
	test_resolve(&fx);
	test_select(&fx);
	fixture_close(&fx);
	test_digests();
	test_changed_after_listing();
	test_subtree();

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", root);
	return tap_done();
}
