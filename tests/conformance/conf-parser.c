/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance: BuildKit's Dockerfile parser test data, read as each set's
 * FORMAT.md says.
 *
 *   buildkit-parser/          33 cases: dump + "\n" must equal `result` byte for byte
 *   buildkit-parser-negative/  4 cases: the parse must fail with a located error
 *   buildkit-parser-tables/   the 116 rows of its 11 TSV tables, plus the
 *                             over-long line case (line-too-long.Dockerfile,
 *                             which has no TSV row): 117 cases
 *
 * One TAP case per upstream case or row; a "# conformance <set> N/M" line
 * per set, or "# conformance <set> ABSENT" with a skipped case when the data
 * is not there.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "dockerfile/dockerfile.h"
#include "tap.h"

struct set {
	const char *name;
	int passed, total;
};

static void set_case(struct set *s, int ok)
{
	s->total++;
	if (ok)
		s->passed++;
}

static void set_report(const struct set *s)
{
	printf("# conformance %s %d/%d\n", s->name, s->passed, s->total);
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *read_all(const char *path, size_t *len)
{
	char *data = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_read_file(path, (size_t) 1 << 24, &data, len, &err) < 0) {
		tap_diag("%s: %s", path, err.msg ? err.msg : "read failed");
		kiln_error_release(&err);
		return NULL;
	}
	return data;
}

/* ---- TSV: one row = fields; `_esc` columns decoded ---- */

struct field {
	char *s;
	size_t len;
};

/* Decode \\ \t \n \r \xHH in place. */
static size_t unescape(char *s, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\' || i + 1 >= len) {
			s[w++] = s[i];
			continue;
		}
		char c = s[++i];
		if (c == 't') {
			s[w++] = '\t';
		} else if (c == 'n') {
			s[w++] = '\n';
		} else if (c == 'r') {
			s[w++] = '\r';
		} else if (c == 'x' && i + 2 < len) {
			char hx[3] = { s[i + 1], s[i + 2], 0 };
			s[w++] = (char) strtol(hx, NULL, 16);
			i += 2;
		} else {
			s[w++] = c; /* \\ and anything else */
		}
	}
	s[w] = '\0';
	return w;
}

struct tsv {
	char *data;
	char **header;
	size_t ncols;
	int *esc;     /* per column: decode */
	int var_from; /* first column of a trailing "..." group, or -1 */
	struct field **rows;
	size_t *row_n;
	size_t nrows;
};

static void tsv_free(struct tsv *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i]);
	free(t->rows);
	free(t->row_n);
	free(t->header);
	free(t->esc);
	free(t->data);
	memset(t, 0, sizeof(*t));
}

static int tsv_read(const char *dir, const char *name, struct tsv *t)
{
	cleanup_free char *path = kiln_asprintf("%s/%s", dir, name);
	size_t len = 0;
	memset(t, 0, sizeof(*t));
	t->var_from = -1;
	if (!path || !(t->data = read_all(path, &len)))
		return -1;
	char *p = t->data, *end = t->data + len;
	size_t line = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t) (end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		/* split on TAB */
		size_t n = 1;
		for (char *q = p; *q; q++)
			n += *q == '\t';
		struct field *f = calloc(n, sizeof(*f));
		if (!f)
			return -1;
		size_t k = 0;
		char *q = p;
		for (;;) {
			char *tab = strchr(q, '\t');
			if (tab)
				*tab = '\0';
			f[k].s = q;
			f[k].len = strlen(q);
			k++;
			if (!tab)
				break;
			q = tab + 1;
		}
		if (line == 0) {
			t->ncols = n;
			t->header = calloc(n, sizeof(char *));
			t->esc = calloc(n, sizeof(int));
			if (!t->header || !t->esc)
				return -1;
			for (size_t i = 0; i < n; i++) {
				char *h = f[i].s;
				size_t hl = strlen(h);
				if (hl > 3 && strcmp(h + hl - 3, "...") == 0) {
					h[hl - 3] = '\0';
					hl -= 3;
					t->var_from = (int) i;
				}
				t->header[i] = h;
				t->esc[i] = hl > 4 && strcmp(h + hl - 4, "_esc") == 0;
			}
			free(f);
		} else {
			for (size_t i = 0; i < n; i++) {
				size_t col = i < t->ncols ? i
							  : (size_t) (t->var_from >= 0 ? t->var_from
										       : 0);
				if (t->esc[col])
					f[i].len = unescape(f[i].s, f[i].len);
			}
			struct field **nr = realloc(t->rows, (t->nrows + 1) * sizeof(*nr));
			size_t *nn = realloc(t->row_n, (t->nrows + 1) * sizeof(*nn));
			if (nr)
				t->rows = nr;
			if (nn)
				t->row_n = nn;
			if (!nr || !nn) {
				free(f);
				return -1;
			}
			t->rows[t->nrows] = f;
			t->row_n[t->nrows] = n;
			t->nrows++;
		}
		line++;
		p = nl + 1;
	}
	return 0;
}

static int feq(const struct field *f, const char *s, size_t len)
{
	return f->len == len && memcmp(f->s, s, len) == 0;
}

static int fis(const struct field *f, const char *s)
{
	return feq(f, s, strlen(s));
}

static void diag_text(const char *label, const char *s, size_t len)
{
	cleanup(kiln_buf_release) struct kiln_buf q = KILN_BUF_INIT;
	if (kiln_go_quote(&q, s, len) >= 0)
		tap_diag("%s %s", label, q.buf);
}

/* ---- buildkit-parser ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static size_t list_cases(const char *dir, char ***ret)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		cleanup_free char *p = kiln_asprintf("%s/%s", dir, de->d_name);
		if (!p || !is_dir(p))
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	return n;
}

static void free_cases(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void run_positive(const char *root)
{
	struct set s = { "parser", 0, 0 };
	cleanup_free char *dir = kiln_asprintf("%s/buildkit-parser", root);
	if (!dir || !is_dir(dir)) {
		printf("# conformance parser ABSENT\n");
		tap_skip("no data", "buildkit-parser");
		return;
	}
	char **names = NULL;
	size_t n = list_cases(dir, &names);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *df = kiln_asprintf("%s/%s/Dockerfile", dir, names[i]);
		cleanup_free char *rf = kiln_asprintf("%s/%s/result", dir, names[i]);
		size_t dlen = 0, rlen = 0;
		cleanup_free char *data = df ? read_all(df, &dlen) : NULL;
		cleanup_free char *want = rf ? read_all(rf, &rlen) : NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
		cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
		int ok = data && want && kiln_df_parse(data, dlen, "Dockerfile", &ast, &err) >= 0 &&
			 kiln_df_dump(ast, &out) >= 0 && out.len == rlen &&
			 memcmp(out.buf, want, rlen) == 0;
		if (!TAP_OK(ok, "parser %s", names[i])) {
			if (err.msg)
				tap_diag("error: %s", err.msg);
			tap_diag_block("got", out.buf);
			tap_diag_block("want", want);
		}
		kiln_error_release(&err);
		set_case(&s, ok);
	}
	free_cases(names, n);
	set_report(&s);
}

static void run_negative(const char *root)
{
	struct set s = { "parser-negative", 0, 0 };
	cleanup_free char *dir = kiln_asprintf("%s/buildkit-parser-negative", root);
	if (!dir || !is_dir(dir)) {
		printf("# conformance parser-negative ABSENT\n");
		tap_skip("no data", "buildkit-parser-negative");
		return;
	}
	char **names = NULL;
	size_t n = list_cases(dir, &names);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *df = kiln_asprintf("%s/%s/Dockerfile", dir, names[i]);
		size_t dlen = 0;
		cleanup_free char *data = df ? read_all(df, &dlen) : NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
		int r = data ? kiln_df_parse(data, dlen, "Dockerfile", &ast, &err) : 0;
		int ok = data && r == -KILN_EPARSE && err.pos.line > 0 && err.pos.file &&
			 strcmp(err.pos.file, "Dockerfile") == 0;
		TAP_OK(ok, "parser-negative %s: Dockerfile:%d: %s", names[i], err.pos.line,
		       err.msg ? err.msg : "(no error)");
		kiln_error_release(&err);
		set_case(&s, ok);
	}
	free_cases(names, n);
	set_report(&s);
}

/* ---- buildkit-parser-tables ---- */

static struct kiln_df_ast *parse_file(const char *dir, const char *name)
{
	cleanup_free char *path = kiln_asprintf("%s/%s", dir, name);
	size_t len = 0;
	cleanup_free char *data = path ? read_all(path, &len) : NULL;
	struct kiln_df_ast *ast = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (data && kiln_df_parse(data, len, name, &ast, &err) < 0) {
		tap_diag("%s: %s", name, err.msg ? err.msg : "parse failed");
		ast = NULL;
	}
	kiln_error_release(&err);
	return ast;
}

static int want_int(const struct field *f, long long got)
{
	return strtoll(f->s, NULL, 10) == got;
}

/* heredoc-extract.tsv / heredoc-json.tsv over their Dockerfile */
static void table_heredoc_nodes(struct set *s, const char *dir, const char *tsv, const char *df)
{
	struct tsv t;
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = parse_file(dir, df);
	int readable = tsv_read(dir, tsv, &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		size_t child = (size_t) strtoul(f[0].s, NULL, 10);
		int ok = ast && child < ast->n_nodes && t.row_n[i] >= 7;
		const struct kiln_df_node *n = ok ? &ast->nodes[child] : NULL;
		if (ok && fis(&f[1], "-")) {
			ok = n->n_heredocs == 0;
		} else if (ok) {
			size_t h = (size_t) strtoul(f[1].s, NULL, 10);
			ok = h < n->n_heredocs;
			const struct kiln_df_heredoc *hd = ok ? &n->heredocs[h] : NULL;
			ok = ok && feq(&f[2], hd->name.str, hd->name.len) &&
			     want_int(&f[3], (long long) hd->fd) &&
			     fis(&f[4], hd->expand ? "true" : "false") &&
			     fis(&f[5], hd->chomp ? "true" : "false") &&
			     feq(&f[6], hd->content.str, hd->content.len);
			if (!ok && hd) {
				diag_text("name", hd->name.str, hd->name.len);
				diag_text("content", hd->content.str, hd->content.len);
				tap_diag("fd %llu expand %d chomp %d", (unsigned long long) hd->fd,
					 hd->expand, hd->chomp);
			}
		}
		TAP_OK(ok, "parser-tables %s child %s heredoc %s", tsv, f[0].s, f[1].s);
		set_case(s, ok);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables %s readable", tsv);
		set_case(s, 0);
	}
	tsv_free(&t);
}

static void table_heredoc_parse(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "heredoc-parse.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		struct kiln_df_heredocs h = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_parse_heredoc(f[0].s, f[0].len, &h, &err);
		int ok;
		if (fis(&f[1], "error"))
			ok = r == -KILN_EPARSE;
		else if (fis(&f[1], "none"))
			ok = r == 0;
		else
			ok = r == 1 && f[1].len > 5 && h.len == 1 &&
			     feq(&(struct field){ f[1].s + 5, f[1].len - 5 }, h.items[0].name.str,
				 h.items[0].name.len);
		TAP_OK(ok, "parser-tables heredoc-parse %s -> %s%s%s", f[0].s, f[1].s,
		       err.msg ? ": " : "", err.msg ? err.msg : "");
		set_case(s, ok);
		kiln_df_heredocs_release(&h);
		kiln_error_release(&err);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables heredoc-parse.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

/*
 * heredoc-from-line.tsv. Upstream (TestHeredocsFromLine) asserts that every
 * heredoc found has the listed name at its position; it does not assert
 * that all listed names are found, and for `RUN <<- EOF` BuildKit's lexer
 * yields `<<-` and `EOF` as two words, so it finds none. The same check
 * here, plus: no more heredocs than listed.
 */
static void table_heredoc_from_line(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "heredoc-from-line.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		struct kiln_df_heredocs h = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_heredocs_from_line(f[0].s, f[0].len, &h, &err);
		int ok = r == 0;
		size_t want_n = 0;
		char *names[16];
		cleanup_free char *copy = strdup(f[1].s);
		if (copy && !fis(&f[1], "-")) {
			for (char *tok = strtok(copy, ","); tok && want_n < 16;
			     tok = strtok(NULL, ","))
				names[want_n++] = tok;
		}
		ok = ok && copy && h.len <= want_n;
		for (size_t k = 0; ok && k < h.len; k++)
			ok = strlen(names[k]) == h.items[k].name.len &&
			     memcmp(names[k], h.items[k].name.str, h.items[k].name.len) == 0;
		if (ok && h.len < want_n)
			tap_diag("%s: %zu of %zu listed heredocs found, as BuildKit", f[0].s, h.len,
				 want_n);
		TAP_OK(ok, "parser-tables heredoc-from-line %s -> %s", f[0].s, f[1].s);
		set_case(s, ok);
		kiln_df_heredocs_release(&h);
		kiln_error_release(&err);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables heredoc-from-line.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

static void table_heredoc_chomp(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "heredoc-chomp.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
		int ok = kiln_df_chomp_heredoc(f[0].s, f[0].len, &out) >= 0 &&
			 feq(&f[1], out.buf, out.len);
		TAP_OK(ok, "parser-tables heredoc-chomp row %zu", i + 1);
		set_case(s, ok);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables heredoc-chomp.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

/* Rows whose trailing columns list texts: compare with a list. */
static int list_eq(const struct field *f, size_t nf, size_t from, const struct kiln_df_text *items,
		   size_t n)
{
	if (nf < from || nf - from != n) {
		/* an empty single element is written as one empty trailing column */
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!feq(&f[from + i], items[i].str, items[i].len))
			return 0;
	return 1;
}

static void table_json_array(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "json-array.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		struct kiln_df_textv v = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_parse_json_array(f[0].s, f[0].len, &v, &err);
		int ok;
		if (fis(&f[1], "error")) {
			ok = r == -KILN_EPARSE;
		} else {
			size_t count = (size_t) strtoul(f[2].s, NULL, 10);
			ok = r == 1 && v.len == count && list_eq(f, t.row_n[i], 3, v.items, v.len);
			/* `[]` has no element columns */
			if (r == 1 && count == 0 && v.len == 0)
				ok = 1;
		}
		TAP_OK(ok, "parser-tables json-array row %zu (%s)", i + 1, f[1].s);
		set_case(s, ok);
		kiln_df_textv_release(&v);
		kiln_error_release(&err);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables json-array.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

static void table_parse_words(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "parse-words.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		struct kiln_df_textv v = { 0 };
		int ok = kiln_df_parse_words(f[0].s, f[0].len, '\\', &v, NULL) >= 0 &&
			 v.len == (size_t) strtoul(f[1].s, NULL, 10) &&
			 list_eq(f, t.row_n[i], 2, v.items, v.len);
		TAP_OK(ok, "parser-tables parse-words %s", f[0].s);
		set_case(s, ok);
		kiln_df_textv_release(&v);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables parse-words.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

static void table_name_val(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "name-val.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		struct kiln_df_textv v = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_parse_name_val(f[0].s, f[1].s, f[1].len, '\\', &v, &err);
		int ok;
		if (fis(&f[2], "error"))
			ok = r == -KILN_EPARSE && err.msg &&
			     strcmp(err.msg, "ENV must have two arguments") == 0;
		else
			ok = r == 0 && list_eq(f, t.row_n[i], 3, v.items, v.len);
		TAP_OK(ok, "parser-tables name-val %s %s -> %s", f[0].s, f[1].s, f[2].s);
		set_case(s, ok);
		kiln_df_textv_release(&v);
		kiln_error_release(&err);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables name-val.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

/* "count=1;name=escape;value=\" against ParseAll's result */
static int directives_match(const char *spec, const struct kiln_df_directives *d)
{
	cleanup_free char *copy = strdup(spec);
	if (!copy)
		return 0;
	size_t idx = 0;
	long count = -1;
	const char *name = NULL;
	for (char *tok = strtok(copy, ";"); tok; tok = strtok(NULL, ";")) {
		if (strncmp(tok, "count=", 6) == 0) {
			count = strtol(tok + 6, NULL, 10);
		} else if (strncmp(tok, "name=", 5) == 0) {
			name = tok + 5;
		} else if (strncmp(tok, "value=", 6) == 0) {
			if (!name || idx >= d->len || strcmp(d->items[idx].name.str, name) != 0 ||
			    strcmp(d->items[idx].value.str, tok + 6) != 0)
				return 0;
			idx++;
			name = NULL;
		}
	}
	return count >= 0 && (size_t) count == d->len && idx == d->len;
}

static void table_directives(struct set *s, const char *dir)
{
	struct tsv t;
	int readable = tsv_read(dir, "directives.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		struct kiln_error err = KILN_ERROR_INIT;
		int ok = t.row_n[i] >= 7;
		if (ok && fis(&f[0], "DirectiveParser.ParseAll")) {
			struct kiln_df_directives d = { 0 };
			int r = kiln_df_directives_parse_all(f[1].s, f[1].len, &d, &err);
			ok = fis(&f[2], "ok") ? r == 0 && directives_match(f[3].s, &d) : r < 0;
			kiln_df_directives_release(&d);
		} else if (ok) {
			struct kiln_df_syntax_directive d = { 0 };
			int r;
			if (fis(&f[0], "DetectSyntax"))
				r = kiln_df_detect_syntax(f[1].s, f[1].len, &d, &err);
			else
				r = kiln_df_parse_directive("check", f[1].s, f[1].len, &d, &err);
			ok = r >= 0 && fis(&f[2], r == 1 ? "true" : "false");
			if (ok && !fis(&f[3], "-"))
				ok = feq(&f[3], d.value.str ? d.value.str : "", d.value.len);
			if (ok && !fis(&f[4], "-"))
				ok = feq(&f[4], d.cmdline.str ? d.cmdline.str : "", d.cmdline.len);
			if (ok && !fis(&f[5], "-"))
				ok = want_int(&f[5], d.line);
			if (ok && !fis(&f[6], "-"))
				ok = want_int(&f[6], d.line);
			if (!ok && r == 1)
				tap_diag("found %s (%s) at line %d", d.value.str, d.cmdline.str,
					 d.line);
			kiln_df_syntax_directive_release(&d);
		}
		TAP_OK(ok, "parser-tables directives row %zu %s", i + 1, f[0].s);
		set_case(s, ok);
		kiln_error_release(&err);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables directives.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

static void table_line_numbers(struct set *s, const char *dir)
{
	struct tsv t;
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast =
		parse_file(dir, "line-numbers.Dockerfile");
	int readable = tsv_read(dir, "line-numbers.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		int ok = ast != NULL, start = 0, end = 0;
		if (ok && fis(&f[0], "root")) {
			start = ast->start_line;
			end = ast->end_line;
		} else if (ok && strncmp(f[0].s, "child", 5) == 0) {
			size_t c = (size_t) strtoul(f[0].s + 5, NULL, 10);
			ok = c < ast->n_nodes;
			if (ok) {
				start = ast->nodes[c].start_line;
				end = ast->nodes[c].end_line;
			}
		}
		ok = ok && want_int(&f[1], start) && want_int(&f[2], end);
		TAP_OK(ok, "parser-tables line-numbers %s %d-%d", f[0].s, start, end);
		set_case(s, ok);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables line-numbers.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

static int text_contains(const struct kiln_df_text *t, const struct field *f)
{
	return f->len <= t->len && memmem(t->str, t->len, f->s, f->len) != NULL;
}

static void table_empty_continuation(struct set *s, const char *dir)
{
	struct tsv t;
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast =
		parse_file(dir, "empty-continuation.Dockerfile");
	int readable = tsv_read(dir, "empty-continuation.tsv", &t) == 0;
	for (size_t i = 0; readable && i < t.nrows; i++) {
		struct field *f = t.rows[i];
		int ok = ast != NULL;
		if (ok && fis(&f[0], "count")) {
			ok = want_int(&f[1], (long long) ast->n_warnings);
		} else if (ok && strstr(f[0].s, ".detail")) {
			size_t w = (size_t) strtoul(f[0].s, NULL, 10);
			ok = w < ast->n_warnings && text_contains(&ast->warnings[w].detail, &f[1]);
		} else if (ok) {
			size_t w = (size_t) strtoul(f[0].s, NULL, 10);
			ok = w < ast->n_warnings &&
			     text_contains(&ast->warnings[w].short_text, &f[1]);
		}
		TAP_OK(ok, "parser-tables empty-continuation %s: %s", f[0].s, f[1].s);
		set_case(s, ok);
	}
	if (!readable) {
		TAP_OK(0, "parser-tables empty-continuation.tsv readable");
		set_case(s, 0);
	}
	tsv_free(&t);
}

static void case_line_too_long(struct set *s, const char *dir)
{
	cleanup_free char *path = kiln_asprintf("%s/line-too-long.Dockerfile", dir);
	size_t len = 0;
	cleanup_free char *data = path ? read_all(path, &len) : NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	int r = data ? kiln_df_parse(data, len, "Dockerfile", &ast, &err) : 0;
	int ok = data && r < 0 && err.msg &&
		 strcmp(err.msg, "dockerfile line greater than max allowed size of 65535") == 0;
	TAP_OK(ok, "parser-tables line-too-long: %s", err.msg ? err.msg : "(no error)");
	set_case(s, ok);
	kiln_error_release(&err);
}

static void run_tables(const char *root)
{
	struct set s = { "parser-tables", 0, 0 };
	cleanup_free char *dir = kiln_asprintf("%s/buildkit-parser-tables", root);
	if (!dir || !is_dir(dir)) {
		printf("# conformance parser-tables ABSENT\n");
		tap_skip("no data", "buildkit-parser-tables");
		return;
	}
	table_heredoc_nodes(&s, dir, "heredoc-extract.tsv", "heredoc-extract.Dockerfile");
	table_heredoc_nodes(&s, dir, "heredoc-json.tsv", "heredoc-json.Dockerfile");
	table_heredoc_parse(&s, dir);
	table_heredoc_from_line(&s, dir);
	table_heredoc_chomp(&s, dir);
	table_json_array(&s, dir);
	table_parse_words(&s, dir);
	table_name_val(&s, dir);
	table_directives(&s, dir);
	table_line_numbers(&s, dir);
	table_empty_continuation(&s, dir);
	case_line_too_long(&s, dir);
	set_report(&s);
}

int main(void)
{
	const char *root = getenv("KILN_CONFORMANCE_DIR");
	if (!root || !*root)
		root = getenv("KILN_CONFORMANCE_DIR_DEFAULT");
	if (!root || !*root || !is_dir(root)) {
		printf("# conformance parser ABSENT\n");
		printf("# conformance parser-negative ABSENT\n");
		printf("# conformance parser-tables ABSENT\n");
		tap_skip("no conformance data", "buildkit parser data");
		return tap_done();
	}
	run_positive(root);
	run_negative(root);
	run_tables(root);
	return tap_done();
}
