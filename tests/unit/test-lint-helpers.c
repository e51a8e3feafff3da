/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln lint's helpers (analyze/lint-internal.h): the Docker Hub name short
 * cut against kiln_ref_parse(), suffix and extension matching, image
 * reference spans, sets, flags, messages, the order of findings, secret
 * paths and unquoting. test-lint.c has the rules themselves.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "analyze/lint.h"
#include "base/arena.h"
#include "ref/ref.h"
#include "shell/shell.h"
#include "tap.h"

/*
 * lint-buildkit.c answers "valid" for plain Docker Hub names without
 * kiln_ref_parse(); every other name goes to the parser. Where the short cut
 * answers, the parser must agree. `hub` is the short cut's expected answer,
 * `valid` the parser's.
 */
struct hub_case {
	const char *name;
	int hub;
	int valid;
};

static const struct hub_case hub_cases[] = {
	{ "node", 1, 1 },
	{ "node:20-alpine", 1, 1 },
	{ "library/node", 1, 1 },
	{ "library/node:20", 1, 1 },
	{ "library/library/node", 1, 1 },
	{ "library", 1, 1 },
	{ "library/", 0, 0 },
	{ "bitnami/redis:7.2", 1, 1 },
	{ "a/b/c/d:e", 1, 1 },
	/* upper case: name invalid, tag valid; the parser decides both */
	{ "Node", 0, 0 },
	{ "node:Latest", 0, 1 },
	{ "library/Node:1", 0, 0 },
	/* digests */
	{ "node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0, 1 },
	{ "node:20@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0,
	  1 },
	{ "node@sha256:0123", 0, 0 },
	{ "node@", 0, 0 },
	{ "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0, 0 },
	/* registries and ports */
	{ "localhost/node", 0, 1 },
	{ "localhost:5000/node:1", 0, 1 },
	{ "reg.example.com/a/b:1", 0, 1 },
	{ "reg.example.com:443/a", 0, 1 },
	{ "reg:5000/a", 0, 1 },
	{ "reg:port/a", 0, 0 },
	{ "docker.io/library/node", 0, 1 },
	{ "localhostx/node", 1, 1 },
	/* separators: '.', '_', '__', '-' runs inside a component */
	{ "a.b", 1, 1 },
	{ "a_b", 1, 1 },
	{ "a__b", 1, 1 },
	{ "a___b", 0, 0 },
	{ "a-b", 1, 1 },
	{ "a--b", 1, 1 },
	{ "a---b", 1, 1 },
	{ "a..b", 0, 0 },
	{ "a._b", 0, 0 },
	{ "a-.b", 0, 0 },
	{ "a/b.c_d__e-f", 1, 1 },
	/* leading, trailing and empty parts */
	{ "", 0, 0 },
	{ "/a", 0, 0 },
	{ "a/", 0, 0 },
	{ "a//b", 0, 0 },
	{ ":1", 0, 0 },
	{ "a:", 0, 0 },
	{ "a::1", 0, 0 },
	{ "a:1:2", 0, 0 },
	{ ".a", 0, 0 },
	{ "_a", 0, 0 },
	{ "-a", 0, 0 },
	{ "a.", 0, 0 },
	{ "a_", 0, 0 },
	{ "a-", 0, 0 },
	{ "a/b-", 0, 0 },
	{ "a/b_:1", 0, 0 },
	/* tags: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
	{ "a:_x", 1, 1 },
	{ "a:x.y-z_", 1, 1 },
	{ "a:.x", 0, 0 },
	{ "a:-x", 0, 0 },
	{ "a:x/y", 0, 0 },
	{ "a:x y", 0, 0 },
	{ "a b", 0, 0 },
	{ "a\t", 0, 0 },
};

/* "a:" and a tag of n bytes, or a name of n bytes and ":1" */
static char *hub_long(size_t n, int tag)
{
	char *s = malloc(n + 3);
	if (!s)
		return NULL;
	if (tag) {
		memcpy(s, "a:", 2);
		memset(s + 2, 'x', n);
	} else {
		memset(s, 'x', n);
		memcpy(s + n, ":1", 2);
	}
	s[n + 2] = '\0';
	return s;
}

static int hub_parses(const char *name)
{
	struct kiln_ref *r = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int rc = kiln_ref_parse(name, 0, &r, &err);
	kiln_ref_free(r);
	kiln_error_release(&err);
	return rc >= 0;
}

/* A word of min..max bytes from `alphabet` (xorshift64 over *x, so the same
 * seed gives the same words); `w` has room for max + 1 bytes. */
static void random_word(char *w, size_t min, size_t max, const char *alphabet,
			unsigned long long *x)
{
	size_t n = strlen(alphabet);
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	size_t len = min + (size_t)(*x % (max - min + 1));
	for (size_t k = 0; k < len; k++) {
		*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
		w[k] = alphabet[*x % n];
	}
	w[len] = '\0';
}

static void test_hub_name_short_cut(void)
{
	for (size_t i = 0; i < sizeof(hub_cases) / sizeof(hub_cases[0]); i++) {
		const struct hub_case *c = &hub_cases[i];
		int hub = lint_hub_name_valid(c->name), valid = hub_parses(c->name);
		tap_ok(hub == c->hub && valid == c->valid && (!hub || valid),
		       "reference '%s': short cut %d (want %d), parser %d (want %d)", c->name, hub,
		       c->hub, valid, c->valid);
	}
	/*
	 * Lengths: the short cut answers up to 128 bytes in all; tags are
	 * valid up to 128 bytes; a name of 256 is too long however it
	 * is normalised.
	 */
	static const struct {
		size_t n;
		int tag, hub, valid;
	} lens[] = {
		{ 125, 1, 1, 1 }, { 126, 1, 1, 1 }, { 127, 1, 0, 1 }, { 128, 1, 0, 1 },
		{ 129, 1, 0, 0 }, { 125, 0, 1, 1 }, { 126, 0, 1, 1 }, { 127, 0, 0, 1 },
		{ 237, 0, 0, 1 }, { 256, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *s = hub_long(lens[i].n, lens[i].tag);
		if (!s) {
			tap_ok(0, "out of memory for a reference of %zu bytes", lens[i].n);
			continue;
		}
		int hub = lint_hub_name_valid(s), valid = hub_parses(s);
		tap_ok(hub == lens[i].hub && valid == lens[i].valid && (!hub || valid),
		       "%s of %zu bytes (%zu in all): short cut %d (want %d), parser %d (want %d)",
		       lens[i].tag ? "tag" : "name", lens[i].n, strlen(s), hub, lens[i].hub, valid,
		       lens[i].valid);
		free(s);
	}
	/* short random names over the bytes that matter, deterministically */
	static const char alphabet[] = "ab1._-/:@Z";
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	size_t answered = 0, disagree = 0;
	for (int i = 0; i < 20000; i++) {
		char name[12];
		random_word(name, 1, 10, alphabet, &x);
		if (!lint_hub_name_valid(name))
			continue;
		answered++;
		if (!hub_parses(name) && disagree++ < 5)
			tap_diag("short cut accepts '%s', kiln_ref_parse does not", name);
	}
	tap_ok(disagree == 0 && answered > 100,
	       "20000 random names: the short cut answered %zu, the parser disagreed on %zu",
	       answered, disagree);
}

/* every suffix measured and compared at the end: what lint_str_has_any_suffix answers */
static int any_suffix_naive(const char *s, const char *const *suffixes)
{
	size_t n = strlen(s);
	for (size_t i = 0; suffixes[i]; i++) {
		size_t k = strlen(suffixes[i]);
		if (k <= n && memcmp(s + n - k, suffixes[i], k) == 0)
			return 1;
	}
	return 0;
}

typedef int (*suffix_test_fn)(const char *s, const char *const *list);

/*
 * 20000 random words over `alphabet` through `fn` (called `name`) and
 * `ref`: the answers must agree, and more than 100 words must match.
 */
static void suffix_agreement(const char *name, suffix_test_fn fn, suffix_test_fn ref,
			     const char *const *list, const char *alphabet, const char *what)
{
	unsigned long long x = 0x2545f4914f6cdd1dULL;
	size_t matched = 0, disagree = 0;
	for (int i = 0; i < 20000; i++) {
		char word[24];
		random_word(word, 0, 22, alphabet, &x);
		int got = fn(word, list);
		matched += got;
		if (got != ref(word, list) && disagree++ < 5)
			tap_diag("%s('%s') = %d", name, word, got);
	}
	tap_ok(disagree == 0 && matched > 100,
	       "20000 random words: %zu end with %s, %zu answers differ", matched, what, disagree);
}

static void test_any_suffix(void)
{
	/* dotted and plain suffixes, words with no dot to more than eight */
	static const char *const suffixes[] = { ".gz", ".tar.gz", ".", "gz", "a.b", ".a.a", NULL };
	suffix_agreement("lint_str_has_any_suffix", lint_str_has_any_suffix, any_suffix_naive,
			 suffixes, "ab.gzt", "a suffix");
}

/* lint_str_has_any_ext (the last dot only) against the general suffix test, on extensions. */
static void test_any_ext(void)
{
	static const char *const exts[] = { ".gz", ".tgz", ".t", ".Z", ".tar", NULL };
	suffix_agreement("lint_str_has_any_ext", lint_str_has_any_ext, lint_str_has_any_suffix,
			 exts, "atgz.Zr/", "an extension");
}

/* s[0..n) is want (NULL: there is no span) */
static int span_is(const char *s, size_t n, const char *want)
{
	return want ? s && n == strlen(want) && !memcmp(s, want, n) : s == NULL;
}

/* An image reference's parts as spans of the reference itself. */
static void test_refspan(void)
{
	static const struct {
		const char *ref, *registry, *path, *repo, *tag;
		int digest;
	} cases[] = {
		{ "debian", NULL, "debian", "debian", NULL, 0 },
		{ "debian:12-slim", NULL, "debian", "debian", "12-slim", 0 },
		{ "library/node:20@sha256:ab", NULL, "library/node", "node", "20", 1 },
		{ "ghcr.io/o/r:1", "ghcr.io", "o/r", "r", "1", 0 },
		{ "localhost:5000/x", "localhost:5000", "x", "x", NULL, 0 },
		{ "localhost/x@d", "localhost", "x", "x", NULL, 1 },
		{ "host:5000/a:b/c", "host:5000", "a:b/c", "c", NULL, 0 },
		{ "/x:1", NULL, "/x", "x", "1", 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		const char *ref = cases[i].ref;
		struct lint_refspan r;
		lint_refspan(ref, &r);
		const char *reg = r.path != ref ? ref : NULL;
		size_t reg_len = reg ? (size_t)(r.path - ref) - 1 : 0;
		int same = span_is(reg, reg_len, cases[i].registry) &&
			   span_is(r.path, r.path_len, cases[i].path) &&
			   span_is(r.repo, r.repo_len, cases[i].repo) &&
			   span_is(r.tag, r.tag_len, cases[i].tag);
		TAP_OK(same && r.digest == cases[i].digest, "parts of %s", ref);
	}
	char big[700];
	memset(big, 'a', sizeof(big));
	memcpy(big, "reg.io/", 7);
	memcpy(big + sizeof(big) - 6, ":t@dd", 6);
	struct lint_refspan r;
	lint_refspan(big, &r);
	TAP_OK(r.path == big + 7 && r.path_len == 687 && span_is(r.tag, r.tag_len, "t") &&
		       r.digest,
	       "parts of a long reference");
}

/* Keys borrowed as key[0..len): a prefix of a word is a key of its own. */
static void test_set(void)
{
	for (int use_arena = 0; use_arena < 2; use_arena++) {
		struct kiln_arena *a = use_arena ? kiln_arena_new() : NULL;
		struct lint_set s = { .arena = a };
		static const char words[] = "k0=x k1=x k2=x k3=x k4=x k5=x k6=x k7=x k8=x k9=x "
					    "ka=x kb=x kc=x kd=x ke=x kf=x kg=x kh=x ki=x kj=x";
		int ok = 1;
		for (size_t i = 0; i + 2 < sizeof(words); i += 5) {
			ok &= lint_set_add(&s, words + i, 2) == 0;
			ok &= lint_set_add(&s, words + i, 2) == 0; /* again: no second entry */
		}
		TAP_OK(ok && s.len == 20 && s.cap >= 40, "20 keys, grown (arena %d)", use_arena);
		TAP_OK(lint_set_has(&s, "k0", 2) && lint_set_has(&s, "kj=x", 2) &&
		       lint_set_has(&s, "ke", 2) && !lint_set_has(&s, "k", 1) &&
		       !lint_set_has(&s, "k0=", 3) && !lint_set_has(&s, "kk", 2),
		       "members by key and length (arena %d)", use_arena);
		lint_set_release(&s);
		kiln_arena_free(a);
	}
}

/* Flag names compared by length and bytes: with or without "--", texts with a NUL byte. */
static void test_flag(void)
{
	static const char nul_name[] = "fr\0m";
	static const char unterminated[] = "fromX";
	struct kiln_df_flag fl[] = {
		{ .name = { nul_name, 4 }, .value = { "a", 1 }, .has_value = 1 },
		{ .name = { unterminated, 4 }, .value = { "b", 1 }, .has_value = 1 },
		{ .name = { "-from", 5 }, .value = { "c", 1 }, .has_value = 1 },
		{ .name = { "---from", 7 }, .value = { "d", 1 }, .has_value = 1 },
		{ .name = { NULL, 0 } },
		{ .name = { "--chown", 7 } },
		{ .name = { "from", 4 }, .value = { "e", 1 }, .has_value = 1 },
		{ .name = { "--link", 6 }, .value = { "v\0", 2 }, .has_value = 1 },
		{ .name = { "--from", 6 }, .value = { "f", 1 }, .has_value = 1 },
	};
	struct kiln_df_node n = { .flags = fl, .n_flags = KILN_ARRAY_SIZE(fl) };
	const char *v = lint_flag(&n, "from");
	TAP_OK(v && !strcmp(v, "e"), "the first exact name wins");
	v = lint_flag(&n, "chown");
	TAP_OK(v && !strcmp(v, ""), "a flag without a value");
	v = lint_flag(&n, "link");
	TAP_OK(v && !strcmp(v, ""), "a value with a NUL byte reads as empty");
	TAP_OK(!lint_flag(&n, "fr") && !lint_flag(&n, "fromX") && !lint_flag(&n, "mount"),
	       "no prefixes, no unknown names");
	v = lint_flag(&n, "-from");
	TAP_OK(v && !strcmp(v, "c"), "a single dash is part of the name");
	n.n_flags = 6;
	TAP_OK(!lint_flag(&n, "from"),
	       "names with a NUL byte, unterminated or with a dash more are other names");
	n.n_flags = 0;
	TAP_OK(!lint_flag(&n, "from") && !lint_flag(&n, "link"), "a node without flags");
	TAP_OK(lint_str_has_suffix("a.tar.gz", ".gz") && lint_str_has_suffix("gz", "gz") &&
	       !lint_str_has_suffix("z", ".gz") && lint_str_has_suffix("x", ""),
	       "suffixes");
}

/* One message through lint_emit, compared with what snprintf makes of the same format. */
#define CHECK_MSG(...)                                                                       \
	do {                                                                                 \
		struct kiln_strv notes = KILN_STRV_INIT;                                     \
		struct lint_file f = { .notes = &notes, .strings = kiln_arena_new() };       \
		char want[256];                                                              \
		(void)snprintf(want, sizeof(want), __VA_ARGS__);                             \
		lint_emit(&f, "DL3000", -1, 1, __VA_ARGS__);                                 \
		TAP_OK(f.n_raw == 1 && !strcmp(f.raw[0].message, want), "message %s", want); \
		free(f.raw);                                                                 \
		kiln_arena_free(f.strings);                                                  \
	} while (0)

/* Messages of %s, %d, %zu and %.*s are put together without printf; others go to it. */
static void test_messages(void)
{
	const char *volatile null = NULL; /* not known to be NULL at compile time */
	CHECK_MSG("plain text");
	CHECK_MSG("%s and %s", "a", "bc");
	CHECK_MSG("%d|%d|%d|%d|%d", 0, -5, 42, INT_MAX, INT_MIN);
	CHECK_MSG("%zu %zu on line %d", (size_t)0, SIZE_MAX, 7);
	CHECK_MSG("[%.*s][%.*s][%.*s][%.*s]", 3, "abcdef", 0, "x", -1, "neg", 9, "ab");
	CHECK_MSG("%s%d%zu%.*s%s%d%zu%s", "a", 1, (size_t)2, 1, "bb", "c", 3, (size_t)4, "d");
	/* to printf: a ninth argument, NULL strings, other conversions */
	CHECK_MSG("%s%s%s%s%s%s%s%s%s", "1", "2", "3", "4", "5", "6", "7", "8", "9");
	CHECK_MSG("x %s y", null);
	CHECK_MSG("%.*s", 2, null);
	CHECK_MSG("100%% %u %02d %s", 5u, 3, "z");
	CHECK_MSG("%d%%", 50);
	/* a file without its report's arena (lint_report_new failed) is out of memory */
	struct kiln_strv notes = KILN_STRV_INIT;
	struct lint_file f = { .notes = &notes };
	lint_emit(&f, "DL3000", -1, 1, "%s", "no arena");
	TAP_OK(f.nomem && !f.n_raw, "no strings arena: out of memory, nothing recorded");
	free(f.raw);
}

static int cmp_reference(const void *a, const void *b)
{
	const struct lint_raw *x = *(const struct lint_raw *const *)a;
	const struct lint_raw *y = *(const struct lint_raw *const *)b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	int c = strcmp(x->rule, y->rule);
	if (!c)
		c = strcmp(x->message, y->message);
	return c ? c : (x->end_line < y->end_line ? -1 : 1);
}

/* The insertion sort of a few findings and qsort of many: both stable, many ties. */
static void test_sort_findings(void)
{
	static const char *const rules[] = { "DL3008", "DL3009", "KL1014" };
	static const char *const msgs[] = { "a", "b" };
	static const size_t sizes[] = { 0, 1, 2, 9, 31, 32, 33, 200 };
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	for (size_t s = 0; s < KILN_ARRAY_SIZE(sizes); s++) {
		size_t n = sizes[s];
		struct lint_raw *raw = calloc(n + 1, sizeof(*raw));
		struct lint_raw **v = calloc(n + 1, sizeof(*v));
		struct lint_raw **ref = calloc(n + 1, sizeof(*ref));
		int same = raw && v && ref;
		for (size_t i = 0; same && i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			raw[i].line = (int)(x >> 60) % 4;
			raw[i].col = (int)(x >> 56) % 2 + 1;
			raw[i].rule = (char *)rules[(x >> 40) % 3];
			raw[i].message = (char *)msgs[(x >> 30) % 2];
			raw[i].end_line = (int)i; /* not compared: tells equal findings apart */
			v[i] = ref[i] = &raw[i]; /* in the order emitted */
		}
		if (same) {
			lint_sort_raw(v, n);
			qsort(ref, n, sizeof(*ref), cmp_reference);
		}
		for (size_t i = 0; same && i < n; i++)
			same = v[i] == ref[i];
		TAP_OK(same, "%zu findings sorted stably", n);
		free(raw);
		free(v);
		free(ref);
	}
}

/* Secret-looking paths, with the base name's and the path's suffixes measured once. */
static void test_secret_path(void)
{
	static const struct {
		const char *path;
		int secret;
	} cases[] = {
		{ ".env", 1 }, { "a/.env", 1 }, { ".env.prod", 1 }, { ".env.example", 0 },
		{ ".env.sample", 0 }, { "x/.env.template", 0 }, { ".env.dist", 0 }, { ".envrc", 0 },
		{ "id_rsa", 1 }, { "keys/id_ed25519", 1 }, { "id_rsa.pub", 0 }, { "cert.pem", 1 },
		{ "a.b/server.key", 1 }, { "x.keystore", 1 }, { "keystore", 0 }, { "pem", 0 },
		{ "home/.aws/credentials", 1 }, { ".aws/credentials", 1 }, { "aws/credentials", 0 },
		{ "~/.docker/config.json", 1 }, { ".kube/config", 1 }, { "kube/config", 0 },
		{ "secrets.yml", 1 }, { "dir.d/file", 0 }, { "", 0 }, { "a/", 0 },
		{ "credentials.json", 1 }, { "x/service-account.json", 1 }, { "c/.npmrc", 1 },
		{ "s.d/secrets.json.bak", 0 }, { "a.pem/b", 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++)
		TAP_INT_EQ(lint_secret_path(cases[i].path), cases[i].secret, "secret path '%s'",
			   cases[i].path);
}

/* lint_unquote's short cut for plain words against the shell lexer it stands for. */
static void test_unquote(void)
{
	static const char alphabet[] = "aZ09._-/:@+=,{}~*?#%!&;|<>()[]^ \t'\"$\\\x80\xc3\xa9";
	unsigned long long x = 0x5851f42d4c957f2dULL;
	size_t plain = 0, disagree = 0;
	for (int i = 0; i < 20000; i++) {
		char w[16];
		random_word(w, 0, 12, i % 2 ? alphabet : "aZ9._-/:@+=,{}~", &x);
		struct kiln_shell_lex lex = { .escape = '\\', .flags = KILN_SHELL_SKIP_UNSET_ENV };
		char *want = NULL;
		if (kiln_shell_process_word(&lex, w, NULL, &want, NULL) < 0)
			want = strdup(w);
		char *got = lint_unquote(w);
		plain += strcmp(w, got) == 0;
		if ((!want || !got || strcmp(want, got)) && disagree++ < 5)
			tap_diag("lint_unquote('%s') = '%s', lexer '%s'", w, got, want);
		free(want);
		free(got);
	}
	tap_ok(disagree == 0 && plain > 10000 && plain < 20000,
	       "20000 random words: %zu unchanged, %zu answers differ", plain, disagree);
}

/* The registry short cut: its yes must be the parser's, on cases and random names. */
static void test_registry_name_short_cut(void)
{
	static const struct {
		const char *name;
		int yes;
	} cases[] = {
		{ "localhost/node", 1 },     { "localhost:5000/node:1", 1 },
		{ "reg.example.com/a/b:1", 1 }, { "reg.example.com:443/a", 1 },
		{ "reg:5000/a", 1 },         { "docker.io/library/node", 1 },
		{ "index.docker.io/node", 1 }, { "reg.io/a:x.y-z_", 1 },
		{ "reg:port/a", 0 },         { "a_b.c/x", 0 },
		{ "-a.b/x", 0 },             { "reg.io/", 0 },
		{ "reg.io/a:", 0 },          { "reg.io/a:.x", 0 },
		{ "reg.io/X", 0 },           { "Reg.io/x", 0 },
		{ "[::1]:5000/x", 0 },       { "reg.io/x@sha256:0123", 0 },
		{ "node", 0 },               { "library/node:1", 0 },
		{ "localhostx/node", 0 },    { "reg.io//x", 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int yes = lint_registry_name_valid(cases[i].name);
		int valid = hub_parses(cases[i].name);
		tap_ok(yes == cases[i].yes && (!yes || valid),
		       "registry name '%s': short cut %d (want %d), parser %d", cases[i].name, yes,
		       cases[i].yes, valid);
	}
	/* domain/path[:tag] from random pieces over the bytes that matter */
	unsigned long long x = 0x2545f4914f6cdd1dULL;
	size_t answered = 0, disagree = 0;
	for (int i = 0; i < 60000; i++) {
		char dom[8], path[8], tag[6], name[32];
		random_word(dom, 1, 7, "ab1.-:5", &x);
		random_word(path, 1, 7, "ab1._-/", &x);
		random_word(tag, 0, 5, "ab1._-", &x);
		snprintf(name, sizeof(name), "%s/%s%s%s", dom, path, *tag ? ":" : "", tag);
		if (!lint_registry_name_valid(name))
			continue;
		answered++;
		if (!hub_parses(name) && disagree++ < 5)
			tap_diag("registry short cut accepts '%s', kiln_ref_parse does not", name);
	}
	tap_ok(disagree == 0 && answered > 100,
	       "60000 random names: the registry short cut answered %zu, the parser disagreed "
	       "on %zu",
	       answered, disagree);
}

int main(void)
{
	test_registry_name_short_cut();
	test_unquote();
	test_secret_path();
	test_sort_findings();
	test_messages();
	test_flag();
	test_refspan();
	test_set();
	test_hub_name_short_cut();
	test_any_suffix();
	test_any_ext();
	return tap_done();
}
