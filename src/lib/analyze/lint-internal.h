/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "analyze/lint.h"
#include "analyze/lint-sh.h"
#include "dockerfile/ast.h"
#include "ignore/ignore.h"

struct kiln_arena;
struct kiln_df_graph_defaults;

/*
 * The linter's view of a Dockerfile: instructions in order (ONBUILD
 * triggers unwrapped and marked), stages with their bases, and for every
 * RUN its parsed script. Rules read it and call lint_emit(); the driver
 * applies pragmas, configuration and severities afterwards.
 */

struct lint_instr {
	const struct kiln_df_node *node; /* the instruction (the trigger for ONBUILD) */
	const struct kiln_df_node *outer; /* the ONBUILD node, or node */
	enum kiln_df_cmd cmd;
	int line;
	int end_line;
	int stage;   /* index into stages; -1 before the first FROM */
	int onbuild; /* an ONBUILD trigger */
	const char *from; /* COPY and ADD: lint_flag(node, "from"), which many rules ask */
	/* lint_stage_by_name(f, from, stage): the stage it names, or -1 (also without from) */
	int from_stage;
	/* RUN only */
	struct lint_sh_script sh;
	int sh_parsed;
	const char *script; /* the shell text (shell form, or the heredoc body run by a shell) */
	int script_line;  /* Dockerfile line of the script's first line */
	int script_heredoc;
};

struct lint_stage {
	size_t from;  /* index of its FROM in instrs */
	size_t first; /* instrs[from + 1 ... last] belong to it */
	size_t last;
	const char *image;     /* as written */
	const char *image_exp; /* with global ARG defaults expanded (NULL if it failed) */
	const char *name;      /* alias lower-cased, or NULL */
	const char *name_raw;
	const char *platform; /* --platform value as written, or NULL */
	int base_stage; /* the stage it builds on, or -1 (external image / scratch) */
	int needed;     /* the final stage needs it (via FROM or COPY --from) */
	int final;
	const char *shell0; /* first word of the stage's SHELL (inherited from bases), or NULL */
	int shell_pipefail; /* its SHELL sets -o pipefail or is not POSIX */
	int shell_nonposix;
	int has_workdir;    /* WORKDIR set here or in a base stage */
	int is_base;        /* a later stage builds on it (FROM <this stage>) */
};

/*
 * Rule names looked up before, by the address of the name the rules pass (a literal, the same
 * for every file): one per pool thread, so that its files share it.
 */
#define LINT_RULE_CACHE_SLOTS 64
struct lint_rule_cache {
	struct {
		const char *name;
		const struct kiln_lint_rule_info *ri;
	} slot[LINT_RULE_CACHE_SLOTS];
};

struct lint_raw {
	char *rule; /* rule and message: lint_file.strings', or static (the table's code,
		     * a message without conversions) */
	const struct kiln_lint_rule_info *ri; /* the rule's entry, or NULL (ShellCheck's) */
	int line;
	int end_line;
	int col;
	char *message;
	size_t message_len; /* or 0: not measured (a static message) */
	int sev_set; /* severity below replaces the rule default (ShellCheck's own, check error=true) */
	enum kiln_lint_severity sev;
	int instr;   /* index of the instruction, or -1 */
	unsigned occ; /* lint_file_finish()'s: earlier findings of the same rule and message */
};

/*
 * What a walk of a build context found (lint-context.c), kept for the other
 * files that share the context and the ignore file: linting many
 * Dockerfiles of one directory walks it once, not once per file.
 */
struct lint_context_walk {
	char *ignore_path; /* NULL: no ignore file */
	struct kiln_strv found;
	int truncated;
};

/*
 * What a build context directory holds for every Dockerfile linted in it:
 * looked at once, not once per file (2,400 Dockerfiles of one directory
 * cost 14 system calls each when every file looked for itself). A field
 * is filled under the memo's lock and read-only once its flag is set.
 */
struct lint_context_dir {
	char *dir;
	uint64_t hash;		       /* of dir, for the memo's table */
	int exists;		       /* access(dir, F_OK) succeeded */
	int ignore_read;	       /* DIR/.dockerignore was looked for: */
	struct kiln_ignore_list ignore; /* its patterns */
	char *ignore_path;	       /* NULL: there is none */
	int suspects_known;
	unsigned suspects; /* bit i: lint-context.c's suspects[i] is at the top */
	struct lint_context_walk *walks; /* one per ignore file the context was walked with */
	size_t n_walks;
};

/* The build contexts seen, by directory; `lock` is held by a file from a
 * walk's lookup to its insert, so files that share a context walk it once.
 * The records are allocated one by one: a file keeps its pointer. */
struct lint_context_memo {
	pthread_mutex_t lock;
	struct lint_context_dir **slots; /* open addressing on the hash; NULL: free */
	size_t cap, n;
};

/* The public face of a memo that outlives one run (lint.h). */
struct kiln_lint_cache {
	struct lint_context_memo memo;
};

void lint_context_memo_init(struct lint_context_memo *m);
void lint_context_memo_release(struct lint_context_memo *m);

struct lint_file {
	const char *filename;
	const char *data;
	size_t len;
	const char *path; /* data NULL: read from here by lint_prepare() */
	char *owned;	  /* what it read */
	struct kiln_df_ast *ast;
	struct lint_instr *instrs;
	size_t n_instrs;
	struct lint_stage *stages;
	size_t n_stages;
	/* NAME=default of ARGs before the first FROM ("NAME" without): the AST's or the arena's */
	const char **global_args;
	size_t n_global_args;
	/* the model's: instructions, stages and their strings (those not borrowed
	 * from the AST, which outlives the model), every RUN script */
	struct kiln_arena *arena;
	/* the linting thread's arena, empty, for the model (NULL: one of its own); reset,
	 * not freed, when the model goes: a chunk malloc()ed and freed less per file */
	struct kiln_arena *spare;
	/* stage names: open-addressing table of the last stage per name, and per
	 * stage the previous stage of the same name (or -1) */
	int *name_slots;
	size_t name_cap;
	uint64_t name_firsts; /* bit c & 63: some stage's name begins with byte c */
	int *prev_same_name;
	const struct kiln_lint_config *cfg;
	const struct kiln_lint_opts *opts;
	struct lint_raw *raw; /* the model's arena's once it has one, else the heap's */
	size_t n_raw, raw_alloc;
	/* findings not recorded, which lint_file_finish() would drop (a rule off by default
	 * that the configuration leaves so): counted toward KILN_LINT_MAX_FINDINGS still */
	size_t n_dropped;
	int raw_in_arena;
	struct kiln_arena *strings; /* the report's arena, for the findings and their strings */
	const struct kiln_lint_rule_info *last_ri; /* of the last finding: rules emit in runs */
	struct lint_rule_cache *rule_cache; /* the linting thread's, or NULL */
	struct kiln_strv *notes;
	struct lint_context_memo *ctx_memo; /* shared by a batch or a cache */
	/* the build context and ignore file, found by lint_context_load() */
	int ctx_loaded;
	struct lint_context_dir *ctx_dir; /* NULL: the directory does not exist */
	const struct kiln_ignore_list *ignore; /* NULL: no ignore file */
	const char *ignore_path;
	struct kiln_ignore_list own_ignore; /* DOCKERFILE.dockerignore, when there is one */
	char *own_ignore_path;
	struct kiln_ignore_matcher *ignore_matcher; /* of `ignore`, made on first use */
	/* the stage graph's build args and platforms, made once per batch; NULL: per file */
	const struct kiln_df_graph_defaults *df_defaults;
	int nomem;
	int truncated;
};

/* Model (lint-model.c). */
int lint_model_build(struct lint_file *f, struct kiln_error *err);
void lint_model_release(struct lint_file *f);
/** The word with its quotes removed, nothing expanded (heap; NULL when out of memory). */
char *lint_unquote(const char *w);
/** The value of build arg `name` (name[0..len)) from the options, the last one given; NULL if none. */
const char *lint_build_arg(const struct lint_file *f, const char *name, size_t len);
/** The C string of an AST text ("" when it holds a NUL byte). Inline: the rules ask it of
 *  every argument, flag and comment they look at. */
static inline const char *lint_text(const struct kiln_df_text *t)
{
	if (!t || !t->str || strlen(t->str) != t->len)
		return "";
	return t->str;
}
/** lint_text() of an argument or flag text t of node n: with n->nul_free (the parser found
 *  no NUL byte in them) the text as it is, ended where its length says, without a strlen(). */
static inline const char *lint_ntext(const struct kiln_df_node *n, const struct kiln_df_text *t)
{
	return n->nul_free && t->str && !t->str[t->len] ? t->str : lint_text(t);
}
/** A flag value of an instruction, or NULL ("from" for --from; nl: its length). Inline: the
 *  names are literals, whose bytes the compiler compares in place. */
static inline const char *lint_flag_n(const struct kiln_df_node *n, const char *name, size_t nl)
{
	for (size_t i = 0; i < n->n_flags; i++) {
		/*
		 * BuildKit's flag names are the words after "--", compared exactly.
		 * Compared by length and bytes without measuring the text: a name
		 * holding a NUL byte (lint_text's "") differs from every `name`.
		 */
		const struct kiln_df_text *t = &n->flags[i].name;
		if (!t->str)
			continue;
		size_t off = t->len >= 2 && t->str[0] == '-' && t->str[1] == '-' ? 2 : 0;
		if (t->len - off != nl || t->str[off] != name[0] ||
		    memcmp(t->str + off, name, nl) != 0 || t->str[t->len])
			continue;
		return n->flags[i].has_value ? lint_ntext(n, &n->flags[i].value) : "";
	}
	return NULL;
}
/* Inline: most nodes have no flags, and a literal name is measured by the compiler. */
static inline const char *lint_flag(const struct kiln_df_node *n, const char *name)
{
	return n->n_flags ? lint_flag_n(n, name, strlen(name)) : NULL;
}
/** Whether a base image name is a stage of this file before stage `before`; the index or -1. */
int lint_stage_by_name(const struct lint_file *f, const char *name, size_t before);
/*
 * An image reference's parts found in ref itself (lint-model.c): spans of it, not NUL-ended
 * (the tag runs up to a digest), nothing copied nor allocated. path: after the registry and
 * its '/' when there is one (ref itself when not), up to the tag; repo: the last component
 * of the path; tag NULL when there is none; digest: whether an '@' follows.
 */
struct lint_refspan {
	const char *path, *repo, *tag;
	size_t path_len, repo_len, tag_len;
	int digest;
};
void lint_refspan(const char *ref, struct lint_refspan *ret);

/* Emitting (lint-run.c). fmt: a string literal (a message without conversions is kept as is). */
void lint_emit(struct lint_file *f, const char *rule, int instr, int line,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A message that is a literal without '%', kept as it is (what lint_emit() makes of it);
 * msg_len: its length, which the compiler knows (the output need not measure it). */
void lint_emit_static(struct lint_file *f, const char *rule, int instr, int line, const char *msg,
		      size_t msg_len);
/* The format "%s": the one string argument (after line) is the message. */
void lint_emit_str(struct lint_file *f, const char *rule, int instr, int line, ...);
/* A format the compiler sees has no conversion, or is "%s", skips the formatting at run time. */
#define lint_emit(f, rule, instr, line, fmt, ...)                                              \
	(__builtin_constant_p(__builtin_strchr(fmt, '%') == 0) && !__builtin_strchr(fmt, '%')   \
		 ? lint_emit_static(f, rule, instr, line, fmt, __builtin_strlen(fmt))        \
	 : __builtin_constant_p(__builtin_strcmp(fmt, "%s")) && !__builtin_strcmp(fmt, "%s") \
		 ? lint_emit_str(f, rule, instr, line, ##__VA_ARGS__)                        \
		 : (lint_emit)(f, rule, instr, line, fmt, ##__VA_ARGS__))
/* Whether lint_emit() of `rule` only counts the finding (see lint-run.c's dropped()): a rule
 * asked once per file then gives its findings to lint_emit_off(), which counts them alike. */
int lint_rule_off(struct lint_file *f, const char *rule);
void lint_emit_off(struct lint_file *f);
void lint_emit_sev(struct lint_file *f, const char *rule, int instr, int line, int col,
		   enum kiln_lint_severity sev, const char *msg);
void lint_note(struct lint_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Sort by line, column, rule, message; stable: equal findings keep the order of
 *  their records (v's pointers in increasing addresses, as emitted). */
void lint_sort_raw(struct lint_raw **v, size_t n);

/* Rule sets. */
void lint_rules_dl_run(struct lint_file *f);    /* lint-dl-run.c: RUN scripts */
/* lint-dl-pkg.c: package managers, in lint_rules_dl_run()'s walk: an ENV's PIP_NO_CACHE_DIR
 * (the stage's pip state), a RUN's rules */
void lint_dl_pkg_env(struct lint_file *f, size_t i, int *no_cache);
void lint_dl_pkg_run(struct lint_file *f, size_t i, int pip_env);
void lint_rules_dl_instr(struct lint_file *f);  /* lint-dl-instr.c: other instructions */
void lint_rules_dl_labels(struct lint_file *f); /* lint-labels.c */
void lint_rules_kiln(struct lint_file *f);      /* lint-kiln.c */
/* A run of bytes of a string being put together from pieces (messages, images). */
struct lint_piece {
	const char *s;
	size_t n;
};

/* The pieces one after the other into out (their total length + 1 bytes), NUL-ended. */
static inline char *lint_pieces_join(char *out, const struct lint_piece *pc, size_t np)
{
	char *o = out;
	for (size_t i = 0; i < np; i++) {
		memcpy(o, pc[i].s, pc[i].n);
		o += pc[i].n;
	}
	*o = '\0';
	return out;
}

/* A piece of a literal, its length known at compile time; of a string (not NULL). */
#define LINT_LIT(lit) ((struct lint_piece){ "" lit, sizeof(lit) - 1 })
#define LINT_STR(str) ((struct lint_piece){ (str), strlen(str) })

/* lint_emit() of the message the pieces make, for the frequent ones: no format to parse,
 * the literals' lengths known (lint-run.c). */
void lint_emit_pieces(struct lint_file *f, const char *rule, int instr, int line,
		      const struct lint_piece *pc, size_t np);

/** A report for file `name`, in an arena of its own (rep->strings); NULL when out of memory. */
struct kiln_lint_report *lint_report_new(const char *name);
/* One file's steps (lint-run.c): everything but ShellCheck (a file that does
 * not parse gets KL0001), then its report made, then what linting it took
 * freed (again is a no-op). */
int lint_file_prepare(struct lint_file *f, struct kiln_error *err);
int lint_file_finish(struct lint_file *f, struct kiln_lint_report *rep, struct kiln_error *err);
void lint_file_release(struct lint_file *f);

int lint_rules_context(struct lint_file *f, struct kiln_error *err); /* lint-context.c */
/* Find the file's build context and ignore file (once; lint-context.c). */
int lint_context_load(struct lint_file *f, struct kiln_error *err);
/* The matcher of the file's ignore file, made once; NULL without patterns. */
int lint_context_matcher(struct lint_file *f, struct kiln_ignore_matcher **ret,
			 struct kiln_error *err);
void lint_context_release(struct lint_file *f);
int lint_rules_buildkit(struct lint_file *f, struct kiln_error *err); /* lint-buildkit.c */
/**
 * 1 when `ref` is a Docker Hub name kiln_ref_parse() accepts, decided from the
 * path and tag grammars alone; 0 means "ask kiln_ref_parse" (lint-buildkit.c's
 * reference hook; exposed for the unit test that checks it against the parser).
 */
int lint_hub_name_valid(const char *ref);
/** The same for names on another registry ("ghcr.io/o/r:1"); 0: ask kiln_ref_parse. */
int lint_registry_name_valid(const char *ref);
/* ShellCheck over the RUN scripts of several files at once (lint-shellcheck.c). */
int lint_shellcheck(struct lint_file *const *files, size_t n_files, struct kiln_error *err);

/*
 * A set of strings (names defined so far, ...): O(1) where a list would make a rule
 * quadratic. The keys are borrowed (the AST's texts, which outlive the set); the table is
 * the arena's when `arena` is set, else the heap's.
 */
struct lint_set_key {
	const char *s; /* s[0..len), NULL for an empty slot */
	size_t len;
};
struct lint_set {
	struct lint_set_key *keys;
	size_t cap; /* power of two, or 0 */
	size_t len;
	struct kiln_arena *arena;
};
/** Add key[0..len) (borrowed). 0 or -KILN_ENOMEM. */
int lint_set_add(struct lint_set *s, const char *key, size_t len);
int lint_set_has(const struct lint_set *s, const char *key, size_t len);
void lint_set_release(struct lint_set *s);

/* Helpers shared by rules. */
/* inline: the suffixes are literals, whose length and comparison the compiler works out */
static inline int lint_str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}
/** Whether s ends with one of the NULL-terminated suffixes (s measured once). */
int lint_str_has_any_suffix(const char *s, const char *const *suffixes);
/**
 * lint_str_has_any_suffix() for extensions: each of `exts` is a '.' and
 * then bytes without a '.' (".gz", not ".tar.gz"), so only s's last dot
 * needs looking at.
 */
int lint_str_has_any_ext(const char *s, const char *const *exts);
/* strcmp() == 0 with the first bytes compared first, for scans of name lists */
/* tolower() of the C and C.UTF-8 locales the CLI runs in (no byte past ASCII is a letter
 * there), with no call to find the locale's table */
static inline unsigned char lint_ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static inline int lint_str_eq(const char *a, const char *b)
{
	return a[0] == b[0] && strcmp(a, b) == 0;
}

/* inline, and the first byte compared first: the rules ask this tens of times per line */
static inline int lint_str_has_prefix(const char *s, const char *prefix)
{
	if (!*prefix)
		return 1;
	return *s == *prefix && strncmp(s + 1, prefix + 1, strlen(prefix + 1)) == 0;
}
int lint_ci_equal(const char *a, const char *b);
/** The instruction's arguments joined with spaces (heap; NULL on ENOMEM). */
char *lint_args_joined(const struct kiln_df_node *n);
int lint_spdx_valid(const char *expr);
/** Is this a secret-looking file name (".env", "id_rsa", "*.pem", ...)? */
int lint_secret_path(const char *path);
