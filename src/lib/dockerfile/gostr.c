/* SPDX-License-Identifier: Apache-2.0 */
#include "gostr.h"

#include <string.h>

#include "base/error.h"

int32_t kiln_df_utf8_decode(const char *str, size_t len, size_t *width)
{
	const unsigned char *s = (const unsigned char *) str;
	unsigned char b0 = s[0];
	if (b0 < 0x80) {
		*width = 1;
		return b0;
	}
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
			lo = 0xA0;
		else if (b0 == 0xED)
			hi = 0x9F;
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		need = 4;
		r = b0 & 0x07;
		if (b0 == 0xF0)
			lo = 0x90;
		else if (b0 == 0xF4)
			hi = 0x8F;
	} else {
		*width = 1;
		return KILN_DF_RUNE_ERROR;
	}
	if (len < need || s[1] < lo || s[1] > hi) {
		*width = 1;
		return KILN_DF_RUNE_ERROR;
	}
	r = (r << 6) | (s[1] & 0x3F);
	for (size_t i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF) {
			*width = 1;
			return KILN_DF_RUNE_ERROR;
		}
		r = (r << 6) | (s[i] & 0x3F);
	}
	*width = need;
	return r;
}

size_t kiln_df_utf8_encode(int32_t r, char out[4])
{
	if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = KILN_DF_RUNE_ERROR;
	if (r < 0x80) {
		out[0] = (char) r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char) (0xC0 | (r >> 6));
		out[1] = (char) (0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char) (0xE0 | (r >> 12));
		out[1] = (char) (0x80 | ((r >> 6) & 0x3F));
		out[2] = (char) (0x80 | (r & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (r >> 18));
	out[1] = (char) (0x80 | ((r >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((r >> 6) & 0x3F));
	out[3] = (char) (0x80 | (r & 0x3F));
	return 4;
}

static int in_ranges(const struct kiln_df_urange *t, size_t n, uint32_t c)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c < t[mid].lo)
			hi = mid;
		else if (c > t[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int kiln_df_is_space(int32_t r)
{
	switch (r) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xA0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return 1;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

int kiln_df_is_print(int32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r <= 0x7E;
	if (r > 0x10FFFF)
		return 0;
	return in_ranges(kiln_df_unicode_print, kiln_df_unicode_print_len, (uint32_t) r);
}

int kiln_df_is_letter(int32_t r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	if (r > 0x10FFFF)
		return 0;
	return in_ranges(kiln_df_unicode_letter, kiln_df_unicode_letter_len, (uint32_t) r);
}

int kiln_df_is_digit(int32_t r)
{
	if (r < 0x80)
		return r >= '0' && r <= '9';
	if (r > 0x10FFFF)
		return 0;
	return in_ranges(kiln_df_unicode_digit, kiln_df_unicode_digit_len, (uint32_t) r);
}

int32_t kiln_df_to_lower(int32_t r)
{
	if (r < 0x80)
		return (r >= 'A' && r <= 'Z') ? r + ('a' - 'A') : r;
	if (r > 0x10FFFF)
		return r;
	const struct kiln_df_ucase *t = kiln_df_unicode_lower;
	size_t lo = 0, hi = kiln_df_unicode_lower_len;
	uint32_t c = (uint32_t) r;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c < t[mid].lo) {
			hi = mid;
		} else if (c > t[mid].hi) {
			lo = mid + 1;
		} else {
			if ((c - t[mid].lo) % (uint32_t) t[mid].stride)
				return r;
			return r + t[mid].delta;
		}
	}
	return r;
}

size_t kiln_df_space_prefix(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t w;
		int32_t r = kiln_df_utf8_decode(s + i, len - i, &w);
		if (!kiln_df_is_space(r))
			break;
		i += w;
	}
	return i;
}

/*
 * The width of a white-space rune that ends s[0..len), or 0. Go decodes the
 * last rune backwards; a space rune there is exactly one of these byte
 * sequences, so matching suffixes gives the same answer.
 */
static size_t trailing_space_width(const unsigned char *s, size_t len)
{
	if (len == 0)
		return 0;
	unsigned char b = s[len - 1];
	if (b < 0x80)
		return (b == ' ' || (b >= '\t' && b <= '\r')) ? 1 : 0;
	if (len >= 2 && s[len - 2] == 0xC2 && (b == 0x85 || b == 0xA0))
		return 2;
	if (len >= 3) {
		unsigned char a = s[len - 3], m = s[len - 2];
		if (a == 0xE1 && m == 0x9A && b == 0x80)
			return 3;
		if (a == 0xE2 && m == 0x80 &&
		    ((b >= 0x80 && b <= 0x8A) || b == 0xA8 || b == 0xA9 || b == 0xAF))
			return 3;
		if (a == 0xE2 && m == 0x81 && b == 0x9F)
			return 3;
		if (a == 0xE3 && m == 0x80 && b == 0x80)
			return 3;
	}
	return 0;
}

size_t kiln_df_space_suffix(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t n = 0, w;
	while ((w = trailing_space_width(u, len - n)) > 0)
		n += w;
	return n;
}

static const char lowerhex[] = "0123456789abcdef";

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
			if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
				r = KILN_DF_RUNE_ERROR;
			int digits = r < 0x10000 ? 4 : 8;
			tmp[n++] = r < 0x10000 ? 'u' : 'U';
			for (int s = (digits - 1) * 4; s >= 0; s -= 4)
				tmp[n++] = lowerhex[(r >> s) & 0xF];
		}
	}
	return kiln_buf_add(out, tmp, n);
}

int kiln_df_go_quote(struct kiln_buf *out, const char *s, size_t len)
{
	int r = kiln_buf_addch(out, '"');
	size_t i = 0;
	while (r >= 0 && i < len) {
		/* a run of printable ASCII needing no escape */
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
		int32_t c = kiln_df_utf8_decode(s + i, len - i, &w);
		if (w == 1 && c == KILN_DF_RUNE_ERROR) {
			char hx[4] = { '\\', 'x', lowerhex[((unsigned char) s[i]) >> 4],
				       lowerhex[((unsigned char) s[i]) & 0xF] };
			r = kiln_buf_add(out, hx, 4);
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char) c };
			r = kiln_buf_add(out, e, 2);
		} else if (kiln_df_is_print(c)) {
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

int kiln_df_go_to_lower(struct kiln_buf *out, const char *s, size_t len)
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
		int32_t c = kiln_df_utf8_decode(s + i, len - i, &w);
		char enc[4];
		size_t n = kiln_df_utf8_encode(kiln_df_to_lower(c), enc);
		int r = kiln_buf_add(out, enc, n);
		if (r < 0)
			return r;
		i += w;
	}
	return 0;
}
