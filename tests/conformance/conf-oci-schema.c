/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance: the OCI image-spec validation cases (oci-schema/, read as its
 * FORMAT.md says). Each row of cases.tsv names a document and the verdict of
 * the upstream validator; kiln's own parsers - the ones that read what
 * registries and archives send - must agree. Digest-only rows check the
 * sha256 of the file, as the upstream backwards-compatibility tests do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "store/store.h"
#include "tap.h"

/* Run the parser for `kind` over the document; 0 when kiln accepts it. */
static int validate(const char *kind, const char *data, size_t len, struct kiln_error *err)
{
	if (strcmp(kind, "descriptor") == 0) {
		struct kiln_oci_descriptor d;
		int r = kiln_oci_descriptor_parse(data, len, &d, err);
		if (r == 0)
			kiln_oci_descriptor_release(&d);
		return r;
	}
	if (strcmp(kind, "manifest") == 0) {
		struct kiln_oci_manifest *m = NULL;
		int r = kiln_oci_manifest_parse(data, len, &m, err);
		kiln_oci_manifest_free(m);
		return r;
	}
	if (strcmp(kind, "index") == 0) {
		struct kiln_oci_index *x = NULL;
		int r = kiln_oci_index_parse(data, len, &x, err);
		kiln_oci_index_free(x);
		return r;
	}
	if (strcmp(kind, "config") == 0) {
		struct kiln_oci_config *c = NULL;
		int r = kiln_oci_config_parse(data, len, &c, err);
		kiln_oci_config_free(c);
		return r;
	}
	if (strcmp(kind, "layout") == 0)
		return kiln_oci_layout_header_parse(data, len, err);
	return kiln_fail(err, KILN_EINVAL, 0, "unknown kind '%s'", kind);
}

/* Split a TSV line in place; returns the number of fields (at most max). */
static size_t split_tabs(char *s, char **fields, size_t max)
{
	size_t n = 0;
	fields[n++] = s;
	for (char *p = s; *p && n < max; p++) {
		if (*p == '\t') {
			*p = '\0';
			fields[n++] = p + 1;
		}
	}
	return n;
}

static int run_case(const char *dir, char **f, struct kiln_error *err)
{
	const char *file = f[0], *kind = f[1], *expect = f[3], *digest = f[4];
	cleanup_free char *path = kiln_asprintf("%s/cases/%s", dir, file);
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (!path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int r = kiln_read_file(path, (size_t)16 << 20, &data, &len, err);
	if (r < 0)
		return r;
	if (strcmp(expect, "digest-only") == 0) {
		struct kiln_digest want, got;
		if ((r = kiln_digest_parse(digest, &want, err)) < 0 ||
		    (r = kiln_sha256_buf(data, len, &got, err)) < 0)
			return r;
		if (!kiln_digest_equal(&want, &got))
			return kiln_fail(err, KILN_EDIGEST, 0, "file hashes to %s", got.str);
		return 1;
	}
	struct kiln_error verr = KILN_ERROR_INIT;
	r = validate(kind, data, len, &verr);
	int valid = r == 0;
	int want_valid = strcmp(expect, "valid") == 0;
	if (valid != want_valid) {
		r = kiln_fail(err, KILN_EINVAL, 0, "kiln says %s, upstream %s%s%s",
			      valid ? "valid" : "invalid", expect, verr.msg ? ": " : "",
			      verr.msg ? verr.msg : "");
		kiln_error_release(&verr);
		return r;
	}
	if (verr.msg)
		tap_diag("%s: %s", file, verr.msg);
	kiln_error_release(&verr);
	return 1;
}

int main(void)
{
	const char *base = getenv("KILN_CONFORMANCE_DIR");
	if (!base || !*base)
		base = getenv("KILN_CONFORMANCE_DIR_DEFAULT");
	cleanup_free char *dir = base ? kiln_asprintf("%s/oci-schema", base) : NULL;
	cleanup_free char *tsv = dir ? kiln_asprintf("%s/cases.tsv", dir) : NULL;
	struct stat st;
	if (!tsv || stat(tsv, &st) < 0 || !S_ISREG(st.st_mode)) {
		printf("# conformance oci-schema ABSENT\n");
		tap_skip("conformance data absent", "oci-schema (%s)", dir ? dir : "unset");
		return tap_done();
	}
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_read_file(tsv, (size_t)1 << 24, &text, &len, &err) < 0) {
		printf("Bail out! %s\n", err.msg ? err.msg : "cannot read cases.tsv");
		return 1;
	}
	int passed = 0, total = 0, header = 1;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (header) {
			header = 0; /* column names */
			continue;
		}
		if (!*line)
			continue;
		char *f[9] = { 0 };
		size_t nf = split_tabs(line, f, 9);
		total++;
		if (nf < 5) {
			tap_ok(0, "row %d: malformed (%zu fields)", total, nf);
			continue;
		}
		int r = run_case(dir, f, &err);
		if (tap_ok(r > 0, "%s (%s, %s)", f[0], f[1], f[3]))
			passed++;
		else
			tap_diag("%s", err.msg ? err.msg : "failed");
		kiln_error_release(&err);
	}
	printf("# conformance oci-schema %d/%d\n", passed, total);
	return tap_done();
}
