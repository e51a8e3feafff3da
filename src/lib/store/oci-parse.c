/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict readers for OCI / docker image documents. The rules are the OCI
 * JSON schemas plus what the reference (Go) validator enforces on top of
 * them: digests pass go-digest's checks for the algorithms it knows, `data`
 * is padded standard base64, `urls` are absolute URIs, times are RFC 3339,
 * config Env entries are K=V. Documents come from registries and archives,
 * so sizes and nesting are bounded before anything else happens.
 */
#include "store/oci.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

/* jansson provides json_decrefp() for cleanup() */

struct pctx {
	const char *doc; /* "manifest", "config", ... for messages */
	struct kiln_error *err;
};

/* A field path for messages: "layers[2].digest". Built from our own keys only. */
struct fpath {
	char s[128];
};

static const char *fp_join(struct fpath *out, const char *parent, const char *key, long idx)
{
	int n;
	if (idx >= 0)
		n = snprintf(out->s, sizeof(out->s), "%s%s%s[%ld]", parent ? parent : "",
			     parent && *parent && key ? "." : "", key ? key : "", idx);
	else
		n = snprintf(out->s, sizeof(out->s), "%s%s%s", parent ? parent : "",
			     parent && *parent ? "." : "", key ? key : "");
	/* a path longer than the buffer is cut: it only names a field in a message */
	if (n < 0)
		out->s[0] = '\0';
	return out->s;
}

__attribute__((format(printf, 3, 4))) static int pfail(struct pctx *c, const char *path,
						       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path && *path)
		return kiln_fail(c->err, KILN_EPARSE, 0, "invalid %s: %s: %s", c->doc, path, msg);
	return kiln_fail(c->err, KILN_EPARSE, 0, "invalid %s: %s", c->doc, msg);
}

static int oom(struct pctx *c)
{
	return kiln_fail(c->err, KILN_ENOMEM, 0, "out of memory");
}

static int depth_ok(const json_t *j, int depth)
{
	if (depth > KILN_OCI_JSON_DEPTH_MAX)
		return 0;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v)
			if (!depth_ok(v, depth + 1))
				return 0;
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			if (!depth_ok(v, depth + 1))
				return 0;
	}
	return 1;
}

static int load(struct pctx *c, const char *json, size_t len, size_t limit, json_t **ret)
{
	if (len > limit)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "%s is larger than %zu bytes", c->doc,
				 limit);
	json_error_t je;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return kiln_fail(c->err, KILN_EPARSE, 0, "invalid %s: line %d column %d: %s",
				 c->doc, je.line, je.column, je.text);
	if (!depth_ok(j, 0)) {
		json_decref(j);
		return kiln_fail(c->err, KILN_ELIMIT, 0, "%s nested deeper than %d levels", c->doc,
				 KILN_OCI_JSON_DEPTH_MAX);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return pfail(c, NULL, "want a JSON object");
	}
	*ret = j;
	return 0;
}

/* ---- field readers: 0 = absent (optional), 1 = read, < 0 = error -------- */

static int get_str(struct pctx *c, json_t *obj, const char *parent, const char *key, int required,
		   char **out)
{
	struct fpath p;
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return pfail(c, fp_join(&p, parent, key, -1), "missing");
		return 0;
	}
	if (!json_is_string(v))
		return pfail(c, fp_join(&p, parent, key, -1), "want a string");
	char *s = kiln_strndup(json_string_value(v), json_string_length(v));
	if (!s)
		return oom(c);
	free(*out);
	*out = s;
	return 1;
}

static int get_int(struct pctx *c, json_t *obj, const char *parent, const char *key, int required,
		   int64_t min, int64_t *out)
{
	struct fpath p;
	json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return pfail(c, fp_join(&p, parent, key, -1), "missing");
		return 0;
	}
	if (!json_is_integer(v))
		return pfail(c, fp_join(&p, parent, key, -1), "want an integer");
	json_int_t n = json_integer_value(v);
	if (n < min)
		return pfail(c, fp_join(&p, parent, key, -1), "must be at least %lld",
			     (long long)min);
	*out = (int64_t)n;
	return 1;
}

static int get_bool(struct pctx *c, json_t *obj, const char *parent, const char *key, int *out)
{
	struct fpath p;
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return pfail(c, fp_join(&p, parent, key, -1), "want true or false");
	*out = json_is_true(v);
	return 1;
}

enum { NULL_OK = 1 };

/* An array of strings (null allowed when flags has NULL_OK). */
static int get_strv(struct pctx *c, json_t *obj, const char *parent, const char *key,
		    unsigned flags, struct kiln_strv *out)
{
	struct fpath p, q;
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (json_is_null(v) && (flags & NULL_OK))
		return 1;
	if (!json_is_array(v))
		return pfail(c, fp_join(&p, parent, key, -1), "want an array of strings");
	if (json_array_size(v) > KILN_OCI_LIST_MAX)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "%s: %s has more than %d entries", c->doc,
				 fp_join(&p, parent, key, -1), KILN_OCI_LIST_MAX);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return pfail(c, fp_join(&q, fp_join(&p, parent, key, -1), NULL, (long)i),
				     "want a string");
		if (kiln_strv_pushn(out, json_string_value(e), json_string_length(e)) < 0)
			return oom(c);
	}
	return 1;
}

/* An object of strings (annotations, labels). */
static int get_map(struct pctx *c, json_t *obj, const char *parent, const char *key,
		   unsigned flags, struct kiln_oci_map *out)
{
	struct fpath p;
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (json_is_null(v) && (flags & NULL_OK))
		return 1;
	if (!json_is_object(v))
		return pfail(c, fp_join(&p, parent, key, -1), "want an object of strings");
	if (json_object_size(v) > KILN_OCI_MAP_MAX)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "%s: %s has more than %d entries", c->doc,
				 fp_join(&p, parent, key, -1), KILN_OCI_MAP_MAX);
	const char *k;
	json_t *e;
	json_object_foreach(v, k, e) {
		if (!json_is_string(e))
			return pfail(c, fp_join(&p, parent, key, -1), "value of '%s' is not a string",
				     k);
		if (kiln_oci_map_set(out, k, json_string_value(e), c->err) < 0)
			return -KILN_ENOMEM;
	}
	return 1;
}

/* An object whose values are objects ({"80/tcp": {}}): the keys, sorted. */
static int get_set(struct pctx *c, json_t *obj, const char *parent, const char *key,
		   struct kiln_strv *out)
{
	struct fpath p;
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return pfail(c, fp_join(&p, parent, key, -1), "want an object");
	if (json_object_size(v) > KILN_OCI_MAP_MAX)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "%s: %s has more than %d entries", c->doc,
				 fp_join(&p, parent, key, -1), KILN_OCI_MAP_MAX);
	/* collect through a map to get them sorted */
	struct kiln_oci_map m = { 0 };
	const char *k;
	json_t *e;
	int r = 1;
	json_object_foreach(v, k, e) {
		if (!json_is_object(e)) {
			r = pfail(c, fp_join(&p, parent, key, -1), "value of '%s' is not an object",
				  k);
			break;
		}
		if (kiln_oci_map_set(&m, k, "", c->err) < 0) {
			r = -KILN_ENOMEM;
			break;
		}
	}
	for (size_t i = 0; r > 0 && i < m.len; i++)
		if (kiln_strv_push(out, m.items[i].key) < 0)
			r = oom(c);
	kiln_oci_map_release(&m);
	return r;
}

/* ---- value checks --------------------------------------------------------- */

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Go's base64.StdEncoding: padded, \r and \n skipped. 0, -1 invalid, -2 no memory. */
static int b64_decode(const char *s, size_t n, uint8_t **ret, size_t *ret_len)
{
	cleanup_free char *t = kiln_malloc(n + 1);
	if (!t)
		return -2;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			t[m++] = s[i];
	if (m % 4 != 0)
		return -1;
	uint8_t *out = kiln_malloc(m / 4 * 3 + 1);
	if (!out)
		return -2;
	size_t o = 0;
	for (size_t i = 0; i < m; i += 4) {
		int last = i + 4 == m;
		int a = b64val((unsigned char)t[i]), b = b64val((unsigned char)t[i + 1]);
		int c = b64val((unsigned char)t[i + 2]), d = b64val((unsigned char)t[i + 3]);
		int pad = 0;
		if (last && t[i + 3] == '=') {
			pad = t[i + 2] == '=' ? 2 : 1;
			d = 0;
			if (pad == 2)
				c = 0;
		}
		if (a < 0 || b < 0 || c < 0 || d < 0) {
			free(out);
			return -1;
		}
		uint32_t x = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o++] = (uint8_t)(x >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(x >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)x;
	}
	*ret = out;
	*ret_len = o;
	return 0;
}

/* What Go's url.Parse accepts plus a scheme (the "uri" format check). */
static int uri_valid(const char *s)
{
	const char *p = s;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':')
		return 0;
	for (p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch < 0x21 || ch == 0x7f || ch == '\\')
			return 0;
		if (ch == '%') {
			if (!strchr("0123456789abcdefABCDEF", p[1]) || !p[1] ||
			    !strchr("0123456789abcdefABCDEF", p[2]) || !p[2])
				return 0;
		}
	}
	return 1;
}

/* ---- platform and descriptor -------------------------------------------- */

static int parse_platform(struct pctx *c, json_t *v, const char *path,
			  struct kiln_oci_platform *out)
{
	if (!json_is_object(v))
		return pfail(c, path, "want an object");
	int r;
	if ((r = get_str(c, v, path, "architecture", 1, &out->architecture)) < 0 ||
	    (r = get_str(c, v, path, "os", 1, &out->os)) < 0 ||
	    (r = get_str(c, v, path, "os.version", 0, &out->os_version)) < 0 ||
	    (r = get_strv(c, v, path, "os.features", 0, &out->os_features)) < 0 ||
	    (r = get_str(c, v, path, "variant", 0, &out->variant)) < 0)
		return r;
	return 0;
}

static int parse_descriptor(struct pctx *c, json_t *v, const char *path,
			    struct kiln_oci_descriptor *d)
{
	struct fpath p;
	int r;
	if (!json_is_object(v))
		return pfail(c, path, "want a descriptor object");
	if ((r = get_str(c, v, path, "mediaType", 1, &d->media_type)) < 0)
		return r;
	if (!kiln_mt_valid(d->media_type))
		return pfail(c, fp_join(&p, path, "mediaType", -1), "invalid media type '%s'",
			     d->media_type);
	if ((r = get_str(c, v, path, "digest", 1, &d->digest)) < 0)
		return r;
	struct kiln_error derr = KILN_ERROR_INIT;
	if (kiln_oci_digest_validate(d->digest, &derr) < 0) {
		r = pfail(c, fp_join(&p, path, "digest", -1), "%s", derr.msg ? derr.msg : "");
		kiln_error_release(&derr);
		return r;
	}
	if (strncmp(d->digest, "sha256:", 7) == 0) {
		if (kiln_digest_parse(d->digest, &d->sha256, NULL) < 0)
			return pfail(c, fp_join(&p, path, "digest", -1), "invalid sha256 digest");
		d->has_sha256 = 1;
	}
	if ((r = get_int(c, v, path, "size", 1, 0, &d->size)) < 0)
		return r;
	if ((r = get_strv(c, v, path, "urls", 0, &d->urls)) < 0)
		return r;
	for (size_t i = 0; i < d->urls.len; i++)
		if (!uri_valid(d->urls.items[i]))
			return pfail(c, fp_join(&p, path, "urls", (long)i),
				     "'%s' is not an absolute URI", d->urls.items[i]);
	if ((r = get_map(c, v, path, "annotations", 0, &d->annotations)) < 0)
		return r;
	json_t *data = json_object_get(v, "data");
	if (data) {
		if (!json_is_string(data))
			return pfail(c, fp_join(&p, path, "data", -1), "want a base64 string");
		int b = b64_decode(json_string_value(data), json_string_length(data), &d->data,
				   &d->data_len);
		if (b == -2)
			return oom(c);
		if (b < 0)
			return pfail(c, fp_join(&p, path, "data", -1),
				     "not padded standard base64");
		d->has_data = 1;
	}
	json_t *plat = json_object_get(v, "platform");
	if (plat) {
		d->platform = kiln_calloc(1, sizeof(*d->platform));
		if (!d->platform)
			return oom(c);
		if ((r = parse_platform(c, plat, fp_join(&p, path, "platform", -1), d->platform)) <
		    0)
			return r;
	}
	if ((r = get_str(c, v, path, "artifactType", 0, &d->artifact_type)) < 0)
		return r;
	if (d->artifact_type && !kiln_mt_valid(d->artifact_type))
		return pfail(c, fp_join(&p, path, "artifactType", -1), "invalid media type '%s'",
			     d->artifact_type);
	return 0;
}

int kiln_oci_descriptor_parse(const char *json, size_t len, struct kiln_oci_descriptor *ret,
			      struct kiln_error *err)
{
	struct pctx c = { "descriptor", err };
	cleanup(json_decrefp) json_t *j = NULL;
	int r = load(&c, json, len, KILN_OCI_MANIFEST_MAX, &j);
	if (r < 0)
		return r;
	struct kiln_oci_descriptor d = { 0 };
	r = parse_descriptor(&c, j, "", &d);
	if (r < 0) {
		kiln_oci_descriptor_release(&d);
		return r;
	}
	*ret = d;
	return 0;
}

/* ---- manifest and index ---------------------------------------------------- */

static int parse_header(struct pctx *c, json_t *j, int *schema_version, char **media_type,
			char **artifact_type, struct kiln_oci_map *annotations)
{
	int64_t sv = 0;
	int r;
	if ((r = get_int(c, j, "", "schemaVersion", 1, INT64_MIN, &sv)) < 0)
		return r;
	if (sv == 1)
		return kiln_fail(c->err, KILN_EUNSUPP, 0,
				 "docker schema 1 %ss are not supported; ask the registry for "
				 "schema 2 or OCI",
				 c->doc);
	if (sv != 2)
		return pfail(c, "schemaVersion", "want 2, not %lld", (long long)sv);
	*schema_version = 2;
	if ((r = get_str(c, j, "", "mediaType", 0, media_type)) < 0)
		return r;
	if (*media_type && !kiln_mt_valid(*media_type))
		return pfail(c, "mediaType", "invalid media type '%s'", *media_type);
	if ((r = get_str(c, j, "", "artifactType", 0, artifact_type)) < 0)
		return r;
	if (*artifact_type && !kiln_mt_valid(*artifact_type))
		return pfail(c, "artifactType", "invalid media type '%s'", *artifact_type);
	if ((r = get_map(c, j, "", "annotations", 0, annotations)) < 0)
		return r;
	return 0;
}

static int parse_subject(struct pctx *c, json_t *j, struct kiln_oci_descriptor **out)
{
	json_t *s = json_object_get(j, "subject");
	if (!s)
		return 0;
	*out = kiln_calloc(1, sizeof(**out));
	if (!*out)
		return oom(c);
	return parse_descriptor(c, s, "subject", *out);
}

int kiln_oci_manifest_parse(const char *json, size_t len, struct kiln_oci_manifest **ret,
			    struct kiln_error *err)
{
	struct pctx c = { "manifest", err };
	cleanup(json_decrefp) json_t *j = NULL;
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	struct fpath p;
	int r = load(&c, json, len, KILN_OCI_MANIFEST_MAX, &j);
	if (r < 0)
		return r;
	m = kiln_calloc(1, sizeof(*m));
	if (!m)
		return oom(&c);
	if ((r = parse_header(&c, j, &m->schema_version, &m->media_type, &m->artifact_type,
			      &m->annotations)) < 0)
		return r;
	if (m->media_type && strcmp(m->media_type, KILN_MT_OCI_MANIFEST) != 0 &&
	    strcmp(m->media_type, KILN_MT_DOCKER_MANIFEST) != 0)
		return pfail(&c, "mediaType", "'%s' is not an image manifest media type",
			     m->media_type);
	json_t *cfg = json_object_get(j, "config");
	if (!cfg)
		return pfail(&c, "config", "missing");
	if ((r = parse_descriptor(&c, cfg, "config", &m->config)) < 0)
		return r;
	json_t *layers = json_object_get(j, "layers");
	if (!layers)
		return pfail(&c, "layers", "missing");
	if (!json_is_array(layers))
		return pfail(&c, "layers", "want an array of descriptors");
	size_t n = json_array_size(layers);
	int docker = m->media_type && strcmp(m->media_type, KILN_MT_DOCKER_MANIFEST) == 0;
	/* the OCI schema wants a layer; docker schema 2 allows none (FROM scratch + ENV) */
	if (n == 0 && !docker)
		return pfail(&c, "layers", "an OCI image manifest needs at least one layer");
	if (n > KILN_OCI_LAYERS_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "manifest has more than %d layers",
				 KILN_OCI_LAYERS_MAX);
	if (n) {
		m->layers = kiln_calloc(n, sizeof(*m->layers));
		if (!m->layers)
			return oom(&c);
	}
	for (size_t i = 0; i < n; i++) {
		m->n_layers = i + 1;
		r = parse_descriptor(&c, json_array_get(layers, i), fp_join(&p, "layers", NULL, (long)i),
				     &m->layers[i]);
		if (r < 0)
			return r;
	}
	if ((r = parse_subject(&c, j, &m->subject)) < 0)
		return r;
	*ret = steal_ptr(&m);
	return 0;
}

int kiln_oci_index_parse(const char *json, size_t len, struct kiln_oci_index **ret,
			 struct kiln_error *err)
{
	struct pctx c = { "index", err };
	cleanup(json_decrefp) json_t *j = NULL;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	struct fpath p;
	int r = load(&c, json, len, KILN_OCI_MANIFEST_MAX, &j);
	if (r < 0)
		return r;
	x = kiln_calloc(1, sizeof(*x));
	if (!x)
		return oom(&c);
	if ((r = parse_header(&c, j, &x->schema_version, &x->media_type, &x->artifact_type,
			      &x->annotations)) < 0)
		return r;
	if (x->media_type && strcmp(x->media_type, KILN_MT_OCI_INDEX) != 0 &&
	    strcmp(x->media_type, KILN_MT_DOCKER_LIST) != 0)
		return pfail(&c, "mediaType", "'%s' is not an image index media type",
			     x->media_type);
	json_t *ms = json_object_get(j, "manifests");
	if (!ms)
		return pfail(&c, "manifests", "missing");
	if (!json_is_array(ms))
		return pfail(&c, "manifests", "want an array of descriptors");
	size_t n = json_array_size(ms);
	if (n > KILN_OCI_MANIFESTS_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "index has more than %d manifests",
				 KILN_OCI_MANIFESTS_MAX);
	if (n) {
		x->manifests = kiln_calloc(n, sizeof(*x->manifests));
		if (!x->manifests)
			return oom(&c);
	}
	for (size_t i = 0; i < n; i++) {
		x->n_manifests = i + 1;
		r = parse_descriptor(&c, json_array_get(ms, i),
				     fp_join(&p, "manifests", NULL, (long)i), &x->manifests[i]);
		if (r < 0)
			return r;
	}
	if ((r = parse_subject(&c, j, &x->subject)) < 0)
		return r;
	*ret = steal_ptr(&x);
	return 0;
}

int kiln_oci_layout_header_parse(const char *json, size_t len, struct kiln_error *err)
{
	struct pctx c = { "oci-layout file", err };
	cleanup(json_decrefp) json_t *j = NULL;
	cleanup_free char *v = NULL;
	int r = load(&c, json, len, 65536, &j);
	if (r < 0)
		return r;
	if ((r = get_str(&c, j, "", "imageLayoutVersion", 1, &v)) < 0)
		return r;
	if (strcmp(v, "1.0.0") != 0)
		return pfail(&c, "imageLayoutVersion", "unsupported version '%s'", v);
	return 0;
}

int kiln_oci_detect(const char *json, size_t len, enum kiln_mt_kind *ret_kind,
		    struct kiln_error *err)
{
	struct pctx c = { "manifest", err };
	cleanup(json_decrefp) json_t *j = NULL;
	int r = load(&c, json, len, KILN_OCI_MANIFEST_MAX, &j);
	if (r < 0)
		return r;
	json_t *sv = json_object_get(j, "schemaVersion");
	json_t *mt = json_object_get(j, "mediaType");
	enum kiln_mt_kind k = KILN_MT_KIND_UNKNOWN;
	if (mt && json_is_string(mt))
		k = kiln_mt_classify(json_string_value(mt), NULL);
	if (k == KILN_MT_KIND_SCHEMA1 || (json_is_integer(sv) && json_integer_value(sv) == 1))
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "docker schema 1 manifests are not supported; ask the registry "
				 "for schema 2 or OCI");
	if (k != KILN_MT_KIND_MANIFEST && k != KILN_MT_KIND_INDEX) {
		if (mt && k != KILN_MT_KIND_UNKNOWN)
			return pfail(&c, "mediaType", "'%s' is not a manifest or index",
				     json_string_value(mt));
		if (json_object_get(j, "manifests"))
			k = KILN_MT_KIND_INDEX;
		else if (json_object_get(j, "layers") || json_object_get(j, "config"))
			k = KILN_MT_KIND_MANIFEST;
		else
			return pfail(&c, NULL, "neither an image manifest nor an index");
	}
	*ret_kind = k;
	return (int)k;
}

/* ---- config ------------------------------------------------------------- */

static int parse_healthcheck(struct pctx *c, json_t *v, struct kiln_oci_healthcheck *h)
{
	const char *path = "config.Healthcheck";
	int r;
	if (!json_is_object(v))
		return pfail(c, path, "want an object");
	if ((r = get_strv(c, v, path, "Test", NULL_OK, &h->test)) < 0 ||
	    (r = get_int(c, v, path, "Interval", 0, 0, &h->interval)) < 0 ||
	    (r = get_int(c, v, path, "Timeout", 0, 0, &h->timeout)) < 0 ||
	    (r = get_int(c, v, path, "StartPeriod", 0, 0, &h->start_period)) < 0 ||
	    (r = get_int(c, v, path, "StartInterval", 0, 0, &h->start_interval)) < 0 ||
	    (r = get_int(c, v, path, "Retries", 0, 0, &h->retries)) < 0)
		return r;
	return 0;
}

static int parse_runconfig(struct pctx *c, json_t *v, struct kiln_oci_runconfig *rc)
{
	const char *path = "config";
	struct fpath p;
	int r;
	if (!json_is_object(v))
		return pfail(c, path, "want an object");
	/* docker writes null for empty lists and maps; Go reads that as empty */
	if ((r = get_str(c, v, path, "User", 0, &rc->user)) < 0 ||
	    (r = get_set(c, v, path, "ExposedPorts", &rc->exposed_ports)) < 0 ||
	    (r = get_strv(c, v, path, "Env", NULL_OK, &rc->env)) < 0 ||
	    (r = get_strv(c, v, path, "Entrypoint", NULL_OK, &rc->entrypoint)) < 0 ||
	    (r = get_strv(c, v, path, "Cmd", NULL_OK, &rc->cmd)) < 0 ||
	    (r = get_set(c, v, path, "Volumes", &rc->volumes)) < 0 ||
	    (r = get_str(c, v, path, "WorkingDir", 0, &rc->working_dir)) < 0 ||
	    (r = get_map(c, v, path, "Labels", NULL_OK, &rc->labels)) < 0 ||
	    (r = get_str(c, v, path, "StopSignal", 0, &rc->stop_signal)) < 0 ||
	    (r = get_bool(c, v, path, "ArgsEscaped", &rc->args_escaped)) < 0 ||
	    (r = get_strv(c, v, path, "OnBuild", NULL_OK, &rc->on_build)) < 0 ||
	    (r = get_strv(c, v, path, "Shell", NULL_OK, &rc->shell)) < 0)
		return r;
	for (size_t i = 0; i < rc->env.len; i++) {
		const char *e = rc->env.items[i];
		const char *eq = strchr(e, '=');
		if (!eq || eq == e)
			return pfail(c, fp_join(&p, "config.Env", NULL, (long)i),
				     "'%s' is not of the form NAME=value", e);
	}
	json_t *hc = json_object_get(v, "Healthcheck");
	if (hc && !json_is_null(hc)) {
		rc->healthcheck = kiln_calloc(1, sizeof(*rc->healthcheck));
		if (!rc->healthcheck)
			return oom(c);
		if ((r = parse_healthcheck(c, hc, rc->healthcheck)) < 0)
			return r;
	}
	return 0;
}

static int parse_time_field(struct pctx *c, json_t *obj, const char *parent, const char *key,
			    char **out)
{
	struct fpath p;
	int r = get_str(c, obj, parent, key, 0, out);
	if (r <= 0)
		return r;
	int64_t t;
	struct kiln_error terr = KILN_ERROR_INIT;
	if (kiln_oci_time_parse(*out, &t, &terr) < 0) {
		kiln_error_release(&terr);
		return pfail(c, fp_join(&p, parent, key, -1), "'%s' is not an RFC 3339 time",
			     *out);
	}
	return 1;
}

static int parse_history(struct pctx *c, json_t *arr, struct kiln_oci_config *cfg)
{
	struct fpath p;
	if (json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return pfail(c, "history", "want an array");
	size_t n = json_array_size(arr);
	if (n > KILN_OCI_LIST_MAX)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "config history has more than %d entries",
				 KILN_OCI_LIST_MAX);
	if (n) {
		cfg->history = kiln_calloc(n, sizeof(*cfg->history));
		if (!cfg->history)
			return oom(c);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(arr, i);
		const char *path = fp_join(&p, "history", NULL, (long)i);
		struct kiln_oci_history *e = &cfg->history[i];
		cfg->n_history = i + 1;
		int r;
		if (!json_is_object(h))
			return pfail(c, path, "want an object");
		if ((r = parse_time_field(c, h, path, "created", &e->created)) < 0 ||
		    (r = get_str(c, h, path, "created_by", 0, &e->created_by)) < 0 ||
		    (r = get_str(c, h, path, "author", 0, &e->author)) < 0 ||
		    (r = get_str(c, h, path, "comment", 0, &e->comment)) < 0 ||
		    (r = get_bool(c, h, path, "empty_layer", &e->empty_layer)) < 0)
			return r;
	}
	return 0;
}

static int parse_rootfs(struct pctx *c, json_t *j, struct kiln_oci_config *cfg)
{
	struct fpath p;
	json_t *rf = json_object_get(j, "rootfs");
	if (!rf)
		return pfail(c, "rootfs", "missing");
	if (!json_is_object(rf))
		return pfail(c, "rootfs", "want an object");
	cleanup_free char *type = NULL;
	int r = get_str(c, rf, "rootfs", "type", 1, &type);
	if (r < 0)
		return r;
	if (strcmp(type, "layers") != 0)
		return pfail(c, "rootfs.type", "want \"layers\", not '%s'", type);
	json_t *ids = json_object_get(rf, "diff_ids");
	if (!ids)
		return pfail(c, "rootfs.diff_ids", "missing");
	if (json_is_null(ids))
		return 0; /* BuildKit writes null for an image without layers */
	if (!json_is_array(ids))
		return pfail(c, "rootfs.diff_ids", "want an array of digests");
	size_t n = json_array_size(ids);
	if (n > KILN_OCI_LAYERS_MAX)
		return kiln_fail(c->err, KILN_ELIMIT, 0, "config has more than %d layers",
				 KILN_OCI_LAYERS_MAX);
	if (n) {
		cfg->diff_ids = kiln_calloc(n, sizeof(*cfg->diff_ids));
		if (!cfg->diff_ids)
			return oom(c);
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(ids, i);
		const char *path = fp_join(&p, "rootfs.diff_ids", NULL, (long)i);
		if (!json_is_string(e))
			return pfail(c, path, "want a digest string");
		const char *s = json_string_value(e);
		struct kiln_error derr = KILN_ERROR_INIT;
		if (kiln_oci_digest_validate(s, &derr) < 0) {
			r = pfail(c, path, "%s", derr.msg ? derr.msg : "invalid digest");
			kiln_error_release(&derr);
			return r;
		}
		if (kiln_digest_parse(s, &cfg->diff_ids[i], NULL) < 0)
			return kiln_fail(c->err, KILN_EUNSUPP, 0,
					 "config: %s: unsupported digest '%s': kiln handles sha256 "
					 "layers only",
					 path, s);
		cfg->n_diff_ids = i + 1;
	}
	return 0;
}

int kiln_oci_config_parse(const char *json, size_t len, struct kiln_oci_config **ret,
			  struct kiln_error *err)
{
	struct pctx c = { "image config", err };
	cleanup(json_decrefp) json_t *j = NULL;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	int r = load(&c, json, len, KILN_OCI_CONFIG_MAX, &j);
	if (r < 0)
		return r;
	cfg = kiln_calloc(1, sizeof(*cfg));
	if (!cfg)
		return oom(&c);
	struct kiln_oci_platform *pl = &cfg->platform;
	if ((r = parse_time_field(&c, j, "", "created", &cfg->created)) < 0 ||
	    (r = get_str(&c, j, "", "author", 0, &cfg->author)) < 0 ||
	    (r = get_str(&c, j, "", "architecture", 1, &pl->architecture)) < 0 ||
	    (r = get_str(&c, j, "", "os", 1, &pl->os)) < 0 ||
	    (r = get_str(&c, j, "", "os.version", 0, &pl->os_version)) < 0 ||
	    (r = get_strv(&c, j, "", "os.features", 0, &pl->os_features)) < 0 ||
	    (r = get_str(&c, j, "", "variant", 0, &pl->variant)) < 0)
		return r;
	json_t *rc = json_object_get(j, "config");
	if (rc && !json_is_null(rc)) {
		if ((r = parse_runconfig(&c, rc, &cfg->config)) < 0)
			return r;
		cfg->has_config = 1;
	}
	if ((r = parse_rootfs(&c, j, cfg)) < 0)
		return r;
	json_t *h = json_object_get(j, "history");
	if (h && (r = parse_history(&c, h, cfg)) < 0)
		return r;
	*ret = steal_ptr(&cfg);
	return 0;
}
