/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The dockerfile module: kiln_df_parse() and the AST (ast.h), BuildKit's
 * dump and kiln's JSON model of a Dockerfile, and the parser's building
 * blocks for reuse (syntax.h); the typed instruction model (model.h),
 * platforms (platform.h), the expansion walk and stage graph (graph.h) and
 * BuildKit's build checks (checks.h).
 */
#include "ast.h"
#include "checks.h"
#include "graph.h"
#include "model.h"
#include "platform.h"
#include "syntax.h"
