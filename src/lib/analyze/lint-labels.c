/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "shell/shell.h"

/* The label schema rules DL3049-DL3058 (active only when configured). */

static char *unquote(const char *w)
{
	struct kiln_shell_lex lex = { .escape = '\\', .flags = KILN_SHELL_SKIP_UNSET_ENV };
	char *out = NULL;
	if (kiln_shell_process_word(&lex, w, NULL, &out, NULL) < 0)
		return kiln_strdup(w);
	return out;
}

static int url_ok(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return 0;
	const char *p = s;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || !p[1])
		return 0;
	for (p++; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return 0;
			p += 2;
			continue;
		}
		if (!(isalnum(c) || strchr("-._~:/?#[]@!$&'()*+,;=", c)))
			return 0;
	}
	return 1;
}

static int digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 1;
}

static int rfc3339_ok(const char *s)
{
	int y, mo, d, h, mi, se, oh, om;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || !strchr("Tt ", s[10]) || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return 0;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && !p[1])
		return 1;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) && p[3] == ':' &&
	    digits(p + 4, 2, &om))
		return oh <= 23 && om <= 59;
	return 0;
}

static int hash_ok(const char *s)
{
	size_t n = strlen(s);
	if (n != 40 && n != 7)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return 0;
	return 1;
}

static const char *semver_num(const char *p)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	return p;
}

static const char *semver_ids(const char *p, int numeric_rule)
{
	for (;;) {
		const char *s = p;
		int all_digits = 1;
		while (isalnum((unsigned char)*p) || *p == '-') {
			all_digits &= isdigit((unsigned char)*p) != 0;
			p++;
		}
		if (p == s)
			return NULL;
		if (numeric_rule && all_digits && *s == '0' && p - s > 1)
			return NULL;
		if (*p != '.')
			return p;
		p++;
	}
}

static int semver_ok(const char *s)
{
	const char *p = semver_num(s);
	if (!p || *p != '.' || !(p = semver_num(p + 1)) || *p != '.' || !(p = semver_num(p + 1)))
		return 0;
	if (*p == '-' && !(p = semver_ids(p + 1, 1)))
		return 0;
	if (*p == '+' && !(p = semver_ids(p + 1, 0)))
		return 0;
	return *p == 0;
}

static int email_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	if (!at || at == s || !at[1])
		return 0;
	const char *p = s;
	if (*p == '"') {
		p++;
		while (p < at && *p != '"') {
			if (*p == '\\')
				p++;
			p++;
		}
		if (p + 1 != at)
			return 0;
	} else {
		if (*s == '.' || at[-1] == '.')
			return 0;
		for (; p < at; p++) {
			if (*p == '.' && p[1] == '.')
				return 0;
			if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-/=?^_`{|}~.", *p)))
				return 0;
		}
	}
	const char *d = at + 1;
	if (*d == '[')
		return lint_str_has_suffix(d, "]");
	if (*d == '.' || lint_str_has_suffix(d, ".") || strstr(d, ".."))
		return 0;
	for (p = d; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.'))
			return 0;
	return 1;
}

static void check_value(struct lint_file *f, size_t i, const struct kiln_lint_label *l,
			const char *v)
{
	int line = f->instrs[i].line;
	if (!*v) {
		lint_emit(f, "DL3051", (int)i, line, "label %s is empty", l->name);
		return;
	}
	if (strchr(v, '$'))
		return;
	switch (l->type) {
	case KILN_LINT_LABEL_URL:
		if (!url_ok(v))
			lint_emit(f, "DL3052", (int)i, line, "label %s is not a valid URL: %s", l->name, v);
		break;
	case KILN_LINT_LABEL_RFC3339:
		if (!rfc3339_ok(v))
			lint_emit(f, "DL3053", (int)i, line,
				  "label %s is not an RFC 3339 time (like 2024-05-01T12:00:00Z): %s",
				  l->name, v);
		break;
	case KILN_LINT_LABEL_SPDX:
		if (!lint_spdx_valid(v))
			lint_emit(f, "DL3054", (int)i, line,
				  "label %s is not an SPDX license expression: %s", l->name, v);
		break;
	case KILN_LINT_LABEL_HASH:
		if (!hash_ok(v))
			lint_emit(f, "DL3055", (int)i, line,
				  "label %s is not a git hash (40 or 7 lower-case hex digits): %s", l->name, v);
		break;
	case KILN_LINT_LABEL_SEMVER:
		if (!semver_ok(v))
			lint_emit(f, "DL3056", (int)i, line,
				  "label %s is not a semantic version (like 1.4.2): %s", l->name, v);
		break;
	case KILN_LINT_LABEL_EMAIL:
		if (!email_ok(v))
			lint_emit(f, "DL3058", (int)i, line, "label %s is not an e-mail address: %s",
				  l->name, v);
		break;
	case KILN_LINT_LABEL_TEXT:
		break;
	}
}

static const struct kiln_lint_label *schema_find(const struct kiln_lint_config *c, const char *k)
{
	for (size_t i = 0; i < c->n_labels; i++)
		if (strcmp(c->labels[i].name, k) == 0)
			return &c->labels[i];
	return NULL;
}

/* Is stage s the source of some COPY --from (an intermediate build stage)? */
static int copied_from(const struct lint_file *f, size_t s)
{
	for (size_t i = 0; i < f->n_instrs; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if (in->cmd != KILN_DF_COPY || in->stage <= (int)s)
			continue;
		const char *from = in->from;
		if (!from)
			continue;
		if (f->stages[s].name && lint_ci_equal(from, f->stages[s].name))
			return 1;
		char *end = NULL;
		long n = strtol(from, &end, 10);
		if (*from && !*end && n == (long)s)
			return 1;
	}
	return 0;
}

void lint_rules_dl_labels(struct lint_file *f)
{
	const struct kiln_lint_config *cfg = f->cfg;
	if (!cfg || (!cfg->n_labels && !cfg->strict_labels))
		return;
	/* has[s * n_labels + k]: stage s (or its base) sets schema label k */
	size_t nl = cfg->n_labels;
	unsigned char *has = kiln_calloc((f->n_stages + 1) * (nl + 1), 1);
	if (!has) {
		f->nomem = 1;
		return;
	}
	for (size_t i = 0; i < f->n_instrs && !f->nomem; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if (in->cmd == KILN_DF_FROM && !in->onbuild) {
			int b = f->stages[in->stage].base_stage;
			if (b >= 0)
				memcpy(has + (size_t)in->stage * nl, has + (size_t)b * nl, nl);
			continue;
		}
		if (in->cmd != KILN_DF_LABEL)
			continue;
		for (size_t k = 0; 3 * k + 1 < in->node->n_args; k++) {
			const struct kiln_df_node *nd = in->node;
			cleanup_free char *key = unquote(lint_ntext(nd, &nd->args[3 * k]));
			cleanup_free char *val = unquote(lint_ntext(nd, &nd->args[3 * k + 1]));
			if (!key || !val) {
				f->nomem = 1;
				break;
			}
			const struct kiln_lint_label *l = schema_find(cfg, key);
			if (!l) {
				if (cfg->strict_labels)
					lint_emit(f, "DL3050", (int)i, in->line,
						  "label %s is not in the label schema (strict labels)", key);
				continue;
			}
			if (in->stage >= 0 && !in->onbuild)
				has[(size_t)in->stage * nl + (size_t)(l - cfg->labels)] = 1;
			check_value(f, i, l, val);
		}
	}
	/* a stage has the labels of the stage it is built FROM too */
	for (size_t s = 0; s < f->n_stages; s++) {
		long b = f->stages[s].base_stage;
		for (size_t k = 0; b >= 0 && (size_t)b < s && k < nl; k++)
			has[s * nl + k] |= has[(size_t)b * nl + k];
	}
	for (size_t s = 0; s < f->n_stages && !f->nomem; s++) {
		if (copied_from(f, s))
			continue;
		for (size_t k = 0; k < nl; k++) {
			if (has[s * nl + k])
				continue;
			/* as hadolint: a stage another builds on, and that one has it */
			int given = 0;
			for (size_t t = s + 1; !given && t < f->n_stages; t++)
				given = f->stages[t].base_stage == (long)s && has[t * nl + k];
			if (!given)
				lint_emit(f, "DL3049", (int)f->stages[s].from,
					  f->instrs[f->stages[s].from].line,
					  "label %s is missing from this stage", cfg->labels[k].name);
		}
	}
	free(has);
}
