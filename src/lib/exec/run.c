/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parent side of a sandbox: clone3() the child, learn whether the process
 * started, then wait for it while relaying the terminal and forwarding
 * signals, and finally remove the mount points the sandbox had to create.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec/exec-private.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int kiln_exec_status_exit_code(const struct kiln_exec_status *st)
{
	return st->signaled ? 128 + st->code : st->code;
}

/* ---- mount point removal ----------------------------------------------- */

static int open_parent_in_root(int rootfd, const char *path, const char **base, int flags)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	size_t dlen = slash ? (size_t) (slash - path) : 0;
	if (dlen == 0) {
		dir[0] = '.';
		dlen = 1;
	} else {
		if (dlen >= sizeof(dir))
			return -1;
		memcpy(dir, path + 1, dlen - 1);
		dlen--;
	}
	dir[dlen] = '\0';
	struct open_how how = {
		.flags = (uint64_t) (flags | O_DIRECTORY | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int) syscall(SYS_openat2, rootfd, dir, &how, sizeof(how));
}

/*
 * Remove what the sandbox created to mount on (BuildKit's mount stub
 * cleaner): newest first, only while still empty, and the parent's times put
 * back when nothing else touched it since.
 */
static void remove_stubs(struct kiln_exec_proc *p)
{
	struct xshared *sh = p->plan.sh;
	if (p->cleaned || !sh || p->plan.rootfd < 0)
		return;
	p->cleaned = 1;
	/* another sandbox over the same root may be using these mount points
	 * (removing a directory that is a mount point in another namespace
	 * unmounts it there): then they stay */
	if (sh->n_stubs && p->plan.root_lock >= 0 &&
	    flock(p->plan.root_lock, LOCK_EX | LOCK_NB) < 0) {
		kiln_debug(p->ctx,
			   "exec: the root is in use by another sandbox; keeping %d mount "
			   "points",
			   sh->n_stubs);
		return;
	}
	int n = sh->n_stubs;
	if (n > KILN_EXEC_STUB_MAX)
		n = KILN_EXEC_STUB_MAX;
	for (int i = n - 1; i >= 0; i--) {
		struct xstub *s = &sh->stubs[i];
		s->path[sizeof(s->path) - 1] = '\0';
		if (s->path[0] != '/' || !s->path[1])
			continue;
		const char *base;
		cleanup_close int dfd =
			open_parent_in_root(p->plan.rootfd, s->path, &base, O_RDONLY);
		if (dfd < 0)
			continue;
		struct stat st;
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* untouched since kiln made the stub? then its times go back too */
		struct stat ds;
		int restore = s->have_times && fstat(dfd, &ds) == 0 &&
			      ds.st_mtim.tv_sec == s->parent_after.tv_sec &&
			      ds.st_mtim.tv_nsec == s->parent_after.tv_nsec;
		int r;
		if (s->is_dir && S_ISDIR(st.st_mode))
			r = unlinkat(dfd, base, AT_REMOVEDIR);
		else if (!s->is_dir && S_ISREG(st.st_mode) && st.st_size == 0)
			r = unlinkat(dfd, base, 0);
		else
			continue;
		if (r < 0) {
			kiln_debug(p->ctx, "exec: keeping mount point %s: %s", s->path,
				   strerror(errno));
			continue;
		}
		if (restore)
			(void) futimens(dfd, s->parent_before);
	}
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void) close(*fd);
	*fd = -1;
}

int kiln_exec_proc_reap(struct kiln_exec_proc *p)
{
	if (p->reaped || p->pidfd < 0)
		return 0;
	for (;;) {
		memset(&p->init_info, 0, sizeof(p->init_info));
		if (waitid((idtype_t) P_PIDFD, (id_t) p->pidfd, &p->init_info, WEXITED) == 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	p->reaped = 1;
	remove_stubs(p);
	return 0;
}

void kiln_exec_proc_free(struct kiln_exec_proc *p)
{
	if (!p)
		return;
	if (p->pidfd >= 0 && !p->reaped) {
		(void) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
		(void) kiln_exec_proc_reap(p);
	}
	remove_stubs(p);
	close_fd(&p->pidfd);
	close_fd(&p->start_r);
	close_fd(&p->alive_w);
	close_fd(&p->tty_sock);
	close_fd(&p->master);
	kiln_exec_plan_release(&p->plan);
	free(p);
}

static pid_t clone_sandbox(unsigned long flags, int *pidfd)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = flags | CLONE_PIDFD;
	args.pidfd = (uint64_t) (uintptr_t) pidfd;
	args.exit_signal = SIGCHLD;
	pid_t pid = (pid_t) syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && errno == ENOSYS)
		/* clone3 filtered (kiln itself in a container): plain clone, same flags */
		pid = (pid_t) syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, NULL, pidfd, NULL,
				      NULL);
	return pid;
}

static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

void kiln_exec_proc_copy_winsize(struct kiln_exec_proc *p)
{
	struct winsize ws;
	if (p->master < 0)
		return;
	if ((p->in_fd >= 0 && ioctl(p->in_fd, TIOCGWINSZ, &ws) == 0) ||
	    (p->out_fd >= 0 && ioctl(p->out_fd, TIOCGWINSZ, &ws) == 0))
		(void) ioctl(p->master, TIOCSWINSZ, &ws);
}

static int start_failed(struct kiln_exec_proc *p, struct kiln_error *err)
{
	struct xshared *sh = p->plan.sh;
	(void) kiln_exec_proc_reap(p);
	sh->msg[sizeof(sh->msg) - 1] = '\0';
	if (sh->stubs_overflow)
		return kiln_fail(err, KILN_ELIMIT, 0,
				 "setting up the sandbox: more than %d mount points to create",
				 KILN_EXEC_STUB_MAX);
	if (sh->code == KILN_ECHILD)
		return kiln_fail(err, sh->sys_errno == ENOENT ? KILN_ENOTFOUND : KILN_ECHILD,
				 sh->sys_errno, "%s", sh->msg);
	return kiln_fail(
		err, sh->code > 0 && sh->code < KILN_ERR_MAX_ ? (enum kiln_err) sh->code : KILN_EIO,
		sh->sys_errno, "setting up the sandbox: %s", sh->msg);
}

int kiln_exec_start(const struct kiln_ctx *ctx, const struct kiln_exec_spec *spec,
		    struct kiln_exec_proc **ret, struct kiln_error *err)
{
	cleanup(kiln_exec_proc_freep) struct kiln_exec_proc *p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->ctx = ctx;
	p->pid = -1;
	p->pidfd = p->start_r = p->alive_w = p->tty_sock = p->master = -1;
	p->plan.rootfd = p->plan.root_lock = p->plan.root_tree = p->plan.files_fd = -1;
	p->flags = spec->flags;
	p->in_fd = spec->stdin_fd;
	p->out_fd = spec->stdout_fd;

	int r = kiln_exec_plan_build(spec, &p->plan, err);
	if (r < 0)
		return r;

	int start[2], alive[2], sock[2] = { -1, -1 };
	if (pipe2(start, O_CLOEXEC) < 0)
		return kiln_fail_errno(err, "pipe");
	if (pipe2(alive, O_CLOEXEC) < 0) {
		int e = errno;
		(void) close(start[0]);
		(void) close(start[1]);
		return kiln_fail(err, KILN_EIO, e, "pipe");
	}
	if ((spec->flags & KILN_EXEC_TTY) &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0) {
		int e = errno;
		(void) close(start[0]);
		(void) close(start[1]);
		(void) close(alive[0]);
		(void) close(alive[1]);
		return kiln_fail(err, KILN_EIO, e, "socketpair");
	}
	p->start_r = start[0];
	p->alive_w = alive[1];
	p->tty_sock = sock[0];
	p->plan.start_w = start[1];
	p->plan.alive_r = alive[0];
	p->plan.tty_sock = sock[1];
	p->plan.parent_fds[0] = start[0];
	p->plan.parent_fds[1] = alive[1];
	p->plan.parent_fds[2] = sock[0];

	kiln_debug(ctx, "exec: starting %s in %s", spec->argv[0],
		   spec->rootfs ? spec->rootfs : "(fd)");
	p->pid = clone_sandbox(p->plan.clone_flags, &p->pidfd);
	if (p->pid == 0)
		kiln_exec_child(&p->plan);
	int clone_errno = errno;
	(void) close(start[1]);
	(void) close(alive[0]);
	if (sock[1] >= 0)
		(void) close(sock[1]);
	if (p->pid < 0) {
		p->pidfd = -1;
		if (clone_errno == EPERM)
			return kiln_fail(err, KILN_EIO, clone_errno,
					 "creating the sandbox's namespaces (kiln needs root)");
		return kiln_fail(err, KILN_EIO, clone_errno, "creating the sandbox");
	}

	/* wait until the process runs (start_w closed by exec) or setup failed */
	char c;
	ssize_t n;
	do
		n = read(p->start_r, &c, 1);
	while (n < 0 && errno == EINTR);
	close_fd(&p->start_r);
	if (p->plan.sh->failed)
		return start_failed(p, err);

	if (spec->flags & KILN_EXEC_TTY) {
		p->master = recv_fd(p->tty_sock);
		if (p->master < 0) {
			(void) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
			(void) kiln_exec_proc_reap(p);
			return kiln_fail(err, KILN_EIO, 0, "the sandbox sent no terminal");
		}
		int fl = fcntl(p->master, F_GETFL);
		if (fl >= 0)
			(void) fcntl(p->master, F_SETFL, fl | O_NONBLOCK);
		kiln_exec_proc_copy_winsize(p);
	}
	close_fd(&p->tty_sock);
	*ret = steal_ptr(&p);
	return 0;
}

int kiln_exec_kill(struct kiln_exec_proc *p, int sig, struct kiln_error *err)
{
	if (p->reaped)
		return kiln_fail(err, KILN_EINVAL, ESRCH, "the sandbox has ended");
	/* pid 1 forwards it to the process (SIGKILL ends the whole sandbox) */
	if (syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0) < 0)
		return kiln_fail_errno(err, "signalling the sandbox");
	return 0;
}

int kiln_exec_proc_status(struct kiln_exec_proc *p, struct kiln_exec_status *ret,
			  struct kiln_error *err)
{
	struct xshared *sh = p->plan.sh;
	if (!p->reaped)
		return kiln_fail(err, KILN_EINTERNAL, 0, "the sandbox is still running");
	if (sh->done) {
		int ws = sh->wstatus;
		ret->signaled = WIFSIGNALED(ws);
		ret->code = WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws);
		return 0;
	}
	/* pid 1 itself was killed (SIGKILL from outside): so was the process */
	if (p->init_info.si_code == CLD_EXITED) {
		ret->signaled = 0;
		ret->code = p->init_info.si_status;
	} else {
		ret->signaled = 1;
		ret->code = p->init_info.si_status;
	}
	return 0;
}
