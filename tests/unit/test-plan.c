/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan: the path rules of COPY/ADD (tables of Go's and fsutil's answers),
 * the build plan of a Dockerfile (stages, layer steps, progress names) and
 * what changes a cache key and what must not.
 */
#include <string.h>

#include "dockerfile/dockerfile.h"
#include "plan/plan.h"
#include "tap.h"

/* ---- filepath.Match (Go's own match_test.go table) --------------------- */

static const struct {
	const char *pattern, *name;
	int want; /* 1, 0, -1 = ErrBadPattern */
} match_cases[] = {
	{ "abc", "abc", 1 },
	{ "*", "abc", 1 },
	{ "*c", "abc", 1 },
	{ "a*", "a", 1 },
	{ "a*", "abc", 1 },
	{ "a*", "ab/c", 0 },
	{ "a*/b", "abc/b", 1 },
	{ "a*/b", "a/c/b", 0 },
	{ "a*b*c*d*e*/f", "axbxcxdxe/f", 1 },
	{ "a*b*c*d*e*/f", "axbxcxdxexxx/f", 1 },
	{ "a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0 },
	{ "a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0 },
	{ "a*b?c*x", "abxbbxdbxebxczzx", 1 },
	{ "a*b?c*x", "abxbbxdbxebxczzy", 0 },
	{ "ab[c]", "abc", 1 },
	{ "ab[b-d]", "abc", 1 },
	{ "ab[e-g]", "abc", 0 },
	{ "ab[^c]", "abc", 0 },
	{ "ab[^b-d]", "abc", 0 },
	{ "ab[^e-g]", "abc", 1 },
	{ "a\\*b", "a*b", 1 },
	{ "a\\*b", "ab", 0 },
	{ "a?b",
	  "a\xe2\x98\xba"
	  "b",
	  1 },
	{ "a[^a]b",
	  "a\xe2\x98\xba"
	  "b",
	  1 },
	{ "a???b",
	  "a\xe2\x98\xba"
	  "b",
	  0 },
	{ "a[^a][^a][^a]b",
	  "a\xe2\x98\xba"
	  "b",
	  0 },
	{ "[a-\xce\xb6]*", "\xce\xb1", 1 },
	{ "*[a-\xce\xb6]", "A", 0 },
	{ "a?b", "a/b", 0 },
	{ "a*b", "a/b", 0 },
	{ "[\\]a]", "]", 1 },
	{ "[\\-]", "-", 1 },
	{ "[x\\-]", "x", 1 },
	{ "[x\\-]", "-", 1 },
	{ "[x\\-]", "z", 0 },
	{ "[\\-x]", "x", 1 },
	{ "[\\-x]", "-", 1 },
	{ "[\\-x]", "a", 0 },
	{ "[]a]", "]", -1 },
	{ "[-]", "-", -1 },
	{ "[x-]", "x", -1 },
	{ "[x-]", "-", -1 },
	{ "[x-]", "z", -1 },
	{ "[-x]", "x", -1 },
	{ "[-x]", "-", -1 },
	{ "[-x]", "a", -1 },
	{ "\\", "a", -1 },
	{ "[a-b-c]", "a", -1 },
	{ "[", "a", -1 },
	{ "[^", "a", -1 },
	{ "[^bc", "a", -1 },
	{ "a[", "a", -1 },
	{ "a[", "ab", -1 },
	{ "a[", "x", -1 },
	{ "a/b[", "x", -1 },
	{ "*x", "xxx", 1 },
	{ "*.txt", "notes.txt", 1 },
	{ "*.txt", "docs/notes.txt", 0 },
};

static void test_match(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(match_cases); i++)
		TAP_INT_EQ(kiln_plan_match(match_cases[i].pattern, match_cases[i].name),
			   match_cases[i].want, "Match(%s, %s)", match_cases[i].pattern,
			   match_cases[i].name);
}

/* ---- path.Clean, split, prefix match, targets --------------------------- */

static void test_clean(void)
{
	static const char *const cases[][2] = {
		{ "", "." },
		{ "/", "/" },
		{ "a//b", "a/b" },
		{ "/a/../..", "/" },
		{ "a/../..", ".." },
		{ "./a/./b/", "a/b" },
		{ "/app/.", "/app" },
		{ "../x/../y", "../y" },
		{ "abc/def/../../..", ".." },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		char *c = kiln_plan_path_clean(cases[i][0]);
		TAP_STR_EQ(c, cases[i][1], "Clean(%s)", cases[i][0]);
		free(c);
	}
	char *b = kiln_plan_path_base("/usr/local/bin/");
	TAP_STR_EQ(b, "bin", "base of a path with a trailing slash");
	free(b);
	b = kiln_plan_path_base("/");
	TAP_STR_EQ(b, "/", "base of the root");
	free(b);
}

static void test_split(void)
{
	static const char *const cases[][3] = {
		{ "/src/*.c", "/src", "*.c" },
		{ "*.c", "", "*.c" },
		{ "a/b", "a/b", "" },
		{ "/a/*/c", "/a", "*/c" },
		{ "/*", "/", "*" },
		{ "/a/b\\*c", "/a/b\\*c", "" },
		{ "x/[ab]/y*", "x", "[ab]/y*" },
		{ "/a//b/../c?", "/a", "c?" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		char *d1 = NULL, *d2 = NULL;
		int r = kiln_plan_split_wildcards(cases[i][0], &d1, &d2, NULL);
		TAP_OK(r == 0 && d1 && d2 && !strcmp(d1, cases[i][1]) && !strcmp(d2, cases[i][2]),
		       "splitWildcards(%s) = (%s, %s), want (%s, %s)", cases[i][0], d1 ? d1 : "?",
		       d2 ? d2 : "?", cases[i][1], cases[i][2]);
		free(d1);
		free(d2);
	}
}

/* fsutil's prepareTargetDir, COPY's dir_contents always on except where noted */
static const struct {
	const char *dest;
	int exists, is_dir;
	const char *base;
	int src_dir, contents;
	const char *path, *mkdir;
	const char *what;
} target_cases[] = {
	{ "/app", 1, 1, "a.txt", 0, 1, "/app/a.txt", "/app", "a file onto an existing directory" },
	{ "/app", 0, 0, "a.txt", 0, 1, "/app", "/", "a file onto a missing path becomes it" },
	{ "/app", 1, 0, "a.txt", 0, 1, "/app", "/", "a file onto a file replaces it" },
	{ "/app", 0, 0, "src", 1, 1, "/app", "/app", "directory contents onto a missing path" },
	{ "/app", 1, 1, "src", 1, 1, "/app", "/", "directory contents into an existing directory" },
	{ "/x/y", 0, 0, "f", 0, 1, "/x/y", "/x", "parents of a new file are made" },
	{ "/app", 1, 1, "src", 1, 0, "/app/src", "/app", "a directory itself (no contents rule)" },
	{ "/", 1, 1, "bin", 0, 1, "/bin", "/", "a file into the root" },
};

static void test_targets(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(target_cases); i++) {
		struct kiln_plan_target t;
		int r = kiln_plan_copy_target(target_cases[i].dest, target_cases[i].exists,
					      target_cases[i].is_dir, target_cases[i].base,
					      target_cases[i].src_dir, target_cases[i].contents, &t,
					      NULL);
		TAP_OK(r == 0 && !strcmp(t.path, target_cases[i].path) &&
			       !strcmp(t.mkdir, target_cases[i].mkdir),
		       "%s: %s (mkdir %s), want %s (mkdir %s)", target_cases[i].what,
		       r == 0 ? t.path : "?", r == 0 ? t.mkdir : "?", target_cases[i].path,
		       target_cases[i].mkdir);
		if (r == 0)
			kiln_plan_target_release(&t);
	}
	static const char *const dd[][2] = {
		{ "/app/", "/app" },  { "/app", "/" }, { "/a/b", "/a" },
		{ "/app/.", "/app" }, { "/", "/" },    { "/a/b/", "/a/b" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dd); i++) {
		char *d = kiln_plan_dest_dir(dd[i][0]);
		TAP_STR_EQ(d, dd[i][1], "directory made first for destination %s", dd[i][0]);
		free(d);
	}
	static const char *const ps[][3] = {
		{ "a/b/c.txt", "/", "a/b/c.txt" },
		{ "./x/./y/z", "/x", "y/z" },
		{ "src/./**/*.go", "/src", "**/*.go" },
		{ "/abs/./f", "/abs", "f" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(ps); i++) {
		char *root = NULL, *pat = NULL;
		int r = kiln_plan_parents_split(ps[i][0], &root, &pat, NULL);
		TAP_OK(r == 0 && !strcmp(root, ps[i][1]) && !strcmp(pat, ps[i][2]),
		       "--parents %s splits into %s + %s", ps[i][0], r == 0 ? root : "?",
		       r == 0 ? pat : "?");
		free(root);
		free(pat);
	}
}

/* ---- plans and keys ----------------------------------------------------- */

struct built {
	struct kiln_df_ast *ast;
	struct kiln_df_model *model;
	struct kiln_df_graph *graph;
	struct kiln_plan *plan;
};

static void built_free(struct built *b)
{
	kiln_plan_free(b->plan);
	kiln_df_graph_free(b->graph);
	kiln_df_model_free(b->model);
	kiln_df_ast_free(b->ast);
	memset(b, 0, sizeof(*b));
}

static int build_plan(const char *df, const char *const *args, size_t n_args, const char *target,
		      struct built *b)
{
	struct kiln_error err = KILN_ERROR_INIT;
	memset(b, 0, sizeof(*b));
	struct kiln_df_graph_opts o = { .target = target,
					.build_args = args,
					.n_build_args = n_args };
	int r = kiln_df_parse(df, strlen(df), "Dockerfile", &b->ast, &err);
	if (r >= 0)
		r = kiln_df_model_new(b->ast, &b->model, &err);
	if (r >= 0)
		r = kiln_df_graph_new(b->model, &o, &b->graph, &err);
	if (r >= 0)
		r = kiln_plan_new(b->graph, &b->plan, &err);
	if (r < 0) {
		tap_diag("plan failed: %s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
		built_free(b);
	}
	return r;
}

static void test_plan_shape(void)
{
	static const char df[] = "FROM busybox AS build\n"
				 "WORKDIR /src\n"
				 "COPY . .\n"
				 "RUN make\n"
				 "FROM build AS test\n"
				 "RUN make check\n"
				 "FROM scratch\n"
				 "ENV A=1\n"
				 "COPY --from=build /src/app /app\n"
				 "WORKDIR /\n"
				 "CMD [\"/app\"]\n";
	struct built b;
	if (build_plan(df, NULL, 0, NULL, &b) < 0) {
		TAP_OK(0, "plan of a multi-stage Dockerfile");
		return;
	}
	struct kiln_plan *p = b.plan;
	TAP_INT_EQ((int) p->n_stages, 2, "the target needs two stages (test is skipped)");
	TAP_STR_EQ(p->stages[0].label, "build", "the first stage is build");
	TAP_STR_EQ(p->stages[1].label, "stage-2", "an unnamed stage is stage-N");
	TAP_INT_EQ((int) p->target, 1, "the target is the last needed stage");
	TAP_INT_EQ(p->stages[0].total, 4, "build: FROM image + WORKDIR + COPY + RUN");
	TAP_STR_EQ(p->stages[0].steps[2].name, "[build 4/4] RUN make", "BuildKit's RUN name");
	TAP_STR_EQ(p->stages[0].steps[0].name, "[build 2/4] WORKDIR /src", "WORKDIR name");
	TAP_INT_EQ(p->stages[1].steps[1].layer, 1, "COPY --from makes a layer");
	TAP_INT_EQ((int) p->stages[1].steps[1].wait_stage, 0, "COPY --from waits for build");
	TAP_INT_EQ(p->stages[1].steps[2].layer, 0, "WORKDIR / makes no layer");
	TAP_INT_EQ(p->stages[1].steps[0].layer, 0, "ENV makes no layer");
	TAP_STR_EQ(p->stages[1].steps[1].name, "[stage-2 1/2] COPY --from=build /src/app /app",
		   "scratch: the FROM is not numbered");
	built_free(&b);

	static const char lone[] = "FROM busybox\nARG V=1\nRUN echo $V\n";
	if (build_plan(lone, NULL, 0, NULL, &b) < 0) {
		TAP_OK(0, "plan of a one-stage Dockerfile");
		return;
	}
	TAP_STR_EQ(b.plan->stages[0].steps[1].name, "[2/2] RUN echo 1",
		   "a lone stage has no label; RUN is shown expanded");
	built_free(&b);

	static const char many[] = "FROM busybox\nRUN a\nRUN b\nRUN c\nRUN d\nRUN e\nRUN f\nRUN g\n"
				   "RUN h\nRUN i\nRUN j\n";
	if (build_plan(many, NULL, 0, NULL, &b) == 0) {
		TAP_STR_EQ(b.plan->stages[0].steps[0].name, "[ 2/11] RUN a",
			   "the index is right-aligned to the width of the total");
		built_free(&b);
	}
}

/* The key of stage `s` step `k`, given a parent key and a source digest. */
static int step_key(struct built *b, size_t s, size_t k, const char *parent,
		    const struct kiln_digest *src, struct kiln_plan_key *ret)
{
	struct kiln_plan_step_input in = {
		.step = b->plan->stages[s].steps[k].df,
		.parent = parent,
		.platform = "linux/amd64",
		.network = "host",
		.sources = src,
		.source_date_epoch = -1,
		.link = b->plan->stages[s].steps[k].df->instr.cmd != KILN_DF_RUN &&
			b->plan->stages[s].steps[k].df->instr.u.copy.link,
	};
	return kiln_plan_step_key(&in, ret, NULL);
}

/* Key of the step at (s, k) of a Dockerfile built with args. */
static int key_of(const char *df, const char *const *args, size_t n, size_t s, size_t k,
		  const char *parent, const struct kiln_digest *src, struct kiln_digest *ret)
{
	struct built b;
	if (build_plan(df, args, n, NULL, &b) < 0)
		return -1;
	struct kiln_plan_key key = KILN_PLAN_KEY_INIT;
	int r = step_key(&b, s, k, parent, src, &key);
	if (r == 0)
		*ret = key.digest;
	kiln_plan_key_release(&key);
	built_free(&b);
	return r;
}

static void test_keys(void)
{
	static const char run[] = "FROM busybox\nARG V=1\nARG UNUSED=x\nENV E=1\nRUN echo hi\n";
	struct kiln_digest k0, k1, src1, src2;
	(void) kiln_sha256_buf("one", 3, &src1, NULL);
	(void) kiln_sha256_buf("two", 3, &src2, NULL);
	const char *p = "base:sha256:0000";
	if (key_of(run, NULL, 0, 0, 3, p, NULL, &k0) < 0) {
		TAP_OK(0, "key of a RUN");
		return;
	}
	TAP_OK(key_of(run, NULL, 0, 0, 3, p, NULL, &k1) == 0 && kiln_digest_equal(&k0, &k1),
	       "the same step gives the same key");
	const char *other[] = { "OTHER=1" };
	TAP_OK(key_of(run, other, 1, 0, 3, p, NULL, &k1) == 0 && kiln_digest_equal(&k0, &k1),
	       "a build arg no ARG declares does not change a key");
	const char *v2[] = { "V=2" };
	TAP_OK(key_of(run, v2, 1, 0, 3, p, NULL, &k1) == 0 && !kiln_digest_equal(&k0, &k1),
	       "a declared ARG is the RUN's environment: its value changes the key");
	const char *proxy[] = { "http_proxy=http://proxy:3128" };
	TAP_OK(key_of(run, proxy, 1, 0, 3, p, NULL, &k1) == 0 && kiln_digest_equal(&k0, &k1),
	       "proxy build args are not part of a key");
	static const char run_env[] = "FROM busybox\nARG V=1\nARG UNUSED=x\nENV E=2\nRUN echo hi\n";
	TAP_OK(key_of(run_env, NULL, 0, 0, 3, p, NULL, &k1) == 0 && !kiln_digest_equal(&k0, &k1),
	       "an ENV before a RUN changes its key");
	TAP_OK(key_of(run, NULL, 0, 0, 3, "base:sha256:1111", NULL, &k1) == 0 &&
		       !kiln_digest_equal(&k0, &k1),
	       "another parent changes the key");
	static const char run_label[] = "FROM busybox\nARG V=1\nARG UNUSED=x\nENV E=1\nLABEL a=b\n"
					"RUN echo hi\n";
	TAP_OK(key_of(run_label, NULL, 0, 0, 4, p, NULL, &k1) == 0 && kiln_digest_equal(&k0, &k1),
	       "a LABEL before a RUN does not change its key");
	static const char run_user[] = "FROM busybox\nARG V=1\nARG UNUSED=x\nENV E=1\nUSER nobody\n"
				       "RUN echo hi\n";
	TAP_OK(key_of(run_user, NULL, 0, 0, 4, p, NULL, &k1) == 0 && !kiln_digest_equal(&k0, &k1),
	       "USER before a RUN changes its key");
	static const char run_text[] =
		"FROM busybox\nARG V=1\nARG UNUSED=x\nENV E=1\nRUN echo ho\n";
	TAP_OK(key_of(run_text, NULL, 0, 0, 3, p, NULL, &k1) == 0 && !kiln_digest_equal(&k0, &k1),
	       "the command text is part of the key");

	static const char copy[] = "FROM busybox\nENV E=1\nCOPY a /a\n";
	static const char copy_env[] = "FROM busybox\nENV E=2\nCOPY a /a\n";
	if (key_of(copy, NULL, 0, 0, 1, p, &src1, &k0) < 0) {
		TAP_OK(0, "key of a COPY");
		return;
	}
	TAP_OK(key_of(copy_env, NULL, 0, 0, 1, p, &src1, &k1) == 0 && kiln_digest_equal(&k0, &k1),
	       "an ENV the COPY does not use does not change its key");
	TAP_OK(key_of(copy, NULL, 0, 0, 1, p, &src2, &k1) == 0 && !kiln_digest_equal(&k0, &k1),
	       "other source contents change a COPY's key");
	static const char copy_chmod[] = "FROM busybox\nENV E=1\nCOPY --chmod=0600 a /a\n";
	TAP_OK(key_of(copy_chmod, NULL, 0, 0, 1, p, &src1, &k1) == 0 &&
		       !kiln_digest_equal(&k0, &k1),
	       "--chmod changes a COPY's key");
	static const char copy_dest[] = "FROM busybox\nENV E=1\nCOPY a /b\n";
	TAP_OK(key_of(copy_dest, NULL, 0, 0, 1, p, &src1, &k1) == 0 && !kiln_digest_equal(&k0, &k1),
	       "the destination changes a COPY's key");
	static const char copy_var[] = "FROM busybox\nENV E=1\nARG D=/a\nCOPY a $D\n";
	struct kiln_digest kv1, kv2;
	const char *d2[] = { "D=/b" };
	TAP_OK(key_of(copy_var, NULL, 0, 0, 2, p, &src1, &kv1) == 0 &&
		       key_of(copy_var, d2, 1, 0, 2, p, &src1, &kv2) == 0 &&
		       !kiln_digest_equal(&kv1, &kv2),
	       "an ARG the COPY expands changes its key");

	static const char link[] = "FROM busybox\nCOPY --link a /a\n";
	TAP_OK(key_of(link, NULL, 0, 0, 0, p, &src1, &k0) == 0 &&
		       key_of(link, NULL, 0, 0, 0, "base:sha256:2222", &src1, &k1) == 0 &&
		       kiln_digest_equal(&k0, &k1),
	       "COPY --link does not depend on the parent");
	static const char wd[] = "FROM busybox\nWORKDIR /app\n";
	static const char wd_user[] = "FROM busybox\nUSER 1000\nWORKDIR /app\n";
	TAP_OK(key_of(wd, NULL, 0, 0, 0, p, NULL, &k0) == 0 &&
		       key_of(wd_user, NULL, 0, 0, 1, p, NULL, &k1) == 0 &&
		       !kiln_digest_equal(&k0, &k1),
	       "WORKDIR's key covers the user who owns what it creates");

	/* the ingredients survive a round trip and explain a difference */
	struct built b1, b2;
	if (build_plan(run, NULL, 0, NULL, &b1) == 0 && build_plan(run, v2, 1, NULL, &b2) == 0) {
		struct kiln_plan_key a = KILN_PLAN_KEY_INIT, c = KILN_PLAN_KEY_INIT,
				     back = KILN_PLAN_KEY_INIT;
		struct kiln_strv diff = KILN_STRV_INIT;
		char *json = NULL;
		int r = step_key(&b1, 0, 3, p, NULL, &a);
		if (r == 0)
			r = step_key(&b2, 0, 3, p, NULL, &c);
		if (r == 0)
			r = kiln_plan_key_to_json(&a, &json, NULL);
		if (r == 0)
			r = kiln_plan_key_from_json(json, &back, NULL);
		if (r == 0)
			r = kiln_plan_key_finish(&back, NULL);
		TAP_OK(r == 0 && kiln_digest_equal(&a.digest, &back.digest),
		       "ingredients read back from JSON give the same key");
		if (r == 0)
			r = kiln_plan_key_diff(&a, &c, &diff, NULL);
		TAP_OK(r == 0 && diff.len == 2 && !strcmp(diff.items[0], "args") &&
			       !strcmp(diff.items[1], "env"),
		       "a changed ARG shows as the args and env ingredients");
		const char *args = kiln_plan_key_get(&a, "args");
		TAP_OK(args && strstr(args, "V=1\n") && strstr(args, "UNUSED=x\n"),
		       "the args ingredient lists every ARG the stage declared (a RUN's env)");
		free(json);
		kiln_strv_release(&diff);
		kiln_plan_key_release(&a);
		kiln_plan_key_release(&c);
		kiln_plan_key_release(&back);
		built_free(&b1);
		built_free(&b2);
	}

	/* an ARG with no value and no build arg sets nothing: the RUN's key stays */
	static const char noarg[] = "FROM busybox\nARG W=1\nRUN echo hi\n";
	static const char bare[] = "FROM busybox\nARG W=1\nARG V\nRUN echo hi\n";
	static const char empty[] = "FROM busybox\nARG W=1\nARG V=\nRUN echo hi\n";
	struct kiln_digest kb;
	TAP_OK(key_of(noarg, NULL, 0, 0, 1, p, NULL, &k0) == 0 &&
		       key_of(bare, NULL, 0, 0, 2, p, NULL, &k1) == 0 &&
		       key_of(empty, NULL, 0, 0, 2, p, NULL, &kb) == 0 &&
		       kiln_digest_equal(&k0, &k1) && !kiln_digest_equal(&k0, &kb),
	       "ARG V (no value) leaves a RUN's key alone; ARG V= (empty, set) changes it");

	/* bytes that are not UTF-8: keyed (as distinct texts), and stored */
	static const char raw1[] = "FROM busybox\nRUN echo \xff\n";
	static const char raw2[] = "FROM busybox\nRUN echo \xfe\n";
	static const char hex[] = "FROM busybox\nRUN echo ff\n";
	struct kiln_digest kr3;
	TAP_OK(key_of(raw1, NULL, 0, 0, 0, p, NULL, &k0) == 0 &&
		       key_of(raw2, NULL, 0, 0, 0, p, NULL, &k1) == 0 &&
		       key_of(hex, NULL, 0, 0, 0, p, NULL, &kr3) == 0 &&
		       !kiln_digest_equal(&k0, &k1) && !kiln_digest_equal(&k0, &kr3),
	       "an instruction that is not UTF-8 has a key of its own");
	struct kiln_plan_key raw = KILN_PLAN_KEY_INIT, back = KILN_PLAN_KEY_INIT;
	char *json = NULL;
	int r = kiln_plan_key_add(&raw, "args", "X=\xff\x80ok\n", NULL);
	if (r == 0)
		r = kiln_plan_key_to_json(&raw, &json, NULL);
	if (r == 0)
		r = kiln_plan_key_from_json(json, &back, NULL);
	const char *v = r == 0 ? kiln_plan_key_get(&back, "args") : NULL;
	TAP_OK(v && !strcmp(v, "X=\xff\x80ok\n"), "an ingredient that is not UTF-8 reads back");
	TAP_OK(kiln_plan_key_from_json("[[\"args\",{\"hex\":\"f\"}]]", &back, NULL) < 0 &&
		       kiln_plan_key_from_json("[[\"args\",{\"hex\":\"00\"}]]", &back, NULL) < 0 &&
		       kiln_plan_key_from_json("[[\"args\",{\"hex\":\"zz\"}]]", &back, NULL) < 0,
	       "a malformed hex ingredient is refused");
	free(json);
	kiln_plan_key_release(&raw);
	kiln_plan_key_release(&back);
}

int main(void)
{
	test_match();
	test_clean();
	test_split();
	test_targets();
	test_plan_shape();
	test_keys();
	return tap_done();
}
