/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a cache from where it lives: the document the location names is
 * a cache manifest, a cache index, an image (whose config may carry inline
 * records) or an image index (the image of the build's platform). Only the
 * small documents are read; the blobs stay where they are until a build
 * needs one.
 */
#include <stdlib.h>
#include <string.h>

#include "rcache/rcache-private.h"

#define INDEX_CHILDREN_MAX 64

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

void kiln_rcache_loaded_release(struct kiln_rcache_loaded *c)
{
	if (!c)
		return;
	kiln_rcache_config_free(c->config);
	for (size_t i = 0; i < c->n_blobs; i++)
		kiln_oci_descriptor_release(&c->blobs[i]);
	free(c->blobs);
	memset(c, 0, sizeof(*c));
}

static int desc_cmp(const void *a, const void *b)
{
	const struct kiln_oci_descriptor *x = a, *y = b;
	return memcmp(x->sha256.raw, y->sha256.raw, 32);
}

const struct kiln_oci_descriptor *kiln_rcache_loaded_blob(const struct kiln_rcache_loaded *c,
							  const struct kiln_digest *d)
{
	if (!c->n_blobs)
		return NULL;
	struct kiln_oci_descriptor key = { .sha256 = *d };
	return bsearch(&key, c->blobs, c->n_blobs, sizeof(*c->blobs), desc_cmp);
}

/* The blobs, sorted by digest for lookups; sha256 only (what the store holds). */
static int take_blobs(struct kiln_rcache_loaded *c, struct kiln_oci_descriptor *v, size_t n,
		      struct kiln_error *err)
{
	c->blobs = kiln_calloc(n + 1, sizeof(*c->blobs));
	if (!c->blobs)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_sha256)
			continue;
		c->blobs[c->n_blobs++] = v[i];
		memset(&v[i], 0, sizeof(v[i]));
	}
	if (c->n_blobs > 1)
		qsort(c->blobs, c->n_blobs, sizeof(*c->blobs), desc_cmp);
	return 0;
}

/* An image manifest: the inline records of its config, if any. */
static int load_image(struct kiln_rcache_loc *l, struct kiln_store *st,
		      struct kiln_rcache_envelope *e, struct kiln_rcache_loaded *ret,
		      struct kiln_error *err)
{
	cleanup_free char *cfg = NULL;
	size_t clen = 0;
	int r = kiln_rcache_loc_read_blob(l, st, &e->config, KILN_OCI_CONFIG_MAX, &cfg, &clen, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "the image's config");
	r = kiln_rcache_inline_parse(cfg, clen, e->blobs, e->n_blobs, &ret->config, err);
	if (r < 0)
		return r;
	if (r == 0)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "an image without an inline cache (build it with "
				 "--cache-to type=inline)");
	ret->is_inline = 1;
	return take_blobs(ret, e->blobs, e->n_blobs, err);
}

int kiln_rcache_load(struct kiln_rcache_loc *l, struct kiln_store *st, const char *platform,
		     struct kiln_rcache_loaded *ret, struct kiln_error *err)
{
	struct kiln_rcache_loaded c = { 0 };
	cleanup_free char *body = NULL;
	size_t len = 0;
	int r = kiln_rcache_loc_get_root(l, &body, &len, &c.root, err);
	if (r < 0)
		return r;
	struct kiln_rcache_envelope e = { 0 };
	if ((r = kiln_rcache_envelope_parse(body, len, &e, err)) < 0)
		return r;
	if (e.kind == KILN_RCACHE_IMAGE_INDEX) {
		/* the image for the platform (or the only one) */
		struct kiln_oci_platform want = { 0 };
		int have_want = platform && kiln_oci_platform_parse(platform, &want, NULL) == 0;
		long pick = -1;
		for (size_t i = 0; i < e.n_blobs && i < INDEX_CHILDREN_MAX; i++) {
			const struct kiln_oci_descriptor *d = &e.blobs[i];
			if (!d->has_sha256)
				continue;
			if (!have_want || !d->platform ||
			    kiln_oci_platform_match(&want, d->platform)) {
				pick = (long) i;
				break;
			}
		}
		kiln_oci_platform_release(&want);
		struct kiln_digest child;
		if (pick >= 0)
			child = e.blobs[pick].sha256;
		kiln_rcache_envelope_release(&e);
		if (pick < 0)
			return kiln_fail(err, KILN_EUNSUPP, 0,
					 "an image index without an image for %s",
					 platform ? platform : "this platform");
		free(body);
		body = NULL;
		if ((r = kiln_rcache_loc_get_manifest(l, &child, &body, &len, err)) < 0)
			return r;
		if ((r = kiln_rcache_envelope_parse(body, len, &e, err)) < 0)
			return kiln_error_prefix(err, r, "manifest %s", child.str);
		if (e.kind != KILN_RCACHE_IMAGE_MANIFEST) {
			kiln_rcache_envelope_release(&e);
			return kiln_fail(err, KILN_EUNSUPP, 0, "manifest %s is not an image",
					 child.str);
		}
	}
	switch (e.kind) {
	case KILN_RCACHE_CACHE_MANIFEST:
	case KILN_RCACHE_CACHE_INDEX: {
		cleanup_free char *cfg = NULL;
		size_t clen = 0;
		r = kiln_rcache_loc_read_blob(l, st, &e.config, KILN_RCACHE_CONFIG_MAX, &cfg, &clen,
					      err);
		if (r >= 0)
			r = kiln_rcache_config_parse(cfg, clen, &c.config, err);
		if (r >= 0)
			r = take_blobs(&c, e.blobs, e.n_blobs, err);
		break;
	}
	case KILN_RCACHE_IMAGE_MANIFEST:
		r = load_image(l, st, &e, &c, err);
		break;
	default:
		r = kiln_fail(err, KILN_EUNSUPP, 0, "%s is not a build cache", c.root.str);
		break;
	}
	kiln_rcache_envelope_release(&e);
	if (r < 0) {
		kiln_rcache_loaded_release(&c);
		return r;
	}
	*ret = c;
	return 0;
}
