/* SPDX-License-Identifier: Apache-2.0 */
/*
 * COPY/ADD --chmod: an octal mode (BuildKit's own check) or a chmod(1)
 * symbolic mode as BSD setmode(3) reads it (BuildKit uses dchapes-mode, a Go
 * port of setmode). Symbolic modes are parsed into a short list of bit
 * operations and applied per file: `+X` depends on the file being a
 * directory or already executable. The file creation mask is taken as 0, so
 * `+x` means a+x whatever the umask of the process that builds.
 */
#include <string.h>

#include "goconv.h"
#include "model.h"

enum {
	IS_UID = 04000,
	IS_GID = 02000,
	IS_TXT = 01000,
	IRWXU = 0700,
	IRUSR = 0400,
	IWUSR = 0200,
	IXUSR = 0100,
	IRWXG = 070,
	IRGRP = 040,
	IWGRP = 020,
	IXGRP = 010,
	IRWXO = 07,
	IROTH = 04,
	IWOTH = 02,
	IXOTH = 01,
	STANDARD_BITS = IS_UID | IS_GID | IRWXU | IRWXG | IRWXO,
};

enum { CMD2_CLEAR = 1, CMD2_SET = 2, CMD2_GBITS = 4, CMD2_OBITS = 8, CMD2_UBITS = 16 };

struct bitcmd {
	char cmd;
	unsigned char cmd2;
	unsigned bits;
};

#define MAX_CMDS 256

struct modeset {
	struct bitcmd c[MAX_CMDS];
	size_t n;
	int overflow;
};

static void addcmd(struct modeset *s, char op, unsigned who, unsigned oparg, unsigned mask)
{
	if (s->n + 2 > MAX_CMDS) {
		s->overflow = 1;
		return;
	}
	struct bitcmd c = { 0 };
	switch (op) {
	case '=':
		c.cmd = '-';
		c.bits = who ? who : STANDARD_BITS;
		s->c[s->n++] = c;
		op = '+';
		/* fall through */
	case '+':
	case '-':
	case 'X':
		c.cmd = op;
		c.bits = who ? (who & oparg) : (mask & oparg);
		break;
	default: /* 'u', 'g', 'o' */
		c.cmd = op;
		if (who) {
			if (who & IRUSR)
				c.cmd2 |= CMD2_UBITS;
			if (who & IRGRP)
				c.cmd2 |= CMD2_GBITS;
			if (who & IROTH)
				c.cmd2 |= CMD2_OBITS;
			c.bits = ~0U;
		} else {
			c.cmd2 = CMD2_UBITS | CMD2_GBITS | CMD2_OBITS;
			c.bits = mask;
		}
		if (oparg == '+')
			c.cmd2 |= CMD2_SET;
		else if (oparg == '-')
			c.cmd2 |= CMD2_CLEAR;
		else if (oparg == '=')
			c.cmd2 |= CMD2_SET | CMD2_CLEAR;
		break;
	}
	s->c[s->n++] = c;
}

/* setmode's parser; -1 for a syntax error (including the inputs Go's port
 * would index past the end of). */
static int parse_symbolic(const char *s, struct modeset *m)
{
	const unsigned mask = 07777; /* umask 0 */
	int equal_done = 0;
	for (;;) {
		unsigned who = 0;
		for (;; s++) {
			if (*s == 'a')
				who |= STANDARD_BITS;
			else if (*s == 'u')
				who |= IS_UID | IRWXU;
			else if (*s == 'g')
				who |= IS_GID | IRWXG;
			else if (*s == 'o')
				who |= IRWXO;
			else
				break;
		}
	getop:
		if (!*s)
			return -1;
		char op = *s++;
		if (op == '=')
			equal_done = 0;
		else if (op != '+' && op != '-')
			return -1;
		who &= ~(unsigned) IS_TXT;
		unsigned perm = 0, permx = 0;
		for (;; s++) {
			char b = *s;
			if (b == 'r') {
				perm |= IRUSR | IRGRP | IROTH;
			} else if (b == 's') {
				if (who == 0 || (who & ~(unsigned) IRWXO))
					perm |= IS_UID | IS_GID;
			} else if (b == 't') {
				if (who == 0 || (who & ~(unsigned) IRWXO)) {
					who |= IS_TXT;
					perm |= IS_TXT;
				}
			} else if (b == 'w') {
				perm |= IWUSR | IWGRP | IWOTH;
			} else if (b == 'X') {
				if (op == '+')
					permx = IXUSR | IXGRP | IXOTH;
			} else if (b == 'x') {
				perm |= IXUSR | IXGRP | IXOTH;
			} else if (b == 'u' || b == 'g' || b == 'o') {
				if (perm) {
					addcmd(m, op, who, perm, mask);
					perm = 0;
				}
				if (op == '=')
					equal_done = 1;
				if (permx) {
					addcmd(m, 'X', who, permx, mask);
					permx = 0;
				}
				addcmd(m, b, who, (unsigned) (unsigned char) op, mask);
			} else {
				if (perm || (op == '=' && !equal_done)) {
					if (op == '=')
						equal_done = 1;
					addcmd(m, op, who, perm, mask);
					perm = 0;
				}
				if (permx)
					addcmd(m, 'X', who, permx, mask);
				break;
			}
		}
		if (m->overflow)
			return -1;
		if (!*s)
			break;
		if (*s != ',')
			goto getop;
		s++;
	}
	return 0;
}

static int nonoctal(struct kiln_error *err, const char *s)
{
	return kiln_fail(err, KILN_EPARSE, 0,
			 "invalid chmod parameter: '%s'. it should be octal string and between 0 "
			 "and 07777",
			 s);
}

/* BuildKit's order: ParseUint(s, 8, 32) first, then mode.Parse. */
static int chmod_parse(const char *s, int *ret_octal, unsigned *ret_mode, struct modeset *m,
		       struct kiln_error *err)
{
	uint64_t v;
	int r = df_go_parse_uint(s, 8, 32, &v);
	if (r == DF_GO_NUM_OK) {
		if (v > 07777)
			return nonoctal(err, s);
		*ret_octal = 1;
		*ret_mode = (unsigned) v;
		return 0;
	}
	*ret_octal = 0;
	if (!*s)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid syntax");
	if (*s >= '0' && *s <= '9')
		return nonoctal(err, s); /* mode.Parse fails with a strconv error */
	if (parse_symbolic(s, m) < 0)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid syntax");
	return 0;
}

int df_chmod_validate(const char *s, struct kiln_error *err)
{
	struct modeset m = { .n = 0 };
	int octal;
	unsigned mode;
	return chmod_parse(s, &octal, &mode, &m, err);
}

int kiln_df_chmod_apply(const char *spec, uint32_t mode, int is_dir, uint32_t *ret,
			struct kiln_error *err)
{
	struct modeset m = { .n = 0 };
	int octal;
	unsigned v;
	int r = chmod_parse(spec, &octal, &v, &m, err);
	if (r < 0)
		return r;
	uint32_t keep = mode & ~(uint32_t) 07777;
	if (octal) {
		*ret = keep | v;
		return 0;
	}
	unsigned omode = mode & 07777, nmode = omode;
	for (size_t i = 0; i < m.n; i++) {
		const struct bitcmd *c = &m.c[i];
		unsigned value;
		switch (c->cmd) {
		case 'u':
		case 'g':
		case 'o':
			value = c->cmd == 'u'	? (nmode & IRWXU) >> 6
				: c->cmd == 'g' ? (nmode & IRWXG) >> 3
						: nmode & IRWXO;
			if (c->cmd2 & CMD2_CLEAR) {
				unsigned clr = (c->cmd2 & CMD2_SET) ? IRWXO : value;
				if (c->cmd2 & CMD2_UBITS)
					nmode &= ~((clr << 6) & c->bits);
				if (c->cmd2 & CMD2_GBITS)
					nmode &= ~((clr << 3) & c->bits);
				if (c->cmd2 & CMD2_OBITS)
					nmode &= ~(clr & c->bits);
			}
			if (c->cmd2 & CMD2_SET) {
				if (c->cmd2 & CMD2_UBITS)
					nmode |= (value << 6) & c->bits;
				if (c->cmd2 & CMD2_GBITS)
					nmode |= (value << 3) & c->bits;
				if (c->cmd2 & CMD2_OBITS)
					nmode |= value & c->bits;
			}
			break;
		case '+':
			nmode |= c->bits;
			break;
		case '-':
			nmode &= ~c->bits;
			break;
		case 'X':
			if ((omode & (IXUSR | IXGRP | IXOTH)) || is_dir)
				nmode |= c->bits;
			break;
		}
	}
	*ret = keep | (nmode & 07777);
	return 0;
}
