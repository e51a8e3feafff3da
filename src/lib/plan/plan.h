/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/alloc.h"
#include "base/error.h"
#include "dockerfile/graph.h"
#include "plan/key.h"
#include "plan/path.h"
#include "plan/select.h"

/*
 * The plan module: what a build will do, computed without root, mounts or
 * a store (bubblewrap's plan-then-execute split). From the stage graph of
 * the dockerfile module it takes the stages the target needs and, per
 * step, whether it makes a layer, which stages it waits for and the name
 * BuildKit's progress gives it ("[build 2/5] RUN make"). key.h computes
 * cache keys, select.h resolves and hashes COPY/ADD sources, path.h holds
 * the path rules they share. docs/internals/build.md has the design.
 */

/** One step of a stage, in order (ONBUILD triggers of the base first). */
struct kiln_plan_step {
	const struct kiln_df_step *df;
	/* RUN, COPY, ADD, and WORKDIR of anything but "/" make a layer */
	int layer;
	/* BuildKit's progress number within the stage (0: not numbered) */
	int index;
	/* "[build 2/5] RUN make" (RUN lines with the stage's variables expanded) */
	char *name;
	/* COPY --from=<stage>: that stage's plan index, else -1 */
	long wait_stage;
	/* RUN --mount from=<stage>: one entry per mount (-1: not a stage) */
	long *mount_stages;
	size_t n_mounts;
};

struct kiln_plan_stage {
	const struct kiln_df_stage *df;
	size_t graph_index;
	/* "build", "stage-1", or "" when the Dockerfile has a single stage */
	char *label;
	/* FROM <earlier stage>: its plan index, else -1 */
	long base_stage;
	/* the FROM counts as step 1 (an image base) */
	int from_numbered;
	int total; /* numbered steps, as BuildKit counts them */
	struct kiln_plan_step *steps;
	size_t n_steps;
};

/** The needed stages, each after every stage it uses. */
struct kiln_plan {
	const struct kiln_df_graph *graph;
	struct kiln_plan_stage *stages;
	size_t n_stages;
	size_t target; /* index in `stages` (the last one) */
	int lone;      /* one stage only: progress names carry no stage label */
};

int kiln_plan_new(const struct kiln_df_graph *g, struct kiln_plan **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_plan_free(struct kiln_plan *p);
KILN_DEFINE_CLEANUP(struct kiln_plan, kiln_plan_free)

/**
 * A progress name in BuildKit's format for a stage of the plan:
 * "[label index/total] text", index right-aligned to the width of total;
 * just "[label] text" when index is 0. Heap string.
 */
char *kiln_plan_step_name(const struct kiln_plan *p, const struct kiln_plan_stage *s, int index,
			  const char *text) __attribute__((warn_unused_result));
