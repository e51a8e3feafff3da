/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A repository handle for content that is not an image: the same client,
 * transfers and blob bookkeeping as pull and push, without their image
 * rules (a cache manifest's config is not an image config, its layers may
 * be any blob).
 */
#include <string.h>

#include "ref/ref.h"
#include "registry/registry-private.h"
#include "registry/repo.h"

struct kiln_registry_repo {
	struct kiln_ref *ref;
	char *name;
	struct reg_client *c;
};

void kiln_registry_repo_free(struct kiln_registry_repo *r)
{
	if (!r)
		return;
	reg_client_free(r->c);
	kiln_ref_free(r->ref);
	free(r->name);
	free(r);
}

int kiln_registry_repo_open(const struct kiln_ctx *ctx, const char *ref,
			    const struct kiln_registry_opts *o, struct kiln_registry_repo **ret,
			    struct kiln_error *err)
{
	cleanup(kiln_registry_repo_freep) struct kiln_registry_repo *r = kiln_calloc(1, sizeof(*r));
	if (!r)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int rc = kiln_ref_parse(ref, KILN_REF_DEFAULT_TAG_LATEST, &r->ref, err);
	if (rc < 0)
		return rc;
	if (r->ref->digest && strncmp(r->ref->digest, "sha256:", 7) != 0)
		return kiln_fail(err, KILN_EUNSUPP, 0, "'%s': kiln stores sha256 content only",
				 ref);
	if (!(r->name = kiln_ref_string(r->ref)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if ((rc = reg_client_new(ctx, r->ref->domain, o, &r->c, err)) < 0 ||
	    (rc = reg_client_ping(r->c, err)) < 0)
		return rc;
	*ret = steal_ptr(&r);
	return 0;
}

const char *kiln_registry_repo_name(const struct kiln_registry_repo *r)
{
	return r->name;
}

const char *kiln_registry_repo_domain(const struct kiln_registry_repo *r)
{
	return r->ref->domain;
}

const char *kiln_registry_repo_reference(const struct kiln_registry_repo *r)
{
	return r->ref->digest ? r->ref->digest : r->ref->tag;
}

char *kiln_registry_repo_repository(const struct kiln_registry_repo *r)
{
	return kiln_asprintf("%s/%s", r->ref->domain, r->ref->path);
}

int kiln_registry_repo_note_blobs(struct kiln_registry_repo *r, struct kiln_store *st,
				  const struct kiln_oci_descriptor *d, size_t n,
				  struct kiln_error *err)
{
	int rc = reg_blobinfo_init(st, err);
	if (rc < 0 || (rc = kiln_store_tx_begin(st, err)) < 0)
		return rc;
	for (size_t i = 0; rc >= 0 && i < n; i++)
		if (d[i].has_sha256)
			rc = reg_blobinfo_add(st, r->ref->domain, r->ref->path, d[i].sha256.str,
					      err);
	if (rc >= 0)
		return kiln_store_tx_commit(st, err);
	kiln_store_tx_rollback(st);
	return rc;
}

int kiln_registry_repo_get_manifest(struct kiln_registry_repo *r, const char *reference,
				    char **ret_body, size_t *ret_len,
				    struct kiln_digest *ret_digest, struct kiln_error *err)
{
	if (!reference)
		reference = kiln_registry_repo_reference(r);
	struct kiln_digest want;
	int by_digest = strncmp(reference, "sha256:", 7) == 0;
	if (by_digest && kiln_digest_parse(reference, &want, err) < 0)
		return -KILN_EINVAL;
	return reg_fetch_manifest(r->c, r->ref->path, reference, by_digest ? &want : NULL, -1,
				  ret_body, ret_len, ret_digest, err);
}

int kiln_registry_repo_fetch(struct kiln_registry_repo *r, struct kiln_store *st,
			     const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
{
	return n ? reg_fetch_blobs(r->c, st, r->ref->path, d, n, err) : 0;
}

int kiln_registry_repo_push(struct kiln_registry_repo *r, struct kiln_store *st,
			    const struct kiln_oci_descriptor *d, size_t n, struct kiln_error *err)
{
	return n ? reg_push_blobs(r->c, st, r->ref->path, d, n, err) : 0;
}

int kiln_registry_repo_put_manifest(struct kiln_registry_repo *r, const char *tag,
				    const char *media_type, const char *body, size_t len,
				    struct kiln_error *err)
{
	if (!tag)
		tag = r->ref->tag;
	if (!tag)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "%s: a manifest is put under a tag, not a digest", r->name);
	struct kiln_digest d;
	int rc = kiln_sha256_buf(body, len, &d, err);
	if (rc < 0)
		return rc;
	return reg_put_manifest(r->c, r->ref->path, tag, media_type, body, len, &d, err);
}
