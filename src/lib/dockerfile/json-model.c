/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln's JSON model of a parsed Dockerfile (docs/dockerfile-json.md):
 * everything in the AST plus the stages as FROM lines delimit them. JSON
 * strings must be UTF-8: bytes that are not become U+FFFD, as Go's
 * encoding/json would write them; NUL bytes are kept (\u0000).
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "base/gotext.h"
#include "internal.h"

static json_t *jstr(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t w;
		int32_t r = kiln_utf8_decode(s + i, len - i, &w);
		if (r == KILN_RUNE_ERROR && w == 1)
			break;
		i += w;
	}
	if (i == len)
		return json_stringn(s, len);
	cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
	for (i = 0; i < len;) {
		size_t w;
		int32_t r = kiln_utf8_decode(s + i, len - i, &w);
		char enc[4];
		if (kiln_buf_add(&b, enc, kiln_utf8_encode(r, enc)) < 0)
			return NULL;
		i += w;
	}
	return json_stringn(b.buf, b.len);
}

static json_t *jtext(const struct kiln_df_text *t)
{
	return jstr(t->str, t->len);
}

/* Set key to v (stolen); 0 or -1 when v is NULL or the set fails. */
static int put(json_t *obj, const char *key, json_t *v)
{
	if (!v)
		return -1;
	return json_object_set_new(obj, key, v);
}

static int push(json_t *arr, json_t *v)
{
	if (!v)
		return -1;
	return json_array_append_new(arr, v);
}

static json_t *comments_json(const struct kiln_df_comment *c, size_t n)
{
	cleanup(json_decrefp) json_t *arr = json_array();
	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		if (push(arr, o) < 0 || put(o, "line", json_integer(c[i].line)) < 0 ||
		    put(o, "text", jtext(&c[i].text)) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

static json_t *flags_json(const struct kiln_df_node *n)
{
	cleanup(json_decrefp) json_t *arr = json_array();
	if (!arr)
		return NULL;
	for (size_t i = 0; i < n->n_flags; i++) {
		const struct kiln_df_flag *f = &n->flags[i];
		json_t *o = json_object();
		if (push(arr, o) < 0 || put(o, "raw", jtext(&f->raw)) < 0 ||
		    put(o, "name", jtext(&f->name)) < 0 ||
		    put(o, "value", f->has_value ? jtext(&f->value) : json_null()) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

static json_t *heredocs_json(const struct kiln_df_node *n)
{
	cleanup(json_decrefp) json_t *arr = json_array();
	if (!arr)
		return NULL;
	for (size_t i = 0; i < n->n_heredocs; i++) {
		const struct kiln_df_heredoc *h = &n->heredocs[i];
		json_int_t fd =
			h->fd > (uint64_t) INT64_MAX ? (json_int_t) INT64_MAX : (json_int_t) h->fd;
		json_t *o = json_object();
		if (push(arr, o) < 0 || put(o, "name", jtext(&h->name)) < 0 ||
		    put(o, "content", jtext(&h->content)) < 0 ||
		    put(o, "expand", json_boolean(h->expand)) < 0 ||
		    put(o, "chomp", json_boolean(h->chomp)) < 0 ||
		    put(o, "fd", json_integer(fd)) < 0 ||
		    put(o, "start_line", json_integer(h->start_line)) < 0 ||
		    put(o, "end_line", json_integer(h->end_line)) < 0)
			return NULL;
	}
	return steal_ptr(&arr);
}

/* One instruction; `index` < 0 for an ONBUILD trigger (no index of its own). */
static json_t *node_json(const struct kiln_df_node *n, long index)
{
	cleanup(json_decrefp) json_t *o = json_object();
	cleanup(json_decrefp) json_t *args = json_array();
	if (!o || !args)
		return NULL;
	if (index >= 0 && put(o, "index", json_integer(index)) < 0)
		return NULL;
	for (size_t i = 0; i < n->n_args; i++)
		if (push(args, jtext(&n->args[i])) < 0)
			return NULL;
	if (put(o, "keyword", jtext(&n->keyword)) < 0 ||
	    put(o, "instruction", jtext(&n->keyword_lower)) < 0 ||
	    put(o, "known", json_boolean(n->cmd != KILN_DF_UNKNOWN)) < 0 ||
	    put(o, "start_line", json_integer(n->start_line)) < 0 ||
	    put(o, "end_line", json_integer(n->end_line)) < 0 ||
	    put(o, "original", jtext(&n->original)) < 0 || put(o, "flags", flags_json(n)) < 0 ||
	    put(o, "args", steal_ptr(&args)) < 0 ||
	    put(o, "json_form", json_boolean(n->json_form)) < 0 ||
	    put(o, "heredocs", heredocs_json(n)) < 0 ||
	    put(o, "onbuild", n->onbuild ? node_json(n->onbuild, -1) : json_null()) < 0)
		return NULL;
	return steal_ptr(&o);
}

/* strings.EqualFold(s, "as"): 's' also folds with U+017F (long s). */
static int is_as(const struct kiln_df_text *t)
{
	if (t->len == 2)
		return (t->str[0] | 0x20) == 'a' && (t->str[1] | 0x20) == 's';
	return t->len == 3 && (t->str[0] | 0x20) == 'a' && memcmp(t->str + 1, "\xC5\xBF", 2) == 0;
}

static json_t *stages_json(const struct kiln_df_ast *ast, json_t *instrs)
{
	cleanup(json_decrefp) json_t *stages = json_array();
	if (!stages)
		return NULL;
	json_t *cur = NULL, *list = NULL;
	for (size_t i = 0; i < ast->n_nodes; i++) {
		const struct kiln_df_node *n = &ast->nodes[i];
		if (n->cmd == KILN_DF_FROM) {
			const struct kiln_df_flag *platform = NULL;
			for (size_t f = 0; f < n->n_flags; f++)
				if (strcmp(n->flags[f].name.str, "platform") == 0)
					platform = &n->flags[f];
			cur = json_object();
			if (push(stages, cur) < 0)
				return NULL;
			list = json_array();
			if (!list)
				return NULL;
			if (put(cur, "index",
				json_integer((json_int_t) json_array_size(stages) - 1)) < 0 ||
			    put(cur, "name",
				n->n_args == 3 && is_as(&n->args[1]) ? jtext(&n->args[2])
								     : json_null()) < 0 ||
			    put(cur, "base", n->n_args ? jtext(&n->args[0]) : json_null()) < 0 ||
			    put(cur, "platform",
				platform && platform->has_value ? jtext(&platform->value)
								: json_null()) < 0 ||
			    put(cur, "start_line", json_integer(n->start_line)) < 0 ||
			    put(cur, "end_line", json_integer(n->end_line)) < 0) {
				json_decref(list);
				return NULL;
			}
			if (put(cur, "instructions", list) < 0)
				return NULL;
		}
		json_t *jn = json_array_get(instrs, i);
		if (!cur) {
			if (put(jn, "stage", json_null()) < 0)
				return NULL;
			continue;
		}
		if (push(list, json_integer((json_int_t) i)) < 0 ||
		    put(cur, "end_line", json_integer(n->end_line)) < 0 ||
		    put(jn, "stage", json_integer((json_int_t) json_array_size(stages) - 1)) < 0)
			return NULL;
	}
	return steal_ptr(&stages);
}

static json_t *ast_json(const struct kiln_df_ast *ast)
{
	cleanup(json_decrefp) json_t *o = json_object();
	cleanup(json_decrefp) json_t *dirs = json_array();
	cleanup(json_decrefp) json_t *instrs = json_array();
	cleanup(json_decrefp) json_t *warns = json_array();
	char esc[2] = { (char) ast->escape, 0 };
	if (!o || !dirs || !instrs || !warns)
		return NULL;
	for (size_t i = 0; i < ast->n_directives; i++) {
		const struct kiln_df_directive *d = &ast->directives[i];
		json_t *jd = json_object();
		if (push(dirs, jd) < 0 || put(jd, "name", jtext(&d->name)) < 0 ||
		    put(jd, "value", jtext(&d->value)) < 0 ||
		    put(jd, "line", json_integer(d->line)) < 0)
			return NULL;
	}
	for (size_t i = 0; i < ast->n_nodes; i++) {
		const struct kiln_df_node *n = &ast->nodes[i];
		json_t *jn = node_json(n, (long) i);
		if (push(instrs, jn) < 0 ||
		    put(jn, "comments", comments_json(n->comments, n->n_comments)) < 0)
			return NULL;
	}
	for (size_t i = 0; i < ast->n_warnings; i++) {
		const struct kiln_df_warning *w = &ast->warnings[i];
		json_t *jw = json_object();
		if (push(warns, jw) < 0 || put(jw, "line", json_integer(w->line)) < 0 ||
		    put(jw, "start_line", json_integer(w->start_line)) < 0 ||
		    put(jw, "short", jtext(&w->short_text)) < 0 ||
		    put(jw, "detail", jtext(&w->detail)) < 0 || put(jw, "url", jtext(&w->url)) < 0)
			return NULL;
	}
	json_t *stages = stages_json(ast, instrs);
	if (put(o, "version", json_integer(KILN_DF_JSON_VERSION)) < 0 ||
	    put(o, "file", jtext(&ast->filename)) < 0 || put(o, "escape", json_string(esc)) < 0 ||
	    put(o, "lines", json_integer(ast->n_lines)) < 0 ||
	    put(o, "start_line", json_integer(ast->start_line)) < 0 ||
	    put(o, "end_line", json_integer(ast->end_line)) < 0 ||
	    put(o, "directives", steal_ptr(&dirs)) < 0 || put(o, "stages", stages) < 0 ||
	    put(o, "instructions", steal_ptr(&instrs)) < 0 ||
	    put(o, "comments", comments_json(ast->comments, ast->n_comments)) < 0 ||
	    put(o, "warnings", steal_ptr(&warns)) < 0)
		return NULL;
	return steal_ptr(&o);
}

int kiln_df_to_json(const struct kiln_df_ast *ast, struct json_t **ret, struct kiln_error *err)
{
	json_t *o = ast_json(ast);
	if (!o)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = o;
	return 0;
}
