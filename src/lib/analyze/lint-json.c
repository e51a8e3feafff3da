/* SPDX-License-Identifier: Apache-2.0 */
#include "lint-json.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/alloc.h"
#include "base/decimal.h"
#include "base/gotext.h"

#define BYTES_OF(c) (0x0101010101010101ULL * (c))

static const char spaces[] = "                                ";
_Static_assert(sizeof(spaces) > 2 * LINT_JSON_MAX_DEPTH, "indentation for every depth");

/* Whether any byte of w needs more than a copy: a control character, '"',
 * '\\' or a byte >= 0x80 (UTF-8 to check). The borrows of the subtractions
 * can only add false positives, which the byte loop sorts out. */
static int word_needs_care(uint64_t w)
{
	uint64_t quote = w ^ BYTES_OF(0x22), backslash = w ^ BYTES_OF(0x5c);
	uint64_t hit = ((w - BYTES_OF(0x20)) & ~w) | ((quote - BYTES_OF(1)) & ~quote) |
		       ((backslash - BYTES_OF(1)) & ~backslash) | w;
	return (hit & BYTES_OF(0x80)) != 0;
}

#ifdef __SSE2__
/* Bit k set: byte k of the 16 at s needs more than a copy. A byte >= 0x80 is negative as a
 * signed one, so one compare finds it with the control characters. */
static inline unsigned care_mask16(const char *s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i m = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
				 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

size_t lint_utf8_width(const char *s, size_t n)
{
	size_t width;
	int32_t rune = kiln_utf8_decode(s, n, &width);
	return rune == KILN_RUNE_ERROR && width == 1 ? 0 : width;
}

char *lint_json_escape(char *o, const char *s, size_t n)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t i = 0;
	while (i < n) {
		uint64_t w;
#ifdef __SSE2__
		/* sixteen bytes at once where the vector compares are there: the plain ones
		 * before the first that needs care are copied together */
		if (n - i >= 16) {
			unsigned m = care_mask16(s + i);
			/* 16 bytes of room at o: it holds LINT_JSON_ESCAPE_MAX * (n - i) more */
			memcpy(o, s + i, 16);
			if (!m) {
				o += 16;
				i += 16;
				continue;
			}
			size_t k = (size_t)__builtin_ctz(m);
			o += k;
			i += k;
		} else if (n >= 16 && i > 0 && !care_mask16(s + n - 16)) {
			/* the tail, as for eight bytes below */
			memcpy(o - (16 - (n - i)), s + n - 16, 16);
			o += n - i;
			break;
		} else
#endif
		/* messages and hints are mostly plain ASCII: eight bytes at once */
		if (n - i >= sizeof(w)) {
			memcpy(&w, s + i, sizeof(w));
			if (!word_needs_care(w)) {
				memcpy(o, &w, sizeof(w));
				o += sizeof(w);
				i += sizeof(w);
				continue;
			}
		} else if (n >= sizeof(w) && i > 0) {
			/* the tail: the string's last eight bytes, which overlap bytes before i.
			 * All plain, those were copied as they are and sit just before o: the
			 * word is written over them, the same bytes. */
			size_t back = sizeof(w) - (n - i);
			memcpy(&w, s + n - sizeof(w), sizeof(w));
			if (!word_needs_care(w)) {
				memcpy(o - back, &w, sizeof(w));
				o += n - i;
				break;
			}
		}
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			size_t width = lint_utf8_width(s + i, n - i);
			if (width) {
				memcpy(o, s + i, width);
				o += width;
				i += width;
			} else {
				memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
				o += 3;
				i++;
			}
			continue;
		}
		i++;
		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			memcpy(o, "u00", 3);
			o += 3;
			*o++ = hexd[c >> 4];
			*o++ = hexd[c & 15];
		}
	}
	return o;
}

int lint_json_add_str(struct kiln_buf *b, const char *s)
{
	size_t n = strlen(s), room;
	if (kiln_mul_size(n, LINT_JSON_ESCAPE_MAX, &room) < 0 || kiln_add_size(room, 2, &room) < 0)
		return -KILN_ELIMIT;
	int r = kiln_buf_grow(b, room);
	if (r < 0)
		return r;
	char *o = b->buf + b->len;
	*o++ = '"';
	o = lint_json_escape(o, s, n);
	*o++ = '"';
	kiln_buf_setlen(b, (size_t)(o - b->buf));
	return 0;
}

void lint_json_begin(struct lint_json *j, struct kiln_buf *out)
{
	*j = (struct lint_json){ .out = out, .depth = -1 };
}

static void add(struct lint_json *j, const char *s, size_t n)
{
	if (j->r >= 0)
		j->r = kiln_buf_add(j->out, s, n);
}

/* The separator, new line and indentation before a value, and its key: one
 * growth of the buffer (keys are the writer's own, plain ASCII). */
static void start_value(struct lint_json *j, const char *key)
{
	if (j->r < 0)
		return;
	size_t indent = j->depth >= 0 ? 2 * (size_t)(j->depth + 1) : 0;
	size_t kl = key ? strlen(key) : 0;
	j->r = kiln_buf_grow(j->out, 2 + indent + (key ? kl + 4 : 0));
	if (j->r < 0)
		return;
	char *o = j->out->buf + j->out->len;
	if (j->depth >= 0) {
		if (j->has_items[j->depth])
			*o++ = ',';
		j->has_items[j->depth] = 1;
		*o++ = '\n';
		memcpy(o, spaces, indent);
		o += indent;
	}
	if (key) {
		*o++ = '"';
		memcpy(o, key, kl);
		o += kl;
		memcpy(o, "\": ", 3);
		o += 3;
	}
	kiln_buf_setlen(j->out, (size_t)(o - j->out->buf));
}

void lint_json_open(struct lint_json *j, const char *key, char bracket)
{
	start_value(j, key);
	add(j, &bracket, 1);
	if (j->r >= 0 && j->depth + 1 >= LINT_JSON_MAX_DEPTH)
		j->r = -KILN_ELIMIT;
	if (j->r < 0)
		return;
	j->depth++;
	j->has_items[j->depth] = 0;
}

void lint_json_close(struct lint_json *j, char bracket)
{
	if (j->r < 0)
		return;
	/* an empty container closes on the same line: "[]", "{}" */
	if (j->has_items[j->depth]) {
		add(j, "\n", 1);
		add(j, spaces, 2 * (size_t)j->depth);
	}
	add(j, bracket == '[' ? "]" : "}", 1);
	j->depth--;
}

void lint_json_str(struct lint_json *j, const char *key, const char *v)
{
	start_value(j, key);
	if (j->r >= 0)
		j->r = lint_json_add_str(j->out, v);
}

void lint_json_int(struct lint_json *j, const char *key, long long v)
{
	char num[KILN_DECIMAL_MAX], *p = kiln_decimal(num + sizeof(num), v);
	start_value(j, key);
	add(j, p, (size_t)(num + sizeof(num) - p));
}

int lint_json_end(struct lint_json *j)
{
	if (j->r >= 0 && j->depth != -1)
		j->r = -KILN_EINVAL; /* a container left open */
	return j->r;
}
