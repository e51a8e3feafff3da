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

int bb_listed_file(const struct stat *st, const struct kiln_plan_item *it)
{
	return (uint64_t) st->st_ino == it->st.ino &&
	       (int64_t) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec == it->st.ctime_ns;
}

void bb_note_release(struct bb_note *no)
{
	free(no->buf);
	free(no->slots);
	memset(no, 0, sizeof(*no));
}

void bb_layer_walk_close(struct bb_layer_walk *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->fds && w->fds[i] >= 0)
			(void) close(w->fds[i]);
		if (w->dir_fds && w->dir_fds[i] >= 0)
			(void) close(w->dir_fds[i]);
	}
	free(w->fds);
	free(w->dir_fds);
	free(w->dir);
	memset(w, 0, sizeof(*w));
}

int bb_layer_walk_open(struct bb_layer_walk *w, struct kiln_snapshotter *sn,
		       const struct kiln_digest *ids, size_t n, size_t top, struct kiln_error *err)
{
	memset(w, 0, sizeof(*w));
	w->fds = kiln_calloc(top ? top : 1, sizeof(*w->fds));
	w->dir_fds = kiln_calloc(top ? top : 1, sizeof(*w->dir_fds));
	if (!w->fds || !w->dir_fds) {
		bb_layer_walk_close(w);
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	}
	w->n = top;
	for (size_t i = 0; i < top; i++)
		w->fds[i] = w->dir_fds[i] = -1;
	for (size_t i = 0; i < top; i++) {
		if ((w->fds[i] = kiln_snapshot_layer_open(sn, &ids[n - 1 - i], err)) < 0) {
			bb_layer_walk_close(w);
			return -KILN_ENOTFOUND;
		}
	}
	return 0;
}

/* Open `dir` (relative, "" for the root) in each layer. */
static int walk_dirs(struct bb_layer_walk *w, const char *dir, size_t len)
{
	if (w->dir && strlen(w->dir) == len && !memcmp(w->dir, dir, len))
		return 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->dir_fds[i] >= 0)
			(void) close(w->dir_fds[i]);
		w->dir_fds[i] = -1;
	}
	free(w->dir);
	w->dir = kiln_strndup(dir, len);
	if (!w->dir)
		return -1;
	for (size_t i = 0; i < w->n; i++)
		w->dir_fds[i] = bb_open_beneath(w->fds[i], len ? w->dir : ".",
						O_PATH | O_DIRECTORY);
	return 0;
}

/* `path`'s directory opened in each layer, and its name there */
static int walk_to(struct bb_layer_walk *w, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t) (slash - path) : 0;
	*name = slash ? slash + 1 : path;
	return !**name || walk_dirs(w, path, dl) < 0 ? -1 : 0;
}

int bb_layer_walk_top(struct bb_layer_walk *w, const char *path, const char **name)
{
	return w->n && walk_to(w, path, name) == 0 && w->dir_fds[0] >= 0 ? 0 : -1;
}

int bb_layer_walk_find(struct bb_layer_walk *w, const char *path, struct stat *st,
		       const char **name)
{
	if (walk_to(w, path, name) < 0)
		return -1;
	for (size_t i = 0; i < w->n; i++) {
		if (w->dir_fds[i] < 0)
			continue; /* not a directory in this layer: nothing of it here */
		if (fstatat(w->dir_fds[i], *name, st, AT_SYMLINK_NOFOLLOW) == 0)
			return (int) i;
		if (errno != ENOENT)
			return -1;
	}
	return -1;
}

/* the source's layers, top first, down to the lowest with a note */
struct sum_layers {
	struct bb_layer_walk walk;
	struct bb_note *notes;
};

static void layers_release(struct sum_layers *sl, size_t n)
{
	bb_layer_walk_close(&sl->walk);
	for (size_t i = 0; sl->notes && i < n; i++)
		bb_note_release(&sl->notes[i]);
	free(sl->notes);
}

/* 1: some layer has a note; 0: none does (or one cannot be opened) */
static int layers_open(struct sum_layers *sl, struct kiln_snapshotter *sn,
		       const struct kiln_digest *ids, size_t n)
{
	sl->notes = kiln_calloc(n ? n : 1, sizeof(*sl->notes));
	if (!sl->notes)
		return 0;
	struct kiln_error e = KILN_ERROR_INIT;
	size_t lowest_noted = n;
	for (size_t i = 0; i < n; i++) {
		if (bb_note_load(sn, &ids[n - 1 - i], &sl->notes[i], &e) == 1)
			lowest_noted = i;
		kiln_error_release(&e);
	}
	if (lowest_noted == n)
		return 0;
	/* the layers above the lowest noted one decide what the source shows */
	int r = bb_layer_walk_open(&sl->walk, sn, ids, n, lowest_noted + 1, &e);
	kiln_error_release(&e);
	return r == 0;
}

/* The noted digest of the file the source shows at it->path, or NULL. */
static const uint8_t *known_sum(struct sum_layers *sl, const struct kiln_plan_item *it)
{
	/* a path that no note holds (a RUN step's output) costs no look into
	 * the layers */
	size_t noted = 0;
	while (noted < sl->walk.n && !bb_note_sum(&sl->notes[noted], it->path))
		noted++;
	if (noted == sl->walk.n)
		return NULL;
	struct stat st;
	const char *name;
	int i = bb_layer_walk_find(&sl->walk, it->path, &st, &name);
	/* the topmost entry must be the very file the selection saw */
	if (i < 0 || !S_ISREG(st.st_mode) || !bb_listed_file(&st, it) || st.st_size != it->st.size)
		return NULL;
	return bb_note_sum(&sl->notes[i], it->path);
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
	layers_release(&sl, n);
	return known;
}
