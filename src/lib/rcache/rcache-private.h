/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Inside the rcache module. */
#include <jansson.h>

#include "rcache/rcache.h"

/**
 * Parse a JSON array of cache records into `c`, whose layers are filled
 * already (an inline cache takes them from the image), and check the
 * result as kiln_rcache_config_parse() does.
 */
int rc_parse_records(json_t *records, struct kiln_rcache_config *c, struct kiln_error *err)
	__attribute__((warn_unused_result));
