/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ignore/regexp-prog.h"

/*
 * The regexp parser's state, shared by regexp-parse.c (operators, program
 * building) and regexp-class.c (character classes and escapes).
 */
enum frag_kind {
	FK_OTHER,
	FK_CHAR,  /* a single literal rune */
	FK_BEGIN, /* ^ or \A */
	FK_END,   /* $ or \z */
	FK_MARK,  /* a '(' waiting for its ')' */
};

struct frag {
	uint32_t start;
	uint32_t holes; /* unfilled next pointers, threaded through the program; 0 = none */
	uint8_t kind;
	uint32_t rune;
	uint32_t src, src_end; /* the fragment's text in the expression */
	uint8_t repeated;	/* made by '*' or '?' */
};

struct re_parser {
	struct kiln_ignore_re *re;
	size_t cap_inst, cap_ranges;
	struct frag *stack;
	size_t nstack, cap_stack;
	uint32_t *cls; /* lo/hi pairs of the class being parsed */
	size_t ncls, cap_cls;
	struct kiln_error *err;
};

int kiln_ignore_re_error(struct re_parser *p, const char *code, const char *expr, size_t len);
int kiln_ignore_re_oom(struct re_parser *p);

/* Class building: ranges collect in p->cls, then go into the program. */
int kiln_ignore_re_cls_add(struct re_parser *p, uint32_t lo, uint32_t hi);
int kiln_ignore_re_cls_finish(struct re_parser *p, int negated, uint32_t *ret_off, uint32_t *ret_n);

/* \d \D \s \S \w \W at s: 1 = consumed two bytes (*r = result), 0 = not one. */
int kiln_ignore_re_parse_perl_class(struct re_parser *p, const char *s, size_t n, int *r);
/* \p / \P at s: 1 = consumed *used bytes, 0 = not one, <0 error. */
int kiln_ignore_re_parse_unicode_class(struct re_parser *p, const char *s, size_t n, size_t *used);
/* The rune of the escape at s (s[0] == '\\'). */
int kiln_ignore_re_parse_escape(struct re_parser *p, const char *s, size_t n, uint32_t *ret,
				size_t *used);
/* What follows '[' up to and including its ']': ranges into p->cls. */
int kiln_ignore_re_parse_class_items(struct re_parser *p, const char *s, size_t n, int *negated,
				     size_t *used);
