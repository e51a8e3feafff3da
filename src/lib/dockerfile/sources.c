/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths and sources as BuildKit's dispatch sees them: Go's path.Clean and
 * Join, a COPY destination made absolute against the working directory
 * (NormalizePath, keeping a trailing slash), which sources are git
 * repositories or URLs, and go-digest's checksum format.
 */
#include <string.h>

#include "base/gopath.h"
#include "graph-internal.h"

/* Go's path.Clean, into the graph's arena */
char *df_path_clean(struct df_graph *gr, const char *p)
{
	size_t n = strlen(p);
	char *out = kiln_arena_alloc(gr->a, n + 2);
	if (!out)
		return NULL;
	(void) kiln_go_clean(p, n, out);
	return out;
}

char *df_path_join(struct df_graph *gr, const char *a, const char *b)
{
	/* "a/b", on the stack when short (no printf), then cleaned into the arena */
	size_t la = strlen(a), lb = strlen(b), n;
	if (kiln_add_size(la, lb, &n) < 0 || kiln_add_size(n, 1, &n) < 0)
		return NULL;
	char small[256];
	cleanup_free char *heap = NULL;
	char *j = n < sizeof(small) ? small : (heap = kiln_malloc(n + 1));
	if (!j)
		return NULL;
	memcpy(j, a, la);
	j[la] = '/';
	memcpy(j + la + 1, b, lb + 1);
	char *out = kiln_arena_alloc(gr->a, n + 2);
	if (!out)
		return NULL;
	(void) kiln_go_clean(j, n, out);
	return out;
}

/* pathRelativeToWorkingDir (NormalizePath with keepSlash) */
char *df_copy_dest(struct df_graph *gr, const char *workdir, const char *p)
{
	const char *orig = (!*p || !strcmp(p, ".")) ? "./" : p;
	char *r = orig[0] == '/' ? df_path_clean(gr, orig) : df_path_join(gr, workdir, orig);
	if (!r)
		return NULL;
	size_t ol = strlen(orig), rl = strlen(r);
	const char *suffix = NULL;
	if (orig[ol - 1] == '/' && r[rl - 1] != '/')
		suffix = "/";
	else if (ol >= 2 && !strcmp(orig + ol - 2, "/."))
		suffix = strcmp(r, "/") ? "/." : ".";
	if (!suffix)
		return r;
	cleanup_free char *j = kiln_asprintf("%s%s", r, suffix);
	return j ? df_astrdup(gr->a, j) : NULL;
}

int df_is_git_source(const char *s)
{
	/* every form starts "git", "ssh" or "http": most sources are paths */
	/* byte by byte: a test stops at the first byte that differs (or the NUL),
	 * and most "s..." and "g..." paths differ at the second */
	if (s[0] == 'g')
		return s[1] == 'i' && s[2] == 't' &&
		       ((s[3] == ':' && s[4] == '/' && s[5] == '/') ||
			(s[3] == '@' && strchr(s + 4, ':')));
	if (s[0] == 's')
		return s[1] == 's' && s[2] == 'h' && s[3] == ':' && s[4] == '/' && s[5] == '/';
	if (s[0] != 'h' || s[1] != 't' || s[2] != 't' || s[3] != 'p')
		return 0;
	const char *r = s + 4 + (s[4] == 's');
	if (r[0] != ':' || r[1] != '/' || r[2] != '/')
		return 0;
	size_t n = strcspn(s, "#?");
	return n >= 4 && !strncmp(s + n - 4, ".git", 4);
}

int df_is_http_source(const char *s)
{
	return s[0] == 'h' && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) &&
	       !df_is_git_source(s);
}

/* go-digest's Parse for the algorithms it knows */
int df_digest_check(const char *s, struct kiln_error *err)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest format");
	size_t al = (size_t) (colon - s), want = 0;
	if (al == 6 && !strncmp(s, "sha256", 6))
		want = 64;
	else if (al == 6 && !strncmp(s, "sha384", 6))
		want = 96;
	else if (al == 6 && !strncmp(s, "sha512", 6))
		want = 128;
	const char *hex = colon + 1;
	if (!want) {
		/* DigestRegexp: [a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+ */
		int ok = 1;
		for (const char *p = s; p < colon && ok; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			     ((*p == '+' || *p == '.' || *p == '_' || *p == '-') && p > s &&
			      p + 1 < colon && p[1] != '+' && p[1] != '.' && p[1] != '_' &&
			      p[1] != '-');
		for (const char *p = hex; *p && ok; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '=' || *p == '_' || *p == '-';
		return kiln_fail(err, KILN_EPARSE, 0,
				 ok ? "unsupported digest algorithm"
				    : "invalid checksum digest format");
	}
	if (strlen(hex) != want)
		return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest length");
	for (const char *p = hex; *p; p++)
		if (!((*p >= 'a' && *p <= 'f') || (*p >= '0' && *p <= '9')))
			return kiln_fail(err, KILN_EPARSE, 0, "invalid checksum digest format");
	return 0;
}

/*
 * Whether Go's path.Clean returns absolute `p` as it is: no empty, "." or
 * ".." element and no trailing slash (but "/" itself).
 */
int df_path_is_clean(const char *p)
{
	if (!p[1])
		return 1;
	for (const char *e = p + 1;;) { /* e: an element's start, after a '/' */
		size_t n = 0;
		while (e[n] && e[n] != '/')
			n++;
		if (!n || (e[0] == '.' && (n == 1 || (n == 2 && e[1] == '.'))))
			return 0;
		if (!e[n])
			return 1;
		e += n + 1;
	}
}
