/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/**
 * The one error type of kiln. Fallible functions return int (>= 0 success,
 * -KILN_E... failure) and take `struct kiln_error *err` last; `err` may be
 * NULL and is filled only on failure. The CLI prints it; the library never
 * prints.
 *
 * Codes are stable and never renumbered: scripts may depend on them through
 * the CLI's exit statuses.
 */
enum kiln_err {
	KILN_OK = 0,
	KILN_ENOMEM = 1,   /* allocation failed */
	KILN_EIO = 2,      /* a system call failed; sys_errno says which */
	KILN_EPARSE = 3,   /* malformed input: Dockerfile, JSON, tar, ... */
	KILN_EINVAL = 4,   /* a well-formed but invalid value or usage */
	KILN_ENOTFOUND = 5,/* a name, file, blob or stage that does not exist */
	KILN_EAUTH = 6,    /* registry refused credentials */
	KILN_ENET = 7,     /* network or HTTP failure */
	KILN_EDIGEST = 8,  /* content does not match its digest */
	KILN_ECHILD = 9,   /* a process kiln started failed */
	KILN_ELIMIT = 10,  /* an input exceeded a named limit */
	KILN_EEXIST = 11,  /* already exists */
	KILN_EBUSY = 12,   /* locked or in use */
	KILN_EUNSUPP = 13, /* valid input this platform cannot handle */
	KILN_ECANCEL = 14, /* interrupted by the user */
	KILN_EINTERNAL = 15,
	KILN_ERR_MAX_
};

/** A position in a source file (Dockerfile, .dockerignore). line 0 = none. */
struct kiln_srcpos {
	char *file; /* owned; NULL when not known */
	int line;   /* 1-based; 0 when not known */
	int col;    /* 1-based; 0 when not known */
	int end_line;
};

struct kiln_error {
	enum kiln_err code;
	int sys_errno;
	char *msg; /* owned, or points at a static string when msg_static */
	int msg_static;
	struct kiln_srcpos pos;
};

#define KILN_ERROR_INIT                                                                          \
	{                                                                                        \
		.code = KILN_OK                                                                  \
	}

/** Human name of a code ("out of memory", "parse error", ...). Never NULL. */
const char *kiln_strerror(enum kiln_err code);

/**
 * Fill `err` (if non-NULL) with `code`, `sys_errno` (0 if none) and a
 * printf-style message, replacing anything it held. Returns -code, so that
 * `return kiln_fail(err, KILN_EPARSE, 0, "...");` reads naturally.
 */
int kiln_fail(struct kiln_error *err, enum kiln_err code, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int kiln_failv(struct kiln_error *err, enum kiln_err code, int sys_errno, const char *fmt,
	       va_list ap) __attribute__((format(printf, 4, 0)));

/** Like kiln_fail() with errno as sys_errno and KILN_EIO as code. */
int kiln_fail_errno(struct kiln_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Like kiln_fail() and records a source position (file copied). */
int kiln_fail_at(struct kiln_error *err, enum kiln_err code, const char *file, int line, int col,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/** Set the source position of an already-filled error if it has none. */
void kiln_error_set_pos(struct kiln_error *err, const char *file, int line, int col);

/**
 * Prepend "<context>: " to the message of a filled error and return `r`
 * unchanged (r is the negative code a callee returned).
 */
int kiln_error_prefix(struct kiln_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** kiln_error_release for an error that holds a message or a file name. */
void kiln_error_release_held(struct kiln_error *err);

/**
 * Free what `err` holds and reset it to KILN_OK. NULL is fine. Inline:
 * most released errors were never filled and hold nothing to free.
 */
static inline void kiln_error_release(struct kiln_error *err)
{
	if (!err)
		return;
	if (err->msg || err->pos.file)
		kiln_error_release_held(err);
	else
		*err = (struct kiln_error){ .code = KILN_OK };
}

/** Move the contents of `src` into `dst` (dst released first); src is reset. */
void kiln_error_move(struct kiln_error *dst, struct kiln_error *src);

/**
 * Format the error for a human: "file:line: msg" when a position is known,
 * otherwise "msg"; with ": strerror(sys_errno)" appended when sys_errno is set
 * and the message does not already end with it. Returns a heap string or
 * NULL on allocation failure.
 */
char *kiln_error_format(const struct kiln_error *err);
