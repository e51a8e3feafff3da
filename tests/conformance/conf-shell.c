/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Conformance: BuildKit's shell-lexer test data (buildkit-shell/, read as
 * its FORMAT.md says). One TAP case per test line or row; a summary line per
 * data set: envVarTest (ProcessWord), wordsTest (ProcessWords),
 * process-word.tsv (ProcessWordWithMatches), shell-pattern-regex.tsv (the
 * glob to regexp conversion).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "shell/pattern.h"
#include "shell/shell.h"
#include "tap.h"

struct set {
	const char *name;
	int passed, total;
};

static void set_case(struct set *s, int ok)
{
	s->total++;
	if (ok)
		s->passed++;
}

static void set_report(const struct set *s)
{
	printf("# conformance %s %d/%d\n", s->name, s->passed, s->total);
}

/* The file split as Go's bufio.Scanner does: on '\n', a trailing '\r' dropped. */
static int read_lines(const char *dir, const char *name, struct kiln_strv *lines)
{
	cleanup_free char *path = kiln_asprintf("%s/%s", dir, name);
	cleanup_free char *data = NULL;
	size_t len = 0;
	struct kiln_error err = KILN_ERROR_INIT;
	if (!path)
		return -1;
	if (kiln_read_file(path, (size_t)1 << 24, &data, &len, &err) < 0) {
		tap_diag("%s: %s", path, err.msg ? err.msg : "read failed");
		kiln_error_release(&err);
		return -1;
	}
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - data) : len;
		size_t n = e - i;
		if (n > 0 && data[i + n - 1] == '\r')
			n--;
		if (kiln_strv_pushn(lines, data + i, n) < 0)
			return -1;
		i = e + 1;
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Split `s` in place on `sep`; returns the number of fields (at most max). */
static size_t split(char *s, char sep, char **fields, size_t max)
{
	size_t n = 0;
	fields[n++] = s;
	for (char *p = s; *p; p++) {
		if (*p == sep) {
			if (n == max)
				return max + 1;
			*p = '\0';
			fields[n++] = p + 1;
		}
	}
	return n;
}

static const char *const fixed_env[] = { "PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL=" };

static void run_envvartest(const char *dir)
{
	struct set s = { "shell-envVarTest", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *env = NULL;
	struct kiln_shell_lex lex = { '\\', 0 };

	if (read_lines(dir, "envVarTest", &lines) < 0 || kiln_shell_envlist_new(&env, NULL) < 0) {
		TAP_OK(0, "envVarTest readable");
		set_report(&s);
		return;
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(fixed_env); i++)
		if (kiln_shell_envlist_put(env, fixed_env[i], NULL) < 0)
			abort();
	struct kiln_shell_env e = kiln_shell_envlist_env(env);

	for (size_t ln = 0; ln < lines.len; ln++) {
		if (lines.items[ln][0] == '#')
			continue;
		cleanup_free char *copy = kiln_strdup(lines.items[ln]);
		if (!copy)
			abort();
		char *line = trim(copy);
		if (!*line)
			continue;
		char *f[3];
		if (split(line, '|', f, 3) != 3) {
			set_case(&s, TAP_OK(0, "envVarTest:%zu: three fields", ln + 1));
			continue;
		}
		char *platform = trim(f[0]), *source = trim(f[1]), *expected = trim(f[2]);
		if (strcmp(platform, "W") == 0) {
			tap_skip("windows-only: names are case-insensitive there",
				 "envVarTest:%zu %s", ln + 1, source);
			continue;
		}
		if (strcmp(platform, "A") != 0 && strcmp(platform, "U") != 0) {
			set_case(&s, TAP_OK(0, "envVarTest:%zu: platform '%s'", ln + 1, platform));
			continue;
		}
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup_free char *got = NULL;
		int r = kiln_shell_process_word(&lex, source, &e, &got, &err);
		int ok;
		if (strcmp(expected, "error") == 0) {
			ok = TAP_OK(r < 0, "envVarTest:%zu %s -> error", ln + 1, source);
			if (!ok)
				tap_diag("got '%s'", got);
		} else {
			ok = TAP_OK(r == 0 && strcmp(got, expected) == 0, "envVarTest:%zu %s -> %s",
				    ln + 1, source, expected);
			if (!ok)
				tap_diag("got '%s' (%s)", got ? got : "", err.msg ? err.msg : "ok");
		}
		kiln_error_release(&err);
		set_case(&s, ok);
	}
	set_report(&s);
}

static void run_wordstest(const char *dir)
{
	struct set s = { "shell-wordsTest", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *env = NULL;
	struct kiln_shell_lex lex = { '\\', 0 };

	if (read_lines(dir, "wordsTest", &lines) < 0 || kiln_shell_envlist_new(&env, NULL) < 0) {
		TAP_OK(0, "wordsTest readable");
		set_report(&s);
		return;
	}
	struct kiln_shell_env e = kiln_shell_envlist_env(env);
	for (size_t ln = 0; ln < lines.len; ln++) {
		const char *raw = lines.items[ln];
		if (raw[0] == '#')
			continue;
		if (strncmp(raw, "ENV ", 4) == 0) {
			const char *kv = raw + 3;
			while (*kv == ' ')
				kv++;
			if (kiln_shell_envlist_put(env, kv, NULL) < 0)
				abort();
			continue;
		}
		cleanup_free char *copy = kiln_strdup(raw);
		if (!copy)
			abort();
		char *f[2];
		if (split(copy, '|', f, 2) != 2) {
			set_case(&s, TAP_OK(0, "wordsTest:%zu: exactly one |", ln + 1));
			continue;
		}
		char *input = trim(f[0]);
		char *want_s = f[1];
		while (*want_s == ' ')
			want_s++;
		cleanup(kiln_strv_release) struct kiln_strv want = KILN_STRV_INIT;
		for (char *p = want_s;;) {
			char *comma = strchr(p, ',');
			if (kiln_strv_pushn(&want, p, comma ? (size_t)(comma - p) : strlen(p)) < 0)
				abort();
			if (!comma)
				break;
			p = comma + 1;
		}
		cleanup(kiln_strv_release) struct kiln_strv got = KILN_STRV_INIT;
		if (kiln_shell_process_words(&lex, input, &e, &got, NULL) < 0) {
			kiln_strv_release(&got);
			if (kiln_strv_push(&got, "error") < 0)
				abort();
		}
		int ok = got.len == want.len;
		for (size_t i = 0; ok && i < want.len; i++)
			ok = strcmp(got.items[i], want.items[i]) == 0;
		TAP_OK(ok, "wordsTest:%zu %s -> %s", ln + 1, input, want_s);
		if (!ok)
			for (size_t i = 0; i < got.len; i++)
				tap_diag("got[%zu] '%s'", i, got.items[i]);
		set_case(&s, ok);
	}
	set_report(&s);
}

/* The _esc columns: \\ \t \n \r \xHH. */
static char *unescape(const char *s)
{
	struct kiln_buf b = KILN_BUF_INIT;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		if (c == '\\' && s[i + 1]) {
			char n = s[++i];
			if (n == 't')
				c = '\t';
			else if (n == 'n')
				c = '\n';
			else if (n == 'r')
				c = '\r';
			else if (n == 'x' && isxdigit((unsigned char)s[i + 1]) &&
				 isxdigit((unsigned char)s[i + 2])) {
				char hex[3] = { s[i + 1], s[i + 2], 0 };
				c = (char)strtol(hex, NULL, 16);
				i += 2;
			} else
				c = n;
		}
		if (kiln_buf_addch(&b, c) < 0)
			abort();
	}
	return kiln_buf_detach(&b, NULL);
}

static int names_equal(const char *col, const struct kiln_strv *got)
{
	if (strcmp(col, "*") == 0)
		return 1;
	if (strcmp(col, "-") == 0)
		return got->len == 0;
	cleanup_free char *copy = kiln_strdup(col);
	char *f[64];
	size_t n = split(copy, ',', f, 64);
	if (n != got->len)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i], got->items[i]) != 0)
			return 0;
	return 1;
}

static void run_process_word(const char *dir)
{
	struct set s = { "shell-process-word", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;
	struct kiln_shell_lex lex = { '\\', 0 };

	if (read_lines(dir, "process-word.tsv", &lines) < 0) {
		TAP_OK(0, "process-word.tsv readable");
		set_report(&s);
		return;
	}
	for (size_t ln = 1; ln < lines.len; ln++) {
		if (!lines.items[ln][0])
			continue;
		cleanup_free char *copy = kiln_strdup(lines.items[ln]);
		char *f[32];
		size_t n = split(copy, '\t', f, 32);
		if (n < 5 || n > 32) {
			set_case(&s, TAP_OK(0, "process-word.tsv:%zu: at least 5 columns", ln + 1));
			continue;
		}
		cleanup(kiln_shell_envlist_freep) struct kiln_shell_envlist *env = NULL;
		if (kiln_shell_envlist_new(&env, NULL) < 0)
			abort();
		for (size_t i = 5; i < n; i++) {
			cleanup_free char *kv = unescape(f[i]);
			if (!kv || kiln_shell_envlist_put(env, kv, NULL) < 0)
				abort();
		}
		struct kiln_shell_env e = kiln_shell_envlist_env(env);
		cleanup_free char *input = unescape(f[0]);
		cleanup_free char *want = unescape(f[2]);
		struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_shell_expand(&lex, input, &e, &res, &err);
		int ok;
		if (strncmp(f[1], "error", 5) == 0) {
			const char *text = f[1][5] == ':' ? f[1] + 6 : NULL;
			ok = r < 0 && (!text || (err.msg && strstr(err.msg, text)));
			TAP_OK(ok, "process-word.tsv:%zu %s -> %s", ln + 1, input, f[1]);
			if (!ok)
				tap_diag("got '%s' (%s)", res.word ? res.word : "",
					 err.msg ? err.msg : "no error");
		} else {
			ok = r == 0 && strcmp(res.word, want) == 0 && names_equal(f[3], &res.matched) &&
			     names_equal(f[4], &res.unmatched);
			TAP_OK(ok, "process-word.tsv:%zu %s -> '%s'", ln + 1, input, want);
			if (!ok) {
				tap_diag("got '%s' (%s)", res.word ? res.word : "",
					 err.msg ? err.msg : "ok");
				for (size_t i = 0; i < res.matched.len; i++)
					tap_diag("matched %s", res.matched.items[i]);
				for (size_t i = 0; i < res.unmatched.len; i++)
					tap_diag("unmatched %s", res.unmatched.items[i]);
			}
		}
		kiln_error_release(&err);
		kiln_shell_result_release(&res);
		set_case(&s, ok);
	}
	set_report(&s);
}

static void run_pattern_regex(const char *dir)
{
	struct set s = { "shell-pattern-regex", 0, 0 };
	cleanup(kiln_strv_release) struct kiln_strv lines = KILN_STRV_INIT;

	if (read_lines(dir, "shell-pattern-regex.tsv", &lines) < 0) {
		TAP_OK(0, "shell-pattern-regex.tsv readable");
		set_report(&s);
		return;
	}
	for (size_t ln = 1; ln < lines.len; ln++) {
		if (!lines.items[ln][0])
			continue;
		cleanup_free char *copy = kiln_strdup(lines.items[ln]);
		char *f[3];
		if (split(copy, '\t', f, 3) != 3) {
			set_case(&s, TAP_OK(0, "shell-pattern-regex.tsv:%zu: 3 columns", ln + 1));
			continue;
		}
		cleanup_free char *pat = unescape(f[0]);
		cleanup_free char *want = unescape(f[2]);
		cleanup(kiln_buf_release) struct kiln_buf rx = KILN_BUF_INIT;
		struct kiln_shell_pattern *p = NULL;
		int r = kiln_shell_pattern_compile(pat, strlen(pat), 1, 1, &rx, &p, NULL);
		kiln_shell_pattern_free(p);
		int ok;
		if (strcmp(f[1], "error") == 0) {
			ok = TAP_OK(r < 0, "shell-pattern-regex.tsv:%zu %s -> error", ln + 1, pat);
		} else {
			ok = r == 0 && strcmp(rx.buf, want) == 0;
			TAP_OK(ok, "shell-pattern-regex.tsv:%zu %s -> %s", ln + 1, pat, want);
			if (!ok)
				tap_diag("got '%s' (r=%d)", rx.buf, r);
		}
		set_case(&s, ok);
	}
	set_report(&s);
}

int main(void)
{
	const char *base = getenv("KILN_CONFORMANCE_DIR");
	if (!base || !*base)
		base = getenv("KILN_CONFORMANCE_DIR_DEFAULT");
	cleanup_free char *dir = base ? kiln_asprintf("%s/buildkit-shell", base) : NULL;
	struct stat st;
	if (!dir || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		printf("# conformance shell ABSENT\n");
		tap_skip("conformance data absent", "buildkit-shell (%s)", dir ? dir : "unset");
		return tap_done();
	}
	run_envvartest(dir);
	run_wordstest(dir);
	run_process_word(dir);
	run_pattern_regex(dir);
	return tap_done();
}
