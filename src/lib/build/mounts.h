/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * RUN --mount, --network and --security (module-private):
 *
 * - mounts.c: what one --mount resolves to, BuildKit's defaults applied
 *   (pure: the unit tests call it), and its line in the step's cache key;
 * - secrets.c: --secret parsed, the values read once per build, looked up;
 * - ssh.c: --ssh parsed, the agents checked, and the relay that gives a
 *   RUN its own agent socket;
 * - mounts-run.c: the mounts of one RUN set up (cache instances locked,
 *   stages mounted, secrets as files and variables, agent sockets) and
 *   torn down, and the build-wide checks (entitlements).
 */
#include <stdint.h>

#include "build/build-private.h"
#include "build/cachemount.h"
#include "exec/exec.h"

#define BB_SECRETS_DIR "/run/secrets"
#define BB_SSH_TARGET_PREFIX "/run/buildkit/ssh_agent."
#define BB_SSH_DEFAULT_ID "default"
/** The build arg that namespaces cache ids (BuildKit's). */
#define BB_CACHE_NS_ARG "BUILDKIT_CACHE_MOUNT_NS"
/** Connections an agent relay serves at once. */
#define BB_SSH_MAX_CONNS 64

/* ---- one --mount, resolved (mounts.c) -------------------------------------------- */

struct bb_mount_spec {
	enum kiln_df_mount_type type;
	/* absolute and clean; NULL for a secret exposed only as a variable */
	char *target;
	/* cache: the id (namespaced); secret and ssh: the id */
	char *id;
	char *env;    /* secret: the variable it is exposed as, or NULL */
	char *from;   /* bind, cache: stage or image as written; NULL = none */
	char *source; /* bind, cache: absolute and clean inside `from` ("/" = all) */
	int readonly;
	int required;
	enum kiln_cachemount_sharing sharing;
	int has_perm;		 /* mode, uid or gid was given */
	uint32_t mode, uid, gid; /* with defaults: cache 0755, secret 0400, ssh 0600; 0:0 */
	uint64_t size;		 /* tmpfs: bytes, 0 = the kernel's default */
};

/**
 * Resolve one RUN --mount as BuildKit's Dockerfile frontend does: a
 * relative bind/cache/tmpfs target is under `workdir`; a cache's id
 * defaults to its target as written (cleaned), prefixed by `cache_ns/`
 * when a namespace is set; a secret's id to its source, else the base of
 * its target, and its target to /run/secrets/<id> unless it is exposed
 * only as a variable; an SSH mount's id to "default" and its target to
 * /run/buildkit/ssh_agent.<ssh_index>. Errors carry BuildKit's messages.
 */
int bb_mount_resolve(const struct kiln_df_mount *m, const char *workdir, const char *cache_ns,
		     size_t ssh_index, struct bb_mount_spec *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
void bb_mount_spec_release(struct bb_mount_spec *s);

/**
 * The seed of a cache (cachemount.h): "" when it starts empty; `from_ref`
 * ("stage:<key>", "image:<digest>") and the source when seeded from=; the
 * permissions of its root when given without a source.
 */
char *bb_cache_seed(const struct bb_mount_spec *s, const char *from_ref);

/**
 * The mount's line in the step's cache key: what it is and where it reads
 * (`from_ref`, or the context's content digest), never a secret's value
 * nor a cache's contents.
 */
char *bb_mount_key_text(const struct bb_mount_spec *s, const struct kiln_df_mount *m,
			const char *from_ref);

/* ---- secrets (secrets.c) ---------------------------------------------------------- */

struct bb_secret {
	char *id;
	char *data; /* wiped when freed */
	size_t len;
};

struct bb_secrets {
	struct bb_secret *v;
	size_t n;
};

/**
 * Read every --secret (files and variables) once; later duplicates of an
 * id win, as in buildx. `warn` gets a note for a variable that is not set
 * (its secret is empty, as in BuildKit).
 */
int bb_secrets_load(const struct kiln_build_secret *v, size_t n, struct bb_secrets *ret,
		    void (*warn)(void *ud, const char *msg), void *ud, struct kiln_error *err)
	__attribute__((warn_unused_result));
const struct bb_secret *bb_secrets_find(const struct bb_secrets *s, const char *id);
void bb_secrets_release(struct bb_secrets *s);

/* ---- SSH agents (ssh.c) -------------------------------------------------------------- */

struct bb_ssh_agent {
	char *id;
	char *socket;	 /* the agent's socket: --ssh's, or one kiln started for key files */
	pid_t agent_pid; /* > 0: kiln's own ssh-agent for key files */
	pid_t cmd_pid;	 /* the agent's command; the agent exits after it */
	int keep_fd;	 /* the command's stdin: it ends when this closes */
	char *agent_dir;
};

struct bb_ssh_agents {
	struct bb_ssh_agent *v;
	size_t n;
};

/**
 * Check every --ssh (a socket exists, or key files load into an ssh-agent
 * kiln starts in `scratch`), as buildx does before a build; duplicate ids
 * are an error.
 */
int bb_ssh_load(const struct kiln_ctx *ctx, const struct kiln_build_ssh *v, size_t n,
		const char *scratch, struct bb_ssh_agents *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
const struct bb_ssh_agent *bb_ssh_find(const struct bb_ssh_agents *a, const char *id);
void bb_ssh_release(struct bb_ssh_agents *a);

/**
 * A relay for one RUN: per forwarded mount, a listening socket in a
 * scratch directory (owned uid:gid, `mode`), each connection relayed to the
 * agent's socket by one thread until the relay is stopped.
 */
struct bb_ssh_relay;
int bb_ssh_relay_new(struct bb_ssh_relay **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));
/** Listen at `dir`/agent for `upstream`; *ret_path is the socket's path (owned by the relay). */
int bb_ssh_relay_add(struct bb_ssh_relay *r, const char *dir, const char *upstream, uint32_t uid,
		     uint32_t gid, uint32_t mode, const char **ret_path, struct kiln_error *err)
	__attribute__((warn_unused_result));
int bb_ssh_relay_start(struct bb_ssh_relay *r, struct kiln_error *err)
	__attribute__((warn_unused_result));
void bb_ssh_relay_free(struct bb_ssh_relay *r);

/* ---- the build's state, and one RUN's mounts (mounts-run.c) -------------------------- */

struct bb_runmounts {
	struct bb_secrets secrets;
	struct bb_ssh_agents ssh;
	char *cache_ns; /* BUILDKIT_CACHE_MOUNT_NS, or NULL */
};

/** Read the secrets, check the agents (before any work). */
int bb_runmounts_init(struct bb *b, struct kiln_error *err) __attribute__((warn_unused_result));
/** After the plan: every needed RUN's --security is allowed (BuildKit's entitlements). */
int bb_runmounts_check(struct bb *b, struct kiln_error *err) __attribute__((warn_unused_result));
void bb_runmounts_free(struct bb *b);

/** What a RUN gets: mounts, generated files, variables, sandbox flags. */
struct bb_run_mounts {
	struct kiln_exec_mount *mounts;
	size_t n_mounts;
	struct kiln_exec_file *files;
	size_t n_files;
	struct kiln_strv env; /* "K=V" to add (secret variables, SSH_AUTH_SOCK) */
	unsigned exec_flags;
	uint64_t caps_add;
	/* what they hold */
	struct bb_run_mounts_priv *priv;
};

/**
 * Set up the mounts of the RUN `sc` runs, with room for `extra_files`
 * generated files the caller adds after them (heredoc scripts).
 */
int bb_run_mounts_setup(struct bb_step_ctx *sc, size_t extra_files, struct bb_run_mounts *ret,
			struct kiln_error *err) __attribute__((warn_unused_result));
/** Unmount, unlock and delete what the setup made (a cache mount's contents stay). */
void bb_run_mounts_release(struct bb_run_mounts *rm);
