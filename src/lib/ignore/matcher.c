/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patternmatcher.PatternMatcher: building one from a list of patterns and
 * its four ways of answering "is this path excluded?".
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/gopath.h"
#include "base/gotext.h"
#include "ignore/pattern.h"

void kiln_ignore_matcher_free(struct kiln_ignore_matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->pats[i].text);
		free(m->pats[i].bad);
		kiln_ignore_re_free(m->pats[i].re);
	}
	free(m->pats);
	free(m->source);
	free(m->scratch);
	free(m);
}

KILN_DEFINE_CLEANUP(struct kiln_ignore_matcher, kiln_ignore_matcher_free)

static int pattern_error(const char *source, unsigned line, const char *pattern, const char *why,
			 struct kiln_error *err)
{
	if (source && line)
		return kiln_fail_at(err, KILN_EPARSE, source, (int)line, 0, "bad pattern '%s': %s",
				    pattern, why);
	return kiln_fail(err, KILN_EPARSE, 0, "bad pattern '%s': %s", pattern, why);
}

static int matcher_new(const char *const *patterns, const size_t *lens, size_t n,
		       const unsigned *lines, const char *source, struct kiln_ignore_matcher **ret,
		       struct kiln_error *err)
{
	if (n > KILN_IGNORE_PATTERNS_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d ignore patterns",
				 KILN_IGNORE_PATTERNS_MAX);
	cleanup(kiln_ignore_matcher_freep) struct kiln_ignore_matcher *m = kiln_calloc(1, sizeof(*m));
	if (!m)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	m->pats = kiln_calloc(n ? n : 1, sizeof(*m->pats));
	if (!m->pats)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (source && !(m->source = kiln_strdup(source)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = patterns[i];
		size_t len = lens ? lens[i] : strlen(s);
		unsigned line = lines ? lines[i] : 0;
		if (len > KILN_IGNORE_LINE_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0, "ignore pattern longer than %zu bytes",
					 (size_t)KILN_IGNORE_LINE_MAX);
		kiln_go_trim_space(&s, &len);
		if (len == 0)
			continue;
		cleanup_free char *clean = kiln_malloc(len + 2);
		if (!clean)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		size_t clen = kiln_go_clean(s, len, clean);
		struct ign_pattern *p = &m->pats[m->n];
		const char *body = clean;
		if (clean[0] == '!') {
			if (clen == 1)
				return pattern_error(source, line, "!",
						     "an exception needs a pattern after '!'", err);
			p->exception = 1;
			m->exceptions = 1;
			body++;
			clen--;
		}
		/* New's syntax check: filepath.Match(pattern, ".") */
		if (kiln_go_match(body, clen, ".", 1) < 0)
			return pattern_error(source, line, body, "syntax error in pattern", err);
		p->text = kiln_malloc(clen + 1);
		if (p->text) {
			memcpy(p->text, body, clen);
			p->text[clen] = '\0';
		}
		if (!p->text)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		p->len = clen;
		p->line = line;
		p->ndirs = 1;
		for (size_t k = 0; k < clen; k++)
			p->ndirs += body[k] == '/';
		m->n++;
		int r = kiln_ignore_pattern_setup(p, err);
		if (r < 0)
			return r;
	}
	m->nwords = (m->n + 63) / 64;
	*ret = steal_ptr(&m);
	return 0;
}

int kiln_ignore_matcher_new(const char *const *patterns, size_t n,
			    struct kiln_ignore_matcher **ret, struct kiln_error *err)
{
	return matcher_new(patterns, NULL, n, NULL, NULL, ret, err);
}

int kiln_ignore_matcher_new_list(const struct kiln_ignore_list *l,
				 struct kiln_ignore_matcher **ret, struct kiln_error *err)
{
	return matcher_new((const char *const *)l->patterns.items, l->lens, l->patterns.len,
			   l->lines, l->source, ret, err);
}

size_t kiln_ignore_matcher_count(const struct kiln_ignore_matcher *m)
{
	return m->n;
}

int kiln_ignore_matcher_has_exceptions(const struct kiln_ignore_matcher *m)
{
	return m->exceptions;
}

void kiln_ignore_matcher_pattern(const struct kiln_ignore_matcher *m, size_t i,
				 struct kiln_ignore_pattern_info *ret)
{
	const struct ign_pattern *p = &m->pats[i];
	*ret = (struct kiln_ignore_pattern_info){
		.pattern = p->text,
		.exception = p->exception,
		.type = (enum kiln_ignore_match_type)p->type,
		.source = m->source,
		.line = p->line,
	};
}

/* Room for filepath.Clean of a path of length n. */
static int scratch(struct kiln_ignore_matcher *m, size_t n, struct kiln_error *err)
{
	if (m->scratch_len >= n + 2)
		return 0;
	char *s = kiln_realloc(m->scratch, n + 2);
	if (!s)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	m->scratch = s;
	m->scratch_len = n + 2;
	return 0;
}

/* filepath.Dir of path into m->scratch; returns its length. */
static int parent_of(struct kiln_ignore_matcher *m, const char *path, size_t len, size_t *ret_len,
		     struct kiln_error *err)
{
	int r = scratch(m, len, err);
	if (r < 0)
		return r;
	size_t i = len;
	while (i > 0 && path[i - 1] != '/')
		i--;
	*ret_len = kiln_go_clean(path, i, m->scratch);
	return 0;
}

/*
 * Does p match one of the parent directories of path (each prefix of
 * filepath.Dir(path) that ends before a '/', and Dir itself)? A pattern that
 * does not compile is not reported here, as upstream ignores that error too;
 * one too complex to match is (-KILN_ELIMIT).
 */
static int parent_matches(struct kiln_ignore_matcher *m, const struct ign_pattern *p,
			  const char *dir, size_t dlen, struct kiln_error *err)
{
	for (size_t j = 0; j <= dlen; j++) {
		if (j < dlen && dir[j] != '/')
			continue;
		struct kiln_error e = KILN_ERROR_INIT;
		int r = kiln_ignore_pattern_match(m, p, dir, j, &e);
		if (r == -KILN_ELIMIT) {
			kiln_error_move(err, &e);
			return r;
		}
		kiln_error_release(&e);
		if (r > 0)
			return 1;
	}
	return 0;
}

int kiln_ignore_matches_or_parent(struct kiln_ignore_matcher *m, const char *path, size_t len,
				  long *ret_pattern, struct kiln_error *err)
{
	size_t dlen = 0;
	int r = parent_of(m, path, len, &dlen, err);
	if (r < 0)
		return r;
	int has_parent = !(dlen == 1 && m->scratch[0] == '.');
	int matched = 0;
	long by = -1;
	for (size_t i = 0; i < m->n; i++) {
		const struct ign_pattern *p = &m->pats[i];
		if (p->exception != matched)
			continue;
		r = kiln_ignore_pattern_match(m, p, path, len, err);
		if (r < 0)
			return r;
		if (!r && has_parent && (r = parent_matches(m, p, m->scratch, dlen, err)) < 0)
			return r;
		if (r) {
			matched = !p->exception;
			by = (long)i;
		}
	}
	if (ret_pattern)
		*ret_pattern = by;
	return matched;
}

int kiln_ignore_matches_exact(struct kiln_ignore_matcher *m, const char *path, size_t len,
			      struct kiln_error *err)
{
	int matched = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct ign_pattern *p = &m->pats[i];
		if (p->exception != matched)
			continue;
		int r = kiln_ignore_pattern_match(m, p, path, len, err);
		if (r < 0)
			return r;
		if (r)
			matched = !p->exception;
	}
	return matched;
}

int kiln_ignore_matches_legacy(struct kiln_ignore_matcher *m, const char *path, size_t len,
			       struct kiln_error *err)
{
	size_t dlen = 0;
	int r = parent_of(m, path, len, &dlen, err);
	if (r < 0)
		return r;
	int has_parent = !(dlen == 1 && m->scratch[0] == '.');
	size_t ndirs = 1;
	for (size_t k = 0; k < dlen; k++)
		ndirs += m->scratch[k] == '/';
	int matched = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct ign_pattern *p = &m->pats[i];
		if (p->exception != matched)
			continue;
		r = kiln_ignore_pattern_match(m, p, path, len, err);
		if (r < 0)
			return r;
		if (!r && has_parent && p->ndirs <= ndirs) {
			/* only the prefix of Dir(path) with as many components as the pattern */
			size_t j = 0, seen = 0;
			for (; j < dlen; j++)
				if (m->scratch[j] == '/' && ++seen == p->ndirs)
					break;
			struct kiln_error e = KILN_ERROR_INIT;
			r = kiln_ignore_pattern_match(m, p, m->scratch, j, &e);
			if (r == -KILN_ELIMIT) {
				kiln_error_move(err, &e);
				return r;
			}
			kiln_error_release(&e);
			r = r > 0;
		}
		if (r)
			matched = !p->exception;
	}
	return matched;
}

int kiln_ignore_matches_patterns(const char *path, const char *const *patterns, size_t n,
				 struct kiln_error *err)
{
	cleanup(kiln_ignore_matcher_freep) struct kiln_ignore_matcher *m = NULL;
	int r = kiln_ignore_matcher_new(patterns, n, &m, err);
	if (r < 0)
		return r;
	size_t len = strlen(path);
	cleanup_free char *clean = kiln_malloc(len + 2);
	if (!clean)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t clen = kiln_go_clean(path, len, clean);
	if (clen == 1 && clean[0] == '.')
		return 0;
	return kiln_ignore_matches_legacy(m, clean, clen, err);
}

void kiln_ignore_match_info_release(struct kiln_ignore_match_info *info)
{
	free(info->bits);
	free(info->inside);
	*info = (struct kiln_ignore_match_info)KILN_IGNORE_MATCH_INFO_INIT;
}

static int info_prepare(const struct kiln_ignore_matcher *m, struct kiln_ignore_match_info *info,
			struct kiln_error *err)
{
	size_t nw = m->nwords ? m->nwords : 1;
	if (info->nwords < nw || !info->bits || !info->inside) {
		uint64_t *b = kiln_reallocarray(info->bits, nw, sizeof(*b));
		if (b)
			info->bits = b;
		uint64_t *in = b ? kiln_reallocarray(info->inside, nw, sizeof(*in)) : NULL;
		if (in)
			info->inside = in;
		if (!b || !in)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		info->nwords = nw;
	}
	memset(info->bits, 0, nw * sizeof(uint64_t));
	memset(info->inside, 0, nw * sizeof(uint64_t));
	info->valid = 1;
	return 0;
}

struct upstate {
	struct kiln_ignore_matcher *m;
	const char *path;
	size_t len;
	const struct kiln_ignore_match_info *parent; /* NULL: no parent information */
	struct kiln_ignore_match_info *ret_info;
	int matched;
	long by;
	size_t dlen;
	int dir_known, has_dir;
	struct kiln_error *err;
};

/* One pattern of MatchesUsingParentResults' loop. */
static int up_step(struct upstate *u, size_t i)
{
	const struct ign_pattern *p = &u->m->pats[i];
	int match = u->parent && (u->parent->bits[i / 64] >> (i % 64) & 1);
	int r;
	if (!match) {
		if (p->exception != u->matched)
			return 0;
		r = kiln_ignore_pattern_match(u->m, p, u->path, u->len, u->err);
		if (r < 0)
			return r;
		match = r;
		/* Without parent information, the parent directories are matched as well. */
		if (!match && !u->parent) {
			if (!u->dir_known) {
				if ((r = parent_of(u->m, u->path, u->len, &u->dlen, u->err)) < 0)
					return r;
				u->dir_known = 1;
				u->has_dir = !(u->dlen == 1 && u->m->scratch[0] == '.');
			}
			if (u->has_dir &&
			    (match = parent_matches(u->m, p, u->m->scratch, u->dlen, u->err)) < 0)
				return match;
		}
	}
	if (match) {
		if (u->ret_info)
			u->ret_info->bits[i / 64] |= (uint64_t)1 << (i % 64);
		u->matched = !p->exception;
		u->by = (long)i;
	}
	return 0;
}

/* Which patterns could match something inside path: the children's candidates. */
static int fill_inside(struct kiln_ignore_matcher *m, const char *path, size_t len,
		       struct kiln_ignore_match_info *info, struct kiln_error *err)
{
	int r = scratch(m, len + 1, err);
	if (r < 0)
		return r;
	memcpy(m->scratch, path, len);
	m->scratch[len] = '/';
	for (size_t i = 0; i < m->n; i++)
		if (kiln_ignore_pattern_could_match_inside(&m->pats[i], m->scratch, len + 1))
			info->inside[i / 64] |= (uint64_t)1 << (i % 64);
	return 0;
}

int kiln_ignore_matches_using_parent(struct kiln_ignore_matcher *m, const char *path, size_t len,
				     const struct kiln_ignore_match_info *parent,
				     struct kiln_ignore_match_info *ret_info, long *ret_pattern,
				     struct kiln_error *err)
{
	int have_parent = parent && parent->valid;
	if (have_parent && parent->nwords < m->nwords)
		return kiln_fail(err, KILN_EINVAL, 0, "match info of another matcher");
	int r;
	if (ret_info && (r = info_prepare(m, ret_info, err)) < 0)
		return r;
	struct upstate u = {
		.m = m,
		.path = path,
		.len = len,
		.parent = have_parent ? parent : NULL,
		.ret_info = ret_info,
		.by = -1,
		.err = err,
	};
	if (!have_parent) {
		for (size_t i = 0; i < m->n; i++)
			if ((r = up_step(&u, i)) < 0)
				return r;
	} else {
		/*
		 * Only the patterns that matched the parent or could match inside it:
		 * any other one would be evaluated to "no match" and change nothing.
		 */
		for (size_t w = 0; w < m->nwords; w++) {
			uint64_t word = parent->bits[w] | parent->inside[w];
			while (word) {
				size_t i = w * 64 + (size_t)__builtin_ctzll(word);
				word &= word - 1;
				if ((r = up_step(&u, i)) < 0)
					return r;
			}
		}
	}
	if (ret_info && (r = fill_inside(m, path, len, ret_info, err)) < 0)
		return r;
	if (ret_pattern)
		*ret_pattern = u.by;
	return u.matched;
}

int kiln_ignore_info_could_match_inside(const struct kiln_ignore_matcher *m,
					const struct kiln_ignore_match_info *info, unsigned which)
{
	if (!info->valid)
		return 1;
	for (size_t i = 0; i < m->n; i++) {
		unsigned kind = m->pats[i].exception ? KILN_IGNORE_EXCEPTION_PATTERNS
						     : KILN_IGNORE_NORMAL_PATTERNS;
		if ((which & kind) && (info->inside[i / 64] >> (i % 64) & 1))
			return 1;
	}
	return 0;
}

int kiln_ignore_could_match_inside(struct kiln_ignore_matcher *m, const char *dir, size_t len,
				   unsigned which)
{
	if (scratch(m, len + 1, NULL) < 0)
		return 1;
	memcpy(m->scratch, dir, len);
	m->scratch[len] = '/';
	for (size_t i = 0; i < m->n; i++) {
		const struct ign_pattern *p = &m->pats[i];
		unsigned kind = p->exception ? KILN_IGNORE_EXCEPTION_PATTERNS : KILN_IGNORE_NORMAL_PATTERNS;
		if ((which & kind) && kiln_ignore_pattern_could_match_inside(p, m->scratch, len + 1))
			return 1;
	}
	return 0;
}
