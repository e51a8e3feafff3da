/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "store/store.h"

static const struct cli_spec spec = {
	.usage = "kiln inspect IMAGE...",
	.summary = "Show images' configs and manifests as JSON (like docker image inspect).",
	.opts = (const struct cli_opt[]){ { 0 } },
	.details = "Prints a JSON array with one object per image: Id (the config digest),\n"
		   "RepoTags, RepoDigests, Created, Author, Config, Architecture, Os, Size,\n"
		   "RootFS, History, and the manifest (Digest, MediaType, Manifest).",
};

int cmd_inspect(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len == 0)
		return cli_usage_error(&spec, "name at least one image");
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	if (kiln_store_open(&env->ctx, env->root, KILN_STORE_NO_GC_LOCK, &st, &err) < 0)
		return cli_report(env, &err);
	int rc = CLI_EXIT_OK;
	cleanup(json_decrefp) json_t *arr = json_array();
	if (!arr)
		return CLI_EXIT_FAIL;
	for (size_t i = 0; i < pos.len; i++) {
		struct kiln_digest d;
		cleanup_free char *s = NULL;
		size_t len = 0;
		if (kiln_store_resolve(st, pos.items[i], &d, &err) < 0 ||
		    kiln_store_inspect(st, &d, &s, &len, &err) < 0) {
			rc = cli_report(env, &err);
			continue;
		}
		json_error_t je;
		json_t *o = json_loadb(s, len, 0, &je);
		if (!o || json_array_append_new(arr, o) < 0) {
			fprintf(stderr, "error: %s: %s\n", pos.items[i], o ? "out of memory" : je.text);
			rc = CLI_EXIT_FAIL;
		}
	}
	if (json_dumpf(arr, stdout, JSON_INDENT(4)) < 0 || fputc('\n', stdout) == EOF)
		rc = CLI_EXIT_FAIL;
	return rc;
}
