/* SPDX-License-Identifier: Apache-2.0 */
#include "ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"

void kiln_log(const struct kiln_ctx *ctx, enum kiln_log_level level, const char *fmt, ...)
{
	if (!ctx || !ctx->log_fn || level > ctx->log_level)
		return;
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		ctx->log_fn(ctx->log_userdata, level, small);
		return;
	}
	char *big = kiln_malloc((size_t)n + 1);
	if (!big) {
		ctx->log_fn(ctx->log_userdata, level, small);
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ctx->log_fn(ctx->log_userdata, level, big);
	free(big);
}

size_t kiln_cpus(size_t max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	size_t c = n > 1 ? (size_t)n : 1;
	return max && c > max ? max : c;
}
