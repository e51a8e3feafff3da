/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/alloc.h"
#include "base/error.h"
#include "model.h"
#include "platform.h"

/*
 * The build graph of a Dockerfile: BuildKit's dockerfile2llb walk without
 * the LLB. From a typed model, build args, a target and platforms it
 * computes, exactly where BuildKit does:
 *
 *   - the global scope: predefined args (BUILDPLATFORM, TARGETPLATFORM,
 *     TARGETSTAGE, ...) and the ARGs before the first FROM, with --build-arg
 *     values; FROM lines (image and --platform) expanded in it;
 *   - the stages: base (image, earlier stage or scratch), platform, the
 *     edges (FROM stage, COPY --from, RUN --mount from=), image dependencies
 *     (COPY --from=image, mount from=image), which stages the target needs,
 *     and a schedule of the needed stages in parallel levels;
 *   - for every needed stage (every stage with KILN_DF_GRAPH_ALL_STAGES),
 *     its instructions expanded in the stage's scope (ARGs re-declared in
 *     the stage, ENV, the base image's environment), ONBUILD triggers of the
 *     base replayed first, and per instruction the build args it uses.
 *
 * Errors are BuildKit's, located at the instruction (`Dockerfile:LINE`):
 * `target stage "x" could not be found`, `base name (${X}) should not be
 * blank`, `invalid stage index 3`, `cannot copy from stage "b", it needs to
 * be defined before current stage "a"`, `circular dependency detected on
 * stage: a`, expansion errors, mount errors, ... A stage name used twice is
 * allowed, as in BuildKit (its DuplicateStageName check warns): FROM finds
 * the latest stage of the name before it, --from and --target the last.
 *
 *     struct kiln_df_graph_opts o = { .target = "app", .build_args = args,
 *                                     .n_build_args = n };
 *     r = kiln_df_graph_new(model, &o, &g, err);
 *     for each level l: for each g->levels[l][i]: build g->stages[that] ...
 */

enum kiln_df_base_kind {
	KILN_DF_BASE_IMAGE = 0,
	KILN_DF_BASE_STAGE,
	KILN_DF_BASE_SCRATCH,
};

enum kiln_df_edge_kind {
	KILN_DF_EDGE_FROM = 0, /* FROM <earlier stage> */
	KILN_DF_EDGE_COPY,     /* COPY --from= */
	KILN_DF_EDGE_MOUNT,    /* RUN --mount=from= */
};

/** A stage depending on another stage. */
struct kiln_df_edge {
	enum kiln_df_edge_kind kind;
	size_t stage;	  /* the stage depended on */
	const char *ref;  /* as written: the name, index or base */
	int line;	  /* the instruction's first line */
	int from_onbuild; /* made by an ONBUILD trigger of the base */
};

/** A stage using an image that is not a stage (COPY --from=alpine, mount from=img). */
struct kiln_df_image_dep {
	enum kiln_df_edge_kind kind;
	const char *ref;
	int line;
};

/**
 * One instruction of a dispatched stage, expanded. `used_args` are the
 * build args it depends on as "NAME=VALUE" (what a cache key must cover):
 * for most instructions the ARG-scoped variables its words expanded; for
 * RUN every ARG declared in the stage (they are its environment, as in
 * BuildKit). `env` (RUN only) is the process environment without proxy
 * variables, which are in `proxy_env` (from build args; not part of a cache
 * key, as in BuildKit). `source_stage` is the stage a COPY --from reads
 * (-1 otherwise); `mount_stages` has one entry per RUN mount (-1: not a
 * stage). `unset_vars` are the variables its words used that had no value
 * (they expanded to nothing, as in BuildKit): an ENV of a base image whose
 * config the caller did not supply, an ARG without a value or build arg, a
 * name nothing sets. A caller that knows less than the build will (`kiln
 * context` has no image configs) can tell from them which words it cannot
 * trust.
 */
struct kiln_df_step {
	struct kiln_df_instr instr;
	struct kiln_df_words used_args;
	struct kiln_df_words unset_vars;
	const char *workdir; /* the working directory after the step ("/" by default) */
	const char *user;    /* the user after the step ("" = the image's default) */
	const char *dest;    /* COPY/ADD: the destination made absolute (BuildKit's rules) */
	struct kiln_df_words env;
	struct kiln_df_words proxy_env;
	struct kiln_df_words shell; /* the shell for shell-form RUN/CMD/ENTRYPOINT */
	long source_stage;
	long *mount_stages;
};

struct kiln_df_stage {
	size_t index;
	const char *name; /* lower-cased; NULL for an unnamed stage */
	const char *id;	  /* the name, or "stage-N" as BuildKit calls unnamed stages */
	const struct kiln_df_model_stage *model;
	const char *base_raw; /* as written */
	enum kiln_df_base_kind base_kind;
	const char *base;		  /* expanded image reference, stage name or "scratch" */
	size_t base_stage;		  /* KILN_DF_BASE_STAGE: its index */
	const char *platform_raw;	  /* --platform as written, NULL when absent */
	struct kiln_df_platform platform; /* the platform the stage builds for */
	int has_platform;		  /* --platform given */
	struct kiln_df_words from_args;	  /* build args the FROM line used, "K=V" */
	int start_line, end_line;

	struct kiln_df_edge *deps; /* FROM stage first, then in instruction order */
	size_t n_deps;
	struct kiln_df_image_dep *images;
	size_t n_images;

	/* A named context (BuildKit's --build-context NAME=...) stands for the
	 * stage: its base is the image `name` (the caller resolves it to the
	 * context), it has no steps and depends on nothing. */
	int replaced;
	int needed;	/* the target needs it (the target itself included) */
	int level;	/* its level in the schedule, -1 when not needed */
	int dispatched; /* its steps were computed */
	struct kiln_df_step *steps;
	size_t n_steps;
};

/**
 * A base image's configuration, for when the caller knows it (the build
 * engine after pulling; lint does without). All pointers need only stay
 * valid until the hook returns.
 */
struct kiln_df_image_config {
	const char *const *env; /* "K=V" */
	size_t n_env;
	const char *working_dir;
	const char *user;
	const char *const *shell;
	size_t n_shell;
	const char *const *onbuild; /* ONBUILD triggers of the image */
	size_t n_onbuild;
	const char *os, *arch, *variant; /* NULL when unknown */
};

/**
 * What the dockerfile module cannot know itself, supplied by its caller
 * (the modules that know it come later in the module order). Every hook is
 * optional.
 */
struct kiln_df_hooks {
	void *userdata;
	/**
	 * A base image's config: 1 with *ret filled, 0 when unknown (defaults:
	 * no ENV but PATH, no WORKDIR, no USER, no SHELL), < 0 on error.
	 * Called for the image bases of the stages that are dispatched.
	 */
	int (*image_config)(void *userdata, const char *ref,
			    const struct kiln_df_platform *platform,
			    struct kiln_df_image_config *ret, struct kiln_error *err);
	/**
	 * Check an image reference (docker's ParseNormalizedNamed): 0 when
	 * valid, < 0 with err set ("invalid reference format") otherwise.
	 * Used for the bases of needed stages ("failed to parse stage name")
	 * and by the InvalidDefaultArgInFrom check.
	 */
	int (*reference_check)(void *userdata, const char *ref, struct kiln_error *err);
	/**
	 * .dockerignore for the CopyIgnoredFile check: MatchesOrParentMatches
	 * of a COPY/ADD source path as written. 1 excluded, 0 not, < 0 error.
	 * NULL when there is no .dockerignore.
	 */
	int (*ignore_matches)(void *userdata, const char *path, struct kiln_error *err);
	/** The .dockerignore has '!' exceptions (BuildKit then does not check). */
	int ignore_has_exceptions;
	/**
	 * Whether a named context replaces the stage `name` (BuildKit's named
	 * contexts): 1 yes, 0 no, < 0 error. Such a stage is based on the image
	 * `name` and its instructions are not dispatched.
	 */
	int (*named_context)(void *userdata, const char *name, struct kiln_error *err);
};

enum kiln_df_graph_flags {
	/** Dispatch every stage, not only those the target needs (lint). */
	KILN_DF_GRAPH_ALL_STAGES = 1 << 0,
	/**
	 * Only the walk's errors and checks are wanted (kiln_df_check_ast()): the
	 * same errors and warnings, but no records for a build: stages have no
	 * steps and no from_args, and there is no global_args, schedule or
	 * unused_build_args.
	 */
	KILN_DF_GRAPH_CHECKS_ONLY = 1 << 2,
};

struct kiln_df_lint; /* the checks' sink; set by kiln_df_check() */
struct kiln_df_graph_defaults;

struct kiln_df_graph_opts {
	const char *target;	       /* NULL: the last stage */
	const char *const *build_args; /* "K=V" (a later K replaces an earlier one) */
	size_t n_build_args;
	const struct kiln_df_platform *build_platform;	/* NULL: the host */
	const struct kiln_df_platform *target_platform; /* NULL: the build platform */
	unsigned flags;					/* enum kiln_df_graph_flags */
	const struct kiln_df_hooks *hooks;		/* NULL: none */
	struct kiln_df_lint *lint;			/* internal */
	/* NULL: made from the fields above for this graph; else made once from
	 * them (kiln_df_graph_defaults_new), and those fields are not read */
	const struct kiln_df_graph_defaults *defaults;
};

/**
 * What the graphs of many Dockerfiles with the same build args and platforms
 * share: the build args, the platforms (the host looked up once) and the
 * predefined args made from them, from `o`'s build_args, build_platform and
 * target_platform. Read-only once made, so threads may share it; it must
 * outlive the graphs made with it. Errors: KILN_ENOMEM.
 */
int kiln_df_graph_defaults_new(const struct kiln_df_graph_opts *o,
			       struct kiln_df_graph_defaults **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_df_graph_defaults_free(struct kiln_df_graph_defaults *d);
KILN_DEFINE_CLEANUP(struct kiln_df_graph_defaults, kiln_df_graph_defaults_free)

struct kiln_df_graph {
	const struct kiln_df_model *model;
	struct kiln_df_stage *stages;
	size_t n_stages;
	size_t target;
	/* strings of opts->defaults' platforms when shared, else the graph's */
	struct kiln_df_platform build_platform;
	struct kiln_df_platform target_platform;
	/** The global scope after build args, "K=V" in definition order. */
	struct kiln_df_words global_args;
	/** The schedule: levels[l][0..level_sizes[l]) are stage indexes. */
	size_t **levels;
	size_t *level_sizes;
	size_t n_levels;
	/** Build args no ARG consumed (sorted), for docker's warning. */
	struct kiln_df_words unused_build_args;
	struct kiln_arena *arena_; /* private */
	void *private_;
};

/**
 * Compute the graph. The model (and its AST) must outlive the graph. The
 * walk stops at the first error, in BuildKit's order: FROM lines, target,
 * --from references, cycles, then the dispatched stages in order.
 */
int kiln_df_graph_new(const struct kiln_df_model *model, const struct kiln_df_graph_opts *opts,
		      struct kiln_df_graph **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

void kiln_df_graph_free(struct kiln_df_graph *g);
KILN_DEFINE_CLEANUP(struct kiln_df_graph, kiln_df_graph_free)

/** "[Warning] One or more build-args [A B] were not consumed" (docker's text), or NULL. */
char *kiln_df_graph_unused_args_warning(const struct kiln_df_graph *g)
	__attribute__((warn_unused_result));

/** Name of an edge kind: "from", "copy", "mount". */
const char *kiln_df_edge_kind_name(enum kiln_df_edge_kind k);
/** Name of a base kind: "image", "stage", "scratch". */
const char *kiln_df_base_kind_name(enum kiln_df_base_kind k);
