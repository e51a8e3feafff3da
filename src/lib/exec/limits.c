/* SPDX-License-Identifier: Apache-2.0 */
/* The process's limits as docker's flags give them: --ulimit and --shm-size. */
#include "exec/exec.h"

#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "core", RLIMIT_CORE },	 { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },	 { "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS },	 { "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },	 { "nproc", RLIMIT_NPROC },
	{ "rss", RLIMIT_RSS },		 { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME },	 { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

const char *kiln_exec_rlimit_name(int resource)
{
	for (size_t i = 0; i < KILN_ARRAY_SIZE(rlimit_names); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

/* a limit: a decimal number, or -1 / "unlimited" */
static int limit_value(const char *s, size_t n, uint64_t *ret)
{
	if ((n == 2 && !memcmp(s, "-1", 2)) || (n == 9 && !memcmp(s, "unlimited", 9))) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (!n || n > 20)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int kiln_exec_rlimit_parse(const char *spec, struct kiln_exec_rlimit *ret,
			   struct kiln_error *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid ulimit argument: %s", spec);
	size_t nn = (size_t) (eq - spec), i = 0;
	while (i < KILN_ARRAY_SIZE(rlimit_names) &&
	       !(strlen(rlimit_names[i].name) == nn && !memcmp(rlimit_names[i].name, spec, nn)))
		i++;
	if (i == KILN_ARRAY_SIZE(rlimit_names))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid ulimit type: %.*s", (int) nn, spec);
	const char *v = eq + 1, *colon = strchr(v, ':');
	struct kiln_exec_rlimit r = { .resource = rlimit_names[i].resource };
	if (limit_value(v, colon ? (size_t) (colon - v) : strlen(v), &r.soft) < 0 ||
	    (colon && limit_value(colon + 1, strlen(colon + 1), &r.hard) < 0))
		return kiln_fail(err, KILN_EINVAL, 0, "invalid ulimit argument: %s", spec);
	if (!colon)
		r.hard = r.soft;
	if (r.soft > r.hard)
		return kiln_fail(err, KILN_EINVAL, 0,
				 "ulimit soft limit must be less than or equal to hard limit: %s",
				 spec);
	*ret = r;
	return 0;
}

int kiln_exec_size_parse(const char *s, uint64_t *ret, struct kiln_error *err)
{
	size_t n = strlen(s);
	uint64_t mul = 1;
	if (n && strchr("bBkKmMgG", s[n - 1])) {
		char u = (char) (s[n - 1] | 0x20);
		mul = u == 'k' ? 1024 : u == 'm' ? 1024 * 1024 : u == 'g' ? 1024 * 1024 * 1024 : 1;
		n--;
	}
	uint64_t v;
	if (limit_value(s, n, &v) < 0 || v == UINT64_MAX || v > UINT64_MAX / mul)
		return kiln_fail(err, KILN_EINVAL, 0, "invalid size: '%s'", s);
	*ret = v * mul;
	return 0;
}
