/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/gotext.h"

/*
 * Go's text primitives are base/gotext.h. These are the kiln_df_ names of
 * the three that the build checks and the build driver call, which reach
 * them through syntax.h; new code uses base/gotext.h.
 */

__attribute__((warn_unused_result)) static inline int kiln_df_go_quote(struct kiln_buf *out,
								       const char *s, size_t len)
{
	return kiln_go_quote(out, s, len);
}

static inline size_t kiln_df_space_prefix(const char *s, size_t len)
{
	return kiln_go_space_prefix(s, len);
}

static inline size_t kiln_df_space_suffix(const char *s, size_t len)
{
	return kiln_go_space_suffix(s, len);
}
