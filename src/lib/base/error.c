/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static const char *const err_names[KILN_ERR_MAX_] = {
	[KILN_OK] = "success",
	[KILN_ENOMEM] = "out of memory",
	[KILN_EIO] = "I/O error",
	[KILN_EPARSE] = "parse error",
	[KILN_EINVAL] = "invalid argument",
	[KILN_ENOTFOUND] = "not found",
	[KILN_EAUTH] = "authentication failed",
	[KILN_ENET] = "network error",
	[KILN_EDIGEST] = "digest mismatch",
	[KILN_ECHILD] = "child process failed",
	[KILN_ELIMIT] = "limit exceeded",
	[KILN_EEXIST] = "already exists",
	[KILN_EBUSY] = "resource busy",
	[KILN_EUNSUPP] = "not supported on this platform",
	[KILN_ECANCEL] = "cancelled",
	[KILN_EINTERNAL] = "internal error",
};

const char *kiln_strerror(enum kiln_err code)
{
	if ((int)code < 0 || code >= KILN_ERR_MAX_ || !err_names[code])
		return "unknown error";
	return err_names[code];
}

static void release_msg(struct kiln_error *err)
{
	if (!err->msg_static)
		free(err->msg);
	err->msg = NULL;
	err->msg_static = 0;
}

void kiln_error_release_held(struct kiln_error *err)
{
	release_msg(err);
	free(err->pos.file);
	memset(err, 0, sizeof(*err));
}

void kiln_error_move(struct kiln_error *dst, struct kiln_error *src)
{
	if (!dst) {
		kiln_error_release(src);
		return;
	}
	kiln_error_release(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int kiln_failv(struct kiln_error *err, enum kiln_err code, int sys_errno, const char *fmt,
	       va_list ap)
{
	if (!err)
		return -(int)code;
	kiln_error_release(err);
	err->code = code;
	err->sys_errno = sys_errno;
	if (code == KILN_ENOMEM) {
		err->msg = (char *)"out of memory";
		err->msg_static = 1;
		return -(int)code;
	}
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	char *m = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!m) {
		err->msg = (char *)kiln_strerror(code);
		err->msg_static = 1;
		return -(int)code;
	}
	(void)vsnprintf(m, (size_t)n + 1, fmt, ap);
	err->msg = m;
	return -(int)code;
}

int kiln_fail(struct kiln_error *err, enum kiln_err code, int sys_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_failv(err, code, sys_errno, fmt, ap);
	va_end(ap);
	return r;
}

int kiln_fail_errno(struct kiln_error *err, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_failv(err, e == ENOMEM ? KILN_ENOMEM : KILN_EIO, e, fmt, ap);
	va_end(ap);
	errno = e;
	return r;
}

void kiln_error_set_pos(struct kiln_error *err, const char *file, int line, int col)
{
	if (!err || err->pos.line > 0)
		return;
	if (file && !err->pos.file) {
		err->pos.file = kiln_strdup(file);
	}
	err->pos.line = line;
	err->pos.col = col;
}

int kiln_fail_at(struct kiln_error *err, enum kiln_err code, const char *file, int line, int col,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_failv(err, code, 0, fmt, ap);
	va_end(ap);
	kiln_error_set_pos(err, file, line, col);
	return r;
}

int kiln_error_prefix(struct kiln_error *err, int r, const char *fmt, ...)
{
	if (!err || err->code == KILN_ENOMEM || !err->msg)
		return r;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return r;
	size_t old = strlen(err->msg);
	char *m = malloc((size_t)n + 2 + old + 1);
	if (!m)
		return r;
	va_start(ap, fmt);
	(void)vsnprintf(m, (size_t)n + 1, fmt, ap);
	va_end(ap);
	memcpy(m + n, ": ", 2);
	memcpy(m + n + 2, err->msg, old + 1);
	release_msg(err);
	err->msg = m;
	return r;
}

char *kiln_error_format(const struct kiln_error *err)
{
	const char *msg = err->msg ? err->msg : kiln_strerror(err->code);
	const char *sys = "";
	const char *sep = "";
	if (err->sys_errno) {
		const char *s = strerror(err->sys_errno);
		size_t ls = strlen(s), lm = strlen(msg);
		if (!(lm >= ls && strcmp(msg + lm - ls, s) == 0)) {
			sys = s;
			sep = ": ";
		}
	}
	if (err->pos.line > 0 && err->pos.col > 0)
		return kiln_asprintf("%s:%d:%d: %s%s%s", err->pos.file ? err->pos.file : "Dockerfile",
				     err->pos.line, err->pos.col, msg, sep, sys);
	if (err->pos.line > 0)
		return kiln_asprintf("%s:%d: %s%s%s", err->pos.file ? err->pos.file : "Dockerfile",
				     err->pos.line, msg, sep, sys);
	if (err->pos.file) /* an error of a whole file */
		return kiln_asprintf("%s: %s%s%s", err->pos.file, msg, sep, sys);
	return kiln_asprintf("%s%s%s", msg, sep, sys);
}
