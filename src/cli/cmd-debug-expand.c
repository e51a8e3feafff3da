/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "shell/shell.h"

static const char *arg_escape;
static int arg_words;
static struct kiln_strv arg_env = KILN_STRV_INIT;

static const struct cli_spec spec = {
	.usage = "kiln debug expand [--env K=V]... [--words] [--escape C] WORD",
	.summary = "Expand WORD as a Dockerfile instruction argument is expanded (BuildKit's rules).",
	.opts = (const struct cli_opt[]){
		{ "env", 'e', CLI_OPT_LIST, &arg_env, "K=V",
		  "set a variable (repeatable; a later one wins; K alone sets K to \"\")" },
		{ "words", 'w', CLI_OPT_FLAG, &arg_words, NULL,
		  "split the result into words, one per line" },
		{ "escape", 0, CLI_OPT_STRING, &arg_escape, "C",
		  "escape character: \\ (default) or ` (as the escape directive)" },
		{ 0 } },
	.details = "Variables not given with --env are unset. Exits 1 when the expansion fails\n"
		   "(for example ${X:?} with X unset), 2 on usage errors.",
};

static int run(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *vars = NULL;
	struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_shell_lex lex = { '\\', 0 };
	int r;

	r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 1)
		return cli_usage_error(&spec, pos.len ? "expected one WORD, got %zu arguments"
						      : "missing WORD",
				       pos.len);
	if (arg_escape) {
		if (strcmp(arg_escape, "\\") != 0 && strcmp(arg_escape, "`") != 0)
			return cli_usage_error(&spec, "--escape must be \\ or `, not '%s'",
					       arg_escape);
		lex.escape = arg_escape[0];
	}
	for (size_t i = 0; i < arg_env.len; i++)
		if (arg_env.items[i][0] == '=' || arg_env.items[i][0] == '\0')
			return cli_usage_error(&spec, "--env wants NAME=VALUE, not '%s'",
					       arg_env.items[i]);

	r = kiln_shell_envlist_new(&vars, &err);
	for (size_t i = 0; r >= 0 && i < arg_env.len; i++)
		r = kiln_shell_envlist_put(vars, arg_env.items[i], &err);
	if (r < 0)
		return cli_report(env, &err);

	struct kiln_shell_env shenv = kiln_shell_envlist_env(vars);
	r = kiln_shell_expand(&lex, pos.items[0], &shenv, &res, &err);
	if (r < 0)
		return cli_report(env, &err);
	if (arg_words) {
		for (size_t i = 0; i < res.words.len; i++)
			printf("%s\n", res.words.items[i]);
	} else {
		printf("%s\n", res.word);
	}
	kiln_shell_result_release(&res);
	return CLI_EXIT_OK;
}

int cmd_debug_expand(int argc, char **argv, struct cli_env *env)
{
	int r = run(argc, argv, env);
	kiln_strv_release(&arg_env);
	return r;
}
