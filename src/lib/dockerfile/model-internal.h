/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/error.h"
#include "base/strv.h"
#include "model.h"

/*
 * Plumbing shared by the typed model, the graph and the checks (module
 * private): arena strings and lists, located errors, the BuildKit flag
 * parser (BFlags) and the RUN flag parsers.
 */

/** Arena copies; NULL on ENOMEM (or for a NULL input). */
char *df_astrdup(struct kiln_arena *a, const char *s);
char *df_astrndup(struct kiln_arena *a, const char *s, size_t len);
/** Move a heap string vector into the arena as kiln_df_words. -KILN_ENOMEM. */
int df_words_from_strv(struct kiln_arena *a, const struct kiln_strv *v,
		       struct kiln_df_words *ret);
int df_words_copy(struct kiln_arena *a, const struct kiln_df_words *src,
		  struct kiln_df_words *ret);

/** -KILN_ENOMEM with the usual message. */
int df_oom(struct kiln_error *err);

/**
 * Fail at an instruction's lines: KILN_EPARSE (or `code`), message, and
 * err->pos = file, start_line, end_line.
 */
int df_fail_lines(struct kiln_error *err, enum kiln_err code, const char *file, int start, int end,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int df_fail_linesv(struct kiln_error *err, enum kiln_err code, const char *file, int start, int end,
		   const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/** Give an error that has no position the instruction's lines. */
void df_error_locate(struct kiln_error *err, const char *file, int start, int end);

/** Append " (did you mean X?)" to err's message when df_suggest() finds one. */
int df_error_suggest(struct kiln_error *err, int r, const char *val, const char *const *options,
		     size_t n, int case_sensitive);

/* ---- BuildKit's BFlags ---- */

enum df_flag_type {
	DF_FLAG_BOOL,
	DF_FLAG_STRING,
	DF_FLAG_STRINGS,
};

struct df_flag {
	const char *name;
	size_t name_len;
	enum df_flag_type type;
	int used;
	int bval;	   /* BOOL */
	const char *value; /* STRING (points into the AST); the default until used */
	/* STRINGS: the values given, in order, pointing into the AST (an arena array) */
	const char **values;
	size_t n_values;
};

#define DF_MAX_FLAGS 12

/*
 * Everything a parse adds lives in the arena (or the AST), so there is
 * nothing to release: typing an instruction declares a few flags and most
 * instructions are given none.
 */
struct df_bflags {
	const struct kiln_df_node *node;
	struct kiln_arena *a;
	struct df_flag f[DF_MAX_FLAGS];
	size_t n;
	/* names in the order flags were given, for RUN's FlagsUsed (an arena array) */
	const char **order;
	size_t n_order;
};

/** Start declaring the flags of `node`; what parsing adds goes into `a`. Inline: once per
 *  instruction, five stores. */
static inline void df_bflags_init(struct df_bflags *bf, const struct kiln_df_node *node,
				  struct kiln_arena *a)
{
	bf->node = node;
	bf->a = a;
	bf->n = 0;
	bf->order = NULL;
	bf->n_order = 0;
}
/*
 * Declare a flag (at most DF_MAX_FLAGS, else NULL). Inline: every instruction
 * declares its few flags with constant arguments, which then fold away.
 */
static inline struct df_flag *df_bflags_add(struct df_bflags *bf, const char *name,
					    enum df_flag_type type, const char *def)
{
	if (bf->n >= DF_MAX_FLAGS)
		return NULL;
	/*
	 * A node given no flag (most) is not parsed (df_bflags_parse is not
	 * called), so each flag reads as its default: a shared one, never
	 * written, instead of eight stores. The literal def folds the choice.
	 */
	static const struct df_flag defaults[] = {
		{ .value = NULL }, { .value = "" }, { .value = "false" },
		{ .value = "default" }, { .value = "sandbox" },
	};
	if (!bf->node->n_flags) {
		size_t k = !def			   ? 0
			   : !*def		   ? 1
			   : !strcmp(def, "false")   ? 2
			   : !strcmp(def, "default") ? 3
			   : !strcmp(def, "sandbox") ? 4
						     : 5;
		if (k < 5)
			return (struct df_flag *) &defaults[k];
	}
	struct df_flag *f = &bf->f[bf->n++];
	f->name = name;
	f->name_len = strlen(name); /* a constant for the literal names */
	f->type = type;
	f->used = 0;
	f->value = def;
	f->bval = def && strcmp(def, "true") == 0;
	f->values = NULL;
	f->n_values = 0;
	return f;
}

/** BFlags.Parse over the node's flags; errors unlocated (the caller locates). */
int df_bflags_parse(struct df_bflags *bf, struct kiln_error *err);

/**
 * An expander for mount options: `word` in, its expansion out (*ret, valid
 * until df_mount_parse returns; it may be `word` itself). NULL expander:
 * BuildKit's parse-time pass, which only checks the CSV and that from= holds
 * no variable.
 */
typedef int (*df_expand_fn)(void *ud, const char *word, const char **ret,
			    struct kiln_error *err);

int df_mount_parse(struct kiln_arena *a, const char *spec, df_expand_fn expand, void *ud,
		   struct kiln_df_mount *ret, struct kiln_error *err);
int df_device_parse(struct kiln_arena *a, const char *spec, struct kiln_df_device *ret,
		    struct kiln_error *err);

/**
 * Stage names -> stage indexes (exact byte comparison; callers lower-case
 * where BuildKit does). Indexes are entered in increasing order; a name
 * entered again hides the earlier index, which stays reachable through
 * `prev`. Keys are borrowed: they must outlive the table.
 */
struct df_names {
	size_t *slots; /* index + 1, 0 = empty; NULL: few indexes, keys scanned */
	size_t cap;    /* power of two (0 without slots) */
	const char **keys;
	long *prev; /* per index: the previous index of the same name, or -1 */
	size_t n;
	/* the three arrays of a table for a few stages: no allocation (so a
	 * table is never copied, only pointed to) */
	size_t small_[32];
};

/** A table for indexes 0..n-1. 0 or -KILN_ENOMEM. */
int df_names_init(struct df_names *t, size_t n) __attribute__((warn_unused_result));
void df_names_release(struct df_names *t);
/** Enter `key` for `index`; the index it hides (the previous one of that name), or -1. */
long df_names_add(struct df_names *t, const char *key, size_t index);
/** The last index entered for `key`, or -1. */
long df_names_find(const struct df_names *t, const char *key);
/** The last index below `before` entered for `key`, or -1. */
long df_names_find_before(const struct df_names *t, const char *key, size_t before);

/**
 * A set of strings with an int each (0 = absent): what a stage's ARGs set
 * in its environment, the ARG names a build consumed. Keys are copied.
 */
struct df_set {
	char **keys;
	int *vals;
	size_t cap; /* power of two, or 0 */
	size_t len;
};

/** Set key's value (0 or -KILN_ENOMEM). */
int df_set_put(struct df_set *s, const char *key, int value) __attribute__((warn_unused_result));
/** key's value, 0 when absent. */
int df_set_get(const struct df_set *s, const char *key);
/** dst (released first) := the entries of src with a non-zero value. */
int df_set_copy(struct df_set *dst, const struct df_set *src) __attribute__((warn_unused_result));
void df_set_release(struct df_set *s);

/** The model's arena (for the graph, which builds expanded copies in its own). */
struct kiln_arena *df_model_arena(struct kiln_df_model *m);

/**
 * kiln_df_model_new() with a hook called for every node once it is typed
 * (`in` set), or with `in` NULL when typing it failed: where BuildKit's
 * parser runs its parse-time checks (those of the node alone, which BuildKit
 * runs before typing, then those of the instruction; the checks only report,
 * so one call after typing finds the same). A hook returns 0 or
 * -KILN_ENOMEM. When typing a node fails, *ret_failed_line (may be NULL)
 * gets its first line. `hook_cmds`: a mask of 1u << cmd, the nodes the hook
 * is called for (it sees no other).
 */
typedef int (*df_model_hook)(void *ud, const struct kiln_df_node *node,
			     const struct kiln_df_instr *in);
int df_model_build(const struct kiln_df_ast *ast, df_model_hook hook, uint32_t hook_cmds,
		   void *ud, struct kiln_df_model **ret, int *ret_failed_line,
		   struct kiln_error *err);
