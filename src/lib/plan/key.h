/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "base/strv.h"
#include "dockerfile/graph.h"

/*
 * Cache keys. A key is the SHA-256 of named ingredients (what the step's
 * result depends on), and the ingredients are kept beside it so that a
 * cache miss can be explained later: which ingredient differs from the
 * record of the last run. docs/internals/build.md lists them per
 * instruction.
 *
 * Encoding (stable: changing it invalidates every cache): the text
 * "kiln-cache-v2\n", then per ingredient "<name>\0<decimal length>:<value>\n".
 */

#define KILN_PLAN_KEY_VERSION "kiln-cache-v2"

struct kiln_plan_key {
	struct kiln_digest digest; /* valid after kiln_plan_key_finish() */
	struct kiln_strv names;
	struct kiln_strv values;
};

#define KILN_PLAN_KEY_INIT                                                                         \
	{                                                                                          \
		.names = KILN_STRV_INIT, .values = KILN_STRV_INIT                                  \
	}

void kiln_plan_key_release(struct kiln_plan_key *k);

/** Add one ingredient (copied). -KILN_ENOMEM. */
int kiln_plan_key_add(struct kiln_plan_key *k, const char *name, const char *value,
		      struct kiln_error *err) __attribute__((warn_unused_result));

/** Compute `digest` from the ingredients added so far. */
int kiln_plan_key_finish(struct kiln_plan_key *k, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** The value of an ingredient, or NULL. */
const char *kiln_plan_key_get(const struct kiln_plan_key *k, const char *name);

/** The ingredients as a JSON array of [name, value] pairs (heap string). */
int kiln_plan_key_to_json(const struct kiln_plan_key *k, char **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Parse what kiln_plan_key_to_json() wrote into `k` (which must be empty). */
int kiln_plan_key_from_json(const char *json, struct kiln_plan_key *k, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The names of the ingredients two keys disagree on (present in one only,
 * or with different values), in `a`'s order then `b`'s extras. For
 * explaining a miss: compare the key asked for with the nearest record.
 */
int kiln_plan_key_diff(const struct kiln_plan_key *a, const struct kiln_plan_key *b,
		       struct kiln_strv *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** What a layer step's key is made of, besides the step itself. */
struct kiln_plan_step_input {
	const struct kiln_df_step *step; /* an expanded step of the graph */
	/*
	 * The key of the previous layer step, "base:<manifest digest>" for the
	 * first step on an image, "scratch" on an empty root. Ignored by
	 * COPY/ADD --link, whose layer does not depend on what is below it.
	 */
	const char *parent;
	const char *platform; /* "linux/amd64" */
	/* RUN: the network the step runs with ("host", "none"). */
	const char *network;
	/* RUN: what the build adds to its sandbox (--add-host, --ulimit,
	 * --shm-size) as one text, or NULL when nothing: then no ingredient. */
	const char *sandbox;
	/*
	 * COPY/ADD: the content digest of the selected sources (plan's
	 * selection digest; for ADD of a URL or git repository the digest of
	 * what was fetched). NULL when the step has none (heredocs only).
	 */
	const struct kiln_digest *sources;
	/*
	 * Where COPY --from or a RUN mount reads: "stage:<key of the stage's
	 * last step>", "image:<manifest digest>", or NULL for the context.
	 * For RUN, one description per mount (see kiln_plan_step_key()).
	 */
	const char *source_ref;
	const char *const *mounts;
	size_t n_mounts;
	/* COPY --chown resolved to numbers ("uid:gid"), NULL without --chown. */
	const char *owner;
	/* >= 0: SOURCE_DATE_EPOCH, which changes timestamps in layers. */
	int64_t source_date_epoch;
	/* COPY/ADD --link applies (it does not with --chmod, as in BuildKit). */
	int link;
};

/**
 * The key of a layer step (RUN, COPY, ADD, WORKDIR). Ingredients:
 *   parent, platform, instruction (a canonical text of the expanded
 *   instruction: flags, sources, destination, heredoc bodies), args (the
 *   build args the step uses, "K=V" per line);
 *   RUN: env (every variable the process gets, proxies excepted, as
 *   BuildKit), user, workdir, shell, network, mounts, sandbox (only when
 *   the build sets one);
 *   COPY/ADD: sources, from, owner (--chown resolved), dest, link;
 *   WORKDIR: user (the owner of what it creates);
 *   epoch when set.
 * Not in a key: mtimes of sources, ignore rules that select the same files,
 * build args the step does not use, proxy variables, labels, metadata
 * instructions that do not reach the step.
 */
int kiln_plan_step_key(const struct kiln_plan_step_input *in, struct kiln_plan_key *ret,
		       struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The canonical text of an expanded instruction that kiln_plan_step_key()
 * uses (exposed for tests and `--metadata-file`).
 */
int kiln_plan_instruction_text(const struct kiln_df_step *step, char **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
