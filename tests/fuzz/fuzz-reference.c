/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference parsing: never crash, and every accepted reference round-trips:
 * its full spelling parses canonically to itself and its familiar spelling
 * normalizes back to the same full spelling.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "ref/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct kiln_ref *ref)
{
	cleanup_free char *full = kiln_ref_string(ref);
	cleanup_free char *fam = kiln_ref_familiar_string(ref);
	if (!full || !fam)
		return;
	cleanup(kiln_ref_freep) struct kiln_ref *a = NULL;
	cleanup(kiln_ref_freep) struct kiln_ref *b = NULL;
	if (kiln_ref_parse_canonical(full, &a, NULL) < 0)
		__builtin_trap();
	if (kiln_ref_parse(fam, 0, &b, NULL) < 0)
		__builtin_trap();
	cleanup_free char *fa = kiln_ref_string(a);
	cleanup_free char *fb = kiln_ref_string(b);
	if (fa && strcmp(fa, full) != 0)
		__builtin_trap();
	if (fb && strcmp(fb, full) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > KILN_REF_INPUT_MAX + 16)
		return 0;
	cleanup_free char *s = kiln_strndup((const char *) data, size);
	if (!s)
		return 0;
	struct kiln_error err = KILN_ERROR_INIT;
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	if (kiln_ref_parse(s, KILN_REF_DEFAULT_TAG_LATEST, &ref, &err) == 0)
		check_round_trip(ref);
	else if (!err.msg)
		__builtin_trap();
	kiln_error_release(&err);

	cleanup(kiln_ref_freep) struct kiln_ref *canon = NULL;
	if (kiln_ref_parse_canonical(s, &canon, NULL) == 0)
		check_round_trip(canon);
	(void) kiln_ref_tag_valid(s);
	(void) kiln_ref_domain_valid(s, strlen(s));
	int r = kiln_ref_digest_validate(s, strlen(s), NULL);
	(void) r;
	return 0;
}
