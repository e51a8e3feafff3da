/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "base/base.h"

/*
 * The CLI's own plumbing: a declarative option table per command (which also
 * renders --help), the command table, and how errors reach the user. Commands
 * parse flags, make one library call and render its result; nothing below
 * src/cli prints or exits.
 */

enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,  /* the command ran and failed (or found problems) */
	CLI_EXIT_USAGE = 2, /* bad flags or arguments */
};

/** Process-wide state the CLI owns (the library gets it through kiln_ctx). */
struct cli_env {
	struct kiln_ctx ctx;
	const char *root;    /* --root / KILN_ROOT; NULL = default */
	int stdout_tty;
	int stderr_tty;
	const char *argv0;
};

enum cli_opt_type {
	CLI_OPT_FLAG,     /* int *: set to 1 */
	CLI_OPT_STRING,   /* const char **: last one wins */
	CLI_OPT_LIST,     /* struct kiln_strv *: every occurrence appended */
	CLI_OPT_INT,      /* long *: decimal */
	CLI_OPT_OPTIONAL, /* const char **: --name or --name=value; bare sets "" */
};

struct cli_opt {
	const char *long_name; /* without the leading "--" */
	int short_name;        /* 0 = none */
	enum cli_opt_type type;
	void *target;
	const char *metavar; /* NULL for flags */
	const char *help;
};

enum cli_parse_flags {
	/* Stop at the first positional argument (kiln run IMAGE CMD...). */
	CLI_PARSE_STOP_AT_POSITIONAL = 1 << 0,
};

struct cli_spec {
	const char *usage;   /* "kiln parse [-f FILE] (--dump|--json)" */
	const char *summary; /* one line */
	const struct cli_opt *opts; /* terminated by { 0 } */
	unsigned flags;      /* enum cli_parse_flags */
	const char *details; /* optional extra help text (NULL) */
};

/**
 * Parse argv[1..] (argv[0] is the command name) against `spec`. Positional
 * arguments are appended to `positional`. Returns 0 on success, 1 when --help
 * was printed (the command should exit 0), or -1 after printing a usage
 * error to stderr (exit CLI_EXIT_USAGE).
 */
int cli_parse(int argc, char **argv, const struct cli_spec *spec, struct kiln_strv *positional);

/** Print --help for a spec to `out`. */
void cli_print_help(FILE *out, const struct cli_spec *spec);

/** Print a usage error ("usage: ..." + message) and return CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * Print a library error ("error: Dockerfile:3: ...") to stderr, release it,
 * and return the exit status it maps to.
 */
int cli_report(struct cli_env *env, struct kiln_error *err);

/**
 * A flag's value the library refused: out of memory is reported as the
 * error it is, anything else as a usage error "FLAG: message". Releases
 * `err`.
 */
int cli_flag_error(struct cli_env *env, const struct cli_spec *spec, const char *flag,
		   struct kiln_error *err);

/** Print a warning line to stderr. */
void cli_warn(struct cli_env *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef int (*cli_command_fn)(int argc, char **argv, struct cli_env *env);

/* cli_command.flags */
enum {
	/* glibc's malloc arena per thread (else one for all): for commands whose
	 * threads do nothing but allocate and compute, one arena is a lock they
	 * all wait on */
	CLI_ARENA_PER_THREAD = 1 << 0,
	/* it may name layers before their data is on the disk: the sync of
	 * the store runs on after it, in a process of its own */
	CLI_SETTLES_LAYERS = 1 << 1,
};

struct cli_command {
	const char *name;
	cli_command_fn fn;
	const char *summary;
	unsigned flags;
};

/* One function per command, each in cmd-<name>.c. */
int cmd_build(int argc, char **argv, struct cli_env *env);
int cmd_context(int argc, char **argv, struct cli_env *env);
int cmd_debug(int argc, char **argv, struct cli_env *env);
int cmd_debug_expand(int argc, char **argv, struct cli_env *env);
int cmd_debug_ignore(int argc, char **argv, struct cli_env *env);
int cmd_debug_sandbox(int argc, char **argv, struct cli_env *env);
int cmd_debug_tar_apply(int argc, char **argv, struct cli_env *env);
int cmd_debug_tar_ls(int argc, char **argv, struct cli_env *env);
int cmd_debug_tar_make(int argc, char **argv, struct cli_env *env);
int cmd_fsck(int argc, char **argv, struct cli_env *env);
int cmd_images(int argc, char **argv, struct cli_env *env);
int cmd_import(int argc, char **argv, struct cli_env *env);
int cmd_inspect(int argc, char **argv, struct cli_env *env);
int cmd_lint(int argc, char **argv, struct cli_env *env);
int cmd_load(int argc, char **argv, struct cli_env *env);
int cmd_login(int argc, char **argv, struct cli_env *env);
int cmd_logout(int argc, char **argv, struct cli_env *env);
int cmd_parse(int argc, char **argv, struct cli_env *env);
int cmd_prune(int argc, char **argv, struct cli_env *env);
int cmd_pull(int argc, char **argv, struct cli_env *env);
int cmd_push(int argc, char **argv, struct cli_env *env);
int cmd_rmi(int argc, char **argv, struct cli_env *env);
int cmd_run(int argc, char **argv, struct cli_env *env);
int cmd_save(int argc, char **argv, struct cli_env *env);
int cmd_stages(int argc, char **argv, struct cli_env *env);
int cmd_tag(int argc, char **argv, struct cli_env *env);
int cmd_version(int argc, char **argv, struct cli_env *env);

/* What `kiln run` and `kiln debug sandbox` share (cmd-run.c). The parsers
 * return NULL, or a message for a usage error. */
struct kiln_exec_mount;
struct kiln_exec_spec;
enum {
	CLI_RUN_EXIT_FAILED = 125,	  /* kiln could not run the command */
	CLI_RUN_EXIT_NOT_EXECUTABLE = 126, /* the command cannot be executed */
	CLI_RUN_EXIT_NOT_FOUND = 127,	  /* the command was not found */
};
/* The PATH docker gives a container whose image sets none. */
#define CLI_RUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
const char *cli_run_parse_volume(const char *arg, struct kiln_strv *own,
				 struct kiln_exec_mount *ret);
const char *cli_run_parse_tmpfs(const char *arg, struct kiln_strv *own,
				struct kiln_exec_mount *ret);
/** Add "K=V" (or "K" from the caller's environment) to env; -1 on ENOMEM. */
int cli_run_env_add(struct kiln_strv *env, const char *arg);
/** Run the sandbox with signals forwarded and the terminal in raw mode for -t;
 *  the exit status of the process, or 125/126/127 after printing the error. */
int cli_run_sandbox(struct cli_env *env, struct kiln_exec_spec *spec);
