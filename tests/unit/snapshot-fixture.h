/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the snapshot tests share: two small layers built with kiln's layer
 * writer, reading back through a mount, and a second snapshotter on the
 * store. Static, as tap.h is: each test program has its own TAP counters.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "layer/layer.h"
#include "snapshot/snapshot.h"
#include "tap.h"

struct ent {
	char type; /* 'd' dir, 'f' file, 'l' symlink */
	const char *path;
	const char *data; /* file content or link target */
};

struct layer {
	int fd; /* memfd holding the (uncompressed) tar, at offset 0 */
	struct kiln_layer_digests d;
};

__attribute__((unused)) static int make_layer(const struct ent *ents, size_t n,
					      enum kiln_compression comp, struct layer *ret)
{
	struct kiln_error err = KILN_ERROR_INIT;
	int fd = memfd_create("layer", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	struct kiln_layer_write_opts wo = { .compression = comp };
	struct kiln_layer_writer *w = NULL;
	int r = kiln_layer_writer_new(fd, &wo, &w, &err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct kiln_tar_entry e = {
			.path = (char *) ents[i].path,
			.mode = ents[i].type == 'd' ? 0755 : 0644,
			.mtime = 1700000000,
		};
		if (ents[i].type == 'd') {
			e.type = KILN_TAR_DIR;
		} else if (ents[i].type == 'l') {
			e.type = KILN_TAR_SYMLINK;
			e.link = (char *) ents[i].data;
			e.mode = 0777;
		} else {
			e.type = KILN_TAR_REG;
			e.size = ents[i].data ? strlen(ents[i].data) : 0;
		}
		r = kiln_layer_writer_add(w, &e, &err);
		if (r >= 0 && e.size)
			r = kiln_layer_writer_write_data(w, ents[i].data, e.size, &err);
	}
	if (r >= 0)
		r = kiln_layer_writer_finish(w, &ret->d, &err);
	kiln_layer_writer_free(w);
	if (r < 0) {
		tap_diag("make_layer: %s", err.msg ? err.msg : "?");
		kiln_error_release(&err);
		(void) close(fd);
		return -1;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		(void) close(fd);
		return -1;
	}
	ret->fd = fd;
	return 0;
}

/*
 * The program's own store under /tmp (`root`, of `size` bytes) named for
 * `name`: 0, or -1 when the program cannot run, said in TAP: a skip of
 * `what` when not root, a failure when the directory cannot be made.
 */
__attribute__((unused)) static int fixture_root(char *root, size_t size, const char *name,
						const char *what)
{
	if (geteuid() != 0) {
		tap_skip("needs root (overlayfs, whiteout devices)", "%s", what);
		return -1;
	}
	(void) snprintf(root, size, "/tmp/kiln-test-%s.XXXXXX", name);
	if (!mkdtemp(root)) {
		TAP_OK(0, "scratch directory");
		return -1;
	}
	return 0;
}

__attribute__((unused)) static void fixture_root_remove(const char *root)
{
	struct kiln_error err = KILN_ERROR_INIT;
	(void) kiln_rm_rf(root, &err);
	kiln_error_release(&err);
}

static const struct ent l1_ents[] = {
	{ 'd', "etc", NULL },  { 'f', "etc/a", "a1\n" }, { 'f', "etc/b", "b1\n" },
	{ 'd', "opt", NULL },  { 'f', "opt/x", "x1\n" }, { 'l', "etc/link", "a" },
	{ 'd', "keep", NULL }, { 'f', "keep/k", "k\n" },
};
static const struct ent l2_ents[] = {
	{ 'd', "etc", NULL }, { 'f', "etc/.wh.a", "" },	       { 'f', "etc/c", "c2\n" },
	{ 'd', "opt", NULL }, { 'f', "opt/.wh..wh..opq", "" }, { 'f', "opt/y", "y2\n" },
};

__attribute__((unused)) static char *read_at(int dirfd, const char *path)
{
	static char buf[256];
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void) close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

__attribute__((unused)) static int exists_at(int dirfd, const char *path)
{
	struct stat st;
	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

__attribute__((unused)) static size_t count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* The entries of a layer written to fd, "path" or "path -> link", one per line. */
__attribute__((unused)) static char *list_layer(int fd)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_reader *r = NULL;
	struct kiln_buf b = KILN_BUF_INIT;
	if (lseek(fd, 0, SEEK_SET) < 0 || kiln_layer_reader_new(fd, NULL, &r, &err) < 0)
		return NULL;
	const struct kiln_tar_entry *e;
	int rc;
	while ((rc = kiln_layer_reader_next(r, &e, &err)) > 0) {
		if (kiln_buf_addf(&b, "%c %s\n", kiln_tar_type_char(e->type), e->path) < 0)
			break;
	}
	kiln_layer_reader_free(r);
	kiln_error_release(&err);
	return kiln_buf_detach(&b, NULL);
}

/* A second snapshotter on the store, for a test of its own threads; NULL
 * (after a failed assertion) when it does not open. */
__attribute__((unused)) static struct kiln_snapshotter *open_another(const char *root,
								     const char *what)
{
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_snapshotter *s = NULL;
	int r = kiln_snapshotter_open(NULL, root, &s, &err);
	TAP_INT_EQ(r, 0, "%s: a second snapshotter on the store%s%s", what, err.msg ? ": " : "",
		   err.msg ? err.msg : "");
	kiln_error_release(&err);
	return r < 0 ? NULL : s;
}
