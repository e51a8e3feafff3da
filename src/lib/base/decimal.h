/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Decimal numbers written without printf, for output paths that write many
 * of them (lint's findings: a line and a column each). The digits go
 * backwards into a caller's buffer, ending at `end`; the result is their
 * start. KILN_DECIMAL_MAX bytes hold any long long with its sign.
 */
#define KILN_DECIMAL_MAX 20

static inline char *kiln_decimal_u(char *end, unsigned long long v)
{
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10));
	return end;
}

static inline char *kiln_decimal(char *end, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	char *p = kiln_decimal_u(end, u);
	if (v < 0)
		*--p = '-';
	return p;
}
