/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mounts of one RUN, set up before the sandbox starts and torn down
 * after it, and what the whole build needs for them:
 *
 * - bind: a stage or an image mounted (read-only, or writable over a fresh
 *   upper directory that is thrown away), or the context (a copy behind
 *   .dockerignore unless nothing is ignored and it is read-only);
 * - cache: an instance of the store's cache directory (cachemount.h),
 *   locked as `sharing` says for the RUN's life, seeded from a stage or an
 *   image when from= is given;
 * - tmpfs: a fresh one, `size` enforced by the kernel;
 * - secret: the value as a read-only file on the sandbox's private tmpfs
 *   and/or as a variable; a missing secret fails the RUN when required,
 *   else the mount is skipped (BuildKit's rules);
 * - ssh: a socket of kiln's relaying to the agent (ssh.c).
 *
 * None of them reaches the layer: the sandbox removes the mount points it
 * had to create, and the layer is made from the overlay's upper directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/mounts.h"
#include "snapshot/snapshot.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- the build's part ----------------------------------------------------------- */

static void warn_cb(void *ud, const char *msg)
{
	bb_warn(ud, "%s", msg);
}

int bb_runmounts_init(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	b->rmx = kiln_calloc(1, sizeof(*b->rmx));
	if (!b->rmx)
		return oom(err);
	for (size_t i = 0; i < o->n_build_args; i++) {
		const char *kv = o->build_args[i];
		size_t n = strlen(BB_CACHE_NS_ARG);
		if (!strncmp(kv, BB_CACHE_NS_ARG, n) && kv[n] == '=') {
			free(b->rmx->cache_ns);
			b->rmx->cache_ns = kv[n + 1] ? kiln_strdup(kv + n + 1) : NULL;
			if (kv[n + 1] && !b->rmx->cache_ns)
				return oom(err);
		}
	}
	int r = bb_secrets_load(o->secrets, o->n_secrets, &b->rmx->secrets, warn_cb, b, err);
	if (r < 0)
		return r;
	return bb_ssh_load(&b->ctx, o->ssh, o->n_ssh, b->tmp_root, &b->rmx->ssh, err);
}

int bb_runmounts_check(struct bb *b, struct kiln_error *err)
{
	if (b->o->allow & KILN_BUILD_ALLOW_SECURITY_INSECURE)
		return 0;
	for (size_t i = 0; i < b->plan->n_stages; i++)
		for (size_t k = 0; k < b->plan->stages[i].n_steps; k++) {
			const struct kiln_df_step *st = b->plan->stages[i].steps[k].df;
			if (st->instr.cmd == KILN_DF_RUN &&
			    st->instr.u.run.security == KILN_DF_SECURITY_INSECURE)
				return kiln_fail_at(err, KILN_EINVAL, b->df_name,
						    st->instr.start_line, 0,
						    "security.insecure is not allowed");
		}
	return 0;
}

void bb_runmounts_free(struct bb *b)
{
	if (!b->rmx)
		return;
	bb_secrets_release(&b->rmx->secrets);
	bb_ssh_release(&b->rmx->ssh);
	free(b->rmx->cache_ns);
	free(b->rmx);
	b->rmx = NULL;
}

/* ---- where a mount reads ------------------------------------------------------------ */

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
	return bb_context_select(b, &so, ret, err);
}

/*
 * The stage or image a bind or cache mount's from= names: its chain and
 * "stage:<key>" / "image:<manifest>"; *chain NULL when it has no from=
 * (waits for the stage).
 */
static int mount_from(struct bb_step_ctx *sc, size_t i, const struct kiln_df_mount *m,
		      const struct bb_chain **chain, char **ref, struct kiln_error *err)
{
	struct bb *b = sc->b;
	long stage = i < sc->ps->n_mounts ? sc->ps->mount_stages[i] : -1;
	int r;
	*chain = NULL;
	*ref = NULL;
	if (stage >= 0) {
		if ((r = bb_wait_stage(b, sc->s, (size_t) stage, err)) < 0)
			return r;
		*chain = &b->stages[stage].chain;
		*ref = kiln_asprintf("stage:%s", b->stages[stage].key);
	} else if (m->from && *m->from) {
		struct bb_image *im = NULL;
		if ((r = bb_image_get(b, m->from, &sc->s->ps->df->platform, &im, err)) < 0)
			return r;
		*chain = &im->chain;
		*ref = kiln_asprintf("image:%s", im->manifest.str);
	} else {
		return 0;
	}
	return *ref ? 0 : oom(err);
}

static size_t ssh_index_of(const struct kiln_df_run *run, size_t i)
{
	size_t n = 0;
	for (size_t k = 0; k < i; k++)
		n += run->mounts[k].type == KILN_DF_MOUNT_SSH;
	return n;
}

int bb_run_mounts_key(struct bb_step_ctx *sc, struct kiln_strv *ret, struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct kiln_df_step *step = sc->ps->df;
	const struct kiln_df_run *run = &step->instr.u.run;
	if (run->n_devices)
		return kiln_fail(err, KILN_EUNSUPP, 0, "RUN --device is not supported by kiln");
	for (size_t i = 0; i < run->n_mounts; i++) {
		const struct kiln_df_mount *m = &run->mounts[i];
		struct bb_mount_spec ms;
		int r = bb_mount_resolve(m, step->workdir, b->rmx ? b->rmx->cache_ns : NULL,
					 ssh_index_of(run, i), &ms, err);
		if (r < 0)
			return r;
		cleanup_free char *from = NULL;
		const struct bb_chain *chain = NULL;
		if (m->type == KILN_DF_MOUNT_BIND || m->type == KILN_DF_MOUNT_CACHE)
			r = mount_from(sc, i, m, &chain, &from, err);
		if (r >= 0 && m->type == KILN_DF_MOUNT_BIND && !chain) {
			cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel = NULL;
			if ((r = context_selection(b, m, &sel, err)) >= 0 &&
			    !(from = kiln_asprintf("context:%s", sel->digest.str)))
				r = oom(err);
		}
		char *d = r >= 0 ? bb_mount_key_text(&ms, m, from) : NULL;
		bb_mount_spec_release(&ms);
		if (r < 0)
			return r;
		if (!d || kiln_strv_push_owned(ret, d) < 0)
			return oom(err);
	}
	return 0;
}

/* ---- one RUN's mounts ------------------------------------------------------------------ */

struct bb_run_mounts_priv {
	struct kiln_strv strings;
	struct kiln_snapshot_mount **snaps;
	size_t n_snaps;
	struct kiln_strv tmpdirs;
	struct kiln_cachemount **caches;
	size_t n_caches;
	struct bb_ssh_relay *relay;
};

void bb_run_mounts_release(struct bb_run_mounts *rm)
{
	struct bb_run_mounts_priv *p = rm->priv;
	if (p) {
		bb_ssh_relay_free(p->relay);
		kiln_strv_release(&p->strings);
		for (size_t i = 0; i < p->n_snaps; i++)
			kiln_snapshot_mount_release(p->snaps[i]);
		free(p->snaps);
		for (size_t i = 0; i < p->tmpdirs.len; i++) {
			struct kiln_error e = KILN_ERROR_INIT;
			(void) kiln_rm_rf(p->tmpdirs.items[i], &e);
			kiln_error_release(&e);
		}
		kiln_strv_release(&p->tmpdirs);
		for (size_t i = 0; i < p->n_caches; i++)
			kiln_cachemount_release(p->caches[i]);
		free(p->caches);
		free(p);
	}
	/* secret values given as variables: wiped, not only freed */
	for (size_t i = 0; i < rm->env.len; i++)
		explicit_bzero(rm->env.items[i], strlen(rm->env.items[i]));
	kiln_strv_release(&rm->env);
	free(rm->mounts);
	free(rm->files);
	memset(rm, 0, sizeof(*rm));
	rm->env = (struct kiln_strv) KILN_STRV_INIT;
}

static const char *keep_str(struct bb_run_mounts_priv *p, char *s)
{
	if (!s || kiln_strv_push_owned(&p->strings, s) < 0)
		return NULL;
	return p->strings.items[p->strings.len - 1];
}

/* A chain mounted for a bind: the path of `source` inside it. */
static int bind_chain(struct bb_step_ctx *sc, struct bb_run_mounts_priv *p,
		      const struct bb_chain *c, const struct kiln_df_mount *m, const char **ret,
		      struct kiln_error *err)
{
	struct kiln_snapshot_mount *sm = NULL;
	int r = bb_chain_mount(sc->b, sc->sn, c, m->readonly, &sm, err);
	if (r < 0)
		return r;
	p->snaps[p->n_snaps++] = sm;
	cleanup_free char *real = NULL;
	r = kiln_plan_resolve_in_root(kiln_snapshot_mount_fd(sm), m->source ? m->source : "/", 1,
				      &real, err);
	if (r < 0)
		return r;
	/* said with the source as written: the path kiln mounts it by is its own */
	struct stat st;
	if (*real && fstatat(kiln_snapshot_mount_fd(sm), real, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return kiln_fail_errno(err, "mount source \"%s\" of %s", m->source,
				       m->from && *m->from ? m->from : "the stage");
	*ret = keep_str(p, kiln_asprintf("/proc/self/fd/%d%s%s", kiln_snapshot_mount_fd(sm),
					 *real ? "/" : "", real));
	return *ret ? 0 : oom(err);
}

/* bind from the context: the directory, or a copy of what .dockerignore lets through */
static int bind_context(struct bb_step_ctx *sc, struct bb_run_mounts_priv *p,
			const struct kiln_df_mount *m, const char **ret, struct kiln_error *err)
{
	struct bb *b = sc->b;
	cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel = NULL;
	int r = context_selection(b, m, &sel, err);
	if (r < 0)
		return r;
	if (m->readonly && sel->n_matches == 1 &&
	    (!b->ignore || kiln_ignore_matcher_count(b->ignore) == 0)) {
		*ret = keep_str(p, kiln_asprintf("%s/%s", b->context_dir, sel->matches[0].real));
		return *ret ? 0 : oom(err);
	}
	char *dir = NULL;
	if ((r = bb_tmpdir(b, "bind", &dir, err)) < 0)
		return r;
	if (kiln_strv_push_owned(&p->tmpdirs, dir) < 0)
		return oom(err);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return kiln_fail_errno(err, "opening %s", dir);
	struct bb_copy_opts co = { .dest = "/", .mtime = -1 };
	r = bb_copy(b, dfd, b->context_fd, sel, &co, err);
	(void) close(dfd);
	if (r < 0)
		return r;
	if (sel->n_matches == 1 && !sel->matches[0].is_dir)
		/* a file: bind the file itself */
		*ret = keep_str(p, kiln_asprintf("%s/%s", dir, sel->matches[0].base));
	else
		*ret = keep_str(p, kiln_strdup(dir));
	return *ret ? 0 : oom(err);
}

/* ---- cache mounts ------------------------------------------------------------------ */

struct seed {
	struct bb_step_ctx *sc;
	const struct bb_chain *chain;
	const struct bb_mount_spec *ms;
	const char *from;
};

/* Fill a new cache instance with `source` of the stage or image from= names. */
static int seed_cache(void *ud, int dir_fd, struct kiln_error *err)
{
	struct seed *sd = ud;
	struct bb *b = sd->sc->b;
	const struct bb_mount_spec *ms = sd->ms;
	if (sd->chain) {
		cleanup(kiln_snapshot_mount_releasep) struct kiln_snapshot_mount *sm = NULL;
		int r = bb_chain_mount(b, sd->sc->sn, sd->chain, 1, &sm, err);
		if (r < 0)
			return r;
		int root = kiln_snapshot_mount_fd(sm);
		cleanup_free char *real = NULL;
		if ((r = kiln_plan_resolve_in_root(root, ms->source, 1, &real, err)) < 0)
			return kiln_error_prefix(err, r, "cache mount from %s", sd->from);
		struct stat st;
		if (fstatat(root, *real ? real : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
			return kiln_fail_errno(err, "cache mount from %s: %s", sd->from,
					       ms->source);
		if (!S_ISDIR(st.st_mode))
			return kiln_fail(err, KILN_EINVAL, ENOTDIR,
					 "cache mount from %s: %s is not a directory", sd->from,
					 ms->source);
		const char *all[] = { *real ? real : "." };
		struct kiln_plan_tree t = { .root_fd = root, .name = sd->from };
		struct kiln_plan_select_opts so = { .sources = all, .n_sources = 1 };
		cleanup(kiln_plan_selection_freep) struct kiln_plan_selection *sel = NULL;
		struct bb_copy_opts co = { .dest = "/", .mtime = -1 };
		if ((r = kiln_plan_select(&t, &so, &b->ctx, &sel, err)) < 0 ||
		    (r = bb_copy(b, dir_fd, root, sel, &co, err)) < 0)
			return kiln_error_prefix(err, r, "seeding the cache mount from %s",
						 sd->from);
		/* the instance is the source directory: its owner and mode too */
		if (fchown(dir_fd, st.st_uid, st.st_gid) < 0 ||
		    fchmod(dir_fd, st.st_mode & 07777) < 0)
			return kiln_fail_errno(err, "seeding the cache mount");
	}
	if (ms->has_perm && !strcmp(ms->source, "/") &&
	    (fchown(dir_fd, ms->uid, ms->gid) < 0 || fchmod(dir_fd, ms->mode) < 0))
		return kiln_fail_errno(err, "setting the cache mount's owner and mode");
	return 0;
}

struct waiting {
	struct bb_step_ctx *sc;
	const struct bb_mount_spec *ms;
};

static void on_wait(void *ud)
{
	struct waiting *w = ud;
	bb_status(w->sc->b, w->sc->v, "waiting for cache mount %s (id %s, sharing=%s)",
		  w->ms->target, w->ms->id,
		  w->ms->sharing == KILN_CACHEMOUNT_LOCKED ? "locked" : "shared");
}

static int cache_mount(struct bb_step_ctx *sc, struct bb_run_mounts_priv *p, size_t i,
		       const struct kiln_df_mount *m, const struct bb_mount_spec *ms,
		       const char **ret, struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct bb_chain *chain = NULL;
	cleanup_free char *from = NULL;
	int r = mount_from(sc, i, m, &chain, &from, err);
	if (r < 0)
		return r;
	cleanup_free char *seed = bb_cache_seed(ms, from);
	if (!seed)
		return oom(err);
	struct seed sd = { .sc = sc, .chain = chain, .ms = ms, .from = m->from };
	struct waiting w = { .sc = sc, .ms = ms };
	struct kiln_cachemount_spec cs = {
		.id = ms->id,
		.seed = seed,
		.sharing = ms->sharing,
		.mode = ms->mode,
		.uid = ms->uid,
		.gid = ms->gid,
		.seed_fn = seed_cache,
		.seed_userdata = &sd,
		.on_wait = on_wait,
		.wait_userdata = &w,
	};
	if (!chain && !(ms->has_perm && !strcmp(ms->source, "/")))
		cs.seed_fn = NULL;
	struct kiln_cachemount *cm = NULL;
	if ((r = kiln_cachemount_acquire(&b->ctx, b->st, &cs, &cm, err)) < 0)
		return kiln_error_prefix(err, r, "cache mount %s", ms->target);
	p->caches[p->n_caches++] = cm;
	kiln_debug(&b->ctx, "build: cache mount %s: id %s, instance %u", ms->target, ms->id,
		   kiln_cachemount_instance(cm));
	if (chain || !strcmp(ms->source, "/")) {
		*ret = kiln_cachemount_path(cm);
		return 0;
	}
	/* source= without from=: a directory inside the cache */
	int fd = kiln_cachemount_fd(cm);
	if ((r = bb_mkdir_all(fd, ms->source, 0755, 0, 0, 0, -1, err)) < 0)
		return r;
	cleanup_free char *real = NULL;
	if ((r = kiln_plan_resolve_in_root(fd, ms->source, 1, &real, err)) < 0)
		return r;
	*ret = keep_str(p, kiln_asprintf("%s/%s", kiln_cachemount_path(cm), real));
	return *ret ? 0 : oom(err);
}

/* ---- secrets and agents ------------------------------------------------------------------ */

/* Set K=V in the variables to add (a later one replaces an earlier). */
static int env_set(struct kiln_strv *env, const char *k, const char *v, size_t vlen)
{
	size_t kl = strlen(k);
	char *s = kiln_malloc(kl + 1 + vlen + 1);
	if (!s)
		return -KILN_ENOMEM;
	memcpy(s, k, kl);
	s[kl] = '=';
	memcpy(s + kl + 1, v, vlen);
	s[kl + 1 + vlen] = '\0';
	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->items[i], k, kl) && env->items[i][kl] == '=') {
			explicit_bzero(env->items[i], strlen(env->items[i]));
			free(env->items[i]);
			env->items[i] = s;
			return 0;
		}
	if (kiln_strv_push_owned(env, s) < 0) {
		explicit_bzero(s, kl + 1 + vlen);
		return -KILN_ENOMEM;
	}
	return 0;
}

static int has_var(const struct kiln_df_step *step, const char *k)
{
	size_t kl = strlen(k);
	for (size_t i = 0; i < step->env.n; i++)
		if (!strncmp(step->env.v[i], k, kl) && step->env.v[i][kl] == '=')
			return 1;
	return 0;
}

static int secret_mount(struct bb *b, struct bb_run_mounts *rm, const struct bb_mount_spec *ms,
			struct kiln_error *err)
{
	const struct bb_secret *s = b->rmx ? bb_secrets_find(&b->rmx->secrets, ms->id) : NULL;
	if (!s) {
		if (ms->required)
			return kiln_fail(err, KILN_ENOTFOUND, 0, "secret %s: not found", ms->id);
		kiln_debug(&b->ctx, "build: secret %s not given: its mount is skipped", ms->id);
		return 0;
	}
	if (s->len > KILN_EXEC_MAX_FILE_SIZE)
		return kiln_fail(err, KILN_ELIMIT, 0, "secret %s too big. max size 500KB", ms->id);
	const char *target = ms->target ? keep_str(rm->priv, kiln_strdup(ms->target)) : NULL;
	if (ms->target && !target)
		return oom(err);
	if (target)
		rm->files[rm->n_files++] = (struct kiln_exec_file){
			.path = target,
			.data = s->data,
			.len = s->len,
			.mode = ms->mode ? ms->mode : 0400,
			.uid = ms->uid,
			.gid = ms->gid,
			.flags = KILN_EXEC_FILE_RO,
		};
	if (ms->env && env_set(&rm->env, ms->env, s->data, s->len) < 0)
		return oom(err);
	return 0;
}

static int ssh_mount(struct bb_step_ctx *sc, struct bb_run_mounts *rm, int first,
		     const struct bb_mount_spec *ms, struct kiln_error *err)
{
	struct bb *b = sc->b;
	struct bb_run_mounts_priv *p = rm->priv;
	/* LLB sets SSH_AUTH_SOCK to the first agent mount unless the image has it */
	if (first && !has_var(sc->ps->df, "SSH_AUTH_SOCK") &&
	    env_set(&rm->env, "SSH_AUTH_SOCK", ms->target, strlen(ms->target)) < 0)
		return oom(err);
	const struct bb_ssh_agent *ag = b->rmx ? bb_ssh_find(&b->rmx->ssh, ms->id) : NULL;
	if (!ag) {
		if (ms->required)
			return kiln_fail(err, KILN_ENOTFOUND, 0,
					 "no SSH key \"%s\" forwarded from the client (kiln build "
					 "--ssh %s=PATH)",
					 ms->id, ms->id);
		kiln_debug(&b->ctx, "build: no --ssh %s: its mount is skipped", ms->id);
		return 0;
	}
	int r;
	if (!p->relay && (r = bb_ssh_relay_new(&p->relay, err)) < 0)
		return r;
	char *dir = NULL;
	if ((r = bb_tmpdir(b, "ssh", &dir, err)) < 0)
		return r;
	if (kiln_strv_push_owned(&p->tmpdirs, dir) < 0)
		return oom(err);
	const char *path = NULL;
	if ((r = bb_ssh_relay_add(p->relay, dir, ag->socket, ms->uid, ms->gid, ms->mode, &path,
				  err)) < 0)
		return r;
	const char *target = keep_str(p, kiln_strdup(ms->target));
	if (!target)
		return oom(err);
	rm->mounts[rm->n_mounts++] = (struct kiln_exec_mount){
		.type = KILN_EXEC_MOUNT_BIND,
		.source = path,
		.target = target,
	};
	return 0;
}

/* ---- setup ------------------------------------------------------------------------------ */

static int setup_one(struct bb_step_ctx *sc, struct bb_run_mounts *rm, size_t i,
		     const struct kiln_df_mount *m, const struct bb_mount_spec *ms, int first_ssh,
		     struct kiln_error *err)
{
	struct bb *b = sc->b;
	struct bb_run_mounts_priv *p = rm->priv;
	if (ms->type == KILN_DF_MOUNT_SECRET)
		return secret_mount(b, rm, ms, err);
	if (ms->type == KILN_DF_MOUNT_SSH)
		return ssh_mount(sc, rm, first_ssh, ms, err);
	struct kiln_exec_mount *em = &rm->mounts[rm->n_mounts];
	em->target = keep_str(p, kiln_strdup(ms->target));
	if (!em->target)
		return oom(err);
	if (ms->readonly)
		em->flags |= KILN_EXEC_MOUNT_RO;
	int r = 0;
	switch (ms->type) {
	case KILN_DF_MOUNT_TMPFS:
		em->type = KILN_EXEC_MOUNT_TMPFS;
		em->flags |= KILN_EXEC_MOUNT_DEV; /* BuildKit mounts it nosuid only */
		em->size = ms->size;
		break;
	case KILN_DF_MOUNT_CACHE:
		em->type = KILN_EXEC_MOUNT_BIND;
		r = cache_mount(sc, p, i, m, ms, &em->source, err);
		break;
	default: {
		em->type = KILN_EXEC_MOUNT_BIND;
		const struct bb_chain *chain = NULL;
		cleanup_free char *from = NULL;
		r = mount_from(sc, i, m, &chain, &from, err);
		if (r >= 0)
			r = chain ? bind_chain(sc, p, chain, m, &em->source, err)
				  : bind_context(sc, p, m, &em->source, err);
		break;
	}
	}
	if (r >= 0)
		rm->n_mounts++;
	return r;
}

int bb_run_mounts_setup(struct bb_step_ctx *sc, size_t extra_files, struct bb_run_mounts *rm,
			struct kiln_error *err)
{
	struct bb *b = sc->b;
	const struct kiln_df_step *step = sc->ps->df;
	const struct kiln_df_run *run = &step->instr.u.run;
	size_t n = run->n_mounts;
	memset(rm, 0, sizeof(*rm));
	rm->env = (struct kiln_strv) KILN_STRV_INIT;
	struct bb_run_mounts_priv *p = kiln_calloc(1, sizeof(*p));
	rm->priv = p;
	rm->mounts = kiln_calloc(n + 1, sizeof(*rm->mounts));
	rm->files = kiln_calloc(n + extra_files + 1, sizeof(*rm->files));
	if (p) {
		p->strings = (struct kiln_strv) KILN_STRV_INIT;
		p->tmpdirs = (struct kiln_strv) KILN_STRV_INIT;
		p->snaps = kiln_calloc(n + 1, sizeof(*p->snaps));
		p->caches = kiln_calloc(n + 1, sizeof(*p->caches));
	}
	if (!p || !rm->mounts || !rm->files || !p->snaps || !p->caches)
		return oom(err);
	if (run->security == KILN_DF_SECURITY_INSECURE) {
		/* allowed: bb_runmounts_check() refused the build otherwise */
		rm->exec_flags |= KILN_EXEC_INSECURE;
	}
	int r = 0;
	int first_ssh = 1;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct kiln_df_mount *m = &run->mounts[i];
		struct bb_mount_spec ms;
		r = bb_mount_resolve(m, step->workdir, b->rmx ? b->rmx->cache_ns : NULL,
				     ssh_index_of(run, i), &ms, err);
		if (r < 0)
			break;
		r = setup_one(sc, rm, i, m, &ms, first_ssh, err);
		if (ms.type == KILN_DF_MOUNT_SSH)
			first_ssh = 0;
		bb_mount_spec_release(&ms);
	}
	if (r >= 0 && p->relay)
		r = bb_ssh_relay_start(p->relay, err);
	return r;
}
