/* SPDX-License-Identifier: Apache-2.0 */
#include "store/json-writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

void kiln_jw_init(struct kiln_jw *w)
{
	memset(w, 0, sizeof(*w));
	kiln_buf_init(&w->out, 0);
}

void kiln_jw_init_indent(struct kiln_jw *w, int indent)
{
	kiln_jw_init(w);
	w->indent = indent;
}

void kiln_jw_release(struct kiln_jw *w)
{
	kiln_buf_release(&w->out);
}

static void put(struct kiln_jw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	int r = kiln_buf_add(&w->out, s, n);
	if (r < 0)
		w->failed = r;
}

static void putc_(struct kiln_jw *w, char c)
{
	put(w, &c, 1);
}

static void newline_indent(struct kiln_jw *w, int depth)
{
	putc_(w, '\n');
	for (int i = 0; i < depth * w->indent; i++)
		putc_(w, ' ');
}

/* Before any value: a comma if a sibling came before, unless it follows a key. */
static void begin_value(struct kiln_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->need_comma[w->depth])
		putc_(w, ',');
	if (w->indent && w->depth > 0)
		newline_indent(w, w->depth);
	w->need_comma[w->depth] = 1;
}

static void open_(struct kiln_jw *w, char c)
{
	begin_value(w);
	putc_(w, c);
	if (w->depth + 1 >= (int)KILN_ARRAY_SIZE(w->need_comma)) {
		if (!w->failed)
			w->failed = -KILN_ELIMIT;
		return;
	}
	w->depth++;
	w->need_comma[w->depth] = 0;
}

static void close_(struct kiln_jw *w, char c)
{
	int had_items = w->need_comma[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (w->indent && had_items)
		newline_indent(w, w->depth);
	putc_(w, c);
}

void kiln_jw_obj_open(struct kiln_jw *w)
{
	open_(w, '{');
}
void kiln_jw_obj_close(struct kiln_jw *w)
{
	close_(w, '}');
}
void kiln_jw_arr_open(struct kiln_jw *w)
{
	open_(w, '[');
}
void kiln_jw_arr_close(struct kiln_jw *w)
{
	close_(w, ']');
}

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static void put_string(struct kiln_jw *w, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t start = 0, i = 0;
	putc_(w, '"');
	while (i < n) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&') {
			i++;
			continue;
		}
		if (c < 0x80) {
			put(w, str + start, i - start);
			char esc[6];
			switch (c) {
			case '"':
				put(w, "\\\"", 2);
				break;
			case '\\':
				put(w, "\\\\", 2);
				break;
			case '\b':
				put(w, "\\b", 2);
				break;
			case '\f':
				put(w, "\\f", 2);
				break;
			case '\n':
				put(w, "\\n", 2);
				break;
			case '\r':
				put(w, "\\r", 2);
				break;
			case '\t':
				put(w, "\\t", 2);
				break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				put(w, esc, 6);
			}
			i++;
			start = i;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_len(s + i, n - i, &cp);
		if (len == 0) {
			put(w, str + start, i - start);
			put(w, "\\ufffd", 6);
			i++;
			start = i;
			continue;
		}
		if (cp == 0x2028 || cp == 0x2029) {
			put(w, str + start, i - start);
			put(w, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			i += len;
			start = i;
			continue;
		}
		i += len;
	}
	put(w, str + start, n - start);
	putc_(w, '"');
}

void kiln_jw_key(struct kiln_jw *w, const char *k)
{
	begin_value(w);
	put_string(w, k, strlen(k));
	if (w->indent)
		put(w, ": ", 2);
	else
		putc_(w, ':');
	w->after_key = 1;
}

void kiln_jw_strn(struct kiln_jw *w, const char *s, size_t n)
{
	begin_value(w);
	put_string(w, s, n);
}

void kiln_jw_str(struct kiln_jw *w, const char *s)
{
	kiln_jw_strn(w, s ? s : "", s ? strlen(s) : 0);
}

void kiln_jw_int(struct kiln_jw *w, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	begin_value(w);
	put(w, tmp, (size_t)n);
}

void kiln_jw_bool(struct kiln_jw *w, int v)
{
	begin_value(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void kiln_jw_null(struct kiln_jw *w)
{
	begin_value(w);
	put(w, "null", 4);
}

void kiln_jw_raw(struct kiln_jw *w, const char *json, size_t len)
{
	begin_value(w);
	put(w, json, len);
}

void kiln_jw_kstr(struct kiln_jw *w, const char *k, const char *s)
{
	kiln_jw_key(w, k);
	kiln_jw_str(w, s);
}

void kiln_jw_kstr_omitempty(struct kiln_jw *w, const char *k, const char *s)
{
	if (s && *s)
		kiln_jw_kstr(w, k, s);
}

void kiln_jw_kint(struct kiln_jw *w, const char *k, int64_t v)
{
	kiln_jw_key(w, k);
	kiln_jw_int(w, v);
}

void kiln_jw_kint_omitempty(struct kiln_jw *w, const char *k, int64_t v)
{
	if (v)
		kiln_jw_kint(w, k, v);
}

void kiln_jw_kbool_omitempty(struct kiln_jw *w, const char *k, int v)
{
	if (v) {
		kiln_jw_key(w, k);
		kiln_jw_bool(w, 1);
	}
}

int kiln_jw_finish(struct kiln_jw *w, char **ret, size_t *ret_len, struct kiln_error *err)
{
	if (w->failed == -KILN_ELIMIT)
		return kiln_fail(err, KILN_ELIMIT, 0, "JSON document nested too deeply");
	if (w->failed)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *s = kiln_buf_detach(&w->out, ret_len);
	if (!s)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = s;
	return 0;
}
