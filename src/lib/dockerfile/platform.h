/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/alloc.h"
#include "base/error.h"

/*
 * Platforms as BuildKit reads them (containerd's platforms package):
 * `os[(osversion)][/arch[/variant]]`, normalized (x86_64 -> amd64, aarch64
 * -> arm64, armhf -> arm/v7, macos -> darwin, ...). FROM --platform,
 * kiln's --platform options and the TARGET* / BUILD* build args use these.
 */
struct kiln_df_platform {
	char *os;
	char *arch;
	char *variant;	  /* "" when none */
	char *os_version; /* "" when none */
};

void kiln_df_platform_release(struct kiln_df_platform *p);

/**
 * platforms.Parse. Errors (KILN_EINVAL) carry containerd's messages, e.g.
 * `"" is an invalid component of "linux/": platform specifier component
 * must match "^[A-Za-z0-9_.-]+$": invalid argument`. A lone OS gets the
 * host's architecture, a lone architecture the host's OS, as upstream.
 */
int kiln_df_platform_parse(const char *s, struct kiln_df_platform *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * platforms.Normalize, which BuildKit applies to the target platforms of a
 * build after parsing them: arm64's "v8" is no variant (linux/arm64/v8 is
 * linux/arm64), arm without one is "v7". 0 or -KILN_ENOMEM.
 */
int kiln_df_platform_normalize(struct kiln_df_platform *p) __attribute__((warn_unused_result));

/** The machine kiln runs on (platforms.DefaultSpec): linux/amd64, linux/arm64/v8, ... */
int kiln_df_platform_host(struct kiln_df_platform *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** platforms.Format ("linux/arm/v7") and FormatAll (with "(osversion)"); heap strings. */
char *kiln_df_platform_format(const struct kiln_df_platform *p) __attribute__((warn_unused_result));
char *kiln_df_platform_format_all(const struct kiln_df_platform *p)
	__attribute__((warn_unused_result));

int kiln_df_platform_copy(const struct kiln_df_platform *src, struct kiln_df_platform *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));
