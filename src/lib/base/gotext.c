/* SPDX-License-Identifier: Apache-2.0 */
#include "base/gotext.h"

#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/unicode.h"

int32_t kiln_utf8_decode_scan(const char *str, size_t len, size_t *ret_width)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned char b0 = s[0];
	*ret_width = 1;
	if (b0 < 0x80)
		return b0;
	/* The valid second bytes per leading byte (RFC 3629, as unicode/utf8 checks them). */
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF;
	int32_t r;
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		need = 2;
		r = b0 & 0x1F;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		need = 3;
		r = b0 & 0x0F;
		if (b0 == 0xE0)
			lo = 0xA0; /* overlong */
		else if (b0 == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		need = 4;
		r = b0 & 0x07;
		if (b0 == 0xF0)
			lo = 0x90; /* overlong */
		else if (b0 == 0xF4)
			hi = 0x8F; /* past U+10FFFF */
	} else {
		return KILN_RUNE_ERROR;
	}
	if (len < need || s[1] < lo || s[1] > hi)
		return KILN_RUNE_ERROR;
	r = (r << 6) | (s[1] & 0x3F);
	for (size_t i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return KILN_RUNE_ERROR;
		r = (r << 6) | (s[i] & 0x3F);
	}
	*ret_width = need;
	return r;
}

int32_t kiln_utf8_decode_last(const char *str, size_t len, size_t *ret_width)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t start = len - 1;
	*ret_width = 1;
	if (s[start] < 0x80)
		return s[start];
	/* Back up to the byte that can start a rune, at most UTFMax - 1 steps. */
	size_t lim = len >= KILN_UTF_MAX ? len - KILN_UTF_MAX : 0;
	while (start > lim && (s[start] & 0xC0) == 0x80)
		start--;
	size_t w;
	int32_t r = kiln_utf8_decode(str + start, len - start, &w);
	if (start + w != len)
		return KILN_RUNE_ERROR;
	*ret_width = w;
	return r;
}

size_t kiln_utf8_encode(int32_t r, char out[KILN_UTF_MAX])
{
	if (r < 0 || r > KILN_MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
		r = KILN_RUNE_ERROR;
	uint32_t u = (uint32_t) r;
	if (u < 0x80) {
		out[0] = (char) u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char) (0xC0 | (u >> 6));
		out[1] = (char) (0x80 | (u & 0x3F));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char) (0xE0 | (u >> 12));
		out[1] = (char) (0x80 | ((u >> 6) & 0x3F));
		out[2] = (char) (0x80 | (u & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (u >> 18));
	out[1] = (char) (0x80 | ((u >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((u >> 6) & 0x3F));
	out[3] = (char) (0x80 | (u & 0x3F));
	return 4;
}

size_t kiln_go_space_prefix_scan(const char *s, size_t len)
{
	size_t i = 0;
	/* indentation is mostly spaces: eight, then four, at a time */
	uint64_t x;
	while (len - i >= 8 && (memcpy(&x, s + i, 8), x == 0x2020202020202020u))
		i += 8;
	uint32_t y;
	if (len - i >= 4 && (memcpy(&y, s + i, 4), y == 0x20202020u))
		i += 4;
	while (i < len) {
		unsigned char c = (unsigned char) s[i];
		if (c < 0x80) { /* ASCII, nearly all text: no decoding */
			if (c != ' ' && (c < '\t' || c > '\r'))
				break;
			i++;
			continue;
		}
		size_t w;
		/* an invalid byte reads as U+FFFD, which is not a space */
		if (!kiln_unicode_is_space(kiln_utf8_decode(s + i, len - i, &w)))
			break;
		i += w;
	}
	return i;
}

size_t kiln_go_space_suffix_scan(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len) {
		unsigned char c = (unsigned char) s[len - n - 1];
		if (c < 0x80) { /* an ASCII last byte is a whole rune */
			if (c != ' ' && (c < '\t' || c > '\r'))
				break;
			n++;
			continue;
		}
		size_t w;
		if (!kiln_unicode_is_space(kiln_utf8_decode_last(s, len - n, &w)))
			break;
		n += w;
	}
	return n;
}

void kiln_go_trim_space(const char **s, size_t *len)
{
	size_t lead = kiln_go_space_prefix(*s, *len);
	*s += lead;
	*len -= lead;
	*len -= kiln_go_space_suffix(*s, *len);
}

static const char lowerhex[] = "0123456789abcdef";

/* appendEscapedRune for a rune that is not printable (and not '"' or '\\'). */
static int quote_escape(struct kiln_buf *out, int32_t r)
{
	char tmp[12];
	size_t n = 0;
	tmp[n++] = '\\';
	switch (r) {
	case '\a':
		tmp[n++] = 'a';
		break;
	case '\b':
		tmp[n++] = 'b';
		break;
	case '\f':
		tmp[n++] = 'f';
		break;
	case '\n':
		tmp[n++] = 'n';
		break;
	case '\r':
		tmp[n++] = 'r';
		break;
	case '\t':
		tmp[n++] = 't';
		break;
	case '\v':
		tmp[n++] = 'v';
		break;
	default:
		if (r < ' ' || r == 0x7F) {
			tmp[n++] = 'x';
			tmp[n++] = lowerhex[(r >> 4) & 0xF];
			tmp[n++] = lowerhex[r & 0xF];
		} else {
			int digits = r < 0x10000 ? 4 : 8;
			tmp[n++] = r < 0x10000 ? 'u' : 'U';
			for (int sh = (digits - 1) * 4; sh >= 0; sh -= 4)
				tmp[n++] = lowerhex[(r >> sh) & 0xF];
		}
	}
	return kiln_buf_add(out, tmp, n);
}

int kiln_go_quote(struct kiln_buf *out, const char *s, size_t len)
{
	int r = kiln_buf_addch(out, '"');
	size_t i = 0;
	while (r >= 0 && i < len) {
		/* a run of printable ASCII that needs no escape */
		size_t j = i;
		while (j < len && (unsigned char) s[j] >= 0x20 && (unsigned char) s[j] < 0x7F &&
		       s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i) {
			r = kiln_buf_add(out, s + i, j - i);
			i = j;
			continue;
		}
		size_t w;
		int32_t c = kiln_utf8_decode(s + i, len - i, &w);
		if (w == 1 && c == KILN_RUNE_ERROR) {
			unsigned char b = (unsigned char) s[i];
			char hx[4] = { '\\', 'x', lowerhex[b >> 4], lowerhex[b & 0xF] };
			r = kiln_buf_add(out, hx, 4);
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char) c };
			r = kiln_buf_add(out, e, 2);
		} else if (kiln_unicode_is_print(c)) {
			r = kiln_buf_add(out, s + i, w);
		} else {
			r = quote_escape(out, c);
		}
		i += w;
	}
	if (r >= 0)
		r = kiln_buf_addch(out, '"');
	return r;
}

int kiln_go_to_lower(struct kiln_buf *out, const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] >= 0x80)
			break;
	if (i == len) {
		int r = kiln_buf_grow(out, len);
		if (r < 0)
			return r;
		for (i = 0; i < len; i++) {
			char c = s[i];
			out->buf[out->len + i] = (c >= 'A' && c <= 'Z') ? (char) (c + 32) : c;
		}
		kiln_buf_setlen(out, out->len + len);
		return 0;
	}
	for (i = 0; i < len;) {
		size_t w;
		int32_t c = kiln_utf8_decode(s + i, len - i, &w);
		char enc[KILN_UTF_MAX];
		int r = kiln_buf_add(out, enc, kiln_utf8_encode(kiln_unicode_to_lower(c), enc));
		if (r < 0)
			return r;
		i += w;
	}
	return 0;
}

int kiln_go_parse_bool(const char *s, int *ret)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*ret = 1;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*ret = 0;
			return 0;
		}
	}
	return -1;
}
