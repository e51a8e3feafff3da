/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building and writing OCI / docker image documents. Field order follows
 * the Go structs of image-spec (and moby's dockerspec extensions) because
 * that is the byte layout every other tool produces for the same content.
 */
#include "store/oci.h"

#include <string.h>

#include "base/alloc.h"
#include "store/json-writer.h"

/* ---- lifecycle -------------------------------------------------------- */

static void descriptors_free(struct kiln_oci_descriptor *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kiln_oci_descriptor_release(&d[i]);
	free(d);
}

static void subject_free(struct kiln_oci_descriptor *s)
{
	if (s) {
		kiln_oci_descriptor_release(s);
		free(s);
	}
}

void kiln_oci_manifest_free(struct kiln_oci_manifest *m)
{
	if (!m)
		return;
	free(m->media_type);
	free(m->artifact_type);
	kiln_oci_descriptor_release(&m->config);
	descriptors_free(m->layers, m->n_layers);
	subject_free(m->subject);
	kiln_oci_map_release(&m->annotations);
	free(m);
}

void kiln_oci_index_free(struct kiln_oci_index *x)
{
	if (!x)
		return;
	free(x->media_type);
	free(x->artifact_type);
	descriptors_free(x->manifests, x->n_manifests);
	subject_free(x->subject);
	kiln_oci_map_release(&x->annotations);
	free(x);
}

void kiln_oci_history_release(struct kiln_oci_history *h)
{
	free(h->created);
	free(h->created_by);
	free(h->author);
	free(h->comment);
	memset(h, 0, sizeof(*h));
}

void kiln_oci_runconfig_release(struct kiln_oci_runconfig *c)
{
	free(c->user);
	kiln_strv_release(&c->exposed_ports);
	kiln_strv_release(&c->env);
	kiln_strv_release(&c->entrypoint);
	kiln_strv_release(&c->cmd);
	kiln_strv_release(&c->volumes);
	free(c->working_dir);
	kiln_oci_map_release(&c->labels);
	free(c->stop_signal);
	if (c->healthcheck) {
		kiln_strv_release(&c->healthcheck->test);
		free(c->healthcheck);
	}
	kiln_strv_release(&c->on_build);
	kiln_strv_release(&c->shell);
	memset(c, 0, sizeof(*c));
}

void kiln_oci_config_free(struct kiln_oci_config *c)
{
	if (!c)
		return;
	free(c->created);
	free(c->author);
	kiln_oci_platform_release(&c->platform);
	kiln_oci_runconfig_release(&c->config);
	free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++)
		kiln_oci_history_release(&c->history[i]);
	free(c->history);
	free(c);
}

int kiln_oci_manifest_new(struct kiln_oci_manifest **ret, struct kiln_error *err)
{
	struct kiln_oci_manifest *m = kiln_calloc(1, sizeof(*m));
	if (!m)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	m->schema_version = 2;
	*ret = m;
	return 0;
}

int kiln_oci_index_new(struct kiln_oci_index **ret, struct kiln_error *err)
{
	struct kiln_oci_index *x = kiln_calloc(1, sizeof(*x));
	if (!x)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	x->schema_version = 2;
	*ret = x;
	return 0;
}

int kiln_oci_config_new(struct kiln_oci_config **ret, struct kiln_error *err)
{
	struct kiln_oci_config *c = kiln_calloc(1, sizeof(*c));
	if (!c)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->has_config = 1;
	*ret = c;
	return 0;
}

static int append_descriptor(struct kiln_oci_descriptor **arr, size_t *n, size_t max,
			     const struct kiln_oci_descriptor *d, struct kiln_error *err)
{
	if (*n >= max)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %zu entries", max);
	struct kiln_oci_descriptor *p = kiln_reallocarray(*arr, *n + 1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*arr = p;
	int r = kiln_oci_descriptor_copy(&p[*n], d, err);
	if (r < 0)
		return r;
	(*n)++;
	return 0;
}

int kiln_oci_manifest_add_layer(struct kiln_oci_manifest *m, const struct kiln_oci_descriptor *d,
				struct kiln_error *err)
{
	return append_descriptor(&m->layers, &m->n_layers, KILN_OCI_LAYERS_MAX, d, err);
}

int kiln_oci_index_add(struct kiln_oci_index *x, const struct kiln_oci_descriptor *d,
		       struct kiln_error *err)
{
	return append_descriptor(&x->manifests, &x->n_manifests, KILN_OCI_MANIFESTS_MAX, d, err);
}

int kiln_oci_config_add_diff_id(struct kiln_oci_config *c, const struct kiln_digest *diff_id,
				struct kiln_error *err)
{
	if (c->n_diff_ids >= KILN_OCI_LAYERS_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d layers", KILN_OCI_LAYERS_MAX);
	struct kiln_digest *p = kiln_reallocarray(c->diff_ids, c->n_diff_ids + 1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->diff_ids = p;
	p[c->n_diff_ids++] = *diff_id;
	return 0;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = kiln_strdup(src);
	return *dst ? 0 : -1;
}

static int history_copy(struct kiln_oci_history *dst, const struct kiln_oci_history *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->empty_layer = src->empty_layer;
	if (dup_opt(&dst->created, src->created) < 0 ||
	    dup_opt(&dst->created_by, src->created_by) < 0 ||
	    dup_opt(&dst->author, src->author) < 0 || dup_opt(&dst->comment, src->comment) < 0) {
		kiln_oci_history_release(dst);
		return -1;
	}
	return 0;
}

int kiln_oci_config_add_history(struct kiln_oci_config *c, const struct kiln_oci_history *h,
				struct kiln_error *err)
{
	if (c->n_history >= KILN_OCI_LIST_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d history entries",
				 KILN_OCI_LIST_MAX);
	struct kiln_oci_history *p = kiln_reallocarray(c->history, c->n_history + 1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->history = p;
	if (history_copy(&p[c->n_history], h) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->n_history++;
	return 0;
}

static int runconfig_copy(struct kiln_oci_runconfig *dst, const struct kiln_oci_runconfig *src,
			  struct kiln_error *err)
{
	memset(dst, 0, sizeof(*dst));
	dst->args_escaped = src->args_escaped;
	if (dup_opt(&dst->user, src->user) < 0 ||
	    kiln_strv_copy(&dst->exposed_ports, &src->exposed_ports) < 0 ||
	    kiln_strv_copy(&dst->env, &src->env) < 0 ||
	    kiln_strv_copy(&dst->entrypoint, &src->entrypoint) < 0 ||
	    kiln_strv_copy(&dst->cmd, &src->cmd) < 0 ||
	    kiln_strv_copy(&dst->volumes, &src->volumes) < 0 ||
	    dup_opt(&dst->working_dir, src->working_dir) < 0 ||
	    dup_opt(&dst->stop_signal, src->stop_signal) < 0 ||
	    kiln_strv_copy(&dst->on_build, &src->on_build) < 0 ||
	    kiln_strv_copy(&dst->shell, &src->shell) < 0)
		goto oom;
	if (kiln_oci_map_copy(&dst->labels, &src->labels, err) < 0) {
		kiln_oci_runconfig_release(dst);
		return -KILN_ENOMEM;
	}
	if (src->healthcheck) {
		dst->healthcheck = kiln_calloc(1, sizeof(*dst->healthcheck));
		if (!dst->healthcheck)
			goto oom;
		struct kiln_strv test = KILN_STRV_INIT;
		*dst->healthcheck = *src->healthcheck;
		dst->healthcheck->test = test;
		if (kiln_strv_copy(&dst->healthcheck->test, &src->healthcheck->test) < 0)
			goto oom;
	}
	return 0;
oom:
	kiln_oci_runconfig_release(dst);
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

int kiln_oci_config_copy(const struct kiln_oci_config *src, struct kiln_oci_config **ret,
			 struct kiln_error *err)
{
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = kiln_calloc(1, sizeof(*c));
	if (!c)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	c->has_config = src->has_config;
	if (dup_opt(&c->created, src->created) < 0 || dup_opt(&c->author, src->author) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_oci_platform_copy(&c->platform, &src->platform, err);
	if (r < 0)
		return r;
	r = runconfig_copy(&c->config, &src->config, err);
	if (r < 0)
		return r;
	if (src->n_diff_ids) {
		c->diff_ids = kiln_memdup(src->diff_ids, src->n_diff_ids * sizeof(*src->diff_ids));
		if (!c->diff_ids)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		c->n_diff_ids = src->n_diff_ids;
	}
	for (size_t i = 0; i < src->n_history; i++)
		if ((r = kiln_oci_config_add_history(c, &src->history[i], err)) < 0)
			return r;
	*ret = steal_ptr(&c);
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

static int check_descriptor(const struct kiln_oci_descriptor *d, const char *what,
			    struct kiln_error *err)
{
	if (!kiln_mt_valid(d->media_type))
		return kiln_fail(err, KILN_EINVAL, 0, "%s: invalid media type '%s'", what,
				 d->media_type ? d->media_type : "");
	if (!d->digest || kiln_oci_digest_validate(d->digest, NULL) < 0)
		return kiln_fail(err, KILN_EINVAL, 0, "%s: invalid digest '%s'", what,
				 d->digest ? d->digest : "");
	if (d->size < 0)
		return kiln_fail(err, KILN_EINVAL, 0, "%s: negative size", what);
	if (d->artifact_type && !kiln_mt_valid(d->artifact_type))
		return kiln_fail(err, KILN_EINVAL, 0, "%s: invalid artifact type '%s'", what,
				 d->artifact_type);
	if (d->platform && (!d->platform->os || !d->platform->architecture))
		return kiln_fail(err, KILN_EINVAL, 0, "%s: platform without os or architecture",
				 what);
	return 0;
}

static void write_strv(struct kiln_jw *w, const struct kiln_strv *v)
{
	kiln_jw_arr_open(w);
	for (size_t i = 0; i < v->len; i++)
		kiln_jw_str(w, v->items[i]);
	kiln_jw_arr_close(w);
}

static void write_map(struct kiln_jw *w, const struct kiln_oci_map *m)
{
	kiln_jw_obj_open(w);
	for (size_t i = 0; i < m->len; i++)
		kiln_jw_kstr(w, m->items[i].key, m->items[i].value);
	kiln_jw_obj_close(w);
}

/* An object whose keys are the set's members and values {} (Go's map[string]struct{}). */
static void write_set(struct kiln_jw *w, const struct kiln_strv *v)
{
	kiln_jw_obj_open(w);
	for (size_t i = 0; i < v->len; i++) {
		/* keep Go's sorted-keys output even if the caller did not sort */
		if (i > 0 && strcmp(v->items[i - 1], v->items[i]) >= 0)
			w->failed = w->failed ? w->failed : -KILN_EINVAL;
		kiln_jw_key(w, v->items[i]);
		kiln_jw_obj_open(w);
		kiln_jw_obj_close(w);
	}
	kiln_jw_obj_close(w);
}

static void write_platform(struct kiln_jw *w, const struct kiln_oci_platform *p)
{
	kiln_jw_obj_open(w);
	kiln_jw_kstr(w, "architecture", p->architecture);
	kiln_jw_kstr(w, "os", p->os);
	kiln_jw_kstr_omitempty(w, "os.version", p->os_version);
	if (p->os_features.len) {
		kiln_jw_key(w, "os.features");
		write_strv(w, &p->os_features);
	}
	kiln_jw_kstr_omitempty(w, "variant", p->variant);
	kiln_jw_obj_close(w);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void write_base64(struct kiln_jw *w, const uint8_t *d, size_t n)
{
	size_t out_len = (n + 2) / 3 * 4;
	char *s = kiln_malloc(out_len + 1);
	if (!s) {
		w->failed = w->failed ? w->failed : -KILN_ENOMEM;
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t x = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			x |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			x |= d[i + 2];
		s[o++] = b64chars[x >> 18 & 63];
		s[o++] = b64chars[x >> 12 & 63];
		s[o++] = i + 1 < n ? b64chars[x >> 6 & 63] : '=';
		s[o++] = i + 2 < n ? b64chars[x & 63] : '=';
	}
	kiln_jw_strn(w, s, o);
	free(s);
}

static void write_descriptor(struct kiln_jw *w, const struct kiln_oci_descriptor *d)
{
	kiln_jw_obj_open(w);
	kiln_jw_kstr(w, "mediaType", d->media_type);
	kiln_jw_kstr(w, "digest", d->digest);
	kiln_jw_kint(w, "size", d->size);
	if (d->urls.len) {
		kiln_jw_key(w, "urls");
		write_strv(w, &d->urls);
	}
	if (d->annotations.len) {
		kiln_jw_key(w, "annotations");
		write_map(w, &d->annotations);
	}
	if (d->has_data && d->data_len) {
		kiln_jw_key(w, "data");
		write_base64(w, d->data, d->data_len);
	}
	if (d->platform) {
		kiln_jw_key(w, "platform");
		write_platform(w, d->platform);
	}
	kiln_jw_kstr_omitempty(w, "artifactType", d->artifact_type);
	kiln_jw_obj_close(w);
}

static int finish(struct kiln_jw *w, char **ret, size_t *ret_len, struct kiln_error *err)
{
	if (w->failed == -KILN_EINVAL) {
		kiln_jw_release(w);
		return kiln_fail(err, KILN_EINVAL, 0, "set members are not sorted and unique");
	}
	int r = kiln_jw_finish(w, ret, ret_len, err);
	kiln_jw_release(w);
	return r;
}

int kiln_oci_descriptor_to_json(const struct kiln_oci_descriptor *d, char **ret,
				size_t *ret_len, struct kiln_error *err)
{
	int r = check_descriptor(d, "descriptor", err);
	if (r < 0)
		return r;
	struct kiln_jw w;
	kiln_jw_init(&w);
	write_descriptor(&w, d);
	return finish(&w, ret, ret_len, err);
}

int kiln_oci_manifest_to_json(const struct kiln_oci_manifest *m, unsigned flags, char **ret,
			      size_t *ret_len, struct kiln_error *err)
{
	int r;
	if ((r = check_descriptor(&m->config, "manifest config", err)) < 0)
		return r;
	for (size_t i = 0; i < m->n_layers; i++)
		if ((r = check_descriptor(&m->layers[i], "manifest layer", err)) < 0)
			return r;
	if (m->subject && (r = check_descriptor(m->subject, "manifest subject", err)) < 0)
		return r;
	if (m->media_type && !kiln_mt_valid(m->media_type))
		return kiln_fail(err, KILN_EINVAL, 0, "manifest: invalid media type '%s'",
				 m->media_type);
	int docker = m->media_type && strcmp(m->media_type, KILN_MT_DOCKER_MANIFEST) == 0;
	if (m->n_layers == 0 && !docker)
		return kiln_fail(err, KILN_EINVAL, 0, "an OCI image manifest needs a layer");
	struct kiln_jw w;
	kiln_jw_init_indent(&w, (flags & KILN_OCI_JSON_COMPACT) ? 0 : 3);
	kiln_jw_obj_open(&w);
	kiln_jw_kint(&w, "schemaVersion", 2);
	kiln_jw_kstr_omitempty(&w, "mediaType", m->media_type);
	kiln_jw_kstr_omitempty(&w, "artifactType", m->artifact_type);
	kiln_jw_key(&w, "config");
	write_descriptor(&w, &m->config);
	kiln_jw_key(&w, "layers");
	kiln_jw_arr_open(&w);
	for (size_t i = 0; i < m->n_layers; i++)
		write_descriptor(&w, &m->layers[i]);
	kiln_jw_arr_close(&w);
	if (m->subject) {
		kiln_jw_key(&w, "subject");
		write_descriptor(&w, m->subject);
	}
	if (m->annotations.len) {
		kiln_jw_key(&w, "annotations");
		write_map(&w, &m->annotations);
	}
	kiln_jw_obj_close(&w);
	return finish(&w, ret, ret_len, err);
}

int kiln_oci_index_to_json(const struct kiln_oci_index *x, unsigned flags, char **ret,
			   size_t *ret_len, struct kiln_error *err)
{
	int r;
	for (size_t i = 0; i < x->n_manifests; i++)
		if ((r = check_descriptor(&x->manifests[i], "index entry", err)) < 0)
			return r;
	if (x->subject && (r = check_descriptor(x->subject, "index subject", err)) < 0)
		return r;
	if (x->media_type && !kiln_mt_valid(x->media_type))
		return kiln_fail(err, KILN_EINVAL, 0, "index: invalid media type '%s'",
				 x->media_type);
	struct kiln_jw w;
	kiln_jw_init_indent(&w, (flags & KILN_OCI_JSON_COMPACT) ? 0 : 3);
	kiln_jw_obj_open(&w);
	kiln_jw_kint(&w, "schemaVersion", 2);
	kiln_jw_kstr_omitempty(&w, "mediaType", x->media_type);
	kiln_jw_kstr_omitempty(&w, "artifactType", x->artifact_type);
	kiln_jw_key(&w, "manifests");
	kiln_jw_arr_open(&w);
	for (size_t i = 0; i < x->n_manifests; i++)
		write_descriptor(&w, &x->manifests[i]);
	kiln_jw_arr_close(&w);
	if (x->subject) {
		kiln_jw_key(&w, "subject");
		write_descriptor(&w, x->subject);
	}
	if (x->annotations.len) {
		kiln_jw_key(&w, "annotations");
		write_map(&w, &x->annotations);
	}
	kiln_jw_obj_close(&w);
	return finish(&w, ret, ret_len, err);
}

static void write_healthcheck(struct kiln_jw *w, const struct kiln_oci_healthcheck *h)
{
	kiln_jw_obj_open(w);
	if (h->test.len) {
		kiln_jw_key(w, "Test");
		write_strv(w, &h->test);
	}
	kiln_jw_kint_omitempty(w, "Interval", h->interval);
	kiln_jw_kint_omitempty(w, "Timeout", h->timeout);
	kiln_jw_kint_omitempty(w, "StartPeriod", h->start_period);
	kiln_jw_kint_omitempty(w, "StartInterval", h->start_interval);
	kiln_jw_kint_omitempty(w, "Retries", h->retries);
	kiln_jw_obj_close(w);
}

/* dockerspec.DockerOCIImageConfig: ocispec ImageConfig + Healthcheck, OnBuild, Shell */
static void write_runconfig(struct kiln_jw *w, const struct kiln_oci_runconfig *c)
{
	kiln_jw_obj_open(w);
	kiln_jw_kstr_omitempty(w, "User", c->user);
	if (c->exposed_ports.len) {
		kiln_jw_key(w, "ExposedPorts");
		write_set(w, &c->exposed_ports);
	}
	if (c->env.len) {
		kiln_jw_key(w, "Env");
		write_strv(w, &c->env);
	}
	if (c->entrypoint.len) {
		kiln_jw_key(w, "Entrypoint");
		write_strv(w, &c->entrypoint);
	}
	if (c->cmd.len) {
		kiln_jw_key(w, "Cmd");
		write_strv(w, &c->cmd);
	}
	if (c->volumes.len) {
		kiln_jw_key(w, "Volumes");
		write_set(w, &c->volumes);
	}
	kiln_jw_kstr_omitempty(w, "WorkingDir", c->working_dir);
	if (c->labels.len) {
		kiln_jw_key(w, "Labels");
		write_map(w, &c->labels);
	}
	kiln_jw_kstr_omitempty(w, "StopSignal", c->stop_signal);
	kiln_jw_kbool_omitempty(w, "ArgsEscaped", c->args_escaped);
	if (c->healthcheck) {
		kiln_jw_key(w, "Healthcheck");
		write_healthcheck(w, c->healthcheck);
	}
	if (c->on_build.len) {
		kiln_jw_key(w, "OnBuild");
		write_strv(w, &c->on_build);
	}
	if (c->shell.len) {
		kiln_jw_key(w, "Shell");
		write_strv(w, &c->shell);
	}
	kiln_jw_obj_close(w);
}

int kiln_oci_config_to_json(const struct kiln_oci_config *c, char **ret, size_t *ret_len,
			    struct kiln_error *err)
{
	const struct kiln_oci_platform *p = &c->platform;
	if (!p->architecture || !p->os)
		return kiln_fail(err, KILN_EINVAL, 0, "image config needs an os and architecture");
	int64_t t;
	if (c->created && kiln_oci_time_parse(c->created, &t, err) < 0)
		return -KILN_EINVAL;
	for (size_t i = 0; i < c->n_history; i++)
		if (c->history[i].created && kiln_oci_time_parse(c->history[i].created, &t, err) < 0)
			return -KILN_EINVAL;
	for (size_t i = 0; i < c->config.env.len; i++) {
		const char *e = c->config.env.items[i];
		if (e[0] == '=' || !strchr(e, '='))
			return kiln_fail(err, KILN_EINVAL, 0, "Env entry '%s' is not NAME=value", e);
	}
	struct kiln_jw w;
	kiln_jw_init(&w);
	/* BuildKit re-marshals the config as a map: top-level keys sorted */
	kiln_jw_obj_open(&w);
	kiln_jw_kstr(&w, "architecture", p->architecture);
	kiln_jw_kstr_omitempty(&w, "author", c->author);
	kiln_jw_key(&w, "config");
	write_runconfig(&w, &c->config);
	kiln_jw_kstr_omitempty(&w, "created", c->created);
	if (c->n_history) {
		kiln_jw_key(&w, "history");
		kiln_jw_arr_open(&w);
		for (size_t i = 0; i < c->n_history; i++) {
			const struct kiln_oci_history *h = &c->history[i];
			kiln_jw_obj_open(&w);
			kiln_jw_kstr_omitempty(&w, "created", h->created);
			kiln_jw_kstr_omitempty(&w, "created_by", h->created_by);
			kiln_jw_kstr_omitempty(&w, "author", h->author);
			kiln_jw_kstr_omitempty(&w, "comment", h->comment);
			kiln_jw_kbool_omitempty(&w, "empty_layer", h->empty_layer);
			kiln_jw_obj_close(&w);
		}
		kiln_jw_arr_close(&w);
	}
	kiln_jw_kstr(&w, "os", p->os);
	if (p->os_features.len) {
		kiln_jw_key(&w, "os.features");
		write_strv(&w, &p->os_features);
	}
	kiln_jw_kstr_omitempty(&w, "os.version", p->os_version);
	kiln_jw_key(&w, "rootfs");
	kiln_jw_obj_open(&w);
	kiln_jw_kstr(&w, "type", "layers");
	kiln_jw_key(&w, "diff_ids");
	kiln_jw_arr_open(&w);
	for (size_t i = 0; i < c->n_diff_ids; i++)
		kiln_jw_str(&w, c->diff_ids[i].str);
	kiln_jw_arr_close(&w);
	kiln_jw_obj_close(&w);
	kiln_jw_kstr_omitempty(&w, "variant", p->variant);
	kiln_jw_obj_close(&w);
	return finish(&w, ret, ret_len, err);
}
