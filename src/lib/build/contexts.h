/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Build contexts besides the main one: --build-context NAME=VALUE (BuildKit's
 * named contexts) and a main context from a git repository or a URL.
 *
 * A named context stands for the image NAME wherever the Dockerfile reads
 * one (FROM, COPY --from, RUN --mount from=) and for the stage NAME (which
 * then does not run). To the rest of the build it is an image (struct
 * bb_image): `docker-image://` is that image, `oci-layout://` the image of a
 * local OCI layout, and a directory (or what a git or https URL fetched) a
 * one-layer image of its files, as BuildKit makes a local context a base.
 * Module-private.
 */
#include "build/build-private.h"

/** Read the --build-context options and check them (directories exist, layouts are layouts). */
int bb_contexts_open(struct bb *b, struct kiln_error *err) __attribute__((warn_unused_result));
void bb_contexts_close(struct bb *b);

/**
 * The named context for an image reference or stage name on `platform`
 * ("linux/amd64"), matched the way BuildKit matches them (the familiar
 * name, without ":latest"; NAME::PLATFORM before NAME). NULL when none.
 */
const struct bb_context *bb_context_find(struct bb *b, const char *ref, const char *platform);

/** The docker-image:// reference of a context, NULL for the other kinds. */
const char *bb_context_image_ref(const struct bb_context *c);

/**
 * The image of a context that is not a docker-image:// one, made for the
 * build (its layer cached like a step's). `*ret` is a new bb_image with `ref`
 * and `platform` set, for the caller to keep. 0 with *ret NULL when it cannot
 * be made yet (a git or https context in the first, offline graph pass).
 */
int bb_context_image(struct bb *b, const struct bb_context *c, const char *ref,
		     const struct kiln_df_platform *platform, const char *plat,
		     struct bb_image **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** The kiln_df_hooks named_context hook: 1 when a context replaces the stage `name`. */
int bb_context_stage_hook(void *userdata, const char *name, struct kiln_error *err);

/**
 * The main context from opts->context_url, fetched into the scratch space:
 * *ret_dir is its directory, or stays NULL when the URL gave a Dockerfile
 * alone (bb_context_main_dockerfile()).
 */
int bb_context_fetch_main(struct bb *b, char **ret_dir, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** The Dockerfile a main context URL downloaded, or NULL. */
const char *bb_context_main_dockerfile(const struct bb *b);

/* images.c: an image of the store into `im` (chain and config). */
int bb_image_load(struct bb *b, const struct kiln_digest *manifest, struct bb_image *im,
		  struct kiln_error *err) __attribute__((warn_unused_result));
