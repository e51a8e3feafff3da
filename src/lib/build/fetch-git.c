/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ADD's and the context's git repositories, cloned with the git client
 * when one is installed: a branch or tag by name, any other ref fetched,
 * its submodules checked out; --checksum (the commit's or annotated tag's
 * prefix), BuildKit's GIT_AUTH_* secrets, and the URL's own options
 * (git-url.c). The checkout lands in a scratch directory of the build.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build/build-private.h"
#include "build/git-url.h"
#include "build/mounts.h"
#include "registry/auth-config.h"

#define GIT_LOG_TAIL 4096

extern char **environ;

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static int find_git(char *out, size_t size)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		if (n && n + 5 < size) {
			memcpy(out, p, n);
			memcpy(out + n, "/git", 5);
			if (access(out, X_OK) == 0)
				return 0;
		}
		p += n + (p[n] == ':');
	}
	return -1;
}

/* The git client, and what its environment gets beyond ours (credentials) */
struct git_cmd {
	const char *path;
	char *const *env; /* NULL-terminated, or NULL */
};

/* Run git with its output in `log`; the exit status, or < 0. */
static int run_git(struct bb *b, const struct git_cmd *git, char *const *argv, const char *log,
		   struct kiln_error *err)
{
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return oom(err);
	int ok = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) == 0 &&
		 posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND,
						  0600) == 0 &&
		 posix_spawn_file_actions_adddup2(&fa, 1, 2) == 0;
	cleanup(kiln_strv_release) struct kiln_strv env = KILN_STRV_INIT;
	for (char **e = environ; ok && e && *e; e++)
		if (strncmp(*e, "GIT_", 4) && kiln_strv_push(&env, *e) < 0)
			ok = 0;
	if (ok && (kiln_strv_push(&env, "GIT_TERMINAL_PROMPT=0") < 0 ||
		   kiln_strv_push(&env, "GIT_ASKPASS=/bin/true") < 0))
		ok = 0;
	for (char *const *e = git->env; ok && e && *e; e++)
		if (kiln_strv_push(&env, *e) < 0)
			ok = 0;
	pid_t pid = -1;
	/* posix_spawn returns once git has exec'd (closing kiln's descriptors) */
	bb_spawn_begin(b);
	int se = ok ? posix_spawn(&pid, git->path, &fa, NULL, argv, env.items) : ENOMEM;
	bb_spawn_end(b);
	posix_spawn_file_actions_destroy(&fa);
	if (se != 0)
		return kiln_fail(err, KILN_EIO, se, "starting %s", git->path);
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return kiln_fail_errno(err, "waiting for git");
		if (kiln_cancelled(&b->ctx)) {
			(void) kill(pid, SIGKILL);
			(void) waitpid(pid, &status, 0);
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		(void) nanosleep(&ts, NULL);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int git_fail(const char *log, const char *as, const char *what, const char *url,
		    struct kiln_error *err)
{
	cleanup_free char *out = NULL;
	size_t len = 0;
	if (kiln_read_file(log, (size_t) 1 << 20, &out, &len, NULL) < 0)
		out = NULL;
	const char *tail = out ? out : "";
	if (len > GIT_LOG_TAIL)
		tail = out + len - GIT_LOG_TAIL;
	size_t tl = strlen(tail);
	while (tl && tail[tl - 1] == '\n')
		tl--;
	return kiln_fail(err, KILN_ECHILD, 0, "%s %s: git %s failed%s%.*s", as, url, what,
			 tl ? ":\n" : "", (int) tl, tail);
}

/* The object `rev` names in the checkout, in hex into `out`; "" when it names none. */
static int git_rev(struct bb *b, const struct git_cmd *git, const char *co, const char *rev,
		   const char *log, char *out, size_t size, struct kiln_error *err)
{
	out[0] = '\0';
	(void) unlink(log);
	char *argv[] = { "git",	    "-C",      (char *) co, "rev-parse", "--verify",
			 "--quiet", "--end-of-options", (char *) rev, NULL };
	int r = run_git(b, git, argv, log, err);
	if (r != 0)
		return r < 0 ? r : 0;
	cleanup_free char *text = NULL;
	size_t len = 0;
	if ((r = kiln_read_file(log, 4096, &text, &len, err)) < 0)
		return r;
	size_t n = strspn(text, "0123456789abcdef");
	if (n < size) {
		memcpy(out, text, n);
		out[n] = '\0';
	}
	return 0;
}

/*
 * ADD --checksum of a repository: a hex prefix of the commit the ref
 * resolves to, or of the annotated tag it names (BuildKit's git source).
 * `name` is the ref as clone --branch took it; a fetched ref is FETCH_HEAD.
 */
static int git_checksum(struct bb *b, const struct git_cmd *git, const char *co, const char *name,
			const char *checksum, const char *log, const char *as, const char *url,
			struct kiln_error *err)
{
	char commit[80], tag[80] = "", fetched[80] = "";
	int r = git_rev(b, git, co, "HEAD", log, commit, sizeof(commit), err);
	if (r >= 0 && name && *name) {
		cleanup_free char *t = kiln_asprintf("refs/tags/%s", name);
		if (!t)
			return oom(err);
		r = git_rev(b, git, co, t, log, tag, sizeof(tag), err);
	}
	if (r >= 0)
		r = git_rev(b, git, co, "FETCH_HEAD", log, fetched, sizeof(fetched), err);
	if (r < 0)
		return r;
	if (!*tag && strcmp(fetched, commit) != 0)
		memcpy(tag, fetched, sizeof(tag));
	size_t n = strlen(checksum);
	if (!strncmp(commit, checksum, n) || (*tag && !strncmp(tag, checksum, n)))
		return 0;
	if (*tag)
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s %s: expected checksum to match %s, got %s or %s", as, url,
				 checksum, tag, commit);
	return kiln_fail(err, KILN_EDIGEST, 0, "%s %s: expected checksum to match %s, got %s", as,
			 url, checksum, *commit ? commit : "no commit");
}

/*
 * Submodules, as BuildKit's git source has them unless `submodules=false`:
 * checked out, recursively. Without the .git directory their .git files
 * would point nowhere, so they go too.
 */
static int git_submodules(struct bb *b, const struct git_cmd *git, const char *co, int keep,
			  const char *log, const char *as, const char *url, struct kiln_error *err)
{
	cleanup_free char *gm = kiln_asprintf("%s/.gitmodules", co);
	if (!gm)
		return oom(err);
	if (access(gm, F_OK) != 0)
		return 0;
	char *shallow[] = { "git",    "-C",	     (char *) co, "submodule", "update",
			    "--init", "--recursive", "--depth",	  "1",	       NULL };
	char *full[] = { "git",	   "-C",	  (char *) co, "submodule", "update",
			 "--init", "--recursive", NULL };
	int r = run_git(b, git, shallow, log, err);
	if (r > 0) /* git's dumb HTTP fetches no shallow history */
		r = run_git(b, git, full, log, err);
	if (r > 0)
		return git_fail(log, as, "submodule update", url, err);
	if (r < 0 || keep)
		return r;
	/* " <commit> <path> (<describe>)", one line per submodule */
	(void) unlink(log);
	char *status[] = { "git", "-C", (char *) co, "submodule", "status", "--recursive", NULL };
	if ((r = run_git(b, git, status, log, err)) != 0)
		return r > 0 ? git_fail(log, as, "submodule status", url, err) : r;
	cleanup_free char *text = NULL;
	size_t len = 0;
	if ((r = kiln_read_file(log, (size_t) 1 << 20, &text, &len, err)) < 0)
		return r;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *path = strchr(line + 1, ' ');
		if (!path)
			continue;
		path++;
		char *desc = strstr(path, " (");
		if (desc)
			*desc = '\0';
		cleanup_free char *dotgit = kiln_asprintf("%s/%s/.git", co, path);
		if (!dotgit)
			return oom(err);
		if (unlink(dotgit) < 0 && errno != ENOENT)
			return kiln_fail_errno(err, "removing %s", dotgit);
	}
	return 0;
}

/*
 * BuildKit's git credentials: the build secrets GIT_AUTH_HEADER and
 * GIT_AUTH_TOKEN, each for the remote's host first (GIT_AUTH_TOKEN.<host>),
 * become the Authorization header git sends to an http(s) remote: a header
 * as it is, a token as `basic` x-access-token:<token>. Scoped to the remote
 * (to all of https://github.com/, as BuildKit does), and given to git in
 * its environment, not its arguments, which any process listing shows.
 */
struct git_auth {
	char *env[4]; /* GIT_CONFIG_COUNT, _KEY_0, _VALUE_0, NULL */
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void git_auth_release(struct git_auth *a)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(a->env); i++)
		wipe_free(a->env[i]);
	memset(a, 0, sizeof(*a));
}

static int git_auth(struct bb *b, const char *remote, struct git_auth *ret,
		    struct kiln_error *err)
{
	if (!b->rmx || !b->rmx->secrets.n ||
	    (strncmp(remote, "https://", 8) != 0 && strncmp(remote, "http://", 7) != 0))
		return 0;
	/* url.URL's Host: after the scheme, before the path, without user@ */
	const char *h = strstr(remote, "://") + 3;
	size_t hn = strcspn(h, "/?#");
	const char *at = memrchr(h, '@', hn);
	if (at) {
		hn -= (size_t) (at + 1 - h);
		h = at + 1;
	}
	static const char *const names[] = { "GIT_AUTH_HEADER", "GIT_AUTH_TOKEN" };
	const struct bb_secret *sec = NULL;
	int token = 0;
	for (int host = 1; host >= 0 && !sec; host--)
		for (size_t i = 0; i < 2 && !sec; i++) {
			cleanup_free char *id = host ? kiln_asprintf("%s.%.*s", names[i], (int) hn, h)
						     : kiln_strdup(names[i]);
			if (!id)
				return oom(err);
			sec = bb_secrets_find(&b->rmx->secrets, id);
			token = (int) i;
		}
	if (!sec)
		return 0;
	/* a secret file's last newline is not part of a header */
	size_t len = sec->len;
	while (len && (sec->data[len - 1] == '\n' || sec->data[len - 1] == '\r'))
		len--;
	char *value = NULL;
	if (token) {
		char *plain = kiln_asprintf("x-access-token:%.*s", (int) len, sec->data);
		value = plain ? kiln_registry_base64(plain, strlen(plain)) : NULL;
		wipe_free(plain);
		char *basic = value ? kiln_asprintf("basic %s", value) : NULL;
		wipe_free(value);
		value = basic;
	} else {
		value = kiln_strndup(sec->data, len);
	}
	const char *scope = remote;
	if (!strncmp(remote, "https://github.com/", 19))
		scope = "https://github.com/";
	else if (!strncmp(remote, "https://www.github.com/", 23))
		scope = "https://www.github.com/";
	ret->env[0] = kiln_strdup("GIT_CONFIG_COUNT=1");
	ret->env[1] = kiln_asprintf("GIT_CONFIG_KEY_0=http.%s.extraheader", scope);
	ret->env[2] = value ? kiln_asprintf("GIT_CONFIG_VALUE_0=Authorization: %s", value) : NULL;
	wipe_free(value);
	if (!ret->env[0] || !ret->env[1] || !ret->env[2]) {
		git_auth_release(ret);
		return oom(err);
	}
	return 0;
}

/* A fresh checkout directory: what a failed attempt left goes */
static void clear_checkout(const char *co, const char *log)
{
	struct kiln_error e = KILN_ERROR_INIT;
	(void) kiln_rm_rf(co, &e);
	kiln_error_release(&e);
	(void) unlink(log);
}

/*
 * Any ref git can fetch (refs/pull/42/head, pull/42/head, a full ref):
 * an empty repository, a fetch of the ref, its commit checked out.
 */
static int fetch_ref(struct bb *b, const struct git_cmd *git, const char *remote, const char *ref,
		     const char *co, const char *log, struct kiln_error *err)
{
	char *init[] = { "git", "init", "--quiet", "--", (char *) co, NULL };
	char *shallow[] = { "git",    "-C",	 (char *) co,	  "fetch",	"--quiet",
			    "--depth", "1",	 "--",		  (char *) remote, (char *) ref,
			    NULL };
	char *full[] = { "git",		"-C", (char *) co,	"fetch", "--quiet",
			 "--",		(char *) remote,	(char *) ref, NULL };
	char *checkout[] = { "git",	    "-C",	      (char *) co, "checkout",
			     "--quiet", "--detach", "FETCH_HEAD", NULL };
	int r = run_git(b, git, init, log, err);
	if (r == 0)
		r = run_git(b, git, shallow, log, err);
	if (r > 0) /* git's dumb HTTP fetches no shallow history */
		r = run_git(b, git, full, log, err);
	if (r == 0)
		r = run_git(b, git, checkout, log, err);
	return r;
}

int bb_fetch_git_as(struct bb *b, const struct bb_vertex *v, const char *as, const char *url,
		    int keep_git_dir, const char *checksum, char **ret_dir,
		    struct kiln_error *err)
{
	cleanup(bb_git_url_release) struct bb_git_url u = { .keep_git_dir = -1, .submodules = -1 };
	int r = bb_git_url_parse(url, &u, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "%s %s", as, url);
	if (keep_git_dir >= 0 && u.keep_git_dir >= 0 && keep_git_dir != u.keep_git_dir)
		return kiln_fail(err, KILN_EINVAL, 0, "%s %s: inconsistent keep-git-dir configuration",
				 as, url);
	int keep = keep_git_dir == 1 || u.keep_git_dir == 1;
	if (checksum && u.checksum && strcmp(checksum, u.checksum) != 0)
		return kiln_fail(err, KILN_EINVAL, 0, "%s %s: checksum mismatch \"%s\" != \"%s\"", as,
				 url, checksum, u.checksum);
	if (!checksum)
		checksum = u.checksum;
	if (checksum && (!*checksum || checksum[strspn(checksum, "0123456789abcdefABCDEF")]))
		return kiln_fail(err, KILN_EINVAL, 0,
				 "%s %s: invalid checksum %s for Git URL, expected hex commit hash",
				 as, url, checksum);
	char path[PATH_MAX];
	if (find_git(path, sizeof(path)) < 0)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "%s %s: a git repository needs the git client, which is not "
				 "installed",
				 as, url);
	const char *remote = u.remote, *ref = u.ref, *subdir = u.subdir;
	cleanup(git_auth_release) struct git_auth auth = { 0 };
	if ((r = git_auth(b, remote, &auth, err)) < 0)
		return r;
	const struct git_cmd gc = { path, auth.env[0] ? auth.env : NULL };
	const struct git_cmd *git = &gc;
	cleanup_free char *dir = NULL;
	if ((r = bb_tmpdir(b, "git", &dir, err)) < 0)
		return r;
	cleanup_free char *log = kiln_asprintf("%s.log", dir);
	cleanup_free char *co = kiln_asprintf("%s/checkout", dir);
	if (!log || !co)
		return oom(err);
	int is_sha = ref && strlen(ref) == 40 && strspn(ref, "0123456789abcdef") == 40;
	if (is_sha && checksum && strncmp(ref, checksum, strlen(checksum)) != 0)
		return kiln_fail(err, KILN_EDIGEST, 0,
				 "%s %s: expected checksum to match %s, got %s", as, url, checksum,
				 ref);
	/* clone --branch takes a branch's or tag's name; other refs are fetched */
	const char *name = ref;
	if (name && !strncmp(name, "refs/heads/", 11))
		name += 11;
	else if (name && !strncmp(name, "refs/tags/", 10))
		name += 10;
	int other_ref = name && !strncmp(name, "refs/", 5);
	bb_status(b, v, "cloning %s", remote);
	char *clone[] = { "git",	"clone", "--quiet",	    "--depth", "1",
			  "--branch", (char *) name, "--", (char *) remote, co,
			  NULL };
	if (other_ref) {
		r = 1;
	} else if (!ref || is_sha) {
		/* the default branch, or the whole history to find a commit */
		char *plain[] = { "git", "clone", "--quiet", "--", (char *) remote, co, NULL };
		char *shallow[] = { "git", "clone", "--quiet", "--depth", "1",
				    "--",  (char *) remote, co, NULL };
		r = run_git(b, git, is_sha ? plain : shallow, log, err);
	} else {
		r = run_git(b, git, clone, log, err);
	}
	if (r > 0 && !is_sha && !other_ref) {
		/* some servers (git's dumb HTTP) cannot do shallow clones: a whole one */
		clear_checkout(co, log);
		char *full[] = { "git", "clone", "--quiet", "--branch", (char *) (ref ? name : "HEAD"),
				 "--",	(char *) remote, co, NULL };
		char *full_default[] = { "git", "clone", "--quiet", "--", (char *) remote, co, NULL };
		r = run_git(b, git, ref ? full : full_default, log, err);
	}
	if (r > 0 && ref && !is_sha) {
		/* not a branch or tag (pull/42/head): the ref itself */
		clear_checkout(co, log);
		r = fetch_ref(b, git, remote, ref, co, log, err);
	}
	if (r > 0)
		r = git_fail(log, as, "clone", url, err);
	if (r == 0 && is_sha) {
		char *checkout[] = {
			"git", "-C", co, "checkout", "--quiet", "--detach", (char *) ref, NULL
		};
		r = run_git(b, git, checkout, log, err);
		if (r > 0)
			r = git_fail(log, as, "checkout", url, err);
	}
	if (r == 0 && checksum && !is_sha)
		r = git_checksum(b, git, co, name, checksum, log, as, url, err);
	if (r == 0 && u.submodules != 0)
		r = git_submodules(b, git, co, keep, log, as, url, err);
	(void) unlink(log);
	if (r < 0)
		return r;
	if (!keep) {
		cleanup_free char *dotgit = kiln_asprintf("%s/.git", co);
		if (!dotgit)
			return oom(err);
		if ((r = kiln_rm_rf(dotgit, err)) < 0)
			return r;
	}
	if (subdir && *subdir) {
		/* the subdirectory becomes the source: move it up */
		cleanup_free char *sub = kiln_plan_path_join("/", subdir);
		cleanup_free char *from = sub ? kiln_asprintf("%s%s", co, sub) : NULL;
		cleanup_free char *to = kiln_asprintf("%s/sub", dir);
		if (!from || !to)
			return oom(err);
		struct stat st;
		if (lstat(from, &st) < 0 || !S_ISDIR(st.st_mode))
			return kiln_fail(err, KILN_ENOTFOUND, 0,
					 "%s %s: no directory %s in the repository", as, url,
					 subdir);
		if (rename(from, to) < 0)
			return kiln_fail_errno(err, "moving %s", from);
		free(co);
		co = steal_ptr(&to);
	}
	/* the checkout is the source; its scratch directory goes with it */
	cleanup_free char *final = kiln_asprintf("%s/tree", dir);
	if (!final)
		return oom(err);
	if (rename(co, final) < 0)
		return kiln_fail_errno(err, "moving %s", co);
	/* leave only the tree in the scratch directory */
	cleanup_free char *rest = kiln_asprintf("%s/checkout", dir);
	if (rest) {
		struct kiln_error e = KILN_ERROR_INIT;
		(void) kiln_rm_rf(rest, &e);
		kiln_error_release(&e);
	}
	*ret_dir = steal_ptr(&final);
	return 0;
}

int bb_fetch_git(struct bb *b, const struct bb_vertex *v, const char *url, int keep_git_dir,
		 const char *checksum, char **ret_dir, struct kiln_error *err)
{
	return bb_fetch_git_as(b, v, "ADD", url, keep_git_dir, checksum, ret_dir, err);
}
