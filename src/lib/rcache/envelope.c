/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What carries a cache config: an OCI image manifest (config = the cache
 * config, layers = the blobs), an OCI index (the blobs, then the cache
 * config), or an image config holding the records inline. Reading tells a
 * cache from an image (whose config may hold an inline cache) and from
 * anything else; writing makes the documents BuildKit makes.
 */
#include <jansson.h>
#include <string.h>

#include "rcache/rcache-private.h"
#include "registry/auth-config.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

void kiln_rcache_envelope_release(struct kiln_rcache_envelope *e)
{
	if (!e)
		return;
	kiln_oci_descriptor_release(&e->config);
	for (size_t i = 0; i < e->n_blobs; i++)
		kiln_oci_descriptor_release(&e->blobs[i]);
	free(e->blobs);
	memset(e, 0, sizeof(*e));
}

static int copy_descs(struct kiln_rcache_envelope *e, const struct kiln_oci_descriptor *v, size_t n,
		      long skip, enum kiln_mt_kind only, struct kiln_error *err)
{
	e->blobs = kiln_calloc(n + 1, sizeof(*e->blobs));
	if (!e->blobs)
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		if ((long) i == skip)
			continue;
		if (only && kiln_mt_classify(v[i].media_type, NULL) != only)
			continue;
		int r = kiln_oci_descriptor_copy(&e->blobs[e->n_blobs], &v[i], err);
		if (r < 0)
			return r;
		e->n_blobs++;
	}
	return 0;
}

int kiln_rcache_envelope_parse(const char *json, size_t len, struct kiln_rcache_envelope *ret,
			       struct kiln_error *err)
{
	struct kiln_rcache_envelope e = { 0 };
	enum kiln_mt_kind kind;
	int r = kiln_oci_detect(json, len, &kind, err);
	if (r < 0)
		return r;
	if (kind == KILN_MT_KIND_MANIFEST) {
		cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
		if ((r = kiln_oci_manifest_parse(json, len, &m, err)) < 0)
			return r;
		const char *cmt = m->config.media_type;
		if (cmt && !strcmp(cmt, KILN_RCACHE_MT_CONFIG))
			e.kind = KILN_RCACHE_CACHE_MANIFEST;
		else if (kiln_mt_classify(cmt, NULL) == KILN_MT_KIND_CONFIG)
			e.kind = KILN_RCACHE_IMAGE_MANIFEST;
		else {
			*ret = e;
			return 0;
		}
		r = kiln_oci_descriptor_copy(&e.config, &m->config, err);
		if (r >= 0)
			r = copy_descs(&e, m->layers, m->n_layers, -1, 0, err);
	} else if (kind == KILN_MT_KIND_INDEX) {
		cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
		if ((r = kiln_oci_index_parse(json, len, &x, err)) < 0)
			return r;
		long cfg = -1;
		for (size_t i = 0; i < x->n_manifests; i++)
			if (x->manifests[i].media_type &&
			    !strcmp(x->manifests[i].media_type, KILN_RCACHE_MT_CONFIG))
				cfg = (long) i; /* the last one, as BuildKit reads it */
		if (cfg >= 0) {
			e.kind = KILN_RCACHE_CACHE_INDEX;
			r = kiln_oci_descriptor_copy(&e.config, &x->manifests[cfg], err);
			if (r >= 0)
				r = copy_descs(&e, x->manifests, x->n_manifests, cfg, 0, err);
		} else {
			e.kind = KILN_RCACHE_IMAGE_INDEX;
			r = copy_descs(&e, x->manifests, x->n_manifests, -1, KILN_MT_KIND_MANIFEST,
				       err);
		}
	} else {
		*ret = e;
		return 0;
	}
	if (r < 0) {
		kiln_rcache_envelope_release(&e);
		return r;
	}
	*ret = e;
	return 0;
}

int kiln_rcache_blob_descriptor(const char *media_type, const struct kiln_digest *digest,
				int64_t size, const struct kiln_digest *diff_id, int64_t created,
				struct kiln_oci_descriptor *ret, struct kiln_error *err)
{
	struct kiln_oci_descriptor d = { 0 };
	int r = kiln_oci_descriptor_set(&d, media_type, digest, size, err);
	if (r >= 0 && diff_id)
		r = kiln_oci_map_set(&d.annotations, KILN_RCACHE_ANNOT_UNCOMPRESSED, diff_id->str,
				     err);
	if (r >= 0 && created >= 0) {
		char *t = kiln_oci_time_format(created, 0);
		r = t ? kiln_oci_map_set(&d.annotations, KILN_RCACHE_ANNOT_CREATED, t, err)
		      : oom(err);
		free(t);
	}
	if (r < 0) {
		kiln_oci_descriptor_release(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int kiln_rcache_envelope_write(const struct kiln_digest *config, int64_t config_size,
			       const struct kiln_oci_descriptor *blobs, size_t n_blobs,
			       int image_manifest, char **ret, size_t *ret_len,
			       const char **ret_media_type, struct kiln_error *err)
{
	struct kiln_oci_descriptor cd = { 0 };
	int r = kiln_oci_descriptor_set(&cd, KILN_RCACHE_MT_CONFIG, config, config_size, err);
	if (r < 0)
		return r;
	if (image_manifest) {
		cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
		r = kiln_oci_manifest_new(&m, err);
		if (r >= 0 && !(m->media_type = kiln_strdup(KILN_MT_OCI_MANIFEST)))
			r = oom(err);
		if (r >= 0) {
			kiln_oci_descriptor_release(&m->config);
			m->config = cd;
			memset(&cd, 0, sizeof(cd));
		}
		for (size_t i = 0; r >= 0 && i < n_blobs; i++)
			r = kiln_oci_manifest_add_layer(m, &blobs[i], err);
		if (r >= 0)
			r = kiln_oci_manifest_to_json(m, KILN_OCI_JSON_COMPACT, ret, ret_len, err);
		*ret_media_type = KILN_MT_OCI_MANIFEST;
	} else {
		cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
		r = kiln_oci_index_new(&x, err);
		if (r >= 0 && !(x->media_type = kiln_strdup(KILN_MT_OCI_INDEX)))
			r = oom(err);
		for (size_t i = 0; r >= 0 && i < n_blobs; i++)
			r = kiln_oci_index_add(x, &blobs[i], err);
		if (r >= 0)
			r = kiln_oci_index_add(x, &cd, err);
		if (r >= 0)
			r = kiln_oci_index_to_json(x, KILN_OCI_JSON_COMPACT, ret, ret_len, err);
		*ret_media_type = KILN_MT_OCI_INDEX;
	}
	kiln_oci_descriptor_release(&cd);
	return r;
}

/* ---- inline: the records in an image config --------------------------------------- */

/* The end of the JSON value starting at s[p] (whitespace skipped first), or 0 on bad input. */
static size_t skip_ws(const char *s, size_t n, size_t p)
{
	while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
		p++;
	return p;
}

static size_t skip_string(const char *s, size_t n, size_t p)
{
	if (p >= n || s[p] != '"')
		return 0;
	for (p++; p < n; p++) {
		if (s[p] == '\\')
			p++;
		else if (s[p] == '"')
			return p + 1;
	}
	return 0;
}

static size_t skip_value(const char *s, size_t n, size_t p)
{
	p = skip_ws(s, n, p);
	if (p >= n)
		return 0;
	if (s[p] == '"')
		return skip_string(s, n, p);
	if (s[p] == '{' || s[p] == '[') {
		size_t depth = 0;
		for (; p < n; p++) {
			if (s[p] == '"') {
				size_t e = skip_string(s, n, p);
				if (!e)
					return 0;
				p = e - 1;
			} else if (s[p] == '{' || s[p] == '[') {
				depth++;
			} else if (s[p] == '}' || s[p] == ']') {
				if (--depth == 0)
					return p + 1;
			}
		}
		return 0;
	}
	while (p < n && s[p] != ',' && s[p] != '}' && s[p] != ']' && s[p] != ' ' && s[p] != '\n' &&
	       s[p] != '\t' && s[p] != '\r')
		p++;
	return p;
}

int kiln_rcache_inline_embed(const char *config, size_t config_len, const char *records,
			     size_t records_len, char **ret, size_t *ret_len,
			     struct kiln_error *err)
{
	static const char key[] = "\"" KILN_RCACHE_INLINE_KEY "\"";
	const size_t klen = sizeof(key) - 1;
	cleanup_free char *b64 = kiln_registry_base64(records, records_len);
	if (!b64)
		return oom(err);
	cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
	size_t n = config_len, p = skip_ws(config, n, 0);
	if (p >= n || config[p] != '{')
		return kiln_fail(err, KILN_EINVAL, 0, "an image config is a JSON object");
	p++;
	int r = kiln_buf_addch(&out, '{');
	int placed = 0, first = 1;
	for (;;) {
		p = skip_ws(config, n, p);
		if (p < n && config[p] == '}')
			break;
		size_t ks = p, ke = skip_string(config, n, p);
		if (!ke)
			return kiln_fail(err, KILN_EINVAL, 0, "bad image config at byte %zu", p);
		p = skip_ws(config, n, ke);
		if (p >= n || config[p] != ':')
			return kiln_fail(err, KILN_EINVAL, 0, "bad image config at byte %zu", p);
		size_t vs = skip_ws(config, n, p + 1), ve = skip_value(config, n, vs);
		if (!ve)
			return kiln_fail(err, KILN_EINVAL, 0, "bad image config at byte %zu", vs);
		int is_key = ke - ks == klen && !memcmp(config + ks, key, klen);
		/* keys are sorted: ours goes before the first that sorts after it */
		size_t cmpn = ke - ks < klen ? ke - ks : klen;
		int c = memcmp(config + ks, key, cmpn);
		int after = c > 0 || (c == 0 && ke - ks > klen);
		if (r >= 0 && !placed && (after || is_key)) {
			r = kiln_buf_addf(&out, "%s%s:\"%s\"", first ? "" : ",", key, b64);
			placed = 1;
			first = 0;
		}
		if (r >= 0 && !is_key) {
			/* lengths, not %.*s: the bytes are copied as they are */
			if (!first)
				r = kiln_buf_addch(&out, ',');
			if (r >= 0)
				r = kiln_buf_add(&out, config + ks, ke - ks);
			if (r >= 0)
				r = kiln_buf_addch(&out, ':');
			if (r >= 0)
				r = kiln_buf_add(&out, config + vs, ve - vs);
			first = 0;
		}
		if (r < 0)
			return r == -KILN_ENOMEM
				       ? oom(err)
				       : kiln_fail(err, KILN_ELIMIT, 0, "image config too large");
		p = skip_ws(config, n, ve);
		if (p < n && config[p] == ',')
			p++;
		else if (p >= n || config[p] != '}')
			return kiln_fail(err, KILN_EINVAL, 0, "bad image config at byte %zu", p);
	}
	if (!placed)
		r = kiln_buf_addf(&out, "%s%s:\"%s\"", first ? "" : ",", key, b64);
	if (r >= 0)
		r = kiln_buf_addch(&out, '}');
	if (r < 0)
		return oom(err);
	*ret = kiln_buf_detach(&out, ret_len);
	return *ret ? 0 : oom(err);
}

int kiln_rcache_inline_parse(const char *config, size_t config_len,
			     const struct kiln_oci_descriptor *layers, size_t n_layers,
			     struct kiln_rcache_config **ret, struct kiln_error *err)
{
	*ret = NULL;
	if (config_len > KILN_OCI_CONFIG_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "image config is larger than %zu bytes",
				 KILN_OCI_CONFIG_MAX);
	json_error_t je;
	cleanup(json_decrefp) json_t *j =
		json_loadb(config, config_len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j))
		return kiln_fail(err, KILN_EPARSE, 0, "invalid image config: %s",
				 j ? "not an object" : je.text);
	json_t *v = json_object_get(j, KILN_RCACHE_INLINE_KEY);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return kiln_fail(err, KILN_EPARSE, 0, "invalid inline cache: %s: want a string",
				 KILN_RCACHE_INLINE_KEY);
	cleanup_free char *rec = NULL;
	size_t rec_len = 0;
	int r = kiln_registry_unbase64(json_string_value(v), &rec, &rec_len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "invalid inline cache");
	json_t *diff_ids = json_object_get(json_object_get(j, "rootfs"), "diff_ids");
	if (!json_is_array(diff_ids) || json_array_size(diff_ids) != n_layers)
		return 0; /* an image whose config and manifest disagree: BuildKit skips it too */
	/* the times of the history entries that made a layer, in order */
	json_t *history = json_object_get(j, "history");
	size_t hi = 0;
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
	if ((r = kiln_rcache_config_new(&c, err)) < 0)
		return r;
	for (size_t i = 0; i < n_layers; i++) {
		struct kiln_rcache_layer l = { .parent = (long) i - 1,
					       .size = layers[i].size,
					       .created = -1 };
		if ((r = kiln_oci_descriptor_sha256(&layers[i], &l.blob, err)) < 0)
			return r;
		const char *di = json_string_value(json_array_get(diff_ids, i));
		if (!di || kiln_digest_parse(di, &l.diff_id, NULL) < 0)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "invalid image config: rootfs.diff_ids[%zu]", i);
		l.has_diff_id = 1;
		l.media_type = layers[i].media_type;
		for (; json_is_array(history) && hi < json_array_size(history); hi++) {
			json_t *h = json_array_get(history, hi);
			if (json_is_true(json_object_get(h, "empty_layer")))
				continue;
			const char *t = json_string_value(json_object_get(h, "created"));
			int64_t u;
			if (t && kiln_oci_time_parse(t, &u, NULL) == 0 && u >= 0)
				l.created = u;
			hi++;
			break;
		}
		/* each layer is its own entry, even when a blob repeats */
		if (c->n_layers >= KILN_RCACHE_LAYERS_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0, "too many layers");
		struct kiln_rcache_layer *nl =
			kiln_reallocarray(c->layers, c->n_layers + 1, sizeof(*nl));
		if (!nl)
			return oom(err);
		c->layers = nl;
		nl[c->n_layers] = l;
		nl[c->n_layers].media_type = l.media_type ? kiln_strdup(l.media_type) : NULL;
		if (l.media_type && !nl[c->n_layers].media_type)
			return oom(err);
		c->n_layers++;
	}
	cleanup(json_decrefp) json_t *records =
		json_loadb(rec, rec_len, JSON_REJECT_DUPLICATES, &je);
	if (!records)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid inline cache: %s", je.text);
	if ((r = rc_parse_records(records, c, err)) < 0)
		return r;
	*ret = steal_ptr(&c);
	return 1;
}
