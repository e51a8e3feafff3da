/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser directives, as BuildKit's DirectiveParser reads them: a leading
 * run of `# name=value` lines naming a known directive (syntax, escape,
 * check); the first other line ends the run. DetectSyntax also accepts
 * `// syntax=` lines and a whole-file JSON object, after an optional BOM and
 * shebang line.
 */
#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "internal.h"
#include "syntax.h"

/* Go's \s in RE2: [\t\n\f\r ] */
static int is_re_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int df_directive_line(const char *line, size_t len, const char *prefix, size_t *name_off,
		      size_t *name_len, size_t *val_off, size_t *val_len)
{
	size_t plen = strlen(prefix);
	if (len < plen || memcmp(line, prefix, plen) != 0)
		return 0;
	size_t i = plen;
	i += kiln_go_space_prefix(line + i, len - i);
	/* ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ */
	if (i >= len || !is_alpha(line[i]))
		return 0;
	size_t n0 = i;
	while (i < len && (is_alpha(line[i]) || (line[i] >= '0' && line[i] <= '9')))
		i++;
	size_t n1 = i;
	while (i < len && is_re_space(line[i]))
		i++;
	if (i >= len || line[i] != '=')
		return 0;
	i++;
	size_t ws = i;
	while (i < len && is_re_space(line[i]))
		i++;
	size_t v0, v1;
	if (i == len) {
		/* only white space after '=': the lazy group takes its last character */
		if (ws == len)
			return 0;
		v0 = len - 1;
		v1 = len;
	} else {
		v0 = i;
		v1 = len;
		while (v1 > v0 && is_re_space(line[v1 - 1]))
			v1--;
	}
	*name_off = n0;
	*name_len = n1 - n0;
	*val_off = v0;
	*val_len = v1 - v0;
	return 1;
}

static const char *const known[] = { "syntax", "escape", "check" };

const char *df_directive_name(int idx)
{
	return known[idx];
}

int df_directive_known(const char *name, size_t len)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(known); i++)
		if (strlen(known[i]) == len && memcmp(known[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * DirectiveParser.ParseAll over data with the given comment prefix: lines as
 * bufio.ScanLines gives them (one trailing CR dropped, a line over 64 KiB
 * ends the scan). Directives are appended to out with 1-based lines counted
 * from first_line. Stops at the first repeated directive (returning what it
 * found before, as BuildKit's callers see it) with its name in ret_dup.
 */
static int parse_all(const char *data, size_t len, const char *prefix, int first_line,
		     struct kiln_arena *a, struct kiln_df_directive **out, size_t *n,
		     size_t *alloc, char ret_dup[8])
{
	size_t pos = 0;
	int line = first_line;
	int seen[3] = { 0, 0, 0 };
	ret_dup[0] = '\0';
	while (pos < len) {
		const char *p = data + pos;
		size_t rem = len - pos;
		size_t window = rem > KILN_DF_MAX_LINE + 1 ? KILN_DF_MAX_LINE + 1 : rem;
		const char *nl = memchr(p, '\n', window);
		size_t ll;
		if (nl) {
			ll = (size_t) (nl - p);
			pos += ll + 1;
		} else if (rem > KILN_DF_MAX_LINE) {
			break;
		} else {
			ll = rem;
			pos = len;
		}
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		line++;
		size_t no, nl_, vo, vl;
		if (!df_directive_line(p, ll, prefix, &no, &nl_, &vo, &vl))
			break;
		char lname[8];
		if (nl_ >= sizeof(lname))
			break;
		for (size_t i = 0; i < nl_; i++)
			lname[i] = (char) (p[no + i] | 0x20);
		if (!df_directive_known(lname, nl_))
			break;
		int idx = lname[0] == 's' ? 0 : lname[0] == 'e' ? 1 : 2;
		if (seen[idx]) {
			memcpy(ret_dup, lname, nl_);
			ret_dup[nl_] = '\0';
			break;
		}
		seen[idx] = 1;
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 4;
			struct kiln_df_directive *nd = kiln_reallocarray(*out, na, sizeof(*nd));
			if (!nd)
				return -KILN_ENOMEM;
			*out = nd;
			*alloc = na;
		}
		struct kiln_df_directive *d = &(*out)[(*n)++];
		d->line = line;
		d->name.str = known[idx]; /* lname, which is a known name */
		d->name.len = nl_;
		if (df_text(a, p + vo, vl, &d->value) < 0)
			return -KILN_ENOMEM;
	}
	return 0;
}

int kiln_df_directives_parse_all(const char *data, size_t len, struct kiln_df_directives *ret,
				 struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->arena_ = kiln_arena_new();
	if (!ret->arena_)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct kiln_df_directive *items = NULL;
	size_t n = 0, alloc = 0;
	char dup[8];
	int r = parse_all(data, len, "#", 0, ret->arena_, &items, &n, &alloc, dup);
	if (r >= 0 && n) {
		ret->items = kiln_arena_array(ret->arena_, n, sizeof(*items));
		if (ret->items) {
			memcpy(ret->items, items, n * sizeof(*items));
			ret->len = n;
		} else {
			r = -KILN_ENOMEM;
		}
	}
	free(items);
	if (r < 0) {
		kiln_df_directives_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (dup[0]) {
		kiln_df_directives_release(ret);
		return kiln_fail(err, KILN_EPARSE, 0, "only one %s parser directive can be used",
				 dup);
	}
	return 0;
}

void kiln_df_directives_release(struct kiln_df_directives *d)
{
	if (!d)
		return;
	kiln_arena_free(d->arena_);
	memset(d, 0, sizeof(*d));
}

static int parse_directive(const char *key, const char *data, size_t len, int any_format,
			   struct kiln_df_syntax_directive *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->arena_ = kiln_arena_new();
	if (!ret->arena_)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct kiln_arena *a = ret->arena_;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	int line = 0;
	if (len >= 2 && data[0] == '#' && data[1] == '!') {
		const char *nl = memchr(data, '\n', len);
		size_t skip = nl ? (size_t) (nl - data) + 1 : len;
		data += skip;
		len -= skip;
		line = 1;
	}

	static const char *const prefixes[] = { "#", "//" };
	for (size_t pi = 0; pi < (any_format ? 2u : 1u); pi++) {
		struct kiln_df_directive *items = NULL;
		size_t n = 0, alloc = 0;
		char dup[8];
		int r = parse_all(data, len, prefixes[pi], line, a, &items, &n, &alloc, dup);
		if (r < 0) {
			free(items);
			kiln_df_syntax_directive_release(ret);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(items[i].name.str, key) != 0)
				continue;
			const char *v = items[i].value.str;
			const char *sp = memchr(v, ' ', items[i].value.len);
			ret->cmdline = items[i].value;
			ret->value.str = kiln_arena_strndup(
				a, v, sp ? (size_t) (sp - v) : items[i].value.len);
			ret->value.len = sp ? (size_t) (sp - v) : items[i].value.len;
			ret->line = items[i].line;
			free(items);
			if (!ret->value.str) {
				kiln_df_syntax_directive_release(ret);
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			}
			return 1;
		}
		free(items);
	}
	if (!any_format)
		return 0;
	struct kiln_df_text v;
	int r = df_json_object_string(data, len, key, a, &v);
	if (r < 0) {
		kiln_df_syntax_directive_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (r == 1) {
		ret->value = v;
		ret->cmdline = v;
		ret->line = line;
		return 1;
	}
	return 0;
}

int kiln_df_detect_syntax(const char *data, size_t len, struct kiln_df_syntax_directive *ret,
			  struct kiln_error *err)
{
	return parse_directive("syntax", data, len, 1, ret, err);
}

int kiln_df_parse_directive(const char *key, const char *data, size_t len,
			    struct kiln_df_syntax_directive *ret, struct kiln_error *err)
{
	return parse_directive(key, data, len, 0, ret, err);
}

void kiln_df_syntax_directive_release(struct kiln_df_syntax_directive *d)
{
	if (!d)
		return;
	kiln_arena_free(d->arena_);
	memset(d, 0, sizeof(*d));
}
