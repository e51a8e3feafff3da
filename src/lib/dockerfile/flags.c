/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the typed model: arena strings, located errors, "did you mean"
 * suggestions, and BuildKit's flag parser (instructions.BFlags): flags are
 * declared per instruction, then the node's `--name[=value]` words are
 * checked against them with BFlags' rules and messages.
 */
#include <stdio.h>
#include <string.h>

#include "goconv.h"
#include "model-internal.h"

char *df_astrndup(struct kiln_arena *a, const char *s, size_t len)
{
	if (!s)
		return NULL;
	return kiln_arena_strndup(a, s, len);
}

char *df_astrdup(struct kiln_arena *a, const char *s)
{
	return s ? kiln_arena_strndup(a, s, strlen(s)) : NULL;
}

int df_words_from_strv(struct kiln_arena *a, const struct kiln_strv *v,
		       struct kiln_df_words *ret)
{
	ret->n = v->len;
	ret->v = v->len ? kiln_arena_array(a, v->len + 1, sizeof(char *)) : NULL;
	if (v->len && !ret->v)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < v->len; i++)
		if (!(ret->v[i] = df_astrdup(a, v->items[i])))
			return -KILN_ENOMEM;
	return 0;
}

int df_words_copy(struct kiln_arena *a, const struct kiln_df_words *src,
		  struct kiln_df_words *ret)
{
	ret->n = src->n;
	ret->v = src->n ? kiln_arena_array(a, src->n + 1, sizeof(char *)) : NULL;
	if (src->n && !ret->v)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < src->n; i++)
		if (!(ret->v[i] = df_astrdup(a, src->v[i])))
			return -KILN_ENOMEM;
	return 0;
}

int df_oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int df_fail_linesv(struct kiln_error *err, enum kiln_err code, const char *file, int start, int end,
		   const char *fmt, va_list ap)
{
	int r = kiln_failv(err, code, 0, fmt, ap);
	df_error_locate(err, file, start, end);
	return r;
}

int df_fail_lines(struct kiln_error *err, enum kiln_err code, const char *file, int start, int end,
		  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = df_fail_linesv(err, code, file, start, end, fmt, ap);
	va_end(ap);
	return r;
}

void df_error_locate(struct kiln_error *err, const char *file, int start, int end)
{
	if (!err || err->pos.line)
		return;
	kiln_error_set_pos(err, file, start, 0);
	if (err->pos.line == start)
		err->pos.end_line = end > start ? end : start;
}

int df_error_suggest(struct kiln_error *err, int r, const char *val, const char *const *options,
		     size_t n, int case_sensitive)
{
	if (!err || err->code == KILN_ENOMEM)
		return r;
	cleanup_free char *owned = NULL;
	const char *match = df_suggest(val, options, n, case_sensitive, &owned);
	if (!match)
		return r;
	char *msg = kiln_asprintf("%s (did you mean %s?)", err->msg ? err->msg : "", match);
	if (!msg)
		return r;
	if (!err->msg_static)
		free(err->msg);
	err->msg = msg;
	err->msg_static = 0;
	return r;
}

/* room for every flag word of the node (a list never holds more) and a NULL
 * after them: the model's word lists are these arrays */
static const char **flag_list(struct df_bflags *bf)
{
	return kiln_arena_array(bf->a, bf->node->n_flags + 1, sizeof(char *));
}

static int ascii_lower_eq(const char *s, const char *lower)
{
	for (; *s && *lower; s++, lower++) {
		char c = (*s >= 'A' && *s <= 'Z') ? (char) (*s + 32) : *s;
		if (c != *lower)
			return 0;
	}
	return *s == *lower;
}

/* a[0..n) == b[0..n), for the short names of flags: no memcmp call */
static int short_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

int df_bflags_parse(struct df_bflags *bf, struct kiln_error *err)
{
	const struct kiln_df_node *node = bf->node;
	for (size_t i = 0; node && i < node->n_flags; i++) {
		const struct kiln_df_flag *fl = &node->flags[i];
		/* kiln_df_instr_parse() rejected flags with a NUL byte: len is the C string's */
		const char *raw = fl->raw.str;
		size_t rlen = fl->raw.len;
		int dashes = raw[0] == '-' && raw[1] == '-';
		if (dashes && rlen == 2)
			return 0;
		if (!dashes)
			return kiln_fail(err, KILN_EPARSE, 0, "arg should start with -- : %s", raw);
		/* the parser split raw after its "--" at the first '=' (push_flag) */
		const char *name = fl->name.str;
		size_t nlen = fl->name.len + 2;
		int eq = fl->has_value;
		const char *value = fl->value.str;
		struct df_flag *f = NULL;
		/* an instruction declares each name once: the first match is the one */
		for (size_t k = 0; k < bf->n; k++)
			if (bf->f[k].name_len == nlen - 2 && bf->f[k].name[0] == name[0] &&
			    short_eq(bf->f[k].name, name, nlen - 2)) {
				f = &bf->f[k];
				break;
			}
		if (!f) {
			int r = kiln_fail(err, KILN_EPARSE, 0, "unknown flag: %.*s", (int) nlen,
					  raw);
			const char *names[DF_MAX_FLAGS];
			for (size_t k = 0; k < bf->n; k++)
				names[k] = bf->f[k].name;
			cleanup_free char *arg = kiln_strndup(raw + 2, nlen - 2);
			if (!arg)
				return df_oom(err);
			return df_error_suggest(err, r, arg, names, bf->n, 1);
		}
		if (f->used && f->type != DF_FLAG_STRINGS)
			return kiln_fail(err, KILN_EPARSE, 0, "duplicate flag specified: %.*s",
					 (int) nlen, raw);
		f->used = 1;
		if (!bf->order && !(bf->order = flag_list(bf)))
			return df_oom(err);
		bf->order[bf->n_order++] = f->name;
		switch (f->type) {
		case DF_FLAG_BOOL:
			if (eq && !*value)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "missing a value on flag: %.*s", (int) nlen, raw);
			if (!*value || ascii_lower_eq(value, "true"))
				f->bval = 1;
			else if (ascii_lower_eq(value, "false"))
				f->bval = 0;
			else
				return kiln_fail(err, KILN_EPARSE, 0,
						 "expecting boolean value for flag %.*s, not: %s",
						 (int) nlen, raw, value);
			break;
		case DF_FLAG_STRING:
			if (!eq)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "missing a value on flag: %.*s", (int) nlen, raw);
			f->value = value;
			break;
		case DF_FLAG_STRINGS:
			if (!eq)
				return kiln_fail(err, KILN_EPARSE, 0,
						 "missing a value on flag: %.*s", (int) nlen, raw);
			if (!f->values && !(f->values = flag_list(bf)))
				return df_oom(err);
			f->values[f->n_values++] = value;
			break;
		}
	}
	return 0;
}
