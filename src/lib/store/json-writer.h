/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/**
 * A compact JSON writer that spells values as Go's encoding/json does, so
 * that documents kiln writes hash like the ones docker and BuildKit write:
 * no whitespace, `<`, `>`, `&`, U+2028 and U+2029 escaped as \uXXXX,
 * control characters as \b \f \n \r \t or \u00XX, invalid UTF-8 replaced by
 * U+FFFD. Commas are placed by the writer; the caller only opens, closes and
 * names things. Errors (allocation, cap) are sticky: check once at the end
 * with kiln_jw_finish().
 */
struct kiln_jw {
	struct kiln_buf out;
	int need_comma[64]; /* per nesting level */
	int depth;
	int after_key;
	int indent; /* 0 = compact; else spaces per level, as json.MarshalIndent */
	int failed; /* -KILN_E... of the first failure, or 0 */
};

void kiln_jw_init(struct kiln_jw *w);
/** Like init, with json.MarshalIndent(v, "", <indent spaces>) layout. */
void kiln_jw_init_indent(struct kiln_jw *w, int indent);
void kiln_jw_release(struct kiln_jw *w);

void kiln_jw_obj_open(struct kiln_jw *w);
void kiln_jw_obj_close(struct kiln_jw *w);
void kiln_jw_arr_open(struct kiln_jw *w);
void kiln_jw_arr_close(struct kiln_jw *w);
/** The next value belongs to key `k` of the enclosing object. */
void kiln_jw_key(struct kiln_jw *w, const char *k);
void kiln_jw_str(struct kiln_jw *w, const char *s);
void kiln_jw_strn(struct kiln_jw *w, const char *s, size_t n);
void kiln_jw_int(struct kiln_jw *w, int64_t v);
void kiln_jw_bool(struct kiln_jw *w, int v);
void kiln_jw_null(struct kiln_jw *w);
/** Insert already-encoded JSON as one value. */
void kiln_jw_raw(struct kiln_jw *w, const char *json, size_t len);

/* key + value shorthands; the *_omitempty ones write nothing for NULL/""/0. */
void kiln_jw_kstr(struct kiln_jw *w, const char *k, const char *s);
void kiln_jw_kstr_omitempty(struct kiln_jw *w, const char *k, const char *s);
void kiln_jw_kint(struct kiln_jw *w, const char *k, int64_t v);
void kiln_jw_kint_omitempty(struct kiln_jw *w, const char *k, int64_t v);
void kiln_jw_kbool_omitempty(struct kiln_jw *w, const char *k, int v);

/** Take the document (heap, NUL-terminated) or the first error. */
int kiln_jw_finish(struct kiln_jw *w, char **ret, size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
