/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <unistd.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "dockerfile/checks.h"
#include "ignore/ignore.h"
#include "ref/ref.h"

/*
 * BuildKit's build checks, as the dockerfile module computes them (the
 * lint subrequest: every stage), reported under BuildKit's rule names with
 * its messages. The hooks give the checks a reference parser and, when the
 * context is read, the .dockerignore for CopyIgnoredFile.
 */

struct hooks_data {
	struct kiln_ignore_matcher *m;
};

/*
 * Most bases are Docker Hub names as written ("node:20-alpine",
 * "library/golang:1.22"): for those kiln_ref_parse's answer follows from
 * the path and tag grammars alone, without its normalised copy and
 * allocations, which cost a check of every FROM more than the rest of it.
 * Only a yes is taken from here; a domain, a digest, upper case, a long
 * name or anything this does not accept goes to kiln_ref_parse.
 */
/*
 * One pass over a path and maybe a tag: the path grammar (components of
 * [a-z0-9]+ joined by '.', '_', "__" or a run of '-', between '/'s) and
 * the tag's ([a-z0-9_][a-z0-9_.-]*) as a state per byte. Its length if
 * all of `s` is one, else 0; upper case (a tag may hold it) and anything
 * else not in these is kiln_ref_parse's to judge. `hub`: a first
 * component that names a registry (a '.', "localhost") is not a path.
 */
static size_t path_tag_scan(const char *s, int hub)
{
	enum { C_OTHER, C_ALNUM, C_DOT, C_UNDER, C_DASH, C_SLASH, C_COLON };
	static const unsigned char cls[256] = {
		['a' ... 'z'] = C_ALNUM, ['0' ... '9'] = C_ALNUM, ['.'] = C_DOT,
		['_'] = C_UNDER,	 ['-'] = C_DASH,	  ['/'] = C_SLASH,
		[':'] = C_COLON,
	};
	/* where the scan is: after an alphanumeric, a separator, or at a component's start */
	enum { S_START, S_ALNUM, S_DOT, S_UNDER1, S_UNDER2, S_DASH } st = S_START;
	size_t i = 0, first_slash = 0;
	int first_dot = 0; /* a '.' in the first component: a domain if a '/' follows */
	for (;; i++) {
		unsigned char k = cls[(unsigned char) s[i]];
		if (k == C_ALNUM) {
			/* the rest of the run at once: most of a name is letters and digits */
			while (cls[(unsigned char) s[i + 1]] == C_ALNUM)
				i++;
			st = S_ALNUM;
		} else if (k == C_DOT && st == S_ALNUM) {
			st = S_DOT;
			first_dot |= !first_slash;
		} else if (k == C_UNDER && (st == S_ALNUM || st == S_UNDER1)) {
			st = st == S_ALNUM ? S_UNDER1 : S_UNDER2;
		} else if (k == C_DASH && (st == S_ALNUM || st == S_DASH)) {
			st = S_DASH;
		} else if (k == C_SLASH && st == S_ALNUM) {
			if (hub && !first_slash &&
			    (first_dot || (i == 9 && !memcmp(s, "localhost", 9))))
				return 0;
			if (!first_slash)
				first_slash = i;
			st = S_START;
		} else {
			break;
		}
	}
	if (s[i] == '\0')
		return st == S_ALNUM ? i : 0;
	if (s[i] != ':' || st != S_ALNUM)
		return 0;
	/* the tag: a word character, then word characters, '.' and '-' */
	unsigned char k0 = cls[(unsigned char) s[++i]];
	if (k0 != C_ALNUM && k0 != C_UNDER)
		return 0;
	const unsigned tag_classes = 1u << C_ALNUM | 1u << C_UNDER | 1u << C_DOT | 1u << C_DASH;
	while (tag_classes >> cls[(unsigned char) s[i]] & 1)
		i++;
	return s[i] == '\0' ? i : 0;
}

int lint_hub_name_valid(const char *ref)
{
	size_t n = path_tag_scan(ref, 1);
	return n && n <= 128 && (n != 64 || !kiln_ref_is_identifier(ref));
}

/*
 * The same for a name on another registry ("ghcr.io/o/r:1", "localhost:5000/x"):
 * a first component that names a registry and is a valid domain[:port], then a
 * path and tag as above. Brackets (IPv6), upper case, a digest, a long name
 * or anything else go to kiln_ref_parse.
 */
int lint_registry_name_valid(const char *ref)
{
	size_t first_slash = 0;
	for (;; first_slash++) {
		char c = ref[first_slash];
		if (!c || c == '@' || c == '[' || (c >= 'A' && c <= 'Z'))
			return 0;
		if (c == '/')
			break;
	}
	if (!first_slash || !(memchr(ref, '.', first_slash) || memchr(ref, ':', first_slash) ||
			      (first_slash == 9 && !memcmp(ref, "localhost", 9))))
		return 0; /* a Docker Hub name: lint_hub_name_valid's */
	if (!kiln_ref_domain_valid(ref, first_slash))
		return 0;
	size_t n = path_tag_scan(ref + first_slash + 1, 0);
	return n && first_slash + 1 + n <= 128;
}

static int ref_check(void *userdata, const char *ref, struct kiln_error *err)
{
	(void)userdata;
	if (lint_hub_name_valid(ref) || lint_registry_name_valid(ref))
		return 0;
	struct kiln_ref *r = NULL;
	int rc = kiln_ref_parse(ref, 0, &r, err);
	kiln_ref_free(r);
	return rc < 0 ? rc : 0;
}

static int ignore_match(void *userdata, const char *path, struct kiln_error *err)
{
	struct hooks_data *h = userdata;
	return kiln_ignore_matches_or_parent(h->m, path, strlen(path), NULL, err);
}

/*
 * The instruction a warning's line belongs to, for pragmas; -1 if none.
 * Instructions are in file order and their line ranges do not overlap: a
 * binary search for the last one starting at or before the line.
 */
static int instr_at(const struct lint_file *f, int line)
{
	size_t lo = 0, hi = f->n_instrs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->instrs[mid].line <= line)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || line > f->instrs[lo - 1].end_line)
		return -1;
	return (int)(lo - 1);
}

int lint_rules_buildkit(struct lint_file *f, struct kiln_error *err)
{
	struct hooks_data hd = { 0 };
	struct kiln_df_hooks hooks = { .userdata = &hd, .reference_check = ref_check };
	if (f->opts->context_dir) {
		int r = lint_context_load(f, err);
		if (r >= 0)
			r = lint_context_matcher(f, &hd.m, err);
		if (r < 0)
			return r;
		if (hd.m) {
			hooks.ignore_matches = ignore_match;
			hooks.ignore_has_exceptions = kiln_ignore_matcher_has_exceptions(hd.m);
		}
	}
	struct kiln_df_check_opts o = { .mode = KILN_DF_CHECK_LINT,
					.hooks = &hooks,
					.build_args = f->opts->build_args,
					.n_build_args = f->opts->n_build_args,
					.defaults = f->df_defaults };
	/* on the stack: one allocation less per file */
	struct kiln_df_check_result rs;
	const struct kiln_df_check_result *res = &rs;
	int r = kiln_df_check_ast_into(f->ast, &o, &rs, err);
	if (r >= 0) {
		for (size_t i = 0; i < res->n_warnings; i++) {
			const struct kiln_df_check_warning *w = &res->warnings[i];
			int line = w->line > 0 ? w->line : 1;
			lint_emit(f, w->rule->name, instr_at(f, line), line, "%s", w->message);
		}
		if (res->error && !res->error_from_checks && res->error_code != KILN_ENOMEM)
			lint_emit(f, "KL0001", instr_at(f, res->error_line), res->error_line > 0 ? res->error_line : 1,
				  "%s", res->error);
		kiln_df_check_result_release(&rs);
	}
	return r < 0 ? r : 0;
}
