/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI image layouts as directories: written for `--output type=oci` and
 * for tools such as skopeo and umoci; read as a source of images.
 *
 * Writing adds to an existing layout: every blob file is written to a temp
 * name, synced and renamed, and index.json is replaced atomically last, so
 * a reader sees the old or the new layout. Reading copies only the blobs
 * the index reaches, each verified against its digest before the store
 * takes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/output.h"
#include "layer/layer.h"
#include "store/archive-private.h"

#define CHUNK ((size_t)256 << 10)
#define INDEX_DEPTH_MAX 4

/* ---- writing ----------------------------------------------------------------- */

/* Copy a store blob into the layout (skipped when a file of the right size is there). */
static int put_blob(struct kiln_store *st, int blobs_fd, const char *dir,
		    const struct kiln_digest *d, const char *data, size_t len,
		    struct kiln_error *err)
{
	struct stat sb;
	int64_t want = (int64_t)len;
	if (!data) {
		int r = kiln_store_blob_has(st, d, &want, err);
		if (r < 0)
			return r;
		if (r == 0)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "blob %s is not in the store", d->str);
	}
	if (fstatat(blobs_fd, d->hex, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == want)
		return 0;
	if (data)
		return kiln_write_file_atomic_at(blobs_fd, d->hex, data, len, 0644, err);
	cleanup_free char *tmp = kiln_asprintf(".tmp-%s.%ld", d->hex, (long)getpid());
	cleanup_free char *buf = kiln_malloc(CHUNK);
	if (!tmp || !buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup_close int out =
		openat(blobs_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (out < 0)
		return kiln_fail_errno(err, "creating %s/blobs/sha256/%s", dir, tmp);
	cleanup(kiln_blob_reader_freep) struct kiln_blob_reader *rd = NULL;
	int r = kiln_store_blob_reader_new(st, d, &rd, err);
	while (r == 0) {
		size_t n = 0;
		if (kiln_cancelled(st->ctx)) {
			r = kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
			break;
		}
		if ((r = kiln_blob_reader_read(rd, buf, CHUNK, &n, err)) < 0 || n == 0)
			break;
		int w = kiln_write_all(out, buf, n);
		if (w < 0)
			r = kiln_fail(err, KILN_EIO, -w, "writing %s/blobs/sha256/%s", dir, d->hex);
	}
	if (r == 0 && fsync(out) < 0)
		r = kiln_fail_errno(err, "syncing %s/blobs/sha256/%s", dir, d->hex);
	if (r == 0 && renameat(blobs_fd, tmp, blobs_fd, d->hex) < 0)
		r = kiln_fail_errno(err, "storing %s/blobs/sha256/%s", dir, d->hex);
	if (r < 0)
		(void)unlinkat(blobs_fd, tmp, 0);
	return r;
}

/* Each image's layers, config and manifest; an index's images before it. */
static int put_images(struct kiln_store *st, int bfd, const char *dir, struct export_image *imgs,
		      size_t n, struct kiln_error *err)
{
	int r;
	for (size_t i = 0; i < n; i++) {
		struct export_image *x = &imgs[i];
		if ((r = put_images(st, bfd, dir, x->subs, x->n_subs, err)) < 0)
			return r;
		for (size_t j = 0; x->m && j < x->m->n_layers; j++)
			if ((r = put_blob(st, bfd, dir, &x->m->layers[j].sha256, NULL, 0, err)) < 0)
				return r;
		if (x->m && (r = put_blob(st, bfd, dir, &x->config, x->config_json, x->config_len,
					  err)) < 0)
			return r;
		if ((r = put_blob(st, bfd, dir, &x->manifest, x->manifest_json, x->manifest_len,
				  err)) < 0)
			return r;
	}
	return 0;
}

static int write_images(struct kiln_store *st, const char *dir, struct export_image *imgs,
			size_t n, struct kiln_error *err)
{
	cleanup_free char *bdir = kiln_asprintf("%s/blobs/sha256", dir);
	if (!bdir)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_mkdir_p(bdir, 0755, err);
	if (r < 0)
		return r;
	cleanup_close int bfd = open(bdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return kiln_fail_errno(err, "opening %s", bdir);
	if ((r = put_images(st, bfd, dir, imgs, n, err)) < 0)
		return r;
	if (fsync(bfd) < 0 && errno != EINVAL)
		return kiln_fail_errno(err, "syncing %s", bdir);
	return 0;
}

static int layout_write_in(struct kiln_store *st, const char *dir,
			   const struct kiln_store_save_item *items, size_t n,
			   struct kiln_error *err)
{
	struct export_image *imgs = NULL;
	size_t m = 0;
	int r = export_images_prepare(st, items, n, EXPORT_OCI, &imgs, &m, err);
	if (r < 0)
		return r;
	cleanup_free char *layout = kiln_asprintf("%s/oci-layout", dir);
	cleanup_free char *index = kiln_asprintf("%s/index.json", dir);
	cleanup_free char *old = NULL;
	size_t old_len = 0;
	if (!layout || !index)
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (r == 0)
		r = kiln_mkdir_p(dir, 0755, err);
	if (r == 0) {
		cleanup_free char *have = NULL;
		size_t hl = 0;
		struct kiln_error e = KILN_ERROR_INIT;
		int q = kiln_read_file(layout, 65536, &have, &hl, &e);
		if (q == 0 && kiln_oci_layout_header_parse(have, hl, err) < 0)
			r = kiln_error_prefix(err, -KILN_EPARSE, "%s is not an OCI layout", dir);
		kiln_error_release(&e);
		if (r == 0 && q < 0) {
			static const char hdr[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
			r = kiln_write_file_atomic(layout, hdr, sizeof(hdr) - 1, 0644, err);
		}
	}
	if (r == 0) {
		struct kiln_error e = KILN_ERROR_INIT;
		if (kiln_read_file(index, KILN_OCI_MANIFEST_MAX, &old, &old_len, &e) < 0) {
			if (e.code != KILN_ENOTFOUND) {
				kiln_error_move(err, &e);
				r = -KILN_EIO;
			}
			kiln_error_release(&e);
		}
	}
	if (r == 0)
		r = write_images(st, dir, imgs, m, err);
	cleanup_free char *json = NULL;
	size_t len = 0;
	if (r == 0)
		r = export_layout_index(imgs, m, old, old_len, &json, &len, err);
	if (r == 0)
		r = kiln_write_file_atomic(index, json, len, 0644, err);
	export_images_free(imgs, m);
	return r;
}

int kiln_store_layout_write(struct kiln_store *st, const char *dir,
			    const struct kiln_store_save_item *items, size_t n,
			    struct kiln_error *err)
{
	if (n == 0)
		return kiln_fail(err, KILN_EINVAL, 0, "nothing to write");
	/* a new layout appears whole; one that exists gets its blobs, then its
	 * index.json entries, last */
	struct kiln_output_dir d;
	int r = kiln_output_dir_open(dir, &d, err);
	if (r >= 0)
		r = layout_write_in(st, kiln_output_dir_at(&d), items, n, err);
	if (r >= 0)
		r = kiln_output_dir_commit(&d, err);
	kiln_output_dir_abort(&d);
	return r;
}

/* ---- reading ------------------------------------------------------------------ */

struct reader {
	struct kiln_store *st;
	const char *dir;
	int blobs_fd;
	struct layer_info *known;
	size_t n_known;
};

/* Bring one blob of the layout into the store, verified; layers get probed. */
static int take_blob(struct reader *rd, const struct kiln_oci_descriptor *d, int layer,
		     struct kiln_error *err)
{
	struct kiln_digest dg;
	int r = kiln_oci_descriptor_sha256(d, &dg, err);
	if (r < 0)
		return r;
	int64_t have = -1;
	if ((r = kiln_store_blob_has(rd->st, &dg, &have, err)) < 0)
		return r;
	if (r == 1 && have == d->size)
		return 0;
	cleanup_close int fd = openat(rd->blobs_fd, dg.hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return kiln_fail(err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno,
				 "%s: blob %s is missing", rd->dir, dg.str);
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	if ((r = kiln_store_blob_writer_new(rd->st, &dg, d->size, &w, err)) < 0 ||
	    (r = kiln_blob_writer_write_fd(w, fd, err)) < 0)
		return kiln_error_prefix(err, r, "%s", rd->dir);
	if (layer) {
		struct layer_info li;
		cleanup_free char *why = NULL;
		r = archive_probe_layer(w, kiln_store_ctx(rd->st), &li, &why, err);
		if (r < 0)
			return r;
		if (r == 0)
			return kiln_fail(err, KILN_EPARSE, 0, "%s: layer %s cannot be unpacked: %s",
					 rd->dir, dg.str, why ? why : "unreadable");
		struct layer_info *p =
			kiln_reallocarray(rd->known, rd->n_known + 1, sizeof(*p));
		if (!p)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		rd->known = p;
		p[rd->n_known++] = li;
	}
	if ((r = kiln_blob_writer_commit(w, NULL, NULL, err)) < 0)
		return kiln_error_prefix(err, r, "%s", rd->dir);
	return 0;
}

static int take_image(struct reader *rd, const struct kiln_oci_descriptor *d,
		      const struct kiln_oci_platform *platform, int depth, struct kiln_digest *ret,
		      struct kiln_error *err)
{
	enum kiln_mt_kind kind = kiln_mt_classify(d->media_type, NULL);
	if (kind != KILN_MT_KIND_MANIFEST && kind != KILN_MT_KIND_INDEX)
		return kiln_fail(err, KILN_EUNSUPP, 0, "%s: index entry %s is a '%s', not an image",
				 rd->dir, d->digest, d->media_type);
	int r = take_blob(rd, d, 0, err);
	if (r < 0)
		return r;
	struct kiln_digest dg = d->sha256;
	cleanup_free char *json = NULL;
	size_t len;
	if ((r = kiln_store_blob_read(rd->st, &dg, KILN_OCI_MANIFEST_MAX, &json, &len, err)) < 0)
		return r;
	if (kind == KILN_MT_KIND_INDEX) {
		if (depth >= INDEX_DEPTH_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0, "%s: indexes nested too deeply", rd->dir);
		cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
		if ((r = kiln_oci_index_parse(json, len, &x, err)) < 0)
			return kiln_error_prefix(err, r, "%s: index %s", rd->dir, dg.str);
		const struct kiln_oci_descriptor *pick = NULL;
		if ((r = archive_index_pick(x, platform, &pick, err)) < 0)
			return kiln_error_prefix(err, r, "%s: index %s", rd->dir, dg.str);
		return take_image(rd, pick, platform, depth + 1, ret, err);
	}
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	if ((r = kiln_oci_manifest_parse(json, len, &m, err)) < 0)
		return kiln_error_prefix(err, r, "%s: manifest %s", rd->dir, dg.str);
	if ((r = take_blob(rd, &m->config, 0, err)) < 0)
		return r;
	for (size_t i = 0; i < m->n_layers; i++)
		if ((r = take_blob(rd, &m->layers[i], 1, err)) < 0)
			return r;
	*ret = dg;
	return 0;
}

int kiln_store_layout_load(struct kiln_store *st, const char *dir,
			   const struct kiln_oci_platform *platform,
			   struct kiln_store_load_result *ret, struct kiln_error *err)
{
	struct kiln_oci_platform host = { 0 };
	int r = 0;
	if (!platform) {
		if ((r = kiln_oci_platform_host(&host, err)) < 0)
			return r;
		platform = &host;
	}
	struct reader rd = { .st = st, .dir = dir, .blobs_fd = -1 };
	cleanup_free char *layout = kiln_asprintf("%s/oci-layout", dir);
	cleanup_free char *index = kiln_asprintf("%s/index.json", dir);
	cleanup_free char *bdir = kiln_asprintf("%s/blobs/sha256", dir);
	cleanup_free char *hdr = NULL, *json = NULL;
	size_t hl = 0, jl = 0;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	struct pending *p = NULL;
	size_t n = 0;
	struct kiln_store_load_result res = { .format = KILN_ARCHIVE_OCI };
	if (!layout || !index || !bdir)
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (r == 0 && (r = kiln_read_file(layout, 65536, &hdr, &hl, err)) < 0)
		r = kiln_error_prefix(err, r, "%s is not an OCI layout", dir);
	if (r == 0 && (r = kiln_oci_layout_header_parse(hdr, hl, err)) < 0)
		r = kiln_error_prefix(err, r, "%s", layout);
	if (r == 0)
		r = kiln_read_file(index, KILN_OCI_MANIFEST_MAX, &json, &jl, err);
	if (r == 0 && (r = kiln_oci_index_parse(json, jl, &x, err)) < 0)
		r = kiln_error_prefix(err, r, "%s", index);
	if (r == 0 && x->n_manifests == 0)
		r = kiln_fail(err, KILN_EPARSE, 0, "%s lists no images", index);
	if (r == 0 && (rd.blobs_fd = open(bdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = kiln_fail_errno(err, "opening %s", bdir);
	if (r == 0 && !(p = kiln_calloc(x->n_manifests, sizeof(*p))))
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; r == 0 && i < x->n_manifests; i++) {
		struct kiln_digest md;
		if ((r = take_image(&rd, &x->manifests[i], platform, 0, &md, err)) < 0)
			break;
		size_t j = 0;
		while (j < n && !kiln_digest_equal(&p[j].manifest, &md))
			j++;
		if (j == n)
			p[n++].manifest = md;
		r = archive_names_from_annotations(&x->manifests[i].annotations, &p[j].names, err);
	}
	if (r == 0)
		r = archive_record_pending(st, dir, p, n, rd.known, rd.n_known, &res, err);
	if (p)
		pending_free(p, x->n_manifests);
	if (rd.blobs_fd >= 0)
		(void)close(rd.blobs_fd);
	free(rd.known);
	kiln_oci_platform_release(&host);
	if (r < 0) {
		kiln_store_load_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}
