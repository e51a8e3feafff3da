/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"

/**
 * exec: run one process spec in a root filesystem, in namespaces.
 *
 * exec knows no Dockerfile and no image. It gets a root filesystem (a
 * directory, or an fd such as a detached overlay mount from the snapshot
 * module), a process spec and I/O, and returns how the process ended. Inside:
 * new mount, pid, ipc and uts namespaces (plus net for
 * KILN_EXEC_NET_NONE), pivot_root into the root filesystem, fresh /proc, a
 * minimal /dev, read-only /sys, generated /etc/hosts and /etc/resolv.conf
 * (and /etc/hostname for a container), the user resolved from the rootfs's /etc/passwd and
 * /etc/group, Docker's default capabilities (without no_new_privs, as in
 * Docker) and a seccomp filter like Docker's default profile. A tiny init (pid 1) reaps zombies and
 * forwards signals. Needs root (CAP_SYS_ADMIN). See docs/internals/exec.md.
 *
 * Mount points that had to be created in the root filesystem (for /proc,
 * /etc/hosts, bind targets, ...) are removed again when the sandbox ends, so
 * the root filesystem (and a layer made from it) holds only what the process
 * wrote.
 */

/** Named limits on what a spec may carry. */
#define KILN_EXEC_MAX_MOUNTS 128
#define KILN_EXEC_MAX_FILES 32
#define KILN_EXEC_MAX_FILE_SIZE ((size_t) 16 << 20) /* a Dockerfile's size: a heredoc script */
#define KILN_EXEC_MAX_HOSTNAME 64
/** /etc/passwd and /etc/group larger than this are refused. */
#define KILN_EXEC_MAX_USERDB ((size_t) 16 << 20)
#define KILN_EXEC_MAX_GROUPS 65536

enum kiln_exec_network {
	KILN_EXEC_NET_NONE = 0, /* a new network namespace with only lo (up) */
	KILN_EXEC_NET_HOST = 1, /* the caller's network namespace */
};

enum kiln_exec_mount_type {
	KILN_EXEC_MOUNT_BIND = 0,  /* a host path (file or directory), recursive */
	KILN_EXEC_MOUNT_TMPFS = 1, /* a fresh tmpfs */
};

enum kiln_exec_mount_flags {
	KILN_EXEC_MOUNT_RO = 1 << 0,
	/* TMPFS: device files work in it (no nodev), as in BuildKit's RUN
	 * --mount=type=tmpfs; docker run's --tmpfs is nodev */
	KILN_EXEC_MOUNT_DEV = 1 << 1,
	/* TMPFS: nothing in it can be executed (docker run's --tmpfs default) */
	KILN_EXEC_MOUNT_NOEXEC = 1 << 2,
	/* TMPFS: setuid and setgid bits take effect in it (no nosuid) */
	KILN_EXEC_MOUNT_SUID = 1 << 3,
};

struct kiln_exec_mount {
	enum kiln_exec_mount_type type;
	const char *source; /* BIND: host path; TMPFS: ignored */
	const char *target; /* absolute path inside the sandbox, not "/" */
	unsigned flags;	    /* enum kiln_exec_mount_flags */
	uint64_t size;	    /* TMPFS: bytes; 0 = the kernel's default */
	mode_t mode;	    /* TMPFS: permissions of its root; 0 = 01777 */
	uid_t uid;	    /* TMPFS: owner of its root (0: root) */
	gid_t gid;
};

/**
 * A file generated for the sandbox: bind-mounted from a private tmpfs, so it
 * is visible inside but never written to the root filesystem. A file with the
 * path of one kiln generates (/etc/hosts, /etc/resolv.conf, /etc/hostname)
 * replaces kiln's.
 */
struct kiln_exec_file {
	const char *path; /* absolute path inside the sandbox */
	const char *data;
	size_t len;
	mode_t mode; /* 0 = 0644 */
	uid_t uid;   /* owner (0 = root) */
	gid_t gid;
	unsigned flags; /* enum kiln_exec_file_flags */
};

enum kiln_exec_file_flags {
	/** Mounted read-only, noexec (a secret: the process can read it, never
	 *  replace or run it). */
	KILN_EXEC_FILE_RO = 1 << 0,
	/** Mounted read-only, exec allowed (a RUN heredoc's script; /etc/hosts and the other
	 *  generated files of a RUN, or under KILN_EXEC_READONLY_ROOT). */
	KILN_EXEC_FILE_RO_EXEC = 1 << 1,
};

enum kiln_exec_flags {
	/** Allocate a pseudo-terminal inside the sandbox as the process's
	 *  stdin/stdout/stderr and relay it to stdin_fd/stdout_fd. */
	KILN_EXEC_TTY = 1 << 0,
	/** While waiting, take SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
	 *  SIGUSR2 and SIGWINCH off the calling thread and forward them to the
	 *  process (SIGWINCH resizes the terminal with KILN_EXEC_TTY). */
	KILN_EXEC_FORWARD_SIGNALS = 1 << 1,
	/** Mount the root filesystem read-only. */
	KILN_EXEC_READONLY_ROOT = 1 << 2,
	/** BuildKit's insecure mode (RUN --security=insecure): every
	 *  capability, no seccomp filter, no_new_privs not set, nothing of
	 *  /proc masked or read-only, /sys writable, /dev/loop-control and a
	 *  free loop device when the host has them. Still in its own
	 *  namespaces over its own root. */
	KILN_EXEC_INSECURE = 1 << 3,
	/** The user as docker run and podman run set it up (kiln run): the
	 *  primary group is among the supplementary groups, and a non-root
	 *  user's command is found and executed with no effective capability,
	 *  so those permission checks are the user's. Without it, as in
	 *  BuildKit's RUN: only the groups that list the user, and the exec is
	 *  checked with the capabilities the process keeps until it. */
	KILN_EXEC_CONTAINER_USER = 1 << 4,
	/** The generated files as docker run and podman run mount them (kiln
	 *  run): /etc/hosts, /etc/resolv.conf and /etc/hostname, writable unless
	 *  KILN_EXEC_READONLY_ROOT. Without it, as BuildKit's RUN: /etc/hosts
	 *  and /etc/resolv.conf read-only, and no /etc/hostname (the image's
	 *  own shows). */
	KILN_EXEC_CONTAINER_FILES = 1 << 5,
	/** kiln's init is pid 1 (kiln run --init, as docker run --init): it
	 *  forwards signals to the process, pid 2, reaps what the process
	 *  leaves and ends the sandbox with it. Without it the process is pid 1
	 *  itself, as runc starts it for BuildKit's RUN and docker run: a
	 *  signal without a handler does not reach it, but SIGKILL. */
	KILN_EXEC_INIT = 1 << 6,
};

/* Capability bits (1 << CAP_x). */
#define KILN_EXEC_CAP(c) ((uint64_t) 1 << (c))
/** Docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW,
 *  SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL,
 *  AUDIT_WRITE. */
uint64_t kiln_exec_caps_default(void);

/** A resource limit for the process (--ulimit). */
struct kiln_exec_rlimit {
	int resource;	    /* RLIMIT_* */
	uint64_t soft, hard; /* UINT64_MAX: unlimited */
};
#define KILN_EXEC_MAX_RLIMITS 16

/** One more /etc/hosts entry. */
struct kiln_exec_host {
	char *name;
	char *ip;
};
#define KILN_EXEC_MAX_HOSTS 256

/**
 * Parse a comma-separated capability list ("CAP_NET_ADMIN,sys_ptrace" or
 * "ALL") into bits. Names are case-insensitive, "CAP_" optional.
 */
int kiln_exec_caps_parse(const char *list, uint64_t *ret, struct kiln_error *err);

struct kiln_exec_spec {
	/** The root filesystem: a directory, or an open fd of one (rootfs_fd >= 0
	 *  wins; e.g. kiln_snapshot_mount_fd()). Must be writable unless
	 *  KILN_EXEC_READONLY_ROOT is set and all mount points exist. */
	const char *rootfs;
	int rootfs_fd;
	/** argv[0] is looked up in the PATH of `env` (or the default PATH) when
	 *  it has no '/'. NULL-terminated; at least one element. */
	char *const *argv;
	/** "KEY=value" entries, NULL-terminated (NULL = empty). HOME is added
	 *  from the user's passwd entry when missing, as runc does. */
	char *const *env;
	const char *cwd;      /* absolute; NULL = "/"; created (0755, owned by the user) */
	const char *user;     /* "name", "uid", "name:group", "uid:gid", ...; NULL = root */
	const char *hostname; /* NULL = "kiln" */
	const struct kiln_exec_host *hosts; /* more /etc/hosts entries (--add-host) */
	size_t n_hosts;
	const struct kiln_exec_rlimit *rlimits; /* set before the process runs; the rest
						  * are kiln's own */
	size_t n_rlimits;
	uint64_t shm_size; /* /dev/shm's size in bytes; 0 = 64 MiB, as docker */
	enum kiln_exec_network network;
	const struct kiln_exec_mount *mounts;
	size_t n_mounts;
	const struct kiln_exec_file *files;
	size_t n_files;
	/** Changes to Docker's default capability set. */
	uint64_t caps_add;
	uint64_t caps_drop;
	/** The process's stdio; -1 = /dev/null. With KILN_EXEC_TTY, stdin_fd
	 *  feeds the terminal (-1 = nothing) and stdout_fd receives its output;
	 *  stderr_fd is unused. */
	int stdin_fd;
	int stdout_fd;
	int stderr_fd;
	unsigned flags; /* enum kiln_exec_flags */
	/** Seccomp programs to reuse (kiln_exec_filters_new()); NULL: built for
	 *  this sandbox alone. Building one takes ~15 ms of libseccomp's time
	 *  (not the default capabilities' one: it is built in). */
	struct kiln_exec_filters *filters;
};

#define KILN_EXEC_SPEC_INIT                                                                        \
	{                                                                                          \
		.rootfs_fd = -1, .stdin_fd = -1, .stdout_fd = 1, .stderr_fd = 2                    \
	}

/** How the process ended. */
struct kiln_exec_status {
	int signaled; /* 0: exited with `code`; 1: killed by signal `code` */
	int code;
};

/** The shell convention: the exit code, or 128 + the signal number. */
int kiln_exec_status_exit_code(const struct kiln_exec_status *st);

/** A running sandbox. */
struct kiln_exec_proc;

/**
 * Set up the sandbox and start the process. Returns once the process has
 * been exec'd, or fails with the reason (-KILN_ENOTFOUND with sys_errno
 * ENOENT for a missing executable, -KILN_EINVAL for a bad spec or user,
 * -KILN_EIO for a failed setup step; the message names the step).
 *
 * Safe to call from a thread of a multi-threaded process: the sandbox is a
 * clone3() child that runs only system calls on memory prepared before the
 * clone. The sandbox dies (SIGKILL) when the calling thread exits, so the
 * thread that starts a sandbox must be the one that waits for it.
 */
int kiln_exec_start(const struct kiln_ctx *ctx, const struct kiln_exec_spec *spec,
		    struct kiln_exec_proc **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Send a signal to the process (pid 1 forwards it; SIGKILL ends the whole
 * sandbox). May be called from another thread while one waits. 0 or
 * -KILN_EIO.
 */
int kiln_exec_kill(struct kiln_exec_proc *p, int sig, struct kiln_error *err);

/**
 * Wait for the process to end; relays the terminal with KILN_EXEC_TTY and
 * forwards signals with KILN_EXEC_FORWARD_SIGNALS. When ctx->cancel is set
 * the sandbox is killed and -KILN_ECANCEL returned. Whatever was left in the
 * sandbox when the process ended is killed. Mount points kiln created in the
 * root filesystem are removed before it returns.
 */
int kiln_exec_wait(struct kiln_exec_proc *p, struct kiln_exec_status *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Kill and reap a sandbox still running, free everything. NULL is fine. */
void kiln_exec_proc_free(struct kiln_exec_proc *p);
KILN_DEFINE_CLEANUP(struct kiln_exec_proc, kiln_exec_proc_free)

/** start + wait. */
int kiln_exec_run(const struct kiln_ctx *ctx, const struct kiln_exec_spec *spec,
		  struct kiln_exec_status *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---- users and groups ---------------------------------------------------- */

/** A user resolved from a root filesystem's /etc/passwd and /etc/group. */
struct kiln_exec_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups */
	size_t n_groups;
	char *home; /* "/" when the user has no passwd entry */
};

void kiln_exec_user_release(struct kiln_exec_user *u);
/** Put the primary group among the supplementary ones, as docker run does
 *  (once). 0 or -KILN_ENOMEM. */
int kiln_exec_user_add_primary(struct kiln_exec_user *u) __attribute__((warn_unused_result));

/**
 * Resolve a user spec the way Docker and BuildKit do: "name", "uid",
 * "name:group", "uid:gid", "name:gid", "uid:group". A name must exist in
 * passwd (and a group name in group); a number need not. Supplementary
 * groups (every group listing the user's name) are added only when no group
 * was given. NULL or "" is root with no supplementary groups. `passwd` and
 * `group` hold the files' contents, or are NULL when the file is missing.
 */
int kiln_exec_user_parse(const char *spec, const char *passwd, size_t passwd_len, const char *group,
			 size_t group_len, struct kiln_exec_user *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Same, reading etc/passwd and etc/group inside the root at `rootfd`. */
int kiln_exec_user_resolve(int rootfd, const char *spec, struct kiln_exec_user *ret,
			   struct kiln_error *err) __attribute__((warn_unused_result));

/* ---- generated files ---------------------------------------------------- */

/** The /etc/hosts kiln writes: localhost and `hostname` on loopback, then `extra`. */
char *kiln_exec_hosts_file(const char *hostname, const struct kiln_exec_host *extra, size_t n);

/**
 * Parse an --add-host value as docker and buildx take it: `NAME:IP` or
 * `NAME=IP`, IP an IPv4 or IPv6 address (IPv6 also in brackets), or
 * `host-gateway`, which is 127.0.0.1 here: kiln has no bridge, so the host
 * is reached on its own loopback.
 */
int kiln_exec_host_parse(const char *spec, struct kiln_exec_host *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void kiln_exec_host_release(struct kiln_exec_host *h);

/**
 * Parse a --ulimit value as docker takes it: `NAME=SOFT[:HARD]` (one value:
 * both), NAME one of core, cpu, data, fsize, locks, memlock, msgqueue,
 * nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack; -1 or
 * `unlimited` for no limit. The soft limit may not exceed the hard.
 */
int kiln_exec_rlimit_parse(const char *spec, struct kiln_exec_rlimit *ret,
			   struct kiln_error *err) __attribute__((warn_unused_result));
/** The name of an RLIMIT_* resource, as --ulimit spells it ("nofile"), or NULL. */
const char *kiln_exec_rlimit_name(int resource);
/** Parse a size as docker's --shm-size: a number with an optional b, k, m or g; 0 is
 *  the default, as docker reads it. */
int kiln_exec_size_parse(const char *s, uint64_t *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The /etc/resolv.conf kiln writes from the host's `host_conf` (NULL when
 * the host has none): with the host network it is kept as is; otherwise
 * loopback nameservers (which would point into the sandbox) are dropped, and
 * when none remain public defaults are added, as BuildKit does.
 */
char *kiln_exec_resolv_conf(const char *host_conf, enum kiln_exec_network net);

/* ---- seccomp ------------------------------------------------------------- */

/**
 * Build the seccomp program (classic BPF) like Docker's default profile for
 * a process holding capabilities `caps`: an allow-list, EPERM for everything
 * else, ENOSYS for clone3, namespace flags denied in clone, and the
 * architecture checked (the native one plus its 32-bit companions; any other
 * is killed). `ret_prog` receives kiln_malloc'd sock_filter instructions.
 */
int kiln_exec_seccomp_build(uint64_t caps, void **ret_prog, size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The program for `caps` built into kiln at build time, if there is one:
 * Docker's default capabilities on the architecture kiln was built on
 * (seccomp-filters.c). 1 and the program (not to be freed), or 0.
 */
int kiln_exec_seccomp_builtin(uint64_t caps, const void **ret_prog, size_t *ret_len);

/** The built-in program if there is one, else kiln_exec_seccomp_build()'s. */
int kiln_exec_seccomp_get(uint64_t caps, void **ret_prog, size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * The seccomp programs built so far, by capability set, for the sandboxes of
 * one caller (a build's RUN steps): each is built once. Safe to share
 * between threads.
 */
struct kiln_exec_filters;
struct kiln_exec_filters *kiln_exec_filters_new(void);
void kiln_exec_filters_free(struct kiln_exec_filters *f);

/** kiln_exec_seccomp_get() through the cache: `ret_prog` is the caller's copy. */
int kiln_exec_filters_get(struct kiln_exec_filters *f, uint64_t caps, void **ret_prog,
			  size_t *ret_len, struct kiln_error *err)
	__attribute__((warn_unused_result));
