/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"

/*
 * The command table (git's pattern). Keep it sorted by name; `kiln help`
 * prints it in this order.
 */
const struct cli_command cli_commands[] = {
	{ "debug", cmd_debug, "developer tools: see how kiln reads words, patterns, ..." },
	{ "parse", cmd_parse, "print a Dockerfile's syntax tree (BuildKit's dump or JSON)" },
	{ "version", cmd_version, "print kiln's version and the libraries it uses" },
	{ NULL, NULL, NULL },
};
