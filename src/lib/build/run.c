/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RUN: the command line as BuildKit builds it (shell form through SHELL or
 * /bin/sh -c, exec form as is, heredocs run as scripts), and the process in
 * the sandbox over the step's overlay with its mounts (mounts-run.c), its
 * output streamed as progress and its tail kept for the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/gotext.h"
#include "build/build-private.h"
#include "build/mounts.h"
#include "dockerfile/syntax.h"
#include "exec/exec.h"
#include "snapshot/snapshot.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- the command line ------------------------------------------------------ */

int bb_run_argv(const struct kiln_df_step *step, struct kiln_strv *argv, struct kiln_strv *files,
		struct kiln_error *err)
{
	const struct kiln_df_cmdline *cl = &step->instr.u.run.cmd;
	cleanup(kiln_strv_release) struct kiln_strv args = KILN_STRV_INIT;
	for (size_t i = 0; i < cl->args.n; i++)
		if (kiln_strv_push(&args, cl->args.v[i]) < 0)
			return oom(err);
	if (cl->n_files) {
		if (args.len != 1 || cl->exec_form)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "parsing produced an invalid run command: %zu arguments",
					 args.len);
		struct kiln_buf b = KILN_BUF_INIT;
		int r = 0;
		if (kiln_df_cmdline_is_heredoc(cl)) {
			/* one heredoc and nothing else: a script */
			const struct kiln_df_inline *f = &cl->files[0];
			if (f->chomp)
				r = kiln_df_chomp_heredoc(f->data, strlen(f->data), &b);
			else
				r = kiln_buf_addstr(&b, f->data);
			if (r >= 0 && !strncmp(b.buf, "#!", 2)) {
				/* with a shebang: a file, run by its interpreter */
				cleanup_free char *path = kiln_asprintf("/dev/pipes/%s", f->name);
				if (!path || kiln_strv_push(files, path) < 0 ||
				    kiln_strv_push(files, b.buf) < 0)
					r = -KILN_ENOMEM;
				kiln_buf_reset(&b);
				if (r >= 0)
					r = kiln_buf_addstr(&b, path);
			}
		} else {
			/* heredocs inside a longer line: the shell reads them itself */
			r = kiln_buf_addstr(&b, args.items[0]);
			for (size_t i = 0; r >= 0 && i < cl->n_files; i++)
				r = kiln_buf_addf(&b, "\n%s%s", cl->files[i].data,
						  cl->files[i].name);
		}
		if (r >= 0) {
			free(args.items[0]);
			args.items[0] = kiln_buf_detach(&b, NULL);
			r = args.items[0] ? 0 : -KILN_ENOMEM;
		}
		kiln_buf_release(&b);
		if (r < 0)
			return oom(err);
	}
	if (cl->exec_form)
		return kiln_strv_copy(argv, &args) < 0 ? oom(err) : 0;
	for (size_t i = 0; i < step->shell.n; i++)
		if (kiln_strv_push(argv, step->shell.v[i]) < 0)
			return oom(err);
	struct kiln_buf j = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < args.len; i++)
		r = kiln_buf_addf(&j, "%s%s", i ? " " : "", args.items[i]);
	if (r >= 0)
		r = kiln_strv_push(argv, j.buf);
	kiln_buf_release(&j);
	return r < 0 ? oom(err) : 0;
}

/* ---- the environment ------------------------------------------------------------- */

/* Set "K=V" in `env`, replacing an entry of the same K. */
static int env_replace(struct kiln_strv *env, const char *kv, struct kiln_error *err)
{
	size_t kl = strcspn(kv, "=");
	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->items[i], kv, kl) && env->items[i][kl] == '=') {
			char *n = kiln_strdup(kv);
			if (!n)
				return oom(err);
			explicit_bzero(env->items[i], strlen(env->items[i]));
			free(env->items[i]);
			env->items[i] = n;
			return 0;
		}
	return kiln_strv_push(env, kv) < 0 ? oom(err) : 0;
}

static int is_added(const struct kiln_strv *added, const char *kv)
{
	size_t kl = strcspn(kv, "=");
	for (size_t i = 0; i < added->len; i++)
		if (!strncmp(added->items[i], kv, kl) && added->items[i][kl] == '=')
			return 1;
	return 0;
}

/* ---- output ------------------------------------------------------------------- */

struct reader {
	struct bb *b;
	const struct bb_vertex *v;
	int fd;
	int efd;
	char *tail; /* a ring of the last KILN_BUILD_LOG_TAIL bytes */
	size_t tail_len, tail_pos;
};

static void tail_add(struct reader *rd, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rd->tail[rd->tail_pos] = p[i];
		rd->tail_pos = (rd->tail_pos + 1) % KILN_BUILD_LOG_TAIL;
		if (rd->tail_len < KILN_BUILD_LOG_TAIL)
			rd->tail_len++;
	}
}

static int drain(struct reader *rd, char *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(rd->fd, buf, size);
		if (n > 0) {
			bb_log(rd->b, rd->v, buf, (size_t) n, 1);
			tail_add(rd, buf, (size_t) n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n == 0 ? 1 : 0; /* 1: end of output */
	}
}

static void *read_output(void *arg)
{
	struct reader *rd = arg;
	char buf[16384];
	for (;;) {
		struct pollfd p[2] = { { rd->fd, POLLIN, 0 }, { rd->efd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && drain(rd, buf, sizeof(buf)))
			break;
		if (p[1].revents) {
			/* the process ended: what it wrote is in the pipe already (another
			 * sandbox may still hold the write end, so no EOF is awaited) */
			(void) drain(rd, buf, sizeof(buf));
			break;
		}
	}
	return NULL;
}

static char *tail_copy(const struct reader *rd, size_t *len)
{
	char *out = kiln_malloc(rd->tail_len + 1);
	if (!out)
		return NULL;
	size_t start = (rd->tail_pos + KILN_BUILD_LOG_TAIL - rd->tail_len) % KILN_BUILD_LOG_TAIL;
	for (size_t i = 0; i < rd->tail_len; i++)
		out[i] = rd->tail[(start + i) % KILN_BUILD_LOG_TAIL];
	out[rd->tail_len] = '\0';
	*len = rd->tail_len;
	return out;
}

/* Go's %q of the command as BuildKit reports it */
static char *process_text(const char *const *argv, size_t argc)
{
	struct kiln_buf j = KILN_BUF_INIT, q = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < argc; i++)
		r = kiln_buf_addf(&j, "%s%s", i ? " " : "", argv[i]);
	if (r >= 0)
		r = kiln_go_quote(&q, j.buf, j.len);
	kiln_buf_release(&j);
	if (r < 0) {
		kiln_buf_release(&q);
		return NULL;
	}
	return kiln_buf_detach(&q, NULL);
}

int bb_run(struct bb_step_ctx *sc, struct kiln_snapshot_mount *m, const char *const *argv,
	   size_t argc, struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct kiln_df_step *step = sc->ps->df;
	const struct kiln_df_run *run = &step->instr.u.run;
	cleanup(kiln_strv_release) struct kiln_strv env = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv av = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv files = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv argv2 = KILN_STRV_INIT;
	for (size_t i = 0; i < step->env.n; i++)
		if (kiln_strv_push(&env, step->env.v[i]) < 0)
			return oom(err);
	/* the proxy args after the step's environment, in place of a same name */
	for (size_t i = 0; i < step->proxy_env.n; i++) {
		const char *kv = step->proxy_env.v[i];
		size_t kl = strcspn(kv, "=");
		size_t at = 0;
		while (at < env.len && !(strncmp(env.items[at], kv, kl + 1) == 0))
			at++;
		char *dup = kiln_strdup(kv);
		if (!dup)
			return oom(err);
		if (at < env.len) {
			free(env.items[at]);
			env.items[at] = dup;
		} else if (kiln_strv_push_owned(&env, dup) < 0) {
			return oom(err);
		}
	}
	for (size_t i = 0; i < argc; i++)
		if (kiln_strv_push(&av, argv[i]) < 0)
			return oom(err);
	int r = bb_run_argv(step, &argv2, &files, err);
	if (r < 0)
		return r;
	/* mounts (mounts-run.c): secret files first, then a heredoc script */
	struct bb_run_mounts rm;
	r = bb_run_mounts_setup(sc, 1, &rm, err);
	if (r >= 0 && files.len >= 2)
		rm.files[rm.n_files++] = (struct kiln_exec_file){ .path = files.items[0],
								  .data = files.items[1],
								  .len = strlen(files.items[1]),
								  .mode = 0755,
								  .flags = KILN_EXEC_FILE_RO_EXEC };
	for (size_t i = 0; r >= 0 && i < rm.env.len; i++)
		r = env_replace(&env, rm.env.items[i], err);
	if (r < 0) {
		bb_run_mounts_release(&rm);
		return r;
	}

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		bb_run_mounts_release(&rm);
		return kiln_fail_errno(err, "creating a pipe");
	}
	struct reader rd = { .b = b, .v = sc->v, .fd = pfd[0], .efd = -1 };
	rd.tail = kiln_malloc(KILN_BUILD_LOG_TAIL);
	rd.efd = eventfd(0, EFD_CLOEXEC);
	(void) fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	if (!rd.tail || rd.efd < 0) {
		free(rd.tail);
		if (rd.efd >= 0)
			(void) close(rd.efd);
		(void) close(pfd[0]);
		(void) close(pfd[1]);
		bb_run_mounts_release(&rm);
		return rd.tail ? kiln_fail_errno(err, "eventfd") : oom(err);
	}
	pthread_t tid;
	int reading = kiln_thread_start(&tid, read_output, &rd) == 0;

	enum kiln_df_network net = run->network;
	struct kiln_exec_spec spec = KILN_EXEC_SPEC_INIT;
	spec.rootfs_fd = kiln_snapshot_mount_fd(m);
	spec.argv = av.items;
	spec.env = env.items;
	spec.cwd = step->workdir;
	spec.user = step->user && *step->user ? step->user : NULL;
	spec.network = (net == KILN_DF_NETWORK_NONE ||
			(net == KILN_DF_NETWORK_DEFAULT && b->o->network == KILN_BUILD_NET_NONE))
			       ? KILN_EXEC_NET_NONE
			       : KILN_EXEC_NET_HOST;
	spec.hostname = b->hostname;
	spec.hosts = b->o->add_hosts;
	spec.n_hosts = b->o->n_add_hosts;
	spec.rlimits = b->o->ulimits;
	spec.n_rlimits = b->o->n_ulimits;
	spec.shm_size = b->o->shm_size;
	spec.mounts = rm.mounts;
	spec.n_mounts = rm.n_mounts;
	spec.files = rm.files;
	spec.n_files = rm.n_files;
	spec.flags |= rm.exec_flags;
	spec.stdin_fd = -1;
	spec.stdout_fd = pfd[1];
	spec.stderr_fd = pfd[1];
	spec.filters = b->filters;

	struct kiln_exec_proc *proc = NULL;
	struct kiln_exec_status status = { 0 };
	/* until the sandbox's pid 1 has closed its copies of kiln's descriptors */
	bb_spawn_begin(b);
	r = kiln_exec_start(&b->ctx, &spec, &proc, err);
	bb_spawn_end(b);
	(void) close(pfd[1]);
	if (r >= 0)
		r = kiln_exec_wait(proc, &status, err);
	kiln_exec_proc_free(proc);
	uint64_t one = 1;
	if (write(rd.efd, &one, sizeof(one)) < 0) {
		/* the reader then stops at EOF instead */
	}
	if (reading)
		(void) pthread_join(tid, NULL);
	else
		(void) drain(&rd, (char[4096]){ 0 }, 4096);
	/* the secret variables live in `env` too: wiped with the mounts' */
	for (size_t i = 0; i < env.len; i++)
		if (is_added(&rm.env, env.items[i]))
			explicit_bzero(env.items[i], strlen(env.items[i]));
	bb_run_mounts_release(&rm);

	cleanup_free char *proc_text = process_text(argv, argc);
	size_t tail_len = 0;
	cleanup_free char *tail = tail_copy(&rd, &tail_len);
	free(rd.tail);
	(void) close(rd.efd);
	(void) close(pfd[0]);
	if (!proc_text || !tail)
		return oom(err);
	if (r == -KILN_ECANCEL)
		return r;
	if (r < 0) {
		(void) kiln_error_prefix(err, r, "process %s did not start", proc_text);
		if (err)
			err->code = KILN_ECHILD;
		bb_vertex_error(b, sc->v, err && err->msg ? err->msg : "the process did not start",
				tail, tail_len);
		return -KILN_ECHILD;
	}
	int code = kiln_exec_status_exit_code(&status);
	if (code != 0) {
		(void) kiln_fail(err, KILN_ECHILD, 0,
				 "process %s did not complete successfully: exit code: %d",
				 proc_text, code);
		bb_vertex_error(b, sc->v, err && err->msg ? err->msg : "the process failed", tail,
				tail_len);
		return -KILN_ECHILD;
	}
	return 0;
}
