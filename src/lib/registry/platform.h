/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/error.h"
#include "store/oci.h"

/**
 * Platform specifiers and manifest-list selection with containerd's rules
 * (its platforms package):
 *
 * - normalization: x86_64/x86-64 → amd64, aarch64 → arm64, i386 → 386,
 *   armhf → arm/v7, armel → arm/v6, "arm" alone means arm/v7, arm64's v8
 *   and amd64's v1 are the defaults and are dropped, macos → darwin;
 * - a specifier is "os", "arch" or "os/arch[/variant]"; a lone OS gets the
 *   host's architecture, a lone architecture the OS "linux";
 * - selection prefers the exact platform, then what it can also run, in
 *   order: amd64/vN → vN-1 … v1 → 386; arm/vN → arm/vN-1 … v5;
 *   arm64/v8.x → v8.x-1 … v8 → arm/v8 … arm/v5 (v9.x also v8.x+5);
 * - an entry whose os.features are not all wanted does not match.
 */

#define KILN_PLATFORM_SPEC_MAX 256

/** Normalize in place (lower-case, aliases, default variants). */
int kiln_platform_normalize(struct kiln_oci_platform *p, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Parse a specifier into a normalized platform (ret is overwritten). */
int kiln_platform_parse(const char *spec, struct kiln_oci_platform *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The host's platform: linux, the machine's GOARCH name and, on 32-bit arm,
 * the variant read from /proc/cpuinfo.
 */
int kiln_platform_host(struct kiln_oci_platform *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * How well `have` serves `want`: 0 for an exact match, 1, 2, ... for the
 * compatible fallbacks in preference order, -1 when it cannot run. Both are
 * normalized first (neither is modified).
 */
int kiln_platform_rank(const struct kiln_oci_platform *want, const struct kiln_oci_platform *have);

/**
 * The index of the best entry of `manifests` (descriptors with a platform)
 * for `want`: the lowest rank, the first of equal ones. -1 when none
 * matches; entries without a platform never match.
 */
long kiln_platform_select(const struct kiln_oci_platform *want,
			  const struct kiln_oci_descriptor *manifests, size_t n);
