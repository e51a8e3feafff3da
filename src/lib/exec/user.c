/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Users and groups from a root filesystem's /etc/passwd and /etc/group, with
 * the rules Docker and BuildKit apply to USER and `-u` (moby/sys/user's
 * GetExecUser): see kiln_exec_user_parse() in exec.h.
 */
#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ID_MAX 2147483647L

/* One line of passwd or group split at ':' (at most `max` fields). */
struct fields {
	const char *f[7];
	size_t len[7];
	size_t n;
};

static void split_fields(const char *line, size_t len, size_t max, struct fields *out)
{
	size_t start = 0;
	out->n = 0;
	for (size_t i = 0; i <= len && out->n < max; i++) {
		if (i == len || line[i] == ':') {
			out->f[out->n] = line + start;
			out->len[out->n] = i - start;
			out->n++;
			start = i + 1;
		}
	}
}

static int field_eq(const struct fields *fl, size_t i, const char *s)
{
	if (i >= fl->n)
		return s[0] == '\0';
	return fl->len[i] == strlen(s) && memcmp(fl->f[i], s, fl->len[i]) == 0;
}

/* Parse a decimal id with an optional sign. 0 on success, -1 if not a number,
 * -2 if out of range (like strconv.Atoi followed by moby's range check). */
static int parse_id(const char *s, size_t len, long *ret)
{
	size_t i = 0;
	int neg = 0, big = 0;
	unsigned long long v = 0;
	if (len && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v <= (unsigned long long) ID_MAX)
			v = v * 10 + (unsigned) (s[i] - '0');
		else
			big = 1;
	}
	if (big || v > (unsigned long long) ID_MAX || (neg && v != 0))
		return -2;
	*ret = (long) v;
	return 0;
}

/* A numeric field of passwd/group; unparsable numbers read as 0 as moby's
 * parser does (it ignores Atoi errors). */
static long field_id(const struct fields *fl, size_t i)
{
	long v = 0;
	if (i >= fl->n || parse_id(fl->f[i], fl->len[i], &v) < 0)
		return 0;
	return v;
}

/* Iterate over the trimmed, non-empty lines of a file's contents. */
struct lines {
	const char *p, *end;
};

static int next_line(struct lines *it, const char **ret, size_t *ret_len)
{
	while (it->p && it->p < it->end) {
		const char *nl = memchr(it->p, '\n', (size_t) (it->end - it->p));
		const char *e = nl ? nl : it->end;
		const char *s = it->p;
		it->p = nl ? nl + 1 : it->end;
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (e > s) {
			*ret = s;
			*ret_len = (size_t) (e - s);
			return 1;
		}
	}
	return 0;
}

static int lists_member(const struct fields *fl, const char *name)
{
	if (fl->n < 4 || !name)
		return 0;
	const char *p = fl->f[3], *end = fl->f[3] + fl->len[3];
	size_t nlen = strlen(name);
	while (p <= end) {
		const char *c = memchr(p, ',', (size_t) (end - p));
		const char *e = c ? c : end;
		if ((size_t) (e - p) == nlen && memcmp(p, name, nlen) == 0)
			return 1;
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

void kiln_exec_user_release(struct kiln_exec_user *u)
{
	if (!u)
		return;
	free(u->groups);
	free(u->home);
	u->groups = NULL;
	u->home = NULL;
	u->n_groups = 0;
}

static int add_group(struct kiln_exec_user *u, size_t *alloc, gid_t g, struct kiln_error *err)
{
	if (u->n_groups >= KILN_EXEC_MAX_GROUPS)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d supplementary groups",
				 KILN_EXEC_MAX_GROUPS);
	if (u->n_groups == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 8;
		gid_t *n = kiln_reallocarray(u->groups, na, sizeof(*n));
		if (!n)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		u->groups = n;
		*alloc = na;
	}
	u->groups[u->n_groups++] = g;
	return 0;
}

int kiln_exec_user_add_primary(struct kiln_exec_user *u)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == u->gid)
			return 0;
	gid_t *n = kiln_reallocarray(u->groups, u->n_groups + 1, sizeof(*n));
	if (!n)
		return -KILN_ENOMEM;
	u->groups = n;
	u->groups[u->n_groups++] = u->gid;
	return 0;
}

int kiln_exec_user_parse(const char *spec, const char *passwd, size_t passwd_len, const char *group,
			 size_t group_len, struct kiln_exec_user *ret, struct kiln_error *err)
{
	struct kiln_exec_user u = { .uid = 0, .gid = 0 };
	cleanup_free char *user_arg = NULL;
	cleanup_free char *group_arg = NULL;
	cleanup_free char *matched = NULL;
	cleanup_free char *home = NULL;
	int r;

	if (!spec)
		spec = "";
	const char *colon = strchr(spec, ':');
	user_arg = colon ? kiln_strndup(spec, (size_t) (colon - spec)) : kiln_strdup(spec);
	if (colon) {
		/* "a:b:c" uses a and b, as moby's parseLine does */
		const char *g = colon + 1;
		const char *c2 = strchr(g, ':');
		group_arg = c2 ? kiln_strndup(g, (size_t) (c2 - g)) : kiln_strdup(g);
	} else {
		group_arg = kiln_strdup("");
	}
	if (!user_arg || !group_arg)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	long uid_num = 0, gid_num = 0;
	int uid_r = parse_id(user_arg, strlen(user_arg), &uid_num);
	int gid_r = parse_id(group_arg, strlen(group_arg), &gid_num);
	int uid_numeric = uid_r != -1, gid_numeric = gid_r != -1;
	/* An empty user is root without supplementary groups (BuildKit's fast path). */
	int implicit_root = user_arg[0] == '\0' && group_arg[0] == '\0';

	/* the user */
	int found = 0;
	struct lines it = { passwd, passwd ? passwd + passwd_len : NULL };
	const char *line;
	size_t len;
	while (next_line(&it, &line, &len)) {
		struct fields fl;
		split_fields(line, len, 7, &fl);
		int match;
		if (user_arg[0] == '\0')
			match = field_id(&fl, 2) == 0;
		else if (uid_numeric)
			match = uid_r == 0 && field_id(&fl, 2) == uid_num;
		else
			match = field_eq(&fl, 0, user_arg);
		if (!match)
			continue;
		found = 1;
		u.uid = (uid_t) field_id(&fl, 2);
		u.gid = (gid_t) field_id(&fl, 3);
		matched = kiln_strndup(fl.f[0], fl.len[0]);
		home = fl.n > 5 ? kiln_strndup(fl.f[5], fl.len[5]) : kiln_strdup("/");
		if (!matched || !home)
			return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
		break;
	}
	if (!found && user_arg[0] != '\0') {
		if (!uid_numeric)
			return kiln_fail(
				err, KILN_ENOTFOUND, 0,
				"unable to find user %s: no matching entries in passwd file",
				user_arg);
		if (uid_r == -2)
			return kiln_fail(err, KILN_EINVAL, 0,
					 "user %s: uids and gids must be in range 0-%ld", user_arg,
					 ID_MAX);
		u.uid = (uid_t) uid_num;
	}
	if (!home && !(home = kiln_strdup("/")))
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	/* the groups */
	size_t alloc = 0;
	if (!implicit_root && (group_arg[0] != '\0' || matched)) {
		int gfound = 0;
		struct lines git = { group, group ? group + group_len : NULL };
		while (next_line(&git, &line, &len)) {
			struct fields fl;
			split_fields(line, len, 4, &fl);
			if (group_arg[0] == '\0') {
				if (lists_member(&fl, matched)) {
					r = add_group(&u, &alloc, (gid_t) field_id(&fl, 2), err);
					if (r < 0) {
						kiln_exec_user_release(&u);
						return r;
					}
				}
				continue;
			}
			int match = gid_numeric ? gid_r == 0 && field_id(&fl, 2) == gid_num
						: field_eq(&fl, 0, group_arg);
			if (match) {
				u.gid = (gid_t) field_id(&fl, 2);
				gfound = 1;
				break;
			}
		}
		if (group_arg[0] != '\0' && !gfound) {
			if (!gid_numeric)
				return kiln_fail(err, KILN_ENOTFOUND, 0,
						 "unable to find group %s: no matching entries in "
						 "group file",
						 group_arg);
			if (gid_r == -2)
				return kiln_fail(err, KILN_EINVAL, 0,
						 "group %s: uids and gids must be in range 0-%ld",
						 group_arg, ID_MAX);
			u.gid = (gid_t) gid_num;
		}
	}
	u.home = steal_ptr(&home);
	*ret = u;
	return 0;
}

/* Read a file inside a root filesystem; a missing file gives *ret = NULL. */
static int read_in_root(int rootfd, const char *path, char **ret, size_t *ret_len,
			struct kiln_error *err)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	*ret = NULL;
	*ret_len = 0;
	cleanup_close int fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kiln_fail_errno(err, "opening /%s in the root filesystem", path);
	}
	int r = kiln_read_fd(fd, KILN_EXEC_MAX_USERDB, ret, ret_len, err);
	if (r < 0)
		return kiln_error_prefix(err, r, "reading /%s", path);
	return 0;
}

int kiln_exec_user_resolve(int rootfd, const char *spec, struct kiln_exec_user *ret,
			   struct kiln_error *err)
{
	cleanup_free char *passwd = NULL;
	cleanup_free char *group = NULL;
	size_t plen = 0, glen = 0;
	int r = read_in_root(rootfd, "etc/passwd", &passwd, &plen, err);
	if (r < 0)
		return r;
	r = read_in_root(rootfd, "etc/group", &group, &glen, err);
	if (r < 0)
		return r;
	return kiln_exec_user_parse(spec, passwd, plen, group, glen, ret, err);
}
