/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --secret and --allow as buildx reads them, and the secrets of one build:
 * read once when it starts (a file of at most 500 KB, or a variable of
 * kiln's environment), kept in memory, wiped when the build ends. A value
 * is handed only to the RUNs that mount it, as a file on the sandbox's
 * private tmpfs or as a variable of the process; it is never logged,
 * hashed into a key or written to the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/mounts.h"

static int oom(struct kiln_error *err)
{
	return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
}

/* ---- parsing ------------------------------------------------------------------- */

/*
 * One record of Go's encoding/csv (comma separated; a field that starts
 * with '"' is quoted, "" inside it is a quote). Enough for buildx's flags.
 */
static int csv_fields(const char *s, struct kiln_strv *out, const char *what,
		      struct kiln_error *err)
{
	struct kiln_buf f = KILN_BUF_INIT;
	const char *p = s;
	int r = 0;
	for (;;) {
		kiln_buf_reset(&f);
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p) {
					r = kiln_fail(err, KILN_EINVAL, 0,
						      "failed to parse csv %s: extraneous or "
						      "missing \" in quoted-field",
						      what);
					goto out;
				}
				if (*p == '"' && p[1] == '"') {
					r = kiln_buf_addch(&f, '"');
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					r = kiln_buf_addch(&f, *p++);
				}
				if (r < 0)
					goto out;
			}
			if (*p && *p != ',') {
				r = kiln_fail(err, KILN_EINVAL, 0,
					      "failed to parse csv %s: extraneous or missing \" in "
					      "quoted-field",
					      what);
				goto out;
			}
		} else {
			size_t n = strcspn(p, ",");
			if (memchr(p, '"', n)) {
				r = kiln_fail(err, KILN_EINVAL, 0,
					      "failed to parse csv %s: bare \" in non-quoted-field",
					      what);
				goto out;
			}
			if ((r = kiln_buf_add(&f, p, n)) < 0)
				goto out;
			p += n;
		}
		if ((r = kiln_strv_push(out, f.buf ? f.buf : "")) < 0)
			goto out;
		if (!*p)
			break;
		p++; /* the comma */
	}
out:
	kiln_buf_release(&f);
	if (r == -KILN_ENOMEM)
		return oom(err);
	return r;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char) (*s + 32);
}

void kiln_build_secret_release(struct kiln_build_secret *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->src);
	free(s->env);
	memset(s, 0, sizeof(*s));
}

static int set_field(char **dst, const char *v, struct kiln_error *err)
{
	free(*dst);
	*dst = kiln_strdup(v);
	return *dst ? 0 : oom(err);
}

int kiln_build_secret_parse(const char *spec, struct kiln_build_secret *ret, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	cleanup(kiln_strv_release) struct kiln_strv fields = KILN_STRV_INIT;
	int r = csv_fields(spec, &fields, "secret", err);
	if (r < 0)
		return r;
	int type_env = 0;
	for (size_t i = 0; r >= 0 && i < fields.len; i++) {
		const char *field = fields.items[i];
		const char *eq = strchr(field, '=');
		if (!eq) {
			r = kiln_fail(err, KILN_EINVAL, 0,
				      "invalid field '%s' must be a key=value pair", field);
			break;
		}
		cleanup_free char *key = kiln_strndup(field, (size_t) (eq - field));
		if (!key) {
			r = oom(err);
			break;
		}
		lower(key);
		const char *v = eq + 1;
		if (!strcmp(key, "type")) {
			if (strcmp(v, "file") && strcmp(v, "env"))
				r = kiln_fail(err, KILN_EINVAL, 0, "unsupported secret type \"%s\"",
					      v);
			type_env = !strcmp(v, "env");
		} else if (!strcmp(key, "id")) {
			r = set_field(&ret->id, v, err);
		} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
			r = set_field(&ret->src, v, err);
		} else if (!strcmp(key, "env")) {
			r = set_field(&ret->env, v, err);
		} else {
			r = kiln_fail(err, KILN_EINVAL, 0, "unexpected key '%s' in '%s'", key,
				      field);
		}
	}
	if (r >= 0 && type_env && (!ret->env || !*ret->env)) {
		/* type=env,src=VAR: the source names the variable */
		free(ret->env);
		ret->env = steal_ptr(&ret->src);
	}
	if (r >= 0 && (!ret->id || !*ret->id))
		r = kiln_fail(err, KILN_EINVAL, 0, "secret missing ID");
	if (r >= 0 && ret->src && !*ret->src) {
		free(ret->src);
		ret->src = NULL;
	}
	if (r >= 0 && ret->env && !*ret->env) {
		free(ret->env);
		ret->env = NULL;
	}
	if (r >= 0 && !ret->src && !ret->env) {
		/* neither: a variable named like the id when there is one, else a file */
		r = getenv(ret->id) ? set_field(&ret->env, ret->id, err)
				    : set_field(&ret->src, ret->id, err);
	}
	if (r < 0)
		kiln_build_secret_release(ret);
	return r < 0 ? r : 0;
}

int kiln_build_allow_parse(const char *s, unsigned *allow, struct kiln_error *err)
{
	if (!strcmp(s, "security.insecure"))
		*allow |= KILN_BUILD_ALLOW_SECURITY_INSECURE;
	else if (!strcmp(s, "network.host"))
		*allow |= KILN_BUILD_ALLOW_NETWORK_HOST;
	else
		return kiln_fail(err, KILN_EINVAL, 0,
				 "invalid entitlement: %s (security.insecure or network.host)", s);
	return 0;
}

/* ---- the values ------------------------------------------------------------------- */

static void wipe(char *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

void bb_secrets_release(struct bb_secrets *s)
{
	for (size_t i = 0; s && i < s->n; i++) {
		free(s->v[i].id);
		wipe(s->v[i].data, s->v[i].len);
		free(s->v[i].data);
	}
	if (s) {
		free(s->v);
		memset(s, 0, sizeof(*s));
	}
}

/* A file's contents, at most KILN_BUILD_MAX_SECRET_SIZE bytes. */
static int read_secret_file(const char *id, const char *path, char **ret, size_t *len,
			    struct kiln_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return kiln_fail_errno(err, "failed to stat %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = kiln_fail_errno(err, "failed to stat %s", path);
		(void) close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		(void) close(fd);
		return kiln_fail(err, KILN_EINVAL, EISDIR, "secret %s: %s is a directory", id,
				 path);
	}
	if (S_ISREG(st.st_mode) && (size_t) st.st_size > KILN_BUILD_MAX_SECRET_SIZE) {
		(void) close(fd);
		return kiln_fail(err, KILN_ELIMIT, 0, "secret %s too big. max size 500KB", id);
	}
	size_t cap = KILN_BUILD_MAX_SECRET_SIZE + 1, n = 0;
	char *buf = kiln_malloc(cap + 1);
	if (!buf) {
		(void) close(fd);
		return oom(err);
	}
	for (;;) {
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = kiln_fail_errno(err, "reading secret %s from %s", id, path);
			wipe(buf, n);
			free(buf);
			(void) close(fd);
			return r;
		}
		if (k == 0)
			break;
		n += (size_t) k;
		if (n > KILN_BUILD_MAX_SECRET_SIZE) {
			wipe(buf, n);
			free(buf);
			(void) close(fd);
			return kiln_fail(err, KILN_ELIMIT, 0, "secret %s too big. max size 500KB",
					 id);
		}
	}
	(void) close(fd);
	buf[n] = '\0';
	*ret = buf;
	*len = n;
	return 0;
}

int bb_secrets_load(const struct kiln_build_secret *v, size_t n, struct bb_secrets *ret,
		    void (*warn)(void *ud, const char *msg), void *ud, struct kiln_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (n > KILN_BUILD_MAX_SECRETS)
		return kiln_fail(err, KILN_ELIMIT, 0, "more than %d secrets",
				 KILN_BUILD_MAX_SECRETS);
	if (!n)
		return 0;
	ret->v = kiln_calloc(n, sizeof(*ret->v));
	if (!ret->v)
		return oom(err);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct kiln_build_secret *s = &v[i];
		if (!s->id || !*s->id) {
			r = kiln_fail(err, KILN_EINVAL, 0, "secret missing ID");
			break;
		}
		char *data = NULL;
		size_t len = 0;
		if (s->env && *s->env) {
			const char *val = getenv(s->env);
			if (!val && warn) {
				cleanup_free char *msg = kiln_asprintf(
					"secret %s: the environment variable %s is not set; the "
					"secret is empty",
					s->id, s->env);
				if (msg)
					warn(ud, msg);
			}
			len = val ? strlen(val) : 0;
			if (len > KILN_BUILD_MAX_SECRET_SIZE) {
				r = kiln_fail(err, KILN_ELIMIT, 0,
					      "secret %s too big. max size 500KB", s->id);
				break;
			}
			data = kiln_malloc(len + 1);
			if (!data) {
				r = oom(err);
				break;
			}
			memcpy(data, val ? val : "", len + 1);
		} else if (s->src && *s->src) {
			if ((r = read_secret_file(s->id, s->src, &data, &len, err)) < 0)
				break;
		} else {
			r = kiln_fail(err, KILN_EINVAL, 0, "secret %s: no src= and no env=", s->id);
			break;
		}
		/* a later --secret of the same id replaces the earlier one */
		struct bb_secret *slot = NULL;
		for (size_t k = 0; k < ret->n; k++)
			if (!strcmp(ret->v[k].id, s->id))
				slot = &ret->v[k];
		if (slot) {
			wipe(slot->data, slot->len);
			free(slot->data);
		} else {
			slot = &ret->v[ret->n];
			slot->id = kiln_strdup(s->id);
			if (!slot->id) {
				wipe(data, len);
				free(data);
				r = oom(err);
				break;
			}
			ret->n++;
		}
		slot->data = data;
		slot->len = len;
	}
	if (r < 0)
		bb_secrets_release(ret);
	return r < 0 ? r : 0;
}

const struct bb_secret *bb_secrets_find(const struct bb_secrets *s, const char *id)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].id, id))
			return &s->v[i];
	return NULL;
}
