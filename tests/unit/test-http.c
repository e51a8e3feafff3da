/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The http module. With libcurl loaded by dlopen(): it is not mapped until
 * kiln_http_load(), is loaded once however many threads ask at the same
 * moment, and a libcurl that cannot be loaded gives one clear, lasting error.
 * With libcurl linked (KILN_TEST_HTTP_LINKED): no libcurl.so is ever mapped,
 * it speaks http and https only, over mbedTLS, and the table is the same for
 * every thread. Both: the table's functions work.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "http/http.h"
#include "tap.h"

#define THREADS 8
#define PREFIX KILN_HTTP_CURL_SONAME " cannot be loaded: "

static int curl_mapped(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int found = 0;
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/libcurl.so") != NULL;
	fclose(f);
	return found;
}

#ifndef KILN_TEST_HTTP_LINKED
/* The path libcurl.so.4 resolves to, found in a child so that this process never maps it. */
static int curl_path(char *buf, size_t size)
{
	int fds[2];
	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		void *h = dlopen(KILN_HTTP_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
		struct link_map *lm = NULL;
		if (h && dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name)
			(void) !write(fds[1], lm->l_name, strlen(lm->l_name));
		_exit(0);
	}
	close(fds[1]);
	ssize_t n = pid > 0 ? read(fds[0], buf, size - 1) : -1;
	close(fds[0]);
	if (pid > 0)
		(void) waitpid(pid, NULL, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/*
 * In a child with its own mount namespace, /dev/null over libcurl.so.4:
 * loading fails with the library's name and the loader's reason, twice.
 */
static void test_missing(void)
{
	char path[4096];
	if (geteuid() != 0 || curl_path(path, sizeof(path)) < 0) {
		tap_skip("needs root and an installed libcurl.so.4",
			 "a missing libcurl is reported");
		tap_skip("needs root and an installed libcurl.so.4", "the failure lasts");
		return;
	}
	int fds[2];
	if (pipe(fds) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		char out[1024] = "";
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
			snprintf(out, sizeof(out), "SKIP cannot hide libcurl.so.4 (%s)",
				 strerror(errno));
		} else {
			const struct kiln_http_curl *curl = NULL;
			struct kiln_error e1 = KILN_ERROR_INIT, e2 = KILN_ERROR_INIT;
			int r1 = kiln_http_load(&curl, &e1);
			int r2 = kiln_http_load(&curl, &e2);
			snprintf(out, sizeof(out), "%d %d %d %s\n%s", r1, r2, curl == NULL,
				 e1.msg ? e1.msg : "", e2.msg ? e2.msg : "");
			kiln_error_release(&e1);
			kiln_error_release(&e2);
		}
		(void) !write(fds[1], out, strlen(out));
		_exit(0);
	}
	close(fds[1]);
	char buf[2048] = "";
	ssize_t n = pid > 0 ? read(fds[0], buf, sizeof(buf) - 1) : -1;
	close(fds[0]);
	if (pid > 0)
		(void) waitpid(pid, NULL, 0);
	buf[n > 0 ? n : 0] = 0;
	if (strncmp(buf, "SKIP ", 5) == 0) {
		tap_skip(buf + 5, "a missing libcurl is reported");
		tap_skip(buf + 5, "the failure lasts");
		return;
	}
	int r1 = 0, r2 = 0, untouched = 0, off = 0;
	(void) sscanf(buf, "%d %d %d %n", &r1, &r2, &untouched, &off);
	const char *msg1 = buf + off;
	char *nl = strchr(buf + off, '\n');
	const char *msg2 = nl ? nl + 1 : "";
	if (nl)
		*nl = 0;
	tap_diag("%s", msg1);
	TAP_OK(r1 == -KILN_EUNSUPP && untouched && strncmp(msg1, PREFIX, strlen(PREFIX)) == 0 &&
		       strstr(msg1, "libcurl4") != NULL,
	       "a missing libcurl is reported: KILN_EUNSUPP, the library, the reason, the package");
	TAP_OK(r2 == -KILN_EUNSUPP && strcmp(msg1, msg2) == 0,
	       "the failure lasts: a second call says the same");
}
#endif

static void *load_thread(void *arg)
{
	const struct kiln_http_curl **ret = arg;
	if (kiln_http_load(ret, NULL) < 0)
		*ret = NULL;
	return NULL;
}

static void test_load(void)
{
	TAP_INT_EQ(curl_mapped(), 0, "libcurl.so is not mapped before the first load");

	const struct kiln_http_curl *got[THREADS] = { NULL };
	pthread_t t[THREADS];
	int started = 0;
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, load_thread, &got[i]) == 0)
			started++;
		else
			break;
	for (int i = 0; i < started; i++)
		(void) pthread_join(t[i], NULL);
	int same = started == THREADS && got[0] != NULL;
	for (int i = 1; i < THREADS; i++)
		same = same && got[i] == got[0];
	TAP_OK(same, "%d threads loading at once get the same table", THREADS);
#ifdef KILN_TEST_HTTP_LINKED
	TAP_INT_EQ(curl_mapped(), 0, "libcurl.so is not mapped after it either: libcurl is linked");
#else
	TAP_INT_EQ(curl_mapped(), 1, "libcurl.so is mapped after it");
#endif

	const struct kiln_http_curl *curl = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	TAP_INT_EQ(kiln_http_load(&curl, &err), 0, "a later load succeeds");
	TAP_OK(curl == got[0], "and returns the same table");
	kiln_error_release(&err);
	if (!curl)
		return;

	const curl_version_info_data *v = curl->version_info(CURLVERSION_NOW);
	TAP_OK(v && v->version_num >= KILN_HTTP_CURL_MIN, "libcurl %s is at least %s",
	       v ? v->version : "?", KILN_HTTP_CURL_MIN_STR);
	TAP_OK(strncmp(curl->version(), "libcurl/", 8) == 0, "curl_version: %s", curl->version());
#ifdef KILN_TEST_HTTP_LINKED
	int protocols = 0, other = 0;
	for (const char *const *p = v ? v->protocols : NULL; p && *p; p++)
		if (strcmp(*p, "http") == 0 || strcmp(*p, "https") == 0)
			protocols++;
		else
			other++;
	TAP_OK(protocols == 2 && other == 0, "the linked libcurl speaks http and https only");
	TAP_OK(v && v->ssl_version && strncmp(v->ssl_version, "mbedTLS/", 8) == 0,
	       "over mbedTLS: %s", v && v->ssl_version ? v->ssl_version : "(none)");
	TAP_OK(v && !(v->features & (CURL_VERSION_LIBZ | CURL_VERSION_HTTP2 | CURL_VERSION_IDN)),
	       "without zlib, HTTP/2 or IDN: nothing it would map or set up for kiln's requests");
#endif
	TAP_STR_EQ(curl->easy_strerror(CURLE_OK), "No error", "curl_easy_strerror");

	CURL *h = curl->easy_init();
	TAP_OK(h != NULL, "curl_easy_init");
	TAP_INT_EQ(curl->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"), CURLE_OK,
		   "curl_easy_setopt (CURLOPT_PROTOCOLS_STR, which 7.85 added)");
	curl->easy_cleanup(h);

	struct curl_slist *l = curl->slist_append(NULL, "Expect:");
	TAP_OK(l && strcmp(l->data, "Expect:") == 0, "curl_slist_append");
	curl->slist_free_all(l);

	TAP_OK(curl->getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL) == 1445412480,
	       "curl_getdate (an HTTP date)");

	CURLM *m = curl->multi_init();
	CURLSH *s = curl->share_init();
	TAP_OK(m && s, "curl_multi_init and curl_share_init");
	TAP_INT_EQ(curl->share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS), CURLSHE_OK,
		   "curl_share_setopt");
	TAP_INT_EQ(curl->multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 4L), CURLM_OK,
		   "curl_multi_setopt");
	(void) curl->multi_cleanup(m);
	(void) curl->share_cleanup(s);
}

int main(void)
{
#ifndef KILN_TEST_HTTP_LINKED
	test_missing(); /* first: the children must start without libcurl */
#endif
	test_load();
	return tap_done();
}
