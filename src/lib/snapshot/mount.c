/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mounting a chain of unpacked layers as a detached overlay, committing its
 * upper directory as a layer, releasing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot-private.h"

void kiln_snapshot_mount_release(struct kiln_snapshot_mount *m)
{
	if (!m)
		return;
	/* a read-only overlay's teardown holds nothing up: the reaper does it;
	 * so does the removal of a writable mount's directories once its overlay
	 * is gone or queued before it (kiln_snapshot_unmount()): 5.5 ms after
	 * a-genfiles' RUN, on the build's path */
	int ro = m->fd >= 0 && !m->upper && !m->active_path && m->lock_fd < 0;
	int unmounted = m->fd < 0 && m->active_path;
	if ((ro || unmounted) && snap_reaper_take(m->s, m))
		return;
	snap_mount_release_now(m);
}

void snap_mount_release_now(struct kiln_snapshot_mount *m)
{
	/* the last reference to a detached mount unmounts it */
	if (m->fd >= 0)
		(void) close(m->fd);
	if (m->active_path) {
		struct kiln_error err = KILN_ERROR_INIT;
		if (kiln_rm_rf(m->active_path, &err) < 0)
			kiln_debug(m->s->ctx, "snapshot: removing %s: %s", m->active_path, err.msg);
		kiln_error_release(&err);
	}
	if (m->lock_fd >= 0) {
		(void) unlinkat(m->s->active_fd, m->lock_name, 0);
		(void) close(m->lock_fd);
	}
	for (size_t i = 0; i < m->n_layer_fds; i++)
		(void) close(m->layer_fds[i]);
	free(m->layer_fds);
	free(m->active_path);
	free(m->upper);
	free(m);
}

int kiln_snapshot_mount_fd(const struct kiln_snapshot_mount *m)
{
	return m->fd;
}

const char *kiln_snapshot_mount_upper(const struct kiln_snapshot_mount *m)
{
	return m->upper;
}

/* Open and share-lock one layer directory, checking that prune did not take
 * it away in between. */
static int lock_layer(struct kiln_snapshotter *s, const struct kiln_digest *d, int *ret,
		      char name[65], struct kiln_error *err)
{
	int fd = snap_layer_open(s, d, name, err);
	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			int e = errno;
			(void) close(fd);
			return kiln_fail(err, KILN_EIO, e, "locking layer %s", d->str);
		}
	}
	struct stat a, b;
	if (fstat(fd, &a) < 0 || fstatat(s->layers_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		(void) close(fd);
		return kiln_fail(err, KILN_ENOTFOUND, 0, "layer %s was pruned", d->str);
	}
	*ret = fd;
	return 0;
}

static int fs_fail(int fs, struct kiln_error *err, const char *what)
{
	int e = errno;
	/* the kernel explains itself in the fs context's log */
	char msg[256];
	ssize_t n = read(fs, msg, sizeof(msg) - 1);
	if (n > 0) {
		msg[n] = '\0';
		if (n > 0 && msg[n - 1] == '\n')
			msg[n - 1] = '\0';
		return kiln_fail(err, KILN_EIO, e, "%s (%s)", what, msg);
	}
	return kiln_fail(err, KILN_EIO, e, "%s", what);
}

/* A detached read-only bind of one directory. */
static int ro_bind(const char *path, int *ret, struct kiln_error *err)
{
	int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return kiln_fail_errno(err, "binding %s", path);
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0) {
		int e = errno;
		(void) close(fd);
		return kiln_fail(err, KILN_EIO, e, "making %s read-only", path);
	}
	*ret = fd;
	return 0;
}

static int overlay(struct kiln_snapshotter *s, char **lowers, size_t n, const char *upper,
		   const char *work, unsigned attr, int *ret, struct kiln_error *err)
{
	int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return kiln_fail_errno(err, "overlayfs is not available");
	int r = 0;
	/* kiln's layer writer reads plain upper directories: no redirects, no
	 * metadata-only copy-ups, no index */
	static const char *const opts[][2] = {
		{ "redirect_dir", "off" },
		{ "metacopy", "off" },
		{ "index", "off" },
	};
	for (size_t i = 0; r == 0 && i < KILN_ARRAY_SIZE(opts); i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, opts[i][0], opts[i][1], 0) < 0)
			r = fs_fail(fs, err, "configuring overlayfs");
	/* one lowerdir+ per layer, top first: no page-size limit on the chain */
	for (size_t i = 0; r == 0 && i < n; i++)
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
			r = fs_fail(fs, err, "adding a lower layer");
	if (r == 0 && upper &&
	    (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
	     fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
		r = fs_fail(fs, err, "setting the upper directory");
	/* no sync of the upper file system when the overlay goes (ovl_sync_fs()):
	 * the keep marks what was not synced (unsynced.c); kernels before 5.10
	 * do without */
	if (r == 0 && upper && fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		kiln_debug(s->ctx, "snapshot: no volatile overlays here: %s", strerror(errno));
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = fs_fail(fs, err, "creating the overlay");
	if (r == 0) {
		*ret = fsmount(fs, FSMOUNT_CLOEXEC, attr);
		if (*ret < 0)
			r = fs_fail(fs, err, "mounting the overlay");
	}
	(void) close(fs);
	kiln_debug(s->ctx, "snapshot: overlay of %zu layers%s: %s", n, upper ? " + upper" : "",
		   r == 0 ? "ok" : "failed");
	return r;
}

static int make_upper(struct kiln_snapshot_mount *m, char **ret_work, struct kiln_error *err)
{
	struct kiln_snapshotter *s = m->s;
	char id[17];
	int r = kiln_snapshot_lock_new(s->active_fd, "", id, &m->lock_fd, err);
	if (r < 0)
		return r;
	(void) snprintf(m->lock_name, sizeof(m->lock_name), "%s.lock", id);
	m->active_path = kiln_asprintf("%s/%s", s->active, id);
	m->upper = kiln_asprintf("%s/%s/upper", s->active, id);
	*ret_work = kiln_asprintf("%s/%s/work", s->active, id);
	if (!m->active_path || !m->upper || !*ret_work)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	if (mkdir(m->active_path, 0700) < 0)
		return kiln_fail_errno(err, "creating %s", m->active_path);
	/* the upper root is the root of the image as the process sees it */
	if (mkdir(m->upper, 0755) < 0 || chmod(m->upper, 0755) < 0)
		return kiln_fail_errno(err, "creating %s", m->upper);
	if (mkdir(*ret_work, 0700) < 0)
		return kiln_fail_errno(err, "creating %s", *ret_work);
	return 0;
}

int kiln_snapshot_mount(struct kiln_snapshotter *s, const struct kiln_digest *chain, size_t n,
			unsigned flags, struct kiln_snapshot_mount **ret, struct kiln_error *err)
{
	if (n > KILN_SNAPSHOT_MAX_LAYERS)
		return kiln_fail(err, KILN_ELIMIT, 0, "%zu layers: overlayfs stacks at most %d", n,
				 KILN_SNAPSHOT_MAX_LAYERS);
	if (flags & ~(unsigned) KILN_SNAPSHOT_RDONLY)
		return kiln_fail(err, KILN_EINVAL, 0, "unknown snapshot flags 0x%x", flags);
	cleanup(kiln_snapshot_mount_releasep) struct kiln_snapshot_mount *m =
		kiln_calloc(1, sizeof(*m));
	if (!m)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	m->s = s;
	m->fd = m->lock_fd = -1;
	m->layer_fds = kiln_calloc(n ? n : 1, sizeof(int));
	char **lowers = kiln_calloc(n + 1, sizeof(char *));
	if (!m->layer_fds || !lowers) {
		free(lowers);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}

	/* top first; a layer that occurs twice (under its diff_id and under an
	 * id it was kept under, say) counts only where it is highest (it hides
	 * everything the lower copy could) and overlayfs refuses a directory
	 * twice */
	size_t nl = 0;
	int r = 0;
	for (size_t i = n; r == 0 && i-- > 0;) {
		int dup = 0;
		for (size_t j = i + 1; j < n && !dup; j++)
			dup = kiln_digest_equal(&chain[i], &chain[j]);
		if (dup)
			continue;
		char name[65];
		int fd = -1;
		r = lock_layer(s, &chain[i], &fd, name, err);
		if (r < 0)
			break;
		size_t plen = strlen(s->layers) + 1;
		for (size_t j = 0; j < nl && !dup; j++)
			dup = strcmp(lowers[j] + plen, name) == 0;
		if (dup) {
			(void) close(fd);
			continue;
		}
		m->layer_fds[m->n_layer_fds++] = fd;
		lowers[nl] = kiln_asprintf("%s/%s", s->layers, name);
		if (!lowers[nl++])
			r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	if (r == 0 && nl == 0 && !(lowers[nl++] = kiln_strdup(s->empty)))
		r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");

	char *work = NULL;
	if (r == 0 && (flags & KILN_SNAPSHOT_RDONLY)) {
		/* overlayfs wants two lowers without an upper: one is a bind */
		if (nl == 1)
			r = ro_bind(lowers[0], &m->fd, err);
		else
			r = overlay(s, lowers, nl, NULL, NULL, MOUNT_ATTR_RDONLY, &m->fd, err);
	} else if (r == 0) {
		r = make_upper(m, &work, err);
		if (r == 0)
			r = overlay(s, lowers, nl, m->upper, work, 0, &m->fd, err);
	}
	for (size_t i = 0; i < nl; i++)
		free(lowers[i]);
	free(lowers);
	free(work);
	if (r < 0)
		return r;
	*ret = steal_ptr(&m);
	return 0;
}
