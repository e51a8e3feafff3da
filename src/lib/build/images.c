/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The images a build uses (FROM bases, COPY --from=<image>, RUN --mount
 * from=<image>): found in the store, or pulled when missing (always with
 * --pull) for the stage's platform. Each is resolved once per build.
 */
#include <string.h>

#include "build/build-private.h"
#include "build/contexts.h"
#include "ref/ref.h"
#include "registry/registry.h"

static void image_free(struct bb_image *im)
{
	if (!im)
		return;
	free(im->ref);
	free(im->platform);
	free(im->name);
	free(im->display);
	kiln_oci_config_free(im->config);
	bb_chain_release(&im->chain);
	free(im);
}

void bb_images_free(struct bb *b)
{
	for (size_t i = 0; i < b->n_images; i++)
		image_free(b->images[i]);
	free(b->images);
	b->images = NULL;
	b->n_images = 0;
}

struct pull_progress {
	struct bb *b;
	struct bb_vertex *v;
};

static void on_pull_event(void *ud, const struct kiln_registry_event *ev)
{
	struct pull_progress *pp = ud;
	switch (ev->kind) {
	case KILN_REG_EV_RESOLVED:
		bb_status(pp->b, pp->v, "resolve %s", ev->msg ? ev->msg : "");
		break;
	case KILN_REG_EV_BLOB_DONE:
		bb_status(pp->b, pp->v, "pulled %s %s (%lld bytes)", ev->what ? ev->what : "blob",
			  ev->digest ? ev->digest : "", (long long) ev->total);
		break;
	case KILN_REG_EV_RETRY:
		bb_status(pp->b, pp->v, "retrying: %s", ev->msg ? ev->msg : "");
		break;
	default:
		break;
	}
}

/* Read what the store has for `manifest` into `im`. */
int bb_image_load(struct bb *b, const struct kiln_digest *manifest, struct bb_image *im,
		  struct kiln_error *err)
{
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	int r = kiln_store_image_get(b->st, manifest, &img, err);
	if (r >= 0)
		r = kiln_store_manifest_read(b->st, manifest, &m, err);
	if (r >= 0)
		r = kiln_store_config_read(b->st, &img->config, &im->config, err);
	if (r < 0)
		return r;
	if (m->n_layers != im->config->n_diff_ids)
		return kiln_fail(err, KILN_EPARSE, 0,
				 "image %s has %zu layers but %zu diff_ids in its config", im->name,
				 m->n_layers, im->config->n_diff_ids);
	for (size_t i = 0; i < m->n_layers; i++) {
		struct bb_layer l = { .diff_id = im->config->diff_ids[i],
				      .size = m->layers[i].size,
				      .media_type = m->layers[i].media_type };
		r = kiln_oci_descriptor_sha256(&m->layers[i], &l.digest, err);
		if (r < 0)
			return r;
		if (bb_chain_push(&im->chain, &l) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	im->manifest = *manifest;
	return 0;
}

static int platform_matches(const struct kiln_oci_config *c, const struct kiln_df_platform *p)
{
	if (!c->platform.os || !c->platform.architecture)
		return 1; /* an image that does not say: take it */
	if (strcmp(c->platform.os, p->os) || strcmp(c->platform.architecture, p->arch))
		return 0;
	return !p->variant || !*p->variant || !c->platform.variant ||
	       !strcmp(c->platform.variant, p->variant);
}

/* The work of bb_image_get() with image_lock held: `ref`, kept as `key`. */
static int resolve(struct bb *b, const char *key, const char *ref,
		   const struct kiln_df_platform *platform, const char *plat, struct bb_image **ret,
		   struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *pr = NULL;
	int r = kiln_ref_parse(ref, KILN_REF_DEFAULT_TAG_LATEST, &pr, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "base image \"%s\"", ref);
	struct bb_image *im = kiln_calloc(1, sizeof(*im));
	if (!im)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	im->ref = kiln_strdup(key);
	im->platform = kiln_strdup(plat);
	im->name = kiln_ref_string(pr);
	if (!im->ref || !im->platform || !im->name) {
		image_free(im);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}

	struct kiln_digest manifest;
	int found = 0, mismatch = 0;
	/* --pull: the registry's, never the store's (the pass without pulling
	 * leaves it unknown, so the pass that pulls asks the registry) */
	if (!(b->o->flags & KILN_BUILD_PULL)) {
		bb_store_lock(b);
		r = kiln_store_resolve(b->st, im->name, &manifest, err);
		if (r == 0) {
			r = bb_image_load(b, &manifest, im, err);
			if (r == 0 && !platform_matches(im->config, platform)) {
				mismatch = 1;
				kiln_oci_config_free(im->config);
				im->config = NULL;
				bb_chain_release(&im->chain);
			} else if (r == 0) {
				found = 1;
			}
		}
		bb_store_unlock(b);
		if (r == -KILN_ENOTFOUND) {
			kiln_error_release(err);
			r = 0;
		}
		if (r < 0) {
			r = kiln_error_prefix(err, r, "image %s", im->name);
			image_free(im);
			return r;
		}
	}
	if (!found && b->images_offline) {
		b->images_unknown = 1;
		image_free(im);
		*ret = NULL;
		return 0;
	}
	if (!found) {
		struct bb_vertex v = { 0 };
		if (bb_vertex_start(b, &v, "[internal] load metadata for %s", im->name) < 0) {
			image_free(im);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		struct pull_progress pp = { b, &v };
		struct kiln_registry_opts ro = { 0 };
		if (b->o->registry)
			ro = *b->o->registry;
		ro.platform = plat;
		ro.on_event = on_pull_event;
		ro.event_userdata = &pp;
		struct kiln_registry_pull_result pres = { 0 };
		bb_store_lock(b);
		r = kiln_registry_pull(b->st, im->name, &ro, &pres, err);
		if (r >= 0)
			r = bb_image_load(b, &pres.manifest, im, err);
		bb_store_unlock(b);
		kiln_registry_pull_result_release(&pres);
		if (r < 0) {
			r = kiln_error_prefix(err, r,
					      "%s%s is not in the store and pulling it failed",
					      im->name, mismatch ? " for this platform" : "");
			bb_vertex_error(b, &v, err ? err->msg : "pull failed", NULL, 0);
			bb_vertex_release(&v);
			image_free(im);
			return r;
		}
		bb_vertex_done(b, &v);
		bb_vertex_release(&v);
		im->pulled = 1;
	}
	im->display = strchr(im->name, '@') ? kiln_strdup(im->name)
					    : kiln_asprintf("%s@%s", im->name, im->manifest.str);
	if (!im->display) {
		image_free(im);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	struct bb_image **n = kiln_reallocarray(b->images, b->n_images + 1, sizeof(*n));
	if (!n) {
		image_free(im);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	b->images = n;
	b->images[b->n_images++] = im;
	*ret = im;
	return 0;
}

int bb_image_get(struct bb *b, const char *ref, const struct kiln_df_platform *platform,
		 struct bb_image **ret, struct kiln_error *err)
{
	cleanup_free char *plat = kiln_df_platform_format(platform);
	if (!plat)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	(void) pthread_mutex_lock(&b->image_lock);
	int r = 0;
	*ret = NULL;
	for (size_t i = 0; i < b->n_images; i++)
		if (!strcmp(b->images[i]->ref, ref) && !strcmp(b->images[i]->platform, plat)) {
			*ret = b->images[i];
			break;
		}
	/* --build-context NAME=...: the image NAME is the context */
	const struct bb_context *c = !*ret ? bb_context_find(b, ref, plat) : NULL;
	if (c && !bb_context_image_ref(c)) {
		struct bb_image **n = kiln_reallocarray(b->images, b->n_images + 1, sizeof(*n));
		if (!n)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		else
			b->images = n;
		if (r >= 0)
			r = bb_context_image(b, c, ref, platform, plat, ret, err);
		if (r >= 0 && *ret)
			b->images[b->n_images++] = *ret;
	} else if (!*ret) {
		r = resolve(b, ref, c ? bb_context_image_ref(c) : ref, platform, plat, ret, err);
	}
	(void) pthread_mutex_unlock(&b->image_lock);
	return r;
}

int bb_image_config_hook(void *userdata, const char *ref, const struct kiln_df_platform *platform,
			 struct kiln_df_image_config *ret, struct kiln_error *err)
{
	struct bb *b = userdata;
	struct bb_image *im = NULL;
	int r = bb_image_get(b, ref, platform, &im, err);
	if (r < 0)
		return r;
	if (!im)
		return 0; /* not known yet (the offline pass) */
	const struct kiln_oci_config *c = im->config;
	const struct kiln_oci_runconfig *rc = &c->config;
	*ret = (struct kiln_df_image_config){
		.env = (const char *const *) rc->env.items,
		.n_env = rc->env.len,
		.working_dir = rc->working_dir,
		.user = rc->user,
		.shell = (const char *const *) rc->shell.items,
		.n_shell = rc->shell.len,
		.onbuild = (const char *const *) rc->on_build.items,
		.n_onbuild = rc->on_build.len,
		.os = c->platform.os,
		.arch = c->platform.architecture,
		.variant = c->platform.variant,
	};
	return 1;
}
