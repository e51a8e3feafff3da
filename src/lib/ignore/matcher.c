/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patternmatcher.PatternMatcher: building one from a list of patterns and
 * its four ways of answering "is this path excluded?".
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "ignore/golang.h"
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

static int matcher_new(const char *const *patterns, size_t n, const unsigned *lines,
		       const char *source, struct kiln_ignore_matcher **ret, struct kiln_error *err)
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
		size_t len = strlen(s);
		unsigned line = lines ? lines[i] : 0;
		if (len > KILN_IGNORE_LINE_MAX)
			return kiln_fail(err, KILN_ELIMIT, 0, "ignore pattern longer than %zu bytes",
					 (size_t)KILN_IGNORE_LINE_MAX);
		kiln_ignore_go_trim_space(&s, &len);
		if (len == 0)
			continue;
		cleanup_free char *clean = kiln_malloc(len + 2);
		if (!clean)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		size_t clen = kiln_ignore_go_clean(s, len, clean);
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
		if (kiln_ignore_go_match(body, clen, ".", 1) < 0)
			return pattern_error(source, line, body, "syntax error in pattern", err);
		p->text = kiln_strndup(body, clen);
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
	return matcher_new(patterns, n, NULL, NULL, ret, err);
}

int kiln_ignore_matcher_new_list(const struct kiln_ignore_list *l,
				 struct kiln_ignore_matcher **ret, struct kiln_error *err)
{
	return matcher_new((const char *const *)l->patterns.items, l->patterns.len, l->lines,
			   l->source, ret, err);
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
	*ret_len = kiln_ignore_go_clean(path, i, m->scratch);
	return 0;
}

/*
 * Does p match one of the parent directories of path (each prefix of
 * filepath.Dir(path) that ends before a '/', and Dir itself)? Errors of the
 * pattern are not reported here, as upstream ignores them too.
 */
static int parent_matches(struct kiln_ignore_matcher *m, const struct ign_pattern *p,
			  const char *dir, size_t dlen)
{
	for (size_t j = 0; j <= dlen; j++) {
		if (j < dlen && dir[j] != '/')
			continue;
		if (kiln_ignore_pattern_match(m, p, dir, j, NULL) > 0)
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
		if (!r && has_parent)
			r = parent_matches(m, p, m->scratch, dlen);
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
			r = kiln_ignore_pattern_match(m, p, m->scratch, j, NULL) > 0;
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
	size_t clen = kiln_ignore_go_clean(path, len, clean);
	if (clen == 1 && clean[0] == '.')
		return 0;
	return kiln_ignore_matches_legacy(m, clean, clen, err);
}

void kiln_ignore_match_info_release(struct kiln_ignore_match_info *info)
{
	free(info->bits);
	*info = (struct kiln_ignore_match_info)KILN_IGNORE_MATCH_INFO_INIT;
}

static int info_prepare(const struct kiln_ignore_matcher *m, struct kiln_ignore_match_info *info,
			struct kiln_error *err)
{
	if (info->nwords < m->nwords || !info->bits) {
		uint64_t *b = kiln_reallocarray(info->bits, m->nwords ? m->nwords : 1, sizeof(*b));
		if (!b)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		info->bits = b;
		info->nwords = m->nwords;
	}
	memset(info->bits, 0, (m->nwords ? m->nwords : 1) * sizeof(uint64_t));
	info->valid = 1;
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
	/* Without parent information, the parent directories are matched as well. */
	size_t dlen = 0;
	int dir_known = 0, has_dir = 0;
	int matched = 0;
	long by = -1;
	for (size_t i = 0; i < m->n; i++) {
		const struct ign_pattern *p = &m->pats[i];
		int match = have_parent && (parent->bits[i / 64] >> (i % 64) & 1);
		if (!match) {
			if (p->exception != matched)
				continue;
			r = kiln_ignore_pattern_match(m, p, path, len, err);
			if (r < 0)
				return r;
			match = r;
			if (!match && !have_parent) {
				if (!dir_known) {
					if ((r = parent_of(m, path, len, &dlen, err)) < 0)
						return r;
					dir_known = 1;
					has_dir = !(dlen == 1 && m->scratch[0] == '.');
				}
				if (has_dir)
					match = parent_matches(m, p, m->scratch, dlen);
			}
		}
		if (match && ret_info)
			ret_info->bits[i / 64] |= (uint64_t)1 << (i % 64);
		if (match) {
			matched = !p->exception;
			by = (long)i;
		}
	}
	if (ret_pattern)
		*ret_pattern = by;
	return matched;
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
