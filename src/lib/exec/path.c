/* SPDX-License-Identifier: Apache-2.0 */
/* Lexical path cleaning, usable in the sandbox child (no allocation). */
#include <string.h>

#include "exec/exec-private.h"

/*
 * Clean an absolute path in place, like Go's filepath.Clean: collapse
 * slashes, drop ".", resolve ".." lexically (never above "/"), no trailing
 * slash. Returns the new length; 0 when the path is not absolute.
 */
size_t kiln_exec_clean_inplace(char *p)
{
	if (p[0] != '/')
		return 0;
	size_t r = 1, w = 1; /* read and write positions; p[0] stays '/' */
	size_t len = strlen(p);
	while (r < len) {
		if (p[r] == '/') {
			r++;
			continue;
		}
		size_t e = r;
		while (e < len && p[e] != '/')
			e++;
		size_t n = e - r;
		if (n == 1 && p[r] == '.') {
			/* skip */
		} else if (n == 2 && p[r] == '.' && p[r + 1] == '.') {
			/* back up to the previous component */
			if (w > 1) {
				w--; /* the slash after the previous component */
				while (w > 1 && p[w - 1] != '/')
					w--;
			}
		} else {
			if (w > 1 && p[w - 1] != '/')
				p[w++] = '/';
			memmove(p + w, p + r, n);
			w += n;
		}
		r = e;
	}
	if (w > 1 && p[w - 1] == '/')
		w--;
	p[w] = '\0';
	return w;
}

char *kiln_exec_clean_path(const char *path)
{
	if (!path || path[0] != '/')
		return NULL;
	char *c = kiln_strdup(path);
	if (!c)
		return NULL;
	(void) kiln_exec_clean_inplace(c);
	return c;
}
