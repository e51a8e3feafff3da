/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/base.h"
#include "base/output.h"
#include "tap.h"

static void test_error(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	int r = kiln_fail(&err, KILN_EPARSE, 0, "unknown instruction '%s'", "RUNN");
	TAP_INT_EQ(r, -KILN_EPARSE, "kiln_fail returns the negative code");
	kiln_error_set_pos(&err, "Dockerfile", 12, 0);
	cleanup_free char *s = kiln_error_format(&err);
	TAP_STR_EQ(s, "Dockerfile:12: unknown instruction 'RUNN'", "error with position");
	r = kiln_error_prefix(&err, r, "parsing %s", "x");
	TAP_INT_EQ(r, -KILN_EPARSE, "prefix keeps the code");
	TAP_STR_EQ(err.msg, "parsing x: unknown instruction 'RUNN'", "prefix prepends context");
	kiln_error_release(&err);
	TAP_INT_EQ(err.code, KILN_OK, "release resets");
	/* an error with a code and a line but nothing allocated: reset too */
	err.code = KILN_EIO;
	err.sys_errno = ENOENT;
	err.pos.line = 3;
	kiln_error_release(&err);
	TAP_OK(err.code == KILN_OK && !err.sys_errno && !err.pos.line && !err.msg,
	       "release of an error holding nothing resets it");
	kiln_error_release(NULL);

	r = kiln_fail(&err, KILN_EIO, ENOENT, "open %s", "/nope");
	cleanup_free char *s2 = kiln_error_format(&err);
	TAP_STR_EQ(s2, "open /nope: No such file or directory", "errno appended once");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_fail(NULL, KILN_EINVAL, 0, "x"), -KILN_EINVAL, "NULL err is allowed");
	TAP_STR_EQ(kiln_strerror(KILN_EDIGEST), "digest mismatch", "strerror");
	TAP_STR_EQ(kiln_strerror(999), "unknown error", "strerror out of range");
}

static void test_buf(void)
{
	cleanup(kiln_buf_release) struct kiln_buf b = KILN_BUF_INIT;
	TAP_STR_EQ(b.buf, "", "empty buf is an empty string");
	TAP_INT_EQ(kiln_buf_addstr(&b, "abc"), 0, "addstr");
	TAP_INT_EQ(kiln_buf_addf(&b, "-%d-", 42), 0, "addf");
	TAP_STR_EQ(b.buf, "abc-42-", "contents");
	static const unsigned char bytes[] = { 0x00, 0x0f, 0xa5, 0xff };
	TAP_INT_EQ(kiln_buf_add_hex(&b, bytes, sizeof(bytes)), 0, "add_hex");
	TAP_STR_EQ(b.buf, "abc-42-000fa5ff", "hex, lower case, after what was there");
	struct kiln_buf h = KILN_BUF_INIT;
	h.cap = 7;
	TAP_INT_EQ(kiln_buf_add_hex(&h, bytes, sizeof(bytes)), -KILN_ELIMIT,
		   "hex past the cap is ELIMIT");
	TAP_STR_EQ(h.buf, "", "and adds nothing");
	kiln_buf_release(&h);
	struct kiln_buf c = KILN_BUF_INIT;
	c.cap = 4;
	TAP_INT_EQ(kiln_buf_addstr(&c, "1234"), 0, "up to the cap");
	TAP_INT_EQ(kiln_buf_addch(&c, '5'), -KILN_ELIMIT, "past the cap is ELIMIT");
	TAP_STR_EQ(c.buf, "1234", "failed add leaves the buffer alone");
	size_t len;
	char *d = kiln_buf_detach(&c, &len);
	TAP_STR_EQ(d, "1234", "detach");
	TAP_INT_EQ(len, 4, "detach length");
	TAP_STR_EQ(c.buf, "", "detached buf is empty");
	free(d);
	kiln_buf_release(&c);

	/* addf into the room there is, past it, and past the cap with room left */
	struct kiln_buf f = KILN_BUF_INIT;
	char longer[400];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	int fok = kiln_buf_addf(&f, "%s=%d;", "a", 1) == 0 && !strcmp(f.buf, "a=1;") &&
		  kiln_buf_addf(&f, "%s|", longer) == 0 && f.len == 4 + 400 &&
		  f.buf[f.len] == '\0' && f.buf[f.len - 1] == '|' && f.buf[4] == 'x' &&
		  kiln_buf_addf(&f, "%d", 7) == 0 && !strcmp(f.buf + 404, "7");
	TAP_OK(fok, "addf fits, then grows, then fits again");
	kiln_buf_release(&f);
	struct kiln_buf fc = KILN_BUF_INIT;
	fc.cap = 6;
	fok = kiln_buf_addf(&fc, "%s", "abc") == 0 && fc.alloc > 10 &&
	      kiln_buf_addf(&fc, "%s", "defg") == -KILN_ELIMIT && !strcmp(fc.buf, "abc") &&
	      fc.len == 3 && kiln_buf_addf(&fc, "%s", "def") == 0 && !strcmp(fc.buf, "abcdef");
	TAP_OK(fok, "addf past the cap with room in the block is ELIMIT and adds nothing");
	kiln_buf_release(&fc);
	char *as1 = kiln_asprintf("%s-%d", "x", 42);
	char *as2 = kiln_asprintf("%s%s", longer, "!");
	TAP_OK(as1 && !strcmp(as1, "x-42") && as2 && strlen(as2) == 400 && as2[399] == '!',
	       "asprintf, short and longer than its stack buffer");
	free(as1);
	free(as2);

	/* appends that fit (inline) and appends that grow, byte by byte and in runs */
	struct kiln_buf g = KILN_BUF_INIT;
	int ok = kiln_buf_add(&g, NULL, 0) == 0 && g.len == 0 && g.buf[0] == '\0';
	for (int i = 0; i < 1000 && ok; i++)
		ok = kiln_buf_addch(&g, (char) ('a' + i % 26)) == 0 &&
		     kiln_buf_add(&g, "0123456789", (size_t) (i % 11)) == 0;
	size_t at = 0;
	for (int i = 0; i < 1000 && ok; i++) {
		ok = g.buf[at] == 'a' + i % 26 &&
		     !memcmp(g.buf + at + 1, "0123456789", (size_t) (i % 11));
		at += 1 + (size_t) (i % 11);
	}
	TAP_OK(ok && g.len == at && g.buf[at] == '\0' && g.alloc > at,
	       "1,000 appends across several growths keep every byte and the NUL");
	kiln_buf_release(&g);

	/* add_uint writes what printf's %o, %u and %x write */
	static const uint64_t vals[] = { 0, 1, 7, 8, 9, 10, 0755, 4095, 65534, 4294967295u,
					 UINT64_MAX };
	int same = 1;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		char want[80];
		snprintf(want, sizeof(want), "%llo|%llu|%llx", (unsigned long long) vals[i],
			 (unsigned long long) vals[i], (unsigned long long) vals[i]);
		struct kiln_buf u = KILN_BUF_INIT;
		int r = kiln_buf_add_uint(&u, vals[i], 8);
		r = r < 0 ? r : kiln_buf_addch(&u, '|');
		r = r < 0 ? r : kiln_buf_add_uint(&u, vals[i], 10);
		r = r < 0 ? r : kiln_buf_addch(&u, '|');
		r = r < 0 ? r : kiln_buf_add_uint(&u, vals[i], 16);
		if (r < 0 || strcmp(u.buf, want) != 0) {
			tap_diag("add_uint(%llu): got \"%s\", want \"%s\"",
				 (unsigned long long) vals[i], u.buf, want);
			same = 0;
		}
		kiln_buf_release(&u);
	}
	TAP_OK(same, "add_uint in bases 8, 10 and 16 is printf's %%o, %%u and %%x");
}

static void test_arena_with(struct kiln_arena *a, const char *kind)
{
	tap_diag("%s", kind);
	TAP_OK(a != NULL, "arena");
	if (!a)
		return;
	char *p1 = kiln_arena_strndup_packed(a, "abc", 3);
	char *p2 = kiln_arena_strndup_packed(a, "de", 2);
	TAP_OK(p1 && p2 && p2 == p1 + 4, "packed strings sit back to back");
	TAP_STR_EQ(p1, "abc", "first packed string");
	TAP_STR_EQ(p2, "de", "second packed string");
	long *l = kiln_arena_alloc(a, sizeof(long) * 3);
	TAP_OK(l && ((uintptr_t) l % 16) == 0 && !l[0] && !l[2],
	       "an allocation after packed strings is 16-byte aligned and zeroed");
	char *s = kiln_arena_strndup(a, "x\0y", 3);
	TAP_OK(s && ((uintptr_t) s % 16) == 0 && s[0] == 'x' && s[1] == 0 && s[2] == 'y' &&
		       s[3] == 0,
	       "strndup is aligned, keeps inner NULs and terminates");
	/* many strings: the arena takes more chunks, and none overwrites another */
	int ok = 1;
	char *first = kiln_arena_strndup_packed(a, "first", 5);
	for (int i = 0; i < 20000 && ok; i++) {
		char tmp[32];
		int n = snprintf(tmp, sizeof(tmp), "path/%d", i);
		char *c = kiln_arena_strndup_packed(a, tmp, (size_t) n);
		ok = c && !strcmp(c, tmp);
	}
	TAP_OK(ok && first && !strcmp(first, "first") && !strcmp(p1, "abc"),
	       "20,000 strings over several chunks keep their contents");
	char *big = kiln_arena_alloc(a, 100000);
	char *after = kiln_arena_strndup_packed(a, "after", 5);
	TAP_OK(big && after && !strcmp(after, "after") && big[99999] == 0,
	       "a block bigger than a chunk, then more strings");
	TAP_OK(kiln_arena_strndup_packed(a, "", 0) != NULL, "an empty string");
	kiln_arena_free(a);
}

/*
 * The copy of a string of every length around the short-copy branches (0-3,
 * 4-7, 8-16, longer), packed and aligned, each followed by a zeroed block:
 * no byte of a neighbour is lost or overwritten.
 */
static void test_arena_copies(void)
{
	struct kiln_arena *a = kiln_arena_new_sized(256);
	char src[64];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (char) ('A' + i % 26);
	char *s[2][40];
	int ok = a != NULL;
	for (size_t n = 0; n < 40 && ok; n++) {
		s[0][n] = kiln_arena_strndup_packed(a, src + n % 7, n);
		s[1][n] = kiln_arena_strndup(a, src + n % 5, n);
		unsigned char *z = kiln_arena_alloc(a, 3);
		ok = s[0][n] && s[1][n] && z && !z[0] && !z[1] && !z[2] &&
		     ((uintptr_t) s[1][n] % 16) == 0 && ((uintptr_t) z % 16) == 0;
		z[0] = z[1] = z[2] = 0xff;
	}
	for (size_t n = 0; n < 40 && ok; n++)
		ok = !memcmp(s[0][n], src + n % 7, n) && !s[0][n][n] &&
		     !memcmp(s[1][n], src + n % 5, n) && !s[1][n][n];
	TAP_OK(ok, "strings of 0 to 39 bytes are copied whole and terminated");
	kiln_arena_free(a);

	/* a big block first: it does not become the current chunk */
	a = kiln_arena_new_sized(64);
	char *big = a ? kiln_arena_alloc(a, 1001) : NULL;
	char *x = a ? kiln_arena_strndup(a, "x", 1) : NULL;
	char *y = a ? kiln_arena_strndup_packed(a, "yy", 2) : NULL;
	TAP_OK(big && x && y && !big[1000] && ((uintptr_t) x % 16) == 0 && !strcmp(x, "x") &&
		       !strcmp(y, "yy") && (x < big || x > big + 1000),
	       "a big block as the first request, then small ones in a chunk");
	TAP_OK(a && kiln_arena_array(a, 0, 8) != NULL && kiln_arena_array_uninit(a, 0, 8) != NULL,
	       "zero-sized arrays are not NULL");
	TAP_OK(a && kiln_arena_strndup(a, "z", SIZE_MAX) == NULL &&
		       kiln_arena_array(a, SIZE_MAX / 2, 4) == NULL,
	       "sizes that overflow give NULL");
	kiln_arena_free(a);
}

/* A reset arena is empty again in its first chunk: the same first address, every time. */
static void test_arena_reset(void)
{
	struct kiln_arena *a = kiln_arena_new_sized(256);
	char *first = a ? kiln_arena_strndup(a, "a", 1) : NULL;
	int ok = first != NULL;
	for (int round = 0; round < 3 && ok; round++) {
		/* more chunks, and blocks of their own, to be freed */
		for (int i = 0; i < 100 && ok; i++)
			ok = kiln_arena_strndup_packed(a, "0123456789abcdef", 16) != NULL;
		ok = ok && kiln_arena_alloc(a, 5000) != NULL;
		kiln_arena_reset(a);
		char *again = kiln_arena_strndup(a, "b", 1);
		char *next = kiln_arena_alloc(a, 40);
		ok = ok && again == first && !strcmp(again, "b") && next && !next[39];
	}
	TAP_OK(ok, "a reset arena allocates from its first chunk again");
	kiln_arena_reset(NULL);
	kiln_arena_free(a);
}

/* A growing list: doubled, at least `first` and what is asked, its elements kept. */
static void test_arena_grow_array(void)
{
	struct kiln_arena *a = kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK);
	int *v = NULL;
	size_t n = 0, alloc = 0, allocs[6], k = 0;
	int ok = a != NULL;
	for (int i = 0; ok && i < 100; i++) {
		if (alloc - n < 1) {
			int *nv = kiln_arena_grow_array(a, v, n, &alloc, 1, sizeof(*v), 4);
			ok = nv != NULL;
			v = nv;
			if (k < KILN_ARRAY_SIZE(allocs))
				allocs[k++] = alloc;
		}
		if (ok)
			v[n++] = i * 3;
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = v[i] == (int)i * 3;
	TAP_OK(ok && n == 100, "100 elements appended one by one, all kept");
	TAP_OK(k == 6 && allocs[0] == 4 && allocs[1] == 8 && allocs[2] == 16 && allocs[5] == 128,
	       "room: 4 first, then doubled");
	int *big = ok ? kiln_arena_grow_array(a, v, n, &alloc, 1000, sizeof(*v), 4) : NULL;
	TAP_OK(big && alloc == 1100 && big[99] == 297,
	       "a larger request than double: what it asks");
	size_t before = alloc;
	TAP_OK(!kiln_arena_grow_array(a, big, n, &alloc, SIZE_MAX, sizeof(*v), 4) &&
		       alloc == before,
	       "too large: NULL, the room as it was");
	kiln_arena_free(a);
}

static void test_arena(void)
{
	test_arena_copies();
	test_arena_reset();
	test_arena_grow_array();
	test_arena_with(kiln_arena_new(), "64 KiB chunks");
	test_arena_with(kiln_arena_new_sized(KILN_ARENA_SMALL_CHUNK), "small chunks");
	/* most requests are big blocks of their own, next to the current chunk */
	test_arena_with(kiln_arena_new_sized(64), "64-byte chunks");
	kiln_arena_free(NULL);
	/* chunk sizes below the arena's own bytes, and rounded to 16 */
	for (size_t sz = 1; sz < 70; sz += 7) {
		struct kiln_arena *t = kiln_arena_new_sized(sz);
		char *x = t ? kiln_arena_strndup(t, "0123456789abcdef0123", 20) : NULL;
		char *y = t ? kiln_arena_alloc(t, 5) : NULL;
		TAP_OK(x && y && !strcmp(x, "0123456789abcdef0123") && !y[4] &&
			       ((uintptr_t) y % 16) == 0,
		       "an arena of %zu-byte chunks", sz);
		kiln_arena_free(t);
	}
}

/* kiln_strdup and kiln_strndup of every length around the short-copy branches */
static void test_strdup(void)
{
	char src[48];
	int ok = 1;
	for (size_t n = 0; n < 40 && ok; n++) {
		for (size_t i = 0; i < n; i++)
			src[i] = (char) ('a' + (i + n) % 26);
		src[n] = '\0';
		cleanup_free char *d = kiln_strdup(src);
		cleanup_free char *e = kiln_strndup(src, n + 5);
		ok = d && e && strlen(d) == n && !strcmp(d, src) && !strcmp(e, src);
	}
	TAP_OK(ok, "strdup and strndup of 0 to 39 bytes");
}

static void test_strv(void)
{
	cleanup(kiln_strv_release) struct kiln_strv v = KILN_STRV_INIT;
	for (int i = 0; i < 20; i++) {
		char s[8];
		snprintf(s, sizeof(s), "s%d", i);
		if (kiln_strv_push(&v, s) < 0)
			break;
	}
	TAP_INT_EQ(v.len, 20, "20 pushed");
	TAP_OK(v.items[20] == NULL, "NULL-terminated");
	TAP_INT_EQ(kiln_strv_find(&v, "s13"), 13, "find");
	TAP_INT_EQ(kiln_strv_find(&v, "x"), -1, "find missing");

	/* release: of a vector that never held an item, of one that did, twice */
	struct kiln_strv e = KILN_STRV_INIT;
	kiln_strv_release(&e);
	TAP_OK(!e.items && !e.len && !e.alloc, "releasing an empty vector leaves it empty");
	int ok = kiln_strv_push(&e, "a") == 0 && kiln_strv_pushn(&e, "bcd", 2) == 0 && e.len == 2 &&
		 !strcmp(e.items[1], "bc");
	kiln_strv_release(&e);
	TAP_OK(ok && !e.items && !e.len && !e.alloc, "releasing a used vector empties it");
	kiln_strv_release(&e);
	TAP_OK(!e.items && !e.len && !e.alloc, "and releasing it again is harmless");
}

static void test_cpus(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	size_t all = kiln_cpus(0);
	TAP_INT_EQ(all, online > 1 ? online : 1, "every online CPU without a bound");
	TAP_INT_EQ(kiln_cpus(1), 1, "bounded by 1");
	TAP_INT_EQ(kiln_cpus(all + 1), all, "a bound above the CPUs changes nothing");
}

static void *report_mask(void *arg)
{
	(void)pthread_sigmask(SIG_BLOCK, NULL, (sigset_t *)arg);
	return NULL;
}

/* kiln's threads leave asynchronous signals to the thread that handles them */
static void test_thread_start(void)
{
	sigset_t before, after, in_thread;
	sigemptyset(&in_thread);
	(void)pthread_sigmask(SIG_BLOCK, NULL, &before);
	pthread_t tid;
	TAP_INT_EQ(kiln_thread_start(&tid, report_mask, &in_thread), 0, "thread started");
	TAP_INT_EQ(pthread_join(tid, NULL), 0, "thread joined");
	TAP_OK(sigismember(&in_thread, SIGINT) == 1 && sigismember(&in_thread, SIGTERM) == 1 &&
		       sigismember(&in_thread, SIGHUP) == 1 && sigismember(&in_thread, SIGWINCH) == 1,
	       "SIGINT, SIGTERM, SIGHUP and SIGWINCH are blocked in the thread");
	TAP_OK(sigismember(&in_thread, SIGSEGV) == 0 && sigismember(&in_thread, SIGBUS) == 0,
	       "faults are not");
	(void)pthread_sigmask(SIG_BLOCK, NULL, &after);
	TAP_OK(sigismember(&after, SIGINT) == sigismember(&before, SIGINT) &&
		       sigismember(&after, SIGTERM) == sigismember(&before, SIGTERM),
	       "the caller's mask is as it was");
}

/* What a thread started apart saw when it began. */
struct apart_seen {
	int cpu;
	cpu_set_t allowed;
	sigset_t mask;
};

static void *report_apart(void *arg)
{
	struct apart_seen *seen = arg;
	seen->cpu = sched_getcpu();
	(void)sched_getaffinity(0, sizeof(seen->allowed), &seen->allowed);
	(void)pthread_sigmask(SIG_BLOCK, NULL, &seen->mask);
	return seen;
}

/* Started on another CPU than the caller's, then free to run on any the caller may use. */
static void test_thread_start_apart(void)
{
	cpu_set_t saved, two;
	if (sched_getaffinity(0, sizeof(saved), &saved) < 0) {
		TAP_OK(0, "sched_getaffinity");
		return;
	}
	/* the caller on two CPUs: the thread can only be placed on the other */
	int here = sched_getcpu(), other = -1;
	for (int c = 0; c < CPU_SETSIZE && other < 0; c++)
		if (c != here && CPU_ISSET(c, &saved))
			other = c;
	CPU_ZERO(&two);
	CPU_SET(here, &two);
	if (other >= 0)
		CPU_SET(other, &two);
	TAP_INT_EQ(sched_setaffinity(0, sizeof(two), &two), 0, "the caller on %d CPU(s)",
		   CPU_COUNT(&two));
	struct apart_seen seen = { .cpu = -1 };
	pthread_t tid;
	void *ret = NULL;
	int before = sched_getcpu();
	TAP_INT_EQ(kiln_thread_start_apart(&tid, report_apart, &seen), 0, "thread started apart");
	int after = sched_getcpu();
	TAP_OK(pthread_join(tid, &ret) == 0 && ret == &seen,
	       "it ran its function with its argument");
	TAP_OK(CPU_EQUAL(&seen.allowed, &two), "it may run on every CPU the caller may");
	TAP_OK(sigismember(&seen.mask, SIGINT) == 1 && sigismember(&seen.mask, SIGSEGV) == 0,
	       "SIGINT blocked in it, faults not");
	if (other < 0)
		TAP_OK(1, "# SKIP one CPU: no other to start on");
	else if (before != after)
		TAP_OK(1, "# SKIP the caller moved between CPUs during the start");
	else
		TAP_OK(seen.cpu >= 0 && seen.cpu != before,
		       "it began on CPU %d, not the caller's %d", seen.cpu, before);
	/* one CPU allowed: an ordinary start */
	CPU_ZERO(&two);
	CPU_SET(sched_getcpu(), &two);
	(void)sched_setaffinity(0, sizeof(two), &two);
	seen.cpu = -1;
	TAP_INT_EQ(kiln_thread_start_apart(&tid, report_apart, &seen), 0, "started on one CPU");
	TAP_OK(pthread_join(tid, NULL) == 0 && CPU_EQUAL(&seen.allowed, &two) && seen.cpu >= 0 &&
		       CPU_ISSET(seen.cpu, &two),
	       "and ran there");
	(void)sched_setaffinity(0, sizeof(saved), &saved);
}

static void test_digest(void)
{
	struct kiln_digest d;
	TAP_INT_EQ(kiln_sha256_buf("abc", 3, &d, NULL), 0, "sha256 of abc");
	TAP_STR_EQ(d.str, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		   "known vector");
	TAP_OK(kiln_digest_is_hex(d.hex), "its hex is 64 lower-case hex digits");
	char hx[66];
	memcpy(hx, d.hex, 65);
	hx[0] = 'A';
	TAP_OK(!kiln_digest_is_hex(hx), "an upper-case digit is not");
	hx[0] = 'g';
	TAP_OK(!kiln_digest_is_hex(hx), "nor a letter past f");
	TAP_OK(!kiln_digest_is_hex(d.hex + 1) && !kiln_digest_is_hex(""),
	       "nor 63 digits, nor none");
	memcpy(hx, d.hex, 64);
	hx[64] = '0';
	hx[65] = '\0';
	TAP_OK(!kiln_digest_is_hex(hx), "nor 65");
	struct kiln_sha256 *h = NULL;
	TAP_INT_EQ(kiln_sha256_new(&h, NULL), 0, "streaming");
	kiln_sha256_update(h, "a", 1);
	kiln_sha256_update(h, "bc", 2);
	struct kiln_digest d2;
	kiln_sha256_final(h, &d2);
	TAP_OK(kiln_digest_equal(&d, &d2), "streaming equals one-shot");
	/* final starts a new message: the lint fingerprints reuse one context */
	kiln_sha256_update(h, "abc", 3);
	kiln_sha256_final(h, &d2);
	TAP_OK(kiln_digest_equal(&d, &d2), "a second message on the same context");
	kiln_sha256_final(h, &d2);
	TAP_STR_EQ(d2.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   "the empty message");
	/* FIPS 180-2's million 'a's, in updates of 1 to 997 bytes across block edges */
	static char as[997];
	memset(as, 'a', sizeof(as));
	size_t left = 1000000, step = 1;
	while (left) {
		size_t n = step < left ? step : left;
		kiln_sha256_update(h, as, n);
		left -= n;
		step = step % sizeof(as) + 1;
	}
	kiln_sha256_final(h, &d2);
	kiln_sha256_free(h);
	TAP_STR_EQ(d2.hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		   "a million a's in uneven pieces");
	struct kiln_digest big;
	char *million = kiln_malloc(1000000);
	TAP_OK(million != NULL, "a million bytes");
	if (million) {
		memset(million, 'a', 1000000);
		kiln_sha256_buf(million, 1000000, &big, NULL);
		free(million);
		TAP_OK(kiln_digest_equal(&big, &d2), "and in one piece");
	}
	struct kiln_digest p;
	TAP_INT_EQ(kiln_digest_parse(d.str, &p, NULL), 0, "parse back");
	TAP_OK(kiln_digest_equal(&d, &p), "parsed equals");
	TAP_INT_EQ(kiln_digest_parse("sha256:ABC", &p, NULL), -KILN_EINVAL, "short/upper rejected");
	TAP_INT_EQ(kiln_digest_parse("sha512:00", &p, NULL), -KILN_EUNSUPP, "sha512 unsupported");
	TAP_INT_EQ(kiln_digest_parse("nocolon", &p, NULL), -KILN_EINVAL, "no colon");
}

static void test_fs(void)
{
	char tmpl[] = "/tmp/kiln-test-base-XXXXXX";
	char *dir = mkdtemp(tmpl);
	TAP_OK(dir != NULL, "mkdtemp");
	if (!dir)
		return;
	cleanup_free char *deep = kiln_asprintf("%s/a/b/c", dir);
	TAP_INT_EQ(kiln_mkdir_p(deep, 0755, NULL), 0, "mkdir -p");
	TAP_INT_EQ(kiln_mkdir_p(deep, 0755, NULL), 0, "mkdir -p again");
	cleanup_free char *f = kiln_asprintf("%s/a/file", dir);
	TAP_INT_EQ(kiln_write_file_atomic(f, "hello", 5, 0644, NULL), 0, "atomic write");
	cleanup_free char *data = NULL;
	size_t len = 0;
	TAP_INT_EQ(kiln_read_file(f, 100, &data, &len, NULL), 0, "read back");
	TAP_STR_EQ(data, "hello", "content");
	/* the xattrs of a name in a directory, a symlink's own */
	cleanup_free char *adir = kiln_asprintf("%s/a", dir);
	cleanup_free char *lnk = kiln_asprintf("%s/a/link", dir);
	int afd = open(adir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	TAP_INT_EQ(kiln_listxattrat(afd, "file", NULL, 0), 0, "listxattrat: none");
	char names[64] = "";
	ssize_t nx = setxattr(f, "user.kiln", "1", 1, 0) == 0
			     ? kiln_listxattrat(afd, "file", names, sizeof(names))
			     : -1;
	TAP_OK(nx == 10 && !strcmp(names, "user.kiln"), "listxattrat: one, by name");
	TAP_OK(symlink("file", lnk) == 0 && kiln_listxattrat(afd, "link", NULL, 0) == 0,
	       "listxattrat: a symlink's own, not its target's");
	errno = 0;
	TAP_OK(kiln_listxattrat(afd, "nope", NULL, 0) < 0 && errno == ENOENT,
	       "listxattrat: a missing name");
	if (afd >= 0)
		(void) close(afd);
	int wfd = open(f, O_RDWR | O_CLOEXEC);
	int pw = wfd >= 0 ? kiln_pwrite_all(wfd, "XY", 2, 1) : -1;
	pw = pw < 0 ? pw : kiln_pwrite_all(wfd, "!", 1, 7);
	if (wfd >= 0)
		(void) close(wfd);
	cleanup_free char *patched = NULL;
	TAP_OK(pw == 0 && kiln_read_file(f, 100, &patched, &len, NULL) == 0 && len == 8 &&
		       !memcmp(patched, "hXYlo\0\0!", 8),
	       "pwrite_all writes at its offsets, past the end too");
	TAP_INT_EQ(kiln_pwrite_all(-1, "x", 1, 0), -EBADF, "pwrite_all says why it failed");
	TAP_OK(kiln_write_file_atomic(f, "hello", 5, 0644, NULL) == 0, "the file back");
	struct kiln_error err = KILN_ERROR_INIT;
	char *d2 = NULL;
	TAP_INT_EQ(kiln_read_file(f, 3, &d2, &len, &err), -KILN_ELIMIT, "limit enforced");
	kiln_error_release(&err);
	cleanup_free char *missing = kiln_asprintf("%s/nope", dir);
	TAP_INT_EQ(kiln_read_file(missing, 3, &d2, &len, &err), -KILN_ENOTFOUND, "missing file");
	kiln_error_release(&err);
	TAP_INT_EQ(kiln_rm_rf(dir, NULL), 0, "rm -rf");
	struct stat st;
	TAP_OK(stat(dir, &st) < 0 && errno == ENOENT, "tree gone");
}

/* Pipe writer for test_read_sizes: its bytes in small writes, so that reads come back short. */
struct chunked_writer {
	int fd;
	const char *data;
	size_t len;
};

static void *write_chunked(void *arg)
{
	struct chunked_writer *w = arg;
	for (size_t off = 0; off < w->len;) {
		size_t n = w->len - off < 1000 ? w->len - off : 1000;
		if (kiln_write_all(w->fd, w->data + off, n) < 0)
			break;
		off += n;
		usleep(200);
	}
	(void)close(w->fd);
	return NULL;
}

/* Regular files end where fstat() says without a last read(); pipes read on after short reads. */
static void test_read_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 65535, 65536, 65537, 300001 };
	char *pattern = malloc(300001);
	char tmpl[] = "/tmp/kiln-test-read-XXXXXX";
	char *dir = pattern ? mkdtemp(tmpl) : NULL;
	TAP_OK(dir != NULL, "mkdtemp");
	if (!dir) {
		free(pattern);
		return;
	}
	for (size_t i = 0; i < 300001; i++)
		pattern[i] = (char)('a' + (i * 7) % 26);
	cleanup_free char *f = kiln_asprintf("%s/f", dir);
	for (size_t k = 0; k < KILN_ARRAY_SIZE(sizes); k++) {
		size_t n = sizes[k];
		char *data = NULL;
		size_t len = 0;
		int ok = kiln_write_file_atomic(f, pattern, n, 0644, NULL) == 0 &&
			 kiln_read_file(f, 1 << 20, &data, &len, NULL) == 0 && len == n &&
			 !memcmp(data, pattern, n) && data[n] == 0;
		TAP_OK(ok, "a file of %zu bytes read whole", n);
		free(data);
	}
	int p[2];
	(void)signal(SIGPIPE, SIG_IGN); /* the writer fails, not the test, if the reader stops */
	TAP_INT_EQ(pipe(p), 0, "pipe");
	struct chunked_writer w = { .fd = p[1], .data = pattern, .len = 300001 };
	pthread_t t;
	if (pthread_create(&t, NULL, write_chunked, &w) == 0) {
		char *data = NULL;
		size_t len = 0;
		int r = kiln_read_fd(p[0], 1 << 20, &data, &len, NULL);
		/* a reader that stopped early must not leave the writer blocked */
		(void)close(p[0]);
		pthread_join(t, NULL);
		TAP_OK(r == 0 && len == 300001 && !memcmp(data, pattern, len),
		       "a pipe written in small pieces read to its end");
		free(data);
	} else {
		(void)close(p[0]);
		(void)close(p[1]);
	}
	free(pattern);
	TAP_INT_EQ(kiln_rm_rf(dir, NULL), 0, "rm -rf");
}

/* Output files the user names: replaced whole, or written in place when
 * they are not regular files. */
static void test_output(void)
{
	char tmpl[] = "/tmp/kiln-test-output-XXXXXX";
	char *dir = mkdtemp(tmpl);
	TAP_OK(dir != NULL, "mkdtemp");
	if (!dir)
		return;
	cleanup_free char *f = kiln_asprintf("%s/out.txt", dir);
	cleanup_free char *link = kiln_asprintf("%s/link", dir);
	cleanup_free char *fifo = kiln_asprintf("%s/fifo", dir);
	cleanup_free char *sub = kiln_asprintf("%s/sub", dir);
	cleanup_free char *data = NULL;
	size_t len = 0;
	TAP_OK(kiln_output_write(f, "one", 3, 0644, NULL) == 0 &&
		       kiln_read_file(f, 100, &data, &len, NULL) == 0 && !strcmp(data, "one"),
	       "output: a new file");
	struct kiln_output_file o;
	struct stat st;
	int r = kiln_output_open(f, 0644, &o, NULL);
	if (r == 0) {
		(void) kiln_write_all(o.fd, "half", 4);
		kiln_output_abort(&o);
	}
	free(data);
	data = NULL;
	TAP_OK(r == 0 && kiln_read_file(f, 100, &data, &len, NULL) == 0 && !strcmp(data, "one"),
	       "output: an abandoned write leaves the file as it was");
	TAP_OK(symlink("out.txt", link) == 0 && kiln_output_write(link, "two", 3, 0644, NULL) == 0 &&
		       lstat(link, &st) == 0 && S_ISLNK(st.st_mode),
	       "output: a symlink stays a symlink");
	free(data);
	data = NULL;
	TAP_OK(kiln_read_file(f, 100, &data, &len, NULL) == 0 && !strcmp(data, "two"),
	       "output: the file it names is replaced");
	int rfd = mkfifo(fifo, 0644) == 0 ? open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC) : -1;
	char buf[8] = { 0 };
	TAP_OK(rfd >= 0 && kiln_output_write(fifo, "three", 5, 0644, NULL) == 0 &&
		       read(rfd, buf, sizeof(buf)) == 5 && !memcmp(buf, "three", 5) &&
		       lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode),
	       "output: a fifo is written to, not replaced");
	if (rfd >= 0)
		(void) close(rfd);
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_OK(mkdir(sub, 0755) == 0 && kiln_output_write(sub, "x", 1, 0644, &err) < 0 &&
		       err.msg && strstr(err.msg, "is a directory"),
	       "output: a directory is refused");
	kiln_error_release(&err);
	struct kiln_output_dir od;
	cleanup_free char *newdir = kiln_asprintf("%s/new/tree", dir);
	cleanup_free char *inner = NULL;
	r = kiln_output_dir_open(newdir, &od, NULL);
	TAP_OK(r == 0 && strcmp(kiln_output_dir_at(&od), newdir) != 0 &&
		       stat(newdir, &st) < 0,
	       "output dir: a new one is written under another name");
	inner = r == 0 ? kiln_asprintf("%s/f", kiln_output_dir_at(&od)) : NULL;
	TAP_OK(inner && kiln_write_file_atomic(inner, "x", 1, 0644, NULL) == 0 &&
		       kiln_output_dir_commit(&od, NULL) == 0 && stat(newdir, &st) == 0 &&
		       S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
	       "output dir: committed, it is in place");
	kiln_output_dir_abort(&od);
	cleanup_free char *gone = kiln_asprintf("%s/gone", dir);
	r = kiln_output_dir_open(gone, &od, NULL);
	cleanup_free char *tmpd = r == 0 ? kiln_strdup(kiln_output_dir_at(&od)) : NULL;
	kiln_output_dir_abort(&od);
	TAP_OK(tmpd && stat(tmpd, &st) < 0 && stat(gone, &st) < 0,
	       "output dir: abandoned, nothing is left");
	TAP_OK(kiln_output_dir_open(sub, &od, NULL) == 0 &&
		       !strcmp(kiln_output_dir_at(&od), sub) && kiln_output_dir_commit(&od, NULL) == 0,
	       "output dir: one that exists is written in place");
	kiln_output_dir_abort(&od);
	TAP_INT_EQ(kiln_rm_rf(dir, NULL), 0, "output: cleaned up");
}

int main(void)
{
	test_error();
	test_buf();
	test_arena();
	test_strdup();
	test_strv();
	test_cpus();
	test_thread_start();
	test_thread_start_apart();
	test_digest();
	test_fs();
	test_read_sizes();
	test_output();
	return tap_done();
}
