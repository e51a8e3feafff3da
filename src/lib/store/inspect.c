/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln inspect: one JSON object per image, shaped like docker image
 * inspect (names in their familiar spelling, Config as the image config
 * holds it) with the manifest added, since kiln keeps images by manifest.
 */
#include <jansson.h>
#include <string.h>

#include "ref/ref.h"
#include "store/store-private.h"

static json_t *familiar_list(const struct kiln_strv *names)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < names->len; i++) {
		cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
		cleanup_free char *s = NULL;
		if (kiln_ref_parse_canonical(names->items[i], &ref, NULL) == 0)
			s = kiln_ref_familiar_string(ref);
		if (json_array_append_new(a, json_string(s ? s : names->items[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* A string field of the config, "" when absent (docker shows empty strings). */
static json_t *cfg_string(json_t *cfg, const char *key)
{
	json_t *v = json_object_get(cfg, key);
	return json_is_string(v) ? json_incref(v) : json_string("");
}

static int build(struct kiln_store *st, const struct kiln_store_image *img, json_t *cfg,
		 json_t *manifest, json_t *out)
{
	json_t *rootfs = json_object();
	json_t *layers = json_array();
	json_t *diff = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	if (!rootfs || !layers)
		goto oom;
	size_t i;
	json_t *v;
	if (json_is_array(diff))
		json_array_foreach(diff, i, v)
			if (json_array_append(layers, v) < 0)
				goto oom;
	if (json_object_set_new(rootfs, "Type", json_string("layers")) < 0 ||
	    json_object_set_new(rootfs, "Layers", steal_ptr(&layers)) < 0)
		goto oom;
	json_t *config = json_object_get(cfg, "config");
	json_t *history = json_object_get(cfg, "history");
	int bad = 0;
	bad |= json_object_set_new(out, "Id", json_string(img->config.str));
	bad |= json_object_set_new(out, "RepoTags", familiar_list(&img->names));
	bad |= json_object_set_new(out, "RepoDigests", familiar_list(&img->digests));
	bad |= json_object_set_new(out, "Parent", json_string(""));
	bad |= json_object_set_new(out, "Comment", cfg_string(cfg, "comment"));
	bad |= json_object_set_new(out, "Created", cfg_string(cfg, "created"));
	bad |= json_object_set_new(out, "DockerVersion", cfg_string(cfg, "docker_version"));
	bad |= json_object_set_new(out, "Author", cfg_string(cfg, "author"));
	bad |= json_object_set_new(out, "Config",
				   json_is_object(config) ? json_incref(config) : json_object());
	bad |= json_object_set_new(out, "Architecture", cfg_string(cfg, "architecture"));
	if (json_is_string(json_object_get(cfg, "variant")))
		bad |= json_object_set_new(out, "Variant", cfg_string(cfg, "variant"));
	bad |= json_object_set_new(out, "Os", cfg_string(cfg, "os"));
	if (json_is_string(json_object_get(cfg, "os.version")))
		bad |= json_object_set_new(out, "OsVersion", cfg_string(cfg, "os.version"));
	bad |= json_object_set_new(out, "Size", json_integer(img->size));
	bad |= json_object_set_new(out, "RootFS", steal_ptr(&rootfs));
	bad |= json_object_set_new(out, "History",
				   json_is_array(history) ? json_incref(history) : json_array());
	bad |= json_object_set_new(out, "Digest", json_string(img->manifest.str));
	bad |= json_object_set_new(out, "MediaType", json_string(img->media_type));
	bad |= json_object_set_new(out, "Manifest", json_incref(manifest));
	(void)st;
	return bad ? -1 : 0;
oom:
	json_decref(rootfs);
	json_decref(layers);
	return -1;
}

int kiln_store_inspect(struct kiln_store *st, const struct kiln_digest *manifest, char **ret,
		       size_t *ret_len, struct kiln_error *err)
{
	cleanup(kiln_store_image_freep) struct kiln_store_image *img = NULL;
	int r = kiln_store_image_get(st, manifest, &img, err);
	if (r < 0)
		return r;
	cleanup_free char *mj = NULL, *cj = NULL;
	size_t ml = 0, cl = 0;
	if ((r = kiln_store_blob_read(st, manifest, KILN_OCI_MANIFEST_MAX, &mj, &ml, err)) < 0 ||
	    (r = kiln_store_blob_read(st, &img->config, KILN_OCI_CONFIG_MAX, &cj, &cl, err)) < 0)
		return r;
	/* both were parsed strictly when the image was recorded */
	json_error_t je;
	cleanup(json_decrefp) json_t *m = json_loadb(mj, ml, 0, &je);
	cleanup(json_decrefp) json_t *c = m ? json_loadb(cj, cl, 0, &je) : NULL;
	cleanup(json_decrefp) json_t *out = json_object();
	if (!m || !c)
		return kiln_fail(err, KILN_EPARSE, 0, "image %s: %s", manifest->str, je.text);
	if (!out || build(st, img, c, m, out) < 0)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *s = json_dumps(out, JSON_INDENT(4));
	if (!s)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	/* jansson allocates with malloc; hand out a kiln allocation */
	*ret = kiln_strdup(s);
	free(s);
	if (!*ret)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (ret_len)
		*ret_len = strlen(*ret);
	return 0;
}
