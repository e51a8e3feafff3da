/* SPDX-License-Identifier: Apache-2.0 */
#include "pattern.h"

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/gotext.h"
#include "base/unicode.h"
#include "shell.h"

enum atom_kind {
	ATOM_LIT,  /* one rune */
	ATOM_ANY,  /* `.`: any rune but '\n' */
	ATOM_STAR, /* `.*` or `.*?` */
};

struct atom {
	enum atom_kind kind;
	int32_t rune;
};

/*
 * VM nodes: atom i is node i, node n is MATCH, and the loop body of a star
 * at atom i (the `.` it repeats) is node n + 1 + i.
 */
struct thread {
	size_t node;
	size_t start;
};

struct queue {
	struct thread *t;
	size_t len;
	uint32_t *mark;
	uint32_t gen;
};

struct kiln_shell_pattern {
	struct atom *atoms;
	size_t n;
	int greedy;
	int anchored;
	size_t nodes;
	struct queue q[2];
	size_t *pending;
};

void kiln_shell_pattern_free(struct kiln_shell_pattern *p)
{
	if (!p)
		return;
	free(p->atoms);
	for (int i = 0; i < 2; i++) {
		free(p->q[i].t);
		free(p->q[i].mark);
	}
	free(p->pending);
	free(p);
}

KILN_DEFINE_CLEANUP(struct kiln_shell_pattern, kiln_shell_pattern_free)

/* A scanner over the pattern with text/scanner's habits (BOM skipped at the start). */
struct pscan {
	const char *s;
	size_t len, pos;
};

static int32_t pnext(struct pscan *sc)
{
	for (;;) {
		if (sc->pos >= sc->len)
			return KILN_SHELL_RUNE_EOF;
		size_t w;
		int32_t c = kiln_utf8_decode(sc->s + sc->pos, sc->len - sc->pos, &w);
		int first = sc->pos == 0;
		sc->pos += w;
		if (first && c == 0xFEFF)
			continue;
		return c;
	}
}

static int32_t ppeek(const struct pscan *sc)
{
	struct pscan tmp = *sc;
	return pnext(&tmp);
}

static int add_rune(struct kiln_buf *b, int32_t r)
{
	char enc[4];
	return kiln_buf_add(b, enc, kiln_utf8_encode(r, enc));
}

int kiln_shell_pattern_compile(const char *pat, size_t len, int greedy, int anchored,
			       struct kiln_buf *ret_regex, struct kiln_shell_pattern **ret,
			       struct kiln_error *err)
{
	cleanup(kiln_shell_pattern_freep) struct kiln_shell_pattern *p = NULL;
	struct pscan sc = { pat, len, 0 };
	struct kiln_buf *rx = ret_regex;
	int r = 0;

	if (len > KILN_SHELL_MAX_PATTERN)
		return kiln_fail(err, KILN_ELIMIT, 0, "pattern longer than %zu bytes",
				 KILN_SHELL_MAX_PATTERN);
	p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->greedy = greedy;
	p->anchored = anchored;
	p->atoms = kiln_reallocarray(NULL, len ? len : 1, sizeof(*p->atoms));
	if (!p->atoms)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (rx && anchored)
		r = kiln_buf_addch(rx, '^');

	for (int32_t tok = pnext(&sc); r >= 0 && tok != KILN_SHELL_RUNE_EOF; tok = pnext(&sc)) {
		struct atom a = { ATOM_LIT, tok };
		int quote = 0;
		switch (tok) {
		case '*':
			a.kind = ATOM_STAR;
			p->atoms[p->n++] = a;
			if (rx)
				r = kiln_buf_addstr(rx, greedy ? ".*" : ".*?");
			continue;
		case '?':
			a.kind = ATOM_ANY;
			p->atoms[p->n++] = a;
			if (rx)
				r = kiln_buf_addch(rx, '.');
			continue;
		case '\\': {
			/* `\}` and `\/` were escapes of the ${} syntax, not of the pattern. */
			int32_t nx = ppeek(&sc);
			if (nx == '}' || nx == '/')
				continue;
			tok = pnext(&sc);
			if (tok != '*' && tok != '?' && tok != '\\') {
				char enc[4];
				size_t n = kiln_utf8_encode(tok, enc);
				return kiln_fail(err, KILN_EPARSE, 0, "invalid escape '\\%.*s'", (int)n,
						 enc);
			}
			a.rune = tok;
			quote = 1;
			break;
		}
		case '[': case ']': case '{': case '}': case '.': case '+':
		case '(': case ')': case '|': case '^': case '$':
			quote = 1;
			break;
		default:
			break;
		}
		p->atoms[p->n++] = a;
		if (rx && quote)
			r = kiln_buf_addch(rx, '\\');
		if (rx && r >= 0)
			r = add_rune(rx, tok);
	}
	if (r < 0)
		return kiln_fail(err, -r, 0, "%s", r == -KILN_ENOMEM ? "out of memory" : "regexp too long");

	p->nodes = 2 * p->n + 1;
	for (int i = 0; i < 2; i++) {
		p->q[i].t = kiln_reallocarray(NULL, p->nodes, sizeof(struct thread));
		p->q[i].mark = kiln_calloc(p->nodes, sizeof(uint32_t));
		p->q[i].gen = 1;
		if (!p->q[i].t || !p->q[i].mark)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	p->pending = kiln_reallocarray(NULL, p->n ? p->n : 1, sizeof(size_t));
	if (!p->pending)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret = steal_ptr(&p);
	return 0;
}

static void q_clear(struct queue *q, size_t nodes)
{
	q->len = 0;
	if (++q->gen == 0) {
		memset(q->mark, 0, nodes * sizeof(uint32_t));
		q->gen = 1;
	}
}

static int q_marked(const struct queue *q, size_t node)
{
	return q->mark[node] == q->gen;
}

static void q_push(struct queue *q, size_t node, size_t start)
{
	q->mark[node] = q->gen;
	q->t[q->len].node = node;
	q->t[q->len].start = start;
	q->len++;
}

/*
 * Follow the empty transitions from `node` in the priority order of Go's
 * program: a greedy star tries its body before what follows it, a lazy one
 * after. Iterative, so that a long run of stars does not recurse.
 */
static void q_add(struct kiln_shell_pattern *p, struct queue *q, size_t node, size_t start)
{
	size_t npend = 0;
	size_t n = node;
	for (;;) {
		if (q_marked(q, n))
			break;
		if (n == p->n || p->atoms[n].kind != ATOM_STAR) {
			q_push(q, n, start);
			break;
		}
		q->mark[n] = q->gen;
		size_t body = p->n + 1 + n;
		if (p->greedy) {
			if (!q_marked(q, body))
				q_push(q, body, start);
		} else {
			p->pending[npend++] = body;
		}
		n++;
	}
	while (npend > 0) {
		size_t body = p->pending[--npend];
		if (!q_marked(q, body))
			q_push(q, body, start);
	}
}

int kiln_shell_pattern_find(struct kiln_shell_pattern *p, const char *s, size_t len, size_t from,
			    size_t *ret_start, size_t *ret_end, size_t *work,
			    struct kiln_error *err)
{
	struct queue *run = &p->q[0], *next = &p->q[1];
	int matched = 0;
	size_t pos = from;

	q_clear(run, p->nodes);
	q_clear(next, p->nodes);
	for (;;) {
		if (run->len == 0) {
			if (p->anchored && pos != 0)
				break;
			if (matched)
				break;
		}
		if (!matched && (pos == 0 || !p->anchored))
			q_add(p, run, 0, pos);

		size_t w = 0;
		int32_t c = KILN_SHELL_RUNE_EOF;
		if (pos < len)
			c = kiln_utf8_decode(s + pos, len - pos, &w);

		if (*work < run->len)
			return kiln_fail(err, KILN_ELIMIT, 0,
					 "pattern matching needs more than %zu steps",
					 KILN_SHELL_MAX_MATCH_WORK);
		*work -= run->len;

		q_clear(next, p->nodes);
		for (size_t j = 0; j < run->len; j++) {
			struct thread t = run->t[j];
			if (t.node == p->n) {
				/* First match in priority order: lower-priority threads are cut. */
				matched = 1;
				*ret_start = t.start;
				*ret_end = pos;
				break;
			}
			int ok;
			size_t succ;
			if (t.node < p->n) {
				const struct atom *a = &p->atoms[t.node];
				if (a->kind == ATOM_LIT)
					ok = c == a->rune;
				else
					ok = c != '\n' && c != KILN_SHELL_RUNE_EOF;
				succ = t.node + 1;
			} else {
				ok = c != '\n' && c != KILN_SHELL_RUNE_EOF;
				succ = t.node - p->n - 1;
			}
			if (ok)
				q_add(p, next, succ, t.start);
		}
		run->len = 0;
		if (w == 0)
			break;
		pos += w;
		struct queue *tmp = run;
		run = next;
		next = tmp;
	}
	return matched;
}

static int buf_fail(struct kiln_error *err, int r)
{
	if (r == -KILN_ELIMIT)
		return kiln_fail(err, KILN_ELIMIT, 0, "expansion longer than %zu bytes",
				 KILN_SHELL_MAX_OUTPUT);
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static int invalid_pattern(struct kiln_error *err, int r, const char *pat, size_t plen)
{
	if (r != -KILN_EPARSE)
		return r;
	return kiln_error_prefix(err, r, "invalid pattern (%.*s) in substitution", (int)plen, pat);
}

int kiln_shell_trim_prefix(const char *pat, size_t plen, const char *value, size_t vlen,
			   int greedy, struct kiln_buf *out, size_t *work, struct kiln_error *err)
{
	cleanup(kiln_shell_pattern_freep) struct kiln_shell_pattern *p = NULL;
	size_t start = 0, end = 0;
	int r = kiln_shell_pattern_compile(pat, plen, greedy, 1, NULL, &p, err);
	if (r < 0)
		return invalid_pattern(err, r, pat, plen);
	r = kiln_shell_pattern_find(p, value, vlen, 0, &start, &end, work, err);
	if (r < 0)
		return r;
	if (r == 0)
		end = 0;
	r = kiln_buf_add(out, value + end, vlen - end);
	return r < 0 ? buf_fail(err, r) : 0;
}

/* Go's []rune(s): invalid bytes become U+FFFD. */
static int32_t *to_runes(const char *s, size_t len, size_t *ret_n)
{
	int32_t *v = kiln_reallocarray(NULL, len ? len : 1, sizeof(int32_t));
	size_t n = 0, w;
	if (!v)
		return NULL;
	for (size_t i = 0; i < len; i += w)
		v[n++] = kiln_utf8_decode(s + i, len - i, &w);
	*ret_n = n;
	return v;
}

static int runes_to_buf(const int32_t *v, size_t n, struct kiln_buf *b)
{
	for (size_t i = 0; i < n; i++) {
		int r = add_rune(b, v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* reverseString: rune order reversed. */
static int reverse_string(const char *s, size_t len, struct kiln_buf *out)
{
	size_t n;
	cleanup_free int32_t *v = to_runes(s, len, &n);
	if (!v)
		return -KILN_ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int32_t t = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	return runes_to_buf(v, n, out);
}

/* reversePattern: like reverse_string, but `\x` pairs keep their order. */
static int reverse_pattern(const char *s, size_t len, struct kiln_buf *out)
{
	size_t n;
	cleanup_free int32_t *v = to_runes(s, len, &n);
	cleanup_free int32_t *o = NULL;
	if (!v)
		return -KILN_ENOMEM;
	o = kiln_reallocarray(NULL, n ? n : 1, sizeof(int32_t));
	if (!o)
		return -KILN_ENOMEM;
	size_t last = n ? n - 1 : 0;
	for (size_t i = 0; n && i <= last;) {
		size_t oi = last - i;
		if (v[i] == '\\' && i != last) {
			o[oi - 1] = v[i];
			o[oi] = v[i + 1];
			i += 2;
		} else {
			o[oi] = v[i];
			i++;
		}
	}
	return runes_to_buf(o, n, out);
}

int kiln_shell_trim_suffix(const char *pat, size_t plen, const char *value, size_t vlen,
			   int greedy, struct kiln_buf *out, size_t *work, struct kiln_error *err)
{
	cleanup(kiln_buf_release) struct kiln_buf rpat = KILN_BUF_INIT;
	cleanup(kiln_buf_release) struct kiln_buf rval = KILN_BUF_INIT;
	cleanup(kiln_buf_release) struct kiln_buf trimmed = KILN_BUF_INIT;
	int r;

	/* Reversal can triple the size of invalid UTF-8; keep the caps generous but finite. */
	kiln_buf_init(&rpat, 3 * KILN_SHELL_MAX_PATTERN + 3);
	kiln_buf_init(&rval, 3 * KILN_SHELL_MAX_OUTPUT + 3);
	kiln_buf_init(&trimmed, 3 * KILN_SHELL_MAX_OUTPUT + 3);
	r = reverse_pattern(pat, plen, &rpat);
	if (r < 0)
		return r == -KILN_ELIMIT ? kiln_fail(err, KILN_ELIMIT, 0,
						     "pattern longer than %zu bytes",
						     KILN_SHELL_MAX_PATTERN)
					 : buf_fail(err, r);
	r = reverse_string(value, vlen, &rval);
	if (r < 0)
		return buf_fail(err, r);
	r = kiln_shell_trim_prefix(rpat.buf, rpat.len, rval.buf, rval.len, greedy, &trimmed, work,
				   err);
	if (r < 0)
		return r;
	r = reverse_string(trimmed.buf, trimmed.len, out);
	return r < 0 ? buf_fail(err, r) : 0;
}

/* Go's Regexp.Expand for a regexp without groups: `$0`/`${0}` is the match, `$$` a dollar. */
static int expand_template(struct kiln_buf *out, const char *t, size_t tlen, const char *src,
			   size_t mstart, size_t mend)
{
	size_t i = 0;
	int r = 0;
	while (r >= 0 && i < tlen) {
		const char *d = memchr(t + i, '$', tlen - i);
		if (!d)
			break;
		size_t di = (size_t)(d - t);
		r = kiln_buf_add(out, t + i, di - i);
		if (r < 0)
			return r;
		i = di + 1;
		if (i < tlen && t[i] == '$') {
			r = kiln_buf_addch(out, '$');
			i++;
			continue;
		}
		/* extract(): a name of letters, digits and '_', optionally in braces. */
		size_t j = i;
		int brace = 0;
		if (j < tlen && t[j] == '{') {
			brace = 1;
			j++;
		}
		size_t name = j;
		while (j < tlen) {
			size_t w;
			int32_t c = kiln_utf8_decode(t + j, tlen - j, &w);
			if (!kiln_unicode_is_letter(c) && !kiln_unicode_is_digit(c) && c != '_')
				break;
			j += w;
		}
		size_t nlen = j - name;
		if (nlen == 0 || (brace && (j >= tlen || t[j] != '}'))) {
			r = kiln_buf_addch(out, '$'); /* malformed: the '$' is literal */
			continue;
		}
		if (brace)
			j++;
		i = j;
		/* Only group 0 exists; a number with leading zeros is a name, and no group has a name. */
		if (nlen == 1 && t[name] == '0')
			r = kiln_buf_add(out, src + mstart, mend - mstart);
	}
	if (r >= 0 && i < tlen)
		r = kiln_buf_add(out, t + i, tlen - i);
	return r;
}

int kiln_shell_replace(const char *pat, size_t plen, const char *repl, size_t rlen,
		       const char *value, size_t vlen, int all, struct kiln_buf *out, size_t *work,
		       struct kiln_error *err)
{
	cleanup(kiln_shell_pattern_freep) struct kiln_shell_pattern *p = NULL;
	size_t start = 0, end = 0;
	int r = kiln_shell_pattern_compile(pat, plen, 1, 0, NULL, &p, err);
	if (r < 0)
		return invalid_pattern(err, r, pat, plen);

	if (!all) {
		r = kiln_shell_pattern_find(p, value, vlen, 0, &start, &end, work, err);
		if (r < 0)
			return r;
		if (r == 0)
			r = kiln_buf_add(out, value, vlen);
		else if ((r = kiln_buf_add(out, value, start)) >= 0 &&
			 (r = kiln_buf_add(out, repl, rlen)) >= 0)
			r = kiln_buf_add(out, value + end, vlen - end);
		return r < 0 ? buf_fail(err, r) : 0;
	}

	/* Go's Regexp.ReplaceAllString. */
	size_t last_end = 0, search = 0;
	while (search <= vlen) {
		r = kiln_shell_pattern_find(p, value, vlen, search, &start, &end, work, err);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = kiln_buf_add(out, value + last_end, start - last_end);
		/* No replacement for an empty match right after the previous match. */
		if (r >= 0 && (end > last_end || start == 0))
			r = expand_template(out, repl, rlen, value, start, end);
		if (r < 0)
			return buf_fail(err, r);
		last_end = end;
		size_t w = 0;
		if (search < vlen)
			(void)kiln_utf8_decode(value + search, vlen - search, &w);
		if (search + w > end)
			search += w;
		else if (search + 1 > end)
			search++;
		else
			search = end;
	}
	r = kiln_buf_add(out, value + last_end, vlen - last_end);
	return r < 0 ? buf_fail(err, r) : 0;
}
