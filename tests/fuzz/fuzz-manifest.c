/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Manifest, index, descriptor and oci-layout parsing: never crash, and what
 * kiln accepts it can write back (both spellings), the written document
 * parses again, and writing that gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUG() __builtin_trap()

static void manifest_round_trip(const char *s, size_t n)
{
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_oci_manifest_parse(s, n, &m, &err) < 0) {
		kiln_error_release(&err);
		return;
	}
	for (unsigned flags = 0; flags <= KILN_OCI_JSON_COMPACT; flags += KILN_OCI_JSON_COMPACT) {
		cleanup_free char *a = NULL, *b = NULL;
		size_t al = 0, bl = 0;
		int r = kiln_oci_manifest_to_json(m, flags, &a, &al, NULL);
		if (r == -KILN_ENOMEM)
			return;
		if (r < 0)
			BUG(); /* accepted but cannot be written */
		cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *again = NULL;
		if (kiln_oci_manifest_parse(a, al, &again, NULL) < 0)
			BUG();
		if (kiln_oci_manifest_to_json(again, flags, &b, &bl, NULL) < 0)
			return;
		if (al != bl || memcmp(a, b, al) != 0)
			BUG();
		if (again->n_layers != m->n_layers)
			BUG();
	}
}

static void index_round_trip(const char *s, size_t n)
{
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *x = NULL;
	if (kiln_oci_index_parse(s, n, &x, NULL) < 0)
		return;
	cleanup_free char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	int r = kiln_oci_index_to_json(x, 0, &a, &al, NULL);
	if (r == -KILN_ENOMEM)
		return;
	if (r < 0)
		BUG();
	cleanup(kiln_oci_index_freep) struct kiln_oci_index *again = NULL;
	if (kiln_oci_index_parse(a, al, &again, NULL) < 0)
		BUG();
	if (kiln_oci_index_to_json(again, 0, &b, &bl, NULL) < 0)
		return;
	if (al != bl || memcmp(a, b, al) != 0)
		BUG();
	struct kiln_oci_platform want = { .os = (char *)"linux", .architecture = (char *)"amd64" };
	for (size_t i = 0; i < x->n_manifests; i++)
		if (x->manifests[i].platform)
			(void)kiln_oci_platform_match(&want, x->manifests[i].platform);
}

static void descriptor_round_trip(const char *s, size_t n)
{
	struct kiln_oci_descriptor d;
	if (kiln_oci_descriptor_parse(s, n, &d, NULL) < 0)
		return;
	cleanup_free char *a = NULL;
	size_t al = 0;
	int r = kiln_oci_descriptor_to_json(&d, &a, &al, NULL);
	if (r < 0 && r != -KILN_ENOMEM)
		BUG();
	struct kiln_oci_descriptor again;
	if (r == 0 && kiln_oci_descriptor_parse(a, al, &again, NULL) == 0) {
		if (again.size != d.size || strcmp(again.digest, d.digest) != 0)
			BUG();
		kiln_oci_descriptor_release(&again);
	} else if (r == 0) {
		BUG();
	}
	kiln_oci_descriptor_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* big inputs only test the size check; keep iterations fast */
	if (size > (size_t)256 << 10)
		return 0;
	const char *s = (const char *)data;
	enum kiln_mt_kind kind = KILN_MT_KIND_UNKNOWN;
	int k = kiln_oci_detect(s, size, &kind, NULL);
	if (k > 0 && (int)kind != k)
		BUG();
	manifest_round_trip(s, size);
	index_round_trip(s, size);
	descriptor_round_trip(s, size);
	if (kiln_oci_layout_header_parse(s, size, NULL) < 0)
		return 0;
	return 0;
}
