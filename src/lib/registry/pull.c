/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull: manifest (through an index when there is one) → the blobs the store
 * lacks, several at a time, each streamed into a store blob writer that
 * checks size and digest → the manifest blob → the image record, its name
 * and repository digest in one transaction. Until that transaction nothing
 * names the new blobs; a failed pull leaves complete, verified blobs at most
 * (prune takes them) and never a partial one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "registry/platform.h"
#include "registry/registry-private.h"
#include "store/store.h"

#define ACCEPT_MANIFESTS                                                                           \
	"Accept: " KILN_MT_OCI_INDEX ", " KILN_MT_DOCKER_LIST ", " KILN_MT_OCI_MANIFEST            \
	", " KILN_MT_DOCKER_MANIFEST
#define PROGRESS_STEP ((int64_t) 256 << 10)
/* curl hands over 16 KiB at a time; the store gets fewer, larger writes */
#define STAGE_SIZE ((size_t) 128 << 10)

struct pull;

struct dl {
	struct pull *p;
	struct kiln_digest digest;
	int64_t size;
	const char *what;
	struct kiln_blob_writer *w;
	int64_t reported;
	int started;
	char *url;
	char *stage; /* STAGE_SIZE bytes while a download runs */
	size_t staged;
};

struct pull {
	struct kiln_store *st;
	struct reg_client *c;
	const char *repo;
	struct dl *dls;
	size_t n_dls;
	size_t fetched;
	int64_t bytes;
};

static void dl_release(struct dl *d)
{
	kiln_blob_writer_free(d->w);
	d->w = NULL;
	free(d->stage);
	d->stage = NULL;
	free(d->url);
	d->url = NULL;
}

void kiln_registry_pull_result_release(struct kiln_registry_pull_result *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->repository);
	free(r->platform);
	memset(r, 0, sizeof(*r));
}

static int dl_flush(struct dl *d, struct kiln_error *err)
{
	if (!d->staged)
		return 0;
	int r = kiln_blob_writer_write(d->w, d->stage, d->staged, err);
	d->staged = 0;
	return r;
}

static int64_t dl_resume_from(void *data, struct reg_xfer *x)
{
	struct dl *d = data;
	(void) x;
	if (!d->w)
		return 0;
	/* what the broken attempt delivered is kept; a failed flush restarts */
	if (dl_flush(d, NULL) < 0) {
		kiln_blob_writer_free(d->w);
		d->w = NULL;
		return 0;
	}
	int64_t have = kiln_blob_writer_size(d->w);
	return have > 0 && have < d->size ? have : 0;
}

/* "bytes START-END/TOTAL" → START, or -1 */
static int64_t content_range_start(const char *v)
{
	if (!v || strncmp(v, "bytes ", 6) != 0)
		return -1;
	char *end;
	long long s = strtoll(v + 6, &end, 10);
	return end != v + 6 && *end == '-' ? s : -1;
}

static int dl_begin(void *data, struct reg_xfer *x, struct kiln_error *err)
{
	struct dl *d = data;
	if (d->w && x->resume_offset > 0 && x->status == 206 &&
	    content_range_start(reg_xfer_get(x, "content-range")) == x->resume_offset)
		return 0; /* continue where the broken attempt stopped */
	if (x->status == 206)
		return kiln_fail(err, KILN_ENET, 0, "unexpected 206 Partial Content");
	/* a fresh copy from the start */
	kiln_blob_writer_free(d->w);
	d->w = NULL;
	d->reported = 0;
	d->staged = 0;
	if (!d->stage && !(d->stage = kiln_malloc(STAGE_SIZE)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_store_blob_writer_new(d->p->st, &d->digest, d->size, &d->w, err);
	if (r < 0)
		return r;
	if (!d->started) {
		d->started = 1;
		reg_event(d->p->c, KILN_REG_EV_BLOB_START, d->digest.str, d->what, 0, d->size,
			  NULL);
	}
	return 0;
}

static int dl_write(void *data, struct reg_xfer *x, const void *buf, size_t len,
		    struct kiln_error *err)
{
	struct dl *d = data;
	(void) x;
	int r = 0;
	if (d->staged + len > STAGE_SIZE)
		r = dl_flush(d, err);
	if (r < 0)
		return r;
	if (len >= STAGE_SIZE)
		r = kiln_blob_writer_write(d->w, buf, len, err);
	else {
		memcpy(d->stage + d->staged, buf, len);
		d->staged += len;
	}
	if (r < 0)
		return r;
	int64_t have = kiln_blob_writer_size(d->w) + (int64_t) d->staged;
	if (d->size >= 0 && have > d->size)
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s is larger than the %lld bytes it should have", d->digest.str,
				 (long long) d->size);
	if (have - d->reported >= PROGRESS_STEP) {
		d->reported = have;
		reg_event(d->p->c, KILN_REG_EV_BLOB_PROGRESS, d->digest.str, d->what, have, d->size,
			  NULL);
	}
	return 0;
}

static int dl_done(struct reg_client *c, struct reg_xfer *x, void *data, struct kiln_error *err)
{
	struct dl *d = data;
	if (x->status != 200 && x->status != 206)
		return reg_fail_status(c, x, err);
	if (!d->w) {
		/* an empty body: begin ran, or the blob is empty */
		int r = dl_begin(d, x, err);
		if (r < 0)
			return r;
	}
	struct kiln_error e = KILN_ERROR_INIT;
	int r = dl_flush(d, &e);
	if (r >= 0)
		r = kiln_blob_writer_commit(d->w, NULL, NULL, &e);
	if (r < 0) {
		r = reg_fail(c, x, e.code, err, "%s", e.msg ? e.msg : kiln_strerror(e.code));
		kiln_error_release(&e);
		return r;
	}
	kiln_blob_writer_free(d->w);
	d->w = NULL;
	free(d->stage);
	d->stage = NULL;
	d->p->fetched++;
	d->p->bytes += d->size;
	reg_event(c, KILN_REG_EV_BLOB_DONE, d->digest.str, d->what, d->size, d->size, NULL);
	return 0;
}

/* GET a manifest-like document; its bytes and digest (verified against `want` when given). */
static int fetch_manifest(struct reg_client *c, const char *repo, const char *reference,
			  const struct kiln_digest *want, int64_t want_size, char **ret_body,
			  size_t *ret_len, struct kiln_digest *ret_digest, struct kiln_error *err)
{
	cleanup_free char *suffix = kiln_asprintf("manifests/%s", reference);
	cleanup_free char *url = suffix ? reg_url(c, repo, suffix) : NULL;
	cleanup_free char *scope = kiln_asprintf("repository:%s:pull", repo);
	if (!url || !scope)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup(reg_xfer_freep) struct reg_xfer *x = NULL;
	int r = reg_xfer_new(c, "GET", url, scope, &x, err);
	if (r < 0)
		return r;
	x->what = "manifest";
	x->resp_max = KILN_OCI_MANIFEST_MAX;
	x->resp.cap = KILN_OCI_MANIFEST_MAX;
	if ((r = reg_xfer_header(x, ACCEPT_MANIFESTS, err)) < 0)
		return r;
	r = reg_do(c, x, err);
	if (r < 0)
		return r;
	if (x->status != 200)
		return reg_fail_status(c, x, err);
	struct kiln_digest got;
	r = kiln_sha256_buf(x->resp.buf, x->resp.len, &got, err);
	if (r < 0)
		return r;
	if (want && !kiln_digest_equal(want, &got))
		return reg_fail(c, x, KILN_EDIGEST, err, "manifest content hashes to %s, not %s",
				got.str, want->str);
	if (want_size >= 0 && (int64_t) x->resp.len != want_size)
		return reg_fail(c, x, KILN_EDIGEST, err, "manifest is %zu bytes, not %lld",
				x->resp.len, (long long) want_size);
	const char *dcd = reg_xfer_get(x, "docker-content-digest");
	if (dcd && strncmp(dcd, "sha256:", 7) == 0 && strcmp(dcd, got.str) != 0)
		return reg_fail(c, x, KILN_EDIGEST, err,
				"manifest content hashes to %s, but the registry says %s", got.str,
				dcd);
	/* the kind of document comes from the body (kiln_oci_detect), not Content-Type */
	*ret_len = x->resp.len;
	*ret_body = kiln_buf_detach(&x->resp, NULL);
	if (!*ret_body)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret_digest = got;
	return 0;
}

/* "linux/arm64" for an index entry's "linux/arm64/v8" */
static char *platform_normalized_string(const struct kiln_oci_platform *p)
{
	struct kiln_oci_platform n;
	if (kiln_oci_platform_copy(&n, p, NULL) < 0)
		return NULL;
	char *s = kiln_platform_normalize(&n, NULL) < 0 ? NULL : kiln_oci_platform_string(&n);
	kiln_oci_platform_release(&n);
	return s;
}

static int platform_list(const struct kiln_oci_index *idx, char **ret)
{
	cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
	for (size_t i = 0; i < idx->n_manifests; i++) {
		if (!idx->manifests[i].platform)
			continue;
		cleanup_free char *s = platform_normalized_string(idx->manifests[i].platform);
		if (!s || kiln_buf_addf(&b, "%s%s", b.len ? ", " : "", s) < 0)
			return -1;
	}
	*ret = kiln_buf_detach(&b, NULL);
	return *ret ? 0 : -1;
}

static int add_dl(struct pull *p, const struct kiln_oci_descriptor *desc, const char *what,
		  struct kiln_error *err)
{
	struct kiln_digest d;
	int r = kiln_oci_descriptor_sha256(desc, &d, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_dls; i++)
		if (kiln_digest_equal(&p->dls[i].digest, &d))
			return 0;
	struct dl *n = kiln_reallocarray(p->dls, p->n_dls + 1, sizeof(*p->dls));
	if (!n)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->dls = n;
	memset(&p->dls[p->n_dls], 0, sizeof(*p->dls));
	p->dls[p->n_dls].p = p;
	p->dls[p->n_dls].digest = d;
	p->dls[p->n_dls].size = desc->size;
	p->dls[p->n_dls].what = what;
	p->n_dls++;
	return 0;
}

static void pull_release(struct pull *p)
{
	for (size_t i = 0; i < p->n_dls; i++)
		dl_release(&p->dls[i]);
	free(p->dls);
	p->dls = NULL;
	p->n_dls = 0;
}

/* Queue a download for every blob the store lacks. */
static int queue_downloads(struct pull *p, size_t *ret_present, struct kiln_error *err)
{
	cleanup_free char *scope = kiln_asprintf("repository:%s:pull", p->repo);
	if (!scope)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t present = 0;
	for (size_t i = 0; i < p->n_dls; i++) {
		struct dl *d = &p->dls[i];
		int64_t have_size;
		int r = kiln_store_blob_has(p->st, &d->digest, &have_size, err);
		if (r < 0)
			return r;
		if (r > 0 && have_size == d->size) {
			present++;
			reg_event(p->c, KILN_REG_EV_BLOB_EXISTS, d->digest.str, d->what, d->size,
				  d->size, NULL);
			continue;
		}
		cleanup_free char *suffix = kiln_asprintf("blobs/%s", d->digest.str);
		d->url = suffix ? reg_url(p->c, p->repo, suffix) : NULL;
		if (!d->url)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		struct reg_xfer *x = NULL;
		r = reg_xfer_new(p->c, "GET", d->url, scope, &x, err);
		if (r < 0)
			return r;
		x->what = d->what;
		x->sink.begin = dl_begin;
		x->sink.write = dl_write;
		x->sink.resume_from = dl_resume_from;
		x->sink.data = d;
		x->done = dl_done;
		x->done_data = d;
		reg_queue(p->c, x);
	}
	*ret_present = present;
	return 0;
}

static int check_manifest(struct reg_client *c, const struct kiln_oci_manifest *m,
			  struct kiln_error *err)
{
	enum kiln_mt_kind k = kiln_mt_classify(m->config.media_type, NULL);
	if (k != KILN_MT_KIND_CONFIG)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "registry %s: not a container image (config media type %s)",
				 c->domain, m->config.media_type ? m->config.media_type : "(none)");
	for (size_t i = 0; i < m->n_layers; i++) {
		const char *mt = m->layers[i].media_type;
		if (kiln_mt_classify(mt, NULL) != KILN_MT_KIND_LAYER)
			return kiln_fail(err, KILN_EUNSUPP, 0,
					 "registry %s: layer %zu has media type %s, which is not "
					 "an image layer",
					 c->domain, i, mt ? mt : "(none)");
	}
	return 0;
}

/*
 * 1 when the store already has the manifest, the name points at it and the
 * repository digest is known: a pull that found nothing new writes nothing.
 */
static int already_recorded(struct kiln_store *st, const struct kiln_digest *manifest,
			    const char *name, const char *repo, const struct kiln_digest *resolved,
			    struct kiln_error *err)
{
	int r = kiln_store_blob_has(st, manifest, NULL, err);
	if (r <= 0)
		return r;
	struct kiln_digest cur;
	struct kiln_error e = KILN_ERROR_INIT;
	if (name) {
		r = kiln_store_name_get(st, name, &cur, &e);
		kiln_error_release(&e);
		if (r < 0 || !kiln_digest_equal(&cur, manifest))
			return 0;
	}
	cleanup_free char *rd = kiln_asprintf("%s@%s", repo, resolved->str);
	if (!rd)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r = kiln_store_resolve(st, rd, &cur, &e);
	kiln_error_release(&e);
	return r == 0 && kiln_digest_equal(&cur, manifest);
}

/* The manifest blob, then record, name, repository digest and blob locations in one go. */
static int record(struct kiln_store *st, struct reg_client *c, const char *path, const char *body,
		  size_t len, const struct kiln_digest *mdigest, const char *name, const char *repo,
		  const struct kiln_digest *resolved, const struct pull *p, struct kiln_error *err)
{
	int r = kiln_store_blob_put(st, body, len, mdigest, NULL, err);
	if (r < 0)
		return r;
	const char *names[1] = { name };
	if ((r = kiln_store_tx_begin(st, err)) < 0)
		return r;
	r = kiln_store_image_add(st, mdigest, names, name ? 1 : 0, err);
	if (r >= 0)
		r = kiln_store_repo_digest_add(st, repo, resolved, mdigest, err);
	for (size_t i = 0; r >= 0 && i < p->n_dls; i++)
		r = reg_blobinfo_add(st, c->domain, path, p->dls[i].digest.str, err);
	if (r >= 0)
		r = kiln_store_tx_commit(st, err);
	if (r < 0)
		kiln_store_tx_rollback(st);
	return r;
}

int kiln_registry_pull(struct kiln_store *st, const char *refstr,
		       const struct kiln_registry_opts *o, struct kiln_registry_pull_result *ret,
		       struct kiln_error *err)
{
	const struct kiln_ctx *ctx = kiln_store_ctx(st);
	struct kiln_registry_opts defaults = { 0 };
	if (!o)
		o = &defaults;
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	int r = kiln_ref_parse(refstr, KILN_REF_DEFAULT_TAG_LATEST, &ref, err);
	if (r < 0)
		return r;
	if (ref->digest && strncmp(ref->digest, "sha256:", 7) != 0)
		return kiln_fail(err, KILN_EUNSUPP, 0, "'%s': kiln stores sha256 content only",
				 refstr);
	cleanup(kiln_oci_platform_release) struct kiln_oci_platform want_c = { 0 };
	r = o->platform ? kiln_platform_parse(o->platform, &want_c, err)
			: kiln_platform_host(&want_c, err);
	if (r < 0)
		return r;
	cleanup_free char *want_s = kiln_oci_platform_string(&want_c);
	cleanup_free char *repo_name = kiln_ref_name(ref);
	if (!want_s || !repo_name)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	cleanup(reg_client_freep) struct reg_client *c = NULL;
	r = reg_client_new(ctx, ref->domain, o, &c, err);
	if (r < 0)
		return r;
	if ((r = reg_client_ping(c, err)) < 0)
		return r;
	if ((r = reg_blobinfo_init(st, err)) < 0)
		return r;

	/* the document the tag or digest names */
	struct kiln_digest resolved, want_digest;
	const struct kiln_digest *wantp = NULL;
	if (ref->digest) {
		if ((r = kiln_digest_parse(ref->digest, &want_digest, err)) < 0)
			return r;
		wantp = &want_digest;
	}
	cleanup_free char *body = NULL;
	size_t len = 0;
	r = fetch_manifest(c, ref->path, ref->digest ? ref->digest : ref->tag, wantp, -1, &body,
			   &len, &resolved, err);
	if (r < 0)
		return r;
	enum kiln_mt_kind kind;
	r = kiln_oci_detect(body, len, &kind, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "registry %s: manifest of %s", c->domain, refstr);

	struct kiln_digest mdigest = resolved;
	cleanup_free char *platform_s = NULL;
	if (kind == KILN_MT_KIND_INDEX) {
		cleanup(kiln_oci_index_freep) struct kiln_oci_index *idx = NULL;
		r = kiln_oci_index_parse(body, len, &idx, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "registry %s: index of %s", c->domain,
						 refstr);
		long pick = kiln_platform_select(&want_c, idx->manifests, idx->n_manifests);
		if (pick < 0) {
			cleanup_free char *avail = NULL;
			if (platform_list(idx, &avail) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			return kiln_fail(err, KILN_ENOTFOUND, 0,
					 "%s has no image for %s (it has: %s)", refstr, want_s,
					 *avail ? avail : "none");
		}
		const struct kiln_oci_descriptor *child = &idx->manifests[pick];
		if (kiln_mt_classify(child->media_type, NULL) != KILN_MT_KIND_MANIFEST)
			return kiln_fail(err, KILN_EUNSUPP, 0,
					 "registry %s: %s for %s is a %s, not an image manifest",
					 c->domain, refstr, want_s, child->media_type);
		struct kiln_digest cd;
		if ((r = kiln_oci_descriptor_sha256(child, &cd, err)) < 0)
			return r;
		platform_s = platform_normalized_string(child->platform);
		if (!platform_s)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		free(body);
		body = NULL;
		r = fetch_manifest(c, ref->path, cd.str, &cd, child->size, &body, &len, &mdigest,
				   err);
		if (r < 0)
			return r;
		r = kiln_oci_detect(body, len, &kind, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "registry %s: manifest %s", c->domain,
						 cd.str);
		if (kind != KILN_MT_KIND_MANIFEST)
			return kiln_fail(err, KILN_EUNSUPP, 0,
					 "registry %s: manifest %s is not an image manifest",
					 c->domain, cd.str);
	} else if (kind != KILN_MT_KIND_MANIFEST) {
		return kiln_fail(err, KILN_EUNSUPP, 0, "registry %s: %s is not an image", c->domain,
				 refstr);
	}
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	r = kiln_oci_manifest_parse(body, len, &m, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "registry %s: manifest %s", c->domain,
					 mdigest.str);
	if ((r = check_manifest(c, m, err)) < 0)
		return r;
	{
		cleanup_free char *msg = kiln_asprintf("%s@%s", repo_name, mdigest.str);
		if (!msg)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		reg_event(c, KILN_REG_EV_RESOLVED, mdigest.str, "manifest", 0, (int64_t) len, msg);
	}

	/* the blobs */
	cleanup(pull_release) struct pull p = { .st = st, .c = c, .repo = ref->path };
	if ((r = add_dl(&p, &m->config, "config", err)) < 0)
		return r;
	for (size_t i = 0; i < m->n_layers; i++)
		if ((r = add_dl(&p, &m->layers[i], "layer", err)) < 0)
			return r;
	size_t present = 0;
	if ((r = queue_downloads(&p, &present, err)) < 0)
		return r;
	if ((r = reg_run(c, err)) < 0)
		return r;

	/* the platform of a single-platform image is in its config */
	struct kiln_digest config_d;
	if ((r = kiln_oci_descriptor_sha256(&m->config, &config_d, err)) < 0)
		return r;
	if (!platform_s) {
		cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
		if ((r = kiln_store_config_read(st, &config_d, &cfg, err)) < 0)
			return r;
		platform_s = platform_normalized_string(&cfg->platform);
		if (!platform_s)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (o->platform && kiln_platform_rank(&want_c, &cfg->platform) < 0)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "%s is an image for %s, not %s",
					 refstr, platform_s, want_s);
	}

	/* publish: manifest blob, then record + name + repo digest in one transaction */
	cleanup_free char *name = NULL;
	if (!ref->digest) {
		name = kiln_ref_string(ref);
		if (!name)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	r = already_recorded(st, &mdigest, name, repo_name, &resolved, err);
	if (r < 0)
		return r;
	if (r > 0) {
		/* nothing changed since the last pull: no write at all */
		kiln_debug(ctx, "pulled %s: unchanged", refstr);
	} else {
		if ((r = record(st, c, ref->path, body, len, &mdigest, name, repo_name, &resolved,
				&p, err)) < 0)
			return r;
	}
	reg_event(c, KILN_REG_EV_MANIFEST, mdigest.str, "manifest", (int64_t) len, (int64_t) len,
		  name ? name : repo_name);
	kiln_debug(ctx, "pulled %s: %zu blobs fetched, %zu present", refstr, p.fetched, present);

	if (ret) {
		memset(ret, 0, sizeof(*ret));
		ret->name = steal_ptr(&name);
		ret->repository = steal_ptr(&repo_name);
		ret->platform = steal_ptr(&platform_s);
		ret->resolved = resolved;
		ret->manifest = mdigest;
		ret->config = config_d;
		ret->blobs_fetched = p.fetched;
		ret->blobs_present = present;
		ret->bytes_fetched = p.bytes;
	}
	return 0;
}

/* ---- content that is not an image (registry/repo.h) ---------------------------------- */

int reg_fetch_manifest(struct reg_client *c, const char *repo, const char *reference,
		       const struct kiln_digest *want, int64_t want_size, char **ret_body,
		       size_t *ret_len, struct kiln_digest *ret_digest, struct kiln_error *err)
{
	return fetch_manifest(c, repo, reference, want, want_size, ret_body, ret_len, ret_digest,
			      err);
}

int reg_fetch_blobs(struct reg_client *c, struct kiln_store *st, const char *repo,
		    const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
{
	int r = reg_blobinfo_init(st, err);
	if (r < 0)
		return r;
	cleanup(pull_release) struct pull p = { .st = st, .c = c, .repo = repo };
	for (size_t i = 0; i < n; i++)
		if ((r = add_dl(&p, &d[i], "blob", err)) < 0)
			return r;
	size_t present = 0;
	if ((r = queue_downloads(&p, &present, err)) < 0 || (r = reg_run(c, err)) < 0)
		return r;
	/* where they came from, for cross-repository mounts of later pushes */
	if ((r = kiln_store_tx_begin(st, err)) < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < p.n_dls; i++)
		r = reg_blobinfo_add(st, c->domain, repo, p.dls[i].digest.str, err);
	if (r >= 0)
		r = kiln_store_tx_commit(st, err);
	else
		kiln_store_tx_rollback(st);
	return r;
}
