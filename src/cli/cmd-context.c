/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dockerfile/ast.h"
#include "ignore/context.h"

static const char *arg_file;
static int arg_json;
static int arg_list;
static long arg_top = 10;
static struct kiln_strv arg_build_args = KILN_STRV_INIT;

static const struct cli_spec spec = {
	.usage = "kiln context [-f FILE] [--build-arg K=V]... [--json] [--list] [--top N] DIR",
	.summary = "Show what a build would send as its context, after the ignore rules.",
	.opts = (const struct cli_opt[]){
		{ "file", 'f', CLI_OPT_STRING, &arg_file, "FILE",
		  "the Dockerfile (default: DIR/Dockerfile; - reads it from stdin); "
		  "FILE.dockerignore wins over DIR/.dockerignore" },
		{ "build-arg", 0, CLI_OPT_LIST, &arg_build_args, "K=V",
		  "a build argument; K alone takes its value from the environment" },
		{ "json", 0, CLI_OPT_FLAG, &arg_json, NULL, "print the report as JSON" },
		{ "list", 'l', CLI_OPT_FLAG, &arg_list, NULL,
		  "print every path that would be sent, in walk order" },
		{ "top", 0, CLI_OPT_INT, &arg_top, "N", "how many of the largest files to show (10)" },
		{ 0 } },
	.details = "Counts the files, directories and bytes of the context and names the largest\n"
		   "files. Each COPY/ADD source of the Dockerfile that the ignore rules exclude,\n"
		   "or that matches nothing in the context, is a warning (exit status 1). The\n"
		   "sources are those kiln build would copy, expanded with the same build args,\n"
		   "in every stage; one that needs a variable neither the Dockerfile nor a build\n"
		   "arg sets (an ENV of the base image) is noted as unchecked. --from sources,\n"
		   "URLs and heredocs are not context sources.",
};

/* JSON strings must be UTF-8: invalid bytes become U+FFFD, as Go's encoding/json does. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	struct kiln_buf b = KILN_BUF_INIT;
	size_t n = strlen(s), w;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i += w) {
		char enc[KILN_UTF_MAX];
		r = kiln_buf_add(&b, enc, kiln_utf8_encode(kiln_utf8_decode(s + i, n - i, &w), enc));
	}
	j = r < 0 ? NULL : json_stringn(b.buf, b.len);
	kiln_buf_release(&b);
	return j;
}

struct list_state {
	json_t *entries; /* --json --list */
	int failed;
};

static int print_entry(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct list_state *ls = userdata;
	if (ls->entries) {
		if (json_array_append_new(ls->entries, jstr(e->path)) < 0)
			return -KILN_ENOMEM;
		return 0;
	}
	if (fwrite(e->path, 1, e->path_len, stdout) != e->path_len || putchar('\n') == EOF) {
		ls->failed = 1;
		return -KILN_EIO;
	}
	return 0;
}

static void human(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < KILN_ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

static int is_problem(const struct kiln_ignore_source_warning *w)
{
	return w->problem != KILN_IGNORE_SOURCE_UNCHECKED;
}

/* How many of the largest files to show: --top 0 shows none. */
static size_t shown_largest(const struct kiln_ignore_context_report *r)
{
	return (size_t)arg_top < r->n_largest ? (size_t)arg_top : r->n_largest;
}

static void print_text(const struct kiln_ignore_context_report *r)
{
	char size[32];
	printf("context:     %s\n", r->context_dir);
	if (r->ignore_file)
		printf("ignore file: %s (%zu pattern%s)\n", r->ignore_file, r->n_patterns,
		       r->n_patterns == 1 ? "" : "s");
	else
		printf("ignore file: none\n");
	printf("dockerfile:  %s\n", r->dockerfile ? r->dockerfile : "none");
	printf("entries:     %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64 " symlinks",
	       r->files, r->dirs, r->symlinks);
	if (r->others)
		printf(", %" PRIu64 " other", r->others);
	putchar('\n');
	human(r->total_bytes, size, sizeof(size));
	printf("size:        %s (%" PRIu64 " bytes)\n", size, r->total_bytes);
	if (shown_largest(r)) {
		printf("largest:\n");
		for (size_t i = 0; i < shown_largest(r); i++) {
			human(r->largest[i].size, size, sizeof(size));
			printf("  %10s  %s\n", size, r->largest[i].path);
		}
	}
	if (r->dockerfile)
		printf("sources:     %zu COPY/ADD source%s checked, %zu warning%s\n", r->n_sources,
		       r->n_sources == 1 ? "" : "s", r->n_warnings, r->n_warnings == 1 ? "" : "s");
}

static json_t *report_json(const struct kiln_ignore_context_report *r, json_t *entries)
{
	json_t *largest = json_array(), *warnings = json_array();
	for (size_t i = 0; largest && i < shown_largest(r); i++)
		json_array_append_new(largest, json_pack("{s:o,s:I}", "path", jstr(r->largest[i].path),
							 "size", (json_int_t)r->largest[i].size));
	for (size_t i = 0; warnings && i < r->n_warnings; i++) {
		const struct kiln_ignore_source_warning *w = &r->warnings[i];
		json_array_append_new(
			warnings,
			json_pack("{s:s,s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "problem",
				  kiln_ignore_source_problem_name(w->problem), "instruction",
				  jstr(w->instruction), "line", w->line, "source", jstr(w->source),
				  "expanded", jstr(w->expanded), "path", jstr(w->path), "pattern",
				  jstr(w->pattern), "pattern_line",
				  w->pattern ? json_integer(w->pattern_line) : json_null(), "message",
				  jstr(w->message)));
	}
	json_t *j = json_pack("{s:o,s:o,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:o}", "context",
			      jstr(r->context_dir), "ignore_file", jstr(r->ignore_file), "patterns",
			      (json_int_t)r->n_patterns, "dockerfile", jstr(r->dockerfile), "files",
			      (json_int_t)r->files, "directories", (json_int_t)r->dirs, "symlinks",
			      (json_int_t)r->symlinks, "other", (json_int_t)r->others, "bytes",
			      (json_int_t)r->total_bytes, "largest", largest ? largest : json_null(),
			      "sources_checked", (json_int_t)r->n_sources, "warnings",
			      warnings ? warnings : json_null());
	if (j && entries)
		json_object_set(j, "entries", entries);
	return j;
}

/* --build-arg K=V, or K alone with its value from the environment (none when unset). */
static int collect_build_args(struct kiln_strv *ret)
{
	for (size_t i = 0; i < arg_build_args.len; i++) {
		const char *a = arg_build_args.items[i];
		if (!*a || *a == '=')
			return cli_usage_error(&spec, "--build-arg needs K=V or K, not '%s'", a);
		if (cli_run_env_add(ret, a) < 0) {
			fprintf(stderr, "error: out of memory\n");
			return CLI_EXIT_FAIL;
		}
	}
	return CLI_EXIT_OK;
}

static int parse_args(int argc, char **argv, struct kiln_strv *pos, struct kiln_strv *build_args)
{
	arg_file = NULL;
	arg_json = arg_list = 0;
	arg_top = 10;
	kiln_strv_release(&arg_build_args);
	int r = cli_parse(argc, argv, &spec, pos);
	if (r)
		r = r > 0 ? -1 : CLI_EXIT_USAGE; /* -1: --help was printed */
	else
		r = collect_build_args(build_args);
	kiln_strv_release(&arg_build_args);
	if (r)
		return r;
	if (pos->len != 1)
		return cli_usage_error(&spec, pos->len ? "expected one DIR, got %zu arguments"
						       : "missing DIR",
				       pos->len);
	if (arg_top < 0 || arg_top > KILN_IGNORE_CONTEXT_TOP_MAX)
		return cli_usage_error(&spec, "--top wants 0 to %d", KILN_IGNORE_CONTEXT_TOP_MAX);
	if (arg_file && !*arg_file)
		return cli_usage_error(&spec, "-f needs a file name");
	return CLI_EXIT_OK;
}

int cmd_context(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv build_args = KILN_STRV_INIT;
	cleanup_free char *stdin_data = NULL;
	size_t stdin_len = 0;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = parse_args(argc, argv, &pos, &build_args);
	if (r)
		return r < 0 ? CLI_EXIT_OK : r;
	if (arg_file && strcmp(arg_file, "-") == 0 &&
	    kiln_read_fd(STDIN_FILENO, KILN_DF_MAX_FILE, &stdin_data, &stdin_len, &err) < 0)
		return cli_report(env, &err);

	struct list_state ls = { NULL, 0 };
	if (arg_json && arg_list && !(ls.entries = json_array())) {
		fprintf(stderr, "error: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	struct kiln_ignore_context_opts o = {
		.dockerfile = stdin_data ? NULL : arg_file,
		.dockerfile_data = stdin_data,
		.dockerfile_len = stdin_len,
		.build_args = (const char *const *)build_args.items,
		.n_build_args = build_args.len,
		.top = arg_top ? (size_t)arg_top : 0,
		.on_entry = arg_list ? print_entry : NULL,
		.userdata = &ls,
		.ctx = &env->ctx,
	};
	cleanup(kiln_ignore_context_report_freep) struct kiln_ignore_context_report *rep = NULL;
	r = kiln_ignore_context_scan(pos.items[0], &o, &rep, &err);
	if (r < 0) {
		json_decref(ls.entries);
		if (ls.failed) {
			kiln_error_release(&err);
			fprintf(stderr, "error: writing the list failed\n");
			return CLI_EXIT_FAIL;
		}
		return cli_report(env, &err);
	}
	if (rep->unused_build_args)
		fprintf(stderr, "%s\n", rep->unused_build_args);
	int problems = 0;
	for (size_t i = 0; i < rep->n_warnings; i++) {
		const struct kiln_ignore_source_warning *w = &rep->warnings[i];
		problems += is_problem(w);
		fprintf(stderr, "%s: %s:%d: %s %s\n", is_problem(w) ? "warning" : "note",
			rep->dockerfile, w->line, w->instruction, w->message);
	}
	if (arg_json) {
		json_t *j = report_json(rep, ls.entries);
		json_decref(ls.entries);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF) {
			json_decref(j);
			fprintf(stderr, "error: writing the report failed\n");
			return CLI_EXIT_FAIL;
		}
		json_decref(j);
	} else if (!arg_list) {
		print_text(rep);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "error: writing the report failed\n");
		return CLI_EXIT_FAIL;
	}
	return problems ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
