/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "cli.h"

/*
 * What pull, push, login and logout share (cmd-pull.c): the registry flags
 * and the progress display.
 */
struct cli_registry_args {
	const char *platform;
	const char *tls_verify; /* --tls-verify[=true|false] */
	int insecure;
	const char *cert_dir;
	const char *authfile;
	const char *creds;
	long retries; /* -1 = not given */
	long parallel;
};
/* Option rows for the spec tables, one per line. */
/* clang-format off */
#define CLI_REGISTRY_TLS_OPTS(a)                                                                 \
	{ "tls-verify", 0, CLI_OPT_OPTIONAL, &(a).tls_verify, "BOOL",                            \
	  "verify TLS (default true); false also allows plain http" },                           \
		{ "insecure", 0, CLI_OPT_FLAG, &(a).insecure, NULL, "same as --tls-verify=false" }, \
		{ "cert-dir", 0, CLI_OPT_STRING, &(a).cert_dir, "DIR",                             \
		  "CAs (*.crt) and client certificates (*.cert + *.key) for the registry" },       \
		{ "authfile", 0, CLI_OPT_STRING, &(a).authfile, "FILE",                            \
		  "credentials file (default: ~/.docker/config.json)" }
#define CLI_REGISTRY_XFER_OPTS(a)                                                                \
	{ "creds", 0, CLI_OPT_STRING, &(a).creds, "USER[:PASSWORD]",                             \
	  "credentials for the registry (instead of the credentials file)" },                    \
		{ "retries", 0, CLI_OPT_INT, &(a).retries, "N",                                    \
		  "attempts after a failure (429, 5xx, broken connection; default 5)" },         \
		{ "parallel", 0, CLI_OPT_INT, &(a).parallel, "N", "blobs at a time (default 3)" }
/* clang-format on */
struct cli_spec;
struct kiln_registry_opts;
struct kiln_registry_event;
/** Fill registry options from the flags; CLI_EXIT_USAGE (after a message) on bad ones. */
int cli_registry_opts(const struct cli_spec *spec, const struct cli_registry_args *a,
		      struct kiln_registry_opts *o);
struct cli_progress;
/** A progress display on stderr; `verb` is "pulling" or "pushing". NULL on ENOMEM. */
struct cli_progress *cli_progress_new(struct cli_env *env, int quiet, const char *verb);
void cli_progress_free(struct cli_progress *p);
KILN_DEFINE_CLEANUP(struct cli_progress, cli_progress_free)
/** kiln_registry_event_fn for a struct cli_progress. */
void cli_progress_event(void *userdata, const struct kiln_registry_event *ev);
