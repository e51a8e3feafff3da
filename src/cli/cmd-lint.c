/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/lint.h"
#include "dockerfile/ast.h"
#include "cli.h"

static const char *arg_format;
static const char *arg_config;
static const char *arg_context;
static const char *arg_threshold;
static const char *arg_shellcheck;
static const char *arg_report_path;
static int arg_no_fail, arg_no_color, arg_no_shellcheck, arg_no_context, arg_strict_labels;
static int arg_disable_pragma, arg_no_hints, arg_list_rules, arg_verbose;
static struct kiln_strv arg_ignore, arg_trusted, arg_error, arg_warning, arg_info, arg_style,
	arg_labels, arg_build_args;

static const struct cli_spec spec = {
	.usage = "kiln lint [options] [DOCKERFILE... | -]",
	.summary = "Check Dockerfiles for mistakes and best practice: hadolint's DL rules, BuildKit's "
		   "checks,\nShellCheck on RUN scripts and kiln's multi-stage pitfalls (KL).",
	.opts =
		(const struct cli_opt[]){
			{ "format", 'f', CLI_OPT_STRING, &arg_format, "FORMAT",
			  "tty (default), json, sarif, checkstyle, gitlab_codeclimate, "
			  "codeclimate, gnu, codacy, sonarqube" },
			{ "config", 'c', CLI_OPT_STRING, &arg_config, "FILE",
			  "configuration file (default: .kiln-lint.yaml, .hadolint.yaml, ...)" },
			{ "context", 0, CLI_OPT_STRING, &arg_context, "DIR",
			  "build context for the context rules (default: the Dockerfile's directory)" },
			{ "no-context", 0, CLI_OPT_FLAG, &arg_no_context, NULL,
			  "do not look at the build context" },
			{ "build-arg", 0, CLI_OPT_LIST, &arg_build_args, "K=V",
			  "a build argument, as `docker build --check` gets it (K alone: from the "
			  "environment)" },
			{ "failure-threshold", 't', CLI_OPT_STRING, &arg_threshold, "LEVEL",
			  "exit 1 from this severity up: error|warning|info|style|ignore|none (info)" },
			{ "no-fail", 0, CLI_OPT_FLAG, &arg_no_fail, NULL, "exit 0 whatever is found" },
			{ "ignore", 0, CLI_OPT_LIST, &arg_ignore, "RULE", "do not report RULE" },
			{ "error", 0, CLI_OPT_LIST, &arg_error, "RULE", "report RULE as an error" },
			{ "warning", 0, CLI_OPT_LIST, &arg_warning, "RULE", "report RULE as a warning" },
			{ "info", 0, CLI_OPT_LIST, &arg_info, "RULE", "report RULE as info" },
			{ "style", 0, CLI_OPT_LIST, &arg_style, "RULE", "report RULE as style" },
			{ "trusted-registry", 0, CLI_OPT_LIST, &arg_trusted, "REGISTRY",
			  "allow base images only from these registries (DL3026)" },
			{ "require-label", 0, CLI_OPT_LIST, &arg_labels, "LABEL:TYPE",
			  "require a label (types: text url email hash rfc3339 semver spdx)" },
			{ "strict-labels", 0, CLI_OPT_FLAG, &arg_strict_labels, NULL,
			  "report labels that the label schema does not list" },
			{ "disable-ignore-pragma", 0, CLI_OPT_FLAG, &arg_disable_pragma, NULL,
			  "ignore `# hadolint ignore=` and `# kiln ignore=` comments" },
			{ "shellcheck", 0, CLI_OPT_STRING, &arg_shellcheck, "PATH",
			  "the shellcheck to run (default: shellcheck from PATH)" },
			{ "no-shellcheck", 0, CLI_OPT_FLAG, &arg_no_shellcheck, NULL,
			  "do not run ShellCheck on RUN scripts" },
			{ "no-color", 0, CLI_OPT_FLAG, &arg_no_color, NULL, "no colours on a terminal" },
			{ "no-hints", 0, CLI_OPT_FLAG, &arg_no_hints, NULL, "tty: no fix hints" },
			{ "list-rules", 0, CLI_OPT_FLAG, &arg_list_rules, NULL,
			  "print every rule with its default severity and exit" },
			{ "file-path-in-report", 0, CLI_OPT_STRING, &arg_report_path, "PATH",
			  "checkstyle: name the file PATH (hadolint's, for a file linted in a "
			  "container)" },
			{ "verbose", 'V', CLI_OPT_FLAG, &arg_verbose, NULL,
			  "say on stderr which configuration file is read" },
			{ 0 },
		},
	.details = "Without a file, ./Dockerfile is linted; - reads stdin. Exit status: 0 when no\n"
		   "finding reaches the failure threshold, 1 when one does, 2 for usage errors and\n"
		   "unreadable files. hadolint's HADOLINT_* environment variables apply between the\n"
		   "configuration file and the flags. Rules and their fixes: docs/lint-rules.md;\n"
		   "configuration and CI set-ups: docs/lint.md.",
};

static void reset_args(void)
{
	arg_format = arg_config = arg_context = arg_threshold = arg_shellcheck = NULL;
	arg_report_path = NULL;
	arg_verbose = 0;
	arg_no_fail = arg_no_color = arg_no_shellcheck = arg_no_context = arg_strict_labels = 0;
	arg_disable_pragma = arg_no_hints = arg_list_rules = 0;
	struct kiln_strv *lists[] = { &arg_ignore, &arg_trusted, &arg_error, &arg_warning,
				      &arg_info, &arg_style, &arg_labels, &arg_build_args };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(lists); i++)
		kiln_strv_release(lists[i]);
}

/* A name without '/' is looked up in PATH, as posix_spawnp will. */
static int program_exists(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char buf[4096];
		if (n && n + strlen(name) + 2 < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
			if (access(buf, X_OK) == 0)
				return 1;
		}
		path += n + (path[n] == ':');
	}
	return 0;
}

static int load_config(struct kiln_lint_config *cfg, char **ret_format, struct kiln_error *err)
{
	cleanup_free char *found = NULL;
	const char *path = arg_config;
	if (!path) {
		int r = kiln_lint_config_find(".", getenv("XDG_CONFIG_HOME"), getenv("HOME"), &found, err);
		if (r < 0)
			return r;
		path = found;
	}
	if (arg_verbose)
		fprintf(stderr, "configuration: %s\n", path ? path : "none found");
	if (!path)
		return 0;
	cleanup_free char *data = NULL;
	size_t len = 0;
	int r = kiln_read_file(path, KILN_LINT_CONFIG_MAX, &data, &len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading the configuration %s", path);
	return kiln_lint_config_load_yaml(cfg, data, len, path, ret_format, err);
}

/* hadolint's truthy environment value: 1, y, on, true, yes in any case; -1 unset */
static int env_truthy(const char *name)
{
	const char *v = getenv(name);
	if (!v)
		return -1;
	static const char *const yes[] = { "1", "y", "on", "true", "yes" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(yes); i++)
		if (!strcasecmp(v, yes[i]))
			return 1;
	return 0;
}

/* Each comma-separated item of $name given to add(cfg, item); 0, or -1 out of memory. */
static int env_each(const char *name, struct kiln_lint_config *cfg,
		    int (*add)(struct kiln_lint_config *, const char *, void *), void *arg)
{
	const char *v = getenv(name);
	for (const char *p = v; p && *p;) {
		size_t n = strcspn(p, ",");
		cleanup_free char *item = kiln_strndup(p, n);
		if (!item || (*item && add(cfg, item, arg) < 0))
			return -1;
		p += n + (p[n] == ',');
	}
	return 0;
}

static int env_ignore(struct kiln_lint_config *cfg, const char *rule, void *arg)
{
	(void) arg;
	return kiln_lint_config_ignore(cfg, rule);
}

static int env_override(struct kiln_lint_config *cfg, const char *rule, void *arg)
{
	return kiln_lint_config_override(cfg, rule, *(const enum kiln_lint_severity *) arg);
}

static int env_trust(struct kiln_lint_config *cfg, const char *registry, void *arg)
{
	(void) arg;
	return kiln_lint_config_trust(cfg, registry);
}

/* NAME:TYPE; one hadolint cannot read is left out, as hadolint leaves it */
static int env_label(struct kiln_lint_config *cfg, const char *item, void *arg)
{
	(void) arg;
	const char *c = strchr(item, ':');
	int t = c ? kiln_lint_label_type_parse(c + 1) : -1;
	if (t < 0)
		return 0;
	cleanup_free char *name = kiln_strndup(item, (size_t) (c - item));
	if (!name)
		return -1;
	return kiln_lint_config_label(cfg, name, (enum kiln_lint_label_type) t);
}

/*
 * hadolint's environment (its Config/Environment.hs), over the
 * configuration file and under the flags, so that a CI job set up for
 * hadolint keeps its settings. NO_COLOR is read where colours are decided;
 * HADOLINT_VERBOSE has nothing to change here. A format or threshold that
 * does not parse is left out, as hadolint leaves it.
 */
static int apply_env(struct kiln_lint_config *cfg, const char **ret_format,
		     const char **ret_threshold)
{
	int t;
	if ((t = env_truthy("HADOLINT_NOFAIL")) >= 0)
		cfg->no_fail = t;
	if ((t = env_truthy("HADOLINT_STRICT_LABELS")) >= 0)
		cfg->strict_labels = t;
	if ((t = env_truthy("HADOLINT_DISABLE_IGNORE_PRAGMA")) >= 0)
		cfg->disable_ignore_pragma = t;
	const char *f = getenv("HADOLINT_FORMAT");
	*ret_format = f && kiln_lint_format_parse(f) >= 0 ? f : NULL;
	enum kiln_lint_severity sev;
	const char *th = getenv("HADOLINT_FAILURE_THRESHOLD");
	*ret_threshold = th && kiln_lint_severity_parse(th, &sev, NULL) >= 0 ? th : NULL;
	static const struct {
		const char *name;
		enum kiln_lint_severity sev;
	} ov[] = { { "HADOLINT_OVERRIDE_ERROR", KILN_LINT_ERROR },
		   { "HADOLINT_OVERRIDE_WARNING", KILN_LINT_WARNING },
		   { "HADOLINT_OVERRIDE_INFO", KILN_LINT_INFO },
		   { "HADOLINT_OVERRIDE_STYLE", KILN_LINT_STYLE } };
	for (size_t k = 0; k < KILN_ARRAY_SIZE(ov); k++) {
		enum kiln_lint_severity s = ov[k].sev;
		if (env_each(ov[k].name, cfg, env_override, &s) < 0)
			return -1;
	}
	if (env_each("HADOLINT_IGNORE", cfg, env_ignore, NULL) < 0 ||
	    env_each("HADOLINT_ALLOWED_REGISTRIES", cfg, env_trust, NULL) < 0 ||
	    env_each("HADOLINT_REQUIRE_LABELS", cfg, env_label, NULL) < 0)
		return -1;
	return 0;
}

static int apply_flags(struct kiln_lint_config *cfg)
{
	for (size_t i = 0; i < arg_ignore.len; i++)
		if (kiln_lint_config_ignore(cfg, arg_ignore.items[i]) < 0)
			return -1;
	const struct {
		struct kiln_strv *v;
		enum kiln_lint_severity s;
	} ov[] = { { &arg_error, KILN_LINT_ERROR },
		   { &arg_warning, KILN_LINT_WARNING },
		   { &arg_info, KILN_LINT_INFO },
		   { &arg_style, KILN_LINT_STYLE } };
	for (size_t k = 0; k < KILN_ARRAY_SIZE(ov); k++)
		for (size_t i = 0; i < ov[k].v->len; i++)
			if (kiln_lint_config_override(cfg, ov[k].v->items[i], ov[k].s) < 0)
				return -1;
	for (size_t i = 0; i < arg_trusted.len; i++)
		if (kiln_lint_config_trust(cfg, arg_trusted.items[i]) < 0)
			return -1;
	if (arg_strict_labels)
		cfg->strict_labels = 1;
	if (arg_disable_pragma)
		cfg->disable_ignore_pragma = 1;
	if (arg_no_fail)
		cfg->no_fail = 1;
	return 0;
}

static int list_rules(void)
{
	size_t n;
	const struct kiln_lint_rule_info *r = kiln_lint_rules(&n);
	for (size_t i = 0; i < n; i++)
		printf("%-32s %-8s %s\n", r[i].code, kiln_lint_severity_name(r[i].severity),
		       r[i].summary);
	return fflush(stdout) == EOF ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static char *dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		return kiln_strdup(".");
	if (sl == path)
		return kiln_strdup("/");
	return kiln_strndup(path, (size_t)(sl - path));
}

/* Files linted together: all of a batch share one ShellCheck process per dialect, and tty
 * output is written batch by batch. */
#define LINT_BATCH 64

struct input_set {
	struct kiln_lint_input *items;
	char **data;
	char **dirs;
	size_t n;
};

static void input_set_release(struct input_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->data[i]);
		free(s->dirs[i]);
	}
	free(s->items);
	free(s->data);
	free(s->dirs);
}

/* One input of the set: stdin is read here, a file later by the linter, on
 * the thread that lints it; -1 after reporting why stdin could not be read. */
static int read_one(struct cli_env *env, const char *path, const char *report_name,
		    struct input_set *set)
{
	struct kiln_error err = KILN_ERROR_INIT;
	int is_stdin = strcmp(path, "-") == 0;
	const char *shown = report_name ? report_name : is_stdin ? "<stdin>" : path;
	char *data = NULL;
	size_t len = 0;
	/* a file is read by the linter, on the thread that lints it */
	if (is_stdin) {
		int r = kiln_read_fd(STDIN_FILENO, KILN_DF_MAX_FILE, &data, &len, &err);
		if (r < 0) {
			(void)kiln_error_prefix(&err, r, "reading %s", shown);
			cli_report(env, &err);
			return -1;
		}
	}
	struct kiln_lint_input *in = &set->items[set->n];
	*in = (struct kiln_lint_input){
		.data = data, .len = len, .path = is_stdin ? NULL : path, .filename = shown
	};
	set->data[set->n] = data;
	set->dirs[set->n] = NULL;
	if (!arg_no_context) {
		if (arg_context) {
			in->context_dir = arg_context;
			in->dockerfile_path = is_stdin ? NULL : path;
		} else if (!is_stdin) {
			if (!(set->dirs[set->n] = dir_of(path))) {
				free(data);
				(void)kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
				cli_report(env, &err);
				return -1;
			}
			in->context_dir = set->dirs[set->n];
			in->dockerfile_path = path;
		}
	}
	set->n++;
	return 0;
}

struct report_set {
	struct kiln_lint_report **items;
	size_t n;
};

static void report_set_release(struct report_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		kiln_lint_report_free(s->items[i]);
	free(s->items);
}

/* Where the reports go, and whether one reached the failure threshold. */
struct output {
	enum kiln_lint_format fmt;
	unsigned flags;
	struct kiln_buf *out;
	enum kiln_lint_severity threshold;
	int reached;
};

/* The notes, then the findings of the reports so far; they are freed after. */
static int write_reports(struct cli_env *env, struct output *o, struct report_set *reps)
{
	struct kiln_error err = KILN_ERROR_INIT;
	for (size_t i = 0; i < reps->n; i++)
		for (size_t k = 0; k < reps->items[i]->notes.len; k++)
			fprintf(stderr, "note: %s: %s\n", reps->items[i]->file,
				reps->items[i]->notes.items[k]);
	const struct kiln_lint_report *const *rv =
		(const struct kiln_lint_report *const *)reps->items;
	kiln_buf_reset(o->out);
	if (kiln_lint_render(rv, reps->n, o->fmt, o->flags, KILN_VERSION, o->out, &err) < 0) {
		cli_report(env, &err);
		return -1;
	}
	if (fwrite(o->out->buf ? o->out->buf : "", 1, o->out->len, stdout) != o->out->len ||
	    fflush(stdout) == EOF) {
		(void)kiln_fail_errno(&err, "writing the report");
		cli_report(env, &err);
		return -1;
	}
	o->reached |= kiln_lint_reaches(rv, reps->n, o->threshold);
	for (size_t i = 0; i < reps->n; i++)
		kiln_lint_report_free(reps->items[i]);
	reps->n = 0;
	return 0;
}

/* The linter's groups of reports: failures reported, reports kept, and for
 * tty written out at once. */
struct groups {
	struct cli_env *env;
	struct output *o;
	struct report_set *reps;
	int stream;
	int failed;	  /* a file could not be linted */
	int write_failed; /* reported already */
};

static int take_group(void *ud, size_t first, struct kiln_lint_report **reps,
		      struct kiln_error *errs, size_t n)
{
	(void)first;
	struct groups *g = ud;
	for (size_t i = 0; i < n; i++) {
		if (reps[i]) {
			g->reps->items[g->reps->n++] = reps[i];
			continue;
		}
		cli_report(g->env, &errs[i]);
		g->failed = 1;
	}
	if (g->stream && write_reports(g->env, g->o, g->reps) < 0) {
		g->write_failed = 1;
		return -KILN_EIO;
	}
	return 0;
}

static int nomem(struct cli_env *env)
{
	struct kiln_error err = KILN_ERROR_INIT;
	(void)kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
	return cli_report(env, &err);
}

static int run_lint(struct cli_env *env, struct kiln_strv *pos)
{
	struct kiln_error err = KILN_ERROR_INIT;
	cleanup(kiln_lint_config_release) struct kiln_lint_config cfg;
	kiln_lint_config_init(&cfg);
	cleanup_free char *cfg_format = NULL;
	cleanup(report_set_release) struct report_set reps = { 0 };
	cleanup(kiln_buf_release) struct kiln_buf out = KILN_BUF_INIT;
	cleanup(kiln_strv_release) struct kiln_strv build_args = KILN_STRV_INIT;

	/*
	 * Linting many files allocates as it goes, on every thread: heaps grown
	 * 16 MiB at a time instead of 128 KiB took 2,400 files from about 1,000
	 * mprotect and brk calls to 10, each of which held the address-space lock
	 * that the other threads' page faults wait for (2-3 % of the CPU time).
	 * Pages never touched stay out of the resident set.
	 */
	(void)mallopt(M_TOP_PAD, 16 << 20);
	for (size_t i = 0; i < arg_labels.len; i++) {
		const char *c = strrchr(arg_labels.items[i], ':');
		if (!c || c == arg_labels.items[i] || kiln_lint_label_type_parse(c + 1) < 0)
			return cli_usage_error(&spec, "--require-label wants LABEL:TYPE (text, url, "
						      "email, hash, rfc3339, semver or spdx), not '%s'",
					       arg_labels.items[i]);
	}
	if (load_config(&cfg, &cfg_format, &err) < 0) {
		cli_report(env, &err);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < arg_labels.len; i++) {
		char *c = strrchr(arg_labels.items[i], ':');
		*c = 0;
		int t = kiln_lint_label_type_parse(c + 1);
		if (kiln_lint_config_label(&cfg, arg_labels.items[i], (enum kiln_lint_label_type)t) < 0)
			return nomem(env);
	}
	const char *env_format = NULL, *env_threshold = NULL;
	if (apply_env(&cfg, &env_format, &env_threshold) < 0 || apply_flags(&cfg) < 0)
		return nomem(env);
	const char *threshold = arg_threshold ? arg_threshold : env_threshold;
	if (threshold && kiln_lint_severity_parse(threshold, &cfg.failure_threshold, NULL) < 0)
		return cli_usage_error(&spec, "--failure-threshold wants error, warning, info, style, "
					      "ignore or none, not '%s'",
				       arg_threshold);
	const char *format = arg_format	   ? arg_format
			     : env_format ? env_format
			     : cfg_format ? cfg_format
					  : "tty";
	int fmt = kiln_lint_format_parse(format);
	if (fmt < 0)
		return cli_usage_error(&spec, "unknown format '%s' (tty, json, sarif, checkstyle, "
					      "gitlab_codeclimate, codeclimate, gnu, codacy, "
					      "sonarqube)",
				       format);
	for (size_t i = 0; i < arg_build_args.len; i++) {
		const char *a = arg_build_args.items[i];
		if (!*a || *a == '=')
			return cli_usage_error(&spec, "--build-arg needs K=V or K, not '%s'", a);
		if (cli_run_env_add(&build_args, a) < 0)
			return nomem(env);
	}
	/* files of one directory share its walk, across batches too */
	cleanup(kiln_lint_cache_freep) struct kiln_lint_cache *cache = kiln_lint_cache_new();
	if (!cache)
		return nomem(env);
	struct kiln_lint_opts opts = { .config = &cfg,
				       .ctx = &env->ctx,
				       .build_args = (const char *const *) build_args.items,
				       .n_build_args = build_args.len,
				       .cache = cache };
	/* only JSON, SARIF and Code Quality show fingerprints */
	if (fmt != KILN_LINT_FORMAT_JSON && fmt != KILN_LINT_FORMAT_SARIF &&
	    fmt != KILN_LINT_FORMAT_CODECLIMATE)
		opts.flags |= KILN_LINT_NO_FINGERPRINTS;
	if (!arg_no_shellcheck) {
		const char *sc = arg_shellcheck ? arg_shellcheck : "shellcheck";
		if (program_exists(sc))
			opts.shellcheck = sc;
		else
			fprintf(stderr, "note: %s not found: RUN scripts are not checked with ShellCheck\n",
				sc);
	}
	if (!pos->len && kiln_strv_push(pos, "Dockerfile") < 0)
		return nomem(env);
	cleanup(input_set_release) struct input_set inputs = { 0 };
	inputs.items = kiln_calloc(pos->len, sizeof(*inputs.items));
	inputs.data = kiln_calloc(pos->len, sizeof(*inputs.data));
	inputs.dirs = kiln_calloc(pos->len, sizeof(*inputs.dirs));
	reps.items = kiln_calloc(pos->len, sizeof(*reps.items));
	if (!inputs.items || !inputs.data || !inputs.dirs || !reps.items)
		return nomem(env);
	int unreadable = 0;
	const char *report_name = fmt == KILN_LINT_FORMAT_CHECKSTYLE ? arg_report_path : NULL;
	for (size_t i = 0; i < pos->len; i++)
		if (read_one(env, pos->items[i], report_name, &inputs) < 0)
			unreadable = 1;
	unsigned flags = 0;
	if (env->stdout_tty && !arg_no_color && !getenv("NO_COLOR"))
		flags |= KILN_LINT_RENDER_COLOR;
	if (arg_no_hints)
		flags |= KILN_LINT_RENDER_NO_HINTS;
	struct output o = { .fmt = (enum kiln_lint_format)fmt, .flags = flags, .out = &out,
			    .threshold = cfg.no_fail ? KILN_LINT_NONE : cfg.failure_threshold };
	/* tty lines are written batch by batch: findings show as they come and a
	 * run keeps one batch's reports; the other formats are one document */
	struct groups g = { .env = env, .o = &o, .reps = &reps,
			    .stream = fmt == KILN_LINT_FORMAT_TTY };
	if (kiln_lint_run_stream(inputs.items, inputs.n, LINT_BATCH, &opts,
				 take_group, &g, &err) < 0) {
		if (!g.write_failed)
			cli_report(env, &err);
		return CLI_EXIT_FAIL;
	}
	if (!g.stream && write_reports(env, &o, &reps) < 0)
		return CLI_EXIT_FAIL;
	if (unreadable || g.failed)
		return CLI_EXIT_USAGE;
	return o.reached ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_lint(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	reset_args();
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		r = r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	else if (arg_list_rules)
		r = list_rules();
	else
		r = run_lint(env, &pos);
	reset_args();
	return r;
}
