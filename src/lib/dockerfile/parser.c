/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln_df_parse(): BuildKit's parser.Parse, line by line. A physical line
 * is read with its line ending (bufio.Scanner with scanLines, 64 KiB
 * token limit); the first physical line of an instruction loses its leading
 * white space, comment lines are dropped, a trailing escape character (not
 * itself escaped, followed only by spaces and tabs) joins the next line with
 * nothing in between, comment lines inside a continuation are skipped and
 * blank ones skipped with a warning. The joined line becomes one node;
 * RUN/COPY/ADD (directly or behind ONBUILD) then read their heredoc bodies.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/gotext.h"
#include "internal.h"

/* ---- physical lines ---- */

struct scanner {
	const char *data;
	size_t len, pos;
	int too_long; /* stopped at a line over KILN_DF_MAX_LINE bytes */
};

/*
 * The next line with its '\n' (if any): 1, or 0 at the end or an over-long
 * line. *trimmed is its length without the line ending (bytes.TrimRight(s,
 * "\r\n"): a '\n' can only be its last byte), known here without a test.
 */
static int scan_line(struct scanner *sc, const char **line, size_t *len, size_t *trimmed)
{
	/* an over-long line ends the scan: pos is then len (one test per line) */
	if (sc->pos >= sc->len)
		return 0;
	const char *p = sc->data + sc->pos;
	size_t rem = sc->len - sc->pos;
	/* the whole rest, not a window: a '\n' past KILN_DF_MAX_LINE is the same
	 * over-long line, and the search stops at the first '\n' either way */
	const char *nl = memchr(p, '\n', rem);
	size_t t = nl ? (size_t) (nl - p) : rem;
	if (t > KILN_DF_MAX_LINE) {
		sc->too_long = 1;
		sc->pos = sc->len;
		return 0;
	}
	size_t n = t + (nl != NULL);
	while (t > 0 && p[t - 1] == '\r')
		t--;
	*line = p;
	*len = n;
	*trimmed = t;
	sc->pos += n;
	return 1;
}

/*
 * kiln_go_space_prefix with the indentation of continuation lines (spaces,
 * four at a time, and tabs) skipped in place: the call is left for other
 * white space.
 */
static inline size_t lead_space(const char *s, size_t len)
{
	if (len == 0 || kiln_go_byte_is_ascii_graph(s[0]))
		return 0;
	size_t i = 0;
	uint32_t y;
	while (len - i >= 4 && (memcpy(&y, s + i, 4), y == 0x20202020u))
		i += 4;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && !kiln_go_byte_is_ascii_graph(s[i]))
		i += kiln_go_space_prefix_scan(s + i, len - i);
	return i;
}

/*
 * isComment: '#' after leading Unicode white space. `lead` is that white
 * space's length in s[0..len), the line without its line ending: the '\r'
 * and '\n' it lacks are white space, so the answer is the line's.
 */
static int is_comment_at(const char *s, size_t len, size_t lead)
{
	return lead < len && s[lead] == '#';
}

/* The last bytes continues() looks at: a space or tab (1), the escapes '\\' (2)
 * and '`' (4). A line may continue when its last byte is in END_MASK(escape). */
static const unsigned char end_class[256] = { [' '] = 1, ['\t'] = 1, ['\\'] = 2, ['`'] = 4 };
#define END_MASK(escape) (1u | ((escape) == '\\' ? 2u : 4u))

/*
 * trimContinuationCharacter: ([^E])E[ \t]*$ or ^E[ \t]*$ with E the escape
 * character. Returns 1 (and the kept length) when the line continues.
 * Inline: it runs on every line.
 */
static inline __attribute__((always_inline)) int
continues(const char *s, size_t len, int escape, unsigned end_mask, size_t *ret_len)
{
	/* most lines end in neither the escape nor a space or tab: one load */
	if (len == 0 || !(end_class[(unsigned char) s[len - 1]] & end_mask))
		return 0;
	size_t t = len;
	while (t > 0 && (s[t - 1] == ' ' || s[t - 1] == '\t'))
		t--;
	if (t == 0 || s[t - 1] != escape)
		return 0;
	if (t >= 2 && s[t - 2] == escape)
		return 0;
	*ret_len = t - 1;
	return 1;
}

/* ---- the parse state ---- */

/*
 * A growing list. With `arena` set it grows inside the arena (an outgrown
 * array is left there) and is the AST's list once done: no heap block, no
 * final copy. With `reused` too, it is copied out per use instead (the
 * comments of the next instruction). Without an arena, it is a heap array
 * copied out per use.
 */
struct growv {
	void *v;
	size_t n, alloc, size;
	struct kiln_arena *arena;
	int reused;
	size_t first; /* items to make room for first, when more than 32 */
};

/* Room for more items: the rare path of growv_next, kept out of line. */
static __attribute__((noinline)) int growv_grow(struct growv *g)
{
	/* 32 first (or the hint): few Dockerfiles outgrow it, so the arena
	 * copy is rare */
	size_t na = g->alloc ? g->alloc * 2 : g->first > 32 ? g->first : 32;
	void *nv;
	if (g->arena) {
		nv = kiln_arena_array_uninit(g->arena, na, g->size);
		if (nv && g->n)
			memcpy(nv, g->v, g->n * g->size);
	} else {
		nv = kiln_reallocarray(g->v, na, g->size);
	}
	if (!nv)
		return -KILN_ENOMEM;
	g->v = nv;
	g->alloc = na;
	return 0;
}

/* Room for one more item, not zeroed: inline, as it runs once per line kept. */
static inline void *growv_next(struct growv *g)
{
	if (g->n == g->alloc && growv_grow(g) < 0)
		return NULL;
	return (char *) g->v + g->n++ * g->size;
}

static void *growv_push(struct growv *g)
{
	void *p = growv_next(g);
	if (p)
		memset(p, 0, g->size);
	return p;
}

/* The list as an arena array (the AST keeps arena memory only); NULL when empty. */
static void *growv_finish(struct growv *g, struct kiln_arena *a, size_t *ret_n)
{
	*ret_n = g->n;
	if (!g->n)
		return NULL;
	if (g->arena && !g->reused)
		return g->v;
	/* every byte is copied over, so the arena need not zero it first */
	void *p = kiln_arena_array_uninit(a, g->n, g->size);
	if (p)
		memcpy(p, g->v, g->n * g->size);
	return p;
}

static void growv_release(struct growv *g)
{
	if (!g->arena)
		free(g->v);
	g->v = NULL;
}

struct parse {
	struct kiln_df_ast *ast;
	struct kiln_arena *a;
	const char *filename;
	struct scanner sc;
	int line; /* lines read so far (BuildKit's currentLine) */
	int escape;
	unsigned end_mask; /* END_MASK(escape) */
	int directives_done;
	int seen[3]; /* syntax, escape, check */

	struct growv nodes, directives, warnings, comments;
	struct growv prev; /* comments of the next instruction */
	struct kiln_buf content;
	struct df_node_ctx ctx;
	struct kiln_df_heredoc *hd;
	size_t hd_n, hd_alloc;
};

__attribute__((format(printf, 6, 7))) static int fail_at(struct parse *p, struct kiln_error *err,
							 int code, int line, int end_line,
							 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_failv(err, (enum kiln_err) code, 0, fmt, ap);
	va_end(ap);
	kiln_error_set_pos(err, p->filename, line, 0);
	if (err)
		err->pos.end_line = end_line;
	return r;
}

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/*
 * A comment line: recorded for the file and, when `attach`, for the next
 * instruction under BuildKit's PrevComment rules. Returns 1 when it joined
 * the next instruction's comments, 0 when not, or an error.
 */
static int note_comment(struct parse *p, const char *b, size_t len, int line, int attach,
			struct kiln_error *err)
{
	size_t i = kiln_go_space_prefix(b, len) + 1; /* past '#' */
	const char *t = b + i;
	size_t tl = len - i;
	size_t lead = lead_space(t, tl);
	t += lead;
	tl -= lead;
	tl -= kiln_go_space_suffix(t, tl);
	struct kiln_df_comment c = { .line = line };
	if (df_text(p->a, t, tl, &c.text) < 0)
		return oom(err);
	/* every field is stored: no zeroing first */
	struct kiln_df_comment *fc = growv_next(&p->comments);
	if (!fc)
		return oom(err);
	*fc = c;
	if (!attach)
		return 0;
	/* BuildKit: TrimSpace(line[1:]) empty starts the list afresh. With white
	 * space before the '#', line[1:] holds the '#'; without, it is t's line
	 * before the trimming that left tl */
	if (i == 1 && tl == 0) {
		p->prev.n = 0;
		return 0;
	}
	struct kiln_df_comment *pc = growv_next(&p->prev);
	if (!pc)
		return oom(err);
	*pc = c;
	return 1;
}

/*
 * possibleParserDirective on the first line of an instruction candidate.
 * 1 when the line is a directive, 0 when not, or an error.
 */
static int check_directive(struct parse *p, const char *tok, size_t len, struct kiln_error *err)
{
	if (p->directives_done)
		return 0;
	/* a directive starts "#": an instruction ends them without the parse */
	if (len == 0 || tok[0] != '#') {
		p->directives_done = 1;
		return 0;
	}
	size_t no, nl, vo, vl;
	char name[8];
	if (!df_directive_line(tok, len, "#", &no, &nl, &vo, &vl) || nl >= sizeof(name)) {
		p->directives_done = 1;
		return 0;
	}
	for (size_t i = 0; i < nl; i++)
		name[i] = (char) (tok[no + i] | 0x20);
	name[nl] = '\0';
	if (!df_directive_known(name, nl)) {
		p->directives_done = 1;
		return 0;
	}
	int idx = name[0] == 's' ? 0 : name[0] == 'e' ? 1 : 2;
	int line = p->line + 1;
	if (p->seen[idx])
		return fail_at(p, err, KILN_EPARSE, line, line,
			       "only one %s parser directive can be used", name);
	p->seen[idx] = 1;
	if (idx == 1) {
		if (vl != 1 || (tok[vo] != '\\' && tok[vo] != '`')) {
			cleanup_free char *v = kiln_strndup(tok + vo, vl);
			if (!v)
				return oom(err);
			return fail_at(p, err, KILN_EPARSE, line, line,
				       "invalid escape token '%s' does not match ` or \\", v);
		}
		p->escape = tok[vo];
		p->end_mask = END_MASK(p->escape);
		p->ctx.escape = p->escape;
	}
	struct kiln_df_directive *d = growv_push(&p->directives);
	if (!d)
		return oom(err);
	d->line = line;
	d->name.str = df_directive_name(idx); /* name, which is a known one */
	d->name.len = nl;
	if (df_text(p->a, tok + vo, vl, &d->value) < 0)
		return oom(err);
	return 1;
}

static int can_contain_heredoc(const struct kiln_df_node *n)
{
	if (n->cmd == KILN_DF_ONBUILD && n->onbuild)
		n = n->onbuild;
	/* RUN, COPY and ADD as one mask test (cmd is never negative here: the
	 * parser sets a known instruction or KILN_DF_UNKNOWN, tested first) */
	const unsigned heredoc_cmds =
		1u << KILN_DF_RUN | 1u << KILN_DF_COPY | 1u << KILN_DF_ADD;
	if (n->cmd == KILN_DF_UNKNOWN || !(heredoc_cmds >> n->cmd & 1u))
		return 0;
	return !n->json_form;
}

/* Whether "<<" occurs in s[0..n): memchr skips to each '<' a vector at a time,
 * where glibc's memmem steps through a line of a RUN byte by byte. */
static int has_heredoc_marker(const char *s, size_t n)
{
	const char *end = s + n;
	for (const char *c = s; (c = memchr(c, '<', (size_t)(end - c))); c++)
		if (c + 1 < end && c[1] == '<')
			return 1;
	return 0;
}

/* Read the bodies of the node's heredocs, in order, from the lines that follow. */
static int read_heredocs(struct parse *p, struct kiln_df_node *node, const char *line, size_t len,
			 int start, struct kiln_error *err)
{
	if (!can_contain_heredoc(node) || !has_heredoc_marker(line, len))
		return 0;
	p->hd_n = 0;
	int r = df_heredocs_from_line(line, len, p->a, &p->hd, &p->hd_n, &p->hd_alloc, err);
	if (r < 0) {
		if (err && err->code != KILN_ENOMEM) {
			kiln_error_set_pos(err, p->filename, start, 0);
			err->pos.end_line = p->line;
		}
		return r;
	}
	for (size_t i = 0; i < p->hd_n; i++) {
		struct kiln_df_heredoc *h = &p->hd[i];
		const char *b;
		size_t blen;
		int terminated = 0;
		kiln_buf_reset(&p->content);
		h->start_line = p->line + 1;
		size_t tl;
		while (scan_line(&p->sc, &b, &blen, &tl)) {
			p->line++;
			const char *t = b;
			if (h->chomp) {
				while (tl > 0 && *t == '\t') {
					t++;
					tl--;
				}
			}
			if (tl == h->name.len && memcmp(t, h->name.str, tl) == 0) {
				terminated = 1;
				break;
			}
			if (kiln_buf_add(&p->content, b, blen) < 0)
				return oom(err);
		}
		if (!terminated)
			return fail_at(p, err, KILN_EPARSE, start, p->line, "%s",
				       "unterminated heredoc");
		h->end_line = p->line;
		if (df_text(p->a, p->content.buf, p->content.len, &h->content) < 0)
			return oom(err);
	}
	node->heredocs = kiln_arena_array(p->a, p->hd_n, sizeof(*node->heredocs));
	if (!node->heredocs && p->hd_n)
		return oom(err);
	if (p->hd_n)
		memcpy(node->heredocs, p->hd, p->hd_n * sizeof(*p->hd));
	node->n_heredocs = p->hd_n;
	return 0;
}

static int add_warning(struct parse *p, int start, const char *line, size_t len,
		       struct kiln_error *err)
{
	static const char prefix[] = "Empty continuation line found in: ";
	struct kiln_df_warning *w = growv_push(&p->warnings);
	if (!w)
		return oom(err);
	size_t n = sizeof(prefix) - 1 + len;
	char *s = kiln_arena_alloc(p->a, n + 1);
	if (!s)
		return oom(err);
	memcpy(s, prefix, sizeof(prefix) - 1);
	memcpy(s + sizeof(prefix) - 1, line, len);
	s[n] = '\0';
	w->short_text.str = s;
	w->short_text.len = n;
	w->detail.str = "Empty continuation lines will become errors in a future release";
	w->detail.len = strlen(w->detail.str);
	w->url.str = "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/";
	w->url.len = strlen(w->url.str);
	w->start_line = start;
	w->line = p->line;
	return 0;
}

/*
 * One instruction whose first physical line is first[0..flen) (already
 * counted). The line is in the parse's own copy of the file: a continuation
 * is joined in place (each piece moves back over line endings and skipped
 * lines already read) and the joined line ends in a NUL written over what
 * followed it, so that the node can borrow it instead of copying it.
 */
static int instruction(struct parse *p, char *first, size_t flen, struct kiln_error *err)
{
	int start = p->line;
	size_t keep;
	int more = continues(first, flen, p->escape, p->end_mask, &keep);
	if (!more)
		keep = flen;
	if (!more && keep == 0)
		return 0;
	char *line = first;
	char *dest = first + keep;

	int empty_line = 0;
	const char *b;
	size_t blen;
	size_t tl;
	while (more && scan_line(&p->sc, &b, &blen, &tl)) {
		p->line++;
		size_t lead = lead_space(b, tl);
		if (is_comment_at(b, tl, lead)) {
			/* inside an instruction: for the file's list only */
			int r = note_comment(p, b, blen, p->line, 0, err);
			if (r < 0)
				return r;
			continue;
		}
		if (lead == tl) {
			empty_line = 1;
			continue;
		}
		more = continues(b, tl, p->escape, p->end_mask, &keep);
		size_t piece = more ? keep : tl;
		/* b is in the copy, past dest: the piece moves back, never over a
		 * line not read yet */
		memmove(dest, b, piece);
		dest += piece;
	}
	/* over a line ending or the copy's final NUL: no unread byte */
	*dest = '\0';
	size_t line_len = (size_t) (dest - line);
	if (empty_line && add_warning(p, start, line, line_len, err) < 0)
		return -KILN_ENOMEM;

	if (p->nodes.n >= KILN_DF_MAX_INSTRUCTIONS)
		return fail_at(p, err, KILN_ELIMIT, start, p->line,
			       "more than %d instructions in one Dockerfile",
			       KILN_DF_MAX_INSTRUCTIONS);
	/* not zeroed here: df_node_from_line fills every field */
	struct kiln_df_node *node = growv_next(&p->nodes);
	if (!node)
		return oom(err);
	p->ctx.start_line = start;
	p->ctx.end_line = p->line;
	p->ctx.nul_end = line + line_len;
	int r = df_node_from_line(&p->ctx, line, line_len, 0, node, err);
	if (r < 0) {
		p->nodes.n--;
		return r;
	}
	r = read_heredocs(p, node, line, line_len, start, err);
	if (r < 0) {
		p->nodes.n--;
		return r;
	}
	node->start_line = start;
	node->end_line = p->line;
	if (node->onbuild) {
		node->onbuild->start_line = start;
		node->onbuild->end_line = p->line;
	}
	node->comments = growv_finish(&p->prev, p->a, &node->n_comments);
	if (!node->comments && node->n_comments)
		return oom(err);
	p->prev.n = 0;
	return 0;
}

static int run(struct parse *p, struct kiln_error *err)
{
	const char *b;
	size_t blen;
	size_t tl;
	if (!scan_line(&p->sc, &b, &blen, &tl))
		goto done;
	/* the first line only: out of the loop */
	if (blen >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) {
		b += 3;
		blen -= 3;
		tl -= 3; /* the BOM's bytes are no line ending: tl >= 3 */
	}
	do {
		size_t lead = kiln_go_space_prefix(b, tl);
		int comment = is_comment_at(b, tl, lead);
		if (comment) {
			int r = note_comment(p, b, blen, p->line + 1, 1, err);
			if (r < 0)
				return r;
		}
		/* the scanner reads the copy, which is the parse's to write */
		char *tok = (char *) b + lead;
		tl -= lead;
		int r = check_directive(p, tok, tl, err);
		if (r < 0)
			return r;
		if (r == 1 && p->prev.n)
			p->prev.n--; /* a directive is no comment of the next instruction */
		p->line++;
		if (comment)
			continue; /* trimComments leaves nothing of a comment line */
		r = instruction(p, tok, tl, err);
		if (r < 0)
			return r;
	} while (scan_line(&p->sc, &b, &blen, &tl));
done:
	if (p->nodes.n == 0) {
		int line = p->line ? p->line : 1;
		return fail_at(p, err, KILN_EPARSE, line, line, "%s", "file with no instructions");
	}
	if (p->sc.too_long)
		return fail_at(p, err, KILN_ELIMIT, p->line + 1, p->line + 1,
			       "dockerfile line greater than max allowed size of %d",
			       KILN_DF_MAX_LINE);
	return 0;
}

static int finish(struct parse *p, struct kiln_error *err)
{
	struct kiln_df_ast *ast = p->ast;
	ast->escape = p->escape;
	ast->n_lines = p->line;
	ast->nodes = growv_finish(&p->nodes, p->a, &ast->n_nodes);
	ast->directives = growv_finish(&p->directives, p->a, &ast->n_directives);
	ast->warnings = growv_finish(&p->warnings, p->a, &ast->n_warnings);
	ast->comments = growv_finish(&p->comments, p->a, &ast->n_comments);
	if ((!ast->nodes && ast->n_nodes) || (!ast->directives && ast->n_directives) ||
	    (!ast->warnings && ast->n_warnings) || (!ast->comments && ast->n_comments))
		return oom(err);
	ast->start_line = ast->nodes[0].start_line;
	ast->end_line = ast->nodes[ast->n_nodes - 1].end_line;
	return 0;
}

static void parse_release(struct parse *p)
{
	growv_release(&p->nodes);
	growv_release(&p->directives);
	growv_release(&p->warnings);
	growv_release(&p->comments);
	growv_release(&p->prev);
	free(p->hd);
	kiln_buf_release(&p->content);
	df_node_ctx_release(&p->ctx);
}

void kiln_df_ast_free(struct kiln_df_ast *ast)
{
	if (!ast)
		return;
	/* the AST itself is in its arena, or on the heap when the arena is the caller's */
	if (ast->arena_borrowed_)
		free(ast);
	else
		kiln_arena_free(ast->arena_);
}

/* The parse proper, into ast (set up but for the arena's content) and its arena. */
static int parse_into(struct kiln_df_ast *ast, const char *data, size_t len,
		      const char *filename, struct kiln_error *err)
{
	struct kiln_arena *arena = ast->arena_;
	if (df_text(arena, filename, strlen(filename), &ast->filename) < 0)
		return oom(err);

	/* a copy the parse writes NULs into: nodes borrow their lines from it */
	char *copy = kiln_arena_array_uninit(arena, len + 1, 1);
	if (!copy)
		return oom(err);
	if (len)
		memcpy(copy, data, len);
	copy[len] = '\0';

	struct parse p = {
		.ast = ast,
		.a = arena,
		.filename = ast->filename.str,
		.sc = { .data = copy, .len = len },
		.escape = '\\',
		.end_mask = END_MASK('\\'),
		/* an instruction takes 24 bytes or more in all but odd files: room
		 * for that many spares the copies of a growing array */
		.nodes = { .size = sizeof(struct kiln_df_node),
			   .arena = arena,
			   .first = len / 24 < 1024 ? len / 24 : 1024 },
		.directives = { .size = sizeof(struct kiln_df_directive), .arena = arena },
		.warnings = { .size = sizeof(struct kiln_df_warning), .arena = arena },
		.comments = { .size = sizeof(struct kiln_df_comment), .arena = arena },
		.prev = { .size = sizeof(struct kiln_df_comment), .arena = arena, .reused = 1 },
		.content = KILN_BUF_INIT,
		.ctx = { .arena = arena,
			 /* one scan of the file spares a strlen per argument later */
			 .nul_free = !memchr(copy, '\0', len),
			 .scratch = { .arena = arena },
			 .escape = '\\',
			 .filename = ast->filename.str,
			 .word = KILN_BUF_INIT },
	};
	/* room for the arguments of all nodes in most files (about one per 20
	 * bytes): the list the nodes borrow from rarely grows */
	size_t ns = len / 16 < 16 ? 16 : len / 16 < 4096 ? len / 16 : 4096;
	p.ctx.scratch.v = kiln_arena_array_uninit(arena, ns, sizeof(*p.ctx.scratch.v));
	if (!p.ctx.scratch.v)
		return oom(err);
	p.ctx.scratch.alloc = ns;
	int r = run(&p, err);
	if (r >= 0)
		r = finish(&p, err);
	parse_release(&p);
	return r;
}

static int too_large(const char *filename, struct kiln_error *err)
{
	return kiln_fail(err, KILN_ELIMIT, 0, "%s: Dockerfile larger than %zu bytes", filename,
			 KILN_DF_MAX_FILE);
}

int kiln_df_parse(const char *data, size_t len, const char *filename, struct kiln_df_ast **ret,
		  struct kiln_error *err)
{
	if (!filename)
		filename = "Dockerfile";
	if (len > KILN_DF_MAX_FILE)
		return too_large(filename, err);
	struct kiln_arena *arena = kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	if (!arena)
		return oom(err);
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = kiln_arena_alloc(arena, sizeof(*ast));
	if (!ast) {
		kiln_arena_free(arena);
		return oom(err);
	}
	ast->arena_ = arena;
	int r = parse_into(ast, data, len, filename, err);
	if (r < 0)
		return r;
	*ret = steal_ptr(&ast);
	return 0;
}

int kiln_df_parse_in(struct kiln_arena *arena, const char *data, size_t len, const char *filename,
		     struct kiln_df_ast **ret, struct kiln_error *err)
{
	if (!filename)
		filename = "Dockerfile";
	if (len > KILN_DF_MAX_FILE)
		return too_large(filename, err);
	/* on the heap: kiln_df_ast_free() reads it after the caller emptied the arena */
	struct kiln_df_ast *ast = kiln_malloc(sizeof(*ast));
	if (!ast)
		return oom(err);
	*ast = (struct kiln_df_ast){ .arena_ = arena, .arena_borrowed_ = 1 };
	int r = parse_into(ast, data, len, filename, err);
	if (r < 0) {
		free(ast);
		kiln_arena_reset(arena); /* empty again, as it came */
		return r;
	}
	*ret = ast;
	return 0;
}
