/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unpacked layers and the store: unpacking an image's layers, pruning the
 * ones no image needs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot-private.h"
#include "store/store.h"

int kiln_snapshot_unpack_image(struct kiln_snapshotter *s, struct kiln_store *st,
			       const struct kiln_digest *manifest, struct kiln_digest **ret_chain,
			       size_t *ret_n, struct kiln_error *err)
{
	cleanup(kiln_oci_manifest_freep) struct kiln_oci_manifest *m = NULL;
	cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
	int r = kiln_store_manifest_read(st, manifest, &m, err);
	if (r < 0)
		return r;
	struct kiln_digest cfg_digest;
	r = kiln_oci_descriptor_sha256(&m->config, &cfg_digest, err);
	if (r < 0)
		return r;
	r = kiln_store_config_read(st, &cfg_digest, &cfg, err);
	if (r < 0)
		return r;
	if (cfg->n_diff_ids != m->n_layers)
		return kiln_fail(
			err, KILN_EPARSE, 0,
			"image %s: the manifest has %zu layers but the config %zu diff_ids",
			manifest->str, m->n_layers, cfg->n_diff_ids);
	if (m->n_layers > KILN_SNAPSHOT_MAX_LAYERS)
		return kiln_fail(err, KILN_ELIMIT, 0, "image %s has %zu layers (at most %d)",
				 manifest->str, m->n_layers, KILN_SNAPSHOT_MAX_LAYERS);
	cleanup_free struct kiln_digest *chain =
		kiln_calloc(m->n_layers ? m->n_layers : 1, sizeof(*chain));
	if (!chain)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	for (size_t i = 0; i < m->n_layers; i++) {
		chain[i] = cfg->diff_ids[i];
		r = kiln_snapshot_has(s, &chain[i], err);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		struct kiln_digest blob;
		r = kiln_oci_descriptor_sha256(&m->layers[i], &blob, err);
		if (r < 0)
			return r;
		int fd = -1;
		r = kiln_store_blob_open(st, &blob, &fd, NULL, err);
		if (r < 0)
			return kiln_error_prefix(err, r, "layer %zu of %s", i + 1, manifest->str);
		r = kiln_snapshot_unpack(s, &chain[i], fd, &blob, err);
		(void) close(fd);
		if (r < 0)
			return r;
	}
	*ret_n = m->n_layers;
	*ret_chain = steal_ptr(&chain);
	return 0;
}

/* Disk usage of a tree, best effort (st_blocks). A file with other links
 * (COPY links files between layers) counts its share: removing one of its
 * links frees nothing, removing all of them frees it once. */
static uint64_t du_at(int dirfd, int depth)
{
	uint64_t total = 0;
	if (depth > 256)
		return 0;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		(void) close(fd);
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		uint64_t bytes = (uint64_t) st.st_blocks * 512;
		total += S_ISDIR(st.st_mode) || st.st_nlink < 2 ? bytes : bytes / st.st_nlink;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (sub >= 0) {
				total += du_at(sub, depth + 1);
				(void) close(sub);
			}
		}
	}
	closedir(d);
	return total;
}

/* 1 removed (its size in *bytes), 0 not there, 2 held by a mount, < 0 error */
static int remove_layer(struct kiln_snapshotter *s, const char *name, uint64_t *bytes,
			struct kiln_error *err)
{
	/* a mount holds a shared lock on each of its layers */
	cleanup_close int lfd =
		openat(s->layers_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (lfd < 0)
		return 0;
	if (flock(lfd, LOCK_EX | LOCK_NB) < 0)
		return 2;
	char id[17], trash[32];
	int r = kiln_snapshot_random_id(id, err);
	if (r < 0)
		return r;
	(void) snprintf(trash, sizeof(trash), "trash-%s", id);
	if (bytes)
		*bytes = du_at(lfd, 0);
	/* out of the way under the lock: a mount that locks it later sees the
	 * name gone */
	if (renameat2(s->layers_fd, name, s->layers_fd, trash, RENAME_NOREPLACE) < 0)
		return errno == ENOENT ? 0 : kiln_fail_errno(err, "removing layer %s", name);
	if (s->unsynced_fd >= 0)
		(void) unlinkat(s->unsynced_fd, name, 0);
	cleanup_free char *path = kiln_asprintf("%s/%s", s->layers, trash);
	if (!path)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	r = kiln_rm_rf(path, err);
	if (r < 0)
		return r;
	snap_notes_forget(s, name);
	return 1;
}

int snap_layer_remove(struct kiln_snapshotter *s, const char *name, struct kiln_error *err)
{
	return remove_layer(s, name, NULL, err);
}

int kiln_snapshot_prune(struct kiln_snapshotter *s, const struct kiln_digest *keep, size_t n_keep,
			struct kiln_snapshot_prune_report *ret, struct kiln_error *err)
{
	struct kiln_snapshot_prune_report rep = { 0 };
	/* the layers of mounts released already are free for it */
	snap_reaper_drain(s);
	int dfd = fcntl(s->layers_fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return kiln_fail_errno(err, "reading %s", s->layers);
	DIR *d = fdopendir(dfd);
	if (!d) {
		(void) close(dfd);
		return kiln_fail_errno(err, "reading %s", s->layers);
	}
	rewinddir(d);
	/* a layer kept under another id and named by an alias is kept with it */
	cleanup_free char(*named)[65] = kiln_calloc(n_keep ? n_keep : 1, sizeof(*named));
	if (!named) {
		closedir(d);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	for (size_t i = 0; i < n_keep; i++) {
		struct kiln_error e2 = KILN_ERROR_INIT;
		if (snap_layer_name(s, &keep[i], named[i], &e2) <= 0)
			named[i][0] = '\0';
		kiln_error_release(&e2);
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		const char *n = e->d_name;
		if (!kiln_digest_is_hex(n))
			continue;
		int wanted = 0;
		for (size_t i = 0; i < n_keep && !wanted; i++)
			wanted = strcmp(keep[i].hex, n) == 0 || strcmp(named[i], n) == 0;
		struct stat st;
		if (fstatat(s->layers_fd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			/* an alias no image needs goes; the layer it names goes or
			 * stays on its own */
			if (!wanted && unlinkat(s->layers_fd, n, 0) < 0 && errno != ENOENT) {
				r = kiln_fail_errno(err, "removing the alias %s", n);
				break;
			}
			continue;
		}
		if (wanted) {
			rep.kept++;
			continue;
		}
		uint64_t bytes = 0;
		r = remove_layer(s, n, &bytes, err);
		if (r < 0)
			break;
		if (r == 2)
			rep.busy++;
		if (r == 1) {
			kiln_debug(s->ctx, "snapshot: pruned layer sha256:%s", n);
			rep.removed++;
			rep.bytes_freed += bytes;
		}
		r = 0;
	}
	closedir(d);
	if (r < 0)
		return r;
	snap_notes_sweep(s);
	if (ret)
		*ret = rep;
	return 0;
}

int kiln_snapshot_prune_store(struct kiln_snapshotter *s, struct kiln_store *st,
			      struct kiln_snapshot_prune_report *ret, struct kiln_error *err)
{
	struct kiln_store_image_list list = { 0 };
	int r = kiln_store_image_list(st, &list, err);
	if (r < 0)
		return r;
	struct kiln_digest *keep = NULL;
	size_t n = 0, alloc = 0;
	for (size_t i = 0; r == 0 && i < list.len; i++) {
		cleanup(kiln_oci_config_freep) struct kiln_oci_config *cfg = NULL;
		r = kiln_store_config_read(st, &list.items[i]->config, &cfg, err);
		if (r < 0)
			break;
		for (size_t j = 0; j < cfg->n_diff_ids; j++) {
			if (n == alloc) {
				size_t na = alloc ? alloc * 2 : 64;
				struct kiln_digest *nk = kiln_reallocarray(keep, na, sizeof(*nk));
				if (!nk) {
					r = kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
					break;
				}
				keep = nk;
				alloc = na;
			}
			keep[n++] = cfg->diff_ids[j];
		}
	}
	kiln_store_image_list_release(&list);
	if (r == 0)
		r = kiln_snapshot_prune(s, keep, n, ret, err);
	free(keep);
	return r;
}
