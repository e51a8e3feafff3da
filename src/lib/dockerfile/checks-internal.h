/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "ast.h"
#include "base/strv.h"

/*
 * The linter the model and graph walks report into (BuildKit's
 * linter.Linter): a rule fires at a location, the configuration (`# check=`
 * directive, BUILDKIT_DOCKERFILE_CHECK, a `# check=` comment above the
 * instruction being processed) decides whether it is kept. A NULL linter
 * drops everything, so the walks call it unconditionally. Module-private.
 */

enum df_rule {
	DF_RULE_STAGE_NAME_CASING,
	DF_RULE_FROM_AS_CASING,
	DF_RULE_NO_EMPTY_CONTINUATION,
	DF_RULE_CONSISTENT_INSTRUCTION_CASING,
	DF_RULE_DUPLICATE_STAGE_NAME,
	DF_RULE_RESERVED_STAGE_NAME,
	DF_RULE_JSON_ARGS_RECOMMENDED,
	DF_RULE_MAINTAINER_DEPRECATED,
	DF_RULE_UNDEFINED_ARG_IN_FROM,
	DF_RULE_WORKDIR_RELATIVE_PATH,
	DF_RULE_UNDEFINED_VAR,
	DF_RULE_MULTIPLE_INSTRUCTIONS_DISALLOWED,
	DF_RULE_LEGACY_KEY_VALUE_FORMAT,
	DF_RULE_INVALID_BASE_IMAGE_PLATFORM,
	DF_RULE_REDUNDANT_TARGET_PLATFORM,
	DF_RULE_SECRETS_USED_IN_ARG_OR_ENV,
	DF_RULE_INVALID_DEFAULT_ARG_IN_FROM,
	DF_RULE_FROM_PLATFORM_FLAG_CONST_DISALLOWED,
	DF_RULE_COPY_IGNORED_FILE,
	DF_RULE_INVALID_DEFINITION_DESCRIPTION,
	DF_RULE_EXPOSE_PROTO_CASING,
	DF_RULE_EXPOSE_INVALID_FORMAT,
	DF_RULE_MAX_
};

struct kiln_df_lint;

/* linter.Config: what the `# check=` options skip, enable and make errors (check-config.c) */
struct df_check_config {
	int skip_all, experimental_all, error;
	struct kiln_strv skip, experimental;
};
void df_check_config_release(struct df_check_config *c);
/** linter.ParseLintOptions of s into c (zeroed first); on error, c holds what came before. */
int df_check_config_parse(const char *s, struct df_check_config *c, struct kiln_error *err);
/**
 * The `# check=` comments above node, parsed like the directive into c (zeroed first); a
 * comment that does not parse is an ordinary comment. 0 or -KILN_ENOMEM.
 */
int df_check_config_scope(const struct kiln_df_node *node, struct df_check_config *c);

/**
 * Report `rule` at lines start..end with a printf message. `scope` is the
 * node whose `# check=` comments apply (the instruction being processed),
 * or NULL for the file's configuration alone. Returns 0 or -KILN_ENOMEM.
 */
int df_lint_run(struct kiln_df_lint *l, enum df_rule rule, const struct kiln_df_node *scope,
		int start, int end, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

struct kiln_buf;
/**
 * Append a message as df_lint_run() formats it: printf's result, without
 * printf for formats of only %s and %% (NULL prints as "(null)"). 0 or the
 * buffer's error.
 */
int df_lint_format(struct kiln_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Whether a rule would be kept at all (to skip costly checks). */
int df_lint_wants(const struct kiln_df_lint *l, enum df_rule rule);
