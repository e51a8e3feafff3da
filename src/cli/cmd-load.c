/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ref/ref.h"
#include "store/store.h"

static const char *arg_input;
static int arg_quiet;

static const struct cli_spec spec = {
	.usage = "kiln load [-i FILE|DIR] [-q]",
	.summary = "Load images from a docker-archive or an oci-archive.",
	.opts =
		(const struct cli_opt[]){
			{ "input", 'i', CLI_OPT_STRING, &arg_input, "FILE",
			  "read FILE, or the OCI layout directory DIR (default: stdin)" },
			{ "quiet", 'q', CLI_OPT_FLAG, &arg_quiet, NULL, "print nothing" },
			{ 0 },
		},
	.details = "Reads what docker save, podman save and skopeo write: docker-archive\n"
		   "(layers plain, gzip or zstd) and oci-archive, the whole file optionally\n"
		   "compressed, and OCI layout directories (an index in them is followed to\n"
		   "this machine's platform). Names come from manifest.json RepoTags, or the\n"
		   "io.containerd.image.name / org.opencontainers.image.ref.name annotations.\n"
		   "Every blob is verified; a bad archive records no image.",
};

int cmd_load(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_input = NULL;
	arg_quiet = 0;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len)
		return cli_usage_error(&spec, "unexpected argument '%s'; use -i FILE",
				       pos.items[0]);
	const char *input = arg_input ? arg_input : "-";
	if (strcmp(input, "-") == 0 && isatty(STDIN_FILENO))
		return cli_usage_error(&spec, "refusing to read an archive from a terminal; use -i FILE");
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_store_load_result res = { 0 };
	struct stat sb;
	int dir = strcmp(input, "-") != 0 && stat(input, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0 ||
	    (dir ? kiln_store_layout_load(st, input, NULL, &res, &err)
		 : kiln_store_load(st, input, KILN_ARCHIVE_AUTO, &res, &err)) < 0)
		return cli_report(env, &err);
	for (size_t i = 0; !arg_quiet && i < res.len; i++) {
		const struct kiln_store_loaded *l = &res.items[i];
		if (l->names.len == 0)
			printf("Loaded image ID: %s\n", l->config.str);
		for (size_t j = 0; j < l->names.len; j++) {
			cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
			cleanup_free char *f = NULL;
			if (kiln_ref_parse_canonical(l->names.items[j], &ref, NULL) == 0)
				f = kiln_ref_familiar_string(ref);
			printf("Loaded image: %s\n", f ? f : l->names.items[j]);
		}
	}
	kiln_store_load_result_release(&res);
	return CLI_EXIT_OK;
}
