/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path rules of COPY/ADD in Go's spelling: path.Clean, filepath.Match,
 * fsutil's wildcard split and prefix match, and prepareTargetDir.
 */
#include "plan/path.h"

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/gopath.h"

char *kiln_plan_path_clean(const char *p)
{
	size_t n = strlen(p);
	char *out = kiln_malloc(n + 2);
	if (out)
		(void) kiln_go_clean(p, n, out);
	return out;
}

char *kiln_plan_path_join(const char *a, const char *b)
{
	if (!*a)
		return kiln_plan_path_clean(b);
	if (!*b)
		return kiln_plan_path_clean(a);
	cleanup_free char *j = kiln_asprintf("%s/%s", a, b);
	return j ? kiln_plan_path_clean(j) : NULL;
}

char *kiln_plan_path_base(const char *p)
{
	if (!*p)
		return kiln_strdup(".");
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0)
		return kiln_strdup("/");
	size_t s = n;
	while (s > 0 && p[s - 1] != '/')
		s--;
	return kiln_strndup(p + s, n - s);
}

/* utf8.DecodeRuneInString: invalid or short sequences are U+FFFD, width 1 */
int kiln_plan_match(const char *pattern, const char *name)
{
	return kiln_go_match(pattern, strlen(pattern), name, strlen(name));
}

int kiln_plan_has_wildcards(const char *p)
{
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\') {
			if (!p[i + 1])
				break;
			i++;
		} else if (p[i] == '*' || p[i] == '?' || p[i] == '[') {
			return 1;
		}
	}
	return 0;
}

/* filepath.Join of n parts (empty parts skipped), cleaned */
static char *join_parts(char **parts, size_t n)
{
	size_t total = 1;
	for (size_t i = 0; i < n; i++)
		total += strlen(parts[i]) + 1;
	char *buf = kiln_malloc(total);
	if (!buf)
		return NULL;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (!*parts[i])
			continue;
		if (w)
			buf[w++] = '/';
		size_t l = strlen(parts[i]);
		memcpy(buf + w, parts[i], l);
		w += l;
	}
	buf[w] = '\0';
	if (w == 0)
		return buf; /* Join of nothing is "" */
	char *c = kiln_plan_path_clean(buf);
	free(buf);
	return c;
}

int kiln_plan_split_wildcards(const char *p, char **ret_dir, char **ret_pattern,
			      struct kiln_error *err)
{
	cleanup_free char *clean = *p ? kiln_plan_path_clean(p) : kiln_strdup("");
	if (!clean)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t n = 1;
	for (const char *c = clean; *c; c++)
		n += *c == '/';
	cleanup_free char **parts = kiln_calloc(n + 1, sizeof(char *));
	cleanup_free char **p1 = kiln_calloc(n + 1, sizeof(char *));
	cleanup_free char **p2 = kiln_calloc(n + 1, sizeof(char *));
	if (!parts || !p1 || !p2)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t np = 0, n1 = 0, n2 = 0;
	for (char *s = clean;;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		parts[np++] = s;
		if (!slash)
			break;
		s = slash + 1;
	}
	static char root[] = "/";
	int found = 0;
	for (size_t i = 0; i < np; i++) {
		char *part = parts[i];
		if (!found && kiln_plan_has_wildcards(part))
			found = 1;
		if (!*part)
			part = root;
		if (!found)
			p1[n1++] = part;
		else
			p2[n2++] = part;
	}
	/* a leading "/" part joins as the root */
	char *d1 = NULL;
	if (n1 && p1[0] == root) {
		cleanup_free char *rest = join_parts(p1 + 1, n1 - 1);
		d1 = rest ? kiln_asprintf("/%s", rest) : NULL;
		if (d1) {
			char *c = kiln_plan_path_clean(d1);
			free(d1);
			d1 = c;
		}
	} else {
		d1 = join_parts(p1, n1);
	}
	char *d2 = join_parts(p2, n2);
	if (!d1 || !d2) {
		free(d1);
		free(d2);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	*ret_dir = d1;
	*ret_pattern = d2;
	return 0;
}

void kiln_plan_target_release(struct kiln_plan_target *t)
{
	free(t->path);
	free(t->mkdir);
	t->path = t->mkdir = NULL;
}

static char *path_dir(const char *p)
{
	const char *slash = strrchr(p, '/');
	if (!slash)
		return kiln_strdup(".");
	if (slash == p)
		return kiln_strdup("/");
	cleanup_free char *d = kiln_strndup(p, (size_t) (slash - p));
	return d ? kiln_plan_path_clean(d) : NULL;
}

int kiln_plan_copy_target(const char *dest, int dest_exists, int dest_is_dir, const char *src_base,
			  int src_is_dir, int dir_contents, struct kiln_plan_target *ret,
			  struct kiln_error *err)
{
	*ret = (struct kiln_plan_target){ 0 };
	int inside = (!dir_contents && src_is_dir && dest_exists) ||
		     (!src_is_dir && dest_exists && dest_is_dir);
	ret->path = inside ? kiln_plan_path_join(dest, src_base) : kiln_plan_path_clean(dest);
	if (!ret->path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (dir_contents && src_is_dir && !dest_exists)
		ret->mkdir = kiln_strdup(ret->path);
	else
		ret->mkdir = path_dir(ret->path);
	if (!ret->mkdir) {
		kiln_plan_target_release(ret);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	return 0;
}

char *kiln_plan_dest_dir(const char *dest)
{
	const char *slash = strrchr(dest, '/');
	const char *last = slash ? slash + 1 : dest;
	if (!*last || strcmp(last, ".") == 0)
		return kiln_plan_path_clean(dest);
	if (!slash)
		return kiln_strdup(".");
	if (slash == dest)
		return kiln_strdup("/");
	cleanup_free char *d = kiln_strndup(dest, (size_t) (slash - dest));
	return d ? kiln_plan_path_clean(d) : NULL;
}

int kiln_plan_parents_split(const char *src, char **ret_root, char **ret_pattern,
			    struct kiln_error *err)
{
	const char *pivot = strstr(src, "/./");
	cleanup_free char *root = NULL, *pat = NULL;
	if (pivot) {
		cleanup_free char *parent = kiln_strndup(src, (size_t) (pivot - src));
		root = parent ? kiln_plan_path_join("/", parent) : NULL;
		pat = kiln_plan_path_join("/", pivot + 3);
	} else {
		root = kiln_strdup("/");
		pat = kiln_plan_path_join("/", src);
	}
	if (!root || !pat)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	char *p = kiln_strdup(pat + 1);
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	*ret_root = steal_ptr(&root);
	*ret_pattern = p;
	return 0;
}
