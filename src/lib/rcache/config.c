/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache config (application/vnd.buildkit.cacheconfig.v0): reading it
 * strictly (it comes from registries and directories other machines wrote),
 * building it, sorting it as BuildKit does, and writing it byte for byte as
 * Go's encoding/json writes BuildKit's CacheConfig struct, with kiln's
 * "kiln" objects after BuildKit's fields.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcache/rcache-private.h"
#include "store/json-writer.h"

#define JSON_DEPTH_MAX 16
/* Go's zero time.Time, which BuildKit writes for a result without a time */
#define GO_ZERO_TIME "0001-01-01T00:00:00Z"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- freeing and building ------------------------------------------------------ */

static void record_release(struct kiln_rcache_record *r)
{
	for (size_t i = 0; i < r->n_inputs; i++) {
		for (size_t k = 0; k < r->inputs[i].n; k++)
			free(r->inputs[i].v[k].selector);
		free(r->inputs[i].v);
	}
	free(r->inputs);
	free(r->results);
	free(r->created_by);
	free(r->ingredients);
	memset(r, 0, sizeof(*r));
}

void kiln_rcache_config_free(struct kiln_rcache_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_layers; i++)
		free(c->layers[i].media_type);
	free(c->layers);
	for (size_t i = 0; i < c->n_records; i++)
		record_release(&c->records[i]);
	free(c->records);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].id);
		free(c->mounts[i].seed);
	}
	free(c->mounts);
	free(c);
}

int kiln_rcache_config_new(struct kiln_rcache_config **ret, struct kiln_error *err)
{
	*ret = kiln_calloc(1, sizeof(**ret));
	return *ret ? 0 : oom(err);
}

/* Grow an array of `size`-byte elements by one; the new element zeroed. */
static int grow(void **v, size_t n, size_t size, size_t max, const char *what,
		struct kiln_error *err)
{
	if (n >= max)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %zu %s in a cache", max, what);
	void *nv = kiln_reallocarray(*v, n + 1, size);
	if (!nv)
		return oom(err);
	memset((char *) nv + n * size, 0, size);
	*v = nv;
	return 0;
}

int kiln_rcache_config_add_layer(struct kiln_rcache_config *c, const struct kiln_rcache_layer *l,
				 long *ret_index, struct kiln_error *err)
{
	if (l->parent < -1 || l->parent >= (long) c->n_layers)
		return kiln_fail(err, KILN_EINVAL, 0, "cache layer %s: parent %ld out of range",
				 l->blob.str, l->parent);
	/* the same blob on the same chain is one layer */
	for (size_t i = 0; i < c->n_layers; i++)
		if (c->layers[i].parent == l->parent &&
		    kiln_digest_equal(&c->layers[i].blob, &l->blob)) {
			*ret_index = (long) i;
			return 0;
		}
	int r = grow((void **) &c->layers, c->n_layers, sizeof(*c->layers), KILN_RCACHE_LAYERS_MAX,
		     "layers", err);
	if (r < 0)
		return r;
	struct kiln_rcache_layer *d = &c->layers[c->n_layers];
	*d = *l;
	d->media_type = NULL;
	if (l->media_type && !(d->media_type = kiln_strdup(l->media_type)))
		return oom(err);
	*ret_index = (long) c->n_layers++;
	return 0;
}

static int canon_ingredients(json_t *j, const char *path, char **ret, struct kiln_error *err);

int kiln_rcache_config_add_record(struct kiln_rcache_config *c, const struct kiln_digest *digest,
				  long link, long layer, int64_t created,
				  const struct kiln_digest *chain, const char *created_by,
				  const char *ingredients, long *ret_index, struct kiln_error *err)
{
	if (link < -1 || link >= (long) c->n_records || layer < -1 || layer >= (long) c->n_layers)
		return kiln_fail(err, KILN_EINVAL, 0, "cache record %s: index out of range",
				 digest->str);
	int r = grow((void **) &c->records, c->n_records, sizeof(*c->records),
		     KILN_RCACHE_RECORDS_MAX, "records", err);
	if (r < 0)
		return r;
	struct kiln_rcache_record *rec = &c->records[c->n_records];
	rec->digest = *digest;
	rec->has_kiln = 1;
	if (link >= 0) {
		rec->inputs = kiln_calloc(1, sizeof(*rec->inputs));
		if (!rec->inputs)
			return oom(err);
		rec->n_inputs = 1;
		rec->inputs[0].v = kiln_calloc(1, sizeof(*rec->inputs[0].v));
		if (!rec->inputs[0].v)
			goto fail_oom;
		rec->inputs[0].n = 1;
		rec->inputs[0].v[0].link = link;
	}
	if (layer >= 0) {
		rec->results = kiln_calloc(1, sizeof(*rec->results));
		if (!rec->results)
			goto fail_oom;
		rec->n_results = 1;
		rec->results[0] = (struct kiln_rcache_result){ .layer = layer, .created = created };
	}
	if (chain && !kiln_digest_equal(chain, digest)) {
		rec->chain = *chain;
		rec->has_chain = 1;
	}
	if (created_by && !(rec->created_by = kiln_strdup(created_by)))
		goto fail_oom;
	if (ingredients) {
		json_error_t je;
		json_t *j = json_loads(ingredients, JSON_REJECT_DUPLICATES, &je);
		if (!j) {
			record_release(rec);
			return kiln_fail(err, KILN_EINVAL, 0,
					 "cache record %s: ingredients are not JSON: %s",
					 digest->str, je.text);
		}
		r = canon_ingredients(j, "ingredients", &rec->ingredients, err);
		json_decref(j);
		if (r < 0) {
			record_release(rec);
			return r;
		}
	}
	*ret_index = (long) c->n_records++;
	return 0;
fail_oom:
	record_release(rec);
	return oom(err);
}

int kiln_rcache_config_add_mount(struct kiln_rcache_config *c, const char *id, const char *seed,
				 const struct kiln_digest *blob, int64_t updated,
				 struct kiln_error *err)
{
	int r = grow((void **) &c->mounts, c->n_mounts, sizeof(*c->mounts), KILN_RCACHE_MOUNTS_MAX,
		     "cache mounts", err);
	if (r < 0)
		return r;
	struct kiln_rcache_mount *m = &c->mounts[c->n_mounts];
	if (!(m->id = kiln_strdup(id)) || !(m->seed = kiln_strdup(seed ? seed : ""))) {
		free(m->id);
		m->id = NULL;
		return oom(err);
	}
	m->blob = *blob;
	m->updated = updated;
	c->n_mounts++;
	return 0;
}

int kiln_rcache_config_is_kilns(const struct kiln_rcache_config *c)
{
	for (size_t i = 0; i < c->n_records; i++)
		if (c->records[i].has_kiln)
			return 1;
	return 0;
}

/* ---- parsing ----------------------------------------------------------------------- */

struct pc {
	struct kiln_error *err;
};

__attribute__((format(printf, 3, 4))) static int bad(struct kiln_error *err, const char *path,
						     const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kiln_fail(err, KILN_EPARSE, 0, "invalid cache config: %s: %s", path, msg);
}

static int depth_ok(json_t *j, int depth)
{
	if (depth > JSON_DEPTH_MAX)
		return 0;
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) if (!depth_ok(v, depth + 1)) return 0;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) if (!depth_ok(v, depth + 1)) return 0;
	}
	return 1;
}

/* A string field: 0 absent, 1 read into *ret (heap, no NULs), < 0 error. */
static int get_str(json_t *obj, const char *key, const char *path, char **ret,
		   struct kiln_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad(err, path, "%s: want a string", key);
	size_t n = json_string_length(v);
	if (n > KILN_RCACHE_STRING_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0,
				 "cache config: %s.%s is longer than %zu bytes", path, key,
				 KILN_RCACHE_STRING_MAX);
	if (memchr(json_string_value(v), 0, n))
		return bad(err, path, "%s: a NUL byte in a string", key);
	char *s = kiln_strndup(json_string_value(v), n);
	if (!s)
		return oom(err);
	free(*ret);
	*ret = s;
	return 1;
}

static int get_digest(json_t *obj, const char *key, const char *path, int required,
		      struct kiln_digest *ret, struct kiln_error *err)
{
	cleanup_free char *s = NULL;
	int r = get_str(obj, key, path, &s, err);
	if (r < 0)
		return r;
	if (r == 0)
		return required ? bad(err, path, "%s: missing", key) : 0;
	if (kiln_digest_parse(s, ret, NULL) < 0)
		return bad(err, path, "%s: '%.80s' is not a sha256 digest", key, s);
	return 1;
}

/* An integer field: 0 absent (*ret = dflt), 1 read. */
static int get_int(json_t *obj, const char *key, const char *path, int64_t dflt, int64_t *ret,
		   struct kiln_error *err)
{
	json_t *v = json_object_get(obj, key);
	*ret = dflt;
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return bad(err, path, "%s: want an integer", key);
	*ret = json_integer_value(v);
	return 1;
}

/* A time: -1 when absent, Go's zero time, or before 1970. */
static int get_time(json_t *obj, const char *key, const char *path, int64_t *ret,
		    struct kiln_error *err)
{
	cleanup_free char *s = NULL;
	*ret = -1;
	int r = get_str(obj, key, path, &s, err);
	if (r <= 0)
		return r;
	int64_t t;
	if (kiln_oci_time_parse(s, &t, NULL) < 0)
		return bad(err, path, "%s: '%.80s' is not an RFC 3339 time", key, s);
	*ret = t >= 0 ? t : -1;
	return 1;
}

static int want_array(json_t *v, const char *path, size_t max, struct kiln_error *err)
{
	if (!json_is_array(v))
		return bad(err, path, "want an array");
	if (json_array_size(v) > max)
		return kiln_fail(err, KILN_ELIMIT, 0, "cache config: %s has more than %zu entries",
				 path, max);
	return 0;
}

/* [[name, value], ...] of strings, written back compactly (Go's escaping). */
static int canon_ingredients(json_t *j, const char *path, char **ret, struct kiln_error *err)
{
	int r = want_array(j, path, KILN_RCACHE_INGREDIENTS_MAX, err);
	if (r < 0)
		return r;
	struct kiln_jw w;
	kiln_jw_init(&w);
	kiln_jw_arr_open(&w);
	size_t i;
	json_t *pair;
	json_array_foreach(j, i, pair)
	{
		json_t *n = json_array_get(pair, 0), *v = json_array_get(pair, 1);
		if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_string(n) ||
		    !json_is_string(v)) {
			kiln_jw_release(&w);
			return bad(err, path, "entry %zu: want [name, value] strings", i);
		}
		if (json_string_length(n) > KILN_RCACHE_STRING_MAX ||
		    json_string_length(v) > KILN_RCACHE_STRING_MAX) {
			kiln_jw_release(&w);
			return kiln_fail(err, KILN_ELIMIT, 0,
					 "cache config: %s: entry %zu is too long", path, i);
		}
		kiln_jw_arr_open(&w);
		kiln_jw_strn(&w, json_string_value(n), json_string_length(n));
		kiln_jw_strn(&w, json_string_value(v), json_string_length(v));
		kiln_jw_arr_close(&w);
	}
	kiln_jw_arr_close(&w);
	return kiln_jw_finish(&w, ret, NULL, err);
}

static int parse_layer(json_t *j, size_t i, size_t n, struct kiln_rcache_layer *l,
		       struct kiln_error *err)
{
	char path[48];
	(void) snprintf(path, sizeof(path), "layers[%zu]", i);
	if (!json_is_object(j))
		return bad(err, path, "want an object");
	int r = get_digest(j, "blob", path, 1, &l->blob, err);
	if (r < 0)
		return r;
	int64_t parent;
	/* Go's omitempty: a missing "parent" is 0 */
	if ((r = get_int(j, "parent", path, 0, &parent, err)) < 0)
		return r;
	if (parent < -1 || parent >= (int64_t) n || parent == (int64_t) i)
		return bad(err, path, "parent %lld is not another layer", (long long) parent);
	l->parent = (long) parent;
	l->size = -1;
	l->created = -1;
	json_t *a = json_object_get(j, "annotations");
	if (!a || json_is_null(a))
		return 0;
	char apath[64];
	(void) snprintf(apath, sizeof(apath), "%s.annotations", path);
	if (!json_is_object(a))
		return bad(err, apath, "want an object");
	if ((r = get_str(a, "mediaType", apath, &l->media_type, err)) < 0)
		return r;
	if (l->media_type && !kiln_mt_valid(l->media_type))
		return bad(err, apath, "mediaType '%.80s' is not a media type", l->media_type);
	if ((r = get_digest(a, "diffID", apath, 0, &l->diff_id, err)) < 0)
		return r;
	l->has_diff_id = r == 1;
	if ((r = get_int(a, "size", apath, -1, &l->size, err)) < 0)
		return r;
	if (r == 1 && l->size < 0)
		return bad(err, apath, "size is negative");
	if (l->size == 0)
		l->size = -1; /* Go's omitempty: 0 is never written, so it means unknown */
	r = get_time(a, "createdAt", apath, &l->created, err);
	return r < 0 ? r : 0;
}

static int parse_kiln_record(json_t *k, const char *path, struct kiln_rcache_record *rec,
			     struct kiln_error *err)
{
	char kpath[64];
	(void) snprintf(kpath, sizeof(kpath), "%s.kiln", path);
	if (!json_is_object(k))
		return bad(err, kpath, "want an object");
	rec->has_kiln = 1;
	int r = get_digest(k, "chain", kpath, 0, &rec->chain, err);
	if (r < 0)
		return r;
	rec->has_chain = r == 1 && !kiln_digest_equal(&rec->chain, &rec->digest);
	if ((r = get_str(k, "createdBy", kpath, &rec->created_by, err)) < 0)
		return r;
	json_t *ing = json_object_get(k, "ingredients");
	if (ing) {
		char ipath[80];
		(void) snprintf(ipath, sizeof(ipath), "%s.ingredients", kpath);
		if ((r = canon_ingredients(ing, ipath, &rec->ingredients, err)) < 0)
			return r;
	}
	return 0;
}

static int parse_record(json_t *j, size_t i, size_t n_records, size_t n_layers,
			struct kiln_rcache_record *rec, struct kiln_error *err)
{
	char path[48];
	(void) snprintf(path, sizeof(path), "records[%zu]", i);
	if (!json_is_object(j))
		return bad(err, path, "want an object");
	int r = get_digest(j, "digest", path, 1, &rec->digest, err);
	if (r < 0)
		return r;
	json_t *ins = json_object_get(j, "inputs");
	if (ins && !json_is_null(ins)) {
		char ipath[72];
		(void) snprintf(ipath, sizeof(ipath), "%s.inputs", path);
		if ((r = want_array(ins, ipath, KILN_RCACHE_INPUTS_MAX, err)) < 0)
			return r;
		size_t n = json_array_size(ins);
		if (n && !(rec->inputs = kiln_calloc(n, sizeof(*rec->inputs))))
			return oom(err);
		rec->n_inputs = n;
		for (size_t a = 0; a < n; a++) {
			json_t *links = json_array_get(ins, a);
			char lpath[112];
			(void) snprintf(lpath, sizeof(lpath), "%s[%zu]", ipath, a);
			if (json_is_null(links))
				continue;
			if ((r = want_array(links, lpath, KILN_RCACHE_INPUTS_MAX, err)) < 0)
				return r;
			size_t m = json_array_size(links);
			if (m && !(rec->inputs[a].v = kiln_calloc(m, sizeof(*rec->inputs[a].v))))
				return oom(err);
			for (size_t b = 0; b < m; b++) {
				json_t *in = json_array_get(links, b);
				struct kiln_rcache_input *dst = &rec->inputs[a].v[b];
				rec->inputs[a].n = b + 1;
				if (!json_is_object(in))
					return bad(err, lpath, "want objects");
				int64_t link;
				if ((r = get_int(in, "link", lpath, 0, &link, err)) < 0)
					return r;
				if (link < 0 || link >= (int64_t) n_records || link == (int64_t) i)
					return bad(err, lpath, "link %lld is not another record",
						   (long long) link);
				dst->link = (long) link;
				if ((r = get_str(in, "selector", lpath, &dst->selector, err)) < 0)
					return r;
			}
		}
	}
	json_t *res = json_object_get(j, "layers");
	if (res && !json_is_null(res)) {
		char rpath[64];
		(void) snprintf(rpath, sizeof(rpath), "%s.layers", path);
		if ((r = want_array(res, rpath, KILN_RCACHE_RESULTS_MAX, err)) < 0)
			return r;
		size_t n = json_array_size(res);
		if (n && !(rec->results = kiln_calloc(n, sizeof(*rec->results))))
			return oom(err);
		for (size_t a = 0; a < n; a++) {
			json_t *o = json_array_get(res, a);
			rec->n_results = a + 1;
			if (!json_is_object(o))
				return bad(err, rpath, "want objects");
			int64_t layer;
			if ((r = get_int(o, "layer", rpath, -1, &layer, err)) < 0)
				return r;
			if (layer < 0 || layer >= (int64_t) n_layers)
				return bad(err, rpath, "layer %lld is not a layer",
					   (long long) layer);
			rec->results[a].layer = (long) layer;
			if ((r = get_time(o, "createdAt", rpath, &rec->results[a].created, err)) <
			    0)
				return r;
		}
	}
	json_t *chains = json_object_get(j, "chains");
	if (chains && !json_is_null(chains) && !json_is_array(chains))
		return bad(err, path, "chains: want an array");
	json_t *k = json_object_get(j, "kiln");
	if (k && !json_is_null(k))
		return parse_kiln_record(k, path, rec, err);
	return 0;
}

static int parse_mounts(json_t *k, struct kiln_rcache_config *c, struct kiln_error *err)
{
	if (!json_is_object(k))
		return bad(err, "kiln", "want an object");
	json_t *ms = json_object_get(k, "mounts");
	if (!ms || json_is_null(ms))
		return 0;
	int r = want_array(ms, "kiln.mounts", KILN_RCACHE_MOUNTS_MAX, err);
	if (r < 0)
		return r;
	size_t n = json_array_size(ms);
	if (n && !(c->mounts = kiln_calloc(n, sizeof(*c->mounts))))
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(ms, i);
		struct kiln_rcache_mount *d = &c->mounts[i];
		char path[48];
		(void) snprintf(path, sizeof(path), "kiln.mounts[%zu]", i);
		c->n_mounts = i + 1;
		if (!json_is_object(m))
			return bad(err, path, "want an object");
		if ((r = get_str(m, "id", path, &d->id, err)) < 0)
			return r;
		if (r == 0 || !*d->id)
			return bad(err, path, "id: missing");
		if ((r = get_str(m, "seed", path, &d->seed, err)) < 0)
			return r;
		if (!d->seed && !(d->seed = kiln_strdup("")))
			return oom(err);
		if ((r = get_digest(m, "blob", path, 1, &d->blob, err)) < 0)
			return r;
		if ((r = get_time(m, "updatedAt", path, &d->updated, err)) < 0)
			return r;
		for (size_t k2 = 0; k2 < i; k2++)
			if (!strcmp(c->mounts[k2].id, d->id) &&
			    !strcmp(c->mounts[k2].seed, d->seed))
				return bad(err, path, "cache mount '%.80s' listed twice", d->id);
	}
	return 0;
}

/* Parent chains and record links must end: a walk per layer, each visited once. */
static int check_loops(const struct kiln_rcache_config *c, struct kiln_error *err)
{
	size_t n = c->n_layers > c->n_records ? c->n_layers : c->n_records;
	cleanup_free unsigned char *state = kiln_calloc(n + 1, 1);
	cleanup_free size_t *order = kiln_calloc(n + 1, sizeof(size_t));
	cleanup_free size_t *indeg = kiln_calloc(c->n_records + 1, sizeof(size_t));
	if (!state || !order || !indeg)
		return oom(err);
	/* layers: follow parents, marking the walk 1, finished walks 2 */
	for (size_t i = 0; i < c->n_layers; i++) {
		size_t p = i;
		while (state[p] == 0) {
			state[p] = 1;
			if (c->layers[p].parent < 0)
				break;
			p = (size_t) c->layers[p].parent;
		}
		if (state[p] == 1 && c->layers[p].parent >= 0)
			return bad(err, "layers", "the parents of layer %zu loop", i);
		for (p = i; state[p] == 1;) {
			state[p] = 2;
			if (c->layers[p].parent < 0)
				break;
			p = (size_t) c->layers[p].parent;
		}
	}
	/* records: Kahn's order over input links */
	for (size_t i = 0; i < c->n_records; i++)
		for (size_t a = 0; a < c->records[i].n_inputs; a++)
			for (size_t b = 0; b < c->records[i].inputs[a].n; b++)
				indeg[c->records[i].inputs[a].v[b].link]++;
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < c->n_records; i++)
		if (!indeg[i])
			order[tail++] = i;
	while (head < tail) {
		const struct kiln_rcache_record *r = &c->records[order[head++]];
		for (size_t a = 0; a < r->n_inputs; a++)
			for (size_t b = 0; b < r->inputs[a].n; b++)
				if (--indeg[r->inputs[a].v[b].link] == 0)
					order[tail++] = (size_t) r->inputs[a].v[b].link;
	}
	if (tail != c->n_records)
		return bad(err, "records", "the inputs of the records loop");
	return 0;
}

int kiln_rcache_config_parse(const char *json, size_t len, struct kiln_rcache_config **ret,
			     struct kiln_error *err)
{
	if (len > KILN_RCACHE_CONFIG_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "cache config is larger than %zu bytes",
				 KILN_RCACHE_CONFIG_MAX);
	json_error_t je;
	cleanup(json_decrefp) json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid cache config: line %d column %d: %s",
				 je.line, je.column, je.text);
	if (!depth_ok(j, 0))
		return kiln_fail(err, KILN_ELIMIT, 0, "cache config nested deeper than %d levels",
				 JSON_DEPTH_MAX);
	if (!json_is_object(j))
		return bad(err, "(top)", "want a JSON object");
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
	int r = kiln_rcache_config_new(&c, err);
	if (r < 0)
		return r;
	json_t *layers = json_object_get(j, "layers");
	json_t *records = json_object_get(j, "records");
	if (layers && json_is_null(layers))
		layers = NULL;
	if (records && json_is_null(records))
		records = NULL;
	if (layers && (r = want_array(layers, "layers", KILN_RCACHE_LAYERS_MAX, err)) < 0)
		return r;
	size_t nl = layers ? json_array_size(layers) : 0;
	if (nl && !(c->layers = kiln_calloc(nl, sizeof(*c->layers))))
		return oom(err);
	for (size_t i = 0; i < nl; i++) {
		c->n_layers = i + 1;
		if ((r = parse_layer(json_array_get(layers, i), i, nl, &c->layers[i], err)) < 0)
			return r;
	}
	if (records && (r = rc_parse_records(records, c, err)) < 0)
		return r;
	json_t *k = json_object_get(j, "kiln");
	if (k && !json_is_null(k) && (r = parse_mounts(k, c, err)) < 0)
		return r;
	if ((r = check_loops(c, err)) < 0)
		return r;
	*ret = steal_ptr(&c);
	return 0;
}

int rc_parse_records(json_t *records, struct kiln_rcache_config *c, struct kiln_error *err)
{
	int r = want_array(records, "records", KILN_RCACHE_RECORDS_MAX, err);
	if (r < 0)
		return r;
	size_t nr = json_array_size(records);
	if (c->n_records)
		return kiln_fail(err, KILN_EINTERNAL, 0, "cache config: records parsed twice");
	if (nr && !(c->records = kiln_calloc(nr, sizeof(*c->records))))
		return oom(err);
	for (size_t i = 0; i < nr; i++) {
		c->n_records = i + 1;
		r = parse_record(json_array_get(records, i), i, nr, c->n_layers, &c->records[i],
				 err);
		if (r < 0)
			return r;
	}
	return check_loops(c, err);
}

/* ---- sorting ----------------------------------------------------------------------- */

struct sort_ctx {
	const struct kiln_rcache_config *c;
};

/* Layers: by blob, then by the blobs of the chains below them (shorter first). */
static int layer_cmp(const void *a, const void *b, void *ud)
{
	const struct kiln_rcache_config *c = ((struct sort_ctx *) ud)->c;
	long x = *(const long *) a, y = *(const long *) b;
	while (x >= 0 && y >= 0) {
		int d = memcmp(c->layers[x].blob.raw, c->layers[y].blob.raw, 32);
		if (d)
			return d;
		x = c->layers[x].parent;
		y = c->layers[y].parent;
	}
	return (x >= 0) - (y >= 0);
}

static int record_cmp(const void *a, const void *b, void *ud)
{
	const struct kiln_rcache_config *c = ((struct sort_ctx *) ud)->c;
	const struct kiln_rcache_record *x = &c->records[*(const long *) a];
	const struct kiln_rcache_record *y = &c->records[*(const long *) b];
	int d = memcmp(x->digest.raw, y->digest.raw, 32);
	if (d)
		return d;
	if (x->n_inputs != y->n_inputs)
		return x->n_inputs < y->n_inputs ? -1 : 1;
	for (size_t i = 0; i < x->n_inputs; i++) {
		if (x->inputs[i].n != y->inputs[i].n)
			return x->inputs[i].n < y->inputs[i].n ? -1 : 1;
		for (size_t k = 0; k < x->inputs[i].n; k++) {
			const char *sx =
				x->inputs[i].v[k].selector ? x->inputs[i].v[k].selector : "";
			const char *sy =
				y->inputs[i].v[k].selector ? y->inputs[i].v[k].selector : "";
			if ((d = strcmp(sx, sy)))
				return d;
			d = memcmp(c->records[x->inputs[i].v[k].link].digest.raw,
				   c->records[y->inputs[i].v[k].link].digest.raw, 32);
			if (d)
				return d;
		}
	}
	/* equal keys: kiln's records before others, then the first result's layer */
	if (x->has_kiln != y->has_kiln)
		return y->has_kiln - x->has_kiln;
	return (int) (*(const long *) a > *(const long *) b) -
	       (int) (*(const long *) a < *(const long *) b);
}

static int input_cmp(const void *a, const void *b)
{
	const struct kiln_rcache_input *x = a, *y = b;
	return (x->link > y->link) - (x->link < y->link);
}

static int sort_config(struct kiln_rcache_config *c, int keep_layers, struct kiln_error *err)
{
	size_t nl = c->n_layers, nr = c->n_records;
	cleanup_free long *lorder = kiln_calloc(nl + 1, sizeof(long));
	cleanup_free long *lnew = kiln_calloc(nl + 1, sizeof(long));
	cleanup_free long *rorder = kiln_calloc(nr + 1, sizeof(long));
	cleanup_free long *rnew = kiln_calloc(nr + 1, sizeof(long));
	cleanup_free struct kiln_rcache_layer *layers = kiln_calloc(nl + 1, sizeof(*layers));
	cleanup_free struct kiln_rcache_record *records = kiln_calloc(nr + 1, sizeof(*records));
	if (!lorder || !lnew || !rorder || !rnew || !layers || !records)
		return oom(err);
	struct sort_ctx sc = { c };
	for (size_t i = 0; i < nl; i++)
		lorder[i] = (long) i;
	for (size_t i = 0; i < nr; i++)
		rorder[i] = (long) i;
	if (!keep_layers)
		qsort_r(lorder, nl, sizeof(long), layer_cmp, &sc);
	qsort_r(rorder, nr, sizeof(long), record_cmp, &sc);
	for (size_t i = 0; i < nl; i++)
		lnew[lorder[i]] = (long) i;
	for (size_t i = 0; i < nr; i++)
		rnew[rorder[i]] = (long) i;
	for (size_t i = 0; i < nl; i++) {
		layers[i] = c->layers[lorder[i]];
		if (layers[i].parent >= 0)
			layers[i].parent = lnew[layers[i].parent];
	}
	for (size_t i = 0; i < nr; i++) {
		struct kiln_rcache_record *r = &records[i];
		*r = c->records[rorder[i]];
		for (size_t k = 0; k < r->n_results; k++)
			r->results[k].layer = lnew[r->results[k].layer];
		for (size_t a = 0; a < r->n_inputs; a++) {
			for (size_t k = 0; k < r->inputs[a].n; k++)
				r->inputs[a].v[k].link = rnew[r->inputs[a].v[k].link];
			if (r->inputs[a].n > 1)
				qsort(r->inputs[a].v, r->inputs[a].n, sizeof(*r->inputs[a].v),
				      input_cmp);
		}
	}
	if (nl)
		memcpy(c->layers, layers, nl * sizeof(*layers));
	if (nr)
		memcpy(c->records, records, nr * sizeof(*records));
	return 0;
}

int kiln_rcache_config_sort(struct kiln_rcache_config *c, struct kiln_error *err)
{
	return sort_config(c, 0, err);
}

int kiln_rcache_config_sort_records(struct kiln_rcache_config *c, struct kiln_error *err)
{
	return sort_config(c, 1, err);
}

/* ---- writing ----------------------------------------------------------------------- */

static void w_time(struct kiln_jw *w, const char *key, int64_t t)
{
	kiln_jw_key(w, key);
	char *s = t >= 0 ? kiln_oci_time_format(t, 0) : NULL;
	if (t >= 0 && !s) {
		w->failed = w->failed ? w->failed : -KILN_ENOMEM;
		return;
	}
	kiln_jw_str(w, s ? s : GO_ZERO_TIME);
	free(s);
}

static void w_records(struct kiln_jw *w, const struct kiln_rcache_config *c)
{
	kiln_jw_arr_open(w);
	for (size_t i = 0; i < c->n_records; i++) {
		const struct kiln_rcache_record *r = &c->records[i];
		kiln_jw_obj_open(w);
		if (r->n_results) {
			kiln_jw_key(w, "layers");
			kiln_jw_arr_open(w);
			for (size_t k = 0; k < r->n_results; k++) {
				kiln_jw_obj_open(w);
				kiln_jw_kint(w, "layer", r->results[k].layer);
				w_time(w, "createdAt", r->results[k].created);
				kiln_jw_obj_close(w);
			}
			kiln_jw_arr_close(w);
		}
		kiln_jw_kstr(w, "digest", r->digest.str);
		if (r->n_inputs) {
			kiln_jw_key(w, "inputs");
			kiln_jw_arr_open(w);
			for (size_t a = 0; a < r->n_inputs; a++) {
				if (!r->inputs[a].n) {
					kiln_jw_null(w); /* Go writes a nil slice as null */
					continue;
				}
				kiln_jw_arr_open(w);
				for (size_t k = 0; k < r->inputs[a].n; k++) {
					kiln_jw_obj_open(w);
					kiln_jw_kstr_omitempty(w, "selector",
							       r->inputs[a].v[k].selector);
					kiln_jw_kint(w, "link", r->inputs[a].v[k].link);
					kiln_jw_obj_close(w);
				}
				kiln_jw_arr_close(w);
			}
			kiln_jw_arr_close(w);
		}
		if (r->has_kiln) {
			kiln_jw_key(w, "kiln");
			kiln_jw_obj_open(w);
			if (r->has_chain)
				kiln_jw_kstr(w, "chain", r->chain.str);
			kiln_jw_kstr_omitempty(w, "createdBy", r->created_by);
			if (r->ingredients) {
				kiln_jw_key(w, "ingredients");
				kiln_jw_raw(w, r->ingredients, strlen(r->ingredients));
			}
			kiln_jw_obj_close(w);
		}
		kiln_jw_obj_close(w);
	}
	kiln_jw_arr_close(w);
}

int kiln_rcache_records_to_json(const struct kiln_rcache_config *c, char **ret, size_t *ret_len,
				struct kiln_error *err)
{
	struct kiln_jw w;
	kiln_jw_init(&w);
	w_records(&w, c);
	return kiln_jw_finish(&w, ret, ret_len, err);
}

int kiln_rcache_config_to_json(const struct kiln_rcache_config *c, char **ret, size_t *ret_len,
			       struct kiln_error *err)
{
	struct kiln_jw w;
	kiln_jw_init(&w);
	kiln_jw_obj_open(&w);
	if (c->n_layers) {
		kiln_jw_key(&w, "layers");
		kiln_jw_arr_open(&w);
		for (size_t i = 0; i < c->n_layers; i++) {
			const struct kiln_rcache_layer *l = &c->layers[i];
			kiln_jw_obj_open(&w);
			kiln_jw_kstr(&w, "blob", l->blob.str);
			kiln_jw_kint_omitempty(&w, "parent", l->parent);
			if (l->media_type || l->has_diff_id || l->size >= 0 || l->created >= 0) {
				kiln_jw_key(&w, "annotations");
				kiln_jw_obj_open(&w);
				kiln_jw_kstr_omitempty(&w, "mediaType", l->media_type);
				if (l->has_diff_id)
					kiln_jw_kstr(&w, "diffID", l->diff_id.str);
				if (l->size > 0)
					kiln_jw_kint(&w, "size", l->size);
				w_time(&w, "createdAt", l->created);
				kiln_jw_obj_close(&w);
			}
			kiln_jw_obj_close(&w);
		}
		kiln_jw_arr_close(&w);
	}
	if (c->n_records) {
		kiln_jw_key(&w, "records");
		w_records(&w, c);
	}
	if (c->n_mounts) {
		kiln_jw_key(&w, "kiln");
		kiln_jw_obj_open(&w);
		kiln_jw_key(&w, "mounts");
		kiln_jw_arr_open(&w);
		for (size_t i = 0; i < c->n_mounts; i++) {
			kiln_jw_obj_open(&w);
			kiln_jw_kstr(&w, "id", c->mounts[i].id);
			kiln_jw_kstr_omitempty(&w, "seed", c->mounts[i].seed);
			kiln_jw_kstr(&w, "blob", c->mounts[i].blob.str);
			w_time(&w, "updatedAt", c->mounts[i].updated);
			kiln_jw_obj_close(&w);
		}
		kiln_jw_arr_close(&w);
		kiln_jw_obj_close(&w);
	}
	kiln_jw_obj_close(&w);
	return kiln_jw_finish(&w, ret, ret_len, err);
}
