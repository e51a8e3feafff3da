/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <string.h>

#include "base/buf.h"
#include "base/strv.h"
#include "checks-internal.h"
#include "graph.h"
#include "model-internal.h"
#include "shell/shell.h"

/*
 * The graph walk's private state, shared by graph.c (global scope, FROM
 * lines, stages, edges, schedule) and dispatch.c (a stage's instructions).
 */

/** An ARG declared in a stage (BuildKit's dispatchState.buildArgs); strings of the model or
 * the graph's arena. */
struct df_buildarg {
	const char *key;
	const char *value; /* NULL: declared without a value */
};

/** A command of a stage: an instruction and the stages it reads (toCommand). */
struct df_cmd {
	const struct kiln_df_instr *instr;
	int onbuild;	     /* replayed ONBUILD trigger */
	long source;	     /* COPY --from: stage index, -1 none, -2 image or scratch */
	long *mount_sources; /* RUN: per mount spec, as above */
	size_t n_mounts;
};

/** BuildKit's dispatchState, for one stage. */
struct df_state {
	struct df_cmd *cmds;
	size_t n_cmds, alloc_cmds;
	int triggers_added; /* onbuild triggers of the base prepended */

	/* dispatch */
	struct kiln_shell_envlist *env;
	struct df_buildarg *args;
	size_t n_args, alloc_args;
	struct df_set arg_env; /* names whose env value an ARG set (value 1) */
	const char *workdir; /* the graph's arena, as user */
	const char *user;
	struct kiln_strv shell;
	int workdir_set;
	int cmd_set, entrypoint_set, health_set;
	int cmd_line[2], entrypoint_line[2], health_line[2];
	const struct kiln_df_node *cmd_node, *entrypoint_node, *health_node;
	struct kiln_strv onbuild; /* image config ONBUILD triggers of an image base */
	int dispatched;
};

struct df_graph {
	struct kiln_df_graph *g;
	const struct kiln_df_graph_opts *opts;
	const struct kiln_df_hooks *hooks;
	struct kiln_df_lint *lint;
	struct kiln_arena *a;
	const char *file;
	struct kiln_shell_lex lex;
	const unsigned char *plain; /* df_plain_table(lex.escape) */

	const struct kiln_shell_envlist *build_args; /* --build-arg, from the defaults */
	struct kiln_df_graph_defaults *own_defaults; /* made for this graph: no opts->defaults */
	struct kiln_shell_envlist *global;     /* globalArgs */
	const struct kiln_shell_envlist *path_env; /* PATH alone, the defaults': a stage's start */
	const char **meta_keys;		       /* global ARG names (the model's) */
	size_t n_meta_keys;
	struct df_set consumed;		       /* every ARG name declared and dispatched */
	struct df_state *states;
	size_t n_named; /* names added to `names` so far */
	/* per stage: a base reference the reference_check hook accepted while
	 * checking default ARG values (the same string is not checked twice) */
	const char **ref_ok;
	int checks_only;       /* KILN_DF_GRAPH_CHECKS_ONLY: no step records */
	/* per stage: its FROM image expanded by df_lint_default_args with the
	 * values df_stage_from would use, taken by it (NULL: none kept): the
	 * names in from_exp, the word in from_word (in the arena; NULL: none) */
	struct kiln_shell_result *from_exp;
	const char **from_word;
	/* df_lint_default_args ran the walk's own buildMetaArgs (no build arg
	 * names a global ARG: its scope is the walk's), not to be run again */
	int meta_done;
	struct kiln_buf xbuf; /* dispatch's expansions: one buffer reused (df_expand_arena) */

	/* ONBUILD triggers re-parsed from text (they own their AST) */
	struct kiln_df_ast **trigger_asts;
	size_t n_trigger_asts;
	struct kiln_df_model *trigger_model;

	/* stage names (lower-cased) -> stage indexes: the caller's table of the
	 * model's names (df_graph_new_in) or own_names, made as stages are read */
	const struct df_names *names;
	/* last, with its inline table not zeroed up front (df_graph_new_in):
	 * df_names_init sets what it reads */
	struct df_names own_names;
};

/**
 * Whether `word` is its own expansion under `lex`: printable ASCII without
 * blanks, '$', quotes or the escape character, which the shell lexer copies
 * byte for byte (one word, no variables). Most words of a Dockerfile are.
 * 0 under an escape character other than '\\' and '`' (the lexer decides).
 */
extern const unsigned char df_special_backslash[256], df_special_backtick[256];
/* df_word_plain's table for an escape character: NULL for one the lexer must judge */
static inline const unsigned char *df_plain_table(char escape)
{
	unsigned char esc = (unsigned char) (escape ? escape : '\\');
	return esc == '\\' ? df_special_backslash : esc == '`' ? df_special_backtick : NULL;
}

/* df_word_plain with the table chosen (df_plain_table): inline, for nearly every word */
static inline int df_word_plain_in(const unsigned char *t, const char *word)
{
	if (!t || !*word)
		return 0; /* another escape character: let the lexer decide */
	const unsigned char *p = (const unsigned char *) word;
	/* four bytes a step: no byte is read past the first special one (NUL is) */
	while (!t[p[0]]) {
		if (t[p[1]]) {
			p += 1;
			break;
		}
		if (t[p[2]]) {
			p += 2;
			break;
		}
		if (t[p[3]]) {
			p += 3;
			break;
		}
		p += 4;
	}
	return *p == '\0';
}

static inline int df_word_plain(const struct kiln_shell_lex *lex, const char *word)
{
	return df_word_plain_in(df_plain_table(lex->escape), word);
}

/**
 * kiln_df_graph_new, the graph allocated from `in` (NULL: its own arena):
 * kiln_df_graph_free then leaves `in`, which must outlive the graph, as it is.
 * `names`, when not NULL, is a table of every stage's name added in stage
 * order (an empty one, cap 0, when no stage is named), which outlives the walk.
 */
int df_graph_new_in(const struct kiln_df_model *model, struct kiln_arena *in,
		    const struct df_names *names, const struct kiln_df_graph_opts *opts,
		    struct kiln_df_graph **ret, struct kiln_error *err);

/**
 * Expand one word with the given variables (BuildKit's ProcessWordWithMatches):
 * res->word and the names; res->words stays empty. A checks-only walk reads
 * no matched names but a platform's: res->matched stays empty there.
 */
int df_expand(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
	      const struct kiln_shell_envlist *env, struct kiln_shell_result *res,
	      struct kiln_error *err);
/**
 * df_expand of a word df_word_plain() rejects under `lex`, the word put in
 * *ret in the graph's arena (res->word stays NULL).
 */
int df_expand_arena(struct df_graph *gr, const struct kiln_shell_lex *lex, const char *word,
		    const struct kiln_shell_envlist *env, struct kiln_shell_result *res,
		    const char **ret, struct kiln_error *err);
/** df_expand with the graph's lexer and res->matched in every walk. */
int df_expand_matched(struct df_graph *gr, const char *word, const struct kiln_shell_envlist *env,
		      struct kiln_shell_result *res, struct kiln_error *err);
/** The same with the graph's lexer and res->words split (ProcessWordsWithMatches). */
int df_expand_words(struct df_graph *gr, const char *word, const struct kiln_shell_envlist *env,
		    struct kiln_shell_result *res, struct kiln_error *err);

/* the PATH a stage's environment gets when it has none */
#define DF_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* BuildKit args that never reach the environment (nonEnvArgs) */
static inline int df_non_env_arg(const char *k)
{
	return !strcmp(k, "BUILDKIT_SBOM_SCAN_CONTEXT") || !strcmp(k, "BUILDKIT_SBOM_SCAN_STAGE");
}

/* kiln_shell_result_release, with no call for a result left empty (most of a walk's) */
static inline void df_result_release(struct kiln_shell_result *r)
{
	if (r->word || r->words.items || r->matched.items || r->unmatched.items)
		kiln_shell_result_release(r);
}

/* What one instruction's expansions collect (dispatch.c, expand.c). */
struct df_xctx {
	struct df_graph *gr;
	struct df_state *s;
	const struct kiln_df_instr *in;
	struct kiln_strv used;	/* "K=V" of ARG-scoped variables used */
	struct kiln_strv unset; /* names used that had no value */
	int raw;		/* heredoc bodies: quotes kept, backslash escapes */
};

/** A build's record of the ARG-scoped names an expansion matched (none in a checks-only walk). */
int df_note_used(struct df_xctx *x, const struct kiln_strv *matched);
/** A build's record of the names an expansion left unset (none in a checks-only walk). */
int df_note_unset(struct df_xctx *x, const struct kiln_strv *unmatched);
/** df_xword's expansion of a word that is not plain, out of line. */
int df_xword_expand(struct df_xctx *x, const char *word, const char **ret,
		    struct kiln_error *err);

/*
 * The single-word expander of dispatch(): expand, report unmatched names.
 * *ret is `word` itself when there is nothing to expand (the model's and
 * the AST's strings outlive the graph), else a copy in the graph's arena.
 */
static inline int df_xword(struct df_xctx *x, const char *word, const char **ret,
			   struct kiln_error *err)
{
	/* the heredoc lexer's escape is '\\': its table */
	if (!*word || df_word_plain_in(x->raw ? df_special_backslash : x->gr->plain, word)) {
		*ret = word; /* "" expands to "" */
		return 0;
	}
	return df_xword_expand(x, word, ret, err);
}

/** df_xword for df_mount_parse (`ud` is the df_xctx). */
int df_xword_mount(void *ud, const char *word, const char **ret, struct kiln_error *err);
/** Expand a list of words; a new array only once a word expands to another string. */
int df_xwords(struct df_xctx *x, struct kiln_df_words *w, struct kiln_error *err);

/** UndefinedVar for the unmatched names of an expansion (reportUnmatchedVariables). */
int df_report_unmatched(struct df_graph *gr, struct df_state *st, const struct kiln_df_instr *in,
			const struct kiln_strv *unmatched);

/** Dispatch one stage: its ONBUILD replays and instructions, expanded. */
int df_dispatch_stage(struct df_graph *gr, size_t index, struct kiln_error *err);

/** Locate an error at an instruction. */
int df_fail_at(struct df_graph *gr, struct kiln_error *err, int start, int end, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));

/** A copy of `src` in the graph's arena (NULL parts become ""); -KILN_ENOMEM. */
int df_platform_copy(struct df_graph *gr, const struct kiln_df_platform *src,
		     struct kiln_df_platform *ret);

/** "NAME=VALUE" into an arena words list from a heap vector. */
int df_words_set(struct df_graph *gr, const struct kiln_strv *v, struct kiln_df_words *ret);

/* ---- scope.c: the global scope and the FROM lines ---- */

/** "K=V" of a variable list into an arena words list. */
int df_env_words(struct df_graph *gr, const struct kiln_shell_envlist *l,
		 struct kiln_df_words *ret);
/** A run's shared defaults (opts->defaults) as the graph's platforms, build args and
 * gr->global (the predefined args but TARGETSTAGE). */
int df_defaults_use(struct df_graph *gr, const struct kiln_df_graph_defaults *d,
		    struct kiln_error *err);
/** The predefined args (build args replacing them) into gr->global. */
int df_default_args(struct df_graph *gr, const char *target, struct kiln_error *err);
/** The global ARGs into `args`, with build args or not; their names into gr->meta_keys when
 *  `declare`. */
int df_meta_args(struct df_graph *gr, struct kiln_shell_envlist *args, int with_build_args,
		 int declare, struct kiln_error *err);
/** The reference_check hook, or 0 without one. */
int df_ref_check(struct df_graph *gr, const char *ref, struct kiln_error *err);
/** InvalidDefaultArgInFrom: every FROM expanded with default values only. */
int df_lint_default_args(struct df_graph *gr, struct kiln_error *err);
/** A stage's FROM line: base and platform expanded, its FROM-line checks. */
int df_stage_from(struct df_graph *gr, size_t i, struct kiln_error *err);
/** Whether the base is an earlier stage, scratch or an image. */
void df_stage_base(struct df_graph *gr, size_t i);

/* ---- sources.c: paths and sources ---- */

/** Go's path.Clean and path.Join (cleaned), in the graph's arena; NULL on ENOMEM. */
char *df_path_clean(struct df_graph *gr, const char *p);
char *df_path_join(struct df_graph *gr, const char *a, const char *b);
/** Whether Go's path.Clean returns absolute `p` as it is (no copy needed). */
int df_path_is_clean(const char *p);
/** pathRelativeToWorkingDir: a COPY destination made absolute, trailing slash kept. */
char *df_copy_dest(struct df_graph *gr, const char *workdir, const char *p);
/** dfgitutil's git references (scp-like, git://, ssh://, *.git URLs). */
int df_is_git_source(const char *s);
/** http(s) URLs that are not git references. */
int df_is_http_source(const char *s);
/** go-digest's Parse: 0, or -KILN_EPARSE with its message. */
int df_digest_check(const char *s, struct kiln_error *err);

/** The secrets rule of ARG and ENV keys (validateNoSecretKey). */
int df_check_secret_key(struct df_graph *gr, const char *instr, const char *key,
			const struct kiln_df_instr *in);
