/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Developer commands that expose one library function each, for tests and
 * for users checking how kiln reads their input. */
static const struct cli_command debug_commands[] = {
	{ "expand", cmd_debug_expand, "expand a word with BuildKit's shell rules", 0 },
	{ "ignore", cmd_debug_ignore, "tell whether .dockerignore patterns exclude paths", 0 },
	{ "sandbox", cmd_debug_sandbox,
	  "run a command in kiln's sandbox over a root directory", 0 },
	{ "tar-apply", cmd_debug_tar_apply,
	  "apply a layer or extract an archive into a directory", 0 },
	{ "tar-ls", cmd_debug_tar_ls, "list a layer's entries and digests", 0 },
	{ "tar-make", cmd_debug_tar_make, "write a directory or overlay upper as a layer", 0 },
	{ NULL, NULL, NULL, 0 },
};

static void print_debug_help(FILE *out)
{
	fputs("usage: kiln debug <subcommand> [<args>]\n\nsubcommands:\n", out);
	for (const struct cli_command *c = debug_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
}

int cmd_debug(int argc, char **argv, struct cli_env *env)
{
	if (argc < 2) {
		print_debug_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_debug_help(stdout);
		return CLI_EXIT_OK;
	}
	for (const struct cli_command *c = debug_commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1, env);
	fprintf(stderr, "error: unknown debug subcommand '%s'\n", argv[1]);
	print_debug_help(stderr);
	return CLI_EXIT_USAGE;
}
