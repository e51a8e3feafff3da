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
int lint_hub_name_valid(const char *ref)
{
	/* what a byte is to the scan below: most are none of these, one lookup each */
	enum { HUB_REJECT = 1, HUB_SLASH, HUB_COLON };
	static const unsigned char hub_byte[256] = {
		['@'] = HUB_REJECT, ['A'] = HUB_REJECT, ['B'] = HUB_REJECT, ['C'] = HUB_REJECT,
		['D'] = HUB_REJECT, ['E'] = HUB_REJECT, ['F'] = HUB_REJECT, ['G'] = HUB_REJECT,
		['H'] = HUB_REJECT, ['I'] = HUB_REJECT, ['J'] = HUB_REJECT, ['K'] = HUB_REJECT,
		['L'] = HUB_REJECT, ['M'] = HUB_REJECT, ['N'] = HUB_REJECT, ['O'] = HUB_REJECT,
		['P'] = HUB_REJECT, ['Q'] = HUB_REJECT, ['R'] = HUB_REJECT, ['S'] = HUB_REJECT,
		['T'] = HUB_REJECT, ['U'] = HUB_REJECT, ['V'] = HUB_REJECT, ['W'] = HUB_REJECT,
		['X'] = HUB_REJECT, ['Y'] = HUB_REJECT, ['Z'] = HUB_REJECT, ['/'] = HUB_SLASH,
		[':'] = HUB_COLON,
	};
	size_t len = strnlen(ref, 129), first_slash = 0;
	if (len == 0 || len > 128 || kiln_ref_is_identifier(ref))
		return 0;
	const char *colon = NULL; /* the last ':' after the last '/' */
	for (size_t i = 0; i < len; i++) {
		unsigned char k = hub_byte[(unsigned char)ref[i]];
		if (!k)
			continue;
		if (k == HUB_REJECT)
			return 0;
		if (k == HUB_SLASH) {
			if (!first_slash)
				first_slash = i;
			colon = NULL;
		} else {
			colon = ref + i;
		}
	}
	/* a first component that names a registry is kiln_ref_parse's to judge */
	if (first_slash && (memchr(ref, '.', first_slash) || memchr(ref, ':', first_slash) ||
			    (first_slash == 9 && !memcmp(ref, "localhost", 9))))
		return 0;
	size_t name_len = colon ? (size_t)(colon - ref) : len;
	return kiln_ref_path_valid(ref, name_len) && (!colon || kiln_ref_tag_valid(colon + 1));
}

/*
 * The same for a name on another registry ("ghcr.io/o/r:1", "localhost:5000/x"):
 * a first component that names a registry and is a valid domain[:port], then a
 * path and tag as above. Brackets (IPv6), upper case, a digest, a long name
 * or anything else go to kiln_ref_parse.
 */
int lint_registry_name_valid(const char *ref)
{
	size_t len = strnlen(ref, 129), first_slash = 0;
	if (len == 0 || len > 128)
		return 0;
	const char *colon = NULL; /* the last ':' after the last '/' */
	for (size_t i = 0; i < len; i++) {
		char c = ref[i];
		if (c == '@' || c == '[' || (c >= 'A' && c <= 'Z'))
			return 0;
		if (c == '/') {
			if (!first_slash)
				first_slash = i;
			colon = NULL;
		} else if (c == ':') {
			colon = ref + i;
		}
	}
	if (!first_slash || !(memchr(ref, '.', first_slash) || memchr(ref, ':', first_slash) ||
			      (first_slash == 9 && !memcmp(ref, "localhost", 9))))
		return 0; /* a Docker Hub name: lint_hub_name_valid's */
	if (!kiln_ref_domain_valid(ref, first_slash))
		return 0;
	const char *path = ref + first_slash + 1;
	size_t path_len = (colon ? (size_t)(colon - ref) : len) - (first_slash + 1);
	return kiln_ref_path_valid(path, path_len) && (!colon || kiln_ref_tag_valid(colon + 1));
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
	struct kiln_df_check_result *res = NULL;
	int r = kiln_df_check_ast(f->ast, &o, &res, err);
	if (r >= 0) {
		for (size_t i = 0; i < res->n_warnings; i++) {
			const struct kiln_df_check_warning *w = &res->warnings[i];
			int line = w->line > 0 ? w->line : 1;
			lint_emit(f, w->rule->name, instr_at(f, line), line, "%s", w->message);
		}
		if (res->error && !res->error_from_checks && res->error_code != KILN_ENOMEM)
			lint_emit(f, "KL0001", instr_at(f, res->error_line), res->error_line > 0 ? res->error_line : 1,
				  "%s", res->error);
	}
	kiln_df_check_result_free(res);
	return r < 0 ? r : 0;
}
