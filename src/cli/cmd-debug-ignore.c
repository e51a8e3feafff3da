/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ignore/ignore.h"

static const char *arg_file;
static int arg_verbose;
static struct kiln_strv arg_patterns = KILN_STRV_INIT;

static const struct cli_spec spec = {
	.usage = "kiln debug ignore [--pattern P]... [--file F] [-v] PATH...",
	.summary = "Tell whether .dockerignore patterns exclude each PATH (the path or a parent).",
	.opts = (const struct cli_opt[]){
		{ "pattern", 'p', CLI_OPT_LIST, &arg_patterns, "P",
		  "a pattern, as a .dockerignore line (repeatable; after --file's)" },
		{ "file", 'f', CLI_OPT_STRING, &arg_file, "F", "read patterns from this file" },
		{ "verbose", 'v', CLI_OPT_FLAG, &arg_verbose, NULL,
		  "also print the path and the pattern that decided" },
		{ 0 } },
	.details = "Prints `match` (excluded) or `nomatch` per PATH, as BuildKit's matcher\n"
		   "(MatchesOrParentMatches) answers; paths are used as given. Without --pattern\n"
		   "and --file, ./.dockerignore is read. A bad pattern exits 2 and names it.",
};

static int load(struct kiln_ignore_list *l, struct kiln_error *err)
{
	const char *file = arg_file;
	if (!file && arg_patterns.len == 0)
		file = ".dockerignore";
	if (file) {
		cleanup_free char *data = NULL;
		size_t len = 0;
		int r = kiln_read_file(file, KILN_IGNORE_FILE_MAX, &data, &len, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "reading patterns");
		r = kiln_ignore_read_all(data, len, file, l, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < arg_patterns.len; i++) {
		/* a --pattern is one .dockerignore line */
		struct kiln_ignore_list one = KILN_IGNORE_LIST_INIT;
		const char *p = arg_patterns.items[i];
		int r = kiln_ignore_read_all(p, strlen(p), NULL, &one, err);
		for (size_t k = 0; r >= 0 && k < one.patterns.len; k++) {
			unsigned *lines = kiln_reallocarray(l->lines, l->patterns.len + 1,
							    sizeof(*lines));
			if (!lines) {
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				break;
			}
			l->lines = lines;
			lines[l->patterns.len] = 0;
			size_t *lens = kiln_reallocarray(l->lens, l->patterns.len + 1, sizeof(*lens));
			if (!lens) {
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
				break;
			}
			l->lens = lens;
			lens[l->patterns.len] = one.lens ? one.lens[k] : strlen(one.patterns.items[k]);
			if (kiln_strv_pushn(&l->patterns, one.patterns.items[k], lens[l->patterns.len]) <
			    0)
				r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
		kiln_ignore_list_release(&one);
		if (r < 0)
			return r;
	}
	return 0;
}

static int run(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_ignore_list list = KILN_IGNORE_LIST_INIT;
	struct kiln_ignore_matcher *m = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len == 0)
		return cli_usage_error(&spec, "missing PATH");

	if ((r = load(&list, &err)) < 0) {
		kiln_ignore_list_release(&list);
		return cli_report(env, &err);
	}
	r = kiln_ignore_matcher_new_list(&list, &m, &err);
	kiln_ignore_list_release(&list);
	if (r < 0) {
		(void)cli_report(env, &err);
		return r == -KILN_EPARSE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
	}
	int status = CLI_EXIT_OK;
	for (size_t i = 0; i < pos.len; i++) {
		long by = -1;
		const char *path = pos.items[i];
		r = kiln_ignore_matches_or_parent(m, path, strlen(path), &by, &err);
		if (r < 0) {
			(void)cli_report(env, &err);
			status = r == -KILN_EPARSE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
			break;
		}
		if (!arg_verbose) {
			puts(r ? "match" : "nomatch");
			continue;
		}
		printf("%s\t%s", r ? "match" : "nomatch", path);
		if (by >= 0) {
			struct kiln_ignore_pattern_info info;
			kiln_ignore_matcher_pattern(m, (size_t)by, &info);
			printf("\t%s%s", info.exception ? "!" : "", info.pattern);
			if (info.source && info.line)
				printf("\t%s:%u", info.source, info.line);
		}
		putchar('\n');
	}
	kiln_ignore_matcher_free(m);
	if (fflush(stdout) != 0 && status == CLI_EXIT_OK)
		status = CLI_EXIT_FAIL;
	return status;
}

int cmd_debug_ignore(int argc, char **argv, struct cli_env *env)
{
	int r = run(argc, argv, env);
	kiln_strv_release(&arg_patterns);
	return r;
}
