/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox child: pid 1 of the new pid namespace. It attaches the root
 * filesystem, pivots into it, mounts what a container needs, starts the
 * process (pid 2) and then stays as its init: reaping zombies, forwarding
 * signals, and killing what is left when the process ends.
 *
 * This code runs in a clone3() copy of a process that may have other
 * threads, so it makes system calls only: no malloc, no stdio, no locks, no
 * glibc set*id() wrappers (they signal the parent's threads). Everything it
 * needs was prepared in `struct xplan` before the clone; failures are
 * written into the shared page for the parent to report.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "exec/exec-private.h"

/* ---- reporting ---------------------------------------------------------- */

static void msg_set(struct xshared *sh, const char *const *parts)
{
	size_t n = 0;
	for (; *parts; parts++) {
		size_t l = strlen(*parts);
		if (n + l >= sizeof(sh->msg))
			l = sizeof(sh->msg) - 1 - n;
		memcpy(sh->msg + n, *parts, l);
		n += l;
	}
	sh->msg[n] = '\0';
}

/* Record a failure and end this process. */
__attribute__((noreturn)) static void fail(struct xplan *p, int code, int sys_errno, int status,
					   const char *const *parts)
{
	msg_set(p->sh, parts);
	p->sh->code = code;
	p->sh->sys_errno = sys_errno;
	p->sh->failed = 1;
	_exit(status);
}

#define FAIL_SETUP(p, e, ...)                                                                      \
	fail((p), KILN_EIO, (e), 125, (const char *const[]){ __VA_ARGS__, NULL })

/* ---- paths inside the root ---------------------------------------------- */

static int open_in_root(int rootfd, const char *abs, int flags)
{
	struct open_how how = {
		.flags = (uint64_t) (flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = abs[0] == '/' && abs[1] ? abs + 1 : (abs[0] == '/' ? "." : abs);
	return (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
}

enum resolve_flags {
	R_STUB = 1 << 0,  /* record what is created on the root mount */
	R_CHOWN = 1 << 1, /* chown what is created to the process's user */
};

static int record_stub(struct xplan *p, const char *path, size_t len, int is_dir, int pfd,
		       const struct stat *before)
{
	struct xshared *sh = p->sh;
	if (sh->n_stubs >= KILN_EXEC_STUB_MAX) {
		sh->stubs_overflow = 1;
		return -ENOSPC;
	}
	struct xstub *s = &sh->stubs[sh->n_stubs];
	if (len >= sizeof(s->path))
		return -ENAMETOOLONG;
	memcpy(s->path, path, len);
	s->path[len] = '\0';
	s->is_dir = is_dir;
	struct stat after;
	if (before && fstat(pfd, &after) == 0) {
		s->have_times = 1;
		s->parent_before[0] = before->st_atim;
		s->parent_before[1] = before->st_mtim;
		s->parent_after = after.st_mtim;
	}
	sh->n_stubs++;
	return 0;
}

/*
 * Open (O_PATH) `path` inside the root, creating what is missing: the last
 * component as a directory or an empty file, the ones before it as
 * directories. A dangling symlink on the way is followed (inside the root)
 * and its target created, as runc does for /etc/resolv.conf symlinks.
 * Returns the fd, -1 with *missing set for XT_EXISTING, or -errno.
 */
static int resolve_target(struct xplan *p, int rootfd, uint64_t root_mnt, const char *path,
			  enum xtarget type, unsigned flags, int *missing)
{
	char cur[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof(cur))
		return -ENAMETOOLONG;
	memcpy(cur, path, len + 1);
	*missing = 0;
	int hops = 0, rounds = 0;
	size_t pos = 1;
	for (;;) {
		if (++rounds > 4096)
			return -ELOOP;
		len = strlen(cur);
		if (len <= 1) {
			int fd = open_in_root(rootfd, "/", O_PATH);
			return fd < 0 ? -errno : fd;
		}
		size_t end = pos;
		while (end < len && cur[end] != '/')
			end++;
		int last = end >= len;
		char save = cur[end];
		cur[end] = '\0';
		int fd = open_in_root(rootfd, cur, O_PATH);
		if (fd >= 0) {
			cur[end] = save;
			if (last)
				return fd;
			(void) close(fd);
			pos = end + 1;
			continue;
		}
		int e = errno;
		if (e != ENOENT)
			return -e;
		if (type == XT_EXISTING) {
			*missing = 1;
			return -1;
		}
		/* every earlier prefix exists: create this component in its parent */
		char *comp = cur + pos;
		cur[pos - 1] = '\0';
		int pfd = open_in_root(rootfd, pos == 1 ? "/" : cur, O_PATH | O_DIRECTORY);
		cur[pos - 1] = '/';
		if (pfd < 0)
			return -errno;

		char link[PATH_MAX];
		ssize_t n = readlinkat(pfd, comp, link, sizeof(link) - 1);
		if (n >= 0) {
			/* a dangling symlink: continue at its target */
			char next[PATH_MAX];
			size_t nl = 0;
			link[n] = '\0';
			(void) close(pfd);
			if (++hops > 40)
				return -ELOOP;
			if (link[0] != '/') {
				/* relative to the directory holding the link */
				if (pos - 1 + 1 >= sizeof(next))
					return -ENAMETOOLONG;
				memcpy(next, cur, pos - 1);
				nl = pos - 1;
				next[nl++] = '/';
			}
			if (nl + (size_t) n >= sizeof(next))
				return -ENAMETOOLONG;
			memcpy(next + nl, link, (size_t) n);
			nl += (size_t) n;
			if (!last) {
				size_t rest = len - end; /* "/..." after this component */
				if (nl + rest >= sizeof(next))
					return -ENAMETOOLONG;
				next[nl] = '/';
				memcpy(next + nl + 1, cur + end + 1, rest - 1);
				nl += rest;
			}
			next[nl] = '\0';
			if (next[0] != '/') {
				memmove(next + 1, next, nl + 1);
				next[0] = '/';
			}
			(void) kiln_exec_clean_inplace(next);
			memcpy(cur, next, strlen(next) + 1);
			pos = 1;
			continue;
		}

		int as_dir = !last || type == XT_DIR;
		struct stat before;
		int have_before = fstat(pfd, &before) == 0;
		int r;
		if (as_dir) {
			r = mkdirat(pfd, comp, 0755);
		} else {
			int f = openat(pfd, comp,
				       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
			r = f < 0 ? -1 : 0;
			if (f >= 0)
				(void) close(f);
		}
		if (r < 0) {
			e = errno;
			(void) close(pfd);
			if (e != EEXIST)
				return -e;
			/* made meanwhile (another sandbox over this root): look again */
			cur[end] = save;
			continue;
		}
		if (flags & R_CHOWN)
			(void) fchownat(pfd, comp, p->uid, p->gid, AT_SYMLINK_NOFOLLOW);
		if ((flags & R_STUB) && kiln_exec_mnt_id(pfd) == root_mnt) {
			r = record_stub(p, cur, end, as_dir, pfd, have_before ? &before : NULL);
			if (r < 0) {
				(void) close(pfd);
				return r;
			}
		}
		(void) close(pfd);
		cur[end] = save;
	}
}

/* ---- mounts -------------------------------------------------------------- */

static int fs_new(const char *fstype, const struct xopt *opts, unsigned attr)
{
	int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	for (const struct xopt *o = opts; o && o->key; o++) {
		int r = o->value ? fsconfig(fs, FSCONFIG_SET_STRING, o->key, o->value, 0)
				 : fsconfig(fs, FSCONFIG_SET_FLAG, o->key, NULL, 0);
		if (r < 0) {
			int e = errno;
			(void) close(fs);
			return -e;
		}
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		(void) close(fs);
		return -e;
	}
	int m = fsmount(fs, FSMOUNT_CLOEXEC, attr);
	int e = errno;
	(void) close(fs);
	return m < 0 ? -e : m;
}

static int attach(int src, int target)
{
	if (move_mount(src, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

static const struct {
	const char *name;
	unsigned major, minor;
} dev_nodes[] = {
	{ "null", 1, 3 },   { "zero", 1, 5 },	 { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
	const char *name, *target;
} dev_links[] = {
	{ "fd", "/proc/self/fd" },	 { "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	{ "ptmx", "pts/ptmx" },		 { "core", "/proc/kcore" },
};

static void populate_dev(struct xplan *p, int dev)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dev_nodes); i++)
		if (mknodat(dev, dev_nodes[i].name, S_IFCHR | 0666,
			    makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
			FAIL_SETUP(p, errno, "creating /dev/", dev_nodes[i].name);
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dev_links); i++)
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0)
			FAIL_SETUP(p, errno, "creating /dev/", dev_links[i].name);
	static const char *const dirs[] = { "pts", "shm", "mqueue" };
	for (size_t i = 0; i < KILN_ARRAY_SIZE(dirs); i++)
		if (mkdirat(dev, dirs[i], 0755) < 0)
			FAIL_SETUP(p, errno, "creating /dev/", dirs[i]);
	if (p->insecure && p->loop_nr >= 0) {
		/* what BuildKit's insecure mode adds: loop-control and a free loop */
		char name[32] = "loop";
		char digits[16];
		int n = p->loop_nr, k = 0;
		do
			digits[k++] = (char) ('0' + n % 10);
		while ((n /= 10) && k < (int) sizeof(digits));
		for (int i = 0; i < k; i++)
			name[4 + i] = digits[k - 1 - i];
		name[4 + k] = '\0';
		if (mknodat(dev, "loop-control", S_IFCHR | 0660, makedev(10, 237)) < 0 ||
		    mknodat(dev, name, S_IFBLK | 0660, makedev(7, (unsigned) p->loop_nr)) < 0)
			FAIL_SETUP(p, errno, "creating /dev/", name);
	}
}

static void do_mount(struct xplan *p, int rootfd, uint64_t root_mnt, struct xmount *m)
{
	int missing = 0;
	int tfd = resolve_target(p, rootfd, root_mnt, m->target, m->target_type, R_STUB, &missing);
	if (missing)
		return;
	if (tfd < 0)
		FAIL_SETUP(p, -tfd, "preparing the mount point ", m->target);

	int src = -1, r;
	switch (m->kind) {
	case XM_FS:
		src = fs_new(m->fstype, m->opts, m->attr);
		if (src < 0)
			FAIL_SETUP(p, -src, "mounting ", m->fstype, " on ", m->target);
		if (m->populate_dev)
			populate_dev(p, src);
		break;
	case XM_TREE:
		src = m->tree_fd;
		break;
	case XM_RO: {
		src = open_tree(tfd, "",
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
		if (src < 0)
			FAIL_SETUP(p, errno, "making ", m->target, " read-only");
		struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(src, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			FAIL_SETUP(p, errno, "making ", m->target, " read-only");
		break;
	}
	case XM_MASK: {
		struct stat st;
		if (fstat(tfd, &st) < 0)
			FAIL_SETUP(p, errno, "masking ", m->target);
		if (S_ISDIR(st.st_mode)) {
			src = fs_new("tmpfs",
				     (const struct xopt[]){ { "size", "0" }, { NULL, NULL } },
				     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC);
			if (src < 0)
				FAIL_SETUP(p, -src, "masking ", m->target);
		} else {
			src = open_tree(rootfd, "dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			if (src < 0)
				FAIL_SETUP(p, errno, "masking ", m->target);
		}
		break;
	}
	}
	r = attach(src, tfd);
	if (r < 0)
		FAIL_SETUP(p, -r, "mounting on ", m->target);
	if (m->kind != XM_TREE)
		(void) close(src);
	(void) close(tfd);
}

/* ---- the terminal --------------------------------------------------------- */

static int send_fd(int sock, int fd)
{
	char byte = 'm';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Open a terminal in the sandbox's own devpts; the master goes to the
 * parent, the slave is returned and bound over /dev/console. */
static int setup_tty(struct xplan *p, int rootfd, uint64_t root_mnt)
{
	int master = open_in_root(rootfd, "/dev/ptmx", O_RDWR | O_NOCTTY);
	if (master < 0)
		FAIL_SETUP(p, errno, "opening /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		FAIL_SETUP(p, errno, "unlocking the terminal");
	if (p->have_winsize && ioctl(master, TIOCSWINSZ, &p->winsize) < 0)
		FAIL_SETUP(p, errno, "sizing the terminal");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		FAIL_SETUP(p, errno, "opening the terminal");
	if (fchown(slave, p->uid, (gid_t) -1) < 0)
		FAIL_SETUP(p, errno, "giving the terminal to the user");
	int r = send_fd(p->tty_sock, master);
	if (r < 0)
		FAIL_SETUP(p, -r, "passing the terminal to kiln");
	(void) close(master);

	int missing = 0;
	int tfd = resolve_target(p, rootfd, root_mnt, "/dev/console", XT_FILE, R_STUB, &missing);
	if (tfd < 0)
		FAIL_SETUP(p, -tfd, "preparing /dev/console");
	int src = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (src < 0 || attach(src, tfd) < 0)
		FAIL_SETUP(p, errno, "mounting /dev/console");
	(void) close(src);
	(void) close(tfd);
	return slave;
}

/* ---- the process ------------------------------------------------------------ */

static void set_caps(struct xplan *p)
{
	for (int c = 0; c <= p->cap_last && c < 64; c++) {
		if (p->caps & KILN_EXEC_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			FAIL_SETUP(p, errno, "dropping capabilities");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		FAIL_SETUP(p, errno, "clearing ambient capabilities");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		FAIL_SETUP(p, errno, "keeping capabilities");
	if (syscall(SYS_setgroups, p->n_groups, p->groups) < 0)
		FAIL_SETUP(p, errno, "setting supplementary groups");
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		FAIL_SETUP(p, errno, "setting the group id");
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		FAIL_SETUP(p, errno, "setting the user id");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		FAIL_SETUP(p, errno, "keeping capabilities");
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	/* docker run: a non-root user's exec (and $PATH search) is checked as
	 * the user's; the kernel drops what is left of them at the exec anyway */
	uint64_t eff = p->exec_without_caps ? 0 : p->caps;
	struct __user_cap_data_struct d[2] = {
		{ .effective = (uint32_t) eff, .permitted = (uint32_t) p->caps, .inheritable = 0 },
		{ .effective = (uint32_t) (eff >> 32),
		  .permitted = (uint32_t) (p->caps >> 32),
		  .inheritable = 0 },
	};
	if (syscall(SYS_capset, &h, d) < 0)
		FAIL_SETUP(p, errno, "setting capabilities");
}

__attribute__((noreturn)) static void exec_failed(struct xplan *p, int e, const char *in_path)
{
	const char *name = p->argv[0];
	int status = e == ENOENT ? 127 : 126;
	if (in_path)
		fail(p, KILN_ECHILD, e, status,
		     (const char *const[]){ "exec \"", name, "\" (searched $PATH=", in_path, ")",
					    NULL });
	fail(p, KILN_ECHILD, e, status, (const char *const[]){ "exec \"", name, "\"", NULL });
}

__attribute__((noreturn)) static void exec_process(struct xplan *p)
{
	const char *name = p->argv[0];
	if (strchr(name, '/')) {
		execve(name, p->argv, p->envp);
		exec_failed(p, errno, NULL);
	}
	int eacces = 0;
	size_t nlen = strlen(name);
	const char *s = p->path;
	for (;;) {
		const char *colon = strchr(s, ':');
		size_t dlen = colon ? (size_t) (colon - s) : strlen(s);
		/* an empty entry is the current directory */
		const char *dir = dlen ? s : ".";
		if (!dlen)
			dlen = 1;
		if (dlen + nlen + 2 <= p->exec_buf_len) {
			memcpy(p->exec_buf, dir, dlen);
			p->exec_buf[dlen] = '/';
			memcpy(p->exec_buf + dlen + 1, name, nlen + 1);
			execve(p->exec_buf, p->argv, p->envp);
			switch (errno) {
			case EACCES:
				eacces = 1;
				break;
			case ENOENT:
			case ENOTDIR:
			case ESTALE:
			case ENODEV:
			case ETIMEDOUT:
			case ENAMETOOLONG:
				break;
			default:
				exec_failed(p, errno, NULL);
			}
		}
		if (!colon)
			break;
		s = colon + 1;
	}
	exec_failed(p, eacces ? EACCES : ENOENT, p->path);
}

/*
 * Close every descriptor from `from` up but `last`, which the caller closes
 * after them (or exec does). This copy of kiln got all of kiln's
 * descriptors, mounts of other stages among them, and the parent reads the
 * end of start_w as "the sandbox holds none of them any more": a stage
 * that commits waits for that before it unmounts (bb_unmount()). close_range
 * and exec close in ascending order, so a start_w below a mount's copy
 * would end before it.
 */
static int close_all_but(unsigned from, int last)
{
	unsigned l = (unsigned) last;
	if (last < 0 || l < from)
		return (int) syscall(SYS_close_range, from, ~0U, 0U);
	if (l > from && syscall(SYS_close_range, from, l - 1, 0U) < 0)
		return -1;
	return (int) syscall(SYS_close_range, l + 1, ~0U, 0U);
}

/* Become the process: pid 2 under kiln's init, or pid 1 itself (hidden -1). */
__attribute__((noreturn)) static void run_process(struct xplan *p, int tty_slave, int hidden)
{
	/* not before pid 1 has blanked kiln's command line (hide_command_line);
	 * as pid 1, the exec replaces it */
	char go;
	while (hidden >= 0 && read(hidden, &go, 1) < 0 && errno == EINTR)
		;
	if (hidden >= 0)
		(void) close(hidden);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int s = 1; s < _NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void) sigaction(s, &dfl, NULL);
	uint64_t empty = 0;
	(void) syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof(empty));

	/* pid 1 started the session already */
	if (getsid(0) != getpid() && setsid() < 0)
		FAIL_SETUP(p, errno, "starting a session");
	int src[3];
	if (tty_slave >= 0) {
		if (ioctl(tty_slave, TIOCSCTTY, 0) < 0)
			FAIL_SETUP(p, errno, "taking the terminal");
		src[0] = src[1] = src[2] = tty_slave;
	} else {
		int null_fd = -1;
		for (int i = 0; i < 3; i++) {
			src[i] = p->stdio[i];
			if (src[i] >= 0)
				continue;
			if (null_fd < 0)
				null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null_fd < 0)
				FAIL_SETUP(p, errno, "opening /dev/null");
			src[i] = null_fd;
		}
	}
	/* move the sources out of the way first: one may be 0, 1 or 2 */
	int tmp[3];
	for (int i = 0; i < 3; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
		if (tmp[i] < 0)
			FAIL_SETUP(p, errno, "setting up stdio");
	}
	for (int i = 0; i < 3; i++)
		if (dup2(tmp[i], i) < 0)
			FAIL_SETUP(p, errno, "setting up stdio");
	/* pipes and sockets become the user's so /dev/stdout can be reopened;
	 * files, terminals and named fifos of the caller are left alone (a
	 * fifo's owner is its file's, on the host) */
	for (int i = 0; i < 3 && tty_slave < 0; i++) {
		struct stat st;
		struct statfs sf;
		int anon_pipe = fstatfs(i, &sf) == 0 && sf.f_type == PIPEFS_MAGIC;
		if (fstat(i, &st) == 0 &&
		    ((S_ISFIFO(st.st_mode) && anon_pipe) || S_ISSOCK(st.st_mode)) &&
		    st.st_uid != p->uid)
			(void) fchown(i, p->uid, (gid_t) -1);
	}
	/* everything else closes now, start_w at exec, which tells the parent */
	if (close_all_but(3, p->start_w) < 0)
		FAIL_SETUP(p, errno, "closing file descriptors");

	umask(022);
	if (chdir(p->cwd) < 0)
		FAIL_SETUP(p, errno, "changing to the working directory ", p->cwd);
	/* --ulimit, while still root: a hard limit above kiln's needs CAP_SYS_RESOURCE */
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct kiln_exec_rlimit *l = &p->rlimits[i];
		struct rlimit rl = {
			.rlim_cur = l->soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t) l->soft,
			.rlim_max = l->hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t) l->hard,
		};
		if (setrlimit((__rlimit_resource_t) l->resource, &rl) < 0)
			FAIL_SETUP(p, errno, "setting the limit ", kiln_exec_rlimit_name(l->resource));
	}
	/* the filter goes in while this process still holds CAP_SYS_ADMIN, so
	 * without no_new_privs, as runc does unless asked: a setuid program
	 * (sudo, su) works in a RUN as under Docker; what the filter allows
	 * takes the capabilities set_caps() leaves (its calls are allowed) */
	if (p->seccomp.len && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->seccomp) < 0)
		FAIL_SETUP(p, errno, "loading the seccomp filter");
	set_caps(p);
	exec_process(p);
}

/* ---- pid 1 ------------------------------------------------------------------ */

static void loopback_up(struct xplan *p)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		FAIL_SETUP(p, errno, "bringing up lo");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		FAIL_SETUP(p, errno, "bringing up lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		FAIL_SETUP(p, errno, "bringing up lo");
	(void) close(s);
}

__attribute__((noreturn)) static void be_init(struct xplan *p, pid_t child)
{
	sigset_t all;
	sigfillset(&all);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	int wstatus = 0, done = 0;
	while (!done) {
		struct signalfd_siginfo si;
		ssize_t n = sfd >= 0 ? read(sfd, &si, sizeof(si)) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t) sizeof(si)) {
			/* no signalfd: fall back to just waiting for the process */
			if (waitpid(child, &wstatus, 0) == child)
				done = 1;
			continue;
		}
		if (si.ssi_signo != SIGCHLD) {
			(void) kill(child, (int) si.ssi_signo);
			continue;
		}
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG);
			if (w <= 0)
				break;
			if (w == child) {
				wstatus = st;
				done = 1;
			}
		}
	}
	/* the process is gone: so is everything it left behind */
	(void) kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	p->sh->wstatus = wstatus;
	p->sh->done = 1;
	_exit(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus));
}

/*
 * This process is kiln forked, not exec'd: its arguments and environment
 * are kiln's (--build-arg values, --creds, --secret sources), and a RUN
 * process reads /proc/1/cmdline. Blank them in this copy of the memory,
 * found where /proc/self/stat says they are; the name is "kiln-init". Only
 * once the process is forked: plan strings (the hostname, the command's
 * arguments) may point into them.
 */
static void hide_command_line(void)
{
	char buf[2048];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		(void) close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* fields after the command name in parentheses, which may hold spaces:
	 * arg_start is field 48, then arg_end, env_start, env_end (parsed by
	 * hand: after a fork of a threaded process, nothing that may lock) */
	const char *c = strrchr(buf, ')');
	unsigned long v[4] = { 0 };
	int field = 2;
	while (c && *c && field < 51) {
		if (*c++ != ' ')
			continue;
		field++;
		unsigned long x = 0;
		for (; *c >= '0' && *c <= '9'; c++)
			x = x * 10 + (unsigned long) (*c - '0');
		if (field >= 48)
			v[field - 48] = x;
	}
	if (field < 51)
		return;
	static const char name[] = "kiln-init";
	for (int k = 0; k < 4; k += 2) {
		if (v[k + 1] <= v[k] || v[k + 1] - v[k] > (64ul << 20))
			continue;
		memset((void *) v[k], 0, v[k + 1] - v[k]);
		if (k == 0 && v[1] - v[0] > sizeof(name))
			memcpy((void *) v[0], name, sizeof(name));
	}
}

void kiln_exec_child(struct xplan *p)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(p->parent_fds); i++)
		if (p->parent_fds[i] >= 0)
			(void) close(p->parent_fds[i]);
	/* die with the parent; if it is already gone, the alive pipe says so */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		FAIL_SETUP(p, errno, "setting the parent-death signal");
	struct pollfd pfd = { .fd = p->alive_r, .events = POLLIN };
	if (poll(&pfd, 1, 0) > 0)
		_exit(125);
	(void) prctl(PR_SET_NAME, "kiln-init", 0, 0, 0);
	/* out of the caller's session: signals the caller's terminal sends
	 * (^C, resizes, hangups) reach the sandbox only through kiln, once */
	if (setsid() < 0)
		FAIL_SETUP(p, errno, "starting a session");
	umask(0);

	/* nothing mounted here may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL_SETUP(p, errno, "making mounts private");
	/* put the root on top of "/", pivot into it, drop the old root */
	if (move_mount(p->root_tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		FAIL_SETUP(p, errno, "attaching the root filesystem");
	if (fchdir(p->root_tree) < 0)
		FAIL_SETUP(p, errno, "entering the root filesystem");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		FAIL_SETUP(p, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		FAIL_SETUP(p, errno, "detaching the old root");
	if (chdir("/") < 0)
		FAIL_SETUP(p, errno, "chdir /");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL_SETUP(p, errno, "making mounts private");
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		FAIL_SETUP(p, errno, "opening /");
	uint64_t root_mnt = kiln_exec_mnt_id(rootfd);

	/* the working directory belongs to the image, as in BuildKit: it is
	 * created before the mounts and owned by the user */
	int missing = 0;
	int cwd = resolve_target(p, rootfd, root_mnt, p->cwd, XT_DIR, R_CHOWN, &missing);
	if (cwd < 0)
		FAIL_SETUP(p, -cwd, "creating the working directory ", p->cwd);
	(void) close(cwd);

	for (size_t i = 0; i < p->n_mounts; i++)
		do_mount(p, rootfd, root_mnt, &p->mounts[i]);

	int tty_slave = -1;
	if (p->tty)
		tty_slave = setup_tty(p, rootfd, root_mnt);
	if (p->readonly_root) {
		struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
		if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
			FAIL_SETUP(p, errno, "making the root filesystem read-only");
	}
	if (sethostname(p->hostname, strlen(p->hostname)) < 0)
		FAIL_SETUP(p, errno, "setting the hostname");
	if (p->net_none)
		loopback_up(p);

	/* without an init the process is pid 1, as runc starts it */
	if (!p->init)
		run_process(p, tty_slave, -1);
	sigset_t all;
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
		FAIL_SETUP(p, errno, "blocking signals");
	int hidden[2];
	if (pipe2(hidden, O_CLOEXEC) < 0)
		FAIL_SETUP(p, errno, "starting the process");
	pid_t child = (pid_t) syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (child < 0)
		FAIL_SETUP(p, errno, "starting the process");
	if (child == 0) {
		(void) close(hidden[1]);
		run_process(p, tty_slave, hidden[0]);
	}
	/* the process has its own copy of the plan's strings, some of them in
	 * kiln's arguments: pid 1 needs them no more */
	hide_command_line();
	(void) !write(hidden[1], "", 1);
	/* pid 1 keeps nothing open: the caller's pipes see EOF when the process
	 * and its children are done */
	(void) close_all_but(0, p->start_w);
	(void) close(p->start_w);
	be_init(p, child);
}
