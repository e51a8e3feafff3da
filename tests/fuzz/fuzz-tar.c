/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Layers: apply arbitrary bytes as a layer (any compression) into a fresh
 * directory, in the mode the input's length selects, next to an "outside"
 * directory holding a secret. Never crash; never create, change or remove
 * anything outside the root (checked after every input: a failure traps);
 * an applied tree is written back as a layer, which must read cleanly, a
 * layer that applied passes the name check load and import make, and a
 * layer written again with its times clamped reads cleanly and is stable.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"
#include "layer/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's scratch area, made once per process. */
static char base[256], root[300], outside[300], secret[320];
static struct stat secret_st;

static void cleanup_base(void)
{
	struct kiln_error err = KILN_ERROR_INIT;
	if (base[0])
		(void) kiln_rm_rf(base, &err);
	kiln_error_release(&err);
}

static void setup(void)
{
	if (base[0])
		return;
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof(base), "%s/kiln-fuzz-tar.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base))
		abort();
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(secret, sizeof(secret), "%s/secret", outside);
	if (mkdir(outside, 0755) < 0)
		abort();
	int fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "secret", 6) != 6)
		abort();
	close(fd);
	if (stat(secret, &secret_st) < 0)
		abort();
	atexit(cleanup_base);
}

/* Entries of a directory, counted. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void check_outside(void)
{
	struct stat st;
	if (stat(secret, &st) < 0 || st.st_ino != secret_st.st_ino ||
	    st.st_size != secret_st.st_size || st.st_nlink != 1 ||
	    st.st_mtim.tv_sec != secret_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != secret_st.st_mtim.tv_nsec)
		__builtin_trap();
	if (count_entries(outside) != 1 || count_entries(base) != 2)
		__builtin_trap();
}

static void write_back(int root_fd)
{
	int out = memfd_create("fuzz-tar-out", MFD_CLOEXEC);
	if (out < 0)
		return;
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_write_opts wo = { .compression = KILN_COMPRESSION_GZIP, .level = 1 };
	if (kiln_layer_write_tree(root_fd, KILN_TREE_PLAIN, out, &wo, NULL, &err) == 0) {
		/* what kiln wrote, kiln must read */
		lseek(out, 0, SEEK_SET);
		if (kiln_layer_digest_fd(out, NULL, NULL, &err) < 0)
			__builtin_trap();
	}
	kiln_error_release(&err);
	close(out);
}

/*
 * rewrite-timestamp's pass over the same bytes: a failure says why; what it
 * writes reads cleanly, and writing that again changes nothing.
 */
static void rewrite_check(int in, const struct kiln_layer_limits *lim)
{
	int out = memfd_create("fuzz-tar-rw", MFD_CLOEXEC), again = memfd_create("fuzz-tar-rw2",
										MFD_CLOEXEC);
	if (out < 0 || again < 0 || lseek(in, 0, SEEK_SET) != 0)
		abort();
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_layer_read_opts ro = { .limits = lim };
	struct kiln_layer_write_opts wo = { .compression = KILN_COMPRESSION_NONE,
					    .flags = KILN_WRITE_CLAMP_MTIME,
					    .mtime_clamp = 1000000000 };
	struct kiln_layer_digests d1, d2;
	int r = kiln_layer_rewrite(in, out, &ro, &wo, NULL, &d1, &err);
	if (r < 0 && (!err.msg || err.code <= KILN_OK || err.code >= KILN_ERR_MAX_))
		__builtin_trap();
	kiln_error_release(&err);
	if (r == 0) {
		lseek(out, 0, SEEK_SET);
		if (kiln_layer_rewrite(out, again, NULL, &wo, NULL, &d2, &err) < 0 ||
		    !kiln_digest_equal(&d1.diff_id, &d2.diff_id))
			__builtin_trap();
	}
	kiln_error_release(&err);
	close(out);
	close(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	struct kiln_error err = KILN_ERROR_INIT;
	(void) kiln_rm_rf(root, &err);
	kiln_error_release(&err);
	if (mkdir(root, 0755) < 0)
		abort();

	int in = memfd_create("fuzz-tar-in", MFD_CLOEXEC);
	if (in < 0 || (size && kiln_write_all(in, data, size) < 0))
		abort();
	lseek(in, 0, SEEK_SET);
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		abort();

	/* small limits keep decompression bombs cheap */
	struct kiln_layer_limits lim = {
		.max_entries = 4096,
		.max_entry_size = 4 << 20,
		.max_total_size = 16 << 20,
		.max_pax_header = 64 << 10,
	};
	static const enum kiln_layer_apply_mode modes[] = { KILN_APPLY_LAYER, KILN_APPLY_OVERLAY,
							    KILN_APPLY_EXTRACT };
	struct kiln_layer_apply_opts o = {
		.mode = modes[size % 3],
		.limits = &lim,
		.uid = -1,
		.gid = -1,
		.flags = KILN_APPLY_SKIP_DEVICES,
	};
	int r = kiln_layer_apply(in, root_fd, &o, NULL, &err);
	if (r < 0 && (!err.msg || err.code <= KILN_OK || err.code >= KILN_ERR_MAX_))
		__builtin_trap(); /* every failure carries a message and a valid code */
	kiln_error_release(&err);
	check_outside();
	/* a layer that applied has no name that leaves the root: reading it with
	 * check_names (what load and import do) must not say otherwise */
	if (r == 0 && o.mode == KILN_APPLY_LAYER && lseek(in, 0, SEEK_SET) == 0) {
		struct kiln_layer_read_opts ro = { .limits = &lim, .check_names = 1 };
		struct kiln_layer_digests dg;
		if (kiln_layer_digest_fd(in, &ro, &dg, &err) == -KILN_EPARSE && err.msg &&
		    strstr(err.msg, "leaves the root"))
			__builtin_trap();
		kiln_error_release(&err);
	}
	if (r == 0 && o.mode != KILN_APPLY_OVERLAY)
		write_back(root_fd);
	rewrite_check(in, &lim);
	close(root_fd);
	close(in);
	(void) kiln_rm_rf(root, &err);
	kiln_error_release(&err);
	return 0;
}
