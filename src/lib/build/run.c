/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RUN: the command line as BuildKit builds it (shell form through SHELL or
 * /bin/sh -c, exec form as is, heredocs run as scripts), its mounts, and the
 * process in the sandbox over the step's overlay, its output streamed as
 * progress and its tail kept for the error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build-private.h"
#include "dockerfile/syntax.h"
#include "exec/exec.h"
#include "snapshot/snapshot.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- the command line ------------------------------------------------------ */

int bb_run_argv(const struct kiln_df_step *step, struct kiln_strv *argv, struct kiln_strv *files,
		struct kiln_error *err)
{
	const struct kiln_df_cmdline *cl = &step->instr.u.run.cmd;
	cleanup(kiln_strv_release) struct kiln_strv args = KILN_STRV_INIT;
	for (size_t i = 0; i < cl->args.n; i++)
		if (kiln_strv_push(&args, cl->args.v[i]) < 0)
			return oom(err);
	if (cl->n_files) {
		if (args.len != 1 || cl->exec_form)
			return kiln_fail(err, KILN_EPARSE, 0,
					 "parsing produced an invalid run command: %zu arguments",
					 args.len);
		struct kiln_df_heredocs hd = { 0 };
		int single = kiln_df_parse_heredoc(args.items[0], strlen(args.items[0]), &hd, NULL);
		kiln_df_heredocs_release(&hd);
		struct kiln_buf b = KILN_BUF_INIT;
		int r = 0;
		if (single == 1) {
			/* one heredoc and nothing else: a script */
			const struct kiln_df_inline *f = &cl->files[0];
			if (f->chomp)
				r = kiln_df_chomp_heredoc(f->data, strlen(f->data), &b);
			else
				r = kiln_buf_addstr(&b, f->data);
			if (r >= 0 && !strncmp(b.buf, "#!", 2)) {
				/* with a shebang: a file, run by its interpreter */
				cleanup_free char *path = kiln_asprintf("/dev/pipes/%s", f->name);
				if (!path || kiln_strv_push(files, path) < 0 ||
				    kiln_strv_push(files, b.buf) < 0)
					r = -KILN_ENOMEM;
				kiln_buf_reset(&b);
				if (r >= 0)
					r = kiln_buf_addstr(&b, path);
			}
		} else {
			/* heredocs inside a longer line: the shell reads them itself */
			r = kiln_buf_addstr(&b, args.items[0]);
			for (size_t i = 0; r >= 0 && i < cl->n_files; i++)
				r = kiln_buf_addf(&b, "\n%s%s", cl->files[i].data,
						  cl->files[i].name);
		}
		if (r >= 0) {
			free(args.items[0]);
			args.items[0] = kiln_buf_detach(&b, NULL);
			r = args.items[0] ? 0 : -KILN_ENOMEM;
		}
		kiln_buf_release(&b);
		if (r < 0)
			return oom(err);
	}
	if (cl->exec_form)
		return kiln_strv_copy(argv, &args) < 0 ? oom(err) : 0;
	for (size_t i = 0; i < step->shell.n; i++)
		if (kiln_strv_push(argv, step->shell.v[i]) < 0)
			return oom(err);
	struct kiln_buf j = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < args.len; i++)
		r = kiln_buf_addf(&j, "%s%s", i ? " " : "", args.items[i]);
	if (r >= 0)
		r = kiln_strv_push(argv, j.buf);
	kiln_buf_release(&j);
	return r < 0 ? oom(err) : 0;
}

/* ---- mounts ------------------------------------------------------------------ */

static const char *mount_type_name(enum kiln_df_mount_type t)
{
	static const char *const names[] = { "bind", "cache", "tmpfs", "secret", "ssh" };
	return t <= KILN_DF_MOUNT_SSH ? names[t] : "?";
}

static char *mount_target(const struct kiln_df_step *step, const struct kiln_df_mount *m)
{
	const char *t = m->target ? m->target : "";
	if (t[0] == '/')
		return kiln_plan_path_clean(t);
	return kiln_plan_path_join(step->workdir, t);
}

static int unsupported_mount(const struct kiln_df_mount *m, struct kiln_error *err)
{
	return kiln_fail(err, KILN_EUNSUPP, 0,
			 "RUN --mount=type=%s needs build %s (--%s), which this kiln build does "
			 "not offer yet",
			 mount_type_name(m->type),
			 m->type == KILN_DF_MOUNT_SECRET ? "secrets" : "SSH forwarding",
			 m->type == KILN_DF_MOUNT_SECRET ? "secret" : "ssh");
}

/* The context selection a bind mount reads ("." when no source). */
static int context_selection(struct bb *b, const struct kiln_df_mount *m,
			     struct kiln_plan_selection **ret, struct kiln_error *err)
{
	if (b->context_fd < 0)
		return kiln_fail(
			err, KILN_ENOTFOUND, 0,
			"RUN --mount binds the build context, but the Dockerfile came alone");
	const char *src[] = { m->source && *m->source ? m->source : "." };
	struct kiln_plan_select_opts so = { .sources = src, .n_sources = 1 };
	(void) pthread_mutex_lock(&b->hash_lock);
	int r = kiln_plan_select(&b->ctx_tree, &so, &b->ctx, ret, err);
	if (r >= 0)
		r = kiln_plan_selection_hash(*ret, &b->ctx_tree, b->hasher, err);
	(void) pthread_mutex_unlock(&b->hash_lock);
	return r;
}

int bb_run_mounts_key(struct bb_step_ctx *sc, struct kiln_strv *ret, struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct kiln_df_step *step = sc->ps->df;
	const struct kiln_df_run *run = &step->instr.u.run;
	if (run->n_devices)
		return kiln_fail(err, KILN_EUNSUPP, 0, "RUN --device is not supported by kiln");
	if (run->security == KILN_DF_SECURITY_INSECURE)
		return kiln_fail(err, KILN_EUNSUPP, 0,
				 "RUN --security=insecure needs the build to allow "
				 "security.insecure, which kiln does not grant");
	for (size_t i = 0; i < run->n_mounts; i++) {
		const struct kiln_df_mount *m = &run->mounts[i];
		if (m->type == KILN_DF_MOUNT_SECRET || m->type == KILN_DF_MOUNT_SSH)
			return unsupported_mount(m, err);
		cleanup_free char *target = mount_target(step, m);
		cleanup_free char *from = NULL;
		if (!target)
			return oom(err);
		int r;
		long stage = i < sc->ps->n_mounts ? sc->ps->mount_stages[i] : -1;
		if (m->type == KILN_DF_MOUNT_BIND) {
			if (stage >= 0) {
				if ((r = bb_wait_stage(b, sc->s, (size_t) stage, err)) < 0)
					return r;
				from = kiln_asprintf("stage:%s", b->stages[stage].key);
			} else if (m->from && *m->from) {
				struct bb_image *im = NULL;
				if ((r = bb_image_get(b, m->from, &sc->s->ps->df->platform, &im,
						      err)) < 0)
					return r;
				from = kiln_asprintf("image:%s", im->manifest.str);
			} else {
				cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel =
					NULL;
				if ((r = context_selection(b, m, &sel, err)) < 0)
					return r;
				from = kiln_asprintf("context:%s", sel->digest.str);
			}
		} else if (m->type == KILN_DF_MOUNT_CACHE) {
			if ((m->from && *m->from) || (m->source && *m->source))
				return kiln_fail(
					err, KILN_EUNSUPP, 0,
					"RUN --mount=type=cache: kiln cannot seed a cache from a "
					"stage or an image (from=, source=); without them the "
					"cache starts empty");
			from = kiln_strdup("cache");
		} else {
			from = kiln_strdup("tmpfs");
		}
		if (!from)
			return oom(err);
		char *d = kiln_asprintf("%s from=%s source=%s target=%s rw=%d id=%s size=%lld",
					mount_type_name(m->type), from, m->source ? m->source : "",
					target, !m->readonly, m->id ? m->id : "",
					(long long) m->size);
		if (!d || kiln_strv_push_owned(ret, d) < 0)
			return oom(err);
	}
	return 0;
}

struct run_mounts {
	struct kiln_exec_mount *v;
	size_t n;
	struct kiln_strv strings;
	struct kiln_snapshot_mount **snaps;
	size_t n_snaps;
	struct kiln_strv tmpdirs;
	int *locks;
	size_t n_locks;
};

static void run_mounts_release(struct run_mounts *rm)
{
	free(rm->v);
	kiln_strv_release(&rm->strings);
	for (size_t i = 0; i < rm->n_snaps; i++)
		kiln_snapshot_mount_release(rm->snaps[i]);
	free(rm->snaps);
	for (size_t i = 0; i < rm->tmpdirs.len; i++) {
		struct kiln_error e = KILN_ERROR_INIT;
		(void) kiln_rm_rf(rm->tmpdirs.items[i], &e);
		kiln_error_release(&e);
	}
	kiln_strv_release(&rm->tmpdirs);
	for (size_t i = 0; i < rm->n_locks; i++)
		(void) close(rm->locks[i]);
	free(rm->locks);
}

static const char *keep_str(struct run_mounts *rm, char *s)
{
	if (!s || kiln_strv_push_owned(&rm->strings, s) < 0)
		return NULL;
	return rm->strings.items[rm->strings.len - 1];
}

/* A chain mounted for a bind: the path of `source` inside it. */
static int bind_chain(struct bb_step_ctx *sc, struct run_mounts *rm, const struct bb_chain *c,
		      const struct kiln_df_mount *m, const char **ret, struct kiln_error *err)
{
	struct kiln_snapshot_mount *sm = NULL;
	int r = bb_chain_mount(sc->b, sc->sn, c, m->readonly, &sm, err);
	if (r < 0)
		return r;
	rm->snaps[rm->n_snaps++] = sm;
	cleanup_free char *real = NULL;
	r = kiln_plan_resolve_in_root(kiln_snapshot_mount_fd(sm), m->source ? m->source : "/", 1,
				      &real, err);
	if (r < 0)
		return r;
	*ret = keep_str(rm, kiln_asprintf("/proc/self/fd/%d%s%s", kiln_snapshot_mount_fd(sm),
					  *real ? "/" : "", real));
	return *ret ? 0 : oom(err);
}

static int cache_dir(struct bb *b, struct run_mounts *rm, const struct kiln_df_mount *m,
		     const char *target, const char **ret, struct kiln_error *err)
{
	const char *id = m->id && *m->id ? m->id : target;
	struct kiln_digest d;
	int r = kiln_sha256_buf(id, strlen(id), &d, err);
	if (r < 0)
		return r;
	cleanup_free char *base = kiln_store_path(b->st, "build-cache-mounts");
	char *dir = base ? kiln_asprintf("%s/%.32s", base, d.hex) : NULL;
	if (!dir)
		return oom(err);
	*ret = keep_str(rm, dir);
	if (!*ret)
		return oom(err);
	if ((r = kiln_mkdir_p(base, 0700, err)) < 0)
		return r;
	if (mkdir(dir, (mode_t) (m->has_mode ? m->mode & 07777 : 0755)) == 0) {
		if (chown(dir, m->has_uid ? (uid_t) m->uid : 0, m->has_gid ? (gid_t) m->gid : 0) <
			    0 ||
		    (m->has_mode && chmod(dir, (mode_t) (m->mode & 07777)) < 0))
			return kiln_fail_errno(err, "preparing the cache mount %s", dir);
	} else if (errno != EEXIST) {
		return kiln_fail_errno(err, "creating the cache mount %s", dir);
	}
	if (m->sharing == KILN_DF_SHARING_LOCKED) {
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX) < 0) {
			if (fd >= 0)
				(void) close(fd);
			return kiln_fail_errno(err, "locking the cache mount %s", dir);
		}
		rm->locks[rm->n_locks++] = fd;
	}
	return 0;
}

static int build_mounts(struct bb_step_ctx *sc, struct run_mounts *rm, struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct kiln_df_step *step = sc->ps->df;
	const struct kiln_df_run *run = &step->instr.u.run;
	size_t n = run->n_mounts;
	rm->v = kiln_calloc(n + 1, sizeof(*rm->v));
	rm->snaps = kiln_calloc(n + 1, sizeof(*rm->snaps));
	rm->locks = kiln_calloc(n + 1, sizeof(int));
	if (!rm->v || !rm->snaps || !rm->locks)
		return oom(err);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct kiln_df_mount *m = &run->mounts[i];
		struct kiln_exec_mount *em = &rm->v[rm->n];
		em->target = keep_str(rm, mount_target(step, m));
		if (!em->target)
			return oom(err);
		if (m->readonly)
			em->flags |= KILN_EXEC_MOUNT_RO;
		long stage = i < sc->ps->n_mounts ? sc->ps->mount_stages[i] : -1;
		switch (m->type) {
		case KILN_DF_MOUNT_TMPFS:
			em->type = KILN_EXEC_MOUNT_TMPFS;
			em->size = m->size > 0 ? (uint64_t) m->size : 0;
			break;
		case KILN_DF_MOUNT_CACHE:
			em->type = KILN_EXEC_MOUNT_BIND;
			r = cache_dir(b, rm, m, em->target, &em->source, err);
			break;
		case KILN_DF_MOUNT_BIND:
			em->type = KILN_EXEC_MOUNT_BIND;
			if (stage >= 0) {
				r = bind_chain(sc, rm, &b->stages[stage].chain, m, &em->source,
					       err);
			} else if (m->from && *m->from) {
				struct bb_image *im = NULL;
				r = bb_image_get(b, m->from, &sc->s->ps->df->platform, &im, err);
				if (r >= 0)
					r = bind_chain(sc, rm, &im->chain, m, &em->source, err);
			} else {
				/* the context as the build sees it: behind .dockerignore, so a
				 * copy unless nothing is ignored and it is read-only */
				cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel =
					NULL;
				r = context_selection(b, m, &sel, err);
				if (r < 0)
					break;
				if (m->readonly && sel->n_matches == 1 &&
				    (!b->ignore || kiln_ignore_matcher_count(b->ignore) == 0)) {
					em->source =
						keep_str(rm, kiln_asprintf("%s/%s", b->context_dir,
									   sel->matches[0].real));
					r = em->source ? 0 : oom(err);
					break;
				}
				char *dir = NULL;
				if ((r = bb_tmpdir(b, "bind", &dir, err)) < 0)
					break;
				if (kiln_strv_push_owned(&rm->tmpdirs, dir) < 0)
					return oom(err);
				int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (dfd < 0)
					return kiln_fail_errno(err, "opening %s", dir);
				struct bb_copy_opts co = { .dest = "/", .mtime = -1 };
				r = bb_copy(b, dfd, b->context_fd, sel, &co, err);
				(void) close(dfd);
				const char *src = dir;
				cleanup_free char *sub = NULL;
				if (r >= 0 && sel->n_matches == 1 && !sel->matches[0].is_dir) {
					/* a file: bind the file itself */
					sub = kiln_asprintf("%s/%s", dir, sel->matches[0].base);
					src = sub;
				}
				em->source = src ? keep_str(rm, kiln_strdup(src)) : NULL;
				if (r >= 0 && !em->source)
					r = oom(err);
			}
			break;
		default:
			r = unsupported_mount(m, err);
			break;
		}
		rm->n++;
	}
	return r;
}

/* ---- output ------------------------------------------------------------------- */

struct reader {
	struct bb *b;
	const struct bb_vertex *v;
	int fd;
	int efd;
	char *tail; /* a ring of the last KILN_BUILD_LOG_TAIL bytes */
	size_t tail_len, tail_pos;
};

static void tail_add(struct reader *rd, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rd->tail[rd->tail_pos] = p[i];
		rd->tail_pos = (rd->tail_pos + 1) % KILN_BUILD_LOG_TAIL;
		if (rd->tail_len < KILN_BUILD_LOG_TAIL)
			rd->tail_len++;
	}
}

static int drain(struct reader *rd, char *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(rd->fd, buf, size);
		if (n > 0) {
			bb_log(rd->b, rd->v, buf, (size_t) n, 1);
			tail_add(rd, buf, (size_t) n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n == 0 ? 1 : 0; /* 1: end of output */
	}
}

static void *read_output(void *arg)
{
	struct reader *rd = arg;
	char buf[16384];
	for (;;) {
		struct pollfd p[2] = { { rd->fd, POLLIN, 0 }, { rd->efd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && drain(rd, buf, sizeof(buf)))
			break;
		if (p[1].revents) {
			/* the process ended: what it wrote is in the pipe already (another
			 * sandbox may still hold the write end, so no EOF is awaited) */
			(void) drain(rd, buf, sizeof(buf));
			break;
		}
	}
	return NULL;
}

static char *tail_copy(const struct reader *rd, size_t *len)
{
	char *out = kiln_malloc(rd->tail_len + 1);
	if (!out)
		return NULL;
	size_t start = (rd->tail_pos + KILN_BUILD_LOG_TAIL - rd->tail_len) % KILN_BUILD_LOG_TAIL;
	for (size_t i = 0; i < rd->tail_len; i++)
		out[i] = rd->tail[(start + i) % KILN_BUILD_LOG_TAIL];
	out[rd->tail_len] = '\0';
	*len = rd->tail_len;
	return out;
}

/* Go's %q of the command as BuildKit reports it */
static char *process_text(const char *const *argv, size_t argc)
{
	struct kiln_buf j = KILN_BUF_INIT, q = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < argc; i++)
		r = kiln_buf_addf(&j, "%s%s", i ? " " : "", argv[i]);
	if (r >= 0)
		r = kiln_df_go_quote(&q, j.buf, j.len);
	kiln_buf_release(&j);
	if (r < 0) {
		kiln_buf_release(&q);
		return NULL;
	}
	return kiln_buf_detach(&q, NULL);
}

int bb_run(struct bb_step_ctx *sc, struct kiln_snapshot_mount *m, const char *const *argv,
	   size_t argc, struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct kiln_df_step *step = sc->ps->df;
	const struct kiln_df_run *run = &step->instr.u.run;
	cleanup(kiln_strv_release) struct kiln_strv env = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv av = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv files = KILN_STRV_INIT;
	cleanup(kiln_strv_release) struct kiln_strv argv2 = KILN_STRV_INIT;
	for (size_t i = 0; i < step->env.n; i++)
		if (kiln_strv_push(&env, step->env.v[i]) < 0)
			return oom(err);
	for (size_t i = 0; i < step->proxy_env.n; i++)
		if (kiln_strv_push(&env, step->proxy_env.v[i]) < 0)
			return oom(err);
	for (size_t i = 0; i < argc; i++)
		if (kiln_strv_push(&av, argv[i]) < 0)
			return oom(err);
	int r = bb_run_argv(step, &argv2, &files, err);
	if (r < 0)
		return r;
	struct kiln_exec_file ef[1];
	size_t nf = 0;
	if (files.len >= 2) {
		ef[0] = (struct kiln_exec_file){ .path = files.items[0],
						 .data = files.items[1],
						 .len = strlen(files.items[1]),
						 .mode = 0755 };
		nf = 1;
	}

	struct run_mounts rm = { .strings = KILN_STRV_INIT, .tmpdirs = KILN_STRV_INIT };
	r = build_mounts(sc, &rm, err);
	if (r < 0) {
		run_mounts_release(&rm);
		return r;
	}

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		run_mounts_release(&rm);
		return kiln_fail_errno(err, "creating a pipe");
	}
	struct reader rd = { .b = b, .v = sc->v, .fd = pfd[0], .efd = -1 };
	rd.tail = kiln_malloc(KILN_BUILD_LOG_TAIL);
	rd.efd = eventfd(0, EFD_CLOEXEC);
	(void) fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	if (!rd.tail || rd.efd < 0) {
		free(rd.tail);
		if (rd.efd >= 0)
			(void) close(rd.efd);
		(void) close(pfd[0]);
		(void) close(pfd[1]);
		run_mounts_release(&rm);
		return rd.tail ? kiln_fail_errno(err, "eventfd") : oom(err);
	}
	pthread_t tid;
	int reading = pthread_create(&tid, NULL, read_output, &rd) == 0;

	enum kiln_df_network net = run->network;
	struct kiln_exec_spec spec = KILN_EXEC_SPEC_INIT;
	spec.rootfs_fd = kiln_snapshot_mount_fd(m);
	spec.argv = av.items;
	spec.env = env.items;
	spec.cwd = step->workdir;
	spec.user = step->user && *step->user ? step->user : NULL;
	spec.network = (net == KILN_DF_NETWORK_NONE ||
			(net == KILN_DF_NETWORK_DEFAULT && b->o->network == KILN_BUILD_NET_NONE))
			       ? KILN_EXEC_NET_NONE
			       : KILN_EXEC_NET_HOST;
	spec.mounts = rm.v;
	spec.n_mounts = rm.n;
	spec.files = ef;
	spec.n_files = nf;
	spec.stdin_fd = -1;
	spec.stdout_fd = pfd[1];
	spec.stderr_fd = pfd[1];

	struct kiln_exec_proc *proc = NULL;
	struct kiln_exec_status status = { 0 };
	r = kiln_exec_start(&b->ctx, &spec, &proc, err);
	(void) close(pfd[1]);
	if (r >= 0)
		r = kiln_exec_wait(proc, &status, err);
	kiln_exec_proc_free(proc);
	uint64_t one = 1;
	if (write(rd.efd, &one, sizeof(one)) < 0) {
		/* the reader then stops at EOF instead */
	}
	if (reading)
		(void) pthread_join(tid, NULL);
	else
		(void) drain(&rd, (char[4096]){ 0 }, 4096);
	run_mounts_release(&rm);

	cleanup_free char *proc_text = process_text(argv, argc);
	size_t tail_len = 0;
	cleanup_free char *tail = tail_copy(&rd, &tail_len);
	free(rd.tail);
	(void) close(rd.efd);
	(void) close(pfd[0]);
	if (!proc_text || !tail)
		return oom(err);
	if (r == -KILN_ECANCEL)
		return r;
	if (r < 0) {
		(void) kiln_error_prefix(err, r, "process %s did not start", proc_text);
		if (err)
			err->code = KILN_ECHILD;
		bb_vertex_error(b, sc->v, err && err->msg ? err->msg : "the process did not start",
				tail, tail_len);
		return -KILN_ECHILD;
	}
	int code = kiln_exec_status_exit_code(&status);
	if (code != 0) {
		(void) kiln_fail(err, KILN_ECHILD, 0,
				 "process %s did not complete successfully: exit code: %d",
				 proc_text, code);
		bb_vertex_error(b, sc->v, err && err->msg ? err->msg : "the process failed", tail,
				tail_len);
		return -KILN_ECHILD;
	}
	return 0;
}
