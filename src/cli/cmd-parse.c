/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dockerfile/dockerfile.h"

static const char *arg_file;
static int arg_dump;
static int arg_json;

static const struct cli_spec spec = {
	.usage = "kiln parse [-f FILE] [--dump | --json]",
	.summary = "Parse a Dockerfile and print its syntax tree.",
	.opts =
		(const struct cli_opt[]){
			{ "file", 'f', CLI_OPT_STRING, &arg_file, "FILE",
			  "the Dockerfile (default: ./Dockerfile; - reads stdin)" },
			{ "dump", 0, CLI_OPT_FLAG, &arg_dump, NULL,
			  "BuildKit's AST dump, one (instruction ...) per line (the default)" },
			{ "json", 0, CLI_OPT_FLAG, &arg_json, NULL,
			  "kiln's JSON model: instructions, flags, heredocs, stages, ..." },
			{ 0 },
		},
	.details = "Nothing is expanded or checked beyond what BuildKit's parser checks.\n"
		   "Warnings (empty continuation lines) go to stderr. The JSON model is\n"
		   "described in docs/dockerfile-json.md.",
};

static int read_input(const char *path, char **data, size_t *len, struct kiln_error *err)
{
	if (strcmp(path, "-") == 0)
		return kiln_read_fd(STDIN_FILENO, KILN_DF_MAX_FILE, data, len, err);
	return kiln_read_file(path, KILN_DF_MAX_FILE, data, len, err);
}

int cmd_parse(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	arg_file = NULL;
	arg_dump = arg_json = 0;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len)
		return cli_usage_error(&spec, "unexpected argument '%s'", pos.items[0]);
	if (arg_dump && arg_json)
		return cli_usage_error(&spec, "--dump and --json exclude each other");
	if (arg_file && !*arg_file)
		return cli_usage_error(&spec, "-f needs a file name");

	const char *path = arg_file ? arg_file : "Dockerfile";
	const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (read_input(path, &data, &len, &err) < 0) {
		if (strcmp(path, "-") == 0)
			(void) kiln_error_prefix(&err, -(int) err.code, "reading %s", shown);
		return cli_report(env, &err);
	}

	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	if (kiln_df_parse(data, len, shown, &ast, &err) < 0)
		return cli_report(env, &err);
	for (size_t i = 0; i < ast->n_warnings; i++)
		cli_warn(env, "%s:%d: %s", shown, ast->warnings[i].line,
			 ast->warnings[i].short_text.str);

	if (arg_json) {
		json_t *j = NULL;
		if (kiln_df_to_json(ast, &j, &err) < 0)
			return cli_report(env, &err);
		int w = json_dumpf(j, stdout, JSON_INDENT(2));
		json_decref(j);
		if (w < 0 || fputc('\n', stdout) == EOF)
			return CLI_EXIT_FAIL;
	} else {
		cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
		if (kiln_df_dump(ast, &out) < 0) {
			(void) kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
			return cli_report(env, &err);
		}
		if (fwrite(out.buf, 1, out.len, stdout) != out.len)
			return CLI_EXIT_FAIL;
	}
	if (fflush(stdout) == EOF) {
		(void) kiln_fail_errno(&err, "writing the output");
		return cli_report(env, &err);
	}
	return CLI_EXIT_OK;
}
