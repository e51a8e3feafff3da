/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance: moby/patternmatcher's and fsutil's own test data
 * (dockerignore/, read as its FORMAT.md says). One TAP case per row or
 * walk case, and a summary line per data set: match.tsv, multi.tsv, new.tsv,
 * compile.tsv, readall/ and walk/.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "ignore/ignore.h"
#include "tap.h"
#include "conf-dockerignore.h"

int conf_tap_ok(int ok, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tap_ok(ok, "%s", buf);
}

void conf_tap_diag(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag("%s", buf);
}

void conf_tap_diag_block(const char *label, const char *s)
{
	tap_diag_block(label, s);
}

static void set_report(const struct conf_set *s)
{
	printf("# conformance %s %d/%d\n", s->name, s->passed, s->total);
}

void conf_set_case(struct conf_set *s, int ok)
{
	s->total++;
	if (ok)
		s->passed++;
}

int conf_read_file(const char *path, char **ret, size_t *ret_len)
{
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_read_file(path, (size_t)1 << 24, ret, ret_len, &err) < 0) {
		tap_diag("%s: %s", path, err.msg ? err.msg : "read failed");
		kiln_error_release(&err);
		return -1;
	}
	return 0;
}

int conf_read_lines(const char *path, struct kiln_strv *lines)
{
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (conf_read_file(path, &data, &len) < 0)
		return -1;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - data) : len;
		if (kiln_strv_pushn(lines, data + i, e - i) < 0)
			return -1;
		i = e + 1;
	}
	return 0;
}

size_t conf_split_tabs(char *s, char **fields, size_t max)
{
	size_t n = 0;
	fields[n++] = s;
	for (char *p = s; *p && n < max; p++)
		if (*p == '\t') {
			*p = '\0';
			fields[n++] = p + 1;
		}
	return n;
}

static const char *verdict(int r)
{
	return r < 0 ? "error" : r ? "match" : "nomatch";
}

/*
 * New(patterns) then MatchesOrParentMatches(path); the same answer is also
 * required from MatchesUsingParentResults, with the ancestors matched first
 * and with no context, as upstream's tests do. "error" when New or a match
 * fails; a failing match is tried twice (it must fail again, not crash).
 */
static const char *matcher_verdict(const char *const *patterns, size_t n, const char *path,
				   char *why, size_t whylen)
{
	struct kiln_ignore_matcher *m = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_ignore_matcher_new(patterns, n, &m, &err) < 0) {
		snprintf(why, whylen, "New: %s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
		return "error";
	}
	size_t len = strlen(path);
	int a = kiln_ignore_matches_or_parent(m, path, len, NULL, &err);
	if (a < 0) {
		snprintf(why, whylen, "%s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
		int again = kiln_ignore_matches_or_parent(m, path, len, NULL, &err);
		kiln_error_release(&err);
		kiln_ignore_matcher_free(m);
		return again < 0 ? "error" : "error-then-not";
	}
	/* walker style: the prefixes of filepath.Dir(path) first, as upstream's test does */
	struct kiln_ignore_match_info info = KILN_IGNORE_MATCH_INFO_INIT, next = info;
	int b = 0;
	size_t cut = len;
	while (cut > 0 && path[cut - 1] != '/')
		cut--;
	cleanup_free char *dir = kiln_malloc(cut + 2);
	size_t dirlen = dir ? kiln_go_clean(path, cut, dir) : 0;
	if (dir && !(dirlen == 1 && dir[0] == '.')) {
		for (size_t j = 0; j <= dirlen && b >= 0; j++) {
			if (j < dirlen && dir[j] != '/')
				continue;
			b = kiln_ignore_matches_using_parent(m, dir, j, &info, &next, NULL, &err);
			struct kiln_ignore_match_info t = info;
			info = next;
			next = t;
		}
	}
	if (b >= 0)
		b = kiln_ignore_matches_using_parent(m, path, len, &info, NULL, NULL, &err);
	int c = kiln_ignore_matches_using_parent(m, path, len, NULL, NULL, NULL, &err);
	kiln_error_release(&err);
	kiln_ignore_match_info_release(&info);
	kiln_ignore_match_info_release(&next);
	kiln_ignore_matcher_free(m);
	if (b != a || c != a) {
		snprintf(why, whylen, "MatchesOrParentMatches %s, with parent results %s, no context %s",
			 verdict(a), verdict(b), verdict(c));
		return "inconsistent";
	}
	return verdict(a);
}

static const char *legacy_verdict(const char *const *patterns, size_t n, const char *path,
				  char *why, size_t whylen)
{
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_ignore_matches_patterns(path, patterns, n, &err);
	if (r < 0)
		snprintf(why, whylen, "%s", err.msg ? err.msg : "?");
	kiln_error_release(&err);
	return verdict(r);
}

static void run_match(const char *dir)
{
	struct conf_set set = { "dockerignore-match", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup_free char *path = kiln_asprintf("%s/match.tsv", dir);
	if (!path || conf_read_lines(path, &lines) < 0) {
		TAP_OK(0, "match.tsv readable");
		return;
	}
	for (size_t i = 1; i < lines.len; i++) {
		char *f[8];
		if (conf_split_tabs(lines.items[i], f, 8) != 6) {
			TAP_OK(0, "match.tsv:%zu: 6 columns", i + 1);
			conf_set_case(&set, 0);
			continue;
		}
		const char *pats[] = { f[0] };
		char why[512] = "";
		const char *got = strcmp(f[3], "Matches") == 0
					  ? legacy_verdict(pats, 1, f[1], why, sizeof(why))
					  : matcher_verdict(pats, 1, f[1], why, sizeof(why));
		int ok = strcmp(got, f[2]) == 0;
		conf_set_case(&set, ok);
		if (!TAP_OK(ok, "match.tsv:%zu %s %s(%s, %s) = %s", i + 1, f[5], f[3], f[0], f[1],
			    f[2]))
			tap_diag("got %s %s", got, why);
	}
	set_report(&set);
}

static void run_multi(const char *dir)
{
	struct conf_set set = { "dockerignore-multi", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup_free char *path = kiln_asprintf("%s/multi.tsv", dir);
	if (!path || conf_read_lines(path, &lines) < 0) {
		TAP_OK(0, "multi.tsv readable");
		return;
	}
	for (size_t i = 1; i < lines.len; i++) {
		char *f[64];
		size_t nf = conf_split_tabs(lines.items[i], f, 64);
		if (nf < 5) {
			TAP_OK(0, "multi.tsv:%zu: at least 5 columns", i + 1);
			conf_set_case(&set, 0);
			continue;
		}
		const char *const *pats = (const char *const *)f + 5;
		char why[512] = "";
		const char *got = strcmp(f[2], "Matches") == 0
					  ? legacy_verdict(pats, nf - 5, f[0], why, sizeof(why))
					  : matcher_verdict(pats, nf - 5, f[0], why, sizeof(why));
		int ok = strcmp(got, f[1]) == 0;
		conf_set_case(&set, ok);
		if (!TAP_OK(ok, "multi.tsv:%zu %s %s(%s, %zu patterns) = %s", i + 1, f[4], f[2], f[0],
			    nf - 5, f[1]))
			tap_diag("got %s %s", got, why);
	}
	set_report(&set);
}

static void run_new(const char *dir)
{
	struct conf_set set = { "dockerignore-new", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup_free char *path = kiln_asprintf("%s/new.tsv", dir);
	if (!path || conf_read_lines(path, &lines) < 0) {
		TAP_OK(0, "new.tsv readable");
		return;
	}
	for (size_t i = 1; i < lines.len; i++) {
		char *f[64];
		size_t nf = conf_split_tabs(lines.items[i], f, 64);
		const char *const *pats = (const char *const *)f + 2;
		size_t n = nf >= 2 ? nf - 2 : 0;
		struct kiln_ignore_matcher *m = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_ignore_matcher_new(pats, n, &m, &err);
		char got[64];
		const char *want = f[0];
		if (r < 0)
			snprintf(got, sizeof(got), "error");
		else if (strncmp(want, "count=", 6) == 0)
			snprintf(got, sizeof(got), "count=%zu", kiln_ignore_matcher_count(m));
		else if (strcmp(want, "exclusions=true") == 0)
			snprintf(got, sizeof(got), "exclusions=%s",
				 kiln_ignore_matcher_has_exceptions(m) ? "true" : "false");
		else
			snprintf(got, sizeof(got), "ok");
		int ok = nf >= 2 && strcmp(got, want) == 0;
		conf_set_case(&set, ok);
		if (!TAP_OK(ok, "new.tsv:%zu %s: %s", i + 1, nf >= 2 ? f[1] : "?", want))
			tap_diag("got %s %s", got, err.msg ? err.msg : "");
		kiln_error_release(&err);
		kiln_ignore_matcher_free(m);
	}
	set_report(&set);
}

static void run_compile(const char *dir)
{
	struct conf_set set = { "dockerignore-compile", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup_free char *path = kiln_asprintf("%s/compile.tsv", dir);
	if (!path || conf_read_lines(path, &lines) < 0) {
		TAP_OK(0, "compile.tsv readable");
		return;
	}
	for (size_t i = 1; i < lines.len; i++) {
		char *f[8];
		if (conf_split_tabs(lines.items[i], f, 8) != 4) {
			TAP_OK(0, "compile.tsv:%zu: 4 columns", i + 1);
			conf_set_case(&set, 0);
			continue;
		}
		enum kiln_ignore_match_type t1, t2;
		cleanup_free char *re1 = NULL;
		cleanup_free char *re2 = NULL;
		/* the Windows column: the pattern as filepath.Clean leaves it there */
		cleanup_free char *win = kiln_strdup(f[0]);
		int ok = win != NULL;
		for (char *p = win; p && *p; p++)
			if (*p == '/')
				*p = '\\';
		ok = ok && kiln_ignore_pattern_compile(f[0], '/', &t1, &re1, NULL) == 0 &&
		     kiln_ignore_pattern_compile(win, '\\', &t2, &re2, NULL) == 0;
		ok = ok && strcmp(kiln_ignore_match_type_name(t1), f[1]) == 0 && t2 == t1 &&
		     strcmp(re1 ? re1 : "-", f[2]) == 0 && strcmp(re2 ? re2 : "-", f[3]) == 0;
		conf_set_case(&set, ok);
		if (!TAP_OK(ok, "compile.tsv:%zu %s is %s %s", i + 1, f[0], f[1], f[2]))
			tap_diag("got %s %s / %s", ok ? "" : kiln_ignore_match_type_name(t1),
				 re1 ? re1 : "-", re2 ? re2 : "-");
	}
	set_report(&set);
}

static void run_readall(const char *dir)
{
	struct conf_set set = { "dockerignore-readall", 0, 0 };
	cleanup_free char *in = kiln_asprintf("%s/readall/basic.dockerignore", dir);
	cleanup_free char *exp = kiln_asprintf("%s/readall/basic.expected", dir);
	cleanup_free char *data = NULL;
	size_t len = 0;
	cleanup(kiln_strv_release) struct kiln_strv want = KILN_STRV_INIT;
	int ok = in && exp && conf_read_file(in, &data, &len) == 0 &&
		 conf_read_lines(exp, &want) == 0;
	struct kiln_ignore_list l = KILN_IGNORE_LIST_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	ok = ok && kiln_ignore_read_all(data, len, "basic.dockerignore", &l, &err) == 0;
	ok = ok && l.patterns.len == want.len;
	for (size_t i = 0; ok && i < want.len; i++)
		if (strcmp(l.patterns.items[i], want.items[i]) != 0) {
			tap_diag("pattern %zu: got '%s', want '%s'", i, l.patterns.items[i],
				 want.items[i]);
			ok = 0;
		}
	conf_set_case(&set, ok);
	if (!TAP_OK(ok, "readall/basic: %zu patterns", want.len))
		tap_diag("got %zu patterns %s", l.patterns.len, err.msg ? err.msg : "");
	kiln_error_release(&err);
	kiln_ignore_list_release(&l);
	set_report(&set);
}

int main(void)
{
	const char *base = getenv("KILN_CONFORMANCE_DIR");
	if (!base || !*base)
		base = getenv("KILN_CONFORMANCE_DIR_DEFAULT");
	cleanup_free char *dir = base ? kiln_asprintf("%s/dockerignore", base) : NULL;
	struct stat st;
	if (!dir || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		printf("# conformance dockerignore ABSENT\n");
		tap_skip("conformance data not found", "dockerignore data set");
		return tap_done();
	}
	run_match(dir);
	run_multi(dir);
	run_new(dir);
	run_compile(dir);
	run_readall(dir);
	conf_walk_run(dir);
	return tap_done();
}
