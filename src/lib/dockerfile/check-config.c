/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BuildKit's check configuration (linter.ParseLintOptions): the `# check=`
 * directive, BUILDKIT_DOCKERFILE_CHECK and `# check=` comments above an
 * instruction, parsed into the rules they skip, enable and make errors.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gotext.h"
#include "base/strv.h"
#include "checks-internal.h"
#include "goconv.h"
#include "internal.h"
#include "model-internal.h"

void df_check_config_release(struct df_check_config *c)
{
	kiln_strv_release(&c->skip);
	kiln_strv_release(&c->experimental);
}

static size_t trim_left(const char *s, size_t n)
{
	return kiln_go_space_prefix(s, n);
}

/* split v on ',' into trimmed names */
static int split_names(const char *v, size_t n, struct kiln_strv *out)
{
	for (size_t i = 0;;) {
		size_t j = i;
		while (j < n && v[j] != ',')
			j++;
		size_t a = i + trim_left(v + i, j - i);
		size_t b = j - kiln_go_space_suffix(v + a, j - a);
		if (kiln_strv_pushn(out, v + a, b - a) < 0)
			return -KILN_ENOMEM;
		if (j >= n)
			return 0;
		i = j + 1;
	}
}

static int quote_fail(struct kiln_error *err, const char *fmt, const char *s, size_t n)
{
	struct kiln_buf q = KILN_BUF_INIT;
	int r = kiln_go_quote(&q, s, n);
	r = r < 0 ? df_oom(err) : kiln_fail(err, KILN_EINVAL, 0, fmt, q.buf);
	kiln_buf_release(&q);
	return r;
}

/* linter.ParseLintOptions */
int df_check_config_parse(const char *s, struct df_check_config *c, struct kiln_error *err)
{
	memset(c, 0, sizeof(*c));
	size_t n = strlen(s);
	size_t a = trim_left(s, n);
	size_t len = n - a - kiln_go_space_suffix(s + a, n - a);
	s += a;
	if (len == 0)
		return 0;
	/* strings.SplitN(s, ";", 3) */
	for (int part = 0, done = 0; !done; part++) {
		size_t pe = 0;
		if (part < 2)
			while (pe < len && s[pe] != ';')
				pe++;
		else
			pe = len;
		done = pe >= len;
		const char *p = s;
		size_t pl = pe;
		s += pe + (done ? 0 : 1);
		len -= pe + (done ? 0 : 1);
		const char *eq = memchr(p, '=', pl);
		if (!eq)
			return quote_fail(err, "invalid check option %s", p, pl);
		size_t kl = (size_t) (eq - p);
		size_t ka = trim_left(p, kl);
		size_t kb = kl - kiln_go_space_suffix(p + ka, kl - ka);
		const char *k = p + ka;
		size_t klen = kb - ka;
		const char *v = eq + 1;
		size_t vl = pl - kl - 1;
		size_t va = trim_left(v, vl);
		size_t vlen = vl - va - kiln_go_space_suffix(v + va, vl - va);
		v += va;
		if (klen == 4 && !memcmp(k, "skip", 4)) {
			if (vlen == 3 && !memcmp(v, "all", 3))
				c->skip_all = 1;
			else if (split_names(v, vlen, &c->skip) < 0)
				return df_oom(err);
		} else if (klen == 12 && !memcmp(k, "experimental", 12)) {
			if (vlen == 3 && !memcmp(v, "all", 3))
				c->experimental_all = 1;
			else if (split_names(v, vlen, &c->experimental) < 0)
				return df_oom(err);
		} else if (klen == 5 && !memcmp(k, "error", 5)) {
			cleanup_free char *bv = kiln_strndup(v, vlen);
			if (!bv)
				return df_oom(err);
			if (kiln_go_parse_bool(bv, &c->error) < 0) {
				struct kiln_buf q1 = KILN_BUF_INIT, q2 = KILN_BUF_INIT;
				int r = kiln_go_quote(&q1, p, pl);
				if (r >= 0)
					r = kiln_go_quote(&q2, bv, strlen(bv));
				r = r < 0 ? df_oom(err)
					  : kiln_fail(
						    err, KILN_EINVAL, 0,
						    "failed to parse check option %s: "
						    "strconv.ParseBool: parsing %s: invalid syntax",
						    q1.buf, q2.buf);
				kiln_buf_release(&q1);
				kiln_buf_release(&q2);
				return r;
			}
		} else {
			return quote_fail(err, "invalid check option %s", k, klen);
		}
	}
	return 0;
}

/* the `# check=` comment above an instruction, parsed like the directive */
int df_check_config_scope(const struct kiln_df_node *node, struct df_check_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; node && i < node->n_comments; i++) {
		const struct kiln_df_text *t = &node->comments[i].text;
		size_t no, nl, vo, vl;
		/* "#" and the text up to a NUL byte in it, as "#%.*s" printed it */
		size_t tl = strnlen(t->str, t->len);
		if (!memchr(t->str, '=', tl))
			continue; /* no directive without '=': most comments are prose */
		/* most comments are short: the heap only for a long one */
		char small[256];
		cleanup_free char *big = tl + 2 > sizeof(small) ? kiln_malloc(tl + 2) : NULL;
		char *line = tl + 2 > sizeof(small) ? big : small;
		if (!line)
			return -KILN_ENOMEM;
		line[0] = '#';
		memcpy(line + 1, t->str, tl);
		line[tl + 1] = '\0';
		if (!df_directive_line(line, tl + 1, "#", &no, &nl, &vo, &vl))
			continue;
		if (nl != 5 || strncasecmp(line + no, "check", 5) != 0)
			continue;
		/* the value up to the first space, as ParseDirective gives it */
		size_t k = 0;
		while (k < vl && line[vo + k] != ' ')
			k++;
		cleanup_free char *v = kiln_strndup(line + vo, k);
		if (!v)
			return -KILN_ENOMEM;
		struct df_check_config one;
		struct kiln_error e = KILN_ERROR_INIT;
		int r = df_check_config_parse(v, &one, &e);
		int code = e.code;
		kiln_error_release(&e);
		if (r < 0) {
			df_check_config_release(&one); /* what was parsed before the bad option */
			if (code == KILN_ENOMEM)
				return -KILN_ENOMEM;
			continue; /* not a valid check comment: an ordinary comment */
		}
		c->skip_all |= one.skip_all;
		c->experimental_all |= one.experimental_all;
		for (size_t s = 0; s < one.skip.len; s++)
			if (kiln_strv_push(&c->skip, one.skip.items[s]) < 0)
				r = -KILN_ENOMEM;
		for (size_t s = 0; s < one.experimental.len; s++)
			if (kiln_strv_push(&c->experimental, one.experimental.items[s]) < 0)
				r = -KILN_ENOMEM;
		df_check_config_release(&one);
		if (r < 0)
			return r;
	}
	return 0;
}
