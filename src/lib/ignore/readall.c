/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a .dockerignore file (ignorefile.ReadAll) and finding which one a
 * build uses (BuildKit's frontend/dockerui).
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "base/gopath.h"
#include "base/gotext.h"
#include "ignore/ignore.h"

void kiln_ignore_list_release(struct kiln_ignore_list *l)
{
	kiln_strv_release(&l->patterns);
	free(l->lines);
	free(l->lens);
	free(l->source);
	*l = (struct kiln_ignore_list)KILN_IGNORE_LIST_INIT;
}

static int list_push(struct kiln_ignore_list *l, int invert, const char *s, size_t n,
		     unsigned line)
{
	char *p = kiln_malloc(n + 2);
	if (!p)
		return -KILN_ENOMEM;
	size_t w = 0;
	if (invert)
		p[w++] = '!';
	memcpy(p + w, s, n);
	p[w + n] = '\0';
	unsigned *lines = kiln_reallocarray(l->lines, l->patterns.len + 1, sizeof(*lines));
	if (!lines) {
		free(p);
		return -KILN_ENOMEM;
	}
	l->lines = lines;
	lines[l->patterns.len] = line;
	size_t *lens = kiln_reallocarray(l->lens, l->patterns.len + 1, sizeof(*lens));
	if (!lens) {
		free(p);
		return -KILN_ENOMEM;
	}
	l->lens = lens;
	lens[l->patterns.len] = w + n;
	return kiln_strv_push_owned(&l->patterns, p);
}

static int read_all(const char *data, size_t len, const char *source, struct kiln_ignore_list *l,
		    struct kiln_error *err)
{
	const char *name = source ? source : ".dockerignore";
	if (len > KILN_IGNORE_FILE_MAX)
		return kiln_fail(err, KILN_ELIMIT, 0, "%s: larger than %zu bytes", name,
				 (size_t)KILN_IGNORE_FILE_MAX);
	if (source && !(l->source = kiln_strdup(source)))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	cleanup_free char *clean = NULL;
	size_t pos = 0;
	unsigned line = 0;
	while (pos < len) {
		const char *s = data + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + (nl ? 1 : 0);
		/* bufio.ScanLines drops one trailing CR */
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n >= KILN_IGNORE_LINE_MAX)
			return kiln_fail_at(err, KILN_ELIMIT, name, (int)line + 1, 0,
					    "line longer than %zu bytes",
					    (size_t)KILN_IGNORE_LINE_MAX - 1);
		if (line == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			n -= 3;
		}
		line++;
		/* a comment only when '#' is the very first byte */
		if (n > 0 && s[0] == '#')
			continue;
		kiln_go_trim_space(&s, &n);
		if (n == 0)
			continue;
		int invert = s[0] == '!';
		if (invert) {
			s++;
			n--;
			kiln_go_trim_space(&s, &n);
		}
		if (n > 0) {
			free(clean);
			clean = kiln_malloc(n + 2);
			if (!clean)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			n = kiln_go_clean(s, n, clean);
			s = clean;
			if (n > 1 && s[0] == '/') {
				s++;
				n--;
			}
		}
		if (list_push(l, invert, s, n, line) < 0)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		if (l->patterns.len > KILN_IGNORE_PATTERNS_MAX)
			return kiln_fail_at(err, KILN_ELIMIT, name, (int)line, 0,
					    "more than %d patterns", KILN_IGNORE_PATTERNS_MAX);
	}
	return 0;
}

int kiln_ignore_read_all(const char *data, size_t len, const char *source,
			 struct kiln_ignore_list *ret, struct kiln_error *err)
{
	struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
	int r = read_all(data, len, source, &l, err);
	if (r < 0) {
		kiln_ignore_list_release(&l);
		return r;
	}
	*ret = l;
	return 0;
}

int kiln_ignore_load_file(const char *path, struct kiln_ignore_list *ret, struct kiln_error *err)
{
	*ret = (struct kiln_ignore_list)KILN_IGNORE_LIST_INIT;
	cleanup_free char *data = NULL;
	size_t len = 0;
	struct kiln_error e = KILN_ERROR_INIT;
	int r = kiln_read_file(path, KILN_IGNORE_FILE_MAX, &data, &len, &e);
	if (r == -KILN_ENOTFOUND) {
		kiln_error_release(&e);
		return 0;
	}
	if (r < 0) {
		kiln_error_move(err, &e);
		return kiln_error_prefix(err, r, "reading %s", path);
	}
	r = kiln_ignore_read_all(data, len, path, ret, err);
	return r < 0 ? r : 1;
}

int kiln_ignore_load_for_build(const char *context_dir, const char *dockerfile,
			       struct kiln_ignore_list *ret, char **ret_path,
			       struct kiln_error *err)
{
	int r;
	*ret = (struct kiln_ignore_list)KILN_IGNORE_LIST_INIT;
	*ret_path = NULL;
	if (dockerfile && *dockerfile) {
		cleanup_free char *own = kiln_asprintf("%s.dockerignore", dockerfile);
		if (!own)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		r = kiln_ignore_load_file(own, ret, err);
		if (r < 0)
			return r;
		if (r > 0) {
			*ret_path = steal_ptr(&own);
			return 0;
		}
	}
	size_t dl = strlen(context_dir);
	cleanup_free char *ctx = kiln_asprintf("%s%s.dockerignore", context_dir,
					       dl && context_dir[dl - 1] == '/' ? "" : "/");
	if (!ctx)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r = kiln_ignore_load_file(ctx, ret, err);
	if (r < 0)
		return r;
	if (r > 0)
		*ret_path = steal_ptr(&ctx);
	return 0;
}
