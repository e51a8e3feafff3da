/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Layers: tar in and out, whiteouts, compression, and both digests in one
 * pass. See docs/internals/layer.md for the formats, the pipeline and the
 * safety model.
 *
 * Reading: a layer blob (gzip, zstd, bzip2, xz or plain tar, detected from
 * its magic bytes) is read from an fd once. The compressed bytes go through
 * one SHA-256 (the blob digest), the decompressed bytes through another (the
 * diff_id), and the tar parser takes its entries from the decompressed
 * stream. Nothing is held in memory beyond one entry's header.
 *
 * Writing: tar headers and file data go through a SHA-256 (diff_id) and the
 * compressor, whose output goes through a second SHA-256 (digest) and to the
 * output fd. Headers are written the way Go's archive/tar writes them for
 * containerd and BuildKit (USTAR, PAX when a field needs it), so that the
 * same tree always gives the same bytes.
 *
 * Applying: entries are written below a directory fd; every path is resolved
 * inside that root (openat2 RESOLVE_IN_ROOT) and nothing is ever written
 * outside it, whatever the archive contains.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"

/* ---------------------------------------------------------------------- */
/* Compression                                                             */
/* ---------------------------------------------------------------------- */

enum kiln_compression {
	KILN_COMPRESSION_NONE = 0,
	KILN_COMPRESSION_GZIP = 1,
	KILN_COMPRESSION_ZSTD = 2,
	KILN_COMPRESSION_BZIP2 = 3, /* read only */
	KILN_COMPRESSION_XZ = 4,    /* read only */
};

/** Default gzip level of the writer (zlib levels 1-9). */
#define KILN_LAYER_GZIP_LEVEL_DEFAULT 6
/** Default zstd level of the writer (1-19). */
#define KILN_LAYER_ZSTD_LEVEL_DEFAULT 3

/** "none", "gzip", "zstd", "bzip2", "xz". Never NULL. */
const char *kiln_compression_name(enum kiln_compression c);

/**
 * Parse a compression name as users write it: "gzip", "zstd", "none" (also
 * "uncompressed"), "bzip2", "xz". Unknown names fail with -KILN_EINVAL.
 */
int kiln_compression_parse(const char *s, enum kiln_compression *ret, struct kiln_error *err);

/**
 * Guess the compression of a stream from its first bytes (magic numbers:
 * gzip 1f 8b, zstd 28 b5 2f fd, bzip2 "BZh", xz fd "7zXZ" 00). Anything else,
 * including fewer bytes than a magic needs, is KILN_COMPRESSION_NONE.
 */
enum kiln_compression kiln_compression_detect(const void *buf, size_t len);

/**
 * The layer media type for a compression: OCI
 * ("application/vnd.oci.image.layer.v1.tar+gzip") or, with `docker` set,
 * Docker schema 2 ("application/vnd.docker.image.rootfs.diff.tar.gzip").
 * NULL when the format has no such media type (bzip2, xz; zstd for docker).
 */
const char *kiln_layer_media_type(enum kiln_compression c, int docker);

/** What one pass over a layer learned about it. */
struct kiln_layer_digests {
	struct kiln_digest diff_id; /* sha256 of the uncompressed tar stream */
	struct kiln_digest digest;  /* sha256 of the bytes as stored (compressed) */
	uint64_t size;		    /* bytes as stored */
	uint64_t uncompressed_size; /* bytes of the tar stream */
	enum kiln_compression compression;
};

/* ---------------------------------------------------------------------- */
/* Limits on hostile input                                                 */
/* ---------------------------------------------------------------------- */

/**
 * Named limits for everything a tar stream can make kiln allocate or write.
 * Exceeding one fails with -KILN_ELIMIT and names the entry. Zero in any
 * field means "the default" (so `{0}` is the default set).
 */
struct kiln_layer_limits {
	uint64_t max_entries;	 /* entries in one layer */
	uint64_t max_entry_size; /* logical size of one file */
	uint64_t max_total_size; /* sum of all file sizes */
	size_t max_path;	 /* bytes of one path or link target */
	size_t max_xattrs;	 /* xattrs on one entry */
	size_t max_xattr_value;	 /* bytes of one xattr value */
	size_t max_pax_header;	 /* bytes of one PAX header or GNU long name */
	size_t max_sparse;	 /* sparse map entries of one file */
};

#define KILN_LAYER_MAX_ENTRIES_DEFAULT (UINT64_C(1) << 22)
#define KILN_LAYER_MAX_ENTRY_SIZE_DEFAULT (UINT64_C(1) << 40)
#define KILN_LAYER_MAX_TOTAL_SIZE_DEFAULT (UINT64_C(1) << 42)
#define KILN_LAYER_MAX_PATH_DEFAULT 4096
#define KILN_LAYER_MAX_XATTRS_DEFAULT 128
#define KILN_LAYER_MAX_XATTR_VALUE_DEFAULT 65536
#define KILN_LAYER_MAX_PAX_HEADER_DEFAULT (1024 * 1024)
#define KILN_LAYER_MAX_SPARSE_DEFAULT 65536

/** Fill `out` from `in` (NULL = all defaults), replacing zeros by defaults. */
void kiln_layer_limits_resolve(const struct kiln_layer_limits *in, struct kiln_layer_limits *out);

/* ---------------------------------------------------------------------- */
/* Entries                                                                 */
/* ---------------------------------------------------------------------- */

enum kiln_tar_type {
	KILN_TAR_REG = 0,
	KILN_TAR_HARDLINK = 1,
	KILN_TAR_SYMLINK = 2,
	KILN_TAR_CHAR = 3,
	KILN_TAR_BLOCK = 4,
	KILN_TAR_DIR = 5,
	KILN_TAR_FIFO = 6,
};

/** One character for listings: '-', 'h', 'l', 'c', 'b', 'd', 'p'. */
char kiln_tar_type_char(enum kiln_tar_type t);

struct kiln_tar_xattr {
	char *name;  /* full name, e.g. "security.capability" */
	void *value; /* binary, may contain NULs */
	size_t len;
};

/**
 * One tar entry. From the reader, `path` and `link` are the names as stored
 * (after PAX / GNU long-name processing, before any cleaning; directories
 * may end in '/'). Given to the writer, `path` is a relative path without
 * "./", ".." or a trailing slash.
 */
struct kiln_tar_entry {
	enum kiln_tar_type type;
	char *path;
	char *link;    /* symlink target, or hardlink target path; NULL otherwise */
	uint32_t mode; /* permission bits plus setuid/setgid/sticky (07777) */
	uint32_t uid;
	uint32_t gid;
	uint64_t size; /* logical file size (REG only; 0 otherwise) */
	int64_t mtime; /* seconds since the epoch */
	uint32_t mtime_nsec;
	uint32_t devmajor, devminor; /* CHAR and BLOCK */
	struct kiln_tar_xattr *xattrs;
	size_t n_xattrs;
};

/** Free what an entry holds (not the struct) and zero it. */
void kiln_tar_entry_release(struct kiln_tar_entry *e);

/* ---------------------------------------------------------------------- */
/* Reading                                                                 */
/* ---------------------------------------------------------------------- */

struct kiln_layer_read_opts {
	const struct kiln_layer_limits *limits; /* NULL = defaults */
	/* When set, kiln_layer_reader_finish() fails with -KILN_EDIGEST on a mismatch. */
	const struct kiln_digest *expect_digest;
	const struct kiln_digest *expect_diff_id;
	const struct kiln_ctx *ctx; /* debug logs and cancellation; may be NULL */
	/* An entry, or a hard link's target, whose name leaves the root
	 * ("../x", "a/../../x") fails with -KILN_EPARSE, as unpacking it would:
	 * a layer taken into the store (load, import) is checked once, there. */
	int check_names;
};

struct kiln_layer_reader;

/**
 * Start reading a layer from `fd` (read sequentially from its current
 * position; a pipe is fine). The compression is detected from the first
 * bytes. `opts` may be NULL. The fd stays owned by the caller.
 */
int kiln_layer_reader_new(int fd, const struct kiln_layer_read_opts *opts,
			  struct kiln_layer_reader **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Advance to the next entry: returns 1 and points `*ret_entry` at it (owned
 * by the reader, valid until the next call), or 0 at the end of the archive.
 * Unread data of the previous entry is skipped (and hashed). PAX global
 * headers are consumed here and never returned. Malformed headers fail with
 * -KILN_EPARSE, oversized ones with -KILN_ELIMIT, both naming the entry.
 */
int kiln_layer_reader_next(struct kiln_layer_reader *r, const struct kiln_tar_entry **ret_entry,
			   struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Read the current entry's data as a flat byte stream (sparse holes read as
 * zeros). `*ret_n` is 0 at the end of the entry.
 */
int kiln_layer_reader_read(struct kiln_layer_reader *r, void *buf, size_t len, size_t *ret_n,
			   struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Read the current entry's data by segments, skipping sparse holes: each
 * call gives up to `len` bytes that belong at `*ret_offset` in the file.
 * `*ret_n` is 0 at the end (the file's length is entry->size).
 */
int kiln_layer_reader_read_sparse(struct kiln_layer_reader *r, void *buf, size_t len,
				  uint64_t *ret_offset, size_t *ret_n, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Finish: read (and hash) whatever follows the end-of-archive marker up to
 * the end of the stream, check the compressed stream ended cleanly, fill
 * `ret` (may be NULL) and compare with the expected digests. Call it after
 * kiln_layer_reader_next() returned 0; calling it earlier skips the rest.
 */
int kiln_layer_reader_finish(struct kiln_layer_reader *r, struct kiln_layer_digests *ret,
			     struct kiln_error *err) __attribute__((warn_unused_result));

/** The compression detected on the stream. */
enum kiln_compression kiln_layer_reader_compression(const struct kiln_layer_reader *r);

void kiln_layer_reader_free(struct kiln_layer_reader *r);
KILN_DEFINE_CLEANUP(struct kiln_layer_reader, kiln_layer_reader_free)

/**
 * Read a whole layer from `fd` without writing anything: parses every entry
 * (so a malformed tar fails), then fills `ret` (may be NULL) and checks the
 * expected digests in `opts`.
 */
int kiln_layer_digest_fd(int fd, const struct kiln_layer_read_opts *opts,
			 struct kiln_layer_digests *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Whether the file open at `fd` (read from its current position) is a tar
 * archive, possibly compressed: the test Docker's ADD makes before it
 * extracts a source instead of copying it. Returns 1 or 0; -KILN_EIO when
 * reading fails.
 */
int kiln_layer_is_archive(int fd, struct kiln_error *err) __attribute__((warn_unused_result));

/* ---------------------------------------------------------------------- */
/* Applying to a directory                                                 */
/* ---------------------------------------------------------------------- */

enum kiln_layer_apply_mode {
	/*
	 * An OCI layer over the content already in the directory (the lower
	 * layers): `.wh.name` removes name, `.wh..wh..opq` removes every
	 * child of its directory that this layer did not itself create.
	 */
	KILN_APPLY_LAYER = 0,
	/*
	 * An OCI layer into an empty directory that will be an overlayfs
	 * lower: `.wh.name` becomes a 0:0 character device, `.wh..wh..opq`
	 * the xattr trusted.overlay.opaque=y (user.overlay.opaque with
	 * KILN_APPLY_OVERLAY_USER_XATTR).
	 */
	KILN_APPLY_OVERLAY = 1,
	/*
	 * Docker's ADD of a local archive: plain extraction into the
	 * directory, `.wh.` names are ordinary files, existing directories
	 * are merged and other existing entries replaced.
	 */
	KILN_APPLY_EXTRACT = 2,
};

enum kiln_layer_apply_flags {
	/* Never chown (the caller is not root, or ownership is not wanted). */
	KILN_APPLY_NO_CHOWN = 1 << 0,
	/* Skip device nodes instead of failing when they cannot be made. */
	KILN_APPLY_SKIP_DEVICES = 1 << 1,
	/* Ignore xattrs the filesystem refuses instead of failing. */
	KILN_APPLY_BEST_EFFORT_XATTRS = 1 << 2,
	/* KILN_APPLY_OVERLAY: mark opaque directories with user.overlay.opaque. */
	KILN_APPLY_OVERLAY_USER_XATTR = 1 << 3,
};

struct kiln_layer_apply_opts {
	enum kiln_layer_apply_mode mode;
	unsigned flags; /* enum kiln_layer_apply_flags */
	const struct kiln_layer_limits *limits;
	const struct kiln_digest *expect_digest;
	const struct kiln_digest *expect_diff_id;
	/* >= 0: every entry is owned by this uid / gid (ADD --chown); -1 = from the archive */
	int64_t uid, gid;
	const struct kiln_ctx *ctx;
};

struct kiln_layer_apply_result {
	struct kiln_layer_digests digests;
	uint64_t entries;	 /* entries created or updated */
	uint64_t whiteouts;	 /* whiteouts and opaque markers applied */
	uint64_t skipped;	 /* entries skipped (AUFS metadata, devices with SKIP_DEVICES) */
	uint64_t xattrs_ignored; /* xattrs the filesystem refused (ENOTSUP, or BEST_EFFORT) */
};

/**
 * Apply the layer read from `fd` to the directory open at `root_fd` (an
 * O_DIRECTORY fd; O_PATH is fine). `opts` may be NULL (KILN_APPLY_LAYER,
 * default limits). Ownership is applied when running as root unless
 * KILN_APPLY_NO_CHOWN; modes (setuid/setgid/sticky included) after
 * ownership; directory mtimes after their children.
 *
 * Hostile input fails with a clear error naming the entry: `..` in a path
 * (-KILN_EPARSE), a hardlink to a path that does not exist yet
 * (-KILN_ENOTFOUND), a device node when not privileged (-KILN_EUNSUPP),
 * a limit exceeded or a name component over 255 bytes (-KILN_ELIMIT), a
 * parent that is not a directory inside the root (-KILN_EINVAL). Absolute paths are made relative
 * as Docker does; symlinks are followed only inside the root. A digest mismatch fails with
 * -KILN_EDIGEST after the whole stream was read.
 *
 * On failure the directory holds whatever was written so far: apply into
 * a fresh directory and rename it into place on success.
 */
int kiln_layer_apply(int fd, int root_fd, const struct kiln_layer_apply_opts *opts,
		     struct kiln_layer_apply_result *ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/* ---------------------------------------------------------------------- */
/* Writing                                                                 */
/* ---------------------------------------------------------------------- */

enum kiln_layer_write_flags {
	/* Every mtime greater than opts.mtime_clamp is written as mtime_clamp (SOURCE_DATE_EPOCH).
	 */
	KILN_WRITE_CLAMP_MTIME = 1 << 0,
	/*
	 * Write every xattr of the tree (except trusted.overlay.*,
	 * user.overlay.* and security.selinux). By default only
	 * security.capability is written, as Docker and BuildKit do.
	 */
	KILN_WRITE_ALL_XATTRS = 1 << 1,
	/*
	 * Round mtimes to the nearest second (half up), as Go's archive/tar
	 * does for a header without a format: BuildKit's `-o type=tar`. By
	 * default the fraction is dropped, as containerd's layers drop it.
	 */
	KILN_WRITE_ROUND_MTIME = 1 << 2,
};

struct kiln_layer_write_opts {
	enum kiln_compression compression; /* NONE, GZIP or ZSTD */
	int level;			   /* 0 = the default for the compression */
	unsigned flags;			   /* enum kiln_layer_write_flags */
	int64_t mtime_clamp;		   /* with KILN_WRITE_CLAMP_MTIME */
	const struct kiln_ctx *ctx;
};

enum kiln_layer_tree_mode {
	/* A plain directory: every entry as it is. */
	KILN_TREE_PLAIN = 0,
	/*
	 * An overlayfs upper directory: 0:0 character devices become
	 * `.wh.name` entries, directories with trusted.overlay.opaque=y (or
	 * user.overlay.opaque=y) get a `.wh..wh..opq` entry first; a
	 * redirect_dir or metacopy xattr fails with -KILN_EUNSUPP.
	 */
	KILN_TREE_OVERLAY_UPPER = 1,
};

struct kiln_layer_writer;

/**
 * Start a layer written to `out_fd` (written sequentially; a pipe is fine;
 * the caller keeps ownership). `opts` may be NULL (uncompressed).
 */
int kiln_layer_writer_new(int out_fd, const struct kiln_layer_write_opts *opts,
			  struct kiln_layer_writer **ret, struct kiln_error *err)
	__attribute__((warn_unused_result));

/**
 * Add one entry; a KILN_TAR_REG entry must then get exactly entry->size
 * bytes through kiln_layer_writer_write_data() before the next call. The
 * header is normalised: no uname/gname, no atime/ctime, mtime in whole
 * seconds (clamped if asked), xattrs as SCHILY.xattr PAX records.
 */
int kiln_layer_writer_add(struct kiln_layer_writer *w, const struct kiln_tar_entry *e,
			  struct kiln_error *err) __attribute__((warn_unused_result));

int kiln_layer_writer_write_data(struct kiln_layer_writer *w, const void *buf, size_t len,
				 struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Add every entry below the directory open at `dir_fd` (not the directory
 * itself), depth first, each directory's children in byte order with
 * whiteouts first (the OCI spec's advice). Names get `prefix` + "/" in
 * front when `prefix` is non-NULL and non-empty (the prefix's own
 * directories are not written: add them first if the layer needs them). Hardlinks are detected by
 * (dev, ino) and written as links to the first name. Sockets are skipped.
 * A file literally named `.wh.*` fails with -KILN_EINVAL (it would read as
 * a whiteout).
 */
int kiln_layer_writer_add_tree(struct kiln_layer_writer *w, int dir_fd, const char *prefix,
			       enum kiln_layer_tree_mode mode, struct kiln_error *err)
	__attribute__((warn_unused_result));

/** Write the end-of-archive marker, flush the compressor and fill `ret` (may be NULL). */
int kiln_layer_writer_finish(struct kiln_layer_writer *w, struct kiln_layer_digests *ret,
			     struct kiln_error *err) __attribute__((warn_unused_result));

void kiln_layer_writer_free(struct kiln_layer_writer *w);
KILN_DEFINE_CLEANUP(struct kiln_layer_writer, kiln_layer_writer_free)

/** Writer + add_tree + finish in one call. */
int kiln_layer_write_tree(int dir_fd, enum kiln_layer_tree_mode mode, int out_fd,
			  const struct kiln_layer_write_opts *opts, struct kiln_layer_digests *ret,
			  struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Re-compress a layer: read `in_fd` (any compression), check that it is a
 * well-formed tar, and write the same tar bytes to `out_fd` compressed as
 * `opts` says. The diff_id is unchanged; `ret_in` / `ret_out` (may be NULL)
 * get what was read and what was written. This is how `kiln import` turns
 * a user's rootfs tarball into a layer blob.
 */
int kiln_layer_recompress(int in_fd, int out_fd, const struct kiln_layer_read_opts *ropts,
			  const struct kiln_layer_write_opts *wopts,
			  struct kiln_layer_digests *ret_in, struct kiln_layer_digests *ret_out,
			  struct kiln_error *err) __attribute__((warn_unused_result));

/**
 * Write a layer again: read `in_fd` (any compression) entry by entry and
 * add each entry and its data to a writer on `out_fd` made with `wopts`,
 * whose flags apply (KILN_WRITE_CLAMP_MTIME: BuildKit's rewrite-timestamp
 * at export). Headers are encoded as the writer encodes them, so a layer
 * kiln wrote keeps every byte the options do not change. `ret_in` /
 * `ret_out` (may be NULL) get what was read and what was written.
 */
int kiln_layer_rewrite(int in_fd, int out_fd, const struct kiln_layer_read_opts *ropts,
		       const struct kiln_layer_write_opts *wopts, struct kiln_layer_digests *ret_in,
		       struct kiln_layer_digests *ret_out, struct kiln_error *err)
	__attribute__((warn_unused_result));
