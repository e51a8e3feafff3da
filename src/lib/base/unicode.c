/* SPDX-License-Identifier: Apache-2.0 */
#include "base/unicode.h"

#include <string.h>

#define MAX_RUNE 0x10FFFF

int kiln_unicode_in(const struct kiln_utable *t, int32_t r)
{
	if (r < 0 || r > MAX_RUNE)
		return 0;
	uint32_t c = (uint32_t) r;
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c < t->ranges[mid].lo)
			hi = mid;
		else if (c > t->ranges[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

const struct kiln_utable *kiln_unicode_category(const char *name, size_t len)
{
	for (size_t i = 0; i < kiln_unicode_n_categories; i++) {
		const struct kiln_utable *t = &kiln_unicode_categories[i];
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t;
	}
	return NULL;
}

int kiln_unicode_is_letter(int32_t r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
	return kiln_unicode_in(&kiln_unicode_letter, r);
}

int kiln_unicode_is_digit(int32_t r)
{
	if (r < 0x80)
		return r >= '0' && r <= '9';
	return kiln_unicode_in(&kiln_unicode_digit, r);
}

int kiln_unicode_is_space(int32_t r)
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

int kiln_unicode_is_print(int32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r <= 0x7E;
	return kiln_unicode_in(&kiln_unicode_print, r);
}

int32_t kiln_unicode_to_lower(int32_t r)
{
	if (r < 0x80)
		return (r >= 'A' && r <= 'Z') ? r + ('a' - 'A') : r;
	if (r > MAX_RUNE)
		return r;
	uint32_t c = (uint32_t) r;
	size_t lo = 0, hi = kiln_unicode_n_lower;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kiln_ucase *t = &kiln_unicode_lower[mid];
		if (c < t->lo)
			hi = mid;
		else if (c > t->hi)
			lo = mid + 1;
		else
			return (c - t->lo) % (uint32_t) t->stride ? r : r + t->delta;
	}
	return r;
}
