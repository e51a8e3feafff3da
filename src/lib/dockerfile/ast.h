/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"

/*
 * The Dockerfile AST: what BuildKit's parser (frontend/dockerfile/parser)
 * produces, in C. One node per instruction, in source order, with the
 * arguments already split the way BuildKit splits them for that instruction,
 * plus everything later stages need to report well: lines, the text as
 * written, flags, heredoc bodies, comments and parser directives.
 *
 * No variable is expanded here and no instruction is validated beyond what
 * BuildKit's parser checks (ENV/LABEL pairs, JSON arrays of strings,
 * directives, heredoc terminators, line length). Unknown keywords are kept.
 *
 * Memory: one parse owns everything it returns; kiln_df_ast_free() releases
 * it all. Every pointer in the tree stays valid until then.
 */

/**
 * A byte string. `str` is NUL-terminated, but may itself contain NUL bytes
 * (a Dockerfile may hold them, and JSON "\u0000" decodes to one), so `len`
 * is the length. Consumers that need C strings should reject
 * `strlen(str) != len`.
 */
struct kiln_df_text {
	const char *str;
	size_t len;
};

/** Instructions BuildKit's parser dispatches on (lower-cased keyword). */
enum kiln_df_cmd {
	KILN_DF_UNKNOWN = 0, /* any other keyword: kept, with one empty argument */
	KILN_DF_ADD,
	KILN_DF_ARG,
	KILN_DF_CMD,
	KILN_DF_COPY,
	KILN_DF_ENTRYPOINT,
	KILN_DF_ENV,
	KILN_DF_EXPOSE,
	KILN_DF_FROM,
	KILN_DF_HEALTHCHECK,
	KILN_DF_LABEL,
	KILN_DF_MAINTAINER,
	KILN_DF_ONBUILD,
	KILN_DF_RUN,
	KILN_DF_SHELL,
	KILN_DF_STOPSIGNAL,
	KILN_DF_USER,
	KILN_DF_VOLUME,
	KILN_DF_WORKDIR,
	KILN_DF_CMD_MAX_
};

/** "run" for KILN_DF_RUN, ...; NULL for KILN_DF_UNKNOWN or out of range. */
const char *kiln_df_cmd_name(enum kiln_df_cmd cmd);

/**
 * A flag word before the arguments (`--from=build`, `--link`). `raw` is the
 * word as BuildKit records it: starting with "--", quotes removed and
 * backslash escapes applied. `name`/`value` split it at the first '='
 * (BuildKit's BFlags rule); `has_value` is 0 for a bare `--link`.
 */
struct kiln_df_flag {
	struct kiln_df_text raw;
	struct kiln_df_text name;
	struct kiln_df_text value;
	int has_value;
};

/**
 * A here-document attached to RUN, COPY or ADD (or to an ONBUILD whose
 * trigger is one of those). `content` is the body exactly as read, every
 * line with its line ending, before any tab chomping (apply
 * kiln_df_chomp_heredoc() when `chomp` is set). `expand` is 1 when the
 * delimiter word was not quoted at all (the body is subject to variable
 * expansion). `fd` is the descriptor prefix (`3<<EOF` gives 3; 0 when
 * absent). Lines: the first body line and the terminator line.
 */
struct kiln_df_heredoc {
	struct kiln_df_text name;
	struct kiln_df_text content;
	uint64_t fd;
	int expand;
	int chomp;
	int start_line;
	int end_line;
};

/** A comment line: the text after '#', white space trimmed, and its line. */
struct kiln_df_comment {
	struct kiln_df_text text;
	int line;
};

/**
 * One instruction.
 *
 * `keyword` is the word as written (`Run`), `keyword_lower` its Go
 * strings.ToLower form, which is what BuildKit dispatches on and dumps.
 * `original` is the instruction text after line continuations were joined
 * (BuildKit's Node.Original): continuation characters, comment lines and
 * empty lines inside it removed, leading white space of the first line
 * removed.
 *
 * `args` are BuildKit's argument nodes for the instruction (see
 * docs/internals/dockerfile-parser.md for the per-instruction table): for
 * ENV and LABEL they come in (key, value, separator) triples where the
 * separator is "=" for `k=v` words and "" for the legacy `KEY value` form.
 * `json_form` is 1 when the arguments came from a JSON array (exec form).
 *
 * ONBUILD: `onbuild` is the trigger instruction (itself a node, nested
 * again for `ONBUILD ONBUILD ...`, which BuildKit only rejects when it
 * builds the typed instruction), `args` is empty. Heredocs of a trigger
 * belong to the ONBUILD node, as in BuildKit.
 *
 * `comments` are the comment lines BuildKit attaches to the instruction
 * (Node.PrevComment): those since the previous instruction, minus parser
 * directives, where an empty `#` line starts the list afresh. Blank lines do
 * not break it; use the line numbers to ask for adjacency.
 */
struct kiln_df_node {
	enum kiln_df_cmd cmd;
	struct kiln_df_text keyword;
	struct kiln_df_text keyword_lower;
	struct kiln_df_text original;
	int start_line;
	int end_line;

	struct kiln_df_flag *flags;
	size_t n_flags;

	struct kiln_df_text *args;
	size_t n_args;
	int json_form;
	/* 1: no argument or flag here (or in the trigger) holds a NUL byte, as
	 * the file held none and no JSON was decoded; 0: one may */
	int nul_free;

	struct kiln_df_node *onbuild;

	struct kiln_df_heredoc *heredocs;
	size_t n_heredocs;

	struct kiln_df_comment *comments;
	size_t n_comments;
};

/** A parser directive (`# syntax=...`, `# escape=...`, `# check=...`). */
struct kiln_df_directive {
	struct kiln_df_text name; /* lower-cased: "syntax", "escape" or "check" */
	struct kiln_df_text value;
	int line;
};

/**
 * A parse warning. BuildKit emits one per instruction that has empty lines
 * inside its continuation: `short_text` is "Empty continuation line found
 * in: <instruction>", `detail` and `url` as BuildKit gives them. `line` is
 * BuildKit's location (the instruction's last line); `start_line` its first.
 */
struct kiln_df_warning {
	struct kiln_df_text short_text;
	struct kiln_df_text detail;
	struct kiln_df_text url;
	int start_line;
	int line;
};

/** A parsed Dockerfile. Free with kiln_df_ast_free(). */
struct kiln_df_ast {
	struct kiln_df_text filename; /* as given to kiln_df_parse() */
	int escape;		      /* '\\' or '`' */
	int start_line;		      /* first instruction line (1-based) */
	int end_line;		      /* last line of the last instruction */
	int n_lines;		      /* lines in the file */

	struct kiln_df_node *nodes;
	size_t n_nodes;

	struct kiln_df_directive *directives;
	size_t n_directives;

	struct kiln_df_warning *warnings;
	size_t n_warnings;

	/* every comment line in the file (heredoc bodies excepted), in order */
	struct kiln_df_comment *comments;
	size_t n_comments;

	struct kiln_arena *arena_; /* private */
	int arena_borrowed_;	   /* private: arena_ is the caller's (kiln_df_parse_in) */
};

/* Limits on hostile input (KILN_ELIMIT). The line limit is BuildKit's. */
#define KILN_DF_MAX_LINE 65535		     /* bytes per physical line, without its '\n' */
#define KILN_DF_MAX_FILE ((size_t) 16 << 20) /* bytes per Dockerfile */
#define KILN_DF_MAX_INSTRUCTIONS 100000
#define KILN_DF_MAX_ONBUILD_DEPTH 16

/**
 * Parse a Dockerfile held in data[0..len) (need not be NUL-terminated).
 * `filename` is how errors name the file ("Dockerfile", "sub/app.Dockerfile");
 * NULL means "Dockerfile".
 *
 * Errors (with err->pos.file/line set; err->pos.end_line for instruction
 * errors), in BuildKit's wording:
 *   -KILN_EPARSE  "file with no instructions", "ENV must have two arguments",
 *                 "when using JSON array syntax, arrays must be comprised of
 *                 strings only", "unterminated heredoc", "only one escape
 *                 parser directive can be used", "invalid escape token ...",
 *                 "Syntax error - can't find = in ...", heredoc quoting errors
 *   -KILN_ELIMIT  "dockerfile line greater than max allowed size of 65535",
 *                 file size, instruction count, ONBUILD nesting
 *   -KILN_ENOMEM
 * Never crashes, whatever the bytes.
 */
int kiln_df_parse(const char *data, size_t len, const char *filename, struct kiln_df_ast **ret,
		  struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * kiln_df_parse() into the caller's arena `a`, which must be empty (new or
 * just reset) and outlive the AST: for a caller that parses file after file
 * on one thread, resetting one arena between them, spares a chunk malloc()ed
 * and freed per file. The typed models built from this AST
 * (kiln_df_model_new() and the like) live in `a` too, so the AST may not be
 * shared between threads while they are built. On error the arena is reset
 * (empty again). kiln_df_ast_free() still frees what is not the arena's, and
 * may run after the caller reset `a`.
 */
int kiln_df_parse_in(struct kiln_arena *a, const char *data, size_t len, const char *filename,
		     struct kiln_df_ast **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

void kiln_df_ast_free(struct kiln_df_ast *ast);
KILN_DEFINE_CLEANUP(struct kiln_df_ast, kiln_df_ast_free)

/**
 * Append BuildKit's AST dump (Node.Dump() of the root, the format of
 * BuildKit's parser test files) to out: one `(keyword [flags] args...)`
 * line per instruction, each ending in '\n'.
 */
int kiln_df_dump(const struct kiln_df_ast *ast, struct kiln_buf *out)
	__attribute__((warn_unused_result));

/** The dump of one node, without parentheses or newline (Node.Dump()). */
int kiln_df_dump_node(const struct kiln_df_node *node, struct kiln_buf *out)
	__attribute__((warn_unused_result));

/**
 * The JSON model of the file (docs/dockerfile-json.md), as a jansson object
 * the caller owns (json_decref). Declared with a forward type so that this
 * header does not pull in jansson.
 */
struct json_t;
int kiln_df_to_json(const struct kiln_df_ast *ast, struct json_t **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** The JSON model's version; bumped when a field changes meaning or goes. */
#define KILN_DF_JSON_VERSION 1
