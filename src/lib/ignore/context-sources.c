/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The COPY/ADD sources of a Dockerfile against the context a build would
 * send: a source that the ignore rules exclude, or that matches nothing, is
 * the classic .dockerignore mistake (the build fails, or copies less).
 *
 * The sources are the stage graph's (dockerfile/graph.h): expanded where and
 * as BuildKit expands them, with the build args given, in every stage. A
 * source that used a variable with no value (an ENV of the base image,
 * which kiln context does not fetch, or an ARG nothing set) is reported as
 * unchecked rather than guessed. --from sources, URLs, git references and
 * heredocs are not context sources.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/gopath.h"
#include "dockerfile/dockerfile.h"
#include "ignore/context-internal.h"
#include "ignore/filter.h"
#include "shell/shell.h"

struct checker {
	struct ctx_state *st;
	struct kiln_error *err;
};

static int add_warning(struct checker *c, const struct kiln_df_instr *in,
		       enum kiln_ignore_source_problem problem, const char *source,
		       const char *expanded, const char *path, long by, char *message)
{
	struct kiln_ignore_context_report *rep = c->st->rep;
	if (!message)
		return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
	struct kiln_ignore_source_warning *w =
		kiln_reallocarray(rep->warnings, rep->n_warnings + 1, sizeof(*w));
	if (!w) {
		free(message);
		return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
	}
	rep->warnings = w;
	w = &rep->warnings[rep->n_warnings++];
	*w = (struct kiln_ignore_source_warning){ .problem = problem,
						  .line = in->start_line,
						  .message = message };
	int ok = (w->instruction = kiln_strdup(in->keyword)) &&
		 (w->source = kiln_strdup(source)) &&
		 (!expanded || (w->expanded = kiln_strdup(expanded))) &&
		 (!path || (w->path = kiln_strdup(path)));
	if (ok && by >= 0 && c->st->excludes) {
		struct kiln_ignore_pattern_info pi;
		kiln_ignore_matcher_pattern(c->st->excludes, (size_t)by, &pi);
		w->pattern = kiln_asprintf("%s%s", pi.exception ? "!" : "", pi.pattern);
		w->pattern_line = pi.line;
		ok = w->pattern != NULL;
	}
	return ok ? 0 : kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
}

/* "excluded by .dockerignore:3 ('*.env')", or a fallback when no pattern is known. */
static char *why_excluded(struct checker *c, const char *path, long *ret_by)
{
	*ret_by = -1;
	if (c->st->excludes) {
		long by = -1;
		int r = kiln_ignore_matches_or_parent(c->st->excludes, path, strlen(path), &by, NULL);
		if (r >= 0 && by >= 0) {
			struct kiln_ignore_pattern_info pi;
			kiln_ignore_matcher_pattern(c->st->excludes, (size_t)by, &pi);
			*ret_by = by;
			return kiln_asprintf("excluded by %s:%u ('%s%s')", c->st->ignore_file,
					     pi.line, pi.exception ? "!" : "", pi.pattern);
		}
		if (r >= 0 && c->st->ignore_file)
			return kiln_asprintf("left out by the rules of %s", c->st->ignore_file);
	}
	return kiln_strdup("not sent with the context");
}

/* lstat inside the root; 1 exists (*st filled), 0 absent. */
static int exists_in_root(struct checker *c, const char *rel, struct stat *st)
{
	int fd = -1;
	const char *base;
	if (kiln_ignore_open_parent_in_root(c->st->root_fd, rel, &fd, &base) < 0)
		return 0;
	int r = fstatat(fd, base, st, AT_SYMLINK_NOFOLLOW) == 0;
	close(fd);
	return r;
}

/* The first entry of directory rel (inside the root), into *ret; 0 when empty. */
static int first_entry(struct checker *c, const char *rel, char **ret)
{
	int fd = kiln_ignore_open_in_root(c->st->root_fd, rel);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	struct dirent *de;
	int found = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			*ret = kiln_asprintf("%s/%s", rel, de->d_name);
			found = *ret != NULL;
			break;
		}
	closedir(d);
	return found;
}

/* fsutil's containsWildcards: *, ? or [ not escaped by a backslash. */
static int has_wildcards(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return 1;
	}
	return 0;
}

struct disk_search {
	const char *pattern;
	size_t plen;
	int depth_limited;
	size_t max_slashes;
	char *found;
};

static int disk_match(const struct kiln_ignore_walk_entry *e, void *userdata)
{
	struct disk_search *d = userdata;
	if (kiln_go_match(d->pattern, d->plen, e->path, e->path_len) > 0) {
		d->found = kiln_strdup(e->path);
		return d->found ? -KILN_EEXIST : -KILN_ENOMEM; /* stop: found one */
	}
	if (S_ISDIR(e->st->st_mode) && d->depth_limited) {
		size_t slashes = 0;
		for (size_t i = 0; i < e->path_len; i++)
			slashes += e->path[i] == '/';
		if (slashes >= d->max_slashes)
			return KILN_IGNORE_WALK_SKIP;
	}
	return 0;
}

/* A path on disk (ignore rules not applied) that the wildcard source matches. */
static char *find_on_disk(struct checker *c, const char *pattern)
{
	/* Walk only below the components before the first one with a wildcard. */
	size_t plen = strlen(pattern), lit = 0;
	for (size_t i = 0, start = 0; i <= plen; i++) {
		if (i < plen && pattern[i] != '/')
			continue;
		cleanup_free char *comp = kiln_strndup(pattern + start, i - start);
		if (!comp || has_wildcards(comp))
			break;
		lit = i;
		start = i + 1;
	}
	cleanup_free char *target = kiln_strndup(pattern, lit);
	struct disk_search d = { .pattern = pattern, .plen = plen };
	/* '*' and '?' never cross '/': without '[' the depth is bounded. */
	d.depth_limited = strchr(pattern, '[') == NULL;
	for (size_t i = 0; i < plen; i++)
		d.max_slashes += pattern[i] == '/';
	struct kiln_ignore_walk_opts wo = { .target = target, .ctx = c->st->ctx };
	struct kiln_error e = KILN_ERROR_INIT;
	if (target)
		(void)kiln_ignore_walk(c->st->root_fd, &wo, disk_match, &d, &e);
	kiln_error_release(&e);
	return d.found;
}

/* A symlink on the way to `rel`: whether what it leads to is in the context. */
static int reachable_through_links(struct checker *c, const char *rel)
{
	const char *one[] = { rel };
	struct kiln_strv res = KILN_STRV_INIT;
	int all = 0, found = 0;
	if (kiln_ignore_follow_links(c->st->root_fd, one, 1, &res, &all, NULL) == 0)
		for (size_t i = 0; i < res.len && !found; i++)
			found = strcmp(res.items[i], rel) != 0 &&
				kiln_ignore_ctx_has(c->st, res.items[i], strlen(res.items[i]));
	kiln_strv_release(&res);
	return found || all;
}

static int check_source(struct checker *c, const struct kiln_df_instr *n, const char *source,
			const char *expanded)
{
	/* BuildKit resolves sources inside the context: leading '/' and ".." cannot leave it. */
	size_t len = strlen(expanded);
	cleanup_free char *tmp = kiln_malloc(len + 2);
	cleanup_free char *clean = kiln_malloc(len + 3);
	if (!tmp || !clean)
		return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
	tmp[0] = '/';
	memcpy(tmp + 1, expanded, len);
	size_t cl = kiln_go_clean(tmp, len + 1, clean);
	if (cl <= 1)
		return 0; /* the whole context */
	const char *rel = clean + 1;
	const char *shown = strcmp(source, expanded) == 0 ? NULL : expanded;
	/* messages name the source as written, and what it expanded to when that differs */
	cleanup_free char *label = shown ? kiln_asprintf("'%s' (%s)", source, expanded)
					 : kiln_asprintf("'%s'", source);
	if (!label)
		return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
	long by = -1;
	c->st->rep->n_sources++;

	if (has_wildcards(rel)) {
		size_t rl = strlen(rel);
		for (size_t i = 0; i < c->st->paths.n; i++) {
			const char *p = kiln_ignore_ctx_path(c->st, i);
			if (kiln_go_match(rel, rl, p, strlen(p)) > 0)
				return 0;
		}
		cleanup_free char *hit = find_on_disk(c, rel);
		if (hit) {
			cleanup_free char *why = why_excluded(c, hit, &by);
			return add_warning(c, n, KILN_IGNORE_SOURCE_EXCLUDED, source, shown, hit, by,
					   kiln_asprintf("source %s matches only files the ignore "
							 "rules drop (%s: %s)",
							 label, hit, why ? why : "excluded"));
		}
		return add_warning(c, n, KILN_IGNORE_SOURCE_MISSING, source, shown, NULL, -1,
				   kiln_asprintf("source %s matches nothing in the context", label));
	}

	struct stat st;
	if (kiln_ignore_ctx_has(c->st, rel, strlen(rel))) {
		cleanup_free char *inside = NULL;
		if (exists_in_root(c, rel, &st) && S_ISDIR(st.st_mode) &&
		    !kiln_ignore_ctx_has_below(c->st, rel, strlen(rel)) && first_entry(c, rel, &inside)) {
			cleanup_free char *why = why_excluded(c, inside, &by);
			return add_warning(c, n, KILN_IGNORE_SOURCE_EMPTIED, source, shown, inside, by,
					   kiln_asprintf("source %s is a directory whose contents "
							 "are all left out (%s: %s)",
							 label, inside, why ? why : "excluded"));
		}
		return 0;
	}
	if (reachable_through_links(c, rel))
		return 0;
	if (exists_in_root(c, rel, &st)) {
		cleanup_free char *why = why_excluded(c, rel, &by);
		return add_warning(c, n, KILN_IGNORE_SOURCE_EXCLUDED, source, shown, rel, by,
				   kiln_asprintf("source %s is %s", label,
						 why ? why : "excluded"));
	}
	return add_warning(c, n, KILN_IGNORE_SOURCE_MISSING, source, shown, NULL, -1,
			   kiln_asprintf("source %s is not in the context", label));
}

/*
 * The first variable that `raw` (a source as written) uses and that had no
 * value when the step expanded it, into *ret (NULL: none). The step knows
 * which of its variables were unset; which of its words used them takes a
 * look at the word itself. 0, or -KILN_ENOMEM.
 */
static int unset_var(const struct kiln_df_step *step, const char *raw, char escape,
		     const char **ret)
{
	*ret = NULL;
	if (!step->unset_vars.n)
		return 0;
	struct kiln_shell_lex lex = { .escape = escape };
	struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	struct kiln_error e = KILN_ERROR_INIT;
	/* with nothing set, every name the word uses is unmatched */
	int r = raw ? kiln_shell_expand(&lex, raw, NULL, &res, &e) : -KILN_EINVAL;
	if (r >= 0) {
		for (size_t i = 0; i < res.unmatched.len && !*ret; i++)
			for (size_t k = 0; k < step->unset_vars.n && !*ret; k++)
				if (strcmp(res.unmatched.items[i], step->unset_vars.v[k]) == 0)
					*ret = step->unset_vars.v[k];
	} else if (r != -KILN_ENOMEM) {
		/* the word cannot be looked at on its own (an ONBUILD replay): assume the worst */
		*ret = step->unset_vars.v[0];
		r = 0;
	}
	kiln_error_release(&e);
	kiln_shell_result_release(&res);
	return r < 0 ? r : 0;
}

static int is_remote(const char *s)
{
	static const char *const prefixes[] = { "http://", "https://", "git://", "git@", "ssh://" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* The same instruction in the model: its words as written. NULL for ONBUILD replays. */
static const struct kiln_df_instr *as_written(const struct kiln_df_stage *st,
					      const struct kiln_df_step *step)
{
	if (!step->instr.node)
		return NULL;
	for (size_t i = 0; i < st->model->n_instrs; i++)
		if (st->model->instrs[i].node == step->instr.node)
			return &st->model->instrs[i];
	return NULL;
}

/* Whether `name` is an ARG of the global scope (not a predefined one). */
static int is_global_arg(const struct kiln_df_graph *g, const char *name)
{
	const struct kiln_df_model *m = g->model;
	for (size_t i = 0; i < m->n_meta_args; i++)
		for (size_t k = 0; k < m->meta_args[i].u.args.n; k++)
			if (strcmp(m->meta_args[i].u.args.v[k].key, name) == 0)
				return 1;
	return 0;
}

static int check_step(struct checker *c, const struct kiln_df_graph *g,
		      const struct kiln_df_stage *st, const struct kiln_df_step *step, char escape)
{
	const struct kiln_df_instr *in = &step->instr;
	const struct kiln_df_copy *cp = &in->u.copy;
	if (cp->from && *cp->from)
		return 0; /* another stage or an image: not the context */
	const struct kiln_df_instr *raw = as_written(st, step);
	if (raw && raw->u.copy.sources.n != cp->sources.n)
		raw = NULL;
	for (size_t i = 0; i < cp->sources.n; i++) {
		const char *src = raw ? raw->u.copy.sources.v[i] : cp->sources.v[i];
		const char *expanded = cp->sources.v[i];
		if (in->cmd == KILN_DF_ADD && is_remote(expanded))
			continue;
		const char *var;
		int r = unset_var(step, raw ? src : NULL, escape, &var);
		if (r < 0)
			return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
		if (var && is_global_arg(g, var))
			r = add_warning(c, in, KILN_IGNORE_SOURCE_UNCHECKED, src, NULL, NULL, -1,
					kiln_asprintf("source '%s' not checked: $%s is a global "
						      "ARG, which a stage sees only after its own "
						      "'ARG %s' (or is it an ENV of the base image?)",
						      src, var, var));
		else if (var)
			r = add_warning(c, in, KILN_IGNORE_SOURCE_UNCHECKED, src, NULL, NULL, -1,
					kiln_asprintf("source '%s' not checked: $%s is not set by "
						      "the Dockerfile or a build arg (an ENV of "
						      "the base image?)",
						      src, var));
		else
			r = check_source(c, in, src, expanded);
		if (r < 0)
			return r;
	}
	return 0;
}

int kiln_ignore_context_check_sources(struct ctx_state *st, const char *data, size_t len,
				      const struct kiln_ignore_context_opts *opts,
				      struct kiln_error *err)
{
	const char *name = st->rep->dockerfile;
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	cleanup(kiln_df_model_freep) struct kiln_df_model *model = NULL;
	cleanup(kiln_df_graph_freep) struct kiln_df_graph *g = NULL;
	struct kiln_df_graph_opts go = {
		.build_args = opts->build_args,
		.n_build_args = opts->n_build_args,
		/* every COPY a --target could reach, not only the last stage's */
		.flags = KILN_DF_GRAPH_ALL_STAGES,
	};
	int r = kiln_df_parse(data, len, name, &ast, err);
	if (r < 0 || (r = kiln_df_model_new(ast, &model, err)) < 0 ||
	    (r = kiln_df_graph_new(model, &go, &g, err)) < 0)
		return r;
	struct checker c = { .st = st, .err = err };
	for (size_t i = 0; i < g->n_stages; i++) {
		const struct kiln_df_stage *stage = &g->stages[i];
		for (size_t k = 0; stage->dispatched && k < stage->n_steps; k++) {
			const struct kiln_df_step *step = &stage->steps[k];
			if (step->instr.cmd != KILN_DF_COPY && step->instr.cmd != KILN_DF_ADD)
				continue;
			if ((r = check_step(&c, g, stage, step, (char)ast->escape)) < 0)
				return r;
		}
	}
	char *unused = kiln_df_graph_unused_args_warning(g);
	if (g->unused_build_args.n && !unused)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	st->rep->unused_build_args = unused;
	return 0;
}
