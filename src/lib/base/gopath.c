/* SPDX-License-Identifier: Apache-2.0 */
#include "base/gopath.h"

#include <stdint.h>
#include <string.h>

#include "base/gotext.h"

size_t kiln_go_clean(const char *s, size_t n, char *out)
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
static int get_esc(struct gm_str *chunk, int32_t *r)
{
	if (chunk->n == 0 || chunk->p[0] == '-' || chunk->p[0] == ']')
		return -1;
	if (chunk->p[0] == '\\') {
		gm_adv(chunk, 1);
		if (chunk->n == 0)
			return -1;
	}
	size_t w;
	*r = kiln_utf8_decode(chunk->p, chunk->n, &w);
	int bad = *r == KILN_RUNE_ERROR && w == 1;
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
			int32_t r = 0;
			if (!failed) {
				size_t w;
				r = kiln_utf8_decode(s.p, s.n, &w);
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
				int32_t lo, hi;
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
				size_t w;
				(void) kiln_utf8_decode(s.p, s.n, &w);
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

int kiln_go_match(const char *pattern, size_t plen, const char *name, size_t nlen)
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
