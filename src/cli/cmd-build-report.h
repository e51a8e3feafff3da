/* SPDX-License-Identifier: Apache-2.0 */
/* kiln build's reports of a result (cmd-build-report.c). */
#pragma once

#include <stddef.h>

#include "base/error.h"
#include "build/build.h"

/** One warning on stderr, in a line: rule, message, line. */
void build_print_warning(const struct kiln_build_warning *w);
/** --call=targets, as BuildKit prints its targets subrequest. */
void build_print_targets(const struct kiln_build_result *res);
/** --call=outline, as BuildKit prints its outline subrequest. */
void build_print_outline(const struct kiln_build_outline *o);
/** --check, as buildx prints the lint result; the CLI exit code. */
int build_print_check(const struct kiln_build_result *res, const char *df_name,
		      const char *df_data, size_t df_len);
/** --metadata-file: the result as JSON, BuildKit's keys and kiln's. */
int build_write_metadata(const char *path, const struct kiln_build_result *res,
			 struct kiln_error *err) __attribute__((warn_unused_result));
