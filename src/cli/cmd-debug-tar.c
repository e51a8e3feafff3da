/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kiln debug tar-ls / tar-make / tar-apply: the layer module from the shell,
 * for tests and for looking at what kiln reads and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "layer/layer.h"

static int open_input(const char *path, struct kiln_error *err)
{
	if (!path || strcmp(path, "-") == 0)
		return STDIN_FILENO;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kiln_fail(err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno, "open %s",
				 path);
	return fd;
}

static void print_digests(FILE *out, const struct kiln_layer_digests *d)
{
	fprintf(out, "compression: %s\n", kiln_compression_name(d->compression));
	fprintf(out, "diff_id: %s\n", d->diff_id.str);
	fprintf(out, "digest: %s\n", d->digest.str);
	fprintf(out, "size: %" PRIu64 "\n", d->size);
	fprintf(out, "uncompressed_size: %" PRIu64 "\n", d->uncompressed_size);
}

/* Names as stored, with control bytes and backslashes escaped. */
static void print_name(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

/* ---------------------------------------------------------------------- */

static int ls_digests, ls_xattrs;

static const struct cli_spec ls_spec = {
	.usage = "kiln debug tar-ls [--digests] [--xattrs] [FILE]",
	.summary = "List the entries of a layer (gzip, zstd, bzip2, xz or plain tar).",
	.opts =
		(const struct cli_opt[]){
			{ "digests", 'd', CLI_OPT_FLAG, &ls_digests, NULL,
			  "then print the compression, diff_id, digest and sizes" },
			{ "xattrs", 'x', CLI_OPT_FLAG, &ls_xattrs, NULL,
			  "print each entry's xattr names" },
			{ 0 } },
	.details = "FILE defaults to standard input. One line per entry: type, mode, uid:gid,\n"
		   "size, mtime, name as stored (and ' -> ' target for links). Exits 1 when the\n"
		   "layer is malformed or hostile.",
};

int cmd_debug_tar_ls(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_layer_reader_freep) struct kiln_layer_reader *r = NULL;
	struct kiln_error err = KILN_ERROR_INIT;
	ls_digests = ls_xattrs = 0;
	int q = cli_parse(argc, argv, &ls_spec, &pos);
	if (q)
		return q > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len > 1)
		return cli_usage_error(&ls_spec, "expected at most one FILE");
	int fd = open_input(pos.len ? pos.items[0] : NULL, &err);
	if (fd < 0)
		return cli_report(env, &err);
	struct kiln_layer_read_opts o = { .ctx = &env->ctx };
	q = kiln_layer_reader_new(fd, &o, &r, &err);
	while (q == 0) {
		const struct kiln_tar_entry *e;
		q = kiln_layer_reader_next(r, &e, &err);
		if (q <= 0)
			break;
		printf("%c %04o %u:%u %" PRIu64 " %lld ", kiln_tar_type_char(e->type), e->mode,
		       e->uid, e->gid, e->size, (long long) e->mtime);
		print_name(e->path);
		if (e->link) {
			fputs(" -> ", stdout);
			print_name(e->link);
		}
		if (e->type == KILN_TAR_CHAR || e->type == KILN_TAR_BLOCK)
			printf(" [%u,%u]", e->devmajor, e->devminor);
		for (size_t i = 0; ls_xattrs && i < e->n_xattrs; i++)
			printf(" xattr:%s", e->xattrs[i].name);
		putchar('\n');
		q = 0;
	}
	struct kiln_layer_digests d;
	if (q == 0)
		q = kiln_layer_reader_finish(r, &d, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (q < 0)
		return cli_report(env, &err);
	if (ls_digests)
		print_digests(stdout, &d);
	return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------------- */

static const char *mk_output, *mk_compression, *mk_epoch, *mk_prefix;
static long mk_level;
static int mk_overlay, mk_all_xattrs;

static const struct cli_spec mk_spec = {
	.usage = "kiln debug tar-make [-o FILE] [--compression C] [--level N] [--overlay] "
		 "[--all-xattrs] [--source-date-epoch T] [--prefix P] DIR",
	.summary = "Write a directory (or an overlayfs upper directory) as a layer.",
	.opts =
		(const struct cli_opt[]){
			{ "output", 'o', CLI_OPT_STRING, &mk_output, "FILE",
			  "write the layer here (default: standard output) and print its digests" },
			{ "compression", 'c', CLI_OPT_STRING, &mk_compression, "C",
			  "gzip (default), zstd or none" },
			{ "level", 'l', CLI_OPT_INT, &mk_level, "N",
			  "compression level (0 = default)" },
			{ "overlay", 0, CLI_OPT_FLAG, &mk_overlay, NULL,
			  "DIR is an overlayfs upper directory: write its whiteouts as OCI "
			  "whiteouts" },
			{ "all-xattrs", 0, CLI_OPT_FLAG, &mk_all_xattrs, NULL,
			  "write every xattr, not only security.capability" },
			{ "source-date-epoch", 0, CLI_OPT_STRING, &mk_epoch, "T",
			  "clamp mtimes to T seconds (default: $SOURCE_DATE_EPOCH when set)" },
			{ "prefix", 0, CLI_OPT_STRING, &mk_prefix, "P",
			  "put the entries under P/" },
			{ 0 } },
};

static int parse_epoch(const char *s, int64_t *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	*ret = v;
	return 0;
}

int cmd_debug_tar_make(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup(kiln_layer_writer_freep) struct kiln_layer_writer *w = NULL;
	cleanup_close int dfd = -1;
	struct kiln_error err = KILN_ERROR_INIT;
	mk_output = mk_compression = mk_epoch = mk_prefix = NULL;
	mk_level = 0;
	mk_overlay = mk_all_xattrs = 0;
	int q = cli_parse(argc, argv, &mk_spec, &pos);
	if (q)
		return q > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 1)
		return cli_usage_error(&mk_spec, "expected one DIR");
	struct kiln_layer_write_opts o = { .compression = KILN_COMPRESSION_GZIP, .ctx = &env->ctx };
	if (mk_compression && kiln_compression_parse(mk_compression, &o.compression, &err) < 0) {
		int rc = cli_usage_error(&mk_spec, "%s", err.msg);
		kiln_error_release(&err);
		return rc;
	}
	if (mk_level < 0 || mk_level > 22)
		return cli_usage_error(&mk_spec, "--level %ld out of range", mk_level);
	o.level = (int) mk_level;
	const char *epoch = mk_epoch ? mk_epoch : getenv("SOURCE_DATE_EPOCH");
	if (epoch && *epoch) {
		if (parse_epoch(epoch, &o.mtime_clamp) < 0)
			return cli_usage_error(&mk_spec, "invalid source date epoch '%s'", epoch);
		o.flags |= KILN_WRITE_CLAMP_MTIME;
	}
	if (mk_all_xattrs)
		o.flags |= KILN_WRITE_ALL_XATTRS;
	if (!mk_output && isatty(STDOUT_FILENO))
		return cli_usage_error(&mk_spec, "refusing to write a layer to a terminal; use -o");

	dfd = open(pos.items[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		kiln_fail(&err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno, "open %s",
			  pos.items[0]);
		return cli_report(env, &err);
	}
	int out = STDOUT_FILENO;
	if (mk_output) {
		out = open(mk_output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0) {
			kiln_fail_errno(&err, "create %s", mk_output);
			return cli_report(env, &err);
		}
	}
	struct kiln_layer_digests d;
	q = kiln_layer_writer_new(out, &o, &w, &err);
	if (q == 0)
		q = kiln_layer_writer_add_tree(
			w, dfd, mk_prefix, mk_overlay ? KILN_TREE_OVERLAY_UPPER : KILN_TREE_PLAIN,
			&err);
	if (q == 0)
		q = kiln_layer_writer_finish(w, &d, &err);
	if (mk_output) {
		if (q == 0 && close(out) < 0)
			q = kiln_fail_errno(&err, "close %s", mk_output);
		else if (q < 0)
			(void) close(out);
		if (q < 0)
			(void) unlink(mk_output);
	}
	if (q < 0)
		return cli_report(env, &err);
	if (mk_output)
		print_digests(stdout, &d);
	return CLI_EXIT_OK;
}

/* ---------------------------------------------------------------------- */

static const char *ap_mode, *ap_digest, *ap_diff_id, *ap_chown;
static int ap_no_chown, ap_skip_devices, ap_best_effort;

static const struct cli_spec ap_spec = {
	.usage = "kiln debug tar-apply [--mode layer|overlay|extract] [--no-chown] "
		 "[--skip-devices] [--chown UID:GID] [--digest D] [--diff-id D] FILE DIR",
	.summary = "Apply a layer (or extract an archive) into a directory.",
	.opts =
		(const struct cli_opt[]){
			{ "mode", 'm', CLI_OPT_STRING, &ap_mode, "MODE",
			  "layer: OCI whiteouts (default); overlay: whiteouts as overlayfs ones; "
			  "extract: plain extraction as ADD does" },
			{ "no-chown", 0, CLI_OPT_FLAG, &ap_no_chown, NULL,
			  "never change ownership" },
			{ "skip-devices", 0, CLI_OPT_FLAG, &ap_skip_devices, NULL,
			  "skip device nodes that cannot be made" },
			{ "best-effort-xattrs", 0, CLI_OPT_FLAG, &ap_best_effort, NULL,
			  "ignore xattrs the filesystem refuses" },
			{ "chown", 0, CLI_OPT_STRING, &ap_chown, "UID:GID",
			  "own every entry by UID:GID" },
			{ "digest", 0, CLI_OPT_STRING, &ap_digest, "D",
			  "fail unless the blob digest is D" },
			{ "diff-id", 0, CLI_OPT_STRING, &ap_diff_id, "D",
			  "fail unless the diff_id is D" },
			{ 0 } },
	.details = "FILE may be - for standard input. DIR must exist. On failure DIR holds\n"
		   "whatever was applied before the error.",
};

static int parse_owner(const char *s, int64_t *uid, int64_t *gid)
{
	char *end;
	errno = 0;
	unsigned long u = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':')
		return -1;
	const char *g = end + 1;
	unsigned long v = strtoul(g, &end, 10);
	if (errno || end == g || *end || u >= UINT32_MAX || v >= UINT32_MAX)
		return -1;
	*uid = (int64_t) u;
	*gid = (int64_t) v;
	return 0;
}

int cmd_debug_tar_apply(int argc, char **argv, struct cli_env *env)
{
	cleanup(kiln_strv_release) struct kiln_strv pos = KILN_STRV_INIT;
	cleanup_close int dfd = -1;
	struct kiln_error err = KILN_ERROR_INIT;
	struct kiln_digest want_digest, want_diff_id;
	ap_mode = ap_digest = ap_diff_id = ap_chown = NULL;
	ap_no_chown = ap_skip_devices = ap_best_effort = 0;
	int q = cli_parse(argc, argv, &ap_spec, &pos);
	if (q)
		return q > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (pos.len != 2)
		return cli_usage_error(&ap_spec, "expected FILE and DIR");
	struct kiln_layer_apply_opts o = { .uid = -1, .gid = -1, .ctx = &env->ctx };
	if (!ap_mode || !strcmp(ap_mode, "layer"))
		o.mode = KILN_APPLY_LAYER;
	else if (!strcmp(ap_mode, "overlay"))
		o.mode = KILN_APPLY_OVERLAY;
	else if (!strcmp(ap_mode, "extract"))
		o.mode = KILN_APPLY_EXTRACT;
	else
		return cli_usage_error(&ap_spec, "unknown --mode '%s'", ap_mode);
	if (ap_chown && parse_owner(ap_chown, &o.uid, &o.gid) < 0)
		return cli_usage_error(&ap_spec, "--chown wants UID:GID, not '%s'", ap_chown);
	if (ap_no_chown)
		o.flags |= KILN_APPLY_NO_CHOWN;
	if (ap_skip_devices)
		o.flags |= KILN_APPLY_SKIP_DEVICES;
	if (ap_best_effort)
		o.flags |= KILN_APPLY_BEST_EFFORT_XATTRS;
	if (ap_digest) {
		if (kiln_digest_parse(ap_digest, &want_digest, &err) < 0)
			return cli_report(env, &err);
		o.expect_digest = &want_digest;
	}
	if (ap_diff_id) {
		if (kiln_digest_parse(ap_diff_id, &want_diff_id, &err) < 0)
			return cli_report(env, &err);
		o.expect_diff_id = &want_diff_id;
	}
	dfd = open(pos.items[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		kiln_fail(&err, errno == ENOENT ? KILN_ENOTFOUND : KILN_EIO, errno, "open %s",
			  pos.items[1]);
		return cli_report(env, &err);
	}
	int fd = open_input(pos.items[0], &err);
	if (fd < 0)
		return cli_report(env, &err);
	struct kiln_layer_apply_result res;
	q = kiln_layer_apply(fd, dfd, &o, &res, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (q < 0)
		return cli_report(env, &err);
	printf("entries: %" PRIu64 "\nwhiteouts: %" PRIu64 "\nskipped: %" PRIu64
	       "\nxattrs_ignored: %" PRIu64 "\n",
	       res.entries, res.whiteouts, res.skipped, res.xattrs_ignored);
	print_digests(stdout, &res.digests);
	return CLI_EXIT_OK;
}
