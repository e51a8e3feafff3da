/* SPDX-License-Identifier: Apache-2.0 */
#include "ignore/golang.h"

#include <string.h>

/* Valid second-byte ranges per leading byte (RFC 3629, as unicode/utf8). */
size_t kiln_ignore_go_decode_rune(const char *s, size_t n, uint32_t *r)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0];
	if (c < 0x80) {
		*r = c;
		return 1;
	}
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	uint32_t v;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		*r = GO_RUNE_ERROR;
		return 1;
	}
	if (n < need || p[1] < lo || p[1] > hi) {
		*r = GO_RUNE_ERROR;
		return 1;
	}
	v = (v << 6) | (p[1] & 0x3F);
	for (size_t i = 2; i < need; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF) {
			*r = GO_RUNE_ERROR;
			return 1;
		}
		v = (v << 6) | (p[i] & 0x3F);
	}
	*r = v;
	return need;
}

size_t kiln_ignore_go_decode_last_rune(const char *s, size_t n, uint32_t *r)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t end = n, start = n - 1;
	if (p[start] < 0x80) {
		*r = p[start];
		return 1;
	}
	size_t lim = end >= 4 ? end - 4 : 0;
	/* Back up to the last byte that can start a rune, at most 3 steps. */
	while (start > lim && (p[start] & 0xC0) == 0x80)
		start--;
	uint32_t v;
	size_t w = kiln_ignore_go_decode_rune(s + start, end - start, &v);
	if (start + w != end) {
		*r = GO_RUNE_ERROR;
		return 1;
	}
	*r = v;
	return w;
}

size_t kiln_ignore_go_encode_rune(uint32_t r, char out[4])
{
	if (r > GO_MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
		r = GO_RUNE_ERROR;
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xC0 | (r >> 6));
		out[1] = (char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xE0 | (r >> 12));
		out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		out[2] = (char)(0x80 | (r & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (r >> 18));
	out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
	out[3] = (char)(0x80 | (r & 0x3F));
	return 4;
}

int kiln_ignore_go_is_space(uint32_t r)
{
	if (r <= 0xFF)
		return r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == ' ' ||
		       r == 0x85 || r == 0xA0;
	/* The White_Space characters above Latin-1 (unicode.White_Space). */
	return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
	       r == 0x202F || r == 0x205F || r == 0x3000;
}

void kiln_ignore_go_trim_space(const char **s, size_t *n)
{
	const char *p = *s;
	size_t len = *n;
	while (len > 0) {
		uint32_t r;
		size_t w = kiln_ignore_go_decode_rune(p, len, &r);
		/* An invalid byte decodes as U+FFFD, which is not a space. */
		if (!kiln_ignore_go_is_space(r))
			break;
		p += w;
		len -= w;
	}
	while (len > 0) {
		uint32_t r;
		size_t w = kiln_ignore_go_decode_last_rune(p, len, &r);
		if (!kiln_ignore_go_is_space(r))
			break;
		len -= w;
	}
	*s = p;
	*n = len;
}

size_t kiln_ignore_go_clean(const char *s, size_t n, char *out)
{
	if (n == 0) {
		out[0] = '.';
		out[1] = '\0';
		return 1;
	}
	int rooted = s[0] == '/';
	size_t r = 0, w = 0, dotdot = 0;
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == n || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && s[r + 1] == '.' && (r + 2 == n || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && s[r] != '/'; r++)
				out[w++] = s[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return w;
}

/* ---- filepath.Match ---- */

struct gm_str {
	const char *p;
	size_t n;
};

static void gm_adv(struct gm_str *s, size_t k)
{
	s->p += k;
	s->n -= k;
}

static void scan_chunk(struct gm_str *pattern, int *star, struct gm_str *chunk)
{
	*star = 0;
	while (pattern->n > 0 && pattern->p[0] == '*') {
		gm_adv(pattern, 1);
		*star = 1;
	}
	int inrange = 0;
	size_t i;
	for (i = 0; i < pattern->n; i++) {
		char c = pattern->p[i];
		if (c == '\\') {
			if (i + 1 < pattern->n)
				i++;
		} else if (c == '[') {
			inrange = 1;
		} else if (c == ']') {
			inrange = 0;
		} else if (c == '*' && !inrange) {
			break;
		}
	}
	chunk->p = pattern->p;
	chunk->n = i;
	gm_adv(pattern, i);
}

/* getEsc: one possibly escaped class character; -1 on a bad pattern. */
static int get_esc(struct gm_str *chunk, uint32_t *r)
{
	if (chunk->n == 0 || chunk->p[0] == '-' || chunk->p[0] == ']')
		return -1;
	if (chunk->p[0] == '\\') {
		gm_adv(chunk, 1);
		if (chunk->n == 0)
			return -1;
	}
	size_t w = kiln_ignore_go_decode_rune(chunk->p, chunk->n, r);
	int bad = *r == GO_RUNE_ERROR && w == 1;
	gm_adv(chunk, w);
	if (chunk->n == 0)
		bad = 1;
	return bad ? -1 : 0;
}

/*
 * matchChunk: 1 = the chunk matched a prefix of s (rest in *rest), 0 = no
 * match, -1 = bad pattern. The whole chunk is parsed even after the match
 * failed, so that a syntax error anywhere in it is reported.
 */
static int match_chunk(struct gm_str chunk, struct gm_str s, struct gm_str *rest)
{
	int failed = 0;
	while (chunk.n > 0) {
		if (!failed && s.n == 0)
			failed = 1;
		switch (chunk.p[0]) {
		case '[': {
			uint32_t r = 0;
			if (!failed) {
				size_t w = kiln_ignore_go_decode_rune(s.p, s.n, &r);
				gm_adv(&s, w);
			}
			gm_adv(&chunk, 1);
			int negated = 0;
			if (chunk.n > 0 && chunk.p[0] == '^') {
				negated = 1;
				gm_adv(&chunk, 1);
			}
			int match = 0, nrange = 0;
			for (;;) {
				if (chunk.n > 0 && chunk.p[0] == ']' && nrange > 0) {
					gm_adv(&chunk, 1);
					break;
				}
				uint32_t lo, hi;
				if (get_esc(&chunk, &lo) < 0)
					return -1;
				hi = lo;
				if (chunk.p[0] == '-') {
					gm_adv(&chunk, 1);
					if (get_esc(&chunk, &hi) < 0)
						return -1;
				}
				if (lo <= r && r <= hi)
					match = 1;
				nrange++;
			}
			if (match == negated)
				failed = 1;
			break;
		}
		case '?':
			if (!failed) {
				if (s.p[0] == '/')
					failed = 1;
				uint32_t r;
				size_t w = kiln_ignore_go_decode_rune(s.p, s.n, &r);
				gm_adv(&s, w);
			}
			gm_adv(&chunk, 1);
			break;
		case '\\':
			gm_adv(&chunk, 1);
			if (chunk.n == 0)
				return -1;
			/* fall through */
		default:
			if (!failed) {
				if (chunk.p[0] != s.p[0])
					failed = 1;
				gm_adv(&s, 1);
			}
			gm_adv(&chunk, 1);
			break;
		}
	}
	if (failed)
		return 0;
	*rest = s;
	return 1;
}

int kiln_ignore_go_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
	struct gm_str pat = { pattern, plen }, nm = { name, nlen };
	while (pat.n > 0) {
		int star;
		struct gm_str chunk, t;
		scan_chunk(&pat, &star, &chunk);
		if (star && chunk.n == 0)
			return memchr(nm.p, '/', nm.n) == NULL;
		int ok = match_chunk(chunk, nm, &t);
		if (ok > 0 && (t.n == 0 || pat.n > 0)) {
			nm = t;
			continue;
		}
		if (ok < 0)
			return -1;
		int advanced = 0;
		if (star) {
			for (size_t i = 0; i < nm.n && nm.p[i] != '/'; i++) {
				struct gm_str sub = { nm.p + i + 1, nm.n - i - 1 };
				ok = match_chunk(chunk, sub, &t);
				if (ok > 0) {
					if (pat.n == 0 && t.n > 0)
						continue;
					nm = t;
					advanced = 1;
					break;
				}
				if (ok < 0)
					return -1;
			}
		}
		if (advanced)
			continue;
		/* No match; still report a syntax error in the rest of the pattern. */
		while (pat.n > 0) {
			struct gm_str empty = { "", 0 }, dummy;
			scan_chunk(&pat, &star, &chunk);
			if (match_chunk(chunk, empty, &dummy) < 0)
				return -1;
		}
		return 0;
	}
	return nm.n == 0;
}
