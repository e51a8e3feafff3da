/* SPDX-License-Identifier: Apache-2.0 */
#include "lint-sh.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "lint-sh-internal.h"

enum { CASE_HEADER = 1, CASE_PATTERN, CASE_BODY };
enum sep { SEP_END, SEP_LIST, SEP_PIPE };

#define MAX_HEREDOCS 16
#define MAX_CASE 16
#define CMDS_FIRST 8 /* the commands a script has room for at first */
/* The byte after the text in the parser's copy, LINT_SH_PAD times: one that ends a plain run
 * in and out of double quotes, so that the scans need no bounds test. */
#define SENTINEL '"'
#define LINT_SH_PAD 4

/*
 * The end of the run of bytes from w[e] on that `stops` does not mark: the parser's scan of a
 * word's plain bytes (most words are such runs), four a test. w is the parser's copy, whose
 * sentinels (marked in every `stops`) end the scan at the text's end at the latest.
 */
static inline size_t run_end(const unsigned char stops[256], const unsigned char *w, size_t e)
{
	while (!(stops[w[e]] | stops[w[e + 1]] | stops[w[e + 2]] | stops[w[e + 3]]))
		e += 4;
	while (!stops[w[e]])
		e++;
	return e;
}

struct parser {
	const char *s;
	size_t len;
	size_t i;
	struct lint_sh_script *out;
	int depth;
	int wrapped;
	struct kiln_arena *arena; /* the script's: words and argument vectors */
	/*
	 * The words, in one arena copy of the text: a word starts at its
	 * first byte's offset in the text and is rewritten in place there, as
	 * quote removal only shrinks it and an expansion is kept as written;
	 * its NUL goes over the byte that ended it. A run of bytes that has not
	 * moved is not copied: most words are such runs.
	 */
	char *wbuf;
	size_t wcap;
	size_t wend; /* where the word being read ends; kept words lie before it */
	/*
	 * The current command's words and their flags, where its argv and wflags will be: in
	 * blocks of the arena, one command after the other, each argv ended by its NULL. A
	 * command that outgrows the block moves to a new one.
	 */
	char **words;
	unsigned *wflags;
	size_t n_words;
	size_t words_alloc; /* room for words at p->words, and one slot more for the NULL */
	int next_in_pipe;
	size_t opt_end; /* index of the current command's first "--" word, 0 for none yet */
	/* stacks of parse_text(): read only below n_hd, n_case */
	const char **hd_delim; /* [MAX_HEREDOCS] */
	size_t *hd_len;
	int *hd_strip;
	int n_hd;
	int *case_state; /* [MAX_CASE] */
	/* the states word_role() looks at, in one word: `pending` is 0 when none is set */
	union {
		struct {
			unsigned char n_case;
			unsigned char skip_header;  /* for/select header: words up to `do` */
			unsigned char test_skip;    /* inside [[ ... ]] */
			unsigned char func_pending; /* the word after `function` */
			unsigned char redirect_pending;
			unsigned char heredoc_pending; /* 1: <<, 2: <<- */
			unsigned char unused_[2];      /* 0 */
		};
		uint64_t pending;
	};
	int nomem;
	/* the text holds no NUL byte: a word's length in wbuf is its strlen() */
	int clean;
	size_t w0_len; /* strlen() of the current command's first word */
};


static int parse_text(struct lint_sh_script *out, const char *s, size_t len, int depth,
		      int wrapped, int clean);

/* strcmp() == 0, first bytes first: every word is tested against many keywords */
static inline int str_eq(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

/* The arena of the script's words: the caller's (one per Dockerfile), or its own. */
static struct kiln_arena *script_arena(struct lint_sh_script *s)
{
	if (!s->arena) {
		s->arena = kiln_arena_new();
		s->own_arena = s->arena != NULL;
	}
	return s->arena;
}
static inline void add_command(struct parser *p, char **argv, unsigned *wf, size_t argc,
			       size_t opt_end, int in_pipe, int wrapped, int depth,
			       size_t arg0_len);

/* The index of the first "--" argument, or argc: for commands not read word by word. */
static size_t find_opt_end(char **argv, size_t argc)
{
	for (size_t i = 1; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1] == '-' && !argv[i][2])
			return i;
	return argc;
}

/* Note argument w (NUL-terminated), the current command's word number n_words. */
static inline void note_opt_end(struct parser *p, const char *w)
{
	if (w[0] == '-' && w[1] == '-' && !w[2] && p->n_words && !p->opt_end)
		p->opt_end = p->n_words;
}

/* the bytes that end a word: a table, as every byte of a word is looked up */
static const unsigned char word_end[256] = {
	[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [';'] = 1, ['&'] = 1,
	['|'] = 1, ['('] = 1,  [')'] = 1,  ['<'] = 1,  ['>'] = 1,
};

static inline int is_word_end(char c)
{
	return word_end[(unsigned char)c];
}

static void sub_parse(struct parser *p, const char *s, size_t len)
{
	if (p->depth + 1 >= LINT_SH_MAX_DEPTH)
		return;
	if (parse_text(p->out, s, len, p->depth + 1, 1, p->clean) < 0)
		p->nomem = 1;
}

/* Append s[0..n) to the word being read (it always fits; see parser.wbuf). */
static inline void add_bytes(struct parser *p, const char *s, size_t n)
{
	if (s == p->s + p->wend) { /* in place: the copy still holds these bytes */
		p->wend += n;
		return;
	}
	if (n > p->wcap - p->wend) { /* cannot happen: a bug, not a wrong word */
		p->nomem = 1;
		return;
	}
	memcpy(p->wbuf + p->wend, s, n);
	p->wend += n;
}

/* `$...` at s[i]: append the expansion as written, recurse into $( ). */
static size_t dollar(struct parser *p, size_t i)
{
	const char *s = p->s;
	size_t len = p->len, start = i;
	if (i + 1 < len && s[i + 1] == '(') {
		if (i + 2 < len && s[i + 2] == '(') {
			size_t e = lint_sh_match_paren(s, len, i + 3);
			e = e < len ? e + 1 : len; /* the second ')' */
			if (e < len && s[e] == ')')
				e++;
			add_bytes(p, s + start, (e > len ? len : e) - start);
			return e > len ? len : e;
		}
		size_t e = lint_sh_match_paren(s, len, i + 2);
		sub_parse(p, s + i + 2, e - (i + 2));
		e = e < len ? e + 1 : len;
		add_bytes(p, s + start, e - start);
		return e;
	}
	if (i + 1 < len && s[i + 1] == '{') {
		size_t e = lint_sh_match_brace(s, len, i + 2);
		e = e < len ? e + 1 : len;
		add_bytes(p, s + start, e - start);
		return e;
	}
	i++;
	while (i < len && lint_sh_name_byte[(unsigned char)s[i]]) /* [A-Za-z0-9_] */
		i++;
	if (i == start + 1 && i < len && strchr("@*#?-$!0123456789", s[i]))
		i++;
	add_bytes(p, s + start, i - start);
	return i;
}

static size_t backquote(struct parser *p, size_t i)
{
	size_t e = lint_sh_match_backquote(p->s, p->len, i + 1);
	sub_parse(p, p->s + i + 1, e - (i + 1));
	e = e < p->len ? e + 1 : p->len;
	add_bytes(p, p->s + i, e - i);
	return e;
}

/* Read one word at p->i, appending it at p->wend; returns its flags. */
static unsigned read_word(struct parser *p)
{
	/* the bytes that end a word or start a quote, escape or expansion */
	static const unsigned char stops[256] = {
		[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [';'] = 1, ['&'] = 1,
		['|'] = 1, ['('] = 1,  [')'] = 1,  ['<'] = 1,  ['>'] = 1, ['\\'] = 1,
		['\''] = 1, ['"'] = 1, ['$'] = 1,  ['`'] = 1,
	};
	const char *s = p->s;
	/* the copy, for the scans: the same bytes from p->i on (see parser.wbuf) */
	const unsigned char *w = (const unsigned char *)p->wbuf;
	size_t len = p->len, i = p->i;
	unsigned fl = 0;
	while (i < len) {
		char c = s[i];
		if (!stops[(unsigned char)c]) {
			/* a run of plain bytes in one append, tested first: most words are one */
			size_t e = run_end(stops, w, i + 1);
			add_bytes(p, s + i, e - i);
			i = e;
			continue;
		}
		if (is_word_end(c))
			break;
		if (c == '\\') {
			if (i + 1 < len && s[i + 1] == '\n') {
				i += 2;
				continue;
			}
			if (i + 1 < len) {
				add_bytes(p, s + i + 1, 1);
				fl |= LINT_SH_QUOTED;
				i += 2;
			} else {
				i++;
			}
			continue;
		}
		if (c == '\'') {
			fl |= LINT_SH_QUOTED;
			size_t e = i + 1;
			while (e < len && s[e] != '\'')
				e++;
			add_bytes(p, s + i + 1, e - (i + 1));
			i = e < len ? e + 1 : len;
			continue;
		}
		if (c == '"') {
			/* the bytes that end a run of ordinary characters in double quotes */
			static const unsigned char dq_stops[256] = {
				['"'] = 1, ['\\'] = 1, ['$'] = 1, ['`'] = 1,
			};
			fl |= LINT_SH_QUOTED;
			i++;
			while (i < len && s[i] != '"') {
				if (!dq_stops[(unsigned char)s[i]]) { /* a run, first: the usual */
					size_t e = run_end(dq_stops, w, i + 1);
					add_bytes(p, s + i, e - i);
					i = e;
					continue;
				}
				if (s[i] == '\\' && i + 1 < len) {
					char n = s[i + 1];
					if (n == '\n') {
						i += 2;
						continue;
					}
					if (n == '$' || n == '`' || n == '"' || n == '\\') {
						add_bytes(p, s + i + 1, 1);
						i += 2;
						continue;
					}
					add_bytes(p, s + i, 1);
					i++;
					continue;
				}
				if (s[i] == '$') {
					fl |= LINT_SH_EXPAND;
					p->i = i;
					i = dollar(p, i);
					continue;
				}
				if (s[i] == '`') {
					fl |= LINT_SH_EXPAND;
					i = backquote(p, i);
					continue;
				}
				/* a backslash that ends the text: a run with what follows */
				size_t e = run_end(dq_stops, w, i + 1);
				add_bytes(p, s + i, e - i);
				i = e;
			}
			if (i < len)
				i++;
			continue;
		}
		if (c == '$') {
			if (i + 1 < len && (s[i + 1] == '\'' || s[i + 1] == '"')) {
				i++; /* $'...' and $"...": read as quotes */
				continue;
			}
			fl |= LINT_SH_EXPAND;
			i = dollar(p, i);
			continue;
		}
		if (c == '`') {
			fl |= LINT_SH_EXPAND;
			i = backquote(p, i);
			continue;
		}
		/* not reached (every other byte of stops[] ends a word): as a plain run */
		size_t e = run_end(stops, w, i + 1);
		add_bytes(p, s + i, e - i);
		i = e;
	}
	p->i = i;
	return fl;
}

/* What a word read at a command's position is to the parser. */
enum word_role { WORD_DROP, WORD_HEREDOC_DELIM, WORD_ARG };

/* Updates the parser state the word w (n: its strlen) implies and says whether it is kept. */
static enum word_role word_role(struct parser *p, const char *w, size_t n, unsigned fl)
{
	if (p->redirect_pending) {
		p->redirect_pending = 0;
		return WORD_DROP;
	}
	if (p->heredoc_pending) {
		enum word_role r = p->n_hd < MAX_HEREDOCS ? WORD_HEREDOC_DELIM : WORD_DROP;
		if (r == WORD_HEREDOC_DELIM)
			p->hd_strip[p->n_hd] = p->heredoc_pending == 2;
		p->heredoc_pending = 0;
		return r;
	}
	if (p->skip_header) {
		if (LINT_SH_NAME_IS(w, n, "do"))
			p->skip_header = 0;
		return WORD_DROP;
	}
	if (p->n_case) {
		int st = p->case_state[p->n_case - 1];
		if (st == CASE_HEADER) {
			if (LINT_SH_NAME_IS(w, n, "in"))
				p->case_state[p->n_case - 1] = CASE_PATTERN;
			return WORD_DROP;
		}
		if (st == CASE_PATTERN) {
			if (LINT_SH_NAME_IS(w, n, "esac"))
				p->n_case--;
			return WORD_DROP;
		}
	}
	if (p->test_skip) {
		if (LINT_SH_NAME_IS(w, n, "]]"))
			p->test_skip = 0;
		return WORD_DROP;
	}
	if (p->func_pending) {
		p->func_pending = 0;
		return WORD_DROP;
	}
	if (p->n_words == 0 && !(fl & LINT_SH_QUOTED)) {
		if (lint_sh_is_reserved_noop(w, n))
			return WORD_DROP;
		if (LINT_SH_NAME_IS(w, n, "for") || LINT_SH_NAME_IS(w, n, "select")) {
			p->skip_header = 1;
			return WORD_DROP;
		}
		if (LINT_SH_NAME_IS(w, n, "case")) {
			if (p->n_case < MAX_CASE)
				p->case_state[p->n_case++] = CASE_HEADER;
			return WORD_DROP;
		}
		if (LINT_SH_NAME_IS(w, n, "esac")) {
			if (p->n_case)
				p->n_case--;
			return WORD_DROP;
		}
		if (LINT_SH_NAME_IS(w, n, "[[")) {
			p->test_skip = 1;
			return WORD_DROP;
		}
		if (LINT_SH_NAME_IS(w, n, "function")) {
			p->func_pending = 1;
			return WORD_DROP;
		}
	}
	if (p->n_words == 0 && lint_sh_is_assignment(w))
		return WORD_DROP;
	return WORD_ARG;
}

/* The words' block at nw, of n slots (n > p->n_words + 1): the current command's move. */
static void words_at(struct parser *p, char **nw, size_t n)
{
	unsigned *nf = (unsigned *)(nw + n);
	for (size_t i = 0; i < p->n_words; i++) {
		nw[i] = p->words[i];
		nf[i] = p->wflags[i];
	}
	p->words = nw;
	p->wflags = nf;
	p->words_alloc = n - 1;
}

/* A new block of n slots (n > p->n_words + 1) for the words. */
static int words_block(struct parser *p, size_t n)
{
	char **nw = kiln_arena_array_uninit(p->arena, n, sizeof(*nw) + sizeof(unsigned));
	if (!nw)
		return -1;
	words_at(p, nw, n);
	return 0;
}

/* Room for one more word of the current command. */
static int words_room(struct parser *p)
{
	if (p->n_words < p->words_alloc)
		return 0;
	return words_block(p, p->n_words < 32 ? 64 : 2 * (p->n_words + 1));
}

/*
 * A word: w[0..wlen), NUL-terminated at w[wlen] by this call when it is the
 * word just read into wbuf (in_buf), else a constant copied when kept.
 */
static void handle_word(struct parser *p, char *w, size_t wlen, unsigned fl, int in_buf)
{
	if (in_buf) {
		if (p->wend >= p->wcap) { /* cannot happen: see parser.wbuf */
			p->nomem = 1;
			return;
		}
		w[wlen] = '\0'; /* the byte after the word's text */
	}
	/* the words of a text with a NUL byte are measured: strcmp()'s notion of equal */
	size_t n = in_buf && !p->clean ? strlen(w) : wlen;
	enum word_role role = word_role(p, w, n, fl);
	if (role == WORD_DROP)
		return;
	if (role == WORD_ARG && words_room(p) < 0) {
		p->nomem = 1;
		return;
	}
	char *own = w;
	if (!in_buf && !(own = kiln_arena_strndup_packed(p->arena, w, wlen))) {
		p->nomem = 1;
		return;
	}
	if (role == WORD_HEREDOC_DELIM) {
		p->hd_len[p->n_hd] = strnlen(own, wlen); /* a NUL byte ends a delimiter */
		p->hd_delim[p->n_hd++] = own;
		return;
	}
	note_opt_end(p, own);
	if (!p->n_words)
		p->w0_len = n;
	p->wflags[p->n_words] = fl;
	p->words[p->n_words++] = own;
}

static void end_command(struct parser *p, enum sep sep)
{
	int in_case_pattern = p->n_case && p->case_state[p->n_case - 1] == CASE_PATTERN;
	if (sep == SEP_PIPE && !in_case_pattern)
		p->out->has_pipe = 1;
	p->redirect_pending = 0;
	p->heredoc_pending = 0;
	if (p->n_words == 0) {
		if (sep == SEP_PIPE)
			p->next_in_pipe = 1;
		else
			p->next_in_pipe = 0;
		return;
	}
	int in_pipe = p->next_in_pipe || sep == SEP_PIPE;
	p->next_in_pipe = sep == SEP_PIPE;
	size_t argc = p->n_words;
	p->n_words = 0;
	/* the words are in place (see parser.words): the NULL, and the next command after it */
	char **argv = p->words;
	unsigned *wf = p->wflags;
	argv[argc] = NULL;
	wf[argc] = 0;
	p->words += argc + 1;
	p->wflags += argc + 1;
	p->words_alloc = p->words_alloc > argc ? p->words_alloc - argc - 1 : 0;
	size_t opt_end = p->opt_end ? p->opt_end : argc;
	p->opt_end = 0;
	add_command(p, argv, wf, argc, opt_end, in_pipe, p->wrapped, p->depth, p->w0_len);
}

/* Skip here-document bodies that start after the newline at p->i. */
static void skip_heredocs(struct parser *p)
{
	for (int h = 0; h < p->n_hd; h++) {
		const char *d = p->hd_delim[h];
		size_t dl = p->hd_len[h];
		while (p->i < p->len) {
			size_t e = p->i;
			while (e < p->len && p->s[e] != '\n')
				e++;
			size_t b = p->i;
			if (p->hd_strip[h])
				while (b < e && p->s[b] == '\t')
					b++;
			p->i = e < p->len ? e + 1 : e;
			if (e - b == dl && memcmp(p->s + b, d, dl) == 0)
				break;
		}
	}
	p->n_hd = 0;
}

static void redirection(struct parser *p)
{
	const char *s = p->s;
	size_t len = p->len, i = p->i;
	if (s[i] == '<' && i + 2 < len && s[i + 1] == '<' && s[i + 2] == '<') {
		p->i = i + 3;
		p->redirect_pending = 1;
		return;
	}
	if (s[i] == '<' && i + 1 < len && s[i + 1] == '<') {
		i += 2;
		p->heredoc_pending = 1;
		if (i < len && s[i] == '-') {
			i++;
			p->heredoc_pending = 2;
		}
		p->i = i;
		return;
	}
	i++;
	if (i < len && (s[i] == '>' || s[i] == '|' || s[i] == '&'))
		i++;
	if (i < len && s[i - 1] == '&' && (isdigit((unsigned char)s[i]) || s[i] == '-')) {
		while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '-'))
			i++;
		p->i = i;
		return;
	}
	p->i = i;
	p->redirect_pending = 1;
}

/*
 * What a byte other than a word's first does at p->i (blanks, separators,
 * comments, redirections, parentheses): 1 when it was taken, 0 when a word
 * starts there after all (a backslash, digits that are no redirection).
 */
static int take_operator(struct parser *p, char c)
{
	const char *s = p->s;
	size_t len = p->len;
	if (c == ' ' || c == '\t' || c == '\r') {
		p->i++;
		return 1;
	}
	if (c == '\\' && p->i + 1 < len && s[p->i + 1] == '\n') {
		p->i += 2;
		return 1;
	}
	if (c == '\n') {
		end_command(p, SEP_END);
		p->i++;
		if (p->n_hd)
			skip_heredocs(p);
		return 1;
	}
	if (c == '#') {
		while (p->i < len && s[p->i] != '\n')
			p->i++;
		return 1;
	}
	char n = p->i + 1 < len ? s[p->i + 1] : 0;
	if ((c == '&' && n == '&') || (c == '|' && n == '|')) {
		end_command(p, SEP_LIST);
		p->i += 2;
		return 1;
	}
	if (c == '|') {
		int in_pat = p->n_case && p->case_state[p->n_case - 1] == CASE_PATTERN;
		if (!in_pat)
			end_command(p, SEP_PIPE);
		p->i += n == '&' ? 2 : 1;
		return 1;
	}
	if (c == ';') {
		end_command(p, SEP_END);
		if (n == ';' || n == '&') {
			p->i += 2;
			if (p->n_case)
				p->case_state[p->n_case - 1] = CASE_PATTERN;
			return 1;
		}
		p->i++;
		return 1;
	}
	if (c == '&' && n == '>') {
		p->i++;
		redirection(p);
		return 1;
	}
	if (c == '&') {
		end_command(p, SEP_END);
		p->i++;
		return 1;
	}
	if ((c == '<' || c == '>') && n == '(') {
		size_t e = lint_sh_match_paren(s, len, p->i + 2);
		sub_parse(p, s + p->i + 2, e - (p->i + 2));
		p->i = e < len ? e + 1 : len;
		static char dev_fd[] = "/dev/fd/63"; /* copied when kept, never written */
		handle_word(p, dev_fd, sizeof(dev_fd) - 1, LINT_SH_EXPAND, 0);
		return 1;
	}
	if (c == '<' || c == '>') {
		redirection(p);
		return 1;
	}
	if (c == '(') {
		p->i++;
		if (p->n_words == 1) {
			/* name () { ...; }: a function definition header */
			size_t j = p->i;
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j < len && s[j] == ')') {
				p->n_words = 0; /* one word: no opt_end yet */
				p->i = j + 1;
				return 1;
			}
		}
		end_command(p, SEP_END);
		return 1;
	}
	if (c == ')') {
		p->i++;
		if (p->n_case && p->case_state[p->n_case - 1] == CASE_PATTERN) {
			p->case_state[p->n_case - 1] = CASE_BODY;
			return 1;
		}
		end_command(p, SEP_END);
		return 1;
	}
	if (isdigit((unsigned char)c)) {
		size_t j = p->i;
		while (j < len && isdigit((unsigned char)s[j]))
			j++;
		if (j < len && (s[j] == '<' || s[j] == '>')) {
			p->i = j;
			if (j + 1 < len && s[j + 1] == '(')
				return 1;
			redirection(p);
			return 1;
		}
	}
	return 0;
}

static void run_parser(struct parser *p)
{
	/* the bytes take_operator() looks at: a word that begins with another byte (most
	 * do) is read at once */
	static const unsigned char special[256] = {
		[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['\\'] = 1, ['#'] = 1, ['&'] = 1,
		['|'] = 1, [';'] = 1,  ['<'] = 1,  ['>'] = 1,  ['('] = 1,   [')'] = 1, ['0'] = 1,
		['1'] = 1, ['2'] = 1,  ['3'] = 1,  ['4'] = 1,  ['5'] = 1,   ['6'] = 1, ['7'] = 1,
		['8'] = 1, ['9'] = 1,
	};
	/* the position in a register between the steps that move p->i; only those steps can
	 * set p->nomem */
	const char *s = p->s;
	size_t len = p->len, i = p->i;
	while (i < len) {
		char c = s[i];
		if (c == ' ') { /* the most common byte between words */
			i++;
			continue;
		}
		p->i = i;
		if (special[(unsigned char)c] && take_operator(p, c)) {
			i = p->i;
			if (p->nomem)
				break;
			continue;
		}
		size_t start = p->wend = i; /* see parser.wbuf */
		unsigned fl = read_word(p);
		i = p->i;
		if (p->nomem)
			break;
		/* with no state of word_role() pending, a word after a command's first is an
		 * argument (most words), and a first word no keyword (see lint_sh_kw_lens) the
		 * command's name or an assignment: kept with its NUL, as handle_word() would
		 * (its NUL has room: the word ends at or before p->i <= p->len < p->wcap) */
		if (p->n_words < p->words_alloc && !p->pending) {
			char *w = p->wbuf + start;
			size_t n = p->wend - start;
			w[n] = '\0';
			if (p->n_words) {
				note_opt_end(p, w);
				p->wflags[p->n_words] = fl;
				p->words[p->n_words++] = w;
				/* the blank after it, the usual, at once */
				i += i < len && s[i] == ' ';
				continue;
			}
			if (p->clean && ((fl & LINT_SH_QUOTED) || n >= 16 ||
					 !(lint_sh_kw_lens[(unsigned char)w[0]] >> n & 1))) {
				if (!lint_sh_is_assignment(w)) {
					p->w0_len = n;
					p->wflags[0] = fl;
					p->words[p->n_words++] = w;
				}
				i += i < len && s[i] == ' ';
				continue;
			}
		}
		handle_word(p, p->wbuf + start, p->wend - start, fl, 1);
		if (p->nomem)
			break;
	}
	p->i = i;
	end_command(p, SEP_END);
}

static int parse_text(struct lint_sh_script *out, const char *s, size_t len, int depth, int wrapped,
		      int clean)
{
	/* the parser's stacks, left as they are: written before being read */
	const char *hd_delim[MAX_HEREDOCS];
	size_t hd_len[MAX_HEREDOCS];
	int hd_strip[MAX_HEREDOCS], case_state[MAX_CASE];
	/* member by member: an initializer zeroed the whole struct (a rep stos) before */
	struct parser p;
	p.s = s;
	p.len = len;
	p.i = 0;
	p.out = out;
	p.depth = depth;
	p.wrapped = wrapped;
	p.arena = script_arena(out);
	p.wbuf = NULL;
	p.wcap = 0;
	p.wend = 0;
	p.words = NULL;
	p.wflags = NULL;
	p.n_words = 0;
	p.words_alloc = 0;
	p.next_in_pipe = 0;
	p.opt_end = 0;
	p.hd_delim = hd_delim;
	p.hd_len = hd_len;
	p.hd_strip = hd_strip;
	p.n_hd = 0;
	p.case_state = case_state;
	p.pending = 0; /* n_case and the rest */
	p.nomem = 0;
	p.clean = clean;
	p.w0_len = 0;
	if (!p.arena)
		return -KILN_ENOMEM;
	p.wcap = len + 1;
	if (len > SIZE_MAX - LINT_SH_PAD ||
	    !(p.wbuf = kiln_arena_array_uninit(p.arena, len + LINT_SH_PAD, 1)))
		return -KILN_ENOMEM;
	if (len)
		memcpy(p.wbuf, s, len);
	memset(p.wbuf + len, SENTINEL, LINT_SH_PAD);
	/* the first block of words: room for most scripts' (a word and its blank take some
	 * 8 bytes of text, and a NULL ends each command) */
	size_t nw = len / 4 + 8;
	if (out->alloc) {
		if (words_block(&p, nw) < 0)
			return -KILN_ENOMEM;
	} else {
		/* a new script: its first array of commands (as add_command() would make it)
		 * and the words in one arena call */
		size_t words = nw * (sizeof(char *) + sizeof(unsigned));
		size_t nc = CMDS_FIRST + (words + sizeof(*out->cmds) - 1) / sizeof(*out->cmds);
		struct lint_sh_cmd *c = kiln_arena_array_uninit(p.arena, nc, sizeof(*c));
		if (!c)
			return -KILN_ENOMEM;
		out->cmds = c;
		out->alloc = CMDS_FIRST;
		words_at(&p, (char **)(c + CMDS_FIRST), nw);
	}
	run_parser(&p);
	return p.nomem ? -KILN_ENOMEM : 0;
}

/* ---- what a finished command implies ---- */

/*
 * The names look_inside() knows (the shells, su, runuser and the wrappers of
 * lint-sh-wrap.c), by first byte: bit k set when one of k bytes begins with it. A command
 * whose name no bit matches, as most, has nothing inside.
 */
static const unsigned short inside_lens[256] = {
	['a'] = 1 << 3, ['b'] = 1 << 4 | 1 << 7, ['c'] = 1 << 6 | 1 << 7, ['d'] = 1 << 4,
	['e'] = 1 << 3 | 1 << 4 | 1 << 9, ['f'] = 1 << 5, ['g'] = 1 << 4, ['i'] = 1 << 6,
	['k'] = 1 << 3, ['m'] = 1 << 4, ['n'] = 1 << 4 | 1 << 5, ['r'] = 1 << 7,
	['s'] = 1 << 2 | 1 << 4 | 1 << 6 | 1 << 7, ['t'] = 1 << 4 | 1 << 7, ['x'] = 1 << 5,
	['z'] = 1 << 3,
};

/* Out of line: most commands are no shell or wrapper (see look_inside()). */
static __attribute__((noinline)) void look_inside_slow(struct parser *p, const char *name,
							size_t nlen, char **argv, size_t argc,
							int in_pipe, int depth)
{
	int shell = lint_sh_is_shell_name(name, nlen);
	int runuser = LINT_SH_NAME_IS(name, nlen, "runuser");
	if (shell || runuser || LINT_SH_NAME_IS(name, nlen, "su")) {
		int pipefail = 0;
		for (size_t i = 1; i < argc; i++) {
			const char *a = argv[i];
			if ((str_eq(a, "-o") || str_eq(a, "+o")) && i + 1 < argc) {
				if (str_eq(argv[i + 1], "pipefail") && a[0] == '-')
					pipefail = 1;
				i++;
				continue;
			}
			int is_c = str_eq(a, "--command") ||
				   (a[0] == '-' && a[1] != '-' && strchr(a + 1, 'c') && shell) ||
				   str_eq(a, "-c");
			if (is_c && i + 1 < argc) {
				if (pipefail && !p->out->has_pipe)
					p->out->sets_pipefail = 1;
				/* a C string: no NUL in it */
				int clean = p->clean;
				p->clean = 1;
				sub_parse(p, argv[i + 1], strlen(argv[i + 1]));
				p->clean = clean;
				return;
			}
		}
		if (!runuser)
			return;
	}
	size_t k = lint_sh_wrapped_at(name, nlen, argv, argc);
	if (k >= argc)
		return;
	size_t n = argc - k;
	/* the words are the arena's and never change: share them */
	char **av = kiln_arena_array(p->arena, n + 1, sizeof(*av));
	unsigned *wf = kiln_arena_array(p->arena, n + 1, sizeof(*wf));
	if (!av || !wf) {
		p->nomem = 1;
		return;
	}
	memcpy(av, argv + k, n * sizeof(*av));
	add_command(p, av, wf, n, find_opt_end(av, n), in_pipe, 1, depth + 1, SIZE_MAX);
}

static inline void look_inside(struct parser *p, const char *name, size_t nlen, char **argv,
			       size_t argc, int in_pipe, int depth)
{
	if (depth + 1 >= LINT_SH_MAX_DEPTH || nlen >= 16 ||
	    !(inside_lens[(unsigned char)name[0]] >> nlen & 1))
		return;
	look_inside_slow(p, name, nlen, argv, argc, in_pipe, depth);
}

/* arg0_len: strlen(argv[0]) when known, else SIZE_MAX. Inline: end_command()'s, the most. */
static inline __attribute__((always_inline)) void
add_command(struct parser *p, char **argv, unsigned *wf, size_t argc, size_t opt_end, int in_pipe,
	    int wrapped, int depth, size_t arg0_len)
{
	struct lint_sh_script *out = p->out;
	if (out->n >= LINT_SH_MAX_COMMANDS)
		return;
	if (out->n == out->alloc) {
		/* in the arena too: a grown array leaves the old one there, at most
		 * as big as the commands themselves */
		size_t na = out->alloc ? out->alloc * 2 : CMDS_FIRST;
		struct lint_sh_cmd *nc = kiln_arena_array_uninit(p->arena, na, sizeof(*nc));
		if (!nc) {
			p->nomem = 1;
			return;
		}
		if (out->n)
			memcpy(nc, out->cmds, out->n * sizeof(*nc));
		out->cmds = nc;
		out->alloc = na;
	}
	struct lint_sh_cmd *c = &out->cmds[out->n++];
	*c = (struct lint_sh_cmd){ .argv = argv, .wflags = wf, .argc = argc, .in_pipe = in_pipe,
				   .wrapped = wrapped, .depth = depth, .opt_end = opt_end };
	/* the basename and its length for lint_sh_is(): argv[0]'s length is mostly known */
	if (arg0_len == SIZE_MAX)
		arg0_len = strlen(argv[0]);
	/* the last '/': a few bytes back, no memrchr() call */
	const char *b = argv[0] + arg0_len;
	while (b > argv[0] && b[-1] != '/')
		b--;
	c->name = b;
	c->name_len = arg0_len - (size_t)(b - argv[0]);
	if (LINT_SH_NAME_IS(c->name, c->name_len, "set") && !out->has_pipe) {
		for (size_t i = 1; i + 1 < argc; i++)
			if (argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i], 'o') &&
			    str_eq(argv[i + 1], "pipefail"))
				out->sets_pipefail = 1;
	}
	/* look_inside may grow out->cmds: use copies, not c */
	look_inside(p, c->name, c->name_len, argv, argc, in_pipe, depth);
}

int lint_sh_parse_clean(const char *text, size_t len, struct lint_sh_script *ret,
			struct kiln_error *err)
{
	if (parse_text(ret, text, len, 0, 0, 1) < 0) {
		lint_sh_script_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

int lint_sh_parse(const char *text, size_t len, struct lint_sh_script *ret, struct kiln_error *err)
{
	if (parse_text(ret, text, len, 0, 0, !memchr(text, 0, len)) < 0) {
		lint_sh_script_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

int lint_sh_parse_argv(const char *const *argv, size_t argc, struct lint_sh_script *ret,
		       struct kiln_error *err)
{
	if (argc == 0)
		return 0;
	struct parser p = { .out = ret, .arena = script_arena(ret) };
	char **av = p.arena ? kiln_arena_array(p.arena, argc + 1, sizeof(*av)) : NULL;
	unsigned *wf = p.arena ? kiln_arena_array(p.arena, argc + 1, sizeof(*wf)) : NULL;
	size_t arg0_len = 0;
	for (size_t i = 0; av && wf && i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (!i)
			arg0_len = n;
		if (!(av[i] = kiln_arena_strndup_packed(p.arena, argv[i], n)))
			av = NULL;
	}
	if (!av || !wf) {
		lint_sh_script_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	add_command(&p, av, wf, argc, find_opt_end(av, argc), 0, 0, 0, arg0_len);
	if (p.nomem) {
		lint_sh_script_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

void lint_sh_script_release(struct lint_sh_script *s)
{
	if (!s)
		return;
	if (s->own_arena) /* the commands are the arena's, as are their words */
		kiln_arena_free(s->arena);
	*s = (struct lint_sh_script){ 0 };
}
