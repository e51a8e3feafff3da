/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A layer written again entry by entry, through the writer and its options
 * (BuildKit's rewrite-timestamp at export: every time later than the epoch
 * becomes the epoch). Headers are encoded anew the way the writer encodes
 * them, so a layer kiln wrote comes out byte for byte the same but for the
 * times the clamp changed.
 */
#include <string.h>

#include "layer/internal.h"

#define CHUNK (128 * 1024)

int kiln_layer_rewrite(int in_fd, int out_fd, const struct kiln_layer_read_opts *ropts,
		       const struct kiln_layer_write_opts *wopts, struct kiln_layer_digests *ret_in,
		       struct kiln_layer_digests *ret_out, struct kiln_error *err)
{
	cleanup(kiln_layer_reader_freep) struct kiln_layer_reader *r = NULL;
	cleanup(kiln_layer_writer_freep) struct kiln_layer_writer *w = NULL;
	cleanup_free unsigned char *buf = kiln_malloc(CHUNK);
	if (!buf)
		return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
	int q = kiln_layer_reader_new(in_fd, ropts, &r, err);
	if (q >= 0)
		q = kiln_layer_writer_new(out_fd, wopts, &w, err);
	while (q >= 0) {
		const struct kiln_tar_entry *e;
		q = kiln_layer_reader_next(r, &e, err);
		if (q <= 0)
			break;
		/* the reader gives a directory's name as the header has it ("a/");
		 * the writer adds the slash itself */
		struct kiln_tar_entry n = *e;
		cleanup_free char *path = NULL;
		size_t len = strlen(e->path);
		if (len > 1 && e->path[len - 1] == '/') {
			if (!(path = kiln_strndup(e->path, len - 1)))
				return kiln_fail(err, KILN_ENOMEM, 0, "out of memory");
			n.path = path;
		}
		q = kiln_layer_writer_add(w, &n, err);
		for (size_t got = 1; q >= 0 && e->type == KILN_TAR_REG && got;) {
			q = kiln_layer_reader_read(r, buf, CHUNK, &got, err);
			if (q >= 0 && got)
				q = kiln_layer_writer_write_data(w, buf, got, err);
		}
	}
	struct kiln_layer_digests din, dout;
	if (q == 0)
		q = kiln_layer_reader_finish(r, &din, err);
	if (q == 0)
		q = kiln_layer_writer_finish(w, &dout, err);
	if (q < 0)
		return q;
	if (ret_in)
		*ret_in = din;
	if (ret_out)
		*ret_out = dout;
	return 0;
}
