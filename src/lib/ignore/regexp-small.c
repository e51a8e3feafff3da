/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A faster way to run the small programs that nearly every pattern compiles
 * to (64 instructions or fewer, anchored, no word-boundary assertions): the
 * live states are bits of one word, and the closures and the states that
 * consume each ASCII rune are computed once, when the pattern is compiled.
 * A step is then a few AND/OR operations per live state instead of a walk
 * of the program. The answers are those of regexp-exec.c's simulation.
 */
#include <stdlib.h>

#include "base/alloc.h"
#include "base/gotext.h"
#include "ignore/regexp-prog.h"

/* Closure contexts: bit 0 = at the start of the text, bit 1 = at its end. */
enum { CTX_MID = 0, CTX_BEGIN = 1, CTX_END = 2, CTX_BOTH = 3 };

struct re_small {
	uint64_t cons_ascii[128]; /* states that consume this ASCII rune */
	uint64_t after_mid[64];	  /* closure of inst[pc].out inside the text */
	uint64_t after_end[64];	  /* ... and at its end */
	uint64_t start[4];	  /* closure of the start state, per context */
	uint64_t match;		  /* the MATCH state(s) */
	uint64_t consuming;	  /* states that consume a rune */
};

static uint64_t closure(const struct kiln_ignore_re *re, uint32_t pc, unsigned ctx)
{
	uint32_t stack[130];
	size_t top = 0;
	uint64_t seen = 0;
	stack[top++] = pc;
	while (top > 0) {
		pc = stack[--top];
		if (seen >> pc & 1)
			continue;
		seen |= (uint64_t)1 << pc;
		const struct re_inst *in = &re->inst[pc];
		unsigned need = 0;
		switch (in->op) {
		case RE_I_JMP:
			stack[top++] = in->out;
			break;
		case RE_I_SPLIT:
			stack[top++] = in->x;
			stack[top++] = in->out;
			break;
		case RE_I_EMPTY:
			if (in->x & RE_EMPTY_BEGIN_TEXT)
				need |= CTX_BEGIN;
			if (in->x & RE_EMPTY_END_TEXT)
				need |= CTX_END;
			if ((need & ctx) == need)
				stack[top++] = in->out;
			break;
		default:
			break;
		}
	}
	return seen;
}

static int consumes(const struct kiln_ignore_re *re, const struct re_inst *in, uint32_t r)
{
	switch (in->op) {
	case RE_I_CHAR:
		return in->x == r;
	case RE_I_ANYNL:
		return r != '\n';
	case RE_I_CLASS: {
		const uint32_t *rg = re->ranges + in->x;
		for (uint32_t k = 0; k < in->y; k++)
			if (r >= rg[2 * k] && r <= rg[2 * k + 1])
				return 1;
		return 0;
	}
	default:
		return 0;
	}
}

int kiln_ignore_re_small_prepare(struct kiln_ignore_re *re)
{
	if (re->ninst > 64 || !re->anchored)
		return 0;
	for (uint32_t pc = 0; pc < re->ninst; pc++)
		if (re->inst[pc].op == RE_I_EMPTY &&
		    (re->inst[pc].x & (RE_EMPTY_WORD_BOUNDARY | RE_EMPTY_NO_WORD_BOUNDARY)))
			return 0;
	/*
	 * Only what the start reaches: instructions of a fragment dropped as
	 * redundant while parsing are unreachable and may hold unpatched exits.
	 */
	uint64_t reach = 0;
	uint32_t stack[130];
	size_t top = 0;
	stack[top++] = re->start;
	while (top > 0) {
		uint32_t pc = stack[--top];
		if (pc >= re->ninst || (reach >> pc & 1))
			continue;
		reach |= (uint64_t)1 << pc;
		const struct re_inst *in = &re->inst[pc];
		if (in->op == RE_I_MATCH)
			continue;
		stack[top++] = in->out;
		if (in->op == RE_I_SPLIT)
			stack[top++] = in->x;
	}
	struct re_small *sm = kiln_calloc(1, sizeof(*sm));
	if (!sm)
		return -KILN_ENOMEM;
	for (uint32_t pc = 0; pc < re->ninst; pc++) {
		const struct re_inst *in = &re->inst[pc];
		uint64_t bit = (uint64_t)1 << pc;
		if (!(reach & bit))
			continue;
		if (in->op == RE_I_MATCH)
			sm->match |= bit;
		if (in->op != RE_I_CHAR && in->op != RE_I_CLASS && in->op != RE_I_ANYNL)
			continue;
		sm->consuming |= bit;
		sm->after_mid[pc] = closure(re, in->out, CTX_MID);
		sm->after_end[pc] = closure(re, in->out, CTX_END);
		for (uint32_t c = 0; c < 128; c++)
			if (consumes(re, in, c))
				sm->cons_ascii[c] |= bit;
	}
	for (unsigned ctx = 0; ctx < 4; ctx++)
		sm->start[ctx] = closure(re, re->start, ctx);
	re->small = sm;
	return 0;
}

void kiln_ignore_re_small_free(struct kiln_ignore_re *re)
{
	free(re->small);
	re->small = NULL;
}

int kiln_ignore_re_small_run(const struct kiln_ignore_re *re, const char *s, size_t n,
			     int prefix_mode)
{
	const struct re_small *sm = re->small;
	uint64_t cur = sm->start[n == 0 && !prefix_mode ? CTX_BOTH : CTX_BEGIN];
	if (cur & sm->match)
		return 1;
	size_t i = 0;
	while (i < n) {
		uint32_t r;
		unsigned char c = (unsigned char)s[i];
		uint64_t live;
		if (c < 0x80) {
			r = c;
			i++;
			live = cur & sm->cons_ascii[c];
		} else {
			size_t w;
			r = (uint32_t)kiln_utf8_decode(s + i, n - i, &w);
			i += w;
			live = 0;
			for (uint64_t m = cur & sm->consuming; m; m &= m - 1) {
				unsigned pc = (unsigned)__builtin_ctzll(m);
				if (consumes(re, &re->inst[pc], r))
					live |= (uint64_t)1 << pc;
			}
		}
		const uint64_t *after = !prefix_mode && i == n ? sm->after_end : sm->after_mid;
		uint64_t next = 0;
		for (; live; live &= live - 1)
			next |= after[__builtin_ctzll(live)];
		cur = next;
		if (cur & sm->match)
			return 1;
		if (!cur)
			return 0;
	}
	/* prefix mode: can a live state still consume input? */
	return prefix_mode && (cur & (sm->consuming | sm->match)) != 0;
}
