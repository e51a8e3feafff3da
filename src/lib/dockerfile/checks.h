/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "ast.h"
#include "base/alloc.h"
#include "base/error.h"
#include "graph.h"

/*
 * BuildKit's build checks (frontend/dockerfile/linter): the warnings a
 * `docker build` prints and `docker build --check` returns, under
 * BuildKit's rule names and with its exact messages. Each rule is computed
 * where BuildKit computes it: while typing instructions (StageNameCasing,
 * FromAsCasing, MaintainerDeprecated, InvalidDefinitionDescription), over
 * the stages (ReservedStageName, DuplicateStageName,
 * ConsistentInstructionCasing), on the FROM lines (UndefinedArgInFrom,
 * InvalidDefaultArgInFrom, RedundantTargetPlatform,
 * FromPlatformFlagConstDisallowed) and while dispatching the stages
 * (UndefinedVar, LegacyKeyValueFormat, SecretsUsedInArgOrEnv,
 * JSONArgsRecommended, MultipleInstructionsDisallowed, WorkdirRelativePath,
 * ExposeProtoCasing, ExposeInvalidFormat, CopyIgnoredFile,
 * InvalidBaseImagePlatform); NoEmptyContinuation comes from the parser.
 *
 * Configuration, as in BuildKit: the `# check=skip=A,B;error=true;
 * experimental=C` directive, replaced as a whole by the build arg
 * BUILDKIT_DOCKERFILE_CHECK, and a `# check=...` comment above an
 * instruction for that instruction alone. Experimental rules
 * (InvalidDefinitionDescription) run only when named in experimental= (or
 * `all`); skip= does not touch them.
 *
 * Hooks (graph.h) give the checks what this module cannot know:
 * `reference_check` for InvalidDefaultArgInFrom (and base references),
 * `ignore_matches` for CopyIgnoredFile, `image_config` for
 * InvalidBaseImagePlatform and base-image variables. Without them those
 * rules stay silent.
 */

/** A rule: name (as in `# check=skip=`), description, documentation URL. */
struct kiln_df_check_rule {
	const char *name;
	const char *description;
	const char *url; /* NULL for InvalidBaseImagePlatform */
	int experimental;
};

/** The rule table, in BuildKit's order. */
const struct kiln_df_check_rule *kiln_df_check_rules(size_t *ret_n);

struct kiln_df_check_warning {
	const struct kiln_df_check_rule *rule;
	char *message; /* BuildKit's detail text */
	int line;      /* first line of the location (0: none) */
	int end_line;
};

enum kiln_df_check_mode {
	/** The warnings a build of the target prints: stages it does not need are not dispatched.
	 */
	KILN_DF_CHECK_BUILD = 0,
	/** The lint subrequest (`docker build --check`): every stage unless a target is named. */
	KILN_DF_CHECK_LINT,
};

struct kiln_df_check_opts {
	enum kiln_df_check_mode mode;
	const char *target;	       /* NULL: the last stage */
	const char *const *build_args; /* "K=V"; BUILDKIT_DOCKERFILE_CHECK is read from here */
	size_t n_build_args;
	const struct kiln_df_platform *build_platform;	/* NULL: the host */
	const struct kiln_df_platform *target_platform; /* NULL: the build platform */
	const struct kiln_df_hooks *hooks;		/* NULL: none */
	/* NULL: made per Dockerfile; else made once from the build args and
	 * platforms above (kiln_df_graph_defaults_new) for many Dockerfiles */
	const struct kiln_df_graph_defaults *defaults;
};

/**
 * The outcome. `warnings` are sorted by (line, message), duplicates
 * dropped. When the Dockerfile could not be processed to its end (a parse
 * or instruction error, an expansion error, a bad reference, ...), or when
 * `error=true` turned warnings into a failure, `error` holds BuildKit's
 * message for it (for instance "dockerfile parse error on line 4: unknown
 * instruction: BADCMD" or "lint violation found for rules: FromAsCasing")
 * with its lines; the warnings found before are kept, as BuildKit keeps
 * them.
 */
struct kiln_df_check_result {
	struct kiln_df_check_warning *warnings;
	size_t n_warnings;
	char *error;
	enum kiln_err error_code;
	int error_line, error_end_line;
	int error_from_checks; /* the error is error=true's "lint violation found" */
	int error_from_config; /* the error is a bad `# check=` or BUILDKIT_DOCKERFILE_CHECK */
	void *text_;	       /* private: the storage of the warnings' messages */
};

void kiln_df_check_result_free(struct kiln_df_check_result *r);
KILN_DEFINE_CLEANUP(struct kiln_df_check_result, kiln_df_check_result_free)

/**
 * Run the checks over a parsed Dockerfile. Returns 0 when the checks ran
 * (look at (*ret)->error for a Dockerfile that fails), or < 0 only for
 * -KILN_ENOMEM and errors of the hooks' own.
 */
int kiln_df_check_ast(const struct kiln_df_ast *ast, const struct kiln_df_check_opts *opts,
		      struct kiln_df_check_result **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * kiln_df_check_ast() into the caller's `res` (overwritten; on failure left
 * empty): no allocation of the result itself. Release it with
 * kiln_df_check_result_release().
 */
int kiln_df_check_ast_into(const struct kiln_df_ast *ast, const struct kiln_df_check_opts *opts,
			   struct kiln_df_check_result *res, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Free what a result holds (not the result itself) and empty it. */
void kiln_df_check_result_release(struct kiln_df_check_result *r);

/** Parse data[0..len) and run the checks; a parse error becomes the result's error. */
int kiln_df_check(const char *data, size_t len, const char *filename,
		  const struct kiln_df_check_opts *opts, struct kiln_df_check_result **ret,
		  struct kiln_error *err) __attribute__((warn_unused_result));

/** BuildKit's short form: "Rule: message (line N)" (no " (line N)" without a line). */
char *kiln_df_check_format_short(const struct kiln_df_check_warning *w)
	__attribute__((warn_unused_result));
