/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec's run API as the build engine uses it: output through a pipe,
 * generated files with an owner, cancellation and kill from another thread,
 * and sandboxes started from several threads at once while other threads
 * allocate (the child of a multi-threaded process must not deadlock).
 * Needs root and /bin/busybox.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "tap.h"

static char root[64];

static int make_rootfs(void)
{
	char path[128];
	(void) snprintf(root, sizeof(root), "/tmp/kiln-test-exec-run.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	(void) snprintf(path, sizeof(path), "%s/bin", root);
	if (mkdir(path, 0755) < 0)
		return -1;
	(void) snprintf(path, sizeof(path), "%s/bin/busybox", root);
	int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
	int out = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		return -1;
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (kiln_write_all(out, buf, (size_t) n) < 0)
			return -1;
	(void) close(in);
	(void) close(out);
	return n < 0 ? -1 : 0;
}

/* Run argv in the rootfs (with `flags`); stdout into *ret_out. */
static int run_flags(const struct kiln_ctx *ctx, char **argv, const struct kiln_exec_file *files,
		     size_t n_files, unsigned flags, struct kiln_exec_status *st, char **ret_out,
		     struct kiln_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	struct kiln_exec_spec s = KILN_EXEC_SPEC_INIT;
	s.flags = flags;
	s.rootfs = root;
	s.argv = argv;
	s.stdout_fd = p[1];
	s.stderr_fd = p[1];
	s.files = files;
	s.n_files = n_files;
	struct kiln_exec_proc *proc = NULL;
	int r = kiln_exec_start(ctx, &s, &proc, err);
	(void) close(p[1]);
	char *out = NULL;
	size_t len = 0;
	/* read everything first: a full pipe would block the process */
	if (kiln_read_fd(p[0], 1 << 20, &out, &len, NULL) < 0)
		out = NULL;
	(void) close(p[0]);
	if (r >= 0)
		r = kiln_exec_wait(proc, st, err);
	kiln_exec_proc_free(proc);
	if (ret_out)
		*ret_out = out;
	else
		free(out);
	return r;
}

static int run(const struct kiln_ctx *ctx, char **argv, const struct kiln_exec_file *files,
	       size_t n_files, struct kiln_exec_status *st, char **ret_out, struct kiln_error *err)
{
	return run_flags(ctx, argv, files, n_files, 0, st, ret_out, err);
}

/* Without KILN_EXEC_INIT the process is pid 1 (a signal from inside without a
 * handler does nothing to it), with it pid 2 under kiln's init. */
static void test_pid_one(void)
{
	struct kiln_exec_status st;
	struct kiln_error err = KILN_ERROR_INIT;
	char *out = NULL;
	char *argv[] = { "/bin/busybox", "sh", "-c", "echo $$; kill -TERM $$; echo alive", NULL };
	int r = run_flags(NULL, argv, NULL, 0, 0, &st, &out, &err);
	TAP_OK(r == 0 && out && !strcmp(out, "1\nalive\n") && !st.signaled && st.code == 0,
	       "without an init: pid 1, deaf to its own SIGTERM");
	free(out);
	kiln_error_release(&err);
	out = NULL;
	r = run_flags(NULL, argv, NULL, 0, KILN_EXEC_INIT, &st, &out, &err);
	TAP_OK(r == 0 && out && !strcmp(out, "2\n") && st.signaled && st.code == SIGTERM,
	       "with kiln's init: pid 2, ended by SIGTERM");
	free(out);
	kiln_error_release(&err);
}

static void test_pipe_and_files(void)
{
	struct kiln_exec_status st;
	struct kiln_error err = KILN_ERROR_INIT;
	char *out = NULL;
	char *echo[] = { "/bin/busybox", "echo", "through a pipe", NULL };
	int r = run(NULL, echo, NULL, 0, &st, &out, &err);
	TAP_INT_EQ(r, 0, "run echo%s%s", err.msg ? ": " : "", err.msg ? err.msg : "");
	TAP_STR_EQ(out, "through a pipe\n", "stdout comes through a pipe");
	TAP_OK(st.signaled == 0 && st.code == 0, "exit status 0");
	free(out);
	kiln_error_release(&err);

	struct kiln_exec_file secret = {
		.path = "/run/secrets/token",
		.data = "s3cret",
		.len = 6,
		.mode = 0400,
		.uid = 1234,
		.gid = 5678,
	};
	char *stat_[] = { "/bin/busybox", "sh", "-c",
			  "/bin/busybox stat -c '%u:%g:%a' /run/secrets/token; "
			  "/bin/busybox cat /run/secrets/token",
			  NULL };
	r = run(NULL, stat_, &secret, 1, &st, &out, &err);
	TAP_INT_EQ(r, 0, "run with a generated file%s%s", err.msg ? ": " : "",
		   err.msg ? err.msg : "");
	TAP_STR_EQ(out, "1234:5678:400\ns3cret", "a generated file has its owner and mode");
	free(out);
	kiln_error_release(&err);
	char gone[128];
	(void) snprintf(gone, sizeof(gone), "%s/run", root);
	TAP_OK(access(gone, F_OK) < 0 && errno == ENOENT,
	       "the generated file's mount points are gone from the root");

	char *fail[] = { "/bin/busybox", "sh", "-c", "exit 7", NULL };
	r = run(NULL, fail, NULL, 0, &st, NULL, &err);
	TAP_OK(r == 0 && !st.signaled && st.code == 7, "exit status 7");
	char *missing[] = { "/no/such/binary", NULL };
	r = run(NULL, missing, NULL, 0, &st, NULL, &err);
	TAP_OK(r == -KILN_ENOTFOUND && err.sys_errno == ENOENT,
	       "a missing binary fails start with ENOENT");
	kiln_error_release(&err);
}

struct later {
	atomic_int *flag;
	struct kiln_exec_proc *proc;
	int sig;
	int ready_fd;
};

static void *set_later(void *arg)
{
	struct later *l = arg;
	char c;
	/* wait until the sandbox told us it runs */
	if (read(l->ready_fd, &c, 1) != 1)
		return NULL;
	if (l->flag)
		*l->flag = 1;
	else
		(void) kiln_exec_kill(l->proc, l->sig, NULL);
	return NULL;
}

static void test_cancel_and_kill(void)
{
	/* 0: cancelled; 1: SIGTERM through kiln's init; 2: SIGKILL to the process as pid 1 */
	for (int mode = 0; mode < 3; mode++) {
		atomic_int cancel = 0;
		struct kiln_ctx ctx = { .cancel = &cancel };
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return;
		char *argv[] = { "/bin/busybox", "sh", "-c", "echo r; exec /bin/busybox sleep 1000",
				 NULL };
		struct kiln_exec_spec s = KILN_EXEC_SPEC_INIT;
		s.rootfs = root;
		s.argv = argv;
		s.stdout_fd = p[1];
		s.flags = mode == 1 ? KILN_EXEC_INIT : 0;
		struct kiln_exec_proc *proc = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = kiln_exec_start(&ctx, &s, &proc, &err);
		(void) close(p[1]);
		if (r < 0) {
			TAP_OK(0, "start: %s", err.msg);
			kiln_error_release(&err);
			(void) close(p[0]);
			continue;
		}
		struct later l = { mode == 0 ? &cancel : NULL, proc, mode == 2 ? SIGKILL : SIGTERM,
				   p[0] };
		pthread_t t;
		(void) pthread_create(&t, NULL, set_later, &l);
		struct kiln_exec_status st = { 0 };
		r = kiln_exec_wait(proc, &st, &err);
		(void) pthread_join(t, NULL);
		if (mode == 0)
			TAP_INT_EQ(r, -KILN_ECANCEL,
				   "ctx->cancel set by another thread ends the sandbox");
		else
			TAP_OK(r == 0 && st.signaled && st.code == l.sig,
			       "kiln_exec_kill from another thread: killed by %s",
			       mode == 1 ? "SIGTERM (kiln's init)" : "SIGKILL (the process as pid 1)");
		kiln_error_release(&err);
		kiln_exec_proc_free(proc);
		(void) close(p[0]);
	}
}

static atomic_int stop_churn;

static void *churn(void *arg)
{
	(void) arg;
	while (!atomic_load(&stop_churn)) {
		void *v[64];
		for (int i = 0; i < 64; i++)
			v[i] = kiln_malloc((size_t) (16 + i * 64));
		for (int i = 0; i < 64; i++)
			free(v[i]);
	}
	return NULL;
}

struct worker {
	int id;
	int runs;
	int ok;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < w->runs; i++) {
		char word[32];
		(void) snprintf(word, sizeof(word), "w%d-%d", w->id, i);
		char *argv[] = { "/bin/busybox", "echo", word, NULL };
		struct kiln_exec_status st;
		char *out = NULL;
		struct kiln_error err = KILN_ERROR_INIT;
		int r = run(NULL, argv, NULL, 0, &st, &out, &err);
		char want[40];
		(void) snprintf(want, sizeof(want), "%s\n", word);
		if (r == 0 && !st.signaled && st.code == 0 && out && strcmp(out, want) == 0)
			w->ok++;
		else
			tap_diag("%s: r=%d %s status %d/%d out [%s]", word, r,
				 err.msg ? err.msg : "", st.signaled, st.code,
				 out ? out : "(null)");
		kiln_error_release(&err);
		free(out);
	}
	return NULL;
}

static void test_threads(void)
{
	enum { WORKERS = 4, RUNS = 8, CHURNERS = 2 };
	pthread_t churners[CHURNERS], workers[WORKERS];
	struct worker w[WORKERS];
	for (int i = 0; i < CHURNERS; i++)
		(void) pthread_create(&churners[i], NULL, churn, NULL);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ i, RUNS, 0 };
		(void) pthread_create(&workers[i], NULL, worker, &w[i]);
	}
	int total = 0;
	for (int i = 0; i < WORKERS; i++) {
		(void) pthread_join(workers[i], NULL);
		total += w[i].ok;
	}
	atomic_store(&stop_churn, 1);
	for (int i = 0; i < CHURNERS; i++)
		(void) pthread_join(churners[i], NULL);
	TAP_INT_EQ(total, WORKERS * RUNS,
		   "%d sandboxes from %d threads while %d threads allocate: all ran",
		   WORKERS * RUNS, WORKERS, CHURNERS);
}

int main(void)
{
	if (geteuid() != 0 || access("/bin/busybox", X_OK) < 0) {
		tap_skip("needs root and /bin/busybox", "sandbox runs");
		return tap_done();
	}
	if (!TAP_OK(make_rootfs() == 0, "a root filesystem with busybox"))
		return tap_done();
	test_pipe_and_files();
	test_pid_one();
	test_cancel_and_kill();
	test_threads();
	struct kiln_error err = KILN_ERROR_INIT;
	(void) kiln_rm_rf(root, &err);
	kiln_error_release(&err);
	return tap_done();
}
