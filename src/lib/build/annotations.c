/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI annotations for the image, as buildx's --annotation and BuildKit's
 * exporter keys give them: `[TYPE[PLATFORM]:]KEY=VALUE` and
 * `annotation[-TYPE][PLATFORM].KEY=VALUE`. A type says where the
 * annotation goes (the manifest by default); a platform limits it to the
 * image built for that platform.
 */
#include <string.h>

#include "base/alloc.h"
#include "build/build.h"
#include "dockerfile/platform.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static const char *const type_names[] = {
	[KILN_BUILD_ANNOTATION_MANIFEST] = "manifest",
	[KILN_BUILD_ANNOTATION_MANIFEST_DESCRIPTOR] = "manifest-descriptor",
	[KILN_BUILD_ANNOTATION_INDEX] = "index",
	[KILN_BUILD_ANNOTATION_INDEX_DESCRIPTOR] = "index-descriptor",
};

const char *kiln_build_annotation_type_name(enum kiln_build_annotation_type t)
{
	return (size_t) t < KILN_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

void kiln_build_annotation_release(struct kiln_build_annotation *a)
{
	free(a->platform);
	free(a->key);
	free(a->value);
	memset(a, 0, sizeof(*a));
}

/* "TYPE" (n bytes, may be empty), "[PLATFORM]" (may be absent), KEY and VALUE */
static int fill(const char *type, size_t tn, const char *plat, size_t pn, int has_plat,
		const char *key, size_t kn, const char *value, const char *spec,
		struct kiln_build_annotation *ret, struct kiln_error *err)
{
	struct kiln_build_annotation a = { .type = KILN_BUILD_ANNOTATION_MANIFEST };
	if (tn) {
		size_t t = 0;
		while (t < KILN_ARRAY_SIZE(type_names) &&
		       !(strlen(type_names[t]) == tn && !memcmp(type_names[t], type, tn)))
			t++;
		if (t == KILN_ARRAY_SIZE(type_names))
			return kiln_fail(err, KILN_EINVAL, 0, "unknown annotation type \"%.*s\"",
					 (int) tn, type);
		a.type = (enum kiln_build_annotation_type) t;
	}
	if (!kn || memchr(key, ' ', kn) || memchr(key, '\t', kn))
		return kiln_fail(err, KILN_EINVAL, 0,
				 "invalid annotation format, expected <type>:<key>=<value>, got \"%s\"",
				 spec);
	if (has_plat) {
		cleanup_free char *p = kiln_strndup(plat, pn);
		if (!p)
			return oom(err);
		struct kiln_df_platform dp = { 0 };
		int r = kiln_df_platform_parse(p, &dp, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "invalid platform \"%s\"", p);
		/* normalized as the build's platforms are, to compare with them */
		a.platform = kiln_df_platform_normalize(&dp) < 0 ? NULL
								 : kiln_df_platform_format(&dp);
		kiln_df_platform_release(&dp);
		if (!a.platform)
			return oom(err);
	}
	a.key = kiln_strndup(key, kn);
	a.value = kiln_strdup(value);
	if (!a.key || !a.value) {
		kiln_build_annotation_release(&a);
		return oom(err);
	}
	*ret = a;
	return 0;
}

/* TYPE[PLATFORM] at s (n bytes): the type's length, and the platform's span */
static int split_type(const char *s, size_t n, size_t *tn, const char **plat, size_t *pn,
		      int *has_plat)
{
	const char *open = memchr(s, '[', n);
	*has_plat = open != NULL;
	*tn = open ? (size_t) (open - s) : n;
	if (open) {
		if (s[n - 1] != ']' || n - *tn < 3)
			return -1;
		*plat = open + 1;
		*pn = n - *tn - 2;
		if (memchr(*plat, '[', *pn) || memchr(*plat, ']', *pn))
			return -1;
	}
	return 0;
}

int kiln_build_annotation_parse(const char *spec, struct kiln_build_annotation *ret,
				struct kiln_error *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid annotation \"%s\", expected key=value",
				 spec);
	size_t kn = (size_t) (eq - spec);
	/* a prefix "TYPE[PLATFORM]:" when the part before ':' is one (keys may hold ':') */
	const char *colon = memchr(spec, ':', kn);
	size_t tn = 0, pn = 0;
	const char *plat = NULL;
	int has_plat = 0;
	/* buildx: ^(?:([a-z-]+)(?:\[([A-Za-z0-9_/-]+)\])?:)?(\S+)$ over the part before '=' */
	if (colon && split_type(spec, (size_t) (colon - spec), &tn, &plat, &pn, &has_plat) == 0 &&
	    tn && strspn(spec, "abcdefghijklmnopqrstuvwxyz-") >= tn &&
	    (!has_plat || strspn(plat, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789_/-") >= pn)) {
		const char *key = colon + 1;
		return fill(spec, tn, plat, pn, has_plat, key, (size_t) (eq - key), eq + 1, spec,
			    ret, err);
	}
	return fill(NULL, 0, NULL, 0, 0, spec, kn, eq + 1, spec, ret, err);
}

int kiln_build_annotation_parse_output(const char *key, const char *value,
				       struct kiln_build_annotation *ret, struct kiln_error *err)
{
	/* annotation[-TYPE][[PLATFORM]].KEY */
	if (strncmp(key, "annotation", 10) != 0)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid annotation key \"%s\"", key);
	const char *p = key + 10, *type = "", *plat = NULL;
	size_t tn = 0, pn = 0;
	int dashed = *p == '-';
	if (dashed) {
		type = ++p;
		tn = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
		p += tn;
	}
	if (*p == '[') {
		plat = ++p;
		pn = strcspn(p, "]");
		p += pn + (p[pn] == ']');
		if (!pn || p[-1] != ']')
			return kiln_fail(err, KILN_EINVAL, 0, "invalid annotation key \"%s\"", key);
	}
	if (*p != '.' || (dashed && !tn))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid annotation key \"%s\"", key);
	return fill(type, tn, plat, pn, plat != NULL, p + 1, strlen(p + 1), value, key, ret, err);
}
