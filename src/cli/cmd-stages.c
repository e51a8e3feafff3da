/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dockerfile/dockerfile.h"
#include "ref/ref.h"

static const char *arg_file;
static const char *arg_target;
static const char *arg_platform;
static int arg_json;
static struct kiln_strv arg_build_args = KILN_STRV_INIT;

static const struct cli_spec spec = {
	.usage = "kiln stages [-f FILE] [--target NAME] [--build-arg K=V]... [--platform P] "
		 "[--json] [CONTEXT]",
	.summary =
		"Show a Dockerfile's stages, what the target needs and what can run in parallel.",
	.opts =
		(const struct cli_opt[]){
			{ "file", 'f', CLI_OPT_STRING, &arg_file, "FILE",
			  "the Dockerfile (default: CONTEXT/Dockerfile; - reads stdin)" },
			{ "target", 0, CLI_OPT_STRING, &arg_target, "NAME",
			  "the stage to build (default: the last one)" },
			{ "build-arg", 0, CLI_OPT_LIST, &arg_build_args, "K=V",
			  "a build argument; K alone takes its value from the environment" },
			{ "platform", 0, CLI_OPT_STRING, &arg_platform, "P",
			  "the target platform, os/arch[/variant] (default: this machine's)" },
			{ "json", 0, CLI_OPT_FLAG, &arg_json, NULL,
			  "print the graph as JSON (docs/stages-json.md)" },
			{ 0 } },
	.details =
		"Every stage with its base (an image reference after ARG expansion, an earlier\n"
		"stage, or scratch), the stages it reads (FROM, COPY --from, RUN --mount from=),\n"
		"the images it copies from, whether the target needs it, and the schedule:\n"
		"levels of needed stages, each level's stages independent of one another.\n"
		"Build args no ARG consumed are reported on stderr as docker does.",
};

static int ref_check(void *ud, const char *s, struct kiln_error *err)
{
	(void) ud;
	struct kiln_ref *r = NULL;
	int rc = kiln_ref_parse(s, 0, &r, err);
	kiln_ref_free(r);
	return rc < 0 ? rc : 0;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD (JSON text must be UTF-8). */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	struct kiln_buf b = KILN_BUF_INIT;
	const unsigned char *p = (const unsigned char *) s;
	int r = 0;
	for (size_t i = 0, n = strlen(s); r >= 0 && i < n;) {
		size_t k = p[i] < 0x80			  ? 1
			   : p[i] >= 0xC2 && p[i] <= 0xDF ? 2
			   : p[i] >= 0xE0 && p[i] <= 0xEF ? 3
			   : p[i] >= 0xF0 && p[i] <= 0xF4 ? 4
							  : 0;
		int ok = k > 0 && i + k <= n;
		for (size_t c = 1; ok && c < k; c++)
			ok = (p[i + c] & 0xC0) == 0x80;
		if (ok && k > 1) {
			json_t *t = json_stringn((const char *) p + i, k);
			ok = t != NULL;
			json_decref(t);
		}
		r = ok ? kiln_buf_add(&b, p + i, k) : kiln_buf_add(&b, "\xEF\xBF\xBD", 3);
		i += ok ? k : 1;
	}
	j = r >= 0 ? json_stringn(b.buf, b.len) : NULL;
	kiln_buf_release(&b);
	return j;
}

static json_t *jwords(const struct kiln_df_words *w)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < w->n; i++)
		json_array_append_new(a, jstr(w->v[i]));
	return a;
}

static json_t *stage_json(const struct kiln_df_graph *g, const struct kiln_df_stage *st)
{
	cleanup_free char *plat = kiln_df_platform_format(&st->platform);
	json_t *base = json_pack("{s:s, s:o, s:o}", "kind", kiln_df_base_kind_name(st->base_kind),
				 "raw", jstr(st->base_raw), "ref", jstr(st->base));
	if (base && st->base_kind == KILN_DF_BASE_STAGE)
		json_object_set_new(base, "stage", json_integer((json_int_t) st->base_stage));
	json_t *deps = json_array(), *images = json_array();
	for (size_t i = 0; deps && i < st->n_deps; i++) {
		const struct kiln_df_edge *e = &st->deps[i];
		json_array_append_new(
			deps, json_pack("{s:I, s:s, s:o, s:i, s:b}", "stage", (json_int_t) e->stage,
					"kind", kiln_df_edge_kind_name(e->kind), "ref",
					jstr(e->ref), "line", e->line, "onbuild", e->from_onbuild));
	}
	for (size_t i = 0; images && i < st->n_images; i++) {
		const struct kiln_df_image_dep *d = &st->images[i];
		json_array_append_new(images,
				      json_pack("{s:o, s:s, s:i}", "ref", jstr(d->ref), "kind",
						kiln_df_edge_kind_name(d->kind), "line", d->line));
	}
	(void) g;
	return json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:i, s:i, s:b, s:o, s:o, s:o, s:o}",
			 "index", (json_int_t) st->index, "name", jstr(st->name), "id", st->id,
			 "base", base ? base : json_null(), "platform", jstr(plat), "platform_flag",
			 jstr(st->platform_raw), "from_args", jwords(&st->from_args), "start_line",
			 st->start_line, "end_line", st->end_line, "needed", st->needed, "level",
			 st->needed ? json_integer(st->level) : json_null(), "deps",
			 deps ? deps : json_null(), "images", images ? images : json_null(),
			 "instructions", json_integer((json_int_t) st->model->n_instrs));
}

static int print_json(const struct kiln_df_graph *g)
{
	json_t *stages = json_array(), *sched = json_array(), *skipped = json_array();
	json_t *globals = json_array();
	for (size_t i = 0; stages && i < g->n_stages; i++) {
		json_array_append_new(stages, stage_json(g, &g->stages[i]));
		if (!g->stages[i].needed)
			json_array_append_new(skipped, json_integer((json_int_t) i));
	}
	for (size_t l = 0; sched && l < g->n_levels; l++) {
		json_t *lv = json_array();
		for (size_t k = 0; lv && k < g->level_sizes[l]; k++)
			json_array_append_new(lv, json_integer((json_int_t) g->levels[l][k]));
		json_array_append_new(sched, lv);
	}
	for (size_t i = 0; globals && i < g->global_args.n; i++) {
		const char *kv = g->global_args.v[i];
		const char *eq = strchr(kv, '=');
		json_array_append_new(globals,
				      json_pack("{s:s%, s:o}", "name", kv, (size_t) (eq - kv),
						"value", jstr(eq + 1)));
	}
	cleanup_free char *bp = kiln_df_platform_format(&g->build_platform);
	cleanup_free char *tp = kiln_df_platform_format(&g->target_platform);
	json_t *j =
		json_pack("{s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "version", 1, "target",
			  (json_int_t) g->target, "build_platform", jstr(bp), "target_platform",
			  jstr(tp), "global_args", globals, "stages", stages, "schedule", sched,
			  "skipped", skipped, "unused_build_args", jwords(&g->unused_build_args));
	if (!j)
		return -1;
	int w = json_dumpf(j, stdout, JSON_INDENT(2));
	json_decref(j);
	return w < 0 || fputc('\n', stdout) == EOF ? -1 : 0;
}

static const char *stage_label(const struct kiln_df_graph *g, size_t i)
{
	return g->stages[i].id;
}

static void print_text(const struct kiln_df_graph *g)
{
	size_t wname = 4;
	for (size_t i = 0; i < g->n_stages; i++)
		if (strlen(g->stages[i].id) > wname)
			wname = strlen(g->stages[i].id);
	printf("%-5s  %-*s  %-8s  %s\n", "STAGE", (int) wname, "NAME", "STATUS", "BASE");
	for (size_t i = 0; i < g->n_stages; i++) {
		const struct kiln_df_stage *st = &g->stages[i];
		char status[32];
		if (st->needed)
			snprintf(status, sizeof(status), "level %d", st->level);
		else
			snprintf(status, sizeof(status), "skipped");
		printf("%-5zu  %-*s  %-8s  %s %s", i, (int) wname, st->id, status,
		       kiln_df_base_kind_name(st->base_kind), st->base);
		if (st->has_platform) {
			cleanup_free char *p = kiln_df_platform_format(&st->platform);
			printf(" (platform %s)", p ? p : "?");
		}
		putchar('\n');
	}
	int edges = 0;
	for (size_t i = 0; i < g->n_stages; i++)
		edges += (int) g->stages[i].n_deps + (int) g->stages[i].n_images;
	if (edges)
		printf("\nedges:\n");
	for (size_t i = 0; i < g->n_stages; i++) {
		const struct kiln_df_stage *st = &g->stages[i];
		/* stage edges and image dependencies of a stage, merged in line order */
		size_t a = 0, b = 0;
		while (a < st->n_deps || b < st->n_images) {
			int take_dep = b >= st->n_images ||
				       (a < st->n_deps && st->deps[a].line <= st->images[b].line);
			if (take_dep) {
				const struct kiln_df_edge *e = &st->deps[a++];
				printf("  %s <- %s  (%s%s, line %d%s)\n", stage_label(g, i),
				       stage_label(g, e->stage),
				       e->kind == KILN_DF_EDGE_FROM   ? "FROM"
				       : e->kind == KILN_DF_EDGE_COPY ? "COPY --from="
								      : "RUN --mount from=",
				       e->kind == KILN_DF_EDGE_FROM ? "" : e->ref, e->line,
				       e->from_onbuild ? ", ONBUILD of the base" : "");
			} else {
				const struct kiln_df_image_dep *d = &st->images[b++];
				printf("  %s <- image %s  (%s, line %d)\n", stage_label(g, i),
				       d->ref,
				       d->kind == KILN_DF_EDGE_FROM   ? "FROM"
				       : d->kind == KILN_DF_EDGE_COPY ? "COPY --from"
								      : "RUN --mount from",
				       d->line);
			}
		}
	}
	printf("\nschedule (target %s):\n", stage_label(g, g->target));
	for (size_t l = 0; l < g->n_levels; l++) {
		printf("  level %zu:", l);
		for (size_t k = 0; k < g->level_sizes[l]; k++)
			printf(" %s", stage_label(g, g->levels[l][k]));
		putchar('\n');
	}
	int first = 1;
	for (size_t i = 0; i < g->n_stages; i++)
		if (!g->stages[i].needed) {
			printf("%s %s", first ? "skipped:" : "", stage_label(g, i));
			first = 0;
		}
	if (!first)
		putchar('\n');
}

static int read_input(const char *path, char **data, size_t *len, struct kiln_error *err)
{
	if (strcmp(path, "-") == 0)
		return kiln_read_fd(STDIN_FILENO, KILN_DF_MAX_FILE, data, len, err);
	return kiln_read_file(path, KILN_DF_MAX_FILE, data, len, err);
}

int cmd_stages(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv build_args = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_file = arg_target = arg_platform = NULL;
	arg_json = 0;
	kiln_strv_release(&arg_build_args);
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r) {
		kiln_strv_release(&arg_build_args);
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	r = CLI_EXIT_OK;
	if (pos.len > 1)
		r = cli_usage_error(&spec, "unexpected argument '%s'", pos.items[1]);
	else if (arg_file && !*arg_file)
		r = cli_usage_error(&spec, "-f needs a file name");
	else if (arg_target && !*arg_target)
		r = cli_usage_error(&spec, "--target needs a stage name");
	for (size_t i = 0; r == CLI_EXIT_OK && i < arg_build_args.len; i++) {
		const char *a = arg_build_args.items[i];
		if (!*a || *a == '=') {
			r = cli_usage_error(&spec, "--build-arg needs K=V or K, not '%s'", a);
			break;
		}
		if (strchr(a, '=')) {
			if (kiln_strv_push(&build_args, a) < 0)
				r = CLI_EXIT_FAIL;
			continue;
		}
		/* K alone: the value of K in kiln's environment, as docker does; unset: no arg */
		const char *v = getenv(a);
		if (v) {
			char *kv = kiln_asprintf("%s=%s", a, v);
			if (!kv || kiln_strv_push_owned(&build_args, kv) < 0)
				r = CLI_EXIT_FAIL;
		}
	}
	kiln_strv_release(&arg_build_args);
	if (r != CLI_EXIT_OK)
		return r;

	struct kiln_df_platform target_platform = { 0 };
	int have_platform = 0;
	if (arg_platform) {
		if (kiln_df_platform_parse(arg_platform, &target_platform, &err) < 0) {
			r = cli_usage_error(&spec, "--platform %s: %s", arg_platform,
					    err.msg ? err.msg : "invalid platform");
			kiln_error_release(&err);
			return r;
		}
		have_platform = 1;
	}

	cleanup_free char *deffile = NULL;
	const char *path = arg_file;
	if (!path) {
		deffile = pos.len ? kiln_asprintf("%s/Dockerfile", pos.items[0]) : NULL;
		path = pos.len ? deffile : "Dockerfile";
		if (!path) {
			kiln_df_platform_release(&target_platform);
			return CLI_EXIT_FAIL;
		}
	}
	const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
	cleanup_free char *data = NULL;
	size_t len = 0;
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	cleanup(kiln_df_model_freep) struct kiln_df_model *model = NULL;
	cleanup(kiln_df_graph_freep) struct kiln_df_graph *g = NULL;
	struct kiln_df_hooks hooks = { .reference_check = ref_check };
	struct kiln_df_graph_opts o = {
		.target = arg_target,
		.build_args = (const char *const *) build_args.items,
		.n_build_args = build_args.len,
		.target_platform = have_platform ? &target_platform : NULL,
		.hooks = &hooks,
	};
	if (read_input(path, &data, &len, &err) < 0 ||
	    kiln_df_parse(data, len, shown, &ast, &err) < 0 ||
	    kiln_df_model_new(ast, &model, &err) < 0 ||
	    kiln_df_graph_new(model, &o, &g, &err) < 0) {
		kiln_df_platform_release(&target_platform);
		return cli_report(env, &err);
	}
	kiln_df_platform_release(&target_platform);

	cleanup_free char *unused = kiln_df_graph_unused_args_warning(g);
	if (unused)
		fprintf(stderr, "%s\n", unused);
	if (arg_json) {
		if (print_json(g) < 0)
			return CLI_EXIT_FAIL;
	} else {
		print_text(g);
	}
	if (fflush(stdout) == EOF) {
		(void) kiln_fail_errno(&err, "writing the output");
		return cli_report(env, &err);
	}
	return CLI_EXIT_OK;
}
