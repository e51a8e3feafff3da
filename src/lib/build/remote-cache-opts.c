/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --cache-to and --cache-from as buildx spells them: CSV of key=value
 * (quoted fields as Go's encoding/csv reads them), or a bare registry
 * reference. BuildKit's keys kiln has no use for are refused with what to
 * do instead, never silently dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/gotext.h"
#include "build/build-private.h"
#include "ref/ref.h"

static int bad(struct kiln_error *err, int to, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct kiln_error *err, int to, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kiln_fail(err, KILN_EINVAL, 0, "%s: %s", to ? "--cache-to" : "--cache-from", msg);
}


/* The next CSV field of `*p` (quotes removed, "" an escaped quote), heap string. */
static char *next_field(const char **p)
{
	const char *s = *p;
	struct kiln_buf b = KILN_BUF_INIT;
	int r = 0;
	if (*s == '"') {
		for (s++; *s && r >= 0; s++) {
			if (*s == '"' && s[1] == '"') {
				r = kiln_buf_addch(&b, '"');
				s++;
			} else if (*s == '"') {
				s++;
				break;
			} else {
				r = kiln_buf_addch(&b, *s);
			}
		}
		/* anything up to the comma belongs to the field, as csv's LazyQuotes */
		while (*s && *s != ',' && r >= 0)
			r = kiln_buf_addch(&b, *s++);
	} else {
		size_t n = strcspn(s, ",");
		r = kiln_buf_add(&b, s, n);
		s += n;
	}
	if (*s == ',')
		s++;
	*p = s;
	if (r < 0) {
		kiln_buf_release(&b);
		return NULL;
	}
	return kiln_buf_detach(&b, NULL);
}

static int keep(struct kiln_strv *own, const char *v, const char **ret)
{
	if (kiln_strv_push(own, v) < 0)
		return -KILN_ENOMEM;
	*ret = own->items[own->len - 1];
	return 0;
}

/* A registry cache's reference, checked before the build rather than after it. */
static int check_ref(const char *s, int to, struct kiln_error *err)
{
	struct kiln_error re = KILN_ERROR_INIT;
	struct kiln_ref *ref = NULL;
	int pr = kiln_ref_parse(s, KILN_REF_DEFAULT_TAG_LATEST, &ref, &re);
	int digest = pr >= 0 && ref->digest;
	kiln_ref_free(ref);
	if (pr < 0 && re.code == KILN_ENOMEM) {
		kiln_error_move(err, &re);
		return -KILN_ENOMEM;
	}
	if (pr < 0) {
		int r = bad(err, to, "ref=%s: %s", s, re.msg ? re.msg : "invalid");
		kiln_error_release(&re);
		return r;
	}
	if (to && digest)
		return bad(err, to, "ref=%s: a cache is written under a tag, not a digest", s);
	return 0;
}

int kiln_build_cache_parse(const char *spec, int to, struct kiln_build_cache *ret,
			   struct kiln_strv *own, struct kiln_error *err)
{
	struct kiln_build_cache c = { .image_manifest = -1 };
	int have_type = 0, have_mode = 0, r;
	if (!*spec)
		return bad(err, to, "an empty value");
	if (!strchr(spec, '=')) {
		/* a bare reference: type=registry,ref=... */
		if ((r = check_ref(spec, to, err)) < 0)
			return r;
		if (keep(own, spec, &c.ref) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		*ret = c;
		return 0;
	}
	for (const char *p = spec; *p;) {
		cleanup_free char *kv = next_field(&p);
		if (!kv)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		char *eq = strchr(kv, '=');
		if (!eq)
			return bad(err, to, "'%s' is not KEY=VALUE", kv);
		*eq = '\0';
		const char *k = kv, *v = eq + 1;
		int b = 0;
		const char **dst = NULL;
		if (!strcmp(k, "type")) {
			if (!strcmp(v, "registry"))
				c.type = KILN_BUILD_CACHE_REGISTRY;
			else if (!strcmp(v, "local"))
				c.type = KILN_BUILD_CACHE_LOCAL;
			else if (!strcmp(v, "inline"))
				c.type = KILN_BUILD_CACHE_INLINE;
			else
				return bad(err, to,
					   "kiln keeps caches in a registry (type=registry), a "
					   "directory (type=local) or the image (type=inline), not "
					   "type=%s",
					   v);
			have_type = 1;
		} else if (!strcmp(k, "ref")) {
			dst = &c.ref;
		} else if (!strcmp(k, "dest")) {
			if (!to)
				return bad(err, to,
					   "dest= is where --cache-to writes; --cache-from "
					   "reads src=");
			dst = &c.dir;
		} else if (!strcmp(k, "src")) {
			if (to)
				return bad(err, to,
					   "src= is what --cache-from reads; --cache-to "
					   "writes dest=");
			dst = &c.dir;
		} else if (!strcmp(k, "tag")) {
			dst = &c.tag;
		} else if (!strcmp(k, "digest")) {
			if (to)
				return bad(err, to, "digest= selects what --cache-from reads");
			dst = &c.digest;
		} else if (!strcmp(k, "mode") && to) {
			if (!strcmp(v, "max"))
				c.mode_max = 1;
			else if (strcmp(v, "min") != 0)
				return bad(err, to, "mode is min or max, not '%s'", v);
			have_mode = 1;
		} else if ((!strcmp(k, "ignore-error") || !strcmp(k, "cache-mounts") ||
			    !strcmp(k, "image-manifest")) &&
			   to) {
			if (kiln_go_parse_bool(v, &b) < 0)
				return bad(err, to, "%s wants true or false, not '%s'", k, v);
			if (!strcmp(k, "ignore-error"))
				c.ignore_error = b;
			else if (!strcmp(k, "cache-mounts"))
				c.cache_mounts = b;
			else
				c.image_manifest = b;
		} else if (!strcmp(k, "oci-mediatypes") && to) {
			if (kiln_go_parse_bool(v, &b) < 0 || !b)
				return bad(err, to,
					   "kiln writes caches with OCI media types only "
					   "(oci-mediatypes=true)");
		} else if (!strncmp(k, "compression", 11) || !strcmp(k, "force-compression")) {
			return bad(err, to,
				   "%s= does not apply: a cache holds the build's own layers, "
				   "compressed as --output's compression= says",
				   k);
		} else if (!strcmp(k, "registry.insecure")) {
			return bad(err, to,
				   "registry.insecure= is --tls-verify=false for the whole build "
				   "(plain http is always allowed for loopback registries)");
		} else {
			return bad(err, to, "unknown key '%s' (%s)", k,
				   to ? "type, ref, dest, tag, mode, ignore-error, cache-mounts, "
					"image-manifest, oci-mediatypes"
				      : "type, ref, src, tag, digest");
		}
		if (dst) {
			if (!*v)
				return bad(err, to, "%s= needs a value", k);
			if (keep(own, v, dst) < 0)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
	}
	if (!have_type)
		c.type = c.dir && !c.ref ? KILN_BUILD_CACHE_LOCAL : KILN_BUILD_CACHE_REGISTRY;
	switch (c.type) {
	case KILN_BUILD_CACHE_REGISTRY:
		if (!c.ref)
			return bad(err, to, "type=registry needs ref=");
		if (c.dir || c.tag || c.digest)
			return bad(err, to, "type=registry takes its tag in ref=");
		if ((r = check_ref(c.ref, to, err)) < 0)
			return r;
		break;
	case KILN_BUILD_CACHE_LOCAL:
		if (!c.dir)
			return bad(err, to, "type=local needs %s=DIR", to ? "dest" : "src");
		if (c.ref)
			return bad(err, to, "type=local reads and writes a directory, not ref=");
		if (c.tag && c.digest)
			return bad(err, to, "tag= or digest=, not both");
		break;
	case KILN_BUILD_CACHE_INLINE:
		if (!to)
			return bad(err, to,
				   "type=inline is written by --cache-to; read an image's inline "
				   "cache with --cache-from type=registry,ref=IMAGE");
		if (c.ref || c.dir || c.tag)
			return bad(err, to, "type=inline goes into the image, it takes no place");
		if (have_mode && c.mode_max)
			return bad(err, to,
				   "type=inline holds the image's own layers only (mode=min); use "
				   "type=registry for mode=max");
		if (c.cache_mounts)
			return bad(err, to,
				   "type=inline cannot carry cache mounts; use type=registry or "
				   "type=local");
		if (c.image_manifest >= 0)
			return bad(err, to, "image-manifest= is for type=registry and type=local");
		break;
	}
	*ret = c;
	return 0;
}
