/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "base/alloc.h"
#include "base/error.h"

/*
 * The typed instruction model: every instruction of the Dockerfile 1.x
 * reference with its flags, checked the way BuildKit's instruction parser
 * (frontend/dockerfile/instructions) checks them, with BuildKit's error
 * messages. Nothing is expanded here: words are as written (quotes of
 * ENV/LABEL/ARG values still in place, as BuildKit keeps them until
 * expansion). Expansion, ARG scoping and the stage graph are in graph.h;
 * docs/internals/dockerfile-model.md describes the whole pipeline.
 *
 *     struct kiln_df_model *m = NULL;
 *     r = kiln_df_model_new(ast, &m, err);   // Dockerfile:LINE: errors
 *     for (size_t s = 0; s < m->n_stages; s++)
 *             for (size_t i = 0; i < m->stages[s].n_instrs; i++)
 *                     switch (m->stages[s].instrs[i].cmd) { ... }
 *     kiln_df_model_free(m);
 *
 * Memory: a model owns what it points to (one arena), but for the text it
 * shares with the AST it was built from (instructions point at their nodes,
 * keyword and original into them): the AST must outlive it.
 */

/** An owned, counted list of C strings. */
struct kiln_df_words {
	const char **v;
	size_t n;
};

/** An ENV or LABEL pair. `legacy` is the `ENV KEY value` form (no '='). */
struct kiln_df_pair {
	const char *key;
	const char *value;
	int legacy;
};

/** One name of an ARG: `value` NULL when the ARG gives no default. */
struct kiln_df_argdef {
	const char *key;
	const char *value;
	/** The description comment (`# NAME text` right above), or NULL. */
	const char *comment;
};

enum kiln_df_mount_type {
	KILN_DF_MOUNT_BIND = 0,
	KILN_DF_MOUNT_CACHE,
	KILN_DF_MOUNT_TMPFS,
	KILN_DF_MOUNT_SECRET,
	KILN_DF_MOUNT_SSH,
};

enum kiln_df_sharing {
	KILN_DF_SHARING_UNSET = 0, /* a cache mount without sharing= is shared */
	KILN_DF_SHARING_SHARED,
	KILN_DF_SHARING_PRIVATE,
	KILN_DF_SHARING_LOCKED,
};

/**
 * A RUN --mount after expansion (BuildKit's instructions.Mount). Strings
 * are NULL when the option was not given. `readonly` already has the
 * per-type default applied (bind, secret and ssh are read-only unless rw
 * was given; cache and tmpfs are writable).
 */
struct kiln_df_mount {
	enum kiln_df_mount_type type;
	const char *from;   /* stage name or index, or image */
	const char *source; /* source/src */
	const char *target; /* target/dst/destination */
	const char *id;
	const char *env; /* secret: the environment variable to expose it as */
	int has_env;
	int readonly;
	enum kiln_df_sharing sharing;
	int required; /* secret and ssh */
	int64_t size; /* tmpfs bytes; 0 = no limit */
	int has_mode, has_uid, has_gid;
	uint64_t mode, uid, gid;
};

/** A RUN --device (CDI device name and whether it must exist). */
struct kiln_df_device {
	const char *name;
	int required;
};

enum kiln_df_network {
	KILN_DF_NETWORK_DEFAULT = 0,
	KILN_DF_NETWORK_NONE,
	KILN_DF_NETWORK_HOST,
};

enum kiln_df_security {
	KILN_DF_SECURITY_SANDBOX = 0,
	KILN_DF_SECURITY_INSECURE,
};

/**
 * A here-document used by an instruction: RUN/CMD/ENTRYPOINT files
 * (`data` as read, `chomp` to be applied by the runner, as BuildKit does)
 * and COPY/ADD inline sources (`data` already chomped; after expansion,
 * expanded when `expand` is set).
 */
struct kiln_df_inline {
	const char *name;
	const char *data;
	int expand;
	int chomp;
};

/** FROM. `name` is lower-cased (BuildKit compares stage names that way). */
struct kiln_df_from {
	const char *base;     /* the image, stage or "scratch" as written (or expanded) */
	const char *name;     /* NULL for an unnamed stage */
	const char *name_raw; /* the name as written */
	const char *as_raw;   /* the AS keyword as written */
	const char *platform; /* --platform, NULL when absent */
	const char *comment;  /* `# NAME text` description, or NULL */
};

/** RUN, CMD, ENTRYPOINT and SHELL: the command line. */
struct kiln_df_cmdline {
	struct kiln_df_words args;    /* exec form: the array; shell form: one string */
	int exec_form;		      /* JSON array (BuildKit: PrependShell false) */
	struct kiln_df_inline *files; /* heredocs of RUN (and CMD/ENTRYPOINT) */
	size_t n_files;
};

struct kiln_df_run {
	struct kiln_df_cmdline cmd;
	/** The --mount values as written; parsed into `mounts` on expansion. */
	struct kiln_df_words mount_specs;
	/** Each spec's from= as written, read by the parse (NULL: none). */
	const char **mount_froms;
	struct kiln_df_mount *mounts;
	size_t n_mounts;
	struct kiln_df_device *devices;
	size_t n_devices;
	enum kiln_df_network network;
	enum kiln_df_security security;
	struct kiln_df_words flags_used; /* names of the flags given, in order */
};

/** COPY and ADD (the ADD-only fields stay unset for COPY). */
struct kiln_df_copy {
	struct kiln_df_words sources;	       /* paths, URLs, git refs */
	struct kiln_df_inline *inline_sources; /* heredoc sources */
	size_t n_inline;
	const char *dest;
	const char *from; /* COPY --from */
	const char *chown;
	const char *chmod; /* octal or symbolic; see kiln_df_chmod_apply() */
	int link;
	int parents;		       /* COPY --parents */
	struct kiln_df_words excludes; /* --exclude, repeatable */
	const char *checksum;	       /* ADD --checksum */
	int keep_git_dir;	       /* ADD --keep-git-dir: -1 unset, 0, 1 */
	int unpack;		       /* ADD --unpack: -1 unset, 0, 1 */
};

/**
 * HEALTHCHECK. `test` is the image config's Test: ["NONE"], ["CMD", args...]
 * or ["CMD-SHELL", command]. Durations are nanoseconds (0 = inherit).
 */
struct kiln_df_healthcheck {
	struct kiln_df_words test;
	int64_t interval, timeout, start_period, start_interval;
	int retries;
};

/** ONBUILD: the trigger as text (BuildKit's Expression) and its keyword. */
struct kiln_df_onbuild {
	const char *expression;
	const char *trigger; /* upper-cased trigger keyword, e.g. "RUN" */
};

enum kiln_df_instr_flags {
	/** Words are expanded (set on instructions of a kiln_df_graph). */
	KILN_DF_INSTR_EXPANDED = 1 << 0,
	/** Replayed from an ONBUILD of the base (stage or image). */
	KILN_DF_INSTR_FROM_ONBUILD = 1 << 1,
};

/**
 * One typed instruction. Switch on `cmd` and read the matching member of
 * `u`: FROM from; RUN run; COPY/ADD copy; CMD/ENTRYPOINT/SHELL cmdline;
 * ENV/LABEL pairs; ARG args; EXPOSE/VOLUME words; USER/WORKDIR/STOPSIGNAL/
 * MAINTAINER value; HEALTHCHECK health; ONBUILD onbuild.
 */
struct kiln_df_instr {
	enum kiln_df_cmd cmd;
	const struct kiln_df_node *node; /* the AST node; NULL for ONBUILD replays */
	const char *keyword;		 /* as written ("copy") */
	const char *original;		 /* BuildKit's source text of the instruction */
	int start_line, end_line;
	unsigned flags; /* enum kiln_df_instr_flags */
	union {
		struct kiln_df_from from;
		struct kiln_df_run run;
		struct kiln_df_copy copy;
		struct kiln_df_cmdline cmdline;
		struct {
			struct kiln_df_pair *v;
			size_t n;
		} pairs;
		struct {
			struct kiln_df_argdef *v;
			size_t n;
		} args;
		struct kiln_df_words words;
		const char *value;
		struct kiln_df_healthcheck health;
		struct kiln_df_onbuild onbuild;
	} u;
};

/** A stage: its FROM and the instructions after it. */
struct kiln_df_model_stage {
	struct kiln_df_instr *from; /* = &instrs[0] */
	struct kiln_df_instr *instrs;
	size_t n_instrs;
};

/** A typed Dockerfile. Free with kiln_df_model_free(). */
struct kiln_df_model {
	const struct kiln_df_ast *ast;
	/** ARG instructions before the first FROM (the global scope). */
	struct kiln_df_instr *meta_args;
	size_t n_meta_args;
	struct kiln_df_model_stage *stages;
	size_t n_stages;
	struct kiln_arena *arena_; /* private */
	int arena_borrowed_;	   /* private: arena_ is the AST's (kiln_df_parse_in) */
};

/**
 * Type one AST node (BuildKit's ParseInstruction). The result lives in the
 * model's arena. Errors are located at the node (`Dockerfile:LINE`) and worded
 * as BuildKit words them, e.g. "unknown instruction: RUNN (did you mean
 * RUN?)", "unknown flag: --fro (did you mean from?)", "ADD requires at least
 * two arguments, but only one was provided. Destination could not be
 * determined", "FROM requires either one or three arguments", "invalid name
 * for build stage: ...", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't
 * allowed", "FROM isn't allowed as an ONBUILD trigger", "time: invalid
 * duration ...". -KILN_EPARSE for those, -KILN_ENOMEM.
 */
int kiln_df_instr_parse(struct kiln_df_model *m, const struct kiln_df_node *node,
			struct kiln_df_instr *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Type a whole Dockerfile (BuildKit's instructions.Parse): meta ARGs, then
 * one stage per FROM. Besides the per-instruction errors: "no build stage in
 * current context" for an instruction other than ARG before the first FROM,
 * "dockerfile contains no stages to build" without any FROM.
 */
int kiln_df_model_new(const struct kiln_df_ast *ast, struct kiln_df_model **ret,
		      struct kiln_error *err) __attribute__((warn_unused_result));

/** An empty model for kiln_df_instr_parse() callers that walk nodes themselves. */
int kiln_df_model_empty(const struct kiln_df_ast *ast, struct kiln_df_model **ret,
			struct kiln_error *err) __attribute__((warn_unused_result));

void kiln_df_model_free(struct kiln_df_model *m);
KILN_DEFINE_CLEANUP(struct kiln_df_model, kiln_df_model_free)

/** "FROM", "RUN", ... for a typed instruction's kind. */
const char *kiln_df_cmd_upper(enum kiln_df_cmd cmd);

/**
 * Apply a --chmod value to a file's mode (permission and set-id bits; the
 * file type bits of `mode` are kept). Octal values replace the bits;
 * symbolic ones (`u+x,go-w`, `+X`, `a=r`) follow chmod(1) with a umask of 0.
 * Errors as BuildKit words them ("invalid chmod parameter: ...").
 */
int kiln_df_chmod_apply(const char *spec, uint32_t mode, int is_dir, uint32_t *ret,
			struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Parse one RUN --mount value (BuildKit's parseMount with an expander):
 * CSV of key=value (and bare readonly/ro/readwrite/rw/required). Errors
 * in BuildKit's wording ("unexpected key 'x' in 'x=1' (did you mean ...)",
 * "secret mount should not have a from", ...). Strings go into the model's
 * arena.
 */
int kiln_df_mount_parse(struct kiln_df_model *m, const char *spec, struct kiln_df_mount *ret,
			struct kiln_error *err) __attribute__((warn_unused_result));

/** The same for RUN --device (`name[,required]`). */
int kiln_df_device_parse(struct kiln_df_model *m, const char *spec, struct kiln_df_device *ret,
			 struct kiln_error *err) __attribute__((warn_unused_result));
