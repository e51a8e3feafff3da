/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a compiled program: a Thompson NFA simulation (one pass over the
 * input, a set of live states per position), which is what Go's regexp does
 * when it cannot use its faster special cases. Runes are decoded as Go
 * decodes them, so an invalid byte is U+FFFD for `.`, `[^/]` and literals.
 */
#include "base/gotext.h"
#include "ignore/regexp-prog.h"

struct re_set {
	uint32_t *sparse, *dense;
	uint32_t n;
};

static int set_has(const struct re_set *s, uint32_t pc)
{
	uint32_t i = s->sparse[pc];
	return i < s->n && s->dense[i] == pc;
}

static void set_add(struct re_set *s, uint32_t pc)
{
	s->sparse[pc] = s->n;
	s->dense[s->n++] = pc;
}

static int is_word(int64_t r)
{
	return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') ||
	       r == '_';
}

/*
 * Which zero-width assertions hold between runes r1 and r2 (-1 = the start
 * or end of the text). With `open_end`, the text continues past the end
 * with unknown runes: END_TEXT cannot hold there, and both word-boundary
 * assertions might.
 */
static unsigned empty_context(int64_t r1, int64_t r2, int open_end)
{
	unsigned f = 0;
	if (r1 < 0)
		f |= RE_EMPTY_BEGIN_TEXT;
	if (open_end)
		return f | RE_EMPTY_WORD_BOUNDARY | RE_EMPTY_NO_WORD_BOUNDARY;
	if (r2 < 0)
		f |= RE_EMPTY_END_TEXT;
	if (is_word(r1) != is_word(r2))
		f |= RE_EMPTY_WORD_BOUNDARY;
	else
		f |= RE_EMPTY_NO_WORD_BOUNDARY;
	return f;
}

/* Add pc and everything reachable from it without consuming input. */
static void add_closure(struct kiln_ignore_re *re, struct re_set *s, uint32_t pc, unsigned ctx)
{
	uint32_t *stack = re->stack;
	size_t top = 0;
	stack[top++] = pc;
	while (top > 0) {
		pc = stack[--top];
		if (set_has(s, pc))
			continue;
		set_add(s, pc);
		const struct re_inst *in = &re->inst[pc];
		switch (in->op) {
		case RE_I_JMP:
			stack[top++] = in->out;
			break;
		case RE_I_SPLIT:
			/* x last so that out is explored first (order is irrelevant for a yes/no answer). */
			stack[top++] = in->x;
			stack[top++] = in->out;
			break;
		case RE_I_EMPTY:
			if ((in->x & ctx) == in->x)
				stack[top++] = in->out;
			break;
		default:
			break;
		}
	}
}

static int class_has(const struct kiln_ignore_re *re, const struct re_inst *in, uint32_t r)
{
	const uint32_t *rg = re->ranges + in->x;
	uint32_t lo = 0, hi = in->y;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (r < rg[2 * mid])
			hi = mid;
		else if (r > rg[2 * mid + 1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/*
 * Simulate over s. Returns 1 as soon as a MATCH state is live. With
 * `prefix_mode`, the text is only a prefix of the real input: returns 1 if
 * any state is still live at its end.
 */
static int run(struct kiln_ignore_re *re, const char *s, size_t n, int prefix_mode)
{
	struct re_set cur = { re->sparse[0], re->dense[0], 0 };
	struct re_set next = { re->sparse[1], re->dense[1], 0 };
	int64_t prev = -1;
	uint64_t work = 0;
	size_t i = 0;
	uint32_t r = 0;
	size_t w = 0;
	if (n > 0)
		r = (uint32_t)kiln_utf8_decode(s, n, &w);
	for (;;) {
		int64_t here = i < n ? (int64_t)r : -1;
		int open_end = prefix_mode && i == n;
		if (i == 0 || !re->anchored)
			add_closure(re, &cur, re->start, empty_context(prev, here, open_end));
		if (open_end) {
			/* Viable if some thread can still consume input or has matched. */
			for (uint32_t k = 0; k < cur.n; k++) {
				uint8_t op = re->inst[cur.dense[k]].op;
				if (op == RE_I_CHAR || op == RE_I_CLASS || op == RE_I_ANYNL ||
				    op == RE_I_MATCH)
					return 1;
			}
			return 0;
		}
		for (uint32_t k = 0; k < cur.n; k++)
			if (re->inst[cur.dense[k]].op == RE_I_MATCH)
				return 1;
		if (i >= n)
			return 0;
		if (cur.n == 0 && re->anchored)
			return 0;
		work += cur.n + 1;
		if (work > KILN_IGNORE_RE_MAX_WORK)
			return prefix_mode ? 1 : -KILN_ELIMIT;
		size_t ni = i + w;
		uint32_t nr = 0;
		size_t nw = 0;
		if (ni < n)
			nr = (uint32_t)kiln_utf8_decode(s + ni, n - ni, &nw);
		int64_t after = ni < n ? (int64_t)nr : -1;
		unsigned ctx = empty_context((int64_t)r, after, prefix_mode && ni == n);
		next.n = 0;
		for (uint32_t k = 0; k < cur.n; k++) {
			const struct re_inst *in = &re->inst[cur.dense[k]];
			int ok;
			switch (in->op) {
			case RE_I_CHAR:
				ok = in->x == r;
				break;
			case RE_I_CLASS:
				ok = class_has(re, in, r);
				break;
			case RE_I_ANYNL:
				ok = r != '\n';
				break;
			default:
				ok = 0;
				break;
			}
			if (ok)
				add_closure(re, &next, in->out, ctx);
		}
		struct re_set t = cur;
		cur = next;
		next = t;
		prev = (int64_t)r;
		i = ni;
		r = nr;
		w = nw;
	}
}

int kiln_ignore_re_match_general(struct kiln_ignore_re *re, const char *s, size_t n)
{
	return run(re, s, n, 0);
}

int kiln_ignore_re_prefix_viable_general(struct kiln_ignore_re *re, const char *s, size_t n)
{
	return re->anchored ? run(re, s, n, 1) : 1;
}

int kiln_ignore_re_match(struct kiln_ignore_re *re, const char *s, size_t n)
{
	if (re->small)
		return kiln_ignore_re_small_run(re, s, n, 0);
	return run(re, s, n, 0);
}

int kiln_ignore_re_prefix_viable(struct kiln_ignore_re *re, const char *s, size_t n)
{
	if (!re->anchored)
		return 1;
	if (re->small)
		return kiln_ignore_re_small_run(re, s, n, 1);
	return run(re, s, n, 1);
}
