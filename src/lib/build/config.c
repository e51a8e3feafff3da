/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image config a stage builds up, as BuildKit's dockerfile2llb does it:
 * what each metadata instruction changes, CMD and ENTRYPOINT's reset rule,
 * and the history entry every instruction leaves ("ENV A=b",
 * "RUN /bin/sh -c make # buildkit", comment "buildkit.dockerfile.v0").
 */
#include <inttypes.h>
#include <string.h>

#include "base/gotext.h"
#include "build/build-private.h"
#include "dockerfile/syntax.h"

#define HISTORY_COMMENT "buildkit.dockerfile.v0"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static int set_str(char **dst, const char *v)
{
	char *n = v ? kiln_strdup(v) : NULL;
	if (v && !n)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

static int strv_set(struct kiln_strv *dst, const char *const *v, size_t n)
{
	kiln_strv_release(dst);
	*dst = (struct kiln_strv) KILN_STRV_INIT;
	for (size_t i = 0; i < n; i++)
		if (kiln_strv_push(dst, v[i]) < 0)
			return -1;
	return 0;
}

/* addEnv: replace K=... in place, else append */
static int env_set(struct kiln_strv *env, const char *k, const char *v)
{
	char *kv = kiln_asprintf("%s=%s", k, v);
	if (!kv)
		return -1;
	size_t kl = strlen(k);
	for (size_t i = 0; i < env->len; i++)
		if (!strncmp(env->items[i], k, kl) &&
		    (env->items[i][kl] == '=' || env->items[i][kl] == '\0')) {
			free(env->items[i]);
			env->items[i] = kv;
			return 0;
		}
	return kiln_strv_push_owned(env, kv);
}

/* a sorted set of strings (ports, volumes) */
static int set_add(struct kiln_strv *set, const char *s)
{
	size_t i = 0;
	while (i < set->len && strcmp(set->items[i], s) < 0)
		i++;
	if (i < set->len && !strcmp(set->items[i], s))
		return 0;
	if (kiln_strv_push(set, s) < 0)
		return -1;
	char *last = set->items[set->len - 1];
	memmove(&set->items[i + 1], &set->items[i], (set->len - 1 - i) * sizeof(char *));
	set->items[i] = last;
	return 0;
}

int bb_config_scratch(struct bb *b, struct kiln_oci_config **ret, struct kiln_error *err)
{
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	int r = kiln_oci_config_new(&c, err);
	if (r < 0)
		return r;
	c->has_config = 1;
	if (set_str(&c->platform.os, b->platform.os) < 0 ||
	    set_str(&c->platform.architecture, b->platform.arch) < 0 ||
	    (b->platform.variant && *b->platform.variant &&
	     set_str(&c->platform.variant, b->platform.variant) < 0) ||
	    set_str(&c->config.working_dir, "/") < 0 ||
	    kiln_strv_push(&c->config.env, "PATH=" DEFAULT_PATH) < 0)
		return oom(err);
	*ret = steal_ptr(&c);
	return 0;
}

int bb_config_from_image(const struct kiln_oci_config *img, struct kiln_oci_config **ret,
			 struct kiln_error *err)
{
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *c = NULL;
	int r = kiln_oci_config_copy(img, &c, err);
	if (r < 0)
		return r;
	free(c->created);
	c->created = NULL;
	c->has_config = 1;
	/* the base's triggers ran in this stage; they are not passed on */
	kiln_strv_release(&c->config.on_build);
	c->config.on_build = (struct kiln_strv) KILN_STRV_INIT;
	/* BuildKit makes sure PATH is always set */
	int has_path = 0;
	for (size_t i = 0; i < c->config.env.len; i++)
		has_path |= !strncmp(c->config.env.items[i], "PATH=", 5);
	if (!has_path && kiln_strv_push(&c->config.env, "PATH=" DEFAULT_PATH) < 0)
		return oom(err);
	*ret = steal_ptr(&c);
	return 0;
}

int bb_config_history(struct bb *b, struct kiln_oci_config *c, const char *created_by, int empty,
		      int64_t when, struct kiln_error *err)
{
	(void) b;
	cleanup_free char *created = when >= 0 ? kiln_oci_time_format(when, 0) : NULL;
	if (when >= 0 && !created)
		return oom(err);
	struct kiln_oci_history h = {
		.created = created,
		.created_by = (char *) created_by,
		.comment = (char *) HISTORY_COMMENT,
		.empty_layer = empty,
	};
	return kiln_oci_config_add_history(c, &h, err);
}

/* ---- Go's formatting of values in history texts ------------------------- */

/* fmt's %q of a []string: ["a" "b"] */
static int go_quote_list(struct kiln_buf *b, const char *const *v, size_t n)
{
	int r = kiln_buf_addch(b, '[');
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (i)
			r = kiln_buf_addch(b, ' ');
		if (r >= 0)
			r = kiln_go_quote(b, v[i], strlen(v[i]));
	}
	return r < 0 ? r : kiln_buf_addch(b, ']');
}

/* fmt's %v of a []string: [a b] */
static int go_list(struct kiln_buf *b, const char *const *v, size_t n)
{
	int r = kiln_buf_addch(b, '[');
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = kiln_buf_addf(b, "%s%s", i ? " " : "", v[i]);
	return r < 0 ? r : kiln_buf_addch(b, ']');
}

/* fmtFrac: the fraction of v/10^prec without trailing zeros (nor the point when 0) */
static void frac(char *buf, size_t *w, uint64_t *v, int prec)
{
	int print = 0;
	for (int i = 0; i < prec; i++) {
		unsigned digit = (unsigned) (*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--*w] = (char) ('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--*w] = '.';
}

static void fint(char *buf, size_t *w, uint64_t v)
{
	if (v == 0) {
		buf[--*w] = '0';
		return;
	}
	while (v > 0) {
		buf[--*w] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/* time.Duration.String() */
static int go_duration(struct kiln_buf *b, int64_t d)
{
	char buf[40];
	size_t w = sizeof(buf);
	uint64_t u = d < 0 ? (uint64_t) (-d) : (uint64_t) d;
	if (u < 1000000000ull) {
		if (u == 0)
			return kiln_buf_addstr(b, "0s");
		int prec;
		buf[--w] = 's';
		if (u < 1000ull) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < 1000000ull) {
			prec = 3;
			buf[--w] = '\xb5'; /* U+00B5 micro sign */
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		frac(buf, &w, &u, prec);
		fint(buf, &w, u);
	} else {
		buf[--w] = 's';
		frac(buf, &w, &u, 9);
		fint(buf, &w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			fint(buf, &w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				fint(buf, &w, u);
			}
		}
	}
	if (d < 0)
		buf[--w] = '-';
	return kiln_buf_add(b, buf + w, sizeof(buf) - w);
}

/* ---- layer steps' history ------------------------------------------------ */

int bb_created_by(const struct kiln_df_step *step, const char *const *argv, size_t argc, char **ret,
		  struct kiln_error *err)
{
	const struct kiln_df_instr *in = &step->instr;
	struct kiln_buf b = KILN_BUF_INIT;
	int r = 0;
	switch (in->cmd) {
	case KILN_DF_RUN:
		/* runCommandString: the stage's ARGs ("|N K=V ...") then the argv */
		r = kiln_buf_addstr(&b, "RUN");
		if (r >= 0 && step->used_args.n)
			r = kiln_buf_addf(&b, " |%zu", step->used_args.n);
		for (size_t i = 0; r >= 0 && i < step->used_args.n; i++)
			r = kiln_buf_addf(&b, " %s", step->used_args.v[i]);
		for (size_t i = 0; r >= 0 && i < argc; i++)
			r = kiln_buf_addf(&b, " %s", argv[i]);
		if (r >= 0)
			r = kiln_buf_addstr(&b, " # buildkit");
		break;
	case KILN_DF_COPY:
	case KILN_DF_ADD: {
		const struct kiln_df_copy *c = &in->u.copy;
		r = kiln_buf_addstr(&b, in->cmd == KILN_DF_ADD ? "ADD" : "COPY");
		if (r >= 0 && c->parents)
			r = kiln_buf_addstr(&b, " --parents");
		if (r >= 0 && c->chown && *c->chown)
			r = kiln_buf_addf(&b, " --chown=%s", c->chown);
		if (r >= 0 && c->chmod && *c->chmod)
			r = kiln_buf_addf(&b, " --chmod=%s", c->chmod);
		for (size_t i = 0; r >= 0 && i < c->sources.n; i++)
			r = kiln_buf_addf(&b, " %s", c->sources.v[i]);
		for (size_t i = 0; r >= 0 && i < c->n_inline; i++)
			r = kiln_buf_addf(&b, " <<%s", c->inline_sources[i].name);
		if (r >= 0)
			r = kiln_buf_addf(&b, " %s # buildkit", c->dest ? c->dest : "");
		break;
	}
	case KILN_DF_WORKDIR:
		r = kiln_buf_addf(&b, "WORKDIR %s", step->workdir);
		break;
	default:
		r = kiln_fail(err, KILN_EINTERNAL, 0, "%s makes no layer",
			      kiln_df_cmd_upper(in->cmd));
		kiln_buf_release(&b);
		return r;
	}
	if (r < 0) {
		kiln_buf_release(&b);
		return oom(err);
	}
	*ret = kiln_buf_detach(&b, NULL);
	return *ret ? 0 : oom(err);
}

/* ---- metadata instructions ----------------------------------------------- */

/* the argv of CMD/ENTRYPOINT: exec form as is, shell form through the shell */
static int cmdline_argv(const struct kiln_df_step *step, struct kiln_strv *out)
{
	const struct kiln_df_cmdline *cl = &step->instr.u.cmdline;
	if (cl->exec_form)
		return strv_set(out, (const char *const *) cl->args.v, cl->args.n);
	kiln_strv_release(out);
	*out = (struct kiln_strv) KILN_STRV_INIT;
	for (size_t i = 0; i < step->shell.n; i++)
		if (kiln_strv_push(out, step->shell.v[i]) < 0)
			return -1;
	struct kiln_buf joined = KILN_BUF_INIT;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < cl->args.n; i++)
		r = kiln_buf_addf(&joined, "%s%s", i ? " " : "", cl->args.v[i]);
	if (r >= 0)
		r = kiln_strv_push(out, joined.buf);
	kiln_buf_release(&joined);
	return r;
}

/*
 * A metadata instruction's effect on a config, and the history text BuildKit
 * writes for it into `h` (*history 0 when it writes none). `cmd_set` says
 * whether CMD was given since the base (ENTRYPOINT's reset rule).
 */
static int apply_instr(struct kiln_oci_config *c, const struct kiln_df_step *step, int *cmd_set,
		       struct kiln_buf *hist, int *history, struct kiln_error *err)
{
	struct kiln_oci_runconfig *rc = &c->config;
	const struct kiln_df_instr *in = &step->instr;
	struct kiln_buf h = KILN_BUF_INIT;
	int r = 0;
	*history = 1;
	switch (in->cmd) {
	case KILN_DF_ENV:
	case KILN_DF_LABEL:
		r = kiln_buf_addstr(&h, in->cmd == KILN_DF_ENV ? "ENV" : "LABEL");
		for (size_t i = 0; r >= 0 && i < in->u.pairs.n; i++) {
			const struct kiln_df_pair *p = &in->u.pairs.v[i];
			if (in->cmd == KILN_DF_ENV)
				r = env_set(&rc->env, p->key, p->value);
			else
				r = kiln_oci_map_set(&rc->labels, p->key, p->value, NULL);
			if (r >= 0)
				r = kiln_buf_addf(&h, " %s=%s", p->key, p->value);
		}
		break;
	case KILN_DF_ARG:
		r = kiln_buf_addstr(&h, "ARG");
		for (size_t i = 0; r >= 0 && i < in->u.args.n; i++) {
			const struct kiln_df_argdef *a = &in->u.args.v[i];
			r = kiln_buf_addf(&h, "%s%s%s%s", i ? " " : " ", a->key,
					  a->value ? "=" : "", a->value ? a->value : "");
		}
		break;
	case KILN_DF_EXPOSE:
		for (size_t i = 0; r >= 0 && i < in->u.words.n; i++)
			r = set_add(&rc->exposed_ports, in->u.words.v[i]);
		if (r >= 0)
			r = kiln_buf_addstr(&h, "EXPOSE ");
		if (r >= 0)
			r = go_list(&h, (const char *const *) in->u.words.v, in->u.words.n);
		break;
	case KILN_DF_VOLUME:
		for (size_t i = 0; r >= 0 && i < in->u.words.n; i++)
			r = set_add(&rc->volumes, in->u.words.v[i]);
		if (r >= 0)
			r = kiln_buf_addstr(&h, "VOLUME ");
		if (r >= 0)
			r = go_list(&h, (const char *const *) in->u.words.v, in->u.words.n);
		break;
	case KILN_DF_USER:
		r = set_str(&rc->user, in->u.value);
		if (r >= 0)
			r = kiln_buf_addf(&h, "USER %s", in->u.value);
		break;
	case KILN_DF_WORKDIR:
		/* the layer (a directory made) is the step's; here the config and,
		 * for "/", the empty history entry */
		r = set_str(&rc->working_dir, step->workdir);
		if (r >= 0)
			r = kiln_buf_addf(&h, "WORKDIR %s", step->workdir);
		*history = !strcmp(step->workdir, "/");
		break;
	case KILN_DF_CMD:
	case KILN_DF_ENTRYPOINT: {
		struct kiln_strv *dst = in->cmd == KILN_DF_CMD ? &rc->cmd : &rc->entrypoint;
		r = cmdline_argv(step, dst);
		if (r >= 0 && in->cmd == KILN_DF_CMD) {
			rc->args_escaped = 1;
			*cmd_set = 1;
		} else if (r >= 0 && !*cmd_set) {
			/* ENTRYPOINT resets a CMD this stage did not set */
			kiln_strv_release(&rc->cmd);
			rc->cmd = (struct kiln_strv) KILN_STRV_INIT;
		}
		if (r >= 0)
			r = kiln_buf_addf(&h, "%s ", in->cmd == KILN_DF_CMD ? "CMD" : "ENTRYPOINT");
		if (r >= 0)
			r = go_quote_list(&h, (const char *const *) dst->items, dst->len);
		break;
	}
	case KILN_DF_HEALTHCHECK: {
		const struct kiln_df_healthcheck *hc = &in->u.health;
		struct kiln_oci_healthcheck *n = rc->healthcheck;
		if (!n && !(n = rc->healthcheck = kiln_calloc(1, sizeof(*n))))
			return oom(err);
		r = strv_set(&n->test, (const char *const *) hc->test.v, hc->test.n);
		n->interval = hc->interval;
		n->timeout = hc->timeout;
		n->start_period = hc->start_period;
		n->start_interval = hc->start_interval;
		n->retries = hc->retries;
		/* fmt's %+v of the HealthcheckConfig struct */
		if (r >= 0)
			r = kiln_buf_addstr(&h, "HEALTHCHECK {Test:");
		if (r >= 0)
			r = go_list(&h, (const char *const *) hc->test.v, hc->test.n);
		const char *names[] = { " Interval:", " Timeout:", " StartPeriod:",
					" StartInterval:" };
		int64_t vals[] = { hc->interval, hc->timeout, hc->start_period,
				   hc->start_interval };
		for (size_t i = 0; r >= 0 && i < 4; i++) {
			r = kiln_buf_addstr(&h, names[i]);
			if (r >= 0)
				r = go_duration(&h, vals[i]);
		}
		if (r >= 0)
			r = kiln_buf_addf(&h, " Retries:%d}", hc->retries);
		break;
	}
	case KILN_DF_STOPSIGNAL:
		r = set_str(&rc->stop_signal, in->u.value);
		if (r >= 0)
			r = kiln_buf_addf(&h, "STOPSIGNAL %s", in->u.value);
		break;
	case KILN_DF_SHELL:
		r = strv_set(&rc->shell, (const char *const *) in->u.cmdline.args.v,
			     in->u.cmdline.args.n);
		if (r >= 0)
			r = kiln_buf_addstr(&h, "SHELL ");
		if (r >= 0)
			r = go_list(&h, (const char *const *) in->u.cmdline.args.v,
				    in->u.cmdline.args.n);
		break;
	case KILN_DF_ONBUILD:
		r = kiln_strv_push(&rc->on_build, in->u.onbuild.expression);
		*history = 0;
		break;
	case KILN_DF_MAINTAINER:
		r = set_str(&c->author, in->u.value);
		if (r >= 0)
			r = kiln_buf_addf(&h, "MAINTAINER %s", in->u.value);
		break;
	default:
		kiln_buf_release(&h);
		return kiln_fail(err, KILN_EINTERNAL, 0, "%s is not a metadata instruction",
				 kiln_df_cmd_upper(in->cmd));
	}
	if (r < 0) {
		kiln_buf_release(&h);
		return oom(err);
	}
	*hist = h;
	return 0;
}

int bb_config_apply(struct bb *b, struct bb_stage *s, const struct kiln_df_step *step,
		    struct kiln_error *err)
{
	struct kiln_buf h = KILN_BUF_INIT;
	int history = 0;
	int r = apply_instr(s->config, step, &s->cmd_set, &h, &history, err);
	if (r >= 0 && history)
		r = bb_config_history(b, s->config, h.buf, 1, b->o->source_date_epoch, err);
	kiln_buf_release(&h);
	return r;
}

/* What `docker import --change` and `docker commit --change` accept. */
static const char *const change_commands[] = { "cmd",	      "entrypoint", "env",     "expose",
					       "healthcheck", "label",	    "onbuild", "user",
					       "volume",      "workdir",    NULL };

int kiln_build_config_changes(struct kiln_oci_config *c, const char *const *changes, size_t n,
			      struct kiln_error *err)
{
	if (!n)
		return 0;
	/* one Dockerfile, as docker joins them: an ENV is seen by the changes after it */
	struct kiln_buf text = KILN_BUF_INIT;
	int r = kiln_buf_addstr(&text, "FROM scratch\n");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = kiln_buf_addf(&text, "%s\n", changes[i]);
	if (r < 0) {
		kiln_buf_release(&text);
		return oom(err);
	}
	cleanup(kiln_df_ast_freep) struct kiln_df_ast *ast = NULL;
	cleanup(kiln_df_model_freep) struct kiln_df_model *m = NULL;
	cleanup(kiln_df_graph_freep) struct kiln_df_graph *g = NULL;
	r = kiln_df_parse(text.buf, text.len, "--change", &ast, err);
	kiln_buf_release(&text);
	for (size_t i = 1; r >= 0 && i < ast->n_nodes; i++) {
		const struct kiln_df_text *kw = &ast->nodes[i].keyword_lower;
		size_t k = 0;
		while (change_commands[k] && (strlen(change_commands[k]) != kw->len ||
					      memcmp(change_commands[k], kw->str, kw->len)))
			k++;
		if (!change_commands[k])
			r = kiln_fail(err, KILN_EINVAL, 0,
				      "%.*s is not a valid change command (CMD, ENTRYPOINT, ENV, "
				      "EXPOSE, HEALTHCHECK, LABEL, ONBUILD, USER, VOLUME and "
				      "WORKDIR are)",
				      (int) kw->len, kw->str);
	}
	if (r >= 0)
		r = kiln_df_model_new(ast, &m, err);
	if (r >= 0)
		r = kiln_df_graph_new(m, NULL, &g, err);
	if (r < 0) {
		/* line 1 is the FROM kiln added: number the changes from 1 */
		if (err && err->pos.line > 1)
			err->pos.line--;
		return r;
	}
	const struct kiln_df_stage *st = &g->stages[g->target];
	int cmd_set = 0;
	for (size_t i = 0; i < st->n_steps; i++) {
		struct kiln_buf h = KILN_BUF_INIT;
		int history = 0;
		r = apply_instr(c, &st->steps[i], &cmd_set, &h, &history, err);
		kiln_buf_release(&h);
		if (r < 0)
			return r;
	}
	/* docker's builder that applies --change sets ArgsEscaped only for Windows */
	c->config.args_escaped = 0;
	return 0;
}

int bb_config_finish(struct bb *b, struct kiln_oci_config *c, struct kiln_error *err)
{
	for (size_t i = 0; i < b->o->n_labels; i++) {
		const char *kv = b->o->labels[i];
		const char *eq = strchr(kv, '=');
		cleanup_free char *k = eq ? kiln_strndup(kv, (size_t) (eq - kv)) : kiln_strdup(kv);
		if (!k || kiln_oci_map_set(&c->config.labels, k, eq ? eq + 1 : "", err) < 0)
			return oom(err);
	}
	if (b->o->platform) {
		/* an explicit --platform names the image's platform */
		if (set_str(&c->platform.os, b->platform.os) < 0 ||
		    set_str(&c->platform.architecture, b->platform.arch) < 0 ||
		    set_str(&c->platform.variant, b->platform.variant && *b->platform.variant
							  ? b->platform.variant
							  : NULL) < 0)
			return oom(err);
	}
	/*
	 * History entries without a time (metadata instructions) take the time of
	 * the first new layer after them, or of the layer before them once new
	 * layers started; the config is as old as the last entry. A rebuild from
	 * the cache therefore gives the same config, and the same image id.
	 */
	cleanup_free char *now = kiln_oci_time_format(b->created, 0);
	if (!now)
		return oom(err);
	const char *created = NULL;
	int gap = 0;
	for (size_t i = 0; i < c->n_history; i++) {
		if (c->history[i].created) {
			created = c->history[i].created;
			if (gap)
				break;
		} else {
			gap = 1;
		}
	}
	if (!created)
		created = now; /* no layer has a time: the build's */
	gap = 0;
	for (size_t i = 0; i < c->n_history; i++) {
		struct kiln_oci_history *h = &c->history[i];
		if (h->created) {
			if (gap)
				created = h->created;
		} else {
			gap = 1;
			if (!(h->created = kiln_strdup(created)))
				return oom(err);
		}
	}
	/* SOURCE_DATE_EPOCH: no time after the epoch, the base image's included */
	int64_t epoch = b->o->source_date_epoch;
	for (size_t i = 0; epoch >= 0 && i < c->n_history; i++) {
		struct kiln_oci_history *h = &c->history[i];
		int64_t t;
		if (kiln_oci_time_parse(h->created, &t, NULL) == 0 && t <= epoch)
			continue;
		free(h->created);
		if (!(h->created = kiln_oci_time_format(epoch, 0)))
			return oom(err);
	}
	free(c->created);
	c->created = NULL;
	if (c->n_history && c->history[c->n_history - 1].created)
		c->created = kiln_strdup(c->history[c->n_history - 1].created);
	else
		c->created = kiln_oci_time_format(b->created, 0);
	return c->created ? 0 : oom(err);
}
