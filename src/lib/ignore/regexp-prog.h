/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ignore/regexp.h"

/*
 * The compiled form shared by regexp-parse.c (which builds it) and
 * regexp-exec.c (which runs it): a Thompson NFA program.
 */

enum re_inst_op {
	RE_I_CHAR,  /* one rune: x; next: out */
	RE_I_CLASS, /* rune in ranges[x .. x + 2*y) (sorted, disjoint lo/hi pairs); next: out */
	RE_I_ANYNL, /* any rune but '\n'; next: out */
	RE_I_EMPTY, /* zero-width assertion x (enum re_empty bits); next: out */
	RE_I_SPLIT, /* try out, then x */
	RE_I_JMP,   /* next: out */
	RE_I_MATCH,
};

enum re_empty {
	RE_EMPTY_BEGIN_TEXT = 1 << 0,
	RE_EMPTY_END_TEXT = 1 << 1,
	RE_EMPTY_WORD_BOUNDARY = 1 << 2,
	RE_EMPTY_NO_WORD_BOUNDARY = 1 << 3,
};

struct re_inst {
	uint8_t op;
	uint32_t out;
	uint32_t x;
	uint32_t y;
};

struct re_small;

struct kiln_ignore_re {
	struct re_inst *inst;
	uint32_t ninst;
	uint32_t start;
	uint32_t *ranges; /* class ranges pool */
	size_t nranges;   /* uint32 entries used */
	int anchored;     /* the program begins with \A / ^: only position 0 can start a match */
	char *prefix;     /* literal bytes every match starts with */
	size_t prefix_len;
	char *suffix; /* literal bytes every match ends with */
	size_t suffix_len;
	struct re_small *small; /* the bit-parallel form of a small program (regexp-small.c) */
	/* scratch for the simulation, sized ninst */
	uint32_t *sparse[2];
	uint32_t *dense[2];
	uint32_t *stack;
};

/* regexp-small.c: programs of at most 64 instructions, run on bit sets. */
int kiln_ignore_re_small_prepare(struct kiln_ignore_re *re);
void kiln_ignore_re_small_free(struct kiln_ignore_re *re);
int kiln_ignore_re_small_run(const struct kiln_ignore_re *re, const char *s, size_t n,
			     int prefix_mode);
