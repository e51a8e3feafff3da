/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of Go's encoding/json that BuildKit's parser depends on: whether
 * a text is valid JSON (the scanner's grammar, nesting limit included) and
 * how strings decode (escapes, surrogate pairs, invalid UTF-8 coerced to
 * U+FFFD). Only arrays of strings (exec-form arguments) and one string
 * member of an object (a JSON `syntax` directive) are ever extracted.
 */
#include <string.h>

#include "base/gotext.h"
#include "internal.h"

static size_t skip_ws(const char *s, size_t len, size_t p)
{
	while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
		p++;
	return p;
}

/* s[p] == '"': the end of the string (after the closing quote), or 0 on error. */
static size_t scan_string(const char *s, size_t len, size_t p)
{
	/* the bytes the loop below stops at: the quote, an escape, a control byte */
	static const unsigned char stop[256] = { [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1 };
	const unsigned char *u = (const unsigned char *) s;
	p++;
	while (p < len) {
		/* ordinary bytes four at a time */
		while (p + 4 <= len && !stop[u[p]] && !stop[u[p + 1]] && !stop[u[p + 2]] &&
		       !stop[u[p + 3]])
			p += 4;
		while (p < len && !stop[u[p]])
			p++;
		if (p >= len)
			break;
		unsigned char c = (unsigned char) s[p];
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (p + 1 >= len)
				return 0;
			switch (s[p + 1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				continue;
			case 'u':
				if (p + 6 > len)
					return 0;
				for (size_t i = 2; i < 6; i++)
					if (kiln_go_unhex(s[p + i]) < 0)
						return 0;
				p += 6;
				continue;
			default:
				return 0;
			}
		}
		p++;
	}
	return 0;
}

/* The maximum float64 rounds to +Inf from here up: 2^1024 - 2^970, exactly. */
static const char float_limit[] = "1797693134862315807937289714053034150799341327100378269361737789"
				  "804449682927647509466490179"
				  "7758720709633028641669288791094655554785194040263065748867150582"
				  "068190890200070838367627385"
				  "4845817711531764475730270069855571366959622842914819860834936475"
				  "292719074168444365510704342"
				  "711559699508093042880177904174497792";

/*
 * Whether Go's strconv.ParseFloat would report ErrRange (overflow) for the
 * number text s[0..len). Exact decimal comparison: no locale, no rounding.
 */
static int number_overflows(const char *s, size_t len)
{
	size_t i = 0;
	if (s[i] == '-')
		i++;
	/* digits of the mantissa without the point, and the point's position */
	size_t int_start = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	size_t int_end = i, frac_start = i, frac_end = i;
	if (i < len && s[i] == '.') {
		frac_start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		frac_end = i;
	}
	long long exp = 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		int neg = 0;
		if (s[i] == '+' || s[i] == '-')
			neg = s[i++] == '-';
		while (i < len) {
			if (exp < 100000000)
				exp = exp * 10 + (s[i] - '0');
			i++;
		}
		if (neg)
			exp = -exp;
	}
	/* first significant digit */
	size_t total = (int_end - int_start) + (frac_end - frac_start);
	size_t k = 0;
#define DIGIT(j)                                                                                   \
	((j) < int_end - int_start ? s[int_start + (j)]                                            \
				   : s[frac_start + (j) - (int_end - int_start)])
	while (k < total && DIGIT(k) == '0')
		k++;
	if (k == total)
		return 0; /* zero */
	/* value = 0.D * 10^E with D starting at digit k */
	long long e10 = (long long) (int_end - int_start) - (long long) k + exp;
	long long lim_e10 = (long long) sizeof(float_limit) - 1;
	if (e10 != lim_e10)
		return e10 > lim_e10;
	size_t j = 0;
	for (; k + j < total && j < sizeof(float_limit) - 1; j++) {
		char d = DIGIT(k + j);
		if (d != float_limit[j])
			return d > float_limit[j];
	}
	/* equal so far: at or above the limit only if D covers all of it */
	if (j == sizeof(float_limit) - 1)
		return 1;
	return 0;
#undef DIGIT
}

/* s[p] is '-' or a digit: the end of the number, or 0 on error. */
static size_t scan_number(const char *s, size_t len, size_t p)
{
	if (s[p] == '-') {
		p++;
		if (p >= len)
			return 0;
	}
	if (s[p] == '0') {
		p++;
	} else if (s[p] >= '1' && s[p] <= '9') {
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
	} else {
		return 0;
	}
	if (p < len && s[p] == '.') {
		p++;
		if (p >= len || s[p] < '0' || s[p] > '9')
			return 0;
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
	}
	if (p < len && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < len && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p >= len || s[p] < '0' || s[p] > '9')
			return 0;
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
	}
	return p;
}

static size_t scan_literal(const char *s, size_t len, size_t p)
{
	static const char *const lits[] = { "true", "false", "null" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(lits); i++) {
		size_t n = strlen(lits[i]);
		if (len - p >= n && memcmp(s + p, lits[i], n) == 0)
			return p + n;
	}
	return 0;
}

/*
 * Validate one JSON value starting at *pos (white space first allowed).
 * Iterative with a bit stack, so hostile nesting costs no C stack. Sets
 * *ret_overflow when a number would fail Go's float64 decoding. 1 valid
 * (*pos after the value), 0 invalid.
 */
static int scan_value(const char *s, size_t len, size_t *pos, int *ret_overflow)
{
	unsigned char stack[(DF_JSON_MAX_DEPTH + 8) / 8];
	size_t depth = 0, p = *pos;

value:
	p = skip_ws(s, len, p);
	if (p >= len)
		return 0;
	switch (s[p]) {
	case '{':
	case '[': {
		int obj = s[p] == '{';
		if (++depth > DF_JSON_MAX_DEPTH)
			return 0;
		size_t d = depth - 1;
		if (obj)
			stack[d / 8] |= (unsigned char) (1u << (d % 8));
		else
			stack[d / 8] &= (unsigned char) ~(1u << (d % 8));
		p = skip_ws(s, len, p + 1);
		if (p < len && s[p] == (obj ? '}' : ']')) {
			p++;
			depth--;
			goto after;
		}
		if (obj)
			goto key;
		goto value;
	}
	case '"':
		p = scan_string(s, len, p);
		if (!p)
			return 0;
		goto after;
	case 't':
	case 'f':
	case 'n':
		p = scan_literal(s, len, p);
		if (!p)
			return 0;
		goto after;
	default: {
		size_t start = p;
		if (s[p] != '-' && (s[p] < '0' || s[p] > '9'))
			return 0;
		p = scan_number(s, len, p);
		if (!p)
			return 0;
		if (number_overflows(s + start, p - start))
			*ret_overflow = 1;
		goto after;
	}
	}

key:
	p = skip_ws(s, len, p);
	if (p >= len || s[p] != '"')
		return 0;
	p = scan_string(s, len, p);
	if (!p)
		return 0;
	p = skip_ws(s, len, p);
	if (p >= len || s[p] != ':')
		return 0;
	p++;
	goto value;

after:
	if (depth == 0) {
		*pos = p;
		return 1;
	}
	p = skip_ws(s, len, p);
	if (p >= len)
		return 0;
	{
		size_t d = depth - 1;
		int obj = (stack[d / 8] >> (d % 8)) & 1;
		if (s[p] == ',') {
			p++;
			if (obj)
				goto key;
			goto value;
		}
		if (s[p] == (obj ? '}' : ']')) {
			p++;
			depth--;
			goto after;
		}
	}
	return 0;
}

/* Go's getu4: the \uXXXX at s[p], or -1. */
static int32_t getu4(const char *s, size_t len, size_t p)
{
	if (p + 6 > len || s[p] != '\\' || s[p + 1] != 'u')
		return -1;
	int32_t r = 0;
	for (size_t i = 2; i < 6; i++) {
		int h = kiln_go_unhex(s[p + i]);
		if (h < 0)
			return -1;
		r = r * 16 + h;
	}
	return r;
}

/* Decode the valid JSON string s[p..end) (quotes included) as Go does. */
static int decode_string(const char *s, size_t p, size_t end, struct kiln_arena *a,
			 struct kiln_df_text *ret)
{
	size_t i = p + 1, stop = end - 1;
	/* ASCII without escapes (most strings) decodes to itself */
	size_t plain = i;
	while (plain < stop && (unsigned char) s[plain] < 0x80 && s[plain] != '\\')
		plain++;
	if (plain == stop) {
		ret->str = kiln_arena_strndup_packed(a, s + i, stop - i);
		ret->len = stop - i;
		return ret->str ? 0 : -KILN_ENOMEM;
	}
	/* worst case growth: an invalid byte becomes 3 bytes */
	char *out = kiln_arena_alloc(a, (stop - i) * 3 + 1);
	if (!out)
		return -KILN_ENOMEM;
	size_t w = 0;
	while (i < stop) {
		unsigned char c = (unsigned char) s[i];
		if (c == '\\') {
			char e = s[i + 1];
			switch (e) {
			case 'b':
				out[w++] = '\b';
				break;
			case 'f':
				out[w++] = '\f';
				break;
			case 'n':
				out[w++] = '\n';
				break;
			case 'r':
				out[w++] = '\r';
				break;
			case 't':
				out[w++] = '\t';
				break;
			case 'u': {
				int32_t r = getu4(s, stop, i);
				i += 6;
				if (r >= 0xD800 && r < 0xE000) {
					int32_t r2 = getu4(s, stop, i);
					if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
						r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
						i += 6;
					} else {
						r = KILN_RUNE_ERROR;
					}
				}
				w += kiln_utf8_encode(r, out + w);
				continue;
			}
			default: /* '"', '\\', '/' */
				out[w++] = e;
			}
			i += 2;
		} else if (c < 0x80) {
			out[w++] = (char) c;
			i++;
		} else {
			size_t wd;
			int32_t r = kiln_utf8_decode(s + i, stop - i, &wd);
			w += kiln_utf8_encode(r, out + w);
			i += wd;
		}
	}
	out[w] = '\0';
	ret->str = out;
	ret->len = w;
	return 0;
}

/* The whole text is one valid JSON value: its start offset, or -1. */
static long whole_value(const char *s, size_t len, int *overflow)
{
	size_t p = skip_ws(s, len, 0);
	size_t start = p;
	if (!scan_value(s, len, &p, overflow))
		return -1;
	if (skip_ws(s, len, p) != len)
		return -1;
	return (long) start;
}

/*
 * The common exec form in one pass: an array of strings of printable ASCII
 * without escapes (each its own decoding), JSON white space around. 1 when
 * s is one (elements in out), 0 when it may be anything else (out as it
 * was: the full scan decides), -KILN_ENOMEM.
 */
static int simple_array(const char *s, size_t len, struct kiln_arena *a, struct df_textvec *out)
{
	size_t before = out->n;
	size_t p = skip_ws(s, len, 0);
	if (p == len || s[p] != '[')
		return 0;
	p = skip_ws(s, len, p + 1);
	if (p < len && s[p] == ']')
		goto close;
	/* one copy of the text for all elements, each ended by a NUL over its
	 * closing '"' (left in the arena when this is no simple array) */
	char *c = kiln_arena_strndup_packed(a, s, len);
	if (!c)
		return -KILN_ENOMEM;
	for (;;) {
		if (p == len || s[p] != '"')
			goto other;
		/* plain string bytes eight at a time, then the rest one by one */
		size_t q = df_skip_plain8(s, p + 1, len, 0x20, '"', '\\', '\\');
		while (q < len && (unsigned char) (s[q] - 0x20) < 0x60 && s[q] != '"' &&
		       s[q] != '\\')
			q++;
		if (q == len || s[q] != '"')
			goto other;
		c[q] = '\0';
		if (df_textvec_push(out, c + p + 1, q - p - 1) < 0)
			return -KILN_ENOMEM;
		p = skip_ws(s, len, q + 1);
		if (p < len && s[p] == ']')
			break;
		if (p == len || s[p] != ',')
			goto other;
		p = skip_ws(s, len, p + 1);
	}
close:
	if (skip_ws(s, len, p + 1) == len)
		return 1;
other:
	out->n = before;
	return 0;
}

int df_json_array_of_strings(const char *s, size_t len, struct kiln_arena *a,
			     struct df_textvec *out, int *ret_nonstring)
{
	int simple = simple_array(s, len, a, out);
	if (simple) {
		*ret_nonstring = 0;
		return simple;
	}
	int overflow = 0;
	long start = whole_value(s, len, &overflow);
	if (start < 0 || s[start] != '[' || overflow)
		return 0;
	size_t p = skip_ws(s, len, (size_t) start + 1);
	*ret_nonstring = 0;
	if (s[p] == ']')
		return 1;
	for (;;) {
		p = skip_ws(s, len, p);
		if (s[p] != '"') {
			*ret_nonstring = 1;
			return 1;
		}
		/* the text is valid JSON: a string of plain ASCII ends at the first '"',
		 * and is its own decoding; any other is scanned and decoded */
		size_t end = p + 1;
		while (end < len && (unsigned char) s[end] < 0x80 && s[end] != '"' &&
		       s[end] != '\\')
			end++;
		struct kiln_df_text t;
		int r;
		if (end < len && s[end] == '"') {
			end++;
			t.len = end - p - 2;
			r = (t.str = kiln_arena_strndup_packed(a, s + p + 1, t.len)) ? 0
										: -KILN_ENOMEM;
		} else {
			end = scan_string(s, len, p);
			r = decode_string(s, p, end, a, &t);
		}
		if (r < 0)
			return r;
		r = df_textvec_push(out, t.str, t.len);
		if (r < 0)
			return r;
		p = skip_ws(s, len, end);
		if (s[p] == ']')
			return 1;
		p++; /* ',' */
	}
}

int df_json_object_string(const char *s, size_t len, const char *key, struct kiln_arena *a,
			  struct kiln_df_text *ret)
{
	int overflow = 0;
	long start = whole_value(s, len, &overflow);
	if (start < 0 || s[start] != '{' || overflow)
		return 0;
	size_t p = skip_ws(s, len, (size_t) start + 1);
	int found = 0;
	size_t klen = strlen(key);
	if (s[p] == '}')
		return 0;
	for (;;) {
		p = skip_ws(s, len, p);
		size_t kend = scan_string(s, len, p);
		struct kiln_df_text k;
		int r = decode_string(s, p, kend, a, &k);
		if (r < 0)
			return r;
		p = skip_ws(s, len, kend) + 1; /* ':' */
		p = skip_ws(s, len, p);
		size_t vstart = p;
		int ov = 0;
		if (!scan_value(s, len, &p, &ov))
			return 0; /* cannot happen: validated above */
		if (k.len == klen && memcmp(k.str, key, klen) == 0) {
			if (s[vstart] == '"') {
				r = decode_string(s, vstart, p, a, ret);
				if (r < 0)
					return r;
				found = 1;
			} else {
				found = 0;
			}
		}
		p = skip_ws(s, len, p);
		if (s[p] == '}')
			return found;
		p++; /* ',' */
	}
}
