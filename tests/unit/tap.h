/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A tiny TAP producer for unit and conformance tests. Each check is one test
 * case; the run ends with a plan line. Usage:
 *
 *     TAP_OK(x == 3, "three items");
 *     TAP_STR_EQ(got, "a b", "dump of %s", name);
 *     return tap_done();
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_state {
	int n;
	int failed;
	int skipped;
};

static struct tap_state tap_state_;

__attribute__((format(printf, 2, 3), unused)) static int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_state_.n++;
	if (!cond)
		tap_state_.failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_state_.n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 2, 3), unused)) static void tap_skip(const char *why,
								     const char *fmt, ...)
{
	va_list ap;
	tap_state_.n++;
	tap_state_.skipped++;
	printf("ok %d - ", tap_state_.n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

__attribute__((format(printf, 1, 2), unused)) static void tap_diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Print a possibly multi-line value as TAP diagnostics. */
__attribute__((unused)) static void tap_diag_block(const char *label, const char *s)
{
	printf("# %s:\n", label);
	const char *p = s ? s : "(null)";
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		printf("#   |%.*s|\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

__attribute__((unused)) static int tap_done(void)
{
	printf("1..%d\n", tap_state_.n);
	return tap_state_.failed ? 1 : 0;
}

#define TAP_OK(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#define TAP_STR_EQ(got, want, ...)                                                               \
	do {                                                                                     \
		const char *tap_g_ = (got), *tap_w_ = (want);                                    \
		int tap_c_ = tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0;                    \
		if (!tap_ok(tap_c_, __VA_ARGS__)) {                                              \
			tap_diag_block("got", tap_g_);                                           \
			tap_diag_block("want", tap_w_);                                          \
		}                                                                                \
	} while (0)

#define TAP_INT_EQ(got, want, ...)                                                               \
	do {                                                                                     \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);                 \
		if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))                                      \
			tap_diag("got %lld, want %lld", tap_g_, tap_w_);                         \
	} while (0)
