/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance: BuildKit's build checks over the 87 cases of
 * lint/buildkit-cases (lint/FORMAT.md). Per case:
 *
 *   - a build (kiln_df_check, KILN_DF_CHECK_BUILD) with the case's
 *     frontend attributes must give exactly expected.tsv (line, rule,
 *     level 1, detail), with each rule's description and URL as in
 *     buildkit-checks.tsv;
 *   - `build_err`: the build must fail with an error containing the text,
 *     and the lint subrequest must report exactly that error;
 *   - the lint subrequest (KILN_DF_CHECK_LINT: every stage) must give
 *     expected-lint-subrequest.tsv when the case has one (rule and detail:
 *     upstream compares only those there, and the file's line numbers are
 *     not the instructions' lines), else the same warnings as the build;
 *   - `build_err_regexp` cases fail upstream while solving (copying a file
 *     .dockerignore removed from the context); the checks themselves must
 *     succeed, which is what the lint subrequest reports.
 *
 * The rules that need to know more than the Dockerfile get it the way a
 * build does: image references are checked with the ref module, the
 * .dockerignore of the case's context is read with the ignore module.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "dockerfile/dockerfile.h"
#include "ignore/ignore.h"
#include "ref/ref.h"
#include "tap.h"

struct row {
	int line;
	char *rule;
	char *detail;
};

struct rows {
	struct row *v;
	size_t n;
};

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].rule);
		free(r->v[i].detail);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static char *read_all(const char *path, size_t *len)
{
	char *data = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_read_file(path, (size_t) 1 << 24, &data, len, &err) < 0) {
		kiln_error_release(&err);
		return NULL;
	}
	return data;
}

static int file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* split one line into at most n tab-separated fields (in place) */
static size_t split_tabs(char *line, char **f, size_t n)
{
	size_t k = 0;
	f[k++] = line;
	for (char *p = line; *p && k < n; p++)
		if (*p == '\t') {
			*p = '\0';
			f[k++] = p + 1;
		}
	return k;
}

/* expected.tsv: line rule level detail (header first) */
static int read_rows(const char *path, struct rows *out)
{
	size_t len;
	cleanup_free char *data = read_all(path, &len);
	if (!data)
		return -1;
	char *save = NULL;
	int first = 1;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			first = 0;
			continue;
		}
		char *f[4];
		if (split_tabs(line, f, 4) != 4)
			return -1;
		struct row *n = realloc(out->v, (out->n + 1) * sizeof(*n));
		if (!n)
			return -1;
		out->v = n;
		n[out->n].line = atoi(f[0]);
		n[out->n].rule = strdup(f[1]);
		n[out->n].detail = strdup(f[3]);
		if (!n[out->n].rule || !n[out->n].detail)
			return -1;
		out->n++;
	}
	return 0;
}

struct meta {
	struct kiln_strv build_args;
	char *build_err;
	char *build_err_regexp;
	int build_err_line;
	int subrequest;
};

static void meta_release(struct meta *m)
{
	kiln_strv_release(&m->build_args);
	free(m->build_err);
	free(m->build_err_regexp);
}

static int read_meta(const char *path, struct meta *m)
{
	size_t len;
	cleanup_free char *data = read_all(path, &len);
	if (!data)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[2];
		if (split_tabs(line, f, 2) != 2)
			continue;
		if (!strcmp(f[0], "frontend_attr")) {
			if (strncmp(f[1], "build-arg:", 10) != 0)
				return -1; /* no other attribute in the data set */
			if (kiln_strv_push(&m->build_args, f[1] + 10) < 0)
				return -1;
		} else if (!strcmp(f[0], "build_err")) {
			m->build_err = strdup(f[1]);
		} else if (!strcmp(f[0], "build_err_regexp")) {
			m->build_err_regexp = strdup(f[1]);
		} else if (!strcmp(f[0], "build_err_line")) {
			m->build_err_line = atoi(f[1]);
		} else if (!strcmp(f[0], "lint_subrequest_expected")) {
			m->subrequest = 1;
		}
	}
	return 0;
}

/* buildkit-checks.tsv: name -> description, url */
struct tsv_rule {
	char *name, *description, *url;
};

static struct tsv_rule *tsv_rules;
static size_t n_tsv_rules;

static int read_checks_tsv(const char *path)
{
	size_t len;
	cleanup_free char *data = read_all(path, &len);
	if (!data)
		return -1;
	char *save = NULL;
	int first = 1;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			first = 0;
			continue;
		}
		char *f[8];
		if (split_tabs(line, f, 8) < 6)
			return -1;
		struct tsv_rule *n = realloc(tsv_rules, (n_tsv_rules + 1) * sizeof(*n));
		if (!n)
			return -1;
		tsv_rules = n;
		n[n_tsv_rules].name = strdup(f[0]);
		n[n_tsv_rules].description = strdup(f[5]);
		n[n_tsv_rules].url =
			strcmp(f[1], "-") == 0
				? NULL
				: kiln_asprintf("https://docs.docker.com/go/dockerfile/rule/%s/",
						f[1]);
		n_tsv_rules++;
	}
	return 0;
}

static int rule_matches_tsv(const struct kiln_df_check_rule *r)
{
	for (size_t i = 0; i < n_tsv_rules; i++)
		if (!strcmp(tsv_rules[i].name, r->name))
			return !strcmp(tsv_rules[i].description, r->description) &&
			       ((!tsv_rules[i].url && !r->url) ||
				(tsv_rules[i].url && r->url && !strcmp(tsv_rules[i].url, r->url)));
	return 0;
}

/* hooks: references with the ref module, .dockerignore with the ignore module */
struct hooks_ud {
	struct kiln_ignore_matcher *matcher;
};

static int ref_check(void *ud, const char *s, struct kiln_error *err)
{
	(void) ud;
	struct kiln_ref *r = NULL;
	int rc = kiln_ref_parse(s, 0, &r, err);
	kiln_ref_free(r);
	return rc < 0 ? rc : 0;
}

static int ignore_matches(void *ud, const char *path, struct kiln_error *err)
{
	struct hooks_ud *h = ud;
	return kiln_ignore_matches_or_parent(h->matcher, path, strlen(path), NULL, err);
}

static int compare(const struct kiln_df_check_result *res, const struct rows *want, int lines,
		   const char *what)
{
	int ok = res->n_warnings == want->n;
	if (!ok)
		tap_diag("%s: %zu warnings, expected %zu", what, res->n_warnings, want->n);
	/* the subrequest's rows are ordered by their own line numbers; match as a multiset */
	unsigned char *used = calloc(want->n + 1, 1);
	if (!used)
		return 0;
	for (size_t i = 0; i < res->n_warnings; i++) {
		const struct kiln_df_check_warning *w = &res->warnings[i];
		int found = 0;
		for (size_t k = 0; k < want->n && !found; k++) {
			if (used[k] || strcmp(want->v[k].rule, w->rule->name) ||
			    strcmp(want->v[k].detail, w->message) ||
			    (lines && want->v[k].line != w->line))
				continue;
			if (lines && k != i)
				continue; /* same order as expected.tsv (line, detail) */
			used[k] = 1;
			found = 1;
		}
		if (!rule_matches_tsv(w->rule)) {
			tap_diag("%s: rule %s: description or URL differs from buildkit-checks.tsv",
				 what, w->rule->name);
			ok = 0;
		}
		if (!found) {
			tap_diag("%s: unexpected %d %s %s", what, w->line, w->rule->name,
				 w->message);
			ok = 0;
		}
	}
	for (size_t k = 0; k < want->n; k++)
		if (!used[k]) {
			tap_diag("%s: missing %d %s %s", what, want->v[k].line, want->v[k].rule,
				 want->v[k].detail);
			ok = 0;
		}
	free(used);
	return ok;
}

static int run_case(const char *dir, const char *name)
{
	char *path = NULL;
	struct meta m = { .build_args = KILN_STRV_INIT };
	struct rows want = { 0 }, want_sub = { 0 };
	struct hooks_ud hud = { 0 };
	struct kiln_df_check_result *build = NULL, *lint = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	char *df = NULL;
	int ok = 0;

	free(path);
	path = kiln_asprintf("%s/%s/meta.tsv", dir, name);
	if (!path)
		goto out;
	if (read_meta(path, &m) < 0) {
		tap_diag("%s: cannot read meta.tsv", name);
		goto out;
	}
	free(path);
	path = kiln_asprintf("%s/%s/expected.tsv", dir, name);
	if (!path)
		goto out;
	if (read_rows(path, &want) < 0) {
		tap_diag("%s: cannot read expected.tsv", name);
		goto out;
	}
	if (m.subrequest) {
		free(path);
		path = kiln_asprintf("%s/%s/expected-lint-subrequest.tsv", dir, name);
		if (!path || read_rows(path, &want_sub) < 0)
			goto out;
	}
	size_t len;
	free(path);
	path = kiln_asprintf("%s/%s/context/Dockerfile", dir, name);
	if (!path)
		goto out;
	if (!(df = read_all(path, &len)))
		goto out;

	struct kiln_df_hooks hooks = { .userdata = &hud, .reference_check = ref_check };
	free(path);
	path = kiln_asprintf("%s/%s/context/.dockerignore", dir, name);
	if (!path)
		goto out;
	if (file_exists(path)) {
		size_t il;
		cleanup_free char *ig = read_all(path, &il);
		struct kiln_ignore_list list = KILN_IGNORE_LIST_INIT;
		if (!ig || kiln_ignore_read_all(ig, il, ".dockerignore", &list, &err) < 0 ||
		    kiln_ignore_matcher_new_list(&list, &hud.matcher, &err) < 0) {
			kiln_ignore_list_release(&list);
			tap_diag("%s: .dockerignore: %s", name, err.msg ? err.msg : "?");
			goto out;
		}
		kiln_ignore_list_release(&list);
		if (kiln_ignore_matcher_count(hud.matcher)) {
			hooks.ignore_matches = ignore_matches;
			hooks.ignore_has_exceptions =
				kiln_ignore_matcher_has_exceptions(hud.matcher);
		}
	}

	struct kiln_df_check_opts o = {
		.mode = KILN_DF_CHECK_BUILD,
		.build_args = (const char *const *) m.build_args.items,
		.n_build_args = m.build_args.len,
		.hooks = &hooks,
	};
	if (kiln_df_check(df, len, "Dockerfile", &o, &build, &err) < 0) {
		tap_diag("%s: %s", name, err.msg);
		goto out;
	}
	o.mode = KILN_DF_CHECK_LINT;
	if (kiln_df_check(df, len, "Dockerfile", &o, &lint, &err) < 0) {
		tap_diag("%s: %s", name, err.msg);
		goto out;
	}

	ok = compare(build, &want, 1, "build");
	ok &= compare(lint, m.subrequest ? &want_sub : &want, !m.subrequest, "lint subrequest");
	if (m.build_err) {
		if (!build->error || !strstr(build->error, m.build_err)) {
			tap_diag("build error: %s, expected it to contain: %s",
				 build->error ? build->error : "(none)", m.build_err);
			ok = 0;
		}
		if (!lint->error || strcmp(lint->error, m.build_err)) {
			tap_diag("lint subrequest error: %s, expected: %s",
				 lint->error ? lint->error : "(none)", m.build_err);
			ok = 0;
		}
		if (build->error && m.build_err_line && build->error_line != m.build_err_line) {
			tap_diag("build error at line %d, expected %d", build->error_line,
				 m.build_err_line);
			ok = 0;
		}
	} else {
		if (build->error || lint->error) {
			tap_diag("unexpected error: %s", build->error ? build->error : lint->error);
			ok = 0;
		}
		if (m.build_err_regexp)
			tap_diag("the build's own failure (%s) happens when the file is copied, "
				 "after the checks",
				 m.build_err_regexp);
	}
out:
	free(path);
	kiln_error_release(&err);
	kiln_df_check_result_free(build);
	kiln_df_check_result_free(lint);
	kiln_ignore_matcher_free(hud.matcher);
	free(df);
	rows_free(&want);
	rows_free(&want_sub);
	meta_release(&m);
	return ok;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(void)
{
	const char *root = getenv("KILN_CONFORMANCE_DIR");
	if (!root || !*root)
		root = getenv("KILN_CONFORMANCE_DIR_DEFAULT");
	char dir[4096], tsv[4096];
	snprintf(dir, sizeof(dir), "%s/lint/buildkit-cases", root ? root : "");
	snprintf(tsv, sizeof(tsv), "%s/lint/buildkit-checks.tsv", root ? root : "");
	DIR *d = root && *root ? opendir(dir) : NULL;
	if (!d || read_checks_tsv(tsv) < 0) {
		if (d)
			closedir(d);
		printf("# conformance lint-buildkit ABSENT\n");
		tap_skip("no conformance data", "buildkit lint cases");
		return tap_done();
	}
	struct kiln_strv names = KILN_STRV_INIT;
	for (struct dirent *e; (e = readdir(d));) {
		cleanup_free char *p = kiln_asprintf("%s/%s/meta.tsv", dir, e->d_name);
		if (!p)
			return 1;
		if (e->d_name[0] != '.' && file_exists(p) && kiln_strv_push(&names, e->d_name) < 0)
			return 1;
	}
	closedir(d);
	if (names.len)
		qsort(names.items, names.len, sizeof(char *), cmp_names);
	int passed = 0;
	for (size_t i = 0; i < names.len; i++) {
		int ok = run_case(dir, names.items[i]);
		passed += ok;
		tap_ok(ok, "lint-buildkit %s", names.items[i]);
	}
	printf("# conformance lint-buildkit %d/%zu\n", passed, names.len);
	kiln_strv_release(&names);
	for (size_t i = 0; i < n_tsv_rules; i++) {
		free(tsv_rules[i].name);
		free(tsv_rules[i].description);
		free(tsv_rules[i].url);
	}
	free(tsv_rules);
	return tap_done();
}
