/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * JSON text for lint's CI formats, written straight into a buffer: building
 * jansson values for thousands of findings and dumping them cost several
 * times the linting itself. The layout is json_dumps(JSON_INDENT(2) |
 * JSON_PRESERVE_ORDER)'s, escapes included, so a document reads the same.
 */
#include <stddef.h>

#include "base/buf.h"

/* The longest escape of one input byte ("\u001F"); an invalid UTF-8 byte
 * becomes U+FFFD, three bytes. */
#define LINT_JSON_ESCAPE_MAX 6

/*
 * Escape s[0..n) at o, which has room for LINT_JSON_ESCAPE_MAX * n bytes;
 * returns the end. '"', '\\' and control characters are escaped as jansson
 * escapes them; bytes that are not UTF-8 become U+FFFD, so that the output
 * is always valid JSON.
 */
char *lint_json_escape(char *o, const char *s, size_t n);

/* Width of the valid UTF-8 sequence at s[0..n) (1 to 4), or 0 when the byte
 * at s starts none; n > 0. */
size_t lint_utf8_width(const char *s, size_t n);

/* Append "s" as a JSON string literal. */
int lint_json_add_str(struct kiln_buf *b, const char *s) __attribute__((warn_unused_result));

#define LINT_JSON_MAX_DEPTH 16

/*
 * A document written as it goes. Values take a key inside objects (plain
 * ASCII, written as is) and NULL inside arrays; the first failure sticks
 * and lint_json_end() returns it.
 */
struct lint_json {
	struct kiln_buf *out;
	int depth;
	unsigned char has_items[LINT_JSON_MAX_DEPTH];
	int r;
};

void lint_json_begin(struct lint_json *j, struct kiln_buf *out);
void lint_json_open(struct lint_json *j, const char *key, char bracket); /* '{' or '[' */
void lint_json_close(struct lint_json *j, char bracket);
void lint_json_str(struct lint_json *j, const char *key, const char *v);
void lint_json_int(struct lint_json *j, const char *key, long long v);
int lint_json_end(struct lint_json *j) __attribute__((warn_unused_result));
