/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `kiln build --cache-from` reads from a registry or a directory: a
 * manifest or index (the envelope), a cache config, an image config with
 * inline records. Never crash; an accepted cache config is written, parses
 * again and writes the same bytes; sorting keeps it valid; embedding
 * records in a config that parses keeps the rest of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rcache/rcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUG() __builtin_trap()

static void config_round_trip(const char *s, size_t n)
{
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *c = NULL;
	if (kiln_rcache_config_parse(s, n, &c, NULL) < 0)
		return;
	cleanup_free char *a = NULL, *b = NULL, *cc = NULL;
	size_t al = 0, bl = 0, cl = 0;
	int r = kiln_rcache_config_to_json(c, &a, &al, NULL);
	if (r == -KILN_ENOMEM)
		return;
	if (r < 0)
		BUG(); /* accepted but cannot be written */
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *again = NULL;
	if (kiln_rcache_config_parse(a, al, &again, NULL) < 0)
		BUG(); /* kiln's own writing must read back */
	if (kiln_rcache_config_to_json(again, &b, &bl, NULL) < 0)
		return;
	if (al != bl || memcmp(a, b, al) != 0)
		BUG(); /* not stable */
	if (kiln_rcache_config_sort(again, NULL) < 0)
		return;
	if (kiln_rcache_config_to_json(again, &cc, &cl, NULL) < 0)
		return;
	cleanup(kiln_rcache_config_freep) struct kiln_rcache_config *sorted = NULL;
	if (kiln_rcache_config_parse(cc, cl, &sorted, NULL) < 0)
		BUG(); /* sorting broke a reference */
	if (sorted->n_layers != c->n_layers || sorted->n_records != c->n_records)
		BUG();
}

static void envelope(const char *s, size_t n)
{
	struct kiln_rcache_envelope e = { 0 };
	if (kiln_rcache_envelope_parse(s, n, &e, NULL) < 0)
		return;
	if (e.kind == KILN_RCACHE_CACHE_MANIFEST || e.kind == KILN_RCACHE_CACHE_INDEX) {
		/* what an exporter would write for the same parts reads back as a cache */
		struct kiln_digest d;
		if (e.config.has_sha256) {
			d = e.config.sha256;
			cleanup_free char *j = NULL;
			size_t jl = 0;
			const char *mt = NULL;
			if (kiln_rcache_envelope_write(&d, e.config.size, e.blobs, e.n_blobs,
						       e.kind == KILN_RCACHE_CACHE_MANIFEST, &j,
						       &jl, &mt, NULL) == 0) {
				struct kiln_rcache_envelope e2 = { 0 };
				if (kiln_rcache_envelope_parse(j, jl, &e2, NULL) < 0 ||
				    e2.kind != e.kind)
					BUG();
				kiln_rcache_envelope_release(&e2);
			}
		}
	}
	kiln_rcache_envelope_release(&e);
}

static void inline_cache(const char *s, size_t n)
{
	struct kiln_oci_descriptor layers[2] = { 0 };
	struct kiln_digest d;
	if (kiln_sha256_buf(s, n, &d, NULL) < 0)
		return;
	if (kiln_oci_descriptor_set(&layers[0], KILN_MT_OCI_LAYER_GZIP, &d, 10, NULL) == 0 &&
	    kiln_oci_descriptor_set(&layers[1], KILN_MT_OCI_LAYER_GZIP, &d, 20, NULL) == 0) {
		for (size_t k = 0; k <= 2; k++) {
			struct kiln_rcache_config *c = NULL;
			if (kiln_rcache_inline_parse(s, n, layers, k, &c, NULL) == 1 && !c)
				BUG();
			kiln_rcache_config_free(c);
		}
	}
	kiln_oci_descriptor_release(&layers[0]);
	kiln_oci_descriptor_release(&layers[1]);
	cleanup_free char *out = NULL;
	size_t ol = 0;
	if (kiln_rcache_inline_embed(s, n, "[]", 2, &out, &ol, NULL) == 0) {
		/* embedding twice replaces, it does not add */
		cleanup_free char *out2 = NULL;
		size_t ol2 = 0;
		if (kiln_rcache_inline_embed(out, ol, "[]", 2, &out2, &ol2, NULL) < 0 ||
		    ol2 != ol || memcmp(out, out2, ol) != 0)
			BUG();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (size_t) 256 << 10)
		return 0;
	const char *s = (const char *) data;
	config_round_trip(s, size);
	envelope(s, size);
	inline_cache(s, size);
	return 0;
}
