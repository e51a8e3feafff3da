/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Notes kept beside unpacked layers, and names for layers: what a build
 * knows of a layer it made (the content digest of each file a COPY wrote),
 * for a later build to use. Both are hints. A note carries a SHA-256 of
 * itself and reads as absent unless it matches; a name whose layer is gone
 * reads as unset. Nothing here is ever needed for a layer to be correct.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot-private.h"

#define NOTE_MAX ((size_t) 256 << 20)

static int is_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128 || s[0] == '.' || !strncmp(s, "tmp-", 4) || kiln_digest_is_hex(s))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int kiln_snapshot_note_write(struct kiln_snapshotter *s, const struct kiln_digest *layer,
			     const void *data, size_t len, struct kiln_error *err)
{
	if (len > NOTE_MAX - 32)
		return kiln_fail(err, KILN_ELIMIT, 0, "a note of %zu bytes", len);
	struct kiln_digest sum;
	int r = kiln_sha256_buf(data, len, &sum, err);
	if (r < 0)
		return r;
	char *buf = kiln_malloc(len + sizeof(sum.raw));
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (len)
		memcpy(buf, data, len);
	memcpy(buf + len, sum.raw, sizeof(sum.raw));
	/* whole or absent under its name; not synced: the checksum catches a
	 * note a crash tore, and a lost one only costs its hints */
	char tmp[32], id[17];
	r = kiln_snapshot_random_id(id, err);
	(void) snprintf(tmp, sizeof(tmp), ".tmp-%s", id);
	int fd = r < 0 ? -1
		       : openat(s->notes_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r >= 0 && fd < 0)
		r = kiln_fail_errno(err, "writing the note of layer %s", layer->hex);
	if (fd >= 0) {
		r = kiln_write_all(fd, buf, len + sizeof(sum.raw));
		if (close(fd) < 0 && r >= 0)
			r = -errno;
		if (r >= 0 && renameat(s->notes_fd, tmp, s->notes_fd, layer->hex) < 0)
			r = -errno;
		if (r < 0) {
			(void) unlinkat(s->notes_fd, tmp, 0);
			r = kiln_fail(err, KILN_EIO, -r, "writing the note of layer %s",
				      layer->hex);
		}
	}
	free(buf);
	return r;
}

int kiln_snapshot_note_read(struct kiln_snapshotter *s, const struct kiln_digest *layer,
			    char **data, size_t *len, struct kiln_error *err)
{
	*data = NULL;
	*len = 0;
	char *buf = NULL;
	size_t n = 0;
	int r = kiln_read_file_at(s->notes_fd, layer->hex, NOTE_MAX, &buf, &n, err);
	if (r < 0) {
		if (r != -KILN_ENOTFOUND)
			return r;
		kiln_error_release(err);
		return 0;
	}
	struct kiln_digest sum;
	if (n < sizeof(sum.raw) || kiln_sha256_buf(buf, n - sizeof(sum.raw), &sum, err) < 0 ||
	    memcmp(sum.raw, buf + n - sizeof(sum.raw), sizeof(sum.raw)) != 0) {
		kiln_debug(s->ctx, "snapshot: the note of layer %s does not check out", layer->hex);
		free(buf);
		kiln_error_release(err);
		return 0;
	}
	*data = buf;
	*len = n - sizeof(sum.raw);
	return 1;
}

int kiln_snapshot_name_set(struct kiln_snapshotter *s, const char *name,
			   const struct kiln_digest *layer, struct kiln_error *err)
{
	if (!is_name(name))
		return kiln_fail(err, KILN_EINVAL, 0, "\"%s\" cannot name a layer", name);
	char tmp[160];
	char id[17];
	int r = kiln_snapshot_random_id(id, err);
	if (r < 0)
		return r;
	(void) snprintf(tmp, sizeof(tmp), "tmp-%s", id);
	if (symlinkat(layer->hex, s->notes_fd, tmp) < 0)
		return kiln_fail_errno(err, "naming layer %s", layer->hex);
	/* atomic: a reader sees the old layer or the new one */
	if (renameat(s->notes_fd, tmp, s->notes_fd, name) < 0) {
		r = kiln_fail_errno(err, "naming layer %s", layer->hex);
		(void) unlinkat(s->notes_fd, tmp, 0);
		return r;
	}
	return 0;
}

int kiln_snapshot_name_get(struct kiln_snapshotter *s, const char *name, struct kiln_digest *ret,
			   struct kiln_error *err)
{
	if (!is_name(name))
		return kiln_fail(err, KILN_EINVAL, 0, "\"%s\" cannot name a layer", name);
	char hex[80];
	ssize_t n = readlinkat(s->notes_fd, name, hex, sizeof(hex) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : kiln_fail_errno(err, "reading the name %s", name);
	hex[n] = '\0';
	if (!kiln_digest_is_hex(hex))
		return 0;
	struct stat st;
	if (fstatat(s->layers_fd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* pruned since */
	char str[7 + sizeof(hex)];
	(void) snprintf(str, sizeof(str), "sha256:%s", hex);
	return kiln_digest_parse(str, ret, err) < 0 ? 0 : 1;
}

int kiln_snapshot_layer_open(struct kiln_snapshotter *s, const struct kiln_digest *layer,
			     struct kiln_error *err)
{
	char name[65];
	return snap_layer_open(s, layer, name, err);
}

void snap_notes_forget(struct kiln_snapshotter *s, const char *layer_hex)
{
	if (s->notes_fd >= 0)
		(void) unlinkat(s->notes_fd, layer_hex, 0);
}

void snap_notes_sweep(struct kiln_snapshotter *s)
{
	int dfd = fcntl(s->notes_fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			(void) close(dfd);
		return;
	}
	rewinddir(d);
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		struct stat st, lst;
		if (!strcmp(n, ".") || !strcmp(n, "..") ||
		    fstatat(s->notes_fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		int gone;
		if (!strncmp(n, ".tmp-", 5) || !strncmp(n, "tmp-", 4)) {
			/* a writer that died; a live one is done within seconds */
			gone = st.st_mtime < now - 600;
		} else if (S_ISLNK(st.st_mode)) {
			/* a name whose layer was pruned */
			char hex[80];
			ssize_t k = readlinkat(s->notes_fd, n, hex, sizeof(hex) - 1);
			hex[k > 0 ? k : 0] = '\0';
			gone = k > 0 && fstatat(s->layers_fd, hex, &lst, AT_SYMLINK_NOFOLLOW) < 0 &&
			       errno == ENOENT;
		} else {
			/* the note of a layer that is not there (a prune that died) */
			gone = kiln_digest_is_hex(n) &&
			       fstatat(s->layers_fd, n, &lst, AT_SYMLINK_NOFOLLOW) < 0 &&
			       errno == ENOENT;
		}
		if (gone)
			(void) unlinkat(s->notes_fd, n, 0);
	}
	closedir(d);
}
