/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Unicode as Go's unicode package has it: Unicode 15.0.0, the version of
 * Go 1.21 and later. kiln reproduces BuildKit, whose lexers, quoting and
 * .dockerignore regexps ask Go these questions; asking the same tables
 * gives the same answers. The tables are generated (unicode-categories.c,
 * unicode-print.c, unicode-scripts.c, unicode-case.c; tools/gen-unicode.c
 * says how); ASCII is decided in code.
 *
 * A rune is a code point as Go's rune: int32_t, where anything negative or
 * past U+10FFFF is in no class and maps to itself.
 */

/** A closed range of code points [lo, hi]. */
struct kiln_urange {
	uint32_t lo, hi;
};

/** A named set of code points: sorted, disjoint, non-adjacent ranges. */
struct kiln_utable {
	const char *name; /* Go's name: "Lu", "Greek", "Old_Italic", ... */
	const struct kiln_urange *ranges;
	size_t n;
};

/** A run of the simple lower-case mapping: lower = upper + delta. */
struct kiln_ucase {
	uint32_t lo, hi;
	int32_t stride; /* 1: every code point in [lo, hi]; 2: every other one, from lo */
	int32_t delta;
};

/**
 * The general categories regexp's \p{..} names, sorted by name, as Go
 * defines them: the 30 two-letter categories, the unions C (Cc|Cf|Co|Cs,
 * without Cn, as in Go), L, M, N, P, S, Z, and LC (Lu|Ll|Lt) and Cn
 * (unassigned) as Go 1.25 added them.
 */
extern const struct kiln_utable kiln_unicode_categories[];
extern const size_t kiln_unicode_n_categories;

/** unicode.Scripts: every script with a code point (not Unknown), sorted by name. */
extern const struct kiln_utable kiln_unicode_scripts[];
extern const size_t kiln_unicode_n_scripts;

/** unicode.Letter (L), unicode.Digit (Nd) and unicode.PrintRanges (L, M, N, P, S). */
extern const struct kiln_utable kiln_unicode_letter;
extern const struct kiln_utable kiln_unicode_digit;
extern const struct kiln_utable kiln_unicode_print;

/** unicode.ToLower above U+007F, sorted by lo. */
extern const struct kiln_ucase kiln_unicode_lower[];
extern const size_t kiln_unicode_n_lower;

/** Whether `r` is in `t` (binary search). */
int kiln_unicode_in(const struct kiln_utable *t, int32_t r);

/** The category called exactly `name` ("Lu", "L"), or NULL. */
const struct kiln_utable *kiln_unicode_category(const char *name, size_t len);

/** unicode.IsLetter, unicode.IsDigit. */
int kiln_unicode_is_letter(int32_t r);
int kiln_unicode_is_digit(int32_t r);

/** unicode.IsSpace: '\t' '\n' '\v' '\f' '\r' ' ' U+0085 U+00A0 and White_Space above Latin-1. */
int kiln_unicode_is_space(int32_t r);

/** unicode.IsPrint (and strconv.IsPrint): L, M, N, P, S and the ASCII space. */
int kiln_unicode_is_print(int32_t r);

/** unicode.ToLower: the simple lower-case mapping; `r` itself when it has none. */
int32_t kiln_unicode_to_lower(int32_t r);
