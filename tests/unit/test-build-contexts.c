/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: named build contexts. --build-context values parsed and refused
 * as buildx does; contexts matched to image references and stage names the
 * way BuildKit matches them (the familiar name without ":latest",
 * NAME::PLATFORM first); and the stage graph with a stage a named context
 * replaces (based on the context, no steps, depending on nothing).
 */
#include <string.h>

#include "build/contexts.h"
#include "dockerfile/dockerfile.h"
#include "tap.h"

#define DG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_parse(void)
{
	static const struct {
		const char *spec, *name, *value;
	} good[] = {
		{ "src=./dir", "src", "./dir" },
		{ "alpine:3.19=docker-image://alpine@" DG, "alpine:3.19",
		  "docker-image://alpine@" DG },
		{ "base=docker-image://scratch", "base", "docker-image://scratch" },
		{ "base=oci-layout:///tmp/layout:v1@" DG, "base",
		  "oci-layout:///tmp/layout:v1@" DG },
		{ "base=oci-layout://rel/layout", "base", "oci-layout://rel/layout" },
		{ "code=https://example.org/repo.git#main:sub", "code",
		  "https://example.org/repo.git#main:sub" },
		{ "code=git@example.org:team/repo.git", "code", "git@example.org:team/repo.git" },
		{ "file=https://example.org/a.tar.gz", "file", "https://example.org/a.tar.gz" },
		{ "tools::linux/arm64=./arm", "tools::linux/arm64", "./arm" },
		{ "ghcr.io/o/img:1=./d", "ghcr.io/o/img:1", "./d" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(good); i++) {
		struct kiln_build_context c = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_build_context_parse(good[i].spec, &c, &err);
		TAP_OK(r == 0 && !strcmp(c.name, good[i].name) && !strcmp(c.value, good[i].value),
		       "accepted: %s%s%s", good[i].spec, r < 0 ? ": " : "",
		       r < 0 && err.msg ? err.msg : "");
		kiln_build_context_release(&c);
		kiln_error_release(&err);
	}
	static const struct {
		const char *spec, *why;
	} bad[] = {
		{ "nameonly", "needs NAME=VALUE" },
		{ "=./dir", "needs NAME=VALUE" },
		{ "name=", "needs NAME=VALUE" },
		{ "Bad=./dir", "invalid context name Bad" },
		{ "x::notaplatform/=./dir", "--build-context x::notaplatform/=./dir" },
		{ "x=ftp://example.org/a", "unsupported context source" },
		{ "x=target:other", "bake target" },
		{ "x=docker-image://UPPER", "docker-image://UPPER" },
		{ "x=oci-layout://", "no layout directory" },
		{ "x=oci-layout://dir@sha256:abc", "oci-layout://dir@sha256:abc" },
		{ "x=oci-layout://dir:bad^tag", "invalid tag" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(bad); i++) {
		struct kiln_build_context c = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_build_context_parse(bad[i].spec, &c, &err);
		TAP_OK(r == -KILN_EINVAL && err.msg && strstr(err.msg, bad[i].why),
		       "refused: %s (%s)", bad[i].spec, err.msg ? err.msg : "no error");
		kiln_build_context_release(&c);
		kiln_error_release(&err);
	}
}

/* A build with only its options and contexts, as bb_contexts_open() needs it. */
static int open_contexts(struct bb *b, struct kiln_build_opts *o, const char *const *specs,
			 size_t n, struct kiln_build_context *store)
{
	for (size_t i = 0; i < n; i++)
		if (kiln_build_context_parse(specs[i], &store[i], NULL) < 0)
			return -1;
	o->contexts = store;
	o->n_contexts = n;
	*b = (struct bb){ .o = o };
	return bb_contexts_open(b, NULL);
}

static const char *value_of(struct bb *b, const char *ref, const char *platform)
{
	const struct bb_context *c = bb_context_find(b, ref, platform);
	if (!c)
		return "(none)";
	const char *img = bb_context_image_ref(c);
	return img ? img : "(not an image)";
}

static void test_match(void)
{
	const char *specs[] = {
		"alpine=docker-image://localhost/a:any",
		"alpine:3.19=docker-image://localhost/a:319",
		"ghcr.io/o/tool=docker-image://localhost/tool:x",
		"tool::linux/arm64=docker-image://localhost/tool:arm",
		"tool=docker-image://localhost/tool:any",
		"build=.",
	};
	struct kiln_build_context store[KILN_ARRAY_SIZE(specs)] = { 0 };
	struct kiln_build_opts o = { .context_tar_fd = -1, .source_date_epoch = -1 };
	struct bb b;
	int r = open_contexts(&b, &o, specs, KILN_ARRAY_SIZE(specs), store);
	TAP_OK(r == 0, "contexts opened");
	static const struct {
		const char *ref, *platform, *want;
	} cases[] = {
		{ "alpine", "linux/amd64", "localhost/a:any" },
		{ "alpine:latest", "linux/amd64", "localhost/a:any" },
		{ "docker.io/library/alpine", "linux/amd64", "localhost/a:any" },
		{ "docker.io/library/alpine:latest", "linux/amd64", "localhost/a:any" },
		{ "alpine:3.19", "linux/amd64", "localhost/a:319" },
		{ "alpine:3.20", "linux/amd64", "(none)" },
		{ "ghcr.io/o/tool", "linux/amd64", "localhost/tool:x" },
		{ "ghcr.io/o/tool:latest", "linux/amd64", "localhost/tool:x" },
		{ "tool", "linux/arm64", "localhost/tool:arm" },
		{ "tool", "linux/amd64", "localhost/tool:any" },
		{ "build", "linux/amd64", "(not an image)" },
		{ "Not A Ref", "linux/amd64", "(none)" },
	};
	for (size_t i = 0; r == 0 && i < KILN_ARRAY_SIZE(cases); i++)
		TAP_STR_EQ(value_of(&b, cases[i].ref, cases[i].platform), cases[i].want, "%s on %s",
			   cases[i].ref, cases[i].platform);
	TAP_INT_EQ(bb_context_stage_hook(&b, "build", NULL), 1, "a stage named build is replaced");
	TAP_INT_EQ(bb_context_stage_hook(&b, "tool", NULL), 1,
		   "a stage with a platform-only context too (its platform is known later)");
	TAP_INT_EQ(bb_context_stage_hook(&b, "test", NULL), 0, "a stage without one is not");
	bb_contexts_close(&b);
	for (size_t i = 0; i < KILN_ARRAY_SIZE(specs); i++)
		kiln_build_context_release(&store[i]);

	/* checked before any work: a missing directory, a name given twice */
	const char *missing[] = { "x=/nonexistent/kiln-context" };
	struct kiln_build_context s1[1] = { 0 };
	struct kiln_build_opts o1 = { .context_tar_fd = -1, .source_date_epoch = -1 };
	TAP_OK(open_contexts(&b, &o1, missing, 1, s1) == -KILN_ENOTFOUND, "a missing directory");
	bb_contexts_close(&b);
	kiln_build_context_release(&s1[0]);
	const char *twice[] = { "x=.", "x=docker-image://busybox" };
	struct kiln_build_context s2[2] = { 0 };
	struct kiln_build_opts o2 = { .context_tar_fd = -1, .source_date_epoch = -1 };
	TAP_OK(open_contexts(&b, &o2, twice, 2, s2) == -KILN_EINVAL, "a name given twice");
	bb_contexts_close(&b);
	kiln_build_context_release(&s2[0]);
	kiln_build_context_release(&s2[1]);
}

static int replace_build(void *ud, const char *name, struct kiln_error *err)
{
	(void) ud, (void) err;
	return !strcmp(name, "build");
}

static void test_graph(void)
{
	const char *df = "FROM golang:1.22 AS build\n"
			 "COPY --from=gen /x /x\n"
			 "RUN make\n"
			 "FROM alpine AS gen\n"
			 "RUN gen\n"
			 "FROM alpine\n"
			 "COPY --from=build /app /app\n";
	struct kiln_df_ast *ast = NULL;
	struct kiln_df_model *m = NULL;
	struct kiln_df_graph *g = NULL;
	struct kiln_df_hooks hooks = { .named_context = replace_build };
	struct kiln_df_graph_opts go = { .hooks = &hooks };
	int r = kiln_df_parse(df, strlen(df), "Dockerfile", &ast, NULL);
	if (r >= 0)
		r = kiln_df_model_new(ast, &m, NULL);
	if (r >= 0)
		r = kiln_df_graph_new(m, &go, &g, NULL);
	TAP_OK(r >= 0, "the graph of a Dockerfile with a replaced stage");
	if (r >= 0) {
		const struct kiln_df_stage *b = &g->stages[0];
		TAP_OK(b->replaced && b->base_kind == KILN_DF_BASE_IMAGE &&
			       !strcmp(b->base, "build"),
		       "the stage is based on the image named like it");
		TAP_INT_EQ(b->n_steps, 0, "... has no steps");
		TAP_INT_EQ(b->n_deps, 0, "... depends on no stage");
		TAP_OK(b->needed && !g->stages[1].needed,
		       "... is needed, the stage only it used is not");
		TAP_OK(!g->stages[2].replaced && g->stages[2].n_steps == 1,
		       "others are as they were");
	}
	kiln_df_graph_free(g);
	kiln_df_model_free(m);
	kiln_df_ast_free(ast);
}

int main(void)
{
	test_parse();
	test_match();
	test_graph();
	return tap_done();
}
