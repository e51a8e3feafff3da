/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Push: every blob of the image goes through a small state machine, several
 * blobs at a time on the transfer engine:
 *
 *     HEAD blob ── 200 ──────────────────────────────────────────► present
 *        │ 404
 *        ├─ known in another repository ─► POST ?mount=&from= ─ 201 ► mounted
 *        │                                      │ 202 (no mount: an upload session)
 *        └──────────────────────────────► POST uploads/ ── 202 ─┐
 *                                                               ▼
 *            size <= chunk: PUT <location>&digest= with the body ─ 201 ► uploaded
 *            size >  chunk: PATCH <location> per chunk (Content-Range) … then
 *                           PUT <location>&digest= without a body ─ 201 ► uploaded
 *
 * then the manifest PUT under the tag, byte for byte as stored. An image
 * index goes out the same way: its images' blobs, their manifests by
 * digest, then the index under the tag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ref/ref.h"
#include "registry/registry-private.h"
#include "store/store.h"

#define PROGRESS_STEP ((int64_t) 256 << 10)

struct push;

enum up_state {
	UP_HEAD,
	UP_MOUNT,
	UP_POST,
	UP_PATCH,
	UP_PUT,
};

struct up {
	struct push *p;
	struct kiln_digest digest;
	int64_t size;
	const char *what;
	enum up_state state;
	char *mount_from;
	char *location; /* the upload session */
	int fd;
	int64_t offset; /* bytes accepted so far (chunked) */
	int64_t reported;
	int started;
};

struct push {
	struct kiln_store *st;
	struct reg_client *c;
	const char *repo;
	char *scope;
	int64_t chunk;
	unsigned flags;
	struct up *ups;
	size_t n_ups;
	size_t uploaded, existing, mounted;
	int64_t bytes;
};

void kiln_registry_push_result_release(struct kiln_registry_push_result *r)
{
	if (!r)
		return;
	free(r->dest);
	memset(r, 0, sizeof(*r));
}

static void push_release(struct push *p)
{
	for (size_t i = 0; i < p->n_ups; i++) {
		free(p->ups[i].mount_from);
		free(p->ups[i].location);
		if (p->ups[i].fd >= 0)
			(void) close(p->ups[i].fd);
	}
	free(p->ups);
	free(p->scope);
	memset(p, 0, sizeof(*p));
}

static int up_step(struct up *u, struct kiln_error *err);

static int up_done(struct reg_client *c, struct reg_xfer *x, void *data, struct kiln_error *err);

/* Same scheme, host and port as the registry: only then does it get our credentials. */
static int same_origin(struct reg_client *c, const char *url)
{
	size_t n = strlen(c->base);
	return strncmp(url, c->base, n) == 0 && (url[n] == '/' || url[n] == 0 || url[n] == '?');
}

static int new_xfer(struct up *u, const char *method, const char *url, const char *scope,
		    struct reg_xfer **ret, struct kiln_error *err)
{
	struct reg_xfer *x = NULL;
	int r = reg_xfer_new(u->p->c, method, url, scope ? scope : u->p->scope, &x, err);
	if (r < 0)
		return r;
	if (!same_origin(u->p->c, url))
		x->flags |= REG_XFER_NO_AUTH;
	x->what = u->what;
	x->done = up_done;
	x->done_data = u;
	*ret = x;
	return 0;
}

static void up_sent(void *data, struct reg_xfer *x)
{
	struct up *u = data;
	int64_t now = u->offset + x->sent;
	if (now - u->reported >= PROGRESS_STEP) {
		u->reported = now;
		reg_event(u->p->c, KILN_REG_EV_BLOB_PROGRESS, u->digest.str, u->what, now, u->size,
			  NULL);
	}
}

static int open_body(struct up *u, struct reg_xfer *x, int64_t off, int64_t len,
		     struct kiln_error *err)
{
	if (u->fd < 0) {
		int64_t size;
		int r = kiln_store_blob_open(u->p->st, &u->digest, &u->fd, &size, err);
		if (r < 0)
			return r;
		if (size != u->size)
			return kiln_fail(
				err, KILN_EDIGEST, 0,
				"blob %s is %lld bytes in the store, the manifest says %lld",
				u->digest.str, (long long) size, (long long) u->size);
	}
	x->body_fd = u->fd;
	x->body_off = off;
	x->body_size = len;
	x->has_body = 1;
	x->on_sent = up_sent;
	x->on_sent_data = u;
	if (!u->started) {
		u->started = 1;
		reg_event(u->p->c, KILN_REG_EV_BLOB_START, u->digest.str, u->what, 0, u->size,
			  NULL);
	}
	return reg_xfer_header(x, "Content-Type: application/octet-stream", err);
}

/* "<location>?digest=" or "&digest=" */
static char *with_digest(const char *location, const struct kiln_digest *d)
{
	return kiln_asprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', d->str);
}

/* Queue the transfer for the current state. */
static int up_step(struct up *u, struct kiln_error *err)
{
	struct push *p = u->p;
	struct reg_client *c = p->c;
	struct reg_xfer *x = NULL;
	int r;
	switch (u->state) {
	case UP_HEAD: {
		cleanup_free char *suffix = kiln_asprintf("blobs/%s", u->digest.str);
		cleanup_free char *url = suffix ? reg_url(c, p->repo, suffix) : NULL;
		if (!url)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = new_xfer(u, "HEAD", url, NULL, &x, err);
		break;
	}
	case UP_MOUNT: {
		cleanup_free char *suffix = kiln_asprintf("blobs/uploads/?mount=%s&from=%s",
							  u->digest.str, u->mount_from);
		cleanup_free char *url = suffix ? reg_url(c, p->repo, suffix) : NULL;
		cleanup_free char *scope =
			kiln_asprintf("%s repository:%s:pull", p->scope, u->mount_from);
		if (!url || !scope)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = new_xfer(u, "POST", url, scope, &x, err);
		break;
	}
	case UP_POST: {
		cleanup_free char *url = reg_url(c, p->repo, "blobs/uploads/");
		if (!url)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = new_xfer(u, "POST", url, NULL, &x, err);
		break;
	}
	case UP_PATCH: {
		int64_t len = u->size - u->offset < p->chunk ? u->size - u->offset : p->chunk;
		r = new_xfer(u, "PATCH", u->location, NULL, &x, err);
		if (r < 0)
			return r;
		char range[96];
		snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long) u->offset,
			 (long long) (u->offset + len - 1));
		/* a broken PATCH leaves the session at an unknown offset: no blind retry */
		x->flags |= REG_XFER_NO_RETRY;
		if ((r = open_body(u, x, u->offset, len, err)) < 0 ||
		    (r = reg_xfer_header(x, range, err)) < 0) {
			reg_xfer_free(x);
			return r;
		}
		reg_queue(c, x);
		return 0;
	}
	case UP_PUT: {
		cleanup_free char *url = with_digest(u->location, &u->digest);
		if (!url)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = new_xfer(u, "PUT", url, NULL, &x, err);
		if (r < 0)
			return r;
		if (u->offset == 0 && u->size > 0) {
			/* monolithic: the whole blob in this PUT */
			if ((r = open_body(u, x, 0, u->size, err)) < 0) {
				reg_xfer_free(x);
				return r;
			}
		} else if ((r = reg_xfer_header(x, "Content-Type: application/octet-stream", err)) <
			   0) {
			reg_xfer_free(x);
			return r;
		}
		reg_queue(c, x);
		return 0;
	}
	default:
		return kiln_fail(err, KILN_EINTERNAL, 0, "bad upload state");
	}
	if (r < 0)
		return r;
	reg_queue(c, x);
	return 0;
}

static int take_location(struct up *u, struct reg_xfer *x, struct kiln_error *err)
{
	const char *loc = reg_xfer_get(x, "location");
	if (!loc || !*loc)
		return reg_fail(u->p->c, x, KILN_EPARSE, err, "%ld without a Location header",
				x->status);
	char *n = reg_resolve_location(u->p->c, loc);
	if (!n)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	free(u->location);
	u->location = n;
	return 0;
}

static int start_upload(struct up *u, struct reg_xfer *x, struct kiln_error *err)
{
	int r = take_location(u, x, err);
	if (r < 0)
		return r;
	u->offset = 0;
	int chunked = (u->p->flags & KILN_REGISTRY_FORCE_CHUNKED) || u->size > u->p->chunk;
	u->state = chunked && u->size > 0 ? UP_PATCH : UP_PUT;
	return up_step(u, err);
}

static int up_finish(struct up *u, enum kiln_registry_event_kind ev)
{
	struct push *p = u->p;
	if (ev == KILN_REG_EV_BLOB_EXISTS)
		p->existing++;
	else if (ev == KILN_REG_EV_BLOB_MOUNTED)
		p->mounted++;
	else {
		p->uploaded++;
		p->bytes += u->size;
	}
	if (u->fd >= 0) {
		(void) close(u->fd);
		u->fd = -1;
	}
	reg_event(p->c, ev, u->digest.str, u->what, u->size, u->size,
		  ev == KILN_REG_EV_BLOB_MOUNTED ? u->mount_from : NULL);
	return 0;
}

static int up_done(struct reg_client *c, struct reg_xfer *x, void *data, struct kiln_error *err)
{
	struct up *u = data;
	struct push *p = u->p;
	int r;
	switch (u->state) {
	case UP_HEAD:
		if (x->status == 200)
			return up_finish(u, KILN_REG_EV_BLOB_EXISTS);
		if (x->status != 404)
			return reg_fail_status(c, x, err);
		if (!(p->flags & KILN_REGISTRY_NO_MOUNT)) {
			r = reg_blobinfo_find(p->st, c->domain, u->digest.str, p->repo,
					      &u->mount_from, err);
			if (r < 0)
				return r;
			if (u->mount_from) {
				u->state = UP_MOUNT;
				return up_step(u, err);
			}
		}
		u->state = UP_POST;
		return up_step(u, err);
	case UP_MOUNT:
		if (x->status == 201)
			return up_finish(u, KILN_REG_EV_BLOB_MOUNTED);
		/* the source no longer has it, or we may not read it: forget the hint */
		r = reg_blobinfo_remove(p->st, c->domain, u->mount_from, u->digest.str, err);
		if (r < 0)
			return r;
		if (x->status == 202)
			return start_upload(u, x, err);
		kiln_debug(c->ctx, "registry %s: mount of %s from %s refused (%ld)", c->domain,
			   u->digest.str, u->mount_from, x->status);
		u->state = UP_POST;
		return up_step(u, err);
	case UP_POST:
		if (x->status == 201 && reg_xfer_get(x, "docker-content-digest"))
			return up_finish(u, KILN_REG_EV_BLOB_EXISTS);
		if (x->status != 202)
			return reg_fail_status(c, x, err);
		return start_upload(u, x, err);
	case UP_PATCH:
		if (x->status != 202 && x->status != 204)
			return reg_fail_status(c, x, err);
		u->offset += x->body_size;
		if (reg_xfer_get(x, "location") && (r = take_location(u, x, err)) < 0)
			return r;
		u->state = u->offset >= u->size ? UP_PUT : UP_PATCH;
		return up_step(u, err);
	case UP_PUT:
		if (x->status != 201 && x->status != 204 && x->status != 200)
			return reg_fail_status(c, x, err);
		{
			const char *dcd = reg_xfer_get(x, "docker-content-digest");
			if (dcd && strncmp(dcd, "sha256:", 7) == 0 && strcmp(dcd, u->digest.str))
				return reg_fail(c, x, KILN_EDIGEST, err,
						"the registry stored %s as %s", u->digest.str, dcd);
		}
		reg_event(c, KILN_REG_EV_BLOB_PROGRESS, u->digest.str, u->what, u->size, u->size,
			  NULL);
		return up_finish(u, KILN_REG_EV_BLOB_DONE);
	}
	return kiln_fail(err, KILN_EINTERNAL, 0, "bad upload state");
}

static int add_up(struct push *p, const struct kiln_oci_descriptor *desc, const char *what,
		  struct kiln_error *err)
{
	struct kiln_digest d;
	int r = kiln_oci_descriptor_sha256(desc, &d, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_ups; i++)
		if (kiln_digest_equal(&p->ups[i].digest, &d))
			return 0;
	/* a foreign layer the store does not hold stays where its URLs point */
	enum kiln_mt_kind k = kiln_mt_classify(desc->media_type, NULL);
	if (k == KILN_MT_KIND_LAYER && desc->urls.len > 0) {
		r = kiln_store_blob_has(p->st, &d, NULL, err);
		if (r < 0)
			return r;
		if (r == 0)
			return 0;
	}
	struct up *n = kiln_reallocarray(p->ups, p->n_ups + 1, sizeof(*p->ups));
	if (!n)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->ups = n;
	struct up *u = &p->ups[p->n_ups++];
	memset(u, 0, sizeof(*u));
	u->p = p;
	u->digest = d;
	u->size = desc->size;
	u->what = what;
	u->fd = -1;
	u->state = UP_HEAD;
	return 0;
}

static int put_manifest(struct reg_client *c, const char *repo, const char *scope, const char *tag,
			const char *media_type, const char *body, size_t len,
			const struct kiln_digest *d, struct kiln_error *err)
{
	cleanup_free char *suffix = kiln_asprintf("manifests/%s", tag);
	cleanup_free char *url = suffix ? reg_url(c, repo, suffix) : NULL;
	cleanup_free char *ct = kiln_asprintf("Content-Type: %s", media_type);
	if (!url || !ct)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup(reg_xfer_freep) struct reg_xfer *x = NULL;
	int r = reg_xfer_new(c, "PUT", url, scope, &x, err);
	if (r < 0)
		return r;
	x->what = "manifest";
	x->body = body;
	x->body_len = len;
	x->has_body = 1;
	if ((r = reg_xfer_header(x, ct, err)) < 0)
		return r;
	if ((r = reg_do(c, x, err)) < 0)
		return r;
	if (x->status != 201 && x->status != 200 && x->status != 202)
		return reg_fail_status(c, x, err);
	const char *dcd = reg_xfer_get(x, "docker-content-digest");
	if (dcd && strncmp(dcd, "sha256:", 7) == 0 && strcmp(dcd, d->str) != 0)
		return reg_fail(c, x, KILN_EDIGEST, err,
				"the registry stored the manifest as %s, not %s", dcd, d->str);
	return 0;
}

/* A manifest or index to PUT: the last of a push goes under the tag, the
 * others (an index's images) by digest, before it. */
struct push_doc {
	struct kiln_digest d;
	const char *media_type;
	char *body;
	size_t len;
	struct kiln_oci_manifest *m; /* its blobs; NULL for an index */
};

static void push_docs_free(struct push_doc *docs, size_t n)
{
	for (size_t i = 0; docs && i < n; i++) {
		free(docs[i].body);
		kiln_oci_manifest_free(docs[i].m);
	}
	free(docs);
}

/* The destination, with a tag (none means latest) and no digest. */
static int dest_ref(const char *src, const char *dest, struct kiln_ref **ret,
		    struct kiln_error *err)
{
	const char *target = dest ? dest : src;
	int r = kiln_ref_parse(target, KILN_REF_DEFAULT_TAG_LATEST, ret, err);
	if (r < 0 && !dest)
		return kiln_error_prefix(err, r,
					 "'%s' is not a name to push to; give a destination", src);
	if (r < 0)
		return kiln_error_prefix(err, r, "destination");
	if ((*ret)->digest)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "'%s': push to a tag, not a digest (the digest is the manifest's)",
				 target);
	return 0;
}

static int push_docs(struct kiln_store *st, const struct kiln_ref *ref,
		     const struct kiln_registry_opts *o, struct push_doc *docs, size_t n,
		     struct kiln_registry_push_result *ret, struct kiln_error *err)
{
	const struct kiln_ctx *ctx = kiln_store_ctx(st);
	cleanup_free char *dest_name = kiln_ref_string(ref);
	if (!dest_name)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup(reg_client_freep) struct reg_client *c = NULL;
	int r = reg_client_new(ctx, ref->domain, o, &c, err);
	if (r < 0)
		return r;
	if ((r = reg_client_ping(c, err)) < 0)
		return r;
	if ((r = reg_blobinfo_init(st, err)) < 0)
		return r;

	cleanup(push_release) struct push p = {
		.st = st,
		.c = c,
		.repo = ref->path,
		.chunk = o->chunk_size > 0 ? o->chunk_size : KILN_REGISTRY_CHUNK_DEFAULT,
		.flags = o->flags,
	};
	p.scope = kiln_asprintf("repository:%s:pull,push", ref->path);
	if (!p.scope)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t k = 0; k < n; k++) {
		const struct kiln_oci_manifest *m = docs[k].m;
		if (m && (r = add_up(&p, &m->config, "config", err)) < 0)
			return r;
		for (size_t i = 0; m && i < m->n_layers; i++)
			if ((r = add_up(&p, &m->layers[i], "layer", err)) < 0)
				return r;
	}
	for (size_t i = 0; i < p.n_ups; i++)
		if ((r = up_step(&p.ups[i], err)) < 0)
			return r;
	if ((r = reg_run(c, err)) < 0)
		return r;

	for (size_t k = 0; k < n; k++) {
		const struct push_doc *doc = &docs[k];
		const char *tag = k + 1 == n ? ref->tag : doc->d.str;
		r = put_manifest(c, ref->path, p.scope, tag, doc->media_type, doc->body, doc->len,
				 &doc->d, err);
		if (r < 0)
			return r;
		reg_event(c, KILN_REG_EV_MANIFEST, doc->d.str, doc->m ? "manifest" : "index",
			  (int64_t) doc->len, (int64_t) doc->len, k + 1 == n ? dest_name : NULL);
	}

	/* where the blobs are now, for later mounts */
	if ((r = kiln_store_tx_begin(st, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < p.n_ups; i++)
		r = reg_blobinfo_add(st, c->domain, ref->path, p.ups[i].digest.str, err);
	if (r >= 0)
		r = kiln_store_tx_commit(st, err);
	if (r < 0) {
		kiln_store_tx_rollback(st);
		return r;
	}
	kiln_debug(ctx, "pushed %s: %zu uploaded, %zu present, %zu mounted", dest_name, p.uploaded,
		   p.existing, p.mounted);
	if (ret) {
		memset(ret, 0, sizeof(*ret));
		ret->dest = steal_ptr(&dest_name);
		ret->manifest = docs[n - 1].d;
		ret->blobs_uploaded = p.uploaded;
		ret->blobs_existing = p.existing;
		ret->blobs_mounted = p.mounted;
		ret->bytes_uploaded = p.bytes;
	}
	return 0;
}

/* A manifest from the store, parsed, as a document to push. */
static int manifest_doc(struct kiln_store *st, const struct kiln_digest *md,
			const char *fallback_type, struct push_doc *doc, struct kiln_error *err)
{
	doc->d = *md;
	int r = kiln_store_blob_read(st, md, KILN_OCI_MANIFEST_MAX, &doc->body, &doc->len, err);
	if (r < 0)
		return r;
	if ((r = kiln_oci_manifest_parse(doc->body, doc->len, &doc->m, err)) < 0)
		return kiln_error_prefix(err, r, "manifest %s", md->str);
	doc->media_type = doc->m->media_type ? doc->m->media_type
			  : fallback_type && *fallback_type ? fallback_type
							    : KILN_MT_OCI_MANIFEST;
	return 0;
}

int kiln_registry_push(struct kiln_store *st, const char *src, const char *dest,
		       const struct kiln_registry_opts *o, struct kiln_registry_push_result *ret,
		       struct kiln_error *err)
{
	struct kiln_registry_opts defaults = { 0 };
	if (!o)
		o = &defaults;
	struct kiln_digest md;
	int r = kiln_store_resolve(st, src, &md, err);
	if (r < 0)
		return r;
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	if ((r = kiln_store_image_get(st, &md, &img, err)) < 0)
		return r;
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if ((r = dest_ref(src, dest, &ref, err)) < 0)
		return r;
	struct push_doc *doc = kiln_calloc(1, sizeof(*doc));
	if (!doc)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r = manifest_doc(st, &md, img->media_type, doc, err);
	if (r >= 0)
		r = push_docs(st, ref, o, doc, 1, ret, err);
	push_docs_free(doc, 1);
	return r;
}

int kiln_registry_push_index(struct kiln_store *st, const struct kiln_digest *index,
			     const char *dest, const struct kiln_registry_opts *o,
			     struct kiln_registry_push_result *ret, struct kiln_error *err)
{
	struct kiln_registry_opts defaults = { 0 };
	if (!o)
		o = &defaults;
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	int r = dest_ref(index->str, dest, &ref, err);
	if (r < 0)
		return r;
	cleanup_free char *body = NULL;
	size_t len = 0;
	if ((r = kiln_store_blob_read(st, index, KILN_OCI_MANIFEST_MAX, &body, &len, err)) < 0)
		return r;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *idx = NULL;
	if ((r = kiln_oci_index_parse(body, len, &idx, err)) < 0)
		return kiln_error_prefix(err, r, "index %s", index->str);
	if (!idx->media_type || kiln_mt_classify(idx->media_type, NULL) != KILN_MT_KIND_INDEX)
		return kiln_fail(err, KILN_EINVAL, 0, "%s is not an image index", index->str);
	size_t n = idx->n_manifests + 1;
	struct push_doc *docs = kiln_calloc(n, sizeof(*docs));
	if (!docs)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; r >= 0 && i < idx->n_manifests; i++) {
		struct kiln_digest d;
		r = kiln_oci_descriptor_sha256(&idx->manifests[i], &d, err);
		if (r >= 0)
			r = manifest_doc(st, &d, idx->manifests[i].media_type, &docs[i], err);
	}
	docs[n - 1] = (struct push_doc){ .d = *index, .media_type = idx->media_type,
					 .body = steal_ptr(&body), .len = len };
	if (r >= 0)
		r = push_docs(st, ref, o, docs, n, ret, err);
	push_docs_free(docs, n);
	return r;
}

/* ---- content that is not an image (registry/repo.h) ---------------------------------- */

int reg_push_blobs(struct reg_client *c, struct kiln_store *st, const char *repo,
		   const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
{
	const struct kiln_registry_opts *o = c->opts;
	int r = reg_blobinfo_init(st, err);
	if (r < 0)
		return r;
	cleanup(push_release) struct push p = {
		.st = st,
		.c = c,
		.repo = repo,
		.chunk = o && o->chunk_size > 0 ? o->chunk_size : KILN_REGISTRY_CHUNK_DEFAULT,
		.flags = o ? o->flags : 0,
	};
	p.scope = kiln_asprintf("repository:%s:pull,push", repo);
	if (!p.scope)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		if ((r = add_up(&p, &d[i], "blob", err)) < 0)
			return r;
	for (size_t i = 0; i < p.n_ups; i++)
		if ((r = up_step(&p.ups[i], err)) < 0)
			return r;
	if ((r = reg_run(c, err)) < 0)
		return r;
	if ((r = kiln_store_tx_begin(st, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < p.n_ups; i++)
		r = reg_blobinfo_add(st, c->domain, repo, p.ups[i].digest.str, err);
	if (r >= 0)
		r = kiln_store_tx_commit(st, err);
	else
		kiln_store_tx_rollback(st);
	return r;
}

int reg_put_manifest(struct reg_client *c, const char *repo, const char *tag,
		     const char *media_type, const char *body, size_t len,
		     const struct kiln_digest *d, struct kiln_error *err)
{
	cleanup_free char *scope = kiln_asprintf("repository:%s:pull,push", repo);
	if (!scope)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	return put_manifest(c, repo, scope, tag, media_type, body, len, d, err);
}
