/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a spec to a plan (parent side, allowed to allocate): validate the
 * spec, resolve the user, build the seccomp program, generate the files and
 * prepare every bind source as a detached mount, so that the sandbox child
 * only has to attach them.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/gotext.h"
#include "exec/exec-private.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RESOLV_CONF_MAX ((size_t) 64 << 10)

static const struct xopt opts_none[] = { { NULL, NULL } };
static const struct xopt opts_dev[] = { { "mode", "755" }, { "size", "65536k" }, { NULL, NULL } };
static const struct xopt opts_pts[] = {
	{ "newinstance", NULL }, { "ptmxmode", "0666" }, { "mode", "0620" },
	{ "gid", "5" },		 { NULL, NULL },
};
static const struct xopt opts_shm[] = { { "mode", "1777" }, { "size", "65536k" }, { NULL, NULL } };

/* Docker's default masked and read-only paths. */
static const char *const masked_paths[] = {
	"/proc/asound",	    "/proc/acpi",	 "/proc/interrupts",
	"/proc/kcore",	    "/proc/keys",	 "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi",	    "/sys/firmware",	 "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static void *own(struct xplan *p, void *ptr)
{
	if (!ptr)
		return NULL;
	if (p->n_owned == p->alloc_owned) {
		size_t na = p->alloc_owned ? p->alloc_owned * 2 : 16;
		void **n = kiln_reallocarray(p->owned, na, sizeof(*n));
		if (!n) {
			free(ptr);
			return NULL;
		}
		p->owned = n;
		p->alloc_owned = na;
	}
	p->owned[p->n_owned++] = ptr;
	return ptr;
}

static char *own_str(struct xplan *p, char *s)
{
	return own(p, s);
}

void kiln_exec_plan_release(struct xplan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_mounts; i++)
		if (p->mounts[i].tree_fd >= 0)
			(void) close(p->mounts[i].tree_fd);
	if (p->rootfd >= 0)
		(void) close(p->rootfd);
	if (p->root_lock >= 0)
		(void) close(p->root_lock);
	if (p->root_tree >= 0)
		(void) close(p->root_tree);
	if (p->files_fd >= 0)
		(void) close(p->files_fd);
	if (p->sh)
		(void) munmap(p->sh, sizeof(*p->sh));
	for (size_t i = 0; i < p->n_owned; i++)
		free(p->owned[i]);
	free(p->owned);
	memset(p, 0, sizeof(*p));
	p->rootfd = p->root_lock = p->root_tree = p->files_fd = -1;
}

static struct xmount *add_mount(struct xplan *p, enum xmount_kind kind, const char *target,
				enum xtarget type)
{
	struct xmount *m = &p->mounts[p->n_mounts++];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->target = target;
	m->target_type = type;
	m->tree_fd = -1;
	return m;
}

static int check_hostname(const char *h, struct kiln_error *err)
{
	size_t len = strlen(h);
	if (len == 0 || len > KILN_EXEC_MAX_HOSTNAME)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid hostname '%s': 1 to %d characters",
				 h, KILN_EXEC_MAX_HOSTNAME);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return kiln_fail(err, KILN_EINVAL, 0, "invalid hostname '%s'", h);
	}
	return 0;
}

/*
 * A command line or environment entry as runc passes it: through the JSON of
 * its config, where Go writes each byte that is not UTF-8 as U+FFFD. The
 * string itself when it is valid (most are), else a copy the plan owns;
 * NULL when out of memory.
 */
static const char *as_json_text(struct xplan *p, const char *s)
{
	size_t len = strlen(s), w;
	size_t i = 0;
	while (i < len && !(kiln_utf8_decode(s + i, len - i, &w) == KILN_RUNE_ERROR && w == 1))
		i += w;
	if (i == len)
		return s;
	struct kiln_buf b = KILN_BUF_INIT;
	int r = kiln_buf_add(&b, s, i);
	while (r >= 0 && i < len) {
		int32_t c = kiln_utf8_decode(s + i, len - i, &w);
		r = c == KILN_RUNE_ERROR && w == 1 ? kiln_buf_add(&b, "\xef\xbf\xbd", 3)
						   : kiln_buf_add(&b, s + i, w);
		i += w;
	}
	char *out = r >= 0 ? kiln_buf_detach(&b, NULL) : NULL;
	kiln_buf_release(&b);
	return own_str(p, out);
}

/* The environment with HOME added when missing; the PATH to search. */
static int build_env(struct xplan *p, const struct kiln_exec_spec *spec, const char *home,
		     struct kiln_error *err)
{
	size_t n = 0;
	int have_home = 0;
	const char *path = NULL;
	for (char *const *e = spec->env; e && *e; e++, n++) {
		if (strncmp(*e, "HOME=", 5) == 0)
			have_home = 1;
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	}
	char **envp = own(p, kiln_calloc(n + 2, sizeof(char *)));
	if (!envp)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(envp[i] = (char *) as_json_text(p, spec->env[i])))
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (!have_home && !(envp[n] = own_str(p, kiln_asprintf("HOME=%s", home))))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->envp = envp;
	p->path = path ? path : DEFAULT_PATH;
	size_t len = strlen(p->path) + strlen(spec->argv[0]) + 3;
	p->exec_buf = own(p, kiln_malloc(len));
	if (!p->exec_buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->exec_buf_len = len;
	return 0;
}

/* The files generated for the sandbox, in a private tmpfs: kiln's defaults,
 * replaced by the caller's files of the same path. */
struct genfile {
	const char *path; /* cleaned */
	const char *data;
	size_t len;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	unsigned flags;
};

static int write_files(struct xplan *p, struct genfile *files, size_t n, struct kiln_error *err)
{
	int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return kiln_fail_errno(err, "creating the tmpfs for generated files");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		(void) close(fs);
		return kiln_fail(err, KILN_EIO, e, "creating the tmpfs for generated files");
	}
	p->files_fd = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	int e = errno;
	(void) close(fs);
	if (p->files_fd < 0)
		return kiln_fail(err, KILN_EIO, e, "mounting the tmpfs for generated files");
	for (size_t i = 0; i < n; i++) {
		char name[32];
		(void) snprintf(name, sizeof(name), "%zu", i);
		cleanup_close int fd =
			openat(p->files_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			return kiln_fail_errno(err, "writing %s", files[i].path);
		int r = kiln_write_all(fd, files[i].data, files[i].len);
		if (r < 0)
			return kiln_fail(err, KILN_EIO, -r, "writing %s", files[i].path);
		if (fchown(fd, files[i].uid, files[i].gid) < 0 || fchmod(fd, files[i].mode) < 0)
			return kiln_fail_errno(err, "writing %s", files[i].path);
		struct xmount *m = add_mount(p, XM_TREE, files[i].path, XT_FILE);
		m->tree_fd = open_tree(p->files_fd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (m->tree_fd < 0)
			return kiln_fail_errno(err, "preparing %s", files[i].path);
		if (files[i].flags & (KILN_EXEC_FILE_RO | KILN_EXEC_FILE_RO_EXEC)) {
			struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
							    MOUNT_ATTR_NODEV };
			if (files[i].flags & KILN_EXEC_FILE_RO)
				a.attr_set |= MOUNT_ATTR_NOEXEC;
			if (mount_setattr(m->tree_fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
				return kiln_fail_errno(err, "making %s read-only", files[i].path);
		}
	}
	return 0;
}

static int gen_files(struct xplan *p, const struct kiln_exec_spec *spec, struct kiln_error *err)
{
	struct genfile files[3 + KILN_EXEC_MAX_FILES];
	size_t n = 0;
	char *hosts = own_str(p, kiln_exec_hosts_file(p->hostname, spec->hosts, spec->n_hosts));
	char *hostname = own_str(p, kiln_asprintf("%s\n", p->hostname));
	if (!hosts || !hostname)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	/* the host's resolv.conf; with systemd-resolved the stub's upstream list */
	cleanup_free char *host_conf = NULL;
	size_t hlen = 0;
	struct kiln_error e2 = KILN_ERROR_INIT;
	if (kiln_read_file("/etc/resolv.conf", RESOLV_CONF_MAX, &host_conf, &hlen, &e2) < 0)
		host_conf = NULL;
	kiln_error_release(&e2);
	if (p->net_none && host_conf && strstr(host_conf, "nameserver 127.0.0.53")) {
		char *up = NULL;
		if (kiln_read_file("/run/systemd/resolve/resolv.conf", RESOLV_CONF_MAX, &up, &hlen,
				   &e2) >= 0) {
			free(host_conf);
			host_conf = up;
		}
		kiln_error_release(&e2);
	}
	char *resolv = own_str(p, kiln_exec_resolv_conf(host_conf, spec->network));
	if (!resolv)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	/* a container's are writable unless its root is read-only, as docker mounts
	 * them; a RUN's read-only, and no /etc/hostname, as BuildKit mounts them */
	int container = (spec->flags & KILN_EXEC_CONTAINER_FILES) != 0;
	unsigned ro = !container || (spec->flags & KILN_EXEC_READONLY_ROOT) ? KILN_EXEC_FILE_RO_EXEC
									    : 0;
	files[n++] = (struct genfile){ "/etc/hosts", hosts, strlen(hosts), 0644, 0, 0, ro };
	files[n++] = (struct genfile){ "/etc/resolv.conf", resolv, strlen(resolv), 0644, 0, 0, ro };
	if (container)
		files[n++] = (struct genfile){ "/etc/hostname", hostname, strlen(hostname),
					       0644, 0, 0, ro };
	for (size_t i = 0; i < spec->n_files; i++) {
		const struct kiln_exec_file *f = &spec->files[i];
		char *path = own_str(p, kiln_exec_clean_path(f->path));
		if (!f->path || !path)
			return kiln_fail(err, KILN_EINVAL, 0,
					 "generated file '%s': path must be absolute",
					 f->path ? f->path : "(null)");
		if (strcmp(path, "/") == 0)
			return kiln_fail(err, KILN_EINVAL, 0, "generated file: path is /");
		if (f->len > KILN_EXEC_MAX_FILE_SIZE)
			return kiln_fail(err, KILN_ELIMIT, 0, "generated file %s: larger than %zu",
					 path, KILN_EXEC_MAX_FILE_SIZE);
		if (f->flags & ~(unsigned) (KILN_EXEC_FILE_RO | KILN_EXEC_FILE_RO_EXEC))
			return kiln_fail(err, KILN_EINVAL, 0, "generated file %s: unknown flags 0x%x",
					 path, f->flags);
		size_t j = 0;
		while (j < n && strcmp(files[j].path, path) != 0)
			j++;
		files[j] = (struct genfile){ path,
					     f->data ? f->data : "",
					     f->data ? f->len : 0,
					     f->mode ? f->mode & 07777 : 0644,
					     f->uid,
					     f->gid,
					     f->flags };
		if (j == n)
			n++;
	}
	return write_files(p, files, n, err);
}

static int add_user_mounts(struct xplan *p, const struct kiln_exec_spec *spec,
			   struct kiln_error *err)
{
	/* parents before children: stable sort by depth, as Docker does */
	size_t order[KILN_EXEC_MAX_MOUNTS];
	size_t depth[KILN_EXEC_MAX_MOUNTS];
	char *targets[KILN_EXEC_MAX_MOUNTS];
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct kiln_exec_mount *m = &spec->mounts[i];
		targets[i] = own_str(p, kiln_exec_clean_path(m->target));
		if (!m->target || !targets[i])
			return kiln_fail(err, KILN_EINVAL, 0, "mount target '%s' must be absolute",
					 m->target ? m->target : "(null)");
		if (strcmp(targets[i], "/") == 0)
			return kiln_fail(err, KILN_EINVAL, 0, "cannot mount over /");
		depth[i] = 0;
		for (const char *c = targets[i]; *c; c++)
			depth[i] += *c == '/';
		size_t j = i;
		while (j > 0 && depth[order[j - 1]] > depth[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t k = 0; k < spec->n_mounts; k++) {
		size_t i = order[k];
		const struct kiln_exec_mount *m = &spec->mounts[i];
		if (m->type == KILN_EXEC_MOUNT_BIND) {
			if (!m->source || !*m->source)
				return kiln_fail(err, KILN_EINVAL, 0, "bind mount on %s: no source",
						 targets[i]);
			int fd = open_tree(AT_FDCWD, m->source,
					   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
			if (fd < 0)
				return kiln_fail_errno(err, "bind mount source %s", m->source);
			struct xmount *x = add_mount(p, XM_TREE, targets[i], XT_DIR);
			x->tree_fd = fd;
			if (m->flags & KILN_EXEC_MOUNT_RO) {
				struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
				if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
						  sizeof(a)) < 0)
					return kiln_fail_errno(err, "making %s read-only",
							       m->source);
			}
			struct stat st;
			if (fstat(fd, &st) < 0)
				return kiln_fail_errno(err, "bind mount source %s", m->source);
			x->target_type = S_ISDIR(st.st_mode) ? XT_DIR : XT_FILE;
		} else if (m->type == KILN_EXEC_MOUNT_TMPFS) {
			struct xopt *o = own(p, kiln_calloc(5, sizeof(*o)));
			char *size =
				own_str(p, kiln_asprintf("%llu", (unsigned long long) m->size));
			char *mode =
				own_str(p, kiln_asprintf("%o", m->mode ? m->mode & 07777 : 01777));
			if (!o || !size || !mode)
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			size_t no = 0;
			o[no++] = (struct xopt){ "mode", mode };
			if (m->size)
				o[no++] = (struct xopt){ "size", size };
			char *uid = m->uid ? own_str(p, kiln_asprintf("%u", (unsigned) m->uid)) : NULL;
			char *gid = m->gid ? own_str(p, kiln_asprintf("%u", (unsigned) m->gid)) : NULL;
			if ((m->uid && !uid) || (m->gid && !gid))
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			if (uid)
				o[no++] = (struct xopt){ "uid", uid };
			if (gid)
				o[no++] = (struct xopt){ "gid", gid };
			struct xmount *x = add_mount(p, XM_FS, targets[i], XT_DIR);
			x->fstype = "tmpfs";
			x->opts = o;
			x->attr = ((m->flags & KILN_EXEC_MOUNT_SUID) ? 0 : MOUNT_ATTR_NOSUID) |
				  ((m->flags & KILN_EXEC_MOUNT_DEV) ? 0 : MOUNT_ATTR_NODEV) |
				  ((m->flags & KILN_EXEC_MOUNT_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0) |
				  ((m->flags & KILN_EXEC_MOUNT_RO) ? MOUNT_ATTR_RDONLY : 0);
		} else {
			return kiln_fail(err, KILN_EINVAL, 0, "mount on %s: unknown type %d",
					 targets[i], (int) m->type);
		}
	}
	return 0;
}

/* The capabilities this process has permitted, as bits. */
static uint64_t caps_held(int cap_last)
{
	uint64_t bits = 0;
	cap_t caps = cap_get_proc();
	if (!caps)
		return 0;
	for (int c = 0; c <= cap_last && c < 64; c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, (cap_value_t) c, CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			bits |= KILN_EXEC_CAP(c);
	}
	cap_free(caps);
	return bits;
}

/* Insecure mode gets a free loop device, as BuildKit's does; -1 without one. */
static int free_loop_device(void)
{
	int fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int n = ioctl(fd, LOOP_CTL_GET_FREE);
	(void) close(fd);
	return n;
}

/* Namespaces, mounts and pivot_root need CAP_SYS_ADMIN: say so plainly. */
static int check_privileges(struct kiln_error *err)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	if (caps) {
		if (cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v) < 0)
			v = CAP_CLEAR;
		cap_free(caps);
	}
	if (v != CAP_SET)
		return kiln_fail(err, KILN_EUNSUPP, EPERM,
				 "kiln's sandbox needs root (CAP_SYS_ADMIN)");
	return 0;
}

static int validate(const struct kiln_exec_spec *spec, struct kiln_error *err)
{
	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
		return kiln_fail(err, KILN_EINVAL, 0, "no command to run");
	if (spec->rootfs_fd < 0 && (!spec->rootfs || !*spec->rootfs))
		return kiln_fail(err, KILN_EINVAL, 0, "no root filesystem");
	if (spec->cwd && spec->cwd[0] != '/')
		return kiln_fail(err, KILN_EINVAL, 0,
				 "working directory '%s' must be an absolute path", spec->cwd);
	if (spec->network != KILN_EXEC_NET_NONE && spec->network != KILN_EXEC_NET_HOST)
		return kiln_fail(err, KILN_EINVAL, 0, "unknown network mode %d",
				 (int) spec->network);
	if (spec->n_mounts > KILN_EXEC_MAX_MOUNTS)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d mounts", KILN_EXEC_MAX_MOUNTS);
	if (spec->n_files > KILN_EXEC_MAX_FILES)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d generated files",
				 KILN_EXEC_MAX_FILES);
	if (spec->n_mounts && !spec->mounts)
		return kiln_fail(err, KILN_EINVAL, 0, "mount count without mounts");
	if (spec->n_files && !spec->files)
		return kiln_fail(err, KILN_EINVAL, 0, "file count without files");
	if (spec->flags & ~(unsigned) (KILN_EXEC_TTY | KILN_EXEC_FORWARD_SIGNALS |
				       KILN_EXEC_READONLY_ROOT | KILN_EXEC_INSECURE |
				       KILN_EXEC_CONTAINER_USER | KILN_EXEC_CONTAINER_FILES |
				       KILN_EXEC_INIT))
		return kiln_fail(err, KILN_EINVAL, 0, "unknown flags 0x%x", spec->flags);
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? spec->stdin_fd : i == 1 ? spec->stdout_fd : spec->stderr_fd;
		if (fd >= 0 && fcntl(fd, F_GETFD) < 0)
			return kiln_fail(err, KILN_EINVAL, errno, "stdio fd %d is not open", fd);
	}
	return 0;
}

int kiln_exec_plan_build(const struct kiln_exec_spec *spec, struct xplan *p, struct kiln_error *err)
{
	int r = validate(spec, err);
	if (r < 0)
		return r;
	r = check_privileges(err);
	if (r < 0)
		return r;

	p->rootfd = spec->rootfs_fd >= 0 ? fcntl(spec->rootfs_fd, F_DUPFD_CLOEXEC, 3)
					 : open(spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->rootfd < 0)
		return kiln_fail_errno(err, "opening the root filesystem %s",
				       spec->rootfs ? spec->rootfs : "");
	struct stat st;
	if (fstat(p->rootfd, &st) < 0 || !S_ISDIR(st.st_mode))
		return kiln_fail(err, KILN_EINVAL, ENOTDIR,
				 "the root filesystem is not a directory");
	/* sandboxes sharing one root directory: mount points are removed only
	 * by the last one (see remove_stubs()); its own description, so that
	 * the lock is not shared with the caller's fd */
	p->root_lock = openat(p->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->root_lock < 0)
		return kiln_fail_errno(err, "opening the root filesystem");
	while (flock(p->root_lock, LOCK_SH) < 0)
		if (errno != EINTR)
			return kiln_fail_errno(err, "locking the root filesystem");
	p->root_tree = open_tree(
		p->rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (p->root_tree < 0)
		return kiln_fail_errno(err, "preparing the root filesystem");

	if (spec->shm_size) {
		(void) snprintf(p->shm_size, sizeof(p->shm_size), "%llu",
				(unsigned long long) spec->shm_size);
		p->shm_opts[0] = (struct xopt){ "mode", "1777" };
		p->shm_opts[1] = (struct xopt){ "size", p->shm_size };
	}
	if (spec->n_rlimits > KILN_EXEC_MAX_RLIMITS)
		return kiln_fail(err, KILN_EINVAL, 0, "at most %d resource limits",
				 KILN_EXEC_MAX_RLIMITS);
	p->rlimits = spec->rlimits;
	p->n_rlimits = spec->n_rlimits;
	p->hostname = spec->hostname ? spec->hostname : "kiln";
	r = check_hostname(p->hostname, err);
	if (r < 0)
		return r;
	p->net_none = spec->network == KILN_EXEC_NET_NONE;
	p->clone_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
			 (p->net_none ? CLONE_NEWNET : 0);
	p->cwd = spec->cwd ? own_str(p, kiln_exec_clean_path(spec->cwd)) : "/";
	if (!p->cwd)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	size_t argc = 0;
	while (spec->argv[argc])
		argc++;
	char **argv = own(p, kiln_calloc(argc + 1, sizeof(char *)));
	if (!argv)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < argc; i++)
		if (!(argv[i] = (char *) as_json_text(p, spec->argv[i])))
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	p->argv = argv;
	p->tty = !!(spec->flags & KILN_EXEC_TTY);
	p->readonly_root = !!(spec->flags & KILN_EXEC_READONLY_ROOT);
	p->init = !!(spec->flags & KILN_EXEC_INIT);
	p->stdio[0] = spec->stdin_fd;
	p->stdio[1] = spec->stdout_fd;
	p->stdio[2] = spec->stderr_fd;
	if (p->tty)
		p->have_winsize = (spec->stdin_fd >= 0 &&
				   ioctl(spec->stdin_fd, TIOCGWINSZ, &p->winsize) == 0) ||
				  (spec->stdout_fd >= 0 &&
				   ioctl(spec->stdout_fd, TIOCGWINSZ, &p->winsize) == 0);

	/* the user */
	struct kiln_exec_user u = { 0 };
	r = kiln_exec_user_resolve(p->rootfd, spec->user, &u, err);
	if (r < 0)
		return r; /* the message names the user */
	p->uid = u.uid;
	p->gid = u.gid;
	p->exec_without_caps = (spec->flags & KILN_EXEC_CONTAINER_USER) && u.uid != 0;
	if ((spec->flags & KILN_EXEC_CONTAINER_USER) && kiln_exec_user_add_primary(&u) < 0) {
		kiln_exec_user_release(&u);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	p->groups = own(p, u.groups);
	p->n_groups = u.n_groups;
	u.groups = NULL;
	if (u.n_groups && !p->groups) {
		kiln_exec_user_release(&u);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	r = build_env(p, spec, u.home, err);
	kiln_exec_user_release(&u);
	if (r < 0)
		return r;

	/* capabilities and seccomp (none in insecure mode, as BuildKit's) */
	p->cap_last = (int) cap_max_bits() - 1;
	p->insecure = !!(spec->flags & KILN_EXEC_INSECURE);
	p->loop_nr = p->insecure ? free_loop_device() : -1;
	if (p->insecure) {
		/* every capability kiln itself holds (it cannot give more) */
		p->caps = caps_held(p->cap_last) & ~spec->caps_drop;
	} else {
		p->caps = (kiln_exec_caps_default() | spec->caps_add) & ~spec->caps_drop;
		void *prog = NULL;
		size_t prog_len = 0;
		if (spec->filters)
			r = kiln_exec_filters_get(spec->filters, p->caps, &prog, &prog_len, err);
		else
			r = kiln_exec_seccomp_get(p->caps, &prog, &prog_len, err);
		if (r < 0)
			return r;
		if (!own(p, prog))
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		p->seccomp.filter = prog;
		p->seccomp.len = (unsigned short) prog_len;
	}

	/* mounts: the system ones, generated files, the caller's */
	size_t max = 6 + KILN_ARRAY_SIZE(masked_paths) + KILN_ARRAY_SIZE(readonly_paths) + 3 +
		     spec->n_files + spec->n_mounts;
	p->mounts = own(p, kiln_calloc(max, sizeof(*p->mounts)));
	if (!p->mounts)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	struct xmount *m;
	m = add_mount(p, XM_FS, "/proc", XT_DIR);
	m->fstype = "proc";
	m->opts = opts_none;
	m->attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	m = add_mount(p, XM_FS, "/dev", XT_DIR);
	m->fstype = "tmpfs";
	m->opts = opts_dev;
	m->attr = MOUNT_ATTR_NOSUID;
	m->populate_dev = 1;
	m = add_mount(p, XM_FS, "/dev/pts", XT_DIR);
	m->fstype = "devpts";
	m->opts = opts_pts;
	m->attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
	m = add_mount(p, XM_FS, "/dev/shm", XT_DIR);
	m->fstype = "tmpfs";
	m->opts = p->shm_opts[0].key ? p->shm_opts : opts_shm;
	m->attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	m = add_mount(p, XM_FS, "/dev/mqueue", XT_DIR);
	m->fstype = "mqueue";
	m->opts = opts_none;
	m->attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	m = add_mount(p, XM_FS, "/sys", XT_DIR);
	m->fstype = "sysfs";
	m->opts = opts_none;
	m->attr = (p->insecure ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		  MOUNT_ATTR_NOEXEC;
	for (size_t i = 0; !p->insecure && i < KILN_ARRAY_SIZE(masked_paths); i++)
		(void) add_mount(p, XM_MASK, masked_paths[i], XT_EXISTING);
	for (size_t i = 0; !p->insecure && i < KILN_ARRAY_SIZE(readonly_paths); i++)
		(void) add_mount(p, XM_RO, readonly_paths[i], XT_EXISTING);
	r = gen_files(p, spec, err);
	if (r < 0)
		return r;
	r = add_user_mounts(p, spec, err);
	if (r < 0)
		return r;

	p->sh = mmap(NULL, sizeof(*p->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	if (p->sh == MAP_FAILED) {
		p->sh = NULL;
		return kiln_fail_errno(err, "mapping the shared page");
	}
	return 0;
}
