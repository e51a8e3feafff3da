/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The COPY/ADD sources of a Dockerfile against the context a build would
 * send: a source that the ignore rules exclude, or that matches nothing, is
 * the classic .dockerignore mistake (the build fails, or copies less).
 *
 * Sources are expanded as BuildKit expands them (ProcessWord with the
 * stage's ARG and ENV values; global ARGs only where a stage re-declares
 * them; ENV over ARG). A source that needs a variable the Dockerfile does
 * not set (a --build-arg, an ENV of the base image) is reported as
 * unchecked rather than guessed. --from sources, URLs and heredocs are not
 * context sources.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "base/gopath.h"
#include "dockerfile/dockerfile.h"
#include "ignore/context-internal.h"
#include "ignore/filter.h"
#include "shell/shell.h"

/* The variables of one scope: ENV values shadow ARG values. */
struct scope {
	struct kiln_shell_envlist *args;
	struct kiln_shell_envlist *envs;
};

static int scope_lookup(void *userdata, const char *name, const char **ret)
{
	const struct scope *s = userdata;
	const char *v = s->envs ? kiln_shell_envlist_get(s->envs, name) : NULL;
	if (!v && s->args)
		v = kiln_shell_envlist_get(s->args, name);
	if (!v)
		return 0;
	*ret = v;
	return 1;
}

static void scope_release(struct scope *s)
{
	kiln_shell_envlist_free(s->args);
	kiln_shell_envlist_free(s->envs);
	s->args = s->envs = NULL;
}

static int scope_init(struct scope *s, struct kiln_error *err)
{
	scope_release(s);
	int r = kiln_shell_envlist_new(&s->args, err);
	if (r == 0)
		r = kiln_shell_envlist_new(&s->envs, err);
	return r;
}

/* The automatic platform ARGs, with this machine's values. */
static const char *platform_value(const char *name, char *buf, size_t size)
{
	struct utsname u;
	const char *arch = "amd64";
	if (uname(&u) == 0) {
		if (strcmp(u.machine, "aarch64") == 0)
			arch = "arm64";
		else if (strcmp(u.machine, "i686") == 0 || strcmp(u.machine, "i386") == 0)
			arch = "386";
		else if (strcmp(u.machine, "x86_64") != 0)
			arch = u.machine;
	}
	const char *rest = NULL;
	if (strncmp(name, "TARGET", 6) == 0)
		rest = name + 6;
	else if (strncmp(name, "BUILD", 5) == 0)
		rest = name + 5;
	if (!rest)
		return NULL;
	if (strcmp(rest, "OS") == 0)
		return "linux";
	if (strcmp(rest, "ARCH") == 0)
		return arch;
	if (strcmp(rest, "VARIANT") == 0)
		return "";
	if (strcmp(rest, "PLATFORM") == 0) {
		size_t n = strlen(arch);
		if (n + 7 > size)
			return NULL;
		memcpy(buf, "linux/", 6);
		memcpy(buf + 6, arch, n + 1);
		return buf;
	}
	return NULL;
}

struct checker {
	struct ctx_state *st;
	const char *file;
	struct kiln_shell_lex lex;
	struct scope global, stage;
	int in_stage;
	struct kiln_error *err;
};

static int expand(struct checker *c, const struct scope *s, const char *word,
		  struct kiln_shell_result *res, struct kiln_error *err)
{
	struct kiln_shell_env env = { scope_lookup, (void *)s };
	return kiln_shell_expand(&c->lex, word, &env, res, err);
}

/* ARG name[=value]... in the global scope or a stage. */
static int do_arg(struct checker *c, const struct kiln_df_node *n)
{
	for (size_t i = 0; i < n->n_args; i++) {
		const char *w = n->args[i].str;
		const char *eq = strchr(w, '=');
		cleanup_free char *name = eq ? kiln_strndup(w, (size_t)(eq - w)) : kiln_strdup(w);
		if (!name)
			return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
		struct scope *s = c->in_stage ? &c->stage : &c->global;
		const char *value = NULL;
		char pbuf[80];
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		if (eq) {
			struct kiln_error e = KILN_ERROR_INIT;
			if (expand(c, s, eq + 1, &res, &e) < 0) {
				/* an ARG default that does not expand: leave the name unset */
				kiln_error_release(&e);
				continue;
			}
			value = res.word;
		} else if (c->in_stage) {
			value = kiln_shell_envlist_get(c->global.args, name);
			if (!value)
				value = platform_value(name, pbuf, sizeof(pbuf));
		}
		int r = 0;
		if (value)
			r = kiln_shell_envlist_set(s->args, name, value, c->err);
		kiln_shell_result_release(&res);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ENV key value triples (see struct kiln_df_node). */
static int do_env(struct checker *c, const struct kiln_df_node *n)
{
	for (size_t i = 0; i + 1 < n->n_args; i += 3) {
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		struct kiln_error e = KILN_ERROR_INIT;
		if (expand(c, &c->stage, n->args[i + 1].str, &res, &e) < 0) {
			kiln_error_release(&e);
			continue;
		}
		int r = kiln_shell_envlist_set(c->stage.envs, n->args[i].str, res.word, c->err);
		kiln_shell_result_release(&res);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_warning(struct checker *c, const struct kiln_df_node *n,
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
						  .line = n->start_line,
						  .message = message };
	int ok = (w->instruction = kiln_strdup(n->keyword.str)) &&
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

static int check_source(struct checker *c, const struct kiln_df_node *n, const char *source,
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
					   kiln_asprintf("source '%s' matches only files the ignore "
							 "rules drop (%s: %s)",
							 source, hit, why ? why : "excluded"));
		}
		return add_warning(c, n, KILN_IGNORE_SOURCE_MISSING, source, shown, NULL, -1,
				   kiln_asprintf("source '%s' matches nothing in the context", source));
	}

	struct stat st;
	if (kiln_ignore_ctx_has(c->st, rel, strlen(rel))) {
		cleanup_free char *inside = NULL;
		if (exists_in_root(c, rel, &st) && S_ISDIR(st.st_mode) &&
		    !kiln_ignore_ctx_has_below(c->st, rel, strlen(rel)) && first_entry(c, rel, &inside)) {
			cleanup_free char *why = why_excluded(c, inside, &by);
			return add_warning(c, n, KILN_IGNORE_SOURCE_EMPTIED, source, shown, inside, by,
					   kiln_asprintf("source '%s' is a directory whose contents "
							 "are all left out (%s: %s)",
							 source, inside, why ? why : "excluded"));
		}
		return 0;
	}
	if (reachable_through_links(c, rel))
		return 0;
	if (exists_in_root(c, rel, &st)) {
		cleanup_free char *why = why_excluded(c, rel, &by);
		return add_warning(c, n, KILN_IGNORE_SOURCE_EXCLUDED, source, shown, rel, by,
				   kiln_asprintf("source '%s' is %s", source,
						 why ? why : "excluded"));
	}
	return add_warning(c, n, KILN_IGNORE_SOURCE_MISSING, source, shown, NULL, -1,
			   kiln_asprintf("source '%s' is not in the context", source));
}

static int is_remote(const char *s)
{
	static const char *const prefixes[] = { "http://", "https://", "git://", "git@", "ssh://" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(prefixes); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static int do_copy(struct checker *c, const struct kiln_df_node *n)
{
	for (size_t i = 0; i < n->n_flags; i++)
		if (strcmp(n->flags[i].name.str, "from") == 0)
			return 0; /* another stage or an image: not the context */
	if (n->n_args < 2)
		return 0; /* BuildKit rejects it; nothing to check */
	for (size_t i = 0; i + 1 < n->n_args; i++) {
		const char *src = n->args[i].str;
		if (strlen(src) != n->args[i].len)
			continue;
		if (n->n_heredocs && strncmp(src, "<<", 2) == 0)
			continue;
		if (n->cmd == KILN_DF_ADD && is_remote(src))
			continue;
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		struct kiln_error e = KILN_ERROR_INIT;
		int r;
		if (expand(c, &c->stage, src, &res, &e) < 0) {
			r = add_warning(c, n, KILN_IGNORE_SOURCE_UNCHECKED, src, NULL, NULL, -1,
					kiln_asprintf("source '%s' not checked: %s", src,
						      e.msg ? e.msg : "it does not expand"));
			kiln_error_release(&e);
		} else if (res.unmatched.len > 0) {
			r = add_warning(c, n, KILN_IGNORE_SOURCE_UNCHECKED, src, NULL, NULL, -1,
					kiln_asprintf("source '%s' not checked: $%s is not set by "
						      "the Dockerfile (a build arg or an image ENV?)",
						      src, res.unmatched.items[0]));
		} else {
			r = check_source(c, n, src, res.word);
		}
		kiln_shell_result_release(&res);
		if (r < 0)
			return r;
	}
	return 0;
}

int kiln_ignore_context_check_sources(struct ctx_state *st, const char *path,
				      struct kiln_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r = kiln_read_file(path, KILN_DF_MAX_FILE, &data, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading the Dockerfile");
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	r = kiln_df_parse(data, len, path, &ast, err);
	if (r < 0)
		return r;
	struct checker c = { .st = st, .file = path, .err = err };
	c.lex.escape = (char)ast->escape;
	if ((r = scope_init(&c.global, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < ast->n_nodes; i++) {
		const struct kiln_df_node *n = &ast->nodes[i];
		switch (n->cmd) {
		case KILN_DF_FROM:
			c.in_stage = 1;
			r = scope_init(&c.stage, err);
			break;
		case KILN_DF_ARG:
			r = do_arg(&c, n);
			break;
		case KILN_DF_ENV:
			if (c.in_stage)
				r = do_env(&c, n);
			break;
		case KILN_DF_COPY:
		case KILN_DF_ADD:
			if (c.in_stage)
				r = do_copy(&c, n);
			break;
		default:
			break;
		}
	}
	scope_release(&c.global);
	scope_release(&c.stage);
	return r;
}
