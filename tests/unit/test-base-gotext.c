/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Go's text primitives in base: unicode/utf8, the unicode classes and their
 * generated tables, strings.TrimSpace and ToLower, strconv.Quote,
 * path/filepath Clean and Match. Expected values are what Go 1.21+ returns.
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "tap.h"

/* ---- unicode/utf8 ---- */

struct decode_case {
	const char *s;
	size_t len; /* 0: strlen */
	int32_t r;
	size_t w;
	const char *what;
};

static const struct decode_case decode_cases[] = {
	{ "A", 0, 'A', 1, "ASCII" },
	{ "\0", 1, 0, 1, "NUL" },
	{ "\x7F", 0, 0x7F, 1, "DEL" },
	{ "\xC2\x80", 0, 0x80, 2, "smallest 2-byte" },
	{ "\xC3\xA9", 0, 0xE9, 2, "e acute" },
	{ "\xDF\xBF", 0, 0x7FF, 2, "largest 2-byte" },
	{ "\xE0\xA0\x80", 0, 0x800, 3, "smallest 3-byte" },
	{ "\xE2\x98\xBA", 0, 0x263A, 3, "smiley" },
	{ "\xED\x9F\xBF", 0, 0xD7FF, 3, "just below the surrogates" },
	{ "\xEE\x80\x80", 0, 0xE000, 3, "just above the surrogates" },
	{ "\xEF\xBF\xBD", 0, 0xFFFD, 3, "U+FFFD itself is 3 bytes wide" },
	{ "\xEF\xBF\xBF", 0, 0xFFFF, 3, "largest 3-byte" },
	{ "\xF0\x90\x80\x80", 0, 0x10000, 4, "smallest 4-byte" },
	{ "\xF0\x9F\x98\x80", 0, 0x1F600, 4, "emoji" },
	{ "\xF4\x8F\xBF\xBF", 0, 0x10FFFF, 4, "MaxRune" },
	{ "\xC3\xA9z", 0, 0xE9, 2, "followed by more" },
	{ "\xC0\x80", 0, KILN_RUNE_ERROR, 1, "overlong NUL" },
	{ "\xC1\xBF", 0, KILN_RUNE_ERROR, 1, "overlong 2-byte" },
	{ "\xC0\xAF", 0, KILN_RUNE_ERROR, 1, "overlong '/'" },
	{ "\xE0\x80\x80", 0, KILN_RUNE_ERROR, 1, "overlong 3-byte" },
	{ "\xE0\x9F\xBF", 0, KILN_RUNE_ERROR, 1, "overlong U+07FF" },
	{ "\xF0\x80\x80\x80", 0, KILN_RUNE_ERROR, 1, "overlong 4-byte" },
	{ "\xF0\x8F\xBF\xBF", 0, KILN_RUNE_ERROR, 1, "overlong U+FFFF" },
	{ "\xED\xA0\x80", 0, KILN_RUNE_ERROR, 1, "surrogate U+D800" },
	{ "\xED\xBF\xBF", 0, KILN_RUNE_ERROR, 1, "surrogate U+DFFF" },
	{ "\xF4\x90\x80\x80", 0, KILN_RUNE_ERROR, 1, "past MaxRune" },
	{ "\xF5\x80\x80\x80", 0, KILN_RUNE_ERROR, 1, "F5 never starts a rune" },
	{ "\xFF", 0, KILN_RUNE_ERROR, 1, "FF" },
	{ "\x80", 0, KILN_RUNE_ERROR, 1, "lone continuation byte" },
	{ "\xBF\x80", 0, KILN_RUNE_ERROR, 1, "continuation bytes" },
	{ "\xC2", 0, KILN_RUNE_ERROR, 1, "truncated 2-byte" },
	{ "\xE2\x98", 0, KILN_RUNE_ERROR, 1, "truncated 3-byte" },
	{ "\xF0\x9F\x98", 0, KILN_RUNE_ERROR, 1, "truncated 4-byte" },
	{ "\xC2\x41", 0, KILN_RUNE_ERROR, 1, "ASCII where a continuation belongs" },
	{ "\xE2\x98\x41", 0, KILN_RUNE_ERROR, 1, "bad third byte" },
	{ "\xE2\xC3\xA9", 0, KILN_RUNE_ERROR, 1, "a lead byte where a continuation belongs" },
	{ "\xC3\xA9", 1, KILN_RUNE_ERROR, 1, "the length cuts a rune" },
};

static void test_decode(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		size_t w = 99;
		int32_t r = kiln_utf8_decode(c->s, c->len ? c->len : strlen(c->s), &w);
		TAP_OK(r == c->r && w == c->w, "DecodeRune: %s: U+%04X width %zu", c->what,
		       (unsigned) r, w);
	}
	/* the inline answer for an ASCII first byte agrees with the full decoder */
	int same = 1;
	for (int b = 0; b < 256; b++) {
		const char t[4] = { (char) b, (char) 0x80, (char) 0x80, (char) 0x80 };
		size_t w1 = 99, w2 = 98;
		int32_t r1 = kiln_utf8_decode(t, sizeof(t), &w1);
		int32_t r2 = kiln_utf8_decode_scan(t, sizeof(t), &w2);
		if (r1 != r2 || w1 != w2 || (b < 0x80 && (r1 != b || w1 != 1)))
			same = 0;
	}
	TAP_OK(same, "DecodeRune: every first byte, inline and full decoder agree");
}

static const struct decode_case decode_last_cases[] = {
	{ "A", 0, 'A', 1, "ASCII" },
	{ "x\xC3\xA9", 0, 0xE9, 2, "e acute at the end" },
	{ "\xE2\x98\xBA", 0, 0x263A, 3, "smiley" },
	{ "ab\xF0\x9F\x98\x80", 0, 0x1F600, 4, "emoji" },
	{ "\xC3", 0, KILN_RUNE_ERROR, 1, "a lead byte at the end" },
	{ "\xC3\xC3", 0, KILN_RUNE_ERROR, 1, "two lead bytes" },
	{ "a\x80", 0, KILN_RUNE_ERROR, 1, "a stray continuation byte" },
	{ "\x80\x80\x80\x80\x80", 0, KILN_RUNE_ERROR, 1, "only continuation bytes" },
	{ "\xE2\x98\xBA\xBA", 0, KILN_RUNE_ERROR, 1, "one continuation too many" },
	{ "\xED\xA0\x80", 0, KILN_RUNE_ERROR, 1, "a surrogate" },
	{ "\xC0\xAF", 0, KILN_RUNE_ERROR, 1, "overlong" },
	{ "x\xC2\xA0", 0, 0xA0, 2, "NBSP" },
};

static void test_decode_last(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(decode_last_cases); i++) {
		const struct decode_case *c = &decode_last_cases[i];
		size_t w = 99;
		int32_t r = kiln_utf8_decode_last(c->s, c->len ? c->len : strlen(c->s), &w);
		TAP_OK(r == c->r && w == c->w, "DecodeLastRune: %s: U+%04X width %zu", c->what,
		       (unsigned) r, w);
	}
}

static void test_encode(void)
{
	static const struct {
		int32_t r;
		const char *want;
	} cases[] = {
		{ 0, "" }, /* one NUL byte, checked by length below */
		{ 'A', "A" },
		{ 0x7F, "\x7F" },
		{ 0x80, "\xC2\x80" },
		{ 0x7FF, "\xDF\xBF" },
		{ 0x800, "\xE0\xA0\x80" },
		{ 0xD7FF, "\xED\x9F\xBF" },
		{ 0xD800, "\xEF\xBF\xBD" }, /* surrogates encode U+FFFD */
		{ 0xDFFF, "\xEF\xBF\xBD" },
		{ 0xFFFF, "\xEF\xBF\xBF" },
		{ 0x10000, "\xF0\x90\x80\x80" },
		{ 0x10FFFF, "\xF4\x8F\xBF\xBF" },
		{ 0x110000, "\xEF\xBF\xBD" }, /* past MaxRune */
		{ -1, "\xEF\xBF\xBD" },	      /* negative */
		{ INT32_MIN, "\xEF\xBF\xBD" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		char out[KILN_UTF_MAX + 1] = { 0 };
		size_t n = kiln_utf8_encode(cases[i].r, out);
		size_t want_n = cases[i].r == 0 ? 1 : strlen(cases[i].want);
		TAP_OK(n == want_n && memcmp(out, cases[i].want, want_n) == 0,
		       "EncodeRune(0x%X): %zu bytes", (unsigned) cases[i].r, n);
	}

	/* every rune survives a round trip, at the width Go gives it */
	int32_t bad = -1;
	for (int32_t r = 0; r <= KILN_MAX_RUNE && bad < 0; r++) {
		if (r >= 0xD800 && r <= 0xDFFF)
			continue;
		char out[KILN_UTF_MAX];
		size_t n = kiln_utf8_encode(r, out), w;
		size_t want = r < 0x80 ? 1 : r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
		if (n != want || kiln_utf8_decode(out, n, &w) != r || w != n ||
		    kiln_utf8_decode_last(out, n, &w) != r || w != n)
			bad = r;
	}
	TAP_OK(bad < 0, "every rune round-trips (first failure: 0x%X)", (unsigned) bad);
}

/* ---- the unicode package ---- */

static void test_classes(void)
{
	static const struct {
		int32_t r;
		int space, letter, digit, print;
		int32_t lower;
	} cases[] = {
		{ ' ', 1, 0, 0, 1, ' ' },
		{ '\t', 1, 0, 0, 0, '\t' },
		{ '\v', 1, 0, 0, 0, '\v' },
		{ 0x1C, 0, 0, 0, 0, 0x1C }, /* a C0 separator is not space to Go */
		{ 'A', 0, 1, 0, 1, 'a' },
		{ 'z', 0, 1, 0, 1, 'z' },
		{ '7', 0, 0, 1, 1, '7' },
		{ '_', 0, 0, 0, 1, '_' },
		{ 0x7F, 0, 0, 0, 0, 0x7F },
		{ 0x85, 1, 0, 0, 0, 0x85 },	/* NEL */
		{ 0xA0, 1, 0, 0, 0, 0xA0 },	/* NBSP: space, not printable */
		{ 0xAD, 0, 0, 0, 0, 0xAD },	/* soft hyphen: Cf */
		{ 0xC0, 0, 1, 0, 1, 0xE0 },	/* A grave */
		{ 0x130, 0, 1, 0, 1, 'i' },	/* dotted capital I */
		{ 0x1C5, 0, 1, 0, 1, 0x1C6 },	/* Dz titlecase */
		{ 0x3A3, 0, 1, 0, 1, 0x3C3 },	/* Sigma */
		{ 0x660, 0, 0, 1, 1, 0x660 },	/* Arabic-Indic zero */
		{ 0x1680, 1, 0, 0, 0, 0x1680 }, /* Ogham space mark */
		{ 0x180E, 0, 0, 0, 0, 0x180E }, /* Mongolian vowel separator: Cf now */
		{ 0x2000, 1, 0, 0, 0, 0x2000 },
		{ 0x200A, 1, 0, 0, 0, 0x200A },
		{ 0x200B, 0, 0, 0, 0, 0x200B }, /* zero width space is not space */
		{ 0x2028, 1, 0, 0, 0, 0x2028 },
		{ 0x2029, 1, 0, 0, 0, 0x2029 },
		{ 0x202F, 1, 0, 0, 0, 0x202F },
		{ 0x205F, 1, 0, 0, 0, 0x205F },
		{ 0x212A, 0, 1, 0, 1, 'k' },	/* Kelvin sign */
		{ 0x2160, 0, 0, 0, 1, 0x2170 }, /* Roman numeral one: Nl, lowers */
		{ 0x3000, 1, 0, 0, 0, 0x3000 },
		{ 0x4E2D, 0, 1, 0, 1, 0x4E2D },
		{ 0xD800, 0, 0, 0, 0, 0xD800 },	  /* a surrogate code point */
		{ 0xFEFF, 0, 0, 0, 0, 0xFEFF },	  /* BOM: Cf */
		{ 0xFFFD, 0, 0, 0, 1, 0xFFFD },	  /* So */
		{ 0x10400, 0, 1, 0, 1, 0x10428 }, /* Deseret */
		{ 0x11F50, 0, 0, 1, 1, 0x11F50 }, /* Kawi digit zero (new in 15.0) */
		{ 0x1E030, 0, 1, 0, 1, 0x1E030 }, /* modifier letter (new in 15.0) */
		{ 0x1F600, 0, 0, 0, 1, 0x1F600 },
		{ 0x10FFFF, 0, 0, 0, 0, 0x10FFFF }, /* unassigned */
		{ 0x110000, 0, 0, 0, 0, 0x110000 }, /* past MaxRune */
		{ -1, 0, 0, 0, 0, -1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int32_t r = cases[i].r;
		TAP_OK(kiln_unicode_is_space(r) == cases[i].space &&
			       kiln_unicode_is_letter(r) == cases[i].letter &&
			       kiln_unicode_is_digit(r) == cases[i].digit &&
			       kiln_unicode_is_print(r) == cases[i].print &&
			       kiln_unicode_to_lower(r) == cases[i].lower,
		       "classes of U+%04X: space %d letter %d digit %d print %d lower U+%04X",
		       (unsigned) r, kiln_unicode_is_space(r), kiln_unicode_is_letter(r),
		       kiln_unicode_is_digit(r), kiln_unicode_is_print(r),
		       (unsigned) kiln_unicode_to_lower(r));
	}
}

/* Sorted, disjoint and not adjacent (a generator that merges runs gives that). */
static int table_ok(const struct kiln_utable *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->ranges[i].lo > t->ranges[i].hi || t->ranges[i].hi > (uint32_t) KILN_MAX_RUNE)
			return 0;
		if (i > 0 && t->ranges[i].lo <= t->ranges[i - 1].hi + 1)
			return 0;
	}
	return t->n > 0;
}

static void test_tables(void)
{
	int ok = 1;
	for (size_t i = 0; i < kiln_unicode_n_categories; i++) {
		const struct kiln_utable *t = &kiln_unicode_categories[i];
		ok &= table_ok(t);
		ok &= i == 0 || strcmp(kiln_unicode_categories[i - 1].name, t->name) < 0;
		ok &= kiln_unicode_category(t->name, strlen(t->name)) == t;
	}
	TAP_OK(ok, "%zu categories, sorted, found by name", kiln_unicode_n_categories);
	TAP_INT_EQ((int) kiln_unicode_n_categories, 38, "Go's 36 categories, LC and Cn");
	TAP_OK(kiln_unicode_category("Lx", 2) == NULL && kiln_unicode_category("L", 0) == NULL &&
		       kiln_unicode_category("Lu", 1) != NULL,
	       "an unknown category is NULL; the length counts");

	ok = 1;
	for (size_t i = 0; i < kiln_unicode_n_scripts; i++) {
		ok &= table_ok(&kiln_unicode_scripts[i]);
		ok &= i == 0 ||
		      strcmp(kiln_unicode_scripts[i - 1].name, kiln_unicode_scripts[i].name) < 0;
	}
	TAP_OK(ok, "%zu scripts, sorted by name", kiln_unicode_n_scripts);
	TAP_INT_EQ((int) kiln_unicode_n_scripts, 163, "Unicode 15.0 has 163 script values in use");

	ok = table_ok(&kiln_unicode_print) && table_ok(&kiln_unicode_letter) &&
	     table_ok(&kiln_unicode_digit);
	TAP_OK(ok, "the Letter, Digit and Print tables are well formed");

	/* the derived tables agree with the categories they come from, code point by code point */
	const struct kiln_utable *L = kiln_unicode_category("L", 1),
				 *Nd = kiln_unicode_category("Nd", 2);
	const struct kiln_utable *parts[5] = { L, kiln_unicode_category("M", 1),
					       kiln_unicode_category("N", 1),
					       kiln_unicode_category("P", 1),
					       kiln_unicode_category("S", 1) };
	int32_t bad = -1;
	for (int32_t r = 0; r <= KILN_MAX_RUNE && bad < 0; r++) {
		int print = 0;
		for (size_t k = 0; k < 5; k++)
			print |= kiln_unicode_in(parts[k], r);
		if (print != kiln_unicode_in(&kiln_unicode_print, r) ||
		    kiln_unicode_in(L, r) != kiln_unicode_in(&kiln_unicode_letter, r) ||
		    kiln_unicode_in(Nd, r) != kiln_unicode_in(&kiln_unicode_digit, r) ||
		    kiln_unicode_is_letter(r) != kiln_unicode_in(L, r) ||
		    kiln_unicode_is_print(r) != (r == ' ' || print))
			bad = r;
	}
	TAP_OK(bad < 0, "Print is L|M|N|P|S, Letter is L, Digit is Nd (first failure: 0x%X)",
	       (unsigned) bad);

	ok = 1;
	for (size_t i = 0; i < kiln_unicode_n_lower; i++) {
		const struct kiln_ucase *c = &kiln_unicode_lower[i];
		ok &= c->lo >= 0x80 && c->lo <= c->hi && (c->stride == 1 || c->stride == 2);
		ok &= i == 0 || c->lo > kiln_unicode_lower[i - 1].hi;
	}
	TAP_OK(ok, "%zu lower-case runs, sorted above U+007F", kiln_unicode_n_lower);
	/* stride 2: the other code points of the run are already lower case */
	TAP_OK(kiln_unicode_to_lower(0x100) == 0x101 && kiln_unicode_to_lower(0x101) == 0x101 &&
		       kiln_unicode_to_lower(0x102) == 0x103,
	       "Latin Extended-A pairs lower every other code point");

	TAP_OK(kiln_unicode_in(kiln_unicode_category("Cn", 2), 0x378) &&
		       !kiln_unicode_in(kiln_unicode_category("C", 1), 0x378) &&
		       kiln_unicode_in(kiln_unicode_category("C", 1), 0xE000),
	       "C holds Co but not Cn, as Go's C");
	TAP_OK(kiln_unicode_in(kiln_unicode_category("LC", 2), 0x1C5) &&
		       !kiln_unicode_in(kiln_unicode_category("LC", 2), 0x2B0),
	       "LC is Lu|Ll|Lt (not Lm)");
}

/* ---- strings ---- */

static const struct {
	const char *in, *out;
} trim_cases[] = {
	{ " \t x \n", "x" },
	{ "\xC2\xA0x\xE3\x80\x80", "x" },	/* U+00A0, U+3000 */
	{ "\xC2\x85x\xC2\x85", "x" },		/* U+0085 */
	{ "\xE2\x80\x8Bx", "\xE2\x80\x8Bx" },	/* U+200B is not white space */
	{ "\xEF\xBB\xBFx", "\xEF\xBB\xBFx" },	/* nor is a BOM */
	{ "\xFFx ", "\xFFx" },			/* a bad byte stops the trim */
	{ "\xE2\x80\xA8 x \xE2\x80\xA9", "x" }, /* U+2028, U+2029 */
	{ "   ", "" },
	{ "", "" },
	{ "x\xC2", "x\xC2" },			/* a truncated rune at the end is no space */
	{ "x \x85", "x \x85" },			/* a stray continuation byte is no U+0085 */
	{ "\xE1\x9A\x80x\xE1\x9A\x80", "x" },	/* U+1680 */
	{ "\xE2\x80\x8A\xE2\x80\x80y", "y" },	/* U+200A, U+2000 */
	{ "\xE2\x81\x9F z \xE2\x80\xAF", "z" }, /* U+205F, U+202F */
	{ "\v\f\rq\r\f\v", "q" },
	{ "\x1Cq\x1F", "\x1Cq\x1F" }, /* C0 separators are not space to Go */
	{ "\xEF\xBF\xBDq", "\xEF\xBF\xBDq" },
};

static void test_trim(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(trim_cases); i++) {
		const char *s = trim_cases[i].in;
		size_t n = strlen(s);
		kiln_go_trim_space(&s, &n);
		char buf[32];
		snprintf(buf, sizeof(buf), "%.*s", (int) n, s);
		TAP_STR_EQ(buf, trim_cases[i].out, "TrimSpace case %zu", i);
		const char *in = trim_cases[i].in;
		size_t len = strlen(in), lead = kiln_go_space_prefix(in, len);
		TAP_OK(lead == (size_t) (s - in) &&
			       (lead == len ||
				kiln_go_space_suffix(in + lead, len - lead) == len - lead - n),
		       "space prefix and suffix of case %zu", i);
	}
	/* the inline answer for a first / last byte agrees with the full scan */
	int same = 1;
	for (int b = 0; b < 256; b++) {
		char t[4] = { (char) b, 'x', (char) b, '\0' };
		size_t sp[2] = { kiln_go_space_prefix(t, 3), kiln_go_space_prefix_scan(t, 3) };
		size_t ss[2] = { kiln_go_space_suffix(t, 3), kiln_go_space_suffix_scan(t, 3) };
		int space = b == ' ' || (b >= '\t' && b <= '\r');
		if (sp[0] != sp[1] || ss[0] != ss[1] || sp[0] != (size_t) space ||
		    ss[0] != (size_t) space) {
			tap_diag("byte 0x%02x: prefix %zu/%zu, suffix %zu/%zu", b, sp[0], sp[1],
				 ss[0], ss[1]);
			same = 0;
		}
	}
	TAP_OK(same && !kiln_go_space_prefix("", 0) && !kiln_go_space_suffix("", 0),
	       "space prefix and suffix: every first and last byte, and no text");
}

struct text_case {
	const char *in;
	size_t len; /* 0: strlen */
	const char *want;
};

static const struct text_case quote_cases[] = {
	{ "plain", 0, "\"plain\"" },
	{ "", 0, "\"\"" },
	{ "a\"b\\c", 0, "\"a\\\"b\\\\c\"" },
	{ "\a\b\f\n\r\t\v", 0, "\"\\a\\b\\f\\n\\r\\t\\v\"" },
	{ "\x01\x1f\x7f", 0, "\"\\x01\\x1f\\x7f\"" },
	{ "a\0b", 3, "\"a\\x00b\"" },
	{ "\xff\xfe", 0, "\"\\xff\\xfe\"" },
	{ "\xed\xa0\x80", 0, "\"\\xed\\xa0\\x80\"" }, /* a surrogate in UTF-8: invalid */
	{ "\xc0\xaf", 0, "\"\\xc0\\xaf\"" },	      /* overlong '/' */
	{ "\xe2\x82", 0, "\"\\xe2\\x82\"" },	      /* truncated sequence */
	{ "\xe2\x99\xa5 \xe2\x98\x83", 0, "\"\xe2\x99\xa5 \xe2\x98\x83\"" }, /* printable: raw */
	{ "\xc2\xa0", 0, "\"\\u00a0\"" }, /* NBSP is no graphic */
	{ "\xc2\x85", 0, "\"\\u0085\"" },
	{ "\xc2\xad", 0, "\"\\u00ad\"" }, /* soft hyphen: format */
	{ "\xef\xbb\xbf", 0, "\"\\ufeff\"" },
	{ "\xe2\x80\xa8", 0, "\"\\u2028\"" },
	{ "\xf0\x9f\x98\x80", 0, "\"\xf0\x9f\x98\x80\"" }, /* emoji: a symbol */
	{ "\xf4\x8f\xbf\xbf", 0, "\"\\U0010ffff\"" },	   /* unassigned */
	{ "\xf3\xa0\x80\x81", 0, "\"\\U000e0001\"" },	   /* language tag: format */
	{ "\xef\xbf\xbd", 0, "\"\xef\xbf\xbd\"" },	   /* U+FFFD itself is printable */
	{ "\xe4\xb8\xad\xe6\x96\x87", 0, "\"\xe4\xb8\xad\xe6\x96\x87\"" },
	{ "\xc2\x80", 0, "\"\\u0080\"" }, /* C1 control: \u, not \x */
	{ "\xed\x9f\xbf", 0, "\"\\ud7ff\"" },
	{ "'", 0, "\"'\"" },
	{ "a\xe3\x80\x80z", 0, "\"a\\u3000z\"" }, /* ideographic space */
};

static void test_quote(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(quote_cases); i++) {
		const struct text_case *c = &quote_cases[i];
		cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
		size_t len = c->len ? c->len : strlen(c->in);
		int r = kiln_go_quote(&b, c->in, len);
		TAP_INT_EQ(r, 0, "quote case %zu succeeds", i);
		TAP_STR_EQ(b.buf, c->want, "strconv.Quote case %zu", i);
	}
	/* the buffer's cap holds */
	struct kiln_buf b;
	kiln_buf_init(&b, 4);
	TAP_INT_EQ(kiln_go_quote(&b, "abcdef", 6), -KILN_ELIMIT, "Quote past the cap: ELIMIT");
	kiln_buf_release(&b);
}

static const struct text_case lower_cases[] = {
	{ "RUN", 0, "run" },
	{ "WorkDir", 0, "workdir" },
	{ "\xc3\x80\xc3\x89", 0, "\xc3\xa0\xc3\xa9" }, /* ÀÉ */
	{ "WOR\xe2\x84\xaa"
	  "DIR",
	  0, "workdir" },			       /* Kelvin sign folds to k */
	{ "\xc4\xb0", 0, "i" },			       /* dotted capital I */
	{ "R\xffN", 0, "r\xef\xbf\xbdn" },	       /* invalid byte: U+FFFD */
	{ "\xce\xa3\xce\x91", 0, "\xcf\x83\xce\xb1" }, /* ΣΑ -> σα */
	{ "\xf0\x90\x90\x80", 0, "\xf0\x90\x90\xa8" }, /* Deseret, outside the BMP */
	{ "", 0, "" },
	{ "a\0B", 3, "a\0b" },
	{ "\xed\xa0\x80X", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx" }, /* each bad byte */
	{ "\xef\xbf\xbd", 0, "\xef\xbf\xbd" },
	{ "\xc7\x85", 0, "\xc7\x86" }, /* titlecase Dz */
};

static void test_lower(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(lower_cases); i++) {
		const struct text_case *c = &lower_cases[i];
		cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
		size_t len = c->len ? c->len : strlen(c->in);
		int r = kiln_go_to_lower(&b, c->in, len);
		TAP_INT_EQ(r, 0, "lower case %zu succeeds", i);
		TAP_OK(b.len == (c->len ? len : strlen(c->want)) &&
			       memcmp(b.buf, c->want, b.len) == 0,
		       "strings.ToLower case %zu: \"%s\"", i, b.buf);
	}
}

/* ---- path/filepath ---- */

static const struct {
	const char *in, *out;
} clean_cases[] = {
	{ "", "." },
	{ "a/b/", "a/b" },
	{ "/", "/" },
	{ "//a//b", "/a/b" },
	{ "a/../b", "b" },
	{ "../x", "../x" },
	{ "/../x", "/x" },
	{ "a/./b/.", "a/b" },
	{ "./", "." },
	{ "a/..", "." },
	{ "..//..", "../.." },
	{ "/a/../../b", "/b" },
	{ "!./foo", "!./foo" },
	{ "!foo/../bar", "bar" },
	{ "a/b/../../../c", "../c" },
	{ ".", "." },
	{ "..", ".." },
	{ "/..", "/" },
	{ "/../..", "/" },
	{ "../../abc", "../../abc" },
	{ "abc/def/ghi/../jkl", "abc/def/jkl" },
	{ "abc/./../def", "def" },
	{ "./abc/def/../ghi/../jkl", "abc/jkl" },
	{ "abc//def//ghi", "abc/def/ghi" },
	{ "abc/../../..", "../.." },
	{ "//", "/" },
	{ "///abc///", "/abc" },
	{ ".../x", ".../x" },
	{ "a/.../..", "a" },
	{ "..a/b", "..a/b" },
	{ "a/.b/..", "a" },
};

static void test_clean(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(clean_cases); i++) {
		const char *in = clean_cases[i].in;
		char out[64];
		memset(out, 'X', sizeof(out));
		size_t n = kiln_go_clean(in, strlen(in), out);
		TAP_OK(n == strlen(out), "Clean(%s): length", in);
		TAP_STR_EQ(out, clean_cases[i].out, "Clean(\"%s\")", in);
	}
	/* the result needs at most n + 2 bytes and stops at n: no NUL needed in the input */
	char out[3];
	TAP_INT_EQ((int) kiln_go_clean("", 0, out), 1, "Clean(\"\") writes \".\" into 2 bytes");
	TAP_INT_EQ((int) kiln_go_clean("a/b", 1, out), 1, "Clean reads only n bytes");
	TAP_STR_EQ(out, "a", "Clean of a prefix");
	TAP_INT_EQ((int) kiln_go_clean("..x", 2, out), 2, "Clean(\"..\") of a prefix");
	TAP_STR_EQ(out, "..", "Clean(\"..\") stays \"..\"");
}

static const struct {
	const char *pattern, *name;
	int want; /* 1, 0, -1 = ErrBadPattern */
} match_cases[] = {
	{ "a*", "abc", 1 },
	{ "a*/b", "a/c/b", 0 },
	{ "[^a]", "/", 1 }, /* classes do not exclude the separator */
	{ "a?b", "a/b", 0 },
	{ "[]a]", "]", -1 },
	{ "a[", ".", -1 },    /* reported although the match failed before '[' */
	{ "*x[", "abc", -1 }, /* the chunk is parsed to its end */
	{ "a*", ".", 0 },
	{ "x", "y", 0 },
	{ "x", "y[", 0 },
	{ "a*b", "a*b", 1 },
	{ "a*b[", "ab", -1 },
	{ "*[", "a", -1 },
	{ "\\*", "*", 1 },
	{ "a\\", "a", -1 },
	{ "[a-b-c]", "a", -1 },
	{ "[\xFF]", "a", -1 }, /* a bad byte in a class */
	{ "a?", "a\xE2\x98\xBA", 1 },
	{ "*", "", 1 },
	{ "", "", 1 },
	{ "", "a", 0 },
	{ "abc", "abc", 1 },
	{ "*c", "abc", 1 },
	{ "a*", "a", 1 },
	{ "a*", "ab/c", 0 },
	{ "a*/b", "abc/b", 1 },
	{ "a*b*c*d*e*/f", "axbxcxdxe/f", 1 },
	{ "a*b*c*d*e*/f", "axbxcxdxexxx/f", 1 },
	{ "a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0 },
	{ "a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0 },
	{ "a*b?c*x", "abxbbxdbxebxczzx", 1 },
	{ "a*b?c*x", "abxbbxdbxebxczzy", 0 },
	{ "ab[c]", "abc", 1 },
	{ "ab[b-d]", "abc", 1 },
	{ "ab[e-g]", "abc", 0 },
	{ "ab[^c]", "abc", 0 },
	{ "ab[^b-d]", "abc", 0 },
	{ "ab[^e-g]", "abc", 1 },
	{ "a\\*b", "ab", 0 },
	{ "a?b",
	  "a\xE2\x98\xBA"
	  "b",
	  1 },
	{ "a[^a]b",
	  "a\xE2\x98\xBA"
	  "b",
	  1 },
	{ "a???b",
	  "a\xE2\x98\xBA"
	  "b",
	  0 },
	{ "[a-\xCE\xB6]*", "\xCE\xB1", 1 }, /* [a-ζ]* matches α */
	{ "*[a-\xCE\xB6]", "A", 0 },
	{ "a*b", "a/b", 0 },
	{ "[\\]a]", "]", 1 },
	{ "[\\-]", "-", 1 },
	{ "[x\\-]", "x", 1 },
	{ "[x\\-]", "-", 1 },
	{ "[x\\-]", "z", 0 },
	{ "[\\-x]", "a", 0 },
	{ "[-]", "-", -1 },
	{ "[x-]", "x", -1 },
	{ "[-x]", "x", -1 },
	{ "\\", "a", -1 },
	{ "[", "a", -1 },
	{ "[^", "a", -1 },
	{ "[^bc", "a", -1 },
	{ "a[", "a", -1 },
	{ "a[", "ab", -1 },
	{ "a/b[", "x", -1 },
	{ "*x", "xxx", 1 },
	{ "[\xCE", "a", -1 },  /* a truncated rune in a class */
	{ "?", "\xFF", 1 },    /* '?' takes one invalid byte */
	{ "[^a]", "\xFF", 1 }, /* which reads as U+FFFD */
	{ "[a-z]", "\xC3\xA9", 0 },
};

static void test_match(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(match_cases); i++) {
		const char *p = match_cases[i].pattern, *n = match_cases[i].name;
		int got = kiln_go_match(p, strlen(p), n, strlen(n));
		TAP_INT_EQ(got, match_cases[i].want, "filepath.Match(%s, %s)", p, n);
	}
}

/* strconv.ParseBool's spellings, and nothing else */
static void test_parse_bool(void)
{
	static const struct {
		const char *s;
		int r, v;
	} cases[] = {
		{ "1", 0, 1 },	   { "t", 0, 1 },      { "T", 0, 1 },	 { "TRUE", 0, 1 },
		{ "true", 0, 1 },  { "True", 0, 1 },   { "0", 0, 0 },	 { "f", 0, 0 },
		{ "F", 0, 0 },	   { "FALSE", 0, 0 },  { "false", 0, 0 }, { "False", 0, 0 },
		{ "", -1, 0 },	   { "yes", -1, 0 },   { "tRUE", -1, 0 }, { " 1", -1, 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		int v = 7;
		int r = kiln_go_parse_bool(cases[i].s, &v);
		TAP_OK(r == cases[i].r && (r < 0 || v == cases[i].v), "ParseBool(\"%s\")",
		       cases[i].s);
	}
}

int main(void)
{
	test_parse_bool();
	test_decode();
	test_decode_last();
	test_encode();
	test_classes();
	test_tables();
	test_trim();
	test_quote();
	test_lower();
	test_clean();
	test_match();
	return tap_done();
}
