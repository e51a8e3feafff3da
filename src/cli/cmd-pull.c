/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln pull, and what pull, push, login and logout share: the registry flags
 * and the progress display (bars per blob on a terminal, one line per event
 * otherwise).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cmd-pull.h"
#include "registry/registry.h"
#include "store/store.h"

/* ---- shared flags --------------------------------------------------------- */

int cli_registry_opts(const struct cli_spec *spec, const struct cli_registry_args *a,
		      struct kiln_registry_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (a->tls_verify) {
		if (*a->tls_verify == 0 || strcmp(a->tls_verify, "true") == 0) {
			/* the default */
		} else if (strcmp(a->tls_verify, "false") == 0) {
			o->flags |= KILN_REGISTRY_INSECURE;
		} else {
			return cli_usage_error(spec, "--tls-verify wants true or false, not '%s'",
					       a->tls_verify);
		}
	}
	if (a->insecure)
		o->flags |= KILN_REGISTRY_INSECURE;
	o->cert_dir = a->cert_dir;
	o->authfile = a->authfile;
	o->creds = a->creds;
	o->platform = a->platform;
	/* retries: -1 in the args = not given (the library's default) */
	if (a->retries < -1 || a->retries > 100)
		return cli_usage_error(spec, "--retries wants 0 to 100");
	o->retries = a->retries < 0 ? 0 : a->retries == 0 ? -1 : (int) a->retries;
	if (a->parallel < 0 || a->parallel > KILN_REGISTRY_PARALLEL_MAX)
		return cli_usage_error(spec, "--parallel wants 1 to %d",
				       KILN_REGISTRY_PARALLEL_MAX);
	o->parallel = (int) a->parallel;
	return 0;
}

/* ---- progress --------------------------------------------------------------- */

enum item_state { ITEM_WAIT, ITEM_ACTIVE, ITEM_DONE, ITEM_EXISTS, ITEM_MOUNTED };

struct item {
	char digest[80];
	char what[16];
	int64_t done;
	int64_t total;
	enum item_state state;
	char from[128];
};

struct cli_progress {
	struct cli_env *env;
	int quiet;
	int tty;
	const char *verb; /* "pulling" / "pushing" */
	struct item *items;
	size_t n_items;
	int drawn; /* lines on screen */
	int64_t last_draw_ms;
};

struct cli_progress *cli_progress_new(struct cli_env *env, int quiet, const char *verb)
{
	struct cli_progress *p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->env = env;
	p->quiet = quiet;
	p->tty = env->stderr_tty;
	p->verb = verb;
	return p;
}

void cli_progress_free(struct cli_progress *p)
{
	if (!p)
		return;
	free(p->items);
	free(p);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* decimal units, as docker prints sizes */
static void human(int64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double) (n < 0 ? 0 : n);
	size_t i = 0;
	while (v >= 1000.0 && i + 1 < KILN_ARRAY_SIZE(units)) {
		v /= 1000.0;
		i++;
	}
	(void) snprintf(buf, len, i ? "%.1f%s" : "%.0f%s", v, units[i]);
}

static struct item *find_item(struct cli_progress *p, const char *digest, const char *what)
{
	for (size_t i = 0; i < p->n_items; i++)
		if (strcmp(p->items[i].digest, digest) == 0)
			return &p->items[i];
	struct item *n = kiln_reallocarray(p->items, p->n_items + 1, sizeof(*p->items));
	if (!n)
		return NULL;
	p->items = n;
	struct item *it = &p->items[p->n_items++];
	memset(it, 0, sizeof(*it));
	(void) snprintf(it->digest, sizeof(it->digest), "%s", digest);
	(void) snprintf(it->what, sizeof(it->what), "%s", what ? what : "blob");
	it->total = -1;
	return it;
}

static int term_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void draw(struct cli_progress *p, int force)
{
	int64_t now = mono_ms();
	if (!force && now - p->last_draw_ms < 100)
		return;
	p->last_draw_ms = now;
	if (p->drawn > 0)
		fprintf(stderr, "\033[%dA", p->drawn);
	int width = term_width();
	for (size_t i = 0; i < p->n_items; i++) {
		const struct item *it = &p->items[i];
		/* "sha256:" + 12 hex digits identify a blob well enough on screen */
		const char *hex =
			strncmp(it->digest, "sha256:", 7) == 0 ? it->digest + 7 : it->digest;
		char a[16], b[16], status[160];
		human(it->done, a, sizeof(a));
		human(it->total, b, sizeof(b));
		switch (it->state) {
		case ITEM_WAIT:
			(void) snprintf(status, sizeof(status), "waiting");
			break;
		case ITEM_DONE:
			(void) snprintf(status, sizeof(status), "done %s", b);
			break;
		case ITEM_EXISTS:
			(void) snprintf(status, sizeof(status), "already there");
			break;
		case ITEM_MOUNTED:
			(void) snprintf(status, sizeof(status), "mounted from %s", it->from);
			break;
		case ITEM_ACTIVE: {
			int bar = width - 50;
			if (bar > 40)
				bar = 40;
			if (bar < 10)
				bar = 10;
			int fill = it->total > 0
					   ? (int) ((double) it->done * bar / (double) it->total)
					   : 0;
			if (fill > bar)
				fill = bar;
			char barbuf[64];
			for (int k = 0; k < bar; k++)
				barbuf[k] = k < fill ? '=' : (k == fill ? '>' : ' ');
			barbuf[bar] = 0;
			(void) snprintf(status, sizeof(status), "[%s] %s/%s", barbuf, a, b);
			break;
		}
		}
		fprintf(stderr, "\r\033[K%.12s %-6s %s\n", hex, it->what, status);
	}
	p->drawn = (int) p->n_items;
	fflush(stderr);
}

void cli_progress_event(void *userdata, const struct kiln_registry_event *ev)
{
	struct cli_progress *p = userdata;
	char a[16];
	if (p->quiet)
		return;
	if (ev->kind == KILN_REG_EV_RETRY) {
		/* retries are worth seeing in either mode */
		if (p->tty && p->drawn) {
			fprintf(stderr, "\033[%dA\r\033[K", p->drawn);
			p->drawn = 0;
		}
		fprintf(stderr, "retrying %s: %s (attempt %lld in %.1f s)\n",
			ev->what ? ev->what : "request", ev->msg ? ev->msg : "",
			(long long) ev->done + 1, (double) ev->total / 1000.0);
		if (p->tty)
			draw(p, 1);
		return;
	}
	if (ev->kind == KILN_REG_EV_RESOLVED) {
		if (!p->tty)
			fprintf(stderr, "resolved %s\n", ev->msg ? ev->msg : "");
		return;
	}
	if (ev->kind == KILN_REG_EV_MANIFEST) {
		if (p->tty)
			draw(p, 1);
		else
			fprintf(stderr, "manifest %s %s\n", ev->digest ? ev->digest : "",
				ev->msg ? ev->msg : "");
		return;
	}
	if (!ev->digest)
		return;
	struct item *it = find_item(p, ev->digest, ev->what);
	if (!it)
		return;
	if (ev->total >= 0)
		it->total = ev->total;
	it->done = ev->done;
	int changed = 1;
	switch (ev->kind) {
	case KILN_REG_EV_BLOB_START:
		it->state = ITEM_ACTIVE;
		if (!p->tty) {
			human(ev->total, a, sizeof(a));
			fprintf(stderr, "%s %s %s (%s)\n", p->verb, it->what, ev->digest, a);
		}
		break;
	case KILN_REG_EV_BLOB_PROGRESS:
		it->state = ITEM_ACTIVE;
		changed = 0;
		break;
	case KILN_REG_EV_BLOB_DONE:
		it->state = ITEM_DONE;
		if (!p->tty)
			fprintf(stderr, "done %s %s\n", it->what, ev->digest);
		break;
	case KILN_REG_EV_BLOB_EXISTS:
		it->state = ITEM_EXISTS;
		if (!p->tty)
			fprintf(stderr, "exists %s %s\n", it->what, ev->digest);
		break;
	case KILN_REG_EV_BLOB_MOUNTED:
		it->state = ITEM_MOUNTED;
		(void) snprintf(it->from, sizeof(it->from), "%s", ev->msg ? ev->msg : "?");
		if (!p->tty)
			fprintf(stderr, "mounted %s %s from %s\n", it->what, ev->digest, it->from);
		break;
	default:
		break;
	}
	if (p->tty)
		draw(p, changed);
}

/* ---- kiln pull ---------------------------------------------------------------- */

static struct cli_registry_args arg_reg = { .retries = -1 };
static int arg_quiet;

static const struct cli_spec spec = {
	.usage = "kiln pull [--platform OS/ARCH[/VARIANT]] [options] REFERENCE",
	.summary = "Download an image from a registry into the store.",
	.opts =
		(const struct cli_opt[]){
			{ "platform", 0, CLI_OPT_STRING, &arg_reg.platform, "OS/ARCH[/VARIANT]",
			  "image to take from a multi-platform index (default: this machine's)" },
			CLI_REGISTRY_TLS_OPTS(arg_reg),
			CLI_REGISTRY_XFER_OPTS(arg_reg),
			{ "quiet", 'q', CLI_OPT_FLAG, &arg_quiet, NULL, "no progress output" },
			{ .long_name = NULL },
		},
	.details =
		"REFERENCE is normalized as docker does (busybox -> "
		"docker.io/library/busybox:latest);\n"
		"with a digest (name@sha256:...) the image is taken by digest and gets no tag.\n"
		"Blobs already in the store are not downloaded again; every blob is checked\n"
		"against its size and digest. Plain http is used only for loopback registries\n"
		"(127.0.0.0/8, ::1, localhost) or with --tls-verify=false. Credentials come from\n"
		"--creds or the docker config.json (kiln login). Prints the image's name.",
};

int cmd_pull(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	struct kiln_error err = KILN_ERROR_INIT;
	int r = cli_parse(argc, argv, &spec, &pos);
	if (r)
		return r > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 1)
		return cli_usage_error(&spec, "want one REFERENCE");
	struct kiln_registry_opts o;
	if ((r = cli_registry_opts(&spec, &arg_reg, &o)) != 0)
		return r;
	cleanup(cli_progress_freep) struct cli_progress *prog =
		cli_progress_new(env, arg_quiet, "pulling");
	if (!prog) {
		(void) kiln_fail(&err, KILN_ENOMEM, 0, "out of memory");
		return cli_report(env, &err);
	}
	o.on_event = cli_progress_event;
	o.event_userdata = prog;

	cleanup(kiln_store_closep) struct kiln_store *st = NULL;
	if (kiln_store_open(&env->ctx, env->root, 0, &st, &err) < 0)
		return cli_report(env, &err);
	struct kiln_registry_pull_result res = { 0 };
	if (kiln_registry_pull(st, pos.items[0], &o, &res, &err) < 0) {
		(void) kiln_error_prefix(&err, -(int) err.code, "pulling %s", pos.items[0]);
		return cli_report(env, &err);
	}
	if (!arg_quiet) {
		char sz[16];
		human(res.bytes_fetched, sz, sizeof(sz));
		fprintf(stderr,
			"Digest: %s (%s)\nImage ID: %s\n%zu blob%s fetched (%s), %zu already "
			"there\n",
			res.resolved.str, res.platform ? res.platform : "?", res.config.str,
			res.blobs_fetched, res.blobs_fetched == 1 ? "" : "s", sz,
			res.blobs_present);
	}
	if (res.name)
		printf("%s\n", res.name);
	else
		printf("%s@%s\n", res.repository, res.resolved.str);
	kiln_registry_pull_result_release(&res);
	return CLI_EXIT_OK;
}
