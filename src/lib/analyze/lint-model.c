/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "dockerfile/syntax.h"
#include "shell/shell.h"

const char *lint_build_arg(const struct lint_file *f, const char *name, size_t len)
{
	const char *v = NULL;
	for (size_t i = 0; f->opts && i < f->opts->n_build_args; i++) {
		const char *kv = f->opts->build_args[i];
		if (strncmp(kv, name, len) == 0 && kv[len] == '=')
			v = kv + len + 1;
	}
	return v;
}

/* a suffix that begins with '.' at one of s's dots (n_dots of them at dots[]) */
static int dot_suffix_at(const char *s, const size_t *dots, size_t n_dots, const char *suffix)
{
	for (size_t j = 0; j < n_dots; j++) {
		const char *d = s + dots[j];
		if (d[1] == suffix[1] && strcmp(d, suffix) == 0)
			return 1;
	}
	return 0;
}

int lint_str_has_any_ext(const char *s, const char *const *exts)
{
	/* an extension without a dot of its own can only end s at s's last dot */
	const char *dot = strrchr(s, '.');
	if (!dot)
		return 0;
	for (size_t i = 0; exts[i]; i++) {
		if (dot[1] != exts[i][1])
			continue;
		/* strcmp() == 0 of a few bytes, in place */
		const char *e = exts[i];
		size_t k = 0;
		while (dot[k] && dot[k] == e[k])
			k++;
		if (dot[k] == e[k])
			return 1;
	}
	return 0;
}

int lint_str_has_any_suffix(const char *s, const char *const *suffixes)
{
	/*
	 * the suffixes are file extensions and most words have no '.' or one:
	 * one that begins with '.' can only match where s has a '.', so it is
	 * compared at s's dots (found once) instead of being measured; a word
	 * with more dots than fit in dots[] measures them as before
	 */
	size_t dots[8], n_dots = 0;
	int many = 0;
	const char *d = strchr(s, '.');
	size_t n = strlen(s);
	while (d) {
		if (n_dots == sizeof(dots) / sizeof(dots[0])) {
			many = 1;
			break;
		}
		dots[n_dots++] = (size_t) (d - s);
		d = memchr(d + 1, '.', n - (size_t) (d + 1 - s));
	}
	for (size_t i = 0; suffixes[i]; i++) {
		if (suffixes[i][0] == '.' && !many) {
			if (dot_suffix_at(s, dots, n_dots, suffixes[i]))
				return 1;
			continue;
		}
		size_t k = strlen(suffixes[i]);
		if (k <= n && memcmp(s + n - k, suffixes[i], k) == 0)
			return 1;
	}
	return 0;
}


int lint_ci_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

char *lint_args_joined(const struct kiln_df_node *n)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (size_t i = 0; i < n->n_args; i++) {
		if ((i && kiln_buf_addch(&b, ' ') < 0) ||
		    kiln_buf_addstr(&b, lint_ntext(n, &n->args[i])) < 0) {
			kiln_buf_release(&b);
			return NULL;
		}
	}
	return kiln_buf_detach(&b, NULL);
}

static size_t set_hash(const char *s, size_t len)
{
	size_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static size_t set_slot(const struct lint_set *s, const char *key, size_t len)
{
	size_t mask = s->cap - 1;
	size_t i = set_hash(key, len) & mask;
	while (s->keys[i].s && (s->keys[i].len != len || memcmp(s->keys[i].s, key, len) != 0))
		i = (i + 1) & mask;
	return i;
}

int lint_set_add(struct lint_set *s, const char *key, size_t len)
{
	/* as a copy of the key did: a NUL byte ends it */
	len = strnlen(key, len);
	if (s->cap && s->keys[set_slot(s, key, len)].s)
		return 0;
	if ((s->len + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct lint_set n = { s->arena ? kiln_arena_array(s->arena, cap, sizeof(*n.keys))
					       : kiln_calloc(cap, sizeof(*n.keys)),
				      cap, s->len, s->arena };
		if (!n.keys)
			return -KILN_ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->keys[i].s)
				n.keys[set_slot(&n, s->keys[i].s, s->keys[i].len)] = s->keys[i];
		if (!s->arena)
			free(s->keys);
		*s = n;
	}
	s->keys[set_slot(s, key, len)] = (struct lint_set_key){ key, len };
	s->len++;
	return 0;
}

int lint_set_has(const struct lint_set *s, const char *key, size_t len)
{
	return s->cap && s->keys[set_slot(s, key, strnlen(key, len))].s != NULL;
}

void lint_set_release(struct lint_set *s)
{
	if (!s->arena)
		free(s->keys);
	*s = (struct lint_set){ 0 };
}

/* tolower() of one byte in the C and C.UTF-8 locales the CLI sets (no byte past ASCII is a
 * letter there), without the call for the locale's table */
static inline unsigned char ascii_lower(unsigned char c)
{
	return (unsigned char)(c + ((unsigned)(c - 'A') < 26 ? 'a' - 'A' : 0));
}

static char *lower_dup(struct kiln_arena *a, const char *s)
{
	char *d = kiln_arena_strndup_packed(a, s, strlen(s));
	if (d)
		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 1099511628211ULL;
	return h;
}

/* The slot of `name` in the table: holding it, or empty (-1). */
static size_t name_slot(const struct lint_file *f, const char *name)
{
	size_t i = name_hash(name) & (f->name_cap - 1);
	while (f->name_slots[i] >= 0 && !lint_ci_equal(f->stages[f->name_slots[i]].name, name))
		i = (i + 1) & (f->name_cap - 1);
	return i;
}

/* Up to this many stages (most files), a scan finds a name for less than the hash: the
 * table is built when a file has more. */
#define NAME_SCAN_MAX 8

/* The last stage before `before` named `name` (lower case), by a scan. */
static int name_scan(const struct lint_file *f, const char *name, size_t before)
{
	for (size_t s = before < f->n_stages ? before : f->n_stages; s-- > 0;)
		if (f->stages[s].name && lint_ci_equal(f->stages[s].name, name))
			return (int)s;
	return -1;
}

/* Enter stage s (whose name is set) into the names. */
static void name_add(struct lint_file *f, size_t s)
{
	if (!f->name_slots) {
		f->prev_same_name[s] = name_scan(f, f->stages[s].name, s);
	} else {
		size_t i = name_slot(f, f->stages[s].name);
		f->prev_same_name[s] = f->name_slots[i];
		f->name_slots[i] = (int)s;
	}
	f->name_firsts |= 1ULL << (f->stages[s].name[0] & 63); /* lower case already */
}

/* The hash table of the names of the stages so far, for a file of up to n stages. */
static int name_table(struct lint_file *f, size_t n)
{
	f->name_cap = 16;
	while (f->name_cap < 2 * n)
		f->name_cap *= 2;
	f->name_slots = kiln_arena_array_uninit(f->arena, f->name_cap, sizeof(*f->name_slots));
	if (!f->name_slots)
		return -KILN_ENOMEM;
	memset(f->name_slots, 0xff, f->name_cap * sizeof(*f->name_slots)); /* all -1 */
	for (size_t s = 0; s < f->n_stages; s++)
		if (f->stages[s].name)
			f->name_slots[name_slot(f, f->stages[s].name)] = (int)s;
	return 0;
}

int lint_stage_by_name(const struct lint_file *f, const char *name, size_t before)
{
	/* most names asked about are images, which begin as no stage's name does: no hash */
	if (!name || !*name || !(f->name_firsts >> (ascii_lower((unsigned char)*name) & 63) & 1))
		return -1;
	if (f->n_stages <= NAME_SCAN_MAX)
		return name_scan(f, name, before);
	int s = f->name_slots[name_slot(f, name)];
	while (s >= 0 && (size_t)s >= before)
		s = f->prev_same_name[s];
	return s;
}

void lint_refspan(const char *ref, struct lint_refspan *ret)
{
	/* by libc's scans of the reference itself: the digest at the first '@', the tag at the
	 * last ':' past the last '/', a registry before the first '/' when it has a '.' or a ':'
	 * or is localhost */
	const char *end = strchrnul(ref, '@');
	size_t n = (size_t)(end - ref);
	const char *last_slash = memrchr(ref, '/', n);
	const char *from = last_slash ? last_slash : ref;
	const char *colon = memrchr(from, ':', (size_t)(end - from));
	const char *name_end = colon ? colon : end;
	const char *path = ref;
	if (last_slash) {
		const char *first = memchr(ref, '/', n);
		size_t fn = (size_t)(first - ref);
		if (memchr(ref, '.', fn) || memchr(ref, ':', fn) ||
		    (fn == 9 && !memcmp(ref, "localhost", 9)))
			path = first + 1;
	}
	ret->path = path;
	ret->path_len = (size_t)(name_end - path);
	ret->repo = last_slash ? last_slash + 1 : ref;
	ret->repo_len = (size_t)(name_end - ret->repo);
	ret->tag = colon ? colon + 1 : NULL;
	ret->tag_len = colon ? (size_t)(end - colon - 1) : 0;
	ret->digest = *end == '@';
}

/* Bytes that the shell lexer copies as they are: printable ASCII but quotes, `$` and `\`. */
static int plain_word(const char *w)
{
	for (; *w; w++)
		if (*w <= ' ' || *w >= 0x7f || *w == '\'' || *w == '"' || *w == '$' || *w == '\\')
			return 0;
	return 1;
}

char *lint_unquote(const char *w)
{
	if (plain_word(w))
		return kiln_strdup(w); /* what the lexer would give */
	struct kiln_shell_lex lex = { .escape = '\\', .flags = KILN_SHELL_SKIP_UNSET_ENV };
	char *out = NULL;
	if (kiln_shell_process_word(&lex, w, NULL, &out, NULL) < 0)
		return kiln_strdup(w);
	return out;
}

/* a + b + c in the model arena */
static const char *arena_concat3(struct kiln_arena *a, const char *x, size_t xn, const char *y,
				 const char *z)
{
	size_t yn = strlen(y), zn = strlen(z);
	char *s = kiln_arena_array_uninit(a, xn + yn + zn + 1, 1);
	if (s) {
		memcpy(s, x, xn);
		memcpy(s + xn, y, yn);
		memcpy(s + xn + yn, z, zn + 1);
	}
	return s;
}

/* NAME=default of the ARGs before the first FROM, the AST's words where they are as written. */
static int global_args(struct lint_file *f, struct kiln_error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < f->ast->n_nodes && f->ast->nodes[i].cmd != KILN_DF_FROM; i++)
		if (f->ast->nodes[i].cmd == KILN_DF_ARG)
			n += f->ast->nodes[i].n_args;
	if (!n)
		return 0;
	if (!(f->global_args = kiln_arena_array_uninit(f->arena, n, sizeof(*f->global_args))))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < f->ast->n_nodes; i++) {
		const struct kiln_df_node *nd = &f->ast->nodes[i];
		if (nd->cmd == KILN_DF_FROM)
			break;
		if (nd->cmd != KILN_DF_ARG)
			continue;
		for (size_t a = 0; a < nd->n_args; a++) {
			const char *w = lint_ntext(nd, &nd->args[a]);
			const char *eq = strchr(w, '=');
			size_t nl = eq ? (size_t)(eq - w) : strlen(w);
			const char *bv = lint_build_arg(f, w, nl);
			const char *e = w; /* no default, or one without quotes to remove */
			if (bv) {
				/* a build arg replaces the default of a declared global ARG */
				e = arena_concat3(f->arena, w, nl, "=", bv);
			} else if (eq && !plain_word(eq + 1)) {
				cleanup_free char *v = lint_unquote(eq + 1);
				if (!v)
					return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				e = arena_concat3(f->arena, w, nl, "=", v);
			}
			if (!e)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			f->global_args[f->n_global_args++] = e;
		}
	}
	return 0;
}

/* The image name with the global ARGs expanded, in the model's arena; NULL if that fails. */
/* The value of the last global ARG NAME=value for name[0..nl), or NULL. */
static const char *global_value(const struct lint_file *f, const char *name, size_t nl)
{
	for (size_t i = f->n_global_args; i-- > 0;) {
		const char *e = f->global_args[i];
		if (e[0] == name[0] && strncmp(e, name, nl) == 0 && e[nl] == '=')
			return e + nl + 1;
	}
	return NULL;
}

static int name_byte(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/*
 * An image of plain bytes and $NAME or ${NAME} of global ARGs that have a value (as most
 * images with a `$` are: ${BASE}, node:${NODE_VERSION}-alpine), expanded as the shell
 * lexer would, without an environment list: 1 and *ret (the value itself for an image
 * that is just one reference), 0 to ask the lexer, -1 out of memory.
 */
static int expand_simple(struct lint_file *f, const char *image, const char **ret)
{
	struct lint_piece pc[8];
	size_t np = 0, total = 0;
	for (const char *p = image; *p;) {
		const char *start = p;
		if (*p != '$') {
			while (*p && *p != '$' &&
			       (isalnum((unsigned char)*p) || strchr("._:/@-+", *p)))
				p++;
			if (*p && *p != '$')
				return 0; /* quotes, escapes, blanks: the lexer's */
			pc[np++] = (struct lint_piece){ start, (size_t)(p - start) };
		} else {
			int brace = p[1] == '{';
			const char *name = p + 1 + brace, *e = name;
			if (!(isalpha((unsigned char)*e) || *e == '_'))
				return 0;
			while (name_byte(*e))
				e++;
			if (brace && *e != '}')
				return 0; /* ${NAME:-default} and the like */
			const char *v = global_value(f, name, (size_t)(e - name));
			if (!v)
				return 0; /* unset: the lexer's */
			pc[np++] = (struct lint_piece){ v, strlen(v) };
			p = e + brace;
		}
		total += pc[np - 1].n;
		if (np == KILN_ARRAY_SIZE(pc) && *p)
			return 0;
	}
	if (np == 1) {
		*ret = pc[0].s; /* a value: the AST's or the arena's, which outlive the model */
		return 1;
	}
	char *out = kiln_arena_array_uninit(f->arena, total + 1, 1);
	if (!out)
		return -1;
	*ret = lint_pieces_join(out, pc, np);
	return 1;
}

static const char *expand_image(struct lint_file *f, const char *image)
{
	if (!strchr(image, '$'))
		return image;
	const char *simple = NULL;
	int r = expand_simple(f, image, &simple);
	if (r != 0)
		return r > 0 ? simple : NULL;
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *env = NULL;
	if (kiln_shell_envlist_new(&env, NULL) < 0)
		return NULL;
	for (size_t i = 0; i < f->n_global_args; i++) {
		if (!strchr(f->global_args[i], '='))
			continue;
		if (kiln_shell_envlist_put(env, f->global_args[i], NULL) < 0)
			return NULL;
	}
	struct kiln_shell_env e = kiln_shell_envlist_env(env);
	struct kiln_shell_lex lex = { .escape = (char)f->ast->escape };
	cleanup_free char *out = NULL;
	if (kiln_shell_process_word(&lex, image, &e, &out, NULL) < 0)
		return NULL;
	return kiln_arena_strndup_packed(f->arena, out, strlen(out));
}

static int is_shell_word(const char *w)
{
	static const char *const shells[] = { "sh", "bash", "dash", "ash", "zsh", "ksh", NULL };
	const char *b = strrchr(w, '/');
	b = b ? b + 1 : w;
	for (size_t i = 0; shells[i]; i++)
		if (strcmp(b, shells[i]) == 0)
			return 1;
	return 0;
}

/* What a RUN runs as a shell script, and its parsed commands. */
static int build_run(struct lint_file *f, struct lint_instr *in, struct kiln_error *err)
{
	const struct kiln_df_node *n = in->node;
	in->sh_parsed = 1;
	in->sh.arena = f->arena;
	if (n->json_form) {
		const char **argv = kiln_arena_array(f->arena, n->n_args + 1, sizeof(*argv));
		if (!argv)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		for (size_t i = 0; i < n->n_args; i++)
			argv[i] = lint_ntext(n, &n->args[i]);
		return lint_sh_parse_argv(argv, n->n_args, &in->sh, err);
	}
	const char *cmdline = n->n_args ? lint_ntext(n, &n->args[0]) : "";
	/* lint_ntext() gave the text itself (no NUL byte in it) or "": its length is known */
	size_t cmdline_len = n->n_args && cmdline == n->args[0].str ? n->args[0].len : 0;
	int r = lint_sh_parse_clean(cmdline, cmdline_len, &in->sh, err);
	if (r < 0)
		return r;
	const struct kiln_df_heredoc *hd = n->heredocs;
	if (!n->n_heredocs) {
		in->script = cmdline; /* the AST's */
		in->script_line = in->line;
		return 0;
	}
	/* `RUN <<EOF` runs the body with the shell; so does `RUN bash <<EOF`. */
	const char *p = cmdline;
	while (*p == ' ' || *p == '\t')
		p++;
	int body_is_script = lint_str_has_prefix(p, "<<");
	if (!body_is_script && in->sh.n >= 1 && is_shell_word(in->sh.cmds[0].argv[0])) {
		body_is_script = 1;
		for (size_t i = 1; i < in->sh.cmds[0].argc; i++)
			if (in->sh.cmds[0].argv[i][0] != '-')
				body_is_script = 0;
	}
	if (!body_is_script)
		return 0;
	struct kiln_buf body = KILN_BUF_INIT;
	if (hd->chomp)
		r = kiln_df_chomp_heredoc(hd->content.str, hd->content.len, &body);
	else
		r = kiln_buf_add(&body, hd->content.str, hd->content.len);
	if (r < 0) {
		kiln_buf_release(&body);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	int clean = strlen(body.buf) == body.len;
	r = clean ? lint_sh_parse_clean(body.buf, body.len, &in->sh, err)
		  : lint_sh_parse(body.buf, body.len, &in->sh, err);
	if (r < 0) {
		kiln_buf_release(&body);
		return r;
	}
	if (!clean) {
		kiln_buf_release(&body);
		return 0;
	}
	in->script = kiln_arena_strndup_packed(f->arena, body.buf, body.len);
	kiln_buf_release(&body);
	if (!in->script)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	in->script_line = hd->start_line;
	in->script_heredoc = 1;
	return 0;
}

static void shell_of(struct lint_stage *st, const struct kiln_df_node *n)
{
	if (!n->json_form || n->n_args == 0)
		return;
	const char *w = lint_ntext(n, &n->args[0]);
	const char *b = strrchr(w, '/');
	b = b ? b + 1 : w;
	st->shell0 = b; /* the AST's */
	st->shell_pipefail = 0;
	st->shell_nonposix = lint_str_has_prefix(b, "pwsh") || lint_str_has_prefix(b, "powershell") ||
			     lint_ci_equal(b, "cmd") || lint_ci_equal(b, "cmd.exe");
	for (size_t i = 1; i + 1 < n->n_args; i++) {
		const char *a = lint_ntext(n, &n->args[i]);
		if (a[0] == '-' && a[1] != '-' && strchr(a, 'o') &&
		    strcmp(lint_ntext(n, &n->args[i + 1]), "pipefail") == 0)
			st->shell_pipefail = 1;
	}
}

/* The stages stage s reads: its base, COPY --from, RUN --mount=from= (pushed on the stack). */
static void push_deps(const struct lint_file *f, size_t s, int *stack, size_t *sp)
{
	const struct lint_stage *st = &f->stages[s];
	if (st->base_stage >= 0)
		stack[(*sp)++] = st->base_stage;
	for (size_t i = st->first; i <= st->last && i < f->n_instrs; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if (in->onbuild)
			continue;
		const char *from = in->from;
		if (from) {
			int t = in->from_stage; /* the stage of in is s */
			/* a stage's number; strtol() only for what may be one (not "builder") */
			unsigned char c0 = (unsigned char)*from;
			if (t < 0 && (isdigit(c0) || isspace(c0) || c0 == '+' || c0 == '-')) {
				char *end = NULL;
				long idx = strtol(from, &end, 10);
				if (end && !*end && idx >= 0 && (size_t)idx < s)
					t = (int)idx;
			}
			if (t >= 0)
				stack[(*sp)++] = t;
		}
		if (in->cmd != KILN_DF_RUN)
			continue;
		for (size_t k = 0; k < in->node->n_flags; k++) {
			/* the flag's name first: most are not --mount, and need no strstr() */
			const struct kiln_df_text *fname = &in->node->flags[k].name;
			if (strcmp(lint_ntext(in->node, fname), "mount") != 0)
				continue;
			const char *v = lint_ntext(in->node, &in->node->flags[k].value);
			const char *fr = strstr(v, "from=");
			if (!fr)
				continue;
			if (fr != v && fr[-1] != ',')
				continue;
			char name[256];
			size_t len = strcspn(fr + 5, ",");
			if (len >= sizeof(name))
				continue;
			memcpy(name, fr + 5, len);
			name[len] = 0;
			int t = lint_stage_by_name(f, name, s);
			if (t >= 0)
				stack[(*sp)++] = t;
		}
	}
}

/*
 * Which stages the final stage needs. An explicit stack, not recursion: a
 * chain of thousands of stages must neither overflow the C stack nor stop
 * at a depth limit (which left the far end of long chains "dead").
 */
static int mark_needed(struct lint_file *f, size_t n_edges)
{
	/* one stage (most files): it is the final one, and all it could read (its base,
	 * COPY --from, RUN --mount=from=) are stages before it, of which there are none */
	if (f->n_stages == 1) {
		f->stages[0].needed = 1;
		return 0;
	}
	/* n_edges: the pushes of the COPYs, ADDs and RUN flags; one more per base, and the
	 * final stage */
	n_edges += 1 + f->n_stages;
	int *stack = kiln_arena_array_uninit(f->arena, n_edges, sizeof(*stack));
	if (!stack)
		return -KILN_ENOMEM;
	size_t sp = 0;
	stack[sp++] = (int)f->n_stages - 1;
	while (sp) {
		int s = stack[--sp];
		if (s < 0 || (size_t)s >= f->n_stages || f->stages[s].needed)
			continue;
		f->stages[s].needed = 1;
		push_deps(f, (size_t)s, stack, &sp);
	}
	return 0;
}

/* lint_ci_equal(w, "as"), without the call */
static inline int is_as(const char *w)
{
	return ascii_lower((unsigned char)w[0]) == 'a' && ascii_lower((unsigned char)w[1]) == 's' &&
	       !w[2];
}

int lint_model_build(struct lint_file *f, struct kiln_error *err)
{
	const struct kiln_df_ast *ast = f->ast;
	if (!(f->arena = f->spare ? f->spare : kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = global_args(f, err);
	if (r < 0)
		return r;
	/* not zeroed: each is written whole below, before anything reads it (a memset of
	 * the array cost ~1,000 instructions per file); the stages and their links too, a
	 * record as its FROM comes: a file has at most one per node, and a pass counting
	 * the FROMs cost more than the room */
	size_t cap = ast->n_nodes ? ast->n_nodes : 1;
	f->instrs = kiln_arena_array_uninit(f->arena, cap, sizeof(*f->instrs));
	f->stages = kiln_arena_array_uninit(f->arena, cap, sizeof(*f->stages));
	f->prev_same_name = kiln_arena_array_uninit(f->arena, cap, sizeof(*f->prev_same_name));
	if (!f->instrs || !f->stages || !f->prev_same_name)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int stage = -1;
	size_t n_edges = 0; /* mark_needed()'s pushes of COPY --from and RUN --mount=from= */
	for (size_t i = 0; i < ast->n_nodes; i++) {
		const struct kiln_df_node *n = &ast->nodes[i];
		struct lint_instr *in = &f->instrs[i];
		f->n_instrs = i + 1; /* a store, not a read-modify-write of the count */
		int onbuild = n->cmd == KILN_DF_ONBUILD && n->onbuild;
		const struct kiln_df_node *node = onbuild ? n->onbuild : n;
		/* member by member: a compound literal was a rep stos over the whole record
		 * before these stores */
		in->node = node;
		in->outer = n;
		in->cmd = node->cmd;
		in->line = n->start_line;
		in->end_line = n->end_line;
		in->onbuild = onbuild;
		in->from = NULL;
		in->from_stage = -1;
		in->sh = (struct lint_sh_script){ 0 };
		in->sh_parsed = 0;
		in->script = NULL;
		in->script_line = 0;
		in->script_heredoc = 0;
		if (in->cmd == KILN_DF_COPY || in->cmd == KILN_DF_ADD) {
			in->from = lint_flag(node, "from");
			/* the stages named so far (a COPY is no FROM: `stage` is its own) are all a
			 * later lookup would find before it: looked up once here, for the rules
			 * and push_deps() */
			if (in->from && stage >= 0)
				in->from_stage = lint_stage_by_name(f, in->from, (size_t)stage);
			n_edges++;
		}
		if (n->cmd == KILN_DF_FROM) {
			if (stage >= 0)
				f->stages[stage].last = i - 1;
			stage++;
			struct lint_stage *st = &f->stages[f->n_stages++];
			*st = (struct lint_stage){ .from = i, .first = i + 1, .base_stage = -1 };
			if (f->n_stages == NAME_SCAN_MAX + 1 && name_table(f, cap) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			/* the names as written are the AST's */
			const char *img = n->n_args ? lint_ntext(n, &n->args[0]) : "";
			st->image = img;
			st->image_exp = expand_image(f, img);
			if (n->n_args >= 3 && is_as(lint_ntext(n, &n->args[1]))) {
				st->name_raw = lint_ntext(n, &n->args[2]);
				if (!(st->name = lower_dup(f->arena, st->name_raw)))
					return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			}
			st->platform = lint_flag(n, "platform");
			const char *base = st->image_exp ? st->image_exp : st->image;
			st->base_stage = lint_stage_by_name(f, base, f->n_stages - 1);
			f->prev_same_name[f->n_stages - 1] = -1;
			if (st->name)
				name_add(f, f->n_stages - 1);
			if (st->base_stage >= 0) {
				struct lint_stage *b = &f->stages[st->base_stage];
				b->is_base = 1;
				st->shell0 = b->shell0;
				st->shell_pipefail = b->shell_pipefail;
				st->shell_nonposix = b->shell_nonposix;
			}
		}
		in->stage = stage;
		if (stage >= 0 && in->cmd == KILN_DF_SHELL && !in->onbuild)
			shell_of(&f->stages[stage], n);
		if (in->cmd == KILN_DF_RUN) {
			n_edges += node->n_flags;
			if ((r = build_run(f, in, err)) < 0)
				return r;
		}
	}
	if (f->n_stages) {
		f->stages[f->n_stages - 1].last = ast->n_nodes - 1;
		f->stages[f->n_stages - 1].final = 1;
		if (mark_needed(f, n_edges) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

void lint_model_release(struct lint_file *f)
{
	/* the scripts' commands and words are the arena's too */
	f->global_args = NULL;
	f->n_global_args = 0;
	if (f->arena == f->spare) /* NULL too: nothing to free */
		kiln_arena_reset(f->arena);
	else
		kiln_arena_free(f->arena);
	f->arena = NULL;
	f->instrs = NULL;
	f->stages = NULL;
	f->name_slots = f->prev_same_name = NULL;
	f->name_cap = 0;
	f->name_firsts = 0;
	f->n_instrs = f->n_stages = 0;
}
