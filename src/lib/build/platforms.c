/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A build of several platforms (--platform linux/amd64,linux/arm64).
 *
 * The Dockerfile is built once per platform, one after the other, each
 * build whole (its stages, its cache lookups, its image), other machines'
 * platforms first: their builds refuse a RUN they cannot run while
 * planning, before any step of any platform has run. A stage that does
 * not depend on the target (FROM --platform=$BUILDPLATFORM) keys alike for
 * every target, so after the first platform its steps are cache hits: a
 * cross-compiling Dockerfile runs its toolchain steps once, and only those
 * that use TARGETARCH once per platform. Each image goes into the store;
 * after the last, one OCI image index over them is what the outputs take:
 *
 *   - an OCI layout or archive holds the index (its index.json entry) and
 *     every image;
 *   - a push sends each image's blobs, its manifest by digest, then the
 *     index under the tag;
 *   - local and tar outputs have each platform's files in a directory of its
 *     own (linux_amd64/, linux_arm_v7/), as BuildKit writes them;
 *   - the store names images, not indexes: -t names the image for this
 *     machine's platform when it is one of them;
 *   - a docker archive holds one image: refused before anything is built.
 *
 * Nothing is written to an output before every platform has built: each
 * platform's image and layers stay in the store, and the last platform's
 * build exports them all. Progress shows every step with its platform
 * ("[linux/arm64 build 2/3]"), the vertices numbered on from one platform's
 * build to the next.
 */
#include <stdlib.h>
#include <string.h>

#include "base/output.h"
#include "build/build-private.h"
#include "build/remote-cache.h"
#include "layer/layer.h"

struct multi_image {
	struct kiln_digest manifest;
	int64_t manifest_size;
	int docker_types; /* the manifest has docker's media types */
	struct bb_chain chain; /* its root filesystem's layers, for local and tar outputs */
};

struct bb_multi {
	int docker_list; /* the index is docker's manifest list */
	struct kiln_df_platform *platforms;
	char **names; /* "linux/arm/v7" */
	char **dirs;  /* "linux_arm_v7" */
	size_t n, i;  /* platform i of n is being built */
	size_t step;  /* it is the step-th built (from 0) */
	struct multi_image *images;
	int next_vertex;
	int64_t t0; /* when the first platform's build started: progress times run on */
	/* per --cache-to: the records of the platforms built so far */
	struct bb_rcache_collected *caches[KILN_BUILD_MAX_CACHES];
};

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int *bb_multi_vertex_counter(struct bb_multi *m)
{
	return &m->next_vertex;
}

int64_t bb_multi_t0(const struct bb_multi *m)
{
	return m->t0;
}

const char *bb_multi_platform(const struct bb_multi *m)
{
	return m->names[m->i];
}

struct bb_rcache_collected **bb_multi_cache(struct bb_multi *m, size_t i)
{
	return &m->caches[i];
}

int bb_multi_last(const struct bb_multi *m)
{
	return m->step + 1 == m->n;
}

static void multi_release(struct bb_multi *m)
{
	for (size_t k = 0; k < m->n; k++) {
		kiln_df_platform_release(&m->platforms[k]);
		free(m->names[k]);
		free(m->dirs[k]);
		bb_chain_release(&m->images[k].chain);
	}
	free(m->platforms);
	free(m->names);
	free(m->dirs);
	free(m->images);
	for (size_t k = 0; k < KILN_BUILD_MAX_CACHES; k++)
		bb_rcache_collected_free(m->caches[k]);
}

/* The platforms, parsed and normalized, each once, in the order given. */
static int parse_platforms(const struct kiln_build_opts *o, struct bb_multi *m,
			   struct kiln_error *err)
{
	size_t n = o->n_platforms;
	m->platforms = kiln_calloc(n, sizeof(*m->platforms));
	m->names = kiln_calloc(n, sizeof(*m->names));
	m->dirs = kiln_calloc(n, sizeof(*m->dirs));
	m->images = kiln_calloc(n, sizeof(*m->images));
	if (!m->platforms || !m->names || !m->dirs || !m->images)
		return oom(err);
	for (size_t k = 0; k < n; k++) {
		struct kiln_df_platform p = { 0 };
		int r = kiln_df_platform_parse(o->platforms[k], &p, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "--platform");
		/* as BuildKit: linux/arm64/v8 is linux/arm64, so named twice it is one */
		char *name =
			kiln_df_platform_normalize(&p) < 0 ? NULL : kiln_df_platform_format(&p);
		int seen = 0;
		for (size_t j = 0; name && j < m->n; j++)
			seen |= !strcmp(m->names[j], name);
		if (!name || seen) {
			kiln_df_platform_release(&p);
			free(name);
			if (!seen)
				return oom(err);
			continue;
		}
		char *dir = kiln_strdup(name);
		if (!dir) {
			kiln_df_platform_release(&p);
			free(name);
			return oom(err);
		}
		for (char *c = dir; *c; c++)
			if (*c == '/')
				*c = '_';
		m->platforms[m->n] = p;
		m->names[m->n] = name;
		m->dirs[m->n] = dir;
		m->n++;
	}
	return 0;
}

/* Append one array's items to another's, moved: `acc` owns them after. */
static int move_items(void **acc, size_t *n_acc, void **one, size_t *n_one, size_t size)
{
	if (!*n_one)
		return 0;
	char *n = kiln_reallocarray(*acc, *n_acc + *n_one, size);
	if (!n)
		return -KILN_ENOMEM;
	memcpy(n + *n_acc * size, *one, *n_one * size);
	*acc = n;
	*n_acc += *n_one;
	free(*one);
	*one = NULL;
	*n_one = 0;
	return 0;
}

/* One platform's result into the whole build's: its steps, explanations and warnings. */
static int merge_result(struct kiln_build_result *acc, struct kiln_build_result *one)
{
	if (move_items((void **) &acc->records, &acc->n_records, (void **) &one->records,
		       &one->n_records, sizeof(*acc->records)) < 0 ||
	    move_items((void **) &acc->misses, &acc->n_misses, (void **) &one->misses,
		       &one->n_misses, sizeof(*acc->misses)) < 0)
		return -KILN_ENOMEM;
	acc->steps += one->steps;
	acc->cached += one->cached;
	/* the same Dockerfile warns alike for every platform: each warning once */
	for (size_t k = 0; k < one->n_warnings; k++) {
		struct kiln_build_warning *w = &one->warnings[k];
		int seen = 0;
		for (size_t j = 0; !seen && j < acc->n_warnings; j++)
			seen = acc->warnings[j].line == w->line &&
			       !strcmp(acc->warnings[j].rule, w->rule) &&
			       !strcmp(acc->warnings[j].message, w->message);
		if (seen)
			continue;
		struct kiln_build_warning *nw =
			kiln_reallocarray(acc->warnings, acc->n_warnings + 1, sizeof(*nw));
		if (!nw)
			return -KILN_ENOMEM;
		acc->warnings = nw;
		nw[acc->n_warnings++] = *w;
		memset(w, 0, sizeof(*w));
	}
	return 0;
}

int bb_build_platforms(struct kiln_store *st, const struct kiln_ctx *ctx,
		       const struct kiln_build_opts *o, int force_index,
		       struct kiln_build_result *ret, struct kiln_error *err)
{
	if (o->n_platforms > KILN_BUILD_MAX_PLATFORMS)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d platforms",
				 KILN_BUILD_MAX_PLATFORMS);
	struct kiln_build_opts po = *o;
	po.platforms = NULL;
	po.n_platforms = 0;
	/* a question about the Dockerfile, not a build: asked once */
	if (o->flags & (KILN_BUILD_CHECK_ONLY | KILN_BUILD_LIST_TARGETS | KILN_BUILD_OUTLINE)) {
		po.platform = o->platforms[0];
		return bb_build_one(st, ctx, &po, NULL, ret, err);
	}
	struct bb_multi m = { .t0 = bb_mono_ns() };
	int r = parse_platforms(o, &m, err);
	for (size_t k = 0; r >= 0 && (m.n > 1 || force_index) && k < o->n_outputs; k++)
		if (o->outputs[k].type == KILN_BUILD_OUTPUT_DOCKER)
			r = kiln_fail(err, KILN_EINVAL, 0,
				      "a docker archive holds one image, not an image index: "
				      "use -o type=oci (an OCI archive of the index)%s",
				      force_index ? "" : ", or build one platform");
	if (r >= 0 && m.n == 1 && !force_index) { /* "a,a" is one platform */
		po.platform = m.names[0];
		r = bb_build_one(st, ctx, &po, NULL, ret, err);
		multi_release(&m);
		return r;
	}
	/* other machines' platforms first: a RUN they cannot run is refused
	 * before any step of this machine's build has run */
	size_t order[KILN_BUILD_MAX_PLATFORMS], n_order = 0;
	struct kiln_df_platform host = { 0 };
	if (r >= 0)
		r = kiln_df_platform_host(&host, err);
	for (int here = 0; r >= 0 && here < 2; here++)
		for (size_t k = 0; k < m.n; k++)
			if (bb_platform_runs_on(&host, &m.platforms[k]) == here)
				order[n_order++] = k;
	kiln_df_platform_release(&host);
	struct kiln_build_result acc = { .names = KILN_STRV_INIT, .pushed = KILN_STRV_INIT };
	for (m.step = 0; r >= 0 && m.step < m.n; m.step++) {
		m.i = order[m.step];
		po.platform = m.names[m.i];
		struct kiln_build_result one;
		r = bb_build_one(st, ctx, &po, &m, &one, err);
		if (r < 0) {
			kiln_build_result_release(&acc);
			acc = one; /* the warnings found before its error */
			break;
		}
		if (merge_result(&acc, &one) < 0) {
			r = oom(err);
			kiln_build_result_release(&acc);
		}
		if (r >= 0 && bb_multi_last(&m)) { /* it exported the index */
			acc.manifest = one.manifest;
			acc.config = one.config;
			acc.manifest_size = one.manifest_size;
			acc.is_index = one.is_index;
			acc.names = one.names;
			acc.pushed = one.pushed;
			one.names = (struct kiln_strv) KILN_STRV_INIT;
			one.pushed = (struct kiln_strv) KILN_STRV_INIT;
		}
		kiln_build_result_release(&one);
	}
	multi_release(&m);
	*ret = acc;
	return r < 0 ? r : 0;
}

/* ---- the end of each platform's build, and the index --------------------- */

/* The index's entry for platform k: the manifest, its platform, its annotations. */
static int index_entry(struct bb *b, size_t k, struct kiln_oci_index *idx, struct kiln_error *err)
{
	struct bb_multi *m = b->multi;
	const struct kiln_df_platform *p = &m->platforms[k];
	struct kiln_oci_descriptor d = { 0 };
	int r = kiln_oci_descriptor_set(&d,
					m->images[k].docker_types ? KILN_MT_DOCKER_MANIFEST
								  : KILN_MT_OCI_MANIFEST,
					&m->images[k].manifest, m->images[k].manifest_size, err);
	if (r >= 0 && !(d.platform = kiln_calloc(1, sizeof(*d.platform))))
		r = oom(err);
	if (r >= 0) {
		d.platform->os = kiln_strdup(p->os);
		d.platform->architecture = kiln_strdup(p->arch);
		if (p->variant && *p->variant)
			d.platform->variant = kiln_strdup(p->variant);
		if (!d.platform->os || !d.platform->architecture ||
		    (p->variant && *p->variant && !d.platform->variant))
			r = oom(err);
	}
	for (size_t i = 0; r >= 0 && i < b->o->n_annotations; i++) {
		const struct kiln_build_annotation *a = &b->o->annotations[i];
		if (a->type == KILN_BUILD_ANNOTATION_MANIFEST_DESCRIPTOR &&
		    (!a->platform || !strcmp(a->platform, m->names[k])))
			r = kiln_oci_map_set(&d.annotations, a->key, a->value, err);
	}
	if (r >= 0)
		r = kiln_oci_index_add(idx, &d, err);
	kiln_oci_descriptor_release(&d);
	return r;
}

/* The index over every platform's image, into the store as a blob. */
static int make_index(struct bb *b, struct kiln_oci_map *layout, struct kiln_digest *ret,
		      size_t *ret_len, struct kiln_error *err)
{
	struct bb_multi *m = b->multi;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *idx = NULL;
	int r = kiln_oci_index_new(&idx, err);
	for (size_t k = 0; r >= 0 && k < m->n; k++)
		r = index_entry(b, k, idx, err);
	for (size_t i = 0; r >= 0 && i < b->o->n_annotations; i++) {
		const struct kiln_build_annotation *a = &b->o->annotations[i];
		if (a->type == KILN_BUILD_ANNOTATION_INDEX && a->platform)
			bb_warn(b, "annotation index[%s]:%s is left out: an index is for every "
				   "platform",
				a->platform, a->key);
		else if (a->type == KILN_BUILD_ANNOTATION_INDEX)
			r = kiln_oci_map_set(&idx->annotations, a->key, a->value, err);
		else if (a->type == KILN_BUILD_ANNOTATION_INDEX_DESCRIPTOR)
			r = kiln_oci_map_set(layout, a->key, a->value, err);
	}
	/* a manifest list when every image is docker's and nothing needs OCI's */
	int docker = r >= 0 && !idx->annotations.len;
	for (size_t k = 0; docker && k < m->n; k++)
		docker = m->images[k].docker_types;
	for (size_t k = 0; docker && k < idx->n_manifests; k++)
		docker = !idx->manifests[k].annotations.len;
	if (r >= 0 && b->o->docker_media_types && !docker)
		bb_warn(b, "oci-mediatypes=false: an OCI index after all, for its annotations or "
			   "its images' OCI media types");
	if (r >= 0 &&
	    !(idx->media_type = kiln_strdup(docker ? KILN_MT_DOCKER_LIST : KILN_MT_OCI_INDEX)))
		r = oom(err);
	if (r >= 0)
		m->docker_list = docker;
	cleanup_free char *json = NULL;
	size_t len = 0;
	if (r >= 0)
		r = kiln_oci_index_to_json(idx, 0, &json, &len, err);
	if (r >= 0)
		r = bb_put_blob(b, json, len, ret, err);
	*ret_len = len;
	return r;
}

/*
 * -t in the store: the image for this machine's platform, when it is one of
 * them (the store names images; the index goes to the outputs).
 */
static int name_native(struct bb *b, const struct kiln_strv *names, struct bb_vertex *v,
		       struct kiln_build_result *res, struct kiln_error *err)
{
	struct bb_multi *m = b->multi;
	size_t k = 0;
	while (k < m->n && !bb_runs_here(b, &m->platforms[k]))
		k++;
	if (k == m->n) {
		if (names->len)
			bb_warn(b, "%s is not named in the store: it names images, not indexes, "
				   "and none of the platforms is this machine's",
				names->items[0]);
		return 0;
	}
	bb_store_lock(b);
	int r = kiln_store_image_add(b->st, &m->images[k].manifest,
				     (const char *const *) names->items, names->len, err);
	bb_store_unlock(b);
	if (r < 0)
		return r;
	for (size_t i = 0; i < names->len; i++)
		bb_status(b, v, "naming to %s (its %s image)", names->items[i], m->names[k]);
	return kiln_strv_copy(&res->names, names) < 0 ? oom(err) : 0;
}

/* The vertex of one output, started; its end with output_done(). */
static int output_start(struct bb *b, struct bb_vertex *v, const char *kind, const char *dest,
			const char *dir, struct kiln_error *err)
{
	int r = dir ? bb_vertex_start(b, v, "exporting to %s %s/%s", kind, dest, dir)
		    : bb_vertex_start(b, v, "exporting to %s %s", kind, dest);
	return r < 0 ? oom(err) : 0;
}

static int output_done(struct bb *b, struct bb_vertex *v, int r, struct kiln_error *err)
{
	return bb_vertex_end(b, v, r, err, "export failed");
}

/* An OCI layout or archive of the index and every image. */
static int oci_output(struct bb *b, const struct kiln_build_output *out,
		      const struct kiln_store_save_item *items, size_t n, struct kiln_error *err)
{
	struct bb_vertex v = { 0 };
	int r = output_start(b, &v, "oci", out->dest, NULL, err);
	if (r < 0)
		return r;
	if (out->oci_dir) {
		bb_store_lock(b);
		r = kiln_store_layout_write(b->st, out->dest, items, n, err);
		bb_store_unlock(b);
	} else {
		r = bb_write_file_output(b, out->dest, KILN_ARCHIVE_OCI, items, n, -1, err);
	}
	return output_done(b, &v, r, err);
}

/* Platform k's root filesystem into DEST/linux_arm_v7 (DEST staged at `at`). */
static int local_output(struct bb *b, const struct kiln_build_output *out, const char *at,
			size_t k, struct kiln_error *err)
{
	struct bb_multi *m = b->multi;
	struct bb_vertex v = { 0 };
	int r = output_start(b, &v, "local", out->dest, m->dirs[k], err);
	if (r < 0)
		return r;
	struct kiln_build_output staged = *out;
	staged.dest = at;
	r = bb_export_rootfs(b, &m->images[k].chain, &staged, m->dirs[k], NULL, err);
	return output_done(b, &v, r, err);
}

/* Every platform's directory, in DEST: a new DEST appears whole. */
static int local_outputs(struct bb *b, const struct kiln_build_output *out,
			 struct kiln_error *err)
{
	struct kiln_output_dir d;
	int r = kiln_output_dir_open(out->dest, &d, err);
	for (size_t k = 0; r >= 0 && k < b->multi->n; k++)
		r = local_output(b, out, kiln_output_dir_at(&d), k, err);
	if (r >= 0)
		r = kiln_output_dir_commit(&d, err);
	kiln_output_dir_abort(&d);
	return r;
}

/* Every platform's root filesystem into one tar, each under its directory. */
static int fill_tar(struct bb *b, int fd, void *arg, struct kiln_error *err)
{
	const struct kiln_build_output *out = arg;
	struct bb_multi *m = b->multi;
	struct kiln_layer_write_opts wo;
	bb_rootfs_tar_opts(b, &wo);
	cleanup(kiln_layer_writer_freep) struct kiln_layer_writer *w = NULL;
	int r = kiln_layer_writer_new(fd, &wo, &w, err);
	for (size_t k = 0; r >= 0 && k < m->n; k++) {
		struct kiln_tar_entry dir = {
			.type = KILN_TAR_DIR, .path = m->dirs[k], .mode = 0755, .mtime = b->created
		};
		r = kiln_layer_writer_add(w, &dir, err);
		if (r >= 0)
			r = bb_export_rootfs(b, &m->images[k].chain, out, m->dirs[k], w, err);
	}
	return r < 0 ? r : kiln_layer_writer_finish(w, NULL, err);
}

static int tar_output(struct bb *b, const struct kiln_build_output *out, struct kiln_error *err)
{
	struct bb_vertex v = { 0 };
	int r = output_start(b, &v, "tar", out->dest, NULL, err);
	if (r < 0)
		return r;
	r = bb_write_output(b, out->dest, fill_tar, (void *) out, err);
	return output_done(b, &v, r, err);
}

static int export_index(struct bb *b, struct kiln_build_result *res, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "exporting to image") < 0)
		return oom(err);
	cleanup(kiln_oci_map_release) struct kiln_oci_map layout = { 0 };
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	struct kiln_digest idig;
	size_t ilen = 0;
	int name_it = 0;
	int r = bb_store_names(b, &names, &name_it, err);
	if (r >= 0)
		r = make_index(b, &layout, &idig, &ilen, err);
	if (r >= 0)
		bb_status(b, &v, "exporting manifest list %s", idig.str);
	if (r >= 0 && name_it)
		r = name_native(b, &names, &v, res, err);
	if (output_done(b, &v, r, err) < 0)
		return r;
	res->manifest = idig;
	res->config = idig;
	res->manifest_size = (int64_t) ilen;
	res->is_index = 1;
	res->docker_media_types = b->multi->docker_list;

	for (size_t i = 0; r >= 0 && i < o->n_outputs; i++) {
		const struct kiln_build_output *out = &o->outputs[i];
		int push = out->type == KILN_BUILD_OUTPUT_REGISTRY ||
			   (out->type == KILN_BUILD_OUTPUT_IMAGE && out->push);
		cleanup(kiln_strv_release) struct kiln_strv onames = KILN_STRV_INIT;
		cleanup_free struct kiln_store_save_item *items = NULL;
		size_t n_items = 0;
		r = bb_output_names(b, out, &onames, err);
		if (r >= 0 && push && !onames.len)
			r = kiln_fail(err, KILN_EINVAL, 0,
				      "an image pushed to a registry needs a name (-t)");
		for (size_t k = 0; r >= 0 && push && k < onames.len; k++)
			r = bb_push(b, onames.items[k], &idig, res, err);
		if (r >= 0 && out->type == KILN_BUILD_OUTPUT_OCI)
			r = bb_save_items(&idig, &onames, &layout, &items, &n_items, err);
		if (r >= 0 && out->type == KILN_BUILD_OUTPUT_OCI)
			r = oci_output(b, out, items, n_items, err);
		else if (r >= 0 && out->type == KILN_BUILD_OUTPUT_TAR)
			r = tar_output(b, out, err);
		else if (r >= 0 && out->type == KILN_BUILD_OUTPUT_LOCAL)
			r = local_outputs(b, out, err);
	}
	return r;
}

int bb_multi_export(struct bb *b, struct bb_stage *target, const struct kiln_digest *manifest,
		    int64_t manifest_size, int docker_types, const struct kiln_digest *config,
		    struct kiln_build_result *res, struct kiln_error *err)
{
	struct bb_multi *m = b->multi;
	/* the image is kept (unnamed) until the index and its outputs have it */
	bb_store_lock(b);
	int r = kiln_store_image_add(b->st, manifest, NULL, 0, err);
	bb_store_unlock(b);
	if (r < 0)
		return r;
	struct multi_image *im = &m->images[m->i];
	im->manifest = *manifest;
	im->manifest_size = manifest_size;
	im->docker_types = docker_types;
	if (bb_chain_copy(&im->chain, &target->chain) < 0)
		return oom(err);
	/* its layers are in the store now; where an imported cache had them
	 * goes with this build */
	for (size_t k = 0; k < im->chain.n; k++)
		im->chain.v[k].remote = NULL;
	res->manifest = *manifest;
	res->config = *config;
	res->manifest_size = manifest_size;
	return bb_multi_last(m) ? export_index(b, res, err) : 0;
}
