/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Progress events: vertices numbered in start order (BuildKit's #N), their
 * output and their end, delivered to the caller one at a time whatever
 * thread produced them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "build/build-private.h"

int64_t bb_mono_ns(void)
{
	struct timespec ts;
	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bb_now(const struct bb *b)
{
	return bb_mono_ns() - b->t0;
}

static void emit(struct bb *b, struct kiln_build_event *ev)
{
	if (!b->o->on_event)
		return;
	ev->time_ns = bb_now(b);
	(void) pthread_mutex_lock(&b->ev_lock);
	b->o->on_event(b->o->event_userdata, ev);
	(void) pthread_mutex_unlock(&b->ev_lock);
}

char *bb_step_name(const struct bb *b, const char *name)
{
	/* one of several platforms: "[linux/arm64 build 2/3] RUN ...", as BuildKit */
	const char *plat = b->multi ? bb_multi_platform(b->multi) : NULL;
	if (plat && name[0] == '[')
		return kiln_asprintf("[%s %s", plat, name + 1);
	return kiln_strdup(name);
}

int bb_vertex_start(struct bb *b, struct bb_vertex *v, const char *fmt, ...)
{
	va_list ap;
	struct kiln_buf buf = KILN_BUF_INIT;
	va_start(ap, fmt);
	int r = kiln_buf_vaddf(&buf, fmt, ap);
	va_end(ap);
	if (r < 0) {
		kiln_buf_release(&buf);
		return -KILN_ENOMEM;
	}
	v->name = kiln_buf_detach(&buf, NULL);
	if (!v->name)
		return -KILN_ENOMEM;
	if (b->multi) {
		char *named = bb_step_name(b, v->name);
		free(v->name);
		if (!(v->name = named))
			return -KILN_ENOMEM;
	}
	int *counter = b->multi ? bb_multi_vertex_counter(b->multi) : &b->next_vertex;
	(void) pthread_mutex_lock(&b->ev_lock);
	v->id = ++*counter;
	(void) pthread_mutex_unlock(&b->ev_lock);
	v->start = bb_now(b);
	struct kiln_build_event ev = { .kind = KILN_BUILD_EV_START, .id = v->id, .name = v->name };
	emit(b, &ev);
	return 0;
}

static void end(struct bb *b, struct bb_vertex *v, enum kiln_build_event_kind kind, const char *msg,
		const char *data, size_t len)
{
	if (!v->id)
		return;
	struct kiln_build_event ev = { .kind = kind,
				       .id = v->id,
				       .name = v->name,
				       .duration_ns = bb_now(b) - v->start,
				       .msg = msg,
				       .data = data,
				       .len = len };
	emit(b, &ev);
}

void bb_vertex_cached(struct bb *b, struct bb_vertex *v)
{
	end(b, v, KILN_BUILD_EV_CACHED, NULL, NULL, 0);
}

void bb_vertex_done(struct bb *b, struct bb_vertex *v)
{
	end(b, v, KILN_BUILD_EV_DONE, NULL, NULL, 0);
}

void bb_vertex_error(struct bb *b, struct bb_vertex *v, const char *msg, const char *tail,
		     size_t tail_len)
{
	end(b, v, KILN_BUILD_EV_ERROR, msg, tail, tail_len);
}

void bb_vertex_miss(struct bb *b, struct bb_vertex *v, const char *message, const char *summary)
{
	if (!v->id)
		return;
	struct kiln_build_event ev = { .kind = KILN_BUILD_EV_MISS,
				       .id = v->id,
				       .name = v->name,
				       .msg = message,
				       .data = summary,
				       .len = summary ? strlen(summary) : 0 };
	emit(b, &ev);
}

void bb_vertex_release(struct bb_vertex *v)
{
	free(v->name);
	memset(v, 0, sizeof(*v));
}

int bb_vertex_end(struct bb *b, struct bb_vertex *v, int r, const struct kiln_error *err,
		  const char *fallback)
{
	if (r < 0)
		bb_vertex_error(b, v, err && err->msg ? err->msg : fallback, NULL, 0);
	else
		bb_vertex_done(b, v);
	bb_vertex_release(v);
	return r;
}

void bb_log(struct bb *b, const struct bb_vertex *v, const char *data, size_t len, int stream)
{
	struct kiln_build_event ev = { .kind = KILN_BUILD_EV_LOG,
				       .id = v->id,
				       .name = v->name,
				       .data = data,
				       .len = len,
				       .stream = stream };
	emit(b, &ev);
}

void bb_status(struct bb *b, const struct bb_vertex *v, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct kiln_build_event ev = {
		.kind = KILN_BUILD_EV_STATUS, .id = v->id, .name = v->name, .msg = msg
	};
	emit(b, &ev);
}

void bb_warn(struct bb *b, const char *fmt, ...)
{
	struct kiln_buf buf = KILN_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int r = kiln_buf_vaddf(&buf, fmt, ap);
	va_end(ap);
	struct kiln_build_event ev = { .kind = KILN_BUILD_EV_WARNING,
				       .msg = r < 0 ? "(a warning did not fit in memory)"
						    : buf.buf };
	emit(b, &ev);
	kiln_buf_release(&buf);
}

void bb_store_lock(struct bb *b)
{
	(void) pthread_mutex_lock(&b->store_lock);
}

void bb_store_unlock(struct bb *b)
{
	(void) pthread_mutex_unlock(&b->store_lock);
}
