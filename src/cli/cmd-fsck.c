/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "build/build.h"
#include "cli.h"
#include "store/store.h"

static int arg_quick;

static const struct cli_spec spec = {
	.usage = "kiln fsck [--quick]",
	.summary = "Check the store: blob digests, names, images and references.",
	.opts =
		(const struct cli_opt[]){
			{ "quick", 0, CLI_OPT_FLAG, &arg_quick, NULL,
			  "check sizes and references but do not re-hash blobs" },
			{ 0 },
		},
	.details = "Prints one line per problem and exits 1 when there is any.\n"
		   "Unreferenced blobs and temp files are not problems: kiln prune removes them.",
};

int cmd_fsck(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_quick = 0;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len)
		return cli_usage_error(&spec, "unexpected argument '%s'", pos.items[0]);
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	struct kiln_store_fsck_report rep = { 0 };
	size_t dead_builds = 0;
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0 ||
	    kiln_store_fsck(st, arg_quick ? KILN_STORE_FSCK_QUICK : 0, &rep, &err) < 0 ||
	    kiln_build_tmp_prune(st, 1, &dead_builds, &err) < 0)
		return cli_report(env, &err);
	rep.temp_files += dead_builds; /* a killed build's scratch directory */
	for (size_t i = 0; i < rep.n_problems; i++)
		printf("problem: %s\n", rep.problems[i].what);
	printf("checked %zu blobs (%lld bytes%s), %zu images, %zu names\n", rep.blobs_checked,
	       (long long)rep.bytes_checked, arg_quick ? ", sizes only" : "", rep.images_checked,
	       rep.names_checked);
	if (rep.unreferenced_blobs || rep.temp_files)
		printf("%zu unreferenced blobs, %zu temp files (kiln prune removes them)\n",
		       rep.unreferenced_blobs, rep.temp_files);
	int rc = rep.n_problems ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	if (rep.n_problems)
		printf("%zu problem%s found\n", rep.n_problems, rep.n_problems == 1 ? "" : "s");
	else
		printf("no problems found\n");
	kiln_store_fsck_report_release(&rep);
	return rc;
}
