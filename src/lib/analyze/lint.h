/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/ctx.h"
#include "base/error.h"
#include "base/strv.h"

struct kiln_arena;

/*
 * kiln lint: best-practice checks for Dockerfiles before they are built.
 *
 * Four families of rules, each under its own names:
 *   DLxxxx  hadolint's rules (same codes and default severities),
 *   <Name>  BuildKit's build checks (StageNameCasing, ...),
 *   SCxxxx  ShellCheck's findings on RUN scripts (when shellcheck is found),
 *   KLxxxx  kiln's multi-stage pitfalls (docs/lint-rules.md lists them all).
 *
 *     struct kiln_lint_config cfg;
 *     kiln_lint_config_init(&cfg);
 *     ... kiln_lint_config_load_yaml(&cfg, text, len, ".hadolint.yaml", err) ...
 *     struct kiln_lint_opts o = { .config = &cfg, .context_dir = "." };
 *     r = kiln_lint_run(data, len, "Dockerfile", &o, &rep, err);
 *     ... rep->findings[i] ...
 *     kiln_lint_report_free(rep);
 *
 * The library reads the Dockerfile text it is given, the build context (for
 * the rules that need it) and runs shellcheck when asked to; it prints
 * nothing. docs/internals/lint.md describes the design.
 */

/** Severities, most severe first (hadolint's order). */
enum kiln_lint_severity {
	KILN_LINT_ERROR = 0,
	KILN_LINT_WARNING = 1,
	KILN_LINT_INFO = 2,
	KILN_LINT_STYLE = 3,
	KILN_LINT_IGNORE = 4, /* a rule at this severity reports nothing */
	KILN_LINT_NONE = 5,   /* only as a failure threshold: never fail */
};

/** "error", "warning", "info", "style", "ignore", "none". */
const char *kiln_lint_severity_name(enum kiln_lint_severity s);
/** Parse one of the names above (case-insensitive). 0 or -KILN_EINVAL. */
int kiln_lint_severity_parse(const char *s, enum kiln_lint_severity *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

enum kiln_lint_family {
	KILN_LINT_HADOLINT,
	KILN_LINT_BUILDKIT,
	KILN_LINT_SHELLCHECK,
	KILN_LINT_KILN,
};

/** What kiln knows about one rule (static data). */
struct kiln_lint_rule_info {
	const char *code; /* "DL3008", "KL1003", "StageNameCasing" */
	enum kiln_lint_family family;
	enum kiln_lint_severity severity; /* default */
	const char *summary;              /* one line: what it catches */
	const char *hint;                 /* one line: how to fix it */
	const char *url;                  /* documentation, or NULL */
	uint16_t code_len, hint_len;      /* strlen() of each, or 0: not given */
};

/** The table of all DL, KL and BuildKit rules, sorted by family then code. */
const struct kiln_lint_rule_info *kiln_lint_rules(size_t *ret_n);
/** The rule named `code` (exact match), or NULL. SC codes are not in the table. */
const struct kiln_lint_rule_info *kiln_lint_rule_find(const char *code);

/** Value types of a label schema entry (hadolint's label-schema). */
enum kiln_lint_label_type {
	KILN_LINT_LABEL_TEXT,
	KILN_LINT_LABEL_URL,
	KILN_LINT_LABEL_EMAIL,
	KILN_LINT_LABEL_HASH,
	KILN_LINT_LABEL_RFC3339,
	KILN_LINT_LABEL_SEMVER,
	KILN_LINT_LABEL_SPDX,
};

/** "text", "url", "email", "hash", "rfc3339", "semver", "spdx"; -1 when unknown. */
int kiln_lint_label_type_parse(const char *s);

struct kiln_lint_label {
	char *name;
	enum kiln_lint_label_type type;
};

/**
 * Configuration: what `.hadolint.yaml` / `.kiln-lint.yaml` and the command
 * line say. Later settings replace earlier ones rule by rule (a rule moved
 * to `warning` by the command line leaves the file's `error` list).
 */
struct kiln_lint_config {
	struct kiln_strv ignored;            /* rule codes reported never */
	struct kiln_strv override_rule;      /* parallel arrays: rule ... */
	enum kiln_lint_severity *override_sev; /* ... and its severity */
	struct kiln_strv trusted_registries; /* DL3026; empty = rule off */
	struct kiln_lint_label *labels;      /* label-schema (DL3049-DL3058) */
	size_t n_labels;
	int strict_labels;         /* DL3050 */
	int disable_ignore_pragma; /* `# hadolint ignore=` / `# kiln ignore=` have no effect */
	int no_fail;
	int threshold_set;
	enum kiln_lint_severity failure_threshold; /* default KILN_LINT_INFO */
};

void kiln_lint_config_init(struct kiln_lint_config *c);
void kiln_lint_config_release(struct kiln_lint_config *c);

/** Ignore `rule` (any family, also SCxxxx). 0 or -KILN_ENOMEM. */
int kiln_lint_config_ignore(struct kiln_lint_config *c, const char *rule)
	__attribute__((warn_unused_result));
/** Report `rule` at `sev` instead of its default. */
int kiln_lint_config_override(struct kiln_lint_config *c, const char *rule,
			      enum kiln_lint_severity sev) __attribute__((warn_unused_result));
int kiln_lint_config_trust(struct kiln_lint_config *c, const char *registry)
	__attribute__((warn_unused_result));
/** Require label `name` of `type` (replaces an earlier entry of that name). */
int kiln_lint_config_label(struct kiln_lint_config *c, const char *name,
			   enum kiln_lint_label_type type) __attribute__((warn_unused_result));

/** Limit on configuration files. */
#define KILN_LINT_CONFIG_MAX ((size_t)1 << 20)

/**
 * Merge a YAML configuration (hadolint's schema: ignored, override
 * {error,warning,info,style}, trustedRegistries, label-schema,
 * strict-labels, disable-ignore-pragma, no-fail, failure-threshold; keys
 * kiln does not use, such as format or no-color, are accepted and left to
 * the caller through `ret_format` (may be NULL; heap string or NULL)).
 * Errors (-KILN_EPARSE, with source:line): malformed YAML, a value of the
 * wrong type, an unknown severity or label type, an unknown top-level key.
 */
int kiln_lint_config_load_yaml(struct kiln_lint_config *c, const char *data, size_t len,
			       const char *source, char **ret_format, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Where the configuration comes from when none is named: the first file
 * that exists of `<cwd>/.kiln-lint.yaml`, `.kiln-lint.yml`, `.hadolint.yaml`,
 * `.hadolint.yml`, then `<xdg>/kiln/lint.yaml`, `<xdg>/hadolint.yaml`, then
 * `<home>/.hadolint.yaml`. `xdg` NULL means `<home>/.config`; NULL
 * arguments are skipped. *ret_path is a heap string, or NULL when none exists.
 */
int kiln_lint_config_find(const char *cwd, const char *xdg, const char *home, char **ret_path,
			  struct kiln_error *err) __attribute__((warn_unused_result));

/** One finding. */
struct kiln_lint_finding {
	char *rule; /* "DL3008", "SC2086", "KL1003", "StageNameCasing" */
	enum kiln_lint_family family;
	enum kiln_lint_severity severity; /* after configuration and pragmas */
	int line;                         /* 1-based; 0 = the file as a whole */
	int col;                          /* 1-based */
	int end_line;
	/* strlen() of message, hint and rule, or 0: not measured (the renderers measure them);
	 * in the structure's padding */
	uint32_t message_len;
	char *message;
	const char *hint; /* static; NULL when the message says it all */
	const char *url;  /* static; may be NULL */
	char fingerprint[65]; /* stable across runs and line shifts (hex sha256); "" with
				 KILN_LINT_NO_FINGERPRINTS */
	uint16_t hint_len, rule_len;
};

/** What linting one file found. */
struct kiln_lint_report {
	char *file; /* as named by the caller */
	struct kiln_lint_finding *findings; /* sorted by line, then rule */
	size_t n_findings;
	struct kiln_strv notes; /* things the user should know that are no findings */
	struct kiln_arena *strings; /* the library's: holds the report, findings[] and strings */
};

void kiln_lint_report_free(struct kiln_lint_report *r);
KILN_DEFINE_CLEANUP(struct kiln_lint_report, kiln_lint_report_free)

enum kiln_lint_run_flags {
	/**
	 * Leave every finding's fingerprint empty (""): for output that shows
	 * none (tty, checkstyle), which then skips a SHA-256 per finding.
	 */
	KILN_LINT_NO_FINGERPRINTS = 1 << 0,
};

struct kiln_lint_opts {
	const struct kiln_lint_config *config; /* NULL: defaults */
	/* The build context for the rules that look at it; NULL: those rules are skipped. */
	const char *context_dir;
	/* The Dockerfile's path relative to the context (for Dockerfile.dockerignore); may be NULL. */
	const char *dockerfile_path;
	/* shellcheck to run on RUN scripts (a path or a name looked up in PATH); NULL: none. */
	const char *shellcheck;
	/* Where shellcheck's scratch files go; NULL: $TMPDIR or /tmp. */
	const char *tmpdir;
	const struct kiln_ctx *ctx;
	unsigned flags; /* enum kiln_lint_run_flags */
	/*
	 * Build args ("K=V"; a later K replaces an earlier one), as `docker build
	 * --check --build-arg` passes them: BuildKit's checks evaluate the
	 * Dockerfile with them (BUILDKIT_DOCKERFILE_CHECK replaces the `# check=`
	 * directive, for the checks and for suppression), and the global ARGs a
	 * base image name uses take their values.
	 */
	const char *const *build_args;
	size_t n_build_args;
	/*
	 * What walks of build contexts found, kept across runs for the files
	 * that share a context (kiln_lint_cache_new); NULL: each run keeps its
	 * own. The contexts must not change while it lives.
	 */
	struct kiln_lint_cache *cache;
};

/** A cache of build-context walks for kiln_lint_opts.cache. */
struct kiln_lint_cache;
struct kiln_lint_cache *kiln_lint_cache_new(void);
void kiln_lint_cache_free(struct kiln_lint_cache *c);
KILN_DEFINE_CLEANUP(struct kiln_lint_cache, kiln_lint_cache_free)

/** Limits on what one run looks at. */
#define KILN_LINT_MAX_FINDINGS 100000
#define KILN_LINT_CONTEXT_MAX_ENTRIES 200000

/**
 * Lint the Dockerfile in data[0..len). A Dockerfile that does not parse is
 * no error here: it gives one finding KL0001 with the parser's position and
 * message. Errors: -KILN_ENOMEM; an unreadable context or ignore file
 * (-KILN_EIO / -KILN_EPARSE with its position); a shellcheck that cannot be
 * run is a note, not an error.
 */
int kiln_lint_run(const char *data, size_t len, const char *filename,
		  const struct kiln_lint_opts *opts, struct kiln_lint_report **ret,
		  struct kiln_error *err) __attribute__((warn_unused_result));

/** One Dockerfile of a batch, with its own build context. */
struct kiln_lint_input {
	const char *data;
	size_t len;
	/* data NULL: the file to read (on the thread that lints it, so that the
	 * reads of many files overlap); an error names it as "reading <path>" */
	const char *path;
	const char *filename;        /* NULL: "Dockerfile" */
	const char *context_dir;     /* NULL: no context rules for this file */
	const char *dockerfile_path; /* as in kiln_lint_opts */
};

/**
 * kiln_lint_run() over several files: the same findings per file, but one
 * ShellCheck process per shell dialect for all of them (the opts'
 * context_dir and dockerfile_path are replaced by each input's). On
 * success ret[0..n) holds one report per input; on failure none is left.
 * The files are linted on up to one thread per CPU (threads end before the
 * call returns); `opts`, its config and its cache are only read meanwhile,
 * except the cache's memo, which the threads share under a lock.
 */
int kiln_lint_run_many(const struct kiln_lint_input *in, size_t n,
		       const struct kiln_lint_opts *opts, struct kiln_lint_report **ret,
		       struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Takes the reports of inputs [first, first + n), in input order: reps[i] is
 * the caller's to free (kiln_lint_report_free), or NULL when that input
 * failed, errs[i] saying why (released after the call). A negative return
 * stops the run, which returns it.
 */
typedef int (*kiln_lint_group_fn)(void *ud, size_t first, struct kiln_lint_report **reps,
				  struct kiln_error *errs, size_t n);

/**
 * kiln_lint_run_many() with the reports handed to `fn` group by group (of
 * `group` inputs; 0: one group), each as soon as it is complete, and each
 * file failing on its own. Without ShellCheck one pool of threads lints
 * every input while the caller's thread hands the groups over; with it, the
 * groups are linted one after the other, one ShellCheck process per dialect
 * and group. Errors: -KILN_ENOMEM, a ShellCheck run that cannot start, or
 * fn's; the groups before it were handed over.
 */
int kiln_lint_run_stream(const struct kiln_lint_input *in, size_t n, size_t group,
			 const struct kiln_lint_opts *opts, kiln_lint_group_fn fn, void *ud,
			 struct kiln_error *err) __attribute__((warn_unused_result));

/** Whether any finding of the reports reaches `threshold` (never for NONE/IGNORE... see docs). */
int kiln_lint_reaches(const struct kiln_lint_report *const *reps, size_t n,
		      enum kiln_lint_severity threshold);

/** Output formats of `kiln lint --format`. */
enum kiln_lint_format {
	KILN_LINT_FORMAT_TTY,
	KILN_LINT_FORMAT_JSON,
	KILN_LINT_FORMAT_SARIF,
	KILN_LINT_FORMAT_CHECKSTYLE,
	KILN_LINT_FORMAT_CODECLIMATE, /* GitLab's Code Quality report */
	KILN_LINT_FORMAT_CODECLIMATE_ENGINE, /* Code Climate's: issues ended by NUL */
	KILN_LINT_FORMAT_GNU,
	KILN_LINT_FORMAT_CODACY,
	KILN_LINT_FORMAT_SONARQUBE,
};

/** hadolint's names: "tty", "json", "sarif", "checkstyle", "gitlab_codeclimate",
 *  "codeclimate", "gnu", "codacy", "sonarqube". -1 if unknown. */
int kiln_lint_format_parse(const char *s);

enum kiln_lint_render_flags {
	KILN_LINT_RENDER_COLOR = 1 << 0, /* tty: ANSI colours */
	KILN_LINT_RENDER_NO_HINTS = 1 << 1,
};

/**
 * Render reports in a format, appended to `out`. `version` names kiln in
 * SARIF's tool section. 0, or -KILN_ENOMEM / -KILN_ELIMIT.
 */
int kiln_lint_render(const struct kiln_lint_report *const *reps, size_t n,
		     enum kiln_lint_format fmt, unsigned flags, const char *version,
		     struct kiln_buf *out, struct kiln_error *err) __attribute__((warn_unused_result));
