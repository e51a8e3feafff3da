/* SPDX-License-Identifier: Apache-2.0 */
#include "utf8.h"

#include "base/buf.h"

int32_t kiln_shell_utf8_decode(const char *str, size_t len, size_t *ret_width)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	*ret_width = 1;
	if (c < 0x80)
		return c;
	size_t need;
	uint32_t r;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		r = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		r = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		r = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* past U+10FFFF */
	} else {
		return KILN_SHELL_RUNE_ERROR;
	}
	if (len < need)
		return KILN_SHELL_RUNE_ERROR;
	if (s[1] < lo || s[1] > hi)
		return KILN_SHELL_RUNE_ERROR;
	r = (r << 6) | (s[1] & 0x3F);
	for (size_t i = 2; i < need; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return KILN_SHELL_RUNE_ERROR;
		r = (r << 6) | (s[i] & 0x3F);
	}
	*ret_width = need;
	return (int32_t)r;
}

size_t kiln_shell_utf8_encode(int32_t r, char out[4])
{
	uint32_t u = (uint32_t)r;
	if (r < 0 || u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF))
		u = 0xFFFD;
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xC0 | (u >> 6));
		out[1] = (char)(0x80 | (u & 0x3F));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (char)(0xE0 | (u >> 12));
		out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
		out[2] = (char)(0x80 | (u & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (u >> 18));
	out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
	out[3] = (char)(0x80 | (u & 0x3F));
	return 4;
}

static int in_ranges(const struct kiln_shell_urange *t, size_t n, int32_t r)
{
	if (r < 0)
		return 0;
	uint32_t u = (uint32_t)r;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u < t[mid].lo)
			hi = mid;
		else if (u > t[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int kiln_shell_is_letter(int32_t r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	return in_ranges(kiln_shell_letter_ranges, kiln_shell_letter_ranges_len, r);
}

int kiln_shell_is_digit(int32_t r)
{
	if (r < 0x80)
		return r >= '0' && r <= '9';
	return in_ranges(kiln_shell_digit_ranges, kiln_shell_digit_ranges_len, r);
}

int kiln_shell_is_space(int32_t r)
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

int kiln_shell_is_print(int32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r < 0x7F;
	return in_ranges(kiln_shell_print_ranges, kiln_shell_print_ranges_len, r);
}

static const char hexdigits[] = "0123456789abcdef";

static int add_hex(struct kiln_buf *b, const char *prefix, uint32_t v, int digits)
{
	char tmp[12];
	size_t n = 0;
	tmp[n++] = prefix[0];
	tmp[n++] = prefix[1];
	for (int i = digits - 1; i >= 0; i--)
		tmp[n++] = hexdigits[(v >> (4 * i)) & 0xF];
	return kiln_buf_add(b, tmp, n);
}

int kiln_shell_go_quote(struct kiln_buf *b, const char *s, size_t len)
{
	int r = kiln_buf_addch(b, '"');
	size_t i = 0;
	while (r >= 0 && i < len) {
		size_t w;
		int32_t c = kiln_shell_utf8_decode(s + i, len - i, &w);
		if (c == KILN_SHELL_RUNE_ERROR && w == 1) {
			r = add_hex(b, "\\x", (unsigned char)s[i], 2);
		} else if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			r = kiln_buf_add(b, esc, 2);
		} else if (kiln_shell_is_print(c)) {
			r = kiln_buf_add(b, s + i, w);
		} else {
			switch (c) {
			case '\a': r = kiln_buf_addstr(b, "\\a"); break;
			case '\b': r = kiln_buf_addstr(b, "\\b"); break;
			case '\f': r = kiln_buf_addstr(b, "\\f"); break;
			case '\n': r = kiln_buf_addstr(b, "\\n"); break;
			case '\r': r = kiln_buf_addstr(b, "\\r"); break;
			case '\t': r = kiln_buf_addstr(b, "\\t"); break;
			case '\v': r = kiln_buf_addstr(b, "\\v"); break;
			default:
				if (c < ' ' || c == 0x7F)
					r = add_hex(b, "\\x", (uint32_t)c, 2);
				else if (c < 0x10000)
					r = add_hex(b, "\\u", (uint32_t)c, 4);
				else
					r = add_hex(b, "\\U", (uint32_t)c, 8);
			}
		}
		i += w;
	}
	if (r >= 0)
		r = kiln_buf_addch(b, '"');
	return r;
}
