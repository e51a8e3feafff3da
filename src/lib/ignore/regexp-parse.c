/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing and compiling a Go (RE2, Perl flags) regular expression straight
 * into a Thompson NFA program. The parse follows Go's regexp/syntax parser
 * step by step where it decides what is an error, so that an expression Go
 * rejects is rejected here with the same message, and one it accepts means
 * the same thing.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/gotext.h"
#include "ignore/regexp-parser.h"

#define HOLE(pc, field) ((((uint32_t)(pc)) << 1 | (field)) + 1)

static int emit(struct re_parser *p, uint8_t op, uint32_t x, uint32_t y, uint32_t *ret_pc)
{
	struct kiln_ignore_re *re = p->re;
	if (re->ninst == p->cap_inst) {
		size_t ncap = p->cap_inst ? p->cap_inst * 2 : 32;
		struct re_inst *n = kiln_reallocarray(re->inst, ncap, sizeof(*n));
		if (!n)
			return kiln_ignore_re_oom(p);
		re->inst = n;
		p->cap_inst = ncap;
	}
	re->inst[re->ninst] = (struct re_inst){ .op = op, .out = 0, .x = x, .y = y };
	*ret_pc = re->ninst++;
	return 0;
}

static void patch(struct kiln_ignore_re *re, uint32_t holes, uint32_t target)
{
	while (holes) {
		uint32_t pc = (holes - 1) >> 1;
		uint32_t *field = ((holes - 1) & 1) ? &re->inst[pc].x : &re->inst[pc].out;
		holes = *field;
		*field = target;
	}
}

static uint32_t append_holes(struct kiln_ignore_re *re, uint32_t a, uint32_t b)
{
	if (!a)
		return b;
	uint32_t h = a;
	for (;;) {
		uint32_t pc = (h - 1) >> 1;
		uint32_t *field = ((h - 1) & 1) ? &re->inst[pc].x : &re->inst[pc].out;
		if (!*field) {
			*field = b;
			return a;
		}
		h = *field;
	}
}

static int push(struct re_parser *p, struct frag f)
{
	if (p->nstack == p->cap_stack) {
		size_t ncap = p->cap_stack ? p->cap_stack * 2 : 16;
		struct frag *n = kiln_reallocarray(p->stack, ncap, sizeof(*n));
		if (!n)
			return kiln_ignore_re_oom(p);
		p->stack = n;
		p->cap_stack = ncap;
	}
	p->stack[p->nstack++] = f;
	return 0;
}

/* An instruction with one open exit, pushed as a fragment. */
static int push_atom(struct re_parser *p, uint8_t op, uint32_t x, uint32_t y, uint8_t kind,
		     uint32_t rune)
{
	uint32_t pc = 0;
	int r = emit(p, op, x, y, &pc);
	if (r < 0)
		return r;
	return push(p, (struct frag){ .start = pc, .holes = HOLE(pc, 0), .kind = kind, .rune = rune });
}

static int push_literal(struct re_parser *p, uint32_t c)
{
	return push_atom(p, RE_I_CHAR, c, 0, FK_CHAR, c);
}

/* Concatenate stack[from..] into one fragment (an empty one becomes a no-op jump). */
static int concat_from(struct re_parser *p, size_t from, struct frag *ret)
{
	if (p->nstack == from) {
		uint32_t pc = 0;
		int r = emit(p, RE_I_JMP, 0, 0, &pc);
		if (r < 0)
			return r;
		*ret = (struct frag){ .start = pc, .holes = HOLE(pc, 0), .kind = FK_OTHER };
		return 0;
	}
	for (size_t i = from; i + 1 < p->nstack; i++)
		patch(p->re, p->stack[i].holes, p->stack[i + 1].start);
	*ret = (struct frag){ .start = p->stack[from].start,
			      .holes = p->stack[p->nstack - 1].holes,
			      .kind = p->nstack - from == 1 ? p->stack[from].kind : FK_OTHER,
			      .rune = p->stack[from].rune };
	return 0;
}

/* parseClass: s[0] == '['; pushes the class, returns bytes consumed via *used. */
static int parse_class(struct re_parser *p, const char *s, size_t n, size_t *used)
{
	int negated = 0;
	int r = kiln_ignore_re_parse_class_items(p, s, n, &negated, used);
	if (r < 0)
		return r;
	uint32_t off = 0, cnt = 0;
	if ((r = kiln_ignore_re_cls_finish(p, negated, &off, &cnt)) < 0)
		return r;
	if (cnt == 1 && p->re->ranges[off] == p->re->ranges[off + 1]) {
		uint32_t c = p->re->ranges[off];
		p->re->nranges -= 2;
		return push_literal(p, c);
	}
	return push_atom(p, RE_I_CLASS, off, cnt, FK_OTHER, 0);
}

static int push_class_from_scratch(struct re_parser *p)
{
	uint32_t off = 0, cnt = 0;
	int r = kiln_ignore_re_cls_finish(p, 0, &off, &cnt);
	if (r < 0)
		return r;
	return push_atom(p, RE_I_CLASS, off, cnt, FK_OTHER, 0);
}

/* '*' or '?' applied to the top of the stack. */
static int repeat(struct re_parser *p, char op, const char *before, size_t blen)
{
	if (p->nstack == 0 || p->stack[p->nstack - 1].kind == FK_MARK)
		return kiln_ignore_re_error(p, "missing argument to repetition operator", before, blen);
	struct frag e = p->stack[p->nstack - 1];
	uint32_t split = 0;
	int r = emit(p, RE_I_SPLIT, 0, 0, &split);
	if (r < 0)
		return r;
	struct kiln_ignore_re *re = p->re;
	re->inst[split].out = e.start;
	if (op == '*') {
		patch(re, e.holes, split);
		p->stack[p->nstack - 1] = (struct frag){
			.start = split, .holes = HOLE(split, 1), .kind = FK_OTHER, .src = e.src,
			.repeated = 1
		};
	} else {
		p->stack[p->nstack - 1] = (struct frag){ .start = split,
							 .holes = append_holes(re, e.holes, HOLE(split, 1)),
							 .kind = FK_OTHER,
							 .src = e.src,
							 .repeated = 1 };
	}
	return 0;
}

/*
 * Two equal starred fragments in a row match what one does (X* X* is X*),
 * and so do two "any directories" groups (what each "**" of a pattern
 * becomes): drop the second (its instructions stay, unreachable). A
 * pattern made of many "**" then costs what one costs.
 */
static void collapse_repeat(struct re_parser *p, const char *s)
{
	if (p->nstack < 2)
		return;
	const struct frag *f = &p->stack[p->nstack - 1], *g = &p->stack[p->nstack - 2];
	if (g->kind == FK_MARK || !g->repeated || !f->repeated)
		return;
	size_t fl = f->src_end - f->src, gl = g->src_end - g->src;
	if (fl != gl || fl == 0 || memcmp(s + f->src, s + g->src, fl) != 0)
		return;
	if (s[f->src + fl - 1] == '*' || (fl == 6 && memcmp(s + f->src, "(.*/)?", 6) == 0))
		p->nstack--;
}

static int unsupported(struct re_parser *p, const char *s, size_t n)
{
	return kiln_fail(p->err, KILN_EINTERNAL, 0,
			 "regexp operator not produced by pattern compilation: `%.*s`", (int)n, s);
}

/* The literal runes after a leading ^ and before a trailing $, as UTF-8. */
static int extract_literals(struct re_parser *p)
{
	struct kiln_ignore_re *re = p->re;
	size_t n = p->nstack;
	struct frag *f = p->stack;
	re->anchored = n > 0 && f[0].kind == FK_BEGIN;
	if (re->anchored) {
		size_t i = 1, bytes = 0;
		for (; i < n && f[i].kind == FK_CHAR && f[i].rune != KILN_RUNE_ERROR; i++)
			bytes += 4;
		if (i > 1) {
			re->prefix = kiln_malloc(bytes + 1);
			if (!re->prefix)
				return kiln_ignore_re_oom(p);
			for (size_t j = 1; j < i; j++)
				re->prefix_len += kiln_utf8_encode((int32_t)f[j].rune,
									     re->prefix + re->prefix_len);
		}
	}
	if (n > 0 && f[n - 1].kind == FK_END) {
		size_t i = n - 1, bytes = 0;
		while (i > 0 && f[i - 1].kind == FK_CHAR && f[i - 1].rune != KILN_RUNE_ERROR) {
			i--;
			bytes += 4;
		}
		if (i < n - 1) {
			re->suffix = kiln_malloc(bytes + 1);
			if (!re->suffix)
				return kiln_ignore_re_oom(p);
			for (size_t j = i; j < n - 1; j++)
				re->suffix_len += kiln_utf8_encode((int32_t)f[j].rune,
									     re->suffix + re->suffix_len);
		}
	}
	return 0;
}

static int parse(struct re_parser *p, const char *s, size_t n)
{
	size_t i = 0;
	int r;
	/* Where the previous token was a repetition operator (Go's lastRepeat). */
	size_t last_repeat = (size_t)-1;
	while (i < n) {
		size_t this_repeat = (size_t)-1;
		size_t tok = i, had = p->nstack;
		char c = s[i];
		switch (c) {
		case '(':
			if (i + 1 < n && s[i + 1] == '?')
				return unsupported(p, s + i, 2);
			if ((r = push(p, (struct frag){ .kind = FK_MARK, .src = (uint32_t)i })) < 0)
				return r;
			i++;
			break;
		case ')': {
			size_t m = p->nstack;
			while (m > 0 && p->stack[m - 1].kind != FK_MARK)
				m--;
			if (m == 0)
				return kiln_ignore_re_error(p, "unexpected )", s, n);
			struct frag g;
			if ((r = concat_from(p, m, &g)) < 0)
				return r;
			g.kind = FK_OTHER;
			g.src = p->stack[m - 1].src; /* the '(' */
			p->nstack = m - 1;
			if ((r = push(p, g)) < 0)
				return r;
			i++;
			break;
		}
		case '|':
		case '+':
		case '{':
			return unsupported(p, s + i, 1);
		case '^':
			if ((r = push_atom(p, RE_I_EMPTY, RE_EMPTY_BEGIN_TEXT, 0, FK_BEGIN, 0)) < 0)
				return r;
			i++;
			break;
		case '$':
			if ((r = push_atom(p, RE_I_EMPTY, RE_EMPTY_END_TEXT, 0, FK_END, 0)) < 0)
				return r;
			i++;
			break;
		case '.':
			if ((r = push_atom(p, RE_I_ANYNL, 0, 0, FK_OTHER, 0)) < 0)
				return r;
			i++;
			break;
		case '[': {
			size_t used = 0;
			if ((r = parse_class(p, s + i, n - i, &used)) < 0)
				return r;
			i += used;
			break;
		}
		case '*':
		case '?': {
			size_t op_at = i;
			size_t after = i + 1;
			/* Perl: a following '?' makes it non-greedy (same answer for us). */
			if (after < n && s[after] == '?')
				after++;
			if (last_repeat != (size_t)-1)
				return kiln_ignore_re_error(p, "invalid nested repetition operator", s + last_repeat,
						after - last_repeat);
			if ((r = repeat(p, c, s + op_at, after - op_at)) < 0)
				return r;
			this_repeat = op_at;
			i = after;
			break;
		}
		case '\\': {
			if (i + 1 < n) {
				char e = s[i + 1];
				if (e == 'A' || e == 'z' || e == 'b' || e == 'B') {
					uint32_t what = e == 'A'   ? RE_EMPTY_BEGIN_TEXT
							: e == 'z' ? RE_EMPTY_END_TEXT
							: e == 'b' ? RE_EMPTY_WORD_BOUNDARY
								   : RE_EMPTY_NO_WORD_BOUNDARY;
					uint8_t kind = e == 'A' ? FK_BEGIN : e == 'z' ? FK_END : FK_OTHER;
					if ((r = push_atom(p, RE_I_EMPTY, what, 0, kind, 0)) < 0)
						return r;
					i += 2;
					break;
				}
				if (e == 'C')
					return kiln_ignore_re_error(p, "invalid escape sequence", s + i, 2);
				if (e == 'Q') {
					/* \Q ... \E: everything up to \E (or the end) is literal. */
					size_t j = i + 2, end = n, next = n;
					for (size_t k = j; k + 1 < n; k++)
						if (s[k] == '\\' && s[k + 1] == 'E') {
							end = k;
							next = k + 2;
							break;
						}
					while (j < end) {
						uint32_t lc;
						size_t w;
						lc = (uint32_t)kiln_utf8_decode(s + j, end - j, &w);
						if (lc == KILN_RUNE_ERROR && w == 1)
							return kiln_ignore_re_error(p, "invalid UTF-8", s + j, end - j);
						if ((r = push_literal(p, lc)) < 0)
							return r;
						j += w;
					}
					i = next;
					break;
				}
			}
			size_t used = 0;
			p->ncls = 0;
			r = kiln_ignore_re_parse_unicode_class(p, s + i, n - i, &used);
			if (r < 0)
				return r;
			if (r > 0) {
				if ((r = push_class_from_scratch(p)) < 0)
					return r;
				i += used;
				break;
			}
			int pr = 0;
			if (kiln_ignore_re_parse_perl_class(p, s + i, n - i, &pr)) {
				if (pr < 0)
					return pr;
				if ((r = push_class_from_scratch(p)) < 0)
					return r;
				i += 2;
				break;
			}
			uint32_t lit = 0;
			if ((r = kiln_ignore_re_parse_escape(p, s + i, n - i, &lit, &used)) < 0)
				return r;
			if ((r = push_literal(p, lit)) < 0)
				return r;
			i += used;
			break;
		}
		default: {
			uint32_t lit = 0;
			size_t w;
			lit = (uint32_t)kiln_utf8_decode(s + i, n - i, &w);
			if (lit == KILN_RUNE_ERROR && w == 1)
				return kiln_ignore_re_error(p, "invalid UTF-8", s + i, n - i);
			if ((r = push_literal(p, lit)) < 0)
				return r;
			i += w;
			break;
		}
		}
		last_repeat = this_repeat;
		if (p->nstack == had + 1 && c != ')')
			p->stack[p->nstack - 1].src = (uint32_t)tok;
		if (p->nstack > 0 && (p->nstack >= had || c == ')'))
			p->stack[p->nstack - 1].src_end = (uint32_t)i;
		if (this_repeat != (size_t)-1)
			collapse_repeat(p, s);
	}
	for (size_t k = 0; k < p->nstack; k++)
		if (p->stack[k].kind == FK_MARK)
			return kiln_ignore_re_error(p, "missing closing )", s, n);
	if ((r = extract_literals(p)) < 0)
		return r;
	struct frag all;
	if ((r = concat_from(p, 0, &all)) < 0)
		return r;
	uint32_t match = 0;
	if ((r = emit(p, RE_I_MATCH, 0, 0, &match)) < 0)
		return r;
	patch(p->re, all.holes, match);
	p->re->start = all.start;
	return 0;
}

void kiln_ignore_re_free(struct kiln_ignore_re *re)
{
	if (!re)
		return;
	free(re->inst);
	free(re->ranges);
	free(re->prefix);
	free(re->suffix);
	for (int i = 0; i < 2; i++) {
		free(re->sparse[i]);
		free(re->dense[i]);
	}
	free(re->stack);
	kiln_ignore_re_small_free(re);
	free(re);
}

int kiln_ignore_re_compile(const char *expr, size_t len, struct kiln_ignore_re **ret,
			   struct kiln_error *err)
{
	if (len > KILN_IGNORE_RE_MAX_LEN)
		return kiln_fail(err, KILN_ELIMIT, 0, "regular expression longer than %zu bytes",
				 (size_t)KILN_IGNORE_RE_MAX_LEN);
	struct kiln_ignore_re *re = kiln_calloc(1, sizeof(*re));
	if (!re)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct re_parser p = { .re = re, .err = err };
	int r = parse(&p, expr, len);
	free(p.stack);
	free(p.cls);
	if (r < 0) {
		kiln_ignore_re_free(re);
		return r;
	}
	for (int i = 0; i < 2; i++) {
		re->sparse[i] = kiln_calloc(re->ninst, sizeof(uint32_t));
		re->dense[i] = kiln_calloc(re->ninst, sizeof(uint32_t));
		if (!re->sparse[i] || !re->dense[i]) {
			kiln_ignore_re_free(re);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
	}
	re->stack = kiln_calloc(re->ninst * 2 + 2, sizeof(uint32_t));
	if (!re->stack || kiln_ignore_re_small_prepare(re) < 0) {
		kiln_ignore_re_free(re);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	*ret = re;
	return 0;
}

void kiln_ignore_re_literals(const struct kiln_ignore_re *re, const char **prefix,
			     size_t *prefix_len, const char **suffix, size_t *suffix_len)
{
	*prefix = re->prefix ? re->prefix : "";
	*prefix_len = re->prefix_len;
	*suffix = re->suffix ? re->suffix : "";
	*suffix_len = re->suffix_len;
}
