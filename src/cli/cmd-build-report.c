/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What kiln build reports of a result besides its progress: the --call
 * printouts (targets, outline, check) and the --metadata-file.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/output.h"
#include "build/build.h"
#include "cli.h"
#include "cmd-build-report.h"
#include "store/oci-types.h"

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* kiln.cache.misses: why each step that ran was not taken from the cache */
static json_t *misses_json(const struct kiln_build_result *res)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < res->n_misses; i++) {
		const struct kiln_build_miss *m = &res->misses[i];
		json_t *d = json_array();
		for (size_t k = 0; d && k < m->n_details; k++) {
			const struct kiln_build_miss_detail *x = &m->details[k];
			json_t *o = json_pack("{s:s,s:o,s:o,s:o}", "kind", x->kind, "name",
					      jstr_or_null(x->name), "old",
					      jstr_or_null(x->old_value), "new",
					      jstr_or_null(x->new_value));
			if (!o || json_array_append_new(d, o) < 0) {
				json_decref(d);
				d = NULL;
			}
		}
		json_t *o = d ? json_pack("{s:s,s:s,s:s,s:s,s:o}", "step", m->step, "reason",
					  m->reason, "message", m->message, "summary", m->summary,
					  "details", d)
			      : NULL;
		if (o && m->files_changed)
			json_object_set_new(o, "files_changed", json_integer((json_int_t) m->files_changed));
		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

void build_print_warning(const struct kiln_build_warning *w)
{
	if (w->line > 0)
		fprintf(stderr, " - %s: %s (line %d)\n", w->rule, w->message, w->line);
	else
		fprintf(stderr, " - %s: %s\n", w->rule, w->message);
}

/* The warning's lines of the Dockerfile, marked, with up to two lines around them. */
static void print_source(const char *data, size_t len, int first, int last)
{
	int from = first > 2 ? first - 2 : 1, to = last + 2, line = 1;
	const char *p = data, *end = data + len;
	printf("--------------------\n");
	while (p < end && line <= to) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
		const char *mark = line >= first && line <= last ? ">>>" : "   ";
		if (line >= from)
			printf(" %3d | %s %.*s\n", line, mark, (int) n, p);
		p += n + (nl ? 1 : 0);
		line++;
	}
	printf("--------------------\n");
}

/*
 * --call=targets, as BuildKit prints its targets subrequest: a TARGET and
 * a DESCRIPTION column (Go's tabwriter, one space of padding), the default
 * target marked, an unnamed default as "(default)".
 */
void build_print_targets(const struct kiln_build_result *res)
{
	size_t width = strlen("TARGET");
	for (size_t i = 0; i < res->n_targets; i++) {
		const struct kiln_build_target *t = &res->targets[i];
		size_t w = t->name ? strlen(t->name) + (t->is_default ? 10 : 0)
				   : (t->is_default ? 9 : 0);
		if (w > width)
			width = w;
	}
	printf("%-*s %s\n", (int) width, "TARGET", "DESCRIPTION");
	for (size_t i = 0; i < res->n_targets; i++) {
		const struct kiln_build_target *t = &res->targets[i];
		cleanup_free char *name =
			t->name ? kiln_asprintf("%s%s", t->name, t->is_default ? " (default)" : "")
				: kiln_strdup(t->is_default ? "(default)" : "");
		printf("%-*s %s\n", (int) width, name ? name : "",
		       t->description ? t->description : "");
	}
}

/* One table of the outline: Go's tabwriter with three spaces of padding. */
static void print_table(const char *const *head, size_t cols,
			const struct kiln_build_outline_item *v, size_t n, int args)
{
	if (!n)
		return;
	size_t w[2] = { strlen(head[0]), cols > 2 ? strlen(head[1]) : 0 };
	for (size_t i = 0; i < n; i++) {
		if (strlen(v[i].name) > w[0])
			w[0] = strlen(v[i].name);
		if (args && v[i].value && strlen(v[i].value) > w[1])
			w[1] = strlen(v[i].value);
	}
	if (cols > 2)
		printf("%-*s   %-*s   %s\n", (int) w[0], head[0], (int) w[1], head[1], head[2]);
	else
		printf("%-*s   %s\n", (int) w[0], head[0], head[1]);
	for (size_t i = 0; i < n; i++) {
		if (args)
			printf("%-*s   %-*s   %s\n", (int) w[0], v[i].name, (int) w[1],
			       v[i].value ? v[i].value : "", v[i].description ? v[i].description : "");
		else
			printf("%-*s   %s\n", (int) w[0], v[i].name, v[i].required ? "true" : "");
	}
	printf("\n");
}

/* --call=outline, as BuildKit's outline subrequest prints it */
void build_print_outline(const struct kiln_build_outline *o)
{
	if (o->target || o->description) {
		const char *name = o->target ? o->target : "(default)";
		if (o->description)
			printf("TARGET:      %s\nDESCRIPTION: %s\n\n", name, o->description);
		else
			printf("TARGET: %s\n\n", name);
	}
	static const char *const args[] = { "BUILD ARG", "VALUE", "DESCRIPTION" };
	static const char *const secrets[] = { "SECRET", "REQUIRED" };
	static const char *const ssh[] = { "SSH", "REQUIRED" };
	print_table(args, 3, o->args, o->n_args, 1);
	print_table(secrets, 2, o->secrets, o->n_secrets, 0);
	print_table(ssh, 2, o->ssh, o->n_ssh, 0);
}

/* --check, as buildx prints the lint result: on stdout, exit 1 on any finding */
int build_print_check(const struct kiln_build_result *res, const char *df_name,
		       const char *df_data, size_t df_len)
{
	const char *name = df_name ? df_name : "Dockerfile";
	if (res->n_warnings == 1)
		printf("Check complete, 1 warning has been found!\n");
	else if (res->n_warnings)
		printf("Check complete, %zu warnings have been found!\n", res->n_warnings);
	for (size_t i = 0; i < res->n_warnings; i++) {
		const struct kiln_build_warning *w = &res->warnings[i];
		printf("\nWARNING: %s%s%s\n%s\n", w->rule, w->url ? " - " : "",
		       w->url ? w->url : "", w->message);
		if (w->line > 0)
			printf("%s:%d\n", name, w->line);
		if (w->line > 0 && df_data)
			print_source(df_data, df_len, w->line, w->end_line);
	}
	if (res->check_error) {
		if (res->n_warnings)
			printf("\n");
		fflush(stdout);
		if (res->check_error_line > 0)
			fprintf(stderr, "error: %s:%d: %s\n", name, res->check_error_line,
				res->check_error);
		else
			fprintf(stderr, "error: %s\n", res->check_error);
	} else if (!res->n_warnings) {
		printf("Check complete, no warnings found.\n");
	}
	if (fflush(stdout) == EOF)
		return CLI_EXIT_FAIL;
	return res->n_warnings || res->check_error ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int build_write_metadata(const char *path, const struct kiln_build_result *res,
			  struct kiln_error *err)
{
	json_t *steps = json_array();
	for (size_t i = 0; steps && i < res->n_records; i++) {
		const struct kiln_build_step_record *s = &res->records[i];
		json_array_append_new(steps, json_pack("{s:s,s:s,s:b,s:f}", "name", s->name, "key",
						       s->key, "cached", s->cached, "duration",
						       (double) s->duration_ns / 1e9));
	}
	struct kiln_buf names = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < res->names.len; i++)
		r = kiln_buf_addf(&names, "%s%s", i ? "," : "", res->names.items[i]);
	json_t *j =
		json_pack("{s:s,s:{s:s,s:s,s:I},s:s,s:o,s:I,s:I}", "containerimage.digest",
			  res->manifest.str, "containerimage.descriptor", "mediaType",
			  res->is_index ? (res->docker_media_types ? KILN_MT_DOCKER_LIST
								   : KILN_MT_OCI_INDEX)
			  : res->docker_media_types ? KILN_MT_DOCKER_MANIFEST
						    : KILN_MT_OCI_MANIFEST,
			  "digest", res->manifest.str, "size", (json_int_t) res->manifest_size,
			  "image.name", names.buf, "kiln.steps", steps ? steps : json_array(),
			  "kiln.steps.total", (json_int_t) res->steps, "kiln.steps.cached",
			  (json_int_t) res->cached);
	kiln_buf_release(&names);
	/* an index (several platforms) has no config of its own, as in BuildKit's */
	if (j && !res->is_index &&
	    json_object_set_new(j, "containerimage.config.digest",
				json_string(res->config.str)) < 0)
		r = -KILN_ENOMEM;
	if (!j || r < 0) {
		json_decref(j);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	json_t *misses = misses_json(res);
	if (!misses || json_object_set_new(j, "kiln.cache.misses", misses) < 0) {
		json_decref(j);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (res->pushed.len) {
		json_t *p = json_array();
		for (size_t i = 0; p && i < res->pushed.len; i++)
			json_array_append_new(p, json_string(res->pushed.items[i]));
		json_object_set_new(j, "kiln.pushed", p ? p : json_null());
	}
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	json_decref(j);
	if (!s)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r = kiln_output_write(path, s, strlen(s), 0644, err);
	free(s);
	return r;
}
