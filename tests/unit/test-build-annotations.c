/* SPDX-License-Identifier: Apache-2.0 */
/*
 * build: annotations as buildx's --annotation and BuildKit's exporter keys
 * give them: the type (manifest by default), a platform (normalized), the
 * key and the value, and what is refused.
 */
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "build/build.h"
#include "tap.h"

static void show(int r, const struct kiln_build_annotation *a, const struct kiln_error *err,
		 char *out, size_t size)
{
	if (r < 0)
		snprintf(out, size, "error: %s", err->msg ? err->msg : "");
	else
		snprintf(out, size, "%s %s %s=%s", kiln_build_annotation_type_name(a->type),
			 a->platform ? a->platform : "-", a->key, a->value);
}

static void test_flag(void)
{
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{ "org.opencontainers.image.title=Kiln",
		  "manifest - org.opencontainers.image.title=Kiln" },
		{ "manifest:k=v", "manifest - k=v" },
		{ "index:k=v", "index - k=v" },
		{ "index-descriptor:k=a=b", "index-descriptor - k=a=b" },
		{ "manifest-descriptor[linux/arm64]:k=", "manifest-descriptor linux/arm64 k=" },
		{ "manifest[linux/x86_64]:k=v", "manifest linux/amd64 k=v" },
		{ "com.example:key=v", "manifest - com.example:key=v" },
		{ "[linux/amd64]:k=v", "manifest - [linux/amd64]:k=v" },
		{ "k", "error: invalid annotation \"k\", expected key=value" },
		{ "=v", "error: invalid annotation format, expected <type>:<key>=<value>, got \"=v\"" },
		{ "manifest:=v",
		  "error: invalid annotation format, expected <type>:<key>=<value>, got \"manifest:=v\"" },
		{ "layer:k=v", "error: unknown annotation type \"layer\"" },
		{ "a b=v", "error: invalid annotation format, expected <type>:<key>=<value>, got \"a b=v\"" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_build_annotation a = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		char got[256];
		int r = kiln_build_annotation_parse(cases[i].spec, &a, &err);
		show(r, &a, &err, got, sizeof(got));
		TAP_STR_EQ(got, cases[i].want, "--annotation %s", cases[i].spec);
		kiln_build_annotation_release(&a);
		kiln_error_release(&err);
	}
	struct kiln_build_annotation a = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_build_annotation_parse("manifest[linux/]:k=v", &a, &err);
	TAP_OK(r == -KILN_EINVAL && err.msg && strstr(err.msg, "invalid platform \"linux/\""),
	       "a bad platform is refused (%s)", err.msg ? err.msg : "accepted");
	kiln_build_annotation_release(&a);
	kiln_error_release(&err);
}

static void test_output(void)
{
	static const struct {
		const char *key, *want;
	} cases[] = {
		{ "annotation.k", "manifest - k=v" },
		{ "annotation-index.k", "index - k=v" },
		{ "annotation-index-descriptor.org.x", "index-descriptor - org.x=v" },
		{ "annotation[linux/arm/v7].k", "manifest linux/arm/v7 k=v" },
		{ "annotation-manifest[linux/arm64].k.l", "manifest linux/arm64 k.l=v" },
		{ "annotation-.k", "error: invalid annotation key \"annotation-.k\"" },
		{ "annotation", "error: invalid annotation key \"annotation\"" },
		{ "annotation[linux/amd64.k", "error: invalid annotation key \"annotation[linux/amd64.k\"" },
		{ "annotationx.k", "error: invalid annotation key \"annotationx.k\"" },
		{ "annotation-config.k", "error: unknown annotation type \"config\"" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_build_annotation a = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		char got[256];
		int r = kiln_build_annotation_parse_output(cases[i].key, "v", &a, &err);
		show(r, &a, &err, got, sizeof(got));
		TAP_STR_EQ(got, cases[i].want, "-o %s=v", cases[i].key);
		kiln_build_annotation_release(&a);
		kiln_error_release(&err);
	}
}

int main(void)
{
	test_flag();
	test_output();
	return tap_done();
}
