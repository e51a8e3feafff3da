/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Character classes and escapes of a Go regular expression: `[...]` with
 * ranges and negation, POSIX `[:name:]`, Perl `\d\s\w`, Unicode `\p{...}`
 * (Go's names, matched as its canonicalName does), and the single-rune
 * escapes. Errors carry Go's messages.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/gotext.h"
#include "base/unicode.h"
#include "ignore/regexp-parser.h"

int kiln_ignore_re_error(struct re_parser *p, const char *code, const char *expr, size_t len)
{
	return kiln_fail(p->err, KILN_EPARSE, 0, "%s: `%.*s`", code, (int)len, expr);
}

int kiln_ignore_re_oom(struct re_parser *p)
{
	return kiln_fail(p->err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- character classes ---- */

int kiln_ignore_re_cls_add(struct re_parser *p, uint32_t lo, uint32_t hi)
{
	if (p->ncls + 2 > p->cap_cls) {
		size_t ncap = p->cap_cls ? p->cap_cls * 2 : 32;
		uint32_t *n = kiln_reallocarray(p->cls, ncap, sizeof(*n));
		if (!n)
			return kiln_ignore_re_oom(p);
		p->cls = n;
		p->cap_cls = ncap;
	}
	p->cls[p->ncls++] = lo;
	p->cls[p->ncls++] = hi;
	return 0;
}

static int cls_add_table(struct re_parser *p, const struct kiln_urange *t, size_t n,
			 int negate)
{
	int r;
	if (!negate) {
		for (size_t i = 0; i < n; i++)
			if ((r = kiln_ignore_re_cls_add(p, t[i].lo, t[i].hi)) < 0)
				return r;
		return 0;
	}
	/* Tables are sorted and disjoint: add the gaps. */
	uint32_t next = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i].lo > next && (r = kiln_ignore_re_cls_add(p, next, t[i].lo - 1)) < 0)
			return r;
		next = t[i].hi + 1;
	}
	if (next <= KILN_MAX_RUNE && (r = kiln_ignore_re_cls_add(p, next, KILN_MAX_RUNE)) < 0)
		return r;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
}

/* Sort, merge and (if negated) complement p->cls; store it in the program. */
int kiln_ignore_re_cls_finish(struct re_parser *p, int negated, uint32_t *ret_off, uint32_t *ret_n)
{
	size_t n = p->ncls / 2, w = 0;
	qsort(p->cls, n, 2 * sizeof(uint32_t), cmp_range);
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = p->cls[2 * i], hi = p->cls[2 * i + 1];
		if (w > 0 && lo <= p->cls[2 * (w - 1) + 1] + 1) {
			if (hi > p->cls[2 * (w - 1) + 1])
				p->cls[2 * (w - 1) + 1] = hi;
			continue;
		}
		p->cls[2 * w] = lo;
		p->cls[2 * w + 1] = hi;
		w++;
	}
	struct kiln_ignore_re *re = p->re;
	size_t need = re->nranges + 2 * (w + 1);
	if (need > p->cap_ranges) {
		size_t ncap = p->cap_ranges ? p->cap_ranges : 32;
		while (ncap < need)
			ncap *= 2;
		uint32_t *nr = kiln_reallocarray(re->ranges, ncap, sizeof(*nr));
		if (!nr)
			return kiln_ignore_re_oom(p);
		re->ranges = nr;
		p->cap_ranges = ncap;
	}
	uint32_t *out = re->ranges + re->nranges;
	size_t k = 0;
	if (!negated) {
		memcpy(out, p->cls, 2 * w * sizeof(uint32_t));
		k = w;
	} else {
		uint32_t next = 0;
		for (size_t i = 0; i < w; i++) {
			if (p->cls[2 * i] > next) {
				out[2 * k] = next;
				out[2 * k + 1] = p->cls[2 * i] - 1;
				k++;
			}
			next = p->cls[2 * i + 1] + 1;
		}
		if (next <= KILN_MAX_RUNE) {
			out[2 * k] = next;
			out[2 * k + 1] = KILN_MAX_RUNE;
			k++;
		}
	}
	*ret_off = (uint32_t)re->nranges;
	*ret_n = (uint32_t)k;
	re->nranges += 2 * k;
	return 0;
}

struct group {
	const char *name;
	const char *ranges; /* lo/hi byte pairs */
};

/* Go's perl_groups.go: the ASCII classes. */
static const struct group perl_groups[] = {
	{ "\\d", "09" },
	{ "\\s", "\t\n\f\r  " },
	{ "\\w", "09AZ__az" },
};

static const struct group posix_groups[] = {
	{ "alnum", "09AZaz" },
	{ "alpha", "AZaz" },
	{ "ascii", "\x00\x7f" },
	{ "blank", "\t\t  " },
	{ "cntrl", "\x00\x1f\x7f\x7f" },
	{ "digit", "09" },
	{ "graph", "!~" },
	{ "lower", "az" },
	{ "print", " ~" },
	{ "punct", "!/:@[`{~" },
	{ "space", "\t\r  " },
	{ "upper", "AZ" },
	{ "word", "09AZ__az" },
	{ "xdigit", "09AFaf" },
};

/* "ascii" begins with a NUL byte, so group lengths are given explicitly. */
static size_t group_len(const struct group *g)
{
	return strcmp(g->name, "ascii") == 0 ? 2 : strcmp(g->name, "cntrl") == 0 ? 4 : strlen(g->ranges);
}

static int cls_add_group(struct re_parser *p, const struct group *g, int negate)
{
	struct kiln_urange t[8];
	size_t n = group_len(g) / 2;
	for (size_t i = 0; i < n; i++) {
		t[i].lo = (unsigned char)g->ranges[2 * i];
		t[i].hi = (unsigned char)g->ranges[2 * i + 1];
	}
	return cls_add_table(p, t, n, negate);
}

/* Perl class escape (\d \D \s \S \w \W) at s: 1 = consumed 2 bytes, 0 = none. */
int kiln_ignore_re_parse_perl_class(struct re_parser *p, const char *s, size_t n, int *r)
{
	if (n < 2 || s[0] != '\\')
		return 0;
	char c = s[1];
	int negate = c == 'D' || c == 'S' || c == 'W';
	char lower = negate ? (char)(c - 'A' + 'a') : c;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(perl_groups); i++)
		if (perl_groups[i].name[1] == lower) {
			*r = cls_add_group(p, &perl_groups[i], negate);
			return 1;
		}
	return 0;
}

/* POSIX [:name:] at s (which starts with "[:"): bytes consumed, 0 if none, <0 error. */
static int parse_named_class(struct re_parser *p, const char *s, size_t n, size_t *used)
{
	const char *end = NULL;
	for (size_t i = 2; i + 1 < n; i++)
		if (s[i] == ':' && s[i + 1] == ']') {
			end = s + i;
			break;
		}
	if (!end)
		return 0;
	size_t len = (size_t)(end - s) + 2;
	const char *name = s + 2;
	size_t nlen = (size_t)(end - name);
	int negate = 0;
	if (nlen > 0 && name[0] == '^') {
		negate = 1;
		name++;
		nlen--;
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(posix_groups); i++)
		if (strlen(posix_groups[i].name) == nlen &&
		    memcmp(posix_groups[i].name, name, nlen) == 0) {
			int r = cls_add_group(p, &posix_groups[i], negate);
			if (r < 0)
				return r;
			*used = len;
			return 1;
		}
	return kiln_ignore_re_error(p, "invalid character class range", s, len);
}

/* Go's canonicalName: first letter upper case, the rest lower, no '_', '-', ' '. */
static size_t canonical_name(const char *s, size_t n, char *out)
{
	size_t w = 0;
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '_' || c == '-' || c == ' ')
			continue;
		if (first) {
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			first = 0;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		out[w++] = c;
	}
	return w;
}

static const struct {
	const char *alias, *name;
} category_aliases[] = {
	{ "Cased_Letter", "LC" },	  { "Close_Punctuation", "Pe" },
	{ "Combining_Mark", "M" },	  { "Connector_Punctuation", "Pc" },
	{ "Control", "Cc" },		  { "Currency_Symbol", "Sc" },
	{ "Dash_Punctuation", "Pd" },	  { "Decimal_Number", "Nd" },
	{ "Enclosing_Mark", "Me" },	  { "Final_Punctuation", "Pf" },
	{ "Format", "Cf" },		  { "Initial_Punctuation", "Pi" },
	{ "Letter", "L" },		  { "Letter_Number", "Nl" },
	{ "Line_Separator", "Zl" },	  { "Lowercase_Letter", "Ll" },
	{ "Mark", "M" },		  { "Math_Symbol", "Sm" },
	{ "Modifier_Letter", "Lm" },	  { "Modifier_Symbol", "Sk" },
	{ "Nonspacing_Mark", "Mn" },	  { "Number", "N" },
	{ "Open_Punctuation", "Ps" },	  { "Other", "C" },
	{ "Other_Letter", "Lo" },	  { "Other_Number", "No" },
	{ "Other_Punctuation", "Po" },	  { "Other_Symbol", "So" },
	{ "Paragraph_Separator", "Zp" }, { "Private_Use", "Co" },
	{ "Punctuation", "P" },	  { "Separator", "Z" },
	{ "Space_Separator", "Zs" },	  { "Spacing_Mark", "Mc" },
	{ "Surrogate", "Cs" },		  { "Symbol", "S" },
	{ "Titlecase_Letter", "Lt" },	  { "Unassigned", "Cn" },
	{ "Uppercase_Letter", "Lu" },
};

static const struct kiln_utable *find_table(const struct kiln_utable *t,
							size_t n, const char *canon, size_t clen)
{
	char buf[64];
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(t[i].name);
		if (l >= sizeof(buf))
			continue;
		size_t bl = canonical_name(t[i].name, l, buf);
		if (bl == clen && memcmp(buf, canon, clen) == 0)
			return &t[i];
	}
	return NULL;
}

/*
 * unicodeTable: the table for a \p name. *sign is -1 when the table must be
 * inverted (Assigned = not Cn). NULL when the name is unknown.
 */
static const struct kiln_utable *unicode_table(const char *name, size_t n, int *sign,
							  int *any)
{
	char canon[64];
	*sign = 1;
	*any = 0;
	if (n >= sizeof(canon))
		return NULL;
	size_t clen = canonical_name(name, n, canon);
#define IS(s) (clen == sizeof(s) - 1 && memcmp(canon, s, clen) == 0)
	if (IS("Any")) {
		*any = 1;
		return NULL;
	}
	if (IS("Assigned")) {
		*sign = -1;
		return find_table(kiln_unicode_categories, kiln_unicode_n_categories, "Cn", 2);
	}
	if (IS("Ascii")) {
		*any = 2;
		return NULL;
	}
#undef IS
	const struct kiln_utable *t =
		find_table(kiln_unicode_categories, kiln_unicode_n_categories, canon, clen);
	if (t)
		return t;
	t = find_table(kiln_unicode_scripts, kiln_unicode_n_scripts, canon, clen);
	if (t)
		return t;
	char buf[64];
	for (size_t i = 0; i < KILN_ARRAY_SIZE(category_aliases); i++) {
		size_t bl = canonical_name(category_aliases[i].alias,
					   strlen(category_aliases[i].alias), buf);
		if (bl == clen && memcmp(buf, canon, clen) == 0) {
			const char *real = category_aliases[i].name;
			return find_table(kiln_unicode_categories, kiln_unicode_n_categories, real,
					  strlen(real));
		}
	}
	return NULL;
}

static int check_utf8(struct re_parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t r;
		size_t w;
		r = (uint32_t)kiln_utf8_decode(s + i, n - i, &w);
		if (r == KILN_RUNE_ERROR && w == 1)
			return kiln_ignore_re_error(p, "invalid UTF-8", s + i, n - i);
		i += w;
	}
	return 0;
}

/* \p / \P class at s: 1 = consumed *used bytes, 0 = not one, <0 error. */
int kiln_ignore_re_parse_unicode_class(struct re_parser *p, const char *s, size_t n, size_t *used)
{
	if (n < 2 || s[0] != '\\' || (s[1] != 'p' && s[1] != 'P'))
		return 0;
	int sign = s[1] == 'P' ? -1 : 1;
	if (n == 2)
		return kiln_ignore_re_error(p, "invalid character class range", s, 2);
	uint32_t c;
	size_t w;
	c = (uint32_t)kiln_utf8_decode(s + 2, n - 2, &w);
	if (c == KILN_RUNE_ERROR && w == 1)
		return kiln_ignore_re_error(p, "invalid UTF-8", s + 2, n - 2);
	const char *name;
	size_t nlen, seq;
	if (c != '{') {
		seq = 2 + w;
		name = s + 2;
		nlen = w;
	} else {
		const char *end = memchr(s, '}', n);
		if (!end) {
			int r = check_utf8(p, s, n);
			if (r < 0)
				return r;
			return kiln_ignore_re_error(p, "invalid character class range", s, n);
		}
		seq = (size_t)(end - s) + 1;
		name = s + 3;
		nlen = (size_t)(end - name);
		int r = check_utf8(p, name, nlen);
		if (r < 0)
			return r;
	}
	if (nlen > 0 && name[0] == '^') {
		sign = -sign;
		name++;
		nlen--;
	}
	int tsign, any;
	const struct kiln_utable *t = unicode_table(name, nlen, &tsign, &any);
	int r;
	if (any == 1) {
		struct kiln_urange all = { 0, KILN_MAX_RUNE };
		r = cls_add_table(p, &all, 1, sign < 0);
	} else if (any == 2) {
		struct kiln_urange ascii = { 0, 0x7F };
		r = cls_add_table(p, &ascii, 1, sign < 0);
	} else if (!t) {
		return kiln_ignore_re_error(p, "invalid character class range", s, seq);
	} else {
		r = cls_add_table(p, t->ranges, t->n, sign * tsign < 0);
	}
	if (r < 0)
		return r;
	*used = seq;
	return 1;
}

static int is_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int unhex(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* parseEscape: the rune of the escape at s (s[0] == '\\'); *used bytes consumed. */
int kiln_ignore_re_parse_escape(struct re_parser *p, const char *s, size_t n, uint32_t *ret, size_t *used)
{
	if (n < 2)
		return kiln_fail(p->err, KILN_EPARSE, 0, "trailing backslash at end of expression: ``");
	size_t t = 1;
	uint32_t c;
	size_t w;
	c = (uint32_t)kiln_utf8_decode(s + t, n - t, &w);
	if (c == KILN_RUNE_ERROR && w == 1)
		return kiln_ignore_re_error(p, "invalid UTF-8", s + t, n - t);
	t += w;
	if (c < 0x80 && !is_alnum(c)) {
		*ret = c;
		*used = t;
		return 0;
	}
	switch (c) {
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		/* A single non-zero digit would be a backreference: not supported. */
		if (t == n || s[t] < '0' || s[t] > '7')
			break;
		/* fall through */
	case '0': {
		uint32_t v = c - '0';
		for (int i = 1; i < 3; i++) {
			if (t == n || s[t] < '0' || s[t] > '7')
				break;
			v = v * 8 + (uint32_t)(s[t] - '0');
			t++;
		}
		*ret = v;
		*used = t;
		return 0;
	}
	case 'x': {
		if (t == n)
			break;
		c = (uint32_t)kiln_utf8_decode(s + t, n - t, &w);
		if (c == KILN_RUNE_ERROR && w == 1)
			return kiln_ignore_re_error(p, "invalid UTF-8", s + t, n - t);
		t += w;
		if (c == '{') {
			int nhex = 0;
			uint32_t v = 0;
			int bad = 0;
			for (;;) {
				if (t == n) {
					bad = 1;
					break;
				}
				c = (uint32_t)kiln_utf8_decode(s + t, n - t, &w);
				if (c == KILN_RUNE_ERROR && w == 1)
					return kiln_ignore_re_error(p, "invalid UTF-8", s + t, n - t);
				t += w;
				if (c == '}')
					break;
				int d = unhex(c);
				if (d < 0) {
					bad = 1;
					break;
				}
				v = v * 16 + (uint32_t)d;
				if (v > KILN_MAX_RUNE) {
					bad = 1;
					break;
				}
				nhex++;
			}
			if (bad || nhex == 0)
				break;
			*ret = v;
			*used = t;
			return 0;
		}
		int x = unhex(c);
		if (t == n) {
			/* nextRune on "" yields RuneError without an error in Go. */
			break;
		}
		c = (uint32_t)kiln_utf8_decode(s + t, n - t, &w);
		if (c == KILN_RUNE_ERROR && w == 1)
			return kiln_ignore_re_error(p, "invalid UTF-8", s + t, n - t);
		t += w;
		int y = unhex(c);
		if (x < 0 || y < 0)
			break;
		*ret = (uint32_t)(x * 16 + y);
		*used = t;
		return 0;
	}
	case 'a':
		*ret = '\a';
		*used = t;
		return 0;
	case 'f':
		*ret = '\f';
		*used = t;
		return 0;
	case 'n':
		*ret = '\n';
		*used = t;
		return 0;
	case 'r':
		*ret = '\r';
		*used = t;
		return 0;
	case 't':
		*ret = '\t';
		*used = t;
		return 0;
	case 'v':
		*ret = '\v';
		*used = t;
		return 0;
	default:
		break;
	}
	return kiln_ignore_re_error(p, "invalid escape sequence", s, t);
}

/* parseClassChar. */
static int parse_class_char(struct re_parser *p, const char *s, size_t n, const char *whole,
			    size_t whole_len, uint32_t *ret, size_t *used)
{
	if (n == 0)
		return kiln_ignore_re_error(p, "missing closing ]", whole, whole_len);
	if (s[0] == '\\')
		return kiln_ignore_re_parse_escape(p, s, n, ret, used);
	size_t w;
	*ret = (uint32_t)kiln_utf8_decode(s, n, &w);
	if (*ret == KILN_RUNE_ERROR && w == 1)
		return kiln_ignore_re_error(p, "invalid UTF-8", s, n);
	*used = w;
	return 0;
}

/* parseClass up to the closing ']': s[0] == '['. */
int kiln_ignore_re_parse_class_items(struct re_parser *p, const char *s, size_t n, int *negated,
				     size_t *used)
{
	size_t t = 1;
	int r;
	p->ncls = 0;
	*negated = 0;
	if (t < n && s[t] == '^') {
		*negated = 1;
		t++;
	}
	int first = 1;
	while (t == n || s[t] != ']' || first) {
		first = 0;
		size_t u = 0;
		if (n - t > 2 && s[t] == '[' && s[t + 1] == ':') {
			r = parse_named_class(p, s + t, n - t, &u);
			if (r < 0)
				return r;
			if (r > 0) {
				t += u;
				continue;
			}
		}
		r = kiln_ignore_re_parse_unicode_class(p, s + t, n - t, &u);
		if (r < 0)
			return r;
		if (r > 0) {
			t += u;
			continue;
		}
		int pr = 0;
		if (kiln_ignore_re_parse_perl_class(p, s + t, n - t, &pr)) {
			if (pr < 0)
				return pr;
			t += 2;
			continue;
		}
		size_t rng = t;
		uint32_t lo = 0, hi = 0;
		r = parse_class_char(p, s + t, n - t, s, n, &lo, &u);
		if (r < 0)
			return r;
		t += u;
		hi = lo;
		if (n - t >= 2 && s[t] == '-' && s[t + 1] != ']') {
			t++;
			r = parse_class_char(p, s + t, n - t, s, n, &hi, &u);
			if (r < 0)
				return r;
			t += u;
			if (hi < lo)
				return kiln_ignore_re_error(p, "invalid character class range", s + rng, t - rng);
		}
		if ((r = kiln_ignore_re_cls_add(p, lo, hi)) < 0)
			return r;
	}
	t++; /* the ']' */
	*used = t;
	return 0;
}

