/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd-pull.h"
#include "registry/registry.h"
#include "store/store.h"

static struct cli_registry_args arg_reg = { .retries = -1 };
static int arg_quiet;
static long arg_chunk_size;
static int arg_no_mount;

static const struct cli_spec spec = {
	.usage = "kiln push [options] IMAGE [DESTINATION]",
	.summary = "Upload an image from the store to a registry.",
	.opts =
		(const struct cli_opt[]){
			CLI_REGISTRY_TLS_OPTS(arg_reg),
			CLI_REGISTRY_XFER_OPTS(arg_reg),
			{ "chunk-size", 0, CLI_OPT_INT, &arg_chunk_size, "BYTES",
			  "upload blobs larger than this in chunks (default 16 MiB)" },
			{ "no-mount", 0, CLI_OPT_FLAG, &arg_no_mount, NULL,
			  "never mount blobs from other repositories of the registry" },
			{ "quiet", 'q', CLI_OPT_FLAG, &arg_quiet, NULL, "no progress output" },
			{ .long_name = NULL },
		},
	.details =
		"IMAGE is a name, an image id (or a prefix of one) or a digest; DESTINATION\n"
		"a reference to push to (default: IMAGE's own name), normalized as docker does,\n"
		"with \"latest\" when it has no tag. Blobs the registry has are not sent again;\n"
		"a blob kiln saw in another repository of the same registry is mounted from\n"
		"there. The manifest is sent byte for byte, so its digest stays the same.\n"
		"Prints DESTINATION@DIGEST.",
};

int cmd_push(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len < 1 || pos.len > 2)
		return cli_usage_error(&spec, "want an IMAGE and at most one DESTINATION");
	struct kiln_registry_opts o;
	if ((r = cli_registry_opts(&spec, &arg_reg, &o)) != 0)
		return r;
	if (arg_chunk_size < 0)
		return cli_usage_error(&spec, "--chunk-size wants a positive number of bytes");
	o.chunk_size = arg_chunk_size;
	if (arg_no_mount)
		o.flags |= KILN_REGISTRY_NO_MOUNT;
	cleanup(cli_progress_freep) struct cli_progress *prog =
		cli_progress_new(env, arg_quiet, "pushing");
	if (!prog) {
		(void) kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
		return cli_report(env, &err);
	}
	o.on_event = cli_progress_event;
	o.event_userdata = prog;

	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0)
		return cli_report(env, &err);
	struct kiln_registry_push_result res = { 0 };
	const char *dest = pos.len == 2 ? pos.items[1] : NULL;
	if (kiln_registry_push(st, pos.items[0], dest, &o, &res, &err) < 0) {
		(void) kiln_error_prefix(&err, -(int) err.code, "pushing %s",
					 dest ? dest : pos.items[0]);
		return cli_report(env, &err);
	}
	if (!arg_quiet)
		fprintf(stderr,
			"%s: digest: %s (%zu blob%s uploaded, %zu already there, %zu mounted)\n",
			res.dest, res.manifest.str, res.blobs_uploaded,
			res.blobs_uploaded == 1 ? "" : "s", res.blobs_existing, res.blobs_mounted);
	printf("%s@%s\n", res.dest, res.manifest.str);
	kiln_registry_push_result_release(&res);
	return CLI_EXIT_OK;
}
