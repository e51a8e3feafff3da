/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The plan: everything the sandbox child needs, computed by the parent before
 * clone3() (bubblewrap's plan-then-execute). The child runs in a copy of a
 * possibly multi-threaded process, so it may only make system calls: no
 * allocation, no stdio, no locks. See docs/internals/exec.md.
 */
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "exec/exec.h"

enum xmount_kind {
	XM_FS,	 /* a new filesystem: fstype + options, made inside the namespaces */
	XM_TREE, /* a detached mount the parent prepared (bind source, generated file) */
	XM_RO,	 /* remount an existing path read-only (Docker's readonly paths) */
	XM_MASK, /* hide a path: /dev/null over files, read-only tmpfs over dirs */
};

enum xtarget {
	XT_DIR,	     /* create a directory when missing */
	XT_FILE,     /* create an empty file when missing */
	XT_EXISTING, /* skip the mount when the target is missing */
};

struct xopt {
	const char *key;
	const char *value; /* NULL: a flag */
};

struct xmount {
	enum xmount_kind kind;
	enum xtarget target_type;
	const char *target;	 /* absolute and normalized */
	const char *fstype;	 /* XM_FS */
	const struct xopt *opts; /* XM_FS: terminated by { NULL } */
	unsigned attr;		 /* XM_FS: MOUNT_ATTR_* for the new mount */
	int populate_dev;	 /* XM_FS: fill in the minimal /dev */
	int tree_fd;		 /* XM_TREE: detached mount (owned by the plan) */
};

#define KILN_EXEC_STUB_MAX 256
#define KILN_EXEC_MSG_MAX 1024

/* A mount point the sandbox created in the root filesystem. */
struct xstub {
	char path[PATH_MAX]; /* absolute, inside the root */
	int is_dir;
	int have_times;
	struct timespec parent_before[2]; /* atime, mtime of the parent before */
	struct timespec parent_after;	  /* mtime of the parent after */
};

/* Memory shared (MAP_SHARED) between the parent and the sandbox's processes. */
struct xshared {
	int failed; /* setup or exec failed: code, sys_errno, msg */
	int code;   /* enum kiln_err */
	int sys_errno;
	char msg[KILN_EXEC_MSG_MAX];
	int done; /* the process ended: wstatus is its wait status */
	int wstatus;
	int n_stubs;
	int stubs_overflow;
	struct xstub stubs[KILN_EXEC_STUB_MAX];
};

struct xplan {
	int rootfd;    /* O_PATH of the root filesystem (owned) */
	int root_lock; /* the root directory, flock(LOCK_SH) while the sandbox lives (owned) */
	int root_tree; /* a detached copy of it, moved into place by the child (owned) */
	int files_fd;  /* the private tmpfs of generated files (owned) */
	unsigned long clone_flags;
	struct xmount *mounts;
	size_t n_mounts;
	const char *hostname;
	int net_none;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	uint64_t caps;
	int exec_without_caps; /* KILN_EXEC_CONTAINER_USER, not root: none effective at exec */
	int cap_last;
	struct sock_fprog seccomp;
	const char *cwd;
	char *const *argv;
	char **envp;
	const char *path; /* the PATH used to find argv[0] */
	char *exec_buf;	  /* room for one PATH entry + argv[0] */
	size_t exec_buf_len;
	int stdio[3];
	int tty;
	struct winsize winsize; /* the caller's, given to the terminal before the process runs */
	int have_winsize;
	int readonly_root;
	int init; /* KILN_EXEC_INIT: kiln's init is pid 1, the process pid 2 */
	const struct kiln_exec_rlimit *rlimits; /* the spec's, read by the child before exec */
	size_t n_rlimits;
	struct xopt shm_opts[3]; /* /dev/shm's options when the spec sizes it */
	char shm_size[32];
	int insecure;	 /* KILN_EXEC_INSECURE: no seccomp filter, loop devices */
	int loop_nr;	 /* insecure: a free /dev/loopN to create, -1 for none */
	/* the child's ends of the channels to the parent */
	int start_w;	   /* closed (by exec) once the process runs */
	int alive_r;	   /* EOF when the parent is gone */
	int tty_sock;	   /* the terminal's master goes back through it */
	int parent_fds[3]; /* the parent's ends, closed first thing in the child */
	struct xshared *sh;
	/* what the parent allocated for the plan, freed by kiln_exec_plan_release() */
	void **owned;
	size_t n_owned;
	size_t alloc_owned;
};

/** Build a plan from a spec (parent side). */
int kiln_exec_plan_build(const struct kiln_exec_spec *spec, struct xplan *p,
			 struct kiln_error *err);
void kiln_exec_plan_release(struct xplan *p);

/** The sandbox child: sets up, starts the process, waits. Never returns. */
__attribute__((noreturn)) void kiln_exec_child(struct xplan *p);

/** Clean an absolute path in place; returns the new length, 0 if not absolute. */
size_t kiln_exec_clean_inplace(char *p);

/** Normalize an absolute path lexically ("//a/./b/../c" -> "/a/c"); NULL if not absolute. */
char *kiln_exec_clean_path(const char *path);

/** The mount id of an fd (statx STATX_MNT_ID); 0 on failure. Async-signal-safe. */
uint64_t kiln_exec_mnt_id(int fd);

/* A running sandbox (parent side). */
struct kiln_exec_proc {
	const struct kiln_ctx *ctx;
	struct xplan plan;
	pid_t pid;
	int pidfd;
	int start_r;  /* EOF once the process runs (or setup failed) */
	int alive_w;  /* held open: the child exits at once if it sees EOF */
	int tty_sock; /* receives the terminal's master */
	int master;   /* the terminal, with KILN_EXEC_TTY */
	int in_fd, out_fd;
	unsigned flags;
	int reaped;
	siginfo_t init_info;
	int cleaned;
};

/** Wait for pid 1 to end and remove the mount points it created. 0 or -errno. */
int kiln_exec_proc_reap(struct kiln_exec_proc *p);
/** Give the terminal the caller's window size. */
void kiln_exec_proc_copy_winsize(struct kiln_exec_proc *p);
/** How the process ended, once reaped. */
int kiln_exec_proc_status(struct kiln_exec_proc *p, struct kiln_exec_status *ret,
			  struct kiln_error *err);
