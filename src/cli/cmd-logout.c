/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cmd-pull.h"
#include "registry/registry.h"

static struct cli_registry_args arg_reg = { .retries = -1 };

static const struct cli_spec spec = {
	.usage = "kiln logout [--authfile FILE] SERVER",
	.summary = "Forget the credentials kiln login stored for a registry.",
	.opts =
		(const struct cli_opt[]){
			{ "authfile", 0, CLI_OPT_STRING, &arg_reg.authfile, "FILE",
			  "credentials file (default: ~/.docker/config.json)" },
			{ .long_name = NULL },
		},
	.details = "Removes the server's entry from the credentials file, and asks its\n"
		   "credential helper (credHelpers / credsStore) to erase what it keeps.",
};

int cmd_logout(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 1)
		return cli_usage_error(&spec, "want one SERVER");
	struct kiln_registry_opts o;
	if ((r = cli_registry_opts(&spec, &arg_reg, &o)) != 0)
		return r;
	r = kiln_registry_logout(&env->ctx, pos.items[0], &o, &err);
	if (r == -KILN_ENOTFOUND) {
		/* as docker: not an error, there is nothing to forget */
		printf("Not logged in to %s\n", pos.items[0]);
		kiln_error_release(&err);
		return CLI_EXIT_OK;
	}
	if (r < 0)
		return cli_report(env, &err);
	printf("Removing login credentials for %s\n", pos.items[0]);
	return CLI_EXIT_OK;
}
