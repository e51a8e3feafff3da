/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp programs for sandboxes: the one for Docker's default capabilities
 * comes built into kiln (seccomp-default.h, written at build time by
 * kiln-seccomp-gen from seccomp.c), since libseccomp takes about 15 ms to
 * build it, on the path of every build's first RUN. Other capability sets
 * are built on first use and kept per caller (struct kiln_exec_filters).
 */
#include "exec/exec.h"

#include <linux/filter.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp-default.h"

int kiln_exec_seccomp_builtin(uint64_t caps, const void **ret_prog, size_t *ret_len)
{
	if (!KILN_SECCOMP_DEFAULT_LEN || caps != KILN_SECCOMP_DEFAULT_CAPS ||
	    seccomp_arch_native() != KILN_SECCOMP_DEFAULT_ARCH)
		return 0;
	*ret_prog = kiln_seccomp_default;
	*ret_len = KILN_SECCOMP_DEFAULT_LEN;
	return 1;
}

static int copy_prog(const void *prog, size_t len, void **ret_prog, size_t *ret_len,
		     struct kiln_error *err)
{
	void *p = kiln_malloc(len * sizeof(struct sock_filter));
	if (!p)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	memcpy(p, prog, len * sizeof(struct sock_filter));
	*ret_prog = p;
	*ret_len = len;
	return 0;
}

int kiln_exec_seccomp_get(uint64_t caps, void **ret_prog, size_t *ret_len, struct kiln_error *err)
{
	const void *builtin;
	size_t len;
	if (kiln_exec_seccomp_builtin(caps, &builtin, &len))
		return copy_prog(builtin, len, ret_prog, ret_len, err);
	return kiln_exec_seccomp_build(caps, ret_prog, ret_len, err);
}

struct filter_entry {
	uint64_t caps;
	void *prog;
	size_t len; /* instructions */
};

struct kiln_exec_filters {
	pthread_mutex_t lock;
	struct filter_entry *v;
	size_t n;
};

struct kiln_exec_filters *kiln_exec_filters_new(void)
{
	struct kiln_exec_filters *f = kiln_calloc(1, sizeof(*f));
	if (f)
		pthread_mutex_init(&f->lock, NULL);
	return f;
}

void kiln_exec_filters_free(struct kiln_exec_filters *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].prog);
	free(f->v);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int kiln_exec_filters_get(struct kiln_exec_filters *f, uint64_t caps, void **ret_prog,
			  size_t *ret_len, struct kiln_error *err)
{
	/* held while building: sandboxes started at once wait for one build */
	pthread_mutex_lock(&f->lock);
	int r = 0;
	struct filter_entry *hit = NULL;
	for (size_t i = 0; i < f->n && !hit; i++)
		if (f->v[i].caps == caps)
			hit = &f->v[i];
	if (!hit) {
		struct filter_entry e = { .caps = caps };
		struct filter_entry *v = kiln_reallocarray(f->v, f->n + 1, sizeof(*v));
		if (!v)
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		else
			f->v = v;
		if (r >= 0)
			r = kiln_exec_seccomp_get(caps, &e.prog, &e.len, err);
		if (r >= 0) {
			f->v[f->n] = e;
			hit = &f->v[f->n++];
		}
	}
	if (r >= 0)
		r = copy_prog(hit->prog, hit->len, ret_prog, ret_len, err);
	pthread_mutex_unlock(&f->lock);
	return r;
}
