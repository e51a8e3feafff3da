/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "base/buf.h"
#include "base/error.h"

/*
 * The pieces of BuildKit's parser that other parts of kiln reuse on their
 * own (the linter, the typed instruction model, the builder): heredoc
 * openers, the word splitter of ENV/LABEL/ARG, exec-form JSON arrays, the
 * ENV/LABEL pair rules and parser directives. Each behaves exactly as the
 * BuildKit function it is named after (see docs/internals/dockerfile-parser.md).
 *
 * Results own their memory; release them with the matching _release(),
 * which also accepts a zeroed or already released value.
 */

/** An owned list of byte strings. */
struct kiln_df_textv {
	struct kiln_df_text *items;
	size_t len;
	struct kiln_arena *arena_; /* private */
};
void kiln_df_textv_release(struct kiln_df_textv *v);

/** An owned list of heredocs (name, fd, expand, chomp; no content or lines). */
struct kiln_df_heredocs {
	struct kiln_df_heredoc *items;
	size_t len;
	struct kiln_arena *arena_; /* private */
};
void kiln_df_heredocs_release(struct kiln_df_heredocs *h);

/**
 * ParseHeredoc: whether `word` opens a here-document (`<<EOF`, `<<-'EOF'`,
 * `3<<EOF`, `<< EOF`). Returns 1 with one item in *ret, 0 when it is not a
 * heredoc (no error; `<<EOF sh` is two words and not one), or -KILN_EPARSE
 * for a malformed delimiter such as `<<'EOF` ("failed to process ...").
 */
int kiln_df_parse_heredoc(const char *word, size_t len, struct kiln_df_heredocs *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * heredocsFromLine: the heredoc openers of a whole instruction line, in
 * order (BuildKit's shell lexer splits the words; quoted `'<<EOF'` is no
 * opener, and a line the lexer rejects has none). 0 or -KILN_EPARSE.
 */
int kiln_df_heredocs_from_line(const char *line, size_t len, struct kiln_df_heredocs *ret,
			       struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Whether a RUN's command line is one heredoc and nothing else (`RUN <<EOF`:
 * shell form, one word that opens a single heredoc), which BuildKit runs as
 * a script rather than as a shell line.
 */
struct kiln_df_cmdline;
int kiln_df_cmdline_is_heredoc(const struct kiln_df_cmdline *cl);

/** ChompHeredocContent: remove the leading TABs of every line; appended to out. */
int kiln_df_chomp_heredoc(const char *s, size_t len, struct kiln_buf *out)
	__attribute__((warn_unused_result));

/**
 * parseWords: split on Unicode white space outside quotes, keeping quotes
 * and escape characters in the words (`foo "a b"` gives `foo`, `"a b"`).
 * `escape` is '\\' or '`'. Invalid UTF-8 becomes U+FFFD, as in BuildKit.
 */
int kiln_df_parse_words(const char *s, size_t len, int escape, struct kiln_df_textv *ret,
			struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * The exec-form argument parser (parseJSON): returns 1 when s (after
 * leading white space) is a JSON array of strings, the decoded elements in
 * *ret (`\u0000` gives a NUL byte); 0 when s is not a JSON array at all
 * (BuildKit then treats it as shell form); -KILN_EPARSE for a JSON array
 * holding anything but strings ("when using JSON array syntax, arrays must
 * be comprised of strings only").
 */
int kiln_df_parse_json_array(const char *s, size_t len, struct kiln_df_textv *ret,
			     struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * parseNameVal for ENV ("ENV") or LABEL ("LABEL"): the (key, value, sep)
 * triples of `rest` (see struct kiln_df_node). -KILN_EPARSE for `ENV foo`
 * ("ENV must have two arguments") or a word without '=' in the k=v form.
 */
int kiln_df_parse_name_val(const char *keyword, const char *rest, size_t len, int escape,
			   struct kiln_df_textv *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** An owned list of directives (DirectiveParser.ParseAll). */
struct kiln_df_directives {
	struct kiln_df_directive *items;
	size_t len;
	struct kiln_arena *arena_; /* private */
};
void kiln_df_directives_release(struct kiln_df_directives *d);

/**
 * DirectiveParser.ParseAll: the leading `# name=value` directives of data
 * (names lower-cased; unknown names end the run). -KILN_EPARSE "only one
 * <name> parser directive can be used" when one repeats.
 */
int kiln_df_directives_parse_all(const char *data, size_t len, struct kiln_df_directives *ret,
				 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * A directive found by DetectSyntax / ParseDirective: `value` is the text
 * before the first space (`docker/dockerfile:1` of
 * `docker/dockerfile:1 // comment`), `cmdline` the whole value, `line` its
 * 1-based line (0 for a JSON object directive without shebang).
 */
struct kiln_df_syntax_directive {
	struct kiln_df_text value;
	struct kiln_df_text cmdline;
	int line;
	struct kiln_arena *arena_; /* private */
};
void kiln_df_syntax_directive_release(struct kiln_df_syntax_directive *d);

/**
 * DetectSyntax: the `syntax` directive from `# syntax=`, else `// syntax=`
 * comment lines, else a file that is one JSON object with a string
 * "syntax" member; a BOM and a `#!` first line are skipped. 1 found, 0 not.
 */
int kiln_df_detect_syntax(const char *data, size_t len, struct kiln_df_syntax_directive *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));

/** ParseDirective: like kiln_df_detect_syntax() for `key`, `#` comments only. */
int kiln_df_parse_directive(const char *key, const char *data, size_t len,
			    struct kiln_df_syntax_directive *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
