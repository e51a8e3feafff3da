/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Generates the Unicode data kiln needs to answer as Go's unicode package
 * does (base/unicode.h), one file per kind of table:
 *
 *   categories  src/lib/base/unicode-categories.c: the general categories
 *               regexp's \p{..} can name, as Go defines them (C is
 *               Cc|Cf|Co|Cs, no Cn; LC is Lu|Ll|Lt; Cn lists the unassigned
 *               code points); L is what unicode.IsLetter tests, Nd
 *               unicode.IsDigit;
 *   print       src/lib/base/unicode-print.c: unicode.PrintRanges (L, M, N,
 *               P, S) for IsPrint, which quoting asks, not regexp;
 *   scripts     src/lib/base/unicode-scripts.c: the scripts with at least
 *               one code point (Unknown/Zzzz excepted);
 *   case        src/lib/base/unicode-case.c: the simple lower-case mapping
 *               of unicode.ToLower (CaseRanges).
 *
 * Go 1.21 and later use Unicode 15.0.0; so does ICU 72 (Debian 12), which
 * this reads. The output is committed; this file is not part of the build.
 * Run it by hand when Go moves to a new Unicode version:
 *
 *   cc -O2 -o /tmp/gen-unicode tools/gen-unicode.c $(pkg-config --cflags --libs icu-uc)
 *   for t in categories print scripts case; do
 *     /tmp/gen-unicode $t | clang-format --assume-filename=unicode-$t.c \
 *         >src/lib/base/unicode-$t.c
 *   done
 *
 * It refuses to run against any other Unicode version, so that the tables
 * never drift from Go's by accident.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/uversion.h>

#define MAX_CP 0x10FFFF
#define WANT_MAJOR 15
#define WANT_MINOR 0

#define M(x) U_MASK(x)
#define MASK_L                                                                                     \
	(M(U_UPPERCASE_LETTER) | M(U_LOWERCASE_LETTER) | M(U_TITLECASE_LETTER) |                   \
	 M(U_MODIFIER_LETTER) | M(U_OTHER_LETTER))
#define MASK_M (M(U_NON_SPACING_MARK) | M(U_ENCLOSING_MARK) | M(U_COMBINING_SPACING_MARK))
#define MASK_N (M(U_DECIMAL_DIGIT_NUMBER) | M(U_LETTER_NUMBER) | M(U_OTHER_NUMBER))
#define MASK_P                                                                                     \
	(M(U_DASH_PUNCTUATION) | M(U_START_PUNCTUATION) | M(U_END_PUNCTUATION) |                   \
	 M(U_CONNECTOR_PUNCTUATION) | M(U_OTHER_PUNCTUATION) | M(U_INITIAL_PUNCTUATION) |          \
	 M(U_FINAL_PUNCTUATION))
#define MASK_S (M(U_MATH_SYMBOL) | M(U_CURRENCY_SYMBOL) | M(U_MODIFIER_SYMBOL) | M(U_OTHER_SYMBOL))

/* Sorted by name: kiln_unicode_category() searches them in order. */
static const struct {
	const char *name;
	unsigned long mask;
} categories[] = {
	{ "C", M(U_CONTROL_CHAR) | M(U_FORMAT_CHAR) | M(U_PRIVATE_USE_CHAR) | M(U_SURROGATE) },
	{ "Cc", M(U_CONTROL_CHAR) },
	{ "Cf", M(U_FORMAT_CHAR) },
	{ "Cn", M(U_UNASSIGNED) },
	{ "Co", M(U_PRIVATE_USE_CHAR) },
	{ "Cs", M(U_SURROGATE) },
	{ "L", MASK_L },
	{ "LC", M(U_UPPERCASE_LETTER) | M(U_LOWERCASE_LETTER) | M(U_TITLECASE_LETTER) },
	{ "Ll", M(U_LOWERCASE_LETTER) },
	{ "Lm", M(U_MODIFIER_LETTER) },
	{ "Lo", M(U_OTHER_LETTER) },
	{ "Lt", M(U_TITLECASE_LETTER) },
	{ "Lu", M(U_UPPERCASE_LETTER) },
	{ "M", MASK_M },
	{ "Mc", M(U_COMBINING_SPACING_MARK) },
	{ "Me", M(U_ENCLOSING_MARK) },
	{ "Mn", M(U_NON_SPACING_MARK) },
	{ "N", MASK_N },
	{ "Nd", M(U_DECIMAL_DIGIT_NUMBER) },
	{ "Nl", M(U_LETTER_NUMBER) },
	{ "No", M(U_OTHER_NUMBER) },
	{ "P", MASK_P },
	{ "Pc", M(U_CONNECTOR_PUNCTUATION) },
	{ "Pd", M(U_DASH_PUNCTUATION) },
	{ "Pe", M(U_END_PUNCTUATION) },
	{ "Pf", M(U_FINAL_PUNCTUATION) },
	{ "Pi", M(U_INITIAL_PUNCTUATION) },
	{ "Po", M(U_OTHER_PUNCTUATION) },
	{ "Ps", M(U_START_PUNCTUATION) },
	{ "S", MASK_S },
	{ "Sc", M(U_CURRENCY_SYMBOL) },
	{ "Sk", M(U_MODIFIER_SYMBOL) },
	{ "Sm", M(U_MATH_SYMBOL) },
	{ "So", M(U_OTHER_SYMBOL) },
	{ "Z", M(U_SPACE_SEPARATOR) | M(U_LINE_SEPARATOR) | M(U_PARAGRAPH_SEPARATOR) },
	{ "Zl", M(U_LINE_SEPARATOR) },
	{ "Zp", M(U_PARAGRAPH_SEPARATOR) },
	{ "Zs", M(U_SPACE_SEPARATOR) },
};

static int in_mask(UChar32 c, unsigned long mask)
{
	return (U_MASK(u_charType(c)) & mask) != 0;
}

static int in_script(UChar32 c, unsigned long script)
{
	UErrorCode e = U_ZERO_ERROR;
	return (unsigned long) uscript_getScript(c, &e) == script && U_SUCCESS(e);
}

/* One range table: "static const struct kiln_urange <prefix><name>[] = {...};". Its length. */
static int emit(const char *prefix, const char *name, int (*pred)(UChar32, unsigned long),
		unsigned long arg)
{
	int n = 0;
	printf("static const struct kiln_urange %s%s[] = {\n", prefix, name);
	for (UChar32 c = 0; c <= MAX_CP; c++) {
		if (!pred(c, arg))
			continue;
		UChar32 lo = c;
		while (c + 1 <= MAX_CP && pred(c + 1, arg))
			c++;
		printf("\t{ 0x%04X, 0x%04X },\n", (unsigned) lo, (unsigned) c);
		n++;
	}
	printf("};\n\n");
	return n;
}

static int cmp_script_name(const void *a, const void *b)
{
	const char *x = uscript_getName(*(const UScriptCode *) a);
	const char *y = uscript_getName(*(const UScriptCode *) b);
	return strcmp(x, y);
}

static void scripts(void)
{
	static UScriptCode used[USCRIPT_CODE_LIMIT];
	static int count[USCRIPT_CODE_LIMIT];
	size_t n = 0;
	for (int s = 0; s < USCRIPT_CODE_LIMIT; s++) {
		if (s == USCRIPT_UNKNOWN)
			continue;
		UChar32 c;
		for (c = 0; c <= MAX_CP && !in_script(c, (unsigned long) s); c++)
			;
		if (c <= MAX_CP)
			used[n++] = (UScriptCode) s;
	}
	qsort(used, n, sizeof(used[0]), cmp_script_name);
	for (size_t i = 0; i < n; i++)
		count[i] =
			emit("scr_", uscript_getName(used[i]), in_script, (unsigned long) used[i]);
	printf("const struct kiln_utable kiln_unicode_scripts[] = {\n");
	for (size_t i = 0; i < n; i++)
		printf("\t{ \"%s\", scr_%s, %d },\n", uscript_getName(used[i]),
		       uscript_getName(used[i]), count[i]);
	printf("};\nconst size_t kiln_unicode_n_scripts = %zu;\n", n);
}

/*
 * unicode.ToLower above U+007F as runs of code points with one delta, every
 * code point (stride 1) or every other one (stride 2, the Latin Extended
 * upper/lower pairs).
 */
static void lower(void)
{
	int n = 0;
	printf("const struct kiln_ucase kiln_unicode_lower[] = {\n");
	UChar32 c = 0x80;
	while (c <= MAX_CP) {
		UChar32 l = u_tolower(c);
		if (l == c) {
			c++;
			continue;
		}
		long delta = (long) l - (long) c;
		int stride = 1;
		if (c + 1 <= MAX_CP && u_tolower(c + 1) == c + 1 && c + 2 <= MAX_CP &&
		    (long) u_tolower(c + 2) - (long) (c + 2) == delta)
			stride = 2;
		UChar32 hi = c;
		for (;;) {
			UChar32 nx = hi + stride;
			if (nx > MAX_CP || (long) u_tolower(nx) - (long) nx != delta ||
			    u_tolower(nx) == nx)
				break;
			if (stride == 2 && u_tolower(hi + 1) != hi + 1)
				break;
			hi = nx;
		}
		printf("\t{ 0x%04X, 0x%04X, %d, %ld },\n", (unsigned) c, (unsigned) hi, stride,
		       delta);
		n++;
		c = hi + 1;
	}
	printf("};\nconst size_t kiln_unicode_n_lower = %d;\n", n);
}

static void general_categories(void)
{
	size_t ncat = sizeof(categories) / sizeof(categories[0]);
	int counts[sizeof(categories) / sizeof(categories[0])];
	for (size_t i = 0; i < ncat; i++)
		counts[i] = emit("cat_", categories[i].name, in_mask, categories[i].mask);
	printf("const struct kiln_utable kiln_unicode_categories[] = {\n");
	for (size_t i = 0; i < ncat; i++)
		printf("\t{ \"%s\", cat_%s, %d },\n", categories[i].name, categories[i].name,
		       counts[i]);
	printf("};\nconst size_t kiln_unicode_n_categories = %zu;\n\n", ncat);
	for (size_t i = 0; i < ncat; i++) {
		if (strcmp(categories[i].name, "L") == 0)
			printf("const struct kiln_utable kiln_unicode_letter = { \"L\", cat_L, %d "
			       "};\n",
			       counts[i]);
		else if (strcmp(categories[i].name, "Nd") == 0)
			printf("const struct kiln_utable kiln_unicode_digit = { \"Nd\", cat_Nd, %d "
			       "};\n\n",
			       counts[i]);
	}
}

static void print_ranges(void)
{
	int np = emit("", "print_ranges", in_mask, MASK_L | MASK_M | MASK_N | MASK_P | MASK_S);
	printf("const struct kiln_utable kiln_unicode_print = { \"Print\", print_ranges, %d };\n",
	       np);
}

static const struct {
	const char *name;
	const char *what;
	void (*emit)(void);
} parts[] = {
	{ "categories", "general categories", general_categories },
	{ "print", "print ranges", print_ranges },
	{ "scripts", "scripts", scripts },
	{ "case", "the lower-case mapping", lower },
};

int main(int argc, char **argv)
{
	size_t part = sizeof(parts) / sizeof(parts[0]);
	for (size_t i = 0; argc == 2 && i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strcmp(argv[1], parts[i].name) == 0)
			part = i;
	if (part == sizeof(parts) / sizeof(parts[0])) {
		fprintf(stderr, "usage: gen-unicode categories|print|scripts|case\n");
		return 2;
	}
	UVersionInfo v;
	u_getUnicodeVersion(v);
	if (v[0] != WANT_MAJOR || v[1] != WANT_MINOR) {
		fprintf(stderr, "gen-unicode: ICU has Unicode %d.%d, Go's tables are %d.%d\n", v[0],
			v[1], WANT_MAJOR, WANT_MINOR);
		return 1;
	}
	printf("/* SPDX-License-Identifier: Apache-2.0 */\n");
	printf("/*\n * Unicode %d.%d.%d %s, as Go's unicode package has them.\n", v[0], v[1],
	       v[2], parts[part].what);
	printf(" * Generated by tools/gen-unicode.c %s (ICU); do not edit.\n", parts[part].name);
	printf(" * What each table is: base/unicode.h.\n */\n");
	printf("#include \"base/unicode.h\"\n\n");
	parts[part].emit();
	return 0;
}
