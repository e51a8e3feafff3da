/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting for a sandbox: one poll() loop over the init's pidfd, the
 * terminal's master and the caller's stdin (KILN_EXEC_TTY), and a signalfd
 * of the signals to forward (KILN_EXEC_FORWARD_SIGNALS).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec/exec-private.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

struct relay {
	char in[4096];
	size_t in_len, in_off;
	int in_open;
	int master_open;
	int out_ok;
};

static void pump_master(struct kiln_exec_proc *p, struct relay *rl)
{
	char buf[8192];
	for (;;) {
		ssize_t n = read(p->master, buf, sizeof(buf));
		if (n > 0) {
			if (rl->out_ok && p->out_fd >= 0 &&
			    kiln_write_all(p->out_fd, buf, (size_t) n) < 0)
				rl->out_ok = 0; /* the reader went away: drop the rest */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EIO: no slave left open */
		rl->master_open = 0;
		return;
	}
}

static void push_input(struct kiln_exec_proc *p, struct relay *rl)
{
	while (rl->in_off < rl->in_len) {
		ssize_t n = write(p->master, rl->in + rl->in_off, rl->in_len - rl->in_off);
		if (n > 0) {
			rl->in_off += (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		rl->in_len = rl->in_off = 0; /* the terminal is gone */
		rl->in_open = 0;
		return;
	}
	rl->in_len = rl->in_off = 0;
}

static void read_input(struct kiln_exec_proc *p, struct relay *rl)
{
	ssize_t n = read(p->in_fd, rl->in, sizeof(rl->in));
	if (n > 0) {
		rl->in_len = (size_t) n;
		rl->in_off = 0;
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		/* end of input: the terminal's EOF character, once */
		rl->in_open = 0;
		struct termios t;
		rl->in[0] = tcgetattr(p->master, &t) == 0 ? (char) t.c_cc[VEOF] : 4;
		rl->in_len = 1;
		rl->in_off = 0;
	}
}

static void handle_signals(struct kiln_exec_proc *p, int sfd)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
		int sig = (int) si.ssi_signo;
		if (sig == SIGWINCH && p->master >= 0) {
			/* the kernel tells the terminal's foreground process */
			kiln_exec_proc_copy_winsize(p);
			continue;
		}
		if (!p->reaped)
			(void) syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
	}
}

static int wait_loop(struct kiln_exec_proc *p, int sfd, struct kiln_error *err)
{
	struct relay rl = {
		.in_open = p->master >= 0 && p->in_fd >= 0,
		.master_open = p->master >= 0,
		.out_ok = 1,
	};
	for (;;) {
		struct pollfd fds[4];
		int n = 0, i_pid, i_sig = -1, i_master = -1, i_in = -1;
		i_pid = n;
		fds[n++] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
		if (sfd >= 0) {
			i_sig = n;
			fds[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		}
		if (rl.master_open) {
			i_master = n;
			fds[n++] = (struct pollfd){
				.fd = p->master,
				.events = (short) (POLLIN | (rl.in_len > rl.in_off ? POLLOUT : 0)),
			};
		}
		if (rl.in_open && rl.in_len == rl.in_off) {
			i_in = n;
			fds[n++] = (struct pollfd){ .fd = p->in_fd, .events = POLLIN };
		}
		int timeout = p->ctx && p->ctx->cancel ? 100 : -1;
		int k = poll(fds, (nfds_t) n, timeout);
		if (k < 0 && errno != EINTR)
			return kiln_fail_errno(err, "waiting for the sandbox");
		if (kiln_cancelled(p->ctx)) {
			(void) syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
			(void) kiln_exec_proc_reap(p);
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		}
		if (k <= 0)
			continue;
		if (i_sig >= 0 && fds[i_sig].revents)
			handle_signals(p, sfd);
		if (i_master >= 0 && (fds[i_master].revents & (POLLIN | POLLHUP | POLLERR)))
			pump_master(p, &rl);
		if (i_master >= 0 && rl.master_open && (fds[i_master].revents & POLLOUT))
			push_input(p, &rl);
		if (i_in >= 0 && fds[i_in].revents) {
			read_input(p, &rl);
			if (rl.master_open)
				push_input(p, &rl);
		}
		if (fds[i_pid].revents) {
			/* pid 1 is gone, and with it every slave: drain the terminal */
			if (rl.master_open)
				pump_master(p, &rl);
			int r = kiln_exec_proc_reap(p);
			if (r < 0)
				return kiln_fail(err, KILN_EIO, -r, "reaping the sandbox");
			return 0;
		}
	}
}

int kiln_exec_wait(struct kiln_exec_proc *p, struct kiln_exec_status *ret, struct kiln_error *err)
{
	sigset_t set, old;
	int sfd = -1, masked = 0;
	if (p->reaped)
		return kiln_fail(err, KILN_EINVAL, 0, "the sandbox was already waited for");
	if (p->flags & KILN_EXEC_FORWARD_SIGNALS) {
		sigemptyset(&set);
		for (size_t i = 0; i < KILN_ARRAY_SIZE(forwarded); i++)
			sigaddset(&set, forwarded[i]);
		if (pthread_sigmask(SIG_BLOCK, &set, &old) == 0)
			masked = 1;
		sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
		if (sfd < 0) {
			int e = errno;
			if (masked)
				(void) pthread_sigmask(SIG_SETMASK, &old, NULL);
			return kiln_fail(err, KILN_EIO, e, "signalfd");
		}
	}
	int r = wait_loop(p, sfd, err);
	if (sfd >= 0) {
		handle_signals(p, sfd); /* what came in last is dropped, not re-raised */
		(void) close(sfd);
	}
	if (masked)
		(void) pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	return kiln_exec_proc_status(p, ret, err);
}

int kiln_exec_run(const struct kiln_ctx *ctx, const struct kiln_exec_spec *spec,
		  struct kiln_exec_status *ret, struct kiln_error *err)
{
	sigset_t set, old;
	int masked = 0;
	if (spec->flags & KILN_EXEC_FORWARD_SIGNALS) {
		/* from before the start, so that none is lost in between */
		sigemptyset(&set);
		for (size_t i = 0; i < KILN_ARRAY_SIZE(forwarded); i++)
			sigaddset(&set, forwarded[i]);
		masked = pthread_sigmask(SIG_BLOCK, &set, &old) == 0;
	}
	cleanup(kiln_exec_proc_freep) struct kiln_exec_proc *p = NULL;
	int r = kiln_exec_start(ctx, spec, &p, err);
	if (r >= 0)
		r = kiln_exec_wait(p, ret, err);
	if (masked)
		(void) pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}
