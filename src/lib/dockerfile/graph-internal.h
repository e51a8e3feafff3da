/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/strv.h"
#include "checks-internal.h"
#include "graph.h"
#include "model-internal.h"
#include "shell/shell.h"

/*
 * The graph walk's private state, shared by graph.c (global scope, FROM
 * lines, stages, edges, schedule) and dispatch.c (a stage's instructions).
 */

/** An ARG declared in a stage (BuildKit's dispatchState.buildArgs). */
struct df_buildarg {
	char *key;
	char *value; /* NULL: declared without a value */
};

/** A command of a stage: an instruction and the stages it reads (toCommand). */
struct df_cmd {
	const struct kiln_df_instr *instr;
	int onbuild;	     /* replayed ONBUILD trigger */
	long source;	     /* COPY --from: stage index, -1 none, -2 image or scratch */
	long *mount_sources; /* RUN: per mount spec, as above */
	size_t n_mounts;
};

/** BuildKit's dispatchState, for one stage. */
struct df_state {
	struct df_cmd *cmds;
	size_t n_cmds, alloc_cmds;
	int triggers_added; /* onbuild triggers of the base prepended */

	/* dispatch */
	struct kiln_shell_envlist *env;
	struct df_buildarg *args;
	size_t n_args, alloc_args;
	struct kiln_strv arg_env; /* names whose env value an ARG set */
	char *workdir;
	char *user;
	struct kiln_strv shell;
	int workdir_set;
	int cmd_set, entrypoint_set, health_set;
	int cmd_line[2], entrypoint_line[2], health_line[2];
	const struct kiln_df_node *cmd_node, *entrypoint_node, *health_node;
	struct kiln_strv onbuild; /* image config ONBUILD triggers of an image base */
	int dispatched;
};

struct df_graph {
	struct kiln_df_graph *g;
	const struct kiln_df_graph_opts *opts;
	const struct kiln_df_hooks *hooks;
	struct kiln_df_lint *lint;
	struct kiln_df_arena *a;
	const char *file;
	struct kiln_shell_lex lex;

	struct kiln_shell_envlist *build_args; /* --build-arg */
	struct kiln_shell_envlist *global;     /* globalArgs */
	struct kiln_strv meta_keys;	       /* ARG names of the global scope */
	struct kiln_strv consumed;	       /* every ARG name declared and dispatched */
	struct df_state *states;

	/* ONBUILD triggers re-parsed from text (they own their AST) */
	struct kiln_df_ast **trigger_asts;
	size_t n_trigger_asts;
	struct kiln_df_model *trigger_model;
};

/** Expand one word with the given variables (BuildKit's ProcessWordWithMatches). */
int df_expand(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
	      const struct kiln_shell_envlist *env, struct kiln_shell_result *res,
	      struct kiln_error *err);

/** UndefinedVar for the unmatched names of an expansion (reportUnmatchedVariables). */
int df_report_unmatched(struct df_graph *gr, struct df_state *st, const struct kiln_df_instr *in,
			const struct kiln_strv *unmatched);

/** Dispatch one stage: its ONBUILD replays and instructions, expanded. */
int df_dispatch_stage(struct df_graph *gr, size_t index, struct kiln_error *err);

/** Locate an error at an instruction. */
int df_fail_at(struct df_graph *gr, struct kiln_error *err, int start, int end, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));

/** "NAME=VALUE" into an arena words list from a heap vector. */
int df_words_set(struct df_graph *gr, const struct kiln_strv *v, struct kiln_df_words *ret);

/** The secrets rule of ARG and ENV keys (validateNoSecretKey). */
int df_check_secret_key(struct df_graph *gr, const char *instr, const char *key,
			const struct kiln_df_instr *in);
