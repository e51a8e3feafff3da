/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a cache lives: a repository of a registry (through registry/repo.h)
 * or an OCI image layout directory, BuildKit's type=local: blobs under
 * blobs/sha256/, index.json naming the cache's manifest or index with an
 * org.opencontainers.image.ref.name annotation (the tag, "latest" unless
 * told). Blobs are verified on their way into the store; a layout is
 * written blobs first, index.json last and atomically, under a lock on the
 * directory, so a reader never sees a name without its content.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rcache/rcache-private.h"
#include "registry/repo.h"

#define LAYOUT_HEADER "{\"imageLayoutVersion\":\"1.0.0\"}"

struct kiln_rcache_loc {
	struct kiln_rcache_target t;
	char *name; /* for messages */
	/* registry */
	struct kiln_registry_repo *repo;
	/* local */
	char *dir;
	char *tag;
	int dfd;
};

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

void kiln_rcache_loc_free(struct kiln_rcache_loc *l)
{
	if (!l)
		return;
	kiln_registry_repo_free(l->repo);
	if (l->dfd >= 0)
		(void) close(l->dfd);
	free(l->dir);
	free(l->tag);
	free(l->name);
	free(l);
}

const char *kiln_rcache_loc_name(const struct kiln_rcache_loc *l)
{
	return l->name;
}

int kiln_rcache_loc_is_local(const struct kiln_rcache_loc *l)
{
	return l->dir != NULL;
}

const char *kiln_rcache_loc_domain(const struct kiln_rcache_loc *l)
{
	return l->repo ? kiln_registry_repo_domain(l->repo) : NULL;
}

struct kiln_registry_repo *kiln_rcache_loc_repo(const struct kiln_rcache_loc *l)
{
	return l->repo;
}

char *kiln_rcache_loc_repository(const struct kiln_rcache_loc *l)
{
	return l->repo ? kiln_registry_repo_repository(l->repo) : NULL;
}

int kiln_rcache_loc_open(const struct kiln_ctx *ctx, const struct kiln_rcache_target *t,
			 const struct kiln_registry_opts *ro, int write,
			 struct kiln_rcache_loc **ret, struct kiln_error *err)
{
	cleanup(kiln_rcache_loc_freep) struct kiln_rcache_loc *l = kiln_calloc(1, sizeof(*l));
	if (!l)
		return oom(err);
	l->dfd = -1;
	int r;
	if (t->dir) {
		if (!*t->dir)
			return kiln_fail(err, KILN_EINVAL, 0, "a local cache needs a directory");
		l->dir = kiln_strdup(t->dir);
		l->tag = kiln_strdup(t->tag && *t->tag ? t->tag : "latest");
		l->name = t->digest ? kiln_asprintf("%s@%s", t->dir, t->digest)
				    : kiln_asprintf("%s (%s)", t->dir, l->tag);
		if (!l->dir || !l->tag || !l->name)
			return oom(err);
		if (t->digest) {
			struct kiln_digest d;
			if (kiln_digest_parse(t->digest, &d, NULL) < 0)
				return kiln_fail(err, KILN_EINVAL, 0, "'%s' is not a sha256 digest",
						 t->digest);
		}
		if (write) {
			cleanup_free char *blobs = kiln_asprintf("%s/blobs/sha256", t->dir);
			if (!blobs)
				return oom(err);
			if ((r = kiln_mkdir_p(blobs, 0755, err)) < 0)
				return r;
		}
		l->dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (l->dfd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				return kiln_fail(err, KILN_ENOTFOUND, errno, "no such directory");
			return kiln_fail_errno(err, "%s", t->dir);
		}
	} else {
		if (!t->ref || !*t->ref)
			return kiln_fail(err, KILN_EINVAL, 0, "a registry cache needs ref=");
		if ((r = kiln_registry_repo_open(ctx, t->ref, ro, &l->repo, err)) < 0)
			return r;
		if (!(l->name = kiln_strdup(kiln_registry_repo_name(l->repo))))
			return oom(err);
		if (write && !strncmp(kiln_registry_repo_reference(l->repo), "sha256:", 7))
			return kiln_fail(err, KILN_EINVAL, 0,
					 "a cache is written under a tag, not a digest");
	}
	l->t = *t;
	*ret = steal_ptr(&l);
	return 0;
}

/* ---- the layout directory ------------------------------------------------------------ */

static int blob_rel(const struct kiln_digest *d, char *buf, size_t n)
{
	return snprintf(buf, n, "blobs/sha256/%s", d->hex) < (int) n ? 0 : -1;
}

/* index.json: the descriptor named `tag`, or the one with `digest`. */
static int local_root_desc(struct kiln_rcache_loc *l, struct kiln_oci_descriptor *ret,
			   struct kiln_error *err)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r = kiln_read_file_at(l->dfd, "index.json", KILN_OCI_MANIFEST_MAX, &data, &len, err);
	if (r == -KILN_ENOTFOUND)
		return r;
	if (r < 0)
		return r;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	if ((r = kiln_oci_index_parse(data, len, &x, err)) < 0)
		return kiln_error_prefix(err, r, "index.json");
	for (size_t i = x->n_manifests; i-- > 0;) {
		const struct kiln_oci_descriptor *d = &x->manifests[i];
		const char *name = kiln_oci_map_get(&d->annotations, KILN_ANNOT_REF_NAME);
		int match = l->t.digest ? d->digest && !strcmp(d->digest, l->t.digest)
					: name && !strcmp(name, l->tag);
		if (match)
			return kiln_oci_descriptor_copy(ret, d, err);
	}
	return kiln_fail(err, KILN_ENOTFOUND, 0, "index.json has no %s %s",
			 l->t.digest ? "manifest" : "tag", l->t.digest ? l->t.digest : l->tag);
}

static int local_read(struct kiln_rcache_loc *l, const struct kiln_digest *d, size_t limit,
		      char **ret, size_t *ret_len, struct kiln_error *err)
{
	char rel[96];
	if (blob_rel(d, rel, sizeof(rel)) < 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "blob path");
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r = kiln_read_file_at(l->dfd, rel, limit, &data, &len, err);
	if (r < 0)
		return r;
	struct kiln_digest got;
	if ((r = kiln_sha256_buf(data, len, &got, err)) < 0)
		return r;
	if (!kiln_digest_equal(&got, d))
		return kiln_fail(err, KILN_EDIGEST, 0, "%s hashes to %s", rel, got.str);
	*ret = steal_ptr(&data);
	*ret_len = len;
	return 0;
}

static int local_fetch(struct kiln_rcache_loc *l, struct kiln_store *st,
		       const struct kiln_oci_descriptor *d, struct kiln_error *err)
{
	struct kiln_digest dg;
	int r = kiln_oci_descriptor_sha256(d, &dg, err);
	if (r < 0)
		return r;
	int64_t have = 0;
	if ((r = kiln_store_blob_has(st, &dg, &have, err)) < 0)
		return r;
	if (r == 1 && have == d->size)
		return 0;
	char rel[96];
	if (blob_rel(&dg, rel, sizeof(rel)) < 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "blob path");
	cleanup_close int fd = openat(l->dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return kiln_fail(err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno, "%s",
				 rel);
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	if ((r = kiln_store_blob_writer_new(st, &dg, d->size, &w, err)) < 0 ||
	    (r = kiln_blob_writer_write_fd(w, fd, err)) < 0 ||
	    (r = kiln_blob_writer_commit(w, NULL, NULL, err)) < 0)
		return kiln_error_prefix(err, r, "%s", rel);
	return 0;
}

/* Copy a store blob into blobs/sha256/ unless it is there with its size. */
static int local_push(struct kiln_rcache_loc *l, struct kiln_store *st,
		      const struct kiln_oci_descriptor *d, struct kiln_error *err)
{
	struct kiln_digest dg;
	int r = kiln_oci_descriptor_sha256(d, &dg, err);
	if (r < 0)
		return r;
	char rel[96];
	if (blob_rel(&dg, rel, sizeof(rel)) < 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "blob path");
	struct stat s;
	if (fstatat(l->dfd, rel, &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(s.st_mode) &&
	    s.st_size == d->size)
		return 0;
	cleanup(kiln_blob_reader_freep) struct kiln_blob_reader *rd = NULL;
	if ((r = kiln_store_blob_reader_new(st, &dg, &rd, err)) < 0)
		return r;
	char tmp[128];
	(void) snprintf(tmp, sizeof(tmp), "blobs/sha256/.%s.tmp-%ld", dg.hex, (long) getpid());
	cleanup_close int fd =
		openat(l->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return kiln_fail_errno(err, "creating %s", tmp);
	char buf[65536];
	for (;;) {
		size_t n = 0;
		r = kiln_blob_reader_read(rd, buf, sizeof(buf), &n, err);
		if (r < 0 || n == 0)
			break;
		if (kiln_write_all(fd, buf, n) < 0) {
			r = kiln_fail_errno(err, "writing %s", tmp);
			break;
		}
	}
	if (r >= 0 && fsync(fd) < 0)
		r = kiln_fail_errno(err, "writing %s", tmp);
	if (r >= 0 && renameat(l->dfd, tmp, l->dfd, rel) < 0)
		r = kiln_fail_errno(err, "renaming %s", tmp);
	if (r < 0)
		(void) unlinkat(l->dfd, tmp, 0);
	return r;
}

/* The manifest blob, then index.json with it under the tag (others kept). */
static int local_put_root(struct kiln_rcache_loc *l, const char *media_type, const char *body,
			  size_t len, struct kiln_error *err)
{
	struct kiln_digest d;
	int r = kiln_sha256_buf(body, len, &d, err);
	if (r < 0)
		return r;
	char rel[96];
	if (blob_rel(&d, rel, sizeof(rel)) < 0)
		return kiln_fail(err, KILN_EINTERNAL, 0, "blob path");
	if ((r = kiln_write_file_atomic_at(l->dfd, rel, body, len, 0644, err)) < 0)
		return r;
	/* one writer of index.json at a time: a lock on the directory itself */
	if (flock(l->dfd, LOCK_EX) < 0)
		return kiln_fail_errno(err, "locking");
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	cleanup_free char *old = NULL;
	size_t olen = 0;
	r = kiln_read_file_at(l->dfd, "index.json", KILN_OCI_MANIFEST_MAX, &old, &olen, NULL);
	if (r >= 0 && kiln_oci_index_parse(old, olen, &x, NULL) < 0)
		x = NULL; /* not a layout index: replaced by ours */
	r = x ? 0 : kiln_oci_index_new(&x, err);
	if (r >= 0 && !x->media_type && !(x->media_type = kiln_strdup(KILN_MT_OCI_INDEX)))
		r = oom(err);
	/* drop what had this tag */
	for (size_t i = 0; r >= 0 && i < x->n_manifests;) {
		const char *name =
			kiln_oci_map_get(&x->manifests[i].annotations, KILN_ANNOT_REF_NAME);
		if (name && !strcmp(name, l->tag)) {
			kiln_oci_descriptor_release(&x->manifests[i]);
			memmove(&x->manifests[i], &x->manifests[i + 1],
				(x->n_manifests - i - 1) * sizeof(*x->manifests));
			x->n_manifests--;
		} else {
			i++;
		}
	}
	struct kiln_oci_descriptor nd = { 0 };
	if (r >= 0)
		r = kiln_oci_descriptor_set(&nd, media_type, &d, (int64_t) len, err);
	if (r >= 0)
		r = kiln_oci_map_set(&nd.annotations, KILN_ANNOT_REF_NAME, l->tag, err);
	if (r >= 0)
		r = kiln_oci_index_add(x, &nd, err);
	kiln_oci_descriptor_release(&nd);
	cleanup_free char *json = NULL;
	size_t jlen = 0;
	if (r >= 0)
		r = kiln_oci_index_to_json(x, KILN_OCI_JSON_COMPACT, &json, &jlen, err);
	struct stat s;
	if (r >= 0 && fstatat(l->dfd, "oci-layout", &s, 0) < 0)
		r = kiln_write_file_atomic_at(l->dfd, "oci-layout", LAYOUT_HEADER,
					      strlen(LAYOUT_HEADER), 0644, err);
	if (r >= 0)
		r = kiln_write_file_atomic_at(l->dfd, "index.json", json, jlen, 0644, err);
	(void) flock(l->dfd, LOCK_UN);
	return r < 0 ? r : 0;
}

/* ---- both ---------------------------------------------------------------------------- */

int kiln_rcache_loc_get_root(struct kiln_rcache_loc *l, char **ret, size_t *ret_len,
			     struct kiln_digest *ret_digest, struct kiln_error *err)
{
	if (l->repo)
		return kiln_registry_repo_get_manifest(l->repo, NULL, ret, ret_len, ret_digest,
						       err);
	struct kiln_oci_descriptor d = { 0 };
	int r = local_root_desc(l, &d, err);
	if (r < 0)
		return r;
	struct kiln_digest dg;
	r = kiln_oci_descriptor_sha256(&d, &dg, err);
	kiln_oci_descriptor_release(&d);
	if (r >= 0)
		r = local_read(l, &dg, KILN_OCI_MANIFEST_MAX, ret, ret_len, err);
	if (r >= 0)
		*ret_digest = dg;
	return r;
}

int kiln_rcache_loc_get_manifest(struct kiln_rcache_loc *l, const struct kiln_digest *d, char **ret,
				 size_t *ret_len, struct kiln_error *err)
{
	if (l->repo) {
		struct kiln_digest got;
		return kiln_registry_repo_get_manifest(l->repo, d->str, ret, ret_len, &got, err);
	}
	return local_read(l, d, KILN_OCI_MANIFEST_MAX, ret, ret_len, err);
}

int kiln_rcache_loc_fetch(struct kiln_rcache_loc *l, struct kiln_store *st,
			  const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
{
	if (l->repo)
		return kiln_registry_repo_fetch(l->repo, st, d, n, err);
	for (size_t i = 0; i < n; i++) {
		int r = local_fetch(l, st, &d[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

int kiln_rcache_loc_push(struct kiln_rcache_loc *l, struct kiln_store *st,
			 const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
{
	if (l->repo)
		return kiln_registry_repo_push(l->repo, st, d, n, err);
	for (size_t i = 0; i < n; i++) {
		int r = local_push(l, st, &d[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

int kiln_rcache_loc_put_root(struct kiln_rcache_loc *l, const char *media_type, const char *body,
			     size_t len, struct kiln_error *err)
{
	if (l->repo)
		return kiln_registry_repo_put_manifest(l->repo, NULL, media_type, body, len, err);
	return local_put_root(l, media_type, body, len, err);
}

int kiln_rcache_loc_read_blob(struct kiln_rcache_loc *l, struct kiln_store *st,
			      const struct kiln_oci_descriptor *d, size_t limit, char **ret,
			      size_t *ret_len, struct kiln_error *err)
{
	struct kiln_digest dg;
	int r = kiln_oci_descriptor_sha256(d, &dg, err);
	if (r < 0)
		return r;
	if (d->size < 0 || (uint64_t) d->size > limit)
		return kiln_fail(err, KILN_ELIMIT, 0, "%s is larger than %zu bytes", dg.str, limit);
	if (!l->repo)
		return local_read(l, &dg, limit, ret, ret_len, err);
	if ((r = kiln_registry_repo_fetch(l->repo, st, d, 1, err)) < 0)
		return r;
	return kiln_store_blob_read(st, &dg, limit, ret, ret_len, err);
}
