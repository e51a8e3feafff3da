/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln import: a one-layer image from a root filesystem, as docker import
 * makes one. A tarball (plain, gzip, zstd, bzip2 or xz) is checked entry by
 * entry and re-compressed as it is (same diff_id); a directory is written
 * as a deterministic layer. The layer goes straight into a blob writer;
 * the config and manifest follow, and the name is set with the record.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layer/layer.h"
#include "store/archive-private.h"

static int write_layer(struct kiln_store *st, const char *source, struct kiln_digest *ret_digest,
		       struct kiln_layer_digests *ret, struct kiln_error *err)
{
	int is_stdin = strcmp(source, "-") == 0;
	cleanup_close int in =
		is_stdin ? fcntl(0, F_DUPFD_CLOEXEC, 0) : open(source, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return kiln_fail(err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno,
				 "opening %s", is_stdin ? "stdin" : source);
	struct stat sb;
	if (fstat(in, &sb) < 0)
		return kiln_fail_errno(err, "stat %s", source);
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	int r = kiln_store_blob_writer_new(st, NULL, -1, &w, err);
	if (r < 0)
		return r;
	int out = kiln_blob_writer_external_fd(w);
	struct kiln_layer_write_opts wo = { .compression = KILN_COMPRESSION_GZIP,
					    .ctx = kiln_store_ctx(st) };
	if (S_ISDIR(sb.st_mode)) {
		r = kiln_layer_write_tree(in, KILN_TREE_PLAIN, out, &wo, ret, err);
	} else {
		struct kiln_layer_read_opts ro = { .ctx = kiln_store_ctx(st), .check_names = 1 };
		r = kiln_layer_recompress(in, out, &ro, &wo, NULL, ret, err);
	}
	if (r < 0)
		return kiln_error_prefix(err, r, "importing %s", is_stdin ? "stdin" : source);
	int64_t size = 0;
	if ((r = kiln_blob_writer_commit(w, ret_digest, &size, err)) < 0)
		return r;
	if (!kiln_digest_equal(ret_digest, &ret->digest) || (uint64_t)size != ret->size)
		return kiln_fail(err, KILN_EINTERNAL, 0,
				 "the layer written (%s) is not what was computed (%s)",
				 ret_digest->str, ret->digest.str);
	return 0;
}

static int make_config(const struct kiln_store_import_opts *opts, const char *source,
		       const struct kiln_layer_digests *dg, struct kiln_oci_config **ret,
		       struct kiln_error *err)
{
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	int r = kiln_oci_config_new(&c, err);
	if (r < 0)
		return r;
	if (opts && opts->platform)
		r = kiln_oci_platform_copy(&c->platform, opts->platform, err);
	else
		r = kiln_oci_platform_host(&c->platform, err);
	if (r < 0)
		return r;
	if (opts && opts->config) {
		cleanup(kiln_oci_config_freep) struct kiln_oci_config *tmp = NULL;
		struct kiln_oci_config shell = { .config = *opts->config,
						 .platform = c->platform };
		if ((r = kiln_oci_config_copy(&shell, &tmp, err)) < 0)
			return r;
		c->config = tmp->config;
		memset(&tmp->config, 0, sizeof(tmp->config));
	}
	struct timespec now;
	int64_t sec;
	long nsec = 0;
	if (opts && opts->created >= 0) {
		sec = opts->created;
	} else {
		(void)clock_gettime(CLOCK_REALTIME, &now);
		sec = now.tv_sec;
		nsec = now.tv_nsec;
	}
	c->created = kiln_oci_time_format(sec, nsec);
	cleanup_free char *comment = opts && opts->comment
					     ? kiln_strdup(opts->comment)
					     : kiln_asprintf("Imported from %s", source);
	if (!c->created || !comment)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct kiln_oci_history h = { .created = c->created, .comment = comment };
	if ((r = kiln_oci_config_add_history(c, &h, err)) < 0 ||
	    (r = kiln_oci_config_add_diff_id(c, &dg->diff_id, err)) < 0)
		return r;
	*ret = steal_ptr(&c);
	return 0;
}

int kiln_store_import(struct kiln_store *st, const char *source,
		      const struct kiln_store_import_opts *opts, struct kiln_digest *ret_manifest,
		      struct kiln_error *err)
{
	const char *name = opts ? opts->name : NULL;
	struct kiln_digest layer, config;
	struct kiln_layer_digests dg;
	int r = write_layer(st, source, &layer, &dg, err);
	if (r < 0)
		return r;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	if ((r = make_config(opts, strcmp(source, "-") == 0 ? "-" : source, &dg, &c, err)) < 0)
		return r;
	cleanup_free char *cj = NULL, *mj = NULL;
	size_t cl = 0, ml = 0;
	if ((r = kiln_oci_config_to_json(c, &cj, &cl, err)) < 0 ||
	    (r = kiln_store_blob_put(st, cj, cl, NULL, &config, err)) < 0)
		return r;
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	if ((r = kiln_oci_manifest_new(&m, err)) < 0)
		return r;
	if (!(m->media_type = kiln_strdup(KILN_MT_OCI_MANIFEST)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct kiln_oci_descriptor l = { 0 };
	if ((r = kiln_oci_descriptor_set(&m->config, KILN_MT_OCI_CONFIG, &config, (int64_t)cl,
					 err)) < 0 ||
	    (r = kiln_oci_descriptor_set(&l, KILN_MT_OCI_LAYER_GZIP, &layer, (int64_t)dg.size,
					 err)) < 0 ||
	    (r = kiln_oci_manifest_add_layer(m, &l, err)) < 0) {
		kiln_oci_descriptor_release(&l);
		return r;
	}
	kiln_oci_descriptor_release(&l);
	if ((r = kiln_oci_manifest_to_json(m, 0, &mj, &ml, err)) < 0 ||
	    (r = kiln_store_blob_put(st, mj, ml, NULL, ret_manifest, err)) < 0)
		return r;
	const char *names[] = { name };
	return kiln_store_image_add(st, ret_manifest, names, name ? 1 : 0, err);
}
