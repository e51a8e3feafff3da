/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named build contexts (--build-context NAME=VALUE) and a main context from
 * a git repository or a URL, as BuildKit's Dockerfile frontend and buildx
 * have them:
 *
 *   - NAME is matched against image references by their familiar name
 *     without ":latest" (`alpine`, `alpine:3.19`, `ghcr.io/x/y`), and
 *     against stage names; `NAME::linux/arm64` applies to that platform
 *     only, and wins over NAME;
 *   - docker-image://REF is the image REF (pinned by a digest or not);
 *     docker-image://scratch is the empty image;
 *   - oci-layout://DIR[:TAG][@sha256:...] the image of a local OCI layout,
 *     by digest, else by tag (default latest);
 *   - a directory (behind its own .dockerignore), a git repository, or what
 *     an https URL downloads is a one-layer image of those files with an
 *     empty config, the way BuildKit bases a stage on a local context. The
 *     layer is keyed by the files' content (never times) and cached like a
 *     step's, so an unchanged directory is not copied again.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "build/contexts.h"
#include "ref/ref.h"

#define LAYOUT_REF_NAME "org.opencontainers.image.ref.name"

enum ctx_kind {
	CTX_IMAGE,   /* docker-image://REF */
	CTX_SCRATCH, /* docker-image://scratch */
	CTX_LAYOUT,  /* oci-layout://DIR[:TAG][@DIGEST] */
	CTX_DIR,     /* a local directory */
	CTX_GIT,     /* a git repository */
	CTX_URL,     /* an http(s) URL: the file it downloads */
};

struct bb_context {
	char *name;	/* normalized: the familiar name without ":latest" */
	char *platform; /* NAME::PLATFORM: "linux/arm64"; NULL: every platform */
	enum ctx_kind kind;
	char *value; /* the reference, the directory, the URL */
	char *tag;   /* oci-layout: the tag when no digest */
	char *digest;
	char *shown; /* NAME=VALUE as given, for messages */
};

struct bb_contexts {
	struct bb_context *v;
	size_t n;
	char *main_dockerfile; /* a main context URL that was a Dockerfile */
};

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* A reference that does not parse is a bad option value (a usage error). */
static int usage_code(struct kiln_error *err, int rc)
{
	if (rc != -KILN_EPARSE)
		return rc;
	if (err)
		err->code = KILN_EINVAL;
	return -KILN_EINVAL;
}

/* BuildKit's key for a name: reference.FamiliarString without ":latest". */
static int norm_name(const char *name, char **ret, struct kiln_error *err)
{
	cleanup(kiln_ref_freep) struct kiln_ref *r = NULL;
	int rc = kiln_ref_parse(name, 0, &r, err);
	if (rc < 0)
		return kiln_error_prefix(err, usage_code(err, rc), "invalid context name %s", name);
	char *s = kiln_ref_familiar_string(r);
	if (!s)
		return oom(err);
	size_t n = strlen(s);
	if (n > 7 && !strcmp(s + n - 7, ":latest"))
		s[n - 7] = '\0';
	*ret = s;
	return 0;
}

static int has_scheme(const char *v)
{
	const char *p = strstr(v, "://");
	return p && p > v && strspn(v, "abcdefghijklmnopqrstuvwxyz-+.") == (size_t) (p - v);
}

/* The kind of a value, checked for what can be checked without I/O. */
static int classify(const char *value, struct bb_context *c, struct kiln_error *err)
{
	if (!strncmp(value, "docker-image://", 15)) {
		const char *ref = value + 15;
		if (!strcmp(ref, "scratch")) {
			c->kind = CTX_SCRATCH;
			return 0;
		}
		cleanup(kiln_ref_freep) struct kiln_ref *r = NULL;
		int rc = kiln_ref_parse(ref, 0, &r, err);
		if (rc < 0)
			return kiln_error_prefix(err, usage_code(err, rc), "docker-image://%s",
						 ref);
		c->kind = CTX_IMAGE;
		c->value = kiln_strdup(ref);
		return c->value ? 0 : oom(err);
	}
	if (!strncmp(value, "oci-layout://", 13)) {
		/* DIR[:TAG][@DIGEST], the tag after the last path element */
		const char *spec = value + 13;
		const char *at = strrchr(spec, '@');
		size_t end = at ? (size_t) (at - spec) : strlen(spec);
		const char *slash = memrchr(spec, '/', end);
		const char *colon = memchr(slash ? slash : spec, ':',
					   end - (size_t) ((slash ? slash : spec) - spec));
		size_t dl = colon ? (size_t) (colon - spec) : end;
		if (!dl)
			return kiln_fail(err, KILN_EINVAL, 0, "%s: no layout directory", value);
		c->kind = CTX_LAYOUT;
		c->value = kiln_strndup(spec, dl);
		if (!c->value)
			return oom(err);
		if (at) {
			struct kiln_digest d;
			int r = kiln_digest_parse(at + 1, &d, err);
			if (r < 0)
				return kiln_error_prefix(err, r, "%s", value);
			if (!(c->digest = kiln_strdup(d.str)))
				return oom(err);
		}
		if (colon) {
			c->tag = kiln_strndup(colon + 1, end - dl - 1);
			if (!c->tag)
				return oom(err);
			if (!kiln_ref_tag_valid(c->tag))
				return kiln_fail(err, KILN_EINVAL, 0, "%s: invalid tag \"%s\"",
						 value, c->tag);
		}
		return 0;
	}
	if (bb_is_git(value) || bb_is_url(value)) {
		c->kind = bb_is_git(value) ? CTX_GIT : CTX_URL;
		c->value = kiln_strdup(value);
		return c->value ? 0 : oom(err);
	}
	if (!strncmp(value, "target:", 7))
		return kiln_fail(err, KILN_EINVAL, 0,
				 "%s: target: contexts name a bake target; kiln builds one "
				 "Dockerfile (build the target first, then use docker-image://)",
				 value);
	if (has_scheme(value))
		return kiln_fail(err, KILN_EINVAL, 0,
				 "%s: unsupported context source (a directory, docker-image://, "
				 "oci-layout://, a git URL or an https URL)",
				 value);
	c->kind = CTX_DIR;
	c->value = kiln_strdup(value);
	return c->value ? 0 : oom(err);
}

static void context_release(struct bb_context *c)
{
	free(c->name);
	free(c->platform);
	free(c->value);
	free(c->tag);
	free(c->digest);
	free(c->shown);
	memset(c, 0, sizeof(*c));
}

/* NAME[::PLATFORM]=VALUE into `c` (name normalized, platform formatted). */
static int parse(const char *spec, struct bb_context *c, struct kiln_error *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return kiln_fail(err, KILN_EINVAL, 0, "--build-context needs NAME=VALUE, not '%s'",
				 spec);
	cleanup_free char *name = kiln_strndup(spec, (size_t) (eq - spec));
	if (!name)
		return oom(err);
	char *pl = strstr(name, "::");
	int r;
	if (pl) {
		*pl = '\0';
		struct kiln_df_platform p = { 0 };
		if ((r = kiln_df_platform_parse(pl + 2, &p, err)) < 0)
			return kiln_error_prefix(err, r, "--build-context %s", spec);
		c->platform = kiln_df_platform_format(&p);
		kiln_df_platform_release(&p);
		if (!c->platform)
			return oom(err);
	}
	if ((r = norm_name(name, &c->name, err)) < 0)
		return r;
	c->shown = kiln_strdup(spec);
	if (!c->shown)
		return oom(err);
	if ((r = classify(eq + 1, c, err)) < 0)
		return kiln_error_prefix(err, r, "--build-context %s", name);
	return 0;
}

int kiln_build_context_parse(const char *spec, struct kiln_build_context *ret,
			     struct kiln_error *err)
{
	struct bb_context c = { 0 };
	int r = parse(spec, &c, err);
	context_release(&c);
	if (r < 0)
		return r;
	const char *eq = strchr(spec, '=');
	ret->name = kiln_strndup(spec, (size_t) (eq - spec));
	ret->value = kiln_strdup(eq + 1);
	if (!ret->name || !ret->value) {
		kiln_build_context_release(ret);
		return oom(err);
	}
	return 0;
}

void kiln_build_context_release(struct kiln_build_context *c)
{
	free(c->name);
	free(c->value);
	c->name = c->value = NULL;
}

int bb_contexts_open(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	if (!o->n_contexts)
		return 0;
	if (o->n_contexts > KILN_BUILD_MAX_CONTEXTS)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d --build-context",
				 KILN_BUILD_MAX_CONTEXTS);
	struct bb_contexts *cs = kiln_calloc(1, sizeof(*cs));
	if (!cs)
		return oom(err);
	b->named = cs;
	cs->v = kiln_calloc(o->n_contexts, sizeof(*cs->v));
	if (!cs->v)
		return oom(err);
	for (size_t i = 0; i < o->n_contexts; i++) {
		const struct kiln_build_context *bc = &o->contexts[i];
		cleanup_free char *spec = kiln_asprintf("%s=%s", bc->name, bc->value);
		if (!spec)
			return oom(err);
		struct bb_context *c = &cs->v[cs->n];
		int r = parse(spec, c, err);
		cs->n++;
		if (r < 0)
			return r;
		for (size_t k = 0; k + 1 < cs->n; k++)
			if (!strcmp(cs->v[k].name, c->name) &&
			    !strcmp(cs->v[k].platform ? cs->v[k].platform : "",
				    c->platform ? c->platform : ""))
				return kiln_fail(err, KILN_EINVAL, 0,
						 "--build-context %s is given twice", bc->name);
		if (c->kind != CTX_DIR && c->kind != CTX_LAYOUT)
			continue;
		/* local paths: there, and what they claim to be, before any work */
		char real[PATH_MAX];
		struct stat st;
		if (!realpath(c->value, real) || stat(real, &st) < 0)
			return kiln_fail(err, KILN_ENOTFOUND, errno, "--build-context %s: %s",
					 bc->name, c->value);
		if (!S_ISDIR(st.st_mode))
			return kiln_fail(err, KILN_EINVAL, 0,
					 "--build-context %s: %s is not a directory", bc->name,
					 c->value);
		if (c->kind == CTX_LAYOUT) {
			cleanup_free char *lf = kiln_asprintf("%s/oci-layout", real);
			if (!lf)
				return oom(err);
			if (access(lf, R_OK) < 0)
				return kiln_fail(err, KILN_EINVAL, 0,
						 "--build-context %s: %s is not an OCI layout (no "
						 "oci-layout file)",
						 bc->name, c->value);
		}
		free(c->value);
		if (!(c->value = kiln_strdup(real)))
			return oom(err);
	}
	return 0;
}

void bb_contexts_close(struct bb *b)
{
	struct bb_contexts *cs = b->named;
	if (!cs)
		return;
	for (size_t i = 0; i < cs->n; i++)
		context_release(&cs->v[i]);
	free(cs->v);
	free(cs->main_dockerfile);
	free(cs);
	b->named = NULL;
}

const struct bb_context *bb_context_find(struct bb *b, const char *ref, const char *platform)
{
	struct bb_contexts *cs = b->named;
	if (!cs || !cs->n)
		return NULL;
	char *name = NULL;
	if (norm_name(ref, &name, NULL) < 0)
		return NULL;
	const struct bb_context *any = NULL, *exact = NULL;
	for (size_t i = 0; i < cs->n; i++) {
		const struct bb_context *c = &cs->v[i];
		if (strcmp(c->name, name))
			continue;
		if (!c->platform)
			any = c;
		else if (platform && !strcmp(c->platform, platform))
			exact = c;
	}
	free(name);
	return exact ? exact : any;
}

const char *bb_context_image_ref(const struct bb_context *c)
{
	return c->kind == CTX_IMAGE ? c->value : NULL;
}

int bb_context_stage_hook(void *userdata, const char *name, struct kiln_error *err)
{
	(void) err;
	struct bb *b = userdata;
	struct bb_contexts *cs = b->named;
	char *n = NULL;
	if (!cs || norm_name(name, &n, NULL) < 0)
		return 0;
	int found = 0;
	for (size_t i = 0; i < cs->n && !found; i++)
		found = !strcmp(cs->v[i].name, n);
	free(n);
	return found;
}

/* ---- the image of a context ------------------------------------------------- */

static struct bb_image *image_new(const char *ref, const char *plat, const struct bb_context *c)
{
	struct bb_image *im = kiln_calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	im->ref = kiln_strdup(ref);
	im->platform = kiln_strdup(plat);
	im->name = kiln_strdup(c->shown);
	if (!im->ref || !im->platform || !im->name) {
		free(im->ref);
		free(im->platform);
		free(im->name);
		free(im);
		return NULL;
	}
	return im;
}

static void image_free(struct bb_image *im)
{
	if (!im)
		return;
	free(im->ref);
	free(im->platform);
	free(im->name);
	free(im->display);
	kiln_oci_config_free(im->config);
	bb_chain_release(&im->chain);
	free(im);
}

/* The descriptor of an oci-layout context's image, as an index.json entry. */
static int layout_entry(const struct bb_context *c, char **ret, struct kiln_error *err)
{
	cleanup_free char *index = kiln_asprintf("%s/index.json", c->value);
	cleanup_free char *json = NULL;
	size_t len = 0;
	if (!index)
		return oom(err);
	int r = kiln_read_file(index, KILN_OCI_MANIFEST_MAX, &json, &len, err);
	if (r < 0)
		return r;
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	if ((r = kiln_oci_index_parse(json, len, &x, err)) < 0)
		return kiln_error_prefix(err, r, "%s", index);
	const char *tag = c->tag ? c->tag : "latest";
	for (size_t i = 0; i < x->n_manifests; i++) {
		const struct kiln_oci_descriptor *d = &x->manifests[i];
		const char *rn = kiln_oci_map_get(&d->annotations, LAYOUT_REF_NAME);
		if (c->digest ? !strcmp(d->digest, c->digest) : rn && !strcmp(rn, tag)) {
			*ret = kiln_asprintf(
				"{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
				d->media_type, d->digest, (long long) d->size);
			return *ret ? 0 : oom(err);
		}
	}
	if (!c->digest)
		return kiln_fail(err, KILN_ENOTFOUND, 0, "%s has no image tagged %s", c->value,
				 tag);
	/* a digest the index does not list: a manifest or index among the blobs */
	cleanup_free char *blob = kiln_asprintf("%s/blobs/sha256/%s", c->value, c->digest + 7);
	cleanup_free char *data = NULL;
	if (!blob)
		return oom(err);
	r = kiln_read_file(blob, KILN_OCI_MANIFEST_MAX, &data, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "%s has no image %s", c->value, c->digest);
	/* its own mediaType, or the kind its fields say (both are optional) */
	json_t *doc = json_loadb(data, len, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return kiln_fail(err, KILN_EPARSE, 0, "%s: %s is not an image manifest or index",
				 c->value, c->digest);
	}
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	if (!mt)
		mt = json_object_get(doc, "manifests")
			     ? "application/vnd.oci.image.index.v1+json"
			     : "application/vnd.oci.image.manifest.v1+json";
	*ret = kiln_asprintf("{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", mt, c->digest,
			     len);
	json_decref(doc);
	return *ret ? 0 : oom(err);
}

/*
 * oci-layout: the one image, through a layout of our own whose index lists
 * only it and names nothing (loading the user's layout as it is would tag
 * its images in the store); its blobs are the user's.
 */
static int layout_image(struct bb *b, const struct bb_context *c,
			const struct kiln_df_platform *platform, struct bb_image *im,
			struct kiln_error *err)
{
	cleanup_free char *entry = NULL;
	cleanup_free char *tmp = NULL;
	int r = layout_entry(c, &entry, err);
	if (r >= 0)
		r = bb_tmpdir(b, "layout", &tmp, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "--build-context %s", c->shown);
	cleanup_free char *idx = kiln_asprintf("{\"schemaVersion\":2,\"manifests\":[%s]}\n", entry);
	cleanup_free char *ip = kiln_asprintf("%s/index.json", tmp);
	cleanup_free char *lp = kiln_asprintf("%s/oci-layout", tmp);
	cleanup_free char *bp = kiln_asprintf("%s/blobs", tmp);
	cleanup_free char *src = kiln_asprintf("%s/blobs", c->value);
	if (!idx || !ip || !lp || !bp || !src)
		return oom(err);
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}\n";
	r = kiln_write_file_atomic(ip, idx, strlen(idx), 0644, err);
	if (r >= 0)
		r = kiln_write_file_atomic(lp, layout, sizeof(layout) - 1, 0644, err);
	if (r >= 0 && symlink(src, bp) < 0)
		r = kiln_fail_errno(err, "linking %s", bp);
	struct kiln_oci_platform p = { .os = platform->os,
				       .architecture = platform->arch,
				       .variant = platform->variant && *platform->variant
							  ? platform->variant
							  : NULL,
				       .os_features = KILN_STRV_INIT };
	struct kiln_store_load_result res = { 0 };
	if (r >= 0) {
		bb_store_lock(b);
		r = kiln_store_layout_load(b->st, tmp, &p, &res, err);
		if (r >= 0 && res.len != 1)
			r = kiln_fail(err, KILN_EINTERNAL, 0, "the layout gave %zu images",
				      res.len);
		if (r >= 0)
			r = bb_image_load(b, &res.items[0].manifest, im, err);
		bb_store_unlock(b);
	}
	kiln_store_load_result_release(&res);
	struct kiln_error e = KILN_ERROR_INIT;
	(void) kiln_rm_rf(tmp, &e);
	kiln_error_release(&e);
	if (r < 0)
		return kiln_error_prefix(err, r, "--build-context %s", c->shown);
	return 0;
}

/* Copy the selection into a fresh directory and write it as a layer blob. */
static int write_layer(struct bb *b, int src_fd, const struct kiln_plan_selection *sel,
		       struct bb_layer *ret, struct kiln_error *err)
{
	cleanup_free char *dir = NULL;
	int r = bb_tmpdir(b, "context", &dir, err);
	if (r < 0)
		return r;
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s", dir);
	/* owned by root, as BuildKit receives a local context */
	struct bb_copy_opts co = { .dest = "/", .has_owner = 1, .mtime = -1 };
	r = bb_copy(b, dfd, src_fd, sel, &co, err);
	cleanup(kiln_blob_writer_freep) struct kiln_blob_writer *w = NULL;
	if (r >= 0) {
		bb_store_lock(b);
		r = kiln_store_blob_writer_new(b->st, NULL, -1, &w, err);
		bb_store_unlock(b);
	}
	/* a context's layer may be an image's base, which the export leaves
	 * as it is: clamped here, with the epoch in its key */
	struct kiln_layer_write_opts wo = b->wopts;
	if (bb_rewrite_active(b))
		bb_rewrite_wopts(b, &wo);
	struct kiln_layer_digests dg;
	if (r >= 0)
		r = kiln_layer_write_tree(dfd, KILN_TREE_PLAIN, kiln_blob_writer_external_fd(w),
					  &wo, &dg, err);
	struct kiln_digest digest;
	int64_t size = 0;
	if (r >= 0) {
		bb_store_lock(b);
		r = kiln_blob_writer_commit(w, &digest, &size, err);
		bb_store_unlock(b);
	}
	struct kiln_error e = KILN_ERROR_INIT;
	(void) kiln_rm_rf(dir, &e);
	kiln_error_release(&e);
	if (r < 0)
		return r;
	*ret = (struct bb_layer){ .diff_id = dg.diff_id,
				  .digest = digest,
				  .size = size,
				  .created = (int64_t) time(NULL) };
	ret->media_type = kiln_strdup(b->media_type);
	return ret->media_type ? 0 : oom(err);
}

/*
 * A directory as a one-layer image: its files (behind its .dockerignore when
 * `ignore`), keyed by their content.
 */
static int dir_image(struct bb *b, const struct bb_context *c, const char *dir, int ignore,
		     struct bb_vertex *v, struct bb_image *im, struct kiln_error *err)
{
	cleanup_close int fd = -1;
	int r = kiln_ignore_open_root(dir, &fd, err);
	if (r < 0)
		return r;
	struct kiln_ignore_list list = KILN_IGNORE_LIST_INIT;
	cleanup_free char *ignore_file = NULL;
	struct kiln_ignore_filter *filter = NULL;
	if (ignore) {
		r = kiln_ignore_load_for_build(dir, NULL, &list, &ignore_file, err);
		struct kiln_ignore_filter_opt fo = {
			.exclude = (const char *const *) list.patterns.items,
			.n_exclude = list.patterns.len,
			.exclude_lines = list.lines,
			.exclude_lens = list.lens,
			.exclude_source = list.source,
		};
		if (r >= 0)
			r = kiln_ignore_filter_new(fd, &fo, &filter, err);
		kiln_ignore_list_release(&list);
		if (r < 0)
			return r;
	}
	struct kiln_plan_tree t = {
		.root_fd = fd,
		.filter = filter,
		.ignore = filter ? kiln_ignore_filter_excludes(filter) : NULL,
		.ignore_file = ignore_file,
		.name = c->shown,
		.context = 1,
	};
	const char *all[] = { "." };
	struct kiln_plan_select_opts so = { .sources = all, .n_sources = 1 };
	cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel = NULL;
	cleanup(kiln_plan_hasher_freep) struct kiln_plan_hasher *h = NULL;
	struct kiln_plan_hash_cache hc = bb_hash_cache_ops;
	hc.userdata = b;
	r = kiln_plan_select(&t, &so, &b->ctx, &sel, err);
	if (r >= 0)
		r = kiln_plan_hasher_new(ignore ? &hc : NULL, 0, &b->ctx, &h, err);
	if (r >= 0)
		r = kiln_plan_selection_hash(sel, &t, h, err);
	/* the layer's key: the files, and the epoch when times are rewritten */
	struct kiln_plan_key key = KILN_PLAN_KEY_INIT;
	if (r >= 0)
		r = kiln_plan_key_add(&key, "context", "directory", err);
	if (r >= 0)
		r = kiln_plan_key_add(&key, "sources", sel->digest.str, err);
	if (r >= 0)
		r = kiln_plan_key_add(&key, "platform", b->platform_str, err);
	if (r >= 0 && bb_rewrite_active(b)) {
		char e[32];
		(void) snprintf(e, sizeof(e), "%lld", (long long) b->o->source_date_epoch);
		r = kiln_plan_key_add(&key, "epoch", e, err);
	}
	if (r >= 0)
		r = kiln_plan_key_finish(&key, err);
	struct bb_layer layer = { 0 };
	int hit = 0;
	if (r >= 0) {
		r = bb_cache_get(b, &key.digest, &layer, err);
		hit = r == 1;
	}
	if (r >= 0 && !hit) {
		bb_status(b, v, "%llu files, %llu bytes", (unsigned long long) sel->files,
			  (unsigned long long) sel->bytes);
		r = write_layer(b, fd, sel, &layer, err);
		cleanup_free char *by = kiln_asprintf("context %s", c->name);
		if (r >= 0 && !by)
			r = oom(err);
		if (r >= 0)
			r = bb_cache_put(b, &key, &layer, NULL, by, err);
	}
	int64_t epoch = b->o->source_date_epoch;
	if (r >= 0)
		r = bb_config_scratch(b, &im->config, err);
	if (r >= 0 && (bb_chain_push(&im->chain, &layer) < 0 ||
		       kiln_oci_config_add_diff_id(im->config, &layer.diff_id, err) < 0))
		r = oom(err);
	if (r >= 0) {
		cleanup_free char *by = kiln_asprintf("context %s", c->name);
		r = by ? bb_config_history(b, im->config, by, 0, epoch >= 0 ? epoch : layer.created,
					   err)
		       : oom(err);
	}
	if (r >= 0) {
		im->manifest = key.digest; /* what keys of the steps on it name */
		if (hit)
			bb_vertex_cached(b, v);
		else
			bb_vertex_done(b, v);
	}
	bb_layer_release(&layer);
	kiln_plan_key_release(&key);
	kiln_ignore_filter_free(filter);
	return r;
}

int bb_context_image(struct bb *b, const struct bb_context *c, const char *ref,
		     const struct kiln_df_platform *platform, const char *plat,
		     struct bb_image **ret, struct kiln_error *err)
{
	*ret = NULL;
	/* the network waits for the second graph pass, as pulls do */
	if (b->images_offline && (c->kind == CTX_GIT || c->kind == CTX_URL)) {
		b->images_unknown = 1;
		return 0;
	}
	struct bb_image *im = image_new(ref, plat, c);
	if (!im)
		return oom(err);
	struct bb_vertex v = { 0 };
	int r = 0;
	if (c->kind == CTX_SCRATCH) {
		r = bb_config_scratch(b, &im->config, err);
		if (r >= 0)
			r = kiln_sha256_buf("scratch", 7, &im->manifest, err);
	} else if (c->kind == CTX_LAYOUT) {
		r = layout_image(b, c, platform, im, err);
	} else if (bb_vertex_start(b, &v, "[context %s] load %s", c->name, c->value) < 0) {
		r = oom(err);
	} else {
		cleanup_free char *as = kiln_asprintf("context %s", c->name);
		cleanup_free char *fetched = NULL, *file = NULL;
		struct kiln_digest d;
		if (!as)
			r = oom(err);
		else if (c->kind == CTX_GIT)
			r = bb_fetch_git_as(b, &v, as, c->value, -1, NULL, &fetched, err);
		else if (c->kind == CTX_URL)
			/* BuildKit's http context: the downloaded file, as it is */
			r = bb_fetch_url_as(b, &v, as, c->value, NULL, &fetched, &file, &d, err);
		if (r >= 0)
			r = dir_image(b, c, fetched ? fetched : c->value, c->kind == CTX_DIR, &v,
				      im, err);
		if (fetched) {
			struct kiln_error e = KILN_ERROR_INIT;
			(void) kiln_rm_rf(fetched, &e);
			kiln_error_release(&e);
		}
		if (r < 0)
			bb_vertex_error(b, &v, err && err->msg ? err->msg : "failed", NULL, 0);
	}
	bb_vertex_release(&v);
	if (r >= 0) {
		im->display = kiln_asprintf("[context %s] %s", c->name,
					    c->shown + strcspn(c->shown, "=") + 1);
		if (!im->display)
			r = oom(err);
	}
	if (r < 0) {
		image_free(im);
		return r;
	}
	*ret = im;
	return 0;
}

/* ---- a main context from a URL ------------------------------------------------- */

static int keep_git_dir(const struct kiln_build_opts *o)
{
	/* BuildKit's BUILDKIT_CONTEXT_KEEP_GIT_DIR build arg */
	int keep = 0;
	for (size_t i = 0; i < o->n_build_args; i++)
		if (!strncmp(o->build_args[i], "BUILDKIT_CONTEXT_KEEP_GIT_DIR=", 30)) {
			const char *v = o->build_args[i] + 30;
			keep = !strcmp(v, "1") || !strcmp(v, "true");
		}
	return keep;
}

int bb_context_fetch_main(struct bb *b, char **ret_dir, struct kiln_error *err)
{
	const char *url = b->o->context_url;
	struct bb_vertex v = { 0 };
	int git = bb_is_git(url);
	if (!git && !bb_is_url(url))
		return kiln_fail(err, KILN_EINVAL, 0,
				 "the context %s is neither a git repository nor an http(s) URL",
				 url);
	if (bb_vertex_start(b, &v,
			    git ? "[internal] load git source %s"
				: "[internal] load remote build context %s",
			    url) < 0)
		return oom(err);
	cleanup_free char *dir = NULL, *name = NULL;
	struct kiln_digest d;
	int r = git ? bb_fetch_git_as(b, &v, "context", url, keep_git_dir(b->o) ? 1 : -1, NULL, &dir, err)
		    : bb_fetch_url_as(b, &v, "context", url, NULL, &dir, &name, &d, err);
	if (r >= 0 && !git) {
		/* a tar (plain or compressed) is the context, anything else the Dockerfile */
		cleanup_free char *file = kiln_asprintf("%s/%s", dir, name);
		cleanup_free char *ctx = kiln_asprintf("%s/context", b->tmp_root);
		cleanup_close int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
		if (!file || !ctx)
			r = oom(err);
		else if (fd < 0)
			r = kiln_fail_errno(err, "opening %s", file);
		if (r >= 0)
			r = kiln_layer_is_archive(fd, err);
		if (r == 0) {
			if (!b->named && !(b->named = kiln_calloc(1, sizeof(*b->named))))
				r = oom(err);
			else
				b->named->main_dockerfile = steal_ptr(&file);
		} else if (r == 1) {
			cleanup_close int dfd = -1;
			struct kiln_layer_apply_opts ao = {
				.mode = KILN_APPLY_EXTRACT,
				.flags = KILN_APPLY_NO_CHOWN | KILN_APPLY_SKIP_DEVICES,
				.uid = -1,
				.gid = -1,
				.ctx = &b->ctx,
			};
			if (lseek(fd, 0, SEEK_SET) < 0)
				r = kiln_fail_errno(err, "rewinding %s", file);
			else if (mkdir(ctx, 0755) < 0)
				r = kiln_fail_errno(err, "creating %s", ctx);
			else if ((dfd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
				r = kiln_fail_errno(err, "opening %s", ctx);
			else
				r = kiln_layer_apply(fd, dfd, &ao, NULL, err);
			if (r < 0)
				r = kiln_error_prefix(err, r, "the context %s", url);
			else
				*ret_dir = steal_ptr(&ctx);
		}
	} else if (r >= 0) {
		*ret_dir = steal_ptr(&dir);
	}
	return bb_vertex_end(b, &v, r, err, "failed") < 0 ? r : 0;
}

const char *bb_context_main_dockerfile(const struct bb *b)
{
	return b->named ? b->named->main_dockerfile : NULL;
}
