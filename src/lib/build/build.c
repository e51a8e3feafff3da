/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln_build(): everything up to the stage threads and after them. The
 * Dockerfile is parsed, typed and turned into a stage graph before any work
 * (a first pass uses only images already in the store, so that a mistake on
 * line 40 is reported before a pull), then the bases are resolved (pulled
 * when missing), the plan is made, and one thread per needed stage runs it
 * with --jobs of them working at a time. The first failure cancels the
 * rest; the target's image is exported when all succeeded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/ctx.h"
#include "base/gotext.h"
#include "build/build-private.h"
#include "exec/exec.h"
#include "build/contexts.h"
#include "build/explain.h"
#include "build/remote-cache.h"
#include "build/mounts.h"
#include "dockerfile/checks.h"
#include "ref/ref.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- the build's scratch space ------------------------------------------------ */

/* <store>/build-tmp/<id>/ guarded by <id>.lock, held for the build's life; what a
 * dead build left (its lock is free) is removed by the next build, or by prune. */
int kiln_build_tmp_prune(struct kiln_store *st, int dry_run, size_t *ret_removed,
			 struct kiln_error *err)
{
	*ret_removed = 0;
	cleanup_free char *base = kiln_store_path(st, "build-tmp");
	if (!base)
		return oom(err);
	DIR *d = opendir(base);
	if (!d)
		return errno == ENOENT ? 0 : kiln_fail_errno(err, "opening %s", base);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".lock"))
			continue;
		cleanup_free char *lock = kiln_asprintf("%s/%s", base, e->d_name);
		cleanup_free char *dir = kiln_asprintf("%s/%.*s", base, (int) (n - 5), e->d_name);
		int fd = lock ? open(lock, O_RDWR | O_CLOEXEC) : -1;
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && dir) {
			(*ret_removed)++;
			if (!dry_run) {
				struct kiln_error e2 = KILN_ERROR_INIT;
				(void) kiln_rm_rf(dir, &e2);
				kiln_error_release(&e2);
				(void) unlink(lock);
			}
		}
		(void) close(fd);
	}
	closedir(d);
	return 0;
}

static int tmp_open(struct bb *b, struct kiln_error *err)
{
	cleanup_free char *base = kiln_store_path(b->st, "build-tmp");
	if (!base)
		return oom(err);
	int r = kiln_mkdir_p(base, 0700, err);
	size_t dead;
	if (r >= 0)
		r = kiln_build_tmp_prune(b->st, 0, &dead, err);
	if (r < 0)
		return r;
	unsigned char raw[8];
	FILE *f = fopen("/dev/urandom", "re");
	size_t got = f ? fread(raw, 1, sizeof(raw), f) : 0;
	if (f)
		fclose(f);
	if (got != sizeof(raw))
		return kiln_fail(err, KILN_EIO, errno, "reading /dev/urandom");
	char id[17];
	for (size_t i = 0; i < sizeof(raw); i++)
		(void) snprintf(id + 2 * i, 3, "%02x", raw[i]);
	cleanup_free char *lock = kiln_asprintf("%s/%s.lock", base, id);
	b->tmp_root = kiln_asprintf("%s/%s", base, id);
	if (!lock || !b->tmp_root)
		return oom(err);
	b->tmp_lock = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (b->tmp_lock < 0 || flock(b->tmp_lock, LOCK_EX) < 0)
		return kiln_fail_errno(err, "creating %s", lock);
	if (mkdir(b->tmp_root, 0700) < 0)
		return kiln_fail_errno(err, "creating %s", b->tmp_root);
	return 0;
}

static void tmp_close(struct bb *b)
{
	if (b->tmp_root) {
		struct kiln_error e = KILN_ERROR_INIT;
		(void) kiln_rm_rf(b->tmp_root, &e);
		kiln_error_release(&e);
		cleanup_free char *lock = kiln_asprintf("%s.lock", b->tmp_root);
		if (lock)
			(void) unlink(lock);
	}
	if (b->tmp_lock >= 0)
		(void) close(b->tmp_lock);
	free(b->tmp_root);
}

/* ---- the Dockerfile and the context --------------------------------------------- */

static int ref_check(void *ud, const char *ref, struct kiln_error *err)
{
	(void) ud;
	struct kiln_ref *r = NULL;
	int rc = kiln_ref_parse(ref, 0, &r, err);
	kiln_ref_free(r);
	return rc < 0 ? rc : 0;
}

static int open_context(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	const char *dir = o->context_dir;
	int r;
	if (o->context_url) {
		/* a git repository or a URL, fetched into the scratch space */
		if ((r = bb_context_fetch_main(b, &b->context_dir, err)) < 0)
			return r;
		dir = b->context_dir;
	} else if (o->context_tar_fd >= 0) {
		b->context_dir = kiln_asprintf("%s/context", b->tmp_root);
		if (!b->context_dir)
			return oom(err);
		if (mkdir(b->context_dir, 0755) < 0)
			return kiln_fail_errno(err, "creating %s", b->context_dir);
		cleanup_close int dfd = open(b->context_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return kiln_fail_errno(err, "opening %s", b->context_dir);
		struct kiln_layer_apply_opts ao = { .mode = KILN_APPLY_EXTRACT,
						    .flags = KILN_APPLY_NO_CHOWN |
							     KILN_APPLY_SKIP_DEVICES,
						    .uid = -1,
						    .gid = -1,
						    .ctx = &b->ctx };
		r = kiln_layer_apply(o->context_tar_fd, dfd, &ao, NULL, err);
		if (r < 0)
			return kiln_error_prefix(err, r,
						 "reading the context from the tar on stdin");
		dir = b->context_dir;
	} else if (dir) {
		b->context_dir = kiln_strdup(dir);
		if (!b->context_dir)
			return oom(err);
	}
	if (!dir)
		return 0;
	r = kiln_ignore_open_root(dir, &b->context_fd, err);
	if (r < 0)
		return r;
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "[internal] load .dockerignore") < 0)
		return oom(err);
	struct kiln_ignore_list list = KILN_IGNORE_LIST_INIT;
	cleanup_free char *dfpath = NULL;
	if (o->dockerfile_path)
		dfpath = o->context_tar_fd >= 0 || o->context_url
				 ? kiln_asprintf("%s/%s", dir, o->dockerfile_path)
				 : kiln_strdup(o->dockerfile_path);
	if (o->dockerfile_path && !dfpath)
		return oom(err);
	r = kiln_ignore_load_for_build(dir, dfpath, &list, &b->ignore_file, err);
	if (r >= 0) {
		struct kiln_ignore_filter_opt fo = {
			.exclude = (const char *const *) list.patterns.items,
			.n_exclude = list.patterns.len,
			.exclude_lines = list.lines,
			.exclude_lens = list.lens,
			.exclude_source = list.source,
		};
		r = kiln_ignore_filter_new(b->context_fd, &fo, &b->filter, err);
		if (r >= 0)
			bb_status(b, &v, "%zu pattern%s from %s", list.patterns.len,
				  list.patterns.len == 1 ? "" : "s",
				  b->ignore_file ? b->ignore_file : "no ignore file");
	}
	kiln_ignore_list_release(&list);
	if (bb_vertex_end(b, &v, r, err, "bad ignore file") < 0)
		return r;
	b->ignore = kiln_ignore_filter_excludes(b->filter);
	b->ctx_tree = (struct kiln_plan_tree){
		.root_fd = b->context_fd,
		.filter = b->filter,
		.ignore = b->ignore,
		.ignore_file = b->ignore_file,
		.name = "the build context",
		.context = 1,
	};
	return 0;
}

static int read_dockerfile(struct bb *b, char **owned, const char **data, size_t *len,
			   struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	if (o->dockerfile) {
		*data = o->dockerfile;
		*len = o->dockerfile_len;
		return 0;
	}
	if (!b->context_dir && bb_context_main_dockerfile(b)) {
		/* the context URL was a Dockerfile */
		int r = kiln_read_file(bb_context_main_dockerfile(b), KILN_DF_MAX_FILE, owned, len,
				       err);
		*data = *owned;
		return r;
	}
	if (!b->context_dir)
		return kiln_fail(err, KILN_EINVAL, 0, "no Dockerfile given");
	cleanup_free char *p = kiln_asprintf(
		"%s/%s", b->context_dir, o->dockerfile_path ? o->dockerfile_path : "Dockerfile");
	if (!p)
		return oom(err);
	int r = kiln_read_file(p, KILN_DF_MAX_FILE, owned, len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "the context has no %s",
					 o->dockerfile_path ? o->dockerfile_path : "Dockerfile");
	*data = *owned;
	return 0;
}

/* What the front end asks the build while it types the stages: the graph's and the checks'. */
static struct kiln_df_hooks graph_hooks(struct bb *b)
{
	return (struct kiln_df_hooks){
		.userdata = b,
		.image_config = bb_image_config_hook,
		.reference_check = ref_check,
		/* --build-context NAME=... replaces the stage NAME */
		.named_context = b->o->n_contexts ? bb_context_stage_hook : NULL,
	};
}

static int make_graph(struct bb *b, int offline, struct kiln_df_graph **ret, struct kiln_error *err)
{
	struct kiln_df_hooks hooks = graph_hooks(b);
	struct kiln_df_graph_opts go = {
		.target = b->o->target,
		.build_args = b->o->build_args,
		.n_build_args = b->o->n_build_args,
		.target_platform = b->o->platform ? &b->platform : NULL,
		.hooks = &hooks,
	};
	b->images_offline = offline;
	b->images_unknown = 0;
	int r = kiln_df_graph_new(b->model, &go, ret, err);
	b->images_offline = 0;
	return r;
}

static int ignore_match_hook(void *ud, const char *path, struct kiln_error *err)
{
	struct bb *b = ud;
	return kiln_ignore_matches_or_parent(b->ignore, path, strlen(path), NULL, err);
}

/*
 * BuildKit's build checks, with the graph's hooks: the warnings a build
 * prints at its end, and `# check=error=true` failing it before any step;
 * with KILN_BUILD_CHECK_ONLY every stage's, into the result only.
 */
static int run_checks(struct bb *b, struct kiln_build_result *ret, struct kiln_error *err)
{
	int check_only = (b->o->flags & KILN_BUILD_CHECK_ONLY) != 0;
	struct kiln_df_hooks hooks = graph_hooks(b);
	if (b->ignore && kiln_ignore_matcher_count(b->ignore) > 0) {
		hooks.ignore_matches = ignore_match_hook; /* CopyIgnoredFile */
		hooks.ignore_has_exceptions = kiln_ignore_matcher_has_exceptions(b->ignore);
	}
	struct kiln_df_check_opts co = {
		.mode = check_only ? KILN_DF_CHECK_LINT : KILN_DF_CHECK_BUILD,
		.target = b->o->target,
		.build_args = b->o->build_args,
		.n_build_args = b->o->n_build_args,
		.target_platform = b->o->platform ? &b->platform : NULL,
		.hooks = &hooks,
	};
	cleanup(kiln_df_check_result_freep) struct kiln_df_check_result *cr = NULL;
	int r = kiln_df_check_ast(b->ast, &co, &cr, err);
	if (r < 0)
		return r;
	if (cr->n_warnings) {
		ret->warnings = kiln_calloc(cr->n_warnings, sizeof(*ret->warnings));
		if (!ret->warnings)
			return oom(err);
	}
	for (size_t i = 0; i < cr->n_warnings; i++) {
		const struct kiln_df_check_warning *w = &cr->warnings[i];
		struct kiln_build_warning *o = &ret->warnings[ret->n_warnings++];
		o->rule = kiln_strdup(w->rule->name);
		o->message = kiln_strdup(w->message);
		o->url = w->rule->url;
		o->line = w->line;
		o->end_line = w->end_line > w->line ? w->end_line : w->line;
		if (!o->rule || !o->message)
			return oom(err);
	}
	/* other errors are the build's to report, in its words */
	if (!cr->error || !(cr->error_from_checks || cr->error_from_config || check_only))
		return 0;
	if (check_only) {
		ret->check_error_line = cr->error_line;
		return (ret->check_error = kiln_strdup(cr->error)) ? 0 : oom(err);
	}
	return kiln_fail_at(err, KILN_EPARSE, b->df_name, cr->error_line, 0, "%s", cr->error);
}

/*
 * The Dockerfile parsed but failed to type or plan: the checks' warnings on
 * the lines before the error are still the user's to see, as BuildKit shows
 * them with the error; with --check, its report of them and of the error.
 */
static int checks_after_error(struct bb *b, int r, struct kiln_build_result *ret,
			      struct kiln_error *err)
{
	struct kiln_error e2 = KILN_ERROR_INIT;
	int r2 = run_checks(b, ret, &e2);
	kiln_error_release(&e2);
	if (r2 >= 0 && (b->o->flags & KILN_BUILD_CHECK_ONLY) && ret->check_error) {
		kiln_error_release(err);
		return 0; /* the report has it */
	}
	return r;
}

/* A failed build's result: only the warnings found before the error. */
static void keep_warnings_only(struct kiln_build_result *ret)
{
	struct kiln_build_warning *w = ret->warnings;
	size_t n = ret->n_warnings;
	ret->warnings = NULL;
	ret->n_warnings = 0;
	kiln_build_result_release(ret);
	ret->warnings = w;
	ret->n_warnings = n;
}

/* Parse, type, graph and plan: every Dockerfile error before any work. */
static int prepare(struct bb *b, struct kiln_error *err)
{
	cleanup_free char *owned = NULL;
	const char *data = NULL;
	size_t len = 0;
	struct bb_vertex v = { 0 };
	if (bb_vertex_start(b, &v, "[internal] load build definition from %s", b->df_name) < 0)
		return oom(err);
	int r = read_dockerfile(b, &owned, &data, &len, err);
	if (r >= 0) {
		bb_status(b, &v, "transferring dockerfile: %zu bytes", len);
		r = kiln_df_parse(data, len, b->df_name, &b->ast, err);
	}
	if (r >= 0)
		r = kiln_df_model_new(b->ast, &b->model, err);
	if (bb_vertex_end(b, &v, r, err, "bad Dockerfile") < 0)
		return r;
	if (b->o->flags & KILN_BUILD_LIST_TARGETS)
		return 0; /* the stages are the model's: no graph, so no image is pulled */

	/* a pass without pulling: its errors are real unless an image was unknown */
	struct kiln_df_graph *g = NULL;
	struct kiln_error e1 = KILN_ERROR_INIT;
	r = make_graph(b, 1, &g, &e1);
	kiln_df_graph_free(g);
	if (r < 0 && !b->images_unknown) {
		kiln_error_move(err, &e1);
		return r;
	}
	kiln_error_release(&e1);
	if ((r = make_graph(b, 0, &b->graph, err)) < 0)
		return r;
	cleanup_free char *unused = kiln_df_graph_unused_args_warning(b->graph);
	if (unused)
		bb_warn(b, "%s", unused);
	if ((r = kiln_plan_new(b->graph, &b->plan, err)) < 0)
		return r;
	/* a stage for a foreign platform builds only without RUN: kiln does not
	 * emulate (a FROM --platform=$BUILDPLATFORM stage runs here, whatever
	 * the target) */
	for (size_t i = 0; i < b->plan->n_stages; i++) {
		const struct kiln_df_stage *ds = b->plan->stages[i].df;
		for (size_t k = 0; !bb_runs_here(b, &ds->platform) &&
				   k < b->plan->stages[i].n_steps; k++) {
			const struct kiln_df_step *st = b->plan->stages[i].steps[k].df;
			if (st->instr.cmd != KILN_DF_RUN)
				continue;
			cleanup_free char *plat = kiln_df_platform_format(&ds->platform);
			return kiln_fail_at(err, KILN_EUNSUPP, b->df_name, st->instr.start_line, 0,
					    "RUN would have to execute for %s, but this machine "
					    "runs another platform and kiln does not emulate one",
					    plat ? plat : b->platform_str);
		}
	}
	/* the images COPY --from and RUN --mount read, resolved (pulled) up front */
	for (size_t i = 0; i < b->plan->n_stages; i++) {
		const struct kiln_df_stage *ds = b->plan->stages[i].df;
		for (size_t k = 0; k < ds->n_images; k++) {
			if (ds->images[k].kind == KILN_DF_EDGE_FROM)
				continue;
			struct bb_image *im = NULL;
			r = bb_image_get(b, ds->images[k].ref, &ds->platform, &im, err);
			if (r < 0) {
				kiln_error_set_pos(err, b->df_name, ds->images[k].line, 0);
				return r;
			}
		}
	}
	return 0;
}

/* ---- running the stages -------------------------------------------------------- */

/* --no-cache for every stage, --no-cache-filter for those named (BuildKit matches
 * names without regard to case; stage names are lower-cased) */
static int no_cache_of(const struct bb *b, const struct kiln_df_stage *st)
{
	if (b->o->flags & KILN_BUILD_NO_CACHE)
		return 1;
	for (size_t i = 0; st->name && i < b->o->n_no_cache_stages; i++)
		if (!strcasecmp(b->o->no_cache_stages[i], st->name))
			return 2;
	return 0;
}

void bb_cond_wait_a_while(pthread_cond_t *cond, pthread_mutex_t *lock)
{
	struct timespec ts;
	(void) clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	(void) pthread_cond_timedwait(cond, lock, &ts);
}

static int run_stages(struct bb *b, struct kiln_error *err)
{
	size_t n = b->plan->n_stages;
	b->stages = kiln_calloc(n + 1, sizeof(*b->stages));
	struct bb_stage_arg *args = kiln_calloc(n + 1, sizeof(*args));
	if (!b->stages || !args) {
		free(args);
		return oom(err);
	}
	b->n_stages = n;
	for (size_t i = 0; i < n; i++) {
		b->stages[i].ps = &b->plan->stages[i];
		b->stages[i].index = i;
		b->stages[i].no_cache = no_cache_of(b, b->plan->stages[i].df);
		b->stages[i].platform = kiln_df_platform_format(&b->plan->stages[i].df->platform);
		if (!b->stages[i].platform) {
			free(args);
			return oom(err);
		}
		args[i] = (struct bb_stage_arg){ b, &b->stages[i] };
	}
	for (size_t f = 0; f < b->o->n_no_cache_stages; f++) {
		size_t i = 0;
		while (i < n && !(b->stages[i].ps->df->name &&
				  !strcasecmp(b->stages[i].ps->df->name, b->o->no_cache_stages[f])))
			i++;
		if (i == n)
			bb_warn(b, "--no-cache-filter %s: the build runs no stage of that name",
				b->o->no_cache_stages[f]);
	}
	/* the image holds the layers of the target and of the stages it is FROM */
	for (long i = (long) b->plan->target; i >= 0; i = b->stages[i].ps->base_stage)
		b->stages[i].exported = 1;
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		if (kiln_thread_start(&b->stages[i].tid, bb_stage_main, &args[i]) != 0) {
			r = kiln_fail(err, KILN_EIO, errno, "starting a thread for stage %s",
				      b->stages[i].ps->label);
			b->abort = 1;
			(void) pthread_mutex_lock(&b->lock);
			(void) pthread_cond_broadcast(&b->cond);
			(void) pthread_mutex_unlock(&b->lock);
			break;
		}
		b->stages[i].started = 1;
	}
	/* wait, passing the user's interrupt on to the stages */
	(void) pthread_mutex_lock(&b->lock);
	for (;;) {
		int all = 1;
		for (size_t i = 0; i < n; i++)
			all &= !b->stages[i].started || b->stages[i].done;
		if (all)
			break;
		if (kiln_cancelled(b->uctx) && !b->abort) {
			b->abort = 1;
			(void) pthread_cond_broadcast(&b->cond);
		}
		bb_cond_wait_a_while(&b->cond, &b->lock);
	}
	(void) pthread_mutex_unlock(&b->lock);
	/* joined in bb_release(): a stage that is done still frees its
	 * snapshotter, which waits for the overlays its reaper tears down
	 * (4 ms after a-genfiles' last RUN), while the export goes on */
	free(args);
	if (r < 0)
		return r;
	if (b->failed_stage >= 0) {
		struct bb_stage *s = &b->stages[b->failed_stage];
		kiln_error_move(err, &s->err);
		if (kiln_cancelled(b->uctx) && (!err || err->code == KILN_ECANCEL))
			return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
		return err ? -(int) err->code : -KILN_EIO;
	}
	if (kiln_cancelled(b->uctx))
		return kiln_fail(err, KILN_ECANCEL, 0, "interrupted");
	return 0;
}

static void bb_release(struct bb *b)
{
	for (size_t i = 0; i < b->n_stages; i++)
		if (b->stages[i].started)
			(void) pthread_join(b->stages[i].tid, NULL);
	/* a failed build's: their blobs stay in the store for the cache */
	(void) bb_layer_jobs_finish(b, NULL);
	(void) pthread_mutex_destroy(&b->jobs_lock);
	(void) pthread_cond_destroy(&b->jobs_cv);
	for (size_t i = 0; i < b->n_stages; i++) {
		struct bb_stage *s = &b->stages[i];
		kiln_oci_config_free(s->config);
		bb_chain_release(&s->chain);
		free(s->key);
		free(s->first_miss);
		free(s->platform);
		kiln_error_release(&s->err);
		for (size_t k = 0; k < s->n_records; k++) {
			free(s->records[k].name);
			free(s->records[k].key);
		}
		free(s->records);
	}
	free(b->stages);
	bb_explain_close(b);
	bb_contexts_close(b);
	kiln_plan_hasher_free(b->hasher);
	bb_images_free(b);
	kiln_plan_free(b->plan);
	kiln_df_graph_free(b->graph);
	kiln_df_model_free(b->model);
	kiln_df_ast_free(b->ast);
	kiln_ignore_filter_free(b->filter);
	free(b->ignore_file);
	if (b->context_fd >= 0)
		(void) close(b->context_fd);
	bb_runmounts_free(b);
	bb_rcache_free(b);
	tmp_close(b);
	free(b->context_dir);
	kiln_df_platform_release(&b->platform);
	kiln_df_platform_release(&b->host);
	free(b->platform_str);
	free(b->run_key);
	kiln_exec_filters_free(b->filters);
	(void) pthread_mutex_destroy(&b->store_lock);
	(void) pthread_mutex_destroy(&b->lock);
	(void) pthread_mutex_destroy(&b->ev_lock);
	(void) pthread_mutex_destroy(&b->hash_lock);
	(void) pthread_mutex_destroy(&b->image_lock);
	(void) pthread_mutex_destroy(&b->fail_lock);
	(void) pthread_rwlock_destroy(&b->spawn_lock);
	(void) pthread_cond_destroy(&b->cond);
}

/*
 * What --add-host, --ulimit and --shm-size give RUN's sandbox is part of
 * its key, as in BuildKit's exec op; without them the keys are unchanged.
 */
/* BuildKit's hostname for RUN, unless the BUILDKIT_SANDBOX_HOSTNAME build
 * arg names another (the last one given wins) */
static const char *sandbox_hostname(const struct kiln_build_opts *o, int *given)
{
	static const char key[] = "BUILDKIT_SANDBOX_HOSTNAME=";
	const char *h = NULL;
	for (size_t i = 0; i < o->n_build_args; i++)
		if (!strncmp(o->build_args[i], key, sizeof(key) - 1))
			h = o->build_args[i] + sizeof(key) - 1;
	*given = h && *h;
	return *given ? h : "buildkitsandbox";
}

static int run_key(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	int named = 0;
	b->hostname = sandbox_hostname(o, &named);
	if (!o->n_add_hosts && !o->n_ulimits && !o->shm_size && !named)
		return 0;
	struct kiln_buf k = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < o->n_add_hosts; i++)
		r = kiln_buf_addf(&k, "%s%s=%s", i ? "," : "add-host=", o->add_hosts[i].name,
				  o->add_hosts[i].ip);
	for (size_t i = 0; r >= 0 && i < o->n_ulimits; i++) {
		const struct kiln_exec_rlimit *l = &o->ulimits[i];
		r = kiln_buf_addf(&k, "%s%s=%lld:%lld", i ? "," : k.len ? " ulimit=" : "ulimit=",
				  kiln_exec_rlimit_name(l->resource),
				  l->soft == UINT64_MAX ? -1LL : (long long) l->soft,
				  l->hard == UINT64_MAX ? -1LL : (long long) l->hard);
	}
	if (r >= 0 && o->shm_size)
		r = kiln_buf_addf(&k, "%sshm-size=%llu", k.len ? " " : "",
				  (unsigned long long) o->shm_size);
	if (r >= 0 && named)
		r = kiln_buf_addf(&k, "%shostname=%s", k.len ? " " : "", b->hostname);
	b->run_key = r >= 0 ? kiln_buf_detach(&k, NULL) : NULL;
	if (!b->run_key) {
		kiln_buf_release(&k);
		return oom(err);
	}
	return 0;
}

int bb_platform_runs_on(const struct kiln_df_platform *host, const struct kiln_df_platform *p)
{
	return host->os && host->arch && p->os && p->arch && !strcmp(host->os, p->os) &&
	       !strcmp(host->arch, p->arch);
}

int bb_runs_here(const struct bb *b, const struct kiln_df_platform *p)
{
	return bb_platform_runs_on(&b->host, p);
}

static int setup(struct bb *b, struct kiln_error *err)
{
	const struct kiln_build_opts *o = b->o;
	int r;
	if (o->platform) {
		if ((r = kiln_df_platform_parse(o->platform, &b->platform, err)) < 0)
			return kiln_error_prefix(err, r, "--platform");
		if (kiln_df_platform_normalize(&b->platform) < 0)
			return oom(err);
	} else if ((r = kiln_df_platform_host(&b->platform, err)) < 0) {
		return r;
	}
	if ((r = kiln_df_platform_host(&b->host, err)) < 0)
		return r;
	b->platform_str = kiln_df_platform_format(&b->platform);
	if (!b->platform_str)
		return oom(err);
	if ((r = run_key(b, err)) < 0)
		return r;

	enum kiln_compression comp =
		o->compression_set ? o->compression : KILN_BUILD_COMPRESSION_DEFAULT;
	if (comp != KILN_COMPRESSION_NONE && comp != KILN_COMPRESSION_GZIP &&
	    comp != KILN_COMPRESSION_ZSTD)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "layers are written as gzip, zstd or none, not %s",
				 kiln_compression_name(comp));
	b->wopts = (struct kiln_layer_write_opts){
		.compression = comp,
		.level = o->compression_level ? o->compression_level
			 : comp == KILN_COMPRESSION_GZIP && !o->compression_set
				 ? KILN_BUILD_COMPRESSION_LEVEL_DEFAULT
				 : 0,
		.ctx = &b->ctx,
	};
	b->media_type = kiln_layer_media_type(comp, 0);
	if (!b->media_type)
		return kiln_fail(err, KILN_EINVAL, 0, "no OCI media type for %s layers",
				 kiln_compression_name(comp));
	if (o->n_outputs > KILN_BUILD_MAX_OUTPUTS)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d outputs",
				 KILN_BUILD_MAX_OUTPUTS);
	b->slots = o->jobs ? o->jobs : (unsigned) kiln_cpus(KILN_BUILD_MAX_JOBS);
	if (b->slots > KILN_BUILD_MAX_JOBS)
		b->slots = KILN_BUILD_MAX_JOBS;
	return 0;
}

/* The build arg BUILDKIT_MULTI_PLATFORM, true as strconv.ParseBool reads it */
static int multi_platform_asked(const struct kiln_build_opts *o)
{
	static const char key[] = "BUILDKIT_MULTI_PLATFORM=";
	int on = 0;
	for (size_t i = 0; i < o->n_build_args; i++)
		if (!strncmp(o->build_args[i], key, sizeof(key) - 1) &&
		    kiln_go_parse_bool(o->build_args[i] + sizeof(key) - 1, &on) < 0)
			on = 0;
	return on;
}

int kiln_build(struct kiln_store *st, const struct kiln_ctx *ctx, const struct kiln_build_opts *o,
	       struct kiln_build_result *ret, struct kiln_error *err)
{
	*ret = (struct kiln_build_result){ .names = KILN_STRV_INIT, .pushed = KILN_STRV_INIT };
	if (o->n_platforms > 1)
		return bb_build_platforms(st, ctx, o, 0, ret, err);
	/* --build-arg BUILDKIT_MULTI_PLATFORM=1: an index even for one platform */
	if (!(o->flags & (KILN_BUILD_CHECK_ONLY | KILN_BUILD_LIST_TARGETS | KILN_BUILD_OUTLINE)) &&
	    multi_platform_asked(o)) {
		struct kiln_build_opts one = *o;
		struct kiln_df_platform host = { 0 };
		cleanup_free char *name = NULL;
		if (!o->n_platforms) {
			int r = kiln_df_platform_host(&host, err);
			if (r < 0)
				return r;
			name = kiln_df_platform_format(&host);
			kiln_df_platform_release(&host);
			if (!name)
				return oom(err);
		}
		const char *plat[1] = { o->n_platforms ? o->platforms[0] : name };
		one.platforms = plat;
		one.n_platforms = 1;
		return bb_build_platforms(st, ctx, &one, 1, ret, err);
	}
	if (o->n_platforms == 1) {
		struct kiln_build_opts one = *o;
		one.platform = o->platforms[0];
		one.platforms = NULL;
		one.n_platforms = 0;
		return bb_build_one(st, ctx, &one, NULL, ret, err);
	}
	return bb_build_one(st, ctx, o, NULL, ret, err);
}

int bb_build_one(struct kiln_store *st, const struct kiln_ctx *ctx,
		 const struct kiln_build_opts *o, struct bb_multi *multi,
		 struct kiln_build_result *ret, struct kiln_error *err)
{
	struct bb b = {
		.st = st,
		.uctx = ctx,
		.o = o,
		.multi = multi,
		.context_fd = -1,
		.tmp_lock = -1,
		.failed_stage = -1,
		.df_name = o->dockerfile_name ? o->dockerfile_name : "Dockerfile",
	};
	if (ctx)
		b.ctx = *ctx;
	b.ctx.cancel = &b.abort;
	b.t0 = multi ? bb_multi_t0(multi) : bb_mono_ns();
	b.created = o->source_date_epoch >= 0 ? o->source_date_epoch : (int64_t) time(NULL);
	(void) pthread_mutex_init(&b.store_lock, NULL);
	(void) pthread_mutex_init(&b.lock, NULL);
	(void) pthread_mutex_init(&b.ev_lock, NULL);
	(void) pthread_mutex_init(&b.hash_lock, NULL);
	(void) pthread_mutex_init(&b.image_lock, NULL);
	(void) pthread_mutex_init(&b.fail_lock, NULL);
	(void) pthread_mutex_init(&b.jobs_lock, NULL);
	(void) pthread_cond_init(&b.jobs_cv, NULL);
	pthread_rwlockattr_t rwa;
	(void) pthread_rwlockattr_init(&rwa);
	/* an unmount waits for the starts under way, not for every later one */
	(void) pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	(void) pthread_rwlock_init(&b.spawn_lock, &rwa);
	(void) pthread_rwlockattr_destroy(&rwa);
	(void) pthread_cond_init(&b.cond, NULL);
	*ret = (struct kiln_build_result){ .names = KILN_STRV_INIT, .pushed = KILN_STRV_INIT };

	int r = setup(&b, err);
	/* the RUN steps' seccomp program, built once for the whole build */
	if (r >= 0 && !(b.filters = kiln_exec_filters_new()))
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (r >= 0)
		r = tmp_open(&b, err);
	if (r >= 0)
		r = bb_contexts_open(&b, err);
	if (r >= 0)
		r = bb_runmounts_init(&b, err);
	if (r >= 0)
		r = open_context(&b, err);
	if (r >= 0)
		r = bb_cache_init(&b, err);
	if (r >= 0 && (r = prepare(&b, err)) < 0 && r != -KILN_ENOMEM && b.ast &&
	    checks_after_error(&b, r, ret, err) == 0) {
		bb_release(&b); /* --check: its report tells the error */
		return 0;
	}
	/* --call=targets|outline: an answer about the Dockerfile, nothing built */
	if (r >= 0 && (o->flags & (KILN_BUILD_LIST_TARGETS | KILN_BUILD_OUTLINE))) {
		r = o->flags & KILN_BUILD_LIST_TARGETS ? bb_list_targets(&b, ret, err)
						       : bb_outline(&b, ret, err);
		bb_release(&b);
		if (r < 0)
			kiln_build_result_release(ret);
		return r;
	}
	if (r >= 0)
		r = run_checks(&b, ret, err);
	if (r >= 0 && (o->flags & KILN_BUILD_CHECK_ONLY)) {
		bb_release(&b);
		return 0;
	}
	if (r >= 0)
		r = bb_runmounts_check(&b, err);
	/* --cache-from: before any step (a missing cache is only a warning) */
	if (r >= 0)
		r = bb_rcache_import(&b, err);
	struct kiln_plan_hash_cache hc = bb_hash_cache_ops;
	hc.userdata = &b;
	if (r >= 0)
		r = kiln_plan_hasher_new(&hc, 0, &b.ctx, &b.hasher, err);
	if (r >= 0)
		r = bb_explain_open(&b, err);
	if (r >= 0) {
		r = run_stages(&b, err);
		/* what the steps that ran were made of, for the next build's
		 * explanations: kept even when this one failed */
		struct kiln_error e2 = KILN_ERROR_INIT;
		if (bb_explain_flush(&b, &e2) < 0)
			bb_warn(&b, "could not remember what explains cache misses: %s",
				e2.msg ? e2.msg : "?");
		kiln_error_release(&e2);
	}
	/* the blobs of the image's layers, written beside the steps */
	int rj = bb_layer_jobs_finish(&b, r >= 0 ? err : NULL);
	if (r >= 0)
		r = rj;
	/* what follows runs on this thread alone: the user's interrupt stops it
	 * directly (the stages and the jobs heard it through b.abort) */
	if (ctx && ctx->cancel)
		b.ctx.cancel = ctx->cancel;
	struct bb_stage *target = r >= 0 ? &b.stages[b.plan->target] : NULL;
	/* the image's layers an imported cache holds: fetched, and checked, for the export */
	if (r >= 0)
		r = bb_rcache_fetch_chain(&b, NULL, &target->chain, 1, err);
	/* the blobs of the rest: found in the records the jobs above completed,
	 * or written now for those a build stage kept when this build hit them */
	if (r >= 0)
		r = bb_chain_materialize(&b, &target->chain, err);
	if (r >= 0)
		r = bb_stage_diff_ids(target, err);
	if (r >= 0)
		r = bb_export(&b, target, ret, err);
	if (r >= 0)
		r = bb_rcache_export(&b, target, err);
	if (r >= 0) {
		/* what the target's layers were, and how the whole build went */
		bb_explain_result(&b, ret);
		ret->records = steal_ptr(&target->records);
		ret->n_records = target->n_records;
		target->n_records = 0;
		size_t nkeys = 0;
		for (size_t i = 0; i < b.n_stages; i++)
			nkeys += b.stages[i].n_records;
		nkeys += ret->n_records;
		cleanup_free struct kiln_digest *keys = kiln_calloc(nkeys + 1, sizeof(*keys));
		size_t nk = 0;
		for (size_t i = 0; keys && i <= b.n_stages; i++) {
			const struct kiln_build_step_record *rec =
				i < b.n_stages ? b.stages[i].records : ret->records;
			size_t cnt = i < b.n_stages ? b.stages[i].n_records : ret->n_records;
			for (size_t k = 0; k < cnt; k++) {
				ret->steps++;
				if (rec[k].cached) {
					ret->cached++;
					if (kiln_digest_parse(rec[k].key, &keys[nk], NULL) == 0)
						nk++;
				}
			}
		}
		struct kiln_error e2 = KILN_ERROR_INIT;
		if (keys && bb_cache_touch(&b, keys, nk, &e2) < 0)
			bb_warn(&b, "could not mark cache records used: %s", e2.msg ? e2.msg : "?");
		kiln_error_release(&e2);
	}
	if (r < 0)
		keep_warnings_only(ret);
	bb_release(&b);
	return r < 0 ? r : 0;
}
