/* SPDX-License-Identifier: Apache-2.0 */
#include "goconv.h"

#include <errno.h>
#include <limits.h>
#include <math.h> /* isinf: a macro, no libm */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strv.h"
#include "base/gotext.h"


static int digits_uint(const char *s, int base, uint64_t max, uint64_t *ret)
{
	if (!*s)
		return DF_GO_NUM_SYNTAX;
	uint64_t v = 0;
	int overflow = 0;
	for (const char *p = s; *p; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned) (*p - '0');
		else
			return DF_GO_NUM_SYNTAX;
		if (d >= (unsigned) base)
			return DF_GO_NUM_SYNTAX;
		if (overflow)
			continue;
		if (v > (max - d) / (uint64_t) base)
			overflow = 1;
		else
			v = v * (uint64_t) base + d;
	}
	if (overflow)
		return DF_GO_NUM_RANGE;
	*ret = v;
	return DF_GO_NUM_OK;
}

int df_go_parse_uint(const char *s, int base, int bits, uint64_t *ret)
{
	uint64_t max = bits >= 64 ? UINT64_MAX : (((uint64_t) 1 << bits) - 1);
	return digits_uint(s, base, max, ret);
}

int df_go_parse_int(const char *s, int base, int bits, int64_t *ret)
{
	int neg = 0;
	const char *p = s;
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	uint64_t cutoff = (uint64_t) 1 << (bits - 1);
	uint64_t v;
	int r = digits_uint(p, base, UINT64_MAX, &v);
	if (r == DF_GO_NUM_SYNTAX)
		return r;
	if (r == DF_GO_NUM_RANGE || (!neg && v >= cutoff) || (neg && v > cutoff))
		return DF_GO_NUM_RANGE;
	*ret = neg ? (int64_t) (0 - v) : (int64_t) v;
	return DF_GO_NUM_OK;
}

int df_go_num_fail(struct kiln_error *err, const char *fn, const char *s, int numerr)
{
	struct kiln_buf q = KILN_BUF_INIT;
	int r = kiln_go_quote(&q, s, strlen(s));
	if (r < 0) {
		kiln_buf_release(&q);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	r = kiln_fail(err, KILN_EPARSE, 0, "strconv.%s: parsing %s: %s", fn, q.buf,
		      numerr == DF_GO_NUM_RANGE ? "value out of range" : "invalid syntax");
	kiln_buf_release(&q);
	return r;
}

/* time.quote: printable ASCII kept (with \" and \\), every other byte as \xNN. */
static int time_quote(struct kiln_buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int r = kiln_buf_addch(out, '"');
	for (const unsigned char *p = (const unsigned char *) s; r >= 0 && *p; p++) {
		if (*p >= 0x80 || *p < 0x20) {
			char e[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 0xF] };
			r = kiln_buf_add(out, e, 4);
		} else {
			if (*p == '"' || *p == '\\')
				r = kiln_buf_addch(out, '\\');
			if (r >= 0)
				r = kiln_buf_addch(out, (char) *p);
		}
	}
	if (r >= 0)
		r = kiln_buf_addch(out, '"');
	return r;
}

static int duration_fail(struct kiln_error *err, const char *what, const char *unit,
			 const char *orig)
{
	struct kiln_buf q = KILN_BUF_INIT, u = KILN_BUF_INIT;
	int r = time_quote(&q, orig);
	if (r >= 0 && unit)
		r = time_quote(&u, unit);
	if (r < 0)
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	else if (unit)
		r = kiln_fail(err, KILN_EPARSE, 0, "time: unknown unit %s in duration %s", u.buf,
			      q.buf);
	else
		r = kiln_fail(err, KILN_EPARSE, 0, "time: %s %s", what, q.buf);
	kiln_buf_release(&q);
	kiln_buf_release(&u);
	return r;
}

struct duration_unit {
	const char *name;
	uint64_t ns;
};

static const struct duration_unit duration_units[] = {
	{ "ns", 1ULL },		  { "us", 1000ULL },
	{ "\xc2\xb5s", 1000ULL }, /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000ULL }, /* U+03BC Greek mu */
	{ "ms", 1000000ULL },	  { "s", 1000000000ULL },
	{ "m", 60000000000ULL },  { "h", 3600000000000ULL },
};

int df_go_parse_duration(const char *orig, int64_t *ret, struct kiln_error *err)
{
	const uint64_t lim = (uint64_t) 1 << 63;
	const char *s = orig;
	uint64_t d = 0;
	int neg = 0;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*ret = 0;
		return 0;
	}
	if (!*s)
		return duration_fail(err, "invalid duration", NULL, orig);
	while (*s) {
		uint64_t v = 0, f = 0;
		double scale = 1;
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return duration_fail(err, "invalid duration", NULL, orig);
		const char *start = s;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (v > lim / 10)
				return duration_fail(err, "invalid duration", NULL, orig);
			v = v * 10 + (uint64_t) (*s - '0');
			if (v > lim)
				return duration_fail(err, "invalid duration", NULL, orig);
		}
		int pre = s != start, post = 0;
		if (*s == '.') {
			s++;
			const char *fs = s;
			int overflow = 0;
			for (; *s >= '0' && *s <= '9'; s++) {
				if (overflow)
					continue;
				if (f > (lim - 1) / 10) {
					overflow = 1;
					continue;
				}
				uint64_t y = f * 10 + (uint64_t) (*s - '0');
				if (y > lim) {
					overflow = 1;
					continue;
				}
				f = y;
				scale *= 10;
			}
			post = s != fs;
		}
		if (!pre && !post)
			return duration_fail(err, "invalid duration", NULL, orig);
		size_t ul = 0;
		while (s[ul] && s[ul] != '.' && !(s[ul] >= '0' && s[ul] <= '9'))
			ul++;
		if (ul == 0)
			return duration_fail(err, "missing unit in duration", NULL, orig);
		const struct duration_unit *unit = NULL;
		for (size_t i = 0; i < KILN_ARRAY_SIZE(duration_units); i++)
			if (strlen(duration_units[i].name) == ul &&
			    memcmp(duration_units[i].name, s, ul) == 0)
				unit = &duration_units[i];
		if (!unit) {
			char *u = kiln_strndup(s, ul);
			if (!u)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			int r = duration_fail(err, NULL, u, orig);
			free(u);
			return r;
		}
		s += ul;
		if (v > lim / unit->ns)
			return duration_fail(err, "invalid duration", NULL, orig);
		v *= unit->ns;
		if (f > 0) {
			v += (uint64_t) ((double) f * ((double) unit->ns / scale));
			if (v > lim)
				return duration_fail(err, "invalid duration", NULL, orig);
		}
		d += v;
		if (d > lim)
			return duration_fail(err, "invalid duration", NULL, orig);
	}
	if (neg) {
		*ret = d == lim ? INT64_MIN : -(int64_t) d;
		return 0;
	}
	if (d > lim - 1)
		return duration_fail(err, "invalid duration", NULL, orig);
	*ret = (int64_t) d;
	return 0;
}

int df_go_ram_in_bytes(const char *s, int64_t *ret)
{
	/* go-units parseSize: the number ends at the last digit, dot or space */
	long sep = -1;
	for (long i = (long) strlen(s) - 1; i >= 0; i--)
		if ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == ' ') {
			sep = i;
			break;
		}
	if (sep < 0)
		return -1;
	size_t nlen = s[sep] == ' ' ? (size_t) sep : (size_t) sep + 1;
	const char *sfx = s + sep + 1;
	char num[64];
	if (nlen == 0 || nlen >= sizeof(num))
		return -1;
	memcpy(num, s, nlen);
	num[nlen] = '\0';
	/* strconv.ParseFloat's decimal grammar: [+-] digits [. digits] [e [+-] digits] */
	const char *p = num;
	if (*p == '+' || *p == '-')
		p++;
	int mant = 0;
	while (*p >= '0' && *p <= '9')
		p++, mant = 1;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, mant = 1;
	}
	if (!mant)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return -1;
	errno = 0;
	double size = strtod(num, NULL);
	if (errno == ERANGE && isinf(size))
		return -1;
	if (size < 0)
		return -1;
	size_t sl = strlen(sfx);
	if (sl > 3)
		return -1;
	if (sl > 0) {
		char l[4] = { 0 };
		for (size_t i = 0; i < sl; i++)
			l[i] = (char) ((sfx[i] >= 'A' && sfx[i] <= 'Z') ? sfx[i] + 32 : sfx[i]);
		if (l[0] == 'b') {
			if (sl > 1)
				return -1;
		} else {
			static const char units[] = "kmgtp";
			const char *u = strchr(units, l[0]);
			if (!u || !l[0])
				return -1;
			for (long k = 0; k <= u - units; k++)
				size *= 1024.0;
			if ((sl == 2 && l[1] != 'b') || (sl == 3 && strcmp(l + 1, "ib") != 0))
				return -1;
		}
	}
	/* Go's int64(float64) of an out-of-range value is undefined; refuse it */
	if (size >= 9223372036854775808.0)
		return -1;
	*ret = (int64_t) size;
	return 0;
}

struct signal_name {
	const char *name;
	int num;
};

static const struct signal_name signals[] = {
	{ "ABRT", 6 },	  { "ALRM", 14 },  { "BUS", 7 },   { "CHLD", 17 }, { "CLD", 17 },
	{ "CONT", 18 },	  { "FPE", 8 },	   { "HUP", 1 },   { "ILL", 4 },   { "INT", 2 },
	{ "IO", 29 },	  { "IOT", 6 },	   { "KILL", 9 },  { "PIPE", 13 }, { "POLL", 29 },
	{ "PROF", 27 },	  { "PWR", 30 },   { "QUIT", 3 },  { "SEGV", 11 }, { "STKFLT", 16 },
	{ "STOP", 19 },	  { "SYS", 31 },   { "TERM", 15 }, { "TRAP", 5 },  { "TSTP", 20 },
	{ "TTIN", 21 },	  { "TTOU", 22 },  { "URG", 23 },  { "USR1", 10 }, { "USR2", 12 },
	{ "VTALRM", 26 }, { "WINCH", 28 }, { "XCPU", 24 }, { "XFSZ", 25 }, { "RTMIN", 34 },
	{ "RTMAX", 64 },
};

/* strings.ToUpper for what can spell a signal name: ASCII, plus the two
 * non-ASCII runes whose upper case is ASCII ('ſ' -> 'S', 'ı' -> 'I'). */
static int go_upper_ascii(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *) s; *p;) {
		char c;
		if (p[0] == 0xC5 && p[1] == 0xBF) {
			c = 'S';
			p += 2;
		} else if (p[0] == 0xC4 && p[1] == 0xB1) {
			c = 'I';
			p += 2;
		} else if (*p >= 0x80) {
			return -1;
		} else {
			c = (char) ((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
			p++;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

int df_go_parse_signal(const char *s, int *ret)
{
	int64_t n;
	if (df_go_parse_int(s, 10, 64, &n) == DF_GO_NUM_OK) {
		if (n == 0 || n < INT_MIN || n > INT_MAX)
			return -1;
		*ret = (int) n;
		return 0;
	}
	char up[32];
	if (go_upper_ascii(s, up, sizeof(up)) < 0)
		return -1;
	const char *name = strncmp(up, "SIG", 3) == 0 ? up + 3 : up;
	for (size_t i = 0; i < KILN_ARRAY_SIZE(signals); i++)
		if (strcmp(name, signals[i].name) == 0) {
			*ret = signals[i].num;
			return 0;
		}
	/* RTMIN+1 .. RTMIN+15 and RTMAX-14 .. RTMAX-1 */
	int base = 0, sign = 0;
	const char *rest = NULL;
	if (strncmp(name, "RTMIN+", 6) == 0)
		base = 34, sign = 1, rest = name + 6;
	else if (strncmp(name, "RTMAX-", 6) == 0)
		base = 64, sign = -1, rest = name + 6;
	if (rest && rest[0] >= '1' && rest[0] <= '9') {
		uint64_t k;
		if (df_go_parse_uint(rest, 10, 8, &k) == DF_GO_NUM_OK && k >= 1 &&
		    k <= (sign > 0 ? 15U : 14U)) {
			*ret = base + sign * (int) k;
			return 0;
		}
	}
	return -1;
}

int df_go_csv_fields(const char *s, struct kiln_strv *out, struct kiln_error *err)
{
	struct kiln_buf f = KILN_BUF_INIT;
	const char *p = s;
	int r = 0;
	for (;;) {
		kiln_buf_reset(&f);
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p) {
					r = kiln_fail(err, KILN_EPARSE, 0,
						      "extraneous or missing \" in quoted-field");
					goto out;
				}
				if (*p == '"') {
					if (p[1] == '"') {
						if ((r = kiln_buf_addch(&f, '"')) < 0)
							goto oom;
						p += 2;
						continue;
					}
					p++;
					if (*p != ',' && *p) {
						r = kiln_fail(
							err, KILN_EPARSE, 0,
							"extraneous or missing \" in quoted-field");
						goto out;
					}
					break;
				}
				if ((r = kiln_buf_addch(&f, *p++)) < 0)
					goto oom;
			}
		} else {
			const char *e = p;
			while (*e && *e != ',') {
				if (*e == '"') {
					r = kiln_fail(err, KILN_EPARSE, 0,
						      "bare \" in non-quoted-field");
					goto out;
				}
				e++;
			}
			/* the field as it is: no unescaping, so no buffer */
			if ((r = kiln_strv_pushn(out, p, (size_t) (e - p))) < 0)
				goto oom;
			p = e;
			if (!*p)
				break;
			p++; /* the comma */
			continue;
		}
		if ((r = kiln_strv_push(out, f.buf)) < 0)
			goto oom;
		if (!*p)
			break;
		p++; /* the comma */
	}
	goto out;
oom:
	r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
out:
	kiln_buf_release(&f);
	return r;
}

static int32_t *runes_of(const char *s, size_t *n)
{
	size_t len = strlen(s);
	int32_t *v = kiln_calloc(len + 1, sizeof(int32_t));
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		size_t w;
		v[k++] = kiln_utf8_decode(s + i, len - i, &w);
		i += w;
	}
	*n = k;
	return v;
}

/* 1 and *len when `s` is all ASCII (each byte one rune), else 0 */
static int ascii_len(const char *s, size_t *len)
{
	size_t n = 0;
	unsigned char hi = 0;
	for (; s[n]; n++)
		hi |= (unsigned char) s[n];
	*len = n;
	return hi < 0x80;
}

/* the distance of two rune strings, `row` holding nb + 1 entries */
static size_t levenshtein_runes(const int32_t *a, size_t na, const int32_t *b, size_t nb,
				size_t *row)
{
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[nb];
}

#define LEVENSHTEIN_STACK 64

size_t df_levenshtein(const char *a, const char *b)
{
	/* short ASCII strings (each byte one rune): their runes and row on the stack */
	size_t la, lb, srow[LEVENSHTEIN_STACK];
	int32_t sa[LEVENSHTEIN_STACK], sb[LEVENSHTEIN_STACK];
	if (ascii_len(a, &la) && ascii_len(b, &lb) && la < LEVENSHTEIN_STACK &&
	    lb < LEVENSHTEIN_STACK) {
		for (size_t i = 0; i < la; i++)
			sa[i] = (unsigned char) a[i];
		for (size_t j = 0; j < lb; j++)
			sb[j] = (unsigned char) b[j];
		return levenshtein_runes(sa, la, sb, lb, srow);
	}
	size_t na = 0, nb = 0; /* runes_of() leaves them unset when it fails */
	cleanup_free int32_t *ra = runes_of(a, &na);
	cleanup_free int32_t *rb = runes_of(b, &nb);
	cleanup_free size_t *row = kiln_calloc(nb + 1, sizeof(size_t));
	if (!ra || !rb || !row)
		return SIZE_MAX;
	return levenshtein_runes(ra, na, rb, nb, row);
}

static char *ascii_case(const char *s, int upper)
{
	char *c = kiln_strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++) {
		if (upper && *p >= 'a' && *p <= 'z')
			*p = (char) (*p - 32);
		else if (!upper && *p >= 'A' && *p <= 'Z')
			*p = (char) (*p + 32);
	}
	return c;
}

const char *df_suggest(const char *val, const char *const *options, size_t n, int case_sensitive,
		       char **ret_owned)
{
	*ret_owned = NULL;
	cleanup_free char *lval = case_sensitive ? NULL : ascii_case(val, 0);
	const char *v = case_sensitive ? val : lval;
	if (!v)
		return NULL;
	const char *match = NULL;
	size_t mindist = 3, vlen, olen;
	int vascii = ascii_len(v, &vlen);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *lopt = case_sensitive ? NULL : ascii_case(options[i], 0);
		const char *o = case_sensitive ? options[i] : lopt;
		if (!o)
			return NULL;
		if (strcmp(v, o) == 0)
			return NULL;
		/* ASCII lengths that differ by mindist or more: at least that far apart */
		if (vascii && ascii_len(o, &olen) &&
		    (olen > vlen ? olen - vlen : vlen - olen) >= mindist)
			continue;
		size_t d = df_levenshtein(v, o);
		if (d < mindist) {
			match = options[i];
			mindist = d;
		}
	}
	if (!match || case_sensitive)
		return match;
	/* matchCase: the lower-cased option, upper-cased for an all upper-case value */
	int all_lower = strcmp(val, lval) == 0;
	cleanup_free char *uval = ascii_case(val, 1);
	if (!uval)
		return NULL;
	int upper = !all_lower && strcmp(val, uval) == 0;
	*ret_owned = ascii_case(match, upper);
	return *ret_owned;
}

int df_go_equal_fold_as(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	if (*p != 'a' && *p != 'A')
		return 0;
	p++;
	if (*p == 's' || *p == 'S')
		return p[1] == '\0';
	if (p[0] == 0xC5 && p[1] == 0xBF) /* U+017F long s */
		return p[2] == '\0';
	return 0;
}

int df_go_is_lower(const char *s)
{
	struct kiln_buf b = KILN_BUF_INIT;
	size_t len = strlen(s);
	if (kiln_go_to_lower(&b, s, len) < 0) {
		kiln_buf_release(&b);
		return -KILN_ENOMEM;
	}
	int eq = b.len == len && memcmp(b.buf, s, len) == 0;
	kiln_buf_release(&b);
	return eq;
}
