/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the Dockerfile parser beyond BuildKit's own data (which
 * tests/conformance/conf-parser.c runs): the dump of edge cases, errors and
 * where they point, comments, warnings, heredocs, the JSON model, limits and
 * the reusable helpers. Go's quoting and lower-casing are base's
 * (test-base-gotext.c).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "dockerfile/dockerfile.h"
#include "tap.h"

/* ---- dumps of edge cases ---- */

struct dump_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen */
	const char *want;
};

static const struct dump_case dump_cases[] = {
	{ "keywords are case-insensitive", "from Alpine\nRun echo hi\n", 0,
	  "(from \"Alpine\")\n(run \"echo hi\")\n" },
	{ "backtick escape joins lines", "# escape=`\nFROM a\nRUN echo \\ `\n  x\n", 0,
	  "(from \"a\")\n(run \"echo \\\\   x\")\n" },
	{ "directive name and spacing are free", "# ESCAPE = `\nFROM a\nRUN x `\n y\n", 0,
	  "(from \"a\")\n(run \"x  y\")\n" },
	{ "a blank line ends the directives", "\n# escape=`\nFROM a\nRUN x `\ny\n", 0,
	  "(from \"a\")\n(run \"x `\")\n(y \"\")\n" },
	{ "an unknown directive ends the directives", "# foo=bar\n# escape=`\nRUN x `\ny\n", 0,
	  "(run \"x `\")\n(y \"\")\n" },
	{ "ONBUILD nests", "FROM a\nONBUILD ONBUILD RUN [\"x\"]\nONBUILD\n", 0,
	  "(from \"a\")\n(onbuild (onbuild (run \"x\")))\n(onbuild)\n" },
	{ "ONBUILD keeps the trigger's flags", "ONBUILD --x COPY --from=b a c\n", 0,
	  "(onbuild [\"--x\"] (copy [\"--from=b\"] \"a\" \"c\"))\n" },
	{ "quotes in flags are removed", "COPY --chown=\"a b\" --from='x' src dst\n", 0,
	  "(copy [\"--chown=a b\" \"--from=x\"] \"src\" \"dst\")\n" },
	{ "-- ends the flags", "COPY -- --src dst\nCOPY --a -- b\n", 0,
	  "(copy \"--src\" \"dst\")\n(copy [\"--a\"] \"b\")\n" },
	{ "a backslash escapes in flags", "COPY --a=b\\ c d\n", 0, "(copy [\"--a=b c\"] \"d\")\n" },
	{ "flag bytes are widened to runes", "COPY --a=\xc3\xa9 x y\n", 0,
	  "(copy [\"--a=\xc3\x83\xc2\xa9\"] \"x\" \"y\")\n" },
	/* runs of plain flag bytes are appended at once, the other bytes one by one */
	{ "flag runs end at escapes, quotes and wide bytes",
	  "COPY --a=x\x01y\\ z'q r'\xc3\xa9w s d\n", 0,
	  "(copy [\"--a=x\\x01y zq r\xc3\x83\xc2\xa9w\"] \"s\" \"d\")\n" },
	{ "plain flags at the end of the line and before wide spaces",
	  "COPY --a\nCOPY --\nCOPY --b\x85x y\n", 0,
	  "(copy [\"--a\"])\n(copy)\n(copy [\"--b\"] \"x\" \"y\")\n" },
	{ "byte 0xA0 splits flags", "COPY --a=\xc2\xa0x y\n", 0,
	  "(copy [\"--a=\xc3\x82\"] \"x\" \"y\")\n" },
	{ "HEALTHCHECK forms", "HEALTHCHECK NONE\nHEALTHCHECK --interval=5s CMD [\"a\"]\n", 0,
	  "(healthcheck \"NONE\")\n(healthcheck [\"--interval=5s\"] \"CMD\" \"a\")\n" },
	{ "unknown instructions keep one empty argument", "FOO bar baz\nFOO --x=1 y\n", 0,
	  "(foo \"\")\n(foo [\"--x=1\"] \"\")\n" },
	{ "no arguments", "RUN\nRUN []\nCMD [ ]\nENV\nARG\n", 0,
	  "(run)\n(run)\n(cmd)\n(env)\n(arg)\n" },
	{ "CRLF line endings", "FROM a\r\nRUN b \\\r\n c\r\n", 0,
	  "(from \"a\")\n(run \"b  c\")\n" },
	{ "byte order mark",
	  "\xef\xbb\xbf"
	  "FROM a\n",
	  0, "(from \"a\")\n" },
	{ "blanks after the continuation", "RUN a \\  \t\nb\n", 0, "(run \"a b\")\n" },
	{ "an escaped escape does not continue", "RUN a \\\\\nFROM b\n", 0,
	  "(run \"a \\\\\\\\\")\n(from \"b\")\n" },
	{ "comments inside a continuation are dropped", "RUN a \\\n# c\n  b\n", 0,
	  "(run \"a   b\")\n" },
	{ "an escape alone continues", "\\\nRUN x\n", 0, "(run \"x\")\n" },
	{ "ENV and LABEL pairs", "ENV a=b c=\"d e\"\nENV a b c\nLABEL \"a b\"=c\n", 0,
	  "(env \"a\" \"b\" \"=\" \"c\" \"\\\"d e\\\"\" \"=\")\n(env \"a\" \"b c\" \"\")\n"
	  "(label \"\\\"a b\\\"\" \"c\" \"=\")\n" },
	{ "ARG words", "ARG x=1 y\n", 0, "(arg \"x=1\" \"y\")\n" },
	{ "FROM with flags and a name", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n", 0,
	  "(from [\"--platform=$BUILDPLATFORM\"] \"golang:1.22\" \"AS\" \"build\")\n" },
	{ "JSON escapes", "CMD [\"a\\tb\", \"\\u00e9\", \"\\ud83d\\ude00\", \"\\ud800x\"]\n", 0,
	  "(cmd \"a\\tb\" \"\xc3\xa9\" \"\xf0\x9f\x98\x80\" \"\xef\xbf\xbdx\")\n" },
	{ "JSON invalid UTF-8 is coerced", "CMD [\"\xff\"]\n", 0, "(cmd \"\xef\xbf\xbd\")\n" },
	{ "a number Go cannot decode makes it shell form", "CMD [\"a\", 1e400]\n", 0,
	  "(cmd \"[\\\"a\\\", 1e400]\")\n" },
	{ "trailing comma is not JSON", "CMD [\"a\",]\n", 0, "(cmd \"[\\\"a\\\",]\")\n" },
	{ "JSON list forms", "ADD [ \"a b\", \"c\" ]\nVOLUME /a /b\nSHELL [\"/bin/sh\", \"-c\"]\n",
	  0, "(add \"a b\" \"c\")\n(volume \"/a\" \"/b\")\n(shell \"/bin/sh\" \"-c\")\n" },
	{ "whole-line instructions", "MAINTAINER Jane <j@x>\nWORKDIR /a b\nSTOPSIGNAL SIGKILL\n", 0,
	  "(maintainer \"Jane <j@x>\")\n(workdir \"/a b\")\n(stopsignal \"SIGKILL\")\n" },
	{ "EXPOSE splits on tabs", "EXPOSE 80\t443/tcp\n", 0, "(expose \"80\" \"443/tcp\")\n" },
	/* split_ws scans eight bytes a step, then byte by byte: both, and bytes
	 * below 0x21 that are no white space, and bytes past 0x7F */
	{ "long words split", "FROM abcdefghijklmnopq\v\f rstuvwxyz0123456789 AS b1\n", 0,
	  "(from \"abcdefghijklmnopq\" \"rstuvwxyz0123456789\" \"AS\" \"b1\")\n" },
	{ "control bytes inside long words",
	  "EXPOSE 1234567\x01"
	  "89abcdef\x1f\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\ty\rz\n",
	  0,
	  "(expose \"1234567\\x0189abcdef\\x1f\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" \"y\" "
	  "\"z\")\n" },
	{ "NUL inside a long word", "VOLUME abcdefgh\0ijklmnop q\n", 27,
	  "(volume \"abcdefgh\\x00ijklmnop\" \"q\")\n" },
	{ "control bytes and NUL",
	  "RUN a\x01"
	  "b\nRUN c\0d\n",
	  16, "(run \"a\\x01b\")\n(run \"c\\x00d\")\n" },
	{ "non-ASCII keywords",
	  "R\xc3\x9cN x\nWOR\xe2\x84\xaa"
	  "DIR /x\nR\xffN y\n",
	  0, "(r\xc3\xbcn \"\")\n(workdir \"/x\")\n(r\xef\xbf\xbdn \"\")\n" },
	{ "heredocs are not in the dump", "FROM a\nRUN <<EOF cat\nhi\nEOF\nONBUILD RUN <<X\nx\nX\n",
	  0, "(from \"a\")\n(run \"<<EOF cat\")\n(onbuild (run \"<<X\"))\n" },
	{ "NBSP indentation is trimmed", "\xc2\xa0RUN x\n", 0, "(run \"x\")\n" },
	{ "no final newline", "FROM a\nRUN b", 0, "(from \"a\")\n(run \"b\")\n" },
	{ "continuation at the end of the file", "FROM a\nRUN b \\", 0,
	  "(from \"a\")\n(run \"b\")\n" },
	{ "a heredoc opener on a joined line", "FROM a\nRUN \\\n <<EOF cat\nhi\nEOF\nRUN x\n", 0,
	  "(from \"a\")\n(run \"<<EOF cat\")\n(run \"x\")\n" },
	{ "an unknown keyword is lower-cased", "FoO-Bar_9 x\nR\xe2\x84\xaaUN y\n", 0,
	  "(foo-bar_9 \"\")\n(rkun \"\")\n" },
	{ "a heredoc on the last line, no final newline", "RUN <<EOF\nEOF", 0,
	  "(run \"<<EOF\")\n" },
};

static void test_dumps(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dump_cases); i++) {
		const struct dump_case *c = &dump_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
		cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
		int r = kiln_df_parse(c->in, len, NULL, &ast, &err);
		if (!TAP_OK(r == 0, "parses: %s", c->name)) {
			tap_diag("error: %s", err.msg);
			kiln_error_release(&err);
			continue;
		}
		TAP_INT_EQ(kiln_df_dump(ast, &out), 0, "dumps: %s", c->name);
		TAP_STR_EQ(out.buf, c->want, "dump: %s", c->name);
	}
}

/* ---- errors and where they point ---- */

struct error_case {
	const char *name;
	const char *in;
	int code;
	int line, end_line;
	const char *msg;
};

static const struct error_case error_cases[] = {
	{ "ENV without value", "FROM a\nENV x\n", KILN_EPARSE, 2, 2,
	  "ENV must have two arguments" },
	{ "LABEL without =", "FROM a\nLABEL a=b c\n", KILN_EPARSE, 2, 2,
	  "Syntax error - can't find = in \"c\". Must be of the form: name=value" },
	{ "an error spans the continuation", "FROM a\nENV \\\n  x\n", KILN_EPARSE, 2, 3,
	  "ENV must have two arguments" },
	{ "unterminated heredoc", "FROM a\nRUN <<EOF\nfoo\n", KILN_EPARSE, 2, 3,
	  "unterminated heredoc" },
	{ "bad escape token", "# escape=x\nFROM a\n", KILN_EPARSE, 1, 1,
	  "invalid escape token 'x' does not match ` or \\" },
	{ "escape token of two characters", "# escape=\\\\\nFROM a\n", KILN_EPARSE, 1, 1,
	  "invalid escape token '\\\\' does not match ` or \\" },
	{ "repeated escape directive", "# escape=`\n# Escape=\\\nFROM a\n", KILN_EPARSE, 2, 2,
	  "only one escape parser directive can be used" },
	{ "repeated check directive", "# check=skip=all\n#check=x\nFROM a\n", KILN_EPARSE, 2, 2,
	  "only one check parser directive can be used" },
	{ "empty file", "", KILN_EPARSE, 1, 1, "file with no instructions" },
	{ "only comments", "\n\n# x\n", KILN_EPARSE, 3, 3, "file with no instructions" },
	{ "JSON with a number", "FROM a\nCMD [\"a\", 1]\n", KILN_EPARSE, 2, 2,
	  "when using JSON array syntax, arrays must be comprised of strings only" },
	{ "JSON with null in HEALTHCHECK", "FROM a\nHEALTHCHECK CMD [\"a\", null]\n", KILN_EPARSE,
	  2, 2, "when using JSON array syntax, arrays must be comprised of strings only" },
	{ "JSON with an in-range number", "FROM a\nCOPY [\"a\", 1e308]\n", KILN_EPARSE, 2, 2,
	  "when using JSON array syntax, arrays must be comprised of strings only" },
	{ "ONBUILD too deep",
	  "ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD "
	  "ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD ONBUILD RUN x\n",
	  KILN_ELIMIT, 1, 1, "ONBUILD nested more than 16 levels deep" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		struct kiln_error err = KILN_ERROR_INIT;
		struct kiln_df_ast *ast = NULL;
		int r = kiln_df_parse(c->in, strlen(c->in), "sub/app.Dockerfile", &ast, &err);
		TAP_INT_EQ(r, -c->code, "fails: %s", c->name);
		TAP_OK(ast == NULL, "no tree on failure: %s", c->name);
		TAP_STR_EQ(err.msg, c->msg, "message: %s", c->name);
		TAP_STR_EQ(err.pos.file, "sub/app.Dockerfile", "file: %s", c->name);
		TAP_INT_EQ(err.pos.line, c->line, "line: %s", c->name);
		TAP_INT_EQ(err.pos.end_line, c->end_line, "end line: %s", c->name);
		kiln_df_ast_free(ast);
		kiln_error_release(&err);
	}
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_df_ast *ast = NULL;
	cleanup_free char *msg = NULL;
	TAP_INT_EQ(kiln_df_parse("FROM a\nENV x\n", 13, "Dockerfile", &ast, &err), -KILN_EPARSE,
		   "ENV x fails");
	msg = kiln_error_format(&err);
	TAP_STR_EQ(msg, "Dockerfile:2: ENV must have two arguments", "formatted with the location");
	kiln_error_release(&err);
}

/* ---- lines past the limit ---- */

static char *long_input(const char *head, size_t n, char fill, const char *tail, size_t *ret_len)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + n + tl + 1);
	if (!s)
		abort();
	memcpy(s, head, hl);
	memset(s + hl, fill, n);
	memcpy(s + hl + n, tail, tl + 1);
	*ret_len = hl + n + tl;
	return s;
}

static void test_limits(void)
{
	static const struct {
		const char *name, *head;
		size_t n;
		const char *tail;
		int code, line;
		const char *msg;
	} cases[] = {
		{ "65535 bytes and a newline", "FROM a\n", 65535, "\n", 0, 0, NULL },
		{ "65535 bytes at the end", "FROM a\n", 65535, "", 0, 0, NULL },
		{ "65536 bytes and a newline", "FROM a\n", 65536, "\n", KILN_ELIMIT, 2,
		  "dockerfile line greater than max allowed size of 65535" },
		{ "65536 bytes at the end", "FROM a\n", 65536, "", KILN_ELIMIT, 2,
		  "dockerfile line greater than max allowed size of 65535" },
		{ "a CR counts", "FROM a\n", 65535, "\r\n", KILN_ELIMIT, 2,
		  "dockerfile line greater than max allowed size of 65535" },
		{ "before any instruction", "", 65536, "\nFROM a\n", KILN_EPARSE, 1,
		  "file with no instructions" },
		{ "inside a heredoc", "FROM a\nRUN <<EOF\n", 65536, "\nEOF\n", KILN_EPARSE, 2,
		  "unterminated heredoc" },
		{ "inside a continuation", "FROM a\nRUN b \\\n", 65536, "\n", KILN_ELIMIT, 3,
		  "dockerfile line greater than max allowed size of 65535" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		size_t len;
		cleanup_free char *in =
			long_input(cases[i].head, cases[i].n, 'a', cases[i].tail, &len);
		struct kiln_error err = KILN_ERROR_INIT;
		cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
		int r = kiln_df_parse(in, len, NULL, &ast, &err);
		TAP_INT_EQ(r, -cases[i].code, "limit: %s", cases[i].name);
		if (cases[i].msg) {
			TAP_STR_EQ(err.msg, cases[i].msg, "limit message: %s", cases[i].name);
			TAP_INT_EQ(err.pos.line, cases[i].line, "limit line: %s", cases[i].name);
		} else {
			TAP_INT_EQ(ast ? (long long) ast->n_nodes : -1, 2, "limit nodes: %s",
				   cases[i].name);
		}
		kiln_error_release(&err);
	}

	/* whole-file limits */
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_df_ast *ast = NULL;
	int r = kiln_df_parse("FROM a\n", KILN_DF_MAX_FILE + 1, NULL, &ast, &err);
	TAP_INT_EQ(r, -KILN_ELIMIT, "a file over KILN_DF_MAX_FILE is refused unread");
	kiln_error_release(&err);

	size_t n = (size_t) KILN_DF_MAX_INSTRUCTIONS + 1, len = n * 2;
	cleanup_free char *many = malloc(len);
	if (!many)
		abort();
	for (size_t k = 0; k < n; k++) {
		many[2 * k] = 'X';
		many[2 * k + 1] = '\n';
	}
	r = kiln_df_parse(many, len, NULL, &ast, &err);
	TAP_INT_EQ(r, -KILN_ELIMIT, "more than KILN_DF_MAX_INSTRUCTIONS instructions");
	TAP_INT_EQ(err.pos.line, (long long) n, "the instruction count error points at the line");
	kiln_error_release(&err);
	r = kiln_df_parse(many, len - 2, NULL, &ast, &err);
	TAP_INT_EQ(r, 0, "exactly KILN_DF_MAX_INSTRUCTIONS instructions parse");
	TAP_INT_EQ(ast ? (long long) ast->n_nodes : -1, KILN_DF_MAX_INSTRUCTIONS, "all of them");
	kiln_df_ast_free(ast);
}

/* ---- the tree: lines, comments, directives, warnings, heredocs ---- */

static struct kiln_df_ast *parse_ok(const char *s)
{
	struct kiln_df_ast *ast = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	if (kiln_df_parse(s, strlen(s), NULL, &ast, &err) < 0) {
		tap_diag("unexpected parse error: %s", err.msg);
		kiln_error_release(&err);
		return NULL;
	}
	return ast;
}

static void test_comments(void)
{
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a =
		parse_ok("# syntax=docker/dockerfile:1\n# first\n\n#  second  \nFROM x\n"
			 "# one\n#\n# two\nRUN a \\\n# inside\n b\n  # indented\nCMD c\n");
	if (!TAP_OK(a != NULL, "comment file parses"))
		return;
	TAP_INT_EQ(a->n_directives, 1, "one directive");
	TAP_STR_EQ(a->directives[0].name.str, "syntax", "directive name");
	TAP_STR_EQ(a->directives[0].value.str, "docker/dockerfile:1", "directive value");
	TAP_INT_EQ(a->directives[0].line, 1, "directive line");
	TAP_INT_EQ(a->n_nodes, 3, "three instructions");
	const struct kiln_df_node *from = &a->nodes[0], *run = &a->nodes[1], *cmd = &a->nodes[2];
	TAP_INT_EQ(from->n_comments, 2, "FROM: comments since the directives, blank line kept");
	TAP_STR_EQ(from->comments[0].text.str, "first", "FROM comment 1");
	TAP_INT_EQ(from->comments[0].line, 2, "FROM comment 1 line");
	TAP_STR_EQ(from->comments[1].text.str, "second", "FROM comment 2 trimmed");
	TAP_INT_EQ(from->comments[1].line, 4, "FROM comment 2 line");
	TAP_INT_EQ(run->n_comments, 1, "RUN: an empty # starts the list afresh");
	TAP_STR_EQ(run->comments[0].text.str, "two", "RUN comment");
	TAP_INT_EQ(run->start_line, 9, "RUN start");
	TAP_INT_EQ(run->end_line, 11, "RUN end");
	TAP_INT_EQ(cmd->n_comments, 1, "CMD: the comment inside RUN's continuation is not CMD's");
	TAP_STR_EQ(cmd->comments[0].text.str, "indented", "CMD comment");
	TAP_INT_EQ(a->n_comments, 8, "every comment line of the file");
	TAP_INT_EQ(a->comments[0].line, 1, "the directive line is a comment line too");
	TAP_STR_EQ(a->comments[6].text.str, "inside", "comment inside a continuation");
	TAP_INT_EQ(a->comments[6].line, 10, "its line");
	TAP_STR_EQ(a->comments[4].text.str, "", "an empty comment");
	TAP_INT_EQ(a->comments[4].line, 7, "the empty comment's line");
	TAP_INT_EQ(a->escape, '\\', "default escape");
	TAP_INT_EQ(a->start_line, 5, "root start line");
	TAP_INT_EQ(a->end_line, 13, "root end line");
	TAP_INT_EQ(a->n_lines, 13, "line count");

	/* the next instruction's list outgrows its first block of 16, then is reused */
	cleanup(kiln_buf_release) struct kiln_buf in = KILN_BUF_INIT;
	int r = 0;
	for (int i = 0; i < 20 && r >= 0; i++)
		r = kiln_buf_addf(&in, "# c%d\n", i);
	r = r < 0 ? r : kiln_buf_addstr(&in, "FROM x\n# d\nRUN y\n");
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *m = r < 0 ? NULL : parse_ok(in.buf);
	TAP_OK(m && m->n_nodes == 2 && m->nodes[0].n_comments == 20 &&
		       !strcmp(m->nodes[0].comments[0].text.str, "c0") &&
		       !strcmp(m->nodes[0].comments[15].text.str, "c15") &&
		       !strcmp(m->nodes[0].comments[19].text.str, "c19") &&
		       m->nodes[1].n_comments == 1 &&
		       !strcmp(m->nodes[1].comments[0].text.str, "d"),
	       "20 comments before FROM, then one before RUN");

	/* TrimSpace(line[1:]) empty restarts the list: "#" and "# \t" do, " #" does not */
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *e =
		parse_ok("# a\n# \t\r\n# b\nFROM x\n# c\n  #\n# d\nRUN y\n# e\n#\nCMD z\n");
	TAP_OK(e && e->n_nodes == 3 && e->nodes[0].n_comments == 1 &&
		       !strcmp(e->nodes[0].comments[0].text.str, "b") &&
		       e->nodes[1].n_comments == 3 &&
		       !strcmp(e->nodes[1].comments[1].text.str, "") &&
		       e->nodes[2].n_comments == 0,
	       "empty comments restart the list, an indented one does not");
}

static void test_warnings(void)
{
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a =
		parse_ok("FROM a\nRUN a \\\n\n  b \\\n \t\n  c\nRUN d \\\n# c\n e\n");
	if (!TAP_OK(a != NULL, "warning file parses"))
		return;
	TAP_INT_EQ(a->n_warnings, 1, "one warning per instruction with empty lines");
	TAP_STR_EQ(a->warnings[0].short_text.str, "Empty continuation line found in: RUN a   b   c",
		   "warning text has the joined instruction");
	TAP_INT_EQ(a->warnings[0].start_line, 2, "warning start line");
	TAP_INT_EQ(a->warnings[0].line, 6, "warning line is the instruction's last");
	TAP_STR_EQ(a->warnings[0].detail.str,
		   "Empty continuation lines will become errors in a future release", "detail");
	TAP_OK(strstr(a->warnings[0].url.str, "no-empty-continuation") != NULL, "url");
}

static void test_heredocs(void)
{
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a = parse_ok(
		"FROM a\nCOPY <<A <<\"B\" /dst\na1\r\nA\nb1\nB\nRUN <<-E\n\tx\n\tE\n"
		"RUN 99999999999999999999<<F\nF\nONBUILD RUN <<G\ng\nG\nRUN [\"<<H\"]\nRUN x\n");
	if (!TAP_OK(a != NULL, "heredoc file parses"))
		return;
	TAP_INT_EQ(a->n_nodes, 7, "bodies are not instructions");
	const struct kiln_df_node *copy = &a->nodes[1];
	TAP_INT_EQ(copy->n_heredocs, 2, "two heredocs on COPY");
	TAP_STR_EQ(copy->heredocs[0].name.str, "A", "first name");
	TAP_STR_EQ(copy->heredocs[0].content.str, "a1\r\n", "content keeps its line endings");
	TAP_INT_EQ(copy->heredocs[0].start_line, 3, "first body line");
	TAP_INT_EQ(copy->heredocs[0].end_line, 4, "first terminator line");
	TAP_INT_EQ(copy->heredocs[0].expand, 1, "unquoted delimiter expands");
	TAP_STR_EQ(copy->heredocs[1].name.str, "B", "second name");
	TAP_INT_EQ(copy->heredocs[1].expand, 0, "quoted delimiter does not expand");
	TAP_INT_EQ(copy->heredocs[1].start_line, 5, "second body line");
	TAP_INT_EQ(copy->end_line, 6, "the instruction ends with its last heredoc");
	const struct kiln_df_node *chomp = &a->nodes[2];
	TAP_INT_EQ(chomp->heredocs[0].chomp, 1, "<<- chomps");
	TAP_STR_EQ(chomp->heredocs[0].content.str, "\tx\n", "content is kept before chomping");
	TAP_OK(chomp->heredocs[0].fd == 0, "no descriptor");
	TAP_OK(a->nodes[3].heredocs[0].fd == UINT64_MAX, "a huge descriptor saturates");
	const struct kiln_df_node *ob = &a->nodes[4];
	TAP_INT_EQ(ob->n_heredocs, 1, "ONBUILD holds its trigger's heredoc");
	TAP_STR_EQ(ob->heredocs[0].content.str, "g\n", "ONBUILD heredoc content");
	TAP_OK(ob->onbuild && ob->onbuild->cmd == KILN_DF_RUN, "ONBUILD trigger is a RUN node");
	TAP_INT_EQ(ob->onbuild ? ob->onbuild->n_heredocs : 9, 0, "the trigger itself holds none");
	TAP_INT_EQ(a->nodes[5].n_heredocs, 0, "JSON form has no heredocs");
	TAP_INT_EQ(a->nodes[5].json_form, 1, "JSON form flagged");
}

static void test_nodes(void)
{
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a =
		parse_ok("  Copy --from=build --link \\\n   a b\nfoo x\n");
	if (!TAP_OK(a != NULL, "node file parses"))
		return;
	const struct kiln_df_node *n = &a->nodes[0];
	TAP_INT_EQ(n->cmd, KILN_DF_COPY, "COPY recognised");
	TAP_STR_EQ(n->keyword.str, "Copy", "keyword as written");
	TAP_STR_EQ(n->keyword_lower.str, "copy", "keyword lower-cased");
	TAP_STR_EQ(n->original.str, "Copy --from=build --link    a b", "original text joined");
	TAP_INT_EQ(n->n_flags, 2, "two flags");
	TAP_STR_EQ(n->flags[0].name.str, "from", "flag name");
	TAP_STR_EQ(n->flags[0].value.str, "build", "flag value");
	TAP_INT_EQ(n->flags[0].has_value, 1, "flag has a value");
	TAP_STR_EQ(n->flags[1].raw.str, "--link", "bare flag raw");
	TAP_INT_EQ(n->flags[1].has_value, 0, "bare flag has no value");
	TAP_INT_EQ(n->n_args, 2, "two args");
	TAP_INT_EQ(n->json_form, 0, "shell form");
	TAP_INT_EQ(a->nodes[1].cmd, KILN_DF_UNKNOWN, "unknown keyword");
	TAP_STR_EQ(kiln_df_cmd_name(KILN_DF_HEALTHCHECK), "healthcheck", "cmd name");
	TAP_OK(kiln_df_cmd_name(KILN_DF_UNKNOWN) == NULL, "no name for unknown");
	TAP_OK(kiln_df_cmd_name(KILN_DF_CMD_MAX_) == NULL, "no name out of range");

	TAP_OK(n->flags[0].value.len == 5 && n->flags[1].value.len == 0 && n->flags[1].value.str &&
		       !n->flags[1].value.str[0],
	       "flag values: \"build\" and an empty one");
	TAP_STR_EQ(a->nodes[1].keyword_lower.str, "foo", "unknown keyword lower-cased");

	cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
	TAP_INT_EQ(kiln_df_dump_node(n, &b), 0, "dump one node");
	TAP_STR_EQ(b.buf, "copy [\"--from=build\" \"--link\"] \"a\" \"b\"", "node dump");
}

/* Argument lists longer than the first block of the parser's lists, which grow in the arena. */
static void test_long_lists(void)
{
	cleanup(kiln_buf_release) struct kiln_buf in = KILN_BUF_INIT;
	int r = kiln_buf_addstr(&in, "EXPOSE");
	for (int i = 0; i < 70 && r >= 0; i++)
		r = kiln_buf_addf(&in, " %d", 1000 + i);
	r = r < 0 ? r : kiln_buf_addstr(&in, "\nENV");
	for (int i = 0; i < 40 && r >= 0; i++)
		r = kiln_buf_addf(&in, " k%d=v%d", i, i);
	r = r < 0 ? r : kiln_buf_addstr(&in, "\nONBUILD COPY");
	for (int i = 0; i < 35 && r >= 0; i++)
		r = kiln_buf_addf(&in, " s%d", i);
	r = r < 0 ? r : kiln_buf_addstr(&in, " /d\nCOPY");
	for (int i = 0; i < 20 && r >= 0; i++)
		r = kiln_buf_addf(&in, " --f%d=v%d", i, i);
	r = r < 0 ? r : kiln_buf_addstr(&in, " a b\n");
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a = r < 0 ? NULL : parse_ok(in.buf);
	if (!TAP_OK(a && a->n_nodes == 4, "long argument lists parse"))
		return;
	/* the flag list grows twice: the flags copied from each outgrown array */
	const struct kiln_df_node *c = &a->nodes[3];
	TAP_OK(c->n_flags == 20 && !strcmp(c->flags[0].name.str, "f0") &&
		       !strcmp(c->flags[7].value.str, "v7") &&
		       !strcmp(c->flags[8].raw.str, "--f8=v8") &&
		       !strcmp(c->flags[19].value.str, "v19") && c->n_args == 2,
	       "20 flags on one COPY");
	const struct kiln_df_node *e = &a->nodes[0], *v = &a->nodes[1], *o = a->nodes[2].onbuild;
	int ok = e->n_args == 70 && !strcmp(e->args[0].str, "1000") &&
		 !strcmp(e->args[69].str, "1069") && v->n_args == 120 &&
		 !strcmp(v->args[117].str, "k39") && !strcmp(v->args[118].str, "v39") &&
		 !strcmp(v->args[119].str, "=") && o && o->n_args == 36 &&
		 !strcmp(o->args[34].str, "s34") && !strcmp(o->args[35].str, "/d") &&
		 a->nodes[2].n_args == 0;
	TAP_OK(ok, "70 ports, 40 ENV pairs and an ONBUILD COPY of 36 arguments");
}

/* Every keyword, upper-cased, and near misses of each length the table has. */
static void test_keywords(void)
{
	static const char *const misses[] = { "AD",	"ADDD",	     "ARGS",	  "CM",
					      "COP",	"COPYY",     "ENTRYPOIN", "ENTRYPOINTS",
					      "EN",	"EXPOSED",   "FRO",	  "HEALTHCHEC",
					      "LABE",	"MAINTAINE", "ONBUIL",	  "RU",
					      "SHEL",	"STOPSIGNA", "USE",	  "VOLUM",
					      "WORKDI", "XYZ",	     "COPZ",	  "RUM" };
	cleanup(kiln_buf_release) struct kiln_buf in = KILN_BUF_INIT;
	int r = 0;
	for (int c = KILN_DF_UNKNOWN + 1; c < KILN_DF_CMD_MAX_ && r >= 0; c++) {
		for (const char *k = kiln_df_cmd_name((enum kiln_df_cmd) c); *k && r >= 0; k++)
			r = kiln_buf_addch(&in, (char) (*k - 'a' + 'A'));
		r = r < 0 ? r : kiln_buf_addstr(&in, " x=1\n");
	}
	for (size_t i = 0; i < KILN_ARRAY_SIZE(misses) && r >= 0; i++)
		r = kiln_buf_addf(&in, "%s x=1\n", misses[i]);
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a = r < 0 ? NULL : parse_ok(in.buf);
	if (!TAP_OK(a != NULL, "all keywords parse"))
		return;
	int ok = a->n_nodes == KILN_DF_CMD_MAX_ - 1 + KILN_ARRAY_SIZE(misses);
	for (size_t i = 0; ok && i < a->n_nodes; i++) {
		const struct kiln_df_node *n = &a->nodes[i];
		int want = i < KILN_DF_CMD_MAX_ - 1 ? (int) i + 1 : KILN_DF_UNKNOWN;
		ok = (int) n->cmd == want && n->keyword_lower.len == n->keyword.len &&
		     strlen(n->keyword_lower.str) == n->keyword_lower.len &&
		     (!want || !strcmp(n->keyword_lower.str, kiln_df_cmd_name(n->cmd)));
		if (!ok)
			tap_diag("node %zu: %s is %d", i, n->keyword.str, (int) n->cmd);
	}
	TAP_OK(ok, "each keyword is its instruction, each near miss unknown");
}

/* ---- the JSON model ---- */

static void test_json_model(void)
{
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *a = parse_ok(
		"# escape=`\nARG V=1\n# base\nFROM --platform=linux/amd64 img:$V AS Build\n"
		"RUN <<EOF\nhi\nEOF\nFROM build aS final\nONBUILD COPY --link x y\nFROM scratch\n"
		"LABEL bad=\xff\n");
	if (!TAP_OK(a != NULL, "JSON file parses"))
		return;
	json_t *j = NULL;
	TAP_INT_EQ(kiln_df_to_json(a, &j, NULL), 0, "to_json");
	if (!j)
		return;
	TAP_INT_EQ(json_integer_value(json_object_get(j, "version")), KILN_DF_JSON_VERSION,
		   "version");
	TAP_STR_EQ(json_string_value(json_object_get(j, "escape")), "`", "escape");
	TAP_STR_EQ(json_string_value(json_object_get(j, "file")), "Dockerfile", "file");
	json_t *st = json_object_get(j, "stages");
	TAP_INT_EQ(json_array_size(st), 3, "three stages");
	json_t *s0 = json_array_get(st, 0), *s1 = json_array_get(st, 1),
	       *s2 = json_array_get(st, 2);
	TAP_STR_EQ(json_string_value(json_object_get(s0, "name")), "Build",
		   "stage name as written");
	TAP_STR_EQ(json_string_value(json_object_get(s0, "base")), "img:$V", "base as written");
	TAP_STR_EQ(json_string_value(json_object_get(s0, "platform")), "linux/amd64", "platform");
	TAP_INT_EQ(json_integer_value(json_object_get(s0, "start_line")), 4, "stage start");
	TAP_INT_EQ(json_integer_value(json_object_get(s0, "end_line")), 7, "stage end");
	TAP_INT_EQ(json_array_size(json_object_get(s0, "instructions")), 2, "stage 0 instructions");
	TAP_STR_EQ(json_string_value(json_object_get(s1, "name")), "final",
		   "AS is case-insensitive");
	TAP_OK(json_is_null(json_object_get(s2, "name")), "unnamed stage");
	TAP_OK(json_is_null(json_object_get(s2, "platform")), "no platform");
	json_t *ins = json_object_get(j, "instructions");
	TAP_INT_EQ(json_array_size(ins), 7, "seven instructions");
	json_t *arg = json_array_get(ins, 0);
	TAP_OK(json_is_null(json_object_get(arg, "stage")), "global ARG has no stage");
	json_t *from = json_array_get(ins, 1);
	TAP_INT_EQ(json_integer_value(json_object_get(from, "stage")), 0, "FROM in stage 0");
	TAP_STR_EQ(json_string_value(json_object_get(
			   json_array_get(json_object_get(from, "comments"), 0), "text")),
		   "base", "preceding comment");
	json_t *flag = json_array_get(json_object_get(from, "flags"), 0);
	TAP_STR_EQ(json_string_value(json_object_get(flag, "name")), "platform", "flag name");
	json_t *run = json_array_get(ins, 2);
	json_t *hd = json_array_get(json_object_get(run, "heredocs"), 0);
	TAP_STR_EQ(json_string_value(json_object_get(hd, "content")), "hi\n", "heredoc content");
	TAP_OK(json_is_true(json_object_get(hd, "expand")), "heredoc expand");
	json_t *ob = json_array_get(ins, 4);
	json_t *trig = json_object_get(ob, "onbuild");
	TAP_STR_EQ(json_string_value(json_object_get(trig, "instruction")), "copy", "trigger");
	TAP_OK(json_is_null(
		       json_object_get(json_array_get(json_object_get(trig, "flags"), 0), "value")),
	       "bare flag value is null");
	json_t *label = json_array_get(ins, 6);
	TAP_STR_EQ(json_string_value(json_array_get(json_object_get(label, "args"), 1)),
		   "\xef\xbf\xbd", "invalid UTF-8 becomes U+FFFD");
	TAP_STR_EQ(json_string_value(json_object_get(label, "original")), "LABEL bad=\xef\xbf\xbd",
		   "also in the original text");
	json_t *d = json_array_get(json_object_get(j, "directives"), 0);
	TAP_STR_EQ(json_string_value(json_object_get(d, "name")), "escape", "directive in JSON");
	json_decref(j);
}

/* ---- the helpers on their own ---- */

static void test_json_arrays(void)
{
	static const struct {
		const char *in;
		int want; /* 1 array of strings, 0 not JSON, -1 error */
		size_t n;
	} cases[] = {
		{ "[]", 1, 0 },
		{ " \t[\"a\" , \"b\"]\n", 1, 2 },
		{ "[\"a\"] x", 0, 0 },
		{ "[\"a\", 1e400]", 0, 0 },
		{ "[\"a\", -1e400]", 0, 0 },
		{ "[\"a\", 1.7976931348623157e308]", -1, 0 },
		{ "[\"a\", 0.00000000000000000000000000000000000000000000000001e-400]", -1, 0 },
		{ "[\"\\u0000\"]", 1, 1 },
		{ "[\"a\tb\"]", 0, 0 }, /* raw control character */
		{ "[\"\\x\"]", 0, 0 },	/* bad escape */
		{ "[01]", 0, 0 },
		{ "[-]", 0, 0 },
		{ "[1.]", 0, 0 },
		{ "[tru]", 0, 0 },
		{ "[{\"a\":[1,{}]}]", -1, 0 },
		{ "[{\"a\" 1}]", 0, 0 },
		{ "{\"a\": 1}", 0, 0 },
		{ "\"a\"", 0, 0 },
		{ "", 0, 0 },
		{ "[", 0, 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_df_textv v = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_parse_json_array(cases[i].in, strlen(cases[i].in), &v, &err);
		int want = cases[i].want < 0 ? -KILN_EPARSE : cases[i].want;
		TAP_INT_EQ(r, want, "JSON array case %zu", i);
		if (r == 1)
			TAP_INT_EQ(v.len, cases[i].n, "JSON array case %zu elements", i);
		kiln_df_textv_release(&v);
		kiln_error_release(&err);
	}
	/*
	 * Go's float64 decoding fails from 2^1024 - 2^970 up (where rounding
	 * reaches +Inf), which makes the array no JSON for BuildKit.
	 */
	static const char limit[] = "17976931348623158079372897140530341507993413271003782693617377"
				    "898044496829276475094"
				    "66490179775872070963302864166928879109465555478519404026306574"
				    "886715058206819089020"
				    "00708383676273854845817711531764475730270069855571366959622842"
				    "914819860834936475292"
				    "719074168444365510704342711559699508093042880177904174497792";
	static const struct {
		const char *fmt;
		int last_delta;
		int want;
	} edges[] = {
		{ "[%s]", 0, 0 },	      /* the limit itself overflows */
		{ "[%s]", -1, -KILN_EPARSE }, /* one below does not */
		{ "[-%s.0]", 0, 0 },
		{ "[0.%se309]", 0, 0 },
		{ "[0.%se309]", -1, -KILN_EPARSE },
		{ "[0.000%se312]", 0, 0 },
		{ "[%se-1]", 0, -KILN_EPARSE },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(edges); i++) {
		char digits[sizeof(limit)];
		memcpy(digits, limit, sizeof(limit));
		digits[sizeof(limit) - 2] =
			(char) (digits[sizeof(limit) - 2] + edges[i].last_delta);
		cleanup_free char *s = kiln_asprintf(edges[i].fmt, digits);
		struct kiln_df_textv v = { 0 };
		TAP_INT_EQ(kiln_df_parse_json_array(s, strlen(s), &v, NULL), edges[i].want,
			   "float64 range edge %zu", i);
		kiln_df_textv_release(&v);
	}

	/* nesting: Go's scanner allows 10000 levels */
	for (int depth = 9999; depth <= 10000; depth++) {
		size_t len = (size_t) depth * 2;
		cleanup_free char *s = malloc(len);
		if (!s)
			abort();
		memset(s, '[', (size_t) depth);
		memset(s + depth, ']', (size_t) depth);
		struct kiln_df_textv v = { 0 };
		int r = kiln_df_parse_json_array(s, len, &v, NULL);
		TAP_INT_EQ(r, -KILN_EPARSE, "%d nested arrays are JSON (and not strings)", depth);
		kiln_df_textv_release(&v);
	}
	{
		size_t len = 10001 * 2;
		cleanup_free char *s = malloc(len);
		if (!s)
			abort();
		memset(s, '[', 10001);
		memset(s + 10001, ']', 10001);
		struct kiln_df_textv v = { 0 };
		TAP_INT_EQ(kiln_df_parse_json_array(s, len, &v, NULL), 0,
			   "10001 nested arrays are not JSON for Go");
		kiln_df_textv_release(&v);
	}
}

static void test_words(void)
{
	static const struct {
		const char *in;
		int escape;
		const char *want; /* words joined with '|' */
	} cases[] = {
		{ "a`  b", '`', "a` |b" },
		{ "a\\ b", '`', "a\\|b" },
		{ "'a\\' b'", '\\', "'a\\'|b'" },
		{ "\"a\\\" b\" c", '\\', "\"a\\\" b\"|c" },
		{ "a\\", '\\', "a" },
		{ "\"\"", '\\', "\"\"" },
		{ "a\xc2\xa0"
		  "b",
		  '\\', "a|b" },
		{ "x\xff", '\\', "x\xef\xbf\xbd" },
		/* plain words are copied from the input; the others are built */
		{ "abc  d\te\n", '\\', "abc|d|e" },
		{ "x=1 y=\"2 3\" z", '\\', "x=1|y=\"2 3\"|z" },
		{ "ab'c d' e", '\\', "ab'c d'|e" },
		{ "ab\\ c d", '\\', "ab\\ c|d" },
		{ "ab\xc2\xa0"
		  "cd e",
		  '\\', "ab|cd|e" },
		{ "ab\xc3\xa9 c", '\\', "ab\xc3\xa9|c" },
		/* a plain run stops at the escape only: the other one is plain,
		 * and an escape that is neither is compared apart */
		{ "ab`c d", '\\', "ab`c|d" },
		{ "ab\\c d`e f", '`', "ab\\c|d`e|f" },
		{ "ab^ c d", '^', "ab^ c|d" },
		{ "a\\b`c d", '^', "a\\b`c|d" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_df_textv v = { 0 };
		cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
		int r = kiln_df_parse_words(cases[i].in, strlen(cases[i].in), cases[i].escape, &v,
					    NULL);
		for (size_t k = 0; r == 0 && k < v.len; k++)
			if ((k && kiln_buf_addch(&b, '|') < 0) ||
			    kiln_buf_add(&b, v.items[k].str, v.items[k].len) < 0)
				r = -1;
		TAP_STR_EQ(b.buf, cases[i].want, "parseWords case %zu", i);
		kiln_df_textv_release(&v);
	}
}

static void test_heredoc_helpers(void)
{
	static const struct {
		const char *word;
		int want; /* 1, 0, -1 */
		const char *name;
		int expand, chomp;
	} cases[] = {
		{ "<<EOF", 1, "EOF", 1, 0 },
		{ "<<-'E O'", 1, "E O", 0, 1 },
		{ "<<\xef\xbb\xbf"
		  "EOF",
		  1, "EOF", 1, 0 }, /* the lexer skips a leading BOM */
		{ "<<$X", 1, "$X", 1, 0 },
		{ "<<${X:-y}", 1, "${X:-y}", 1, 0 },
		{ "<<${X//a/b}", 1, "${X/a/b}", 1, 0 },
		{ "<<${}", -1, NULL, 0, 0 },
		{ "<<${X", -1, NULL, 0, 0 },
		{ "<<${X:#a}", -1, NULL, 0, 0 },
		{ "<<E\\", 1, "E", 1, 0 },
		{ "<<\"a\\\"b\"", 1, "a\"b", 0, 0 },
		{ "<<<<", 0, NULL, 0, 0 },
		{ "2<<-x", 1, "x", 1, 1 },
		/* runs of plain bytes around stop runes, quotes and escapes */
		{ "<<AB}CD", 1, "AB}CD", 1, 0 },
		{ "<<${X:-ab}cd}", 1, "${X:-ab}cd}", 1, 0 },
		{ "<<ab\"c d\"e\\fg", 1, "abc defg", 0, 0 },
		{ "<<E\x7f~", 1, "E\x7f~", 1, 0 },
		{ "<<\xc3\xa9t\xc3\xa9", 1, "\xc3\xa9t\xc3\xa9", 1, 0 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_df_heredocs h = { 0 };
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_df_parse_heredoc(cases[i].word, strlen(cases[i].word), &h, &err);
		int want = cases[i].want < 0 ? -KILN_EPARSE : cases[i].want;
		TAP_INT_EQ(r, want, "ParseHeredoc %s", cases[i].word);
		if (r == 1 && cases[i].name) {
			TAP_STR_EQ(h.items[0].name.str, cases[i].name, "ParseHeredoc %s name",
				   cases[i].word);
			TAP_INT_EQ(h.items[0].expand, cases[i].expand, "ParseHeredoc %s expand",
				   cases[i].word);
			TAP_INT_EQ(h.items[0].chomp, cases[i].chomp, "ParseHeredoc %s chomp",
				   cases[i].word);
		}
		if (r < 0)
			TAP_OK(err.msg && strncmp(err.msg, "failed to process ", 18) == 0,
			       "ParseHeredoc %s error text: %s", cases[i].word, err.msg);
		kiln_df_heredocs_release(&h);
		kiln_error_release(&err);
	}

	static const struct {
		const char *line, *want;
	} lines[] = {
		{ "RUN <<  EOF  > foo", "EOF" },
		{ "RUN <<A cat <<'B' | x <<-\"C\"", "A,B,C" },
		{ "RUN echo a<<EOF", "" },
		{ "RUN <<EOF '", "" }, /* the lexer fails: no heredocs */
		{ "RUN <<EOF \\'", "EOF" },
		{ "COPY --from=x <<A /a", "A" },
		{ "RUN <<EOF~ cat\t<<X\v<<Y", "EOF~,X,Y" },
		{ "RUN x=${a:-<<B} <<C", "C" },
		/* lines of plain bytes, white space and '<' only */
		{ "RUN << \t\rA b", "A" },
		{ "RUN <<<B <<-D c<<E <<\vF <<", "D" },
		{ "ADD\f<<A<<B\x7f /x", "" },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(lines); i++) {
		struct kiln_df_heredocs h = { 0 };
		cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
		int r = kiln_df_heredocs_from_line(lines[i].line, strlen(lines[i].line), &h, NULL);
		for (size_t k = 0; r == 0 && k < h.len; k++)
			if ((k && kiln_buf_addch(&b, ',') < 0) ||
			    kiln_buf_add(&b, h.items[k].name.str, h.items[k].name.len) < 0)
				r = -1;
		TAP_STR_EQ(b.buf, lines[i].want, "heredocsFromLine %s", lines[i].line);
		kiln_df_heredocs_release(&h);
	}

	/* ${...} nesting: fine when reasonable, bounded (no crash) when hostile */
	static const struct {
		int depth;
		const char *want;
	} nest[] = { { 100, "EOF" }, { 256, "EOF" }, { 257, "" }, { 200000, "" } };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(nest); i++) {
		struct kiln_buf line = KILN_BUF_INIT;
		int r = kiln_buf_addstr(&line, "RUN <<EOF echo ");
		for (int k = 0; r == 0 && k < nest[i].depth; k++)
			r = kiln_buf_addstr(&line, "${a:-");
		for (int k = 0; r == 0 && k < nest[i].depth; k++)
			r = kiln_buf_addch(&line, '}');
		if (r < 0)
			abort();
		struct kiln_df_heredocs h = { 0 };
		r = kiln_df_heredocs_from_line(line.buf, line.len, &h, NULL);
		TAP_INT_EQ(r, 0, "%d nested ${...}: no error", nest[i].depth);
		TAP_STR_EQ(h.len ? h.items[0].name.str : "", nest[i].want,
			   "%d nested ${...}: heredocs", nest[i].depth);
		kiln_df_heredocs_release(&h);
		/* the same as a file, its line split by continuations every 4 KiB */
		struct kiln_buf file = KILN_BUF_INIT;
		for (size_t off = 0; r == 0 && off < line.len; off += 4096) {
			size_t n = line.len - off < 4096 ? line.len - off : 4096;
			r = kiln_buf_add(&file, line.buf + off, n);
			if (r == 0 && off + n < line.len)
				r = kiln_buf_addstr(&file, "\\\n");
		}
		if (r < 0 || kiln_buf_addstr(&file, "\nEOF\n") < 0)
			abort();
		struct kiln_df_ast *ast = NULL;
		r = kiln_df_parse(file.buf, file.len, NULL, &ast, NULL);
		kiln_buf_release(&file);
		TAP_INT_EQ(r, 0, "%d nested ${...}: the file parses", nest[i].depth);
		TAP_INT_EQ(ast ? (long long) ast->n_nodes : -1, *nest[i].want ? 1 : 2,
			   "%d nested ${...}: instructions", nest[i].depth);
		kiln_df_ast_free(ast);
		kiln_buf_release(&line);
	}

	cleanup(kiln_buf_release) struct kiln_buf c = KILN_BUF_INIT;
	TAP_INT_EQ(kiln_df_chomp_heredoc("\t\ta\n \tb\n\t\n\tc", 12, &c), 0, "chomp");
	TAP_STR_EQ(c.buf, "a\n \tb\n\nc", "chomp removes only leading tabs");
}

static void test_name_val(void)
{
	struct kiln_df_textv v = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_INT_EQ(kiln_df_parse_name_val("LABEL", "a  b  c", 7, '\\', &v, NULL), 0,
		   "legacy LABEL");
	TAP_INT_EQ(v.len, 3, "legacy gives a triple");
	TAP_STR_EQ(v.len == 3 ? v.items[1].str : NULL, "b  c", "legacy value is the rest");
	kiln_df_textv_release(&v);
	TAP_INT_EQ(kiln_df_parse_name_val("LABEL", "x", 1, '\\', &v, &err), -KILN_EPARSE,
		   "LABEL x fails");
	TAP_STR_EQ(err.msg, "LABEL must have two arguments", "with LABEL in the message");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_df_parse_name_val("ENV", "", 0, '\\', &v, NULL), 0, "nothing is no error");
	TAP_INT_EQ(v.len, 0, "and no pairs");
	kiln_df_textv_release(&v);
	TAP_INT_EQ(kiln_df_parse_name_val("ENV", "a=\"b`\" c\"", 9, '`', &v, NULL), 0,
		   "a backtick-escaped quote inside quotes");
	TAP_STR_EQ(v.len == 3 ? v.items[1].str : NULL, "\"b`\" c\"",
		   "value keeps quotes and escape");
	kiln_df_textv_release(&v);
}

static void test_directive_helpers(void)
{
	static const struct {
		const char *in;
		int found;
		const char *value, *cmdline;
		int line;
	} cases[] = {
		{ "# syntax=a b c\n", 1, "a", "a b c", 1 },
		{ "#syntax= \n", 1, "", " ", 1 },
		{ "#syntax=\n", 0, NULL, NULL, 0 },
		{ "  # syntax=a\n", 0, NULL, NULL, 0 },
		{ "# escape=`\n# syntax=x\r\n", 1, "x", "x", 2 },
		{ "# syntax=x\n# syntax=y\n", 1, "x", "x", 1 },
		{ "#!/bin/sh\n{\"syntax\": \"j\"}", 1, "j", "j", 1 },
		{ "{\"syntax\": 1, \"syntax\": \"late\"}", 1, "late", "late", 0 },
		{ "{\"syntax\": \"early\", \"syntax\": 2}", 0, NULL, NULL, 0 },
		{ "{\"syntax\": \"j\", \"n\": 1e999}", 0, NULL, NULL, 0 },
		{ "[\"syntax\"]", 0, NULL, NULL, 0 },
		{ "// syntax = y\n", 1, "y", "y", 1 },
	};
	for (size_t i = 0; i < KILN_ARRAY_SIZE(cases); i++) {
		struct kiln_df_syntax_directive d = { 0 };
		int r = kiln_df_detect_syntax(cases[i].in, strlen(cases[i].in), &d, NULL);
		TAP_INT_EQ(r, cases[i].found, "DetectSyntax case %zu", i);
		if (r == 1) {
			TAP_STR_EQ(d.value.str, cases[i].value, "DetectSyntax case %zu value", i);
			TAP_STR_EQ(d.cmdline.str, cases[i].cmdline, "DetectSyntax case %zu cmdline",
				   i);
			TAP_INT_EQ(d.line, cases[i].line, "DetectSyntax case %zu line", i);
		}
		kiln_df_syntax_directive_release(&d);
	}
	struct kiln_df_directives all = { 0 };
	struct kiln_error err = KILN_ERROR_INIT;
	static const char three[] = "# syntax=a\n# check=b\n# escape=c\nFROM x";
	TAP_INT_EQ(kiln_df_directives_parse_all(three, strlen(three), &all, NULL), 0, "ParseAll");
	TAP_INT_EQ(all.len, 3, "ParseAll finds the three");
	kiln_df_directives_release(&all);
	TAP_INT_EQ(kiln_df_directives_parse_all("# syntax=a\n# SYNTAX=b\n", 22, &all, &err),
		   -KILN_EPARSE, "ParseAll rejects a repeat");
	TAP_STR_EQ(err.msg, "only one syntax parser directive can be used", "repeat message");
	kiln_error_release(&err);
}

/*
 * Allocation failures: in a -Dfailmalloc=true build, fail the Nth allocation
 * for every N a rich parse makes, and require a clean -KILN_ENOMEM (ASan
 * checks that nothing leaks); the same for the dump and the JSON model.
 */
static void test_failmalloc(void)
{
#ifdef KILN_FAILMALLOC
	static const char df[] =
		"# syntax=x\n# c\nARG A=1\nFROM --platform=p b AS c\nRUN a \\\n\n b\n"
		"COPY <<X <<'Y' /d\nx\nX\ny\nY\nENV a=b c=\"d\"\nENV k v w\nLABEL l=\"m n\"\n"
		"CMD [\"a\", \"\\u00e9\"]\nONBUILD ONBUILD RUN <<Z\nz\nZ\nHEALTHCHECK CMD [\"h\"]\n"
		"WOR\xe2\x84\xaa"
		"DIR /w\nEXPOSE 1 2\n";
	int failures = 0, oks = 0, bad = 0;
	for (long n = 0; n < 100000; n++) {
		struct kiln_df_ast *ast = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		kiln_alloc_fail_after(n);
		int r = kiln_df_parse(df, sizeof(df) - 1, NULL, &ast, &err);
		if (r == 0) {
			struct kiln_buf out = KILN_BUF_INIT;
			int d = kiln_df_dump(ast, &out);
			json_t *j = NULL;
			int js = kiln_df_to_json(ast, &j, NULL);
			kiln_alloc_fail_after(-1);
			bad += (d < 0 && d != -KILN_ENOMEM) || (js < 0 && js != -KILN_ENOMEM);
			json_decref(j);
			kiln_buf_release(&out);
			kiln_df_ast_free(ast);
			if (d == 0 && js == 0) {
				oks++;
				break; /* n is past the last allocation */
			}
			failures++;
			continue;
		}
		kiln_alloc_fail_after(-1);
		bad += r != -KILN_ENOMEM || err.code != KILN_ENOMEM || ast != NULL;
		failures++;
		kiln_error_release(&err);
	}
	TAP_INT_EQ(bad, 0, "every failed allocation gives -KILN_ENOMEM (%d tried)", failures);
	TAP_INT_EQ(oks, 1, "the parse succeeds once allocations do");
#else
	tap_skip("not a -Dfailmalloc=true build", "allocation failures");
#endif
}

int main(void)
{
	test_dumps();
	test_errors();
	test_limits();
	test_comments();
	test_warnings();
	test_heredocs();
	test_nodes();
	test_keywords();
	test_long_lists();
	test_json_model();
	test_json_arrays();
	test_words();
	test_heredoc_helpers();
	test_name_val();
	test_directive_helpers();
	test_failmalloc();
	return tap_done();
}
