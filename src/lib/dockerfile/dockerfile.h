/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The dockerfile module: kiln_df_parse() and the AST (ast.h), BuildKit's
 * dump and kiln's JSON model of a Dockerfile, and the parser's building
 * blocks for reuse (syntax.h).
 */
#include "ast.h"
#include "syntax.h"
