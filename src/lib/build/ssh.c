/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --ssh: SSH agents forwarded into RUN --mount=type=ssh.
 *
 * Each --ssh id names an agent: a socket (default $SSH_AUTH_SOCK), or
 * private key files, which kiln loads into an ssh-agent of its own for the
 * build (as buildx loads them into an in-process agent). A RUN never gets
 * the agent's socket itself: it gets a socket of kiln's, owned by the
 * mount's uid:gid with its mode, in a scratch directory bind-mounted at the
 * target; a relay thread passes each connection's bytes to the agent. So
 * the user's socket keeps its owner and mode, works for any USER the mount
 * allows, and is gone with the RUN.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/mounts.h"

extern char **environ;

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- --ssh ----------------------------------------------------------------------- */

void kiln_build_ssh_release(struct kiln_build_ssh *s)
{
	if (!s)
		return;
	free(s->id);
	kiln_strv_release(&s->paths);
	memset(s, 0, sizeof(*s));
}

int kiln_build_ssh_parse(const char *spec, struct kiln_build_ssh *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->paths = (struct kiln_strv) KILN_STRV_INIT;
	const char *eq = strchr(spec, '=');
	size_t idlen = eq ? (size_t) (eq - spec) : strlen(spec);
	ret->id = idlen ? kiln_strndup(spec, idlen) : kiln_strdup(BB_SSH_DEFAULT_ID);
	if (!ret->id)
		return oom(err);
	for (const char *p = eq ? eq + 1 : NULL; p;) {
		size_t n = strcspn(p, ",");
		if (n && kiln_strv_pushn(&ret->paths, p, n) < 0) {
			kiln_build_ssh_release(ret);
			return oom(err);
		}
		p = p[n] ? p + n + 1 : NULL;
	}
	return 0;
}

/* ---- sockets ------------------------------------------------------------------------- */

/*
 * connect() to a socket by path; a path too long for sockaddr_un goes
 * through its directory's /proc/self/fd entry.
 */
static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int dfd = -1;
	if (strlen(path) < sizeof(a.sun_path)) {
		memcpy(a.sun_path, path, strlen(path) + 1);
	} else {
		const char *slash = strrchr(path, '/');
		if (!slash)
			return -ENAMETOOLONG;
		char *dir = kiln_strndup(path, (size_t) (slash - path));
		if (!dir)
			return -ENOMEM;
		dfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		free(dir);
		if (dfd < 0)
			return -errno;
		int n = snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/%s", dfd,
				 slash + 1);
		if (n < 0 || (size_t) n >= sizeof(a.sun_path)) {
			(void) close(dfd);
			return -ENAMETOOLONG;
		}
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = fd < 0 ? -errno : 0;
	if (r == 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
		r = -errno;
		(void) close(fd);
	}
	if (dfd >= 0)
		(void) close(dfd);
	return r < 0 ? r : fd;
}

/* ---- kiln's own agent for key files ----------------------------------------------------- */

/*
 * ssh-agent runs `sh -c 'echo $SSH_AGENT_PID; exec cat'` as its command:
 * the line tells that the socket listens and which process the agent is;
 * the agent exits on its own once that command is gone (it watches its
 * parent), so it does not outlive kiln even after a kill -9, and kiln
 * stops it at the end of the build.
 */
static int start_agent(const char *scratch, struct bb_ssh_agent *ag, struct kiln_error *err)
{
	char *dir = kiln_asprintf("%s/ssh-agent-XXXXXX", scratch);
	if (!dir)
		return oom(err);
	if (!mkdtemp(dir)) {
		int r = kiln_fail_errno(err, "creating a directory for ssh-agent in %s", scratch);
		free(dir);
		return r;
	}
	ag->agent_dir = dir;
	ag->socket = kiln_asprintf("%s/agent", dir);
	if (!ag->socket)
		return oom(err);
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		int r = kiln_fail_errno(err, "starting ssh-agent");
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				(void) close(in[i]);
			if (out[i] >= 0)
				(void) close(out[i]);
		}
		return r;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addchdir_np(&fa, dir);
	char *argv[] = { "ssh-agent", "-a", "agent",
			 "sh",	      "-c", "echo \"$SSH_AGENT_PID\"; exec cat >/dev/null",
			 NULL };
	pid_t pid;
	int e = posix_spawnp(&pid, "ssh-agent", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	(void) close(in[0]);
	(void) close(out[1]);
	if (e) {
		(void) close(in[1]);
		(void) close(out[0]);
		return kiln_fail(err, e == ENOENT ? KILN_ENOTFOUND : KILN_EIO, e,
				 "--ssh %s: key files need ssh-agent (openssh-client): %s", ag->id,
				 strerror(e));
	}
	char line[32];
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		ssize_t k = read(out[0], line + n, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || line[n] == '\n')
			break;
		n++;
	}
	(void) close(out[0]);
	line[n] = '\0';
	long apid = n ? strtol(line, NULL, 10) : 0;
	if (apid <= 0) {
		(void) close(in[1]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return kiln_fail(err, KILN_ECHILD, 0, "--ssh %s: ssh-agent did not start", ag->id);
	}
	ag->agent_pid = (pid_t) apid;
	ag->cmd_pid = pid;
	ag->keep_fd = in[1];
	return 0;
}

/* ssh-add the key files into kiln's agent; its message on failure. */
static int add_keys(struct bb_ssh_agent *ag, const struct kiln_strv *keys, struct kiln_error *err)
{
	cleanup(kiln_strv_release) struct kiln_strv argv = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv envp = KILN_STRV_INIT;
	if (kiln_strv_push(&argv, "ssh-add") < 0 || kiln_strv_push(&argv, "-q") < 0)
		return oom(err);
	for (size_t i = 0; i < keys->len; i++)
		if (kiln_strv_push(&argv, keys->items[i]) < 0)
			return oom(err);
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "SSH_AUTH_SOCK=", 14) && strncmp(*e, "SSH_ASKPASS_REQUIRE=", 20) &&
		    kiln_strv_push(&envp, *e) < 0)
			return oom(err);
	char *sock = kiln_asprintf("SSH_AUTH_SOCK=%s", ag->socket);
	if (!sock || kiln_strv_push_owned(&envp, sock) < 0 ||
	    kiln_strv_push(&envp, "SSH_ASKPASS_REQUIRE=never") < 0)
		return oom(err);
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return kiln_fail_errno(err, "running ssh-add");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	pid_t pid;
	int e = posix_spawnp(&pid, "ssh-add", &fa, NULL, argv.items, envp.items);
	posix_spawn_file_actions_destroy(&fa);
	(void) close(out[1]);
	if (e) {
		(void) close(out[0]);
		return kiln_fail(err, KILN_ENOTFOUND, e, "--ssh %s: running ssh-add: %s", ag->id,
				 strerror(e));
	}
	char msg[1024];
	size_t n = 0;
	for (;;) {
		ssize_t k = read(out[0], msg + n, sizeof(msg) - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t) k;
		if (n == sizeof(msg) - 1)
			break;
	}
	(void) close(out[0]);
	msg[n] = '\0';
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "--ssh %s: failed to add the keys to an agent%s%s", ag->id,
				 n ? ": " : "", msg);
	return 0;
}

/* ---- the agents of a build ---------------------------------------------------------------- */

void bb_ssh_release(struct bb_ssh_agents *a)
{
	for (size_t i = 0; a && i < a->n; i++) {
		struct bb_ssh_agent *ag = &a->v[i];
		if (ag->agent_pid > 0)
			(void) kill(ag->agent_pid, SIGTERM);
		if (ag->keep_fd >= 0)
			(void) close(ag->keep_fd);
		while (ag->cmd_pid > 0 && waitpid(ag->cmd_pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (ag->agent_dir) {
			struct kiln_error e = KILN_ERROR_INIT;
			(void) kiln_rm_rf(ag->agent_dir, &e);
			kiln_error_release(&e);
		}
		free(ag->id);
		free(ag->socket);
		free(ag->agent_dir);
	}
	if (a) {
		free(a->v);
		memset(a, 0, sizeof(*a));
	}
}

int bb_ssh_load(const struct kiln_ctx *ctx, const struct kiln_build_ssh *v, size_t n,
		const char *scratch, struct bb_ssh_agents *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (n > KILN_BUILD_MAX_SSH)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d --ssh", KILN_BUILD_MAX_SSH);
	if (!n)
		return 0;
	ret->v = kiln_calloc(n, sizeof(*ret->v));
	if (!ret->v)
		return oom(err);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const char *id = v[i].id && *v[i].id ? v[i].id : BB_SSH_DEFAULT_ID;
		if (bb_ssh_find(ret, id)) {
			r = kiln_fail(err, KILN_EINVAL, 0, "invalid duplicate ID %s", id);
			break;
		}
		struct bb_ssh_agent *ag = &ret->v[ret->n++];
		ag->keep_fd = -1;
		if (!(ag->id = kiln_strdup(id))) {
			r = oom(err);
			break;
		}
		const char *env_sock = getenv("SSH_AUTH_SOCK");
		struct kiln_strv paths = v[i].paths;
		const char *one[] = { env_sock, NULL };
		if (!paths.len) {
			if (!env_sock || !*env_sock) {
				r = kiln_fail(err, KILN_EINVAL, 0,
					      "invalid empty ssh agent socket: make sure "
					      "SSH_AUTH_SOCK is set (--ssh %s)",
					      id);
				break;
			}
			paths.items = (char **) one;
			paths.len = 1;
		}
		const char *socket = NULL;
		size_t keys = 0;
		for (size_t k = 0; r >= 0 && k < paths.len; k++) {
			struct stat st;
			if (socket) {
				r = kiln_fail(err, KILN_EINVAL, 0, "only single socket allowed");
			} else if (stat(paths.items[k], &st) < 0) {
				r = kiln_fail_errno(err, "--ssh %s: %s", id, paths.items[k]);
			} else if (S_ISSOCK(st.st_mode)) {
				if (keys)
					r = kiln_fail(err, KILN_EINVAL, 0,
						      "invalid combination of keys and sockets");
				socket = paths.items[k];
			} else if (!S_ISREG(st.st_mode)) {
				r = kiln_fail(err, KILN_EINVAL, 0,
					      "--ssh %s: %s is neither a socket nor a key file", id,
					      paths.items[k]);
			} else {
				keys++;
			}
		}
		if (r < 0)
			break;
		if (socket) {
			int fd = connect_unix(socket);
			if (fd < 0) {
				r = kiln_fail(err, KILN_EIO, -fd,
					      "--ssh %s: connecting to the agent at %s", id,
					      socket);
				break;
			}
			(void) close(fd);
			if (!(ag->socket = kiln_strdup(socket)))
				r = oom(err);
			continue;
		}
		r = start_agent(scratch, ag, err);
		if (r >= 0)
			r = add_keys(ag, &paths, err);
		kiln_debug(ctx, "build: --ssh %s: ssh-agent %d with %zu key file(s)", id,
			   (int) ag->agent_pid, keys);
	}
	if (r < 0)
		bb_ssh_release(ret);
	return r < 0 ? r : 0;
}

const struct bb_ssh_agent *bb_ssh_find(const struct bb_ssh_agents *a, const char *id)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->v[i].id && !strcmp(a->v[i].id, id))
			return &a->v[i];
	return NULL;
}

/* ---- the relay of one RUN ------------------------------------------------------------------- */

struct listener {
	int fd;
	char *dir;
	char *path;
	char *upstream;
};

struct conn {
	int a, b; /* the RUN's end, the agent's */
};

struct bb_ssh_relay {
	struct listener *ls;
	size_t n_ls;
	struct conn conns[BB_SSH_MAX_CONNS];
	size_t n_conns;
	int efd;
	pthread_t tid;
	int started;
};

int bb_ssh_relay_new(struct bb_ssh_relay **ret, struct kiln_error *err)
{
	struct bb_ssh_relay *r = kiln_calloc(1, sizeof(*r));
	if (!r)
		return oom(err);
	r->efd = eventfd(0, EFD_CLOEXEC);
	if (r->efd < 0) {
		int e = kiln_fail_errno(err, "creating an eventfd");
		free(r);
		return e;
	}
	*ret = r;
	return 0;
}

int bb_ssh_relay_add(struct bb_ssh_relay *r, const char *dir, const char *upstream, uint32_t uid,
		     uint32_t gid, uint32_t mode, const char **ret_path, struct kiln_error *err)
{
	if (r->started)
		return kiln_fail(err, KILN_EINTERNAL, 0, "the agent relay is running already");
	struct listener *nl = kiln_reallocarray(r->ls, r->n_ls + 1, sizeof(*nl));
	if (!nl)
		return oom(err);
	r->ls = nl;
	struct listener *l = &r->ls[r->n_ls];
	*l = (struct listener){ .fd = -1 };
	l->dir = kiln_strdup(dir);
	l->path = kiln_asprintf("%s/agent", dir);
	l->upstream = kiln_strdup(upstream);
	r->n_ls++;
	if (!l->dir || !l->path || !l->upstream)
		return oom(err);
	cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s", dir);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	(void) snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/agent", dfd);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0)
		return kiln_fail_errno(err, "creating the agent socket");
	if (bind(l->fd, (struct sockaddr *) &a, sizeof(a)) < 0)
		return kiln_fail_errno(err, "creating the agent socket %s", l->path);
	if (fchownat(dfd, "agent", uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dfd, "agent", mode & 07777, 0) < 0)
		return kiln_fail_errno(err, "preparing the agent socket %s", l->path);
	if (listen(l->fd, 16) < 0)
		return kiln_fail_errno(err, "listening on %s", l->path);
	*ret_path = l->path;
	return 0;
}

static void conn_close(struct bb_ssh_relay *r, size_t i)
{
	(void) close(r->conns[i].a);
	(void) close(r->conns[i].b);
	r->conns[i] = r->conns[--r->n_conns];
}

/* Move what `from` has to `to`; 0 when the connection is over. */
static int pass(int from, int to)
{
	char buf[16384];
	ssize_t n;
	do
		n = read(from, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	return kiln_write_all(to, buf, (size_t) n) == 0;
}

static void *relay_main(void *arg)
{
	struct bb_ssh_relay *r = arg;
	struct pollfd p[1 + 16 + 2 * BB_SSH_MAX_CONNS];
	size_t nl = r->n_ls < 16 ? r->n_ls : 16;
	for (;;) {
		size_t np = 0;
		p[np++] = (struct pollfd){ .fd = r->efd, .events = POLLIN };
		for (size_t i = 0; i < nl; i++)
			p[np++] = (struct pollfd){ .fd = r->ls[i].fd, .events = POLLIN };
		for (size_t i = 0; i < r->n_conns; i++) {
			p[np++] = (struct pollfd){ .fd = r->conns[i].a, .events = POLLIN };
			p[np++] = (struct pollfd){ .fd = r->conns[i].b, .events = POLLIN };
		}
		if (poll(p, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		/* connections first (their indexes move when one closes) */
		for (size_t i = r->n_conns; i-- > 0;) {
			struct pollfd *pa = &p[1 + nl + 2 * i], *pb = pa + 1;
			int ok = 1;
			if (pa->revents)
				ok = pass(r->conns[i].a, r->conns[i].b);
			if (ok && pb->revents)
				ok = pass(r->conns[i].b, r->conns[i].a);
			if (!ok)
				conn_close(r, i);
		}
		for (size_t i = 0; i < nl; i++) {
			if (!p[1 + i].revents)
				continue;
			int c = accept4(r->ls[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			int u = r->n_conns < BB_SSH_MAX_CONNS ? connect_unix(r->ls[i].upstream)
							      : -EMFILE;
			if (u < 0) {
				(void) close(c);
				continue;
			}
			r->conns[r->n_conns++] = (struct conn){ .a = c, .b = u };
		}
	}
	while (r->n_conns)
		conn_close(r, r->n_conns - 1);
	return NULL;
}

int bb_ssh_relay_start(struct bb_ssh_relay *r, struct kiln_error *err)
{
	if (r->n_ls > 16)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than 16 SSH mounts in one RUN");
	int e = kiln_thread_start(&r->tid, relay_main, r);
	if (e)
		return kiln_fail(err, KILN_EIO, e, "starting the agent relay");
	r->started = 1;
	return 0;
}

void bb_ssh_relay_free(struct bb_ssh_relay *r)
{
	if (!r)
		return;
	if (r->started) {
		uint64_t one = 1;
		if (write(r->efd, &one, sizeof(one)) == (ssize_t) sizeof(one))
			(void) pthread_join(r->tid, NULL);
		else
			(void) pthread_detach(r->tid); /* cannot happen with an eventfd */
	}
	for (size_t i = 0; i < r->n_ls; i++) {
		if (r->ls[i].fd >= 0)
			(void) close(r->ls[i].fd);
		if (r->ls[i].path)
			(void) unlink(r->ls[i].path);
		free(r->ls[i].dir);
		free(r->ls[i].path);
		free(r->ls[i].upstream);
	}
	free(r->ls);
	(void) close(r->efd);
	free(r);
}
