/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the Dockerfile parser: arbitrary bytes are parsed, and a
 * tree is dumped (BuildKit's format) and turned into the JSON model. The
 * syntax helpers run on the same bytes. Besides never crashing, it checks
 * what must hold for every input: a failure has a message and, for parse
 * errors, a position; a tree's lines are ordered and inside the file;
 * every dump line is one parenthesised instruction; the JSON model
 * serialises.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dockerfile/dockerfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_node(const struct kiln_df_node *n, int lines, int depth)
{
	if (n->start_line < 1 || n->end_line < n->start_line || n->end_line > lines)
		abort();
	if (!n->keyword.str || !n->keyword_lower.str || !n->original.str)
		abort();
	if (depth > KILN_DF_MAX_ONBUILD_DEPTH)
		abort();
	for (size_t i = 0; i < n->n_heredocs; i++) {
		const struct kiln_df_heredoc *h = &n->heredocs[i];
		if (h->start_line <= n->start_line || h->end_line < h->start_line ||
		    h->end_line > n->end_line)
			abort();
	}
	for (size_t i = 0; i < n->n_flags; i++)
		if (n->flags[i].raw.len < 2 || memcmp(n->flags[i].raw.str, "--", 2) != 0)
			abort();
	if (n->onbuild)
		check_node(n->onbuild, lines, depth + 1);
}

static void check_tree(const struct kiln_df_ast *ast)
{
	if (ast->n_nodes == 0 || (ast->escape != '\\' && ast->escape != '`'))
		abort();
	int prev_end = 0;
	for (size_t i = 0; i < ast->n_nodes; i++) {
		const struct kiln_df_node *n = &ast->nodes[i];
		check_node(n, ast->n_lines, 0);
		if (n->start_line <= prev_end)
			abort();
		prev_end = n->end_line;
	}
	for (size_t i = 1; i < ast->n_comments; i++)
		if (ast->comments[i].line <= ast->comments[i - 1].line)
			abort();
	for (size_t i = 0; i < ast->n_warnings; i++)
		if (ast->warnings[i].line > ast->n_lines || ast->warnings[i].start_line < 1)
			abort();

	struct kiln_buf out = KILN_BUF_INIT;
	if (kiln_df_dump(ast, &out) == 0) {
		/* one line per instruction, each "(...)" */
		size_t lines = 0;
		for (size_t i = 0; i < out.len; i++)
			lines += out.buf[i] == '\n';
		if (lines != ast->n_nodes || out.buf[0] != '(' || out.buf[out.len - 2] != ')')
			abort();
	}
	kiln_buf_release(&out);

	json_t *j = NULL;
	if (kiln_df_to_json(ast, &j, NULL) == 0) {
		char *s = json_dumps(j, JSON_COMPACT);
		if (!s)
			abort();
		free(s);
		json_decref(j);
	}
}

static void helpers(const char *s, size_t len)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_df_syntax_directive d = { 0 };
	if (kiln_df_detect_syntax(s, len, &d, &err) == 1 && !d.value.str)
		abort();
	kiln_df_syntax_directive_release(&d);
	kiln_error_release(&err);

	struct kiln_df_heredocs h = { 0 };
	if (kiln_df_heredocs_from_line(s, len, &h, &err) < 0 && !err.msg)
		abort();
	kiln_df_heredocs_release(&h);
	kiln_error_release(&err);

	struct kiln_df_textv v = { 0 };
	if (kiln_df_parse_json_array(s, len, &v, &err) < 0 && !err.msg)
		abort();
	kiln_df_textv_release(&v);
	kiln_error_release(&err);

	if (kiln_df_parse_words(s, len, '`', &v, NULL) == 0)
		kiln_df_textv_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (size_t) 1 << 20)
		return 0;
	/* an exact-size copy, so that reading past the end is caught */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);

	struct kiln_df_ast *ast = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_df_parse(buf, size, "Dockerfile", &ast, &err);
	if (r < 0) {
		if (!err.msg || err.code == KILN_OK || ast)
			abort();
		if (err.code == KILN_EPARSE && err.pos.line < 1)
			abort();
	} else {
		check_tree(ast);
	}
	kiln_df_ast_free(ast);
	kiln_error_release(&err);

	/* the first line alone, as the helpers see single lines */
	const char *nl = memchr(buf, '\n', size);
	helpers(buf, nl ? (size_t) (nl - buf) : size);
	free(buf);
	return 0;
}
