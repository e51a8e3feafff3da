/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kiln build --progress=plain`: BuildKit's plain log. Each vertex gets a
 * number (#N), its lines are prefixed with it, output lines carry the
 * seconds since the vertex started, and the header is repeated when the
 * output switches between vertices that run at the same time:
 *
 *     #5 [build 2/4] RUN make
 *     #5 0.412 cc -o app app.c
 *     #5 DONE 1.3s
 *
 *     #6 [build 3/4] COPY app /app
 *     #6 CACHED
 */
#include <string.h>

#include "cli.h"
#include "progress-build.h"

struct cli_build_progress {
	enum cli_build_progress_mode mode;
	FILE *out;
	struct cli_vertices vs;
	int last_id; /* the vertex the last line was about */
	int any;
	struct cli_tty *tty;
	/* a partial output line per vertex is not kept: BuildKit prints the
	 * pieces as they come, each on its own line */
};

struct cli_vertex *cli_vertex_get(struct cli_vertices *vs, const struct kiln_build_event *ev)
{
	for (size_t i = vs->n; i-- > 0;)
		if (vs->v[i].id == ev->id)
			return &vs->v[i];
	if (vs->n == vs->alloc) {
		size_t na = vs->alloc ? vs->alloc * 2 : 32;
		struct cli_vertex *n = kiln_reallocarray(vs->v, na, sizeof(*n));
		if (!n)
			return NULL;
		vs->v = n;
		vs->alloc = na;
	}
	struct cli_vertex *v = &vs->v[vs->n];
	*v = (struct cli_vertex){ .id = ev->id, .start_ns = ev->time_ns };
	v->name = kiln_strdup(ev->name ? ev->name : "");
	if (!v->name)
		return NULL;
	vs->n++;
	return v;
}

void cli_vertices_release(struct cli_vertices *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].error);
		free(vs->v[i].tail);
		free(vs->v[i].logs);
		free(vs->v[i].status);
		free(vs->v[i].miss);
		free(vs->v[i].partial);
	}
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

void cli_vertices_print_errors(const struct cli_vertices *vs, FILE *out)
{
	for (size_t i = 0; i < vs->n; i++) {
		const struct cli_vertex *v = &vs->v[i];
		if (v->state != 3 || !v->tail_len)
			continue;
		fprintf(out, "------\n > %s:\n", v->name);
		const char *p = v->tail, *end = v->tail + v->tail_len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t) (end - p));
			size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
			fprintf(out, "%.*s\n", (int) len, p);
			p += len + (nl ? 1 : 0);
		}
		fputs("------\n", out);
	}
}

struct cli_build_progress *cli_build_progress_new(enum cli_build_progress_mode mode, FILE *out)
{
	struct cli_build_progress *p = kiln_calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->mode = mode;
	p->out = out;
	if (mode == CLI_BUILD_PROGRESS_TTY && !(p->tty = cli_tty_new(out))) {
		free(p);
		return NULL;
	}
	return p;
}

static void header(struct cli_build_progress *p, const struct cli_vertex *v)
{
	if (p->last_id == v->id)
		return;
	if (p->any)
		fputc('\n', p->out);
	fprintf(p->out, "#%d %s\n", v->id, v->name);
	p->last_id = v->id;
	p->any = 1;
}

static void plain_event(struct cli_build_progress *p, const struct kiln_build_event *ev)
{
	if (ev->kind == KILN_BUILD_EV_WARNING) {
		if (p->any)
			fputc('\n', p->out);
		fprintf(p->out, "WARNING: %s\n", ev->msg ? ev->msg : "");
		p->last_id = 0;
		p->any = 1;
		return;
	}
	struct cli_vertex *v = cli_vertex_get(&p->vs, ev);
	if (!v)
		return;
	double secs = (double) ev->duration_ns / 1e9;
	if (v->partial_len && ev->kind != KILN_BUILD_EV_LOG && ev->kind != KILN_BUILD_EV_STATUS &&
	    ev->kind != KILN_BUILD_EV_START) {
		header(p, v);
		fprintf(p->out, "#%d %.3f %.*s\n", v->id,
			(double) (ev->time_ns - v->start_ns) / 1e9, (int) v->partial_len,
			v->partial);
		v->partial_len = 0;
	}
	switch (ev->kind) {
	case KILN_BUILD_EV_START:
		header(p, v);
		break;
	case KILN_BUILD_EV_STATUS:
		header(p, v);
		fprintf(p->out, "#%d %s\n", v->id, ev->msg ? ev->msg : "");
		break;
	case KILN_BUILD_EV_LOG: {
		/* whole lines only: what follows the last newline waits for the rest */
		double t = (double) (ev->time_ns - v->start_ns) / 1e9;
		const char *s = ev->data, *end = ev->data + ev->len;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t) (end - s));
			if (!nl) {
				char *n = kiln_realloc(v->partial,
						       v->partial_len + (size_t) (end - s));
				if (n) {
					memcpy(n + v->partial_len, s, (size_t) (end - s));
					v->partial = n;
					v->partial_len += (size_t) (end - s);
				}
				break;
			}
			header(p, v);
			fprintf(p->out, "#%d %.3f %.*s%.*s\n", v->id, t, (int) v->partial_len,
				v->partial ? v->partial : "", (int) (nl - s), s);
			v->partial_len = 0;
			s = nl + 1;
		}
		break;
	}
	case KILN_BUILD_EV_CACHED:
		v->state = 2;
		header(p, v);
		fprintf(p->out, "#%d CACHED\n", v->id);
		break;
	case KILN_BUILD_EV_MISS:
		/* why the step runs: one line per reason */
		header(p, v);
		for (const char *m = ev->msg ? ev->msg : ""; *m;) {
			size_t n = strcspn(m, "\n");
			fprintf(p->out, "#%d cache miss: %.*s\n", v->id, (int) n, m);
			m += n + (m[n] == '\n');
		}
		break;
	case KILN_BUILD_EV_DONE:
		v->state = 1;
		header(p, v);
		fprintf(p->out, "#%d DONE %.1fs\n", v->id, secs);
		break;
	case KILN_BUILD_EV_ERROR:
		v->state = 3;
		free(v->error);
		v->error = ev->msg ? kiln_strdup(ev->msg) : NULL;
		if (ev->len) {
			free(v->tail);
			v->tail = kiln_memdup(ev->data, ev->len);
			v->tail_len = v->tail ? ev->len : 0;
		}
		header(p, v);
		fprintf(p->out, "#%d ERROR: %s\n", v->id, ev->msg ? ev->msg : "failed");
		break;
	default:
		break;
	}
	fflush(p->out);
}

void cli_build_progress_event(void *userdata, const struct kiln_build_event *ev)
{
	struct cli_build_progress *p = userdata;
	if (p->mode == CLI_BUILD_PROGRESS_QUIET) {
		/* only warnings are shown; a failure's output is kept for the summary */
		if (ev->kind == KILN_BUILD_EV_WARNING) {
			fprintf(p->out, "WARNING: %s\n", ev->msg ? ev->msg : "");
			return;
		}
		struct cli_vertex *v =
			ev->kind == KILN_BUILD_EV_ERROR ? cli_vertex_get(&p->vs, ev) : NULL;
		if (v && ev->len) {
			v->state = 3;
			free(v->tail);
			v->tail = kiln_memdup(ev->data, ev->len);
			v->tail_len = v->tail ? ev->len : 0;
		}
		return;
	}
	if (p->mode == CLI_BUILD_PROGRESS_TTY)
		cli_tty_event(p->tty, ev);
	else
		plain_event(p, ev);
}

void cli_build_progress_finish(struct cli_build_progress *p)
{
	if (p->mode == CLI_BUILD_PROGRESS_TTY) {
		cli_tty_finish(p->tty);
	} else {
		if (p->any)
			fputc('\n', p->out);
		cli_vertices_print_errors(&p->vs, p->out);
		fflush(p->out);
	}
}

void cli_build_progress_free(struct cli_build_progress *p)
{
	if (!p)
		return;
	cli_tty_free(p->tty);
	cli_vertices_release(&p->vs);
	free(p);
}
