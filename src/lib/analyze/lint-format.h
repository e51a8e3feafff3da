/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The report formats of lint-format-ci.c, for kiln_lint_render(). Each
 * returns 0, -KILN_ENOMEM or -KILN_ELIMIT. */
#include <stddef.h>

#include "analyze/lint.h"
#include "base/buf.h"

int lint_render_gnu(const struct kiln_lint_report *const *reps, size_t n, struct kiln_buf *out);
int lint_render_codacy(const struct kiln_lint_report *const *reps, size_t n, struct kiln_buf *out);
int lint_render_sonarqube(const struct kiln_lint_report *const *reps, size_t n,
			  struct kiln_buf *out);
int lint_render_codeclimate_engine(const struct kiln_lint_report *const *reps, size_t n,
				   struct kiln_buf *out);

/* Code Climate's category of a finding: secrets are Security, style Style, the rest Bug Risk. */
const char *lint_codeclimate_category(const struct kiln_lint_finding *f);
