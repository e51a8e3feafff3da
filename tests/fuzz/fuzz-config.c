/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image config parsing: never crash; an accepted config can be copied and
 * written (BuildKit's spelling), the result parses again, and writing that
 * gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUG() __builtin_trap()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (size_t)256 << 10)
		return 0;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	if (kiln_oci_config_parse((const char *)data, size, &c, NULL) < 0)
		return 0;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *copy = NULL;
	if (kiln_oci_config_copy(c, &copy, NULL) < 0)
		return 0;
	cleanup_free char *a = NULL, *b = NULL, *cc = NULL;
	size_t al = 0, bl = 0, cl = 0;
	int r = kiln_oci_config_to_json(c, &a, &al, NULL);
	if (r == -KILN_ENOMEM)
		return 0;
	if (r < 0)
		BUG(); /* accepted but cannot be written */
	if (kiln_oci_config_to_json(copy, &cc, &cl, NULL) == 0 &&
	    (cl != al || memcmp(a, cc, al) != 0))
		BUG(); /* a copy must write the same bytes */
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *again = NULL;
	if (kiln_oci_config_parse(a, al, &again, NULL) < 0)
		BUG();
	if (kiln_oci_config_to_json(again, &b, &bl, NULL) < 0)
		return 0;
	if (al != bl || memcmp(a, b, al) != 0)
		BUG();
	if (again->n_diff_ids != c->n_diff_ids || again->config.env.len != c->config.env.len)
		BUG();
	int64_t t;
	if (c->created && kiln_oci_time_parse(c->created, &t, NULL) < 0)
		BUG();
	return 0;
}
