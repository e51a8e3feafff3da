/* SPDX-License-Identifier: Apache-2.0 */
/* The public, self-owning wrappers of the parser's building blocks (syntax.h). */
#include "syntax.h"

#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "internal.h"
#include "model.h"

void kiln_df_textv_release(struct kiln_df_textv *v)
{
	if (!v)
		return;
	kiln_arena_free(v->arena_);
	memset(v, 0, sizeof(*v));
}

void kiln_df_heredocs_release(struct kiln_df_heredocs *h)
{
	if (!h)
		return;
	kiln_arena_free(h->arena_);
	memset(h, 0, sizeof(*h));
}

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* Move a scratch list into ret's arena. */
static int finish_textv(struct df_textvec *tv, struct kiln_df_textv *ret)
{
	int r = df_textvec_finish(tv, ret->arena_, &ret->items, &ret->len);
	df_textvec_release(tv);
	return r;
}

static int start_textv(struct kiln_df_textv *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->arena_ = kiln_arena_new();
	return ret->arena_ ? 0 : oom(err);
}

int kiln_df_parse_words(const char *s, size_t len, int escape, struct kiln_df_textv *ret,
			struct kiln_error *err)
{
	struct df_textvec tv = { 0 };
	int r = start_textv(ret, err);
	if (r < 0)
		return r;
	r = df_parse_words(s, len, escape, ret->arena_, &tv);
	if (r >= 0)
		r = finish_textv(&tv, ret);
	df_textvec_release(&tv);
	if (r < 0) {
		kiln_df_textv_release(ret);
		return oom(err);
	}
	return 0;
}

int kiln_df_parse_json_array(const char *s, size_t len, struct kiln_df_textv *ret,
			     struct kiln_error *err)
{
	struct df_textvec tv = { 0 };
	int nonstring = 0;
	int r = start_textv(ret, err);
	if (r < 0)
		return r;
	size_t lead = kiln_go_space_prefix(s, len);
	if (lead < len && s[lead] == '[')
		r = df_json_array_of_strings(s + lead, len - lead, ret->arena_, &tv, &nonstring);
	if (r == 1 && !nonstring && finish_textv(&tv, ret) < 0)
		r = -KILN_ENOMEM;
	df_textvec_release(&tv);
	if (r < 0) {
		kiln_df_textv_release(ret);
		return oom(err);
	}
	if (r == 1 && nonstring) {
		kiln_df_textv_release(ret);
		return kiln_fail(err, KILN_EPARSE, 0,
				 "when using JSON array syntax, arrays must be comprised of "
				 "strings only");
	}
	return r;
}

int kiln_df_parse_name_val(const char *keyword, const char *rest, size_t len, int escape,
			   struct kiln_df_textv *ret, struct kiln_error *err)
{
	struct df_textvec tv = { 0 };
	int r = start_textv(ret, err);
	if (r < 0)
		return r;
	r = df_parse_name_val(keyword, rest, len, escape, ret->arena_, &tv, err);
	if (r >= 0 && finish_textv(&tv, ret) < 0)
		r = oom(err);
	df_textvec_release(&tv);
	if (r < 0)
		kiln_df_textv_release(ret);
	return r;
}

static int start_heredocs(struct kiln_df_heredocs *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->arena_ = kiln_arena_new();
	return ret->arena_ ? 0 : oom(err);
}

static int finish_heredocs(struct kiln_df_heredocs *ret, struct kiln_df_heredoc *items, size_t n)
{
	if (!n)
		return 0;
	ret->items = kiln_arena_array(ret->arena_, n, sizeof(*items));
	if (!ret->items)
		return -KILN_ENOMEM;
	memcpy(ret->items, items, n * sizeof(*items));
	ret->len = n;
	return 0;
}

int kiln_df_cmdline_is_heredoc(const struct kiln_df_cmdline *cl)
{
	if (!cl->n_files || cl->exec_form || cl->args.n != 1)
		return 0;
	struct kiln_df_heredocs hd = { 0 };
	int single = kiln_df_parse_heredoc(cl->args.v[0], strlen(cl->args.v[0]), &hd, NULL);
	kiln_df_heredocs_release(&hd);
	return single == 1;
}

int kiln_df_parse_heredoc(const char *word, size_t len, struct kiln_df_heredocs *ret,
			  struct kiln_error *err)
{
	struct kiln_df_heredoc h;
	int r = start_heredocs(ret, err);
	if (r < 0)
		return r;
	r = df_parse_heredoc(word, len, ret->arena_, &h, err);
	if (r == 1 && finish_heredocs(ret, &h, 1) < 0)
		r = oom(err);
	if (r < 0)
		kiln_df_heredocs_release(ret);
	return r;
}

int kiln_df_heredocs_from_line(const char *line, size_t len, struct kiln_df_heredocs *ret,
			       struct kiln_error *err)
{
	struct kiln_df_heredoc *items = NULL;
	size_t n = 0, alloc = 0;
	int r = start_heredocs(ret, err);
	if (r < 0)
		return r;
	r = df_heredocs_from_line(line, len, ret->arena_, &items, &n, &alloc, err);
	if (r >= 0 && finish_heredocs(ret, items, n) < 0)
		r = oom(err);
	free(items);
	if (r < 0)
		kiln_df_heredocs_release(ret);
	return r;
}

int kiln_df_chomp_heredoc(const char *s, size_t len, struct kiln_buf *out)
{
	/* (?m)^\t+ : TABs at the start of the text and after every '\n' */
	int at_start = 1;
	size_t i = 0;
	while (i < len) {
		if (at_start) {
			while (i < len && s[i] == '\t')
				i++;
			at_start = 0;
			continue;
		}
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t) (nl - s) + 1 : len;
		int r = kiln_buf_add(out, s + i, end - i);
		if (r < 0)
			return r;
		i = end;
		at_start = nl != NULL;
	}
	return 0;
}
