/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Git source URLs: the fragment (`#ref:subdir`) and the query options, with
 * BuildKit's rules for combining them (dfgitutil's loadQuery): one value
 * per key, a ref said two ways must agree, a branch and a tag not together.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/gotext.h"
#include "build/git-url.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* Go's QueryUnescape: %XX decoded, '+' a space; NULL when malformed */
static char *unescape(const char *s, size_t n)
{
	char *out = kiln_malloc(n + 1);
	if (!out)
		return NULL;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || kiln_go_unhex(s[i + 1]) < 0 || kiln_go_unhex(s[i + 2]) < 0) {
				free(out);
				return NULL;
			}
			out[w++] = (char) (kiln_go_unhex(s[i + 1]) * 16 + kiln_go_unhex(s[i + 2]));
			i += 2;
		} else {
			out[w++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[w] = '\0';
	return out;
}

/* strconv.ParseBool: 1, 0, or -1 for anything else */
static int parse_bool(const char *v)
{
	int b;
	return kiln_go_parse_bool(v, &b) < 0 ? -1 : b;
}

/* `*slot` takes `v` unless it holds another value already */
static int set_ref(char **slot, const char *what, const char *v, struct kiln_error *err)
{
	if (*slot && strcmp(*slot, v) != 0)
		return kiln_fail(err, KILN_EPARSE, 0, "%s conflicts: \"%s\" vs \"%s\"", what, *slot,
				 v);
	if (!*slot && !(*slot = kiln_strdup(v)))
		return oom(err);
	return 0;
}

static int with_prefix(const char *prefix, const char *v, char **ret)
{
	*ret = !strncmp(v, prefix, strlen(prefix)) ? kiln_strdup(v)
						     : kiln_asprintf("%s%s", prefix, v);
	return *ret ? 0 : -1;
}

static int load_query(struct bb_git_url *u, const char *q, size_t qn, struct kiln_error *err)
{
	static const char *const keys[] = { "ref",    "tag",	      "branch",	    "subdir",
					    "commit", "checksum",     "keep-git-dir", "submodules" };
	char *seen[KILN_ARRAY_SIZE(keys)] = { 0 };
	int r = 0;
	for (size_t i = 0; r >= 0 && i < qn;) {
		size_t n = strcspn(q + i, "&");
		if (n > qn - i)
			n = qn - i;
		const char *pair = q + i;
		i += n + 1;
		if (!n)
			continue;
		const char *eq = memchr(pair, '=', n);
		size_t kn = eq ? (size_t) (eq - pair) : n;
		cleanup_free char *k = unescape(pair, kn);
		cleanup_free char *v = eq ? unescape(eq + 1, n - kn - 1) : kiln_strdup("");
		if (!k || !v) {
			r = k && eq ? kiln_fail(err, KILN_EPARSE, 0, "invalid query %.*s", (int) n,
						pair)
				    : oom(err);
			break;
		}
		size_t ki = 0;
		while (ki < KILN_ARRAY_SIZE(keys) && strcmp(keys[ki], k) != 0)
			ki++;
		if (ki == KILN_ARRAY_SIZE(keys)) {
			r = kiln_fail(err, KILN_EPARSE, 0, "unexpected query \"%s\"", k);
			break;
		}
		/* commit and checksum are one key */
		size_t slot = ki == 4 ? 5 : ki;
		if (seen[slot]) {
			r = kiln_fail(err, KILN_EPARSE, 0, "query \"%s\" has multiple values", k);
			break;
		}
		int boolean = slot >= 6;
		if (!*v && !boolean) {
			r = kiln_fail(err, KILN_EPARSE, 0, "query \"%s\" has no value", k);
			break;
		}
		seen[slot] = steal_ptr(&v);
	}
	if (r >= 0 && seen[0])
		r = set_ref(&u->ref, "ref", seen[0], err);
	if (r >= 0 && seen[3])
		r = set_ref(&u->subdir, "subdir", seen[3], err);
	if (r >= 0 && seen[5] && !(u->checksum = kiln_strdup(seen[5])))
		r = oom(err);
	for (size_t b = 6; r >= 0 && b < 8; b++) {
		if (!seen[b])
			continue;
		int v = *seen[b] ? parse_bool(seen[b]) : 1;
		if (v < 0)
			r = kiln_fail(err, KILN_EPARSE, 0, "invalid %s value: \"%s\"", keys[b],
				      seen[b]);
		else if (b == 6)
			u->keep_git_dir = v;
		else
			u->submodules = v;
	}
	if (r >= 0 && seen[1]) {
		cleanup_free char *tag = NULL;
		r = with_prefix("refs/tags/", seen[1], &tag) < 0 ? oom(err)
								 : set_ref(&u->ref, "ref", tag, err);
	}
	if (r >= 0 && seen[2]) {
		cleanup_free char *branch = NULL;
		if (seen[1])
			r = kiln_fail(err, KILN_EPARSE, 0, "branch conflicts with tag");
		else
			r = with_prefix("refs/heads/", seen[2], &branch) < 0
				    ? oom(err)
				    : set_ref(&u->ref, "ref", branch, err);
	}
	if (r >= 0 && u->checksum && !u->ref && !(u->ref = kiln_strdup(u->checksum)))
		r = oom(err);
	for (size_t s = 0; s < KILN_ARRAY_SIZE(seen); s++)
		free(seen[s]);
	return r;
}

int bb_git_url_parse(const char *url, struct bb_git_url *ret, struct kiln_error *err)
{
	struct bb_git_url u = { .keep_git_dir = -1, .submodules = -1 };
	const char *hash = strchr(url, '#');
	size_t end = hash ? (size_t) (hash - url) : strlen(url);
	/* a query only in URLs (scheme://), not in scp-like git@host:path */
	const char *q = strstr(url, "://") ? memchr(url, '?', end) : NULL;
	int r = 0;
	if (!(u.remote = kiln_strndup(url, q ? (size_t) (q - url) : end)))
		return oom(err);
	if (hash && hash[1]) {
		const char *colon = strchr(hash + 1, ':');
		u.ref = colon ? kiln_strndup(hash + 1, (size_t) (colon - hash - 1))
			      : kiln_strdup(hash + 1);
		u.subdir = colon ? kiln_strdup(colon + 1) : NULL;
		if (!u.ref || (colon && !u.subdir))
			r = oom(err);
		if (r >= 0 && !*u.ref) {
			free(u.ref);
			u.ref = NULL;
		}
		if (r >= 0 && u.subdir && !*u.subdir) {
			free(u.subdir);
			u.subdir = NULL;
		}
	}
	if (r >= 0 && q)
		r = load_query(&u, q + 1, end - (size_t) (q + 1 - url), err);
	if (r < 0) {
		bb_git_url_release(&u);
		return r;
	}
	*ret = u;
	return 0;
}

void bb_git_url_release(struct bb_git_url *u)
{
	free(u->remote);
	free(u->ref);
	free(u->subdir);
	free(u->checksum);
	*u = (struct bb_git_url){ .keep_git_dir = -1, .submodules = -1 };
}
