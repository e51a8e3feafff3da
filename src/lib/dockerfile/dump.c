/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BuildKit's Node.Dump(): `keyword ["flag" ...] "arg" ...`, the keyword
 * lower-cased, every string in Go's strconv.Quote form, an ONBUILD trigger
 * nested in parentheses, the whole trimmed of white space (which only
 * matters for an empty keyword).
 */
#include <string.h>

#include "base/gotext.h"
#include "internal.h"

static int dump_node(const struct kiln_df_node *n, struct kiln_buf *out)
{
	size_t start = out->len;
	int r = kiln_buf_add(out, n->keyword_lower.str, n->keyword_lower.len);
	if (r >= 0 && n->n_flags) {
		r = kiln_buf_add(out, " [", 2);
		for (size_t i = 0; r >= 0 && i < n->n_flags; i++) {
			if (i)
				r = kiln_buf_addch(out, ' ');
			if (r >= 0)
				r = kiln_go_quote(out, n->flags[i].raw.str, n->flags[i].raw.len);
		}
		if (r >= 0)
			r = kiln_buf_addch(out, ']');
	}
	if (r >= 0 && n->onbuild) {
		r = kiln_buf_add(out, " (", 2);
		if (r >= 0)
			r = dump_node(n->onbuild, out);
		if (r >= 0)
			r = kiln_buf_addch(out, ')');
	}
	for (size_t i = 0; r >= 0 && i < n->n_args; i++) {
		r = kiln_buf_addch(out, ' ');
		if (r >= 0)
			r = kiln_go_quote(out, n->args[i].str, n->args[i].len);
	}
	if (r < 0)
		return r;
	/* strings.TrimSpace of this node's text */
	size_t len = out->len - start;
	size_t lead = kiln_go_space_prefix(out->buf + start, len);
	size_t trail = kiln_go_space_suffix(out->buf + start + lead, len - lead);
	if (lead)
		memmove(out->buf + start, out->buf + start + lead, len - lead - trail);
	kiln_buf_setlen(out, out->len - lead - trail);
	return 0;
}

int kiln_df_dump_node(const struct kiln_df_node *node, struct kiln_buf *out)
{
	return dump_node(node, out);
}

int kiln_df_dump(const struct kiln_df_ast *ast, struct kiln_buf *out)
{
	for (size_t i = 0; i < ast->n_nodes; i++) {
		int r = kiln_buf_addch(out, '(');
		if (r >= 0)
			r = dump_node(&ast->nodes[i], out);
		if (r >= 0)
			r = kiln_buf_add(out, ")\n", 2);
		if (r < 0)
			return r;
	}
	return 0;
}
