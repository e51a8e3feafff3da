/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the word expander. Input: one option byte (bits 0-3 the
 * kiln_shell_flags, bit 4 the backtick escape), then NUL-separated pieces:
 * the word, then NAME=VALUE environment entries. Besides never crashing,
 * it checks what must hold for every input: the three entry points agree,
 * and the used-name sets are sorted, distinct and disjoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shell/pattern.h"
#include "shell/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sorted(const struct kiln_strv *v)
{
	for (size_t i = 1; i < v->len; i++)
		if (strcmp(v->items[i - 1], v->items[i]) >= 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 16)
		return 0;
	unsigned opt = data[0];
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';

	struct kiln_shell_envlist *env = NULL;
	if (kiln_shell_envlist_new(&env, NULL) < 0) {
		free(buf);
		return 0;
	}
	const char *word = buf;
	for (size_t i = strlen(buf) + 1; i < size - 1; i += strlen(buf + i) + 1)
		if (kiln_shell_envlist_put(env, buf + i, NULL) < 0)
			goto out;

	struct kiln_shell_env e = kiln_shell_envlist_env(env);
	struct kiln_shell_lex lex = { (opt & 0x10) ? '`' : '\\', opt & 0x0F };
	struct kiln_shell_result res = KILN_SHELL_RESULT_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_shell_expand(&lex, word, &e, &res, &err);
	if (r < 0) {
		if (!err.msg || err.code == KILN_OK)
			abort();
	} else {
		check_sorted(&res.matched);
		check_sorted(&res.unmatched);
		for (size_t i = 0; i < res.matched.len; i++)
			if (kiln_strv_find(&res.unmatched, res.matched.items[i]) >= 0)
				abort();
		for (size_t i = 0; i < res.words.len; i++)
			if (!res.words.items[i][0])
				abort(); /* split words are never empty */
		char *one = NULL;
		if (kiln_shell_process_word(&lex, word, &e, &one, NULL) == 0) {
			if (strcmp(one, res.word) != 0)
				abort();
			free(one);
		}
	}
	kiln_error_release(&err);
	kiln_shell_result_release(&res);

	/* The word as a pattern, both ways. */
	struct kiln_shell_pattern *p = NULL;
	if (kiln_shell_pattern_compile(word, strlen(word), opt & 1, (opt >> 1) & 1, NULL, &p,
				       NULL) == 0) {
		size_t s = 0, en = 0, work = KILN_SHELL_MAX_MATCH_WORK;
		size_t wl = strlen(buf);
		const char *text = wl + 1 < size - 1 ? buf + wl + 1 : "";
		if (kiln_shell_pattern_find(p, text, strlen(text), 0, &s, &en, &work, NULL) == 1 &&
		    (s > en || en > strlen(text)))
			abort();
		kiln_shell_pattern_free(p);
	}
out:
	kiln_shell_envlist_free(env);
	free(buf);
	return 0;
}
