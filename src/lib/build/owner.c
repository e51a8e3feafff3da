/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The owner of what COPY --chown and WORKDIR write: "user[:group]" resolved
 * as BuildKit does, by name in the root's /etc/passwd and /etc/group, read
 * inside the root (its symlinks cannot lead out of it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build-private.h"
#include "exec/exec.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

static int parse_id(const char *s, uint32_t *ret)
{
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t) (*p - '0');
		if (v > 0xFFFFFFFFull)
			return -1;
	}
	*ret = (uint32_t) v;
	return 0;
}

/* Field `idx` (0-based) of the line whose first field is `name`, as a number. */
static int db_lookup(const char *db, size_t len, const char *name, int idx, uint32_t *ret,
		     uint32_t *ret2)
{
	size_t nl = strlen(name);
	for (size_t off = 0; off < len;) {
		const char *line = db + off;
		const char *eol = memchr(line, '\n', len - off);
		size_t ll = eol ? (size_t) (eol - line) : len - off;
		off += ll + 1;
		if (ll <= nl || strncmp(line, name, nl) || line[nl] != ':')
			continue;
		/* fields: name:x:id[:gid:...] */
		uint32_t vals[2] = { 0, 0 };
		const char *p = line + nl + 1, *end = line + ll;
		int field = 1, got = 0, want = ret2 ? 2 : 1;
		while (p <= end && got < want) {
			const char *c = memchr(p, ':', (size_t) (end - p));
			const char *fe = c ? c : end;
			if (field >= idx && field < idx + want) {
				char buf[16];
				size_t fl = (size_t) (fe - p);
				if (fl == 0 || fl >= sizeof(buf))
					return -1;
				memcpy(buf, p, fl);
				buf[fl] = '\0';
				if (parse_id(buf, &vals[field - idx]) < 0)
					return -1;
				got++;
			}
			if (!c)
				break;
			p = c + 1;
			field++;
		}
		if (got < want)
			return -1;
		*ret = vals[0];
		if (ret2)
			*ret2 = vals[1];
		return 1;
	}
	return 0;
}

static int read_db(int root_fd, const char *rel, char **data, size_t *len, struct kiln_error *err)
{
	*data = NULL;
	*len = 0;
	int fd = bb_open_in_root(root_fd, rel, O_RDONLY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return kiln_fail_errno(err, "opening /%s", rel);
	}
	int r = kiln_read_fd(fd, KILN_EXEC_MAX_USERDB, data, len, err);
	(void) close(fd);
	return r < 0 ? kiln_error_prefix(err, r, "reading /%s", rel) : 1;
}

int bb_resolve_owner(struct bb *b, int root_fd, const char *spec, uint32_t *uid, uint32_t *gid,
		     struct kiln_error *err)
{
	const char *colon = strchr(spec, ':');
	cleanup_free char *user =
		colon ? kiln_strndup(spec, (size_t) (colon - spec)) : kiln_strdup(spec);
	const char *group = colon ? colon + 1 : NULL;
	if (!user)
		return oom(err);
	*uid = *gid = 0;
	int r;
	if (parse_id(user, uid) == 0) {
		*gid = *uid; /* a lone uid is the gid too, as BuildKit has it */
	} else if (*user) {
		cleanup_free char *pw = NULL;
		size_t pwl = 0;
		if ((r = read_db(root_fd, "etc/passwd", &pw, &pwl, err)) < 0)
			return r;
		r = pw ? db_lookup(pw, pwl, user, 2, uid, gid) : 0;
		if (r <= 0)
			bb_warn(b,
				"user \"%s\" is not in the destination's /etc/passwd: what is "
				"written is owned by 0, as BuildKit does",
				user);
	}
	if (group && !*group) {
		*gid = 0; /* "user:": BuildKit's llb.WithUser makes the empty group ID 0 */
	} else if (group) {
		uint32_t g;
		if (parse_id(group, &g) == 0) {
			*gid = g;
		} else {
			cleanup_free char *gr = NULL;
			size_t grl = 0;
			if ((r = read_db(root_fd, "etc/group", &gr, &grl, err)) < 0)
				return r;
			r = gr ? db_lookup(gr, grl, group, 2, &g, NULL) : 0;
			if (r > 0)
				*gid = g;
			else
				bb_warn(b,
					"group \"%s\" is not in the destination's /etc/group: the "
					"user's group is kept, as BuildKit does",
					group);
		}
	}
	return 0;
}
