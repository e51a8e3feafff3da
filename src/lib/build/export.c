/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The end of a build: the target's config and an OCI manifest into the
 * store, the image record and its names (the last thing written, so an
 * interrupted build leaves no half image), then the outputs: the store, an
 * OCI layout or tar, a docker archive, the root filesystem as a directory or
 * a tar, a registry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build-private.h"
#include "base/output.h"
#include "build/explain.h"
#include "build/remote-cache.h"
#include "ref/ref.h"
#include "registry/registry.h"
#include "snapshot/snapshot.h"
#include "store/archive.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int kiln_build_output_type_parse(const char *s, enum kiln_build_output_type *ret,
				 struct kiln_error *err)
{
	static const char *const names[] = { "image", "oci", "docker", "local", "tar", "registry" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum kiln_build_output_type) i;
			return 0;
		}
	return kiln_fail(err, KILN_EINVAL, 0,
			 "unknown output type \"%s\" (image, oci, docker, local, tar, registry)",
			 s);
}

void kiln_build_result_release(struct kiln_build_result *r)
{
	kiln_strv_release(&r->names);
	kiln_strv_release(&r->pushed);
	for (size_t i = 0; i < r->n_records; i++) {
		free(r->records[i].name);
		free(r->records[i].key);
	}
	free(r->records);
	bb_explain_misses_free(r->misses, r->n_misses);
	for (size_t i = 0; i < r->n_warnings; i++) {
		free(r->warnings[i].rule);
		free(r->warnings[i].message);
	}
	free(r->warnings);
	free(r->check_error);
	for (size_t i = 0; i < r->n_targets; i++) {
		free(r->targets[i].name);
		free(r->targets[i].description);
	}
	free(r->targets);
	bb_outline_release(&r->outline);
	memset(r, 0, sizeof(*r));
}

/* The OCI media type of a layer (docker's schema 2 names mean the same bytes). */
static const char *oci_layer_type(const char *mt)
{
	if (!mt)
		return KILN_MT_OCI_LAYER_GZIP;
	if (!strcmp(mt, KILN_MT_DOCKER_LAYER_GZIP))
		return KILN_MT_OCI_LAYER_GZIP;
	if (!strcmp(mt, KILN_MT_DOCKER_LAYER))
		return KILN_MT_OCI_LAYER;
	return mt;
}

/*
 * oci-mediatypes=false: the manifest in docker's schema 2, which has no type
 * for a zstd or a non-distributable layer and no annotations; an image
 * that has them keeps OCI's, with a warning, as BuildKit's exporter then
 * turns OCI's on.
 */
static int docker_types(struct bb *b, struct kiln_oci_manifest *m, struct kiln_error *err)
{
	if (!b->o->docker_media_types)
		return 0;
	const char *why = m->annotations.len ? "annotations" : NULL;
	for (size_t i = 0; !why && i < m->n_layers; i++) {
		const char *t = m->layers[i].media_type;
		if (strcmp(t, KILN_MT_OCI_LAYER_GZIP) && strcmp(t, KILN_MT_OCI_LAYER))
			why = strcmp(t, KILN_MT_OCI_LAYER_ZSTD) ? "non-distributable layers"
								 : "zstd layers";
	}
	if (why) {
		bb_warn(b, "oci-mediatypes=false: OCI media types after all, for the image's %s "
			   "(docker's schema 2 has none)",
			why);
		return 0;
	}
	char *mt = kiln_strdup(KILN_MT_DOCKER_MANIFEST), *ct = kiln_strdup(KILN_MT_DOCKER_CONFIG);
	if (!mt || !ct) {
		free(mt);
		free(ct);
		return oom(err);
	}
	free(m->media_type);
	m->media_type = mt;
	free(m->config.media_type);
	m->config.media_type = ct;
	for (size_t i = 0; i < m->n_layers; i++) {
		int gz = !strcmp(m->layers[i].media_type, KILN_MT_OCI_LAYER_GZIP);
		char *lt = kiln_strdup(gz ? KILN_MT_DOCKER_LAYER_GZIP : KILN_MT_DOCKER_LAYER);
		if (!lt)
			return oom(err);
		free(m->layers[i].media_type);
		m->layers[i].media_type = lt;
	}
	return 1;
}

int bb_layer_pass_blob(struct bb *b, const struct bb_layer *l, bb_layer_pass_fn pass,
		       const struct kiln_layer_write_opts *wo, struct kiln_digest *ret_digest,
		       int64_t *ret_size, struct kiln_layer_digests *ret_out, struct kiln_error *err)
{
	int in = -1;
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	bb_store_lock(b);
	int r = kiln_store_blob_open(b->st, &l->digest, &in, NULL, err);
	if (r >= 0)
		r = kiln_store_blob_writer_new(b->st, NULL, -1, &w, err);
	bb_store_unlock(b);
	if (r >= 0) {
		struct kiln_layer_read_opts ro = { .expect_diff_id = &l->diff_id, .ctx = &b->ctx };
		r = pass(in, kiln_blob_writer_external_fd(w), &ro, wo, NULL, ret_out, err);
	}
	if (in >= 0)
		(void) close(in);
	if (r < 0)
		return r;
	bb_store_lock(b);
	r = kiln_blob_writer_commit(w, ret_digest, ret_size, err);
	bb_store_unlock(b);
	return r;
}

/*
 * --output compression=...: the build's layers made with another compression
 * (cached from an earlier build) are recompressed; the base image's only
 * with force-compression=true, as BuildKit does.
 */
static int recompress(struct bb *b, struct bb_layer *l, struct kiln_error *err)
{
	const char *want = b->media_type;
	if (!b->o->compression_set || !strcmp(oci_layer_type(l->media_type), want))
		return 0;
	struct kiln_layer_digests out;
	struct kiln_digest d;
	int64_t size;
	int r = bb_layer_pass_blob(b, l, kiln_layer_recompress, &b->wopts, &d, &size, &out, err);
	if (r < 0)
		return r;
	l->digest = d;
	l->size = size;
	char *mt = kiln_strdup(want);
	if (!mt)
		return oom(err);
	free(l->media_type);
	l->media_type = mt;
	return 0;
}

/* A blob from memory, unless the store has it (a rebuild from the cache syncs nothing). */
int bb_put_blob(struct bb *b, const char *data, size_t len, struct kiln_digest *ret,
		struct kiln_error *err)
{
	int r = kiln_sha256_buf(data, len, ret, err);
	if (r < 0)
		return r;
	bb_store_lock(b);
	int64_t size = -1;
	r = kiln_store_blob_has(b->st, ret, &size, err);
	if (r == 0 || (r == 1 && size != (int64_t) len))
		r = kiln_store_blob_put(b->st, data, len, ret, ret, err);
	bb_store_unlock(b);
	return r < 0 ? r : 0;
}

/* The image is recorded and every name points at it already. Store lock held. */
static int already_named(struct bb *b, const struct kiln_digest *manifest,
			 const struct kiln_strv *names)
{
	struct kiln_store_image *img = NULL;
	if (kiln_store_image_get(b->st, manifest, &img, NULL) < 0)
		return 0;
	kiln_store_image_free(img);
	for (size_t i = 0; names && i < names->len; i++) {
		struct kiln_digest d;
		if (kiln_store_name_get(b->st, names->items[i], &d, NULL) < 0 ||
		    !kiln_digest_equal(&d, manifest))
			return 0;
	}
	return 1;
}

/* Canonical names of `what`s (-t, name=). */
static int canonical_names(const char *const *v, size_t n, const char *what, struct kiln_strv *ret,
			   struct kiln_error *err)
{
	for (size_t i = 0; i < n; i++) {
		cleanup(kiln_ref_freep) struct kiln_ref *r = NULL;
		int rc = kiln_ref_parse(v[i], KILN_REF_DEFAULT_TAG_LATEST, &r, err);
		if (rc < 0)
			return kiln_error_prefix(err, rc, "%s \"%s\"", what, v[i]);
		if (r->digest)
			return kiln_fail(err, KILN_EINVAL, 0, "%s \"%s\": a tag cannot hold a digest",
					 what, v[i]);
		char *s = kiln_ref_string(r);
		if (!s)
			return oom(err);
		if (kiln_strv_find(ret, s) >= 0) {
			free(s);
			continue;
		}
		if (kiln_strv_push_owned(ret, s) < 0)
			return oom(err);
	}
	return 0;
}

int bb_output_names(struct bb *b, const struct kiln_build_output *out, struct kiln_strv *ret,
		    struct kiln_error *err)
{
	if (out && out->n_names)
		return canonical_names(out->names, out->n_names, "name", ret, err);
	return canonical_names(b->o->tags, b->o->n_tags, "tag", ret, err);
}

int bb_store_names(struct bb *b, struct kiln_strv *ret, int *name_it, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	*name_it = !o->n_outputs;
	if (!o->n_outputs)
		return bb_output_names(b, NULL, ret, err);
	for (size_t i = 0; i < o->n_outputs; i++) {
		if (o->outputs[i].type != KILN_BUILD_OUTPUT_IMAGE)
			continue;
		*name_it = 1;
		int r = bb_output_names(b, &o->outputs[i], ret, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int bb_save_items(const struct kiln_digest *manifest, const struct kiln_strv *names,
		  const struct kiln_oci_map *annotations, struct kiln_store_save_item **ret,
		  size_t *n, struct kiln_error *err)
{
	*n = names->len ? names->len : 1;
	*ret = kiln_calloc(*n, sizeof(**ret));
	if (!*ret)
		return oom(err);
	for (size_t i = 0; i < *n; i++)
		(*ret)[i] = (struct kiln_store_save_item){
			.manifest = *manifest,
			.name = names->len ? names->items[i] : NULL,
			.annotations = annotations,
		};
	return 0;
}

/* A root filesystem as BuildKit's tar exporter writes it (fsutil's WriteTar):
 * every extended attribute, times rounded to the second. */
void bb_rootfs_tar_opts(const struct bb *b, struct kiln_layer_write_opts *wo)
{
	*wo = (struct kiln_layer_write_opts){ .compression = KILN_COMPRESSION_NONE,
					      .flags = KILN_WRITE_ALL_XATTRS |
						       KILN_WRITE_ROUND_MTIME,
					      .ctx = &b->ctx };
	if (b->o->source_date_epoch >= 0) {
		wo->flags |= KILN_WRITE_CLAMP_MTIME;
		wo->mtime_clamp = b->o->source_date_epoch;
	}
}

/* Write to `dest` as base/output.h writes a file the user named ("-": the out fd). */
int bb_write_output(struct bb *b, const char *dest, bb_output_fill_fn fill, void *arg,
		    struct kiln_error *err)
{
	int r;
	if (!strcmp(dest, "-")) {
		r = fill(b, b->o->out_fd >= 0 ? b->o->out_fd : STDOUT_FILENO, arg, err);
	} else {
		struct kiln_output_file f;
		if ((r = kiln_output_open(dest, 0644, &f, err)) < 0)
			return r;
		r = fill(b, f.fd, arg, err);
		if (r >= 0)
			r = kiln_output_commit(&f, err);
		kiln_output_abort(&f);
	}
	return r < 0 ? kiln_error_prefix(err, r, "writing %s", dest) : 0;
}

/* What bb_write_file_output() writes: an archive of the store's images, or
 * a root filesystem as a tar. */
struct file_output {
	enum kiln_archive_format fmt;
	const struct kiln_store_save_item *items;
	size_t n;
	int rootfs_fd;
};

static int fill_file_output(struct bb *b, int fd, void *arg, struct kiln_error *err)
{
	const struct file_output *f = arg;
	if (f->rootfs_fd >= 0) {
		struct kiln_layer_write_opts wo;
		bb_rootfs_tar_opts(b, &wo);
		return kiln_layer_write_tree(f->rootfs_fd, KILN_TREE_PLAIN, fd, &wo, NULL, err);
	}
	bb_store_lock(b);
	int r = kiln_store_save(b->st, f->items, f->n, f->fmt, fd, err);
	bb_store_unlock(b);
	return r;
}

int bb_write_file_output(struct bb *b, const char *dest, enum kiln_archive_format fmt,
			 const struct kiln_store_save_item *items, size_t n, int rootfs_fd,
			 struct kiln_error *err)
{
	struct file_output f = { fmt, items, n, rootfs_fd };
	return bb_write_output(b, dest, fill_file_output, &f, err);
}

/* The root filesystem of the image: mounted read-only for local and tar outputs. */
/* A root filesystem's files into the directory `dest`. */
static int fill_local(struct bb *b, int root, const char *dest, struct kiln_error *err)
{
	int r = kiln_mkdir_p(dest, 0755, err);
	if (r < 0)
		return r;
	cleanup_close int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s", dest);
	const char *all[] = { "." };
	struct kiln_plan_tree t = { .root_fd = root, .name = "the image" };
	struct kiln_plan_select_opts so = { .sources = all, .n_sources = 1 };
	cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel = NULL;
	r = kiln_plan_select(&t, &so, &b->ctx, &sel, err);
	if (r < 0)
		return r;
	struct bb_copy_opts co = { .dest = "/", .mtime = b->o->source_date_epoch };
	return bb_copy(b, dfd, root, sel, &co, err);
}

int bb_export_rootfs(struct bb *b, const struct bb_chain *chain,
		     const struct kiln_build_output *out, const char *subdir,
		     struct kiln_layer_writer *tw, struct kiln_error *err)
{
	cleanup(kiln_snapshotter_freep) struct kiln_snapshotter *sn = NULL;
	cleanup(kiln_snapshot_mount_releasep) struct kiln_snapshot_mount *m = NULL;
	int r = bb_snapshotter_open(b, &sn, err);
	if (r >= 0)
		r = bb_chain_mount(b, sn, chain, 1, &m, err);
	if (r < 0)
		return r;
	int root = kiln_snapshot_mount_fd(m);
	if (tw) /* one of several platforms: under its directory in the one tar */
		return kiln_layer_writer_add_tree(tw, root, subdir, KILN_TREE_PLAIN, err);
	if (out->type == KILN_BUILD_OUTPUT_TAR)
		return bb_write_file_output(b, out->dest, KILN_ARCHIVE_AUTO, NULL, 0, root, err);
	if (!strcmp(out->dest, "-"))
		return kiln_fail(err, KILN_EINVAL, 0, "type=local needs a directory, not -");
	/* one platform: a new directory appears whole (several: the caller stages
	 * the directory that holds theirs) */
	struct kiln_output_dir staged = { 0 };
	if (!subdir && (r = kiln_output_dir_open(out->dest, &staged, err)) < 0)
		return r;
	cleanup_free char *dest = subdir ? kiln_asprintf("%s/%s", out->dest, subdir)
					 : kiln_strdup(kiln_output_dir_at(&staged));
	if (!dest)
		r = oom(err);
	if (r >= 0)
		r = fill_local(b, root, dest, err);
	if (r >= 0 && !subdir)
		r = kiln_output_dir_commit(&staged, err);
	kiln_output_dir_abort(&staged);
	return r < 0 ? kiln_error_prefix(err, r, "writing %s", subdir ? dest : out->dest) : 0;
}

int bb_push(struct bb *b, const char *name, const struct kiln_digest *index,
	    struct kiln_build_result *res, struct kiln_error *err)
{
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "pushing %s", name) < 0)
		return oom(err);
	struct kiln_registry_opts ro = { 0 };
	if (b->o->registry)
		ro = *b->o->registry;
	ro.on_event = NULL;
	struct kiln_registry_push_result pr = { 0 };
	bb_store_lock(b);
	int r = index ? kiln_registry_push_index(b->st, index, name, &ro, &pr, err)
		      : kiln_registry_push(b->st, res->manifest.str, name, &ro, &pr, err);
	bb_store_unlock(b);
	if (r >= 0) {
		char *s = kiln_asprintf("%s@%s", pr.dest ? pr.dest : name, pr.manifest.str);
		if (!s || kiln_strv_push_owned(&res->pushed, s) < 0)
			r = oom(err);
	}
	kiln_registry_push_result_release(&pr);
	return bb_vertex_end(b, &v, r, err, "push failed");
}

/*
 * --annotation: the manifest's go into the manifest, the index
 * descriptor's into the OCI layout's entry for the image (`layout`). A
 * build of one platform makes no index: annotations for an index or a
 * manifest's entry in one are left out, with a warning, as are those for
 * another platform. One of several platforms takes the manifest's for it;
 * the index takes the rest (platforms.c).
 */
static int annotate(struct bb *b, struct kiln_oci_manifest *m, struct kiln_oci_map *layout,
		    struct kiln_error *err)
{
	for (size_t i = 0; i < b->o->n_annotations; i++) {
		const struct kiln_build_annotation *a = &b->o->annotations[i];
		const char *type = kiln_build_annotation_type_name(a->type);
		int r = 0;
		if (b->multi) {
			/* one of several platforms: the index takes the others */
			if (a->type == KILN_BUILD_ANNOTATION_MANIFEST &&
			    (!a->platform || !strcmp(a->platform, b->platform_str)))
				r = kiln_oci_map_set(&m->annotations, a->key, a->value, err);
		} else if (a->platform && strcmp(a->platform, b->platform_str) != 0)
			bb_warn(b, "annotation %s[%s]:%s is left out: the image is for %s", type,
				a->platform, a->key, b->platform_str);
		else if (a->type == KILN_BUILD_ANNOTATION_MANIFEST)
			r = kiln_oci_map_set(&m->annotations, a->key, a->value, err);
		else if (a->type == KILN_BUILD_ANNOTATION_INDEX_DESCRIPTOR)
			r = kiln_oci_map_set(layout, a->key, a->value, err);
		else
			bb_warn(b, "annotation %s:%s is left out: a build of one platform makes no "
				   "image index",
				type, a->key);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * An image without any layer (FROM scratch and metadata only) cannot be an
 * OCI manifest, which needs one: it gets the empty layer (an empty tar), with
 * a history entry that says why.
 */
static int empty_layer(struct bb *b, struct bb_stage *target, struct kiln_error *err)
{
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	bb_store_lock(b);
	int r = kiln_store_blob_writer_new(b->st, NULL, -1, &w, err);
	bb_store_unlock(b);
	if (r < 0)
		return r;
	struct kiln_layer_writer *lw = NULL;
	struct kiln_layer_digests dg;
	r = kiln_layer_writer_new(kiln_blob_writer_external_fd(w), &b->wopts, &lw, err);
	if (r >= 0)
		r = kiln_layer_writer_finish(lw, &dg, err);
	kiln_layer_writer_free(lw);
	struct bb_layer l = { .media_type = (char *) b->media_type, .created = b->created };
	bb_store_lock(b);
	if (r >= 0)
		r = kiln_blob_writer_commit(w, &l.digest, &l.size, err);
	bb_store_unlock(b);
	if (r < 0)
		return r;
	l.diff_id = dg.diff_id;
	if (bb_chain_push(&target->chain, &l) < 0 ||
	    kiln_oci_config_add_diff_id(target->config, &l.diff_id, err) < 0)
		return oom(err);
	struct kiln_oci_history h = {
		.created_by = (char *) "an empty root filesystem",
		.comment = (char *) "an OCI image manifest needs a layer",
	};
	return kiln_oci_config_add_history(target->config, &h, err);
}

/* How many of the stage's layers are its base image's (through the stages it is FROM). */
static size_t base_layers(struct bb *b, const struct bb_stage *s)
{
	while (s->ps->base_stage >= 0)
		s = &b->stages[s->ps->base_stage];
	return s->image ? s->image->chain.n : 0;
}

/*
 * The image's layers into the manifest: the base image's as they are, the
 * build's in the output's compression, and with rewrite-timestamp written
 * again with their times clamped (the config then takes the new diff_ids;
 * the stage's chain keeps the layers its snapshots are).
 */

static int image_layers(struct bb *b, struct bb_stage *target, struct kiln_oci_manifest *m,
			struct kiln_error *err)
{
	struct kiln_oci_config *c = target->config;
	size_t base = base_layers(b, target);
	int rewrite = bb_rewrite_active(b);
	if (rewrite && c->n_diff_ids != target->chain.n)
		return kiln_fail(err, KILN_EINTERNAL, 0, "%zu layers but %zu diff_ids",
				 target->chain.n, c->n_diff_ids);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < target->chain.n; i++) {
		struct bb_layer *l = &target->chain.v[i];
		struct bb_layer rw = { 0 };
		if (i >= base && rewrite) {
			r = bb_rewrite_times(b, l, &rw, err);
			if (r >= 0)
				c->diff_ids[i] = rw.diff_id;
			l = &rw;
		} else if (i >= base || b->o->force_compression) {
			r = recompress(b, l, err);
		}
		struct kiln_oci_descriptor d = { 0 };
		if (r >= 0)
			r = kiln_oci_descriptor_set(&d, oci_layer_type(l->media_type), &l->digest,
						    l->size, err);
		if (r >= 0)
			r = kiln_oci_manifest_add_layer(m, &d, err);
		kiln_oci_descriptor_release(&d);
		bb_layer_release(&rw);
	}
	return r;
}

int bb_export(struct bb *b, struct bb_stage *target, struct kiln_build_result *res,
	      struct kiln_error *err)
{
	struct kiln_oci_config *c = target->config;
	int r = target->chain.n ? 0 : empty_layer(b, target, err);
	if (r >= 0)
		r = bb_config_finish(b, c, err);
	if (r < 0)
		return r;
	struct bb_vertex v = { 0 };
	/* several platforms: each image, then the index "exporting to image" */
	if ((b->multi ? bb_vertex_start(b, &v, "exporting %s image", b->platform_str)
		      : bb_vertex_start(b, &v, "exporting to image")) < 0)
		return oom(err);
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	cleanup_free char *cjson = NULL, *mjson = NULL;
	size_t clen = 0, mlen = 0;
	struct kiln_digest cdig, mdig;
	cleanup(kiln_strv_release) struct kiln_strv names = KILN_STRV_INIT;
	int name_it = 0;
	r = bb_store_names(b, &names, &name_it, err);
	if (r >= 0)
		r = kiln_oci_manifest_new(&m, err);
	if (r >= 0) {
		free(m->media_type);
		m->media_type = kiln_strdup(KILN_MT_OCI_MANIFEST);
		if (!m->media_type)
			r = oom(err);
	}
	/* the layers first: rewrite-timestamp changes the config's diff_ids */
	if (r >= 0)
		r = image_layers(b, target, m, err);
	if (r >= 0)
		r = kiln_oci_config_to_json(c, &cjson, &clen, err);
	/* --cache-to type=inline: the records of the image's layers in its config */
	if (r >= 0)
		r = bb_rcache_inline(b, target, &cjson, &clen, err);
	if (r >= 0)
		r = bb_put_blob(b, cjson, clen, &cdig, err);
	if (r >= 0)
		r = kiln_oci_descriptor_set(&m->config, KILN_MT_OCI_CONFIG, &cdig, (int64_t) clen,
					    err);
	cleanup(kiln_oci_map_release) struct kiln_oci_map layout_annotations = { 0 };
	if (r >= 0)
		r = annotate(b, m, &layout_annotations, err);
	int docker = 0;
	if (r >= 0 && (r = docker_types(b, m, err)) > 0)
		docker = 1;
	if (r >= 0)
		r = kiln_oci_manifest_to_json(m, 0, &mjson, &mlen, err);
	size_t no = b->o->n_outputs;
	if (r >= 0)
		r = bb_put_blob(b, mjson, mlen, &mdig, err);
	if (r >= 0 && b->multi) {
		bb_status(b, &v, "exporting manifest %s", mdig.str);
		bb_status(b, &v, "exporting config %s", cdig.str);
		bb_vertex_done(b, &v);
		bb_vertex_release(&v);
		return bb_multi_export(b, target, &mdig, (int64_t) mlen, docker, &cdig, res, err);
	}
	/* the record and its names last: an interrupted build leaves no image */
	bb_store_lock(b);
	if (r >= 0 && !already_named(b, &mdig, name_it ? &names : NULL))
		r = kiln_store_image_add(b->st, &mdig,
					 name_it ? (const char *const *) names.items : NULL,
					 name_it ? names.len : 0, err);
	bb_store_unlock(b);
	if (r < 0) {
		bb_vertex_error(b, &v, err && err->msg ? err->msg : "export failed", NULL, 0);
		bb_vertex_release(&v);
		return r;
	}
	res->manifest = mdig;
	res->config = cdig;
	res->manifest_size = (int64_t) mlen;
	res->docker_media_types = docker;
	if (name_it && kiln_strv_copy(&res->names, &names) < 0) {
		bb_vertex_release(&v);
		return oom(err);
	}
	bb_status(b, &v, "writing image %s", cdig.str);
	for (size_t i = 0; i < names.len && name_it; i++)
		bb_status(b, &v, "naming to %s", names.items[i]);
	bb_vertex_done(b, &v);
	bb_vertex_release(&v);

	for (size_t i = 0; r >= 0 && i < no; i++) {
		const struct kiln_build_output *out = &b->o->outputs[i];
		struct bb_vertex ov = { 0 };
		cleanup(kiln_strv_release) struct kiln_strv onames = KILN_STRV_INIT;
		cleanup_free struct kiln_store_save_item *items = NULL;
		size_t n_items = 0;
		r = bb_output_names(b, out, &onames, err);
		if (r < 0)
			break;
		switch (out->type) {
		case KILN_BUILD_OUTPUT_IMAGE:
			for (size_t k = 0; r >= 0 && out->push && k < onames.len; k++)
				r = bb_push(b, onames.items[k], NULL, res, err);
			if (r >= 0 && out->push && !onames.len)
				r = kiln_fail(err, KILN_EINVAL, 0, "push=true needs a name (-t)");
			continue;
		case KILN_BUILD_OUTPUT_REGISTRY:
			if (!onames.len)
				r = kiln_fail(err, KILN_EINVAL, 0,
					      "an image pushed to a registry needs a name (-t)");
			for (size_t k = 0; r >= 0 && k < onames.len; k++)
				r = bb_push(b, onames.items[k], NULL, res, err);
			continue;
		default:
			break;
		}
		if ((out->type == KILN_BUILD_OUTPUT_OCI || out->type == KILN_BUILD_OUTPUT_DOCKER) &&
		    (r = bb_save_items(&mdig, &onames, &layout_annotations, &items, &n_items,
				       err)) < 0)
			break;
		if (bb_vertex_start(b, &ov, "exporting to %s %s",
				    out->type == KILN_BUILD_OUTPUT_OCI	    ? "oci"
				    : out->type == KILN_BUILD_OUTPUT_DOCKER ? "docker"
				    : out->type == KILN_BUILD_OUTPUT_LOCAL  ? "local"
									    : "tar",
				    out->dest) < 0)
			return oom(err);
		if (out->type == KILN_BUILD_OUTPUT_OCI && out->oci_dir) {
			bb_store_lock(b);
			r = kiln_store_layout_write(b->st, out->dest, items, n_items, err);
			bb_store_unlock(b);
		} else if (out->type == KILN_BUILD_OUTPUT_OCI ||
			   out->type == KILN_BUILD_OUTPUT_DOCKER) {
			r = bb_write_file_output(b, out->dest,
					      out->type == KILN_BUILD_OUTPUT_OCI
						      ? KILN_ARCHIVE_OCI
						      : KILN_ARCHIVE_DOCKER,
					      items, n_items, -1, err);
		} else {
			r = bb_export_rootfs(b, &target->chain, out, NULL, NULL, err);
		}
		if (r < 0)
			bb_vertex_error(b, &ov, err && err->msg ? err->msg : "export failed", NULL,
					0);
		else
			bb_vertex_done(b, &ov);
		bb_vertex_release(&ov);
	}
	return r;
}
