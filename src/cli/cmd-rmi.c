/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cli.h"
#include "ref/ref.h"
#include "store/store.h"

static int arg_force;

static const struct cli_spec spec = {
	.usage = "kiln rmi [-f] IMAGE...",
	.summary = "Remove images or their names.",
	.opts =
		(const struct cli_opt[]){
			{ "force", 'f', CLI_OPT_FLAG, &arg_force, NULL,
			  "remove an image given by id even when several repositories name it" },
			{ 0 },
		},
	.details = "A name removes that name, and the image once it has no name left; an\n"
		   "id or digest removes the image with all its names. Blobs nothing else\n"
		   "uses are freed at once when no other kiln is running, else by kiln prune;\n"
		   "layers the build cache holds stay until kiln prune.",
};

static void print_familiar(const char *label, const char *name)
{
	cleanup(kiln_ref_freep) struct kiln_ref *ref = NULL;
	cleanup_free char *f = NULL;
	if (kiln_ref_parse_canonical(name, &ref, NULL) == 0)
		f = kiln_ref_familiar_string(ref);
	printf("%s: %s\n", label, f ? f : name);
}

int cmd_rmi(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_force = 0;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len == 0)
		return cli_usage_error(&spec, "name at least one image");
	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0)
		return cli_report(env, &err);
	int rc = CLI_EXIT_OK, deleted = 0;
	for (size_t i = 0; i < pos.len; i++) {
		struct kiln_store_rmi_result res;
		if (kiln_store_rmi(st, pos.items[i], arg_force ? KILN_STORE_RMI_FORCE : 0, &res,
				   &err) < 0) {
			rc = cli_report(env, &err);
			continue;
		}
		for (size_t j = 0; j < res.untagged.len; j++)
			print_familiar("Untagged", res.untagged.items[j]);
		if (res.deleted) {
			printf("Deleted: %s\n", res.config.str);
			deleted = 1;
		}
		kiln_store_rmi_result_release(&res);
	}
	if (deleted) {
		/* free the space now if no other kiln holds the store; else prune will.
		 * The build cache stays until kiln prune. */
		struct kiln_store_prune_report rep;
		if (kiln_store_prune(st, KILN_STORE_PRUNE_NOWAIT | KILN_STORE_PRUNE_KEEP_CACHES,
				     &rep, &err) < 0)
			kiln_error_release(&err);
	}
	return rc;
}
