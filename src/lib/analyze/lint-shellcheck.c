/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze/lint-internal.h"
#include "base/alloc.h"
#include "base/ctx.h"
#include "base/fs.h"

/*
 * ShellCheck on RUN scripts, as hadolint does: every script that a POSIX
 * shell runs goes into a scratch file; shellcheck checks a dialect's scripts
 * in one process, or in one per CPU when there are many (json1 output), and
 * its findings come back as SCxxxx at the Dockerfile line they belong to. Exec-form RUNs, RUNs
 * whose heredoc feeds another interpreter and non-POSIX SHELLs are skipped.
 */

#define SHELLCHECK_OUTPUT_MAX ((size_t)16 << 20)

extern char **environ;

enum dialect { D_SH, D_BASH, D_DASH, D_KSH, D_N };

struct lint_opts_view {
	const char *shellcheck; /* as given, for messages */
	const char *exe;        /* what to run: a relative path made absolute */
};
static const char *const dialect_names[D_N] = { "sh", "bash", "dash", "ksh" };

struct job {
	struct lint_file *f;
	size_t instr;
	int dialect;
	char path[64];
	int prefix_lines; /* lines written before the script itself */
};

static int dialect_of(const char *shell0, int *ret)
{
	if (!shell0 || !*shell0 || !strcmp(shell0, "sh") || !strcmp(shell0, "ash") ||
	    !strcmp(shell0, "busybox")) {
		*ret = D_SH;
		return 1;
	}
	if (!strcmp(shell0, "bash")) {
		*ret = D_BASH;
		return 1;
	}
	if (!strcmp(shell0, "dash")) {
		*ret = D_DASH;
		return 1;
	}
	if (!strcmp(shell0, "ksh") || !strcmp(shell0, "mksh")) {
		*ret = D_KSH;
		return 1;
	}
	return 0;
}

/* `# hadolint shell=bash` / `# kiln shell=bash` anywhere sets the default shell. */
static const char *pragma_shell(const struct lint_file *f)
{
	for (size_t i = 0; i < f->ast->n_comments; i++) {
		const char *t = lint_text(&f->ast->comments[i].text);
		const char *p = NULL;
		if (lint_str_has_prefix(t, "hadolint "))
			p = t + 9;
		else if (lint_str_has_prefix(t, "kiln "))
			p = t + 5;
		while (p && *p == ' ')
			p++;
		if (p && lint_str_has_prefix(p, "shell="))
			return p + 6;
	}
	return NULL;
}

static int shell_name_ok(const char *w, size_t len)
{
	if (!len || !(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z')))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!(w[i] == '_' || (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= 'a' && w[i] <= 'z') ||
		      (w[i] >= '0' && w[i] <= '9')))
			return 0;
	return 1;
}

static int write_script(const char *dir, size_t n, struct job *j, const char *shell,
			struct kiln_error *err)
{
	struct lint_file *f = j->f;
	const struct lint_instr *in = &f->instrs[j->instr];
	snprintf(j->path, sizeof(j->path), "%zu.sh", n);
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_buf_addf(&b, "#!/bin/%s\n", shell);
	j->prefix_lines = 1;
	/* variables that ARG and ENV define are set when the script runs */
	for (size_t i = 0; r >= 0 && i < j->instr; i++) {
		const struct lint_instr *p = &f->instrs[i];
		if (p->onbuild || (p->stage != in->stage && p->stage >= 0))
			continue;
		const struct kiln_df_node *nd = p->node;
		if (p->cmd == KILN_DF_ENV) {
			for (size_t k = 0; r >= 0 && 3 * k < nd->n_args; k++) {
				const char *w = lint_ntext(nd, &nd->args[3 * k]);
				if (!shell_name_ok(w, strlen(w)))
					continue;
				if ((r = kiln_buf_addf(&b, "export %s=1\n", w)) >= 0)
					j->prefix_lines++;
			}
		} else if (p->cmd == KILN_DF_ARG) {
			for (size_t k = 0; r >= 0 && k < nd->n_args; k++) {
				const char *w = lint_ntext(nd, &nd->args[k]);
				int len = (int)strcspn(w, "=");
				if (!shell_name_ok(w, (size_t)len))
					continue;
				if ((r = kiln_buf_addf(&b, "export %.*s=1\n", len, w)) >= 0)
					j->prefix_lines++;
			}
		}
	}
	if (r >= 0)
		r = kiln_buf_addstr(&b, in->script);
	if (r >= 0 && (!b.len || b.buf[b.len - 1] != '\n'))
		r = kiln_buf_addch(&b, '\n');
	if (r < 0) {
		kiln_buf_release(&b);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	cleanup_free char *full = kiln_asprintf("%s/%s", dir, j->path);
	if (!full) {
		kiln_buf_release(&b);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		kiln_buf_release(&b);
		return kiln_fail_errno(err, "writing %s", full);
	}
	int w = kiln_write_all(fd, b.buf, b.len);
	close(fd);
	kiln_buf_release(&b);
	if (w < 0) {
		errno = -w;
		return kiln_fail_errno(err, "writing %s", full);
	}
	return 0;
}

/* A note on every file that had scripts to check. */
static void note_all(const struct job *jobs, size_t n, const char *msg)
{
	for (size_t i = 0; i < n; i++)
		if (i == 0 || jobs[i].f != jobs[i - 1].f)
			lint_note(jobs[i].f, "%s", msg);
}

/*
 * One shellcheck process: a dialect's scripts, or a share of them. Its
 * stdout goes to an unlinked file in the scratch directory, so that several
 * run at once without a pipe each to drain.
 */
struct sc_run {
	int dialect;
	const struct job *jobs;
	size_t n;
	pid_t pid;
	int out; /* -1 when not started */
};

/* Start `run`; 1 (noted on its files) when shellcheck could not start. */
static int sc_start(const struct lint_opts_view *ov, const char *dir, size_t index,
		    struct sc_run *run, struct kiln_error *err)
{
	char path[4096];
	int len = snprintf(path, sizeof(path), "%s/out-%zu.json", dir, index);
	if (len < 0 || (size_t)len >= sizeof(path))
		return kiln_fail(err, KILN_EINVAL, 0, "scratch directory path too long: %s", dir);
	int out = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return kiln_fail_errno(err, "creating %s", path);
	(void)unlink(path);
	const char **argv = kiln_calloc(run->n + 12, sizeof(*argv));
	if (!argv) {
		close(out);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	size_t a = 0;
	argv[a++] = ov->shellcheck;
	argv[a++] = "--norc";
	argv[a++] = "-f";
	argv[a++] = "json1";
	argv[a++] = "-s";
	argv[a++] = dialect_names[run->dialect];
	/* the ash warning and source directives make no sense for RUN */
	argv[a++] = "-e";
	argv[a++] = "SC2187,SC1090,SC1091";
	for (size_t i = 0; i < run->n; i++)
		argv[a++] = run->jobs[i].path;
	argv[a] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	int sr = posix_spawnp(&run->pid, ov->exe, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	if (sr != 0) {
		close(out);
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "shellcheck (%s) could not be started (%s): RUN scripts were not checked",
			 ov->shellcheck, strerror(sr));
		note_all(run->jobs, run->n, msg);
		return 1;
	}
	run->out = out;
	return 0;
}

/* Reap a started run; its wait status. */
static int sc_reap(struct sc_run *run)
{
	int status = 0;
	while (waitpid(run->pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Wait for a started run; its output in *ret, or 1 (noted) when shellcheck failed. */
static int sc_wait(const struct lint_opts_view *ov, struct sc_run *run, char **ret,
		   struct kiln_error *err)
{
	int status = sc_reap(run);
	int out = run->out;
	run->out = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
		close(out);
		char msg[512];
		snprintf(msg, sizeof(msg), "shellcheck (%s) failed (exit %d): RUN scripts were not checked",
			 ov->shellcheck, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		note_all(run->jobs, run->n, msg);
		return 1;
	}
	char *buf = NULL;
	size_t len = 0;
	int r = lseek(out, 0, SEEK_SET) < 0
			? kiln_fail_errno(err, "reading shellcheck's output")
			: kiln_read_fd(out, SHELLCHECK_OUTPUT_MAX, &buf, &len, err);
	close(out);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

/* A ShellCheck comment on a job's script. */
struct comment {
	const struct job *job;
	json_t *c;
	long line; /* in the script, 1-based */
	long col;
	long long code;
	size_t k; /* its place in ShellCheck's output */
};

/*
 * ShellCheck's order of comments depends on the other scripts of the run; a
 * file's findings go out in its own order (script, line, column, code), so
 * that their fingerprints, which count repeats of a message in order, do not
 * change with the files linted beside it.
 */
static int comment_cmp(const void *a, const void *b)
{
	const struct comment *x = a, *y = b;
	if (x->job != y->job)
		return x->job < y->job ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	if (x->code != y->code)
		return x->code < y->code ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

static void emit_comment(const struct comment *cm)
{
	const struct job *j = cm->job;
	struct lint_file *f = j->f;
	const struct lint_instr *in = &f->instrs[j->instr];
	const char *level = json_string_value(json_object_get(cm->c, "level"));
	const char *msg = json_string_value(json_object_get(cm->c, "message"));
	int dl = in->line, dc = 1;
	if (in->script_heredoc) {
		dl = in->script_line + (int)cm->line - 1;
		dc = (int)cm->col;
	}
	enum kiln_lint_severity sev = KILN_LINT_WARNING;
	if (level && kiln_lint_severity_parse(level, &sev, NULL) < 0)
		sev = KILN_LINT_WARNING;
	char rule[32];
	snprintf(rule, sizeof(rule), "SC%lld", cm->code);
	lint_emit_sev(f, rule, (int)j->instr, dl, dc, sev, msg);
}

static void map_findings(const char *json, const struct job *jobs, size_t n)
{
	json_error_t je;
	json_t *root = json_loads(json, 0, &je);
	json_t *comments = root ? json_object_get(root, "comments") : NULL;
	if (!json_is_array(comments)) {
		note_all(jobs, n, "shellcheck gave output kiln cannot read: RUN scripts were not checked");
		json_decref(root);
		return;
	}
	size_t nc = json_array_size(comments), m = 0;
	struct comment *v = kiln_calloc(nc ? nc : 1, sizeof(*v));
	if (!v) {
		for (size_t i = 0; i < n; i++)
			jobs[i].f->nomem = 1;
		json_decref(root);
		return;
	}
	size_t k;
	json_t *c;
	json_array_foreach(comments, k, c) {
		const char *file = json_string_value(json_object_get(c, "file"));
		const char *msg = json_string_value(json_object_get(c, "message"));
		if (!file || !msg)
			continue;
		const struct job *j = NULL;
		for (size_t i = 0; i < n && !j; i++)
			if (!strcmp(jobs[i].path, file))
				j = &jobs[i];
		if (!j)
			continue;
		long sl = (long)json_integer_value(json_object_get(c, "line")) - j->prefix_lines;
		if (sl < 1)
			continue;
		v[m++] = (struct comment){
			.job = j,
			.c = c,
			.line = sl,
			.col = (long) json_integer_value(json_object_get(c, "column")),
			.code = (long long) json_integer_value(json_object_get(c, "code")),
			.k = k
		};
	}
	qsort(v, m, sizeof(*v), comment_cmp);
	for (size_t i = 0; i < m; i++)
		emit_comment(&v[i]);
	free(v);
	json_decref(root);
}

/* The scripts of one file to check, appended to *jobs. */
static int collect(struct lint_file *f, struct job **jobs, size_t *n, size_t *alloc)
{
	const char *dflt = pragma_shell(f);
	const char *shell = dflt;
	int skip = 0;
	for (size_t i = 0; i < f->n_instrs; i++) {
		const struct lint_instr *in = &f->instrs[i];
		if (in->cmd == KILN_DF_FROM && !in->onbuild) {
			const struct lint_stage *st = &f->stages[in->stage];
			shell = st->base_stage >= 0 && f->stages[st->base_stage].shell0
					? f->stages[st->base_stage].shell0
					: dflt;
			skip = 0;
			continue;
		}
		if (in->cmd == KILN_DF_SHELL && !in->onbuild && in->node->json_form && in->node->n_args) {
			const char *w = lint_ntext(in->node, &in->node->args[0]);
			const char *b = strrchr(w, '/');
			shell = b ? b + 1 : w;
			int d;
			skip = !dialect_of(shell, &d);
			continue;
		}
		if (in->cmd != KILN_DF_RUN || !in->script || skip)
			continue;
		int d;
		if (!dialect_of(shell, &d))
			continue;
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 16;
			struct job *nj = kiln_reallocarray(*jobs, na, sizeof(*nj));
			if (!nj)
				return -KILN_ENOMEM;
			*jobs = nj;
			*alloc = na;
		}
		(*jobs)[(*n)++] = (struct job){ .f = f, .instr = i, .dialect = d };
	}
	return 0;
}

/* At least this many scripts per process: a start costs about two scripts' analysis. */
#define SC_MIN_SCRIPTS 8
#define SC_MAX_PROCS 8

/*
 * The scripts jobs[0..n), one dialect after another, in runs of shellcheck:
 * a dialect's scripts are shared among up to one process per CPU, at most
 * that many at a time. Findings are read in the order of the runs, which is
 * the order one process per dialect would give. The first run that cannot
 * start or fails stops those not started yet; every file it leaves unchecked
 * gets a note.
 */
static int check_scripts(const struct lint_opts_view *ov, const char *dir, struct job *jobs,
			 size_t n, struct kiln_error *err)
{
	size_t procs = kiln_cpus(SC_MAX_PROCS);
	/* the jobs by dialect, in their order within each */
	struct job *by = kiln_calloc(n, sizeof(*by));
	struct sc_run *runs = kiln_calloc(n, sizeof(*runs));
	if (!by || !runs) {
		free(by);
		free(runs);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	size_t nb = 0, nr = 0;
	for (int d = 0; d < D_N; d++) {
		size_t first = nb;
		for (size_t i = 0; i < n; i++)
			if (jobs[i].dialect == d)
				by[nb++] = jobs[i];
		size_t g = nb - first;
		if (!g)
			continue;
		size_t parts = (g + SC_MIN_SCRIPTS - 1) / SC_MIN_SCRIPTS;
		if (parts > procs)
			parts = procs;
		for (size_t k = 0, at = first; k < parts; k++) {
			size_t take = g / parts + (k < g % parts);
			runs[nr++] = (struct sc_run){
				.dialect = d, .jobs = &by[at], .n = take, .out = -1
			};
			at += take;
		}
	}
	int r = 0, stopped = 0;
	size_t started = 0;
	char *stop_msg = NULL;
	for (size_t i = 0; i < nr && r >= 0; i++) {
		/* keep up to `procs` running ahead of the one read next */
		while (!stopped && r >= 0 && started < nr && started < i + procs) {
			int s = sc_start(ov, dir, started, &runs[started], err);
			if (s < 0)
				r = s;
			else if (s == 1)
				stopped = 1;
			started++;
		}
		if (r < 0 || runs[i].out < 0)
			continue;
		char *out = NULL;
		int w = sc_wait(ov, &runs[i], &out, err);
		if (w < 0)
			r = w;
		else if (w == 1)
			stopped = 1;
		else
			map_findings(out, runs[i].jobs, runs[i].n);
		free(out);
	}
	/* the runs an error left behind: their findings are not wanted */
	for (size_t i = 0; i < nr; i++) {
		if (runs[i].out >= 0) {
			(void)kill(runs[i].pid, SIGKILL);
			(void)sc_reap(&runs[i]);
			close(runs[i].out);
			runs[i].out = -1;
		}
	}
	if (r >= 0 && stopped) {
		if (!(stop_msg = kiln_asprintf("shellcheck (%s) failed on other scripts: these RUN "
					       "scripts were not checked",
					       ov->shellcheck)))
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		for (size_t i = started; r >= 0 && i < nr; i++)
			note_all(runs[i].jobs, runs[i].n, stop_msg);
	}
	free(stop_msg);
	free(runs);
	free(by);
	return r;
}

int lint_shellcheck(struct lint_file *const *files, size_t n_files, struct kiln_error *err)
{
	if (!n_files)
		return 0;
	const struct kiln_lint_opts *opts = files[0]->opts;
	struct lint_opts_view ov = { .shellcheck = opts->shellcheck, .exe = opts->shellcheck };
	/* shellcheck runs in the scratch directory: "./sc" must name the caller's */
	cleanup_free char *cwd = NULL, *abs = NULL;
	if (ov.exe[0] != '/' && strchr(ov.exe, '/')) {
		if (!(cwd = getcwd(NULL, 0)))
			return kiln_fail_errno(err, "finding the working directory");
		if (!(abs = kiln_asprintf("%s/%s", cwd, ov.exe)))
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		ov.exe = abs;
	}
	const char *tmp = opts->tmpdir;
	if (!tmp || !*tmp)
		tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	struct job *jobs = NULL;
	size_t n = 0, alloc = 0;
	for (size_t k = 0; k < n_files; k++) {
		if (collect(files[k], &jobs, &n, &alloc) < 0) {
			free(jobs);
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		}
	}
	int r = 0;
	char dir[4096];
	if (n) {
		int len = snprintf(dir, sizeof(dir), "%s/kiln-lint-XXXXXX", tmp);
		if (len < 0 || (size_t)len >= sizeof(dir) || !mkdtemp(dir)) {
			char msg[512];
			snprintf(msg, sizeof(msg),
				 "no scratch directory for shellcheck in %s: RUN scripts were not checked", tmp);
			note_all(jobs, n, msg);
			n = 0;
		}
	}
	size_t written = 0;
	for (size_t i = 0; i < n && r >= 0; i++, written++)
		r = write_script(dir, i, &jobs[i], dialect_names[jobs[i].dialect], err);
	if (r >= 0 && n)
		r = check_scripts(&ov, dir, jobs, n, err);
	if (n) {
		for (size_t i = 0; i < written; i++) {
			char *p = kiln_asprintf("%s/%s", dir, jobs[i].path);
			if (p)
				(void)unlink(p);
			free(p);
		}
		(void)rmdir(dir);
	}
	free(jobs);
	return r < 0 ? r : 0;
}
