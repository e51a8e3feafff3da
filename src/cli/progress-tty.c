/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `kiln build --progress=tty`: BuildKit's terminal view. A live region at the
 * bottom of the terminal shows the elapsed time, the steps not finished yet
 * with their running times and the last lines of each running step's
 * output; it is redrawn in place (cursor up, clear) a few times a second.
 * Finished steps, in order, scroll above it as permanent lines:
 *
 *     [+] Building 2.4s (6/9)
 *      => CACHED [build 2/4] COPY . .                                0.0s
 *      => [build 3/4] RUN make                                       1.8s
 *      => => # cc -o app app.c
 */
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "progress-build.h"

#define LOG_LINES 6
#define LOG_KEEP 4096
#define REDRAW_NS (150 * 1000 * 1000)

struct cli_tty {
	FILE *out;
	pthread_mutex_t lock;
	pthread_t ticker;
	int ticking;
	int stop;
	struct cli_vertices vs;
	size_t committed; /* vertices printed for good, in id order */
	int lines;	  /* height of the live region last drawn */
	int64_t base_ns;  /* monotonic time of the build's start */
	int have_base;
	int finished;
	char **warnings;
	size_t n_warnings;
};

static int64_t mono(void)
{
	struct timespec ts;
	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int width(FILE *out)
{
	struct winsize ws;
	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

/* One line, cut to the terminal's width so that it never wraps. */
static int put_line(FILE *out, int w, const char *left, const char *right)
{
	size_t rl = right ? strlen(right) : 0;
	size_t room = (size_t) w - 1;
	size_t ll = strlen(left);
	if (rl + 1 > room)
		rl = 0;
	size_t lmax = room - (rl ? rl + 1 : 0);
	if (ll > lmax)
		ll = lmax;
	fprintf(out, "%.*s", (int) ll, left);
	if (rl)
		fprintf(out, "%*s%s", (int) (room - ll - rl), "", right);
	fputc('\n', out);
	return 1;
}

static int vertex_lines(struct cli_tty *t, const struct cli_vertex *v, int w, int64_t now,
			int with_logs)
{
	char left[1024], right[32];
	const char *mark = v->state == 2 ? "CACHED " : v->state == 3 ? "ERROR " : "";
	(void) snprintf(left, sizeof(left), " => %s%s%s%s%s", mark, v->name,
			v->miss ? " (cache miss: " : "", v->miss ? v->miss : "", v->miss ? ")" : "");
	int64_t d = v->state ? v->duration_ns : now - v->start_ns;
	(void) snprintf(right, sizeof(right), "%.1fs", (double) (d < 0 ? 0 : d) / 1e9);
	int n = put_line(t->out, w, left, right);
	if (!with_logs)
		return n;
	if (v->status && v->state == 0) {
		(void) snprintf(left, sizeof(left), " => => %s", v->status);
		n += put_line(t->out, w, left, NULL);
	}
	if (!v->logs_len || v->state != 0)
		return n;
	/* the last LOG_LINES lines of output */
	const char *end = v->logs + v->logs_len;
	const char *p = end;
	if (p > v->logs && p[-1] == '\n')
		p--;
	int k = 0;
	while (p > v->logs && k < LOG_LINES) {
		p--;
		if (*p == '\n')
			k++;
	}
	if (*p == '\n')
		p++;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
		(void) snprintf(left, sizeof(left), " => => # %.*s", (int) (len > 900 ? 900 : len),
				p);
		for (char *c = left; *c; c++)
			if ((unsigned char) *c < 0x20)
				*c = ' ';
		n += put_line(t->out, w, left, NULL);
		p += len + (nl ? 1 : 0);
	}
	return n;
}

static void redraw(struct cli_tty *t)
{
	if (!t->have_base)
		return;
	int w = width(t->out);
	int64_t now = mono() - t->base_ns;
	if (t->lines)
		fprintf(t->out, "\033[%dA\033[J", t->lines);
	/* finished vertices go above, for good, in order */
	while (t->committed < t->vs.n && t->vs.v[t->committed].state != 0)
		(void) vertex_lines(t, &t->vs.v[t->committed++], w, now, 0);
	size_t done = 0;
	for (size_t i = 0; i < t->vs.n; i++)
		done += t->vs.v[i].state != 0;
	char head[128];
	(void) snprintf(head, sizeof(head), "[+] Building %.1fs (%zu/%zu)%s", (double) now / 1e9,
			done, t->vs.n, t->finished ? " FINISHED" : "");
	int lines = put_line(t->out, w, head, NULL);
	for (size_t i = t->committed; i < t->vs.n; i++)
		lines += vertex_lines(t, &t->vs.v[i], w, now, 1);
	t->lines = lines;
	fflush(t->out);
}

static void *tick(void *arg)
{
	struct cli_tty *t = arg;
	for (;;) {
		struct timespec ts = { 0, REDRAW_NS };
		(void) nanosleep(&ts, NULL);
		(void) pthread_mutex_lock(&t->lock);
		int stop = t->stop;
		if (!stop)
			redraw(t);
		(void) pthread_mutex_unlock(&t->lock);
		if (stop)
			return NULL;
	}
}

struct cli_tty *cli_tty_new(FILE *out)
{
	struct cli_tty *t = kiln_calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->out = out;
	(void) pthread_mutex_init(&t->lock, NULL);
	t->ticking = kiln_thread_start(&t->ticker, tick, t) == 0;
	return t;
}

static void keep_logs(struct cli_vertex *v, const char *data, size_t len)
{
	if (len >= LOG_KEEP) {
		data += len - LOG_KEEP;
		len = LOG_KEEP;
	}
	if (v->logs_len + len > LOG_KEEP) {
		size_t drop = v->logs_len + len - LOG_KEEP;
		memmove(v->logs, v->logs + drop, v->logs_len - drop);
		v->logs_len -= drop;
	}
	if (!v->logs && !(v->logs = kiln_malloc(LOG_KEEP)))
		return;
	memcpy(v->logs + v->logs_len, data, len);
	v->logs_len += len;
}

void cli_tty_event(struct cli_tty *t, const struct kiln_build_event *ev)
{
	(void) pthread_mutex_lock(&t->lock);
	if (!t->have_base) {
		t->base_ns = mono() - ev->time_ns;
		t->have_base = 1;
	}
	if (ev->kind == KILN_BUILD_EV_WARNING) {
		char **n = kiln_reallocarray(t->warnings, t->n_warnings + 1, sizeof(*n));
		if (n) {
			t->warnings = n;
			n[t->n_warnings] = kiln_strdup(ev->msg ? ev->msg : "");
			if (n[t->n_warnings])
				t->n_warnings++;
		}
		(void) pthread_mutex_unlock(&t->lock);
		return;
	}
	struct cli_vertex *v = cli_vertex_get(&t->vs, ev);
	if (v) {
		switch (ev->kind) {
		case KILN_BUILD_EV_LOG:
			keep_logs(v, ev->data, ev->len);
			break;
		case KILN_BUILD_EV_STATUS:
			free(v->status);
			v->status = kiln_strdup(ev->msg ? ev->msg : "");
			break;
		case KILN_BUILD_EV_MISS:
			free(v->miss);
			v->miss = ev->len ? kiln_strndup(ev->data, ev->len) : NULL;
			break;
		case KILN_BUILD_EV_CACHED:
		case KILN_BUILD_EV_DONE:
			v->state = ev->kind == KILN_BUILD_EV_CACHED ? 2 : 1;
			v->duration_ns = ev->duration_ns;
			break;
		case KILN_BUILD_EV_ERROR:
			v->state = 3;
			v->duration_ns = ev->duration_ns;
			if (ev->len) {
				free(v->tail);
				v->tail = kiln_memdup(ev->data, ev->len);
				v->tail_len = v->tail ? ev->len : 0;
			}
			break;
		default:
			break;
		}
	}
	/* a finished step is shown at once; the rest waits for the next tick */
	if (ev->kind != KILN_BUILD_EV_LOG && ev->kind != KILN_BUILD_EV_STATUS)
		redraw(t);
	(void) pthread_mutex_unlock(&t->lock);
}

void cli_tty_finish(struct cli_tty *t)
{
	(void) pthread_mutex_lock(&t->lock);
	t->stop = 1;
	(void) pthread_mutex_unlock(&t->lock);
	if (t->ticking) {
		(void) pthread_join(t->ticker, NULL);
		t->ticking = 0;
	}
	t->finished = 1;
	for (size_t i = 0; i < t->vs.n; i++)
		if (t->vs.v[i].state == 0) {
			t->vs.v[i].state = 3; /* cancelled with the build */
			t->vs.v[i].duration_ns = mono() - t->base_ns - t->vs.v[i].start_ns;
		}
	redraw(t);
	for (size_t i = 0; i < t->n_warnings; i++)
		fprintf(t->out, "WARNING: %s\n", t->warnings[i]);
	cli_vertices_print_errors(&t->vs, t->out);
	fflush(t->out);
}

void cli_tty_free(struct cli_tty *t)
{
	if (!t)
		return;
	if (t->ticking) {
		(void) pthread_mutex_lock(&t->lock);
		t->stop = 1;
		(void) pthread_mutex_unlock(&t->lock);
		(void) pthread_join(t->ticker, NULL);
	}
	for (size_t i = 0; i < t->n_warnings; i++)
		free(t->warnings[i]);
	free(t->warnings);
	cli_vertices_release(&t->vs);
	(void) pthread_mutex_destroy(&t->lock);
	free(t);
}
