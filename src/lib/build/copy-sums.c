/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Notes on COPY layers, and the content digests COPY --from takes from them.
 *
 * The layer a COPY makes gets a note (copy-reuse.c): the SHA-256 of each
 * regular file it wrote, by path. A COPY --from a stage needs the digest of
 * every file it selects for its cache key; a file that the source stage
 * itself got from a COPY (a stage that copies sources in, a final stage
 * that copies them on) has its digest in that layer's note, and reading it
 * there saves reading and hashing the file again: on c-bigctx, 32 MB.
 *
 * The note is trusted only for the file the source shows: the topmost
 * layer with an entry at the item's path must be the noted one, and its
 * entry a regular file with the inode number and change time the selection
 * saw (overlayfs shows a file's own inode and times: all layers are on one
 * filesystem, kiln mounts no metacopy). Layers never change once kept, so
 * the file is the one the note describes. Anything else is hashed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build-private.h"
#include "snapshot/snapshot.h"

static uint32_t path_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t) s[i]) * 16777619u;
	return h;
}

/* A note: records of 32 raw digest bytes and a NUL-terminated path. */
static int index_note(struct bb_note *no)
{
	size_t n = 0;
	for (size_t off = 0; off < no->len;) {
		const char *end = off + 32 < no->len
					  ? memchr(no->buf + off + 32, 0, no->len - off - 32)
					  : NULL;
		if (!end || off >= UINT32_MAX - 1)
			return -1;
		off = (size_t) (end - no->buf) + 1;
		n++;
	}
	size_t slots = 64;
	while (slots < 2 * n)
		slots *= 2;
	no->slots = kiln_calloc(slots, sizeof(*no->slots));
	if (!no->slots)
		return -1;
	no->n_slots = slots;
	for (size_t off = 0; off < no->len;) {
		const char *path = no->buf + off + 32;
		size_t len = strlen(path);
		size_t i = path_hash(path, len) & (slots - 1);
		/* a later record of a path replaces an earlier one */
		while (no->slots[i] && strcmp(no->buf + no->slots[i] - 1 + 32, path) != 0)
			i = (i + 1) & (slots - 1);
		no->slots[i] = (uint32_t) off + 1;
		off += 32 + len + 1;
	}
	return 0;
}

int bb_note_load(struct kiln_snapshotter *sn, const struct kiln_digest *layer,
		 struct bb_note *no, struct kiln_error *err)
{
	memset(no, 0, sizeof(*no));
	int r = kiln_snapshot_note_read(sn, layer, &no->buf, &no->len, err);
	if (r != 1)
		return r;
	if (index_note(no) < 0) {
		bb_note_release(no); /* unreadable, or no memory to index it: none */
		return 0;
	}
	return 1;
}

const uint8_t *bb_note_sum(const struct bb_note *no, const char *path)
{
	if (!no->n_slots)
		return NULL;
	size_t i = path_hash(path, strlen(path)) & (no->n_slots - 1);
	while (no->slots[i]) {
		const char *rec = no->buf + no->slots[i] - 1;
		if (!strcmp(rec + 32, path)) {
			static const uint8_t none[32];
			/* a file of unknown content is noted with zeros */
			return memcmp(rec, none, 32) ? (const uint8_t *) rec : NULL;
		}
		i = (i + 1) & (no->n_slots - 1);
	}
	return NULL;
}

void bb_note_release(struct bb_note *no)
{
	free(no->buf);
	free(no->slots);
	memset(no, 0, sizeof(*no));
}

/* the source's layers, top first, with their notes */
struct sum_layers {
	size_t n;
	int *fds;
	struct bb_note *notes;
	size_t lowest_noted; /* index of the lowest layer with a note; n: none */
	/* the current item's directory in each layer (-1: not a directory there) */
	char *dir;
	int *dir_fds;
};

static void dirs_close(struct sum_layers *sl)
{
	for (size_t i = 0; sl->dir_fds && i < sl->n; i++) {
		if (sl->dir_fds[i] >= 0)
			(void) close(sl->dir_fds[i]);
		sl->dir_fds[i] = -1;
	}
	free(sl->dir);
	sl->dir = NULL;
}

static void layers_release(struct sum_layers *sl)
{
	dirs_close(sl);
	for (size_t i = 0; i < sl->n; i++) {
		if (sl->fds && sl->fds[i] >= 0)
			(void) close(sl->fds[i]);
		if (sl->notes)
			bb_note_release(&sl->notes[i]);
	}
	free(sl->fds);
	free(sl->notes);
	free(sl->dir_fds);
}

/* 1: some layer has a note; 0: none does (or one cannot be opened) */
static int layers_open(struct sum_layers *sl, struct kiln_snapshotter *sn,
		       const struct kiln_digest *ids, size_t n)
{
	sl->n = n;
	sl->lowest_noted = n;
	sl->fds = kiln_calloc(n ? n : 1, sizeof(*sl->fds));
	sl->dir_fds = kiln_calloc(n ? n : 1, sizeof(*sl->dir_fds));
	sl->notes = kiln_calloc(n ? n : 1, sizeof(*sl->notes));
	if (!sl->fds || !sl->dir_fds || !sl->notes)
		return 0;
	for (size_t i = 0; i < n; i++)
		sl->fds[i] = sl->dir_fds[i] = -1;
	struct kiln_error e = KILN_ERROR_INIT;
	for (size_t i = 0; i < n; i++) {
		const struct kiln_digest *id = &ids[n - 1 - i];
		if (bb_note_load(sn, id, &sl->notes[i], &e) == 1)
			sl->lowest_noted = i;
		kiln_error_release(&e);
	}
	if (sl->lowest_noted == n)
		return 0;
	/* the layers above the lowest noted one decide what the source shows */
	for (size_t i = 0; i <= sl->lowest_noted; i++) {
		sl->fds[i] = kiln_snapshot_layer_open(sn, &ids[n - 1 - i], &e);
		kiln_error_release(&e);
		if (sl->fds[i] < 0)
			return 0;
	}
	return 1;
}

/* Open `dir` (relative, "" for the root) in each layer that may matter. */
static int dirs_open(struct sum_layers *sl, const char *dir)
{
	dirs_close(sl);
	sl->dir = kiln_strdup(dir);
	if (!sl->dir)
		return -1;
	for (size_t i = 0; i <= sl->lowest_noted; i++)
		sl->dir_fds[i] = bb_openat2(sl->fds[i], *dir ? dir : ".",
					    O_PATH | O_DIRECTORY | O_NOFOLLOW,
					    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
						    RESOLVE_NO_MAGICLINKS);
	return 0;
}

/* The noted digest of the file the source shows at it->path, or NULL. */
static const uint8_t *known_sum(struct sum_layers *sl, const struct kiln_plan_item *it)
{
	const char *slash = strrchr(it->path, '/');
	size_t dl = slash ? (size_t) (slash - it->path) : 0;
	const char *name = slash ? slash + 1 : it->path;
	if (!*name || dl >= PATH_MAX)
		return NULL;
	if (!sl->dir || strlen(sl->dir) != dl || memcmp(sl->dir, it->path, dl) != 0) {
		char dir[PATH_MAX];
		memcpy(dir, it->path, dl);
		dir[dl] = '\0';
		if (dirs_open(sl, dir) < 0)
			return NULL;
	}
	for (size_t i = 0; i <= sl->lowest_noted; i++) {
		struct stat st;
		if (sl->dir_fds[i] < 0)
			continue; /* not a directory in this layer: nothing of it here */
		if (fstatat(sl->dir_fds[i], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			return NULL;
		}
		/* the topmost entry: what the source shows */
		if (!S_ISREG(st.st_mode) || (uint64_t) st.st_ino != it->st.ino ||
		    (int64_t) st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec !=
			    it->st.ctime_ns ||
		    st.st_size != it->st.size)
			return NULL;
		return bb_note_sum(&sl->notes[i], it->path);
	}
	return NULL;
}

size_t bb_known_sums(struct kiln_snapshotter *sn, const struct kiln_digest *ids, size_t n,
		     struct kiln_plan_selection *sel)
{
	struct sum_layers sl = { 0 };
	size_t known = 0;
	if (layers_open(&sl, sn, ids, n) == 1) {
		for (size_t i = 0; i < sel->n_items; i++) {
			struct kiln_plan_item *it = &sel->items[i];
			if (!S_ISREG(it->st.mode) || it->hashed)
				continue;
			const uint8_t *sum = known_sum(&sl, it);
			if (!sum)
				continue;
			memcpy(it->sum.raw, sum, sizeof(it->sum.raw));
			it->hashed = 1;
			known++;
		}
	}
	layers_release(&sl);
	return known;
}
